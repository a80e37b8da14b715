// SPDX-License-Identifier: BSD-2-Clause
/*
 * wg-userspace(8): arguments, create/status/destroy, sysctl(8)-style
 * output, and handing ifconfig/wgconfig/debug the instance id.
 */

import t from 'tap';
import { Lab, NODE } from '../../harness/netns.js';
import { WGU, boot_daemon, random_id, wgu } from '../../harness/kern.js';

t.test('usage and argument errors', async (t) => {
	const lab = new Lab(t, 'wgu');
	const h = lab.host('a');
	const usage = /^usage: wg-userspace id create\n/;

	for (const args of [[], ['-h'], ['5'], ['5', 'bogus'], ['5', 'create', 'x'], ['5', 'destroy', 'x'],
	    ['5', 'status', 'x'], ['5', 'debug'], ['5', 'sysctl', '-x'], ['5', 'sysctl', '-a', '-w', 'net.wg.debug=1'],
	    ['5', 'sysctl', '-w']]) {
		const r = await h.exec([NODE, WGU, ...args]);
		t.equal(r.code, 1, `${JSON.stringify(args)}: exit 1`);
		t.match(r.stderr, usage, `${JSON.stringify(args)}: usage`);
	}
	/* The interface-name form (wireguard-go's) is tested in tests/net/if_wg/t_wg_quick.ts. */
	const ifn = await wgu(h, 'wg0', ['create']);
	t.equal(ifn.code, 1, 'interface-name form: one argument only');
	t.match(ifn.stderr, usage, 'interface-name form: usage');
	const big = await wgu(h, '99999999999', ['status']);
	t.equal(big.code, 1);
	t.match(big.stderr, /^wg-userspace: 99999999999: instance id must be a number from 0 to 2147483647/);
});

t.test('not running', async (t) => {
	const lab = new Lab(t, 'wgu');
	const h = lab.host('a');
	const id = random_id();
	const st = await wgu(h, id, ['status']);
	t.equal(st.code, 1);
	t.equal(st.stdout, `instance ${id}: not running\n`);
	for (const args of [['sysctl', '-a'], ['sysctl', 'net.wg.debug'], ['sysctl', '-w', 'net.wg.debug=1']]) {
		const r = await wgu(h, id, args);
		t.equal(r.code, 1, `${args.join(' ')}: exit 1`);
		t.equal(r.stderr, `wg-userspace: instance ${id} not running\n`);
	}
	const c = await wgu(h, id, ['create'], { user: 'nobody' });
	t.equal(c.code, 1, 'create as nobody fails');
	t.equal(c.stderr, 'wg-userspace: create: must be run as root\n');
	t.equal((await wgu(h, id, ['status'])).code, 1, 'and started nothing');
});

t.test('sysctl', async (t) => {
	const lab = new Lab(t, 'wgu');
	const h = lab.host('a');
	const id = random_id();
	await boot_daemon(t, h, id);

	const all = await wgu(h, id, ['sysctl', '-a']);
	t.equal(all.code, 0);
	t.equal(all.stdout,
	    'net.wg.rekey_after_messages = 9007199254740991\n' +
	    'net.wg.rekey_after_time = 120\n' +
	    'net.wg.rekey_timeout = 5\n' +
	    'net.wg.rekey_attempt_time = 90\n' +
	    'net.wg.keepalive_timeout = 10\n' +
	    'net.wg.force_underload = 0\n' +
	    'net.wg.debug = 0\n' +
	    'net.wg.tun_offload = 1\n' +
	    'net.wg.udp_gso = 1\n' +
	    'net.wg.udp_gro = 1\n' +
	    'net.wg.udp_rcvbuf = 262144\n' +
	    'net.wg.crypto_workers = 0\n' +
	    'net.wg.warmup = 4096\n', 'sysctl -a');
	t.equal((await wgu(h, id, ['sysctl'])).stdout, all.stdout, 'no arguments: the same');
	t.equal((await wgu(h, id, ['sysctl', 'net.wg'])).stdout, all.stdout, 'a node: its leaves');
	t.equal((await wgu(h, id, ['sysctl', 'net.wg.rekey_timeout'])).stdout, 'net.wg.rekey_timeout = 5\n');
	t.equal((await wgu(h, id, ['sysctl', '-n', 'net.wg.rekey_timeout', 'net.wg.keepalive_timeout'])).stdout, '5\n10\n', '-n');

	const w = await wgu(h, id, ['sysctl', '-w', 'net.wg.rekey_timeout=1']);
	t.equal(w.code, 0);
	t.equal(w.stdout, 'net.wg.rekey_timeout: 5 -> 1\n', '-w prints old -> new');
	const w2 = await wgu(h, id, ['sysctl', '-w', 'net.wg.force_underload=1', 'net.wg.debug=0x3']);
	t.equal(w2.stdout, 'net.wg.force_underload: 0 -> 1\nnet.wg.debug: 0 -> 3\n', 'several at once');

	const nw = await wgu(h, id, ['sysctl', 'net.wg.rekey_timeout=3']);
	t.equal(nw.code, 1);
	t.equal(nw.stderr, 'wg-userspace: Must specify -w to set variables\n');
	const bad = await wgu(h, id, ['sysctl', '-w', 'net.wg.rekey_timeout=0']);
	t.equal(bad.code, 1);
	t.equal(bad.stderr, 'wg-userspace: net.wg.rekey_timeout: Invalid argument\n');
	const unk = await wgu(h, id, ['sysctl', 'net.wg.nope', 'net.wg.debug']);
	t.equal(unk.code, 1, 'one bad name: exit 1');
	t.equal(unk.stderr, "wg-userspace: third level name 'nope' in 'net.wg.nope' is invalid\n");
	t.equal(unk.stdout, 'net.wg.debug = 3\n', 'the other name still printed');
	t.equal((await wgu(h, id, ['sysctl', '-n', 'net.wg.rekey_timeout'])).stdout, '1\n', 'failed writes changed nothing');
});

t.test('create, status, destroy; ifconfig and friends', async (t) => {
	const lab = new Lab(t, 'wgu');
	const h = lab.host('a');
	const id = random_id();
	await boot_daemon(t, h, id);

	const st = await wgu(h, id, ['status']);
	t.equal(st.code, 0);
	t.match(st.stdout, new RegExp(`^instance ${id}: running, pid \\d+\\n$`), 'status with no interfaces');

	const env = await wgu(h, id, ['debug', 'sh', '-c', 'echo "$WG_USERSPACE_ID"; exit 3']);
	t.equal(env.stdout, `${id}\n`, 'debug: WG_USERSPACE_ID set');
	t.equal(env.code, 3, 'debug: its exit status');

	const ifc = await wgu(h, id, ['ifconfig', 'bogus0', 'create']);
	t.equal(ifc.code, 1, 'ifconfig: its failure comes back');
	t.match(ifc.stderr, /^ifconfig: SIOCIFCREATE: Invalid argument/m, 'the request reached instance id');
	t.equal((await wgu(h, 0, ['status'])).code, 1, 'instance 0 was not started instead');
	const wgc = await wgu(h, id, ['wgconfig', 'nope0']);
	t.equal(wgc.code, 1, 'wgconfig: its failure comes back');
	t.match(wgc.stderr, /^wgconfig: /m);

	t.equal((await wgu(h, id, ['destroy'])).code, 0, 'destroy');
	t.equal((await wgu(h, id, ['status'])).code, 1, 'gone');
	const again = await wgu(h, id, ['create']);
	t.equal(again.code, 0, 'the id can be used again');
	t.equal((await wgu(h, id, ['sysctl', '-n', 'net.wg.rekey_timeout'])).stdout, '5\n', 'a fresh instance: defaults');
});

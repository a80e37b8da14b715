// SPDX-License-Identifier: BSD-2-Clause
/*
 * etc/rc.d/ifconfig_wg: NetBSD's /etc/ifconfig.wgN boot files.  Two
 * namespaces boot wg0 from such files (create, inet, up, "!" lines with
 * ${int} and $int, comments) in a temporary WG_ETCDIR and ping through
 * the tunnel; in the same run a bad ifconfig line and a failing "!"
 * line each stop their interface with the file and line named, the
 * interface destroyed again, while the files after them still run.
 */

import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, type Host } from '../../harness/netns.js';
import {
	check_ping, destroy_wg_interfaces, key_priv_local, key_priv_peer, key_pub_local, key_pub_peer,
} from '../../harness/if_wg.js';

t.setTimeout(600_000);

/* obj/tests/etc/rc.d/t_ifconfig_wg.js -> etc/rc.d/ifconfig_wg of the source tree. */
const IFCONFIG_WG = fileURLToPath(new URL('../../../../etc/rc.d/ifconfig_wg', import.meta.url));

/* A private /etc for h holding files { name: text }; returns its path. */
function etcdir(h: Host, files: Record<string, string>): string {
	const dir = h.path('etc');
	mkdirSync(join(dir, 'wg'), { recursive: true, mode: 0o755 });
	for (const [name, text] of Object.entries(files))
		writeFileSync(join(dir, name), text, { mode: name.startsWith('wg/') ? 0o600 : 0o644 });
	return dir;
}

function ifconfig_wg0(etc: string, addr: string, peer: string, pub: string, ep: string, ip: string): string {
	return [
		'# wg0: the tunnel to ' + peer,
		'create',
		`  inet ${addr}/24   # trailing comment`,
		'',
		`!wgconfig \${int} set private-key ${etc}/wg/wg0`,
		'!wgconfig $int set listen-port 51820',
		`!wgconfig \${int} add peer ${peer} ${pub} --endpoint=${ep}:51820 --allowed-ips=${ip}/32`,
		'up',
	].join('\n') + '\n';
}

t.test('boot from /etc/ifconfig.wgN, ping through the tunnel; bad lines stop only their interface', async (t) => {
	const lab = new Lab(t, 'rcwg');
	const [left, right] = lab.pair('left', 'right');

	const letc = left.path('etc');
	etcdir(left, {
		'wg/wg0': `${key_priv_local}\n`,
		'ifconfig.wg0': ifconfig_wg0(letc, '10.64.0.1', 'right', key_pub_peer, '192.0.2.2', '10.64.0.2'),
		/* A bad ifconfig argument on line 3. */
		'ifconfig.wg1': 'create\ninet 10.65.0.1/24\nfrobnicate 7\nup\n',
		/* A failing "!" command on line 4 (no such key file). */
		'ifconfig.wg2': '# comment\ncreate\ninet 10.66.0.1/24\n!wgconfig ${int} set private-key /nonexistent/key\nup\n',
		/* A key written into a "!" line: not repeated in the message. */
		'ifconfig.wg20': `create\n!printf '%s\\n' ${key_priv_local} | false\n`,
		/* After them: still configured. */
		'ifconfig.wg3': 'create\ninet6 fd67::1/64\nup\n',
		/* Not ours: left alone. */
		'ifconfig.eth0': 'frobnicate\n',
	});
	const retc = right.path('etc');
	etcdir(right, {
		'wg/wg0': `${key_priv_peer}\n`,
		'ifconfig.wg0': ifconfig_wg0(retc, '10.64.0.2', 'left', key_pub_local, '192.0.2.1', '10.64.0.1'),
	});

	const r = await right.exec(['sh', IFCONFIG_WG], { env: { WG_ETCDIR: retc } });
	t.equal(r.code, 0, 'right: ifconfig_wg exits 0', { stdout: r.stdout, stderr: r.stderr });
	t.equal(r.stdout, `ifconfig_wg: wg0 configured from ${retc}/ifconfig.wg0\n`, 'right: wg0 configured');

	const l = await left.exec(['sh', IFCONFIG_WG], { env: { WG_ETCDIR: letc } });
	t.equal(l.code, 1, 'left: ifconfig_wg exits 1 (three interfaces failed)', { stdout: l.stdout, stderr: l.stderr });
	t.equal(l.stdout, `ifconfig_wg: wg0 configured from ${letc}/ifconfig.wg0\n` +
	    `ifconfig_wg: wg3 configured from ${letc}/ifconfig.wg3\n`, 'left: wg0 and wg3 configured, in name order');
	t.match(l.stderr, `ifconfig_wg: ${letc}/ifconfig.wg1:3: "frobnicate 7" failed (exit status 1): wg1 not configured\n` +
	    'ifconfig_wg: wg1 destroyed\n', 'wg1: the file and line named, the interface destroyed');
	t.match(l.stderr, `ifconfig_wg: ${letc}/ifconfig.wg2:4: "!wgconfig \${int} set private-key /nonexistent/key" ` +
	    'failed (exit status 1): wg2 not configured\nifconfig_wg: wg2 destroyed\n', 'wg2: the "!" line named');
	t.notMatch(l.stderr, /eth0/, 'ifconfig.eth0 is not a wg(4) file: not read');
	t.match(l.stderr, `ifconfig_wg: ${letc}/ifconfig.wg20:2: "!printf '%s\\n' (key) | false" failed (exit status 1): ` +
	    'wg20 not configured\nifconfig_wg: wg20 destroyed\n', 'wg20: the line named, its key not shown');
	t.notMatch(l.stderr, key_priv_local, 'no key in the messages');

	await left.check_fail(['ifconfig', 'wg1'], { msg: 'wg1 is gone' });
	await left.check_fail(['ifconfig', 'wg2'], { msg: 'wg2 is gone' });
	const wg3 = await left.check(['ifconfig', 'wg3']);
	t.match(wg3.stdout, /flags=.*UP.*\n(\t.*\n)*\tinet6 fd67::1\/64/, 'wg3 up with its address', { out: wg3.stdout });
	const wg0 = await left.check(['ifconfig', 'wg0']);
	t.match(wg0.stdout, /flags=.*UP.*\n(\t.*\n)*\tinet 10\.64\.0\.1\/24/, 'wg0 up with its address', { out: wg0.stdout });

	await check_ping(left, '10.64.0.2', { count: 3, wait: 3 });
	await check_ping(right, '10.64.0.1', { count: 3, wait: 3 });
	const show = (await left.check(['wgconfig', 'wg0'])).stdout;
	t.match(show, '\tlisten-port: 51820\n', 'wg0: listen-port from a "!$int" line');
	t.match(show, `\tpeer: right\n\t\tpublic-key: ${key_pub_peer}\n`, 'wg0: the peer from a "!${int}" line');
	t.notMatch(show, 'latest-handshake: (never)', 'wg0: a handshake');

	/* Run again: wg0 exists, so its "create" line fails, named as such. */
	const again = await left.exec(['sh', IFCONFIG_WG, 'wg0'], { env: { WG_ETCDIR: letc } });
	t.equal(again.code, 1, 'an interface named on the command line that exists already: an error');
	t.match(again.stderr, `${letc}/ifconfig.wg0:2: "create" failed`, 'the create line named');
	await left.check(['ifconfig', 'wg0'], { msg: 'and the existing wg0 is not destroyed' });

	const bad = await left.exec(['sh', IFCONFIG_WG, 'wg9', 'eth0'], { env: { WG_ETCDIR: letc } });
	t.equal(bad.code, 1, 'a missing file, a name that is not wgN: exit 1');
	t.match(bad.stderr, `ifconfig_wg: ${letc}/ifconfig.wg9: no such file\n`);
	t.match(bad.stderr, `ifconfig_wg: ${letc}/ifconfig.eth0: eth0 is not a wg(4) interface name (wgN)\n`);

	await destroy_wg_interfaces(left, right);
});

// SPDX-License-Identifier: BSD-2-Clause
/*
 * wg-quick(8) with this implementation as its userspace WireGuard
 * (WG_QUICK_USERSPACE_IMPLEMENTATION=wg-userspace), and the contract it
 * relies on: "wg-userspace [-f] IFNAME" behaves as "wireguard-go IFNAME"
 * (wireguard.com/xplatform).
 *
 * wg-quick takes the interface name from the file name, so the
 * configuration is wg1.conf: our interfaces are "wg" and a unit number.
 */

import t from 'tap';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Lab, OBJ_BIN, require_progs, wait_until, type Host } from '../../harness/netns.js';
import { keypair } from '../../harness/if_wg.js';

t.setTimeout(600_000);

function alive(path: string): Promise<boolean> {
	return new Promise((resolve) => {
		const s = connect({ path });
		s.once('connect', () => { s.destroy(); resolve(true); });
		s.once('error', () => { s.destroy(); resolve(false); });
	});
}

/*
 * wg-quick falls back to the userspace implementation only when
 * `ip link add IF type wireguard` fails.  So that the test means the same
 * on a host with the WireGuard kernel module, an `ip` placed first in
 * wg-quick's PATH refuses exactly that request and passes everything
 * else to the real ip(8).
 */
function no_kernel_wireguard_path(h: Host): string {
	const real = execFileSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).trim();
	mkdirSync(h.path('shim'), { recursive: true });
	h.write('shim/ip',
	    '#!/bin/sh\n' +
	    'case " $* " in *" type wireguard "*) echo "ip: wireguard link type refused by the test" >&2; exit 2;; esac\n' +
	    `exec ${real} "$@"\n`);
	chmodSync(h.path('shim/ip'), 0o755);
	chmodSync(h.path('shim'), 0o755);
	return `${h.path('shim')}:${OBJ_BIN}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`;
}

t.test('wg-quick up and down with WG_QUICK_USERSPACE_IMPLEMENTATION=wg-userspace', async (t) => {
	if (!require_progs(t, ['wg', 'wg-quick', 'ping']))
		return;
	const lab = new Lab(t, 'wgq');
	const [quick, peer] = lab.pair('quick', 'peer');
	const kq = keypair();
	const kp = keypair();

	/* The peer: ours, the NetBSD way. */
	peer.write('key', `${kp.priv}\n`);
	await peer.check(['ifconfig', 'wg2', 'create']);
	await peer.check(['ifconfig', 'wg2', 'inet', '10.9.0.2/24']);
	await peer.check(['wgconfig', 'wg2', 'set', 'private-key', './key']);
	await peer.check(['wgconfig', 'wg2', 'set', 'listen-port', '51822']);
	await peer.check(['wgconfig', 'wg2', 'add', 'peer', 'quick', kq.pub,
	    '--endpoint=192.0.2.1:51821', '--allowed-ips=10.9.0.1/32']);

	quick.write('wg1.conf',
	    '[Interface]\n' +
	    'Address = 10.9.0.1/24\n' +
	    `PrivateKey = ${kq.priv}\n` +
	    'ListenPort = 51821\n' +
	    '\n' +
	    '[Peer]\n' +
	    `PublicKey = ${kp.pub}\n` +
	    'Endpoint = 192.0.2.2:51822\n' +
	    'AllowedIPs = 10.9.0.2/32\n');
	const env = {
		WG_QUICK_USERSPACE_IMPLEMENTATION: 'wg-userspace', WG_USERSPACE_LOG: quick.path('kernel.log'),
		PATH: no_kernel_wireguard_path(quick),
	};
	const up = await quick.check(['wg-quick', 'up', './wg1.conf'], { env });
	t.match(up.stderr, /^\[#\] wg-userspace wg1$/m, 'wg-quick ran wg-userspace wg1');
	t.match(up.stderr, /^\[#\] wg setconf wg1 /m, 'then configured it with wg');
	t.match((await quick.check(['ip', '-d', 'link', 'show', 'wg1'])).stdout, /\btun\b/, 'wg1 is our tun');
	const sock = join(quick.rundir, 'wg1.sock');
	t.ok(await alive(sock), 'wg1.sock answers');

	await quick.check(['ping', '-c', '3', '-i', '0.2', '-w', '10', '10.9.0.2'], { msg: 'ping through the tunnel' });
	await peer.check(['ping', '-c', '3', '-i', '0.2', '-w', '10', '10.9.0.1'], { msg: 'and back' });
	const show = (await quick.check(['wg', 'show', 'wg1'])).stdout;
	t.match(show, /latest handshake: /, 'wg show: a handshake');
	t.match(show, /listening port: 51821/, 'wg show: the port of the file');
	const netbsd = (await quick.check(['wgconfig', 'wg1'])).stdout;
	t.match(netbsd, '\tlisten-port: 51821\n', 'wgconfig sees the wg-quick interface');
	t.match(netbsd, `\t\tpublic-key: ${kp.pub}\n\t\tendpoint: 192.0.2.2:51822\n`, 'and its peer');
	t.match((await quick.check(['ifconfig', 'wg1'])).stdout, /^wg1: flags=0x[0-9a-f]+<UP,RUNNING.*\n(.*\n)*\tinet 10\.9\.0\.1\/24/,
	    'ifconfig: up, with the address wg-quick gave it');

	const down = await quick.check(['wg-quick', 'down', './wg1.conf'], { env });
	t.match(down.stderr, /^\[#\] ip link delete dev wg1$/m, 'wg-quick down deletes the link');
	t.ok(await wait_until(() => !existsSync(sock), 10_000), 'the socket is gone');
	t.not((await quick.exec(['ip', 'link', 'show', 'wg1'])).code, 0, 'the tun is gone');
	t.not((await quick.exec(['ifconfig', 'wg1'])).code, 0, 'the instance has no wg1 any more');
	t.not((await quick.exec(['wg', 'show', 'wg1'])).code, 0, 'wg show wg1 fails');

	/*
	 * Again, from a file named as users name theirs: the interface is
	 * wg-office, not wgN (wireguard-go's naming rule, not NetBSD's).
	 */
	quick.write('wg-office.conf', quick.read('wg1.conf'));
	const office = await quick.check(['wg-quick', 'up', './wg-office.conf'], { env, msg: 'wg-quick up wg-office' });
	t.match(office.stderr, /^\[#\] wg-userspace wg-office$/m, 'wg-quick ran wg-userspace wg-office');
	const osock = join(quick.rundir, 'wg-office.sock');
	t.ok(await alive(osock), 'wg-office.sock answers');
	await quick.check(['ping', '-c', '1', '-w', '10', '10.9.0.2'], { msg: 'ping through wg-office' });
	t.match((await quick.check(['wgconfig', 'wg-office'])).stdout, /^interface: wg-office\n/, 'wgconfig wg-office');
	await quick.check(['wg-quick', 'down', './wg-office.conf'], { env, msg: 'wg-quick down wg-office' });
	t.ok(await wait_until(() => !existsSync(osock), 10_000), 'wg-office.sock is gone');
	t.not((await quick.exec(['ip', 'link', 'show', 'wg-office'])).code, 0, 'the tun wg-office is gone');
	/* Nothing left running: the instance has no interface, and no wg-userspace IFNAME waits. */
	const st = (await quick.exec(['wg-userspace', '0', 'status'])).stdout;
	t.notMatch(st, /\n(wg1|wg-office): /, 'the instance has neither interface left');
	const ps = await quick.check(['ps', '-eo', 'args']);
	t.notMatch(ps.stdout, /wg-userspace(\.js)? (-f )?wg-office/, 'no wg-userspace wg-office process');
});

t.test('wg-userspace IFNAME: the wireguard-go contract', async (t) => {
	if (!require_progs(t, ['wg']))
		return;
	const lab = new Lab(t, 'wgq');
	const h = lab.host('a');
	const env = { WG_USERSPACE_LOG: h.path('kernel.log') };

	const c = await h.check(['wg-userspace', 'wg5'], { env });
	t.equal(c.stdout + c.stderr, '', 'silent on success');
	t.ok(await alive(join(h.rundir, 'wg5.sock')), 'wg5.sock answers once it returned');
	await h.check(['ip', 'link', 'show', 'wg5'], { msg: 'the tun exists' });
	t.match((await h.check(['ifconfig', 'wg5'])).stdout, /^wg5: flags=0x[0-9a-f]+<UP,RUNNING/, 'created up');
	await h.check(['wg', 'show', 'wg5'], { msg: 'wg reaches it' });

	const again = await h.exec(['wg-userspace', 'wg5'], { env });
	t.equal(again.code, 1, 'a name in use: exit 1');
	t.match(again.stderr, /^wg-userspace: wg5: .*wg5\.sock is in use: wg5 exists already/, 'says why');

	/* Any name Linux takes, as wireguard-go: wg-quick names the interface after its file. */
	for (const name of ['wg-home', 'mullvad-se4.01']) {
		await h.check(['wg-userspace', name], { env, msg: `wg-userspace ${name}` });
		t.ok(await alive(join(h.rundir, `${name}.sock`)), `${name}.sock answers`);
		await h.check(['ip', 'link', 'show', name], { msg: `the tun ${name} exists` });
		await h.check(['wg', 'show', name], { msg: `wg reaches ${name}` });
		await h.check(['ifconfig', name, 'destroy'], { msg: `ifconfig ${name} destroy` });
		t.notOk(existsSync(join(h.rundir, `${name}.sock`)), `${name}.sock went with it`);
	}
	for (const name of ['a/b', 'a:b', 'a b', '..', '\u00e9'.repeat(8)]) {
		const bad = await h.exec(['wg-userspace', name], { env });
		t.equal(bad.code, 1, `${JSON.stringify(name)}: exit 1`);
		t.match(bad.stderr, /: not an interface name: 1 to 15 bytes, not "\." or "\.\.", no "\/", ":" or white space\n$/,
		    `${JSON.stringify(name)}: the naming rule, explained`);
	}
	/* ifconfig keeps NetBSD's rule for its own create. */
	const ifc = await h.exec(['ifconfig', 'wg-home', 'create']);
	t.not(ifc.code, 0, 'ifconfig wg-home create: refused (NetBSD names are cloner and unit)');
	const extra = await h.exec(['wg-userspace', 'wg6', 'extra'], { env });
	t.equal(extra.code, 1, 'one interface only');
	t.match(extra.stderr, /^usage: wg-userspace /, 'usage');
	const nobody = await h.exec(['wg-userspace', 'wg6'], { env, user: 'nobody' });
	t.equal(nobody.code, 1, 'not root: exit 1');
	t.equal(nobody.stderr, 'wg-userspace: wg6: must be run as root\n');
	const v = await h.check(['wg-userspace', '--version']);
	t.match(v.stdout, /^wg-userspace v\d+\.\d+\.\d+\n/, '--version');

	/* -f: stays; SIGTERM destroys the interface. */
	const fg = h.spawn(['wg-userspace', '-f', 'wg6'], { env });
	const sock6 = join(h.rundir, 'wg6.sock');
	t.ok(await wait_until(() => alive(sock6), 15_000), 'foreground: wg6 up');
	t.ok(fg.running, 'and the process stays');
	const r = await fg.stop('SIGTERM');
	t.equal(r.code, 0, 'SIGTERM: exit 0', { stderr: r.stderr });
	t.notOk(existsSync(sock6), 'SIGTERM destroyed wg6');
	t.not((await h.exec(['ifconfig', 'wg6'])).code, 0, 'the instance has no wg6');

	/* -f: the interface going away ends it. */
	const fg2 = h.spawn(['wg-userspace', '--foreground', 'wg7'], { env });
	t.ok(await wait_until(async () => /<UP,/.test((await h.exec(['ifconfig', 'wg7'])).stdout), 15_000),
	    'foreground: wg7 up');
	h.ip('link', 'del', 'wg7');
	const r2 = await fg2.wait(15_000);
	t.equal(r2.code, 0, 'ip link del: the foreground process exits 0', { stderr: r2.stderr });
	t.notOk(existsSync(join(h.rundir, 'wg7.sock')), 'wg7.sock went with it');

	/* A start that fails leaves nothing running: the instance it started goes too. */
	const b = lab.host('b');
	b.ip('link', 'add', 'taken0', 'type', 'veth', 'peer', 'name', 'taken1');
	const taken = await b.exec(['wg-userspace', 'taken0'], { env: { WG_USERSPACE_LOG: b.path('kernel.log') } });
	t.equal(taken.code, 1, 'a name the host uses for another kind of link: exit 1');
	t.match(taken.stderr, /^wg-userspace: taken0: SIOCIFCREATE: /, 'says which step failed');
	const st = await b.exec(['wg-userspace', '0', 'status']);
	t.equal(st.stdout, 'instance 0: not running\n', 'the instance started for it is gone');
	t.equal(st.code, 1);

	/* The instance is WG_USERSPACE_ID's, as for ifconfig. */
	const id = String(1000 + (process.pid % 100000));
	await h.check(['wg-userspace', 'wg8'], { env: { ...env, WG_USERSPACE_ID: id } });
	t.match((await h.check(['wg-userspace', id, 'status'])).stdout, /\nwg8: /, `wg8 is in instance ${id}`);
	t.notMatch((await h.check(['wg-userspace', '0', 'status'])).stdout, /\nwg8: /, 'not in instance 0');
	/* (The Lab kills whatever is left in the namespace if this is not reached.) */
	await h.check(['wg-userspace', id, 'destroy']);
});

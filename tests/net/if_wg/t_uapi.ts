// SPDX-License-Identifier: BSD-2-Clause
/*
 * The cross-platform userspace API (UAPI) of our wg interfaces, driven
 * by Debian's wg(8): every key set and read back, the conf commands,
 * the transfer counters of the Linux selftest (netns.sh), and the life
 * cycle of /var/run/wireguard/IF.sock.
 *
 * Each Lab host has its own /run/wireguard (tests/harness/netns.ts), so
 * `wg` in a host sees that host's sockets only.  The last case shares
 * one directory between two hosts on purpose (WG_UAPI_DIR), to see what
 * happens when two namespaces create the same name.
 */

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Lab, NODE, require_progs, wait_until, type Host } from '../../harness/netns.js';
import { keypair, uapi, wg_tool, type Pair } from '../../harness/if_wg.js';

t.setTimeout(600_000);

/* The name wgconfig shows for a peer added without one (sys/net/wg/uapi.ts). */
function peer_name(pub: string): string {
	return 'k-' + pub.replace(/[+/=]/g, '').slice(0, 12);
}

function hex(b64: string): string {
	return Buffer.from(b64, 'base64').toString('hex');
}

interface DumpPeer {
	pub: string;
	psk: string;
	endpoint: string;
	aips: string;
	handshake: number;
	rx: number;
	tx: number;
	keepalive: string;
}

interface Dump {
	priv: string;
	pub: string;
	port: string;
	fwmark: string;
	peers: Map<string, DumpPeer>;
}

/* `wg show IF dump`, parsed. */
async function dump(h: Host, ifname: string): Promise<Dump> {
	const r = await h.check(['wg', 'show', ifname, 'dump'], { msg: `${h.name}: wg show ${ifname} dump` });
	const lines = r.stdout.split('\n').filter((l) => l !== '');
	const [priv, pub, port, fwmark] = (lines[0] ?? '').split('\t');
	const peers = new Map<string, DumpPeer>();
	for (const l of lines.slice(1)) {
		const f = l.split('\t');
		peers.set(f[0], {
			pub: f[0], psk: f[1], endpoint: f[2], aips: f[3], handshake: Number(f[4]),
			rx: Number(f[5]), tx: Number(f[6]), keepalive: f[7],
		});
	}
	return { priv, pub, port, fwmark, peers };
}

/* Does something accept connections on the socket path? */
function alive(path: string): Promise<boolean> {
	return new Promise((resolve) => {
		const s = connect({ path });
		s.once('connect', () => { s.destroy(); resolve(true); });
		s.once('error', () => { s.destroy(); resolve(false); });
	});
}

t.test('wg set and wg show: every key round-trips, and wgconfig sees it', async (t) => {
	if (!require_progs(t, ['wg']))
		return;
	const lab = new Lab(t, 'uapi');
	const h = lab.host('a');
	const me = keypair();
	const p1 = keypair();
	const p2 = keypair();
	const psk = wg_tool(['genpsk']);
	h.write('priv', `${me.priv}\n`);
	h.write('psk', `${psk}\n`);
	await h.check(['ifconfig', 'wg1', 'create']);

	const empty = await dump(h, 'wg1');
	t.same([empty.priv, empty.pub, empty.fwmark, empty.peers.size], ['(none)', '(none)', 'off', 0],
	    'a new interface: no key, no fwmark, no peers');
	/* As wireguard-go: the port the socket got bound to, chosen by the kernel. */
	t.match(empty.port, /^[1-9][0-9]*$/, 'listening on the port the kernel chose');

	await h.check(['wg', 'set', 'wg1', 'private-key', './priv', 'listen-port', '51821', 'fwmark', '0x1234',
	    'peer', p1.pub, 'preshared-key', './psk', 'endpoint', '192.0.2.2:51822', 'persistent-keepalive', '25',
	    'allowed-ips', '10.1.0.0/16,fd00:1::/64']);
	let d = await dump(h, 'wg1');
	t.equal(d.priv, me.priv, 'private-key');
	t.equal(d.pub, me.pub, 'public key derived from it');
	t.equal(d.port, '51821', 'listen-port');
	t.equal(d.fwmark, '0x1234', 'fwmark');
	t.same([...d.peers.keys()], [p1.pub], 'one peer');
	const q = d.peers.get(p1.pub);
	t.equal(q?.psk, psk, 'preshared-key');
	t.equal(q?.endpoint, '192.0.2.2:51822', 'endpoint, IPv4');
	t.equal(q?.aips, '10.1.0.0/16,fd00:1::/64', 'allowed-ips, v4 and v6');
	t.equal(q?.keepalive, '25', 'persistent-keepalive');
	t.equal(q?.handshake, 0, 'no handshake yet');

	const show = await h.check(['wgconfig', 'wg1']);
	t.equal(show.stdout,
	    'interface: wg1\n' +
	    '\tprivate-key: (hidden)\n' +
	    '\tlisten-port: 51821\n' +
	    `\tpeer: ${peer_name(p1.pub)}\n` +
	    `\t\tpublic-key: ${p1.pub}\n` +
	    '\t\tendpoint: 192.0.2.2:51822\n' +
	    '\t\tpreshared-key: (hidden)\n' +
	    '\t\tallowed-ips: 10.1.0.0/16,fd00:1::/64\n' +
	    '\t\tlatest-handshake: (never)\n' +
	    '\t\tpersistent-keepalive: every 25 seconds\n',
	    'wgconfig shows what wg set, the peer under its generated name');
	t.equal((await h.check(['wgconfig', 'wg1', 'show', 'private-key'])).stdout, `private-key: ${me.priv}\n`,
	    'wgconfig show private-key');
	t.match((await h.check(['wgconfig', 'wg1', 'show', 'peer', peer_name(p1.pub), '--show-preshared-key'])).stdout,
	    `preshared-key: ${psk}`, 'wgconfig show peer --show-preshared-key');

	await h.check(['wg', 'set', 'wg1', 'peer', p1.pub, 'endpoint', '[fd00::2]:51823']);
	d = await dump(h, 'wg1');
	t.equal(d.peers.get(p1.pub)?.endpoint, '[fd00::2]:51823', 'endpoint, IPv6');
	t.match((await h.check(['wgconfig', 'wg1'])).stdout, '\t\tendpoint: [fd00::2]:51823\n', 'wgconfig: the same');

	await h.check(['wg', 'set', 'wg1', 'peer', p1.pub, 'allowed-ips', '10.2.0.0/24']);
	t.equal((await dump(h, 'wg1')).peers.get(p1.pub)?.aips, '10.2.0.0/24', 'allowed-ips replaces the list');
	await h.check(['wg', 'set', 'wg1', 'peer', p1.pub, 'allowed-ips', '10.4.5.6/16,fd00:3::1/48']);
	t.equal((await dump(h, 'wg1')).peers.get(p1.pub)?.aips, '10.4.0.0/16,fd00:3::/48', 'host bits masked');

	await h.check(['wg', 'set', 'wg1', 'peer', p2.pub, 'allowed-ips', '10.4.0.0/16,10.5.0.0/16']);
	d = await dump(h, 'wg1');
	t.equal(d.peers.get(p1.pub)?.aips, 'fd00:3::/48', 'a prefix another peer takes moves away');
	t.equal(d.peers.get(p2.pub)?.aips, '10.4.0.0/16,10.5.0.0/16', 'to the new peer');
	t.same([...d.peers.keys()], [p1.pub, p2.pub], 'peers in the order they came');
	t.match((await h.check(['wgconfig', 'wg1'])).stdout, `\tpeer: ${peer_name(p2.pub)}\n\t\tpublic-key: ${p2.pub}\n`,
	    'the second UAPI peer in wgconfig too');

	await h.check(['wg', 'set', 'wg1', 'peer', p1.pub, 'preshared-key', '/dev/null', 'persistent-keepalive', 'off',
	    'allowed-ips', '']);
	d = await dump(h, 'wg1');
	t.same([d.peers.get(p1.pub)?.psk, d.peers.get(p1.pub)?.keepalive, d.peers.get(p1.pub)?.aips],
	    ['(none)', 'off', '(none)'], 'preshared-key, keepalive and allowed-ips cleared');

	await h.check(['wg', 'set', 'wg1', 'fwmark', '0', 'listen-port', '51829']);
	d = await dump(h, 'wg1');
	t.same([d.fwmark, d.port], ['off', '51829'], 'fwmark off, listen-port changed');
	t.match((await h.check(['wgconfig', 'wg1'])).stdout, '\tlisten-port: 51829\n', 'wgconfig: new port');

	await h.check(['wg', 'set', 'wg1', 'peer', p2.pub, 'remove']);
	t.same([...(await dump(h, 'wg1')).peers.keys()], [p1.pub], 'remove');
	t.notMatch((await h.check(['wgconfig', 'wg1'])).stdout, peer_name(p2.pub), 'wgconfig: gone too');

	await h.check(['wg', 'set', 'wg1', 'peer', me.pub, 'allowed-ips', '10.9.0.0/24']);
	t.same([...(await dump(h, 'wg1')).peers.keys()], [p1.pub], 'a peer with our own public key is ignored');
	h.write('p1priv', `${p1.priv}\n`);
	await h.check(['wg', 'set', 'wg1', 'private-key', './p1priv']);
	d = await dump(h, 'wg1');
	t.equal(d.pub, p1.pub, 'now we are p1');
	t.equal(d.peers.size, 0, 'the peer with our new public key was removed');

	/* netns.sh: a key whose base64 starts with "/" reads back clamped, starting with "+". */
	const raw = Buffer.from(me.priv, 'base64');
	raw[0] = 0xff;
	h.write('unclamped', `${raw.toString('base64')}\n`);
	await h.check(['wg', 'set', 'wg1', 'private-key', './unclamped']);
	const clamped = (await h.check(['wg', 'show', 'wg1', 'private-key'])).stdout.trim();
	t.equal(clamped[0], '+', 'private key clamped on input');
	t.equal(Buffer.from(clamped, 'base64')[0], 0xf8, 'low 3 bits of byte 0 cleared');

	await h.check(['wg', 'set', 'wg1', 'private-key', '/dev/null']);
	t.equal((await h.check(['wg', 'show', 'wg1', 'private-key'])).stdout, '(none)\n', 'private-key cleared');

	t.equal((await h.check(['wg', 'show', 'interfaces'])).stdout, 'wg1\n', 'wg show interfaces lists it');
	const nope = await h.exec(['wg', 'show', 'wg9']);
	t.not(nope.code, 0, 'wg show of an interface that does not exist fails');
});

t.test('wg setconf, addconf, syncconf, showconf', async (t) => {
	if (!require_progs(t, ['wg']))
		return;
	const lab = new Lab(t, 'uapi');
	const h = lab.host('a');
	const me = keypair();
	const [p0, p1, p2, p3] = [keypair(), keypair(), keypair(), keypair()];
	const psk = wg_tool(['genpsk']);
	await h.check(['ifconfig', 'wg1', 'create']);
	await h.check(['wg', 'set', 'wg1', 'peer', p0.pub, 'allowed-ips', '10.0.0.0/24']);

	const conf1 =
	    '[Interface]\n' +
	    'ListenPort = 51831\n' +
	    'FwMark = 0x77\n' +
	    `PrivateKey = ${me.priv}\n` +
	    '\n' +
	    '[Peer]\n' +
	    `PublicKey = ${p1.pub}\n` +
	    `PresharedKey = ${psk}\n` +
	    'AllowedIPs = 10.1.0.0/24, fd00:1::/64\n' +
	    'Endpoint = 192.0.2.9:1000\n' +
	    'PersistentKeepalive = 5\n' +
	    '\n' +
	    '[Peer]\n' +
	    `PublicKey = ${p2.pub}\n` +
	    'AllowedIPs = fd00:2::/64\n' +
	    'Endpoint = [fd00::9]:1001\n';
	h.write('conf1', conf1);
	await h.check(['wg', 'setconf', 'wg1', './conf1']);
	const sc = await h.check(['wg', 'showconf', 'wg1']);
	t.equal(sc.stdout, conf1, 'setconf then showconf: the same file (the old peer replaced)');

	h.write('conf2', `[Peer]\nPublicKey = ${p3.pub}\nAllowedIPs = 10.3.0.0/24\n`);
	await h.check(['wg', 'addconf', 'wg1', './conf2']);
	let d = await dump(h, 'wg1');
	t.same([...d.peers.keys()], [p1.pub, p2.pub, p3.pub], 'addconf adds');
	t.equal(d.port, '51831', 'addconf leaves the interface alone');

	h.write('conf3',
	    `[Interface]\nPrivateKey = ${me.priv}\nListenPort = 51832\n\n` +
	    `[Peer]\nPublicKey = ${p1.pub}\nAllowedIPs = 10.9.0.0/24\n\n` +
	    `[Peer]\nPublicKey = ${p0.pub}\nAllowedIPs = 10.0.0.0/24\n`);
	await h.check(['wg', 'syncconf', 'wg1', './conf3']);
	d = await dump(h, 'wg1');
	t.same([...d.peers.keys()].sort(), [p0.pub, p1.pub].sort(), 'syncconf: peers not in the file removed, new one added');
	t.equal(d.peers.get(p1.pub)?.aips, '10.9.0.0/24', 'syncconf: allowed-ips updated');
	t.equal(d.port, '51832', 'syncconf: listen-port updated');

	const before = (await h.check(['wg', 'showconf', 'wg1'])).stdout;
	h.write('saved', before);
	await h.check(['wg', 'setconf', 'wg1', './saved']);
	t.equal((await h.check(['wg', 'showconf', 'wg1'])).stdout, before, 'showconf | setconf is the identity');
	const show = (await h.check(['wgconfig', 'wg1'])).stdout;
	t.match(show, `\tpeer: ${peer_name(p0.pub)}\n`, 'wgconfig lists the conf peers');
	t.match(show, `\tpeer: ${peer_name(p1.pub)}\n`);
	t.match(show, '\tlisten-port: 51832\n');
});

/*
 * netns.sh "counters and timestamps": ns2 pings ns1 ten times.  ns2
 * sends the initiation (148) and ten 84-byte ICMP packets padded to 96
 * plus 32 bytes of header and tag (1280): 1428, or 1460 with a
 * keepalive; it receives the response (92) and ten replies: 1372.
 */
t.test('transfer counters: the Linux selftest arithmetic', async (t) => {
	if (!require_progs(t, ['wg', 'ping']))
		return;
	const lab = new Lab(t, 'uapi');
	const [ns1, ns2] = lab.pair('ns1', 'ns2');
	const k1 = keypair();
	const k2 = keypair();
	const sides: Array<[Host, string, number, Pair, Pair, string]> = [
		[ns1, 'wg1', 1, k1, k2, '192.0.2.2:2'],
		[ns2, 'wg2', 2, k2, k1, '192.0.2.1:1'],
	];
	for (const [h, ifname, n, me, peer, ep] of sides) {
		h.write('key', `${me.priv}\n`);
		await h.check(['ifconfig', ifname, 'create']);
		await h.check(['ifconfig', ifname, 'inet', `192.168.241.${n}/24`]);
		await h.check(['wg', 'set', ifname, 'private-key', './key', 'listen-port', String(n),
		    'peer', peer.pub, 'allowed-ips', `192.168.241.${3 - n}/32`, 'endpoint', ep]);
	}
	const ping = await ns2.exec(['ping', '-c', '10', '-i', '0.1', '-w', '20', '192.168.241.1']);
	t.equal(ping.code, 0, 'ns2 pings ns1 ten times, ten replies', { stdout: ping.stdout, stderr: ping.stderr });

	const tr2 = (await ns2.check(['wg', 'show', 'wg2', 'transfer'])).stdout.trim().split('\t');
	const tr1 = (await ns1.check(['wg', 'show', 'wg1', 'transfer'])).stdout.trim().split('\t');
	t.equal(tr2[0], k1.pub, 'ns2: the peer is ns1');
	t.equal(Number(tr2[1]), 1372, 'ns2 rx: response 92 + 10 x 128');
	t.ok([1428, 1460].includes(Number(tr2[2])), `ns2 tx: initiation 148 + 10 x 128 (+ a keepalive): ${tr2[2]}`);
	t.equal(tr1[0], k2.pub, 'ns1: the peer is ns2');
	t.ok([1428, 1460].includes(Number(tr1[1])), `ns1 rx mirrors ns2 tx: ${tr1[1]}`);
	t.equal(Number(tr1[2]), 1372, 'ns1 tx mirrors ns2 rx');

	const hs = (await ns2.check(['wg', 'show', 'wg2', 'latest-handshakes'])).stdout.trim().split('\t');
	t.ok(Number(hs[1]) > 0, 'latest-handshakes is set');
	const d = await dump(ns2, 'wg2');
	t.same([d.peers.get(k1.pub)?.rx, d.peers.get(k1.pub)?.tx], [Number(tr2[1]), Number(tr2[2])], 'dump: the same counters');
	t.equal(d.peers.get(k1.pub)?.endpoint, '192.0.2.1:1', 'dump: endpoint');
	t.notMatch((await ns2.check(['wgconfig', 'wg2'])).stdout, 'latest-handshake: (never)', 'wgconfig: handshake time');
});

t.test('the socket file: stale one replaced, removing it or the tun destroys the interface', async (t) => {
	if (!require_progs(t, ['wg']))
		return;
	const lab = new Lab(t, 'uapi');
	const h = lab.host('a');
	const sock3 = join(h.rundir, 'wg3.sock');

	/* A socket file nobody listens on: its process was killed. */
	const stale = spawnSync(NODE, ['-e',
	    'require("net").createServer().listen(process.argv[1], () => process.kill(process.pid, "SIGKILL"))', sock3]);
	t.equal(stale.signal, 'SIGKILL', 'a listener killed without cleaning up');
	t.ok(existsSync(sock3) && statSync(sock3).isSocket(), 'left a stale socket file');
	t.notOk(await alive(sock3), 'nothing answers on it');
	await h.check(['ifconfig', 'wg3', 'create']);
	t.ok(await alive(sock3), 'the stale file was replaced by a live socket');
	t.equal(statSync(sock3).mode & 0o777, 0o600, 'socket mode 0600');
	t.equal(statSync(h.rundir).mode & 0o777, 0o755, 'directory mode 0755');
	t.equal((await h.check(['wg', 'show', 'wg3', 'public-key'])).stdout, '(none)\n', 'and it answers');
	t.match(await uapi(sock3, 'get=1\n\n'), /(^|\n)errno=0\n\n$/, 'get=1 by hand');
	t.equal(await uapi(sock3, 'set=1\nlisten_port=notanumber\n\n'), 'errno=-22\n\n', 'a bad value: errno=-22');
	t.equal(await uapi(sock3, 'set=1\nlisten_port=70000\n\n'), 'errno=-22\n\n', 'a port out of range: errno=-22');
	t.equal(await uapi(sock3, 'set=1\nbogus_key=1\n\n'), 'errno=-22\n\n', 'an unknown key: errno=-22');
	t.equal(await uapi(sock3, 'set=1\nprivate_key=00\n\n'), 'errno=-22\n\n', 'a short key: errno=-22');
	t.equal(await uapi(sock3, 'set=1\nnoequalsign\n\n'), 'errno=-71\n\n', 'a line without "=": errno=-71 (EPROTO)');

	unlinkSync(sock3);
	t.ok(await wait_until(async () => (await h.exec(['ifconfig', 'wg3'])).code !== 0, 10_000),
	    'removing the socket file destroys the interface');
	t.ok(await wait_until(async () => (await h.exec(['ip', 'link', 'show', 'wg3'])).code !== 0, 5_000),
	    'its tun is gone');

	await h.check(['ifconfig', 'wg4', 'create']);
	const sock4 = join(h.rundir, 'wg4.sock');
	t.ok(existsSync(sock4), 'wg4.sock');
	h.ip('link', 'del', 'wg4');
	t.ok(await wait_until(() => !existsSync(sock4), 10_000), 'ip link del: the socket goes');
	t.not((await h.exec(['ifconfig', 'wg4'])).code, 0, 'and the interface');
	const st = await h.check(['wg-userspace', '0', 'status']);
	t.match(st.stdout, /^instance 0: running/, 'the instance keeps running');
	await h.check(['ifconfig', 'wg4', 'create'], { msg: 'the name can be used again' });
	t.ok(existsSync(sock4), 'with a new socket');
});

t.test('two namespaces, one name, one socket directory', async (t) => {
	const lab = new Lab(t, 'uapi');
	const a = lab.host('a');
	const b = lab.host('b');
	const shared = join(lab.dir, 'shared-run');
	mkdirSync(shared, { mode: 0o755 });
	const env = (h: Host): Record<string, string> => ({ WG_UAPI_DIR: shared, WG_USERSPACE_LOG: h.path('kernel.log') });
	const ka = keypair();
	const kb = keypair();
	const sock = join(shared, 'wg0.sock');

	/* The first create of each host starts its instance, with env. */
	await a.check(['ifconfig', 'wg0', 'create'], { env: env(a) });
	a.write('key', `${ka.priv}\n`);
	await a.check(['wgconfig', 'wg0', 'set', 'private-key', './key']);
	t.ok(existsSync(sock), 'a: wg0.sock in the shared directory');
	await b.check(['ifconfig', 'wg0', 'create'], { env: env(b), msg: 'b: wg0 created as well' });
	b.write('key', `${kb.priv}\n`);
	await b.check(['wgconfig', 'wg0', 'set', 'private-key', './key'], { msg: 'b: wgconfig works' });
	t.match(readFileSync(b.path('kernel.log'), 'utf8'), /wg0: .*wg0\.sock belongs to another wg0.*no UAPI socket/,
	    'b: logged that it has no UAPI socket');

	t.match(await uapi(sock, 'get=1\n\n'), `private_key=${hex(ka.priv)}\n`, 'the socket is still a\'s');
	t.equal(await uapi(sock, 'set=1\nlisten_port=40001\n\n'), 'errno=0\n\n', 'set through it');
	t.match((await a.check(['wgconfig', 'wg0'])).stdout, '\tlisten-port: 40001\n', 'reaches a');
	t.match((await b.check(['wgconfig', 'wg0'])).stdout, '\tlisten-port: (none)\n', 'not b');
	for (const h of [a, b])
		t.match((await h.check(['wg-userspace', '0', 'status'])).stdout, /^instance 0: running.*\nwg0: /s,
		    `${h.name}: instance running with its wg0`);

	await b.check(['ifconfig', 'wg0', 'destroy']);
	t.match(await uapi(sock, 'get=1\n\n'), `private_key=${hex(ka.priv)}\n`, 'b\'s destroy left a\'s socket alone');
	await a.check(['ifconfig', 'wg0', 'destroy']);
	t.notOk(existsSync(sock), 'a\'s destroy removed it');
});

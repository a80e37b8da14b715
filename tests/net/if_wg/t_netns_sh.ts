// SPDX-License-Identifier: BSD-2-Clause
/*
 * The Linux kernel selftest tools/testing/selftests/wireguard/netns.sh,
 * the sections that apply to a userspace implementation, driven by
 * Debian's wg(8) through our UAPI sockets.
 *
 * Topology, as the selftest's: ns0 is the "wire" with only lo up; the
 * interfaces are created in ns0 (`wg-userspace wgN`, as the wireguard-go
 * port of the script does) and then moved with `ip link set wgN netns`,
 * so their UDP sockets stay in ns0 and both peers talk over ns0's
 * loopback (127.0.0.1 / ::1) while their tuns live in ns1 and ns2.
 * The daemon keeps the tun fd across the move, and its link watch
 * follows the link through it into ns1/ns2 (up/down, MTU: see
 * t_netns_move.ts).  The sections where the selftest creates interfaces
 * in ns1/ns2 directly (NAT, keepalive on link up) do the same here.
 *
 * Distinct interface names (wg1 in ns1, wg2 in ns2), as the wireguard-go
 * port: both UAPI sockets are in ns0's /run/wireguard, and `wg` for them
 * runs in ns0 ("wg can configure the interface from any namespace").
 *
 * Left out: what §4.1 calls kernel-only (ip -stats byte equality,
 * route-MTU padding, the wg-over-wg routing loop, sk_bound_dev_if and
 * mark rerouting, ICMP unreachable, /dev/kmsg lifetime); the counters
 * and timestamps section (t_uapi.ts has it); wg over wg, onion and
 * policy routing (not in §4.1's list); allowed-IP removal (`allowed-ips
 * -IP` needs a newer wg(8) than Debian's 1.0.20210914).  The key
 * handling section overlaps t_uapi.ts on purpose: it is the selftest's
 * exact sequence.  Timeouts are the selftest's or longer
 * (a shared 2-core machine); nothing asserts how long anything took.
 */

import t from 'tap';
import { connect } from 'node:net';
import { join } from 'node:path';
import {
	Lab, NODE, require_progs, sleep, wait_until, type BgProcess, type ExecResult, type Host, type TapTest,
} from '../../harness/netns.js';
import { badkeys, keypair, ping_received, wg_tool } from '../../harness/if_wg.js';

t.setTimeout(600_000);

/* A subtest that shares the lab: assertions of the harness go to it while it runs. */
async function section(t: TapTest, lab: Lab, name: string, fn: (st: TapTest) => Promise<void>): Promise<void> {
	await t.test(name, async (st) => {
		lab.set_test(st);
		try {
			await fn(st);
		} finally {
			lab.set_test(t);
		}
	});
}

/* ping(8) as the selftest runs it; -f floods (root), -W waits for each reply. */
function ping_argv(addr: string, o: { count?: number; flood?: boolean; size?: number; wait?: number } = {}): string[] {
	const argv = ['ping', '-n'];
	if (addr.includes(':'))
		argv.push('-6');
	argv.push('-c', String(o.count ?? 1), '-W', String(o.wait ?? 5));
	if (o.flood === true)
		argv.push('-f');
	if (o.size !== undefined)
		argv.push('-s', String(o.size));
	argv.push(addr);
	return argv;
}

/* `ping` must exit 0 (at least one reply, as under set -e in the selftest). */
async function ping_ok(h: Host, addr: string, o: { count?: number; flood?: boolean; size?: number; wait?: number;
    msg?: string } = {}): Promise<ExecResult> {
	const r = await h.exec(ping_argv(addr, o), { timeout: 60_000 });
	h.lab.t.equal(r.code, 0, o.msg ?? `${r.cmd}: replies`, { stdout: r.stdout, stderr: r.stderr });
	if (r.code === 0 && (o.count ?? 1) > 1)
		h.lab.t.comment(`${r.cmd}: ${ping_received(r)}/${o.count} replies`);
	return r;
}

/* The first line of `wg show IF WHAT`, run in h. */
async function wg_show(h: Host, ifname: string, what: string): Promise<string> {
	return (await h.check(['wg', 'show', ifname, what])).stdout.replace(/\n$/, '');
}

/* tx bytes of the first peer in `wg show IF transfer` (the selftest's `read _ _ tx_bytes`). */
async function tx_bytes(h: Host, ifname: string): Promise<number> {
	const line = (await wg_show(h, ifname, 'transfer')).split('\n')[0] ?? '';
	return Number(line.split('\t')[2] ?? NaN);
}

/* Is the instance's ifnet up (not just the host's link)? */
async function instance_up(h: Host, ifname: string): Promise<boolean> {
	return /^\S+: flags=0x[0-9a-f]+<UP/.test((await h.exec(['ifconfig', ifname])).stdout);
}

/*
 * A UDP listener (the selftest's `ncat -l -u -p PORT`) on [::]:PORT,
 * dual stack; one line per datagram: "msg HEX ADDR PORT".
 */
const UDP_LISTENER = [
	'const s = require("node:dgram").createSocket({ type: "udp6" });',
	's.on("message", (m, r) => process.stdout.write("msg " + m.toString("hex") + " " + r.address + " " + r.port + "\\n"));',
	's.on("error", (e) => { process.stderr.write(String(e) + "\\n"); process.exit(1); });',
	's.bind(Number(process.argv[1]), "::", () => process.stdout.write("listening\\n"));',
	'setTimeout(() => process.exit(0), 120000);',
].join('\n');

async function udp_listen(h: Host, port: number): Promise<BgProcess> {
	const bg = h.spawn([NODE, '-e', UDP_LISTENER, String(port)]);
	if (!await bg.wait_for(/^listening$/m, 10_000))
		throw new Error(`${h.name}: UDP listener on ${port} did not start: ${bg.stderr}`);
	return bg;
}

function datagrams(bg: BgProcess): string[] {
	return bg.stdout.split('\n').filter((l) => l.startsWith('msg '));
}

/* One `get=1` on a UAPI socket, straight from this process; the whole reply. */
function uapi_get(path: string): Promise<string> {
	return new Promise((resolve, reject) => {
		const so = connect({ path });
		let out = '';
		so.setEncoding('utf8');
		so.on('data', (d: string) => {
			out += d;
			if (out.endsWith('\n\n'))
				so.end();
		});
		so.on('error', reject);
		so.on('close', () => resolve(out));
		so.write('get=1\n\n');
	});
}

/* The selftest's waitiperf: until something listens on TCP port in h. */
async function wait_listen(h: Host, port: number): Promise<boolean> {
	return wait_until(async () => (await h.exec(['ss', '-Htln', `sport = :${port}`])).stdout.trim() !== '', 10_000);
}

interface IperfOptions {
	udp?: boolean;
	parallel?: number;
}

/* `iperf3 -s -1 -B ADDR` in server, `iperf3 -Z -t 1 -c ADDR` in client: must exit 0. */
async function iperf(server: Host, client: Host, addr: string, o: IperfOptions = {}): Promise<void> {
	const t = server.lab.t;
	const port = 5201;
	const srv = server.spawn(['iperf3', '-s', '-1', '-B', addr, '-p', String(port)]);
	t.ok(await wait_listen(server, port), `${server.name}: iperf3 server on [${addr}]:${port}`);
	const args = ['iperf3', '-Z', '-t', '1', '-J', '-c', addr, '-p', String(port)];
	if (o.udp === true)
		args.push('-u', '-b', '0');
	if (o.parallel !== undefined)
		args.push('-P', String(o.parallel));
	const r = await client.exec(args, { timeout: 60_000 });
	const what = `${o.udp === true ? 'UDP' : 'TCP'}${o.parallel !== undefined ? ` x${o.parallel}` : ''} to ${addr}`;
	t.equal(r.code, 0, `${client.name}: iperf3 ${what}`, { stdout: r.stdout.slice(-2000), stderr: r.stderr });
	try {
		const j = JSON.parse(r.stdout) as { end?: { sum?: { bits_per_second?: number; lost_percent?: number };
		    sum_received?: { bits_per_second?: number } } };
		if (o.udp === true)
			t.comment(`iperf3 ${what}: ${((j.end?.sum?.bits_per_second ?? 0) / 1e6).toFixed(0)} Mbit/s, ` +
			    `${(j.end?.sum?.lost_percent ?? 0).toFixed(1)}% lost`);
		else
			t.comment(`iperf3 ${what}: ${((j.end?.sum_received?.bits_per_second ?? 0) / 1e6).toFixed(0)} Mbit/s`);
	} catch {
		/* the assertion above has the output */
	}
	await srv.wait(10_000);
}

/*
 * The selftest's tests(): flood pings both ways over IPv4 and IPv6,
 * iperf3 TCP and UDP over both (1 s instead of 3), and TCP with one
 * stream per CPU (-P 2, where the selftest starts NPROC iperf3s).
 */
async function tests(ns1: Host, ns2: Host, o: { parallel: boolean; big?: number }): Promise<void> {
	await ping_ok(ns2, '192.168.241.1', { count: 10, flood: true, wait: 5 });
	await ping_ok(ns1, '192.168.241.2', { count: 10, flood: true, wait: 5 });
	await ping_ok(ns2, 'fd00::1', { count: 10, flood: true, wait: 5 });
	await ping_ok(ns1, 'fd00::2', { count: 10, flood: true, wait: 5 });
	if (o.big !== undefined) {
		/* Packets near the huge MTU, unfragmented on the inside. */
		await ping_ok(ns2, '192.168.241.1', { count: 2, size: o.big, msg: `ping -s ${o.big} over IPv4` });
		await ping_ok(ns1, 'fd00::2', { count: 2, size: o.big, msg: `ping -6 -s ${o.big} over IPv6` });
	}
	await iperf(ns2, ns1, '192.168.241.2');
	await iperf(ns1, ns2, 'fd00::1');
	await iperf(ns1, ns2, '192.168.241.1', { udp: true });
	await iperf(ns2, ns1, 'fd00::2', { udp: true });
	if (o.parallel)
		await iperf(ns2, ns1, '192.168.241.2', { parallel: 2 });
}

function mtu_of(h: Host, ifname: string): number {
	const m = /\bmtu (\d+)/.exec(h.ip('link', 'show', 'dev', ifname));
	return m ? Number(m[1]) : NaN;
}

t.test('netns.sh on the loopback wire: data, MTU, roaming, crypto-RP, key changes', async (t) => {
	if (!require_progs(t, ['wg', 'ping', 'iperf3', 'ss']))
		return;
	const started = Date.now();
	const lab = new Lab(t, 'nss');
	const ns0 = lab.host('ns0');
	const ns1 = lab.host('ns1');
	const ns2 = lab.host('ns2');
	const [k1, k2, k3] = [keypair(), keypair(), keypair()];
	const psk = wg_tool(['genpsk']);
	ns0.write('key1', `${k1.priv}\n`);
	ns0.write('key2', `${k2.priv}\n`);
	ns0.write('key3', `${k3.priv}\n`);
	ns0.write('psk', `${psk}\n`);
	/* Every wg(8) of this topology runs in ns0, where the UAPI sockets are. */
	const wg = (...args: string[]): Promise<ExecResult> => ns0.check(['wg', ...args]);

	/* ip0 link add dev wg0 type wireguard; ip0 link set wg0 netns $netns1 */
	await ns0.check(['wg-userspace', 'wg1']);
	ns0.ip('link', 'set', 'wg1', 'netns', ns1.ns);
	await ns0.check(['wg-userspace', 'wg2']);
	ns0.ip('link', 'set', 'wg2', 'netns', ns2.ns);
	t.ok(/\bwg1\b/.test(ns1.ip('link', 'show')), 'wg1 moved to ns1');
	t.ok(/\bwg2\b/.test(ns2.ip('link', 'show')), 'wg2 moved to ns2');
	t.match((await ns0.check(['ss', '-Huanp'])).stdout, /node/, 'their UDP sockets stay in ns0');

	/* configure_peers */
	lab.addr(ns1, 'wg1', '192.168.241.1/24');
	lab.addr(ns1, 'wg1', 'fd00::1/112');
	lab.addr(ns2, 'wg2', '192.168.241.2/24');
	lab.addr(ns2, 'wg2', 'fd00::2/112');
	await wg('set', 'wg1', 'private-key', './key1', 'listen-port', '1',
	    'peer', k2.pub, 'preshared-key', './psk', 'allowed-ips', '192.168.241.2/32,fd00::2/128');
	await wg('set', 'wg2', 'private-key', './key2', 'listen-port', '2',
	    'peer', k1.pub, 'preshared-key', './psk', 'allowed-ips', '192.168.241.1/32,fd00::1/128');
	ns1.ip('link', 'set', 'up', 'dev', 'wg1');
	ns2.ip('link', 'set', 'up', 'dev', 'wg2');

	const orig_mtu = mtu_of(ns1, 'wg1');
	t.equal(orig_mtu, 1420, 'the default MTU');
	const big_mtu = 34816 - 1500 + orig_mtu;

	await section(t, lab, 'IPv4 outer transport (127.0.0.1)', async () => {
		await wg('set', 'wg1', 'peer', k2.pub, 'endpoint', '127.0.0.1:2');
		await wg('set', 'wg2', 'peer', k1.pub, 'endpoint', '127.0.0.1:1');
		await tests(ns1, ns2, { parallel: true });
		const hs = (await wg_show(ns0, 'wg1', 'latest-handshakes')).split('\t');
		t.ok(Number(hs[1]) > 0, 'latest-handshakes is set');
	});

	await section(t, lab, `IPv4 outer, MTU ${big_mtu}`, async (st) => {
		ns1.ip('link', 'set', 'wg1', 'mtu', String(big_mtu));
		ns2.ip('link', 'set', 'wg2', 'mtu', String(big_mtu));
		st.equal(mtu_of(ns1, 'wg1'), big_mtu, `wg1 mtu ${big_mtu}`);
		await tests(ns1, ns2, { parallel: false, big: 30000 });
		ns1.ip('link', 'set', 'wg1', 'mtu', String(orig_mtu));
		ns2.ip('link', 'set', 'wg2', 'mtu', String(orig_mtu));
	});

	await section(t, lab, 'IPv6 outer transport ([::1])', async () => {
		await wg('set', 'wg1', 'peer', k2.pub, 'endpoint', '[::1]:2');
		await wg('set', 'wg2', 'peer', k1.pub, 'endpoint', '[::1]:1');
		await tests(ns1, ns2, { parallel: true });
	});

	await section(t, lab, `IPv6 outer, MTU ${big_mtu}`, async () => {
		ns1.ip('link', 'set', 'wg1', 'mtu', String(big_mtu));
		ns2.ip('link', 'set', 'wg2', 'mtu', String(big_mtu));
		await tests(ns1, ns2, { parallel: false, big: 30000 });
		ns1.ip('link', 'set', 'wg1', 'mtu', String(orig_mtu));
		ns2.ip('link', 'set', 'wg2', 'mtu', String(orig_mtu));
	});

	await section(t, lab, 'IPv4 roaming', async (st) => {
		/* ns1's packets now leave from 127.212.121.99, port 9999. */
		ns0.ip('-4', 'addr', 'del', '127.0.0.1/8', 'dev', 'lo');
		ns0.ip('-4', 'addr', 'add', '127.212.121.99/8', 'dev', 'lo');
		await wg('set', 'wg1', 'listen-port', '9999');
		await wg('set', 'wg1', 'peer', k2.pub, 'endpoint', '127.0.0.1:2');
		await ping_ok(ns1, 'fd00::2');
		st.equal(await wg_show(ns0, 'wg2', 'endpoints'), `${k1.pub}\t127.212.121.99:9999`,
		    'ns2 follows ns1 to its new address and port');
	});

	await section(t, lab, 'IPv6 roaming', async (st) => {
		await wg('set', 'wg1', 'listen-port', '9998');
		await wg('set', 'wg1', 'peer', k2.pub, 'endpoint', '[::1]:2');
		await ping_ok(ns1, '192.168.241.2');
		st.equal(await wg_show(ns0, 'wg2', 'endpoints'), `${k1.pub}\t[::1]:9998`,
		    'ns2 follows ns1 to its new IPv6 endpoint');
	});

	await section(t, lab, 'crypto-RP filter', async (st) => {
		await wg('set', 'wg1', 'peer', k2.pub, 'allowed-ips', '192.168.241.0/24');
		let l = await udp_listen(ns1, 1111);
		await ns2.udp_send('192.168.241.1', 1111, 'X');
		st.ok(await wait_until(() => datagrams(l).length > 0, 5_000), 'a datagram from ns2 arrives');
		st.match(datagrams(l)[0] ?? '', /^msg 58 (::ffff:)?192\.168\.241\.2 /, '"X" from 192.168.241.2');
		await l.stop();

		/* 192.168.241.2 now maps to another peer: ns2's packets are not honest any more. */
		const more_specific = keypair().pub;
		await wg('set', 'wg1', 'peer', more_specific, 'allowed-ips', '192.168.241.2/32');
		await wg('set', 'wg2', 'listen-port', '9997');
		l = await udp_listen(ns1, 1111);
		const tx0 = await tx_bytes(ns0, 'wg2');
		await ns2.udp_send('192.168.241.1', 1111, 'X');
		st.ok(await wait_until(async () => await tx_bytes(ns0, 'wg2') > tx0, 5_000),
		    'ns2 sent it through the tunnel');
		await sleep(2000);
		st.same(datagrams(l), [], 'ns1 drops it: its source belongs to the other peer');
		await l.stop();
		await wg('set', 'wg1', 'peer', more_specific, 'remove');
		st.equal(await wg_show(ns0, 'wg1', 'endpoints'), `${k2.pub}\t[::1]:9997`,
		    'the endpoint roamed all the same (authenticated packet)');
	});

	await section(t, lab, 'changing private keys and handshaking at once', async (st) => {
		await wg('set', 'wg1', 'private-key', './key1', 'peer', k2.pub, 'preshared-key', './psk',
		    'allowed-ips', '192.168.241.2/32', 'endpoint', '127.0.0.1:2');
		await wg('set', 'wg2', 'private-key', './key2', 'listen-port', '2', 'peer', k1.pub, 'preshared-key', './psk',
		    'allowed-ips', '192.168.241.1/32');
		await ping_ok(ns1, '192.168.241.2');
		await wg('set', 'wg1', 'private-key', './key3');
		st.equal(await wg_show(ns0, 'wg1', 'public-key'), k3.pub, 'ns1 is pub3 now');
		/* Add the new identity and remove the old one in one request. */
		await wg('set', 'wg2', 'peer', k3.pub, 'preshared-key', './psk', 'allowed-ips', '192.168.241.1/32',
		    'peer', k1.pub, 'remove');
		st.equal(await wg_show(ns0, 'wg2', 'peers'), k3.pub, 'ns2 knows only pub3');
		await ping_ok(ns1, '192.168.241.2', { msg: 'ns1 pings ns2 under the new key' });
		await wg('set', 'wg2', 'peer', k3.pub, 'remove');
		st.equal(await wg_show(ns0, 'wg2', 'peers'), '', 'pub3 removed');
	});

	t.comment(`loopback topology: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

/*
 * The selftest's NAT topology: ns1 -- vethc/vethrc -- ns0 -- vethrs/veths
 * -- ns2; ns0 SNATs 192.168.1.0/24 to 10.0.0.1 with 2 s UDP conntrack
 * timeouts.  Here the interfaces live in ns1 and ns2 with their sockets.
 */
t.test('netns.sh NAT: persistent keepalive keeps the mapping', async (t) => {
	if (!require_progs(t, ['wg', 'ping', 'iptables']))
		return;
	const lab = new Lab(t, 'nsn');
	const ns0 = lab.host('ns0');
	const ns1 = lab.host('ns1');
	const ns2 = lab.host('ns2');
	const [k1, k2] = [keypair(), keypair()];
	const psk = wg_tool(['genpsk']);

	await ns1.check(['wg-userspace', 'wg1']);
	await ns2.check(['wg-userspace', 'wg2']);
	for (const [h, ifname, n, me, peer] of [[ns1, 'wg1', 1, k1, k2], [ns2, 'wg2', 2, k2, k1]] as const) {
		lab.addr(h, ifname, `192.168.241.${n}/24`);
		lab.addr(h, ifname, `fd00::${n}/112`);
		h.write('key', `${me.priv}\n`);
		h.write('psk', `${psk}\n`);
		await h.check(['wg', 'set', ifname, 'private-key', './key', 'listen-port', String(n),
		    'peer', peer.pub, 'preshared-key', './psk', 'allowed-ips', `192.168.241.${3 - n}/32,fd00::${3 - n}/128`]);
		h.ip('link', 'set', 'up', 'dev', ifname);
	}

	lab.veth(ns0, ns1, 'vethrc', 'vethc');
	lab.veth(ns0, ns2, 'vethrs', 'veths');
	lab.addr(ns0, 'vethrc', '192.168.1.1/24');
	lab.addr(ns0, 'vethrs', '10.0.0.1/24');
	lab.addr(ns1, 'vethc', '192.168.1.100/24');
	ns1.ip('route', 'add', 'default', 'via', '192.168.1.1');
	lab.addr(ns2, 'veths', '10.0.0.100/24');
	ns0.sysctl({ 'net.ipv4.ip_forward': 1 });
	await ns0.check(['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-s', '192.168.1.0/24', '-d', '10.0.0.0/24',
	    '-j', 'SNAT', '--to', '10.0.0.1']);
	/* The NAT rule loaded conntrack: now its per-namespace timeouts exist. */
	ns0.sysctl({ 'net.netfilter.nf_conntrack_udp_timeout': 2, 'net.netfilter.nf_conntrack_udp_timeout_stream': 2 });

	await ns1.check(['wg', 'set', 'wg1', 'peer', k2.pub, 'endpoint', '10.0.0.100:2', 'persistent-keepalive', '1']);
	await ping_ok(ns1, '192.168.241.2');
	await ping_ok(ns2, '192.168.241.1');
	t.equal(await wg_show(ns2, 'wg2', 'endpoints'), `${k1.pub}\t10.0.0.1:1`, 'ns2 sees ns1 behind the NAT');
	const tx0 = await tx_bytes(ns1, 'wg1');
	await sleep(3000);
	const tx1 = await tx_bytes(ns1, 'wg1');
	t.comment(`ns1 sent ${tx1 - tx0} bytes in 3 s of idle (keepalives are 32)`);
	t.ok(tx1 > tx0, 'ns1 sent keepalives while idle');
	/* Longer than the conntrack timeout: only the keepalives kept the mapping. */
	await ping_ok(ns2, '192.168.241.1', { msg: 'ns2 still reaches ns1 through the NAT after 3 s' });
	await ns1.check(['wg', 'set', 'wg1', 'peer', k2.pub, 'persistent-keepalive', '0']);
	t.equal((await wg_show(ns1, 'wg1', 'persistent-keepalive')).split('\t')[1], 'off', 'keepalive off again');
});

t.test('netns.sh: persistent keepalive is sent on link up', async (t) => {
	if (!require_progs(t, ['wg']))
		return;
	const lab = new Lab(t, 'nsk');
	const ns1 = lab.host('ns1');
	const [k1, k2] = [keypair(), keypair()];
	ns1.write('key1', `${k1.priv}\n`);

	/* ip link add: created down (ifconfig create does not mark it up). */
	await ns1.check(['ifconfig', 'wg1', 'create']);
	await ns1.check(['wg', 'set', 'wg1', 'private-key', './key1', 'peer', k2.pub, 'endpoint', '127.0.0.1:1111',
	    'persistent-keepalive', '1']);
	t.equal(await tx_bytes(ns1, 'wg1'), 0, 'nothing sent while down');
	ns1.ip('link', 'set', 'dev', 'wg1', 'up');
	t.ok(await wait_until(async () => await tx_bytes(ns1, 'wg1') > 0, 10_000), 'ip link set up: a keepalive goes out');
	await ns1.check(['ifconfig', 'wg1', 'destroy']);

	/* "This should also happen even if the private key is set later." */
	await ns1.check(['ifconfig', 'wg1', 'create']);
	await ns1.check(['wg', 'set', 'wg1', 'peer', k2.pub, 'endpoint', '127.0.0.1:1111', 'persistent-keepalive', '1']);
	t.equal(await tx_bytes(ns1, 'wg1'), 0, 'no key, down: nothing sent');
	ns1.ip('link', 'set', 'dev', 'wg1', 'up');
	t.ok(await wait_until(() => instance_up(ns1, 'wg1'), 10_000), 'the instance followed the link up');
	await sleep(1500);
	t.equal(await tx_bytes(ns1, 'wg1'), 0, 'up without a private key: still nothing sent');
	await ns1.check(['wg', 'set', 'wg1', 'private-key', './key1']);
	t.ok(await wait_until(async () => await tx_bytes(ns1, 'wg1') > 0, 10_000), 'the key set: a keepalive goes out');
});

t.test('netns.sh: IPC split responses, wg show doesnotexist, key handling, low-order keys', async (t) => {
	if (!require_progs(t, ['wg']))
		return;
	const lab = new Lab(t, 'nsi');
	const ns0 = lab.host('ns0');
	const wg = (...args: string[]): Promise<ExecResult> => ns0.check(['wg', ...args]);
	const [k1, k2] = [keypair(), keypair()];
	const psk = wg_tool(['genpsk']);
	ns0.write('key1', `${k1.priv}\n`);
	ns0.write('key2', `${k2.priv}\n`);
	ns0.write('psk', `${psk}\n`);

	await section(t, lab, 'one peer, 20480 allowed IPs', async (st) => {
		/* The selftest's 255 x 256 x 2, cut to 40 x 256 x 2: still ~400 KiB of UAPI text each way. */
		await ns0.check(['ifconfig', 'wg0', 'create']);
		const conf = ['[Interface]', `PrivateKey=${wg_tool(['genkey'])}`, '[Peer]', `PublicKey=${wg_tool(['genkey'])}`];
		const want: string[] = [];
		for (let a = 1; a <= 40; a++) {
			for (let b = 0; b <= 255; b++) {
				conf.push(`AllowedIPs=${a}.${b}.0.0/16,${a}::${b}/128`);
				want.push(`${a}.${b}.0.0/16`, b === 0 ? `${a}::/128` : `${a}::${b}/128`);
			}
		}
		ns0.write('conf', conf.join('\n') + '\n');
		await wg('setconf', 'wg0', './conf');
		const tokens = (await wg_show(ns0, 'wg0', 'allowed-ips')).split(/\s+/).filter((s) => s !== '');
		st.equal(tokens.length, 40 * 256 * 2 + 1, 'wg show allowed-ips: the key and every prefix');
		st.same(tokens.slice(1).sort(), want.sort(), 'exactly the prefixes set');
		const reply = await uapi_get(join(ns0.rundir, 'wg0.sock'));
		st.comment(`UAPI get reply: ${reply.length} bytes`);
		st.ok(reply.length > 65536 && reply.endsWith('errno=0\n\n'), 'the get reply is well over 64 KiB, and complete');
		await ns0.check(['ifconfig', 'wg0', 'destroy']);
	});

	await section(t, lab, '40 peers x 52 allowed IPs', async (st) => {
		await ns0.check(['ifconfig', 'wg0', 'create']);
		const conf = ['[Interface]', `PrivateKey=${wg_tool(['genkey'])}`];
		for (let a = 1; a <= 40; a++) {
			conf.push('[Peer]', `PublicKey=${wg_tool(['genkey'])}`);
			for (let b = 1; b <= 52; b++)
				conf.push(`AllowedIPs=${a}.${b}.0.0/16`);
		}
		ns0.write('conf', conf.join('\n') + '\n');
		await wg('setconf', 'wg0', './conf');
		const lines = (await wg_show(ns0, 'wg0', 'allowed-ips')).split('\n');
		st.equal(lines.length, 40, '40 lines');
		st.ok(lines.every((l) => l.split(/\s+/).filter((s) => s !== '').length === 53), 'each with a key and 52 prefixes');
		await ns0.check(['ifconfig', 'wg0', 'destroy']);

		/* 29 empty peers and one with allowed IPs: showconf works. */
		await ns0.check(['ifconfig', 'wg0', 'create']);
		const conf2: string[] = [];
		for (let i = 1; i <= 29; i++)
			conf2.push('[Peer]', `PublicKey=${wg_tool(['genkey'])}`);
		conf2.push('[Peer]', `PublicKey=${wg_tool(['genkey'])}`, 'AllowedIPs=255.2.3.4/32,abcd::255/128');
		ns0.write('conf', conf2.join('\n') + '\n');
		await wg('setconf', 'wg0', './conf');
		const sc = (await wg('showconf', 'wg0')).stdout;
		st.equal(sc.match(/^\[Peer\]$/gm)?.length, 30, 'showconf: 30 peers');
		st.match(sc, /^AllowedIPs = 255\.2\.3\.4\/32, abcd::255\/128$/m, 'showconf: the last one\'s allowed IPs');
		await ns0.check(['ifconfig', 'wg0', 'destroy']);

		/* An empty peer, then one with 197 IPv6 /128s. */
		await ns0.check(['ifconfig', 'wg0', 'create']);
		const aips = Array.from({ length: 197 }, (_, i) => `abcd::${i + 1}`).join(',');
		await wg('set', 'wg0', 'peer', k1.pub);
		await wg('set', 'wg0', 'peer', k2.pub, 'allowed-ips', aips);
		const [l1, l2] = (await wg_show(ns0, 'wg0', 'allowed-ips')).split('\n');
		st.equal(l1, `${k1.pub}\t(none)`, 'the empty peer shows (none)');
		const f2 = (l2 ?? '').split(/\s+/).filter((s) => s !== '');
		st.equal(f2[0], k2.pub, 'then the other');
		st.equal(f2.length - 1, 197, 'with its 197 prefixes');
		await ns0.check(['ifconfig', 'wg0', 'destroy']);
	});

	await section(t, lab, 'wg show doesnotexist', async (st) => {
		const r = await ns0.exec(['wg', 'show', 'doesnotexist']);
		st.not(r.code, 0, 'fails', { stdout: r.stdout, stderr: r.stderr });
	});

	await section(t, lab, 'key handling', async (st) => {
		await ns0.check(['ifconfig', 'wg0', 'create']);
		await wg('set', 'wg0', 'private-key', './key1', 'peer', k2.pub, 'preshared-key', './psk');
		st.equal(await wg_show(ns0, 'wg0', 'private-key'), k1.priv, 'private-key');
		st.equal(await wg_show(ns0, 'wg0', 'preshared-keys'), `${k2.pub}\t${psk}`, 'preshared-keys');
		await wg('set', 'wg0', 'private-key', '/dev/null', 'peer', k2.pub, 'preshared-key', '/dev/null');
		st.equal(await wg_show(ns0, 'wg0', 'private-key'), '(none)', 'private-key from /dev/null: cleared');
		st.equal(await wg_show(ns0, 'wg0', 'preshared-keys'), `${k2.pub}\t(none)`, 'preshared-key from /dev/null: cleared');
		await wg('set', 'wg0', 'peer', k2.pub);
		await wg('set', 'wg0', 'private-key', './key2');
		st.equal(await wg_show(ns0, 'wg0', 'public-key'), k2.pub, 'we are pub2');
		st.equal(await wg_show(ns0, 'wg0', 'peers'), '', 'so peer pub2 was removed');
		await wg('set', 'wg0', 'peer', k2.pub);
		st.equal(await wg_show(ns0, 'wg0', 'peers'), '', 'adding our own public key is a no-op');
		await wg('set', 'wg0', 'private-key', './key1');
		await wg('set', 'wg0', 'peer', k2.pub);
		st.equal(await wg_show(ns0, 'wg0', 'peers'), k2.pub, 'as pub1 again, pub2 can be added');
		/*
		 * wg genkey's keys are clamped: the low 3 bits of byte 0 are
		 * clear, so the first base64 character (bits 7..2) is even.  "/"
		 * sets bit 2; clamping on input clears it again: "+".
		 */
		ns0.write('slash', `/${k1.priv.slice(1)}\n`);
		await wg('set', 'wg0', 'private-key', './slash');
		st.equal(await wg_show(ns0, 'wg0', 'private-key'), `+${k1.priv.slice(1)}`, 'a "/..." key reads back "+..."');
		/* Overlapping allowed IPs in one replace. */
		await wg('set', 'wg0', 'peer', k2.pub, 'allowed-ips', '0.0.0.0/0,10.0.0.0/8,100.0.0.0/10,172.16.0.0/12,192.168.0.0/16');
		await wg('set', 'wg0', 'peer', k2.pub, 'allowed-ips', '0.0.0.0/0');
		await wg('set', 'wg0', 'peer', k2.pub, 'allowed-ips', '::/0,1700::/111,5000::/4,e000::/37,9000::/75');
		await wg('set', 'wg0', 'peer', k2.pub, 'allowed-ips', '::/0');
		st.equal(await wg_show(ns0, 'wg0', 'allowed-ips'), `${k2.pub}\t::/0`, 'the last replace wins');
		await wg('set', 'wg0', 'peer', k2.pub, 'remove');
	});

	await section(t, lab, 'low-order public keys: nothing is sent', async (st) => {
		/* The selftest's seven points (the first seven of t_basic's twelve). */
		const points = badkeys.slice(0, 7);
		st.equal(points[6], '7v///////////////////////////////////////38=', 'the selftest\'s seven');
		for (const p of points)
			await wg('set', 'wg0', 'peer', p, 'persistent-keepalive', '1', 'endpoint', '127.0.0.1:1111');
		st.equal((await wg_show(ns0, 'wg0', 'peers')).split('\n').length, 7, 'seven peers');
		st.match(await wg_show(ns0, 'wg0', 'private-key'), /^\+/, 'and a private key, so handshakes would be tried');
		const l = await udp_listen(ns0, 1111);
		ns0.ip('link', 'set', 'wg0', 'up');
		st.ok(await wait_until(() => instance_up(ns0, 'wg0'), 10_000), 'the instance followed the link up');
		await sleep(2000);
		st.same(datagrams(l), [], 'nothing arrives within 2 s');
		const tx = (await wg_show(ns0, 'wg0', 'transfer')).split('\n').map((x) => Number(x.split('\t')[2]));
		st.same(tx, [0, 0, 0, 0, 0, 0, 0], 'no peer counts a byte sent');
		/* The listener did listen. */
		await ns0.udp_send('127.0.0.1', 1111, 'X');
		st.ok(await wait_until(() => datagrams(l).length === 1, 5_000), 'a datagram sent by hand arrives');
		await l.stop();
	});
});

/*
 * "saddr routing is sticky but not too sticky": veth1 (ns1) -- veth2
 * (ns2), interfaces and sockets in ns1 and ns2.
 *
 * Replying from the address the peer sent to needs the receiving
 * address of each datagram (IP_PKTINFO / IPV6_PKTINFO) kept with the
 * endpoint and used as the source when sending; "not too sticky" needs
 * it forgotten when the host's addresses or routes change (an address
 * gone, a better route with another source).
 */
t.test('netns.sh: source addresses, sticky but not too sticky', async (t) => {
	if (!require_progs(t, ['wg', 'ping']))
		return;
	const lab = new Lab(t, 'nsa');
	const ns1 = lab.host('ns1');
	const ns2 = lab.host('ns2');
	const [k1, k2] = [keypair(), keypair()];
	for (const [h, ifname, n, me, peer] of [[ns1, 'wg1', 1, k1, k2], [ns2, 'wg2', 2, k2, k1]] as const) {
		await h.check(['wg-userspace', ifname]);
		lab.addr(h, ifname, `192.168.241.${n}/24`);
		h.write('key', `${me.priv}\n`);
		await h.check(['wg', 'set', ifname, 'private-key', './key', 'listen-port', String(n),
		    'peer', peer.pub, 'allowed-ips', `192.168.241.${3 - n}/32`]);
	}
	lab.veth(ns1, ns2, 'veth1', 'veth2');
	ns1.sysctl({ 'net.ipv4.conf.veth1.promote_secondaries': 1 });

	await section(t, lab, 'an address falls away: the next one is used', async () => {
		lab.addr(ns1, 'veth1', '10.0.0.1/24');
		lab.addr(ns1, 'veth1', 'fd00:aa::1/96');
		lab.addr(ns2, 'veth2', '10.0.0.2/24');
		lab.addr(ns2, 'veth2', 'fd00:aa::2/96');
		await ns1.check(['wg', 'set', 'wg1', 'peer', k2.pub, 'endpoint', '10.0.0.2:2']);
		await ping_ok(ns1, '192.168.241.2');
		lab.addr(ns1, 'veth1', '10.0.0.10/24');
		lab.del_addr(ns1, 'veth1', '10.0.0.1/24');
		await ping_ok(ns1, '192.168.241.2', { msg: 'after 10.0.0.1 went' });
		await ns1.check(['wg', 'set', 'wg1', 'peer', k2.pub, 'endpoint', '[fd00:aa::2]:2']);
		await ping_ok(ns1, '192.168.241.2');
		lab.addr(ns1, 'veth1', 'fd00:aa::10/96');
		lab.del_addr(ns1, 'veth1', 'fd00:aa::1/96');
		await ping_ok(ns1, '192.168.241.2', { msg: 'after fd00:aa::1 went' });
	});

	await section(t, lab, 'replies leave from the address the peer sent to', async (st) => {
		ns1.ip('addr', 'flush', 'dev', 'veth1');
		ns2.ip('addr', 'flush', 'dev', 'veth2');
		for (const a of ['10.0.0.1/24', '10.0.0.2/24', 'fd00:aa::1/96', 'fd00:aa::2/96'])
			lab.addr(ns1, 'veth1', a);
		lab.addr(ns2, 'veth2', '10.0.0.3/24');
		lab.addr(ns2, 'veth2', 'fd00:aa::3/96');
		for (const ep of ['10.0.0.1:1', '[fd00:aa::1]:1', '10.0.0.2:1', '[fd00:aa::2]:1']) {
			await ns2.check(['wg', 'set', 'wg2', 'peer', k1.pub, 'endpoint', ep]);
			await ping_ok(ns2, '192.168.241.1');
			st.equal(await wg_show(ns2, 'wg2', 'endpoints'), `${k1.pub}\t${ep}`, `ns2 still sees ${ep}`);
		}
		/*
		 * The destination belongs to another interface than the route
		 * back (a dummy in the selftest; this kernel has no dummy
		 * module, so one end of a veth pair kept inside ns1).
		 */
		ns1.ip('link', 'add', 'dummy0', 'type', 'veth', 'peer', 'name', 'dummy0p');
		lab.addr(ns1, 'dummy0', '10.50.0.1/24');
		ns1.ip('link', 'set', 'dummy0', 'up');
		ns1.ip('link', 'set', 'dummy0p', 'up');
		ns2.ip('route', 'add', '10.50.0.0/24', 'dev', 'veth2');
		await ns2.check(['wg', 'set', 'wg2', 'peer', k1.pub, 'endpoint', '10.50.0.1:1']);
		await ping_ok(ns2, '192.168.241.1');
		st.equal(await wg_show(ns2, 'wg2', 'endpoints'), `${k1.pub}\t10.50.0.1:1`, 'ns2 still sees 10.50.0.1:1');
		ns1.ip('link', 'del', 'dummy0');
	});

	await section(t, lab, 'a better route with another source takes over', async (st) => {
		ns1.ip('addr', 'flush', 'dev', 'veth1');
		ns2.ip('addr', 'flush', 'dev', 'veth2');
		ns1.ip('route', 'flush', 'dev', 'veth1');
		ns2.ip('route', 'flush', 'dev', 'veth2');
		lab.veth(ns1, ns2, 'veth3', 'veth4');
		lab.addr(ns1, 'veth1', '10.0.0.1/24');
		lab.addr(ns2, 'veth2', '10.0.0.2/24');
		lab.addr(ns1, 'veth3', '10.0.0.3/24');
		ns1.ip('route', 'flush', 'dev', 'veth1');
		ns1.ip('route', 'flush', 'dev', 'veth3');
		ns1.ip('route', 'add', '10.0.0.0/24', 'dev', 'veth1', 'src', '10.0.0.1', 'metric', '2');
		await ns1.check(['wg', 'set', 'wg1', 'peer', k2.pub, 'endpoint', '10.0.0.2:2']);
		await ping_ok(ns1, '192.168.241.2');
		st.equal(await wg_show(ns2, 'wg2', 'endpoints'), `${k1.pub}\t10.0.0.1:1`, 'ns2 sees 10.0.0.1');
		ns1.ip('route', 'add', '10.0.0.0/24', 'dev', 'veth3', 'src', '10.0.0.3', 'metric', '1');
		ns1.sysctl({ 'net.ipv4.conf.veth1.rp_filter': 0, 'net.ipv4.conf.all.rp_filter': 0 });
		ns2.sysctl({ 'net.ipv4.conf.veth4.rp_filter': 0, 'net.ipv4.conf.all.rp_filter': 0 });
		await ping_ok(ns1, '192.168.241.2');
		st.equal(await wg_show(ns2, 'wg2', 'endpoints'), `${k1.pub}\t10.0.0.3:1`, 'ns2 now sees 10.0.0.3');
	});
});

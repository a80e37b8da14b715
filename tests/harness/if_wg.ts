// SPDX-License-Identifier: BSD-2-Clause
/*
 * NetBSD's tests/net/if_wg/common.sh, ported to the namespace harness:
 * the helpers every if_wg suite shares, with the same assertions.
 *
 * One difference worth knowing: NetBSD's ping exits 0 when at least one
 * reply was heard; Linux's ping, given both -c and -w, exits 1 unless all
 * -c replies came before the deadline.  check_ping keeps NetBSD's meaning
 * (at least one reply), so a slow first packet on a busy machine is not
 * a failure; check_ping_fail asserts that no reply came at all.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import {
	Lab, sleep, udp_re, wait_until, type BgProcess, type ExecResult, type Host, type Segment, type Capture, type TapTest,
} from './netns.js';

export { udp_re };

/* generate_fixed_test_keys (common.sh) */
export const key_priv_local = 'uGXXwmh7Zz6QW3h6axZEGsmVmrwOyfB9VStCnpewgHQ=';
export const key_pub_local = 'fdkPmFWHfpIwRavRLWuyzmBOOrKxT6KKLgqVb1g5LhY=';
export const key_priv_peer = 'aB2LjrvY4AnimcBR2mLCVeeHx3bUfX7dCWKOkSHU7lE=';
export const key_pub_peer = '0qqR7Z9K5SABuENaSd7MIBb+y6BReMJUE9L2qBz2rWk=';

/* The 12 low-order Curve25519 points of t_basic 1.10 (x-coordinates, some non-canonical). */
export const badkeys: readonly string[] = [
	'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
	'AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
	'4Ot6fDtBuK4WVuP68Z/EatoJjeucMrH9hmIFFl9JuAA=',
	'X5yVvKNQjCSx0LFVnIPvWwREXMRYHI6G2CJO3dCfEVc=',
	'7P///////////////////////////////////////38=',
	'7f///////////////////////////////////////38=',
	'7v///////////////////////////////////////38=',
	'zet6fDtBuK4WVuP68Z/EatoJjeucMrH9hmIFFl9JuIA=',
	'TJyVvKNQjCSx0LFVnIPvWwREXMRYHI6G2CJO3dCfEdc=',
	'2f////////////////////////////////////////8=',
	'2v////////////////////////////////////////8=',
	'2/////////////////////////////////////////8=',
];

export const WG_PORT = 51820;

/* A key pair made by wireguard-tools' wg(8), an implementation independent of ours. */
export interface Pair {
	priv: string;
	pub: string;
}

export function wg_tool(args: string[], input?: string): string {
	const r = spawnSync('wg', args, { input, encoding: 'utf8' });
	if (r.status !== 0)
		throw new Error(`wg ${args.join(' ')}: ${r.stderr}`);
	return r.stdout.trim();
}

export function keypair(): Pair {
	const priv = wg_tool(['genkey']);
	return { priv, pub: wg_tool(['pubkey'], `${priv}\n`) };
}

export type Proto = 'inet' | 'inet6';

export interface Keys {
	key_priv_local: string;
	key_pub_local: string;
	key_priv_peer: string;
	key_pub_peer: string;
}

export const fixed_keys: Keys = { key_priv_local, key_pub_local, key_priv_peer, key_pub_peer };

function re_escape(s: string): string {
	return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/* setup_servers: two stacks, LOCAL and PEER, with shmif0 on one bus. */
export function setup_servers(t: TapTest, prefix = 'wg'): { lab: Lab; local: Host; peer: Host; bus: Segment } {
	const lab = new Lab(t, prefix);
	const local = lab.host('local');
	const peer = lab.host('peer');
	const bus = lab.segment('bus', [local, peer]);
	return { lab, local, peer, bus };
}

/* setup_common (net_common.sh): an outer address on a segment interface. */
export function setup_common(h: Host, ifname: string, ip: string, prefix: number): void {
	h.lab.addr(h, ifname, `${ip}/${prefix}`);
}

/*
 * setup_wg_common IF PROTO IP PREFIX PORT PRIVKEY: create, address,
 * private key through a file, listen port, up; then the two assertions.
 */
export async function setup_wg_common(h: Host, ifname: string, proto: Proto, ip: string, prefix: number,
    port: number, privkey: string): Promise<void> {
	const t = h.lab.t;
	await h.check(['ifconfig', ifname, 'create']);
	await h.check(['ifconfig', ifname, proto, `${ip}/${prefix}`]);
	h.write('tmp', `${privkey}\n`);
	await h.check(['wgconfig', ifname, 'set', 'private-key', './tmp']);
	await h.check(['wgconfig', ifname, 'set', 'listen-port', String(port)]);
	h.remove('tmp');
	await h.check(['ifconfig', ifname, 'up']);

	const all = await h.check(['wgconfig', ifname]);
	t.match(all.stdout, new RegExp(`listen-port: ${port}$`, 'm'), `${h.name}: ${ifname} listen-port: ${port}`);
	const pk = await h.check(['wgconfig', ifname, 'show', 'private-key']);
	t.match(pk.stdout, new RegExp(`private-key: ${re_escape(privkey)}`), `${h.name}: ${ifname} private-key`);
}

/*
 * add_peer IF NAME PUBKEY ENDPOINT AIPS [PSKFILE PSK]: add, then assert
 * `show peer` echoes the allowed IPs as given and the PSK (or none).
 * An empty endpoint adds the peer without one (wg_mobility).
 */
export async function add_peer(h: Host, ifname: string, peername: string, key: string, endpoint: string,
    allowedips: string, pskfile?: string, psk?: string): Promise<void> {
	const t = h.lab.t;
	const args = ['wgconfig', ifname, 'add', 'peer', peername, key];
	if (endpoint !== '')
		args.push(`--endpoint=${endpoint}`);
	args.push(`--allowed-ips=${allowedips}`);
	if (pskfile !== undefined)
		args.push(`--preshared-key=${pskfile}`);
	await h.check(args);

	const show = await h.check(['wgconfig', ifname, 'show', 'peer', peername]);
	t.match(show.stdout, new RegExp(`allowed-ips: ${re_escape(allowedips)}$`, 'm'),
	    `${h.name}: ${peername} allowed-ips: ${allowedips}`);
	const showpsk = await h.check(['wgconfig', ifname, 'show', 'peer', peername, '--show-preshared-key']);
	if (psk !== undefined)
		t.match(showpsk.stdout, new RegExp(`preshared-key: ${re_escape(psk)}`), `${h.name}: ${peername} preshared-key`);
	else
		t.match(showpsk.stdout, /preshared-key: \(none\)/, `${h.name}: ${peername} preshared-key: (none)`);
}

/* delete_peer IF NAME: delete, then `wgconfig IF` no longer lists it. */
export async function delete_peer(h: Host, ifname: string, peername: string): Promise<void> {
	await h.check(['wgconfig', ifname, 'delete', 'peer', peername]);
	const all = await h.check(['wgconfig', ifname]);
	h.lab.t.notMatch(all.stdout, new RegExp(`\\tpeer: ${re_escape(peername)}$`, 'm'),
	    `${h.name}: peer ${peername} is gone`);
}

export interface PingOptions {
	count?: number;		/* -c, default 3 */
	interval?: string;	/* -i, default 0.1 */
	wait?: number;		/* -w deadline in seconds, default 1 */
	size?: number;		/* -s */
	msg?: string;
}

function ping_argv(ip: string, o: PingOptions): string[] {
	const argv = ['ping'];
	if (ip.includes(':'))
		argv.push('-6');
	argv.push('-n');
	if (o.interval !== undefined)
		argv.push('-i', o.interval);
	argv.push('-c', String(o.count ?? 1), '-w', String(o.wait ?? 1));
	if (o.size !== undefined)
		argv.push('-s', String(o.size));
	argv.push(ip);
	return argv;
}

/* How many replies a ping run heard, from its summary line. */
export function ping_received(r: ExecResult): number {
	const m = /(\d+) (?:packets )?received/.exec(r.stdout);
	return m ? Number(m[1]) : 0;
}

/* check_ping: `ping -n -i 0.1 -c 3 -w 1`, at least one reply (NetBSD's ping exit 0). */
export async function check_ping(h: Host, ip: string, o: PingOptions = {}): Promise<ExecResult> {
	const argv = ping_argv(ip, { interval: '0.1', count: 3, wait: 1, ...o });
	const r = await h.exec(argv, { timeout: ((o.wait ?? 1) + 10) * 1000 });
	h.lab.t.ok(ping_received(r) > 0, o.msg ?? `${r.cmd} gets a reply`, { stdout: r.stdout, stderr: r.stderr });
	return r;
}

/* check_ping_fail: `ping -n -c 1 -w 1` hears nothing and exits non-zero. */
export async function check_ping_fail(h: Host, ip: string, o: PingOptions = {}): Promise<ExecResult> {
	const argv = ping_argv(ip, { count: 1, wait: 1, ...o });
	const r = await h.exec(argv, { timeout: ((o.wait ?? 1) + 10) * 1000 });
	h.lab.t.ok(r.code > 0 && ping_received(r) === 0, o.msg ?? `${r.cmd} gets no reply`,
	    { code: r.code, stdout: r.stdout, stderr: r.stderr });
	return r;
}

/* generate_keys: two fresh pairs from wg-keygen and wg-keygen --pub. */
export async function generate_keys(h: Host): Promise<Keys> {
	const pair = async (): Promise<[string, string]> => {
		const priv = (await h.check(['wg-keygen'])).stdout.trim();
		const pub = (await h.check(['wg-keygen', '--pub'], { input: `${priv}\n` })).stdout.trim();
		h.lab.t.match(priv, /^[A-Za-z0-9+/]{43}=$/, 'wg-keygen prints a base64 key');
		h.lab.t.match(pub, /^[A-Za-z0-9+/]{43}=$/, 'wg-keygen --pub prints a base64 key');
		return [priv, pub];
	};
	const [key_priv_local, key_pub_local] = await pair();
	const [key_priv_peer, key_pub_peer] = await pair();
	return { key_priv_local, key_pub_local, key_priv_peer, key_pub_peer };
}

/* destroy_wg_interfaces: `ifconfig wg0 destroy` succeeds on every stack. */
export async function destroy_wg_interfaces(...hosts: Host[]): Promise<void> {
	for (const h of hosts)
		await h.check(['ifconfig', 'wg0', 'destroy']);
}

/* rump.sysctl -w net.wg.NAME=VALUE, on the namespace's kernel instance 0. */
export async function wg_sysctl(h: Host, name: string, value: number | string): Promise<void> {
	await h.check(['wg-userspace', '0', 'sysctl', '-w', `net.wg.${name}=${value}`]);
}

/* The latest-handshake text of `wgconfig IF show peer NAME`, or null if absent. */
export async function latest_handshake(h: Host, ifname: string, peername: string): Promise<string | null> {
	const r = await h.exec(['wgconfig', ifname, 'show', 'peer', peername]);
	const m = /latest-handshake: (.*)$/m.exec(r.stdout);
	return m ? m[1].trim() : null;
}

/* NetBSD endpoint text: IPv6 in the bare "addr:port" form NetBSD's tests use. */
export function endpoint(ip: string, port: number): string {
	return `${ip}:${port}`;
}

/*
 * The default two-stack topology of t_basic's test_common and t_misc:
 * outer 192.168.1.1/.2 (fc00::1/::2), inner wg0 10.0.0.1/.2 (fd00::1/::2),
 * port 51820 on both, each side's peer0 = the other.
 */
export interface Topology {
	lab: Lab;
	local: Host;
	peer: Host;
	bus: Segment;
	cap: Capture | null;
	keys: Keys;
	outer: Proto;
	inner: Proto;
	ip_local: string;
	ip_peer: string;
	ip_wg_local: string;
	ip_wg_peer: string;
	outer_prefix: number;
	inner_prefix: number;
	inner_prefixall: number;
}

export interface TopologyOptions {
	inner?: Proto;
	outer?: Proto;
	keys?: Keys | 'random';
	capture?: boolean;
	/* LOCAL's peer0 gets no endpoint (wg_mobility). */
	local_no_endpoint?: boolean;
	/* Sysctls set on both stacks after creating wg0 and before adding peers. */
	sysctl?: Record<string, number>;
	/* LOCAL's peer0 public key instead of PEER's real one (wg_badpeerkey). */
	local_peer_key?: string;
	prefix?: string;
}

export function addresses(outer: Proto, inner: Proto): Pick<Topology, 'ip_local' | 'ip_peer' | 'ip_wg_local' |
    'ip_wg_peer' | 'outer_prefix' | 'inner_prefix' | 'inner_prefixall'> {
	return {
		ip_local: outer === 'inet' ? '192.168.1.1' : 'fc00::1',
		ip_peer: outer === 'inet' ? '192.168.1.2' : 'fc00::2',
		outer_prefix: outer === 'inet' ? 24 : 64,
		ip_wg_local: inner === 'inet' ? '10.0.0.1' : 'fd00::1',
		ip_wg_peer: inner === 'inet' ? '10.0.0.2' : 'fd00::2',
		inner_prefix: inner === 'inet' ? 24 : 64,
		inner_prefixall: inner === 'inet' ? 32 : 128,
	};
}

export async function setup_topology(t: TapTest, o: TopologyOptions = {}): Promise<Topology> {
	const outer = o.outer ?? 'inet';
	const inner = o.inner ?? 'inet';
	const { lab, local, peer, bus } = setup_servers(t, o.prefix ?? 'wg');
	const a = addresses(outer, inner);
	const cap = o.capture ? await lab.capture(bus) : null;
	const keys = o.keys === 'random' ? await generate_keys(local) : (o.keys ?? fixed_keys);

	setup_common(local, 'shmif0', a.ip_local, a.outer_prefix);
	setup_common(peer, 'shmif0', a.ip_peer, a.outer_prefix);
	/* The two stacks are independent until peers exist: configure them side by side. */
	const side = async (h: Host, ip: string, priv: string): Promise<void> => {
		await setup_wg_common(h, 'wg0', inner, ip, a.inner_prefix, WG_PORT, priv);
		for (const [name, value] of Object.entries(o.sysctl ?? {}))
			await wg_sysctl(h, name, value);
	};
	await Promise.all([
		side(local, a.ip_wg_local, keys.key_priv_local),
		side(peer, a.ip_wg_peer, keys.key_priv_peer),
	]);
	await Promise.all([
		add_peer(local, 'wg0', 'peer0', o.local_peer_key ?? keys.key_pub_peer,
		    o.local_no_endpoint ? '' : endpoint(a.ip_peer, WG_PORT), `${a.ip_wg_peer}/${a.inner_prefixall}`),
		add_peer(peer, 'wg0', 'peer0', keys.key_pub_local, endpoint(a.ip_local, WG_PORT),
		    `${a.ip_wg_local}/${a.inner_prefixall}`),
	]);
	return { lab, local, peer, bus, cap, keys, outer, inner, ...a };
}

export const PROTOS: readonly Proto[] = ['inet', 'inet6'];

/* NetBSD case-name part: inet -> ipv4, inet6 -> ipv6. */
export function ipv(p: Proto): string {
	return p === 'inet' ? 'ipv4' : 'ipv6';
}

/*
 * Sends `bytes` random bytes over TCP from src to dst_addr:port (a
 * one-shot server on dst); asserts both ends finished and the sha256
 * and byte count match.  The rate is printed, never asserted.
 */
export async function tcp_transfer(src: Host, dst: Host, dst_addr: string, port: number, bytes: number): Promise<void> {
	const t = src.lab.t;
	const srv = await dst.tcp_serve(port);
	const start = Date.now();
	const sent = await src.tcp_send(dst_addr, port, { random: bytes });
	const got = await srv.wait(60_000);
	const ms = Date.now() - start;
	t.equal(sent.code, 0, `${src.name} -> ${dst.name}: sender finished`, { stderr: sent.stderr });
	t.equal(got.code, 0, `${src.name} -> ${dst.name}: receiver finished`, { stderr: got.stderr });
	const s = JSON.parse(sent.stdout || '{}') as { bytes?: number; sha256?: string };
	const r = JSON.parse(got.stdout.split('\n')[1] || '{}') as { bytes?: number; sha256?: string };
	t.equal(r.bytes, bytes, `${dst.name} received ${bytes} bytes`);
	t.equal(r.sha256, s.sha256, 'sha256 matches on both ends');
	t.comment(`${src.name} -> ${dst.name}: ${bytes} bytes in ${ms} ms `
	    + `(${((bytes * 8) / (ms * 1000)).toFixed(0)} Mbit/s, process start included)`);
}

/* Debian's wireguard-go in the foreground on h, once its UAPI socket is there. */
export async function wggo_start(h: Host, ifname: string): Promise<BgProcess> {
	const t = h.lab.t;
	const bg = h.spawn(['wireguard-go', '-f', ifname], { env: { LOG_LEVEL: 'error' } });
	const sock = join(h.rundir, `${ifname}.sock`);
	const up = await wait_until(() => existsSync(sock) || !bg.running, 10_000);
	t.ok(up && bg.running, `${h.name}: wireguard-go ${ifname} is running`, { stderr: bg.stderr, stdout: bg.stdout });
	return bg;
}

/* Configures a running wireguard-go with wg(8) and ip(8): one peer, one address, up. */
export async function wggo_setup(h: Host, ifname: string, o: { priv: string; peer_pub: string;
    endpoint?: string; allowed: string; addr: string; port: number }): Promise<void> {
	h.write(`${ifname}.key`, `${o.priv}\n`);
	const args = ['wg', 'set', ifname, 'private-key', `./${ifname}.key`, 'listen-port', String(o.port),
	    'peer', o.peer_pub, 'allowed-ips', o.allowed];
	if (o.endpoint !== undefined)
		args.push('endpoint', o.endpoint);
	await h.check(args);
	await h.check(['ip', 'addr', 'add', o.addr, 'dev', ifname]);
	await h.check(['ip', 'link', 'set', ifname, 'up']);
	const show = await h.check(['wg', 'show', ifname, 'listen-port']);
	h.lab.t.equal(show.stdout.trim(), String(o.port), `${h.name}: ${ifname} listens on ${o.port}`);
}

/* One UAPI exchange on a socket path; the whole reply. */
export function uapi(path: string, request: string): Promise<string> {
	return new Promise((resolve, reject) => {
		const s = connect({ path });
		let out = '';
		s.setEncoding('utf8');
		s.on('data', (d: string) => {
			out += d;
			if (out.endsWith('\n\n')) {
				s.end();
				resolve(out);
			}
		});
		s.on('error', reject);
		s.on('close', () => resolve(out));
		s.write(request);
	});
}

/* The wg-userspace kernel daemon of a host (one per namespace). */
export function daemon_pid(h: Host): number | null {
	const r = spawnSync('ip', ['netns', 'pids', h.ns], { encoding: 'utf8' });
	for (const s of (r.stdout ?? '').split(/\s+/)) {
		if (s === '')
			continue;
		try {
			if (readFileSync(`/proc/${s}/cmdline`, 'utf8').includes('wg-userspace.js\u00000\u0000--kernel'))
				return Number(s);
		} catch {
			/* exited */
		}
	}
	return null;
}

function fd_count(pid: number): number {
	return readdirSync(`/proc/${pid}/fd`).length;
}

/*
 * The daemon's descriptors once they hold still (two equal counts 300 ms
 * apart): a shim connection of the command that just returned may still
 * be closing.
 */
export async function fd_settled(pid: number): Promise<number> {
	let n = fd_count(pid);
	for (let i = 0; i < 20; i++) {
		await sleep(300);
		const m = fd_count(pid);
		if (m === n)
			return n;
		n = m;
	}
	return n;
}

/*
 * Waits until no warm-up (sys/net/if_wg_warm.ts) runs on h: its sockets
 * are the only UDP ones bound to loopback.  False after 20 s.
 */
export async function warmups_done(h: Host): Promise<boolean> {
	return wait_until(async () => !/127\.0\.0\.1:|\[::1\]:/.test((await h.check(['ss', '-Hun', '-a'])).stdout),
	    20_000, 100);
}

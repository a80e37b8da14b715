// SPDX-License-Identifier: BSD-2-Clause
/*
 * The tunnel between two network namespaces on a veth pair (MTU 1420
 * inside), ours against Debian's wireguard-go on the same topology in
 * the same run, so the ratios mean something on a shared machine.  Per
 * implementation and round:
 *
 *  - RTT idle: ping, median and p99, in the fresh tunnel (just after the
 *    handshake) and again after the load tests ("warm").  They differ for
 *    ours: V8 runs the data path in its interpreter and baseline tiers
 *    until it has carried some thousands of packets, so the fresh figure
 *    is a new tunnel's and the warm one a tunnel's that has been used;
 *  - TCP, 1 stream (iperf3), with RTT under load (ping beside it), CPU
 *    seconds per GB moved at each end (utime + stime of the tunnel's
 *    process from /proc) and its peak RSS (VmHWM);
 *  - TCP, 4 streams;
 *  - UDP at a fixed offered load, with the loss.
 *
 * Ours runs four times: offloads on (the default) and off (net.wg.tun_offload,
 * udp_gso, udp_gro = 0), and with 1 and 2 crypto threads beside each
 * data path (net.wg.crypto_workers, "ours_crypto_workers_N").  Rounds alternate the order; the summary gives
 * medians over rounds and the ratios of the medians.  Needs root, iperf3
 * and wireguard-go.
 *
 *   node obj/tests/bench/b_tunnel.js [seconds] [rounds] [udp Mbit/s]
 *
 * With B_TUNNEL_BASE_BIN=<another build's obj/bin>, that build runs too,
 * as "base" (a before/after comparison in one run); with B_TUNNEL_LEVERS=1
 * each offload runs alone as well; with B_TUNNEL_RCVBUF=<bytes>, ours with
 * that net.wg.udp_rcvbuf as "ours_rcvbuf".  B_TUNNEL_IMPLS=<name,...>
 * runs only those implementations (e.g. "ours,wireguard-go").
 *
 * B_TUNNEL_RTT=1 measures the idle RTT rows alone, quickly: per round and
 * implementation a fresh tunnel's 50 pings, then [seconds] of one TCP
 * stream to use it, then 50 pings again ("warm"); more rounds make sense
 * here (e.g. `B_TUNNEL_RTT=1 node obj/tests/bench/b_tunnel.js 1 9`).
 * Each round also gives fresh_ping_at_s, how long after the setup began
 * the fresh pings did (the warm-up's 4 s budget runs from the interface's
 * creation, early in the setup).
 */

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin');
const secs = Number(process.argv[2] ?? 5);
const rounds = Number(process.argv[3] ?? 3);
const udp_mbps = Number(process.argv[4] ?? 300);
const tag = `bt${process.pid % 10000}`;
const NS = [`${tag}a`, `${tag}b`];
const tmp = mkdtempSync(join(tmpdir(), 'b_tunnel-'));
const CLK_TCK = 100;

/* The build whose commands set the tunnel up. */
let bin = BIN;

function sh(cmd: string[], ns?: string): string {
	const argv = ns !== undefined ? ['ip', 'netns', 'exec', ns, ...cmd] : cmd;
	return execFileSync(argv[0], argv.slice(1), {
		encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
		maxBuffer: 16 << 20,
	});
}

/* Runs cmd in ns in the background; resolves to its standard output when it exits. */
function bg(cmd: string[], ns: string): Promise<string> {
	const p = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'pipe', 'ignore'] });
	let out = '';
	p.stdout.setEncoding('utf8');
	p.stdout.on('data', (d: string) => { out += d; });
	return new Promise((res) => p.on('close', () => res(out)));
}

function quiet(cmd: string[], ns?: string): void {
	try {
		sh(cmd, ns);
	} catch {
		/* teardown: best effort */
	}
}

function keypair(): { priv: string; pub: string } {
	const priv = execFileSync('wg', ['genkey'], { encoding: 'utf8' }).trim();
	const pub = execFileSync('wg', ['pubkey'], { input: priv + '\n', encoding: 'utf8' }).trim();
	return { priv, pub };
}

function topology(): void {
	for (const ns of NS) {
		quiet(['ip', 'netns', 'del', ns]);
		sh(['ip', 'netns', 'add', ns]);
		sh(['ip', 'link', 'set', 'lo', 'up'], ns);
	}
	sh(['ip', 'link', 'add', `${tag}v0`, 'type', 'veth', 'peer', 'name', `${tag}v1`]);
	NS.forEach((ns, i) => {
		sh(['ip', 'link', 'set', `${tag}v${i}`, 'netns', ns]);
		sh(['ip', 'addr', 'add', `192.168.77.${i + 1}/24`, 'dev', `${tag}v${i}`], ns);
		sh(['ip', 'link', 'set', `${tag}v${i}`, 'up'], ns);
	});
}

function ns_pids(ns: string): number[] {
	try {
		return sh(['ip', 'netns', 'pids', ns]).split(/\s+/).filter((s) => s !== '').map(Number);
	} catch {
		return [];
	}
}

function teardown(): void {
	for (const ns of NS) {
		quiet(['wg-userspace', '0', 'destroy'], ns);
		for (const p of ns_pids(ns))
			quiet(['kill', '-9', String(p)]);
		quiet(['ip', 'netns', 'del', ns]);
	}
	/* wireguard-go killed with -9 leaves its UAPI socket file behind. */
	for (let i = 0; i < NS.length; i++)
		rmSync(`/var/run/wireguard/${tag}g${i}.sock`, { force: true });
}

/* set: net.wg tunables to write before the interface is made ("udp_gso=0"). */
function ours(set: string[], from = BIN): () => void {
	return () => {
		bin = from;
		const k = [keypair(), keypair()];
		NS.forEach((ns, i) => {
			const keyf = join(tmp, `k${i}`);
			writeFileSync(keyf, k[i].priv + '\n', { mode: 0o600 });
			sh(['wg-userspace', '0', 'create'], ns);
			if (set.length > 0)
				sh(['wg-userspace', '0', 'sysctl', '-w', ...set.map((n) => `net.wg.${n}`)], ns);
			sh(['ifconfig', 'wg0', 'create'], ns);
			sh(['ifconfig', 'wg0', 'inet', `10.77.0.${i + 1}/24`], ns);
			sh(['wgconfig', 'wg0', 'set', 'private-key', keyf], ns);
			sh(['wgconfig', 'wg0', 'set', 'listen-port', '51820'], ns);
			sh(['wgconfig', 'wg0', 'add', 'peer', 'peer0', k[1 - i].pub,
			    `--endpoint=192.168.77.${2 - i}:51820`, `--allowed-ips=10.77.0.${2 - i}/32`], ns);
		});
	};
}

function wggo(): void {
	const k = [keypair(), keypair()];
	NS.forEach((ns, i) => {
		const ifn = `${tag}g${i}`;
		const keyf = join(tmp, `g${i}`);
		writeFileSync(keyf, k[i].priv + '\n', { mode: 0o600 });
		sh(['wireguard-go', ifn], ns);
		sh(['wg', 'set', ifn, 'private-key', keyf, 'listen-port', '51820', 'peer', k[1 - i].pub,
		    'endpoint', `192.168.77.${2 - i}:51820`, 'allowed-ips', `10.77.0.${2 - i}/32`], ns);
		sh(['ip', 'addr', 'add', `10.77.0.${i + 1}/24`, 'dev', ifn], ns);
		sh(['ip', 'link', 'set', ifn, 'mtu', '1420', 'up'], ns);
	});
}

/* utime + stime of a process, in seconds; its peak RSS in bytes. */
function cpu_of(pid: number): number {
	try {
		const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
		const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
		return (Number(f[11]) + Number(f[12])) / CLK_TCK;
	} catch {
		return 0;
	}
}

function hwm_of(pid: number): number {
	try {
		const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
		return m === null ? 0 : Number(m[1]) * 1024;
	} catch {
		return 0;
	}
}

/* ping's per-packet times: median and p99 in ms. */
function rtt_stats(out: string): { median: number; p99: number } {
	const t = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
	if (t.length === 0)
		return { median: NaN, p99: NaN };
	const q = (p: number) => t[Math.min(t.length - 1, Math.floor(p * t.length))];
	return { median: q(0.5), p99: q(0.99) };
}

const ping = (count: number, ns: string) => bg(['ping', '-c', String(count), '-i', '0.02', '-W', '1', '10.77.0.2'], ns);

async function iperf(args: string[]): Promise<Record<string, unknown>> {
	const server = spawn('ip', ['netns', 'exec', NS[1], 'iperf3', '-s', '-1', '-B', '10.77.0.2'], { stdio: 'ignore' });
	try {
		await new Promise((r) => setTimeout(r, 300));
		const out = await bg(['iperf3', '-c', '10.77.0.2', '-t', String(secs), '-J', ...args], NS[0]);
		return JSON.parse(out) as Record<string, unknown>;
	} finally {
		server.kill();
		await new Promise((r) => setTimeout(r, 200));
	}
}

type Result = Record<string, number>;

const rtt_only = process.env.B_TUNNEL_RTT === '1';

async function measure(setup: () => void): Promise<Result> {
	topology();
	try {
		bin = BIN;
		const t0 = performance.now();
		setup();
		/* The tunnel's own processes: what runs in the namespaces before any tool does. */
		const pids = NS.map((ns) => ns_pids(ns));
		sh(['ping', '-c', '2', '-i', '0.2', '-w', '5', '10.77.0.2'], NS[0]);
		const r: Result = {};
		const fresh_at = (performance.now() - t0) / 1000;
		const idle = rtt_stats(await ping(50, NS[0]));
		r.rtt_idle_median_ms = idle.median;
		r.rtt_idle_p99_ms = idle.p99;
		if (rtt_only) {
			r.fresh_ping_at_s = fresh_at;
			await iperf([]);
			const warm = rtt_stats(await ping(50, NS[0]));
			r.rtt_idle_warm_median_ms = warm.median;
			r.rtt_idle_warm_p99_ms = warm.p99;
			return r;
		}

		const cpu0 = pids.map((ps) => ps.reduce((a, p) => a + cpu_of(p), 0));
		const loaded = ping(Math.max(1, Math.floor((secs - 1) / 0.02)), NS[0]);
		const tcp1 = await iperf([]) as { end: { sum_received: { bits_per_second: number; bytes: number } } };
		const under = rtt_stats(await loaded);
		const cpu1 = pids.map((ps) => ps.reduce((a, p) => a + cpu_of(p), 0));
		const gb = tcp1.end.sum_received.bytes / 1e9;
		r.tcp1_mbps = tcp1.end.sum_received.bits_per_second / 1e6;
		r.rtt_load_median_ms = under.median;
		r.rtt_load_p99_ms = under.p99;
		r.cpu_s_per_gb_sender = (cpu1[0] - cpu0[0]) / gb;
		r.cpu_s_per_gb_receiver = (cpu1[1] - cpu0[1]) / gb;

		const tcp4 = await iperf(['-P', '4']) as { end: { sum_received: { bits_per_second: number } } };
		r.tcp4_mbps = tcp4.end.sum_received.bits_per_second / 1e6;

		const udp = await iperf(['-u', '-b', `${udp_mbps}M`, '-l', '1372']) as
		    { end: { sum: { bits_per_second: number; lost_percent: number } } };
		r.udp_offered_mbps = udp_mbps;
		r.udp_mbps = udp.end.sum.bits_per_second * (1 - udp.end.sum.lost_percent / 100) / 1e6;
		r.udp_loss_percent = udp.end.sum.lost_percent;
		r.peak_rss_mb = Math.max(...pids.flat().map(hwm_of)) / (1 << 20);

		const warm = rtt_stats(await ping(50, NS[0]));
		r.rtt_idle_warm_median_ms = warm.median;
		r.rtt_idle_warm_p99_ms = warm.p99;
		return r;
	} finally {
		teardown();
	}
}

function median(v: number[]): number {
	const s = v.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
	if (s.length === 0)
		return NaN;
	const m = s.length >> 1;
	return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const UNITS: Record<string, string> = {
	tcp1_mbps: 'Mbit/s', tcp4_mbps: 'Mbit/s', udp_mbps: 'Mbit/s', udp_offered_mbps: 'Mbit/s',
	udp_loss_percent: '%', rtt_idle_median_ms: 'ms', rtt_idle_p99_ms: 'ms', rtt_idle_warm_median_ms: 'ms',
	rtt_idle_warm_p99_ms: 'ms', rtt_load_median_ms: 'ms',
	rtt_load_p99_ms: 'ms', fresh_ping_at_s: 's', cpu_s_per_gb_sender: 's/GB', cpu_s_per_gb_receiver: 's/GB', peak_rss_mb: 'MiB',
};
const round2 = (x: number) => Math.round(x * 100) / 100;

process.on('exit', () => {
	teardown();
	rmSync(tmp, { recursive: true, force: true });
});
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

const ALL = ['tun_offload=0', 'udp_gso=0', 'udp_gro=0'];
const impls: Array<[string, () => void]> = [
	['ours', ours([])], ['wireguard-go', wggo], ['ours_no_offload', ours(ALL)],
	['ours_crypto_workers_1', ours(['crypto_workers=1'])], ['ours_crypto_workers_2', ours(['crypto_workers=2'])],
];
/* B_TUNNEL_LEVERS=1: each offload on its own too. */
if (process.env.B_TUNNEL_LEVERS === '1')
	impls.push(['ours_tun_offload_only', ours(['udp_gso=0', 'udp_gro=0'])], ['ours_udp_gso_gro_only', ours(['tun_offload=0'])]);
/* B_TUNNEL_RCVBUF=<bytes>: ours with that net.wg.udp_rcvbuf too (the queue, and RTT, under load). */
const rcvbuf = process.env.B_TUNNEL_RCVBUF;
if (rcvbuf !== undefined && rcvbuf !== '')
	impls.push(['ours_rcvbuf', ours([`udp_rcvbuf=${Number(rcvbuf)}`])]);
const base = process.env.B_TUNNEL_BASE_BIN;
if (base !== undefined && base !== '')
	impls.push(['base', ours([], resolve(base))]);
/* B_TUNNEL_IMPLS=<name,...>: those alone. */
const only = process.env.B_TUNNEL_IMPLS;
if (only !== undefined && only !== '') {
	const keep = new Set(only.split(','));
	impls.splice(0, impls.length, ...impls.filter(([n]) => keep.has(n)));
}
const all: Record<string, Result[]> = {};
for (let r = 0; r < rounds; r++) {
	/* Rotate the order so no implementation always runs on a warmer or quieter machine. */
	for (let k = 0; k < impls.length; k++) {
		const [name, setup] = impls[(k + r) % impls.length];
		const res = await measure(setup);
		(all[name] ??= []).push(res);
		for (const [metric, value] of Object.entries(res))
			console.log(JSON.stringify({ bench: 'tunnel', impl: name, round: r, metric, value: round2(value), unit: UNITS[metric] }));
	}
}
const med: Record<string, Result> = {};
for (const [name, rs] of Object.entries(all)) {
	med[name] = {};
	for (const metric of Object.keys(rs[0])) {
		med[name][metric] = median(rs.map((x) => x[metric]));
		console.log(JSON.stringify({ bench: 'tunnel', impl: name, stat: 'median', rounds, metric,
		    value: round2(med[name][metric]), unit: UNITS[metric] }));
	}
}
for (const name of Object.keys(med).filter((n) => n !== 'wireguard-go'))
	for (const metric of ['tcp1_mbps', 'tcp4_mbps', 'udp_mbps', 'rtt_idle_median_ms', 'rtt_idle_warm_median_ms', 'rtt_load_median_ms',
	    'rtt_load_p99_ms', 'cpu_s_per_gb_sender', 'cpu_s_per_gb_receiver'].filter((m) => m in med[name] && 'wireguard-go' in med))
		console.log(JSON.stringify({ bench: 'tunnel', metric: `ratio_${metric}`, impl: name, over: 'wireguard-go',
		    value: round2(med[name][metric] / med['wireguard-go'][metric]), unit: 'x' }));

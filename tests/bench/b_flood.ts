// SPDX-License-Identifier: BSD-2-Clause
/*
 * A handshake flood against a responder, for our wg(4) and for Debian's
 * wireguard-go in the same run (issue 9 §1).  Four namespaces:
 *
 *   R  the responder: one interface, two peers (L and P), port 51820
 *   P  an established peer: its tunnel is up before the flood starts
 *   L  a legitimate peer with no session yet, which connects under the flood
 *   A  the attacker: 4 source addresses, ~75,000 type-1 messages a
 *      second with a valid mac1 and garbage inside (flood_gen.ts)
 *
 * Per run and implementation: P's ping RTT idle and under the flood, L's
 * time to its first ping reply (ping every 0.2 s from the moment the
 * flood is on), and the CPU the responder's processes used during the
 * flood, in cores, the datagrams its kernel dropped for a full socket
 * buffer, and the machine's 1-minute load average.  One JSON
 * line each, then a summary per implementation.
 * Needs root, wireguard-go and wg(8).
 *
 *   [B_FLOOD_SYSCTL="udp_rcvbuf=262144"] node obj/tests/bench/b_flood.js [runs] [rate] [ours|wireguard-go]
 *   (make flood: 10 runs of both)
 */

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const BIN = resolve(HERE, '../../bin');
const runs = Number(process.argv[2] ?? 3);
const rate = Number(process.argv[3] ?? 75000);
const only = process.argv[4];
/* B_FLOOD_SYSCTL="udp_rcvbuf=262144 ...": net.wg tunables for ours, set before its interfaces are made. */
const sysctl = (process.env.B_FLOOD_SYSCTL ?? '').split(/\s+/).filter((x) => x !== '');
const tag = `bf${process.pid % 10000}`;
const NS = { R: `${tag}r`, P: `${tag}p`, L: `${tag}l`, A: `${tag}a` };
const tmp = mkdtempSync(join(tmpdir(), 'b_flood-'));
const ATTACKERS = ['192.168.92.2', '192.168.92.3', '192.168.92.4', '192.168.92.5'];
const CLK_TCK = 100;

function sh(cmd: string[], ns?: string, env?: Record<string, string>): string {
	const argv = ns !== undefined ? ['ip', 'netns', 'exec', ns, ...cmd] : cmd;
	return execFileSync(argv[0], argv.slice(1), {
		encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
		env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, ...env },
	});
}

function quiet(cmd: string[], ns?: string): void {
	try {
		sh(cmd, ns);
	} catch {
		/* teardown: best effort */
	}
}

function ns_pids(ns: string): number[] {
	try {
		return sh(['ip', 'netns', 'pids', ns]).split(/\s+/).filter((s) => s !== '').map(Number);
	} catch {
		return [];
	}
}

/* utime + stime of every process in a namespace, in seconds. */
function ns_cpu(ns: string): number {
	let ticks = 0;
	for (const pid of ns_pids(ns)) {
		try {
			const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
			const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
			ticks += Number(rest[11]) + Number(rest[12]);
		} catch {
			/* exited */
		}
	}
	return ticks / CLK_TCK;
}

/* Datagrams the kernel dropped at the responder's UDP sockets (port 51820): a full receive buffer. */
function udp_drops(ns: string): number {
	let n = 0;
	for (const f of ['/proc/net/udp', '/proc/net/udp6']) {
		for (const line of sh(['cat', f], ns).split('\n').slice(1)) {
			const c = line.trim().split(/\s+/);
			if (c.length > 12 && c[1].endsWith(':CA6C'))
				n += Number(c[c.length - 1]);
		}
	}
	return n;
}

function keypair(): { priv: string; pub: string } {
	const priv = execFileSync('wg', ['genkey'], { encoding: 'utf8' }).trim();
	const pub = execFileSync('wg', ['pubkey'], { input: priv + '\n', encoding: 'utf8' }).trim();
	return { priv, pub };
}

/* R has one veth to each of P (.91), L (.90) and A (.92). */
function topology(): void {
	for (const ns of Object.values(NS)) {
		quiet(['ip', 'netns', 'del', ns]);
		sh(['ip', 'netns', 'add', ns]);
		sh(['ip', 'link', 'set', 'lo', 'up'], ns);
	}
	const link = (other: string, net: number, name: string) => {
		sh(['ip', 'link', 'add', `${tag}${name}0`, 'type', 'veth', 'peer', 'name', `${tag}${name}1`]);
		sh(['ip', 'link', 'set', `${tag}${name}0`, 'netns', NS.R]);
		sh(['ip', 'link', 'set', `${tag}${name}1`, 'netns', other]);
		sh(['ip', 'addr', 'add', `192.168.${net}.1/24`, 'dev', `${tag}${name}0`], NS.R);
		sh(['ip', 'link', 'set', `${tag}${name}0`, 'up'], NS.R);
		sh(['ip', 'link', 'set', `${tag}${name}1`, 'up'], other);
	};
	link(NS.L, 90, 'l');
	link(NS.P, 91, 'p');
	link(NS.A, 92, 'a');
	sh(['ip', 'addr', 'add', '192.168.90.2/24', 'dev', `${tag}l1`], NS.L);
	sh(['ip', 'addr', 'add', '192.168.91.2/24', 'dev', `${tag}p1`], NS.P);
	for (const a of ATTACKERS)
		sh(['ip', 'addr', 'add', `${a}/24`, 'dev', `${tag}a1`], NS.A);
}

function teardown(): void {
	for (const ns of Object.values(NS)) {
		quiet(['wg-userspace', '0', 'destroy'], ns);
		for (const p of ns_pids(ns))
			quiet(['kill', '-9', String(p)]);
		quiet(['ip', 'netns', 'del', ns]);
	}
	for (const f of readdirSync('/var/run/wireguard', { withFileTypes: true }).map((d) => d.name))
		if (f.startsWith(tag))
			rmSync(join('/var/run/wireguard', f), { force: true });
}

interface Node {
	ns: string;
	addr: string;		/* tunnel address */
	ep: string;		/* underlay address */
}

const R: Node = { ns: NS.R, addr: '10.90.0.1', ep: '' };
const P: Node = { ns: NS.P, addr: '10.90.0.3', ep: '192.168.91.2' };
const L: Node = { ns: NS.L, addr: '10.90.0.2', ep: '192.168.90.2' };

/* Each peer (P, L) knows R at the address on its own link; R knows neither endpoint. */
function r_ep(n: Node): string {
	return n.ep.replace(/\.2$/, '.1') + ':51820';
}

function ours(k: Record<string, { priv: string; pub: string }>): void {
	for (const n of [R, P, L]) {
		const env = { WG_UAPI_DIR: join(tmp, n.ns) };
		const keyf = join(tmp, `k${n.ns}`);
		writeFileSync(keyf, k[n.ns].priv + '\n', { mode: 0o600 });
		if (sysctl.length > 0) {
			sh(['wg-userspace', '0', 'create'], n.ns, env);
			sh(['wg-userspace', '0', 'sysctl', '-w', ...sysctl.map((x) => `net.wg.${x}`)], n.ns, env);
		}
		sh(['ifconfig', 'wg0', 'create'], n.ns, env);
		sh(['ifconfig', 'wg0', 'inet', `${n.addr}/24`], n.ns, env);
		sh(['wgconfig', 'wg0', 'set', 'private-key', keyf], n.ns, env);
		sh(['wgconfig', 'wg0', 'set', 'listen-port', '51820'], n.ns, env);
		if (n === R) {
			for (const m of [P, L])
				sh(['wgconfig', 'wg0', 'add', 'peer', `p${m.ns}`, k[m.ns].pub, `--allowed-ips=${m.addr}/32`], n.ns, env);
		} else {
			sh(['wgconfig', 'wg0', 'add', 'peer', 'r', k[R.ns].pub, `--endpoint=${r_ep(n)}`,
			    `--allowed-ips=${R.addr}/32`], n.ns, env);
		}
	}
}

function wggo(k: Record<string, { priv: string; pub: string }>): void {
	for (const n of [R, P, L]) {
		const ifn = `${tag}${n === R ? 'r' : n === P ? 'p' : 'l'}`;
		const keyf = join(tmp, `g${n.ns}`);
		writeFileSync(keyf, k[n.ns].priv + '\n', { mode: 0o600 });
		sh(['wireguard-go', ifn], n.ns);
		const peers = n === R ?
		    [P, L].flatMap((m) => ['peer', k[m.ns].pub, 'allowed-ips', `${m.addr}/32`]) :
		    ['peer', k[R.ns].pub, 'endpoint', r_ep(n), 'allowed-ips', `${R.addr}/32`];
		sh(['wg', 'set', ifn, 'private-key', keyf, 'listen-port', '51820', ...peers], n.ns);
		sh(['ip', 'addr', 'add', `${n.addr}/24`, 'dev', ifn], n.ns);
		sh(['ip', 'link', 'set', ifn, 'mtu', '1420', 'up'], n.ns);
	}
}

/* Average RTT in ms of `count` pings, and how many were answered. */
function ping_rtt(from: Node, to: string, count: number): { avg: number; received: number } {
	let out = '';
	try {
		out = sh(['ping', '-n', '-q', '-c', String(count), '-i', '0.05', '-W', '1', to], from.ns);
	} catch (e) {
		out = String((e as { stdout?: string }).stdout ?? '');
	}
	const rx = /(\d+) received/.exec(out);
	const avg = /= [\d.]+\/([\d.]+)\//.exec(out);
	return { avg: avg ? Number(avg[1]) : NaN, received: rx ? Number(rx[1]) : 0 };
}

/* ms until the first echo reply, pinging every 0.2 s for at most `limit` s. */
function first_ping(from: Node, to: string, limit: number): Promise<number | null> {
	return new Promise((res) => {
		const t0 = performance.now();
		const p = spawn('ip', ['netns', 'exec', from.ns, 'ping', '-n', '-i', '0.2', '-c', '1', '-w', String(limit), to],
		    { stdio: ['ignore', 'pipe', 'ignore'] });
		let out = '';
		p.stdout.on('data', (d: Buffer) => {
			out += d.toString();
		});
		p.on('exit', () => res(/bytes from/.test(out) ? Math.round(performance.now() - t0) : null));
	});
}

function sleep(ms: number): Promise<void> {
	return new Promise((r) => setTimeout(r, ms));
}

interface Result {
	first_ping_ms: number | null;
	cpu_cores: number;
	rtt_idle_ms: number;
	rtt_flood_ms: number;
	rtt_flood_received: number;
	flood_rate: number;
	udp_drops: number;
}

async function run_one(setup: (k: Record<string, { priv: string; pub: string }>) => void): Promise<Result> {
	topology();
	let gen: ChildProcess | null = null;
	try {
		const k: Record<string, { priv: string; pub: string }> = {};
		for (const n of [R, P, L])
			k[n.ns] = keypair();
		setup(k);
		/* P's tunnel up, idle RTT. */
		ping_rtt(P, R.addr, 3);
		const idle = ping_rtt(P, R.addr, 40);
		const FLOOD_S = 14;
		gen = spawn('ip', ['netns', 'exec', NS.A, process.execPath, join(HERE, 'flood_gen.js'), '192.168.92.1', '51820',
		    k[R.ns].pub, String(rate), String(FLOOD_S), ATTACKERS.join(',')], { stdio: ['ignore', 'pipe', 'inherit'] });
		let gen_out = '';
		gen.stdout?.on('data', (d: Buffer) => {
			gen_out += d.toString();
		});
		const gen_done = new Promise((r) => gen?.on('exit', r));
		await sleep(1500);
		const d0 = udp_drops(NS.R);
		const c0 = ns_cpu(NS.R);
		const w0 = performance.now();
		const fp = first_ping(L, R.addr, 10);
		const flood = ping_rtt(P, R.addr, 40);
		const first = await fp;
		await sleep(Math.max(0, 10_000 - (performance.now() - w0)));
		const cores = (ns_cpu(NS.R) - c0) / ((performance.now() - w0) / 1000);
		const drops = udp_drops(NS.R) - d0;
		await gen_done;
		gen = null;
		const g = JSON.parse(gen_out.trim().split('\n').pop() ?? '{}') as { rate?: number };
		return {
			first_ping_ms: first, cpu_cores: +cores.toFixed(2), rtt_idle_ms: idle.avg,
			rtt_flood_ms: flood.avg, rtt_flood_received: flood.received, flood_rate: g.rate ?? 0,
			udp_drops: drops,
		};
	} finally {
		gen?.kill('SIGKILL');
		teardown();
	}
}

process.on('exit', () => {
	teardown();
	rmSync(tmp, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM'] as const)
	process.on(sig, () => process.exit(1));

const impls = ([['ours', ours], ['wireguard-go', wggo]] as Array<[string, typeof ours]>)
    .filter(([name]) => only === undefined || name === only);
const all: Record<string, Result[]> = { ours: [], 'wireguard-go': [] };
for (let r = 0; r < runs; r++) {
	for (const [name, setup] of r % 2 === 0 ? impls : [...impls].reverse()) {
		const res = await run_one(setup);
		all[name].push(res);
		console.log(JSON.stringify({ bench: 'handshake_flood', impl: name, run: r, ...res,
		    rtt_ratio: +(res.rtt_flood_ms / res.rtt_idle_ms).toFixed(2), load_avg: loadavg()[0] }));
	}
}
for (const [name, rs] of Object.entries(all)) {
	if (rs.length === 0)
		continue;
	const ok = rs.filter((x) => x.first_ping_ms !== null && x.first_ping_ms <= 6000).length;
	/* No reply within the 10 s is counted as 10 s and over (null in the max). */
	const fps = rs.map((x) => x.first_ping_ms ?? Infinity);
	const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
	const ratios = rs.map((x) => x.rtt_flood_ms / x.rtt_idle_ms);
	const finite = (v: number) => Number.isFinite(v) ? v : null;
	console.log(JSON.stringify({
		bench: 'handshake_flood', impl: name, metric: 'summary', runs: rs.length,
		first_ping_within_6s: ok, first_ping_max_ms: finite(Math.max(...fps)),
		first_ping_median_ms: finite(med(fps)),
		cpu_cores_median: med(rs.map((x) => x.cpu_cores)), cpu_cores_max: Math.max(...rs.map((x) => x.cpu_cores)),
		rtt_ratio_flood_over_idle_median: +med(ratios).toFixed(2),
		rtt_ratio_within_2x: ratios.filter((x) => x <= 2).length,
		flood_rate_median: med(rs.map((x) => x.flood_rate)),
	}));
}

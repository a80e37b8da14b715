// SPDX-License-Identifier: BSD-2-Clause
/*
 * Many peers: load time (`wg setconf`), listing time (`wg show IF dump`,
 * `wgconfig IF`) and daemon RSS per peer, for our wg(4) and for Debian's
 * wireguard-go in the same run.  Each peer has one /32 and one /128.
 * wireguard-go refuses more than 65,536 peers: above that only ours runs.
 * Needs root and wireguard-tools; wireguard-go is measured when present.
 *
 *   node obj/tests/bench/b_scale.js [npeers ...]     (default 1000 10000 100000)
 *   node obj/tests/bench/b_scale.js 1000000          (10^6: minutes, and GBs of memory)
 *
 * `make bench` runs the default sizes.  A size that would not fit in the
 * memory available (MemAvailable, at BYTES_PER_PEER_BUDGET a peer for
 * both the daemon and wg(8)'s request) is skipped with a message.
 *
 * Each time is wall-clock seconds, with the CPU seconds it took beside
 * it (`*_cpu`: the command's and the daemon's, all threads): on a shared
 * machine the wall time follows the load (`load` in every line, the
 * 1-minute load average when measured), the CPU time much less.
 *
 * RSS per peer is (RSS loaded - RSS idle) / peers, both read from
 * /proc/PID/status after a settle (the collector runs meanwhile).  That
 * includes what grows once whatever the number of peers (the collector's
 * young generation of both threads, code); rss_per_peer_marginal, the
 * growth between two consecutive sizes over the peers added, does not.
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin');
const sizes = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [1000, 10000, 100000];
const tag = `bs${process.pid % 10000}`;
const NS = `${tag}n`;
/* A unit no other test uses, so the shared /var/run/wireguard holds no clash. */
const IFN = `wg${9000 + process.pid % 1000}`;
const GOIF = `${tag}g`;
const WGGO_MAX_PEERS = 65536;
const tmp = mkdtempSync(join(tmpdir(), 'b_scale-'));

function sh(cmd: string[], opts: { ns?: boolean; out?: string } = {}): string {
	const argv = opts.ns === true ? ['ip', 'netns', 'exec', NS, ...cmd] : cmd;
	return execFileSync(argv[0], argv.slice(1), {
		encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'],
		env: { ...process.env, PATH: `${BIN}:${process.env.PATH}` },
	});
}

function quiet(cmd: string[], ns = false): void {
	try {
		sh(cmd, { ns });
	} catch {
		/* teardown: best effort */
	}
}

/*
 * A command in the namespace, its output thrown away (but read): the
 * seconds it took, and the CPU seconds it and the daemon `pid` spent.
 */
function timed(cmd: string[], pid: number): { s: number; cpu: number } {
	const c0 = cpu_s('self') + cpu_s(pid);
	const t0 = process.hrtime.bigint();
	sh(cmd, { ns: true });
	const s = Number(process.hrtime.bigint() - t0) / 1e9;
	return { s, cpu: cpu_s('self') + cpu_s(pid) - c0 };
}

function has(prog: string): boolean {
	try {
		execFileSync('sh', ['-c', `command -v ${prog}`], { stdio: 'ignore' });
		return true;
	} catch {
		return false;
	}
}

/* The 1-minute load average. */
function loadavg(): number {
	return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/* CPU seconds (user + system) of a process, all its threads; of this process's reaped children for 'self'. */
function cpu_s(pid: number | 'self'): number {
	const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
	const v = f.slice(f.lastIndexOf(')') + 2).split(' ').map(Number);
	/* Fields 14-17 of proc(5), counted from the state (field 3) here: utime stime cutime cstime. */
	const ticks = pid === 'self' ? v[13] + v[14] : v[11] + v[12];
	return ticks / 100;
}

function mem_available_kb(): number {
	const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
	return m === null ? 0 : Number(m[1]);
}

/* A generous bound on what a peer costs while loading (daemon, wg(8), the config text): for the memory check. */
const BYTES_PER_PEER_BUDGET = 8192;

function rss_kb(pid: number): number {
	const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
	return m === null ? 0 : Number(m[1]);
}

function ns_pids(): number[] {
	return sh(['ip', 'netns', 'pids', NS]).split(/\s+/).filter((s) => s !== '').map(Number);
}

function settle(): Promise<void> {
	return new Promise((r) => setTimeout(r, 3000));
}

/* A wg(8) configuration file with n peers: random public keys, 10.x.y.z/32 and fd00::x/128. */
function config(n: number): string {
	const f = join(tmp, `conf${n}`);
	const lines = [`[Interface]\nPrivateKey = ${randomBytes(32).toString('base64')}\n`];
	for (let i = 0; i < n; i++) {
		const a = i + 1;
		const v4 = `10.${(a >> 16) & 255}.${(a >> 8) & 255}.${a & 255}`;
		lines.push(`[Peer]\nPublicKey = ${randomBytes(32).toString('base64')}\n` +
		    `AllowedIPs = ${v4}/32, fd00::${(a >>> 16).toString(16)}:${(a & 0xffff).toString(16)}/128\n`);
	}
	writeFileSync(f, lines.join(''), { mode: 0o600 });
	return f;
}

function emit(impl: string, n: number, metric: string, value: number, unit: string): void {
	console.log(JSON.stringify({ bench: 'scale', impl, peers: n, metric, value: Number(value.toPrecision(4)), unit,
	    load: loadavg() }));
}

function setup_ns(): void {
	quiet(['ip', 'netns', 'del', NS]);
	sh(['ip', 'netns', 'add', NS]);
	sh(['ip', 'link', 'set', 'lo', 'up'], { ns: true });
}

function teardown(): void {
	quiet(['wg-userspace', '0', 'destroy'], true);
	try {
		for (const p of ns_pids())
			quiet(['kill', '-9', String(p)]);
	} catch {
		/* gone */
	}
	quiet(['ip', 'netns', 'del', NS]);
	rmSync(`/var/run/wireguard/${GOIF}.sock`, { force: true });
	rmSync(`/var/run/wireguard/${IFN}.sock`, { force: true });
}

async function ours(conf: string): Promise<Record<string, number>> {
	setup_ns();
	try {
		sh(['ifconfig', IFN, 'create'], { ns: true });
		const pid = ns_pids()[0];
		await settle();
		const idle = rss_kb(pid);
		const load = timed(['wg', 'setconf', IFN, conf], pid);
		await settle();
		const rss = rss_kb(pid);
		const dump = timed(['wg', 'show', IFN, 'dump'], pid);
		const show = timed(['wgconfig', IFN], pid);
		/* Listings are streamed: the daemon should not have grown with them. */
		const rss_listed = rss_kb(pid);
		return { load: load.s, load_cpu: load.cpu, dump: dump.s, dump_cpu: dump.cpu, show: show.s, show_cpu: show.cpu,
		    idle, rss, rss_listed };
	} finally {
		teardown();
	}
}

async function wggo(conf: string): Promise<Record<string, number>> {
	setup_ns();
	try {
		sh(['wireguard-go', GOIF], { ns: true });
		const pid = ns_pids()[0];
		await settle();
		const idle = rss_kb(pid);
		const load = timed(['wg', 'setconf', GOIF, conf], pid);
		await settle();
		const rss = rss_kb(pid);
		const dump = timed(['wg', 'show', GOIF, 'dump'], pid);
		return { load: load.s, load_cpu: load.cpu, dump: dump.s, dump_cpu: dump.cpu, idle, rss };
	} finally {
		teardown();
	}
}

process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const go = has('wireguard-go');
if (!go)
	console.error('b_scale: wireguard-go not installed: measuring ours alone');
const last_rss: Record<string, { n: number; rss: number }> = {};
for (const n of sizes) {
	const need_kb = n * BYTES_PER_PEER_BUDGET / 1024 + 1024 * 1024;
	if (mem_available_kb() < need_kb) {
		console.error(`b_scale: ${n} peers: skipped, ${Math.round(mem_available_kb() / 1024)} MB available, ` +
		    `about ${Math.round(need_kb / 1024)} MB wanted`);
		continue;
	}
	const conf = config(n);
	const runs: Array<[string, (c: string) => Promise<Record<string, number>>]> = [['ours', ours]];
	if (go && n <= WGGO_MAX_PEERS)
		runs.push(['wireguard-go', wggo]);
	const load: Record<string, number> = {};
	for (const [impl, fn] of runs) {
		const r = await fn(conf);
		load[impl] = r.load;
		emit(impl, n, 'load', r.load, 's');
		emit(impl, n, 'load_cpu', r.load_cpu, 's');
		emit(impl, n, 'wg_show_dump', r.dump, 's');
		emit(impl, n, 'wg_show_dump_cpu', r.dump_cpu, 's');
		if (r.show !== undefined) {
			emit(impl, n, 'wgconfig_show', r.show, 's');
			emit(impl, n, 'wgconfig_show_cpu', r.show_cpu, 's');
		}
		emit(impl, n, 'rss', r.rss / 1024, 'MB');
		if (r.rss_listed !== undefined)
			emit(impl, n, 'rss_after_listings', r.rss_listed / 1024, 'MB');
		emit(impl, n, 'rss_per_peer', (r.rss - r.idle) * 1024 / n, 'B');
		const prev = last_rss[impl];
		if (prev !== undefined && n > prev.n)
			emit(impl, n, 'rss_per_peer_marginal', (r.rss - prev.rss) * 1024 / (n - prev.n), 'B');
		last_rss[impl] = { n, rss: r.rss };
	}
	if (load['wireguard-go'] !== undefined)
		emit('ours', n, 'load_ratio_ours_over_wireguard_go', load.ours / load['wireguard-go'], 'x');
	rmSync(conf);
}

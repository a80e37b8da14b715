// SPDX-License-Identifier: BSD-2-Clause
/*
 * Many peers: load time (`wg setconf`), listing time (`wg show IF dump`,
 * `wgconfig IF`) and daemon RSS per peer, for our wg(4) and for Debian's
 * wireguard-go in the same run.  Each peer has one /32 and one /128.
 * wireguard-go refuses more than 65,536 peers: above that only ours runs.
 * Needs root and wireguard-tools; wireguard-go is measured when present.
 *
 *   node obj/tests/bench/b_scale.js [npeers ...]     (default 1000 10000 100000)
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

/* Seconds taken by a command in the namespace, its output thrown away (but read). */
function timed(cmd: string[]): number {
	const t0 = process.hrtime.bigint();
	sh(cmd, { ns: true });
	return Number(process.hrtime.bigint() - t0) / 1e9;
}

function has(prog: string): boolean {
	try {
		execFileSync('sh', ['-c', `command -v ${prog}`], { stdio: 'ignore' });
		return true;
	} catch {
		return false;
	}
}

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
	console.log(JSON.stringify({ bench: 'scale', impl, peers: n, metric, value: Number(value.toPrecision(4)), unit }));
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
		const load = timed(['wg', 'setconf', IFN, conf]);
		const dump = timed(['wg', 'show', IFN, 'dump']);
		const show = timed(['wgconfig', IFN]);
		await settle();
		const rss = rss_kb(pid);
		return { load, dump, show, idle, rss };
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
		const load = timed(['wg', 'setconf', GOIF, conf]);
		const dump = timed(['wg', 'show', GOIF, 'dump']);
		await settle();
		const rss = rss_kb(pid);
		return { load, dump, idle, rss };
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
	const conf = config(n);
	const runs: Array<[string, (c: string) => Promise<Record<string, number>>]> = [['ours', ours]];
	if (go && n <= WGGO_MAX_PEERS)
		runs.push(['wireguard-go', wggo]);
	const load: Record<string, number> = {};
	for (const [impl, fn] of runs) {
		const r = await fn(conf);
		load[impl] = r.load;
		emit(impl, n, 'load', r.load, 's');
		emit(impl, n, 'wg_show_dump', r.dump, 's');
		if (r.show !== undefined)
			emit(impl, n, 'wgconfig_show', r.show, 's');
		emit(impl, n, 'rss', r.rss / 1024, 'MB');
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

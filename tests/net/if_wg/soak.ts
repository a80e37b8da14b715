// SPDX-License-Identifier: BSD-2-Clause
/*
 * make soak: SOAK_SECONDS (default 600) of traffic through one tunnel
 * with net.wg.rekey_after_time=3, so hundreds of rekeys happen under
 * load.  Back-to-back 50 MB TCP transfers (each sha256-checked) and a
 * ping every 0.2 s run throughout; the daemons' RSS and descriptor
 * counts are sampled at the start and the end.  Not part of make test
 * (it runs for ten minutes): `make soak`.  SOAK_CRYPTO_WORKERS=N runs
 * both ends with net.wg.crypto_workers=N (keypairs dropped while the
 * crypto threads hold jobs).
 */

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Host } from '../../harness/netns.js';
import { check_ping, latest_handshake, setup_topology } from '../../harness/if_wg.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const CRYPTO_WORKERS = Number(process.env.SOAK_CRYPTO_WORKERS ?? 0);
const CHUNK = 50 * 1024 * 1024;
const TCP_PORT = 5002;
t.setTimeout((SECONDS + 300) * 1000);

function daemon_pid(h: Host): number {
	const r = spawnSync('ip', ['netns', 'pids', h.ns], { encoding: 'utf8' });
	for (const s of (r.stdout ?? '').split(/\s+/))
		if (s !== '' && readFileSync(`/proc/${s}/cmdline`, 'utf8').includes('wg-userspace.js\u00000\u0000--kernel'))
			return Number(s);
	throw new Error(`${h.name}: no wg-userspace daemon`);
}

function sample(pid: number): { rss_kb: number; fds: number } {
	const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
	return { rss_kb: m ? Number(m[1]) : -1, fds: readdirSync(`/proc/${pid}/fd`).length };
}

t.test(`soak: ${SECONDS} s of traffic, rekey every 3 s, ${CRYPTO_WORKERS} crypto threads`, async (t) => {
	const s = await setup_topology(t, { prefix: 'ws', sysctl: { rekey_after_time: 3, crypto_workers: CRYPTO_WORKERS } });
	await check_ping(s.local, s.ip_wg_peer);
	const pids = { local: daemon_pid(s.local), peer: daemon_pid(s.peer) };
	/* Warm up one transfer first, so the start sample is not the cold process. */
	const srv0 = await s.peer.tcp_serve(TCP_PORT);
	await s.local.tcp_send(s.ip_wg_peer, TCP_PORT, { random: CHUNK });
	await srv0.wait(120_000);
	const start = { local: sample(pids.local), peer: sample(pids.peer) };
	const t0 = Date.now();
	const deadline = t0 + SECONDS * 1000;
	const pinging = s.local.exec(['ping', '-n', '-q', '-i', '0.2', '-w', String(SECONDS), s.ip_wg_peer],
	    { timeout: (SECONDS + 30) * 1000 });
	let handshakes = 0;
	let last = await latest_handshake(s.local, 'wg0', 'peer0');
	const watch = (async () => {
		while (Date.now() < deadline) {
			await new Promise((r) => setTimeout(r, 1000));
			const now = await latest_handshake(s.local, 'wg0', 'peer0');
			if (now !== last)
				handshakes++;
			last = now;
		}
	})();
	let transfers = 0;
	let bad = 0;
	while (Date.now() < deadline - 20_000) {
		const srv = await s.peer.tcp_serve(TCP_PORT);
		const sent = await s.local.tcp_send(s.ip_wg_peer, TCP_PORT, { random: CHUNK });
		const got = await srv.wait(120_000);
		const a = JSON.parse(sent.stdout || '{}') as { sha256?: string };
		const b = JSON.parse(got.stdout.split('\n')[1] || '{}') as { bytes?: number; sha256?: string };
		transfers++;
		if (sent.code !== 0 || got.code !== 0 || b.bytes !== CHUNK || a.sha256 !== b.sha256)
			bad++;
	}
	await watch;
	const ping = await pinging;
	const end = { local: sample(pids.local), peer: sample(pids.peer) };
	const m = /(\d+) packets transmitted, (\d+) received/.exec(ping.stdout);
	const tx = m ? Number(m[1]) : 0;
	const rx = m ? Number(m[2]) : 0;
	t.equal(bad, 0, `${transfers} transfers of 50 MB, every sha256 matched`);
	t.ok(handshakes >= SECONDS / 6, `${handshakes} handshakes seen in ${SECONDS} s (one-second samples)`);
	t.ok(tx > 0 && tx - rx <= Math.ceil(tx / 1000), `ping: ${rx} of ${tx} answered`);
	for (const side of ['local', 'peer'] as const) {
		t.equal(end[side].fds, start[side].fds, `${side}: descriptors ${start[side].fds} -> ${end[side].fds}`);
		t.ok(end[side].rss_kb < start[side].rss_kb * 1.5,
		    `${side}: RSS ${start[side].rss_kb} kB -> ${end[side].rss_kb} kB`);
	}
	t.comment(JSON.stringify({ soak_seconds: SECONDS, transfers, bytes: transfers * CHUNK, handshakes,
	    ping_tx: tx, ping_rx: rx, start, end }));
});

// SPDX-License-Identifier: BSD-2-Clause
/*
 * The crypto threads' hand-off (sys/net/if_wg_crypt.ts) alone, without
 * a network: batches of 128 seals of 1420 bytes in shared memory, as
 * the data path's transmit batch, pushed and waited for (tx_wait) with
 * 0 threads (every seal on the calling thread, as net.wg.crypto_workers=0
 * does) and with 1 and 2.  Per packet: wall time and CPU time of the
 * whole process (all threads, /proc/self/stat), so a thread's spinning
 * and the hand-off's cost show.  The thread counts are rotated in
 * rounds; medians.  About 10 s.
 *
 *   node obj/tests/bench/b_crypt_ring.js [rounds]
 */

import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { crypto_attach } from '../../sys/crypto/crypto_select.js';
import { wg_crypt } from '../../sys/net/if_wg_crypt.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const BATCH = 128;
const MSG = 1420;
const SLOT = 2048;
const BATCHES = 400;	/* per round: 51200 seals */
const CLK_TCK = 100;

function cpu_s(): number {
	const s = readFileSync('/proc/self/stat', 'utf8');
	const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
	return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function median(a: number[]): number {
	const s = [...a].sort((x, y) => x - y);
	return s[s.length >> 1];
}

const c = crypto_attach();
const sab = new SharedArrayBuffer(BATCH * SLOT);
const buf = new Uint8Array(sab);
const key = c.random_bytes(32);
const crypts = [0, 1, 2].map((n) => new wg_crypt(n, c, [sab]));
for (let i = 0; i < 500 && crypts.some((k) => k.threads_ready < k.nthreads); i++)
	Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);

let counter = 0;
function run(crypt: wg_crypt): { wall: number; cpu: number } {
	const t0 = performance.now();
	const c0 = cpu_s();
	for (let b = 0; b < BATCHES; b++) {
		for (let i = 0; i < BATCH; i++)
			if (crypt.nthreads === 0 || !crypt.seal(key, counter++, buf, i * SLOT, MSG))
				c.aead_seal_into(key, counter++, buf, i * SLOT, MSG, null, buf, i * SLOT);
		crypt.tx_wait();
	}
	const n = BATCHES * BATCH;
	return { wall: (performance.now() - t0) * 1e6 / n, cpu: (cpu_s() - c0) * 1e9 / n };
}

const res = crypts.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
run(crypts[0]);
for (let r = 0; r < ROUNDS; r++)
	for (let k = 0; k < crypts.length; k++) {
		const i = (k + r) % crypts.length;
		const m = run(crypts[i]);
		res[i].wall.push(m.wall);
		res[i].cpu.push(m.cpu);
	}
const load = loadavg()[0];
for (const [i, crypt] of crypts.entries()) {
	const out = { bench: 'crypt_ring', backend: c.backend, crypto_workers: crypt.nthreads, batch: BATCH, bytes: MSG,
	    rounds: ROUNDS, cpus: cpus().length, load1: Math.round(load * 100) / 100 };
	process.stdout.write(JSON.stringify({ ...out, metric: 'wall_ns_per_seal', value: Math.round(median(res[i].wall)) }) + '\n');
	process.stdout.write(JSON.stringify({ ...out, metric: 'cpu_ns_per_seal', value: Math.round(median(res[i].cpu)) }) + '\n');
	process.stdout.write(JSON.stringify({ ...out, metric: 'thread_share', value:
	    Math.round(crypt.thread_jobs / Math.max(1, ROUNDS * BATCHES * BATCH) * 100) / 100 }) + '\n');
}
for (const crypt of crypts)
	crypt.destroy();

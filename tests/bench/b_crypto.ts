// SPDX-License-Identifier: BSD-2-Clause
/*
 * sys/crypto benchmarks, per backend: ChaCha20-Poly1305 seal and open
 * of a 1420-byte payload through the data-path forms (in place at a
 * 16-byte header offset for seal, buffer to buffer for open), and one
 * X25519 dh.  One JSON object per line.  Whole run: about 15 s.
 *
 * Reference from the same run: `openssl speed -evp chacha20-poly1305`,
 * OpenSSL's own loop without FFI.  It streams one context (no init,
 * final or tag per message), so it is a floor no per-packet call
 * sequence reaches; the ratio line says how far the openssl backend is
 * from it.  Ratios against sodium, the previous default, too.  The last
 * line names the fastest backend and whether crypto_attach() picks it
 * by default.
 *
 * Times are CPU time (user + system, process.cpuUsage), as `openssl
 * speed` counts user time: on this shared machine wall time mostly
 * measures the neighbours.  The backends are timed in interleaved
 * batches (each ~100 ms of CPU, after a warm-up), so that what noise
 * remains (caches, frequency) hits all of them alike; each figure is
 * the median of its batches.
 */

import { execFileSync } from 'node:child_process';
import koffi from 'koffi';
import type { WgCryptoBackend } from '../../sys/crypto/crypto.js';
import { crypto_noble_attach } from '../../sys/crypto/crypto_noble.js';
import { OPENSSL_LIBS, crypto_openssl_attach, crypto_openssl_version } from '../../sys/crypto/crypto_openssl.js';
import { crypto_attach } from '../../sys/crypto/crypto_select.js';
import { crypto_sodium_attach } from '../../sys/crypto/crypto_sodium.js';
import type { WgCryptoImpl } from '../../sys/crypto/crypto_util.js';

const PAYLOAD = 1420;
const HDR = 16;
const ROUNDS = 7;
const BATCH_NS = 100e6;		/* CPU ns */

/* CPU ns used by the process so far. */
function now(): number {
	const u = process.cpuUsage();
	return (u.user + u.system) * 1000;
}

interface Subject {
	readonly backend: WgCryptoBackend;
	readonly fn: (i: number) => void;
	per_batch: number;
	readonly res: number[];
}

/* Calls of fn in about BATCH_NS, after warming it up (JIT, caches). */
function calibrate(fn: (i: number) => void): number {
	let n = 1;
	for (let i = 0; ; n *= 2) {
		const t0 = now();
		for (let k = 0; k < n; k++)
			fn(i++);
		const spent = now() - t0;
		if (spent > 30e6)
			return Math.max(1, Math.round(n * BATCH_NS / spent));
	}
}

/* Median ns per call of each subject, batches interleaved across subjects. */
function measure(subjects: Subject[]): void {
	for (const s of subjects)
		s.per_batch = calibrate(s.fn);
	for (let r = 0; r < ROUNDS; r++) {
		for (const s of subjects) {
			const t0 = now();
			for (let k = 0; k < s.per_batch; k++)
				s.fn(k);
			s.res.push((now() - t0) / s.per_batch);
		}
	}
}

function median(a: number[]): number {
	const s = [...a].sort((x, y) => x - y);
	return s[s.length >> 1];
}

function emit(o: Record<string, string | number | boolean>): void {
	process.stdout.write(JSON.stringify(o) + '\n');
}

function seal_fn(c: WgCryptoImpl): (i: number) => void {
	const key = c.random_bytes(32);
	const pkt = new Uint8Array(2048);
	pkt.set(c.random_bytes(PAYLOAD), HDR);
	/* Seal in place, as wg_output does; the counter advances per packet. */
	return (i) => {
		c.aead_seal_into(key, i, pkt, HDR, PAYLOAD, null, pkt, HDR);
	};
}

function open_fn(c: WgCryptoImpl): (i: number) => void {
	const key = c.random_bytes(32);
	/* Open a fixed sealed packet into a second buffer (in place would consume it). */
	const sealed = new Uint8Array(2048);
	sealed.set(c.random_bytes(PAYLOAD), HDR);
	c.aead_seal_into(key, 77, sealed, HDR, PAYLOAD, null, sealed, HDR);
	const out = new Uint8Array(2048);
	return () => {
		if (!c.aead_open_into(key, 77, sealed, HDR, PAYLOAD + 16, null, out, HDR))
			throw new Error(`${c.backend}: aead_open_into failed`);
	};
}

function dh_fn(c: WgCryptoImpl): (i: number) => void {
	const priv = c.generate_private_key();
	const pub = c.public_key(c.generate_private_key());
	return () => {
		if (c.dh(priv, pub) === null)
			throw new Error('dh returned null');
	};
}

/*
 * ns per 1420-byte message from `openssl speed`, or null (said on
 * stderr) when the openssl program is missing or its output unexpected.
 */
function openssl_speed(): number | null {
	const args = ['speed', '-seconds', '2', '-bytes', String(PAYLOAD), '-evp', 'chacha20-poly1305'];
	let out: string;
	try {
		out = execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
	} catch (e) {
		process.stderr.write(`b_crypto: openssl ${args.join(' ')}: ${(e as Error).message}\n`);
		return null;
	}
	/* The last line: "ChaCha20-Poly1305  2231567.11k", in 1000s of bytes per second of user CPU time. */
	const m = /ChaCha20-Poly1305\s+([\d.]+)k\s*$/i.exec(out.trim());
	if (m === null) {
		process.stderr.write(`b_crypto: unexpected openssl speed output: ${out.trim().split('\n').pop()}\n`);
		return null;
	}
	return PAYLOAD / (Number(m[1]) * 1000) * 1e9;
}

const r1 = (x: number): number => Math.round(x * 10) / 10;

const backends: WgCryptoImpl[] = [];
let sodium: WgCryptoImpl | null = null;
try {
	sodium = crypto_sodium_attach();
} catch (e) {
	process.stderr.write(`b_crypto: sodium backend not measured: ${(e as Error).message}\n`);
}
const noble = crypto_noble_attach();
try {
	backends.push(crypto_openssl_attach(sodium ?? noble));
} catch (e) {
	process.stderr.write(`b_crypto: openssl backend not measured: ${(e as Error).message}\n`);
}
if (sodium !== null)
	backends.push(sodium);
backends.push(noble);

const results = new Map<string, Map<WgCryptoBackend, number>>();
for (const [op, mk] of [['aead_seal_1420', seal_fn], ['aead_open_1420', open_fn]] as const) {
	const subjects: Subject[] = backends.map((c) => ({ backend: c.backend, fn: mk(c), per_batch: 0, res: [] }));
	measure(subjects);
	const m = new Map<WgCryptoBackend, number>();
	for (const s of subjects) {
		m.set(s.backend, median(s.res));
		emit({ bench: op, metric: 'ns_per_packet', value: r1(median(s.res)), unit: 'ns', backend: s.backend });
	}
	results.set(op, m);
	const base = m.get('sodium');
	if (base !== undefined)
		for (const [b, v] of m)
			if (b !== 'sodium')
				emit({ bench: `${op}_vs_sodium`, metric: 'ratio', value: +(v / base).toFixed(2), unit: 'x', backend: b });
}

/* The openssl backend's X25519 is its base's: measure the two real ones. */
const dh_subjects: Subject[] = backends.filter((c) => c.backend !== 'openssl')
    .map((c) => ({ backend: c.backend, fn: dh_fn(c), per_batch: 0, res: [] }));
measure(dh_subjects);
for (const s of dh_subjects)
	emit({ bench: 'x25519_dh', metric: 'us_per_op', value: r1(median(s.res) / 1000), unit: 'us', backend: s.backend });

/*
 * What koffi adds per call, of the four the openssl backend makes per
 * packet: a libcrypto call that does nothing (OPENSSL_cleanse of 0
 * bytes), with a pointer passed as a BigInt as the backend passes its
 * context and scratch block, and with a typed array as it passes data.
 */
try {
	const lib = koffi.load(OPENSSL_LIBS[0], { deep: true });
	const cleanse = lib.func('void OPENSSL_cleanse(void *ptr, size_t len)') as (p: bigint | Uint8Array, n: number) => void;
	const buf = new Uint8Array(16);
	const addr = koffi.address(buf);
	const calls: Subject[] = [
		{ backend: 'openssl', fn: () => cleanse(addr, 0), per_batch: 0, res: [] },
		{ backend: 'openssl', fn: () => cleanse(buf, 0), per_batch: 0, res: [] },
	];
	measure(calls);
	emit({ bench: 'koffi_call_libcrypto', metric: 'ns_per_call', value: r1(median(calls[0].res)), unit: 'ns', arg: 'bigint' });
	emit({ bench: 'koffi_call_libcrypto', metric: 'ns_per_call', value: r1(median(calls[1].res)), unit: 'ns', arg: 'Uint8Array' });
} catch (e) {
	process.stderr.write(`b_crypto: koffi call overhead not measured: ${(e as Error).message}\n`);
}

const speed = openssl_speed();
if (speed !== null) {
	emit({ bench: 'openssl_speed_evp_1420', metric: 'ns_per_packet', value: r1(speed), unit: 'ns',
	    reference: crypto_openssl_version() ?? 'openssl program' });
	for (const op of ['aead_seal_1420', 'aead_open_1420']) {
		const v = results.get(op)?.get('openssl');
		if (v !== undefined)
			emit({ bench: `${op}_over_openssl_speed`, metric: 'ratio', value: +(v / speed).toFixed(2),
			    unit: 'x', backend: 'openssl' });
	}
}

/* Fastest on seal + open, and what crypto_attach() hands out by default. */
let fastest: WgCryptoBackend | null = null;
let best = Infinity;
for (const c of backends) {
	const t = (results.get('aead_seal_1420')?.get(c.backend) ?? Infinity) +
	    (results.get('aead_open_1420')?.get(c.backend) ?? Infinity);
	if (t < best) {
		best = t;
		fastest = c.backend;
	}
}
const dflt = crypto_attach().backend;
emit({ bench: 'crypto_default', metric: 'fastest_is_default', value: fastest === dflt, unit: 'bool',
    fastest: fastest ?? 'none', backend: dflt });

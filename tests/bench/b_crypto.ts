/*
 * sys/crypto benchmarks, per backend: ChaCha20-Poly1305 seal and open
 * of a 1420-byte payload through the data-path forms (in place at a
 * 16-byte header offset for seal, buffer to buffer for open), and one
 * X25519 dh.  One JSON object per line.  Whole run: about 10 s.
 *
 * Each figure is the median of 5 timed batches, each batch sized to
 * ~150 ms after a warm-up, so a noisy neighbour skews one batch, not
 * the result.
 */

import type { WgCryptoBackend } from '../../sys/crypto/crypto.js';
import { crypto_noble_attach } from '../../sys/crypto/crypto_noble.js';
import { crypto_sodium_attach } from '../../sys/crypto/crypto_sodium.js';
import type { WgCryptoImpl } from '../../sys/crypto/crypto_util.js';

const PAYLOAD = 1420;
const HDR = 16;
const BATCHES = 5;
const BATCH_NS = 150e6;

function now(): bigint {
	return process.hrtime.bigint();
}

/* Median ns per call of fn(i). */
function measure(fn: (i: number) => void): number {
	/* Warm up (JIT, caches) and estimate the cost of one call. */
	let n = 1;
	let spent = 0;
	let i = 0;
	for (;;) {
		const t0 = now();
		for (let k = 0; k < n; k++)
			fn(i++);
		spent = Number(now() - t0);
		if (spent > 50e6)
			break;
		n *= 2;
	}
	const per_batch = Math.max(1, Math.round(n * BATCH_NS / spent));
	const res: number[] = [];
	for (let b = 0; b < BATCHES; b++) {
		const t0 = now();
		for (let k = 0; k < per_batch; k++)
			fn(i++);
		res.push(Number(now() - t0) / per_batch);
	}
	res.sort((x, y) => x - y);
	return res[BATCHES >> 1];
}

function emit(bench: string, metric: string, value: number, unit: string, backend: WgCryptoBackend): void {
	process.stdout.write(JSON.stringify({ bench, metric, value: Math.round(value * 10) / 10, unit, backend }) + '\n');
}

function bench_backend(c: WgCryptoImpl): void {
	const key = c.random_bytes(32);
	const pkt = new Uint8Array(2048);
	pkt.set(c.random_bytes(PAYLOAD), HDR);

	/* Seal in place, as wg_output does; the counter advances per packet. */
	const seal = measure((i) => {
		c.aead_seal_into(key, i, pkt, HDR, PAYLOAD, null, pkt, HDR);
	});
	emit('aead_seal_1420', 'ns_per_packet', seal, 'ns', c.backend);

	/* Open a fixed sealed packet into a second buffer (in place would consume it). */
	const sealed = new Uint8Array(2048);
	sealed.set(c.random_bytes(PAYLOAD), HDR);
	c.aead_seal_into(key, 77, sealed, HDR, PAYLOAD, null, sealed, HDR);
	const out = new Uint8Array(2048);
	let failures = 0;
	const open = measure(() => {
		if (!c.aead_open_into(key, 77, sealed, HDR, PAYLOAD + 16, null, out, HDR))
			failures++;
	});
	if (failures !== 0)
		throw new Error(`${c.backend}: aead_open_into failed ${failures} times`);
	emit('aead_open_1420', 'ns_per_packet', open, 'ns', c.backend);

	const priv = c.generate_private_key();
	const pub = c.public_key(c.generate_private_key());
	const dh = measure(() => {
		if (c.dh(priv, pub) === null)
			throw new Error('dh returned null');
	});
	emit('x25519_dh', 'us_per_op', dh / 1000, 'us', c.backend);
}

let sodium: WgCryptoImpl | null = null;
try {
	sodium = crypto_sodium_attach();
} catch (e) {
	process.stderr.write(`b_crypto: sodium backend not measured: ${(e as Error).message}\n`);
}
if (sodium !== null)
	bench_backend(sodium);
bench_backend(crypto_noble_attach());

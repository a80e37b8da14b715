// SPDX-License-Identifier: BSD-2-Clause
/*
 * The tests' one seeded PRNG (mulberry32): small, fast and reproducible,
 * so a property or fuzz test that fails can be run again with its seed.
 * Not for keys.
 */

/* Uniform 32-bit unsigned integers. */
export function prng_u32(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let z = a;
		z = Math.imul(z ^ (z >>> 15), z | 1);
		z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
		return (z ^ (z >>> 14)) >>> 0;
	};
}

/* Uniform in [0, 1). */
export function prng(seed: number): () => number {
	const next = prng_u32(seed);
	return () => next() / 4294967296;
}

/* n pseudo-random bytes per call. */
export function prng_bytes(seed: number): (n: number) => Uint8Array {
	const next = prng_u32(seed);
	return (n: number): Uint8Array => {
		const b = new Uint8Array(n);
		for (let i = 0; i < n; i++)
			b[i] = next() & 0xff;
		return b;
	};
}

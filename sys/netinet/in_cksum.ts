// SPDX-License-Identifier: BSD-2-Clause
/*
 * The Internet checksum (RFC 1071): the ones' complement sum of 16-bit
 * big-endian words, and the IPv4/IPv6 pseudo-headers TCP and UDP add to
 * it.  NetBSD's in_cksum(9) and in4_cksum/in6_cksum, over byte arrays.
 *
 * Sums are kept unfolded as plain numbers (exact up to 2^53, far more
 * than a 64 KB packet needs) and folded once at the end.  The bulk loop
 * adds native (little-endian) 32-bit words: the ones' complement sum is
 * byte-order independent (RFC 1071 section 2(B)), so the folded result
 * only needs its two bytes swapped.
 */

/*
 * A Uint32Array over each buffer, made once per buffer and found by the
 * caller's view first: reading .buffer is a call into the runtime.
 */
const words = new WeakMap<ArrayBufferLike, Uint32Array>();
let last_b: Uint8Array | null = null;
let last_w: Uint32Array = new Uint32Array(0);

function words_of(b: Uint8Array): Uint32Array {
	if (b === last_b)
		return last_w;
	const ab = b.buffer;
	let w = words.get(ab);
	if (w === undefined) {
		w = new Uint32Array(ab, 0, ab.byteLength >>> 2);
		words.set(ab, w);
	}
	last_b = b;
	last_w = w;
	return w;
}

/* Folds a sum to 16 bits with end-around carries (not complemented). */
export function in_cksum_fold(sum: number): number {
	while (sum > 0xffff) {
		const lo = sum % 0x10000;
		sum = lo + (sum - lo) / 0x10000;
	}
	return sum;
}

/* The partial sum of b[off, off+len) added to sum; an odd tail byte is padded with zero. */
export function in_cksum_add(b: Uint8Array, off: number, len: number, sum: number): number {
	let i = off;
	const end = off + len;
	const base = b.byteOffset;
	if (((base + i) & 1) !== 0) {
		/* Odd address: bytes only (never on the data path, whose headers are even). */
		for (; i + 1 < end; i += 2)
			sum += (b[i] << 8) | b[i + 1];
		if (i < end)
			sum += b[i] << 8;
		return sum;
	}
	if (((base + i) & 2) !== 0 && end - i >= 2) {
		sum += (b[i] << 8) | b[i + 1];
		i += 2;
	}
	const n = (end - i) >>> 2;
	if (n > 0) {
		const w = words_of(b);
		const j0 = (base + i) >>> 2;
		const j1 = j0 + n;
		/* Four sums, so that the adds do not wait on each other. */
		let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
		let j = j0;
		for (; j + 4 <= j1; j += 4) {
			s0 += w[j];
			s1 += w[j + 1];
			s2 += w[j + 2];
			s3 += w[j + 3];
		}
		for (; j < j1; j++)
			s0 += w[j];
		const s = in_cksum_fold(s0 + s1 + s2 + s3);
		sum += ((s & 0xff) << 8) | (s >>> 8);
		i += n << 2;
	}
	for (; i + 1 < end; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	if (i < end)
		sum += b[i] << 8;
	return sum;
}

/* The checksum of b[off, off+len) plus sum: complemented, ready to store. */
export function in_cksum(b: Uint8Array, off: number, len: number, sum = 0): number {
	return ~in_cksum_fold(in_cksum_add(b, off, len, sum)) & 0xffff;
}

/*
 * The pseudo-header sum of the IP packet at b[ip]: source, destination,
 * protocol and the given upper-layer length (RFC 793, RFC 8200 section 8.1).
 * IPv4 addresses at 12 and 16, IPv6 ones at 8 and 24.
 */
export function in_pseudo_sum(b: Uint8Array, ip: number, proto: number, ulen: number): number {
	const v6 = (b[ip] >> 4) === 6;
	const a = ip + (v6 ? 8 : 12);
	const n = v6 ? 32 : 8;
	let sum = proto + (ulen >>> 16) + (ulen & 0xffff);
	for (let i = a; i < a + n; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	return sum;
}

/* Recomputes the IPv4 header checksum of the header at b[ip]. */
export function in4_cksum_hdr(b: Uint8Array, ip: number): void {
	const hl = (b[ip] & 0x0f) << 2;
	b[ip + 10] = 0;
	b[ip + 11] = 0;
	let sum = 0;
	for (let i = ip; i < ip + hl; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	const c = ~in_cksum_fold(sum) & 0xffff;
	b[ip + 10] = c >>> 8;
	b[ip + 11] = c & 0xff;
}

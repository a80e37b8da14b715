// SPDX-License-Identifier: BSD-2-Clause
/*
 * Helpers shared by the crypto backends and by their callers:
 * constant-time comparison, wiping, argument checks, the WireGuard
 * nonce layout and key clamping.
 *
 * Argument checks implement the API contract of sys/crypto: a wrong
 * type is a TypeError, a wrong length or an out-of-range offset is a
 * RangeError, and both name the offending argument.  These are
 * programming errors; bad packets never reach them as such (a short
 * ciphertext simply fails to open).
 */

import { WG_AEAD_TAG_LEN, WG_KEY_LEN } from './crypto.js';
import type { WgCrypto } from './crypto.js';

/*
 * What a backend object offers beyond WgCrypto: the raw 12-byte-nonce
 * AEAD, so that tests can run RFC 8439 vectors whose nonces are not of
 * WireGuard's shape.  Kept off WgCrypto on purpose.
 */
export interface WgCryptoImpl extends WgCrypto {
	aead_seal_nonce(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array;
	aead_open_nonce(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Uint8Array | null;
}

export const AEAD_NONCE_LEN = 12;

/*
 * Constant-time equality for MACs and keys: the time depends on the
 * lengths only, never on where the first difference is.
 */
export function crypto_const_eq(a: Uint8Array, b: Uint8Array): boolean {
	if (a.length !== b.length)
		return false;
	let d = 0;
	for (let i = 0; i < a.length; i++)
		d |= a[i] ^ b[i];
	return d === 0;
}

/* Constant-time test for an all-zero buffer (RFC 7748 §6.1: reject an all-zero DH result). */
export function crypto_is_zero(a: Uint8Array): boolean {
	let d = 0;
	for (let i = 0; i < a.length; i++)
		d |= a[i];
	return d === 0;
}

/*
 * A buffer that may hold key material, grown to fit `used + need` bytes
 * by doubling: the first `used` bytes move to the new buffer and are
 * wiped from the old one, so no copy of a key is left behind.  Returns
 * buf itself when it has the room.
 */
export function crypto_buf_grow<T extends Uint8Array>(buf: T, used: number, need: number): T | Uint8Array<ArrayBuffer> {
	if (used + need <= buf.length)
		return buf;
	let size = buf.length * 2;
	while (size < used + need)
		size *= 2;
	const nb = new Uint8Array(size);
	nb.set(buf.subarray(0, used));
	buf.fill(0, 0, used);
	return nb;
}

/* Overwrite key material before dropping it.  null and undefined are ignored. */
export function crypto_wipe(...bufs: (Uint8Array | null | undefined)[]): void {
	for (const b of bufs)
		if (b)
			b.fill(0);
}

/*
 * Room for key material that can really be wiped: off the V8 heap.  A
 * typed array of up to 64 bytes made with `new Uint8Array(n)`, `slice()`
 * or `Buffer.alloc(n)` lives inside the JS heap, where the collector
 * moves it and leaves copies behind that no fill(0) reaches; an
 * ArrayBuffer's store stays where it was allocated, and can be
 * transferred to another thread without a copy.
 */
export function crypto_key_alloc(len: number = WG_KEY_LEN): Uint8Array {
	return new Uint8Array(new ArrayBuffer(len));
}

/* A copy of k in crypto_key_alloc's memory. */
export function crypto_key_copy(k: Uint8Array): Uint8Array {
	const c = crypto_key_alloc(k.length);
	c.set(k);
	return c;
}

/* X25519 private key clamping (RFC 7748 §5; paper §5.4, DH-Generate), in place. */
export function crypto_clamp(k: Uint8Array): Uint8Array {
	k[0] &= 248;
	k[31] &= 127;
	k[31] |= 64;
	return k;
}

export function crypto_check_bytes(v: unknown, name: string): asserts v is Uint8Array {
	if (!(v instanceof Uint8Array))
		throw new TypeError(`${name}: expected a Uint8Array`);
}

export function crypto_check_len(v: unknown, len: number, name: string): asserts v is Uint8Array {
	if (!(v instanceof Uint8Array))
		throw new TypeError(`${name}: expected a Uint8Array of ${len} bytes`);
	if (v.length !== len)
		throw new RangeError(`${name}: expected ${len} bytes, got ${v.length}`);
}

/* The arguments of every one-shot AEAD call: key, nonce of nonce_len, the data, the AD. */
export function crypto_check_aead(key: unknown, nonce: unknown, nonce_len: number, data: unknown,
    data_name: string, ad: unknown): asserts data is Uint8Array {
	crypto_check_len(key, WG_KEY_LEN, 'key');
	crypto_check_len(nonce, nonce_len, 'nonce');
	crypto_check_bytes(data, data_name);
	crypto_check_bytes(ad, 'ad');
}

/* buf[off, off + len) must lie inside buf; off and len non-negative integers. */
export function crypto_check_region(buf: unknown, off: number, len: number, name: string):
    asserts buf is Uint8Array {
	if (!(buf instanceof Uint8Array))
		throw new TypeError(`${name}: expected a Uint8Array`);
	if (!Number.isSafeInteger(off) || off < 0)
		throw new RangeError(`${name}: bad offset ${off}`);
	if (!Number.isSafeInteger(len) || len < 0)
		throw new RangeError(`${name}: bad length ${len}`);
	if (off + len > buf.length)
		throw new RangeError(`${name}: ${len} bytes at offset ${off} overrun a buffer of ${buf.length}`);
}

/*
 * src and dst may be the same bytes (in place) or disjoint; a partial
 * overlap would corrupt the stream in every backend, so refuse it.
 */
export function crypto_check_overlap(src: Uint8Array, srcOff: number, srcLen: number,
    dst: Uint8Array, dstOff: number, dstLen: number): void {
	if (src.buffer !== dst.buffer)
		return;
	const s = src.byteOffset + srcOff;
	const d = dst.byteOffset + dstOff;
	if (s !== d && s < d + dstLen && d < s + srcLen)
		throw new RangeError('dst: overlaps src at a different offset (only in place is allowed)');
}

/* The arguments of aead_seal_into (crypto.ts). */
export function crypto_check_seal_into(key: unknown, src: unknown, srcOff: number, len: number,
    ad: unknown, dst: unknown, dstOff: number): void {
	crypto_check_len(key, WG_KEY_LEN, 'key');
	crypto_check_region(src, srcOff, len, 'src');
	crypto_check_region(dst, dstOff, len + WG_AEAD_TAG_LEN, 'dst');
	if (ad !== null)
		crypto_check_bytes(ad, 'ad');
	crypto_check_overlap(src, srcOff, len, dst, dstOff, len + WG_AEAD_TAG_LEN);
}

/*
 * The arguments of aead_open_into.  False when len cannot even hold a
 * tag: a bad packet, not a programming error, so the open just fails.
 */
export function crypto_check_open_into(key: unknown, src: unknown, srcOff: number, len: number,
    ad: unknown, dst: unknown, dstOff: number): boolean {
	crypto_check_len(key, WG_KEY_LEN, 'key');
	crypto_check_region(src, srcOff, len, 'src');
	if (ad !== null)
		crypto_check_bytes(ad, 'ad');
	if (len < WG_AEAD_TAG_LEN)
		return false;
	crypto_check_region(dst, dstOff, len - WG_AEAD_TAG_LEN, 'dst');
	crypto_check_overlap(src, srcOff, len, dst, dstOff, len - WG_AEAD_TAG_LEN);
	return true;
}

export function crypto_check_counter(counter: number): void {
	if (!Number.isSafeInteger(counter) || counter < 0)
		throw new RangeError(`counter: expected an integer in [0, 2^53), got ${counter}`);
}

/*
 * WireGuard's AEAD nonce (paper §5.4, Aead): 32 zero bits, then the counter
 * as a little-endian 64-bit integer.  Writes into a caller-owned
 * 12-byte buffer so the data path allocates nothing.
 */
export function crypto_set_nonce(nonce: Uint8Array, counter: number): void {
	crypto_check_counter(counter);
	const lo = counter >>> 0;
	const hi = Math.floor(counter / 4294967296) >>> 0;
	nonce[0] = 0;
	nonce[1] = 0;
	nonce[2] = 0;
	nonce[3] = 0;
	nonce[4] = lo & 0xff;
	nonce[5] = (lo >>> 8) & 0xff;
	nonce[6] = (lo >>> 16) & 0xff;
	nonce[7] = lo >>> 24;
	nonce[8] = hi & 0xff;
	nonce[9] = (hi >>> 8) & 0xff;
	nonce[10] = (hi >>> 16) & 0xff;
	nonce[11] = hi >>> 24;
}

type AeadNonceForm<T> = (key: Uint8Array, nonce: Uint8Array, data: Uint8Array, ad: Uint8Array) => T;

/*
 * A backend's one-shot AEAD: its 12-byte-nonce forms, and the counter
 * forms of WgCrypto built on them with the backend's nonce buffer.
 */
export function crypto_aead_forms(nonce: Uint8Array, seal_nonce: AeadNonceForm<Uint8Array>,
    open_nonce: AeadNonceForm<Uint8Array | null>):
    Pick<WgCryptoImpl, 'aead_seal' | 'aead_open' | 'aead_seal_nonce' | 'aead_open_nonce'> {
	return {
		aead_seal(key, counter, plaintext, ad) {
			crypto_set_nonce(nonce, counter);
			return seal_nonce(key, nonce, plaintext, ad);
		},
		aead_open(key, counter, ciphertext, ad) {
			crypto_set_nonce(nonce, counter);
			return open_nonce(key, nonce, ciphertext, ad);
		},
		aead_seal_nonce: seal_nonce,
		aead_open_nonce: open_nonce,
	};
}

export function crypto_check_random_len(n: number): void {
	if (!Number.isSafeInteger(n) || n < 0)
		throw new RangeError(`n: expected a non-negative integer, got ${n}`);
}

/*
 * HASH, MAC, HMAC and KDF1/2/3 over BLAKE2s (RFC 7693; paper §5.4),
 * shared by both backends: libsodium has no BLAKE2s.  Only the
 * handshake and cookie paths use these.
 *
 * Our own BLAKE2s rather than @noble/hashes or node:crypto: a
 * handshake runs ~170 compressions spread over ~90 calls on inputs of
 * one or two blocks, so per-call overhead is what counts.  noble
 * allocates a hasher object (two for HMAC) per call; node:crypto costs
 * a native round trip and a Hash object per call, and createHmac a
 * KeyObject as well.  Here the state lives in a few module-level
 * scratch contexts (JS is single-threaded and nothing below re-enters),
 * the compression keeps its 16 words in locals, and the KDF absorbs
 * the ipad/opad blocks of its PRK once for all of its outputs.
 * Measured per call on this machine: a 64-byte HASH ~0.4 us (noble
 * ~2.3, node:crypto ~1.2), HMAC ~1.1 us (noble ~15, createHmac ~4).
 * The tests check all of it against OpenSSL, the RFC 7693 and
 * blake2s-kat vectors and wireguard-go's KDF table.
 */

import type { WgCrypto } from './crypto.js';
import { WG_HASH_LEN, WG_MAC_LEN } from './crypto.js';
import { crypto_check_bytes } from './crypto_util.js';

const BLAKE2S_MAX_KEY = 32;
const BLOCK_LEN = 64;

/* RFC 7693 §2.6: the SHA-256 IV. */
const IV = Int32Array.of(
	0x6a09e667, 0xbb67ae85 | 0, 0x3c6ef372, 0xa54ff53a | 0,
	0x510e527f, 0x9b05688c | 0, 0x1f83d9ab, 0x5be0cd19);

function le32(b: Uint8Array, o: number): number {
	return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
}

/*
 * F (RFC 7693 §3.2): fold the 64-byte block b[off, off+64) into h.  t
 * is the byte count including this block, last marks the final block.
 *
 * Fully unrolled, message and work vector in locals: each G is four
 * lines (a += b + m; d = (d ^ a) >>> 16; c += d; b = (b ^ c) >>> 12,
 * then again with 8 and 7), columns then diagonals, the message words
 * picked by SIGMA (§2.7) per round.  Measured ~0.2 us a block, against
 * ~0.4 us for a loop over the rounds reading SIGMA from a table (and
 * ~1.6 us with the rotations in a helper: the function is then too
 * big for V8 to inline it).
 */
function compress(h: Int32Array, b: Uint8Array, off: number, t: number, last: boolean): void {
	const m0 = le32(b, off + 0);
	const m1 = le32(b, off + 4);
	const m2 = le32(b, off + 8);
	const m3 = le32(b, off + 12);
	const m4 = le32(b, off + 16);
	const m5 = le32(b, off + 20);
	const m6 = le32(b, off + 24);
	const m7 = le32(b, off + 28);
	const m8 = le32(b, off + 32);
	const m9 = le32(b, off + 36);
	const m10 = le32(b, off + 40);
	const m11 = le32(b, off + 44);
	const m12 = le32(b, off + 48);
	const m13 = le32(b, off + 52);
	const m14 = le32(b, off + 56);
	const m15 = le32(b, off + 60);
	let v0 = h[0], v1 = h[1], v2 = h[2], v3 = h[3];
	let v4 = h[4], v5 = h[5], v6 = h[6], v7 = h[7];
	let v8 = IV[0], v9 = IV[1], v10 = IV[2], v11 = IV[3];
	/* t as two 32-bit words: ^ keeps the low one, the division gives the high one. */
	let v12 = IV[4] ^ t, v13 = IV[5] ^ (t / 4294967296);
	let v14 = last ? ~IV[6] : IV[6], v15 = IV[7];

	/* Round 0, sigma = 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15. */
	v0 = (v0 + v4 + m0) | 0; v12 ^= v0; v12 = (v12 >>> 16) | (v12 << 16);
	v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 12) | (v4 << 20);
	v0 = (v0 + v4 + m1) | 0; v12 ^= v0; v12 = (v12 >>> 8) | (v12 << 24);
	v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 7) | (v4 << 25);
	v1 = (v1 + v5 + m2) | 0; v13 ^= v1; v13 = (v13 >>> 16) | (v13 << 16);
	v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 12) | (v5 << 20);
	v1 = (v1 + v5 + m3) | 0; v13 ^= v1; v13 = (v13 >>> 8) | (v13 << 24);
	v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 7) | (v5 << 25);
	v2 = (v2 + v6 + m4) | 0; v14 ^= v2; v14 = (v14 >>> 16) | (v14 << 16);
	v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 12) | (v6 << 20);
	v2 = (v2 + v6 + m5) | 0; v14 ^= v2; v14 = (v14 >>> 8) | (v14 << 24);
	v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 7) | (v6 << 25);
	v3 = (v3 + v7 + m6) | 0; v15 ^= v3; v15 = (v15 >>> 16) | (v15 << 16);
	v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 12) | (v7 << 20);
	v3 = (v3 + v7 + m7) | 0; v15 ^= v3; v15 = (v15 >>> 8) | (v15 << 24);
	v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 7) | (v7 << 25);
	v0 = (v0 + v5 + m8) | 0; v15 ^= v0; v15 = (v15 >>> 16) | (v15 << 16);
	v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 12) | (v5 << 20);
	v0 = (v0 + v5 + m9) | 0; v15 ^= v0; v15 = (v15 >>> 8) | (v15 << 24);
	v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 7) | (v5 << 25);
	v1 = (v1 + v6 + m10) | 0; v12 ^= v1; v12 = (v12 >>> 16) | (v12 << 16);
	v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 12) | (v6 << 20);
	v1 = (v1 + v6 + m11) | 0; v12 ^= v1; v12 = (v12 >>> 8) | (v12 << 24);
	v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 7) | (v6 << 25);
	v2 = (v2 + v7 + m12) | 0; v13 ^= v2; v13 = (v13 >>> 16) | (v13 << 16);
	v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 12) | (v7 << 20);
	v2 = (v2 + v7 + m13) | 0; v13 ^= v2; v13 = (v13 >>> 8) | (v13 << 24);
	v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 7) | (v7 << 25);
	v3 = (v3 + v4 + m14) | 0; v14 ^= v3; v14 = (v14 >>> 16) | (v14 << 16);
	v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 12) | (v4 << 20);
	v3 = (v3 + v4 + m15) | 0; v14 ^= v3; v14 = (v14 >>> 8) | (v14 << 24);
	v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 7) | (v4 << 25);

	/* Round 1, sigma = 14 10 4 8 9 15 13 6 1 12 0 2 11 7 5 3. */
	v0 = (v0 + v4 + m14) | 0; v12 ^= v0; v12 = (v12 >>> 16) | (v12 << 16);
	v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 12) | (v4 << 20);
	v0 = (v0 + v4 + m10) | 0; v12 ^= v0; v12 = (v12 >>> 8) | (v12 << 24);
	v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 7) | (v4 << 25);
	v1 = (v1 + v5 + m4) | 0; v13 ^= v1; v13 = (v13 >>> 16) | (v13 << 16);
	v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 12) | (v5 << 20);
	v1 = (v1 + v5 + m8) | 0; v13 ^= v1; v13 = (v13 >>> 8) | (v13 << 24);
	v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 7) | (v5 << 25);
	v2 = (v2 + v6 + m9) | 0; v14 ^= v2; v14 = (v14 >>> 16) | (v14 << 16);
	v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 12) | (v6 << 20);
	v2 = (v2 + v6 + m15) | 0; v14 ^= v2; v14 = (v14 >>> 8) | (v14 << 24);
	v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 7) | (v6 << 25);
	v3 = (v3 + v7 + m13) | 0; v15 ^= v3; v15 = (v15 >>> 16) | (v15 << 16);
	v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 12) | (v7 << 20);
	v3 = (v3 + v7 + m6) | 0; v15 ^= v3; v15 = (v15 >>> 8) | (v15 << 24);
	v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 7) | (v7 << 25);
	v0 = (v0 + v5 + m1) | 0; v15 ^= v0; v15 = (v15 >>> 16) | (v15 << 16);
	v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 12) | (v5 << 20);
	v0 = (v0 + v5 + m12) | 0; v15 ^= v0; v15 = (v15 >>> 8) | (v15 << 24);
	v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 7) | (v5 << 25);
	v1 = (v1 + v6 + m0) | 0; v12 ^= v1; v12 = (v12 >>> 16) | (v12 << 16);
	v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 12) | (v6 << 20);
	v1 = (v1 + v6 + m2) | 0; v12 ^= v1; v12 = (v12 >>> 8) | (v12 << 24);
	v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 7) | (v6 << 25);
	v2 = (v2 + v7 + m11) | 0; v13 ^= v2; v13 = (v13 >>> 16) | (v13 << 16);
	v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 12) | (v7 << 20);
	v2 = (v2 + v7 + m7) | 0; v13 ^= v2; v13 = (v13 >>> 8) | (v13 << 24);
	v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 7) | (v7 << 25);
	v3 = (v3 + v4 + m5) | 0; v14 ^= v3; v14 = (v14 >>> 16) | (v14 << 16);
	v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 12) | (v4 << 20);
	v3 = (v3 + v4 + m3) | 0; v14 ^= v3; v14 = (v14 >>> 8) | (v14 << 24);
	v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 7) | (v4 << 25);

	/* Round 2, sigma = 11 8 12 0 5 2 15 13 10 14 3 6 7 1 9 4. */
	v0 = (v0 + v4 + m11) | 0; v12 ^= v0; v12 = (v12 >>> 16) | (v12 << 16);
	v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 12) | (v4 << 20);
	v0 = (v0 + v4 + m8) | 0; v12 ^= v0; v12 = (v12 >>> 8) | (v12 << 24);
	v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 7) | (v4 << 25);
	v1 = (v1 + v5 + m12) | 0; v13 ^= v1; v13 = (v13 >>> 16) | (v13 << 16);
	v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 12) | (v5 << 20);
	v1 = (v1 + v5 + m0) | 0; v13 ^= v1; v13 = (v13 >>> 8) | (v13 << 24);
	v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 7) | (v5 << 25);
	v2 = (v2 + v6 + m5) | 0; v14 ^= v2; v14 = (v14 >>> 16) | (v14 << 16);
	v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 12) | (v6 << 20);
	v2 = (v2 + v6 + m2) | 0; v14 ^= v2; v14 = (v14 >>> 8) | (v14 << 24);
	v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 7) | (v6 << 25);
	v3 = (v3 + v7 + m15) | 0; v15 ^= v3; v15 = (v15 >>> 16) | (v15 << 16);
	v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 12) | (v7 << 20);
	v3 = (v3 + v7 + m13) | 0; v15 ^= v3; v15 = (v15 >>> 8) | (v15 << 24);
	v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 7) | (v7 << 25);
	v0 = (v0 + v5 + m10) | 0; v15 ^= v0; v15 = (v15 >>> 16) | (v15 << 16);
	v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 12) | (v5 << 20);
	v0 = (v0 + v5 + m14) | 0; v15 ^= v0; v15 = (v15 >>> 8) | (v15 << 24);
	v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 7) | (v5 << 25);
	v1 = (v1 + v6 + m3) | 0; v12 ^= v1; v12 = (v12 >>> 16) | (v12 << 16);
	v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 12) | (v6 << 20);
	v1 = (v1 + v6 + m6) | 0; v12 ^= v1; v12 = (v12 >>> 8) | (v12 << 24);
	v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 7) | (v6 << 25);
	v2 = (v2 + v7 + m7) | 0; v13 ^= v2; v13 = (v13 >>> 16) | (v13 << 16);
	v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 12) | (v7 << 20);
	v2 = (v2 + v7 + m1) | 0; v13 ^= v2; v13 = (v13 >>> 8) | (v13 << 24);
	v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 7) | (v7 << 25);
	v3 = (v3 + v4 + m9) | 0; v14 ^= v3; v14 = (v14 >>> 16) | (v14 << 16);
	v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 12) | (v4 << 20);
	v3 = (v3 + v4 + m4) | 0; v14 ^= v3; v14 = (v14 >>> 8) | (v14 << 24);
	v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 7) | (v4 << 25);

	/* Round 3, sigma = 7 9 3 1 13 12 11 14 2 6 5 10 4 0 15 8. */
	v0 = (v0 + v4 + m7) | 0; v12 ^= v0; v12 = (v12 >>> 16) | (v12 << 16);
	v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 12) | (v4 << 20);
	v0 = (v0 + v4 + m9) | 0; v12 ^= v0; v12 = (v12 >>> 8) | (v12 << 24);
	v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 7) | (v4 << 25);
	v1 = (v1 + v5 + m3) | 0; v13 ^= v1; v13 = (v13 >>> 16) | (v13 << 16);
	v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 12) | (v5 << 20);
	v1 = (v1 + v5 + m1) | 0; v13 ^= v1; v13 = (v13 >>> 8) | (v13 << 24);
	v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 7) | (v5 << 25);
	v2 = (v2 + v6 + m13) | 0; v14 ^= v2; v14 = (v14 >>> 16) | (v14 << 16);
	v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 12) | (v6 << 20);
	v2 = (v2 + v6 + m12) | 0; v14 ^= v2; v14 = (v14 >>> 8) | (v14 << 24);
	v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 7) | (v6 << 25);
	v3 = (v3 + v7 + m11) | 0; v15 ^= v3; v15 = (v15 >>> 16) | (v15 << 16);
	v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 12) | (v7 << 20);
	v3 = (v3 + v7 + m14) | 0; v15 ^= v3; v15 = (v15 >>> 8) | (v15 << 24);
	v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 7) | (v7 << 25);
	v0 = (v0 + v5 + m2) | 0; v15 ^= v0; v15 = (v15 >>> 16) | (v15 << 16);
	v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 12) | (v5 << 20);
	v0 = (v0 + v5 + m6) | 0; v15 ^= v0; v15 = (v15 >>> 8) | (v15 << 24);
	v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 7) | (v5 << 25);
	v1 = (v1 + v6 + m5) | 0; v12 ^= v1; v12 = (v12 >>> 16) | (v12 << 16);
	v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 12) | (v6 << 20);
	v1 = (v1 + v6 + m10) | 0; v12 ^= v1; v12 = (v12 >>> 8) | (v12 << 24);
	v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 7) | (v6 << 25);
	v2 = (v2 + v7 + m4) | 0; v13 ^= v2; v13 = (v13 >>> 16) | (v13 << 16);
	v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 12) | (v7 << 20);
	v2 = (v2 + v7 + m0) | 0; v13 ^= v2; v13 = (v13 >>> 8) | (v13 << 24);
	v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 7) | (v7 << 25);
	v3 = (v3 + v4 + m15) | 0; v14 ^= v3; v14 = (v14 >>> 16) | (v14 << 16);
	v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 12) | (v4 << 20);
	v3 = (v3 + v4 + m8) | 0; v14 ^= v3; v14 = (v14 >>> 8) | (v14 << 24);
	v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 7) | (v4 << 25);

	/* Round 4, sigma = 9 0 5 7 2 4 10 15 14 1 11 12 6 8 3 13. */
	v0 = (v0 + v4 + m9) | 0; v12 ^= v0; v12 = (v12 >>> 16) | (v12 << 16);
	v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 12) | (v4 << 20);
	v0 = (v0 + v4 + m0) | 0; v12 ^= v0; v12 = (v12 >>> 8) | (v12 << 24);
	v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 7) | (v4 << 25);
	v1 = (v1 + v5 + m5) | 0; v13 ^= v1; v13 = (v13 >>> 16) | (v13 << 16);
	v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 12) | (v5 << 20);
	v1 = (v1 + v5 + m7) | 0; v13 ^= v1; v13 = (v13 >>> 8) | (v13 << 24);
	v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 7) | (v5 << 25);
	v2 = (v2 + v6 + m2) | 0; v14 ^= v2; v14 = (v14 >>> 16) | (v14 << 16);
	v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 12) | (v6 << 20);
	v2 = (v2 + v6 + m4) | 0; v14 ^= v2; v14 = (v14 >>> 8) | (v14 << 24);
	v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 7) | (v6 << 25);
	v3 = (v3 + v7 + m10) | 0; v15 ^= v3; v15 = (v15 >>> 16) | (v15 << 16);
	v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 12) | (v7 << 20);
	v3 = (v3 + v7 + m15) | 0; v15 ^= v3; v15 = (v15 >>> 8) | (v15 << 24);
	v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 7) | (v7 << 25);
	v0 = (v0 + v5 + m14) | 0; v15 ^= v0; v15 = (v15 >>> 16) | (v15 << 16);
	v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 12) | (v5 << 20);
	v0 = (v0 + v5 + m1) | 0; v15 ^= v0; v15 = (v15 >>> 8) | (v15 << 24);
	v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 7) | (v5 << 25);
	v1 = (v1 + v6 + m11) | 0; v12 ^= v1; v12 = (v12 >>> 16) | (v12 << 16);
	v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 12) | (v6 << 20);
	v1 = (v1 + v6 + m12) | 0; v12 ^= v1; v12 = (v12 >>> 8) | (v12 << 24);
	v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 7) | (v6 << 25);
	v2 = (v2 + v7 + m6) | 0; v13 ^= v2; v13 = (v13 >>> 16) | (v13 << 16);
	v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 12) | (v7 << 20);
	v2 = (v2 + v7 + m8) | 0; v13 ^= v2; v13 = (v13 >>> 8) | (v13 << 24);
	v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 7) | (v7 << 25);
	v3 = (v3 + v4 + m3) | 0; v14 ^= v3; v14 = (v14 >>> 16) | (v14 << 16);
	v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 12) | (v4 << 20);
	v3 = (v3 + v4 + m13) | 0; v14 ^= v3; v14 = (v14 >>> 8) | (v14 << 24);
	v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 7) | (v4 << 25);

	/* Round 5, sigma = 2 12 6 10 0 11 8 3 4 13 7 5 15 14 1 9. */
	v0 = (v0 + v4 + m2) | 0; v12 ^= v0; v12 = (v12 >>> 16) | (v12 << 16);
	v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 12) | (v4 << 20);
	v0 = (v0 + v4 + m12) | 0; v12 ^= v0; v12 = (v12 >>> 8) | (v12 << 24);
	v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 7) | (v4 << 25);
	v1 = (v1 + v5 + m6) | 0; v13 ^= v1; v13 = (v13 >>> 16) | (v13 << 16);
	v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 12) | (v5 << 20);
	v1 = (v1 + v5 + m10) | 0; v13 ^= v1; v13 = (v13 >>> 8) | (v13 << 24);
	v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 7) | (v5 << 25);
	v2 = (v2 + v6 + m0) | 0; v14 ^= v2; v14 = (v14 >>> 16) | (v14 << 16);
	v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 12) | (v6 << 20);
	v2 = (v2 + v6 + m11) | 0; v14 ^= v2; v14 = (v14 >>> 8) | (v14 << 24);
	v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 7) | (v6 << 25);
	v3 = (v3 + v7 + m8) | 0; v15 ^= v3; v15 = (v15 >>> 16) | (v15 << 16);
	v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 12) | (v7 << 20);
	v3 = (v3 + v7 + m3) | 0; v15 ^= v3; v15 = (v15 >>> 8) | (v15 << 24);
	v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 7) | (v7 << 25);
	v0 = (v0 + v5 + m4) | 0; v15 ^= v0; v15 = (v15 >>> 16) | (v15 << 16);
	v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 12) | (v5 << 20);
	v0 = (v0 + v5 + m13) | 0; v15 ^= v0; v15 = (v15 >>> 8) | (v15 << 24);
	v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 7) | (v5 << 25);
	v1 = (v1 + v6 + m7) | 0; v12 ^= v1; v12 = (v12 >>> 16) | (v12 << 16);
	v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 12) | (v6 << 20);
	v1 = (v1 + v6 + m5) | 0; v12 ^= v1; v12 = (v12 >>> 8) | (v12 << 24);
	v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 7) | (v6 << 25);
	v2 = (v2 + v7 + m15) | 0; v13 ^= v2; v13 = (v13 >>> 16) | (v13 << 16);
	v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 12) | (v7 << 20);
	v2 = (v2 + v7 + m14) | 0; v13 ^= v2; v13 = (v13 >>> 8) | (v13 << 24);
	v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 7) | (v7 << 25);
	v3 = (v3 + v4 + m1) | 0; v14 ^= v3; v14 = (v14 >>> 16) | (v14 << 16);
	v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 12) | (v4 << 20);
	v3 = (v3 + v4 + m9) | 0; v14 ^= v3; v14 = (v14 >>> 8) | (v14 << 24);
	v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 7) | (v4 << 25);

	/* Round 6, sigma = 12 5 1 15 14 13 4 10 0 7 6 3 9 2 8 11. */
	v0 = (v0 + v4 + m12) | 0; v12 ^= v0; v12 = (v12 >>> 16) | (v12 << 16);
	v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 12) | (v4 << 20);
	v0 = (v0 + v4 + m5) | 0; v12 ^= v0; v12 = (v12 >>> 8) | (v12 << 24);
	v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 7) | (v4 << 25);
	v1 = (v1 + v5 + m1) | 0; v13 ^= v1; v13 = (v13 >>> 16) | (v13 << 16);
	v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 12) | (v5 << 20);
	v1 = (v1 + v5 + m15) | 0; v13 ^= v1; v13 = (v13 >>> 8) | (v13 << 24);
	v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 7) | (v5 << 25);
	v2 = (v2 + v6 + m14) | 0; v14 ^= v2; v14 = (v14 >>> 16) | (v14 << 16);
	v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 12) | (v6 << 20);
	v2 = (v2 + v6 + m13) | 0; v14 ^= v2; v14 = (v14 >>> 8) | (v14 << 24);
	v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 7) | (v6 << 25);
	v3 = (v3 + v7 + m4) | 0; v15 ^= v3; v15 = (v15 >>> 16) | (v15 << 16);
	v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 12) | (v7 << 20);
	v3 = (v3 + v7 + m10) | 0; v15 ^= v3; v15 = (v15 >>> 8) | (v15 << 24);
	v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 7) | (v7 << 25);
	v0 = (v0 + v5 + m0) | 0; v15 ^= v0; v15 = (v15 >>> 16) | (v15 << 16);
	v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 12) | (v5 << 20);
	v0 = (v0 + v5 + m7) | 0; v15 ^= v0; v15 = (v15 >>> 8) | (v15 << 24);
	v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 7) | (v5 << 25);
	v1 = (v1 + v6 + m6) | 0; v12 ^= v1; v12 = (v12 >>> 16) | (v12 << 16);
	v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 12) | (v6 << 20);
	v1 = (v1 + v6 + m3) | 0; v12 ^= v1; v12 = (v12 >>> 8) | (v12 << 24);
	v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 7) | (v6 << 25);
	v2 = (v2 + v7 + m9) | 0; v13 ^= v2; v13 = (v13 >>> 16) | (v13 << 16);
	v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 12) | (v7 << 20);
	v2 = (v2 + v7 + m2) | 0; v13 ^= v2; v13 = (v13 >>> 8) | (v13 << 24);
	v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 7) | (v7 << 25);
	v3 = (v3 + v4 + m8) | 0; v14 ^= v3; v14 = (v14 >>> 16) | (v14 << 16);
	v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 12) | (v4 << 20);
	v3 = (v3 + v4 + m11) | 0; v14 ^= v3; v14 = (v14 >>> 8) | (v14 << 24);
	v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 7) | (v4 << 25);

	/* Round 7, sigma = 13 11 7 14 12 1 3 9 5 0 15 4 8 6 2 10. */
	v0 = (v0 + v4 + m13) | 0; v12 ^= v0; v12 = (v12 >>> 16) | (v12 << 16);
	v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 12) | (v4 << 20);
	v0 = (v0 + v4 + m11) | 0; v12 ^= v0; v12 = (v12 >>> 8) | (v12 << 24);
	v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 7) | (v4 << 25);
	v1 = (v1 + v5 + m7) | 0; v13 ^= v1; v13 = (v13 >>> 16) | (v13 << 16);
	v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 12) | (v5 << 20);
	v1 = (v1 + v5 + m14) | 0; v13 ^= v1; v13 = (v13 >>> 8) | (v13 << 24);
	v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 7) | (v5 << 25);
	v2 = (v2 + v6 + m12) | 0; v14 ^= v2; v14 = (v14 >>> 16) | (v14 << 16);
	v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 12) | (v6 << 20);
	v2 = (v2 + v6 + m1) | 0; v14 ^= v2; v14 = (v14 >>> 8) | (v14 << 24);
	v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 7) | (v6 << 25);
	v3 = (v3 + v7 + m3) | 0; v15 ^= v3; v15 = (v15 >>> 16) | (v15 << 16);
	v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 12) | (v7 << 20);
	v3 = (v3 + v7 + m9) | 0; v15 ^= v3; v15 = (v15 >>> 8) | (v15 << 24);
	v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 7) | (v7 << 25);
	v0 = (v0 + v5 + m5) | 0; v15 ^= v0; v15 = (v15 >>> 16) | (v15 << 16);
	v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 12) | (v5 << 20);
	v0 = (v0 + v5 + m0) | 0; v15 ^= v0; v15 = (v15 >>> 8) | (v15 << 24);
	v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 7) | (v5 << 25);
	v1 = (v1 + v6 + m15) | 0; v12 ^= v1; v12 = (v12 >>> 16) | (v12 << 16);
	v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 12) | (v6 << 20);
	v1 = (v1 + v6 + m4) | 0; v12 ^= v1; v12 = (v12 >>> 8) | (v12 << 24);
	v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 7) | (v6 << 25);
	v2 = (v2 + v7 + m8) | 0; v13 ^= v2; v13 = (v13 >>> 16) | (v13 << 16);
	v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 12) | (v7 << 20);
	v2 = (v2 + v7 + m6) | 0; v13 ^= v2; v13 = (v13 >>> 8) | (v13 << 24);
	v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 7) | (v7 << 25);
	v3 = (v3 + v4 + m2) | 0; v14 ^= v3; v14 = (v14 >>> 16) | (v14 << 16);
	v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 12) | (v4 << 20);
	v3 = (v3 + v4 + m10) | 0; v14 ^= v3; v14 = (v14 >>> 8) | (v14 << 24);
	v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 7) | (v4 << 25);

	/* Round 8, sigma = 6 15 14 9 11 3 0 8 12 2 13 7 1 4 10 5. */
	v0 = (v0 + v4 + m6) | 0; v12 ^= v0; v12 = (v12 >>> 16) | (v12 << 16);
	v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 12) | (v4 << 20);
	v0 = (v0 + v4 + m15) | 0; v12 ^= v0; v12 = (v12 >>> 8) | (v12 << 24);
	v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 7) | (v4 << 25);
	v1 = (v1 + v5 + m14) | 0; v13 ^= v1; v13 = (v13 >>> 16) | (v13 << 16);
	v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 12) | (v5 << 20);
	v1 = (v1 + v5 + m9) | 0; v13 ^= v1; v13 = (v13 >>> 8) | (v13 << 24);
	v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 7) | (v5 << 25);
	v2 = (v2 + v6 + m11) | 0; v14 ^= v2; v14 = (v14 >>> 16) | (v14 << 16);
	v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 12) | (v6 << 20);
	v2 = (v2 + v6 + m3) | 0; v14 ^= v2; v14 = (v14 >>> 8) | (v14 << 24);
	v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 7) | (v6 << 25);
	v3 = (v3 + v7 + m0) | 0; v15 ^= v3; v15 = (v15 >>> 16) | (v15 << 16);
	v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 12) | (v7 << 20);
	v3 = (v3 + v7 + m8) | 0; v15 ^= v3; v15 = (v15 >>> 8) | (v15 << 24);
	v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 7) | (v7 << 25);
	v0 = (v0 + v5 + m12) | 0; v15 ^= v0; v15 = (v15 >>> 16) | (v15 << 16);
	v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 12) | (v5 << 20);
	v0 = (v0 + v5 + m2) | 0; v15 ^= v0; v15 = (v15 >>> 8) | (v15 << 24);
	v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 7) | (v5 << 25);
	v1 = (v1 + v6 + m13) | 0; v12 ^= v1; v12 = (v12 >>> 16) | (v12 << 16);
	v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 12) | (v6 << 20);
	v1 = (v1 + v6 + m7) | 0; v12 ^= v1; v12 = (v12 >>> 8) | (v12 << 24);
	v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 7) | (v6 << 25);
	v2 = (v2 + v7 + m1) | 0; v13 ^= v2; v13 = (v13 >>> 16) | (v13 << 16);
	v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 12) | (v7 << 20);
	v2 = (v2 + v7 + m4) | 0; v13 ^= v2; v13 = (v13 >>> 8) | (v13 << 24);
	v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 7) | (v7 << 25);
	v3 = (v3 + v4 + m10) | 0; v14 ^= v3; v14 = (v14 >>> 16) | (v14 << 16);
	v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 12) | (v4 << 20);
	v3 = (v3 + v4 + m5) | 0; v14 ^= v3; v14 = (v14 >>> 8) | (v14 << 24);
	v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 7) | (v4 << 25);

	/* Round 9, sigma = 10 2 8 4 7 6 1 5 15 11 9 14 3 12 13 0. */
	v0 = (v0 + v4 + m10) | 0; v12 ^= v0; v12 = (v12 >>> 16) | (v12 << 16);
	v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 12) | (v4 << 20);
	v0 = (v0 + v4 + m2) | 0; v12 ^= v0; v12 = (v12 >>> 8) | (v12 << 24);
	v8 = (v8 + v12) | 0; v4 ^= v8; v4 = (v4 >>> 7) | (v4 << 25);
	v1 = (v1 + v5 + m8) | 0; v13 ^= v1; v13 = (v13 >>> 16) | (v13 << 16);
	v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 12) | (v5 << 20);
	v1 = (v1 + v5 + m4) | 0; v13 ^= v1; v13 = (v13 >>> 8) | (v13 << 24);
	v9 = (v9 + v13) | 0; v5 ^= v9; v5 = (v5 >>> 7) | (v5 << 25);
	v2 = (v2 + v6 + m7) | 0; v14 ^= v2; v14 = (v14 >>> 16) | (v14 << 16);
	v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 12) | (v6 << 20);
	v2 = (v2 + v6 + m6) | 0; v14 ^= v2; v14 = (v14 >>> 8) | (v14 << 24);
	v10 = (v10 + v14) | 0; v6 ^= v10; v6 = (v6 >>> 7) | (v6 << 25);
	v3 = (v3 + v7 + m1) | 0; v15 ^= v3; v15 = (v15 >>> 16) | (v15 << 16);
	v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 12) | (v7 << 20);
	v3 = (v3 + v7 + m5) | 0; v15 ^= v3; v15 = (v15 >>> 8) | (v15 << 24);
	v11 = (v11 + v15) | 0; v7 ^= v11; v7 = (v7 >>> 7) | (v7 << 25);
	v0 = (v0 + v5 + m15) | 0; v15 ^= v0; v15 = (v15 >>> 16) | (v15 << 16);
	v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 12) | (v5 << 20);
	v0 = (v0 + v5 + m11) | 0; v15 ^= v0; v15 = (v15 >>> 8) | (v15 << 24);
	v10 = (v10 + v15) | 0; v5 ^= v10; v5 = (v5 >>> 7) | (v5 << 25);
	v1 = (v1 + v6 + m9) | 0; v12 ^= v1; v12 = (v12 >>> 16) | (v12 << 16);
	v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 12) | (v6 << 20);
	v1 = (v1 + v6 + m14) | 0; v12 ^= v1; v12 = (v12 >>> 8) | (v12 << 24);
	v11 = (v11 + v12) | 0; v6 ^= v11; v6 = (v6 >>> 7) | (v6 << 25);
	v2 = (v2 + v7 + m3) | 0; v13 ^= v2; v13 = (v13 >>> 16) | (v13 << 16);
	v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 12) | (v7 << 20);
	v2 = (v2 + v7 + m12) | 0; v13 ^= v2; v13 = (v13 >>> 8) | (v13 << 24);
	v8 = (v8 + v13) | 0; v7 ^= v8; v7 = (v7 >>> 7) | (v7 << 25);
	v3 = (v3 + v4 + m13) | 0; v14 ^= v3; v14 = (v14 >>> 16) | (v14 << 16);
	v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 12) | (v4 << 20);
	v3 = (v3 + v4 + m0) | 0; v14 ^= v3; v14 = (v14 >>> 8) | (v14 << 24);
	v9 = (v9 + v14) | 0; v4 ^= v9; v4 = (v4 >>> 7) | (v4 << 25);

	h[0] ^= v0 ^ v8;
	h[1] ^= v1 ^ v9;
	h[2] ^= v2 ^ v10;
	h[3] ^= v3 ^ v11;
	h[4] ^= v4 ^ v12;
	h[5] ^= v5 ^ v13;
	h[6] ^= v6 ^ v14;
	h[7] ^= v7 ^ v15;
}

/*
 * A BLAKE2s computation in progress.  As RFC 7693 requires, a full
 * block stays buffered until more input shows it is not the last one.
 */
class Blake2sCtx {
	readonly h = new Int32Array(8);
	readonly buf = new Uint8Array(BLOCK_LEN);
	len = 0;	/* bytes in buf */
	t = 0;		/* bytes compressed so far */
	outlen = WG_HASH_LEN;

	/* Parameter block (§2.5): digest length, key length, fanout = depth = 1. */
	init(outlen: number, key: Uint8Array | null): this {
		this.h.set(IV);
		const keylen = key === null ? 0 : key.length;
		this.h[0] ^= 0x01010000 ^ (keylen << 8) ^ outlen;
		this.outlen = outlen;
		this.t = 0;
		this.len = 0;
		if (key !== null && keylen > 0) {
			this.buf.fill(0);
			this.buf.set(key);
			this.len = BLOCK_LEN;
		}
		return this;
	}

	copy_from(o: Blake2sCtx): this {
		this.h.set(o.h);
		this.buf.set(o.buf);
		this.len = o.len;
		this.t = o.t;
		this.outlen = o.outlen;
		return this;
	}

	update(d: Uint8Array): this {
		const n = d.length;
		let off = 0;
		while (off < n) {
			if (this.len === BLOCK_LEN) {
				this.t += BLOCK_LEN;
				compress(this.h, this.buf, 0, this.t, false);
				this.len = 0;
			}
			/* Whole blocks straight from the input, all but a last one. */
			if (this.len === 0) {
				while (n - off > BLOCK_LEN) {
					this.t += BLOCK_LEN;
					compress(this.h, d, off, this.t, false);
					off += BLOCK_LEN;
				}
			}
			const take = Math.min(BLOCK_LEN - this.len, n - off);
			for (let i = 0; i < take; i++)
				this.buf[this.len + i] = d[off + i];
			this.len += take;
			off += take;
		}
		return this;
	}

	/* One byte; the KDF's counter. */
	update_byte(x: number): this {
		if (this.len === BLOCK_LEN) {
			this.t += BLOCK_LEN;
			compress(this.h, this.buf, 0, this.t, false);
			this.len = 0;
		}
		this.buf[this.len++] = x;
		return this;
	}

	/*
	 * Compress a buffered full block now.  Only for a caller that will
	 * add more input before final(): HMAC's pad blocks, precomputed.
	 */
	flush(): this {
		if (this.len === BLOCK_LEN) {
			this.t += BLOCK_LEN;
			compress(this.h, this.buf, 0, this.t, false);
			this.len = 0;
		}
		return this;
	}

	/* Write the digest (outlen bytes) at out[off]. */
	final(out: Uint8Array, off: number): void {
		this.t += this.len;
		this.buf.fill(0, this.len);
		compress(this.h, this.buf, 0, this.t, true);
		const h = this.h;
		for (let i = 0; i < this.outlen; i++)
			out[off + i] = h[i >> 2] >>> (8 * (i & 3));
	}

	wipe(): void {
		this.h.fill(0);
		this.buf.fill(0);
		this.len = 0;
		this.t = 0;
	}
}

/*
 * Scratch state.  W is the working context; IPAD/OPAD hold HMAC's key
 * blocks absorbed; PAD, INNER and PRK are byte scratch.  All of it is
 * wiped before a function returns: it held key material.
 */
const W = new Blake2sCtx();
const IPAD = new Blake2sCtx();
const OPAD = new Blake2sCtx();
const PAD = new Uint8Array(BLOCK_LEN);
const INNER = new Uint8Array(WG_HASH_LEN);
const PRK = new Uint8Array(WG_HASH_LEN);

/* HASH(parts...) = BLAKE2s-256(parts[0] ‖ parts[1] ‖ ...). */
export function blake2s_hash(...parts: Uint8Array[]): Uint8Array {
	for (let i = 0; i < parts.length; i++)
		crypto_check_bytes(parts[i], `parts[${i}]`);
	W.init(WG_HASH_LEN, null);
	for (let i = 0; i < parts.length; i++)
		W.update(parts[i]);
	const out = new Uint8Array(WG_HASH_LEN);
	W.final(out, 0);
	W.wipe();
	return out;
}

/* MAC(key, data) = keyed BLAKE2s with a 16-byte output; not HMAC (paper §5.4). */
export function blake2s_mac(key: Uint8Array, data: Uint8Array): Uint8Array {
	crypto_check_bytes(key, 'key');
	crypto_check_bytes(data, 'data');
	if (key.length < 1 || key.length > BLAKE2S_MAX_KEY)
		throw new RangeError(`key: expected 1 to ${BLAKE2S_MAX_KEY} bytes, got ${key.length}`);
	const out = new Uint8Array(WG_MAC_LEN);
	W.init(WG_MAC_LEN, key).update(data).final(out, 0);
	W.wipe();
	return out;
}

/*
 * HMAC's key blocks (RFC 2104, BLAKE2s' block is 64 bytes) absorbed
 * into IPAD and OPAD.  Only with more_follows (the message will not
 * be empty) may the inner block be compressed ahead; the outer one
 * always can, the inner digest follows it.
 */
function hmac_setkey(key: Uint8Array, more_follows: boolean): void {
	let k = key;
	if (key.length > BLOCK_LEN) {
		W.init(WG_HASH_LEN, null).update(key).final(INNER, 0);
		k = INNER;
	}
	PAD.fill(0x36);
	for (let i = 0; i < k.length; i++)
		PAD[i] ^= k[i];
	IPAD.init(WG_HASH_LEN, null).update(PAD);
	if (more_follows)
		IPAD.flush();
	PAD.fill(0x5c);
	for (let i = 0; i < k.length; i++)
		PAD[i] ^= k[i];
	OPAD.init(WG_HASH_LEN, null).update(PAD).flush();
	PAD.fill(0);
}

/* HMAC(key, inner input already in W) finished into out[off]. */
function hmac_finish(out: Uint8Array, off: number): void {
	W.final(INNER, 0);
	W.copy_from(OPAD).update(INNER).final(out, off);
}

function hmac_wipe(): void {
	W.wipe();
	IPAD.wipe();
	OPAD.wipe();
	INNER.fill(0);
	PRK.fill(0);
}

/* HMAC-BLAKE2s-256, RFC 2104 with BLAKE2s' 64-byte block. */
export function blake2s_hmac(key: Uint8Array, data: Uint8Array): Uint8Array {
	crypto_check_bytes(key, 'key');
	crypto_check_bytes(data, 'data');
	hmac_setkey(key, data.length > 0);
	W.copy_from(IPAD).update(data);
	const out = new Uint8Array(WG_HASH_LEN);
	hmac_finish(out, 0);
	hmac_wipe();
	return out;
}

/*
 * KDFn(key, input), HKDF without info (§5.4): prk = HMAC(key, input),
 * T1 = HMAC(prk, 0x1), Ti = HMAC(prk, T(i-1) ‖ i).  The PRK's pad
 * blocks are absorbed once for all n outputs.
 */
function blake2s_kdf(n: number, key: Uint8Array, input: Uint8Array): Uint8Array[] {
	crypto_check_bytes(key, 'key');
	crypto_check_bytes(input, 'input');
	hmac_setkey(key, input.length > 0);
	W.copy_from(IPAD).update(input);
	hmac_finish(PRK, 0);
	hmac_setkey(PRK, true);
	const out: Uint8Array[] = [];
	for (let i = 0; i < n; i++) {
		W.copy_from(IPAD);
		if (i > 0)
			W.update(out[i - 1]);
		W.update_byte(i + 1);
		const t = new Uint8Array(WG_HASH_LEN);
		hmac_finish(t, 0);
		out.push(t);
	}
	hmac_wipe();
	return out;
}

export function blake2s_kdf1(key: Uint8Array, input: Uint8Array): Uint8Array {
	return blake2s_kdf(1, key, input)[0];
}

export function blake2s_kdf2(key: Uint8Array, input: Uint8Array): [Uint8Array, Uint8Array] {
	const t = blake2s_kdf(2, key, input);
	return [t[0], t[1]];
}

export function blake2s_kdf3(key: Uint8Array, input: Uint8Array): [Uint8Array, Uint8Array, Uint8Array] {
	const t = blake2s_kdf(3, key, input);
	return [t[0], t[1], t[2]];
}

/* The hashing half of WgCrypto, ready to be spread into a backend object. */
export const blake2s_ops: Pick<WgCrypto, 'hash' | 'mac' | 'hmac' | 'kdf1' | 'kdf2' | 'kdf3'> = Object.freeze({
	hash: blake2s_hash,
	mac: blake2s_mac,
	hmac: blake2s_hmac,
	kdf1: blake2s_kdf1,
	kdf2: blake2s_kdf2,
	kdf3: blake2s_kdf3,
});

// SPDX-License-Identifier: BSD-2-Clause
/*
 * The cryptographic interface of the WireGuard stack (share/doc/DESIGN.md §5).
 *
 * One small set of primitives, three backends behind it: "openssl"
 * (the data path's ChaCha20-Poly1305 from the system OpenSSL 3, the
 * rest from sodium; the default), "sodium" (the system libsodium
 * through koffi) and "noble" (pure TypeScript).  Everything above
 * this file (sys/net/wg/) sees only WgCrypto and never knows which
 * backend runs.
 *
 * Sizes are fixed by the protocol (paper §5.4): keys and hashes are
 * 32 bytes, MACs 16, AEAD tags 16, XAEAD nonces 24.
 *
 * Error contract: a programming error (a key or nonce of the wrong
 * length, an offset or length outside its buffer, a counter that is not
 * an integer in [0, 2^53), a partial overlap of src and dst) throws a
 * RangeError (TypeError for a non-Uint8Array) whose message starts with
 * the argument's name.  Bad data never throws: a failed authentication
 * is null or false.
 *
 * Get an instance with crypto_attach() (crypto_select.ts); helpers
 * crypto_const_eq() and crypto_wipe() are in crypto_util.ts.
 */

export const WG_KEY_LEN = 32;
export const WG_HASH_LEN = 32;
export const WG_MAC_LEN = 16;
export const WG_AEAD_TAG_LEN = 16;
export const WG_XAEAD_NONCE_LEN = 24;

export type WgCryptoBackend = 'openssl' | 'sodium' | 'noble';

export interface WgCrypto {
	readonly backend: WgCryptoBackend;

	/* HASH: BLAKE2s-256 over the concatenation of the parts. */
	hash(...parts: Uint8Array[]): Uint8Array;
	/* MAC: keyed BLAKE2s with a 16-byte output (not HMAC); key of 1 to 32 bytes. */
	mac(key: Uint8Array, data: Uint8Array): Uint8Array;
	/* HMAC-BLAKE2s-256 (RFC 2104, block size 64). */
	hmac(key: Uint8Array, data: Uint8Array): Uint8Array;
	/* HKDF without info, as the paper defines KDF1/2/3. */
	kdf1(key: Uint8Array, input: Uint8Array): Uint8Array;
	kdf2(key: Uint8Array, input: Uint8Array): [Uint8Array, Uint8Array];
	kdf3(key: Uint8Array, input: Uint8Array): [Uint8Array, Uint8Array, Uint8Array];

	/*
	 * ChaCha20-Poly1305 with WireGuard's nonce: 4 zero bytes then the
	 * counter as a little-endian u64.  counter is a non-negative integer
	 * below 2^53.
	 *
	 * Allocation-free forms for the data path: seal writes len + 16 bytes
	 * at dst[dstOff] and returns that count; open reads len bytes
	 * (ciphertext plus tag) at src[srcOff], writes len - 16 bytes of
	 * plaintext at dst[dstOff] and returns false when authentication
	 * fails (dst contents are then unspecified).  src and dst may be the
	 * same buffer at the same offset (in place).  There is no batch
	 * form: neither libsodium nor OpenSSL seals several messages in one
	 * call, so it would only move the per-packet loop (crypto_openssl.ts).
	 */
	aead_seal_into(key: Uint8Array, counter: number, src: Uint8Array, srcOff: number, len: number,
	    ad: Uint8Array | null, dst: Uint8Array, dstOff: number): number;
	aead_open_into(key: Uint8Array, counter: number, src: Uint8Array, srcOff: number, len: number,
	    ad: Uint8Array | null, dst: Uint8Array, dstOff: number): boolean;
	/*
	 * The session key is being dropped: erase any copy of it this
	 * thread's backend still holds (the openssl backend's cipher
	 * context keeps the last data-path key until its next call; the
	 * others keep nothing).  Call it before wiping the key buffer, on
	 * every thread that used the key.
	 */
	aead_forget(key: Uint8Array): void;
	/*
	 * Convenience forms for the handshake: return new buffers; open
	 * returns null on failure.  No backend keeps their keys.
	 */
	aead_seal(key: Uint8Array, counter: number, plaintext: Uint8Array, ad: Uint8Array): Uint8Array;
	aead_open(key: Uint8Array, counter: number, ciphertext: Uint8Array, ad: Uint8Array): Uint8Array | null;

	/* XChaCha20-Poly1305 (cookie replies), 24-byte nonce. */
	xaead_seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array;
	xaead_open(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Uint8Array | null;

	/*
	 * X25519.  Returns null when the result is all zeros (low-order point).
	 * priv is clamped internally; bit 255 of pub is ignored (RFC 7748 §5),
	 * so a low-order value with that bit set is an ordinary point.
	 */
	dh(priv: Uint8Array, pub: Uint8Array): Uint8Array | null;
	/* X25519(priv, 9). */
	public_key(priv: Uint8Array): Uint8Array;
	/* 32 random bytes, clamped (k[0] &= 248; k[31] &= 127; k[31] |= 64). */
	generate_private_key(): Uint8Array;
	/* n cryptographically random bytes. */
	random_bytes(n: number): Uint8Array;
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * The "sodium" backend: the system libsodium through koffi, as NetBSD
 * imported libsodium for wg(4).  ChaCha20-Poly1305 (IETF, 12-byte
 * nonce), XChaCha20-Poly1305, X25519 and randomness come from the C
 * library; BLAKE2s and what is built on it come from blake2s.ts, since
 * libsodium has no BLAKE2s.
 *
 * The data path (aead_seal_into/aead_open_into) allocates nothing per
 * call: the nonce lives in one reused buffer, and every pointer reaches
 * C as an address number, each buffer's address taken once
 * (crypto_ffi.ts).  A typed array or a cached subarray view per
 * argument cost koffi N-API work on every call, and a view per
 * (buffer, offset) pair allocated on the receive path, where GRO trains
 * put datagrams at ever new offsets.
 */

import koffi from 'koffi';
import {
	WG_AEAD_TAG_LEN, WG_KEY_LEN, WG_XAEAD_NONCE_LEN,
} from './crypto.js';
import { blake2s_ops } from './blake2s.js';
import { CryptoAddrCache } from './crypto_ffi.js';
import {
	AEAD_NONCE_LEN, crypto_aead_forms, type WgCryptoImpl,
	crypto_check_aead, crypto_check_len, crypto_check_open_into, crypto_check_random_len,
	crypto_check_seal_into, crypto_clamp, crypto_is_zero, crypto_set_nonce, crypto_wipe,
} from './crypto_util.js';

/* Debian 12's libsodium23; the unversioned name only exists with -dev. */
export const SODIUM_LIBS: readonly string[] = ['libsodium.so.23', 'libsodium.so'];

type AeadEncrypt = (c: Uint8Array, clen_p: null, m: Uint8Array, mlen: number,
    ad: Uint8Array | null, adlen: number, nsec: null, npub: Uint8Array, k: Uint8Array) => number;
type AeadDecrypt = (m: Uint8Array, mlen_p: null, nsec: null, c: Uint8Array, clen: number,
    ad: Uint8Array | null, adlen: number, npub: Uint8Array, k: Uint8Array) => number;

/* The data path's forms: pointers as address numbers (crypto_ffi.ts), 0 for NULL. */
type AeadEncryptAddr = (c: number, clen_p: number, m: number, mlen: number,
    ad: number, adlen: number, nsec: number, npub: number, k: number) => number;
type AeadDecryptAddr = (m: number, mlen_p: number, nsec: number, c: number, clen: number,
    ad: number, adlen: number, npub: number, k: number) => number;

interface Sodium {
	readonly path: string;
	readonly version: string;
	aead_encrypt: AeadEncrypt;
	aead_decrypt: AeadDecrypt;
	aead_encrypt_addr: AeadEncryptAddr;
	aead_decrypt_addr: AeadDecryptAddr;
	xaead_encrypt: AeadEncrypt;
	xaead_decrypt: AeadDecrypt;
	scalarmult: (q: Uint8Array, n: Uint8Array, p: Uint8Array) => number;
	scalarmult_base: (q: Uint8Array, n: Uint8Array) => number;
	randombytes_buf: (buf: Uint8Array, size: number) => void;
}

/* One binding per thread (module instance); koffi works in workers too. */
let sodium: Sodium | null = null;

function sodium_bind(path: string): Sodium {
	const lib = koffi.load(path);
	const init = lib.func('int sodium_init(void)');
	/* 0: done, 1: already done, -1: failure (no entropy source). */
	if (init() < 0)
		throw new Error('sodium_init() failed');
	const aead_enc = '(uint8_t *c, unsigned long long *clen_p, const uint8_t *m, ' +
	    'unsigned long long mlen, const uint8_t *ad, unsigned long long adlen, ' +
	    'const uint8_t *nsec, const uint8_t *npub, const uint8_t *k)';
	const aead_dec = '(uint8_t *m, unsigned long long *mlen_p, uint8_t *nsec, ' +
	    'const uint8_t *c, unsigned long long clen, const uint8_t *ad, ' +
	    'unsigned long long adlen, const uint8_t *npub, const uint8_t *k)';
	const version = lib.func('const char *sodium_version_string(void)');
	const P = 'uintptr_t';
	const L = 'unsigned long long';
	return {
		path,
		version: String(version()),
		aead_encrypt: lib.func('int crypto_aead_chacha20poly1305_ietf_encrypt' + aead_enc),
		aead_decrypt: lib.func('int crypto_aead_chacha20poly1305_ietf_decrypt' + aead_dec),
		aead_encrypt_addr: lib.func('crypto_aead_chacha20poly1305_ietf_encrypt', 'int', [P, P, P, L, P, L, P, P, P]),
		aead_decrypt_addr: lib.func('crypto_aead_chacha20poly1305_ietf_decrypt', 'int', [P, P, P, P, L, P, L, P, P]),
		xaead_encrypt: lib.func('int crypto_aead_xchacha20poly1305_ietf_encrypt' + aead_enc),
		xaead_decrypt: lib.func('int crypto_aead_xchacha20poly1305_ietf_decrypt' + aead_dec),
		scalarmult: lib.func('int crypto_scalarmult_curve25519(uint8_t *q, const uint8_t *n, const uint8_t *p)'),
		scalarmult_base: lib.func('int crypto_scalarmult_curve25519_base(uint8_t *q, const uint8_t *n)'),
		randombytes_buf: lib.func('void randombytes_buf(uint8_t *buf, size_t size)'),
	};
}

/*
 * Load libsodium once.  Throws an Error naming every path tried and why
 * each failed; crypto_attach() turns that into a fallback or an error.
 */
function sodium_load(paths: readonly string[]): Sodium {
	if (sodium !== null)
		return sodium;
	const why: string[] = [];
	for (const p of paths) {
		try {
			sodium = sodium_bind(p);
			return sodium;
		} catch (e) {
			why.push(`${p}: ${e instanceof Error ? e.message : String(e)}`);
		}
	}
	throw new Error(`cannot load libsodium (${why.join('; ')})`);
}

/* The libsodium version string, or null when it is not loaded. */
export function crypto_sodium_version(): string | null {
	return sodium === null ? null : sodium.version;
}

export function crypto_sodium_attach(paths: readonly string[] = SODIUM_LIBS): WgCryptoImpl {
	const na = sodium_load(paths);
	const nonce = new Uint8Array(new ArrayBuffer(AEAD_NONCE_LEN));
	/* One cache per argument: each sees the same buffer call after call. */
	const src_addrs = new CryptoAddrCache();
	const dst_addrs = new CryptoAddrCache();
	const key_addrs = new CryptoAddrCache();
	const nonce_p = key_addrs.addr(nonce, 0);
	const ad_addr = (ad: Uint8Array | null): number => ad === null || ad.length === 0 ? 0 : src_addrs.addr(ad, 0);

	function seal_nonce(key: Uint8Array, n: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
		crypto_check_aead(key, n, AEAD_NONCE_LEN, plaintext, 'plaintext', ad);
		const out = new Uint8Array(plaintext.length + WG_AEAD_TAG_LEN);
		na.aead_encrypt(out, null, plaintext, plaintext.length, ad, ad.length, null, n, key);
		return out;
	}

	function open_nonce(key: Uint8Array, n: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Uint8Array | null {
		crypto_check_aead(key, n, AEAD_NONCE_LEN, ciphertext, 'ciphertext', ad);
		if (ciphertext.length < WG_AEAD_TAG_LEN)
			return null;
		const out = new Uint8Array(ciphertext.length - WG_AEAD_TAG_LEN);
		if (na.aead_decrypt(out, null, null, ciphertext, ciphertext.length, ad, ad.length, n, key) !== 0)
			return null;
		return out;
	}

	const self: WgCryptoImpl = {
		backend: 'sodium',
		...blake2s_ops,

		aead_seal_into(key, counter, src, srcOff, len, ad, dst, dstOff) {
			crypto_check_seal_into(key, src, srcOff, len, ad, dst, dstOff);
			crypto_set_nonce(nonce, counter);
			/* libsodium allows m == c (in place). */
			na.aead_encrypt_addr(dst_addrs.addr(dst, dstOff), 0, len === 0 ? 0 : src_addrs.addr(src, srcOff), len,
			    ad_addr(ad), ad === null ? 0 : ad.length, 0, nonce_p, key_addrs.addr(key, 0));
			return len + WG_AEAD_TAG_LEN;
		},

		aead_open_into(key, counter, src, srcOff, len, ad, dst, dstOff) {
			crypto_set_nonce(nonce, counter);
			if (!crypto_check_open_into(key, src, srcOff, len, ad, dst, dstOff))
				return false;
			/* Verifies the tag before writing any plaintext; m == c is allowed. */
			return na.aead_decrypt_addr(len === WG_AEAD_TAG_LEN ? 0 : dst_addrs.addr(dst, dstOff), 0, 0,
			    src_addrs.addr(src, srcOff), len, ad_addr(ad), ad === null ? 0 : ad.length, nonce_p,
			    key_addrs.addr(key, 0)) === 0;
		},

		aead_forget() {
			/* libsodium keeps no key between calls. */
		},

		...crypto_aead_forms(nonce, seal_nonce, open_nonce),

		xaead_seal(key, n, plaintext, ad) {
			crypto_check_aead(key, n, WG_XAEAD_NONCE_LEN, plaintext, 'plaintext', ad);
			const out = new Uint8Array(plaintext.length + WG_AEAD_TAG_LEN);
			na.xaead_encrypt(out, null, plaintext, plaintext.length, ad, ad.length, null, n, key);
			return out;
		},

		xaead_open(key, n, ciphertext, ad) {
			crypto_check_aead(key, n, WG_XAEAD_NONCE_LEN, ciphertext, 'ciphertext', ad);
			if (ciphertext.length < WG_AEAD_TAG_LEN)
				return null;
			const out = new Uint8Array(ciphertext.length - WG_AEAD_TAG_LEN);
			if (na.xaead_decrypt(out, null, null, ciphertext, ciphertext.length, ad, ad.length, n, key) !== 0)
				return null;
			return out;
		},

		dh(priv, pub) {
			crypto_check_len(priv, WG_KEY_LEN, 'priv');
			crypto_check_len(pub, WG_KEY_LEN, 'pub');
			const q = new Uint8Array(WG_KEY_LEN);
			/*
			 * libsodium clamps priv itself, masks bit 255 of pub, and
			 * returns -1 for a low-order pub or an all-zero result.
			 * Check the output too: it costs nothing next to the
			 * scalar multiplication.
			 */
			const r = na.scalarmult(q, priv, pub);
			if (r !== 0 || crypto_is_zero(q)) {
				crypto_wipe(q);
				return null;
			}
			return q;
		},

		public_key(priv) {
			crypto_check_len(priv, WG_KEY_LEN, 'priv');
			const q = new Uint8Array(WG_KEY_LEN);
			/* Cannot fail for a clamped scalar (never a multiple of the group order). */
			if (na.scalarmult_base(q, priv) !== 0)
				throw new Error('crypto_scalarmult_curve25519_base failed');
			return q;
		},

		generate_private_key() {
			const k = new Uint8Array(WG_KEY_LEN);
			na.randombytes_buf(k, k.length);
			return crypto_clamp(k);
		},

		random_bytes(n) {
			crypto_check_random_len(n);
			const out = new Uint8Array(n);
			if (n > 0)
				na.randombytes_buf(out, n);
			return out;
		},
	};
	return self;
}

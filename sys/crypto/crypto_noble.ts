// SPDX-License-Identifier: BSD-2-Clause
/*
 * The "noble" backend: pure TypeScript (@noble/ciphers for the AEADs,
 * @noble/curves for X25519; BLAKE2s is the shared sys/crypto/blake2s.ts,
 * itself checked against @noble/hashes and OpenSSL in the tests).  Used
 * where libsodium is missing, and by the tests as an independent
 * implementation to cross-check the sodium backend.
 *
 * It is correct but slow (X25519 in BigInt arithmetic), and its AEAD
 * allocates a small cipher object per call: noble's API has no
 * allocation-free form.  The sodium backend is the fast path.
 */

import { chacha20poly1305, xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import {
	WG_AEAD_TAG_LEN, WG_KEY_LEN, WG_XAEAD_NONCE_LEN,
} from './crypto.js';
import { blake2s_ops } from './blake2s.js';
import {
	AEAD_NONCE_LEN, crypto_aead_forms, type WgCryptoImpl,
	crypto_check_aead, crypto_check_len, crypto_check_open_into, crypto_check_random_len,
	crypto_check_seal_into, crypto_clamp, crypto_is_zero, crypto_set_nonce,
} from './crypto_util.js';

/* Web Crypto refuses more than 65536 bytes per getRandomValues call. */
const RANDOM_CHUNK = 65536;

function noble_random_bytes(n: number): Uint8Array {
	crypto_check_random_len(n);
	const out = new Uint8Array(n);
	for (let off = 0; off < n; off += RANDOM_CHUNK)
		globalThis.crypto.getRandomValues(out.subarray(off, Math.min(n, off + RANDOM_CHUNK)));
	return out;
}

export function crypto_noble_attach(): WgCryptoImpl {
	/* One nonce buffer reused by the counter forms; calls are synchronous. */
	const nonce = new Uint8Array(AEAD_NONCE_LEN);

	function seal_nonce(key: Uint8Array, n: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
		crypto_check_aead(key, n, AEAD_NONCE_LEN, plaintext, 'plaintext', ad);
		return chacha20poly1305(key, n, ad).encrypt(plaintext);
	}

	function open_nonce(key: Uint8Array, n: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Uint8Array | null {
		crypto_check_aead(key, n, AEAD_NONCE_LEN, ciphertext, 'ciphertext', ad);
		if (ciphertext.length < WG_AEAD_TAG_LEN)
			return null;
		try {
			return chacha20poly1305(key, n, ad).decrypt(ciphertext);
		} catch {
			/* Arguments were checked above: the only failure left is the tag. */
			return null;
		}
	}

	const self: WgCryptoImpl = {
		backend: 'noble',
		...blake2s_ops,

		aead_seal_into(key, counter, src, srcOff, len, ad, dst, dstOff) {
			crypto_check_seal_into(key, src, srcOff, len, ad, dst, dstOff);
			crypto_set_nonce(nonce, counter);
			chacha20poly1305(key, nonce, ad ?? undefined).encrypt(src.subarray(srcOff, srcOff + len),
			    dst.subarray(dstOff, dstOff + len + WG_AEAD_TAG_LEN));
			return len + WG_AEAD_TAG_LEN;
		},

		aead_open_into(key, counter, src, srcOff, len, ad, dst, dstOff) {
			crypto_set_nonce(nonce, counter);
			if (!crypto_check_open_into(key, src, srcOff, len, ad, dst, dstOff))
				return false;
			try {
				chacha20poly1305(key, nonce, ad ?? undefined).decrypt(src.subarray(srcOff, srcOff + len),
				    dst.subarray(dstOff, dstOff + len - WG_AEAD_TAG_LEN));
				return true;
			} catch {
				return false;
			}
		},

		aead_forget() {
			/* noble builds a cipher per call and keeps nothing. */
		},

		...crypto_aead_forms(nonce, seal_nonce, open_nonce),

		xaead_seal(key, n, plaintext, ad) {
			crypto_check_aead(key, n, WG_XAEAD_NONCE_LEN, plaintext, 'plaintext', ad);
			return xchacha20poly1305(key, n, ad).encrypt(plaintext);
		},

		xaead_open(key, n, ciphertext, ad) {
			crypto_check_aead(key, n, WG_XAEAD_NONCE_LEN, ciphertext, 'ciphertext', ad);
			if (ciphertext.length < WG_AEAD_TAG_LEN)
				return null;
			try {
				return xchacha20poly1305(key, n, ad).decrypt(ciphertext);
			} catch {
				return null;
			}
		},

		dh(priv, pub) {
			crypto_check_len(priv, WG_KEY_LEN, 'priv');
			crypto_check_len(pub, WG_KEY_LEN, 'pub');
			let out: Uint8Array;
			try {
				out = x25519.scalarMult(priv, pub);
			} catch {
				/*
				 * noble refuses the low-order points (whose product
				 * is zero) by throwing; lengths were checked, so
				 * that is the only way here.
				 */
				return null;
			}
			if (crypto_is_zero(out))
				return null;
			return out;
		},

		public_key(priv) {
			crypto_check_len(priv, WG_KEY_LEN, 'priv');
			return x25519.scalarMultBase(priv);
		},

		generate_private_key() {
			return crypto_clamp(noble_random_bytes(WG_KEY_LEN));
		},

		random_bytes: noble_random_bytes,
	};
	return self;
}

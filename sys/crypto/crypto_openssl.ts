// SPDX-License-Identifier: BSD-2-Clause
/*
 * The "openssl" backend: the data path's ChaCha20-Poly1305 from the
 * system OpenSSL 3 (Debian's libcrypto.so.3) through koffi, everything
 * else from the backend it is layered on (sodium; noble where libsodium
 * is missing).  OpenSSL's ChaCha20 and Poly1305 use AVX-512 where the
 * CPU has it, libsodium's stop at AVX2: tests/bench/b_crypto.ts
 * measures both in one run.  OpenSSL 3.0 has no XChaCha20-Poly1305,
 * and its X25519 (a dozen EVP_PKEY calls and allocations per operation)
 * measured no faster than libsodium's here, so those stay with the base.
 *
 * EVP takes four calls per message: init (key and nonce), update,
 * final, and a ctrl for the tag; koffi adds ~35 ns to each, and ~12 ns
 * per typed array it passes.  The nonce, tag and length out-parameter
 * therefore live in C memory whose address (a BigInt) is computed once,
 * which saved ~100 ns of a 1420-byte seal.  One EVP_CIPHER_CTX per
 * backend instance (crypto_select.ts makes one per thread) serves every
 * call.  The key goes in with the nonce on each call: ChaCha20 has no
 * key schedule worth caching, and a context trusting a cached key would
 * go wrong the day a key buffer changed under it.  OpenSSL has no call
 * that seals several messages, so a batch entry point would only move
 * this loop; there is none.
 *
 * Key material: after a call the context still holds that message's
 * key and Poly1305 key.  The data path leaves the session key in place
 * until the next call or until aead_forget() is told the key is
 * dropped; the 12-byte-nonce forms wipe it before returning
 * (EVP_CIPHER_CTX_reset frees and clears OpenSSL's state).
 *
 * libcrypto is loaded with RTLD_DEEPBIND: node exports the symbols of
 * its own statically linked OpenSSL, and without it libcrypto's calls
 * to itself would bind to those and mix the two libraries' state.
 */

import koffi from 'koffi';
import { WG_AEAD_TAG_LEN } from './crypto.js';
import {
	AEAD_NONCE_LEN, CryptoViewCache, type WgCryptoImpl,
	crypto_check_aead, crypto_check_open_into, crypto_check_seal_into, crypto_set_nonce,
} from './crypto_util.js';

/* Debian 12's libssl3; the unversioned name only exists with -dev. */
export const OPENSSL_LIBS: readonly string[] = ['libcrypto.so.3'];

/* include/openssl/evp.h */
const EVP_CTRL_AEAD_GET_TAG = 0x10;
const EVP_CTRL_AEAD_SET_TAG = 0x11;

/* Pointers are BigInts in koffi 3; these never leave this file. */
type Ptr = bigint;

interface Libcrypto {
	readonly path: string;
	readonly version: string;
	readonly cipher: Ptr;		/* EVP_CIPHER * for ChaCha20-Poly1305, fetched once */
	ctx_new: () => Ptr | null;
	ctx_free: (ctx: Ptr) => void;
	ctx_reset: (ctx: Ptr) => number;
	/* Buffers go to C as typed arrays or as addresses in C memory. */
	init: (ctx: Ptr, cipher: Ptr | null, engine: null, key: Uint8Array | null,
	    iv: Ptr | null, enc: number) => number;
	update: (ctx: Ptr, out: Uint8Array | null, outl: Ptr, inp: Uint8Array, inl: number) => number;
	final: (ctx: Ptr, out: Ptr, outl: Ptr) => number;
	ctrl: (ctx: Ptr, type: number, arg: number, ptr: Ptr) => number;
	err_clear: () => void;
}

/* Bindings by path, one set per thread (module instance). */
const bound = new Map<string, Libcrypto>();

function libcrypto_bind(path: string): Libcrypto {
	const lib = koffi.load(path, { deep: true });
	const version = lib.func('const char *OpenSSL_version(int type)');
	const fetch = lib.func('void *EVP_CIPHER_fetch(void *libctx, const char *algorithm, const char *properties)');
	const cipher = fetch(null, 'ChaCha20-Poly1305', null) as Ptr | null;
	if (cipher === null)
		throw new Error('EVP_CIPHER_fetch(ChaCha20-Poly1305) failed');
	return {
		path,
		version: String(version(0)),
		cipher,
		ctx_new: lib.func('void *EVP_CIPHER_CTX_new(void)'),
		ctx_free: lib.func('void EVP_CIPHER_CTX_free(void *ctx)'),
		ctx_reset: lib.func('int EVP_CIPHER_CTX_reset(void *ctx)'),
		init: lib.func('int EVP_CipherInit_ex(void *ctx, void *cipher, void *engine, ' +
		    'const void *key, const void *iv, int enc)'),
		update: lib.func('int EVP_CipherUpdate(void *ctx, void *out, void *outl, const void *in, int inl)'),
		final: lib.func('int EVP_CipherFinal_ex(void *ctx, void *out, void *outl)'),
		ctrl: lib.func('int EVP_CIPHER_CTX_ctrl(void *ctx, int type, int arg, void *ptr)'),
		err_clear: lib.func('void ERR_clear_error(void)'),
	};
}

/*
 * Load libcrypto once per path.  Throws an Error naming every path
 * tried and why each failed; crypto_attach() turns that into a fallback
 * or an error.
 */
function libcrypto_load(paths: readonly string[]): Libcrypto {
	const why: string[] = [];
	for (const p of paths) {
		let lc = bound.get(p);
		if (lc !== undefined)
			return lc;
		try {
			lc = libcrypto_bind(p);
			bound.set(p, lc);
			return lc;
		} catch (e) {
			why.push(`${p}: ${e instanceof Error ? e.message : String(e)}`);
		}
	}
	throw new Error(`cannot load OpenSSL libcrypto (${why.join('; ')})`);
}

/* The OpenSSL version string of the first loaded libcrypto, or null. */
export function crypto_openssl_version(): string | null {
	for (const lc of bound.values())
		return lc.version;
	return null;
}

/* A backend instance dropped by the garbage collector frees its context (which clears it). */
const contexts = new FinalizationRegistry<{ lc: Libcrypto; ctx: Ptr; scratch: Ptr }>(({ lc, ctx, scratch }) => {
	lc.ctx_free(ctx);
	koffi.free(scratch);
});

/* The scratch block in C memory: nonce, tag, an int out-parameter. */
const SCRATCH_NONCE = 0;
const SCRATCH_TAG = 16;
const SCRATCH_OUTL = 32;
const SCRATCH_LEN = 36;

function ctx_new(lc: Libcrypto): Ptr {
	const ctx = lc.ctx_new();
	if (ctx === null)
		throw new Error('EVP_CIPHER_CTX_new failed');
	return ctx;
}

/*
 * base supplies everything but the data path's AEAD and the
 * 12-byte-nonce forms (crypto_select.ts passes sodium, or noble without
 * libsodium).
 */
export function crypto_openssl_attach(base: WgCryptoImpl, paths: readonly string[] = OPENSSL_LIBS): WgCryptoImpl {
	const lc = libcrypto_load(paths);
	const ctx = ctx_new(lc);
	const scratch = koffi.alloc('uint8_t', SCRATCH_LEN) as Ptr;
	const mem = koffi.view(scratch, SCRATCH_LEN);
	const nonce = new Uint8Array(mem, SCRATCH_NONCE, AEAD_NONCE_LEN);
	const tag = new Uint8Array(mem, SCRATCH_TAG, WG_AEAD_TAG_LEN);
	const nonce_p = scratch + BigInt(SCRATCH_NONCE);
	const tag_p = scratch + BigInt(SCRATCH_TAG);
	const outl_p = scratch + BigInt(SCRATCH_OUTL);
	const views = new CryptoViewCache();
	/* The data-path key the context holds, for aead_forget. */
	let held: Uint8Array | null = null;

	/* A context with the cipher set and no key: the state after a wipe. */
	function ctx_ready(): void {
		if (lc.init(ctx, lc.cipher, null, null, null, 1) !== 1)
			throw new Error('EVP_CipherInit_ex(ChaCha20-Poly1305) failed');
		held = null;
	}

	function ctx_wipe(): void {
		lc.ctx_reset(ctx);
		ctx_ready();
	}

	/*
	 * Seal len bytes of src into dst (views at the data, in place
	 * allowed) under the nonce in `nonce`; the tag is left in `tag`.  A
	 * failure here is OpenSSL refusing valid arguments: an internal
	 * error, thrown.
	 */
	function seal(key: Uint8Array, src: Uint8Array, len: number, ad: Uint8Array | null, dst: Uint8Array): void {
		if (lc.init(ctx, null, null, key, nonce_p, 1) !== 1 ||
		    (ad !== null && ad.length > 0 && lc.update(ctx, null, outl_p, ad, ad.length) !== 1) ||
		    (len > 0 && lc.update(ctx, dst, outl_p, src, len) !== 1) ||
		    lc.final(ctx, tag_p, outl_p) !== 1 ||
		    lc.ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, WG_AEAD_TAG_LEN, tag_p) !== 1) {
			lc.err_clear();
			throw new Error('OpenSSL ChaCha20-Poly1305 encryption failed');
		}
	}

	/*
	 * Open len bytes of ciphertext (no tag; the tag is in `tag`, the
	 * nonce in `nonce`) from src into dst.  OpenSSL decrypts before it
	 * checks the tag, so dst holds unauthenticated bytes on failure, as
	 * crypto.ts allows.
	 */
	function open(key: Uint8Array, src: Uint8Array, len: number, ad: Uint8Array | null, dst: Uint8Array): boolean {
		if (lc.init(ctx, null, null, key, nonce_p, 0) !== 1 ||
		    lc.ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, WG_AEAD_TAG_LEN, tag_p) !== 1 ||
		    (ad !== null && ad.length > 0 && lc.update(ctx, null, outl_p, ad, ad.length) !== 1) ||
		    (len > 0 && lc.update(ctx, dst, outl_p, src, len) !== 1) ||
		    lc.final(ctx, tag_p, outl_p) !== 1) {
			lc.err_clear();
			return false;
		}
		return true;
	}

	function seal_nonce(key: Uint8Array, n: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
		crypto_check_aead(key, n, AEAD_NONCE_LEN, plaintext, 'plaintext', ad);
		nonce.set(n);
		const out = new Uint8Array(plaintext.length + WG_AEAD_TAG_LEN);
		try {
			seal(key, plaintext, plaintext.length, ad, out);
			out.set(tag, plaintext.length);
		} finally {
			ctx_wipe();
		}
		return out;
	}

	function open_nonce(key: Uint8Array, n: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Uint8Array | null {
		crypto_check_aead(key, n, AEAD_NONCE_LEN, ciphertext, 'ciphertext', ad);
		const len = ciphertext.length - WG_AEAD_TAG_LEN;
		if (len < 0)
			return null;
		nonce.set(n);
		tag.set(ciphertext.subarray(len));
		const out = new Uint8Array(len);
		let ok = false;
		try {
			ok = open(key, ciphertext, len, ad, out);
		} finally {
			ctx_wipe();
		}
		return ok ? out : null;
	}

	ctx_ready();
	const self: WgCryptoImpl = {
		...base,
		backend: 'openssl',

		aead_seal_into(key, counter, src, srcOff, len, ad, dst, dstOff) {
			crypto_check_seal_into(key, src, srcOff, len, ad, dst, dstOff);
			crypto_set_nonce(nonce, counter);
			held = key;
			seal(key, views.view(src, srcOff), len, ad, views.view(dst, dstOff));
			dst.set(tag, dstOff + len);
			return len + WG_AEAD_TAG_LEN;
		},

		aead_open_into(key, counter, src, srcOff, len, ad, dst, dstOff) {
			crypto_set_nonce(nonce, counter);
			if (!crypto_check_open_into(key, src, srcOff, len, ad, dst, dstOff))
				return false;
			const clen = len - WG_AEAD_TAG_LEN;
			/* The tag goes to OpenSSL from the scratch block, src may be overwritten in place. */
			for (let i = 0, o = srcOff + clen; i < WG_AEAD_TAG_LEN; i++)
				tag[i] = src[o + i];
			held = key;
			return open(key, views.view(src, srcOff), clen, ad, views.view(dst, dstOff));
		},

		aead_forget(key) {
			if (held === key)
				ctx_wipe();
		},

		/*
		 * The handshake's one-shot forms stay with the base: for its
		 * 0- to 32-byte messages one libsodium call beats four EVP
		 * calls and a context wipe (2.9 against 5.5 us per seal and
		 * open, measured here).  The 12-byte-nonce forms are OpenSSL's,
		 * so that the tests run the RFC 8439 vectors through it.
		 */
		aead_seal: base.aead_seal.bind(base),
		aead_open: base.aead_open.bind(base),
		aead_seal_nonce: seal_nonce,
		aead_open_nonce: open_nonce,
	};
	contexts.register(self, { lc, ctx, scratch });
	return self;
}

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
 * final, and a ctrl for the tag; koffi adds ~35 ns to each, more for
 * each typed array or BigInt it converts.  So every pointer goes as an
 * address number (crypto_ffi.ts), and messages shorter than
 * OPENSSL_MIN_LEN go to the base's single call instead.  One EVP_CIPHER_CTX per
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
import { CryptoAddrCache, crypto_ptr_num } from './crypto_ffi.js';
import {
	AEAD_NONCE_LEN, type WgCryptoImpl,
	crypto_check_aead, crypto_check_open_into, crypto_check_seal_into, crypto_set_nonce,
} from './crypto_util.js';

/* Debian 12's libssl3; the unversioned name only exists with -dev. */
export const OPENSSL_LIBS: readonly string[] = ['libcrypto.so.3'];

/*
 * Data-path messages shorter than this go to the base backend: one
 * libsodium call costs less than four EVP calls until the bytes
 * dominate (b_crypto.ts measures both at both sizes), and much less
 * when the call finds the caches cold, as an isolated packet does.
 */
export const OPENSSL_MIN_LEN = 576;

/* include/openssl/evp.h */
const EVP_CTRL_AEAD_GET_TAG = 0x10;
const EVP_CTRL_AEAD_SET_TAG = 0x11;

/*
 * Pointers are plain numbers (uintptr_t) on the way in: koffi converts
 * a number faster than a BigInt or a typed array (crypto_ffi.ts).
 */
interface Libcrypto {
	readonly path: string;
	readonly version: string;
	readonly cipher: number;	/* EVP_CIPHER * for ChaCha20-Poly1305, fetched once */
	ctx_new: () => unknown;
	ctx_free: (ctx: number) => void;
	ctx_reset: (ctx: number) => number;
	init: (ctx: number, cipher: number, engine: number, key: number, iv: number, enc: number) => number;
	update: (ctx: number, out: number, outl: number, inp: number, inl: number) => number;
	final: (ctx: number, out: number, outl: number) => number;
	ctrl: (ctx: number, type: number, arg: number, ptr: number) => number;
	err_clear: () => void;
}

/* Bindings by path, one set per thread (module instance). */
const bound = new Map<string, Libcrypto>();

function libcrypto_bind(path: string): Libcrypto {
	const lib = koffi.load(path, { deep: true });
	const version = lib.func('const char *OpenSSL_version(int type)');
	const fetch = lib.func('void *EVP_CIPHER_fetch(void *libctx, const char *algorithm, const char *properties)');
	const cipher = crypto_ptr_num(fetch(null, 'ChaCha20-Poly1305', null));
	if (cipher === 0)
		throw new Error('EVP_CIPHER_fetch(ChaCha20-Poly1305) failed');
	const P = 'uintptr_t';
	return {
		path,
		version: String(version(0)),
		cipher,
		ctx_new: lib.func('void *EVP_CIPHER_CTX_new(void)'),
		ctx_free: lib.func('EVP_CIPHER_CTX_free', 'void', [P]),
		ctx_reset: lib.func('EVP_CIPHER_CTX_reset', 'int', [P]),
		init: lib.func('EVP_CipherInit_ex', 'int', [P, P, P, P, P, 'int']),
		update: lib.func('EVP_CipherUpdate', 'int', [P, P, P, P, 'int']),
		final: lib.func('EVP_CipherFinal_ex', 'int', [P, P, P]),
		ctrl: lib.func('EVP_CIPHER_CTX_ctrl', 'int', [P, 'int', 'int', P]),
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
const contexts = new FinalizationRegistry<{ lc: Libcrypto; ctx: number }>(({ lc, ctx }) => {
	lc.ctx_free(ctx);
});

/* The scratch block (an ArrayBuffer, which never moves): nonce, tag, an int out-parameter. */
const SCRATCH_NONCE = 0;
const SCRATCH_TAG = 16;
const SCRATCH_OUTL = 32;
const SCRATCH_LEN = 36;

function ctx_new(lc: Libcrypto): number {
	const ctx = crypto_ptr_num(lc.ctx_new());
	if (ctx === 0)
		throw new Error('EVP_CIPHER_CTX_new failed');
	return ctx;
}

/*
 * base supplies everything but the data path's AEAD and the
 * 12-byte-nonce forms (crypto_select.ts passes sodium, or noble without
 * libsodium), and the data path's AEAD of messages shorter than
 * OPENSSL_MIN_LEN.
 */
export function crypto_openssl_attach(base: WgCryptoImpl, paths: readonly string[] = OPENSSL_LIBS): WgCryptoImpl {
	const lc = libcrypto_load(paths);
	const ctx = ctx_new(lc);
	const mem = new Uint8Array(new ArrayBuffer(SCRATCH_LEN));
	const nonce = mem.subarray(SCRATCH_NONCE, SCRATCH_NONCE + AEAD_NONCE_LEN);
	const tag = mem.subarray(SCRATCH_TAG, SCRATCH_TAG + WG_AEAD_TAG_LEN);
	/* One cache per argument: each sees the same buffer call after call. */
	const src_addrs = new CryptoAddrCache();
	const dst_addrs = new CryptoAddrCache();
	const key_addrs = new CryptoAddrCache();
	const nonce_p = src_addrs.addr(mem, SCRATCH_NONCE);
	const tag_p = nonce_p - SCRATCH_NONCE + SCRATCH_TAG;
	const outl_p = nonce_p - SCRATCH_NONCE + SCRATCH_OUTL;
	/* The data-path key the context holds, for aead_forget. */
	let held: Uint8Array | null = null;

	/* A context with the cipher set and no key: the state after a wipe. */
	function ctx_ready(): void {
		if (lc.init(ctx, lc.cipher, 0, 0, 0, 1) !== 1)
			throw new Error('EVP_CipherInit_ex(ChaCha20-Poly1305) failed');
		held = null;
	}

	function ctx_wipe(): void {
		lc.ctx_reset(ctx);
		ctx_ready();
	}

	/*
	 * Seal len bytes at address src to address dst (in place allowed)
	 * under the nonce in `nonce`; the tag is left in `tag`.  A failure
	 * here is OpenSSL refusing valid arguments: an internal error,
	 * thrown.
	 */
	function seal(key: number, src: number, len: number, ad: number, adlen: number, dst: number): void {
		if (lc.init(ctx, 0, 0, key, nonce_p, 1) !== 1 ||
		    (adlen > 0 && lc.update(ctx, 0, outl_p, ad, adlen) !== 1) ||
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
	function open(key: number, src: number, len: number, ad: number, adlen: number, dst: number): boolean {
		if (lc.init(ctx, 0, 0, key, nonce_p, 0) !== 1 ||
		    lc.ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, WG_AEAD_TAG_LEN, tag_p) !== 1 ||
		    (adlen > 0 && lc.update(ctx, 0, outl_p, ad, adlen) !== 1) ||
		    (len > 0 && lc.update(ctx, dst, outl_p, src, len) !== 1) ||
		    lc.final(ctx, tag_p, outl_p) !== 1) {
			lc.err_clear();
			return false;
		}
		return true;
	}

	/* The address of a buffer that may be empty (koffi has none for a zero-length one). */
	function addr_of(b: Uint8Array | null, off: number): number {
		return b === null || b.length === 0 ? 0 : src_addrs.addr(b, off);
	}

	function seal_nonce(key: Uint8Array, n: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array {
		crypto_check_aead(key, n, AEAD_NONCE_LEN, plaintext, 'plaintext', ad);
		nonce.set(n);
		const out = new Uint8Array(plaintext.length + WG_AEAD_TAG_LEN);
		try {
			seal(key_addrs.addr(key, 0), addr_of(plaintext, 0), plaintext.length, addr_of(ad, 0), ad.length,
			    dst_addrs.addr(out, 0));
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
			ok = open(key_addrs.addr(key, 0), addr_of(ciphertext, 0), len, addr_of(ad, 0), ad.length, addr_of(out, 0));
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
			if (len < OPENSSL_MIN_LEN)
				return base.aead_seal_into(key, counter, src, srcOff, len, ad, dst, dstOff);
			crypto_check_seal_into(key, src, srcOff, len, ad, dst, dstOff);
			crypto_set_nonce(nonce, counter);
			held = key;
			seal(key_addrs.addr(key, 0), src_addrs.addr(src, srcOff), len, addr_of(ad, 0), ad === null ? 0 : ad.length,
			    dst_addrs.addr(dst, dstOff));
			dst.set(tag, dstOff + len);
			return len + WG_AEAD_TAG_LEN;
		},

		aead_open_into(key, counter, src, srcOff, len, ad, dst, dstOff) {
			if (len < OPENSSL_MIN_LEN + WG_AEAD_TAG_LEN)
				return base.aead_open_into(key, counter, src, srcOff, len, ad, dst, dstOff);
			crypto_set_nonce(nonce, counter);
			if (!crypto_check_open_into(key, src, srcOff, len, ad, dst, dstOff))
				return false;
			const clen = len - WG_AEAD_TAG_LEN;
			/* The tag goes to OpenSSL from the scratch block, src may be overwritten in place. */
			for (let i = 0, o = srcOff + clen; i < WG_AEAD_TAG_LEN; i++)
				tag[i] = src[o + i];
			held = key;
			return open(key_addrs.addr(key, 0), src_addrs.addr(src, srcOff), clen, addr_of(ad, 0),
			    ad === null ? 0 : ad.length, dst_addrs.addr(dst, dstOff));
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
	contexts.register(self, { lc, ctx });
	return self;
}

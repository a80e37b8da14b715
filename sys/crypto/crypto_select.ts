// SPDX-License-Identifier: BSD-2-Clause
/*
 * Backend selection (share/doc/DESIGN.md §5): crypto_attach() hands out the
 * WgCrypto everything above sys/crypto uses.
 *
 * Choice, first match wins:
 *   1. the backend argument, when given;
 *   2. the environment variable WG_CRYPTO=openssl|sodium|noble;
 *   3. the fastest that loads, in CRYPTO_DEFAULT_ORDER, with a
 *      one-line warning on stderr (once) when it is not the first.
 * A backend asked for by name (1 or 2) is never replaced silently: if
 * it cannot be loaded, crypto_attach() throws.
 *
 * "openssl" is layered on sodium (on noble where libsodium is
 * missing) for what OpenSSL does not provide; see crypto_openssl.ts.
 *
 * Backends keep no state across calls but scratch buffers and, for
 * openssl, one cipher context, so one instance per backend per thread
 * is shared by all callers.
 */

import type { WgCrypto, WgCryptoBackend } from './crypto.js';
import { crypto_noble_attach } from './crypto_noble.js';
import { crypto_openssl_attach } from './crypto_openssl.js';
import { crypto_sodium_attach } from './crypto_sodium.js';
import type { WgCryptoImpl } from './crypto_util.js';

export const WG_CRYPTO_ENV = 'WG_CRYPTO';

/* Fastest first: tests/bench/b_crypto.ts measures all three in one run. */
export const CRYPTO_DEFAULT_ORDER: readonly WgCryptoBackend[] = ['openssl', 'sodium', 'noble'];

const attached: Partial<Record<WgCryptoBackend, WgCryptoImpl>> = {};
const warned = new Set<string>();

/* Once per message and thread: a daemon attaches often. */
function warn_once(msg: string): void {
	if (!warned.has(msg)) {
		warned.add(msg);
		process.stderr.write(`wg: ${msg}\n`);
	}
}

function is_backend(s: string): s is WgCryptoBackend {
	return (CRYPTO_DEFAULT_ORDER as readonly string[]).includes(s);
}

/* The base under openssl: sodium, or noble when libsodium does not load. */
function attach_base(): WgCryptoImpl {
	try {
		return attach('sodium');
	} catch (e) {
		warn_once(`${(e as Error).message}; X25519 and XChaCha20 from the slower 'noble' backend`);
		return attach('noble');
	}
}

/* One instance per backend per thread; throws when the library does not load. */
function attach(b: WgCryptoBackend): WgCryptoImpl {
	let c = attached[b];
	if (c === undefined) {
		if (b === 'openssl')
			c = crypto_openssl_attach(attach_base());
		else if (b === 'sodium')
			c = crypto_sodium_attach();
		else
			c = crypto_noble_attach();
		attached[b] = c;
	}
	return c;
}

export function crypto_attach(backend?: WgCryptoBackend): WgCrypto {
	let forced: WgCryptoBackend | undefined = backend;
	if (forced === undefined) {
		const env = process.env[WG_CRYPTO_ENV];
		if (env !== undefined && env !== '') {
			if (!is_backend(env))
				throw new Error(`${WG_CRYPTO_ENV}=${env}: expected one of ${CRYPTO_DEFAULT_ORDER.join(', ')}`);
			forced = env;
		}
	} else if (!is_backend(forced)) {
		throw new RangeError(`backend: expected one of ${CRYPTO_DEFAULT_ORDER.join(', ')}, got ${String(forced)}`);
	}

	if (forced !== undefined) {
		try {
			return attach(forced);
		} catch (e) {
			throw new Error(`crypto backend '${forced}' requested but unavailable: ${(e as Error).message}`);
		}
	}
	const why: string[] = [];
	for (const b of CRYPTO_DEFAULT_ORDER) {
		try {
			const c = attach(b);
			if (why.length > 0)
				warn_once(`${why.join('; ')}; using the slower '${b}' crypto backend`);
			return c;
		} catch (e) {
			why.push((e as Error).message);
		}
	}
	/* noble is pure TypeScript: it always loads. */
	throw new Error(`no crypto backend: ${why.join('; ')}`);
}

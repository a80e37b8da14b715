/*
 * Backend selection (DESIGN.md §5): crypto_attach() hands out the
 * WgCrypto everything above sys/crypto uses.
 *
 * Choice, first match wins:
 *   1. the backend argument, when given;
 *   2. the environment variable WG_CRYPTO=sodium|noble;
 *   3. 'sodium', falling back to 'noble' with a one-line warning on
 *      stderr when libsodium cannot be loaded.
 * A backend asked for by name (1 or 2) is never replaced silently: if
 * libsodium is asked for and missing, crypto_attach() throws.
 *
 * Backends are stateless apart from scratch buffers, so one instance
 * per backend per thread is shared by all callers.
 */

import type { WgCrypto, WgCryptoBackend } from './crypto.js';
import { crypto_noble_attach } from './crypto_noble.js';
import { crypto_sodium_attach } from './crypto_sodium.js';
import type { WgCryptoImpl } from './crypto_util.js';

export const WG_CRYPTO_ENV = 'WG_CRYPTO';

const attached: { sodium?: WgCryptoImpl; noble?: WgCryptoImpl } = {};
let warned = false;

function is_backend(s: string): s is WgCryptoBackend {
	return s === 'sodium' || s === 'noble';
}

function attach_noble(): WgCryptoImpl {
	return attached.noble ??= crypto_noble_attach();
}

function attach_sodium(): WgCryptoImpl {
	return attached.sodium ??= crypto_sodium_attach();
}

export function crypto_attach(backend?: WgCryptoBackend): WgCrypto {
	let forced: WgCryptoBackend | undefined = backend;
	if (forced === undefined) {
		const env = process.env[WG_CRYPTO_ENV];
		if (env !== undefined && env !== '') {
			if (!is_backend(env))
				throw new Error(`${WG_CRYPTO_ENV}=${env}: expected 'sodium' or 'noble'`);
			forced = env;
		}
	} else if (!is_backend(forced)) {
		throw new RangeError(`backend: expected 'sodium' or 'noble', got ${String(forced)}`);
	}

	if (forced === 'noble')
		return attach_noble();
	if (forced === 'sodium') {
		try {
			return attach_sodium();
		} catch (e) {
			throw new Error(`crypto backend 'sodium' requested but unavailable: ${(e as Error).message}`);
		}
	}
	try {
		return attach_sodium();
	} catch (e) {
		if (!warned) {
			warned = true;
			process.stderr.write(`wg: ${(e as Error).message}; using the slower 'noble' crypto backend\n`);
		}
		return attach_noble();
	}
}

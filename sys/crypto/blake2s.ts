/*
 * HASH, MAC, HMAC and KDF1/2/3 over BLAKE2s (paper §5.4), shared by
 * both backends: libsodium has no BLAKE2s, so @noble/hashes serves
 * everyone.  Only the handshake and cookie paths use these.
 */

import { blake2s } from '@noble/hashes/blake2.js';
import { hmac } from '@noble/hashes/hmac.js';
import type { WgCrypto } from './crypto.js';
import { WG_MAC_LEN } from './crypto.js';
import { crypto_check_bytes, crypto_wipe } from './crypto_util.js';

const BLAKE2S_MAX_KEY = 32;

/* HASH(parts...) = BLAKE2s-256(parts[0] ‖ parts[1] ‖ ...). */
export function blake2s_hash(...parts: Uint8Array[]): Uint8Array {
	const h = blake2s.create();
	for (let i = 0; i < parts.length; i++) {
		crypto_check_bytes(parts[i], `parts[${i}]`);
		h.update(parts[i]);
	}
	return h.digest();
}

/* MAC(key, data) = keyed BLAKE2s with a 16-byte output; not HMAC (paper §5.4). */
export function blake2s_mac(key: Uint8Array, data: Uint8Array): Uint8Array {
	crypto_check_bytes(key, 'key');
	crypto_check_bytes(data, 'data');
	if (key.length < 1 || key.length > BLAKE2S_MAX_KEY)
		throw new RangeError(`key: expected 1 to ${BLAKE2S_MAX_KEY} bytes, got ${key.length}`);
	return blake2s(data, { key, dkLen: WG_MAC_LEN });
}

/* HMAC-BLAKE2s-256, RFC 2104 with BLAKE2s' 64-byte block. */
export function blake2s_hmac(key: Uint8Array, data: Uint8Array): Uint8Array {
	crypto_check_bytes(key, 'key');
	crypto_check_bytes(data, 'data');
	return hmac(blake2s, key, data);
}

const KDF_INDEX = [new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])];

/*
 * KDFn(key, input), HKDF without info (§5.4): prk = HMAC(key, input),
 * T1 = HMAC(prk, 0x1), Ti = HMAC(prk, T(i-1) ‖ i).
 */
function blake2s_kdf(n: number, key: Uint8Array, input: Uint8Array): Uint8Array[] {
	crypto_check_bytes(key, 'key');
	crypto_check_bytes(input, 'input');
	const prk = hmac(blake2s, key, input);
	const out: Uint8Array[] = [];
	for (let i = 0; i < n; i++) {
		const h = hmac.create(blake2s, prk);
		if (i > 0)
			h.update(out[i - 1]);
		h.update(KDF_INDEX[i]);
		out.push(h.digest());
	}
	crypto_wipe(prk);
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

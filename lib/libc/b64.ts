// SPDX-License-Identifier: BSD-2-Clause
/*
 * b64_ntop/b64_pton (resolv(3)): RFC 4648 base64 with padding.
 *
 * Hand-written rather than Buffer.from(s, 'base64') for three reasons:
 * Node's decoder silently skips invalid characters (we must reject
 * them); small Buffers come from a shared pool, where decoded key bytes
 * would linger after the caller wiped its copy; and a key file's text
 * is decoded from the bytes read, never made a JS string (strings
 * cannot be wiped).  What b64_pton returns is off the V8 heap
 * (crypto_key_alloc), so wiping it leaves no copy behind.
 */

import { crypto_key_alloc } from '../../sys/crypto/crypto_util.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PAD = 0x3d;	/* '=' */

const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++)
	DECODE[ALPHABET.charCodeAt(i)] = i;

function is_space(c: number): boolean {
	return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

export function b64_ntop(src: Uint8Array): string {
	const out: string[] = [];
	let i = 0;
	for (; i + 3 <= src.length; i += 3) {
		const v = (src[i] << 16) | (src[i + 1] << 8) | src[i + 2];
		out.push(ALPHABET[v >>> 18] + ALPHABET[(v >>> 12) & 63] +
		    ALPHABET[(v >>> 6) & 63] + ALPHABET[v & 63]);
	}
	const rest = src.length - i;
	if (rest === 1) {
		const v = src[i] << 16;
		out.push(ALPHABET[v >>> 18] + ALPHABET[(v >>> 12) & 63] + '==');
	} else if (rest === 2) {
		const v = (src[i] << 16) | (src[i + 1] << 8);
		out.push(ALPHABET[v >>> 18] + ALPHABET[(v >>> 12) & 63] +
		    ALPHABET[(v >>> 6) & 63] + '=');
	}
	return out.join('');
}

/*
 * Decode text, or the bytes of text (a key file as read); null when it
 * is not valid base64 (bad character, misplaced or excess padding, a
 * length that is not a multiple of 4).  Whitespace is skipped when
 * skip_space is set, as resolv's b64_pton does.
 */
export function b64_pton(src: string | Uint8Array, skip_space = false): Uint8Array | null {
	const text = typeof src === 'string';
	const len = src.length;
	/* Count significant characters first so the output is allocated once. */
	let n = 0;
	let pad = 0;
	for (let i = 0; i < len; i++) {
		const c = text ? src.charCodeAt(i) : src[i];
		if (skip_space && is_space(c))
			continue;
		if (c === PAD) {
			pad++;
		} else {
			if (pad > 0 || c >= 128 || DECODE[c] < 0)
				return null;	/* a character after '=' or outside the alphabet */
		}
		n++;
	}
	if (n % 4 !== 0 || pad > 2)
		return null;
	const out = crypto_key_alloc((n / 4) * 3 - pad);
	let acc = 0;
	let bits = 0;
	let o = 0;
	for (let i = 0; i < len; i++) {
		const c = text ? src.charCodeAt(i) : src[i];
		if (c === PAD)
			break;
		if (skip_space && is_space(c))
			continue;
		acc = ((acc << 6) | DECODE[c]) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (acc >>> bits) & 0xff;
		}
	}
	return out;
}

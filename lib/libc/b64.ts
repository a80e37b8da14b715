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
const ENCODE = new Uint8Array(64);
for (let i = 0; i < ALPHABET.length; i++) {
	DECODE[ALPHABET.charCodeAt(i)] = i;
	ENCODE[i] = ALPHABET.charCodeAt(i);
}

function is_space(c: number): boolean {
	return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/* Scratch for b64_ntop's characters, wiped after each use (they may spell a key). */
const ntop_scratch = Buffer.alloc(256);

export function b64_ntop(src: Uint8Array): string {
	const n = b64_ntop_len(src.length);
	const b = n <= ntop_scratch.length ? ntop_scratch : Buffer.alloc(n);
	b64_ntop_into(src, b, 0);
	const s = b.toString('latin1', 0, n);
	b.fill(0, 0, n);
	return s;
}

/* The length of b64_ntop's text for n bytes. */
export function b64_ntop_len(n: number): number {
	return Math.ceil(n / 3) * 4;
}

/*
 * b64_ntop's text as ASCII bytes, written into dst at off (which has
 * room for b64_ntop_len(src.length) bytes); returns the offset after it.
 * For writers that build a reply in one buffer (lib/libprop).
 */
export function b64_ntop_into(src: Uint8Array, dst: Uint8Array, off: number): number {
	let i = 0;
	for (; i + 3 <= src.length; i += 3) {
		const v = (src[i] << 16) | (src[i + 1] << 8) | src[i + 2];
		dst[off++] = ENCODE[v >>> 18];
		dst[off++] = ENCODE[(v >>> 12) & 63];
		dst[off++] = ENCODE[(v >>> 6) & 63];
		dst[off++] = ENCODE[v & 63];
	}
	const rest = src.length - i;
	if (rest > 0) {
		const v = (src[i] << 16) | (rest === 2 ? src[i + 1] << 8 : 0);
		dst[off++] = ENCODE[v >>> 18];
		dst[off++] = ENCODE[(v >>> 12) & 63];
		dst[off++] = rest === 2 ? ENCODE[(v >>> 6) & 63] : PAD;
		dst[off++] = PAD;
	}
	return off;
}

/*
 * Decode text, or the bytes of text (a key file as read); null when it
 * is not valid base64 (bad character, misplaced or excess padding, a
 * length that is not a multiple of 4).  Whitespace is skipped when
 * skip_space is set, as resolv's b64_pton does.  Only src[start, end)
 * is read, so a parser need not cut the text out first.  alloc gives
 * the room for the bytes (a parser's shared buffer); crypto_key_alloc
 * by default.
 */
export function b64_pton(src: string | Uint8Array, skip_space = false, start = 0, end = src.length,
    alloc: (n: number) => Uint8Array = crypto_key_alloc): Uint8Array | null {
	if (typeof src !== 'string')
		return pton_bytes(src, skip_space, start, end, alloc);
	/* Text goes through the one decoder as bytes, in a copy wiped after; past ASCII is never base64. */
	const b = crypto_key_alloc(Math.max(0, end - start));
	try {
		for (let i = start; i < end; i++) {
			const c = src.charCodeAt(i);
			if (c >= 128)
				return null;
			b[i - start] = c;
		}
		return pton_bytes(b, skip_space, 0, b.length, alloc);
	} finally {
		b.fill(0);
	}
}

function pton_bytes(src: Uint8Array, skip_space: boolean, start: number, end: number,
    alloc: (n: number) => Uint8Array): Uint8Array | null {
	/* Count significant characters first so the output is allocated once. */
	let n = 0;
	let pad = 0;
	for (let i = start; i < end; i++) {
		const c = src[i];
		if (c === PAD)
			pad++;
		else if (c < 128 && DECODE[c] >= 0) {
			if (pad > 0)
				return null;	/* a character after '=' */
		} else if (skip_space && is_space(c))
			continue;
		else
			return null;	/* outside the alphabet */
		n++;
	}
	if (n % 4 !== 0 || pad > 2)
		return null;
	const out = alloc((n / 4) * 3 - pad);
	let acc = 0;
	let bits = 0;
	let o = 0;
	for (let i = start; i < end; i++) {
		const c = src[i];
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

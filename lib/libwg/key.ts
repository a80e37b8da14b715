// SPDX-License-Identifier: BSD-2-Clause
/*
 * WireGuard keys as text: 32 bytes, written as 44 characters of base64
 * (paper section 5.4: Curve25519 points and scalars are 32 bytes).
 */

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

import { WG_KEY_LEN } from '../../sys/crypto/crypto.js';
import { EISDIR } from '../../sys/sys/errno.js';
import { crypto_key_alloc } from '../../sys/crypto/crypto_util.js';
import { b64_ntop, b64_pton } from '../libc/b64.js';
import { err, errno_of, errx, warnx } from '../libc/err.js';

export const WG_KEY_B64_LEN = 44;

/* Exactly 44 characters (text, or its bytes) that decode to exactly 32 bytes, else null. */
export function wg_key_from_base64(s: string | Uint8Array): Uint8Array | null {
	if (s.length !== WG_KEY_B64_LEN)
		return null;
	const k = b64_pton(s);
	if (k === null)
		return null;
	if (k.length !== WG_KEY_LEN) {
		k.fill(0);
		return null;
	}
	return k;
}

export function wg_key_to_base64(k: Uint8Array): string {
	return b64_ntop(k);
}

/*
 * For error messages: a key typed where a file name or an option belongs
 * (wgconfig wg0 set private-key KEY) is not echoed back whole, as the
 * kernel's log cuts keys (sys/kern/subr_log.ts).
 */
export function wg_key_redact(s: string): string {
	return s.replace(/(?<![A-Za-z0-9+/])([A-Za-z0-9+/]{4})[A-Za-z0-9+/]{39}=/g, '$1...');
}

/*
 * A key file: its first 44 bytes are the key, whatever follows (the
 * newline wg-keygen writes, or anything else) is ignored, as NetBSD's
 * wgconfig reads it.  It is read here, with the caller's own rights, and
 * only the key bytes go to the kernel: the kernel never opens a path a
 * user named.  The file's bytes are decoded as bytes and wiped; no JS
 * string of the key is made.  A file group or others can read gets a warning, as
 * wg-quick(8) gives one for a world-accessible configuration.  Errors
 * name the file:
 *   PATH: fopen: <strerror>, PATH: base64 key len is short: N,
 *   PATH: b64_pton failed.
 */
export function wg_read_key_file(path: string): Uint8Array {
	const name = wg_key_redact(path);
	let fd: number;
	try {
		fd = openSync(path, 'r');
	} catch (e) {
		err(1, `${name}: fopen`, errno_of(e));
	}
	/* Off the V8 heap and out of the shared pool: wiped, it leaves no copy (crypto_key_alloc). */
	const buf = crypto_key_alloc(WG_KEY_B64_LEN);
	let n = 0;
	let exposed = -1;	/* the mode of a regular file group or others can read */
	try {
		const st = fstatSync(fd);
		if (st.isFile() && (st.mode & 0o044) !== 0)
			exposed = st.mode & 0o777;
		while (n < WG_KEY_B64_LEN) {
			const got = readSync(fd, buf, n, WG_KEY_B64_LEN - n, null);
			if (got === 0)
				break;
			n += got;
		}
	} catch (e) {
		const errno = errno_of(e);
		buf.fill(0);
		if (errno === EISDIR)
			errx(1, `${name}: base64 key len is short: 0`);
		err(1, `${name}: fread`, errno);
	} finally {
		closeSync(fd);
	}
	if (n !== WG_KEY_B64_LEN) {
		buf.fill(0);
		errx(1, `${name}: base64 key len is short: ${n}`);
	}
	/* Decoded from the bytes: the key's text never becomes a JS string. */
	const key = wg_key_from_base64(buf);
	buf.fill(0);
	if (key === null)
		errx(1, `${name}: b64_pton failed`);
	if (exposed >= 0)
		warnx(`warning: ${name} is readable by group or others (mode ${exposed.toString(8).padStart(4, '0')})`);
	return key;
}

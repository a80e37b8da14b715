// SPDX-License-Identifier: BSD-2-Clause
/*
 * wg-keygen(8): make WireGuard keys, as NetBSD's wg-keygen does.
 *
 *   wg-keygen          a private key: 32 random bytes, clamped
 *   wg-keygen --pub    the public key of the private key on stdin
 *   wg-keygen --psk    a preshared key: 32 random bytes, not clamped
 *
 * Keys are written as 44 characters of base64 and a newline.  Clamping
 * follows Curve25519 (paper section 5.4, RFC 7748 section 5).
 */

import { readSync } from 'node:fs';

import { QuietExit, errno_of, err, errx, getprogname } from '../../lib/libc/err.js';
import { prog_run } from '../../lib/libc/prog.js';
import { WG_KEY_B64_LEN, wg_key_from_base64, wg_key_to_base64 } from '../../lib/libwg/key.js';
import { crypto_attach } from '../../sys/crypto/crypto_select.js';

function usage(): never {
	const p = getprogname();
	process.stderr.write('Usage:\n' +
	    `\t${p}       : Generate a private key\n` +
	    `\t${p} --pub : Generate a public key from a private key via stdin\n` +
	    `\t${p} --psk : Generate a pre-shared key\n`);
	throw new QuietExit(1);
}

/*
 * fgets(buf, 45, stdin): at most 44 characters, stopping after a newline
 * (so a terminal gets an answer at the end of the line).  Exactly 44
 * characters must come back: "KEY\n" gives the key; a shorter line keeps
 * its newline and fails the length check, as on NetBSD.
 */
function read_private_key_line(): string {
	const buf = Buffer.alloc(WG_KEY_B64_LEN);
	const nap = new Int32Array(new SharedArrayBuffer(4));
	let n = 0;
	while (n < WG_KEY_B64_LEN) {
		let got: number;
		try {
			got = readSync(0, buf, n, 1, null);
		} catch (e) {
			const code = (e as NodeJS.ErrnoException).code;
			if (code === 'EAGAIN') {
				Atomics.wait(nap, 0, 0, 5);	/* a non-blocking pipe with nothing yet */
				continue;
			}
			if (code === 'EOF')
				break;
			buf.fill(0);
			err(1, 'fgets', errno_of(e));
		}
		if (got === 0)
			break;
		n += got;
		if (buf[n - 1] === 0x0a)
			break;
	}
	const line = buf.toString('latin1', 0, n);
	buf.fill(0);
	return line;
}

function main(argv: string[]): number {
	if (argv.length > 1)
		usage();
	if (argv.length === 1 && argv[0] !== '--pub' && argv[0] !== '--psk')
		usage();
	const crypto = crypto_attach();
	let key: Uint8Array;
	if (argv.length === 0) {
		key = crypto.generate_private_key();
	} else if (argv[0] === '--psk') {
		key = crypto.random_bytes(32);
	} else {
		const line = read_private_key_line();
		if (line.length !== WG_KEY_B64_LEN)
			errx(1, 'Invalid length of a private key');
		const priv = wg_key_from_base64(line);
		if (priv === null)
			errx(1, 'b64_pton failed');
		/* No clamping here: X25519 clamps the scalar itself (RFC 7748 section 5). */
		key = crypto.public_key(priv);
		priv.fill(0);
	}
	process.stdout.write(wg_key_to_base64(key) + '\n');
	key.fill(0);
	return 0;
}

prog_run(main);

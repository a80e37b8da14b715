// SPDX-License-Identifier: BSD-2-Clause
/*
 * err(3) and strerror(3).
 *
 * NetBSD's err() and errx() print "prog: message" and exit.  Here they
 * throw instead, so library code can use them and the program's top
 * level (prog_run in lib/libc/prog.ts) prints the message once, sets the
 * exit status and lets pending output drain before the process ends.
 */

import { basename } from 'node:path';
import { strerror } from '../../sys/sys/errno.js';

export { errno_of, strerror } from '../../sys/sys/errno.js';

let progname: string | null = null;

/* getprogname(3): the entry file's name, without the compiled ".js". */
export function getprogname(): string {
	if (progname === null) {
		const script = process.argv[1] ?? 'node';
		progname = basename(script).replace(/\.(c|m)?js$/, '');
	}
	return progname;
}

/*
 * A user-level failure: what err()/errx() would have printed, and the
 * exit status.  Never carries a stack trace to the user.
 */
export class ErrExit extends Error {
	readonly status: number;

	constructor(status: number, message: string) {
		super(message);
		this.name = 'ErrExit';
		this.status = status;
	}
}

/* usage() and friends: the message has already been printed; exit quietly. */
export class QuietExit extends Error {
	readonly status: number;

	constructor(status: number) {
		super(`exit ${status}`);
		this.name = 'QuietExit';
		this.status = status;
	}
}

/* err(3): "prog: msg: strerror(errno)". */
export function err(status: number, msg: string, errno: number): never {
	throw new ErrExit(status, `${msg}: ${strerror(errno)}`);
}

/* errx(3): "prog: msg". */
export function errx(status: number, msg: string): never {
	throw new ErrExit(status, msg);
}

export function warn(msg: string, errno: number): void {
	process.stderr.write(`${getprogname()}: ${msg}: ${strerror(errno)}\n`);
}

export function warnx(msg: string): void {
	process.stderr.write(`${getprogname()}: ${msg}\n`);
}

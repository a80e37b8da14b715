// SPDX-License-Identifier: BSD-2-Clause
/*
 * Decimal numbers on the command line, parsed as NetBSD's wgconfig does
 * (strtol(3), then a range check), with its messages.
 */

import { ERANGE } from '../../sys/sys/errno.js';
import { err, errx } from '../libc/err.js';

const LONG_MIN = -(1n << 63n);
const LONG_MAX = (1n << 63n) - 1n;

/* strtol(s, &ep, 10) with "nothing parsed" and "text left over" as errors. */
export function strtol_strict(s: string): number {
	const m = /^[ \t\n\v\f\r]*[+-]?[0-9]+/.exec(s);
	if (m === null)
		errx(1, 'strtol: not a number');
	if (m[0].length !== s.length)
		errx(1, 'strtol: trailing garbage');
	const v = BigInt(m[0].trim());
	if (v < LONG_MIN || v > LONG_MAX)
		err(1, 'strtol', ERANGE);
	/* Beyond 2^53 the exact value no longer matters: every caller range-checks. */
	return Number(v);
}

export function strtouint16(s: string): number {
	const v = strtol_strict(s);
	if (v < 0 || v > 0xffff)
		errx(1, 'out of range');
	return v;
}

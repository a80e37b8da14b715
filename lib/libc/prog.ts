// SPDX-License-Identifier: BSD-2-Clause
/*
 * The top level of every userland program: run main, turn ErrExit into
 * "prog: message" and exit status 1, anything unexpected into
 * "prog: internal error: message" (never a raw stack trace), and let
 * the process end by itself so buffered output reaches its pipe.
 */

import { ErrExit, QuietExit, getprogname } from './err.js';

export type ProgMain = (argv: string[]) => Promise<number> | number;

function prog_report(e: unknown): number {
	if (e instanceof QuietExit)
		return e.status;
	if (e instanceof ErrExit) {
		process.stderr.write(`${getprogname()}: ${e.message}\n`);
		return e.status;
	}
	const msg = e instanceof Error ? e.message : String(e);
	process.stderr.write(`${getprogname()}: internal error: ${msg}\n`);
	if (process.env.WG_DEBUG_TRACE && e instanceof Error && e.stack)
		process.stderr.write(`${e.stack}\n`);
	return 1;
}

export function prog_run(main: ProgMain): void {
	/* A reader that went away (wgconfig wg0 | head -1) is not an error of ours: drop the rest. */
	process.stdout.on('error', () => undefined);
	/* State is unknown after an exception escaped an event callback: stop now. */
	process.on('uncaughtException', (e) => {
		process.exit(prog_report(e));
	});
	Promise.resolve()
	    .then(() => main(process.argv.slice(2)))
	    .then((status) => {
		process.exitCode = status;
	    }, (e: unknown) => {
		process.exitCode = prog_report(e);
	    });
}

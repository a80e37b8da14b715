// SPDX-License-Identifier: BSD-2-Clause
/*
 * Replay window (RFC 6479 style, 8128 counters): the scripted edge
 * cases of Linux's selftest/counter.c (window edge, reject limit),
 * full-window fills, and a randomized comparison with a naive model.
 */

import t from 'tap';
import { COUNTER_WINDOW_SIZE, WgReplayCounter } from '../../../sys/net/wg/counter.js';
import { prng } from '../../harness/prng.js';

t.equal(COUNTER_WINDOW_SIZE, 8128, 'window is 8128 counters');

t.test('scripted edge cases', (t) => {
	const W = COUNTER_WINDOW_SIZE;
	const LIM = W + 1;
	/* A small reject limit stands in for REJECT_AFTER_MESSAGES (2^53 - 1 in production). */
	const REJ = 1_000_000;
	const c = new WgReplayCounter();
	const cases: [number, boolean][] = [
		[0, true], [1, true], [1, false], [9, true], [8, true], [7, true], [7, false],
		[LIM, true], [LIM - 1, true], [LIM - 1, false], [LIM - 2, true], [2, true], [2, false],
		[LIM + 16, true], [3, false], [LIM + 16, false], [LIM * 4, true],
		[LIM * 4 - (LIM - 1), true], [10, false], [LIM * 4 - LIM, false],
		[LIM * 4 - (LIM + 1), false], [LIM * 4 - (LIM - 2), true], [LIM * 4 + 1 - LIM, false],
		[0, false], [REJ, false], [REJ - 1, true], [REJ, false], [REJ - 1, false], [REJ - 2, true],
		[REJ + 1, false], [REJ + 2, false], [REJ - 2, false], [REJ - 3, true], [0, false],
	];
	cases.forEach(([n, want], i) => t.equal(c.validate(n, REJ), want, `case ${i + 1}: ${n} -> ${want}`));
	t.end();
});

t.test('full windows', (t) => {
	const W = COUNTER_WINDOW_SIZE;
	const REJ = Number.MAX_SAFE_INTEGER;
	let c = new WgReplayCounter();
	let ok = true;
	for (let i = 1; i <= W; i++)
		ok &&= c.validate(i, REJ);
	t.ok(ok, '1..W accepted');
	t.equal(c.validate(0, REJ), true, '0 is still inside the window');
	t.equal(c.validate(0, REJ), false, 'but only once');

	c = new WgReplayCounter();
	ok = true;
	for (let i = 2; i <= W + 1; i++)
		ok &&= c.validate(i, REJ);
	t.ok(ok);
	t.equal(c.validate(1, REJ), true, '1 is the window edge');
	t.equal(c.validate(0, REJ), false, '0 is past it');

	c = new WgReplayCounter();
	ok = true;
	for (let i = W + 1; i-- > 0;)
		ok &&= c.validate(i, REJ);
	t.ok(ok, 'W..0 descending accepted');

	c = new WgReplayCounter();
	ok = true;
	for (let i = W + 2; i-- > 1;)
		ok &&= c.validate(i, REJ);
	t.ok(ok);
	t.equal(c.validate(0, REJ), false);

	c = new WgReplayCounter();
	for (let i = W + 1; i-- > 1;)
		c.validate(i, REJ);
	t.equal(c.validate(W + 1, REJ), true);
	t.equal(c.validate(0, REJ), false);

	c = new WgReplayCounter();
	for (let i = W + 1; i-- > 1;)
		c.validate(i, REJ);
	t.equal(c.validate(0, REJ), true);
	t.equal(c.validate(W + 1, REJ), true);
	t.end();
});

t.test('counters at and beyond 2^53 are never accepted', (t) => {
	const c = new WgReplayCounter();
	t.equal(c.validate(Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER), true);
	t.equal(c.validate(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER), false);
	t.equal(c.validate(2 ** 53, Number.MAX_SAFE_INTEGER), false);
	t.equal(c.validate(-1, Number.MAX_SAFE_INTEGER), false);
	t.equal(c.validate(NaN, Number.MAX_SAFE_INTEGER), false);
	t.end();
});

t.test('random traffic against a naive model', (t) => {
	const rnd = prng(12345);
	const W = COUNTER_WINDOW_SIZE;
	const c = new WgReplayCounter();
	const seen = new Set<number>();
	let top = -1;
	let mismatches = 0;
	let base = 0;
	for (let i = 0; i < 50000; i++) {
		/* Mostly forward, with reordering, replays and big jumps. */
		const r = rnd();
		if (r < 0.01)
			base += Math.floor(rnd() * 3 * W);
		else
			base += Math.floor(rnd() * 4);
		const n = Math.max(0, base - Math.floor(rnd() * (W + 200)) * (rnd() < 0.3 ? 1 : 0));
		const want = !seen.has(n) && !(top >= 0 && n + W < top);
		if (want) {
			seen.add(n);
			top = Math.max(top, n);
		}
		if (c.validate(n, Number.MAX_SAFE_INTEGER) !== want)
			mismatches++;
	}
	t.equal(mismatches, 0, 'the window agrees with the model on 50000 counters');
	t.end();
});

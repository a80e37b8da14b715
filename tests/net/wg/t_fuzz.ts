// SPDX-License-Identifier: BSD-2-Clause
/*
 * A short pass of the datagram fuzzer (wg_fuzz.ts; `make fuzz` runs
 * 10^6): no exception, every datagram in exactly one counter, the
 * tunnel still works.
 */

import t from 'tap';
import { wg_fuzz } from './wg_fuzz.js';

t.test('fuzzed datagrams: counted, never thrown, tunnel intact', (t) => {
	for (const seed of [1, 2]) {
		const r = wg_fuzz(20000, seed);
		t.equal(r.threw, 0, `seed ${seed}: nothing thrown`);
		t.equal(r.by_reason.rx_error ?? 0, 0, 'no internal error');
		t.equal(r.counted, r.datagrams, `every one of ${r.datagrams} counted once: ${JSON.stringify(r.by_reason)}`);
		t.ok(r.tunnel_ok, 'the tunnel works afterwards');
	}
	t.end();
});

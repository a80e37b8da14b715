// SPDX-License-Identifier: BSD-2-Clause
/* The handshake rate limiter: 20/s per source, burst 5, IPv6 per /64, GC of idle entries. */

import t from 'tap';
import { WgRateLimiter } from '../../../sys/net/wg/ratelimiter.js';

const sources: [4 | 6, Uint8Array][] = [
	[4, Uint8Array.from([127, 0, 0, 1])],
	[4, Uint8Array.from([192, 168, 1, 1])],
	[4, Uint8Array.from([10, 0, 0, 1])],
	[6, Uint8Array.from(Buffer.from('20010db8000000000000000000000001', 'hex'))],
	[6, Uint8Array.from(Buffer.from('fe800000000000000000000000000001', 'hex'))],
];

t.test('burst of 5, then 20 per second', (t) => {
	for (const [fam, addr] of sources) {
		const rl = new WgRateLimiter();
		let now = 1000;
		for (let i = 0; i < 5; i++)
			t.equal(rl.allow(fam, addr, now), true, `burst packet ${i + 1} allowed`);
		t.equal(rl.allow(fam, addr, now), false, '6th denied');
		now += 1000 / 20;
		t.equal(rl.allow(fam, addr, now), true, 'after 1/20 s one more allowed');
		t.equal(rl.allow(fam, addr, now), false, 'and the next denied');
		now += 2 * 1000 / 20;
		t.equal(rl.allow(fam, addr, now), true, 'after 2/20 s two allowed');
		t.equal(rl.allow(fam, addr, now), true);
		t.equal(rl.allow(fam, addr, now), false, 'third denied');
	}
	t.end();
});

t.test('sources are independent; IPv6 shares a bucket per /64', (t) => {
	const rl = new WgRateLimiter();
	const a = Uint8Array.from([1, 2, 3, 4]);
	const b = Uint8Array.from([1, 2, 3, 5]);
	for (let i = 0; i < 5; i++)
		rl.allow(4, a, 0);
	t.equal(rl.allow(4, a, 0), false);
	t.equal(rl.allow(4, b, 0), true, 'another address has its own bucket');
	const x = Uint8Array.from(Buffer.from('20010db8000000010000000000000001', 'hex'));
	const y = Uint8Array.from(Buffer.from('20010db800000001ffffffffffffffff', 'hex'));
	const z = Uint8Array.from(Buffer.from('20010db8000000020000000000000001', 'hex'));
	for (let i = 0; i < 5; i++)
		rl.allow(6, x, 0);
	t.equal(rl.allow(6, y, 0), false, 'same /64: same bucket');
	t.equal(rl.allow(6, z, 0), true, 'another /64: its own bucket');
	t.end();
});

t.test('idle entries are collected', (t) => {
	const rl = new WgRateLimiter();
	for (let i = 0; i < 100; i++)
		rl.allow(4, Uint8Array.from([10, 0, 0, i]), 0);
	t.equal(rl.size, 100);
	rl.allow(4, Uint8Array.from([10, 0, 1, 1]), 500);
	t.equal(rl.size, 101, 'nothing idle for a second yet');
	rl.allow(4, Uint8Array.from([10, 0, 1, 2]), 2000);
	t.equal(rl.size, 1, 'entries idle for over a second are gone');
	t.end();
});

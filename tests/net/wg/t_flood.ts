// SPDX-License-Identifier: BSD-2-Clause
/*
 * Handshake floods on the fake clock (paper §6.6; hsqueue.ts): "under
 * load" is a real backlog of valid-mac1 messages, garbage with a wrong
 * mac1 never counts, under load a message without a valid mac2 costs a
 * (rate-limited) cookie reply and no DH, a legitimate peer gets through
 * in one cookie round, and data is never held behind handshakes.
 */

import t from 'tap';
import { crypto_attach } from '../../../sys/crypto/crypto_select.js';
import { WG_HANDSHAKE_BUDGET } from '../../../sys/net/wg/device.js';
import {
	WG_HSQUEUE_CLASS_BURST, WG_HSQUEUE_CLASS_RATE, WG_HSQUEUE_LEN, WG_HSQUEUE_SHARE, WG_UNDERLOAD_QUEUE_LEN,
	WgHandshakeQueue,
} from '../../../sys/net/wg/hsqueue.js';
import { INIT_OFF_MAC1, MSG_COOKIE, MSG_INITIATION, MSG_INITIATION_LEN } from '../../../sys/net/wg/messages.js';
import type { WgEndpoint } from '../../../sys/net/wg/peer.js';
import { RATELIMIT_PACKETS_BURSTABLE } from '../../../sys/net/wg/ratelimiter.js';
import { ep4, ep_str, ip4, make_pair } from '../../harness/wg_harness.js';

const c = crypto_attach('sodium');

/* A type-1 message with random contents and a valid mac1 for `pub`: what the attacker can make. */
function garbage_init(pub: Uint8Array): Uint8Array {
	const m = c.random_bytes(MSG_INITIATION_LEN);
	m[0] = MSG_INITIATION;
	m[1] = m[2] = m[3] = 0;
	m.fill(0, INIT_OFF_MAC1 + 16);
	const k = c.hash(new TextEncoder().encode('mac1----'), pub);
	m.set(c.mac(k, m.subarray(0, INIT_OFF_MAC1)), INIT_OFF_MAC1);
	return m;
}

/* 2001:db8:1:2::last */
function ep6(last: number, port: number): WgEndpoint {
	const a = new Uint8Array(16);
	a.set([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2]);
	a[15] = last;
	return { family: 6, addr: a, port };
}

const ATTACKERS: WgEndpoint[] = [1, 2, 3, 4].map((i) => ep4(`198.51.100.${i}`, 40000 + i));

t.test('the queue: under load at 1/8 full, for a second after; full drops', (t) => {
	const q = new WgHandshakeQueue(0);
	const m = new Uint8Array(MSG_INITIATION_LEN);
	const src = ep4('192.0.2.1', 1);
	for (let i = 0; i < WG_UNDERLOAD_QUEUE_LEN - 1; i++)
		q.enqueue(m, 0, m.length, src, false);
	t.notOk(q.under_load(0), `${WG_UNDERLOAD_QUEUE_LEN - 1} queued: not under load`);
	q.enqueue(m, 0, m.length, src, false);
	t.ok(q.under_load(0), `${WG_UNDERLOAD_QUEUE_LEN}: under load`);
	while (q.dequeue() !== undefined)
		;
	t.ok(q.under_load(999), 'empty again, but still under load within the second');
	t.notOk(q.under_load(1000), 'then not');
	let ok = 0;
	for (let i = 0; i < WG_HSQUEUE_LEN + 10; i++)
		ok += q.enqueue(m, 0, m.length, ep4(`10.${i >> 8 & 255}.${i & 255}.1`, 1), false) ? 1 : 0;
	t.equal(ok, WG_HSQUEUE_LEN, 'bounded');
	t.end();
});

t.test('the queue: no source takes more than its share', (t) => {
	const q = new WgHandshakeQueue(0x5eed);
	const m = new Uint8Array(MSG_INITIATION_LEN);
	let ok = 0;
	for (let i = 0; i < WG_HSQUEUE_LEN; i++)
		ok += q.enqueue(m, 0, m.length, ATTACKERS[i % 4], false) ? 1 : 0;
	t.equal(ok, 4 * WG_HSQUEUE_SHARE, 'four flooding sources hold four shares');
	t.ok(q.enqueue(m, 0, m.length, ep4('192.0.2.7', 51820), true), 'another source still gets in');
	t.ok(q.enqueue(m, 0, m.length, ep6(7, 51820), true), 'and an IPv6 one');
	t.notOk(q.enqueue(m, 0, m.length, ep4('198.51.100.1', 9), false), 'a flooding address on another port does not');
	t.notOk(q.enqueue(m, 0, m.length, ep6(8, 51820), false) &&
	    q.enqueue(m, 0, m.length, ep6(9, 51820), false) &&
	    Array.from({ length: WG_HSQUEUE_SHARE }).every(() => q.enqueue(m, 0, m.length, ep6(10, 1), false)),
	    'an IPv6 /64 shares one share');
	const first = q.dequeue();
	t.equal(first?.src.port, ATTACKERS[0].port, 'oldest first');
	t.ok(q.enqueue(m, 0, m.length, ATTACKERS[0], false), 'a dequeued message frees its source\'s room');
	t.end();
});

t.test('a trickle of garbage type-1 packets never puts the device under load', (t) => {
	const p = make_pair(c);
	/* ~33 random 148-byte type-1 packets a second, for 60 s (mac1 invalid). */
	for (let i = 0; i < 2000; i++) {
		const m = c.random_bytes(MSG_INITIATION_LEN);
		m[0] = MSG_INITIATION;
		m[1] = m[2] = m[3] = 0;
		p.net.queue.push({ src: ATTACKERS[0], dst: p.b.ep, data: m, t: p.net.clock.t });
		p.net.advance(30);
	}
	t.equal(p.b.stats.rx_bad_mac1, 2000, 'all dropped at mac1');
	const t0 = p.net.clock.t;
	p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	p.net.pump();
	t.equal(p.b.tun.length, 1, 'the first data packet arrives at once');
	t.equal(p.net.clock.t, t0, 'no cookie round');
	t.equal(p.b.stats.cookie_sent, 0, 'no cookie reply ever');
	t.end();
});

t.test('many peers handshaking as they come: never under load', (t) => {
	const p = make_pair(c);
	/* 2000 valid-mac1 initiations, each handled before the next arrives. */
	for (let i = 0; i < 2000; i++) {
		p.b.dev.input(garbage_init(p.b.pub), 0, MSG_INITIATION_LEN, ATTACKERS[i % 4]);
		p.b.dev.handshake_work();
	}
	t.equal(p.b.stats.cookie_sent, 0, 'no cookie: there was no backlog');
	t.equal(p.b.stats.hs_decrypt, 2000, 'each one was looked at (and failed to decrypt)');
	t.end();
});

t.test('a flood: cookie replies without DH, bounded; the legitimate peer gets in with one cookie round', (t) => {
	const p = make_pair(c);
	const b = p.b;
	const dh_work = () => b.stats.hs_decrypt + b.stats.hs_init_rx;
	const pool = Array.from({ length: 1024 }, () => garbage_init(b.pub));
	let next = 0;
	/* 75,000 valid-mac1 garbage initiations a second from 4 sources, in 1 ms steps, with ticks between. */
	/* Each device gets through WG_HANDSHAKE_BUDGET messages a tick, one tick a ms. */
	p.net.hs_budget = 0;
	const flood_ms = (ms: number) => {
		for (let k = 0; k < ms; k++) {
			for (let j = 0; j < 75; j++)
				b.dev.input(pool[next++ % pool.length], 0, MSG_INITIATION_LEN, ATTACKERS[j % 4]);
			p.net.clock.t++;
			p.a.dev.tick();
			b.dev.tick();
			p.net.pump();
		}
	};
	flood_ms(200);
	t.ok(b.stats.cookie_sent > 0, `under load: ${b.stats.cookie_sent} cookie replies`);
	t.ok(b.stats.cookie_sent <= 4 * (RATELIMIT_PACKETS_BURSTABLE + 4 + 1),
	    'cookie replies bounded per source (20/s, burst 5)');
	t.ok(b.stats.hs_throttled > 10000, `${b.stats.hs_throttled} dropped unchecked, over their source's rate`);
	const checked = b.stats.cookie_sent + b.stats.cookie_ratelimited;
	t.ok(checked <= WG_UNDERLOAD_QUEUE_LEN + 75 + 4 * (WG_HSQUEUE_CLASS_BURST + WG_HSQUEUE_CLASS_RATE * 0.2),
	    `MAC checks bounded by the per-source rate under load (${checked} in 200 ms)`);
	const dh0 = dh_work();
	t.ok(dh0 <= WG_UNDERLOAD_QUEUE_LEN + 200 * WG_HANDSHAKE_BUDGET,
	    `DH spent only on what was queued before the load was seen (${dh0})`);
	flood_ms(300);
	t.ok(dh_work() - dh0 <= 300 * WG_HANDSHAKE_BUDGET, 'no more than the budget per tick');
	t.equal(b.stats.hs_queue_full, 0, 'the queue never overflowed');

	/* The legitimate peer connects now. */
	const t0 = p.net.clock.t;
	p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	let first: number | null = null;
	while (p.net.clock.t < t0 + 8000 && first === null) {
		flood_ms(20);
		if (b.tun.length > 0)
			first = p.net.clock.t - t0;
	}
	t.ok(p.a.stats.cookie_rx >= 1, 'the first initiation was answered with a cookie');
	t.ok(first !== null && first <= 6000, `first packet after ${first} ms (one cookie round)`);
	t.equal(b.sent_type(MSG_COOKIE).filter((d) => ep_str(d.dst) === ep_str(p.a.ep)).length, 1,
	    'one cookie for the legitimate peer');
	t.end();
});

t.test('the queue: under load, a source brings in at most its rate', (t) => {
	const q = new WgHandshakeQueue(7);
	let ok = 0;
	for (let i = 0; i < 1000; i++)
		ok += q.admit(ATTACKERS[0], 0) ? 1 : 0;
	t.equal(ok, WG_HSQUEUE_CLASS_BURST, 'a burst at once');
	ok = 0;
	for (let ms = 1; ms <= 1000; ms++)
		for (let i = 0; i < 75; i++)
			ok += q.admit(ATTACKERS[0], ms) ? 1 : 0;
	t.equal(ok, WG_HSQUEUE_CLASS_RATE, 'then its rate, out of 75,000 a second');
	t.ok(q.admit(ep4('192.0.2.7', 51820), 1000), 'another source is not held to it');
	t.end();
});

t.test('what was queued on mac1 alone before the backlog showed gets a cookie, not a DH', (t) => {
	const p = make_pair(c);
	const b = p.b;
	for (let i = 0; i < WG_UNDERLOAD_QUEUE_LEN + 100; i++)
		b.dev.input(garbage_init(b.pub), 0, MSG_INITIATION_LEN, ATTACKERS[i % 4]);
	/* One call: the gate queues until the backlog reaches 1/8; the DH stage then sees the load. */
	t.equal(b.dev.handshake_work(WG_HANDSHAKE_BUDGET), 0, 'no DH');
	t.equal(b.stats.hs_decrypt, 0, 'no garbage decrypted');
	t.ok(b.stats.cookie_sent > 0 && b.stats.cookie_sent <= 4 * RATELIMIT_PACKETS_BURSTABLE,
	    `cookie replies instead, within each source's burst (${b.stats.cookie_sent})`);
	for (let k = 0; k < 10; k++)
		b.dev.handshake_work(WG_HANDSHAKE_BUDGET);
	t.equal(b.stats.hs_decrypt, 0, 'the whole backlog drained without a DH');
	t.end();
});

t.test('under load, data is never held behind queued handshakes', (t) => {
	const p = make_pair(c);
	p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	p.net.pump();
	t.equal(p.b.tun.length, 1, 'session up');
	for (let i = 0; i < 1000; i++)
		p.b.dev.input(garbage_init(p.b.pub), 0, MSG_INITIATION_LEN, ATTACKERS[i % 4]);
	t.ok(p.b.dev.next_deadline() <= p.net.clock.t, 'handshakes queued: the device wants a tick now');
	p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	const d = p.net.queue.find((x) => ep_str(x.src) === ep_str(p.a.ep));
	if (d !== undefined)
		p.b.dev.input(d.data, 0, d.data.length, d.src);
	t.equal(p.b.tun.length, 2, 'the data packet went to the tun before any queued handshake');
	t.equal(p.b.stats.hs_decrypt, 0, 'no handshake handled yet');
	t.end();
});

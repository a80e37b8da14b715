// SPDX-License-Identifier: BSD-2-Clause
/*
 * mac1/mac2 and cookie replies (paper §5.4.4, §5.4.7, §6.6): unit checks
 * of the checker and the per-peer state, then whole devices under load
 * (NetBSD t_misc wg_cookie and t_interoperability cookie flows) and the
 * rate limiter behind a valid cookie.  Load itself: t_flood.ts.
 */

import t from 'tap';
import { crypto_attach } from '../../../sys/crypto/crypto_select.js';
import {
	MAC_INVALID, MAC_VALID_NO_COOKIE, MAC_VALID_WITH_COOKIE, WgCookieChecker, WgCookieState,
} from '../../../sys/net/wg/cookie.js';
import { INIT_OFF_MAC1, INIT_OFF_MAC2, MSG_COOKIE, MSG_INITIATION } from '../../../sys/net/wg/messages.js';
import { BACKENDS, ep4, ip4, is_zero, make_pair } from '../../harness/wg_harness.js';

for (const backend of BACKENDS) {
	const c = crypto_attach(backend);

	t.test(`cookie checker and generator (${backend})`, (t) => {
		const priv = c.generate_private_key();
		const pub = c.public_key(priv);
		const checker = new WgCookieChecker(c);
		checker.set_public_key(pub);
		const gen = new WgCookieState(c, pub);
		const src = ep4('192.0.2.1', 4000);
		for (let m = 0; m < 3; m++) {
			const msg = c.random_bytes(148);
			msg[0] = 1;
			gen.add_macs(msg, 0, INIT_OFF_MAC1, 0);
			t.ok(is_zero(msg.subarray(INIT_OFF_MAC2)), 'no cookie: mac2 is zero');
			t.equal(checker.validate(msg, 0, INIT_OFF_MAC1, src, false, 0), MAC_VALID_NO_COOKIE, 'mac1 valid');
			t.equal(checker.validate(msg, 0, INIT_OFF_MAC1, src, true, 0), MAC_VALID_NO_COOKIE,
			    'mac2 invalid without a cookie');
			const reply = new Uint8Array(64);
			t.ok(checker.create_reply(reply, msg, 0, INIT_OFF_MAC1, 0x01020304, src, 0), 'reply made');
			t.equal(reply[0], MSG_COOKIE);
			t.same([...reply.subarray(4, 8)], [4, 3, 2, 1], 'receiver index = the sender index');
			t.ok(gen.consume_reply(reply, 0, 10), 'reply consumed');
			t.notOk(gen.consume_reply(reply, 0, 10), 'a second time: no mac1 outstanding');
			gen.add_macs(msg, 0, INIT_OFF_MAC1, 20);
			t.notOk(is_zero(msg.subarray(INIT_OFF_MAC2)), 'mac2 now set');
			t.equal(checker.validate(msg, 0, INIT_OFF_MAC1, src, true, 20), MAC_VALID_WITH_COOKIE,
			    'mac2 valid for the same source');
			t.equal(checker.validate(msg, 0, INIT_OFF_MAC1, ep4('192.0.2.2', 4000), true, 20),
			    MAC_VALID_NO_COOKIE, 'not for another address');
			t.equal(checker.validate(msg, 0, INIT_OFF_MAC1, ep4('192.0.2.1', 4001), true, 20),
			    MAC_VALID_NO_COOKIE, 'not for another port');
			msg[50] ^= 1;
			t.equal(checker.validate(msg, 0, INIT_OFF_MAC1, src, true, 20), MAC_INVALID,
			    'a flipped byte breaks mac1');
			/* The cookie expires for the sender after 120 - 5 s. */
			msg[50] ^= 1;
			gen.add_macs(msg, 0, INIT_OFF_MAC1, 10 + 115000);
			t.ok(is_zero(msg.subarray(INIT_OFF_MAC2)), 'cookie older than 115 s not used');
			gen.cookie_valid = false;
		}
		/* A reply for someone else's mac1 does not decrypt. */
		const msg = c.random_bytes(148);
		gen.add_macs(msg, 0, INIT_OFF_MAC1, 0);
		const other = c.random_bytes(148);
		const reply = new Uint8Array(64);
		checker.create_reply(reply, other, 0, INIT_OFF_MAC1, 1, src, 0);
		t.notOk(gen.consume_reply(reply, 0, 0), 'wrong AD: rejected');
		t.end();
	});

	t.test(`cookie round trip under force_underload (${backend})`, (t) => {
		const p = make_pair(c, { tunables_b: { force_underload: true } });
		p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
		p.net.pump();
		const cookies = p.b.sent_type(MSG_COOKIE);
		t.equal(cookies.length, 1, 'the first initiation is answered with a cookie reply');
		t.equal(cookies[0].data.length, 64, '64 bytes on the wire');
		t.equal(p.b.stats.cookie_sent, 1);
		t.equal(p.a.stats.cookie_rx, 1, 'initiator stored the cookie');
		t.equal(p.a.sent_type(MSG_INITIATION).length, 1, 'and did not resend at once');
		t.equal(p.a.dev.peer_info(p.a_peer).last_handshake_sec, 0, 'latest handshake: never');
		t.equal(p.b.tun.length, 0);
		p.net.advance(5400);
		const inits = p.a.sent_type(MSG_INITIATION);
		t.equal(inits.length, 2, 'retried after REKEY_TIMEOUT');
		t.notOk(is_zero(inits[1].data.subarray(INIT_OFF_MAC2)), 'the retry carries mac2');
		t.equal(p.b.tun.length, 1, 'and succeeds: the staged packet arrived');
		t.ok(p.a.dev.peer_info(p.a_peer).last_handshake_sec > 0, 'latest handshake set');
		t.equal(p.b.stats.cookie_sent, 1, 'no second cookie');
		t.end();
	});

	t.test(`an initiator under load answers the response with a cookie (${backend})`, (t) => {
		const p = make_pair(c, { tunables_a: { force_underload: true } });
		p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
		p.net.pump();
		t.equal(p.a.stats.cookie_sent, 1, 'a answered b\'s response with a cookie');
		t.equal(p.b.stats.cookie_rx, 1, 'b stored it');
		t.equal(p.b.tun.length, 0, 'first attempt fails');
		p.net.advance(5400);
		t.equal(p.b.tun.length, 1, 'the retry succeeds');
		t.end();
	});
}

const c = crypto_attach('sodium');

t.test('rate limiting behind valid mac2', (t) => {
	const p = make_pair(c, { tunables_b: { force_underload: true } });
	p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	p.net.pump();
	t.equal(p.a.stats.cookie_rx, 1, 'cookie obtained');
	p.net.advance(5400);
	const with_mac2 = p.a.sent_type(MSG_INITIATION)[1];
	t.ok(with_mac2 !== undefined && !is_zero(with_mac2.data.subarray(INIT_OFF_MAC2)));
	if (with_mac2 !== undefined) {
		const s0 = { ...p.b.stats };
		for (let i = 0; i < 10; i++)
			p.b.dev.input(with_mac2.data, 0, with_mac2.data.length, with_mac2.src);
		p.b.dev.handshake_work(Infinity);
		/*
		 * The genuine retry used one token of the burst of 5; less than
		 * 400 ms have passed since, so at most 5 copies get through.
		 */
		const limited = p.b.stats.hs_ratelimited - s0.hs_ratelimited;
		const passed = p.b.stats.hs_bad_ts - s0.hs_bad_ts;
		t.ok(passed >= 4 && passed <= 5, `${passed} passed the limiter (burst)`);
		t.equal(limited + passed, 10, `the other ${limited} were rate limited`);
	}
	t.end();
});

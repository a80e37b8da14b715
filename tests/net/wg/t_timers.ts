// SPDX-License-Identifier: BSD-2-Clause
/*
 * The timers (paper §6) on a fake clock: rekey after time, handshake
 * retransmission and give-up counts (NetBSD t_misc wg_handshake_timeout:
 * 4 initiations with 4 s / 10 s, 20 with the defaults, as Linux), passive
 * keepalive (t_misc wg_keepalive), new handshake when data gets no
 * answer, receive-side last-minute rekey, persistent keepalive, rekey
 * after messages, and zeroing keys after 3 x REJECT_AFTER_TIME.
 */

import t from 'tap';
import { crypto_attach } from '../../../sys/crypto/crypto_select.js';
import { MSG_INITIATION } from '../../../sys/net/wg/messages.js';
import { type Pair, ip4, is_zero, make_pair } from '../../harness/wg_harness.js';

const c = crypto_attach('sodium');

/* One echo each way, as `ping -c 1` does. */
function ping(p: Pair): boolean {
	const na = p.a.tun.length;
	const nb = p.b.tun.length;
	p.a.dev.output(ip4('10.0.0.1', '10.0.0.2', 56), 0, 76);
	p.net.pump();
	if (p.b.tun.length !== nb + 1)
		return false;
	p.b.dev.output(ip4('10.0.0.2', '10.0.0.1', 56), 0, 76);
	p.net.pump();
	return p.a.tun.length === na + 1;
}

t.test('rekey after rekey_after_time (t_misc wg_rekey)', (t) => {
	const p = make_pair(c, { tunables_a: { rekey_after_time: 3 }, tunables_b: { rekey_after_time: 3 } });
	t.ok(ping(p), 'ping');
	const h0 = p.a.dev.peer_info(p.a_peer).last_handshake_sec;
	const kp0 = p.a_peer.keypairs.current;
	p.net.advance(1000);
	t.ok(ping(p));
	t.equal(p.a.dev.peer_info(p.a_peer).last_handshake_sec, h0, 'after 1 s: unchanged');
	t.equal(p.a_peer.keypairs.current, kp0, 'same keypair');
	p.net.advance(3000);
	t.ok(ping(p));
	const h1 = p.a.dev.peer_info(p.a_peer).last_handshake_sec;
	t.not(h1, h0, 'after 4 s: changed');
	t.not(p.a_peer.keypairs.current, kp0, 'new keypair');
	t.equal(p.a.sent_type(MSG_INITIATION).length, 2, 'one rekey initiation');
	p.net.advance(4000);
	t.ok(ping(p));
	t.not(p.a.dev.peer_info(p.a_peer).last_handshake_sec, h1, 'after 4 more s: changed again');
	t.equal(p.b.sent_type(MSG_INITIATION).length, 0, 'only the initiator rekeys on time');
	t.end();
});

t.test('handshake timeout: 4 initiations with rekey_timeout 4, attempt time 10 (Linux rule)', (t) => {
	/*
	 * attempts > rekey_attempt_time / rekey_timeout (2): t = 0, 4, 8, 12.
	 * NetBSD's own driver gives up by elapsed time and sends 3.
	 */
	for (let run = 0; run < 5; run++) {
		const tu = { rekey_timeout: 4, rekey_attempt_time: 10 };
		const p = make_pair(c, { tunables_a: tu, tunables_b: tu });
		p.net.filter = () => false;	/* the peer is unreachable */
		const t0 = p.net.clock.t;
		p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
		p.net.advance(18000);
		const inits = p.a.sent_type(MSG_INITIATION).map((d) => d.t - t0);
		t.equal(inits.length, 4, `run ${run}: four initiations (${inits.join(', ')} ms)`);
		t.ok(inits[0] === 0 && inits[1] >= 4000 && inits[1] < 4334 && inits[2] >= 8000 && inits[2] < 8668 &&
		    inits[3] >= 12000 && inits[3] < 13002, 'at 0, 4, 8 and 12 s plus jitter');
		t.equal(p.a.events_of('handshake_giveup').length, 1, 'then gives up');
		t.equal(p.a_peer.staged.length, 0, 'staged packets dropped');
		p.net.advance(60000);
		t.equal(p.a.sent_type(MSG_INITIATION).length, 4, 'and stays quiet');
	}
	t.end();
});

t.test('handshake timeout with the defaults: 20 initiations over ~100 s, as Linux and wireguard-go', (t) => {
	const p = make_pair(c);
	p.net.filter = () => false;
	const t0 = p.net.clock.t;
	p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	p.net.advance(200000);
	const inits = p.a.sent_type(MSG_INITIATION);
	t.equal(inits.length, 20, '20 initiations');
	t.equal(p.a.stats.hs_giveup, 1);
	const gu = p.a.stats.hs_giveup === 1 ? inits[19].t - t0 : 0;
	t.ok(gu >= 95000 && gu < 95000 + 19 * 334, `the last at ${gu} ms`);
	t.end();
});

t.test('a new packet restarts the attempts (Linux semantics)', (t) => {
	const tu = { rekey_timeout: 4, rekey_attempt_time: 10 };
	const p = make_pair(c, { tunables_a: tu });
	p.net.filter = () => false;
	p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	p.net.advance(6000);
	p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	p.net.advance(30000);
	t.equal(p.a.sent_type(MSG_INITIATION).length, 5, 'the count started again at the second packet');
	t.end();
});

t.test('passive keepalive (t_misc wg_keepalive)', (t) => {
	const p = make_pair(c, { tunables_b: { keepalive_timeout: 3 } });
	for (let i = 0; i < 3; i++) {
		t.ok(ping(p));
		p.net.advance(100);
	}
	t.equal(p.b.sent.filter((d) => d.data[0] === 4 && d.data.length === 32).length, 0, 'no keepalive yet');
	p.net.advance(4000);
	t.ok(ping(p));
	t.equal(p.b.sent.filter((d) => d.data[0] === 4 && d.data.length === 32).length, 1,
	    'peer sent one 32-byte keepalive');
	t.end();
});

t.test('passive keepalive after keepalive_timeout when data is only received', (t) => {
	const p = make_pair(c, { tunables_b: { keepalive_timeout: 3 } });
	p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	p.net.pump();
	p.net.advance(2900);
	t.equal(p.b.sent_type(4).length, 0, 'nothing before the timeout');
	p.net.advance(200);
	const ka = p.b.sent_type(4);
	t.equal(ka.length, 1, 'keepalive at 3 s');
	t.equal(ka[0].data.length, 32, '32 bytes');
	t.equal(p.a.stats.rx_keepalive, 1, 'received as a keepalive');
	p.net.advance(30000);
	t.equal(p.b.sent_type(4).length, 1, 'only one');
	t.end();
});

t.test('new handshake when sent data gets no answer', (t) => {
	const p = make_pair(c);
	t.ok(ping(p));
	p.net.advance(1000);
	const n = p.a.sent_type(MSG_INITIATION).length;
	p.net.filter = (d) => d.src.addr[3] !== 2;	/* b's replies are lost */
	p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	p.net.advance(14900);
	t.equal(p.a.sent_type(MSG_INITIATION).length, n, 'not before KEEPALIVE + REKEY_TIMEOUT');
	p.net.advance(500);
	t.equal(p.a.sent_type(MSG_INITIATION).length, n + 1, 'then a new handshake');
	t.end();
});

t.test('receive-side last-minute rekey', (t) => {
	/* Send-side rekey out of the way: only the receive-side rule can fire. */
	const p = make_pair(c, { tunables_a: { rekey_after_time: 1000 } });
	t.ok(ping(p));
	/* Only b talks: a (the initiator) receives under an aging key. */
	p.net.advance(164000);
	const n = p.a.sent_type(MSG_INITIATION).length;
	p.b.dev.output(ip4('10.0.0.2', '10.0.0.1'), 0, 28);
	p.net.pump();
	t.equal(p.a.sent_type(MSG_INITIATION).length, n, 'not before 165 s');
	p.net.advance(1500);
	p.b.dev.output(ip4('10.0.0.2', '10.0.0.1'), 0, 28);
	p.net.pump();
	t.equal(p.a.sent_type(MSG_INITIATION).length, n + 1, 'one handshake at 165 s');
	t.end();
});

t.test('persistent keepalive', (t) => {
	const p = make_pair(c, { ka_a: 2 });
	/* Set at creation while down, so the first one goes at up(): a handshake. */
	t.equal(p.a.sent_type(MSG_INITIATION).length, 1, 'up() sent a keepalive (after a handshake)');
	t.equal(p.b.stats.rx_keepalive, 1, 'which arrived');
	p.net.advance(10100);
	t.equal(p.b.stats.rx_keepalive, 6, 'then one every 2 s');
	p.a.dev.peer_set_persistent_keepalive(p.a_peer, 0);
	p.net.advance(10000);
	t.equal(p.b.stats.rx_keepalive, 6, 'none after turning it off');
	p.a.dev.peer_set_persistent_keepalive(p.a_peer, 5);
	t.equal(p.b.stats.rx_keepalive, 6, 'queued at once...');
	p.net.pump();
	t.equal(p.b.stats.rx_keepalive, 7, '...and sent at once when going from 0 to n');
	t.end();
});

t.test('rekey after rekey_after_messages', (t) => {
	const p = make_pair(c, { tunables_b: { rekey_after_messages: 20 } });
	t.ok(ping(p));
	p.net.advance(6000);	/* past the REKEY_TIMEOUT pacing of b's response */
	const n = p.b.sent_type(MSG_INITIATION).length;
	for (let i = 0; i < 25; i++)
		p.b.dev.output(ip4('10.0.0.2', '10.0.0.1'), 0, 28);
	t.equal(p.b.sent_type(MSG_INITIATION).length, n + 1, 'the responder rekeys past the message limit');
	p.net.pump();
	t.equal(p.a.tun.length, 26, 'nothing lost');
	t.end();
});

t.test('reject_after_messages stops sending under a keypair', (t) => {
	const p = make_pair(c, { tunables_a: { reject_after_messages: 10, rekey_after_messages: 1e9 } });
	t.ok(ping(p));
	p.net.advance(6000);
	p.net.filter = (d) => d.data[0] === 4;	/* handshakes are lost */
	for (let i = 0; i < 20; i++)
		p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	p.net.pump();
	t.equal(p.b.tun.length, 10, 'counters 0..9 used, then no more');
	t.equal(p.a_peer.staged.length, 11, 'the rest waits for a new session');
	t.equal(p.a.sent_type(MSG_INITIATION).length, 2, 'and a handshake was started');
	p.net.filter = null;
	p.net.advance(6000);
	t.equal(p.b.tun.length, 20, 'its retry completes: 10 more under the next session (limit 10 again)');
	/* The last one waits: that handshake is paced (REKEY_TIMEOUT); the next packet starts it. */
	p.net.advance(6000);
	p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	p.net.pump();
	t.equal(p.b.tun.length, 22, 'both go under the session after that');
	t.end();
});

t.test('keys are zeroed after 3 x REJECT_AFTER_TIME', (t) => {
	const p = make_pair(c);
	t.ok(ping(p));
	const kp = p.a_peer.keypairs.current;
	p.net.advance(539000);
	t.ok(kp !== null && !is_zero(kp.send_key), 'still there at 539 s');
	p.net.advance(2000);
	t.ok(kp !== null && is_zero(kp.send_key) && is_zero(kp.recv_key), 'zeroed at 540 s');
	t.equal(p.a_peer.keypairs.current, null);
	t.ok(p.a.stats.keys_zeroed >= 1);
	t.end();
});

t.test('an idle peer gives back its sessions, handshake and timer state, and talks again', (t) => {
	const p = make_pair(c);
	t.ok(ping(p));
	const held = (): unknown[] => [p.a_peer.keypairs_if(), p.a_peer.handshake_if(),
	    (p.a_peer as unknown as { tm: unknown }).tm];
	t.ok(held().every((x) => x !== null), 'a peer that talked holds them');
	p.net.advance(541000);
	t.same(held(), [null, null, null], 'none of them once its keys are zeroed');
	t.equal(p.a_peer.t_zero_key_material, Infinity, 'its timers read as idle');
	t.equal(p.a_peer.last_sent_handshake, -Infinity);
	t.ok(ping(p), 'and it talks again: a new handshake, from nothing');
	t.end();
});

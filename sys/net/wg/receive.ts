// SPDX-License-Identifier: BSD-2-Clause
/*
 * The receiving side (Linux receive.c; NetBSD wg_input): dispatch by
 * message type, the handshake control path with its DoS defences
 * (mac1, cookies and rate limiting under load, paper §6.6), and the
 * transport data path:
 *
 *   receiver index -> keypair -> age and counter limits -> open ->
 *   replay window -> roaming, key confirmation, timers -> keepalive or
 *   IP packet: header check, trim to its length, the inner SOURCE must
 *   route back to the same peer (cryptokey routing, paper §2) -> tun.
 *
 * Every way out of here that is not a delivered packet or a handled
 * message increments one counter.  Nothing is allocated per data
 * packet, except a copy of the source endpoint when it changes.
 */

import {
	DATA_OFF_COUNTER, DATA_OFF_PAYLOAD, DATA_OFF_RECEIVER, INIT_OFF_MAC1, INIT_OFF_SENDER,
	MSG_COOKIE, MSG_COOKIE_LEN, MSG_DATA, MSG_DATA_HDR_LEN, MSG_INITIATION, MSG_RESPONSE,
	RESP_OFF_MAC1, RESP_OFF_SENDER, WG_TAG_LEN, COOKIE_OFF_RECEIVER, le32_get, le64_get_safe,
	wg_msg_classify,
} from './messages.js';
import {
	type WgKeypair, wg_keypairs_received_with, wg_noise_begin_session,
	wg_noise_consume_initiation, wg_noise_consume_response,
} from './noise.js';
import {
	type WgEndpoint, type WgPeer, wg_endpoint_copy, wg_endpoint_equal, wg_endpoint_src_equal,
} from './peer.js';
import { wg_keypair_add, wg_keypair_drop } from './keypair.js';
import { INDEX_KEYPAIR } from './peerlookup.js';
import {
	wg_send_handshake_response, wg_send_keepalive,
	wg_send_queued_handshake_initiation, wg_send_staged,
} from './send.js';
import type { WgSoftc } from './softc.js';
import {
	wg_timers_any_authenticated_packet_received, wg_timers_any_authenticated_packet_traversal,
	wg_timers_data_received, wg_timers_handshake_complete, wg_timers_session_derived,
} from './timers.js';

/*
 * Roaming (paper §6.5): the endpoint follows the last authenticated
 * packet, and so does its sticky source (Linux's endpoint_eq compares
 * both); a new source alone is no roaming to report.
 */
function wg_peer_set_endpoint_from(sc: WgSoftc, peer: WgPeer, src: WgEndpoint): void {
	const cur = peer.endpoint;
	if (cur !== null && wg_endpoint_equal(cur, src)) {
		if (!wg_endpoint_src_equal(cur, src))
			peer.endpoint = wg_endpoint_copy(src);
		return;
	}
	const ep = wg_endpoint_copy(src);
	peer.endpoint = ep;
	sc.io.event({ type: 'endpoint_changed', peer, endpoint: ep });
}

function handshake_complete(sc: WgSoftc, peer: WgPeer): void {
	wg_timers_handshake_complete(sc, peer);
	sc.count('hs_complete');
	if (sc.tunables.debug !== 0)
		sc.log('debug', `peer ${peer.id}: handshake complete`);
	sc.io.event({ type: 'handshake_complete', peer });
}

function wg_under_load(sc: WgSoftc, now: number): boolean {
	return sc.tunables.force_underload || sc.hsq.under_load(now);
}

/*
 * The DoS gate for handshake messages (paper §5.4.7, §6.6), before they
 * are queued (hsqueue.ts).  Not under load: mac1.  Under load: mac2
 * must carry a cookie for this source, else the message gets a cookie
 * reply (itself rate limited) and no DH is ever spent on it; with the
 * cookie, mac1 and the source's handshake rate.  Under load mac2 is
 * looked at first: a sender without a cookie whose cookie replies are
 * used up costs no MAC when its mac2 is zero, and one otherwise.  The
 * two budgets stay apart, so a spoofer without the cookie cannot use
 * up the handshakes of the address it spoofs.
 */
function wg_handshake_enqueue(sc: WgSoftc, buf: Uint8Array, off: number, len: number,
    mac1_off: number, sender_off: number, src: WgEndpoint): void {
	const now = sc.clock.now();
	const cc = sc.cookie_checker;
	if (wg_under_load(sc, now)) {
		if (!cc.mac2_valid(buf, off, mac1_off, src, now)) {
			wg_send_cookie(sc, buf, off, mac1_off, le32_get(buf, off + sender_off), src, now);
			return;
		}
		if (!cc.mac1_valid(buf, off, mac1_off)) {
			sc.count('rx_bad_mac1');
			return;
		}
		if (!sc.ratelimiter.allow(src.family, src.addr, now)) {
			sc.count('hs_ratelimited');
			return;
		}
		if (!sc.hsq.enqueue(buf, off, len, src, true))
			sc.count('hs_queue_full');
		return;
	}
	if (!cc.mac1_valid(buf, off, mac1_off)) {
		sc.count('rx_bad_mac1');
		return;
	}
	if (!sc.hsq.enqueue(buf, off, len, src, false))
		sc.count('hs_queue_full');
}

/* A cookie reply (mac1 checked here), within this source's rate and the device's. */
function wg_send_cookie(sc: WgSoftc, buf: Uint8Array, off: number, mac1_off: number,
    sender_index: number, src: WgEndpoint, now: number): void {
	if (!sc.cookie_ratelimiter.allow(src.family, src.addr, now) || !sc.cookie_bucket.allow(now)) {
		sc.count('cookie_ratelimited');
		return;
	}
	if (!sc.cookie_checker.mac1_valid(buf, off, mac1_off)) {
		sc.count('rx_bad_mac1');
		return;
	}
	const reply = sc.hsbuf;
	if (!sc.cookie_checker.create_reply(reply, buf, off, mac1_off, sender_index, src, now))
		return;
	try {
		sc.io.udp_send(src, reply, 0, MSG_COOKIE_LEN);
		sc.count('cookie_sent');
		if (sc.tunables.debug !== 0)
			sc.log('debug', 'under load: answered a handshake message with a cookie');
	} catch {
		sc.count('tx_error');
	}
}

function wg_handle_msg_init(sc: WgSoftc, buf: Uint8Array, off: number, len: number,
    src: WgEndpoint): void {
	const now = sc.clock.now();
	const r = wg_noise_consume_initiation(sc.crypto, sc.ident, buf, off, (rs) => {
		const peer = sc.pubkeys.lookup(rs);
		return peer === undefined ? undefined : { hs: peer.handshake, ss: peer.precomputed_ss };
	}, now);
	if (typeof r === 'string') {
		sc.count(r);
		return;
	}
	const peer = r.peer;
	sc.count('hs_init_rx');
	peer.rx_bytes += len;
	wg_peer_set_endpoint_from(sc, peer, src);
	wg_send_handshake_response(sc, peer, r);
	wg_timers_any_authenticated_packet_received(sc, peer, now);
	wg_timers_any_authenticated_packet_traversal(sc, peer);
}

/*
 * Crossing initiations.  Answering the peer's initiation leaves ours in
 * flight (noise.ts), so when both sides initiate at once both responses
 * are good and each side could complete a session of its own.  Two
 * sessions in use would make both sides initiators, crossing again at
 * every rekey; so the tie is broken by the static public keys: the side
 * with the lower key, holding a fresh unconfirmed session from the
 * peer's initiation (keypairs.next, younger than REKEY_TIMEOUT), drops
 * the session of its own and waits for the peer's first data packet to
 * confirm that one.  Its retransmission timer stays armed, so if that
 * packet never comes it initiates again.  Data flows both ways within
 * two round trips for any delay, and later rekeys come from one side.
 */
function wg_defer_to_peer_session(sc: WgSoftc, peer: WgPeer, now: number): boolean {
	const next = peer.keypairs.next;
	const self = sc.ident.public_key;
	if (next === null || self === null || now >= next.birth + sc.tunables.rekey_timeout * 1000)
		return false;
	const pub = peer.public_key;
	for (let i = 0; i < self.length; i++)
		if (self[i] !== pub[i])
			return self[i] < pub[i];
	return false;
}

function wg_handle_msg_resp(sc: WgSoftc, buf: Uint8Array, off: number, len: number,
    src: WgEndpoint): void {
	const now = sc.clock.now();
	const r = wg_noise_consume_response(sc.crypto, sc.ident, buf, off, sc.index,
	    (hs) => hs.peer.preshared_key);
	if (typeof r === 'string') {
		sc.count(r);
		return;
	}
	const peer = r.peer;
	sc.count('hs_resp_rx');
	peer.rx_bytes += len;
	wg_peer_set_endpoint_from(sc, peer, src);
	if (wg_defer_to_peer_session(sc, peer, now)) {
		sc.count('hs_crossing');
		sc.index.remove(r);
		r.clear();
	} else {
		const kp = wg_noise_begin_session(sc.crypto, r, sc.index, now);
		if (kp !== null) {
			wg_keypair_add(sc, peer, kp);
			wg_timers_session_derived(sc, peer);
			handshake_complete(sc, peer);
			/* Flush what waited; with nothing queued this confirms the session to the responder. */
			wg_send_keepalive(sc, peer);
		} else {
			sc.count('hs_bad_state');
		}
	}
	wg_timers_any_authenticated_packet_received(sc, peer, now);
	wg_timers_any_authenticated_packet_traversal(sc, peer);
}

/* Gate checks (a MAC or two each) done for every DH a call may do. */
export const WG_CHECKS_PER_DH = 64;
/*
 * And at most this long a call, on the device's clock: the gate gets
 * the first half, the DH the rest (at least one message each), so a
 * driver that reads its sockets between calls holds data back no
 * longer than that, however long the backlog.
 */
export const WG_HANDSHAKE_SLICE_MS = 0.5;

/*
 * The deferred handshake work, oldest first: gate up to
 * WG_CHECKS_PER_DH x `max` of the messages as they arrived, then do the
 * DH of up to `max` that passed; returns how many DH were done.  The
 * device spends its handshake CPU here only, so wg_input() stays cheap
 * enough for a driver to drain its socket ahead of a flood.
 *
 * The load is looked at again before each DH (as Linux does, in its
 * handshake worker): what was queued on mac1 alone before the backlog
 * showed gets the under-load treatment, a cookie reply and no DH.
 */
export function wg_handshake_work(sc: WgSoftc, max: number): number {
	const checks = max * WG_CHECKS_PER_DH;
	const t0 = sc.clock.now();
	for (let k = 0; k < checks; k++) {
		if ((k & 31) === 31 && sc.clock.now() >= t0 + WG_HANDSHAKE_SLICE_MS / 2)
			break;
		const m = sc.hs_in.dequeue();
		if (m === undefined)
			break;
		if (m.buf[0] === MSG_INITIATION)
			wg_handshake_enqueue(sc, m.buf, 0, m.len, INIT_OFF_MAC1, INIT_OFF_SENDER, m.src);
		else
			wg_handshake_enqueue(sc, m.buf, 0, m.len, RESP_OFF_MAC1, RESP_OFF_SENDER, m.src);
	}
	let n = 0;
	for (let k = 0; n < max && k < checks; k++) {
		const now = sc.clock.now();
		if (k > 0 && now >= t0 + WG_HANDSHAKE_SLICE_MS)
			break;
		/* The backlog as this message sees it, itself included. */
		const loaded = sc.hsq.length > 0 && wg_under_load(sc, now);
		const m = sc.hsq.dequeue();
		if (m === undefined)
			break;
		if (!sc.up)
			continue;
		const init = m.buf[0] === MSG_INITIATION;
		if (!m.mac2_ok && loaded) {
			wg_send_cookie(sc, m.buf, 0, init ? INIT_OFF_MAC1 : RESP_OFF_MAC1,
			    le32_get(m.buf, init ? INIT_OFF_SENDER : RESP_OFF_SENDER), m.src, now);
			continue;
		}
		n++;
		if (init)
			wg_handle_msg_init(sc, m.buf, 0, m.len, m.src);
		else
			wg_handle_msg_resp(sc, m.buf, 0, m.len, m.src);
	}
	return n;
}

function wg_handle_msg_cookie(sc: WgSoftc, buf: Uint8Array, off: number): void {
	const e = sc.index.lookup(le32_get(buf, off + COOKIE_OFF_RECEIVER));
	if (e === undefined) {
		sc.count('rx_bad_index');
		return;
	}
	sc.count('hs_cookie_rx');
	if (e.peer.cookie.consume_reply(buf, off, sc.clock.now()))
		sc.count('cookie_rx');
	else
		sc.count('hs_bad_cookie');
}

/* Receive-side rekey (paper §6.2): our session nears REJECT_AFTER_TIME, once. */
function keep_key_fresh_recv(sc: WgSoftc, peer: WgPeer, now: number): void {
	if (peer.sent_lastminute_handshake)
		return;
	const kp = peer.keypairs.current;
	const t = sc.tunables;
	if (kp !== null && kp.sending_valid && kp.i_am_initiator &&
	    now >= kp.birth + (t.reject_after_time - t.keepalive_timeout - t.rekey_timeout) * 1000) {
		peer.sent_lastminute_handshake = true;
		wg_send_queued_handshake_initiation(sc, peer, false);
	}
}

/* May kp still open messages (paper §6.1: REJECT_AFTER_TIME / _MESSAGES)?  Counted when not. */
function keypair_can_receive(sc: WgSoftc, kp: WgKeypair, now: number): boolean {
	const t = sc.tunables;
	if (!kp.receiving_valid || now >= kp.birth + t.reject_after_time * 1000 ||
	    kp.replay.next >= t.reject_after_messages) {
		sc.count('rx_key_expired');
		return false;
	}
	return true;
}

function wg_handle_msg_data(sc: WgSoftc, buf: Uint8Array, off: number, len: number,
    src: WgEndpoint): void {
	const e = sc.index.lookup(le32_get(buf, off + DATA_OFF_RECEIVER));
	if (e === undefined || e.index_kind !== INDEX_KEYPAIR) {
		sc.count('rx_bad_index');
		return;
	}
	const kp: WgKeypair = e;
	const now = sc.clock.now();
	if (!keypair_can_receive(sc, kp, now))
		return;
	const counter = le64_get_safe(buf, off + DATA_OFF_COUNTER);
	if (counter < 0) {
		sc.count('rx_replay');
		return;
	}
	const clen = len - MSG_DATA_HDR_LEN;
	const plen = clen - WG_TAG_LEN;
	const rx = sc.rxbuf;
	if (plen > rx.length) {
		sc.count('rx_bad_size');
		return;
	}
	if (sc.io.open_defer !== undefined && sc.io.open_defer(kp, counter, buf, off, len))
		return;
	if (!sc.crypto.aead_open_into(kp.recv_key, counter, buf, off + DATA_OFF_PAYLOAD, clen, null, rx, 0)) {
		sc.count('rx_auth_fail');
		return;
	}
	wg_handle_msg_data_opened(sc, kp, counter, rx, 0, plen, len, src, now);
}

/*
 * A data message opened elsewhere (WgIo.open_defer), in the order the
 * messages came: the keypair may have been dropped, or have expired,
 * while it was being opened (keypair.ts), and then the message goes
 * as it would have gone had it come after.
 */
export function wg_input_opened(sc: WgSoftc, kp: WgKeypair, counter: number, ok: boolean, buf: Uint8Array,
    off: number, len: number, src: WgEndpoint): void {
	if (sc.index.lookup(kp.local_index) !== kp) {
		sc.count('rx_bad_index');
		return;
	}
	const now = sc.clock.now();
	if (!keypair_can_receive(sc, kp, now))
		return;
	if (!ok) {
		sc.count('rx_auth_fail');
		return;
	}
	wg_handle_msg_data_opened(sc, kp, counter, buf, off + DATA_OFF_PAYLOAD, len - MSG_DATA_HDR_LEN - WG_TAG_LEN,
	    len, src, now);
}

/* The plaintext (plen bytes at rx[p]) of an authenticated data message of len bytes. */
function wg_handle_msg_data_opened(sc: WgSoftc, kp: WgKeypair, counter: number, rx: Uint8Array, p: number,
    plen: number, len: number, src: WgEndpoint, now: number): void {
	const t = sc.tunables;
	const peer = kp.peer;
	/* After authentication only: a forged counter must not move the window. */
	if (!kp.replay.validate(counter, t.reject_after_messages)) {
		sc.count('rx_replay');
		return;
	}

	wg_peer_set_endpoint_from(sc, peer, src);
	if (wg_keypairs_received_with(peer.keypairs, kp, (old) => wg_keypair_drop(sc, old))) {
		/* Key confirmation: the responder's handshake is complete. */
		handshake_complete(sc, peer);
		wg_send_staged(sc, peer);
	}
	keep_key_fresh_recv(sc, peer, now);
	wg_timers_any_authenticated_packet_received(sc, peer, now);
	wg_timers_any_authenticated_packet_traversal(sc, peer);

	if (plen === 0) {
		peer.rx_bytes += len;
		sc.count('rx_keepalive');
		return;
	}
	wg_timers_data_received(sc, peer);
	/*
	 * NetBSD's rule (wg_handle_msg_data), kept beside Linux's timer: data
	 * after we have been silent for KEEPALIVE_TIMEOUT is answered with a
	 * keepalive at once.  At most one per timeout; NetBSD's t_misc
	 * wg_keepalive depends on it.
	 */
	if (now >= peer.last_sent_authenticated + t.keepalive_timeout * 1000)
		wg_send_keepalive(sc, peer);

	/* The plaintext must be one IPv4 or IPv6 packet; trim the padding by its length. */
	let plen_ip: number;
	let match: WgPeer | undefined;
	const v = rx[p] >> 4;
	if (v === 4 && plen >= 20) {
		plen_ip = (rx[p + 2] << 8) | rx[p + 3];
		if (plen_ip < 20 || plen_ip > plen) {
			sc.count('rx_bad_inner');
			return;
		}
		match = sc.aip4.rn_match(rx, p + 12);
	} else if (v === 6 && plen >= 40) {
		plen_ip = ((rx[p + 4] << 8) | rx[p + 5]) + 40;
		if (plen_ip > plen) {
			sc.count('rx_bad_inner');
			return;
		}
		match = sc.aip6.rn_match(rx, p + 8);
	} else {
		sc.count('rx_bad_inner');
		return;
	}
	if (match !== peer) {
		sc.count('rx_bad_src');
		return;
	}
	peer.rx_bytes += len;
	sc.count('rx_data');
	sc.io.tun_write(rx, p, plen_ip);
}

/* One UDP datagram from `src`.  Never throws. */
export function wg_input(sc: WgSoftc, buf: Uint8Array, off: number, len: number, src: WgEndpoint): void {
	if (!sc.up) {
		sc.count('rx_down');
		return;
	}
	const cls = wg_msg_classify(buf, off, len);
	switch (cls) {
	case MSG_DATA:
		wg_handle_msg_data(sc, buf, off, len, src);
		return;
	case MSG_INITIATION:
	case MSG_RESPONSE: {
		/* Checked later, in wg_handshake_work(). */
		const now = sc.clock.now();
		if (wg_under_load(sc, now) && !sc.hs_in.admit(src, now))
			sc.count('hs_throttled');
		else if (!sc.hs_in.enqueue(buf, off, len, src, false))
			sc.count('hs_queue_full');
		return;
	}
	case MSG_COOKIE:
		wg_handle_msg_cookie(sc, buf, off);
		return;
	default:
		sc.count(cls);
		return;
	}
}

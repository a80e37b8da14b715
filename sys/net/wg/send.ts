// SPDX-License-Identifier: BSD-2-Clause
/*
 * The sending side (Linux send.c; NetBSD wg_output): handshake
 * initiations and responses, transport data, keepalives, the staged
 * queue, and the send-side rekey rules (paper §6.2).
 *
 * Data path: the packet is copied once, behind a 16-byte header, into
 * the driver's transmit batch where it offers one (io.udp_reserve) or
 * the device's transmit buffer, zero-padded to a multiple of 16 (capped
 * at the MTU), sealed in place and handed to io.udp_send.  Nothing is
 * allocated per packet but the view of the copy's source.
 */

import {
	DATA_OFF_COUNTER, DATA_OFF_PAYLOAD, DATA_OFF_RECEIVER, INIT_OFF_MAC1, INITIATION_MIN_INTERVAL_MS, MSG_DATA,
	MSG_INITIATION_LEN, MSG_RESPONSE_LEN, RESP_OFF_MAC1, WG_TAG_LEN, le32_put, le64_put, wg_padded_len,
} from './messages.js';
import {
	type WgHandshake, type WgKeypair, wg_noise_begin_session,
	wg_noise_create_initiation, wg_noise_create_response,
} from './noise.js';
import { wg_keypair_add } from './keypair.js';
import type { WgPeer } from './peer.js';
import type { WgSoftc } from './softc.js';
import {
	wg_timers_any_authenticated_packet_sent, wg_timers_any_authenticated_packet_traversal,
	wg_timers_data_sent, wg_timers_handshake_initiated, wg_timers_session_derived,
} from './timers.js';

/* ---- Handshakes. ---- */

/*
 * At most one initiation per REKEY_TIMEOUT (paper §6.1).  When
 * rekey_after_time is set below rekey_timeout (NetBSD's t_misc wg_rekey
 * uses 3 s against 5 s), the rekey interval paces instead, or a due
 * rekey would be held back; never below the responder's 20 ms flood
 * limit.  With the defaults this is exactly Linux's rule.
 */
function initiation_pacing_ms(sc: WgSoftc): number {
	const t = sc.tunables;
	return Math.max(INITIATION_MIN_INTERVAL_MS, Math.min(t.rekey_timeout, t.rekey_after_time) * 1000);
}

/* Linux wg_packet_send_handshake_initiation, paced as above. */
export function wg_send_handshake_initiation(sc: WgSoftc, peer: WgPeer): void {
	const now = sc.clock.now();
	if (now < peer.last_sent_handshake + initiation_pacing_ms(sc))
		return;
	peer.last_sent_handshake = now;
	const buf = sc.hsbuf;
	const fail = wg_noise_create_initiation(sc.crypto, sc.ident, peer.handshake, peer.precomputed_ss,
	    peer.public_key, sc.index, sc.clock.wall(), buf, 0);
	if (fail !== null) {
		/* No identity, or a low-order peer key: nothing is ever sent. */
		sc.count('hs_init_fail');
		sc.count(fail);
		return;
	}
	peer.cookie.add_macs(buf, 0, INIT_OFF_MAC1, now);
	wg_timers_any_authenticated_packet_traversal(sc, peer);
	wg_timers_any_authenticated_packet_sent(sc, peer);
	if (sc.send_to_peer(peer, buf, 0, MSG_INITIATION_LEN)) {
		sc.count('hs_init_tx');
		if (sc.tunables.debug !== 0)
			sc.log('debug', `peer ${peer.id}: sending handshake initiation (attempt ${peer.handshake_attempts + 1})`);
	}
	wg_timers_handshake_initiated(sc, peer);
}

/*
 * Start a handshake unless one went out less than REKEY_TIMEOUT ago.
 * A fresh (non-retry) request restarts the attempt count.
 */
export function wg_send_queued_handshake_initiation(sc: WgSoftc, peer: WgPeer, is_retry: boolean): void {
	if (!is_retry)
		peer.handshake_attempts = 0;
	if (peer.is_dead || sc.clock.now() < peer.last_sent_handshake + initiation_pacing_ms(sc))
		return;
	wg_send_handshake_initiation(sc, peer);
}

/*
 * Answer a consumed initiation (`hs`, the responder's side, from
 * wg_noise_consume_initiation); the new session waits in `next`
 * (paper §5.4.5).
 */
export function wg_send_handshake_response(sc: WgSoftc, peer: WgPeer, hs: WgHandshake): void {
	const now = sc.clock.now();
	peer.last_sent_handshake = now;
	const buf = sc.hsbuf;
	const fail = wg_noise_create_response(sc.crypto, hs, peer.public_key,
	    peer.preshared_key, sc.index, buf, 0);
	if (fail !== null) {
		sc.count(fail);
		return;
	}
	peer.cookie.add_macs(buf, 0, RESP_OFF_MAC1, now);
	const kp = wg_noise_begin_session(sc.crypto, hs, sc.index, now);
	if (kp === null) {
		sc.index.remove(hs);
		hs.clear();
		sc.count('hs_bad_state');
		return;
	}
	wg_keypair_add(sc, peer, kp);
	wg_timers_session_derived(sc, peer);
	wg_timers_any_authenticated_packet_traversal(sc, peer);
	wg_timers_any_authenticated_packet_sent(sc, peer);
	if (sc.send_to_peer(peer, buf, 0, MSG_RESPONSE_LEN)) {
		sc.count('hs_resp_tx');
		if (sc.tunables.debug !== 0)
			sc.log('debug', `peer ${peer.id}: sending handshake response`);
	}
}

/* ---- Transport data. ---- */

/* May we send under this keypair (paper §6.1: REJECT_AFTER_TIME / _MESSAGES)? */
function keypair_can_send(sc: WgSoftc, kp: WgKeypair | null, now: number): kp is WgKeypair {
	return kp !== null && kp.sending_valid &&
	    now < kp.birth + sc.tunables.reject_after_time * 1000 &&
	    kp.send_counter < sc.tunables.reject_after_messages;
}

/* Seal one packet (len 0: a keepalive) under kp and send it. */
function wg_send_data(sc: WgSoftc, peer: WgPeer, kp: WgKeypair, pkt: Uint8Array, off: number,
    len: number): boolean {
	const counter = kp.send_counter++;
	const padded = wg_padded_len(len, sc.mtu);
	const io = sc.io;
	let tx: Uint8Array = sc.txbuf;
	let at = io.udp_reserve !== undefined ? io.udp_reserve(DATA_OFF_PAYLOAD + padded + WG_TAG_LEN) : -1;
	/* Built in the driver's batch: it may seal there later, on another thread. */
	const defer = at >= 0 && io.seal_defer !== undefined;
	if (at >= 0)
		tx = io.udp_arena as Uint8Array;
	else
		at = 0;
	le32_put(tx, at, MSG_DATA);
	le32_put(tx, at + DATA_OFF_RECEIVER, kp.remote_index);
	le64_put(tx, at + DATA_OFF_COUNTER, counter);
	const p = at + DATA_OFF_PAYLOAD;
	if (len > 0)
		tx.set(pkt.subarray(off, off + len), p);
	if (padded > len)
		tx.fill(0, p + len, p + padded);
	const n = defer ? padded + WG_TAG_LEN : sc.crypto.aead_seal_into(kp.send_key, counter, tx, p, padded, null, tx, p);
	const ok = sc.send_to_peer(peer, tx, at, DATA_OFF_PAYLOAD + n);
	if (ok) {
		/* Only once queued: a datagram not sent leaves its region to the next one. */
		if (defer)
			io.seal_defer?.(kp.send_key, counter, p, padded);
		sc.count(len === 0 ? 'tx_keepalive' : 'tx_data');
	}
	return ok;
}

/*
 * Send-side rekey (paper §6.2): after REKEY_AFTER_MESSAGES, or when we
 * initiated the session and it is REKEY_AFTER_TIME old.
 */
function keep_key_fresh_send(sc: WgSoftc, peer: WgPeer, now: number): void {
	const kp = peer.keypairs.current;
	if (kp === null || !kp.sending_valid)
		return;
	if (kp.send_counter > sc.tunables.rekey_after_messages ||
	    (kp.i_am_initiator && now >= kp.birth + sc.tunables.rekey_after_time * 1000))
		wg_send_queued_handshake_initiation(sc, peer, false);
}

/* After a batch went out (Linux wg_packet_create_data_done). */
function data_done(sc: WgSoftc, peer: WgPeer, data_sent: boolean, now: number): void {
	wg_timers_any_authenticated_packet_traversal(sc, peer);
	wg_timers_any_authenticated_packet_sent(sc, peer);
	if (data_sent)
		wg_timers_data_sent(sc, peer);
	keep_key_fresh_send(sc, peer, now);
}

/*
 * Flush the staged queue under the current keypair, or start a
 * handshake when there is none usable (Linux wg_packet_send_staged_packets).
 */
export function wg_send_staged(sc: WgSoftc, peer: WgPeer): void {
	if (peer.staged.length === 0 || !sc.up)
		return;
	const now = sc.clock.now();
	const kp = peer.keypairs.current;
	if (!keypair_can_send(sc, kp, now)) {
		const cur = peer.keypairs.current;
		if (cur !== null && cur.send_counter >= sc.tunables.reject_after_messages)
			cur.sending_valid = false;
		wg_send_queued_handshake_initiation(sc, peer, false);
		return;
	}
	let sent = 0;
	let data_sent = false;
	while (peer.staged.length > 0) {
		if (kp.send_counter >= sc.tunables.reject_after_messages) {
			kp.sending_valid = false;
			break;
		}
		const pkt = peer.staged.shift() as Uint8Array;
		if (wg_send_data(sc, peer, kp, pkt, 0, pkt.length) && pkt.length > 0)
			data_sent = true;
		sent++;
	}
	if (sent > 0)
		data_done(sc, peer, data_sent, now);
	if (peer.staged.length > 0)
		wg_send_queued_handshake_initiation(sc, peer, false);
}

/*
 * One packet from the tun for `peer`.  With a session and nothing
 * queued ahead of it, it goes straight out; otherwise it is staged.
 */
export function wg_send_packet(sc: WgSoftc, peer: WgPeer, pkt: Uint8Array, off: number, len: number): void {
	const now = sc.clock.now();
	const kp = peer.keypairs.current;
	if (peer.staged.length === 0 && keypair_can_send(sc, kp, now)) {
		const ok = wg_send_data(sc, peer, kp, pkt, off, len);
		data_done(sc, peer, ok && len > 0, now);
		return;
	}
	const dropped = peer.stage(pkt, off, len);
	sc.count('tx_staged');
	if (dropped > 0)
		sc.stats.tx_staged_dropped += dropped;
	wg_send_staged(sc, peer);
}

/* A keepalive: an empty data message, or whatever is staged (Linux wg_packet_send_keepalive). */
export function wg_send_keepalive(sc: WgSoftc, peer: WgPeer): void {
	if (peer.staged.length === 0)
		peer.staged.push(new Uint8Array(0));
	wg_send_staged(sc, peer);
}

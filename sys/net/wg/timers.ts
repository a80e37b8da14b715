// SPDX-License-Identifier: BSD-2-Clause
/*
 * The timer state machine (paper §6; the semantics of Linux timers.c).
 *
 * No real timers here: each peer holds five absolute deadlines (ms on
 * the device clock), the device keeps its peers in a min-heap by their
 * earliest deadline, and wg_timers_run() (timers_expire.ts) fires
 * whatever is due when the driver calls tick().  Every duration is read from the live tunables
 * when a timer is armed.
 *
 *   retransmit_handshake  REKEY_TIMEOUT + jitter after an initiation:
 *                         resend until attempts > MAX_TIMER_HANDSHAKES
 *                         (rekey_attempt_time / rekey_timeout), then give up:
 *                         20 initiations over ~100 s, as Linux and wireguard-go
 *   send_keepalive        KEEPALIVE_TIMEOUT after data was received and
 *                         nothing sent since: a passive keepalive (§6.5)
 *   new_handshake         KEEPALIVE + REKEY_TIMEOUT + jitter after data was
 *                         sent and nothing received since: re-handshake
 *   zero_key_material     3 x REJECT_AFTER_TIME after the last new session
 *   persistent_keepalive  the peer's interval after any authenticated packet
 *   silent                REJECT_AFTER_TIME after the last authenticated packet
 *                         received: tell it (an event), once per silence.  Armed
 *                         by the first packet after a silence and pushed back
 *                         only when it expires, so a packet costs no heap work
 */

import { REKEY_TIMEOUT_JITTER_MAX_MS } from './messages.js';
import type { WgPeer } from './peer.js';
import type { WgSoftc } from './softc.js';

/* ---- The heap of peers by earliest deadline. ---- */

function heap_swap(h: WgPeer[], i: number, j: number): void {
	const a = h[i];
	const b = h[j];
	h[i] = b;
	h[j] = a;
	b.heap_pos = i;
	a.heap_pos = j;
}

function heap_up(h: WgPeer[], i: number): void {
	while (i > 0) {
		const p = (i - 1) >> 1;
		if (h[p].deadline <= h[i].deadline)
			break;
		heap_swap(h, i, p);
		i = p;
	}
}

function heap_down(h: WgPeer[], i: number): void {
	for (;;) {
		const l = 2 * i + 1;
		if (l >= h.length)
			break;
		const r = l + 1;
		const m = r < h.length && h[r].deadline < h[l].deadline ? r : l;
		if (h[i].deadline <= h[m].deadline)
			break;
		heap_swap(h, i, m);
		i = m;
	}
}

function heap_remove(h: WgPeer[], peer: WgPeer): void {
	const i = peer.heap_pos;
	if (i < 0)
		return;
	const last = h.pop() as WgPeer;
	peer.heap_pos = -1;
	if (last !== peer) {
		h[i] = last;
		last.heap_pos = i;
		heap_up(h, i);
		heap_down(h, last.heap_pos);
	}
}

/* Re-file a peer after one of its deadlines changed. */
export function wg_timers_update(sc: WgSoftc, peer: WgPeer): void {
	const d = peer.next_timer();
	if (d === peer.deadline && (peer.heap_pos >= 0) === (d !== Infinity))
		return;
	peer.deadline = d;
	if (d === Infinity) {
		heap_remove(sc.heap, peer);
	} else if (peer.heap_pos < 0) {
		peer.heap_pos = sc.heap.length;
		sc.heap.push(peer);
		heap_up(sc.heap, peer.heap_pos);
	} else {
		heap_up(sc.heap, peer.heap_pos);
		heap_down(sc.heap, peer.heap_pos);
	}
}

export function wg_timers_next_deadline(sc: WgSoftc): number {
	return sc.heap.length > 0 ? sc.heap[0].deadline : Infinity;
}

/* Linux mod_peer_timer: timers only run while the device is up and the peer alive. */
export function can_arm(sc: WgSoftc, peer: WgPeer): boolean {
	return sc.up && !peer.is_dead;
}

const jitter_pool = new Uint16Array(32);
let jitter_left = 0;

/* 0 .. REKEY_TIMEOUT_JITTER_MAX_MS - 1 ms, uniformly enough. */
function jitter(sc: WgSoftc): number {
	if (jitter_left === 0) {
		const b = sc.crypto.random_bytes(jitter_pool.length * 2);
		for (let i = 0; i < jitter_pool.length; i++)
			jitter_pool[i] = b[2 * i] | (b[2 * i + 1] << 8);
		jitter_left = jitter_pool.length;
	}
	return jitter_pool[--jitter_left] % REKEY_TIMEOUT_JITTER_MAX_MS;
}

/* ---- Events from the rest of the protocol (Linux wg_timers_*). ---- */

/* Data (not a keepalive) was sent: expect an answer before KEEPALIVE + REKEY_TIMEOUT. */
export function wg_timers_data_sent(sc: WgSoftc, peer: WgPeer): void {
	if (peer.t_new_handshake !== Infinity || !can_arm(sc, peer))
		return;
	const t = sc.tunables;
	peer.t_new_handshake = sc.clock.now() + (t.keepalive_timeout + t.rekey_timeout) * 1000 +
	    jitter(sc);
	wg_timers_update(sc, peer);
}

/* Data was received: answer with a keepalive if we have nothing to say (§6.5). */
export function wg_timers_data_received(sc: WgSoftc, peer: WgPeer): void {
	if (!can_arm(sc, peer))
		return;
	if (peer.t_send_keepalive === Infinity) {
		peer.t_send_keepalive = sc.clock.now() + sc.tunables.keepalive_timeout * 1000;
		wg_timers_update(sc, peer);
	} else {
		peer.need_another_keepalive = true;
	}
}

/* Anything authenticated went out: no passive keepalive needed. */
export function wg_timers_any_authenticated_packet_sent(sc: WgSoftc, peer: WgPeer): void {
	peer.last_sent_authenticated = sc.clock.now();
	if (peer.t_send_keepalive !== Infinity) {
		peer.t_send_keepalive = Infinity;
		wg_timers_update(sc, peer);
	}
}

/* Anything authenticated came in: the peer is alive, no new handshake needed. */
export function wg_timers_any_authenticated_packet_received(sc: WgSoftc, peer: WgPeer,
    now: number): void {
	peer.last_received_authenticated = now;
	if (peer.t_silent === Infinity && can_arm(sc, peer)) {
		peer.t_silent = now + sc.tunables.reject_after_time * 1000;
		wg_timers_update(sc, peer);
	}
	if (peer.t_new_handshake !== Infinity) {
		peer.t_new_handshake = Infinity;
		wg_timers_update(sc, peer);
	}
}

/* An initiation went out: retransmit it if no response comes. */
export function wg_timers_handshake_initiated(sc: WgSoftc, peer: WgPeer): void {
	if (!can_arm(sc, peer))
		return;
	peer.t_retransmit_handshake = sc.clock.now() + sc.tunables.rekey_timeout * 1000 + jitter(sc);
	wg_timers_update(sc, peer);
}

/* A handshake completed (response consumed, or next keypair confirmed). */
export function wg_timers_handshake_complete(sc: WgSoftc, peer: WgPeer): void {
	peer.t_retransmit_handshake = Infinity;
	peer.handshake_attempts = 0;
	peer.sent_lastminute_handshake = false;
	peer.last_handshake_wall = sc.clock.wall();
	wg_timers_update(sc, peer);
}

/* A new session was derived: its keys die 3 x REJECT_AFTER_TIME from now at the latest. */
export function wg_timers_session_derived(sc: WgSoftc, peer: WgPeer): void {
	if (!can_arm(sc, peer))
		return;
	peer.t_zero_key_material = sc.clock.now() + sc.tunables.reject_after_time * 3 * 1000;
	wg_timers_update(sc, peer);
}

/* Any authenticated packet, either way: push the persistent keepalive back. */
export function wg_timers_any_authenticated_packet_traversal(sc: WgSoftc, peer: WgPeer): void {
	if (peer.persistent_keepalive === 0 || !can_arm(sc, peer))
		return;
	peer.t_persistent_keepalive = sc.clock.now() + peer.persistent_keepalive * 1000;
	wg_timers_update(sc, peer);
}

export function wg_timers_stop(sc: WgSoftc, peer: WgPeer): void {
	peer.t_retransmit_handshake = Infinity;
	peer.t_send_keepalive = Infinity;
	peer.t_new_handshake = Infinity;
	peer.t_zero_key_material = Infinity;
	peer.t_persistent_keepalive = Infinity;
	peer.t_silent = Infinity;
	peer.need_another_keepalive = false;
	wg_timers_update(sc, peer);
}

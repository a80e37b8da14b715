// SPDX-License-Identifier: BSD-2-Clause
/*
 * Timer expiry: what each of timers.ts's deadlines does when it is due,
 * and wg_timers_run(), which the device calls from tick().
 *
 * Apart from timers.ts because the handlers send (keepalives, initiations)
 * while send.ts arms timers: one file for both would make send and timers
 * import each other.
 */

import { wg_max_timer_handshakes } from './messages.js';
import { type WgPeer, wg_endpoint_clear_src } from './peer.js';
import { wg_peer_clear_sessions } from './keypair.js';
import { wg_send_keepalive, wg_send_queued_handshake_initiation } from './send.js';
import type { WgSoftc } from './softc.js';
import { can_arm, wg_timers_update } from './timers.js';

function expired_retransmit_handshake(sc: WgSoftc, peer: WgPeer): void {
	if (peer.handshake_attempts > wg_max_timer_handshakes(sc.tunables)) {
		/* Give up (§6.4): drop what waits, and the keys later. */
		peer.t_send_keepalive = Infinity;
		peer.purge_staged();
		if (peer.t_zero_key_material === Infinity && can_arm(sc, peer))
			peer.t_zero_key_material = sc.clock.now() + sc.tunables.reject_after_time * 3 * 1000;
		wg_timers_update(sc, peer);
		sc.count('hs_giveup');
		sc.log('debug', `peer ${peer.id}: handshake did not complete after ` +
		    `${peer.handshake_attempts + 1} attempts, giving up`);
		sc.io.event({ type: 'handshake_giveup', peer, attempts: peer.handshake_attempts + 1 });
		return;
	}
	peer.handshake_attempts++;
	/* The sticky source may be why no answer came (an address gone): let the route pick again (Linux). */
	if (peer.endpoint !== null)
		wg_endpoint_clear_src(peer.endpoint);
	wg_send_queued_handshake_initiation(sc, peer, true);
}

function expired_send_keepalive(sc: WgSoftc, peer: WgPeer): void {
	wg_send_keepalive(sc, peer);
	if (peer.need_another_keepalive) {
		peer.need_another_keepalive = false;
		if (can_arm(sc, peer)) {
			peer.t_send_keepalive = sc.clock.now() + sc.tunables.keepalive_timeout * 1000;
			wg_timers_update(sc, peer);
		}
	}
}

function expired_new_handshake(sc: WgSoftc, peer: WgPeer): void {
	sc.log('debug', `peer ${peer.id}: no reply to data for ` +
	    `${sc.tunables.keepalive_timeout + sc.tunables.rekey_timeout} s, new handshake`);
	wg_send_queued_handshake_initiation(sc, peer, false);
}

function expired_zero_key_material(sc: WgSoftc, peer: WgPeer): void {
	wg_peer_clear_sessions(sc, peer);
	sc.count('keys_zeroed');
	/* Off the heap first if nothing else is armed: then its timer state can go too. */
	wg_timers_update(sc, peer);
	/* Idle for 3 x REJECT_AFTER_TIME: back to the memory of a peer that never talked. */
	peer.release_idle(sc.clock.now());
}

/* Silent since the deadline was armed, or only since a later packet: then wait on. */
function expired_silent(sc: WgSoftc, peer: WgPeer, now: number): void {
	const limit = sc.tunables.reject_after_time * 1000;
	const silent_ms = now - peer.last_received_authenticated;
	if (silent_ms < limit) {
		if (can_arm(sc, peer))
			peer.t_silent = peer.last_received_authenticated + limit;
		return;
	}
	sc.io.event({ type: 'peer_silent', peer, silent_ms });
}

function expired_persistent_keepalive(sc: WgSoftc, peer: WgPeer): void {
	if (peer.persistent_keepalive !== 0)
		wg_send_keepalive(sc, peer);
}

/* Fire every timer that is due at `now`. */
export function wg_timers_run(sc: WgSoftc, now: number): void {
	/* Bounded: a handler that re-arms in the past cannot loop forever. */
	for (let budget = 4 * sc.heap.length + 16; budget > 0 && sc.heap.length > 0; budget--) {
		const peer = sc.heap[0];
		if (peer.deadline > now)
			break;
		if (peer.t_retransmit_handshake <= now) {
			peer.t_retransmit_handshake = Infinity;
			expired_retransmit_handshake(sc, peer);
		}
		if (peer.t_send_keepalive <= now) {
			peer.t_send_keepalive = Infinity;
			expired_send_keepalive(sc, peer);
		}
		if (peer.t_new_handshake <= now) {
			peer.t_new_handshake = Infinity;
			expired_new_handshake(sc, peer);
		}
		if (peer.t_zero_key_material <= now) {
			peer.t_zero_key_material = Infinity;
			expired_zero_key_material(sc, peer);
		}
		if (peer.t_persistent_keepalive <= now) {
			peer.t_persistent_keepalive = Infinity;
			expired_persistent_keepalive(sc, peer);
		}
		if (peer.t_silent <= now) {
			peer.t_silent = Infinity;
			expired_silent(sc, peer, now);
		}
		wg_timers_update(sc, peer);
	}
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * A peer's keypairs as the device's index table sees them (Linux
 * noise.c's keypair bookkeeping): a keypair enters the table with its
 * session and leaves it with its keys wiped.  The rotation of
 * previous/current/next itself is in noise.ts.  Sending, receiving and
 * the timers all come here, so this file imports none of them.
 */

import { type WgKeypair, wg_keypairs_add, wg_keypairs_clear } from './noise.js';
import type { WgPeer } from './peer.js';
import type { WgSoftc } from './softc.js';

/* Drop a keypair: out of the index table, keys wiped (and the crypto backend's copies). */
export function wg_keypair_drop(sc: WgSoftc, kp: WgKeypair): void {
	sc.index.remove(kp);
	sc.crypto.aead_forget(kp.send_key);
	sc.crypto.aead_forget(kp.recv_key);
	kp.wipe();
}

/* Forget the handshake in flight and every session (keys wiped). */
export function wg_peer_clear_sessions(sc: WgSoftc, peer: WgPeer): void {
	const hs = peer.handshake_if();
	if (hs !== null) {
		sc.index.remove(hs);
		hs.clear();
	}
	const kps = peer.keypairs_if();
	if (kps !== null)
		wg_keypairs_clear(kps, (kp) => wg_keypair_drop(sc, kp));
}

export function wg_keypair_add(sc: WgSoftc, peer: WgPeer, kp: WgKeypair): void {
	wg_keypairs_add(peer.keypairs, kp, (old) => wg_keypair_drop(sc, old));
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * The contract of the sans-I/O protocol core, used by the driver's
 * data-path worker (sys/net/if_wg_intr.ts), the UAPI and the tests.
 * WgDevice implements it, so the compiler keeps the two in step.  The
 * core lives in one thread and takes no locks; times are milliseconds
 * of the injected WgClock.  Errors of the control calls are
 * ErrnoError (sys/sys/errno.ts): EEXIST, ENOENT, EINVAL.
 */

import type { WgAllowedIp, WgEndpoint, WgPeerConfig, WgPeerInfo, WgTunables } from './device.js';
import type { WgKeypair } from './noise.js';
import type { WgPeer } from './peer.js';
import type { WgStatKey } from './softc.js';

export interface WgDeviceApi {
	readonly tunables: WgTunables;		/* read live on every use */
	readonly stats: Record<WgStatKey, number>;	/* drops and errors, by reason */
	readonly mtu: number;			/* caps the padding (default WG_DEFAULT_MTU) */

	/* Clamps; removes a peer whose key is our own public key. */
	set_private_key(key: Uint8Array | null): void;
	private_key(): Uint8Array | null;
	public_key(): Uint8Array | null;

	/* EEXIST for a key, name or prefix in use; EINVAL for a bad value. */
	peer_add(cfg: WgPeerConfig): WgPeer;
	peer_lookup(public_key: Uint8Array): WgPeer | undefined;
	peer_lookup_name(name: string): WgPeer | undefined;
	/* Wipes its keys, removes its allowed IPs. */
	peer_remove(peer: WgPeer): void;
	/* Most recently added first (NetBSD's order). */
	peers(): WgPeer[];
	peer_count(): number;
	peers_page(cursor: number, max: number, newest_first: boolean): { peers: WgPeer[]; next: number };
	peer_info(peer: WgPeer): WgPeerInfo;
	/* Sets the endpoint without a sticky source (src, src_ifindex ignored). */
	peer_set_endpoint(peer: WgPeer, ep: WgEndpoint | null): void;
	/* Forgets every peer's sticky source (the host's addresses or routes changed). */
	peers_clear_src(): void;
	peer_set_preshared_key(peer: WgPeer, psk: Uint8Array | null): void;
	/* 0 -> n sends one keepalive now if the device is up. */
	peer_set_persistent_keepalive(peer: WgPeer, seconds: number): void;
	/* move: UAPI's semantics (take the prefix from another peer); else EEXIST. */
	allowedip_add(peer: WgPeer, aip: WgAllowedIp, opts?: { move?: boolean }): void;
	allowedips_clear(peer: WgPeer): void;

	/* down: nothing is sent; sessions are dropped, the configuration kept. */
	up(): void;
	down(): void;
	is_up(): boolean;
	/* down, every peer removed and wiped, the private key cleared. */
	destroy(): void;

	/*
	 * The data path never throws on bad input: it drops and counts.
	 * output: a packet from the tun; 0 when sent or queued, else an errno
	 * (EHOSTUNREACH: no peer for the destination ...).
	 * input: a UDP datagram; src is reused by the caller, copy it to keep it.
	 * Handshake messages are only queued (a bounded share per source);
	 * handshake_work() checks mac1 (under load mac2, cookie replies, the
	 * rate limit) and does the DH.
	 */
	output(pkt: Uint8Array, off: number, len: number): number;
	input(buf: Uint8Array, off: number, len: number, src: WgEndpoint): void;
	/* A data message input() handed to WgIo.open_defer, opened (ok) or not, in arrival order. */
	input_opened(kp: WgKeypair, counter: number, ok: boolean, buf: Uint8Array, off: number, len: number,
	    src: WgEndpoint): void;
	/* The queued handshakes' work, at most max DH and about 0.5 ms; returns how many DH. */
	handshake_work(max?: number): number;
	/* Runs the timers due at clock.now(), then handshake_work(). */
	tick(): void;
	/* When to call tick() next (clock.now() while handshakes wait), Infinity if never. */
	next_deadline(): number;
}

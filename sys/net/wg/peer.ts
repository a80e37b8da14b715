/*
 * A peer (paper §2, §6): its keys, its endpoint, its allowed IPs, the
 * handshake in flight and the session keypairs, the packets waiting for
 * a session, its counters and the state of its timers.
 *
 * Drivers treat WgPeer as an opaque handle and read it through
 * WgDevice.peer_info(); the fields are for sys/net/wg/ itself.
 */

import type { WgCrypto } from '../../crypto/crypto.js';
import { crypto_wipe } from '../../crypto/crypto_util.js';
import { WgCookieState } from './cookie.js';
import { MAX_STAGED_PACKETS, WG_KEY_LEN } from './messages.js';
import { WgHandshake, WgKeypairs } from './noise.js';
import { wg_key_str } from './peerlookup.js';

export interface WgEndpoint {
	family: 4 | 6;
	addr: Uint8Array;	/* 4 or 16 bytes */
	port: number;
}

export interface WgAllowedIp {
	family: 4 | 6;
	addr: Uint8Array;
	cidr: number;
}

export function wg_endpoint_copy(ep: WgEndpoint): WgEndpoint {
	return { family: ep.family, addr: ep.addr.slice(0, ep.family === 4 ? 4 : 16), port: ep.port };
}

export function wg_endpoint_equal(a: WgEndpoint, b: WgEndpoint): boolean {
	if (a.family !== b.family || a.port !== b.port)
		return false;
	const n = a.family === 4 ? 4 : 16;
	for (let i = 0; i < n; i++)
		if (a.addr[i] !== b.addr[i])
			return false;
	return true;
}

let peer_serial = 0;

export class WgPeer {
	/* A number unique in this process, for logs (never a key). */
	readonly id = ++peer_serial;
	name: string;
	readonly public_key: Uint8Array;
	readonly key_str: string;
	/* 32 zero bytes when there is none (paper §5.4.3: Q = 0^32). */
	readonly preshared_key = new Uint8Array(WG_KEY_LEN);
	/* DH(S_priv, S_pub peer), null without a private key or for a low-order key. */
	precomputed_ss: Uint8Array | null = null;
	endpoint: WgEndpoint | null = null;
	/* Masked prefixes in insertion order (the radix trees hold the routing). */
	readonly allowed_ips = new Map<string, WgAllowedIp>();
	persistent_keepalive = 0;

	readonly handshake: WgHandshake;
	readonly keypairs = new WgKeypairs();
	readonly cookie: WgCookieState;

	/* Packets waiting for a session, oldest first (copies; a length-0 entry is a keepalive). */
	readonly staged: Uint8Array[] = [];

	rx_bytes = 0;
	tx_bytes = 0;
	/* Wall clock (ms) of the last completed handshake; 0 for never. */
	last_handshake_wall = 0;
	/* Monotonic ms of the last authenticated packet we sent (any type). */
	last_sent_authenticated = -Infinity;
	/* Monotonic ms of the last initiation we sent (Linux last_sent_handshake). */
	last_sent_handshake = -Infinity;

	/* Timers (paper §6; Linux timers.c): absolute deadlines in ms, Infinity when idle. */
	t_retransmit_handshake = Infinity;
	t_send_keepalive = Infinity;
	t_new_handshake = Infinity;
	t_zero_key_material = Infinity;
	t_persistent_keepalive = Infinity;
	handshake_attempts = 0;
	need_another_keepalive = false;
	sent_lastminute_handshake = false;
	/* Position in the device's timer heap and the key it is filed under. */
	heap_pos = -1;
	deadline = Infinity;

	is_dead = false;

	constructor(c: WgCrypto, public_key: Uint8Array, name: string) {
		this.public_key = public_key.slice();
		this.key_str = wg_key_str(this.public_key);
		this.name = name;
		this.handshake = new WgHandshake(this);
		this.cookie = new WgCookieState(c, this.public_key);
	}

	has_psk(): boolean {
		let d = 0;
		for (let i = 0; i < WG_KEY_LEN; i++)
			d |= this.preshared_key[i];
		return d !== 0;
	}

	/* Keep a copy of a packet until a session exists; the oldest goes first when full. */
	stage(pkt: Uint8Array, off: number, len: number): number {
		let dropped = 0;
		while (this.staged.length >= MAX_STAGED_PACKETS) {
			this.staged.shift();
			dropped++;
		}
		this.staged.push(pkt.slice(off, off + len));
		return dropped;
	}

	purge_staged(): void {
		this.staged.length = 0;
	}

	/* The earliest of the timer deadlines. */
	next_timer(): number {
		return Math.min(this.t_retransmit_handshake, this.t_send_keepalive, this.t_new_handshake,
		    this.t_zero_key_material, this.t_persistent_keepalive);
	}

	/* The peer is going away: wipe every secret it holds. */
	wipe_static(): void {
		this.preshared_key.fill(0);
		crypto_wipe(this.precomputed_ss);
		this.precomputed_ss = null;
		this.handshake.wipe();
		this.cookie.wipe();
		this.purge_staged();
	}
}

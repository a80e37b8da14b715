// SPDX-License-Identifier: BSD-2-Clause
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
import { INITIATION_MIN_INTERVAL_MS, MAX_STAGED_PACKETS, WG_TIMESTAMP_LEN } from './messages.js';
import { HS_ZEROED, WgHandshake, WgKeypairs, type WgStaticIdentity } from './noise.js';
import { wg_key_bytes, wg_key_str } from './peerlookup.js';

export interface WgEndpoint {
	family: 4 | 6;
	addr: Uint8Array;	/* 4 or 16 bytes */
	port: number;
	/* IPv6 only: the zone of a link-local address (an interface index), 0 for none. */
	scope_id?: number;
	/*
	 * The sticky source (Linux's endpoint src, wireguard-go's sticky
	 * sockets): the local address the peer's datagrams arrive at and the
	 * interface they arrive on, so that replies leave from the address
	 * the peer sent to.  src_ifindex 0 (or absent): none, the route
	 * picks the source.  src has the family's length.
	 */
	src?: Uint8Array;
	src_ifindex?: number;
}

export interface WgAllowedIp {
	family: 4 | 6;
	addr: Uint8Array;
	cidr: number;
}

export function wg_endpoint_copy(ep: WgEndpoint): WgEndpoint {
	const n = ep.family === 4 ? 4 : 16;
	const sticky = (ep.src_ifindex ?? 0) !== 0 && ep.src !== undefined;
	return { family: ep.family, addr: ep.addr.slice(0, n), port: ep.port,
	    scope_id: ep.family === 6 ? ep.scope_id ?? 0 : 0,
	    src: sticky ? ep.src?.slice(0, n) : undefined, src_ifindex: sticky ? ep.src_ifindex : 0 };
}

/* The same sticky source (none equals none)? */
export function wg_endpoint_src_equal(a: WgEndpoint, b: WgEndpoint): boolean {
	const ia = a.src_ifindex ?? 0;
	if (ia !== (b.src_ifindex ?? 0))
		return false;
	if (ia === 0)
		return true;
	const sa = a.src, sb = b.src;
	if (sa === undefined || sb === undefined)
		return sa === sb;
	const n = a.family === 4 ? 4 : 16;
	for (let i = 0; i < n; i++)
		if (sa[i] !== sb[i])
			return false;
	return true;
}

/* Forget the sticky source: the next datagram leaves from whatever the route picks. */
export function wg_endpoint_clear_src(ep: WgEndpoint): void {
	ep.src_ifindex = 0;
}

/* The same remote address, port and zone (the sticky source aside). */
export function wg_endpoint_equal(a: WgEndpoint, b: WgEndpoint): boolean {
	if (a.family !== b.family || a.port !== b.port)
		return false;
	const n = a.family === 4 ? 4 : 16;
	for (let i = 0; i < n; i++)
		if (a.addr[i] !== b.addr[i])
			return false;
	return a.family === 4 || (a.scope_id ?? 0) === (b.scope_id ?? 0);
}

/*
 * A peer's timer state (timers.ts), apart from the peer so that an idle
 * one holds none of it: these are doubles, each boxed on its own.
 */
class WgPeerTimers {
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
	/* REJECT_AFTER_TIME after the first packet received since the last silence. */
	t_silent = Infinity;
	/* Monotonic ms of the last authenticated packet received. */
	last_received_authenticated = -Infinity;
	handshake_attempts = 0;
	need_another_keepalive = false;
	sent_lastminute_handshake = false;
	/* The earliest deadline, the key the peer is filed under in the device's timer heap. */
	deadline = Infinity;
}

/*
 * Most peers have one of a few orders ("4", "46"...): one string each,
 * shared, rather than one a peer.  At most 2^9 - 2 of them are kept.
 */
const AIP_ORDER_SHARED_MAX = 8;
const aip_orders = new Map<string, string>();

function aip_order_intern(s: string): string {
	if (s.length > AIP_ORDER_SHARED_MAX)
		return s;
	let v = aip_orders.get(s);
	if (v === undefined) {
		v = s;
		aip_orders.set(v, v);
	}
	return v;
}

let peer_serial = 0;

/*
 * A peer costs little until it talks (share/doc/DESIGN.md §4): the handshake
 * state, the cookie state and DH(S_priv, S_pub peer) are made on first
 * use, and dropped again when the peer has been idle long enough for its
 * keys to be zeroed (wg_peer_release_idle).  Its allowed IPs live in the
 * device's radix trees only.
 */
export class WgPeer {
	/* A number unique in this process, increasing: log label and listing cursor (never a key). */
	readonly id = ++peer_serial;
	name: string;
	/*
	 * The public key as a key string (wg_key_str): the device's key table
	 * holds the same string, and a string costs far less than a typed
	 * array and its buffer.  public_key makes the bytes when needed.
	 */
	readonly key: string;
	/* null when there is none (paper §5.4.3: Q = 0^32 then). */
	preshared_key: Uint8Array | null = null;
	endpoint: WgEndpoint | null = null;
	persistent_keepalive = 0;
	/*
	 * The families of its allowed IPs in the order added, one character
	 * ('4' or '6') each: the radix trees keep each family's prefixes in
	 * order, this interleaves them again for listings.  Short ones are
	 * shared between peers (aip_order_intern).
	 */
	private aipo = '';
	/* Position in the device's peer list (peerlookup.ts), -1 when on none. */
	list_pos = -1;

	private hs: WgHandshake | null = null;
	private cs: WgCookieState | null = null;
	private ss: Uint8Array | null = null;
	private ss_done = false;
	/*
	 * The newest initiation timestamp accepted, kept while the handshake
	 * state is released: replay protection must outlive it (paper §5.1).
	 */
	private latest_ts: Uint8Array | null = null;
	/* The sessions, made on first use and dropped when idle (release_idle). */
	private kps: WgKeypairs | null = null;
	/* Packets waiting for a session, oldest first (copies; a length-0 entry is a keepalive); made on first use. */
	private stq: Uint8Array[] | null = null;
	/* The timers' state, made when first set, dropped when idle: an idle peer holds none of it. */
	private tm: WgPeerTimers | null = null;

	rx_bytes = 0;
	tx_bytes = 0;
	/* Wall clock (ms) of the last completed handshake; 0 for never. */
	last_handshake_wall = 0;
	/* Position in the device's timer heap (timers.ts), -1 when on none. */
	heap_pos = -1;

	is_dead = false;

	/*
	 * The timers' state (see WgPeerTimers): reading it without one gives
	 * the idle values, and setting an idle value costs nothing.
	 */
	private timers(): WgPeerTimers {
		return this.tm ??= new WgPeerTimers();
	}

	get last_sent_authenticated(): number {
		return this.tm === null ? -Infinity : this.tm.last_sent_authenticated;
	}

	set last_sent_authenticated(v: number) {
		if (this.tm !== null || v !== -Infinity)
			this.timers().last_sent_authenticated = v;
	}

	get last_sent_handshake(): number {
		return this.tm === null ? -Infinity : this.tm.last_sent_handshake;
	}

	set last_sent_handshake(v: number) {
		if (this.tm !== null || v !== -Infinity)
			this.timers().last_sent_handshake = v;
	}

	get t_retransmit_handshake(): number {
		return this.tm === null ? Infinity : this.tm.t_retransmit_handshake;
	}

	set t_retransmit_handshake(v: number) {
		if (this.tm !== null || v !== Infinity)
			this.timers().t_retransmit_handshake = v;
	}

	get t_send_keepalive(): number {
		return this.tm === null ? Infinity : this.tm.t_send_keepalive;
	}

	set t_send_keepalive(v: number) {
		if (this.tm !== null || v !== Infinity)
			this.timers().t_send_keepalive = v;
	}

	get t_new_handshake(): number {
		return this.tm === null ? Infinity : this.tm.t_new_handshake;
	}

	set t_new_handshake(v: number) {
		if (this.tm !== null || v !== Infinity)
			this.timers().t_new_handshake = v;
	}

	get t_zero_key_material(): number {
		return this.tm === null ? Infinity : this.tm.t_zero_key_material;
	}

	set t_zero_key_material(v: number) {
		if (this.tm !== null || v !== Infinity)
			this.timers().t_zero_key_material = v;
	}

	get t_persistent_keepalive(): number {
		return this.tm === null ? Infinity : this.tm.t_persistent_keepalive;
	}

	set t_persistent_keepalive(v: number) {
		if (this.tm !== null || v !== Infinity)
			this.timers().t_persistent_keepalive = v;
	}

	get t_silent(): number {
		return this.tm === null ? Infinity : this.tm.t_silent;
	}

	set t_silent(v: number) {
		if (this.tm !== null || v !== Infinity)
			this.timers().t_silent = v;
	}

	get last_received_authenticated(): number {
		return this.tm === null ? -Infinity : this.tm.last_received_authenticated;
	}

	set last_received_authenticated(v: number) {
		if (this.tm !== null || v !== -Infinity)
			this.timers().last_received_authenticated = v;
	}

	get handshake_attempts(): number {
		return this.tm === null ? 0 : this.tm.handshake_attempts;
	}

	set handshake_attempts(v: number) {
		if (this.tm !== null || v !== 0)
			this.timers().handshake_attempts = v;
	}

	get need_another_keepalive(): boolean {
		return this.tm === null ? false : this.tm.need_another_keepalive;
	}

	set need_another_keepalive(v: boolean) {
		if (this.tm !== null || v !== false)
			this.timers().need_another_keepalive = v;
	}

	get sent_lastminute_handshake(): boolean {
		return this.tm === null ? false : this.tm.sent_lastminute_handshake;
	}

	set sent_lastminute_handshake(v: boolean) {
		if (this.tm !== null || v !== false)
			this.timers().sent_lastminute_handshake = v;
	}

	get deadline(): number {
		return this.tm === null ? Infinity : this.tm.deadline;
	}

	set deadline(v: number) {
		if (this.tm !== null || v !== Infinity)
			this.timers().deadline = v;
	}

	get aip_order(): string {
		return this.aipo;
	}

	set aip_order(s: string) {
		this.aipo = aip_order_intern(s);
	}

	get keypairs(): WgKeypairs {
		return this.kps ??= new WgKeypairs();
	}

	/* The sessions if there are any to look at (going over every peer makes none). */
	keypairs_if(): WgKeypairs | null {
		return this.kps;
	}

	get staged(): Uint8Array[] {
		return this.stq ??= [];
	}

	/* ident: the device's identity, for DH(S_priv, S_pub peer) when first needed. */
	constructor(private readonly c: WgCrypto, public_key: Uint8Array, name: string,
	    private readonly ident: WgStaticIdentity | null = null) {
		this.key = wg_key_str(public_key);
		this.name = name;
	}

	/* The public key's bytes, made anew at each use (handshakes, listings; never per data packet). */
	get public_key(): Uint8Array {
		return wg_key_bytes(this.key);
	}

	/* The handshake state, made on first use. */
	get handshake(): WgHandshake {
		if (this.hs === null) {
			this.hs = new WgHandshake(this);
			if (this.latest_ts !== null) {
				this.hs.latest_timestamp.set(this.latest_ts);
				this.latest_ts = null;
			}
		}
		return this.hs;
	}

	/* The handshake state if it exists (clearing one that does not is a no-op). */
	handshake_if(): WgHandshake | null {
		return this.hs;
	}

	/* The cookie state (mac1 and cookie keys of this peer), made on first use. */
	get cookie(): WgCookieState {
		return this.cs ??= new WgCookieState(this.c, this.public_key);
	}

	/* DH(S_priv, S_pub peer) (paper §5.4.2), null without a private key or for a low-order key. */
	get precomputed_ss(): Uint8Array | null {
		if (!this.ss_done) {
			const priv = this.ident?.private_key ?? null;
			this.ss = priv === null ? null : this.c.dh(priv, this.public_key);
			this.ss_done = true;
		}
		return this.ss;
	}

	/* The device's private key changed: DH again when next needed. */
	forget_ss(): void {
		crypto_wipe(this.ss);
		this.ss = null;
		this.ss_done = false;
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
		this.stq = null;
	}

	/* The earliest of the timer deadlines. */
	next_timer(): number {
		return Math.min(this.t_retransmit_handshake, this.t_send_keepalive, this.t_new_handshake,
		    this.t_zero_key_material, this.t_persistent_keepalive, this.t_silent);
	}

	/*
	 * Idle (sessions gone, no handshake in flight): give back the
	 * handshake, cookie and DH state, keeping only the replay guard.
	 * A cookie still fresh is kept; it may be needed for the next try.
	 */
	release_idle(now: number): void {
		const hs = this.hs;
		if (hs !== null) {
			if (hs.state !== HS_ZEROED || hs.local_index !== 0 ||
			    now < hs.last_initiation_consumption + INITIATION_MIN_INTERVAL_MS)
				return;
			let nz = 0;
			for (let i = 0; i < WG_TIMESTAMP_LEN; i++)
				nz |= hs.latest_timestamp[i];
			this.latest_ts = nz === 0 ? null : hs.latest_timestamp.slice();
			hs.wipe();
			this.hs = null;
		}
		if (this.cs !== null && !this.cs.fresh(now)) {
			this.cs.wipe();
			this.cs = null;
		}
		this.forget_ss();
		const k = this.kps;
		if (k !== null && k.previous === null && k.current === null && k.next === null)
			this.kps = null;
		if (this.stq !== null && this.stq.length === 0)
			this.stq = null;
		/*
		 * No timer armed: what is left (the last packets' times, the
		 * attempts) is what a new handshake starts from anyway, minutes
		 * later, so the idle values do as well.
		 */
		if (this.tm !== null && this.heap_pos < 0 && this.next_timer() === Infinity && !this.tm.need_another_keepalive)
			this.tm = null;
	}

	/* The peer is going away: wipe every secret it holds. */
	wipe_static(): void {
		crypto_wipe(this.preshared_key, this.latest_ts);
		this.preshared_key = null;
		this.latest_ts = null;
		this.forget_ss();
		this.hs?.wipe();
		this.cs?.wipe();
		this.purge_staged();
	}
}

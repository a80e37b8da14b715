// SPDX-License-Identifier: BSD-2-Clause
/*
 * WgDevice: the sans-I/O WireGuard protocol core, as the driver
 * (sys/net/if_wg.ts), the UAPI and the tests see it.  Contract:
 * sys/net/wg/api.ts (WgDeviceApi, which WgDevice implements).
 *
 * Bytes, time and randomness in (input(), output(), tick(), the clock
 * and the crypto backend); bytes, events and timer deadlines out (the
 * io callbacks and next_deadline()).  No sockets, no tun, no real
 * timers.  One thread, no locking; not re-entrant (the io callbacks
 * must not call back into the same device synchronously).
 */

import type { WgDeviceApi } from './api.js';
import type { WgCrypto } from '../../crypto/crypto.js';
import { crypto_clamp, crypto_const_eq, crypto_key_copy, crypto_wipe } from '../../crypto/crypto_util.js';
import { type RadixTree, prefix_mask } from '../radix.js';
import {
	EDESTADDRREQ, EEXIST, EHOSTUNREACH, EINVAL, EIO, EMSGSIZE, ENETDOWN, ENOENT, ErrnoError,
} from '../../sys/errno.js';
import { WG_KEY_LEN, WG_MAX_PACKET, WG_PEER_NAME_MAXLEN, type WgTunables, wg_tunables_default } from './messages.js';
import { wg_icmp_unreach } from './icmp.js';
import { type WgKeypair, wg_keypairs_expire_current } from './noise.js';
import {
	type WgAllowedIp, type WgEndpoint, WgPeer, wg_endpoint_clear_src, wg_endpoint_copy,
} from './peer.js';
import { wg_handshake_work, wg_input, wg_input_opened } from './receive.js';
import { wg_peer_clear_sessions } from './keypair.js';
import { wg_send_keepalive, wg_send_packet, wg_send_staged } from './send.js';
import { type WgClock, type WgEvent, type WgIo, WgSoftc, type WgStatKey, WG_STATS_KEYS } from './softc.js';
import { wg_timers_next_deadline, wg_timers_stop, wg_timers_update } from './timers.js';
import { wg_timers_run } from './timers_expire.js';

export type { WgAllowedIp, WgClock, WgEndpoint, WgEvent, WgIo, WgStatKey, WgTunables };
export { WgPeer, wg_tunables_default, WG_STATS_KEYS };


export interface WgPeerConfig {
	public_key: Uint8Array;
	preshared_key?: Uint8Array | null;
	endpoint?: WgEndpoint | null;
	allowed_ips?: WgAllowedIp[];
	persistent_keepalive?: number;
	name?: string;
}

export interface WgPeerInfo {
	name: string;
	public_key: Uint8Array;
	preshared_key: Uint8Array | null;	/* null when all-zero */
	endpoint: WgEndpoint | null;
	allowed_ips: WgAllowedIp[];		/* insertion order, masked */
	last_handshake_sec: number;		/* wall clock; 0/0 never */
	last_handshake_nsec: number;
	rx_bytes: number;			/* UDP payload bytes incl. handshakes and keepalives */
	tx_bytes: number;
	persistent_keepalive: number;
}

function einval(msg: string): never {
	throw new ErrnoError(EINVAL, msg);
}

function check_key(k: unknown, what: string): Uint8Array {
	if (!(k instanceof Uint8Array) || k.length !== WG_KEY_LEN)
		einval(`${what}: expected ${WG_KEY_LEN} bytes`);
	return k;
}

function check_endpoint(ep: unknown): WgEndpoint {
	const e = ep as WgEndpoint;
	if (typeof e !== 'object' || e === null || (e.family !== 4 && e.family !== 6) ||
	    !(e.addr instanceof Uint8Array) || e.addr.length !== (e.family === 4 ? 4 : 16) ||
	    !Number.isInteger(e.port) || e.port < 0 || e.port > 65535 ||
	    (e.scope_id !== undefined && !(Number.isInteger(e.scope_id) && e.scope_id >= 0 && e.scope_id <= 0xffffffff)))
		einval('endpoint: expected family 4 or 6, a 4- or 16-byte address, a port and a 32-bit scope id');
	return e;
}

function check_aip(a: unknown): WgAllowedIp {
	const x = a as WgAllowedIp;
	if (typeof x !== 'object' || x === null || (x.family !== 4 && x.family !== 6) ||
	    !(x.addr instanceof Uint8Array) || x.addr.length !== (x.family === 4 ? 4 : 16))
		einval('allowed ip: expected family 4 or 6 and a 4- or 16-byte address');
	const bits = x.family === 4 ? 32 : 128;
	if (!Number.isInteger(x.cidr) || x.cidr < 0 || x.cidr > bits)
		einval(`allowed ip: cidr must be 0..${bits}`);
	return x;
}

function check_keepalive(s: unknown): number {
	if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > 65535)
		einval('persistent keepalive: expected 0..65535 seconds');
	return s;
}

/* The prefix m/cidr leaves owner: drop its character from owner's order (O(owner's prefixes)). */
function aip_order_drop(tree: RadixTree<WgPeer>, owner: WgPeer, m: Uint8Array, cidr: number): void {
	const fam = tree.bits === 32 ? '4' : '6';
	let k = 0;
	let at = -1;
	tree.rn_walkvalue(owner, (addr, c) => {
		if (at < 0 && c === cidr && crypto_const_eq(addr, m))
			at = k;
		k++;
	});
	const o = owner.aip_order;
	for (let i = 0, n = 0; i < o.length; i++) {
		if (o[i] !== fam)
			continue;
		if (n++ === at) {
			owner.aip_order = o.slice(0, i) + o.slice(i + 1);
			return;
		}
	}
}

/*
 * Handshake messages handled per tick(): at most 8 DH, within the time
 * slice of receive.ts, so a driver that ticks between batches of
 * datagrams never holds data back for longer than that.
 */
export const WG_HANDSHAKE_BUDGET = 8;

export class WgDevice implements WgDeviceApi {
	private readonly sc: WgSoftc;
	readonly tunables: WgTunables;
	readonly stats: Record<WgStatKey, number>;

	constructor(opts: { crypto: WgCrypto; io: WgIo; clock: WgClock; tunables?: WgTunables }) {
		this.tunables = opts.tunables ?? wg_tunables_default();
		this.sc = new WgSoftc(opts.crypto, opts.io, opts.clock, this.tunables);
		this.stats = this.sc.stats;
	}

	/* The inner MTU used to cap padding (paper §5.4.6).  Part of WgDeviceApi (api.ts). */
	get mtu(): number {
		return this.sc.mtu;
	}

	set mtu(v: number) {
		if (!Number.isInteger(v) || v < 0 || v > WG_MAX_PACKET)
			einval('mtu: expected 0..65535');
		this.sc.mtu = v;
	}

	/* ---- Identity. ---- */

	set_private_key(key: Uint8Array | null): void {
		const sc = this.sc;
		let priv: Uint8Array | null = null;
		if (key !== null) {
			priv = crypto_clamp(crypto_key_copy(check_key(key, 'private key')));
			if (sc.ident.private_key !== null && crypto_const_eq(priv, sc.ident.private_key)) {
				priv.fill(0);
				return;
			}
		} else if (sc.ident.private_key === null) {
			return;
		}
		const pub = priv === null ? null : sc.crypto.public_key(priv);
		/*
		 * The first identity of a running device: what was staged while
		 * it had none (a keepalive from up(), data) can go now (Linux
		 * wg_set_device, "send staged packets when setting initial
		 * private key"; netns.sh checks it with persistent keepalive).
		 */
		const send_staged = sc.ident.private_key === null && priv !== null && sc.up;
		/* A peer with our own public key cannot be talked to: remove it. */
		if (pub !== null) {
			const self = sc.pubkeys.lookup(pub);
			if (self !== undefined)
				this.peer_remove(self);
		}
		crypto_wipe(sc.ident.private_key);
		sc.ident.private_key = priv;
		sc.ident.public_key = pub;
		sc.cookie_checker.set_public_key(pub);
		for (const peer of sc.peer_list) {
			peer.forget_ss();
			/* Old sessions were made with the old identity (Linux expire_current_peer_keypairs). */
			const hs = peer.handshake_if();
			if (hs !== null) {
				sc.index.remove(hs);
				hs.clear();
			}
			peer.last_sent_handshake = -Infinity;
			const kps = peer.keypairs_if();
			if (kps !== null)
				wg_keypairs_expire_current(kps);
			if (send_staged)
				wg_send_staged(sc, peer);
		}
	}

	/* Copies off the V8 heap (crypto_key_copy): the caller wipes them, or transfers them to another thread. */
	private_key(): Uint8Array | null {
		const k = this.sc.ident.private_key;
		return k === null ? null : crypto_key_copy(k);
	}

	public_key(): Uint8Array | null {
		return this.sc.ident.public_key?.slice() ?? null;
	}

	/* ---- Peers. ---- */

	peer_add(cfg: WgPeerConfig): WgPeer {
		const sc = this.sc;
		if (typeof cfg !== 'object' || cfg === null)
			einval('peer: expected a configuration object');
		const pub = check_key(cfg.public_key, 'public key');
		const psk = cfg.preshared_key == null ? null : check_key(cfg.preshared_key, 'preshared key');
		const ep = cfg.endpoint == null ? null : check_endpoint(cfg.endpoint);
		const ka = cfg.persistent_keepalive === undefined ? 0 : check_keepalive(cfg.persistent_keepalive);
		const name = cfg.name ?? '';
		if (typeof name !== 'string' || Buffer.byteLength(name) > WG_PEER_NAME_MAXLEN)
			einval(`peer name: at most ${WG_PEER_NAME_MAXLEN} bytes`);
		const aips = cfg.allowed_ips ?? [];
		if (!Array.isArray(aips))
			einval('allowed ips: expected an array');
		const masked: WgAllowedIp[] = [];
		for (const a of aips) {
			const x = check_aip(a);
			const m = prefix_mask(x.addr, x.cidr);
			const tree = x.family === 4 ? sc.aip4 : sc.aip6;
			if (tree.rn_lookup(m, x.cidr) !== undefined || masked.some((y) =>
			    y.family === x.family && y.cidr === x.cidr && crypto_const_eq(y.addr, m)))
				throw new ErrnoError(EEXIST, 'allowed ip: prefix already in use');
			masked.push({ family: x.family, addr: m, cidr: x.cidr });
		}
		if (sc.pubkeys.lookup(pub) !== undefined)
			throw new ErrnoError(EEXIST, 'peer: public key already in use');
		if (name !== '' && sc.names.has(name))
			throw new ErrnoError(EEXIST, 'peer: name already in use');
		if (sc.ident.public_key !== null && crypto_const_eq(pub, sc.ident.public_key))
			einval('peer: public key is the interface\'s own');

		const peer = new WgPeer(sc.crypto, pub, name, sc.ident);
		if (psk !== null)
			peer.preshared_key = crypto_key_copy(psk);
		peer.endpoint = ep === null ? null : wg_endpoint_copy(ep);
		peer.persistent_keepalive = ka;
		sc.pubkeys.insert(peer.key, peer);
		if (name !== '')
			sc.names.set(name, peer);
		sc.peer_list.add(peer);
		for (const a of masked) {
			(a.family === 4 ? sc.aip4 : sc.aip6).rn_addroute(a.addr, a.cidr, peer);
			peer.aip_order += a.family === 4 ? '4' : '6';
		}
		if (ka !== 0 && sc.up)
			wg_send_keepalive(sc, peer);
		return peer;
	}

	peer_lookup(public_key: Uint8Array): WgPeer | undefined {
		if (!(public_key instanceof Uint8Array) || public_key.length !== WG_KEY_LEN)
			return undefined;
		return this.sc.pubkeys.lookup(public_key);
	}

	peer_lookup_name(name: string): WgPeer | undefined {
		return name === '' ? undefined : this.sc.names.get(name);
	}

	private check_peer(peer: WgPeer): void {
		if (!(peer instanceof WgPeer) || peer.is_dead || !this.sc.peer_list.has(peer))
			throw new ErrnoError(ENOENT, 'peer: not on this interface');
	}

	peer_remove(peer: WgPeer): void {
		const sc = this.sc;
		this.check_peer(peer);
		peer.is_dead = true;
		this.allowedips_clear_internal(peer);
		sc.pubkeys.remove(peer.key);
		if (peer.name !== '' && sc.names.get(peer.name) === peer)
			sc.names.delete(peer.name);
		sc.peer_list.delete(peer);
		wg_timers_stop(sc, peer);
		wg_peer_clear_sessions(sc, peer);
		peer.wipe_static();
	}

	peers(): WgPeer[] {
		return [...this.sc.peer_list].reverse();
	}

	peer_count(): number {
		return this.sc.peer_list.size;
	}

	/*
	 * Part of WgDeviceApi (api.ts), for listings taken in pages: up to max peers
	 * after the one whose id is `cursor` (0: from the start), oldest first
	 * or, as peers() gives them, newest first.  `next` is the cursor of
	 * the next page, 0 at the end.  O(log n + max).
	 */
	peers_page(cursor: number, max: number, newest_first: boolean): { peers: WgPeer[]; next: number } {
		return this.sc.peer_list.page(cursor, max, newest_first);
	}

	peer_info(peer: WgPeer): WgPeerInfo {
		this.check_peer(peer);
		const w = peer.last_handshake_wall;
		const sec = Math.floor(w / 1000);
		const v4: WgAllowedIp[] = [];
		const v6: WgAllowedIp[] = [];
		this.sc.aip4.rn_walkvalue(peer, (addr, cidr) => v4.push({ family: 4, addr, cidr }));
		this.sc.aip6.rn_walkvalue(peer, (addr, cidr) => v6.push({ family: 6, addr, cidr }));
		const allowed_ips: WgAllowedIp[] = [];
		let i4 = 0, i6 = 0;
		for (let i = 0; i < peer.aip_order.length; i++)
			allowed_ips.push(peer.aip_order[i] === '4' ? v4[i4++] : v6[i6++]);
		return {
			name: peer.name,
			public_key: peer.public_key,
			preshared_key: peer.preshared_key === null ? null : crypto_key_copy(peer.preshared_key),
			endpoint: peer.endpoint === null ? null : wg_endpoint_copy(peer.endpoint),
			allowed_ips,
			last_handshake_sec: sec,
			last_handshake_nsec: Math.round((w - sec * 1000) * 1e6),
			rx_bytes: peer.rx_bytes,
			tx_bytes: peer.tx_bytes,
			persistent_keepalive: peer.persistent_keepalive,
		};
	}

	/* An endpoint set from outside has no sticky source: the first reply teaches it (Linux). */
	peer_set_endpoint(peer: WgPeer, ep: WgEndpoint | null): void {
		this.check_peer(peer);
		const e = ep === null ? null : wg_endpoint_copy(check_endpoint(ep));
		if (e !== null)
			wg_endpoint_clear_src(e);
		peer.endpoint = e;
	}

	/*
	 * The host's addresses or routes changed: every sticky source is
	 * forgotten, to be learnt again from each peer's next datagram.
	 * (Linux checks its cached route against the source's interface on
	 * the next send instead; a userspace socket has no such route.)
	 */
	peers_clear_src(): void {
		for (const p of this.sc.peer_list)
			if (p.endpoint !== null)
				wg_endpoint_clear_src(p.endpoint);
	}

	peer_set_preshared_key(peer: WgPeer, psk: Uint8Array | null): void {
		this.check_peer(peer);
		const k = psk === null ? null : crypto_key_copy(check_key(psk, 'preshared key'));
		crypto_wipe(peer.preshared_key);
		peer.preshared_key = k;
	}

	/* Going from 0 to n sends a keepalive at once when the device is up (UAPI semantics). */
	peer_set_persistent_keepalive(peer: WgPeer, seconds: number): void {
		this.check_peer(peer);
		const s = check_keepalive(seconds);
		const was = peer.persistent_keepalive;
		peer.persistent_keepalive = s;
		if (s === 0) {
			peer.t_persistent_keepalive = Infinity;
			wg_timers_update(this.sc, peer);
		} else if (was === 0 && this.sc.up) {
			wg_send_keepalive(this.sc, peer);
		}
	}

	/*
	 * Add a prefix (host bits masked).  A prefix owned by another peer
	 * is EEXIST, or with move (UAPI semantics) changes owner.  Adding a
	 * prefix the peer already has is EEXIST, or a no-op with move.
	 */
	allowedip_add(peer: WgPeer, aip: WgAllowedIp, opts?: { move?: boolean }): void {
		const sc = this.sc;
		this.check_peer(peer);
		const x = check_aip(aip);
		const m = prefix_mask(x.addr, x.cidr);
		const tree = x.family === 4 ? sc.aip4 : sc.aip6;
		const owner = tree.rn_lookup(m, x.cidr);
		const move = opts?.move === true;
		if (owner === peer) {
			if (!move)
				throw new ErrnoError(EEXIST, 'allowed ip: prefix already on this peer');
			return;
		}
		if (owner !== undefined) {
			if (!move)
				throw new ErrnoError(EEXIST, 'allowed ip: prefix in use by another peer');
			aip_order_drop(tree, owner, m, x.cidr);
		}
		tree.rn_addroute(m, x.cidr, peer);
		peer.aip_order += x.family === 4 ? '4' : '6';
	}

	allowedips_clear(peer: WgPeer): void {
		this.check_peer(peer);
		this.allowedips_clear_internal(peer);
	}

	private allowedips_clear_internal(peer: WgPeer): void {
		this.sc.aip4.rn_delete_value(peer);
		this.sc.aip6.rn_delete_value(peer);
		peer.aip_order = '';
	}

	/* ---- Up and down. ---- */

	up(): void {
		const sc = this.sc;
		if (sc.up)
			return;
		sc.up = true;
		for (const peer of sc.peer_list) {
			wg_send_staged(sc, peer);
			if (peer.persistent_keepalive !== 0)
				wg_send_keepalive(sc, peer);
		}
	}

	/*
	 * Nothing is sent while down.  As Linux and wireguard-go do, sessions
	 * and queued packets are dropped (keys wiped) and timers stopped; the
	 * configuration (private key, peers, allowed IPs) stays.
	 */
	down(): void {
		const sc = this.sc;
		if (!sc.up)
			return;
		sc.up = false;
		sc.hs_in.clear();
		sc.hsq.clear();
		for (const peer of sc.peer_list) {
			peer.purge_staged();
			wg_timers_stop(sc, peer);
			wg_peer_clear_sessions(sc, peer);
			peer.last_sent_handshake = -Infinity;
			peer.handshake_attempts = 0;
		}
	}

	is_up(): boolean {
		return this.sc.up;
	}

	/*
	 * Part of WgDeviceApi (api.ts), for interface destruction: remove every peer
	 * and wipe the private key and cookie secrets.  The device is down
	 * and empty afterwards (and may be configured again).
	 */
	destroy(): void {
		const sc = this.sc;
		this.down();
		for (const peer of [...sc.peer_list])
			this.peer_remove(peer);
		this.set_private_key(null);
		sc.cookie_checker.wipe();
		sc.ratelimiter.clear();
		sc.cookie_ratelimiter.clear();
	}

	/* ---- Data path. ---- */

	/*
	 * An IP packet from the tun.  0 when sent or queued for a handshake;
	 * otherwise an errno: ENETDOWN, EINVAL (not IPv4/IPv6), EHOSTUNREACH
	 * (no peer's allowed IPs cover the destination), EDESTADDRREQ (the
	 * peer has no endpoint), EMSGSIZE, EIO (internal error).  The
	 * EHOSTUNREACH and EDESTADDRREQ packets are also answered with an
	 * ICMP unreachable through io.tun_write (icmp.ts).
	 */
	output(pkt: Uint8Array, off: number, len: number): number {
		const sc = this.sc;
		try {
			if (!sc.up) {
				sc.count('tx_down');
				return ENETDOWN;
			}
			if (len > WG_MAX_PACKET || off < 0 || len < 0 || off + len > pkt.length) {
				sc.count('tx_too_big');
				return EMSGSIZE;
			}
			let peer: WgPeer | undefined;
			const v = len > 0 ? pkt[off] >> 4 : 0;
			if (v === 4 && len >= 20)
				peer = sc.aip4.rn_match(pkt, off + 16);
			else if (v === 6 && len >= 40)
				peer = sc.aip6.rn_match(pkt, off + 24);
			else {
				sc.count('tx_bad_packet');
				return EINVAL;
			}
			if (peer === undefined) {
				sc.count('tx_no_peer');
				wg_icmp_unreach(sc, pkt, off, len);
				return EHOSTUNREACH;
			}
			if (peer.endpoint === null) {
				sc.count('tx_no_endpoint');
				wg_icmp_unreach(sc, pkt, off, len);
				return EDESTADDRREQ;
			}
			wg_send_packet(sc, peer, pkt, off, len);
			return 0;
		} catch (e) {
			sc.count('tx_error');
			sc.log('err', `output: ${(e as Error).message}`);
			return EIO;
		}
	}

	/* A UDP datagram from src.  Drops and counts bad input; never throws. */
	input(buf: Uint8Array, off: number, len: number, src: WgEndpoint): void {
		const sc = this.sc;
		try {
			if (!(buf instanceof Uint8Array) || off < 0 || len < 0 || off + len > buf.length) {
				sc.count('rx_short');
				return;
			}
			wg_input(sc, buf, off, len, src);
		} catch (e) {
			sc.count('rx_error');
			sc.log('err', `input: ${(e as Error).message}`);
		}
	}

	/* Part of WgDeviceApi (api.ts): the rest of input() for a message opened elsewhere (WgIo.open_defer). */
	input_opened(kp: WgKeypair, counter: number, ok: boolean, buf: Uint8Array, off: number, len: number,
	    src: WgEndpoint): void {
		const sc = this.sc;
		try {
			wg_input_opened(sc, kp, counter, ok, buf, off, len, src);
		} catch (e) {
			sc.count('rx_error');
			sc.log('err', `input: ${(e as Error).message}`);
		}
	}

	/*
	 * Part of WgDeviceApi (api.ts).  The deferred handshake work: input() only
	 * queues handshake messages; this checks their MACs (up to 64 x max)
	 * and does the DH of up to `max`, for at most WG_HANDSHAKE_SLICE_MS
	 * (see hsqueue.ts, receive.ts); returns how many DH were done.
	 */
	handshake_work(max: number = WG_HANDSHAKE_BUDGET): number {
		const sc = this.sc;
		try {
			return wg_handshake_work(sc, max);
		} catch (e) {
			sc.count('rx_error');
			sc.log('err', `handshake: ${(e as Error).message}`);
			return 0;
		}
	}

	/* Run the timers that are due at clock.now(), then a bounded share of the handshake queue. */
	tick(): void {
		const sc = this.sc;
		try {
			if (sc.up)
				wg_timers_run(sc, sc.clock.now());
		} catch (e) {
			sc.count('tick_error');
			sc.log('err', `tick: ${(e as Error).message}`);
		}
		this.handshake_work(WG_HANDSHAKE_BUDGET);
	}

	/* clock.now()-based ms of the next timer (now while handshakes wait), Infinity if none. */
	next_deadline(): number {
		const sc = this.sc;
		if (sc.hsq.length > 0 || sc.hs_in.length > 0)
			return sc.clock.now();
		return sc.up ? wg_timers_next_deadline(sc) : Infinity;
	}
}

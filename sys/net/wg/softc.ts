// SPDX-License-Identifier: BSD-2-Clause
/*
 * The device state shared by the handshake, data path and timer code
 * (NetBSD's struct wg_softc).  WgDevice (device.ts) owns one and is the
 * only public face of it.
 *
 * Not re-entrant: the io callbacks must not call back into the same
 * device synchronously (deliver datagrams through a queue).
 */

import type { WgCrypto } from '../../crypto/crypto.js';
import { RadixTree } from '../radix.js';
import { WgCookieChecker } from './cookie.js';
import { WgHandshakeQueue } from './hsqueue.js';
import { ICMP_ERRORS_BURSTABLE, ICMP_ERRORS_PER_SECOND, IPV6_MMTU } from './icmp.js';
import {
	MSG_DATA_HDR_LEN, MSG_INITIATION_LEN, WG_DEFAULT_MTU, WG_MAX_PACKET, WG_PADDING_MULTIPLE,
	WG_TAG_LEN, type WgTunables,
} from './messages.js';
import type { WgHandshake, WgKeypair, WgStaticIdentity } from './noise.js';
import type { WgEndpoint, WgPeer } from './peer.js';
import { WgIndexTable, WgPeerList, WgPubkeyTable } from './peerlookup.js';
import { WgRateLimiter, WgTokenBucket } from './ratelimiter.js';

/* Cookie replies, all sources together (each source is also held to its own rate). */
export const COOKIE_REPLIES_PER_SECOND = 2000;
export const COOKIE_REPLIES_BURSTABLE = 100;

export interface WgClock {
	now(): number;		/* monotonic ms */
	wall(): number;		/* unix ms */
}

export type WgEvent =
	| { type: 'handshake_complete'; peer: WgPeer }
	| { type: 'endpoint_changed'; peer: WgPeer; endpoint: WgEndpoint }
	| { type: 'handshake_giveup'; peer: WgPeer; attempts: number }
	| { type: 'peer_silent'; peer: WgPeer; silent_ms: number }
	| { type: 'log'; level: 'err' | 'info' | 'debug'; msg: string };

export interface WgIo {
	/* A UDP datagram to send.  buf[off, off+len) is valid only during the call. */
	udp_send(ep: WgEndpoint, buf: Uint8Array, off: number, len: number): void;
	/*
	 * Optional, for a driver that batches datagrams: where the next one,
	 * of up to len bytes, may be built in place, as an offset into
	 * udp_arena, or -1 for "in your own buffer".  A reservation is not a
	 * send: the datagram built there goes out by udp_send() of that same
	 * region, which then needs no copy; until then the next call answers
	 * the same offset.  The driver may replace udp_arena between rounds.
	 */
	udp_reserve?(len: number): number;
	udp_arena?: Uint8Array;
	/*
	 * Optional, for a driver that spreads the AEAD over threads
	 * (sys/net/if_wg_crypt.ts).  seal_defer: udp_arena[off, off+len),
	 * a datagram's padded payload just queued by udp_send(), is to be
	 * sealed in place (its tag after it) under key and counter before
	 * the datagram leaves.  open_defer: the data message buf[off,
	 * off+len) is to be opened in place under kp.recv_key and counter;
	 * true when the driver took it, and it then calls
	 * WgDevice.input_opened() with the same message, its source and the
	 * result, in the order the messages came.  The counter is assigned
	 * here and the replay window moved there, on the device's thread.
	 */
	seal_defer?(key: Uint8Array, counter: number, off: number, len: number): void;
	open_defer?(kp: WgKeypair, counter: number, buf: Uint8Array, off: number, len: number): boolean;
	/* A decrypted, validated IP packet for the host (the tun).  Same validity rule. */
	tun_write(buf: Uint8Array, off: number, len: number): void;
	event(ev: WgEvent): void;
}

/*
 * Counters by reason.  Every drop or failure has one; the list is
 * fixed so that a reader sees every key, zero or not.
 */
export const WG_STATS_KEYS = [
	/* input */
	'rx_down', 'rx_short', 'rx_bad_type', 'rx_bad_size', 'rx_bad_mac1', 'rx_bad_index',
	'rx_auth_fail', 'rx_replay', 'rx_key_expired', 'rx_bad_src', 'rx_bad_inner',
	'rx_keepalive', 'rx_data', 'rx_error',
	/* handshakes received */
	'hs_init_rx', 'hs_resp_rx', 'hs_cookie_rx', 'hs_no_identity', 'hs_no_ss', 'hs_bad_dh',
	'hs_decrypt', 'hs_unknown_peer', 'hs_bad_ts', 'hs_flood', 'hs_bad_index', 'hs_bad_state',
	'hs_ratelimited', 'hs_bad_cookie', 'cookie_sent', 'cookie_rx', 'hs_complete',
	'hs_queue_full', 'hs_throttled', 'cookie_ratelimited', 'hs_crossing',
	/* handshakes sent */
	'hs_init_tx', 'hs_resp_tx', 'hs_init_fail', 'hs_giveup',
	/* output */
	'tx_down', 'tx_no_peer', 'tx_no_endpoint', 'tx_bad_packet', 'tx_staged',
	'tx_staged_dropped', 'tx_too_big', 'tx_data', 'tx_keepalive', 'tx_error',
	'tx_icmp_unreach', 'tx_icmp_ratelimited',
	/* timers */
	'tick_error', 'keys_zeroed',
] as const;
export type WgStatKey = typeof WG_STATS_KEYS[number];

/* A transport message never exceeds header + largest packet padded + tag. */
const TXBUF_LEN = MSG_DATA_HDR_LEN + WG_MAX_PACKET + WG_PADDING_MULTIPLE + WG_TAG_LEN;

export class WgSoftc {
	readonly stats = Object.fromEntries(WG_STATS_KEYS.map((k) => [k, 0])) as Record<WgStatKey, number>;
	readonly ident: WgStaticIdentity = { private_key: null, public_key: null };
	readonly index: WgIndexTable<WgHandshake | WgKeypair>;
	readonly pubkeys = new WgPubkeyTable<WgPeer>();
	readonly names = new Map<string, WgPeer>();
	/* In the order added; peers() reverses it. */
	readonly peer_list = new WgPeerList<WgPeer>();
	readonly aip4 = new RadixTree<WgPeer>(32);
	readonly aip6 = new RadixTree<WgPeer>(128);
	readonly cookie_checker: WgCookieChecker;
	/* Handshake messages as they arrived, then those that passed the gate (hsqueue.ts). */
	readonly hs_in: WgHandshakeQueue;
	readonly hsq: WgHandshakeQueue;
	/* Under load: handshakes behind a valid cookie, and the cookie replies we send. */
	readonly ratelimiter = new WgRateLimiter();
	readonly cookie_ratelimiter = new WgRateLimiter();
	readonly cookie_bucket = new WgTokenBucket(COOKIE_REPLIES_PER_SECOND, COOKIE_REPLIES_BURSTABLE);
	/* ICMP errors for packets no peer takes (icmp.ts). */
	readonly icmp_bucket = new WgTokenBucket(ICMP_ERRORS_PER_SECOND, ICMP_ERRORS_BURSTABLE);
	up = false;
	mtu = WG_DEFAULT_MTU;

	/* Preallocated buffers: nothing is allocated per data packet. */
	readonly txbuf = new Uint8Array(TXBUF_LEN);
	readonly rxbuf = new Uint8Array(WG_MAX_PACKET + WG_PADDING_MULTIPLE);
	readonly hsbuf = new Uint8Array(MSG_INITIATION_LEN);
	readonly icmpbuf = new Uint8Array(IPV6_MMTU);

	/* Timer heap of peers, keyed by WgPeer.deadline (timers.ts). */
	readonly heap: WgPeer[] = [];

	constructor(readonly crypto: WgCrypto, readonly io: WgIo, readonly clock: WgClock,
	    readonly tunables: WgTunables) {
		this.index = new WgIndexTable(crypto);
		this.cookie_checker = new WgCookieChecker(crypto);
		const seed = crypto.random_bytes(8);
		const dv = new DataView(seed.buffer, seed.byteOffset);
		this.hs_in = new WgHandshakeQueue(dv.getInt32(0));
		this.hsq = new WgHandshakeQueue(dv.getInt32(4));
	}

	count(k: WgStatKey): void {
		this.stats[k]++;
	}

	log(level: 'err' | 'info' | 'debug', msg: string): void {
		if (level === 'debug' && this.tunables.debug === 0)
			return;
		this.io.event({ type: 'log', level, msg });
	}

	/* Send a datagram to a peer's endpoint, counting tx bytes. */
	send_to_peer(peer: WgPeer, buf: Uint8Array, off: number, len: number): boolean {
		const ep = peer.endpoint;
		if (ep === null) {
			this.count('tx_no_endpoint');
			return false;
		}
		try {
			this.io.udp_send(ep, buf, off, len);
		} catch (e) {
			this.count('tx_error');
			this.log('debug', `udp_send: ${(e as Error).message}`);
			return false;
		}
		peer.tx_bytes += len;
		return true;
	}
}

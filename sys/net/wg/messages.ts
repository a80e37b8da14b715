// SPDX-License-Identifier: BSD-2-Clause
/*
 * WireGuard message formats and protocol constants (paper §5.4, §6.1).
 *
 * Every integer on the wire is little-endian.  The first four bytes of
 * a message are its type as a u32: bytes 1-3 are reserved zero, and
 * reading the word compares them too, as Linux and wireguard-go do.
 */

/* Message types (paper §5.4.2 - §5.4.7). */
export const MSG_INITIATION = 1;
export const MSG_RESPONSE = 2;
export const MSG_COOKIE = 3;
export const MSG_DATA = 4;

export { WG_KEY_LEN } from '../../crypto/crypto.js';

/* NetBSD caps names at IFNAMSIZ including the NUL; we take the full 15 + NUL rule. */
export const WG_PEER_NAME_MAXLEN = 15;
export const WG_HASH_LEN = 32;
export const WG_MAC_LEN = 16;
export const WG_TAG_LEN = 16;
export const WG_TIMESTAMP_LEN = 12;
export const WG_COOKIE_LEN = 16;
export const WG_COOKIE_NONCE_LEN = 24;

/* Handshake initiation, 148 bytes. */
export const MSG_INITIATION_LEN = 148;
export const INIT_OFF_SENDER = 4;
export const INIT_OFF_EPHEMERAL = 8;
export const INIT_OFF_STATIC = 40;		/* 32 + 16 tag */
export const INIT_OFF_TIMESTAMP = 88;		/* 12 + 16 tag */
export const INIT_OFF_MAC1 = 116;
export const INIT_OFF_MAC2 = 132;

/* Handshake response, 92 bytes. */
export const MSG_RESPONSE_LEN = 92;
export const RESP_OFF_SENDER = 4;
export const RESP_OFF_RECEIVER = 8;
export const RESP_OFF_EPHEMERAL = 12;
export const RESP_OFF_EMPTY = 44;		/* 0 + 16 tag */
export const RESP_OFF_MAC1 = 60;
export const RESP_OFF_MAC2 = 76;

/* Cookie reply, 64 bytes. */
export const MSG_COOKIE_LEN = 64;
export const COOKIE_OFF_RECEIVER = 4;
export const COOKIE_OFF_NONCE = 8;
export const COOKIE_OFF_COOKIE = 32;		/* 16 + 16 tag */

/* Transport data: 16-byte header, padded plaintext, 16-byte tag. */
export const DATA_OFF_RECEIVER = 4;
export const DATA_OFF_COUNTER = 8;
export const DATA_OFF_PAYLOAD = 16;
export const MSG_DATA_HDR_LEN = 16;
export const MSG_DATA_MIN_LEN = MSG_DATA_HDR_LEN + WG_TAG_LEN;	/* 32 */
export const MSG_KEEPALIVE_LEN = MSG_DATA_MIN_LEN;
export const WG_PADDING_MULTIPLE = 16;

/* Largest IP packet: the data path buffers are sized for it once. */
export const WG_MAX_PACKET = 65535;
export const WG_DEFAULT_MTU = 1420;

/* Timing defaults, seconds (paper §6.1). */
export const REKEY_AFTER_TIME = 120;
export const REJECT_AFTER_TIME = 180;
export const REKEY_ATTEMPT_TIME = 90;
export const REKEY_TIMEOUT = 5;
export const KEEPALIVE_TIMEOUT = 10;
/*
 * Message limits.  The paper's values are 2^60 and 2^64 - 2^13 - 1; a
 * JS number is exact only below 2^53, so both are clamped to
 * Number.MAX_SAFE_INTEGER (2^53 - 1).  At 10^7 packets a second a
 * session would need 28 years to reach it; REJECT_AFTER_TIME ends it
 * long before.
 */
export const REKEY_AFTER_MESSAGES = Number.MAX_SAFE_INTEGER;
export const REJECT_AFTER_MESSAGES = Number.MAX_SAFE_INTEGER;

/* Jitter added to handshake retransmissions: 0 .. HZ/3 (Linux timers.c). */
export const REKEY_TIMEOUT_JITTER_MAX_MS = 334;
/* A peer may start at most one consumed initiation per 20 ms (Linux INITIATIONS_PER_SECOND). */
export const INITIATIONS_PER_SECOND = 50;
export const INITIATION_MIN_INTERVAL_MS = 1000 / INITIATIONS_PER_SECOND;
/* Cookie secret lifetime and the initiator's latency margin (paper §6.6). */
export const COOKIE_SECRET_MAX_AGE = 120;
export const COOKIE_SECRET_LATENCY = 5;
/* Packets kept per peer while no session exists; oldest dropped first. */
export const MAX_STAGED_PACKETS = 128;

/*
 * The live tunables (sysctl net.wg.*).  Times are seconds.  Everything
 * in this directory reads them on each use, so a change applies at
 * once, as NetBSD's sysctl knobs do.
 */
export interface WgTunables {
	rekey_after_time: number;
	reject_after_time: number;
	rekey_timeout: number;
	rekey_attempt_time: number;
	keepalive_timeout: number;
	rekey_after_messages: number;
	reject_after_messages: number;
	force_underload: boolean;
	debug: number;
}

export function wg_tunables_default(): WgTunables {
	return {
		rekey_after_time: REKEY_AFTER_TIME,
		reject_after_time: REJECT_AFTER_TIME,
		rekey_timeout: REKEY_TIMEOUT,
		rekey_attempt_time: REKEY_ATTEMPT_TIME,
		keepalive_timeout: KEEPALIVE_TIMEOUT,
		rekey_after_messages: REKEY_AFTER_MESSAGES,
		reject_after_messages: REJECT_AFTER_MESSAGES,
		force_underload: false,
		debug: 0,
	};
}

/*
 * MAX_TIMER_HANDSHAKES from the live tunables (Linux: REKEY_ATTEMPT_TIME /
 * REKEY_TIMEOUT = 18).  A peer retries until its attempts exceed it:
 * the first initiation plus MAX + 1 retries, 20 with 90/5 (Linux and
 * wireguard-go), 4 (t = 0, 4, 8, 12) with NetBSD's t_misc 10/4.
 */
export function wg_max_timer_handshakes(t: WgTunables): number {
	if (!(t.rekey_timeout > 0))
		return 0;
	return Math.max(0, Math.floor(t.rekey_attempt_time / t.rekey_timeout));
}

export type WgMsgDrop = 'rx_short' | 'rx_bad_type' | 'rx_bad_size';
export type WgMsgClass = typeof MSG_INITIATION | typeof MSG_RESPONSE | typeof MSG_COOKIE |
    typeof MSG_DATA | WgMsgDrop;

/*
 * Classify a datagram by its type word and size: the message type, or
 * why it must be dropped.  Types 1-3 have one exact size; data needs
 * at least a header and a tag.
 */
export function wg_msg_classify(buf: Uint8Array, off: number, len: number): WgMsgClass {
	if (len < 4)
		return 'rx_short';
	if (buf[off + 1] !== 0 || buf[off + 2] !== 0 || buf[off + 3] !== 0)
		return 'rx_bad_type';
	switch (buf[off]) {
	case MSG_INITIATION:
		return len === MSG_INITIATION_LEN ? MSG_INITIATION : 'rx_bad_size';
	case MSG_RESPONSE:
		return len === MSG_RESPONSE_LEN ? MSG_RESPONSE : 'rx_bad_size';
	case MSG_COOKIE:
		return len === MSG_COOKIE_LEN ? MSG_COOKIE : 'rx_bad_size';
	case MSG_DATA:
		return len >= MSG_DATA_MIN_LEN ? MSG_DATA : 'rx_short';
	default:
		return 'rx_bad_type';
	}
}

/* Little-endian helpers for the header fields. */
export function le32_get(b: Uint8Array, off: number): number {
	return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
}

export function le32_put(b: Uint8Array, off: number, v: number): void {
	b[off] = v & 0xff;
	b[off + 1] = (v >>> 8) & 0xff;
	b[off + 2] = (v >>> 16) & 0xff;
	b[off + 3] = (v >>> 24) & 0xff;
}

/*
 * A 64-bit counter as a JS number: -1 when it is 2^53 or more (not
 * exactly representable, so never accepted).
 */
export function le64_get_safe(b: Uint8Array, off: number): number {
	const lo = le32_get(b, off);
	const hi = le32_get(b, off + 4);
	if (hi >= 0x200000)
		return -1;
	return hi * 4294967296 + lo;
}

export function le64_put(b: Uint8Array, off: number, v: number): void {
	le32_put(b, off, v >>> 0);
	le32_put(b, off + 4, Math.floor(v / 4294967296) >>> 0);
}

/* Padded plaintext length (paper §5.4.6), capped at the MTU as Linux does. */
export function wg_padded_len(len: number, mtu: number): number {
	if (len === 0)
		return 0;
	let last = len;
	if (mtu > 0 && last > mtu)
		last %= mtu;
	let padded = (last + WG_PADDING_MULTIPLE - 1) & ~(WG_PADDING_MULTIPLE - 1);
	if (mtu > 0 && padded > mtu)
		padded = mtu;
	if (padded < last)
		padded = last;
	return len + (padded - last);
}

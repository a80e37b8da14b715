// SPDX-License-Identifier: BSD-2-Clause
/*
 * mac1, mac2 and cookie replies (paper §5.4.4, §5.4.7, §6.6).
 *
 * mac1 = MAC(HASH("mac1----" || Spub_receiver), msg up to mac1): proves
 * the sender knows the receiver's public key, checked before any DH.
 * mac2 = MAC(cookie, msg up to mac2), or zeros without a fresh cookie.
 * Under load the responder only handles handshake messages with a
 * valid mac2 and answers the others with a cookie reply:
 *   cookie = MAC(Rm, source address || source port)   (Rm: 120 s secret)
 *   reply  = XAEAD(HASH("cookie--" || Spub_responder), random nonce,
 *                  cookie, AD = mac1 of the triggering message).
 * The initiator stores the cookie and uses it on its next retry.
 */

import type { WgCrypto } from '../../crypto/crypto.js';
import { crypto_const_eq, crypto_wipe } from '../../crypto/crypto_util.js';
import {
	COOKIE_OFF_COOKIE, COOKIE_OFF_NONCE, COOKIE_OFF_RECEIVER, COOKIE_SECRET_LATENCY,
	COOKIE_SECRET_MAX_AGE, MSG_COOKIE, MSG_COOKIE_LEN, WG_COOKIE_LEN, WG_COOKIE_NONCE_LEN,
	WG_KEY_LEN, WG_MAC_LEN, le32_put,
} from './messages.js';

const enc = new TextEncoder();
const LABEL_MAC1 = enc.encode('mac1----');
const LABEL_COOKIE = enc.encode('cookie--');

/* What an address-and-port looks like to the cookie code. */
export interface WgCookieSource {
	family: 4 | 6;
	addr: Uint8Array;
	port: number;
}

export function wg_mac1_key(c: WgCrypto, pub: Uint8Array): Uint8Array {
	return c.hash(LABEL_MAC1, pub);
}

export function wg_cookie_key(c: WgCrypto, pub: Uint8Array): Uint8Array {
	return c.hash(LABEL_COOKIE, pub);
}

export const MAC_INVALID = 0;
export const MAC_VALID_NO_COOKIE = 1;
export const MAC_VALID_WITH_COOKIE = 2;
export type WgMacState = typeof MAC_INVALID | typeof MAC_VALID_NO_COOKIE | typeof MAC_VALID_WITH_COOKIE;

/* The responder side: one per device. */
export class WgCookieChecker {
	private mac1_key: Uint8Array | null = null;
	private cookie_key: Uint8Array | null = null;
	private readonly secret = new Uint8Array(WG_KEY_LEN);
	private secret_birth = -Infinity;
	/* address (4 or 16) || port (big-endian), as Linux feeds the MAC */
	private readonly src4 = new Uint8Array(6);
	private readonly src6 = new Uint8Array(18);
	/* The cookie of the source last in src4 or src6 (of last_family). */
	private readonly last_cookie = new Uint8Array(WG_COOKIE_LEN);
	private last_family = 4;
	private last_valid = false;

	constructor(private readonly c: WgCrypto) {}

	/* Our public key changed (or went away). */
	set_public_key(pub: Uint8Array | null): void {
		crypto_wipe(this.mac1_key, this.cookie_key);
		this.mac1_key = pub === null ? null : wg_mac1_key(this.c, pub);
		this.cookie_key = pub === null ? null : wg_cookie_key(this.c, pub);
	}

	wipe(): void {
		this.set_public_key(null);
		this.secret.fill(0);
		this.secret_birth = -Infinity;
		this.last_cookie.fill(0);
		this.last_valid = false;
	}

	/*
	 * The cookie for a source: MAC(Rm, addr || port), Rm renewed every
	 * 120 s.  The last source's cookie is kept: a flood comes in runs
	 * from one source.  Returns that buffer itself, valid until the next
	 * call (wiped with the secret).
	 */
	private make_cookie(src: WgCookieSource, now: number): Uint8Array {
		if (now >= this.secret_birth + COOKIE_SECRET_MAX_AGE * 1000) {
			const r = this.c.random_bytes(WG_KEY_LEN);
			this.secret.set(r);
			r.fill(0);
			this.secret_birth = now;
			this.last_valid = false;
		}
		const b = src.family === 4 ? this.src4 : this.src6;
		const alen = src.family === 4 ? 4 : 16;
		if (this.last_valid && this.last_family === src.family) {
			let d = (b[alen] ^ (src.port >>> 8)) | (b[alen + 1] ^ (src.port & 0xff));
			for (let i = 0; i < alen; i++)
				d |= b[i] ^ src.addr[i];
			if (d === 0)
				return this.last_cookie;
		}
		b.set(src.addr.subarray(0, alen), 0);
		b[alen] = (src.port >>> 8) & 0xff;
		b[alen + 1] = src.port & 0xff;
		const cookie = this.c.mac(this.secret, b);
		this.last_cookie.set(cookie);
		cookie.fill(0);
		this.last_family = src.family;
		this.last_valid = true;
		return this.last_cookie;
	}

	/*
	 * Check mac1, and mac2 when `check_cookie` (under load).  The macs
	 * sit at msg[off+mac1_off] and msg[off+mac1_off+16].
	 */
	validate(msg: Uint8Array, off: number, mac1_off: number, src: WgCookieSource,
	    check_cookie: boolean, now: number): WgMacState {
		if (!this.mac1_valid(msg, off, mac1_off))
			return MAC_INVALID;
		if (!check_cookie || !this.mac2_valid(msg, off, mac1_off, src, now))
			return MAC_VALID_NO_COOKIE;
		return MAC_VALID_WITH_COOKIE;
	}

	/* mac1 alone: the check every handshake message gets before it is queued. */
	mac1_valid(msg: Uint8Array, off: number, mac1_off: number): boolean {
		if (this.mac1_key === null)
			return false;
		const mac1 = this.c.mac(this.mac1_key, msg.subarray(off, off + mac1_off));
		return crypto_const_eq(mac1, msg.subarray(off + mac1_off, off + mac1_off + WG_MAC_LEN));
	}

	/* mac2 alone (mac1 already checked): does the message carry this source's cookie? */
	mac2_valid(msg: Uint8Array, off: number, mac1_off: number, src: WgCookieSource, now: number): boolean {
		const mac2_off = mac1_off + WG_MAC_LEN;
		const got = msg.subarray(off + mac2_off, off + mac2_off + WG_MAC_LEN);
		/* All zeros: sent without a cookie (no secret is compared here). */
		let any = 0;
		for (let i = 0; i < WG_MAC_LEN; i++)
			any |= got[i];
		if (any === 0)
			return false;
		const mac2 = this.c.mac(this.make_cookie(src, now), msg.subarray(off, off + mac2_off));
		return crypto_const_eq(mac2, got);
	}

	/*
	 * A cookie reply to the message at msg[off] whose sender index is
	 * `sender_index`, written to dst[0, 64).  False without a key.
	 */
	create_reply(dst: Uint8Array, msg: Uint8Array, off: number, mac1_off: number,
	    sender_index: number, src: WgCookieSource, now: number): boolean {
		if (this.cookie_key === null)
			return false;
		const cookie = this.make_cookie(src, now);
		const nonce = this.c.random_bytes(WG_COOKIE_NONCE_LEN);
		const ad = msg.subarray(off + mac1_off, off + mac1_off + WG_MAC_LEN);
		const ct = this.c.xaead_seal(this.cookie_key, nonce, cookie, ad);
		le32_put(dst, 0, MSG_COOKIE);
		le32_put(dst, COOKIE_OFF_RECEIVER, sender_index);
		dst.set(nonce, COOKIE_OFF_NONCE);
		dst.set(ct, COOKIE_OFF_COOKIE);
		return true;
	}
}

/* The initiator side: one per peer. */
export class WgCookieState {
	mac1_key: Uint8Array;
	cookie_key: Uint8Array;
	readonly cookie = new Uint8Array(WG_COOKIE_LEN);
	cookie_birth = -Infinity;
	cookie_valid = false;
	readonly last_mac1_sent = new Uint8Array(WG_MAC_LEN);
	have_sent_mac1 = false;

	constructor(private readonly c: WgCrypto, peer_pub: Uint8Array) {
		this.mac1_key = wg_mac1_key(c, peer_pub);
		this.cookie_key = wg_cookie_key(c, peer_pub);
	}

	wipe(): void {
		crypto_wipe(this.mac1_key, this.cookie_key, this.cookie, this.last_mac1_sent);
		this.cookie_valid = false;
		this.have_sent_mac1 = false;
	}

	/* A cookie usable for mac2 now (see add_macs). */
	fresh(now: number): boolean {
		return this.cookie_valid &&
		    now < this.cookie_birth + (COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY) * 1000;
	}

	/*
	 * Fill in mac1 and mac2 of the handshake message at msg[off].  A
	 * cookie is used for 120 - 5 s after it arrived: the responder may
	 * already have rotated its secret by then (Linux COOKIE_SECRET_LATENCY).
	 */
	add_macs(msg: Uint8Array, off: number, mac1_off: number, now: number): void {
		const mac1 = this.c.mac(this.mac1_key, msg.subarray(off, off + mac1_off));
		msg.set(mac1, off + mac1_off);
		this.last_mac1_sent.set(mac1);
		this.have_sent_mac1 = true;
		const mac2_off = mac1_off + WG_MAC_LEN;
		if (this.fresh(now)) {
			const mac2 = this.c.mac(this.cookie, msg.subarray(off, off + mac2_off));
			msg.set(mac2, off + mac2_off);
		} else {
			msg.fill(0, off + mac2_off, off + mac2_off + WG_MAC_LEN);
		}
	}

	/* A cookie reply for us: decrypt with our last mac1 as AD and keep it. */
	consume_reply(msg: Uint8Array, off: number, now: number): boolean {
		if (!this.have_sent_mac1)
			return false;
		const nonce = msg.subarray(off + COOKIE_OFF_NONCE, off + COOKIE_OFF_COOKIE);
		const ct = msg.subarray(off + COOKIE_OFF_COOKIE, off + MSG_COOKIE_LEN);
		const cookie = this.c.xaead_open(this.cookie_key, nonce, ct, this.last_mac1_sent);
		if (cookie === null)
			return false;
		this.cookie.set(cookie);
		cookie.fill(0);
		this.cookie_birth = now;
		this.cookie_valid = true;
		this.have_sent_mac1 = false;
		return true;
	}
}

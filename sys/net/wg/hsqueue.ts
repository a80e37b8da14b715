// SPDX-License-Identifier: BSD-2-Clause
/*
 * The queue of handshake messages waiting for their Diffie-Hellman
 * work, and the "under load" state derived from it (paper §6.6; the
 * rule of Linux's handshake queue).
 *
 * Two of these per device.  wg_input() only copies a handshake message
 * into the first (so a driver can drain its socket far faster than a
 * flood can be checked, and transport data never waits behind
 * handshakes); WgDevice.handshake_work() later checks the MACs of a
 * bounded number (receive.ts wg_handshake_enqueue) and queues those that
 * pass in the second, then does the DH work of a few.  A flood of valid
 * mac1 shows up in the second as a backlog:
 *
 *   under load  while at least 1/8 of the queue is in use, and for a
 *               second after that was last seen.
 *
 * A trickle of garbage with a wrong mac1 never reaches it, and a
 * busy server whose handshakes are handled as they come never builds a
 * backlog, so neither sits in cookie mode.
 *
 * A full queue drops what comes, and no source may fill it: the
 * sources (IPv4 addresses, IPv6 /64s) are hashed, with a secret seed,
 * into WG_HSQUEUE_SLOTS classes, and a class holds at most
 * WG_HSQUEUE_SHARE messages.  A flood from a few addresses then leaves
 * room for everyone else's messages, whose MACs are not known yet.
 *
 * Under load, a class also brings at most WG_HSQUEUE_CLASS_RATE
 * messages a second into the queue of unchecked messages (admit()):
 * one address can then cost at most that many MAC checks a second,
 * and a flood from a few addresses leaves the CPU to data.  A peer
 * sends one initiation per REKEY_TIMEOUT, far below it.
 */

import { MSG_INITIATION_LEN } from './messages.js';
import type { WgEndpoint } from './peer.js';

/* Linux MAX_QUEUED_INCOMING_HANDSHAKES. */
export const WG_HSQUEUE_LEN = 4096;
export const WG_UNDERLOAD_QUEUE_LEN = WG_HSQUEUE_LEN / 8;
export const WG_UNDERLOAD_HOLD_MS = 1000;
export const WG_HSQUEUE_SLOTS = 4096;
export const WG_HSQUEUE_SHARE = WG_HSQUEUE_LEN / 8;
export const WG_HSQUEUE_CLASS_RATE = 1000;
export const WG_HSQUEUE_CLASS_BURST = 64;

export interface WgQueuedHandshake {
	readonly buf: Uint8Array;	/* the message, buf[0, len) */
	len: number;
	readonly src: WgEndpoint;	/* addr is addr4 or addr6; its sticky source in local (16 bytes) */
	readonly addr4: Uint8Array;
	readonly addr6: Uint8Array;
	readonly local: Uint8Array;
	mac2_ok: boolean;		/* passed the under-load gate: mac2 carried our cookie */
	class: number;			/* of the source, see above */
}

export class WgHandshakeQueue {
	/* A ring; slots are allocated the first time they are used, then reused. */
	private readonly slots: (WgQueuedHandshake | undefined)[] = new Array<WgQueuedHandshake | undefined>(WG_HSQUEUE_LEN);
	private head = 0;
	private n = 0;
	private last_under_load = -Infinity;
	private readonly per_class = new Uint16Array(WG_HSQUEUE_SLOTS);
	/* admit(): each class's credit in messages, as of credit_at (ms). */
	private readonly credit = new Float64Array(WG_HSQUEUE_SLOTS).fill(WG_HSQUEUE_CLASS_BURST);
	private readonly credit_at = new Float64Array(WG_HSQUEUE_SLOTS);

	/* seed: random, so that no one can pick addresses that share a class with a victim's. */
	constructor(private readonly seed: number) {}

	get length(): number {
		return this.n;
	}

	under_load(now: number): boolean {
		if (this.n >= WG_UNDERLOAD_QUEUE_LEN) {
			this.last_under_load = now;
			return true;
		}
		return now < this.last_under_load + WG_UNDERLOAD_HOLD_MS;
	}

	/* The class of a source: its IPv4 address or IPv6 /64, hashed with the seed. */
	private class_of(src: WgEndpoint): number {
		const a = src.addr;
		let x = ((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) ^ this.seed;
		if (src.family === 6)
			x = Math.imul(x, 0x85ebca6b) ^ ((a[4] << 24) | (a[5] << 16) | (a[6] << 8) | a[7]);
		x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
		x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
		return (x ^ (x >>> 16)) & (WG_HSQUEUE_SLOTS - 1);
	}

	/* Under load: may a message from src come in now (its class's rate)?  Takes one credit. */
	admit(src: WgEndpoint, now: number): boolean {
		const c = this.class_of(src);
		const credit = Math.min(WG_HSQUEUE_CLASS_BURST,
		    this.credit[c] + Math.max(0, now - this.credit_at[c]) * (WG_HSQUEUE_CLASS_RATE / 1000));
		this.credit_at[c] = now;
		if (credit < 1) {
			this.credit[c] = credit;
			return false;
		}
		this.credit[c] = credit - 1;
		return true;
	}

	/* Copy a message in; false when the queue, or its source's share of it, is full. */
	enqueue(buf: Uint8Array, off: number, len: number, src: WgEndpoint, mac2_ok: boolean): boolean {
		if (this.n === WG_HSQUEUE_LEN || len > MSG_INITIATION_LEN)
			return false;
		const c = this.class_of(src);
		if (this.per_class[c] >= WG_HSQUEUE_SHARE)
			return false;
		this.per_class[c]++;
		const i = (this.head + this.n) % WG_HSQUEUE_LEN;
		let s = this.slots[i];
		if (s === undefined) {
			const addr4 = new Uint8Array(4);
			const local = new Uint8Array(16);
			s = {
				buf: new Uint8Array(MSG_INITIATION_LEN), len: 0,
				src: { family: 4, addr: addr4, port: 0, scope_id: 0, src: local, src_ifindex: 0 },
				addr4, addr6: new Uint8Array(16), local, mac2_ok: false, class: 0,
			};
			this.slots[i] = s;
		}
		s.buf.set(buf.subarray(off, off + len));
		s.len = len;
		s.mac2_ok = mac2_ok;
		s.class = c;
		const a = src.family === 4 ? s.addr4 : s.addr6;
		a.set(src.addr.subarray(0, a.length));
		s.src.family = src.family;
		s.src.addr = a;
		s.src.port = src.port;
		s.src.scope_id = src.scope_id ?? 0;
		s.src.src_ifindex = src.src_ifindex ?? 0;
		if (src.src !== undefined && s.src.src_ifindex !== 0)
			s.local.set(src.src);
		this.n++;
		return true;
	}

	/* The oldest message, valid until the next enqueue(); undefined when empty. */
	dequeue(): WgQueuedHandshake | undefined {
		if (this.n === 0)
			return undefined;
		const s = this.slots[this.head];
		this.head = (this.head + 1) % WG_HSQUEUE_LEN;
		this.n--;
		if (s !== undefined)
			this.per_class[s.class]--;
		return s;
	}

	/* Forget every queued message (down, destroy). */
	clear(): void {
		for (let k = 0; k < this.n; k++)
			this.slots[(this.head + k) % WG_HSQUEUE_LEN]?.buf.fill(0);
		this.head = 0;
		this.n = 0;
		this.per_class.fill(0);
	}
}

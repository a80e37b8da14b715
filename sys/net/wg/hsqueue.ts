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
 * backlog, so neither sits in cookie mode.  A full queue drops.
 */

import { MSG_INITIATION_LEN } from './messages.js';
import type { WgEndpoint } from './peer.js';

/* Linux MAX_QUEUED_INCOMING_HANDSHAKES. */
export const WG_HSQUEUE_LEN = 4096;
export const WG_UNDERLOAD_QUEUE_LEN = WG_HSQUEUE_LEN / 8;
export const WG_UNDERLOAD_HOLD_MS = 1000;

export interface WgQueuedHandshake {
	readonly buf: Uint8Array;	/* the message, buf[0, len) */
	len: number;
	readonly src: WgEndpoint;	/* addr is addr4 or addr6 */
	readonly addr4: Uint8Array;
	readonly addr6: Uint8Array;
}

export class WgHandshakeQueue {
	/* A ring; slots are allocated the first time they are used, then reused. */
	private readonly slots: (WgQueuedHandshake | undefined)[] = new Array<WgQueuedHandshake | undefined>(WG_HSQUEUE_LEN);
	private head = 0;
	private n = 0;
	private last_under_load = -Infinity;

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

	/* Copy a message in; false when the queue is full. */
	enqueue(buf: Uint8Array, off: number, len: number, src: WgEndpoint): boolean {
		if (this.n === WG_HSQUEUE_LEN || len > MSG_INITIATION_LEN)
			return false;
		const i = (this.head + this.n) % WG_HSQUEUE_LEN;
		let s = this.slots[i];
		if (s === undefined) {
			const addr4 = new Uint8Array(4);
			s = {
				buf: new Uint8Array(MSG_INITIATION_LEN), len: 0,
				src: { family: 4, addr: addr4, port: 0, scope_id: 0 }, addr4, addr6: new Uint8Array(16),
			};
			this.slots[i] = s;
		}
		s.buf.set(buf.subarray(off, off + len));
		s.len = len;
		const a = src.family === 4 ? s.addr4 : s.addr6;
		a.set(src.addr.subarray(0, a.length));
		s.src.family = src.family;
		s.src.addr = a;
		s.src.port = src.port;
		s.src.scope_id = src.scope_id ?? 0;
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
		return s;
	}

	/* Forget every queued message (down, destroy). */
	clear(): void {
		for (let k = 0; k < this.n; k++)
			this.slots[(this.head + k) % WG_HSQUEUE_LEN]?.buf.fill(0);
		this.head = 0;
		this.n = 0;
	}
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * The receive-side mirror of in_offload.ts: TCP segments of one flow,
 * decrypted in one batch, are joined into one super-packet before they
 * go up to the host, as Linux GRO does (tcp_gro_receive), so the host
 * stack handles one packet where there were dozens.
 *
 * A segment joins the latest train of its flow when:
 *  - its IP and TCP headers match the train's head in every field that
 *    is not per-segment (addresses, ports, TOS/TTL or traffic class/hop
 *    limit, ack number, window, options; flags apart from PSH);
 *  - its sequence number follows the train's last byte;
 *  - it carries data, no more than the head's, and only ACK and PSH;
 *  - the train is still open: a shorter segment, a PSH, or any segment
 *    of the flow that cannot join closes it (so nothing overtakes it);
 *  - the result stays within 65535 bytes.
 *
 * Packets are copied into slots of one arena, each slot with `room`
 * bytes before it for the driver's header (virtio_net_hdr).  flush()
 * hands out every slot in arrival order: a train of two or more with a
 * gso_info (TCPV4/6, the head's payload size, NEEDS_CSUM with the
 * pseudo-header sum in the checksum field, as the offload contract
 * wants); anything else as it came, GSO_NONE.  The segments' own
 * checksums are not verified: the data was authenticated by the AEAD
 * (Linux's wg marks such packets CHECKSUM_UNNECESSARY for the same
 * reason).  Nothing is allocated per packet.
 */

import { in4_cksum_hdr, in_cksum_fold, in_pseudo_sum } from './in_cksum.js';
import { GSO_NONE, GSO_TCPV4, GSO_TCPV6, gso_info } from './in_offload.js';

const IPPROTO_TCP = 6;
const TH_ACK = 0x10;
const TH_PSH = 0x08;
const IP_MAXPACKET = 65535;

/* Receives each packet to write: b[off, off+len), with g.type GSO_NONE or a train. */
export type coalesce_emit = (b: Uint8Array, off: number, len: number, g: gso_info) => void;

export class tcp_coalescer {
	readonly nslots: number;
	readonly slot_size: number;
	readonly room: number;
	readonly arena: Uint8Array;
	/* Per slot. */
	private readonly len: Uint32Array;	/* bytes in the slot */
	private readonly hl: Uint16Array;	/* IP + TCP header length; 0: not TCP */
	private readonly iphl: Uint8Array;
	private readonly gso: Uint16Array;	/* head's payload size */
	private readonly nseg: Uint16Array;
	private readonly next_seq: Uint32Array;
	private readonly hash: Int32Array;
	private readonly open: Uint8Array;	/* 1: the train takes more segments */
	private n = 0;
	private readonly info = new gso_info();

	/* Slots of room + 64 KB: any single packet fits, and so does any train. */
	constructor(nslots: number, room: number) {
		this.nslots = nslots;
		this.room = room;
		this.slot_size = (room + IP_MAXPACKET + 15) & ~15;
		this.arena = new Uint8Array(new ArrayBuffer(nslots * this.slot_size));
		this.len = new Uint32Array(nslots);
		this.hl = new Uint16Array(nslots);
		this.iphl = new Uint8Array(nslots);
		this.gso = new Uint16Array(nslots);
		this.nseg = new Uint16Array(nslots);
		this.next_seq = new Uint32Array(nslots);
		this.hash = new Int32Array(nslots);
		this.open = new Uint8Array(nslots);
	}

	/* Packets (or trains) held. */
	get count(): number {
		return this.n;
	}

	/* Slots in use, to be written by flush(); the caller flushes first when full. */
	get full(): boolean {
		return this.n === this.nslots;
	}

	/*
	 * Takes the IP packet b[off, off+len) (its length already checked
	 * against the IP header by the caller), joining it to a train if it
	 * can.  The caller flushes when full() is true before calling.
	 */
	add(b: Uint8Array, off: number, len: number): void {
		const v = b[off] >> 4;
		let iphl = 0;
		if (v === 4 && len >= 20 && b[off + 9] === IPPROTO_TCP)
			iphl = (b[off] & 0x0f) << 2;
		else if (v === 6 && len >= 40 && b[off + 6] === IPPROTO_TCP)
			iphl = 40;
		if (iphl === 0 || iphl + 20 > len) {
			this.put(b, off, len, 0, 0, 0);
			return;
		}
		const th = off + iphl;
		const thl = (b[th + 12] >> 4) << 2;
		const hl = iphl + thl;
		if (thl < 20 || hl > len) {
			this.put(b, off, len, 0, 0, 0);
			return;
		}
		const h = flow_hash(b, off, v, th);
		const payload = len - hl;
		const flags = b[th + 13];
		const seq = ((b[th + 4] << 24) | (b[th + 5] << 16) | (b[th + 6] << 8) | b[th + 7]) >>> 0;
		/* Segments that may be a train's head or member: plain data, unfragmented IPv4 without options. */
		const joinable = payload > 0 && (flags & ~TH_PSH) === TH_ACK &&
		    (v === 6 || (iphl === 20 && ((b[off + 6] & 0x3f) | b[off + 7]) === 0));
		const t = this.latest(b, off, h, v, iphl, th);
		if (t >= 0) {
			if (joinable && this.open[t] === 1 && this.can_join(t, b, off, hl, th, payload, seq)) {
				this.join(t, b, off, len, hl, payload, flags);
				return;
			}
			this.open[t] = 0;
		}
		this.put(b, off, len, joinable ? hl : 0, iphl, h);
		if (joinable) {
			const i = this.n - 1;
			this.gso[i] = payload;
			this.next_seq[i] = (seq + payload) >>> 0;
			this.open[i] = (flags & TH_PSH) === 0 ? 1 : 0;
		}
	}

	/* Hands every slot to emit, in order, and empties the coalescer. */
	flush(emit: coalesce_emit): void {
		const a = this.arena;
		const g = this.info;
		for (let i = 0; i < this.n; i++) {
			const p = i * this.slot_size + this.room;
			const len = this.len[i];
			if (this.nseg[i] < 2) {
				g.type = GSO_NONE;
				g.size = 0;
				g.hdr_len = 0;
				g.needs_csum = false;
				g.csum_start = 0;
				g.csum_offset = 0;
				emit(a, p, len, g);
				continue;
			}
			const iphl = this.iphl[i];
			const v4 = (a[p] >> 4) === 4;
			if (v4) {
				a[p + 2] = len >>> 8;
				a[p + 3] = len & 0xff;
				in4_cksum_hdr(a, p);
			} else {
				a[p + 4] = (len - 40) >>> 8;
				a[p + 5] = (len - 40) & 0xff;
			}
			/* NEEDS_CSUM: the field holds the pseudo-header sum, the host completes it. */
			const c = in_cksum_fold(in_pseudo_sum(a, p, IPPROTO_TCP, len - iphl));
			a[p + iphl + 16] = c >>> 8;
			a[p + iphl + 17] = c & 0xff;
			g.type = v4 ? GSO_TCPV4 : GSO_TCPV6;
			g.size = this.gso[i];
			g.hdr_len = this.hl[i];
			g.needs_csum = true;
			g.csum_start = iphl;
			g.csum_offset = 16;
			emit(a, p, len, g);
		}
		this.n = 0;
	}

	/* Copies a packet into the next slot as a train of one. */
	private put(b: Uint8Array, off: number, len: number, hl: number, iphl: number, h: number): void {
		const i = this.n++;
		this.arena.set(b.subarray(off, off + len), i * this.slot_size + this.room);
		this.len[i] = len;
		this.hl[i] = hl;
		this.iphl[i] = iphl;
		this.nseg[i] = 1;
		this.hash[i] = h;
		this.open[i] = 0;
		this.gso[i] = 0;
	}

	/* The newest slot of the same TCP flow (addresses and ports), or -1. */
	private latest(b: Uint8Array, off: number, h: number, v: number, iphl: number, th: number): number {
		const a = this.arena;
		for (let i = this.n - 1; i >= 0; i--) {
			if (this.hash[i] !== h || this.iphl[i] === 0)
				continue;
			const p = i * this.slot_size + this.room;
			if ((a[p] >> 4) !== v || this.iphl[i] !== iphl)
				continue;
			const q = p + iphl;
			if (!same(a, p + (v === 4 ? 12 : 8), b, off + (v === 4 ? 12 : 8), v === 4 ? 8 : 32) ||
			    !same(a, q, b, th, 4))
				continue;
			return i;
		}
		return -1;
	}

	private can_join(t: number, b: Uint8Array, off: number, hl: number, th: number, payload: number, seq: number): boolean {
		if (this.hl[t] !== hl || seq !== this.next_seq[t] || payload > this.gso[t] ||
		    this.len[t] + payload > IP_MAXPACKET)
			return false;
		const a = this.arena;
		const p = t * this.slot_size + this.room;
		const iphl = this.iphl[t];
		const q = p + iphl;
		if ((a[p] >> 4) === 4) {
			/* TOS; flags/fragment, TTL, protocol (addresses matched already). */
			if (a[p + 1] !== b[off + 1] || !same(a, p + 6, b, off + 6, 4))
				return false;
		} else if (!same(a, p, b, off, 4) || a[p + 7] !== b[off + 7]) {
			/* version, traffic class, flow label; hop limit */
			return false;
		}
		/* ack, data offset, flags but PSH, window, urgent pointer, options. */
		return same(a, q + 8, b, th + 8, 5) && (a[q + 13] & ~TH_PSH) === (b[th + 13] & ~TH_PSH) &&
		    same(a, q + 14, b, th + 14, 2) && same(a, q + 18, b, th + 18, hl - iphl - 18);
	}

	private join(t: number, b: Uint8Array, off: number, len: number, hl: number, payload: number, flags: number): void {
		const a = this.arena;
		const p = t * this.slot_size + this.room;
		a.set(b.subarray(off + hl, off + len), p + this.len[t]);
		this.len[t] += payload;
		this.nseg[t]++;
		this.next_seq[t] = (this.next_seq[t] + payload) >>> 0;
		if ((flags & TH_PSH) !== 0) {
			a[p + this.iphl[t] + 13] |= TH_PSH;
			this.open[t] = 0;
		} else if (payload < this.gso[t]) {
			this.open[t] = 0;
		}
	}
}

function same(a: Uint8Array, i: number, b: Uint8Array, j: number, n: number): boolean {
	for (let k = 0; k < n; k++)
		if (a[i + k] !== b[j + k])
			return false;
	return true;
}

/* A cheap hash of addresses and ports, to skip other flows' slots fast. */
function flow_hash(b: Uint8Array, off: number, v: number, th: number): number {
	let h = (b[th] << 24) | (b[th + 1] << 16) | (b[th + 2] << 8) | b[th + 3];
	const s = off + (v === 4 ? 12 : 8);
	const e = s + (v === 4 ? 8 : 32);
	for (let i = s; i < e; i += 4)
		h = Math.imul(h ^ ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]), 0x9e3779b1);
	return h | 0;
}

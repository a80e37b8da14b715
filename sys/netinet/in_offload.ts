// SPDX-License-Identifier: BSD-2-Clause
/*
 * Segmentation of the super-packets a host hands to an interface that
 * claims TSO/USO (NetBSD's tcp4_segment/tcp6_segment in in_offload.c,
 * for both families and for UDP): one TCP or UDP packet of up to 64 KB
 * becomes MTU-sized packets, each a valid packet on its own:
 *
 *  - IPv4 total length, ID (+ i) and header checksum; IPv6 payload length;
 *  - TCP sequence number (+ i * size); FIN and PSH on the last segment
 *    only, CWR on the first only; UDP length;
 *  - the TCP/UDP checksum computed in full (pseudo-header included).
 *
 * The description of the super-packet (gso_info) comes from the driver
 * (on Linux, from struct virtio_net_hdr).  Its header length is not
 * trusted: the kernel may give the length of the whole linear part, so
 * the transport header length is read from the packet.  A description
 * that does not fit the packet is refused with an error code, never
 * thrown: the caller drops the packet and counts the reason.
 */

import { in4_cksum_hdr, in_cksum, in_pseudo_sum } from './in_cksum.js';

export const GSO_NONE = 0;
export const GSO_TCPV4 = 1;
export const GSO_TCPV6 = 2;
export const GSO_UDP_L4 = 3;

/* Why a super-packet was refused (negative returns of in_gso_segment). */
export const EGSO_TYPE = -1;	/* unknown gso type, or not the packet's family/protocol */
export const EGSO_SIZE = -2;	/* gso size 0 */
export const EGSO_HDRLEN = -3;	/* headers past the end of the packet */
export const EGSO_CSUM = -4;	/* csum_start/csum_offset outside the packet or not the L4 header */
export const EGSO_IP = -5;	/* malformed IP header */

export type gso_error_name = 'gso_bad_type' | 'gso_bad_size' | 'gso_bad_hdr_len' | 'gso_bad_csum' | 'gso_bad_ip';
export const gso_error_names: Readonly<Record<number, gso_error_name>> = {
	[EGSO_TYPE]: 'gso_bad_type', [EGSO_SIZE]: 'gso_bad_size', [EGSO_HDRLEN]: 'gso_bad_hdr_len',
	[EGSO_CSUM]: 'gso_bad_csum', [EGSO_IP]: 'gso_bad_ip',
};

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const TH_FIN = 0x01;
const TH_PSH = 0x08;
const TH_CWR = 0x80;

/* One super-packet's description; the caller fills a preallocated one per packet. */
export class gso_info {
	type = GSO_NONE;
	size = 0;		/* payload bytes per segment */
	hdr_len = 0;		/* as given; only checked against the packet length */
	needs_csum = false;	/* the L4 checksum is to be completed */
	csum_start = 0;		/* from the IP header */
	csum_offset = 0;	/* from csum_start */
}

/* Receives each segment: b[off, off+len) is valid only during the call and must not be modified. */
export type gso_emit = (b: Uint8Array, off: number, len: number) => void;

/*
 * Completes the checksum of a packet whose L4 checksum field holds the
 * pseudo-header sum (NEEDS_CSUM without segmentation).  false if the
 * offsets do not fit the packet.
 */
export function in_csum_complete(b: Uint8Array, p: number, len: number, start: number, offset: number): boolean {
	if (start < 20 || start + offset + 2 > len || (offset !== 16 && offset !== 6))
		return false;
	let c = in_cksum(b, p + start, len - start);
	if (c === 0 && offset === 6)
		c = 0xffff;	/* UDP: 0 means "no checksum" */
	b[p + start + offset] = c >>> 8;
	b[p + start + offset + 1] = c & 0xff;
	return true;
}

/*
 * Splits the packet b[p, p+len) described by g and hands each segment
 * to emit, built in seg (at least 65535 bytes).  Returns the number of
 * segments, or an EGSO_* code (nothing emitted).  A packet no longer
 * than one segment is emitted once, with its checksum completed.
 */
export function in_gso_segment(b: Uint8Array, p: number, len: number, g: gso_info, seg: Uint8Array,
    emit: gso_emit): number {
	const tcp = g.type === GSO_TCPV4 || g.type === GSO_TCPV6;
	if (!tcp && g.type !== GSO_UDP_L4)
		return EGSO_TYPE;
	if (g.size === 0)
		return EGSO_SIZE;
	if (g.hdr_len > len)
		return EGSO_HDRLEN;
	if (len < 20)
		return EGSO_IP;
	const v = b[p] >> 4;
	const proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
	/* Without NEEDS_CSUM the offsets are unset (0): the L4 header follows the IP header. */
	const cs = g.needs_csum ? g.csum_start : v === 4 ? (b[p] & 0x0f) << 2 : 40;
	const csum_offset = g.needs_csum ? g.csum_offset : tcp ? 16 : 6;
	if (v === 4) {
		if (g.type === GSO_TCPV6)
			return EGSO_TYPE;
		if (b[p + 9] !== proto)
			return EGSO_TYPE;
		const ihl = (b[p] & 0x0f) << 2;
		if (ihl < 20 || ihl > len || ((b[p + 2] << 8) | b[p + 3]) !== len)
			return EGSO_IP;
		if (cs !== ihl)
			return EGSO_CSUM;
	} else if (v === 6) {
		if (g.type === GSO_TCPV4)
			return EGSO_TYPE;
		if (len < 40 || ((b[p + 4] << 8) | b[p + 5]) + 40 !== len)
			return EGSO_IP;
		/* Extension headers are not segmented here: the L4 header must follow the fixed one. */
		if (cs !== 40 || b[p + 6] !== proto)
			return EGSO_CSUM;
	} else {
		return EGSO_IP;
	}
	if (csum_offset !== (tcp ? 16 : 6))
		return EGSO_CSUM;
	const l4min = tcp ? 20 : 8;
	if (cs + l4min > len)
		return EGSO_CSUM;
	const thl = tcp ? (b[p + cs + 12] >> 4) << 2 : 8;
	if (thl < l4min)
		return EGSO_HDRLEN;
	const hl = cs + thl;
	if (hl > len)
		return EGSO_HDRLEN;
	const payload = len - hl;
	const size = g.size;
	const nseg = payload <= size ? 1 : Math.ceil(payload / size);

	seg.set(b.subarray(p, p + hl), 0);
	const seq0 = tcp ? ((b[p + cs + 4] << 24) | (b[p + cs + 5] << 16) | (b[p + cs + 6] << 8) | b[p + cs + 7]) >>> 0 : 0;
	const flags0 = tcp ? b[p + cs + 13] : 0;
	const id0 = v === 4 ? (b[p + 4] << 8) | b[p + 5] : 0;
	for (let i = 0; i < nseg; i++) {
		const from = hl + i * size;
		const chunk = i === nseg - 1 ? len - from : size;
		const n = hl + chunk;
		seg.set(b.subarray(p + from, p + from + chunk), hl);
		if (v === 4) {
			seg[2] = n >>> 8;
			seg[3] = n & 0xff;
			const id = (id0 + i) & 0xffff;
			seg[4] = id >>> 8;
			seg[5] = id & 0xff;
			in4_cksum_hdr(seg, 0);
		} else {
			seg[4] = (n - 40) >>> 8;
			seg[5] = (n - 40) & 0xff;
		}
		const l4len = n - cs;
		let c: number;
		if (tcp) {
			const seq = (seq0 + i * size) >>> 0;
			seg[cs + 4] = seq >>> 24;
			seg[cs + 5] = (seq >>> 16) & 0xff;
			seg[cs + 6] = (seq >>> 8) & 0xff;
			seg[cs + 7] = seq & 0xff;
			let f = flags0;
			if (i > 0)
				f &= ~TH_CWR;
			if (i < nseg - 1)
				f &= ~(TH_FIN | TH_PSH);
			seg[cs + 13] = f;
			seg[cs + 16] = 0;
			seg[cs + 17] = 0;
			c = in_cksum(seg, cs, l4len, in_pseudo_sum(seg, 0, IPPROTO_TCP, l4len));
		} else {
			seg[cs + 4] = l4len >>> 8;
			seg[cs + 5] = l4len & 0xff;
			seg[cs + 6] = 0;
			seg[cs + 7] = 0;
			c = in_cksum(seg, cs, l4len, in_pseudo_sum(seg, 0, IPPROTO_UDP, l4len));
			if (c === 0)
				c = 0xffff;
		}
		seg[cs + csum_offset] = c >>> 8;
		seg[cs + csum_offset + 1] = c & 0xff;
		emit(seg, 0, n);
	}
	return nseg;
}

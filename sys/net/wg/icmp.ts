// SPDX-License-Identifier: BSD-2-Clause
/*
 * ICMP errors for packets routed into the interface that no peer
 * takes: no peer's allowed IPs cover the destination, or that peer has
 * no endpoint.  Linux wg_xmit answers these with an ICMP host
 * unreachable (RFC 792 type 3 code 1) or an ICMPv6 address unreachable
 * (RFC 4443 type 1 code 3), so that a local sender fails at once
 * instead of timing out; we do the same.
 *
 * The error is written back into the tun, i.e. it arrives on the
 * interface as if from the network.  Its source is therefore the
 * original destination: the host's own address would be dropped on
 * arrival as a martian source, while the destination is routed into
 * this interface and passes reverse-path filtering.
 *
 * Rate limited per device like Linux's global ICMP limit
 * (net.ipv4.icmp_msgs_per_sec 1000, icmp_msgs_burst 50; its per-host
 * limit does not apply to errors for local senders).
 */

import type { WgSoftc } from './softc.js';

export const ICMP_UNREACH = 3;
export const ICMP_UNREACH_HOST = 1;
export const ICMP6_DST_UNREACH = 1;
export const ICMP6_DST_UNREACH_ADDR = 3;
export const ICMP_ERRORS_PER_SECOND = 1000;
export const ICMP_ERRORS_BURSTABLE = 50;

const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;
const ICMP_HDR_LEN = 8;
const IP_HDR_LEN = 20;
const IP6_HDR_LEN = 40;
/* An ICMPv4 error is at most 576 bytes in all (RFC 1812 §4.3.2.3). */
const ICMP_ERROR_MAX = 576;
/* An ICMPv6 error is at most the IPv6 minimum MTU (RFC 4443 §2.4 (c)). */
export const IPV6_MMTU = 1280;
const ICMP_TTL = 64;
/* Linux sends ICMP errors with IPTOS_PREC_INTERNETCONTROL. */
const ICMP_TOS = 0xc0;

/* RFC 1071 ones' complement sum of b[off, off+len), folded, not inverted. */
function in_cksum_add(b: Uint8Array, off: number, len: number, sum: number): number {
	const end = off + len;
	for (; off + 1 < end; off += 2)
		sum += (b[off] << 8) | b[off + 1];
	if (off < end)
		sum += b[off] << 8;
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >>> 16);
	return sum;
}

function put16(b: Uint8Array, off: number, v: number): void {
	b[off] = v >>> 8;
	b[off + 1] = v & 0xff;
}

/* ICMP types that are errors (RFC 1122 §3.2.2: never answer an error with an error). */
function icmp_is_error(type: number): boolean {
	return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/*
 * Build the IPv4 error into out; returns its length, or 0 when RFC 1122
 * §3.2.2 forbids an answer: to an ICMP error, a non-first fragment, a
 * multicast or broadcast destination, or a source that names no single
 * host.
 */
export function icmp4_unreach(out: Uint8Array, pkt: Uint8Array, off: number, len: number): number {
	const ihl = (pkt[off] & 0x0f) * 4;
	if (ihl < IP_HDR_LEN || ihl > len)
		return 0;
	const src0 = pkt[off + 12];
	const dst0 = pkt[off + 16];
	if (src0 === 0 || src0 >= 224 || dst0 >= 224 || src0 === 127)
		return 0;
	if ((((pkt[off + 6] << 8) | pkt[off + 7]) & 0x1fff) !== 0)
		return 0;
	if (pkt[off + 9] === IPPROTO_ICMP && (len <= ihl || icmp_is_error(pkt[off + ihl])))
		return 0;
	const tot = (pkt[off + 2] << 8) | pkt[off + 3];
	const quote = Math.min(len, tot >= ihl ? tot : len, ICMP_ERROR_MAX - IP_HDR_LEN - ICMP_HDR_LEN);
	const n = IP_HDR_LEN + ICMP_HDR_LEN + quote;
	out.fill(0, 0, IP_HDR_LEN + ICMP_HDR_LEN);
	out[0] = 0x45;
	out[1] = ICMP_TOS;
	put16(out, 2, n);
	out[8] = ICMP_TTL;
	out[9] = IPPROTO_ICMP;
	out.set(pkt.subarray(off + 16, off + 20), 12);
	out.set(pkt.subarray(off + 12, off + 16), 16);
	put16(out, 10, ~in_cksum_add(out, 0, IP_HDR_LEN, 0) & 0xffff);
	out[IP_HDR_LEN] = ICMP_UNREACH;
	out[IP_HDR_LEN + 1] = ICMP_UNREACH_HOST;
	out.set(pkt.subarray(off, off + quote), IP_HDR_LEN + ICMP_HDR_LEN);
	put16(out, IP_HDR_LEN + 2, ~in_cksum_add(out, IP_HDR_LEN, ICMP_HDR_LEN + quote, 0) & 0xffff);
	return n;
}

/*
 * Is the IPv6 packet itself an ICMPv6 error (or unreadable as to
 * that)?  Walks the extension headers (RFC 8200 §4) as far as the
 * packet allows; a non-first fragment carries no upper header and is
 * answered (RFC 8200 §4.5).
 */
function icmp6_ineligible(pkt: Uint8Array, off: number, len: number): boolean {
	let nh = pkt[off + 6];
	let p = IP6_HDR_LEN;
	for (;;) {
		if (nh === IPPROTO_ICMPV6)
			return p >= len || pkt[off + p] < 128;
		if (nh !== 0 && nh !== 43 && nh !== 44 && nh !== 51 && nh !== 60)
			return false;
		if (p + 8 > len)
			return false;
		if (nh === 44) {
			if ((((pkt[off + p + 2] << 8) | pkt[off + p + 3]) & 0xfff8) !== 0)
				return false;
			nh = pkt[off + p];
			p += 8;
			continue;
		}
		const hlen = nh === 51 ? (pkt[off + p + 1] + 2) * 4 : (pkt[off + p + 1] + 1) * 8;
		nh = pkt[off + p];
		p += hlen;
	}
}

function ip6_is_unspecified(pkt: Uint8Array, a: number): boolean {
	for (let i = 0; i < 16; i++)
		if (pkt[a + i] !== 0)
			return false;
	return true;
}

/*
 * Build the IPv6 error into out (at least IPV6_MMTU bytes); returns its
 * length, or 0 when RFC 4443 §2.4 (e) forbids an answer: to an ICMPv6
 * error, to a multicast destination, or from an unspecified or
 * multicast source.
 */
export function icmp6_unreach(out: Uint8Array, pkt: Uint8Array, off: number, len: number): number {
	if (pkt[off + 8] === 0xff || pkt[off + 24] === 0xff || ip6_is_unspecified(pkt, off + 8))
		return 0;
	if (icmp6_ineligible(pkt, off, len))
		return 0;
	const plen = (pkt[off + 4] << 8) | pkt[off + 5];
	const quote = Math.min(len, IP6_HDR_LEN + plen, IPV6_MMTU - IP6_HDR_LEN - ICMP_HDR_LEN);
	const icmp_len = ICMP_HDR_LEN + quote;
	out.fill(0, 0, IP6_HDR_LEN + ICMP_HDR_LEN);
	out[0] = 0x60;
	put16(out, 4, icmp_len);
	out[6] = IPPROTO_ICMPV6;
	out[7] = ICMP_TTL;
	out.set(pkt.subarray(off + 24, off + 40), 8);
	out.set(pkt.subarray(off + 8, off + 24), 24);
	out[IP6_HDR_LEN] = ICMP6_DST_UNREACH;
	out[IP6_HDR_LEN + 1] = ICMP6_DST_UNREACH_ADDR;
	out.set(pkt.subarray(off, off + quote), IP6_HDR_LEN + ICMP_HDR_LEN);
	/* Pseudo-header (RFC 8200 §8.1): both addresses, length, next header. */
	let sum = in_cksum_add(out, 8, 32, 0);
	sum = in_cksum_add(out, IP6_HDR_LEN, icmp_len, sum + icmp_len + IPPROTO_ICMPV6);
	put16(out, IP6_HDR_LEN + 2, ~sum & 0xffff);
	return IP6_HDR_LEN + icmp_len;
}

/*
 * Answer an IP packet (version 4 with >= 20 bytes or 6 with >= 40,
 * already checked by the caller) that no peer takes.
 */
export function wg_icmp_unreach(sc: WgSoftc, pkt: Uint8Array, off: number, len: number): void {
	const out = sc.icmpbuf;
	const n = pkt[off] >> 4 === 4 ? icmp4_unreach(out, pkt, off, len) : icmp6_unreach(out, pkt, off, len);
	if (n === 0)
		return;
	if (!sc.icmp_bucket.allow(sc.clock.now())) {
		sc.count('tx_icmp_ratelimited');
		return;
	}
	sc.io.tun_write(out, 0, n);
	sc.count('tx_icmp_unreach');
}

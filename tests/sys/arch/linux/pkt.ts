// SPDX-License-Identifier: BSD-2-Clause
/*
 * Hand-built IP packets for writing into a tun: ICMP and ICMPv6 echo
 * requests, UDP over IPv4, with correct checksums (RFC 1071 sum; the
 * ICMPv6 and UDP sums cover the RFC 8200 / RFC 768 pseudo-header).
 */

export function cksum(b: Uint8Array, sum = 0): number {
	for (let i = 0; i + 1 < b.length; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	if (b.length & 1)
		sum += b[b.length - 1] << 8;
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >>> 16);
	return (~sum) & 0xffff;
}

function put16(b: Uint8Array, off: number, v: number): void {
	b[off] = v >>> 8;
	b[off + 1] = v & 0xff;
}

function ip4_header(b: Uint8Array, proto: number, src: Uint8Array, dst: Uint8Array): void {
	b[0] = 0x45;
	put16(b, 2, b.length);
	put16(b, 4, 0x1234);
	put16(b, 6, 0x4000);	/* DF */
	b[8] = 64;
	b[9] = proto;
	b.set(src, 12);
	b.set(dst, 16);
	put16(b, 10, 0);
	put16(b, 10, cksum(b.subarray(0, 20)));
}

export function ip4_icmp_echo(src: Uint8Array, dst: Uint8Array, id: number, seq: number, payload: Uint8Array): Uint8Array {
	const b = new Uint8Array(28 + payload.length);
	ip4_header(b, 1, src, dst);
	const icmp = b.subarray(20);
	icmp[0] = 8;	/* echo request */
	put16(icmp, 4, id);
	put16(icmp, 6, seq);
	icmp.set(payload, 8);
	put16(icmp, 2, cksum(icmp));
	return b;
}

export function ip4_udp(src: Uint8Array, dst: Uint8Array, sport: number, dport: number, payload_len: number): Uint8Array {
	const b = new Uint8Array(28 + payload_len);
	ip4_header(b, 17, src, dst);
	const u = b.subarray(20);
	put16(u, 0, sport);
	put16(u, 2, dport);
	put16(u, 4, u.length);
	for (let i = 8; i < u.length; i++)
		u[i] = i & 0xff;
	const ph = new Uint8Array(12);
	ph.set(src, 0);
	ph.set(dst, 4);
	ph[9] = 17;
	put16(ph, 10, u.length);
	const s = cksum(u, 0xffff & ~cksum(ph));
	put16(u, 6, s === 0 ? 0xffff : s);
	return b;
}

export function ip6_icmp_echo(src: Uint8Array, dst: Uint8Array, id: number, seq: number, payload: Uint8Array): Uint8Array {
	const b = new Uint8Array(48 + payload.length);
	b[0] = 0x60;
	put16(b, 4, 8 + payload.length);
	b[6] = 58;	/* next header: ICMPv6 */
	b[7] = 64;
	b.set(src, 8);
	b.set(dst, 24);
	const icmp = b.subarray(40);
	icmp[0] = 128;	/* echo request */
	put16(icmp, 4, id);
	put16(icmp, 6, seq);
	icmp.set(payload, 8);
	const ph = new Uint8Array(40);
	ph.set(src, 0);
	ph.set(dst, 16);
	ph[34] = icmp.length >>> 8;
	ph[35] = icmp.length & 0xff;
	ph[39] = 58;
	put16(icmp, 2, cksum(icmp, 0xffff & ~cksum(ph)));
	return b;
}

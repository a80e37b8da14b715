// SPDX-License-Identifier: BSD-2-Clause
/*
 * Packet builders and an independent checksum for the offload tests:
 * IPv4/IPv6 with TCP or UDP, checksums computed byte by byte here (not
 * with sys/netinet/in_cksum.ts), so a test can verify what the code
 * under test wrote by recomputing it.
 */

export const TH_FIN = 0x01;
export const TH_SYN = 0x02;
export const TH_RST = 0x04;
export const TH_PSH = 0x08;
export const TH_ACK = 0x10;
export const TH_URG = 0x20;
export const TH_ECE = 0x40;
export const TH_CWR = 0x80;

export interface tcp_opts {
	v: 4 | 6;
	seq: number;
	flags: number;
	payload: Uint8Array;
	options?: Uint8Array;	/* multiple of 4 bytes */
	id?: number;
	ack?: number;
	win?: number;
	src?: number;		/* last byte of the source address */
	sport?: number;
}

function sum16(b: Uint8Array, s: number, e: number): number {
	let sum = 0;
	for (let i = s; i < e; i += 2)
		sum += (b[i] << 8) | (i + 1 < e ? b[i + 1] : 0);
	return sum;
}

function fold(sum: number): number {
	while (sum > 0xffff)
		sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
	return sum;
}

/* The L4 checksum the packet b (IP at 0) should carry, computed byte by byte. */
export function l4_cksum_ref(b: Uint8Array, proto: number): number {
	const v6 = (b[0] >> 4) === 6;
	const hl = v6 ? 40 : (b[0] & 0xf) * 4;
	const c = new Uint8Array(b);
	const off = hl + (proto === 6 ? 16 : 6);
	c[off] = 0;
	c[off + 1] = 0;
	const ulen = b.length - hl;
	let sum = sum16(c, v6 ? 8 : 12, v6 ? 40 : 20) + proto + (ulen >>> 16) + (ulen & 0xffff);
	sum += sum16(c, hl, b.length);
	let r = ~fold(sum) & 0xffff;
	if (r === 0 && proto === 17)
		r = 0xffff;
	return r;
}

export function ip4_hdr_ok(b: Uint8Array): boolean {
	return fold(sum16(b, 0, (b[0] & 0xf) * 4)) === 0xffff;
}

export function l4_cksum_of(b: Uint8Array, proto: number): number {
	const hl = (b[0] >> 4) === 6 ? 40 : (b[0] & 0xf) * 4;
	const off = hl + (proto === 6 ? 16 : 6);
	return (b[off] << 8) | b[off + 1];
}

function ip_hdr(b: Uint8Array, v: 4 | 6, proto: number, len: number, id: number, src: number): number {
	if (v === 4) {
		b[0] = 0x45;
		b[2] = len >> 8;
		b[3] = len & 0xff;
		b[4] = id >> 8;
		b[5] = id & 0xff;
		b[6] = 0x40;	/* DF */
		b[8] = 64;
		b[9] = proto;
		b.set([10, 0, 0, src], 12);
		b.set([10, 0, 0, 2], 16);
		const c = ~fold(sum16(b, 0, 20)) & 0xffff;
		b[10] = c >> 8;
		b[11] = c & 0xff;
		return 20;
	}
	b[0] = 0x60;
	b[4] = (len - 40) >> 8;
	b[5] = (len - 40) & 0xff;
	b[6] = proto;
	b[7] = 64;
	b[8] = 0xfd;
	b[23] = src;
	b[24] = 0xfd;
	b[39] = 2;
	return 40;
}

/* A complete TCP packet with valid checksums. */
export function tcp_packet(o: tcp_opts): Uint8Array {
	const opt = o.options ?? new Uint8Array(0);
	const iphl = o.v === 4 ? 20 : 40;
	const thl = 20 + opt.length;
	const len = iphl + thl + o.payload.length;
	const b = new Uint8Array(len);
	ip_hdr(b, o.v, 6, len, o.id ?? 0x1234, o.src ?? 1);
	const t = iphl;
	const sport = o.sport ?? 40000;
	b[t] = sport >> 8;
	b[t + 1] = sport & 0xff;
	b[t + 2] = 5201 >> 8;
	b[t + 3] = 5201 & 0xff;
	const seq = o.seq >>> 0;
	b.set([seq >>> 24, (seq >>> 16) & 0xff, (seq >>> 8) & 0xff, seq & 0xff], t + 4);
	const ack = (o.ack ?? 0x01020304) >>> 0;
	b.set([ack >>> 24, (ack >>> 16) & 0xff, (ack >>> 8) & 0xff, ack & 0xff], t + 8);
	b[t + 12] = (thl / 4) << 4;
	b[t + 13] = o.flags;
	const win = o.win ?? 502;
	b[t + 14] = win >> 8;
	b[t + 15] = win & 0xff;
	b.set(opt, t + 20);
	b.set(o.payload, t + thl);
	const c = l4_cksum_ref(b, 6);
	b[t + 16] = c >> 8;
	b[t + 17] = c & 0xff;
	return b;
}

export function udp_packet(v: 4 | 6, payload: Uint8Array): Uint8Array {
	const iphl = v === 4 ? 20 : 40;
	const len = iphl + 8 + payload.length;
	const b = new Uint8Array(len);
	ip_hdr(b, v, 17, len, 0x4321, 1);
	b[iphl] = 0x9c;
	b[iphl + 1] = 0x40;
	b[iphl + 2] = 0x13;
	b[iphl + 3] = 0x89;
	b[iphl + 4] = (8 + payload.length) >> 8;
	b[iphl + 5] = (8 + payload.length) & 0xff;
	b.set(payload, iphl + 8);
	const c = l4_cksum_ref(b, 17);
	b[iphl + 6] = c >> 8;
	b[iphl + 7] = c & 0xff;
	return b;
}

/* The pseudo-header-only sum a host leaves in the checksum field with NEEDS_CSUM (length 0 for GSO). */
export function put_partial(b: Uint8Array, proto: number, ulen: number): void {
	const v6 = (b[0] >> 4) === 6;
	const hl = v6 ? 40 : (b[0] & 0xf) * 4;
	const sum = fold(sum16(b, v6 ? 8 : 12, v6 ? 40 : 20) + proto + (ulen >>> 16) + (ulen & 0xffff));
	const off = hl + (proto === 6 ? 16 : 6);
	b[off] = sum >> 8;
	b[off + 1] = sum & 0xff;
}

export function pattern(n: number, seed = 7): Uint8Array {
	const b = new Uint8Array(n);
	let x = seed;
	for (let i = 0; i < n; i++) {
		x = (x * 1103515245 + 12345) >>> 0;
		b[i] = x >>> 24;
	}
	return b;
}

/* TCP timestamps option, padded: NOP NOP TS(10). */
export function ts_option(val: number, ecr: number): Uint8Array {
	const o = new Uint8Array(12);
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	new DataView(o.buffer).setUint32(4, val);
	new DataView(o.buffer).setUint32(8, ecr);
	return o;
}

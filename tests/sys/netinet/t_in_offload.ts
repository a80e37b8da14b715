// SPDX-License-Identifier: BSD-2-Clause
/*
 * sys/netinet/in_offload.ts: cutting TSO/USO super-packets into
 * segments (IPv4 and IPv6, TCP options, flags at the boundaries, every
 * checksum verified by recomputing it byte by byte), completing a
 * NEEDS_CSUM checksum, and refusing bad descriptions without throwing.
 */

import t from 'tap';
import {
	EGSO_CSUM, EGSO_HDRLEN, EGSO_IP, EGSO_SIZE, EGSO_TYPE, GSO_NONE, GSO_TCPV4, GSO_TCPV6, GSO_UDP_L4,
	gso_error_names, gso_info, in_csum_complete, in_gso_segment,
} from '../../../sys/netinet/in_offload.js';
import { in_cksum } from '../../../sys/netinet/in_cksum.js';
import {
	TH_ACK, TH_CWR, TH_ECE, TH_FIN, TH_PSH, ip4_hdr_ok, l4_cksum_of, l4_cksum_ref, pattern, put_partial,
	tcp_packet, ts_option, udp_packet,
} from './pkt.js';

const seg = new Uint8Array(new ArrayBuffer(65536));

function segment(b: Uint8Array, g: gso_info): { r: number; out: Uint8Array[] } {
	const out: Uint8Array[] = [];
	/* The packet sits at an offset in a bigger buffer, as behind a virtio_net_hdr. */
	const buf = new Uint8Array(b.length + 10);
	buf.set(b, 10);
	const r = in_gso_segment(buf, 10, b.length, g, seg, (s, off, len) => { out.push(s.slice(off, off + len)); });
	return { r, out };
}

function tso(v: 4 | 6, size: number, hdr_len: number): gso_info {
	const g = new gso_info();
	g.type = v === 4 ? GSO_TCPV4 : GSO_TCPV6;
	g.size = size;
	g.hdr_len = hdr_len;
	g.needs_csum = true;
	g.csum_start = v === 4 ? 20 : 40;
	g.csum_offset = 16;
	return g;
}

const be32 = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
const be16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];

t.test('in_cksum agrees with a byte-by-byte sum at every alignment and length', async (t) => {
	const data = pattern(3000, 3);
	const ab = new Uint8Array(new ArrayBuffer(3100));
	let bad = 0;
	for (let shift = 0; shift < 4; shift++) {
		ab.fill(0);
		ab.set(data, shift);
		for (const len of [0, 1, 2, 3, 4, 5, 7, 20, 21, 1420, 1421, 2999]) {
			let s = 0;
			for (let i = 0; i < len; i += 2)
				s += (data[i] << 8) | (i + 1 < len ? data[i + 1] : 0);
			while (s > 0xffff)
				s = (s & 0xffff) + Math.floor(s / 0x10000);
			if (in_cksum(ab, shift, len) !== (~s & 0xffff))
				bad++;
		}
	}
	t.equal(bad, 0, 'no mismatch');
});

for (const v of [4, 6] as const) {
	t.test(`TCP over IPv${v}: segments, flags at the boundaries, checksums`, async (t) => {
		const opt = ts_option(0x11223344, 0x55667788);
		const payload = pattern(5000);
		const size = 1388;
		const seq0 = 0xfffff000;	/* wraps within the train */
		const sp = tcp_packet({ v, seq: seq0, flags: TH_ACK | TH_PSH | TH_FIN | TH_CWR | TH_ECE, payload, options: opt, id: 0xfffe });
		const iphl = v === 4 ? 20 : 40;
		put_partial(sp, 6, 0);
		const { r, out } = segment(sp, tso(v, size, iphl + 32));
		t.equal(r, 4, 'ceil(5000 / 1388) segments');
		t.equal(out.length, 4);
		const joined: number[] = [];
		out.forEach((s, i) => {
			const last = i === out.length - 1;
			const plen = last ? 5000 - 3 * size : size;
			t.equal(s.length, iphl + 32 + plen, `segment ${i}: length`);
			if (v === 4) {
				t.equal(be16(s, 2), s.length, `segment ${i}: IPv4 total length`);
				t.equal(be16(s, 4), (0xfffe + i) & 0xffff, `segment ${i}: IPv4 ID + ${i}`);
				t.ok(ip4_hdr_ok(s), `segment ${i}: IPv4 header checksum`);
			} else {
				t.equal(be16(s, 4), s.length - 40, `segment ${i}: IPv6 payload length`);
			}
			t.equal(be32(s, iphl + 4), (seq0 + i * size) >>> 0, `segment ${i}: sequence number`);
			const f = s[iphl + 13];
			t.equal((f & TH_CWR) !== 0, i === 0, `segment ${i}: CWR on the first only`);
			t.equal((f & (TH_FIN | TH_PSH)) !== 0, last, `segment ${i}: FIN and PSH on the last only`);
			t.equal(f & (TH_ACK | TH_ECE), TH_ACK | TH_ECE, `segment ${i}: ACK and ECE kept`);
			t.same(s.subarray(iphl + 20, iphl + 32), opt, `segment ${i}: options copied`);
			t.equal(l4_cksum_of(s, 6), l4_cksum_ref(s, 6), `segment ${i}: TCP checksum`);
			joined.push(...s.subarray(iphl + 32));
		});
		t.same(Uint8Array.from(joined), payload, 'the payloads, in order, are the original');
	});

	t.test(`UDP over IPv${v} (USO): lengths and checksums`, async (t) => {
		const payload = pattern(4000, 9);
		const sp = udp_packet(v, payload);
		put_partial(sp, 17, 0);
		const g = new gso_info();
		g.type = GSO_UDP_L4;
		g.size = 1400;
		g.hdr_len = (v === 4 ? 20 : 40) + 8;
		g.needs_csum = true;
		g.csum_start = v === 4 ? 20 : 40;
		g.csum_offset = 6;
		const { r, out } = segment(sp, g);
		t.equal(r, 3);
		const iphl = v === 4 ? 20 : 40;
		const joined: number[] = [];
		out.forEach((s, i) => {
			t.equal(be16(s, iphl + 4), s.length - iphl, `datagram ${i}: UDP length`);
			t.equal(l4_cksum_of(s, 17), l4_cksum_ref(s, 17), `datagram ${i}: UDP checksum`);
			if (v === 4)
				t.ok(ip4_hdr_ok(s), `datagram ${i}: IPv4 header checksum`);
			joined.push(...s.subarray(iphl + 8));
		});
		t.same(Uint8Array.from(joined), payload);
	});
}

t.test('a payload of exactly n segments, and one no longer than a segment', async (t) => {
	const sp = tcp_packet({ v: 4, seq: 1, flags: TH_ACK | TH_PSH, payload: pattern(2 * 1000) });
	put_partial(sp, 6, 0);
	const a = segment(sp, tso(4, 1000, 40));
	t.equal(a.r, 2);
	t.equal(a.out[1].length, 1040);
	t.equal(a.out[0][33] & TH_PSH, 0, 'PSH only on the last');
	t.equal(a.out[1][33] & TH_PSH, TH_PSH);
	const small = tcp_packet({ v: 6, seq: 1, flags: TH_ACK, payload: pattern(100) });
	const want = l4_cksum_of(small, 6);
	put_partial(small, 6, 0);
	const b = segment(small, tso(6, 1000, 60));
	t.equal(b.r, 1, 'one segment');
	t.equal(l4_cksum_of(b.out[0], 6), want, 'its checksum completed');
});

t.test('a super-packet without NEEDS_CSUM (offsets unset) is cut all the same', async (t) => {
	for (const v of [4, 6] as const) {
		const sp = tcp_packet({ v, seq: 9, flags: TH_ACK, payload: pattern(2500) });
		const g = tso(v, 1000, 0);
		g.needs_csum = false;
		g.csum_start = 0;
		g.csum_offset = 0;
		const { r, out } = segment(sp, g);
		t.equal(r, 3, `IPv${v}: three segments`);
		t.ok(out.every((s) => l4_cksum_of(s, 6) === l4_cksum_ref(s, 6)), `IPv${v}: checksums right`);
	}
});

t.test('bad descriptions are refused, not thrown, and nothing is emitted', async (t) => {
	const sp = tcp_packet({ v: 4, seq: 1, flags: TH_ACK, payload: pattern(3000) });
	const cases: Array<[string, (g: gso_info) => void, number, Uint8Array?]> = [
		['gso_size 0', (g) => { g.size = 0; }, EGSO_SIZE],
		['hdr_len past the end', (g) => { g.hdr_len = sp.length + 1; }, EGSO_HDRLEN],
		['csum_start past the end', (g) => { g.csum_start = sp.length + 100; }, EGSO_CSUM],
		['csum_start not the L4 header', (g) => { g.csum_start = 24; }, EGSO_CSUM],
		['csum_offset not TCP\'s', (g) => { g.csum_offset = 6; }, EGSO_CSUM],
		['TCPV6 on an IPv4 packet', (g) => { g.type = GSO_TCPV6; }, EGSO_TYPE],
		['UDP_L4 on a TCP packet', (g) => { g.type = GSO_UDP_L4; }, EGSO_TYPE],
		['no gso type', (g) => { g.type = GSO_NONE; }, EGSO_TYPE],
		['unknown gso type', (g) => { g.type = 99; }, EGSO_TYPE],
		['IPv4 total length wrong', () => {}, EGSO_IP, (() => { const c = sp.slice(); c[3] ^= 1; return c; })()],
		['not IP', () => {}, EGSO_IP, (() => { const c = sp.slice(); c[0] = 0x15; return c; })()],
		['TCP data offset past the end', () => {}, EGSO_HDRLEN,
		    (() => { const c = sp.slice(0, 50); c[2] = 0; c[3] = 50; c[32] = 0xf0; return c; })()],
		['TCP data offset below 5', () => {}, EGSO_HDRLEN, (() => { const c = sp.slice(); c[32] = 0x40; return c; })()],
		['truncated', (g) => { g.hdr_len = 0; }, EGSO_IP, sp.slice(0, 10)],
	];
	for (const [name, mod, want, pkt] of cases) {
		const g = tso(4, 1000, 40);
		mod(g);
		const { r, out } = segment(pkt ?? sp, g);
		t.equal(r, want, `${name}: ${gso_error_names[want]}`);
		t.equal(out.length, 0, `${name}: nothing emitted`);
	}
	t.equal(new Set(Object.values(gso_error_names)).size, 5, 'each reason has its own counter');
});

t.test('NEEDS_CSUM without segmentation: completed, or refused when outside the packet', async (t) => {
	for (const v of [4, 6] as const) {
		const p = tcp_packet({ v, seq: 5, flags: TH_ACK, payload: pattern(333) });
		const want = l4_cksum_of(p, 6);
		put_partial(p, 6, p.length - (v === 4 ? 20 : 40));
		t.ok(in_csum_complete(p, 0, p.length, v === 4 ? 20 : 40, 16));
		t.equal(l4_cksum_of(p, 6), want, `IPv${v} TCP checksum completed`);
		const u = udp_packet(v, pattern(77));
		const uwant = l4_cksum_of(u, 17);
		put_partial(u, 17, u.length - (v === 4 ? 20 : 40));
		t.ok(in_csum_complete(u, 0, u.length, v === 4 ? 20 : 40, 6));
		t.equal(l4_cksum_of(u, 17), uwant, `IPv${v} UDP checksum completed`);
	}
	const p = tcp_packet({ v: 4, seq: 5, flags: TH_ACK, payload: pattern(10) });
	t.notOk(in_csum_complete(p, 0, p.length, p.length - 1, 16), 'csum_start + offset past the end');
	t.notOk(in_csum_complete(p, 0, p.length, 4, 16), 'csum_start inside the IP header');
	t.notOk(in_csum_complete(p, 0, p.length, 20, 3), 'an offset that is neither TCP\'s nor UDP\'s');
});

// SPDX-License-Identifier: BSD-2-Clause
/*
 * sys/netinet/tcp_coalesce.ts: segments of a flow join into one
 * super-packet when they may (IPv4 and IPv6, TCP options), and a
 * segment that may not ends the train; the result is verified by
 * recomputing its checksums and by cutting it up again with
 * in_offload.ts, which must give back the original segments.
 */

import t from 'tap';
import { tcp_coalescer } from '../../../sys/netinet/tcp_coalesce.js';
import { GSO_NONE, GSO_TCPV4, GSO_TCPV6, gso_info, in_gso_segment } from '../../../sys/netinet/in_offload.js';
import { in_cksum } from '../../../sys/netinet/in_cksum.js';
import {
	TH_ACK, TH_CWR, TH_ECE, TH_FIN, TH_PSH, TH_RST, TH_SYN, TH_URG, ip4_hdr_ok, l4_cksum_of, l4_cksum_ref,
	pattern, tcp_packet, ts_option, udp_packet, type tcp_opts,
} from './pkt.js';

interface Out {
	pkt: Uint8Array;
	g: gso_info;
}

function run(pkts: Uint8Array[], room = 10): Out[] {
	const c = new tcp_coalescer(16, room);
	for (const p of pkts) {
		/* Each packet comes at an offset in a buffer of its own, as from the core. */
		const b = new Uint8Array(p.length + 3);
		b.set(p, 3);
		c.add(b, 3, p.length);
	}
	const out: Out[] = [];
	c.flush((b, off, len, g) => {
		const x = new gso_info();
		Object.assign(x, g);
		out.push({ pkt: b.slice(off, off + len), g: x });
	});
	t.equal(c.count, 0, 'flush empties it');
	return out;
}

/* Segments of one flow: n of size bytes from seq, PSH on the last. */
function train(v: 4 | 6, n: number, size: number, o: Partial<tcp_opts> = {}, seq0 = 1000): Uint8Array[] {
	const all = pattern(n * size, seq0);
	const out: Uint8Array[] = [];
	for (let i = 0; i < n; i++)
		out.push(tcp_packet({ v, seq: seq0 + i * size, flags: TH_ACK | (i === n - 1 ? TH_PSH : 0),
		    payload: all.subarray(i * size, (i + 1) * size), id: 100 + i, ...o }));
	return out;
}

/* What the host does with NEEDS_CSUM: sum from csum_start and store the complement. */
function host_complete(o: Out): Uint8Array {
	const p = o.pkt.slice();
	const at = o.g.csum_start + o.g.csum_offset;
	const c = in_cksum(p, o.g.csum_start, p.length - o.g.csum_start);
	p[at] = c >> 8;
	p[at + 1] = c & 0xff;
	return p;
}

function resegment(o: Out): Uint8Array[] {
	const segs: Uint8Array[] = [];
	const seg = new Uint8Array(new ArrayBuffer(65536));
	const r = in_gso_segment(o.pkt, 0, o.pkt.length, o.g, seg, (b, off, len) => { segs.push(b.slice(off, off + len)); });
	t.ok(r > 0, 'the train is a valid super-packet');
	return segs;
}

for (const v of [4, 6] as const) {
	t.test(`IPv${v}: one flow's segments become one super-packet`, async (t) => {
		const opt = ts_option(7, 9);
		const segs = train(v, 5, 1388, { options: opt });
		const out = run(segs);
		t.equal(out.length, 1, 'one write');
		const o = out[0];
		const iphl = v === 4 ? 20 : 40;
		t.equal(o.g.type, v === 4 ? GSO_TCPV4 : GSO_TCPV6);
		t.equal(o.g.size, 1388, 'gso_size: the segment size');
		t.equal(o.g.hdr_len, iphl + 32, 'hdr_len: IP + TCP with options');
		t.equal(o.g.csum_start, iphl);
		t.equal(o.g.csum_offset, 16);
		t.ok(o.g.needs_csum);
		t.equal(o.pkt.length, iphl + 32 + 5 * 1388, 'all payload');
		if (v === 4) {
			t.equal((o.pkt[2] << 8) | o.pkt[3], o.pkt.length, 'IPv4 total length');
			t.ok(ip4_hdr_ok(o.pkt), 'IPv4 header checksum');
		} else {
			t.equal((o.pkt[4] << 8) | o.pkt[5], o.pkt.length - 40, 'IPv6 payload length');
		}
		t.equal(o.pkt[iphl + 13], TH_ACK | TH_PSH, 'PSH of the last segment kept');
		const done = host_complete(o);
		t.equal(l4_cksum_of(done, 6), l4_cksum_ref(done, 6), 'the pseudo-header sum completes to the right checksum');
		const back = resegment(o);
		t.equal(back.length, 5);
		for (let i = 0; i < 5; i++)
			t.same(back[i], segs[i], `segment ${i} comes back byte for byte`);
	});
}

t.test('a segment that cannot join ends the train; order is kept', async (t) => {
	const a = train(4, 2, 1000);
	a[1][33] = TH_ACK;	/* no PSH: the train stays open */
	const fix = (p: Uint8Array) => { const c = l4_cksum_ref(p, 6); p[36] = c >> 8; p[37] = c & 0xff; return p; };
	fix(a[1]);
	const fin = tcp_packet({ v: 4, seq: 3000, flags: TH_ACK | TH_FIN, payload: pattern(10), id: 102 });
	const b = train(4, 2, 1000, {}, 3010);
	const out = run([a[0], a[1], fin, b[0], b[1]]);
	t.equal(out.length, 3, 'train, FIN, train');
	t.equal(out[0].pkt.length, 40 + 2000);
	t.same(out[1].pkt, fin, 'the FIN segment as it came');
	t.equal(out[1].g.type, GSO_NONE);
	t.equal(out[2].pkt.length, 40 + 2000, 'the later data is a train of its own, after the FIN');
});

t.test('every flag but ACK/PSH keeps a segment out, at either end of a train', async (t) => {
	for (const [name, f] of [['FIN', TH_FIN], ['SYN', TH_SYN], ['RST', TH_RST], ['URG', TH_URG],
	    ['ECE', TH_ECE], ['CWR', TH_CWR]] as const) {
		const s = train(4, 3, 500);
		s[0] = tcp_packet({ v: 4, seq: 1000, flags: TH_ACK | f, payload: pattern(500, 1000), id: 100 });
		const first = run(s);
		t.equal(first.length, 2, `${name} on the first: alone, then a train of the rest`);
		t.equal(first[0].g.type, GSO_NONE);
		t.equal(first[1].g.type, GSO_TCPV4);
		const u = train(4, 3, 500);
		u[1] = tcp_packet({ v: 4, seq: 1500, flags: TH_ACK | f, payload: pattern(500, 1500), id: 101 });
		u[2][33] = TH_ACK | TH_PSH;
		const mid = run(u);
		t.equal(mid.length, 3, `${name} in the middle: ends the train, nothing joins across it`);
	}
	const p = train(4, 4, 500);
	p[1] = tcp_packet({ v: 4, seq: 1500, flags: TH_ACK | TH_PSH, payload: pattern(500, 1500), id: 101 });
	const out = run(p);
	t.equal(out.length, 2, 'PSH mid-train: it closes the train it ends');
	t.equal(out[0].pkt.length, 40 + 1000);
});

t.test('what must match for a segment to join', async (t) => {
	const gap = train(6, 3, 800);
	gap[1] = tcp_packet({ v: 6, seq: 1801, flags: TH_ACK, payload: pattern(800), id: 101 });
	t.equal(run(gap).length, 3, 'a sequence gap');
	const opts = train(4, 2, 800, { options: ts_option(1, 2) });
	opts[1] = tcp_packet({ v: 4, seq: 1800, flags: TH_ACK, payload: pattern(800), options: ts_option(2, 2), id: 101 });
	t.equal(run(opts).length, 2, 'different TCP options');
	const ack = train(4, 2, 800);
	ack[1] = tcp_packet({ v: 4, seq: 1800, flags: TH_ACK, payload: pattern(800), ack: 77, id: 101 });
	t.equal(run(ack).length, 2, 'a different ack number');
	const win = train(4, 2, 800);
	win[1] = tcp_packet({ v: 4, seq: 1800, flags: TH_ACK, payload: pattern(800), win: 1, id: 101 });
	t.equal(run(win).length, 2, 'a different window');
	const big = train(4, 2, 800);
	big[1] = tcp_packet({ v: 4, seq: 1800, flags: TH_ACK, payload: pattern(900), id: 101 });
	t.equal(run(big).length, 2, 'a segment larger than the first');
	const short = train(4, 4, 800);
	short[1] = tcp_packet({ v: 4, seq: 1800, flags: TH_ACK, payload: pattern(300), id: 101 });
	short[2] = tcp_packet({ v: 4, seq: 2100, flags: TH_ACK, payload: pattern(800), id: 102 });
	short[3] = tcp_packet({ v: 4, seq: 2900, flags: TH_ACK, payload: pattern(800), id: 103 });
	const so = run(short);
	t.equal(so.length, 2, 'a shorter segment joins, and closes the train');
	t.equal(so[0].pkt.length, 40 + 1100);
	const pure = train(4, 3, 800);
	pure[1] = tcp_packet({ v: 4, seq: 1800, flags: TH_ACK, payload: new Uint8Array(0), id: 101 });
	t.equal(run(pure).length, 3, 'a pure ACK of the flow joins nothing and ends the train');
	const frag = train(4, 2, 800);
	frag[1][6] = 0x20;	/* MF */
	t.equal(run(frag).length, 2, 'an IPv4 fragment');
	const ttl = train(4, 2, 800);
	ttl[1][8] = 3;
	t.equal(run(ttl).length, 2, 'a different TTL');
	const many = train(4, 50, 1400);
	const m = run(many);
	t.ok(m.length === 2 && m.every((o) => o.pkt.length <= 65535), 'never past 65535 bytes');
	t.equal(m[0].pkt.length, 40 + 46 * 1400, 'the first train as full as it may be');
});

t.test('flows interleave; other protocols pass through', async (t) => {
	const a = train(4, 3, 700, { sport: 1111 });
	const b = train(4, 3, 700, { sport: 2222 });
	const c = train(6, 2, 700, { src: 9 });
	const u = udp_packet(4, pattern(100));
	const out = run([a[0], b[0], u, c[0], a[1], b[1], c[1], a[2], b[2]]);
	t.equal(out.length, 4, 'three trains and the UDP datagram');
	t.same(out.map((o) => o.pkt.length), [40 + 2100, 40 + 2100, 28 + 100, 60 + 1400]);
	t.same(out[2].pkt, u, 'UDP as it came');
	for (const o of out.filter((x) => x.g.type !== GSO_NONE)) {
		const d = host_complete(o);
		t.equal(l4_cksum_of(d, 6), l4_cksum_ref(d, 6), 'checksum completes');
	}
});

t.test('full: count and full tell the caller when to flush', async (t) => {
	const c = new tcp_coalescer(2, 10);
	const u = udp_packet(4, pattern(10));
	c.add(u, 0, u.length);
	t.notOk(c.full);
	c.add(u, 0, u.length);
	t.ok(c.full);
	let n = 0;
	c.flush(() => { n++; });
	t.equal(n, 2);
	t.notOk(c.full);
});

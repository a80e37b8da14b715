// SPDX-License-Identifier: BSD-2-Clause
/*
 * ICMP unreachables for packets no peer takes (sys/net/wg/icmp.ts):
 * the bytes of the IPv4 host-unreachable and ICMPv6 address-unreachable,
 * their checksums recomputed independently, the quote limits, the cases
 * RFC 1122 / RFC 4443 forbid answering, and the per-device rate limit.
 */

import t, { type Test } from 'tap';
import { ICMP_ERRORS_BURSTABLE } from '../../../sys/net/wg/icmp.js';
import { EDESTADDRREQ, EHOSTUNREACH } from '../../../sys/sys/errno.js';
import { attach, hex, ip6, make_pair, v4 } from '../../harness/wg_harness.js';
import { cksum, ip4_icmp_echo, ip6_icmp_echo, ip4_udp } from '../../sys/arch/linux/pkt.js';

const c = attach('noble');
const A6 = hex('fd000000000000000000000000000001');
const FAR6 = hex('fd090000000000000000000000000009');

function be16(b: Uint8Array, off: number): number {
	return (b[off] << 8) | b[off + 1];
}

/* The ICMPv6 sum over the RFC 8200 §8.1 pseudo-header; 0 when the checksum field is right. */
function icmp6_sum(p: Uint8Array): number {
	const icmp = p.subarray(40);
	const ph = new Uint8Array(40);
	ph.set(p.subarray(8, 40), 0);
	ph[34] = icmp.length >>> 8;
	ph[35] = icmp.length & 0xff;
	ph[39] = 58;
	return cksum(icmp, 0xffff & ~cksum(ph));
}

function check_icmp4(t: Test, r: Uint8Array, orig: Uint8Array, quote: number): void {
	t.equal(r[0], 0x45, 'IPv4, 20-byte header');
	t.equal(be16(r, 2), r.length, 'total length');
	t.equal(r.length, 28 + quote, `quotes ${quote} bytes`);
	t.equal(r[9], 1, 'protocol ICMP');
	t.equal(cksum(r.subarray(0, 20)), 0, 'IP header checksum verifies');
	t.same(r.subarray(12, 16), orig.subarray(16, 20), 'source: the original destination');
	t.same(r.subarray(16, 20), orig.subarray(12, 16), 'destination: the original source');
	t.equal(r[20], 3, 'type 3 destination unreachable');
	t.equal(r[21], 1, 'code 1 host unreachable');
	t.same(r.subarray(24, 28), new Uint8Array(4), 'unused word zero');
	t.equal(cksum(r.subarray(20)), 0, 'ICMP checksum verifies');
	t.same(r.subarray(28), orig.subarray(0, quote), 'quotes the offending packet');
}

t.test('IPv4: no peer for the destination', (t) => {
	const { a } = make_pair(c);
	const p = ip4_icmp_echo(v4('10.0.0.1'), v4('10.9.9.9'), 0x77, 1, new Uint8Array(56).fill(0x5a));
	t.equal(a.dev.output(p, 0, p.length), EHOSTUNREACH);
	t.equal(a.tun.length, 1, 'one ICMP error written back to the tun');
	check_icmp4(t, a.tun[0], p, p.length);
	t.equal(a.stats.tx_no_peer, 1);
	t.equal(a.stats.tx_icmp_unreach, 1);

	/* A big packet: the error stops at 576 bytes (RFC 1812 §4.3.2.3). */
	const big = ip4_udp(v4('10.0.0.1'), v4('10.9.9.9'), 1234, 53, 1372);
	a.dev.output(big, 0, big.length);
	t.equal(a.tun[1].length, 576);
	check_icmp4(t, a.tun[1], big, 548);
	t.end();
});

t.test('IPv4: a peer without an endpoint', (t) => {
	const { b } = make_pair(c, { b_knows_a_endpoint: false });
	const p = ip4_icmp_echo(v4('10.0.0.2'), v4('10.0.0.1'), 1, 2, new Uint8Array(8));
	t.equal(b.dev.output(p, 0, p.length), EDESTADDRREQ);
	t.equal(b.tun.length, 1);
	check_icmp4(t, b.tun[0], p, p.length);
	t.equal(b.stats.tx_no_endpoint, 1);
	t.end();
});

t.test('IPv4: packets never answered', (t) => {
	const { a } = make_pair(c);
	const cases: [string, Uint8Array][] = [];
	const err = ip4_icmp_echo(v4('10.0.0.1'), v4('10.9.9.9'), 0, 0, new Uint8Array(28));
	err[20] = 3;
	cases.push(['an ICMP error', err]);
	const frag = ip4_udp(v4('10.0.0.1'), v4('10.9.9.9'), 1, 2, 20);
	frag[6] = 0x00;
	frag[7] = 0x10;
	cases.push(['a non-first fragment', frag]);
	cases.push(['a multicast destination', ip4_udp(v4('10.0.0.1'), v4('239.1.2.3'), 1, 2, 8)]);
	cases.push(['a broadcast destination', ip4_udp(v4('10.0.0.1'), v4('255.255.255.255'), 1, 2, 8)]);
	cases.push(['source 0.0.0.0', ip4_udp(v4('0.0.0.0'), v4('10.9.9.9'), 1, 2, 8)]);
	const badihl = ip4_udp(v4('10.0.0.1'), v4('10.9.9.9'), 1, 2, 8);
	badihl[0] = 0x44;
	cases.push(['a header length below 20', badihl]);
	for (const [what, p] of cases) {
		t.equal(a.dev.output(p, 0, p.length), EHOSTUNREACH, what);
		t.equal(a.tun.length, 0, `${what}: no answer`);
	}
	t.equal(a.stats.tx_icmp_unreach, 0);
	/* An echo request is ICMP too, but not an error: answered. */
	const echo = ip4_icmp_echo(v4('10.0.0.1'), v4('10.9.9.9'), 0, 0, new Uint8Array(8));
	a.dev.output(echo, 0, echo.length);
	t.equal(a.tun.length, 1, 'an echo request is answered');
	t.end();
});

t.test('IPv6: address unreachable', (t) => {
	const { a } = make_pair(c);
	const p = ip6_icmp_echo(A6, FAR6, 9, 3, new Uint8Array(64).fill(1));
	t.equal(a.dev.output(p, 0, p.length), EHOSTUNREACH);
	t.equal(a.tun.length, 1);
	const r = a.tun[0];
	t.equal(r[0] >> 4, 6);
	t.equal(be16(r, 4), r.length - 40, 'payload length');
	t.equal(r[6], 58, 'next header ICMPv6');
	t.same(r.subarray(8, 24), FAR6, 'source: the original destination');
	t.same(r.subarray(24, 40), A6, 'destination: the original source');
	t.equal(r[40], 1, 'type 1 destination unreachable');
	t.equal(r[41], 3, 'code 3 address unreachable');
	t.equal(icmp6_sum(r), 0, 'ICMPv6 checksum verifies over the pseudo-header');
	t.same(r.subarray(48), p, 'quotes the whole packet');

	/* A big packet: the error fills the IPv6 minimum MTU exactly. */
	const big = ip6(A6, FAR6, 1400);
	a.dev.output(big, 0, big.length);
	t.equal(a.tun[1].length, 1280);
	t.equal(icmp6_sum(a.tun[1]), 0, 'checksum verifies');
	t.same(a.tun[1].subarray(48), big.subarray(0, 1232), 'quotes as much as fits');
	t.end();
});

t.test('IPv6: packets never answered, and those behind extension headers', (t) => {
	const { a } = make_pair(c);
	const err = ip6_icmp_echo(A6, FAR6, 0, 0, new Uint8Array(8));
	err[40] = 1;
	t.equal(a.dev.output(err, 0, err.length), EHOSTUNREACH);
	t.equal(a.tun.length, 0, 'no answer to an ICMPv6 error');

	/* Hop-by-hop options, then an ICMPv6 error: still an error. */
	const hbh = new Uint8Array(40 + 8 + 16);
	hbh.set(err.subarray(0, 40));
	hbh[4] = 0;
	hbh[5] = 24;
	hbh[6] = 0;
	hbh[40] = 58;
	hbh[42] = 1;	/* PadN filling the 8 bytes */
	hbh[43] = 4;
	hbh[48] = 1;
	a.dev.output(hbh, 0, hbh.length);
	t.equal(a.tun.length, 0, 'no answer to an ICMPv6 error behind a hop-by-hop header');

	const mc = ip6(A6, hex('ff020000000000000000000000000001'));
	a.dev.output(mc, 0, mc.length);
	t.equal(a.tun.length, 0, 'no answer to a multicast destination');
	const unspec = ip6(new Uint8Array(16), FAR6);
	a.dev.output(unspec, 0, unspec.length);
	t.equal(a.tun.length, 0, 'no answer to the unspecified source');

	/* A non-first fragment has no upper header: answered (RFC 8200 §4.5). */
	const frag = new Uint8Array(40 + 8 + 16);
	frag.set(ip6(A6, FAR6).subarray(0, 40));
	frag[5] = 24;
	frag[6] = 44;
	frag[40] = 58;
	frag[43] = 0x08;	/* offset 1 */
	a.dev.output(frag, 0, frag.length);
	t.equal(a.tun.length, 1, 'a non-first fragment is answered');
	t.equal(icmp6_sum(a.tun[0]), 0);
	t.end();
});

t.test('rate limited per device', (t) => {
	const { net, a } = make_pair(c);
	const p = ip4_icmp_echo(v4('10.0.0.1'), v4('10.9.9.9'), 1, 1, new Uint8Array(8));
	for (let i = 0; i < ICMP_ERRORS_BURSTABLE + 20; i++)
		a.dev.output(p, 0, p.length);
	t.equal(a.tun.length, ICMP_ERRORS_BURSTABLE, 'the burst');
	t.equal(a.stats.tx_icmp_ratelimited, 20, 'the rest counted');
	t.equal(a.stats.tx_no_peer, ICMP_ERRORS_BURSTABLE + 20, 'every packet counted as no peer');
	net.clock.t += 10;
	for (let i = 0; i < 20; i++)
		a.dev.output(p, 0, p.length);
	t.equal(a.tun.length, ICMP_ERRORS_BURSTABLE + 10, '1000 a second: 10 more after 10 ms');
	t.end();
});

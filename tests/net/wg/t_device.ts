// SPDX-License-Identifier: BSD-2-Clause
/*
 * WgDevice end to end over the fake network: handshake and data both
 * ways, key confirmation, IPv6, crypto-routing, roaming, PSK,
 * low-order keys, simultaneous initiation, the staged queue, and the
 * configuration API (validation, order, private key changes, wiping).
 */

import t, { type Test } from 'tap';
import { crypto_attach } from '../../../sys/crypto/crypto_select.js';
import {
	EDESTADDRREQ, EEXIST, EHOSTUNREACH, EINVAL, ENETDOWN, ENOENT, ErrnoError,
} from '../../../sys/sys/errno.js';
import { MAX_STAGED_PACKETS } from '../../../sys/net/wg/messages.js';
import type { WgPeer } from '../../../sys/net/wg/peer.js';
import {
	BACKENDS, ep4, hex, ip4, ip6, is_zero, make_pair, to_hex, v4, FakeNet,
} from '../../harness/wg_harness.js';
import { prng } from '../../harness/prng.js';

/* The seven low-order X25519 points the kernel selftest uses as peer keys. */
const LOW_ORDER = [
	'0000000000000000000000000000000000000000000000000000000000000000',
	'0100000000000000000000000000000000000000000000000000000000000000',
	'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
	'5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
	'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
	'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
	'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
];

function throws_errno(t: Test, fn: () => unknown, errno: number, msg: string): void {
	try {
		fn();
		t.fail(`${msg}: did not throw`);
	} catch (e) {
		t.ok(e instanceof ErrnoError && e.errno === errno, `${msg}: errno ${errno}`);
	}
}

for (const backend of BACKENDS) {
	const c = crypto_attach(backend);

	t.test(`handshake and data both ways (${backend})`, (t) => {
		const { net, a, b, a_peer, b_peer } = make_pair(c);
		const p = ip4('10.0.0.1', '10.0.0.2', 56);
		t.equal(a.dev.output(p, 0, p.length), 0, 'first packet queued');
		t.equal(a.sent_type(1).length, 1, 'one initiation sent');
		t.equal(a.sent_type(1)[0].data.length, 148);
		net.pump();
		t.equal(b.sent_type(2).length, 1, 'one response');
		t.equal(b.sent_type(2)[0].data.length, 92);
		t.equal(b.tun.length, 1, 'the staged packet arrived');
		t.same(b.tun[0], p, 'byte-identical');
		t.equal(a.events_of('handshake_complete').length, 1, 'initiator complete on response');
		t.equal(b.events_of('handshake_complete').length, 1, 'responder complete on first data');
		t.ok(b_peer.keypairs.current !== null && b_peer.keypairs.next === null, 'next promoted');
		t.equal(a.sent_type(4).length, 1, 'no extra keepalive: the staged packet went instead');
		t.equal(a.sent_type(4)[0].data.length, 32 + 80, '76-byte packet padded to 80');

		/* Reply, and many packets both ways. */
		const q = ip4('10.0.0.2', '10.0.0.1', 100);
		t.equal(b.dev.output(q, 0, q.length), 0);
		net.pump();
		t.same(a.tun[0], q, 'reply arrives');
		for (let i = 0; i < 50; i++) {
			const x = ip4('10.0.0.1', '10.0.0.2', i * 7, i);
			a.dev.output(x, 0, x.length);
			const y = ip4('10.0.0.2', '10.0.0.1', i * 11, i);
			b.dev.output(y, 0, y.length);
		}
		net.pump();
		t.equal(b.tun.length, 51);
		t.equal(a.tun.length, 51);
		t.same(b.tun[50], ip4('10.0.0.1', '10.0.0.2', 49 * 7, 49), 'trimmed to the IP length');
		const ia = a.dev.peer_info(a_peer);
		const ib = b.dev.peer_info(b_peer);
		t.ok(ia.last_handshake_sec > 0, 'last handshake set');
		t.equal(ia.tx_bytes, ib.rx_bytes, 'what a sent, b received');
		t.equal(ib.tx_bytes, ia.rx_bytes, 'what b sent, a received');
		t.equal(a.stats.rx_auth_fail + b.stats.rx_auth_fail, 0);
		t.equal(a.sent_type(1).length, 1, 'still one initiation');
		t.end();
	});

	t.test(`IPv6 inner packets (${backend})`, (t) => {
		const { net, a, b, a_peer, b_peer } = make_pair(c);
		const a6 = hex('fd000000000000000000000000000001');
		const b6 = hex('fd000000000000000000000000000002');
		a.dev.allowedip_add(a_peer, { family: 6, addr: b6, cidr: 128 });
		b.dev.allowedip_add(b_peer, { family: 6, addr: hex('fd000000000000000000000000000000'), cidr: 64 });
		const p = ip6(a6, b6, 200);
		a.dev.output(p, 0, p.length);
		net.pump();
		t.same(b.tun[0], p);
		const bad = ip6(b6, hex('fd010000000000000000000000000005'), 10);
		b.dev.output(bad, 0, bad.length);
		t.equal(b.stats.tx_no_peer, 1, 'no route to fd01::1');
		t.end();
	});

	t.test(`crypto-routing: inner source must be the peer's (${backend})`, (t) => {
		const { net, a, b } = make_pair(c);
		a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
		net.pump();
		t.equal(b.tun.length, 1);
		const spoof = ip4('10.9.9.9', '10.0.0.2');
		a.dev.output(spoof, 0, spoof.length);
		net.pump();
		t.equal(b.tun.length, 1, 'spoofed source dropped');
		t.equal(b.stats.rx_bad_src, 1, 'counted rx_bad_src');
		/* Garbage inner packet (not IP). */
		const junk = new Uint8Array(40);
		junk[0] = 0x45;
		junk[16] = 10; junk[17] = 0; junk[18] = 0; junk[19] = 2;
		junk[2] = 0; junk[3] = 200;	/* total length beyond the packet */
		a.dev.output(junk, 0, junk.length);
		net.pump();
		t.equal(b.stats.rx_bad_inner, 1, 'dishonest length dropped');
		t.end();
	});

	t.test(`roaming (${backend})`, (t) => {
		const { net, a, b, b_peer } = make_pair(c);
		a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
		net.pump();
		t.equal(b.dev.peer_info(b_peer).endpoint?.port, 51820);
		/* a moves to a new address and port. */
		a.ep = ep4('172.16.0.9', 9999);
		a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
		net.pump();
		const ep = b.dev.peer_info(b_peer).endpoint;
		t.same(ep && [...ep.addr], [172, 16, 0, 9], 'endpoint address updated');
		t.equal(ep?.port, 9999, 'endpoint port updated');
		const ev = b.events_of('endpoint_changed');
		t.ok(ev.length >= 1, 'endpoint_changed emitted');
		b.dev.output(ip4('10.0.0.2', '10.0.0.1'), 0, 28);
		const last = b.sent[b.sent.length - 1];
		t.equal(last.dst.port, 9999, 'reply goes to the new address');
		net.pump();
		t.equal(a.tun.length, 1, 'and arrives');
		t.end();
	});

	t.test(`wrong PSK: no session (${backend})`, (t) => {
		const { net, a, b } = make_pair(c, { psk_a: c.random_bytes(32), psk_b: c.random_bytes(32) });
		a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
		net.pump();
		t.equal(b.sent_type(2).length, 1, 'b answers (it cannot tell)');
		t.equal(a.stats.hs_decrypt, 1, 'a cannot open the response');
		t.equal(a.events_of('handshake_complete').length, 0);
		t.equal(b.tun.length, 0);
		net.advance(30000);
		t.equal(b.tun.length, 0, 'still nothing after retries');
		t.ok(a.stats.hs_decrypt >= 2);
		/* The same PSK on both: works. */
		const psk = c.random_bytes(32);
		const p2 = make_pair(c, { psk_a: psk, psk_b: psk });
		p2.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
		p2.net.pump();
		t.equal(p2.b.tun.length, 1, 'matching PSKs: data flows');
		t.end();
	});

	t.test(`low-order peer keys: nothing is ever sent (${backend})`, (t) => {
		const net = new FakeNet();
		const a = net.add(ep4('127.0.0.1', 1), c);
		const peers = LOW_ORDER.map((k, i) => a.dev.peer_add({
			public_key: hex(k), endpoint: ep4('127.0.0.1', 1111), persistent_keepalive: 1,
			allowed_ips: [{ family: 4, addr: v4(`10.1.0.${i + 1}`), cidr: 32 }],
		}));
		a.dev.up();
		for (let i = 0; i < peers.length; i++)
			a.dev.output(ip4('10.1.0.100', `10.1.0.${i + 1}`), 0, 28);
		net.advance(10000);
		t.equal(a.sent.length, 0, 'no datagram at all');
		t.ok(a.stats.hs_no_ss >= 7, 'initiation creation failed and was counted');
		t.end();
	});

	t.test(`low-order ephemeral in an initiation is rejected; the real one works (${backend})`, (t) => {
		const { net, a, b } = make_pair(c);
		a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
		const init = net.queue.shift();
		t.ok(init !== undefined);
		if (init === undefined) {
			t.end();
			return;
		}
		/* Inject a copy with the ephemeral replaced by a low-order point (mac1 recomputed). */
		const bad = init.data.slice();
		bad.set(hex(LOW_ORDER[2]), 8);
		const mac1_key = c.hash(new TextEncoder().encode('mac1----'), b.pub);
		bad.set(c.mac(mac1_key, bad.subarray(0, 116)), 116);
		b.dev.input(bad, 0, bad.length, init.src);
		b.dev.handshake_work();
		t.equal(b.stats.hs_bad_dh, 1, 'low-order ephemeral rejected');
		t.equal(b.sent.length, 0, 'no response to it');
		net.queue.unshift(init);
		net.pump();
		t.equal(b.tun.length, 1, 'the genuine initiation still completes');
		t.end();
	});

	t.test(`simultaneous initiation converges (${backend})`, (t) => {
		const { net, a, b } = make_pair(c);
		a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
		b.dev.output(ip4('10.0.0.2', '10.0.0.1'), 0, 28);
		t.equal(net.queue.length, 2, 'both initiations on the wire');
		net.pump();
		t.equal(a.sent_type(2).length + b.sent_type(2).length, 2, 'both answered (no NetBSD drop)');
		net.advance(20000);
		t.equal(b.tun.length, 1, 'a\'s packet got through');
		t.equal(a.tun.length, 1, 'b\'s packet got through');
		a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
		b.dev.output(ip4('10.0.0.2', '10.0.0.1'), 0, 28);
		net.pump();
		t.equal(b.tun.length, 2);
		t.equal(a.tun.length, 2, 'sessions in both directions');
		t.end();
	});

	t.test(`staged queue holds at most ${MAX_STAGED_PACKETS} (${backend})`, (t) => {
		const { net, a, b } = make_pair(c);
		net.filter = () => false;	/* the wire is down */
		for (let i = 0; i < 200; i++) {
			const p = ip4('10.0.0.1', '10.0.0.2', 4);
			p[20] = i;
			a.dev.output(p, 0, p.length);
		}
		t.equal(a.stats.tx_staged_dropped, 200 - MAX_STAGED_PACKETS, 'oldest dropped');
		net.queue = [];
		net.filter = null;
		net.advance(5400);	/* the retry initiation gets through */
		t.equal(b.tun.length, MAX_STAGED_PACKETS, `${MAX_STAGED_PACKETS} delivered after the handshake`);
		t.equal(b.tun[0][20], 200 - MAX_STAGED_PACKETS, 'the newest ones, in order');
		t.equal(b.tun[MAX_STAGED_PACKETS - 1][20], 199);
		t.end();
	});

	t.test(`replay and reordering (${backend})`, (t) => {
		const { net, a, b } = make_pair(c);
		a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
		net.pump();
		net.filter = () => false;
		const held = [];
		for (let i = 0; i < 10; i++) {
			a.dev.output(ip4('10.0.0.1', '10.0.0.2', 4, i), 0, 24);
			held.push(net.queue.shift());
		}
		net.filter = null;
		const before = b.tun.length;
		for (const i of [9, 3, 5, 0, 1, 2, 4, 6, 7, 8]) {
			const d = held[i];
			if (d)
				b.dev.input(d.data, 0, d.data.length, d.src);
		}
		t.equal(b.tun.length - before, 10, 'reordered packets within the window accepted');
		for (const d of held)
			if (d)
				b.dev.input(d.data, 0, d.data.length, d.src);
		t.equal(b.tun.length - before, 10, 'replays dropped');
		t.equal(b.stats.rx_replay, 10, 'and counted');
		/* A tampered packet fails authentication and does not move the window. */
		const d = held[0];
		if (d) {
			const x = d.data.slice();
			x[20] ^= 1;
			b.dev.input(x, 0, x.length, d.src);
			t.equal(b.stats.rx_auth_fail, 1);
		}
		t.end();
	});

	t.test(`key material is wiped when a peer is removed (${backend})`, (t) => {
		const { net, a, a_peer } = make_pair(c);
		a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
		net.pump();
		const kp = a_peer.keypairs.current;
		t.ok(kp !== null && !is_zero(kp.send_key) && !is_zero(kp.recv_key), 'session keys present');
		const ss = a_peer.precomputed_ss;
		t.ok(ss !== null && !is_zero(ss));
		a.dev.peer_remove(a_peer);
		t.ok(kp !== null && is_zero(kp.send_key) && is_zero(kp.recv_key), 'keypair buffers zeroed');
		t.ok(ss !== null && is_zero(ss), 'static-static zeroed');
		t.ok(is_zero(a_peer.handshake.ck) && is_zero(a_peer.handshake.ephemeral_private));
		t.ok(is_zero(a_peer.cookie.mac1_key), 'cookie keys zeroed');
		t.equal(a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28), EHOSTUNREACH, 'its routes are gone');
		throws_errno(t, () => a.dev.peer_info(a_peer), ENOENT, 'removed peer');
		t.end();
	});
}

const c = crypto_attach('noble');

t.test('peer_add validation and errors', (t) => {
	const net = new FakeNet();
	const a = net.add(ep4('10.0.0.1', 1), c);
	const k1 = c.public_key(c.generate_private_key());
	const k2 = c.public_key(c.generate_private_key());
	const k3 = c.public_key(c.generate_private_key());
	const p1 = a.dev.peer_add({ public_key: k1, name: 'one',
	    allowed_ips: [{ family: 4, addr: v4('10.1.2.3'), cidr: 24 }] });
	t.same(a.dev.peer_info(p1).allowed_ips[0].addr, v4('10.1.2.0'), 'host bits masked');
	throws_errno(t, () => a.dev.peer_add({ public_key: k1 }), EEXIST, 'duplicate key');
	throws_errno(t, () => a.dev.peer_add({ public_key: k2, name: 'one' }), EEXIST, 'duplicate name');
	throws_errno(t, () => a.dev.peer_add({ public_key: k2,
	    allowed_ips: [{ family: 4, addr: v4('10.1.2.99'), cidr: 24 }] }), EEXIST, 'duplicate prefix');
	throws_errno(t, () => a.dev.peer_add({ public_key: k2, allowed_ips: [
	    { family: 4, addr: v4('10.7.0.0'), cidr: 16 }, { family: 4, addr: v4('10.7.1.1'), cidr: 16 }] }),
	    EEXIST, 'duplicate prefix within one request');
	t.equal(a.dev.peer_lookup(k2), undefined, 'a failed add leaves nothing behind');
	throws_errno(t, () => a.dev.peer_add({ public_key: k2.subarray(0, 31) }), EINVAL, 'short key');
	throws_errno(t, () => a.dev.peer_add({ public_key: k2, preshared_key: new Uint8Array(5) }), EINVAL, 'bad psk');
	throws_errno(t, () => a.dev.peer_add({ public_key: k2,
	    allowed_ips: [{ family: 4, addr: v4('10.0.0.0'), cidr: 33 }] }), EINVAL, 'cidr > 32');
	throws_errno(t, () => a.dev.peer_add({ public_key: k2,
	    allowed_ips: [{ family: 6, addr: v4('10.0.0.0'), cidr: 8 }] }), EINVAL, 'family/length mismatch');
	throws_errno(t, () => a.dev.peer_add({ public_key: k2,
	    endpoint: { family: 4, addr: v4('1.2.3.4'), port: 70000 } }), EINVAL, 'bad port');
	throws_errno(t, () => a.dev.peer_add({ public_key: k2, name: 'x'.repeat(16) }), EINVAL, 'long name');
	throws_errno(t, () => a.dev.peer_add({ public_key: k2, persistent_keepalive: -1 }), EINVAL, 'bad keepalive');
	const p2 = a.dev.peer_add({ public_key: k2, name: 'two' });
	const p3 = a.dev.peer_add({ public_key: k3 });
	t.same(a.dev.peers(), [p3, p2, p1], 'most recently added first');
	t.equal(a.dev.peer_lookup_name('two'), p2);
	t.equal(a.dev.peer_info(p3).name, '', 'unnamed peer');
	t.equal(a.dev.peer_lookup(k3), p3);

	/* allowedip_add: EEXIST unless move, then the owner changes. */
	const pfx = { family: 4 as const, addr: v4('10.1.2.0'), cidr: 24 };
	throws_errno(t, () => a.dev.allowedip_add(p2, pfx), EEXIST, 'prefix owned by another peer');
	a.dev.allowedip_add(p2, pfx, { move: true });
	t.equal(a.dev.peer_info(p1).allowed_ips.length, 0, 'moved away from p1');
	t.equal(a.dev.peer_info(p2).allowed_ips.length, 1, 'to p2');
	a.dev.allowedip_add(p2, { family: 6, addr: hex('fd000000000000000000000000000000'), cidr: 8 });
	a.dev.allowedip_add(p2, { family: 4, addr: v4('192.168.0.0'), cidr: 16 });
	t.same(a.dev.peer_info(p2).allowed_ips.map((x) => `${x.family}/${x.cidr}`), ['4/24', '6/8', '4/16'],
	    'insertion order across families');
	a.dev.allowedips_clear(p2);
	t.equal(a.dev.peer_info(p2).allowed_ips.length, 0);
	a.dev.up();
	t.equal(a.dev.output(ip4('10.0.0.1', '10.1.2.3'), 0, 28), EHOSTUNREACH, 'cleared routes are gone');

	/* Errno results of output(). */
	a.dev.allowedip_add(p3, { family: 4, addr: v4('10.3.0.0'), cidr: 16 });
	t.equal(a.dev.output(ip4('10.0.0.1', '10.3.0.1'), 0, 28), EDESTADDRREQ, 'peer without endpoint');
	t.equal(a.dev.output(new Uint8Array(3), 0, 3), EINVAL, 'not an IP packet');
	a.dev.down();
	t.equal(a.dev.output(ip4('10.0.0.1', '10.3.0.1'), 0, 28), ENETDOWN, 'down');
	t.equal(a.sent.length, 0, 'nothing sent while down');
	t.end();
});

t.test('set_private_key: clamps, removes the self peer, recomputes DH', (t) => {
	const net = new FakeNet();
	const a = net.add(ep4('10.0.0.1', 1), c);
	const k = c.random_bytes(32);
	k[0] |= 7;
	k[31] |= 0x80;
	const own_pub = c.public_key(k);
	const p = a.dev.peer_add({ public_key: own_pub });
	const other = a.dev.peer_add({ public_key: c.public_key(c.generate_private_key()) });
	const ss_before = other.precomputed_ss && to_hex(other.precomputed_ss);
	a.dev.set_private_key(k);
	const got = a.dev.private_key();
	t.ok(got !== null && (got[0] & 7) === 0 && (got[31] & 0x80) === 0 && (got[31] & 0x40) !== 0, 'clamped');
	t.same(a.dev.public_key(), own_pub);
	t.equal(a.dev.peer_lookup(own_pub), undefined, 'peer with our own public key removed');
	t.ok(p.is_dead);
	t.not(other.precomputed_ss && to_hex(other.precomputed_ss), ss_before, 'static-static recomputed');
	throws_errno(t, () => a.dev.peer_add({ public_key: own_pub }), EINVAL, 'adding our own key');
	a.dev.set_private_key(null);
	t.equal(a.dev.private_key(), null);
	t.equal(other.precomputed_ss, null);
	throws_errno(t, () => a.dev.set_private_key(new Uint8Array(16)), EINVAL, 'short private key');
	t.end();
});

t.test('a private key change mid-session re-handshakes', (t) => {
	const { net, a, b, b_peer } = make_pair(c);
	a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	net.pump();
	t.equal(b.tun.length, 1);
	/* b gets a new key; a is told b's new public key. */
	const k = c.generate_private_key();
	b.dev.set_private_key(k);
	const a_peer_old = a.dev.peers()[0];
	const cfg = a.dev.peer_info(a_peer_old);
	a.dev.peer_remove(a_peer_old);
	a.dev.peer_add({ public_key: b.pub, endpoint: cfg.endpoint, allowed_ips: cfg.allowed_ips });
	b.dev.output(ip4('10.0.0.2', '10.0.0.1'), 0, 28);
	net.pump();
	t.equal(a.tun.length, 1, 'new session with the new key');
	t.ok(b.dev.peer_info(b_peer).last_handshake_sec > 0);
	t.end();
});

t.test('malformed datagrams are dropped and counted, never thrown', (t) => {
	const { net, a, b } = make_pair(c);
	a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	net.pump();
	const src = a.ep;
	const d = b.dev;
	const s0 = { ...b.stats };
	d.input(new Uint8Array(0), 0, 0, src);
	for (const n of [1, 2, 3])
		d.input(new Uint8Array(n).fill(1), 0, n, src);
	t.equal(b.stats.rx_short - s0.rx_short, 4, 'empty and 1-3 bytes: rx_short');
	for (let ty = 0; ty <= 4; ty++) {
		const m = new Uint8Array(4);
		m[0] = ty;
		d.input(m, 0, 4, src);
		const m5 = new Uint8Array(5);
		m5[0] = ty;
		d.input(m5, 0, 5, src);
	}
	t.equal(b.stats.rx_bad_type - s0.rx_bad_type, 2, 'type 0: bad type');
	t.equal(b.stats.rx_bad_size - s0.rx_bad_size, 6, 'types 1-3 with 4 or 5 bytes: bad size');
	t.equal(b.stats.rx_short - s0.rx_short, 6, 'type 4 with 4 or 5 bytes: short');
	for (const [ty, len] of [[1, 147], [1, 149], [2, 91], [2, 93], [3, 63], [3, 65]]) {
		const m = new Uint8Array(len);
		m[0] = ty;
		d.input(m, 0, len, src);
	}
	t.equal(b.stats.rx_bad_size - s0.rx_bad_size, 12, 'wrong sizes');
	const i148 = new Uint8Array(148);
	i148[0] = 1;
	d.input(i148, 0, 148, src);
	d.handshake_work();
	t.equal(b.stats.rx_bad_mac1 - s0.rx_bad_mac1, 1, 'zero initiation: bad mac1');
	const c64 = new Uint8Array(64);
	c64[0] = 3;
	d.input(c64, 0, 64, src);
	const d32 = new Uint8Array(32);
	d32[0] = 4;
	d.input(d32, 0, 32, src);
	t.equal(b.stats.rx_bad_index - s0.rx_bad_index, 2, 'cookie and data for unknown indices');
	/* Random garbage, including valid type words and real indices. */
	const rnd = prng(42);
	const real = net.delivered.filter((x) => x.dst.port === b.ep.port).map((x) => x.data);
	let threw = 0;
	for (let i = 0; i < 3000; i++) {
		let m: Uint8Array;
		const r = rnd();
		if (r < 0.3 && real.length > 0) {
			m = real[Math.floor(rnd() * real.length)].slice();
			const flips = 1 + Math.floor(rnd() * 4);
			for (let j = 0; j < flips; j++)
				m[Math.floor(rnd() * m.length)] ^= 1 << Math.floor(rnd() * 8);
		} else {
			const len = Math.floor(rnd() * 200);
			m = new Uint8Array(len);
			for (let j = 0; j < len; j++)
				m[j] = Math.floor(rnd() * 256);
			if (len >= 4 && rnd() < 0.7) {
				m[0] = 1 + Math.floor(rnd() * 4);
				m[1] = m[2] = m[3] = 0;
			}
		}
		try {
			d.input(m, 0, m.length, src);
			d.handshake_work();
		} catch {
			threw++;
		}
	}
	t.equal(threw, 0, 'no exception escaped');
	t.equal(b.stats.rx_error, 0, 'no internal error either');
	t.equal(b.tun.length, 1, 'nothing garbage reached the tun');
	/* Bad arguments. */
	d.input(new Uint8Array(10), 5, 10, src);
	t.ok(b.stats.rx_short > s0.rx_short);
	/* The session still works. */
	a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	net.pump();
	t.equal(b.tun.length, 2, 'the real peer is unaffected');
	t.end();
});

t.test('down drops sessions; up with persistent keepalive sends at once', (t) => {
	const { net, a, b, a_peer } = make_pair(c);
	a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	net.pump();
	const kp = a_peer.keypairs.current;
	a.dev.down();
	t.ok(kp !== null && is_zero(kp.send_key), 'session keys wiped on down');
	t.equal(a.dev.next_deadline(), Infinity, 'no timers while down');
	const n = a.sent.length;
	a.dev.peer_set_persistent_keepalive(a_peer, 25);
	t.equal(a.sent.length, n, 'nothing sent while down');
	net.clock.t += 1000;	/* a new TAI64N timestamp for the new initiation */
	a.dev.up();
	t.equal(a.sent.length, n + 1, 'an initiation for the keepalive on up');
	net.pump();
	t.ok(a.sent_type(4).length >= 1, 'and the keepalive after the handshake');
	t.ok(b.stats.rx_keepalive >= 1);
	t.end();
});

t.test('destroy wipes everything', (t) => {
	const { net, a, a_peer } = make_pair(c);
	a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	net.pump();
	const kp = a_peer.keypairs.current;
	const psk = c.random_bytes(32);
	a.dev.peer_set_preshared_key(a_peer, psk);
	const held = a_peer.preshared_key;
	a.dev.destroy();
	t.equal(a.dev.peers().length, 0);
	t.equal(a.dev.private_key(), null);
	t.notOk(a.dev.is_up());
	t.ok(kp !== null && is_zero(kp.send_key) && is_zero(kp.recv_key));
	t.ok(held !== null && is_zero(held) && a_peer.preshared_key === null && a_peer.is_dead);
	t.end();
});

t.test('three devices: a hub with two peers, one over IPv6', (t) => {
	const net = new FakeNet();
	const hub = net.add(ep4('192.168.1.1', 51820), c);
	const x = net.add(ep4('192.168.1.2', 51820), c);
	const y6 = { family: 6 as const, addr: hex('20010db8000000000000000000000002'), port: 40000 };
	const y = net.add(y6, c);
	hub.dev.peer_add({ public_key: x.pub, name: 'x', endpoint: x.ep,
	    allowed_ips: [{ family: 4, addr: v4('10.0.0.2'), cidr: 32 }] });
	hub.dev.peer_add({ public_key: y.pub, name: 'y', endpoint: y6,
	    allowed_ips: [{ family: 4, addr: v4('10.0.0.0'), cidr: 24 }] });
	x.dev.peer_add({ public_key: hub.pub, endpoint: hub.ep,
	    allowed_ips: [{ family: 4, addr: v4('10.0.0.0'), cidr: 24 }] });
	y.dev.peer_add({ public_key: hub.pub, endpoint: hub.ep,
	    allowed_ips: [{ family: 4, addr: v4('10.0.0.0'), cidr: 24 }] });
	for (const n of [hub, x, y])
		n.dev.up();
	/* Longest prefix: 10.0.0.2 goes to x, the rest of the /24 to y. */
	hub.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	hub.dev.output(ip4('10.0.0.1', '10.0.0.3'), 0, 28);
	net.pump();
	t.equal(x.tun.length, 1, 'x got its packet');
	t.equal(y.tun.length, 1, 'y got its packet over IPv6');
	t.same(y.tun[0], ip4('10.0.0.1', '10.0.0.3'));
	/* y may not claim x's address as its source. */
	y.dev.output(ip4('10.0.0.2', '10.0.0.1'), 0, 28);
	y.dev.output(ip4('10.0.0.3', '10.0.0.1'), 0, 28);
	net.pump();
	t.equal(hub.tun.length, 1, 'only the honest source arrives');
	t.equal(hub.stats.rx_bad_src, 1);
	const yp = hub.dev.peer_lookup_name('y');
	t.equal(yp && hub.dev.peer_info(yp).endpoint?.family, 6);
	/* Cookies work for an IPv6 source too. */
	hub.dev.tunables.force_underload = true;
	y.dev.set_private_key(c.generate_private_key());
	if (yp)
		hub.dev.peer_remove(yp);
	hub.dev.peer_add({ public_key: y.pub, endpoint: y6,
	    allowed_ips: [{ family: 4, addr: v4('10.0.0.0'), cidr: 24 }] });
	net.clock.t += 1000;
	y.dev.output(ip4('10.0.0.3', '10.0.0.1'), 0, 28);
	net.pump();
	t.equal(hub.stats.cookie_sent, 1, 'cookie to an IPv6 source');
	net.advance(5400);
	t.equal(hub.tun.length, 2, 'and the retry with mac2 succeeds');
	t.end();
});

/*
 * A listing taken in pages (wgconfig's show) while peers come and go
 * between pages, past a compaction of the peer list: each peer at most
 * once, newest first; those there throughout, all of them; those added
 * meanwhile, none; those removed before their turn, none.
 */
t.test('a listing in pages while peers come and go', (t) => {
	const net = new FakeNet();
	const a = net.add(ep4('10.0.0.1', 1), c);
	const add = (n: number): WgPeer[] => Array.from({ length: n }, () => a.dev.peer_add({ public_key: c.random_bytes(32) }));
	const first = add(400);
	const added = new Set<WgPeer>();
	const gone_early = new Set<WgPeer>();
	const listed: WgPeer[] = [];
	let cursor = 0;
	for (let page = 0; ; page++) {
		const p = a.dev.peers_page(cursor, 32, true);
		listed.push(...p.peers);
		cursor = p.next;
		if (cursor === 0)
			break;
		/* The cursor's own peer goes, so do the next two in line, and one comes. */
		const waiting = a.dev.peers().filter((q) => q.id < cursor);
		a.dev.peer_remove(p.peers[p.peers.length - 1]);
		for (const q of waiting.slice(0, 2)) {
			a.dev.peer_remove(q);
			gone_early.add(q);
		}
		/* Once, most of those left: the list is compacted under the listing. */
		if (page === 2)
			for (const q of waiting.slice(2).filter((_, i) => i % 4 !== 0)) {
				a.dev.peer_remove(q);
				gone_early.add(q);
			}
		add(1).forEach((q) => added.add(q));
	}
	t.equal(new Set(listed).size, listed.length, 'no peer twice');
	t.ok(listed.every((q, i) => i === 0 || q.id < listed[i - 1].id), 'newest first throughout');
	t.notOk(listed.some((q) => added.has(q)), 'none added meanwhile');
	t.notOk(listed.some((q) => gone_early.has(q)), 'none removed before its turn');
	const kept = first.filter((q) => a.dev.peers().includes(q));
	t.ok(kept.length > 0 && kept.every((q) => listed.includes(q)), `all ${kept.length} there throughout`);
	t.ok(gone_early.size > 200, `${gone_early.size} removed ahead of the listing, past a compaction`);
	t.end();
});

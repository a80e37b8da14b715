// SPDX-License-Identifier: BSD-2-Clause
/*
 * UDP sockets and datagram I/O over loopback in a throwaway netns:
 * single sendto/recvfrom and batched recvmmsg/sendmmsg, with endpoints
 * decoded in place for IPv4 and IPv6.
 */

import t from 'tap';
import {
	EADDRINUSE, EAFNOSUPPORT, EAGAIN, EINVAL, EMSGSIZE, IPPROTO_IP, IPPROTO_IPV6, IPV6_V6ONLY, SOL_SOCKET,
	SO_MARK, SO_RCVBUF, SO_SNDBUF, ErrnoError, getsockopt_int, setsockopt_int,
} from '../../../../sys/arch/linux/libc.js';
import {
	CMSG_SPACE_RX, Endpoint, IPV6_RECVPKTINFO, IP_PKTINFO, MmsgRing, UdpIo, in6_ntoa, sockaddr_get, sockaddr_put,
	udp_close, udp_open, udp_open_pair, udp_port, udp_set_mark,
} from '../../../../sys/arch/linux/udp.js';
import { UdpTxBatch } from '../../../../sys/arch/linux/udp_gso.js';
import { spawnSync } from 'node:child_process';
import { netns_create } from '../../../harness/netns_thread.js';

const ns = netns_create('udp');
t.teardown(() => ns.destroy());
ns.enter();

const LO4 = new Uint8Array([127, 0, 0, 1]);
const LO6 = new Uint8Array(16);
LO6[15] = 1;

const fds: number[] = [];
t.teardown(() => fds.forEach((fd) => udp_close(fd)));
const open = (family: 4 | 6, port: number, nonblock = true): number => {
	const fd = udp_open(family, port, { nonblock });
	fds.push(fd);
	return fd;
};

function err(f: () => unknown): ErrnoError | null {
	try {
		f();
	} catch (e) {
		return e instanceof ErrnoError ? e : null;
	}
	return null;
}

function fill(b: Uint8Array, seed: number): void {
	for (let i = 0; i < b.length; i++)
		b[i] = (i * 7 + seed) & 0xff;
}

t.test('open, port, options', async (t) => {
	const a4 = open(4, 0);
	const p = udp_port(a4);
	t.ok(p > 0 && p < 65536, 'kernel picked a port');
	const a6 = open(6, p);
	t.equal(udp_port(a6), p, 'v6 on the same port');
	t.equal(getsockopt_int(a6, IPPROTO_IPV6, IPV6_V6ONLY), 1, 'V6ONLY');
	t.ok(getsockopt_int(a4, SOL_SOCKET, SO_RCVBUF) >= 4 << 20, 'large receive buffer (FORCE as root)');
	udp_set_mark(a4, 0x51820);
	t.equal(getsockopt_int(a4, SOL_SOCKET, SO_MARK), 0x51820, 'SO_MARK');
	t.match(err(() => udp_open(4, p)), { errno: EADDRINUSE, code: 'EADDRINUSE', message: `bind 0.0.0.0:${p}: Address already in use` });
	t.match(err(() => udp_open(6, p)), { errno: EADDRINUSE, message: `bind [::]:${p}: Address already in use` });
	t.match(err(() => udp_open(4, 70000)), { errno: EINVAL });
	t.match(err(() => udp_open(5 as 4, 0)), { errno: EINVAL });
	t.match(err(() => udp_port(-1)), { errno: 9 });

	/* The kernel keeps twice what it is given (socket(7)). */
	const small = udp_open(4, 0, { rcvbuf: 256 << 10 });
	fds.push(small);
	t.equal(getsockopt_int(small, SOL_SOCKET, SO_RCVBUF), 512 << 10, 'rcvbuf: the receive buffer alone');
	t.ok(getsockopt_int(small, SOL_SOCKET, SO_SNDBUF) >= 4 << 20, 'rcvbuf: the send buffer keeps sockbuf');

	const pair = udp_open_pair(0);
	fds.push(pair.fd4, pair.fd6);
	t.ok(pair.fd4 >= 0 && pair.fd6 >= 0, 'both families');
	t.equal(udp_port(pair.fd4), pair.port);
	t.equal(udp_port(pair.fd6), pair.port);
	t.match(err(() => udp_open_pair(pair.port)), { errno: EADDRINUSE }, 'a fixed port in use');
});

t.test('sockaddr encoding', async (t) => {
	const b = new Uint8Array(32);
	const ep = new Endpoint();
	t.equal(sockaddr_put(b, 0, 4, new Uint8Array([192, 0, 2, 1]), 51820), 16);
	t.same([...b.subarray(0, 8)], [2, 0, 0xca, 0x6c, 192, 0, 2, 1]);
	t.ok(sockaddr_get(b, 0, ep));
	t.equal(ep.toString(), '192.0.2.1:51820');
	const a6 = new Uint8Array(16);
	a6.set([0x20, 0x01, 0x0d, 0xb8]);
	a6[15] = 9;
	t.equal(sockaddr_put(b, 0, 6, a6, 443, 3), 28);
	t.ok(sockaddr_get(b, 0, ep));
	t.equal(ep.toString(), '[2001:db8::9%3]:443');
	const e2 = new Endpoint().set(6, a6, 443, 3);
	t.ok(e2.equals(ep), 'equals');
	e2.port = 444;
	t.notOk(e2.equals(ep), 'port differs');
	t.ok(new Endpoint().copy(ep).equals(ep), 'copy');
	b[0] = 1;
	t.notOk(sockaddr_get(b, 0, ep), 'AF_UNIX is not an endpoint');
	t.equal(ep.family, 0);
	t.equal(sockaddr_put(b, 0, 0, a6, 1), 0);
	t.equal(in6_ntoa(new Uint8Array(16)), '::');
	t.equal(in6_ntoa(LO6), '::1');
	t.equal(in6_ntoa(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1])), '::ffff:10.0.0.1');
	t.equal(in6_ntoa(new Uint8Array([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1])), 'fe80::1:0:0:1');
});

t.test('single datagrams, IPv4 and IPv6', async (t) => {
	const r4 = open(4, 0), s4 = open(4, 0);
	const r6 = open(6, 0), s6 = open(6, 0);
	const io = new UdpIo(s4, s6);
	const out = new Uint8Array(new ArrayBuffer(1500));
	const inb = new Uint8Array(new ArrayBuffer(2048));
	const src = new Endpoint();

	fill(out, 1);
	t.equal(io.sendto(4, LO4, udp_port(r4), out, 16, 1420), 1420, 'sent v4');
	t.equal(io.recvfrom(r4, inb, 100, 1500, src), 1420, 'received v4');
	t.same(inb.subarray(100, 1520), out.subarray(16, 1436), 'payload at the offsets');
	t.equal(src.family, 4);
	t.same(src.addr.subarray(0, 4), LO4);
	t.equal(src.port, udp_port(s4), 'source port decoded');
	t.equal(src.toString(), `127.0.0.1:${udp_port(s4)}`);

	fill(out, 2);
	const dst6 = new Endpoint().set(6, LO6, udp_port(r6));
	t.equal(io.send_ep(dst6, out, 0, 1280), 1280, 'sent v6');
	t.equal(io.recvfrom(r6, inb, 0, 2048, src), 1280, 'received v6');
	t.same(inb.subarray(0, 1280), out.subarray(0, 1280));
	t.equal(src.family, 6);
	t.same(src.addr, LO6);
	t.equal(src.port, udp_port(s6));
	t.equal(src.toString(), `[::1]:${udp_port(s6)}`);

	t.equal(io.recvfrom(r4, inb, 0, 2048, src), -EAGAIN, 'nothing queued');
	t.equal(io.sendto(4, LO4, udp_port(r4), out, 1400, 200), -EINVAL, 'range outside the buffer');
	t.equal(new UdpIo(-1, s6).sendto(4, LO4, 1, out, 0, 1), -EAFNOSUPPORT, 'no v4 socket');
	t.equal(io.send_ep(new Endpoint(), out, 0, 1), -EAFNOSUPPORT, 'endpoint without a family');
	t.equal(io.sendto(6, LO4, 1, out, 0, 1), -EINVAL, 'a 4-byte address for IPv6');

	/* Truncation is reported, not silently cut. */
	t.equal(io.sendto(4, LO4, udp_port(r4), out, 0, 1000), 1000);
	t.equal(io.recvfrom(r4, inb, 0, 500, src), -EMSGSIZE, 'too long for the buffer');
	t.equal(io.recvfrom(r4, inb, 0, 2048, src), -EAGAIN, 'and consumed');

	/* A small on-heap typed array works too (its bytes move off-heap once). */
	const small = new Uint8Array(8);
	small[0] = 42;
	t.equal(io.sendto(4, LO4, udp_port(r4), small, 0, 8), 8);
	t.equal(io.recvfrom(r4, inb, 0, 2048, src), 8);
	t.equal(inb[0], 42);
});

t.test('batched: sendmmsg and recvmmsg, both families', async (t) => {
	const r4 = open(4, 0), r6 = open(6, 0), s4 = open(4, 0), s6 = open(6, 0);
	const N = 32;
	const tx = new MmsgRing(N, 1500);
	const rx = new MmsgRing(N, 2048);
	const d4 = new Endpoint().set(4, LO4, udp_port(r4));
	const d6 = new Endpoint().set(6, LO6, udp_port(r6));
	/* Interleaved families: 4,4,6,6,4,4,... to exercise the run splitting. */
	for (let i = 0; i < N; i++) {
		const b = tx.bufs[i];
		fill(b, i);
		b[16] = i;
		tx.prep(i, (i >> 1) & 1 ? d6 : d4, 16, 100 + i);
	}
	t.equal(tx.send(s4, s6, N), N, 'all sent');
	t.equal(tx.dropped, 0);

	const k4 = rx.recv(r4);
	t.equal(k4, N / 2, 'v4 batch');
	for (let j = 0; j < k4; j++) {
		const i = rx.bufs[j][0];
		t.equal(rx.lens[j], 100 + i, `len of #${i}`);
		t.equal(rx.eps[j].family, 4);
		t.equal(rx.eps[j].port, udp_port(s4));
		t.same(rx.eps[j].addr.subarray(0, 4), LO4);
	}
	const seen4 = Array.from({ length: k4 }, (_, j) => rx.bufs[j][0]);
	t.same(seen4, Array.from({ length: N }, (_, i) => i).filter((i) => !((i >> 1) & 1)), 'v4 packets in order');
	const k6 = rx.recv(r6);
	t.equal(k6, N / 2, 'v6 batch');
	let ok = true;
	for (let j = 0; j < k6; j++) {
		const i = rx.bufs[j][0];
		const want = new Uint8Array(1500);
		fill(want, i);
		want[16] = i;
		const got = rx.bufs[j].subarray(0, rx.lens[j]);
		if (rx.eps[j].family !== 6 || rx.eps[j].port !== udp_port(s6) || Buffer.compare(got, want.subarray(16, 116 + i)) !== 0)
			ok = false;
	}
	t.ok(ok, 'v6 payloads and sources');
	t.equal(rx.recv(r4), -EAGAIN, 'drained');

	/* The receive ring's addr() points at the slot bytes. */
	t.ok(rx.addr(1) - rx.addr(0) === rx.slot_size, 'slot addresses');

	/* max limits the batch; a truncated datagram is flagged -EMSGSIZE. */
	const small = new MmsgRing(4, 64);
	for (let i = 0; i < 3; i++)
		tx.prep(i, d4, 0, i === 1 ? 200 : 10);
	t.equal(tx.send(s4, s6, 3), 3);
	t.equal(small.recv(r4, 2), 2, 'max 2');
	t.same([small.lens[0], small.lens[1]], [10, -EMSGSIZE]);
	t.equal(small.recv(r4), 1);
	t.equal(small.lens[0], 10);

	/* A family without a socket is dropped and counted, the rest go. */
	tx.prep(0, d6, 0, 10);
	tx.prep(1, d4, 0, 11);
	t.equal(tx.send(s4, -1, 2), 1, 'only the v4 one');
	t.equal(tx.dropped, 1);
	t.equal(tx.last_errno, EAFNOSUPPORT);
	t.equal(rx.recv(r4), 1);
	t.equal(rx.lens[0], 11);

	/* The same ring can receive after sending (iovecs are reset). */
	t.equal(tx.send(-1, -1, 0), 0);
	t.equal(tx.recv(r4), -EAGAIN);
	const io = new UdpIo(s4, s6);
	t.equal(io.sendto(4, LO4, udp_port(r4), rx.bufs[0], 0, 1400), 1400);
	t.equal(tx.recv(r4), 1);
	t.equal(tx.lens[0], 1400, 'full slot length after a shorter send');
});

/*
 * Sticky sources: the receiving address and interface come with each
 * datagram (IP_PKTINFO / IPV6_RECVPKTINFO), a datagram queued with a
 * source leaves from it, and one whose source the kernel refuses goes
 * again without it (src_refused says which).
 */
t.test('sticky sources: pktinfo in, pktinfo out, a refused source', async (t) => {
	/* A second local address of each family on lo. */
	const A4 = new Uint8Array([127, 0, 0, 7]);
	const A6 = Uint8Array.from([0xfd, 0, ...new Array<number>(13).fill(0), 7]);
	/* ip(8) forks from this thread, so it runs in the test's netns. */
	const ip = spawnSync('ip', ['-6', 'addr', 'add', 'fd00::7/128', 'dev', 'lo', 'nodad'], { encoding: 'utf8' });
	t.equal(ip.status, 0, 'fd00::7 on lo', { stderr: ip.stderr });
	const r4 = open(4, 0), r6 = open(6, 0), s4 = open(4, 0), s6 = open(6, 0);
	for (const [fd, lv, opt] of [[r4, IPPROTO_IP, IP_PKTINFO], [r6, IPPROTO_IPV6, IPV6_RECVPKTINFO],
	    [s4, IPPROTO_IP, IP_PKTINFO], [s6, IPPROTO_IPV6, IPV6_RECVPKTINFO]])
		t.equal(setsockopt_int(fd, lv, opt, 1), 0, 'pktinfo on');
	const rx = new MmsgRing(8, 2048, false, CMSG_SPACE_RX);
	const tx = new UdpTxBatch(8, 8 * 2048, true);
	const refused: number[] = [];
	tx.src_refused = (i) => refused.push(i);
	/* To 127.0.0.7 and fd00::7: the receiver learns those as the source to answer from. */
	tx.push(4, A4, udp_port(r4), 0, 10);
	tx.push(6, A6, udp_port(r6), 0, 11);
	t.equal(tx.flush(s4, s6), 2);
	t.equal(rx.recv(r4), 1);
	t.same([...rx.eps[0].src.subarray(0, 4)], [...A4], 'v4: the address it was sent to');
	t.equal(rx.eps[0].src_ifindex, 1, 'v4: arrived on lo');
	t.equal(rx.recv(r6), 1);
	t.same([...rx.eps[0].src], [...A6], 'v6: the address it was sent to');
	t.equal(rx.eps[0].src_ifindex, 1, 'v6: arrived on lo');
	/* Sent from 127.0.0.7 / fd00::7, to 127.0.0.1 / ::1: the receiver sees that source. */
	for (let i = 0; i < 3; i++)
		tx.push(4, LO4, udp_port(r4), 0, 100, A4, 1);
	tx.push(6, LO6, udp_port(r6), 0, 100, A6, 1);
	t.equal(tx.flush(s4, s6), 4, 'sent with their sources (a segmented run too)');
	t.equal(rx.recv(r4), 3, 'three datagrams (no GRO here)');
	t.same([...rx.eps[0].addr.subarray(0, 4)], [...A4], 'v4 left from the sticky source');
	t.equal(rx.recv(r6), 1);
	t.same([...rx.eps[0].addr], [...A6], 'v6 left from the sticky source');
	/* A source that is no local address: refused, sent again without it. */
	const gone4 = new Uint8Array([192, 0, 2, 9]);
	const gone6 = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 9]);
	tx.push(4, LO4, udp_port(r4), 0, 20, gone4, 1);
	tx.push(6, LO6, udp_port(r6), 0, 21, gone6, 1);
	t.equal(tx.flush(s4, s6), 2, 'both sent all the same');
	t.same(refused, [0, 1], 'and both refusals reported');
	t.equal(rx.recv(r4), 1);
	t.same([...rx.eps[0].addr.subarray(0, 4)], [...LO4], 'v4 left from the route\'s source');
	t.equal(rx.recv(r6), 1);
	t.same([...rx.eps[0].addr], [...LO6], 'v6 left from the route\'s source');
});

t.test('bad ring parameters', async (t) => {
	t.match(err(() => new MmsgRing(0)), { errno: EINVAL });
	t.match(err(() => new MmsgRing(4, 0)), { errno: EINVAL });
	const ring = new MmsgRing(4, 100);
	t.equal(ring.slot_size, 112, 'slots rounded up to 16 bytes');
	const ep = new Endpoint().set(4, LO4, 9);
	t.throws(() => ring.prep(4, ep, 0, 1), RangeError, 'slot past the end');
	t.throws(() => ring.prep(-1, ep, 0, 1), RangeError);
	t.throws(() => ring.prep(1.5, ep, 0, 1), RangeError);
	t.throws(() => ring.addr(4), RangeError);
	t.throws(() => ring.addr(0, 113), RangeError);
	t.equal(ring.addr(3, 112) - ring.addr(0), 4 * 112, 'the end of the last slot is addressable');
	const s4 = open(4, 0);
	ring.prep(0, ep, 100, 20);
	ring.prep_to(1, 4, new Uint8Array(2), 9, 0, 10);
	t.equal(ring.send(s4, -1, 2), 0, 'out-of-slot range and short address are dropped');
	t.equal(ring.dropped, 2);
	t.equal(ring.recv(s4, 0), 0, 'max 0');
});

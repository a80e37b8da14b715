// SPDX-License-Identifier: BSD-2-Clause
/*
 * Worker side of t_worker: the host bindings used from a worker_thread,
 * as the data path will use them - tun attach, interface ioctls, an
 * echo through the tun read with read_addr into a ring slot, and a UDP
 * batch.  Reports what it saw; t_worker asserts.
 */

import { parentPort } from 'node:worker_threads';
import { POLLIN, PollSet } from '../../../../sys/arch/linux/poll.js';
import { gettid, write } from '../../../../sys/arch/linux/libc.js';
import { if_addrs, if_get_mtu, if_set_up, in_addifaddr } from '../../../../sys/arch/linux/ifreq.js';
import { tun_attach, tun_detach } from '../../../../sys/arch/linux/tun.js';
import { Endpoint, MmsgRing, udp_close, udp_open, udp_port } from '../../../../sys/arch/linux/udp.js';
import { read_addr } from '../../../../sys/arch/linux/libc.js';
import { ip4_icmp_echo } from './pkt.js';

const port = parentPort;
if (port === null)
	throw new Error('not a worker');

const out: Record<string, unknown> = { tid: gettid() };
const tun = tun_attach('wgw0', { nonblock: true });
try {
	out.name = tun.name;
	out.mtu = if_get_mtu('wgw0');
	if_set_up('wgw0', true);
	in_addifaddr('wgw0', new Uint8Array([10, 77, 0, 1]), 24);
	out.addrs = if_addrs('wgw0').filter((a) => a.family === 4).map((a) => `${a.addr.join('.')}/${a.prefixlen}`);

	const ring = new MmsgRing(4, 2048);
	const req = ip4_icmp_echo(new Uint8Array([10, 77, 0, 2]), new Uint8Array([10, 77, 0, 1]), 9, 9, new Uint8Array(56));
	out.wrote = write(tun.fd, req, req.length);
	const ps = new PollSet(1);
	ps.add(tun.fd, POLLIN);
	out.reply = false;
	for (let i = 0; i < 30 && out.reply === false; i++) {
		if (ps.poll(100) <= 0)
			continue;
		const n = read_addr(tun.fd, ring.addr(0, 16), 2048 - 16);
		const p = ring.bufs[0].subarray(16, 16 + Math.max(n, 0));
		if (n > 0 && p[9] === 1 && p[20] === 0)
			out.reply = true;
	}

	const a = udp_open(6, 0), b = udp_open(6, 0);
	const lo = new Uint8Array(16);
	lo[15] = 1;
	const dst = new Endpoint().set(6, lo, udp_port(b));
	for (let i = 0; i < 4; i++) {
		ring.bufs[i][0] = i;
		ring.prep(i, dst, 0, 10 + i);
	}
	out.sent = ring.send(-1, a, 4);
	const rx = new MmsgRing(8, 2048);
	out.got = rx.recv(b);
	out.lens = Array.from(rx.lens.subarray(0, 4));
	out.from = rx.eps[0].toString() === `[::1]:${udp_port(a)}`;
	udp_close(a);
	udp_close(b);
} catch (e) {
	out.error = String(e);
} finally {
	tun_detach(tun.fd);
}
port.postMessage(out);

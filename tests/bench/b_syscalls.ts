// SPDX-License-Identifier: BSD-2-Clause
/*
 * Cost of the host bindings (sys/arch/linux) per call and per packet,
 * in a throwaway netns: a bare koffi call, a trivial syscall, UDP
 * sendto/sendmmsg/recvfrom/recvmmsg of 1420-byte datagrams over
 * loopback, and read/write of 1448-byte packets on a tun.  Only the
 * measured calls are inside the timed region; draining and refilling
 * happen outside it.  One JSON object per line.
 */

import koffi from 'koffi';
import { netns_create } from '../harness/netns_thread.js';
import { getppid, read_addr, stable_bytes, ptr_of, write_addr } from '../../sys/arch/linux/libc.js';
import { if_set_up, in_addifaddr } from '../../sys/arch/linux/ifreq.js';
import { POLLIN, PollSet } from '../../sys/arch/linux/poll.js';
import { tun_attach, tun_detach } from '../../sys/arch/linux/tun.js';
import { Endpoint, MmsgRing, UdpIo, udp_close, udp_open, udp_port } from '../../sys/arch/linux/udp.js';
import { ip4_udp } from '../sys/arch/linux/pkt.js';

const PKT = 1420;
const BATCH = 32;

function emit(metric: string, value: number, unit: string): void {
	console.log(JSON.stringify({ bench: 'syscalls', metric, value: Math.round(value * 10) / 10, unit }));
}

const now = (): number => Number(process.hrtime.bigint());

/* ns per call of f over n calls, after a warm-up. */
function per_call(n: number, f: () => unknown): number {
	for (let i = 0; i < Math.min(n, 20000); i++)
		f();
	const t0 = now();
	for (let i = 0; i < n; i++)
		f();
	return (now() - t0) / n;
}

/*
 * ns per packet where each round first prepares (untimed), then runs
 * the timed part, which returns how many packets it handled.
 */
function per_packet(rounds: number, prepare: () => void, timed: () => number): number {
	let ns = 0, pk = 0;
	for (let r = 0; r < rounds + 50; r++) {
		prepare();
		const t0 = now();
		const k = timed();
		if (r >= 50) {
			ns += now() - t0;
			pk += Math.max(k, 0);
		}
	}
	return pk > 0 ? ns / pk : NaN;
}

const ns = netns_create('bench');
const fds: number[] = [];
let tun_fd = -1;
try {
	ns.enter();

	const lib = koffi.load('libc.so.6');
	const abs = lib.func('int abs(int)') as (v: number) => number;
	emit('koffi_call_abs', per_call(2_000_000, () => abs(-5)), 'ns/call');
	emit('getppid', per_call(1_000_000, getppid), 'ns/call');

	const lo4 = new Uint8Array([127, 0, 0, 1]);
	const rfd = udp_open(4, 0, { nonblock: true });
	const sfd = udp_open(4, 0);
	fds.push(rfd, sfd);
	const rport = udp_port(rfd);
	const io = new UdpIo(sfd, -1);
	const rx = new MmsgRing(BATCH, 2048);
	const tx = new MmsgRing(BATCH, 1536);
	const dst = new Endpoint().set(4, lo4, rport);
	for (let i = 0; i < BATCH; i++)
		tx.prep(i, dst, 0, PKT);
	const out = new Uint8Array(new ArrayBuffer(2048));
	const drain = (): void => {
		while (rx.recv(rfd) > 0)
			;
	};

	emit('udp_sendto_1420', per_packet(2000, drain, () => {
		for (let i = 0; i < BATCH; i++)
			io.sendto(4, lo4, rport, out, 0, PKT);
		return BATCH;
	}), 'ns/pkt');
	emit('udp_sendmmsg_1420', per_packet(2000, drain, () => tx.send(sfd, -1, BATCH)), 'ns/pkt');

	const src = new Endpoint();
	emit('udp_recvfrom_1420', per_packet(2000, () => tx.send(sfd, -1, BATCH), () => {
		let k = 0;
		while (io.recvfrom(rfd, out, 0, 2048, src, 0) > 0)
			k++;
		return k;
	}), 'ns/pkt');
	emit('udp_recvmmsg_1420', per_packet(2000, () => tx.send(sfd, -1, BATCH), () => rx.recv(rfd)), 'ns/pkt');

	/* The alternative layout: koffi structs marshalled on every call. */
	{
		const iovec_t = koffi.struct('bench_iovec', { base: 'uintptr_t', len: 'size_t' });
		const msghdr_t = koffi.struct('bench_msghdr', {
			name: 'uintptr_t', namelen: 'uint32_t', iov: 'uintptr_t', iovlen: 'size_t',
			control: 'uintptr_t', controllen: 'size_t', flags: 'int',
		});
		const mmsghdr_t = koffi.struct('bench_mmsghdr', { hdr: msghdr_t, len: 'uint32_t' });
		void iovec_t;
		const recvmmsg_s = lib.func('recvmmsg', 'int', ['int', koffi.inout(koffi.pointer(mmsghdr_t)), 'unsigned int', 'int', 'void *']) as
			(fd: number, v: unknown[], n: number, fl: number, ts: null) => number;
		const data = stable_bytes(BATCH * 2048), names = stable_bytes(BATCH * 32), iovs = stable_bytes(BATCH * 16);
		const da = ptr_of(data), na = ptr_of(names), ia = ptr_of(iovs);
		const iw = new Uint32Array(iovs.buffer);
		for (let i = 0; i < BATCH; i++) {
			const a = da + i * 2048;
			iw[4 * i] = a >>> 0;
			iw[4 * i + 1] = (a - (a >>> 0)) / 0x100000000;
			iw[4 * i + 2] = 2048;
		}
		const vec = Array.from({ length: BATCH }, (_, i) => ({
			hdr: { name: na + 32 * i, namelen: 32, iov: ia + 16 * i, iovlen: 1, control: 0, controllen: 0, flags: 0 }, len: 0,
		}));
		emit('udp_recvmmsg_1420_koffi_structs', per_packet(1000, () => tx.send(sfd, -1, BATCH), () => {
			for (const m of vec)
				m.hdr.namelen = 32;
			return recvmmsg_s(rfd, vec, BATCH, 0x40, null);
		}), 'ns/pkt');
	}

	const ps = new PollSet(3);
	ps.add(rfd, POLLIN);
	ps.add(sfd, POLLIN);
	drain();
	emit('poll_3fds_timeout0', per_call(200_000, () => ps.poll(0)), 'ns/call');

	/* tun: writes go to our own address (a UDP socket that we drain), reads come from a route into it. */
	const tun = tun_attach('wgb0', { nonblock: true });
	tun_fd = tun.fd;
	if_set_up('wgb0', true);
	const me = new Uint8Array([10, 99, 0, 1]), peer = new Uint8Array([10, 99, 0, 2]);
	in_addifaddr('wgb0', me, 24);
	const sink = udp_open(4, 9999, { nonblock: true });
	fds.push(sink);
	const pkt = ip4_udp(peer, me, 5555, 9999, PKT);
	const slot = stable_bytes(2048);
	slot.set(pkt);
	const slot_a = ptr_of(slot);
	const sink_drain = (): void => {
		while (rx.recv(sink) > 0)
			;
	};
	emit('tun_write_1448', per_packet(2000, sink_drain, () => {
		for (let i = 0; i < BATCH; i++)
			write_addr(tun.fd, slot_a, pkt.length);
		return BATCH;
	}), 'ns/pkt');

	const to_tun = new Endpoint().set(4, peer, 7777);
	for (let i = 0; i < BATCH; i++)
		tx.prep(i, to_tun, 0, PKT);
	const rbuf = stable_bytes(2048);
	const rbuf_a = ptr_of(rbuf);
	emit('tun_read_1448', per_packet(2000, () => tx.send(sfd, -1, BATCH), () => {
		let k = 0;
		while (read_addr(tun.fd, rbuf_a, 2048) > 0)
			k++;
		return k;
	}), 'ns/pkt');
} finally {
	if (tun_fd >= 0)
		tun_detach(tun_fd);
	for (const fd of fds)
		udp_close(fd);
	ns.destroy();
}

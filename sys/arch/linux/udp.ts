// SPDX-License-Identifier: BSD-2-Clause
/*
 * UDP sockets for the wg listen port, and packet I/O on them without an
 * allocation or an exception per packet.
 *
 *  - udp_open()/udp_open_pair()/udp_port()/udp_set_mark() are control
 *    path: they throw an ErrnoError (sys/sys/errno.ts) with the errno.
 *  - UdpIo (one datagram per call) and MmsgRing (recvmmsg/sendmmsg over
 *    a ring of preallocated slots) return a count or -errno.  Their
 *    sockaddr buffers, struct mmsghdr and iovec arrays live in memory
 *    allocated once, whose addresses are written into the structs by
 *    hand (x86_64 layouts below); a call costs one koffi call.
 *
 * The v6 socket is IPV6_V6ONLY, as in wireguard-go and Linux wg: IPv4
 * peers go through the v4 socket, so an endpoint's family picks the fd.
 */

import {
	LINUX_AF_INET, LINUX_AF_INET6, EADDRINUSE, EAFNOSUPPORT, EINVAL, EMSGSIZE, IPPROTO_IP, IPPROTO_IPV6,
	IPV6_V6ONLY, MSG_DONTWAIT, MSG_TRUNC, SOCK_DGRAM, SOCK_NONBLOCK, SOL_SOCKET,
	SO_MARK, SO_RCVBUF, SO_RCVBUFFORCE, SO_SNDBUF, SO_SNDBUFFORCE, ErrnoError, syserr, bind,
	check, close, getsockname, ptr_of, recvfrom_addr, recvmmsg_addr, sendmmsg_addr,
	sendto_addr, setsockopt_int, socket, stable_bytes,
} from './libc.js';
import { inet_ntop6 } from '../../../lib/libc/inet.js';

export const SIZEOF_SOCKADDR_IN = 16;
export const SIZEOF_SOCKADDR_IN6 = 28;
export const NAME_SLOT = 32;		/* room for a sockaddr_in6, 8-aligned */
export const SIZEOF_MMSGHDR = 64;	/* struct msghdr (56) + msg_len + pad */
export const SIZEOF_IOVEC = 16;
/* 32-bit word indices into a struct mmsghdr (x86_64). */
export const MH_NAME = 0, MH_NAMELEN = 2, MH_IOV = 4, MH_IOVLEN = 6, MH_CONTROL = 8, MH_CONTROLLEN = 10,
	MH_FLAGS = 12, MH_LEN = 14;

/* <linux/udp.h>: socket options and cmsg types at level SOL_UDP. */
export const SOL_UDP = 17;
export const UDP_SEGMENT = 103;
export const UDP_GRO = 104;
/*
 * <linux/in.h>, <linux/in6.h>: the receiving address of a datagram, and
 * the source to send one from (sticky sources).  struct in_pktinfo is
 * { int ifindex; in_addr spec_dst; in_addr addr }, struct in6_pktinfo
 * { in6_addr addr; int ifindex }.
 */
export const IP_PKTINFO = 8;
export const IPV6_RECVPKTINFO = 49;
export const IPV6_PKTINFO = 50;
export const SIZEOF_IN_PKTINFO = 12;
export const SIZEOF_IN6_PKTINFO = 20;
/* struct cmsghdr: size_t cmsg_len; int cmsg_level; int cmsg_type; data 8-aligned. */
export const CMSG_HDRLEN = 16;
/* CMSG_SPACE of an in_pktinfo / in6_pktinfo. */
export const CMSG_SPACE_PKTINFO4 = 32;
export const CMSG_SPACE_PKTINFO6 = 40;
/* Per received message: UDP_GRO's int (24) and an in6_pktinfo (40), the larger pktinfo. */
export const CMSG_SPACE_RX = 64;

/* Default socket buffers: what wireguard-go asks for (7 MiB). */
export const UDP_SOCKBUF = 7 << 20;

/* --- endpoints --- */

/*
 * A UDP endpoint, mutable so receive paths can fill one in place.
 * addr holds 4 bytes (IPv4, in addr[0..4)) or 16 bytes (IPv6).
 */
export class Endpoint {
	family: 0 | 4 | 6 = 0;
	readonly addr = new Uint8Array(16);
	port = 0;
	scope_id = 0;
	/* After MmsgRing.recv on a socket with pktinfo on: the local address it came to, and the interface; 0: unknown. */
	readonly src = new Uint8Array(16);
	src_ifindex = 0;

	set(family: 4 | 6, addr: Uint8Array, port: number, scope_id = 0): this {
		this.family = family;
		this.addr.fill(0);
		this.addr.set(addr.subarray(0, family === 4 ? 4 : 16));
		this.port = port;
		this.scope_id = scope_id;
		return this;
	}

	copy(from: Endpoint): this {
		this.family = from.family;
		this.addr.set(from.addr);
		this.port = from.port;
		this.scope_id = from.scope_id;
		this.src.set(from.src);
		this.src_ifindex = from.src_ifindex;
		return this;
	}

	equals(o: Endpoint): boolean {
		if (this.family !== o.family || this.port !== o.port)
			return false;
		const n = this.family === 4 ? 4 : 16;
		for (let i = 0; i < n; i++)
			if (this.addr[i] !== o.addr[i])
				return false;
		return this.family !== 6 || this.scope_id === o.scope_id;
	}

	/* "192.0.2.1:51820" or "[2001:db8::1]:51820" (scope as %N). */
	toString(): string {
		if (this.family === 4)
			return `${this.addr.subarray(0, 4).join('.')}:${this.port}`;
		if (this.family === 6)
			return `[${in6_ntoa(this.addr)}${this.scope_id ? '%' + this.scope_id : ''}]:${this.port}`;
		return '(none)';
	}
}

/* RFC 5952 text form of a 16-byte address (lib/libc's inet_ntop6). */
export const in6_ntoa = inet_ntop6;

/*
 * Writes a sockaddr_in or sockaddr_in6 for ep at b[off]; returns its
 * length, or 0 for an endpoint without a family.  Byte stores only: no
 * DataView per packet.
 */
export function sockaddr_put(b: Uint8Array, off: number, family: number, addr: Uint8Array, port: number, scope_id = 0): number {
	if (family === 4) {
		b[off] = LINUX_AF_INET;
		b[off + 1] = 0;
		b[off + 2] = port >>> 8;
		b[off + 3] = port & 0xff;
		b[off + 4] = addr[0];
		b[off + 5] = addr[1];
		b[off + 6] = addr[2];
		b[off + 7] = addr[3];
		for (let i = 8; i < 16; i++)
			b[off + i] = 0;
		return SIZEOF_SOCKADDR_IN;
	}
	if (family === 6) {
		b[off] = LINUX_AF_INET6;
		b[off + 1] = 0;
		b[off + 2] = port >>> 8;
		b[off + 3] = port & 0xff;
		b[off + 4] = b[off + 5] = b[off + 6] = b[off + 7] = 0;
		for (let i = 0; i < 16; i++)
			b[off + 8 + i] = addr[i];
		b[off + 24] = scope_id & 0xff;
		b[off + 25] = (scope_id >>> 8) & 0xff;
		b[off + 26] = (scope_id >>> 16) & 0xff;
		b[off + 27] = scope_id >>> 24;
		return SIZEOF_SOCKADDR_IN6;
	}
	return 0;
}

/* Decodes the sockaddr at b[off] into ep; false (ep.family = 0) if it is neither inet family. */
export function sockaddr_get(b: Uint8Array, off: number, ep: Endpoint): boolean {
	const fam = b[off] | (b[off + 1] << 8);
	const a = ep.addr;
	ep.port = (b[off + 2] << 8) | b[off + 3];
	if (fam === LINUX_AF_INET) {
		ep.family = 4;
		a[0] = b[off + 4];
		a[1] = b[off + 5];
		a[2] = b[off + 6];
		a[3] = b[off + 7];
		ep.scope_id = 0;
		return true;
	}
	if (fam === LINUX_AF_INET6) {
		ep.family = 6;
		for (let i = 0; i < 16; i++)
			a[i] = b[off + 8 + i];
		ep.scope_id = (b[off + 24] | (b[off + 25] << 8) | (b[off + 26] << 16) | (b[off + 27] << 24)) >>> 0;
		return true;
	}
	ep.family = 0;
	ep.port = 0;
	return false;
}

/* --- sockets (control path: throw ErrnoError) --- */

export interface udp_opts {
	nonblock?: boolean;	/* SOCK_NONBLOCK (default: blocking) */
	sockbuf?: number;	/* SO_RCVBUF/SO_SNDBUF bytes, default UDP_SOCKBUF */
	rcvbuf?: number;	/* SO_RCVBUF bytes alone, default sockbuf */
	mark?: number;		/* SO_MARK, if non-zero */
	loopback?: boolean;	/* bound to 127.0.0.1 or ::1 instead of the wildcard */
}

function any_sockaddr(family: 4 | 6, port: number, loopback = false): Uint8Array {
	const sa = new Uint8Array(family === 4 ? SIZEOF_SOCKADDR_IN : SIZEOF_SOCKADDR_IN6);
	const a = new Uint8Array(16);
	if (loopback) {
		if (family === 4)
			a.set([127, 0, 0, 1]);
		else
			a[15] = 1;
	}
	sockaddr_put(sa, 0, family, a, port);
	return sa;
}

/* FORCE variants pass rmem_max/wmem_max with CAP_NET_ADMIN; plain ones are capped by them. */
function set_sockbuf(fd: number, size: number, rcv: number): void {
	if (setsockopt_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, rcv) < 0)
		setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, rcv);
	if (setsockopt_int(fd, SOL_SOCKET, SO_SNDBUFFORCE, size) < 0)
		setsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, size);
}

/*
 * A UDP socket bound to INADDR_ANY or in6addr_any:port (0: the kernel
 * picks; read it back with udp_port()).  IPv6 sockets are V6ONLY.
 * Throws ErrnoError: EADDRINUSE when the port is taken, EAFNOSUPPORT
 * where the kernel has no IPv6.
 */
export function udp_open(family: 4 | 6, port: number, opts: udp_opts = {}): number {
	if ((family !== 4 && family !== 6) || !Number.isInteger(port) || port < 0 || port > 65535)
		throw syserr('udp_open', EINVAL, `family ${family} port ${port}`);
	const fd = check(socket(family === 4 ? LINUX_AF_INET : LINUX_AF_INET6, SOCK_DGRAM | (opts.nonblock ? SOCK_NONBLOCK : 0), 0),
	    'socket', family === 4 ? 'AF_INET' : 'AF_INET6');
	try {
		if (family === 6)
			check(setsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1), 'setsockopt(IPV6_V6ONLY)');
		const size = opts.sockbuf ?? UDP_SOCKBUF;
		set_sockbuf(fd, size, opts.rcvbuf ?? size);
		if (opts.mark)
			udp_set_mark(fd, opts.mark);
		const sa = any_sockaddr(family, port, opts.loopback);
		check(bind(fd, sa, sa.length), 'bind', opts.loopback ? (family === 4 ? `127.0.0.1:${port}` : `[::1]:${port}`) :
		    family === 4 ? `0.0.0.0:${port}` : `[::]:${port}`);
		return fd;
	} catch (e) {
		close(fd);
		throw e;
	}
}

/* The port the socket is bound to. */
export function udp_port(fd: number): number {
	const sa = new Uint8Array(NAME_SLOT);
	const len = new Uint32Array([NAME_SLOT]);
	check(getsockname(fd, sa, len), 'getsockname', `fd ${fd}`);
	return (sa[2] << 8) | sa[3];
}

/* SO_MARK (0 clears it); needs CAP_NET_ADMIN. */
export function udp_set_mark(fd: number, mark: number): void {
	check(setsockopt_int(fd, SOL_SOCKET, SO_MARK, mark | 0), 'setsockopt(SO_MARK)', `fd ${fd}`);
}

export function udp_close(fd: number): number {
	return close(fd);
}

export interface udp_pair {
	fd4: number;	/* -1 if IPv4 is unavailable */
	fd6: number;	/* -1 if IPv6 is unavailable */
	port: number;
}

/*
 * The listen port pair: a v4 and a v6 socket on the same port.  With
 * port 0 the v4 socket takes whatever the kernel picks and the v6 one
 * follows; if that port is busy for v6, start over (a few tries).
 */
export function udp_open_pair(port: number, opts: udp_opts = {}): udp_pair {
	for (let tries = 0; ; tries++) {
		let fd4 = -1;
		try {
			fd4 = udp_open(4, port, opts);
		} catch (e) {
			if (!(e instanceof ErrnoError) || e.errno !== EAFNOSUPPORT)
				throw e;
		}
		const p = fd4 >= 0 ? udp_port(fd4) : port;
		try {
			const fd6 = udp_open(6, p, opts);
			return { fd4, fd6, port: udp_port(fd6) };
		} catch (e) {
			if (e instanceof ErrnoError && e.errno === EAFNOSUPPORT && fd4 >= 0)
				return { fd4, fd6: -1, port: p };
			if (fd4 >= 0)
				close(fd4);
			if (!(e instanceof ErrnoError) || e.errno !== EADDRINUSE || port !== 0 || tries >= 9)
				throw e;
		}
	}
}

/* --- addresses of caller buffers --- */

/*
 * Maps a caller's buffer to its address: the last one hit is compared
 * first (the data path reuses one or two buffers), then a WeakMap.
 */
class PtrCache {
	private last: Uint8Array | null = null;
	private last_addr = 0;
	private readonly map = new WeakMap<Uint8Array, number>();

	addr(b: Uint8Array): number {
		if (b === this.last)
			return this.last_addr;
		let a = this.map.get(b);
		if (a === undefined) {
			a = ptr_of(b);
			this.map.set(b, a);
		}
		this.last = b;
		this.last_addr = a;
		return a;
	}
}

/* Writes a 64-bit pointer (as a number) at 32-bit word index i. */
export function put_ptr(w: Uint32Array, i: number, p: number): void {
	const lo = p >>> 0;
	w[i] = lo;
	w[i + 1] = (p - lo) / 0x100000000;
}

/* --- single datagrams --- */

/*
 * sendto/recvfrom with preallocated sockaddrs.  Buffers passed in must
 * live in an ArrayBuffer or SharedArrayBuffer that is never transferred
 * (their address is cached).  Returns bytes or -errno.
 */
export class UdpIo {
	fd4: number;
	fd6: number;
	private readonly sa: Uint8Array;	/* [0,32) send name, [32,64) recv name, [64,68) socklen */
	private readonly sa_addr: number;
	private readonly salen: Uint32Array;
	private readonly ptrs = new PtrCache();

	constructor(fd4: number, fd6: number) {
		this.fd4 = fd4;
		this.fd6 = fd6;
		this.sa = stable_bytes(2 * NAME_SLOT + 8);
		this.sa_addr = ptr_of(this.sa);
		this.salen = new Uint32Array(this.sa.buffer, 2 * NAME_SLOT, 1);
	}

	/* Sends buf[off, off+len) to addr:port through the family's socket. */
	sendto(family: 4 | 6, addr: Uint8Array, port: number, buf: Uint8Array, off: number, len: number, scope_id = 0): number {
		const fd = family === 4 ? this.fd4 : this.fd6;
		if (fd < 0)
			return -EAFNOSUPPORT;
		if (off < 0 || len < 0 || off + len > buf.length || addr.length < (family === 4 ? 4 : 16))
			return -EINVAL;
		const sl = sockaddr_put(this.sa, 0, family, addr, port, scope_id);
		if (sl === 0)
			return -EAFNOSUPPORT;
		return sendto_addr(fd, this.ptrs.addr(buf) + off, len, 0, this.sa_addr, sl);
	}

	send_ep(ep: Endpoint, buf: Uint8Array, off: number, len: number): number {
		if (ep.family === 0)
			return -EAFNOSUPPORT;
		return this.sendto(ep.family, ep.addr, ep.port, buf, off, len, ep.scope_id);
	}

	/*
	 * Receives one datagram from fd into buf[off, off+maxlen), filling
	 * src in place.  A datagram longer than maxlen is -EMSGSIZE (and
	 * consumed).  flags: MSG_DONTWAIT to not block on a blocking fd.
	 */
	recvfrom(fd: number, buf: Uint8Array, off: number, maxlen: number, src: Endpoint, flags = 0): number {
		if (off < 0 || maxlen < 0 || off + maxlen > buf.length)
			return -EINVAL;
		this.salen[0] = NAME_SLOT;
		const r = recvfrom_addr(fd, this.ptrs.addr(buf) + off, maxlen, flags | MSG_TRUNC,
		    this.sa_addr + NAME_SLOT, this.sa_addr + 2 * NAME_SLOT);
		if (r < 0)
			return r;
		sockaddr_get(this.sa, NAME_SLOT, src);
		return r > maxlen ? -EMSGSIZE : r;
	}
}

/* --- batches --- */

/*
 * N slots of slot_size bytes each, with one struct mmsghdr, iovec and
 * sockaddr per slot, in one ArrayBuffer allocated at construction.
 *
 * Receiving: recv(fd) fills slots 0..k-1: lens[i] bytes at bufs[i]
 * (-EMSGSIZE for a truncated datagram, to be dropped) from eps[i].
 * Sending: prep(i, ep, off, len) for slots 0..k-1, then send(fd4, fd6, k).
 * A ring may do both, but the data path keeps one per direction.
 */
export class MmsgRing {
	readonly n: number;
	readonly slot_size: number;
	readonly data: Uint8Array;	/* all slots, n * slot_size bytes */
	readonly bufs: Uint8Array[];	/* bufs[i]: view of slot i */
	readonly lens: Int32Array;	/* after recv: length or -EMSGSIZE per slot */
	readonly eps: Endpoint[];	/* after recv: source; for send: set by prep */
	/*
	 * After recv on a ring made with control space: the segment size of
	 * a UDP_GRO train (lens[i] bytes of segs[i]-byte datagrams, the last
	 * maybe shorter), 0 for a single datagram.
	 */
	readonly segs: Uint16Array;
	/* errno of the last failed message in send() (0 if none), and how many were dropped. */
	last_errno = 0;
	dropped = 0;

	private readonly mem: Uint8Array;
	private readonly w: Uint32Array;
	private readonly vec_addr: number;
	private readonly names_off: number;
	private readonly names_addr: number;
	private readonly data_addr: number;
	private readonly fam: Uint8Array;	/* per slot: 4 or 6, set by prep */
	private readonly control_off: number;
	private readonly control: number;	/* cmsg bytes per slot, 0 for none */
	private dirty = true;		/* iovecs not in receive shape */
	/*
	 * Slots [0, stale) have had msg_namelen / msg_controllen changed by
	 * the kernel (the last recv filled them) or by prep: recv() resets
	 * those only, so an idle wakeup touches one slot's header, not all.
	 */
	private stale = 0;

	/* control: bytes of cmsg space per slot for recv (CMSG_SPACE_RX), 0 for none. */
	constructor(n = 64, slot_size = 2048, shared = false, control = 0) {
		if (!Number.isInteger(n) || n < 1 || n > 1024 || !Number.isInteger(slot_size) || slot_size < 1 || slot_size > (1 << 20))
			throw syserr('MmsgRing', EINVAL, `n ${n} slot_size ${slot_size}`);
		slot_size = (slot_size + 15) & ~15;
		this.n = n;
		this.slot_size = slot_size;
		const iov_off = n * SIZEOF_MMSGHDR;
		this.names_off = iov_off + n * SIZEOF_IOVEC;
		this.control = (control + 7) & ~7;
		this.control_off = this.names_off + n * NAME_SLOT;
		const data_off = this.control_off + n * this.control;
		this.mem = stable_bytes(data_off + n * slot_size, shared);
		this.w = new Uint32Array(this.mem.buffer);
		const base = ptr_of(this.mem);
		this.vec_addr = base;
		this.names_addr = base + this.names_off;
		this.data_addr = base + data_off;
		this.data = this.mem.subarray(data_off);
		this.bufs = [];
		this.eps = [];
		for (let i = 0; i < n; i++) {
			this.bufs.push(this.data.subarray(i * slot_size, (i + 1) * slot_size));
			this.eps.push(new Endpoint());
			const m = (i * SIZEOF_MMSGHDR) >> 2;
			put_ptr(this.w, m, this.names_addr + i * NAME_SLOT);	/* msg_name */
			this.w[m + 2] = NAME_SLOT;				/* msg_namelen */
			put_ptr(this.w, m + 4, base + iov_off + i * SIZEOF_IOVEC);	/* msg_iov */
			this.w[m + 6] = 1;					/* msg_iovlen */
			if (this.control > 0)
				put_ptr(this.w, m + MH_CONTROL, base + this.control_off + i * this.control);
		}
		this.segs = new Uint16Array(n);
		this.lens = new Int32Array(n);
		this.fam = new Uint8Array(n);
		this.reset_iov();
	}

	/* The address of slot i's byte off, for read_addr/write_addr on a tun. */
	addr(i: number, off = 0): number {
		this.check_slot(i);
		if (off < 0 || off > this.slot_size)
			throw new RangeError(`MmsgRing: offset ${off} outside a ${this.slot_size}-byte slot`);
		return this.data_addr + i * this.slot_size + off;
	}

	/*
	 * A slot index out of range would aim the kernel at memory outside
	 * the ring: a programming error, thrown as such.
	 */
	private check_slot(i: number): void {
		if (!(i >= 0 && i < this.n) || (i | 0) !== i)
			throw new RangeError(`MmsgRing: slot ${i} outside 0..${this.n - 1}`);
	}

	private iov_set(i: number, off: number, len: number): void {
		const v = (this.n * SIZEOF_MMSGHDR + i * SIZEOF_IOVEC) >> 2;
		put_ptr(this.w, v, this.data_addr + i * this.slot_size + off);
		this.w[v + 2] = len;
		this.w[v + 3] = 0;
	}

	private reset_iov(): void {
		for (let i = 0; i < this.n; i++)
			this.iov_set(i, 0, this.slot_size);
		this.dirty = false;
		this.stale = this.n;
	}

	/*
	 * One recvmmsg(2) of up to max datagrams: their count, or -errno
	 * (-EAGAIN when nothing is queued).  The default MSG_DONTWAIT suits
	 * a poll() loop; without it a blocking fd waits for all max (add
	 * MSG_WAITFORONE to wait for the first only).
	 */
	recv(fd: number, max = this.n, flags = MSG_DONTWAIT): number {
		if (this.dirty)
			this.reset_iov();
		if (max > this.n)
			max = this.n;
		if (!(max >= 1))
			return 0;
		max |= 0;
		const w = this.w;
		const ctl = this.control;
		for (let i = 0; i < this.stale; i++) {
			const m = (i * SIZEOF_MMSGHDR) >> 2;
			w[m + MH_NAMELEN] = NAME_SLOT;
			w[m + MH_CONTROLLEN] = ctl;
		}
		this.stale = 0;
		const k = recvmmsg_addr(fd, this.vec_addr, max, flags, 0);
		if (k <= 0)
			return k;
		this.stale = k;
		for (let i = 0; i < k; i++) {
			const m = (i * SIZEOF_MMSGHDR) >> 2;
			this.lens[i] = (w[m + MH_FLAGS] & MSG_TRUNC) !== 0 ? -EMSGSIZE : w[m + MH_LEN];
			sockaddr_get(this.mem, this.names_off + i * NAME_SLOT, this.eps[i]);
			this.segs[i] = ctl > 0 ? this.cmsg_parse(i, w[m + MH_CONTROLLEN]) : 0;
		}
		return k;
	}

	/*
	 * Walks slot i's control messages (clen bytes): what the data path
	 * needs from them: the UDP_GRO segment size (returned) and the
	 * address and interface the datagram came to (into eps[i].src).
	 */
	private cmsg_parse(i: number, clen: number): number {
		const b = this.mem;
		const base = this.control_off + i * this.control;
		const ep = this.eps[i];
		let seg = 0;
		ep.src_ifindex = 0;
		for (let o = 0; o + CMSG_HDRLEN <= clen;) {
			const p = base + o;
			const len = b[p] | (b[p + 1] << 8) | (b[p + 2] << 16);
			if (len < CMSG_HDRLEN || o + len > clen)
				break;
			const level = b[p + 8] | (b[p + 9] << 8);
			const type = b[p + 12] | (b[p + 13] << 8);
			if (level === SOL_UDP && type === UDP_GRO && len >= CMSG_HDRLEN + 2) {
				seg = b[p + 16] | (b[p + 17] << 8);
			} else if (level === IPPROTO_IP && type === IP_PKTINFO && len >= CMSG_HDRLEN + SIZEOF_IN_PKTINFO) {
				/* spec_dst: the local address to answer from (the destination, for unicast). */
				ep.src_ifindex = (b[p + 16] | (b[p + 17] << 8) | (b[p + 18] << 16) | (b[p + 19] << 24)) >>> 0;
				ep.src[0] = b[p + 20];
				ep.src[1] = b[p + 21];
				ep.src[2] = b[p + 22];
				ep.src[3] = b[p + 23];
			} else if (level === IPPROTO_IPV6 && type === IPV6_PKTINFO && len >= CMSG_HDRLEN + SIZEOF_IN6_PKTINFO) {
				for (let k = 0; k < 16; k++)
					ep.src[k] = b[p + 16 + k];
				ep.src_ifindex = (b[p + 32] | (b[p + 33] << 8) | (b[p + 34] << 16) | (b[p + 35] << 24)) >>> 0;
			}
			o += (len + 7) & ~7;
		}
		return seg;
	}

	/* Queues bufs[i][off, off+len) for ep (copied into the slot's sockaddr). */
	prep(i: number, ep: Endpoint, off: number, len: number): void {
		this.prep_to(i, ep.family, ep.addr, ep.port, off, len, ep.scope_id);
		if (ep !== this.eps[i])
			this.eps[i].copy(ep);
	}

	prep_to(i: number, family: number, addr: Uint8Array, port: number, off: number, len: number, scope_id = 0): void {
		this.check_slot(i);
		const m = (i * SIZEOF_MMSGHDR) >> 2;
		this.w[m + 2] = sockaddr_put(this.mem, this.names_off + i * NAME_SLOT, family, addr, port, scope_id);
		this.fam[i] = family === 4 || family === 6 ? family : 0;
		if (off < 0 || len < 0 || off + len > this.slot_size || addr.length < (family === 4 ? 4 : 16)) {
			/* Out of the slot, or a short address: send() drops it. */
			len = 0;
			off = 0;
			this.fam[i] = 0;
		}
		this.iov_set(i, off, len);
		this.dirty = true;
	}

	/*
	 * Sends slots 0..count-1, each through fd4 or fd6 by its family,
	 * with one sendmmsg(2) per run of same-family slots.  A message the
	 * kernel refuses is dropped (counted in dropped, errno kept in
	 * last_errno) and the rest still go.  Returns the number sent.
	 */
	send(fd4: number, fd6: number, count: number): number {
		if (count > this.n)
			count = this.n;
		let sent = 0;
		count |= 0;
		let i = 0;
		this.last_errno = 0;
		while (i < count) {
			const f = this.fam[i];
			let j = i + 1;
			while (j < count && this.fam[j] === f)
				j++;
			const fd = f === 4 ? fd4 : f === 6 ? fd6 : -1;
			if (fd < 0) {
				this.dropped += j - i;
				this.last_errno = EAFNOSUPPORT;
				i = j;
				continue;
			}
			while (i < j) {
				const r = sendmmsg_addr(fd, this.vec_addr + i * SIZEOF_MMSGHDR, j - i, 0);
				if (r <= 0) {
					/* The first message failed: drop it, go on with the next. */
					this.last_errno = r < 0 ? -r : EINVAL;
					this.dropped++;
					i++;
				} else {
					sent += r;
					i += r;
				}
			}
		}
		return sent;
	}
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * tun(4)-style attach on Linux: open /dev/net/tun and TUNSETIFF it into
 * an IFF_TUN interface without packet information, so one read() is one
 * IP packet and one write() injects one.  The interface exists as long
 * as a file descriptor is attached (it is not made persistent):
 * tun_detach() closing the last one makes it disappear, and so does the
 * death of the process.  After `ip link del` the fd stays open but
 * read() and write() fail with EBADFD (77) and poll() reports POLLERR:
 * the driver takes that as the interface having been destroyed.
 *
 * The tun belongs to the network namespace of the thread that calls
 * tun_attach().  Failures throw an ErrnoError (sys/sys/errno.ts).
 */

import { fstatSync, statSync } from 'node:fs';

import {
	CLONE_NEWNET, EINVAL, LINUX_AF_INET, O_NONBLOCK, O_RDONLY, O_RDWR, SOCK_DGRAM, check, close, ioctl, ioctl_int,
	open, setns, socket, syserr, set_nonblock,
} from './libc.js';
import { IFNAMSIZ, LINUX_IFF_UP, SIZEOF_IFREQ, if_get_flags, if_get_mtu, if_set_mtu } from './ifreq.js';
import { WG_DEFAULT_MTU } from '../../net/wg/messages.js';

/* <linux/if_tun.h>: _IOW('T', 202, int) and friends. */
export const TUNSETIFF = 0x400454ca;
export const TUNSETPERSIST = 0x400454cb;
export const TUNGETIFF = 0x800454d2;
export const TUNSETOFFLOAD = 0x400454d0;
export const TUNSETVNETHDRSZ = 0x400454d8;
export const TUNGETDEVNETNS = 0x54e3;	/* _IO('T', 227), Linux 5.2: an fd of the interface's netns */

export const IFF_TUN = 0x0001;
export const IFF_MULTI_QUEUE = 0x0100;
export const IFF_NO_PI = 0x1000;
export const IFF_VNET_HDR = 0x4000;

/* TUNSETOFFLOAD features. */
export const TUN_F_CSUM = 0x01;
export const TUN_F_TSO4 = 0x02;
export const TUN_F_TSO6 = 0x04;
export const TUN_F_TSO_ECN = 0x08;
export const TUN_F_USO4 = 0x20;
export const TUN_F_USO6 = 0x40;

export interface tun_opts {
	nonblock?: boolean;	/* O_NONBLOCK on the fd (default: blocking) */
	mtu?: number;		/* set after attach; default WG_DEFAULT_MTU; 0 keeps the kernel's */
	multi_queue?: boolean;	/* IFF_MULTI_QUEUE: attach again by name for more queues */
	vnet_hdr?: boolean;	/* IFF_VNET_HDR: each packet carries a struct virtio_net_hdr */
}

export interface tun_handle {
	fd: number;
	name: string;	/* the kernel's name: "wg%d" comes back numbered */
}

/*
 * Creates (or, with multi_queue, attaches one more queue to) the tun
 * interface `name`.  A name ending in %d lets the kernel number it.
 */
export function tun_attach(name: string, opts: tun_opts = {}): tun_handle {
	const call = 'ioctl(TUNSETIFF)';
	const nb = new TextEncoder().encode(name);
	if (nb.length === 0 || nb.length >= IFNAMSIZ || nb.includes(0))
		throw syserr(call, EINVAL, JSON.stringify(name));
	const fd = check(open('/dev/net/tun', O_RDWR | (opts.nonblock ? O_NONBLOCK : 0)), 'open', '/dev/net/tun');
	try {
		const ifr = new Uint8Array(SIZEOF_IFREQ);
		ifr.set(nb, 0);
		let flags = IFF_TUN | IFF_NO_PI;
		if (opts.multi_queue)
			flags |= IFF_MULTI_QUEUE;
		if (opts.vnet_hdr)
			flags |= IFF_VNET_HDR;
		new DataView(ifr.buffer).setUint16(IFNAMSIZ, flags, true);
		check(ioctl(fd, TUNSETIFF, ifr), call, name);
		const z = ifr.indexOf(0);
		const kname = new TextDecoder().decode(ifr.subarray(0, z < 0 || z > IFNAMSIZ ? IFNAMSIZ : z));
		const mtu = opts.mtu ?? WG_DEFAULT_MTU;
		if (mtu > 0)
			if_set_mtu(kname, mtu);
		return { fd, name: kname };
	} catch (e) {
		close(fd);
		throw e;
	}
}

/* Closes the queue; the interface goes away with its last queue.  0 or -errno. */
export function tun_detach(fd: number): number {
	return close(fd);
}

/* Switches the fd between blocking and non-blocking reads. */
export function tun_set_nonblock(fd: number, on: boolean): void {
	check(set_nonblock(fd, on), 'fcntl(F_SETFL)', 'tun');
}

/* TUNSETOFFLOAD: which offloads the reader accepts (needs vnet_hdr). */
export function tun_set_offload(fd: number, features: number): void {
	check(ioctl_int(fd, TUNSETOFFLOAD, features), 'ioctl(TUNSETOFFLOAD)', 'tun');
}

/*
 * Offloads on a tun attached with vnet_hdr: the 10-byte header, then
 * checksum + TSO4/6 and, where the kernel has them (Linux 6.2), USO4/6.
 * Returns the TUN_F_* set accepted, or -errno when even TSO is refused
 * (the header then still comes, without super-packets).
 */
export function tun_offload_enable(fd: number): number {
	const v = new Int32Array([10]);
	const r = ioctl(fd, TUNSETVNETHDRSZ, v);
	if (r < 0)
		return r;
	const tso = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	const all = tso | TUN_F_USO4 | TUN_F_USO6;
	if (ioctl_int(fd, TUNSETOFFLOAD, all) === 0)
		return all;
	const r2 = ioctl_int(fd, TUNSETOFFLOAD, tso);
	return r2 < 0 ? r2 : tso;
}

export interface tun_link {
	name: string;	/* its name now (it may have been renamed where it went) */
	up: boolean;	/* IFF_UP */
	mtu: number;
	moved: boolean;	/* in another netns than the calling thread */
}

/*
 * The tun's interface as it is now, wherever it is.  `ip link set wgN
 * netns X` takes the interface out of the namespace where the instance
 * looks for it by name, but the fd still leads to it: TUNGETIFF gives
 * its current name, TUNGETDEVNETNS its namespace, and a socket made in
 * that namespace answers SIOCGIFFLAGS and SIOCGIFMTU there.  The thread
 * enters the namespace only for the socket(2) call (a netns is per
 * thread), and the socket is closed again at once: nothing of ours
 * keeps a namespace alive after it is deleted.  Throws ErrnoError.
 */
export function tun_link_state(fd: number): tun_link {
	const ifr = new Uint8Array(SIZEOF_IFREQ);
	check(ioctl(fd, TUNGETIFF, ifr), 'ioctl(TUNGETIFF)', 'tun');
	const z = ifr.indexOf(0);
	const name = new TextDecoder().decode(ifr.subarray(0, z < 0 || z > IFNAMSIZ ? IFNAMSIZ : z));
	const nsfd = check(ioctl_int(fd, TUNGETDEVNETNS, 0), 'ioctl(TUNGETDEVNETNS)', name);
	let so = -1;
	try {
		const moved = fstatSync(nsfd).ino !== statSync('/proc/thread-self/ns/net').ino;
		if (moved)
			so = socket_in(nsfd);
		return { name, up: (if_get_flags(name, so) & LINUX_IFF_UP) !== 0, mtu: if_get_mtu(name, so), moved };
	} finally {
		if (so >= 0)
			close(so);
		close(nsfd);
	}
}

/* A datagram socket made in the netns open at nsfd; the thread is back in its own before this returns. */
function socket_in(nsfd: number): number {
	const self = check(open('/proc/thread-self/ns/net', O_RDONLY), 'open', '/proc/thread-self/ns/net');
	try {
		check(setns(nsfd, CLONE_NEWNET), 'setns', 'the tun\'s netns');
		const so = socket(LINUX_AF_INET, SOCK_DGRAM, 0);
		check(setns(self, CLONE_NEWNET), 'setns', 'back');
		return check(so, 'socket', 'AF_INET (the tun\'s netns)');
	} finally {
		close(self);
	}
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * rtnetlink(7) as a change bell: a NETLINK_ROUTE socket subscribed to
 * the host's address and route changes, or to its links'.  The data
 * path only needs to know that something changed (its sticky sources
 * may have gone stale, or the host took the interface up or down:
 * sys/net/if_wg_intr.ts), so the messages are read and dropped, never
 * parsed.
 */

import {
	EAGAIN, EINTR, ENOBUFS, LINUX_AF_NETLINK, SOCK_NONBLOCK, SOCK_RAW, bind, check, close, ptr_of, read_addr,
	setsockopt_int, socket, stable_bytes,
} from './libc.js';

const NETLINK_ROUTE = 0;
const SOL_NETLINK = 270;
const NETLINK_LISTEN_ALL_NSID = 8;	/* <linux/netlink.h>, Linux 4.2 */
/* <linux/rtnetlink.h> multicast groups (the RTMGRP_* bit masks). */
export const RTMGRP_LINK = 0x1;
export const RTMGRP_IPV4_IFADDR = 0x10;
export const RTMGRP_IPV4_ROUTE = 0x40;
export const RTMGRP_IPV6_IFADDR = 0x100;
export const RTMGRP_IPV6_ROUTE = 0x400;
export const RTMGRP_ADDR_ROUTE = RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE;

/*
 * A non-blocking rtnetlink socket in the calling thread's netns, in the
 * groups given; throws ErrnoError.  all_nsid: also hear the namespaces
 * this one has an id for, which `ip link set X netns Y` gives Y (so a
 * link moved out of here is still heard where it went), without
 * holding any of them alive as a socket made there would.
 */
export function rtnl_open(groups: number, all_nsid = false): number {
	const fd = check(socket_nl(), 'socket', 'AF_NETLINK');
	/* struct sockaddr_nl: u16 family, u16 pad, u32 pid (0: the kernel assigns), u32 groups. */
	const sa = new Uint8Array(12);
	const dv = new DataView(sa.buffer);
	dv.setUint16(0, LINUX_AF_NETLINK, true);
	dv.setUint32(8, groups >>> 0, true);
	try {
		if (all_nsid)
			check(setsockopt_int(fd, SOL_NETLINK, NETLINK_LISTEN_ALL_NSID, 1), 'setsockopt', 'NETLINK_LISTEN_ALL_NSID');
		check(bind(fd, sa, sa.length), 'bind', 'rtnetlink');
	} catch (e) {
		close(fd);
		throw e;
	}
	return fd;
}

function socket_nl(): number {
	return socket(LINUX_AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, NETLINK_ROUTE);
}

/* Reads whatever is queued on an rtnetlink socket: did anything change (or overflow)? */
export class rtnl_bell {
	private readonly buf = stable_bytes(8192);
	private readonly addr = ptr_of(this.buf);

	constructor(readonly fd: number) {}

	rang(): boolean {
		let any = false;
		for (;;) {
			const n = read_addr(this.fd, this.addr, this.buf.length);
			if (n > 0 || n === -ENOBUFS) {
				/* ENOBUFS: messages were lost, which still says that things changed. */
				any = true;
				continue;
			}
			if (n === -EINTR)
				continue;
			return any || (n < 0 && n !== -EAGAIN);
		}
	}
}

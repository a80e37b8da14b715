// SPDX-License-Identifier: BSD-2-Clause
/*
 * The ioctl shim: how a userland request reaches a kernel instance.
 *
 * A kernel instance (sys/kern/) listens on the Linux abstract UNIX stream
 * socket named by shim_socket_name(id).  Abstract names are per network
 * namespace, so every namespace is its own machine, as a rump kernel is.
 *
 * Framing: every message, each way, is a 4-byte big-endian length then
 * that many bytes of UTF-8 JSON.  One connection may carry any number of
 * request/reply pairs, strictly alternating.
 *
 * A request names an operation:
 *   ioctl:  a socket ioctl on an interface: request number from
 *           sys/sys/sockio.ts, interface name, and for SIOC[SG]DRVSPEC the
 *           ifd_cmd and the externalized proplib dictionary (XML plist
 *           text) as ifd_data.  ifreq-style arguments travel as fields.
 *   sysctl: read or write net.wg.* (sysctl(3)).
 *   ifconf: list the instance's interfaces with their state.
 *   reboot: halt the instance (rump.halt / reboot(2)).
 * A reply is an errno (0 on success) plus the out-data.
 *
 * Keys travel inside the dictionary text (base64 in <data>), so both ends
 * wipe the bytes of every frame once it is parsed or written.  The
 * strings JSON and the plist parser make of them cannot be wiped; they
 * live until the collector reuses their memory.
 */


import { isAscii } from 'node:buffer';

import type { AF_INET, AF_INET6 } from './socket.js';

export function shim_socket_name(id: number): string {
	return `\0wg-userspace.${id}`;
}

export interface ShimIfaddr {
	family: typeof AF_INET | typeof AF_INET6;
	addr: string;		/* numeric text form */
	prefixlen: number;
}

export type ShimRequest =
	| { op: 'ioctl'; req: number; name: string;
	    /* SIOC[SG]DRVSPEC; data alone for SIOCIFCREATE: the cloner, for any Linux name */
	    cmd?: number; data?: string;
	    /* SIOCSIFFLAGS */
	    flags?: number;
	    /* SIOCSIFMTU */
	    mtu?: number;
	    /* SIOCAIFADDR, SIOCAIFADDR_IN6, SIOCDIFADDR */
	    ifaddr?: ShimIfaddr; }
	| { op: 'sysctl'; name?: string; value?: string }	/* no name: list all */
	| { op: 'ifconf' }
	| { op: 'reboot' };

/* The 'ioctl' member of ShimRequest: what ifioctl() and a driver's if_ioctl take. */
export type ShimIoctlRequest = Extract<ShimRequest, { op: 'ioctl' }>;

export interface ShimIfState {
	name: string;
	flags: number;		/* IFF_* from sys/sys/sockio.ts */
	mtu: number;
	link_up: boolean;	/* "status: active" */
	addrs: ShimIfaddr[];
	ifindex: number;
}

export interface ShimReply {
	errno: number;
	data?: string;			/* SIOCGDRVSPEC: externalized dictionary */
	flags?: number;			/* SIOCGIFFLAGS */
	mtu?: number;			/* SIOCGIFMTU */
	cloners?: string[];		/* SIOCIFGCLONERS */
	ifs?: ShimIfState[];		/* ifconf, SIOCGIFSTATE */
	sysctl?: Array<[string, string]>;	/* sysctl: name, value */
	msg?: string;			/* a detail for the tool's error message */
}

/*
 * The largest request the kernel reads, by who asks.  Root's largest
 * legitimate request is an ioctl carrying a dictionary of up to
 * WG_MAX_PROPLEN (32766) bytes, which JSON escaping can grow at most
 * sixfold; a non-root process can only read (get, sysctl read, ifconf),
 * with names of at most 1024 characters.  Replies have no limit: a
 * listing grows with the number of peers.
 */
export const SHIM_MAX_REQUEST = 256 * 1024;
export const SHIM_MAX_USER_REQUEST = 16 * 1024;

/*
 * A frame's JSON as bytes, and back.  Listings make frames of megabytes,
 * nearly always ASCII: those are copied as Latin-1 both ways, which is a
 * plain copy, where UTF-8 would be encoded and validated byte by byte.
 */
export function shim_json_bytes(v: unknown): Buffer {
	const s = JSON.stringify(v);
	return Buffer.from(s, Buffer.byteLength(s) === s.length ? 'latin1' : 'utf8');
}

export function shim_json_text(b: Buffer, start = 0, end = b.length): string {
	const body = b.subarray(start, end);
	return body.toString(isAscii(body) ? 'latin1' : 'utf8');
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * Interface configuration through the Linux socket ioctls, as
 * ifconfig(8) from net-tools does it: struct ifreq on an LINUX_AF_INET
 * datagram socket, struct in6_ifreq on an LINUX_AF_INET6 one.
 *
 * Each call opens its control socket and closes it again: a socket
 * belongs to the network namespace of the thread that created it, and a
 * cached one would keep answering for the old namespace after setns().
 * All functions act in the calling thread's namespace and throw
 * an ErrnoError (sys/sys/errno.ts) carrying the Linux errno on failure.
 *
 * Addresses, and the limits of the ioctl interface:
 *  - IPv4: Linux keeps one address per label (SIOCSIFADDR on "wg0"
 *    replaces wg0's address).  in_addifaddr() therefore puts a second
 *    address under an alias label ("wg0:0", "wg0:1", ...), as ifconfig
 *    does; `ip addr` shows all of them on wg0.  in_delifaddr() finds
 *    the address's label (SIOCGIFCONF) and sets it to 0.0.0.0, which
 *    is how Linux deletes an address by ioctl.  An address added by
 *    `ip addr add` under a label that also holds another address can
 *    only be deleted if it is that label's first address.
 *  - if_addrs() lists IPv4 from SIOCGIFCONF (every address of every
 *    label, up or down) with each one's netmask from SIOCGIFNETMASK,
 *    and IPv6 from /proc/thread-self/net/if_inet6 (the calling thread's
 *    namespace).  os.networkInterfaces() is not used: it skips
 *    interfaces that are not up and running.
 */

import { readFileSync } from 'node:fs';
import {
	LINUX_AF_INET, LINUX_AF_INET6, SOCK_DGRAM, EINVAL, EEXIST, EADDRNOTAVAIL, ENOBUFS,
	syserr, check, close, ioctl, ptr_of, socket, stable_bytes,
} from './libc.js';

/* Linux <linux/sockios.h>. */
export const SIOCGIFCONF = 0x8912;
export const SIOCGIFFLAGS = 0x8913;
export const SIOCSIFFLAGS = 0x8914;
export const SIOCGIFADDR = 0x8915;
export const SIOCSIFADDR = 0x8916;
export const SIOCGIFDSTADDR = 0x8917;
export const SIOCSIFDSTADDR = 0x8918;
export const SIOCGIFNETMASK = 0x891b;
export const SIOCSIFNETMASK = 0x891c;
export const SIOCGIFMTU = 0x8921;
export const SIOCSIFMTU = 0x8922;
export const SIOCGIFINDEX = 0x8933;
export const SIOCDIFADDR = 0x8936;

export const IOCTL_NAMES: Readonly<Record<number, string>> = {
	[SIOCGIFCONF]: 'SIOCGIFCONF', [SIOCGIFFLAGS]: 'SIOCGIFFLAGS',
	[SIOCSIFFLAGS]: 'SIOCSIFFLAGS', [SIOCGIFADDR]: 'SIOCGIFADDR',
	[SIOCSIFADDR]: 'SIOCSIFADDR', [SIOCGIFDSTADDR]: 'SIOCGIFDSTADDR',
	[SIOCSIFDSTADDR]: 'SIOCSIFDSTADDR', [SIOCGIFNETMASK]: 'SIOCGIFNETMASK',
	[SIOCSIFNETMASK]: 'SIOCSIFNETMASK', [SIOCGIFMTU]: 'SIOCGIFMTU',
	[SIOCSIFMTU]: 'SIOCSIFMTU', [SIOCGIFINDEX]: 'SIOCGIFINDEX',
	[SIOCDIFADDR]: 'SIOCDIFADDR',
};

/*
 * Linux <net/if.h> interface flags (the short in ifr_flags).  They
 * differ from NetBSD's (LINUX_IFF_MULTICAST is 0x1000 here, 0x8000 there):
 * the net/if layer translates.
 */
export const LINUX_IFF_UP = 0x1;
export const LINUX_IFF_BROADCAST = 0x2;
export const LINUX_IFF_DEBUG = 0x4;
export const LINUX_IFF_LOOPBACK = 0x8;
export const LINUX_IFF_POINTOPOINT = 0x10;
export const LINUX_IFF_RUNNING = 0x40;
export const LINUX_IFF_NOARP = 0x80;
export const LINUX_IFF_PROMISC = 0x100;
export const LINUX_IFF_ALLMULTI = 0x200;
export const LINUX_IFF_MULTICAST = 0x1000;

export const IFNAMSIZ = 16;
export const SIZEOF_IFREQ = 40;		/* x86_64: name[16] + union[24] */
export const SIZEOF_IN6_IFREQ = 24;	/* in6_addr, u32 prefixlen, int ifindex */
const IFR_DATA = 16;			/* offset of the union */

export interface ifaddr {
	family: 4 | 6;
	addr: Uint8Array;	/* 4 or 16 bytes, network order */
	prefixlen: number;
}

/* --- struct ifreq --- */

const utf8 = new TextEncoder();

/* A zeroed ifreq with ifr_name set; EINVAL for names the kernel cannot hold. */
function ifreq_new(name: string, call: string): Uint8Array {
	const b = utf8.encode(name);
	if (b.length === 0 || b.length >= IFNAMSIZ || b.includes(0))
		throw syserr(call, EINVAL, JSON.stringify(name));
	const ifr = new Uint8Array(SIZEOF_IFREQ);
	ifr.set(b, 0);
	return ifr;
}

function ifreq_view(ifr: Uint8Array): DataView {
	return new DataView(ifr.buffer, ifr.byteOffset, ifr.byteLength);
}

/* Runs one ioctl on a fresh control socket of the family; throws on failure. */
/* On a socket of its own in this thread's netns, or on `so` (a socket of another netns: see tun_link_state). */
function ifioctl(family: number, req: number, arg: Uint8Array, name: string, so = -1): void {
	const call = `ioctl(${IOCTL_NAMES[req] ?? req.toString(16)})`;
	if (so >= 0) {
		check(ioctl(so, req, arg), call, name);
		return;
	}
	const s = check(socket(family, SOCK_DGRAM, 0), 'socket', family === LINUX_AF_INET6 ? 'AF_INET6' : 'AF_INET');
	try {
		check(ioctl(s, req, arg), call, name);
	} finally {
		close(s);
	}
}

function sin_put(ifr: Uint8Array, addr: Uint8Array): void {
	const dv = ifreq_view(ifr);
	dv.setUint16(IFR_DATA, LINUX_AF_INET, true);
	ifr.set(addr.subarray(0, 4), IFR_DATA + 4);
}

function sin_get(ifr: Uint8Array): Uint8Array {
	return ifr.slice(IFR_DATA + 4, IFR_DATA + 8);
}

function check_addr(addr: Uint8Array, len: number, call: string, name: string): void {
	if (addr.length !== len)
		throw syserr(call, EINVAL, `${name}: address must be ${len} bytes`);
}

function check_plen(plen: number, max: number, call: string, name: string): void {
	if (!Number.isInteger(plen) || plen < 0 || plen > max)
		throw syserr(call, EINVAL, `${name}: prefix length ${plen}`);
}

/* --- flags, MTU, index --- */

/* so: a socket in the netns to ask (default: this thread's). */
export function if_get_flags(name: string, so = -1): number {
	const ifr = ifreq_new(name, 'ioctl(SIOCGIFFLAGS)');
	ifioctl(LINUX_AF_INET, SIOCGIFFLAGS, ifr, name, so);
	return ifreq_view(ifr).getUint16(IFR_DATA, true);
}

/* Sets the whole flag word (read, change, write: see if_set_up). */
export function if_set_flags(name: string, flags: number): void {
	const ifr = ifreq_new(name, 'ioctl(SIOCSIFFLAGS)');
	ifreq_view(ifr).setUint16(IFR_DATA, flags & 0xffff, true);
	ifioctl(LINUX_AF_INET, SIOCSIFFLAGS, ifr, name);
}

export function if_set_up(name: string, up: boolean): void {
	const fl = if_get_flags(name);
	const nfl = up ? (fl | LINUX_IFF_UP) : (fl & ~LINUX_IFF_UP);
	if (nfl !== fl)
		if_set_flags(name, nfl);
}

export function if_get_mtu(name: string, so = -1): number {
	const ifr = ifreq_new(name, 'ioctl(SIOCGIFMTU)');
	ifioctl(LINUX_AF_INET, SIOCGIFMTU, ifr, name, so);
	return ifreq_view(ifr).getInt32(IFR_DATA, true);
}

export function if_set_mtu(name: string, mtu: number): void {
	const ifr = ifreq_new(name, 'ioctl(SIOCSIFMTU)');
	if (!Number.isInteger(mtu) || mtu < 0 || mtu > 0x7fffffff)
		throw syserr('ioctl(SIOCSIFMTU)', EINVAL, name);
	ifreq_view(ifr).setInt32(IFR_DATA, mtu, true);
	ifioctl(LINUX_AF_INET, SIOCSIFMTU, ifr, name);
}

/* The interface index; throws ErrnoError ENODEV for an unknown name. */
export function if_nametoindex(name: string): number {
	const ifr = ifreq_new(name, 'ioctl(SIOCGIFINDEX)');
	ifioctl(LINUX_AF_INET, SIOCGIFINDEX, ifr, name);
	return ifreq_view(ifr).getInt32(IFR_DATA, true);
}

/* --- IPv4 addresses --- */

function mask_of(plen: number): Uint8Array {
	const m = new Uint8Array(4);
	for (let i = 0; i < 4; i++) {
		const bits = Math.max(0, Math.min(8, plen - 8 * i));
		m[i] = (0xff00 >> bits) & 0xff;
	}
	return m;
}

function plen_of(mask: Uint8Array): number {
	let n = 0;
	for (const b of mask) {
		let v = b;
		while (v & 0x80) {
			n++;
			v = (v << 1) & 0xff;
		}
		if (b !== 0xff)
			break;
	}
	return n;
}

interface in_label {
	label: string;
	addr: Uint8Array;
}

/* Every IPv4 address in the namespace, with its label (SIOCGIFCONF). */
function in_labels(): in_label[] {
	for (let n = 64; ; n *= 4) {
		const buf = stable_bytes(n * SIZEOF_IFREQ);
		/* struct ifconf { int ifc_len; (pad) ; char *ifc_buf; } */
		const ifc = stable_bytes(16);
		const dv = new DataView(ifc.buffer);
		dv.setInt32(0, buf.length, true);
		const a = ptr_of(buf);
		dv.setUint32(8, a % 0x100000000, true);
		dv.setUint32(12, Math.floor(a / 0x100000000), true);
		ifioctl(LINUX_AF_INET, SIOCGIFCONF, ifc, 'SIOCGIFCONF');
		const len = dv.getInt32(0, true);
		if (len >= buf.length && n < 65536)
			continue;	/* maybe truncated: ask again with more room */
		const out: in_label[] = [];
		const td = new TextDecoder();
		for (let off = 0; off + SIZEOF_IFREQ <= len; off += SIZEOF_IFREQ) {
			const nm = buf.subarray(off, off + IFNAMSIZ);
			const z = nm.indexOf(0);
			out.push({
				label: td.decode(nm.subarray(0, z < 0 ? IFNAMSIZ : z)),
				addr: buf.slice(off + IFR_DATA + 4, off + IFR_DATA + 8),
			});
		}
		return out;
	}
}

function label_is(label: string, name: string): boolean {
	return label === name || label.startsWith(name + ':');
}

function eq(a: Uint8Array, b: Uint8Array): boolean {
	if (a.length !== b.length)
		return false;
	for (let i = 0; i < a.length; i++)
		if (a[i] !== b[i])
			return false;
	return true;
}

/* IPv4 addresses of the interface, with prefix lengths. */
export function in_ifaddrs(name: string): ifaddr[] {
	if_nametoindex(name);	/* ENODEV for an unknown interface */
	const out: ifaddr[] = [];
	for (const l of in_labels()) {
		if (!label_is(l.label, name))
			continue;
		const ifr = ifreq_new(l.label, 'ioctl(SIOCGIFNETMASK)');
		sin_put(ifr, l.addr);	/* the kernel matches label and address */
		ifioctl(LINUX_AF_INET, SIOCGIFNETMASK, ifr, l.label);
		out.push({ family: 4, addr: l.addr, prefixlen: plen_of(sin_get(ifr)) });
	}
	return out;
}

/*
 * Adds addr/prefixlen.  The first address goes on the interface's own
 * label, later ones on the first free alias label.  EEXIST if the
 * interface has the address already.
 */
export function in_addifaddr(name: string, addr: Uint8Array, prefixlen: number): void {
	const call = 'ioctl(SIOCSIFADDR)';
	check_addr(addr, 4, call, name);
	check_plen(prefixlen, 32, call, name);
	if_nametoindex(name);
	const used = new Set<string>();
	for (const l of in_labels()) {
		if (!label_is(l.label, name))
			continue;
		if (eq(l.addr, addr))
			throw syserr(call, EEXIST, name);
		used.add(l.label);
	}
	let label = name;
	for (let k = 0; used.has(label); k++) {
		label = `${name}:${k}`;
		if (utf8.encode(label).length >= IFNAMSIZ)
			throw syserr(call, ENOBUFS, `${name}: no free alias label`);
	}
	const ifr = ifreq_new(label, call);
	sin_put(ifr, addr);
	ifioctl(LINUX_AF_INET, SIOCSIFADDR, ifr, label);
	const mr = ifreq_new(label, 'ioctl(SIOCSIFNETMASK)');
	sin_put(mr, mask_of(prefixlen));
	try {
		ifioctl(LINUX_AF_INET, SIOCSIFNETMASK, mr, label);
	} catch (e) {
		in_clear_label(label);
		throw e;
	}
}

/* Setting a label's address to 0.0.0.0 deletes it (net/ipv4/devinet.c). */
function in_clear_label(label: string): void {
	const ifr = ifreq_new(label, 'ioctl(SIOCSIFADDR)');
	sin_put(ifr, new Uint8Array(4));
	ifioctl(LINUX_AF_INET, SIOCSIFADDR, ifr, label);
}

/* Deletes addr from the interface; EADDRNOTAVAIL if it has no such address. */
export function in_delifaddr(name: string, addr: Uint8Array): void {
	const call = 'ioctl(SIOCDIFADDR)';
	check_addr(addr, 4, call, name);
	if_nametoindex(name);
	for (const l of in_labels()) {
		if (label_is(l.label, name) && eq(l.addr, addr)) {
			in_clear_label(l.label);
			return;
		}
	}
	throw syserr(call, EADDRNOTAVAIL, name);
}

/* --- IPv6 addresses --- */

function in6_ifreq(name: string, addr: Uint8Array, prefixlen: number, call: string): Uint8Array {
	check_addr(addr, 16, call, name);
	check_plen(prefixlen, 128, call, name);
	const ifindex = if_nametoindex(name);
	const r = new Uint8Array(SIZEOF_IN6_IFREQ);
	const dv = new DataView(r.buffer);
	r.set(addr, 0);
	dv.setUint32(16, prefixlen, true);
	dv.setInt32(20, ifindex, true);
	return r;
}

/* Adds addr/prefixlen; EEXIST if present. */
export function in6_addifaddr(name: string, addr: Uint8Array, prefixlen: number): void {
	const r = in6_ifreq(name, addr, prefixlen, 'ioctl(SIOCSIFADDR)');
	ifioctl(LINUX_AF_INET6, SIOCSIFADDR, r, name);
}

/* Deletes addr/prefixlen (the prefix length must match); EADDRNOTAVAIL if absent. */
export function in6_delifaddr(name: string, addr: Uint8Array, prefixlen: number): void {
	const r = in6_ifreq(name, addr, prefixlen, 'ioctl(SIOCDIFADDR)');
	ifioctl(LINUX_AF_INET6, SIOCDIFADDR, r, name);
}

/*
 * IPv6 addresses of the interface, link-local ones included, from
 * /proc/thread-self/net/if_inet6: "addr32hex ifindex plen scope flags name".
 */
export function in6_ifaddrs(name: string): ifaddr[] {
	if_nametoindex(name);
	let text: string;
	try {
		text = readFileSync('/proc/thread-self/net/if_inet6', 'latin1');
	} catch {
		return [];	/* IPv6 disabled in this kernel */
	}
	const out: ifaddr[] = [];
	for (const line of text.split('\n')) {
		const f = line.trim().split(/\s+/);
		if (f.length < 6 || f[5] !== name || f[0].length !== 32)
			continue;
		out.push({ family: 6, addr: Uint8Array.from(Buffer.from(f[0], 'hex')), prefixlen: parseInt(f[2], 16) });
	}
	return out;
}

/* IPv4 then IPv6 addresses of the interface. */
export function if_addrs(name: string): ifaddr[] {
	return [...in_ifaddrs(name), ...in6_ifaddrs(name)];
}

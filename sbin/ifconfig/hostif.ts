// SPDX-License-Identifier: BSD-2-Clause
/*
 * Host interfaces (lo, veth, bridges, ...), which belong to Linux and not
 * to our kernel instance: ifconfig shows them, read straight from Linux
 * (sysfs for flags, MTU, index and link address; os.networkInterfaces()
 * for addresses), with Linux flags translated to NetBSD's IFF_* bits.
 */

import { readFileSync, readdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

import { AF_INET, AF_INET6 } from '../../sys/sys/socket.js';
import {
	IFF_BROADCAST, IFF_LOOPBACK, IFF_MULTICAST, IFF_NOARP, IFF_POINTOPOINT, IFF_RUNNING, IFF_UP,
} from '../../sys/sys/sockio.js';
import { broadcast_v4, type IfAddrView, type IfStatus } from './status.js';

const SYSFS_NET = '/sys/class/net';

/* Linux <linux/if.h> bits that have a NetBSD twin. */
const LINUX_IFF_UP = 0x1;
const LINUX_IFF_BROADCAST = 0x2;
const LINUX_IFF_DEBUG = 0x4;
const LINUX_IFF_LOOPBACK = 0x8;
const LINUX_IFF_POINTOPOINT = 0x10;
const LINUX_IFF_NOARP = 0x80;
const LINUX_IFF_PROMISC = 0x100;
const LINUX_IFF_ALLMULTI = 0x200;
const LINUX_IFF_MULTICAST = 0x1000;
const NETBSD_IFF_DEBUG = 0x4;
const NETBSD_IFF_PROMISC = 0x100;
const NETBSD_IFF_ALLMULTI = 0x200;

const ARPHRD_ETHER = 1;

function sysfs_read(name: string, attr: string): string | null {
	try {
		return readFileSync(`${SYSFS_NET}/${name}/${attr}`, 'latin1').trim();
	} catch {
		return null;
	}
}

function valid_name(name: string): boolean {
	return /^[^/\0]{1,15}$/.test(name) && name !== '.' && name !== '..';
}

export function host_if_exists(name: string): boolean {
	return valid_name(name) && sysfs_read(name, 'ifindex') !== null;
}

export function host_if_names(): string[] {
	try {
		return readdirSync(SYSFS_NET).filter(valid_name);
	} catch {
		return [];
	}
}

function netbsd_flags(linux: number, running: boolean): number {
	const map: Array<[number, number]> = [
		[LINUX_IFF_UP, IFF_UP], [LINUX_IFF_BROADCAST, IFF_BROADCAST],
		[LINUX_IFF_DEBUG, NETBSD_IFF_DEBUG], [LINUX_IFF_LOOPBACK, IFF_LOOPBACK],
		[LINUX_IFF_POINTOPOINT, IFF_POINTOPOINT], [LINUX_IFF_NOARP, IFF_NOARP],
		[LINUX_IFF_PROMISC, NETBSD_IFF_PROMISC], [LINUX_IFF_ALLMULTI, NETBSD_IFF_ALLMULTI],
		[LINUX_IFF_MULTICAST, IFF_MULTICAST],
	];
	let f = 0;
	for (const [l, n] of map)
		if (linux & l)
			f |= n;
	if (running)
		f |= IFF_RUNNING;
	return f;
}

function prefixlen_of(cidr: string | null, netmask: string): number {
	if (cidr !== null) {
		const n = Number(cidr.slice(cidr.lastIndexOf('/') + 1));
		if (Number.isInteger(n))
			return n;
	}
	/* Count the mask's bits (either family). */
	let bits = 0;
	for (const part of netmask.includes(':') ? netmask.split(':') : netmask.split('.')) {
		let v = parseInt(part === '' ? '0' : part, netmask.includes(':') ? 16 : 10);
		while (v) {
			bits += v & 1;
			v >>>= 1;
		}
	}
	return bits;
}

export function host_if_status(name: string): IfStatus | null {
	if (!valid_name(name))
		return null;
	const index = sysfs_read(name, 'ifindex');
	if (index === null)
		return null;
	const linux_flags = parseInt(sysfs_read(name, 'flags') ?? '0', 16) || 0;
	const operstate = sysfs_read(name, 'operstate') ?? 'unknown';
	const up = (linux_flags & LINUX_IFF_UP) !== 0;
	const running = up && (operstate === 'up' || operstate === 'unknown');
	const flags = netbsd_flags(linux_flags, running);
	const carrier = sysfs_read(name, 'carrier');
	const type = Number(sysfs_read(name, 'type') ?? '0');
	const address = sysfs_read(name, 'address');
	const lladdr = type === ARPHRD_ETHER && address !== null && address !== '00:00:00:00:00:00'
	    ? address : null;

	const addrs: IfAddrView[] = [];
	for (const a of networkInterfaces()[name] ?? []) {
		const fam = a.family as string | number;
		const prefixlen = prefixlen_of(a.cidr, a.netmask);
		if (fam === 'IPv4' || fam === 4) {
			addrs.push({
				family: AF_INET, addr: a.address, prefixlen,
				broadcast: flags & IFF_BROADCAST ? broadcast_v4(a.address, prefixlen) : null,
				scope_id: 0,
			});
		} else {
			addrs.push({
				family: AF_INET6, addr: a.address, prefixlen, broadcast: null,
				scope_id: ('scopeid' in a ? a.scopeid : 0) ?? 0,
			});
		}
	}
	return {
		name, flags, mtu: Number(sysfs_read(name, 'mtu') ?? '0'),
		link_up: carrier === '1', addrs, ifindex: Number(index), lladdr,
	};
}

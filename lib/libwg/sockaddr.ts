// SPDX-License-Identifier: BSD-2-Clause
/*
 * Endpoints as wgconfig handles them: the raw NetBSD sockaddr bytes of
 * the wg(4) "endpoint" dictionary value (layout and codec in
 * sys/sys/socket.ts, shared with the driver) and their text form.
 */

import { readFileSync, readdirSync } from 'node:fs';

import { inet_ntop4, inet_ntop6 } from '../libc/inet.js';
import { sockaddr_decode, sockaddr_encode, type sockaddr_inet } from '../../sys/sys/socket.js';

export { sockaddr_decode, sockaddr_encode, type sockaddr_inet };

/* The name of the interface with that index, as getnameinfo(3) prints a zone; null if none has it. */
export function scope_name(index: number): string | null {
	let names: string[];
	try {
		names = readdirSync('/sys/class/net');
	} catch {
		return null;
	}
	for (const name of names) {
		try {
			if (Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'latin1')) === index)
				return name;
		} catch {
			/* gone meanwhile */
		}
	}
	return null;
}

/*
 * "192.0.2.1:51820", "[2001:db8::1]:51820" or "[fe80::1%eth0]:51820"
 * (the zone by name, %N if no interface has it).  NetBSD prints IPv6
 * without brackets (fc00::2:51820), which cannot be read back
 * unambiguously; we bracket, and accept both forms on input.
 */
export function sockaddr_format(sa: sockaddr_inet): string {
	if (sa.family === 4)
		return `${inet_ntop4(sa.addr)}:${sa.port}`;
	const scope = sa.scope_id ? `%${scope_name(sa.scope_id) ?? sa.scope_id}` : '';
	return `[${inet_ntop6(sa.addr)}${scope}]:${sa.port}`;
}

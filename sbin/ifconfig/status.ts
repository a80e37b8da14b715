// SPDX-License-Identifier: BSD-2-Clause
/*
 * ifconfig's status display, in NetBSD's layout:
 *
 *   wg0: flags=0x8041<UP,RUNNING,MULTICAST> mtu 1420
 *           status: active
 *           inet 10.0.0.1/24 flags 0x0
 *           inet6 fd00::1/64 flags 0x0
 *
 * (tabs, not spaces).  Flags print as snprintb(3) does, with the names of
 * NetBSD's IFFBITS; addresses as in.c/in6.c print them, with a broadcast
 * address on broadcast interfaces and a "%ifname" and scope id on scoped
 * IPv6 addresses.
 */

import { type ShimIfState } from '../../sys/sys/shim.js';
import { AF_INET, AF_INET6 } from '../../sys/sys/socket.js';
import { IFFBITS, IFF_BROADCAST } from '../../sys/sys/sockio.js';
import { snprintb } from '../../lib/libutil/snprintb.js';
import { inet_ntop4, inet_ntop6, inet_pton4, inet_pton6 } from '../../lib/libc/inet.js';

export interface IfAddrView {
	family: typeof AF_INET | typeof AF_INET6;
	addr: string;
	prefixlen: number;
	broadcast: string | null;
	scope_id: number;
}

export interface IfStatus {
	name: string;
	flags: number;		/* NetBSD IFF_* */
	mtu: number;
	link_up: boolean;
	addrs: IfAddrView[];
	ifindex: number;
	lladdr: string | null;	/* Ethernet address, host interfaces only */
}

function canonical(family: number, addr: string): string {
	if (family === AF_INET) {
		const a = inet_pton4(addr);
		return a === null ? addr : inet_ntop4(a);
	}
	const pct = addr.indexOf('%');
	const a = inet_pton6(pct < 0 ? addr : addr.slice(0, pct));
	return a === null ? addr : inet_ntop6(a);
}

export function broadcast_v4(addr: string, prefixlen: number): string | null {
	const a = inet_pton4(addr);
	if (a === null)
		return null;
	const v = ((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0;
	const b = (v | (prefixlen >= 32 ? 0 : 0xffffffff >>> prefixlen)) >>> 0;
	return inet_ntop4(new Uint8Array([b >>> 24, (b >>> 16) & 255, (b >>> 8) & 255, b & 255]));
}

/* fe80::/10: scoped to its interface, printed as fe80::1%wg0 ... scopeid 0xN. */
function is_link_local6(addr: string): boolean {
	const a = inet_pton6(addr);
	return a !== null && a[0] === 0xfe && (a[1] & 0xc0) === 0x80;
}

/* An interface of the kernel instance, as the shim reports it. */
export function if_status_from_shim(s: ShimIfState): IfStatus {
	return {
		name: s.name, flags: s.flags, mtu: s.mtu, link_up: s.link_up, ifindex: s.ifindex,
		lladdr: null,
		addrs: s.addrs.map((a) => ({
			family: a.family, addr: canonical(a.family, a.addr), prefixlen: a.prefixlen,
			broadcast: a.family === AF_INET && (s.flags & IFF_BROADCAST) ? broadcast_v4(a.addr, a.prefixlen) : null,
			scope_id: a.family === AF_INET6 && is_link_local6(canonical(a.family, a.addr)) ? s.ifindex : 0,
		})),
	};
}

export function if_status_lines(st: IfStatus, out: string[]): void {
	out.push(`${st.name}: flags=${snprintb(IFFBITS, st.flags)} mtu ${st.mtu}`);
	if (st.lladdr !== null)
		out.push(`\taddress: ${st.lladdr}`);
	out.push(`\tstatus: ${st.link_up ? 'active' : 'no carrier'}`);
	for (const a of st.addrs) {
		if (a.family === AF_INET) {
			const brd = a.broadcast !== null ? ` broadcast ${a.broadcast}` : '';
			out.push(`\tinet ${a.addr}/${a.prefixlen}${brd} flags 0x0`);
		} else {
			const addr = a.scope_id ? `${canonical(AF_INET6, a.addr)}%${st.name}` : a.addr;
			const scope = a.scope_id ? ` scopeid 0x${a.scope_id.toString(16)}` : '';
			out.push(`\tinet6 ${addr}/${a.prefixlen} flags 0x0${scope}`);
		}
	}
}

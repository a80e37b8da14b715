// SPDX-License-Identifier: BSD-2-Clause
/*
 * NetBSD's struct sockaddr_in / sockaddr_in6, byte for byte: the wg(4)
 * ioctl carries a peer's endpoint as raw sockaddr bytes (sa_len first),
 * so wgconfig and the driver both encode and decode this layout.
 *
 *   sockaddr_in   16 bytes: len=16, family=2 (AF_INET), port (BE), addr[4], zero[8]
 *   sockaddr_in6  28 bytes: len=28, family=24 (AF_INET6), port (BE), flowinfo[4],
 *                           addr[16], scope_id (host order, little-endian here)
 */

/* NetBSD's address families; Linux's are LINUX_AF_* in sys/arch/linux/libc.ts. */
export const AF_INET = 2;
export const AF_INET6 = 24;

export const SOCKADDR_IN_LEN = 16;
export const SOCKADDR_IN6_LEN = 28;

export interface sockaddr_inet {
	family: 4 | 6;
	addr: Uint8Array;	/* 4 or 16 bytes */
	port: number;
	scope_id?: number;
}

export function sockaddr_encode(sa: sockaddr_inet): Uint8Array {
	if (sa.family === 4) {
		const b = new Uint8Array(SOCKADDR_IN_LEN);
		b[0] = SOCKADDR_IN_LEN;
		b[1] = AF_INET;
		b[2] = (sa.port >>> 8) & 0xff;
		b[3] = sa.port & 0xff;
		b.set(sa.addr.subarray(0, 4), 4);
		return b;
	}
	const b = new Uint8Array(SOCKADDR_IN6_LEN);
	b[0] = SOCKADDR_IN6_LEN;
	b[1] = AF_INET6;
	b[2] = (sa.port >>> 8) & 0xff;
	b[3] = sa.port & 0xff;
	b.set(sa.addr.subarray(0, 16), 8);
	new DataView(b.buffer).setUint32(24, sa.scope_id ?? 0, true);
	return b;
}

/* null when the bytes are not a well-formed inet sockaddr (the driver says EINVAL). */
export function sockaddr_decode(b: Uint8Array): sockaddr_inet | null {
	if (b.length === SOCKADDR_IN_LEN && b[0] === SOCKADDR_IN_LEN && b[1] === AF_INET)
		return { family: 4, addr: b.slice(4, 8), port: (b[2] << 8) | b[3] };
	if (b.length === SOCKADDR_IN6_LEN && b[0] === SOCKADDR_IN6_LEN && b[1] === AF_INET6) {
		const scope_id = new DataView(b.buffer, b.byteOffset, b.length).getUint32(24, true);
		return { family: 6, addr: b.slice(8, 24), port: (b[2] << 8) | b[3], scope_id };
	}
	return null;
}

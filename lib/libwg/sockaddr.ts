/*
 * NetBSD socket addresses as raw bytes: the wg(4) "endpoint" dictionary
 * value is a struct sockaddr_in or sockaddr_in6 exactly as NetBSD lays it
 * out (with sa_len first), so the ioctl payload reads the same here as
 * on NetBSD/amd64.
 *
 *   sockaddr_in   16 bytes: len=16, family=2, port (BE), addr[4], zero[8]
 *   sockaddr_in6  28 bytes: len=28, family=24, port (BE), flowinfo (BE),
 *                 addr[16], scope_id (host order: little-endian on amd64)
 */

import { AF_INET, AF_INET6 } from '../../sys/sys/shim.js';
import { inet_ntop4, inet_ntop6 } from '../libc/inet.js';

export const SOCKADDR_IN_LEN = 16;
export const SOCKADDR_IN6_LEN = 28;

export interface WgSockaddr {
	family: typeof AF_INET | typeof AF_INET6;
	addr: Uint8Array;	/* 4 or 16 bytes */
	port: number;
	flowinfo?: number;
	scope_id?: number;
}

export function sockaddr_encode(sa: WgSockaddr): Uint8Array {
	if (sa.family === AF_INET) {
		const b = new Uint8Array(SOCKADDR_IN_LEN);
		b[0] = SOCKADDR_IN_LEN;
		b[1] = AF_INET;
		b[2] = sa.port >> 8;
		b[3] = sa.port & 0xff;
		b.set(sa.addr.subarray(0, 4), 4);
		return b;
	}
	const b = new Uint8Array(SOCKADDR_IN6_LEN);
	const v = new DataView(b.buffer);
	b[0] = SOCKADDR_IN6_LEN;
	b[1] = AF_INET6;
	v.setUint16(2, sa.port, false);
	v.setUint32(4, sa.flowinfo ?? 0, false);
	b.set(sa.addr.subarray(0, 16), 8);
	v.setUint32(24, sa.scope_id ?? 0, true);
	return b;
}

/* null unless the bytes are a well-formed sockaddr_in or sockaddr_in6. */
export function sockaddr_decode(b: Uint8Array): WgSockaddr | null {
	if (b.length < 2)
		return null;
	const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
	if (b[1] === AF_INET && b.length === SOCKADDR_IN_LEN && b[0] === SOCKADDR_IN_LEN) {
		return { family: AF_INET, addr: b.slice(4, 8), port: v.getUint16(2, false) };
	}
	if (b[1] === AF_INET6 && b.length === SOCKADDR_IN6_LEN && b[0] === SOCKADDR_IN6_LEN) {
		return {
			family: AF_INET6, addr: b.slice(8, 24), port: v.getUint16(2, false),
			flowinfo: v.getUint32(4, false), scope_id: v.getUint32(24, true),
		};
	}
	return null;
}

/*
 * "192.0.2.1:51820" or "[2001:db8::1]:51820".  NetBSD prints IPv6 without
 * brackets (fc00::2:51820), which cannot be read back unambiguously; we
 * bracket, and accept both forms on input.
 */
export function sockaddr_format(sa: WgSockaddr): string {
	if (sa.family === AF_INET)
		return `${inet_ntop4(sa.addr)}:${sa.port}`;
	const scope = sa.scope_id ? `%${sa.scope_id}` : '';
	return `[${inet_ntop6(sa.addr)}${scope}]:${sa.port}`;
}

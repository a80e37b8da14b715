// SPDX-License-Identifier: BSD-2-Clause
/*
 * Endpoints as wgconfig handles them: the raw NetBSD sockaddr bytes of
 * the wg(4) "endpoint" dictionary value (layout and codec in
 * sys/sys/socket.ts, shared with the driver) and their text form.
 */

import { inet_ntop4, inet_ntop6 } from '../libc/inet.js';
import { sockaddr_decode, sockaddr_encode, type sockaddr_inet } from '../../sys/sys/socket.js';

export { sockaddr_decode, sockaddr_encode, type sockaddr_inet };

/*
 * "192.0.2.1:51820" or "[2001:db8::1]:51820".  NetBSD prints IPv6 without
 * brackets (fc00::2:51820), which cannot be read back unambiguously; we
 * bracket, and accept both forms on input.
 */
export function sockaddr_format(sa: sockaddr_inet): string {
	if (sa.family === 4)
		return `${inet_ntop4(sa.addr)}:${sa.port}`;
	const scope = sa.scope_id ? `%${sa.scope_id}` : '';
	return `[${inet_ntop6(sa.addr)}${scope}]:${sa.port}`;
}

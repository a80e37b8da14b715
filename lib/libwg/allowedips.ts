// SPDX-License-Identifier: BSD-2-Clause
/*
 * --allowed-ips=A/N[,B/M...]: numeric addresses only, each with a prefix
 * length.  Unlike NetBSD, the prefix length is checked against the family
 * (at most 32 for IPv4, 128 for IPv6) instead of reaching the kernel.
 */

import { AF_INET, AF_INET6 } from '../../sys/sys/socket.js';
import { errx } from '../libc/err.js';
import { inet_pton4, inet_pton6 } from '../libc/inet.js';
import { GAI_NONAME } from './endpoint.js';
import { strtouint16 } from './strtonum.js';

export interface WgAllowedIpArg {
	family: typeof AF_INET | typeof AF_INET6;
	ip: Uint8Array;		/* 4 or 16 bytes, as given (the kernel masks) */
	cidr: number;
}

export function allowedip_parse(entry: string): WgAllowedIpArg {
	const slash = entry.indexOf('/');
	if (slash < 0)
		errx(1, 'no \'/\' found in allowed-ip');
	const addr = entry.slice(0, slash);
	const cidr = strtouint16(entry.slice(slash + 1));
	const v4 = inet_pton4(addr);
	const v6 = v4 === null ? inet_pton6(addr) : null;
	if (v4 === null && v6 === null)
		errx(1, `getaddrinfo: ${addr} (${GAI_NONAME})`);
	const family = v4 !== null ? AF_INET : AF_INET6;
	const max = family === AF_INET ? 32 : 128;
	if (cidr > max)
		errx(1, `invalid cidr: ${entry}: must be 0..${max}`);
	return { family, ip: (v4 ?? v6) as Uint8Array, cidr };
}

/* Input order is kept: the kernel reports allowed IPs in the order given. */
export function allowedips_parse(list: string): WgAllowedIpArg[] {
	return list.split(',').map(allowedip_parse);
}

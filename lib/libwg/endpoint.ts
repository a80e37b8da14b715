// SPDX-License-Identifier: BSD-2-Clause
/*
 * --endpoint=ADDR:PORT, parsed as NetBSD's wgconfig splits it:
 *   [v6]:port     brackets
 *   v4:port       one colon
 *   v6:port       several colons: the last one separates the port
 * ADDR may be a host name: resolved here to its first answer, as
 * getaddrinfo does, and returned as `host` too, for the driver to keep
 * and resolve again (wg(4)).
 */

import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';

import { errx } from '../libc/err.js';
import { inet_pton4, inet_pton6 } from '../libc/inet.js';
import { strtouint16 } from './strtonum.js';
import type { sockaddr_inet } from './sockaddr.js';

/* NetBSD's gai_strerror(3) texts for what dns.lookup reports. */
const GAI_MESSAGES: Readonly<Record<string, string>> = {
	EAI_ADDRFAMILY: 'Address family for hostname not supported',
	EAI_AGAIN: 'Temporary failure in name resolution',
	EAI_BADFLAGS: 'Invalid value for ai_flags',
	EAI_FAIL: 'Non-recoverable failure in name resolution',
	EAI_FAMILY: 'ai_family not supported',
	EAI_MEMORY: 'Memory allocation failure',
	EAI_NODATA: 'No address associated with hostname',
	ENODATA: 'No address associated with hostname',
	EAI_NONAME: 'hostname nor servname provided, or not known',
	ENOTFOUND: 'hostname nor servname provided, or not known',
	EAI_SERVICE: 'servname not supported for ai_socktype',
	EAI_SOCKTYPE: 'ai_socktype not supported',
};
export const GAI_NONAME = GAI_MESSAGES.EAI_NONAME;

export function gai_strerror(code: string | undefined): string {
	return (code !== undefined ? GAI_MESSAGES[code] : undefined) ?? 'System error returned in errno';
}

/* "fe80::1%2" or "fe80::1%eth0": the scope is an interface index. */
function scope_id_parse(zone: string): number | null {
	if (/^[0-9]{1,10}$/.test(zone))
		return Number(zone) <= 0xffffffff ? Number(zone) : null;
	if (!/^[A-Za-z0-9_.-]{1,15}$/.test(zone))
		return null;
	try {
		const v = Number(readFileSync(`/sys/class/net/${zone}/ifindex`, 'latin1').trim());
		return Number.isInteger(v) ? v : null;
	} catch {
		return null;
	}
}

/* A numeric address (with an optional IPv6 zone), or null. */
export function numeric_sockaddr(addr: string, port: number): sockaddr_inet | null {
	const v4 = inet_pton4(addr);
	if (v4 !== null)
		return { family: 4, addr: v4, port };
	const pct = addr.indexOf('%');
	const v6 = inet_pton6(pct < 0 ? addr : addr.slice(0, pct));
	if (v6 === null)
		return null;
	let scope_id = 0;
	if (pct >= 0) {
		const s = scope_id_parse(addr.slice(pct + 1));
		if (s === null)
			return null;
		scope_id = s;
	}
	return { family: 6, addr: v6, port, scope_id };
}

/* Split "ADDR:PORT" in the three forms above; errors use NetBSD's words. */
export function endpoint_split(text: string): { addr: string; port: string } {
	if (text.startsWith('[')) {
		if (text.length < '[::]:0'.length)
			errx(1, 'invalid endpoint format');
		const close = text.indexOf(']');
		if (close < 0 || text[close + 1] !== ':')
			errx(1, 'invalid endpoint format');
		return { addr: text.slice(1, close), port: text.slice(close + 2) };
	}
	const last = text.lastIndexOf(':');
	if (last < 0)
		errx(1, 'no \':\' found in endpoint');
	return { addr: text.slice(0, last), port: text.slice(last + 1) };
}

export async function endpoint_parse(text: string): Promise<sockaddr_inet & { host?: string }> {
	const { addr, port: port_text } = endpoint_split(text);
	const port = strtouint16(port_text);
	if (port === 0)
		errx(1, 'port 0 is not allowed');
	const sa = numeric_sockaddr(addr, port);
	if (sa !== null)
		return sa;
	let res: { address: string; family: number };
	try {
		/* A host name has no ':' or '%': such text is a bad numeric address, not worth a DNS query. */
		if (addr === '' || addr.includes(':') || addr.includes('%'))
			throw Object.assign(new Error('no such host'), { code: 'EAI_NONAME' });
		res = await lookup(addr);
	} catch (e) {
		const code = (e as NodeJS.ErrnoException).code;
		errx(1, `getaddrinfo: ${addr}:${port_text} (${gai_strerror(code)})`);
	}
	const resolved = numeric_sockaddr(res.address, port);
	if (resolved === null)
		errx(1, `getaddrinfo: ${addr}:${port_text} (${gai_strerror('EAI_FAMILY')})`);
	return { ...resolved, host: addr };
}

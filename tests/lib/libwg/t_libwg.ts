// SPDX-License-Identifier: BSD-2-Clause
/*
 * libwg: key text, NetBSD sockaddr bytes, endpoint and allowed-ips
 * parsing, port numbers.
 */

import t from 'tap';

import { ErrExit } from '../../../lib/libc/err.js';
import { allowedips_parse } from '../../../lib/libwg/allowedips.js';
import { endpoint_parse, endpoint_split } from '../../../lib/libwg/endpoint.js';
import { wg_key_from_base64, wg_key_to_base64 } from '../../../lib/libwg/key.js';
import { sockaddr_decode, sockaddr_encode, sockaddr_format } from '../../../lib/libwg/sockaddr.js';
import { strtouint16 } from '../../../lib/libwg/strtonum.js';
import { AF_INET, AF_INET6 } from '../../../sys/sys/socket.js';

function message(fn: () => unknown): string {
	try {
		fn();
	} catch (e) {
		if (e instanceof ErrExit)
			return e.message;
		throw e;
	}
	return '(no error)';
}

t.test('keys', async (t) => {
	const k = 'fdkPmFWHfpIwRavRLWuyzmBOOrKxT6KKLgqVb1g5LhY=';
	const b = wg_key_from_base64(k);
	t.equal(b?.length, 32);
	t.equal(wg_key_to_base64(b as Uint8Array), k);
	t.equal(wg_key_from_base64(k.slice(1)), null);
	t.equal(wg_key_from_base64('A'.repeat(44)), null, '44 characters, 33 bytes');
	t.equal(wg_key_from_base64('AAAA'.repeat(10) + 'AA=='), null, '31 bytes');
});

t.test('sockaddr bytes', async (t) => {
	const v4 = sockaddr_encode({ family: 4, addr: new Uint8Array([192, 0, 2, 1]), port: 51820 });
	t.same(v4, new Uint8Array([16, 2, 0xca, 0x6c, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
	t.equal(sockaddr_format(sockaddr_decode(v4)!), '192.0.2.1:51820');
	const addr6 = new Uint8Array(16);
	addr6[0] = 0xfd;
	addr6[15] = 1;
	const v6 = sockaddr_encode({ family: 6, addr: addr6, port: 1, scope_id: 3 });
	t.equal(v6.length, 28);
	t.same([...v6.subarray(0, 8)], [28, 24, 0, 1, 0, 0, 0, 0]);
	t.same([...v6.subarray(24)], [3, 0, 0, 0], 'scope id in host (little-endian) order');
	const d6 = sockaddr_decode(v6)!;
	t.same(d6, { family: 6, addr: addr6, port: 1, scope_id: 3 });
	/* A zone prints as its interface's name (getnameinfo's way), the number when none has it. */
	t.equal(sockaddr_format({ ...d6, scope_id: 1 }), '[fd00::1%lo]:1', 'index 1 is lo');
	t.equal(sockaddr_format({ ...d6, scope_id: 0xfffffff0 }), '[fd00::1%4294967280]:1');
	t.equal(sockaddr_format({ ...d6, scope_id: 0 }), '[fd00::1]:1', 'IPv6 is bracketed');
	for (const bad of [new Uint8Array(0), v4.subarray(0, 15), v6.subarray(0, 27),
	    Uint8Array.from(v4, (x, i) => (i === 0 ? 28 : x)), Uint8Array.from(v4, (x, i) => (i === 1 ? 24 : x))])
		t.equal(sockaddr_decode(bad), null);
});

t.test('endpoint forms', async (t) => {
	const ll1 = new Uint8Array(16);
	ll1[0] = 0xfe;
	ll1[1] = 0x80;
	ll1[15] = 1;
	t.same(endpoint_split('[fc00::2]:51820'), { addr: 'fc00::2', port: '51820' });
	t.same(endpoint_split('fc00::2:51820'), { addr: 'fc00::2', port: '51820' });
	t.same(endpoint_split('1.2.3.4:5'), { addr: '1.2.3.4', port: '5' });
	t.same(endpoint_split('host.example:5'), { addr: 'host.example', port: '5' });
	t.equal(message(() => endpoint_split('1.2.3.4')), 'no \':\' found in endpoint');
	t.equal(message(() => endpoint_split('[::1]')), 'invalid endpoint format');
	const sa = await endpoint_parse('[::ffff:10.0.0.1]:80');
	t.equal(sa.family, 6);
	t.equal(sockaddr_format(sa), '[::ffff:10.0.0.1]:80');
	await t.rejects(endpoint_parse('1.2.3.4:0'), { message: 'port 0 is not allowed' });
	t.same(await endpoint_parse('[fe80::1%lo]:7'), { family: 6, addr: ll1, port: 7, scope_id: 1 }, 'zone by name');
	t.same(await endpoint_parse('[fe80::1%9]:7'), { family: 6, addr: ll1, port: 7, scope_id: 9 }, 'zone by number');
	t.same(await endpoint_parse('fe80::1%lo:7'), { family: 6, addr: ll1, port: 7, scope_id: 1 }, 'without brackets');
	await t.rejects(endpoint_parse('[fe80::1%nosuchif0]:7'), { message: /^getaddrinfo: fe80::1%nosuchif0:7 / });
	await t.rejects(endpoint_parse('[fe80::1%]:7'), { message: /^getaddrinfo: / });
	await t.rejects(endpoint_parse('[1:2:3]:1'), { message: 'getaddrinfo: 1:2:3:1 (hostname nor servname provided, or not known)' });
});

t.test('allowed ips', async (t) => {
	t.same(allowedips_parse('10.0.0.0/8,::/0,192.168.1.1/32'), [
		{ family: AF_INET, ip: new Uint8Array([10, 0, 0, 0]), cidr: 8 },
		{ family: AF_INET6, ip: new Uint8Array(16), cidr: 0 },
		{ family: AF_INET, ip: new Uint8Array([192, 168, 1, 1]), cidr: 32 },
	]);
	t.equal(message(() => allowedips_parse('10.0.0.0/33')), 'invalid cidr: 10.0.0.0/33: must be 0..32');
	t.equal(message(() => allowedips_parse('::/128,::/129')), 'invalid cidr: ::/129: must be 0..128');
	t.equal(message(() => allowedips_parse('10.0.0.0')), 'no \'/\' found in allowed-ip');
});

t.test('ports', async (t) => {
	t.equal(strtouint16('51820'), 51820);
	t.equal(strtouint16(' +7'), 7, 'strtol skips leading space and takes a sign');
	t.equal(message(() => strtouint16('7 ')), 'strtol: trailing garbage');
	t.equal(message(() => strtouint16('-')), 'strtol: not a number');
	t.equal(message(() => strtouint16('0x10')), 'strtol: trailing garbage', 'decimal only');
});

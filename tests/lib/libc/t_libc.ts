// SPDX-License-Identifier: BSD-2-Clause
/*
 * libc pieces of the userland: inet_pton/inet_ntop, b64_pton/b64_ntop,
 * strerror and ctime.
 */

import { randomBytes } from 'node:crypto';
import t from 'tap';

import { b64_ntop, b64_pton } from '../../../lib/libc/b64.js';
import { ctime } from '../../../lib/libc/ctime.js';
import { errno_of, strerror } from '../../../lib/libc/err.js';
import { inet_ntop, inet_ntop6, inet_pton, inet_pton4, inet_pton6 } from '../../../lib/libc/inet.js';
import { EEXIST, ENOENT, ENXIO } from '../../../sys/sys/errno.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

t.test('inet_pton4 is strict', async (t) => {
	t.same(inet_pton4('192.168.1.2'), new Uint8Array([192, 168, 1, 2]));
	t.same(inet_pton4('0.0.0.0'), new Uint8Array(4));
	for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-4', '1..3.4', ' 1.2.3.4', '0x1.2.3.4'])
		t.equal(inet_pton4(bad), null, JSON.stringify(bad));
});

t.test('inet_pton6', async (t) => {
	const ok: Array<[string, string]> = [
		['::', '00000000000000000000000000000000'],
		['::1', '00000000000000000000000000000001'],
		['1::', '00010000000000000000000000000000'],
		['fd00::2', 'fd000000000000000000000000000002'],
		['2001:db8:0:0:1:0:0:1', '20010db8000000000001000000000001'],
		['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
		['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
		['::ffff:1.2.3.4', '00000000000000000000ffff01020304'],
		['64:ff9b::192.0.2.33', '0064ff9b0000000000000000c0000221'],
		['FE80::ABCD', 'fe80000000000000000000000000abcd'],
	];
	for (const [s, h] of ok)
		t.same(inet_pton6(s), hex(h), s);
	for (const bad of ['', ':', ':::', '1:::2', '::1::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::',
	    ':1::', '1::2:', 'g::', '::1.2.3', '1.2.3.4::', '::1.2.3.4:5', '1:2:3:4:5:6:7:8::', '::%1'])
		t.equal(inet_pton6(bad), null, JSON.stringify(bad));
	t.equal(inet_pton('1.2.3.4')?.length, 4);
	t.equal(inet_pton('::')?.length, 16);
});

t.test('inet_ntop6 writes RFC 5952 text', async (t) => {
	const cases: Array<[string, string]> = [
		['00000000000000000000000000000000', '::'],
		['00000000000000000000000000000001', '::1'],
		['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
		['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
		['fe800000000000000000000000000000', 'fe80::'],
		['00000000000000000000ffff01020304', '::ffff:1.2.3.4'],
		['00000000000000000000000001020304', '::1.2.3.4'],
		['fd000000000000000000000000000002', 'fd00::2'],
		['00010000000000010000000000000001', '1:0:0:1::1'],
		['00010000000100000000000000010001', '1:0:1::1:1'],
	];
	for (const [h, s] of cases)
		t.equal(inet_ntop6(hex(h)), s, s);
	/* Against WHATWG URL serialization (same compression rules, no dotted quads). */
	for (let i = 0; i < 500; i++) {
		const a = randomBytes(16);
		for (let w = 0; w < 8; w++)
			if (Math.random() < 0.5)
				a.writeUInt16BE(0, w * 2);
		if (a.subarray(0, 10).every((x) => x === 0))
			a[0] = 0x20;	/* keep clear of ::a.b.c.d and ::ffff:a.b.c.d */
		const s = inet_ntop6(new Uint8Array(a));
		t.equal(s, new URL(`http://[${s}]/`).hostname.slice(1, -1), `canonical ${s}`);
		t.same(inet_pton6(s), new Uint8Array(a), `round trip ${s}`);
	}
	t.equal(inet_ntop(new Uint8Array([10, 0, 0, 1])), '10.0.0.1');
});

t.test('b64', async (t) => {
	for (let n = 0; n < 40; n++) {
		const b = new Uint8Array(randomBytes(n));
		const s = b64_ntop(b);
		t.equal(s, Buffer.from(b).toString('base64'));
		t.same(b64_pton(s), b);
	}
	t.same(b64_pton(' AQ\nID ', true), new Uint8Array([1, 2, 3]));
	for (const bad of ['A', 'AB', 'ABC', 'A===', 'AB=C', '====', 'AB==CD==', 'AQ I=', '@@@@', 'AAAAé==='])
		t.equal(b64_pton(bad), null, JSON.stringify(bad));
	t.equal(b64_pton(' AQID'), null, 'whitespace only when asked');
});

t.test('strerror and errno_of', async (t) => {
	t.equal(strerror(EEXIST), 'File exists');
	t.equal(strerror(ENXIO), 'Device not configured');
	t.equal(strerror(16), 'Device busy');
	t.equal(strerror(9999), 'Unknown error: 9999');
	t.equal(errno_of(Object.assign(new Error('x'), { code: 'ENOENT' })), ENOENT);
	t.equal(errno_of(new Error('x')), 5);
});

t.test('ctime', async (t) => {
	const saved = process.env.TZ;
	process.env.TZ = 'UTC';
	t.equal(ctime(1597958882), 'Thu Aug 20 21:28:02 2020');
	t.equal(ctime(1000000000), 'Sun Sep  9 01:46:40 2001');
	process.env.TZ = 'Asia/Tokyo';
	t.equal(ctime(1597958882), 'Fri Aug 21 06:28:02 2020');
	process.env.TZ = saved ?? '';
	if (saved === undefined)
		delete process.env.TZ;
});

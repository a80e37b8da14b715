// SPDX-License-Identifier: BSD-2-Clause
/*
 * wg-keygen(8): clamped private keys, unclamped preshared keys, --pub
 * agreeing with X25519 (cross-checked with wg(8) from wireguard-tools),
 * NetBSD's input rules and usage.
 */

import { execFileSync } from 'node:child_process';
import t from 'tap';

import { run } from '../../harness/fake_kernel.js';

const PROG = 'usr.bin/wg-keygen/wg-keygen';
const KEY_LINE = /^[A-Za-z0-9+/]{43}=\n$/;
const bytes = (s: string): Buffer => Buffer.from(s.trim(), 'base64');

/* RFC 7748 section 6.1 (Alice) and NetBSD's fixed test keys. */
const VECTORS: Array<[string, string]> = [
	[Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex').toString('base64'),
	    Buffer.from('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a', 'hex').toString('base64')],
	['uGXXwmh7Zz6QW3h6axZEGsmVmrwOyfB9VStCnpewgHQ=', 'fdkPmFWHfpIwRavRLWuyzmBOOrKxT6KKLgqVb1g5LhY='],
	['aB2LjrvY4AnimcBR2mLCVeeHx3bUfX7dCWKOkSHU7lE=', '0qqR7Z9K5SABuENaSd7MIBb+y6BReMJUE9L2qBz2rWk='],
];

t.test('private keys are random and clamped', async (t) => {
	const keys = await Promise.all([run(PROG, []), run(PROG, []), run(PROG, [])]);
	for (const r of keys) {
		t.equal(r.code, 0);
		t.equal(r.stderr, '');
		t.match(r.stdout, KEY_LINE);
		const k = bytes(r.stdout);
		t.equal(k.length, 32);
		t.equal(k[0] & 7, 0, 'low 3 bits clear');
		t.equal(k[31] & 0x80, 0, 'top bit clear');
		t.equal(k[31] & 0x40, 0x40, 'bit 254 set');
	}
	t.equal(new Set(keys.map((r) => r.stdout)).size, 3, 'all different');
});

t.test('--psk: 32 random bytes, not clamped', async (t) => {
	const psks = await Promise.all(Array.from({ length: 4 }, () => run(PROG, ['--psk'])));
	for (const r of psks) {
		t.equal(r.code, 0);
		t.match(r.stdout, KEY_LINE);
	}
	t.equal(new Set(psks.map((r) => r.stdout)).size, 4, 'all different');
	/* With 4 keys, all 4 showing clamped bits by chance has probability 2^-20. */
	const clamped = psks.filter((r) => {
		const k = bytes(r.stdout);
		return (k[0] & 7) === 0 && (k[31] & 0xc0) === 0x40;
	});
	t.ok(clamped.length < 4, 'not clamped');
});

t.test('--pub computes X25519(key, 9)', async (t) => {
	for (const [priv, pub] of VECTORS) {
		const r = await run(PROG, ['--pub'], { input: priv + '\n' });
		t.equal(r.stdout, pub + '\n');
		t.equal(r.code, 0);
	}
	const gen = await run(PROG, []);
	const mine = await run(PROG, ['--pub'], { input: gen.stdout });
	const theirs = execFileSync('wg', ['pubkey'], { input: gen.stdout }).toString();
	t.equal(mine.stdout, theirs, 'agrees with wg pubkey');
	const nonl = await run(PROG, ['--pub'], { input: VECTORS[1][0] });
	t.equal(nonl.stdout, VECTORS[1][1] + '\n', 'no trailing newline needed');
	const extra = await run(PROG, ['--pub'], { input: VECTORS[1][0] + 'garbage on the same line\nmore\n' });
	t.equal(extra.stdout, VECTORS[1][1] + '\n', 'fgets reads 44 characters, the rest is ignored');
	const unclamped = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex');
	unclamped[0] |= 7;
	unclamped[31] |= 0x80;
	const r = await run(PROG, ['--pub'], { input: unclamped.toString('base64') + '\n' });
	t.equal(r.stdout, VECTORS[0][1] + '\n', 'X25519 clamps the scalar itself');
});

t.test('--pub rejects bad input', async (t) => {
	const cases: Array<[string, string]> = [
		['', 'Invalid length of a private key'],
		['\n', 'Invalid length of a private key'],
		['abc\n', 'Invalid length of a private key'],
		/* 43 characters and the newline make 44: the length passes and decoding fails, as on NetBSD. */
		[VECTORS[1][0].slice(0, 43) + '\n', 'b64_pton failed'],
		[VECTORS[1][0].slice(0, 42) + '\n', 'Invalid length of a private key'],
		['*'.repeat(44) + '\n', 'b64_pton failed'],
		['A'.repeat(44) + '\n', 'b64_pton failed'],
	];
	const results = await Promise.all(cases.map(([input]) => run(PROG, ['--pub'], { input })));
	cases.forEach(([input, msg], i) => {
		t.equal(results[i].stderr, `wg-keygen: ${msg}\n`, JSON.stringify(input));
		t.equal(results[i].code, 1);
		t.equal(results[i].stdout, '');
	});
});

t.test('usage', async (t) => {
	const argvs = [['--foo'], ['--pub', '--psk'], ['-h'], ['--help'], ['pub']];
	const results = await Promise.all(argvs.map((a) => run(PROG, a)));
	results.forEach((r, i) => {
		t.equal(r.code, 1, argvs[i].join(' '));
		t.equal(r.stdout, '');
		t.equal(r.stderr, 'Usage:\n' +
		    '\twg-keygen       : Generate a private key\n' +
		    '\twg-keygen --pub : Generate a public key from a private key via stdin\n' +
		    '\twg-keygen --psk : Generate a pre-shared key\n');
	});
});

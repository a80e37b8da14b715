// SPDX-License-Identifier: BSD-2-Clause
/*
 * wgconfig(8) against a fake kernel: the exact dictionaries it sends,
 * the exact text it prints for scripted get replies, and every error path.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import {
	type PropDictionary, prop_array_create, prop_dictionary_create, prop_dictionary_externalize,
	prop_dictionary_internalize, prop_dictionary_set, prop_dictionary_set_data,
	prop_dictionary_set_int64, prop_dictionary_set_string, prop_dictionary_set_uint16, prop_string_create,
	prop_dictionary_set_uint32, prop_dictionary_set_uint64, prop_dictionary_set_uint8,
} from '../../../lib/libprop/prop.js';
import { sockaddr_encode } from '../../../lib/libwg/sockaddr.js';
import { type ShimRequest } from '../../../sys/sys/shim.js';
import { AF_INET, AF_INET6 } from '../../../sys/sys/socket.js';
import { SIOCGDRVSPEC, SIOCSDRVSPEC } from '../../../sys/sys/sockio.js';
import { FakeKernel, run, type RunResult } from '../../harness/fake_kernel.js';

type Test = Parameters<Parameters<typeof t.test>[0]>[0];

const PROG = 'sbin/wgconfig/wgconfig';
const dir = mkdtempSync(join(tmpdir(), 't_wgconfig.'));
const fk = await FakeKernel.start();
t.teardown(async () => {
	await fk.close();
	rmSync(dir, { recursive: true, force: true });
});

/* Fixed keys from NetBSD's tests/net/if_wg/common.sh. */
const PRIV = 'uGXXwmh7Zz6QW3h6axZEGsmVmrwOyfB9VStCnpewgHQ=';
const PUB = 'fdkPmFWHfpIwRavRLWuyzmBOOrKxT6KKLgqVb1g5LhY=';
const PEER_PUB = '0qqR7Z9K5SABuENaSd7MIBb+y6BReMJUE9L2qBz2rWk=';
const PEER2_PUB = 'EF9D8AOkmxjlkiRFqBnfJS+RJJHbUy02u+VkGlBr9Eo=';
const PSK = 'Iem5Ih6LFShtlTa59rX+1aEeRW7+RqG4RVJdzUJ8tM0=';
const b = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

const keyfile = join(dir, 'key');
writeFileSync(keyfile, PRIV + '\n', { mode: 0o600 });
const pskfile = join(dir, 'psk');
writeFileSync(pskfile, PSK + '\n', { mode: 0o600 });

function wgconfig(args: string[], env?: Record<string, string | undefined>): Promise<RunResult> {
	return run(PROG, args, { id: fk.id, env });
}

/* The one SIOCSDRVSPEC request sent, with its dictionary internalized. */
function sent(t: Test): { cmd: number; dict: PropDictionary; xml: string } {
	const sets = fk.requests.filter((r): r is Extract<ShimRequest, { op: 'ioctl' }> =>
	    r.op === 'ioctl' && r.req === SIOCSDRVSPEC);
	t.equal(sets.length, 1, 'one SIOCSDRVSPEC');
	const r = sets[0];
	t.equal(r.name, 'wg0');
	const dict = prop_dictionary_internalize(r.data ?? '', r.attach);
	t.ok(dict, 'payload is a dictionary');
	return { cmd: r.cmd ?? -1, dict: dict as PropDictionary, xml: r.data ?? '' };
}

/* Run in small parallel batches: every run is a node start-up. */
async function parallel<T, R>(items: T[], fn: (x: T) => Promise<R>, width = 4): Promise<R[]> {
	const out = new Array<R>(items.length);
	let next = 0;
	const worker = async (): Promise<void> => {
		while (next < items.length) {
			const i = next++;
			out[i] = await fn(items[i]);
		}
	};
	await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
	return out;
}

/* Each case fails with exactly "wgconfig: MSG", exit 1, and nothing reaches the kernel as a set. */
async function fails(t: Test, cases: Array<[string[], string]>): Promise<void> {
	fk.reset();
	const results = await parallel(cases, ([args]) => wgconfig(args));
	cases.forEach(([args, msg], i) => {
		const r = results[i];
		t.equal(r.stderr, `wgconfig: ${msg}\n`, args.join(' '));
		t.equal(r.code, 1, `${args.join(' ')}: exit 1`);
		t.equal(r.stdout, '');
	});
	t.equal(fk.requests.filter((q) => q.op === 'ioctl' && q.req === SIOCSDRVSPEC).length, 0, 'nothing set');
}

async function usage(t: Test, cases: string[][]): Promise<void> {
	fk.reset();
	const results = await parallel(cases, (args) => wgconfig(args));
	cases.forEach((args, i) => {
		const r = results[i];
		t.equal(r.code, 1, `${args.join(' ')}: exit 1`);
		t.match(r.stderr, /^Usage:\n\twgconfig <interface> \[show all\]\n/, `${args.join(' ')}: usage`);
		t.equal(r.stdout, '');
	});
	t.equal(fk.requests.length, 0, 'no request');
}

t.test('usage on bad arity and unknown commands', async (t) => {
	await usage(t, [[], ['-h'], ['-?'], ['--help'], ['wg0', 'show'], ['wg0', 'show', 'nothing'],
	    ['wg0', 'frob', 'peer'], ['wg0', 'sh', 'peer', 'a'], ['wg0', 'show', 'peer'],
	    ['wg0', 'show', 'peer', 'a', '--psk'], ['wg0', 'show', 'peer', 'a', '--show-preshared-key', 'x'],
	    ['wg0', 'set', 'private-key'], ['wg0', 'set', 'private-key', 'a', 'b'],
	    ['wg0', 'set', 'listen-port', '1', '2'], ['wg0', 'add', 'peer', 'a'],
	    ['wg0', 'delete', 'peer'], ['wg0', 'delete', 'peer', 'a', 'b']]);
	const r = await wgconfig(['--help']);
	t.match(r.stderr, /\t {21}\[--persistent-keepalive=<seconds>\]\n/, 'documents the extension');
	t.match(r.stderr, /\twgconfig <interface> delete peer <peer name>\n$/);
});

t.test('interface name length', async (t) => {
	await fails(t, [
		[['wg0123456789abcd'], 'interface name too long'],
	]);
	fk.reset(() => ({ errno: 6 }));
	const r = await wgconfig(['wg0123456789abc']);
	t.equal(r.stderr, 'wgconfig: ioctl(SIOCGDRVSPEC): Device not configured\n', '15 is fine');
});

t.test('set private-key', async (t) => {
	fk.reset();
	const r = await wgconfig(['wg0', 'set', 'private-key', keyfile]);
	t.equal(r.code, 0);
	t.equal(r.stdout + r.stderr, '');
	const { cmd, dict, xml } = sent(t);
	t.equal(cmd, 1, 'WG_IOCTL_SET_PRIVATE_KEY');
	t.same([...dict.value.keys()], ['private_key']);
	t.equal(xml, '<?xml version="1.0" encoding="UTF-8"?>\n' +
	    '<!DOCTYPE plist PUBLIC "-//Apple Computer//DTD PLIST 1.0//EN" ' +
	    '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n' +
	    '<dict>\n\t<key>private_key</key>\n\t<data ref="0"/>\n</dict>\n</plist>\n',
	    'the key is an attachment, not text');
	t.same(fk.requests[0].op === 'ioctl' ? fk.requests[0].attach : null, [b(PRIV)], 'the key, as bytes');

	const nonl = join(dir, 'nonl');
	writeFileSync(nonl, PRIV, { mode: 0o600 });
	fk.reset();
	t.equal((await wgconfig(['wg0', 'set', 'private-key', nonl])).code, 0, 'no newline is fine');
	const junk = join(dir, 'junk');
	writeFileSync(junk, PRIV + 'trailing junk after the first 44 bytes\n', { mode: 0o600 });
	fk.reset();
	t.equal((await wgconfig(['wg0', 'set', 'private-key', junk])).code, 0, 'only the first 44 bytes count');
	t.same(sent(t).dict.value.get('private_key'), { type: 'data', value: b(PRIV) });
	fk.reset();
	t.equal((await wgconfig(['wg0', 'sets', 'private-keys', keyfile])).code, 0, 'words match by prefix');
});

t.test('a key file others can read is used, with a warning', async (t) => {
	const open_key = join(dir, 'open-key');
	writeFileSync(open_key, PRIV + '\n', { mode: 0o644 });
	const open_psk = join(dir, 'open-psk');
	writeFileSync(open_psk, PSK + '\n', { mode: 0o640 });
	fk.reset();
	const r = await wgconfig(['wg0', 'set', 'private-key', open_key]);
	t.equal(r.code, 0, 'private key set');
	t.equal(r.stderr, `wgconfig: warning: ${open_key} is readable by group or others (mode 0644)\n`);
	t.same(sent(t).dict.value.get('private_key'), { type: 'data', value: b(PRIV) });
	fk.reset();
	const p = await wgconfig(['wg0', 'add', 'peer', 'p', PEER_PUB, `--preshared-key=${open_psk}`]);
	t.equal(p.code, 0, 'peer added');
	t.equal(p.stderr, `wgconfig: warning: ${open_psk} is readable by group or others (mode 0640)\n`);
	fk.reset();
	t.equal((await wgconfig(['wg0', 'set', 'private-key', keyfile])).stderr, '', 'mode 0600: no warning');
});

t.test('key file errors name the file', async (t) => {
	const missing = join(dir, 'missing');
	const short = join(dir, 'short');
	writeFileSync(short, 'AAAAAAAAA\n');
	const empty = join(dir, 'empty');
	writeFileSync(empty, '');
	const bad = join(dir, 'bad');
	writeFileSync(bad, '!'.repeat(43) + '=\n');
	const long = join(dir, 'long');
	writeFileSync(long, 'A'.repeat(44) + '\n');
	await fails(t, [
		[['wg0', 'set', 'private-key', missing], `${missing}: fopen: No such file or directory`],
		[['wg0', 'set', 'private-key', short], `${short}: base64 key len is short: 10`],
		[['wg0', 'set', 'private-key', empty], `${empty}: base64 key len is short: 0`],
		[['wg0', 'set', 'private-key', bad], `${bad}: b64_pton failed`],
		[['wg0', 'set', 'private-key', long], `${long}: b64_pton failed`],
		[['wg0', 'set', 'private-key', dir], `${dir}: base64 key len is short: 0`],
		[['wg0', 'add', 'peer', 'p', PEER_PUB, `--preshared-key=${missing}`],
		    `${missing}: fopen: No such file or directory`],
		/* A key typed where its file belongs is not echoed back whole. */
		[['wg0', 'set', 'private-key', PRIV], `${PRIV.slice(0, 4)}...: fopen: No such file or directory`],
		[['wg0', 'add', 'peer', 'p', PEER_PUB, `--preshared-key=${PSK}`],
		    `${PSK.slice(0, 4)}...: fopen: No such file or directory`],
		[['wg0', 'add', 'peer', 'p', PEER_PUB, `--psk=${PSK}`], `invalid option: --psk=${PSK.slice(0, 4)}...`],
	]);
});

t.test('set listen-port', async (t) => {
	fk.reset();
	const r = await wgconfig(['wg0', 'set', 'listen-port', '51820']);
	t.equal(r.code, 0);
	const { cmd, dict, xml } = sent(t);
	t.equal(cmd, 2, 'WG_IOCTL_SET_LISTEN_PORT');
	t.same([...dict.value.keys()], ['listen_port']);
	t.match(xml, '\t<key>listen_port</key>\n\t<integer>0xca6c</integer>\n', 'unsigned, in hex');
	await fails(t, [
		[['wg0', 'set', 'listen-port', 'abc'], 'strtol: not a number'],
		[['wg0', 'set', 'listen-port', ''], 'strtol: not a number'],
		[['wg0', 'set', 'listen-port', '12x'], 'strtol: trailing garbage'],
		[['wg0', 'set', 'listen-port', '65536'], 'out of range'],
		[['wg0', 'set', 'listen-port', '-1'], 'out of range'],
		[['wg0', 'set', 'listen-port', '99999999999999999999'], 'strtol: Result too large or too small'],
		[['wg0', 'set', 'listen-port', '0'], 'port 0 is not allowed'],
	]);
	fk.reset();
	t.equal((await wgconfig(['wg0', 'set', 'listen-port', '65535'])).code, 0);
});

t.test('add peer: the dictionary sent', async (t) => {
	fk.reset();
	const r = await wgconfig(['wg0', 'add', 'peer', 'peer0', PEER_PUB, `--preshared-key=${pskfile}`,
	    '--endpoint=192.168.1.2:51820', '--allowed-ips=10.0.0.2/32,fd00::2/128,192.168.2.0/24',
	    '--persistent-keepalive=25']);
	t.equal(r.code, 0, r.stderr);
	const { cmd, dict } = sent(t);
	t.equal(cmd, 4, 'WG_IOCTL_ADD_PEER');
	const want = prop_dictionary_create();
	prop_dictionary_set_string(want, 'name', 'peer0');
	prop_dictionary_set_data(want, 'public_key', b(PEER_PUB));
	prop_dictionary_set_data(want, 'preshared_key', b(PSK));
	prop_dictionary_set_data(want, 'endpoint',
	    new Uint8Array([16, 2, 0xca, 0x6c, 192, 168, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0]));
	const aips = [[AF_INET, [10, 0, 0, 2], 32], [AF_INET6, [0xfd, 0, ...Array<number>(13).fill(0), 2], 128],
	    [AF_INET, [192, 168, 2, 0], 24]].map(([family, ip, cidr]) => {
		const a = prop_dictionary_create();
		prop_dictionary_set_uint8(a, 'family', family as number);
		prop_dictionary_set_data(a, 'ip', new Uint8Array(ip as number[]));
		prop_dictionary_set_uint8(a, 'cidr', cidr as number);
		return a;
	});
	prop_dictionary_set(want, 'allowedips', prop_array_create(aips));
	prop_dictionary_set_uint16(want, 'persistent_keepalive_interval', 25);
	t.equal(prop_dictionary_externalize(dict), prop_dictionary_externalize(want), 'exact dictionary');

	fk.reset();
	t.equal((await wgconfig(['wg0', 'add', 'peer', 'p', PEER_PUB])).code, 0, 'options are optional');
	t.same([...sent(t).dict.value.keys()].sort(), ['name', 'public_key']);
	fk.reset();
	t.equal((await wgconfig(['wg0', 'add', 'peer', '123456789012345', PEER_PUB])).code, 0, '15-char name');
});

t.test('add peer: endpoints', async (t) => {
	const v6 = (port: number, addr: number[], scope = 0): Uint8Array => {
		const s = new Uint8Array(28);
		s[0] = 28; s[1] = 24; s[2] = port >> 8; s[3] = port & 255;
		s.set(addr, 8);
		new DataView(s.buffer).setUint32(24, scope, true);
		return s;
	};
	const fc00_2 = [0xfc, 0, ...Array<number>(13).fill(0), 2];
	const cases: Array<[string, Uint8Array]> = [
		['[fc00::2]:51820', v6(51820, fc00_2)],
		['fc00::2:51820', v6(51820, fc00_2)],
		['[::ffff:1.2.3.4]:1', v6(1, [...Array<number>(10).fill(0), 255, 255, 1, 2, 3, 4])],
		['[fe80::1%1]:7', v6(7, [0xfe, 0x80, ...Array<number>(13).fill(0), 1], 1)],
		['127.0.0.1:65535', new Uint8Array([16, 2, 255, 255, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])],
	];
	for (const [ep, bytes] of cases) {
		fk.reset();
		const r = await wgconfig(['wg0', 'add', 'peer', 'p', PEER_PUB, `--endpoint=${ep}`]);
		t.equal(r.code, 0, `${ep}: ${r.stderr}`);
		t.same(sent(t).dict.value.get('endpoint'), { type: 'data', value: bytes }, ep);
	}
	fk.reset();
	const r = await wgconfig(['wg0', 'add', 'peer', 'p', PEER_PUB, '--endpoint=localhost:51820']);
	t.equal(r.code, 0, 'host names resolve');
	const ep = sent(t).dict.value.get('endpoint');
	t.ok(ep?.type === 'data' && (ep.value.length === 16 || ep.value.length === 28));

	const add = (e: string): string[] => ['wg0', 'add', 'peer', 'p', PEER_PUB, `--endpoint=${e}`];
	await fails(t, [
		[add('192.168.1.2'), 'no \':\' found in endpoint'],
		[add(''), 'no \':\' found in endpoint'],
		[add('[fc00::2'), 'invalid endpoint format'],
		[add('[fc00::2]51820'), 'invalid endpoint format'],
		[add('[::]'), 'invalid endpoint format'],
		[add('1.2.3.4:'), 'strtol: not a number'],
		[add('1.2.3.4:http'), 'strtol: not a number'],
		[add('1.2.3.4:1x'), 'strtol: trailing garbage'],
		[add('1.2.3.4:65536'), 'out of range'],
		[add('1.2.3.4:0'), 'port 0 is not allowed'],
		[add('[fc00:::2]:5'), 'getaddrinfo: fc00:::2:5 (hostname nor servname provided, or not known)'],
		[add('fc00:::2:5'), 'getaddrinfo: fc00:::2:5 (hostname nor servname provided, or not known)'],
	]);
});

t.test('add peer: allowed-ips errors', async (t) => {
	const add = (a: string): string[] => ['wg0', 'add', 'peer', 'p', PEER_PUB, `--allowed-ips=${a}`];
	await fails(t, [
		[add('10.0.0.1'), 'no \'/\' found in allowed-ip'],
		[add('10.0.0.1/32,'), 'no \'/\' found in allowed-ip'],
		[add(''), 'no \'/\' found in allowed-ip'],
		[add('10.0.0.x/32'), 'getaddrinfo: 10.0.0.x (hostname nor servname provided, or not known)'],
		[add('10.1/16'), 'getaddrinfo: 10.1 (hostname nor servname provided, or not known)'],
		[add('localhost/32'), 'getaddrinfo: localhost (hostname nor servname provided, or not known)'],
		[add('10.0.0.0/33'), 'invalid cidr: 10.0.0.0/33: must be 0..32'],
		[add('fd00::/129'), 'invalid cidr: fd00::/129: must be 0..128'],
		[add('10.0.0.0/abc'), 'strtol: not a number'],
		[add('10.0.0.0/24x'), 'strtol: trailing garbage'],
	]);
	fk.reset();
	t.equal((await wgconfig(add('0.0.0.0/0,::/0'))).code, 0, 'default routes');
});

t.test('add peer: names, keys, options', async (t) => {
	await fails(t, [
		[['wg0', 'add', 'peer', '1234567890123456', PEER_PUB], 'peer name too long'],
		[['wg0', 'add', 'peer', 'p', PEER_PUB.slice(1)], 'invalid public-key length: 43'],
		[['wg0', 'add', 'peer', 'p', PEER_PUB + 'A'], 'invalid public-key length: 45'],
		[['wg0', 'add', 'peer', 'p', '*'.repeat(44)], 'b64_pton failed'],
		[['wg0', 'add', 'peer', 'p', PEER_PUB, '--foo=1'], 'invalid option: --foo=1'],
		[['wg0', 'add', 'peer', 'p', PEER_PUB, '--endpoint'], 'invalid option: --endpoint'],
		[['wg0', 'add', 'peer', 'p', PEER_PUB, '--endpoint=1.2.3.4:1', '--endpoint=1.2.3.4:2'],
		    'duplicate option: --endpoint'],
		[['wg0', 'add', 'peer', 'p', PEER_PUB, '--allowed-ips=1.2.3.4/32', '--allowed-ips=1.2.3.5/32'],
		    'duplicate option: --allowed-ips'],
		[['wg0', 'add', 'peer', 'p', PEER_PUB, '--persistent-keepalive=65536'], 'out of range'],
		[['wg0', 'add', 'peer', 'p', PEER_PUB, '--persistent-keepalive=x'], 'strtol: not a number'],
	]);
});

t.test('delete peer', async (t) => {
	fk.reset();
	t.equal((await wgconfig(['wg0', 'delete', 'peer', 'peer0'])).code, 0);
	const { cmd, dict } = sent(t);
	t.equal(cmd, 8, 'WG_IOCTL_DELETE_PEER');
	t.same([...dict.value.entries()], [['name', { type: 'string', value: 'peer0' }]]);
	await fails(t, [
		[['wg0', 'delete', 'peer', '1234567890123456'], 'peer name too long'],
	]);
});

t.test('kernel errors print strerror', async (t) => {
	fk.reset(() => ({ errno: 17 }));
	let r = await wgconfig(['wg0', 'add', 'peer', 'p', PEER_PUB]);
	t.equal(r.code, 1);
	t.equal(r.stderr, 'wgconfig: ioctl(SIOCSDRVSPEC): File exists\n');
	fk.reset(() => ({ errno: 2 }));
	r = await wgconfig(['wg0', 'delete', 'peer', 'p']);
	t.equal(r.stderr, 'wgconfig: ioctl(SIOCSDRVSPEC): No such file or directory\n');
	fk.reset(() => ({ errno: 1 }));
	r = await wgconfig(['wg0', 'set', 'listen-port', '1']);
	t.equal(r.stderr, 'wgconfig: ioctl(SIOCSDRVSPEC): Operation not permitted\n');
	fk.reset(() => ({ errno: 22, msg: 'bad allowed ip' }));
	r = await wgconfig(['wg0', 'set', 'listen-port', '1']);
	t.equal(r.stderr, 'wgconfig: ioctl(SIOCSDRVSPEC): Invalid argument (bad allowed ip)\n', 'kernel detail');
	fk.reset(() => ({ errno: 6 }));
	r = await wgconfig(['wg1']);
	t.equal(r.stderr, 'wgconfig: ioctl(SIOCGDRVSPEC): Device not configured\n');
	t.equal(r.code, 1);
	fk.reset(() => ({ errno: 0, data: '<dict>' }));
	r = await wgconfig(['wg0']);
	t.equal(r.stderr, 'wgconfig: prop_dictionary_internalize failed: expected <key> or </dict> at line 1 column 7\n',
	    'what is wrong with the reply, and where');
	r = await run(PROG, ['wg0'], { id: fk.id + 1 });
	t.equal(r.stderr, 'wgconfig: ioctl(SIOCGDRVSPEC): Device not configured\n', 'no kernel instance');
	t.equal(r.code, 1);
	r = await run(PROG, ['wg0'], { env: { WG_USERSPACE_ID: 'x' } });
	t.equal(r.code, 1);
	t.match(r.stderr, /^wgconfig: ioctl\(SIOCGDRVSPEC\): Invalid argument \(WG_USERSPACE_ID=x/);
});

/* A get reply as the kernel builds it. */
interface PeerSpec {
	name?: string; pub: string; psk?: string; endpoint?: Uint8Array;
	aips?: Array<[number, number[], number]> | null; hs?: number | null; ka?: number;
}
function get_reply(opts: { priv?: string; pub?: string; port?: number; peers?: PeerSpec[] }): string {
	const d = prop_dictionary_create();
	if (opts.priv)
		prop_dictionary_set_data(d, 'private_key', b(opts.priv));
	if (opts.pub)
		prop_dictionary_set_data(d, 'public_key', b(opts.pub));
	if (opts.port)
		prop_dictionary_set_uint16(d, 'listen_port', opts.port);
	if (opts.peers) {
		prop_dictionary_set(d, 'peers', prop_array_create(opts.peers.map((p) => {
			const pd = prop_dictionary_create();
			if (p.name !== undefined)
				prop_dictionary_set_string(pd, 'name', p.name);
			prop_dictionary_set_data(pd, 'public_key', b(p.pub));
			if (p.psk)
				prop_dictionary_set_data(pd, 'preshared_key', b(p.psk));
			if (p.endpoint)
				prop_dictionary_set_data(pd, 'endpoint', p.endpoint);
			if (p.aips !== null)
				prop_dictionary_set(pd, 'allowedips', prop_array_create((p.aips ?? []).map(([f, ip, c]) => {
					const a = prop_dictionary_create();
					prop_dictionary_set_uint8(a, 'family', f);
					prop_dictionary_set_data(a, 'ip', new Uint8Array(ip));
					prop_dictionary_set_uint8(a, 'cidr', c);
					return a;
				})));
			if (p.hs !== null) {
				prop_dictionary_set_int64(pd, 'last_handshake_time_sec', p.hs ?? 0);
				prop_dictionary_set_uint32(pd, 'last_handshake_time_nsec', 0);
			}
			if (p.ka !== undefined)
				prop_dictionary_set_uint16(pd, 'persistent_keepalive_interval', p.ka);
			return pd;
		})));
	}
	return prop_dictionary_externalize(d);
}

const EP4 = sockaddr_encode({ family: 4, addr: new Uint8Array([192, 168, 1, 2]), port: 51820 });
const EP6 = sockaddr_encode({ family: 6, addr: new Uint8Array([0xfc, 0, ...Array<number>(13).fill(0), 2]), port: 51820 });
const TWO_PEERS: PeerSpec[] = [
	{ name: 'peer1', pub: PEER2_PUB, psk: PSK, endpoint: EP6,
	    aips: [[AF_INET6, [0xfd, 0, ...Array<number>(13).fill(0), 3], 128], [AF_INET, [10, 0, 0, 3], 32]], hs: 1597958882 },
	{ name: 'peer0', pub: PEER_PUB, endpoint: EP4,
	    aips: [[AF_INET, [10, 0, 0, 2], 32], [AF_INET, [192, 168, 2, 0], 24]], hs: 0 },
];

function answer(data: string): void {
	fk.reset((req) => req.op === 'ioctl' && req.req === SIOCGDRVSPEC && req.cmd === 0
	    ? { errno: 0, data } : { errno: 22 });
}

t.test('show all', async (t) => {
	answer(get_reply({ priv: PRIV, pub: PUB, port: 51820, peers: TWO_PEERS }));
	const want = 'interface: wg0\n' +
	    '\tprivate-key: (hidden)\n' +
	    '\tlisten-port: 51820\n' +
	    '\tpeer: peer1\n' +
	    `\t\tpublic-key: ${PEER2_PUB}\n` +
	    '\t\tendpoint: [fc00::2]:51820\n' +
	    '\t\tpreshared-key: (hidden)\n' +
	    '\t\tallowed-ips: fd00::3/128,10.0.0.3/32\n' +
	    '\t\tlatest-handshake: Thu Aug 20 21:28:02 2020\n' +
	    '\tpeer: peer0\n' +
	    `\t\tpublic-key: ${PEER_PUB}\n` +
	    '\t\tendpoint: 192.168.1.2:51820\n' +
	    '\t\tpreshared-key: (hidden)\n' +
	    '\t\tallowed-ips: 10.0.0.2/32,192.168.2.0/24\n' +
	    '\t\tlatest-handshake: (never)\n';
	let r = await wgconfig(['wg0']);
	t.equal(r.stdout, want, 'wgconfig wg0');
	t.equal(r.code, 0);
	t.equal(r.stderr, '');
	t.same(fk.requests.map((q) => ({ ...q, data: undefined })),
	    [{ op: 'ioctl', req: SIOCGDRVSPEC, name: 'wg0', cmd: 0, data: undefined }], 'one get, cmd 0');
	const q = fk.requests[0];
	const qd = prop_dictionary_internalize(q.op === 'ioctl' ? q.data ?? '' : '');
	t.same(qd === null ? null : [...qd.value.entries()], [['brief', { type: 'bool', value: true }],
	    ['cursor', { type: 'number', value: 0n, unsigned: true }]], 'the paged form, brief: a get from the start');
	r = await wgconfig(['wg0', 'show', 'all', 'ignored', 'extra']);
	t.equal(r.stdout, want, 'show all ignores extra arguments');
	r = await wgconfig(['wg0'], { TZ: undefined });
	t.equal(r.stdout, want, 'TZ unset means UTC');
	r = await wgconfig(['wg0', 'show', 'peer', 'peer1'], { TZ: 'Asia/Tokyo' });
	t.match(r.stdout, '\tlatest-handshake: Fri Aug 21 06:28:02 2020\n', 'local time from TZ');
	r = await wgconfig(['wg0', 'show', 'peer', 'peer0'], { TZ: 'America/New_York' });
	t.match(r.stdout, '\tlatest-handshake: (never)\n');

	answer(get_reply({ pub: PUB }));
	r = await wgconfig(['wg0']);
	t.equal(r.stdout, 'interface: wg0\n\tprivate-key: (hidden)\n\tlisten-port: (none)\n', 'no peers, no port');

	answer(get_reply({ port: 1, peers: [
		{ pub: PEER_PUB, aips: null, hs: null },
		{ name: 'e', pub: PEER_PUB, aips: [], ka: 25 },
		{ name: 'd', pub: PEER_PUB, aips: [[AF_INET, [1, 2, 3, 4], 8]], hs: 1000000000 },
	] }));
	r = await wgconfig(['wg0']);
	t.equal(r.stdout, 'interface: wg0\n\tprivate-key: (hidden)\n\tlisten-port: 1\n' +
	    `\tpeer: (none)\n\t\tpublic-key: ${PEER_PUB}\n\t\tendpoint: (none)\n\t\tpreshared-key: (hidden)\n` +
	    '\t\tlatest-handshake: (none)\n' +
	    `\tpeer: e\n\t\tpublic-key: ${PEER_PUB}\n\t\tendpoint: (none)\n\t\tpreshared-key: (hidden)\n` +
	    '\t\tallowed-ips: (none)\n\t\tlatest-handshake: (never)\n\t\tpersistent-keepalive: every 25 seconds\n' +
	    `\tpeer: d\n\t\tpublic-key: ${PEER_PUB}\n\t\tendpoint: (none)\n\t\tpreshared-key: (hidden)\n` +
	    '\t\tallowed-ips: 1.2.3.4/8\n\t\tlatest-handshake: Sun Sep  9 01:46:40 2001\n',
	    'nameless peer, missing and empty allowed-ips, no handshake key, keepalive, day padding');
});

t.test('show peer', async (t) => {
	answer(get_reply({ priv: PRIV, pub: PUB, port: 51820, peers: TWO_PEERS }));
	let r = await wgconfig(['wg0', 'show', 'peer', 'peer0']);
	t.equal(r.stdout, 'peer: peer0\n' +
	    `\tpublic-key: ${PEER_PUB}\n` +
	    '\tendpoint: 192.168.1.2:51820\n' +
	    '\tpreshared-key: (hidden)\n' +
	    '\tallowed-ips: 10.0.0.2/32,192.168.2.0/24\n' +
	    '\tlatest-handshake: (never)\n');
	t.equal(r.code, 0);
	r = await wgconfig(['wg0', 'show', 'peer', 'peer0', '--show-preshared-key']);
	t.match(r.stdout, '\tpreshared-key: (none)\n');
	r = await wgconfig(['wg0', 'show', 'peer', 'peer1', '--show-preshared-key']);
	t.match(r.stdout, `\tpreshared-key: ${PSK}\n`);
	t.match(r.stdout, '\tendpoint: [fc00::2]:51820\n');
	r = await wgconfig(['wg0', 'shows', 'peers', 'peer1', '--show-preshared-keys']);
	t.match(r.stdout, `\tpreshared-key: ${PSK}\n`, 'prefix matching, as NetBSD');
	r = await wgconfig(['wg0', 'show', 'peer', 'peer2']);
	t.equal(r.code, 1);
	t.equal(r.stdout, '');
	t.equal(r.stderr, 'wgconfig: peer not found: peer2\n');
	/* A kernel that counts: two more lines, after NetBSD's. */
	const counted = prop_dictionary_internalize(get_reply({ peers: TWO_PEERS }));
	const pa = counted?.value.get('peers');
	if (pa?.type === 'array')
		for (const pd of pa.value)
			if (pd.type === 'dictionary') {
				prop_dictionary_set_uint64(pd, 'rx_bytes', 1234);
				prop_dictionary_set_uint64(pd, 'tx_bytes', 5678);
			}
	answer(prop_dictionary_externalize(counted!));
	r = await wgconfig(['wg0', 'show', 'peer', 'peer0']);
	t.equal(r.stdout, 'peer: peer0\n' +
	    `\tpublic-key: ${PEER_PUB}\n` +
	    '\tendpoint: 192.168.1.2:51820\n' +
	    '\tpreshared-key: (hidden)\n' +
	    '\tallowed-ips: 10.0.0.2/32,192.168.2.0/24\n' +
	    '\tlatest-handshake: (never)\n' +
	    '\ttransfer: 1234 bytes received, 5678 bytes sent\n' +
	    '\tlatest-handshake-age: (never)\n', 'counters and handshake age after the NetBSD lines');
	r = await wgconfig(['wg0', 'show', 'peer', 'peer1']);
	const age = /\tlatest-handshake-age: (\d+) seconds\n$/.exec(r.stdout);
	t.ok(age !== null && Math.abs(Number(age[1]) - (Math.floor(Date.now() / 1000) - 1597958882)) <= 5,
	    'the age of a handshake in seconds', { stdout: r.stdout });
	r = await wgconfig(['wg0']);
	t.notMatch(r.stdout, /transfer:|handshake-age:/, 'show all stays as NetBSD prints it');

	answer(get_reply({}));
	r = await wgconfig(['wg0', 'show', 'peer', 'peer0']);
	t.equal(r.stderr, 'wgconfig: peer not found: peer0\n', 'no peers at all: also an error');
	t.equal(r.code, 1);
});

t.test('show private-key and public-key', async (t) => {
	answer(get_reply({ priv: PRIV, pub: PUB }));
	let r = await wgconfig(['wg0', 'show', 'private-key']);
	t.equal(r.stdout, `private-key: ${PRIV}\n`);
	r = await wgconfig(['wg0', 'show', 'public-key']);
	t.equal(r.stdout, `public-key: ${PUB}\n`);
	answer(get_reply({ pub: PUB }));
	r = await wgconfig(['wg0', 'show', 'private-key']);
	t.equal(r.stdout, 'private-key: (none)\n', 'not root: the kernel left it out');
	r = await wgconfig(['wg0', 'show', 'public-key']);
	t.equal(r.stdout, `public-key: ${PUB}\n`, 'public key for anyone');
	answer(get_reply({ priv: PRIV }));
	r = await wgconfig(['wg0', 'show', 'public-key']);
	t.equal(r.stdout, `public-key: ${PUB}\n`, 'computed from the private key when the kernel gave none');
	const wgpub = execFileSync('wg', ['pubkey'], { input: PRIV + '\n' }).toString();
	t.equal(wgpub, `${PUB}\n`, 'wg(8) agrees');
	answer(get_reply({}));
	r = await wgconfig(['wg0', 'show', 'public-key']);
	t.equal(r.stdout, 'public-key: (none)\n');
});

t.test('malformed get replies', async (t) => {
	const d = prop_dictionary_create();
	prop_dictionary_set_string(d, 'peers', 'x');
	answer(prop_dictionary_externalize(d));
	let r = await wgconfig(['wg0']);
	t.equal(r.stderr, 'wgconfig: invalid peers\n');
	t.equal(r.code, 1);
	const k = prop_dictionary_create();
	prop_dictionary_set_data(k, 'private_key', new Uint8Array(31));
	answer(prop_dictionary_externalize(k));
	r = await wgconfig(['wg0', 'show', 'private-key']);
	t.equal(r.stderr, 'wgconfig: invalid key len: 31\n');
	const e = prop_dictionary_create();
	const p = prop_dictionary_create();
	prop_dictionary_set_string(p, 'name', 'x');
	prop_dictionary_set_data(p, 'public_key', b(PEER_PUB));
	prop_dictionary_set_data(p, 'endpoint', new Uint8Array(3));
	prop_dictionary_set(e, 'peers', prop_array_create([p]));
	answer(prop_dictionary_externalize(e));
	r = await wgconfig(['wg0', 'show', 'peer', 'x']);
	t.equal(r.stderr, 'wgconfig: invalid endpoint\n');
	t.equal(r.code, 1);
});

/*
 * Peers are read value by value from the reply's text (show.ts): each
 * malformed entry is judged as NetBSD's typed getters judge it, and
 * reported in the order of the lines.
 */
t.test('malformed peers, as NetBSD reads them', async (t) => {
	const aip = (family: number | string, cidr: number | null, ip: Uint8Array | null): PropDictionary => {
		const a = prop_dictionary_create();
		if (typeof family === 'number')
			prop_dictionary_set_uint8(a, 'family', family);
		else
			prop_dictionary_set_string(a, 'family', family);
		if (cidr !== null)
			prop_dictionary_set_uint8(a, 'cidr', cidr);
		if (ip !== null)
			prop_dictionary_set_data(a, 'ip', ip);
		return a;
	};
	const peer = (name: string, f: (p: PropDictionary) => void): PropDictionary => {
		const p = prop_dictionary_create();
		prop_dictionary_set_string(p, 'name', name);
		prop_dictionary_set_data(p, 'public_key', b(PEER_PUB));
		f(p);
		return p;
	};
	const reply = (peers: unknown[]): string => {
		const d = prop_dictionary_create();
		prop_dictionary_set(d, 'peers', prop_array_create(peers as PropDictionary[]));
		return prop_dictionary_externalize(d);
	};
	const nested = prop_dictionary_create();
	prop_dictionary_set(nested, 'deep', prop_array_create([prop_dictionary_create(), prop_string_create('x')]));
	answer(reply([
		peer('a', (p) => {
			prop_dictionary_set(p, 'allowedips', prop_array_create([
				prop_string_create('not a dictionary'), aip(AF_INET, 32, null), aip('two', 32, new Uint8Array(4)),
				aip(AF_INET, null, new Uint8Array(4)), aip(7, 32, new Uint8Array(4)), aip(AF_INET, 24, new Uint8Array(16)),
				aip(AF_INET, 24, new Uint8Array([10, 1, 2, 0])), aip(AF_INET6, 64, new Uint8Array(16)),
			]));
			/* Unknown keys, however deep, are passed over; a number of the wrong range or type is absent. */
			prop_dictionary_set(p, 'zz_unknown', nested);
			prop_dictionary_set_string(p, 'persistent_keepalive_interval', '25');
			prop_dictionary_set_uint32(p, 'rx_bytes', 7);
		}),
		peer('b', (p) => {
			p.value.delete('public_key');
			prop_dictionary_set_uint64(p, 'persistent_keepalive_interval', 65536);
		}),
		peer('c', (p) => {
			prop_dictionary_set_int64(p, 'last_handshake_time_sec', -5);
			prop_dictionary_set_uint16(p, 'persistent_keepalive_interval', 30);
			prop_dictionary_set_string(p, 'endpoint_host', 'vpn.example.org');
			prop_dictionary_set_data(p, 'endpoint', EP6);
		}),
	]));
	let r = await wgconfig(['wg0']);
	t.equal(r.code, 0);
	t.equal(r.stdout,
	    'interface: wg0\n\tprivate-key: (hidden)\n\tlisten-port: (none)\n' +
	    `\tpeer: a\n\t\tpublic-key: ${PEER_PUB}\n\t\tendpoint: (none)\n\t\tpreshared-key: (hidden)\n` +
	    '\t\tallowed-ips: 10.1.2.0/24,::/64\n\t\tlatest-handshake: (none)\n' +
	    '\tpeer: b\n' +
	    `\tpeer: c\n\t\tpublic-key: ${PEER_PUB}\n\t\tendpoint: [fc00::2]:51820 (vpn.example.org)\n` +
	    '\t\tpreshared-key: (hidden)\n\t\tlatest-handshake: (never)\n\t\tpersistent-keepalive: every 30 seconds\n');
	t.equal(r.stderr, ['invalid allowedip', 'allowed-ip without ip', 'allowed-ip without family',
	    'allowed-ip without cidr', 'unknown family 7', 'allowed-ip bad ip length', 'peer without public-key']
	    .map((w) => `wgconfig: ${w}\n`).join(''), 'each warning, in order');

	/* Errors that end wgconfig: the first in the order of the lines wins. */
	const cases: Array<[string, (p: PropDictionary) => void, string[], string]> = [
		['key of another type', (p) => prop_dictionary_set_string(p, 'public_key', PEER_PUB), [], 'invalid key'],
		['short key', (p) => prop_dictionary_set_data(p, 'public_key', new Uint8Array(31)), [], 'invalid key len: 31'],
		['key before endpoint', (p) => {
			prop_dictionary_set_data(p, 'public_key', new Uint8Array(33));
			prop_dictionary_set_data(p, 'endpoint', new Uint8Array(3));
		}, [], 'invalid key len: 33'],
		['endpoint of another type', (p) => prop_dictionary_set_string(p, 'endpoint', '192.0.2.1:1'), [], 'invalid endpoint'],
		['allowedips not an array', (p) => prop_dictionary_set_string(p, 'allowedips', '10.0.0.0/8'), [],
		    'invalid allowedips'],
		['preshared key shown, of another type', (p) => prop_dictionary_set_uint8(p, 'preshared_key', 1),
		    ['--show-preshared-key'], 'invalid key'],
	];
	for (const [what, f, extra, msg] of cases) {
		answer(reply([peer('x', f)]));
		r = await wgconfig(extra.length === 0 ? ['wg0'] : ['wg0', 'show', 'peer', 'x', ...extra]);
		t.equal(r.stderr, `wgconfig: ${msg}\n`, what);
		t.equal(r.code, 1, `${what}: exit 1`);
	}
	/* Another peer's malformed entries do not matter to "show peer NAME". */
	answer(reply([peer('x', (p) => prop_dictionary_set_string(p, 'public_key', 'bad')), peer('y', () => undefined)]));
	r = await wgconfig(['wg0', 'show', 'peer', 'y']);
	t.equal(r.code, 0, 'show peer y, with x malformed');
	t.match(r.stdout, `peer: y\n\tpublic-key: ${PEER_PUB}\n`);
	answer(reply([prop_string_create('not a peer dictionary')]));
	r = await wgconfig(['wg0']);
	t.equal(r.stderr, 'wgconfig: invalid peer\n', 'a peer that is no dictionary');
	t.equal(r.code, 1);
});

t.test('every peer shows, whatever their number', async (t) => {
	const peers: PeerSpec[] = [];
	for (let i = 0; i < 2000; i++)
		peers.push({ name: `p${i}`, pub: PEER_PUB, endpoint: EP4, aips: [[AF_INET, [10, 0, i >> 8, i & 255], 32]] });
	answer(get_reply({ port: 51820, peers }));
	const r = await wgconfig(['wg0']);
	t.equal(r.code, 0);
	const lines = r.stdout.split('\n');
	t.equal(lines.filter((l) => l.startsWith('\tpeer: ')).length, 2000);
	t.equal(lines[3], '\tpeer: p0');
	t.match(r.stdout, '\tpeer: p1999\n');
	t.match(r.stdout, '\t\tallowed-ips: 10.0.7.207/32\n');
});

/*
 * The paged form as the kernel answers it: the page at cursor c holds
 * peers c*10 .. c*10+9 and says (in the frame's head, ShimReply.cursor)
 * where the next starts.  wgconfig asks for every page on one
 * connection, each as soon as the previous is in.
 */
t.test('show all in pages, on one connection', async (t) => {
	const PAGES = 3;
	const page = (c: number): PeerSpec[] => Array.from({ length: 10 }, (_, i) => ({
		name: `p${c * 10 + i}`, pub: PEER_PUB, aips: [[AF_INET, [10, 0, c, i], 32]] as PeerSpec['aips'] }));
	const cursor_of = (q: ShimRequest): number | null => {
		const d = q.op === 'ioctl' ? prop_dictionary_internalize(q.data ?? '') : null;
		const c = d === null ? undefined : d.value.get('cursor');
		return c?.type === 'number' ? Number(c.value) : null;
	};
	/* head: the next cursor in the frame's head; without, in the dictionary only (a kernel from before it). */
	const pages = (fail_at: number, head = true) => (q: ShimRequest) => {
		const c = cursor_of(q);
		if (c === null || c >= PAGES)
			return { errno: 22 };
		if (c === fail_at)
			return { errno: 5 };
		const d = prop_dictionary_internalize(get_reply(c === 0 ? { pub: PUB, port: 51820, peers: page(0) } :
		    { peers: page(c) }));
		const next = c + 1 < PAGES ? c + 1 : undefined;
		if (d !== null && next !== undefined)
			prop_dictionary_set_uint64(d, 'cursor', next);
		return { errno: 0, data_bytes: Buffer.from(prop_dictionary_externalize(d!)), cursor: head ? next : undefined };
	};
	fk.reset(pages(-1));
	let r = await wgconfig(['wg0']);
	t.equal(r.code, 0);
	t.equal(r.stderr, '');
	const names = r.stdout.split('\n').filter((l) => l.startsWith('\tpeer: ')).map((l) => l.slice(7));
	t.same(names, Array.from({ length: 10 * PAGES }, (_, i) => `p${i}`), 'every page\'s peers, in order, once');
	t.ok(r.stdout.startsWith('interface: wg0\n\tprivate-key: (hidden)\n\tlisten-port: 51820\n\tpeer: p0\n'),
	    'the head from page 0 only');
	t.match(r.stdout, '\tpeer: p29\n\t\tpublic-key: ' + PEER_PUB + '\n\t\tendpoint: (none)\n' +
	    '\t\tpreshared-key: (hidden)\n\t\tallowed-ips: 10.0.2.9/32\n\t\tlatest-handshake: (never)\n');
	t.same(fk.requests.map(cursor_of), [0, 1, 2], 'the cursors from the replies\' heads');
	t.same(fk.request_conns, [0, 0, 0], 'one connection');
	const want = r.stdout;

	fk.reset(pages(-1, false));
	r = await wgconfig(['wg0']);
	t.equal(r.stdout, want, 'the cursor in the dictionary only: the same, a page at a time');
	t.same(fk.requests.map(cursor_of), [0, 1, 2]);

	/* A page that fails: what came before is out, then the error, exit 1. */
	fk.reset(pages(1));
	r = await wgconfig(['wg0']);
	t.equal(r.code, 1);
	t.equal(r.stderr, 'wgconfig: ioctl(SIOCGDRVSPEC): Input/output error\n');
	t.match(r.stdout, '\tpeer: p9\n', 'page 0 printed');
	t.notMatch(r.stdout, '\tpeer: p10\n');
	t.same(fk.requests.map(cursor_of), [0, 1], 'nothing asked after the failed page');
});

// SPDX-License-Identifier: BSD-2-Clause
/*
 * The UAPI text parser (sys/net/wg/uapi.ts) and the socket's request
 * framing (uapi_rxbuf in sys/net/if_wg_uapi.ts) against bad input: known
 * bad lines each get their negative errno, random lines never make
 * uapi_set or uapi_get throw, and the framing takes requests split at any
 * point and holds a huge line without rescanning it per chunk.
 * The device is a real WgDevice with a fake io (nothing leaves the test).
 *
 * The random part is seeded; a failure names its seed, and
 * UAPI_FUZZ_SEED=N reruns exactly that case.
 */

import t from 'tap';
import type { WgCrypto } from '../../../sys/crypto/crypto.js';
import { crypto_attach } from '../../../sys/crypto/crypto_select.js';
import { WgDevice, wg_tunables_default } from '../../../sys/net/wg/device.js';
import { uapi_get, uapi_set, type uapi_hooks } from '../../../sys/net/wg/uapi.js';
import { uapi_rxbuf } from '../../../sys/net/if_wg_uapi.js';
import { FakeClock, to_hex } from '../../harness/wg_harness.js';

import { EINVAL, EPROTO } from '../../../sys/sys/errno.js';
import { prng } from '../../harness/prng.js';

function backend(): WgCrypto {
	try {
		return crypto_attach('sodium');
	} catch {
		return crypto_attach('noble');
	}
}
const c = backend();

/* A device whose io only counts; its own public key is known. */
function device(): { dev: WgDevice; sent: { n: number } } {
	const sent = { n: 0 };
	const dev = new WgDevice({
		crypto: c, clock: new FakeClock(), tunables: wg_tunables_default(),
		io: {
			udp_send: () => { sent.n++; },
			tun_write: () => undefined,
			event: () => undefined,
		},
	});
	return { dev, sent };
}

const hooks: uapi_hooks = { set_listen_port: () => 0, set_fwmark: () => 0 };

const K1 = to_hex(c.generate_private_key());
const P1 = to_hex(c.public_key(c.generate_private_key()));
const P2 = to_hex(c.public_key(c.generate_private_key()));

t.test('a good request, read back', async (t) => {
	const { dev } = device();
	const psk = 'ab'.repeat(32);
	const r = uapi_set(dev, [
		`private_key=${K1}`, 'listen_port=51820',
		`public_key=${P1}`, `preshared_key=${psk}`, 'endpoint=[::1]:51821',
		'persistent_keepalive_interval=25', 'replace_allowed_ips=true',
		'allowed_ip=10.9.0.0/24', 'allowed_ip=fd00::/64', 'protocol_version=1', '',
	].join('\n'), hooks);
	t.equal(r, 0, 'errno 0');
	const got = uapi_get(dev, { listen_port: 51820, fwmark: 0 });
	t.match(got, new RegExp(`^private_key=${K1}\n`), 'private key first');
	t.match(got, `\npublic_key=${P1}\npreshared_key=${psk}\n`, 'peer and its psk');
	t.match(got, '\nendpoint=[::1]:51821\n');
	t.match(got, '\npersistent_keepalive_interval=25\n');
	t.match(got, '\nallowed_ip=10.9.0.0/24\nallowed_ip=fd00::/64\n');
	t.ok(got.endsWith('errno=0\n\n'), 'ends the reply');
});

t.test('known bad lines: a negative errno, never an exception', async (t) => {
	const huge = 'a'.repeat(1 << 20);
	const peer = `public_key=${P1}\n`;
	const cases: Array<[string, string, number]> = [
		['a line without "="', 'garbage\n', -EPROTO],
		['a huge line without "="', `${huge}\n`, -EPROTO],
		['a huge value', `private_key=${huge}\n`, -EINVAL],
		['a huge key', `${huge}=1\n`, -EINVAL],
		['an empty key', '=1\n', -EINVAL],
		['NUL bytes', 'private_key=\0\0\0\n', -EINVAL],
		['non-UTF-8, as the socket decodes it', `private_key=${'\ufffd'.repeat(64)}\n`, -EINVAL],
		['a CR at the end', `private_key=${K1}\r\n`, -EINVAL],
		['63 hex digits', `private_key=${K1.slice(1)}\n`, -EINVAL],
		['65 hex digits', `private_key=${K1}0\n`, -EINVAL],
		['not hex', `private_key=${'g'.repeat(64)}\n`, -EINVAL],
		['upper-case key word', `PRIVATE_KEY=${K1}\n`, -EINVAL],
		['unknown device key', 'bogus=1\n', -EINVAL],
		['listen_port over 65535', 'listen_port=65536\n', -EINVAL],
		['listen_port signed', 'listen_port=-1\n', -EINVAL],
		['listen_port with exponent', 'listen_port=1e3\n', -EINVAL],
		['listen_port with 30 digits', `listen_port=${'9'.repeat(30)}\n`, -EINVAL],
		['fwmark over 32 bits', 'fwmark=4294967296\n', -EINVAL],
		['replace_peers=false', 'replace_peers=false\n', -EINVAL],
		['public_key short', 'public_key=00\n', -EINVAL],
		['public_key empty', 'public_key=\n', -EINVAL],
		['endpoint without port', `${peer}endpoint=127.0.0.1\n`, -EINVAL],
		['endpoint port over 65535', `${peer}endpoint=127.0.0.1:65536\n`, -EINVAL],
		['endpoint v6 bracket open', `${peer}endpoint=[::1:51820\n`, -EINVAL],
		['endpoint a host name', `${peer}endpoint=localhost:51820\n`, -EINVAL],
		['endpoint huge', `${peer}endpoint=[${huge}]:1\n`, -EINVAL],
		['allowed_ip cidr 33', `${peer}allowed_ip=10.0.0.0/33\n`, -EINVAL],
		['allowed_ip cidr 129', `${peer}allowed_ip=fd00::/129\n`, -EINVAL],
		['allowed_ip cidr empty', `${peer}allowed_ip=10.0.0.0/\n`, -EINVAL],
		['allowed_ip cidr signed', `${peer}allowed_ip=10.0.0.0/-1\n`, -EINVAL],
		['allowed_ip octal-looking', `${peer}allowed_ip=010.0.0.0/8\n`, -EINVAL],
		['keepalive over 65535', `${peer}persistent_keepalive_interval=65536\n`, -EINVAL],
		['protocol_version 2', `${peer}protocol_version=2\n`, -EINVAL],
		['remove=1', `${peer}remove=1\n`, -EINVAL],
		['update_only=yes', `${peer}update_only=yes\n`, -EINVAL],
		['replace_allowed_ips=1', `${peer}replace_allowed_ips=1\n`, -EINVAL],
		['a device key in a peer section', `${peer}private_key=${K1}\n`, -EINVAL],
		['a peer line without "="', `${peer}garbage\n`, -EPROTO],
		['psk 31 bytes', `${peer}preshared_key=${'00'.repeat(31)}\n`, -EINVAL],
	];
	for (const [what, text, errno] of cases) {
		const { dev } = device();
		let r: number | undefined;
		try {
			r = uapi_set(dev, text, hooks);
		} catch (e) {
			t.fail(`${what}: threw ${(e as Error).message}`);
			continue;
		}
		t.equal(r, errno, `${what}: ${errno}`);
		t.doesNotThrow(() => uapi_get(dev, { listen_port: 0, fwmark: 0 }), `${what}: get still answers`);
	}
});

t.test('a bad line anywhere: nothing of the request is applied', async (t) => {
	const { dev } = device();
	const ports: number[] = [];
	const spy: uapi_hooks = { set_listen_port: (p) => { ports.push(p); return 0; }, set_fwmark: () => 0 };
	t.equal(uapi_set(dev, `private_key=${K1}\nlisten_port=5555\ngarbage\npublic_key=${P1}\n`, spy), -EPROTO);
	t.equal(uapi_set(dev, `listen_port=5555\nprivate_key=zz\n`, spy), -EINVAL);
	t.equal(uapi_set(dev, `private_key=${K1}\npublic_key=${P1}\nallowed_ip=10.0.0.0/33\n`, spy), -EINVAL);
	t.equal(dev.private_key(), null, 'the private key before the bad line was not set');
	t.equal(dev.peers().length, 0, 'no peer was added');
	t.same(ports, [], 'the listen port was never touched');
});

t.test('own public key and update_only sections are skipped, not errors', async (t) => {
	const { dev } = device();
	t.equal(uapi_set(dev, `private_key=${K1}\n`, hooks), 0);
	const own = to_hex(dev.public_key() as Uint8Array);
	t.equal(uapi_set(dev, `public_key=${own}\nallowed_ip=10.0.0.1/32\n`, hooks), 0, 'own key ignored');
	t.equal(uapi_set(dev, `public_key=${P2}\nupdate_only=true\nallowed_ip=10.0.0.2/32\n`, hooks), 0);
	t.equal(dev.peers().length, 0, 'no peer came of either');
});

/* One random line: mostly well-formed words with random values, some garbage. */
function random_line(rnd: () => number): string {
	const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
	const hexs = (n: number): string => {
		let s = '';
		for (let i = 0; i < n; i++)
			s += '0123456789abcdefABCDEF'[Math.floor(rnd() * 22)];
		return s;
	};
	const garbage = (n: number): string => {
		let s = '';
		for (let i = 0; i < n; i++) {
			const r = rnd();
			s += String.fromCharCode(r < 0.8 ? 0x20 + Math.floor(rnd() * 95) :
			    r < 0.9 ? Math.floor(rnd() * 0x20) : 0x80 + Math.floor(rnd() * 0xff80));
		}
		return s.replace(/\n/g, ' ');
	};
	const words = [
		'private_key', 'listen_port', 'fwmark', 'replace_peers', 'public_key', 'remove', 'update_only',
		'preshared_key', 'endpoint', 'persistent_keepalive_interval', 'replace_allowed_ips',
		'allowed_ip', 'protocol_version', 'get', 'set', 'errno',
	];
	const values = [
		() => hexs(64), () => hexs(Math.floor(rnd() * 70)), () => pick([K1, P1, P2, '0'.repeat(64)]),
		() => String(Math.floor(rnd() * 70000)), () => String(Math.floor(rnd() * 2 ** 33)),
		() => pick(['true', 'false', '1', '0', '', '-1', ' 1', '0x10']),
		() => pick(['127.0.0.1:51820', '[::1]:1', '127.0.0.2:0', '[fe80::1%lo]:7', '1.2.3:4', '[::1]', ':']),
		() => pick(['10.0.0.0/8', '10.0.0.1/32', '::/0', '0.0.0.0/0', 'fd00::1/128', '10.0.0.0/33', '1.2.3.4']),
		() => garbage(Math.floor(rnd() * 40)),
	];
	const r = rnd();
	if (r < 0.05)
		return '';
	if (r < 0.12)
		return garbage(Math.floor(rnd() * 80));
	if (r < 0.15)
		return `${garbage(Math.floor(rnd() * 10))}=${garbage(Math.floor(rnd() * 10))}`;
	return `${pick(words)}=${pick(values)()}`;
}

t.test('random requests: never an exception, errno 0 or negative', async (t) => {
	const fixed = process.env.UAPI_FUZZ_SEED;
	const seeds = fixed !== undefined ? [Number(fixed)] :
	    Array.from({ length: 40 }, () => Math.floor(Math.random() * 2 ** 32));
	let requests = 0, threw = 0, bad = 0;
	for (const seed of seeds) {
		const rnd = prng(seed);
		const { dev } = device();
		if (rnd() < 0.5)
			dev.up();
		for (let q = 0; q < 50; q++) {
			const n = Math.floor(rnd() * 12);
			const lines: string[] = [];
			for (let i = 0; i < n; i++)
				lines.push(random_line(rnd));
			const text = lines.join('\n') + '\n';
			let r: number;
			try {
				const before = uapi_get(dev, { listen_port: 1, fwmark: 0 });
				r = uapi_set(dev, text, hooks);
				const g = uapi_get(dev, { listen_port: 1, fwmark: 0 });
				if (r !== 0 && g !== before)
					throw new Error(`a failed request (errno ${r}) changed the device`);
				if (!g.endsWith('errno=0\n\n'))
					throw new Error(`get reply does not end in errno=0: ${JSON.stringify(g.slice(-40))}`);
				dev.tick();
			} catch (e) {
				threw++;
				t.fail(`seed ${seed}, request ${q}: threw ${(e as Error).message}\n${JSON.stringify(text)}`);
				break;
			}
			requests++;
			if (!Number.isInteger(r) || r > 0) {
				bad++;
				t.fail(`seed ${seed}, request ${q}: errno ${r}`);
			}
		}
		dev.destroy();
	}
	t.equal(threw, 0, `${requests} random requests over ${seeds.length} seeds, none threw`);
	t.equal(bad, 0, 'every errno is 0 or negative');
});

t.test('framing: requests split anywhere; a huge line is held, not rescanned', async (t) => {
	const reqs = `get=1\n\nset=1\nprivate_key=${K1}\nlisten_port=1\n\nget=1\n\nset=1\n\n`;
	/* Every split point, and one character at a time. */
	const want = JSON.stringify([{ op: 'get' }, { op: 'set', body: `private_key=${K1}\nlisten_port=1\n` },
	    { op: 'get' }, { op: 'set', body: '' }]);
	/* Bodies are bytes (they hold keys); as text here to compare. */
	const drain = (rx: uapi_rxbuf, out: unknown[]): void => {
		for (let r = rx.take(); r !== null; r = rx.take())
			out.push(typeof r === 'object' && r.op === 'set' ? { op: 'set', body: Buffer.from(r.body).toString() } : r);
	};
	const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');
	let ok = 0;
	for (let i = 0; i <= reqs.length; i++) {
		const rx = new uapi_rxbuf();
		const out: unknown[] = [];
		rx.push(bytes(reqs.slice(0, i)));
		drain(rx, out);
		rx.push(bytes(reqs.slice(i)));
		drain(rx, out);
		if (JSON.stringify(out) === want && rx.length === 0)
			ok++;
	}
	t.equal(ok, reqs.length + 1, 'the same requests whatever the split');
	const rx1 = new uapi_rxbuf();
	const out1: unknown[] = [];
	for (const ch of reqs) {
		rx1.push(bytes(ch));
		drain(rx1, out1);
	}
	t.equal(JSON.stringify(out1), want, 'one character at a time');

	const bad = new uapi_rxbuf();
	bad.push(bytes('get=1\nx'));
	t.equal(bad.take(), 'bad', 'get=1 not followed by a blank line');
	const unk = new uapi_rxbuf();
	unk.push(bytes('hello'));
	t.equal(unk.take(), null, 'nothing before the first newline');
	unk.push(bytes('\n'));
	t.equal(unk.take(), 'unknown', 'an unknown operation');

	/* 64 MiB in 64 KiB chunks without a newline: nothing is ready, and nothing is rescanned. */
	const big = new uapi_rxbuf();
	big.push(bytes('set=1\n'));
	const chunk = bytes('a'.repeat(65536));
	for (let i = 0; i < 1024; i++) {
		big.push(chunk);
		if (big.ready())
			break;
	}
	t.notOk(big.ready(), 'a set without its blank line is not ready');
	t.equal(big.length, 6 + 1024 * 65536, 'all of it counted (the server closes past its limit)');
	big.push(bytes('\n\n'));
	const r = big.take();
	t.ok(r !== null && typeof r === 'object' && r.op === 'set' && r.body.length === 1024 * 65536 + 1,
	    'and it completes with the blank line');
});

// SPDX-License-Identifier: BSD-2-Clause
/*
 * The kernel's ioctl entry with the wg(4) driver behind it, fed random
 * and malformed SIOCSDRVSPEC property lists: every request gets an errno
 * reply, the instance keeps serving, nothing escapes as an uncaught
 * exception, and a get from anyone but root never carries a private or
 * preshared key.
 *
 * The interface stays down and every endpoint is on the loopback, so
 * nothing is ever sent.  The random part is seeded; a failure names the
 * seed and IOCTL_FUZZ_SEED=N reruns it.
 */

import { readFileSync } from 'node:fs';
import t from 'tap';
import { Lab } from '../../harness/netns.js';
import {
	type PropObject, prop_array_create, prop_bool_create, prop_data_create, prop_dictionary_create,
	prop_dictionary_externalize, prop_dictionary_get_data, prop_dictionary_get_array,
	prop_dictionary_internalize, prop_number_create_signed, prop_number_create_unsigned,
	prop_object_externalize, prop_string_create,
} from '../../../lib/libprop/prop.js';
import {
	WGK_ALLOWEDIPS, WGK_BRIEF, WGK_CIDR, WGK_CURSOR, WGK_ENDPOINT, WGK_FAMILY, WGK_IP, WGK_LAST_HANDSHAKE_NSEC,
	WGK_LISTEN_PORT, WGK_NAME, WGK_PEERS, WGK_PERSISTENT_KEEPALIVE, WGK_PRESHARED_KEY, WGK_PRIVATE_KEY,
	WGK_PUBLIC_KEY, WGK_RX_BYTES, WGK_TX_BYTES, WG_IOCTL_ADD_PEER,
	WG_IOCTL_DELETE_PEER, WG_IOCTL_GET, WG_IOCTL_SET_LISTEN_PORT, WG_IOCTL_SET_PEER, WG_IOCTL_SET_PRIVATE_KEY,
} from '../../../sys/net/if_wg.h.js';
import { SIOCGDRVSPEC, SIOCIFCREATE, SIOCSDRVSPEC } from '../../../sys/sys/sockio.js';
import { boot_daemon, kclients, logfile, random_id, request } from '../../harness/kern.js';
import { prng } from '../../harness/prng.js';

t.setTimeout(120_000);

const KEYS = [
	WGK_PRIVATE_KEY, WGK_PUBLIC_KEY, WGK_LISTEN_PORT, WGK_PEERS, WGK_NAME, WGK_PRESHARED_KEY, WGK_ENDPOINT,
	WGK_ALLOWEDIPS, WGK_FAMILY, WGK_IP, WGK_CIDR, WGK_PERSISTENT_KEEPALIVE, '__proto__', 'constructor', '',
];
/* The driver's commands, often, and some it does not have. */
const CMDS = [WG_IOCTL_SET_PRIVATE_KEY, WG_IOCTL_SET_LISTEN_PORT, WG_IOCTL_ADD_PEER, WG_IOCTL_ADD_PEER,
	WG_IOCTL_ADD_PEER, WG_IOCTL_DELETE_PEER, WG_IOCTL_SET_PEER, 0, 3, 32, -1, 0x7fffffff];

function bytes(rnd: () => number, n: number): Uint8Array {
	const b = new Uint8Array(n);
	for (let i = 0; i < n; i++)
		b[i] = Math.floor(rnd() * 256);
	return b;
}

/* A loopback sockaddr (or a broken one): nothing may ever be sent off this machine. */
function endpoint(rnd: () => number): Uint8Array {
	const r = rnd();
	if (r < 0.5) {
		const b = new Uint8Array(16);
		b[0] = 16; b[1] = 2; b[2] = 0xca; b[3] = 0x6c; b[4] = 127; b[7] = 1;
		return b;
	}
	if (r < 0.85) {
		const b = new Uint8Array(28);
		b[0] = 28; b[1] = 24; b[2] = 0xca; b[3] = 0x6d; b[23] = 1;
		return b;
	}
	const b = bytes(rnd, Math.floor(rnd() * 32));
	if (b.length > 4)
		b[4] = 127;	/* an AF_INET shape that slips through is still loopback */
	if (b.length > 1 && b[1] === 24)
		b[1] = 25;	/* never a valid sockaddr_in6 with random bytes */
	return b;
}

function random_object(rnd: () => number, depth: number): PropObject {
	const r = rnd();
	if (depth < 4 && r < 0.2) {
		const d = prop_dictionary_create();
		const n = Math.floor(rnd() * 5);
		for (let i = 0; i < n; i++)
			d.value.set(KEYS[Math.floor(rnd() * KEYS.length)], random_object(rnd, depth + 1));
		return d;
	}
	if (depth < 4 && r < 0.3)
		return prop_array_create(Array.from({ length: Math.floor(rnd() * 4) }, () => random_object(rnd, depth + 1)));
	if (r < 0.55)
		return prop_data_create(bytes(rnd, rnd() < 0.6 ? 32 : Math.floor(rnd() * 40)));
	if (r < 0.7)
		return prop_string_create(['wg', 'peer0', '', 'a'.repeat(16), 'x\0y', '\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9'][Math.floor(rnd() * 6)]);
	if (r < 0.8)
		return prop_number_create_unsigned(rnd() < 0.5 ? Math.floor(rnd() * 70000) : 2n ** 64n - 1n);
	if (r < 0.9)
		return prop_number_create_signed(rnd() < 0.5 ? -Math.floor(rnd() * 100) : Math.floor(rnd() * 200));
	return prop_bool_create(rnd() < 0.5);
}

/* A dictionary shaped like a real request, with some fields wrong. */
function random_request_dict(rnd: () => number): PropObject {
	const d = prop_dictionary_create();
	const maybe = (p: number, k: string, v: () => PropObject): void => {
		if (rnd() < p)
			d.value.set(k, rnd() < 0.9 ? v() : random_object(rnd, 1));
	};
	maybe(0.5, WGK_PRIVATE_KEY, () => prop_data_create(bytes(rnd, 32)));
	maybe(0.85, WGK_PUBLIC_KEY, () => prop_data_create(bytes(rnd, 32)));
	maybe(0.6, WGK_NAME, () => prop_string_create(`p${Math.floor(rnd() * 20)}`));
	maybe(0.3, WGK_PRESHARED_KEY, () => prop_data_create(rnd() < 0.2 ? new Uint8Array(32) : bytes(rnd, 32)));
	maybe(0.3, WGK_ENDPOINT, () => prop_data_create(endpoint(rnd)));
	maybe(0.3, WGK_LISTEN_PORT, () => prop_number_create_unsigned(Math.floor(rnd() * 70000)));
	maybe(0.2, WGK_PERSISTENT_KEEPALIVE, () => prop_number_create_unsigned(Math.floor(rnd() * 70000)));
	maybe(0.4, WGK_ALLOWEDIPS, () => prop_array_create(Array.from({ length: Math.floor(rnd() * 4) }, () => {
		const a = prop_dictionary_create();
		const v6 = rnd() < 0.5;
		a.value.set(WGK_FAMILY, prop_number_create_unsigned(rnd() < 0.9 ? (v6 ? 24 : 2) : Math.floor(rnd() * 30)));
		a.value.set(WGK_IP, prop_data_create(bytes(rnd, rnd() < 0.9 ? (v6 ? 16 : 4) : Math.floor(rnd() * 20))));
		a.value.set(WGK_CIDR, prop_number_create_unsigned(Math.floor(rnd() * (rnd() < 0.9 ? (v6 ? 129 : 33) : 300))));
		return a;
	})));
	return d;
}

/* Valid text, cut or with characters changed. */
function mutate(rnd: () => number, text: string): string {
	const r = rnd();
	if (r < 0.3)
		return text.slice(0, Math.floor(rnd() * text.length));
	const a = [...text];
	const n = 1 + Math.floor(rnd() * 5);
	for (let i = 0; i < n; i++)
		a[Math.floor(rnd() * a.length)] = '<>/&=\0"x\u00ff\ud800'[Math.floor(rnd() * 10)];
	return a.join('');
}

function random_data(rnd: () => number): string | undefined {
	const r = rnd();
	if (r < 0.05)
		return undefined;
	if (r < 0.6)
		return prop_object_externalize(random_request_dict(rnd));
	if (r < 0.75)
		return prop_object_externalize(random_object(rnd, 0));
	if (r < 0.9)
		return mutate(rnd, prop_object_externalize(random_request_dict(rnd)));
	return String.fromCharCode(...bytes(rnd, Math.floor(rnd() * 200)));
}

/* Hand-made bad lists. */
function known_bad(): Array<[string, number, string]> {
	const deep = '<array>'.repeat(200) + '</array>'.repeat(200);
	const dict = (body: string): string => `<plist version="1.0"><dict>${body}</dict></plist>`;
	const key32 = Buffer.alloc(32, 7).toString('base64');
	return [
		['not XML', WG_IOCTL_ADD_PEER, 'hello'],
		['an array, not a dictionary', WG_IOCTL_ADD_PEER, prop_object_externalize(prop_array_create())],
		['nested 200 deep', WG_IOCTL_ADD_PEER, deep],
		['private_key 31 bytes', WG_IOCTL_SET_PRIVATE_KEY, dict(`<key>private_key</key><data>${Buffer.alloc(31).toString('base64')}</data>`)],
		['private_key a string', WG_IOCTL_SET_PRIVATE_KEY, dict(`<key>private_key</key><string>${key32}</string>`)],
		['private_key bad base64', WG_IOCTL_SET_PRIVATE_KEY, dict('<key>private_key</key><data>!!!!</data>')],
		['listen_port 65536', WG_IOCTL_SET_LISTEN_PORT, dict('<key>listen_port</key><integer>65536</integer>')],
		['listen_port -1', WG_IOCTL_SET_LISTEN_PORT, dict('<key>listen_port</key><integer>-1</integer>')],
		['listen_port 2^64', WG_IOCTL_SET_LISTEN_PORT, dict('<key>listen_port</key><integer>0x10000000000000000</integer>')],
		['peer without public_key', WG_IOCTL_ADD_PEER, dict('<key>name</key><string>p</string>')],
		['peer name 16 bytes', WG_IOCTL_ADD_PEER, dict(`<key>name</key><string>${'n'.repeat(16)}</string><key>public_key</key><data>${key32}</data>`)],
		['peer allowedips not an array', WG_IOCTL_ADD_PEER, dict(`<key>allowedips</key><string>x</string><key>public_key</key><data>${key32}</data>`)],
		['peer cidr 33', WG_IOCTL_ADD_PEER, dict(`<key>allowedips</key><array><dict><key>cidr</key><integer>33</integer><key>family</key><integer>2</integer><key>ip</key><data>CgAAAA==</data></dict></array><key>public_key</key><data>${key32}</data>`)],
		['peer endpoint garbage', WG_IOCTL_ADD_PEER, dict(`<key>endpoint</key><data>AAAA</data><key>public_key</key><data>${key32}</data>`)],
		['delete without name', WG_IOCTL_DELETE_PEER, dict('')],
		['set peer keepalive 70000', WG_IOCTL_SET_PEER, dict('<key>name</key><string>p</string><key>persistent_keepalive_interval</key><integer>70000</integer>')],
		['an unknown entity', WG_IOCTL_ADD_PEER, dict('<key>name&bogus;</key><string>p</string>')],
		['an unterminated comment', WG_IOCTL_ADD_PEER, '<!-- ' + dict('')],
		['over WG_MAX_PROPLEN', WG_IOCTL_ADD_PEER, dict(`<key>name</key><string>${'x'.repeat(40000)}</string>`)],
	];
}

t.test('random and malformed SIOCSDRVSPEC: errno replies, the instance lives', async (t) => {
	const lab = new Lab(t, 'wgf');
	const h = lab.host('a');
	const id = random_id();
	await boot_daemon(t, h, id);
	const { root, nobody } = kclients(t, h, id);
	t.equal((await request(h, id, { op: 'ioctl', req: SIOCIFCREATE, name: 'wg0' })).errno, 0, 'wg0 created');
	const set = (cmd: number, data: string | undefined): { req: unknown } =>
	    ({ req: { op: 'ioctl', req: SIOCSDRVSPEC, name: 'wg0', cmd, ...(data === undefined ? {} : { data }) } });
	const get = { req: { op: 'ioctl', req: SIOCGDRVSPEC, name: 'wg0', cmd: WG_IOCTL_GET } };

	let replies = 0, malformed = 0;
	const check = (r: { errno: number; closed?: boolean; timeout?: boolean }, what: string): void => {
		replies++;
		if (!Number.isInteger(r.errno) || r.errno < 0 || r.closed === true || r.timeout === true) {
			malformed++;
			t.fail(`${what}: ${JSON.stringify(r)}`);
		}
	};

	const bad = known_bad();
	const out = await root.steps(bad.map(([, cmd, data]) => set(cmd, data)));
	bad.forEach(([what], i) => {
		check(out[i], what);
		t.not(out[i].errno, 0, `${what}: refused`);
	});

	const fixed = process.env.IOCTL_FUZZ_SEED;
	const seed = fixed !== undefined ? Number(fixed) : Math.floor(Math.random() * 2 ** 32);
	const rnd = prng(seed);
	const errnos = new Map<number, number>();
	for (let batch = 0; batch < 12; batch++) {
		const steps = [];
		for (let i = 0; i < 25; i++)
			steps.push(set(CMDS[Math.floor(rnd() * CMDS.length)], random_data(rnd)));
		steps.push(get);
		const rs = await root.steps(steps);
		rs.forEach((r, i) => {
			check(r, `seed ${seed}, batch ${batch}, request ${i}`);
			if (i < 25)
				errnos.set(r.errno, (errnos.get(r.errno) ?? 0) + 1);
		});
		const g = rs[rs.length - 1];
		if (g.errno !== 0 || typeof g.data !== 'string' || prop_dictionary_internalize(g.data, g.attach) === null)
			t.fail(`seed ${seed}, batch ${batch}: root's get: ${JSON.stringify(g).slice(0, 200)}`);
	}
	const hist = [...errnos].sort((a, b) => a[0] - b[0]).map(([e, n]) => `${e}: ${n}`).join(', ');
	t.equal(malformed, 0, `seed ${seed}: ${replies} replies, each an errno (random ones by errno: ${hist})`);

	/* Make sure there is something secret to leak, then look as nobody. */
	const keys = prop_dictionary_create();
	keys.value.set(WGK_PRIVATE_KEY, prop_data_create(new Uint8Array(32).fill(9)));
	const peer = prop_dictionary_create();
	peer.value.set(WGK_PUBLIC_KEY, prop_data_create(new Uint8Array(32).fill(0x42)));
	peer.value.set(WGK_PRESHARED_KEY, prop_data_create(new Uint8Array(32).fill(0x55)));
	const [pk, pp] = await root.steps([set(WG_IOCTL_SET_PRIVATE_KEY, prop_dictionary_externalize(keys)),
	    set(WG_IOCTL_ADD_PEER, prop_dictionary_externalize(peer))]);
	t.equal(pk.errno, 0, 'a private key set');
	t.ok(pp.errno === 0 || pp.errno === 17, 'a peer with a preshared key added (or there already)');
	const rg = await root.req(get.req);
	const dr = prop_dictionary_internalize(rg.data ?? '', rg.attach);
	t.ok(dr !== null && prop_dictionary_get_data(dr, WGK_PRIVATE_KEY) !== null, 'root sees the private key');
	t.notMatch(rg.data ?? '', Buffer.alloc(32, 9).toString('base64'), 'as an attachment: its bytes are not in the text');
	const rpeer = (dr === null ? [] : prop_dictionary_get_array(dr, WGK_PEERS)?.value ?? [])
	    .find((p) => p.type === 'dictionary' && Buffer.from(prop_dictionary_get_data(p, WGK_PUBLIC_KEY) ?? []).equals(Buffer.alloc(32, 0x42)));
	const rpsk = rpeer?.type === 'dictionary' ? prop_dictionary_get_data(rpeer, WGK_PRESHARED_KEY) : null;
	t.ok(rpsk !== null && Buffer.from(rpsk).equals(Buffer.alloc(32, 0x55)), 'root sees the preshared key');
	t.notMatch(rg.data ?? '', Buffer.alloc(32, 0x55).toString('base64'), '... as an attachment too: not in the text');
	/* A brief get (a listing's) holds no preshared key, counters or nanoseconds, even for root. */
	const q = prop_dictionary_create();
	q.value.set(WGK_CURSOR, prop_number_create_unsigned(0));
	q.value.set(WGK_BRIEF, prop_bool_create(true));
	const rb = await root.req({ ...get.req, data: prop_dictionary_externalize(q) });
	/* A page's text is the first attachment (sys/sys/shim.ts data_bytes). */
	const db = prop_dictionary_internalize(rb.attach?.[0] ?? '', rb.attach?.slice(1));
	const bpeers = db === null ? [] : prop_dictionary_get_array(db, WGK_PEERS)?.value ?? [];
	t.ok(bpeers.length > 0 && bpeers.every((p) => p.type === 'dictionary' && p.value.has(WGK_PUBLIC_KEY) &&
	    ![WGK_PRESHARED_KEY, WGK_RX_BYTES, WGK_TX_BYTES, WGK_LAST_HANDSHAKE_NSEC].some((k) => p.value.has(k))),
	    'brief: peers without preshared keys or counters', { errno: rb.errno });
	t.equal(rb.attach?.length, 2, 'brief: the page\'s text and the private key, nothing else attached');
	q.value.set(WGK_BRIEF, prop_string_create('yes'));
	const rbad = await root.req({ ...get.req, data: prop_dictionary_externalize(q) });
	t.same([rbad.errno, rbad.msg], [22, 'brief: a boolean expected'], 'brief: a boolean or EINVAL');
	const ng = await nobody.req(get.req);
	t.equal(ng.errno, 0, 'nobody may read');
	const dn = prop_dictionary_internalize(ng.data ?? '', ng.attach);
	t.ok(dn !== null, 'a dictionary');
	if (dn !== null) {
		t.equal(prop_dictionary_get_data(dn, WGK_PRIVATE_KEY), null, 'no private key for nobody');
		const peers = prop_dictionary_get_array(dn, WGK_PEERS)?.value ?? [];
		t.ok(peers.length > 0, 'peers are listed');
		t.ok(peers.every((p) => p.type === 'dictionary' && !p.value.has(WGK_PRESHARED_KEY)),
		    'no preshared key for nobody');
	}
	t.notMatch(ng.data ?? '', Buffer.alloc(32, 0x55).toString('base64'), 'the psk bytes appear nowhere');

	const ic = await request(h, id, { op: 'ifconf' });
	t.equal(ic.errno, 0, 'the instance still serves');
	t.ok(ic.ifs?.some((i) => i.name === 'wg0'), '... and wg0 is still there');
	const log = readFileSync(logfile(h), 'utf8');
	t.notMatch(log, /uncaught exception|unhandled rejection|data path thread (exited|failed)|internal error/,
	    'nothing escaped into the log');
});

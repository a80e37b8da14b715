// SPDX-License-Identifier: BSD-2-Clause
/*
 * The ioctl shim in one process, a shim_server (sys/kern/kern_shim.ts)
 * with a recording driver and the real client (lib/libc/ioctl.ts):
 *   - secrets in transit (share/doc/DESIGN.md §10): a key travels as a
 *     binary attachment, never as text in the JSON, and every buffer it
 *     passed through is zero once the request is done, in the tool and
 *     in the kernel;
 *   - a listing on one kept connection (shim_socket): the next page is
 *     asked for while this one is still held, each page in a frame
 *     buffer of its own until shim_reply_done, and the reply's cursor
 *     is checked;
 *   - a request from root that never completes is cut after
 *     SHIM_ROOT_REQUEST_TIMEOUT_MS (its timer is fired here, not waited
 *     for).
 * The client authenticates the kernel by SO_PEERCRED, so this needs
 * root, as CI runs it.
 */

import { Socket, connect } from 'node:net';
import t from 'tap';

import {
	prop_dictionary_create, prop_dictionary_externalize, prop_dictionary_externalize_attach, prop_dictionary_get_data,
	prop_dictionary_internalize, prop_dictionary_set_data_nocopy,
} from '../../../lib/libprop/prop.js';
import { SHIM_ID_ENV, shim_reply_done, shim_request, shim_socket } from '../../../lib/libc/ioctl.js';
import { SHIM_REQUEST_TIMEOUT_MS, SHIM_ROOT_REQUEST_TIMEOUT_MS, shim_server, type shim_result } from '../../../sys/kern/kern_shim.js';
import { shim_frame_decode, shim_frame_encode, shim_socket_name, type ShimRequest } from '../../../sys/sys/shim.js';
import { EINVAL, EIO } from '../../../sys/sys/errno.js';
import { SIOCGDRVSPEC, SIOCSDRVSPEC } from '../../../sys/sys/sockio.js';
import { crypto_key_alloc } from '../../../sys/crypto/crypto_util.js';
import { WGK_PRIVATE_KEY, WG_IOCTL_SET_PRIVATE_KEY } from '../../../sys/net/if_wg.h.js';

/* A key whose base64 and hex forms could not appear in a frame by chance. */
function key(): Uint8Array {
	const k = crypto_key_alloc(32);
	for (let i = 0; i < 32; i++)
		k[i] = (i * 37 + 11) & 0xff;
	return k;
}
const KEY = key();
const KEY_B64 = Buffer.from(KEY).toString('base64');
const KEY_HEX = Buffer.from(KEY).toString('hex');

const is_zero = (b: Uint8Array): boolean => b.every((x) => x === 0);

/* An instance id no real instance uses. */
const random_id = (): number => 900000000 + Math.floor(Math.random() * 90000000);

/* What wgconfig set private-key sends. */
function set_private_key_request(): ShimRequest {
	const d = prop_dictionary_create();
	prop_dictionary_set_data_nocopy(d, WGK_PRIVATE_KEY, key());
	const { text, attach } = prop_dictionary_externalize_attach(d);
	return { op: 'ioctl', req: SIOCSDRVSPEC, name: 'wg0', cmd: WG_IOCTL_SET_PRIVATE_KEY, data: text, attach };
}

/* Where needle is in hay, -1 if nowhere. */
function find(hay: Uint8Array, needle: Uint8Array): number {
	return Buffer.from(hay.buffer, hay.byteOffset, hay.length).indexOf(needle);
}

t.test('a set private-key frame: the key is an attachment, not text', async (t) => {
	const req = set_private_key_request();
	const attach = req.op === 'ioctl' ? req.attach ?? [] : [];
	t.equal(attach.length, 1, 'one attachment');
	const frame = shim_frame_encode(req);
	t.ok(attach.every(is_zero), 'the attachment given is wiped once framed');
	const body = frame.subarray(4);
	const nul = body.indexOf(0);
	t.ok(nul > 0, 'JSON, then a NUL');
	const json = body.toString('latin1', 0, nul);
	t.notOk(json.includes(KEY_B64), 'no base64 of the key in the JSON');
	t.notOk(json.toLowerCase().includes(KEY_HEX), 'no hex of the key in the JSON');
	t.notOk(json.includes('"attach"'), 'the attachments are not in the JSON either');
	t.match(json, /<data ref=\\"0\\"\/>/, 'the dictionary refers to the attachment');
	t.equal(find(body, KEY), nul + 1 + 4, 'the key bytes are the attachment, after its length');
	const f = shim_frame_decode(body);
	t.ok(f !== null, 'decodes');
	if (f === null)
		return;
	const d = prop_dictionary_internalize((f.msg as { data: string }).data, f.attach);
	t.same(d === null ? null : prop_dictionary_get_data(d, WGK_PRIVATE_KEY), KEY, 'and internalizes to the key');
	frame.fill(0);
	t.ok(is_zero(f.attach[0]), 'the decoded attachment is a view: wiping the frame wipes it');
});

t.test('malformed attachments are refused', async (t) => {
	const json = Buffer.from('{"errno":0}');
	const cases: Array<[string, Buffer]> = [
		['a length cut short', Buffer.concat([json, Buffer.from([0, 0, 0])])],
		['a length past the end', Buffer.concat([json, Buffer.from([0, 0, 0, 0, 9, 1, 2])])],
		['garbage after the NUL', Buffer.concat([Buffer.from('{"errno":0'), Buffer.from([0, 0, 0, 0, 0])])],
	];
	for (const [what, body] of cases)
		t.equal(shim_frame_decode(body), null, what);
	t.same(shim_frame_decode(Buffer.concat([json, Buffer.from([0, 0, 0, 0, 0])]))?.attach, [new Uint8Array(0)],
	    'an empty attachment is one');
	const d = prop_dictionary_create();
	prop_dictionary_set_data_nocopy(d, WGK_PRIVATE_KEY, key());
	const { text, attach } = prop_dictionary_externalize_attach(d);
	t.equal(prop_dictionary_internalize(text), null, 'a ref without attachments is malformed');
	t.equal(prop_dictionary_internalize(text, [...attach, new Uint8Array(1)]), null, 'an attachment left over is malformed');
	t.equal(prop_dictionary_internalize(text.replace('ref="0"', 'ref="1"'), [attach[0], attach[0]]), null,
	    'refs come in order');
});

const is_root = typeof process.geteuid !== 'function' || process.geteuid() === 0;

t.test('client and kernel wipe every buffer the key passed through', async (t) => {
	if (!is_root) {
		t.fail('needs root: the client accepts only a kernel whose socket is root\'s');
		return;
	}
	/* Every frame written on a socket, both ways, kept to look at afterwards. */
	const written: Buffer[] = [];
	const proto = Socket.prototype as unknown as { write: (this: Socket, ...a: unknown[]) => boolean };
	const write = proto.write;
	proto.write = function (this: Socket, ...a: unknown[]): boolean {
		/* Shim frames only (a length, then that many bytes), not the test's own output. */
		const chunk = a[0];
		if (Buffer.isBuffer(chunk) && chunk.length >= 4 && chunk.readUInt32BE(0) === chunk.length - 4)
			written.push(chunk);
		return write.apply(this, a);
	};
	t.teardown(() => { proto.write = write; });

	/* The driver: records what it was given, and answers a get with the key as an attachment. */
	const seen: Uint8Array[] = [];
	const replied: Uint8Array[] = [];
	const driver = (req: ShimRequest): Promise<shim_result> => {
		if (req.op !== 'ioctl')
			return Promise.resolve({ reply: { errno: 22 } });
		if (req.req === SIOCSDRVSPEC) {
			const d = prop_dictionary_internalize(req.data ?? '', req.attach);
			const k = d === null ? null : prop_dictionary_get_data(d, WGK_PRIVATE_KEY);
			seen.push(...(req.attach ?? []));
			return Promise.resolve({ reply: { errno: k !== null && Buffer.compare(k, KEY) === 0 ? 0 : 22 } });
		}
		const d = prop_dictionary_create();
		prop_dictionary_set_data_nocopy(d, WGK_PRIVATE_KEY, key());
		if (req.cmd === 1) {
			const data_bytes = Buffer.from(prop_dictionary_externalize(d), 'utf8');
			replied.push(data_bytes);
			return Promise.resolve({ reply: { errno: 0, data_bytes } });
		}
		const { text, attach } = prop_dictionary_externalize_attach(d);
		replied.push(...attach);
		return Promise.resolve({ reply: { errno: 0, data: text, attach } });
	};
	const id = random_id();
	const k = new shim_server(id, driver);
	await k.listen();
	t.teardown(() => k.close());

	const req = set_private_key_request();
	const sent = req.op === 'ioctl' ? req.attach ?? [] : [];
	const r = await shim_request(id, req);
	t.equal(r.errno, 0, 'the kernel got the key, as bytes');
	t.ok(sent.every(is_zero), 'client: the request\'s attachments are zero');
	t.equal(seen.length, 1, 'kernel: one attachment seen');
	/* The kernel wipes the frame once served, before it writes the reply. */
	t.ok(seen.every(is_zero), 'kernel: the request frame (and so the attachment) is zero once served');

	const g = await shim_request(id, { op: 'ioctl', req: SIOCGDRVSPEC, name: 'wg0', cmd: 0 });
	t.equal(g.errno, 0, 'a get');
	const d = prop_dictionary_internalize(g.data ?? '', g.attach);
	t.same(d === null ? null : prop_dictionary_get_data(d, WGK_PRIVATE_KEY), KEY, 'the reply carries the key as an attachment');
	t.notOk((g.data ?? '').includes(KEY_B64), 'and not as text');
	t.ok(replied.length === 1 && replied.every(is_zero), 'kernel: the reply\'s attachments are zero once framed');
	g.attach?.forEach((a) => a.fill(0));

	/* A page of a listing: its text as bytes, the first attachment. */
	const p = await shim_request(id, { op: 'ioctl', req: SIOCGDRVSPEC, name: 'wg0', cmd: 1 });
	t.equal(p.data, undefined, 'a page: no text in the JSON');
	t.equal(p.attach, undefined, 'and no other attachment');
	const pd = p.data_bytes === undefined ? null : prop_dictionary_internalize(p.data_bytes);
	t.same(pd === null ? null : prop_dictionary_get_data(pd, WGK_PRIVATE_KEY), KEY, 'its bytes are the dictionary');
	t.ok(replied.length === 2 && replied.every(is_zero), 'kernel: the page\'s bytes are zero once framed');
	p.data_bytes?.fill(0);

	/* Write callbacks (which wipe) have run once the reply is in; a moment for the last one. */
	await new Promise((resolve) => setTimeout(resolve, 50));
	t.ok(written.length >= 4, `${written.length} frames written`);
	t.ok(written.every(is_zero), 'every frame written, either way, is zero once written');
	t.ok(written.every((w) => find(w, KEY) < 0), 'no written buffer still holds the key');
});

t.test('a listing on one connection: page N+1 asked for while page N is held', async (t) => {
	if (!is_root) {
		t.fail('needs root: the client accepts only a kernel whose socket is root\'s');
		return;
	}
	/* Pages 0, 1, 2: each a megabyte of its own byte, the cursor of the next in the head. */
	const PAGE = 1 << 20;
	const cursors: number[] = [];
	const driver = (req: ShimRequest): Promise<shim_result> => {
		const c = req.op === 'ioctl' ? Number(req.data) : -1;
		cursors.push(c);
		if (c === 9)
			return Promise.resolve({ reply: { errno: 0, data_bytes: new Uint8Array(1), cursor: 0 } });
		return Promise.resolve({ reply: { errno: 0, data_bytes: new Uint8Array(PAGE).fill(0x61 + c),
		    cursor: c < 2 ? c + 1 : undefined } });
	};
	const id = random_id();
	const k = new shim_server(id, driver);
	await k.listen();
	t.teardown(() => k.close());
	const env = process.env[SHIM_ID_ENV];
	process.env[SHIM_ID_ENV] = String(id);
	t.teardown(() => {
		if (env === undefined)
			delete process.env[SHIM_ID_ENV];
		else
			process.env[SHIM_ID_ENV] = env;
	});
	const get = (c: number): ShimRequest => ({ op: 'ioctl', req: SIOCGDRVSPEC, name: 'wg0', cmd: 0, data: String(c) });
	const conns = (): number => (k as unknown as { conns: Set<unknown> }).conns.size;

	const s = await shim_socket.open();
	if (!(s instanceof shim_socket)) {
		t.fail(`open: errno ${s.errno}`);
		return;
	}
	const busy = s.request(get(0));
	t.equal((await s.request(get(0))).errno, EINVAL, 'one request at a time on a connection');
	const r0 = await busy;
	t.equal(r0.cursor, 1, 'page 0: the next cursor in the head');
	const r1 = await s.request(get(r0.cursor ?? 0));
	t.equal(r1.cursor, 2, 'page 1, asked for while page 0 is held');
	const page0 = r0.data_bytes ?? new Uint8Array(0);
	const page1 = r1.data_bytes ?? new Uint8Array(0);
	t.ok(page0.length === PAGE && page0.every((b) => b === 0x61), 'page 0 is intact under page 1');
	t.ok(page1.length === PAGE && page1.every((b) => b === 0x62), 'page 1 in a frame buffer of its own');
	t.not(page0.buffer, page1.buffer, 'two frame buffers');
	shim_reply_done(r0);
	t.ok(is_zero(page0), 'shim_reply_done wipes page 0');
	const r2 = await s.request(get(2));
	const page2 = r2.data_bytes ?? new Uint8Array(0);
	t.equal(r2.cursor, undefined, 'the last page: no cursor');
	t.equal(page2.buffer, page0.buffer, 'page 2 reuses page 0\'s frame buffer, given back');
	t.ok(page1.every((b) => b === 0x62) && page2.every((b) => b === 0x63), 'pages 1 and 2 intact');
	t.equal(conns(), 1, 'one connection for the whole listing');
	shim_reply_done(r1);
	shim_reply_done(r2);
	t.ok(is_zero(page1) && is_zero(page2), 'both wiped');
	t.same(cursors, [0, 1, 2], 'the kernel saw each page once, in order');

	const bad = await s.request(get(9));
	t.equal(bad.errno, EIO, 'a cursor of 0 in the head is a malformed reply');
	t.equal((await s.request(get(0))).errno, EIO, 'and the connection is closed after it');
	s.close();
});

t.test('root: a request that never completes is cut after SHIM_ROOT_REQUEST_TIMEOUT_MS', async (t) => {
	if (!is_root) {
		t.fail('needs root: the timeout is root\'s');
		return;
	}
	const id = random_id();
	const k = new shim_server(id, () => Promise.resolve({ reply: { errno: 0 } }));
	await k.listen();
	t.teardown(() => k.close());
	/* The timers the kernel arms, caught instead of waited for. */
	const armed: Array<{ fn: () => void; ms: number }> = [];
	const set_timeout = globalThis.setTimeout;
	globalThis.setTimeout = ((fn: () => void, ms: number) => {
		armed.push({ fn, ms });
		return set_timeout(() => { /* never: fired by hand below */ }, 1e9);
	}) as typeof setTimeout;
	t.teardown(() => { globalThis.setTimeout = set_timeout; });

	const c = connect({ path: shim_socket_name(id) });
	const closed = new Promise<void>((resolve) => c.on('close', () => resolve()));
	c.on('error', () => { /* the close says it */ });
	await new Promise<void>((resolve) => c.once('connect', () => resolve()));
	c.write(Buffer.from([0, 0, 0, 10, 0x7b]));	/* 10 bytes announced, 1 sent */
	for (let i = 0; i < 100 && armed.length === 0; i++)
		await new Promise((resolve) => setImmediate(resolve));
	globalThis.setTimeout = set_timeout;
	const mine = armed.filter((a) => a.ms === SHIM_ROOT_REQUEST_TIMEOUT_MS);
	t.equal(mine.length, 1, `a timer of ${SHIM_ROOT_REQUEST_TIMEOUT_MS} ms is armed`);
	t.notOk(armed.some((a) => a.ms === SHIM_REQUEST_TIMEOUT_MS), 'not the non-root one');
	t.ok(SHIM_ROOT_REQUEST_TIMEOUT_MS >= 30_000, 'generous: at least 30 s');
	mine[0]?.fn();
	await closed;
	t.pass('when it fires, the connection is closed');
});

// SPDX-License-Identifier: BSD-2-Clause
/*
 * ioctl(2), sysctl(3) and reboot(2) for userland: the client side of the
 * ioctl shim (sys/sys/shim.ts).  A request goes to the kernel instance
 * named by WG_USERSPACE_ID (default 0) over its abstract UNIX socket,
 * framed as sys/sys/shim.ts says: a 4-byte big-endian length, JSON, and
 * the binary attachments that carry a dictionary's data (keys among
 * them).  A request's attachments are wiped once framed, the frame once
 * written; a reply's attachments are copied out of the received frame,
 * and the caller wipes them (prop_data_wipe of the dictionary they make)
 * once used, as shim_reply_done does a page's text (data_bytes, left in
 * the frame buffer); every other copy of the received bytes is wiped
 * here.
 *
 * The kernel is authenticated before a byte is sent: an abstract name has
 * no permissions, so any local user can bind one while no instance holds
 * it.  SO_PEERCRED of the connected socket (the listener's credentials)
 * must say uid 0; anything else ends the program with
 * "instance N: control socket is owned by uid U, not root", as no request
 * (it may carry a private key) can go there and no reply can be believed.
 *
 * Otherwise never throws: transport failures come back as errno replies,
 * as a failed system call would.  With no instance running, SIOCIFCREATE
 * starts one when the program has named the kernel program to run
 * (shim_set_kernel_prog; as a kernel autoloads the if_wg module on the
 * first "ifconfig wg0 create"); any other request fails with ENXIO, which
 * is what NetBSD says for an interface that does not exist.
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Socket, connect } from 'node:net';

import {
	shim_frame_decode, shim_frame_encode, shim_socket_name, type ShimReply, type ShimRequest,
} from '../../sys/sys/shim.js';
import { SIOCIFCREATE } from '../../sys/sys/sockio.js';
import { EINVAL, EIO, ENOENT, ECONNREFUSED, ENXIO, EPERM } from '../../sys/sys/errno.js';
import { peercred, socket_fd } from '../../sys/arch/linux/peercred.js';
import { errno_of, errx } from './err.js';

export const SHIM_ID_ENV = 'WG_USERSPACE_ID';
/* How long an on-demand instance may take to accept connections (node starts slowly on a loaded machine). */
const SHIM_START_TIMEOUT_MS = 15000;
const SHIM_START_POLL_MS = 50;

export type ShimIoctlRequest = Extract<ShimRequest, { op: 'ioctl' }>;

/* The instance this process talks to; null when WG_USERSPACE_ID is not a number. */
export function shim_instance_id(): number | null {
	const v = process.env[SHIM_ID_ENV];
	if (v === undefined || v === '')
		return 0;
	if (!/^[0-9]{1,10}$/.test(v) || Number(v) > 0x7fffffff)
		return null;
	return Number(v);
}

/*
 * The program the on-demand start runs as "PROG ID create" (wg-userspace
 * of the same build).  Programs that create interfaces name it; the
 * library does not know where programs live.
 */
let shim_kernel_prog: string | null = null;

export function shim_set_kernel_prog(path: string): void {
	shim_kernel_prog = path;
}

/*
 * Replies are read into one chunk (wiped after each read) and copied into
 * a frame buffer; both are reused by every request of the process: a
 * listing's page is megabytes, and fresh memory that large costs more
 * here than the copy.  A reply's data_bytes is a view into its frame
 * buffer, lent with it until shim_reply_done wipes the text and gives
 * the buffer back; so a listing that reads page N+1 while it parses
 * page N uses two frame buffers in turn, and overlapping requests each
 * have their own.
 */
const SHIM_RCHUNK = 65536;
const SHIM_RFRAMES_KEPT = 2;
const shim_rchunk = Buffer.allocUnsafeSlow(SHIM_RCHUNK);
const shim_receivers = new WeakMap<Socket, (b: Uint8Array) => void>();
const shim_rframes: Buffer[] = [];
const shim_rframe_lent = new WeakMap<Uint8Array, Buffer>();

function shim_rframe_get(): Buffer {
	return shim_rframes.pop() ?? Buffer.allocUnsafeSlow(SHIM_RCHUNK);
}

/* A frame buffer back for reuse, wiped by whoever had it. */
function shim_rframe_put(b: Buffer): void {
	if (shim_rframes.length < SHIM_RFRAMES_KEPT)
		shim_rframes.push(b);
}

/* Done with a reply's text: wiped, and its frame buffer free for the next reply. */
export function shim_reply_done(r: ShimReply): void {
	const text = r.data_bytes;
	if (text === undefined)
		return;
	text.fill(0);
	const b = shim_rframe_lent.get(text);
	if (b !== undefined) {
		shim_rframe_lent.delete(text);
		shim_rframe_put(b);
	}
}

/* The listener's owner must be root; see above.  Ends the program otherwise. */
function shim_authenticate(id: number, sock: Socket): void {
	let uid: number;
	try {
		uid = peercred(socket_fd(sock)).uid;
	} catch (e) {
		sock.destroy();
		errx(1, `instance ${id}: control socket: cannot tell its owner: ${(e as Error).message}`);
	}
	if (uid !== 0) {
		sock.destroy();
		errx(1, `instance ${id}: control socket is owned by uid ${uid}, not root`);
	}
}

/* A connection to instance id's kernel, authenticated; an errno if none answers. */
export function shim_connect(id: number): Promise<Socket | number> {
	return new Promise((resolve, reject) => {
		const sock: Socket = connect({ path: shim_socket_name(id), onread: {
			buffer: shim_rchunk,
			callback: (n: number, b: Uint8Array): boolean => {
				shim_receivers.get(sock)?.(b.subarray(0, n));
				return true;
			},
		} });
		const on_error = (e: Error): void => {
			sock.destroy();
			resolve(errno_of(e));
		};
		sock.once('error', on_error);
		sock.once('connect', () => {
			sock.off('error', on_error);
			try {
				shim_authenticate(id, sock);
			} catch (e) {
				reject(e instanceof Error ? e : new Error(String(e)));
				return;
			}
			resolve(sock);
		});
	});
}

function is_reply(v: unknown): v is ShimReply {
	if (typeof v !== 'object' || v === null)
		return false;
	const r = v as Record<string, unknown>;
	return Number.isInteger(r.errno) && (r.data === undefined || typeof r.data === 'string') &&
	    (r.data_bytes === undefined || r.data_bytes === true) && (r.msg === undefined || typeof r.msg === 'string') &&
	    (r.cursor === undefined || (Number.isSafeInteger(r.cursor) && (r.cursor as number) > 0));
}

/*
 * One request, one reply; the connection is closed then, unless `keep`
 * and the reply came whole.  A reply's attachments are copies of their
 * own; its data_bytes is a view into a frame buffer of this file, valid
 * until shim_reply_done(reply).
 */
function shim_exchange(sock: Socket, req: ShimRequest, keep = false): Promise<ShimReply> {
	return new Promise((resolve) => {
		if (sock.destroyed) {
			resolve({ errno: EIO, msg: 'the kernel closed the connection' });
			return;
		}
		/* The shim alternates: a second request before the first's reply would take its reply. */
		if (shim_receivers.has(sock)) {
			resolve({ errno: EINVAL, msg: 'a request is already in progress on this connection' });
			return;
		}
		let all = shim_rframe_get();
		let have = 0;
		let need = -1;
		let done = false;
		/* Cut short: what came of the reply goes. */
		const fail = (r: ShimReply): void => {
			if (!done)
				all.fill(0, 0, have);
			finish(r, false);
		};
		const on_error = (e: Error): void => fail({ errno: errno_of(e) });
		const on_close = (): void => fail({ errno: EIO, msg: 'the kernel closed the connection' });
		/* whole: the reply came and was taken apart; its text, if any, keeps the frame buffer. */
		const finish = (r: ShimReply, whole: boolean): void => {
			if (done)
				return;
			done = true;
			shim_receivers.delete(sock);
			sock.off('error', on_error);
			sock.off('close', on_close);
			if (!keep || !whole)
				sock.destroy();
			if (r.data_bytes !== undefined)
				shim_rframe_lent.set(r.data_bytes, all);
			else
				shim_rframe_put(all);
			resolve(r);
		};
		/* The frame buffer, at least size bytes (the old one wiped). */
		const reserve = (size: number): void => {
			if (all.length >= size)
				return;
			const b = Buffer.allocUnsafeSlow(Math.max(size, 2 * all.length));
			all.copy(b, 0, 0, have);
			all.fill(0);
			all = b;
		};
		shim_receivers.set(sock, (chunk: Uint8Array) => {
			if (done)
				return;
			reserve(have + chunk.length);
			all.set(chunk, have);
			have += chunk.length;
			chunk.fill(0);
			/* No limit: the kernel is authenticated, and a listing may be large. */
			if (need < 0 && have >= 4)
				need = all.readUInt32BE(0);
			if (need >= 0 && have > 4 + need) {
				/* More than one reply: the shim alternates, so the kernel is not one. */
				fail({ errno: EIO, msg: 'malformed reply from the kernel' });
				return;
			}
			if (need >= 0 && have === 4 + need) {
				const f = shim_frame_decode(all.subarray(4, 4 + need));
				if (f === null || !is_reply(f.msg) || (f.msg.data_bytes !== undefined && f.attach.length === 0)) {
					fail({ errno: EIO, msg: 'malformed reply from the kernel' });
					return;
				}
				/* "data_bytes": true in the JSON: the text is the first attachment (sys/sys/shim.ts). */
				const text = f.msg.data_bytes !== undefined ? f.attach.shift() : undefined;
				/*
				 * The other attachments (keys) are copied out, out of the
				 * shared pool so that the caller's wipe is the only copy's;
				 * everything but the text is wiped here (the JSON may hold
				 * keys in the plain form), the text by the caller.
				 */
				const attach = f.attach.map((a) => {
					const c = Buffer.allocUnsafeSlow(a.length);
					c.set(a);
					return c;
				});
				if (text === undefined) {
					all.fill(0, 0, have);
				} else {
					const at = text.byteOffset - all.byteOffset;
					all.fill(0, 0, at);
					all.fill(0, at + text.length, have);
				}
				const r: ShimReply = text !== undefined ? { ...f.msg, data_bytes: text } : f.msg;
				finish(attach.length > 0 ? { ...r, attach } : r, true);
			}
		});
		sock.on('error', on_error);
		sock.on('close', on_close);
		const frame = shim_frame_encode(req);
		sock.write(frame, () => frame.fill(0));
	});
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/*
 * Start instance id ("PROG ID create" returns once the control socket
 * accepts connections) and connect to it.  What answers is authenticated
 * like any other connection: a squatter on the name is never adopted.
 */
async function shim_start_instance(id: number): Promise<Socket | ShimReply> {
	if (typeof process.geteuid === 'function' && process.geteuid() !== 0)
		return { errno: EPERM };
	const prog = shim_kernel_prog;
	if (prog === null)
		return { errno: ENXIO };
	if (!existsSync(prog))
		return { errno: ENXIO, msg: `cannot start kernel instance ${id}: ${prog} is missing` };
	let status: number | null = null;
	try {
		const child = spawn(process.execPath, [prog, String(id), 'create'],
		    { detached: true, stdio: 'ignore' });
		child.on('error', () => { status = 127; });
		child.on('exit', (code, signal) => { status = code ?? (signal ? 128 : 1); });
		child.unref();
	} catch (e) {
		return { errno: ENXIO, msg: `cannot start kernel instance ${id}: ${(e as Error).message}` };
	}
	const deadline = Date.now() + SHIM_START_TIMEOUT_MS;
	for (;;) {
		const failed = status !== null && status !== 0;
		const s = await shim_connect(id);
		if (typeof s !== 'number')
			return s;
		/* A failed start may mean another process won the race: the last connect above said no. */
		if (failed)
			return { errno: ENXIO, msg: `cannot start kernel instance ${id}: wg-userspace exited with status ${status}` };
		if (Date.now() >= deadline)
			return { errno: ENXIO, msg: `kernel instance ${id} did not start within ${SHIM_START_TIMEOUT_MS / 1000} s` };
		await sleep(SHIM_START_POLL_MS);
	}
}

/* Send one request to instance id. */
export async function shim_request(id: number, req: ShimRequest): Promise<ShimReply> {
	let sock = await shim_connect(id);
	if (typeof sock === 'number') {
		if (sock !== ECONNREFUSED && sock !== ENOENT)
			return { errno: sock };
		if (req.op !== 'ioctl' || req.req !== SIOCIFCREATE)
			return { errno: ENXIO };
		const started = await shim_start_instance(id);
		if (!(started instanceof Socket))
			return started;
		sock = started;
	}
	return shim_exchange(sock, req);
}

/*
 * A connection kept for a series of requests (a listing's pages), as a
 * program keeps the socket it does its ioctls on.  The shim alternates:
 * each request goes once the previous reply is in, and a listing asks
 * for page N+1 then, before it parses page N, so that the kernel makes
 * the one while this side reads the other.
 */
export class shim_socket {
	private constructor(private readonly sock: Socket) {
		/* Between requests: the next request finds the socket closed and says so. */
		sock.on('error', () => undefined);
	}

	/* To the instance WG_USERSPACE_ID names; an errno reply if none answers (none is started). */
	static async open(): Promise<shim_socket | ShimReply> {
		const id = shim_instance_id();
		if (id === null)
			return shim_bad_id();
		const sock = await shim_connect(id);
		if (typeof sock === 'number')
			return { errno: sock === ECONNREFUSED || sock === ENOENT ? ENXIO : sock };
		return new shim_socket(sock);
	}

	request(req: ShimRequest): Promise<ShimReply> {
		return shim_exchange(this.sock, req, true);
	}

	close(): void {
		this.sock.destroy();
	}
}

function shim_bad_id(): ShimReply {
	return { errno: EINVAL, msg: `${SHIM_ID_ENV}=${process.env[SHIM_ID_ENV]}: not an instance number` };
}

async function shim_request_env(req: ShimRequest): Promise<ShimReply> {
	const id = shim_instance_id();
	if (id === null)
		return shim_bad_id();
	return shim_request(id, req);
}

export function ioctl(req: ShimRequest): Promise<ShimReply> {
	return shim_request_env(req);
}

/* sysctl(3) on net.wg.*: no name lists everything; a value writes. */
export function sysctl(name?: string, value?: string): Promise<ShimReply> {
	const req: ShimRequest = { op: 'sysctl' };
	if (name !== undefined)
		req.name = name;
	if (value !== undefined)
		req.value = value;
	return shim_request_env(req);
}

/* The instance's interfaces with their state (reply.ifs). */
export function ifconf(): Promise<ShimReply> {
	return shim_request_env({ op: 'ifconf' });
}

export function reboot(): Promise<ShimReply> {
	return shim_request_env({ op: 'reboot' });
}

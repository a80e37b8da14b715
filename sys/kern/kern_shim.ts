// SPDX-License-Identifier: BSD-2-Clause
/*
 * The kernel side of the ioctl shim (sys/sys/shim.ts): the control
 * socket, its connections, framing, and the checks that stand where the
 * system call boundary would.
 *
 * Every connection's credentials are read once, with SO_PEERCRED, when it
 * is accepted: they are the connecting process's, as of connect(2), and
 * cannot be changed by what it sends.  Requests on one connection are
 * answered strictly in order; reading pauses while one is being served,
 * so a client cannot pile up work.
 *
 * Nothing a client sends may take the instance down: a frame that is not
 * JSON, or not a request of the contract's shape, gets an EINVAL reply and
 * the connection stays usable; a length over the sender's limit
 * (SHIM_MAX_REQUEST for root, SHIM_MAX_USER_REQUEST for anyone else)
 * cannot be skipped, so it gets an EINVAL reply and the connection is
 * closed.
 *
 * Nor wear it down.  What the processes of one non-root uid can make the
 * instance hold is bounded: SHIM_UID_CONNECTIONS connections, and
 * SHIM_UID_INFLIGHT bytes received but not yet served across them (over
 * it, the connection that went over is closed).  A non-root request must
 * arrive whole within SHIM_REQUEST_TIMEOUT_MS of its first byte, and its
 * reply be taken within as long, or the connection is closed
 * (slow-loris).  So a uid's cost is at most SHIM_UID_INFLIGHT of requests
 * plus one reply per connection, and SHIM_MAX_USER_CONNECTIONS bounds all
 * non-root users together.  Root gets SHIM_ROOT_REQUEST_TIMEOUT_MS, a
 * generous time, for a request (a stuck or killed-midway tool must not
 * hold its buffer for ever), and unbounded time to read a reply (a long
 * listing to a slow terminal).
 *
 * Keys arrive as attachments (sys/sys/shim.ts): views into the frame,
 * which is wiped once the request has been served, whatever the outcome.
 */

import { createServer, type Server, type Socket } from 'node:net';
import {
	SHIM_MAX_REQUEST, SHIM_MAX_USER_REQUEST, shim_frame_decode, shim_frame_encode, shim_socket_name,
	type ShimIfaddr, type ShimReply, type ShimRequest,
} from '../sys/shim.js';
import { EADDRINUSE, EINVAL, EIO } from '../sys/errno.js';
import { peercred, socket_fd } from '../arch/linux/peercred.js';
import { type kauth_cred, kauth_cred_isroot } from './kern_auth.js';
import { LOG_ERR, LOG_WARNING, log, log_ratecheck } from './subr_log.js';

/*
 * At most this many control connections at once, of which at most
 * SHIM_MAX_USER_CONNECTIONS from non-root processes; more are closed.  The
 * difference keeps room for root: an unprivileged user holding idle
 * connections cannot lock the administrator out.
 */
export const SHIM_MAX_CONNECTIONS = 1024;
export const SHIM_MAX_USER_CONNECTIONS = 256;
/* Per non-root uid (see the header). */
export const SHIM_UID_CONNECTIONS = 16;
export const SHIM_UID_INFLIGHT = 64 * 1024;
export const SHIM_REQUEST_TIMEOUT_MS = 5_000;
export const SHIM_ROOT_REQUEST_TIMEOUT_MS = 30_000;
/* Request strings (interface names, sysctl names and values) longer than this are EINVAL. */
const SHIM_MAX_NAME = 1024;

/*
 * What the kernel does with a request.  `after` runs once the reply has
 * been written out (reboot: exit only after telling the caller).
 */
export interface shim_result {
	reply: ShimReply;
	after?: () => void;
}
export type shim_dispatch_fn = (req: ShimRequest, cred: kauth_cred) => Promise<shim_result>;

/* --- request checks --- */

function is_obj(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function is_int(v: unknown): v is number {
	return typeof v === 'number' && Number.isSafeInteger(v);
}

function is_str(v: unknown): v is string {
	return typeof v === 'string' && v.length <= SHIM_MAX_NAME;
}

/*
 * A fresh request holding only the contract's fields, each of the right
 * type, with the frame's attachments (only an ioctl's data may have
 * any); a string saying what is wrong otherwise.  Data (the proplib
 * dictionary) is bounded by the frame size only; the driver checks it.
 */
export function shim_request_check(v: unknown, attach: Uint8Array[] = []): ShimRequest | string {
	if (attach.length > 0 && (!is_obj(v) || v.op !== 'ioctl' || typeof v.data !== 'string'))
		return 'attachments without ioctl data';
	if (!is_obj(v))
		return 'request is not an object';
	switch (v.op) {
	case 'ioctl': {
		if (!is_int(v.req) || v.req < 0 || v.req > 0xffffffff)
			return 'ioctl: bad request number';
		if (!is_str(v.name))
			return 'ioctl: bad interface name';
		const req: ShimRequest = { op: 'ioctl', req: v.req, name: v.name };
		if (v.cmd !== undefined) {
			if (!is_int(v.cmd))
				return 'ioctl: bad cmd';
			req.cmd = v.cmd;
		}
		if (v.data !== undefined) {
			if (typeof v.data !== 'string')
				return 'ioctl: bad data';
			req.data = v.data;
			if (attach.length > 0)
				req.attach = attach;
		}
		if (v.flags !== undefined) {
			if (!is_int(v.flags))
				return 'ioctl: bad flags';
			req.flags = v.flags;
		}
		if (v.mtu !== undefined) {
			if (!is_int(v.mtu))
				return 'ioctl: bad mtu';
			req.mtu = v.mtu;
		}
		if (v.ifaddr !== undefined) {
			const a = v.ifaddr;
			if (!is_obj(a) || !is_int(a.family) || !is_str(a.addr) || !is_int(a.prefixlen))
				return 'ioctl: bad ifaddr';
			req.ifaddr = { family: a.family as ShimIfaddr['family'], addr: a.addr, prefixlen: a.prefixlen };
		}
		return req;
	}
	case 'sysctl': {
		const req: ShimRequest = { op: 'sysctl' };
		if (v.name !== undefined) {
			if (!is_str(v.name))
				return 'sysctl: bad name';
			req.name = v.name;
		}
		if (v.value !== undefined) {
			if (!is_str(v.value))
				return 'sysctl: bad value';
			req.value = v.value;
		}
		return req;
	}
	case 'ifconf':
		return { op: 'ifconf' };
	case 'reboot':
		return { op: 'reboot' };
	default:
		return 'unknown op';
	}
}

/* --- framing --- */

/* What the non-root connections of one uid hold. */
interface shim_uid {
	conns: number;
	inflight: number;	/* bytes received, not yet served */
}

interface shim_conn {
	sock: Socket;
	cred: kauth_cred;
	user: shim_uid | null;	/* null for root */
	max: number;		/* the largest request body accepted */
	chunks: Buffer[];
	buffered: number;
	need: number;		/* body length of the frame being read, -1 before its header */
	busy: boolean;
	timer: NodeJS.Timeout | null;	/* a request or reply in progress must finish by then */
}

function shim_set_buffered(c: shim_conn, n: number): void {
	if (c.user !== null)
		c.user.inflight += n - c.buffered;
	c.buffered = n;
}

/* Forget what c has buffered, wiped: part of a request may be keys. */
function shim_drop(c: shim_conn): void {
	for (const b of c.chunks)
		b.fill(0);
	c.chunks = [];
	shim_set_buffered(c, 0);
}

/* The chunks joined into one; the pieces wiped (a request may carry keys). */
function shim_join(chunks: Buffer[], len: number): Buffer {
	const all = Buffer.concat(chunks, len);
	for (const b of chunks)
		b.fill(0);
	return all;
}

/* The next complete frame's body, null if incomplete, 'oversize' for a length over the limit. */
function shim_take_frame(c: shim_conn): Buffer | null | 'oversize' {
	if (c.need < 0) {
		if (c.buffered < 4)
			return null;
		if (c.chunks[0].length < 4)
			c.chunks = [shim_join(c.chunks, c.buffered)];
		c.need = c.chunks[0].readUInt32BE(0);
		if (c.need > c.max)
			return 'oversize';
	}
	if (c.buffered < 4 + c.need)
		return null;
	/* One copy per frame, however many chunks it came in. */
	const all = c.chunks.length === 1 ? c.chunks[0] : shim_join(c.chunks, c.buffered);
	const body = all.subarray(4, 4 + c.need);
	const rest = all.subarray(4 + c.need);
	c.chunks = rest.length > 0 ? [rest] : [];
	shim_set_buffered(c, rest.length);
	c.need = -1;
	return body;
}

/* Close c unless what it is doing ends (shim_disarm) within ms. */
function shim_arm(c: shim_conn, what: string, ms = SHIM_REQUEST_TIMEOUT_MS): void {
	if (c.timer !== null)
		return;
	c.timer = setTimeout(() => {
		log_ratecheck('shim.timeout', LOG_WARNING, 'control connection from uid %d pid %d: %s timed out, closed',
		    c.cred.uid, c.cred.pid, what);
		c.sock.destroy();
	}, ms);
	c.timer.unref();
}

function shim_disarm(c: shim_conn): void {
	if (c.timer !== null) {
		clearTimeout(c.timer);
		c.timer = null;
	}
}

/* Resolves once the reply is handed to the kernel; a non-root reader gets SHIM_REQUEST_TIMEOUT_MS to take it. */
function shim_write(c: shim_conn, reply: ShimReply): Promise<void> {
	return new Promise((resolve) => {
		if (c.sock.destroyed || !c.sock.writable) {
			reply.data_bytes?.fill(0);
			reply.attach?.forEach((a) => a.fill(0));
			return resolve();
		}
		if (c.user !== null)
			shim_arm(c, 'reading the reply');
		/* Wipes the reply's attachments (a root get carries keys); the frame is wiped once written. */
		const frame = shim_frame_encode(reply);
		/* Called with an error too, when the socket is destroyed first. */
		c.sock.write(frame, () => {
			frame.fill(0);
			shim_disarm(c);
			resolve();
		});
	});
}

/* --- the listener --- */

export class shim_server {
	readonly id: number;
	private readonly dispatch: shim_dispatch_fn;
	private server: Server | null = null;
	private readonly conns = new Set<shim_conn>();
	private user_conns = 0;
	private readonly uids = new Map<number, shim_uid>();

	constructor(id: number, dispatch: shim_dispatch_fn) {
		this.id = id;
		this.dispatch = dispatch;
	}

	/*
	 * Listen on the instance's abstract socket.  EADDRINUSE means a live
	 * instance holds the name (abstract names vanish with their owner, so
	 * there is never a stale one to remove): rejects with an Error whose
	 * errno is EADDRINUSE and message "instance N already running".
	 */
	listen(): Promise<void> {
		const server = createServer({ pauseOnConnect: false }, (sock) => this.accept(sock));
		server.maxConnections = SHIM_MAX_CONNECTIONS;
		return new Promise((resolve, reject) => {
			const on_error = (e: NodeJS.ErrnoException): void => {
				server.close();
				if (e.code === 'EADDRINUSE')
					reject(Object.assign(new Error(`instance ${this.id} already running`), { errno: EADDRINUSE }));
				else
					reject(e);
			};
			server.once('error', on_error);
			server.listen({ path: shim_socket_name(this.id) }, () => {
				server.off('error', on_error);
				server.on('error', (e) => log(LOG_ERR, 'control socket: %s', e.message));
				this.server = server;
				resolve();
			});
		});
	}

	/* Stop listening (the abstract name goes at once) and drop every connection. */
	close(): Promise<void> {
		const server = this.server;
		this.server = null;
		for (const c of this.conns)
			c.sock.destroy();
		this.conns.clear();
		this.user_conns = 0;
		this.uids.clear();
		if (server === null)
			return Promise.resolve();
		return new Promise((resolve) => server.close(() => resolve()));
	}

	private accept(sock: Socket): void {
		sock.on('error', () => { /* a client that went away; close follows */ });
		let cred: kauth_cred;
		try {
			const uc = peercred(socket_fd(sock));
			cred = { uid: uc.uid, gid: uc.gid, pid: uc.pid };
		} catch (e) {
			log_ratecheck('shim.peercred', LOG_WARNING, 'control connection without credentials: %s',
			    e instanceof Error ? e.message : String(e));
			sock.destroy();
			return;
		}
		let user: shim_uid | null = null;
		if (!kauth_cred_isroot(cred)) {
			user = this.uids.get(cred.uid) ?? { conns: 0, inflight: 0 };
			if (this.user_conns >= SHIM_MAX_USER_CONNECTIONS || user.conns >= SHIM_UID_CONNECTIONS) {
				log_ratecheck('shim.maxconn', LOG_WARNING,
				    'control connection from uid %d pid %d refused: %d open, %d of this uid',
				    cred.uid, cred.pid, this.user_conns, user.conns);
				sock.destroy();
				return;
			}
			this.uids.set(cred.uid, user);
			user.conns++;
			this.user_conns++;
		}
		const c: shim_conn = {
			sock, cred, user, max: user === null ? SHIM_MAX_REQUEST : SHIM_MAX_USER_REQUEST,
			chunks: [], buffered: 0, need: -1, busy: false, timer: null,
		};
		this.conns.add(c);
		sock.on('close', () => {
			shim_disarm(c);
			shim_drop(c);
			if (this.conns.delete(c) && user !== null) {
				this.user_conns--;
				if (--user.conns === 0)
					this.uids.delete(cred.uid);
			}
		});
		sock.on('data', (chunk: Buffer) => {
			if (sock.destroyed)
				return;
			c.chunks.push(chunk);
			shim_set_buffered(c, c.buffered + chunk.length);
			if (user !== null && user.inflight > SHIM_UID_INFLIGHT) {
				log_ratecheck('shim.inflight', LOG_WARNING,
				    'control connection from uid %d pid %d: over %d bytes unserved for the uid, closed',
				    cred.uid, cred.pid, SHIM_UID_INFLIGHT);
				sock.destroy();
				return;
			}
			void this.pump(c);
		});
	}

	/* Serve the complete frames buffered on c, one at a time. */
	private async pump(c: shim_conn): Promise<void> {
		if (c.busy)
			return;
		c.busy = true;
		try {
			for (;;) {
				const frame = shim_take_frame(c);
				if (frame === null) {
					/* Part of a request: it has a time to arrive whole (see the top). */
					if (c.buffered > 0)
						shim_arm(c, 'request', c.user === null ? SHIM_ROOT_REQUEST_TIMEOUT_MS : SHIM_REQUEST_TIMEOUT_MS);
					break;
				}
				shim_disarm(c);
				if (frame === 'oversize') {
					log_ratecheck('shim.oversize', LOG_WARNING,
					    'control connection from uid %d pid %d: frame over %d bytes, closed',
					    c.cred.uid, c.cred.pid, c.max);
					shim_drop(c);
					await shim_write(c, { errno: EINVAL, msg: 'message too long' });
					c.sock.destroy();
					return;
				}
				c.sock.pause();
				const res = await this.serve(frame, c.cred);
				await shim_write(c, res.reply);
				if (res.after !== undefined)
					res.after();
				if (c.sock.destroyed)
					return;
				c.sock.resume();
			}
		} finally {
			c.busy = false;
		}
	}

	/* The frame (its attachments may be keys) is wiped on every way out. */
	private async serve(frame: Buffer, cred: kauth_cred): Promise<shim_result> {
		try {
			return await this.serve_1(frame, cred);
		} finally {
			frame.fill(0);
		}
	}

	private async serve_1(frame: Buffer, cred: kauth_cred): Promise<shim_result> {
		const f = shim_frame_decode(frame);
		if (f === null) {
			log_ratecheck('shim.json', LOG_WARNING, 'control request from pid %d: not JSON', cred.pid);
			return { reply: { errno: EINVAL, msg: 'malformed request' } };
		}
		const req = shim_request_check(f.msg, f.attach);
		if (typeof req === 'string') {
			log_ratecheck('shim.shape', LOG_WARNING, 'control request from pid %d: %s', cred.pid, req);
			return { reply: { errno: EINVAL, msg: req } };
		}
		try {
			return await this.dispatch(req, cred);
		} catch (e) {
			/* The dispatcher answers errors itself; this is a bug, not the client's fault. */
			log(LOG_ERR, 'control request %s: %s', req.op, e instanceof Error ? e.stack ?? e.message : String(e));
			return { reply: { errno: EIO, msg: 'internal error' } };
		}
	}
}

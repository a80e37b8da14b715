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
 * the connection stays usable; a length over SHIM_MAX_MESSAGE cannot be
 * skipped, so it gets an EINVAL reply and the connection is closed.
 */

import { createServer, type Server, type Socket } from 'node:net';
import {
	SHIM_MAX_MESSAGE, shim_socket_name, type ShimIfaddr, type ShimReply, type ShimRequest,
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
 * type; a string saying what is wrong otherwise.  Data (the proplib
 * dictionary) is bounded by the frame size only; the driver checks it.
 */
export function shim_request_check(v: unknown): ShimRequest | string {
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

export function shim_frame(reply: ShimReply): Buffer {
	const body = Buffer.from(JSON.stringify(reply), 'utf8');
	const head = Buffer.alloc(4);
	head.writeUInt32BE(body.length, 0);
	return Buffer.concat([head, body]);
}

interface shim_conn {
	sock: Socket;
	cred: kauth_cred;
	chunks: Buffer[];
	buffered: number;
	need: number;		/* body length of the frame being read, -1 before its header */
	busy: boolean;
}

/* The next complete frame's body, null if incomplete, 'oversize' for a length over the limit. */
function shim_take_frame(c: shim_conn): Buffer | null | 'oversize' {
	if (c.need < 0) {
		if (c.buffered < 4)
			return null;
		if (c.chunks[0].length < 4)
			c.chunks = [Buffer.concat(c.chunks, c.buffered)];
		c.need = c.chunks[0].readUInt32BE(0);
		if (c.need > SHIM_MAX_MESSAGE)
			return 'oversize';
	}
	if (c.buffered < 4 + c.need)
		return null;
	/* One copy per frame, however many chunks it came in. */
	const all = c.chunks.length === 1 ? c.chunks[0] : Buffer.concat(c.chunks, c.buffered);
	const body = all.subarray(4, 4 + c.need);
	const rest = all.subarray(4 + c.need);
	c.chunks = rest.length > 0 ? [rest] : [];
	c.buffered = rest.length;
	c.need = -1;
	return body;
}

function shim_write(c: shim_conn, reply: ShimReply): Promise<void> {
	return new Promise((resolve) => {
		if (c.sock.destroyed || !c.sock.writable)
			return resolve();
		c.sock.write(shim_frame(reply), () => resolve());
	});
}

/* --- the listener --- */

export class shim_server {
	readonly id: number;
	private readonly dispatch: shim_dispatch_fn;
	private server: Server | null = null;
	private readonly conns = new Set<shim_conn>();
	private user_conns = 0;

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
		const user = !kauth_cred_isroot(cred);
		if (user && this.user_conns >= SHIM_MAX_USER_CONNECTIONS) {
			log_ratecheck('shim.maxconn', LOG_WARNING, 'control connection from uid %d pid %d refused: %d open',
			    cred.uid, cred.pid, this.user_conns);
			sock.destroy();
			return;
		}
		const c: shim_conn = { sock, cred, chunks: [], buffered: 0, need: -1, busy: false };
		this.conns.add(c);
		if (user)
			this.user_conns++;
		sock.on('close', () => {
			if (this.conns.delete(c) && user)
				this.user_conns--;
		});
		sock.on('data', (chunk: Buffer) => {
			c.chunks.push(chunk);
			c.buffered += chunk.length;
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
				if (frame === null)
					break;
				if (frame === 'oversize') {
					log_ratecheck('shim.oversize', LOG_WARNING,
					    'control connection from pid %d: frame over %d bytes, closed', c.cred.pid, SHIM_MAX_MESSAGE);
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

	private async serve(frame: Buffer, cred: kauth_cred): Promise<shim_result> {
		let v: unknown;
		try {
			v = JSON.parse(frame.toString('utf8'));
		} catch {
			log_ratecheck('shim.json', LOG_WARNING, 'control request from pid %d: not JSON', cred.pid);
			return { reply: { errno: EINVAL, msg: 'malformed request' } };
		}
		const req = shim_request_check(v);
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

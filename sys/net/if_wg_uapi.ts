// SPDX-License-Identifier: BSD-2-Clause
/*
 * The UAPI socket of a wg interface: /var/run/wireguard/IF.sock, where
 * wg(8) and wg-quick(8) find a userspace WireGuard (share/doc/DESIGN.md §3).
 *
 * Socket rules, as wireguard-go's: the directory is 0755, the socket 0600
 * (root only: the protocol carries private keys).  A stale file (nothing
 * answers) is replaced; a live one is never taken over.  Removing the
 * file destroys the interface, which is how wg-quick down stops a
 * userspace implementation.
 *
 * Nothing here follows a symlink or trusts what another user made: the
 * directory must be a real directory (lstat) owned by root and writable
 * by no one else, or the interface gets no UAPI socket (logged); the
 * entry for IF.sock is replaced only if it is a socket owned by root.
 * In such a directory only root can add or rename entries, so what was
 * checked cannot be swapped before the bind.
 *
 * The directory is one for the whole machine while network namespaces
 * are many, and NetBSD's tests give every host a wg0.  The first
 * interface of a name to appear serves IF.sock; an interface of the same
 * name created later in another namespace gets no UAPI socket (logged
 * once) and is configured with wgconfig(8) only.  It never replaces or
 * steals the first one's socket.
 */

import { lstatSync, mkdirSync, unlinkSync, watch } from 'node:fs';
import type { FSWatcher, Stats } from 'node:fs';
import { createServer } from 'node:net';
import { wg_uapi_alive, wg_uapi_dir, wg_uapi_path } from '../../lib/libwg/uapi_sock.js';
import type { Server, Socket } from 'node:net';

import { peercred, socket_fd } from '../arch/linux/peercred.js';
import { if_zones } from '../arch/linux/libc.js';
import { if_clone_destroy } from './if.js';
import { LOG_ERR, LOG_INFO, log } from '../kern/subr_log.js';
import { type wg_softc, wg_main_gc } from './if_wg.js';
import { malloc_trim } from '../arch/linux/malloc.js';
import type { wg_intr_reply } from './if_wg_intr.js';
import { UAPI_GET_PAGE, uapi_ops_wipe, uapi_set_parse } from './wg/uapi.js';

/* A set request this long (characters) is followed by a full collection. */
const UAPI_GC_AFTER = 1 << 20;
/* A set of 10^6 peers (wg setconf) is about 200 MB of text. */
const UAPI_MAX_REQUEST = 512 * 1024 * 1024;

export interface wg_uapi {
	path: string;
	server: Server;
	watcher: FSWatcher | null;
	ino: number;
	closing: boolean;
}

function lstat_or_null(path: string): Stats | null {
	try {
		return lstatSync(path);
	} catch (e) {
		if ((e as NodeJS.ErrnoException).code === 'ENOENT')
			return null;
		throw e;
	}
}

/* Why dir cannot hold root's sockets, or null if it can (created 0755 when missing). */
function uapi_dir_check(dir: string): string | null {
	try {
		if (lstat_or_null(dir) === null)
			mkdirSync(dir, { mode: 0o755 });
		const st = lstatSync(dir);
		if (st.isSymbolicLink())
			return 'is a symbolic link';
		if (!st.isDirectory())
			return 'is not a directory';
		if (st.uid !== 0)
			return `is owned by uid ${st.uid}, not root`;
		if ((st.mode & 0o022) !== 0)
			return `is writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`;
		return null;
	} catch (e) {
		return (e as Error).message;
	}
}

export async function wg_uapi_attach(sc: wg_softc): Promise<wg_uapi | null> {
	const dir = wg_uapi_dir();
	const bad = uapi_dir_check(dir);
	if (bad !== null) {
		log(LOG_ERR, '%s: %s %s: no UAPI socket', sc.if_xname, dir, bad);
		return null;
	}
	const path = wg_uapi_path(sc.if_xname);
	const old = lstat_or_null(path);
	if (old !== null) {
		if (!old.isSocket() || old.uid !== 0) {
			log(LOG_ERR, '%s: %s is %s: left alone, no UAPI socket', sc.if_xname, path,
			    old.isSocket() ? `owned by uid ${old.uid}` : 'not a socket');
			return null;
		}
		if (await wg_uapi_alive(path)) {
			log(LOG_INFO, '%s: %s belongs to another %s (another namespace?): no UAPI socket for this one',
			    sc.if_xname, path, sc.if_xname);
			return null;
		}
		try {
			unlinkSync(path);
		} catch {
			/* raced with its owner: the listen below says */
		}
	}
	const server = createServer({ allowHalfOpen: false }, (so) => uapi_serve(sc, so));
	/* Born 0600: no chmod(2) afterwards, which would follow a symlink. */
	const umask = process.umask(0o177);
	try {
		await new Promise<void>((resolve, reject) => {
			server.once('error', reject);
			server.listen(path, () => { server.off('error', reject); resolve(); });
		});
	} finally {
		process.umask(umask);
	}
	const u: wg_uapi = { path, server, watcher: null, ino: lstatSync(path).ino, closing: false };
	/* Removing (or replacing) the file means: destroy the interface (wg-quick down). */
	try {
		u.watcher = watch(dir, (_ev, file) => {
			if (u.closing || file !== `${sc.if_xname}.sock`)
				return;
			let gone = false;
			try {
				gone = lstatSync(path).ino !== u.ino;
			} catch {
				gone = true;
			}
			if (gone) {
				log(LOG_INFO, '%s: %s removed, destroying the interface', sc.if_xname, path);
				u.closing = true;
				void if_clone_destroy(sc.if_xname);
			}
		});
	} catch (e) {
		log(LOG_ERR, '%s: cannot watch %s: %s', sc.if_xname, dir, (e as Error).message);
	}
	return u;
}

export function wg_uapi_detach(u: wg_uapi): void {
	const owned = !u.closing;
	u.closing = true;
	u.watcher?.close();
	u.server.close();
	if (owned) {
		try {
			if (lstatSync(u.path).ino === u.ino)
				unlinkSync(u.path);
		} catch {
			/* already gone */
		}
	}
}

/*
 * What a connection has sent and the server has not consumed yet, as
 * bytes: a set request carries keys, and bytes can be wiped where a JS
 * string cannot.  A request is an operation line, and for set=1
 * everything up to the blank line.  Chunks are scanned once as they come
 * and joined only when a request is complete, so a client streaming one
 * huge line costs linear time.  Every byte is wiped once consumed, or
 * when the connection goes (wipe()); a set's body is handed out as a
 * copy in memory of its own (off the V8 heap, transferable), which its
 * taker wipes.
 */
export class uapi_rxbuf {
	private buf: Uint8Array = new Uint8Array(0);	/* joined, unconsumed */
	private parts: Uint8Array[] = [];	/* received after buf, not yet joined */
	private len = 0;		/* buf and parts */
	private last = 0;		/* the last byte, 0 when empty */
	private nl = -1;		/* first "\n", -1 until there is one */
	private nl2 = -1;		/* first "\n\n" */
	private op: string | null = null;	/* the first line, once complete */

	get length(): number {
		return this.len;
	}

	push(chunk: Uint8Array): void {
		if (chunk.length === 0)
			return;
		const at = this.len;
		if (this.nl < 0) {
			const i = chunk.indexOf(0x0a);
			if (i >= 0)
				this.nl = at + i;
		}
		if (this.nl2 < 0) {
			if (this.last === 0x0a && chunk[0] === 0x0a)
				this.nl2 = at - 1;
			else {
				const i = nl2_in(chunk, 0);
				if (i >= 0)
					this.nl2 = at + i;
			}
		}
		this.parts.push(chunk);
		this.len += chunk.length;
		this.last = chunk[chunk.length - 1];
		if (this.op === null && this.nl >= 0) {
			this.join();
			this.op = latin1(this.buf, 0, this.nl);
		}
	}

	/* One array of its own for buf and parts; the pieces wiped. */
	private join(): void {
		if (this.parts.length === 0)
			return;
		const all = new Uint8Array(new ArrayBuffer(this.len));
		all.set(this.buf, 0);
		let at = this.buf.length;
		this.buf.fill(0);
		for (const p of this.parts) {
			all.set(p, at);
			at += p.length;
			p.fill(0);
		}
		this.parts = [];
		this.buf = all;
	}

	/* Enough to act on: a complete request, or an operation line that is not one. */
	ready(): boolean {
		if (this.op === null)
			return false;
		if (this.op === 'get=1')
			return this.len >= this.nl + 2;
		if (this.op === 'set=1')
			return this.nl2 >= 0;
		return true;
	}

	/*
	 * The next request: get, set with its body (the lines after set=1,
	 * each ending in "\n"), 'bad' for a get=1 not followed by the blank
	 * line, 'unknown' for any other operation; null when none is
	 * complete yet.
	 */
	take(): { op: 'get' } | { op: 'set'; body: Uint8Array } | 'bad' | 'unknown' | null {
		if (!this.ready())
			return null;
		this.join();
		const nl = this.nl;
		if (this.op === 'get=1') {
			if (this.buf[nl + 1] !== 0x0a)
				return 'bad';
			this.consume(nl + 2);
			return { op: 'get' };
		}
		if (this.op === 'set=1') {
			const body = new Uint8Array(new ArrayBuffer(this.nl2 - nl));
			body.set(this.buf.subarray(nl + 1, this.nl2 + 1));
			this.consume(this.nl2 + 2);
			return { op: 'set', body };
		}
		return 'unknown';
	}

	private consume(n: number): void {
		this.buf.fill(0, 0, n);
		this.buf = this.buf.subarray(n);
		this.len = this.buf.length;
		this.last = this.len > 0 ? this.buf[this.len - 1] : 0;
		this.nl = this.buf.indexOf(0x0a);
		this.nl2 = this.nl < 0 ? -1 : nl2_in(this.buf, this.nl);
		this.op = this.nl < 0 ? null : latin1(this.buf, 0, this.nl);
	}

	/* The connection is gone: what it left (part of a set, maybe keys) is wiped. */
	wipe(): void {
		this.buf.fill(0);
		for (const p of this.parts)
			p.fill(0);
		this.parts = [];
		this.buf = new Uint8Array(0);
		this.len = 0;
		this.last = 0;
		this.nl = this.nl2 = -1;
		this.op = null;
	}
}

/* The first "\n\n" in b at or after from, -1 if none. */
function nl2_in(b: Uint8Array, from: number): number {
	return Buffer.from(b.buffer, b.byteOffset, b.length).indexOf('\n\n', from, 'latin1');
}

/* An operation line: never a key. */
function latin1(b: Uint8Array, start: number, end: number): string {
	return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}

/* One connection: any number of get/set operations, each ended by a blank line. */
function uapi_serve(sc: wg_softc, so: Socket): void {
	let root = false;
	try {
		root = peercred(socket_fd(so)).uid === 0;
	} catch {
		root = false;
	}
	if (!root) {
		/* The socket is 0600 already; this covers a chmod by someone else. */
		so.end('errno=-1\n\n');
		return;
	}
	const rx = new uapi_rxbuf();
	let busy = false;
	const pump = async (): Promise<void> => {
		if (busy)
			return;
		busy = true;
		try {
			for (;;) {
				const r = rx.take();
				if (r === null)
					break;
				if (r === 'bad') {
					so.end('errno=-22\n\n');
					return;
				}
				if (r === 'unknown') {
					/* Unknown operation: close, as wireguard-go does. */
					so.destroy();
					return;
				}
				if (r.op === 'get')
					await uapi_do_get(sc, so);
				else
					so.write(`errno=${await wg_uapi_set(sc, r.body)}\n\n`);
			}
		} finally {
			busy = false;
		}
		if (rx.ready() && !so.destroyed)
			void pump();
	};
	so.on('close', () => rx.wipe());
	so.on('data', (chunk: Buffer) => {
		rx.push(chunk);
		if (rx.length > UAPI_MAX_REQUEST) {
			so.destroy();
			return;
		}
		if (rx.ready())
			void pump();
	});
	so.on('error', () => so.destroy());
}

/*
 * The reply goes out page by page as the thread makes them, each once
 * the socket has taken the one before: memory does not grow with the
 * number of peers, however slowly the client reads.
 */
async function uapi_do_get(sc: wg_softc, so: Socket): Promise<void> {
	const page = (cursor: number): Promise<wg_intr_reply> => sc.wg_call({ op: 'uapi_get',
	    listen_port: sc.wg_bound_port(), fwmark: sc.wg_get_fwmark(), cursor, max: UAPI_GET_PAGE });
	/* A page asked for and then not sent: its text spells keys too. */
	const drop = (p: Promise<wg_intr_reply>): void => void p.then((r) => r.text?.fill(0));
	let cursor = 0;
	let pending = page(0);
	do {
		const r = await pending;
		if (r.errno !== 0 || r.text === undefined) {
			/* Mid-reply there is no clean way to say it: cut the connection. */
			if (cursor === 0)
				so.write(`errno=${r.errno !== 0 ? -r.errno : -5}\n\n`);
			else
				so.destroy();
			return;
		}
		const text = r.text;
		cursor = r.next ?? 0;
		if (so.destroyed) {
			text.fill(0);
			return;
		}
		/* The thread makes the next page while this one goes out. */
		if (cursor !== 0)
			pending = page(cursor);
		/* It spells keys in hex: wiped once the socket has taken it. */
		if (!so.write(text, () => text.fill(0)) && cursor !== 0)
			await new Promise<void>((resolve) => {
				const done = (): void => {
					so.off('drain', done);
					so.off('close', done);
					resolve();
				};
				so.on('drain', done);
				so.on('close', done);
			});
		if (so.destroyed && cursor !== 0) {
			drop(pending);
			return;
		}
	} while (cursor !== 0);
}

/*
 * All or nothing (sys/net/wg/uapi.ts), the sockets included.  The
 * request is parsed whole first.  Then everything that can fail for a
 * well-formed request is done in a form that can be undone: a new
 * listen_port is bound, with the new fwmark, beside the old sockets; a
 * new fwmark alone is set on the old sockets (and set back should the
 * rest fail).  Then the data-path thread applies the request and takes
 * the new sockets in one step, which cannot fail half way; only then
 * are the old sockets closed.  body (its own memory, holding keys) is
 * transferred to the thread, which wipes it.
 */
async function wg_uapi_set(sc: wg_softc, body: Uint8Array): Promise<number> {
	const ops = uapi_set_parse(body, if_zones);
	if (typeof ops === 'number') {
		body.fill(0);
		return ops;
	}
	let port: number | undefined;
	let mark: number | undefined;
	for (const op of ops) {
		if (op.key === 'public_key')
			break;
		if (op.key === 'listen_port')
			port = op.n;
		else if (op.key === 'fwmark')
			mark = op.n;
	}
	uapi_ops_wipe(ops);
	const old_mark = sc.wg_get_fwmark();
	const so = port === undefined ? null : sc.wg_port_prepare(port, mark ?? old_mark);
	let e = typeof so === 'number' ? so : 0;
	if (e === 0 && so === null && mark !== undefined)
		e = sc.wg_set_fwmark(mark);
	if (e !== 0 || typeof so === 'number') {
		body.fill(0);
		return -e;
	}
	const len = body.length;	/* body goes to the thread: detached here */
	const r = await sc.wg_call({ op: 'uapi_set', body,
	    sockets: so === null ? undefined : { fd4: so.fd4, fd6: so.fd6 } }, [body.buffer as ArrayBuffer]);
	if (r.npeers !== undefined)
		sc.if_link_up = r.npeers > 0;
	if (r.errno !== 0) {
		sc.wg_port_abort(so);
		if (so === null && mark !== undefined)
			sc.wg_set_fwmark(old_mark);
		return r.errno;
	}
	/*
	 * The request's text and parsed lines are garbage once this is done:
	 * megabytes for a large one (if_wg.ts); what they held outside the
	 * V8 heap goes back to the system too (malloc.ts).
	 */
	if (len >= UAPI_GC_AFTER) {
		setTimeout(() => {
			wg_main_gc?.();
			malloc_trim();
		}, 100).unref();
	}
	if (port !== undefined)
		sc.wg_port_switched(so, port, mark ?? old_mark);
	return 0;
}

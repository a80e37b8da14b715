/*
 * The UAPI socket of a wg interface: /var/run/wireguard/IF.sock, where
 * wg(8) and wg-quick(8) find a userspace WireGuard (DESIGN.md §3).
 *
 * Socket rules, as wireguard-go's: the directory is 0755, the socket 0600
 * (root only: the protocol carries private keys).  A stale file (nothing
 * answers) is replaced; a live one is never taken over.  Removing the
 * file destroys the interface, which is how wg-quick down stops a
 * userspace implementation.
 *
 * The directory is one for the whole machine while network namespaces
 * are many, and NetBSD's tests give every host a wg0.  The first
 * interface of a name to appear serves IF.sock; an interface of the same
 * name created later in another namespace gets no UAPI socket (logged
 * once) and is configured with wgconfig(8) only.  It never replaces or
 * steals the first one's socket.
 */

import { chmodSync, existsSync, mkdirSync, statSync, unlinkSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { createServer } from 'node:net';
import { wg_uapi_alive, wg_uapi_dir, wg_uapi_path } from '../../lib/libwg/uapi_sock.js';
import type { Server, Socket } from 'node:net';

import { peercred, socket_fd } from '../arch/linux/peercred.js';
import { if_clone_destroy } from './if.js';
import { LOG_ERR, LOG_INFO, log } from '../kern/subr_log.js';
import type { wg_softc } from './if_wg.js';

const UAPI_MAX_REQUEST = 64 * 1024 * 1024;

export interface wg_uapi {
	path: string;
	server: Server;
	watcher: FSWatcher | null;
	ino: number;
	closing: boolean;
}

export async function wg_uapi_attach(sc: wg_softc): Promise<wg_uapi | null> {
	const dir = wg_uapi_dir();
	mkdirSync(dir, { recursive: true, mode: 0o755 });
	const path = wg_uapi_path(sc.if_xname);
	if (existsSync(path)) {
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
	const old = process.umask(0o077);
	try {
		await new Promise<void>((resolve, reject) => {
			server.once('error', reject);
			server.listen(path, () => { server.off('error', reject); resolve(); });
		});
	} finally {
		process.umask(old);
	}
	chmodSync(path, 0o600);
	const u: wg_uapi = { path, server, watcher: null, ino: statSync(path).ino, closing: false };
	/* Removing (or replacing) the file means: destroy the interface (wg-quick down). */
	try {
		u.watcher = watch(dir, (_ev, file) => {
			if (u.closing || file !== `${sc.if_xname}.sock`)
				return;
			let gone = false;
			try {
				gone = statSync(path).ino !== u.ino;
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
			if (statSync(u.path).ino === u.ino)
				unlinkSync(u.path);
		} catch {
			/* already gone */
		}
	}
}

/*
 * What a connection has sent and the server has not consumed yet.  A
 * request is an operation line, and for set=1 everything up to the blank
 * line.  Chunks are scanned once as they come and joined only when a
 * request is complete, so a client streaming one huge line costs linear
 * time; rescanning (and, for a string built with +=, copying) all of it
 * per chunk stalled the instance for seconds on 64 MiB.
 */
export class uapi_rxbuf {
	private text = '';		/* joined */
	private parts: string[] = [];	/* received after text, not yet joined */
	private len = 0;		/* text and parts */
	private last = 0;		/* the last character code, 0 when empty */
	private nl = -1;		/* first "\n", -1 until there is one */
	private nl2 = -1;		/* first "\n\n" */
	private op: string | null = null;	/* the first line, once complete */

	get length(): number {
		return this.len;
	}

	push(chunk: string): void {
		if (chunk.length === 0)
			return;
		const at = this.len;
		if (this.nl < 0) {
			const i = chunk.indexOf('\n');
			if (i >= 0)
				this.nl = at + i;
		}
		if (this.nl2 < 0) {
			if (this.last === 0x0a && chunk.charCodeAt(0) === 0x0a)
				this.nl2 = at - 1;
			else {
				const i = chunk.indexOf('\n\n');
				if (i >= 0)
					this.nl2 = at + i;
			}
		}
		this.parts.push(chunk);
		this.len += chunk.length;
		this.last = chunk.charCodeAt(chunk.length - 1);
		if (this.op === null && this.nl >= 0) {
			this.join();
			this.op = this.text.slice(0, this.nl);
		}
	}

	private join(): void {
		if (this.parts.length > 0) {
			this.text += this.parts.join('');
			this.parts = [];
		}
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
	 * The next request: get, set with its body (the lines after set=1, each
	 * ending in "\n"), 'bad' for a get=1 not followed by the blank line,
	 * 'unknown' for any other operation; null when none is complete yet.
	 */
	take(): { op: 'get' } | { op: 'set'; body: string } | 'bad' | 'unknown' | null {
		if (!this.ready())
			return null;
		this.join();
		const nl = this.nl;
		if (this.op === 'get=1') {
			if (this.text.charCodeAt(nl + 1) !== 0x0a)
				return 'bad';
			this.consume(nl + 2);
			return { op: 'get' };
		}
		if (this.op === 'set=1') {
			const body = this.text.slice(nl + 1, this.nl2 + 1);
			this.consume(this.nl2 + 2);
			return { op: 'set', body };
		}
		return 'unknown';
	}

	private consume(n: number): void {
		this.text = this.text.slice(n);
		this.len = this.text.length;
		this.last = this.len > 0 ? this.text.charCodeAt(this.len - 1) : 0;
		this.nl = this.text.indexOf('\n');
		this.nl2 = this.nl < 0 ? -1 : this.text.indexOf('\n\n', this.nl);
		this.op = this.nl < 0 ? null : this.text.slice(0, this.nl);
	}
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
					so.write(await uapi_do_get(sc));
				else
					so.write(`errno=${await uapi_do_set(sc, r.body)}\n\n`);
			}
		} finally {
			busy = false;
		}
		if (rx.ready() && !so.destroyed)
			void pump();
	};
	so.setEncoding('utf8');
	so.on('data', (chunk: string) => {
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

async function uapi_do_get(sc: wg_softc): Promise<string> {
	const r = await sc.wg_call({ op: 'uapi_get', listen_port: sc.wg_bound_port(), fwmark: sc.wg_get_fwmark() });
	return r.errno === 0 && r.text !== undefined ? r.text : `errno=${r.errno}\n\n`;
}

/*
 * Device keys that need the main thread (sockets) are applied here first,
 * in order; the data-path thread applies the rest (and skips these).
 */
async function uapi_do_set(sc: wg_softc, body: string): Promise<number> {
	for (const line of body.split('\n')) {
		if (line.startsWith('public_key='))
			break;
		if (line === '')
			continue;
		const eq = line.indexOf('=');
		/*
		 * uapi_set stops the request here (EPROTO) after applying the
		 * lines before it: so must we, before a later listen_port.
		 */
		if (eq < 0)
			break;
		const key = line.slice(0, eq), value = line.slice(eq + 1);
		if (key === 'listen_port' || key === 'fwmark') {
			if (!/^\d+$/.test(value))
				return -22;
			const n = Number(value);
			const r = key === 'listen_port' ?
			    (n > 65535 ? 22 : await sc.wg_bind_port(n === 0 ? 0 : n)) :
			    (n > 0xffffffff ? 22 : sc.wg_set_fwmark(n));
			if (r !== 0)
				return -r;
		}
	}
	const r = await sc.wg_call({ op: 'uapi_set', text: body });
	if (r.npeers !== undefined)
		sc.if_link_up = r.npeers > 0;
	return r.errno;
}

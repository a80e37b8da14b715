/*
 * wg(4) data path: one worker thread per interface, the analogue of
 * NetBSD's wgintr softint plus the peer workqueue.
 *
 * The thread owns the interface's protocol state (a WgDevice, sans-I/O)
 * and runs to completion: poll(2) on the tun, the two UDP sockets and an
 * eventfd; read a batch from the tun -> wg_output -> sendto; recvmmsg a
 * batch -> wg_input -> write to the tun; run the timers that are due.
 * Nothing here goes through libuv, allocates per packet or logs per
 * packet.
 *
 * Control requests (ioctls, UAPI, sysctl changes) come from the main
 * thread as messages on a MessagePort, pulled synchronously with
 * receiveMessageOnPort() whenever the eventfd fires: the main thread
 * posts, then signals the eventfd.  Replies and events go back with
 * postMessage.
 */

import { isMainThread, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';

import { crypto_attach } from '../crypto/crypto_select.js';
import type { WgCryptoBackend } from '../crypto/crypto.js';
import { EAGAIN, EINTR, ptr_of, read_addr, stable_bytes, write_addr } from '../arch/linux/libc.js';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, PollSet, eventfd_drain } from '../arch/linux/poll.js';
import { MmsgRing, UdpIo } from '../arch/linux/udp.js';
import type { Endpoint } from '../arch/linux/udp.js';
import { WgDevice, wg_tunables_default } from './wg/device.js';
import { EINVAL, EIO, ENOENT, ErrnoError } from '../sys/errno.js';
import type {
	WgEndpoint, WgEvent, WgPeer, WgPeerConfig, WgPeerInfo, WgTunables,
} from './wg/device.js';
import { uapi_get_page, uapi_set } from './wg/uapi.js';
import { wg_event_text } from './if_wg_event.js';
import type { uapi_hooks } from './wg/uapi.js';

/* --- messages between the driver (main thread) and this thread --- */

export interface wg_intr_init {
	ifname: string;
	tunfd: number;
	fd4: number;
	fd6: number;
	efd: number;
	port: MessagePort;
	backend?: WgCryptoBackend;
	tunables: Partial<WgTunables>;
	mtu: number;
}

export type wg_intr_req =
	| { op: 'set_private_key'; key: Uint8Array | null }
	| { op: 'peer_add'; cfg: WgPeerConfig }
	| { op: 'peer_set'; name: string; persistent_keepalive?: number; endpoint?: WgEndpoint }
	| { op: 'peer_delete'; name: string }
	/*
	 * Listings come in pages (cursor 0 first, then each reply's next
	 * until it is 0), so that no message holds them all; `name` asks
	 * for that peer alone.
	 */
	| { op: 'get'; cursor: number; max: number; name?: string }
	| { op: 'up' }
	| { op: 'down' }
	| { op: 'mtu'; mtu: number }
	| { op: 'tunables'; tunables: Partial<WgTunables> }
	| { op: 'sockets'; fd4: number; fd6: number; port: number }
	| { op: 'uapi_get'; listen_port: number; fwmark: number; cursor: number; max: number }
	| { op: 'uapi_set'; text: string }
	| { op: 'stop' };

export interface wg_intr_state {
	private_key: Uint8Array | null;
	public_key: Uint8Array | null;
	peers: WgPeerInfo[];
	stats: Record<string, number>;
}

export interface wg_intr_reply {
	id: number;
	errno: number;
	state?: wg_intr_state;
	text?: string;		/* uapi_get */
	next?: number;		/* get, uapi_get: the cursor of the next page, 0 at the end */
	npeers?: number;	/* after a change of peers: the link state follows it */
}

export type wg_intr_event =
	| { op: 'log'; level: 'err' | 'info' | 'debug'; key: string; msg: string }
	| { op: 'tun_gone'; errno: number };

/* --- the thread --- */

const BATCH = 64;
const RX_BATCHES = 8;
const HEADROOM = 32;
const TUN_BUFSZ = 65536;

class wg_intr {
	private readonly init: wg_intr_init;
	private readonly dev: WgDevice;
	private readonly ps = new PollSet(4);
	private readonly udp: UdpIo;
	private readonly rx: MmsgRing;
	/* Datagrams sealed during one round, sent with one sendmmsg per family run. */
	private readonly tx: MmsgRing;
	private ntx = 0;
	/* Buffer views of the core's buffers, for Buffer.copy (no subarray per packet). */
	private readonly bufviews = new WeakMap<Uint8Array, Buffer>();
	private readonly tunbuf = stable_bytes(HEADROOM + TUN_BUFSZ);
	private readonly tunbuf_addr: number;
	private readonly ptrs = new WeakMap<Uint8Array, number>();
	private last_buf: Uint8Array | null = null;
	private last_addr = 0;
	/* Sources handed to wg_input, one per family, refilled per datagram. */
	private readonly src4: WgEndpoint = { family: 4, addr: new Uint8Array(4), port: 0 };
	private readonly src6: WgEndpoint = { family: 6, addr: new Uint8Array(16), port: 0 };
	private tunfd: number;
	private running = true;

	constructor(init: wg_intr_init) {
		this.init = init;
		this.tunfd = init.tunfd;
		this.tunbuf_addr = ptr_of(this.tunbuf);
		this.udp = new UdpIo(init.fd4, init.fd6);
		/* Room for any UDP datagram: no 2048-byte receive limit as NetBSD has. */
		this.rx = new MmsgRing(BATCH, 65536);
		this.tx = new MmsgRing(BATCH, 65536);
		const tunables = wg_tunables_default();
		Object.assign(tunables, init.tunables);
		const perf = globalThis.performance;
		this.dev = new WgDevice({
			crypto: crypto_attach(init.backend),
			clock: { now: () => perf.now(), wall: () => Date.now() },
			tunables,
			io: {
				udp_send: (ep, buf, off, len) => this.udp_send(ep, buf, off, len),
				tun_write: (buf, off, len) => this.tun_write(buf, off, len),
				event: (ev) => this.event(ev),
			},
		});
		this.dev.mtu = init.mtu;
		this.ps.add(init.efd, POLLIN);
		this.ps.add(this.tunfd, POLLIN);
		this.ps.add(init.fd4, POLLIN);
		this.ps.add(init.fd6, POLLIN);
	}

	private addr_of(b: Uint8Array): number {
		if (b === this.last_buf)
			return this.last_addr;
		let a = this.ptrs.get(b);
		if (a === undefined) {
			a = ptr_of(b);
			this.ptrs.set(b, a);
		}
		this.last_buf = b;
		this.last_addr = a;
		return a;
	}

	/*
	 * Queues a datagram in the tx ring (the core's buffer is only valid
	 * during the call, so it is copied); udp_flush() sends the round's
	 * datagrams with sendmmsg, in order.
	 */
	private udp_send(ep: WgEndpoint, buf: Uint8Array, off: number, len: number): void {
		const tx = this.tx;
		if (len > tx.slot_size) {
			if (this.udp.sendto(ep.family, ep.addr, ep.port, buf, off, len) < 0)
				this.dev.stats.tx_udp_error = (this.dev.stats.tx_udp_error ?? 0) + 1;
			return;
		}
		if (this.ntx === tx.n)
			this.udp_flush();
		let view = this.bufviews.get(buf);
		if (view === undefined) {
			view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
			this.bufviews.set(buf, view);
		}
		const i = this.ntx++;
		view.copy(tx.data, i * tx.slot_size, off, off + len);
		tx.prep_to(i, ep.family, ep.addr, ep.port, 0, len);
	}

	private udp_flush(): void {
		if (this.ntx === 0)
			return;
		const n = this.ntx;
		this.ntx = 0;
		const sent = this.tx.send(this.udp.fd4, this.udp.fd6, n);
		if (sent < n)
			this.dev.stats.tx_udp_error = (this.dev.stats.tx_udp_error ?? 0) + (n - sent);
	}

	private tun_write(buf: Uint8Array, off: number, len: number): void {
		if (this.tunfd < 0)
			return;
		const r = write_addr(this.tunfd, this.addr_of(buf) + off, len);
		if (r < 0)
			this.dev.stats.rx_tun_error = (this.dev.stats.rx_tun_error ?? 0) + 1;
	}

	/* Events at info level (if_wg_event.ts), at most one a second per peer and kind. */
	private event(ev: WgEvent): void {
		const port = this.init.port;
		if (ev.type === 'log') {
			port.postMessage({ op: 'log', level: ev.level, key: ev.msg, msg: `${this.init.ifname}: ${ev.msg}` });
			return;
		}
		port.postMessage({ op: 'log', level: 'info', key: `${ev.type}:${ev.peer.id}`,
		    msg: wg_event_text(this.init.ifname, ev) });
	}

	/* --- control requests --- */

	private drain_port(): void {
		for (;;) {
			const m = receiveMessageOnPort(this.init.port);
			if (m === undefined)
				return;
			const { id, req } = m.message as { id: number; req: wg_intr_req };
			let reply: wg_intr_reply;
			try {
				reply = this.handle(id, req);
			} catch (e) {
				const errno = e instanceof ErrnoError ? e.errno : EINVAL;
				if (!(e instanceof ErrnoError))
					this.init.port.postMessage({ op: 'log', level: 'err', key: 'ctl',
					    msg: `${this.init.ifname}: ${req.op}: ${(e as Error).message}` });
				reply = { id, errno };
			}
			this.init.port.postMessage(reply);
			/* postMessage sent a copy: the keys of a get reply here are temporaries. */
			if (reply.state !== undefined) {
				reply.state.private_key?.fill(0);
				for (const p of reply.state.peers)
					p.preshared_key?.fill(0);
			}
		}
	}

	private handle(id: number, req: wg_intr_req): wg_intr_reply {
		const dev = this.dev;
		switch (req.op) {
		/* The keys in a request are this thread's own copies (structured clone): the device copies them. */
		case 'set_private_key':
			try {
				dev.set_private_key(req.key);
			} finally {
				req.key?.fill(0);
			}
			return { id, errno: 0, npeers: dev.peer_count() };
		case 'peer_add':
			try {
				dev.peer_add(req.cfg);
			} finally {
				req.cfg.preshared_key?.fill(0);
			}
			return { id, errno: 0, npeers: dev.peer_count() };
		case 'peer_set': {
			const peer = dev.peer_lookup_name(req.name);
			if (peer === undefined)
				return { id, errno: ENOENT };
			if (req.persistent_keepalive !== undefined)
				dev.peer_set_persistent_keepalive(peer, req.persistent_keepalive);
			if (req.endpoint !== undefined)
				dev.peer_set_endpoint(peer, req.endpoint);
			return { id, errno: 0 };
		}
		case 'peer_delete': {
			const peer = dev.peer_lookup_name(req.name);
			if (peer === undefined)
				return { id, errno: ENOENT };
			dev.peer_remove(peer);
			return { id, errno: 0, npeers: dev.peer_count() };
		}
		case 'get': {
			let page: { peers: WgPeer[]; next: number };
			if (req.name !== undefined) {
				const p = dev.peer_lookup_name(req.name);
				page = { peers: p === undefined ? [] : [p], next: 0 };
			} else {
				page = dev.peers_page(req.cursor, req.max, true);
			}
			return { id, errno: 0, next: page.next, state: {
				private_key: dev.private_key(),
				public_key: dev.public_key(),
				peers: page.peers.map((p) => dev.peer_info(p)),
				stats: { ...dev.stats },
			} };
		}
		case 'up':
			dev.up();
			return { id, errno: 0 };
		case 'down':
			dev.down();
			return { id, errno: 0 };
		case 'mtu':
			dev.mtu = req.mtu;
			return { id, errno: 0 };
		case 'tunables':
			Object.assign(dev.tunables, req.tunables);
			return { id, errno: 0 };
		case 'sockets':
			this.set_sockets(req.fd4, req.fd6);
			return { id, errno: 0 };
		case 'uapi_get': {
			const p = uapi_get_page(dev, { listen_port: req.listen_port, fwmark: req.fwmark }, req.cursor, req.max);
			return { id, errno: 0, text: p.text, next: p.next };
		}
		case 'uapi_set': {
			/* The main thread applied listen_port and fwmark already (sockets are its own). */
			const hooks: uapi_hooks = { set_listen_port: () => 0, set_fwmark: () => 0 };
			const errno = uapi_set(dev, req.text, hooks);
			return { id, errno, npeers: dev.peer_count() };
		}
		case 'stop':
			this.running = false;
			return { id, errno: 0 };
		}
	}

	/* The main thread closes the old pair once we have let go of it (on this reply). */
	private set_sockets(fd4: number, fd6: number): void {
		this.udp.fd4 = fd4;
		this.udp.fd6 = fd6;
		this.ps.set(2, fd4, POLLIN);
		this.ps.set(3, fd6, POLLIN);
	}

	/* --- packets --- */

	/* Reads up to BATCH packets the host routed into the interface. */
	private tun_input(): void {
		for (let i = 0; i < BATCH; i++) {
			const n = read_addr(this.tunfd, this.tunbuf_addr + HEADROOM, TUN_BUFSZ);
			if (n > 0) {
				this.dev.output(this.tunbuf, HEADROOM, n);
				continue;
			}
			if (n === -EAGAIN || n === -EINTR || n === 0)
				return;
			this.tun_gone(-n);
			return;
		}
	}

	private tun_gone(errno: number): void {
		this.ps.set(1, -1, 0);
		this.tunfd = -1;
		this.init.port.postMessage({ op: 'tun_gone', errno } satisfies wg_intr_event);
	}

	/*
	 * Up to RX_BATCHES batches while the socket has more: wg_input only
	 * queues handshake messages, so under a handshake flood the socket
	 * is drained ahead of the flood and data behind it is not delayed;
	 * the handshake work comes after, bounded, in dev.tick().
	 */
	private udp_input(fd: number): void {
		const rx = this.rx;
		for (let b = 0; b < RX_BATCHES; b++) {
			const k = rx.recv(fd, BATCH);
			for (let i = 0; i < k; i++) {
				const len = rx.lens[i];
				if (len < 0) {
					this.dev.stats.rx_too_big = (this.dev.stats.rx_too_big ?? 0) + 1;
					continue;
				}
				const src = this.src_of(rx.eps[i]);
				if (src !== null)
					this.dev.input(rx.bufs[i], 0, len, src);
			}
			if (k < BATCH)
				return;
		}
	}

	private src_of(ep: Endpoint): WgEndpoint | null {
		if (ep.family === 4) {
			const s = this.src4;
			s.addr[0] = ep.addr[0];
			s.addr[1] = ep.addr[1];
			s.addr[2] = ep.addr[2];
			s.addr[3] = ep.addr[3];
			s.port = ep.port;
			return s;
		}
		if (ep.family === 6) {
			const s = this.src6;
			s.addr.set(ep.addr);
			s.port = ep.port;
			return s;
		}
		return null;
	}

	run(): void {
		const ps = this.ps;
		const dev = this.dev;
		const perf = globalThis.performance;
		while (this.running) {
			let timeout = dev.next_deadline() - perf.now();
			timeout = timeout > 1000 ? 1000 : timeout < 0 ? 0 : Math.ceil(timeout);
			const n = ps.poll(timeout);
			if (n > 0) {
				if (ps.revents(0) !== 0) {
					eventfd_drain(this.init.efd);
					this.drain_port();
					this.udp_flush();
					if (!this.running)
						break;
				}
				const rt = ps.revents(1);
				if (rt !== 0) {
					if ((rt & POLLIN) !== 0) {
						this.tun_input();
						this.udp_flush();
					} else if ((rt & (POLLERR | POLLHUP | POLLNVAL)) !== 0)
						this.tun_gone(EIO);
				}
				if ((ps.revents(2) & POLLIN) !== 0)
					this.udp_input(this.udp.fd4);
				if ((ps.revents(3) & POLLIN) !== 0)
					this.udp_input(this.udp.fd6);
				this.udp_flush();
			}
			dev.tick();
			this.udp_flush();
		}
		/* Keys wiped, peers gone: nothing of the interface outlives it. */
		dev.destroy();
		this.init.port.close();
	}
}

if (!isMainThread && parentPort !== null && (workerData as { wg_intr?: wg_intr_init })?.wg_intr !== undefined) {
	const init = (workerData as { wg_intr: wg_intr_init }).wg_intr;
	new wg_intr(init).run();
}

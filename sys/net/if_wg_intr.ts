// SPDX-License-Identifier: BSD-2-Clause
/*
 * wg(4) data path: one worker thread per interface, the analogue of
 * NetBSD's wgintr softint plus the peer workqueue.
 *
 * The thread owns the interface's protocol state (a WgDevice, sans-I/O)
 * and runs to completion: poll(2) on the tun, the two UDP sockets and an
 * eventfd; read a batch from the tun -> wg_output -> sendmmsg; recvmmsg a
 * batch -> wg_input -> write to the tun; run the timers that are due.
 * Nothing here goes through libuv, allocates per packet or logs per
 * packet.
 *
 * Offloads, each on unless its net.wg tunable turns it off and each
 * falling back (said once in the log) where the kernel refuses it:
 *  - tun (IFF_VNET_HDR, TSO/USO): a read may be a 64 KB super-packet,
 *    cut into MTU-sized packets here (netinet/in_offload.ts); decrypted
 *    TCP segments of one flow are joined into one super-packet per round
 *    before they are written (netinet/tcp_coalesce.ts);
 *  - UDP GSO: datagrams to one endpoint leave as one sendmmsg message
 *    per run of equal sizes (arch/linux/udp_gso.ts);
 *  - UDP GRO: one received message may hold a train of datagrams, with
 *    the segment size in a cmsg (Linux >= 5.12).
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
import type { WgCrypto, WgCryptoBackend } from '../crypto/crypto.js';
import { release } from 'node:os';
import {
	EAGAIN, EINTR, IPPROTO_IP, IPPROTO_IPV6, close, errno_name, if_zones, ptr_of, read_addr, setsockopt_int,
	stable_bytes, write_addr,
} from '../arch/linux/libc.js';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, PollSet, eventfd_drain } from '../arch/linux/poll.js';
import {
	CMSG_SPACE_RX, IPV6_RECVPKTINFO, IP_PKTINFO, MmsgRing, SOL_UDP, UDP_GRO, UdpIo,
} from '../arch/linux/udp.js';
import { RTMGRP_ADDR_ROUTE, RTMGRP_LINK, rtnl_bell, rtnl_open } from '../arch/linux/rtnetlink.js';
import type { Endpoint } from '../arch/linux/udp.js';
import { UdpTxBatch } from '../arch/linux/udp_gso.js';
import {
	VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_ECN, VIRTIO_NET_HDR_GSO_NONE,
	VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_GSO_UDP_L4, VIRTIO_NET_HDR_LEN,
	vnet_csum_offset, vnet_csum_start, vnet_flags, vnet_gso_size, vnet_gso_type, vnet_hdr_len, vnet_put,
} from '../arch/linux/virtio_net.js';
import {
	GSO_NONE, GSO_TCPV4, GSO_TCPV6, GSO_UDP_L4, gso_error_names, gso_info, in_csum_complete,
	in_gso_segment,
} from '../netinet/in_offload.js';
import { tcp_coalescer } from '../netinet/tcp_coalesce.js';
import { WgDevice, wg_tunables_default } from './wg/device.js';
import { DATA_OFF_PAYLOAD } from './wg/messages.js';
import type { WgKeypair } from './wg/noise.js';
import { wg_crypt } from './if_wg_crypt.js';
import { EINVAL, EIO, ENOENT, ErrnoError } from '../sys/errno.js';
import type {
	WgEndpoint, WgEvent, WgIo, WgPeer, WgPeerConfig, WgPeerInfo, WgStatKey, WgTunables,
} from './wg/device.js';
import { uapi_get_page, uapi_set } from './wg/uapi.js';
import { wg_event_text } from './if_wg_event.js';
import { wg_peers_externalize } from './if_wg_get.js';
import { malloc_trim } from '../arch/linux/malloc.js';
import { wg_warm } from './if_wg_warm.js';
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
	vnet_hdr: boolean;	/* the tun was attached with IFF_VNET_HDR (offloads on) */
	udp_gso: boolean;
	udp_gro: boolean;
	crypto_workers: number;	/* net.wg.crypto_workers: 0, crypto on this thread alone */
	warmup: number;		/* packets of the start-up warm-up (if_wg_warm.ts), 0 for none */
	loopback: boolean;	/* a warm-up's own instance: no rtnetlink bells, no crypto threads */
}

export type wg_intr_req =
	| { op: 'set_private_key'; key: Uint8Array | null }
	| { op: 'peer_add'; cfg: WgPeerConfig }
	| { op: 'peer_set'; name: string; persistent_keepalive?: number; endpoint?: WgEndpoint }
	| { op: 'peer_delete'; name: string }
	/*
	 * Listings come in pages (cursor 0 first, then each reply's next
	 * until it is 0), so that no message holds them all; `name` asks
	 * for that peer alone.  With `xml`, the peers come as the
	 * externalized dictionaries of a get reply (if_wg_get.ts) instead
	 * of objects: a listing is long, and a clone per peer is slow.
	 */
	| { op: 'get'; cursor: number; max: number; name?: string;
	    xml?: { privileged: boolean; hosts: Array<[string, string]>; ref_base: number; brief: boolean } }
	| { op: 'up' }
	| { op: 'down' }
	| { op: 'mtu'; mtu: number }
	| { op: 'tunables'; tunables: Partial<WgTunables>; udp_gso: boolean; udp_gro: boolean; crypto_workers: number }
	| { op: 'sockets'; fd4: number; fd6: number }
	| { op: 'uapi_get'; listen_port: number; fwmark: number; cursor: number; max: number }
	/*
	 * A UAPI set's body (transferred; wiped here), and the sockets to take
	 * once it is applied: both or neither (sys/net/if_wg_uapi.ts).
	 */
	| { op: 'uapi_set'; body: Uint8Array; sockets?: { fd4: number; fd6: number } }
	| { op: 'stop' };

export interface wg_intr_state {
	private_key: Uint8Array | null;
	public_key: Uint8Array | null;
	peers: WgPeerInfo[];
	stats: Record<WgStatKey | wg_intr_stat_key, number>;
}

export interface wg_intr_reply {
	id: number;
	errno: number;
	state?: wg_intr_state;
	text?: Uint8Array;	/* uapi_get: ASCII, keys in hex among it */
	xml?: Uint8Array;	/* get with xml: the page's peer dictionaries */
	attach?: Uint8Array[];	/* ... and the preshared keys they refer to (if_wg_get.ts) */
	next?: number;		/* get, uapi_get: the cursor of the next page, 0 at the end */
	npeers?: number;	/* after a change of peers: the link state follows it */
}

export type wg_intr_event =
	| { op: 'log'; level: 'err' | 'info' | 'debug'; key: string; msg: string }
	| { op: 'tun_gone'; errno: number }
	/* Some link changed where the tun is or went: the kernel's link watch looks at once. */
	| { op: 'link' };

/* --- the thread --- */

/* Datagrams per recvmmsg and per transmit batch (wireguard-go's IdealBatchSize). */
const BATCH = 128;
/* recvmmsg batches per round while the socket has more (see udp_input). */
const RX_BATCHES = 8;
/* Bytes of datagrams a transmit batch holds: BATCH full-size ones. */
const TX_ARENA = BATCH * 2048;
/* Packets read from the tun per round before the sockets get their turn. */
const TUN_ROUND = BATCH;
/* A tun read: a virtio_net_hdr and up to 64 KB of packet. */
const TUN_BUFSZ = VIRTIO_NET_HDR_LEN + 65536;
/* Packets (or trains) held for the tun per round. */
const COALESCE_SLOTS = 64;

/* UDP_GRO reports segment sizes correctly from Linux 5.12 on. */
function udp_gro_supported(): boolean {
	const m = /^(\d+)\.(\d+)/.exec(release());
	return m !== null && (Number(m[1]) > 5 || (Number(m[1]) === 5 && Number(m[2]) >= 12));
}

/*
 * This thread waits in poll(2) and never returns to its event loop, so
 * V8's idle-time collection never runs here: the garbage a large
 * configuration request leaves (its text, its parsed lines, some
 * hundreds of bytes a peer) would stay resident for good.  After such a
 * request, once it is answered, a full collection gives it back, and
 * malloc_trim what it held outside the V8 heap.  The driver exposes
 * gc() to the thread (if_wg.ts).
 */
const WG_GC_AFTER = 1 << 20;	/* request text, in characters */
const wg_gc = (globalThis as { gc?: () => void }).gc;

/* Drops on the driver's side of the data path (offloads, sockets, tun), beside the core's counters. */
const INTR_STATS_KEYS = [
	'gso_bad_type', 'gso_bad_size', 'gso_bad_hdr_len', 'gso_bad_csum', 'gso_bad_ip', 'tun_short',
	'tun_gso_rx', 'tun_gso_tx', 'rx_tun_error', 'rx_too_big', 'tx_udp_error', 'tx_src_refused', 'tx_seal_fail',
] as const;
export type wg_intr_stat_key = typeof INTR_STATS_KEYS[number];

/*
 * One clock for every instance in the thread: a warm-up's (if_wg_warm.ts)
 * optimised code calls the same function the interface's does.
 */
const wg_intr_perf = globalThis.performance;
const wg_intr_clock = { now: () => wg_intr_perf.now(), wall: () => Date.now() };

class wg_intr {
	private readonly init: wg_intr_init;
	private readonly dev: WgDevice;
	private readonly ps = new PollSet(6);
	private readonly udp: UdpIo;
	private rx: MmsgRing;
	/* Datagrams sealed during one round, sent with one sendmmsg per family run. */
	private tx: UdpTxBatch;
	private readonly tunbuf = stable_bytes(TUN_BUFSZ);
	private readonly tunbuf_addr: number;
	private readonly ptrs = new WeakMap<Uint8Array, number>();
	private last_buf: Uint8Array | null = null;
	private last_addr = 0;
	private readonly stats = Object.fromEntries(INTR_STATS_KEYS.map((k) => [k, 0])) as Record<wg_intr_stat_key, number>;
	/* Offloads: the tun's (fixed at attach), UDP GRO (per socket pair). */
	private readonly vnet: boolean;
	private udp_gro: boolean;
	private readonly gso = new gso_info();
	private readonly seg = new Uint8Array(new ArrayBuffer(65536));
	private readonly seg_emit = (b: Uint8Array, off: number, len: number): void => {
		this.dev.output(b, off, len);
	};
	private readonly coal: tcp_coalescer | null;
	private readonly coal_addr: number;
	private readonly coal_emit = (b: Uint8Array, p: number, len: number, g: gso_info): void => {
		this.tun_write_vnet(b, p, len, g);
	};
	/* Sources handed to wg_input, one per family, refilled per datagram. */
	private readonly src4: WgEndpoint = { family: 4, addr: new Uint8Array(4), port: 0, scope_id: 0,
		src: new Uint8Array(4), src_ifindex: 0 };
	private readonly src6: WgEndpoint = { family: 6, addr: new Uint8Array(16), port: 0, scope_id: 0,
		src: new Uint8Array(16), src_ifindex: 0 };
	/*
	 * Sticky sources: the endpoint of each queued datagram (to forget
	 * a source the kernel refuses), and the bell that rings when the
	 * host's addresses or routes change (null where rtnetlink refused).
	 */
	private readonly tx_eps: (WgEndpoint | null)[] = new Array<WgEndpoint | null>(BATCH).fill(null);
	private readonly rtnl: rtnl_bell | null = null;
	/*
	 * The host's link changes, for the kernel's link watch (sys/net/if.ts
	 * polls once a second): `ip link set wg0 up` and a ping at once
	 * must not find the interface still down.
	 */
	private readonly link: rtnl_bell | null = null;
	private tunfd: number;
	private running = true;
	/* Crypto threads (net.wg.crypto_workers > 0), and the received datagram wg_input is at. */
	private crypt: wg_crypt | null = null;
	private crypt_n = 0;	/* net.wg.crypto_workers as last set */
	private rx_at = 0;
	private readonly io: WgIo;
	/* The device's crypto, and the same with dropped keys forgotten by the crypto threads too. */
	private readonly crypto: WgCrypto;
	private readonly rx_done = (kp: unknown, counter: number, ok: boolean, buf: Uint8Array, off: number,
	    len: number, at: number): void => {
		this.dev.input_opened(kp as WgKeypair, counter, ok, buf, off - DATA_OFF_PAYLOAD, len + DATA_OFF_PAYLOAD,
		    this.src_of(this.rx.eps[at]) as WgEndpoint);
	};

	constructor(init: wg_intr_init) {
		this.init = init;
		this.tunfd = init.tunfd;
		this.tunbuf_addr = ptr_of(this.tunbuf);
		this.udp = new UdpIo(init.fd4, init.fd6);
		this.vnet = init.vnet_hdr;
		this.rx = this.rx_ring(init.crypto_workers > 0);
		this.tx = this.tx_batch(init.crypto_workers > 0, init.udp_gso);
		this.udp_gro = init.udp_gro;
		this.set_gro();
		this.set_pktinfo();
		if (!init.loopback) {
			try {
				this.rtnl = new rtnl_bell(rtnl_open(RTMGRP_ADDR_ROUTE));
			} catch (e) {
				this.log('rtnl', `rtnetlink refused (${(e as Error).message}): sticky sources kept until they fail`);
			}
			try {
				this.link = new rtnl_bell(rtnl_open(RTMGRP_LINK, true));
			} catch (e) {
				this.log('rtnl', `rtnetlink refused (${(e as Error).message}): the host's link changes seen within 1 s`);
			}
		}
		this.coal = this.vnet ? new tcp_coalescer(COALESCE_SLOTS, 16) : null;
		this.coal_addr = this.coal !== null ? ptr_of(this.coal.arena) : 0;
		const tunables = wg_tunables_default();
		Object.assign(tunables, init.tunables);
		this.io = {
			udp_send: (ep, buf, off, len) => this.udp_send(ep, buf, off, len),
			udp_reserve: (len) => this.udp_reserve(len),
			udp_arena: this.tx.data,
			/* Set only while crypto threads run; there from the start, so io keeps one shape. */
			seal_defer: undefined,
			open_defer: undefined,
			tun_write: (buf, off, len) => this.tun_write(buf, off, len),
			event: (ev) => this.event(ev),
		};
		const crypto = this.crypto = crypto_attach(init.backend);
		this.dev = new WgDevice({
			crypto: Object.create(crypto, {
				aead_forget: { value: (key: Uint8Array): void => {
					this.crypt?.forget(key);
					crypto.aead_forget(key);
				} },
			}) as WgCrypto,
			clock: wg_intr_clock,
			tunables,
			io: this.io,
		});
		this.set_crypto_workers(init.crypto_workers);
		this.dev.mtu = init.mtu;
		this.ps.add(init.efd, POLLIN);
		this.ps.add(this.tunfd, POLLIN);
		this.ps.add(init.fd4, POLLIN);
		this.ps.add(init.fd6, POLLIN);
		this.ps.add(this.rtnl?.fd ?? -1, POLLIN);
		this.ps.add(this.link?.fd ?? -1, POLLIN);
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

	log(key: string, msg: string, level: 'info' | 'debug' = 'info'): void {
		this.init.port.postMessage({ op: 'log', level, key, msg: `${this.init.ifname}: ${msg}` });
	}

	/*
	 * The receive ring (room for any UDP datagram, or GRO train of them)
	 * and the transmit batch: shared when crypto threads seal and open in
	 * them, plain otherwise (V8 copies to and from a SharedArrayBuffer
	 * with relaxed atomics, 1.6-2.5x slower per packet copy here).
	 */
	private rx_ring(shared: boolean): MmsgRing {
		return new MmsgRing(BATCH, 65536, shared, CMSG_SPACE_RX);
	}

	private tx_batch(shared: boolean, gso: boolean): UdpTxBatch {
		const tx = new UdpTxBatch(BATCH, TX_ARENA, gso, shared);
		tx.src_refused = (i) => {
			const ep = this.tx_eps[i];
			if (ep !== null)
				ep.src_ifindex = 0;
			this.stats.tx_src_refused++;
		};
		return tx;
	}

	/* Room for a datagram in the transmit batch, the round so far sent first if need be. */
	private udp_reserve(len: number): number {
		const tx = this.tx;
		if (!tx.fits(len))
			this.udp_flush();
		return tx.fits(len) ? tx.next_at : -1;
	}

	/*
	 * Queues a datagram in the transmit batch: where the core built it
	 * there (udp_reserve), as is; otherwise copied, since the core's
	 * buffer is only valid during the call.  udp_flush() sends the
	 * round's datagrams, in order.
	 */
	private udp_send(ep: WgEndpoint, buf: Uint8Array, off: number, len: number): void {
		const tx = this.tx;
		if (buf === tx.data && off === tx.next_at && tx.fits(len)) {
			this.tx_eps[tx.n] = ep;
			tx.push(ep.family, ep.addr, ep.port, ep.scope_id ?? 0, len, ep.src, ep.src_ifindex ?? 0);
			return;
		}
		if (!tx.fits(len)) {
			this.udp_flush();
			if (!tx.fits(len)) {
				if (this.udp.sendto(ep.family, ep.addr, ep.port, buf, off, len, ep.scope_id) < 0)
					this.stats.tx_udp_error++;
				return;
			}
		}
		this.tx_eps[tx.n] = ep;
		const at = tx.push(ep.family, ep.addr, ep.port, ep.scope_id ?? 0, len, ep.src, ep.src_ifindex ?? 0);
		tx.data.set(buf.subarray(off, off + len), at);
	}

	private udp_flush(): void {
		const tx = this.tx;
		if (tx.n === 0)
			return;
		const crypt = this.crypt;
		if (crypt !== null) {
			crypt.tx_wait();
			this.stats.tx_seal_fail += crypt.tx_failed;
			crypt.tx_failed = 0;
		}
		const n = tx.n;
		const sent = tx.flush(this.udp.fd4, this.udp.fd6);
		this.tx_eps.fill(null, 0, n);
		if (sent < n)
			this.stats.tx_udp_error += n - sent;
		if (tx.gso_failed !== 0) {
			this.log('udp_gso', `UDP GSO refused (${errno_name(tx.gso_failed)}): sending datagrams one by one`);
			tx.gso_failed = 0;
		}
	}

	/* Both directions' batches out: datagrams to the sockets, packets to the tun. */
	private flush(): void {
		this.udp_flush();
		if (this.coal !== null && this.coal.count > 0)
			this.coal.flush(this.coal_emit);
	}

	private tun_write(buf: Uint8Array, off: number, len: number): void {
		if (this.tunfd < 0)
			return;
		const coal = this.coal;
		if (coal !== null) {
			if (coal.full)
				coal.flush(this.coal_emit);
			coal.add(buf, off, len);
			return;
		}
		if (write_addr(this.tunfd, this.addr_of(buf) + off, len) < 0)
			this.stats.rx_tun_error++;
	}

	/* One packet or train from the coalescer, behind its virtio_net_hdr (room for it is in the slot). */
	private tun_write_vnet(b: Uint8Array, p: number, len: number, g: gso_info): void {
		if (this.tunfd < 0)
			return;
		const h = p - VIRTIO_NET_HDR_LEN;
		if (g.type === GSO_NONE) {
			vnet_put(b, h, 0, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, 0);
		} else {
			vnet_put(b, h, VIRTIO_NET_HDR_F_NEEDS_CSUM,
			    g.type === GSO_TCPV4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6,
			    g.hdr_len, g.size, g.csum_start, g.csum_offset);
			this.stats.tun_gso_tx++;
		}
		if (write_addr(this.tunfd, this.coal_addr + h, len + VIRTIO_NET_HDR_LEN) < 0)
			this.stats.rx_tun_error++;
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
			/*
			 * A get reply's keys are copies off the V8 heap (WgDevice):
			 * moved to the main thread, not cloned, so no copy stays here.
			 */
			const keys: ArrayBuffer[] = [];
			/* A page's text too (a megabyte is not copied), and its preshared keys. */
			if (reply.xml !== undefined)
				keys.push(reply.xml.buffer as ArrayBuffer);
			for (const a of reply.attach ?? [])
				keys.push(a.buffer as ArrayBuffer);
			if (reply.state !== undefined) {
				if (reply.state.private_key !== null)
					keys.push(reply.state.private_key.buffer as ArrayBuffer);
				for (const p of reply.state.peers)
					if (p.preshared_key !== null)
						keys.push(p.preshared_key.buffer as ArrayBuffer);
			}
			this.init.port.postMessage(reply, keys);
			/* postMessage sent a copy of this one: the one here is a temporary. */
			reply.text?.fill(0);
			if (req.op === 'uapi_set' && req.body.length >= WG_GC_AFTER) {
				wg_gc?.();
				malloc_trim();
			}
		}
	}

	handle(id: number, req: wg_intr_req): wg_intr_reply {
		const dev = this.dev;
		switch (req.op) {
		/* The keys in a request were transferred to this thread (wg_softc.wg_call): the device copies them. */
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
			const infos = page.peers.map((p) => dev.peer_info(p));
			const x = req.xml === undefined ? undefined :
			    wg_peers_externalize(infos, req.xml, new Map(req.xml.hosts));
			return { id, errno: 0, next: page.next, xml: x?.xml, attach: x?.attach, state: {
				private_key: dev.private_key(),
				public_key: dev.public_key(),
				peers: x === undefined ? infos : [],
				stats: { ...dev.stats, ...this.stats },
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
			this.tx.gso = req.udp_gso;
			if (req.udp_gro !== this.udp_gro) {
				this.udp_gro = req.udp_gro;
				this.set_gro();
			}
			this.set_crypto_workers(req.crypto_workers);
			return { id, errno: 0 };
		case 'sockets':
			this.set_sockets(req.fd4, req.fd6);
			return { id, errno: 0 };
		case 'uapi_get': {
			const p = uapi_get_page(dev, { listen_port: req.listen_port, fwmark: req.fwmark, zones: if_zones },
			    req.cursor, req.max);
			return { id, errno: 0, text: p.text, next: p.next };
		}
		case 'uapi_set': {
			/* listen_port and fwmark are the main thread's: it bound and marked the sockets given here. */
			const hooks: uapi_hooks = { set_listen_port: () => 0, set_fwmark: () => 0, zones: if_zones };
			let errno: number;
			try {
				errno = uapi_set(dev, req.body, hooks);
			} finally {
				req.body.fill(0);
			}
			if (errno === 0 && req.sockets !== undefined)
				this.set_sockets(req.sockets.fd4, req.sockets.fd6);
			return { id, errno, npeers: dev.peer_count() };
		}
		case 'stop':
			this.running = false;
			return { id, errno: 0 };
		}
	}

	/*
	 * n crypto threads from now on (if_wg_crypt.ts): the old ones finish
	 * what they hold and go, the new ones start with no key.  Between
	 * rounds: nothing received waits, the transmit batch is sent here,
	 * so the buffers can be made anew, shared or not.
	 */
	private set_crypto_workers(n: number): void {
		if (n === this.crypt_n)
			return;
		this.crypt_n = n;
		const io = this.io;
		this.udp_flush();
		if (this.crypt !== null) {
			this.crypt.destroy();
			this.crypt = null;
			io.seal_defer = undefined;
			io.open_defer = undefined;
		}
		const shared = n > 0;
		if ((this.tx.data.buffer instanceof SharedArrayBuffer) !== shared) {
			this.rx = this.rx_ring(shared);
			this.tx = this.tx_batch(shared, this.tx.gso);
			io.udp_arena = this.tx.data;
		}
		if (n <= 0)
			return;
		const crypto = this.crypto;
		const arena = this.tx.data;
		/*
		 * A warm-up's instance has the rings but no threads of its own: it
		 * does every job itself, as the interface's thread does a lone
		 * packet's, which is the path the warm-up is for.
		 */
		const crypt = this.crypt = new wg_crypt(this.init.loopback ? 0 : n, crypto,
		    [arena.buffer as SharedArrayBuffer, this.rx.data.buffer as SharedArrayBuffer], (msg) => this.log('crypt', msg));
		io.seal_defer = (key, counter, off, len) => {
			if (!crypt.seal(key, counter, arena, off, len))
				crypto.aead_seal_into(key, counter, arena, off, len, null, arena, off);
		};
		io.open_defer = (kp, counter, buf, off, len) => crypt.open(kp.recv_key, counter, buf,
		    off + DATA_OFF_PAYLOAD, len - DATA_OFF_PAYLOAD, kp, this.rx_at);
	}

	/* The main thread closes the old pair once we have let go of it (on this reply). */
	private set_sockets(fd4: number, fd6: number): void {
		this.udp.fd4 = fd4;
		this.udp.fd6 = fd6;
		this.ps.set(2, fd4, POLLIN);
		this.ps.set(3, fd6, POLLIN);
		this.set_gro();
		this.set_pktinfo();
	}

	/* Each datagram's receiving address in a cmsg (sticky sources); where refused, without, said once. */
	private set_pktinfo(): void {
		const r4 = this.udp.fd4 < 0 ? 0 : setsockopt_int(this.udp.fd4, IPPROTO_IP, IP_PKTINFO, 1);
		const r6 = this.udp.fd6 < 0 ? 0 : setsockopt_int(this.udp.fd6, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
		if (r4 < 0 || r6 < 0)
			this.log('pktinfo', `IP_PKTINFO refused (${errno_name(r4 < 0 ? r4 : r6)}): replies leave from the route's source`);
	}

	/* UDP_GRO on (or off) on both sockets; where the kernel refuses, off, said once. */
	private set_gro(): void {
		let on = this.udp_gro;
		if (on && !udp_gro_supported()) {
			this.log('udp_gro', `UDP GRO not used before Linux 5.12 (this is ${release()})`);
			on = this.udp_gro = false;
		}
		for (const fd of [this.udp.fd4, this.udp.fd6]) {
			if (fd < 0)
				continue;
			const r = setsockopt_int(fd, SOL_UDP, UDP_GRO, on ? 1 : 0);
			if (r < 0 && on) {
				this.log('udp_gro', `UDP GRO refused (${errno_name(r)}): receiving datagrams one by one`);
				this.udp_gro = false;
			}
		}
	}

	/* --- packets --- */

	/*
	 * Reads up to TUN_ROUND packets' worth of what the host routed into
	 * the interface.  The first read's datagrams leave at once: a lone
	 * packet (a ping) does not wait for the read that finds the tun empty.
	 */
	private tun_input(): void {
		const hl = this.vnet ? VIRTIO_NET_HDR_LEN : 0;
		for (let got = 0; got < TUN_ROUND;) {
			const n = read_addr(this.tunfd, this.tunbuf_addr, TUN_BUFSZ);
			if (n > 0) {
				const first = got === 0;
				if (hl === 0) {
					this.dev.output(this.tunbuf, 0, n);
					got++;
				} else {
					got += this.vnet_output(n);
				}
				if (first)
					this.udp_flush();
				continue;
			}
			if (n === -EAGAIN || n === -EINTR || n === 0)
				return;
			this.tun_gone(-n);
			return;
		}
	}

	/*
	 * A read of n bytes behind a virtio_net_hdr: a plain packet (its
	 * checksum completed if the host left that to us) or a super-packet
	 * to cut.  Returns the packets it made; a bad header is dropped and
	 * counted.
	 */
	private vnet_output(n: number): number {
		const b = this.tunbuf;
		const len = n - VIRTIO_NET_HDR_LEN;
		if (len <= 0) {
			this.stats.tun_short++;
			return 1;
		}
		const g = this.gso;
		const flags = vnet_flags(b, 0);
		const type = vnet_gso_type(b, 0) & ~VIRTIO_NET_HDR_GSO_ECN;
		g.hdr_len = vnet_hdr_len(b, 0);
		g.size = vnet_gso_size(b, 0);
		g.needs_csum = (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0;
		g.csum_start = vnet_csum_start(b, 0);
		g.csum_offset = vnet_csum_offset(b, 0);
		if (type === VIRTIO_NET_HDR_GSO_NONE) {
			if (g.needs_csum && !in_csum_complete(b, VIRTIO_NET_HDR_LEN, len, g.csum_start, g.csum_offset)) {
				this.stats.gso_bad_csum++;
				return 1;
			}
			this.dev.output(b, VIRTIO_NET_HDR_LEN, len);
			return 1;
		}
		g.type = type === VIRTIO_NET_HDR_GSO_TCPV4 ? GSO_TCPV4 : type === VIRTIO_NET_HDR_GSO_TCPV6 ? GSO_TCPV6 :
		    type === VIRTIO_NET_HDR_GSO_UDP_L4 ? GSO_UDP_L4 : -1;
		const r = in_gso_segment(b, VIRTIO_NET_HDR_LEN, len, g, this.seg, this.seg_emit);
		if (r < 0) {
			this.stats[gso_error_names[r]]++;
			return 1;
		}
		this.stats.tun_gso_rx++;
		return r;
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
		const crypt = this.crypt;
		for (let r = 0; r < RX_BATCHES; r++) {
			const k = rx.recv(fd, BATCH);
			for (let i = 0; i < k; i++) {
				this.rx_at = i;
				const len = rx.lens[i];
				if (len < 0) {
					this.stats.rx_too_big++;
					continue;
				}
				const src = this.src_of(rx.eps[i]);
				if (src === null)
					continue;
				const seg = rx.segs[i];
				const b = rx.bufs[i];
				if (seg === 0) {
					if (crypt?.rx_full === true)
						this.rx_room(crypt);
					this.dev.input(b, 0, len, src);
					continue;
				}
				/* A GRO train: datagrams of seg bytes, the last maybe shorter. */
				for (let o = 0; o < len; o += seg) {
					if (crypt?.rx_full === true)
						this.rx_room(crypt);
					this.dev.input(b, o, o + seg <= len ? seg : len - o, src);
				}
			}
			/* Opened, and in order, before the next recvmmsg reuses the buffers. */
			crypt?.rx_complete(this.rx_done);
			if (k < BATCH)
				return;
		}
	}

	/* The received messages so far completed, for the next; src_of() refills the source they reused. */
	private rx_room(crypt: wg_crypt): void {
		crypt.rx_complete(this.rx_done);
		this.src_of(this.rx.eps[this.rx_at]);
	}

	private src_of(ep: Endpoint): WgEndpoint | null {
		if (ep.family === 4) {
			const s = this.src4;
			s.addr[0] = ep.addr[0];
			s.addr[1] = ep.addr[1];
			s.addr[2] = ep.addr[2];
			s.addr[3] = ep.addr[3];
			s.port = ep.port;
			const d = s.src as Uint8Array;
			d[0] = ep.src[0];
			d[1] = ep.src[1];
			d[2] = ep.src[2];
			d[3] = ep.src[3];
			s.src_ifindex = ep.src_ifindex;
			return s;
		}
		if (ep.family === 6) {
			const s = this.src6;
			s.addr.set(ep.addr);
			s.port = ep.port;
			s.scope_id = ep.scope_id;
			s.src_ifindex = ep.src_ifindex;
			(s.src as Uint8Array).set(ep.src);
			return s;
		}
		return null;
	}

	/*
	 * One wait and what it brought: at most max_ms in poll(2), less when
	 * a timer is due sooner.
	 */
	round(max_ms: number): void {
		const ps = this.ps;
		const dev = this.dev;
		const perf = globalThis.performance;
		let timeout = dev.next_deadline() - perf.now();
		if (timeout <= 0) {
			/* Timers due or handshakes queued; otherwise a packet's round skips this. */
			dev.tick();
			this.flush();
			timeout = dev.next_deadline() - perf.now();
		}
		timeout = timeout > max_ms ? max_ms : timeout < 0 ? 0 : Math.ceil(timeout);
		if (ps.poll(timeout) <= 0)
			return;
		if (ps.revents(0) !== 0) {
			eventfd_drain(this.init.efd);
			this.drain_port();
			this.flush();
			if (!this.running)
				return;
		}
		const rt = ps.revents(1);
		if (rt !== 0) {
			if ((rt & POLLIN) !== 0) {
				this.tun_input();
				this.flush();
			} else if ((rt & (POLLERR | POLLHUP | POLLNVAL)) !== 0)
				this.tun_gone(EIO);
		}
		const r4 = ps.revents(2) & POLLIN;
		const r6 = ps.revents(3) & POLLIN;
		if (r4 !== 0)
			this.udp_input(this.udp.fd4);
		if (r6 !== 0)
			this.udp_input(this.udp.fd6);
		if ((ps.revents(4) & POLLIN) !== 0 && this.rtnl?.rang() === true)
			dev.peers_clear_src();
		if ((ps.revents(5) & POLLIN) !== 0 && this.link?.rang() === true)
			this.init.port.postMessage({ op: 'link' } satisfies wg_intr_event);
		this.flush();
		/*
		 * What went into the tun is often answered at once (an echo
		 * reply, a TCP ACK, made by the host as it took the write): read
		 * that now rather than after one more poll(2).
		 */
		if ((r4 | r6) !== 0 && this.tunfd >= 0) {
			this.tun_input();
			this.flush();
		}
	}

	/* While a warm-up runs, its slices take turns with rounds that do not wait. */
	run(warm: wg_warm | null): void {
		while (this.running) {
			this.round(warm === null ? 1000 : 0);
			if (warm !== null && !warm.step())
				warm = null;
		}
		warm?.stop();
		this.detach();
	}

	/* Keys wiped, peers gone: nothing of the interface outlives it. */
	detach(): void {
		this.dev.destroy();
		this.crypt?.destroy();
		if (this.rtnl !== null)
			close(this.rtnl.fd);
		if (this.link !== null)
			close(this.link.fd);
		this.init.port.close();
	}
}

if (!isMainThread && parentPort !== null && (workerData as { wg_intr?: wg_intr_init })?.wg_intr !== undefined) {
	const init = (workerData as { wg_intr: wg_intr_init }).wg_intr;
	const intr = new wg_intr(init);
	intr.run(init.warmup > 0 ?
	    new wg_warm(init, (w) => new wg_intr(w), (level, msg) => intr.log('warmup', msg, level)) : null);
}

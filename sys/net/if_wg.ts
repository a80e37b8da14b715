// SPDX-License-Identifier: BSD-2-Clause
/*
 * wg(4): the WireGuard interface driver, main-thread half.
 *
 * wg_clone_create attaches a real Linux tun named wgN (sys/arch/linux),
 * opens the UDP sockets and starts the interface's data-path thread
 * (if_wg_intr.ts), which owns the protocol state.  This half handles
 * what the kernel's ioctl path brings: SIOCSDRVSPEC / SIOCGDRVSPEC with
 * NetBSD's proplib dictionaries (if_wg.h.ts), up/down and MTU, and the
 * UAPI socket (if_wg_uapi.ts); it turns them into requests to the thread.
 *
 * Deliberate differences from NetBSD's if_wg.c (share/doc/DESIGN.md §6): a get
 * carries every peer whatever their number; no 16-allowed-IP cap; names
 * up to 15 characters plus the NUL; a peer can be changed in place
 * (WG_IOCTL_SET_PEER, used for the persistent-keepalive extension).
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';

import { ErrnoError } from '../sys/errno.js';
import { crypto_key_copy } from '../crypto/crypto_util.js';
import { eventfd_open, eventfd_signal } from '../arch/linux/poll.js';
import { errno_name } from '../arch/linux/libc.js';
import { tun_attach, tun_detach, tun_link_state, tun_offload_enable } from '../arch/linux/tun.js';
import { udp_close, udp_open_pair, udp_set_mark } from '../arch/linux/udp.js';
export type { udp_pair } from '../arch/linux/udp.js';
import type { udp_pair } from '../arch/linux/udp.js';
import { close as sys_close } from '../arch/linux/libc.js';
import { kauth_cred_isroot } from '../kern/kern_auth.js';
import type { kauth_cred } from '../kern/kern_auth.js';
import { sysctl_subscribe } from '../kern/kern_sysctl.js';
import { type net_wg_tunables, wg_tunables } from './if_wg_sysctl.js';
import { LOG_ERR, LOG_INFO, LOG_DEBUG, log, log_ratecheck } from '../kern/subr_log.js';
import { E2BIG, EADDRINUSE, EINVAL, EIO, EPERM } from '../sys/errno.js';
import { AF_INET, AF_INET6 } from '../sys/socket.js';
import type { ShimIoctlRequest, ShimReply } from '../sys/shim.js';
import { sockaddr_decode } from '../sys/socket.js';
import {
	IFF_MULTICAST, SIOCGDRVSPEC, SIOCSDRVSPEC, SIOCSIFMTU,
} from '../sys/sockio.js';
import {
	prop_data_wipe, prop_dictionary_get, prop_dictionary_get_array, prop_dictionary_get_bool, prop_dictionary_get_data,
	prop_dictionary_get_number, prop_dictionary_get_string, prop_dictionary_internalize, prop_writer,
} from '../../lib/libprop/prop.js';
import type { PropDictionary } from '../../lib/libprop/prop.js';
import { if_clone_attach, if_clone_destroy, if_link_changed } from './if.js';
import type { if_clone, ifnet } from './if.js';
import {
	WGK_ALLOWEDIPS, WGK_BRIEF, WGK_CIDR, WGK_CURSOR, WGK_ENDPOINT, WGK_MAX_PEERS, WGK_FAMILY, WGK_IP,
	WGK_LISTEN_PORT, WGK_NAME, WGK_PEERS, WGK_PERSISTENT_KEEPALIVE,
	WGK_PRESHARED_KEY, WGK_PRIVATE_KEY, WGK_PUBLIC_KEY, WGK_ENDPOINT_HOST,
	WG_IOCTL_ADD_PEER, WG_IOCTL_DELETE_PEER, WG_IOCTL_SET_LISTEN_PORT,
	WG_IOCTL_SET_PEER, WG_IOCTL_SET_PRIVATE_KEY, WG_MAX_PROPLEN, WG_PEER_NAME_MAXLEN,
} from './if_wg.h.js';
import { wg_dns, wg_host_valid } from './if_wg_dns.js';
import type {
	wg_intr_event, wg_intr_init, wg_intr_reply, wg_intr_req,
} from './if_wg_intr.js';
import type { WgAllowedIp, WgPeerConfig, WgTunables } from './wg/device.js';
import { WG_DEFAULT_MTU, WG_KEY_LEN } from './wg/messages.js';
import { wg_uapi_attach, wg_uapi_detach } from './if_wg_uapi.js';
import type { wg_uapi } from './if_wg_uapi.js';

/*
 * The data-path threads may collect their garbage at once (gc(), see
 * if_wg_intr.ts): set before the first thread starts, as it applies to
 * threads made afterwards.
 */
setFlagsFromString('--expose-gc');
/* And this thread, after the same large requests: from a context made now, which has gc(). */
export const wg_main_gc = runInNewContext('gc') as (() => void) | undefined;

/* Peers per page between the thread and this half, and at most per paged get reply. */
const WG_GET_PAGE = 2048;

/* The tunables the data-path threads see: the sysctl tree's, under the core's names. */
function wg_tunables_of(t: Readonly<net_wg_tunables>): Partial<WgTunables> {
	return {
		rekey_after_time: t.rekey_after_time,
		rekey_timeout: t.rekey_timeout,
		rekey_attempt_time: t.rekey_attempt_time,
		keepalive_timeout: t.keepalive_timeout,
		rekey_after_messages: t.rekey_after_messages,
		force_underload: t.force_underload,
		debug: t.debug,
	};
}

/*
 * The tun, with segmentation offloads unless net.wg.tun_offload is 0 or
 * the kernel refuses them (said once per instance; the plain tun then).
 */
let wg_tun_offload_refused = false;
function wg_tun_attach(ifname: string): { fd: number; vnet_hdr: boolean } {
	if (wg_tunables.tun_offload && !wg_tun_offload_refused) {
		const tun = tun_attach(ifname, { nonblock: true, mtu: WG_DEFAULT_MTU, vnet_hdr: true });
		const f = tun_offload_enable(tun.fd);
		if (f >= 0)
			return { fd: tun.fd, vnet_hdr: true };
		tun_detach(tun.fd);
		wg_tun_offload_refused = true;
		log(LOG_INFO, '%s: tun offloads refused (%s): plain packets from now on', ifname, errno_name(f));
	}
	return { fd: tun_attach(ifname, { nonblock: true, mtu: WG_DEFAULT_MTU }).fd, vnet_hdr: false };
}

const wg_softcs = new Set<wg_softc>();
let wg_sysctl_unsubscribe: (() => void) | null = null;

export class wg_softc implements ifnet {
	readonly if_xname: string;
	if_flags = IFF_MULTICAST;	/* as NetBSD: flags=0x8041<UP,RUNNING,MULTICAST> once up */
	if_mtu = WG_DEFAULT_MTU;
	if_link_up = false;

	private readonly wg_tunfd: number;
	private wg_so: udp_pair;
	/* The port as configured; 0 until set (then "listen-port: (none)"). */
	private wg_listen_port = 0;
	private wg_fwmark = 0;
	private readonly wg_efd: number;
	private readonly wg_worker: Worker;
	private readonly wg_port: MessagePort;
	private wg_next_id = 1;
	private readonly wg_pending = new Map<number, (r: wg_intr_reply) => void>();
	private wg_dying = false;
	private wg_exited: Promise<void>;
	wg_uapi: wg_uapi | null = null;
	/* Endpoints given by host name (wgconfig --endpoint=HOST:PORT). */
	private readonly wg_dns: wg_dns;

	constructor(ifname: string) {
		this.if_xname = ifname;
		this.wg_dns = new wg_dns(ifname, {
			peer_state: async (name) => {
				const p = (await this.wg_call({ op: 'get', cursor: 0, max: 1, name })).state?.peers[0];
				p?.preshared_key?.fill(0);
				return p ?? null;
			},
			set_endpoint: async (name, endpoint) => (await this.wg_call({ op: 'peer_set', name, endpoint })).errno,
		});
		const tun = wg_tun_attach(ifname);
		this.wg_tunfd = tun.fd;
		try {
			this.wg_so = udp_open_pair(0, { nonblock: true, rcvbuf: wg_tunables.udp_rcvbuf });
		} catch (e) {
			tun_detach(tun.fd);
			throw e;
		}
		this.wg_efd = eventfd_open();
		const ch = new MessageChannel();
		this.wg_port = ch.port1;
		const init: wg_intr_init = {
			ifname,
			tunfd: tun.fd,
			fd4: this.wg_so.fd4,
			fd6: this.wg_so.fd6,
			efd: this.wg_efd,
			port: ch.port2,
			tunables: wg_tunables_of(wg_tunables),
			mtu: this.if_mtu,
			vnet_hdr: tun.vnet_hdr,
			udp_gso: wg_tunables.udp_gso,
			udp_gro: wg_tunables.udp_gro,
			crypto_workers: wg_tunables.crypto_workers,
			warmup: wg_tunables.warmup,
			loopback: false,
		};
		this.wg_worker = new Worker(new URL('./if_wg_intr.js', import.meta.url), {
			workerData: { wg_intr: init },
			transferList: [ch.port2],
			name: `wg_intr ${ifname}`,
		});
		this.wg_port.on('message', (m: wg_intr_reply | wg_intr_event) => this.wg_recv(m));
		this.wg_exited = new Promise((resolve) => {
			this.wg_worker.on('exit', (code) => {
				if (!this.wg_dying)
					log(LOG_ERR, '%s: data path thread exited (%d)', ifname, code);
				for (const [, cb] of this.wg_pending)
					cb({ id: 0, errno: EIO });
				this.wg_pending.clear();
				resolve();
			});
			this.wg_worker.on('error', (e) => {
				log(LOG_ERR, '%s: data path thread failed: %s', ifname, e.message);
			});
		});
	}

	/* --- the data-path thread --- */

	private wg_recv(m: wg_intr_reply | wg_intr_event): void {
		if ('id' in m) {
			const cb = this.wg_pending.get(m.id);
			if (cb !== undefined) {
				this.wg_pending.delete(m.id);
				cb(m);
			}
			return;
		}
		switch (m.op) {
		case 'log': {
			const level = m.level === 'err' ? LOG_ERR : m.level === 'info' ? LOG_INFO : LOG_DEBUG;
			if (level === LOG_DEBUG && (wg_tunables.debug & 1) === 0)
				return;
			log_ratecheck(`${this.if_xname}:${m.key}`, level, '%s', m.msg);
			return;
		}
		case 'link':
			if (!this.wg_dying)
				if_link_changed(this.if_xname);
			return;
		case 'tun_gone':
			if (this.wg_dying)
				return;
			log(LOG_INFO, '%s: interface removed from the host, destroying', this.if_xname);
			void if_clone_destroy(this.if_xname);
			return;
		}
	}

	/*
	 * transfer: the key buffers in req (their own ArrayBuffers, off the V8
	 * heap: crypto_key_copy), moved to the thread without a copy and
	 * detached here; the thread wipes them once used.
	 */
	wg_call(req: wg_intr_req, transfer: ArrayBuffer[] = []): Promise<wg_intr_reply> {
		if (this.wg_dying && req.op !== 'stop') {
			for (const b of transfer)
				new Uint8Array(b).fill(0);
			return Promise.resolve({ id: 0, errno: EIO });
		}
		const id = this.wg_next_id++;
		return new Promise((resolve) => {
			this.wg_pending.set(id, resolve);
			this.wg_port.postMessage({ id, req }, transfer);
			eventfd_signal(this.wg_efd);
		});
	}

	private wg_note_peers(r: wg_intr_reply): void {
		/* NetBSD: the first peer brings the link up, removing the last takes it down. */
		if (r.npeers !== undefined)
			this.if_link_up = r.npeers > 0;
	}

	wg_set_tunables(t: Readonly<net_wg_tunables>): void {
		void this.wg_call({ op: 'tunables', tunables: wg_tunables_of(t), udp_gso: t.udp_gso, udp_gro: t.udp_gro,
		    crypto_workers: t.crypto_workers });
	}

	/* --- ifnet hooks --- */

	async if_init(): Promise<number> {
		return (await this.wg_call({ op: 'up' })).errno;
	}

	async if_stop(): Promise<void> {
		await this.wg_call({ op: 'down' });
	}

	/* For the link watch: the tun's interface, followed by its fd into whatever netns it was moved to. */
	if_link_state(): { up: boolean; mtu: number } {
		return tun_link_state(this.wg_tunfd);
	}

	async if_ioctl(req: ShimIoctlRequest, cred: kauth_cred): Promise<ShimReply | null> {
		switch (req.req) {
		case SIOCSDRVSPEC:
			if (!kauth_cred_isroot(cred))
				return { errno: EPERM };
			return this.wg_ioctl_set(req.cmd ?? -1, req.data ?? '', req.attach ?? []);
		case SIOCGDRVSPEC:
			return this.wg_ioctl_get(kauth_cred_isroot(cred), req.data ?? '', req.attach ?? []);
		case SIOCSIFMTU:
			/*
			 * The generic code applies it to the tun (the request is
			 * range-checked already); padding follows the MTU.
			 */
			if (req.mtu !== undefined)
				void this.wg_call({ op: 'mtu', mtu: req.mtu });
			return null;
		default:
			return null;
		}
	}

	/*
	 * The dictionary comes in the attached form (sys/sys/shim.ts): its
	 * data, keys among them, are views into the request's frame, which
	 * the kernel wipes once this returns; what goes on to the thread is
	 * copied out of it first.
	 */
	private async wg_ioctl_set(cmd: number, text: string, attach: readonly Uint8Array[]): Promise<ShimReply> {
		if (wg_proplen(text, attach) >= WG_MAX_PROPLEN)
			return { errno: E2BIG };
		const d = prop_dictionary_internalize(text, attach);
		if (d === null)
			return { errno: EINVAL, msg: 'malformed property list' };
		/* Wiped on every way out, refusals included (the plain-text form's data are copies). */
		try {
			switch (cmd) {
			case WG_IOCTL_SET_PRIVATE_KEY:
				return await this.wg_ioctl_set_private_key(d);
			case WG_IOCTL_SET_LISTEN_PORT:
				return await this.wg_ioctl_set_listen_port(d);
			case WG_IOCTL_ADD_PEER:
				return await this.wg_ioctl_add_peer(d);
			case WG_IOCTL_DELETE_PEER:
				return await this.wg_ioctl_delete_peer(d);
			case WG_IOCTL_SET_PEER:
				return await this.wg_ioctl_set_peer(d);
			default:
				return { errno: EINVAL, msg: `unknown command ${cmd}` };
			}
		} finally {
			prop_data_wipe(d);
		}
	}

	private async wg_ioctl_set_private_key(d: PropDictionary): Promise<ShimReply> {
		const key = prop_dictionary_get_data(d, WGK_PRIVATE_KEY);
		if (key === null || key.length !== WG_KEY_LEN)
			return { errno: EINVAL, msg: 'private_key: 32 bytes of data expected' };
		const k = crypto_key_copy(key);
		const r = await this.wg_call({ op: 'set_private_key', key: k }, [k.buffer as ArrayBuffer]);
		this.wg_note_peers(r);
		return { errno: r.errno };
	}

	private async wg_ioctl_set_listen_port(d: PropDictionary): Promise<ShimReply> {
		const port = prop_dictionary_get_number(d, WGK_LISTEN_PORT);
		if (port === null || !Number.isInteger(port) || port < 0 || port > 65535)
			return { errno: EINVAL, msg: 'listen_port: a number in 0..65535 expected' };
		return { errno: await this.wg_bind_port(port) };
	}

	/*
	 * Rebinds both sockets to port (0: keep or pick any).  The old pair is
	 * closed only after the data-path thread has switched to the new one.
	 */
	async wg_bind_port(port: number): Promise<number> {
		const so = this.wg_port_prepare(port);
		return typeof so === 'number' ? so : this.wg_port_commit(so, port);
	}

	/*
	 * The first half of wg_bind_port, which changes nothing: the new pair
	 * (null when port needs none), or the errno binding it failed with.
	 * A configuration request prepares its port before it changes
	 * anything else, so a port in use fails it whole.
	 */
	wg_port_prepare(port: number, mark = this.wg_fwmark): udp_pair | null | number {
		if ((port !== 0 && port === this.wg_so.port) || (port === 0 && this.wg_listen_port === 0))
			return null;
		try {
			return udp_open_pair(port, { nonblock: true, mark, rcvbuf: wg_tunables.udp_rcvbuf });
		} catch (e) {
			return e instanceof ErrnoError ? e.errno : EADDRINUSE;
		}
	}

	/* Switch to a prepared pair (or just record port, for null); 0 or an errno. */
	async wg_port_commit(so: udp_pair | null, port: number): Promise<number> {
		if (so !== null) {
			const r = await this.wg_call({ op: 'sockets', fd4: so.fd4, fd6: so.fd6 });
			if (r.errno !== 0) {
				wg_close_pair(so);
				return r.errno;
			}
		}
		this.wg_port_switched(so, port, this.wg_fwmark);
		return 0;
	}

	/*
	 * The thread has taken the prepared pair so (bound with mark), or
	 * for null, there was none to take: so is ours, the old pair goes.
	 */
	wg_port_switched(so: udp_pair | null, port: number, mark: number): void {
		if (so === null) {
			if (port !== 0)
				this.wg_listen_port = port;
			return;
		}
		const old = this.wg_so;
		this.wg_so = so;
		this.wg_listen_port = port;
		this.wg_fwmark = mark;
		wg_close_pair(old);
	}

	/* Drop a prepared pair that will not be used. */
	wg_port_abort(so: udp_pair | null): void {
		if (so !== null)
			wg_close_pair(so);
	}

	/* The port the sockets are bound to (UAPI reports it even when chosen by the kernel). */
	wg_bound_port(): number {
		return this.wg_so.port;
	}

	wg_get_fwmark(): number {
		return this.wg_fwmark;
	}

	/* SO_MARK on both sockets, or on neither: 0 or an errno. */
	wg_set_fwmark(mark: number): number {
		const done: number[] = [];
		try {
			for (const fd of [this.wg_so.fd4, this.wg_so.fd6])
				if (fd >= 0) {
					udp_set_mark(fd, mark);
					done.push(fd);
				}
		} catch (e) {
			for (const fd of done)
				udp_set_mark(fd, this.wg_fwmark);
			return e instanceof ErrnoError ? e.errno : EINVAL;
		}
		this.wg_fwmark = mark;
		return 0;
	}

	private async wg_ioctl_add_peer(d: PropDictionary): Promise<ShimReply> {
		const cfg = wg_peer_config_of(d);
		if (typeof cfg === 'string')
			return { errno: EINVAL, msg: cfg };
		const host = wg_endpoint_host_of(d, cfg);
		if (typeof host === 'object')
			return host;
		/* Copied off the heap only now that nothing can refuse it: the thread wipes the copy. */
		const psk = cfg.preshared_key == null ? null : crypto_key_copy(cfg.preshared_key);
		cfg.preshared_key = psk;
		const r = await this.wg_call({ op: 'peer_add', cfg }, psk === null ? [] : [psk.buffer as ArrayBuffer]);
		this.wg_note_peers(r);
		if (r.errno === 0 && host !== '')
			this.wg_dns.set(cfg.name ?? '', host, cfg.public_key);
		return { errno: r.errno };
	}

	private async wg_ioctl_delete_peer(d: PropDictionary): Promise<ShimReply> {
		const name = prop_dictionary_get_string(d, WGK_NAME);
		if (name === null)
			return { errno: EINVAL, msg: 'name: a string expected' };
		const r = await this.wg_call({ op: 'peer_delete', name });
		this.wg_note_peers(r);
		if (r.errno === 0)
			this.wg_dns.delete(name);
		return { errno: r.errno };
	}

	private async wg_ioctl_set_peer(d: PropDictionary): Promise<ShimReply> {
		const name = prop_dictionary_get_string(d, WGK_NAME);
		if (name === null)
			return { errno: EINVAL, msg: 'name: a string expected' };
		const ka = prop_dictionary_get(d, WGK_PERSISTENT_KEEPALIVE) !== undefined ?
		    prop_dictionary_get_number(d, WGK_PERSISTENT_KEEPALIVE) : undefined;
		if (ka === null || (ka !== undefined && (!Number.isInteger(ka) || ka < 0 || ka > 65535)))
			return { errno: EINVAL, msg: 'persistent_keepalive_interval: 0..65535 expected' };
		const r = await this.wg_call({ op: 'peer_set', name, persistent_keepalive: ka });
		return { errno: r.errno };
	}

	/*
	 * SIOCGDRVSPEC.  With no dictionary, as NetBSD: the interface and all
	 * its peers in one reply (gathered from the thread page by page).
	 * Extension, for listings of any length: a dictionary with "cursor"
	 * (0 first) gets one page of peers, newest first as above, and the
	 * cursor of the next page in the reply ("cursor", absent after the
	 * last page; also in the shim reply's head, ShimReply.cursor); only
	 * the first page carries the interface's own keys and port.
	 * "max_peers" makes pages smaller (0: the interface alone); "name"
	 * asks for that one peer; "brief" (a boolean) leaves out of each
	 * peer what a listing does not print (if_wg_get.ts).
	 */
	private async wg_ioctl_get(privileged: boolean, text: string, attach: readonly Uint8Array[]): Promise<ShimReply> {
		let cursor = -1;
		let max = WG_GET_PAGE;
		let name: string | undefined;
		let brief = false;
		if (text !== '') {
			const q = prop_dictionary_internalize(text, attach);
			if (q === null)
				return { errno: EINVAL, msg: 'malformed property list' };
			const c = prop_dictionary_get(q, WGK_CURSOR) !== undefined ? prop_dictionary_get_number(q, WGK_CURSOR) : 0;
			const m = prop_dictionary_get(q, WGK_MAX_PEERS) !== undefined ?
			    prop_dictionary_get_number(q, WGK_MAX_PEERS) : WG_GET_PAGE;
			if (c === null || !Number.isSafeInteger(c) || c < 0)
				return { errno: EINVAL, msg: 'cursor: a number expected' };
			if (m === null || !Number.isInteger(m) || m < 0)
				return { errno: EINVAL, msg: 'max_peers: a number expected' };
			if (prop_dictionary_get(q, WGK_NAME) !== undefined) {
				const n = prop_dictionary_get_string(q, WGK_NAME);
				if (n === null)
					return { errno: EINVAL, msg: 'name: a string expected' };
				name = n;
			}
			if (prop_dictionary_get(q, WGK_BRIEF) !== undefined) {
				const b = prop_dictionary_get_bool(q, WGK_BRIEF);
				if (b === null)
					return { errno: EINVAL, msg: 'brief: a boolean expected' };
				brief = b;
			}
			cursor = c;
			max = Math.min(m, WG_GET_PAGE);
		}
		const hosts = this.wg_dns.hosts();
		const r = await this.wg_call({ op: 'get', cursor: Math.max(cursor, 0), max, name,
		    xml: { privileged, hosts, ref_base: 0, brief } });
		const st = r.state;
		/* The pages' text and the preshared keys they refer to, in order. */
		const pages: Uint8Array[] = [];
		const out: Uint8Array[] = [];
		const add = (x: wg_intr_reply): void => {
			if (x.xml !== undefined)
				pages.push(x.xml);
			if (x.attach !== undefined)
				out.push(...x.attach);
		};
		add(r);
		let sent = false;
		let w: prop_writer | null = null;
		try {
			if (r.errno !== 0 || st === undefined || r.xml === undefined)
				return { errno: r.errno !== 0 ? r.errno : EIO };
			let next = r.next ?? 0;
			if (cursor < 0) {
				/* The whole list, as NetBSD. */
				while (next !== 0) {
					const more = await this.wg_call({ op: 'get', cursor: next, max: WG_GET_PAGE,
					    xml: { privileged, hosts, ref_base: out.length, brief } });
					more.state?.private_key?.fill(0);
					add(more);
					if (more.errno !== 0 || more.xml === undefined)
						return { errno: more.errno !== 0 ? more.errno : EIO };
					next = more.next ?? 0;
				}
			}
			/*
			 * Keys in sorted order, as NetBSD's externalization writes them.
			 * The attached form: the preshared keys (in the pages) and the
			 * private key leave as attachments, never as text; what is
			 * public stays inline.
			 */
			w = new prop_writer({ size: pages.reduce((n, x) => n + x.length, 0) + 4096, attach: true,
			    ref_base: out.length });
			w.dict_begin();
			if (cursor >= 0 && next !== 0) {
				w.key(WGK_CURSOR);
				w.uint(next);
			}
			if (cursor <= 0 && this.wg_listen_port !== 0) {
				w.key(WGK_LISTEN_PORT);
				w.uint(this.wg_listen_port);
			}
			if (pages.some((x) => x.length > 0)) {
				w.key(WGK_PEERS);
				w.array_begin();
				for (const x of pages)
					w.fragment(x);
				w.array_end();
			}
			if (cursor <= 0) {
				if (st.private_key !== null && privileged) {
					w.key(WGK_PRIVATE_KEY);
					w.data(st.private_key);
				}
				if (st.public_key !== null) {
					w.key(WGK_PUBLIC_KEY);
					w.data_inline(st.public_key);
				}
			}
			w.dict_end();
			/*
			 * Every key is in out, which the shim wipes once framed.  A
			 * page goes as bytes, which the shim wipes too; the whole list
			 * (NetBSD's form) as text, which holds no secret.
			 */
			out.push(...(w.attach ?? []));
			sent = true;
			if (cursor >= 0)
				return { errno: 0, data_bytes: w.finish_bytes(), attach: out, cursor: next !== 0 ? next : undefined };
			return { errno: 0, data: w.finish(), attach: out };
		} finally {
			w?.wipe();
			for (const x of pages)
				x.fill(0);
			if (!sent) {
				st?.private_key?.fill(0);
				for (const a of out)
					a.fill(0);
			}
		}
	}

	/* --- life cycle --- */

	async wg_destroy(): Promise<void> {
		if (this.wg_dying)
			return;
		this.wg_dying = true;
		this.wg_dns.stop();
		if (this.wg_uapi !== null) {
			wg_uapi_detach(this.wg_uapi);
			this.wg_uapi = null;
		}
		const stopped = new Promise<void>((resolve) => {
			const id = this.wg_next_id++;
			this.wg_pending.set(id, () => resolve());
			this.wg_port.postMessage({ id, req: { op: 'stop' } });
			eventfd_signal(this.wg_efd);
		});
		const timeout = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
		await Promise.race([stopped, timeout]);
		await Promise.race([this.wg_exited, timeout]);
		await this.wg_worker.terminate();
		this.wg_port.close();
		wg_close_pair(this.wg_so);
		tun_detach(this.wg_tunfd);
		sys_close(this.wg_efd);
	}
}

function wg_close_pair(so: udp_pair): void {
	if (so.fd4 >= 0)
		udp_close(so.fd4);
	if (so.fd6 >= 0)
		udp_close(so.fd6);
}

/* --- dictionaries --- */

function wg_is_zero(b: Uint8Array): boolean {
	let acc = 0;
	for (let i = 0; i < b.length; i++)
		acc |= b[i];
	return acc === 0;
}

/* NetBSD's limit on a dictionary is on its text; here text and attachments together. */
function wg_proplen(text: string, attach: readonly Uint8Array[]): number {
	let n = Buffer.byteLength(text);
	for (const a of attach)
		n += a.length;
	return n;
}

/*
 * An ADD_PEER dictionary to a peer configuration, or what is wrong with
 * it.  Every array in it is a copy of its own, never a view into the
 * request (posting a view would clone the whole frame it is in), except
 * the preshared key, which the caller copies off the V8 heap to
 * transfer it.
 */
function wg_peer_config_of(d: PropDictionary): WgPeerConfig | string {
	const cfg: WgPeerConfig = { public_key: new Uint8Array(0) };
	const pub = prop_dictionary_get_data(d, WGK_PUBLIC_KEY);
	if (pub === null || pub.length !== WG_KEY_LEN)
		return 'public_key: 32 bytes of data expected';
	cfg.public_key = pub.slice();
	if (prop_dictionary_get(d, WGK_NAME) !== undefined) {
		const name = prop_dictionary_get_string(d, WGK_NAME);
		if (name === null || Buffer.byteLength(name) > WG_PEER_NAME_MAXLEN)
			return `name: a string of at most ${WG_PEER_NAME_MAXLEN} bytes expected`;
		cfg.name = name;
	}
	if (prop_dictionary_get(d, WGK_PRESHARED_KEY) !== undefined) {
		const psk = prop_dictionary_get_data(d, WGK_PRESHARED_KEY);
		if (psk === null || psk.length !== WG_KEY_LEN)
			return 'preshared_key: 32 bytes of data expected';
		cfg.preshared_key = wg_is_zero(psk) ? null : psk;
	}
	if (prop_dictionary_get(d, WGK_ENDPOINT) !== undefined) {
		const raw = prop_dictionary_get_data(d, WGK_ENDPOINT);
		const sa = raw === null ? null : sockaddr_decode(raw);
		if (sa === null)
			return 'endpoint: a sockaddr_in or sockaddr_in6 expected';
		/* sockaddr_decode copies the address */
		cfg.endpoint = { family: sa.family, addr: sa.addr, port: sa.port, scope_id: sa.scope_id ?? 0 };
	}
	if (prop_dictionary_get(d, WGK_PERSISTENT_KEEPALIVE) !== undefined) {
		const ka = prop_dictionary_get_number(d, WGK_PERSISTENT_KEEPALIVE);
		if (ka === null || !Number.isInteger(ka) || ka < 0 || ka > 65535)
			return 'persistent_keepalive_interval: 0..65535 expected';
		cfg.persistent_keepalive = ka;
	}
	if (prop_dictionary_get(d, WGK_ALLOWEDIPS) !== undefined) {
		const arr = prop_dictionary_get_array(d, WGK_ALLOWEDIPS);
		if (arr === null)
			return 'allowedips: an array expected';
		const aips: WgAllowedIp[] = [];
		for (const o of arr.value) {
			if (o.type !== 'dictionary')
				return 'allowedips: dictionaries expected';
			const fam = prop_dictionary_get_number(o, WGK_FAMILY);
			const ip = prop_dictionary_get_data(o, WGK_IP);
			const cidr = prop_dictionary_get_number(o, WGK_CIDR);
			if (fam === null || ip === null || cidr === null)
				return 'allowedips: family, ip and cidr expected';
			if (fam === AF_INET && ip.length === 4 && cidr >= 0 && cidr <= 32)
				aips.push({ family: 4, addr: ip.slice(), cidr });
			else if (fam === AF_INET6 && ip.length === 16 && cidr >= 0 && cidr <= 128)
				aips.push({ family: 6, addr: ip.slice(), cidr });
			else
				return `allowedips: bad entry (family ${fam}, ${ip.length} bytes, cidr ${cidr})`;
		}
		cfg.allowed_ips = aips;
	}
	return cfg;
}

/*
 * ADD_PEER's "endpoint_host": the name the endpoint was resolved from,
 * '' when none; only with an endpoint (its port) and a peer name.
 */
function wg_endpoint_host_of(d: PropDictionary, cfg: WgPeerConfig): string | ShimReply {
	if (prop_dictionary_get(d, WGK_ENDPOINT_HOST) === undefined)
		return '';
	const host = prop_dictionary_get_string(d, WGK_ENDPOINT_HOST);
	if (host === null || !wg_host_valid(host))
		return { errno: EINVAL, msg: 'endpoint_host: a host name expected' };
	if (cfg.endpoint == null || (cfg.name ?? '') === '')
		return { errno: EINVAL, msg: 'endpoint_host: needs an endpoint and a peer name' };
	return host;
}

/* --- the cloner --- */

const wg_cloner: if_clone = {
	ifc_name: 'wg',
	async ifc_create(_unit: number, ifname: string): Promise<ifnet> {
		const sc = new wg_softc(ifname);
		wg_softcs.add(sc);
		if (wg_sysctl_unsubscribe === null)
			wg_sysctl_unsubscribe = sysctl_subscribe(() => {
				for (const s of wg_softcs)
					s.wg_set_tunables(wg_tunables);
			});
		try {
			sc.wg_uapi = await wg_uapi_attach(sc);
		} catch (e) {
			log(LOG_ERR, '%s: UAPI socket: %s', ifname, (e as Error).message);
		}
		return sc;
	},
	async ifc_destroy(ifp: ifnet): Promise<void> {
		const sc = ifp as wg_softc;
		wg_softcs.delete(sc);
		await sc.wg_destroy();
	},
};

export function wginit(): void {
	if_clone_attach(wg_cloner);
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * Network interfaces and interface cloners, NetBSD's sys/net/if.c in
 * small: struct ifnet, if_clone_attach/create/destroy, ifunit and the
 * generic half of ifioctl.
 *
 * An ifnet here is the instance's view of a real Linux interface of the
 * same name (for wg, the tun device the driver attached).  What the
 * generic code changes - up/down, MTU, addresses - it applies to that
 * Linux interface through sys/arch/linux/ifreq, so the host stack routes
 * through it; everything else is the driver's, through if_ioctl.
 *
 * ifioctl's order, as NetBSD's: interface cloning requests first (they
 * name no existing interface), then ifunit (ENXIO), the privilege check
 * for requests that change state (EPERM unless root, kauth's
 * secmodel_suser), the argument checks of the generic requests (EINVAL),
 * then the driver's if_ioctl; when that leaves the request to the generic
 * code (returns null), the generic code handles it or says ENOTTY.
 *
 * Requests that change state are serialized (one at a time, like NetBSD's
 * IFNET_LOCK and if_clone_mtx), so two creates of one name cannot both
 * succeed and no ioctl reaches an interface that is being destroyed.
 *
 * Flags: IFF_UP is the administrator's; IFF_RUNNING is set here when
 * if_init() succeeded and cleared after if_stop(), so a driver need not
 * touch either (it may set the others it owns, e.g. IFF_POINTOPOINT).
 */

import { inet_ntop, inet_pton4, inet_pton6 } from '../../lib/libc/inet.js';
import { type ShimIfaddr, type ShimIfState, type ShimIoctlRequest, type ShimReply } from '../sys/shim.js';
import { AF_INET, AF_INET6 } from '../sys/socket.js';
import {
	IFF_ALLMULTI, IFF_BROADCAST, IFF_LOOPBACK, IFF_MULTICAST, IFF_OACTIVE, IFF_POINTOPOINT, IFF_PROMISC,
	IFF_RUNNING, IFF_SIMPLEX, IFF_UP, IFNAMSIZ, if_linux_name_ok,
	SIOCAIFADDR, SIOCAIFADDR_IN6, SIOCDIFADDR, SIOCGDRVSPEC, SIOCGIFFLAGS, SIOCGIFMTU,
	SIOCGIFSTATE_SHIM, SIOCIFCREATE, SIOCIFDESTROY, SIOCIFGCLONERS, SIOCSDRVSPEC, SIOCSIFFLAGS,
	SIOCSIFMTU,
} from '../sys/sockio.js';
import {
	EADDRNOTAVAIL, EAFNOSUPPORT, EEXIST, EINVAL, ENXIO, ENOTTY, EPERM, errno_of,
} from '../sys/errno.js';
import {
	type ifaddr as linux_ifaddr, if_addrs, if_get_flags, if_get_mtu, if_nametoindex, if_set_mtu, if_set_up,
	in6_addifaddr, in6_delifaddr, in_addifaddr, in_delifaddr, LINUX_IFF_UP,
} from '../arch/linux/ifreq.js';
import { type kauth_cred, kauth_cred_isroot, kauth_cred_kernel } from '../kern/kern_auth.js';
import { LOG_ERR, LOG_INFO, log } from '../kern/subr_log.js';

export type { kauth_cred } from '../kern/kern_auth.js';

export interface ifnet {
	readonly if_xname: string;	/* "wg0"; also the Linux interface's name */
	if_flags: number;		/* IFF_* (NetBSD values, sys/sys/sockio.ts) */
	if_mtu: number;
	if_link_up: boolean;		/* "status: active" (wg: at least one peer) */
	/*
	 * Driver hooks.  if_ioctl returns null for requests it leaves to
	 * ifioctl's generic code.
	 */
	if_ioctl(req: ShimIoctlRequest, cred: kauth_cred): Promise<ShimReply | null>;
	if_init(): Promise<number>;	/* IFF_UP set: start; returns an errno */
	if_stop(): Promise<void>;	/* IFF_UP cleared (or destroy of a running interface) */
	/*
	 * The Linux interface's state wherever it is now (moved to another
	 * netns too), for the link watch; without it, asked by name here.
	 * Throws when it cannot tell.
	 */
	if_link_state?(): { up: boolean; mtu: number };
}

export interface if_clone {
	ifc_name: string;		/* "wg" */
	/* Creates ifname (= ifc_name + unit); throws an object with an errno on failure. */
	ifc_create(unit: number, ifname: string): Promise<ifnet>;
	ifc_destroy(ifp: ifnet): Promise<void>;
}

/* NetBSD <net/if.h> flags the administrator cannot change with SIOCSIFFLAGS. */
const IFF_CANTCHANGE = IFF_BROADCAST | IFF_POINTOPOINT | IFF_RUNNING | IFF_OACTIVE |
    IFF_SIMPLEX | IFF_MULTICAST | IFF_ALLMULTI | IFF_PROMISC | IFF_LOOPBACK;

/* MTU bounds: IPv4's minimum datagram (RFC 791) up to what ifreq's int and IPv4 can carry. */
export const IF_MTU_MIN = 68;
export const IF_MTU_MAX = 65535;

interface if_entry {
	ifp: ifnet;
	ifc: if_clone;
}

const if_cloners = new Map<string, if_clone>();
const ifnets = new Map<string, if_entry>();	/* by name, in creation order */

/* --- serialization --- */

let if_lock_tail: Promise<void> = Promise.resolve();

async function if_locked<T>(fn: () => Promise<T>): Promise<T> {
	const prev = if_lock_tail;
	let release: () => void = () => {};
	if_lock_tail = new Promise<void>((resolve) => { release = resolve; });
	await prev;
	try {
		return await fn();
	} finally {
		release();
	}
}

/* --- errors --- */

function errmsg(e: unknown): string {
	return e instanceof Error ? e.message : String(e);
}

/* --- cloners --- */

export function if_clone_attach(ifc: if_clone): void {
	if (!/^[A-Za-z_]+$/.test(ifc.ifc_name) || ifc.ifc_name.length >= IFNAMSIZ)
		throw new Error(`if_clone_attach: bad cloner name ${JSON.stringify(ifc.ifc_name)}`);
	if (if_cloners.has(ifc.ifc_name))
		throw new Error(`if_clone_attach: ${ifc.ifc_name}: already attached`);
	if_cloners.set(ifc.ifc_name, ifc);
}

export function if_clone_list(): string[] {
	return [...if_cloners.keys()];
}

/*
 * if_clone_lookup: the cloner is the name up to its first digit, the unit
 * the decimal number after it (no sign, no leading zero: "wg01" would be
 * created as "wg1" on NetBSD; here it is refused).  null if that names no
 * cloner, or the name is not of that form.
 */
function if_clone_lookup(name: string): { ifc: if_clone; unit: number } | null {
	const m = /^([^0-9]+)(0|[1-9][0-9]*)$/.exec(name);
	if (m === null)
		return null;
	const ifc = if_cloners.get(m[1]);
	const unit = Number(m[2]);
	if (ifc === undefined || unit > 0x7fffffff)
		return null;
	return { ifc, unit };
}

function if_name_ok(name: string): boolean {
	return name.length > 0 && name.length < IFNAMSIZ;
}

/*
 * Extension, for wireguard-go's contract (wg-userspace IFNAME): with a
 * cloner named, the interface takes any name Linux accepts, as unit -1.
 * Without one, NetBSD's rule: cloner name, then unit number.
 */
async function if_clone_create_locked(name: string, cloner?: string): Promise<number> {
	if (!if_name_ok(name))
		return EINVAL;
	let l: { ifc: if_clone; unit: number } | null;
	if (cloner !== undefined) {
		const ifc = if_cloners.get(cloner);
		l = ifc !== undefined && if_linux_name_ok(name) ? { ifc, unit: -1 } : null;
	} else {
		l = if_clone_lookup(name);
	}
	if (l === null)
		return EINVAL;
	if (ifnets.has(name))
		return EEXIST;
	let ifp: ifnet;
	try {
		ifp = await l.ifc.ifc_create(l.unit, name);
	} catch (e) {
		log(LOG_ERR, '%s: create failed: %s', name, errmsg(e));
		return errno_of(e);
	}
	ifnets.set(name, { ifp, ifc: l.ifc });
	log(LOG_INFO, '%s: created', name);
	if_linkwatch_start();
	return 0;
}

/*
 * The host can change an interface behind the instance's back: wg-quick
 * and ip(8) say `ip link set wg0 up` or `mtu 1380`, which no ioctl of
 * ours sees, even after `ip link set wg0 netns X` (the driver's
 * if_link_state follows it there).  Once a second, bring the ifnet in
 * line with the Linux interface, through the same if_init/if_stop and
 * MTU paths an ioctl takes (wireguard-go watches the same way).
 */
const IF_LINKWATCH_MS = 1000;
let if_linkwatch: NodeJS.Timeout | null = null;

function if_linkwatch_start(): void {
	if (if_linkwatch !== null)
		return;
	if_linkwatch = setInterval(() => void if_linkwatch_scan(), IF_LINKWATCH_MS);
	if_linkwatch.unref();
}

async function if_linkwatch_scan(): Promise<void> {
	if (ifnets.size === 0) {
		if (if_linkwatch !== null)
			clearInterval(if_linkwatch);
		if_linkwatch = null;
		return;
	}
	for (const name of [...ifnets.keys()])
		await if_linkwatch_one(name);
}

/*
 * A driver that hears the host's link changes as they happen calls this
 * (sys/net/if_wg.ts): the interface is brought in line at once, not at
 * the next scan.  Calls while a look is under way fold into one more
 * look after it, so a burst of changes costs two.
 */
const if_linkwatch_pending = new Map<string, boolean>();	/* name -> look again when done */

export function if_link_changed(name: string): void {
	if (if_linkwatch_pending.has(name)) {
		if_linkwatch_pending.set(name, true);
		return;
	}
	if_linkwatch_pending.set(name, false);
	void (async () => {
		try {
			do {
				if_linkwatch_pending.set(name, false);
				await if_linkwatch_one(name);
			} while (if_linkwatch_pending.get(name) === true);
		} catch (e) {
			log(LOG_ERR, '%s: link watch: %s', name, errmsg(e));
		} finally {
			if_linkwatch_pending.delete(name);
		}
	})();
}

async function if_linkwatch_one(name: string): Promise<void> {
	await if_locked(async () => {
		const ent = ifnets.get(name);
		if (ent === undefined)
			return;
		const ifp = ent.ifp;
		let up: boolean, mtu: number;
		try {
			if (ifp.if_link_state !== undefined) {
				({ up, mtu } = ifp.if_link_state());
			} else {
				up = (if_get_flags(name) & LINUX_IFF_UP) !== 0;
				mtu = if_get_mtu(name);
			}
		} catch {
			return;		/* going away: the driver notices on its own */
		}
		const running = (ifp.if_flags & IFF_RUNNING) !== 0;
		if (up && !running) {
			if (await ifp.if_init() === 0) {
				ifp.if_flags |= IFF_UP | IFF_RUNNING;
				log(LOG_INFO, '%s: up (from the host)', name);
			}
		} else if (!up && running) {
			await ifp.if_stop();
			ifp.if_flags &= ~(IFF_UP | IFF_RUNNING);
			log(LOG_INFO, '%s: down (from the host)', name);
		}
		if (mtu !== ifp.if_mtu && mtu >= IF_MTU_MIN && mtu <= IF_MTU_MAX) {
			await ifp.if_ioctl({ op: 'ioctl', req: SIOCSIFMTU, name, mtu }, kauth_cred_kernel);
			ifp.if_mtu = mtu;
		}
	});
}

/*
 * Stops a running interface, then hands it to its cloner.  It leaves the
 * table first, so nothing reaches it while it goes.  A failing destroy is
 * logged: the interface is gone from the instance either way.
 */
async function if_destroy_entry(name: string, ent: if_entry): Promise<void> {
	ifnets.delete(name);
	const ifp = ent.ifp;
	try {
		if ((ifp.if_flags & IFF_RUNNING) !== 0)
			await ifp.if_stop();
	} catch (e) {
		log(LOG_ERR, '%s: stop failed: %s', name, errmsg(e));
	}
	ifp.if_flags &= ~(IFF_UP | IFF_RUNNING);
	try {
		await ent.ifc.ifc_destroy(ifp);
	} catch (e) {
		log(LOG_ERR, '%s: destroy failed: %s', name, errmsg(e));
	}
	log(LOG_INFO, '%s: destroyed', name);
}

async function if_clone_destroy_locked(name: string): Promise<number> {
	if (!if_name_ok(name))
		return EINVAL;
	/* An interface made under any name (see create) is its cloner's to destroy. */
	const ent = ifnets.get(name);
	if (ent === undefined)
		return if_clone_lookup(name) === null ? EINVAL : ENXIO;
	await if_destroy_entry(name, ent);
	return 0;
}

/*
 * Creates the interface name ("wg0"), or with a cloner any name Linux
 * accepts: 0, EINVAL (no such cloner, bad name), EEXIST.
 */
export function if_clone_create(name: string, cloner?: string): Promise<number> {
	return if_locked(() => if_clone_create_locked(name, cloner));
}

/*
 * Destroys the interface: 0, EINVAL (no such cloner, bad name), ENXIO
 * (no such interface).  A driver calls this itself when its interface
 * goes away underneath it (ip link del); not from inside its if_ioctl,
 * which runs under the same serialization.
 */
export function if_clone_destroy(name: string): Promise<number> {
	return if_locked(() => if_clone_destroy_locked(name));
}

/* Destroys every interface, newest first (reboot, SIGTERM). */
export function if_destroy_all(): Promise<void> {
	return if_locked(async () => {
		for (const [name, ent] of [...ifnets].reverse())
			await if_destroy_entry(name, ent);
	});
}

export function ifunit(name: string): ifnet | undefined {
	return ifnets.get(name)?.ifp;
}

export function if_list(): ifnet[] {
	return [...ifnets.values()].map((e) => e.ifp);
}

/* --- addresses --- */

/* inet_pton(3) for the two families; null if s is not an address of that family. */
export function inet_pton(family: number, s: string): Uint8Array | null {
	if (family === AF_INET)
		return inet_pton4(s);
	return family === AF_INET6 ? inet_pton6(s) : null;
}

export { inet_ntop };

function ifaddr_from_linux(a: linux_ifaddr): ShimIfaddr {
	return { family: a.family === 4 ? AF_INET : AF_INET6, addr: inet_ntop(a.addr), prefixlen: a.prefixlen };
}

/* The interface's state as ifconfig shows it: the shim's ShimIfState. */
export function if_state(ifp: ifnet): ShimIfState {
	let ifindex = 0;
	let addrs: ShimIfaddr[] = [];
	try {
		ifindex = if_nametoindex(ifp.if_xname);
		addrs = if_addrs(ifp.if_xname).map(ifaddr_from_linux);
	} catch {
		/* The Linux interface is gone or not yet there: report what the instance knows. */
	}
	return {
		name: ifp.if_xname, flags: ifp.if_flags, mtu: ifp.if_mtu, link_up: ifp.if_link_up,
		addrs, ifindex,
	};
}

/* The shim's 'ifconf': every interface with its state. */
export function ifconf(): ShimIfState[] {
	return if_list().map(if_state);
}

/* --- generic ioctls --- */

/* Requests that change state: root only (kauth KAUTH_NETWORK_INTERFACE). */
const if_priv_requests: ReadonlySet<number> = new Set([
	SIOCIFCREATE, SIOCIFDESTROY, SIOCSIFFLAGS, SIOCSIFMTU, SIOCAIFADDR, SIOCAIFADDR_IN6,
	SIOCDIFADDR, SIOCSDRVSPEC,
]);

function reply(errno: number, msg?: string): ShimReply {
	return msg === undefined ? { errno } : { errno, msg };
}

/*
 * Up: the driver starts (if_init), then the Linux interface goes up.
 * If the Linux side fails the driver is stopped again: nothing half up.
 */
async function if_up(ifp: ifnet): Promise<ShimReply> {
	const error = await ifp.if_init();
	if (error !== 0)
		return reply(error);
	try {
		if_set_up(ifp.if_xname, true);
	} catch (e) {
		await ifp.if_stop();
		return reply(errno_of(e), errmsg(e));
	}
	ifp.if_flags |= IFF_UP | IFF_RUNNING;
	log(LOG_INFO, '%s: up', ifp.if_xname);
	return reply(0);
}

/* Down: the driver stops, then the Linux interface goes down. */
async function if_down(ifp: ifnet): Promise<ShimReply> {
	if ((ifp.if_flags & IFF_RUNNING) !== 0)
		await ifp.if_stop();
	ifp.if_flags &= ~(IFF_UP | IFF_RUNNING);
	log(LOG_INFO, '%s: down', ifp.if_xname);
	try {
		if_set_up(ifp.if_xname, false);
	} catch (e) {
		return reply(errno_of(e), errmsg(e));
	}
	return reply(0);
}

/* SIOCSIFFLAGS, as ifioctl_common and a driver's SIOCSIFFLAGS case together do it. */
async function if_setflags(ifp: ifnet, flags: number): Promise<ShimReply> {
	const want_up = (flags & IFF_UP) !== 0;
	const keep = ifp.if_flags & (IFF_CANTCHANGE | IFF_UP);
	ifp.if_flags = keep | (flags & ~(IFF_CANTCHANGE | IFF_UP));
	if (want_up && (ifp.if_flags & IFF_RUNNING) === 0)
		return if_up(ifp);
	if (!want_up && (ifp.if_flags & (IFF_UP | IFF_RUNNING)) !== 0)
		return if_down(ifp);
	return reply(0);
}

function if_setmtu(ifp: ifnet, mtu: number): ShimReply {
	try {
		if_set_mtu(ifp.if_xname, mtu);
	} catch (e) {
		return reply(errno_of(e), errmsg(e));
	}
	ifp.if_mtu = mtu;
	return reply(0);
}

interface parsed_ifaddr {
	family: typeof AF_INET | typeof AF_INET6;
	addr: Uint8Array;
	prefixlen: number;
}

/* Checks a request's ifaddr: EAFNOSUPPORT for a family the request does not take, else EINVAL. */
function ifaddr_check(req: ShimIoctlRequest): parsed_ifaddr | number {
	const a = req.ifaddr;
	if (a === undefined || a === null || typeof a !== 'object')
		return EINVAL;
	const family = a.family;
	if (req.req === SIOCAIFADDR && family !== AF_INET)
		return EAFNOSUPPORT;
	if (req.req === SIOCAIFADDR_IN6 && family !== AF_INET6)
		return EAFNOSUPPORT;
	if (family !== AF_INET && family !== AF_INET6)
		return EAFNOSUPPORT;
	if (typeof a.addr !== 'string')
		return EINVAL;
	const addr = inet_pton(family, a.addr);
	const max = family === AF_INET ? 32 : 128;
	if (addr === null || !Number.isInteger(a.prefixlen) || a.prefixlen < 0 || a.prefixlen > max)
		return EINVAL;
	return { family, addr, prefixlen: a.prefixlen };
}

function bytes_eq(a: Uint8Array, b: Uint8Array): boolean {
	return a.length === b.length && a.every((v, i) => v === b[i]);
}

/* The prefix length the Linux interface holds addr with, or -1. */
function if_addr_plen(name: string, addr: Uint8Array): number {
	for (const a of if_addrs(name))
		if (bytes_eq(a.addr, addr))
			return a.prefixlen;
	return -1;
}

function linux_addaddr(name: string, a: parsed_ifaddr): void {
	if (a.family === AF_INET)
		in_addifaddr(name, a.addr, a.prefixlen);
	else
		in6_addifaddr(name, a.addr, a.prefixlen);
}

function linux_deladdr(name: string, family: number, addr: Uint8Array, plen: number): void {
	if (family === AF_INET)
		in_delifaddr(name, addr);
	else
		in6_delifaddr(name, addr, plen);
}

/*
 * SIOCAIFADDR(_IN6): as on NetBSD, adding an address the interface has
 * already is no error (it is updated: a new prefix length replaces the
 * old), and assigning an address brings the interface up (the driver's
 * SIOCINITIFADDR).  If it cannot come up the address is taken away again.
 */
async function if_addaddr(ifp: ifnet, a: parsed_ifaddr): Promise<ShimReply> {
	const name = ifp.if_xname;
	let added = false;
	try {
		const plen = if_addr_plen(name, a.addr);
		if (plen !== a.prefixlen) {
			if (plen >= 0)
				linux_deladdr(name, a.family, a.addr, plen);
			linux_addaddr(name, a);
			added = true;
		}
	} catch (e) {
		return reply(errno_of(e), errmsg(e));
	}
	log(LOG_INFO, '%s: address %s/%d', name, inet_ntop(a.addr), a.prefixlen);
	if ((ifp.if_flags & (IFF_UP | IFF_RUNNING)) === (IFF_UP | IFF_RUNNING))
		return reply(0);
	const r = await if_up(ifp);
	if (r.errno !== 0 && added) {
		try {
			linux_deladdr(name, a.family, a.addr, a.prefixlen);
		} catch {
			/* already gone */
		}
	}
	return r;
}

function if_deladdr(ifp: ifnet, a: parsed_ifaddr): ShimReply {
	const name = ifp.if_xname;
	try {
		/* NetBSD deletes by address; Linux wants IPv6's prefix length too. */
		const plen = if_addr_plen(name, a.addr);
		if (plen < 0)
			return reply(EADDRNOTAVAIL);
		linux_deladdr(name, a.family, a.addr, plen);
	} catch (e) {
		return reply(errno_of(e), errmsg(e));
	}
	log(LOG_INFO, '%s: address %s deleted', name, inet_ntop(a.addr));
	return reply(0);
}

function is_int(v: unknown): v is number {
	return typeof v === 'number' && Number.isInteger(v);
}

/* Argument checks of the generic requests, before the driver sees them. */
function ifioctl_check(req: ShimIoctlRequest): number {
	switch (req.req) {
	case SIOCSIFFLAGS:
		return is_int(req.flags) && req.flags >= 0 && req.flags <= 0xffffffff ? 0 : EINVAL;
	case SIOCSIFMTU:
		return is_int(req.mtu) && req.mtu >= IF_MTU_MIN && req.mtu <= IF_MTU_MAX ? 0 : EINVAL;
	case SIOCAIFADDR:
	case SIOCAIFADDR_IN6:
	case SIOCDIFADDR: {
		const a = ifaddr_check(req);
		return typeof a === 'number' ? a : 0;
	}
	case SIOCSDRVSPEC:
	case SIOCGDRVSPEC:
		if (req.cmd !== undefined && !is_int(req.cmd))
			return EINVAL;
		if (req.data !== undefined && typeof req.data !== 'string')
			return EINVAL;
		return 0;
	default:
		return 0;
	}
}

async function ifioctl_common(ifp: ifnet, req: ShimIoctlRequest, cred: kauth_cred): Promise<ShimReply> {
	const r = await ifp.if_ioctl(req, cred);
	if (r !== null)
		return r;
	switch (req.req) {
	case SIOCSIFFLAGS:
		return if_setflags(ifp, req.flags ?? 0);
	case SIOCGIFFLAGS:
		return { errno: 0, flags: ifp.if_flags };
	case SIOCSIFMTU:
		return if_setmtu(ifp, req.mtu ?? 0);
	case SIOCGIFMTU:
		return { errno: 0, mtu: ifp.if_mtu };
	case SIOCAIFADDR:
	case SIOCAIFADDR_IN6:
	case SIOCDIFADDR: {
		const a = ifaddr_check(req);
		if (typeof a === 'number')
			return reply(a);
		return req.req === SIOCDIFADDR ? if_deladdr(ifp, a) : if_addaddr(ifp, a);
	}
	case SIOCGIFSTATE_SHIM:
		return { errno: 0, ifs: [if_state(ifp)] };
	default:
		return reply(ENOTTY);
	}
}

async function ifioctl_1(req: ShimIoctlRequest, cred: kauth_cred): Promise<ShimReply> {
	const priv = if_priv_requests.has(req.req);
	if (priv && !kauth_cred_isroot(cred))
		return reply(EPERM);
	switch (req.req) {
	case SIOCIFCREATE:
		/* data, an extension: the cloner, for a name outside the cloner-and-unit rule. */
		return reply(await if_clone_create(req.name, req.data));
	case SIOCIFDESTROY:
		return reply(await if_clone_destroy(req.name));
	case SIOCIFGCLONERS:
		return { errno: 0, cloners: if_clone_list() };
	}
	if (ifunit(req.name) === undefined)
		return reply(ENXIO);
	const error = ifioctl_check(req);
	if (error !== 0)
		return reply(error);
	if (!priv)
		return ifioctl_common(ifunit(req.name) as ifnet, req, cred);
	return if_locked(async () => {
		/* It may have been destroyed while this request waited. */
		const ifp = ifunit(req.name);
		return ifp === undefined ? reply(ENXIO) : ifioctl_common(ifp, req, cred);
	});
}

/*
 * ioctl(2) on a socket, for an interface request: never throws; errors,
 * the driver's included, come back as the reply's errno.
 */
export async function ifioctl(req: ShimIoctlRequest, cred: kauth_cred): Promise<ShimReply> {
	try {
		return await ifioctl_1(req, cred);
	} catch (e) {
		log(LOG_ERR, '%s: ioctl %s: %s', req.name, req.req, errmsg(e));
		return reply(errno_of(e), errmsg(e));
	}
}

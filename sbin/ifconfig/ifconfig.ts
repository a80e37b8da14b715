// SPDX-License-Identifier: BSD-2-Clause
/*
 * ifconfig(8), for the interfaces of our kernel instance (wgN), in
 * NetBSD's syntax and output:
 *
 *   ifconfig IF [create] [inet A[/N] [netmask M] | inet6 A[/N] [prefixlen N]]
 *               [alias | -alias | delete] [mtu N] [up | down] [destroy]
 *   ifconfig IF          ifconfig -a          ifconfig -l          ifconfig -C
 *
 * Changes to interfaces of the instance go through the ioctl shim
 * (SIOCIFCREATE starts instance 0 when none runs).  Host interfaces
 * (lo, veth, ...) are shown from Linux's own state but not changed: this
 * is not a replacement for ip(8).
 */

import { QuietExit, errx, strerror, warnx } from '../../lib/libc/err.js';
import { inet_pton4, inet_pton6 } from '../../lib/libc/inet.js';
import { fileURLToPath } from 'node:url';

import { type ShimIoctlRequest, ifconf, ioctl, shim_set_kernel_prog } from '../../lib/libc/ioctl.js';
import { prog_run } from '../../lib/libc/prog.js';
import { ENXIO } from '../../sys/sys/errno.js';
import { type ShimIfaddr, type ShimIfState, type ShimReply } from '../../sys/sys/shim.js';
import { AF_INET, AF_INET6 } from '../../sys/sys/socket.js';
import {
	IFF_UP, IFNAMSIZ, IOCTL_NAMES, SIOCAIFADDR, SIOCAIFADDR_IN6, SIOCDIFADDR, SIOCGIFFLAGS,
	SIOCIFCREATE, SIOCIFDESTROY, SIOCIFGCLONERS, SIOCSIFFLAGS, SIOCSIFMTU,
} from '../../sys/sys/sockio.js';
import { host_if_exists, host_if_names, host_if_status } from './hostif.js';
import { type IfStatus, if_status_from_shim, if_status_lines } from './status.js';

function usage(): never {
	process.stderr.write(
	    'usage: ifconfig interface [create] [up | down] [mtu n]\n' +
	    '\t[[inet] address[/prefixlen] [netmask mask] [alias | -alias | delete]]\n' +
	    '\t[inet6 address[/prefixlen] [prefixlen n] [alias | -alias | delete]] [destroy]\n' +
	    '       ifconfig interface\n' +
	    '       ifconfig -a\n' +
	    '       ifconfig -l\n' +
	    '       ifconfig -C\n');
	throw new QuietExit(1);
}

function print_lines(lines: string[]): void {
	if (lines.length > 0)
		process.stdout.write(lines.join('\n') + '\n');
}

/* "ifconfig: SIOCSIFFLAGS: Device busy", as err(3) prints a failed ioctl. */
function check(r: ShimReply, req: number): void {
	if (r.errno !== 0)
		errx(1, `${IOCTL_NAMES[req] ?? `ioctl ${req}`}: ${strerror(r.errno)}${r.msg ? ` (${r.msg})` : ''}`);
}

/* The instance's interfaces; none when no instance runs. */
async function kernel_ifs(): Promise<ShimIfState[]> {
	const r = await ifconf();
	if (r.errno === ENXIO)
		return [];
	if (r.errno !== 0) {
		warnx(`ifconf: ${strerror(r.errno)}${r.msg ? ` (${r.msg})` : ''}`);
		return [];
	}
	return Array.isArray(r.ifs) ? r.ifs : [];
}

async function all_ifs(): Promise<IfStatus[]> {
	const kernel = await kernel_ifs();
	const mine = new Set(kernel.map((s) => s.name));
	const list: IfStatus[] = kernel.map(if_status_from_shim);
	for (const name of host_if_names()) {
		if (mine.has(name))
			continue;	/* our wgN is also a tun on the host: show the kernel's view */
		const st = host_if_status(name);
		if (st !== null)
			list.push(st);
	}
	return list.sort((a, b) => a.ifindex - b.ifindex || a.name.localeCompare(b.name));
}

async function one_if(name: string): Promise<IfStatus | null> {
	const k = (await kernel_ifs()).find((s) => s.name === name);
	return k !== undefined ? if_status_from_shim(k) : host_if_status(name);
}

async function cmd_list_all(): Promise<number> {
	const out: string[] = [];
	for (const st of await all_ifs())
		if_status_lines(st, out);
	print_lines(out);
	return 0;
}

async function cmd_list_names(): Promise<number> {
	print_lines([(await all_ifs()).map((s) => s.name).join(' ')]);
	return 0;
}

async function cmd_list_cloners(): Promise<number> {
	const r = await ioctl({ op: 'ioctl', req: SIOCIFGCLONERS, name: '' });
	/* No instance yet: wg is still there to create (it starts on demand). */
	if (r.errno === ENXIO) {
		print_lines(['wg']);
		return 0;
	}
	check(r, SIOCIFGCLONERS);
	print_lines([(r.cloners ?? []).join(' ')]);
	return 0;
}

async function cmd_show(name: string): Promise<number> {
	const st = await one_if(name);
	if (st === null)
		errx(1, `SIOCGIFFLAGS: ${strerror(ENXIO)}`);
	const out: string[] = [];
	if_status_lines(st, out);
	print_lines(out);
	return 0;
}

interface AddrArg {
	family: typeof AF_INET | typeof AF_INET6;
	text: string;
	addr: string;
	prefixlen: number | null;
}

interface Params {
	create: boolean;
	destroy: boolean;
	updown: 'up' | 'down' | null;
	mtu: number | null;
	addr: AddrArg | null;
	alias: boolean | null;	/* true: alias; false: -alias/delete; null: neither */
}

function bad_value(arg: string): never {
	errx(1, `${arg}: bad value`);
}

function parse_prefixlen(text: string, max: number, arg: string): number {
	if (!/^[0-9]{1,3}$/.test(text) || Number(text) > max)
		bad_value(arg);
	return Number(text);
}

function parse_addr(text: string, family: typeof AF_INET | typeof AF_INET6 | null): AddrArg {
	const slash = text.lastIndexOf('/');
	const spec = slash < 0 ? text : text.slice(0, slash);
	const pct = spec.indexOf('%');
	const host = pct < 0 ? spec : spec.slice(0, pct);	/* the zone of fe80::1%wg0 is the interface itself */
	const fam = family ?? (host.includes(':') ? AF_INET6 : AF_INET);
	const bytes = fam === AF_INET ? inet_pton4(host) : inet_pton6(host);
	if (bytes === null)
		bad_value(text);
	const prefixlen = slash < 0 ? null : parse_prefixlen(text.slice(slash + 1), fam === AF_INET ? 32 : 128, text);
	return { family: fam, text, addr: host, prefixlen };
}

/* "255.255.255.0" or "0xffffff00": contiguous masks only. */
function parse_netmask(text: string): number {
	let v: number;
	if (/^0x[0-9a-fA-F]{1,8}$/.test(text)) {
		v = parseInt(text.slice(2), 16);
	} else {
		const a = inet_pton4(text);
		if (a === null)
			bad_value(text);
		v = ((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0;
	}
	const len = 32 - Math.log2(((~v) >>> 0) + 1);
	if (!Number.isInteger(len))
		bad_value(text);
	return len;
}

function parse_params(args: string[]): Params {
	const p: Params = { create: false, destroy: false, updown: null, mtu: null, addr: null, alias: null };
	let family: typeof AF_INET | typeof AF_INET6 | null = null;
	let netmask: number | null = null;
	let prefixlen: number | null = null;
	for (let i = 0; i < args.length; i++) {
		const a = args[i];
		const next = (): string => {
			if (i + 1 >= args.length)
				errx(1, `${a}: missing argument`);
			return args[++i];
		};
		switch (a) {
		case 'create': p.create = true; break;
		case 'destroy': p.destroy = true; break;
		case 'up': p.updown = 'up'; break;
		case 'down': p.updown = 'down'; break;
		case 'alias': p.alias = true; break;
		case '-alias':
		case 'delete': p.alias = false; break;
		case 'mtu': {
			const v = next();
			if (!/^[0-9]{1,10}$/.test(v) || Number(v) > 0x7fffffff)
				bad_value(v);
			p.mtu = Number(v);
			break;
		}
		case 'inet': family = AF_INET; break;
		case 'inet6': family = AF_INET6; break;
		case 'netmask': netmask = parse_netmask(next()); break;
		case 'prefixlen': {
			const v = next();
			prefixlen = parse_prefixlen(v, family === AF_INET ? 32 : 128, v);
			break;
		}
		default:
			if (p.addr !== null || !/^[0-9A-Fa-f:.]+(%[^/]+)?(\/[0-9]+)?$/.test(a))
				bad_value(a);
			p.addr = parse_addr(a, family);
		}
	}
	if (p.addr === null) {
		if (netmask !== null || prefixlen !== null || p.alias !== null)
			errx(1, 'no address given');
		return p;
	}
	const addr = p.addr;
	if (netmask !== null) {
		if (addr.family !== AF_INET)
			bad_value('netmask');
		addr.prefixlen = netmask;
	}
	if (prefixlen !== null) {
		if (prefixlen > (addr.family === AF_INET ? 32 : 128))
			bad_value(String(prefixlen));
		addr.prefixlen = prefixlen;
	}
	return p;
}

/* No mask given: the classful default for inet (as in_ifinit), /64 for inet6. */
function default_prefixlen(a: AddrArg): number {
	if (a.family === AF_INET6)
		return 64;
	const first = (inet_pton4(a.addr) as Uint8Array)[0];
	return first < 128 ? 8 : first < 192 ? 16 : 24;
}

async function get_flags(name: string): Promise<number> {
	const r = await ioctl({ op: 'ioctl', req: SIOCGIFFLAGS, name });
	if (r.errno === ENXIO && host_if_exists(name))
		errx(1, `${name}: not an interface of the wg(4) kernel; configure host interfaces with ip(8)`);
	check(r, SIOCGIFFLAGS);
	return r.flags ?? 0;
}

/* The requests that take back what has been done so far, newest last. */
type Undo = ShimIoctlRequest[];

function addr_req(a: ShimIfaddr): number {
	return a.family === AF_INET ? SIOCAIFADDR : SIOCAIFADDR_IN6;
}

/* The same address, whatever its text form (fd00:0::1 is fd00::1). */
function addr_eq(x: ShimIfaddr, family: number, addr: string): boolean {
	if (x.family !== family)
		return false;
	const pton = family === AF_INET ? inet_pton4 : inet_pton6;
	const a = pton(x.addr), b = pton(addr);
	return a !== null && b !== null && Buffer.compare(a, b) === 0;
}

async function set_address(name: string, p: Params, before: ShimIfState | undefined, undo: Undo): Promise<void> {
	const a = p.addr as AddrArg;
	const ifaddr: ShimIfaddr = {
		family: a.family, addr: a.addr, prefixlen: a.prefixlen ?? default_prefixlen(a),
	};
	const had = before?.addrs.find((x) => addr_eq(x, a.family, a.addr));
	if (p.alias === false) {
		check(await ioctl({ op: 'ioctl', req: SIOCDIFADDR, name, ifaddr }), SIOCDIFADDR);
		if (had !== undefined)
			undo.push({ op: 'ioctl', req: addr_req(had), name, ifaddr: had });
		return;
	}
	/* inet without "alias" replaces the first inet address, as NetBSD's commit_address does. */
	if (a.family === AF_INET && p.alias === null) {
		const old = before?.addrs.find((x) => x.family === AF_INET);
		if (old !== undefined) {
			check(await ioctl({ op: 'ioctl', req: SIOCDIFADDR, name, ifaddr: old }), SIOCDIFADDR);
			undo.push({ op: 'ioctl', req: SIOCAIFADDR, name, ifaddr: old });
		}
	}
	const req = addr_req(ifaddr);
	check(await ioctl({ op: 'ioctl', req, name, ifaddr }), req);
	undo.push(had !== undefined ? { op: 'ioctl', req, name, ifaddr: had } :
	    { op: 'ioctl', req: SIOCDIFADDR, name, ifaddr });
}

/*
 * All or nothing: when a step fails, the steps done before it are taken
 * back (newest first) before the error is reported, so a command that
 * fails leaves the interface as it found it.  The kernel checks each
 * request whole; this makes the command line one change.
 */
async function cmd_configure(name: string, args: string[]): Promise<number> {
	const p = parse_params(args);
	const undo: Undo = [];
	try {
		if (p.create) {
			check(await ioctl({ op: 'ioctl', req: SIOCIFCREATE, name }), SIOCIFCREATE);
			undo.push({ op: 'ioctl', req: SIOCIFDESTROY, name });
		}
		if (p.mtu !== null || p.addr !== null || p.updown !== null) {
			const flags = await get_flags(name);	/* is it ours at all? */
			const before = (await kernel_ifs()).find((s) => s.name === name);
			/* Adding an address may bring it up: the flags go back last. */
			undo.push({ op: 'ioctl', req: SIOCSIFFLAGS, name, flags });
			if (p.mtu !== null) {
				check(await ioctl({ op: 'ioctl', req: SIOCSIFMTU, name, mtu: p.mtu }), SIOCSIFMTU);
				if (before !== undefined)
					undo.push({ op: 'ioctl', req: SIOCSIFMTU, name, mtu: before.mtu });
			}
			if (p.addr !== null)
				await set_address(name, p, before, undo);
			if (p.updown !== null) {
				/* Read again: adding an address may have brought it up already. */
				const now = await get_flags(name);
				const nflags = p.updown === 'up' ? now | IFF_UP : now & ~IFF_UP;
				check(await ioctl({ op: 'ioctl', req: SIOCSIFFLAGS, name, flags: nflags }), SIOCSIFFLAGS);
			}
		}
		if (p.destroy) {
			const r = await ioctl({ op: 'ioctl', req: SIOCIFDESTROY, name });
			if (r.errno === ENXIO && host_if_exists(name))
				errx(1, `${name}: not an interface of the wg(4) kernel; configure host interfaces with ip(8)`);
			check(r, SIOCIFDESTROY);
		}
	} catch (e) {
		for (const u of undo.reverse()) {
			const r = await ioctl(u);
			if (r.errno !== 0)
				warnx(`${name}: could not take back ${IOCTL_NAMES[u.req] ?? `ioctl ${u.req}`}: ${strerror(r.errno)}`);
		}
		throw e;
	}
	return 0;
}

async function main(argv: string[]): Promise<number> {
	if (argv.length === 0)
		usage();
	const first = argv[0];
	if (first.startsWith('-')) {
		if (argv.length !== 1)
			usage();
		switch (first) {
		case '-a': return cmd_list_all();
		case '-l': return cmd_list_names();
		case '-C': return cmd_list_cloners();
		default: usage();
		}
	}
	if (first.length > IFNAMSIZ - 1)
		errx(1, `${first}: interface name too long`);
	if (argv.length === 1)
		return cmd_show(first);
	return cmd_configure(first, argv.slice(1));
}

/* SIOCIFCREATE starts instance 0 with wg-userspace of this build (installed alongside). */
shim_set_kernel_prog(fileURLToPath(new URL('../../usr.sbin/wg-userspace/wg-userspace.js', import.meta.url)));
prog_run(main);

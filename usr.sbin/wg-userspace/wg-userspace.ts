// SPDX-License-Identifier: BSD-2-Clause
/*
 * wg-userspace(8): run and drive a userspace wg(4) kernel instance.
 *
 *	wg-userspace id create | destroy | status
 *	wg-userspace id ifconfig args ...	ifconfig(8) against instance id
 *	wg-userspace id wgconfig args ...	wgconfig(8) against instance id
 *	wg-userspace id sysctl [-n] [-a | name ... | -w name=value ...]
 *	wg-userspace id debug command args ...	any command, WG_USERSPACE_ID=id
 *
 * NetBSD's wg-userspace runs rump_server; here an instance is this same
 * program started as "wg-userspace id --kernel" (sys/kern/init_main.ts),
 * which `create` runs as a daemon: detached, standard output and error
 * appended to the log file (/var/log/wg-userspace.ID.log, or the file
 * WG_USERSPACE_LOG names).  The daemon tells `create` on a pipe (fd 3,
 * WG_USERSPACE_READY_FD) when its control socket accepts connections, or
 * why it could not boot.  Run "wg-userspace id --kernel" by hand (or from a
 * test) to keep an instance in the foreground, logging to the terminal.
 *
 * Instances are per network namespace: ids only have to be unique within
 * one.  A non-numeric first argument is wireguard-go's interface mode
 * (wg-quick's WG_QUICK_USERSPACE_IMPLEMENTATION):
 *
 *	wg-userspace [-f | --foreground] ifname
 *	wg-userspace --version
 */

import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { constants as os_constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { type ShimIfState, type ShimReply } from '../../sys/sys/shim.js';
import { AF_INET } from '../../sys/sys/socket.js';
import { snprintb } from '../../lib/libutil/snprintb.js';
import { wg_uapi_alive, wg_uapi_path } from '../../lib/libwg/uapi_sock.js';
import { EINVAL, ENOENT, ENXIO, EBUSY } from '../../sys/sys/errno.js';
import {
	IFFBITS, IFF_UP, IFNAMSIZ, SIOCGIFFLAGS, SIOCIFCREATE, SIOCIFDESTROY, SIOCSIFFLAGS, if_linux_name_ok,
} from '../../sys/sys/sockio.js';
import { peercred, socket_fd } from '../../sys/arch/linux/peercred.js';
import { QuietExit, errx, strerror, warnx } from '../../lib/libc/err.js';
import { shim_connect, shim_instance_id, shim_request, shim_set_kernel_prog } from '../../lib/libc/ioctl.js';
import { prog_run } from '../../lib/libc/prog.js';

const KERNEL_ARG = '--kernel';
const READY_FD_ENV = 'WG_USERSPACE_READY_FD';
const LOG_ENV = 'WG_USERSPACE_LOG';
const ID_ENV = 'WG_USERSPACE_ID';
const ID_MAX = 0x7fffffff;

const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 15000;
const POLL_MS = 50;

function usage(): never {
	const p = 'wg-userspace';
	process.stderr.write(
	    `usage: ${p} id create\n` +
	    `       ${p} id destroy\n` +
	    `       ${p} id status\n` +
	    `       ${p} id ifconfig args ...\n` +
	    `       ${p} id wgconfig args ...\n` +
	    `       ${p} id sysctl [-n] [-a | name ... | -w name=value ...]\n` +
	    `       ${p} id debug command [args ...]\n` +
	    `       ${p} [-f | --foreground] ifname\n` +
	    `       ${p} --version\n`);
	throw new QuietExit(1);
}

function wg_userspace_logfile(id: number): string {
	const env = process.env[LOG_ENV];
	return env !== undefined && env !== '' ? env : `/var/log/wg-userspace.${id}.log`;
}

function parse_id(s: string): number {
	if (!/^[0-9]{1,10}$/.test(s) || Number(s) > ID_MAX)
		errx(1, `${s}: instance id must be a number from 0 to ${ID_MAX}`);
	return Number(s);
}

function need_root(cmd: string): void {
	if (typeof process.geteuid === 'function' && process.geteuid() !== 0)
		errx(1, `${cmd}: must be run as root`);
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/*
 * Is instance id answering in this namespace?  Its pid (SO_PEERCRED) if
 * so, else null.  A name held by anyone but root ends the program
 * (shim_connect): it is not an instance, and it blocks one.
 */
async function instance_probe(id: number): Promise<{ pid: number } | null> {
	const sock = await shim_connect(id);
	if (typeof sock === 'number')
		return null;
	let pid = 0;
	try {
		pid = peercred(socket_fd(sock)).pid;
	} catch {
		/* connected is what matters */
	}
	sock.destroy();
	return { pid };
}

/* --- create --- */

/*
 * Start the kernel detached and wait for its word on the ready pipe: "ready"
 * once it listens, "error MSG" if it could not boot; its exit or silence
 * past the timeout is a failure too.
 */
async function cmd_create(id: number): Promise<number> {
	need_root('create');
	if (await instance_probe(id) !== null)
		errx(1, `instance ${id} already running`);
	const logfile = wg_userspace_logfile(id);
	let logfd: number;
	try {
		logfd = openSync(logfile, 'a', 0o640);
	} catch (e) {
		errx(1, `${logfile}: ${(e as Error).message}`);
	}
	const self = fileURLToPath(import.meta.url);
	const child = spawn(process.execPath, [self, String(id), KERNEL_ARG], {
		detached: true,
		cwd: '/',	/* a daemon holds no directory busy */
		stdio: ['ignore', logfd, logfd, 'pipe'],
		env: { ...process.env, [READY_FD_ENV]: '3' },
	});
	closeSync(logfd);
	const pipe = child.stdio[3];
	const word = await new Promise<string>((resolve) => {
		let text = '';
		const timer = setTimeout(() => resolve('timeout'), START_TIMEOUT_MS);
		const done = (w: string): void => {
			clearTimeout(timer);
			resolve(w);
		};
		child.once('error', (e) => done(`error ${e.message}`));
		child.once('exit', (code, sig) => done(`error exited with ${sig ?? `status ${code}`} (see ${logfile})`));
		pipe?.on('data', (b: Buffer) => {
			text += b.toString('utf8');
			const nl = text.indexOf('\n');
			if (nl >= 0)
				done(text.slice(0, nl));
		});
		pipe?.on('error', () => { /* the exit tells */ });
	});
	pipe?.destroy();
	child.unref();
	if (word === 'ready' && await instance_probe(id) !== null)
		return 0;
	if (word === 'timeout' && child.pid !== undefined && child.exitCode === null) {
		try {
			process.kill(child.pid, 'SIGKILL');
		} catch {
			/* gone meanwhile */
		}
		errx(1, `instance ${id} did not start within ${START_TIMEOUT_MS / 1000} s (see ${logfile})`);
	}
	errx(1, word.startsWith('error ') ? word.slice(6) : `instance ${id} did not start (see ${logfile})`);
}

/* --- destroy --- */

async function cmd_destroy(id: number): Promise<number> {
	need_root('destroy');
	if (await instance_probe(id) === null)
		errx(1, `instance ${id} not running`);
	const r = await shim_request(id, { op: 'reboot' });
	if (r.errno === ENXIO)
		errx(1, `instance ${id} not running`);
	/* EBUSY: a reboot is already under way; wait for it like for ours. */
	if (r.errno !== 0 && r.errno !== EBUSY)
		errx(1, `reboot: ${strerror(r.errno)}`);
	const deadline = Date.now() + STOP_TIMEOUT_MS;
	while (await instance_probe(id) !== null) {
		if (Date.now() >= deadline)
			errx(1, `instance ${id} still running after ${STOP_TIMEOUT_MS / 1000} s`);
		await sleep(POLL_MS);
	}
	return 0;
}

/* --- status --- */

function if_print(s: ShimIfState): void {
	let out = `${s.name}: flags=${snprintb(IFFBITS, s.flags)} mtu ${s.mtu}\n`;
	out += `\tstatus: ${s.link_up ? 'active' : 'no carrier'}\n`;
	for (const a of s.addrs)
		out += `\t${a.family === AF_INET ? 'inet' : 'inet6'} ${a.addr}/${a.prefixlen}\n`;
	process.stdout.write(out);
}

async function cmd_status(id: number): Promise<number> {
	const p = await instance_probe(id);
	if (p === null) {
		process.stdout.write(`instance ${id}: not running\n`);
		return 1;
	}
	process.stdout.write(`instance ${id}: running, pid ${p.pid}\n`);
	const r = await shim_request(id, { op: 'ifconf' });
	if (r.errno !== 0)
		errx(1, `ifconf: ${strerror(r.errno)}`);
	for (const s of r.ifs ?? [])
		if_print(s);
	return 0;
}

/* --- sysctl --- */

function not_running(id: number, r: ShimReply): void {
	if (r.errno === ENXIO)
		errx(1, `instance ${id} not running`);
}

/*
 * sysctl(8)'s forms and output: "name = value"; with -w
 * "name: old -> new"; -n prints values alone.  As NetBSD's, setting
 * needs -w, and an error on one name does not stop the others.
 */
async function cmd_sysctl(id: number, args: string[]): Promise<number> {
	let aflag = false;
	let nflag = false;
	let wflag = false;
	let i = 0;
	for (; i < args.length && args[i].startsWith('-') && args[i].length > 1; i++) {
		if (args[i] === '--') {
			i++;
			break;
		}
		for (const ch of args[i].slice(1)) {
			if (ch === 'a')
				aflag = true;
			else if (ch === 'n')
				nflag = true;
			else if (ch === 'w')
				wflag = true;
			else
				usage();
		}
	}
	const names = args.slice(i);
	if (aflag && (wflag || names.length > 0))
		usage();
	if (wflag && names.length === 0)
		usage();
	let status = 0;
	const show = (entries: Array<[string, string]>): void => {
		process.stdout.write(entries.map(([n, v]) => (nflag ? `${v}\n` : `${n} = ${v}\n`)).join(''));
	};
	if (names.length === 0) {
		const r = await shim_request(id, { op: 'sysctl' });
		not_running(id, r);
		if (r.errno !== 0)
			errx(1, `sysctl: ${strerror(r.errno)}`);
		show(r.sysctl ?? []);
		return 0;
	}
	if (wflag)
		return sysctl_write_all(id, names, nflag);
	for (const arg of names) {
		if (arg.includes('=')) {
			warnx('Must specify -w to set variables');
			status = 1;
			continue;
		}
		const r = await shim_request(id, { op: 'sysctl', name: arg });
		not_running(id, r);
		if (r.errno !== 0) {
			warnx(r.errno === ENOENT && r.msg !== undefined ? r.msg : `${arg}: ${strerror(r.errno)}`);
			status = 1;
			continue;
		}
		show(r.sysctl ?? []);
	}
	return status;
}

/*
 * sysctl -w name=value ...: all or nothing.  NetBSD's sysctl(8) goes on
 * past a failed name; here a failure puts back the values already
 * written (newest first) and nothing is printed but the error, so a
 * command that fails changes nothing.
 */
async function sysctl_write_all(id: number, args: string[], nflag: boolean): Promise<number> {
	const done: Array<[string, string, string]> = [];	/* name, old, new */
	for (const arg of args) {
		const eq = arg.indexOf('=');
		const name = eq >= 0 ? arg.slice(0, eq) : arg;
		const r = eq >= 0 ?
		    await shim_request(id, { op: 'sysctl', name, value: arg.slice(eq + 1) }) :
		    await shim_request(id, { op: 'sysctl', name });
		not_running(id, r);
		const e = r.sysctl ?? [];
		if (r.errno === 0 && (eq < 0 || e.length === 2)) {
			if (eq >= 0)
				done.push([name, e[0][1], e[1][1]]);
			continue;
		}
		warnx(r.errno === ENOENT && r.msg !== undefined ? r.msg :
		    `${name}: ${strerror(r.errno !== 0 ? r.errno : EINVAL)}`);
		for (const [n, was] of done.reverse()) {
			const b = await shim_request(id, { op: 'sysctl', name: n, value: was });
			if (b.errno !== 0)
				warnx(`${n}: could not put back ${was}: ${strerror(b.errno)}`);
		}
		return 1;
	}
	process.stdout.write(done.map(([n, was, now]) => (nflag ? `${was} -> ${now}\n` : `${n}: ${was} -> ${now}\n`)).join(''));
	return 0;
}

/* --- ifconfig, wgconfig, debug --- */

/* Run a program with WG_USERSPACE_ID=id, sharing our stdio; its exit status is ours. */
function run_with_id(id: number, cmd: string, args: string[]): Promise<number> {
	return new Promise((resolve) => {
		const child = spawn(cmd, args, { stdio: 'inherit', env: { ...process.env, [ID_ENV]: String(id) } });
		child.once('error', (e) => {
			warnx(`${cmd}: ${e.message}`);
			resolve(127);
		});
		child.once('exit', (code, sig) => {
			const signo = sig !== null ? (os_constants.signals as Record<string, number>)[sig] ?? 0 : 0;
			resolve(code ?? 128 + signo);
		});
	});
}

/* A sibling program of the build (obj/sbin/ifconfig/ifconfig.js ...). */
function run_sibling(id: number, rel: string, args: string[]): Promise<number> {
	const path = fileURLToPath(new URL(rel, import.meta.url));
	if (!existsSync(path))
		errx(1, `${path}: not found (not built?)`);
	return run_with_id(id, process.execPath, [path, ...args]);
}

/* --- the kernel itself --- */

/*
 * "wg-userspace id --kernel": boot the instance in this process and serve
 * until rebooted.  Not under prog_run: the kernel keeps running through
 * exceptions (it logs them) instead of exiting on the first.
 */
async function kernel_main(idarg: string): Promise<void> {
	const ready = process.env[READY_FD_ENV];
	delete process.env[READY_FD_ENV];
	const ready_fd = ready !== undefined && /^[0-9]+$/.test(ready) ? Number(ready) : -1;
	const tell = (word: string): void => {
		if (ready_fd < 0)
			return;
		try {
			writeSync(ready_fd, `${word}\n`);
			closeSync(ready_fd);
		} catch {
			/* whoever waited is gone */
		}
	};
	if (!/^[0-9]{1,10}$/.test(idarg) || Number(idarg) > ID_MAX) {
		process.stderr.write(`wg-userspace: ${idarg}: instance id must be a number from 0 to ${ID_MAX}\n`);
		tell(`error ${idarg}: bad instance id`);
		process.exit(1);
	}
	const id = Number(idarg);
	try {
		const { kern_boot } = await import('../../sys/kern/init_main.js');
		const { GENERIC } = await import('../../sys/arch/linux/conf/GENERIC.js');
		await kern_boot(id, { modules: GENERIC });
	} catch (e) {
		const msg = e instanceof Error ? e.message : String(e);
		process.stderr.write(`wg-userspace: ${msg}\n`);
		tell(`error ${msg}`);
		process.exit(1);
	}
	tell('ready');
}

/* --- main --- */

async function instance_main(id: number, args: string[]): Promise<number> {
	if (args.length === 0)
		usage();
	const [cmd, ...rest] = args;
	switch (cmd) {
	case 'create':
		if (rest.length !== 0)
			usage();
		return cmd_create(id);
	case 'destroy':
		if (rest.length !== 0)
			usage();
		return cmd_destroy(id);
	case 'status':
		if (rest.length !== 0)
			usage();
		return cmd_status(id);
	case 'ifconfig':
		return run_sibling(id, '../../sbin/ifconfig/ifconfig.js', rest);
	case 'wgconfig':
		return run_sibling(id, '../../sbin/wgconfig/wgconfig.js', rest);
	case 'sysctl':
		return cmd_sysctl(id, rest);
	case 'debug':
		if (rest.length === 0)
			usage();
		return run_with_id(id, rest[0], rest.slice(1));
	default:
		usage();
	}
}

/* --- wireguard-go's form --- */

/* How often the foreground form looks whether its interface still exists. */
const IF_POLL_MS = 250;

/* The version of the package this file belongs to (obj/ or an installed tree). */
function pkg_version(): string {
	let dir = dirname(fileURLToPath(import.meta.url));
	for (let i = 0; i < 4; i++, dir = dirname(dir)) {
		try {
			const p = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
			if (p.name === 'netbsd-wg-ts' && typeof p.version === 'string')
				return p.version;
		} catch {
			/* not here */
		}
	}
	return 'unknown';
}

function cmd_version(): number {
	process.stdout.write(`wg-userspace v${pkg_version()}\n\n` +
	    `User-space wg(4) kernel instances for Linux (NetBSD's WireGuard in TypeScript),\n` +
	    `running on Node.js ${process.version}.\n`);
	return 0;
}

/* err(3) for an ioctl of the interface form: "wg0: SIOCIFCREATE: File exists". */
function ifname_check(ifname: string, what: string, r: ShimReply): void {
	if (r.errno !== 0)
		errx(1, `${ifname}: ${what}: ${strerror(r.errno)}${r.msg !== undefined ? ` (${r.msg})` : ''}`);
}

/*
 * "wg-userspace [-f] IFNAME", wireguard-go's contract with wg-quick(8)
 * (wireguard.com/xplatform): create IFNAME and return 0 once it exists
 * with its UAPI socket, exit 1 with a message otherwise.  The interface
 * lives in a kernel instance (WG_USERSPACE_ID, default 0; started on
 * demand as ifconfig does), not in this process, so the daemon form has
 * nothing to fork.  The interface is marked up at once: wg-quick brings
 * the link up with ip(8), which the instance does not see.  With -f this
 * process stays until the interface is gone (ip link del, the socket
 * file removed, ifconfig destroy) or until SIGTERM/SIGINT, which destroy
 * it, as a foreground wireguard-go does.
 */
async function ifname_main(argv: string[]): Promise<number> {
	let foreground = false;
	let i = 0;
	if (argv[0] === '-f' || argv[0] === '--foreground') {
		foreground = true;
		i++;
	}
	if (argv.length !== i + 1 || argv[i].startsWith('-'))
		usage();
	const ifname = argv[i];
	/* Any name Linux takes, as wireguard-go (the kernel checks it again: if_linux_name_ok). */
	if (!if_linux_name_ok(ifname))
		errx(1, `${JSON.stringify(ifname)}: not an interface name: 1 to ${IFNAMSIZ - 1} bytes, ` +
		    'not "." or "..", no "/", ":" or white space');
	need_root(ifname);
	const id = shim_instance_id();
	if (id === null)
		errx(1, `WG_USERSPACE_ID=${process.env.WG_USERSPACE_ID}: not an instance number`);
	const sock = wg_uapi_path(ifname);
	const flags = (): Promise<ShimReply> => shim_request(id, { op: 'ioctl', req: SIOCGIFFLAGS, name: ifname });
	/* Foreground: a signal from now on means "destroy it", once it exists. */
	let stopping = false;
	let wake: (() => void) | null = null;
	if (foreground) {
		const stop = (): void => {
			stopping = true;
			wake?.();
		};
		process.on('SIGTERM', stop);
		process.on('SIGINT', stop);
	}
	/* wireguard-go refuses a live socket too: it would not be ours. */
	if (await wg_uapi_alive(sock))
		errx(1, `${ifname}: ${sock} is in use: ${ifname} exists already, here or in another network namespace`);
	/* An instance started for this interface alone goes again if the interface cannot be made. */
	const started_here = await instance_probe(id) === null;
	const undo_instance = async (): Promise<void> => {
		if (!started_here)
			return;
		const l = await shim_request(id, { op: 'ifconf' });
		if (l.errno === 0 && (l.ifs ?? []).length === 0)
			await cmd_destroy(id);
	};
	/* data: the cloner, so that the name need not be wgN (an extension of SIOCIFCREATE). */
	const c = await shim_request(id, { op: 'ioctl', req: SIOCIFCREATE, name: ifname, data: 'wg' });
	if (c.errno !== 0) {
		await undo_instance();
		ifname_check(ifname, 'SIOCIFCREATE', c);
	}
	/*
	 * Setup failed after the create.  In the foreground, an interface
	 * destroyed meanwhile (ip link del) is what we wait for anyway: done.
	 */
	const fail = async (msg: string): Promise<number> => {
		if (foreground) {
			for (let i = 0; i < 20; i++) {
				if ((await flags()).errno === ENXIO)
					return 0;
				await sleep(100);
			}
		}
		await shim_request(id, { op: 'ioctl', req: SIOCIFDESTROY, name: ifname });
		await undo_instance();
		errx(1, msg);
	};
	const g = await flags();
	if (g.errno !== 0)
		return fail(`${ifname}: SIOCGIFFLAGS: ${strerror(g.errno)}`);
	const s = await shim_request(id, { op: 'ioctl', req: SIOCSIFFLAGS, name: ifname, flags: (g.flags ?? 0) | IFF_UP });
	if (s.errno !== 0)
		return fail(`${ifname}: SIOCSIFFLAGS: ${strerror(s.errno)}`);
	if (!await wg_uapi_alive(sock))
		return fail(`${ifname}: no UAPI socket at ${sock} (see the log of instance ${id})`);
	if (!foreground)
		return 0;

	for (;;) {
		if (stopping) {
			await shim_request(id, { op: 'ioctl', req: SIOCIFDESTROY, name: ifname });
			return 0;
		}
		await new Promise<void>((resolve) => {
			const timer = setTimeout(resolve, IF_POLL_MS);
			wake = (): void => {
				clearTimeout(timer);
				resolve();
			};
		});
		wake = null;
		/* ENXIO: the interface, or its whole instance, is gone. */
		if (!stopping && (await flags()).errno === ENXIO)
			return 0;
	}
}

async function main(argv: string[]): Promise<number> {
	if (argv.length === 0 || argv[0] === '-h' || argv[0] === '--help')
		usage();
	if (argv.length === 1 && argv[0] === '--version')
		return cmd_version();
	if (!/^[0-9]+$/.test(argv[0]))
		return ifname_main(argv);
	return instance_main(parse_id(argv[0]), argv.slice(1));
}

const argv = process.argv.slice(2);
shim_set_kernel_prog(fileURLToPath(import.meta.url));
if (argv.length === 2 && argv[1] === KERNEL_ARG)
	void kernel_main(argv[0]);
else
	prog_run(main);

// SPDX-License-Identifier: BSD-2-Clause
/*
 * A kernel instance's life: boot and reboot (NetBSD's init_main.c main()
 * and kern_reboot()).
 *
 * kern_boot(id, opts) loads the drivers the configuration lists
 * (opts.modules, sys/arch/linux/conf/GENERIC: loading wg(4) creates
 * its sysctl nodes, its wginit() attaches its cloner), and
 * listens on the abstract control socket
 * "\0wg-userspace.<id>" of the calling process's network namespace.  From
 * then on the instance answers ioctl, sysctl, ifconf and reboot requests
 * until it is rebooted: by a 'reboot' request from root (wg-userspace ID
 * destroy), or SIGTERM or SIGINT.  Rebooting destroys every interface
 * (their tun devices disappear, their sockets close), closes the control
 * socket and exits 0.
 *
 * The main thread never blocks: driver work is asynchronous or on the
 * driver's own workers.
 */

import koffi from 'koffi';

import type { ShimRequest } from '../sys/shim.js';
import { EBUSY, EINVAL, EPERM } from '../sys/errno.js';
import { type if_clone, if_clone_attach, if_destroy_all, ifconf, ifioctl } from '../net/if.js';
import { type kauth_cred, kauth_cred_isroot } from './kern_auth.js';
import { shim_server, type shim_result } from './kern_shim.js';
import { kern_sysctl } from './kern_sysctl.js';
import { LOG_ERR, LOG_INFO, LOG_NOTICE, log, log_init, log_ratecheck } from './subr_log.js';

/* A reboot that has not finished after this long exits anyway (a driver stuck in destroy). */
const KERN_SHUTDOWN_TIMEOUT_MS = 10_000;

/*
 * Exit now, without Node's exit path: process.exit() joins every worker
 * thread, and a worker blocked in a system call (a driver's poll() that
 * nobody woke) would hold the process forever.  Only for the watchdog; a
 * clean reboot has stopped the workers and exits normally.
 * XXX _exit belongs with the other libc bindings in sys/arch/linux/libc.ts.
 */
function kern_hard_exit(status: number): never {
	try {
		const c_exit = koffi.load('libc.so.6').func('void _exit(int status)') as (s: number) => void;
		c_exit(status);
	} catch {
		/* no libc: the one exit left */
	}
	process.kill(process.pid, 'SIGKILL');
	throw new Error('unreachable');
}

/*
 * A driver as the kernel configuration lists it: load() brings its code
 * in and returns its attach function (wginit).
 */
export interface kern_module {
	name: string;
	load(): Promise<() => void>;
}

export interface kern_boot_opts {
	/* The drivers to load (sys/arch/linux/conf/GENERIC; default none). */
	modules?: readonly kern_module[];
	/* Cloners to attach besides the modules' (tests attach a dummy one). */
	cloners?: if_clone[];
	/* Reboot on SIGTERM and SIGINT (default true). */
	signals?: boolean;
	/* Log and survive exceptions that escape an event callback (default true). */
	catch_exceptions?: boolean;
	/* Where log lines go (default: standard error). */
	log_write?: (line: string) => void;
	/* Called with the exit status once rebooted (default: process.exit). */
	exit?: (status: number) => void;
	/* How long a reboot may take before the instance exits anyway, status 1 (default 10 s). */
	shutdown_timeout_ms?: number;
}

export interface kern_instance {
	readonly id: number;
	/* Destroy every interface, close the control socket, exit 0. */
	reboot(why: string): Promise<void>;
}

/* Instance ids: what fits an abstract socket name and the shell, a non-negative int. */
export const KERN_ID_MAX = 0x7fffffff;

export function kern_id_ok(id: number): boolean {
	return Number.isInteger(id) && id >= 0 && id <= KERN_ID_MAX;
}

/*
 * Boot instance id in this process.  Resolves once the control socket
 * accepts connections; rejects with "instance N already running" (errno
 * EADDRINUSE) when another live process in this network namespace holds
 * the name.
 */
export async function kern_boot(id: number, opts: kern_boot_opts = {}): Promise<kern_instance> {
	if (!kern_id_ok(id))
		throw Object.assign(new Error(`bad instance id ${id}`), { errno: EINVAL });
	log_init({ tag: `wg-userspace.${id}`, write: opts.log_write });
	const exit = opts.exit ?? ((status: number): void => { process.exit(status); });

	const shutdown_timeout = opts.shutdown_timeout_ms ?? KERN_SHUTDOWN_TIMEOUT_MS;
	let shutting_down: Promise<void> | null = null;
	let watchdog: NodeJS.Timeout | undefined;
	let halted = false;

	/* Interfaces go first, so by the time the socket stops answering their tuns are gone. */
	const shutdown = (why: string): Promise<void> => {
		if (shutting_down === null) {
			log(LOG_NOTICE, 'rebooting: %s', why);
			watchdog = setTimeout(() => {
				log(LOG_ERR, 'reboot did not finish in %d ms: exiting', shutdown_timeout);
				void shim.close();
				kern_hard_exit(1);
			}, shutdown_timeout);
			watchdog.unref();
			shutting_down = if_destroy_all();
		}
		return shutting_down;
	};

	const halt = (status: number): void => {
		if (halted)
			return;
		halted = true;
		void shim.close().then(() => {
			clearTimeout(watchdog);
			log(LOG_NOTICE, 'halted');
			exit(status);
		});
	};

	const reboot = async (why: string): Promise<void> => {
		await shutdown(why);
		halt(0);
	};

	const dispatch = async (req: ShimRequest, cred: kauth_cred): Promise<shim_result> => {
		if (shutting_down !== null)
			return { reply: { errno: EBUSY, msg: 'instance is shutting down' } };
		switch (req.op) {
		case 'ioctl':
			return { reply: await ifioctl(req, cred) };
		case 'sysctl':
			return { reply: kern_sysctl(req, cred) };
		case 'ifconf':
			return { reply: { errno: 0, ifs: ifconf() } };
		case 'reboot':
			if (!kauth_cred_isroot(cred))
				return { reply: { errno: EPERM } };
			/* Answer after the interfaces are gone; exit after the answer is out. */
			await shutdown(`reboot requested by pid ${cred.pid}`);
			return { reply: { errno: 0 }, after: () => halt(0) };
		}
	};

	const shim = new shim_server(id, dispatch);

	/* Cloners before the socket: the first request may already be SIOCIFCREATE. */
	/*
	 * Loaded here rather than imported at the top, as a module is
	 * loaded: an instance whose driver fails to load still boots (and
	 * says why), and one booted without a driver never loads it.
	 */
	for (const m of opts.modules ?? []) {
		try {
			(await m.load())();
		} catch (e) {
			log(LOG_ERR, '%s: driver failed to load: %s', m.name, e instanceof Error ? e.message : String(e));
		}
	}
	for (const ifc of opts.cloners ?? [])
		if_clone_attach(ifc);

	await shim.listen();

	if (opts.signals !== false) {
		for (const sig of ['SIGTERM', 'SIGINT'] as const)
			process.on(sig, () => { void reboot(sig); });
	}
	if (opts.catch_exceptions !== false) {
		process.on('uncaughtException', (e) => {
			log_ratecheck('kern.exception', LOG_ERR, 'uncaught exception: %s', e.stack ?? e.message);
		});
		process.on('unhandledRejection', (e) => {
			log_ratecheck('kern.rejection', LOG_ERR, 'unhandled rejection: %s',
			    e instanceof Error ? e.stack ?? e.message : String(e));
		});
	}
	log(LOG_INFO, 'booted: pid %d, control socket @wg-userspace.%d', process.pid, id);
	return { id, reboot };
}

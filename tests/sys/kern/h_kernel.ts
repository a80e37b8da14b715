// SPDX-License-Identifier: BSD-2-Clause
/*
 * A test kernel: an instance booted without wg(4) and with a dummy
 * cloner "dmy", so the tests of sys/net/if.ts and sys/kern/ do not depend
 * on the driver.  A dmy interface is a real tun device (as a wg one is),
 * so up/down, MTU and addresses reach the Linux interface as for wg.
 *
 *	node h_kernel.js ID	(inside a test namespace; prints "ready")
 *
 * The driver hooks count what they are called with, and two requests are
 * the driver's own, to check dispatch and credentials:
 *   SIOCGDRVSPEC: data = JSON {uid, inits, stops, ioctls}
 *   SIOCSDRVSPEC cmd 1: succeeds (cmd 2: fails EBUSY)
 * IFF_LINK0 set together with IFF_UP makes if_init fail with EIO.
 * A second cloner, "hang", is a stuck driver (below).
 */

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { tun_attach, tun_detach } from '../../../sys/arch/linux/tun.js';
import { kern_boot } from '../../../sys/kern/init_main.js';
import type { if_clone, ifnet, kauth_cred } from '../../../sys/net/if.js';
import { EBUSY, EIO } from '../../../sys/sys/errno.js';
import type { ShimIoctlRequest, ShimReply } from '../../../sys/sys/shim.js';
import { IFF_MULTICAST, IFF_POINTOPOINT, SIOCGDRVSPEC, SIOCSDRVSPEC } from '../../../sys/sys/sockio.js';

const IFF_LINK0 = 0x1000;
const require_koffi = createRequire(import.meta.url).resolve('koffi');

class dmy_softc implements ifnet {
	readonly if_xname: string;
	if_flags = IFF_POINTOPOINT | IFF_MULTICAST;
	if_mtu = 1500;
	if_link_up = false;
	readonly fd: number;
	inits = 0;
	stops = 0;
	ioctls: number[] = [];

	constructor(name: string) {
		this.if_xname = name;
		this.fd = tun_attach(name, { mtu: 1500 }).fd;
	}

	async if_ioctl(req: ShimIoctlRequest, cred: kauth_cred): Promise<ShimReply | null> {
		this.ioctls.push(req.req);
		if (req.req === SIOCGDRVSPEC)
			return { errno: 0, data: JSON.stringify({ uid: cred.uid, inits: this.inits, stops: this.stops, ioctls: this.ioctls }) };
		if (req.req === SIOCSDRVSPEC)
			return req.cmd === 1 ? { errno: 0 } : { errno: EBUSY };
		return null;
	}

	async if_init(): Promise<number> {
		this.inits++;
		return (this.if_flags & IFF_LINK0) !== 0 ? EIO : 0;
	}

	async if_stop(): Promise<void> {
		this.stops++;
	}
}

const dmy_cloner: if_clone = {
	ifc_name: 'dmy',
	async ifc_create(_unit: number, ifname: string): Promise<ifnet> {
		return new dmy_softc(ifname);
	},
	async ifc_destroy(ifp: ifnet): Promise<void> {
		tun_detach((ifp as dmy_softc).fd);
	},
};

/*
 * "hang": a driver stuck for good.  Its interface has a thread blocked in
 * a system call (as a data-path thread nobody woke would be), and its
 * destroy never finishes: the reboot watchdog must still end the process.
 */
const hang_cloner: if_clone = {
	ifc_name: 'hang',
	async ifc_create(_unit: number, ifname: string): Promise<ifnet> {
		const w = new Worker(`
			const koffi = require(${JSON.stringify(require_koffi)});
			koffi.load('libc.so.6').func('unsigned int sleep(unsigned int)')(600);`, { eval: true });
		w.unref();
		const ifp = new dmy_softc(ifname);
		return ifp;
	},
	ifc_destroy(): Promise<void> {
		return new Promise(() => { /* never */ });
	},
};

const id = Number(process.argv[2]);
const shutdown_timeout_ms = process.env.H_KERNEL_SHUTDOWN_MS !== undefined ? Number(process.env.H_KERNEL_SHUTDOWN_MS) : undefined;
kern_boot(id, { cloners: [dmy_cloner, hang_cloner], shutdown_timeout_ms }).then(() => {
	process.stdout.write('ready\n');
}, (e: unknown) => {
	process.stderr.write(`h_kernel: ${e instanceof Error ? e.message : String(e)}\n`);
	process.exit(1);
});

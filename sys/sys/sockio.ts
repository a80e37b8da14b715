// SPDX-License-Identifier: BSD-2-Clause
/*
 * Socket ioctl requests, as NetBSD's <sys/sockio.h> numbers them.
 *
 * The values are NetBSD/amd64's own (_IOW/_IOWR over struct ifreq = 144
 * bytes, struct ifaliasreq = 400, struct in6_aliasreq = 272, struct
 * ifdrv = 40), so a request reads the same here as in a NetBSD ktrace.
 * Linux's numbers for the same operations live in sys/arch/linux/.
 */

const IOC_OUT = 0x40000000;
const IOC_IN = 0x80000000;
const IOC_INOUT = IOC_IN | IOC_OUT;
const IOCPARM_MASK = 0x1fff;

function _IOC(inout: number, group: string, num: number, len: number): number {
	return (inout | ((len & IOCPARM_MASK) << 16) | (group.charCodeAt(0) << 8) | num) >>> 0;
}
const _IOW = (g: string, n: number, len: number): number => _IOC(IOC_IN, g, n, len);
const _IOWR = (g: string, n: number, len: number): number => _IOC(IOC_INOUT, g, n, len);

const SIZEOF_IFREQ = 144;
const SIZEOF_IFALIASREQ = 400;
const SIZEOF_IN6_ALIASREQ = 272;
const SIZEOF_IFDRV = 40;
const SIZEOF_IF_CLONEREQ = 16;

export const SIOCAIFADDR = _IOW('i', 26, SIZEOF_IFALIASREQ);
export const SIOCDIFADDR = _IOW('i', 25, SIZEOF_IFREQ);
export const SIOCSIFFLAGS = _IOW('i', 16, SIZEOF_IFREQ);
export const SIOCGIFFLAGS = _IOWR('i', 17, SIZEOF_IFREQ);
export const SIOCSIFMTU = _IOW('i', 127, SIZEOF_IFREQ);
export const SIOCGIFMTU = _IOWR('i', 126, SIZEOF_IFREQ);
export const SIOCIFCREATE = _IOW('i', 122, SIZEOF_IFREQ);
export const SIOCIFDESTROY = _IOW('i', 121, SIZEOF_IFREQ);
export const SIOCIFGCLONERS = _IOWR('i', 120, SIZEOF_IF_CLONEREQ);
export const SIOCSDRVSPEC = _IOW('i', 123, SIZEOF_IFDRV);
export const SIOCGDRVSPEC = _IOWR('i', 123, SIZEOF_IFDRV);
export const SIOCAIFADDR_IN6 = _IOW('i', 107, SIZEOF_IN6_ALIASREQ);
/* Not a NetBSD request: the shim's "list interfaces with state" (ifconfig -a). */
export const SIOCGIFSTATE_SHIM = _IOWR('i', 250, SIZEOF_IFREQ);

export const IOCTL_NAMES: Readonly<Record<number, string>> = {
	[SIOCAIFADDR]: 'SIOCAIFADDR',
	[SIOCDIFADDR]: 'SIOCDIFADDR',
	[SIOCSIFFLAGS]: 'SIOCSIFFLAGS',
	[SIOCGIFFLAGS]: 'SIOCGIFFLAGS',
	[SIOCSIFMTU]: 'SIOCSIFMTU',
	[SIOCGIFMTU]: 'SIOCGIFMTU',
	[SIOCIFCREATE]: 'SIOCIFCREATE',
	[SIOCIFDESTROY]: 'SIOCIFDESTROY',
	[SIOCIFGCLONERS]: 'SIOCIFGCLONERS',
	[SIOCSDRVSPEC]: 'SIOCSDRVSPEC',
	[SIOCGDRVSPEC]: 'SIOCGDRVSPEC',
	[SIOCAIFADDR_IN6]: 'SIOCAIFADDR_IN6',
	[SIOCGIFSTATE_SHIM]: 'SIOCGIFSTATE',
};

/*
 * Interface flags (NetBSD <net/if.h>; Linux's are LINUX_IFF_* in
 * sys/arch/linux/ifreq.ts and differ: MULTICAST is 0x1000 there).
 */
export const IFF_UP = 0x0001;
export const IFF_BROADCAST = 0x0002;
export const IFF_DEBUG = 0x0004;
export const IFF_LOOPBACK = 0x0008;
export const IFF_POINTOPOINT = 0x0010;
export const IFF_UNNUMBERED = 0x0020;
export const IFF_RUNNING = 0x0040;
export const IFF_NOARP = 0x0080;
export const IFF_PROMISC = 0x0100;
export const IFF_ALLMULTI = 0x0200;
export const IFF_OACTIVE = 0x0400;
export const IFF_SIMPLEX = 0x0800;
export const IFF_LINK0 = 0x1000;
export const IFF_LINK1 = 0x2000;
export const IFF_LINK2 = 0x4000;
export const IFF_MULTICAST = 0x8000;

/* NetBSD's IFFBITS: the flag names ifconfig prints, bit 0 first. */
export const IFFBITS: readonly string[] = [
	'UP', 'BROADCAST', 'DEBUG', 'LOOPBACK', 'POINTOPOINT', 'UNNUMBERED', 'RUNNING', 'NOARP',
	'PROMISC', 'ALLMULTI', 'OACTIVE', 'SIMPLEX', 'LINK0', 'LINK1', 'LINK2', 'MULTICAST',
];

export const IFNAMSIZ = 16;

/*
 * A name Linux accepts for an interface (dev_valid_name): 1 to 15 bytes,
 * not "." or "..", no "/", ":" or white space.
 */
export function if_linux_name_ok(name: string): boolean {
	const n = Buffer.byteLength(name);
	return n > 0 && n < IFNAMSIZ && name !== '.' && name !== '..' && !/[/:\s]/.test(name);
}

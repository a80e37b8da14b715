// SPDX-License-Identifier: BSD-2-Clause
/*
 * libc.so.6 through koffi: the few system calls the host bindings need.
 *
 * Error convention (the whole of sys/arch/linux/ follows it):
 *
 *  - The functions in this file never throw for a failed call.  They
 *    return what the system call returns when it succeeds (>= 0) and
 *    -errno when it fails, as a Linux kernel function would.  The data
 *    path (tun read/write, UDP send/receive, poll) relies on this: no
 *    exception and no allocation per packet.
 *  - The control path (tun_attach, the ifreq ioctls, udp_open,
 *    peercred) throws an ErrnoError (sys/sys/errno.ts), which
 *    carries .errno (positive Linux errno), .code ("ENODEV") and a
 *    message naming the call and the object:
 *    "ioctl(SIOCSIFMTU) wg0: Invalid argument".
 *
 * Pointer arguments come in two flavours.  A `void *` parameter takes
 * a typed array (koffi passes its data pointer, honouring byteOffset,
 * no copy).  The `*_addr` variants take the address as a plain number
 * instead: the hot path computes base + offset without creating a
 * subarray per packet.  Addresses come from ptr_of(), and only for
 * memory that never moves: ArrayBuffer and SharedArrayBuffer backing
 * stores (never transfer or detach such a buffer while it is in use).
 *
 * Every descriptor made here is close-on-exec (open, socket and eventfd
 * add O_CLOEXEC / SOCK_CLOEXEC / EFD_CLOEXEC): a child spawned by the
 * kernel instance must not inherit a tun or the listen sockets.
 *
 * koffi loads in every worker_thread; each isolate gets its own
 * instance of this module and its own scratch buffers, so nothing here
 * is shared between threads.  errno is per thread as well.
 */

import koffi from 'koffi';
import { ErrnoError } from '../../sys/errno.js';
import { IFNAMSIZ } from '../../sys/sockio.js';

const lib = koffi.load('libc.so.6');

/* Buffers, typed arrays and DataViews can stand for a `void *`. */
export type ptr_t = ArrayBufferView | null;

/* --- raw bindings (return -1 and set errno) --- */

const c_open = lib.func('int open(const char *path, int flags, int mode)') as (p: string, f: number, m: number) => number;
const c_close = lib.func('int close(int fd)') as (fd: number) => number;
const c_read = lib.func('intptr_t read(int fd, void *buf, size_t n)') as (fd: number, b: ptr_t, n: number) => number;
const c_write = lib.func('intptr_t write(int fd, const void *buf, size_t n)') as (fd: number, b: ptr_t, n: number) => number;
const c_read_addr = lib.func('read', 'intptr_t', ['int', 'uintptr_t', 'size_t']) as (fd: number, a: number, n: number) => number;
const c_write_addr = lib.func('write', 'intptr_t', ['int', 'uintptr_t', 'size_t']) as (fd: number, a: number, n: number) => number;
/*
 * ioctl() and fcntl() are variadic; on x86_64 (SysV) calling them
 * through a fixed prototype is what C code does after promotion, and
 * avoids koffi's slower variadic path.
 */
const c_ioctl = lib.func('ioctl', 'int', ['int', 'unsigned long', 'void *']) as (fd: number, r: number, b: ptr_t) => number;
const c_ioctl_int = lib.func('ioctl', 'int', ['int', 'unsigned long', 'unsigned long']) as (fd: number, r: number, v: number) => number;
const c_fcntl = lib.func('fcntl', 'int', ['int', 'int', 'long']) as (fd: number, cmd: number, arg: number) => number;
const c_socket = lib.func('int socket(int domain, int type, int protocol)') as (d: number, t: number, p: number) => number;
const c_socketpair = lib.func('int socketpair(int domain, int type, int protocol, void *sv)') as
	(d: number, t: number, p: number, sv: ptr_t) => number;
const c_bind = lib.func('int bind(int fd, const void *sa, uint32_t salen)') as (fd: number, sa: ptr_t, l: number) => number;
const c_connect = lib.func('int connect(int fd, const void *sa, uint32_t salen)') as (fd: number, sa: ptr_t, l: number) => number;
const c_setsockopt = lib.func('int setsockopt(int fd, int level, int name, const void *val, uint32_t len)') as
	(fd: number, lv: number, nm: number, v: ptr_t, l: number) => number;
const c_getsockopt = lib.func('int getsockopt(int fd, int level, int name, void *val, void *lenp)') as
	(fd: number, lv: number, nm: number, v: ptr_t, lp: ptr_t) => number;
const c_getsockname = lib.func('int getsockname(int fd, void *sa, void *lenp)') as (fd: number, sa: ptr_t, lp: ptr_t) => number;
const c_sendto_addr = lib.func('sendto', 'intptr_t', ['int', 'uintptr_t', 'size_t', 'int', 'uintptr_t', 'uint32_t']) as
	(fd: number, b: number, n: number, fl: number, sa: number, sl: number) => number;
const c_recvfrom_addr = lib.func('recvfrom', 'intptr_t', ['int', 'uintptr_t', 'size_t', 'int', 'uintptr_t', 'uintptr_t']) as
	(fd: number, b: number, n: number, fl: number, sa: number, slp: number) => number;
const c_sendmmsg_addr = lib.func('sendmmsg', 'int', ['int', 'uintptr_t', 'unsigned int', 'int']) as
	(fd: number, v: number, n: number, fl: number) => number;
const c_recvmmsg_addr = lib.func('recvmmsg', 'int', ['int', 'uintptr_t', 'unsigned int', 'int', 'uintptr_t']) as
	(fd: number, v: number, n: number, fl: number, ts: number) => number;
const c_poll_addr = lib.func('poll', 'int', ['uintptr_t', 'unsigned long', 'int']) as (p: number, n: number, t: number) => number;
const c_eventfd = lib.func('int eventfd(unsigned int initval, int flags)') as (v: number, f: number) => number;
const c_if_nametoindex = lib.func('unsigned int if_nametoindex(const char *name)') as (n: string) => number;
const c_if_indextoname = lib.func('if_indextoname', 'uintptr_t', ['unsigned int', 'void *']) as (i: number, b: ptr_t) => number;
const c_setns = lib.func('int setns(int fd, int nstype)') as (fd: number, t: number) => number;
const c_getpid = lib.func('int getpid(void)') as () => number;
const c_getppid = lib.func('int getppid(void)') as () => number;
const c_gettid = lib.func('int gettid(void)') as () => number;
const c_strerror = lib.func('const char *strerror(int errnum)') as (e: number) => string;

/* --- constants (Linux, x86_64) --- */

export const O_RDONLY = 0x0;
export const O_WRONLY = 0x1;
export const O_RDWR = 0x2;
export const O_NONBLOCK = 0x800;
export const O_CLOEXEC = 0x80000;

export const F_GETFL = 3;
export const F_SETFL = 4;

export const LINUX_AF_UNIX = 1;
export const LINUX_AF_INET = 2;
export const LINUX_AF_INET6 = 10;
export const LINUX_AF_NETLINK = 16;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0x800;
export const SOCK_CLOEXEC = 0x80000;
export const IPPROTO_IP = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ICMPV6 = 58;

export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_ERROR = 4;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_PEERCRED = 17;
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;
export const SO_MARK = 36;
export const IPV6_V6ONLY = 26;

export const MSG_DONTWAIT = 0x40;
export const MSG_TRUNC = 0x20;
export const MSG_WAITFORONE = 0x10000;

export const POLLIN = 0x001;
export const POLLPRI = 0x002;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const POLLNVAL = 0x020;

export const EFD_SEMAPHORE = 0x1;
export const EFD_NONBLOCK = 0x800;
export const EFD_CLOEXEC = 0x80000;

export const CLONE_NEWNET = 0x40000000;

/* errno values (Linux numbering), one table for the tree: sys/sys/errno.ts. */
export {
	EPERM, ENOENT, EINTR, EIO, EBADF, EAGAIN, ENOMEM, EACCES, EFAULT, EBUSY, EEXIST,
	ENODEV, EINVAL, ENOSPC, ENXIO, ENOTSOCK, EMSGSIZE, EAFNOSUPPORT, EADDRINUSE,
	EADDRNOTAVAIL, ENETDOWN, ENETUNREACH, ENOBUFS, ECONNREFUSED, EHOSTUNREACH, EBADFD,
	ErrnoError, errno_name,
} from '../../sys/errno.js';

/* --- errno and errors --- */

/* The errno of the last failed call on this thread, saved by koffi. */
export function errno(): number {
	return koffi.errno();
}

/* -1 from libc becomes -errno; anything else passes through. */
function rv(r: number): number {
	return r === -1 ? -koffi.errno() : r;
}

export function strerror(err: number): string {
	if (err < 0)
		err = -err;
	return c_strerror(err);
}

/*
 * The error the control path throws (sys/sys/errno.ts's one class):
 * errno positive, message "<syscall>[ <object>]: <host strerror>".
 */
export function syserr(syscall: string, err: number, object?: string): ErrnoError {
	return new ErrnoError(err, `${syscall}${object !== undefined ? ' ' + object : ''}: ${strerror(err)}`, syscall);
}

/* Throws when r is -errno; returns r otherwise. */
export function check(r: number, syscall: string, object?: string): number {
	if (r < 0)
		throw syserr(syscall, r, object);
	return r;
}

/* --- memory --- */

/*
 * Zeroed bytes whose address never changes (a fresh ArrayBuffer's
 * backing store lives outside the V8 heap), so their address may be
 * stored in a struct the kernel reads later (iovec, msghdr).
 */
export function stable_bytes(n: number, shared = false): Uint8Array {
	return new Uint8Array(shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n));
}

/*
 * The address of v's first byte, as a number (x86_64 user addresses
 * fit in 47 bits).  Reading .buffer first moves a small on-heap typed
 * array's bytes off the heap for good, so the address stays valid for
 * the buffer's life.  Costs one koffi call and a BigInt: do it once per
 * buffer, not per packet.
 */
export function ptr_of(v: ArrayBufferView): number {
	void v.buffer;
	return Number(koffi.address(v));
}

/* --- system calls: >= 0 on success, -errno on failure --- */

export function open(path: string, flags: number, mode = 0): number {
	return rv(c_open(path, flags | O_CLOEXEC, mode));
}

export function close(fd: number): number {
	return rv(c_close(fd));
}

export function read(fd: number, buf: ptr_t, len: number): number {
	return rv(c_read(fd, buf, len));
}

export function write(fd: number, buf: ptr_t, len: number): number {
	return rv(c_write(fd, buf, len));
}

/*
 * Unchecked: the caller guarantees [addr, addr+len) lies in a buffer it
 * owns (a wrong range is memory corruption, not an error code).
 */
export function read_addr(fd: number, addr: number, len: number): number {
	return rv(c_read_addr(fd, addr, len));
}

export function write_addr(fd: number, addr: number, len: number): number {
	return rv(c_write_addr(fd, addr, len));
}

export function ioctl(fd: number, req: number, arg: ptr_t): number {
	return rv(c_ioctl(fd, req, arg));
}

export function ioctl_int(fd: number, req: number, arg: number): number {
	return rv(c_ioctl_int(fd, req, arg));
}

export function fcntl(fd: number, cmd: number, arg = 0): number {
	return rv(c_fcntl(fd, cmd, arg));
}

/* Sets or clears O_NONBLOCK; 0 or -errno. */
export function set_nonblock(fd: number, on: boolean): number {
	const fl = rv(c_fcntl(fd, F_GETFL, 0));
	if (fl < 0)
		return fl;
	const nfl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return nfl === fl ? 0 : rv(c_fcntl(fd, F_SETFL, nfl));
}

export function socket(domain: number, type: number, protocol = 0): number {
	return rv(c_socket(domain, type | SOCK_CLOEXEC, protocol));
}

/* Both descriptors in sv[0], sv[1]; 0 or -errno. */
export function socketpair(domain: number, type: number, protocol: number, sv: Int32Array): number {
	return rv(c_socketpair(domain, type | SOCK_CLOEXEC, protocol, sv));
}

export function bind(fd: number, sa: ptr_t, salen: number): number {
	return rv(c_bind(fd, sa, salen));
}

export function connect(fd: number, sa: ptr_t, salen: number): number {
	return rv(c_connect(fd, sa, salen));
}

export function setsockopt(fd: number, level: number, name: number, val: ptr_t, len: number): number {
	return rv(c_setsockopt(fd, level, name, val, len));
}

/* lenp: a Uint32Array whose [0] holds the buffer size in, the length out. */
export function getsockopt(fd: number, level: number, name: number, val: ptr_t, lenp: Uint32Array): number {
	return rv(c_getsockopt(fd, level, name, val, lenp));
}

export function getsockname(fd: number, sa: ptr_t, lenp: Uint32Array): number {
	return rv(c_getsockname(fd, sa, lenp));
}

/* Scratch for the int socket options; per isolate, so per thread. */
const optval = new Int32Array(new ArrayBuffer(8));
const optlen = new Uint32Array(new ArrayBuffer(4));

export function setsockopt_int(fd: number, level: number, name: number, val: number): number {
	optval[0] = val;
	return rv(c_setsockopt(fd, level, name, optval, 4));
}

/* The option's value (>= 0 for the options used here) or -errno. */
export function getsockopt_int(fd: number, level: number, name: number): number {
	optval[0] = 0;
	optlen[0] = 4;
	const r = rv(c_getsockopt(fd, level, name, optval, optlen));
	return r < 0 ? r : optval[0];
}

export function sendto_addr(fd: number, buf: number, len: number, flags: number, sa: number, salen: number): number {
	return rv(c_sendto_addr(fd, buf, len, flags, sa, salen));
}

/* salenp: address of a socklen_t holding the sockaddr size (reset it before each call). */
export function recvfrom_addr(fd: number, buf: number, len: number, flags: number, sa: number, salenp: number): number {
	return rv(c_recvfrom_addr(fd, buf, len, flags, sa, salenp));
}

export function sendmmsg_addr(fd: number, vec: number, vlen: number, flags: number): number {
	return rv(c_sendmmsg_addr(fd, vec, vlen, flags));
}

/* timeout: address of a struct timespec, or 0 for none. */
export function recvmmsg_addr(fd: number, vec: number, vlen: number, flags: number, timeout = 0): number {
	return rv(c_recvmmsg_addr(fd, vec, vlen, flags, timeout));
}

export function poll_addr(fds: number, nfds: number, timeout_ms: number): number {
	return rv(c_poll_addr(fds, nfds, timeout_ms));
}

export function eventfd(initval: number, flags: number): number {
	return rv(c_eventfd(initval, flags | EFD_CLOEXEC));
}

/* The index, or -errno (ENODEV for an unknown name). */
export function if_nametoindex(name: string): number {
	const r = c_if_nametoindex(name);
	return r === 0 ? -koffi.errno() : r;
}

/* The interface's name, or null (ENXIO) when no interface has that index. */
export function if_indextoname(index: number): string | null {
	const buf = new Uint8Array(IFNAMSIZ);
	if (!Number.isInteger(index) || index <= 0 || index > 0xffffffff || c_if_indextoname(index, buf) === 0)
		return null;
	const end = buf.indexOf(0);
	return Buffer.from(buf.buffer, 0, end < 0 ? IFNAMSIZ : end).toString('latin1');
}

/*
 * IPv6 zones as interface names in this thread's netns, where the UDP
 * sockets are (the UAPI's uapi_zones): 0 / null for an unknown one.
 */
export const if_zones = {
	index: (name: string): number => Math.max(if_nametoindex(name), 0),
	name: if_indextoname,
};

/*
 * Moves the calling thread (only it) into the namespace open at fd:
 * a netns is per thread on Linux, and sockets and tuns belong to the
 * netns of the thread that creates them.
 */
export function setns(fd: number, nstype: number): number {
	return rv(c_setns(fd, nstype));
}

export function getpid(): number {
	return c_getpid();
}

export function getppid(): number {
	return c_getppid();
}

export function gettid(): number {
	return c_gettid();
}

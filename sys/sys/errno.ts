// SPDX-License-Identifier: BSD-2-Clause
/*
 * Error numbers.  The kernel is hosted on Linux and errno values travel
 * through the ioctl shim, so the numbers are Linux's; the messages are
 * NetBSD's strerror(3) texts, so tools print what NetBSD prints.
 */

export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EIO = 5;
export const ENXIO = 6;
export const E2BIG = 7;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const EINVAL = 22;
export const ENFILE = 23;
export const EMFILE = 24;
export const ENOTTY = 25;
export const ENOSPC = 28;
export const EPIPE = 32;
export const ERANGE = 34;
export const ENAMETOOLONG = 36;
export const ENOSYS = 38;
export const ELOOP = 40;
export const EMSGSIZE = 90;
export const EPROTONOSUPPORT = 93;
export const EOPNOTSUPP = 95;
export const EPFNOSUPPORT = 96;
export const EAFNOSUPPORT = 97;
export const EADDRINUSE = 98;
export const EADDRNOTAVAIL = 99;
export const ENETDOWN = 100;
export const ENETUNREACH = 101;
export const ENOBUFS = 105;
export const ETIMEDOUT = 110;
export const ECONNREFUSED = 111;
export const EHOSTUNREACH = 113;
export const ENOTSOCK = 88;
export const EBADFD = 77;
export const EDESTADDRREQ = 89;
export const ECONNRESET = 104;
export const ENOTCONN = 107;
export const ENOTEMPTY = 39;
export const EROFS = 30;
export const EXDEV = 18;
export const EPROTO = 71;

/* NetBSD's messages (lib/libc/gen/errlist.c). */
export const ERRNO_MESSAGES: Readonly<Record<number, string>> = {
	[EPERM]: 'Operation not permitted',
	[ENOENT]: 'No such file or directory',
	[ESRCH]: 'No such process',
	[EINTR]: 'Interrupted system call',
	[EIO]: 'Input/output error',
	[ENXIO]: 'Device not configured',
	[E2BIG]: 'Argument list too long',
	[EBADF]: 'Bad file descriptor',
	[EAGAIN]: 'Resource temporarily unavailable',
	[ENOMEM]: 'Cannot allocate memory',
	[EACCES]: 'Permission denied',
	[EFAULT]: 'Bad address',
	[EBUSY]: 'Device busy',
	[EEXIST]: 'File exists',
	[ENODEV]: 'Operation not supported by device',
	[ENOTDIR]: 'Not a directory',
	[EISDIR]: 'Is a directory',
	[EINVAL]: 'Invalid argument',
	[ENFILE]: 'Too many open files in system',
	[EMFILE]: 'Too many open files',
	[ENOTTY]: 'Inappropriate ioctl for device',
	[ENOSPC]: 'No space left on device',
	[EPIPE]: 'Broken pipe',
	[ERANGE]: 'Result too large or too small',
	[ENAMETOOLONG]: 'File name too long',
	[ENOSYS]: 'Function not implemented',
	[ELOOP]: 'Too many levels of symbolic links',
	[EMSGSIZE]: 'Message too long',
	[EPROTONOSUPPORT]: 'Protocol not supported',
	[EOPNOTSUPP]: 'Operation not supported',
	[EPFNOSUPPORT]: 'Protocol family not supported',
	[EAFNOSUPPORT]: 'Address family not supported by protocol family',
	[EADDRINUSE]: 'Address already in use',
	[EADDRNOTAVAIL]: 'Can\'t assign requested address',
	[ENETDOWN]: 'Network is down',
	[ENETUNREACH]: 'Network is unreachable',
	[ENOBUFS]: 'No buffer space available',
	[ETIMEDOUT]: 'Connection timed out',
	[ECONNREFUSED]: 'Connection refused',
	[EHOSTUNREACH]: 'No route to host',
	[ENOTSOCK]: 'Socket operation on non-socket',
	[EBADFD]: 'File descriptor in bad state',
	[EDESTADDRREQ]: 'Destination address required',
	[ECONNRESET]: 'Connection reset by peer',
	[ENOTCONN]: 'Socket is not connected',
	[ENOTEMPTY]: 'Directory not empty',
	[EROFS]: 'Read-only file system',
	[EXDEV]: 'Cross-device link',
	[EPROTO]: 'Protocol error',
};

/* Node reports a failed system call by name (err.code "ENOENT"). */
const ERRNO_BY_NAME: Readonly<Record<string, number>> = {
	EPERM, ENOENT, ESRCH, EINTR, EIO, ENXIO, E2BIG, EBADF, EAGAIN, ENOMEM, EACCES, EFAULT,
	EBUSY, EEXIST, ENODEV, ENOTDIR, EISDIR, EINVAL, ENFILE, EMFILE, ENOTTY, ENOSPC, EPIPE,
	ERANGE, ENAMETOOLONG, ENOSYS, ELOOP, EMSGSIZE, EPROTONOSUPPORT, EOPNOTSUPP, EPFNOSUPPORT,
	EAFNOSUPPORT, EADDRINUSE, EADDRNOTAVAIL, ENETDOWN, ENETUNREACH, ENOBUFS, ETIMEDOUT,
	ECONNREFUSED, EHOSTUNREACH, ENOTSOCK, EBADFD, EDESTADDRREQ, ECONNRESET, ENOTCONN,
	ENOTEMPTY, EROFS, EXDEV, EPROTO,
};

const ERRNO_NAMES: Readonly<Record<number, string>> =
    Object.fromEntries(Object.entries(ERRNO_BY_NAME).map(([name, n]) => [n, name]));

/* "ENODEV" for 19; "E<n>" for a number the table does not know. */
export function errno_name(errno: number): string {
	if (errno < 0)
		errno = -errno;
	return ERRNO_NAMES[errno] ?? `E${errno}`;
}

/* strerror(3), with NetBSD's texts. */
export function strerror(errno: number): string {
	return ERRNO_MESSAGES[errno] ?? `Unknown error: ${errno}`;
}

/*
 * The one error class for a failure that has an errno: the kernel's
 * ioctl and sysctl handlers, the WireGuard core and the host bindings
 * all throw it, and the errno travels to the tool unchanged.
 */
export class ErrnoError extends Error {
	readonly errno: number;		/* positive */
	readonly code: string;		/* "EINVAL" */
	readonly syscall: string | undefined;	/* the failed system call, from the host bindings */

	constructor(errno: number, message: string, syscall?: string) {
		super(message);
		this.name = 'ErrnoError';
		this.errno = errno < 0 ? -errno : errno;
		this.code = errno_name(this.errno);
		this.syscall = syscall;
	}
}

/*
 * The errno an exception carries: ours (.errno > 0), or a Node system
 * error's (.code "ENOENT"); EIO for anything else.
 */
export function errno_of(e: unknown): number {
	if (typeof e !== 'object' || e === null)
		return EIO;
	const { errno, code } = e as { errno?: unknown; code?: unknown };
	if (typeof errno === 'number' && Number.isInteger(errno) && errno > 0)
		return errno;
	if (typeof code === 'string')
		return ERRNO_BY_NAME[code] ?? EIO;
	return EIO;
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * SO_PEERCRED: who is at the other end of a connected UNIX socket.
 * The kernel instance checks every control connection with it (NetBSD
 * kauth: setting needs root, a get from anyone else hides keys).  For a
 * Node net.Socket pass socket._handle.fd (see socket_fd()).
 */

import { EBADF, SOL_SOCKET, SO_PEERCRED, syserr, check, getsockopt } from './libc.js';

export interface ucred {
	pid: number;
	uid: number;
	gid: number;
}

/* The peer's credentials as of connect(); throws an ErrnoError (ENOTSOCK, EBADF, ...). */
export function peercred(fd: number): ucred {
	const cred = new Int32Array(3);	/* struct ucred { pid_t; uid_t; gid_t; } */
	const len = new Uint32Array([12]);
	check(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, len), 'getsockopt(SO_PEERCRED)', `fd ${fd}`);
	return { pid: cred[0], uid: cred[1] >>> 0, gid: cred[2] >>> 0 };
}

/*
 * The descriptor under a connected net.Socket (Node keeps it in the
 * internal handle); throws EBADF when the socket has none (not yet
 * connected, or destroyed).
 */
export function socket_fd(sock: object): number {
	const h = (sock as { _handle?: { fd?: unknown } })._handle;
	const fd = h?.fd;
	if (typeof fd !== 'number' || fd < 0)
		throw syserr('getsockopt(SO_PEERCRED)', EBADF, 'socket has no fd');
	return fd;
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * SO_PEERCRED on both ends of a Node net.Server connection over an
 * abstract UNIX socket, as the kernel instance's control socket uses it.
 * It requires root: a client runs as nobody (uid 65534).
 */

import t from 'tap';
import { once } from 'node:events';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { EBADF, ErrnoError, close, eventfd, getpid } from '../../../../sys/arch/linux/libc.js';
import { peercred, socket_fd } from '../../../../sys/arch/linux/peercred.js';

import { ENOTSOCK } from '../../../../sys/sys/errno.js';

function err(f: () => unknown): ErrnoError | null {
	try {
		f();
	} catch (e) {
		return e instanceof ErrnoError ? e : null;
	}
	return null;
}

t.test('credentials of both ends of an abstract-socket connection', async (t) => {
	const path = `\0wgtest-${process.pid}`;
	const server = net.createServer();
	const accepted = once(server, 'connection');
	server.listen(path);
	await once(server, 'listening');
	t.teardown(() => server.close());

	const client = net.connect(path);
	await once(client, 'connect');
	const [conn] = (await accepted) as [net.Socket];
	t.teardown(() => {
		client.destroy();
		conn.destroy();
	});

	const sfd = socket_fd(conn);
	const cfd = socket_fd(client);
	t.not(sfd, cfd, 'two descriptors');
	const of_client = peercred(sfd);
	t.same(of_client, { pid: process.pid, uid: 0, gid: 0 }, 'server sees the client: our pid, root');
	t.equal(of_client.pid, getpid(), 'getpid agrees');
	t.same(peercred(cfd), { pid: process.pid, uid: 0, gid: 0 }, 'client sees the server (listen-time creds)');

	/* The connection still works after the getsockopt calls. */
	client.write('ping');
	const [data] = (await once(conn, 'data')) as [Buffer];
	t.equal(data.toString(), 'ping');
});

t.test('an unprivileged client is told apart', async (t) => {
	const path = `\0wgtest-${process.pid}-nobody`;
	const server = net.createServer();
	const accepted = once(server, 'connection');
	server.listen(path);
	await once(server, 'listening');
	t.teardown(() => server.close());
	const code = "const c = require('net').connect(String.fromCharCode(0) + process.argv[1]); c.on('connect', () => c.end('x'));";
	const child = spawn(process.execPath, ['-e', code, path.slice(1)], { uid: 65534, gid: 65534, stdio: 'ignore' });
	const exited = once(child, 'exit');
	const [conn] = (await accepted) as [net.Socket];
	t.same(peercred(socket_fd(conn)), { pid: child.pid, uid: 65534, gid: 65534 }, 'nobody, with its pid');
	conn.destroy();
	await exited;
});

t.test('errors are ErrnoErrors with errno', async (t) => {
	const efd = eventfd(0, 0);
	t.ok(efd >= 0);
	t.match(err(() => peercred(efd)), { errno: ENOTSOCK, code: 'ENOTSOCK', message: /^getsockopt\(SO_PEERCRED\) fd \d+: / });
	close(efd);
	t.match(err(() => peercred(-1)), { errno: EBADF });
	t.match(err(() => socket_fd(new net.Socket())), { errno: EBADF }, 'unconnected socket has no fd');
	t.match(err(() => socket_fd({})), { errno: EBADF });
});

// SPDX-License-Identifier: BSD-2-Clause
/*
 * The libc bindings' conventions: -errno return values, ErrnoError
 * fields and messages, pointers into ArrayBuffers.
 */

import t from 'tap';
import {
	EBADF, EINVAL, ENODEV, ENOENT, F_GETFL, O_NONBLOCK, O_RDONLY, O_RDWR, syserr, check, close,
	errno_name, fcntl, getpid, getppid, gettid, if_nametoindex, open, ptr_of, read, read_addr,
	set_nonblock, stable_bytes, strerror, write, write_addr,
} from '../../../../sys/arch/linux/libc.js';
import { eventfd_open } from '../../../../sys/arch/linux/poll.js';

t.test('failures come back as -errno', async (t) => {
	t.equal(close(-1), -EBADF);
	t.equal(open('/nonexistent/x', O_RDONLY), -ENOENT);
	t.equal(read(-1, new Uint8Array(4), 4), -EBADF);
	t.equal(write(12345, new Uint8Array(4), 4), -EBADF);
	t.equal(if_nametoindex('nosuch0'), -ENODEV);
	t.equal(if_nametoindex('lo'), 1);
	t.equal(fcntl(-1, F_GETFL), -EBADF);
});

t.test('ErrnoError', async (t) => {
	const e = syserr('ioctl(SIOCSIFMTU)', -EINVAL, 'wg0');
	t.equal(e.errno, EINVAL, 'positive errno');
	t.equal(e.code, 'EINVAL');
	t.equal(e.syscall, 'ioctl(SIOCSIFMTU)');
	t.equal(e.message, 'ioctl(SIOCSIFMTU) wg0: Invalid argument');
	t.ok(e instanceof Error);
	t.equal(syserr('open', ENOENT).message, 'open: No such file or directory');
	t.equal(check(5, 'x'), 5);
	t.throws(() => check(-ENODEV, 'ioctl(SIOCGIFINDEX)', 'nosuch0'), { errno: ENODEV, message: 'ioctl(SIOCGIFINDEX) nosuch0: No such device' });
	t.equal(errno_name(9999), 'E9999');
	t.equal(errno_name(-EBADF), 'EBADF');
	t.equal(strerror(EBADF), 'Bad file descriptor');
});

t.test('pointers and fd flags', async (t) => {
	const fd = eventfd_open();
	t.teardown(() => close(fd));
	t.ok(fcntl(fd, F_GETFL) & O_NONBLOCK, 'eventfd is non-blocking');
	t.equal(set_nonblock(fd, false), 0);
	t.notOk(fcntl(fd, F_GETFL) & O_NONBLOCK);
	t.equal(set_nonblock(fd, true), 0);
	t.ok(fcntl(fd, F_GETFL) & O_NONBLOCK);

	/* write_addr/read_addr at an offset inside a stable buffer. */
	const b = stable_bytes(64);
	const a = ptr_of(b);
	t.ok(a > 0 && Number.isSafeInteger(a), 'address is a plain number');
	t.equal(ptr_of(b.subarray(8)), a + 8, 'byteOffset honoured');
	b.set([5, 0, 0, 0, 0, 0, 0, 0], 16);
	t.equal(write_addr(fd, a + 16, 8), 8);
	t.equal(read_addr(fd, a + 40, 8), 8);
	t.equal(b[40], 5, 'counter read back at the offset');
	const small = new Uint8Array(8);
	const sa = ptr_of(small);
	t.equal(ptr_of(small), sa, 'a small array keeps its address once moved off-heap');

	const tun = open('/dev/net/tun', O_RDWR);
	t.ok(tun >= 0, 'open returns an fd');
	t.equal(close(tun), 0);
});

t.test('process and thread ids', async (t) => {
	t.equal(getpid(), process.pid);
	t.equal(getppid(), process.ppid);
	t.equal(gettid(), process.pid, 'the main thread is the thread group leader');
});

// SPDX-License-Identifier: BSD-2-Clause
/*
 * poll(2) on a preallocated struct pollfd array, and eventfd(2) to wake
 * a worker thread blocked in it.
 *
 * A worker owns one PollSet and calls poll() synchronously: the koffi
 * call blocks that thread only.  Another thread (or the main one) wakes
 * it with eventfd_signal() on an eventfd the worker polls for POLLIN;
 * fd numbers are process-wide, so pass the number through workerData.
 * Return values follow libc.ts: >= 0, or -errno, never an exception.
 */

import {
	EAGAIN, EFD_NONBLOCK, check, eventfd, poll_addr, ptr_of, read_addr, stable_bytes,
	write_addr,
} from './libc.js';

export { POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL } from './libc.js';

const SIZEOF_POLLFD = 8;	/* int fd; short events; short revents; */

export class PollSet {
	readonly cap: number;
	/* The struct pollfd array; fd of slot i at fds[2*i], events at ev[4*i+2], revents at ev[4*i+3]. */
	readonly fds: Int32Array;
	readonly ev: Int16Array;
	nfds = 0;
	private readonly addr: number;

	constructor(cap: number) {
		this.cap = cap;
		const b = stable_bytes(cap * SIZEOF_POLLFD);
		this.fds = new Int32Array(b.buffer);
		this.ev = new Int16Array(b.buffer);
		this.addr = ptr_of(b);
	}

	/* Appends fd; returns its slot, or -1 when full. */
	add(fd: number, events: number): number {
		if (this.nfds >= this.cap)
			return -1;
		const i = this.nfds++;
		this.set(i, fd, events);
		return i;
	}

	/* A negative fd makes poll() skip the slot. */
	set(i: number, fd: number, events: number): void {
		this.fds[2 * i] = fd;
		this.ev[4 * i + 2] = events;
		this.ev[4 * i + 3] = 0;
	}

	fd(i: number): number {
		return this.fds[2 * i];
	}

	revents(i: number): number {
		return this.ev[4 * i + 3] & 0xffff;
	}

	/* Number of slots with revents, 0 on timeout, -errno (-EINTR) on failure; -1 ms waits forever. */
	poll(timeout_ms: number): number {
		return poll_addr(this.addr, this.nfds, timeout_ms);
	}
}

/* A non-blocking, close-on-exec eventfd; throws an ErrnoError on failure. */
export function eventfd_open(initval = 0): number {
	return check(eventfd(initval, EFD_NONBLOCK), 'eventfd');
}

/* Per-isolate scratch: each thread has its own. */
const scratch = stable_bytes(8);
const scratch_u32 = new Uint32Array(scratch.buffer);
const scratch_addr = ptr_of(scratch);

/* Adds n (default 1) to the counter, making the fd readable.  0 or -errno. */
export function eventfd_signal(fd: number, n = 1): number {
	scratch_u32[0] = n;
	scratch_u32[1] = 0;
	const r = write_addr(fd, scratch_addr, 8);
	return r < 0 ? r : 0;
}

/* Reads and resets the counter: its value, 0 if it was zero, or -errno. */
export function eventfd_drain(fd: number): number {
	const r = read_addr(fd, scratch_addr, 8);
	if (r === -EAGAIN)
		return 0;
	if (r < 0)
		return r;
	return scratch_u32[0] + scratch_u32[1] * 0x100000000;
}

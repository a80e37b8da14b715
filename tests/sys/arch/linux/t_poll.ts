// SPDX-License-Identifier: BSD-2-Clause
/*
 * poll() on a preallocated pollfd array, and a worker thread blocked in
 * poll() woken by an eventfd from the main thread (koffi in a Worker).
 */

import t from 'tap';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { EBADF, close, gettid } from '../../../../sys/arch/linux/libc.js';
import {
	POLLIN, POLLNVAL, POLLOUT, PollSet, eventfd_drain, eventfd_open, eventfd_signal,
} from '../../../../sys/arch/linux/poll.js';
import { UdpIo, udp_close, udp_open, udp_port } from '../../../../sys/arch/linux/udp.js';
import { netns_create } from '../../../harness/netns_thread.js';

const ns = netns_create('poll');
t.teardown(() => ns.destroy());
ns.enter();

t.test('eventfd and poll on one thread', async (t) => {
	const efd = eventfd_open();
	t.teardown(() => close(efd));
	const ps = new PollSet(4);
	t.equal(ps.add(efd, POLLIN), 0);
	t.equal(ps.poll(0), 0, 'nothing ready');
	t.equal(eventfd_drain(efd), 0, 'empty counter');
	t.equal(eventfd_signal(efd), 0);
	t.equal(eventfd_signal(efd, 2), 0);
	t.equal(ps.poll(0), 1);
	t.equal(ps.revents(0), POLLIN);
	t.equal(eventfd_drain(efd), 3, 'counter summed');
	t.equal(ps.poll(0), 0, 'drained');

	const u = udp_open(4, 0, { nonblock: true });
	t.teardown(() => udp_close(u));
	t.equal(ps.add(u, POLLIN | POLLOUT), 1);
	t.equal(ps.poll(0), 1, 'udp writable');
	t.equal(ps.revents(1), POLLOUT);
	ps.set(1, -1, POLLIN);
	t.equal(ps.poll(0), 0, 'a negative fd is skipped');
	ps.set(1, 999, POLLIN);
	t.equal(ps.poll(0), 1);
	t.equal(ps.revents(1), POLLNVAL, 'a closed fd is POLLNVAL, not a crash');
	t.equal(ps.fd(1), 999);
	const full = new PollSet(1);
	t.equal(full.add(efd, POLLIN), 0);
	t.equal(full.add(efd, POLLIN), -1, 'full');
	t.equal(eventfd_signal(-1), -EBADF, 'errno, no throw');
	t.equal(eventfd_drain(-1), -EBADF);
});

t.test('a worker blocked in poll wakes on eventfd and on UDP', async (t) => {
	const efd = eventfd_open();
	const ufd = udp_open(4, 0);
	const sfd = udp_open(4, 0);
	const stop = new Int32Array(new SharedArrayBuffer(4));
	const w = new Worker(new URL('./poll_worker.js', import.meta.url), { workerData: { efd, ufd, stop } });
	const exit_p = once(w, 'exit');
	t.teardown(async () => {
		/* A thread blocked in a native call cannot be terminated: ask it to leave. */
		Atomics.store(stop, 0, 1);
		eventfd_signal(efd);
		await exit_p;
		close(efd);
		udp_close(ufd);
		udp_close(sfd);
	});
	const msgs: Array<Record<string, unknown>> = [];
	w.on('message', (m: Record<string, unknown>) => msgs.push(m));
	const next = async (): Promise<Record<string, unknown>> => {
		while (msgs.length === 0)
			await once(w, 'message');
		return msgs.shift() as Record<string, unknown>;
	};

	const ready = await next();
	t.equal(ready.what, 'ready', 'koffi loaded in the worker');
	t.not(ready.tid, gettid(), 'another thread');
	/* Wait (bounded) until the worker thread sits in poll(2), syscall 7. */
	const sc = `/proc/self/task/${String(ready.tid)}/syscall`;
	let blocked = false;
	for (let i = 0; i < 200 && !blocked; i++) {
		blocked = readFileSync(sc, 'utf8').split(' ')[0] === '7';
		if (!blocked)
			await sleep(10);
	}
	t.ok(blocked, 'worker is blocked in poll');

	t.equal(eventfd_signal(efd), 0);
	const m1 = await next();
	t.match(m1, { what: 'woke', n: 1, ev: POLLIN, uv: 0, drained: 1, k: 0 }, 'woken by the eventfd');

	const io = new UdpIo(sfd, -1);
	const msg = new TextEncoder().encode('hello worker');
	t.equal(io.sendto(4, new Uint8Array([127, 0, 0, 1]), udp_port(ufd), msg, 0, msg.length), msg.length);
	const m2 = await next();
	t.match(m2, { what: 'woke', n: 1, ev: 0, uv: POLLIN, k: 1, text: 'hello worker', from: `127.0.0.1:${udp_port(sfd)}` },
	    'woken by a datagram, received with recvmmsg in the worker');
	const [code] = await exit_p as [number];
	t.equal(code, 0, 'worker exits cleanly');
});

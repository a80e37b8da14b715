// SPDX-License-Identifier: BSD-2-Clause
/*
 * Worker side of t_poll: blocks in poll() on an eventfd and a UDP socket,
 * the way the wg data path worker does, and reports what woke it.
 */

import { parentPort, workerData } from 'node:worker_threads';
import { POLLIN, PollSet, eventfd_drain } from '../../../../sys/arch/linux/poll.js';
import { gettid } from '../../../../sys/arch/linux/libc.js';
import { MmsgRing } from '../../../../sys/arch/linux/udp.js';

const { efd, ufd, stop } = workerData as { efd: number; ufd: number; stop: Int32Array };
const port = parentPort;
if (port === null)
	throw new Error('not a worker');

const ps = new PollSet(2);
ps.add(efd, POLLIN);
ps.add(ufd, POLLIN);
const ring = new MmsgRing(8, 2048);

port.postMessage({ what: 'ready', tid: gettid() });
/* A finite timeout so a stop request is seen even if no wakeup arrives. */
for (let round = 0; round < 2 && Atomics.load(stop, 0) === 0;) {
	const n = ps.poll(500);
	if (n === 0)
		continue;
	round++;
	const ev = ps.revents(0), uv = ps.revents(1);
	const drained = ev & POLLIN ? eventfd_drain(efd) : 0;
	const k = uv & POLLIN ? ring.recv(ufd) : 0;
	const text = k > 0 ? new TextDecoder().decode(ring.bufs[0].subarray(0, ring.lens[0])) : '';
	port.postMessage({ what: 'woke', n, ev, uv, drained, k, text, from: ring.eps[0].toString() });
}

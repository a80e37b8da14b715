// SPDX-License-Identifier: BSD-2-Clause
/*
 * The host bindings from inside a worker_thread (koffi loads there too):
 * tun, ioctls, an echo through the tun, a UDP batch.  The worker starts
 * after the main thread entered the netns, so it runs there as well.
 */

import t from 'tap';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { gettid } from '../../../../sys/arch/linux/libc.js';
import { netns_create } from '../../../harness/netns_thread.js';

const ns = netns_create('worker');
t.teardown(() => ns.destroy());
ns.enter();

t.test('tun, ifreq and udp in a worker', async (t) => {
	const w = new Worker(new URL('./worker_all.js', import.meta.url));
	const [r] = (await once(w, 'message')) as [Record<string, unknown>];
	await once(w, 'exit');
	t.equal(r.error, undefined, 'no exception in the worker');
	t.not(r.tid, gettid(), 'ran on another thread');
	t.equal(r.name, 'wgw0');
	t.equal(r.mtu, 1420);
	t.same(r.addrs, ['10.77.0.1/24']);
	t.equal(r.wrote, 84, 'echo request written');
	t.equal(r.reply, true, 'echo reply read into a ring slot');
	t.equal(r.sent, 4);
	t.equal(r.got, 4);
	t.same(r.lens, [10, 11, 12, 13]);
	t.equal(r.from, true, 'source endpoint decoded');
	t.notMatch(ns.ip('-o', 'link'), /wgw0/, 'tun gone after the worker detached it');
});

// SPDX-License-Identifier: BSD-2-Clause
/*
 * tun attach/detach on a real /dev/net/tun inside a throwaway netns, and
 * packets through it: an echo request written into the tun is answered
 * by the host stack, and the answer comes back out of the tun fd.
 */

import t from 'tap';
import {
	EAGAIN, EBADFD, EINVAL, POLLIN, POLLERR, ErrnoError, read, write,
} from '../../../../sys/arch/linux/libc.js';
import { PollSet } from '../../../../sys/arch/linux/poll.js';
import {
	TUN_F_CSUM, tun_attach, tun_detach, tun_set_nonblock, tun_set_offload,
} from '../../../../sys/arch/linux/tun.js';
import { WG_DEFAULT_MTU } from '../../../../sys/net/wg/messages.js';
import { if_get_mtu, if_set_up, in6_addifaddr, in_addifaddr } from '../../../../sys/arch/linux/ifreq.js';
import { netns_create } from '../../../harness/netns_thread.js';
import { ip4_icmp_echo, ip6_icmp_echo } from './pkt.js';

const ns = netns_create('tun');
t.teardown(() => ns.destroy());
ns.enter();

const has_link = (name: string): boolean => ns.ip('-o', 'link', 'show').split('\n').some((l) => l.split(':')[1]?.trim() === name);

/* Reads packets (poll-bounded, 3 s at most) until match() accepts one. */
function read_until(fd: number, match: (p: Uint8Array) => boolean): Uint8Array | null {
	const ps = new PollSet(1);
	ps.add(fd, POLLIN);
	const buf = new Uint8Array(new ArrayBuffer(2048));
	for (let tries = 0; tries < 30; tries++) {
		const r = ps.poll(100);
		if (r <= 0)
			continue;
		const n = read(fd, buf, buf.length);
		if (n > 0 && match(buf.subarray(0, n)))
			return buf.slice(0, n);
	}
	return null;
}

t.test('attach creates an interface, detach removes it', async (t) => {
	const tun = tun_attach('wg0');
	t.equal(tun.name, 'wg0');
	t.ok(tun.fd >= 0, 'fd');
	t.ok(has_link('wg0'), 'ip link shows wg0');
	t.equal(if_get_mtu('wg0'), WG_DEFAULT_MTU, 'default MTU 1420');
	t.match(ns.ip('link', 'show', 'wg0'), /mtu 1420/);
	t.equal(tun_detach(tun.fd), 0);
	t.notOk(has_link('wg0'), 'gone after close');
});

t.test('kernel-numbered name, mtu option, multi-queue', async (t) => {
	const a = tun_attach('wgx%d', { mtu: 1280 });
	t.equal(a.name, 'wgx0');
	t.equal(if_get_mtu('wgx0'), 1280);
	const q1 = tun_attach('wgm0', { multi_queue: true });
	const q2 = tun_attach('wgm0', { multi_queue: true });
	t.not(q1.fd, q2.fd, 'two queues');
	tun_detach(q1.fd);
	t.ok(has_link('wgm0'), 'still there with one queue');
	tun_detach(q2.fd);
	t.notOk(has_link('wgm0'), 'gone with the last queue');
	tun_detach(a.fd);
});

t.test('blocking mode, offloads', async (t) => {
	const tun = tun_attach('wg1', { nonblock: true, vnet_hdr: true });
	t.teardown(() => tun_detach(tun.fd));
	const b = new Uint8Array(2048);
	t.equal(read(tun.fd, b, b.length), -EAGAIN, 'non-blocking read with nothing queued');
	tun_set_nonblock(tun.fd, false);
	tun_set_nonblock(tun.fd, true);
	t.equal(read(tun.fd, b, b.length), -EAGAIN, 'back to non-blocking');
	t.doesNotThrow(() => tun_set_offload(tun.fd, TUN_F_CSUM));
});

t.test('bad names are errno errors', async (t) => {
	const err = (f: () => unknown): ErrnoError | null => {
		try {
			f();
		} catch (e) {
			return e instanceof ErrnoError ? e : null;
		}
		return null;
	};
	t.match(err(() => tun_attach('x'.repeat(16))), { errno: EINVAL, code: 'EINVAL' }, 'name too long');
	t.match(err(() => tun_attach('')), { errno: EINVAL }, 'empty name');
	t.match(err(() => tun_attach('lo')), { errno: EINVAL, message: /^ioctl\(TUNSETIFF\) lo: Invalid argument$/ },
	    'an existing non-tun interface');
	t.notOk(has_link('x'.repeat(15)), 'nothing created');
});

t.test('ip link del: reads fail with EBADFD, poll reports an error', async (t) => {
	const tun = tun_attach('wg2', { nonblock: true });
	ns.ip('link', 'del', 'wg2');
	const b = new Uint8Array(64);
	t.equal(read(tun.fd, b, b.length), -EBADFD);
	t.equal(write(tun.fd, b, 20), -EBADFD);
	const ps = new PollSet(1);
	ps.add(tun.fd, POLLIN);
	t.equal(ps.poll(0), 1);
	t.ok(ps.revents(0) & POLLERR, 'POLLERR');
	t.equal(tun_detach(tun.fd), 0);
});

t.test('ICMP echo through the tun', async (t) => {
	const tun = tun_attach('wg3', { nonblock: true });
	t.teardown(() => tun_detach(tun.fd));
	if_set_up('wg3', true);
	const me4 = new Uint8Array([10, 33, 0, 1]);
	const peer4 = new Uint8Array([10, 33, 0, 2]);
	in_addifaddr('wg3', me4, 24);
	const me6 = new Uint8Array([0xfd, 0, 0, 0x33, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
	const peer6 = me6.slice();
	peer6[15] = 2;
	in6_addifaddr('wg3', me6, 64);

	const payload = new TextEncoder().encode('wireguard-ts tun echo');
	const req4 = ip4_icmp_echo(peer4, me4, 0x77, 1, payload);
	t.equal(write(tun.fd, req4, req4.length), req4.length, 'wrote IPv4 echo request');
	const rep4 = read_until(tun.fd, (p) => p[0] >> 4 === 4 && p[9] === 1 && p[20] === 0);
	t.ok(rep4, 'IPv4 echo reply read from the tun');
	if (rep4) {
		t.same(rep4.subarray(12, 16), me4, 'from our address');
		t.same(rep4.subarray(16, 20), peer4, 'to the peer');
		t.equal((rep4[24] << 8) | rep4[25], 0x77, 'id');
		t.same(rep4.subarray(28), payload, 'payload echoed');
	}

	const req6 = ip6_icmp_echo(peer6, me6, 0x66, 2, payload);
	t.equal(write(tun.fd, req6, req6.length), req6.length, 'wrote IPv6 echo request');
	const rep6 = read_until(tun.fd, (p) => p[0] >> 4 === 6 && p[6] === 58 && p[40] === 129);
	t.ok(rep6, 'IPv6 echo reply read from the tun');
	if (rep6) {
		t.same(rep6.subarray(8, 24), me6, 'from our address');
		t.same(rep6.subarray(24, 40), peer6, 'to the peer');
		t.same(rep6.subarray(48), payload, 'payload echoed');
	}
});

// SPDX-License-Identifier: BSD-2-Clause
/*
 * sys/net/if.ts through a running instance: interface cloning, flags,
 * MTU and addresses reaching the real Linux interface, the driver's
 * if_ioctl coming first, privilege checks, serialization, and every
 * interface going away on reboot and SIGTERM.  The test kernel's "dmy"
 * cloner makes tun devices (h_kernel.ts), so this does not need wg(4).
 */

import t from 'tap';
import { Lab, type Host } from '../../harness/netns.js';
import {
	EADDRNOTAVAIL, EAFNOSUPPORT, EBUSY, EEXIST, EINVAL, EIO, ENOTTY, ENXIO, EPERM,
} from '../../../sys/sys/errno.js';
import { AF_INET, AF_INET6 } from '../../../sys/sys/socket.js';
import {
	IFF_MULTICAST, IFF_POINTOPOINT, IFF_RUNNING, IFF_UP, SIOCAIFADDR, SIOCAIFADDR_IN6, SIOCDIFADDR,
	SIOCGDRVSPEC, SIOCGIFFLAGS, SIOCGIFMTU, SIOCGIFSTATE_SHIM, SIOCIFCREATE, SIOCIFDESTROY,
	SIOCIFGCLONERS, SIOCSDRVSPEC, SIOCSIFFLAGS, SIOCSIFMTU,
} from '../../../sys/sys/sockio.js';
import { boot_test_kernel, kclient, kclients, random_id, request } from '../../harness/kern.js';

const IFF_LINK0 = 0x1000;
const nobody = { user: 'nobody' as const };

function ioctl(req: number, name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
	return { op: 'ioctl', req, name, ...extra };
}

function linux_link(h: Host, name: string): string | null {
	try {
		return h.ip('-o', 'link', 'show', 'dev', name);
	} catch {
		return null;
	}
}

function linux_up(h: Host, name: string): boolean {
	return /<[^>]*\bUP\b[^>]*>/.test(linux_link(h, name) ?? '');
}

t.test('cloning', async (t) => {
	const lab = new Lab(t, 'wgk');
	const h = lab.host('a');
	const id = random_id();
	const k = await boot_test_kernel(h, id);
	t.teardown(() => k.stop());
	const kc = kclients(t, h, id);
	const rq = (req: unknown, opts: { user?: 'nobody' } = {}): ReturnType<kclient['req']> =>
	    (opts.user === 'nobody' ? kc.nobody : kc.root).req(req);

	t.same(await rq(ioctl(SIOCIFGCLONERS, '')), { errno: 0, cloners: ['dmy', 'hang'] }, 'SIOCIFGCLONERS');
	t.same(await rq(ioctl(SIOCIFCREATE, 'dmy0')), { errno: 0 }, 'create dmy0');
	t.ok(linux_link(h, 'dmy0'), 'the Linux interface exists');
	t.equal((await rq(ioctl(SIOCIFCREATE, 'dmy0'))).errno, EEXIST, 'again: EEXIST');
	for (const name of ['foo0', 'dmy', 'dmy01', 'dmyx', 'dmy-1', '0', '', 'dmy1234567890123', 'dmy2147483648'])
		t.equal((await rq(ioctl(SIOCIFCREATE, name))).errno, EINVAL, `create ${JSON.stringify(name)}: EINVAL`);
	t.equal((await rq(ioctl(SIOCIFCREATE, 'dmy2147483647'))).errno, 0, 'the largest unit is fine');
	t.equal((await rq(ioctl(SIOCIFDESTROY, 'dmy2147483647'))).errno, 0);

	const [c1, c2] = await Promise.all([rq(ioctl(SIOCIFCREATE, 'dmy5')), rq(ioctl(SIOCIFCREATE, 'dmy5'))]);
	t.same([c1.errno, c2.errno].sort(), [0, EEXIST], 'two racing creates: one wins, one EEXIST');

	const ifs = (await rq({ op: 'ifconf' })).ifs ?? [];
	t.same(ifs.map((s) => s.name), ['dmy0', 'dmy5'], 'ifconf lists them in creation order');
	t.equal(ifs[0].flags, IFF_POINTOPOINT | IFF_MULTICAST);
	t.equal(ifs[0].mtu, 1500);
	t.equal(ifs[0].link_up, false);
	t.ok(ifs[0].ifindex > 0, 'ifindex from Linux');
	t.same((await rq(ioctl(SIOCGIFSTATE_SHIM, 'dmy0'))).ifs, [ifs[0]], 'SIOCGIFSTATE: the same, for one');

	t.equal((await rq(ioctl(SIOCIFCREATE, 'dmy7'), nobody)).errno, EPERM, 'create as nobody: EPERM');
	t.equal((await rq(ioctl(SIOCIFDESTROY, 'dmy5'), nobody)).errno, EPERM, 'destroy as nobody: EPERM');
	t.same(await rq(ioctl(SIOCIFDESTROY, 'dmy5')), { errno: 0 }, 'destroy dmy5');
	t.equal(linux_link(h, 'dmy5'), null, 'its Linux interface is gone');
	t.equal((await rq(ioctl(SIOCIFDESTROY, 'dmy5'))).errno, ENXIO, 'again: ENXIO');
	t.equal((await rq(ioctl(SIOCIFDESTROY, 'foo0'))).errno, EINVAL, 'no such cloner: EINVAL');
	t.equal((await rq(ioctl(SIOCGIFFLAGS, 'dmy5'))).errno, ENXIO, 'requests on a missing interface: ENXIO');
	t.equal((await rq(ioctl(12345, 'dmy0'))).errno, ENOTTY, 'unknown request: ENOTTY');
	t.equal((await rq(ioctl(12345, 'nope0'))).errno, ENXIO, 'unknown request, no interface: ENXIO');
});

t.test('flags, MTU, addresses', async (t) => {
	const lab = new Lab(t, 'wgk');
	const h = lab.host('a');
	const id = random_id();
	const k = await boot_test_kernel(h, id);
	t.teardown(() => k.stop());
	const kc = kclients(t, h, id);
	const rq = (req: unknown, opts: { user?: 'nobody' } = {}): ReturnType<kclient['req']> =>
	    (opts.user === 'nobody' ? kc.nobody : kc.root).req(req);
	const drv = async (): Promise<{ uid: number; inits: number; stops: number; ioctls: number[] }> =>
	    JSON.parse((await rq(ioctl(SIOCGDRVSPEC, 'dmy0'))).data ?? '{}') as { uid: number; inits: number; stops: number; ioctls: number[] };
	const flags = async (): Promise<number> => (await rq(ioctl(SIOCGIFFLAGS, 'dmy0'))).flags ?? -1;

	t.equal((await rq(ioctl(SIOCIFCREATE, 'dmy0'))).errno, 0);
	t.equal(linux_up(h, 'dmy0'), false, 'created down');

	/* up / down */
	t.equal((await rq(ioctl(SIOCSIFFLAGS, 'dmy0', { flags: IFF_UP }), nobody)).errno, EPERM, 'up as nobody: EPERM');
	t.equal(linux_up(h, 'dmy0'), false);
	t.same(await rq(ioctl(SIOCSIFFLAGS, 'dmy0', { flags: IFF_UP })), { errno: 0 }, 'up');
	t.equal(await flags(), IFF_UP | IFF_RUNNING | IFF_POINTOPOINT | IFF_MULTICAST, 'UP and RUNNING; the driver bits stay');
	t.equal(linux_up(h, 'dmy0'), true, 'Linux interface up');
	t.same(await rq(ioctl(SIOCSIFFLAGS, 'dmy0', { flags: IFF_UP })), { errno: 0 }, 'up again');
	t.equal((await drv()).inits, 1, 'if_init ran once');
	t.same(await rq(ioctl(SIOCSIFFLAGS, 'dmy0', { flags: 0 })), { errno: 0 }, 'down');
	t.equal(await flags(), IFF_POINTOPOINT | IFF_MULTICAST, 'UP and RUNNING cleared, driver bits kept');
	t.equal(linux_up(h, 'dmy0'), false, 'Linux interface down');
	t.equal((await drv()).stops, 1, 'if_stop ran once');
	t.same(await rq(ioctl(SIOCSIFFLAGS, 'dmy0', { flags: IFF_UP | IFF_LINK0 })), { errno: EIO }, 'if_init failing: its errno');
	t.equal((await flags()) & (IFF_UP | IFF_RUNNING), 0, '... and the interface stays down');
	t.equal(linux_up(h, 'dmy0'), false);
	t.equal((await rq(ioctl(SIOCSIFFLAGS, 'dmy0'))).errno, EINVAL, 'no flags: EINVAL');
	t.equal((await rq(ioctl(SIOCSIFFLAGS, 'dmy0', { flags: -1 }))).errno, EINVAL, 'negative flags: EINVAL');
	t.same(await rq(ioctl(SIOCSIFFLAGS, 'dmy0', { flags: 0 })), { errno: 0 });
	t.equal(await flags(), IFF_POINTOPOINT | IFF_MULTICAST, 'LINK0 cleared again');

	/* MTU */
	for (const mtu of [67, 65536, 0, -1, 1500.5])
		t.equal((await rq(ioctl(SIOCSIFMTU, 'dmy0', { mtu }))).errno, EINVAL, `mtu ${mtu}: EINVAL`);
	t.equal((await rq(ioctl(SIOCSIFMTU, 'dmy0', { mtu: 1280 }), nobody)).errno, EPERM, 'mtu as nobody: EPERM');
	t.same(await rq(ioctl(SIOCGIFMTU, 'dmy0')), { errno: 0, mtu: 1500 }, 'nothing changed');
	t.same(await rq(ioctl(SIOCSIFMTU, 'dmy0', { mtu: 1280 })), { errno: 0 }, 'mtu 1280');
	t.same(await rq(ioctl(SIOCGIFMTU, 'dmy0')), { errno: 0, mtu: 1280 });
	t.match(linux_link(h, 'dmy0'), / mtu 1280 /, 'Linux interface mtu 1280');
	t.same(await rq(ioctl(SIOCSIFMTU, 'dmy0', { mtu: 68 })), { errno: 0 }, 'mtu 68 (the minimum)');

	/* IPv4 */
	const a4 = (addr: string, prefixlen: number, family: number = AF_INET): Record<string, unknown> =>
	    ({ ifaddr: { family, addr, prefixlen } });
	t.same(await rq(ioctl(SIOCSIFMTU, 'dmy0', { mtu: 1420 })), { errno: 0 });
	t.equal((await rq(ioctl(SIOCAIFADDR, 'dmy0', a4('10.9.0.1', 24)), nobody)).errno, EPERM, 'address as nobody: EPERM');
	t.same(await rq(ioctl(SIOCAIFADDR, 'dmy0', a4('10.9.0.1', 24))), { errno: 0 }, 'inet 10.9.0.1/24');
	t.match(h.ip('-4', '-o', 'addr', 'show', 'dev', 'dmy0'), /inet 10\.9\.0\.1\/24/, 'on the Linux interface');
	t.equal(linux_up(h, 'dmy0'), true, 'an address brings the interface up (NetBSD)');
	t.equal((await flags()) & (IFF_UP | IFF_RUNNING), IFF_UP | IFF_RUNNING);
	t.same(await rq(ioctl(SIOCAIFADDR, 'dmy0', a4('10.9.0.1', 24))), { errno: 0 }, 'the same again: no error');
	t.same(await rq(ioctl(SIOCAIFADDR, 'dmy0', a4('10.9.0.1', 16))), { errno: 0 }, 'a new prefix length');
	t.match(h.ip('-4', '-o', 'addr', 'show', 'dev', 'dmy0'), /inet 10\.9\.0\.1\/16/, 'replaces the old one');
	t.notMatch(h.ip('-4', '-o', 'addr', 'show', 'dev', 'dmy0'), /10\.9\.0\.1\/24/);
	t.same(await rq(ioctl(SIOCAIFADDR, 'dmy0', a4('10.9.1.1', 24))), { errno: 0 }, 'a second address');
	t.equal((await rq(ioctl(SIOCAIFADDR, 'dmy0', a4('fd00::1', 64, AF_INET6)))).errno, EAFNOSUPPORT,
	    'SIOCAIFADDR with an inet6 address: EAFNOSUPPORT');
	for (const [addr, plen] of [['10.9.0.300', 24], ['10.9.0.1', 33], ['10.9.0.1', -1], ['fd00::1', 24], ['', 0]] as const)
		t.equal((await rq(ioctl(SIOCAIFADDR, 'dmy0', a4(addr, plen)))).errno, EINVAL, `inet ${addr}/${plen}: EINVAL`);
	t.equal((await rq(ioctl(SIOCAIFADDR, 'dmy0'))).errno, EINVAL, 'no address: EINVAL');

	/* IPv6 */
	t.same(await rq(ioctl(SIOCAIFADDR_IN6, 'dmy0', a4('fd00:0:0::1', 64, AF_INET6))), { errno: 0 }, 'inet6 fd00::1/64');
	t.equal((await rq(ioctl(SIOCAIFADDR_IN6, 'dmy0', a4('10.0.0.1', 24)))).errno, EAFNOSUPPORT);
	t.equal((await rq(ioctl(SIOCAIFADDR_IN6, 'dmy0', a4('fd00::1', 129, AF_INET6)))).errno, EINVAL);
	const st = (await rq(ioctl(SIOCGIFSTATE_SHIM, 'dmy0'))).ifs?.[0];
	t.same(st?.addrs.filter((a) => !a.addr.startsWith('fe80')), [
		{ family: AF_INET, addr: '10.9.0.1', prefixlen: 16 },
		{ family: AF_INET, addr: '10.9.1.1', prefixlen: 24 },
		{ family: AF_INET6, addr: 'fd00::1', prefixlen: 64 },
	], 'SIOCGIFSTATE: the addresses, from Linux');
	t.equal(st?.mtu, 1420);

	/* delete */
	t.equal((await rq(ioctl(SIOCDIFADDR, 'dmy0', a4('10.9.0.1', 16)), nobody)).errno, EPERM, 'delete as nobody: EPERM');
	t.same(await rq(ioctl(SIOCDIFADDR, 'dmy0', a4('10.9.0.1', 16))), { errno: 0 }, 'delete 10.9.0.1');
	t.equal((await rq(ioctl(SIOCDIFADDR, 'dmy0', a4('10.9.0.1', 16)))).errno, EADDRNOTAVAIL, 'again: EADDRNOTAVAIL');
	t.same(await rq(ioctl(SIOCDIFADDR, 'dmy0', a4('fd00::1', 128, AF_INET6))), { errno: 0 },
	    'delete fd00::1 by address (the prefix length need not match)');
	t.notMatch(h.ip('-o', 'addr', 'show', 'dev', 'dmy0'), /10\.9\.0\.1|fd00::1/, 'both gone from Linux');
	t.match(h.ip('-o', 'addr', 'show', 'dev', 'dmy0'), /10\.9\.1\.1\/24/, 'the other stays');

	/* the driver's own requests, and the credentials it is given */
	t.equal((await drv()).uid, 0, 'the driver sees root');
	const as_nobody = JSON.parse((await rq(ioctl(SIOCGDRVSPEC, 'dmy0'), nobody)).data ?? '{}') as { uid: number };
	t.equal(as_nobody.uid, 65534, 'the driver sees nobody (SO_PEERCRED)');
	t.equal((await rq(ioctl(SIOCSDRVSPEC, 'dmy0', { cmd: 1 }), nobody)).errno, EPERM, 'SIOCSDRVSPEC as nobody: EPERM');
	t.notOk((await drv()).ioctls.includes(SIOCSDRVSPEC), '... refused before the driver saw it');
	t.same(await rq(ioctl(SIOCSDRVSPEC, 'dmy0', { cmd: 1, data: '' })), { errno: 0 }, 'SIOCSDRVSPEC: the driver answers');
	t.same(await rq(ioctl(SIOCSDRVSPEC, 'dmy0', { cmd: 2 })), { errno: EBUSY }, '... with its own errors');
	t.equal((await rq(ioctl(SIOCSDRVSPEC, 'dmy0', { cmd: 1.5 }))).errno, EINVAL, 'a bad cmd never reaches it');
	t.ok((await drv()).ioctls.includes(SIOCSIFMTU), 'generic requests pass the driver first');
});

t.test('reboot and SIGTERM destroy every interface', async (t) => {
	const lab = new Lab(t, 'wgk');
	const h = lab.host('a');

	const id = random_id();
	const k = await boot_test_kernel(h, id);
	t.equal((await request(h, id, ioctl(SIOCIFCREATE, 'dmy1'))).errno, 0);
	t.equal((await request(h, id, ioctl(SIOCIFCREATE, 'dmy2'))).errno, 0);
	t.equal((await request(h, id, ioctl(SIOCSIFFLAGS, 'dmy2', { flags: IFF_UP }))).errno, 0);
	t.same(await request(h, id, { op: 'reboot' }), { errno: 0 }, 'reboot answers once the interfaces are gone');
	t.equal(linux_link(h, 'dmy1'), null, 'dmy1 gone');
	t.equal(linux_link(h, 'dmy2'), null, 'dmy2 gone');
	const r = await k.wait(10_000);
	t.equal(r.code, 0, 'the kernel exits 0');
	t.match(r.stderr, /dmy2: destroyed[\s\S]*dmy1: destroyed[\s\S]*halted/, 'newest first, then halt');

	const id2 = random_id();
	const k2 = await boot_test_kernel(h, id2);
	t.equal((await request(h, id2, ioctl(SIOCIFCREATE, 'dmy3'))).errno, 0);
	const r2 = await k2.stop('SIGTERM');
	t.equal(r2.code, 0, 'SIGTERM: exit 0');
	t.equal(linux_link(h, 'dmy3'), null, 'SIGTERM: dmy3 gone');
	t.match(r2.stderr, /rebooting: SIGTERM[\s\S]*dmy3: destroyed[\s\S]*halted/);
});

t.test('a stuck driver cannot keep the instance from exiting', async (t) => {
	const lab = new Lab(t, 'wgk');
	const h = lab.host('a');
	const id = random_id();
	const k = await boot_test_kernel(h, id, { H_KERNEL_SHUTDOWN_MS: '500' });
	t.equal((await request(h, id, ioctl(SIOCIFCREATE, 'hang0'))).errno, 0, 'create hang0 (a thread blocked in sleep(600))');
	k.kill('SIGTERM');
	const r = await k.wait(20_000);
	t.equal(r.code, 1, 'the watchdog ends it with status 1');
	t.match(r.stderr, /reboot did not finish in 500 ms: exiting/);
	t.same(await request(h, id, { op: 'ifconf' }), { connect: 'ECONNREFUSED' }, 'socket gone');
});

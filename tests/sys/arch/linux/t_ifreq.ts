// SPDX-License-Identifier: BSD-2-Clause
/*
 * Interface flags, MTU and addresses through the ifreq ioctls, checked
 * against what `ip` reports, on a tun inside a throwaway netns.
 */

import t from 'tap';
import { EADDRNOTAVAIL, EEXIST, EINVAL, ENODEV, ErrnoError } from '../../../../sys/arch/linux/libc.js';
import {
	LINUX_IFF_POINTOPOINT, LINUX_IFF_UP, if_addrs, if_get_flags, if_get_mtu, if_nametoindex, if_set_flags,
	if_set_mtu, if_set_up, in6_addifaddr, in6_delifaddr, in6_ifaddrs, in_addifaddr, in_delifaddr,
	in_ifaddrs,
} from '../../../../sys/arch/linux/ifreq.js';
import { tun_attach, tun_detach } from '../../../../sys/arch/linux/tun.js';
import { netns_create } from '../../../harness/netns_thread.js';

const ns = netns_create('ifreq');
t.teardown(() => ns.destroy());
ns.enter();

const IF = 'wg0';
const tun = tun_attach(IF);
t.teardown(() => tun_detach(tun.fd));

function err(f: () => unknown): ErrnoError | null {
	try {
		f();
	} catch (e) {
		return e instanceof ErrnoError ? e : null;
	}
	return null;
}

const v4 = (s: string): Uint8Array => new Uint8Array(s.split('.').map(Number));
function v6(s: string): Uint8Array {
	const [h, tl] = s.split('::');
	const hw = h ? h.split(':') : [];
	const tw = tl !== undefined && tl !== '' ? tl.split(':') : [];
	const w = [...hw, ...Array<string>(8 - hw.length - tw.length).fill('0'), ...tw];
	const b = new Uint8Array(16);
	w.forEach((x, i) => {
		const n = parseInt(x, 16);
		b[2 * i] = n >> 8;
		b[2 * i + 1] = n & 0xff;
	});
	return b;
}
const text = (a: { family: number; addr: Uint8Array; prefixlen: number }): string =>
	a.family === 4 ? `${a.addr.join('.')}/${a.prefixlen}` :
	`${Buffer.from(a.addr).toString('hex')}/${a.prefixlen}`;

t.test('flags: up and down', async (t) => {
	const f0 = if_get_flags(IF);
	t.ok(f0 & LINUX_IFF_POINTOPOINT, 'a tun is point-to-point');
	t.notOk(f0 & LINUX_IFF_UP, 'starts down');
	if_set_up(IF, true);
	t.ok(if_get_flags(IF) & LINUX_IFF_UP, 'up');
	t.match(ns.ip('link', 'show', IF), /[<,]UP[,>]/);
	if_set_flags(IF, if_get_flags(IF) & ~LINUX_IFF_UP);
	t.notOk(if_get_flags(IF) & LINUX_IFF_UP, 'down again');
	t.notMatch(ns.ip('link', 'show', IF), /[<,]UP[,>]/);
});

t.test('MTU', async (t) => {
	if_set_mtu(IF, 1300);
	t.equal(if_get_mtu(IF), 1300);
	t.match(ns.ip('link', 'show', IF), /mtu 1300 /);
	t.match(err(() => if_set_mtu(IF, 10)), { errno: EINVAL, message: /^ioctl\(SIOCSIFMTU\) wg0: / }, 'MTU too small');
	t.match(err(() => if_set_mtu(IF, 1.5)), { errno: EINVAL });
	if_set_mtu(IF, 1420);
	t.equal(if_get_mtu(IF), 1420);
});

t.test('index', async (t) => {
	const idx = if_nametoindex(IF);
	t.match(ns.ip('-o', 'link', 'show', IF), new RegExp(`^${idx}: ${IF}:`));
	t.equal(if_nametoindex('lo'), 1);
});

t.test('IPv4 addresses', async (t) => {
	if_set_up(IF, true);
	in_addifaddr(IF, v4('10.44.0.1'), 24);
	in_addifaddr(IF, v4('10.45.0.1'), 16);
	in_addifaddr(IF, v4('192.0.2.7'), 32);
	t.same(in_ifaddrs(IF).map(text).sort(), ['10.44.0.1/24', '10.45.0.1/16', '192.0.2.7/32']);
	const shown = ns.ip('-4', '-o', 'addr', 'show', 'dev', IF);
	for (const a of ['10.44.0.1/24', '10.45.0.1/16', '192.0.2.7/32'])
		t.match(shown, ` inet ${a} `, `ip addr shows ${a}`);
	t.match(ns.ip('-4', 'route'), /10\.44\.0\.0\/24 dev wg0/, 'prefix route installed');
	t.match(err(() => in_addifaddr(IF, v4('10.45.0.1'), 16)), { errno: EEXIST }, 'duplicate');

	in_delifaddr(IF, v4('10.45.0.1'));
	t.same(in_ifaddrs(IF).map(text).sort(), ['10.44.0.1/24', '192.0.2.7/32']);
	t.notMatch(ns.ip('-4', '-o', 'addr', 'show', 'dev', IF), /10\.45\.0\.1/);
	t.match(err(() => in_delifaddr(IF, v4('10.45.0.1'))), { errno: EADDRNOTAVAIL }, 'delete twice');

	/* The freed alias label is reused. */
	in_addifaddr(IF, v4('10.46.0.1'), 30);
	t.same(in_ifaddrs(IF).map(text).sort(), ['10.44.0.1/24', '10.46.0.1/30', '192.0.2.7/32']);
	for (const a of in_ifaddrs(IF))
		in_delifaddr(IF, a.addr);
	t.same(in_ifaddrs(IF), [], 'all deleted');
	t.equal(ns.ip('-4', '-o', 'addr', 'show', 'dev', IF), '');
});

t.test('IPv4 address added by ip is listed', async (t) => {
	ns.ip('addr', 'add', '172.16.5.5/20', 'dev', IF);
	t.same(in_ifaddrs(IF).map(text), ['172.16.5.5/20']);
	in_delifaddr(IF, v4('172.16.5.5'));
	t.same(in_ifaddrs(IF), []);
});

t.test('IPv6 addresses', async (t) => {
	in6_addifaddr(IF, v6('fd00:44::1'), 64);
	in6_addifaddr(IF, v6('2001:db8::7'), 128);
	const mine = (): string[] => in6_ifaddrs(IF).filter((a) => a.addr[0] !== 0xfe).map(text).sort();
	t.same(mine(), ['20010db8000000000000000000000007/128', 'fd000044000000000000000000000001/64']);
	const shown = ns.ip('-6', '-o', 'addr', 'show', 'dev', IF);
	t.match(shown, ' inet6 fd00:44::1/64 ');
	t.match(shown, ' inet6 2001:db8::7/128 ');
	t.match(err(() => in6_addifaddr(IF, v6('fd00:44::1'), 64)), { errno: EEXIST }, 'duplicate');
	in6_delifaddr(IF, v6('fd00:44::1'), 64);
	t.same(mine(), ['20010db8000000000000000000000007/128']);
	t.notMatch(ns.ip('-6', '-o', 'addr', 'show', 'dev', IF), /fd00:44::1/);
	t.ok(err(() => in6_delifaddr(IF, v6('fd00:44::1'), 64)), 'delete twice fails');
	in6_delifaddr(IF, v6('2001:db8::7'), 128);
	t.same(mine(), []);
});

t.test('IPv6 on a down interface, and if_addrs', async (t) => {
	if_set_up(IF, false);
	in6_addifaddr(IF, v6('fd00:55::5'), 80);
	in_addifaddr(IF, v4('10.55.0.5'), 8);
	const all = if_addrs(IF).map(text);
	t.ok(all.includes('10.55.0.5/8'), 'v4 while down');
	t.ok(all.includes('fd000055000000000000000000000005/80'), 'v6 while down');
	t.equal(all[0], '10.55.0.5/8', 'IPv4 first');
	in6_delifaddr(IF, v6('fd00:55::5'), 80);
	in_delifaddr(IF, v4('10.55.0.5'));
});

t.test('bad input is an errno, never a crash', async (t) => {
	t.match(err(() => if_get_flags('nosuch0')), { errno: ENODEV, code: 'ENODEV', message: /^ioctl\(SIOCGIFFLAGS\) nosuch0: No such device$/ });
	t.match(err(() => if_set_mtu('nosuch0', 1420)), { errno: ENODEV });
	t.match(err(() => if_nametoindex('nosuch0')), { errno: ENODEV });
	t.match(err(() => if_addrs('nosuch0')), { errno: ENODEV });
	t.match(err(() => in_addifaddr('nosuch0', v4('10.0.0.1'), 24)), { errno: ENODEV });
	t.match(err(() => in6_addifaddr('nosuch0', v6('fd00::1'), 64)), { errno: ENODEV });
	t.match(err(() => if_get_mtu('a-name-far-too-long')), { errno: EINVAL });
	t.match(err(() => if_get_mtu('')), { errno: EINVAL });
	t.match(err(() => in_addifaddr(IF, new Uint8Array(3), 24)), { errno: EINVAL });
	t.match(err(() => in_addifaddr(IF, v4('10.0.0.1'), 33)), { errno: EINVAL });
	t.match(err(() => in6_addifaddr(IF, v6('fd00::1'), 129)), { errno: EINVAL });
	t.match(err(() => in6_addifaddr(IF, v4('10.0.0.1'), 64)), { errno: EINVAL });
	t.same(in_ifaddrs(IF), [], 'nothing half-added');
});

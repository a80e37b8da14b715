// SPDX-License-Identifier: BSD-2-Clause
/*
 * ifconfig(8) against a fake kernel that keeps a little interface table:
 * the requests each command sends, the NetBSD-style status output, host
 * interfaces shown but not changed, and the error messages.
 */

import { readdirSync } from 'node:fs';
import t from 'tap';

import { type ShimIfState, type ShimReply, type ShimRequest } from '../../../sys/sys/shim.js';
import { AF_INET, AF_INET6 } from '../../../sys/sys/socket.js';
import {
	IFF_MULTICAST, IFF_RUNNING, IFF_UP, SIOCAIFADDR, SIOCAIFADDR_IN6, SIOCDIFADDR, SIOCGIFFLAGS,
	SIOCIFCREATE, SIOCIFDESTROY, SIOCIFGCLONERS, SIOCSIFFLAGS, SIOCSIFMTU,
} from '../../../sys/sys/sockio.js';
import { FakeKernel, run, type RunResult } from '../../harness/fake_kernel.js';

const PROG = 'sbin/ifconfig/ifconfig';
const fk = await FakeKernel.start();
t.teardown(() => fk.close());

/* A toy kernel: enough of if.c to answer ifconfig. */
const ifs = new Map<string, ShimIfState>();
function kernel(req: ShimRequest): ShimReply {
	if (req.op === 'ifconf')
		return { errno: 0, ifs: [...ifs.values()] };
	if (req.op !== 'ioctl')
		return { errno: 22 };
	if (req.req === SIOCIFGCLONERS)
		return { errno: 0, cloners: ['wg'] };
	const ifp = ifs.get(req.name);
	switch (req.req) {
	case SIOCIFCREATE:
		if (ifp)
			return { errno: 17 };
		if (!/^wg[0-9]+$/.test(req.name))
			return { errno: 22 };
		ifs.set(req.name, { name: req.name, flags: IFF_MULTICAST, mtu: 1420, link_up: false, addrs: [], ifindex: 1000 + ifs.size });
		return { errno: 0 };
	}
	if (!ifp)
		return { errno: 6 };
	switch (req.req) {
	case SIOCIFDESTROY:
		ifs.delete(req.name);
		return { errno: 0 };
	case SIOCGIFFLAGS:
		return { errno: 0, flags: ifp.flags };
	case SIOCSIFFLAGS:
		ifp.flags = (req.flags ?? 0) & IFF_UP ? (req.flags ?? 0) | IFF_RUNNING : (req.flags ?? 0) & ~IFF_RUNNING;
		return { errno: 0 };
	case SIOCSIFMTU:
		if ((req.mtu ?? 0) < 576)
			return { errno: 22 };
		ifp.mtu = req.mtu ?? 0;
		return { errno: 0 };
	case SIOCAIFADDR:
	case SIOCAIFADDR_IN6:
		if (!req.ifaddr)
			return { errno: 22 };
		ifp.addrs.push(req.ifaddr);
		ifp.flags |= IFF_UP | IFF_RUNNING;	/* an address brings it up, as wg_ioctl's SIOCINITIFADDR */
		return { errno: 0 };
	case SIOCDIFADDR: {
		const a = req.ifaddr;
		const i = ifp.addrs.findIndex((x) => a && x.family === a.family && x.addr === a.addr);
		if (i < 0)
			return { errno: 99 };
		ifp.addrs.splice(i, 1);
		return { errno: 0 };
	}
	}
	return { errno: 22 };
}

function ifconfig(...args: string[]): Promise<RunResult> {
	return run(PROG, args, { id: fk.id });
}

/* The ioctl requests sent (ifconf lookups left out), as [request, detail]. */
function ioctls(): Array<Record<string, unknown>> {
	return fk.requests.filter((r) => r.op === 'ioctl').map((r) => ({ ...r }));
}

function fresh(): void {
	ifs.clear();
	fk.reset(kernel);
}

t.test('create, configure, show, destroy', async (t) => {
	fresh();
	let r = await ifconfig('wg0', 'create');
	t.equal(r.code, 0, r.stderr);
	t.same(ioctls(), [{ op: 'ioctl', req: SIOCIFCREATE, name: 'wg0' }]);
	r = await ifconfig('wg0');
	t.equal(r.stdout, 'wg0: flags=0x8000<MULTICAST> mtu 1420\n\tstatus: no carrier\n', 'fresh interface');

	fk.requests.length = 0;
	r = await ifconfig('wg0', 'inet', '10.0.0.1/24', 'up');
	t.equal(r.code, 0, r.stderr);
	t.same(ioctls(), [
		{ op: 'ioctl', req: SIOCGIFFLAGS, name: 'wg0' },
		{ op: 'ioctl', req: SIOCAIFADDR, name: 'wg0', ifaddr: { family: AF_INET, addr: '10.0.0.1', prefixlen: 24 } },
		{ op: 'ioctl', req: SIOCGIFFLAGS, name: 'wg0' },
		{ op: 'ioctl', req: SIOCSIFFLAGS, name: 'wg0', flags: IFF_UP | IFF_RUNNING | IFF_MULTICAST },
	]);
	r = await ifconfig('wg0', 'inet6', 'fd00::1/64');
	t.equal(r.code, 0, r.stderr);
	ifs.get('wg0')!.link_up = true;
	r = await ifconfig('wg0');
	t.equal(r.stdout, 'wg0: flags=0x8041<UP,RUNNING,MULTICAST> mtu 1420\n' +
	    '\tstatus: active\n' +
	    '\tinet 10.0.0.1/24 flags 0x0\n' +
	    '\tinet6 fd00::1/64 flags 0x0\n', 'NetBSD layout');
	t.equal(r.code, 0);

	fk.requests.length = 0;
	r = await ifconfig('wg0', 'down');
	t.equal(r.code, 0);
	t.same(ioctls().at(-1), { op: 'ioctl', req: SIOCSIFFLAGS, name: 'wg0', flags: IFF_RUNNING | IFF_MULTICAST },
	    'down clears UP only; RUNNING is the kernel\'s to clear');
	r = await ifconfig('wg0', 'mtu', '1280');
	t.equal(r.code, 0);
	t.equal(ifs.get('wg0')?.mtu, 1280);

	fk.requests.length = 0;
	r = await ifconfig('wg0', 'destroy');
	t.equal(r.code, 0);
	t.same(ioctls(), [{ op: 'ioctl', req: SIOCIFDESTROY, name: 'wg0' }]);
	t.equal(ifs.size, 0);
	r = await ifconfig('wg0', 'create', 'inet', '10.0.0.1/24', 'up');
	t.equal(r.code, 0, 'create and configure in one go');
	t.equal(ifs.get('wg0')?.addrs.length, 1);
	r = await ifconfig('wg0', 'up', 'destroy');
	t.equal(r.code, 0, 'destroy while up');
	t.equal(ifs.size, 0);
});

t.test('link-local addresses print with their scope', async (t) => {
	fresh();
	ifs.set('wg3', { name: 'wg3', flags: IFF_UP | IFF_RUNNING | IFF_MULTICAST, mtu: 1420, link_up: true, ifindex: 42,
	    addrs: [{ family: AF_INET6, addr: 'FE80:0::1', prefixlen: 64 }, { family: AF_INET, addr: '10.2.0.1', prefixlen: 24 }] });
	const r = await ifconfig('wg3');
	t.equal(r.stdout, 'wg3: flags=0x8041<UP,RUNNING,MULTICAST> mtu 1420\n\tstatus: active\n' +
	    '\tinet6 fe80::1%wg3/64 flags 0x0 scopeid 0x2a\n\tinet 10.2.0.1/24 flags 0x0\n');
});

t.test('addresses', async (t) => {
	fresh();
	await ifconfig('wg0', 'create');
	const cases: Array<[string[], number, string, number]> = [
		[['inet', '10.1.2.3', 'netmask', '255.255.0.0'], AF_INET, '10.1.2.3', 16],
		[['inet', '10.1.2.3', 'netmask', '0xffffff00'], AF_INET, '10.1.2.3', 24],
		[['inet', '10.1.2.3'], AF_INET, '10.1.2.3', 8],
		[['inet', '172.16.0.1'], AF_INET, '172.16.0.1', 16],
		[['inet', '192.168.0.1'], AF_INET, '192.168.0.1', 24],
		[['192.168.7.1/30'], AF_INET, '192.168.7.1', 30],
		[['inet6', 'fd00::1'], AF_INET6, 'fd00::1', 64],
		[['inet6', 'fd00::2', 'prefixlen', '48'], AF_INET6, 'fd00::2', 48],
		[['inet6', 'fd00::3/128', 'alias'], AF_INET6, 'fd00::3', 128],
		[['fc00::1/7'], AF_INET6, 'fc00::1', 7],
	];
	for (const [args, family, addr, prefixlen] of cases) {
		fk.requests.length = 0;
		const r = await ifconfig('wg0', ...args);
		t.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
		const add = ioctls().find((q) => q.req === SIOCAIFADDR || q.req === SIOCAIFADDR_IN6);
		t.same(add, { op: 'ioctl', req: family === AF_INET ? SIOCAIFADDR : SIOCAIFADDR_IN6, name: 'wg0',
		    ifaddr: { family, addr, prefixlen } }, args.join(' '));
	}
	t.same(ifs.get('wg0')?.addrs.filter((a) => a.family === AF_INET).map((a) => a.addr), ['192.168.7.1'],
	    'inet without alias replaced the previous inet address each time');
	t.equal(ifs.get('wg0')?.addrs.filter((a) => a.family === AF_INET6).length, 4, 'inet6 adds');

	fk.requests.length = 0;
	let r = await ifconfig('wg0', 'inet', '10.9.9.9/24', 'alias');
	t.equal(r.code, 0);
	t.notOk(ioctls().some((q) => q.req === SIOCDIFADDR), 'alias keeps the old address');
	r = await ifconfig('wg0', 'inet', '10.9.9.9', 'delete');
	t.equal(r.code, 0);
	t.same(ioctls().at(-1), { op: 'ioctl', req: SIOCDIFADDR, name: 'wg0', ifaddr: { family: AF_INET, addr: '10.9.9.9', prefixlen: 8 } });
	r = await ifconfig('wg0', 'inet6', 'fd00::1', '-alias');
	t.equal(r.code, 0);
	r = await ifconfig('wg0', 'inet6', 'fd00::99', 'delete');
	t.equal(r.stderr, 'ifconfig: SIOCDIFADDR: Can\'t assign requested address\n');
	t.equal(r.code, 1);
});

t.test('bad values', async (t) => {
	fresh();
	await ifconfig('wg0', 'create');
	fk.requests.length = 0;
	const cases: Array<[string[], string]> = [
		[['inet', '10.0.0.300/24'], '10.0.0.300/24: bad value'],
		[['inet', '10.0.0.1/33'], '10.0.0.1/33: bad value'],
		[['inet6', 'fd00::1/129'], 'fd00::1/129: bad value'],
		[['inet', 'fd00::1'], 'fd00::1: bad value'],
		[['inet', '10.0.0.1', 'netmask', '255.0.255.0'], '255.0.255.0: bad value'],
		[['inet', '10.0.0.1', 'netmask'], 'netmask: missing argument'],
		[['mtu', 'abc'], 'abc: bad value'],
		[['mtu'], 'mtu: missing argument'],
		[['frobnicate'], 'frobnicate: bad value'],
		[['10.0.0.1/24', '10.0.0.2/24'], '10.0.0.2/24: bad value'],
		[['alias'], 'no address given'],
	];
	const results = await Promise.all(cases.map(([args]) => ifconfig('wg0', ...args)));
	cases.forEach(([args, msg], i) => {
		t.equal(results[i].stderr, `ifconfig: ${msg}\n`, args.join(' '));
		t.equal(results[i].code, 1);
	});
	t.equal(ioctls().length, 0, 'nothing reached the kernel');
});

t.test('kernel errors', async (t) => {
	fresh();
	await ifconfig('wg0', 'create');
	let r = await ifconfig('wg0', 'create');
	t.equal(r.stderr, 'ifconfig: SIOCIFCREATE: File exists\n');
	t.equal(r.code, 1);
	r = await ifconfig('foo0', 'create');
	t.equal(r.stderr, 'ifconfig: SIOCIFCREATE: Invalid argument\n');
	r = await ifconfig('wg0', 'mtu', '100');
	t.equal(r.stderr, 'ifconfig: SIOCSIFMTU: Invalid argument\n');
	r = await ifconfig('wg7', 'up');
	t.equal(r.stderr, 'ifconfig: SIOCGIFFLAGS: Device not configured\n');
	t.equal(r.code, 1);
	r = await ifconfig('wg7', 'destroy');
	t.equal(r.stderr, 'ifconfig: SIOCIFDESTROY: Device not configured\n');
	r = await ifconfig('wg7');
	t.equal(r.stderr, 'ifconfig: SIOCGIFFLAGS: Device not configured\n', 'show an unknown interface');
	t.equal(r.code, 1);
	t.equal(r.stdout, '');
	r = await run(PROG, ['wg0', 'up'], { id: fk.id + 1 });
	t.equal(r.stderr, 'ifconfig: SIOCGIFFLAGS: Device not configured\n', 'no kernel instance');
	r = await ifconfig('wg0123456789abcd', 'create');
	t.equal(r.stderr, 'ifconfig: wg0123456789abcd: interface name too long\n');
});

t.test('host interfaces are shown, not changed', async (t) => {
	fresh();
	await ifconfig('wg0', 'create', 'inet', '10.0.0.1/24');
	let r = await ifconfig('lo');
	t.match(r.stdout, /^lo: flags=0x[0-9a-f]+<UP,LOOPBACK,RUNNING[A-Z,]*> mtu \d+\n\tstatus: active\n\tinet 127\.0\.0\.1\/8 flags 0x0\n/);
	t.equal(r.code, 0);
	fk.requests.length = 0;
	r = await ifconfig('lo', 'mtu', '1500');
	t.equal(r.stderr, 'ifconfig: lo: not an interface of the wg(4) kernel; configure host interfaces with ip(8)\n');
	t.equal(r.code, 1);
	t.notOk(ioctls().some((q) => q.req === SIOCSIFMTU), 'no change requested');
	r = await ifconfig('lo', 'destroy');
	t.equal(r.code, 1);
	t.match(r.stderr, 'not an interface of the wg(4) kernel');

	r = await ifconfig('-a');
	t.equal(r.code, 0);
	t.match(r.stdout, /(^|\n)lo: flags=/);
	t.match(r.stdout, '\nwg0: flags=0x8041<UP,RUNNING,MULTICAST> mtu 1420\n\tstatus: no carrier\n\tinet 10.0.0.1/24 flags 0x0\n');
	r = await ifconfig('-l');
	const names = r.stdout.trim().split(' ');
	t.ok(names.includes('lo') && names.includes('wg0'));
	t.equal(names.length, new Set([...readdirSync('/sys/class/net'), 'wg0']).size, 'every interface once');
});

t.test('cloners and usage', async (t) => {
	fresh();
	let r = await ifconfig('-C');
	t.equal(r.stdout, 'wg\n');
	t.same(ioctls(), [{ op: 'ioctl', req: SIOCIFGCLONERS, name: '' }]);
	r = await run(PROG, ['-C'], { id: fk.id + 1 });
	t.equal(r.stdout, 'wg\n', 'no instance yet: wg can still be created');
	for (const args of [[], ['-x'], ['-a', 'lo'], ['-h']]) {
		r = await ifconfig(...args);
		t.equal(r.code, 1, args.join(' '));
		t.match(r.stderr, /^usage: ifconfig /);
		t.equal(r.stdout, '');
	}
});

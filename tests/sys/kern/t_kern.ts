// SPDX-License-Identifier: BSD-2-Clause
/*
 * A kernel instance as wg-userspace(8) runs it, in a fresh namespace:
 * boot, the control socket's robustness against malformed frames,
 * credentials (SO_PEERCRED), reboot and SIGTERM, and instances with the
 * same id in two namespaces.
 */

import { readFileSync } from 'node:fs';
import t from 'tap';
import { Lab, NODE, wait_until } from '../../harness/netns.js';
import { EINVAL, EPERM } from '../../../sys/sys/errno.js';
import { SIOCIFCREATE, SIOCIFGCLONERS } from '../../../sys/sys/sockio.js';
import { SHIM_REQUEST_TIMEOUT_MS, SHIM_UID_CONNECTIONS } from '../../../sys/kern/kern_shim.js';
import { SHIM_MAX_USER_REQUEST } from '../../../sys/sys/shim.js';
import { WGU, boot_daemon, client, frame_b64, kclient, logfile, random_id, request, wgu } from '../../harness/kern.js';

function pid_alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

t.test('boot, ifconf, malformed frames', async (t) => {
	const lab = new Lab(t, 'wgk');
	const h = lab.host('a');
	const id = random_id();
	await boot_daemon(t, h, id);

	t.same(await request(h, id, { op: 'ifconf' }), { errno: 0, ifs: [] }, 'a fresh instance has no interfaces');
	const cl = await request(h, id, { op: 'ioctl', req: SIOCIFGCLONERS, name: '' });
	t.equal(cl.errno, 0);
	t.ok(Array.isArray(cl.cloners), 'SIOCIFGCLONERS lists cloners');

	const sysctl_ok = { req: { op: 'sysctl', name: 'net.wg.rekey_timeout' } };
	const ok_reply = { errno: 0, sysctl: [['net.wg.rekey_timeout', '5']] };

	const bad_bodies: Array<[string, Buffer | string]> = [
		['not JSON', '{nope'],
		['empty frame', ''],
		['not UTF-8', Buffer.from([0xff, 0xfe, 0xfd])],
		['JSON null', 'null'],
		['JSON string', '"ioctl"'],
		['JSON array', '[1,2]'],
		['unknown op', '{"op":"bogus"}'],
		['op not a string', '{"op":1}'],
		['ioctl without name', '{"op":"ioctl","req":1}'],
		['ioctl req a string', '{"op":"ioctl","req":"1","name":"wg0"}'],
		['ioctl req fractional', '{"op":"ioctl","req":1.5,"name":"wg0"}'],
		['ioctl bad ifaddr', '{"op":"ioctl","req":1,"name":"wg0","ifaddr":{"family":2}}'],
		['ioctl flags a string', '{"op":"ioctl","req":1,"name":"wg0","flags":"1"}'],
		['sysctl value a number', '{"op":"sysctl","name":"net.wg.debug","value":1}'],
		['prototype pollution', '{"op":"sysctl","__proto__":{"value":"7"},"name":"net.wg.debug"}'],
	];
	const steps = [];
	for (const [, body] of bad_bodies)
		steps.push({ raw: frame_b64(body), wait: true });
	steps.push(sysctl_ok);
	const out = await client(h, id, steps);
	bad_bodies.forEach(([what], i) => {
		if (what === 'prototype pollution')
			t.same(out[i], { errno: 0, sysctl: [['net.wg.debug', '0']] }, `${what}: a plain read, nothing written`);
		else
			t.equal(out[i].errno, EINVAL, `${what}: EINVAL`);
	});
	t.same(out[bad_bodies.length], ok_reply, 'the same connection still works');

	const two = Buffer.concat([
		Buffer.from(frame_b64(JSON.stringify({ op: 'sysctl', name: 'net.wg.rekey_timeout' })), 'base64'),
		Buffer.from(frame_b64(JSON.stringify({ op: 'sysctl', name: 'net.wg.keepalive_timeout' })), 'base64'),
	]).toString('base64');
	const [p1, p2] = await client(h, id, [{ raw: two, wait: true }, { raw: '', wait: true }]);
	t.same(p1, ok_reply, 'two frames in one write: first reply');
	t.same(p2, { errno: 0, sysctl: [['net.wg.keepalive_timeout', '10']] }, 'second reply, in order');

	const over = await client(h, id, [{ raw: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7b]).toString('base64'), wait: true }, { raw: '', wait: true }]);
	t.equal(over[0].errno, EINVAL, 'length over SHIM_MAX_REQUEST: EINVAL');
	t.same(over[1], { closed: true }, '... and the connection is closed');

	const garbage = await client(h, id, [{ raw: Buffer.from('GET / HTTP/1.0\r\n\r\n').toString('base64'), wait: true }, { raw: '', wait: true }]);
	t.equal(garbage[0].errno, EINVAL, 'unframed text reads as a huge length: EINVAL');
	t.same(garbage[1], { closed: true });

	const partial = await client(h, id, [
		{ raw: Buffer.concat([Buffer.from([0, 0, 0, 100]), Buffer.from('{"op":')]).toString('base64') },
		{ new: true },
		sysctl_ok,
	]);
	t.same(partial, [ok_reply], 'a client gone mid-frame leaves the instance serving');

	const st = await wgu(h, id, ['status']);
	t.equal(st.code, 0, 'still running after all of it');
	t.match(readFileSync(logfile(h), 'utf8'), /<info> booted: pid \d+, control socket @wg-userspace\.\d+/, 'boot is logged');
	t.match(readFileSync(logfile(h), 'utf8'), /<warning> control request from pid \d+: not JSON/, 'bad requests are logged');
});

t.test('credentials: SO_PEERCRED decides', async (t) => {
	const lab = new Lab(t, 'wgk');
	const h = lab.host('a');
	const id = random_id();
	await boot_daemon(t, h, id);
	const nobody = { user: 'nobody' as const };

	t.equal((await request(h, id, { op: 'sysctl', name: 'net.wg.debug', value: '1' }, nobody)).errno, EPERM,
	    'sysctl write from uid 65534: EPERM');
	t.same(await request(h, id, { op: 'sysctl', name: 'net.wg.debug' }, nobody),
	    { errno: 0, sysctl: [['net.wg.debug', '0']] }, '... nothing changed; reads are open to anyone');
	t.equal((await request(h, id, { op: 'reboot' }, nobody)).errno, EPERM, 'reboot from uid 65534: EPERM');
	t.equal((await request(h, id, { op: 'ioctl', req: SIOCIFCREATE, name: 'wg0' }, nobody)).errno, EPERM,
	    'SIOCIFCREATE from uid 65534: EPERM');
	t.same(await request(h, id, { op: 'ifconf' }, nobody), { errno: 0, ifs: [] }, 'ifconf from uid 65534');
	/* Claiming to be root in the request changes nothing: there is no such field. */
	t.equal((await request(h, id, { op: 'sysctl', name: 'net.wg.debug', value: '1', uid: 0, cred: { uid: 0 } }, nobody)).errno,
	    EPERM, 'credentials come from the socket, not the request');

	const hog = new kclient(h, id, 'nobody');
	t.teardown(() => hog.close());
	const [held] = await hog.steps([{ hold: SHIM_UID_CONNECTIONS + 8 }]);
	/* The client's own connection for the step counts too. */
	t.same(held, { answered: SHIM_UID_CONNECTIONS - 1, closed: 9 }, 'the connections of one non-root uid are capped');
	t.same(await request(h, id, { op: 'ifconf' }), { errno: 0, ifs: [] }, '... and root still gets in');
	hog.close();
	t.ok(await wait_until(async () => (await request(h, id, { op: 'ifconf' }, nobody)).errno === 0, 5000),
	    'freed when the holder goes');

	const cli = await wgu(h, id, ['sysctl', '-w', 'net.wg.debug=3'], nobody);
	t.equal(cli.code, 1, 'wg-userspace sysctl -w as nobody fails');
	t.match(cli.stderr, /^wg-userspace: net\.wg\.debug: Operation not permitted$/m);
	const d = await wgu(h, id, ['destroy'], nobody);
	t.equal(d.code, 1, 'destroy as nobody fails');
	t.match(d.stderr, /must be run as root/);
	t.equal((await wgu(h, id, ['status'])).code, 0, 'still running');
});

t.test('limits: request size by credentials, a request that never completes', async (t) => {
	const lab = new Lab(t, 'wgk');
	const h = lab.host('a');
	const id = random_id();
	await boot_daemon(t, h, id);
	const nobody = { user: 'nobody' as const };
	/* A read with a long name: over the non-root limit, well under root's. */
	const big = { op: 'sysctl', name: 'net.wg.debug', pad: 'x'.repeat(SHIM_MAX_USER_REQUEST) };
	const as_root = await client(h, id, [{ req: big }]);
	t.same(as_root[0], { errno: 0, sysctl: [['net.wg.debug', '0']] }, 'root: a request over 16 KiB is served');
	const as_user = await client(h, id, [{ req: big }, { raw: '', wait: true }], nobody);
	t.equal(as_user[0].errno, EINVAL, 'nobody: over SHIM_MAX_USER_REQUEST is EINVAL');
	t.same(as_user[1], { closed: true }, '... and the connection is closed');

	const t0 = Date.now();
	const slow = await client(h, id, [{ raw: Buffer.from([0, 0, 0, 40, 0x7b]).toString('base64'), wait: true }], nobody);
	t.same(slow, [{ closed: true }], 'a request that never completes: the connection is closed');
	t.ok(Date.now() - t0 >= SHIM_REQUEST_TIMEOUT_MS - 1000, 'after SHIM_REQUEST_TIMEOUT_MS');
	t.match(readFileSync(logfile(h), 'utf8'), /uid 65534 pid \d+: request timed out, closed/, 'and it is logged');
	t.same(await request(h, id, { op: 'sysctl', name: 'net.wg.debug' }, nobody),
	    { errno: 0, sysctl: [['net.wg.debug', '0']] }, 'nobody is still served');
});

t.test('create twice, destroy, socket gone', async (t) => {
	const lab = new Lab(t, 'wgk');
	const h = lab.host('a');
	const id = random_id();
	await boot_daemon(t, h, id);
	const again = await wgu(h, id, ['create']);
	t.equal(again.code, 1, 'create while running fails');
	t.equal(again.stderr, `wg-userspace: instance ${id} already running\n`);

	const kernel = h.spawn([NODE, WGU, String(id), '--kernel']);
	const k = await kernel.wait();
	t.equal(k.code, 1, 'a second kernel with the same id in the same namespace does not boot');
	t.match(k.stderr, `instance ${id} already running`);

	const st = await wgu(h, id, ['status']);
	const m = /running, pid (\d+)/.exec(st.stdout);
	t.ok(m, 'status names the pid');
	const pid = Number(m?.[1]);
	t.ok(pid_alive(pid));
	const unix = (): string => readFileSync(`/proc/${pid}/net/unix`, 'utf8');
	t.match(unix(), `@wg-userspace.${id}`, 'the abstract socket is there');

	const d = await wgu(h, id, ['destroy']);
	t.equal(d.code, 0, 'destroy');
	t.equal(d.stderr, '');
	t.same(await request(h, id, { op: 'ifconf' }), { connect: 'ECONNREFUSED' }, 'the socket no longer answers');
	t.ok(await wait_until(() => !pid_alive(pid), 5000), 'the kernel process exited');
	const ns_unix = await h.exec(['cat', '/proc/net/unix']);
	t.notMatch(ns_unix.stdout, `@wg-userspace.${id}`, 'the abstract name is gone from the namespace');
	const st2 = await wgu(h, id, ['status']);
	t.equal(st2.code, 1, 'status: not running');
	t.equal(st2.stdout, `instance ${id}: not running\n`);
	const d2 = await wgu(h, id, ['destroy']);
	t.equal(d2.code, 1, 'destroy when not running fails');
	t.equal(d2.stderr, `wg-userspace: instance ${id} not running\n`);
	t.match(readFileSync(logfile(h), 'utf8'), /<notice> rebooting: reboot requested by pid \d+[\s\S]*<notice> halted/);
});

t.test('SIGTERM and SIGINT: clean exit', async (t) => {
	const lab = new Lab(t, 'wgk');
	const h = lab.host('a');
	for (const sig of ['SIGTERM', 'SIGINT'] as const) {
		const id = random_id();
		const k = h.spawn([NODE, WGU, String(id), '--kernel']);
		t.ok(await k.wait_for(/booted/, 10_000), `${sig}: foreground kernel booted`);
		t.equal((await request(h, id, { op: 'ifconf' })).errno, 0);
		const r = await k.stop(sig);
		t.equal(r.code, 0, `${sig}: exit status 0`);
		t.match(r.stderr, new RegExp(`rebooting: ${sig}[\\s\\S]*halted`), `${sig}: logged`);
		t.same(await request(h, id, { op: 'ifconf' }), { connect: 'ECONNREFUSED' }, `${sig}: socket gone`);
	}
});

t.test('the same id in two namespaces', async (t) => {
	const lab = new Lab(t, 'wgk');
	const a = lab.host('a');
	const b = lab.host('b');
	const id = random_id();
	await boot_daemon(t, a, id);
	await boot_daemon(t, b, id);
	t.equal((await wgu(a, id, ['sysctl', '-w', 'net.wg.rekey_timeout=2'])).code, 0);
	t.equal((await wgu(b, id, ['sysctl', '-w', 'net.wg.rekey_timeout=3'])).code, 0);
	t.equal((await wgu(a, id, ['sysctl', '-n', 'net.wg.rekey_timeout'])).stdout, '2\n', 'a keeps its own value');
	t.equal((await wgu(b, id, ['sysctl', '-n', 'net.wg.rekey_timeout'])).stdout, '3\n', 'b keeps its own value');
	t.equal((await wgu(a, id, ['destroy'])).code, 0, 'destroy a');
	t.equal((await wgu(b, id, ['status'])).code, 0, 'b still running');
	t.equal((await wgu(a, id, ['status'])).code, 1, 'a gone');
});

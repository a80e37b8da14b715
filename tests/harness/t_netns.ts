// SPDX-License-Identifier: BSD-2-Clause
/*
 * Self-test of the namespace harness: hosts, a segment, addresses,
 * commands inside hosts, capture, the nc replacement, and cleanup that
 * leaves nothing behind.  It requires root (network namespaces).
 */

import t from 'tap';
import { existsSync, readdirSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { Lab, OBJ_BIN, count_lines, lab_namespaces, pid_alive, udp_re, wait_until, type BgProcess } from './netns.js';

t.test('two hosts on a segment', async (t) => {
	let lab_id = '';
	let bg_pid = 0;
	let dir = '';
	await t.test('setup, ping, capture', async (t) => {
		const lab = new Lab(t, 'self');
		lab_id = lab.id;
		dir = lab.dir;
		const a = lab.host('local');
		const b = lab.host('peer');
		const seg = lab.segment('bus', [a, b]);
		t.equal(seg.ifname(a), 'shmif0', 'first segment interface is shmif0');
		lab.addr(a, 'shmif0', '192.168.1.1/24');
		lab.addr(b, 'shmif0', '192.168.1.2/24');
		lab.addr(a, 'shmif0', 'fc00::1/64');
		lab.addr(b, 'shmif0', 'fc00::2/64');

		const cap = await lab.capture(seg);
		await a.check(['ping', '-n', '-c', '1', '-w', '3', '192.168.1.2']);
		await b.check(['ping', '-6', '-n', '-c', '1', '-w', '3', 'fc00::1']);
		await a.check_fail(['ping', '-n', '-c', '1', '-w', '1', '192.168.1.3']);

		const sport = await a.udp_send('192.168.1.2', 51820, 'x');
		t.ok(sport > 0, 'udp_send reports its source port');
		await a.udp_send('fc00::2', 51820, '');
		const lines = await cap.new_lines();
		t.equal(count_lines(lines, udp_re('192.168.1.1', sport, '192.168.1.2', 51820, 1)), 1,
		    'capture saw the 1-byte datagram', { lines });
		t.equal(count_lines(lines, /fc00::1\.\d+ > fc00::2\.51820: UDP, length 0/), 1,
		    'capture saw the empty IPv6 datagram', { lines });
		t.equal((await cap.new_lines()).length, 0, 'new_lines returns only new lines');

		/* Commands resolve to ours first, and run in the host's directory. */
		const r = await a.check('echo "$PATH"; pwd');
		t.ok(r.stdout.startsWith(`${OBJ_BIN}:`), 'PATH starts with obj/bin', { stdout: r.stdout });
		t.match(r.stdout, a.dir, 'cwd is the host directory');
		const env = await a.check('echo "$FOO"', { env: { FOO: 'bar' } });
		t.equal(env.stdout, 'bar\n', 'environment passthrough');
		const tapenv = await a.check('env');
		t.notMatch(tapenv.stdout, /^TAP_|@tapjs/m, "tap's hooks do not leak into commands");

		/* Each host has its own /run/wireguard. */
		await a.check('echo a > /run/wireguard/self-test.sock');
		await b.check_fail('test -e /run/wireguard/self-test.sock');
		t.notOk(existsSync('/run/wireguard/self-test.sock'), 'nothing lands in the real /run/wireguard');
		t.ok(existsSync(`${a.rundir}/self-test.sock`), "it is in the host's own run directory");

		/* Unprivileged commands. */
		const id = await a.check(['id', '-u'], { user: 'nobody' });
		t.equal(id.stdout.trim(), '65534', 'user: nobody');

		/* The TCP helper moves bytes intact, IPv4 and IPv6. */
		for (const dst of ['192.168.1.2', 'fc00::2']) {
			const srv = await b.tcp_serve(1234, b.path('got'));
			const sent = await a.tcp_send(dst, 1234, { random: 300_000 });
			const got = await srv.wait(10_000);
			t.equal(sent.code, 0, `tcp-send to ${dst}`, { stderr: sent.stderr });
			t.equal(got.code, 0, 'tcp-serve', { stderr: got.stderr });
			t.same(JSON.parse(got.stdout.split('\n')[1] ?? '{}'), JSON.parse(sent.stdout),
			    'bytes and sha256 match');
		}

		/* A point-to-point pair. */
		const c = lab.host('third');
		lab.veth(a, c);
		lab.addr(a, 'shmif1', '10.9.0.1/30');
		lab.addr(c, 'shmif0', '10.9.0.2/30');
		await c.check(['ping', '-n', '-c', '1', '-w', '3', '10.9.0.1']);

		/* Something for cleanup to kill. */
		const bg: BgProcess = b.spawn(['sleep', '1000']);
		bg_pid = bg.pid ?? 0;
		t.ok(bg_pid > 0 && pid_alive(bg_pid), 'background process runs');

		const all = await cap.stop();
		t.ok(all.length >= 2, 'stop returns every line');
		t.equal(lab_namespaces(lab).length, 4, 'three hosts and the wire namespace exist');
	});

	t.equal(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.includes(lab_id), false,
	    'no namespace remains after cleanup');
	t.notOk(existsSync('/run/netns') && readdirSync('/run/netns').some((n) => n.startsWith(lab_id)),
	    'no /run/netns entry remains');
	t.notOk(pid_alive(bg_pid), 'background process was killed');
	t.notOk(existsSync(dir), 'temporary directory removed');
});

/*
 * A test process that dies without tap's teardown (exit, SIGTERM) must
 * still leave nothing behind: the process hooks clean up.
 */
for (const how of ['exit', 'SIGTERM'] as const) {
	t.test(`cleanup on ${how} without teardown`, async (t) => {
		const netns_url = new URL('./netns.js', import.meta.url).href;
		const script = `
			import { Lab } from ${JSON.stringify(netns_url)};
			const stub = { teardown() {}, equal() {}, ok() {}, comment() {}, fail() {} };
			const lab = new Lab(stub, 'self');
			const h = lab.host('x');
			h.spawn(['sleep', '1000']);
			console.log(lab.id);
			if (${JSON.stringify(how)} === 'exit')
				setTimeout(() => process.exit(0), 200);
			else
				setInterval(() => {}, 1000);
		`;
		const child = spawn(process.execPath, ['--input-type=module', '-e', script],
		    { stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		let err = '';
		child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
		child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
		await wait_until(() => out.includes('\n'), 10_000);
		const id = out.trim();
		t.match(id, /^nst_self_\d+_1$/, 'child made a lab', { stderr: err });
		t.ok(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.includes(id), 'its namespace exists');
		if (how === 'SIGTERM')
			child.kill('SIGTERM');
		const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
		    child.on('close', (c, s) => resolve([c, s])));
		t.ok(how === 'exit' ? code === 0 : signal === 'SIGTERM', `child ended by ${how}`, { code, signal, stderr: err });
		t.notOk(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.includes(id),
		    'no namespace remains');
	});
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * make install / make uninstall (share/mk/wg-install.sh): install into a
 * temporary PREFIX, run NetBSD's workflow between two namespaces with
 * the installed launchers only (PATH = PREFIX/sbin:PREFIX/bin and the
 * system's, working directory /), start an instance the way the systemd
 * unit does, render every installed man page, then uninstall and find
 * the tree empty.  A DESTDIR install is checked for its paths.
 */

import t from 'tap';
import { spawnSync } from 'node:child_process';
import {
	chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, require_progs, wait_until, type Host } from '../../harness/netns.js';

t.setTimeout(600_000);

/* obj/tests/usr.sbin/wg-userspace/t_install.js -> the top of the source tree. */
const SRC = fileURLToPath(new URL('../../../../', import.meta.url)).replace(/\/$/, '');

const PROGRAMS = ['sbin/ifconfig', 'sbin/wgconfig', 'sbin/wg-userspace', 'bin/wg-keygen'];
const MAN_PAGES = ['share/man/man4/wg.4', 'share/man/man8/ifconfig.8', 'share/man/man8/wg-keygen.8',
    'share/man/man8/wg-userspace.8', 'share/man/man8/wgconfig.8'];

/* Our environment minus tap's hooks (and an outer make's, for make test), for make and man. */
function clean_env(extra: Record<string, string> = {}): Record<string, string> {
	const env: Record<string, string> = {};
	for (const [k, v] of Object.entries(process.env))
		if (v !== undefined && !/^(TAP|_TAPJS_)/.test(k) && !['NODE_OPTIONS', 'MAKEFLAGS', 'MFLAGS', 'MAKELEVEL'].includes(k))
			env[k] = v;
	return { ...env, LC_ALL: 'C', ...extra };
}

/* make -s TARGET VARS..., without rebuilding (make test built obj/ already). */
function make(target: string, vars: string[]): { code: number; out: string } {
	const r = spawnSync('make', ['-s', '-o', 'obj/.tsbuilt', target, ...vars],
	    { cwd: SRC, encoding: 'utf8', env: clean_env(), timeout: 120_000 });
	return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function walk(dir: string): string[] {
	const out: string[] = [];
	for (const e of readdirSync(dir, { withFileTypes: true })) {
		const p = join(dir, e.name);
		out.push(p);
		if (e.isDirectory())
			out.push(...walk(p));
	}
	return out;
}

function manifest(path: string): { files: string[]; dirs: string[] } {
	const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
	return {
		files: lines.filter((l) => l.startsWith('f ')).map((l) => l.slice(2)),
		dirs: lines.filter((l) => l.startsWith('d ')).map((l) => l.slice(2)),
	};
}

function ns_cmdlines(h: Host): string[] {
	const r = spawnSync('ip', ['netns', 'pids', h.ns], { encoding: 'utf8' });
	return r.stdout.split(/\s+/).filter((s) => s !== '').map((pid) => {
		try {
			return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
		} catch {
			return '';
		}
	});
}

t.test('make install into a temporary PREFIX, use it, make uninstall', async (t) => {
	if (!require_progs(t, ['make', 'man', 'ping']))
		return;
	const top = mkdtempSync(join(tmpdir(), 'wginst-'));
	chmodSync(top, 0o755);
	const prefix = join(top, 'usr');
	t.teardown(() => {
		if (existsSync(prefix))
			make('uninstall', [`PREFIX=${prefix}`]);
		rmSync(top, { recursive: true, force: true });
	});

	const inst = make('install', [`PREFIX=${prefix}`]);
	t.equal(inst.code, 0, 'make install PREFIX=...', { output: inst.out });
	if (inst.code !== 0)
		return;
	const libdir = join(prefix, 'lib/netbsd-wg');
	const m = manifest(join(libdir, 'MANIFEST'));
	for (const p of PROGRAMS) {
		const st = statSync(join(prefix, p), { throwIfNoEntry: false });
		t.ok(st !== undefined && (st.mode & 0o111) !== 0, `${p}: an executable launcher`);
	}
	for (const p of [...MAN_PAGES, 'lib/systemd/system/wg-userspace@.service', 'share/examples/wg/demo.sh',
	    'share/examples/wg/instance-0.sh', 'lib/netbsd-wg/package.json', 'lib/netbsd-wg/libexec/wg-userspace-rc',
	    'lib/netbsd-wg/usr.sbin/wg-userspace/wg-userspace.js', 'lib/netbsd-wg/sys/net/if_wg_intr.js'])
		t.ok(existsSync(join(prefix, p)), `${p} installed`);
	for (const mod of ['koffi', '@noble/hashes', '@noble/ciphers', '@noble/curves'])
		t.ok(existsSync(join(libdir, 'node_modules', mod, 'package.json')), `node_modules/${mod}`);
	for (const dev of ['tap', 'typescript', 'eslint', '@types'])
		t.notOk(existsSync(join(libdir, 'node_modules', dev)), `no ${dev} (development only)`);
	t.same(m.files.filter((f) => !f.startsWith(`${libdir}/node_modules/`) && /\/tests\/|\.ts$/.test(f)), [],
	    'no tests, no TypeScript sources of ours');

	/* The manifest is exact: every file under PREFIX, nothing else. */
	const on_disk = walk(prefix).filter((p) => !statSync(p).isDirectory()).sort();
	t.same(on_disk, [...m.files, join(libdir, 'MANIFEST')].sort(), 'the manifest lists every installed file');
	t.same(walk(prefix).filter((p) => statSync(p).isDirectory()).sort(),
	    m.dirs.filter((d) => d !== prefix).sort(), 'and every directory install created');
	t.ok(m.dirs.includes(prefix), 'PREFIX itself, which did not exist, is recorded');

	const unit = readFileSync(join(prefix, 'lib/systemd/system/wg-userspace@.service'), 'utf8');
	t.notMatch(unit, /@[A-Z]+@/, 'unit: no placeholder left');
	t.match(unit, `\nExecStart=${prefix}/sbin/wg-userspace %i --kernel\n`, 'unit: ExecStart runs the installed instance');

	/* --- NetBSD's workflow, with the installed programs only --- */
	const lab = new Lab(t, 'inst');
	const [left, right] = lab.pair('left', 'right');
	const PATH = `${prefix}/sbin:${prefix}/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
	const opts = { env: { PATH, WG_USERSPACE_LOG: '' }, cwd: '/' };
	const run = (h: Host, cmd: string[], input?: string): ReturnType<Host['check']> =>
	    h.check(cmd, { ...opts, input, env: { ...opts.env, WG_USERSPACE_LOG: h.path('kernel.log') } });

	t.equal((await run(left, ['sh', '-c', 'for c in ifconfig wgconfig wg-keygen wg-userspace; do command -v $c; done'])).stdout,
	    `${prefix}/sbin/ifconfig\n${prefix}/sbin/wgconfig\n${prefix}/bin/wg-keygen\n${prefix}/sbin/wg-userspace\n`,
	    'PATH finds the installed launchers');
	const keys = new Map<Host, { priv: string; pub: string }>();
	for (const h of [left, right]) {
		const priv = (await run(h, ['wg-keygen'])).stdout;
		const pub = (await run(h, ['wg-keygen', '--pub'], priv)).stdout.trim();
		h.write('key', priv);
		keys.set(h, { priv: priv.trim(), pub });
	}
	const sides: Array<[Host, Host, number]> = [[left, right, 1], [right, left, 2]];
	for (const [h, other, n] of sides) {
		await run(h, ['ifconfig', 'wg0', 'create']);
		await run(h, ['ifconfig', 'wg0', 'inet', `10.64.0.${n}/24`]);
		await run(h, ['wgconfig', 'wg0', 'set', 'private-key', h.path('key')]);
		await run(h, ['wgconfig', 'wg0', 'set', 'listen-port', '51820']);
		await run(h, ['wgconfig', 'wg0', 'add', 'peer', other.name, keys.get(other)?.pub ?? '',
		    `--endpoint=192.0.2.${3 - n}:51820`, `--allowed-ips=10.64.0.${3 - n}/32`]);
	}
	await run(left, ['ping', '-c', '3', '-i', '0.2', '-w', '10', '10.64.0.2']);
	await run(right, ['ping', '-c', '3', '-i', '0.2', '-w', '10', '10.64.0.1']);
	const show = (await run(left, ['wgconfig', 'wg0'])).stdout;
	t.match(show, `\tpeer: right\n\t\tpublic-key: ${keys.get(right)?.pub}\n`, 'wgconfig wg0: the peer');
	t.notMatch(show, 'latest-handshake: (never)', 'wgconfig wg0: a handshake');
	t.match((await run(left, ['wg-userspace', '0', 'status'])).stdout, /^instance 0: running, pid \d+\nwg0: /,
	    'wg-userspace 0 status');
	t.match((await run(left, ['wg-userspace', '--version'])).stdout, /^wg-userspace v\d/, 'wg-userspace --version');
	const cmds = ns_cmdlines(left).filter((c) => c.includes('wg-userspace'));
	t.ok(cmds.some((c) => c.includes(`${libdir}/usr.sbin/wg-userspace/wg-userspace.js 0 --kernel`)),
	    'the instance runs the installed JavaScript', { cmds });
	t.notOk(cmds.some((c) => c.includes(`${SRC}/`)), 'nothing runs from the source tree', { cmds });

	/* --- as the systemd unit does it: ExecStart, then ExecStartPost with a boot file --- */
	const boot = lab.host('boot');
	const exec_line = (key: string, id = '1'): string[] =>
	    (new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1] ?? '').replace(/%i/g, id).split(' ');
	const kernel = boot.spawn(exec_line('ExecStart'), { env: { PATH }, cwd: '/' });
	const rc = boot.write('instance-1.sh',
	    'ifconfig wg3 create\nifconfig wg3 inet 10.77.0.1/24\nwgconfig wg3 set listen-port 51999\n', 0o644);
	const post = await boot.exec([...exec_line('ExecStartPost'), rc], { env: { PATH }, cwd: '/' });
	t.equal(post.code, 0, 'ExecStartPost (wg-userspace-rc 1 FILE) waits for instance 1 and runs the file',
	    { stdout: post.stdout, stderr: post.stderr, kernel: kernel.stderr });
	t.match((await boot.check(['wg-userspace', '1', 'status'], opts)).stdout, /\nwg3: flags=.*\n(\t.*\n)*\tinet 10\.77\.0\.1\/24/,
	    'wg3 came up in instance 1');
	t.match((await boot.check(['wgconfig', 'wg3'], { ...opts, env: { ...opts.env, WG_USERSPACE_ID: '1' } })).stdout,
	    '\tlisten-port: 51999\n', 'and was configured');
	const stopped = await kernel.stop('SIGTERM');
	t.equal(stopped.code, 0, 'SIGTERM (systemctl stop): the instance exits 0', { stderr: stopped.stderr });
	t.ok(await wait_until(async () => (await boot.exec(['ip', 'link', 'show', 'wg3'])).code !== 0, 5000),
	    'and its interface is gone');

	/* Instance 0 also runs the /etc/ifconfig.wgN files (here in WG_ETCDIR); a bad one stops only itself. */
	const etc = boot.path('etc');
	mkdirSync(etc);
	writeFileSync(join(etc, 'ifconfig.wg0'), 'create\ninet 10.78.0.1/24\n!wgconfig ${int} set listen-port 51998\nup\n');
	writeFileSync(join(etc, 'ifconfig.wg1'), 'create\nbogus\n');
	const boot_env = { PATH, WG_ETCDIR: etc };
	const kernel0 = boot.spawn(exec_line('ExecStart', '0'), { env: boot_env, cwd: '/' });
	const post0 = await boot.exec([...exec_line('ExecStartPost', '0'), boot.path('none.sh')], { env: boot_env, cwd: '/' });
	t.equal(post0.code, 0, 'ExecStartPost of instance 0: a bad /etc/ifconfig.wgN does not fail the start',
	    { stdout: post0.stdout, stderr: post0.stderr, kernel: kernel0.stderr });
	t.match(post0.stderr, `${etc}/ifconfig.wg1:2: "bogus" failed`, 'the bad file and line are named');
	const st0 = (await boot.check(['wg-userspace', '0', 'status'], opts)).stdout;
	t.match(st0, /\nwg0: flags=.*UP.*\n(\t.*\n)*\tinet 10\.78\.0\.1\/24/, 'wg0 came up from ifconfig.wg0');
	t.notMatch(st0, /\nwg1:/, 'wg1 did not');
	t.match((await boot.check(['wgconfig', 'wg0'], opts)).stdout, '\tlisten-port: 51998\n', 'the "!" line ran');
	t.equal((await kernel0.stop('SIGTERM')).code, 0, 'instance 0 stops');

	/* --- man pages --- */
	for (const p of MAN_PAGES) {
		const r = spawnSync('man', ['-l', join(prefix, p)],
		    { encoding: 'utf8', env: clean_env({ MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '80' }) });
		const name = p.replace(/^.*\/(.*)\.\d$/, '$1');
		t.equal(r.status, 0, `man -l ${relative(prefix, join(prefix, p))}`, { stderr: r.stderr });
		t.match(r.stdout, new RegExp(`NAME\\n\\s+${name.replace(/-/g, '[-\u2010]')} `), `${name}: rendered, NAME section`);
	}
	const mm = spawnSync('man', ['-M', join(prefix, 'share/man'), '8', 'wgconfig'],
	    { encoding: 'utf8', env: clean_env({ MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '80' }) });
	t.equal(mm.status, 0, 'man -M PREFIX/share/man 8 wgconfig', { stderr: mm.stderr });
	t.match(mm.stdout, /WGCONFIG\(8\)/, 'found in the installed hierarchy');

	/* --- uninstall --- */
	await lab.cleanup();
	const un = make('uninstall', [`PREFIX=${prefix}`]);
	t.equal(un.code, 0, 'make uninstall PREFIX=...', { output: un.out });
	t.same(readdirSync(top), [], 'nothing left: every file and every directory install created is gone');
	const again = make('uninstall', [`PREFIX=${prefix}`]);
	t.not(again.code, 0, 'uninstall again: nothing to remove, an error');
	t.match(again.out, /MANIFEST: no such file/);
});

t.test('DESTDIR: staged under DESTDIR, paths without it', async (t) => {
	const top = mkdtempSync(join(tmpdir(), 'wginst-'));
	t.teardown(() => rmSync(top, { recursive: true, force: true }));
	const stage = join(top, 'stage');
	const real_before = existsSync('/usr/lib/netbsd-wg');
	const inst = make('install', [`DESTDIR=${stage}`, 'PREFIX=/usr']);
	t.equal(inst.code, 0, 'make install DESTDIR=... PREFIX=/usr', { output: inst.out });
	const launcher = readFileSync(join(stage, 'usr/sbin/wgconfig'), 'utf8');
	t.match(launcher, `'/usr/lib/netbsd-wg/sbin/wgconfig/wgconfig.js'`, 'the launcher runs /usr/lib/netbsd-wg, not the stage');
	t.notMatch(launcher, stage, 'no DESTDIR in it');
	t.match(readFileSync(join(stage, 'usr/lib/systemd/system/wg-userspace@.service'), 'utf8'),
	    '\nExecStart=/usr/sbin/wg-userspace %i --kernel\n', 'nor in the unit');
	const m = manifest(join(stage, 'usr/lib/netbsd-wg/MANIFEST'));
	t.ok(m.files.length > 0 && m.files.every((f) => f.startsWith('/usr/')), 'the manifest lists /usr paths');
	t.equal(existsSync('/usr/lib/netbsd-wg'), real_before, 'nothing went to the real /usr');
	const un = make('uninstall', [`DESTDIR=${stage}`, 'PREFIX=/usr']);
	t.equal(un.code, 0, 'make uninstall DESTDIR=... PREFIX=/usr', { output: un.out });
	t.same(walk(stage).filter((p) => !statSync(p).isDirectory()), [], 'no file left under DESTDIR');
});

t.test('install refuses to overwrite what it did not install', async (t) => {
	const top = mkdtempSync(join(tmpdir(), 'wginst-'));
	t.teardown(() => rmSync(top, { recursive: true, force: true }));
	const prefix = join(top, 'usr');
	spawnSync('mkdir', ['-p', join(prefix, 'sbin')]);
	spawnSync('sh', ['-c', `echo mine > ${join(prefix, 'sbin/ifconfig')}`]);
	const inst = make('install', [`PREFIX=${prefix}`]);
	t.not(inst.code, 0, 'make install fails');
	t.match(inst.out, /sbin\/ifconfig exists and was not installed by make install/, 'and says why');
	t.equal(readFileSync(join(prefix, 'sbin/ifconfig'), 'utf8'), 'mine\n', 'the file is untouched');
	t.same(readdirSync(prefix).sort(), ['sbin'], 'nothing was installed');
});

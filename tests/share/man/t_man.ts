// SPDX-License-Identifier: BSD-2-Clause
/*
 * share/man: the manual pages.
 *
 * Every page under share/man must pass `mandoc -Tlint -W warning` with
 * nothing to say (style notes, such as an Xr to a page that is not
 * installed, are below that level and allowed), must render with a NAME,
 * SYNOPSIS and DESCRIPTION section both through mandoc and through man(1),
 * and must carry a .Dt that matches its file name.  Then the options the
 * pages document for wgconfig(8) and wg-keygen(8) are compared with the
 * usage text of the programs, both ways, so the two cannot drift apart.
 */

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/* The tree root: the nearest parent holding package.json and share/man. */
function find_root(): string {
	let dir = dirname(fileURLToPath(import.meta.url));
	for (;;) {
		if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'share', 'man')))
			return dir;
		const up = dirname(dir);
		if (up === dir)
			throw new Error('cannot find the source tree (package.json with share/man)');
		dir = up;
	}
}

const root = find_root();
const mandir = join(root, 'share', 'man');

/* Every file share/man/manN/NAME.N. */
function find_pages(): string[] {
	const out: string[] = [];
	for (const sub of readdirSync(mandir).sort()) {
		const m = /^man([1-9])$/.exec(sub);
		const dir = join(mandir, sub);
		if (m === null || !statSync(dir).isDirectory())
			continue;
		for (const f of readdirSync(dir).sort())
			if (f.endsWith(`.${m[1]}`) && statSync(join(dir, f)).isFile())
				out.push(join(dir, f));
	}
	return out;
}

interface run_result { status: number | null; stdout: string; stderr: string; error?: Error }

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): run_result {
	const r = spawnSync(cmd, args, {
		cwd: root, encoding: 'utf8', timeout: 30_000,
		env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'],
	});
	return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

/* Plain text: undo the backspace overstrikes of bold and underline. */
function plain(s: string): string {
	let out = '';
	for (const ch of s)
		out = ch === '\b' ? out.slice(0, -1) : out + ch;
	return out;
}

function have(cmd: string): boolean {
	return run('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/* The text of section `name` in a rendered page, up to the next heading. */
function section(text: string, name: string): string {
	const lines = text.split('\n');
	const start = lines.findIndex((l) => l === name);
	if (start < 0)
		return '';
	const body: string[] = [];
	for (const l of lines.slice(start + 1)) {
		if (/^[A-Z][A-Z ]+$/.test(l))
			break;
		body.push(l);
	}
	return body.join('\n');
}

const pages = find_pages();
const has_mandoc = have('mandoc');
const has_man = have('man');

t.test('the expected pages exist', async (t) => {
	const names = pages.map((p) => `${basename(dirname(p))}/${basename(p)}`);
	for (const want of ['man4/wg.4', 'man8/ifconfig.8', 'man8/wg-keygen.8',
	    'man8/wg-userspace.8', 'man8/wgconfig.8'])
		t.ok(names.includes(want), `share/man/${want}`);
});

for (const page of pages) {
	const rel = page.slice(root.length + 1);
	const sect = /\.([1-9])$/.exec(page)?.[1] ?? '';
	const name = basename(page).replace(/\.[1-9]$/, '');

	t.test(rel, async (t) => {
		t.test('.Dd, .Dt and .Os head the page', async (t) => {
			const src = readFileSync(page, 'utf8');
			t.match(src, /^\.Dd [A-Z][a-z]+ \d{1,2}, \d{4}$/m, '.Dd Month day, year');
			const dt = /^\.Dt (\S+) (\S+)$/m.exec(src);
			t.ok(dt, '.Dt present');
			if (dt !== null) {
				t.equal(dt[1], name.toUpperCase(), '.Dt title is the file name');
				t.equal(dt[2], sect, '.Dt section is the file suffix');
			}
			t.match(src, /^\.Os$/m, '.Os present');
		});

		t.test('mandoc -Tlint -W warning reports nothing', { skip: !has_mandoc && 'mandoc not installed' }, async (t) => {
			const r = run('mandoc', ['-Tlint', '-W', 'warning', page]);
			t.notOk(r.error, 'mandoc ran');
			t.equal(r.stdout + r.stderr, '', 'no message at level warning or above');
			t.equal(r.status, 0, 'exit status 0');
		});

		t.test('mandoc -Tascii renders it', { skip: !has_mandoc && 'mandoc not installed' }, async (t) => {
			const r = run('mandoc', ['-Tascii', page]);
			t.equal(r.status, 0, 'exit status 0');
			const text = plain(r.stdout);
			for (const sh of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'SEE ALSO'])
				t.ok(text.split('\n').includes(sh), `has ${sh}`);
			t.match(section(text, 'NAME'), new RegExp(`\\b${name.replace(/-/g, '\\-')}\\b`),
			    'NAME names the page');
			t.ok(section(text, 'DESCRIPTION').trim().length > 200, 'DESCRIPTION has substance');
		});

		t.test('man -l renders it', { skip: !has_man && 'man not installed' }, async (t) => {
			const env = { ...process.env, MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '80', LANG: 'C.UTF-8' };
			const r = run('man', ['-l', page], env);
			t.equal(r.status, 0, 'exit status 0');
			t.equal(r.stderr, '', 'no formatter warnings');
			const text = plain(r.stdout);
			t.ok(text.split('\n').includes('NAME'), 'has NAME');
			t.ok(text.length > 500, 'not empty');
		});
	});
}

/*
 * The options a page documents against the usage text of its program.
 * A page's options are what its rendered SYNOPSIS shows: "--word" (with
 * its "=" when it takes a value) and, for wgconfig, the two-word commands
 * after the interface.
 */
interface prog_check {
	page: string;
	prog: string;		/* compiled program, relative to the root */
	commands: boolean;	/* also compare "show peer"-style commands */
}

const prog_checks: prog_check[] = [
	{ page: 'man8/wgconfig.8', prog: 'obj/sbin/wgconfig/wgconfig.js', commands: true },
	{ page: 'man8/wg-keygen.8', prog: 'obj/usr.bin/wg-keygen/wg-keygen.js', commands: false },
];

function long_options(text: string): Set<string> {
	const out = new Set<string>();
	for (const m of text.matchAll(/--[a-z][a-z0-9-]*=?/g))
		if (m[0] !== '--help')
			out.add(m[0]);
	return out;
}

function wgconfig_commands(synopsis: string): Set<string> {
	const out = new Set<string>();
	for (const m of synopsis.matchAll(/wgN\s+\[?((?:show|set|add|delete)\s+[a-z-]+)/g))
		out.add(m[1].replace(/\s+/g, ' '));
	return out;
}

for (const c of prog_checks) {
	const page = join(mandir, c.page);
	const prog = join(root, c.prog);
	const skip = !has_mandoc ? 'mandoc not installed' :
	    !existsSync(page) ? `${c.page} missing` :
	    !existsSync(prog) ? `${c.prog} is not built yet` : false;
	t.test(`${c.page} agrees with the usage of ${basename(c.prog, '.js')}`, { skip }, async (t) => {
		const synopsis = section(plain(run('mandoc', ['-Tascii', page]).stdout), 'SYNOPSIS');
		const documented = long_options(synopsis);
		t.ok(documented.size > 0, 'the SYNOPSIS documents options');

		const r = run(process.execPath, [prog, '--help']);
		t.notOk(r.error, 'the program ran');
		t.equal(r.status, 1, 'usage exits 1');
		const usage = r.stdout + r.stderr;
		t.match(usage, /usage/i, 'prints a usage text');

		for (const o of documented)
			t.ok(usage.includes(o), `usage shows ${o}`);
		for (const o of long_options(usage))
			t.ok(documented.has(o), `the page documents ${o}`);

		if (c.commands) {
			const cmds = wgconfig_commands(synopsis);
			t.ok(cmds.size >= 8, 'the SYNOPSIS documents the commands');
			for (const cmd of cmds)
				t.ok(usage.replace(/\s+/g, ' ').includes(cmd), `usage shows "${cmd}"`);
		}
	});
}

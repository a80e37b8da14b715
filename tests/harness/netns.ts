// SPDX-License-Identifier: BSD-2-Clause
/*
 * The network-namespace test harness: what NetBSD's tests get from
 * rump_server and shmif, on Linux.
 *
 *   rump_server (one network stack)  -> a Host: one network namespace
 *   shmif bus (a shared Ethernet)    -> a Segment: a bridge in the lab's
 *                                       "wire" namespace, one veth per host
 *   RUMP_SERVER=... cmd              -> host.exec(cmd): ip netns exec NS cmd
 *   extract_new_packets BUS          -> lab.capture(seg).new_lines()
 *
 * Every host runs commands with obj/bin first in PATH, so `ifconfig`,
 * `wgconfig`, `wg-keygen` and `wg-userspace` are ours.  Every host also gets
 * its own /run/wireguard (a bind mount inside the mount namespace that
 * `ip netns exec` creates for each command), so UAPI sockets of two
 * "machines" never meet in the one global directory.
 *
 * A Lab owns everything it creates and removes all of it in t.teardown,
 * on process exit and on SIGINT/SIGTERM/SIGHUP/SIGALRM (tap's timeout):
 * kernel instances are asked to stop (`wg-userspace 0 destroy`), every
 * process left in the lab's namespaces is killed, the namespaces (and with
 * them every veth, bridge and tun) are deleted, temporary files removed.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
	chmodSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync,
	realpathSync, rmSync, writeFileSync, type WriteStream,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';

export type TapTest = Test;

/* obj/tests/harness/netns.js -> obj/bin (the launchers `make` writes). */
export const OBJ_BIN = fileURLToPath(new URL('../../bin', import.meta.url));
/* The compiled helper that stands in for nc(1) inside namespaces. */
export const NETTOOL = fileURLToPath(new URL('./nettool.js', import.meta.url));
export const NODE = process.execPath;

/* Every namespace this harness makes starts with this, so a later run can sweep leftovers. */
const NS_MARK = 'nst_';
const NOBODY_UID = 65534;
const NOBODY_GID = 65534;
const EXEC_TIMEOUT_MS = 60_000;

export interface ExecOptions {
	/* Extra environment, merged over the harness's (PATH already has obj/bin first). */
	env?: Record<string, string>;
	/* Bytes for standard input; none means /dev/null. */
	input?: string | Uint8Array;
	/* Kill the command after this many ms (default 60 s). */
	timeout?: number;
	/* Working directory; default the host's own temporary directory. */
	cwd?: string;
	/* Run as this unprivileged user ("nobody" is the only one supported). */
	user?: 'nobody';
}

export interface ExecResult {
	cmd: string;
	code: number;			/* exit status; -1 when killed by a signal or timed out */
	signal: string | null;
	stdout: string;
	stderr: string;
}

export interface CheckOptions extends ExecOptions {
	msg?: string;
}

export function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/*
 * Poll fn until it returns true or timeout_ms passes.  This is how tests
 * wait for something the protocol does "eventually" (a rekey, a
 * keepalive); the result is then asserted, never the time it took.
 */
export async function wait_until(fn: () => boolean | Promise<boolean>, timeout_ms: number,
    interval_ms = 100): Promise<boolean> {
	const end = Date.now() + timeout_ms;
	for (;;) {
		if (await fn())
			return true;
		if (Date.now() >= end)
			return false;
		await sleep(interval_ms);
	}
}

function fmt_cmd(cmd: string[] | string): string {
	if (typeof cmd === 'string')
		return cmd;
	return cmd.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(' ');
}

/*
 * The environment commands see: ours, minus tap's hooks.  tap's
 * processinfo wraps child_process.spawn and puts its NODE_OPTIONS and
 * _TAPJS_* back into every child's environment, so filtering here is not
 * enough: the command wrapper (WRAPPER) drops them again inside the
 * namespace, and restores NODE_OPTIONS from NST_NODE_OPTIONS.
 */
function base_env(): Record<string, string> {
	const env: Record<string, string> = {};
	for (const [k, v] of Object.entries(process.env)) {
		if (v === undefined || /^(TAP|_TAPJS_)/.test(k) || k === 'NODE_OPTIONS')
			continue;
		env[k] = v;
	}
	const kept = (process.env.NODE_OPTIONS ?? '').split(/\s+/)
	    .filter((o) => o !== '' && !o.includes('@tapjs'));
	if (kept.length > 0)
		env.NST_NODE_OPTIONS = kept.join(' ');
	env.PATH = `${OBJ_BIN}:${env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`;
	env.LC_ALL = 'C';
	return env;
}

/* sh -c script run first in every command: private /run/wireguard, clean environment. */
const WRAPPER = [
	'mount --bind "$0" "$1" || exit 126',
	'shift',
	'unset NODE_OPTIONS $(env | sed -n "s/^\\(_TAPJS_[A-Za-z0-9_]*\\|TAP[A-Za-z0-9_]*\\)=.*/\\1/p")',
	'if [ -n "$NST_NODE_OPTIONS" ]; then export NODE_OPTIONS="$NST_NODE_OPTIONS"; fi',
	'unset NST_NODE_OPTIONS',
	'exec "$@"',
].join('\n');

/* Synchronous `ip`, for configuration: fast, and a failure is a harness error. */
function ip_sync(args: string[]): string {
	const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
	if (r.status !== 0)
		throw new Error(`ip ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
	return r.stdout;
}

function run(argv: string[], opts: { env: Record<string, string>; cwd: string;
    input?: string | Uint8Array; timeout: number; cmd: string }): Promise<ExecResult> {
	return new Promise((resolve) => {
		let stdout = '';
		let stderr = '';
		let done = false;
		let grace: NodeJS.Timeout | undefined;
		const child = spawn(argv[0], argv.slice(1), {
			env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'],
		});
		const timer = setTimeout(() => {
			stderr += `harness: timed out after ${opts.timeout} ms\n`;
			child.kill('SIGKILL');
		}, opts.timeout);
		child.stdout.setEncoding('utf8');
		child.stderr.setEncoding('utf8');
		child.stdout.on('data', (d: string) => { stdout += d; });
		child.stderr.on('data', (d: string) => { stderr += d; });
		const finish = (code: number | null, signal: string | null): void => {
			if (done)
				return;
			done = true;
			clearTimeout(timer);
			clearTimeout(grace);
			child.stdout.destroy();
			child.stderr.destroy();
			resolve({ cmd: opts.cmd, code: code ?? -1, signal, stdout, stderr });
		};
		child.on('error', (e) => {
			stderr += `harness: ${e.message}\n`;
			finish(127, null);
		});
		/*
		 * Normally 'close' ends a command.  A daemon started by the
		 * command (ifconfig starting a kernel instance) may keep our
		 * pipes open, so after 'exit' give the pipes a moment, then stop
		 * waiting for them.
		 */
		child.on('exit', (code, signal) => {
			grace = setTimeout(() => finish(code, signal), 300);
		});
		child.on('close', (code, signal) => finish(code, signal));
		child.stdin.on('error', () => { /* the command did not read its input */ });
		if (opts.input !== undefined)
			child.stdin.end(opts.input);
		else
			child.stdin.end();
	});
}

/* A command left running in a host (tcpdump, wireguard-go, a TCP server). */
export class BgProcess {
	readonly cmd: string;
	stdout = '';
	stderr = '';
	exit_code: number | null = null;
	exit_signal: string | null = null;
	readonly #child: ChildProcess;
	readonly #exited: Promise<void>;
	readonly #waiters = new Set<() => void>();

	constructor(child: ChildProcess, cmd: string, log?: WriteStream) {
		this.#child = child;
		this.cmd = cmd;
		child.stdout?.setEncoding('utf8');
		child.stderr?.setEncoding('utf8');
		child.stdout?.on('data', (d: string) => {
			this.stdout += d;
			log?.write(d);
			this.#wake();
		});
		child.stderr?.on('data', (d: string) => {
			this.stderr += d;
			this.#wake();
		});
		this.#exited = new Promise((resolve) => {
			child.on('error', (e) => {
				this.stderr += `harness: ${e.message}\n`;
				this.exit_code = 127;
				this.#wake();
				resolve();
			});
			child.on('close', (code, signal) => {
				this.exit_code = code ?? -1;
				this.exit_signal = signal;
				log?.end();
				this.#wake();
				resolve();
			});
		});
	}

	get pid(): number | undefined {
		return this.#child.pid;
	}

	get running(): boolean {
		return this.exit_code === null;
	}

	#wake(): void {
		for (const w of this.#waiters)
			w();
	}

	/* Resolve true once stdout or stderr matches re, false on timeout or exit. */
	wait_for(re: RegExp, timeout_ms = 10_000): Promise<boolean> {
		return new Promise((resolve) => {
			const check = (): void => {
				if (re.test(this.stdout) || re.test(this.stderr))
					finish(true);
				else if (!this.running)
					finish(false);
			};
			const timer = setTimeout(() => finish(false), timeout_ms);
			const finish = (v: boolean): void => {
				clearTimeout(timer);
				this.#waiters.delete(check);
				resolve(v);
			};
			this.#waiters.add(check);
			check();
		});
	}

	kill(signal: NodeJS.Signals = 'SIGTERM'): void {
		if (this.running)
			this.#child.kill(signal);
	}

	/* Wait for exit (killing it after timeout_ms) and return what it printed. */
	async wait(timeout_ms = EXEC_TIMEOUT_MS): Promise<ExecResult> {
		const timer = setTimeout(() => this.kill('SIGKILL'), timeout_ms);
		await this.#exited;
		clearTimeout(timer);
		return {
			cmd: this.cmd, code: this.exit_code ?? -1, signal: this.exit_signal,
			stdout: this.stdout, stderr: this.stderr,
		};
	}

	async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<ExecResult> {
		this.kill(signal);
		return this.wait(5000);
	}
}

/* One network stack: a namespace with its own temp and /run/wireguard directories. */
export class Host {
	readonly lab: Lab;
	readonly name: string;
	readonly ns: string;
	readonly dir: string;
	readonly rundir: string;
	/* How many segment interfaces it has; the next is shmif<nifs>. */
	nifs = 0;

	constructor(lab: Lab, name: string, ns: string, dir: string) {
		this.lab = lab;
		this.name = name;
		this.ns = ns;
		this.dir = dir;
		this.rundir = join(dir, '.run-wireguard');
		mkdirSync(this.rundir, { recursive: true, mode: 0o755 });
		chmodSync(dir, 0o755);
	}

	/* The argv that runs cmd inside this host. */
	argv(cmd: string[] | string, user?: 'nobody'): string[] {
		const inner = typeof cmd === 'string' ? ['sh', '-c', cmd] : cmd;
		const as_user = user === 'nobody'
		    ? ['setpriv', `--reuid=${NOBODY_UID}`, `--regid=${NOBODY_GID}`, '--clear-groups', '--']
		    : [];
		return [
			'ip', 'netns', 'exec', this.ns,
			'sh', '-c', WRAPPER, this.rundir, RUN_WIREGUARD,
			...as_user, ...inner,
		];
	}

	env(extra?: Record<string, string>): Record<string, string> {
		return { ...base_env(), ...(extra ?? {}) };
	}

	exec(cmd: string[] | string, opts: ExecOptions = {}): Promise<ExecResult> {
		return run(this.argv(cmd, opts.user), {
			env: this.env(opts.env), cwd: opts.cwd ?? this.dir, input: opts.input,
			timeout: opts.timeout ?? EXEC_TIMEOUT_MS, cmd: `${this.name}: ${fmt_cmd(cmd)}`,
		});
	}

	/* Run cmd and assert that it exits 0 (atf_check -s exit:0). */
	async check(cmd: string[] | string, opts: CheckOptions = {}): Promise<ExecResult> {
		const r = await this.exec(cmd, opts);
		this.lab.t.equal(r.code, 0, opts.msg ?? r.cmd, { stdout: r.stdout, stderr: r.stderr });
		return r;
	}

	/* Run cmd and assert that it fails (atf_check -s not-exit:0). */
	async check_fail(cmd: string[] | string, opts: CheckOptions = {}): Promise<ExecResult> {
		const r = await this.exec(cmd, opts);
		this.lab.t.ok(r.code > 0, opts.msg ?? `${r.cmd} fails`,
		    { code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr });
		return r;
	}

	/* Start cmd in the background; it is killed at cleanup if still running. */
	spawn(cmd: string[] | string, opts: ExecOptions & { log?: string } = {}): BgProcess {
		const argv = this.argv(cmd, opts.user);
		const child = spawn(argv[0], argv.slice(1), {
			env: this.env(opts.env), cwd: opts.cwd ?? this.dir,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		const log = opts.log !== undefined ? createWriteStream(opts.log) : undefined;
		const bg = new BgProcess(child, `${this.name}: ${fmt_cmd(cmd)}`, log);
		this.lab.track(bg);
		return bg;
	}

	/* `ip -n NS ARGS`, synchronously; throws on failure. */
	ip(...args: string[]): string {
		return ip_sync(['-n', this.ns, ...args]);
	}

	/* sysctl -w inside the namespace (net.* is per namespace). */
	sysctl(settings: Record<string, string | number>): void {
		const args = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
		const r = spawnSync('ip', ['netns', 'exec', this.ns, 'sysctl', '-q', '-w', ...args],
		    { encoding: 'utf8', timeout: 10_000 });
		if (r.status !== 0)
			throw new Error(`sysctl ${args.join(' ')} in ${this.name}: ${r.stderr.trim()}`);
	}

	path(name: string): string {
		return join(this.dir, name);
	}

	write(name: string, data: string | Uint8Array, mode = 0o600): string {
		const p = this.path(name);
		writeFileSync(p, data, { mode });
		chmodSync(p, mode);
		return p;
	}

	read(name: string): string {
		return readFileSync(this.path(name), 'utf8');
	}

	remove(name: string): void {
		rmSync(this.path(name), { force: true });
	}

	/* Send one UDP datagram (nc -u replacement).  Resolves to the source port used. */
	async udp_send(addr: string, port: number, payload: Uint8Array | string): Promise<number> {
		const hex = Buffer.from(payload).toString('hex');
		const r = await this.exec([NODE, NETTOOL, 'udp', addr, String(port), hex]);
		this.lab.t.equal(r.code, 0, `${this.name}: send ${Buffer.from(payload).length}-byte UDP datagram to ${addr}:${port}`,
		    { stderr: r.stderr });
		const m = /"port":(\d+)/.exec(r.stdout);
		return m ? Number(m[1]) : 0;
	}

	/* A one-shot TCP server (nc -l replacement), running once it listens. */
	async tcp_serve(port: number, out?: string): Promise<BgProcess> {
		const args = [NODE, NETTOOL, 'tcp-serve', String(port)];
		if (out !== undefined)
			args.push('--out', out);
		const bg = this.spawn(args);
		if (!await bg.wait_for(/^listening/m, 10_000))
			throw new Error(`${this.name}: tcp server on ${port} did not start: ${bg.stderr}`);
		return bg;
	}

	/* Send a file (or n random bytes) over TCP; stdout is {"bytes":N,"sha256":"..."}. */
	tcp_send(addr: string, port: number, what: { file: string } | { random: number }): Promise<ExecResult> {
		const src = 'file' in what ? ['--file', what.file] : ['--random', String(what.random)];
		return this.exec([NODE, NETTOOL, 'tcp-send', addr, String(port), ...src]);
	}
}

export interface Segment {
	name: string;
	bridge: string;		/* in the lab's wire namespace */
	hosts: Host[];
	ifnames: Map<Host, string>;
	ifname(h: Host): string;
}

export interface Capture {
	/* Every line seen so far. */
	lines(): string[];
	/* Lines since the previous call (NetBSD's extract_new_packets), after traffic settles. */
	new_lines(): Promise<string[]>;
	/* The same, under the name the harness brief used. */
	newLines(): Promise<string[]>;
	/* Poll until some line (new or old) matches re; true if one did. */
	wait_for(re: RegExp, timeout_ms: number): Promise<boolean>;
	/* Settle, stop tcpdump, return every line. */
	stop(): Promise<string[]>;
}

/* Count lines matching re (grep -c). */
export function count_lines(lines: string[], re: RegExp): number {
	return lines.filter((l) => re.test(l)).length;
}

/* A tcpdump pattern for "SRC.SPORT > DST.DPORT: UDP, length N"; dots escaped. */
export function udp_re(src: string, sport: number | string, dst: string, dport: number | string,
    len?: number): RegExp {
	const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
	const l = len === undefined ? '' : `, length ${len}\\b`;
	return new RegExp(`\\b${esc(src)}\\.${sport} > ${esc(dst)}\\.${dport}: UDP${l}`);
}

const RUN_WIREGUARD = (() => {
	try {
		return join(realpathSync('/var/run'), 'wireguard');
	} catch {
		return '/run/wireguard';
	}
})();

const live_labs = new Set<Lab>();
let hooks_installed = false;
let swept = false;
let lab_counter = 0;

function install_exit_hooks(): void {
	if (hooks_installed)
		return;
	hooks_installed = true;
	process.on('exit', () => {
		for (const lab of live_labs)
			lab.cleanup_sync();
	});
	for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
		process.once(sig, () => {
			for (const lab of live_labs)
				lab.cleanup_sync();
			/* Re-raise: with our listener gone, the default action (or tap's) applies. */
			process.kill(process.pid, sig);
		});
	}
	/* tap's timeout signal: clean up, and let tap report and exit as it does. */
	process.once('SIGALRM', () => {
		for (const lab of live_labs)
			lab.cleanup_sync();
	});
}

/* A zombie counts as dead: it holds no namespace and runs nothing. */
export function pid_alive(pid: number): boolean {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return !/^\d+ \(.*\) Z/s.test(stat);
	} catch {
		return false;
	}
}

function ns_pids(ns: string): number[] {
	const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: 10_000 });
	if (r.status !== 0)
		return [];
	return r.stdout.split(/\s+/).filter((s) => s !== '').map(Number);
}

function kill_ns(ns: string): void {
	for (let i = 0; i < 5; i++) {
		const pids = ns_pids(ns);
		if (pids.length === 0)
			break;
		for (const pid of pids) {
			try {
				process.kill(pid, 'SIGKILL');
			} catch { /* already gone */ }
		}
		spawnSync('sleep', ['0.05']);
	}
	spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000 });
}

/* Remove namespaces of earlier runs whose process died without cleaning up. */
function sweep_stale(): void {
	if (swept)
		return;
	swept = true;
	const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 });
	for (const line of (r.stdout ?? '').split('\n')) {
		const name = line.split(' ')[0] ?? '';
		const m = /^nst_[a-z0-9]+_(\d+)_\d+_/.exec(name);
		if (m && !pid_alive(Number(m[1])))
			kill_ns(name);
	}
}

export class Lab {
	/* Where assertions go; switch it with set_test() for subtests sharing a lab. */
	t: TapTest;
	readonly id: string;
	readonly dir: string;
	readonly hosts = new Map<string, Host>();
	readonly segments: Segment[] = [];
	#wire: string | null = null;
	#bg = new Set<BgProcess>();
	#captures: Array<() => Promise<unknown>> = [];
	#nveth = 0;
	#cleaned = false;

	constructor(t: TapTest, prefix = 'wgt') {
		if (!/^[a-z0-9]{1,8}$/.test(prefix))
			throw new Error(`Lab prefix must be 1-8 of [a-z0-9]: ${prefix}`);
		if (process.getuid?.() !== 0)
			throw new Error('the namespace harness needs root');
		sweep_stale();
		install_exit_hooks();
		this.t = t;
		this.id = `${NS_MARK}${prefix}_${process.pid}_${++lab_counter}`;
		this.dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
		chmodSync(this.dir, 0o755);
		mkdirSync(RUN_WIREGUARD, { recursive: true, mode: 0o755 });
		live_labs.add(this);
		t.teardown(() => this.cleanup());
	}

	set_test(t: TapTest): void {
		this.t = t;
	}

	/* A new stack (rump_server_start): netns with lo up and DAD off (dad_count=0). */
	host(name: string): Host {
		if (!/^[a-z0-9_]{1,16}$/.test(name))
			throw new Error(`bad host name: ${name}`);
		if (this.hosts.has(name))
			throw new Error(`host ${name} exists`);
		const ns = `${this.id}_${name}`;
		this.#add_ns(ns);
		const h = new Host(this, name, ns, join(this.dir, name));
		this.hosts.set(name, h);
		h.sysctl({
			'net.ipv6.conf.all.accept_dad': 0,
			'net.ipv6.conf.default.accept_dad': 0,
		});
		return h;
	}

	#add_ns(ns: string): void {
		ip_sync(['netns', 'add', ns]);
		try {
			ip_sync(['-n', ns, 'link', 'set', 'lo', 'up']);
		} catch (e) {
			spawnSync('ip', ['netns', 'del', ns]);
			throw e;
		}
	}

	/* The namespace holding the bridges: no addresses, IPv6 off so it stays silent. */
	#wire_ns(): string {
		if (this.#wire === null) {
			const ns = `${this.id}_wire`;
			this.#add_ns(ns);
			this.#wire = ns;
			const r = spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w',
			    'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'],
			    { encoding: 'utf8' });
			if (r.status !== 0)
				throw new Error(`wire sysctl: ${r.stderr}`);
		}
		return this.#wire;
	}

	/*
	 * A shared Ethernet segment (a shmif bus): a bridge in the wire
	 * namespace and one veth per host, named shmif0, shmif1, ... in the
	 * order the host joins segments (or opts.ifnames[host]).
	 */
	segment(name: string, hosts: Host[], opts: { ifnames?: Record<string, string>; mtu?: number } = {}): Segment {
		const wire = this.#wire_ns();
		const idx = this.segments.length;
		const bridge = `br${idx}`;
		const w = (...args: string[]): string => ip_sync(['-n', wire, ...args]);
		w('link', 'add', bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
		w('link', 'set', bridge, 'up');
		const ifnames = new Map<Host, string>();
		hosts.forEach((h, i) => {
			const ifname = opts.ifnames?.[h.name] ?? `shmif${h.nifs}`;
			h.nifs++;
			if (ifname.length > 15)
				throw new Error(`ifname too long: ${ifname}`);
			const port = `p${idx}_${i}`;
			w('link', 'add', port, 'type', 'veth', 'peer', 'name', ifname, 'netns', h.ns);
			if (opts.mtu !== undefined) {
				w('link', 'set', port, 'mtu', String(opts.mtu));
				h.ip('link', 'set', ifname, 'mtu', String(opts.mtu));
			}
			w('link', 'set', port, 'master', bridge, 'up');
			h.ip('link', 'set', ifname, 'up');
			ifnames.set(h, ifname);
		});
		const seg: Segment = {
			name, bridge, hosts, ifnames,
			ifname(h: Host): string {
				const n = ifnames.get(h);
				if (n === undefined)
					throw new Error(`${h.name} is not on segment ${name}`);
				return n;
			},
		};
		this.segments.push(seg);
		return seg;
	}

	/* A point-to-point veth pair between two hosts (no bridge, so no capture). */
	veth(a: Host, b: Host, ifname_a = `shmif${a.nifs}`, ifname_b = `shmif${b.nifs}`): void {
		const tmp = `vt${process.pid % 100000}_${this.#nveth++}`;
		a.nifs++;
		b.nifs++;
		a.ip('link', 'add', ifname_a, 'type', 'veth', 'peer', 'name', tmp, 'netns', b.ns);
		b.ip('link', 'set', tmp, 'name', ifname_b);
		a.ip('link', 'set', ifname_a, 'up');
		b.ip('link', 'set', ifname_b, 'up');
	}

	/*
	 * The usual two-host set-up: hosts a and b on one veth (shmif0 each),
	 * 192.0.2.1/24 and 192.0.2.2/24 (RFC 5737's TEST-NET-1).
	 */
	pair(a: string, b: string): [Host, Host] {
		const ha = this.host(a);
		const hb = this.host(b);
		this.veth(ha, hb);
		this.addr(ha, 'shmif0', '192.0.2.1/24');
		this.addr(hb, 'shmif0', '192.0.2.2/24');
		return [ha, hb];
	}

	/* Add an address (rump.ifconfig IF inet/inet6 A/N); IPv6 without DAD. */
	addr(h: Host, ifname: string, cidr: string): void {
		if (cidr.includes(':'))
			h.ip('-6', 'addr', 'add', cidr, 'dev', ifname, 'nodad');
		else
			h.ip('addr', 'add', cidr, 'dev', ifname);
	}

	del_addr(h: Host, ifname: string, cidr: string): void {
		h.ip(cidr.includes(':') ? '-6' : '-4', 'addr', 'del', cidr, 'dev', ifname);
	}

	/* Routers: IPv4 and IPv6 forwarding on. */
	forwarding(h: Host): void {
		h.sysctl({ 'net.ipv4.ip_forward': 1, 'net.ipv6.conf.all.forwarding': 1 });
	}

	track(bg: BgProcess): void {
		this.#bg.add(bg);
	}

	/* Start tcpdump -n on the segment's bridge, UDP only; resolves once it listens. */
	async capture(seg: Segment, filter = 'udp'): Promise<Capture> {
		const wire = this.#wire_ns();
		const file = join(this.dir, `capture-${seg.name}-${this.#captures.length}.txt`);
		const argv = ['ip', 'netns', 'exec', wire, 'tcpdump', '-n', '-l', '--immediate-mode',
		    '-i', seg.bridge, filter];
		const child = spawn(argv[0], argv.slice(1), { env: base_env(), stdio: ['ignore', 'pipe', 'pipe'] });
		const bg = new BgProcess(child, `wire: ${argv.slice(4).join(' ')}`, createWriteStream(file));
		this.track(bg);
		if (!await bg.wait_for(/listening on/, 10_000))
			throw new Error(`tcpdump did not start: ${bg.stderr}`);
		let seen = 0;
		const lines = (): string[] => bg.stdout.split('\n').filter((l) => l !== '');
		/* Wait until no line has arrived for a short while: the packets a command caused are in. */
		const settle = async (): Promise<void> => {
			let n = bg.stdout.length;
			const end = Date.now() + 3000;
			for (;;) {
				await sleep(150);
				if (bg.stdout.length === n || Date.now() > end)
					return;
				n = bg.stdout.length;
			}
		};
		const cap: Capture = {
			lines,
			async new_lines(): Promise<string[]> {
				await settle();
				const all = lines();
				const out = all.slice(seen);
				seen = all.length;
				return out;
			},
			newLines(): Promise<string[]> {
				return cap.new_lines();
			},
			async wait_for(re: RegExp, timeout_ms: number): Promise<boolean> {
				return wait_until(() => lines().some((l) => re.test(l)), timeout_ms);
			},
			async stop(): Promise<string[]> {
				if (bg.running) {
					await settle();
					await bg.stop('SIGINT');
				}
				return lines();
			},
		};
		this.#captures.push(() => cap.stop());
		return cap;
	}

	/*
	 * What each host looks like (NetBSD's dump in every _cleanup):
	 * addresses, routes, kernel instance and wg state, capture tails.
	 * Run at cleanup when the test failed, or always with NST_DEBUG=1.
	 */
	async dump(): Promise<void> {
		const script = [
			'echo "## ip -br addr"; ip -br addr',
			'echo "## ip route"; ip route; ip -6 route',
			'echo "## ifconfig -a"; ifconfig -a 2>&1',
			'for i in $(ip -o link | sed -n "s/^[0-9]*: \\(wg[0-9]*\\)[:@].*/\\1/p"); do echo "## wgconfig $i"; wgconfig $i 2>&1; done',
			'echo "## sysctl"; wg-userspace 0 sysctl 2>&1',
		].join('\n');
		for (const h of this.hosts.values()) {
			const r = await h.exec(script, { timeout: 20_000 });
			const procs = ns_pids(h.ns).map((pid) => `${pid} ${cmdline(pid)}`).join('\n');
			this.t.comment(`==== ${h.name} (${h.ns}) ====\n${r.stdout}${r.stderr}## processes\n${procs}`);
		}
		for (const bg of this.#bg) {
			if (bg.cmd.startsWith('wire: tcpdump'))
				this.t.comment(`==== ${bg.cmd} (last 40 lines) ====\n${bg.stdout.split('\n').slice(-41).join('\n')}`);
		}
	}

	async cleanup(): Promise<void> {
		const failed = (this.t as unknown as { counts?: { fail?: number } }).counts?.fail ?? 0;
		if (failed > 0 || process.env.NST_DEBUG === '1') {
			try {
				await this.dump();
			} catch { /* diagnostics only */ }
		}
		for (const stop of this.#captures) {
			try {
				await stop();
			} catch { /* cleanup goes on */ }
		}
		this.cleanup_sync();
	}

	/*
	 * Tear everything down.  Synchronous so that it can run from
	 * process 'exit' and signal handlers; idempotent.
	 */
	cleanup_sync(): void {
		if (this.#cleaned)
			return;
		this.#cleaned = true;
		live_labs.delete(this);
		for (const bg of this.#bg)
			bg.kill('SIGKILL');
		/* Ask each kernel instance to halt, as rump.halt does; best effort. */
		for (const h of this.hosts.values()) {
			if (!ns_pids(h.ns).some((pid) => cmdline(pid).includes('wg-userspace')))
				continue;
			const argv = h.argv(['wg-userspace', '0', 'destroy']);
			spawnSync(argv[0], argv.slice(1), { env: h.env(), cwd: h.dir, timeout: 5000, stdio: 'ignore' });
		}
		for (const h of this.hosts.values())
			kill_ns(h.ns);
		if (this.#wire !== null)
			kill_ns(this.#wire);
		rmSync(this.dir, { recursive: true, force: true });
	}
}

function cmdline(pid: number): string {
	try {
		return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
	} catch {
		return '';
	}
}

/* Namespaces of this process that still exist (the self-test checks it is empty after cleanup). */
export function lab_namespaces(lab: Lab): string[] {
	if (!existsSync('/run/netns'))
		return [];
	return readdirSync('/run/netns').filter((n) => n.startsWith(`${lab.id}_`));
}

/* Fail loudly (not skip) when a program a suite needs is missing. */
export function require_progs(t: TapTest, progs: string[]): boolean {
	let ok = true;
	for (const p of progs) {
		const r = spawnSync('sh', ['-c', `command -v "$0"`, p], { env: base_env(), encoding: 'utf8' });
		if (r.status !== 0) {
			t.comment(`MISSING PREREQUISITE: ${p} is not installed (make deps installs it)`);
			t.fail(`required program ${p} is missing`);
			ok = false;
		}
	}
	return ok;
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * Faults under a working tunnel (issue 9 §5), between namespaces.  The
 * suite runs short versions; `make faults` (WG_FAULTS_LONG=1) the full
 * ones:
 *
 *   lossy underlay    iptables -m statistic --mode random drops WireGuard
 *                     datagrams on the hosts' input; a TCP transfer
 *                     completes with a matching sha256 (suite: 4 MB at
 *                     10% each way; long: 20 MB at 10% each way, and at
 *                     30% on the way the data goes: at 30% each way
 *                     Linux's TCP alone, with no tunnel, did not move
 *                     2 MB over a veth in 300 s, its acknowledgements
 *                     and retransmissions lost as often as the data)
 *   faulty relay      the hosts talk through a UDP relay in a middle
 *                     namespace (tests/harness/relay.ts: this kernel has
 *                     no sch_netem) that delays, reorders or duplicates;
 *                     the transfer still arrives intact (suite: 2 MB with
 *                     reordering and duplication; long: 20 MB each of
 *                     reordering, duplication and a 100 ms delay)
 *   peer away         the peer drops everything for 10 s (60 s long)
 *                     while a ping runs; replies resume without anyone
 *                     touching the configuration
 *   destroy in flight wg0 is destroyed while a transfer runs: the daemon
 *                     lives on, wg1 still carries traffic, no descriptor
 *                     is left behind
 *   SIGKILL           the instance daemon is killed: what the host sees
 *                     (a stale UAPI socket file among it), and creating
 *                     and configuring wg0 again works and replaces it
 *
 * Transfer times are printed as comments, never asserted.
 */

import t from 'tap';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Lab, NETTOOL, NODE, require_progs, sleep, wait_until, type BgProcess, type Host, type TapTest } from '../../harness/netns.js';
import {
	add_peer, check_ping, check_ping_fail, daemon_pid, fd_settled, setup_topology, setup_wg_common, warmups_done, WG_PORT,
	keypair, type Topology,
} from '../../harness/if_wg.js';

t.setTimeout(900_000);

const MB20 = 20 * 1024 * 1024;
const TCP_PORT = 5001;
const LONG = process.env.WG_FAULTS_LONG === '1';
const RELAY = fileURLToPath(new URL('../../harness/relay.js', import.meta.url));

/*
 * A TCP transfer of `bytes` random bytes to dst's tunnel address; returns
 * both sides' results.  Both ends give up after timeout ms (30% loss
 * makes TCP crawl: the long runs allow it minutes).
 */
async function transfer(src: Host, dst: Host, addr: string, bytes: number, timeout = 600_000):
    Promise<{ ok: boolean; sent_sha?: string; got_sha?: string; got_bytes?: number; stderr: string }> {
	const secs = String(Math.ceil(timeout / 1000));
	const srv = dst.spawn([NODE, NETTOOL, 'tcp-serve', String(TCP_PORT), '--timeout', secs]);
	dst.lab.track(srv);
	if (!await srv.wait_for(/^listening/m, 10_000))
		throw new Error(`${dst.name}: tcp server on ${TCP_PORT} did not start: ${srv.stderr}`);
	const sent = await src.exec([NODE, NETTOOL, 'tcp-send', addr, String(TCP_PORT), '--random', String(bytes),
	    '--timeout', secs], { timeout: timeout + 10_000 });
	const got = await srv.wait(timeout + 10_000);
	const s = JSON.parse(sent.stdout || '{}') as { sha256?: string };
	const r = JSON.parse(got.stdout.split('\n')[1] || '{}') as { bytes?: number; sha256?: string };
	return { ok: sent.code === 0 && got.code === 0 && r.sha256 !== undefined, sent_sha: s.sha256, got_sha: r.sha256,
	    got_bytes: r.bytes, stderr: sent.stderr + got.stderr };
}

/* A sha256 on both ends, and the same. */
function sha_ok(r: { sent_sha?: string; got_sha?: string }): boolean {
	return r.got_sha !== undefined && r.got_sha === r.sent_sha;
}

async function lossy(h: Host, p: number, on: boolean): Promise<void> {
	await h.check(['iptables', on ? '-A' : '-D', 'INPUT', '-p', 'udp', '--dport', String(WG_PORT), '-m', 'statistic',
	    '--mode', 'random', '--probability', String(p), '-j', 'DROP']);
}

t.test('lossy underlay: a TCP transfer arrives intact', async (t) => {
	if (!require_progs(t, ['iptables']))
		return;
	const s: Topology = await setup_topology(t, { prefix: 'wf' });
	await check_ping(s.local, s.ip_wg_peer);
	/* [loss, bytes, dropped on the sender's input too (acknowledgements, the peer's handshake messages)] */
	const cases: [number, number, boolean][] = LONG ? [[0.1, MB20, true], [0.3, MB20, false]] : [[0.1, 4 << 20, true]];
	for (const [p, bytes, each_way] of cases) {
		const hosts = each_way ? [s.local, s.peer] : [s.peer];
		for (const h of hosts)
			await lossy(h, p, true);
		const start = Date.now();
		const r = await transfer(s.local, s.peer, s.ip_wg_peer, bytes);
		const what = `${p * 100}% loss ${each_way ? 'each way' : 'on the data\'s way'}, ${bytes >> 20} MB`;
		t.ok(r.ok, `${what}: transfer finished`, { stderr: r.stderr });
		t.equal(r.got_bytes, bytes, 'every byte arrived');
		t.ok(sha_ok(r), 'sha256 matches on both ends', { sent: r.sent_sha, got: r.got_sha });
		t.comment(`${what}: ${Date.now() - start} ms, sha256 ${sha_ok(r) ? 'matches' : 'DIFFERS'}`);
		for (const h of hosts)
			await lossy(h, p, false);
	}
});

/*
 * local (10.8.1.1) -- mid (10.8.1.2 | 10.8.2.2) -- peer (10.8.2.1), no
 * forwarding in mid: wg0 of each side has the relay's near address as
 * its peer's endpoint, and the relay carries the datagrams across.
 */
const RELAY_PORT = 40000;

async function relay_topology(t: TapTest): Promise<{ lab: Lab; local: Host; mid: Host; peer: Host }> {
	const lab = new Lab(t, 'wr');
	const [local, mid, peer] = [lab.host('local'), lab.host('mid'), lab.host('peer')];
	lab.veth(local, mid);
	lab.veth(mid, peer);
	lab.addr(local, 'shmif0', '10.8.1.1/24');
	lab.addr(mid, 'shmif0', '10.8.1.2/24');
	lab.addr(mid, 'shmif1', '10.8.2.2/24');
	lab.addr(peer, 'shmif0', '10.8.2.1/24');
	const [kl, kp] = [keypair(), keypair()];
	await Promise.all([
		setup_wg_common(local, 'wg0', 'inet', '10.0.0.1', 24, WG_PORT, kl.priv),
		setup_wg_common(peer, 'wg0', 'inet', '10.0.0.2', 24, WG_PORT, kp.priv),
	]);
	await add_peer(local, 'wg0', 'peer0', kp.pub, `10.8.1.2:${RELAY_PORT}`, '10.0.0.2/32');
	await add_peer(peer, 'wg0', 'peer0', kl.pub, `10.8.2.2:${RELAY_PORT}`, '10.0.0.1/32');
	return { lab, local, mid, peer };
}

async function relay_run(mid: Host, faults: string[]): Promise<BgProcess> {
	const bg = mid.spawn([NODE, RELAY, `10.8.1.2:${RELAY_PORT}`, `10.8.2.2:${RELAY_PORT}`, `10.8.2.1:${WG_PORT}`, ...faults]);
	mid.lab.track(bg);
	if (!await bg.wait_for(/^relay: listening$/m, 10_000))
		throw new Error(`relay did not start: ${bg.stderr}`);
	return bg;
}

t.test('a faulty relay (delay, reordering, duplication): a TCP transfer arrives intact', async (t) => {
	const { local, mid, peer } = await relay_topology(t);
	const cases: [string, string[], number][] = LONG
	    ? [['reordering 10%', ['reorder=0.1'], MB20], ['duplication 10%', ['dup=0.1'], MB20],
		['100 ms delay each way', ['delay=100'], MB20]]
	    : [['reordering and duplication 10%', ['reorder=0.1', 'dup=0.1'], 2 << 20]];
	for (const [what, faults, bytes] of cases) {
		const relay = await relay_run(mid, faults);
		await check_ping(local, '10.0.0.2', { wait: 5 });
		const start = Date.now();
		const r = await transfer(local, peer, '10.0.0.2', bytes);
		const ms = Date.now() - start;
		const stats = (await relay.stop()).stdout.split('\n').find((l) => l.startsWith('{')) ?? '';
		t.ok(r.ok, `${what}: transfer finished`, { stderr: r.stderr });
		t.equal(r.got_bytes, bytes, 'every byte arrived');
		t.ok(sha_ok(r), 'sha256 matches on both ends', { sent: r.sent_sha, got: r.got_sha });
		t.match(stats, faults.some((f) => f.startsWith('dup')) ? /"duplicated":[1-9]/ : /"forwarded":[1-9]/,
		    'the relay did its part', { stats });
		t.comment(`${what}, ${bytes >> 20} MB: ${ms} ms, sha256 ${sha_ok(r) ? 'matches' : 'DIFFERS'}; relay ${stats}`);
	}
});

t.test('the peer unreachable for a while, then back: the session re-establishes by itself', async (t) => {
	if (!require_progs(t, ['iptables', 'ping']))
		return;
	/*
	 * 60 s as the issue asks with WG_FAULTS_LONG=1, 20 s in the suite:
	 * beyond the 15 s after which an unanswered sender starts handshaking
	 * again, so the handshake must come back too.
	 */
	const away_s = LONG ? 60 : 20;
	const s: Topology = await setup_topology(t, { prefix: 'wu' });
	await check_ping(s.local, s.ip_wg_peer);
	const drop = (on: boolean) => s.peer.check(['iptables', on ? '-A' : '-D', 'INPUT', '-p', 'udp',
	    '--dport', String(WG_PORT), '-j', 'DROP']);
	/* A ping every half second throughout; no operator action when the peer comes back. */
	const pinging = s.local.spawn(['ping', '-n', '-i', '0.5', '-w', String(away_s + 90), s.ip_wg_peer]);
	const t0 = Date.now();
	s.lab.track(pinging);
	const seqs = (): number[] => [...pinging.stdout.matchAll(/icmp_seq=(\d+)/g)].map((m) => Number(m[1]));
	await sleep(2000);
	await drop(true);
	await sleep(away_s * 1000);
	await drop(false);
	const back = Date.now();
	/* Pings sent until now were lost or answered before the outage: wait for one sent after. */
	const sent_before = Math.floor((back - t0) / 500) + 1;
	const resumed = await wait_until(() => seqs().some((n) => n > sent_before), 60_000);
	const ms = Date.now() - back;
	pinging.kill('SIGINT');
	const r = await pinging.wait(5000);
	t.ok(resumed, `replies again after the peer came back (${ms} ms after)`, { stdout: r.stdout });
	t.comment(`${away_s} s away: replies resumed ${ms} ms after the peer came back, no operator action`);
});

t.test('an interface destroyed while traffic flows: the others unaffected, no descriptor left', async (t) => {
	/* No warm-up (if_wg_warm.ts) for wg1 and wg2: its descriptors, while it runs, are not the interface's. */
	const s: Topology = await setup_topology(t, { prefix: 'wd', sysctl: { warmup: 0 } });
	t.ok(await warmups_done(s.local), 'wg0\'s warm-up is over');
	/* wg1 on both hosts, its own keys, port and addresses. */
	const k1 = [keypair(), keypair()];
	await setup_wg_common(s.local, 'wg1', 'inet', '10.0.1.1', 24, WG_PORT + 1, k1[0].priv);
	await setup_wg_common(s.peer, 'wg1', 'inet', '10.0.1.2', 24, WG_PORT + 1, k1[1].priv);
	await add_peer(s.local, 'wg1', 'p1', k1[1].pub, `${s.ip_peer}:${WG_PORT + 1}`, '10.0.1.2/32');
	await add_peer(s.peer, 'wg1', 'p1', k1[0].pub, `${s.ip_local}:${WG_PORT + 1}`, '10.0.1.1/32');
	await check_ping(s.local, '10.0.1.2');
	await check_ping(s.local, s.ip_wg_peer);
	const pid = daemon_pid(s.local);
	t.ok(pid !== null, 'found the daemon');
	if (pid === null)
		return;
	/* What one interface holds: a twin wg2, created and destroyed idle. */
	const fds_both = await fd_settled(pid);
	await s.local.check(['ifconfig', 'wg2', 'create']);
	const per_if = await fd_settled(pid) - fds_both;
	await s.local.check(['ifconfig', 'wg2', 'destroy']);
	t.equal(await fd_settled(pid), fds_both, `an idle create and destroy leaves no descriptor (${per_if} per interface)`);
	const fds_base = fds_both - per_if;
	const srv = await s.peer.tcp_serve(TCP_PORT);
	const sending = s.local.spawn([NODE, NETTOOL, 'tcp-send', s.ip_wg_peer, String(TCP_PORT), '--random', String(1 << 30)]);
	s.lab.track(sending);
	await sleep(1500);
	t.ok(sending.running, 'a transfer is running through wg0');
	await s.local.check(['ifconfig', 'wg0', 'destroy']);
	/* Its route is gone with wg0: TCP would retry for minutes; what matters is that it cannot finish. */
	await sleep(2000);
	const got = srv.stdout;
	t.ok(sending.running || sending.exit_code !== 0, 'the transfer through wg0 broke off', { stdout: got });
	sending.kill('SIGKILL');
	await sending.wait(10_000);
	srv.kill('SIGKILL');
	await srv.wait(10_000);
	t.equal(daemon_pid(s.local), pid, 'the daemon is still the same process');
	await check_ping(s.local, '10.0.1.2');
	const r = await transfer(s.local, s.peer, '10.0.1.2', 4 << 20);
	t.ok(r.ok && sha_ok(r), 'wg1 still carries a TCP transfer intact');
	/* The destroyed interface's tun, sockets, eventfd and worker are all closed. */
	const fds = await fd_settled(pid);
	t.equal(fds, fds_base, `descriptors: ${fds_both} with wg0 and wg1, ${fds} after wg0 was destroyed in flight`);
	const links = s.local.ip('link', 'show');
	t.notMatch(links, /\bwg0\b/, 'wg0 is gone from the host');
});

t.test('the instance daemon killed with SIGKILL: what the host sees, and a clean re-create', async (t) => {
	const s: Topology = await setup_topology(t, { prefix: 'wk' });
	await check_ping(s.local, s.ip_wg_peer);
	const pid = daemon_pid(s.local);
	t.ok(pid !== null, 'found the daemon');
	if (pid === null)
		return;
	process.kill(pid, 'SIGKILL');
	for (let i = 0; i < 40 && daemon_pid(s.local) !== null; i++)
		await new Promise((res) => setTimeout(res, 100));
	t.equal(daemon_pid(s.local), null, 'the daemon is gone');
	/* The tun belonged to the process: the kernel removed the link with it. */
	t.notMatch(s.local.ip('link', 'show'), /\bwg0\b/, 'the host no longer has wg0');
	t.notMatch(s.local.ip('-4', 'route', 'show'), /10\.0\.0\.0\/24/, 'nor its route');
	const udp = (await s.local.exec(['ss', '-Hlun'])).stdout;
	t.notMatch(udp, new RegExp(`:${WG_PORT}\\b`), 'nor its UDP port');
	await check_ping_fail(s.local, s.ip_wg_peer);
	/* What SIGKILL cannot clean up: the UAPI socket file, with nobody behind it. */
	const sock = join(s.local.rundir, 'wg0.sock');
	const stale = lstatSync(sock, { throwIfNoEntry: false });
	t.ok(stale?.isSocket(), 'a stale UAPI socket file is left in /var/run/wireguard');
	const refused = await s.local.exec(['wg', 'show', 'wg0']);
	t.not(refused.code, 0, 'wg(8) finds nobody behind it', { stderr: refused.stderr });
	/* Everything again, as after a reboot of that "machine". */
	await setup_wg_common(s.local, 'wg0', 'inet', s.ip_wg_local, 24, WG_PORT, s.keys.key_priv_local);
	await add_peer(s.local, 'wg0', 'peer0', s.keys.key_pub_peer, `${s.ip_peer}:${WG_PORT}`, `${s.ip_wg_peer}/32`);
	await check_ping(s.local, s.ip_wg_peer);
	const fresh = lstatSync(sock, { throwIfNoEntry: false });
	t.ok(fresh?.isSocket() && fresh.uid === 0 && (fresh.mode & 0o777) === 0o600 && fresh.ino !== stale?.ino,
	    'the new wg0 replaced the stale file with its own socket (root, 0600)');
	const shown = await s.local.check(['wg', 'show', 'wg0', 'endpoints']);
	t.equal(shown.stdout, `${s.keys.key_pub_peer}\t${s.ip_peer}:${WG_PORT}\n`, 'wg(8) talks to the new wg0');
	const listeners = (await s.local.exec(['ss', '-Hxl'])).stdout.split('\n').filter((l) => /\/wg0\.sock\b/.test(l));
	t.equal(listeners.length, 1, 'one listener on the socket path', { listeners });
	t.match((await s.local.exec(['ss', '-Hlun'])).stdout, new RegExp(`:${WG_PORT}\\b`), 'the UDP port is bound again');
	const r = await transfer(s.local, s.peer, s.ip_wg_peer, 4 << 20);
	t.ok(r.ok && sha_ok(r), 'the re-created tunnel carries a TCP transfer intact');
});

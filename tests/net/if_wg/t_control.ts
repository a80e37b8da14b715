// SPDX-License-Identifier: BSD-2-Clause
/*
 * Control plane security, end to end (as root, the hostile parts as
 * nobody):
 *   - a failed configuration changes nothing, on every path: UAPI set,
 *     the ioctl dictionary (wgconfig), sysctl, ifconfig;
 *   - the UAPI socket directory and file are never taken from, or
 *     through, another user;
 *   - hostile clients of the control socket cannot grow the instance
 *     past a bound, and the tunnel keeps carrying traffic meanwhile.
 */

import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import { Lab, NODE, require_progs, type Host } from '../../harness/netns.js';
import { random_id, request, wgu } from '../../harness/kern.js';
import {
	prop_dictionary_create, prop_dictionary_externalize, prop_dictionary_set_data,
} from '../../../lib/libprop/prop.js';
import { SIOCSDRVSPEC } from '../../../sys/sys/sockio.js';
import { WG_IOCTL_SET_PRIVATE_KEY } from '../../../sys/net/if_wg.h.js';
import { keypair, setup_topology, uapi } from '../../harness/if_wg.js';

t.setTimeout(900_000);

const H_SQUAT = fileURLToPath(new URL('../../sys/kern/h_squat.js', import.meta.url));

/* Everything a configuration request could change, as the tools show it (one command: they are many). */
const STATE_CMDS = ['wg showconf wg0', 'wgconfig wg0', 'wgconfig wg0 show private-key',
	'wgconfig wg0 show peer peer0 --show-preshared-key', 'wg-userspace 0 sysctl -a', 'ifconfig wg0', 'ifconfig -l'];

async function state(h: Host): Promise<string> {
	const r = await h.exec(STATE_CMDS.map((c) => `echo "$ ${c}"; ${c} 2>&1; echo "($?)"`).join('; '));
	/* Timestamps and counters move with traffic, not with configuration. */
	return r.stdout.replace(/^(\s*(latest-handshake|rx|tx|transfer|last).*)$/gm, '');
}

t.test('a failed configuration changes nothing, on every path', async (t) => {
	if (!require_progs(t, ['wg']))
		return;
	const topo = await setup_topology(t, { prefix: 'ctl' });
	const h = topo.local;
	const sock = join(h.rundir, 'wg0.sock');
	const other = keypair();
	const keyfile = h.write('other.key', `${other.priv}\n`);
	const hex = (b64: string): string => Buffer.from(b64, 'base64').toString('hex');
	/* A UDP port taken by someone else, inside the namespace. */
	const holder = h.spawn([NODE, '-e',
	    'const s=require("dgram").createSocket("udp4");s.bind(5556,()=>console.log("bound"));setInterval(()=>{},1e6)']);
	t.ok(await holder.wait_for(/^bound$/m, 10_000), 'port 5556 is taken');

	const before = await state(h);
	t.match(before, /ListenPort = 51820/, 'the state has the listen port');
	const same = async (what: string): Promise<void> => {
		t.equal(await state(h), before, `${what}: nothing changed`);
	};

	/* UAPI set: the report's case, and every other kind of failure. */
	const uapi_cases: Array<[string, string, string]> = [
		['a bad key after listen_port', 'set=1\nlisten_port=5555\nprivate_key=zz\n\n', 'errno=-22\n\n'],
		['the report: bad key first', 'set=1\nprivate_key=zz\nlisten_port=5555\n\n', 'errno=-22\n\n'],
		['a bad allowed_ip last', `set=1\nlisten_port=5555\nfwmark=7\nprivate_key=${hex(other.priv)}\n` +
		    `replace_peers=true\npublic_key=${hex(other.pub)}\nallowed_ip=10.9.0.0/33\n\n`, 'errno=-22\n\n'],
		['a line without "="', `set=1\nprivate_key=${hex(other.priv)}\nreplace_peers=true\ngarbage\n\n`, 'errno=-71\n\n'],
		['a port in use', `set=1\nprivate_key=${hex(other.priv)}\nreplace_peers=true\nlisten_port=5556\n\n`, 'errno=-98\n\n'],
		/* The sockets switch last: a port that cannot be bound leaves key, peers and fwmark as they were. */
		['a port in use, with a new fwmark and peers', `set=1\nfwmark=77\nprivate_key=${hex(other.priv)}\n` +
		    `listen_port=5556\nreplace_peers=true\npublic_key=${hex(other.pub)}\nallowed_ip=10.9.0.0/16\n\n`,
		    'errno=-98\n\n'],
	];
	for (const [what, req, reply] of uapi_cases) {
		t.equal(await uapi(sock, req), reply, `UAPI ${what}: ${reply.trim()}`);
		await same(`UAPI ${what}`);
	}
	const ws = await h.exec(['wg', 'set', 'wg0', 'private-key', keyfile, 'listen-port', '5556']);
	t.not(ws.code, 0, 'wg set with a port in use fails');
	await same('wg set with a port in use');

	/* The ioctl dictionary, through wgconfig and raw. */
	const wgconfig_cases: string[][] = [
		['wgconfig', 'wg0', 'add', 'peer', 'p2', other.pub, `--allowed-ips=${topo.ip_wg_peer}/32`],
		['wgconfig', 'wg0', 'add', 'peer', 'peer0', other.pub, '--allowed-ips=10.9.9.9/32'],
		['wgconfig', 'wg0', 'add', 'peer', 'p3', topo.keys.key_pub_peer, '--allowed-ips=10.9.9.9/32'],
		['wgconfig', 'wg0', 'set', 'listen-port', '5556'],
		['wgconfig', 'wg0', 'delete', 'peer', 'nosuch'],
		['wgconfig', 'wg0', 'set', 'private-key', h.path('nosuch')],
	];
	for (const cmd of wgconfig_cases) {
		t.not((await h.exec(cmd)).code, 0, `${cmd.join(' ')} fails`);
		await same(cmd.join(' '));
	}
	const d = prop_dictionary_create();
	prop_dictionary_set_data(d, 'private_key', new Uint8Array(31));
	const short = await request(h, 0, { op: 'ioctl', req: SIOCSDRVSPEC, name: 'wg0', cmd: WG_IOCTL_SET_PRIVATE_KEY,
	    data: prop_dictionary_externalize(d) });
	t.not(short.errno, 0, 'a 31-byte private key in a raw dictionary fails');
	await same('a raw dictionary with a short key');

	/* sysctl: a bad value, and a good one followed by a bad one. */
	for (const args of [['net.wg.debug=zz'], ['net.wg.rekey_timeout=7', 'net.wg.keepalive_timeout=0'],
	    ['net.wg.rekey_timeout=7', 'net.wg.nosuch=1']]) {
		t.equal((await h.exec(['wg-userspace', '0', 'sysctl', '-w', ...args])).code, 1, `sysctl -w ${args.join(' ')} fails`);
		await same(`sysctl -w ${args.join(' ')}`);
	}

	/* ifconfig, directly and through wg-userspace: a later step fails after earlier ones worked. */
	for (const cmd of [['ifconfig', 'wg0', 'mtu', '1300', 'inet', '10.77.0.1', 'delete'],
	    ['wg-userspace', '0', 'ifconfig', 'wg0', 'mtu', '1280', 'inet6', 'fd77::1', 'delete'],
	    ['ifconfig', 'wg0', 'mtu', '1300', 'inet', '10.0.0.1/24', 'mtu', '99999'],
	    ['ifconfig', 'wg1', 'create', 'mtu', '1300', 'inet', '10.77.0.1', 'delete']]) {
		t.not((await h.exec(cmd)).code, 0, `${cmd.join(' ')} fails`);
		await same(cmd.join(' '));
	}
	holder.kill();
	await topo.local.check(['ping', '-n', '-c', '1', '-w', '10', topo.ip_wg_peer], { msg: 'the tunnel still works' });
});

t.test('the UAPI directory and socket are never taken from, or through, another user', async (t) => {
	const lab = new Lab(t, 'ctu');
	const h = lab.host('a');
	const key = h.write('k', `${keypair().priv}\n`);
	const evil = h.path('evil');
	mkdirSync(evil, { mode: 0o755 });
	chownSync(evil, 65534, 65534);
	const open_dir = h.path('open');
	mkdirSync(open_dir);
	const fs_mode = (p: string): number => lstatSync(p).mode & 0o7777;
	chmodSync(open_dir, 0o777);
	const good = h.path('good');
	mkdirSync(good, { mode: 0o755 });
	symlinkSync(join(evil, 'x'), join(good, 'wg0.sock'));
	const link = h.path('link');
	symlinkSync(evil, link);
	/* A nobody's socket where wg0.sock belongs, in its own directory. */
	const sq = h.spawn([NODE, H_SQUAT, join(evil, 'wg0.sock')], { user: 'nobody' });
	t.ok(await sq.wait_for(/^ready$/m, 10_000), 'nobody listens in its own directory');

	/* Interfaces of one namespace share Linux's names: one wgN per case. */
	const cases: Array<[string, string, string, RegExp]> = [
		['a symlink to a directory of nobody', 'wg1', link, /wg1: \S+ is a symbolic link: no UAPI socket/],
		['a directory of nobody', 'wg0', evil, /wg0: \S+ is owned by uid 65534, not root: no UAPI socket/],
		['a directory anyone can write', 'wg2', open_dir,
		    /wg2: \S+ is writable by group or others \(mode 777\): no UAPI socket/],
		['wg0.sock a symlink', 'wg0', good, /wg0: \S+wg0\.sock is not a socket: left alone, no UAPI socket/],
	];
	for (const [what, ifname, dir, re] of cases) {
		const id = random_id();
		const log = h.path(`kernel-${id}.log`);
		const env = { WG_UAPI_DIR: dir, WG_USERSPACE_LOG: log, WG_USERSPACE_ID: String(id) };
		t.equal((await wgu(h, id, ['create'], { env })).code, 0, `${what}: instance ${id} boots`);
		await h.check(['ifconfig', ifname, 'create'], { env, msg: `${what}: ${ifname} is created` });
		await h.check(['wgconfig', ifname, 'set', 'private-key', key], { env, msg: `${what}: and configured` });
		t.match(readFileSync(log, 'utf8'), re, `${what}: refused, and logged`);
		await wgu(h, id, ['destroy'], { env });
	}
	t.equal(fs_mode(open_dir), 0o777, 'the open directory was left as it was');
	t.equal(readlinkSync(join(good, 'wg0.sock')), join(evil, 'x'), 'the symlink was left as it was');
	t.notOk(existsSync(join(evil, 'x')), 'nothing was created through it');
	t.notMatch(sq.stdout, /^(conn|bytes)/m, 'the squatter in the nobody directory was never contacted');
	t.ok(sq.running, 'and is still there');
});

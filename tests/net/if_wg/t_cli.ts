// SPDX-License-Identifier: BSD-2-Clause
/*
 * The command-line contract (share/doc/DESIGN.md §6) against a real kernel
 * instance in a namespace: create/destroy in every state, interfaces
 * sharing a key, duplicate and unknown peers, root-only changes and
 * key hiding for other users, endpoint forms, and a `show` of 10,000
 * peers (NetBSD's 4096-byte get buffer is not copied).
 */

import t from 'tap';
import { fileURLToPath } from 'node:url';
import { Lab, NODE, require_progs, type Host } from '../../harness/netns.js';
import { fixed_keys, generate_keys, setup_wg_common } from '../../harness/if_wg.js';

t.setTimeout(600_000);

const ADDPEERS = fileURLToPath(new URL('./wg_addpeers.js', import.meta.url));
const PEERS_AT_SCALE = 10_000;

async function tun_exists(h: Host, ifname: string): Promise<boolean> {
	return (await h.exec(['ip', 'link', 'show', ifname])).code === 0;
}

/* A command that must fail with a "PROG: ..." message matching re. */
async function check_error(h: Host, cmd: string[], re: RegExp, opts: { user?: 'nobody' } = {}): Promise<void> {
	const r = await h.exec(cmd, opts);
	h.lab.t.ok(r.code === 1 && re.test(r.stderr) && /^[\w-]+: /.test(r.stderr),
	    `${r.cmd}${opts.user ? ' (as nobody)' : ''} fails: ${re.source}`,
	    { code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr });
}

if (require_progs(t, ['ip', 'setpriv'])) {
	t.test('cli_create_destroy_states', async (t) => {
		const lab = new Lab(t, 'wgc');
		const h = lab.host('local');
		h.write('key', `${fixed_keys.key_priv_local}\n`);
		h.write('psk', `${(await h.check(['wg-keygen', '--psk'])).stdout}`);

		await h.check(['ifconfig', 'wg0', 'create']);
		t.ok(await tun_exists(h, 'wg0'), 'wg0 is a real link');
		const link = await h.check(['ip', 'link', 'show', 'wg0']);
		t.match(link.stdout, /mtu 1420\b/, 'MTU 1420');
		await check_error(h, ['ifconfig', 'wg0', 'create'], /File exists/);
		await check_error(h, ['ifconfig', 'wg7', 'destroy'], /./);
		await h.check(['ifconfig', 'wg0', 'destroy']);
		t.notOk(await tun_exists(h, 'wg0'), 'destroy removes the link');

		/* Fully configured, up, addressed, with peers: destroy takes it all. */
		await h.check(['ifconfig', 'wg0', 'create']);
		await h.check(['ifconfig', 'wg0', 'inet', '10.0.0.1/24']);
		await h.check(['ifconfig', 'wg0', 'inet6', 'fd00::1/64']);
		await h.check(['wgconfig', 'wg0', 'set', 'private-key', './key']);
		await h.check(['wgconfig', 'wg0', 'set', 'listen-port', '51820']);
		await h.check(['wgconfig', 'wg0', 'add', 'peer', 'peer0', fixed_keys.key_pub_peer,
		    '--endpoint=192.168.1.2:51820', '--allowed-ips=10.0.0.2/32,fd00::2/128', '--preshared-key=./psk']);
		await h.check(['ifconfig', 'wg0', 'up']);
		/* A handshake in flight towards nowhere while we destroy. */
		await h.exec(['ping', '-n', '-c', '1', '-w', '1', '10.0.0.2']);
		await h.check(['ifconfig', 'wg0', 'destroy']);
		t.notOk(await tun_exists(h, 'wg0'), 'configured interface destroyed');

		/* A new wg0 starts clean, and the old port and peer name are free again. */
		await h.check(['ifconfig', 'wg0', 'create']);
		const fresh = await h.check(['wgconfig', 'wg0']);
		t.match(fresh.stdout, /listen-port: \(none\)/, 'new interface has no port');
		t.notMatch(fresh.stdout, /peer:/, 'new interface has no peers');
		await h.check(['wgconfig', 'wg0', 'set', 'listen-port', '51820']);
		await h.check(['wgconfig', 'wg0', 'add', 'peer', 'peer0', fixed_keys.key_pub_peer,
		    '--allowed-ips=10.0.0.2/32']);

		/* Halting the instance removes its interfaces; the next create starts a new one. */
		await h.check(['wg-userspace', '0', 'destroy']);
		t.notOk(await tun_exists(h, 'wg0'), 'wg-userspace 0 destroy removes wg0');
		await h.check(['ifconfig', 'wg0', 'create']);
		t.ok(await tun_exists(h, 'wg0'), 'instance restarted on demand');
		await h.check(['ifconfig', 'wg0', 'destroy']);
	});

	t.test('cli_two_interfaces_shared_key', async (t) => {
		const lab = new Lab(t, 'wgc');
		const h = lab.host('local');
		await setup_wg_common(h, 'wg0', 'inet', '10.0.0.1', 24, 51820, fixed_keys.key_priv_local);
		await setup_wg_common(h, 'wg1', 'inet', '10.0.1.1', 24, 51821, fixed_keys.key_priv_local);
		const k0 = await h.check(['wgconfig', 'wg0', 'show', 'private-key']);
		const k1 = await h.check(['wgconfig', 'wg1', 'show', 'private-key']);
		t.equal(k0.stdout, k1.stdout, 'both interfaces hold the same key');
		t.ok(await tun_exists(h, 'wg0') && await tun_exists(h, 'wg1'), 'both links exist');
		/* One instance serves both. */
		const st = await h.check(['ifconfig', '-a']);
		t.match(st.stdout, /^wg0: /m, 'ifconfig -a lists wg0');
		t.match(st.stdout, /^wg1: /m, 'ifconfig -a lists wg1');
		/* A port already bound by wg0 cannot be taken by wg1. */
		const clash = await h.exec(['wgconfig', 'wg1', 'set', 'listen-port', '51820']);
		t.equal(clash.code, 1, 'wg1 cannot take wg0\'s port', { stderr: clash.stderr });
		const p1 = await h.check(['wgconfig', 'wg1']);
		t.match(p1.stdout, /listen-port: 51821$/m, 'wg1 keeps its port');
		await h.check(['ifconfig', 'wg0', 'destroy']);
		t.ok(await tun_exists(h, 'wg1'), 'destroying wg0 leaves wg1');
		await h.check(['ifconfig', 'wg1', 'destroy']);
	});

	t.test('cli_duplicate_and_unknown_peers', async (t) => {
		const lab = new Lab(t, 'wgc');
		const h = lab.host('local');
		const k = await generate_keys(h);
		await setup_wg_common(h, 'wg0', 'inet', '10.0.0.1', 24, 51820, fixed_keys.key_priv_local);
		await h.check(['wgconfig', 'wg0', 'add', 'peer', 'peer0', fixed_keys.key_pub_peer,
		    '--allowed-ips=10.0.0.2/32']);
		await check_error(h, ['wgconfig', 'wg0', 'add', 'peer', 'peer0', k.key_pub_local,
		    '--allowed-ips=10.0.0.3/32'], /File exists/);
		await check_error(h, ['wgconfig', 'wg0', 'add', 'peer', 'peer1', fixed_keys.key_pub_peer,
		    '--allowed-ips=10.0.0.4/32'], /File exists/);
		await check_error(h, ['wgconfig', 'wg0', 'add', 'peer', 'peer2', k.key_pub_peer,
		    '--allowed-ips=10.0.0.2/32'], /File exists/);
		const all = await h.check(['wgconfig', 'wg0']);
		t.equal((all.stdout.match(/^\tpeer: /gm) ?? []).length, 1, 'only the first peer was added');

		await check_error(h, ['wgconfig', 'wg0', 'delete', 'peer', 'nosuch'], /No such file or directory/);
		const show = await h.exec(['wgconfig', 'wg0', 'show', 'peer', 'nosuch']);
		t.equal(show.code, 1, 'show peer of an unknown name exits 1', { stderr: show.stderr });
		await h.check(['wgconfig', 'wg0', 'delete', 'peer', 'peer0']);
		await check_error(h, ['wgconfig', 'wg0', 'delete', 'peer', 'peer0'], /No such file or directory/);
	});

	t.test('cli_endpoint_forms', async (t) => {
		const lab = new Lab(t, 'wgc');
		const h = lab.host('local');
		const k = await generate_keys(h);
		await setup_wg_common(h, 'wg0', 'inet6', 'fd00::1', 64, 51820, fixed_keys.key_priv_local);
		/* NetBSD's bare form and the bracketed form both parse; both print bracketed. */
		await h.check(['wgconfig', 'wg0', 'add', 'peer', 'bare', k.key_pub_local,
		    '--endpoint=fc00::2:51820', '--allowed-ips=fd00::2/128']);
		await h.check(['wgconfig', 'wg0', 'add', 'peer', 'bracketed', k.key_pub_peer,
		    '--endpoint=[fc00::3]:51821', '--allowed-ips=fd00::3/128']);
		await h.check(['wgconfig', 'wg0', 'add', 'peer', 'v4', fixed_keys.key_pub_peer,
		    '--endpoint=192.168.1.4:51822', '--allowed-ips=10.0.0.4/32,fd00::4/128', '--persistent-keepalive=25']);
		const bare = await h.check(['wgconfig', 'wg0', 'show', 'peer', 'bare']);
		t.match(bare.stdout, /endpoint: \[fc00::2\]:51820$/m, 'bare IPv6 endpoint prints bracketed');
		const br = await h.check(['wgconfig', 'wg0', 'show', 'peer', 'bracketed']);
		t.match(br.stdout, /endpoint: \[fc00::3\]:51821$/m, 'bracketed IPv6 endpoint');
		const v4 = await h.check(['wgconfig', 'wg0', 'show', 'peer', 'v4']);
		t.match(v4.stdout, /endpoint: 192\.168\.1\.4:51822$/m, 'IPv4 endpoint');
		t.match(v4.stdout, /allowed-ips: 10\.0\.0\.4\/32,fd00::4\/128$/m, 'mixed allowed IPs in input order');
		/* Most recently added first, as NetBSD lists them. */
		const all = await h.check(['wgconfig', 'wg0']);
		const names = [...all.stdout.matchAll(/^\tpeer: (\S+)$/gm)].map((m) => m[1]);
		t.same(names, ['v4', 'bracketed', 'bare'], 'peers listed newest first');
	});

	t.test('cli_nonroot', async (t) => {
		const lab = new Lab(t, 'wgc');
		const h = lab.host('local');
		const psk = (await h.check(['wg-keygen', '--psk'])).stdout.trim();
		h.write('psk', `${psk}\n`);
		await setup_wg_common(h, 'wg0', 'inet', '10.0.0.1', 24, 51820, fixed_keys.key_priv_local);
		await h.check(['wgconfig', 'wg0', 'add', 'peer', 'peer0', fixed_keys.key_pub_peer,
		    '--allowed-ips=10.0.0.2/32', '--preshared-key=./psk']);
		const nobody = { user: 'nobody' as const };

		/* Changing anything needs root (kauth). */
		await check_error(h, ['wgconfig', 'wg0', 'set', 'listen-port', '1234'], /Operation not permitted/, nobody);
		await check_error(h, ['wgconfig', 'wg0', 'add', 'peer', 'peer1', (await generate_keys(h)).key_pub_local,
		    '--allowed-ips=10.0.0.3/32'], /Operation not permitted/, nobody);
		await check_error(h, ['wgconfig', 'wg0', 'delete', 'peer', 'peer0'], /Operation not permitted/, nobody);
		await check_error(h, ['ifconfig', 'wg1', 'create'], /Operation not permitted/, nobody);
		await check_error(h, ['ifconfig', 'wg0', 'destroy'], /Operation not permitted/, nobody);
		await check_error(h, ['wg-userspace', '0', 'sysctl', '-w', 'net.wg.debug=1'], /./, nobody);
		t.ok(await tun_exists(h, 'wg0'), 'wg0 survived the refused destroy');
		const root_view = await h.check(['wgconfig', 'wg0']);
		t.match(root_view.stdout, /listen-port: 51820$/m, 'port unchanged');
		t.match(root_view.stdout, /^\tpeer: peer0$/m, 'peer0 still there');
		t.notMatch(root_view.stdout, /^\tpeer: peer1$/m, 'peer1 was not added');

		/* Reading works, without the secrets. */
		const view = await h.check(['wgconfig', 'wg0'], nobody);
		t.match(view.stdout, /^interface: wg0$/m, 'nobody can show the interface');
		t.match(view.stdout, /^\tpeer: peer0$/m, 'and its peers');
		t.match(view.stdout, /private-key: \(hidden\)/, 'show all hides the private key');
		const pk = await h.check(['wgconfig', 'wg0', 'show', 'private-key'], nobody);
		t.match(pk.stdout, /^private-key: \(none\)$/m, 'nobody does not get the private key');
		t.notMatch(pk.stdout, fixed_keys.key_priv_local, 'the key text does not appear');
		const ps = await h.check(['wgconfig', 'wg0', 'show', 'peer', 'peer0', '--show-preshared-key'], nobody);
		t.match(ps.stdout, /preshared-key: \(none\)/, 'nobody does not get the preshared key');
		const ps_root = await h.check(['wgconfig', 'wg0', 'show', 'peer', 'peer0', '--show-preshared-key']);
		t.ok(ps_root.stdout.includes(`preshared-key: ${psk}`), 'root does');
	});

	t.test('cli_10000_peers', async (t) => {
		const lab = new Lab(t, 'wgc');
		const h = lab.host('local');
		await setup_wg_common(h, 'wg0', 'inet', '10.0.0.1', 8, 51820, fixed_keys.key_priv_local);
		const add = await h.exec([NODE, ADDPEERS, 'wg0', String(PEERS_AT_SCALE)],
		    { env: { WG_USERSPACE_ID: '0' }, timeout: 240_000 });
		t.equal(add.code, 0, `${PEERS_AT_SCALE} ADD_PEER ioctls`, { stdout: add.stdout, stderr: add.stderr });
		const all = await h.check(['wgconfig', 'wg0'], { timeout: 120_000 });
		const names = all.stdout.match(/^\tpeer: .*$/gm) ?? [];
		t.equal(names.length, PEERS_AT_SCALE, `show lists all ${PEERS_AT_SCALE} peers`);
		t.equal(new Set(names).size, PEERS_AT_SCALE, 'each once, over pages of 2048');
		t.match(all.stdout, /^\t\tallowed-ips: 10\.64\.39\.15\/32$/m, 'the last peer is in it');
		t.match(all.stdout, /^\t\tallowed-ips: 10\.64\.0\.0\/32$/m, 'so is the first');
		const last = await h.check(['wgconfig', 'wg0', 'show', 'peer', `p${PEERS_AT_SCALE - 1}`]);
		t.match(last.stdout, /allowed-ips: 10\.64\.39\.15\/32/, 'show peer finds one by name');
		await h.check(['ifconfig', 'wg0', 'destroy'], { timeout: 120_000 });
	});
}

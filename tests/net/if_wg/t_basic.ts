// SPDX-License-Identifier: BSD-2-Clause
/*
 * NetBSD's tests/net/if_wg/t_basic.sh (1.10) on network namespaces, plus
 * the seed workflow.  Case names are NetBSD's (one fix: NetBSD
 * spells wg_badhanddshakekey with a typo).
 */

import t from 'tap';
import { randomBytes } from 'node:crypto';
import { crypto_attach } from '../../../sys/crypto/crypto_select.js';
import { Lab, count_lines, require_progs, type Host, type TapTest } from '../../harness/netns.js';
import {
	PROTOS, WG_PORT, add_peer, badkeys, check_ping, check_ping_fail, delete_peer, destroy_wg_interfaces,
	endpoint, fixed_keys, generate_keys, ipv, setup_common, setup_topology,
	setup_wg_common, udp_re, wg_sysctl, type Proto,
} from '../../harness/if_wg.js';
import { wg_forge_msg_init } from './wg_forge.js';

t.setTimeout(900_000);

/* badkeys[0..6] are low order under RFC 7748 decoding; the rest only without bit-255 masking. */
const RFC7748_LOW_ORDER = 7;

const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

/* The tun of a destroyed interface must be gone from the namespace too. */
async function check_no_tun(h: Host, ifname: string): Promise<void> {
	const r = await h.exec(['ip', 'link', 'show', ifname]);
	h.lab.t.not(r.code, 0, `${h.name}: no ${ifname} link left`, { stdout: r.stdout });
}

if (require_progs(t, ['ip', 'ping', 'tcpdump', 'setpriv'])) {
	/* wg_basic_*: the first packet starts the handshake, and the ping gets through. */
	for (const outer of PROTOS) {
		for (const inner of PROTOS) {
			t.test(`wg_basic_${ipv(inner)}_over_${ipv(outer)}`, async (t) => {
				const s = await setup_topology(t, { inner, outer });
				await check_ping(s.local, s.ip_wg_peer);
				await destroy_wg_interfaces(s.local, s.peer);
			});
		}
	}

	/*
	 * wg_payload_sizes_*: NetBSD pings every size in 1..100, 450..550 and
	 * 1400..1500 (303 pings per case).  We keep a representative subset
	 * to hold the time down: the smallest sizes, the 16-byte padding
	 * boundaries around 100 and 500, the largest size that fits the
	 * 1420-byte MTU unfragmented (1392 for IPv4), and the fragmenting
	 * sizes up to 1500.
	 */
	const SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100, 450, 500, 550, 1300, 1392,
	    1400, 1420, 1440, 1460, 1480, 1500];
	for (const outer of PROTOS) {
		for (const inner of PROTOS) {
			t.test(`wg_payload_sizes_${ipv(inner)}_over_${ipv(outer)}`, async (t) => {
				const s = await setup_topology(t, { inner, outer });
				for (const size of SIZES)
					await check_ping(s.local, s.ip_wg_peer, { count: 1, size, interval: undefined });
				await destroy_wg_interfaces(s.local, s.peer);
			});
		}
	}

	/* wg_badudp_*: an empty datagram to the port must not hurt the stack. */
	for (const outer of PROTOS) {
		for (const inner of PROTOS) {
			t.test(`wg_badudp_${ipv(inner)}_over_${ipv(outer)}`, async (t) => {
				const s = await setup_topology(t, { inner, outer });
				await s.local.udp_send(s.ip_peer, WG_PORT, '');
				await check_ping(s.local, s.ip_wg_peer);
				await destroy_wg_interfaces(s.local, s.peer);
			});
		}
	}

	/* wg_create_destroy: create and destroy in every state; each step exits 0. */
	t.test('wg_create_destroy', async (t) => {
		const lab = new Lab(t, 'wg');
		const h = lab.host('local');
		const steps: string[][][] = [
			[['create'], ['destroy']],
			[['create'], ['up'], ['down'], ['destroy']],
			[['create'], ['up'], ['destroy']],
			[['create'], ['inet', '10.0.0.1/24'], ['destroy']],
			[['create'], ['inet', '10.0.0.1/24'], ['up'], ['down'], ['destroy']],
			[['create'], ['inet', '10.0.0.1/24'], ['up'], ['destroy']],
			[['create'], ['inet6', 'fc00::1'], ['destroy']],
			[['create'], ['inet6', 'fc00::1'], ['up'], ['down'], ['destroy']],
			[['create'], ['inet6', 'fc00::1'], ['up'], ['destroy']],
		];
		for (const seq of steps) {
			for (const step of seq)
				await h.check(['ifconfig', 'wg0', ...step]);
			await check_no_tun(h, 'wg0');
		}
	});

	/* wg_create_destroy_peers_*: add and delete a peer with the common.sh assertions. */
	for (const proto of PROTOS) {
		t.test(`wg_create_destroy_peers_${ipv(proto)}`, async (t) => {
			const lab = new Lab(t, 'wg');
			const h = lab.host('local');
			const v4 = proto === 'inet';
			await setup_wg_common(h, 'wg0', proto, v4 ? '10.0.0.1' : 'fd00::1', v4 ? 24 : 64, WG_PORT,
			    fixed_keys.key_priv_local);
			await add_peer(h, 'wg0', 'peer0', fixed_keys.key_pub_peer,
			    endpoint(v4 ? '192.168.1.2' : 'fc00::2', WG_PORT), v4 ? '10.0.0.2/32' : 'fd00::2/128');
			await delete_peer(h, 'wg0', 'peer0');
			await h.check(['ifconfig', 'wg0', 'destroy']);
		});
	}

	/*
	 * wg_multiple_interfaces: LOCAL has wg0 (port 51820) towards PEER and
	 * wg1 (port 51821) towards PEER2, both with the same private key.
	 */
	t.test('wg_multiple_interfaces', async (t) => {
		const lab = new Lab(t, 'wg');
		const local = lab.host('local');
		const peer = lab.host('peer');
		const peer2 = lab.host('peer2');
		lab.segment('bus1', [local, peer]);
		lab.segment('bus2', [local, peer2]);
		setup_common(local, 'shmif0', '192.168.1.1', 24);
		setup_common(local, 'shmif1', '192.168.2.1', 24);
		setup_common(peer, 'shmif0', '192.168.1.2', 24);
		setup_common(peer2, 'shmif0', '192.168.2.2', 24);
		const k = fixed_keys;
		const k2 = await generate_keys(local);

		await setup_wg_common(local, 'wg0', 'inet', '10.0.0.1', 24, 51820, k.key_priv_local);
		await setup_wg_common(local, 'wg1', 'inet', '10.0.1.1', 24, 51821, k.key_priv_local);
		await setup_wg_common(peer, 'wg0', 'inet', '10.0.0.2', 24, 51820, k.key_priv_peer);
		await setup_wg_common(peer2, 'wg0', 'inet', '10.0.1.2', 24, 51821, k2.key_priv_peer);
		for (const h of [local, peer, peer2])
			await wg_sysctl(h, 'rekey_timeout', 1);

		await add_peer(local, 'wg0', 'peer0', k.key_pub_peer, '192.168.1.2:51820', '10.0.0.2/32');
		await add_peer(local, 'wg1', 'peer0', k2.key_pub_peer, '192.168.2.2:51821', '10.0.1.2/32');
		await add_peer(peer, 'wg0', 'peer0', k.key_pub_local, '192.168.1.1:51820', '10.0.0.1/32');
		await add_peer(peer2, 'wg0', 'peer0', k.key_pub_local, '192.168.2.1:51821', '10.0.1.1/32');

		await check_ping(local, '10.0.0.2', { wait: 3 });
		await check_ping(local, '10.0.1.2', { wait: 3 });
		await local.check(['ifconfig', 'wg1', 'destroy']);
		await destroy_wg_interfaces(local, peer, peer2);
	});

	/* wg_multiple_peers: one interface, two peers on the same bus. */
	t.test('wg_multiple_peers', async (t) => {
		const lab = new Lab(t, 'wg');
		const local = lab.host('local');
		const peer = lab.host('peer');
		const peer2 = lab.host('peer2');
		lab.segment('bus', [local, peer, peer2]);
		setup_common(local, 'shmif0', '192.168.1.1', 24);
		setup_common(peer, 'shmif0', '192.168.1.2', 24);
		setup_common(peer2, 'shmif0', '192.168.1.3', 24);
		const k = fixed_keys;
		const k2 = await generate_keys(local);

		await setup_wg_common(local, 'wg0', 'inet', '10.0.0.1', 24, WG_PORT, k.key_priv_local);
		await setup_wg_common(peer, 'wg0', 'inet', '10.0.0.2', 24, WG_PORT, k.key_priv_peer);
		await setup_wg_common(peer2, 'wg0', 'inet', '10.0.0.3', 24, WG_PORT, k2.key_priv_peer);
		for (const h of [local, peer, peer2])
			await wg_sysctl(h, 'rekey_timeout', 1);

		await add_peer(local, 'wg0', 'peer0', k.key_pub_peer, '192.168.1.2:51820', '10.0.0.2/32');
		await add_peer(local, 'wg0', 'peer1', k2.key_pub_peer, '192.168.1.3:51820', '10.0.0.3/32');
		await add_peer(peer, 'wg0', 'peer0', k.key_pub_local, '192.168.1.1:51820', '10.0.0.1/32');
		await add_peer(peer2, 'wg0', 'peer0', k.key_pub_local, '192.168.1.1:51820', '10.0.0.1/32');

		await check_ping(local, '10.0.0.2', { wait: 3 });
		await check_ping(local, '10.0.0.3', { wait: 3 });
		await destroy_wg_interfaces(local, peer, peer2);
	});

	/*
	 * wg_badpeerkey_ipv4_over_ipv4_test_N: LOCAL's peer0 has low-order
	 * public key N.  Every DH with it is zero, so no handshake can be
	 * made: the ping fails, nothing crashes, and LOCAL never even sends
	 * an initiation (checked on the wire).  The 12 cases share one setup
	 * and replace peer0 in turn; a final ping with the real key shows the
	 * stack is still sound.
	 *
	 * Keys 7..11 are encodings with bit 255 set (point + p, 2p - 1 ..
	 * 2p + 1).  They are low order only to a decoder that reduces them
	 * mod p; X25519 as RFC 7748 §5 specifies (and Linux, wireguard-go,
	 * libsodium and noble implement) masks bit 255 first, which turns
	 * them into ordinary points with a non-zero DH.  An initiation to
	 * them may leave, then; PEER cannot answer it (its mac1 is keyed to
	 * the wrong public key), so the ping still fails.
	 *
	 * Whether `add peer` takes such a key (NetBSD, Linux and
	 * wireguard-go all do, and fail at handshake time) or refuses it
	 * with a clean error is the driver's choice; either passes.
	 */
	t.test('wg_badpeerkey_ipv4_over_ipv4', async (t) => {
		const s = await setup_topology(t, { capture: true });
		const cap = s.cap!;
		for (const [n, key] of badkeys.entries()) {
			await t.test(`wg_badpeerkey_ipv4_over_ipv4_test_${n}`, async (t) => {
				s.lab.set_test(t);
				await s.local.check(['wgconfig', 'wg0', 'delete', 'peer', 'peer0']);
				const add = await s.local.exec(['wgconfig', 'wg0', 'add', 'peer', 'peer0', key,
				    `--endpoint=${s.ip_peer}:${WG_PORT}`, `--allowed-ips=${s.ip_wg_peer}/32`]);
				t.ok(add.code === 0 || (add.code === 1 && /^wgconfig: /m.test(add.stderr)),
				    `add peer with low-order key ${n} succeeds or fails cleanly`,
				    { code: add.code, signal: add.signal, stderr: add.stderr });
				await cap.new_lines();
				await check_ping_fail(s.local, s.ip_wg_peer);
				const lines = await cap.new_lines();
				const sent = count_lines(lines, udp_re(s.ip_local, WG_PORT, s.ip_peer, WG_PORT));
				if (n < RFC7748_LOW_ORDER) {
					t.equal(sent, 0, 'no UDP packet left for the bad peer', { lines });
				} else {
					t.equal(sent, count_lines(lines, udp_re(s.ip_local, WG_PORT, s.ip_peer, WG_PORT, 148)),
					    'only initiations left for the peer', { lines });
					t.equal(count_lines(lines, udp_re(s.ip_peer, WG_PORT, s.ip_local, WG_PORT)), 0,
					    'and nothing answered them', { lines });
				}
				const alive = await s.local.check(['wgconfig', 'wg0']);
				t.match(alive.stdout, /^interface: wg0$/m, 'the kernel instance still answers');
				if (add.code !== 0)
					await s.local.check(['wgconfig', 'wg0', 'add', 'peer', 'peer0', fixed_keys.key_pub_peer,
					    `--endpoint=${s.ip_peer}:${WG_PORT}`, `--allowed-ips=${s.ip_wg_peer}/32`]);
			});
		}
		s.lab.set_test(t);
		await s.local.check(['wgconfig', 'wg0', 'delete', 'peer', 'peer0']);
		await add_peer(s.local, 'wg0', 'peer0', fixed_keys.key_pub_peer, `${s.ip_peer}:${WG_PORT}`,
		    `${s.ip_wg_peer}/32`);
		await check_ping(s.local, s.ip_wg_peer, { wait: 3, msg: 'the real key still works afterwards' });
		await destroy_wg_interfaces(s.local, s.peer);
	});

	/*
	 * wg_badhandshakekey_ipv4_over_ipv4_test_N: LOCAL sends PEER a forged
	 * initiation whose ephemeral is low-order point N (see wg_forge.ts).
	 * PEER must drop it (no 92-byte response to the forger's port), and
	 * the real handshake must still complete: ping -c 1 -w 3 succeeds.
	 * rekey_timeout=1 on both, as NetBSD; one cookie round trip is
	 * allowed for.  Peers are deleted and re-added before each case so
	 * that every ping needs a fresh handshake.
	 *
	 * For points 7..11 (see wg_badpeerkey) a correct responder's DH is
	 * not zero; the forgery then fails at decrypting the static key.
	 *
	 * The _control case sends the same forgery with a real ephemeral and
	 * requires a response: it proves the forger's hashes and MACs are
	 * right, so the drops above are the DH check's doing.
	 */
	t.test('wg_badhandshakekey_ipv4_over_ipv4', async (t) => {
		const s = await setup_topology(t, { capture: true, sysctl: { rekey_timeout: 1 } });
		const cap = s.cap!;
		const c = crypto_attach();
		const reset = async (): Promise<void> => {
			for (const [h, pub, ep, aip] of [
				[s.local, fixed_keys.key_pub_peer, `${s.ip_peer}:${WG_PORT}`, `${s.ip_wg_peer}/32`],
				[s.peer, fixed_keys.key_pub_local, `${s.ip_local}:${WG_PORT}`, `${s.ip_wg_local}/32`],
			] as const) {
				await h.check(['wgconfig', 'wg0', 'delete', 'peer', 'peer0']);
				await h.check(['wgconfig', 'wg0', 'add', 'peer', 'peer0', pub, `--endpoint=${ep}`,
				    `--allowed-ips=${aip}`]);
			}
		};
		const forge = (ephemeral: { priv: Uint8Array } | { point: Uint8Array }): Uint8Array =>
		    wg_forge_msg_init(c, {
			initiator_priv: b64(fixed_keys.key_priv_local),
			responder_pub: b64(fixed_keys.key_pub_peer),
			ephemeral,
			sender_index: randomBytes(4).readUInt32LE(0),
			/* In the past, so the real initiation that follows is newer (replay check). */
			timestamp_sec: Date.now() / 1000 - 60,
		    });

		await t.test('wg_badhandshakekey_ipv4_over_ipv4_control', async (t) => {
			s.lab.set_test(t);
			await reset();
			await cap.new_lines();
			const sport = await s.local.udp_send(s.ip_peer, WG_PORT, forge({ priv: c.generate_private_key() }));
			const got = await cap.wait_for(udp_re(s.ip_peer, WG_PORT, s.ip_local, sport, 92), 3000);
			t.ok(got, 'PEER answers a well-formed forged initiation', { lines: cap.lines().slice(-10) });
		});
		for (const [n, key] of badkeys.entries()) {
			await t.test(`wg_badhandshakekey_ipv4_over_ipv4_test_${n}`, async (t) => {
				s.lab.set_test(t);
				await reset();
				await cap.new_lines();
				const sport = await s.local.udp_send(s.ip_peer, WG_PORT, forge({ point: b64(key) }));
				await check_ping(s.local, s.ip_wg_peer, { count: 1, wait: 3, interval: undefined });
				const lines = await cap.new_lines();
				t.equal(count_lines(lines, udp_re(s.ip_peer, WG_PORT, s.ip_local, sport, 92)), 0,
				    'no response to the forged initiation', { lines });
			});
		}
		s.lab.set_test(t);
		await destroy_wg_interfaces(s.local, s.peer);
	});

	/*
	 * The seed workflow, verbatim, on a bare veth pair: each side
	 * makes its keys with wg-keygen into ./privkey and ./pubkey, listens
	 * on 52428, adds the other as peer0 for the whole tunnel subnet;
	 * pings go both ways; after `delete peer` they stop.
	 */
	for (const outer of PROTOS) {
		for (const inner of PROTOS) {
			t.test(`wg_seed_workflow_${ipv(inner)}_over_${ipv(outer)}`, async (t) => {
				await seed_workflow(t, inner, outer);
			});
		}
	}
}

async function seed_workflow(t: TapTest, inner: Proto, outer: Proto): Promise<void> {
	const lab = new Lab(t, 'wg');
	const a = lab.host('a');
	const b = lab.host('b');
	lab.veth(a, b);
	const o4 = outer === 'inet';
	const i4 = inner === 'inet';
	const outer_ip = (n: number): string => (o4 ? `192.168.0.${n}` : `fc00::${n}`);
	const inner_ip = (n: number): string => (i4 ? `10.0.0.${n}` : `fd00::${n}`);
	const ep = (n: number): string => (o4 ? `${outer_ip(n)}:52428` : `[${outer_ip(n)}]:52428`);
	const subnet = i4 ? '10.0.0.0/24' : 'fd00::/64';
	lab.addr(a, 'shmif0', `${outer_ip(1)}/${o4 ? 24 : 64}`);
	lab.addr(b, 'shmif0', `${outer_ip(2)}/${o4 ? 24 : 64}`);

	const hosts: Array<[Host, number]> = [[a, 1], [b, 2]];
	for (const [h, n] of hosts) {
		await h.check([
			'set -e',
			'ifconfig wg0 create',
			`ifconfig wg0 ${inner} ${inner_ip(n)}/${i4 ? 24 : 64}`,
			'(umask 077 && wg-keygen > ./privkey)',
			'cat ./privkey | wg-keygen --pub > ./pubkey',
			'wgconfig wg0 set private-key ./privkey',
			'wgconfig wg0 set listen-port 52428',
		].join('\n'), { msg: `${h.name}: create, address, keys, listen-port` });
	}
	for (const [h, n] of hosts) {
		const other = n === 1 ? b : a;
		const pub = other.read('pubkey').trim();
		t.match(pub, /^[A-Za-z0-9+/]{43}=$/, `${other.name}: ./pubkey holds a key`);
		await h.check(`wgconfig wg0 add peer peer0 "${pub}" --endpoint=${ep(3 - n)} --allowed-ips=${subnet}`);
	}
	await check_ping(a, inner_ip(2), { count: 3, wait: 3 });
	await check_ping(b, inner_ip(1), { count: 3, wait: 3 });
	for (const [h] of hosts)
		await h.check('wgconfig wg0 delete peer peer0');
	await check_ping_fail(a, inner_ip(2));
	await destroy_wg_interfaces(a, b);
}

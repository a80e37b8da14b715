// SPDX-License-Identifier: BSD-2-Clause
/*
 * NetBSD's tests/net/if_wg/t_tunnel.sh: wg_tunnel_{ipv4,ipv6}_over_{ipv4,ipv6}.
 *
 *   LOCAL --bus_local-- TUN_LOCAL ==wg0== TUN_PEER --bus_peer-- PEER
 *                           \------bus_tun (outer)-----/
 *
 * TUN_LOCAL routes PEER's LAN (192.168.2.0/24) and a "bad" network
 * (192.168.3.0/24) into wg0; only the former is in peer0's allowed IPs,
 * so traffic to PEER's alias 192.168.3.2 must be dropped (cryptokey
 * routing, paper §2).  A 2200-byte TCP transfer crosses the tunnel
 * intact.  NetBSD's `route add -net ... -link wg0 -iface` becomes
 * `ip route add ... dev wg0`.
 */

import t from 'tap';
import { Lab, require_progs, type Host } from '../../harness/netns.js';
import {
	PROTOS, WG_PORT, add_peer, check_ping, check_ping_fail, fixed_keys, ipv, setup_common, setup_wg_common,
	type Proto,
} from '../../harness/if_wg.js';

t.setTimeout(600_000);

interface Plan {
	local: string; tun_local: string; tun_peer: string; peer: string; bad: string;
	net_local: string; net_peer: string; net_bad: string;
	wg_local: string; wg_peer: string; wg_prefix: number; wg_all: number; lan_prefix: number;
}

function plan(inner: Proto): Plan {
	return inner === 'inet' ? {
		local: '192.168.1.2', tun_local: '192.168.1.1', tun_peer: '192.168.2.1', peer: '192.168.2.2',
		bad: '192.168.3.2', net_local: '192.168.1.0/24', net_peer: '192.168.2.0/24', net_bad: '192.168.3.0/24',
		wg_local: '10.0.0.1', wg_peer: '10.0.0.2', wg_prefix: 24, wg_all: 32, lan_prefix: 24,
	} : {
		local: 'fc00:1::2', tun_local: 'fc00:1::1', tun_peer: 'fc00:2::1', peer: 'fc00:2::2',
		bad: 'fc00:3::2', net_local: 'fc00:1::/64', net_peer: 'fc00:2::/64', net_bad: 'fc00:3::/64',
		wg_local: 'fd00::1', wg_peer: 'fd00::2', wg_prefix: 64, wg_all: 128, lan_prefix: 64,
	};
}

function route(h: Host, dst: string, ...via: string[]): void {
	const v6 = [dst, ...via].some((a) => a.includes(':'));
	h.ip(v6 ? '-6' : '-4', 'route', 'add', dst, ...via);
}

if (require_progs(t, ['ip', 'ping'])) {
	for (const outer of PROTOS) {
		for (const inner of PROTOS) {
			t.test(`wg_tunnel_${ipv(inner)}_over_${ipv(outer)}`, async (t) => {
				const lab = new Lab(t, 'wgt');
				const local = lab.host('local');
				const tun_local = lab.host('tun_local');
				const tun_peer = lab.host('tun_peer');
				const peer = lab.host('peer');
				lab.segment('bus_local', [local, tun_local]);	/* shmif0 on both */
				lab.segment('bus_peer', [tun_peer, peer]);	/* shmif0 on both */
				lab.segment('bus_tun', [tun_local, tun_peer]);	/* shmif1 on the routers */
				lab.forwarding(tun_local);
				lab.forwarding(tun_peer);

				const p = plan(inner);
				const o4 = outer === 'inet';
				const out_local = o4 ? '192.168.10.1' : 'fc00:10::1';
				const out_peer = o4 ? '192.168.10.2' : 'fc00:10::2';

				setup_common(local, 'shmif0', p.local, p.lan_prefix);
				route(local, 'default', 'via', p.tun_local);
				setup_common(tun_local, 'shmif0', p.tun_local, p.lan_prefix);
				setup_common(tun_local, 'shmif1', out_local, o4 ? 24 : 64);
				setup_common(tun_peer, 'shmif0', p.tun_peer, p.lan_prefix);
				setup_common(tun_peer, 'shmif1', out_peer, o4 ? 24 : 64);
				setup_common(peer, 'shmif0', p.peer, p.lan_prefix);
				setup_common(peer, 'shmif0', p.bad, p.lan_prefix);
				route(peer, 'default', 'via', p.tun_peer);

				await setup_wg_common(tun_local, 'wg0', inner, p.wg_local, p.wg_prefix, WG_PORT,
				    fixed_keys.key_priv_local);
				await setup_wg_common(tun_peer, 'wg0', inner, p.wg_peer, p.wg_prefix, WG_PORT,
				    fixed_keys.key_priv_peer);
				route(tun_local, p.net_peer, 'dev', 'wg0');
				route(tun_local, p.net_bad, 'dev', 'wg0');
				route(tun_peer, p.net_local, 'dev', 'wg0');

				await add_peer(tun_local, 'wg0', 'peer0', fixed_keys.key_pub_peer, `${out_peer}:${WG_PORT}`,
				    `${p.wg_peer}/${p.wg_all},${p.net_peer}`);
				await add_peer(tun_peer, 'wg0', 'peer0', fixed_keys.key_pub_local, `${out_local}:${WG_PORT}`,
				    `${p.wg_local}/${p.wg_all},${p.net_local}`);

				const before = await tun_local.check(['wgconfig', 'wg0', 'show', 'peer', 'peer0']);
				t.match(before.stdout, /latest-handshake: \(never\)/, 'no handshake before traffic');

				await check_ping(local, p.peer, { wait: 3 });
				const after = await tun_local.check(['wgconfig', 'wg0', 'show', 'peer', 'peer0']);
				t.notMatch(after.stdout, /latest-handshake: \(never\)/, 'the ping made a handshake');

				/* Routed into wg0 but outside every allowed IP: dropped. */
				await check_ping_fail(local, p.bad);

				/* nc -l on PEER, nc -N -w 20 from LOCAL, then diff -q. */
				const file = local.write('file', '0123456789\n'.repeat(200), 0o644);
				const srv = await peer.tcp_serve(1234, peer.path('received'));
				const sent = await local.tcp_send(p.peer, 1234, { file });
				const got = await srv.wait(30_000);
				t.equal(sent.code, 0, 'LOCAL sent the file', { stderr: sent.stderr });
				t.equal(got.code, 0, 'PEER received it', { stderr: got.stderr });
				t.equal(peer.read('received'), local.read('file'), 'the 2200 bytes arrived identical');
				t.equal(peer.read('received').length, 2200, 'and there are 2200 of them');

				await tun_local.check(['ifconfig', 'wg0', 'destroy']);
				await tun_peer.check(['ifconfig', 'wg0', 'destroy']);
			});
		}
	}
}

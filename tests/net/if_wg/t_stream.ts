// SPDX-License-Identifier: BSD-2-Clause
/*
 * Whole-stream check of the data path: 50 MB of TCP through the tunnel
 * between two of our stacks, sha256 compared at both ends, with the
 * offloads on (tun TSO and coalesced writes, UDP GSO/GRO: the default)
 * and off (net.wg.tun_offload, udp_gso, udp_gro = 0), with IPv4 and
 * IPv6 inside.  The sender exercises segmentation, the receiver
 * coalescing.  Against Debian's wireguard-go too: 50 MB each way, IPv4
 * inside one way and IPv6 the other.
 *
 * Then, in the offloaded tunnel (CI time), with crypto threads switched
 * on live (net.wg.crypto_workers 1 on one end, 2 on the other): both
 * ways, WG_STREAM_WORKERS_MB each (8 by default; `make stream-workers`
 * runs 50 with 1 and with 2 on both ends, WG_STREAM_WORKERS=a,b); then
 * 2 MB with them switched off again.
 */

import t from 'tap';
import { Lab, require_progs, type Host } from '../../harness/netns.js';
import {
	WG_PORT, add_peer, check_ping, fixed_keys, setup_wg_common, tcp_transfer, wggo_setup, wggo_start,
} from '../../harness/if_wg.js';

t.setTimeout(480_000);

const BYTES = 50 * 1024 * 1024;
const WORKERS_BYTES = Number(process.env.WG_STREAM_WORKERS_MB ?? 8) * 1024 * 1024;
/* net.wg.crypto_workers on a and b. */
const WORKERS = (process.env.WG_STREAM_WORKERS ?? '1,2').split(',').map(Number);

/* One tunnel carries both families inside: 10.50.0.0/24 and fd00:50::/64. */
const ip4 = (h: number) => `10.50.0.${h}`;
const ip6 = (h: number) => `fd00:50::${h}`;

/* Our stack on a, everything configured but the peer; then the peer b. */
async function ours_on(a: Host, peer_pub: string, peer_outer: string, b: number): Promise<void> {
	await setup_wg_common(a, 'wg0', 'inet', ip4(1), 24, WG_PORT, fixed_keys.key_priv_local);
	await a.check(['ifconfig', 'wg0', 'inet6', `${ip6(1)}/64`]);
	await add_peer(a, 'wg0', 'peer0', peer_pub, `${peer_outer}:${WG_PORT}`, `${ip4(b)}/32,${ip6(b)}/128`);
}

if (require_progs(t, ['ip', 'ping'])) {
	for (const offload of [true, false]) {
		t.test(`wg_stream_offload_${offload ? 'on' : 'off'}`, async (t) => {
			const lab = new Lab(t, 'wgs');
			const a = lab.host('a');
			const b = lab.host('b');
			lab.segment('bus', [a, b]);
			lab.addr(a, 'shmif0', '192.168.50.1/24');
			lab.addr(b, 'shmif0', '192.168.50.2/24');
			const v = offload ? 1 : 0;
			for (const h of [a, b]) {
				await h.check(['wg-userspace', '0', 'create']);
				await h.check(['wg-userspace', '0', 'sysctl', '-w', `net.wg.tun_offload=${v}`, `net.wg.udp_gso=${v}`,
				    `net.wg.udp_gro=${v}`]);
			}
			await ours_on(a, fixed_keys.key_pub_peer, '192.168.50.2', 2);
			await setup_wg_common(b, 'wg0', 'inet', ip4(2), 24, WG_PORT, fixed_keys.key_priv_peer);
			await b.check(['ifconfig', 'wg0', 'inet6', `${ip6(2)}/64`]);
			await add_peer(b, 'wg0', 'peer0', fixed_keys.key_pub_local, `192.168.50.1:${WG_PORT}`,
			    `${ip4(1)}/32,${ip6(1)}/128`);
			await check_ping(a, ip4(2), { wait: 3 });
			await check_ping(a, ip6(2), { wait: 3 });
			for (const dst of [ip4(2), ip6(2)]) {
				const link = () => (JSON.parse(a.ip('-s', '-j', 'link', 'show', 'wg0')) as
				    Array<{ stats64: { tx: { bytes: number; packets: number } } }>)[0].stats64.tx;
				const before = link();
				await tcp_transfer(a, b, dst, 5001, BYTES);
				/* What the host handed wg0: super-packets when the offloads are on. */
				const after = link();
				const avg = (after.bytes - before.bytes) / (after.packets - before.packets);
				if (offload)
					t.ok(avg > 2000, `${dst}: the host handed wg0 super-packets (${avg.toFixed(0)} bytes on average)`);
				else
					t.ok(avg <= 1420, `${dst}: MTU-sized packets without offloads (${avg.toFixed(0)} bytes on average)`);
			}
			if (!offload)
				return;
			/* Sealed on one count of threads, opened on the other's; out of order, TCP would crawl or the sums differ. */
			for (const [i, h] of [a, b].entries())
				await h.check(['wg-userspace', '0', 'sysctl', '-w', `net.wg.crypto_workers=${WORKERS[i]}`]);
			await tcp_transfer(a, b, ip4(2), 5003, WORKERS_BYTES);
			await tcp_transfer(b, a, ip6(1), 5004, WORKERS_BYTES);
			/* And off again (the buffers made plain anew). */
			for (const h of [a, b])
				await h.check(['wg-userspace', '0', 'sysctl', '-w', 'net.wg.crypto_workers=0']);
			await tcp_transfer(a, b, ip4(2), 5005, 2 * 1024 * 1024);
		});
	}

	if (require_progs(t, ['wireguard-go', 'wg'])) {
		t.test('wg_stream_wireguard_go', async (t) => {
			const lab = new Lab(t, 'wgs');
			const a = lab.host('ours');
			const b = lab.host('wggo');
			lab.segment('bus', [a, b]);
			lab.addr(a, 'shmif0', '192.168.50.1/24');
			lab.addr(b, 'shmif0', '192.168.50.3/24');
			const ifname = `wgs${process.pid % 100000}`;
			await wggo_start(b, ifname);
			await wggo_setup(b, ifname, { priv: fixed_keys.key_priv_peer, peer_pub: fixed_keys.key_pub_local,
			    endpoint: `192.168.50.1:${WG_PORT}`, allowed: `${ip4(1)}/32,${ip6(1)}/128`, addr: `${ip4(3)}/24`,
			    port: WG_PORT });
			await b.check(['ip', 'addr', 'add', `${ip6(3)}/64`, 'dev', ifname, 'nodad']);
			await ours_on(a, fixed_keys.key_pub_peer, '192.168.50.3', 3);
			await check_ping(a, ip4(3), { wait: 3 });
			await check_ping(a, ip6(3), { wait: 3 });
			/* Our segmentation into wireguard-go, then its packets into our coalescing. */
			await tcp_transfer(a, b, ip4(3), 5001, BYTES);
			await tcp_transfer(b, a, ip6(1), 5002, BYTES);
		});
	}
}

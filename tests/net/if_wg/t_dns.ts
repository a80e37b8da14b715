// SPDX-License-Identifier: BSD-2-Clause
/*
 * Endpoints by host name (wg(4), if_wg_dns.ts) in namespaces: LOCAL's
 * peer is added with --endpoint=peer.test:51820, which its hosts file
 * (/etc/netns/NS/hosts, mounted by `ip netns exec`) first resolves to an
 * IPv4 address where nobody listens.  The file then gains PEER's IPv6
 * address: with no handshake ever, the driver resolves the name again,
 * moves to the next answer, and the tunnel comes up.  show prints the
 * name next to the address; the instance log carries the events.
 */

import t from 'tap';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { require_progs } from '../../harness/netns.js';
import {
	WG_PORT, add_peer, check_ping, endpoint, fixed_keys, setup_common, setup_servers,
} from '../../harness/if_wg.js';

t.setTimeout(600_000);

if (require_progs(t, ['ip', 'ping'])) {
	t.test('endpoint by host name, resolved again to its IPv6 answer', async (t) => {
		const { local, peer } = setup_servers(t, 'dns');
		const etc = `/etc/netns/${local.ns}`;
		t.teardown(() => rmSync(etc, { recursive: true, force: true }));
		mkdirSync(etc, { recursive: true });
		/* Written in place from here on: the bind mount holds the inode. */
		writeFileSync(`${etc}/hosts`, '127.0.0.1 localhost\n192.168.1.99 peer.test\n');
		const log = local.path('wg-userspace.log');
		const env = { WG_USERSPACE_LOG: log };

		setup_common(local, 'shmif0', 'fc00::1', 64);
		setup_common(peer, 'shmif0', 'fc00::2', 64);
		for (const [h, ip, priv] of [[local, '10.0.0.1', fixed_keys.key_priv_local],
		    [peer, '10.0.0.2', fixed_keys.key_priv_peer]] as const) {
			await h.check(['ifconfig', 'wg0', 'create'], { env });
			await h.check(['ifconfig', 'wg0', 'inet', `${ip}/24`]);
			h.write('key', `${priv}\n`);
			await h.check(['wgconfig', 'wg0', 'set', 'private-key', './key']);
			await h.check(['wgconfig', 'wg0', 'set', 'listen-port', String(WG_PORT)]);
			await h.check(['ifconfig', 'wg0', 'up']);
		}
		await add_peer(peer, 'wg0', 'peer0', fixed_keys.key_pub_local, endpoint('fc00::1', WG_PORT), '10.0.0.1/32');
		await add_peer(local, 'wg0', 'peer0', fixed_keys.key_pub_peer, `peer.test:${WG_PORT}`, '10.0.0.2/32');

		const show = async (): Promise<string> =>
			(await local.check(['wgconfig', 'wg0', 'show', 'peer', 'peer0'])).stdout;
		t.match(await show(), `endpoint: 192.168.1.99:${WG_PORT} (peer.test)\n`, 'resolved once, name kept');

		writeFileSync(`${etc}/hosts`, '127.0.0.1 localhost\n192.168.1.99 peer.test\nfc00::2 peer.test\n');
		let out = '';
		for (let i = 0; i < 40 && !out.includes('[fc00::2]'); i++) {
			await local.exec(['ping', '-c', '1', '-W', '1', '10.0.0.2']);
			out = await show();
		}
		t.match(out, `endpoint: [fc00::2]:${WG_PORT} (peer.test)\n`, 'resolved again: the IPv6 answer');
		await check_ping(local, '10.0.0.2', { wait: 5 });
		const text = readFileSync(log, 'utf8');
		t.match(text, `<info> wg0: peer peer0: peer.test resolved again, endpoint [fc00::2]:${WG_PORT}\n`);
		t.match(text, `<info> wg0: event=handshake-complete peer=peer0 pubkey=${fixed_keys.key_pub_peer} ` +
		    `endpoint=[fc00::2]:${WG_PORT}\n`, 'the event, with the whole public key');
	});
}

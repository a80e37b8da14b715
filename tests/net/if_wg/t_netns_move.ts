// SPDX-License-Identifier: BSD-2-Clause
/*
 * Namespace moves (issue 9 §4): after `ip link set wg0 netns X` the
 * instance (which stays in the namespace it was started in, with its
 * sockets) keeps following what is done to the link over there: up,
 * down, MTU, even a rename; and an unrelated interface that takes the
 * name wg0 where the instance is does not fool it.  And the host's
 * changes are heard as they happen (rtnetlink), not at the next look
 * of the once-a-second watch: `ip link set up` and a ping at once, as
 * netns.sh does, must find the tunnel up.
 */

import t from 'tap';
import { Lab, wait_until, type Host, type TapTest } from '../../harness/netns.js';
import { keypair, ping_received } from '../../harness/if_wg.js';

t.setTimeout(600_000);

/* The instance's view of wg0 (ifconfig asks it through the shim), from its own namespace. */
async function instance_view(h: Host, ifname: string): Promise<{ up: boolean; mtu: number } | null> {
	const m = /^\S+: flags=0x[0-9a-f]+<([^>]*)> mtu (\d+)$/m.exec((await h.exec(['ifconfig', ifname])).stdout);
	return m === null ? null : { up: m[1].split(',').includes('UP'), mtu: Number(m[2]) };
}

async function follows(t: TapTest, h: Host, ifname: string, want: { up: boolean; mtu: number }, msg: string): Promise<void> {
	let got: { up: boolean; mtu: number } | null = null;
	/* The link watch looks once a second. */
	const ok = await wait_until(async () => {
		got = await instance_view(h, ifname);
		return got !== null && got.up === want.up && got.mtu === want.mtu;
	}, 10_000, 250);
	t.ok(ok, msg, { want, got });
}

t.test('a moved wg0: the instance follows up, down, MTU and a rename in the other namespace', async (t) => {
	const lab = new Lab(t, 'wmv');
	const home = lab.host('home');
	const away = lab.host('away');
	await home.check(['ifconfig', 'wg0', 'create']);
	await home.check(['ifconfig', 'wg0', 'up']);
	await follows(t, home, 'wg0', { up: true, mtu: 1420 }, 'up at home, mtu 1420');
	home.ip('link', 'set', 'wg0', 'netns', away.ns);
	t.notMatch(home.ip('link', 'show'), /\bwg0\b/, 'wg0 is gone from home');
	/* A move takes the link down (the kernel closes it): so does the instance. */
	await follows(t, home, 'wg0', { up: false, mtu: 1420 }, 'down after the move, as the link');
	away.ip('link', 'set', 'wg0', 'mtu', '1300');
	away.ip('link', 'set', 'wg0', 'up');
	await follows(t, home, 'wg0', { up: true, mtu: 1300 }, 'up and mtu 1300, as set away');
	/* Something else named wg0 at home, down, with another MTU: not ours. */
	home.ip('link', 'add', 'wg0', 'type', 'veth', 'peer', 'name', 'wg0p');
	home.ip('link', 'set', 'wg0', 'mtu', '1280');
	await follows(t, home, 'wg0', { up: true, mtu: 1300 }, 'a namesake at home changes nothing');
	home.ip('link', 'del', 'wg0');
	away.ip('link', 'set', 'wg0', 'down');
	await follows(t, home, 'wg0', { up: false, mtu: 1300 }, 'down, as set away');
	away.ip('link', 'set', 'wg0', 'name', 'wgaway');
	away.ip('link', 'set', 'wgaway', 'mtu', '1380', 'up');
	await follows(t, home, 'wg0', { up: true, mtu: 1380 }, 'renamed away: still followed');
	await home.check(['ifconfig', 'wg0', 'destroy']);
	t.notMatch(away.ip('link', 'show'), /\bwgaway\b/, 'destroying it at home removes the link away');
});

t.test('moved wg1 and wg2 brought up by the host and pinged at once: the first ping is answered', async (t) => {
	const lab = new Lab(t, 'wmu');
	const ns0 = lab.host('ns0');
	const ns1 = lab.host('ns1');
	const ns2 = lab.host('ns2');
	const [k1, k2] = [keypair(), keypair()];
	ns0.write('key1', `${k1.priv}\n`);
	ns0.write('key2', `${k2.priv}\n`);
	/* netns.sh's topology: made in ns0, where their sockets stay, and moved. */
	await ns0.check(['wg-userspace', 'wg1']);
	ns0.ip('link', 'set', 'wg1', 'netns', ns1.ns);
	await ns0.check(['wg-userspace', 'wg2']);
	ns0.ip('link', 'set', 'wg2', 'netns', ns2.ns);
	lab.addr(ns1, 'wg1', '192.168.241.1/24');
	lab.addr(ns2, 'wg2', '192.168.241.2/24');
	await ns0.check(['wg', 'set', 'wg1', 'private-key', './key1', 'listen-port', '1', 'peer', k2.pub,
	    'allowed-ips', '192.168.241.2/32', 'endpoint', '127.0.0.1:2']);
	await ns0.check(['wg', 'set', 'wg2', 'private-key', './key2', 'listen-port', '2', 'peer', k1.pub,
	    'allowed-ips', '192.168.241.1/32', 'endpoint', '127.0.0.1:1']);
	/* The moves took the links down, and the instances with them. */
	await follows(t, ns0, 'wg1', { up: false, mtu: 1420 }, 'wg1 down after its move');
	await follows(t, ns0, 'wg2', { up: false, mtu: 1420 }, 'wg2 down after its move');
	ns1.ip('link', 'set', 'up', 'dev', 'wg1');
	ns2.ip('link', 'set', 'up', 'dev', 'wg2');
	/*
	 * The flood sends its 10 in about 0.1 s and waits 5 s: a handshake
	 * lost to an instance still down is retried only after 5 s.
	 */
	const r = await ns2.exec(['ping', '-n', '-c', '10', '-W', '5', '-f', '192.168.241.1'], { timeout: 60_000 });
	t.equal(r.code, 0, 'ns2 pings ns1 right after `ip link set up`', { stdout: r.stdout });
	t.comment(`${ping_received(r)}/10 replies`);
});

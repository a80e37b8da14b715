// SPDX-License-Identifier: BSD-2-Clause
/*
 * IPv6 link-local endpoints (issue 9 §4): two namespaces joined by one
 * veth pair that have nothing but their fe80:: addresses, so every
 * datagram of the tunnel needs the scope (the veth's index) to leave.
 * The scope goes through wgconfig's parser, the ioctl dictionary, the
 * UAPI (as wg(8) writes it: [fe80::1%ifname]:port), the sockets, the
 * roaming code (a peer learnt from a link-local source keeps the scope
 * it arrived with) and back out through `show` and `get`.
 */

import t from 'tap';
import { Lab, require_progs, type Host, type TapTest } from '../../harness/netns.js';
import {
	WG_PORT, check_ping, keypair, setup_wg_common,
} from '../../harness/if_wg.js';

t.setTimeout(600_000);

/* veth names of the pair (one per namespace) and their link-local addresses. */
const LL = { a: 'fe80::a', b: 'fe80::b', ifa: 'llva', ifb: 'llvb' };

function setup(t: TapTest, prefix: string): { lab: Lab; a: Host; b: Host } {
	const lab = new Lab(t, prefix);
	const a = lab.host('a');
	const b = lab.host('b');
	lab.veth(a, b, LL.ifa, LL.ifb);
	/* Only link-local addresses on the underlay: no route could pick a scope for us. */
	a.ip('-6', 'addr', 'flush', 'dev', LL.ifa);
	b.ip('-6', 'addr', 'flush', 'dev', LL.ifb);
	lab.addr(a, LL.ifa, `${LL.a}/64`);
	lab.addr(b, LL.ifb, `${LL.b}/64`);
	return { lab, a, b };
}

t.test('wgconfig: --endpoint=[fe80::b%llva]:port, and a peer learnt from a link-local source', async (t) => {
	if (!require_progs(t, ['ping']))
		return;
	const { a, b } = setup(t, 'wll');
	const [ka, kb] = [keypair(), keypair()];
	await setup_wg_common(a, 'wg0', 'inet', '10.9.0.1', 24, WG_PORT, ka.priv);
	await setup_wg_common(b, 'wg0', 'inet', '10.9.0.2', 24, WG_PORT, kb.priv);
	const ep = `[${LL.b}%${LL.ifa}]:${WG_PORT}`;
	await a.check(['wgconfig', 'wg0', 'add', 'peer', 'pb', kb.pub, `--endpoint=${ep}`, '--allowed-ips=10.9.0.2/32']);
	/* b has no endpoint for a: it must learn [fe80::a%llvb] from a's handshake. */
	await b.check(['wgconfig', 'wg0', 'add', 'peer', 'pa', ka.pub, '--allowed-ips=10.9.0.1/32']);
	const shown = (await a.check(['wgconfig', 'wg0', 'show', 'peer', 'pb'])).stdout;
	t.match(shown, new RegExp(`endpoint: ${ep.replace(/[[\]]/g, '\\$&')}$`, 'm'), `show prints ${ep}`);
	await check_ping(a, '10.9.0.2', { wait: 5 });
	const learnt = (await b.check(['wgconfig', 'wg0', 'show', 'peer', 'pa'])).stdout;
	t.match(learnt, new RegExp(`endpoint: \\[${LL.a}%${LL.ifb}\\]:${WG_PORT}$`, 'm'),
	    'b learnt a\'s link-local endpoint with its scope', { stdout: learnt });
	await check_ping(b, '10.9.0.1', { msg: 'b reaches a through the learnt endpoint' });
	/* A numeric zone is the same endpoint; an unknown one is refused, changing nothing. */
	const idx = (await a.check(['cat', `/sys/class/net/${LL.ifa}/ifindex`])).stdout.trim();
	await a.check(['wgconfig', 'wg0', 'delete', 'peer', 'pb']);
	const bad = await a.check_fail(['wgconfig', 'wg0', 'add', 'peer', 'pb', kb.pub, `--endpoint=[${LL.b}%nosuchif0]:1`]);
	t.match(bad.stderr, /getaddrinfo/, 'an unknown zone is an error', { stderr: bad.stderr });
	t.notMatch((await a.check(['wgconfig', 'wg0'])).stdout, /peer: pb/, 'and adds no peer');
	await a.check(['wgconfig', 'wg0', 'add', 'peer', 'pb', kb.pub, `--endpoint=[${LL.b}%${idx}]:${WG_PORT}`,
	    '--allowed-ips=10.9.0.2/32']);
	t.match((await a.check(['wgconfig', 'wg0', 'show', 'peer', 'pb'])).stdout, `endpoint: ${ep}`,
	    '%index reads back as the interface name');
	await check_ping(a, '10.9.0.2', { wait: 5, msg: 'and works' });
});

t.test('wg(8) over the UAPI: endpoint [fe80::b%llva]:port set, and get prints it the same way', async (t) => {
	if (!require_progs(t, ['ping', 'wg']))
		return;
	const { lab, a, b } = setup(t, 'wlu');
	const [ka, kb] = [keypair(), keypair()];
	for (const [h, ifname, n, me] of [[a, 'wga', 1, ka], [b, 'wgb', 2, kb]] as const) {
		await h.check(['wg-userspace', ifname]);
		lab.addr(h, ifname, `10.9.1.${n}/24`);
		h.ip('link', 'set', ifname, 'up');
		h.write('key', `${me.priv}\n`);
		await h.check(['wg', 'set', ifname, 'private-key', './key', 'listen-port', String(WG_PORT + n)]);
	}
	const ep = `[${LL.b}%${LL.ifa}]:${WG_PORT + 2}`;
	await a.check(['wg', 'set', 'wga', 'peer', kb.pub, 'endpoint', ep, 'allowed-ips', '10.9.1.2/32']);
	await b.check(['wg', 'set', 'wgb', 'peer', ka.pub, 'allowed-ips', '10.9.1.1/32']);
	t.equal((await a.check(['wg', 'show', 'wga', 'endpoints'])).stdout, `${kb.pub}\t${ep}\n`, `wg show prints ${ep}`);
	await check_ping(a, '10.9.1.2', { wait: 5 });
	t.equal((await b.check(['wg', 'show', 'wgb', 'endpoints'])).stdout,
	    `${ka.pub}\t[${LL.a}%${LL.ifb}]:${WG_PORT + 1}\n`, 'b learnt a\'s endpoint with its scope');
	await check_ping(b, '10.9.1.1', { msg: 'b reaches a through the learnt endpoint' });
});

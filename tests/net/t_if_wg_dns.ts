// SPDX-License-Identifier: BSD-2-Clause
/*
 * if_wg_dns.ts without a network: the reresolve-dns rule (135 s since
 * the latest handshake, or none yet), the walk through IPv4 and IPv6
 * answers, and what a round does with peers gone, replaced or fresh.
 */

import t from 'tap';
import {
	WG_RERESOLVE_AFTER_S, type wg_dns_peer, wg_dns, wg_endpoint_pick, wg_host_valid, wg_reresolve_due,
} from '../../sys/net/if_wg_dns.js';
import type { WgEndpoint } from '../../sys/net/wg/device.js';
import { log_init } from '../../sys/kern/subr_log.js';
import { uapi_endpoint_text, uapi_parse_endpoint } from '../../sys/net/wg/uapi.js';

const ep = (s: string): WgEndpoint => uapi_parse_endpoint(s) as WgEndpoint;

t.test('the 135 s rule', (t) => {
	const now = 1_700_000_000_000;
	t.ok(wg_reresolve_due(0, now), 'never a handshake');
	t.notOk(wg_reresolve_due(now / 1000 - WG_RERESOLVE_AFTER_S, now), 'exactly 135 s: not yet');
	t.ok(wg_reresolve_due(now / 1000 - WG_RERESOLVE_AFTER_S - 1, now), '136 s');
	t.notOk(wg_reresolve_due(now / 1000 - 10, now), 'fresh');
	t.end();
});

t.test('answers, IPv4 and IPv6, in turn', (t) => {
	const a = [ep('192.0.2.1:1'), ep('[2001:db8::1]:1'), ep('192.0.2.2:1')];
	const walk: string[] = [];
	let cur: WgEndpoint | null = null;
	for (let i = 0; i < 4; i++) {
		cur = wg_endpoint_pick(a, cur);
		walk.push(uapi_endpoint_text(cur as WgEndpoint));
	}
	t.same(walk, ['192.0.2.1:1', '[2001:db8::1]:1', '192.0.2.2:1', '192.0.2.1:1']);
	t.equal(uapi_endpoint_text(wg_endpoint_pick(a, ep('198.51.100.1:1')) as WgEndpoint), '192.0.2.1:1',
	    'a name that moved: its first answer');
	t.equal(wg_endpoint_pick([], cur), null);
	t.end();
});

t.test('host names', (t) => {
	for (const h of ['vpn.example.org', 'peer.test', 'a', 'x-1.example.', 'a_b.c'])
		t.ok(wg_host_valid(h), h);
	for (const h of ['', '.', 'a..b', 'a b', 'a/b', 'a:b', '-'.repeat(254), 'é.example'])
		t.notOk(wg_host_valid(h), JSON.stringify(h));
	t.end();
});

t.test('a round: due peers only, gone peers forgotten', async (t) => {
	log_init({ write: () => {} });
	t.teardown(() => log_init());
	const now = 1_700_000_000_000;
	const peers = new Map<string, wg_dns_peer>();
	const key = (n: number): Uint8Array => new Uint8Array(32).fill(n);
	peers.set('fresh', { public_key: key(1), endpoint: ep('192.0.2.1:7'), last_handshake_sec: now / 1000 - 100 });
	peers.set('stale', { public_key: key(2), endpoint: ep('192.0.2.1:7'), last_handshake_sec: now / 1000 - 200 });
	peers.set('replaced', { public_key: key(9), endpoint: null, last_handshake_sec: 0 });
	const set: string[] = [];
	const looked: string[] = [];
	const d = new wg_dns('wg9', {
		peer_state: async (name) => peers.get(name) ?? null,
		set_endpoint: async (name, e) => {
			set.push(`${name} ${uapi_endpoint_text(e)}`);
			return 0;
		},
		resolve: async (host) => {
			looked.push(host);
			return [{ address: '192.0.2.1', family: 4 }, { address: '2001:db8::7', family: 6 }];
		},
		wall: () => now,
	});
	d.set('fresh', 'f.test', key(1));
	d.set('stale', 's.test', key(2));
	d.set('replaced', 'r.test', key(3));
	d.set('gone', 'g.test', key(4));
	await d.check();
	d.stop();
	t.same(looked, ['s.test'], 'only the peer whose handshake is older than 135 s');
	t.same(set, ['stale [2001:db8::7]:7'], 'moved to the next answer, same port');
	t.equal(d.host_of('stale'), 's.test');
	t.equal(d.host_of('replaced'), undefined, 'another key under that name: forgotten');
	t.equal(d.host_of('gone'), undefined, 'removed behind our back: forgotten');
	t.end();
});

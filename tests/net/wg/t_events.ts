// SPDX-License-Identifier: BSD-2-Clause
/*
 * The events people can watch (wg(4) EVENTS) on a fake clock: handshake
 * complete, endpoint changed, peer silent for REJECT_AFTER_TIME (once per
 * silence, not while packets keep coming), handshake given up; and their
 * log lines (if_wg_event.ts) as a script parses them, through log(9)'s
 * key filter, which must keep the public key whole and nothing else.
 */

import t from 'tap';
import { crypto_attach } from '../../../sys/crypto/crypto_select.js';
import { log, log_init, LOG_INFO } from '../../../sys/kern/subr_log.js';
import { type WgPeerEvent, wg_event_text } from '../../../sys/net/if_wg_event.js';
import { ep4, ip4, make_pair } from '../../harness/wg_harness.js';

const c = crypto_attach('sodium');

/* What a script does with a line: the key=value pairs after "IFNAME: ". */
function parse(line: string): Record<string, string> {
	const m = /^\S+ \S+ <info> (\w+): (.*)$/.exec(line.trimEnd());
	if (m === null)
		throw new Error(`not an event line: ${line}`);
	const out: Record<string, string> = { ifname: m[1] };
	const re = /(\w+)=("(?:[^"\\]|\\.)*"|\S+)/gy;
	let rest = m[2];
	while (rest !== '') {
		re.lastIndex = 0;
		const kv = re.exec(rest);
		if (kv === null)
			throw new Error(`bad pair at: ${rest}`);
		out[kv[1]] = kv[2].startsWith('"') ? JSON.parse(kv[2]) as string : kv[2];
		rest = rest.slice(re.lastIndex).replace(/^ /, '');
	}
	return out;
}

function logged(ev: WgPeerEvent): Record<string, string> {
	const lines: string[] = [];
	log_init({ tag: 'wg-userspace.0', write: (l) => lines.push(l) });
	log(LOG_INFO, '%s', wg_event_text('wg0', ev));
	log_init();
	return parse(lines[0]);
}

t.test('handshake complete and endpoint changed, as log lines', (t) => {
	const p = make_pair(c, { b_knows_a_endpoint: false });
	p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	p.net.pump();
	const hs = p.a.events_of('handshake_complete');
	t.equal(hs.length, 1, 'initiator: one handshake-complete');
	t.equal(p.b.events_of('handshake_complete').length, 1, 'responder: one, on key confirmation');
	const f = logged(hs[0] as WgPeerEvent);
	t.same(f, {
		ifname: 'wg0', event: 'handshake-complete', peer: 'peer0',
		pubkey: Buffer.from(p.b.pub).toString('base64'), endpoint: '192.168.1.2:51820',
	}, 'every field, the public key whole');

	const ep = p.b.events_of('endpoint_changed');
	t.equal(ep.length, 1, 'b learnt a\'s endpoint from the initiation');
	t.equal(logged(ep[0] as WgPeerEvent).endpoint, '192.168.1.1:51820');

	/* a roams: b tells the new endpoint once, not for every packet from it. */
	p.a.ep = ep4('172.16.0.9', 9999);
	p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	p.net.pump();
	const ep2 = p.b.events_of('endpoint_changed');
	t.equal(ep2.length, 2, 'one more endpoint-changed');
	t.equal(logged(ep2[1] as WgPeerEvent).endpoint, '172.16.0.9:9999');
	t.end();
});

t.test('peer silent for REJECT_AFTER_TIME: once per silence', (t) => {
	const p = make_pair(c);
	p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	p.net.pump();
	/* b keeps talking for 300 s, a packet every 10 s: never silent. */
	for (let s = 0; s < 30; s++) {
		p.net.advance(10_000);
		p.b.dev.output(ip4('10.0.0.2', '10.0.0.1'), 0, 28);
		p.net.pump();
	}
	t.equal(p.a.events_of('peer_silent').length, 0, 'no event while the peer talks');
	p.net.filter = () => false;	/* then the peer goes away */
	p.net.advance(179_000);
	t.equal(p.a.events_of('peer_silent').length, 0, 'not before 180 s');
	p.net.advance(2_000);
	const ev = p.a.events_of('peer_silent');
	t.equal(ev.length, 1, 'after 180 s of silence');
	const f = logged(ev[0] as WgPeerEvent);
	t.equal(f.event, 'peer-silent');
	t.ok(Number(f.silent) >= 180 && Number(f.silent) <= 181, `silent=${f.silent}`);
	p.net.advance(600_000);
	t.equal(p.a.events_of('peer_silent').length, 1, 'told once, not again while silent');
	p.net.filter = () => true;
	p.b.dev.output(ip4('10.0.0.2', '10.0.0.1'), 0, 28);
	p.net.pump();
	p.net.advance(181_000);
	t.equal(p.a.events_of('peer_silent').length, 2, 'back, then silent again: told again');
	t.end();
});

t.test('a silent peer that never talked is not told', (t) => {
	const p = make_pair(c);
	p.net.advance(600_000);
	t.equal(p.a.events_of('peer_silent').length, 0);
	t.end();
});

t.test('handshake given up, with the attempts', (t) => {
	const tu = { rekey_timeout: 4, rekey_attempt_time: 10 };
	const p = make_pair(c, { tunables_a: tu, tunables_b: tu });
	p.net.filter = () => false;
	p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	p.net.advance(18_000);
	const ev = p.a.events_of('handshake_giveup');
	t.equal(ev.length, 1);
	const f = logged(ev[0] as WgPeerEvent);
	t.equal(f.event, 'handshake-giveup');
	t.equal(f.attempts, '4', 'four initiations sent');
	t.end();
});

t.test('names that need quoting, peers without a name or endpoint', (t) => {
	const p = make_pair(c);
	p.a_peer.name = 'office "main"=1';
	const f = logged({ type: 'handshake_complete', peer: p.a_peer });
	t.equal(f.peer, 'office "main"=1', 'quoted and unquoted back');
	t.equal(f.event, 'handshake-complete', 'the name cannot fake a field');
	p.a_peer.name = '';
	p.a_peer.endpoint = null;
	const g = logged({ type: 'handshake_complete', peer: p.a_peer });
	t.equal(g.peer, '-');
	t.equal(g.endpoint, '-');
	t.end();
});

t.test('log(9) keeps a public key after " pubkey=" only', (t) => {
	const lines: string[] = [];
	log_init({ write: (l) => lines.push(l) });
	const k = Buffer.alloc(32, 7).toString('base64');
	log(LOG_INFO, `x pubkey=${k}`);
	log(LOG_INFO, `x key=${k}`);
	log(LOG_INFO, `x pubkey=${k.slice(0, -1)}${k}`);
	log(LOG_INFO, `x apubkey=${k}`);
	log_init();
	t.match(lines[0], `pubkey=${k}\n`, 'kept whole');
	t.notMatch(lines[1], k, 'elsewhere cut');
	t.notMatch(lines[2], k.slice(0, 10), 'two keys run together: cut');
	t.notMatch(lines[3], k, 'only the exact field name');
	t.end();
});

// SPDX-License-Identifier: BSD-2-Clause
/*
 * Crossing initiations on the fake clock: both sides start with no
 * session and continuous traffic each way, over a link with a one-way
 * delay.  Both initiate into each other; the handshake must converge
 * to a working session within 2 x REKEY_TIMEOUT for any delay 0..200 ms
 * (receive.ts wg_defer_to_peer_session; 4 one-way delays), then carry
 * every packet, and later rekeys must not cross again.
 */

import t from 'tap';
import { crypto_attach } from '../../../sys/crypto/crypto_select.js';
import { MSG_INITIATION, REKEY_TIMEOUT } from '../../../sys/net/wg/messages.js';
import { type Datagram, type Node, type Pair, ip4, make_pair } from '../../harness/wg_harness.js';

const c = crypto_attach('sodium');

interface Run {
	converged_ms: number | null;	/* first time both directions delivered */
	lost_after: number;		/* packets sent after convergence + 1 RTT that never arrived */
	sent_after: number;
	inits_a: number;
	inits_b: number;
}

/*
 * Step the clock 1 ms at a time for `ms`: deliver what is due, tick both
 * devices, and send one packet each way every `interval_a` / `interval_b` ms.
 */
function run(p: Pair, delay: number, interval_a: number, interval_b: number, ms: number): Run {
	const wire: Datagram[] = [];
	p.net.filter = (d) => {
		wire.push(d);
		return false;
	};
	const t0 = p.net.clock.t;
	const seq = { a: 0, b: 0 };
	const got = { a: new Set<number>(), b: new Set<number>() };
	const sent_at = { a: new Map<number, number>(), b: new Map<number, number>() };
	let converged: number | null = null;
	const send = (from: Node, src: string, dst: string, key: 'a' | 'b') => {
		const n = seq[key]++;
		const pkt = ip4(src, dst, 8);
		pkt[20] = n >> 8;
		pkt[21] = n & 0xff;
		sent_at[key].set(n, p.net.clock.t);
		from.dev.output(pkt, 0, pkt.length);
	};
	const collect = (to: Node, key: 'a' | 'b') => {
		for (const pkt of to.tun.splice(0))
			got[key].add((pkt[20] << 8) | pkt[21]);
	};
	for (let k = 0; k < ms; k++) {
		const now = p.net.clock.t;
		if (k % interval_a === 0)
			send(p.a, '10.0.0.1', '10.0.0.2', 'a');
		if (k % interval_b === 0)
			send(p.b, '10.0.0.2', '10.0.0.1', 'b');
		p.a.dev.tick();
		p.b.dev.tick();
		p.net.pump();
		/* Deliver what has been on the wire for `delay` ms. */
		while (wire.length > 0 && wire[0].t + delay <= now) {
			const d = wire.shift() as Datagram;
			const to = p.net.find(d.dst);
			to?.dev.input(d.data, 0, d.data.length, d.src);
			to?.dev.handshake_work(Infinity);
			p.net.pump();
		}
		collect(p.b, 'a');
		collect(p.a, 'b');
		if (converged === null && got.a.size > 0 && got.b.size > 0)
			converged = now - t0;
		p.net.clock.t++;
	}
	let lost = 0;
	let sent_after = 0;
	if (converged !== null) {
		/* Everything sent from 1 RTT after convergence until 1 RTT before the end arrived. */
		const from = t0 + converged + 2 * delay + 1;
		const until = t0 + ms - 2 * delay - 1;
		for (const key of ['a', 'b'] as const)
			for (const [n, at] of sent_at[key])
				if (at >= from && at < until) {
					sent_after++;
					if (!got[key].has(n))
						lost++;
				}
	}
	return {
		converged_ms: converged, lost_after: lost, sent_after,
		inits_a: p.a.sent_type(MSG_INITIATION).length, inits_b: p.b.sent_type(MSG_INITIATION).length,
	};
}

const LIMIT = 2 * REKEY_TIMEOUT * 1000;

t.test('crossing initiations converge for delays 0..200 ms and any send rate', (t) => {
	for (const delay of [0, 1, 3, 10, 20, 50, 100, 150, 200]) {
		for (const [ia, ib] of [[3, 3], [3, 10], [10, 7], [5, 5]]) {
			/* New keys each time: which side has the lower key varies. */
			const p = make_pair(c);
			const r = run(p, delay, ia, ib, 3000 + 4 * delay);
			t.ok(r.converged_ms !== null && r.converged_ms <= LIMIT && r.lost_after === 0,
			    `delay ${delay} ms, every ${ia}/${ib} ms: converged after ${r.converged_ms} ms, ` +
			    `${r.lost_after} of ${r.sent_after} lost after, initiations ${r.inits_a}/${r.inits_b}`);
		}
	}
	t.end();
});

t.test('crossing: one session results, and later rekeys come from one side', (t) => {
	for (const delay of [20, 200]) {
		const tu = { rekey_after_time: 4 };
		const p = make_pair(c, { tunables_a: tu, tunables_b: tu });
		const r = run(p, delay, 5, 5, 20000);
		t.ok(r.converged_ms !== null && r.converged_ms <= 4 * delay + 50,
		    `delay ${delay}: converged after ${r.converged_ms} ms`);
		t.equal(r.lost_after, 0, `nothing lost over 20 s and several rekeys (${r.sent_after} packets)`);
		const a_init = p.a.sent_type(MSG_INITIATION).length;
		const b_init = p.b.sent_type(MSG_INITIATION).length;
		t.ok(Math.min(a_init, b_init) <= 1 && Math.max(a_init, b_init) >= 4,
		    `rekeys by one side only (initiations ${a_init}/${b_init})`);
		t.equal(p.a.stats.rx_bad_index + p.b.stats.rx_bad_index, 0, 'no packet for a dropped session');
	}
	t.end();
});

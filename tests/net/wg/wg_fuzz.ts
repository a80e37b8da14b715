// SPDX-License-Identifier: BSD-2-Clause
/*
 * Datagram fuzzing of the protocol core: mutations of real captured
 * messages (initiation, response, cookie reply, data, keepalive) and of
 * random ones, fed to a device with an established session.  Every
 * datagram must end in exactly one counter (a drop reason or a
 * delivery), nothing may throw, and the tunnel must still work after.
 *
 * t_fuzz.ts runs a short pass in the test suite; `make fuzz` runs
 * node obj/tests/net/wg/wg_fuzz.js 1000000.
 */

import { fileURLToPath } from 'node:url';
import type { WgCrypto } from '../../../sys/crypto/crypto.js';
import { crypto_attach } from '../../../sys/crypto/crypto_select.js';
import type { WgEndpoint } from '../../../sys/net/wg/peer.js';
import { prng } from '../../harness/prng.js';
import { type Pair, ip4, make_pair } from '../../harness/wg_harness.js';

/* The counters one datagram ends in: exactly one of these per datagram. */
export const FATE_KEYS = [
	'rx_down', 'rx_short', 'rx_bad_type', 'rx_bad_size', 'rx_bad_mac1', 'rx_bad_index',
	'rx_auth_fail', 'rx_replay', 'rx_key_expired', 'rx_bad_src', 'rx_bad_inner', 'rx_keepalive',
	'rx_data', 'rx_error', 'hs_init_rx', 'hs_resp_rx', 'hs_cookie_rx', 'hs_no_identity', 'hs_no_ss',
	'hs_bad_dh', 'hs_decrypt', 'hs_unknown_peer', 'hs_bad_ts', 'hs_flood', 'hs_bad_index',
	'hs_bad_state', 'hs_ratelimited', 'hs_queue_full', 'hs_throttled', 'cookie_sent', 'cookie_ratelimited',
] as const;

export interface FuzzResult {
	datagrams: number;
	counted: number;		/* sum of the fate counters' increments */
	threw: number;
	by_reason: Record<string, number>;
	tunnel_ok: boolean;
	seconds: number;
}

/* Real messages b received from a: initiations, a cookie reply, data, a keepalive. */
function capture(c: WgCrypto): { p: Pair; real: Uint8Array[] } {
	/* a under load answers b's response with a cookie reply (for b); a's retry then completes. */
	const p = make_pair(c, { tunables_a: { force_underload: true } });
	p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	p.net.pump();
	p.a.dev.tunables.force_underload = false;
	p.net.advance(6000);
	p.a.dev.output(ip4('10.0.0.1', '10.0.0.2', 500), 0, 520);
	p.b.dev.output(ip4('10.0.0.2', '10.0.0.1', 100), 0, 120);
	p.net.pump();
	p.net.advance(11000);	/* a keepalive */
	const b_ep = `${p.b.ep.addr.join('.')}:${p.b.ep.port}`;
	const real = p.net.delivered.filter((d) => `${d.dst.addr.join('.')}:${d.dst.port}` === b_ep)
	    .map((d) => d.data.slice());
	if (p.b.tun.length < 2 || !real.some((m) => m[0] === 3) || !real.some((m) => m.length === 32))
		throw new Error('fuzz: could not capture every kind of message');
	return { p, real };
}

export function wg_fuzz(n: number, seed = 1): FuzzResult {
	const c = crypto_attach('sodium');
	const { p, real } = capture(c);
	const b = p.b;
	const rnd = prng(seed);
	const ri = (k: number) => Math.floor(rnd() * k);
	const srcs: WgEndpoint[] = [
		p.a.ep,
		{ family: 4, addr: Uint8Array.from([198, 51, 100, 7]), port: 1234 },
		{ family: 6, addr: Uint8Array.from({ length: 16 }, (_, i) => (i === 0 ? 0x20 : i)), port: 51820 },
	];
	const before = { ...b.stats };
	let threw = 0;
	const t0 = performance.now();
	for (let i = 0; i < n; i++) {
		let m: Uint8Array;
		const base = real[ri(real.length)];
		switch (ri(8)) {
		case 0:	/* a real message, unchanged (a replay) */
			m = base.slice();
			break;
		case 1:
		case 2: {	/* bit flips */
			m = base.slice();
			for (let k = 1 + ri(8); k > 0; k--)
				m[ri(m.length)] ^= 1 << ri(8);
			break;
		}
		case 3:	/* truncated or extended */
			m = new Uint8Array(Math.max(0, base.length + ri(64) - 32));
			m.set(base.subarray(0, Math.min(base.length, m.length)));
			break;
		case 4: {	/* a random range overwritten */
			m = base.slice();
			const at = ri(m.length);
			for (let k = at; k < Math.min(m.length, at + 1 + ri(32)); k++)
				m[k] = ri(256);
			break;
		}
		case 5: {	/* the header of one message on the body of another */
			const other = real[ri(real.length)];
			m = other.slice();
			m.set(base.subarray(0, Math.min(16, base.length, m.length)));
			break;
		}
		case 6: {	/* a valid type word, random body of a likely size */
			const sizes = [148, 92, 64, 32, 48, 1500, 4 + ri(200)];
			m = new Uint8Array(sizes[ri(sizes.length)]);
			for (let k = 0; k < m.length; k++)
				m[k] = ri(256);
			if (m.length >= 4) {
				m[0] = 1 + ri(4);
				m[1] = m[2] = m[3] = 0;
			}
			break;
		}
		default:	/* anything */
			m = new Uint8Array(ri(2048));
			for (let k = 0; k < m.length; k++)
				m[k] = ri(256);
		}
		try {
			b.dev.input(m, 0, m.length, srcs[ri(srcs.length)]);
			b.dev.handshake_work(Infinity);
		} catch {
			threw++;
		}
		/* b's answers go nowhere: only what we inject reaches b. */
		p.net.queue.length = 0;
		if (i % 100 === 99) {
			p.net.clock.t++;
			b.dev.tick();
			p.net.queue.length = 0;
		}
	}
	const seconds = (performance.now() - t0) / 1000;
	const by_reason: Record<string, number> = {};
	let counted = 0;
	for (const k of FATE_KEYS) {
		const d = b.stats[k] - before[k];
		if (d !== 0)
			by_reason[k] = d;
		counted += d;
	}
	/* The tunnel afterwards: both ways, a new handshake allowed for. */
	const na = p.a.tun.length;
	const nb = b.tun.length;
	p.net.advance(1000);
	p.a.dev.output(ip4('10.0.0.1', '10.0.0.2'), 0, 28);
	p.net.pump();
	p.net.advance(6000);
	b.dev.output(ip4('10.0.0.2', '10.0.0.1'), 0, 28);
	p.net.pump();
	p.net.advance(6000);
	const tunnel_ok = b.tun.length > nb && p.a.tun.length > na;
	return { datagrams: n, counted, threw, by_reason, tunnel_ok, seconds: +seconds.toFixed(1) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const n = Number(process.argv[2] ?? 1000000);
	const seed = Number(process.argv[3] ?? 1);
	const r = wg_fuzz(n, seed);
	console.log(JSON.stringify({ fuzz: 'wg_input', seed, ...r }));
	if (r.threw !== 0 || r.counted !== r.datagrams || !r.tunnel_ok || (r.by_reason.rx_error ?? 0) !== 0)
		process.exit(1);
}

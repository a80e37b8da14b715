// SPDX-License-Identifier: BSD-2-Clause
/*
 * Complete WireGuard handshakes per second on one core: initiation
 * create + consume, response create + consume, both sessions derived,
 * mac1 added and checked on both messages.  JSON lines per backend
 * measured (openssl and sodium; noble too when WG_BENCH_NOBLE=1, it is
 * slow).  The goal is >= 3000 per CPU second.
 */

import type { WgCrypto, WgCryptoBackend } from '../../sys/crypto/crypto.js';
import { crypto_attach } from '../../sys/crypto/crypto_select.js';
import { WgCookieChecker, WgCookieState } from '../../sys/net/wg/cookie.js';
import { INIT_OFF_MAC1, MSG_INITIATION_LEN, MSG_RESPONSE_LEN, RESP_OFF_MAC1 } from '../../sys/net/wg/messages.js';
import {
	type WgHandshake, type WgKeypair, wg_noise_begin_session, wg_noise_consume_initiation,
	wg_noise_consume_response, wg_noise_create_initiation, wg_noise_create_response,
} from '../../sys/net/wg/noise.js';
import { WgPeer } from '../../sys/net/wg/peer.js';
import { WgIndexTable } from '../../sys/net/wg/peerlookup.js';

function bench(backend: WgCryptoBackend, seconds: number): Rate {
	const c: WgCrypto = crypto_attach(backend);
	const i_priv = c.generate_private_key();
	const r_priv = c.generate_private_key();
	const i_id = { private_key: i_priv, public_key: c.public_key(i_priv) };
	const r_id = { private_key: r_priv, public_key: c.public_key(r_priv) };
	const i_peer = new WgPeer(c, r_id.public_key, 'r');
	const r_peer = new WgPeer(c, i_id.public_key, 'i');
	const i_ss = c.dh(i_priv, r_id.public_key);
	const r_ss = c.dh(r_priv, i_id.public_key);
	const i_idx = new WgIndexTable<WgHandshake | WgKeypair>(c);
	const r_idx = new WgIndexTable<WgHandshake | WgKeypair>(c);
	const i_check = new WgCookieChecker(c);
	i_check.set_public_key(i_id.public_key);
	const r_check = new WgCookieChecker(c);
	r_check.set_public_key(r_id.public_key);
	const i_cookie = new WgCookieState(c, r_id.public_key);
	const r_cookie = new WgCookieState(c, i_id.public_key);
	const m1 = new Uint8Array(MSG_INITIATION_LEN);
	const m2 = new Uint8Array(MSG_RESPONSE_LEN);
	const src = { family: 4 as const, addr: Uint8Array.from([127, 0, 0, 1]), port: 1 };
	const lookup = () => ({ hs: r_peer.handshake, ss: r_ss });
	const psk = new Uint8Array(32);
	let wall = 1_700_000_000_000;
	let now = 0;

	const one = (): boolean => {
		wall += 20;
		now += 25;
		if (wg_noise_create_initiation(c, i_id, i_peer.handshake, i_ss, r_id.public_key, i_idx, wall, m1, 0) !== null)
			return false;
		i_cookie.add_macs(m1, 0, INIT_OFF_MAC1, now);
		if (r_check.validate(m1, 0, INIT_OFF_MAC1, src, false, now) === 0)
			return false;
		/* The responder's side is a new handshake (noise.ts). */
		const r_hs = wg_noise_consume_initiation(c, r_id, m1, 0, lookup, now);
		if (typeof r_hs === 'string')
			return false;
		if (wg_noise_create_response(c, r_hs, i_id.public_key, psk, r_idx, m2, 0) !== null)
			return false;
		r_cookie.add_macs(m2, 0, RESP_OFF_MAC1, now);
		const rkp = wg_noise_begin_session(c, r_hs, r_idx, now);
		if (i_check.validate(m2, 0, RESP_OFF_MAC1, src, false, now) === 0)
			return false;
		if (typeof wg_noise_consume_response(c, i_id, m2, 0, i_idx, () => psk) === 'string')
			return false;
		const ikp = wg_noise_begin_session(c, i_peer.handshake, i_idx, now);
		if (ikp === null || rkp === null)
			return false;
		i_idx.remove(ikp);
		r_idx.remove(rkp);
		ikp.wipe();
		rkp.wipe();
		return true;
	};

	for (let i = 0; i < 50; i++)
		if (!one())
			throw new Error('handshake failed');
	return rate(seconds, one);
}

interface Rate { wall: number; cpu: number }

function cpu_ns(): number {
	const u = process.cpuUsage();
	return (u.user + u.system) * 1000;
}

/*
 * Successful calls of fn per second of wall time and per second of the
 * process's CPU time, over `seconds` of wall time.  The CPU figure is
 * the one-core rate whatever the neighbours do; the wall one is what
 * this machine gave at that moment.
 */
function rate(seconds: number, fn: () => boolean): Rate {
	let n = 0;
	const c0 = cpu_ns();
	const t0 = process.hrtime.bigint();
	const end = t0 + BigInt(Math.round(seconds * 1e9));
	let t1 = t0;
	while (t1 < end) {
		for (let i = 0; i < 20; i++)
			if (fn())
				n++;
		t1 = process.hrtime.bigint();
	}
	return { wall: n / (Number(t1 - t0) / 1e9), cpu: n / ((cpu_ns() - c0) / 1e9) };
}

/* openssl is the default; its X25519 is sodium's, its AEAD OpenSSL's. */
const backends: WgCryptoBackend[] = ['openssl', 'sodium'];
if (process.env.WG_BENCH_NOBLE === '1')
	backends.push('noble');
/*
 * A reference measured in the same run: raw X25519 operations per second.
 * A handshake needs 8 of them, so this rate over handshakes per second is
 * how many X25519 times a handshake takes, whatever the machine's load.
 */
function x25519_rate(backend: WgCryptoBackend, seconds: number): Rate {
	const c = crypto_attach(backend);
	const k = c.generate_private_key();
	const p = c.public_key(c.generate_private_key());
	return rate(seconds, () => c.dh(k, p) !== null);
}

function emit(metric: string, value: number, unit: string, backend: WgCryptoBackend): void {
	console.log(JSON.stringify({ bench: 'handshake', metric, value, unit, backend }));
}

for (const b of backends) {
	const hs = bench(b, b === 'noble' ? 3 : 2);
	const ref = x25519_rate(b, b === 'noble' ? 1 : 0.5);
	emit('handshakes_per_cpu_sec', Math.round(hs.cpu), '1/s', b);
	emit('handshakes_per_sec', Math.round(hs.wall), '1/s', b);
	emit('x25519_ops_per_cpu_sec_reference', Math.round(ref.cpu), '1/s', b);
	emit('x25519_ops_per_handshake_time', +(ref.cpu / hs.cpu).toFixed(1), 'x', b);
}

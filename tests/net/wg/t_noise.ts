// SPDX-License-Identifier: BSD-2-Clause
/*
 * The handshake core: the cacophony Noise_IKpsk2 vector through the
 * generic noise_ik_* layer, TAI64N, and WireGuard's initiation and
 * response through wg_noise_* (both ends derive the same keys; replay,
 * flood and low-order ephemeral rejected).
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import t, { type Test } from 'tap';
import type { WgCrypto } from '../../../sys/crypto/crypto.js';
import {
	INIT_OFF_EPHEMERAL, MSG_INITIATION_LEN, MSG_RESPONSE_LEN,
} from '../../../sys/net/wg/messages.js';
import {
	HS_CONSUMED_INITIATION, HS_CONSUMED_RESPONSE, HS_CREATED_INITIATION, HS_CREATED_RESPONSE, HS_ZEROED,
	type NoiseState, WgHandshake, WgKeypair, noise_ik_init, noise_ik_read1_payload,
	noise_ik_read1_static, noise_ik_read2, noise_ik_write1, noise_ik_write2, noise_split, tai64n,
	tai64n_cmp, wg_noise_begin_session, wg_noise_consume_initiation, wg_noise_consume_response,
	wg_noise_create_initiation, wg_noise_create_response,
} from '../../../sys/net/wg/noise.js';
import { WgPeer } from '../../../sys/net/wg/peer.js';
import { WgIndexTable } from '../../../sys/net/wg/peerlookup.js';
import { BACKENDS, attach, hex, to_hex } from '../../harness/wg_harness.js';

/* The vector file sits beside this test's source (tests/net/wg/). */
const here = dirname(fileURLToPath(import.meta.url));
const vec_path = [join(here, 'cacophony_ikpsk2.json'),
    join(here, '../../../../tests/net/wg/cacophony_ikpsk2.json')]
    .find((p) => { try { readFileSync(p); return true; } catch { return false; } }) as string;

interface Vector {
	init_prologue: string; init_psks: string[]; init_static: string; init_ephemeral: string;
	init_remote_static: string; resp_static: string; resp_ephemeral: string; handshake_hash: string;
	messages: { payload: string; ciphertext: string }[];
}

/* cacophony's handshake_hash for this vector, written out so a damaged vector file cannot pass. */
const IKPSK2_HANDSHAKE_HASH = 'f5191b875290abcd41347ac3622d9679688a7e980229cb937ef748336cfde0e5';

function cat(...parts: Uint8Array[]): Uint8Array {
	return Uint8Array.from(Buffer.concat(parts));
}

function cacophony(t: Test, c: WgCrypto, v: Vector): void {
	const prologue = hex(v.init_prologue);
	const psk = hex(v.init_psks[0]);
	const i_s = hex(v.init_static);
	const i_e = hex(v.init_ephemeral);
	const r_s = hex(v.resp_static);
	const r_e = hex(v.resp_ephemeral);
	const i_s_pub = c.public_key(i_s);
	const i_e_pub = c.public_key(i_e);
	const r_s_pub = c.public_key(r_s);
	const r_e_pub = c.public_key(r_e);
	t.equal(to_hex(r_s_pub), v.init_remote_static, 'resp_static public key = init_remote_static');

	/* Message 1: e, es, s, ss + payload. */
	const ist: NoiseState = noise_ik_init(c, prologue, r_s_pub);
	const ss_i = c.dh(i_s, r_s_pub);
	const w1 = noise_ik_write1(c, ist, r_s_pub, i_s_pub, i_e, i_e_pub, ss_i, hex(v.messages[0].payload));
	t.ok(w1, 'write message 1');
	if (w1 === null)
		return;
	const m1 = cat(i_e_pub, w1.enc_static, w1.enc_payload);
	t.equal(to_hex(m1), v.messages[0].ciphertext, 'message 1 ciphertext');

	const rst = noise_ik_init(c, prologue, r_s_pub);
	const rs = noise_ik_read1_static(c, rst, r_s, m1.subarray(0, 32), m1.subarray(32, 80));
	t.equal(rs && to_hex(rs), to_hex(i_s_pub), 'responder learns the initiator static key');
	const p1 = noise_ik_read1_payload(c, rst, rs && c.dh(r_s, rs), m1.subarray(80));
	t.equal(p1 && to_hex(p1), v.messages[0].payload, 'message 1 payload');

	/* Message 2: e, ee, se, psk + payload. */
	const w2 = noise_ik_write2(c, rst, r_e, r_e_pub, i_e_pub, i_s_pub, psk, hex(v.messages[1].payload));
	t.ok(w2, 'write message 2');
	if (w2 === null)
		return;
	const m2 = cat(r_e_pub, w2);
	t.equal(to_hex(m2), v.messages[1].ciphertext, 'message 2 ciphertext');
	const p2 = noise_ik_read2(c, ist, i_e, i_s, m2.subarray(0, 32), psk, m2.subarray(32));
	t.equal(p2 && to_hex(p2), v.messages[1].payload, 'message 2 payload');

	t.equal(to_hex(ist.h), to_hex(rst.h), 'both ends agree on the handshake hash');
	t.equal(to_hex(ist.ck), to_hex(rst.ck), 'both ends agree on the chaining key');
	t.equal(to_hex(ist.h), IKPSK2_HANDSHAKE_HASH, 'handshake hash as cacophony gives it');

	/* Transport: initiator sends with k1, responder with k2; nonces count per direction. */
	const [k1, k2] = noise_split(c, ist);
	const [rk1, rk2] = noise_split(c, rst);
	t.equal(to_hex(k1), to_hex(rk1), 'split k1 agrees');
	t.equal(to_hex(k2), to_hex(rk2), 'split k2 agrees');
	const empty = new Uint8Array(0);
	for (let i = 2; i < v.messages.length; i++) {
		const from_init = i % 2 === 0;
		const nonce = Math.floor((i - 2) / 2);
		const ct = c.aead_seal(from_init ? k1 : k2, nonce, hex(v.messages[i].payload), empty);
		t.equal(to_hex(ct), v.messages[i].ciphertext, `transport message ${i + 1}`);
		const pt = c.aead_open(from_init ? rk1 : rk2, nonce, ct, empty);
		t.equal(pt && to_hex(pt), v.messages[i].payload, `transport message ${i + 1} opens`);
	}
}

const vector = JSON.parse(readFileSync(vec_path, 'utf8')) as Vector;

for (const backend of BACKENDS) {
	const c = attach(backend);

	t.test(`cacophony Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s (${backend})`, (t) => {
		cacophony(t, c, vector);
		t.end();
	});

	t.test(`WireGuard handshake messages (${backend})`, (t) => {
		const i_priv = c.generate_private_key();
		const r_priv = c.generate_private_key();
		const i_id = { private_key: i_priv, public_key: c.public_key(i_priv) };
		const r_id = { private_key: r_priv, public_key: c.public_key(r_priv) };
		const psk = c.random_bytes(32);
		/* Peers as each side sees the other. */
		const i_peer = new WgPeer(c, r_id.public_key, 'r');
		const r_peer = new WgPeer(c, i_id.public_key, 'i');
		const i_ss = c.dh(i_priv, r_id.public_key);
		const r_ss = c.dh(r_priv, i_id.public_key);
		t.same(i_ss, r_ss, 'precomputed static-static agrees');
		const i_idx = new WgIndexTable<WgHandshake | WgKeypair>(c);
		const r_idx = new WgIndexTable<WgHandshake | WgKeypair>(c);

		const m1 = new Uint8Array(MSG_INITIATION_LEN);
		t.equal(wg_noise_create_initiation(c, i_id, i_peer.handshake, i_ss, r_id.public_key, i_idx,
		    1_700_000_000_000, m1, 0), null, 'initiation created');
		t.equal(i_peer.handshake.state, HS_CREATED_INITIATION);
		t.equal(m1[0], 1);

		const lookup = (rs: Uint8Array) => Buffer.compare(rs, i_id.public_key) === 0 ?
		    { hs: r_peer.handshake, ss: r_ss } : undefined;
		const got = wg_noise_consume_initiation(c, r_id, m1, 0, lookup, 5000);
		t.ok(typeof got !== 'string' && got.peer === r_peer, 'initiation consumed, peer found');
		if (typeof got === 'string') {
			t.end();
			return;
		}
		t.not(got, r_peer.handshake, 'into a responder handshake of its own');
		const r_hs = got;
		t.equal(r_hs.state, HS_CONSUMED_INITIATION);
		t.equal(r_peer.handshake.state, HS_ZEROED, 'the peer\'s own handshake untouched');
		t.same(r_hs.h, i_peer.handshake.h, 'hash agrees after message 1');
		t.same(r_hs.ck, i_peer.handshake.ck, 'chaining key agrees after message 1');

		/* The same initiation again: replayed timestamp. */
		t.equal(wg_noise_consume_initiation(c, r_id, m1, 0, lookup, 10000), 'hs_bad_ts', 'replay rejected');

		const m2 = new Uint8Array(MSG_RESPONSE_LEN);
		t.equal(wg_noise_create_response(c, r_hs, i_id.public_key, psk, r_idx, m2, 0), null);
		t.equal(r_hs.state, HS_CREATED_RESPONSE);
		const got2 = wg_noise_consume_response(c, i_id, m2, 0, i_idx, () => psk);
		t.equal(got2, i_peer.handshake, 'response consumed');
		t.equal(i_peer.handshake.state, HS_CONSUMED_RESPONSE);
		t.same(r_hs.h, i_peer.handshake.h, 'hash agrees after message 2');
		t.same(r_hs.ck, i_peer.handshake.ck, 'chaining key agrees after message 2');

		const ikp = wg_noise_begin_session(c, i_peer.handshake, i_idx, 0);
		const rkp = wg_noise_begin_session(c, r_hs, r_idx, 0);
		t.ok(ikp && rkp, 'both sessions derived');
		if (!ikp || !rkp) {
			t.end();
			return;
		}
		t.ok(ikp.i_am_initiator && !rkp.i_am_initiator);
		t.same(ikp.send_key, rkp.recv_key, 'initiator send = responder receive');
		t.same(ikp.recv_key, rkp.send_key, 'initiator receive = responder send');
		t.equal(ikp.remote_index, rkp.local_index, 'indices cross');
		t.equal(rkp.remote_index, ikp.local_index, 'indices cross');
		t.equal(i_idx.lookup(ikp.local_index), ikp, 'index now names the keypair');
		t.ok(i_peer.handshake.ck.every((x) => x === 0), 'handshake chaining key wiped');
		t.ok(i_peer.handshake.ephemeral_private.every((x) => x === 0), 'ephemeral wiped');

		/* A response under a wrong PSK fails. */
		const m1b = new Uint8Array(MSG_INITIATION_LEN);
		wg_noise_create_initiation(c, i_id, i_peer.handshake, i_ss, r_id.public_key, i_idx,
		    1_700_000_010_000, m1b, 0);
		t.equal(wg_noise_consume_initiation(c, r_id, m1b, 0, lookup, 5010), 'hs_flood',
		    'a second initiation 10 ms later is a flood');
		const r_hs2 = wg_noise_consume_initiation(c, r_id, m1b, 0, lookup, 5030);
		t.ok(typeof r_hs2 !== 'string', 'and accepted 30 ms later');
		if (typeof r_hs2 === 'string') {
			t.end();
			return;
		}
		const m2b = new Uint8Array(MSG_RESPONSE_LEN);
		wg_noise_create_response(c, r_hs2, i_id.public_key, c.random_bytes(32), r_idx, m2b, 0);
		t.equal(wg_noise_consume_response(c, i_id, m2b, 0, i_idx, () => psk), 'hs_decrypt',
		    'response under another PSK fails');

		/* An initiation whose ephemeral is a low-order point. */
		const m1c = new Uint8Array(MSG_INITIATION_LEN);
		wg_noise_create_initiation(c, i_id, i_peer.handshake, i_ss, r_id.public_key, i_idx,
		    1_700_000_020_000, m1c, 0);
		m1c.fill(0, INIT_OFF_EPHEMERAL, INIT_OFF_EPHEMERAL + 32);
		m1c[INIT_OFF_EPHEMERAL] = 1;	/* the point of order 1... u = 1 */
		t.equal(wg_noise_consume_initiation(c, r_id, m1c, 0, lookup, 9000), 'hs_bad_dh',
		    'low-order ephemeral rejected');

		/* No identity, or no static-static: nothing is created. */
		t.equal(wg_noise_create_initiation(c, { private_key: null, public_key: null }, i_peer.handshake,
		    i_ss, r_id.public_key, i_idx, 0, m1, 0), 'hs_no_identity');
		t.equal(wg_noise_create_initiation(c, i_id, i_peer.handshake, null, r_id.public_key, i_idx,
		    0, m1, 0), 'hs_no_ss');
		t.end();
	});
}

t.test('TAI64N', (t) => {
	const a = tai64n(1_700_000_000_000);
	t.equal(a.length, 12);
	/* 2^62 + 10 + 1_700_000_000 seconds, big-endian. */
	t.equal(to_hex(a.subarray(0, 8)), (0x400000000000000an + 1_700_000_000n).toString(16).padStart(16, '0'));
	t.equal(to_hex(a.subarray(8)), '00000000', 'whole second: 0 ns');
	const b = tai64n(1_700_000_000_500);
	const ns = Buffer.from(b).readUInt32BE(8);
	t.equal(ns % (1 << 24), 0, 'nanoseconds are a multiple of 2^24');
	t.ok(ns <= 500_000_000 && ns > 500_000_000 - (1 << 24), 'rounded down');
	t.ok(tai64n_cmp(b, a) > 0, 'later is greater');
	t.equal(tai64n_cmp(tai64n(1_700_000_000_001), a), 0, 'within 2^24 ns: equal (not newer)');
	t.ok(tai64n_cmp(tai64n(1_700_000_000_017), a) > 0, '17 ms later: greater');
	t.end();
});

// SPDX-License-Identifier: BSD-2-Clause
/*
 * Forge a WireGuard handshake initiation (paper §5.4.2) the way an
 * attacker who knows the initiator's static key would, for
 * t_basic's wg_badhandshakekey: NetBSD ships 148-byte inits precomputed
 * for its fixed keys; we compute them, with the project's crypto.
 *
 * With a real ephemeral the message is simply valid (the control case:
 * the responder must answer it).  With a low-order ephemeral the
 * attacker has no ephemeral private key; it uses the all-zero shared
 * secret a responder that does not check the DH result would compute
 * (X25519 of anything with a low-order point is 0), so every hash, AEAD
 * and mac1 in the message is what such a responder expects.  A correct
 * responder rejects the zero DH and drops it.
 */

import type { WgCrypto } from '../../../sys/crypto/crypto.js';
import {
	INIT_OFF_EPHEMERAL, INIT_OFF_MAC1, INIT_OFF_SENDER, INIT_OFF_STATIC, INIT_OFF_TIMESTAMP,
	MSG_INITIATION, MSG_INITIATION_LEN, WG_KEY_LEN, WG_MAC_LEN, WG_TIMESTAMP_LEN,
} from '../../../sys/net/wg/messages.js';

const enc = new TextEncoder();
/* Protocol names, paper §5.4 */
const CONSTRUCTION = enc.encode('Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s');
const IDENTIFIER = enc.encode('WireGuard v1 zx2c4 Jason@zx2c4.com');
const LABEL_MAC1 = enc.encode('mac1----');

export interface ForgeInitOptions {
	initiator_priv: Uint8Array;
	responder_pub: Uint8Array;
	/* The ephemeral: a private key (valid message) or a public point used as is (low order). */
	ephemeral: { priv: Uint8Array } | { point: Uint8Array };
	sender_index: number;
	/* Unix seconds for the TAI64N timestamp. */
	timestamp_sec: number;
}

/* TAI64N as WireGuard uses it: 2^62 + seconds, big-endian, then nanoseconds. */
function tai64n(sec: number): Uint8Array {
	const ts = new Uint8Array(WG_TIMESTAMP_LEN);
	const dv = new DataView(ts.buffer);
	dv.setBigUint64(0, (1n << 62n) + BigInt(Math.floor(sec)), false);
	dv.setUint32(8, 0, false);
	return ts;
}

export function wg_forge_msg_init(c: WgCrypto, o: ForgeInitOptions): Uint8Array {
	const msg = new Uint8Array(MSG_INITIATION_LEN);
	const dv = new DataView(msg.buffer);
	dv.setUint32(0, MSG_INITIATION, true);
	dv.setUint32(INIT_OFF_SENDER, o.sender_index >>> 0, true);

	let ck = c.hash(CONSTRUCTION);
	let h = c.hash(ck, IDENTIFIER);
	h = c.hash(h, o.responder_pub);

	const e_pub = 'priv' in o.ephemeral ? c.public_key(o.ephemeral.priv) : o.ephemeral.point;
	msg.set(e_pub, INIT_OFF_EPHEMERAL);
	ck = c.kdf1(ck, e_pub);
	h = c.hash(h, e_pub);

	/* es: the attacker's zero for a low-order point (see above). */
	const es = 'priv' in o.ephemeral
	    ? c.dh(o.ephemeral.priv, o.responder_pub) ?? new Uint8Array(WG_KEY_LEN)
	    : new Uint8Array(WG_KEY_LEN);
	let k: Uint8Array;
	[ck, k] = c.kdf2(ck, es);
	const s_pub = c.public_key(o.initiator_priv);
	const static_ct = c.aead_seal(k, 0, s_pub, h);
	msg.set(static_ct, INIT_OFF_STATIC);
	h = c.hash(h, static_ct);

	const ss = c.dh(o.initiator_priv, o.responder_pub);
	if (ss === null)
		throw new Error('wg_forge_msg_init: the static keys are low order');
	[ck, k] = c.kdf2(ck, ss);
	const ts_ct = c.aead_seal(k, 0, tai64n(o.timestamp_sec), h);
	msg.set(ts_ct, INIT_OFF_TIMESTAMP);

	/* mac1 = MAC(HASH(LABEL_MAC1 || S_pub_r), msg_alpha); mac2 stays zero (no cookie). */
	const mac1 = c.mac(c.hash(LABEL_MAC1, o.responder_pub), msg.subarray(0, INIT_OFF_MAC1));
	msg.set(mac1.subarray(0, WG_MAC_LEN), INIT_OFF_MAC1);
	return msg;
}

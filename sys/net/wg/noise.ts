// SPDX-License-Identifier: BSD-2-Clause
/*
 * The handshake: Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s (paper §5.4) and
 * the session keypairs it yields.
 *
 * Two layers:
 *   - noise_ik_*: the Noise IKpsk2 pattern itself, with the prologue and
 *     the payloads as parameters, so the cacophony test vector (prologue
 *     "John Galt", arbitrary payloads) runs through the same code;
 *   - wg_noise_*: WireGuard's messages on top of it (prologue =
 *     IDENTIFIER, payload 1 = TAI64N timestamp, payload 2 = empty), the
 *     per-peer handshake state machine, and the keypair slots
 *     previous/current/next with the responder's key confirmation.
 *
 * Every failure returns null or a reason string, never throws.
 */

import type { WgCrypto } from '../../crypto/crypto.js';
import { crypto_wipe } from '../../crypto/crypto_util.js';
import { WgReplayCounter } from './counter.js';
import {
	INIT_OFF_EPHEMERAL, INIT_OFF_MAC1, INIT_OFF_SENDER, INIT_OFF_STATIC, INIT_OFF_TIMESTAMP,
	INITIATION_MIN_INTERVAL_MS, MSG_INITIATION, MSG_RESPONSE, RESP_OFF_EMPTY, RESP_OFF_EPHEMERAL,
	RESP_OFF_RECEIVER, RESP_OFF_SENDER, WG_KEY_LEN, WG_TAG_LEN, WG_TIMESTAMP_LEN,
	le32_get, le32_put,
} from './messages.js';
import { INDEX_HANDSHAKE, INDEX_KEYPAIR, type WgIndexEntry, type WgIndexTable } from './peerlookup.js';
import type { WgPeer } from './peer.js';

const enc = new TextEncoder();
export const NOISE_CONSTRUCTION = enc.encode('Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s');
export const WG_IDENTIFIER = enc.encode('WireGuard v1 zx2c4 Jason@zx2c4.com');
const EMPTY = new Uint8Array(0);
const ZERO_PSK = new Uint8Array(WG_KEY_LEN);

/* ------------------------------------------------------------------ */
/* Noise IKpsk2, generic over prologue and payloads.                   */

/* The symmetric state of Noise §5.2: chaining key and transcript hash. */
export interface NoiseState {
	ck: Uint8Array;
	h: Uint8Array;
}

/*
 * InitializeSymmetric(name) (the name is longer than 32 bytes, so
 * h = HASH(name), ck = h), MixHash(prologue), then IK's pre-message:
 * MixHash(responder static public).
 */
export function noise_ik_init(c: WgCrypto, prologue: Uint8Array, rs_pub: Uint8Array): NoiseState {
	const ck = c.hash(NOISE_CONSTRUCTION);
	const h = c.hash(c.hash(ck, prologue), rs_pub);
	return { ck, h };
}

export function noise_state_wipe(st: NoiseState): void {
	crypto_wipe(st.ck, st.h);
}

function mix_hash(c: WgCrypto, st: NoiseState, data: Uint8Array): void {
	const h = c.hash(st.h, data);
	st.h.fill(0);
	st.h = h;
}

/* MixKey without keeping the key: ck = KDF1(ck, x). */
function mix_ck(c: WgCrypto, st: NoiseState, ikm: Uint8Array): void {
	const ck = c.kdf1(st.ck, ikm);
	st.ck.fill(0);
	st.ck = ck;
}

/* MixKey: (ck, k) = KDF2(ck, x); returns k. */
function mix_key(c: WgCrypto, st: NoiseState, ikm: Uint8Array): Uint8Array {
	const [ck, k] = c.kdf2(st.ck, ikm);
	st.ck.fill(0);
	st.ck = ck;
	return k;
}

/* MixKeyAndHash(psk): (ck, t, k) = KDF3(ck, psk); MixHash(t); returns k. */
function mix_psk(c: WgCrypto, st: NoiseState, psk: Uint8Array): Uint8Array {
	const [ck, t, k] = c.kdf3(st.ck, psk);
	st.ck.fill(0);
	st.ck = ck;
	mix_hash(c, st, t);
	t.fill(0);
	return k;
}

/* A DH step: MixKey(DH(priv, pub)); false for a low-order (all-zero) result. */
function mix_dh(c: WgCrypto, st: NoiseState, priv: Uint8Array, pub: Uint8Array): Uint8Array | null {
	const dh = c.dh(priv, pub);
	if (dh === null)
		return null;
	const k = mix_key(c, st, dh);
	dh.fill(0);
	return k;
}

/* Each key is used for exactly one message, so the nonce is always 0. */
function encrypt_and_hash(c: WgCrypto, st: NoiseState, k: Uint8Array, pt: Uint8Array): Uint8Array {
	const ct = c.aead_seal(k, 0, pt, st.h);
	mix_hash(c, st, ct);
	return ct;
}

function decrypt_and_hash(c: WgCrypto, st: NoiseState, k: Uint8Array, ct: Uint8Array): Uint8Array | null {
	const pt = c.aead_open(k, 0, ct, st.h);
	if (pt === null)
		return null;
	mix_hash(c, st, ct);
	return pt;
}

/* Token "e" in psk mode: MixHash(e.pub) and MixKey(e.pub) (Noise §9.2). */
function mix_e(c: WgCrypto, st: NoiseState, e_pub: Uint8Array): void {
	mix_hash(c, st, e_pub);
	mix_ck(c, st, e_pub);
}

/*
 * Message 1, initiator: e, es, s, ss, then the payload.  `ss` is the
 * precomputed DH(s_i, S_r) (paper §5.4.2); null (low-order peer key)
 * fails.  Returns the encrypted static key and payload.
 */
export function noise_ik_write1(c: WgCrypto, st: NoiseState, rs_pub: Uint8Array, s_pub: Uint8Array,
    e_priv: Uint8Array, e_pub: Uint8Array, ss: Uint8Array | null, payload: Uint8Array):
    { enc_static: Uint8Array; enc_payload: Uint8Array } | null {
	if (ss === null)
		return null;
	mix_e(c, st, e_pub);
	const k1 = mix_dh(c, st, e_priv, rs_pub);
	if (k1 === null)
		return null;
	const enc_static = encrypt_and_hash(c, st, k1, s_pub);
	k1.fill(0);
	const k2 = mix_key(c, st, ss);
	const enc_payload = encrypt_and_hash(c, st, k2, payload);
	k2.fill(0);
	return { enc_static, enc_payload };
}

/* Message 1, responder, first half: e, es, s.  Returns the initiator's static key. */
export function noise_ik_read1_static(c: WgCrypto, st: NoiseState, s_priv: Uint8Array,
    re_pub: Uint8Array, enc_static: Uint8Array): Uint8Array | null {
	const r = read1_static(c, st, s_priv, re_pub, enc_static);
	return typeof r === 'string' ? null : r;
}

function read1_static(c: WgCrypto, st: NoiseState, s_priv: Uint8Array, re_pub: Uint8Array,
    enc_static: Uint8Array): Uint8Array | 'hs_bad_dh' | 'hs_decrypt' {
	mix_e(c, st, re_pub);
	const k1 = mix_dh(c, st, s_priv, re_pub);
	if (k1 === null)
		return 'hs_bad_dh';
	const rs = decrypt_and_hash(c, st, k1, enc_static);
	k1.fill(0);
	return rs ?? 'hs_decrypt';
}

/* Message 1, responder, second half: ss, then the payload. */
export function noise_ik_read1_payload(c: WgCrypto, st: NoiseState, ss: Uint8Array | null,
    enc_payload: Uint8Array): Uint8Array | null {
	if (ss === null)
		return null;
	const k2 = mix_key(c, st, ss);
	const pt = decrypt_and_hash(c, st, k2, enc_payload);
	k2.fill(0);
	return pt;
}

/* Message 2, responder: e, ee, se, psk, then the payload. */
export function noise_ik_write2(c: WgCrypto, st: NoiseState, e_priv: Uint8Array, e_pub: Uint8Array,
    re_pub: Uint8Array, rs_pub: Uint8Array, psk: Uint8Array, payload: Uint8Array): Uint8Array | null {
	mix_e(c, st, e_pub);
	const ee = c.dh(e_priv, re_pub);
	if (ee === null)
		return null;
	mix_ck(c, st, ee);
	ee.fill(0);
	const se = c.dh(e_priv, rs_pub);
	if (se === null)
		return null;
	mix_ck(c, st, se);
	se.fill(0);
	const k = mix_psk(c, st, psk);
	const ct = encrypt_and_hash(c, st, k, payload);
	k.fill(0);
	return ct;
}

/* Message 2, initiator: e, ee, se, psk, then the payload. */
export function noise_ik_read2(c: WgCrypto, st: NoiseState, e_priv: Uint8Array, s_priv: Uint8Array,
    re_pub: Uint8Array, psk: Uint8Array, enc_payload: Uint8Array): Uint8Array | null {
	mix_e(c, st, re_pub);
	const ee = c.dh(e_priv, re_pub);
	if (ee === null)
		return null;
	mix_ck(c, st, ee);
	ee.fill(0);
	const se = c.dh(s_priv, re_pub);
	if (se === null)
		return null;
	mix_ck(c, st, se);
	se.fill(0);
	const k = mix_psk(c, st, psk);
	const pt = decrypt_and_hash(c, st, k, enc_payload);
	k.fill(0);
	return pt;
}

/* Split(): (initiator send, responder send) = KDF2(ck, empty) (paper §5.4.5). */
export function noise_split(c: WgCrypto, st: NoiseState): [Uint8Array, Uint8Array] {
	return c.kdf2(st.ck, EMPTY);
}

/* ------------------------------------------------------------------ */
/* TAI64N (paper §5.4.2).                                              */

/*
 * 12 bytes, big-endian: seconds + 2^62 + 10, then nanoseconds rounded
 * down to a multiple of 2^24 so the timestamp leaks no fine timing
 * (as Linux and wireguard-go whiten it).
 */
export function tai64n(wall_ms: number, dst: Uint8Array = new Uint8Array(WG_TIMESTAMP_LEN)): Uint8Array {
	const ms = Math.max(0, Math.floor(wall_ms));
	const sec = Math.floor(ms / 1000);
	let ns = (ms - sec * 1000) * 1000000;
	ns -= ns % 16777216;
	let hi = 0x40000000 + Math.floor(sec / 4294967296);
	let lo = (sec % 4294967296) + 10;
	if (lo >= 4294967296) {
		lo -= 4294967296;
		hi++;
	}
	const w = [hi, lo, ns];
	for (let i = 0; i < 3; i++) {
		dst[4 * i] = (w[i] >>> 24) & 0xff;
		dst[4 * i + 1] = (w[i] >>> 16) & 0xff;
		dst[4 * i + 2] = (w[i] >>> 8) & 0xff;
		dst[4 * i + 3] = w[i] & 0xff;
	}
	return dst;
}

/* Byte-wise comparison: >0 when a is later than b. */
export function tai64n_cmp(a: Uint8Array, b: Uint8Array): number {
	for (let i = 0; i < WG_TIMESTAMP_LEN; i++)
		if (a[i] !== b[i])
			return a[i] - b[i];
	return 0;
}

/* ------------------------------------------------------------------ */
/* WireGuard handshake state.                                          */

export const HS_ZEROED = 0;
export const HS_CREATED_INITIATION = 1;
export const HS_CONSUMED_INITIATION = 2;
export const HS_CREATED_RESPONSE = 3;
export const HS_CONSUMED_RESPONSE = 4;

/* The device's static identity; both null while no private key is set. */
export interface WgStaticIdentity {
	private_key: Uint8Array | null;
	public_key: Uint8Array | null;
}

export class WgHandshake implements WgIndexEntry {
	readonly index_kind = INDEX_HANDSHAKE;
	local_index = 0;
	state = HS_ZEROED;
	remote_index = 0;
	ck = new Uint8Array(WG_KEY_LEN);
	h = new Uint8Array(WG_KEY_LEN);
	ephemeral_private = new Uint8Array(WG_KEY_LEN);
	remote_ephemeral = new Uint8Array(WG_KEY_LEN);
	/* Replay and flood state survive clear(): they guard across handshakes. */
	latest_timestamp = new Uint8Array(WG_TIMESTAMP_LEN);
	last_initiation_consumption = -Infinity;

	constructor(readonly peer: WgPeer) {}

	/* Forget the handshake in flight, wiping its secrets. */
	clear(): void {
		this.ck.fill(0);
		this.h.fill(0);
		this.ephemeral_private.fill(0);
		this.remote_ephemeral.fill(0);
		this.remote_index = 0;
		this.state = HS_ZEROED;
	}

	/* Removing the peer: wipe everything. */
	wipe(): void {
		this.clear();
		this.latest_timestamp.fill(0);
	}

	save(st: NoiseState): void {
		this.ck.set(st.ck);
		this.h.set(st.h);
		noise_state_wipe(st);
	}

	load(): NoiseState {
		return { ck: this.ck.slice(), h: this.h.slice() };
	}
}

/* A session (paper §5.4.5): one send and one receive key, and their counters. */
export class WgKeypair implements WgIndexEntry {
	readonly index_kind = INDEX_KEYPAIR;
	local_index = 0;
	remote_index = 0;
	send_counter = 0;
	readonly replay = new WgReplayCounter();
	sending_valid = true;
	receiving_valid = true;

	constructor(readonly peer: WgPeer, readonly send_key: Uint8Array, readonly recv_key: Uint8Array,
	    readonly i_am_initiator: boolean, readonly birth: number) {}

	wipe(): void {
		this.send_key.fill(0);
		this.recv_key.fill(0);
		this.sending_valid = false;
		this.receiving_valid = false;
		this.replay.reset();
	}
}

export class WgKeypairs {
	previous: WgKeypair | null = null;
	current: WgKeypair | null = null;
	next: WgKeypair | null = null;
}

/* Initial chaining key and hash for prologue = IDENTIFIER, cached per backend. */
const wg_initial = new WeakMap<WgCrypto, NoiseState>();

function wg_noise_init(c: WgCrypto, rs_pub: Uint8Array): NoiseState {
	let base = wg_initial.get(c);
	if (base === undefined) {
		const ck = c.hash(NOISE_CONSTRUCTION);
		base = { ck, h: c.hash(ck, WG_IDENTIFIER) };
		wg_initial.set(c, base);
	}
	return { ck: base.ck.slice(), h: c.hash(base.h, rs_pub) };
}

export type WgNoiseFail =
	| 'hs_no_identity'	/* no private key */
	| 'hs_no_ss'		/* peer key is low-order: no static-static DH */
	| 'hs_bad_dh'		/* low-order ephemeral */
	| 'hs_decrypt'		/* AEAD failed */
	| 'hs_unknown_peer'	/* initiation from a static key we do not know */
	| 'hs_bad_ts'		/* timestamp not newer than the last accepted one */
	| 'hs_flood'		/* initiation less than 20 ms after the last accepted one */
	| 'hs_bad_index'	/* response to no initiation of ours */
	| 'hs_bad_state';	/* response/session in the wrong state */

/*
 * Create an initiation in dst[off, off+148) (macs left for cookie.ts).
 * Fails for no private key or a low-order peer key.
 */
export function wg_noise_create_initiation(c: WgCrypto, ident: WgStaticIdentity, hs: WgHandshake,
    ss: Uint8Array | null, remote_static: Uint8Array, idx: WgIndexTable<WgHandshake | WgKeypair>,
    wall_ms: number, dst: Uint8Array, off: number): WgNoiseFail | null {
	if (ident.private_key === null || ident.public_key === null)
		return 'hs_no_identity';
	if (ss === null)
		return 'hs_no_ss';
	hs.clear();
	const st = wg_noise_init(c, remote_static);
	const e_priv = c.generate_private_key();
	const e_pub = c.public_key(e_priv);
	const ts = tai64n(wall_ms);
	const r = noise_ik_write1(c, st, remote_static, ident.public_key, e_priv, e_pub, ss, ts);
	if (r === null) {
		e_priv.fill(0);
		noise_state_wipe(st);
		return 'hs_bad_dh';
	}
	le32_put(dst, off, MSG_INITIATION);
	dst.set(e_pub, off + INIT_OFF_EPHEMERAL);
	dst.set(r.enc_static, off + INIT_OFF_STATIC);
	dst.set(r.enc_payload, off + INIT_OFF_TIMESTAMP);
	hs.ephemeral_private.set(e_priv);
	e_priv.fill(0);
	hs.save(st);
	hs.state = HS_CREATED_INITIATION;
	idx.insert(hs);
	le32_put(dst, off + INIT_OFF_SENDER, hs.local_index);
	return null;
}

/*
 * Consume an initiation (mac1 already checked).  `lookup` maps the
 * decrypted static key to the peer's handshake (whose replay and flood
 * state is checked and updated) and its precomputed ss.  On success a
 * new handshake in CONSUMED_INITIATION holds the responder's side: an
 * initiation of our own in flight stays as it was, so its response can
 * still complete it (Linux and wireguard-go overwrite it instead, and
 * crossing initiations then fail each other; receive.ts breaks the tie).
 */
export function wg_noise_consume_initiation(c: WgCrypto, ident: WgStaticIdentity, msg: Uint8Array,
    off: number, lookup: (remote_static: Uint8Array) => { hs: WgHandshake; ss: Uint8Array | null } | undefined,
    now: number): WgHandshake | WgNoiseFail {
	if (ident.private_key === null || ident.public_key === null)
		return 'hs_no_identity';
	const st = wg_noise_init(c, ident.public_key);
	const re = msg.slice(off + INIT_OFF_EPHEMERAL, off + INIT_OFF_EPHEMERAL + WG_KEY_LEN);
	const rs = read1_static(c, st, ident.private_key, re,
	    msg.subarray(off + INIT_OFF_STATIC, off + INIT_OFF_TIMESTAMP));
	if (typeof rs === 'string') {
		noise_state_wipe(st);
		return rs;
	}
	const found = lookup(rs);
	if (found === undefined) {
		noise_state_wipe(st);
		return 'hs_unknown_peer';
	}
	const { hs, ss } = found;
	const ts = noise_ik_read1_payload(c, st, ss,
	    msg.subarray(off + INIT_OFF_TIMESTAMP, off + INIT_OFF_MAC1));
	if (ts === null) {
		noise_state_wipe(st);
		return ss === null ? 'hs_no_ss' : 'hs_decrypt';
	}
	/* Replay and flood protection (paper §5.1, §5.4.2). */
	if (tai64n_cmp(ts, hs.latest_timestamp) <= 0) {
		noise_state_wipe(st);
		return 'hs_bad_ts';
	}
	if (now < hs.last_initiation_consumption + INITIATION_MIN_INTERVAL_MS) {
		noise_state_wipe(st);
		return 'hs_flood';
	}
	hs.latest_timestamp.set(ts);
	hs.last_initiation_consumption = now;
	const r = new WgHandshake(hs.peer);
	r.remote_ephemeral.set(re);
	r.remote_index = le32_get(msg, off + INIT_OFF_SENDER);
	r.save(st);
	r.state = HS_CONSUMED_INITIATION;
	return r;
}

/* Create the response in dst[off, off+92) (macs left for cookie.ts). */
export function wg_noise_create_response(c: WgCrypto, hs: WgHandshake, remote_static: Uint8Array,
    psk: Uint8Array | null, idx: WgIndexTable<WgHandshake | WgKeypair>, dst: Uint8Array,
    off: number): WgNoiseFail | null {
	if (hs.state !== HS_CONSUMED_INITIATION)
		return 'hs_bad_state';
	const st = hs.load();
	const e_priv = c.generate_private_key();
	const e_pub = c.public_key(e_priv);
	const ct = noise_ik_write2(c, st, e_priv, e_pub, hs.remote_ephemeral, remote_static,
	    psk ?? ZERO_PSK, EMPTY);
	e_priv.fill(0);
	if (ct === null) {
		noise_state_wipe(st);
		hs.clear();
		return 'hs_bad_dh';
	}
	le32_put(dst, off, MSG_RESPONSE);
	dst.set(e_pub, off + RESP_OFF_EPHEMERAL);
	dst.set(ct, off + RESP_OFF_EMPTY);
	hs.save(st);
	hs.state = HS_CREATED_RESPONSE;
	idx.insert(hs);
	le32_put(dst, off + RESP_OFF_SENDER, hs.local_index);
	le32_put(dst, off + RESP_OFF_RECEIVER, hs.remote_index);
	return null;
}

/* Consume a response (mac1 already checked), found by its receiver index. */
export function wg_noise_consume_response(c: WgCrypto, ident: WgStaticIdentity, msg: Uint8Array,
    off: number, idx: WgIndexTable<WgHandshake | WgKeypair>,
    psk_of: (hs: WgHandshake) => Uint8Array | null): WgHandshake | WgNoiseFail {
	if (ident.private_key === null)
		return 'hs_no_identity';
	const e = idx.lookup(le32_get(msg, off + RESP_OFF_RECEIVER));
	if (e === undefined || e.index_kind !== INDEX_HANDSHAKE)
		return 'hs_bad_index';
	const hs = e;
	if (hs.state !== HS_CREATED_INITIATION)
		return 'hs_bad_state';
	const st = hs.load();
	const re = msg.slice(off + RESP_OFF_EPHEMERAL, off + RESP_OFF_EPHEMERAL + WG_KEY_LEN);
	const pt = noise_ik_read2(c, st, hs.ephemeral_private, ident.private_key, re,
	    psk_of(hs) ?? ZERO_PSK, msg.subarray(off + RESP_OFF_EMPTY, off + RESP_OFF_EMPTY + WG_TAG_LEN));
	if (pt === null) {
		noise_state_wipe(st);
		return 'hs_decrypt';
	}
	hs.remote_ephemeral.set(re);
	hs.remote_index = le32_get(msg, off + RESP_OFF_SENDER);
	hs.save(st);
	hs.state = HS_CONSUMED_RESPONSE;
	return hs;
}

/*
 * Derive the session from a completed handshake (paper §5.4.5) and
 * hand the handshake's index over to the keypair.  The handshake is
 * cleared (ephemeral, ck and h wiped).
 */
export function wg_noise_begin_session(c: WgCrypto, hs: WgHandshake,
    idx: WgIndexTable<WgHandshake | WgKeypair>, now: number): WgKeypair | null {
	let initiator: boolean;
	if (hs.state === HS_CONSUMED_RESPONSE)
		initiator = true;
	else if (hs.state === HS_CREATED_RESPONSE)
		initiator = false;
	else
		return null;
	const [t1, t2] = c.kdf2(hs.ck, EMPTY);
	const kp = initiator ? new WgKeypair(hs.peer, t1, t2, true, now) :
	    new WgKeypair(hs.peer, t2, t1, false, now);
	kp.remote_index = hs.remote_index;
	idx.replace(hs, kp);
	hs.clear();
	return kp;
}

/*
 * Install a new keypair (Linux add_new_keypair).  The initiator uses it
 * at once; the responder keeps it in `next` until the first data packet
 * under it confirms the initiator has it (paper §5.4.5, key confirmation).
 */
export function wg_keypairs_add(kps: WgKeypairs, kp: WgKeypair, drop: (kp: WgKeypair) => void): void {
	const { previous, current, next } = kps;
	if (kp.i_am_initiator) {
		if (next !== null) {
			/* An unconfirmed responder session was newer than current. */
			kps.next = null;
			kps.previous = next;
			if (current !== null)
				drop(current);
		} else {
			kps.previous = current;
		}
		if (previous !== null)
			drop(previous);
		kps.current = kp;
	} else {
		kps.next = kp;
		if (next !== null)
			drop(next);
		kps.previous = null;
		if (previous !== null)
			drop(previous);
	}
}

/*
 * A packet authenticated under `kp`.  True when this confirmed the
 * responder's `next` keypair, i.e. the handshake is now complete.
 */
export function wg_keypairs_received_with(kps: WgKeypairs, kp: WgKeypair,
    drop: (kp: WgKeypair) => void): boolean {
	if (kps.next !== kp)
		return false;
	const old_prev = kps.previous;
	kps.previous = kps.current;
	kps.current = kp;
	kps.next = null;
	if (old_prev !== null)
		drop(old_prev);
	return true;
}

export function wg_keypairs_clear(kps: WgKeypairs, drop: (kp: WgKeypair) => void): void {
	const { previous, current, next } = kps;
	kps.previous = kps.current = kps.next = null;
	if (previous !== null)
		drop(previous);
	if (current !== null)
		drop(current);
	if (next !== null)
		drop(next);
}

/* A new private key: stop sending under the old sessions (Linux expire_current_peer_keypairs). */
export function wg_keypairs_expire_current(kps: WgKeypairs): void {
	if (kps.current !== null)
		kps.current.sending_valid = false;
	if (kps.next !== null)
		kps.next.sending_valid = false;
}

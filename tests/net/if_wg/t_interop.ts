// SPDX-License-Identifier: BSD-2-Clause
/*
 * Interoperability: our wg(4) in one namespace, Debian's wireguard-go
 * (configured with wg(8)) in the other; NetBSD's t_interoperability.sh
 * against a Linux peer, made self-contained.
 *
 * wg_interop_reference_wggo_wggo runs the same topology, routing and
 * transfer code with wireguard-go on BOTH sides.  It needs nothing of
 * ours, so it proves the harness on its own; when an interop case fails
 * and the reference passes, the fault is on our side of the wire.
 *
 * Addresses (NetBSD's interop plan): outer 10.0.0.3 (ours) / 10.0.0.2
 * (wireguard-go), tunnel 10.0.1.1 / 10.0.1.2, both on port 52428.
 */

import t from 'tap';
import {
	Lab, count_lines, require_progs, udp_re, wait_until, type Host, type Segment, type TapTest,
} from '../../harness/netns.js';
import { randomBytes } from 'node:crypto';
import { crypto_attach } from '../../../sys/crypto/crypto_select.js';
import {
	add_peer, badkeys, check_ping, check_ping_fail, fixed_keys, setup_wg_common, tcp_transfer, wg_sysctl,
	wggo_setup, wggo_start,
} from '../../harness/if_wg.js';
import { wg_forge_msg_init } from './wg_forge.js';

t.setTimeout(600_000);

/* NetBSD's interop keys: the local (our) stack and the Linux peer. */
const key_priv_ours = 'aK3TbzUNDO4aeDRX54x8bOG+NaKuqXKt7Hwq0Uz69Wo=';
const key_pub_ours = '2iWFzywbDvYu2gQW5Q7/z/g5/Cv4bDDd6L3OKXLOwxs=';
const key_priv_wggo = 'EF9D8AOkmxjlkiRFqBnfJS+RJJHbUy02u+VkGlBr9Eo=';
const key_pub_wggo = '2ZM9RvDmMZS/Nuh8OaVaJrwFbO57/WJgeU+JoQ//nko=';

const PORT = 52428;
const OUTER_OURS = '10.0.0.3';
const OUTER_WGGO = '10.0.0.2';
const WG_OURS = '10.0.1.1';
const WG_WGGO = '10.0.1.2';
const TRANSFER_BYTES = 20 * 1024 * 1024;
const TCP_PORT = 5001;

/*
 * wireguard-go interface names: distinct per process and side.  Each host
 * has its own /run/wireguard already, but distinct names keep the test
 * correct even without that isolation (the socket directory is global).
 */
const wggo_name = (side: string): string => `wgo${process.pid % 1000000}${side}`;

interface Side {
	h: Host;
	ifname: string;
	outer: string;
	inner: string;
}

async function wggo_configure(h: Host, ifname: string, o: { priv: string; peer_pub: string;
    endpoint?: string; allowed: string; addr: string }): Promise<void> {
	await wggo_setup(h, ifname, { ...o, port: PORT });
}

/* Ours, configured the NetBSD way. */
async function ours_configure(h: Host, o: { peer_pub: string; endpoint: string }): Promise<void> {
	await setup_wg_common(h, 'wg0', 'inet', WG_OURS, 24, PORT, key_priv_ours);
	await add_peer(h, 'wg0', 'peer0', o.peer_pub, o.endpoint, `${WG_WGGO}/32`);
}

/* Send TRANSFER_BYTES from src to dst's tunnel address; the sha256 must match on both ends. */
async function transfer(src: Side, dst: Side): Promise<void> {
	await tcp_transfer(src.h, dst.h, dst.inner, TCP_PORT, TRANSFER_BYTES);
}

/* Two stacks on one segment: a plays our role (10.0.0.3), b wireguard-go's (10.0.0.2). */
function two_hosts(t: TapTest, a: string, b: string): { lab: Lab; ha: Host; hb: Host; bus: Segment } {
	const lab = new Lab(t, 'wgi');
	const ha = lab.host(a);
	const hb = lab.host(b);
	const bus = lab.segment('bus', [ha, hb]);
	lab.addr(ha, 'shmif0', `${OUTER_OURS}/24`);
	lab.addr(hb, 'shmif0', `${OUTER_WGGO}/24`);
	return { lab, ha, hb, bus };
}

if (require_progs(t, ['wireguard-go', 'wg', 'tcpdump'])) {
	t.test('wg_interop_reference_wggo_wggo', async (t) => {
		/* Side A plays "ours" with wireguard-go, so the addresses are those of the other cases. */
		const { ha, hb } = two_hosts(t, 'wggoa', 'wggob');
		const a: Side = { h: ha, ifname: wggo_name('a'), outer: OUTER_OURS, inner: WG_OURS };
		const b: Side = { h: hb, ifname: wggo_name('b'), outer: OUTER_WGGO, inner: WG_WGGO };
		await wggo_start(a.h, a.ifname);
		await wggo_start(b.h, b.ifname);
		await wggo_configure(a.h, a.ifname, { priv: key_priv_ours, peer_pub: key_pub_wggo,
		    endpoint: `${b.outer}:${PORT}`, allowed: `${b.inner}/32`, addr: `${a.inner}/24` });
		await wggo_configure(b.h, b.ifname, { priv: key_priv_wggo, peer_pub: key_pub_ours,
		    endpoint: `${a.outer}:${PORT}`, allowed: `${a.inner}/32`, addr: `${b.inner}/24` });
		await check_ping(a.h, b.outer, { count: 3, wait: 3 });
		await check_ping(a.h, b.inner, { count: 3, wait: 3 });
		await check_ping(b.h, a.inner, { count: 3, wait: 3 });
		const hs = await a.h.check(['wg', 'show', a.ifname, 'latest-handshakes']);
		t.match(hs.stdout, /\t[1-9]\d*$/m, 'a handshake happened');
		await transfer(a, b);
		await transfer(b, a);
	});

	/*
	 * The oracle behind t_basic's wg_badhandshakekey, checked against an
	 * independent implementation: wireguard-go answers a forged
	 * initiation with a real ephemeral (92-byte response) and drops the
	 * forgeries with low-order ephemerals.
	 */
	t.test('wg_interop_reference_forged_init', async (t) => {
		const { lab, ha, hb, bus } = two_hosts(t, 'forger', 'wggo');
		const ifname = wggo_name('f');
		await wggo_start(hb, ifname);
		await wggo_configure(hb, ifname, { priv: fixed_keys.key_priv_peer, peer_pub: fixed_keys.key_pub_local,
		    allowed: '10.0.1.1/32', addr: `${WG_WGGO}/24` });
		const cap = await lab.capture(bus);
		const c = crypto_attach();
		const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
		const forge = (ephemeral: { priv: Uint8Array } | { point: Uint8Array }): Uint8Array => wg_forge_msg_init(c, {
			initiator_priv: b64(fixed_keys.key_priv_local), responder_pub: b64(fixed_keys.key_pub_peer),
			ephemeral, sender_index: randomBytes(4).readUInt32LE(0), timestamp_sec: Date.now() / 1000 - 60,
		});
		const good = await ha.udp_send(OUTER_WGGO, PORT, forge({ priv: c.generate_private_key() }));
		t.ok(await cap.wait_for(udp_re(OUTER_WGGO, PORT, OUTER_OURS, good, 92), 3000),
		    'wireguard-go answers the well-formed forgery', { lines: cap.lines() });
		for (const [n, key] of badkeys.entries()) {
			const sport = await ha.udp_send(OUTER_WGGO, PORT, forge({ point: b64(key) }));
			const lines = await cap.new_lines();
			t.equal(count_lines(lines, udp_re(OUTER_WGGO, PORT, OUTER_OURS, sport)), 0,
			    `wireguard-go drops the forgery with low-order ephemeral ${n}`, { lines });
		}
	});

	for (const initiator of ['ours', 'wggo'] as const) {
		t.test(`wg_interoperability_basic_${initiator}_initiates`, async (t) => {
			const { ha: ours_h, hb: wggo_h } = two_hosts(t, 'ours', 'wggo');
			const ours: Side = { h: ours_h, ifname: 'wg0', outer: OUTER_OURS, inner: WG_OURS };
			const wggo: Side = { h: wggo_h, ifname: wggo_name('p'), outer: OUTER_WGGO, inner: WG_WGGO };
			await wggo_start(wggo.h, wggo.ifname);
			await wggo_configure(wggo.h, wggo.ifname, { priv: key_priv_wggo, peer_pub: key_pub_ours,
			    endpoint: `${ours.outer}:${PORT}`, allowed: `${ours.inner}/32`, addr: `${wggo.inner}/24` });
			await ours_configure(ours.h, { peer_pub: key_pub_wggo, endpoint: `${wggo.outer}:${PORT}` });

			await check_ping(ours.h, wggo.outer, { count: 3, wait: 3 });
			const [from, to] = initiator === 'ours' ? [ours, wggo] : [wggo, ours];
			await check_ping(from.h, to.inner, { count: 3, wait: 3 });
			await check_ping(to.h, from.inner, { count: 3, wait: 3 });
			const ours_hs = await ours.h.check(['wgconfig', 'wg0', 'show', 'peer', 'peer0']);
			t.notMatch(ours_hs.stdout, /latest-handshake: \(never\)/, 'ours: latest-handshake is set');
			const wggo_hs = await wggo.h.check(['wg', 'show', wggo.ifname, 'latest-handshakes']);
			t.match(wggo_hs.stdout, /\t[1-9]\d*$/m, 'wireguard-go: a handshake happened');
			await transfer(from, to);
			await transfer(to, from);
		});
	}

	/*
	 * wg_interoperability_cookie: ours is forced under load before the
	 * peer is added.  Ours initiates; it answers wireguard-go's response
	 * with a cookie reply (64 bytes) and drops it, so the first ping
	 * fails; the retried init (after rekey_timeout, 5 s) gets a response
	 * carrying mac2, and the ping succeeds.  The _wggo_initiates variant
	 * covers a cookie reply to an initiation.
	 */
	for (const initiator of ['ours', 'wggo'] as const) {
		const name = initiator === 'ours' ? 'wg_interoperability_cookie' : 'wg_interoperability_cookie_wggo_initiates';
		t.test(name, async (t) => {
			const { lab, ha: ours_h, hb: wggo_h, bus } = two_hosts(t, 'ours', 'wggo');
			const ours: Side = { h: ours_h, ifname: 'wg0', outer: OUTER_OURS, inner: WG_OURS };
			const wggo: Side = { h: wggo_h, ifname: wggo_name('c'), outer: OUTER_WGGO, inner: WG_WGGO };
			await wggo_start(wggo.h, wggo.ifname);
			await wggo_configure(wggo.h, wggo.ifname, { priv: key_priv_wggo, peer_pub: key_pub_ours,
			    endpoint: `${ours.outer}:${PORT}`, allowed: `${ours.inner}/32`, addr: `${wggo.inner}/24` });
			await setup_wg_common(ours.h, 'wg0', 'inet', WG_OURS, 24, PORT, key_priv_ours);
			await wg_sysctl(ours.h, 'force_underload', 1);
			await add_peer(ours.h, 'wg0', 'peer0', key_pub_wggo, `${wggo.outer}:${PORT}`, `${WG_WGGO}/32`);
			await check_ping(ours.h, wggo.outer, { count: 3, wait: 3 });

			const cap = await lab.capture(bus);
			const [from, to] = initiator === 'ours' ? [ours, wggo] : [wggo, ours];
			await check_ping_fail(from.h, to.inner);
			const lines = await cap.new_lines();
			t.ok(count_lines(lines, udp_re(OUTER_OURS, PORT, OUTER_WGGO, PORT, 64)) >= 1,
			    'ours sent a 64-byte cookie reply', { lines });
			const never = await ours.h.check(['wgconfig', 'wg0']);
			t.match(never.stdout, /latest-handshake: \(never\)/, 'no handshake yet');
			/* The retry carries mac2; poll for it rather than trusting one sleep. */
			const done = await wait_until(async () => {
				const r = await ours.h.exec(['wgconfig', 'wg0']);
				return r.code === 0 && !/latest-handshake: \(never\)/.test(r.stdout);
			}, 12_000, 500);
			t.ok(done, 'the handshake completes after the cookie round trip');
			await check_ping(from.h, to.inner, { count: 3, wait: 3 });
		});
	}
}

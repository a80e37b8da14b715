// SPDX-License-Identifier: BSD-2-Clause
/*
 * The peers of a wg(4) get reply (SIOCGDRVSPEC), written straight from
 * the peers' state through lib/libprop's writer, with no dictionary
 * built first: a listing of 10^5 peers is a hundred megabytes of XML.
 *
 * The data-path thread writes each page of peers (if_wg_intr.ts, which
 * holds them); the driver's main half puts the pages into the reply's
 * "peers" array (if_wg.ts).  Keys in NetBSD's order, which is sorted:
 * the writer refuses any other.
 */

import { prop_writer } from '../../lib/libprop/prop.js';
import { AF_INET, AF_INET6, sockaddr_encode } from '../sys/socket.js';
import {
	WGK_ALLOWEDIPS, WGK_CIDR, WGK_ENDPOINT, WGK_ENDPOINT_HOST, WGK_FAMILY, WGK_IP, WGK_LAST_HANDSHAKE_NSEC,
	WGK_LAST_HANDSHAKE_SEC, WGK_NAME, WGK_PERSISTENT_KEEPALIVE, WGK_PRESHARED_KEY, WGK_PUBLIC_KEY,
	WGK_RX_BYTES, WGK_TX_BYTES,
} from './if_wg.h.js';
import type { WgPeerInfo } from './wg/device.js';

/* Depth of a peer's dictionary in a get reply: <plist><dict> peers <array> here. */
export const WG_GET_PEER_DEPTH = 2;

/*
 * What a get asks for: privileged, the caller may see the preshared keys
 * (NetBSD's KAUTH_..._WG_GETPRIV); brief, for a listing (wg(4)), each
 * peer without the keys and values "show" does not print: its
 * preshared key, its counters and the nanoseconds of its handshake.
 */
export interface wg_get_opts {
	privileged: boolean;
	brief: boolean;
}

/*
 * One peer's dictionary, in the attached form (w.attach): the preshared
 * key, for a privileged caller that is not brief, goes as an attachment,
 * p's own copy of it, never as text; otherwise that copy is wiped here.
 * What is public is written inline.  host: the name its endpoint was
 * resolved from (if_wg_dns.ts).
 */
export function wg_peer_externalize(w: prop_writer, p: WgPeerInfo, o: wg_get_opts, host?: string): void {
	w.dict_begin();
	if (p.allowed_ips.length > 0) {
		w.key(WGK_ALLOWEDIPS);
		w.array_begin();
		for (const a of p.allowed_ips) {
			w.dict_begin();
			w.key(WGK_CIDR);
			w.uint(a.cidr);
			w.key(WGK_FAMILY);
			w.uint(a.family === 4 ? AF_INET : AF_INET6);
			w.key(WGK_IP);
			w.data_inline(a.addr);
			w.dict_end();
		}
		w.array_end();
	}
	if (p.endpoint !== null) {
		w.key(WGK_ENDPOINT);
		w.data_inline(sockaddr_encode(p.endpoint));
	}
	if (host !== undefined) {
		w.key(WGK_ENDPOINT_HOST);
		w.string(host);
	}
	if (!o.brief) {
		w.key(WGK_LAST_HANDSHAKE_NSEC);
		w.uint(p.last_handshake_nsec);
	}
	w.key(WGK_LAST_HANDSHAKE_SEC);
	w.uint(p.last_handshake_sec);
	if (p.name !== '') {
		w.key(WGK_NAME);
		w.string(p.name);
	}
	w.key(WGK_PERSISTENT_KEEPALIVE);
	w.uint(p.persistent_keepalive);
	if (p.preshared_key !== null) {
		if (o.privileged && !o.brief) {
			/* An attachment: it leaves in w.attach, whoever frames it wipes it. */
			w.key(WGK_PRESHARED_KEY);
			w.data(p.preshared_key);
		} else {
			p.preshared_key.fill(0);
		}
	}
	w.key(WGK_PUBLIC_KEY);
	w.data_inline(p.public_key);
	if (!o.brief) {
		w.key(WGK_RX_BYTES);
		w.uint(p.rx_bytes);
		w.key(WGK_TX_BYTES);
		w.uint(p.tx_bytes);
	}
	w.dict_end();
}

/* What a peer with two allowed IPs takes (about 860 bytes): a page's writer is made that large at once. */
const WG_GET_PEER_BYTES = 1024;

/*
 * The dictionaries of a page of peers, as a fragment for the reply's
 * "peers" array (wiped by whoever copies it in, or moved to the thread
 * that does: its ArrayBuffer is its own), and the preshared keys it
 * refers to, numbered from o.ref_base (the attachments before the page in
 * the reply); each is a buffer of its own, off the V8 heap, to be moved
 * and wiped the same way.  hosts: endpoint host names by peer name.
 */
export function wg_peers_externalize(peers: readonly WgPeerInfo[], o: wg_get_opts & { ref_base: number },
    hosts: ReadonlyMap<string, string>): { xml: Uint8Array; attach: Uint8Array[] } {
	const w = new prop_writer({ header: false, depth: WG_GET_PEER_DEPTH, size: WG_GET_PEER_BYTES * peers.length,
	    attach: true, ref_base: o.ref_base });
	for (const p of peers)
		wg_peer_externalize(w, p, o, hosts.size === 0 ? undefined : hosts.get(p.name));
	return { xml: w.bytes(), attach: w.attach ?? [] };
}

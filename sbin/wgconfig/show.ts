// SPDX-License-Identifier: BSD-2-Clause
/*
 * wgconfig's "show" output, built from the dictionary SIOCGDRVSPEC
 * returns.  Layout as NetBSD's wgconfig prints it (tabs, field names,
 * "(none)"/"(hidden)"/"(never)"), with the deviations of share/doc/DESIGN.md §6:
 * IPv6 endpoints are bracketed, every peer is shown whatever their number,
 * and a peer with a persistent keepalive (an extension) gets one more line.
 *
 * The functions return lines; warnings about malformed entries go to
 * stderr at once, as NetBSD's warnx() calls do.
 */

import {
	type PropDictionary, type PropObject,
	prop_dictionary_get, prop_dictionary_get_data, prop_dictionary_get_int64,
	prop_dictionary_get_string, prop_dictionary_get_uint16, prop_dictionary_get_uint64, prop_dictionary_get_uint8,
} from '../../lib/libprop/prop.js';
import { ctime } from '../../lib/libc/ctime.js';
import { errx, warnx } from '../../lib/libc/err.js';
import { inet_ntop } from '../../lib/libc/inet.js';
import { wg_key_to_base64 } from '../../lib/libwg/key.js';
import { WG_KEY_LEN } from '../../sys/crypto/crypto.js';
import { sockaddr_decode, sockaddr_format } from '../../lib/libwg/sockaddr.js';
import { AF_INET, AF_INET6 } from '../../sys/sys/socket.js';
import {
	WGK_ALLOWEDIPS, WGK_CIDR, WGK_ENDPOINT, WGK_ENDPOINT_HOST, WGK_FAMILY, WGK_IP, WGK_LAST_HANDSHAKE_SEC,
	WGK_LISTEN_PORT, WGK_NAME, WGK_PEERS, WGK_PERSISTENT_KEEPALIVE, WGK_PRESHARED_KEY,
	WGK_PRIVATE_KEY, WGK_PUBLIC_KEY, WGK_RX_BYTES, WGK_TX_BYTES,
} from '../../sys/net/if_wg.h.js';

export function format_key(o: PropObject | undefined): string {
	if (o === undefined)
		return '(none)';
	if (o.type !== 'data')
		errx(1, 'invalid key');
	if (o.value.length !== WG_KEY_LEN)
		errx(1, `invalid key len: ${o.value.length}`);
	return wg_key_to_base64(o.value);
}

function format_endpoint(o: PropObject): string {
	const sa = o.type === 'data' ? sockaddr_decode(o.value) : null;
	if (sa === null)
		errx(1, 'invalid endpoint');
	return sockaddr_format(sa);
}

/* null: the peer has no allowedips array, and NetBSD prints no line then. */
function format_allowed_ips(peer: PropDictionary): string | null {
	const o = prop_dictionary_get(peer, WGK_ALLOWEDIPS);
	if (o === undefined)
		return null;
	if (o.type !== 'array')
		errx(1, 'invalid allowedips');
	let out = '';
	for (const e of o.value) {
		if (e.type !== 'dictionary') {
			warnx('invalid allowedip');
			continue;
		}
		const family = prop_dictionary_get_uint8(e, WGK_FAMILY);
		if (family === null) {
			warnx('allowed-ip without family');
			continue;
		}
		const cidr = prop_dictionary_get_uint8(e, WGK_CIDR);
		if (cidr === null) {
			warnx('allowed-ip without cidr');
			continue;
		}
		const ip = prop_dictionary_get_data(e, WGK_IP);
		if (ip === null) {
			warnx('allowed-ip without ip');
			continue;
		}
		if (family !== AF_INET && family !== AF_INET6) {
			warnx(`unknown family ${family}`);
			continue;
		}
		if (ip.length !== (family === AF_INET ? 4 : 16)) {
			warnx('allowed-ip bad ip length');
			continue;
		}
		out += `${out === '' ? '' : ','}${inet_ntop(ip)}/${cidr}`;
	}
	return out === '' ? '(none)' : out;
}

/* The five (or six) fields of one peer, each line starting with prefix. */
export function show_peer_lines(peer: PropDictionary, prefix: string, show_psk: boolean, out: string[]): void {
	const pub = prop_dictionary_get(peer, WGK_PUBLIC_KEY);
	if (pub === undefined) {
		warnx('peer without public-key');
		return;
	}
	out.push(`${prefix}public-key: ${format_key(pub)}`);
	const ep = prop_dictionary_get(peer, WGK_ENDPOINT);
	const host = prop_dictionary_get_string(peer, WGK_ENDPOINT_HOST);
	out.push(`${prefix}endpoint: ${ep === undefined ? '(none)' : format_endpoint(ep)}` +
	    (host !== null ? ` (${host})` : ''));
	out.push(`${prefix}preshared-key: ${show_psk ? format_key(prop_dictionary_get(peer, WGK_PRESHARED_KEY)) : '(hidden)'}`);
	const aips = format_allowed_ips(peer);
	if (aips !== null)
		out.push(`${prefix}allowed-ips: ${aips}`);
	const sec = prop_dictionary_get_int64(peer, WGK_LAST_HANDSHAKE_SEC);
	if (sec === null)
		out.push(`${prefix}latest-handshake: (none)`);
	else if (sec > 0n)
		out.push(`${prefix}latest-handshake: ${ctime(Number(sec))}`);
	else
		out.push(`${prefix}latest-handshake: (never)`);
	/* Extension: only present when set, so NetBSD-configured peers look exactly as on NetBSD. */
	const ka = prop_dictionary_get_uint16(peer, WGK_PERSISTENT_KEEPALIVE);
	if (ka !== null && ka > 0)
		out.push(`${prefix}persistent-keepalive: every ${ka} seconds`);
}

function peers_of(d: PropDictionary): PropDictionary[] {
	const o = prop_dictionary_get(d, WGK_PEERS);
	if (o === undefined)
		return [];
	if (o.type !== 'array')
		errx(1, 'invalid peers');
	return o.value.map((p) => {
		if (p.type !== 'dictionary')
			errx(1, 'invalid peer');
		return p;
	});
}

/* "show all" starts with the interface's lines; the peers follow, page by page. */
export function show_head_lines(ifname: string, d: PropDictionary): string[] {
	const out: string[] = [`interface: ${ifname}`, '\tprivate-key: (hidden)'];
	const port = prop_dictionary_get_uint16(d, WGK_LISTEN_PORT);
	out.push(`\tlisten-port: ${port === null ? '(none)' : port}`);
	return out;
}

/* One entry of "show all": a peer as the reply's "peers" array gives it (PropEach), then dropped. */
export function show_peers_entry(o: PropObject, out: string[]): void {
	if (o.type !== 'dictionary')
		errx(1, 'invalid peer');
	const name = prop_dictionary_get_string(o, WGK_NAME);
	out.push(`\tpeer: ${name ?? '(none)'}`);
	show_peer_lines(o, '\t\t', false, out);
}

/* The peers left in d: none when they came one by one (show_peers_entry); "invalid peers" if not an array. */
export function show_peers_lines(d: PropDictionary, out: string[]): void {
	for (const peer of peers_of(d))
		show_peers_entry(peer, out);
}

/*
 * Extension, after NetBSD's lines so that those stay as they are: what
 * the kernel counts for the peer (when it sends the counters), as
 *	transfer: R bytes received, S bytes sent
 *	latest-handshake-age: N seconds		("(never)" without one)
 * N is whole seconds from the handshake to now_sec.
 */
export function show_peer_stats_lines(peer: PropDictionary, prefix: string, now_sec: number, out: string[]): void {
	const rx = prop_dictionary_get_uint64(peer, WGK_RX_BYTES);
	const tx = prop_dictionary_get_uint64(peer, WGK_TX_BYTES);
	if (rx === null || tx === null)
		return;
	out.push(`${prefix}transfer: ${rx} bytes received, ${tx} bytes sent`);
	const sec = prop_dictionary_get_int64(peer, WGK_LAST_HANDSHAKE_SEC);
	out.push(`${prefix}latest-handshake-age: ` +
	    (sec === null || sec <= 0n ? '(never)' : `${Math.max(0, now_sec - Number(sec))} seconds`));
}

/* null when there is no peer by that name. */
export function show_peer_by_name(d: PropDictionary, target: string, show_psk: boolean): string[] | null {
	for (const peer of peers_of(d)) {
		const name = prop_dictionary_get_string(peer, WGK_NAME);
		if (name === null || name !== target)
			continue;
		const out = [`peer: ${name}`];
		show_peer_lines(peer, '\t', show_psk, out);
		show_peer_stats_lines(peer, '\t', Math.floor(Date.now() / 1000), out);
		return out;
	}
	return null;
}

export function show_private_key_line(d: PropDictionary): string {
	return `private-key: ${format_key(prop_dictionary_get(d, WGK_PRIVATE_KEY))}`;
}

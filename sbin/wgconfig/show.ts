// SPDX-License-Identifier: BSD-2-Clause
/*
 * wgconfig's "show" output, built from the dictionary SIOCGDRVSPEC
 * returns.  Layout as NetBSD's wgconfig prints it (tabs, field names,
 * "(none)"/"(hidden)"/"(never)"), with the deviations of share/doc/DESIGN.md §6:
 * IPv6 endpoints are bracketed, every peer is shown whatever their number,
 * and a peer with a persistent keepalive (an extension) gets one more line.
 *
 * Peers are read from the reply's "peers" array one at a time, value by
 * value where they lie in the text (lib/libprop's PropScan), into a
 * peer_fields, and formatted from that: a listing of 10^5 peers makes
 * no dictionary per peer.  What NetBSD's getters would find wrong is
 * kept as INVALID and reported when its line is formatted, in the order
 * of the lines, as NetBSD's wgconfig reports it.  Warnings about
 * malformed entries go to stderr at once, as NetBSD's warnx() calls do.
 */

import {
	type PropDictionary, type PropNumber, type PropObject, type PropScan,
	prop_dictionary_get, prop_dictionary_get_uint16,
} from '../../lib/libprop/prop.js';
import { ctime } from '../../lib/libc/ctime.js';
import { errx, warnx } from '../../lib/libc/err.js';
import { inet_ntop } from '../../lib/libc/inet.js';
import { b64_ntop_into, b64_ntop_len } from '../../lib/libc/b64.js';
import { wg_key_to_base64 } from '../../lib/libwg/key.js';
import { WG_KEY_LEN } from '../../sys/crypto/crypto.js';
import { sockaddr_decode, sockaddr_format } from '../../lib/libwg/sockaddr.js';
import { AF_INET, AF_INET6 } from '../../sys/sys/socket.js';
import {
	WGK_ALLOWEDIPS, WGK_CIDR, WGK_ENDPOINT, WGK_ENDPOINT_HOST, WGK_FAMILY, WGK_IP, WGK_LAST_HANDSHAKE_SEC,
	WGK_LISTEN_PORT, WGK_NAME, WGK_PEERS, WGK_PERSISTENT_KEEPALIVE, WGK_PRESHARED_KEY,
	WGK_PRIVATE_KEY, WGK_PUBLIC_KEY, WGK_RX_BYTES, WGK_TX_BYTES,
} from '../../sys/net/if_wg.h.js';

/* What NetBSD's getter would not return: the wrong type. */
const INVALID = Symbol('invalid');
type Field<T> = T | null | typeof INVALID;

/* A key as its line shows it: null for "(none)"; a key of the wrong type or length ends wgconfig, as on NetBSD. */
function key_check(v: Field<Uint8Array>): Uint8Array | null {
	if (v === INVALID)
		errx(1, 'invalid key');
	if (v !== null && v.length !== WG_KEY_LEN)
		errx(1, `invalid key len: ${v.length}`);
	return v;
}

function format_key(o: PropObject | undefined): string {
	const k = key_check(o === undefined ? null : o.type === 'data' ? o.value : INVALID);
	return k === null ? '(none)' : wg_key_to_base64(k);
}

/*
 * The text of a show, written as UTF-8 bytes as it is made: a listing of
 * 10^5 peers is 600,000 short lines, and strings for them would cost
 * more to join and encode than the lines cost to make.  take() lends
 * the bytes, a view of the buffer, which is written into again from the
 * start: the borrower writes them out and wipes them first.  One buffer
 * for every page, not a new one each (each new one's pages are faulted
 * in, 10^5 peers' worth).
 */
export class show_buf {
	private b = Buffer.allocUnsafeSlow(1 << 16);
	private n = 0;

	private room(need: number): Buffer {
		if (this.n + need > this.b.length) {
			const b = Buffer.allocUnsafeSlow(Math.max(2 * this.b.length, this.n + need));
			this.b.copy(b, 0, 0, this.n);
			this.b.fill(0, 0, this.n);
			this.b = b;
		}
		return this.b;
	}

	/* ASCII (all but peer names, as a rule) byte by byte, in place; the rest through the encoder. */
	str(s: string): this {
		const b = this.room(3 * s.length);
		let n = this.n;
		for (let i = 0; i < s.length; i++) {
			const c = s.charCodeAt(i);
			if (c >= 0x80) {
				this.n += b.write(s, this.n, 'utf8');
				return this;
			}
			b[n++] = c;
		}
		this.n = n;
		return this;
	}

	/* Bytes as they are (a line head made once, line_heads). */
	bytes(a: Uint8Array): this {
		const b = this.room(a.length);
		let n = this.n;
		for (let i = 0; i < a.length; i++)
			b[n++] = a[i];
		this.n = n;
		return this;
	}

	byte(c: number): this {
		this.room(1)[this.n++] = c;
		return this;
	}

	/* A key in base64, encoded in place. */
	key(k: Uint8Array): this {
		this.n = b64_ntop_into(k, this.room(b64_ntop_len(k.length)), this.n);
		return this;
	}

	get length(): number {
		return this.n;
	}

	take(): Uint8Array {
		const out = this.b.subarray(0, this.n);
		this.n = 0;
		return out;
	}
}

/* A number in [min, max], as prop_dictionary_get_{u,}intN() accept it; null otherwise. */
function number_in(n: PropNumber, min: bigint, max: bigint): bigint | null {
	return n.value >= min && n.value <= max ? n.value : null;
}

const UINT16_MAX = 0xffffn;
const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/* The value under a key, as the getter of that range would give it: null for another type or range. */
function scan_number(sc: PropScan, min: bigint, max: bigint): bigint | null {
	if (sc.peek() !== 'number') {
		sc.skip();
		return null;
	}
	return number_in(sc.number(), min, max);
}

function scan_string(sc: PropScan): string | null {
	if (sc.peek() !== 'string') {
		sc.skip();
		return null;
	}
	return sc.string();
}

/* Data, or INVALID for another type (then wiped and dropped). */
function scan_data(sc: PropScan): Field<Uint8Array> {
	if (sc.peek() !== 'data') {
		sc.skip();
		return INVALID;
	}
	return sc.data();
}

/* One peer of a get reply, as read; data values are wiped by peer_fields_wipe. */
interface peer_fields {
	name: string | null;
	public_key: Field<Uint8Array>;
	endpoint: Field<Uint8Array>;
	endpoint_host: string | null;
	preshared_key: Field<Uint8Array>;
	/* The allowed-ips line's text, null without the array, and the warnings its entries gave. */
	allowed_ips: Field<string>;
	allowed_ips_warnings: string[] | null;
	last_handshake_sec: bigint | null;
	persistent_keepalive: bigint | null;
	rx_bytes: bigint | null;
	tx_bytes: bigint | null;
}

function peer_fields_wipe(f: peer_fields): void {
	for (const v of [f.public_key, f.endpoint, f.preshared_key])
		if (v instanceof Uint8Array)
			v.fill(0);
}

/* One entry of "allowedips": "ADDR/CIDR", or null after the warning NetBSD gives. */
function scan_allowed_ip(sc: PropScan, warn: (w: string) => void): string | null {
	if (sc.peek() !== 'dictionary') {
		sc.skip();
		warn('invalid allowedip');
		return null;
	}
	let family: bigint | null = null;
	let cidr: bigint | null = null;
	let ip: Field<Uint8Array> = null;
	if (sc.dict_begin()) {
		for (let k = sc.dict_key(); k !== null; k = sc.dict_key()) {
			if (k === WGK_FAMILY)
				family = scan_number(sc, 0n, 0xffn);
			else if (k === WGK_CIDR)
				cidr = scan_number(sc, 0n, 0xffn);
			else if (k === WGK_IP)
				ip = scan_data(sc);
			else
				sc.skip();
		}
	}
	if (family === null)
		warn('allowed-ip without family');
	else if (cidr === null)
		warn('allowed-ip without cidr');
	else if (ip === null || ip === INVALID)
		warn('allowed-ip without ip');
	else if (family !== BigInt(AF_INET) && family !== BigInt(AF_INET6))
		warn(`unknown family ${family}`);
	else if (ip.length !== (family === BigInt(AF_INET) ? 4 : 16))
		warn('allowed-ip bad ip length');
	else
		return `${inet_ntop(ip)}/${cidr}`;
	return null;
}

function scan_allowed_ips(sc: PropScan, f: peer_fields): void {
	f.allowed_ips_warnings = null;
	if (sc.peek() !== 'array') {
		sc.skip();
		f.allowed_ips = INVALID;
		return;
	}
	const warn = (w: string): void => {
		(f.allowed_ips_warnings ??= []).push(w);
	};
	let out = '';
	if (sc.array_begin()) {
		while (sc.array_more()) {
			const a = scan_allowed_ip(sc, warn);
			if (a !== null)
				out += out === '' ? a : `,${a}`;
		}
	}
	f.allowed_ips = out === '' ? '(none)' : out;
}

/* The peer the scanner is at (a "peers" element); one that is no dictionary ends wgconfig, as on NetBSD. */
function scan_peer(sc: PropScan): peer_fields {
	if (sc.peek() !== 'dictionary')
		errx(1, 'invalid peer');
	const f: peer_fields = {
		name: null, public_key: null, endpoint: null, endpoint_host: null, preshared_key: null,
		allowed_ips: null, allowed_ips_warnings: null,
		last_handshake_sec: null, persistent_keepalive: null, rx_bytes: null, tx_bytes: null,
	};
	if (!sc.dict_begin())
		return f;
	for (let k = sc.dict_key(); k !== null; k = sc.dict_key()) {
		switch (k) {
		case WGK_NAME:
			f.name = scan_string(sc);
			break;
		case WGK_PUBLIC_KEY:
			f.public_key = scan_data(sc);
			break;
		case WGK_ENDPOINT:
			f.endpoint = scan_data(sc);
			break;
		case WGK_ENDPOINT_HOST:
			f.endpoint_host = scan_string(sc);
			break;
		case WGK_PRESHARED_KEY:
			f.preshared_key = scan_data(sc);
			break;
		case WGK_ALLOWEDIPS:
			scan_allowed_ips(sc, f);
			break;
		case WGK_LAST_HANDSHAKE_SEC:
			f.last_handshake_sec = scan_number(sc, INT64_MIN, INT64_MAX);
			break;
		case WGK_PERSISTENT_KEEPALIVE:
			f.persistent_keepalive = scan_number(sc, 0n, UINT16_MAX);
			break;
		case WGK_RX_BYTES:
			f.rx_bytes = scan_number(sc, 0n, UINT64_MAX);
			break;
		case WGK_TX_BYTES:
			f.tx_bytes = scan_number(sc, 0n, UINT64_MAX);
			break;
		default:
			sc.skip();
			break;
		}
	}
	return f;
}

function endpoint_text(v: Uint8Array | typeof INVALID): string {
	const sa = v === INVALID ? null : sockaddr_decode(v);
	if (sa === null)
		errx(1, 'invalid endpoint');
	return sockaddr_format(sa);
}

/* The start of each line of a peer, with its prefix, as bytes: a listing writes them 10^5 times. */
interface line_heads {
	public_key: Uint8Array;
	endpoint: Uint8Array;
	preshared_key: Uint8Array;
	allowed_ips: Uint8Array;
	latest_handshake: Uint8Array;
}

const heads_of = new Map<string, line_heads>();

function line_heads(prefix: string): line_heads {
	let h = heads_of.get(prefix);
	if (h === undefined) {
		const b = (label: string): Uint8Array => Buffer.from(`${prefix}${label}: `, 'utf8');
		h = {
			public_key: b('public-key'), endpoint: b('endpoint'), preshared_key: b('preshared-key'),
			allowed_ips: b('allowed-ips'), latest_handshake: b('latest-handshake'),
		};
		heads_of.set(prefix, h);
	}
	return h;
}

const NL = 0x0a;

/* The five (or six) fields of one peer, each line starting with prefix. */
function peer_write(out: show_buf, f: peer_fields, prefix: string, show_psk: boolean): void {
	const pub = key_check(f.public_key);
	if (pub === null) {
		warnx('peer without public-key');
		return;
	}
	const h = line_heads(prefix);
	out.bytes(h.public_key).key(pub).byte(NL);
	out.bytes(h.endpoint).str(f.endpoint === null ? '(none)' : endpoint_text(f.endpoint));
	if (f.endpoint_host !== null)
		out.str(` (${f.endpoint_host})`);
	out.byte(NL).bytes(h.preshared_key);
	const psk = show_psk ? key_check(f.preshared_key) : null;
	if (psk !== null)
		out.key(psk);
	else
		out.str(show_psk ? '(none)' : '(hidden)');
	out.byte(NL);
	if (f.allowed_ips === INVALID)
		errx(1, 'invalid allowedips');
	f.allowed_ips_warnings?.forEach((w) => warnx(w));
	if (f.allowed_ips !== null)
		out.bytes(h.allowed_ips).str(f.allowed_ips).byte(NL);
	const sec = f.last_handshake_sec;
	out.bytes(h.latest_handshake).str(sec === null ? '(none)' : sec > 0n ? ctime(Number(sec)) : '(never)').byte(NL);
	/* Extension: only present when set, so NetBSD-configured peers look exactly as on NetBSD. */
	const ka = f.persistent_keepalive;
	if (ka !== null && ka > 0n)
		out.str(`${prefix}persistent-keepalive: every ${ka} seconds\n`);
}

/* "show all" starts with the interface's lines; the peers follow, page by page. */
export function show_head_text(ifname: string, d: PropDictionary): string {
	const port = prop_dictionary_get_uint16(d, WGK_LISTEN_PORT);
	return `interface: ${ifname}\n\tprivate-key: (hidden)\n\tlisten-port: ${port === null ? '(none)' : port}\n`;
}

const PEER_HEAD = Buffer.from('\tpeer: ', 'latin1');

/* One peer of "show all", read from the reply's "peers" array (PropEach) and dropped. */
export function show_peers_entry(out: show_buf, sc: PropScan): void {
	const f = scan_peer(sc);
	try {
		out.bytes(PEER_HEAD).str(f.name ?? '(none)').byte(NL);
		peer_write(out, f, '\t\t', false);
	} finally {
		peer_fields_wipe(f);
	}
}

/* What is left of "peers" once its elements went one by one: "invalid peers" if it was no array. */
export function show_peers_check(d: PropDictionary): void {
	const o = prop_dictionary_get(d, WGK_PEERS);
	if (o !== undefined && o.type !== 'array')
		errx(1, 'invalid peers');
}

/*
 * Extension, after NetBSD's lines so that those stay as they are: what
 * the kernel counts for the peer (when it sends the counters), as
 *	transfer: R bytes received, S bytes sent
 *	latest-handshake-age: N seconds		("(never)" without one)
 * N is whole seconds from the handshake to now_sec.
 */
function peer_stats_write(out: show_buf, f: peer_fields, prefix: string, now_sec: number): void {
	if (f.rx_bytes === null || f.tx_bytes === null)
		return;
	const sec = f.last_handshake_sec;
	out.str(`${prefix}transfer: ${f.rx_bytes} bytes received, ${f.tx_bytes} bytes sent\n`);
	out.str(`${prefix}latest-handshake-age: ` +
	    (sec === null || sec <= 0n ? '(never)' : `${Math.max(0, now_sec - Number(sec))} seconds`) + '\n');
}

/* "show peer NAME": a PropEach function for the reply's peers; it writes the first by that name into out. */
export function show_peer_by_name(out: show_buf, target: string, show_psk: boolean): (sc: PropScan) => void {
	let found = false;
	return (sc: PropScan): void => {
		const f = scan_peer(sc);
		try {
			if (!found && f.name === target) {
				found = true;
				out.str(`peer: ${target}\n`);
				peer_write(out, f, '\t', show_psk);
				peer_stats_write(out, f, '\t', Math.floor(Date.now() / 1000));
			}
		} finally {
			peer_fields_wipe(f);
		}
	};
}

export function show_private_key_line(d: PropDictionary): string {
	return `private-key: ${format_key(prop_dictionary_get(d, WGK_PRIVATE_KEY))}`;
}

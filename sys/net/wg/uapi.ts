// SPDX-License-Identifier: BSD-2-Clause
/*
 * The cross-platform userspace configuration protocol (UAPI), the text
 * form wg(8) and wg-quick(8) speak over /var/run/wireguard/IF.sock,
 * applied to a WgDevice.
 *
 *   get=1\n\n            -> key=value lines, errno=0, blank line
 *   set=1\n key=value... \n -> errno=N, blank line
 *
 * Keys are lowercase hex.  Device keys must precede the first
 * public_key; after it every key belongs to that peer.  A set request
 * is all or nothing: every line is parsed and checked first
 * (uapi_set_parse), and only a request without a bad line is applied,
 * in order.  wireguard-go applies each line as it reads it, so a bad
 * line leaves what came before it applied.  Errors are negative errno
 * values.  listen_port and fwmark belong to the driver's sockets, so
 * they go through hooks; the driver prepares them from the parsed
 * request before anything changes (sys/net/if_wg_uapi.ts).
 *
 * Peers created here have no NetBSD name; they get a stable one derived
 * from the public key (see uapi_peer_name), so wgconfig can show and
 * delete them.
 */

import type { WgAllowedIp, WgDevice, WgEndpoint, WgPeer } from './device.js';
import { EINVAL, EPROTO, ErrnoError } from '../../sys/errno.js';
import { crypto_buf_grow, crypto_key_alloc } from '../../crypto/crypto_util.js';
import { inet_ntop, inet_pton4, inet_pton6 } from '../../../lib/libc/inet.js';


export interface uapi_hooks {
	/* Rebind the sockets; 0 or a positive errno. */
	set_listen_port(port: number): number;
	set_fwmark(mark: number): number;
	zones?: uapi_zones;
}

export interface uapi_device_state {
	listen_port: number;
	fwmark: number;
	zones?: uapi_zones;
}

/*
 * 64 hex digits, b[start..end), decoded straight from the request's
 * bytes into a fresh array: no JS string of the key is made, and
 * Buffer.from(s, 'hex') would leave a copy in Node's shared Buffer
 * pool, beyond the reach of the caller's fill(0).  A secret (private or
 * preshared key) goes off the V8 heap (crypto_key_alloc), where the
 * collector cannot copy it.
 */
function unhex32(b: Uint8Array, start: number, end: number, secret: boolean): Uint8Array | null {
	if (end - start !== 64)
		return null;
	const k = secret ? crypto_key_alloc(32) : new Uint8Array(32);
	for (let i = 0; i < 32; i++) {
		const hi = hexval(b[start + 2 * i]);
		const lo = hexval(b[start + 2 * i + 1]);
		if ((hi | lo) < 0) {
			k.fill(0);
			return null;
		}
		k[i] = (hi << 4) | lo;
	}
	return k;
}

/* A hex digit's value, -1 for anything else (no substring per digit: keys come by the 100,000). */
function hexval(c: number): number {
	if (c >= 0x30 && c <= 0x39)
		return c - 0x30;
	c |= 0x20;
	return c >= 0x61 && c <= 0x66 ? c - 0x61 + 10 : -1;
}

function is_zero(b: Uint8Array): boolean {
	let acc = 0;
	for (let i = 0; i < b.length; i++)
		acc |= b[i];
	return acc === 0;
}

function ip_text(a: Uint8Array): string {
	return inet_ntop(a);
}

/*
 * IPv6 zones by interface name ("fe80::1%eth0", as wg(8) writes them
 * and wireguard-go prints them): the host's interfaces are the driver's
 * to know, not the core's.
 */
export interface uapi_zones {
	index(name: string): number;		/* 0: no such interface */
	name(index: number): string | null;	/* null: none with that index */
}

/* "192.0.2.1:51820", "[2001:db8::1]:51820", "[fe80::1%eth0]:51820" (%N when the index has no name). */
export function uapi_endpoint_text(ep: WgEndpoint, zones?: uapi_zones): string {
	if (ep.family === 4)
		return `${ip_text(ep.addr)}:${ep.port}`;
	const scope = ep.scope_id ?? 0;
	const zone = scope === 0 ? '' : `%${zones?.name(scope) ?? scope}`;
	return `[${ip_text(ep.addr)}${zone}]:${ep.port}`;
}

/* A zone's interface index: a number, or a name the zones know; 0 if neither. */
function uapi_zone_index(zone: string, zones?: uapi_zones): number {
	if (/^[0-9]{1,10}$/.test(zone))
		return Number(zone) <= 0xffffffff ? Number(zone) : 0;
	if (zones === undefined || !/^[A-Za-z0-9_.:-]{1,15}$/.test(zone))
		return 0;
	return zones.index(zone);
}

/* Numeric text to 4 or 16 bytes, null if it is neither. */
export function uapi_parse_ip(s: string): { family: 4 | 6; addr: Uint8Array } | null {
	const a4 = inet_pton4(s);
	if (a4 !== null)
		return { family: 4, addr: a4 };
	const a6 = inet_pton6(s);
	return a6 === null ? null : { family: 6, addr: a6 };
}

/*
 * "a.b.c.d:port", "[v6]:port" or "[v6%zone]:port" (numeric only: wg
 * resolves names itself).  A zone must name an interface; it is kept
 * for IPv6 only, as getaddrinfo does.
 */
export function uapi_parse_endpoint(s: string, zones?: uapi_zones): WgEndpoint | null {
	let host: string, port: string;
	let scope_id = 0;
	const m6 = /^\[([^\]%]+)(?:%([^\]]*))?\]:(\d+)$/.exec(s);
	if (m6 !== null) {
		host = m6[1];
		port = m6[3];
		if (m6[2] !== undefined) {
			scope_id = uapi_zone_index(m6[2], zones);
			if (scope_id === 0)
				return null;
		}
	} else {
		const i = s.lastIndexOf(':');
		if (i < 0)
			return null;
		host = s.slice(0, i);
		port = s.slice(i + 1);
	}
	if (!/^\d{1,5}$/.test(port) || Number(port) > 65535)
		return null;
	const ip = uapi_parse_ip(host);
	if (ip === null)
		return null;
	return { family: ip.family, addr: ip.addr, port: Number(port), scope_id: ip.family === 6 ? scope_id : 0 };
}

export function uapi_parse_allowed_ip(s: string): WgAllowedIp | null {
	const i = s.indexOf('/');
	const ip = uapi_parse_ip(i < 0 ? s : s.slice(0, i));
	if (ip === null)
		return null;
	const max = ip.family === 4 ? 32 : 128;
	const c = i < 0 ? String(max) : s.slice(i + 1);
	if (!/^\d{1,3}$/.test(c) || Number(c) > max)
		return null;
	return { family: ip.family, addr: ip.addr, cidr: Number(c) };
}

/* A name for a peer that came without one: stable, from its public key, at most 15 bytes. */
export function uapi_peer_name(dev: WgDevice, public_key: Uint8Array): string {
	const b64 = Buffer.from(public_key).toString('base64').replace(/[+/=]/g, '');
	let name = 'k-' + b64.slice(0, 12);
	for (let n = 1; dev.peer_lookup_name(name) !== undefined; n++)
		name = `k-${b64.slice(0, 10)}-${n}`;
	return name;
}

/*
 * A get reply's text, written as ASCII bytes into one buffer that grows
 * by doubling: no string per line or per key (a reply of 10^5 peers is
 * 4 * 10^6 lines).  The bytes spell keys in hex: whoever is done with
 * them wipes them.
 */
class uapi_text {
	buf = new Uint8Array(1 << 16);
	len = 0;

	private reserve(n: number): void {
		this.buf = crypto_buf_grow(this.buf, this.len, n);
	}

	/* Text, nearly always ASCII (a zone's interface name may not be: UTF-8 then). */
	ascii(s: string): void {
		this.reserve(3 * s.length);
		const buf = this.buf;
		let o = this.len;
		for (let i = 0; i < s.length; i++) {
			const c = s.charCodeAt(i);
			if (c >= 0x80) {
				this.len += new TextEncoder().encodeInto(s, buf.subarray(this.len)).written;
				return;
			}
			buf[o++] = c;
		}
		this.len = o;
	}

	/* "key=" + the bytes in lowercase hex + "\n". */
	hex_line(key: string, b: Uint8Array | null, n: number): void {
		this.ascii(key);
		this.reserve(2 * n + 1);
		const buf = this.buf;
		let o = this.len;
		for (let i = 0; i < n; i++) {
			const x = b === null ? 0 : b[i];
			buf[o++] = HEX_DIGITS[x >>> 4];
			buf[o++] = HEX_DIGITS[x & 15];
		}
		buf[o++] = 0x0a;
		this.len = o;
	}

	/* "key=" + a non-negative integer in decimal + "\n". */
	uint_line(key: string, v: number): void {
		this.ascii(key);
		this.ascii(String(v));
		this.reserve(1);
		this.buf[this.len++] = 0x0a;
	}

	/* The text so far (a copy), this buffer wiped. */
	take(): Uint8Array {
		const out = this.buf.slice(0, this.len);
		this.buf.fill(0, 0, this.len);
		this.len = 0;
		return out;
	}
}

const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/*
 * A get reply is long with many peers; it is made in pages so that
 * neither side holds all of it at once.  uapi_get_page(dev, st, 0, n)
 * starts with the device's lines; each call gives the lines of up to n
 * peers (oldest first, as wireguard-go lists them and wg(8) prints them)
 * and the cursor of the next page; with no more peers, the reply's end.
 * The text is ASCII bytes, keys in hex among them: the caller wipes it
 * once sent.
 */
export function uapi_get_page(dev: WgDevice, st: uapi_device_state, cursor: number, max: number):
    { text: Uint8Array; next: number } {
	const out = new uapi_text();
	if (cursor === 0) {
		const priv = dev.private_key();
		if (priv !== null) {
			out.hex_line('private_key=', priv, priv.length);
			priv.fill(0);
		}
		if (st.listen_port !== 0)
			out.uint_line('listen_port=', st.listen_port);
		if (st.fwmark !== 0)
			out.uint_line('fwmark=', st.fwmark);
	}
	const page = dev.peers_page(cursor, max, false);
	for (const peer of page.peers) {
		const p = dev.peer_info(peer);
		out.hex_line('public_key=', p.public_key, p.public_key.length);
		/* All zeros when there is none, as wireguard-go says it. */
		out.hex_line('preshared_key=', p.preshared_key, 32);
		p.preshared_key?.fill(0);
		out.ascii('protocol_version=1\n');
		if (p.endpoint !== null)
			out.ascii(`endpoint=${uapi_endpoint_text(p.endpoint, st.zones)}\n`);
		out.uint_line('last_handshake_time_sec=', p.last_handshake_sec);
		out.uint_line('last_handshake_time_nsec=', p.last_handshake_nsec);
		out.uint_line('tx_bytes=', p.tx_bytes);
		out.uint_line('rx_bytes=', p.rx_bytes);
		out.uint_line('persistent_keepalive_interval=', p.persistent_keepalive);
		for (const a of p.allowed_ips)
			out.ascii(`allowed_ip=${ip_text(a.addr)}/${a.cidr}\n`);
	}
	if (page.next === 0)
		out.ascii('errno=0\n\n');
	return { text: out.take(), next: page.next };
}

/* The whole get reply at once, as text (for tests and tools that want it so). */
export function uapi_get(dev: WgDevice, st: uapi_device_state): string {
	let text = '';
	let cursor = 0;
	do {
		const p = uapi_get_page(dev, st, cursor, UAPI_GET_PAGE);
		text += Buffer.from(p.text.buffer, p.text.byteOffset, p.text.length).toString('latin1');
		p.text.fill(0);
		cursor = p.next;
	} while (cursor !== 0);
	return text;
}

/* Peers per page of a get reply: a few hundred kilobytes of text. */
export const UAPI_GET_PAGE = 2048;

/* One line of a set request, parsed and checked. */
export type uapi_op =
	| { key: 'private_key' | 'preshared_key' | 'public_key'; k: Uint8Array }
	| { key: 'listen_port' | 'fwmark' | 'persistent_keepalive_interval'; n: number }
	| { key: 'endpoint'; ep: WgEndpoint }
	| { key: 'allowed_ip'; aip: WgAllowedIp }
	| { key: 'replace_peers' | 'remove' | 'update_only' | 'replace_allowed_ips' | 'protocol_version' };

function uapi_number(value: string, max: number): number | null {
	if (!/^\d+$/.test(value))
		return null;
	const n = Number(value);
	return n <= max ? n : null;
}

/* A device line (before the first public_key), null if bad; value() makes the value text. */
function uapi_parse_device(key: string, value: () => string): uapi_op | null {
	switch (key) {
	case 'listen_port': {
		const n = uapi_number(value(), 65535);
		return n === null ? null : { key, n };
	}
	case 'fwmark': {
		const n = uapi_number(value(), 0xffffffff);
		return n === null ? null : { key, n };
	}
	case 'replace_peers':
		return value() === 'true' ? { key } : null;
	default:
		return null;
	}
}

/* A line of a peer section, null if bad. */
function uapi_parse_peer(key: string, value: () => string, zones?: uapi_zones): uapi_op | null {
	switch (key) {
	case 'remove':
	case 'update_only':
	case 'replace_allowed_ips':
		return value() === 'true' ? { key } : null;
	case 'protocol_version':
		return value() === '1' ? { key } : null;
	case 'endpoint': {
		const ep = uapi_parse_endpoint(value(), zones);
		return ep === null ? null : { key, ep };
	}
	case 'persistent_keepalive_interval': {
		const n = uapi_number(value(), 65535);
		return n === null ? null : { key, n };
	}
	case 'allowed_ip': {
		const aip = uapi_parse_allowed_ip(value());
		return aip === null ? null : { key, aip };
	}
	default:
		return null;
	}
}

/* Wipe the keys a parsed request holds. */
export function uapi_ops_wipe(ops: uapi_op[]): void {
	for (const op of ops)
		if ('k' in op)
			op.k.fill(0);
}

/*
 * The lines after "set=1", up to the blank line, parsed and checked: the
 * operations, or a negative errno (-EPROTO for a line without "=",
 * -EINVAL for any other bad line) with nothing kept.  From the bytes
 * received (text is for tests and tools): the three keys are decoded
 * from them directly, only names and the other values become strings.
 */
export function uapi_set_parse(src: Uint8Array | string, zones?: uapi_zones): uapi_op[] | number {
	const b = typeof src === 'string' ? Buffer.from(src, 'utf8') : src;
	const ops: uapi_op[] = [];
	let in_peer = false;
	/* Line by line without splitting first: a set of 10^5 peers is 4 * 10^5 lines. */
	for (let at = 0; at < b.length;) {
		let end = b.indexOf(0x0a, at);
		if (end < 0)
			end = b.length;
		const line = at;
		at = end + 1;
		if (end === line)
			continue;
		const eq = b.subarray(line, end).indexOf(0x3d);	/* '=' */
		if (eq < 0) {
			uapi_ops_wipe(ops);
			return -EPROTO;
		}
		const key = text_of(b, line, line + eq);
		const v = line + eq + 1;
		const value = (): string => text_of(b, v, end);
		let op: uapi_op | null;
		if (key === 'public_key') {
			in_peer = true;
			const k = unhex32(b, v, end, false);
			op = k === null ? null : { key, k };
		} else if (key === (in_peer ? 'preshared_key' : 'private_key')) {
			const k = unhex32(b, v, end, true);
			op = k === null ? null : { key, k };
		} else {
			op = in_peer ? uapi_parse_peer(key, value, zones) : uapi_parse_device(key, value);
		}
		if (op === null) {
			uapi_ops_wipe(ops);
			return -EINVAL;
		}
		ops.push(op);
	}
	return ops;
}

/* Names and values other than keys, as the text wg(8) sent (UTF-8). */
function text_of(b: Uint8Array, start: number, end: number): string {
	return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('utf8');
}

/*
 * Applies a set request (the lines after "set=1", up to the blank line):
 * all of it, or nothing when a line is bad.  Returns 0 or a negative
 * errno, as the reply's errno= wants it.
 */
export function uapi_set(dev: WgDevice, text: Uint8Array | string, hooks: uapi_hooks): number {
	const ops = uapi_set_parse(text, hooks.zones);
	if (typeof ops === 'number')
		return ops;
	try {
		return uapi_apply(dev, ops, hooks);
	} catch (e) {
		/* Only a hook or a device limit can fail now: what came before stays. */
		return e instanceof ErrnoError ? -e.errno : -EINVAL;
	} finally {
		uapi_ops_wipe(ops);
	}
}

function uapi_apply(dev: WgDevice, ops: uapi_op[], hooks: uapi_hooks): number {
	let peer: WgPeer | null = null;
	/* A peer this section created, dropped again if update_only=true. */
	let created = false;
	let dummy = false;	/* the section names our own public key, or its peer was dropped: ignore it */
	for (const op of ops) {
		if (op.key === 'public_key') {
			const own = dev.public_key();
			dummy = own !== null && Buffer.compare(own, op.k) === 0;
			peer = null;
			created = false;
			if (dummy)
				continue;
			peer = dev.peer_lookup(op.k) ?? null;
			if (peer === null) {
				peer = dev.peer_add({ public_key: op.k, name: uapi_peer_name(dev, op.k) });
				created = true;
			}
			continue;
		}
		if (dummy)
			continue;
		if (peer === null) {
			const r = uapi_apply_device(dev, op, hooks);
			if (r !== 0)
				return r;
			continue;
		}
		if (op.key === 'remove' || (op.key === 'update_only' && created)) {
			dev.peer_remove(peer);
			peer = null;
			dummy = true;
			continue;
		}
		uapi_apply_peer(dev, peer, op);
	}
	return 0;
}

function uapi_apply_device(dev: WgDevice, op: uapi_op, hooks: uapi_hooks): number {
	switch (op.key) {
	case 'private_key':
		dev.set_private_key(is_zero(op.k) ? null : op.k);
		return 0;
	case 'listen_port':
	case 'fwmark': {
		const r = op.key === 'listen_port' ? hooks.set_listen_port(op.n) : hooks.set_fwmark(op.n);
		return r === 0 ? 0 : -r;
	}
	case 'replace_peers':
		for (const p of dev.peers())
			dev.peer_remove(p);
		return 0;
	default:
		return -EINVAL;		/* uapi_set_parse lets no other key through */
	}
}

function uapi_apply_peer(dev: WgDevice, peer: WgPeer, op: uapi_op): void {
	switch (op.key) {
	case 'preshared_key':
		dev.peer_set_preshared_key(peer, is_zero(op.k) ? null : op.k);
		break;
	case 'endpoint':
		dev.peer_set_endpoint(peer, op.ep);
		break;
	case 'persistent_keepalive_interval':
		dev.peer_set_persistent_keepalive(peer, op.n);
		break;
	case 'replace_allowed_ips':
		dev.allowedips_clear(peer);
		break;
	case 'allowed_ip':
		dev.allowedip_add(peer, op.aip, { move: true });
		break;
	default:
		/* protocol_version=1, update_only on a peer that was there: nothing to do. */
		break;
	}
}

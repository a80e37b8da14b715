/*
 * The cross-platform userspace configuration protocol (UAPI), the text
 * form wg(8) and wg-quick(8) speak over /var/run/wireguard/IF.sock,
 * applied to a WgDevice.
 *
 *   get=1\n\n            -> key=value lines, errno=0, blank line
 *   set=1\n key=value... \n -> errno=N, blank line
 *
 * Keys are lowercase hex.  Device keys must precede the first
 * public_key; after it every key belongs to that peer.  As in
 * wireguard-go, each line is applied as it is read and the first bad
 * line stops the request with no rollback of what came before; errors
 * are negative errno values.  listen_port and fwmark belong to the
 * driver's sockets, so they go through hooks.
 *
 * Peers created here have no NetBSD name; they get a stable one derived
 * from the public key (see uapi_peer_name), so wgconfig can show and
 * delete them.
 */

import type { WgAllowedIp, WgDevice, WgEndpoint, WgPeer } from './device.js';
import { EINVAL, EPROTO, ErrnoError } from '../../sys/errno.js';
import { inet_ntop, inet_pton4, inet_pton6 } from '../../../lib/libc/inet.js';


export interface uapi_hooks {
	/* Rebind the sockets; 0 or a positive errno. */
	set_listen_port(port: number): number;
	set_fwmark(mark: number): number;
}

export interface uapi_device_state {
	listen_port: number;
	fwmark: number;
}

function hex(b: Uint8Array): string {
	return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

/*
 * Decoded straight into a fresh array: Buffer.from(s, 'hex') would leave
 * a copy of a private or preshared key in Node's shared Buffer pool,
 * beyond the reach of the caller's fill(0).
 */
function unhex32(s: string): Uint8Array | null {
	if (!/^[0-9a-fA-F]{64}$/.test(s))
		return null;
	const k = new Uint8Array(32);
	for (let i = 0; i < 32; i++)
		k[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
	return k;
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

export function uapi_endpoint_text(ep: WgEndpoint): string {
	return ep.family === 4 ? `${ip_text(ep.addr)}:${ep.port}` : `[${ip_text(ep.addr)}]:${ep.port}`;
}

/* Numeric text to 4 or 16 bytes, null if it is neither. */
export function uapi_parse_ip(s: string): { family: 4 | 6; addr: Uint8Array } | null {
	const a4 = inet_pton4(s);
	if (a4 !== null)
		return { family: 4, addr: a4 };
	const a6 = inet_pton6(s);
	return a6 === null ? null : { family: 6, addr: a6 };
}

/* "a.b.c.d:port" or "[v6]:port" (numeric only: wg resolves names itself). */
export function uapi_parse_endpoint(s: string): WgEndpoint | null {
	let host: string, port: string;
	const m6 = /^\[([^\]%]+)(?:%[^\]]*)?\]:(\d+)$/.exec(s);
	if (m6 !== null) {
		host = m6[1];
		port = m6[2];
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
	return { family: ip.family, addr: ip.addr, port: Number(port) };
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

export function uapi_get(dev: WgDevice, st: uapi_device_state): string {
	const out: string[] = [];
	const priv = dev.private_key();
	if (priv !== null) {
		out.push(`private_key=${hex(priv)}`);
		priv.fill(0);
	}
	if (st.listen_port !== 0)
		out.push(`listen_port=${st.listen_port}`);
	if (st.fwmark !== 0)
		out.push(`fwmark=${st.fwmark}`);
	/* wg(8) lists peers in the order it gets them; give the oldest first, as wireguard-go does. */
	for (const peer of [...dev.peers()].reverse()) {
		const p = dev.peer_info(peer);
		out.push(`public_key=${hex(p.public_key)}`);
		if (p.preshared_key !== null) {
			out.push(`preshared_key=${hex(p.preshared_key)}`);
			p.preshared_key.fill(0);
		} else {
			out.push(`preshared_key=${'0'.repeat(64)}`);
		}
		out.push('protocol_version=1');
		if (p.endpoint !== null)
			out.push(`endpoint=${uapi_endpoint_text(p.endpoint)}`);
		out.push(`last_handshake_time_sec=${p.last_handshake_sec}`);
		out.push(`last_handshake_time_nsec=${p.last_handshake_nsec}`);
		out.push(`tx_bytes=${p.tx_bytes}`);
		out.push(`rx_bytes=${p.rx_bytes}`);
		out.push(`persistent_keepalive_interval=${p.persistent_keepalive}`);
		for (const a of p.allowed_ips)
			out.push(`allowed_ip=${ip_text(a.addr)}/${a.cidr}`);
	}
	out.push('errno=0');
	return out.join('\n') + '\n\n';
}

/*
 * Applies a set request (the lines after "set=1", up to the blank line).
 * Returns 0 or a negative errno, as the reply's errno= wants it.
 */
export function uapi_set(dev: WgDevice, text: string, hooks: uapi_hooks): number {
	let peer: WgPeer | null = null;
	/* A peer this section created, dropped again if update_only=true. */
	let created = false;
	let dummy = false;	/* the section names our own public key: ignore it */
	const lines = text.split('\n');
	try {
		for (const line of lines) {
			if (line === '')
				continue;
			const eq = line.indexOf('=');
			if (eq < 0)
				return -EPROTO;
			const key = line.slice(0, eq);
			const value = line.slice(eq + 1);
			if (key === 'public_key') {
				const pub = unhex32(value);
				if (pub === null)
					return -EINVAL;
				const own = dev.public_key();
				dummy = own !== null && Buffer.compare(own, pub) === 0;
				peer = null;
				created = false;
				if (dummy)
					continue;
				peer = dev.peer_lookup(pub) ?? null;
				if (peer === null) {
					peer = dev.peer_add({ public_key: pub, name: uapi_peer_name(dev, pub) });
					created = true;
				}
				continue;
			}
			if (peer === null && !dummy) {
				const r = uapi_set_device(dev, key, value, hooks);
				if (r !== 0)
					return r;
				continue;
			}
			if (dummy)
				continue;
			const r = uapi_set_peer(dev, peer as WgPeer, key, value, created);
			if (r === 1) {
				/* update_only on a peer this section created, or remove=true. */
				dev.peer_remove(peer as WgPeer);
				peer = null;
				dummy = true;
				continue;
			}
			if (r !== 0)
				return r;
		}
	} catch (e) {
		return e instanceof ErrnoError ? -e.errno : -EINVAL;
	}
	return 0;
}

function uapi_number(value: string, max: number): number | null {
	if (!/^\d+$/.test(value))
		return null;
	const n = Number(value);
	return n <= max ? n : null;
}

function uapi_set_device(dev: WgDevice, key: string, value: string, hooks: uapi_hooks): number {
	switch (key) {
	case 'private_key': {
		const k = unhex32(value);
		if (k === null)
			return -EINVAL;
		try {
			dev.set_private_key(is_zero(k) ? null : k);
		} finally {
			k.fill(0);
		}
		return 0;
	}
	case 'listen_port': {
		const p = uapi_number(value, 65535);
		if (p === null)
			return -EINVAL;
		const r = hooks.set_listen_port(p);
		return r === 0 ? 0 : -r;
	}
	case 'fwmark': {
		const m = uapi_number(value, 0xffffffff);
		if (m === null)
			return -EINVAL;
		const r = hooks.set_fwmark(m);
		return r === 0 ? 0 : -r;
	}
	case 'replace_peers':
		if (value !== 'true')
			return -EINVAL;
		for (const p of dev.peers())
			dev.peer_remove(p);
		return 0;
	default:
		return -EINVAL;
	}
}

/* 0 done, 1 drop the peer, < 0 errno. */
function uapi_set_peer(dev: WgDevice, peer: WgPeer, key: string, value: string, created: boolean): number {
	switch (key) {
	case 'remove':
		return value === 'true' ? 1 : -EINVAL;
	case 'update_only':
		if (value !== 'true')
			return -EINVAL;
		return created ? 1 : 0;
	case 'preshared_key': {
		const k = unhex32(value);
		if (k === null)
			return -EINVAL;
		try {
			dev.peer_set_preshared_key(peer, is_zero(k) ? null : k);
		} finally {
			k.fill(0);
		}
		return 0;
	}
	case 'endpoint': {
		const ep = uapi_parse_endpoint(value);
		if (ep === null)
			return -EINVAL;
		dev.peer_set_endpoint(peer, ep);
		return 0;
	}
	case 'persistent_keepalive_interval': {
		const s = uapi_number(value, 65535);
		if (s === null)
			return -EINVAL;
		dev.peer_set_persistent_keepalive(peer, s);
		return 0;
	}
	case 'replace_allowed_ips':
		if (value !== 'true')
			return -EINVAL;
		dev.allowedips_clear(peer);
		return 0;
	case 'allowed_ip': {
		const a = uapi_parse_allowed_ip(value);
		if (a === null)
			return -EINVAL;
		dev.allowedip_add(peer, a, { move: true });
		return 0;
	}
	case 'protocol_version':
		return value === '1' ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

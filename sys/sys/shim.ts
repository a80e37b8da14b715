// SPDX-License-Identifier: BSD-2-Clause
/*
 * The ioctl shim: how a userland request reaches a kernel instance.
 *
 * A kernel instance (sys/kern/) listens on the Linux abstract UNIX stream
 * socket named by shim_socket_name(id).  Abstract names are per network
 * namespace, so every namespace is its own machine, as a rump kernel is.
 *
 * Framing: every message, each way, is a 4-byte big-endian length, then
 * that many bytes: UTF-8 JSON, optionally followed by a NUL byte (JSON
 * text never holds one) and the message's attachments, each a 4-byte
 * big-endian length and that many bytes (shim_frame_encode,
 * shim_frame_decode).  One connection may carry any number of
 * request/reply pairs, strictly alternating.
 *
 * A request names an operation:
 *   ioctl:  a socket ioctl on an interface: request number from
 *           sys/sys/sockio.ts, interface name, and for SIOC[SG]DRVSPEC the
 *           ifd_cmd and the externalized proplib dictionary as ifd_data,
 *           in the attached form (lib/libprop/prop.ts): the XML text in
 *           the JSON, every <data> value an attachment.  ifreq-style
 *           arguments travel as fields.
 *   sysctl: read or write net.wg.* (sysctl(3)).
 *   ifconf: list the instance's interfaces with their state.
 *   reboot: halt the instance (rump.halt / reboot(2)).
 * A reply is an errno (0 on success) plus the out-data.
 *
 * Secrets: keys are <data> values, so they travel as attachments, as
 * bytes, never as text.  Whoever frames a message wipes the attachments
 * it was given once they are copied into the frame, and the frame once
 * it is written; whoever receives one wipes the frame once the request
 * is served (kernel) or the dictionary used (tools).  share/doc/DESIGN.md
 * §10 lists the copies that remain.
 */


import { isAscii } from 'node:buffer';

import type { AF_INET, AF_INET6 } from './socket.js';

export function shim_socket_name(id: number): string {
	return `\0wg-userspace.${id}`;
}

export interface ShimIfaddr {
	family: typeof AF_INET | typeof AF_INET6;
	addr: string;		/* numeric text form */
	prefixlen: number;
}

export type ShimRequest =
	| { op: 'ioctl'; req: number; name: string;
	    /* SIOC[SG]DRVSPEC; data alone for SIOCIFCREATE: the cloner, for any Linux name */
	    cmd?: number; data?: string;
	    /* The attachments data refers to; never in the JSON. */
	    attach?: Uint8Array[];
	    /* SIOCSIFFLAGS */
	    flags?: number;
	    /* SIOCSIFMTU */
	    mtu?: number;
	    /* SIOCAIFADDR, SIOCAIFADDR_IN6, SIOCDIFADDR */
	    ifaddr?: ShimIfaddr; }
	| { op: 'sysctl'; name?: string; value?: string }	/* no name: list all */
	| { op: 'ifconf' }
	| { op: 'reboot' };

/* The 'ioctl' member of ShimRequest: what ifioctl() and a driver's if_ioctl take. */
export type ShimIoctlRequest = Extract<ShimRequest, { op: 'ioctl' }>;

export interface ShimIfState {
	name: string;
	flags: number;		/* IFF_* from sys/sys/sockio.ts */
	mtu: number;
	link_up: boolean;	/* "status: active" */
	addrs: ShimIfaddr[];
	ifindex: number;
}

export interface ShimReply {
	errno: number;
	data?: string;			/* SIOCGDRVSPEC: externalized dictionary, attached form */
	/*
	 * data as UTF-8 bytes, for a paged listing (megabytes of text that
	 * JSON would escape and unescape): framed as the first attachment,
	 * and "data_bytes": true in the JSON.  Wiped like the attachments.
	 */
	data_bytes?: Uint8Array;
	/*
	 * A paged SIOCGDRVSPEC: the cursor of the next page (as the
	 * dictionary's "cursor"), absent after the last.  Here, at the head
	 * of the frame, the tool can ask for the next page before it parses
	 * this one.
	 */
	cursor?: number;
	attach?: Uint8Array[];		/* what data refers to; never in the JSON */
	flags?: number;			/* SIOCGIFFLAGS */
	mtu?: number;			/* SIOCGIFMTU */
	cloners?: string[];		/* SIOCIFGCLONERS */
	ifs?: ShimIfState[];		/* ifconf, SIOCGIFSTATE */
	sysctl?: Array<[string, string]>;	/* sysctl: name, value */
	msg?: string;			/* a detail for the tool's error message */
}

/*
 * The largest request the kernel reads, by who asks.  Root's largest
 * legitimate request is an ioctl carrying a dictionary of up to
 * WG_MAX_PROPLEN (32766) bytes, which JSON escaping can grow at most
 * sixfold; a non-root process can only read (get, sysctl read, ifconf),
 * with names of at most 1024 characters.  Replies have no limit: a
 * listing grows with the number of peers.
 */
export const SHIM_MAX_REQUEST = 256 * 1024;
export const SHIM_MAX_USER_REQUEST = 16 * 1024;

/*
 * A frame's JSON as bytes, and back.  Listings make frames of megabytes,
 * nearly always ASCII: those are copied as Latin-1 both ways, which is a
 * plain copy, where UTF-8 would be encoded and validated byte by byte.
 */
export function shim_json_bytes(v: unknown): Buffer {
	const s = JSON.stringify(v);
	return Buffer.from(s, Buffer.byteLength(s) === s.length ? 'latin1' : 'utf8');
}

export function shim_json_text(b: Buffer, start = 0, end = b.length): string {
	const body = b.subarray(start, end);
	return body.toString(isAscii(body) ? 'latin1' : 'utf8');
}

/* 4-byte big-endian length (of a frame, of an attachment). */
const SHIM_LEN = 4;

/*
 * A whole frame, length included: msg as JSON (without its attach
 * field), then the attachments (a reply's data_bytes first).  The
 * attachments are wiped once copied (they may be keys); the caller wipes
 * the frame once it is written.
 */
export function shim_frame_encode(msg: ShimRequest | ShimReply): Buffer {
	const text = 'data_bytes' in msg ? msg.data_bytes : undefined;
	const given = 'attach' in msg ? msg.attach ?? [] : [];
	const attach = text === undefined ? given : [text, ...given];
	const json = shim_json_bytes({ ...msg, attach: undefined, data_bytes: text === undefined ? undefined : true });
	let len = json.length;
	if (attach.length > 0) {
		len++;
		for (const a of attach)
			len += SHIM_LEN + a.length;
	}
	/* Never the shared pool: the frame is wiped whole, and nothing else shares its memory. */
	const frame = Buffer.allocUnsafeSlow(SHIM_LEN + len);
	frame.writeUInt32BE(len, 0);
	let at = SHIM_LEN + json.copy(frame, SHIM_LEN);
	if (attach.length > 0) {
		frame[at++] = 0;
		for (const a of attach) {
			frame.writeUInt32BE(a.length, at);
			frame.set(a, at + SHIM_LEN);
			at += SHIM_LEN + a.length;
			a.fill(0);
		}
	}
	return frame;
}

/*
 * A frame's body (what follows the length): the parsed JSON, with the
 * attachments as views into body (no copy: wiping body wipes them);
 * null when it is not JSON or the attachments do not add up.  The views
 * are plain Uint8Arrays, so that slice() copies (a Buffer's is a view).
 */
export function shim_frame_decode(body: Buffer): { msg: unknown; attach: Uint8Array[] } | null {
	const nul = body.indexOf(0);
	const end = nul < 0 ? body.length : nul;
	let msg: unknown;
	try {
		msg = JSON.parse(shim_json_text(body, 0, end));
	} catch {
		return null;
	}
	const attach: Uint8Array[] = [];
	for (let at = end + 1; at < body.length;) {
		if (at + SHIM_LEN > body.length)
			return null;
		const n = body.readUInt32BE(at);
		at += SHIM_LEN;
		if (n > body.length - at)
			return null;
		attach.push(new Uint8Array(body.buffer, body.byteOffset + at, n));
		at += n;
	}
	return { msg, attach };
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * The events of wg(4) as log lines a script can parse (wg(4), EVENTS):
 *
 *	wg0: event=handshake-complete peer=office pubkey=BASE64 endpoint=192.0.2.1:51820
 *
 * After "IFNAME: ", space-separated key=value pairs, event= first.  A
 * value is a bare token, or a double-quoted string with JSON escapes
 * when it holds a space, '"', '=' or '\' (only peer names can); a peer
 * without a name is peer=-, a peer without an endpoint endpoint=-.
 * Public keys are printed whole: they name the peer, and subr_log.ts
 * lets a key through only after "pubkey=".
 */

import type { WgEvent, WgPeer } from './wg/device.js';
import { uapi_endpoint_text } from './wg/uapi.js';

function kv_value(v: string): string {
	return v !== '' && !/[\s"=\\]/.test(v) ? v : JSON.stringify(v);
}

function peer_fields(peer: WgPeer): string {
	const name = peer.name === '' ? '-' : kv_value(peer.name);
	const ep = peer.endpoint === null ? '-' : uapi_endpoint_text(peer.endpoint);
	return `peer=${name} pubkey=${Buffer.from(peer.public_key).toString('base64')} endpoint=${ep}`;
}

export type WgPeerEvent = Exclude<WgEvent, { type: 'log' }>;

/* The line for an event, without the log(9) prefix. */
export function wg_event_text(ifname: string, ev: WgPeerEvent): string {
	switch (ev.type) {
	case 'handshake_complete':
		return `${ifname}: event=handshake-complete ${peer_fields(ev.peer)}`;
	case 'endpoint_changed':
		return `${ifname}: event=endpoint-changed ${peer_fields(ev.peer)}`;
	case 'peer_silent':
		return `${ifname}: event=peer-silent ${peer_fields(ev.peer)} ` +
		    `silent=${Math.floor(ev.silent_ms / 1000)}`;
	case 'handshake_giveup':
		return `${ifname}: event=handshake-giveup ${peer_fields(ev.peer)} attempts=${ev.attempts}`;
	}
}

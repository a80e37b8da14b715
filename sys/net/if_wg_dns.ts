// SPDX-License-Identifier: BSD-2-Clause
/*
 * Endpoints by host name (wg(4), wgconfig(8) --endpoint=HOST:PORT).
 *
 * wgconfig(8) resolves the name once to give the peer an address, and
 * hands the name down too ("endpoint_host").  The driver keeps it and,
 * every WG_RERESOLVE_CHECK_MS, resolves it again for each peer whose
 * latest handshake is older than WG_RERESOLVE_AFTER_S (or that never had
 * one): the rule of wireguard-tools' reresolve-dns.  The lookups run on
 * the main thread with the asynchronous dns.lookup, one at a time; only
 * the chosen address goes to the data-path thread.
 *
 * All answers, IPv4 and IPv6, are candidates: each round moves to the
 * answer after the current endpoint, so an address that does not answer
 * gives way to the next, and a name that moved is followed to its new
 * first answer.
 */

import { lookup } from 'node:dns/promises';

import { LOG_INFO, LOG_WARNING, log } from '../kern/subr_log.js';
import { wg_endpoint_equal } from './wg/peer.js';
import type { WgEndpoint } from './wg/device.js';
import { uapi_endpoint_text, uapi_parse_ip } from './wg/uapi.js';

export const WG_RERESOLVE_AFTER_S = 135;
export const WG_RERESOLVE_CHECK_MS = 5000;
export const WG_HOST_MAXLEN = 253;

/* A host name as resolvers take it: letters, digits, '-', '_' and dots. */
export function wg_host_valid(host: string): boolean {
	return host.length > 0 && host.length <= WG_HOST_MAXLEN && /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/.test(host);
}

/* reresolve-dns: no handshake yet, or the latest is older than 135 s. */
export function wg_reresolve_due(last_handshake_sec: number, now_ms: number): boolean {
	return last_handshake_sec === 0 || now_ms / 1000 - last_handshake_sec > WG_RERESOLVE_AFTER_S;
}

/* The answer after the current endpoint, or the first when it is not among them. */
export function wg_endpoint_pick(answers: readonly WgEndpoint[], current: WgEndpoint | null): WgEndpoint | null {
	if (answers.length === 0)
		return null;
	const i = current === null ? -1 : answers.findIndex((a) => wg_endpoint_equal(a, current));
	return answers[(i + 1) % answers.length];
}

export interface wg_dns_peer {
	public_key: Uint8Array;
	endpoint: WgEndpoint | null;
	last_handshake_sec: number;
}

export interface wg_dns_hooks {
	/* The peer called NAME now, or null when there is none. */
	peer_state(name: string): Promise<wg_dns_peer | null>;
	set_endpoint(name: string, ep: WgEndpoint): Promise<number>;
	resolve?(host: string): Promise<Array<{ address: string; family: number }>>;
	wall?(): number;
}

interface wg_dns_entry {
	host: string;
	public_key: string;	/* base64: the entry belongs to this peer only */
}

function default_resolve(host: string): Promise<Array<{ address: string; family: number }>> {
	return lookup(host, { all: true });
}

export class wg_dns {
	private readonly entries = new Map<string, wg_dns_entry>();
	private timer: NodeJS.Timeout | null = null;
	private running: Promise<void> | null = null;

	constructor(private readonly ifname: string, private readonly hooks: wg_dns_hooks) {}

	/* Keep HOST for the peer NAME (replacing what it had). */
	set(name: string, host: string, public_key: Uint8Array): void {
		this.entries.set(name, { host, public_key: Buffer.from(public_key).toString('base64') });
		if (this.timer === null) {
			this.timer = setInterval(() => void this.check(), WG_RERESOLVE_CHECK_MS);
			this.timer.unref();
		}
	}

	delete(name: string): void {
		this.entries.delete(name);
		if (this.entries.size === 0)
			this.stop();
	}

	host_of(name: string): string | undefined {
		return this.entries.get(name)?.host;
	}

	/* Every peer's host name, [name, host], for the data-path thread's listings. */
	hosts(): Array<[string, string]> {
		return [...this.entries].map(([name, e]) => [name, e.host]);
	}

	stop(): void {
		if (this.timer !== null)
			clearInterval(this.timer);
		this.timer = null;
	}

	/* One round over the names; a round still running is not doubled. */
	check(): Promise<void> {
		this.running ??= this.round().finally(() => {
			this.running = null;
		});
		return this.running;
	}

	private async round(): Promise<void> {
		for (const [name, e] of [...this.entries]) {
			const p = await this.hooks.peer_state(name);
			if (this.entries.get(name) !== e)
				continue;	/* changed meanwhile */
			if (p === null || Buffer.from(p.public_key).toString('base64') !== e.public_key) {
				this.entries.delete(name);	/* removed or replaced behind our back (wg(8)) */
				continue;
			}
			if (!wg_reresolve_due(p.last_handshake_sec, (this.hooks.wall ?? Date.now)()))
				continue;
			const port = p.endpoint?.port;
			if (port === undefined)
				continue;
			let answers: WgEndpoint[];
			try {
				answers = (await (this.hooks.resolve ?? default_resolve)(e.host))
				    .map((a) => uapi_parse_ip(a.address))
				    .filter((a): a is NonNullable<typeof a> => a !== null)
				    .map((a) => ({ family: a.family, addr: a.addr, port }));
			} catch (err) {
				log(LOG_WARNING, '%s: peer %s: %s: %s', this.ifname, name, e.host,
				    (err as NodeJS.ErrnoException).code ?? (err as Error).message);
				continue;
			}
			const ep = wg_endpoint_pick(answers, p.endpoint);
			if (ep === null || (p.endpoint !== null && wg_endpoint_equal(ep, p.endpoint)))
				continue;
			if (this.entries.get(name) !== e)
				continue;
			if (await this.hooks.set_endpoint(name, ep) === 0)
				log(LOG_INFO, '%s: peer %s: %s resolved again, endpoint %s', this.ifname, name, e.host,
				    uapi_endpoint_text(ep));
		}
	}
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * Handshake rate limiting under load (paper §6.6; Linux ratelimiter.c):
 * a token bucket per source address, 20 handshakes a second with a
 * burst of 5.  IPv6 sources are bucketed per /64, since one host
 * usually owns a whole /64.  Entries idle for more than a second are
 * swept at most once a second, from allow() itself, so the table needs
 * no timer.  Driven entirely by the `now` passed in (ms).
 */

export const RATELIMIT_PACKETS_PER_SECOND = 20;
export const RATELIMIT_PACKETS_BURSTABLE = 5;
/* Cost of one packet and the bucket size, in ms of accumulated credit. */
export const RATELIMIT_PACKET_COST = 1000 / RATELIMIT_PACKETS_PER_SECOND;
export const RATELIMIT_TOKEN_MAX = RATELIMIT_PACKET_COST * RATELIMIT_PACKETS_BURSTABLE;
export const RATELIMIT_GC_INTERVAL = 1000;
/* A bound on memory: beyond it new sources are refused, as Linux does. */
export const RATELIMIT_MAX_ENTRIES = 65536;

interface Bucket {
	last: number;
	tokens: number;
}

/* Refill by the ms elapsed (up to max), then take `cost` if there is enough. */
function bucket_take(b: Bucket, now: number, cost: number, max: number): boolean {
	const tokens = Math.min(max, b.tokens + Math.max(0, now - b.last));
	b.last = now;
	if (tokens >= cost) {
		b.tokens = tokens - cost;
		return true;
	}
	b.tokens = tokens;
	return false;
}

/*
 * One bucket for a whole device: `rate` a second, a burst of `burst`.
 * Bounds the cookie replies all sources together may cost us.
 */
export class WgTokenBucket {
	private readonly b: Bucket;
	private readonly cost: number;
	private readonly max: number;

	constructor(rate: number, burst: number) {
		this.cost = 1000 / rate;
		this.max = this.cost * burst;
		this.b = { last: -Infinity, tokens: this.max };
	}

	allow(now: number): boolean {
		return bucket_take(this.b, now, this.cost, this.max);
	}
}

export class WgRateLimiter {
	private readonly table = new Map<number | string, Bucket>();
	private last_gc = -Infinity;

	get size(): number {
		return this.table.size;
	}

	/* IPv4: the address as a number; IPv6: its /64 as a string. */
	private static key(family: 4 | 6, addr: Uint8Array): number | string {
		if (family === 4)
			return ((addr[0] << 24) | (addr[1] << 16) | (addr[2] << 8) | addr[3]) >>> 0;
		let s = '6:';
		for (let i = 0; i < 8; i++)
			s += addr[i].toString(16).padStart(2, '0');
		return s;
	}

	private gc(now: number): void {
		if (now < this.last_gc + RATELIMIT_GC_INTERVAL)
			return;
		this.last_gc = now;
		for (const [k, b] of this.table)
			if (now > b.last + RATELIMIT_GC_INTERVAL)
				this.table.delete(k);
	}

	/* May a handshake from this source be processed now? */
	allow(family: 4 | 6, addr: Uint8Array, now: number): boolean {
		this.gc(now);
		const k = WgRateLimiter.key(family, addr);
		const b = this.table.get(k);
		if (b === undefined) {
			if (this.table.size >= RATELIMIT_MAX_ENTRIES)
				return false;
			this.table.set(k, { last: now, tokens: RATELIMIT_TOKEN_MAX - RATELIMIT_PACKET_COST });
			return true;
		}
		return bucket_take(b, now, RATELIMIT_PACKET_COST, RATELIMIT_TOKEN_MAX);
	}

	clear(): void {
		this.table.clear();
	}
}

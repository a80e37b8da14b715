// SPDX-License-Identifier: BSD-2-Clause
/*
 * Lookups that must not grow with the number of peers (share/doc/DESIGN.md §4):
 *
 *   - the receiver-index table: every handshake in flight and every
 *     keypair has a random 32-bit local index, unique on the device
 *     (paper §5.4.2: "sender_index ... randomly generated"); incoming
 *     responses, cookie replies and data name it in receiver_index;
 *   - the public-key table: a consumed initiation names its sender by
 *     static public key.
 */

import type { WgCrypto } from '../../crypto/crypto.js';

/* What an index names: a handshake in flight or an established keypair. */
export const INDEX_HANDSHAKE = 1;
export const INDEX_KEYPAIR = 2;

export interface WgIndexEntry {
	readonly index_kind: typeof INDEX_HANDSHAKE | typeof INDEX_KEYPAIR;
	local_index: number;
}

export class WgIndexTable<E extends WgIndexEntry> {
	private readonly map = new Map<number, E>();
	private readonly rnd: Uint32Array;
	private rnd_left = 0;

	constructor(private readonly crypto: WgCrypto) {
		this.rnd = new Uint32Array(16);
	}

	get size(): number {
		return this.map.size;
	}

	private random_u32(): number {
		if (this.rnd_left === 0) {
			const b = this.crypto.random_bytes(this.rnd.length * 4);
			for (let i = 0; i < this.rnd.length; i++)
				this.rnd[i] = (b[4 * i] | (b[4 * i + 1] << 8) | (b[4 * i + 2] << 16) |
				    (b[4 * i + 3] << 24)) >>> 0;
			b.fill(0);
			this.rnd_left = this.rnd.length;
		}
		const v = this.rnd[--this.rnd_left];
		this.rnd[this.rnd_left] = 0;
		return v;
	}

	/* Give `e` a fresh random index (dropping any index it had). */
	insert(e: E): number {
		if (e.local_index !== 0 && this.map.get(e.local_index) === e)
			this.map.delete(e.local_index);
		let idx: number;
		do
			idx = this.random_u32();
		while (idx === 0 || this.map.has(idx));
		e.local_index = idx;
		this.map.set(idx, e);
		return idx;
	}

	/* Hand an existing index over to another entry (handshake -> keypair). */
	replace(old: E, e: E): void {
		const idx = old.local_index;
		if (idx === 0 || this.map.get(idx) !== old)
			return;
		this.map.set(idx, e);
		e.local_index = idx;
		old.local_index = 0;
	}

	remove(e: E): void {
		if (e.local_index !== 0 && this.map.get(e.local_index) === e)
			this.map.delete(e.local_index);
		e.local_index = 0;
	}

	lookup(idx: number): E | undefined {
		return this.map.get(idx);
	}
}

/*
 * Public keys as map keys: the 32 bytes as a 32-character one-byte
 * string, made flat in one step (half the size of hex, and no chain of
 * concatenations for the collector).
 */
export function wg_key_str(k: Uint8Array): string {
	return Buffer.from(k.buffer, k.byteOffset, k.length).toString('latin1');
}

/* The bytes of a key string, in an array of their own. */
export function wg_key_bytes(s: string): Uint8Array {
	const k = new Uint8Array(s.length);
	for (let i = 0; i < s.length; i++)
		k[i] = s.charCodeAt(i);
	return k;
}

export class WgPubkeyTable<P> {
	private readonly map = new Map<string, P>();

	get size(): number {
		return this.map.size;
	}

	lookup(k: Uint8Array): P | undefined {
		return this.map.get(wg_key_str(k));
	}

	/* k: the key string (wg_key_str), which the entry keeps: the peer's own, so that it is held once. */
	insert(k: string, p: P): void {
		this.map.set(k, p);
	}

	remove(k: string): void {
		this.map.delete(k);
	}
}

export interface WgListEntry {
	readonly id: number;	/* increasing in the order added */
	list_pos: number;
}

/*
 * The device's peers in the order added.  Add and remove are O(1)
 * (amortised: a removal leaves a hole, and the array is compacted when
 * half of it is holes); a listing resumes after the last peer it gave
 * (a cursor, the peer's id) in O(log n), by binary search on the ids,
 * which holes keep.  So a long listing is taken in pages, each cheap,
 * and peers added or removed between pages do not disturb it.
 */
export class WgPeerList<P extends WgListEntry> {
	private list: (P | null)[] = [];
	private ids: number[] = [];
	private holes = 0;

	get size(): number {
		return this.list.length - this.holes;
	}

	has(p: P): boolean {
		return p.list_pos >= 0 && this.list[p.list_pos] === p;
	}

	add(p: P): void {
		p.list_pos = this.list.length;
		this.list.push(p);
		this.ids.push(p.id);
	}

	delete(p: P): void {
		if (!this.has(p))
			return;
		this.list[p.list_pos] = null;
		p.list_pos = -1;
		if (++this.holes > 64 && this.holes * 2 > this.list.length)
			this.compact();
	}

	/* New arrays, so that an iteration in progress goes on over the old ones. */
	private compact(): void {
		const list: P[] = [];
		const ids: number[] = [];
		for (const p of this.list) {
			if (p === null)
				continue;
			p.list_pos = list.length;
			list.push(p);
			ids.push(p.id);
		}
		this.list = list;
		this.ids = ids;
		this.holes = 0;
	}

	/* Removing peers meanwhile is allowed: those not yet reached are skipped. */
	*[Symbol.iterator](): IterableIterator<P> {
		const list = this.list;
		for (let i = 0; i < list.length; i++) {
			const p = list[i];
			if (p !== null && this.has(p))
				yield p;
		}
	}

	/*
	 * Up to max peers after the one whose id is `cursor` (0: from the
	 * start), oldest first, or newest first when `newest_first`.  The
	 * next cursor is the id of the last one given, 0 when there are no more.
	 */
	page(cursor: number, max: number, newest_first: boolean): { peers: P[]; next: number } {
		const { list, ids } = this;
		const peers: P[] = [];
		/* First index whose id is > cursor. */
		let lo = 0;
		let hi = ids.length;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (ids[mid] <= cursor)
				lo = mid + 1;
			else
				hi = mid;
		}
		let i: number;
		if (newest_first) {
			/* Before the cursor: ids < cursor, i.e. up to the first index whose id >= cursor. */
			i = cursor === 0 ? list.length - 1 : (lo > 0 && ids[lo - 1] === cursor ? lo - 2 : lo - 1);
			for (; i >= 0 && peers.length < max; i--)
				if (list[i] !== null)
					peers.push(list[i] as P);
			return { peers, next: i >= 0 && peers.length > 0 ? peers[peers.length - 1].id : 0 };
		}
		for (i = lo; i < list.length && peers.length < max; i++)
			if (list[i] !== null)
				peers.push(list[i] as P);
		return { peers, next: i < list.length && peers.length > 0 ? peers[peers.length - 1].id : 0 };
	}
}

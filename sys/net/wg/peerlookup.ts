/*
 * Lookups that must not grow with the number of peers (DESIGN.md §4):
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

/* Public keys as map keys: 64 lowercase hex characters. */
export function wg_key_str(k: Uint8Array): string {
	let s = '';
	for (let i = 0; i < k.length; i++)
		s += HEX[k[i]];
	return s;
}

const HEX: string[] = [];
for (let i = 0; i < 256; i++)
	HEX.push(i.toString(16).padStart(2, '0'));

export class WgPubkeyTable<P> {
	private readonly map = new Map<string, P>();

	get size(): number {
		return this.map.size;
	}

	lookup(k: Uint8Array): P | undefined {
		return this.map.get(wg_key_str(k));
	}

	insert(k: Uint8Array, p: P): void {
		this.map.set(wg_key_str(k), p);
	}

	remove(k: Uint8Array): void {
		this.map.delete(wg_key_str(k));
	}
}

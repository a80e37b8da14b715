// SPDX-License-Identifier: BSD-2-Clause
/*
 * Addresses of the buffers the data path hands to C (openssl and sodium
 * backends).  Passing a typed array costs koffi a round of N-API
 * introspection per argument and per call, a buffer at an offset needs
 * a subarray view, and a pointer kept as a BigInt needs converting: a
 * plain number parameter (uintptr_t) costs none of that.  An address
 * is taken once per buffer (koffi.address, a BigInt) and kept here;
 * the data path adds its offset.
 *
 * Reading .buffer first moves a small typed array's bytes off the V8
 * heap for good, so its address stays valid for the buffer's life;
 * nothing in this tree transfers or detaches a buffer it gives to
 * crypto.  Each backend instance (one per thread) keeps its own cache.
 */

import koffi from 'koffi';

export class CryptoAddrCache {
	private last: Uint8Array | null = null;
	private last_addr = 0;
	private readonly map = new WeakMap<Uint8Array, number>();

	/* The address of b[off]. */
	addr(b: Uint8Array, off: number): number {
		if (b === this.last)
			return this.last_addr + off;
		let a = this.map.get(b);
		if (a === undefined) {
			void b.buffer;
			a = Number(koffi.address(b));
			this.map.set(b, a);
		}
		this.last = b;
		this.last_addr = a;
		return a + off;
	}
}

/* A pointer koffi returned (a BigInt, or null), as an address number; 0 for null. */
export function crypto_ptr_num(p: unknown): number {
	return p === null || p === undefined ? 0 : Number(p);
}

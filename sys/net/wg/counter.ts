// SPDX-License-Identifier: BSD-2-Clause
/*
 * Replay protection for transport data (paper §5.4.6): a sliding window
 * over the received counters, RFC 6479 style.  The bitmap is a ring of
 * 256 x 32-bit words (8192 bits); the window is 8192 - 64 = 8128
 * counters, as Linux and wireguard-go have with 64-bit words.  A word
 * is cleared when the window slides over it, so an update costs O(1)
 * amortised and never scans the whole ring.
 *
 * The check runs only after the packet has been authenticated, so a
 * forged counter can never move the window.
 *
 * Counters are JS numbers below 2^53.  The reject limit is passed in
 * (REJECT_AFTER_MESSAGES from the tunables, clamped to 2^53 - 1): a
 * counter at or above it is never accepted.
 */

const WORD_BITS = 32;
const RING_WORDS = 256;
const RING_MASK = RING_WORDS - 1;
export const COUNTER_BITS_TOTAL = RING_WORDS * WORD_BITS;	/* 8192 */
export const COUNTER_WINDOW_SIZE = COUNTER_BITS_TOTAL - 64;	/* 8128 */

export class WgReplayCounter {
	/* One more than the greatest counter accepted so far; 0 when none. */
	next = 0;
	readonly ring = new Uint32Array(RING_WORDS);

	reset(): void {
		this.next = 0;
		this.ring.fill(0);
	}

	/*
	 * Accept `c` (true) at most once, and only when it lies inside the
	 * window and below `limit`.  Marks it as seen.
	 */
	validate(c: number, limit: number): boolean {
		if (!(c >= 0) || c >= limit || !Number.isSafeInteger(c))
			return false;
		const n = c + 1;
		if (n + COUNTER_WINDOW_SIZE < this.next)
			return false;
		const word = Math.floor(n / WORD_BITS);
		if (n > this.next) {
			/* Slide: clear the words between the old top and the new one. */
			const cur = Math.floor(this.next / WORD_BITS);
			const top = Math.min(word - cur, RING_WORDS);
			for (let i = 1; i <= top; i++)
				this.ring[(cur + i) & RING_MASK] = 0;
			this.next = n;
		}
		const idx = word & RING_MASK;
		const bit = 1 << (n & (WORD_BITS - 1));
		if ((this.ring[idx] & bit) !== 0)
			return false;
		this.ring[idx] |= bit;
		return true;
	}
}

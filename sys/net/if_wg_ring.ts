// SPDX-License-Identifier: BSD-2-Clause
/*
 * wg(4) crypto job ring: AEAD jobs in a SharedArrayBuffer, pushed by an
 * interface's data-path thread (if_wg_intr.ts) and taken by it and by
 * its crypto threads (if_wg_crypt.ts).
 *
 * A job names a key slot, a counter and a region of a shared packet
 * buffer to seal or open in place.  Its state word is what changes
 * hands: READY (the producer published it), TAKEN (one thread won it
 * with compareExchange), DONE_OK or DONE_FAIL.  The producer writes a
 * job's words before it stores READY, and reads them back only once it
 * has seen DONE; Atomics on that word order the rest (the JS memory
 * model's synchronizes-with).
 *
 * A ring, not a queue: head and tail count jobs for ever (int32,
 * compared by difference, so they wrap), the slot is the count modulo
 * RING_SLOTS.  Only the producer moves tail, completing jobs in the order
 * it pushed them (so a peer's packets keep theirs), and a slot is not
 * pushed again before tail has passed it.  `next` is a hint of where
 * unclaimed jobs start, shared by all takers: it only ever moves forward,
 * and a claim is won on the state word, so a taker that read a stale hint
 * at worst finds the job taken (or takes a later READY job, which is as
 * good).
 */

export const RING_SLOTS = 256;			/* a power of two */
const MASK = RING_SLOTS - 1;

/* Header words, then RING_SLOTS jobs of JOB_WORDS words; the header fills a cache line. */
const R_HEAD = 0;
const R_NEXT = 1;
const R_JOBS = 16;
const JOB_WORDS = 8;
export const RING_BYTES = (R_JOBS + RING_SLOTS * JOB_WORDS) * 4;

/* A job's words, from its state word. */
export const J_STATE = 0;
export const J_OP = 1;
export const J_KEY = 2;
export const J_CTR_LO = 3;
export const J_CTR_HI = 4;
export const J_BUF = 5;
export const J_OFF = 6;
export const J_LEN = 7;

export const JOB_FREE = 0;
export const JOB_READY = 1;
export const JOB_TAKEN = 2;
export const JOB_DONE_OK = 3;
export const JOB_DONE_FAIL = 4;

export const OP_SEAL = 0;
export const OP_OPEN = 1;

export class wg_ring {
	readonly sab: SharedArrayBuffer;
	readonly w: Int32Array;
	/* The producer's own counts (only it moves them). */
	head = 0;
	tail = 0;

	constructor(sab?: SharedArrayBuffer) {
		this.sab = sab ?? new SharedArrayBuffer(RING_BYTES);
		this.w = new Int32Array(this.sab);
	}

	/* Jobs pushed and not yet completed (producer). */
	get count(): number {
		return (this.head - this.tail) | 0;
	}

	get full(): boolean {
		return this.count >= RING_SLOTS;
	}

	/*
	 * Producer: publish a job (the caller checked full); `state` is
	 * READY, or DONE_* for one the producer did at once.  Returns its
	 * slot.
	 */
	push(state: number, op: number, key: number, counter: number, buf: number, off: number, len: number): number {
		const w = this.w;
		const i = this.head;
		const s = this.job(i);
		w[s + J_OP] = op;
		w[s + J_KEY] = key;
		w[s + J_CTR_LO] = counter % 4294967296;
		w[s + J_CTR_HI] = Math.floor(counter / 4294967296);
		w[s + J_BUF] = buf;
		w[s + J_OFF] = off;
		w[s + J_LEN] = len;
		Atomics.store(w, s, state);
		this.head = (i + 1) | 0;
		Atomics.store(w, R_HEAD, this.head);
		return i & MASK;
	}

	/* Any thread: win a READY job; its state word's index, or -1 when none is left. */
	claim(): number {
		const w = this.w;
		for (;;) {
			const i = Atomics.load(w, R_NEXT);
			if (((Atomics.load(w, R_HEAD) - i) | 0) <= 0)
				return -1;
			if (Atomics.compareExchange(w, R_NEXT, i, (i + 1) | 0) !== i)
				continue;
			const s = this.job(i);
			if (Atomics.compareExchange(w, s, JOB_READY, JOB_TAKEN) === JOB_READY)
				return s;
		}
	}

	/* The state word index of job number i (the oldest is tail). */
	job(i: number): number {
		return R_JOBS + (i & MASK) * JOB_WORDS;
	}

	/* The slot of the job at state word s. */
	static slot(s: number): number {
		return (s - R_JOBS) / JOB_WORDS;
	}

	/* Producer: take the job at s itself, if nobody has. */
	take(s: number): boolean {
		return Atomics.compareExchange(this.w, s, JOB_READY, JOB_TAKEN) === JOB_READY;
	}

	/* Producer: the oldest job is used; its slot may be pushed again. */
	pop(): void {
		Atomics.store(this.w, this.job(this.tail), JOB_FREE);
		this.tail = (this.tail + 1) | 0;
	}

	static counter(w: Int32Array, s: number): number {
		return (w[s + J_CTR_LO] >>> 0) + (w[s + J_CTR_HI] >>> 0) * 4294967296;
	}
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * wg(4) crypto threads: net.wg.crypto_workers threads that seal and open
 * data messages beside the interface's data-path thread (if_wg_intr.ts),
 * through two job rings (if_wg_ring.ts), one for the datagrams of the
 * transmit batch and one for those received.  The packet bytes stay
 * where the sockets put them or take them from (SharedArrayBuffers),
 * sealed and opened in place.
 *
 * The data-path thread keeps the protocol: it assigns a message's
 * counter before it pushes the job, sends the transmit batch only once
 * every seal in it is done (tx_wait), and completes received messages
 * in the order they came (rx_complete: replay window, roaming, timers,
 * the tun), after their open.  While it waits it takes jobs itself, so
 * a small batch (a ping) never waits for a thread to wake: a thread is
 * woken (a futex call, costly on a paravirtualised host) only once
 * WAKE_MIN jobs wait, and spins SPIN_MS before it sleeps again.
 *
 * Keys (share/doc/DESIGN.md §10): a session key the threads need is
 * copied into a slot of a shared key table (a SharedArrayBuffer, off the
 * V8 heap) at its first job.  When the device drops the key
 * (aead_forget, sys/net/wg/keypair.ts), every job in flight is finished
 * first, the slot is wiped, and every thread wipes its backend's copy
 * (the openssl backend's cipher context) before it takes another job.
 * Each thread attaches its own backend (crypto_select.ts): one EVP
 * context per thread.
 */

import { Worker, isMainThread, workerData } from 'node:worker_threads';

import { WG_AEAD_TAG_LEN, WG_KEY_LEN, type WgCrypto, type WgCryptoBackend } from '../crypto/crypto.js';
import { crypto_attach } from '../crypto/crypto_select.js';
import {
	J_BUF, J_KEY, J_LEN, J_OFF, J_OP, JOB_DONE_FAIL, JOB_DONE_OK, JOB_READY, JOB_TAKEN, OP_OPEN, OP_SEAL,
	RING_SLOTS, wg_ring,
} from './if_wg_ring.js';

/* Session keys the threads can hold at once; past that, jobs are done at once on the data path. */
const KEY_SLOTS = 512;
/* Jobs waiting before a sleeping thread is woken. */
const WAKE_MIN = 4;
/* How long an idle thread looks for work before it sleeps. */
const SPIN_MS = 0.05;
/* Polls of a job another thread holds before the data path yields the core. */
const SPIN_WAIT = 20000;

/* Control words. */
const C_SEQ = 0;	/* bumped at every push: what sleeping threads wait on */
const C_SLEEPERS = 1;
const C_STOP = 2;
const C_STOPPED = 3;	/* threads that have wiped their context and left */
const C_FORGET = 4;	/* bumped at every key dropped */
const C_JOBS = 5;	/* jobs the threads did, added up as each goes idle */
const C_READY = 6;	/* threads that have attached their backend and take jobs */
const C_GENS = 16;	/* per key slot: bumped when its key is dropped */
const CTL_BYTES = (C_GENS + KEY_SLOTS) * 4;

/* What a crypto thread is started with. */
export interface wg_crypt_init {
	backend: WgCryptoBackend;
	ctl: SharedArrayBuffer;
	keys: SharedArrayBuffer;
	rings: SharedArrayBuffer[];	/* tx, rx */
	bufs: SharedArrayBuffer[];	/* the packet buffers jobs name by index */
}

/* A received message's job done: its context and place as given to open(), and the result. */
export type wg_crypt_done = (ctx: unknown, counter: number, ok: boolean, buf: Uint8Array, off: number,
    len: number, aux: number) => void;

function key_views(sab: SharedArrayBuffer): Uint8Array[] {
	return Array.from({ length: KEY_SLOTS }, (_, k) => new Uint8Array(sab, k * WG_KEY_LEN, WG_KEY_LEN));
}

/*
 * Seal or open one job in place.  A seal that fails (OpenSSL refusing
 * valid arguments) leaves zeros, never plaintext, for the wire.
 */
function wg_crypt_run(c: WgCrypto, r: wg_ring, s: number, keys: Uint8Array[], bufs: Uint8Array[]): void {
	const w = r.w;
	const key = keys[w[s + J_KEY]];
	const b = bufs[w[s + J_BUF]];
	const off = w[s + J_OFF];
	const len = w[s + J_LEN];
	let ok = false;
	try {
		if (w[s + J_OP] === OP_SEAL) {
			c.aead_seal_into(key, wg_ring.counter(w, s), b, off, len, null, b, off);
			ok = true;
		} else {
			ok = c.aead_open_into(key, wg_ring.counter(w, s), b, off, len, null, b, off);
		}
	} catch {
		if (w[s + J_OP] === OP_SEAL)
			b.fill(0, off, off + len + WG_AEAD_TAG_LEN);
	}
	Atomics.store(w, s, ok ? JOB_DONE_OK : JOB_DONE_FAIL);
}

/* The data-path thread's side. */
export class wg_crypt {
	/* Seals that failed (sent as zeros, which the peer drops). */
	tx_failed = 0;
	private readonly base: WgCrypto;
	private readonly ctl: Int32Array;
	private readonly keybuf: Uint8Array;
	private readonly keys: Uint8Array[];
	private readonly slot_of = new Map<Uint8Array, number>();
	private readonly free: number[] = [];
	private readonly tx = new wg_ring();
	private readonly rx = new wg_ring();
	private readonly sabs: SharedArrayBuffer[];
	private readonly bufs: Uint8Array[];
	/* Per rx slot, what the completion is given back. */
	private readonly rx_ctx: unknown[] = new Array<unknown>(RING_SLOTS).fill(null);
	private readonly rx_buf: Uint8Array[];
	private readonly rx_off = new Int32Array(RING_SLOTS);
	private readonly rx_len = new Int32Array(RING_SLOTS);
	private readonly rx_aux = new Int32Array(RING_SLOTS);
	private readonly threads: Worker[] = [];
	/* The last key looked up, and its slot (a batch is mostly one key). */
	private last_key: Uint8Array | null = null;
	private last_slot = -1;

	/* base: the data path's backend; bufs: the shared packet buffers jobs may be in; log: a one-line complaint. */
	constructor(nthreads: number, base: WgCrypto, bufs: SharedArrayBuffer[], log: (msg: string) => void = () => {}) {
		this.base = base;
		this.ctl = new Int32Array(new SharedArrayBuffer(CTL_BYTES));
		const keys = new SharedArrayBuffer(KEY_SLOTS * WG_KEY_LEN);
		this.keybuf = new Uint8Array(keys);
		this.keys = key_views(keys);
		for (let k = KEY_SLOTS - 1; k >= 0; k--)
			this.free.push(k);
		this.sabs = bufs;
		this.bufs = bufs.map((sab) => new Uint8Array(sab));
		this.rx_buf = new Array<Uint8Array>(RING_SLOTS).fill(new Uint8Array(0));
		const init: wg_crypt_init = { backend: base.backend, ctl: this.ctl.buffer as SharedArrayBuffer, keys,
		    rings: [this.tx.sab, this.rx.sab], bufs };
		for (let i = 0; i < nthreads; i++) {
			/*
			 * No node options of the parent's: a module hook it was
			 * started with (tap's TypeScript loader) leaves a thread
			 * waiting on its loader for good; V8's flags are the process's.
			 */
			try {
				const t = new Worker(new URL('./if_wg_crypt.js', import.meta.url), {
					workerData: { wg_crypt: init }, name: `wg_crypt ${i}`, execArgv: [],
				});
				t.unref();
				this.threads.push(t);
			} catch (e) {
				log(`crypto thread ${i} not started (${(e as Error).message}): ${i} of ${nthreads}`);
				break;
			}
		}
	}

	get nthreads(): number {
		return this.threads.length;
	}

	/* Threads started and taking jobs (a thread takes some 100 ms to start). */
	get threads_ready(): number {
		return Atomics.load(this.ctl, C_READY);
	}

	/* Jobs the threads (not the data path) have done, up to their last idle moment. */
	get thread_jobs(): number {
		return Atomics.load(this.ctl, C_JOBS);
	}

	/* Room for another received message? */
	get rx_full(): boolean {
		return this.rx.full;
	}

	/* key's slot in the shared table, -1 when it is full. */
	private key_slot(key: Uint8Array): number {
		if (key === this.last_key)
			return this.last_slot;
		let k = this.slot_of.get(key);
		if (k === undefined) {
			k = this.free.pop();
			if (k === undefined)
				return -1;
			this.keys[k].set(key);
			this.slot_of.set(key, k);
		}
		this.last_key = key;
		this.last_slot = k;
		return k;
	}

	private buf_id(buf: Uint8Array): number {
		const sabs = this.sabs;
		for (let i = 0; i < sabs.length; i++)
			if (buf.buffer === sabs[i])
				return i;
		return -1;
	}

	/* A job was pushed: a sleeping thread is woken once enough wait. */
	private pushed(): void {
		const ctl = this.ctl;
		Atomics.add(ctl, C_SEQ, 1);
		if (Atomics.load(ctl, C_SLEEPERS) > 0 && this.tx.count + this.rx.count >= WAKE_MIN)
			Atomics.notify(ctl, C_SEQ, 1);
	}

	/*
	 * Seal buf[off, off+len) in place (its tag after it) under key and
	 * counter, before tx_wait() returns.  False when the ring is full:
	 * the caller seals it itself.
	 */
	seal(key: Uint8Array, counter: number, buf: Uint8Array, off: number, len: number): boolean {
		const r = this.tx;
		if (r.full)
			return false;
		const id = this.buf_id(buf);
		const k = id < 0 ? -1 : this.key_slot(key);
		if (k < 0)
			return false;
		r.push(JOB_READY, OP_SEAL, k, counter, id, buf.byteOffset + off, len);
		this.pushed();
		return true;
	}

	/*
	 * Open buf[off, off+len) (ciphertext and tag) in place under key and
	 * counter; rx_complete() gives ctx, the place and aux back with the
	 * result, in this order.  False when the ring is full (the caller
	 * makes room with rx_complete() before each message).  Where the
	 * threads cannot have it (no key slot, a buffer not shared), it is
	 * opened now, and still completed in its turn.
	 */
	open(key: Uint8Array, counter: number, buf: Uint8Array, off: number, len: number, ctx: unknown,
	    aux: number): boolean {
		const r = this.rx;
		if (r.full)
			return false;
		const id = this.buf_id(buf);
		const k = id < 0 ? -1 : this.key_slot(key);
		let slot: number;
		if (k >= 0) {
			slot = r.push(JOB_READY, OP_OPEN, k, counter, id, buf.byteOffset + off, len);
			this.pushed();
		} else {
			const ok = this.base.aead_open_into(key, counter, buf, off, len, null, buf, off);
			slot = r.push(ok ? JOB_DONE_OK : JOB_DONE_FAIL, OP_OPEN, -1, counter, -1, 0, 0);
		}
		this.rx_ctx[slot] = ctx;
		this.rx_buf[slot] = buf;
		this.rx_off[slot] = off;
		this.rx_len[slot] = len;
		this.rx_aux[slot] = aux;
		return true;
	}

	/* Job s of ring r done, by whoever: the data path takes it, or other jobs while a thread has it. */
	private wait_done(r: wg_ring, s: number): void {
		if (r.take(s)) {
			wg_crypt_run(this.base, r, s, this.keys, this.bufs);
			return;
		}
		const w = r.w;
		for (let spins = 0; Atomics.load(w, s) === JOB_TAKEN;) {
			const t = this.tx.claim();
			if (t >= 0) {
				wg_crypt_run(this.base, this.tx, t, this.keys, this.bufs);
				continue;
			}
			const o = this.rx.claim();
			if (o >= 0) {
				wg_crypt_run(this.base, this.rx, o, this.keys, this.bufs);
				continue;
			}
			/* The thread holding it lost its core: give it ours for a moment. */
			if (++spins > SPIN_WAIT)
				Atomics.wait(w, s, JOB_TAKEN, 0.1);
		}
	}

	/* Every seal pushed is done: the transmit batch may go. */
	tx_wait(): void {
		const r = this.tx;
		while (r.count > 0) {
			const s = r.job(r.tail);
			this.wait_done(r, s);
			if (r.w[s] === JOB_DONE_FAIL)
				this.tx_failed++;
			r.pop();
		}
	}

	/* Every received message pushed, to done() in the order pushed. */
	rx_complete(done: wg_crypt_done): void {
		const r = this.rx;
		while (r.count > 0) {
			const s = r.job(r.tail);
			this.wait_done(r, s);
			const slot = wg_ring.slot(s);
			const ok = r.w[s] === JOB_DONE_OK;
			const counter = wg_ring.counter(r.w, s);
			const ctx = this.rx_ctx[slot];
			this.rx_ctx[slot] = null;
			r.pop();
			done(ctx, counter, ok, this.rx_buf[slot], this.rx_off[slot], this.rx_len[slot], this.rx_aux[slot]);
		}
	}

	/* Every job pushed is done (their results kept for tx_wait and rx_complete). */
	private barrier(): void {
		for (const r of [this.tx, this.rx])
			for (let i = r.tail; i !== r.head; i = (i + 1) | 0)
				this.wait_done(r, r.job(i));
	}

	/*
	 * The device drops key (its aead_forget must come here too): no job
	 * may hold it, and no copy of it may stay (see the header).
	 */
	forget(key: Uint8Array): void {
		const k = this.slot_of.get(key);
		if (k === undefined)
			return;
		this.barrier();
		this.slot_of.delete(key);
		if (this.last_key === key)
			this.last_key = null;
		this.base.aead_forget(this.keys[k]);
		this.keys[k].fill(0);
		const ctl = this.ctl;
		Atomics.add(ctl, C_GENS + k, 1);
		Atomics.add(ctl, C_FORGET, 1);
		Atomics.add(ctl, C_SEQ, 1);
		Atomics.notify(ctl, C_SEQ);
		this.free.push(k);
	}

	/*
	 * The interface goes (after the device dropped its keys): the
	 * threads wipe their contexts and leave; waited for, up to a second.
	 */
	destroy(): void {
		this.barrier();
		const ctl = this.ctl;
		Atomics.store(ctl, C_STOP, 1);
		Atomics.add(ctl, C_SEQ, 1);
		Atomics.notify(ctl, C_SEQ);
		const until = performance.now() + 1000;
		for (let n; (n = Atomics.load(ctl, C_STOPPED)) < this.threads.length && performance.now() < until;)
			Atomics.wait(ctl, C_STOPPED, n, 10);
		for (const k of this.keys)
			this.base.aead_forget(k);
		this.keybuf.fill(0);
		this.slot_of.clear();
		this.last_key = null;
	}
}

/* A crypto thread: take jobs from both rings; between them, spin a little, then sleep. */
function wg_crypt_thread(init: wg_crypt_init): void {
	const ctl = new Int32Array(init.ctl);
	try {
		const c = crypto_attach(init.backend);
		const keys = key_views(init.keys);
		const rings = init.rings.map((sab) => new wg_ring(sab));
		const bufs = init.bufs.map((sab) => new Uint8Array(sab));
		const gens = new Int32Array(KEY_SLOTS);
		const perf = globalThis.performance;
		let forgets = 0;
		Atomics.add(ctl, C_READY, 1);
		outer:
		while (Atomics.load(ctl, C_STOP) === 0) {
			const seq = Atomics.load(ctl, C_SEQ);
			if (Atomics.load(ctl, C_FORGET) !== forgets) {
				forgets = Atomics.load(ctl, C_FORGET);
				for (let k = 0; k < KEY_SLOTS; k++) {
					const g = Atomics.load(ctl, C_GENS + k);
					if (g !== gens[k]) {
						gens[k] = g;
						c.aead_forget(keys[k]);
					}
				}
			}
			let did = 0;
			for (const r of rings)
				for (let s = r.claim(); s >= 0; s = r.claim()) {
					wg_crypt_run(c, r, s, keys, bufs);
					did++;
				}
			if (did > 0) {
				Atomics.add(ctl, C_JOBS, did);
				continue;
			}
			for (const t0 = perf.now(); perf.now() - t0 < SPIN_MS;)
				if (Atomics.load(ctl, C_SEQ) !== seq)
					continue outer;
			Atomics.add(ctl, C_SLEEPERS, 1);
			Atomics.wait(ctl, C_SEQ, seq);
			Atomics.sub(ctl, C_SLEEPERS, 1);
		}
		for (const k of keys)
			c.aead_forget(k);
	} finally {
		Atomics.add(ctl, C_STOPPED, 1);
		Atomics.notify(ctl, C_STOPPED);
	}
}

if (!isMainThread && (workerData as { wg_crypt?: wg_crypt_init } | null)?.wg_crypt !== undefined)
	wg_crypt_thread((workerData as { wg_crypt: wg_crypt_init }).wg_crypt);

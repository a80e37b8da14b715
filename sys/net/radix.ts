// SPDX-License-Identifier: BSD-2-Clause
/*
 * The allowed-IPs table: longest-prefix match from an address to a value
 * (a peer), the data structure behind cryptokey routing (WireGuard paper
 * §2).  It plays the part of NetBSD's radix.c (rn_* names) and of Linux's
 * allowedips.c; one tree per address length.
 *
 * Layout.  A multibit trie with controlled prefix expansion, held in typed
 * arrays so that there are no per-node objects:
 *
 *   level 0    the root, a direct table indexed by the first 16 bits;
 *   level k>0  nodes of 16 slots indexed by the next 4 bits (bits
 *              16+4(k-1) .. 16+4k); each level has its own pool, so the
 *              nodes every lookup reads stay dense in memory.
 *
 * A slot is two int32s, [child, vid].  vid names the value of the longest
 * prefix whose last bit falls in this node's range and that covers the
 * slot (0: none); values are numbered (vid) so that a lookup ends in a
 * small array of distinct values, not in a per-prefix one.  child is a
 * node of the next level (> 0), nothing (0), or a "tail" (-entry): a
 * subtree that would hold a single prefix is not built, the slot points
 * at that prefix's entry and a lookup that reaches it compares the address
 * under the prefix's mask.  Tails keep sparse tables (IPv6 above all) to
 * a few slots per prefix and make the deep levels of a large IPv4 table
 * mostly unnecessary.  Per slot, a byte (cidr + 1, 0: none) tells the
 * control path which prefix holds it.
 *
 * A lookup therefore costs at most 1 + (bits - 16) / 4 slot reads (5 for
 * IPv4, 29 for IPv6) and one tail check, whatever the number of entries
 * or values; it stops at the first slot without a child.  (A branch-free
 * IPv4 walk that always read all five levels was measured too: about 4x
 * slower on small tables, and slower on large ones as well.)
 *
 * Entries (one per prefix) live in typed arrays as well: the masked
 * address words and (cidr << 24 | vid), and the links of a per-value ring
 * (insertion order) that makes rn_delete_value and rn_walkvalue
 * proportional to that value's prefixes.  An open-addressing hash on
 * (masked address, cidr) gives exact-prefix lookups.  Freed nodes and
 * entries go on free lists and are reused; an empty tree drops back to its
 * initial allocation.
 */

const ROOT_BITS = 16;
const ROOT_SLOTS = 1 << ROOT_BITS;
const STRIDE = 4;
const NODE_SLOTS = 1 << STRIDE;
const NODE_SHIFT = STRIDE + 1;		/* ints per node: NODE_SLOTS x [child, vid] */
/* Ids must stay well inside int32 once scaled; vids fit in 24 bits. */
const NODE_MAX = 1 << 25;
const ENTRY_MAX = 1 << 26;
const VID_MAX = (1 << 24) - 1;

const INIT_NODES = 8;
const INIT_ENTRIES = 64;
const INIT_HASH = 128;

/* Mask of the first n bits of a 32-bit word (n may be out of 0..32). */
function word_mask(n: number): number {
	if (n <= 0)
		return 0;
	if (n >= 32)
		return -1;
	return -1 << (32 - n);
}

function check_addr(fn: string, addr: unknown, len: number): Uint8Array {
	if (!(addr instanceof Uint8Array))
		throw new RangeError(`${fn}: address must be a Uint8Array`);
	if (addr.length !== len)
		throw new RangeError(`${fn}: address must be ${len} bytes ` +
		    `for an IPv${len === 4 ? 4 : 6} tree, got ${addr.length}`);
	return addr;
}

function check_cidr(fn: string, cidr: unknown, bits: number): number {
	if (typeof cidr !== 'number' || !Number.isInteger(cidr) ||
	    cidr < 0 || cidr > bits)
		throw new RangeError(`${fn}: cidr must be an integer in ` +
		    `0..${bits}, got ${String(cidr)}`);
	return cidr;
}

/* A copy of addr (4 or 16 bytes) with the bits past cidr cleared. */
export function prefix_mask(addr: Uint8Array, cidr: number): Uint8Array {
	if (!(addr instanceof Uint8Array))
		throw new RangeError('prefix_mask: address must be a Uint8Array');
	if (addr.length !== 4 && addr.length !== 16)
		throw new RangeError('prefix_mask: address must be 4 or 16 ' +
		    `bytes, got ${addr.length}`);
	check_cidr('prefix_mask', cidr, addr.length * 8);
	const out = new Uint8Array(addr.length);
	const full = cidr >> 3;
	out.set(addr.subarray(0, full));
	if (full < addr.length && (cidr & 7) !== 0)
		out[full] = addr[full] & (0xff << (8 - (cidr & 7)));
	return out;
}

/* Level whose slots hold a prefix of this length. */
function target(cidr: number): number {
	return cidr <= ROOT_BITS ? 0 : 1 + ((cidr - ROOT_BITS - 1) >> 2);
}

/* First bit of a level's range: its prefixes have cidr in (lo, lo + stride]. */
function level_lo(k: number): number {
	return k === 0 ? 0 : ROOT_BITS + STRIDE * (k - 1);
}

function slot(n: number, x: number): number {
	return (n << NODE_SHIFT) + (x << 1);
}

export class RadixTree<V> {
	readonly bits: 32 | 128;
	private readonly nw: number;		/* address words: 1 or 4 */
	private readonly es: number;		/* ints per entry in ent_d: nw + 1 */
	private readonly levels: number;

	/*
	 * Per level: slots, per-slot (cidr + 1) bytes, and per node the
	 * number of prefixes in its subtree (>= 2 while in use; the
	 * free-list link once freed).  Level 0 has the root as its only node.
	 */
	private readonly root = new Int32Array(ROOT_SLOTS * 2);
	private readonly root_len = new Uint8Array(ROOT_SLOTS);
	private pool!: Int32Array[];
	private plen!: Uint8Array[];
	private psub!: Int32Array[];
	private pnext!: number[];		/* first never-used node id */
	private pfree!: number[];

	private ent_d!: Int32Array;		/* per entry: masked words, cidr << 24 | vid */
	private ent_next!: Int32Array;		/* per-value ring; free-list link */
	private ent_prev!: Int32Array;
	private n_ent = 1;			/* entry 0: none */
	private ent_free = 0;

	private vid_of = new Map<V, number>();
	private vid_val!: (V | undefined)[];	/* vid_val[0] stays undefined */
	private vid_ref!: number[];		/* prefixes holding the value */
	private vid_head!: number[];		/* first entry of the value's ring */
	private vid_free!: number[];

	private ht!: Int32Array;		/* exact-prefix hash: entry ids, 0 empty */
	private _count = 0;

	/* Scratch (control path only). */
	private readonly pw: Int32Array;
	private readonly sw: Int32Array;
	private readonly path_node: Int32Array;
	private readonly path_ci: Int32Array;

	constructor(bits: 32 | 128) {
		if (bits !== 32 && bits !== 128)
			throw new RangeError(`RadixTree: bits must be 32 or 128, got ${String(bits)}`);
		this.bits = bits;
		this.nw = bits >> 5;
		this.es = this.nw + 1;
		this.levels = 1 + (bits - ROOT_BITS) / STRIDE;
		this.pw = new Int32Array(this.nw);
		this.sw = new Int32Array(this.nw);
		this.path_node = new Int32Array(this.levels);
		this.path_ci = new Int32Array(this.levels);
		this.reset();
	}

	get count(): number {
		return this._count;
	}

	private reset(): void {
		/* The root never grows: keep it (it is all zero again by now). */
		this.pool = [this.root.fill(0)];
		this.plen = [this.root_len.fill(0)];
		this.psub = [new Int32Array(1)];
		this.pnext = [1];
		this.pfree = [0];
		for (let k = 1; k < this.levels; k++) {
			this.pool.push(new Int32Array(INIT_NODES << NODE_SHIFT));
			this.plen.push(new Uint8Array(INIT_NODES * NODE_SLOTS));
			this.psub.push(new Int32Array(INIT_NODES));
			this.pnext.push(1);		/* node 0 stays unused: child 0 means none */
			this.pfree.push(0);
		}
		this.ent_d = new Int32Array(INIT_ENTRIES * this.es);
		this.ent_next = new Int32Array(INIT_ENTRIES);
		this.ent_prev = new Int32Array(INIT_ENTRIES);
		this.n_ent = 1;
		this.ent_free = 0;
		this.vid_of.clear();
		this.vid_val = [undefined];
		this.vid_ref = [0];
		this.vid_head = [0];
		this.vid_free = [];
		this.ht = new Int32Array(INIT_HASH);
		this._count = 0;
	}

	/* ---- Data path ---- */

	/*
	 * Longest-prefix match of the address at buf[off, off + bits/8), read
	 * in place (a packet's source or destination field).  No allocation.
	 */
	rn_match(buf: Uint8Array, off: number): V | undefined {
		if (!(buf instanceof Uint8Array) || (off >>> 0) !== off ||
		    off + (this.nw << 2) > buf.length)
			throw new RangeError(`rn_match: need ${this.nw << 2} ` +
			    'address bytes at a valid offset of a Uint8Array');
		return this.vid_val[this.nw === 1 ?
		    this.match4(buf, off) : this.match6(buf, off)];
	}

	/*
	 * IPv4: at most five slot reads.  The last level has no children, so
	 * the walk ends there at the latest.  A tail is deeper, hence longer,
	 * than anything found on the way; its cidr is > 16, so the shift is in
	 * range.
	 */
	private match4(buf: Uint8Array, off: number): number {
		const a = (buf[off] << 24) | (buf[off + 1] << 16) |
		    (buf[off + 2] << 8) | buf[off + 3];
		const pool = this.pool;
		let i = (a >>> ROOT_BITS) << 1;
		let c = pool[0][i];
		let best = pool[0][i + 1];
		for (let k = 1, sh = ROOT_BITS - STRIDE; c > 0; k++, sh -= STRIDE) {
			const p = pool[k];
			i = (c << NODE_SHIFT) | (((a >>> sh) & 15) << 1);
			c = p[i];
			const v = p[i + 1];
			if (v !== 0)
				best = v;
		}
		if (c === 0)
			return best;
		const ed = this.ent_d;
		const t = -c << 1;
		const info = ed[t + 1];
		if (((a ^ ed[t]) & (-1 << (32 - (info >>> 24)))) !== 0)
			return best;
		return info & VID_MAX;
	}

	/* IPv6: up to 29 levels; stops at the first missing child. */
	private match6(buf: Uint8Array, off: number): number {
		const pool = this.pool;
		let a = (buf[off] << 24) | (buf[off + 1] << 16) |
		    (buf[off + 2] << 8) | buf[off + 3];
		let i = (a >>> ROOT_BITS) << 1;
		let c = pool[0][i];
		let best = pool[0][i + 1];
		let t = 0;
		if (c < 0) {
			t = -c;
		} else if (c > 0) {
			let n = c;
			let k = 1;
			let sh = ROOT_BITS - STRIDE;
			let o = off;
			for (;;) {
				const p = pool[k];
				i = (n << NODE_SHIFT) | (((a >>> sh) & 15) << 1);
				c = p[i];
				const v = p[i + 1];
				if (v !== 0)
					best = v;
				if (c <= 0) {
					if (c < 0)
						t = -c;
					break;
				}
				n = c;
				k++;
				if (sh === 0) {
					/* Only the last level has no children: o stays in the address. */
					o += 4;
					a = (buf[o] << 24) | (buf[o + 1] << 16) |
					    (buf[o + 2] << 8) | buf[o + 3];
					sh = 32 - STRIDE;
				} else {
					sh -= STRIDE;
				}
			}
		}
		if (t === 0)
			return best;
		const ed = this.ent_d;
		const b = t * 5;		/* this.es for IPv6 */
		const info = ed[b + 4];
		const cidr = info >>> 24;
		for (let w = 0; w < 4; w++) {
			const nb = cidr - (w << 5);
			if (nb <= 0)
				break;
			const o = off + (w << 2);
			const x = (buf[o] << 24) | (buf[o + 1] << 16) |
			    (buf[o + 2] << 8) | buf[o + 3];
			if (((x ^ ed[b + w]) & (nb >= 32 ? -1 : -1 << (32 - nb))) !== 0)
				return best;
		}
		return info & VID_MAX;
	}

	/* ---- Control path ---- */

	/*
	 * Insert addr/cidr (host bits are masked).  Returns the value stored
	 * before at exactly that prefix, which the new value replaces, or
	 * undefined.  EEXIST-versus-move is the caller's policy.
	 */
	rn_addroute(addr: Uint8Array, cidr: number, value: V): V | undefined {
		this.load_prefix('rn_addroute', addr, cidr);
		if (value === undefined)
			throw new RangeError('rn_addroute: value must not be undefined');
		const found = this.hash_find(this.pw, 0, cidr);
		/* Fail before touching anything if ids would run out. */
		if ((!this.vid_of.has(value) && this.vid_free.length === 0 &&
		    this.vid_val.length > VID_MAX) ||
		    (found === 0 && (this.n_ent >= ENTRY_MAX ||
		    this.pnext.some((x) => x + 1 >= NODE_MAX))))
			throw new RangeError('rn_addroute: table full');
		if (found !== 0) {
			const old = this.vid_val[this.ent_vid(found)] as V;
			if (old !== value) {
				this.vring_unlink(found);
				this.ent_set_vid(found, this.vid_get(value));
				this.vring_link(found);
				this.trie_revalue(found);
			}
			return old;
		}
		const e = this.ent_alloc(this.pw, cidr, this.vid_get(value));
		this.hash_add(e);
		this._count++;
		this.trie_insert(e);
		return undefined;
	}

	/* The value stored at exactly addr/cidr (after masking). */
	rn_lookup(addr: Uint8Array, cidr: number): V | undefined {
		this.load_prefix('rn_lookup', addr, cidr);
		return this.vid_val[this.ent_vid(this.hash_find(this.pw, 0, cidr))];
	}

	/* Remove exactly addr/cidr (after masking); returns its value. */
	rn_delete(addr: Uint8Array, cidr: number): V | undefined {
		this.load_prefix('rn_delete', addr, cidr);
		const e = this.hash_find(this.pw, 0, cidr);
		if (e === 0)
			return undefined;
		const v = this.vid_val[this.ent_vid(e)];
		this.remove_entry(e);
		return v;
	}

	/* Remove every prefix whose value is v; returns how many. */
	rn_delete_value(v: V): number {
		const ids = this.vring_ids(v);
		for (const e of ids)
			this.remove_entry(e);
		return ids.length;
	}

	/*
	 * Every prefix as (masked address copy, cidr, value), in address
	 * order (shorter prefix first on a tie).  The callback may change
	 * the tree: it sees the snapshot taken at the call.
	 */
	rn_walktree(cb: (addr: Uint8Array, cidr: number, value: V) => void): void {
		const ids: number[] = [];
		for (let e = 1; e < this.n_ent; e++)
			if (this.ent_vid(e) !== 0)
				ids.push(e);
		ids.sort((x, y) => this.ent_compare(x, y));
		this.walk_ids(ids, cb);
	}

	/*
	 * Extension: the prefixes of one value, in the order they were added
	 * (or moved to it).  Snapshot semantics as rn_walktree.
	 */
	rn_walkvalue(v: V, cb: (addr: Uint8Array, cidr: number, value: V) => void): void {
		this.walk_ids(this.vring_ids(v), cb);
	}

	/*
	 * Extension: bytes held by the table: typed arrays, plus 8 per slot of
	 * the JS arrays (the values themselves are not counted).
	 */
	rn_memsize(): number {
		let n = this.ent_d.byteLength + this.ent_next.byteLength +
		    this.ent_prev.byteLength + this.ht.byteLength +
		    this.vid_val.length * 24;
		for (let k = 0; k < this.levels; k++)
			n += this.pool[k].byteLength + this.plen[k].byteLength +
			    this.psub[k].byteLength;
		return n;
	}

	private walk_ids(ids: number[], cb: (addr: Uint8Array, cidr: number, value: V) => void): void {
		const snap = ids.map((e) => ({
			addr: this.ent_addr(e), cidr: this.ent_cidr(e),
			value: this.vid_val[this.ent_vid(e)] as V,
		}));
		for (const s of snap)
			cb(s.addr, s.cidr, s.value);
	}

	/* Validate, then leave the masked address words in this.pw. */
	private load_prefix(fn: string, addr: unknown, cidr: unknown): void {
		const a = check_addr(fn, addr, this.nw << 2);
		const c = check_cidr(fn, cidr, this.bits);
		for (let k = 0; k < this.nw; k++) {
			const o = k << 2;
			const w = (a[o] << 24) | (a[o + 1] << 16) |
			    (a[o + 2] << 8) | a[o + 3];
			this.pw[k] = w & word_mask(c - (k << 5));
		}
	}

	/* ---- Trie ---- */

	/* Slot index of entry e's address in a node of level k. */
	private chunk(k: number, e: number): number {
		const b = e * this.es;
		if (k === 0)
			return this.ent_d[b] >>> (32 - ROOT_BITS);
		const bit = level_lo(k);
		return (this.ent_d[b + (bit >> 5)] >>> (32 - STRIDE - (bit & 31))) &
		    (NODE_SLOTS - 1);
	}

	private trie_insert(e: number): void {
		const K = target(this.ent_cidr(e));
		let n = 0;
		for (let k = 0; ; k++) {
			if (k === K) {
				this.expand(k, n, e);
				return;
			}
			const ci = slot(n, this.chunk(k, e));
			const ch = this.pool[k][ci];
			if (ch === 0) {
				this.pool[k][ci] = -e;
				return;
			}
			let m = ch;
			if (ch < 0) {
				/* A tail in the way: give it a node of its own, one level down. */
				const q = -ch;
				m = this.node_alloc(k + 1);
				this.psub[k + 1][m] = 1;
				if (target(this.ent_cidr(q)) === k + 1)
					this.expand(k + 1, m, q);
				else
					this.pool[k + 1][slot(m, this.chunk(k + 1, q))] = -q;
				this.pool[k][ci] = m;
			}
			this.psub[k + 1][m]++;
			n = m;
		}
	}

	/* Slots of a level-k node that entry e's prefix covers: [first, first + span). */
	private span_of(k: number, e: number): [number, number] {
		const bits = k === 0 ? ROOT_BITS : STRIDE;
		const span = 1 << (bits - (this.ent_cidr(e) - level_lo(k)));
		return [this.chunk(k, e) & ~(span - 1), span];
	}

	/* Controlled prefix expansion: e wins every covered slot held by a shorter prefix. */
	private expand(k: number, n: number, e: number): void {
		const arr = this.pool[k];
		const len = this.plen[k];
		const c = this.ent_cidr(e);
		const vid = this.ent_vid(e);
		const [first, span] = this.span_of(k, e);
		for (let x = first; x < first + span; x++) {
			const li = (n << STRIDE) + x;
			if (len[li] <= c) {
				len[li] = c + 1;
				arr[slot(n, x) + 1] = vid;
			}
		}
	}

	/* Undo expand: slots e held go to the next longer prefix of this node covering e. */
	private unexpand(k: number, n: number, e: number): void {
		const arr = this.pool[k];
		const len = this.plen[k];
		const c = this.ent_cidr(e);
		const lo = k === 0 ? 0 : level_lo(k) + 1;
		let r = 0;
		const b = e * this.es;
		for (let cc = c - 1; cc >= lo && r === 0; cc--) {
			for (let w = 0; w < this.nw; w++)
				this.sw[w] = this.ent_d[b + w] & word_mask(cc - (w << 5));
			r = this.hash_find(this.sw, 0, cc);
		}
		const rl = r === 0 ? 0 : this.ent_cidr(r) + 1;
		const rv = this.ent_vid(r);
		const [first, span] = this.span_of(k, e);
		for (let x = first; x < first + span; x++) {
			const li = (n << STRIDE) + x;
			if (len[li] === c + 1) {
				len[li] = rl;
				arr[slot(n, x) + 1] = rv;
			}
		}
	}

	/* e's value changed: rewrite the slots it holds (a tail reads it from the entry). */
	private trie_revalue(e: number): void {
		const K = target(this.ent_cidr(e));
		let n = 0;
		for (let k = 0; k < K; k++) {
			const ch = this.pool[k][slot(n, this.chunk(k, e))];
			if (ch <= 0)
				return;
			n = ch;
		}
		const arr = this.pool[K];
		const len = this.plen[K];
		const c = this.ent_cidr(e);
		const vid = this.ent_vid(e);
		const [first, span] = this.span_of(K, e);
		for (let x = first; x < first + span; x++)
			if (len[(n << STRIDE) + x] === c + 1)
				arr[slot(n, x) + 1] = vid;
	}

	/*
	 * The entry of prefix /cc held in slot x of the level-k node on e's
	 * path: e's bits above the node, then x, masked to cc.
	 */
	private slot_entry(k: number, e: number, x: number, cc: number): number {
		const lo = level_lo(k);
		const b = e * this.es;
		for (let w = 0; w < this.nw; w++)
			this.sw[w] = this.ent_d[b + w] & word_mask(lo - (w << 5));
		this.sw[lo >> 5] |= x << (32 - STRIDE - (lo & 31));
		for (let w = 0; w < this.nw; w++)
			this.sw[w] &= word_mask(cc - (w << 5));
		return this.hash_find(this.sw, 0, cc);
	}

	private remove_entry(e: number): void {
		const K = target(this.ent_cidr(e));
		let n = 0;
		let d = 0;
		for (let k = 0; ; k++) {
			if (k === K) {
				this.unexpand(k, n, e);
				break;
			}
			const ci = slot(n, this.chunk(k, e));
			const ch = this.pool[k][ci];
			if (ch === -e) {
				this.pool[k][ci] = 0;
				break;
			}
			if (ch <= 0)
				throw new Error('radix: entry missing from the trie');
			/* path_node[d]: node at level d + 1, reached from slot path_ci[d] of level d. */
			this.path_node[d] = ch;
			this.path_ci[d] = ci;
			d++;
			n = ch;
		}
		for (let i = 0; i < d; i++)
			this.psub[i + 1][this.path_node[i]]--;
		/*
		 * Bottom-up: a node left with no prefix goes; one left with a
		 * single prefix becomes a tail in its parent.  Nodes off the path
		 * still hold >= 2, so that prefix is the node's own or a tail child.
		 */
		for (let i = d - 1; i >= 0; i--) {
			const k = i + 1;
			const m = this.path_node[i];
			const s = this.psub[k][m];
			if (s >= 2)
				break;
			let f = 0;
			if (s === 1) {
				const arr = this.pool[k];
				const len = this.plen[k];
				for (let x = 0; x < NODE_SLOTS && f === 0; x++) {
					const l = len[(m << STRIDE) + x];
					if (l !== 0)
						f = this.slot_entry(k, e, x, l - 1);
					else if (arr[slot(m, x)] < 0)
						f = -arr[slot(m, x)];
				}
			}
			this.pool[i][this.path_ci[i]] = -f;
			this.node_release(k, m);
		}
		this.hash_remove(e);
		this.ent_release(e);
		this._count--;
		if (this._count === 0)
			this.reset();
	}

	private node_alloc(k: number): number {
		let n = this.pfree[k];
		if (n !== 0) {
			this.pfree[k] = this.psub[k][n];
			this.psub[k][n] = 0;
			return n;
		}
		n = this.pnext[k]++;
		if (n >= this.psub[k].length) {
			const cap = this.psub[k].length * 3 >> 1;
			const pool = new Int32Array(cap << NODE_SHIFT);
			pool.set(this.pool[k]);
			this.pool[k] = pool;
			const len = new Uint8Array(cap * NODE_SLOTS);
			len.set(this.plen[k]);
			this.plen[k] = len;
			const sub = new Int32Array(cap);
			sub.set(this.psub[k]);
			this.psub[k] = sub;
		}
		return n;
	}

	private node_release(k: number, n: number): void {
		this.pool[k].fill(0, n << NODE_SHIFT, (n + 1) << NODE_SHIFT);
		this.plen[k].fill(0, n << STRIDE, (n + 1) << STRIDE);
		this.psub[k][n] = this.pfree[k];
		this.pfree[k] = n;
	}

	/* ---- Entries ---- */

	private ent_cidr(e: number): number {
		return this.ent_d[e * this.es + this.nw] >>> 24;
	}

	private ent_vid(e: number): number {
		return this.ent_d[e * this.es + this.nw] & VID_MAX;
	}

	private ent_set_vid(e: number, vid: number): void {
		const i = e * this.es + this.nw;
		this.ent_d[i] = (this.ent_d[i] & ~VID_MAX) | vid;
	}

	private ent_alloc(words: Int32Array, cidr: number, vid: number): number {
		let e = this.ent_free;
		if (e !== 0) {
			this.ent_free = this.ent_next[e];
		} else {
			e = this.n_ent++;
			if (e >= this.ent_next.length)
				this.ent_grow();
		}
		const b = e * this.es;
		for (let w = 0; w < this.nw; w++)
			this.ent_d[b + w] = words[w];
		this.ent_d[b + this.nw] = (cidr << 24) | vid;
		this.vring_link(e);
		return e;
	}

	private ent_grow(): void {
		const cap = this.ent_next.length * 3 >> 1;
		const d = new Int32Array(cap * this.es);
		d.set(this.ent_d);
		this.ent_d = d;
		const next = new Int32Array(cap);
		next.set(this.ent_next);
		this.ent_next = next;
		const prev = new Int32Array(cap);
		prev.set(this.ent_prev);
		this.ent_prev = prev;
	}

	private ent_release(e: number): void {
		this.vring_unlink(e);
		this.ent_d.fill(0, e * this.es, (e + 1) * this.es);
		this.ent_prev[e] = 0;
		this.ent_next[e] = this.ent_free;
		this.ent_free = e;
	}

	private ent_addr(e: number): Uint8Array {
		const out = new Uint8Array(this.nw << 2);
		const b = e * this.es;
		for (let w = 0; w < this.nw; w++) {
			const x = this.ent_d[b + w];
			out[w << 2] = x >>> 24;
			out[(w << 2) + 1] = x >>> 16;
			out[(w << 2) + 2] = x >>> 8;
			out[(w << 2) + 3] = x;
		}
		return out;
	}

	private ent_compare(x: number, y: number): number {
		const bx = x * this.es;
		const by = y * this.es;
		for (let w = 0; w < this.nw; w++) {
			const a = this.ent_d[bx + w] >>> 0;
			const b = this.ent_d[by + w] >>> 0;
			if (a !== b)
				return a < b ? -1 : 1;
		}
		return this.ent_cidr(x) - this.ent_cidr(y);
	}

	/* ---- Values: numbered, each with a ring of its entries in insertion order ---- */

	private vid_get(v: V): number {
		let vid = this.vid_of.get(v);
		if (vid !== undefined)
			return vid;
		vid = this.vid_free.pop();
		if (vid === undefined) {
			vid = this.vid_val.length;
			this.vid_val.push(v);
			this.vid_ref.push(0);
			this.vid_head.push(0);
		} else {
			this.vid_val[vid] = v;
		}
		this.vid_of.set(v, vid);
		return vid;
	}

	private vring_link(e: number): void {
		const vid = this.ent_vid(e);
		const h = this.vid_head[vid];
		this.vid_ref[vid]++;
		if (h === 0) {
			this.vid_head[vid] = e;
			this.ent_next[e] = e;
			this.ent_prev[e] = e;
			return;
		}
		const t = this.ent_prev[h];
		this.ent_next[t] = e;
		this.ent_prev[e] = t;
		this.ent_next[e] = h;
		this.ent_prev[h] = e;
	}

	private vring_unlink(e: number): void {
		const vid = this.ent_vid(e);
		if (--this.vid_ref[vid] === 0) {
			this.vid_of.delete(this.vid_val[vid] as V);
			this.vid_val[vid] = undefined;
			this.vid_head[vid] = 0;
			this.vid_free.push(vid);
			return;
		}
		const nx = this.ent_next[e];
		const pv = this.ent_prev[e];
		this.ent_next[pv] = nx;
		this.ent_prev[nx] = pv;
		if (this.vid_head[vid] === e)
			this.vid_head[vid] = nx;
	}

	private vring_ids(v: V): number[] {
		const ids: number[] = [];
		const vid = this.vid_of.get(v);
		if (vid === undefined)
			return ids;
		const h = this.vid_head[vid];
		let e = h;
		do {
			ids.push(e);
			e = this.ent_next[e];
		} while (e !== h);
		return ids;
	}

	/* ---- Exact-prefix hash: linear probing, backward-shift deletion ---- */

	private static hash(words: Int32Array, off: number, nw: number, cidr: number): number {
		let h = Math.imul(cidr + 1, 0x9e3779b1);
		for (let w = 0; w < nw; w++) {
			h = Math.imul(h ^ words[off + w], 0x85ebca6b);
			h ^= h >>> 13;
		}
		h = Math.imul(h, 0xc2b2ae35);
		return h ^ (h >>> 16);
	}

	private ent_home(e: number): number {
		return RadixTree.hash(this.ent_d, e * this.es, this.nw,
		    this.ent_cidr(e)) & (this.ht.length - 1);
	}

	private hash_find(words: Int32Array, off: number, cidr: number): number {
		const ht = this.ht;
		const mask = ht.length - 1;
		for (let i = RadixTree.hash(words, off, this.nw, cidr) & mask; ; i = (i + 1) & mask) {
			const e = ht[i];
			if (e === 0)
				return 0;
			if (this.ent_cidr(e) !== cidr)
				continue;
			const b = e * this.es;
			let w = 0;
			while (w < this.nw && this.ent_d[b + w] === words[off + w])
				w++;
			if (w === this.nw)
				return e;
		}
	}

	private hash_add(e: number): void {
		if ((this._count + 1) * 2 > this.ht.length) {
			const old = this.ht;
			this.ht = new Int32Array(old.length * 2);
			for (let i = 0; i < old.length; i++)
				if (old[i] !== 0)
					this.hash_put(old[i]);
		}
		this.hash_put(e);
	}

	private hash_put(e: number): void {
		const mask = this.ht.length - 1;
		let i = this.ent_home(e);
		while (this.ht[i] !== 0)
			i = (i + 1) & mask;
		this.ht[i] = e;
	}

	private hash_remove(e: number): void {
		const ht = this.ht;
		const mask = ht.length - 1;
		let i = this.ent_home(e);
		while (ht[i] !== e)
			i = (i + 1) & mask;
		for (let j = (i + 1) & mask; ht[j] !== 0; j = (j + 1) & mask) {
			/* Move ht[j] back into the hole unless its home lies in (i, j]. */
			const h = this.ent_home(ht[j]);
			if (((j - h) & mask) >= ((j - i) & mask)) {
				ht[i] = ht[j];
				i = j;
			}
		}
		ht[i] = 0;
	}
}

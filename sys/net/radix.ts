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
 *              16+4(k-1) .. 16+4k), all in one Int32Array pool.
 *
 * A slot is two int32s, [child, value]: value is the entry of the longest
 * prefix whose last bit falls in this node's bit range and that covers the
 * slot (0: none); child is a node of the next level (> 0), nothing (0),
 * or a "tail" (-entry): a subtree that would hold just one prefix is not
 * built, the slot points at that prefix's entry and a lookup that reaches
 * it compares the address under the prefix's mask.  Tails keep sparse
 * tables (IPv6 above all) to a few slots per prefix and make the deep
 * levels of a large IPv4 table mostly unnecessary.
 *
 * A lookup therefore costs at most 1 + (bits - 16) / 4 slot reads (5 for
 * IPv4, 29 for IPv6) whatever the number of entries or values.  The IPv4
 * match is branch-free: it always reads the five levels (the missing ones
 * in node 0, an all-zero node that stays in cache), so consecutive
 * lookups overlap their cache misses instead of stalling on mispredicted
 * branches.
 *
 * Entries (one per prefix) live in typed arrays as well: masked address
 * words and masks (for tails and enumeration), cidr, and links of a
 * per-value ring (insertion order) that makes rn_delete_value and
 * rn_walkvalue proportional to that value's prefixes.  An open-addressing
 * hash on (masked address, cidr) gives exact-prefix lookups.  Freed nodes
 * and entries go on free lists and are reused; an empty tree drops back
 * to its initial allocation.
 */

const ROOT_BITS = 16;
const ROOT_SLOTS = 1 << ROOT_BITS;
const STRIDE = 4;
const NODE_SLOTS = 1 << STRIDE;
const NODE_INTS = NODE_SLOTS * 2;	/* [child, value] per slot */
const NODE_SHIFT = 5;			/* log2(NODE_INTS) */
/* Node and entry ids must stay well inside int32 once scaled. */
const NODE_MAX = 1 << 25;
const ENTRY_MAX = 1 << 26;

const INIT_NODES = 64;
const INIT_ENTRIES = 64;
const INIT_HASH = 128;

/* Mask of the first n bits of a 32-bit word (n in 0..32). */
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

export class RadixTree<V> {
	readonly bits: 32 | 128;
	private readonly nw: number;		/* address words: 1 or 4 */
	private readonly ed: number;		/* ints per entry in ent_d */
	private readonly levels: number;

	private root!: Int32Array;		/* ROOT_SLOTS x [child, value] */
	private pool!: Int32Array;		/* nodes x NODE_INTS */
	/* Prefixes in a node's subtree (>= 2 while it is in use); free-list link once freed. */
	private sub!: Int32Array;
	private n_nodes = 1;			/* node 0: the all-zero node */
	private node_free = 0;

	private ent_d!: Int32Array;		/* per entry: nw masked words, nw masks */
	private ent_cidr!: Uint8Array;
	private ent_next!: Int32Array;		/* per-value ring; free-list link */
	private ent_prev!: Int32Array;
	private vals!: (V | undefined)[];	/* vals[0] stays undefined */
	private n_ent = 1;			/* entry 0: none */
	private ent_free = 0;
	private vhead = new Map<V, number>();

	private ht!: Int32Array;		/* exact-prefix hash: entry ids, 0 empty */
	private _count = 0;

	/* Scratch (control path only). */
	private readonly pw: Int32Array;
	private readonly sw: Int32Array;
	private readonly path_node: Int32Array;
	private readonly path_ci: Int32Array;
	private readonly path_lev: Int32Array;

	constructor(bits: 32 | 128) {
		if (bits !== 32 && bits !== 128)
			throw new RangeError(`RadixTree: bits must be 32 or 128, got ${String(bits)}`);
		this.bits = bits;
		this.nw = bits >> 5;
		this.ed = this.nw * 2;
		this.levels = 1 + (bits - ROOT_BITS) / STRIDE;
		this.pw = new Int32Array(this.nw);
		this.sw = new Int32Array(this.nw);
		this.path_node = new Int32Array(this.levels);
		this.path_ci = new Int32Array(this.levels);
		this.path_lev = new Int32Array(this.levels);
		this.reset();
	}

	get count(): number {
		return this._count;
	}

	private reset(): void {
		this.root = new Int32Array(ROOT_SLOTS * 2);
		this.pool = new Int32Array(INIT_NODES * NODE_INTS);
		this.sub = new Int32Array(INIT_NODES);
		this.n_nodes = 1;
		this.node_free = 0;
		this.ent_d = new Int32Array(INIT_ENTRIES * this.ed);
		this.ent_cidr = new Uint8Array(INIT_ENTRIES);
		this.ent_next = new Int32Array(INIT_ENTRIES);
		this.ent_prev = new Int32Array(INIT_ENTRIES);
		this.vals = new Array<V | undefined>(INIT_ENTRIES).fill(undefined);
		this.n_ent = 1;
		this.ent_free = 0;
		this.vhead.clear();
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
		if (this.nw === 1)
			return this.vals[this.match4(buf, off)];
		return this.vals[this.match6(buf, off)];
	}

	/*
	 * IPv4: five levels, no data-dependent branch.  After a missing child
	 * the walk continues in node 0, whose slots are all zero; a tail seen
	 * on the way is remembered and checked once at the end (it is always
	 * deeper, hence longer, than any value found on the way).
	 * mk = x >> 31 is all-ones for a negative x; (v | -v) >> 31 for v != 0.
	 */
	private match4(buf: Uint8Array, off: number): number {
		const a = (buf[off] << 24) | (buf[off + 1] << 16) |
		    (buf[off + 2] << 8) | buf[off + 3];
		const pool = this.pool;
		let i = (a >>> ROOT_BITS) << 1;
		let c = this.root[i];
		let best = this.root[i + 1];
		let mk = c >> 31;
		let t = -c & mk;
		let n = c & ~mk;
		let v: number;

		i = (n << NODE_SHIFT) | (((a >>> 12) & 15) << 1);
		c = pool[i]; v = pool[i + 1];
		mk = (v | -v) >> 31; best = (v & mk) | (best & ~mk);
		mk = c >> 31; t = (-c & mk) | (t & ~mk); n = c & ~mk;

		i = (n << NODE_SHIFT) | (((a >>> 8) & 15) << 1);
		c = pool[i]; v = pool[i + 1];
		mk = (v | -v) >> 31; best = (v & mk) | (best & ~mk);
		mk = c >> 31; t = (-c & mk) | (t & ~mk); n = c & ~mk;

		i = (n << NODE_SHIFT) | (((a >>> 4) & 15) << 1);
		c = pool[i]; v = pool[i + 1];
		mk = (v | -v) >> 31; best = (v & mk) | (best & ~mk);
		mk = c >> 31; t = (-c & mk) | (t & ~mk); n = c & ~mk;

		/* Last level: bits 28..31, no children below it. */
		i = (n << NODE_SHIFT) | ((a & 15) << 1);
		v = pool[i + 1];
		mk = (v | -v) >> 31; best = (v & mk) | (best & ~mk);

		/* Tail t (0: none; entry 0 has an all-zero word and mask). */
		const ed = this.ent_d;
		const x = (a ^ ed[t << 1]) & ed[(t << 1) + 1];
		mk = ~((x | -x) >> 31) & ((t | -t) >> 31);
		return (t & mk) | (best & ~mk);
	}

	/* IPv6: up to 29 levels; stops at the first missing child. */
	private match6(buf: Uint8Array, off: number): number {
		const pool = this.pool;
		const a0 = (buf[off] << 24) | (buf[off + 1] << 16) |
		    (buf[off + 2] << 8) | buf[off + 3];
		let i = (a0 >>> ROOT_BITS) << 1;
		let c = this.root[i];
		let best = this.root[i + 1];
		let t = 0;
		if (c < 0) {
			t = -c;
		} else if (c > 0) {
			let n = c;
			let a = a0;
			let sh = ROOT_BITS - STRIDE;
			let w = 0;
			for (;;) {
				i = (n << NODE_SHIFT) | (((a >>> sh) & 15) << 1);
				c = pool[i];
				const v = pool[i + 1];
				if (v !== 0)
					best = v;
				if (c <= 0) {
					if (c < 0)
						t = -c;
					break;
				}
				n = c;
				if (sh === 0) {
					/* Only the last level has no children. */
					w++;
					const o = off + (w << 2);
					a = (buf[o] << 24) | (buf[o + 1] << 16) |
					    (buf[o + 2] << 8) | buf[o + 3];
					sh = 32 - STRIDE;
				} else {
					sh -= STRIDE;
				}
			}
		}
		if (t !== 0) {
			const ed = this.ent_d;
			const b = t << 3;
			for (let k = 0; k < 4; k++) {
				const o = off + (k << 2);
				const w = (buf[o] << 24) | (buf[o + 1] << 16) |
				    (buf[o + 2] << 8) | buf[o + 3];
				if (((w ^ ed[b + k]) & ed[b + 4 + k]) !== 0)
					return best;
			}
			return t;
		}
		return best;
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
		if (found !== 0) {
			const old = this.vals[found] as V;
			if (old !== value) {
				this.vring_unlink(found, old);
				this.vals[found] = value;
				this.vring_link(found, value);
			}
			return old;
		}
		/* Fail before touching anything if ids would overflow. */
		if (this.n_nodes + this.levels >= NODE_MAX ||
		    this.n_ent >= ENTRY_MAX)
			throw new RangeError('rn_addroute: table full');
		const e = this.ent_alloc(this.pw, cidr, value);
		this.hash_add(e);
		this._count++;
		this.trie_insert(e);
		return undefined;
	}

	/* The value stored at exactly addr/cidr (after masking). */
	rn_lookup(addr: Uint8Array, cidr: number): V | undefined {
		this.load_prefix('rn_lookup', addr, cidr);
		return this.vals[this.hash_find(this.pw, 0, cidr)];
	}

	/* Remove exactly addr/cidr (after masking); returns its value. */
	rn_delete(addr: Uint8Array, cidr: number): V | undefined {
		this.load_prefix('rn_delete', addr, cidr);
		const e = this.hash_find(this.pw, 0, cidr);
		if (e === 0)
			return undefined;
		const v = this.vals[e];
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
			if (this.vals[e] !== undefined)
				ids.push(e);
		ids.sort((x, y) => this.ent_compare(x, y));
		this.walk_ids(ids, cb);
	}

	/*
	 * Extension: the prefixes of one value, in the order they were
	 * added (or moved to it).  Snapshot semantics as rn_walktree.
	 */
	rn_walkvalue(v: V, cb: (addr: Uint8Array, cidr: number, value: V) => void): void {
		this.walk_ids(this.vring_ids(v), cb);
	}

	/*
	 * Extension: bytes held by the table (typed arrays, plus 8 per value
	 * slot of the JS array; the values themselves are not counted).
	 */
	rn_memsize(): number {
		return this.root.byteLength + this.pool.byteLength +
		    this.sub.byteLength + this.ent_d.byteLength +
		    this.ent_cidr.byteLength + this.ent_next.byteLength +
		    this.ent_prev.byteLength + this.ht.byteLength +
		    this.vals.length * 8;
	}

	private walk_ids(ids: number[], cb: (addr: Uint8Array, cidr: number, value: V) => void): void {
		const snap = ids.map((e) => ({
			addr: this.ent_addr(e), cidr: this.ent_cidr[e],
			value: this.vals[e] as V,
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

	/* Level holding a prefix of this length in its slot values. */
	private static target(cidr: number): number {
		return cidr <= ROOT_BITS ? 0 :
		    1 + ((cidr - ROOT_BITS - 1) >> 2);
	}

	/* First bit of a level's range; prefixes there have cidr in (lo, lo + stride]. */
	private static level_lo(k: number): number {
		return k === 0 ? 0 : ROOT_BITS + STRIDE * (k - 1);
	}

	/* Slot index of entry e's address in a node of level k. */
	private chunk(k: number, e: number): number {
		const b = e * this.ed;
		if (k === 0)
			return this.ent_d[b] >>> (32 - ROOT_BITS);
		const bit = RadixTree.level_lo(k);
		return (this.ent_d[b + (bit >> 5)] >>> (32 - STRIDE - (bit & 31))) &
		    (NODE_SLOTS - 1);
	}

	/* Offset in the level's array of slot x of node n. */
	private static slot(k: number, n: number, x: number): number {
		return (k === 0 ? 0 : n << NODE_SHIFT) + (x << 1);
	}

	private level_arr(k: number): Int32Array {
		return k === 0 ? this.root : this.pool;
	}

	private trie_insert(e: number): void {
		const K = RadixTree.target(this.ent_cidr[e]);
		let n = 0;
		for (let k = 0; ; k++) {
			if (k === K) {
				this.expand(k, n, e);
				return;
			}
			const ci = RadixTree.slot(k, n, this.chunk(k, e));
			const ch = this.level_arr(k)[ci];
			if (ch === 0) {
				this.level_arr(k)[ci] = -e;
				return;
			}
			let m = ch;
			if (ch < 0) {
				/* A tail in the way: give it a node of its own, one level down. */
				const q = -ch;
				m = this.node_alloc();
				this.sub[m] = 1;
				if (RadixTree.target(this.ent_cidr[q]) === k + 1)
					this.expand(k + 1, m, q);
				else
					this.pool[RadixTree.slot(k + 1, m, this.chunk(k + 1, q))] = -q;
				this.level_arr(k)[ci] = m;
			}
			this.sub[m]++;
			n = m;
		}
	}

	/* Slots of node n (level k) that entry e's prefix covers: [first, first + span). */
	private span_of(k: number, e: number): [number, number] {
		const bits = k === 0 ? ROOT_BITS : STRIDE;
		const span = 1 << (bits - (this.ent_cidr[e] - RadixTree.level_lo(k)));
		return [this.chunk(k, e) & ~(span - 1), span];
	}

	/* Controlled prefix expansion: e wins every covered slot held by a shorter prefix. */
	private expand(k: number, n: number, e: number): void {
		const arr = this.level_arr(k);
		const c = this.ent_cidr[e];
		const [first, span] = this.span_of(k, e);
		for (let x = first; x < first + span; x++) {
			const vi = RadixTree.slot(k, n, x) + 1;
			const cur = arr[vi];
			if (cur === 0 || this.ent_cidr[cur] < c)
				arr[vi] = e;
		}
	}

	/* Undo expand: slots e held go to the next longer prefix of this node covering e. */
	private unexpand(k: number, n: number, e: number): void {
		const arr = this.level_arr(k);
		const c = this.ent_cidr[e];
		const lo = k === 0 ? 0 : RadixTree.level_lo(k) + 1;
		let r = 0;
		const b = e * this.ed;
		for (let cc = c - 1; cc >= lo && r === 0; cc--) {
			for (let w = 0; w < this.nw; w++)
				this.sw[w] = this.ent_d[b + w] & word_mask(cc - (w << 5));
			r = this.hash_find(this.sw, 0, cc);
		}
		const [first, span] = this.span_of(k, e);
		for (let x = first; x < first + span; x++) {
			const vi = RadixTree.slot(k, n, x) + 1;
			if (arr[vi] === e)
				arr[vi] = r;
		}
	}

	private remove_entry(e: number): void {
		const K = RadixTree.target(this.ent_cidr[e]);
		let n = 0;
		let d = 0;
		for (let k = 0; ; k++) {
			if (k === K) {
				this.unexpand(k, n, e);
				break;
			}
			const arr = this.level_arr(k);
			const ci = RadixTree.slot(k, n, this.chunk(k, e));
			const ch = arr[ci];
			if (ch === -e) {
				arr[ci] = 0;
				break;
			}
			if (ch <= 0)
				throw new Error('radix: entry missing from the trie');
			this.path_node[d] = ch;
			this.path_ci[d] = ci;
			this.path_lev[d] = k;
			d++;
			n = ch;
		}
		for (let i = 0; i < d; i++)
			this.sub[this.path_node[i]]--;
		/*
		 * Bottom-up: a node left with no prefix goes; one left with a
		 * single prefix becomes a tail in its parent.  Nodes off the
		 * path still hold >= 2, so that prefix is the node's own value
		 * or a tail child.
		 */
		for (let i = d - 1; i >= 0; i--) {
			const m = this.path_node[i];
			const s = this.sub[m];
			if (s >= 2)
				break;
			let f = 0;
			if (s === 1) {
				const base = m << NODE_SHIFT;
				for (let j = 0; j < NODE_INTS && f === 0; j += 2) {
					if (this.pool[base + j + 1] !== 0)
						f = this.pool[base + j + 1];
					else if (this.pool[base + j] < 0)
						f = -this.pool[base + j];
				}
			}
			this.level_arr(this.path_lev[i])[this.path_ci[i]] = -f;
			this.node_release(m);
		}
		this.hash_remove(e);
		this.ent_release(e);
		this._count--;
		if (this._count === 0)
			this.reset();
	}

	private node_alloc(): number {
		let n = this.node_free;
		if (n !== 0) {
			this.node_free = this.sub[n];
			this.sub[n] = 0;
			return n;
		}
		n = this.n_nodes++;
		if (n >= this.sub.length) {
			const pool = new Int32Array(this.pool.length * 2);
			pool.set(this.pool);
			this.pool = pool;
			const sub = new Int32Array(this.sub.length * 2);
			sub.set(this.sub);
			this.sub = sub;
		}
		return n;
	}

	private node_release(n: number): void {
		this.pool.fill(0, n << NODE_SHIFT, (n + 1) << NODE_SHIFT);
		this.sub[n] = this.node_free;
		this.node_free = n;
	}

	/* ---- Entries ---- */

	private ent_alloc(words: Int32Array, cidr: number, value: V): number {
		let e = this.ent_free;
		if (e !== 0) {
			this.ent_free = this.ent_next[e];
		} else {
			e = this.n_ent++;
			if (e >= this.ent_cidr.length)
				this.ent_grow();
		}
		const b = e * this.ed;
		for (let w = 0; w < this.nw; w++) {
			this.ent_d[b + w] = words[w];
			this.ent_d[b + this.nw + w] = word_mask(cidr - (w << 5));
		}
		this.ent_cidr[e] = cidr;
		this.vals[e] = value;
		this.vring_link(e, value);
		return e;
	}

	private ent_grow(): void {
		const cap = this.ent_cidr.length * 2;
		const d = new Int32Array(cap * this.ed);
		d.set(this.ent_d);
		this.ent_d = d;
		const cidr = new Uint8Array(cap);
		cidr.set(this.ent_cidr);
		this.ent_cidr = cidr;
		const next = new Int32Array(cap);
		next.set(this.ent_next);
		this.ent_next = next;
		const prev = new Int32Array(cap);
		prev.set(this.ent_prev);
		this.ent_prev = prev;
		for (let i = this.vals.length; i < cap; i++)
			this.vals.push(undefined);
	}

	private ent_release(e: number): void {
		this.vring_unlink(e, this.vals[e] as V);
		this.vals[e] = undefined;
		this.ent_d.fill(0, e * this.ed, (e + 1) * this.ed);
		this.ent_cidr[e] = 0;
		this.ent_prev[e] = 0;
		this.ent_next[e] = this.ent_free;
		this.ent_free = e;
	}

	private ent_addr(e: number): Uint8Array {
		const out = new Uint8Array(this.nw << 2);
		const b = e * this.ed;
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
		const bx = x * this.ed;
		const by = y * this.ed;
		for (let w = 0; w < this.nw; w++) {
			const a = this.ent_d[bx + w] >>> 0;
			const b = this.ent_d[by + w] >>> 0;
			if (a !== b)
				return a < b ? -1 : 1;
		}
		return this.ent_cidr[x] - this.ent_cidr[y];
	}

	/* Per-value ring, in insertion order; vhead maps a value to its first entry. */
	private vring_link(e: number, v: V): void {
		const h = this.vhead.get(v);
		if (h === undefined) {
			this.vhead.set(v, e);
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

	private vring_unlink(e: number, v: V): void {
		const nx = this.ent_next[e];
		if (nx === e) {
			this.vhead.delete(v);
			return;
		}
		const pv = this.ent_prev[e];
		this.ent_next[pv] = nx;
		this.ent_prev[nx] = pv;
		if (this.vhead.get(v) === e)
			this.vhead.set(v, nx);
	}

	private vring_ids(v: V): number[] {
		const ids: number[] = [];
		const h = this.vhead.get(v);
		if (h === undefined)
			return ids;
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
		return RadixTree.hash(this.ent_d, e * this.ed, this.nw,
		    this.ent_cidr[e]) & (this.ht.length - 1);
	}

	private hash_find(words: Int32Array, off: number, cidr: number): number {
		const ht = this.ht;
		const mask = ht.length - 1;
		for (let i = RadixTree.hash(words, off, this.nw, cidr) & mask; ; i = (i + 1) & mask) {
			const e = ht[i];
			if (e === 0)
				return 0;
			if (this.ent_cidr[e] !== cidr)
				continue;
			const b = e * this.ed;
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

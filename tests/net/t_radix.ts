// SPDX-License-Identifier: BSD-2-Clause
/*
 * sys/net/radix.ts: the allowed-IPs table.
 *
 * (a) static cases in the spirit of the Linux allowedips selftest (our own
 *     prefix set, same situations); (b) a property test against a naive
 *     model, a list sorted by descending cidr where an identical prefix
 *     replaces (as the kernel's randomized test and wireguard-go's
 *     allowedips_rand_test do); (c) bad input.
 */

import t from 'tap';
import { RadixTree, prefix_mask } from '../../sys/net/radix.js';
import { prng_u32 } from '../harness/prng.js';

/* ---- Address helpers (test-local) ---- */

function ip4(s: string): Uint8Array {
	const p = s.split('.').map(Number);
	if (p.length !== 4 || p.some((x) => !(x >= 0 && x <= 255)))
		throw new Error(`bad v4 ${s}`);
	return Uint8Array.from(p);
}

function ip6(s: string): Uint8Array {
	const [h, tl] = s.includes('::') ? s.split('::') : [s, undefined];
	const head = h ? h.split(':') : [];
	const tail = tl !== undefined && tl !== '' ? tl.split(':') : [];
	const fill = tl === undefined ? 0 : 8 - head.length - tail.length;
	const groups = [...head, ...Array<string>(fill).fill('0'), ...tail];
	if (groups.length !== 8)
		throw new Error(`bad v6 ${s}`);
	const out = new Uint8Array(16);
	groups.forEach((g, i) => {
		const x = parseInt(g, 16);
		out[2 * i] = x >> 8;
		out[2 * i + 1] = x & 0xff;
	});
	return out;
}

function ip(s: string): Uint8Array {
	return s.includes(':') ? ip6(s) : ip4(s);
}

function fmt(a: Uint8Array): string {
	if (a.length === 4)
		return a.join('.');
	const g: string[] = [];
	for (let i = 0; i < 16; i += 2)
		g.push(((a[i] << 8) | a[i + 1]).toString(16));
	return g.join(':');
}

interface Peer { name: string }

/* Both trees of an interface, dispatching on the address text. */
class Table {
	v4 = new RadixTree<Peer>(32);
	v6 = new RadixTree<Peer>(128);
	tree(a: Uint8Array): RadixTree<Peer> {
		return a.length === 4 ? this.v4 : this.v6;
	}
	insert(p: Peer, s: string, cidr: number): Peer | undefined {
		const a = ip(s);
		return this.tree(a).rn_addroute(a, cidr, p);
	}
	match(s: string): Peer | undefined {
		const a = ip(s);
		return this.tree(a).rn_match(a, 0);
	}
	remove_peer(p: Peer): number {
		return this.v4.rn_delete_value(p) + this.v6.rn_delete_value(p);
	}
	get count(): number {
		return this.v4.count + this.v6.count;
	}
}

/* ---- (a) static cases ---- */

t.test('static: overlapping prefixes, replacement, maskself, /0', async (t) => {
	const [a, b, c, d, e, f, g, h] = 'abcdefgh'.split('').map((name) => ({ name }));
	const tb = new Table();

	tb.insert(a, '172.20.8.0', 24);
	tb.insert(b, '172.20.8.9', 32);
	tb.insert(c, '172.20.0.0', 16);
	tb.insert(d, '198.51.100.32', 27);
	/* Same /27 given with host bits set: masks to the same prefix and replaces d. */
	t.equal(tb.insert(c, '198.51.100.45', 27), d, 'identical prefix returns the old value');
	tb.insert(d, '2001:db8:77:1200::be:ef01', 128);
	tb.insert(c, '2001:db8:77:1200::', 64);
	tb.insert(e, '0.0.0.0', 0);
	tb.insert(e, '::', 0);
	t.equal(tb.insert(f, '::', 0), e, 'v6 default route replaced');
	tb.insert(g, '2a01:4f8::', 32);
	/* Host bits set on a /64: must be masked. */
	tb.insert(h, '2a01:4f8:c0c:1a2b:dead:beef:dead:beef', 64);
	tb.insert(a, '2a01:4f8:c0c:1a2b:dead:beef:dead:beef', 128);
	tb.insert(c, '2a01:4f9:c0e:1a2b:deae:beef:defb:eef', 128);
	tb.insert(b, '2a01:4f9:f0e:1a2b:eeae:beef::', 98);
	tb.insert(g, '100.70.16.0', 20);
	tb.insert(h, '100.70.27.211', 25);	/* masks to 100.70.27.128/25 */
	tb.insert(a, '10.9.0.0', 25);
	tb.insert(b, '10.9.0.128', 25);
	tb.insert(a, '10.9.1.0', 30);
	tb.insert(b, '10.9.1.4', 30);
	tb.insert(c, '10.9.1.8', 29);
	tb.insert(d, '10.9.1.16', 29);

	const expect: [Peer, string][] = [
		[a, '172.20.8.200'], [a, '172.20.8.0'], [b, '172.20.8.9'],
		[a, '172.20.8.8'], [a, '172.20.8.10'], [c, '172.20.99.1'],
		[c, '198.51.100.33'], [c, '198.51.100.63'], [e, '198.51.100.64'],
		[e, '198.51.100.31'], [e, '8.8.8.8'], [e, '255.255.255.255'],
		[d, '2001:db8:77:1200::be:ef01'], [c, '2001:db8:77:1200::be:ef02'],
		[c, '2001:db8:77:1200:ffff:ffff:ffff:ffff'], [f, '2001:db8:77:1201::'],
		[g, '2a01:4f8:1:2::3'], [g, '2a01:4f8:ffff:ffff::1'],
		[f, '2a01:4f7:ffff::1'], [f, '2a01:4f9::1'],
		[h, '2a01:4f8:c0c:1a2b::1'], [h, '2a01:4f8:c0c:1a2b:dead:beef:dead:beee'],
		[a, '2a01:4f8:c0c:1a2b:dead:beef:dead:beef'],
		[c, '2a01:4f9:c0e:1a2b:deae:beef:defb:eef'],
		[b, '2a01:4f9:f0e:1a2b:eeae:beef:0:1'], [b, '2a01:4f9:f0e:1a2b:eeae:beef:3fff:ffff'],
		[f, '2a01:4f9:f0e:1a2b:eeae:beef:4000:0'],
		[g, '100.70.16.1'], [g, '100.70.31.255'], [g, '100.70.27.127'],
		[h, '100.70.27.128'], [h, '100.70.27.255'], [e, '100.70.32.0'],
		[a, '10.9.0.52'], [b, '10.9.0.220'], [a, '10.9.1.2'], [b, '10.9.1.6'],
		[c, '10.9.1.10'], [d, '10.9.1.20'], [e, '10.9.1.24'],
	];
	for (const [p, s] of expect)
		t.equal(tb.match(s)?.name, p.name, `${s} -> ${p.name}`);

	/* Exact lookups see the masked prefix, not the address given. */
	t.equal(tb.v4.rn_lookup(ip('100.70.27.128'), 25), h);
	t.equal(tb.v4.rn_lookup(ip('100.70.27.211'), 25), h);
	t.equal(tb.v4.rn_lookup(ip('100.70.27.0'), 24), undefined);
	t.equal(tb.v4.rn_lookup(ip('198.51.100.32'), 27), c);
	t.equal(tb.v6.rn_lookup(ip('::'), 0), f);
	t.equal(tb.v4.count, 13);
	t.equal(tb.v6.count, 8);

	/* Remove one overlapping layer: the shorter prefix shows through. */
	t.equal(tb.v4.rn_delete(ip('172.20.8.0'), 24), a);
	t.equal(tb.match('172.20.8.200')?.name, 'c');
	t.equal(tb.match('172.20.8.9')?.name, 'b');
	t.equal(tb.v4.rn_delete(ip('172.20.8.0'), 24), undefined, 'second delete finds nothing');
	t.equal(tb.v4.rn_delete(ip('0.0.0.0'), 0), e);
	t.equal(tb.match('8.8.8.8'), undefined, 'no default route any more');
});

t.test('static: an identical prefix moves to the new value everywhere', async (t) => {
	const a = { name: 'a' };
	const b = { name: 'b' };
	const tb = new Table();
	tb.insert(a, '10.20.30.40', 32);	/* alone: a tail under the root */
	tb.insert(a, '10.20.30.64', 27);	/* with the next two: expanded in nodes */
	tb.insert(a, '10.20.30.72', 29);
	tb.insert(a, '10.0.0.0', 8);		/* 256 root slots */
	tb.insert(a, 'fd00:1::', 32);
	t.equal(tb.insert(b, '10.20.30.40', 32), a);
	t.equal(tb.insert(b, '10.20.30.64', 27), a);
	t.equal(tb.insert(b, '10.0.0.0', 8), a);
	t.equal(tb.insert(b, 'fd00:1::', 32), a);
	t.equal(tb.match('10.20.30.40'), b, 'tail');
	t.equal(tb.match('10.20.30.65'), b, 'expanded /27');
	t.equal(tb.match('10.20.30.95'), b, 'expanded /27, last slot');
	t.equal(tb.match('10.20.30.73'), a, 'the /29 inside it keeps its value');
	t.equal(tb.match('10.255.0.1'), b, 'root slots of the /8');
	t.equal(tb.match('fd00:1::1'), b, 'v6');
	t.equal(tb.insert(b, '10.20.30.40', 32), b, 'same value again: no change');
	const left: string[] = [];
	tb.v4.rn_walkvalue(a, (x, c) => left.push(`${fmt(x)}/${c}`));
	t.same(left, ['10.20.30.72/29']);
	const moved: string[] = [];
	tb.v4.rn_walkvalue(b, (x, c) => moved.push(`${fmt(x)}/${c}`));
	t.same(moved, ['10.20.30.40/32', '10.20.30.64/27', '10.0.0.0/8'], 'insertion order of the moves');
	t.equal(tb.remove_peer(a), 1);
	t.equal(tb.match('10.20.30.73'), b, 'the /27 shows through');
	t.equal(tb.remove_peer(b), 4);
	t.equal(tb.count, 0);
});

t.test('per-value ring survives deleting its first and last prefixes', async (t) => {
	const a = { name: 'a' };
	const b = { name: 'b' };
	const tr = new RadixTree<Peer>(32);
	for (const s of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'])
		tr.rn_addroute(ip(s), 32, a);
	tr.rn_addroute(ip('10.0.0.9'), 32, b);
	t.equal(tr.rn_delete(ip('10.0.0.1'), 32), a, 'first');
	t.equal(tr.rn_delete(ip('10.0.0.4'), 32), a, 'last');
	/* Reuse the freed entries for the other value. */
	tr.rn_addroute(ip('10.0.0.5'), 32, b);
	tr.rn_addroute(ip('10.0.0.6'), 32, b);
	const got: string[] = [];
	tr.rn_walkvalue(a, (x) => got.push(fmt(x)));
	t.same(got, ['10.0.0.2', '10.0.0.3']);
	t.equal(tr.rn_delete_value(a), 2);
	t.equal(tr.rn_delete_value(b), 3);
	t.equal(tr.count, 0);
});

t.test('static: per-peer removal then negative lookups', async (t) => {
	const a = { name: 'a' };
	const b = { name: 'b' };
	const tb = new Table();
	for (const s of ['1.0.0.0', '64.0.0.0', '128.0.0.0', '192.0.0.0', '255.0.0.0'])
		tb.insert(a, s, 32);
	tb.insert(b, '64.0.0.1', 32);
	t.equal(tb.match('128.0.0.0'), a);
	t.equal(tb.remove_peer(a), 5);
	for (const s of ['1.0.0.0', '64.0.0.0', '128.0.0.0', '192.0.0.0', '255.0.0.0'])
		t.equal(tb.match(s), undefined, `${s} gone`);
	t.equal(tb.match('64.0.0.1'), b, 'other peer untouched');
	t.equal(tb.remove_peer(a), 0, 'nothing left to remove');

	tb.insert(a, '192.168.0.0', 16);
	tb.insert(a, '192.168.0.0', 24);
	t.equal(tb.remove_peer(a), 2);
	t.equal(tb.match('192.168.0.1'), undefined);
	t.equal(tb.remove_peer(b), 1);
	t.equal(tb.count, 0);
});

t.test('static: 128 /128s differing by one bit', async (t) => {
	const a = { name: 'a' };
	const tr = new RadixTree<Peer>(128);
	const addrs: Uint8Array[] = [];
	/* ff..ff followed by ~0 << i, and ~0 << i followed by zeros (as the kernel test builds them). */
	for (let i = 0; i < 64; i++) {
		const part = (~0n << BigInt(i)) & 0xffffffffffffffffn;
		const x = new Uint8Array(16);
		const y = new Uint8Array(16);
		x.fill(0xff, 0, 8);
		for (let k = 0; k < 8; k++) {
			x[8 + k] = Number((part >> BigInt(56 - 8 * k)) & 0xffn);
			y[k] = x[8 + k];
		}
		addrs.push(x, y);
	}
	addrs.push(new Uint8Array(16));
	for (const x of addrs)
		tr.rn_addroute(x, 128, a);
	t.equal(tr.count, 129, '128 one-bit neighbours and ::/128, all distinct');
	for (const x of addrs)
		t.equal(tr.rn_match(x, 0), a);
	/* A neighbour one bit off every inserted host must miss. */
	let misses = 0;
	for (const x of addrs) {
		const z = Uint8Array.from(x);
		z[15] ^= 0x02;
		if (tr.rn_match(z, 0) === undefined)
			misses++;
	}
	t.ok(misses > 0, 'neighbours miss');
	t.equal(tr.rn_delete_value(a), 129);
	t.equal(tr.count, 0);
	for (const x of addrs)
		t.equal(tr.rn_match(x, 0), undefined);
});

t.test('static: enumeration yields the 5 masked prefixes', async (t) => {
	const a = { name: 'a' };
	const other = { name: 'o' };
	const tb = new Table();
	tb.insert(a, '192.95.5.67', 27);
	tb.insert(a, '2607:5300:60:6b00::c05f:543', 128);
	tb.insert(a, '10.1.0.20', 29);
	tb.insert(a, '2607:5300:6d8a:6bf8:dab1:f1ff:ffff:ffff', 83);
	tb.insert(a, '2607:5000:1234::', 21);
	tb.insert(other, '10.1.0.0', 16);

	const got: string[] = [];
	const cb = (addr: Uint8Array, cidr: number, v: Peer): void => {
		if (v === a)
			got.push(`${fmt(addr)}/${cidr}`);
	};
	tb.v4.rn_walktree(cb);
	tb.v6.rn_walktree(cb);
	t.same(got.sort(), [
		'10.1.0.16/29',
		'192.95.5.64/27',
		'2607:5000:0:0:0:0:0:0/21',
		'2607:5300:60:6b00:0:0:c05f:543/128',
		'2607:5300:6d8a:6bf8:dab1:e000:0:0/83',
	]);

	/* The per-value walk gives the same prefixes in insertion order. */
	const order: string[] = [];
	tb.v4.rn_walkvalue(a, (addr, cidr) => order.push(`${fmt(addr)}/${cidr}`));
	t.same(order, ['192.95.5.64/27', '10.1.0.16/29']);
	/* The enumerated copies are copies. */
	tb.v4.rn_walktree((addr) => addr.fill(0xee));
	t.equal(tb.v4.rn_lookup(ip('10.1.0.16'), 29), a);
});

t.test('rn_match reads packet fields in place', async (t) => {
	const p = { name: 'p' };
	const q = { name: 'q' };
	const t4 = new RadixTree<Peer>(32);
	const t6 = new RadixTree<Peer>(128);
	t4.rn_addroute(ip('10.0.0.0'), 8, p);
	t4.rn_addroute(ip('10.1.2.3'), 32, q);
	t6.rn_addroute(ip('fd00::'), 8, p);
	t6.rn_addroute(ip('fd00::1'), 128, q);
	const pkt4 = new Uint8Array(20);
	pkt4.set(ip('10.9.9.9'), 12);
	pkt4.set(ip('10.1.2.3'), 16);
	t.equal(t4.rn_match(pkt4, 12), p, 'v4 src at 12');
	t.equal(t4.rn_match(pkt4, 16), q, 'v4 dst at 16');
	const pkt6 = new Uint8Array(40);
	pkt6.set(ip('fd00::2'), 8);
	pkt6.set(ip('fd00::1'), 24);
	t.equal(t6.rn_match(pkt6, 8), p, 'v6 src at 8');
	t.equal(t6.rn_match(pkt6, 24), q, 'v6 dst at 24');
	t.equal(t4.rn_match(Buffer.from(pkt4), 16), q, 'a Buffer is a Uint8Array');
});

t.test('prefix_mask', async (t) => {
	t.equal(fmt(prefix_mask(ip('192.95.5.67'), 27)), '192.95.5.64');
	t.equal(fmt(prefix_mask(ip('10.1.0.20'), 0)), '0.0.0.0');
	t.equal(fmt(prefix_mask(ip('10.1.0.20'), 32)), '10.1.0.20');
	t.equal(fmt(prefix_mask(ip('2607:5300:6d8a:6bf8:dab1:f1ff:ffff:ffff'), 83)),
	    '2607:5300:6d8a:6bf8:dab1:e000:0:0');
	const x = ip('1.2.3.4');
	prefix_mask(x, 8);
	t.equal(fmt(x), '1.2.3.4', 'input untouched');
	t.throws(() => prefix_mask(ip('1.2.3.4'), 33), RangeError);
	t.throws(() => prefix_mask(new Uint8Array(5), 8), RangeError);
});

/* ---- (b) property test against a naive model ---- */

interface MEntry { addr: Uint8Array; cidr: number; peer: Peer }

/* The "horrible" reference: linear scan of a list kept in descending cidr order. */
class Model {
	list: MEntry[] = [];
	insert(addr: Uint8Array, cidr: number, peer: Peer): void {
		const m = prefix_mask(addr, cidr);
		const i = this.list.findIndex((x) => x.cidr === cidr && eq(x.addr, m));
		if (i >= 0) {
			this.list[i].peer = peer;
			return;
		}
		let j = this.list.findIndex((x) => x.cidr < cidr);
		if (j < 0)
			j = this.list.length;
		this.list.splice(j, 0, { addr: m, cidr, peer });
	}
	remove_peer(p: Peer): void {
		this.list = this.list.filter((x) => x.peer !== p);
	}
	remove(addr: Uint8Array, cidr: number): void {
		const m = prefix_mask(addr, cidr);
		this.list = this.list.filter((x) => !(x.cidr === cidr && eq(x.addr, m)));
	}
	match(a: Uint8Array): Peer | undefined {
		for (const x of this.list)
			if (covers(x.addr, x.cidr, a))
				return x.peer;
		return undefined;
	}
}

function eq(x: Uint8Array, y: Uint8Array): boolean {
	for (let i = 0; i < x.length; i++)
		if (x[i] !== y[i])
			return false;
	return true;
}

function covers(p: Uint8Array, cidr: number, a: Uint8Array): boolean {
	let i = 0;
	for (; (i + 1) * 8 <= cidr; i++)
		if (p[i] !== a[i])
			return false;
	const r = cidr & 7;
	return r === 0 || ((p[i] ^ a[i]) & (0xff << (8 - r)) & 0xff) === 0;
}

function rand_addr(rnd: () => number, len: number): Uint8Array {
	const a = new Uint8Array(len);
	for (let i = 0; i < len; i++)
		a[i] = rnd() & 0xff;
	return a;
}

/* Keep the first n bits of base, randomize the rest. */
function mutate(rnd: () => number, base: Uint8Array, n: number): Uint8Array {
	const a = rand_addr(rnd, base.length);
	for (let i = 0; i < base.length; i++) {
		const keep = Math.max(0, Math.min(8, n - 8 * i));
		const m = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
		a[i] = (base[i] & m) | (a[i] & ~m & 0xff);
	}
	return a;
}

/* A lookup address: half uniform, half inside (or just past) a stored prefix. */
function probe(rnd: () => number, m: Model, len: number): Uint8Array {
	if (m.list.length === 0 || (rnd() & 1) === 0)
		return rand_addr(rnd, len);
	const x = m.list[rnd() % m.list.length];
	return mutate(rnd, x.addr, Math.max(0, x.cidr - (rnd() % 3)));
}

function sorted_model(m: Model): string[] {
	return m.list.map((x) => `${fmt(x.addr)}/${x.cidr}=${x.peer.name}`).sort();
}

function sorted_tree(tr: RadixTree<Peer>): string[] {
	const out: string[] = [];
	tr.rn_walktree((a, c, p) => out.push(`${fmt(a)}/${c}=${p.name}`));
	return out.sort();
}

t.test('property: random and mutated prefixes vs a sorted list', async (t) => {
	const rnd = prng_u32(0x5eed1e55);
	const NPEERS = 100;
	const peers: Peer[] = Array.from({ length: NPEERS }, (_, i) => ({ name: `p${i}` }));
	const fams = [
		{ len: 4, tree: new RadixTree<Peer>(32), model: new Model() },
		{ len: 16, tree: new RadixTree<Peer>(128), model: new Model() },
	];
	let checked = 0;
	let bad = 0;
	const check_lookups = (n: number): void => {
		for (const f of fams) {
			for (let i = 0; i < n; i++) {
				const a = probe(rnd, f.model, f.len);
				checked++;
				if (f.tree.rn_match(a, 0) !== f.model.match(a)) {
					if (bad++ < 5)
						t.fail(`v${f.len === 4 ? 4 : 6} ${fmt(a)}: ` +
						    `${f.tree.rn_match(a, 0)?.name} != ${f.model.match(a)?.name}`);
				}
			}
		}
	};

	for (const f of fams) {
		const bits = f.len * 8;
		for (let r = 0; r < 250; r++) {
			const base = rand_addr(rnd, f.len);
			const cidr = 1 + (rnd() % bits);
			const p = peers[rnd() % NPEERS];
			f.tree.rn_addroute(base, cidr, p);
			f.model.insert(base, cidr, p);
			for (let k = 0; k < 20; k++) {
				const m = mutate(rnd, base, rnd() % (bits + 1));
				const c = 1 + (rnd() % bits);
				const q = peers[rnd() % NPEERS];
				f.tree.rn_addroute(m, c, q);
				f.model.insert(m, c, q);
			}
		}
		/* A few short prefixes and the default route, to overlap everything. */
		for (const c of [0, 1, 3, 7, 8, 12, 16]) {
			const a = rand_addr(rnd, f.len);
			const p = peers[rnd() % NPEERS];
			f.tree.rn_addroute(a, c, p);
			f.model.insert(a, c, p);
		}
		t.equal(f.tree.count, f.model.list.length, `v${bits} count after inserts`);
		t.same(sorted_tree(f.tree), sorted_model(f.model), `v${bits} walktree matches`);
	}
	check_lookups(10000);

	/* Exact lookups agree for every stored prefix. */
	for (const f of fams) {
		let ok = 0;
		for (const x of f.model.list)
			if (f.tree.rn_lookup(x.addr, x.cidr) === x.peer)
				ok++;
		t.equal(ok, f.model.list.length, 'rn_lookup finds every prefix');
	}

	/* Churn: single-prefix deletes and re-inserts. */
	for (let r = 0; r < 3000; r++) {
		const f = fams[r & 1];
		if (f.model.list.length > 0 && (rnd() % 3) !== 0) {
			const x = f.model.list[rnd() % f.model.list.length];
			const got = f.tree.rn_delete(x.addr, x.cidr);
			if (got !== x.peer)
				bad++;
			f.model.remove(x.addr, x.cidr);
		} else {
			const base = f.model.list.length > 0 ?
			    f.model.list[rnd() % f.model.list.length].addr : rand_addr(rnd, f.len);
			const a = mutate(rnd, base, rnd() % (f.len * 8 + 1));
			const c = rnd() % (f.len * 8 + 1);
			const p = peers[rnd() % NPEERS];
			f.tree.rn_addroute(a, c, p);
			f.model.insert(a, c, p);
		}
		if (r % 100 === 0)
			check_lookups(50);
	}
	check_lookups(2000);

	/* Per-peer removals one at a time, each followed by lookups. */
	for (const p of peers) {
		for (const f of fams) {
			const want = f.model.list.filter((x) => x.peer === p).length;
			const got = f.tree.rn_delete_value(p);
			if (got !== want) {
				bad++;
				t.fail(`rn_delete_value(${p.name}) removed ${got}, want ${want}`);
			}
			f.model.remove_peer(p);
			if (f.tree.count !== f.model.list.length)
				bad++;
		}
		check_lookups(100);
	}
	for (const f of fams) {
		t.equal(f.tree.count, 0, 'tree empty');
		t.equal(f.model.list.length, 0, 'model empty');
		t.same(sorted_tree(f.tree), [], 'nothing to enumerate');
	}
	t.equal(bad, 0, `${checked} lookups agree with the model`);
});

t.test('deletion reuses memory', async (t) => {
	const rnd = prng_u32(7);
	const p = { name: 'p' };
	const tr = new RadixTree<Peer>(32);
	const empty = tr.rn_memsize();
	const live: Uint8Array[] = [];
	for (let i = 0; i < 2000; i++) {
		const a = rand_addr(rnd, 4);
		a[0] = 10;
		if (tr.rn_addroute(a, 32, p) === undefined)
			live.push(a);
	}
	const full = tr.rn_memsize();
	let wrong = 0;
	for (let i = 0; i < 30000; i++) {
		const k = rnd() % live.length;
		if (tr.rn_delete(live[k], 32) !== p)
			wrong++;
		let a: Uint8Array;
		do {
			a = rand_addr(rnd, 4);
			a[0] = 10;
		} while (tr.rn_lookup(a, 32) !== undefined);
		tr.rn_addroute(a, 32, p);
		live[k] = a;
	}
	t.equal(wrong, 0, 'every delete found its prefix');
	t.equal(tr.count, live.length);
	t.ok(tr.rn_memsize() <= 2 * full,
	    `memory after 30000 delete/insert pairs: ${tr.rn_memsize()} <= 2 x ${full}`);
	t.equal(tr.rn_delete_value(p), live.length);
	t.equal(tr.rn_memsize(), empty, 'an empty tree drops back to its initial size');

	/* The same with a fresh value on every insert: value numbers are reused too. */
	const vals: Peer[] = [];
	for (let i = 0; i < 1000; i++) {
		vals.push({ name: `v${i}` });
		tr.rn_addroute(live[i], 32, vals[i]);
	}
	const full2 = tr.rn_memsize();
	for (let i = 0; i < 20000; i++) {
		const k = rnd() % 1000;
		tr.rn_delete_value(vals[k]);
		vals[k] = { name: `w${i}` };
		tr.rn_addroute(live[k], 32, vals[k]);
	}
	t.equal(tr.count, 1000);
	t.ok(tr.rn_memsize() <= full2 * 1.5,
	    `memory after 20000 value replacements: ${tr.rn_memsize()} <= 1.5 x ${full2}`);
});

/* ---- (c) bad input ---- */

t.test('bad input throws RangeError and leaves the tree alone', async (t) => {
	const p = { name: 'p' };
	const t4 = new RadixTree<Peer>(32);
	const t6 = new RadixTree<Peer>(128);
	t4.rn_addroute(ip('10.0.0.0'), 8, p);
	t6.rn_addroute(ip('fd00::'), 8, p);
	const before4 = sorted_tree(t4);
	const before6 = sorted_tree(t6);

	const bad_cidr = [-1, 33, 1.5, NaN, Infinity, '8', null, undefined];
	for (const c of bad_cidr) {
		t.throws(() => t4.rn_addroute(ip('10.0.0.0'), c as number, p), RangeError, `v4 cidr ${String(c)}`);
		t.throws(() => t4.rn_lookup(ip('10.0.0.0'), c as number), RangeError);
		t.throws(() => t4.rn_delete(ip('10.0.0.0'), c as number), RangeError);
	}
	t.throws(() => t6.rn_addroute(ip('fd00::'), 129, p), RangeError, 'v6 cidr 129');
	t.doesNotThrow(() => t6.rn_addroute(ip('fd00::1'), 128, p), 'v6 cidr 128 is fine');
	t6.rn_delete(ip('fd00::1'), 128);

	const bad_addr: unknown[] = [new Uint8Array(16), new Uint8Array(3), [10, 0, 0, 0],
	    '10.0.0.0', null, undefined, new Uint16Array(4), new ArrayBuffer(4)];
	for (const a of bad_addr) {
		t.throws(() => t4.rn_addroute(a as Uint8Array, 8, p), RangeError, `v4 address ${String(a)}`);
		t.throws(() => t4.rn_lookup(a as Uint8Array, 8), RangeError);
		t.throws(() => t4.rn_delete(a as Uint8Array, 8), RangeError);
	}
	t.throws(() => t6.rn_addroute(new Uint8Array(4), 8, p), RangeError, 'v4 address in a v6 tree');
	t.throws(() => t4.rn_addroute(ip('10.0.0.0'), 8, undefined as unknown as Peer), RangeError,
	    'undefined value');

	const buf = new Uint8Array(20);
	for (const off of [-1, 17, 20, 1.5, NaN, 2 ** 32])
		t.throws(() => t4.rn_match(buf, off), RangeError, `rn_match offset ${off}`);
	t.throws(() => t6.rn_match(buf, 8), RangeError, 'rn_match past the end (v6)');
	t.throws(() => t4.rn_match([10, 0, 0, 1] as unknown as Uint8Array, 0), RangeError,
	    'rn_match on a plain array');
	t.equal(t4.rn_match(buf, 16), undefined, 'last valid offset works');
	t.throws(() => new RadixTree<Peer>(64 as 32), RangeError, 'bits 64');

	t.same(sorted_tree(t4), before4, 'v4 tree unchanged');
	t.same(sorted_tree(t6), before6, 'v6 tree unchanged');
	t.equal(t4.count, 1);
	t.equal(t6.count, 1);
});

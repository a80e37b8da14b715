// SPDX-License-Identifier: BSD-2-Clause
/*
 * sysctl(9): the instance's tree of tunables.
 *
 * A small tree of named nodes in the NetBSD manner (sysctl_createv): a
 * node is either a parent ("net", "net.wg") or a leaf of type int, quad
 * or bool with a range.  The tree knows no subsystem: a driver creates
 * its leaves when it loads, as NetBSD's SYSCTL_SETUP does (the wg(4)
 * driver's net.wg.* are in sys/net/if_wg_sysctl.ts).
 *
 * A leaf's read() and write() reach the driver's live values; a driver
 * follows changes with sysctl_subscribe().  Writes are checked whole
 * before anything changes: a value out of range is EINVAL and leaves
 * the old one.
 *
 * Shim replies (op 'sysctl'):
 *   read  {name?}        sysctl: [[name, value], ...]  (a node lists its leaves;
 *                        no name lists everything, as sysctl -a)
 *   write {name, value}  sysctl: [[name, old], [name, new]]
 * Errors: ENOENT (no such name; msg in sysctl(8)'s words), EISDIR (write
 * to a node), EINVAL (bad value), EPERM (write by non-root).
 */

import type { ShimReply } from '../sys/shim.js';
import { EEXIST, EINVAL, EISDIR, ENOENT, EPERM } from '../sys/errno.js';
import { type kauth_cred, kauth_cred_isroot } from './kern_auth.js';
import { LOG_ERR, LOG_INFO, log } from './subr_log.js';

export const CTLTYPE_NODE = 1;
export const CTLTYPE_INT = 2;
export const CTLTYPE_BOOL = 3;
export const CTLTYPE_QUAD = 4;

export interface sysctl_leaf_desc {
	type: typeof CTLTYPE_INT | typeof CTLTYPE_BOOL | typeof CTLTYPE_QUAD;
	descr: string;
	min: bigint;
	max: bigint;
	read(): bigint;
	write(v: bigint): void;	/* called with min <= v <= max only */
}

interface sysctl_node {
	name: string;			/* full dotted name */
	type: number;
	descr: string;
	children: Map<string, sysctl_node>;	/* insertion order = listing order */
	leaf: sysctl_leaf_desc | null;
}

const sysctl_root: sysctl_node = { name: '', type: CTLTYPE_NODE, descr: '', children: new Map(), leaf: null };

/*
 * Creates a leaf at path ("net.wg.debug"), and the parent nodes on the
 * way.  EEXIST if the name is taken: the tree is built once at boot.
 */
export function sysctl_createv(path: string, leaf: sysctl_leaf_desc): void {
	const parts = path.split('.');
	let node = sysctl_root;
	for (let i = 0; i < parts.length; i++) {
		const last = i === parts.length - 1;
		let next = node.children.get(parts[i]);
		if (next === undefined) {
			next = {
				name: parts.slice(0, i + 1).join('.'),
				type: last ? leaf.type : CTLTYPE_NODE,
				descr: last ? leaf.descr : '',
				children: new Map(),
				leaf: last ? leaf : null,
			};
			node.children.set(parts[i], next);
		} else if (last || next.leaf !== null) {
			throw Object.assign(new Error(`sysctl_createv: ${path}: name in use`), { errno: EEXIST });
		}
		node = next;
	}
}

/* sysctl(8)'s words for the level of a name that does not resolve. */
const lname = ['top', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth'];

type lookup_result = { node: sysctl_node } | { errno: number; msg: string };

function sysctl_lookup(name: string): lookup_result {
	const parts = name.split('.');
	let node = sysctl_root;
	for (let i = 0; i < parts.length; i++) {
		const next = node.leaf === null ? node.children.get(parts[i]) : undefined;
		if (next === undefined) {
			const level = lname[i] ?? `level ${i + 1}`;
			return { errno: ENOENT, msg: `${level} level name '${parts[i]}' in '${name}' is invalid` };
		}
		node = next;
	}
	return { node };
}

function sysctl_format(leaf: sysctl_leaf_desc): string {
	return leaf.read().toString(10);
}

function sysctl_walk(node: sysctl_node, out: Array<[string, string]>): void {
	if (node.leaf !== null) {
		out.push([node.name, sysctl_format(node.leaf)]);
		return;
	}
	for (const c of node.children.values())
		sysctl_walk(c, out);
}

/* Every leaf under name (or the whole tree), as [name, value] pairs. */
export function sysctl_read(name?: string): { errno: number; msg?: string; entries: Array<[string, string]> } {
	const out: Array<[string, string]> = [];
	if (name === undefined || name === '') {
		sysctl_walk(sysctl_root, out);
		return { errno: 0, entries: out };
	}
	const r = sysctl_lookup(name);
	if ('errno' in r)
		return { errno: r.errno, msg: r.msg, entries: out };
	sysctl_walk(r.node, out);
	return { errno: 0, entries: out };
}

/*
 * A value as sysctl(8) passes it: decimal or 0x hex, nothing else (no
 * sign, no blanks, no exponent).  null if it is not a number.
 */
function sysctl_parse(value: string): bigint | null {
	if (!/^(?:0[xX][0-9a-fA-F]{1,16}|[0-9]{1,20})$/.test(value))
		return null;
	return BigInt(value);
}

type subscriber = (name: string) => void;
const subscribers = new Set<subscriber>();

/* Writes name=value on behalf of cred. */
export function sysctl_write(name: string, value: string, cred: kauth_cred):
    { errno: number; msg?: string; old?: string; new?: string } {
	const r = sysctl_lookup(name);
	if ('errno' in r)
		return { errno: r.errno, msg: r.msg };
	const leaf = r.node.leaf;
	if (leaf === null)
		return { errno: EISDIR, msg: `${name}: is a node` };
	if (!kauth_cred_isroot(cred))
		return { errno: EPERM };
	const v = sysctl_parse(value);
	if (v === null || v < leaf.min || v > leaf.max)
		return { errno: EINVAL, msg: `${name}: ${JSON.stringify(value)} is not in ${leaf.min}..${leaf.max}` };
	const old = sysctl_format(leaf);
	leaf.write(v);
	const now = sysctl_format(leaf);
	log(LOG_INFO, 'sysctl %s: %s -> %s (uid %d pid %d)', name, old, now, cred.uid, cred.pid);
	for (const cb of subscribers) {
		try {
			cb(name);
		} catch (e) {
			log(LOG_ERR, 'sysctl %s: subscriber failed: %s', name, e instanceof Error ? e.message : String(e));
		}
	}
	return { errno: 0, old, new: now };
}

/* The shim's 'sysctl' op. */
export function kern_sysctl(req: { name?: string; value?: string }, cred: kauth_cred): ShimReply {
	if (req.value === undefined) {
		const r = sysctl_read(req.name);
		if (r.errno !== 0)
			return { errno: r.errno, msg: r.msg };
		return { errno: 0, sysctl: r.entries };
	}
	if (req.name === undefined)
		return { errno: EINVAL, msg: 'a write needs a name' };
	const w = sysctl_write(req.name, req.value, cred);
	if (w.errno !== 0)
		return { errno: w.errno, msg: w.msg };
	return { errno: 0, sysctl: [[req.name, w.old ?? ''], [req.name, w.new ?? '']] };
}

/*
 * Calls cb(name) after every successful write.  Returns the function
 * that unsubscribes.
 */
export function sysctl_subscribe(cb: subscriber): () => void {
	subscribers.add(cb);
	return () => { subscribers.delete(cb); };
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * proplib(3), reduced to what wg(4) and its tools exchange: dictionaries,
 * arrays, strings, data, numbers and booleans, and NetBSD's XML
 * externalization of them (the text carried by SIOC[SG]DRVSPEC).
 *
 * Used on both sides of the ioctl shim: wgconfig externalizes its
 * request and internalizes the get reply; the kernel does the reverse.
 *
 * Format, as NetBSD's prop_dictionary_externalize() writes it: an XML
 * declaration and the Apple plist DOCTYPE, <plist version="1.0">, then
 * one tab of indentation per level; dictionary keys in sorted order;
 * <integer> holds unsigned numbers as lowercase hex "0x..." and signed
 * ones in decimal; <data> is base64; empty containers are <dict/> and
 * <array/>; booleans are <true/> and <false/>.
 *
 * The attached form, an extension for the ioctl shim (sys/sys/shim.ts):
 * the same text, except that no <data> value is written out; each one is
 * handed over as a separate byte array, an attachment, and the text says
 * <data ref="N"/> in its place (N counts from 0 in document order).  Key
 * bytes then never become base64 text, which, as a JS string, could not
 * be wiped.  Internalizing takes both forms; a ref must come in order
 * and every attachment must be used.
 *
 * Internalizing never throws: malformed text gives null.  The kernel
 * parses what any local user sends, so the parser is linear, keeps no
 * recursion deeper than PROP_MAX_DEPTH and accepts only the elements above.
 */

import { b64_ntop, b64_pton } from '../libc/b64.js';

export interface PropDictionary {
	readonly type: 'dictionary';
	readonly value: Map<string, PropObject>;
}
export interface PropArray {
	readonly type: 'array';
	readonly value: PropObject[];
}
export interface PropString {
	readonly type: 'string';
	readonly value: string;
}
export interface PropData {
	readonly type: 'data';
	readonly value: Uint8Array;
}
export interface PropNumber {
	readonly type: 'number';
	readonly value: bigint;
	readonly unsigned: boolean;	/* externalized as hex when set */
}
export interface PropBool {
	readonly type: 'bool';
	readonly value: boolean;
}
export type PropObject = PropDictionary | PropArray | PropString | PropData | PropNumber | PropBool;
export type PropType = PropObject['type'];

export const PROP_MAX_DEPTH = 64;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/* Constructors. */

export function prop_dictionary_create(): PropDictionary {
	return { type: 'dictionary', value: new Map() };
}

export function prop_array_create(items: PropObject[] = []): PropArray {
	return { type: 'array', value: items };
}

export function prop_string_create(s: string): PropString {
	return { type: 'string', value: s };
}

/*
 * A copy of the bytes, as NetBSD's prop_data_create_copy and
 * prop_dictionary_set_data make: the caller may wipe its key buffer at
 * once.  Whoever holds a dictionary with key material wipes the copy
 * (prop_data_wipe) when done.
 */
export function prop_data_create(bytes: Uint8Array): PropData {
	return { type: 'data', value: Uint8Array.from(bytes) };
}

/* The bytes themselves, not a copy (prop_data_create_nocopy): they must outlive the object unchanged. */
export function prop_data_create_nocopy(bytes: Uint8Array): PropData {
	return { type: 'data', value: bytes };
}

/* Zero every data value in o, recursively: key material leaves no copy behind. */
export function prop_data_wipe(o: PropObject): void {
	switch (o.type) {
	case 'data':
		o.value.fill(0);
		break;
	case 'array':
		o.value.forEach(prop_data_wipe);
		break;
	case 'dictionary':
		o.value.forEach(prop_data_wipe);
		break;
	default:
		break;
	}
}

export function prop_number_create_unsigned(v: number | bigint): PropNumber {
	const b = BigInt(v);
	if (b < 0n || b > UINT64_MAX)
		throw new RangeError(`prop_number_create_unsigned: ${v} out of range`);
	return { type: 'number', value: b, unsigned: true };
}

export function prop_number_create_signed(v: number | bigint): PropNumber {
	const b = BigInt(v);
	if (b < INT64_MIN || b > INT64_MAX)
		throw new RangeError(`prop_number_create_signed: ${v} out of range`);
	return { type: 'number', value: b, unsigned: false };
}

export function prop_bool_create(v: boolean): PropBool {
	return { type: 'bool', value: v };
}

/* Dictionary access. */

export function prop_dictionary_get(d: PropDictionary, key: string): PropObject | undefined {
	return d.value.get(key);
}

export function prop_dictionary_set(d: PropDictionary, key: string, o: PropObject): void {
	d.value.set(key, o);
}

export function prop_dictionary_remove(d: PropDictionary, key: string): void {
	d.value.delete(key);
}

export function prop_dictionary_count(d: PropDictionary): number {
	return d.value.size;
}

export function prop_dictionary_set_string(d: PropDictionary, key: string, s: string): void {
	d.value.set(key, prop_string_create(s));
}

export function prop_dictionary_set_data(d: PropDictionary, key: string, bytes: Uint8Array): void {
	d.value.set(key, prop_data_create(bytes));
}

/* The bytes themselves (NetBSD's prop_dictionary_set_data_nocopy): a key kept off the V8 heap stays there. */
export function prop_dictionary_set_data_nocopy(d: PropDictionary, key: string, bytes: Uint8Array): void {
	d.value.set(key, prop_data_create_nocopy(bytes));
}

export function prop_dictionary_set_bool(d: PropDictionary, key: string, v: boolean): void {
	d.value.set(key, prop_bool_create(v));
}

function set_unsigned(d: PropDictionary, key: string, v: number | bigint, bits: number): void {
	const b = BigInt(v);
	if (b < 0n || b >= (1n << BigInt(bits)))
		throw new RangeError(`prop_dictionary_set_uint${bits}: ${key}=${v} out of range`);
	d.value.set(key, { type: 'number', value: b, unsigned: true });
}

export function prop_dictionary_set_uint8(d: PropDictionary, key: string, v: number): void {
	set_unsigned(d, key, v, 8);
}

export function prop_dictionary_set_uint16(d: PropDictionary, key: string, v: number): void {
	set_unsigned(d, key, v, 16);
}

export function prop_dictionary_set_uint32(d: PropDictionary, key: string, v: number): void {
	set_unsigned(d, key, v, 32);
}

export function prop_dictionary_set_uint64(d: PropDictionary, key: string, v: number | bigint): void {
	set_unsigned(d, key, v, 64);
}

export function prop_dictionary_set_int64(d: PropDictionary, key: string, v: number | bigint): void {
	d.value.set(key, prop_number_create_signed(v));
}

/*
 * Typed getters.  As in NetBSD, a number matches any integer getter whose
 * range holds its value, whether it was stored signed or unsigned; a
 * missing key, another type or an out-of-range value gives null.
 */

export function prop_dictionary_get_string(d: PropDictionary, key: string): string | null {
	const o = d.value.get(key);
	return o !== undefined && o.type === 'string' ? o.value : null;
}

export function prop_dictionary_get_data(d: PropDictionary, key: string): Uint8Array | null {
	const o = d.value.get(key);
	return o !== undefined && o.type === 'data' ? o.value : null;
}

export function prop_dictionary_get_bool(d: PropDictionary, key: string): boolean | null {
	const o = d.value.get(key);
	return o !== undefined && o.type === 'bool' ? o.value : null;
}

export function prop_dictionary_get_dict(d: PropDictionary, key: string): PropDictionary | null {
	const o = d.value.get(key);
	return o !== undefined && o.type === 'dictionary' ? o : null;
}

export function prop_dictionary_get_array(d: PropDictionary, key: string): PropArray | null {
	const o = d.value.get(key);
	return o !== undefined && o.type === 'array' ? o : null;
}

function get_ranged(d: PropDictionary, key: string, min: bigint, max: bigint): bigint | null {
	const o = d.value.get(key);
	if (o === undefined || o.type !== 'number' || o.value < min || o.value > max)
		return null;
	return o.value;
}

export function prop_dictionary_get_uint8(d: PropDictionary, key: string): number | null {
	const v = get_ranged(d, key, 0n, 0xffn);
	return v === null ? null : Number(v);
}

export function prop_dictionary_get_uint16(d: PropDictionary, key: string): number | null {
	const v = get_ranged(d, key, 0n, 0xffffn);
	return v === null ? null : Number(v);
}

export function prop_dictionary_get_uint32(d: PropDictionary, key: string): number | null {
	const v = get_ranged(d, key, 0n, 0xffffffffn);
	return v === null ? null : Number(v);
}

export function prop_dictionary_get_uint64(d: PropDictionary, key: string): bigint | null {
	return get_ranged(d, key, 0n, UINT64_MAX);
}

export function prop_dictionary_get_int64(d: PropDictionary, key: string): bigint | null {
	return get_ranged(d, key, INT64_MIN, INT64_MAX);
}

/* Any integer that is exactly representable as a JS number. */
export function prop_dictionary_get_number(d: PropDictionary, key: string): number | null {
	const v = get_ranged(d, key, BigInt(Number.MIN_SAFE_INTEGER), BigInt(Number.MAX_SAFE_INTEGER));
	return v === null ? null : Number(v);
}

/* Deep equality (numbers compare by value, as prop_object_equals does). */
export function prop_object_equals(a: PropObject, b: PropObject): boolean {
	switch (a.type) {
	case 'dictionary': {
		if (b.type !== 'dictionary' || a.value.size !== b.value.size)
			return false;
		for (const [k, v] of a.value) {
			const w = b.value.get(k);
			if (w === undefined || !prop_object_equals(v, w))
				return false;
		}
		return true;
	}
	case 'array':
		return b.type === 'array' && a.value.length === b.value.length &&
		    a.value.every((v, i) => prop_object_equals(v, b.value[i]));
	case 'data': {
		if (b.type !== 'data' || a.value.length !== b.value.length)
			return false;
		for (let i = 0; i < a.value.length; i++)
			if (a.value[i] !== b.value[i])
				return false;
		return true;
	}
	case 'string':
	case 'number':
	case 'bool':
		return b.type === a.type && b.value === a.value;
	}
}

/* Externalization. */

const XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<!DOCTYPE plist PUBLIC "-//Apple Computer//DTD PLIST 1.0//EN" ' +
    '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
    '<plist version="1.0">\n';
const XML_FOOTER = '</plist>\n';

const ESCAPES: Readonly<Record<string, string>> = {
	'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&apos;',
};

function xml_escape(s: string): string {
	return /[&<>"']/.test(s) ? s.replace(/[&<>"']/g, (c) => ESCAPES[c]) : s;
}

const indents: string[] = [''];
function indent(depth: number): string {
	while (indents.length <= depth)
		indents.push(indents[indents.length - 1] + '\t');
	return indents[depth];
}

/* Pieces go into one array, joined once: linear in the output size.  attach: the attached form. */
function externalize_object(o: PropObject, depth: number, out: string[], attach: Uint8Array[] | null): void {
	const ind = indent(depth);
	switch (o.type) {
	case 'dictionary': {
		if (o.value.size === 0) {
			out.push(ind, '<dict/>\n');
			break;
		}
		out.push(ind, '<dict>\n');
		const inner = indent(depth + 1);
		const keys = [...o.value.keys()].sort();
		for (const k of keys) {
			out.push(inner, '<key>', xml_escape(k), '</key>\n');
			externalize_object(o.value.get(k) as PropObject, depth + 1, out, attach);
		}
		out.push(ind, '</dict>\n');
		break;
	}
	case 'array':
		if (o.value.length === 0) {
			out.push(ind, '<array/>\n');
			break;
		}
		out.push(ind, '<array>\n');
		for (const e of o.value)
			externalize_object(e, depth + 1, out, attach);
		out.push(ind, '</array>\n');
		break;
	case 'string':
		out.push(ind, '<string>', xml_escape(o.value), '</string>\n');
		break;
	case 'data':
		if (attach !== null) {
			out.push(ind, '<data ref="', String(attach.length), '"/>\n');
			attach.push(o.value);
		} else {
			out.push(ind, '<data>', b64_ntop(o.value), '</data>\n');
		}
		break;
	case 'number':
		out.push(ind, '<integer>',
		    o.unsigned ? '0x' + o.value.toString(16) : o.value.toString(10),
		    '</integer>\n');
		break;
	case 'bool':
		out.push(ind, o.value ? '<true/>\n' : '<false/>\n');
		break;
	}
}

export function prop_object_externalize(o: PropObject): string {
	const out: string[] = [XML_HEADER];
	externalize_object(o, 0, out, null);
	out.push(XML_FOOTER);
	return out.join('');
}

export function prop_dictionary_externalize(d: PropDictionary): string {
	return prop_object_externalize(d);
}

/*
 * The attached form (see the top): the text, and the data values
 * themselves, not copies, in the order the text refers to them.
 */
export function prop_object_externalize_attach(o: PropObject): { text: string; attach: Uint8Array[] } {
	const out: string[] = [XML_HEADER];
	const attach: Uint8Array[] = [];
	externalize_object(o, 0, out, attach);
	out.push(XML_FOOTER);
	return { text: out.join(''), attach };
}

export function prop_dictionary_externalize_attach(d: PropDictionary): { text: string; attach: Uint8Array[] } {
	return prop_object_externalize_attach(d);
}

/* Internalization. */

class Malformed extends Error {}

/* <data ref="N"/>: N without leading zeros. */
const DATA_REF = /^data ref="(0|[1-9][0-9]{0,8})"\/$/;

class PropParser {
	private i = 0;
	private next_ref = 0;

	/* attach: the attached form's data, used as they are (no copy); null for plain text. */
	constructor(private readonly s: string, private readonly attach: readonly Uint8Array[] | null) {}

	private fail(): never {
		throw new Malformed();
	}

	private skip_space(): void {
		const s = this.s;
		while (this.i < s.length) {
			const c = s.charCodeAt(this.i);
			if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d)
				this.i++;
			else if (s.startsWith('<!--', this.i)) {
				const end = s.indexOf('-->', this.i + 4);
				if (end < 0)
					this.fail();
				this.i = end + 3;
			} else
				break;
		}
	}

	private eat(lit: string): boolean {
		if (this.s.startsWith(lit, this.i)) {
			this.i += lit.length;
			return true;
		}
		return false;
	}

	private expect(lit: string): void {
		if (!this.eat(lit))
			this.fail();
	}

	/* Character data up to the next '<', entities decoded, then the closing tag. */
	private text_until_close(tag: string): string {
		const end = this.s.indexOf('<', this.i);
		if (end < 0)
			this.fail();
		const raw = this.s.slice(this.i, end);
		this.i = end;
		this.expect(`</${tag}>`);
		return raw.includes('&') ? this.unescape(raw) : raw;
	}

	private unescape(raw: string): string {
		return raw.replace(/&[a-z]*;?/g, (m) => {
			switch (m) {
			case '&lt;': return '<';
			case '&gt;': return '>';
			case '&amp;': return '&';
			case '&quot;': return '"';
			case '&apos;': return '\'';
			}
			return this.fail();
		});
	}

	/*
	 * An element name at '<', returning it and whether it was empty
	 * ("<x/>"); for a <data ref="N"/> of the attached form, the data.
	 */
	private open_tag(): { name: string; empty: boolean } | PropData {
		if (this.s.charCodeAt(this.i) !== 0x3c)	/* '<' */
			this.fail();
		const end = this.s.indexOf('>', this.i);
		if (end < 0)
			this.fail();
		let inner = this.s.slice(this.i + 1, end);
		this.i = end + 1;
		const ref = this.attach === null ? null : DATA_REF.exec(inner);
		if (ref !== null)
			return this.take_ref(Number(ref[1]));
		const empty = inner.endsWith('/');
		if (empty)
			inner = inner.slice(0, -1);
		if (!/^[a-z]+$/.test(inner))
			this.fail();
		return { name: inner, empty };
	}

	private parse_integer(text: string): PropNumber {
		let v: bigint;
		if (/^0x[0-9a-fA-F]+$/.test(text)) {
			v = BigInt(text);
			if (v > UINT64_MAX)
				this.fail();
			return { type: 'number', value: v, unsigned: true };
		}
		if (!/^-?[0-9]+$/.test(text))
			this.fail();
		v = BigInt(text);
		/* NetBSD: "-" is signed; otherwise signed when it fits, else unsigned. */
		if (v >= INT64_MIN && v <= INT64_MAX)
			return { type: 'number', value: v, unsigned: false };
		if (v > 0n && v <= UINT64_MAX)
			return { type: 'number', value: v, unsigned: true };
		return this.fail();
	}

	private take_ref(n: number): PropData {
		const a = this.attach;
		if (a === null || n !== this.next_ref || n >= a.length)
			this.fail();
		this.next_ref++;
		return prop_data_create_nocopy(a[n]);
	}

	object(depth: number): PropObject {
		if (depth > PROP_MAX_DEPTH)
			this.fail();
		const tag = this.open_tag();
		if ('type' in tag)
			return tag;
		const { name, empty } = tag;
		switch (name) {
		case 'dict': {
			const d = prop_dictionary_create();
			if (empty)
				return d;
			for (;;) {
				this.skip_space();
				if (this.eat('</dict>'))
					return d;
				this.expect('<key>');
				const key = this.text_until_close('key');
				this.skip_space();
				d.value.set(key, this.object(depth + 1));
			}
		}
		case 'array': {
			const a = prop_array_create();
			if (empty)
				return a;
			for (;;) {
				this.skip_space();
				if (this.eat('</array>'))
					return a;
				a.value.push(this.object(depth + 1));
			}
		}
		case 'string':
			return prop_string_create(empty ? '' : this.text_until_close('string'));
		case 'data': {
			const bytes = b64_pton(empty ? '' : this.text_until_close('data'), true);
			if (bytes === null)
				this.fail();
			return prop_data_create_nocopy(bytes);
		}
		case 'integer':
			if (empty)
				this.fail();
			return this.parse_integer(this.text_until_close('integer'));
		case 'true':
		case 'false':
			if (!empty && !this.eat(`</${name}>`))
				this.fail();
			return prop_bool_create(name === 'true');
		default:
			return this.fail();
		}
	}

	document(): PropObject {
		this.skip_space();
		if (this.eat('<?xml')) {
			const end = this.s.indexOf('?>', this.i);
			if (end < 0)
				this.fail();
			this.i = end + 2;
			this.skip_space();
		}
		if (this.eat('<!DOCTYPE')) {
			const end = this.s.indexOf('>', this.i);
			if (end < 0)
				this.fail();
			this.i = end + 1;
			this.skip_space();
		}
		let plist = false;
		if (this.s.startsWith('<plist', this.i)) {
			const end = this.s.indexOf('>', this.i);
			if (end < 0 || !/^<plist( version="1\.0")?$/.test(this.s.slice(this.i, end)))
				this.fail();
			this.i = end + 1;
			plist = true;
			this.skip_space();
		}
		const o = this.object(0);
		this.skip_space();
		if (plist) {
			this.expect('</plist>');
			this.skip_space();
		}
		/* The kernel NUL-terminates what it copied in. */
		while (this.i < this.s.length && this.s.charCodeAt(this.i) === 0)
			this.i++;
		if (this.i !== this.s.length || (this.attach !== null && this.next_ref !== this.attach.length))
			this.fail();
		return o;
	}
}

/* attach: the attachments of the attached form (see the top), used without a copy. */
export function prop_object_internalize(text: string, attach?: readonly Uint8Array[]): PropObject | null {
	if (typeof text !== 'string')
		return null;
	try {
		return new PropParser(text, attach ?? null).document();
	} catch {
		/* Malformed, or a RangeError from pathological input: either way, not a plist. */
		return null;
	}
}

export function prop_dictionary_internalize(text: string, attach?: readonly Uint8Array[]): PropDictionary | null {
	const o = prop_object_internalize(text, attach);
	return o !== null && o.type === 'dictionary' ? o : null;
}

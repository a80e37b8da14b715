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
 * the same text, except that a <data> value is not written out; it is
 * handed over as a separate byte array, an attachment, and the text says
 * <data ref="N"/> in its place (N counts from 0 in document order).  Key
 * bytes then never become base64 text, which, as a JS string, could not
 * be wiped.  prop_object_externalize_attach makes every value an
 * attachment; a prop_writer may write public values (public keys,
 * addresses) inline beside them.  Internalizing takes both forms; a ref
 * must come in order and every attachment must be used.
 *
 * Internalizing never throws: malformed text gives null.  The kernel
 * parses what any local user sends, so the parser is linear, keeps no
 * recursion deeper than PROP_MAX_DEPTH and accepts only the elements above.
 */

import { isAscii } from 'node:buffer';

import { b64_ntop_into, b64_ntop_len, b64_pton } from '../libc/b64.js';
import { crypto_buf_grow, crypto_key_alloc } from '../../sys/crypto/crypto_util.js';

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

/*
 * Externalization: prop_writer writes NetBSD's layout as UTF-8 bytes into
 * one buffer that grows by doubling, so the cost is linear in the output
 * and no string is made per element.  Callers with data of their own
 * (the driver's peer listings) write it straight through a writer,
 * without building dictionaries first; they must give each dictionary's
 * keys in sorted order, as prop_object_externalize does.
 *
 * The buffer is Node's own allocation, not its shared pool: a reply
 * spells keys in base64, and the writer wipes its bytes when done.
 */

const utf8 = new TextEncoder();

const XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<!DOCTYPE plist PUBLIC "-//Apple Computer//DTD PLIST 1.0//EN" ' +
    '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
    '<plist version="1.0">\n';
const XML_FOOTER = '</plist>\n';

const B_HEADER = utf8.encode(XML_HEADER);
const B_FOOTER = utf8.encode(XML_FOOTER);
const B_DICT = utf8.encode('<dict>\n');
const B_DICT_END = utf8.encode('</dict>\n');
const B_DICT_EMPTY = utf8.encode('<dict/>\n');
const B_ARRAY = utf8.encode('<array>\n');
const B_ARRAY_END = utf8.encode('</array>\n');
const B_ARRAY_EMPTY = utf8.encode('<array/>\n');
const B_KEY = utf8.encode('<key>');
const B_KEY_END = utf8.encode('</key>\n');
const B_STRING = utf8.encode('<string>');
const B_STRING_END = utf8.encode('</string>\n');
const B_DATA = utf8.encode('<data>');
const B_DATA_END = utf8.encode('</data>\n');
const B_DATA_REF = utf8.encode('<data ref="');
const B_DATA_REF_END = utf8.encode('"/>\n');
const B_INTEGER_HEX = utf8.encode('<integer>0x');
const B_INTEGER = utf8.encode('<integer>');
const B_INTEGER_END = utf8.encode('</integer>\n');
const B_TRUE = utf8.encode('<true/>\n');
const B_FALSE = utf8.encode('<false/>\n');

const HEX_DIGITS = utf8.encode('0123456789abcdef');

const ESCAPES: Readonly<Record<string, string>> = {
	'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&apos;',
};

/* The characters that must be escaped in character data: & < > " ' */
function xml_special(c: number): boolean {
	return c === 0x26 || c === 0x3c || c === 0x3e || c === 0x22 || c === 0x27;
}

const TAB = 0x09;

/*
 * An element's line start, tabs for its depth and then its tag, made
 * once per depth and tag (and per key, with the key's tags): a listing
 * writes the same few some 10^5 times, in one copy each.
 */
const LEADS: Array<Map<Uint8Array, Uint8Array>> = [];
const KEY_LEADS: Array<Map<string, Uint8Array>> = [];
const KEY_LEADS_MAX = 256;

function lead_of(depth: number, lit: Uint8Array): Uint8Array {
	const m = LEADS[depth] ??= new Map();
	let b = m.get(lit);
	if (b === undefined) {
		b = new Uint8Array(depth + lit.length).fill(TAB, 0, depth);
		b.set(lit, depth);
		m.set(lit, b);
	}
	return b;
}

/* <integer>0xN</integer> for N < 16, whole (counters at zero, families, flags). */
const B_INTEGER_HEX_DIGIT = Array.from({ length: 16 }, (_, d) => utf8.encode(`<integer>0x${d.toString(16)}</integer>\n`));

export class prop_writer {
	private buf: Buffer;
	private len = 0;
	private depth: number;
	/* Nothing past ASCII written: the text is made as Latin-1, a plain copy, without decoding UTF-8. */
	private ascii_only = true;
	/* Per open container: where its opening tag starts, and the last key given (dictionaries). */
	private readonly open_at: number[] = [];
	private readonly last_key: (string | null)[] = [];
	/* The attached form: the data values given so far (not copies), and the number of the first. */
	readonly attach: Uint8Array[] | null;
	private readonly ref_base: number;

	/*
	 * header: start with the XML declaration, DOCTYPE and <plist>, as a
	 * whole document; without it the writer makes a fragment whose
	 * elements are indented by `depth` tabs (to go into another writer).
	 * attach: write the attached form, data values going to this.attach;
	 * a fragment's refs start at ref_base (the attachments before it).
	 */
	constructor(opts: { header?: boolean; depth?: number; size?: number; attach?: boolean; ref_base?: number } = {}) {
		/* Not zeroed: only what is written is ever read, and zeroing megabytes costs a page fault per 4 KiB. */
		this.buf = Buffer.allocUnsafeSlow(Math.max(opts.size ?? 4096, 256));
		this.depth = opts.depth ?? 0;
		this.attach = opts.attach === true ? [] : null;
		this.ref_base = opts.ref_base ?? 0;
		if (opts.header ?? true)
			this.put(B_HEADER);
	}

	private reserve(n: number): void {
		if (this.len + n > this.buf.length) {
			const nb = crypto_buf_grow(this.buf, this.len, n);
			this.buf = Buffer.from(nb.buffer, nb.byteOffset, nb.length);
		}
	}

	private put(b: Uint8Array): void {
		this.reserve(b.length);
		if (b.length > 16) {
			this.buf.set(b, this.len);
			this.len += b.length;
			return;
		}
		const buf = this.buf;
		let o = this.len;
		for (let i = 0; i < b.length; i++)
			buf[o++] = b[i];
		this.len = o;
	}

	/* The tabs of the current depth, then lit. */
	private lead(lit: Uint8Array): void {
		this.put(lead_of(this.depth, lit));
	}

	/* Character data: escaped, UTF-8.  ASCII without specials (nearly all of it) is copied as it is. */
	private text(s: string): void {
		this.reserve(s.length);
		const buf = this.buf;
		let o = this.len;
		for (let i = 0; i < s.length; i++) {
			const c = s.charCodeAt(i);
			if (c >= 0x80 || xml_special(c)) {
				this.len = o;
				this.text_slow(s.slice(i));
				return;
			}
			buf[o++] = c;
		}
		this.len = o;
	}

	private text_slow(s: string): void {
		let e = '';
		for (const ch of s)
			e += ESCAPES[ch] ?? ch;
		const n = Buffer.byteLength(e);
		this.reserve(n);
		this.len += this.buf.write(e, this.len, 'utf8');
		if (n !== e.length)
			this.ascii_only = false;
	}

	dict_begin(): void {
		this.container_begin(B_DICT);
	}

	dict_end(): void {
		this.container_end(B_DICT, B_DICT_END, B_DICT_EMPTY);
	}

	array_begin(): void {
		this.container_begin(B_ARRAY);
	}

	array_end(): void {
		this.container_end(B_ARRAY, B_ARRAY_END, B_ARRAY_EMPTY);
	}

	private container_begin(open: Uint8Array): void {
		this.open_at.push(this.len);
		this.last_key.push(null);
		this.lead(open);
		this.depth++;
	}

	private container_end(open: Uint8Array, close: Uint8Array, empty: Uint8Array): void {
		this.last_key.pop();
		const at = this.open_at.pop();
		if (at === undefined)
			throw new RangeError('prop_writer: no container to close');
		this.depth--;
		if (this.len === at + this.depth + open.length) {
			/* Nothing inside: "<dict/>" in place of "<dict>". */
			this.len = at;
			this.lead(empty);
			return;
		}
		this.lead(close);
	}

	/* A dictionary key; keys must come in sorted order, as NetBSD writes them. */
	key(k: string): void {
		const n = this.last_key.length - 1;
		const last = this.last_key[n];
		if (n < 0 || last === undefined || (last !== null && last >= k))
			throw new RangeError(`prop_writer: key "${k}" out of order or outside a dictionary`);
		this.last_key[n] = k;
		const m = KEY_LEADS[this.depth] ??= new Map();
		const b = m.get(k);
		if (b === undefined) {
			const start = this.len;
			this.lead(B_KEY);
			this.text(k);
			this.put(B_KEY_END);
			/* ASCII only: another writer copies it without looking (ascii_only). */
			const kb = this.buf.subarray(start, this.len);
			if (m.size < KEY_LEADS_MAX && isAscii(kb))
				m.set(k, Uint8Array.prototype.slice.call(kb));
			return;
		}
		this.put(b);
	}

	string(s: string): void {
		this.lead(B_STRING);
		this.text(s);
		this.put(B_STRING_END);
	}

	/* A data value: in the attached form, b itself goes out as an attachment (the caller keeps it until sent). */
	data(b: Uint8Array): void {
		if (this.attach === null) {
			this.data_inline(b);
			return;
		}
		this.lead(B_DATA_REF);
		this.ascii(String(this.ref_base + this.attach.length));
		this.put(B_DATA_REF_END);
		this.attach.push(b);
	}

	/* A data value written out as base64 in either form: for what is public (keys of peers, addresses). */
	data_inline(b: Uint8Array): void {
		this.lead(B_DATA);
		this.reserve(b64_ntop_len(b.length));
		this.len = b64_ntop_into(b, this.buf, this.len);
		this.put(B_DATA_END);
	}

	/* An unsigned number, as NetBSD writes it: lowercase hex. */
	uint(v: number | bigint): void {
		if (typeof v === 'number' && v >= 0 && v < 16 && Number.isInteger(v)) {
			this.lead(B_INTEGER_HEX_DIGIT[v]);
			return;
		}
		this.lead(B_INTEGER_HEX);
		if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) {
			/* Digits from the right, into a scratch area past the end, then copied in order. */
			this.reserve(16);
			let n = 0;
			let x = v;
			do {
				n++;
				x = Math.floor(x / 16);
			} while (x > 0);
			x = v;
			for (let i = this.len + n - 1; i >= this.len; i--) {
				this.buf[i] = HEX_DIGITS[x % 16];
				x = Math.floor(x / 16);
			}
			this.len += n;
		} else {
			const b = BigInt(v);
			if (b < 0n || b > UINT64_MAX)
				throw new RangeError(`prop_writer: ${v} is not an unsigned 64-bit number`);
			this.ascii(b.toString(16));
		}
		this.put(B_INTEGER_END);
	}

	/* A signed number, in decimal. */
	int(v: number | bigint): void {
		this.lead(B_INTEGER);
		const b = typeof v === 'number' && Number.isSafeInteger(v) ? v : BigInt(v);
		if (typeof b === 'bigint' && (b < INT64_MIN || b > INT64_MAX))
			throw new RangeError(`prop_writer: ${v} is not a signed 64-bit number`);
		this.ascii(String(b));
		this.put(B_INTEGER_END);
	}

	private ascii(s: string): void {
		this.reserve(s.length);
		for (let i = 0; i < s.length; i++)
			this.buf[this.len++] = s.charCodeAt(i);
	}

	bool(v: boolean): void {
		this.lead(v ? B_TRUE : B_FALSE);
	}

	/*
	 * Elements another writer made (a fragment, written at this writer's
	 * depth): copied as they are, and wiped by the caller when it likes.
	 */
	fragment(b: Uint8Array): void {
		this.put(b);
		/* A page is megabytes: the vectorised check, not a loop here. */
		if (this.ascii_only)
			this.ascii_only = isAscii(b);
	}

	/* Any object; dictionaries with their keys sorted. */
	object(o: PropObject): void {
		switch (o.type) {
		case 'dictionary': {
			this.dict_begin();
			const keys = [...o.value.keys()].sort();
			for (const k of keys) {
				this.key(k);
				this.object(o.value.get(k) as PropObject);
			}
			this.dict_end();
			break;
		}
		case 'array':
			this.array_begin();
			for (const e of o.value)
				this.object(e);
			this.array_end();
			break;
		case 'string':
			this.string(o.value);
			break;
		case 'data':
			this.data(o.value);
			break;
		case 'number':
			if (o.unsigned)
				this.uint(o.value);
			else
				this.int(o.value);
			break;
		case 'bool':
			this.bool(o.value);
			break;
		}
	}

	private check_closed(): void {
		if (this.open_at.length !== 0)
			throw new RangeError('prop_writer: a container is still open');
	}

	/*
	 * The fragment's bytes: the writer's own buffer, handed over without
	 * a copy, which the caller owns (and wipes, or transfers to another
	 * thread: nothing else shares its ArrayBuffer); the writer starts
	 * again empty.
	 */
	bytes(): Uint8Array {
		this.check_closed();
		return this.hand_over();
	}

	private hand_over(): Uint8Array {
		const out = new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.len);
		this.buf = Buffer.alloc(256);
		this.len = 0;
		this.ascii_only = true;
		return out;
	}

	/* The document as text, closed with </plist>; the writer is wiped. */
	finish(): string {
		this.check_closed();
		this.put(B_FOOTER);
		const s = this.buf.toString(this.ascii_only ? 'latin1' : 'utf8', 0, this.len);
		this.wipe();
		return s;
	}

	/*
	 * The document as UTF-8 bytes, closed with </plist>: the writer's own
	 * buffer, handed over without a copy (whoever takes it wipes it); the
	 * writer starts again empty.
	 */
	finish_bytes(): Uint8Array {
		this.check_closed();
		this.put(B_FOOTER);
		return this.hand_over();
	}

	wipe(): void {
		this.buf.fill(0, 0, this.len);
		this.len = 0;
		this.ascii_only = true;
	}
}

export function prop_object_externalize(o: PropObject): string {
	const w = new prop_writer();
	w.object(o);
	return w.finish();
}

export function prop_dictionary_externalize(d: PropDictionary): string {
	return prop_object_externalize(d);
}

/*
 * The attached form (see the top): the text, and the data values
 * themselves, not copies, in the order the text refers to them.
 */
export function prop_object_externalize_attach(o: PropObject): { text: string; attach: Uint8Array[] } {
	const w = new prop_writer({ attach: true });
	w.object(o);
	const attach = w.attach ?? [];
	return { text: w.finish(), attach };
}

export function prop_dictionary_externalize_attach(d: PropDictionary): { text: string; attach: Uint8Array[] } {
	return prop_object_externalize_attach(d);
}

/*
 * Internalization: a scanner over the text's UTF-8 bytes, for the subset
 * above.  It makes no string or object but the values themselves (no
 * tag names, no token objects, no regular expressions), reads integers
 * and base64 in place, and decodes every <data> of a document into a few
 * shared buffers (off the V8 heap, as crypto_key_alloc makes them): a
 * listing holds thousands of small values, and a buffer of its own for
 * each would cost more than the value.  Wiping a value (prop_data_wipe)
 * wipes its part of the shared buffer.
 */

class Malformed extends Error {
	constructor(readonly what: string, readonly at: number) {
		super(what);
	}
}

/* What a PropEach function threw, to be thrown again as it was. */
class EachThrew extends Error {
	constructor(readonly e: unknown) {
		super('PropEach function threw');
	}
}

const LT = 0x3c;	/* '<' */
const GT = 0x3e;	/* '>' */
const SLASH = 0x2f;
const AMP = 0x26;

/* Element kinds, by name. */
const E_DICT = 1, E_ARRAY = 2, E_KEY = 3, E_STRING = 4, E_DATA = 5, E_INTEGER = 6, E_TRUE = 7, E_FALSE = 8;
const E_DATA_REF = 9;	/* <data ref="N"/>, the attached form */
/* The type of the value each element kind opens, by kind (PropScan.peek; none for 0 and E_KEY). */
const KIND_TYPE: readonly PropType[] = ['bool', 'dictionary', 'array', 'string', 'string', 'data', 'number', 'bool',
	'bool', 'data'];
const ELEMENTS: ReadonlyArray<[Uint8Array, number]> = ([
	['dict', E_DICT], ['array', E_ARRAY], ['key', E_KEY], ['string', E_STRING],
	['data', E_DATA], ['integer', E_INTEGER], ['true', E_TRUE], ['false', E_FALSE],
] as const).map(([name, k]) => [utf8.encode(name), k]);
/* Index in ELEMENTS by an element name's first letter (-1: none); "data" shares "dict"'s, ELEMENT_DATA is its own. */
const ELEMENT_BY_LETTER = new Int8Array(128).fill(-1);
ELEMENTS.forEach(([name], x) => {
	if (ELEMENT_BY_LETTER[name[0]] < 0)
		ELEMENT_BY_LETTER[name[0]] = x;
});
const ELEMENT_DATA = ELEMENTS.findIndex(([, k]) => k === E_DATA);

const L_DICT_END = utf8.encode('</dict>');
const L_ARRAY_END = utf8.encode('</array>');
const L_KEY = utf8.encode('<key>');
const L_COMMENT = utf8.encode('<!--');
const L_COMMENT_END = utf8.encode('-->');
const L_XML = utf8.encode('<?xml');
const L_XML_END = utf8.encode('?>');
const L_DOCTYPE = utf8.encode('<!DOCTYPE');
const L_PLIST = utf8.encode('<plist');
const L_PLIST_BARE = utf8.encode('<plist>');
const L_PLIST_V1 = utf8.encode('<plist version="1.0">');
const L_PLIST_END = utf8.encode('</plist>');
const L_REF = utf8.encode(' ref="');
const L_REF_END = utf8.encode('"/>');
const L_KEY_END = utf8.encode('</key>');
const L_STRING_END = utf8.encode('</string>');
const L_DATA_END = utf8.encode('</data>');
const L_INTEGER_END = utf8.encode('</integer>');
const L_TRUE_END = utf8.encode('</true>');
const L_FALSE_END = utf8.encode('</false>');

/* Small values (counters at zero, families, prefix lengths) without a new BigInt each. */
const SMALL_BIGINTS: readonly bigint[] = Array.from({ length: 256 }, (_, i) => BigInt(i));
/*
 * And the number objects themselves, shared: a listing's dictionaries are
 * mostly small numbers, and objects read from text are never changed
 * (setting a key replaces its object).
 */
const SMALL_NUMBERS: ReadonlyArray<readonly [PropNumber, PropNumber]> = SMALL_BIGINTS.map((value) =>
    [{ type: 'number', value, unsigned: false }, { type: 'number', value, unsigned: true }]);

function hex_value(c: number): number {
	if (c >= 0x30 && c <= 0x39)
		return c - 0x30;
	const l = c | 0x20;
	return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

const KEY_CACHE_SLOTS = 64;
/* The shared buffers for <data> values: the first small (a request holds a key or two), then doubling. */
const DATA_SLAB_MIN = 256;
const DATA_SLAB_MAX = 64 * 1024;

class PropParser {
	private i = 0;
	/* The last tag read: its kind and whether it was empty ("<x/>"). */
	private kind = 0;
	private empty = false;
	/* The attached form: the number the next <data ref="N"/> must have. */
	private next_ref = 0;
	private readonly key_cache: (string | undefined)[] = new Array<string | undefined>(KEY_CACHE_SLOTS);
	private readonly b: Buffer;
	private slab: Uint8Array | null = null;
	private slab_at = 0;
	private readonly alloc = (n: number): Uint8Array => {
		let slab = this.slab;
		if (slab === null || this.slab_at + n > slab.length) {
			const size = slab === null ? DATA_SLAB_MIN : Math.min(slab.length * 2, DATA_SLAB_MAX);
			slab = this.slab = crypto_key_alloc(Math.max(n, size));
			this.slab_at = 0;
		}
		const v = slab.subarray(this.slab_at, this.slab_at + n);
		this.slab_at += n;
		return v;
	};

	/*
	 * attach: the attached form's data, used as they are (no copy); null
	 * for plain text.  each: see prop_object_parse.
	 */
	constructor(private readonly s: Uint8Array, private readonly attach: readonly Uint8Array[] | null,
	    private readonly each: PropEach | null) {
		this.b = Buffer.from(s.buffer, s.byteOffset, s.length);
	}

	private fail(what: string): never {
		throw new Malformed(what, this.i);
	}

	/* Does lit come at `at`? */
	private at(lit: Uint8Array, at: number): boolean {
		const s = this.s;
		if (at + lit.length > s.length)
			return false;
		for (let k = 0; k < lit.length; k++)
			if (s[at + k] !== lit[k])
				return false;
		return true;
	}

	/* Where lit next comes from `from` on, -1 if nowhere. */
	private find(lit: Uint8Array, from: number): number {
		for (let j = this.s.indexOf(lit[0], from); j >= 0; j = this.s.indexOf(lit[0], j + 1))
			if (this.at(lit, j))
				return j;
		return -1;
	}

	private skip_space(): void {
		const s = this.s;
		while (this.i < s.length) {
			const c = s[this.i];
			if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d)
				this.i++;
			else if (c === LT && this.at(L_COMMENT, this.i)) {
				const end = this.find(L_COMMENT_END, this.i + 4);
				if (end < 0)
					this.fail('unterminated comment');
				this.i = end + 3;
			} else
				break;
		}
	}

	private eat(lit: Uint8Array): boolean {
		if (this.at(lit, this.i)) {
			this.i += lit.length;
			return true;
		}
		return false;
	}

	/* An opening tag at i: sets kind and empty. */
	private open_tag(): void {
		const s = this.s;
		if (s[this.i] !== LT)
			this.fail('expected an element');
		const start = this.i + 1;
		let j = start;
		for (;;) {
			const c = s[j];
			if (c >= 0x61 && c <= 0x7a)	/* a-z */
				j++;
			else
				break;
		}
		/* The one element the first letters can name ("dict" and "data" differ in the second), then its whole name. */
		const e = ELEMENTS[s[start] === 0x64 && s[start + 1] === 0x61 ? ELEMENT_DATA : ELEMENT_BY_LETTER[s[start] & 0x7f]];
		if (e === undefined || j - start !== e[0].length || !this.at(e[0], start))
			this.fail('unknown element');
		const kind = e[1];
		if (kind === E_DATA && s[j] === 0x20 && this.attach !== null) {
			this.i = j;
			this.kind = E_DATA_REF;
			this.empty = true;
			return;
		}
		let empty = false;
		if (s[j] === SLASH) {
			empty = true;
			j++;
		}
		if (s[j] !== GT)
			this.fail('bad tag');
		this.i = j + 1;
		this.kind = kind;
		this.empty = empty;
	}

	/* The closing tag lit (an L_..._END) at i. */
	private close_tag(lit: Uint8Array): void {
		if (!this.eat(lit))
			this.fail(`expected ${Buffer.from(lit).toString('latin1')}`);
	}

	/* Where the character data at i ends (the next '<'): a loop, as values are short. */
	private text_end(): number {
		const s = this.s;
		for (let j = this.i; j < s.length; j++)
			if (s[j] === LT)
				return j;
		return this.fail('unterminated element');
	}

	/*
	 * A key's text, then </key>.  The same few keys come back in every
	 * dictionary of a listing: one seen before is found by its length
	 * and its first and last bytes, and compared in place, so it costs
	 * no new string.
	 */
	private key(): string {
		const s = this.s;
		const end = this.text_end();
		const len = end - this.i;
		const slot = len === 0 ? 0 : (len * 5 + s[this.i] * 3 + s[end - 1]) & (KEY_CACHE_SLOTS - 1);
		const k = this.key_cache[slot];
		if (k !== undefined && k.length === len) {
			let same = true;
			for (let j = 0; j < len && same; j++)
				same = k.charCodeAt(j) === s[this.i + j];
			if (same) {
				this.i = end;
				this.close_tag(L_KEY_END);
				return k;
			}
		}
		const v = this.text(L_KEY_END);
		/* Only an ASCII key without entities: its text is its bytes, to be compared in place. */
		if (v.length === len)
			this.key_cache[slot] = v;
		return v;
	}

	/* Character data up to the next '<', decoded (UTF-8, entities), then the closing tag close. */
	private text(close: Uint8Array): string {
		const s = this.s;
		const end = this.text_end();
		let amp = false;
		let ascii = true;
		for (let j = this.i; j < end; j++) {
			const c = s[j];
			amp ||= c === AMP;
			ascii &&= c < 0x80;
		}
		const raw = this.b.toString(ascii ? 'latin1' : 'utf8', this.i, end);
		const v = amp ? this.unescape(raw) : raw;
		this.i = end;
		this.close_tag(close);
		return v;
	}

	private unescape(raw: string): string {
		let out = '';
		let from = 0;
		for (let j = raw.indexOf('&'); j >= 0; j = raw.indexOf('&', from)) {
			out += raw.slice(from, j);
			let ch: string;
			if (raw.startsWith('&lt;', j))
				ch = '<';
			else if (raw.startsWith('&gt;', j))
				ch = '>';
			else if (raw.startsWith('&amp;', j))
				ch = '&';
			else if (raw.startsWith('&quot;', j))
				ch = '"';
			else if (raw.startsWith('&apos;', j))
				ch = '\'';
			else
				return this.fail('unknown entity');
			out += ch;
			from = raw.indexOf(';', j) + 1;
		}
		return out + raw.slice(from);
	}

	/*
	 * "0x" hex is unsigned; decimal is signed when it fits int64, else
	 * unsigned, as NetBSD reads it; at most 64 bits either way.  Values
	 * below 2^48 are read into a number in place.
	 */
	private integer(): PropNumber {
		const s = this.s;
		const end = this.text_end();
		let j = this.i;
		const neg = s[j] === 0x2d;	/* '-' */
		const hex = !neg && s[j] === 0x30 && s[j + 1] === 0x78;	/* "0x" */
		j += neg ? 1 : hex ? 2 : 0;
		if (j === end)
			this.fail('empty integer');
		let n = 0;
		let big = false;
		for (let k = j; k < end; k++) {
			const c = s[k];
			const d = hex ? hex_value(c) : c >= 0x30 && c <= 0x39 ? c - 0x30 : -1;
			if (d < 0) {
				this.i = k;
				this.fail('bad integer');
			}
			if (n < 2 ** 48)
				n = n * (hex ? 16 : 10) + d;
			else
				big = true;
		}
		this.i = end;
		this.close_tag(L_INTEGER_END);
		if (!big) {
			/* Below 2^52: in range whatever the form, no BigInt arithmetic needed. */
			if (!neg && n < SMALL_NUMBERS.length)
				return SMALL_NUMBERS[n][hex ? 1 : 0];
			return { type: 'number', value: BigInt(neg ? -n : n), unsigned: hex };
		}
		let v = BigInt(this.b.toString('latin1', hex ? j - 2 : j, end));
		if (neg)
			v = -v;
		if (hex) {
			if (v > UINT64_MAX)
				this.fail('integer out of range');
			return { type: 'number', value: v, unsigned: true };
		}
		if (v >= INT64_MIN && v <= INT64_MAX)
			return { type: 'number', value: v, unsigned: false };
		if (v > 0n && v <= UINT64_MAX)
			return { type: 'number', value: v, unsigned: true };
		return this.fail('integer out of range');
	}

	/* The bytes of the <data> whose tag open_tag read: decoded into the shared buffers, or the attachment. */
	private data_value(): Uint8Array {
		if (this.kind === E_DATA_REF)
			return this.data_ref();
		if (this.empty)
			return new Uint8Array(0);
		const end = this.text_end();
		const bytes = b64_pton(this.s, true, this.i, end, this.alloc);
		if (bytes === null)
			this.fail('bad base64 data');
		this.i = end;
		this.close_tag(L_DATA_END);
		return bytes;
	}

	/* At ' ref="N"/>' after "<data": the next attachment, N without leading zeros. */
	private data_ref(): Uint8Array {
		const s = this.s;
		if (!this.eat(L_REF))
			this.fail('bad <data> tag');
		const start = this.i;
		let n = 0;
		while (this.i - start < 10 && s[this.i] >= 0x30 && s[this.i] <= 0x39)
			n = n * 10 + s[this.i++] - 0x30;
		if (this.i === start || (s[start] === 0x30 && this.i - start > 1) || !this.eat(L_REF_END))
			this.fail('bad <data ref="N"/>');
		const a = this.attach as readonly Uint8Array[];
		if (n !== this.next_ref || n >= a.length)
			this.fail(`<data ref="${n}"/> out of order or beyond the attachments`);
		this.next_ref++;
		return a[n];
	}

	object(depth: number): PropObject {
		if (depth > PROP_MAX_DEPTH)
			this.fail('nested too deeply');
		this.open_tag();
		const empty = this.empty;
		switch (this.kind) {
		case E_DICT: {
			const d = prop_dictionary_create();
			if (empty)
				return d;
			for (;;) {
				this.skip_space();
				if (this.eat(L_DICT_END))
					return d;
				if (!this.eat(L_KEY))
					this.fail('expected <key> or </dict>');
				const key = this.key();
				this.skip_space();
				d.value.set(key, depth === 0 && this.each !== null && key === this.each.key ?
				    this.stream(depth + 1, this.each.fn) : this.object(depth + 1));
			}
		}
		case E_ARRAY: {
			const a = prop_array_create();
			if (empty)
				return a;
			for (;;) {
				this.skip_space();
				if (this.eat(L_ARRAY_END))
					return a;
				a.value.push(this.object(depth + 1));
			}
		}
		case E_STRING:
			return prop_string_create(empty ? '' : this.text(L_STRING_END));
		case E_DATA:
		case E_DATA_REF:
			return prop_data_create_nocopy(this.data_value());
		case E_INTEGER:
			if (empty)
				this.fail('empty integer');
			return this.integer();
		case E_TRUE:
		case E_FALSE: {
			if (!empty)
				this.close_tag(this.kind === E_TRUE ? L_TRUE_END : L_FALSE_END);
			return prop_bool_create(this.kind === E_TRUE);
		}
		default:
			return this.fail('a <key> outside a dictionary');
		}
	}

	/*
	 * An array whose elements go to fn one by one, each read by fn through
	 * the PropScan methods below; what is left is empty.  Anything else is
	 * read as it is.
	 */
	private stream(depth: number, fn: (sc: PropScan) => void): PropObject {
		const at = this.i;
		this.open_tag();
		if (this.kind !== E_ARRAY) {
			this.i = at;
			return this.object(depth);
		}
		if (!this.empty) {
			for (;;) {
				this.skip_space();
				if (this.eat(L_ARRAY_END))
					break;
				const start = this.i;
				this.scan_base = depth + 1;
				this.scan_depth = 0;
				this.scan_done = false;
				try {
					fn(this);
				} catch (e) {
					throw e instanceof Malformed ? e : new EachThrew(e);
				}
				this.scan_base = -1;
				if (this.scan_depth !== 0)
					throw new EachThrew(new Error('PropEach function read an element in part'));
				/* An element fn did not read is read here, and what it holds wiped. */
				if (this.i === start)
					prop_data_wipe(this.object(depth + 1));
			}
		}
		return prop_array_create();
	}

	/*
	 * PropScan, over the element stream() hands to fn.  scan_depth counts
	 * the containers begun and not yet ended; scan_done is set once the
	 * element itself has been read whole.
	 */
	private scan_base = -1;
	private scan_depth = 0;
	private scan_done = false;

	/* The tag of the next value, read: the value's own reader goes on from there. */
	private scan_tag(want: number, what: string): void {
		if (this.scan_base < 0 || (this.scan_depth === 0 && this.scan_done))
			throw new Error(`PropScan: ${what} outside the element`);
		this.skip_space();
		if (this.i === this.peek_at)
			this.i = this.peek_end;
		else
			this.open_tag();
		if (this.kind !== want && !(want === E_DATA && this.kind === E_DATA_REF) &&
		    !(want === E_TRUE && this.kind === E_FALSE))
			this.fail(`expected <${what}>`);
	}

	/* A value read whole: at the element's own level, that is the element. */
	private scan_value(): void {
		if (this.scan_depth === 0)
			this.scan_done = true;
	}

	/* A container's tag read: true when it has contents to read (not <x/>). */
	private scan_begin(): boolean {
		if (this.empty) {
			this.scan_value();
			return false;
		}
		if (this.scan_base + this.scan_depth >= PROP_MAX_DEPTH)
			this.fail('nested too deeply');
		this.scan_depth++;
		return true;
	}

	private scan_end(): void {
		this.scan_depth--;
		this.scan_value();
	}

	/* Where the tag peek() read starts and ends: the reader that follows takes it from there. */
	private peek_at = -1;
	private peek_end = -1;

	peek(): PropType {
		this.skip_space();
		const at = this.i;
		this.open_tag();
		if (this.kind === E_KEY)
			this.fail('a <key> outside a dictionary');
		this.peek_at = at;
		this.peek_end = this.i;
		this.i = at;
		return KIND_TYPE[this.kind];
	}

	dict_begin(): boolean {
		this.scan_tag(E_DICT, 'dict');
		return this.scan_begin();
	}

	dict_key(): string | null {
		this.skip_space();
		if (this.eat(L_DICT_END)) {
			this.scan_end();
			return null;
		}
		if (!this.eat(L_KEY))
			this.fail('expected <key> or </dict>');
		return this.key();
	}

	array_begin(): boolean {
		this.scan_tag(E_ARRAY, 'array');
		return this.scan_begin();
	}

	array_more(): boolean {
		this.skip_space();
		if (this.eat(L_ARRAY_END)) {
			this.scan_end();
			return false;
		}
		return true;
	}

	string(): string {
		this.scan_tag(E_STRING, 'string');
		const v = this.empty ? '' : this.text(L_STRING_END);
		this.scan_value();
		return v;
	}

	data(): Uint8Array {
		this.scan_tag(E_DATA, 'data');
		const v = this.data_value();
		this.scan_value();
		return v;
	}

	number(): PropNumber {
		this.scan_tag(E_INTEGER, 'integer');
		if (this.empty)
			this.fail('empty integer');
		const v = this.integer();
		this.scan_value();
		return v;
	}

	bool(): boolean {
		this.scan_tag(E_TRUE, 'true/> or <false');
		const v = this.kind === E_TRUE;
		if (!this.empty)
			this.close_tag(v ? L_TRUE_END : L_FALSE_END);
		this.scan_value();
		return v;
	}

	tree(): PropObject {
		if (this.scan_base < 0 || (this.scan_depth === 0 && this.scan_done))
			throw new Error('PropScan: a value outside the element');
		this.skip_space();
		const o = this.object(this.scan_base + this.scan_depth);
		this.scan_value();
		return o;
	}

	skip(): void {
		prop_data_wipe(this.tree());
	}

	document(): PropObject {
		const s = this.s;
		this.skip_space();
		if (this.eat(L_XML)) {
			const end = this.find(L_XML_END, this.i);
			if (end < 0)
				this.fail('unterminated XML declaration');
			this.i = end + 2;
			this.skip_space();
		}
		if (this.eat(L_DOCTYPE)) {
			const end = s.indexOf(GT, this.i);
			if (end < 0)
				this.fail('unterminated DOCTYPE');
			this.i = end + 1;
			this.skip_space();
		}
		let plist = false;
		if (this.at(L_PLIST, this.i)) {
			if (this.eat(L_PLIST_BARE) || this.eat(L_PLIST_V1))
				plist = true;
			else
				this.fail('expected <plist version="1.0">');
			this.skip_space();
		}
		const o = this.object(0);
		this.skip_space();
		if (plist) {
			if (!this.eat(L_PLIST_END))
				this.fail('expected </plist>');
			this.skip_space();
		}
		/* The kernel NUL-terminates what it copied in. */
		while (this.i < s.length && s[this.i] === 0)
			this.i++;
		if (this.i !== s.length)
			this.fail('text after the end');
		if (this.attach !== null && this.next_ref !== this.attach.length)
			this.fail('attachments left unused');
		return o;
	}
}

/* Line and column (from 1) of byte offset i in s, for messages. */
function line_col(s: Uint8Array, i: number): string {
	let line = 1;
	let from = 0;
	for (let j = s.indexOf(0x0a); j >= 0 && j < i; j = s.indexOf(0x0a, j + 1)) {
		line++;
		from = j + 1;
	}
	return `line ${line} column ${i - from + 1}`;
}

/*
 * Elements of a long array, one at a time: the array under `key` in the
 * document's dictionary is not built; fn reads each element where it
 * lies in the text (PropScan), as a tree or value by value, and drops it
 * once used.  A listing of 10^5 peers then never exists as one tree, nor
 * as 10^5 small ones.  fn may see elements of a document that turns out
 * malformed later.
 */
export interface PropEach {
	key: string;
	fn: (sc: PropScan) => void;
}

/*
 * A reader over one element of a PropEach array.  A dictionary is read
 *	if (sc.dict_begin())
 *		for (let k = sc.dict_key(); k !== null; k = sc.dict_key())
 *			... one reader for k's value ...
 * and an array with array_begin() and array_more() the same way; each
 * value with the reader of its type (peek() tells it, without reading),
 * or whole as a tree, or skipped.  Another type than the reader's is a
 * malformed document to the parse; reading past the element, or leaving
 * it half read, is the caller's error, and throws.  An element fn does
 * not read at all is skipped.  data() values share the parser's buffers
 * or are the attachments themselves, as a tree's are: the caller wipes
 * them; skip() wipes what it skips.
 */
export interface PropScan {
	peek(): PropType;
	dict_begin(): boolean;
	dict_key(): string | null;
	array_begin(): boolean;
	array_more(): boolean;
	string(): string;
	data(): Uint8Array;
	number(): PropNumber;
	bool(): boolean;
	tree(): PropObject;
	skip(): void;
}

/*
 * The object, or what is wrong with the text ("expected </key> at line 12
 * column 3").  text: the externalized form, or its UTF-8 bytes (a
 * listing page as it came, sys/sys/shim.ts data_bytes).  each: see
 * PropEach.  Never throws (but what fn throws): the kernel parses what
 * any local user sends.
 */
export function prop_object_parse(text: string | Uint8Array, attach?: readonly Uint8Array[], each?: PropEach):
    { obj: PropObject; error: null } | { obj: null; error: string } {
	if (typeof text !== 'string' && !(text instanceof Uint8Array))
		return { obj: null, error: 'not a string' };
	/* A copy of a text (it may spell keys), wiped once read. */
	const s = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
	try {
		return { obj: new PropParser(s, attach ?? null, each ?? null).document(), error: null };
	} catch (e) {
		if (e instanceof EachThrew)
			throw e.e;
		if (e instanceof Malformed)
			return { obj: null, error: `${e.what} at ${line_col(s, Math.min(e.at, s.length))}` };
		/* A RangeError from pathological input (a stack too deep): not a plist either. */
		return { obj: null, error: (e as Error).message };
	} finally {
		if (s !== text)
			s.fill(0);
	}
}

/* attach: the attachments of the attached form (see the top), used without a copy. */
export function prop_object_internalize(text: string | Uint8Array, attach?: readonly Uint8Array[]): PropObject | null {
	return prop_object_parse(text, attach).obj;
}

export function prop_dictionary_internalize(text: string | Uint8Array, attach?: readonly Uint8Array[]):
    PropDictionary | null {
	const o = prop_object_internalize(text, attach);
	return o !== null && o.type === 'dictionary' ? o : null;
}

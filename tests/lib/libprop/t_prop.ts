// SPDX-License-Identifier: BSD-2-Clause
/*
 * libprop: NetBSD's XML externalization, round trips, typed access, and
 * malformed input (null, never an exception); the writer (prop_writer)
 * that listings use, the attached form, and the parser's messages.
 */

import t from 'tap';

import {
	type PropDictionary, type PropObject, type PropScan, prop_array_create, prop_bool_create, prop_data_create, prop_data_create_nocopy,
	prop_data_wipe,
	prop_dictionary_create, prop_dictionary_externalize, prop_dictionary_get, prop_dictionary_get_array,
	prop_dictionary_get_bool, prop_dictionary_get_data, prop_dictionary_get_int64,
	prop_dictionary_get_number, prop_dictionary_get_string, prop_dictionary_get_uint16,
	prop_dictionary_get_uint64, prop_dictionary_get_uint8, prop_dictionary_internalize,
	prop_dictionary_set, prop_dictionary_set_data, prop_dictionary_set_int64,
	prop_dictionary_set_string, prop_dictionary_set_uint16, prop_dictionary_set_uint64,
	prop_dictionary_set_uint8, prop_number_create_signed, prop_number_create_unsigned,
	prop_object_equals, prop_object_externalize, prop_object_externalize_attach, prop_object_internalize,
	prop_object_parse, prop_string_create, prop_writer,
} from '../../../lib/libprop/prop.js';

const HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<!DOCTYPE plist PUBLIC "-//Apple Computer//DTD PLIST 1.0//EN" ' +
    '"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n';

t.test('externalize: NetBSD layout', async (t) => {
	const d = prop_dictionary_create();
	prop_dictionary_set_uint16(d, 'listen_port', 51820);
	prop_dictionary_set_string(d, 'name', 'a<b>&"c\'');
	prop_dictionary_set_data(d, 'key', new Uint8Array([1, 2, 3]));
	prop_dictionary_set_int64(d, 'neg', -5);
	prop_dictionary_set(d, 'ok', prop_bool_create(true));
	prop_dictionary_set(d, 'no', prop_bool_create(false));
	prop_dictionary_set(d, 'empty', prop_array_create());
	prop_dictionary_set(d, 'edict', prop_dictionary_create());
	const inner = prop_dictionary_create();
	prop_dictionary_set_uint8(inner, 'family', 2);
	prop_dictionary_set(d, 'list', prop_array_create([inner, prop_string_create('')]));
	t.equal(prop_dictionary_externalize(d), HEADER +
	    '<dict>\n' +
	    '\t<key>edict</key>\n\t<dict/>\n' +
	    '\t<key>empty</key>\n\t<array/>\n' +
	    '\t<key>key</key>\n\t<data>AQID</data>\n' +
	    '\t<key>list</key>\n\t<array>\n\t\t<dict>\n\t\t\t<key>family</key>\n' +
	    '\t\t\t<integer>0x2</integer>\n\t\t</dict>\n\t\t<string></string>\n\t</array>\n' +
	    '\t<key>listen_port</key>\n\t<integer>0xca6c</integer>\n' +
	    '\t<key>name</key>\n\t<string>a&lt;b&gt;&amp;&quot;c&apos;</string>\n' +
	    '\t<key>neg</key>\n\t<integer>-5</integer>\n' +
	    '\t<key>no</key>\n\t<false/>\n' +
	    '\t<key>ok</key>\n\t<true/>\n' +
	    '</dict>\n</plist>\n');
	t.equal(prop_dictionary_externalize(prop_dictionary_create()), HEADER + '<dict/>\n</plist>\n');
});

t.test('round trip keeps every type and value', async (t) => {
	const d = prop_dictionary_create();
	prop_dictionary_set_string(d, 's', 'héllo & <wörld>');
	prop_dictionary_set_data(d, 'd0', new Uint8Array(0));
	prop_dictionary_set_data(d, 'd32', new Uint8Array(32).map((_, i) => i * 7));
	prop_dictionary_set_uint64(d, 'u64', (1n << 64n) - 1n);
	prop_dictionary_set_int64(d, 'i64min', -(1n << 63n));
	prop_dictionary_set(d, 'n', prop_number_create_signed(123456789));
	prop_dictionary_set(d, 'b', prop_bool_create(false));
	prop_dictionary_set(d, 'a', prop_array_create([prop_array_create([prop_dictionary_create()])]));
	const back = prop_dictionary_internalize(prop_dictionary_externalize(d));
	t.ok(back !== null && prop_object_equals(d, back));
	const b = back as PropDictionary;
	t.equal(prop_dictionary_get_string(b, 's'), 'héllo & <wörld>');
	t.same(prop_dictionary_get_data(b, 'd0'), new Uint8Array(0));
	t.same(prop_dictionary_get_data(b, 'd32'), new Uint8Array(32).map((_, i) => i * 7));
	t.equal(prop_dictionary_get_uint64(b, 'u64'), (1n << 64n) - 1n);
	t.equal(prop_dictionary_get_int64(b, 'u64'), null, 'uint64 max does not fit int64');
	t.equal(prop_dictionary_get_int64(b, 'i64min'), -(1n << 63n));
	t.equal(prop_dictionary_get_number(b, 'n'), 123456789);
	t.equal(prop_dictionary_get_bool(b, 'b'), false);
	t.equal(prop_dictionary_get_array(b, 'a')?.value.length, 1);
});

t.test('typed getters check type and range, not signedness', async (t) => {
	const d = prop_dictionary_internalize(HEADER + '<dict><key>x</key><integer>300</integer>' +
	    '<key>h</key><integer>0xFF</integer><key>m</key><integer>-1</integer>' +
	    '<key>s</key><string>1</string></dict></plist>');
	t.ok(d);
	const dd = d as PropDictionary;
	t.equal(prop_dictionary_get_uint16(dd, 'x'), 300);
	t.equal(prop_dictionary_get_uint8(dd, 'x'), null);
	t.equal(prop_dictionary_get_uint8(dd, 'h'), 255);
	t.equal(prop_dictionary_get_uint16(dd, 'm'), null);
	t.equal(prop_dictionary_get_int64(dd, 'm'), -1n);
	t.equal(prop_dictionary_get_uint16(dd, 's'), null);
	t.equal(prop_dictionary_get_string(dd, 'x'), null);
	t.equal(prop_dictionary_get_uint16(dd, 'missing'), null);
	t.throws(() => prop_dictionary_set_uint8(prop_dictionary_create(), 'x', 256));
	t.throws(() => prop_number_create_unsigned(-1));
});

t.test('internalize accepts what NetBSD writes, with or without header', async (t) => {
	const bare = prop_dictionary_internalize('<dict>\n\t<key>a</key>\n\t<true/>\n</dict>\n\0');
	t.equal(bare && prop_dictionary_get_bool(bare, 'a'), true);
	const spaced = prop_dictionary_internalize(HEADER +
	    '<dict>\n<!-- c -->\n<key>k</key>\n<data>\n\tAQID\n</data>\n</dict>\n</plist>\n');
	t.same(spaced && prop_dictionary_get_data(spaced, 'k'), new Uint8Array([1, 2, 3]));
	const empties = prop_dictionary_internalize('<dict><key>s</key><string/><key>d</key><data/>' +
	    '<key>t</key><true></true></dict>');
	t.equal(empties && prop_dictionary_get_string(empties, 's'), '');
	t.same(empties && prop_dictionary_get_data(empties, 'd'), new Uint8Array(0));
	t.equal(empties && prop_dictionary_get_bool(empties, 't'), true);
	t.equal(prop_object_internalize('<array><integer>1</integer></array>')?.type, 'array');
	t.equal(prop_dictionary_internalize('<array></array>'), null, 'not a dictionary');
});

t.test('malformed input gives null, never throws', async (t) => {
	const bad = [
		'', ' ', 'garbage', '<dict>', '<dict></array>', '<dict><key>a</key></dict>',
		'<dict><key>a</key><string>x</dict>', '<dict><key>a<key><true/></dict>',
		'<dict><integer>1</integer></dict>',
		'<dict><key>a</key><integer></integer></dict>',
		'<dict><key>a</key><integer>1x</integer></dict>',
		'<dict><key>a</key><integer>0x</integer></dict>',
		'<dict><key>a</key><integer>-0x1</integer></dict>',
		'<dict><key>a</key><integer>18446744073709551616</integer></dict>',
		'<dict><key>a</key><integer>-9223372036854775809</integer></dict>',
		'<dict><key>a</key><data>AQI</data></dict>',
		'<dict><key>a</key><data>AQ=D</data></dict>',
		'<dict><key>a</key><data>A$==</data></dict>',
		'<dict><key>a</key><string>&bogus;</string></dict>',
		'<dict><key>a</key><string>a & b</string></dict>',
		'<dict><key>a</key><real>1.0</real></dict>',
		'<dict><key>a</key><Dict/></dict>',
		'<dict><key>a</key><true>x</true></dict>',
		'<dict/><dict/>', '<dict/>trailing', HEADER + '<dict/>\n', HEADER + '<dict/></plist><x/>',
		'<plist version="2.0"><dict/></plist>', '<?xml <dict/>', '<!-- <dict/>',
		'<dict><key>a</key><array><true/></dict></array>',
		'<'.repeat(1000), '<dict>'.repeat(100000),
		'<array>'.repeat(70) + '</array>'.repeat(70),
	];
	for (const s of bad)
		t.equal(prop_dictionary_internalize(s), null, JSON.stringify(s.slice(0, 60)));
	t.equal(prop_dictionary_internalize(42 as unknown as string), null, 'not a string');
	t.equal(prop_object_internalize('<array>'.repeat(60) + '</array>'.repeat(60))?.type, 'array',
	    'nesting below the limit is fine');
});

t.test('10,000 peers round trip', async (t) => {
	const d = prop_dictionary_create();
	const peers = [];
	for (let i = 0; i < 10000; i++) {
		const p = prop_dictionary_create();
		prop_dictionary_set_string(p, 'name', `peer${i}`);
		const key = new Uint8Array(32);
		new DataView(key.buffer).setUint32(0, i);
		prop_dictionary_set_data(p, 'public_key', key);
		prop_dictionary_set_uint64(p, 'last_handshake_time_sec', 1597958882 + i);
		const aip = prop_dictionary_create();
		prop_dictionary_set_uint8(aip, 'family', 2);
		prop_dictionary_set_data(aip, 'ip', new Uint8Array([10, (i >> 8) & 255, i & 255, 0]));
		prop_dictionary_set_uint8(aip, 'cidr', 24);
		prop_dictionary_set(p, 'allowedips', prop_array_create([aip]));
		peers.push(p);
	}
	prop_dictionary_set(d, 'peers', prop_array_create(peers));
	const text = prop_dictionary_externalize(d);
	const back = prop_dictionary_internalize(text);
	t.ok(back !== null && prop_object_equals(d, back));
	const arr = prop_dictionary_get_array(back as PropDictionary, 'peers');
	t.equal(arr?.value.length, 10000);
	const last = arr?.value[9999];
	t.equal(last?.type === 'dictionary' ? prop_dictionary_get_string(last, 'name') : null, 'peer9999');
});

t.test('data is copied, as NetBSD copies it; nocopy and wipe', async (t) => {
	const key = new Uint8Array(32).fill(9);
	const d = prop_dictionary_create();
	prop_dictionary_set_data(d, 'private_key', key);
	const o = prop_data_create(key);
	key.fill(0);
	t.same(o.value, new Uint8Array(32).fill(9), 'the caller may wipe its buffer at once');
	t.match(prop_dictionary_externalize(d), `<data>${Buffer.alloc(32, 9).toString('base64')}</data>`,
	    'and the dictionary still holds the key');
	const shared = new Uint8Array(4).fill(1);
	const n = prop_data_create_nocopy(shared);
	shared[0] = 7;
	t.equal(n.value[0], 7, 'nocopy shares');
	const outer = prop_dictionary_create();
	prop_dictionary_set(outer, 'list', prop_array_create([d, o]));
	prop_data_wipe(outer);
	t.same(prop_dictionary_get_data(d, 'private_key'), new Uint8Array(32));
	t.same(o.value, new Uint8Array(32));
});

/* A random object of every type, nested, for round trips. */
function random_object(rnd: () => number, depth: number): PropObject {
	const pick = Math.floor(rnd() * (depth > 4 ? 4 : 6));
	switch (pick) {
	case 0: {
		const cs = ['a', 'é', '<', '>', '&', '"', '\'', ' ', '\t', 'z', '€', '😀', '&amp;'];
		let s = '';
		for (let n = Math.floor(rnd() * 8); n > 0; n--)
			s += cs[Math.floor(rnd() * cs.length)];
		return prop_string_create(s);
	}
	case 1:
		return prop_data_create(new Uint8Array(Math.floor(rnd() * 40)).map(() => Math.floor(rnd() * 256)));
	case 2: {
		const big = BigInt(Math.floor(rnd() * 2 ** 32)) << BigInt(Math.floor(rnd() * 32));
		return rnd() < 0.5 ? prop_number_create_unsigned(big) : prop_number_create_signed(rnd() < 0.5 ? -big : big);
	}
	case 3:
		return prop_bool_create(rnd() < 0.5);
	case 4: {
		const a = prop_array_create();
		for (let n = Math.floor(rnd() * 5); n > 0; n--)
			a.value.push(random_object(rnd, depth + 1));
		return a;
	}
	default: {
		const d = prop_dictionary_create();
		for (let n = Math.floor(rnd() * 6); n > 0; n--)
			prop_dictionary_set(d, `k${Math.floor(rnd() * 100)}${rnd() < 0.2 ? '&<é' : ''}`, random_object(rnd, depth + 1));
		return d;
	}
	}
}

t.test('round trip: random nested objects of every type, both forms', async (t) => {
	let seed = 12345;
	const rnd = (): number => {
		seed = (seed * 1103515245 + 12345) & 0x7fffffff;
		return seed / 0x80000000;
	};
	for (let i = 0; i < 300; i++) {
		const o = random_object(rnd, 0);
		const text = prop_object_externalize(o);
		const back = prop_object_internalize(text);
		if (back === null || !prop_object_equals(o, back)) {
			t.fail(`round trip ${i}: ${text.slice(0, 200)}`);
			return;
		}
		const att = prop_object_externalize_attach(o);
		const back2 = prop_object_internalize(att.text, att.attach);
		if (back2 === null || !prop_object_equals(o, back2)) {
			t.fail(`attached round trip ${i}: ${att.text.slice(0, 200)}`);
			return;
		}
	}
	t.pass('300 random objects round trip in both forms');
});

t.test('escapes: every special character, in keys and strings, and UTF-8', async (t) => {
	const d = prop_dictionary_create();
	prop_dictionary_set_string(d, '<&>"\'', '&amp; is not decoded twice: &lt;');
	prop_dictionary_set_string(d, 'wörld', '€ 😀');
	const text = prop_dictionary_externalize(d);
	t.match(text, '<key>&lt;&amp;&gt;&quot;&apos;</key>');
	t.match(text, '<string>&amp;amp; is not decoded twice: &amp;lt;</string>');
	t.match(text, '<string>€ 😀</string>');
	const back = prop_dictionary_internalize(text) as PropDictionary;
	t.equal(prop_dictionary_get_string(back, '<&>"\''), '&amp; is not decoded twice: &lt;');
	t.equal(prop_dictionary_get_string(back, 'wörld'), '€ 😀');
	/* The parser's key cache must not confuse a decoded key with raw text that spells it. */
	const tricky = prop_dictionary_internalize('<dict><key>a&amp;lt;</key><true/>' +
	    '<key>a&lt;</key><false/></dict>') as PropDictionary;
	t.equal(prop_dictionary_get_bool(tricky, 'a&lt;'), true);
	t.equal(prop_dictionary_get_bool(tricky, 'a<'), false);
});

t.test('prop_writer: the same text as the objects give, keys in order, containers checked', async (t) => {
	const w = new prop_writer();
	w.dict_begin();
	w.key('a');
	w.array_begin();
	w.array_end();
	w.key('b');
	w.dict_begin();
	w.dict_end();
	w.key('c');
	w.uint(0xdeadbeef);
	w.key('d');
	w.int(-42);
	w.key('e');
	w.uint((1n << 64n) - 1n);
	w.key('f');
	w.data(new Uint8Array([1, 2, 3, 4]));
	w.key('g');
	w.bool(true);
	w.key('h');
	w.string('x<y');
	w.dict_end();
	const d = prop_dictionary_create();
	prop_dictionary_set(d, 'a', prop_array_create());
	prop_dictionary_set(d, 'b', prop_dictionary_create());
	prop_dictionary_set_uint64(d, 'c', 0xdeadbeef);
	prop_dictionary_set_int64(d, 'd', -42);
	prop_dictionary_set_uint64(d, 'e', (1n << 64n) - 1n);
	prop_dictionary_set_data(d, 'f', new Uint8Array([1, 2, 3, 4]));
	prop_dictionary_set(d, 'g', prop_bool_create(true));
	prop_dictionary_set_string(d, 'h', 'x<y');
	t.equal(w.finish(), prop_dictionary_externalize(d));

	const bad = new prop_writer();
	bad.dict_begin();
	bad.key('b');
	bad.bool(true);
	t.throws(() => bad.key('a'), RangeError, 'a key out of order');
	t.throws(() => bad.key('b'), RangeError, 'a key twice');
	t.throws(() => new prop_writer().key('a'), RangeError, 'a key outside a dictionary');
	t.throws(() => bad.finish(), RangeError, 'a dictionary left open');
	t.throws(() => new prop_writer().array_end(), RangeError, 'nothing to close');
	t.throws(() => new prop_writer().uint(-1), RangeError);
	t.throws(() => new prop_writer().uint(1.5), RangeError);
	t.throws(() => new prop_writer().int(1n << 63n), RangeError);
});

t.test('prop_writer: fragments go into another writer at their depth', async (t) => {
	const f = new prop_writer({ header: false, depth: 2 });
	for (const name of ['p1', 'p2']) {
		f.dict_begin();
		f.key('name');
		f.string(name);
		f.dict_end();
	}
	const frag = f.bytes();
	const w = new prop_writer();
	w.dict_begin();
	w.key('peers');
	w.array_begin();
	w.fragment(frag);
	w.array_end();
	w.dict_end();
	const d = prop_dictionary_create();
	const peers = ['p1', 'p2'].map((name) => {
		const p = prop_dictionary_create();
		prop_dictionary_set_string(p, 'name', name);
		return p;
	});
	prop_dictionary_set(d, 'peers', prop_array_create(peers));
	t.equal(w.finish(), prop_dictionary_externalize(d));
	const u = new prop_writer({ header: false, depth: 0 });
	u.string('é');
	const w2 = new prop_writer();
	w2.fragment(u.bytes());
	t.equal(prop_object_internalize(w2.finish())?.value, 'é', 'a fragment past ASCII is decoded as UTF-8');
});

t.test('attached form: refs in order, public data inline beside them', async (t) => {
	const key = new Uint8Array(32).fill(7);
	const w = new prop_writer({ attach: true });
	w.dict_begin();
	w.key('private_key');
	w.data(key);
	w.key('public_key');
	w.data_inline(new Uint8Array([1, 2, 3]));
	w.dict_end();
	const attach = w.attach ?? [];
	const text = w.finish();
	t.match(text, '<data ref="0"/>');
	t.match(text, '<data>AQID</data>');
	t.notMatch(text, Buffer.from(key).toString('base64'), 'the key is not in the text');
	t.equal(attach[0], key, 'the attachment is the key itself');
	const d = prop_dictionary_internalize(text, attach) as PropDictionary;
	t.equal(prop_dictionary_get_data(d, 'private_key'), key, 'internalized without a copy');
	t.same(prop_dictionary_get_data(d, 'public_key'), new Uint8Array([1, 2, 3]));
	const two = [new Uint8Array([1]), new Uint8Array([2])];
	const doc = '<array><data ref="0"/><data ref="1"/></array>';
	t.equal(prop_object_internalize(doc, two)?.type, 'array');
	for (const [s, a, why] of [
		[doc, [two[0]], 'a ref beyond the attachments'],
		['<array><data ref="1"/><data ref="0"/></array>', two, 'refs out of order'],
		['<array><data ref="0"/></array>', two, 'an attachment unused'],
		['<array><data ref="00"/></array>', [two[0]], 'a leading zero'],
		['<array><data ref=0/></array>', [two[0]], 'no quotes'],
		['<array><data ref="0"/></array>', undefined, 'a ref in the plain form'],
	] as Array<[string, Uint8Array[] | undefined, string]>)
		t.equal(prop_object_internalize(s, a), null, why);
});

t.test('malformed input: a message that says what and where', async (t) => {
	const cases: Array<[string, RegExp]> = [
		['<dict>\n\t<key>a</key>\n\t<strin>x</strin>\n</dict>', /^unknown element at line 3 column 2$/],
		['<dict><key>a</key><string>x</dict>', /^expected <\/string> at line 1/],
		['<dict><key>a</key><integer>12z</integer></dict>', /^bad integer at line 1 column 30$/],
		['<dict><key>a</key><integer>0x10000000000000000</integer></dict>', /^integer out of range/],
		['<dict><key>a</key><data>A$==</data></dict>', /^bad base64 data/],
		['<dict><key>a</key><string>&nbsp;</string></dict>', /^unknown entity/],
		['<dict/>junk', /^text after the end/],
		['<array>'.repeat(70), /^nested too deeply/],
		['', /^expected an element/],
	];
	for (const [text, re] of cases) {
		const r = prop_object_parse(text);
		t.equal(r.obj, null);
		t.match(r.error ?? '', re, JSON.stringify(text.slice(0, 40)));
	}
	t.equal(prop_object_parse(7 as unknown as string).error, 'not a string');
	t.equal(prop_object_parse('<true/>').error, null);
});

t.test('fuzz: cut and mutated documents never throw', async (t) => {
	const d = prop_dictionary_create();
	prop_dictionary_set_string(d, 's', 'a&b');
	prop_dictionary_set_data(d, 'k', new Uint8Array(32).fill(3));
	prop_dictionary_set_uint64(d, 'n', 123456789012n);
	prop_dictionary_set(d, 'a', prop_array_create([prop_bool_create(true), prop_dictionary_create()]));
	const text = prop_dictionary_externalize(d);
	let seed = 99;
	const rnd = (n: number): number => {
		seed = (seed * 1103515245 + 12345) & 0x7fffffff;
		return seed % n;
	};
	const alphabet = '<>/&;"=x0 \t\n';
	for (let i = 0; i < 3000; i++) {
		let s = text.slice(0, rnd(text.length + 1));
		if (i % 2 === 1) {
			const at = rnd(text.length);
			s = text.slice(0, at) + alphabet[rnd(alphabet.length)] + text.slice(at + rnd(3));
		}
		const r = prop_object_parse(s);
		if ((r.obj === null) === (r.error === null)) {
			t.fail(`inconsistent result for ${JSON.stringify(s)}`);
			return;
		}
	}
	t.pass('3000 cut or mutated documents: an object or an error, never an exception');
});

t.test('the text as UTF-8 bytes, and a long array one element at a time', async (t) => {
	const d = prop_dictionary_create();
	prop_dictionary_set_uint64(d, 'cursor', 7);
	prop_dictionary_set_string(d, 'name', 'caf\u00e9 <&>');
	const peers = [1, 2, 3].map((i) => {
		const p = prop_dictionary_create();
		prop_dictionary_set_data(p, 'public_key', new Uint8Array(32).fill(i));
		prop_dictionary_set_uint64(p, 'rx_bytes', i);
		return p;
	});
	prop_dictionary_set(d, 'peers', prop_array_create(peers));
	const text = prop_dictionary_externalize(d);
	const bytes = Buffer.from(text, 'utf8');
	const whole = prop_object_parse(bytes);
	t.ok(whole.obj !== null && prop_object_equals(whole.obj, d), 'bytes read as the text is');
	t.same(prop_object_parse(bytes.subarray(0, bytes.length - 3)).error,
	    `expected </plist> at line ${text.split('\n').length - 1} column 1`, 'errors placed by line and column');
	const seen: PropObject[] = [];
	const r = prop_object_parse(bytes, undefined, { key: 'peers', fn: (sc) => seen.push(sc.tree()) });
	t.equal(seen.length, 3, 'each element handed over');
	t.ok(seen.every((o, i) => prop_object_equals(o, peers[i])), 'in order, as they are');
	const left = r.obj?.type === 'dictionary' ? prop_dictionary_get(r.obj, 'peers') : undefined;
	t.same(left, prop_array_create(), 'the array itself is left empty');
	t.equal(r.obj?.type === 'dictionary' ? prop_dictionary_get_string(r.obj, 'name') : null, 'caf\u00e9 <&>',
	    'the rest as usual, UTF-8 and entities decoded');
	/* The data values share buffers: wiping one leaves its neighbours. */
	const k0 = prop_dictionary_get_data(seen[0] as PropDictionary, 'public_key');
	const k1 = prop_dictionary_get_data(seen[1] as PropDictionary, 'public_key');
	k0?.fill(0);
	t.ok(k1 !== null && k1.every((b) => b === 2), 'wiping one value leaves the others');
	const e = prop_dictionary_create();
	prop_dictionary_set_string(e, 'peers', 'x');
	const notarray = prop_object_parse(prop_dictionary_externalize(e), undefined, { key: 'peers', fn: () => t.fail('called') });
	t.same(notarray.obj?.type === 'dictionary' ? prop_dictionary_get(notarray.obj, 'peers') : null,
	    prop_string_create('x'), 'anything but an array is read as it is');
	/* Value by value: peek, the typed readers, skip; an element left unread is read past. */
	const got: string[] = [];
	let nth = 0;
	prop_object_parse(bytes, undefined, { key: 'peers', fn: (sc) => {
		if (nth++ === 1)
			return;
		t.equal(sc.peek(), 'dictionary');
		t.ok(sc.dict_begin());
		for (let k = sc.dict_key(); k !== null; k = sc.dict_key()) {
			if (k === 'public_key')
				got.push(`${k}=${sc.data()[0]}`);
			else
				got.push(`${k}:${sc.peek()}=${sc.number().value}`);
		}
	} });
	t.same(got, ['public_key=1', 'rx_bytes:number=1', 'public_key=3', 'rx_bytes:number=3'], 'read in place, in order');
	const bad = (fn: (sc: PropScan) => void): string | null => prop_object_parse(bytes, undefined, { key: 'peers', fn }).error;
	t.match(bad((sc) => sc.string()), /^expected <string> at line \d+/, 'another type than asked: malformed');
	t.throws(() => bad((sc) => sc.dict_begin()), /read an element in part/, 'half read: the caller\'s error');
	t.throws(() => bad((sc) => {
		sc.skip();
		sc.skip();
	}), /outside the element/, 'read past the element: the caller\'s error');
	const boom = new Error('boom');
	t.throws(() => prop_object_parse(bytes, undefined, { key: 'peers', fn: () => { throw boom; } }), boom,
	    'what fn throws comes out as it is, not as a parse error');
});

// SPDX-License-Identifier: BSD-2-Clause
/*
 * libprop: NetBSD's XML externalization, round trips, typed access, and
 * malformed input (null, never an exception).
 */

import t from 'tap';

import {
	type PropDictionary, prop_array_create, prop_bool_create, prop_data_create, prop_data_create_nocopy,
	prop_data_wipe,
	prop_dictionary_create, prop_dictionary_externalize, prop_dictionary_get_array,
	prop_dictionary_get_bool, prop_dictionary_get_data, prop_dictionary_get_int64,
	prop_dictionary_get_number, prop_dictionary_get_string, prop_dictionary_get_uint16,
	prop_dictionary_get_uint64, prop_dictionary_get_uint8, prop_dictionary_internalize,
	prop_dictionary_set, prop_dictionary_set_data, prop_dictionary_set_int64,
	prop_dictionary_set_string, prop_dictionary_set_uint16, prop_dictionary_set_uint64,
	prop_dictionary_set_uint8, prop_number_create_signed, prop_number_create_unsigned,
	prop_object_equals, prop_object_internalize, prop_string_create,
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

// SPDX-License-Identifier: BSD-2-Clause
/*
 * subr_log: line format, key redaction, control characters, and
 * ppsratecheck / log_ratecheck (with explicit times: no sleeping).
 */

import t from 'tap';
import {
	LOG_DEBUG, LOG_ERR, LOG_INFO, log, log_init, log_ratecheck, ppsratecheck, ratecheck_state_init,
} from '../../../sys/kern/subr_log.js';

const lines: string[] = [];
log_init({ tag: 'wg-userspace.7', write: (l) => { lines.push(l); } });

t.test('line format', async (t) => {
	lines.length = 0;
	log(LOG_INFO, '%s: up, mtu %d', 'wg0', 1420);
	log(LOG_ERR, 'plain');
	log(LOG_DEBUG, 'dbg');
	t.equal(lines.length, 3);
	t.match(lines[0], new RegExp(
	    `^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z wg-userspace\\.7\\[${process.pid}\\] <info> wg0: up, mtu 1420\\n$`));
	t.match(lines[1], / <err> plain\n$/);
	t.match(lines[2], / <debug> dbg\n$/);
});

t.test('keys and control characters never get through', async (t) => {
	lines.length = 0;
	const b64 = 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=';
	const hex = 'c8a9f3e531fe9575c9b5ed78b638b7ce530dabe85ddab6142202418018df0669';
	log(LOG_INFO, 'key %s and %s', b64, hex);
	t.notMatch(lines[0], b64, 'base64 key cut');
	t.notMatch(lines[0], hex, 'hex key cut');
	t.match(lines[0], /key yAnz\.\.\. and c8a9\.\.\./, 'a short prefix remains to tell keys apart');
	const both = hex + 'fdd90f98558587e923045babd2d6eb2cc06d3ab2b14fa28a2e0a956f5839ab2c';
	const blob = Buffer.alloc(64, 0xa5).toString('base64');
	log(LOG_INFO, 'two keys %s, a blob %s, not keys %s %s', both, blob, 'c8a9f3e531fe', '/usr/lib/x86_64-linux-gnu');
	t.notMatch(lines[1], both.slice(8), 'a longer hex run is cut too');
	t.notMatch(lines[1], blob.slice(8), 'a longer padded base64 run is cut too');
	t.match(lines[1], /two keys c8a9\.\.\., a blob paWl\.\.\., not keys c8a9f3e531fe \/usr\/lib\/x86_64-linux-gnu\n$/,
	    'short hex and paths stay');
	lines.splice(1);
	log(LOG_INFO, 'peer %s', 'evil\n2099-01-01T00:00:00.000Z forged\x1b[31m');
	t.equal(lines[1].split('\n').length, 2, 'one line only');
	t.match(lines[1], /evil\\x0a2099.*forged\\x1b\[31m/, 'control characters made visible');
});

t.test('ppsratecheck', async (t) => {
	const st = ratecheck_state_init();
	t.equal(ppsratecheck(st, 2, 1000), true);
	t.equal(ppsratecheck(st, 2, 1100), true);
	t.equal(ppsratecheck(st, 2, 1200), false, 'third in the same second refused');
	t.equal(ppsratecheck(st, 2, 1999), false);
	t.equal(st.suppressed, 2);
	t.equal(ppsratecheck(st, 2, 2000), true, 'a new second');
	t.equal(ppsratecheck(st, -1, 2001), true, 'negative: no limit');
	const z = ratecheck_state_init();
	t.equal(ppsratecheck(z, 0, 0), false, 'zero: nothing passes');
});

t.test('log_ratecheck: once per key and second', async (t) => {
	lines.length = 0;
	t.equal(log_ratecheck('peer A', LOG_INFO, 'bad mac from %s', 'A'), true);
	let passed = 0;
	for (let i = 0; i < 100; i++)
		if (log_ratecheck('peer A', LOG_INFO, 'bad mac from %s', 'A'))
			passed++;
	t.equal(passed, 0, 'a burst on one key is held back');
	t.equal(log_ratecheck('peer B', LOG_INFO, 'bad mac from %s', 'B'), true, 'another key is not');
	t.equal(lines.length, 2);
	for (let i = 0; i < 5000; i++)
		log_ratecheck(`flood ${i}`, LOG_INFO, 'x');
	t.ok(lines.length <= 2 + 4096, 'a flood of distinct keys is bounded');
});

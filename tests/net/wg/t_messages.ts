// SPDX-License-Identifier: BSD-2-Clause
/* Message classification (exact sizes, reserved bytes) and padding. */

import t from 'tap';
import {
	MSG_COOKIE, MSG_DATA, MSG_INITIATION, MSG_RESPONSE, le64_get_safe, le64_put,
	wg_max_timer_handshakes, wg_msg_classify, wg_padded_len, wg_tunables_default,
} from '../../../sys/net/wg/messages.js';

function msg(type: number, len: number): Uint8Array {
	const b = new Uint8Array(len);
	if (len > 0)
		b[0] = type;
	return b;
}

t.test('classify', (t) => {
	t.equal(wg_msg_classify(msg(1, 148), 0, 148), MSG_INITIATION);
	t.equal(wg_msg_classify(msg(2, 92), 0, 92), MSG_RESPONSE);
	t.equal(wg_msg_classify(msg(3, 64), 0, 64), MSG_COOKIE);
	t.equal(wg_msg_classify(msg(4, 32), 0, 32), MSG_DATA);
	t.equal(wg_msg_classify(msg(4, 1500), 0, 1500), MSG_DATA);
	for (const len of [0, 1, 2, 3])
		t.equal(wg_msg_classify(msg(1, len), 0, len), 'rx_short', `${len} bytes`);
	t.equal(wg_msg_classify(msg(1, 147), 0, 147), 'rx_bad_size');
	t.equal(wg_msg_classify(msg(1, 149), 0, 149), 'rx_bad_size');
	t.equal(wg_msg_classify(msg(2, 93), 0, 93), 'rx_bad_size');
	t.equal(wg_msg_classify(msg(3, 63), 0, 63), 'rx_bad_size');
	t.equal(wg_msg_classify(msg(4, 31), 0, 31), 'rx_short');
	t.equal(wg_msg_classify(msg(0, 148), 0, 148), 'rx_bad_type');
	t.equal(wg_msg_classify(msg(5, 148), 0, 148), 'rx_bad_type');
	const r = msg(1, 148);
	r[2] = 1;
	t.equal(wg_msg_classify(r, 0, 148), 'rx_bad_type', 'reserved bytes must be zero');
	/* At an offset inside a bigger buffer. */
	const big = new Uint8Array(200);
	big[10] = 2;
	t.equal(wg_msg_classify(big, 10, 92), MSG_RESPONSE);
	t.end();
});

t.test('padding', (t) => {
	t.equal(wg_padded_len(0, 1420), 0, 'keepalive is not padded');
	t.equal(wg_padded_len(1, 1420), 16);
	t.equal(wg_padded_len(16, 1420), 16);
	t.equal(wg_padded_len(84, 1420), 96, '84-byte ICMP -> 96');
	t.equal(wg_padded_len(1419, 1420), 1420, 'capped at the MTU');
	t.equal(wg_padded_len(1420, 1420), 1420);
	t.equal(wg_padded_len(1412, 1420), 1420, '1412 -> 1424 capped to 1420');
	t.end();
});

t.test('64-bit counters', (t) => {
	const b = new Uint8Array(8);
	le64_put(b, 0, 2 ** 40 + 5);
	t.equal(le64_get_safe(b, 0), 2 ** 40 + 5);
	le64_put(b, 0, Number.MAX_SAFE_INTEGER);
	t.equal(le64_get_safe(b, 0), Number.MAX_SAFE_INTEGER);
	b.fill(0xff);
	t.equal(le64_get_safe(b, 0), -1, '2^64 - 1 is not representable: rejected');
	b.fill(0);
	b[6] = 0x20;	/* 2^53 */
	t.equal(le64_get_safe(b, 0), -1, '2^53 rejected');
	t.end();
});

t.test('MAX_TIMER_HANDSHAKES from the tunables', (t) => {
	const tu = wg_tunables_default();
	t.equal(wg_max_timer_handshakes(tu), 18, '90 / 5');
	t.equal(wg_max_timer_handshakes({ ...tu, rekey_timeout: 4, rekey_attempt_time: 10 }), 2, '10 / 4');
	t.equal(wg_max_timer_handshakes({ ...tu, rekey_timeout: 0 }), 0);
	t.end();
});

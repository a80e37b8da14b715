// SPDX-License-Identifier: BSD-2-Clause
/*
 * UAPI endpoints (sys/net/wg/uapi.ts): the IPv6 zone of a link-local
 * endpoint in both directions, by name through the driver's zones and
 * by number without them, as wg(8) writes and reads them.
 */

import t from 'tap';

import { uapi_endpoint_text, uapi_parse_endpoint, uapi_set_parse, type uapi_zones } from '../../../sys/net/wg/uapi.js';

const zones: uapi_zones = {
	index: (name) => (name === 'eth7' ? 7 : 0),
	name: (index) => (index === 7 ? 'eth7' : null),
};

const ll1 = Uint8Array.from([0xfe, 0x80, ...new Array<number>(13).fill(0), 1]);

t.test('zones in, zones out', async (t) => {
	t.same(uapi_parse_endpoint('[fe80::1%eth7]:51820', zones), { family: 6, addr: ll1, port: 51820, scope_id: 7 });
	t.same(uapi_parse_endpoint('[fe80::1%7]:1'), { family: 6, addr: ll1, port: 1, scope_id: 7 }, 'a number needs no zones');
	t.same(uapi_parse_endpoint('[fe80::1]:1'), { family: 6, addr: ll1, port: 1, scope_id: 0 });
	t.equal(uapi_parse_endpoint('[fe80::1%eth8]:1', zones), null, 'an unknown interface is refused');
	t.equal(uapi_parse_endpoint('[fe80::1%eth7]:1'), null, 'a name without zones is refused');
	t.equal(uapi_parse_endpoint('[fe80::1%]:1', zones), null, 'an empty zone is refused');
	t.equal(uapi_parse_endpoint('[fe80::1%0]:1', zones), null, 'zone 0 is none: refused');
	t.equal(uapi_parse_endpoint('[fe80::1%99999999999]:1', zones), null, 'beyond 32 bits');
	t.equal(uapi_parse_endpoint('[fe80::1%a b]:1', zones), null);
	t.equal(uapi_endpoint_text({ family: 6, addr: ll1, port: 5, scope_id: 7 }, zones), '[fe80::1%eth7]:5');
	t.equal(uapi_endpoint_text({ family: 6, addr: ll1, port: 5, scope_id: 9 }, zones), '[fe80::1%9]:5',
	    'an index without a name prints as a number');
	t.equal(uapi_endpoint_text({ family: 6, addr: ll1, port: 5, scope_id: 0 }, zones), '[fe80::1]:5');
	t.equal(uapi_endpoint_text({ family: 4, addr: Uint8Array.from([192, 0, 2, 1]), port: 5 }, zones), '192.0.2.1:5');
	const ops = uapi_set_parse(`public_key=${'11'.repeat(32)}\nendpoint=[fe80::1%eth7]:9\n`, zones);
	t.same(Array.isArray(ops) ? ops[1] : ops, { key: 'endpoint', ep: { family: 6, addr: ll1, port: 9, scope_id: 7 } },
	    'a set request carries the zone');
	t.equal(uapi_set_parse(`public_key=${'11'.repeat(32)}\nendpoint=[fe80::1%eth8]:9\n`, zones), -22,
	    'and refuses the request with an unknown one (EINVAL)');
});

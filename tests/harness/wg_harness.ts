// SPDX-License-Identifier: BSD-2-Clause
/*
 * Test harness for the sans-I/O core: a fake clock shared by all
 * devices and a fake network that queues datagrams and delivers them
 * when pumped (the core is not re-entrant, so never synchronously).
 */

import type { WgCrypto, WgCryptoBackend } from '../../sys/crypto/crypto.js';
import { crypto_attach } from '../../sys/crypto/crypto_select.js';
import {
	WgDevice, type WgEndpoint, type WgEvent, type WgPeer, type WgTunables, wg_tunables_default,
} from '../../sys/net/wg/device.js';

export const BACKENDS: WgCryptoBackend[] = ['noble', 'sodium', 'openssl'];

export class FakeClock {
	t = 1000;
	readonly wall_base = 1_700_000_000_000;
	now(): number {
		return this.t;
	}
	wall(): number {
		return this.wall_base + this.t;
	}
}

export interface Datagram {
	src: WgEndpoint;
	dst: WgEndpoint;
	data: Uint8Array;
	t: number;
}

export function ep4(a: string, port: number): WgEndpoint {
	return { family: 4, addr: Uint8Array.from(a.split('.').map(Number)), port };
}

export function ep_str(e: WgEndpoint): string {
	return `${e.family === 4 ? [...e.addr].join('.') : Buffer.from(e.addr).toString('hex')}:${e.port}`;
}

export class Node {
	readonly dev: WgDevice;
	readonly tun: Uint8Array[] = [];
	readonly events: WgEvent[] = [];
	readonly sent: Datagram[] = [];
	constructor(readonly net: FakeNet, public ep: WgEndpoint, readonly crypto: WgCrypto,
	    readonly priv: Uint8Array, tunables?: WgTunables) {
		this.dev = new WgDevice({
			crypto, clock: net.clock, tunables,
			io: {
				udp_send: (dst, buf, off, len) => {
					const d: Datagram = { src: { ...this.ep, addr: this.ep.addr.slice() },
					    dst: { ...dst, addr: dst.addr.slice() }, data: buf.slice(off, off + len),
					    t: net.clock.t };
					this.sent.push(d);
					net.queue.push(d);
				},
				tun_write: (buf, off, len) => {
					this.tun.push(buf.slice(off, off + len));
				},
				event: (ev) => {
					this.events.push(ev);
				},
			},
		});
		this.dev.set_private_key(priv);
	}
	get stats(): Record<string, number> {
		return this.dev.stats;
	}
	get pub(): Uint8Array {
		return this.dev.public_key() as Uint8Array;
	}
	events_of(type: WgEvent['type']): WgEvent[] {
		return this.events.filter((e) => e.type === type);
	}
	/* Datagrams this node sent with a given type byte. */
	sent_type(type: number): Datagram[] {
		return this.sent.filter((d) => d.data[0] === type);
	}
}

export class FakeNet {
	readonly clock = new FakeClock();
	readonly nodes: Node[] = [];
	queue: Datagram[] = [];
	delivered: Datagram[] = [];
	/*
	 * Queued handshakes each device handles after a delivery: by default
	 * all, as they come (no backlog, so never under load); a flood test
	 * sets 0 and ticks the devices itself.
	 */
	hs_budget = Infinity;
	/* Return false to drop a datagram on the wire. */
	filter: ((d: Datagram) => boolean) | null = null;

	add(ep: WgEndpoint, crypto: WgCrypto, priv?: Uint8Array, tunables?: WgTunables): Node {
		const n = new Node(this, ep, crypto, priv ?? crypto.generate_private_key(),
		    tunables ?? wg_tunables_default());
		this.nodes.push(n);
		return n;
	}

	find(ep: WgEndpoint): Node | undefined {
		const s = ep_str(ep);
		return this.nodes.find((n) => ep_str(n.ep) === s);
	}

	/* Deliver queued datagrams (and what they provoke) until the wire is quiet. */
	pump(max = 10000): number {
		let n = 0;
		while (this.queue.length > 0 && n < max) {
			const d = this.queue.shift() as Datagram;
			n++;
			if (this.filter !== null && !this.filter(d))
				continue;
			const to = this.find(d.dst);
			if (to === undefined)
				continue;
			this.delivered.push(d);
			to.dev.input(d.data, 0, d.data.length, d.src);
			to.dev.handshake_work(this.hs_budget);
		}
		return n;
	}

	tick_all(): void {
		for (const n of this.nodes)
			n.dev.tick();
		this.pump();
	}

	/* Move the clock forward by ms, firing every timer on the way in order. */
	advance(ms: number): void {
		const end = this.clock.t + ms;
		for (let guard = 0; guard < 1000000; guard++) {
			let next = Infinity;
			for (const n of this.nodes)
				next = Math.min(next, n.dev.next_deadline());
			if (next > end)
				break;
			this.clock.t = Math.max(this.clock.t, next);
			this.tick_all();
		}
		this.clock.t = end;
		this.tick_all();
	}
}

/* ---- IP packets. ---- */

export function ip4(src: string, dst: string, payload_len = 8, fill = 0xab): Uint8Array {
	const p = new Uint8Array(20 + payload_len);
	p[0] = 0x45;
	p[2] = (p.length >> 8) & 0xff;
	p[3] = p.length & 0xff;
	p[8] = 64;
	p[9] = 17;
	p.set(src.split('.').map(Number), 12);
	p.set(dst.split('.').map(Number), 16);
	p.fill(fill, 20);
	return p;
}

export function ip6(src: Uint8Array, dst: Uint8Array, payload_len = 8, fill = 0xcd): Uint8Array {
	const p = new Uint8Array(40 + payload_len);
	p[0] = 0x60;
	p[4] = (payload_len >> 8) & 0xff;
	p[5] = payload_len & 0xff;
	p[6] = 17;
	p[7] = 64;
	p.set(src, 8);
	p.set(dst, 24);
	p.fill(fill, 40);
	return p;
}

export function v4(a: string): Uint8Array {
	return Uint8Array.from(a.split('.').map(Number));
}

export interface Pair {
	net: FakeNet;
	a: Node;
	b: Node;
	a_peer: WgPeer;	/* a's peer entry for b */
	b_peer: WgPeer;	/* b's peer entry for a */
}

/*
 * Two devices: a = 10.0.0.1 at 192.168.1.1:51820, b = 10.0.0.2 at
 * 192.168.1.2:51820, each the other's peer with a /32, both up.
 */
export function make_pair(crypto: WgCrypto, opts: {
	tunables_a?: Partial<WgTunables>; tunables_b?: Partial<WgTunables>;
	psk_a?: Uint8Array; psk_b?: Uint8Array; b_knows_a_endpoint?: boolean;
	ka_a?: number; ka_b?: number;
} = {}): Pair {
	const net = new FakeNet();
	const a = net.add(ep4('192.168.1.1', 51820), crypto, undefined,
	    { ...wg_tunables_default(), ...opts.tunables_a });
	const b = net.add(ep4('192.168.1.2', 51820), crypto, undefined,
	    { ...wg_tunables_default(), ...opts.tunables_b });
	const a_peer = a.dev.peer_add({
		public_key: b.pub, name: 'peer0', endpoint: b.ep, preshared_key: opts.psk_a ?? null,
		allowed_ips: [{ family: 4, addr: v4('10.0.0.2'), cidr: 32 }],
		persistent_keepalive: opts.ka_a,
	});
	const b_peer = b.dev.peer_add({
		public_key: a.pub, name: 'peer0', preshared_key: opts.psk_b ?? null,
		endpoint: opts.b_knows_a_endpoint === false ? null : a.ep,
		allowed_ips: [{ family: 4, addr: v4('10.0.0.1'), cidr: 32 }],
		persistent_keepalive: opts.ka_b,
	});
	a.dev.up();
	b.dev.up();
	net.pump();
	return { net, a, b, a_peer, b_peer };
}

export function attach(backend: WgCryptoBackend): WgCrypto {
	return crypto_attach(backend);
}

export function hex(s: string): Uint8Array {
	return Uint8Array.from(Buffer.from(s, 'hex'));
}

export function to_hex(b: Uint8Array): string {
	return Buffer.from(b).toString('hex');
}

export function is_zero(b: Uint8Array): boolean {
	return b.every((x) => x === 0);
}

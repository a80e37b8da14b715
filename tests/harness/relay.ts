// SPDX-License-Identifier: BSD-2-Clause
/*
 * A UDP relay for a middle namespace: a faulty link where the kernel
 * has no sch_netem.  Run as a program (in the middle host):
 *
 *   node relay.js A_ADDR:PORT B_ADDR:PORT TO_ADDR:PORT [delay=MS] [reorder=P] [dup=P] [seed=N]
 *
 * Datagrams arriving on side A go out of side B to TO; datagrams
 * arriving on side B go out of side A to whoever last sent to A.  Both
 * directions suffer the same faults:
 *
 *   delay=MS    every datagram waits MS milliseconds (one FIFO, so
 *               the delay alone never reorders)
 *   reorder=P   with probability P a datagram is held back and sent
 *               after the next one (or after 5 ms, if none comes)
 *   dup=P       with probability P a datagram is sent twice
 *
 * It prints "relay: listening" once bound, and on SIGTERM its counters
 * as one JSON line, then exits.  The randomness is the harness's seeded
 * PRNG, so a run can be repeated.
 */

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { prng } from './prng.js';

interface addr_port { addr: string; port: number }

function parse_ap(s: string): addr_port {
	const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s);
	if (m === null)
		throw new Error(`relay: not ADDR:PORT: ${s}`);
	return { addr: m[1], port: Number(m[2]) };
}

export interface relay_faults {
	delay: number;
	reorder: number;
	dup: number;
}

export interface relay_stats {
	forwarded: number;
	duplicated: number;
	reordered: number;
	dropped: number;	/* B-side datagrams before anyone spoke on A */
}

/* One direction: delay line, then reordering and duplication at the exit. */
class relay_lane {
	private readonly q: { at: number; b: Buffer }[] = [];
	private head = 0;
	private timer: NodeJS.Timeout | null = null;
	private held: Buffer | null = null;
	private held_timer: NodeJS.Timeout | null = null;

	constructor(private readonly f: relay_faults, private readonly rand: () => number,
	    private readonly st: relay_stats, private readonly out: (b: Buffer) => void) {}

	push(b: Buffer): void {
		if (this.f.delay <= 0) {
			this.exit(b);
			return;
		}
		this.q.push({ at: Date.now() + this.f.delay, b });
		this.arm();
	}

	private arm(): void {
		if (this.timer !== null || this.head === this.q.length)
			return;
		this.timer = setTimeout(() => {
			this.timer = null;
			const now = Date.now();
			while (this.head < this.q.length && this.q[this.head].at <= now)
				this.exit(this.q[this.head++].b);
			if (this.head > 1024 && this.head * 2 > this.q.length) {
				this.q.splice(0, this.head);
				this.head = 0;
			}
			this.arm();
		}, Math.max(0, this.q[this.head].at - Date.now()));
	}

	private exit(b: Buffer): void {
		if (this.held !== null) {
			/* The one held back goes after this one. */
			const h = this.held;
			this.held = null;
			if (this.held_timer !== null)
				clearTimeout(this.held_timer);
			this.held_timer = null;
			this.send(b);
			this.send(h);
			return;
		}
		if (this.rand() < this.f.reorder) {
			this.held = b;
			this.st.reordered++;
			this.held_timer = setTimeout(() => {
				this.held_timer = null;
				const h = this.held;
				this.held = null;
				if (h !== null)
					this.send(h);
			}, 5);
			return;
		}
		this.send(b);
	}

	private send(b: Buffer): void {
		this.out(b);
		this.st.forwarded++;
		if (this.rand() < this.f.dup) {
			this.out(b);
			this.st.duplicated++;
		}
	}
}

export function relay_start(a: addr_port, b: addr_port, to: addr_port, f: relay_faults, seed: number,
    ready: () => void): relay_stats {
	const st: relay_stats = { forwarded: 0, duplicated: 0, reordered: 0, dropped: 0 };
	const rand = prng(seed);
	const family = (x: addr_port): 'udp4' | 'udp6' => (x.addr.includes(':') ? 'udp6' : 'udp4');
	const sa: Socket = createSocket(family(a));
	const sb: Socket = createSocket(family(b));
	let back: RemoteInfo | null = null;
	const ab = new relay_lane(f, rand, st, (d) => sb.send(d, to.port, to.addr));
	const ba = new relay_lane(f, rand, st, (d) => {
		if (back !== null)
			sa.send(d, back.port, back.address);
	});
	sa.on('message', (d, r) => {
		back = r;
		ab.push(d);
	});
	sb.on('message', (d) => {
		if (back === null) {
			st.dropped++;
			return;
		}
		ba.push(d);
	});
	let bound = 0;
	const one = (): void => {
		if (++bound === 2)
			ready();
	};
	sa.bind(a.port, a.addr, one);
	sb.bind(b.port, b.addr, one);
	return st;
}

/* As a program (see the header). */
if (process.argv[1]?.endsWith('/relay.js') === true) {
	const [a, b, to, ...opts] = process.argv.slice(2);
	const f: relay_faults = { delay: 0, reorder: 0, dup: 0 };
	let seed = 1;
	for (const o of opts) {
		const m = /^(delay|reorder|dup|seed)=([0-9.]+)$/.exec(o);
		if (m === null)
			throw new Error(`relay: bad option ${o}`);
		if (m[1] === 'seed')
			seed = Number(m[2]);
		else
			f[m[1] as keyof relay_faults] = Number(m[2]);
	}
	const st = relay_start(parse_ap(a), parse_ap(b), parse_ap(to), f, seed, () => process.stdout.write('relay: listening\n'));
	process.on('SIGTERM', () => {
		process.stdout.write(`${JSON.stringify(st)}\n`);
		process.exit(0);
	});
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * The data path's warm-up at attach (net.wg.warmup, share/doc/DESIGN.md §1).
 *
 * V8 runs a new thread's code in its interpreter and baseline tiers
 * until it has run some thousands of times: a fresh tunnel's first pings
 * took about 1.6x the round trip of a used one (tests/bench/b_tunnel.ts).
 * A warm-up made of other code does not help, as V8 optimises for the
 * shapes and call targets it saw and throws that code away on the first
 * real packet.  So the thread runs two more instances of its own data
 * path (wg_intr: the same class, call sites and kinds of buffers) that
 * talk to each other: a handshake, then ICMP echoes of both families,
 * through "tuns" that are AF_UNIX datagram socket pairs and over UDP on
 * loopback (IPv4, then IPv6 where the host has ::1).  The keys are made
 * here and wiped with the instances; nothing leaves the host and the
 * interface's own state is not touched.
 *
 * It runs in slices between the interface's rounds (whose poll does not
 * wait meanwhile), so a packet or a request waits at most one slice, and
 * it ends after the packets asked for or WARM_BUDGET_MS, whichever first.
 */

import { MessageChannel } from 'node:worker_threads';

import {
	EAGAIN, LINUX_AF_UNIX, SOCK_DGRAM, SOCK_NONBLOCK, close, errno_name, ptr_of, read_addr, socketpair,
	stable_bytes, write_addr,
} from '../arch/linux/libc.js';
import { udp_open, udp_port } from '../arch/linux/udp.js';
import { VIRTIO_NET_HDR_LEN } from '../arch/linux/virtio_net.js';
import { crypto_attach } from '../crypto/crypto_select.js';
import type { wg_intr_init, wg_intr_reply, wg_intr_req } from './if_wg_intr.js';

/* What the warm-up needs of a data-path instance (if_wg_intr.ts). */
export interface wg_warm_intr {
	handle(id: number, req: wg_intr_req): wg_intr_reply;
	round(max_ms: number): void;
	detach(): void;
}

/* Packets written into each side's tun per slice. */
const WARM_BURST = 32;
/*
 * And lone round trips per slice, a packet each way with rounds between,
 * as pings and request-response traffic make: the code that runs once
 * per round or per wake-up (the poll loop, the timers, the flushes) is
 * hot only after thousands of rounds, which bursts do not give it.
 */
const WARM_TRIPS = 32;
/*
 * The last 1/WARM_LAST of the packets go in lone round trips alone, over
 * IPv4 outside as a new tunnel's first pings do, so that what V8 threw
 * away at the events before (the second pair, IPv6) is optimised again
 * by the end.
 */
const WARM_LAST = 4;
/* Wall time after which the warm-up ends whatever it carried. */
const WARM_BUDGET_MS = 4000;
/* Slices without a packet through before giving up (loopback down, say). */
const WARM_SETUP_SLICES = 200;
/*
 * Messages per session: new handshakes and keypair rotations all along,
 * so that the paths of the interface's own first handshake run in
 * optimised code too.
 */
const WARM_REKEY = 1024;
const WARM_REKEY_TIMEOUT = 0.1;
/* The first pair carries this share of the packets (see step()). */
const WARM_FIRST_PAIR = 8;
/* Echo payloads: ping's default, and one that fills the MTU (the AEAD's long-message path). */
const ECHO_DATA = [56, 1392];

/* The inner addresses (documentation prefixes): side 0 is .1 and ::1 in them, side 1 .2 and ::2. */
const IN4 = [[192, 0, 2, 1], [192, 0, 2, 2]];
const IN6 = [0, 1].map((i) => {
	const a = new Uint8Array(16);
	a.set([0x20, 0x01, 0x0d, 0xb8]);
	a[15] = i + 1;
	return a;
});
const LO4 = new Uint8Array([127, 0, 0, 1]);
const LO6 = (() => {
	const a = new Uint8Array(16);
	a[15] = 1;
	return a;
})();

/*
 * An ICMP (v4) or ICMPv6 echo request from side i to the other, with
 * data bytes, behind hl bytes of (empty) virtio_net_hdr.
 */
function echo(family: 4 | 6, i: number, data: number, hl: number): Uint8Array {
	const ip = family === 4 ? 20 : 40;
	const len = ip + 8 + data;
	const b = stable_bytes(hl + len);
	const p = b.subarray(hl);
	if (family === 4) {
		p.set([0x45, 0, len >> 8, len & 0xff, 0, 0, 0x40, 0, 64, 1]);
		p.set(IN4[i], 12);
		p.set(IN4[1 - i], 16);
		p[ip] = 8;
	} else {
		p.set([0x60, 0, 0, 0, (8 + data) >> 8, (8 + data) & 0xff, 58, 64]);
		p.set(IN6[i], 8);
		p.set(IN6[1 - i], 24);
		p[ip] = 128;
	}
	/* Nothing checks the checksums: the far end is a socket pair. */
	return b;
}

interface warm_side {
	intr: wg_warm_intr;
	far: number;		/* our end of its tun */
	port4: number;
	port6: number;		/* 0: no IPv6 on loopback */
	pkts: Uint8Array[];	/* its echoes: v4 and v6, short and long */
	addrs: number[];
}

export class wg_warm {
	private sides: warm_side[] = [];
	private fds: number[] = [];
	private port: MessageChannel | null = null;
	private readonly init: wg_intr_init;
	private readonly make: (init: wg_intr_init) => wg_warm_intr;
	private readonly sink = stable_bytes(VIRTIO_NET_HDR_LEN + 65536);
	private readonly sink_addr = ptr_of(this.sink);
	private readonly target: number;
	private readonly deadline: number;
	private readonly t0 = globalThis.performance.now();
	private readonly log: (level: 'info' | 'debug', msg: string) => void;
	private carried = 0;
	private slices = 0;
	private family: 4 | 6 = 4;
	private pairs = 0;
	private done = false;

	/* make: a data-path instance for an init (new wg_intr); log: the interface's log. */
	constructor(init: wg_intr_init, make: (init: wg_intr_init) => wg_warm_intr,
	    log: (level: 'info' | 'debug', msg: string) => void) {
		this.init = init;
		this.make = make;
		this.log = log;
		this.target = init.warmup;
		this.deadline = this.t0 + WARM_BUDGET_MS;
		this.attach();
	}

	/* A pair of instances with fresh keys, each the other's peer over IPv4 on loopback. */
	private attach(): void {
		const init = this.init;
		try {
			const ch = this.port = new MessageChannel();
			const crypto = crypto_attach(init.backend);
			const hl = init.vnet_hdr ? VIRTIO_NET_HDR_LEN : 0;
			const keys = [crypto.generate_private_key(), crypto.generate_private_key()];
			const pubs = keys.map((k) => crypto.public_key(k));
			for (let i = 0; i < 2; i++) {
				const sv = new Int32Array(2);
				const r = socketpair(LINUX_AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv);
				if (r < 0)
					throw new Error(`socketpair: ${errno_name(r)}`);
				this.fds.push(sv[0], sv[1]);
				const fd4 = udp_open(4, 0, { nonblock: true, loopback: true, sockbuf: 1 << 20 });
				this.fds.push(fd4);
				let fd6 = -1;
				try {
					fd6 = udp_open(6, 0, { nonblock: true, loopback: true, sockbuf: 1 << 20 });
					this.fds.push(fd6);
				} catch {
					/* No ::1 here: IPv4 alone. */
				}
				/*
				 * The interface's init with other descriptors: the same shape, so
				 * the same V8 map.  With crypto threads, the same rings but no
				 * threads (if_wg_intr.ts: set_crypto_workers).
				 */
				const intr = this.make({ ...init, ifname: `${init.ifname} warm-up`, tunfd: sv[0], fd4, fd6, efd: -1,
				    port: ch.port1, warmup: 0, loopback: true,
				    tunables: { ...init.tunables, rekey_after_messages: WARM_REKEY, rekey_timeout: WARM_REKEY_TIMEOUT } });
				const pkts = ECHO_DATA.flatMap((d) => [echo(4, i, d, hl), echo(6, i, d, hl)]);
				this.sides.push({ intr, far: sv[1], port4: udp_port(fd4), port6: fd6 < 0 ? 0 : udp_port(fd6), pkts,
				    addrs: pkts.map(ptr_of) });
			}
			for (let i = 0; i < 2; i++) {
				const s = this.sides[i];
				const o = this.sides[1 - i];
				s.intr.handle(0, { op: 'set_private_key', key: keys[i] });
				s.intr.handle(0, { op: 'peer_add', cfg: {
					public_key: pubs[1 - i], name: 'warm-up',
					endpoint: { family: 4, addr: LO4, port: o.port4 },
					allowed_ips: [{ family: 4, addr: new Uint8Array(IN4[1 - i]), cidr: 32 },
					    { family: 6, addr: IN6[1 - i], cidr: 128 }],
				} });
				s.intr.handle(0, { op: 'up' });
			}
			this.family = 4;
			this.pairs++;
		} catch (e) {
			this.log('info', `no warm-up (${(e as Error).message})`);
			this.stop();
		}
	}

	/* The pair gone: instances stopped (their keys wiped), descriptors closed. */
	private detach(): void {
		for (const s of this.sides) {
			s.intr.handle(0, { op: 'stop' });
			s.intr.detach();
		}
		for (const fd of this.fds)
			close(fd);
		this.port?.port1.close();
		this.port?.port2.close();
		this.sides = [];
		this.fds = [];
		this.port = null;
	}

	/* One slice; false once the warm-up is over (and cleaned up). */
	step(): boolean {
		if (this.done)
			return false;
		const [a, b] = this.sides;
		const last = this.carried >= this.target - this.target / WARM_LAST;
		if (!last) {
			for (const s of this.sides) {
				/* Mostly short ones, as pings and ACKs are; one long one in four. */
				for (let k = 0; k < WARM_BURST; k++) {
					const j = (k & 3) === 3 ? 2 + ((k >> 2) & 1) : k & 1;
					write_addr(s.far, s.addrs[j], s.pkts[j].length);
				}
				/* And a runt, as a tun gives now and then: dropped and counted. */
				write_addr(s.far, s.addrs[0], 1);
			}
			/* There and back: a's echoes reach b's tun, b's reach a's. */
			for (let r = 0; r < 2; r++) {
				a.intr.round(0);
				b.intr.round(0);
			}
			this.carried += this.drain(a.far) + this.drain(b.far);
		}
		for (let k = 0; k < WARM_TRIPS; k++)
			this.carried += this.trip(a, b) + this.trip(b, a);
		this.slices++;
		const now = globalThis.performance.now();
		if (this.carried === 0 && this.slices >= WARM_SETUP_SLICES) {
			this.log('info', 'no warm-up: nothing came through on loopback');
			this.stop();
		} else if (this.carried >= this.target || now > this.deadline) {
			this.log('debug', `warm-up: ${this.carried} packets in ${Math.round(now - this.t0)} ms`);
			this.stop();
		} else if (this.pairs === 1 && this.carried >= this.target / WARM_FIRST_PAIR) {
			/*
			 * A second pair for the rest: the first one's teardown changed
			 * what V8 assumed of the objects' fields (and threw away code
			 * that relied on it), which a teardown does once only.
			 */
			this.detach();
			this.attach();
		} else if (this.family === 4 && !last && this.carried >= this.target / 2 && a.port6 !== 0 && b.port6 !== 0) {
			/* The second half over IPv6 outside ... */
			this.outside(6);
		} else if (this.family === 6 && last) {
			/* ... but for the last part. */
			this.outside(4);
		}
		return !this.done;
	}

	/* Each side's peer at the other's socket of that family. */
	private outside(family: 4 | 6): void {
		this.family = family;
		for (let i = 0; i < 2; i++) {
			const o = this.sides[1 - i];
			this.sides[i].intr.handle(0, { op: 'peer_set', name: 'warm-up', endpoint: family === 4 ?
			    { family: 4, addr: LO4, port: o.port4 } : { family: 6, addr: LO6, port: o.port6 } });
		}
	}

	/* One packet from s's tun to o's, one round each; returns the packets that arrived. */
	private trip(s: warm_side, o: warm_side): number {
		write_addr(s.far, s.addrs[0], s.pkts[0].length);
		s.intr.round(0);
		o.intr.round(0);
		return this.drain(o.far);
	}

	/* Reads what reached a tun; returns the packets. */
	private drain(fd: number): number {
		let n = 0;
		for (;;) {
			const r = read_addr(fd, this.sink_addr, this.sink.length);
			if (r === -EAGAIN || r < 0)
				return n;
			n++;
		}
	}

	/* Over: nothing of it is left. */
	stop(): void {
		if (this.done)
			return;
		this.done = true;
		this.detach();
	}
}

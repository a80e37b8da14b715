// SPDX-License-Identifier: BSD-2-Clause
/*
 * The crypto threads and their job rings (sys/net/if_wg_crypt.ts,
 * if_wg_ring.ts), with real threads:
 *
 *  - per backend: seals and opens through 2 threads across many batches
 *    (the ring wraps many times), checked against the same backend
 *    inline; results come back in the order pushed, a failed open in
 *    the middle fails alone; the threads really took jobs;
 *  - a key dropped with jobs in flight: they finish first, then its slot
 *    is wiped and reused;
 *  - the core through the hand-off (WgIo.open_defer/seal_defer,
 *    WgDevice.input_opened): a peer's packets reach the tun in order
 *    across batches, a forged message in the middle is counted
 *    (rx_auth_fail), and when a batch's key confirmation drops the
 *    oldest keypair, that keypair's late messages later in the same
 *    batch go (rx_bad_index) while the others arrive.
 */

import t from 'tap';
import type { WgCrypto } from '../../sys/crypto/crypto.js';
import { crypto_attach } from '../../sys/crypto/crypto_select.js';
import { wg_crypt } from '../../sys/net/if_wg_crypt.js';
import { RING_SLOTS } from '../../sys/net/if_wg_ring.js';
import { WgDevice, type WgEndpoint, type WgIo, wg_tunables_default } from '../../sys/net/wg/device.js';
import { DATA_OFF_PAYLOAD, MSG_DATA } from '../../sys/net/wg/messages.js';
import type { WgKeypair } from '../../sys/net/wg/noise.js';
import { BACKENDS, FakeClock, ep4, ip4, v4 } from '../harness/wg_harness.js';
import { prng_bytes } from '../harness/prng.js';

const MSG = 1420;
const SLOT = 2048;

/* Stop the calling thread for ms (the crypto threads meanwhile take what waits). */
function pause(ms: number): void {
	Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/*
 * The threads up, as the data path finds them after the interface's
 * set-up.  Waited for in the event loop: under tap's module hooks
 * (--import), a thread loads its modules through this one's.
 */
async function ready(crypt: wg_crypt): Promise<number> {
	for (let i = 0; i < 500 && crypt.threads_ready < crypt.nthreads; i++)
		await new Promise((r) => setTimeout(r, 10));
	return crypt.threads_ready;
}

for (const backend of BACKENDS) {
	t.test(`${backend}: seal and open on 2 threads, in order, across the ring's wrap`, async (t) => {
		const c = crypto_attach(backend);
		const n = 64;
		const sab = new SharedArrayBuffer(n * SLOT);
		const buf = new Uint8Array(sab);
		const crypt = new wg_crypt(2, c, [sab]);
		t.teardown(() => crypt.destroy());
		t.equal(await ready(crypt), 2, 'both threads started');
		const key = prng_bytes(7)(32);
		const want = new Uint8Array(MSG + 16);
		const plain = new Uint8Array(MSG);
		let counter = 0;
		let bad = 0;
		/* 2 x RING_SLOTS / n batches: the ring wraps twice. */
		for (let batch = 0; batch < 2 * RING_SLOTS / n; batch++) {
			const base = counter;
			for (let i = 0; i < n; i++) {
				buf.fill((base + i) & 0xff, i * SLOT, i * SLOT + MSG);
				if (!crypt.seal(key, base + i, buf, i * SLOT, MSG))
					bad++;
			}
			if (batch % 4 === 0)
				pause(20);
			crypt.tx_wait();
			for (let i = 0; i < n; i++) {
				plain.fill((base + i) & 0xff);
				c.aead_seal_into(key, base + i, plain, 0, MSG, null, want, 0);
				if (Buffer.compare(buf.subarray(i * SLOT, i * SLOT + MSG + 16), want) !== 0)
					bad++;
			}
			/* Open them back, one forged in the middle. */
			const forged = (batch * 7) % n;
			buf[forged * SLOT + 100] ^= 1;
			for (let i = 0; i < n; i++)
				crypt.open(key, base + i, buf, i * SLOT, MSG + 16, `job ${base + i}`, i);
			if (batch % 4 === 1)
				pause(20);
			let next = 0;
			crypt.rx_complete((ctx, ctr, ok, b, off, len, aux) => {
				if (ctx !== `job ${base + next}` || ctr !== base + next || aux !== next || b !== buf ||
				    off !== next * SLOT || len !== MSG + 16 || ok !== (next !== forged))
					bad++;
				else if (ok && b[off] !== ((base + next) & 0xff))
					bad++;
				next++;
			});
			if (next !== n)
				bad++;
			counter += n;
		}
		t.equal(bad, 0, `${counter} seals and opens: results as inline, in order, the forged ones alone failed`);
		t.ok(crypt.thread_jobs > 0, `the threads took jobs (${crypt.thread_jobs} of ${2 * counter})`);
	});
}

t.test('a dropped key: jobs in flight finish, then its slot is wiped and reused', async (t) => {
	const c = crypto_attach();
	const sab = new SharedArrayBuffer(32 * SLOT);
	const buf = new Uint8Array(sab);
	const crypt = new wg_crypt(1, c, [sab]);
	t.teardown(() => crypt.destroy());
	const keybuf = (crypt as unknown as { keybuf: Uint8Array }).keybuf;
	const k1 = new Uint8Array(32).fill(1);
	const k2 = new Uint8Array(32).fill(2);
	for (let i = 0; i < 16; i++)
		crypt.seal(k1, i, buf, i * SLOT, MSG);
	t.ok(keybuf.some((x) => x === 1), 'k1 is in the shared table');
	crypt.forget(k1);
	t.ok(keybuf.every((x) => x === 0), 'k1 wiped from the table');
	const want = new Uint8Array(MSG + 16);
	let bad = 0;
	for (let i = 0; i < 16; i++) {
		c.aead_seal_into(k1, i, new Uint8Array(MSG), 0, MSG, null, want, 0);
		if (Buffer.compare(buf.subarray(i * SLOT, i * SLOT + MSG + 16), want) !== 0)
			bad++;
	}
	t.equal(bad, 0, 'the seals pushed before the drop were done with k1');
	crypt.tx_wait();
	buf.fill(0);
	crypt.seal(k2, 0, buf, 0, MSG);
	crypt.tx_wait();
	c.aead_seal_into(k2, 0, new Uint8Array(MSG), 0, MSG, null, want, 0);
	t.same(buf.subarray(0, MSG + 16), want, 'k2 takes the slot');
});

/*
 * The core through the hand-off: a sends, b receives through a wire in
 * shared memory, opened on 2 threads and completed in order.
 */
t.test('the device: order, a forged message, a keypair dropped mid-batch', async (t) => {
	const c = crypto_attach();
	const clock = new FakeClock();
	const sab = new SharedArrayBuffer(256 * SLOT);
	const wire = new Uint8Array(sab);
	const crypt = new wg_crypt(2, c, [sab]);
	t.teardown(() => crypt.destroy());
	const ea = ep4('192.168.1.1', 51820);
	const eb = ep4('192.168.1.2', 51820);
	const to_a: Uint8Array[] = [];
	const to_b: Uint8Array[] = [];
	const tun_b: number[] = [];
	const io = (out: Uint8Array[]): WgIo => ({
		udp_send: (_ep, b, off, len) => { out.push(b.slice(off, off + len)); },
		tun_write: () => {},
		event: () => {},
	});
	const a = new WgDevice({ crypto: c, clock, io: io(to_b), tunables: wg_tunables_default() });
	const b_io = io(to_a);
	/* The packet's sequence number is its payload's first bytes. */
	b_io.tun_write = (b, off) => { tun_b.push(b[off + 20] | (b[off + 21] << 8)); };
	b_io.open_defer = (kp, counter, b, off, len) => crypt.open(kp.recv_key, counter, b, off + DATA_OFF_PAYLOAD,
	    len - DATA_OFF_PAYLOAD, kp, 0);
	const b = new WgDevice({
		crypto: Object.create(c, { aead_forget: { value: (k: Uint8Array) => {
			crypt.forget(k);
			c.aead_forget(k);
		} } }) as WgCrypto,
		clock, io: b_io, tunables: wg_tunables_default(),
	});
	a.set_private_key(c.generate_private_key());
	b.set_private_key(c.generate_private_key());
	a.peer_add({ public_key: b.public_key() as Uint8Array, name: 'b', endpoint: eb, preshared_key: null,
	    allowed_ips: [{ family: 4, addr: v4('10.0.0.2'), cidr: 32 }] });
	b.peer_add({ public_key: a.public_key() as Uint8Array, name: 'a', endpoint: ea, preshared_key: null,
	    allowed_ips: [{ family: 4, addr: v4('10.0.0.1'), cidr: 32 }] });
	a.up();
	b.up();
	const src: WgEndpoint = { ...ea, addr: ea.addr.slice() };

	/* b's receive path: the batch onto the wire, wg_input each, then the completions in order. */
	const deliver_b = (batch: Uint8Array[]): void => {
		batch.forEach((d, i) => {
			wire.set(d, i * SLOT);
			b.input(wire, i * SLOT, d.length, src);
		});
		crypt.rx_complete((kp, ctr, ok, buf, off, len) =>
			b.input_opened(kp as WgKeypair, ctr, ok, buf, off - DATA_OFF_PAYLOAD, len + DATA_OFF_PAYLOAD, src));
		b.handshake_work();
	};
	const deliver_a = (): void => {
		for (const d of to_a.splice(0))
			a.input(d, 0, d.length, eb);
		a.handshake_work();
	};
	/* Everything on the wire both ways until it is quiet, b's in one batch each time. */
	const pump = (): void => {
		while (to_b.length > 0 || to_a.length > 0) {
			deliver_b(to_b.splice(0));
			deliver_a();
		}
	};
	let seq = 0;
	const send = (n: number): Uint8Array[] => {
		for (let i = 0; i < n; i++) {
			const p = ip4('10.0.0.1', '10.0.0.2', 1200);
			p[20] = seq & 0xff;
			p[21] = seq >> 8;
			seq++;
			a.output(p, 0, p.length);
		}
		return to_b.splice(0);
	};
	/*
	 * a initiated: past REKEY_AFTER_TIME its next packet starts a
	 * handshake.  Returns what a sends once it has the new session (the
	 * keepalive that confirms it to b), not yet delivered.
	 */
	const rekey = (): Uint8Array[] => {
		clock.t += 121_000;
		deliver_b(send(1));
		deliver_a();
		return to_b.splice(0);
	};

	deliver_b(send(1));
	pump();
	t.same(tun_b, [0], 'the first packet, after the handshake');

	/* Many batches, each in order; one forged message in the third. */
	const got: number[] = [];
	tun_b.length = 0;
	for (let batch = 0; batch < 8; batch++) {
		const d = send(100);
		if (batch === 2)
			d[50][DATA_OFF_PAYLOAD + 10] ^= 1;
		deliver_b(d);
	}
	got.push(...tun_b);
	const want = Array.from({ length: 800 }, (_, i) => i + 1).filter((s) => s !== 251);
	t.same(got, want, '800 packets in 8 batches: in order, the forged one alone missing');
	t.equal(b.stats.rx_auth_fail, 1, 'the forged one counted');

	/* Keypairs: K0 (the first), K1 then K2 by rekeys; K0's messages held back meanwhile. */
	const late_k0 = send(5);
	const k1_ka = rekey();
	const k1_msgs = send(5);
	tun_b.length = 0;
	/* b confirms K1 (current K1, previous K0) as a batch of K1 data goes by. */
	deliver_b([...k1_ka, ...k1_msgs]);
	t.equal(tun_b.length, 5, 'K1 confirmed, its data through');
	const first = seq;
	const k1_more = send(3);
	const k2_ka = rekey();
	const k2_msgs = send(3);
	/*
	 * One batch: K2 data (confirms K2, which drops K0), then K0's late
	 * messages (their keypair gone by their turn), then K1's (previous: kept).
	 */
	tun_b.length = 0;
	const idx_before = b.stats.rx_bad_index;
	deliver_b([...k2_ka, ...k2_msgs, ...late_k0, ...k1_more]);
	t.same(tun_b, [first + 4, first + 5, first + 6, first, first + 1, first + 2],
	    'K2 data, then K1\'s late data; K0\'s dropped');
	t.equal(b.stats.rx_bad_index - idx_before, 5, 'K0\'s late messages counted as for a keypair gone');
	t.ok(k2_msgs.every((m) => m[0] === MSG_DATA), 'K2 messages were data');
	b.destroy();
	a.destroy();
});

// SPDX-License-Identifier: BSD-2-Clause
/*
 * A hostile local client of an instance's control socket, for the
 * memory tests (run as nobody):
 *
 *	node h_hog.js ID SECONDS
 *
 * For SECONDS it keeps CONNS connections of each kind open, opening a
 * new one whenever the instance closes one:
 *   big    announces a 4 GiB frame and streams its body as fast as the
 *          socket takes it (the 64 MiB frames of the original report);
 *   flood  pipelines small valid requests and never reads a reply;
 *   slow   sends a request one byte a second (slow-loris).
 * Then prints one JSON line: connections opened, closed by the
 * instance, refused, bytes written.
 */

import { connect, type Socket } from 'node:net';
import { shim_socket_name } from '../../../sys/sys/shim.js';

const id = Number(process.argv[2]);
const seconds = Number(process.argv[3] ?? '20');
const CONNS = 8;
const end = Date.now() + seconds * 1000;
const stats = { opened: 0, closed: 0, refused: 0, bytes: 0 };
const chunk = Buffer.alloc(64 * 1024, 0x20);

function frame(body: string): Buffer {
	const b = Buffer.from(body);
	const head = Buffer.alloc(4);
	head.writeUInt32BE(b.length, 0);
	return Buffer.concat([head, b]);
}
const small = frame(JSON.stringify({ op: 'ifconf' }));
const flood_chunk = Buffer.concat(Array.from({ length: Math.ceil(chunk.length / small.length) }, () => small));

type kind = 'big' | 'flood' | 'slow';

function pour(s: Socket, data: Buffer): void {
	const go = (): void => {
		while (!s.destroyed && Date.now() < end) {
			stats.bytes += data.length;
			if (!s.write(data))
				return;
		}
	};
	s.on('drain', go);
	go();
}

function open(k: kind): void {
	if (Date.now() >= end)
		return;
	const s = connect({ path: shim_socket_name(id) });
	let connected = false;
	s.on('error', () => undefined);
	s.on('connect', () => {
		connected = true;
		stats.opened++;
		if (k === 'big') {
			const head = Buffer.alloc(4);
			head.writeUInt32BE(0xfffffff0, 0);
			s.write(head);
			pour(s, chunk);
		} else if (k === 'flood') {
			s.pause();	/* never read a reply */
			pour(s, flood_chunk);
		} else {
			const req = frame(JSON.stringify({ op: 'sysctl', name: 'net.wg.debug' }));
			let i = 0;
			const t = setInterval(() => {
				if (s.destroyed || i >= req.length || Date.now() >= end)
					return clearInterval(t);
				s.write(req.subarray(i, ++i));
				stats.bytes++;
			}, 1000);
		}
	});
	s.on('close', () => {
		if (connected)
			stats.closed++;
		else
			stats.refused++;
		setTimeout(() => open(k), 50);
	});
	setTimeout(() => s.destroy(), Math.max(0, end - Date.now())).unref();
}

for (const k of ['big', 'flood', 'slow'] as const)
	for (let i = 0; i < CONNS; i++)
		open(k);
setTimeout(() => {
	process.stdout.write(`${JSON.stringify(stats)}\n`);
	process.exit(0);
}, seconds * 1000 + 500);

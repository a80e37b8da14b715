// SPDX-License-Identifier: BSD-2-Clause
/*
 * A raw control-socket client for the kernel tests: speaks the shim's
 * framing, or deliberately does not.
 *
 *	node h_client.js ID 'STEPS'
 *
 * STEPS is a JSON array run in order over one connection:
 *   {"req": {...}}          send a framed request, wait for the reply; its
 *                           "attach", base64 strings, go as attachments
 *   {"raw": "BASE64"}       write these bytes as they are
 *   {"raw": "...", "wait": true}   ... then wait for a reply or the close
 *   {"new": true}           close the connection and open a fresh one
 *   {"hold": N}             open N more connections, each asked one sysctl
 *                           read, kept open until the process ends:
 *                           {"answered": A, "closed": C}
 * and prints a JSON array with one entry per waiting step: the reply (its
 * attachments as "attach", base64 strings), or
 * {"closed": true}, or {"timeout": true}.  Exit 0 unless it could not
 * connect at all (exit 2, {"connect": "ECONNREFUSED"}).
 *
 *	node h_client.js ID -
 *
 * reads one STEPS array per line on standard input and answers each with
 * one line, each on a fresh connection, until end of input: a test talks
 * to an instance many times without starting a process each time.
 */

import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { shim_frame_decode, shim_frame_encode, shim_socket_name, type ShimRequest } from '../../../sys/sys/shim.js';

type step = { req: unknown } | { raw: string; wait?: boolean } | { new: true } | { hold: number };
type outcome = Record<string, unknown>;

const REPLY_TIMEOUT_MS = 20_000;	/* over the kernel's SHIM_REQUEST_TIMEOUT_MS */

/* Connections opened by "hold" steps: open until the process exits. */
const held: conn[] = [];

class conn {
	private sock: Socket;
	private buf = Buffer.alloc(0);
	private closed = false;
	private waiter: (() => void) | null = null;

	private constructor(sock: Socket) {
		this.sock = sock;
		sock.on('data', (b: Buffer) => {
			this.buf = Buffer.concat([this.buf, b]);
			this.waiter?.();
		});
		sock.on('close', () => {
			this.closed = true;
			this.waiter?.();
		});
		sock.on('error', () => { /* close follows */ });
	}

	static open(id: number): Promise<conn | string> {
		return new Promise((resolve) => {
			const s = connect({ path: shim_socket_name(id) });
			s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
			s.once('connect', () => resolve(new conn(s)));
		});
	}

	write(b: Buffer): void {
		if (!this.closed)
			this.sock.write(b);
	}

	/* The next reply frame, or closed / timeout. */
	next(): Promise<outcome> {
		return new Promise((resolve) => {
			const timer = setTimeout(() => finish({ timeout: true }), REPLY_TIMEOUT_MS);
			const finish = (o: outcome): void => {
				clearTimeout(timer);
				this.waiter = null;
				resolve(o);
			};
			const check = (): void => {
				if (this.buf.length >= 4) {
					const n = this.buf.readUInt32BE(0);
					if (this.buf.length >= 4 + n) {
						const body = this.buf.subarray(4, 4 + n);
						this.buf = this.buf.subarray(4 + n);
						const f = shim_frame_decode(body);
						if (f === null || typeof f.msg !== 'object' || f.msg === null)
							return finish({ bad_reply: body.toString('utf8') });
						const o = f.msg as outcome;
						if (f.attach.length > 0)
							o.attach = f.attach.map((a) => Buffer.from(a).toString('base64'));
						return finish(o);
					}
				}
				if (this.closed)
					finish({ closed: true });
			};
			this.waiter = check;
			check();
		});
	}

	close(): void {
		this.sock.destroy();
	}
}

function frame(v: unknown): Buffer {
	const r = v as ShimRequest & { attach?: unknown };
	if (r.op === 'ioctl' && Array.isArray(r.attach))
		return shim_frame_encode({ ...r, attach: (r.attach as unknown as string[]).map((a) => Buffer.from(a, 'base64')) });
	return shim_frame_encode(v as ShimRequest);
}

async function run_steps(id: number, steps: step[]): Promise<{ out: outcome[]; ok: boolean }> {
	const out: outcome[] = [];
	let c = await conn.open(id);
	if (typeof c === 'string')
		return { out: [{ connect: c }], ok: false };
	for (const s of steps) {
		if ('hold' in s) {
			let answered = 0;
			let closed = 0;
			for (let i = 0; i < s.hold; i++) {
				const h = await conn.open(id);
				if (typeof h === 'string') {
					closed++;
					continue;
				}
				held.push(h);
				h.write(frame({ op: 'sysctl', name: 'net.wg.debug' }));
				if ('errno' in await h.next())
					answered++;
				else
					closed++;
			}
			out.push({ answered, closed });
		} else if ('new' in s) {
			c.close();
			const n = await conn.open(id);
			if (typeof n === 'string') {
				out.push({ connect: n });
				return { out, ok: false };
			}
			c = n;
		} else if ('req' in s) {
			c.write(frame(s.req));
			out.push(await c.next());
		} else {
			c.write(Buffer.from(s.raw, 'base64'));
			if (s.wait === true)
				out.push(await c.next());
		}
	}
	c.close();
	return { out, ok: true };
}

async function main(): Promise<number> {
	const id = Number(process.argv[2]);
	if (process.argv[3] === '-') {
		const rl = createInterface({ input: process.stdin });
		for await (const line of rl) {
			let steps: step[];
			try {
				steps = JSON.parse(line) as step[];
			} catch {
				process.stdout.write(JSON.stringify([{ bad_steps: line }]) + '\n');
				continue;
			}
			process.stdout.write(JSON.stringify((await run_steps(id, steps)).out) + '\n');
		}
		return 0;
	}
	const r = await run_steps(id, JSON.parse(process.argv[3] ?? '[]') as step[]);
	process.stdout.write(JSON.stringify(r.out) + '\n');
	return r.ok ? 0 : 2;
}

void main().then((code) => { process.exitCode = code; });

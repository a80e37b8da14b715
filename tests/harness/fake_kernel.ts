// SPDX-License-Identifier: BSD-2-Clause
/*
 * A fake kernel instance for userland tests: it listens on the shim's
 * abstract socket under a random high instance id (never a real one),
 * records every request (attachments copied into attach) and answers
 * with scripted replies, framed as the kernel frames them.  Programs
 * under test are the compiled entry files, run as child processes with
 * WG_USERSPACE_ID pointing at the fake.
 */

import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

import {
	shim_frame_decode, shim_frame_encode, shim_socket_name, type ShimReply, type ShimRequest,
} from '../../sys/sys/shim.js';

export type FakeHandler = (req: ShimRequest) => ShimReply;

export class FakeKernel {
	readonly requests: ShimRequest[] = [];
	/* The connection (numbered from 0 since reset) each request came on. */
	readonly request_conns: number[] = [];
	handler: FakeHandler = () => ({ errno: 0 });
	private nconns = 0;
	private readonly conns = new Set<Socket>();

	private constructor(readonly id: number, private readonly server: Server) {}

	static async start(): Promise<FakeKernel> {
		for (;;) {
			const id = 100000000 + Math.floor(Math.random() * 800000000);
			const server = createServer();
			const fk = new FakeKernel(id, server);
			const ok = await new Promise<boolean>((resolve) => {
				server.once('error', () => resolve(false));
				server.listen({ path: shim_socket_name(id) }, () => resolve(true));
			});
			if (!ok)
				continue;
			server.on('connection', (c) => fk.serve(c));
			return fk;
		}
	}

	private serve(c: Socket): void {
		const n = this.nconns++;
		this.conns.add(c);
		c.on('close', () => this.conns.delete(c));
		c.on('error', () => c.destroy());
		let buf = Buffer.alloc(0);
		c.on('data', (chunk: Buffer) => {
			buf = Buffer.concat([buf, chunk]);
			while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
				const len = buf.readUInt32BE(0);
				const f = shim_frame_decode(buf.subarray(4, 4 + len));
				buf = buf.subarray(4 + len);
				if (f === null)
					throw new Error('fake kernel: malformed frame');
				const req = f.msg as ShimRequest;
				if (f.attach.length > 0 && req.op === 'ioctl')
					req.attach = f.attach.map((a) => a.slice());
				this.requests.push(req);
				this.request_conns.push(n);
				c.write(shim_frame_encode(this.handler(req)));
			}
		});
	}

	reset(handler?: FakeHandler): void {
		this.requests.length = 0;
		this.request_conns.length = 0;
		this.nconns = 0;
		this.handler = handler ?? (() => ({ errno: 0 }));
	}

	close(): Promise<void> {
		for (const c of this.conns)
			c.destroy();
		return new Promise((resolve) => this.server.close(() => resolve()));
	}
}

export interface RunResult {
	code: number | null;
	stdout: string;
	stderr: string;
}

/* obj/<path>.js, found from this compiled file (obj/tests/harness/fake_kernel.js). */
export function program_path(path: string): string {
	return fileURLToPath(new URL(`../../${path}.js`, import.meta.url));
}

export function run(path: string, args: string[],
    opts: { id?: number; input?: string; env?: Record<string, string | undefined> } = {}): Promise<RunResult> {
	/* Not tap's NODE_OPTIONS: its loaders would make every run several times slower. */
	const env: Record<string, string | undefined> = { ...process.env, NODE_OPTIONS: undefined, TZ: 'UTC', ...opts.env };
	if (opts.id !== undefined)
		env.WG_USERSPACE_ID = String(opts.id);
	for (const k of Object.keys(env))
		if (env[k] === undefined)
			delete env[k];
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [program_path(path), ...args], { env, stdio: 'pipe' });
		const out: Buffer[] = [];
		const err: Buffer[] = [];
		child.stdout.on('data', (b: Buffer) => out.push(b));
		child.stderr.on('data', (b: Buffer) => err.push(b));
		child.on('error', reject);
		child.on('close', (code) => resolve({
			code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'),
		}));
		child.stdin.end(opts.input ?? '');
	});
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * Helpers for the kernel-instance tests: run wg-userspace, the test
 * kernel (h_kernel) and the raw client (h_client) inside a Lab host.
 */

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BgProcess, ExecOptions, ExecResult, Host, TapTest } from './netns.js';
import { NODE } from './netns.js';
import type { ShimReply } from '../../sys/sys/shim.js';

export const WGU = fileURLToPath(new URL('../../usr.sbin/wg-userspace/wg-userspace.js', import.meta.url));
export const H_KERNEL = fileURLToPath(new URL('../sys/kern/h_kernel.js', import.meta.url));
export const H_CLIENT = fileURLToPath(new URL('../sys/kern/h_client.js', import.meta.url));

/* A high instance id, unlikely to meet anything else on the machine. */
export function random_id(): number {
	return randomInt(100_000, 2_000_000_000);
}

/* The log file the host's instances write (WG_USERSPACE_LOG). */
export function logfile(h: Host): string {
	return h.path('wg-userspace.log');
}

export function wgu(h: Host, id: number | string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
	return h.exec([NODE, WGU, String(id), ...args],
	    { ...opts, env: { WG_USERSPACE_LOG: logfile(h), ...(opts.env ?? {}) } });
}

/* `wg-userspace ID create`, with `destroy` at teardown whatever happens. */
export async function boot_daemon(t: TapTest, h: Host, id: number): Promise<void> {
	t.teardown(async () => {
		await wgu(h, id, ['destroy'], { timeout: 20_000 });
	});
	const r = await wgu(h, id, ['create']);
	if (r.code !== 0)
		throw new Error(`wg-userspace ${id} create: ${r.stderr}`);
}

/* The test kernel (dmy cloner, no wg) in the foreground; resolves once it listens. */
export async function boot_test_kernel(h: Host, id: number, env?: Record<string, string>): Promise<BgProcess> {
	const k = h.spawn([NODE, H_KERNEL, String(id)], { env });
	if (!await k.wait_for(/^ready$/m, 10_000))
		throw new Error(`test kernel ${id} did not boot: ${k.stderr}`);
	return k;
}

export type client_step = { req: unknown } | { raw: string; wait?: boolean } | { new: true } | { hold: number };

/* Attachments come from h_client as base64: bytes again. */
function attach_decode<T extends ShimReply>(out: T[]): T[] {
	for (const o of out)
		if (Array.isArray(o.attach))
			o.attach = (o.attach as unknown as string[]).map((a) => new Uint8Array(Buffer.from(a, 'base64')));
	return out;
}

/* Run steps over one control connection; one outcome per waiting step. */
export async function client(h: Host, id: number, steps: client_step[], opts: ExecOptions = {}):
    Promise<Array<ShimReply & { closed?: boolean; timeout?: boolean; connect?: string }>> {
	const r = await h.exec([NODE, H_CLIENT, String(id), JSON.stringify(steps)], opts);
	let out: Array<ShimReply & { closed?: boolean }>;
	try {
		out = JSON.parse(r.stdout) as Array<ShimReply & { closed?: boolean }>;
	} catch {
		throw new Error(`h_client: ${r.stdout} ${r.stderr}`);
	}
	return attach_decode(out);
}

/* One request, its reply. */
export async function request(h: Host, id: number, req: unknown, opts: ExecOptions = {}): Promise<ShimReply & { connect?: string }> {
	const [r] = await client(h, id, [{ req }], opts);
	return r;
}

/* The raw bytes of a frame around body. */
export function frame_b64(body: Buffer | string, len?: number): string {
	const b = Buffer.from(body);
	const head = Buffer.alloc(4);
	head.writeUInt32BE(len ?? b.length, 0);
	return Buffer.concat([head, b]).toString('base64');
}

type outcome = ShimReply & { closed?: boolean; timeout?: boolean; connect?: string; answered?: number };

/*
 * A long-lived h_client in the host (as root or nobody): one process for
 * many requests, each on a fresh connection.
 */
export class kclient {
	readonly #child: ChildProcessWithoutNullStreams;
	readonly #lines: string[] = [];
	readonly #waiters: Array<(line: string) => void> = [];

	constructor(h: Host, id: number, user?: 'nobody') {
		const argv = h.argv([NODE, H_CLIENT, String(id), '-'], user);
		this.#child = spawn(argv[0], argv.slice(1), { env: h.env(), cwd: h.dir, stdio: ['pipe', 'pipe', 'pipe'] });
		this.#child.stderr.resume();
		this.#child.on('error', () => this.#push('[{"connect":"spawn failed"}]'));
		this.#child.on('close', () => this.#push('[{"connect":"h_client exited"}]'));
		createInterface({ input: this.#child.stdout }).on('line', (l) => this.#push(l));
	}

	#push(line: string): void {
		const w = this.#waiters.shift();
		if (w !== undefined)
			w(line);
		else
			this.#lines.push(line);
	}

	async steps(steps: client_step[]): Promise<outcome[]> {
		this.#child.stdin.write(JSON.stringify(steps) + '\n');
		const line = this.#lines.shift() ?? await new Promise<string>((resolve) => this.#waiters.push(resolve));
		return attach_decode(JSON.parse(line) as outcome[]);
	}

	async req(req: unknown): Promise<outcome> {
		const [r] = await this.steps([{ req }]);
		return r;
	}

	close(): void {
		this.#child.stdin.end();
	}
}

/* A kclient for root and one for nobody, closed at teardown. */
export function kclients(t: TapTest, h: Host, id: number): { root: kclient; nobody: kclient } {
	const root = new kclient(h, id);
	const nobody = new kclient(h, id, 'nobody');
	t.teardown(() => {
		root.close();
		nobody.close();
	});
	return { root, nobody };
}

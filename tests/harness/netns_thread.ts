// SPDX-License-Identifier: BSD-2-Clause
/*
 * A throwaway network namespace for the sys/arch/linux tests and
 * benchmarks.  enter() moves the calling thread (only it: a netns is
 * per thread) into it, so the koffi calls made on that thread - tun
 * attach, ioctls, sockets - act there; Workers started afterwards
 * inherit it.  ip() runs `ip -n NAME ...`, independent of the caller's
 * thread.  destroy() leaves and deletes it; it is idempotent and also
 * runs at process exit and on SIGTERM/SIGINT/SIGHUP, so a failing or
 * timed-out test does not leave one behind.
 */

import { execFileSync } from 'node:child_process';
import { CLONE_NEWNET, O_RDONLY, check, close, open, setns } from '../../sys/arch/linux/libc.js';

export interface netns {
	readonly name: string;
	enter(): void;
	leave(): void;
	ip(...args: string[]): string;
	destroy(): void;
}

const live = new Set<netns>();
const destroy_all = (): void => {
	for (const ns of live)
		ns.destroy();
};
process.on('exit', destroy_all);
/* A test runner's timeout kill skips 'exit': clean up, then die of the same signal. */
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
	const h = (): void => {
		destroy_all();
		process.removeListener(sig, h);
		process.kill(process.pid, sig);
	};
	process.on(sig, h);
}

export function netns_create(tag: string): netns {
	const name = `wgt-${process.pid}-${tag}`;
	execFileSync('ip', ['netns', 'add', name]);
	let self = -1;
	let fd = -1;
	let inside = false;
	const ns: netns = {
		name,
		enter(): void {
			if (inside)
				return;
			if (self < 0)
				self = check(open('/proc/thread-self/ns/net', O_RDONLY), 'open', 'ns/net');
			if (fd < 0)
				fd = check(open(`/var/run/netns/${name}`, O_RDONLY), 'open', name);
			check(setns(fd, CLONE_NEWNET), 'setns', name);
			inside = true;
		},
		leave(): void {
			if (!inside)
				return;
			check(setns(self, CLONE_NEWNET), 'setns', 'original netns');
			inside = false;
		},
		ip(...args: string[]): string {
			return execFileSync('ip', ['-n', name, ...args], { encoding: 'utf8' });
		},
		destroy(): void {
			if (!live.has(ns))
				return;
			live.delete(ns);
			try {
				ns.leave();
			} catch {
				/* keep going: the namespace must still go */
			}
			if (fd >= 0)
				close(fd);
			if (self >= 0)
				close(self);
			fd = self = -1;
			try {
				execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
			} catch {
				/* already gone */
			}
		},
	};
	live.add(ns);
	ns.ip('link', 'set', 'lo', 'up');
	return ns;
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * The data path's warm-up at attach (sys/net/if_wg_warm.ts, net.wg.warmup):
 * it carries its packets on loopback, says so in the debug log and gives
 * back every descriptor and socket it took; at 0 there is none.
 */

import t from 'tap';
import { readFileSync } from 'node:fs';
import { require_progs, wait_until } from '../../harness/netns.js';
import { daemon_pid, fd_settled, setup_servers, warmups_done, wg_sysctl } from '../../harness/if_wg.js';

t.setTimeout(120_000);

const DONE = /wg0: warm-up: (\d+) packets in \d+ ms/g;

if (require_progs(t, ['ip', 'ss'])) {
	t.test('warm-up: carried on loopback, logged, nothing left behind', async (t) => {
		const { local } = setup_servers(t, 'wu');
		const log = local.path('wg-userspace.log');
		const ended = (): RegExpMatchArray[] => [...readFileSync(log, 'utf8').matchAll(DONE)];
		await local.check(['wg-userspace', '0', 'create'], { env: { WG_USERSPACE_LOG: log } });
		await wg_sysctl(local, 'debug', 1);
		await wg_sysctl(local, 'warmup', 1024);
		const pid = daemon_pid(local);
		t.ok(pid !== null, 'found the daemon');
		if (pid === null)
			return;
		await local.check(['ifconfig', 'wg0', 'create']);
		t.ok(await wait_until(async () => ended().length === 1, 20_000, 100), 'the warm-up ended');
		t.ok(Number(ended()[0]?.[1]) >= 1024, 'it carried the packets asked for', { log: readFileSync(log, 'utf8') });
		t.notMatch(readFileSync(log, 'utf8'), /no warm-up/, 'it ran');
		t.ok(await warmups_done(local), 'no socket left on loopback');
		const fds_warmed = await fd_settled(pid);
		await local.check(['ping', '-c', '1', '-W', '1', '127.0.0.1']);
		await local.check(['ifconfig', 'wg0', 'destroy']);

		/* The same interface without: what the warm-up opened is all closed again. */
		await wg_sysctl(local, 'warmup', 0);
		await local.check(['ifconfig', 'wg0', 'create']);
		/* Settled counts can catch a passing descriptor of the main thread's: a few tries. */
		let fds = 0;
		t.ok(await wait_until(async () => (fds = await fd_settled(pid)) === fds_warmed, 10_000, 100),
		    'as many descriptors as after a warm-up', { fds, fds_warmed });
		t.equal(ended().length, 1, 'warmup=0: no warm-up');
		await local.check(['ifconfig', 'wg0', 'destroy']);

		/* With crypto threads its instances go through the rings, doing every job themselves. */
		await wg_sysctl(local, 'warmup', 1024);
		await wg_sysctl(local, 'crypto_workers', 1);
		await local.check(['ifconfig', 'wg0', 'create']);
		t.ok(await wait_until(async () => ended().length === 2, 20_000, 100), 'crypto_workers=1: the warm-up ended');
		t.ok(Number(ended()[1]?.[1]) >= 1024, 'through the rings too', { log: readFileSync(log, 'utf8') });
		await local.check(['ifconfig', 'wg0', 'destroy']);
	});
}

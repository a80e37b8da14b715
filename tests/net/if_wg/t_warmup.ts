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

if (require_progs(t, ['ip', 'ss'])) {
	t.test('warm-up: carried on loopback, logged, nothing left behind', async (t) => {
		const { local } = setup_servers(t, 'wu');
		const log = local.path('wg-userspace.log');
		await local.check(['wg-userspace', '0', 'create'], { env: { WG_USERSPACE_LOG: log } });
		await wg_sysctl(local, 'debug', 1);
		await wg_sysctl(local, 'warmup', 0);
		const pid = daemon_pid(local);
		t.ok(pid !== null, 'found the daemon');
		if (pid === null)
			return;
		await local.check(['ifconfig', 'wg0', 'create']);
		const fds_plain = await fd_settled(pid);
		await local.check(['ifconfig', 'wg0', 'destroy']);
		t.notMatch(readFileSync(log, 'utf8'), /warm-up/, 'warmup=0: no warm-up');

		await wg_sysctl(local, 'warmup', 1024);
		await local.check(['ifconfig', 'wg0', 'create']);
		const done = /wg0: warm-up: (\d+) packets in \d+ ms/;
		t.ok(await wait_until(async () => done.test(readFileSync(log, 'utf8')), 20_000, 100), 'the warm-up ended');
		const text = readFileSync(log, 'utf8');
		t.ok(Number(done.exec(text)?.[1]) >= 1024, 'it carried the packets asked for', { log: text });
		t.notMatch(text, /no warm-up/, 'it ran');
		/* Settled counts can catch a passing descriptor of the main thread's: a few tries. */
		let fds = 0;
		t.ok(await wait_until(async () => (fds = await fd_settled(pid)) === fds_plain, 10_000, 100),
		    'every descriptor it opened is closed', { fds, fds_plain });
		t.ok(await warmups_done(local), 'no socket left on loopback');
		await local.check(['ping', '-c', '1', '-W', '1', '127.0.0.1']);
		await local.check(['ifconfig', 'wg0', 'destroy']);
	});
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * Control plane security, the memory attack: hostile clients of the
 * control socket, running as nobody, cannot grow the instance past a
 * bound, and the tunnel keeps carrying traffic meanwhile.
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';

import { NODE } from '../../harness/netns.js';
import { setup_topology } from '../../harness/if_wg.js';

t.setTimeout(600_000);

const H_HOG = fileURLToPath(new URL('../../sys/kern/h_hog.js', import.meta.url));

/* VmRSS of pid, in KiB. */
function rss_kib(pid: number): number {
	const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
	return m === null ? 0 : Number(m[1]);
}

/*
 * The bound stated in wg-userspace(8): hostile clients of one uid make the
 * instance hold at most SHIM_UID_INFLIGHT bytes of requests and one reply
 * per connection; with the garbage the collector has not taken yet, RSS
 * stays within RSS_BOUND_MIB of what it was before the attack.
 */
const RSS_BOUND_MIB = 64;
const ATTACK_S = 20;

t.test('hostile nobody clients: RSS stays bounded, the tunnel keeps pinging', async (t) => {
	const topo = await setup_topology(t, { prefix: 'ctm' });
	const h = topo.local;
	const st = await h.check(['wg-userspace', '0', 'status']);
	const pid = Number(/running, pid (\d+)/.exec(st.stdout)?.[1]);
	t.ok(pid > 0, `instance 0 runs as pid ${pid}`);
	await topo.local.check(['ping', '-n', '-c', '2', '-w', '10', topo.ip_wg_peer], { msg: 'the tunnel is up' });
	for (let i = 0; i < 20; i++)
		await h.exec(['wgconfig', 'wg0']);
	const base = rss_kib(pid);

	const ping = h.spawn(['ping', '-n', '-i', '0.2', '-w', String(ATTACK_S + 2), topo.ip_wg_peer]);
	const hogs = [0, 1, 2].map(() => h.spawn([NODE, H_HOG, '0', String(ATTACK_S)], { user: 'nobody' }));
	let peak = base;
	const end = Date.now() + ATTACK_S * 1000;
	while (Date.now() < end) {
		peak = Math.max(peak, rss_kib(pid));
		await new Promise((r) => setTimeout(r, 250));
	}
	const stats = await Promise.all(hogs.map(async (g) => (await g.wait(30_000)).stdout.trim()));
	const p = await ping.wait(30_000);
	const sent = Number(/(\d+) packets transmitted/.exec(p.stdout)?.[1] ?? 0);
	const got = Number(/(\d+) received/.exec(p.stdout)?.[1] ?? 0);
	const grew = (peak - base) / 1024;
	t.comment(`RSS before ${(base / 1024).toFixed(1)} MiB, peak ${(peak / 1024).toFixed(1)} MiB ` +
	    `(+${grew.toFixed(1)} MiB); ping ${got}/${sent}; hogs ${stats.join(' ')}`);
	t.ok(grew < RSS_BOUND_MIB, `RSS grew by ${grew.toFixed(1)} MiB, under ${RSS_BOUND_MIB} MiB`);
	for (const s of stats) {
		const o = JSON.parse(s) as { opened: number; closed: number; bytes: number };
		t.ok(o.opened > 0 && o.closed > 0, 'the hogs got in, and were thrown out');
	}
	t.ok(sent > 0 && got >= sent / 2, `the tunnel kept carrying traffic: ${got} of ${sent} pings answered`);
	t.equal((await h.exec(['wgconfig', 'wg0'])).code, 0, 'root still configures it');
	t.equal((await h.exec(['wg-userspace', '0', 'status'])).code, 0, 'the instance is still there');
});

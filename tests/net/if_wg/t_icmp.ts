// SPDX-License-Identifier: BSD-2-Clause
/*
 * A packet routed into wg0 that no peer takes is answered with an ICMP
 * host unreachable (ICMPv6 address unreachable), as Linux's wg does:
 * ping fails at once with "Destination Host Unreachable" instead of
 * timing out.  Both cases: no allowed-ips match, and a peer without an
 * endpoint.  The bytes themselves are checked in tests/net/wg/t_icmp.ts.
 */

import t from 'tap';
import { Lab, require_progs } from '../../harness/netns.js';
import { add_peer, fixed_keys, setup_wg_common } from '../../harness/if_wg.js';

t.setTimeout(600_000);

if (require_progs(t, ['ip', 'ping', 'setpriv'])) {
	t.test('wg_icmp_unreachable', async (t) => {
		const lab = new Lab(t, 'wg');
		const local = lab.host('local');
		const k = fixed_keys;
		await setup_wg_common(local, 'wg0', 'inet', '10.0.0.1', 24, 51820, k.key_priv_local);
		await local.check(['ifconfig', 'wg0', 'inet6', 'fd00::1/64']);
		/* A peer with routes but no endpoint. */
		await add_peer(local, 'wg0', 'peer0', k.key_pub_peer, '', '10.0.0.2/32,fd00::2/128');

		const cases: [string, string, RegExp][] = [
			['no peer', '10.0.0.9', /From 10\.0\.0\.9 icmp_seq=1 Destination Host Unreachable/],
			['no endpoint', '10.0.0.2', /From 10\.0\.0\.2 icmp_seq=1 Destination Host Unreachable/],
			['no peer', 'fd00::9', /From fd00::9 icmp_seq=1 Destination unreachable: Address unreachable/],
			['no endpoint', 'fd00::2', /From fd00::2 icmp_seq=1 Destination unreachable: Address unreachable/],
		];
		for (const [why, ip, re] of cases) {
			const argv = ['ping', '-n', '-c', '1', '-w', '2'];
			if (ip.includes(':'))
				argv.splice(1, 0, '-6');
			const r = await local.exec([...argv, ip], { timeout: 15_000 });
			t.match(r.stdout, re, `${why}: ping ${ip} is told the host is unreachable`,
			    { stdout: r.stdout, stderr: r.stderr });
			t.not(r.code, 0, `${why}: ping ${ip} fails`);
		}
		await local.check(['ifconfig', 'wg0', 'destroy']);
	});
}

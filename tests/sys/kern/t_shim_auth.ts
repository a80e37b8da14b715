// SPDX-License-Identifier: BSD-2-Clause
/*
 * Only the real kernel answers (issue: control plane security): a
 * process of another user that holds an instance's control socket name
 * gets nothing from any tool, and every tool says why.
 */

import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Lab, NODE, type BgProcess, type Host } from '../../harness/netns.js';
import { WGU, random_id, wgu } from '../../harness/kern.js';

const H_SQUAT = fileURLToPath(new URL('./h_squat.js', import.meta.url));
const KEY = 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=';

async function squat(h: Host, name: string): Promise<BgProcess> {
	const s = h.spawn([NODE, H_SQUAT, name], { user: 'nobody' });
	if (!await s.wait_for(/^ready$/m, 10_000))
		throw new Error(`squatter on ${name} did not start: ${s.stderr}`);
	return s;
}

t.test('a squatter on the control socket name gets no request, and every tool refuses', async (t) => {
	const lab = new Lab(t, 'auth');
	const h = lab.host('a');
	const id = random_id();
	const s = await squat(h, `@wg-userspace.${id}`);
	const key = h.write('wg0.key', `${KEY}\n`);
	const env = { WG_USERSPACE_ID: String(id) };
	const refusal = (prog: string): string =>
	    `${prog}: instance ${id}: control socket is owned by uid 65534, not root\n`;

	const cases: Array<[string, string[]]> = [
		['ifconfig', ['ifconfig', 'wg0', 'create']],
		['ifconfig', ['ifconfig', '-a']],
		['ifconfig', ['ifconfig', 'wg0', 'up']],
		['wgconfig', ['wgconfig', 'wg0', 'set', 'private-key', key]],
		['wgconfig', ['wgconfig', 'wg0', 'add', 'peer', 'p0', KEY, `--preshared-key=${key}`]],
		['wgconfig', ['wgconfig', 'wg0']],
		['wg-userspace', ['wg-userspace', 'wg0']],
	];
	for (const [prog, cmd] of cases) {
		const r = await h.exec(cmd, { env });
		t.equal(r.code, 1, `${cmd.join(' ')}: exit 1`);
		t.equal(r.stderr, refusal(prog), `${cmd.join(' ')}: says who holds the socket`);
	}
	for (const args of [['create'], ['status'], ['destroy'], ['sysctl', '-a'], ['sysctl', '-w', 'net.wg.debug=1'],
	    ['wgconfig', 'wg0', 'set', 'private-key', key], ['ifconfig', 'wg0', 'create']]) {
		const r = await wgu(h, id, args);
		t.equal(r.code, 1, `wg-userspace ${id} ${args.join(' ')}: exit 1`);
		t.match(r.stderr, refusal(args[0] === 'wgconfig' || args[0] === 'ifconfig' ? args[0] : 'wg-userspace'),
		    `wg-userspace ${id} ${args.join(' ')}: says who holds the socket`);
	}
	t.ok(s.running, 'the squatter is still there (it was never replaced)');
	t.notMatch(s.stdout, /^bytes /m, 'not one byte reached the squatter');
	t.match(s.stdout, /^conn$/m, 'the tools did connect (and then refused)');
	/* The key must not have gone anywhere: the daemon was never started in its place. */
	t.equal((await h.exec([NODE, WGU, String(id), 'status'])).code, 1, 'no instance runs');
});

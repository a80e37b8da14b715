// SPDX-License-Identifier: BSD-2-Clause
/*
 * kern_sysctl: the net.wg tree, its checks and the subscription hook, in
 * process (no instance needed).
 */

import t from 'tap';
import {
	kern_sysctl, sysctl_read, sysctl_subscribe, sysctl_write,
} from '../../../sys/kern/kern_sysctl.js';
import { log_init } from '../../../sys/kern/subr_log.js';
import { net_wg_tunables_default, wg_tunables } from '../../../sys/net/if_wg_sysctl.js';
import { EINVAL, EISDIR, ENOENT, EPERM } from '../../../sys/sys/errno.js';

const root = { uid: 0, gid: 0, pid: 1 };
const nobody = { uid: 65534, gid: 65534, pid: 2 };

const lines: string[] = [];
log_init({ tag: 'test', write: (l) => { lines.push(l); } });

const NAMES = [
	'net.wg.rekey_after_messages', 'net.wg.rekey_after_time', 'net.wg.rekey_timeout',
	'net.wg.rekey_attempt_time', 'net.wg.keepalive_timeout', 'net.wg.force_underload', 'net.wg.debug',
	'net.wg.tun_offload', 'net.wg.udp_gso', 'net.wg.udp_gro', 'net.wg.udp_rcvbuf', 'net.wg.crypto_workers',
	'net.wg.warmup',
];

function snapshot(): string {
	return JSON.stringify(sysctl_read().entries);
}

t.test('defaults and listing', async (t) => {
	const all = sysctl_read();
	t.equal(all.errno, 0);
	t.same(all.entries.map(([n]) => n), NAMES, 'every net.wg leaf, in NetBSD order');
	t.same(Object.fromEntries(all.entries), {
		'net.wg.rekey_after_messages': String(Number.MAX_SAFE_INTEGER),
		'net.wg.rekey_after_time': '120',
		'net.wg.rekey_timeout': '5',
		'net.wg.rekey_attempt_time': '90',
		'net.wg.keepalive_timeout': '10',
		'net.wg.force_underload': '0',
		'net.wg.debug': '0',
		'net.wg.tun_offload': '1',
		'net.wg.udp_gso': '1',
		'net.wg.udp_gro': '1',
		'net.wg.udp_rcvbuf': String(256 << 10),
		'net.wg.crypto_workers': '0',
		'net.wg.warmup': '4096',
	});
	t.same(wg_tunables, net_wg_tunables_default(), 'live object starts at the defaults');
	t.same(sysctl_read('net.wg').entries, all.entries, 'a node lists its subtree');
	t.same(sysctl_read('net').entries, all.entries);
	t.same(sysctl_read('net.wg.rekey_timeout').entries, [['net.wg.rekey_timeout', '5']]);
});

t.test('unknown names: ENOENT in sysctl(8) words', async (t) => {
	const cases: Array<[string, string]> = [
		['net.wg.nope', "third level name 'nope' in 'net.wg.nope' is invalid"],
		['kern.hostname', "top level name 'kern' in 'kern.hostname' is invalid"],
		['net.foo', "second level name 'foo' in 'net.foo' is invalid"],
		['net.wg.debug.x', "fourth level name 'x' in 'net.wg.debug.x' is invalid"],
		['net..wg', "second level name '' in 'net..wg' is invalid"],
	];
	for (const [name, msg] of cases) {
		const r = kern_sysctl({ name }, root);
		t.equal(r.errno, ENOENT, name);
		t.equal(r.msg, msg);
		t.equal(kern_sysctl({ name, value: '1' }, root).errno, ENOENT, `write ${name}`);
	}
});

t.test('writes: old and new value, live object, subscribers', async (t) => {
	const seen: Array<[string, number]> = [];
	const unsub = sysctl_subscribe((name) => { seen.push([name, wg_tunables.rekey_timeout]); });
	const r = kern_sysctl({ name: 'net.wg.rekey_timeout', value: '1' }, root);
	t.same(r, { errno: 0, sysctl: [['net.wg.rekey_timeout', '5'], ['net.wg.rekey_timeout', '1']] });
	t.equal(wg_tunables.rekey_timeout, 1, 'live object follows');
	t.same(seen, [['net.wg.rekey_timeout', 1]], 'subscriber told once, after the change');
	unsub();
	t.equal(sysctl_write('net.wg.rekey_timeout', '5', root).errno, 0);
	t.equal(seen.length, 1, 'no calls after unsubscribe');
	t.ok(lines.some((l) => /sysctl net\.wg\.rekey_timeout: 5 -> 1 \(uid 0 pid 1\)/.test(l)), 'writes are logged');

	t.equal(sysctl_write('net.wg.force_underload', '1', root).errno, 0);
	t.equal(wg_tunables.force_underload, true, 'bool 1 -> true');
	t.equal(sysctl_write('net.wg.force_underload', '0', root).errno, 0);
	t.equal(wg_tunables.force_underload, false);

	t.equal(sysctl_write('net.wg.debug', '0xf', root).errno, 0, 'hex as sysctl(8) takes it');
	t.equal(wg_tunables.debug, 15);
	t.equal(sysctl_write('net.wg.debug', '0', root).errno, 0);

	t.equal(sysctl_write('net.wg.udp_rcvbuf', String(7 << 20), root).errno, 0);
	t.equal(wg_tunables.udp_rcvbuf, 7 << 20);
	t.equal(sysctl_write('net.wg.udp_rcvbuf', String(256 << 10), root).errno, 0);
	t.equal(sysctl_write('net.wg.warmup', '0', root).errno, 0);
	t.equal(wg_tunables.warmup, 0);
	t.equal(sysctl_write('net.wg.warmup', '4096', root).errno, 0);

	t.equal(sysctl_write('net.wg.crypto_workers', '2', root).errno, 0);
	t.equal(wg_tunables.crypto_workers, 2);
	t.equal(sysctl_write('net.wg.crypto_workers', '0', root).errno, 0);

	const big = sysctl_write('net.wg.rekey_after_messages', String(2n ** 60n), root);
	t.equal(big.errno, 0);
	t.equal(wg_tunables.rekey_after_messages, Number.MAX_SAFE_INTEGER, '2^60 clamps to 2^53-1');
	t.equal(sysctl_write('net.wg.rekey_after_messages', '1000', root).errno, 0);
	t.equal(wg_tunables.rekey_after_messages, 1000);
	t.equal(sysctl_write('net.wg.rekey_after_messages', '18446744073709551615', root).errno, 0, 'UINT64_MAX accepted');
	t.equal(wg_tunables.rekey_after_messages, Number.MAX_SAFE_INTEGER);
});

t.test('bad values: EINVAL, nothing changed', async (t) => {
	const before = snapshot();
	const bad: Array<[string, string]> = [
		['net.wg.rekey_timeout', '0'],
		['net.wg.rekey_timeout', '-1'],
		['net.wg.rekey_timeout', ''],
		['net.wg.rekey_timeout', 'five'],
		['net.wg.rekey_timeout', '1.5'],
		['net.wg.rekey_timeout', ' 5'],
		['net.wg.rekey_timeout', '1e3'],
		['net.wg.rekey_timeout', '2147483648'],
		['net.wg.rekey_after_time', '0'],
		['net.wg.keepalive_timeout', '0'],
		['net.wg.rekey_attempt_time', '0'],
		['net.wg.force_underload', '2'],
		['net.wg.force_underload', 'true'],
		['net.wg.debug', '-1'],
		['net.wg.rekey_after_messages', '0'],
		['net.wg.rekey_after_messages', '18446744073709551616'],
		['net.wg.rekey_after_messages', '0x10000000000000000'],
		['net.wg.udp_rcvbuf', '4095'],
		['net.wg.udp_rcvbuf', String(2 ** 30 + 1)],
		['net.wg.crypto_workers', '-1'],
		['net.wg.crypto_workers', '17'],
		['net.wg.warmup', '-1'],
		['net.wg.warmup', String(2 ** 20 + 1)],
	];
	for (const [name, value] of bad) {
		const r = kern_sysctl({ name, value }, root);
		t.equal(r.errno, EINVAL, `${name}=${JSON.stringify(value)}`);
	}
	t.equal(snapshot(), before, 'every value as it was');
});

t.test('permissions and nodes', async (t) => {
	const before = snapshot();
	t.equal(kern_sysctl({ name: 'net.wg.debug', value: '1' }, nobody).errno, EPERM, 'non-root write: EPERM');
	t.equal(kern_sysctl({ name: 'net.wg.debug', value: 'junk' }, nobody).errno, EPERM, 'EPERM before the value is looked at');
	t.equal(kern_sysctl({ name: 'net.wg.debug' }, nobody).errno, 0, 'non-root read is fine');
	t.equal(kern_sysctl({}, nobody).sysctl?.length, NAMES.length, 'non-root list is fine');
	t.equal(kern_sysctl({ name: 'net.wg', value: '1' }, root).errno, EISDIR, 'a node cannot be written');
	t.equal(kern_sysctl({ value: '1' }, root).errno, EINVAL, 'a write needs a name');
	t.equal(snapshot(), before, 'nothing changed');
});

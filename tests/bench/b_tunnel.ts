// SPDX-License-Identifier: BSD-2-Clause
/*
 * TCP throughput through a tunnel between two network namespaces on a veth
 * pair (iperf3, one stream), for our wg(4) and for Debian's wireguard-go
 * on the same topology in the same run, so the ratio means something on a
 * shared machine.  Needs root, iperf3 and wireguard-go.
 *
 *   node obj/tests/bench/b_tunnel.js [seconds] [rounds]
 */

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin');
const secs = Number(process.argv[2] ?? 5);
const rounds = Number(process.argv[3] ?? 2);
const tag = `bt${process.pid % 10000}`;
const NS = [`${tag}a`, `${tag}b`];
const tmp = mkdtempSync(join(tmpdir(), 'b_tunnel-'));

function sh(cmd: string[], ns?: string): string {
	const argv = ns !== undefined ? ['ip', 'netns', 'exec', ns, ...cmd] : cmd;
	return execFileSync(argv[0], argv.slice(1), {
		encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: `${BIN}:${process.env.PATH}` },
	});
}

function quiet(cmd: string[], ns?: string): void {
	try {
		sh(cmd, ns);
	} catch {
		/* teardown: best effort */
	}
}

function keypair(): { priv: string; pub: string } {
	const priv = execFileSync('wg', ['genkey'], { encoding: 'utf8' }).trim();
	const pub = execFileSync('wg', ['pubkey'], { input: priv + '\n', encoding: 'utf8' }).trim();
	return { priv, pub };
}

function topology(): void {
	for (const ns of NS) {
		quiet(['ip', 'netns', 'del', ns]);
		sh(['ip', 'netns', 'add', ns]);
		sh(['ip', 'link', 'set', 'lo', 'up'], ns);
	}
	sh(['ip', 'link', 'add', `${tag}v0`, 'type', 'veth', 'peer', 'name', `${tag}v1`]);
	NS.forEach((ns, i) => {
		sh(['ip', 'link', 'set', `${tag}v${i}`, 'netns', ns]);
		sh(['ip', 'addr', 'add', `192.168.77.${i + 1}/24`, 'dev', `${tag}v${i}`], ns);
		sh(['ip', 'link', 'set', `${tag}v${i}`, 'up'], ns);
	});
}

function teardown(): void {
	for (const ns of NS) {
		quiet(['wg-userspace', '0', 'destroy'], ns);
		try {
			const pids = sh(['ip', 'netns', 'pids', ns]).split(/\s+/).filter((s) => s !== '');
			for (const p of pids)
				quiet(['kill', '-9', p]);
		} catch {
			/* gone */
		}
		quiet(['ip', 'netns', 'del', ns]);
	}
	/* wireguard-go killed with -9 leaves its UAPI socket file behind. */
	for (let i = 0; i < NS.length; i++)
		rmSync(`/var/run/wireguard/${tag}g${i}.sock`, { force: true });
}

function ours(): void {
	const k = [keypair(), keypair()];
	NS.forEach((ns, i) => {
		const keyf = join(tmp, `k${i}`);
		writeFileSync(keyf, k[i].priv + '\n', { mode: 0o600 });
		sh(['ifconfig', 'wg0', 'create'], ns);
		sh(['ifconfig', 'wg0', 'inet', `10.77.0.${i + 1}/24`], ns);
		sh(['wgconfig', 'wg0', 'set', 'private-key', keyf], ns);
		sh(['wgconfig', 'wg0', 'set', 'listen-port', '51820'], ns);
		sh(['wgconfig', 'wg0', 'add', 'peer', 'peer0', k[1 - i].pub,
		    `--endpoint=192.168.77.${2 - i}:51820`, `--allowed-ips=10.77.0.${2 - i}/32`], ns);
	});
}

function wggo(): void {
	const k = [keypair(), keypair()];
	NS.forEach((ns, i) => {
		const ifn = `${tag}g${i}`;
		const keyf = join(tmp, `g${i}`);
		writeFileSync(keyf, k[i].priv + '\n', { mode: 0o600 });
		sh(['wireguard-go', ifn], ns);
		sh(['wg', 'set', ifn, 'private-key', keyf, 'listen-port', '51820', 'peer', k[1 - i].pub,
		    'endpoint', `192.168.77.${2 - i}:51820`, 'allowed-ips', `10.77.0.${2 - i}/32`], ns);
		sh(['ip', 'addr', 'add', `10.77.0.${i + 1}/24`, 'dev', ifn], ns);
		sh(['ip', 'link', 'set', ifn, 'mtu', '1420', 'up'], ns);
	});
}

async function iperf(): Promise<number> {
	const server = spawn('ip', ['netns', 'exec', NS[1], 'iperf3', '-s', '-1', '-B', '10.77.0.2'], { stdio: 'ignore' });
	await new Promise((r) => setTimeout(r, 500));
	sh(['ping', '-c', '2', '-i', '0.2', '-w', '5', '10.77.0.2'], NS[0]);
	const out = sh(['iperf3', '-c', '10.77.0.2', '-t', String(secs), '-J'], NS[0]);
	server.kill();
	const j = JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } };
	return j.end.sum_received.bits_per_second / 1e6;
}

async function measure(setup: () => void): Promise<number> {
	topology();
	try {
		setup();
		return await iperf();
	} finally {
		teardown();
	}
}

process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const best: Record<string, number> = { ours: 0, 'wireguard-go': 0 };
for (let r = 0; r < rounds; r++) {
	/* Alternate the order so neither always runs on a warmer or quieter machine. */
	const order: Array<[string, () => void]> = r % 2 === 0 ?
	    [['ours', ours], ['wireguard-go', wggo]] : [['wireguard-go', wggo], ['ours', ours]];
	for (const [name, setup] of order) {
		const mbps = await measure(setup);
		best[name] = Math.max(best[name], mbps);
		console.log(JSON.stringify({ bench: 'tunnel_tcp', metric: 'throughput', value: Math.round(mbps), unit: 'Mbit/s', impl: name, round: r }));
	}
}
console.log(JSON.stringify({ bench: 'tunnel_tcp', metric: 'ratio_ours_over_wireguard_go', value: +(best.ours / best['wireguard-go']).toFixed(2), unit: 'x' }));

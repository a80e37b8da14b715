// SPDX-License-Identifier: BSD-2-Clause
/*
 * nettool: the few nc(1) jobs the scenario tests need, run inside a
 * namespace with `node nettool.js ...`, so the suites need no netcat.
 *
 *   udp HOST PORT HEX             send one datagram (HEX may be empty: an
 *                                 empty datagram); prints {"port":SRCPORT}
 *   tcp-serve PORT [--out FILE]   accept one connection, read to EOF, close;
 *                                 prints "listening PORT", then
 *                                 {"bytes":N,"sha256":"..."}
 *   tcp-send HOST PORT (--file FILE | --random N)
 *                                 connect, send, half-close, wait for the
 *                                 server to close; prints {"bytes","sha256"}
 *
 * Every mode gives up after --timeout SECONDS (default 60) with exit 2.
 */

import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { createConnection, createServer } from 'node:net';

function usage(): never {
	process.stderr.write('usage: nettool udp HOST PORT HEX | tcp-serve PORT [--out FILE] | '
	    + 'tcp-send HOST PORT (--file FILE | --random N) [--timeout S]\n');
	process.exit(1);
}

function option(args: string[], name: string): string | undefined {
	const i = args.indexOf(name);
	if (i < 0)
		return undefined;
	const v = args[i + 1];
	if (v === undefined)
		usage();
	args.splice(i, 2);
	return v;
}

function port_arg(s: string | undefined): number {
	const n = Number(s);
	if (!Number.isInteger(n) || n < 0 || n > 65535)
		usage();
	return n;
}

function fail(msg: string, code = 1): never {
	process.stderr.write(`nettool: ${msg}\n`);
	process.exit(code);
}

const args = process.argv.slice(2);
const timeout_s = Number(option(args, '--timeout') ?? '60');
setTimeout(() => fail(`timed out after ${timeout_s} s`, 2), timeout_s * 1000).unref();

function udp(host: string, port: number, hex: string): void {
	if (!/^([0-9a-f]{2})*$/i.test(hex))
		usage();
	const sock = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
	sock.on('error', (e) => fail(e.message));
	sock.bind(0, () => {
		const src = sock.address().port;
		sock.send(Buffer.from(hex, 'hex'), port, host, (err) => {
			if (err)
				fail(err.message);
			process.stdout.write(`${JSON.stringify({ port: src })}\n`);
			sock.close();
		});
	});
}

function tcp_serve(port: number, out: string | undefined): void {
	const server = createServer((conn) => {
		server.close();
		const hash = createHash('sha256');
		const chunks: Buffer[] = [];
		let bytes = 0;
		conn.on('data', (d: Buffer) => {
			hash.update(d);
			bytes += d.length;
			if (out !== undefined)
				chunks.push(d);
		});
		conn.on('end', () => {
			if (out !== undefined)
				writeFileSync(out, Buffer.concat(chunks));
			process.stdout.write(`${JSON.stringify({ bytes, sha256: hash.digest('hex') })}\n`);
			conn.end();
		});
		conn.on('close', () => process.exit(0));
		conn.on('error', (e) => fail(e.message));
	});
	server.on('error', (e) => fail(e.message));
	server.listen(port, () => process.stdout.write(`listening ${port}\n`));
}

function tcp_send(host: string, port: number, data: Buffer): void {
	const sum = createHash('sha256').update(data).digest('hex');
	const conn = createConnection({ host, port }, () => {
		conn.end(data);
	});
	conn.on('error', (e) => fail(e.message));
	conn.resume();
	conn.on('close', (had_error) => {
		if (had_error)
			process.exit(1);
		process.stdout.write(`${JSON.stringify({ bytes: data.length, sha256: sum })}\n`);
		process.exit(0);
	});
}

switch (args[0]) {
case 'udp':
	if (args.length !== 4)
		usage();
	udp(args[1], port_arg(args[2]), args[3]);
	break;
case 'tcp-serve': {
	const out = option(args, '--out');
	if (args.length !== 2)
		usage();
	tcp_serve(port_arg(args[1]), out);
	break;
}
case 'tcp-send': {
	const file = option(args, '--file');
	const random = option(args, '--random');
	if (args.length !== 3 || (file === undefined) === (random === undefined))
		usage();
	const data = file !== undefined ? readFileSync(file) : randomBytes(Number(random));
	tcp_send(args[1], port_arg(args[2]), data);
	break;
}
default:
	usage();
}

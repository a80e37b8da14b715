// SPDX-License-Identifier: BSD-2-Clause
/*
 * A squatter: listens where a kernel instance or a UAPI socket would,
 * accepts every connection and reports what reaches it.  The security
 * tests run it as nobody.
 *
 *	node h_squat.js NAME
 *
 * NAME starting with "@" is an abstract name (the "@" stands for the
 * NUL); anything else is a file system path.  Prints "ready" once it
 * listens, then "conn" for each connection and "bytes N" (the running
 * total) whenever data arrives.  A reply frame offering success is sent
 * on every connection, so a client that does not authenticate would go
 * on and send its request.
 */

import { createServer } from 'node:net';

const name = process.argv[2] ?? '';
const path = name.startsWith('@') ? `\0${name.slice(1)}` : name;
let total = 0;

/* The shim's framing: 4-byte length, JSON; {"errno":0} is "done, fine". */
const body = Buffer.from('{"errno":0}');
const head = Buffer.alloc(4);
head.writeUInt32BE(body.length, 0);
const ok_reply = Buffer.concat([head, body]);

const server = createServer((so) => {
	process.stdout.write('conn\n');
	so.on('error', () => undefined);
	so.on('data', (b: Buffer) => {
		total += b.length;
		process.stdout.write(`bytes ${total}\n`);
		so.write(ok_reply);
	});
});
server.on('error', (e) => {
	process.stderr.write(`h_squat: ${name}: ${e.message}\n`);
	process.exit(1);
});
server.listen({ path }, () => process.stdout.write('ready\n'));

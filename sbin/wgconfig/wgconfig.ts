// SPDX-License-Identifier: BSD-2-Clause
/*
 * wgconfig(8): configure wg(4) interfaces.
 *
 * NetBSD's seven commands with NetBSD's syntax: words match when the
 * argument starts with the command word ("shows peers" is "show peer"),
 * "wgconfig IF" alone is "show all", a wrong number of arguments prints
 * the usage and exits 1, and every error is "wgconfig: MESSAGE", exit 1.
 * Requests are SIOCSDRVSPEC/SIOCGDRVSPEC with an externalized dictionary,
 * carried to the kernel instance by the ioctl shim.
 *
 * Deviations (share/doc/DESIGN.md §6, wgconfig(8)): an ioctl failure reads
 * "ioctl(SIOCSDRVSPEC): <strerror>" without NetBSD's "cmd=N"; "show peer"
 * for an unknown name says "peer not found: NAME" (NetBSD prints nothing);
 * names longer than 15 characters are refused (NetBSD lets 16 through and
 * the kernel truncates).  Extensions: "show public-key" and
 * "--persistent-keepalive=SECONDS".
 */

import {
	type PropDictionary, type PropEach, prop_array_create, prop_dictionary_create, prop_dictionary_externalize_attach,
	prop_data_wipe, prop_dictionary_get_data, prop_dictionary_get_number, prop_object_parse,
	prop_dictionary_set, prop_dictionary_set_bool, prop_dictionary_set_data, prop_dictionary_set_data_nocopy, prop_dictionary_set_string,
	prop_dictionary_set_uint16, prop_dictionary_set_uint64, prop_dictionary_set_uint8,
} from '../../lib/libprop/prop.js';
import { QuietExit, errx, getprogname, strerror } from '../../lib/libc/err.js';
import { ioctl, shim_reply_done, shim_socket } from '../../lib/libc/ioctl.js';
import { prog_run } from '../../lib/libc/prog.js';
import { allowedips_parse } from '../../lib/libwg/allowedips.js';
import { endpoint_parse } from '../../lib/libwg/endpoint.js';
import {
	WG_KEY_B64_LEN, wg_key_from_base64, wg_key_redact, wg_key_to_base64, wg_read_key_file,
} from '../../lib/libwg/key.js';
import { sockaddr_encode } from '../../lib/libwg/sockaddr.js';
import { strtouint16 } from '../../lib/libwg/strtonum.js';
import {
	WGK_ALLOWEDIPS, WGK_BRIEF, WGK_CIDR, WGK_CURSOR, WGK_ENDPOINT, WGK_ENDPOINT_HOST, WGK_FAMILY, WGK_IP, WGK_LISTEN_PORT,
	WGK_MAX_PEERS, WGK_NAME, WGK_PEERS,
	WGK_PERSISTENT_KEEPALIVE, WGK_PRESHARED_KEY, WGK_PRIVATE_KEY, WGK_PUBLIC_KEY,
	WG_IOCTL_ADD_PEER, WG_IOCTL_DELETE_PEER, WG_IOCTL_GET, WG_IOCTL_SET_LISTEN_PORT,
	WG_IOCTL_SET_PRIVATE_KEY, WG_PEER_NAME_MAXLEN,
} from '../../sys/net/if_wg.h.js';
import type { ShimReply, ShimRequest } from '../../sys/sys/shim.js';
import { IFNAMSIZ, SIOCGDRVSPEC, SIOCSDRVSPEC } from '../../sys/sys/sockio.js';
import {
	show_buf, show_head_text, show_peer_by_name, show_peers_check, show_peers_entry, show_private_key_line,
} from './show.js';

function usage(): never {
	const p = getprogname();
	const lines = [
		'[show all]',
		'show peer <peer name> [--show-preshared-key]',
		'show private-key',
		'show public-key',
		'set private-key <file path>',
		'set listen-port <port>',
		'add peer <peer name> <base64 public key>\n' +
		'\t                     [--preshared-key=<file path>] [--endpoint=<ip>:<port>]\n' +
		'\t                     [--allowed-ips=<ip1>/<cidr1>[,<ip2>/<cidr2>]...]\n' +
		'\t                     [--persistent-keepalive=<seconds>]',
		'delete peer <peer name>',
	];
	process.stderr.write('Usage:\n' + lines.map((l) => `\t${p} <interface> ${l}\n`).join(''));
	throw new QuietExit(1);
}

/*
 * Resolves once stdout has written the text out (or failed to: a reader
 * gone, EPIPE, and prog_run drops the rest), and the bytes are wiped (a
 * line may hold a key): a slow reader holds back the next page, not
 * memory, and the bytes may be used again (show_buf.take).
 */
function print_text(text: string | Uint8Array): Promise<void> {
	const b = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
	return new Promise((resolve) => {
		process.stdout.write(b, () => {
			b.fill(0);
			resolve();
		});
	});
}

function ioctl_error(what: string, errno: number, msg: string | undefined): never {
	errx(1, `${what}: ${strerror(errno)}${msg ? ` (${msg})` : ''}`);
}

/*
 * A get, in the paged form of wg(4) (an extension): the interface's keys
 * and port come with the first page (cursor 0); the reply's cursor
 * (ShimReply.cursor) is the following page's, absent after the last.  A
 * kernel that answers with the whole list at once (NetBSD's form) gives
 * one page.
 */
function get_request(ifname: string, q: { cursor?: number; max_peers?: number; name?: string; brief?: boolean }):
    ShimRequest {
	const qd = prop_dictionary_create();
	prop_dictionary_set_uint64(qd, WGK_CURSOR, q.cursor ?? 0);
	if (q.brief === true)
		prop_dictionary_set_bool(qd, WGK_BRIEF, true);
	if (q.max_peers !== undefined)
		prop_dictionary_set_uint64(qd, WGK_MAX_PEERS, q.max_peers);
	if (q.name !== undefined)
		prop_dictionary_set_string(qd, WGK_NAME, q.name);
	const { text, attach } = prop_dictionary_externalize_attach(qd);
	return { op: 'ioctl', req: SIOCGDRVSPEC, name: ifname, cmd: WG_IOCTL_GET, data: text, attach };
}

/*
 * A get reply's dictionary.  The keys are attachments, views into the
 * reply, or decoded from the text: the caller's prop_data_wipe wipes
 * them.  A page's text comes as bytes (data_bytes), wiped once read.
 */
function get_reply_parse(r: ShimReply, each?: PropEach): PropDictionary {
	if (r.errno !== 0)
		ioctl_error('ioctl(SIOCGDRVSPEC)', r.errno, r.msg);
	let p: ReturnType<typeof prop_object_parse>;
	try {
		p = prop_object_parse(r.data_bytes ?? r.data ?? '', r.attach, each);
	} finally {
		shim_reply_done(r);
	}
	if (p.obj === null || p.obj.type !== 'dictionary') {
		r.attach?.forEach((a) => a.fill(0));
		errx(1, `prop_dictionary_internalize failed: ${p.error ?? 'not a dictionary'}`);
	}
	return p.obj;
}

/* The dictionary's "cursor": the next page's, 0 after the last. */
function dict_cursor(d: PropDictionary): number {
	const c = prop_dictionary_get_number(d, WGK_CURSOR);
	return c !== null && Number.isSafeInteger(c) && c > 0 ? c : 0;
}

async function ioctl_get(ifname: string, q: { max_peers?: number; name?: string }, each?: PropEach):
    Promise<PropDictionary> {
	return get_reply_parse(await ioctl(get_request(ifname, q)), each);
}

/* The dictionary's data goes as attachments (keys as bytes, never text), wiped once sent. */
async function ioctl_set(ifname: string, cmd: number, d: PropDictionary): Promise<void> {
	const { text, attach } = prop_dictionary_externalize_attach(d);
	const r = await ioctl({ op: 'ioctl', req: SIOCSDRVSPEC, name: ifname, cmd, data: text, attach });
	if (r.errno !== 0)
		ioctl_error('ioctl(SIOCSDRVSPEC)', r.errno, r.msg);
}

type Command = (ifname: string, args: string[]) => Promise<number>;

/*
 * Root's get reply carries the private and preshared keys: every show
 * wipes it after use.  "show all" prints each page as it comes, so
 * memory does not grow with the number of peers, and asks for the next
 * page (its cursor is in the reply's head) before it parses this one,
 * so that the kernel makes a page while this side formats the last.  A
 * page's peers are formatted as they are read, value by value from the
 * text (show.ts), and wiped at once: no peer becomes a tree.  A page's
 * text is written in one piece.  Peers added while the pages
 * go are not shown, peers removed are shown or not, none twice (the
 * cursor is a peer's place in the kernel's list, wg(4)).
 */
async function cmd_show_all(ifname: string): Promise<number> {
	const s = await shim_socket.open();
	if (!(s instanceof shim_socket))
		ioctl_error('ioctl(SIOCGDRVSPEC)', s.errno, s.msg);
	try {
		const out = new show_buf();
		let page = s.request(get_request(ifname, { cursor: 0, brief: true }));
		for (let first = true; ; first = false) {
			const r = await page;
			let next = r.errno === 0 ? r.cursor ?? 0 : 0;
			const ahead = next !== 0;
			if (ahead)
				page = s.request(get_request(ifname, { cursor: next, brief: true }));
			const d = get_reply_parse(r, { key: WGK_PEERS, fn: (sc) => show_peers_entry(out, sc) });
			let head = '';
			try {
				/* A kernel that names the next page in the dictionary only (one started before an upgrade). */
				if (!ahead)
					next = dict_cursor(d);
				if (first)
					head = show_head_text(ifname, d);
				show_peers_check(d);
			} finally {
				prop_data_wipe(d);
			}
			/* The interface's lines come first, though the page's tell them. */
			if (head !== '')
				await print_text(head);
			if (out.length > 0)
				await print_text(out.take());
			if (next === 0)
				return 0;
			if (!ahead)
				page = s.request(get_request(ifname, { cursor: next, brief: true }));
		}
	} finally {
		s.close();
	}
}

async function cmd_show_peer(ifname: string, args: string[]): Promise<number> {
	if (args.length !== 1 && args.length !== 2)
		usage();
	const show_psk = args.length === 2;
	if (show_psk && !args[1].startsWith('--show-preshared-key'))
		usage();
	const out = new show_buf();
	const d = await ioctl_get(ifname, { name: args[0] }, { key: WGK_PEERS, fn: show_peer_by_name(out, args[0], show_psk) });
	try {
		show_peers_check(d);
	} finally {
		prop_data_wipe(d);
	}
	if (out.length === 0)
		errx(1, `peer not found: ${args[0]}`);
	await print_text(out.take());
	return 0;
}

async function cmd_show_private_key(ifname: string): Promise<number> {
	const d = await ioctl_get(ifname, { max_peers: 0 });
	try {
		await print_text(show_private_key_line(d) + '\n');
	} finally {
		prop_data_wipe(d);
	}
	return 0;
}

/*
 * Extension.  The kernel puts public_key in every get reply; a reply
 * without it (an older kernel) still works for root, from the private key.
 */
async function cmd_show_public_key(ifname: string): Promise<number> {
	const d = await ioctl_get(ifname, { max_peers: 0 });
	try {
		return await show_public_key(d);
	} finally {
		prop_data_wipe(d);
	}
}

async function show_public_key(d: PropDictionary): Promise<number> {
	let pub = prop_dictionary_get_data(d, WGK_PUBLIC_KEY);
	if (pub === null) {
		const priv = prop_dictionary_get_data(d, WGK_PRIVATE_KEY);
		if (priv !== null && priv.length === 32 && priv.some((b) => b !== 0)) {
			/* Loaded only here: the crypto backend costs startup time no other command needs. */
			const { crypto_attach } = await import('../../sys/crypto/crypto_select.js');
			pub = crypto_attach().public_key(priv);
		}
	}
	if (pub !== null && pub.length !== 32)
		errx(1, `invalid key len: ${pub.length}`);
	await print_text(`public-key: ${pub === null ? '(none)' : wg_key_to_base64(pub)}\n`);
	return 0;
}

async function cmd_set_private_key(ifname: string, args: string[]): Promise<number> {
	if (args.length !== 1)
		usage();
	const d = prop_dictionary_create();
	prop_dictionary_set_data_nocopy(d, WGK_PRIVATE_KEY, wg_read_key_file(args[0]));
	try {
		await ioctl_set(ifname, WG_IOCTL_SET_PRIVATE_KEY, d);
	} finally {
		prop_data_wipe(d);
	}
	return 0;
}

async function cmd_set_listen_port(ifname: string, args: string[]): Promise<number> {
	if (args.length !== 1)
		usage();
	const port = strtouint16(args[0]);
	if (port === 0)
		errx(1, 'port 0 is not allowed');
	const d = prop_dictionary_create();
	prop_dictionary_set_uint16(d, WGK_LISTEN_PORT, port);
	await ioctl_set(ifname, WG_IOCTL_SET_LISTEN_PORT, d);
	return 0;
}

type OptionHandler = (value: string, d: PropDictionary) => Promise<void> | void;

const ADD_PEER_OPTIONS: ReadonlyArray<[string, OptionHandler]> = [
	['--endpoint=', async (v, d) => {
		const sa = await endpoint_parse(v);
		prop_dictionary_set_data(d, WGK_ENDPOINT, sockaddr_encode(sa));
		if (sa.host !== undefined)
			prop_dictionary_set_string(d, WGK_ENDPOINT_HOST, sa.host);
	}],
	['--allowed-ips=', (v, d) => {
		const items = allowedips_parse(v).map((a) => {
			const e = prop_dictionary_create();
			prop_dictionary_set_uint8(e, WGK_FAMILY, a.family);
			prop_dictionary_set_data(e, WGK_IP, a.ip);
			prop_dictionary_set_uint8(e, WGK_CIDR, a.cidr);
			return e;
		});
		prop_dictionary_set(d, WGK_ALLOWEDIPS, prop_array_create(items));
	}],
	['--preshared-key=', (v, d) => {
		prop_dictionary_set_data_nocopy(d, WGK_PRESHARED_KEY, wg_read_key_file(v));
	}],
	/* Extension: seconds between keepalives, 0 (the default) for none (paper §6.5). */
	['--persistent-keepalive=', (v, d) => {
		prop_dictionary_set_uint16(d, WGK_PERSISTENT_KEEPALIVE, strtouint16(v));
	}],
];

function check_peer_name(name: string): void {
	if (name.length > WG_PEER_NAME_MAXLEN)
		errx(1, 'peer name too long');
}

async function cmd_add_peer(ifname: string, args: string[]): Promise<number> {
	if (args.length < 2)
		usage();
	const [name, pubtext] = args;
	check_peer_name(name);
	if (pubtext.length !== WG_KEY_B64_LEN)
		errx(1, `invalid public-key length: ${pubtext.length}`);
	const pub = wg_key_from_base64(pubtext);
	if (pub === null)
		errx(1, 'b64_pton failed');

	const d = prop_dictionary_create();
	prop_dictionary_set_string(d, WGK_NAME, name);
	prop_dictionary_set_data(d, WGK_PUBLIC_KEY, pub);
	const seen = new Set<string>();
	try {
		for (const arg of args.slice(2)) {
			const opt = ADD_PEER_OPTIONS.find(([prefix]) => arg.startsWith(prefix));
			if (opt === undefined)
				errx(1, `invalid option: ${wg_key_redact(arg)}`);
			/* NetBSD lets the last one win silently; a repeated option is almost always a mistake. */
			if (seen.has(opt[0]))
				errx(1, `duplicate option: ${opt[0].slice(0, -1)}`);
			seen.add(opt[0]);
			await opt[1](arg.slice(opt[0].length), d);
		}
		await ioctl_set(ifname, WG_IOCTL_ADD_PEER, d);
	} finally {
		prop_data_wipe(d);
	}
	return 0;
}

async function cmd_delete_peer(ifname: string, args: string[]): Promise<number> {
	if (args.length !== 1)
		usage();
	check_peer_name(args[0]);
	const d = prop_dictionary_create();
	prop_dictionary_set_string(d, WGK_NAME, args[0]);
	await ioctl_set(ifname, WG_IOCTL_DELETE_PEER, d);
	return 0;
}

const COMMANDS: ReadonlyArray<[string, string, Command]> = [
	['show', 'all', cmd_show_all],
	['show', 'peer', cmd_show_peer],
	['show', 'private-key', cmd_show_private_key],
	['show', 'public-key', cmd_show_public_key],
	['set', 'private-key', cmd_set_private_key],
	['set', 'listen-port', cmd_set_listen_port],
	['add', 'peer', cmd_add_peer],
	['delete', 'peer', cmd_delete_peer],
];

async function main(argv: string[]): Promise<number> {
	if (argv.length < 1 || argv[0] === '-h' || argv[0] === '-?' || argv[0] === '--help')
		usage();
	const ifname = argv[0];
	if (ifname.length > IFNAMSIZ - 1)
		errx(1, 'interface name too long');
	if (argv.length === 1)
		return cmd_show_all(ifname);
	if (argv.length < 3)
		usage();
	const [command, target] = argv.slice(1, 3);
	for (const [c, t, fn] of COMMANDS) {
		if (command.startsWith(c) && target.startsWith(t))
			return fn(ifname, argv.slice(3));
	}
	usage();
}

prog_run(main);

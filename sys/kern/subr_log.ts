// SPDX-License-Identifier: BSD-2-Clause
/*
 * log(9) for a kernel instance.
 *
 * Every line goes to the instance's standard error.  When the instance
 * runs as a daemon (wg-userspace ID create), wg-userspace(8) points that
 * at the log file, /var/log/wg-userspace.ID.log unless WG_USERSPACE_LOG
 * names another; run in the foreground (wg-userspace ID --kernel) it is
 * the terminal.  A line reads
 *
 *	2025-01-31T12:00:00.123Z wg-userspace.7[4242] <info> wg0: message
 *
 * (UTC timestamp, instance tag, pid, level, message).  Under systemd
 * (wg-userspace@.service), when standard error is the journal's stream
 * (JOURNAL_STREAM names its device and inode), the timestamp and pid,
 * which the journal records itself, give way to a "<6>" level prefix, so
 * that the journal files each line at its priority (journalctl -p info):
 *
 *	<6>wg-userspace.7 <info> wg0: message
 *
 * Control characters
 * in the message are made visible, so a peer or interface name cannot
 * forge a line.  Keys are never logged: callers must not pass them, and as
 * a second line of defence anything shaped like a base64 or hex 32-byte key
 * is cut down to its first characters, except a public key right after
 * " pubkey=" (the events of if_wg_event.ts name peers by it).
 *
 * log_ratecheck() is WG_LOG_RATECHECK: at most one line per second per
 * key (ppsratecheck(9)), for messages a remote sender can trigger at will
 * (bad MACs, replays, unknown types); how many were suppressed is told on
 * the next line that passes.
 */

import { fstatSync } from 'node:fs';
import { format } from 'node:util';

export const LOG_EMERG = 0;
export const LOG_ALERT = 1;
export const LOG_CRIT = 2;
export const LOG_ERR = 3;
export const LOG_WARNING = 4;
export const LOG_NOTICE = 5;
export const LOG_INFO = 6;
export const LOG_DEBUG = 7;

const level_names = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

let log_tag = 'wg-userspace';
let log_write: (line: string) => void = default_write;
let log_journal = false;

/* sd_journal_stream_fd(3): JOURNAL_STREAM is "DEV:INO" of the stream stderr was. */
function stderr_is_journal(): boolean {
	const js = process.env.JOURNAL_STREAM;
	if (js === undefined)
		return false;
	try {
		const st = fstatSync(2, { bigint: true });
		return js === `${st.dev}:${st.ino}`;
	} catch {
		return false;
	}
}

function default_write(line: string): void {
	process.stderr.write(line);
}

/*
 * Set the tag (e.g. "wg-userspace.7") and optionally where lines go
 * (tests capture them).  A stderr that went away (EPIPE) must not take
 * the instance down with it.
 */
export function log_init(opts: { tag?: string; write?: (line: string) => void } = {}): void {
	if (opts.tag !== undefined)
		log_tag = opts.tag;
	log_write = opts.write ?? default_write;
	log_journal = opts.write === undefined && stderr_is_journal();
	if (opts.write === undefined && process.stderr.listenerCount('error') === 0)
		process.stderr.on('error', () => { /* nowhere left to report it */ });
}

/*
 * 44-character base64 with its '=' pad, or 64 hex digits: a 32-byte key.
 * Longer runs (padded base64, any hex) may hold a key too, e.g. a private
 * key next to a public one, and are cut the same way.
 */
const KEY_B64 = /(?<![A-Za-z0-9+/])(?<! pubkey=)([A-Za-z0-9+/]{4})[A-Za-z0-9+/]{39,}={1,2}/g;
/* Any base64 run after " pubkey=": kept only when it is one key, 44 characters. */
const PUBKEY_B64 = /(?<= pubkey=)[A-Za-z0-9+/]{43,}={1,2}/g;
const KEY_HEX = /(?<![0-9A-Fa-f])([0-9A-Fa-f]{4})[0-9A-Fa-f]{60,}/g;

function log_sanitize(msg: string): string {
	return msg
	    .replace(PUBKEY_B64, (k) => k.length === 44 ? k : k.slice(0, 4) + '...')
	    .replace(KEY_B64, '$1...')
	    .replace(KEY_HEX, '$1...')
	    .replace(/[\x00-\x1f\x7f]/g, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

/* log(9): printf-style via util.format (%s %d %i %j %o). */
export function log(level: number, fmt: string, ...args: unknown[]): void {
	const name = level_names[level] ?? 'debug';
	const msg = log_sanitize(args.length > 0 ? format(fmt, ...args) : fmt);
	const line = log_journal ? `<${level}>${log_tag} <${name}> ${msg}\n` :
	    `${new Date().toISOString()} ${log_tag}[${process.pid}] <${name}> ${msg}\n`;
	try {
		log_write(line);
	} catch {
		/* Logging never fails the caller. */
	}
}

/*
 * ppsratecheck(9): true when another event may pass this second.  The
 * state is the caller's, e.g. one per peer.
 */
export interface ratecheck_state {
	last: number;		/* ms, start of the current one-second window */
	count: number;		/* events in that window */
	suppressed: number;	/* events refused since the last one that passed */
}

export function ratecheck_state_init(): ratecheck_state {
	return { last: -Infinity, count: 0, suppressed: 0 };
}

export function ppsratecheck(st: ratecheck_state, maxpps: number, now: number = performance.now()): boolean {
	if (maxpps < 0)
		return true;	/* no limit, as in ppsratecheck(9) */
	if (now - st.last >= 1000) {
		st.last = now;
		st.count = 0;
	}
	if (st.count < maxpps) {
		st.count++;
		return true;
	}
	st.suppressed++;
	return false;
}

const LOG_RATE_MAXKEYS = 4096;
const log_rates = new Map<string, ratecheck_state>();

/*
 * log() at most once per second for this key.  Returns whether the line
 * was written.  The table of keys is bounded: when full, keys idle for more
 * than a second (whose window has expired anyway) are dropped.
 */
export function log_ratecheck(key: string, level: number, fmt: string, ...args: unknown[]): boolean {
	const now = performance.now();
	let st = log_rates.get(key);
	if (st === undefined) {
		if (log_rates.size >= LOG_RATE_MAXKEYS) {
			for (const [k, s] of log_rates)
				if (now - s.last >= 1000 && s.suppressed === 0)
					log_rates.delete(k);
			if (log_rates.size >= LOG_RATE_MAXKEYS)
				return false;	/* a flood of distinct keys: drop */
		}
		st = ratecheck_state_init();
		log_rates.set(key, st);
	}
	if (!ppsratecheck(st, 1, now))
		return false;
	const suppressed = st.suppressed;
	st.suppressed = 0;
	const msg = args.length > 0 ? format(fmt, ...args) : fmt;
	log(level, suppressed > 0 ? `${msg} (${suppressed} similar messages suppressed)` : msg);
	return true;
}

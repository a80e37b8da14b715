// SPDX-License-Identifier: BSD-2-Clause
/*
 * The wg(4) tunables under net.wg: the knobs NetBSD's driver exports
 * under WG_DEBUG_PARAMS, global to the instance as NetBSD's are global to
 * the kernel.  Tests shorten the protocol timers through them.  The
 * driver owns them and creates the nodes when it loads (NetBSD's
 * SYSCTL_SETUP in if_wg.c); sys/kern/kern_sysctl.ts only holds the tree.
 *
 * The live values are wg_tunables: the driver reads it on every use, and
 * follows writes with sysctl_subscribe() to hand a copy to its data-path
 * workers.
 */

import { CTLTYPE_BOOL, CTLTYPE_INT, CTLTYPE_QUAD, type sysctl_leaf_desc, sysctl_createv } from '../kern/kern_sysctl.js';

const INT_MAX = 0x7fffffffn;
const UINT64_MAX = 0xffffffffffffffffn;

/* The wg(4) tunables; seconds unless noted.  Defaults from the paper, section 6.1. */
export interface net_wg_tunables {
	rekey_after_time: number;	/* REKEY_AFTER_TIME 120 */
	rekey_timeout: number;		/* REKEY_TIMEOUT 5 */
	rekey_attempt_time: number;	/* REKEY_ATTEMPT_TIME 90 */
	keepalive_timeout: number;	/* KEEPALIVE_TIMEOUT 10 */
	rekey_after_messages: number;	/* REKEY_AFTER_MESSAGES 2^60, held clamped to 2^53-1 */
	force_underload: boolean;	/* act as if under load: always answer with a cookie */
	debug: number;			/* bitmask: 1 log, 2 trace, 4 dump, 8 packet */
	tun_offload: boolean;		/* tun TSO/USO and coalesced writes (for interfaces created after) */
	udp_gso: boolean;		/* UDP_SEGMENT sends */
	udp_gro: boolean;		/* UDP_GRO receives */
	udp_rcvbuf: number;		/* SO_RCVBUF of the UDP sockets, bytes (sockets opened after) */
	crypto_workers: number;		/* threads beside each data path's that seal and open */
	warmup: number;			/* packets the data path carries at attach to warm up (if_wg_warm.ts), 0 none */
}

export function net_wg_tunables_default(): net_wg_tunables {
	return {
		rekey_after_time: 120,
		rekey_timeout: 5,
		rekey_attempt_time: 90,
		keepalive_timeout: 10,
		rekey_after_messages: Math.min(2 ** 60, Number.MAX_SAFE_INTEGER),
		force_underload: false,
		debug: 0,
		tun_offload: true,
		udp_gso: true,
		udp_gro: true,
		/*
		 * A receiver slower than its sender lets TCP queue the whole
		 * buffer in the socket, and round trips under load wait behind
		 * it: with wireguard-go's 7 MiB they were 1.4x wireguard-go's in
		 * b_tunnel, with 256 KiB 0.5x, TCP still 5.5x wireguard-go's (at
		 * about a quarter more CPU per GB than with 7 MiB), and b_flood's
		 * first ping and RTT under a handshake flood as with 7 MiB.
		 */
		udp_rcvbuf: 256 << 10,
		crypto_workers: 0,
		/* Enough for V8 to optimise the data path: a fresh tunnel's pings as a used one's (b_tunnel). */
		warmup: 4096,
	};
}

/* The live values: read by the driver, written only through sysctl_write(). */
export const wg_tunables: Readonly<net_wg_tunables> = net_wg_tunables_default();

const wg_tunables_rw = wg_tunables as net_wg_tunables;

type int_key = 'rekey_after_time' | 'rekey_timeout' | 'rekey_attempt_time' | 'keepalive_timeout' | 'debug' |
    'udp_rcvbuf' | 'crypto_workers' | 'warmup';

function wg_int(key: int_key, descr: string, min: bigint, max = INT_MAX): sysctl_leaf_desc {
	return {
		type: CTLTYPE_INT, descr, min, max,
		read: () => BigInt(wg_tunables[key]),
		write: (v) => { wg_tunables_rw[key] = Number(v); },
	};
}

function wg_bool(key: 'tun_offload' | 'udp_gso' | 'udp_gro', descr: string): sysctl_leaf_desc {
	return {
		type: CTLTYPE_BOOL, descr, min: 0n, max: 1n,
		read: () => (wg_tunables[key] ? 1n : 0n),
		write: (v) => { wg_tunables_rw[key] = v === 1n; },
	};
}

/* Node order as NetBSD's wg_setup_sysctl creates them (the order of sysctl -a). */
function wg_setup_sysctl(): void {
	sysctl_createv('net.wg.rekey_after_messages', {
		type: CTLTYPE_QUAD, descr: 'session lifetime in messages',
		min: 1n, max: UINT64_MAX,
		read: () => BigInt(wg_tunables.rekey_after_messages),
		/* Counters are JS numbers: beyond 2^53 - 1 the limit cannot be reached anyway. */
		write: (v) => {
			wg_tunables_rw.rekey_after_messages =
			    v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
		},
	});
	sysctl_createv('net.wg.rekey_after_time', wg_int('rekey_after_time', 'session lifetime', 1n));
	sysctl_createv('net.wg.rekey_timeout', wg_int('rekey_timeout', 'timeout for rekey', 1n));
	sysctl_createv('net.wg.rekey_attempt_time', wg_int('rekey_attempt_time', 'timeout for giving up rekey', 1n));
	sysctl_createv('net.wg.keepalive_timeout', wg_int('keepalive_timeout', 'timeout for keepalive', 1n));
	sysctl_createv('net.wg.force_underload', {
		type: CTLTYPE_BOOL, descr: 'act as if under load',
		min: 0n, max: 1n,
		read: () => (wg_tunables.force_underload ? 1n : 0n),
		write: (v) => { wg_tunables_rw.force_underload = v === 1n; },
	});
	sysctl_createv('net.wg.debug', wg_int('debug', 'debug flags: 1 log, 2 trace, 4 dump, 8 packet', 0n));
	/* The data path's offloads (no NetBSD counterpart): 1 uses one where the host has it. */
	sysctl_createv('net.wg.tun_offload', wg_bool('tun_offload', 'tun segmentation offloads (interfaces created after)'));
	sysctl_createv('net.wg.udp_gso', wg_bool('udp_gso', 'UDP generic segmentation offload on send'));
	sysctl_createv('net.wg.udp_gro', wg_bool('udp_gro', 'UDP generic receive offload'));
	/* The kernel doubles what it is given (socket(7)): at most 2^30 here. */
	sysctl_createv('net.wg.udp_rcvbuf', wg_int('udp_rcvbuf', 'UDP socket receive buffer, bytes (sockets opened after)',
	    4096n, 1n << 30n));
	sysctl_createv('net.wg.crypto_workers', wg_int('crypto_workers',
	    'crypto threads per interface beside its data path', 0n, 16n));
	sysctl_createv('net.wg.warmup', wg_int('warmup', 'packets carried at attach to warm the data path up (interfaces created after)',
	    0n, 1n << 20n));
}

/* SYSCTL_SETUP: once, when the driver loads. */
wg_setup_sysctl();

// SPDX-License-Identifier: BSD-2-Clause
/*
 * Where a wg interface's UAPI socket lives, /var/run/wireguard/IF.sock
 * (WG_UAPI_DIR overrides the directory, for tests), and whether a
 * process still serves it.  The driver (sys/net/if_wg_uapi.ts) and
 * wg-userspace's wireguard-go form both need the answer.
 */

import { connect } from 'node:net';
import { join } from 'node:path';

export function wg_uapi_dir(): string {
	return process.env.WG_UAPI_DIR ?? '/var/run/wireguard';
}

export function wg_uapi_path(ifname: string): string {
	return join(wg_uapi_dir(), `${ifname}.sock`);
}

/* true if something accepts connections on the UNIX socket path. */
export function wg_uapi_alive(path: string): Promise<boolean> {
	return new Promise((resolve) => {
		const s = connect({ path });
		s.once('connect', () => { s.destroy(); resolve(true); });
		s.once('error', () => { s.destroy(); resolve(false); });
	});
}

// SPDX-License-Identifier: BSD-2-Clause
/*
 * The kernel configuration: which drivers an instance loads at boot
 * (NetBSD's sys/arch/<arch>/conf/GENERIC, with the ioconf table that
 * config(1) would generate from it).  Only the boot path imports this
 * file; sys/kern knows a driver by its entry here, never by its path.
 */

import type { kern_module } from '../../../kern/init_main.js';

export const GENERIC: readonly kern_module[] = [
	{ name: 'wg', load: async () => (await import('../../../net/if_wg.js')).wginit },
];

// SPDX-License-Identifier: BSD-2-Clause
/*
 * malloc_trim(3): give the C heap's free pages back to the system.
 *
 * What lives outside the V8 heap (ArrayBuffer stores, Node's and libuv's
 * own allocations) comes from glibc's malloc, which keeps freed chunks
 * resident in its arenas.  A large request (10^5 peers set at once: tens
 * of megabytes of text, and the buffers of its parsed lines) leaves
 * hundreds of bytes a peer there after the collector has freed them;
 * trimming once the collector has run returns them (if_wg_intr.ts,
 * if_wg_uapi.ts).  Cost: a walk of the arenas, once per such request.
 */

import koffi from 'koffi';

const lib = koffi.load('libc.so.6');
const c_malloc_trim = lib.func('int malloc_trim(size_t pad)') as (pad: number) => number;

export function malloc_trim(): void {
	c_malloc_trim(0);
}

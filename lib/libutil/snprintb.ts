// SPDX-License-Identifier: BSD-2-Clause
/*
 * snprintb(3), for bit names given as a table (bit 0 first) instead of
 * the "\020\1UP..." string: "0x8041<UP,RUNNING,MULTICAST>", or "0x0"
 * when no bit is set.
 */
export function snprintb(bits: readonly string[], value: number): string {
	const names: string[] = [];
	for (let i = 0; i < bits.length; i++)
		if (value & (1 << i))
			names.push(bits[i]);
	const hex = `0x${(value >>> 0).toString(16)}`;
	return names.length === 0 ? hex : `${hex}<${names.join(',')}>`;
}

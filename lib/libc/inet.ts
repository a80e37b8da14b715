// SPDX-License-Identifier: BSD-2-Clause
/*
 * inet_pton(3) and inet_ntop(3) for AF_INET and AF_INET6.
 *
 * pton is strict, as inet_pton is: IPv4 only in dotted-quad form (no
 * inet_aton shorthand such as "10.1"), IPv6 per RFC 4291 section 2.2
 * including an embedded dotted quad.  ntop writes RFC 5952 text: lower
 * case, the longest run of two or more zero groups as "::" (the first on
 * a tie), and IPv4-mapped and -compatible addresses with a dotted quad,
 * as NetBSD's inet_ntop does.
 */

export function inet_pton4(s: string): Uint8Array | null {
	const parts = s.split('.');
	if (parts.length !== 4)
		return null;
	const out = new Uint8Array(4);
	for (let i = 0; i < 4; i++) {
		const p = parts[i];
		/* No leading zeros beyond a lone "0": "010" is ambiguous (octal in inet_aton). */
		if (!/^(0|[1-9][0-9]{0,2})$/.test(p))
			return null;
		const v = Number(p);
		if (v > 255)
			return null;
		out[i] = v;
	}
	return out;
}

function pton6_groups(part: string, words: number[], last: boolean): boolean {
	if (part === '')
		return true;
	const groups = part.split(':');
	for (let i = 0; i < groups.length; i++) {
		const g = groups[i];
		if (last && i === groups.length - 1 && g.includes('.')) {
			const v4 = inet_pton4(g);
			if (v4 === null)
				return false;
			words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
		} else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
			words.push(parseInt(g, 16));
		} else {
			return false;
		}
	}
	return true;
}

export function inet_pton6(s: string): Uint8Array | null {
	if (s.length < 2 || s.length > 45)
		return null;
	const gap = s.indexOf('::');
	if (gap >= 0 && s.indexOf('::', gap + 1) >= 0)
		return null;	/* at most one "::" (this also refuses ":::") */
	const head: number[] = [];
	const tail: number[] = [];
	if (gap >= 0) {
		if (!pton6_groups(s.slice(0, gap), head, false) ||
		    !pton6_groups(s.slice(gap + 2), tail, true) ||
		    head.length + tail.length > 7)
			return null;
	} else if (!pton6_groups(s, head, true) || head.length !== 8) {
		return null;
	}
	const out = new Uint8Array(16);
	for (let i = 0; i < head.length; i++) {
		out[i * 2] = head[i] >> 8;
		out[i * 2 + 1] = head[i] & 0xff;
	}
	for (let i = 0, slot = 8 - tail.length; i < tail.length; i++, slot++) {
		out[slot * 2] = tail[i] >> 8;
		out[slot * 2 + 1] = tail[i] & 0xff;
	}
	return out;
}

/* AF-agnostic: 4 or 16 bytes, or null. */
export function inet_pton(s: string): Uint8Array | null {
	return s.includes(':') ? inet_pton6(s) : inet_pton4(s);
}

export function inet_ntop4(a: Uint8Array): string {
	return `${a[0]}.${a[1]}.${a[2]}.${a[3]}`;
}

const ntop6_words = new Uint16Array(8);

export function inet_ntop6(a: Uint8Array): string {
	const w = ntop6_words;
	for (let i = 0; i < 8; i++)
		w[i] = (a[i * 2] << 8) | a[i * 2 + 1];
	let best = -1;
	let best_len = 0;
	for (let i = 0; i < 8;) {
		if (w[i] !== 0) {
			i++;
			continue;
		}
		let j = i;
		while (j < 8 && w[j] === 0)
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j;
	}
	if (best_len < 2)
		best = -1;
	/* ::a.b.c.d (compatible, not ::1 or ::) and ::ffff:a.b.c.d (mapped). */
	if (best === 0 && (best_len === 6 || (best_len === 7 && w[7] !== 1) ||
	    (best_len === 5 && w[5] === 0xffff))) {
		const v4 = inet_ntop4(a.subarray(12, 16));
		return best_len === 5 ? `::ffff:${v4}` : `::${v4}`;
	}
	let out = '';
	for (let i = 0; i < 8; i++) {
		if (i === best) {
			out += i === 0 ? '::' : ':';
			i += best_len - 1;
			continue;
		}
		out += w[i].toString(16);
		if (i < 7)
			out += ':';
	}
	return out;
}

export function inet_ntop(a: Uint8Array): string {
	return a.length === 4 ? inet_ntop4(a) : inet_ntop6(a);
}

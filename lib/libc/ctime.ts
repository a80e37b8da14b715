// SPDX-License-Identifier: BSD-2-Clause
/*
 * ctime(3) without the trailing newline: "Thu Aug 20 21:28:02 2020" in
 * local time.  Local means the TZ environment variable; with TZ unset we
 * use UTC rather than the host's /etc/localtime, so output does not depend
 * on where the tool runs (namespaces share the host's files).
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
	return n < 10 ? `0${n}` : String(n);
}

export function ctime(sec: number): string {
	/* Node reloads the zone when process.env.TZ is assigned. */
	if (process.env.TZ === undefined || process.env.TZ === '')
		process.env.TZ = 'UTC';
	const d = new Date(sec * 1000);
	if (Number.isNaN(d.getTime()))
		return `${sec}`;
	const day = d.getDate();
	return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${day < 10 ? ' ' : ''}${day} ` +
	    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ${d.getFullYear()}`;
}

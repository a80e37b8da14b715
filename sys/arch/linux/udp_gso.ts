// SPDX-License-Identifier: BSD-2-Clause
/*
 * The transmit batch of the data path: datagrams queued during one
 * round, sent with one sendmmsg(2) per run of one address family, and
 * with UDP generic segmentation offload (UDP_SEGMENT, Linux 4.18) where
 * the kernel takes it: consecutive datagrams to the same endpoint with
 * the same size (the last of a run may be shorter) lie back to back in
 * the arena and go as ONE message whose cmsg tells the kernel the
 * segment size.  The kernel (or the NIC) cuts it into datagrams; a veth
 * or the loopback carries it whole to a receiver with UDP_GRO.
 *
 * Fallback: a kernel or device that cannot segment answers EIO, and a
 * path whose MTU is smaller than a segment answers EMSGSIZE; either
 * turns GSO off for good (gso_failed tells the caller, which says so
 * once) and the refused message goes again as single datagrams.
 *
 * Layout (x86_64, one ArrayBuffer allocated once): struct mmsghdr,
 * iovec, sockaddr and cmsg arrays, one of each per message, then the
 * datagram arena.  The msghdr of each message is rebuilt at flush; a
 * cmsg for IP_PKTINFO would be appended next to UDP_SEGMENT's.
 */

import { EAFNOSUPPORT, EIO, EMSGSIZE, ptr_of, sendmmsg_addr, stable_bytes } from './libc.js';
import {
	CMSG_HDRLEN, MH_CONTROL, MH_CONTROLLEN, MH_IOV, MH_IOVLEN, MH_NAME, MH_NAMELEN, NAME_SLOT,
	SIZEOF_IOVEC, SIZEOF_MMSGHDR, SOL_UDP, UDP_SEGMENT, put_ptr, sockaddr_put,
} from './udp.js';

/* The kernel's UDP_MAX_SEGMENTS before 6.x, and a segmented send's payload limit (IPv4). */
export const UDP_GSO_MAX_SEGS = 64;
export const UDP_GSO_MAX_BYTES = 65507;
const CMSG_SPACE_TX = 24;		/* CMSG_SPACE(sizeof(uint16_t)) */

export class UdpTxBatch {
	readonly max: number;		/* datagrams per batch */
	readonly arena_size: number;
	gso: boolean;
	/* Set when the kernel refused a segmented send (GSO is then off); the caller clears it. */
	gso_failed = 0;
	/* errno of the last refused message, and datagrams dropped in all. */
	last_errno = 0;
	dropped = 0;
	n = 0;				/* datagrams queued */

	private readonly mem: Uint8Array;
	private readonly w: Uint32Array;
	private readonly base: number;
	private readonly iov_off: number;
	private readonly names_off: number;
	private readonly cmsg_off: number;
	private readonly data_off: number;
	readonly data: Uint8Array;	/* the arena */
	private tail = 0;		/* bytes of the arena in use */
	private readonly off: Uint32Array;
	private readonly len: Uint32Array;
	private readonly fam: Uint8Array;
	private readonly same: Uint8Array;	/* 1: same endpoint as the datagram before */

	constructor(max: number, arena_size: number, gso: boolean) {
		this.max = max;
		this.arena_size = arena_size;
		this.gso = gso;
		this.iov_off = max * SIZEOF_MMSGHDR;
		this.names_off = this.iov_off + max * SIZEOF_IOVEC;
		this.cmsg_off = this.names_off + max * NAME_SLOT;
		this.data_off = this.cmsg_off + max * CMSG_SPACE_TX;
		this.mem = stable_bytes(this.data_off + arena_size);
		this.w = new Uint32Array(this.mem.buffer);
		this.base = ptr_of(this.mem);
		this.data = this.mem.subarray(this.data_off);
		this.off = new Uint32Array(max);
		this.len = new Uint32Array(max);
		this.fam = new Uint8Array(max);
		this.same = new Uint8Array(max);
		this.first = new Uint32Array(max + 1);
		for (let i = 0; i < max; i++) {
			/* The cmsg header of message i never changes: SOL_UDP / UDP_SEGMENT, a u16. */
			const c = this.cmsg_off + i * CMSG_SPACE_TX;
			this.mem[c] = CMSG_HDRLEN + 2;
			this.mem[c + 8] = SOL_UDP;
			this.mem[c + 12] = UDP_SEGMENT;
		}
	}

	/* Where the next datagram's bytes go in data. */
	get next_at(): number {
		return this.tail;
	}

	/* Room for a datagram of len bytes?  If not, flush first. */
	fits(len: number): boolean {
		return this.n < this.max && this.tail + len <= this.arena_size;
	}

	/*
	 * Queues a datagram to family/addr/port and returns where its len
	 * bytes go in data (the caller writes them there).  The caller
	 * checked fits().
	 */
	push(family: 4 | 6, addr: Uint8Array, port: number, scope_id: number, len: number): number {
		const i = this.n++;
		const at = this.tail;
		this.off[i] = at;
		this.len[i] = len;
		this.tail += len;
		this.fam[i] = family;
		const mem = this.mem;
		const nm = this.names_off + i * NAME_SLOT;
		const sl = sockaddr_put(mem, nm, family, addr, port, scope_id);
		let same = 0;
		if (i > 0 && this.fam[i - 1] === family) {
			same = 1;
			const pm = nm - NAME_SLOT;
			for (let k = 0; k < sl; k++)
				if (mem[nm + k] !== mem[pm + k]) {
					same = 0;
					break;
				}
		}
		this.same[i] = same;
		return at;
	}

	/*
	 * Sends everything queued: fd4 / fd6 by family.  Returns the number
	 * of datagrams the kernel took; the rest are counted in dropped.
	 */
	flush(fd4: number, fd6: number): number {
		let sent = 0;
		let d = 0;
		const n = this.n;
		while (d < n) {
			/* One run of one family, as messages; up to max messages. */
			const f = this.fam[d];
			const fd = f === 4 ? fd4 : fd6;
			let e = d + 1;
			while (e < n && this.fam[e] === f)
				e++;
			if (fd < 0) {
				this.dropped += e - d;
				this.last_errno = EAFNOSUPPORT;
				d = e;
				continue;
			}
			d = this.send_run(fd, d, e);
			sent += this.sent_in_run;
		}
		this.n = 0;
		this.tail = 0;
		return sent;
	}

	private sent_in_run = 0;
	/* First datagram of each message built by build(). */
	private readonly first: Uint32Array;

	/* Sends datagrams [d, e) of one family; returns e. */
	private send_run(fd: number, d: number, e: number): number {
		this.sent_in_run = 0;
		while (d < e) {
			const nm = this.build(d, e);
			let m = 0;
			while (m < nm) {
				const r = sendmmsg_addr(fd, this.base + m * SIZEOF_MMSGHDR, nm - m, 0);
				if (r > 0) {
					this.sent_in_run += this.first[m + r] - this.first[m];
					m += r;
					continue;
				}
				const err = r < 0 ? -r : EIO;
				const segs = this.first[m + 1] - this.first[m];
				if (segs > 1 && (err === EIO || err === EMSGSIZE)) {
					/* Refused segmentation: off for good, and this message again as singles. */
					this.gso = false;
					this.gso_failed = err;
					break;
				}
				this.last_errno = err;
				this.dropped += segs;
				m++;
			}
			d = this.first[m];
		}
		return e;
	}

	/*
	 * Lays out messages for datagrams from d on (at most max messages,
	 * not past e): with GSO, runs of one endpoint and one size (the last
	 * may be shorter) within the kernel's limits make one message.
	 * first[k] is message k's first datagram, first[count] where they end.
	 */
	private build(d: number, e: number): number {
		const w = this.w;
		let k = 0;
		let i = d;
		while (i < e && k < this.max) {
			const size = this.len[i];
			let j = i + 1;
			let bytes = size;
			if (this.gso) {
				while (j < e && j - i < UDP_GSO_MAX_SEGS && this.same[j] === 1 && this.len[j] <= size &&
				    bytes + this.len[j] <= UDP_GSO_MAX_BYTES) {
					bytes += this.len[j];
					j++;
					if (this.len[j - 1] < size)
						break;
				}
			}
			this.first[k] = i;
			const m = (k * SIZEOF_MMSGHDR) >> 2;
			const iov = this.iov_off + k * SIZEOF_IOVEC;
			put_ptr(w, m + MH_NAME, this.base + this.names_off + i * NAME_SLOT);
			w[m + MH_NAMELEN] = this.fam[i] === 4 ? 16 : 28;
			put_ptr(w, m + MH_IOV, this.base + iov);
			w[m + MH_IOVLEN] = 1;
			w[m + MH_IOVLEN + 1] = 0;
			put_ptr(w, iov >> 2, this.base + this.data_off + this.off[i]);
			w[(iov >> 2) + 2] = bytes;
			w[(iov >> 2) + 3] = 0;
			if (j - i > 1) {
				const c = this.cmsg_off + k * CMSG_SPACE_TX;
				this.mem[c + 16] = size & 0xff;
				this.mem[c + 17] = size >>> 8;
				put_ptr(w, m + MH_CONTROL, this.base + c);
				w[m + MH_CONTROLLEN] = CMSG_SPACE_TX;
			} else {
				put_ptr(w, m + MH_CONTROL, 0);
				w[m + MH_CONTROLLEN] = 0;
			}
			w[m + MH_CONTROLLEN + 1] = 0;
			k++;
			i = j;
		}
		this.first[k] = i;
		return k;
	}
}

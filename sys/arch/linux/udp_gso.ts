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
 * Sticky sources: a datagram queued with a source address goes with an
 * IP_PKTINFO / IPV6_PKTINFO cmsg (before UDP_SEGMENT's, if both), so it
 * leaves from that address.  Only datagrams with the same source share
 * a segmented message.  If the kernel refuses the source (the address
 * is gone: EINVAL, EADDRNOTAVAIL, or for IPv4 ENETUNREACH, which is what
 * ip_route_output says for a source that is no local address), the
 * message goes once more without it, and src_refused(i) tells the
 * caller for each datagram.
 *
 * Layout (x86_64, one ArrayBuffer allocated once): struct mmsghdr,
 * iovec, sockaddr, cmsg and source arrays, one of each per message or
 * datagram, then the datagram arena.  The msghdr of each message is
 * rebuilt at flush.
 */

import {
	EADDRNOTAVAIL, EAFNOSUPPORT, EINVAL, EIO, EMSGSIZE, ENETUNREACH, IPPROTO_IP, IPPROTO_IPV6, ptr_of, sendmmsg_addr,
	stable_bytes,
} from './libc.js';
import {
	CMSG_HDRLEN, CMSG_SPACE_PKTINFO4, CMSG_SPACE_PKTINFO6, IPV6_PKTINFO, IP_PKTINFO, MH_CONTROL, MH_CONTROLLEN,
	MH_IOV, MH_IOVLEN, MH_NAME, MH_NAMELEN, NAME_SLOT, SIZEOF_IN6_PKTINFO, SIZEOF_IN_PKTINFO, SIZEOF_IOVEC,
	SIZEOF_MMSGHDR, SOL_UDP, UDP_SEGMENT, put_ptr, sockaddr_put,
} from './udp.js';

/* The kernel's UDP_MAX_SEGMENTS before 6.x, and a segmented send's payload limit (IPv4). */
export const UDP_GSO_MAX_SEGS = 64;
export const UDP_GSO_MAX_BYTES = 65507;
const CMSG_SPACE_SEGMENT = 24;		/* CMSG_SPACE(sizeof(uint16_t)) */
/* Per message: a pktinfo cmsg, then UDP_SEGMENT's. */
const CMSG_SPACE_TX = CMSG_SPACE_PKTINFO6 + CMSG_SPACE_SEGMENT;
/* Per datagram: its source address (16 bytes) and interface (4), src_ifindex 0 for none. */
const SRC_SLOT = 20;

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
	private readonly same: Uint8Array;	/* 1: same endpoint and source as the datagram before */
	private readonly srcs_off: number;
	private readonly src_ifindex: Uint32Array;	/* per datagram, 0: no source */
	/* Per message of the last build(): bytes of pktinfo cmsg at its control's start, 0 for none. */
	private readonly pktinfo_len: Uint8Array;
	/* Called with a datagram's index when the kernel refused its source (see the header). */
	src_refused: ((i: number) => void) | null = null;

	/* shared: the arena in a SharedArrayBuffer (crypto threads seal in it, sys/net/if_wg_crypt.ts). */
	constructor(max: number, arena_size: number, gso: boolean, shared = false) {
		this.max = max;
		this.arena_size = arena_size;
		this.gso = gso;
		this.iov_off = max * SIZEOF_MMSGHDR;
		this.names_off = this.iov_off + max * SIZEOF_IOVEC;
		this.cmsg_off = this.names_off + max * NAME_SLOT;
		this.srcs_off = this.cmsg_off + max * CMSG_SPACE_TX;
		this.data_off = this.srcs_off + max * SRC_SLOT;
		this.mem = stable_bytes(this.data_off + arena_size, shared);
		this.w = new Uint32Array(this.mem.buffer);
		this.base = ptr_of(this.mem);
		this.data = this.mem.subarray(this.data_off);
		this.off = new Uint32Array(max);
		this.len = new Uint32Array(max);
		this.fam = new Uint8Array(max);
		this.same = new Uint8Array(max);
		this.src_ifindex = new Uint32Array(max);
		this.pktinfo_len = new Uint8Array(max);
		this.first = new Uint32Array(max + 1);
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
	push(family: 4 | 6, addr: Uint8Array, port: number, scope_id: number, len: number,
	    src?: Uint8Array, src_ifindex = 0): number {
		const i = this.n++;
		const at = this.tail;
		this.off[i] = at;
		this.len[i] = len;
		this.tail += len;
		this.fam[i] = family;
		const mem = this.mem;
		const nm = this.names_off + i * NAME_SLOT;
		const sl = sockaddr_put(mem, nm, family, addr, port, scope_id);
		const sn = family === 4 ? 4 : 16;
		const sp = this.srcs_off + i * SRC_SLOT;
		if (src === undefined || src.length < sn)
			src_ifindex = 0;
		this.src_ifindex[i] = src_ifindex;
		if (src_ifindex !== 0 && src !== undefined)
			for (let k = 0; k < sn; k++)
				mem[sp + k] = src[k];
		let same = 0;
		if (i > 0 && this.fam[i - 1] === family && this.src_ifindex[i - 1] === src_ifindex) {
			same = 1;
			const pm = nm - NAME_SLOT;
			for (let k = 0; k < sl; k++)
				if (mem[nm + k] !== mem[pm + k]) {
					same = 0;
					break;
				}
			if (same === 1 && src_ifindex !== 0)
				for (let k = 0; k < sn; k++)
					if (mem[sp + k] !== mem[sp - SRC_SLOT + k]) {
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
				if (this.pktinfo_len[m] !== 0 && (err === EINVAL || err === EADDRNOTAVAIL || err === ENETUNREACH)) {
					/* The source is gone: this message once more without it (Linux's retry). */
					this.drop_pktinfo(m);
					for (let k = this.first[m]; k < this.first[m + 1]; k++)
						this.src_refused?.(k);
					continue;
				}
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
			const c = this.cmsg_off + k * CMSG_SPACE_TX;
			const pl = this.src_ifindex[i] !== 0 ? this.pktinfo_put(c, i) : 0;
			let cl = pl;
			if (j - i > 1)
				cl += this.segment_put(c + pl, size);
			this.pktinfo_len[k] = pl;
			put_ptr(w, m + MH_CONTROL, cl === 0 ? 0 : this.base + c);
			w[m + MH_CONTROLLEN] = cl;
			w[m + MH_CONTROLLEN + 1] = 0;
			k++;
			i = j;
		}
		this.first[k] = i;
		return k;
	}

	/* struct cmsghdr at mem[c]: length, level, type (64-bit cmsg_len, high half 0). */
	private cmsg_hdr(c: number, len: number, level: number, type: number): void {
		const mem = this.mem;
		for (let k = 0; k < CMSG_HDRLEN; k++)
			mem[c + k] = 0;
		mem[c] = len;
		mem[c + 8] = level;
		mem[c + 12] = type;
	}

	/* The UDP_SEGMENT cmsg at mem[c]; its space. */
	private segment_put(c: number, size: number): number {
		this.cmsg_hdr(c, CMSG_HDRLEN + 2, SOL_UDP, UDP_SEGMENT);
		this.mem[c + 16] = size & 0xff;
		this.mem[c + 17] = size >>> 8;
		return CMSG_SPACE_SEGMENT;
	}

	/* Datagram i's source as an IP_PKTINFO / IPV6_PKTINFO cmsg at mem[c]; its space. */
	private pktinfo_put(c: number, i: number): number {
		const mem = this.mem;
		const sp = this.srcs_off + i * SRC_SLOT;
		const ifx = this.src_ifindex[i];
		if (this.fam[i] === 4) {
			this.cmsg_hdr(c, CMSG_HDRLEN + SIZEOF_IN_PKTINFO, IPPROTO_IP, IP_PKTINFO);
			/* { ifindex, spec_dst = the source, addr (ignored on send) } */
			mem[c + 16] = ifx & 0xff;
			mem[c + 17] = (ifx >>> 8) & 0xff;
			mem[c + 18] = (ifx >>> 16) & 0xff;
			mem[c + 19] = ifx >>> 24;
			for (let k = 0; k < 4; k++) {
				mem[c + 20 + k] = mem[sp + k];
				mem[c + 24 + k] = 0;
			}
			for (let k = 28; k < CMSG_SPACE_PKTINFO4; k++)
				mem[c + k] = 0;
			return CMSG_SPACE_PKTINFO4;
		}
		this.cmsg_hdr(c, CMSG_HDRLEN + SIZEOF_IN6_PKTINFO, IPPROTO_IPV6, IPV6_PKTINFO);
		for (let k = 0; k < 16; k++)
			mem[c + 16 + k] = mem[sp + k];
		mem[c + 32] = ifx & 0xff;
		mem[c + 33] = (ifx >>> 8) & 0xff;
		mem[c + 34] = (ifx >>> 16) & 0xff;
		mem[c + 35] = ifx >>> 24;
		for (let k = 36; k < CMSG_SPACE_PKTINFO6; k++)
			mem[c + k] = 0;
		return CMSG_SPACE_PKTINFO6;
	}

	/* Message m of the last build() without its pktinfo cmsg (what follows it stays). */
	private drop_pktinfo(m: number): void {
		const w = this.w;
		const h = (m * SIZEOF_MMSGHDR) >> 2;
		const pl = this.pktinfo_len[m];
		const cl = w[h + MH_CONTROLLEN] - pl;
		put_ptr(w, h + MH_CONTROL, cl === 0 ? 0 : this.base + this.cmsg_off + m * CMSG_SPACE_TX + pl);
		w[h + MH_CONTROLLEN] = cl;
		this.pktinfo_len[m] = 0;
		for (let d = this.first[m]; d < this.first[m + 1]; d++)
			this.src_ifindex[d] = 0;
	}
}

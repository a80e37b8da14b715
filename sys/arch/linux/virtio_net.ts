// SPDX-License-Identifier: BSD-2-Clause
/*
 * struct virtio_net_hdr (<linux/virtio_net.h>): the 10 bytes a tun with
 * IFF_VNET_HDR puts before every packet it reads and expects before
 * every packet written.  Little-endian (the tun's native order on
 * x86_64; TUNSETVNETLE/BE are never used).  Read and written with byte
 * operations: no object and no DataView per packet.
 *
 *	u8   flags		VIRTIO_NET_HDR_F_*
 *	u8   gso_type		VIRTIO_NET_HDR_GSO_*
 *	le16 hdr_len		length of the headers (not trusted: see tcp_segment)
 *	le16 gso_size		payload bytes per segment
 *	le16 csum_start		where the checksummed part (the L4 header) starts
 *	le16 csum_offset	where the checksum field is, from csum_start
 */

export const VIRTIO_NET_HDR_LEN = 10;

export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;

export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
export const VIRTIO_NET_HDR_GSO_UDP = 3;
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
export const VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;

export function vnet_flags(b: Uint8Array, h: number): number {
	return b[h];
}

export function vnet_gso_type(b: Uint8Array, h: number): number {
	return b[h + 1];
}

export function vnet_hdr_len(b: Uint8Array, h: number): number {
	return b[h + 2] | (b[h + 3] << 8);
}

export function vnet_gso_size(b: Uint8Array, h: number): number {
	return b[h + 4] | (b[h + 5] << 8);
}

export function vnet_csum_start(b: Uint8Array, h: number): number {
	return b[h + 6] | (b[h + 7] << 8);
}

export function vnet_csum_offset(b: Uint8Array, h: number): number {
	return b[h + 8] | (b[h + 9] << 8);
}

/* Writes a header at b[h]. */
export function vnet_put(b: Uint8Array, h: number, flags: number, gso_type: number, hdr_len: number,
    gso_size: number, csum_start: number, csum_offset: number): void {
	b[h] = flags;
	b[h + 1] = gso_type;
	b[h + 2] = hdr_len & 0xff;
	b[h + 3] = hdr_len >>> 8;
	b[h + 4] = gso_size & 0xff;
	b[h + 5] = gso_size >>> 8;
	b[h + 6] = csum_start & 0xff;
	b[h + 7] = csum_start >>> 8;
	b[h + 8] = csum_offset & 0xff;
	b[h + 9] = csum_offset >>> 8;
}

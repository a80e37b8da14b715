// SPDX-License-Identifier: BSD-2-Clause
/*
 * wg(4) ioctl interface, as NetBSD's <net/if_wg.h> defines it: the
 * SIOCSDRVSPEC sub-commands and the keys of the proplib dictionary that
 * travels in struct ifdrv.
 */

export const WG_IOCTL_GET = 0;
export const WG_IOCTL_SET_PRIVATE_KEY = 1 << 0;
export const WG_IOCTL_SET_LISTEN_PORT = 1 << 1;
export const WG_IOCTL_ADD_PEER = 1 << 2;
export const WG_IOCTL_DELETE_PEER = 1 << 3;
/* Extension: change an existing peer in place (persistent keepalive). */
export const WG_IOCTL_SET_PEER = 1 << 4;

/* The core's limit on a peer's name (sys/net/wg/messages.ts), part of this interface. */
export { WG_PEER_NAME_MAXLEN } from './wg/messages.js';
/* An externalized dictionary larger than this is refused with E2BIG (NetBSD's WG_MAX_PROPLEN). */
export const WG_MAX_PROPLEN = 32766;

/* Dictionary keys. */
export const WGK_PRIVATE_KEY = 'private_key';
export const WGK_PUBLIC_KEY = 'public_key';
export const WGK_LISTEN_PORT = 'listen_port';
export const WGK_PEERS = 'peers';
export const WGK_NAME = 'name';
export const WGK_PRESHARED_KEY = 'preshared_key';
export const WGK_ENDPOINT = 'endpoint';
export const WGK_ALLOWEDIPS = 'allowedips';
export const WGK_FAMILY = 'family';
export const WGK_IP = 'ip';
export const WGK_CIDR = 'cidr';
export const WGK_LAST_HANDSHAKE_SEC = 'last_handshake_time_sec';
export const WGK_LAST_HANDSHAKE_NSEC = 'last_handshake_time_nsec';
/* Extensions (documented in wgconfig(8) and wg(4)). */
export const WGK_PERSISTENT_KEEPALIVE = 'persistent_keepalive_interval';
export const WGK_RX_BYTES = 'rx_bytes';
export const WGK_TX_BYTES = 'tx_bytes';
/* The host name the endpoint came from, kept and resolved again (if_wg_dns.ts). */
export const WGK_ENDPOINT_HOST = 'endpoint_host';
/* Paged gets (wg(4) GET): where a page starts, how many peers at most. */
export const WGK_CURSOR = 'cursor';
export const WGK_MAX_PEERS = 'max_peers';
/* A get for a listing (wg(4)): each peer without what "show" does not print, secrets included. */
export const WGK_BRIEF = 'brief';

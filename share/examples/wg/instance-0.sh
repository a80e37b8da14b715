# SPDX-License-Identifier: BSD-2-Clause
#	/etc/wg/instance-0.sh: wg(4) interfaces of kernel instance 0 at boot.
#
#	wg-userspace@0.service runs this file with /bin/sh -e once the
#	instance is up (see wg-userspace(8)), as NetBSD brings wg0 up from
#	/etc/ifconfig.wg0.  Commands talk to instance 0; the first one
#	that fails fails the start of the service.
#
#	The private key, readable by root only: (umask 077 && wg-keygen > /etc/wg/wg0.key)
#	The public key to give the peer: wg-keygen --pub < /etc/wg/wg0.key

ifconfig wg0 create
ifconfig wg0 inet 10.64.0.1/24
wgconfig wg0 set private-key /etc/wg/wg0.key
wgconfig wg0 set listen-port 51820
wgconfig wg0 add peer gateway 0qqR7Z9K5SABuENaSd7MIBb+y6BReMJUE9L2qBz2rWk= \
    --endpoint=192.0.2.2:51820 --allowed-ips=10.64.0.0/24

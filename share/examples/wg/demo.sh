#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#	demo.sh: wg(4) between two hosts, with NetBSD's commands.
#
#	Two network namespaces, "left" and "right", stand for two machines
#	joined by a cable (a veth pair, 192.0.2.0/24).  Each gets a key pair
#	(wg-keygen), a wg0 (ifconfig create, which starts the kernel instance
#	of that namespace) and the other as its peer (wgconfig); then pings
#	go through the tunnel (10.64.0.0/24) both ways and wgconfig shows
#	both ends.  Everything is removed at the end, also when a step
#	fails or the demo is interrupted.
#
#	Run as root, with ifconfig, wgconfig, wg-keygen and wg-userspace of
#	netbsd-wg-ts first in PATH: "make demo" in the source tree does that,
#	or run this file after "make install".

set -u
prog=demo

if [ "$(id -u)" != 0 ]; then
	echo "$prog: needs root (namespaces, tun): sudo make demo" >&2
	exit 1
fi
for c in ip ping ifconfig wgconfig wg-keygen wg-userspace; do
	if ! command -v $c >/dev/null 2>&1; then
		echo "$prog: $c not found (make deps; make)" >&2
		exit 1
	fi
done
# Only our ifconfig lists the wg cloner.
if ! ifconfig -C 2>/dev/null | grep -qw wg; then
	echo "$prog: $(command -v ifconfig) is not netbsd-wg-ts's ifconfig: put its directory first in PATH" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/wgdemo.XXXXXX) || exit 1
chmod 700 "$tmp"
ns_left=wgdemo-left-$$
ns_right=wgdemo-right-$$
made=

cleanup() {
	status=$?
	trap - EXIT INT TERM
	echo
	echo "== cleaning up"
	for ns in $made; do
		# Stop the kernel instance (its wg0 goes with it), then
		# whatever is left in the namespace, then the namespace.
		ip netns exec "$ns" wg-userspace 0 destroy >/dev/null 2>&1
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$tmp"
	if [ "$status" = 0 ]; then
		echo "== the tunnel worked; namespaces, interfaces and keys removed"
	else
		echo "== FAILED (status $status); namespaces, interfaces and keys removed" >&2
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run HOST COMMAND...: show the command as typed on HOST, run it there.
# Each host's instance logs to, and keeps its UAPI socket in, the
# demo's directory, so the demo leaves nothing in /var.
run() {
	host=$1
	shift
	echo "[$host]# $*"
	eval "ns=\$ns_$host"
	WG_USERSPACE_LOG="$tmp/$host.log" WG_UAPI_DIR="$tmp/$host.run" \
	    ip netns exec "$ns" "$@"
}

fail() {
	echo "$prog: failed: $*" >&2
	for h in left right; do
		if [ -s "$tmp/$h.log" ]; then
			echo "--- kernel instance log of $h:" >&2
			tail -n 20 "$tmp/$h.log" >&2
		fi
	done
	exit 1
}

echo "== two hosts joined by a cable"
for h in left right; do
	eval "ns=\$ns_$h"
	ip netns add "$ns" || fail "ip netns add $ns"
	made="$made $ns"
	ip -n "$ns" link set lo up || fail "lo up in $h"
done
ip -n "$ns_left" link add eth0 type veth peer name eth0 netns "$ns_right" ||
    fail "veth pair"
ip -n "$ns_left" addr add 192.0.2.1/24 dev eth0 || fail "address left"
ip -n "$ns_right" addr add 192.0.2.2/24 dev eth0 || fail "address right"
ip -n "$ns_left" link set eth0 up || fail "eth0 up left"
ip -n "$ns_right" link set eth0 up || fail "eth0 up right"
echo "left eth0 192.0.2.1/24 <-> right eth0 192.0.2.2/24"

echo
echo "== keys"
for h in left right; do
	echo "[$h]# wg-keygen > $h.key; wg-keygen --pub < $h.key > $h.pub"
	(umask 077 && wg-keygen > "$tmp/$h.key") || fail "wg-keygen"
	wg-keygen --pub < "$tmp/$h.key" > "$tmp/$h.pub" || fail "wg-keygen --pub"
done
pub_left=$(cat "$tmp/left.pub")
pub_right=$(cat "$tmp/right.pub")

echo
echo "== wg0 on both hosts"
run left ifconfig wg0 create || fail "ifconfig wg0 create"
run left ifconfig wg0 inet 10.64.0.1/24 || fail "ifconfig wg0 inet"
run left wgconfig wg0 set private-key "$tmp/left.key" || fail "set private-key"
run left wgconfig wg0 set listen-port 51820 || fail "set listen-port"
run left wgconfig wg0 add peer right "$pub_right" \
    --endpoint=192.0.2.2:51820 --allowed-ips=10.64.0.2/32 || fail "add peer"
run right ifconfig wg0 create || fail "ifconfig wg0 create"
run right ifconfig wg0 inet 10.64.0.2/24 || fail "ifconfig wg0 inet"
run right wgconfig wg0 set private-key "$tmp/right.key" || fail "set private-key"
run right wgconfig wg0 set listen-port 51820 || fail "set listen-port"
run right wgconfig wg0 add peer left "$pub_left" \
    --endpoint=192.0.2.1:51820 --allowed-ips=10.64.0.1/32 || fail "add peer"

echo
echo "== pings through the tunnel"
run left ping -c 3 -i 0.2 -w 10 10.64.0.2 || fail "ping left -> right"
run right ping -c 3 -i 0.2 -w 10 10.64.0.1 || fail "ping right -> left"

echo
echo "== both ends"
run left wgconfig wg0 || fail "wgconfig wg0"
run right wgconfig wg0 || fail "wgconfig wg0"
run left ifconfig wg0 || fail "ifconfig wg0"
exit 0

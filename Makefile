# SPDX-License-Identifier: BSD-2-Clause
#	Makefile for the NetBSD WireGuard stack in TypeScript.
#
#	make deps      Debian packages (apt-get) and npm ci; safe to re-run
#	make           type-check and compile to obj/, launchers in obj/bin/
#	make test      the whole test suite: test-unit, then test-net
#	make test-unit the tests that need no root (fast)
#	make test-net  the tests that need root: namespaces, tun, kernel instances
#	make lint      type check and eslint
#	make bench     benchmarks, one JSON object per line (the tunnel: ours with net.wg.crypto_workers
#	               0, 1 and 2, offloads on and off, against Debian's wireguard-go, in one run)
#	make flood     handshake flood against us and wireguard-go, 10 runs (root)
#	make fuzz      10^6 mutated datagrams into the protocol core
#	make faults    the fault scenarios at full length (20 MB at 10% loss each way and 30% on
#	               the data's way, reordering, duplication, 100 ms delay; a 60 s outage)
#	make soak      10 minutes of traffic with a rekey every 3 s (root)
#	make stream-workers  50 MB each way through crypto threads, 1 then 2 on both ends (root)
#	make clean
#	make install   install under $(DESTDIR)$(PREFIX) (see share/mk/wg-install.sh)
#	make uninstall remove exactly what make install installed there
#	make demo      a tunnel between two network namespaces, then tear-down

NODE?=		node
PREFIX?=	/usr/local
DESTDIR?=
TSC=		node_modules/.bin/tsc
TAP=		node_modules/.bin/tap
ESLINT=		node_modules/.bin/eslint

DEBIAN_PKGS=	iproute2 iputils-ping procps libsodium23 libssl3 openssl wireguard-tools \
		wireguard-go iperf3 tcpdump mandoc man-db iptables util-linux

PROGS=		sbin/ifconfig/ifconfig sbin/wgconfig/wgconfig \
		usr.bin/wg-keygen/wg-keygen usr.sbin/wg-userspace/wg-userspace

.PHONY: all deps test test-unit test-net lint bench flood fuzz faults soak stream-workers clean

all: obj/.tsbuilt
	@mkdir -p obj/bin
	@for p in ${PROGS}; do \
		n=$${p##*/}; \
		printf '#!/bin/sh\nexec ${NODE} "$$(dirname "$$(readlink -f "$$0")")/../%s.js" "$$@"\n' "$$p" > obj/bin/$$n; \
		chmod 755 obj/bin/$$n; \
	done

# node_modules only when it is missing (order-only): a worktree whose
# node_modules is a link to a shared one must not reinstall it because a
# checkout made package-lock.json newer.  After changing dependencies, run
# make deps.
obj/.tsbuilt: $(shell find sys lib sbin usr.bin usr.sbin tests -name '*.ts' 2>/dev/null) tsconfig.json | node_modules/.package-lock.json
	${TSC} -p tsconfig.json
	@touch $@

node_modules/.package-lock.json:
	npm ci --no-audit --no-fund

deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		missing=""; for p in ${DEBIAN_PKGS}; do \
			dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
		done; \
		if [ -n "$$missing" ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			    apt-get install -y -qq --no-install-recommends $$missing; \
		fi; \
	else echo "deps: not root or no apt-get; install:${DEBIAN_PKGS}" >&2; fi
	npm ci --no-audit --no-fund

# Tests that need root (namespaces, tun, other uids) are the ones that
# use the namespace or kernel-instance harness, or say "It requires root"
# in their header; everything else is a unit test.  Everything runs two
# files at a time: every host of the namespace harness has its own
# network stack and its own /run/wireguard, so files cannot collide, and
# the scenario suites (tests/net/if_wg) mostly wait on pings and
# handshakes.
ROOT_TESTS=	grep -rlE "harness/(netns|netns_thread|kern|if_wg)\.js|It requires root" obj/tests --include='t_*.js'

test: test-unit test-net

test-unit: all
	@root=$$(${ROOT_TESTS}); \
	${TAP} -j2 $$(find obj/tests -name 't_*.js' | sort | grep -vxF "$$root")

test-net: all
	@${TAP} -j2 $$(${ROOT_TESTS} | sort)

lint: | node_modules/.package-lock.json
	${TSC} -p tsconfig.json --noEmit
	${ESLINT} sys lib sbin usr.bin usr.sbin tests

bench: all
	@for b in $$(find obj/tests/bench -name 'b_*.js' | sort); do ${NODE} $$b || exit 1; done

flood: all
	${NODE} obj/tests/bench/b_flood.js 10

fuzz: all
	${NODE} obj/tests/net/wg/wg_fuzz.js 1000000

faults: all
	WG_FAULTS_LONG=1 ${TAP} -j1 -t1800 obj/tests/net/if_wg/t_faults.js

soak: all
	SOAK_SECONDS=600 ${TAP} -j1 -t1200 obj/tests/net/if_wg/soak.js

stream-workers: all
	@for w in 1,1 2,2; do \
		TAP_GREP=offload_on WG_STREAM_WORKERS=$$w WG_STREAM_WORKERS_MB=50 ${TAP} -j1 -t600 \
		    obj/tests/net/if_wg/t_stream.js || exit 1; \
	done

clean:
	rm -rf obj

.PHONY: install uninstall demo

install: all
	@DESTDIR='${DESTDIR}' PREFIX='${PREFIX}' NODE='${NODE}' sh share/mk/wg-install.sh install

uninstall:
	@DESTDIR='${DESTDIR}' PREFIX='${PREFIX}' sh share/mk/wg-install.sh uninstall

# On a fresh machine: the Debian packages first (make deps), then the build.
demo:
	@command -v ip >/dev/null && command -v ping >/dev/null || ${MAKE} deps
	@${MAKE} --no-print-directory all
	@PATH="$(CURDIR)/obj/bin:$$PATH" sh share/examples/wg/demo.sh

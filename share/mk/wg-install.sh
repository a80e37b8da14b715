#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#	wg-install.sh install | uninstall
#
#	make install / make uninstall (see the Makefile).  Environment:
#	PREFIX (default /usr/local), DESTDIR (default empty), NODE (node).
#	Run from the top of the source tree, after make.
#
#	install puts the compiled program (obj/, without tests) and its
#	production node_modules under PREFIX/lib/netbsd-wg, launchers in
#	PREFIX/sbin and PREFIX/bin, man pages under PREFIX/share/man, the
#	systemd unit template under PREFIX/lib/systemd/system (a directory
#	systemd searches for /usr and /usr/local alike) and examples under
#	PREFIX/share/examples/wg.  Every file it writes and every directory
#	it creates goes into PREFIX/lib/netbsd-wg/MANIFEST, which is what
#	uninstall removes, and nothing else.  Installing again first removes
#	what the previous install recorded.  A file in the way that is not
#	in the manifest is never overwritten.

set -eu

prog=wg-install
die() {
	echo "$prog: $*" >&2
	exit 1
}

mode=${1:-}
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
NODE=${NODE:-node}

case $PREFIX in
/*)	;;
*)	die "PREFIX must be an absolute path: $PREFIX" ;;
esac
# The launchers and the unit quote these paths; keep them plain.
case $DESTDIR$PREFIX in
*[!A-Za-z0-9_./+@,:-]*)	die "PREFIX and DESTDIR may hold only [A-Za-z0-9_./+@,:-]" ;;
esac
PREFIX=$(printf '%s\n' "$PREFIX" | sed 's,//*,/,g; s,\(.\)/$,\1,')

LIBDIR=$PREFIX/lib/netbsd-wg
SBINDIR=$PREFIX/sbin
BINDIR=$PREFIX/bin
MANDIR=$PREFIX/share/man
UNITDIR=$PREFIX/lib/systemd/system
EXAMPLESDIR=$PREFIX/share/examples/wg
LIBEXECDIR=$LIBDIR/libexec
MANIFEST=$LIBDIR/MANIFEST

# Sources (relative to the top of the tree) and what they become.
PROGS="sbin/ifconfig/ifconfig:$SBINDIR/ifconfig
sbin/wgconfig/wgconfig:$SBINDIR/wgconfig
usr.sbin/wg-userspace/wg-userspace:$SBINDIR/wg-userspace
usr.bin/wg-keygen/wg-keygen:$BINDIR/wg-keygen"
JSDIRS="sys lib sbin usr.bin usr.sbin"

# mandb for each hierarchy of the system's man path that is MANDIR or an
# alias of it (Debian's /usr/local/man -> share/man has its own database);
# a MANDIR outside the man path has no database to update.
update_mandb() {
	[ -z "$DESTDIR" ] && command -v mandb >/dev/null 2>&1 &&
	    command -v manpath >/dev/null 2>&1 || return 0
	real=$(readlink -f "$MANDIR" 2>/dev/null) || return 0
	old_ifs=$IFS
	IFS=:
	for d in $(manpath -g 2>/dev/null); do
		if [ -n "$d" ] && [ "$(readlink -f "$d" 2>/dev/null)" = "$real" ]; then
			mandb -q "$d" >/dev/null 2>&1 || true
		fi
	done
	IFS=$old_ifs
}

update_systemd() {
	[ -z "$DESTDIR" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1 || return 0
	case $PREFIX in
	/usr|/usr/local)	systemctl daemon-reload >/dev/null 2>&1 || true ;;
	esac
}

# Remove what the manifest lists: files, then the directories install
# created, deepest first (one still holding something else stays).
# "quiet": no manifest is not an error.
uninstall_from() {
	m=$DESTDIR$MANIFEST
	if [ ! -f "$m" ]; then
		[ "${1:-}" = quiet ] && return 0
		die "$m: no such file: nothing is installed with PREFIX=$PREFIX${DESTDIR:+ DESTDIR=$DESTDIR}"
	fi
	dirs=$(sed -n 's/^d //p' "$m" | sort -r)
	files=$(sed -n 's/^f //p' "$m")
	nf=0
	old_ifs=$IFS
	IFS='
'
	for path in $files; do
		case $path in
		"$PREFIX"/*)	;;
		*)	echo "$prog: $m: ignoring $path (not under $PREFIX)" >&2; continue ;;
		esac
		case $path in
		*/../*|*/..)	echo "$prog: $m: ignoring $path" >&2; continue ;;
		esac
		rm -f "$DESTDIR$path"
		nf=$((nf + 1))
	done
	rm -f "$m"
	nd=0
	for path in $dirs; do
		case $path in
		"$PREFIX"/*|"$PREFIX")	;;
		*)	continue ;;
		esac
		case $path in
		*/../*|*/..)	continue ;;
		esac
		rmdir "$DESTDIR$path" 2>/dev/null && nd=$((nd + 1))
	done
	IFS=$old_ifs
	echo "$prog: removed $nf files and $nd directories from $DESTDIR$PREFIX"
}

# --- install ---

RECORD=
record() {
	RECORD="$RECORD$1 $2
"
}

# mkdir -p, recording each directory it creates (outermost first).
# Directories of DESTDIR itself are a staging area: made, not recorded.
mkdirs() {
	case $1 in
	"$PREFIX"|"$PREFIX"/*)	;;
	*)	die "internal: $1 is not under $PREFIX" ;;
	esac
	if [ ! -d "$DESTDIR$PREFIX" ]; then
		p=
		old_ifs=$IFS
		IFS=/
		for c in $PREFIX; do
			[ -n "$c" ] || continue
			p=$p/$c
			if [ ! -d "$DESTDIR$p" ]; then
				mkdir -m 755 -p "$DESTDIR$p"
				record d "$p"
			fi
		done
		IFS=$old_ifs
	fi
	rest=${1#"$PREFIX"}
	p=$PREFIX
	old_ifs=$IFS
	IFS=/
	for c in $rest; do
		[ -n "$c" ] || continue
		p=$p/$c
		if [ ! -d "$DESTDIR$p" ]; then
			mkdir -m 755 "$DESTDIR$p"
			record d "$p"
		fi
	done
	IFS=$old_ifs
}

# Refuse to overwrite what is not ours (the previous install is gone by now).
check_free() {
	for dst in "$@"; do
		if [ -e "$DESTDIR$dst" ] || [ -L "$DESTDIR$dst" ]; then
			die "$DESTDIR$dst exists and was not installed by make install; remove it first"
		fi
	done
}

# inst_file SRC DST MODE
inst_file() {
	mkdirs "${2%/*}"
	cp "$1" "$DESTDIR$2"
	chmod "$3" "$DESTDIR$2"
	record f "$2"
}

# fill SRC: a template with @PREFIX@, @SBINDIR@ ... filled in, to stdout.
fill() {
	sed -e "s,@PREFIX@,$PREFIX,g" -e "s,@SBINDIR@,$SBINDIR,g" -e "s,@BINDIR@,$BINDIR,g" \
	    -e "s,@LIBDIR@,$LIBDIR,g" -e "s,@LIBEXECDIR@,$LIBEXECDIR,g" \
	    -e "s,@EXAMPLESDIR@,$EXAMPLESDIR,g" "$1"
}

# subst SRC DST MODE: install a filled-in template.
subst() {
	mkdirs "${2%/*}"
	fill "$1" > "$DESTDIR$2"
	chmod "$3" "$DESTDIR$2"
	record f "$2"
}

do_install() {
	[ -f obj/usr.sbin/wg-userspace/wg-userspace.js ] || die "obj/ is not built: run make first"
	[ -f package-lock.json ] && [ -d node_modules ] || die "no node_modules: run make first"
	node_abs=$(command -v "$NODE" 2>/dev/null) || die "$NODE: not found"
	case $node_abs in
	/*)	;;
	*)	die "$NODE: not a program" ;;
	esac

	# A previous install with this PREFIX and DESTDIR: remove it first.
	uninstall_from quiet
	man4=$(cd share/man/man4 && ls *.4)
	man8=$(cd share/man/man8 && ls *.8)
	dsts="$LIBDIR $UNITDIR/wg-userspace@.service"
	for p in $PROGS; do
		dsts="$dsts ${p#*:}"
	done
	for f in $man4; do dsts="$dsts $MANDIR/man4/$f"; done
	for f in $man8; do dsts="$dsts $MANDIR/man8/$f"; done
	for f in share/examples/wg/*; do dsts="$dsts $EXAMPLESDIR/${f##*/}"; done
	# shellcheck disable=SC2086
	check_free $dsts

	# The program: the compiled JavaScript of everything but tests.
	mkdirs "$LIBDIR"
	lib=$DESTDIR$LIBDIR
	for f in $(find $JSDIRS -name '*.ts' ! -name '*.d.ts' | sort); do
		js=${f%.ts}.js
		[ -f "obj/$js" ] || die "obj/$js: missing: run make"
		mkdir -p "$lib/${js%/*}"
		cp "obj/$js" "$lib/$js"
	done
	# package.json: "type": "module" makes Node load the .js files as ES modules.
	"$node_abs" -e '
		const p = JSON.parse(require("fs").readFileSync("package.json", "utf8"));
		const out = { name: p.name, version: p.version, description: p.description,
		    type: p.type, private: true, license: p.license, dependencies: p.dependencies };
		process.stdout.write(JSON.stringify(out, null, 2) + "\n");
	' > "$lib/package.json"
	# Production dependencies as package-lock.json has them (no dev
	# ones), those present here: the optional koffi builds are per platform.
	mods=$("$node_abs" -e '
		const l = JSON.parse(require("fs").readFileSync("package-lock.json", "utf8"));
		for (const [k, v] of Object.entries(l.packages ?? {}))
			if (k.startsWith("node_modules/") && !v.dev && require("fs").existsSync(k))
				console.log(k);
	')
	for m in $mods; do
		mkdir -p "$lib/${m%/*}"
		cp -R "$m" "$lib/$m"
	done
	mkdir -p "$DESTDIR$LIBEXECDIR"
	fill etc/systemd/wg-userspace-rc > "$DESTDIR$LIBEXECDIR/wg-userspace-rc"
	chmod 755 "$DESTDIR$LIBEXECDIR/wg-userspace-rc"
	cp etc/rc.d/ifconfig_wg "$DESTDIR$LIBEXECDIR/ifconfig_wg"
	chmod 755 "$DESTDIR$LIBEXECDIR/ifconfig_wg"
	chmod -R u+rwX,go+rX,go-w "$lib"
	# Everything under LIBDIR is new (it did not exist): record it all.
	for d in $(cd "$lib" && find . -mindepth 1 -type d | sed 's,^\./,,' | sort); do
		record d "$LIBDIR/$d"
	done
	for f in $(cd "$lib" && find . -type f | sed 's,^\./,,' | sort); do
		record f "$LIBDIR/$f"
	done

	# Launchers: node on the installed JavaScript, from any directory.
	for p in $PROGS; do
		src=${p%%:*}
		dst=${p#*:}
		mkdirs "${dst%/*}"
		cat > "$DESTDIR$dst" <<EOF
#!/bin/sh
# ${dst##*/}: netbsd-wg-ts, installed by make install
node='$node_abs'
[ -x "\$node" ] || node=node
exec "\$node" '$LIBDIR/$src.js' "\$@"
EOF
		chmod 755 "$DESTDIR$dst"
		record f "$dst"
	done

	for f in $man4; do inst_file "share/man/man4/$f" "$MANDIR/man4/$f" 644; done
	for f in $man8; do inst_file "share/man/man8/$f" "$MANDIR/man8/$f" 644; done
	subst etc/systemd/wg-userspace@.service "$UNITDIR/wg-userspace@.service" 644
	for f in share/examples/wg/*; do
		case $f in
		*.sh)	inst_file "$f" "$EXAMPLESDIR/${f##*/}" 755 ;;
		*)	inst_file "$f" "$EXAMPLESDIR/${f##*/}" 644 ;;
		esac
	done

	printf '%s' "$RECORD" > "$DESTDIR$MANIFEST"
	chmod 644 "$DESTDIR$MANIFEST"
	update_mandb
	update_systemd
	nf=$(grep -c '^f ' "$DESTDIR$MANIFEST")
	echo "$prog: installed $nf files under $DESTDIR$PREFIX (list: $DESTDIR$MANIFEST)"
	if [ -z "$DESTDIR" ]; then
		case ":$PATH:" in
		*":$SBINDIR:"*)
			# Debian has no /sbin/ifconfig unless net-tools is installed.
			if [ -e /sbin/ifconfig ] || [ -e /usr/sbin/ifconfig ]; then
				echo "$prog: note: $SBINDIR/ifconfig (NetBSD's, for wg(4)" \
				    "interfaces) and net-tools' ifconfig: the first in PATH wins"
			fi ;;
		*)	echo "$prog: note: $SBINDIR is not in PATH" ;;
		esac
	fi
}

case $mode in
install)	do_install ;;
uninstall)	uninstall_from; update_mandb; update_systemd ;;
*)		die "usage: $prog install | uninstall" ;;
esac

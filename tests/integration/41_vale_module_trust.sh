#!/usr/bin/env bash
# 41_vale_module_trust.sh - which module files netmapd (as root) loads,
# and vale-ctl's module commands.
#
# Test objective: a module is native code in netmapd's address space, so
# netmapd running as root loads only files that nobody but root could
# have written: the file and every directory above it owned by root and
# not writable by group or others (a sticky directory such as /tmp is
# fine).  Refused, with a reason naming the culprit, and the switch keeps
# its module: a file owned by another user, a group-writable file, a file
# in a world-writable (not sticky) directory, a file in a directory owned
# by another user, a symbolic link to a refused file.  Accepted: a
# root-owned file in a sticky directory, a link to a trusted file (the
# resolved path is what is shown), a relative path (vale-ctl resolves
# it).  vale-ctl: --module SWITCH shows the module and its counters, -s
# SWITCH starts with the same line, --module SWITCH default restores the
# learning bridge (and a switch kept by its module alone goes away),
# --config to a logic without configuration fails with a reason, a
# module built for another ABI is refused with a message saying so, and
# --help documents --module and --config.  A netmapd that does not run
# as root trusts its own user's files as well as root's, and no one
# else's.  Through a socket granted to a container (nm-grant), neither
# --module nor --config (NIOCCONFIG) is allowed: they are switch
# administration.
#
# Operations: switch vale41t, created by the first load; files staged in
# a private directory under /tmp; "another user" is nobody (65534), a
# third one 65533.  The last part runs a netmapd of its own as nobody
# (setpriv), on a socket in a directory of nobody's, stopped by pid.
set -u
. "$(dirname "$0")/tlib.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "needs root (to give files to another user and test netmapd as root)"
	exit 77
fi
vc=$BUILD/vale-ctl
sw=vale41t
learn=$BUILD/vale-modules/learn.so
badabi=$BUILD/tests/vale-modules/badabi.so
for f in "$learn" "$badabi"; do
	[ -f "$f" ] || { echo "$f not built"; exit 77; }
done
tmp=$(mktemp -d /tmp/unetmap-41t.XXXXXX)
chmod 755 "$tmp"
npid=
cleanup() {
	[ -x "$BUILD/nm-grant" ] && "$BUILD/nm-grant" -r "$tmp/grants/g.sock" >/dev/null 2>&1
	"$vc" --module "$sw" default >/dev/null 2>&1
	if [ -n "$npid" ]; then
		kill "$npid" 2>/dev/null
		wait "$npid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# the module the switch runs, from vale-ctl --module
running() { "$vc" --module "$sw" 2>/dev/null | awk '{ print $3 }'; }

# refused DESC PATH REGEX: refused, the message matches, learn still runs
refused() {
	local out rc
	out=$("$vc" --module "$sw" "$2" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		bad "$1: loaded"
	elif ! grep -q -E -- "$3" <<<"$out"; then
		bad "$1: the message does not match /$3/: $out"
	elif [ "$(running)" != learn ]; then
		bad "$1: the switch now runs '$(running)'"
	else
		echo "ok: $1 refused: $out"
	fi
}

# accepted DESC PATH: loaded (then back to learn for the next case)
accepted() {
	local out
	if ! out=$("$vc" --module "$sw" "$2" 2>&1); then
		bad "$1: refused: $out"
	elif [ "$(running)" != learn ]; then
		bad "$1: the switch runs '$(running)'"
	else
		echo "ok: $1 accepted"
	fi
}

install -m 644 "$learn" "$tmp/learn.so"
accepted "a root-owned file in a root-owned directory" "$tmp/learn.so"
line=$("$vc" --module "$sw")
grep -q -E "^$sw module learn forwarded 0 broadcast 0 dropped 0 invalid 0 path $tmp/learn.so args \$" \
	<<<"$line" || bad "--module $sw prints: $line"
line=$("$vc" -s "$sw" | head -n 1)
grep -q -E "^$sw module learn forwarded" <<<"$line" || bad "-s $sw starts with: $line"

install -m 644 -o 65534 "$learn" "$tmp/nobody.so"
refused "a file owned by another user" "$tmp/nobody.so" "nobody.so: it is not owned by root"
install -m 664 "$learn" "$tmp/gw.so"
refused "a group-writable file" "$tmp/gw.so" "gw.so: it is writable by group or others"
mkdir -m 777 "$tmp/ww"
chmod 777 "$tmp/ww"
install -m 644 "$learn" "$tmp/ww/learn.so"
refused "a file in a world-writable directory" "$tmp/ww/learn.so" \
	"directory $tmp/ww is writable by group or others"
mkdir "$tmp/nb"
install -m 644 "$learn" "$tmp/nb/learn.so"
chown 65534 "$tmp/nb"
refused "a file in another user's directory" "$tmp/nb/learn.so" \
	"directory $tmp/nb is not owned by root"
ln -s "$tmp/nobody.so" "$tmp/link.so"
refused "a link to another user's file" "$tmp/link.so" "nobody.so: it is not owned by root"
install -m 644 "$badabi" "$tmp/badabi.so"
refused "a module built for another ABI" "$tmp/badabi.so" "built for VALE module ABI 2, netmapd speaks ABI 1: rebuild it"

mkdir "$tmp/sticky"
chmod 1777 "$tmp/sticky"
install -m 644 "$learn" "$tmp/sticky/learn.so"
accepted "a root-owned file in a sticky directory" "$tmp/sticky/learn.so"
ln -s "$tmp/learn.so" "$tmp/good-link.so"
accepted "a link to a trusted file" "$tmp/good-link.so"
"$vc" --module "$sw" | grep -q "path $tmp/learn.so args" ||
	bad "a link: the resolved path is not shown: $("$vc" --module "$sw")"
(cd "$tmp" && "$vc" --module "$sw" learn.so >/dev/null 2>&1) || bad "a relative path was refused"

out=$("$vc" --config "$sw" route 1 2>&1) && bad "--config to learn.so succeeded"
grep -q "takes no configuration" <<<"$out" || bad "--config: $out"
out=$("$vc" -v --module "$sw" default 2>&1) || bad "--module $sw default failed: $out"
grep -q "^$sw module builtin forwarded 0 broadcast 0 dropped 0 invalid 0 path - args" \
	<<<"$out" || bad "--module $sw default -v prints: $out"
"$vc" --module "$sw" learn.so >/dev/null 2>&1 && bad "a relative path that does not exist was loaded"
# a switch with no port is kept by its module alone
out=$("$vc" --module "$sw" 2>&1) && bad "$sw still exists after default: $out"
grep -q "no such switch" <<<"$out" || bad "--module of a missing switch: $out"
echo "ok: --module $sw default restores the bridge; the empty switch goes"

# a netmapd of nobody's trusts nobody's files and root's, not 65533's
if command -v setpriv >/dev/null; then
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	mkdir -m 700 "$tmp/nbsock"
	chown 65534:65534 "$tmp/nbsock"
	mkdir "$tmp/nbmods"
	install -m 644 -o 65534 "$learn" "$tmp/nbmods/mine.so"
	install -m 644 "$learn" "$tmp/nbmods/root.so"
	install -m 644 -o 65533 "$learn" "$tmp/nbmods/other.so"
	chown 65534 "$tmp/nbmods"
	nsock=$tmp/nbsock/netmapd.sock
	# setpriv execs netmapd: $! is netmapd's pid (a function would put a
	# subshell in between).  The idle exit is a safety net.
	setpriv --reuid=65534 --regid=65534 --clear-groups "$BUILD/netmapd" --foreground \
		--socket "$nsock" --idle-exit 30 >"$tmp/nb-netmapd.log" 2>&1 &
	npid=$!
	for _ in $(seq 400); do [ -S "$nsock" ] && break; sleep 0.05; done
	nvc() { as_nobody env UNETMAP_SOCKET="$nsock" UNETMAP_NETMAPD=/nonexistent "$vc" "$@"; }
	out=$(nvc --module "$sw" "$tmp/nbmods/mine.so" 2>&1) &&
		echo "ok: netmapd as nobody loads nobody's file" ||
		bad "netmapd as nobody refused nobody's file: $out"
	out=$(nvc --module "$sw" "$tmp/nbmods/root.so" 2>&1) &&
		echo "ok: netmapd as nobody loads root's file" ||
		bad "netmapd as nobody refused root's file: $out"
	out=$(nvc --module "$sw" "$tmp/nbmods/other.so" 2>&1) &&
		bad "netmapd as nobody loaded another user's file"
	grep -q "other.so: it is owned by neither netmapd's user nor root (netmapd runs as uid 65534)" \
		<<<"$out" && echo "ok: netmapd as nobody refuses uid 65533's file" ||
		bad "netmapd as nobody, another user's file: $out"
	nvc --module "$sw" default >/dev/null 2>&1
	kill "$npid" 2>/dev/null
	wait "$npid" 2>/dev/null
	npid=
else
	echo "setpriv not installed: netmapd as another user not checked"
fi

# a container's granted socket administers no switch
if [ -x "$BUILD/nm-grant" ]; then
	mkdir -m 755 "$tmp/grants"
	"$vc" --module "$sw" "$tmp/learn.so" >/dev/null || bad "reload learn.so"
	if "$BUILD/nm-grant" -p "$sw:pod" -H pod41 "$tmp/grants/g.sock" >/dev/null 2>&1; then
		gvc() { UNETMAP_SOCKET=$tmp/grants/g.sock UNETMAP_NETMAPD=/nonexistent "$vc" "$@"; }
		out=$(gvc --module "$sw" default 2>&1) && bad "a granted socket restored the bridge"
		grep -q "Operation not permitted.*granted to pod41" <<<"$out" ||
			bad "--module through a grant: $out"
		out=$(gvc --config "$sw" route 1 2>&1) && bad "a granted socket sent NIOCCONFIG"
		grep -q "Operation not permitted: this socket (granted to pod41) cannot configure" \
			<<<"$out" || bad "--config through a grant: $out"
		[ "$(running)" = learn ] || bad "after the grant's attempts the switch runs '$(running)'"
		echo "ok: a granted socket can neither load modules nor configure them"
		"$BUILD/nm-grant" -r "$tmp/grants/g.sock" >/dev/null 2>&1
	else
		bad "nm-grant failed"
	fi
	"$vc" --module "$sw" default >/dev/null 2>&1
fi

help=$("$vc" --help 2>&1)
for w in --module --config default; do
	grep -q -- "$w" <<<"$help" || bad "--help does not mention $w"
done
"$vc" --help >/dev/null 2>&1 || bad "--help exits with $?"
exit $fail

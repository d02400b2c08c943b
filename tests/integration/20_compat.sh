#!/usr/bin/env bash
#
# 20_compat.sh - netmap programs built against the installed unetmap.
#
# Test objective: programs written the way netmap applications are
# written (tests/compat: the legacy nm_open API in tutorial style, and the
# nmport API) build with nothing but `pkg-config --cflags --libs libnetmap`
# against `make install PREFIX=...`, or with the installed static library,
# and move traffic over pipes: zero copy between two pipes of one NAME,
# copies between pipes of two NAMEs, every frame checked at the far end.
#
# Operations:
#   1. make install PREFIX=$tmp/prefix (the Makefile's install target);
#   2. cc -O2 -Wall -Wextra -Werror prog.c $(pkg-config --cflags --libs
#      libnetmap) for tutorial_forward and nmport_echo, and nmport_echo
#      once more linked with $tmp/prefix/lib/libnetmap.a -ldl -pthread;
#   3. zero copy:  nmport_echo -s netmap:N{1  ->  tutorial_forward
#      -i netmap:N}1 -i netmap:N{2  ->  nmport_echo -r netmap:N}2, with
#      frames of 60..3000 bytes (fragments included); the forwarder must
#      say "zerocopy enabled" and count every packet, the receiver must
#      get all of them in order and intact;
#   4. copy: the same between netmap:A}1 and netmap:B{1 (two regions),
#      forwarder says "zerocopy disabled";
#   5. the static build sends and checks frames over one pipe by itself.
# Background processes are killed by pid on exit.
#
# Exit status: 0 pass, 1 fail, 77 skipped (reason on the last line).
set -u

root=$(pwd)
BUILD=${BUILD:-$root/build}
N=${COMPAT_FRAMES:-20000}

if ! command -v pkg-config >/dev/null 2>&1; then
	echo "pkg-config not installed"
	exit 77
fi
CC=${CC:-cc}
if ! command -v "$CC" >/dev/null 2>&1; then
	echo "no C compiler ($CC)"
	exit 77
fi
# A sanitizer build's libraries need the sanitizer runtime linked first,
# which "nothing but pkg-config" cannot give an application.
if grep -qa -e __asan_ -e __ubsan_ "$BUILD/libnetmap.a" 2>/dev/null; then
	echo "sanitizer build: installed libraries need -fsanitize in applications"
	exit 77
fi

tmp=$(mktemp -d /tmp/unetmap-compat.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*"
	exit 1
}

# --- 1. install -----------------------------------------------------------
if ! make -C "$root" install PREFIX="$tmp/prefix" BUILD="$BUILD" >"$tmp/install.log" 2>&1; then
	tail -n 30 "$tmp/install.log"
	fail "make install PREFIX=$tmp/prefix"
fi
for f in include/net/netmap.h include/net/netmap_user.h include/net/netmap_legacy.h \
	 include/net/netmap_virt.h include/libnetmap.h lib/libnetmap.a lib/pkgconfig/libnetmap.pc; do
	[ -f "$tmp/prefix/$f" ] || fail "make install did not install $f"
done
# upstream's testmmap includes <net/netmap_virt.h> after netmap_user.h
printf '#include <net/netmap_user.h>\n#include <net/netmap_virt.h>\nint main(void) { return PTNETMAP_PCI_NETIF_ID != 0x000d || sizeof(struct nmreq) != 60; }\n' \
	>"$tmp/virt.c"
"$CC" -Wall -Werror -I"$tmp/prefix/include" -o "$tmp/virt" "$tmp/virt.c" && "$tmp/virt" ||
	fail "a program including the installed <net/netmap_virt.h>"

# --- 2. build -------------------------------------------------------------
export PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig
pc=$(pkg-config --cflags --libs libnetmap) || fail "pkg-config --cflags --libs libnetmap"
pc_cflags=$(pkg-config --cflags libnetmap)
echo "pkg-config: $pc"
for p in tutorial_forward nmport_echo; do
	# shellcheck disable=SC2086
	"$CC" -O2 -Wall -Wextra -Werror -o "$tmp/$p" "$root/tests/compat/$p.c" $pc \
		>"$tmp/$p.build" 2>&1 || { cat "$tmp/$p.build"; fail "building $p"; }
done
# shellcheck disable=SC2086
"$CC" -O2 -Wall -Wextra -Werror -o "$tmp/nmport_echo_static" "$root/tests/compat/nmport_echo.c" \
	$pc_cflags "$tmp/prefix/lib/libnetmap.a" -ldl -pthread >"$tmp/static.build" 2>&1 ||
	{ cat "$tmp/static.build"; fail "building nmport_echo with libnetmap.a"; }

# the shared builds really use the installed library (tutorial_forward
# calls only libc names: open, ioctl, mmap, poll, close)
if command -v ldd >/dev/null 2>&1; then
	for p in tutorial_forward nmport_echo; do
		ldd "$tmp/$p" | grep -q "$tmp/prefix/lib/libnetmap.so" ||
			{ ldd "$tmp/$p"; fail "$p does not use $tmp/prefix/lib/libnetmap.so"; }
	done
fi

# run CMD... in the background, output to $tmp/NAME.out; sets $last
last=
spawn() {
	local name=$1
	shift
	"$@" >"$tmp/$name.out" 2>&1 &
	last=$!
	pids+=("$last")
}

# forget a reaped pid, so that the cleanup never signals a reused one
forget() {
	local p keep=()
	for p in "${pids[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	pids=("${keep[@]}")
}

# wait for pid $1 at most $2 seconds; returns its exit status (124: timeout)
wait_for() {
	local pid=$1 secs=$2 i rc
	for ((i = 0; i < secs * 10; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			rc=$?
			forget "$pid"
			return $rc
		fi
		sleep 0.1
	done
	return 124
}

show() {
	local f
	for f in "$@"; do
		echo "--- $f:"
		cat "$tmp/$f.out"
	done
}

# forward N frames through tutorial_forward between $1 and $2 (the two
# ports the forwarder opens), sender on $3, receiver on $4; $5 = expected
# "zerocopy enabled|disabled"
run_chain() {
	local fa=$1 fb=$2 tx=$3 rx=$4 zc=$5 tag=$6 rpid fpid spid rc
	spawn "$tag-rx" "$tmp/nmport_echo" -r "$rx" -n "$N" -l 60-3000 -w 20
	rpid=$last
	# netmap never tells a pipe end that its peer left; the forwarder
	# opts in to hear it (UNETMAP_PEER_HUP) so that it can stop by itself
	UNETMAP_PEER_HUP=1 spawn "$tag-fwd" "$tmp/tutorial_forward" -i "$fa" -i "$fb"
	fpid=$last
	spawn "$tag-tx" "$tmp/nmport_echo" -s "$tx" -n "$N" -l 60-3000 -w 20
	spid=$last

	wait_for "$rpid" 40
	rc=$?
	[ $rc -eq 0 ] || { show "$tag-tx" "$tag-fwd" "$tag-rx"; fail "$tag: receiver exit status $rc"; }
	wait_for "$spid" 10
	rc=$?
	[ $rc -eq 0 ] || { show "$tag-tx" "$tag-fwd" "$tag-rx"; fail "$tag: sender exit status $rc"; }
	# both peers gone: the forwarder stops by itself
	wait_for "$fpid" 10
	rc=$?
	[ $rc -eq 0 ] || { show "$tag-tx" "$tag-fwd" "$tag-rx"; fail "$tag: forwarder exit status $rc (did not stop when both peers left)"; }

	grep -q "received $N of $N frames, all intact" "$tmp/$tag-rx.out" ||
		{ show "$tag-rx"; fail "$tag: receiver"; }
	grep -q "sent $N of $N frames\$" "$tmp/$tag-tx.out" ||
		{ show "$tag-tx"; fail "$tag: sender"; }
	grep -q "^zerocopy $zc\$" "$tmp/$tag-fwd.out" ||
		{ show "$tag-fwd"; fail "$tag: forwarder should report zerocopy $zc"; }
	grep -q "^forwarded $N packets (a->b $N, b->a 0)" "$tmp/$tag-fwd.out" ||
		{ show "$tag-fwd"; fail "$tag: forwarder count"; }
	echo "$tag: $(tail -n 1 "$tmp/$tag-fwd.out")"
}

nm=c$$
# --- 3. zero copy between two pipes of one NAME --------------------------
run_chain "netmap:${nm}z}1" "netmap:${nm}z{2" "netmap:${nm}z{1" "netmap:${nm}z}2" enabled zerocopy
# every slot (fragments too) went through by buffer exchange
swapped=$(sed -n 's/.*, \([0-9]*\) buffers swapped/\1/p' "$tmp/zerocopy-fwd.out")
[ "${swapped:-0}" -ge "$N" ] || { show zerocopy-fwd; fail "zerocopy: only ${swapped:-0} buffers swapped for $N frames"; }

# --- 4. copies between pipes of two NAMEs ---------------------------------
run_chain "netmap:${nm}a}1" "netmap:${nm}b{1" "netmap:${nm}a{1" "netmap:${nm}b}1" disabled copy

# --- 5. the static build, alone -------------------------------------------
spawn static "$tmp/nmport_echo_static" -n "$N" -l 60-5000 "netmap:${nm}s{1" "netmap:${nm}s}1"
wait_for "$last" 30
rc=$?
[ $rc -eq 0 ] || { show static; fail "static build: exit status $rc"; }
grep -q "received $N of $N frames, all intact" "$tmp/static.out" || { show static; fail "static build"; }
echo "static: $(tail -n 1 "$tmp/static.out")"
echo "20_compat: ok"
exit 0

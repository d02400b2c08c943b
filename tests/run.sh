#!/usr/bin/env bash
# tests/run.sh - run unetmap's whole test suite.
#
# Usage: tests/run.sh [PATTERN]
#   BUILD=dir      the build to test (default build)
#   BUILDS="a b"   several builds, one pass each (`make check`: the plain
#                  build, then the ASan+UBSan one), one summary for all
#
# Each test is a program or script: exit 0 = pass, 77 = skipped (its last
# line of output says why), anything else = fail.  Tests get:
#   BUILD            absolute build directory (netmapd, tools, libraries)
#   UNETMAP_SOCKET   socket of a private netmapd this runner started
#   UNETMAP_NETMAPD  netmapd to start on demand
#   UNETMAP_SAN      1 in a sanitizer build's pass
#   PATH             with $BUILD first
# The runner checks after every test that its netmapd is still alive, and
# at the end of a pass that its log has no sanitizer report and that it
# stops on SIGTERM.  The last line is "N passed, N failed, N skipped".
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
pattern=${1:-}
timeout_s=${TEST_TIMEOUT:-180}
builds=${BUILDS:-${BUILD:-$root/build}}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
path0=$PATH
tmp=
dpid=
pass=0 fail=0 skip=0

start_daemon() {
	"$BUILD/netmapd" --foreground --socket "$UNETMAP_SOCKET" >>"$tmp/netmapd.log" 2>&1 &
	dpid=$!
	for _ in $(seq 200); do
		[ -S "$UNETMAP_SOCKET" ] && return 0
		sleep 0.05
	done
	echo "netmapd did not start; log:"; cat "$tmp/netmapd.log"
	return 1
}
# A netmapd that does not stop on SIGTERM within 5 s is stuck: kill it
# and say so (the suite then fails).
stop_daemon() {
	[ -n "$dpid" ] || return 0
	kill "$dpid" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$dpid" 2>/dev/null; then
		echo "FAIL ${label}netmapd: did not stop on SIGTERM within 5 s (stuck); killed"
		kill -9 "$dpid" 2>/dev/null
		fail=$((fail + 1))
	fi
	wait "$dpid" 2>/dev/null
	dpid=
}
cleanup() { stop_daemon; [ -n "$tmp" ] && rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# one pass over the suite with build $1
run_pass() {
	BUILD=$(cd "$1" && pwd) || { echo "no build directory $1"; fail=$((fail + 1)); return; }
	tmp=$(mktemp -d /tmp/unetmap-test.XXXXXX)
	export BUILD UNETMAP_SOCKET=$tmp/netmapd.sock UNETMAP_NETMAPD=$BUILD/netmapd
	export PATH="$BUILD:$path0"
	unset UNETMAP_SAN
	if ldd "$BUILD/netmapd" 2>/dev/null | grep -q -E 'libasan|libubsan'; then
		export UNETMAP_SAN=1
	fi
	start_daemon || { fail=$((fail + 1)); return; }

	local tests=() t name start rc secs
	for t in "$root"/tests/headers/*.sh "$BUILD"/tests/unit/* "$BUILD"/tests/integration/* \
		 "$root"/tests/integration/*.sh; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		[ -n "$pattern" ] && [[ "$t" != *$pattern* ]] && continue
		tests+=("$t")
	done
	for t in "${tests[@]}"; do
		name=${t#"$root"/}
		name=$label${name#"$BUILD"/}
		start=$(date +%s.%N)
		(cd "$root" && timeout -k 5 "$timeout_s" "$t") >"$tmp/out" 2>&1
		rc=$?
		secs=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
		if ! kill -0 "$dpid" 2>/dev/null; then
			echo "FAIL $name: netmapd died during the test"
			tail -n 20 "$tmp/netmapd.log"
			fail=$((fail + 1))
			start_daemon || return
			continue
		fi
		case $rc in
		0)  echo "PASS $name (${secs}s)"; pass=$((pass + 1)) ;;
		77) echo "SKIP $name: $(tail -n 1 "$tmp/out")"; skip=$((skip + 1)) ;;
		*)  echo "FAIL $name (exit $rc, ${secs}s)"
		    tail -n 40 "$tmp/out" | sed 's/^/    /'
		    fail=$((fail + 1)) ;;
		esac
	done
	stop_daemon
	if grep -q -E 'AddressSanitizer|runtime error:|LeakSanitizer' "$tmp/netmapd.log"; then
		echo "FAIL ${label}netmapd: sanitizer report in its log"
		grep -A 20 -E 'AddressSanitizer|runtime error:|LeakSanitizer' "$tmp/netmapd.log" | head -40
		fail=$((fail + 1))
	fi
	rm -rf "$tmp"
	tmp=
}

nbuilds=$(echo $builds | wc -w)
for b in $builds; do
	label=
	[ "$nbuilds" -gt 1 ] && label="[$(basename "$b")] "
	run_pass "$b"
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]

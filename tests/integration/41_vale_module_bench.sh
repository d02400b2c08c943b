#!/usr/bin/env bash
# 41_vale_module_bench.sh - bench/vale-modules.sh still runs end to end.
#
# Test objective: the module benchmark (part of `make bench`) must not rot
# between the times someone runs it: in its quick mode (one ~1 s run per
# scenario) it exits 0 and gives a figure for the built-in bridge, the
# bridge as a module and the L3 module, each checked to have run the
# logic it names, and the two ratios against the built-in.  Speed itself
# is not judged here.
#
# Operations: bench/vale-modules.sh --quick, bounded to 150 s (it starts
# and stops a private netmapd of its own); parse its RESULT and RATIO
# lines.
set -u
root=$(pwd)
BUILD=${BUILD:-$root/build}
for f in "$BUILD/bench/vale_pair" "$BUILD/vale-modules/learn.so" "$BUILD/vale-modules/l3fwd.so"; do
	[ -e "$f" ] || { echo "$f not built"; exit 77; }
done
tmp=$(mktemp -d /tmp/unetmap-41b.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
BUILD=$BUILD timeout -k 3 -s TERM 150 "$root/bench/vale-modules.sh" --quick >"$tmp/out" 2>"$tmp/err"
rc=$?
fail=0
if [ $rc -ne 0 ]; then
	echo "FAIL: bench/vale-modules.sh --quick exited with $rc"
	tail -n 20 "$tmp/err"
	fail=1
fi
for id in $("$root/bench/vale-modules.sh" --list); do
	if grep -q -E "^RESULT $id Mpps [0-9.]+ " "$tmp/out"; then
		echo "ok: $(grep "^RESULT $id " "$tmp/out")"
	else
		echo "FAIL: no figure for $id: $(grep -E "^(FAIL|RESULT) $id" "$tmp/out")"
		fail=1
	fi
done
for id in learn-60 l3fwd-60; do
	grep -q -E "^RATIO $id/builtin-60 [0-9.]+ " "$tmp/out" || { echo "FAIL: no ratio for $id"; fail=1; }
done
exit $fail

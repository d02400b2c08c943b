#!/usr/bin/env bash
# 90_bench_quick.sh - the benchmark harness still runs end to end.
#
# Test objective: `make bench` must not rot between the times someone runs
# it.  Run bench/run.sh in its quick mode (one ~1 s run per scenario) and
# check that the results file it writes has a row for every scenario, each
# with a figure or a reasoned skip (a peer that is not installed), never a
# failure or an empty cell.  Speed itself is not judged here.
#
# Operations:
#   1. skip (77) when pkt-gen is not built;
#   2. bench/run.sh --quick --out TMP, bounded to 55 s; it uses the
#      runner's netmapd through UNETMAP_SOCKET and cleans up after itself;
#   3. for every id of `bench/run.sh --list`: its table row's median cell is
#      a number or "skipped: <reason>";
#   4. the same for bench/nfv.sh --quick (the NFV tools), bounded to 90 s.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$root/build}

if [ ! -x "$BUILD/pkt-gen" ]; then
	echo "skipped: $BUILD/pkt-gen is not built"
	exit 77
fi

tmp=$(mktemp -d /tmp/unetmap-bench-test.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

BUILD=$BUILD timeout -k 3 -s TERM 55 "$root/bench/run.sh" --quick --out "$tmp/results.md" \
	>"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
if [ $rc -ne 0 ]; then
	echo "bench/run.sh --quick exited with $rc"
	tail -n 30 "$tmp/stderr"
	[ -s "$tmp/results.md" ] && cat "$tmp/results.md"
	exit 1
fi
if [ ! -s "$tmp/results.md" ]; then
	echo "bench/run.sh --quick wrote no results file"
	tail -n 30 "$tmp/stderr"
	exit 1
fi

bad=0
for id in $("$root/bench/run.sh" --list); do
	# "| id | what | median | ..." -> the median cell, trimmed.
	cell=$(awk -F'|' -v id="$id" '{ c = $2; gsub(/^ +| +$/, "", c) }
		c == id { m = $4; gsub(/^ +| +$/, "", m); print m; exit }' "$tmp/results.md")
	if [ -z "$cell" ]; then
		echo "FAIL $id: no row in the results"
		bad=1
	elif [[ "$cell" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
		echo "ok   $id: $cell"
	elif [[ "$cell" =~ ^skipped:\ .+ ]]; then
		echo "ok   $id: $cell"
	else
		echo "FAIL $id: $cell"
		bad=1
	fi
done
if [ $bad -ne 0 ]; then
	echo "--- results"
	cat "$tmp/results.md"
	echo "--- bench/run.sh stderr"
	tail -n 30 "$tmp/stderr"
fi

# The NFV tools' benchmark (bench/nfv.sh): same rule, its own table
# ("| id | what | median | ..."), one ~3 s run per scenario.
nfv_bad=0
if [ -x "$root/bench/nfv.sh" ]; then
	BUILD=$BUILD timeout -k 3 -s TERM 90 "$root/bench/nfv.sh" --quick --out "$tmp/nfv.md" \
		>"$tmp/nfv.stdout" 2>"$tmp/nfv.stderr"
	rc=$?
	if [ $rc -ne 0 ] || [ ! -s "$tmp/nfv.md" ]; then
		echo "FAIL bench/nfv.sh --quick exited with $rc"
		nfv_bad=1
	fi
	for id in $("$root/bench/nfv.sh" --list); do
		cell=$(awk -F'|' -v id="$id" '{ c = $2; gsub(/^ +| +$/, "", c) }
			c == id { m = $4; gsub(/^ +| +$/, "", m); print m; exit }' "$tmp/nfv.md" 2>/dev/null)
		if [[ "$cell" =~ ^[0-9]+(\.[0-9]+)?$ ]] || [[ "$cell" =~ ^skipped:\ .+ ]]; then
			echo "ok   $id: $cell"
		else
			echo "FAIL $id: ${cell:-no row in the results}"
			nfv_bad=1
		fi
	done
	if [ $nfv_bad -ne 0 ]; then
		[ -s "$tmp/nfv.md" ] && cat "$tmp/nfv.md"
		tail -n 30 "$tmp/nfv.stderr"
	fi
fi
[ $nfv_bad -eq 0 ] || bad=1
exit $bad

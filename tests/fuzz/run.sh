#!/usr/bin/env bash
# tests/fuzz/run.sh BUILD_DIR - run every fuzz target for FUZZ_SECS seconds
# (default 60) from its seed corpus in tests/fuzz/corpus/<target>/.  New
# inputs go to a scratch directory (the tree's corpus only grows when you
# copy them in); a crash leaves its input in $FUZZ_OUT (default: a
# temporary directory, printed) and makes the exit status 1.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build-fuzz}" && pwd) || exit 2
secs=${FUZZ_SECS:-60}
out=${FUZZ_OUT:-$(mktemp -d /tmp/unetmap-fuzz.XXXXXX)}
mkdir -p "$out"
rc=0
for bin in "$build"/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=${bin##*/}
	target=${name#fuzz_}
	mkdir -p "$out/$target/new"
	echo "fuzz: $target for ${secs}s"
	# one process, ASan's leak check off inside the loop (netmapd keeps
	# its regions on purpose); -rss_limit_mb bounds memory
	if ! ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	    "$bin" -max_total_time="$secs" -rss_limit_mb=3072 -timeout=20 \
	    -artifact_prefix="$out/$target/" -print_final_stats=1 \
	    "$out/$target/new" "$root/tests/fuzz/corpus/$target" >"$out/$target/log" 2>&1; then
		echo "FAIL fuzz_$target: see $out/$target/log and the crash-* input there"
		tail -n 30 "$out/$target/log"
		rc=1
	else
		grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$out/$target/log" | tail -n 2
	fi
done
[ $rc -eq 0 ] && [ -z "${FUZZ_OUT:-}" ] && rm -rf "$out"
exit $rc

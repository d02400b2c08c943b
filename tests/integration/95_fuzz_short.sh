#!/usr/bin/env bash
# Test objective: the fuzz targets (tests/fuzz: netmapd's control protocol
# fed to its request handling in-process, the port-name parsers, the
# library's ring validation) build and run clean from their seed corpus
# for a short, bounded time (FUZZ_SECS each, default 10), so that a
# regression any of them finds within seconds fails the suite.  Longer
# runs: `make fuzz FUZZ_SECS=N` (tests/fuzz/README.md).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -n "${UNETMAP_SAN:-}" ]; then
	echo "the fuzz targets run in the main pass (they carry their own sanitizers)"
	exit 77
fi
if ! command -v clang >/dev/null; then
	echo "clang not installed (scripts/install-deps.sh installs it)"
	exit 77
fi
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}\n' \
	>/tmp/unetmap-95-probe.$$.c
if ! clang -fsanitize=fuzzer /tmp/unetmap-95-probe.$$.c -o /tmp/unetmap-95-probe.$$ 2>/dev/null; then
	rm -f /tmp/unetmap-95-probe.$$*
	echo "clang has no libFuzzer runtime (libclang-rt-14-dev)"
	exit 77
fi
rm -f /tmp/unetmap-95-probe.$$*
make -C "$root" -j2 BUILD=build-fuzz CC=clang FUZZ=1 fuzz-bins >/tmp/unetmap-95-build.$$ 2>&1 ||
	{ tail -n 30 /tmp/unetmap-95-build.$$; rm -f /tmp/unetmap-95-build.$$; echo "FAIL: building the fuzz targets"; exit 1; }
rm -f /tmp/unetmap-95-build.$$
FUZZ_SECS=${FUZZ_SECS:-10} "$root/tests/fuzz/run.sh" "$root/build-fuzz"

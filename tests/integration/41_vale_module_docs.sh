#!/usr/bin/env bash
# 41_vale_module_docs.sh - the guide's example is the shipped module, and
# builds and loads the way the guide says.
#
# Test objective: the C block of docs/vale-modules.md marked "learn.c" is
# examples/vale-modules/learn.c, byte for byte; after `make install
# PREFIX=...`, the guide's command line (cc -O2 -fPIC -shared
# $(pkg-config --cflags libnetmap) learn.c -o learn.so) builds it against
# the installed <unetmap/vale_module.h> with -Wall -Wextra -Werror, the
# installed examples are there, and the module so built loads into a
# switch and forwards a frame.
#
# Operations: extract the block with awk; make install into a private
# prefix; build; copy into a private directory (netmapd loads only
# trusted files); vale-ctl --module; pkt-gen sends one broadcast from
# vale41d:a, and vale-ctl -s shows it delivered to vale41d:b.
set -u
. "$(dirname "$0")/tlib.sh"
root=$(pwd)
BUILD=${BUILD:-$root/build}
CC=${CC:-cc}
tmp=$(mktemp -d /tmp/unetmap-41d.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	"$BUILD/vale-ctl" --module vale41d default >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

awk '/^<!-- learn.c:/ { want = 1; next }
     want && /^```c$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' docs/vale-modules.md >"$tmp/doc-learn.c"
if cmp -s "$tmp/doc-learn.c" examples/vale-modules/learn.c; then
	echo "ok: the guide's example is examples/vale-modules/learn.c"
else
	bad "docs/vale-modules.md's learn.c block differs from the file:"
	diff "$tmp/doc-learn.c" examples/vale-modules/learn.c | head -20
fi

if ! command -v pkg-config >/dev/null 2>&1 || ! command -v "$CC" >/dev/null 2>&1; then
	echo "pkg-config or $CC not installed: the build is not checked"
	[ $fail = 0 ] && exit 77
	exit 1
fi
if ! make -s BUILD="$BUILD" PREFIX="$tmp/prefix" install >"$tmp/install.log" 2>&1; then
	bad "make install failed: $(tail -n 5 "$tmp/install.log")"
	exit 1
fi
for f in include/unetmap/vale_module.h lib/unetmap/vale-modules/learn.so \
	 lib/unetmap/vale-modules/l3fwd.so lib/unetmap/vale-modules/portacl.so; do
	[ -f "$tmp/prefix/$f" ] || bad "make install did not install $f"
done
# shellcheck disable=SC2046 # pkg-config's flags are words
if PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig "$CC" -O2 -fPIC -shared -Wall -Wextra -Werror \
	$(PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig pkg-config --cflags libnetmap) \
	"$tmp/doc-learn.c" -o "$tmp/learn.so" 2>"$tmp/cc.log"; then
	echo "ok: the guide's command line builds it against the installed header"
else
	bad "the guide's example does not build: $(head -n 10 "$tmp/cc.log")"
	exit 1
fi

mkdir -m 755 "$tmp/mods"
install -m 644 "$tmp/learn.so" "$tmp/mods/learn.so"
out=$("$BUILD/vale-ctl" --module vale41d "$tmp/mods/learn.so" 2>&1) || bad "load: $out"
"$BUILD/pkt-gen" -i vale41d:b -f rx -w 1 >"$tmp/rx.log" 2>&1 &
pids+=($!)
for _ in $(seq 400); do
	"$BUILD/vale-ctl" 2>/dev/null | grep -q '^vale41d:b ' && break
	sleep 0.05
done
"$BUILD/pkt-gen" -i vale41d:a -f tx -n 1 -w 1 >"$tmp/tx.log" 2>&1 || bad "pkt-gen tx: $(tail -n 3 "$tmp/tx.log")"
got=0
for _ in $(seq 400); do
	got=$("$BUILD/vale-ctl" -s vale41d:b 2>/dev/null | awk '{ print $3 }')
	[ "${got:-0}" -ge 1 ] && break
	sleep 0.05
done
[ "${got:-0}" -ge 1 ] || bad "nothing reached vale41d:b through the guide's module"
line=$("$BUILD/vale-ctl" --module vale41d)
grep -q "^vale41d module learn forwarded 0 broadcast 1 " <<<"$line" || bad "counters: $line"
[ $fail = 0 ] && echo "ok: the module built from the guide forwards"
exit $fail

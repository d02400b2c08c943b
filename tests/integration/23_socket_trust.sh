#!/usr/bin/env bash
# Test objective: nobody but the user (or root) sits between the user and
# netmapd.  The library talks only to a netmapd of its own uid or root, in
# a directory nobody else controls; netmapd refuses to listen in such a
# directory and says, in words the application prints, why it refuses a
# client of another user.  (Regression: a directory made first by another
# user, mode 0777, was accepted and that user relayed the victim's pipe
# traffic.)
#
# Operations (another user = nobody, through setpriv):
#  1. a socket directory owned by another user and writable by all: the
#     library refuses it before connecting, netmapd refuses to listen there;
#  2. another user's netmapd on a socket in a sticky directory (/tmp-like):
#     the library refuses it by its credentials (SO_PEERCRED);
#  3. a client of another user reaching root's netmapd is told why it is
#     refused, not "Connection reset by peer";
#  4. the default path without XDG_RUNTIME_DIR is a private directory.
set -u
. "$(dirname "$0")/tlib.sh"
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
	echo "needs root and setpriv to act as another user"
	exit 77
fi
tmp=$(mktemp -d /tmp/unetmap-23.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
check() { if eval "$1"; then :; else echo "FAIL: $2"; fail=1; fi; }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
nd="$BUILD/netmapd"
pg="$BUILD/pkt-gen"

# 1. a squatted directory
mkdir "$tmp/squat"
chown 65534:65534 "$tmp/squat"
chmod 777 "$tmp/squat"
UNETMAP_SOCKET="$tmp/squat/netmapd.sock" UNETMAP_NETMAPD="$nd" timeout 20 \
	"$pg" -i "netmap:sq{1" -f tx -n 10 >"$tmp/1.out" 2>&1
check '[ $? -ne 0 ]' "the library refuses a directory another user owns"
check 'grep -q "belongs to uid 65534" "$tmp/1.out"' "and says why (got: $(tail -n 2 "$tmp/1.out" | tr '\n' ' '))"
check '[ ! -e "$tmp/squat/netmapd.sock" ]' "no netmapd was started there"
timeout 10 "$nd" --foreground --socket "$tmp/squat/netmapd.sock" >"$tmp/1d.out" 2>&1
check '[ $? -eq 1 ] && grep -q "refusing to listen" "$tmp/1d.out"' "netmapd refuses to listen in it"
chown 0:0 "$tmp/squat"
timeout 10 "$nd" --foreground --socket "$tmp/squat/netmapd.sock" >"$tmp/1e.out" 2>&1
check 'grep -q "writable by others" "$tmp/1e.out"' "root's but writable by all: refused too"

# 2. another user's server where a socket may legitimately live
mkdir "$tmp/sticky"
chmod 1777 "$tmp/sticky"
# setpriv execs netmapd: $! is netmapd itself, which the cleanup kills
# (a function run with & would leave it to a subshell's child)
setpriv --reuid=65534 --regid=65534 --clear-groups "$nd" --foreground \
	--socket "$tmp/sticky/evil.sock" >"$tmp/2d.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$tmp/sticky/evil.sock" ] && break; sleep 0.05; done
check '[ -S "$tmp/sticky/evil.sock" ]' "nobody's netmapd listens (log: $(tail -n 1 "$tmp/2d.out"))"
chmod 666 "$tmp/sticky/evil.sock" 2>/dev/null
UNETMAP_SOCKET="$tmp/sticky/evil.sock" UNETMAP_NETMAPD=/nonexistent timeout 20 \
	"$pg" -i "netmap:ev{1" -f tx -n 10 >"$tmp/2.out" 2>&1
check '[ $? -ne 0 ]' "root's client refuses nobody's server"
check 'grep -q "runs as uid 65534" "$tmp/2.out"' "and says why (got: $(tail -n 2 "$tmp/2.out" | tr '\n' ' '))"
check '! grep -q "client .* bound" "$tmp/2d.out"' "nothing was registered on the foreign server"

# 3. root's netmapd refuses nobody, in words
"$nd" --foreground --socket "$tmp/sticky/root.sock" >"$tmp/3d.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$tmp/sticky/root.sock" ] && break; sleep 0.05; done
chmod 666 "$tmp/sticky/root.sock"
as_nobody env UNETMAP_SOCKET="$tmp/sticky/root.sock" UNETMAP_NETMAPD=/nonexistent \
	timeout 20 "$pg" -i "netmap:ro{1" -f tx -n 10 >"$tmp/3.out" 2>&1
check '[ $? -ne 0 ]' "nobody cannot use root's netmapd"
check 'grep -q "serves uid 0 and root only, not uid 65534" "$tmp/3.out"' \
	"the refused client is told why (got: $(tail -n 2 "$tmp/3.out" | tr '\n' ' '))"
check '! grep -q "Connection reset" "$tmp/3.out"' "not 'Connection reset by peer'"
check 'grep -q "refusing a client of another user" "$tmp/3d.out"' "netmapd logs the refusal"
check 'kill -0 ${pids[1]}' "root's netmapd still runs"

# 4. default path of an unprivileged user with no XDG_RUNTIME_DIR: a
#    private directory (netmapd makes it 0700), and it works
home=$(as_nobody env -u XDG_RUNTIME_DIR -u UNETMAP_SOCKET sh -c \
	"UNETMAP_NETMAPD=$nd timeout 20 $pg -i null:dflt -f tx -n 1000 -w 0 >/dev/null 2>&1; echo \$?")
dir=/tmp/unetmap-65534
[ -d /run/user/65534 ] && dir=/run/user/65534/unetmap
check '[ "$home" = 0 ]' "nobody's pkt-gen ran with the default socket (rc $home)"
check '[ "$(stat -c %a:%u "$dir" 2>/dev/null)" = 700:65534 ]' \
	"its directory $dir is private ($(stat -c %a:%u "$dir" 2>/dev/null))"
[ -f "$dir/netmapd.sock.lock" ] && kill "$(cat "$dir/netmapd.sock.lock")" 2>/dev/null
for _ in $(seq 100); do [ -S "$dir/netmapd.sock" ] || break; sleep 0.05; done
rm -rf "$dir"

[ $fail -eq 0 ] && echo "23_socket_trust: ok"
exit $fail

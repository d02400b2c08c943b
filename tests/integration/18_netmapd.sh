#!/usr/bin/env bash
# Test objective: netmapd's command line, single instance per socket, idle
# exit, and start on demand by the library (the first open of a port with
# no daemon running starts one, which then serves later opens).
set -u
tmp=$(mktemp -d /tmp/unetmap-18.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	[ -f "$tmp/auto.sock.lock" ] && kill "$(cat "$tmp/auto.sock.lock")" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
check() { if eval "$1"; then :; else echo "FAIL: $2"; fail=1; fi; }

nd="$BUILD/netmapd"
check '"$nd" --help | grep -q -- --foreground' "--help lists the options"
"$nd" --bogus >/dev/null 2>&1; check '[ $? -eq 2 ]' "a bad option exits 2"
check '"$nd" --version | grep -q unetmap' "--version"

# one instance per socket; a second exits 0 at once
"$nd" --foreground --socket "$tmp/a.sock" 2>"$tmp/a.log" & pids+=($!)
for _ in $(seq 100); do [ -S "$tmp/a.sock" ] && break; sleep 0.05; done
check '[ -S "$tmp/a.sock" ]' "foreground netmapd listens"
check '[ "$(cat "$tmp/a.sock.lock")" = "${pids[0]}" ]' "lock file holds the pid"
timeout 5 "$nd" --foreground --socket "$tmp/a.sock" 2>"$tmp/b.log"
check '[ $? -eq 0 ] && grep -q "already serves" "$tmp/b.log"' "second instance exits 0"
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null
check '[ ! -e "$tmp/a.sock" ]' "socket removed on exit"

# idle exit
"$nd" --foreground --idle-exit 1 --socket "$tmp/i.sock" 2>"$tmp/i.log" & ip=$!; pids+=($ip)
sleep 3
check '! kill -0 $ip 2>/dev/null' "idle netmapd exits by itself"
check 'grep -q "idle for 1 s" "$tmp/i.log"' "idle exit is logged"

# start on demand: no daemon on this socket, a port open starts one
if [ -x "$BUILD/pkt-gen" ]; then
	UNETMAP_SOCKET="$tmp/auto.sock" timeout 20 "$BUILD/pkt-gen" -i null:auto -f tx -n 100000 -w 0 \
		>"$tmp/pg.out" 2>&1
	check '[ $? -eq 0 ]' "pkt-gen on a fresh socket ran (started netmapd on demand)"
	check '[ -S "$tmp/auto.sock" ]' "on-demand netmapd listens"
	apid=$(cat "$tmp/auto.sock.lock" 2>/dev/null)
	check '[ -n "$apid" ] && kill -0 "$apid"' "on-demand netmapd runs detached (pid $apid)"
	check 'grep -q "listening on $tmp/auto.sock (detached)" "$tmp/auto.sock.log"' "it logs beside its socket"
	kill "$apid" 2>/dev/null
else
	echo "pkt-gen not built: on-demand start not checked here (14_hostile_peer and every C test start netmapd on demand only through the runner)"
fi
[ $fail -eq 0 ] && echo "18_netmapd: ok"
exit $fail

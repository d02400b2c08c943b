#!/usr/bin/env bash
# Test objective: the static guest builds (make guest) run inside a TCG
# guest with no shared libraries: pkt-gen starts netmapd on demand there,
# and frames cross a pipe and a VALE switch, as on the host.  (Static
# executables reach libc through libnetmap's system-call fallback,
# lib/libc_raw.c, since dlsym(RTLD_NEXT) finds nothing in them.)
# Operations: boot a guest with netmapd and pkt-gen; pkt-gen rx and tx on
# the two ends of netmap:g{1 / g}1, then on vale0:a / vale0:b; check the
# receivers' counts (all 20000 through the pipe; VALE may drop when the
# receiver falls behind, as netmap's does, so some of them there).
set -u
. "$(dirname "$0")/tlib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
fail=0
check() { if eval "$1"; then :; else echo "FAIL: $2"; fail=1; fi; }
guest_setup 72

cat >"$tmp/run.sh" <<'EOF'
#!/bin/sh
# $1 $2: receiver and sender ports, $3 more sender options
pair() {
	timeout 30 ./pkt-gen -i "$1" -f rx -n 20000 >rx.log 2>&1 &
	rx=$!
	sleep 1
	timeout 30 ./pkt-gen -i "$2" -f tx -n 20000 -l 60 $3 >tx.log 2>&1
	echo "TX $2 exit $?"
	wait $rx
	echo "RX $1 exit $? $(grep -o 'Received [0-9]* packets' rx.log)"
}
pair 'netmap:g}1' 'netmap:g{1'
# VALE drops what a full receive ring cannot take, as netmap's does: a
# 50 kpps sender, and at least some frames must arrive
pair 'vale0:b' 'vale0:a' '-R 50000'
ls /run/unetmap/ 2>/dev/null | sed 's/^/RUNDIR /'
EOF
"$root/scripts/vm/run-guest.sh" --timeout 120 --log "$tmp/console.log" --pidfile "$tmp/qpid" \
	--add "$g/netmapd" --add "$g/pkt-gen" "$tmp/run.sh" >"$tmp/out" 2>&1
rc=$?
tr -d '\r' <"$tmp/console.log" | grep -E '^(TX|RX|RUNDIR)' | sed 's/^/    /'
check '[ $rc -eq 0 ]' "the guest script ran (run-guest.sh exit $rc)"
check 'grep -q "^RX netmap:g}1 exit 0 Received 20000 packets" "$tmp/console.log"' \
	"20000 frames crossed a pipe in the guest"
vale_rx=$(sed -n 's/^RX vale0:b exit [0-9]* Received \([0-9]*\) packets.*/\1/p' \
	"$tmp/console.log" | tr -d '\r')
check '[ "${vale_rx:-0}" -ge 1000 ]' "frames crossed a VALE switch in the guest (${vale_rx:-0} of 20000)"
check 'grep -q "^RUNDIR netmapd.sock" "$tmp/console.log"' "netmapd was started on demand"

[ $fail -eq 0 ] && echo "72_vm_guest_tools: ok"
exit $fail

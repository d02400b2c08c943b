#!/usr/bin/env bash
# 59_vale_two_switches.sh - a persistent VALE port attached to two
# switches links them, with netmap's rules (its tests 009-011).
#
# Test objective: persistent port v0 can be attached to a second switch,
# not twice to the same one nor to a third; while attached it cannot be
# removed, and it must be detached from the second switch first; it
# cannot be created twice.  Attached to switches A and B, it carries
# frames between them both ways (netmap wraps it: what A delivers to v0
# enters B as sent by port B:v0, and the reverse), and nobody else may
# open it meanwhile; detached from B, it is an ordinary port of A again.
#
# Operations (vale-ctl and pkt-gen against the runner's netmapd):
#   1. netmap's 009: -n, -r ok; -n, -a A; -r EBUSY; -a B; -r EBUSY;
#      -d B; -r EBUSY; -d A; -r ok;
#   2. netmap's 010 and 011: -n twice EEXIST (also while attached to A,
#      and to A and B); -a A twice EBUSY; -a B ok; -a C EBUSY; -d A while
#      on B EBUSY; the listing shows A:v0 and B:v0;
#   3. 1000 broadcast frames sent on A:s reach B:r through v0, exactly
#      (fewer than a ring holds: no drop is possible), and 1000 sent on
#      B:s reach A:r; netmap:v0 and A:v0 cannot be opened (EBUSY);
#   4. -d B, -d A, -r: v0 and both switches are gone, and netmap:v0 can
#      be opened once more before the -r.
set -u
V="$BUILD/vale-ctl"
PG="$BUILD/pkt-gen"
A=vale59a
B=vale59b
C=vale59c
P=v59
tmp=$(mktemp -d /tmp/unetmap-59.XXXXXX)
pids=()
fail=0

cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	"$V" -d "$B:$P" >/dev/null 2>&1
	"$V" -d "$C:$P" >/dev/null 2>&1
	"$V" -d "$A:$P" >/dev/null 2>&1
	"$V" -r "$P" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2"; fail=1; cat "$tmp/err" 2>/dev/null; fi; }
vc() { "$V" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }
busy() { [ $rc -eq 1 ] && grep -q "Device or resource busy" "$tmp/err"; }

if [ ! -x "$V" ] || [ ! -x "$PG" ] || [ ! -x "$BUILD/nm-bridge" ]; then
	echo "skipped: vale-ctl, pkt-gen or nm-bridge missing in $BUILD"
	exit 77
fi

# 1. netmap's 009_persistent_vale_port_destroy
vc -n $P; check '[ $rc -eq 0 ]' "009: create"
vc -r $P; check '[ $rc -eq 0 ]' "009: destroy an unattached port"
vc -n $P; check '[ $rc -eq 0 ]' "009: create again"
vc -a $A:$P; check '[ $rc -eq 0 ]' "009: attach to A"
vc -r $P; check 'busy' "009: destroy while on A: EBUSY"
vc -a $B:$P; check '[ $rc -eq 0 ]' "009: attach to B as well"
vc -r $P; check 'busy' "009: destroy while on A and B: EBUSY"
vc -d $B:$P; check '[ $rc -eq 0 ]' "009: detach from B"
vc -r $P; check 'busy' "009: destroy while still on A: EBUSY"
vc -d $A:$P; check '[ $rc -eq 0 ]' "009: detach from A"
vc -r $P; check '[ $rc -eq 0 ]' "009: destroy once detached"

# 2. netmap's 010_persistent_vale_port_double_attach and 011_..._double_create
vc -n $P; check '[ $rc -eq 0 ]' "011: create"
vc -n $P; check '[ $rc -eq 1 ] && grep -q "File exists" "$tmp/err"' "011: create twice: EEXIST"
vc -a $A:$P; check '[ $rc -eq 0 ]' "010: attach to A"
vc -n $P; check '[ $rc -eq 1 ] && grep -q "File exists" "$tmp/err"' "011: create while on A: EEXIST"
vc -a $A:$P; check 'busy' "010: attach to A twice: EBUSY"
vc -a $B:$P -v; check '[ $rc -eq 0 ] && grep -q "^port_index: " "$tmp/out"' "010: attach to B"
vc -n $P; check '[ $rc -eq 1 ] && grep -q "File exists" "$tmp/err"' "011: create while on A and B: EEXIST"
vc -a $C:$P; check 'busy' "a third switch: EBUSY"
vc -a $B:$P; check 'busy' "attach to B twice: EBUSY"
vc -d $A:$P; check 'busy' "detach from A while on B: EBUSY (B first)"
vc; check 'grep -q "^$A:$P bridge_idx" "$tmp/out" && grep -q "^$B:$P bridge_idx" "$tmp/out"' \
	"listed on both switches"

# 3. frames cross from A to B and from B to A through v0
cross() {	# from to
	local rxp
	bg_rx() { timeout 20 "$PG" -i "$1" -f rx -n 1000 -w 0 >"$tmp/rx" 2>&1 & rxp=$!; pids+=($rxp); }
	bg_rx "$2:r"
	for _ in $(seq 100); do grep -q Ready "$tmp/rx" 2>/dev/null && break; sleep 0.05; done
	# let the forwarder bind both sides before the first frame
	sleep 0.3
	timeout 20 "$PG" -i "$1:s" -f tx -n 1000 -l 60 -w 0 >"$tmp/tx" 2>&1
	wait $rxp
	check 'grep -q "^Received 1000 packets" "$tmp/rx"' "1000 frames from $1:s reach $2:r through $P"
}
cross $A $B
cross $B $A
vc -s $B:$P; check 'grep -q "^$B:$P rx_pkts [1-9]" "$tmp/out"' "-s counts on $B:$P"
timeout 10 "$PG" -i "netmap:$P" -f tx -n 1 -w 0 >"$tmp/o1" 2>&1
check '[ $? -ne 0 ] && grep -q "busy" "$tmp/o1"' "netmap:$P cannot be opened while it links two switches"
timeout 10 "$PG" -i "$A:$P" -f tx -n 1 -w 0 >"$tmp/o2" 2>&1
check '[ $? -ne 0 ] && grep -q "busy" "$tmp/o2"' "$A:$P cannot be opened either"

# 4. back to one switch, then none
vc -d $B:$P; check '[ $rc -eq 0 ]' "detach from B"
vc; check '! grep -q "^$B:" "$tmp/out" && grep -q "^$A:$P " "$tmp/out"' "B went away with its last port"
timeout 10 "$PG" -i "netmap:$P" -f tx -n 10 -w 0 >"$tmp/o3" 2>&1
check '[ $? -eq 0 ]' "netmap:$P opens again once on one switch"
vc -d $A:$P; check '[ $rc -eq 0 ]' "detach from A"
vc -r $P; check '[ $rc -eq 0 ]' "destroy"
vc; check '! grep -q "^$A:" "$tmp/out"' "A went away too"
exit $fail

#!/usr/bin/env bash
# 40_vale_persist - persistent VALE ports and vale-ctl.
#
# Test objective: vale-ctl's options, output, error messages and exit
# statuses are netmap's (-n/-r/-a/-d/-l/-g/-p and the listing), plus our
# counters (-s); a persistent port survives its users, is reachable as
# netmap:NAME and, once attached, as valeX:NAME; it cannot be removed
# while attached or in use; names of system interfaces are refused;
# attaching a NIC says it is not supported yet; ephemeral ports vanish with
# their last user and a switch with its last port; netmapd does not exit
# on idle while a persistent port exists.  (Attaching network interfaces
# is tested by 56_nic_vale.sh, in namespaces: this test never attaches an
# interface of the host.)
#
# Operations: vale-ctl against the runner's netmapd; pkt-gen for traffic;
# a private netmapd with --idle-exit 1 for the idle check.  Everything
# started here is killed by pid, and the ports removed, on exit.
set -u
V="$BUILD/vale-ctl"
PG="$BUILD/pkt-gen"
sw=vale40p
P=v40p
tmp=$(mktemp -d /tmp/unetmap-40p.XXXXXX)
pids=()
fail=0

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	"$V" -d "$sw:$P" >/dev/null 2>&1
	"$V" -r "$P" >/dev/null 2>&1
	"$V" -r v40q >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2"; fail=1; fi; }
# run vale-ctl, keeping its output and status
vc() { "$V" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }

if [ ! -x "$V" ]; then echo "no vale-ctl in $BUILD"; exit 77; fi

vc; check '[ $rc -eq 1 ]' "listing exits 1, as netmap's vale-ctl"
vc -n "$P"; check '[ $rc -eq 0 ]' "-n creates a persistent port"
vc -n "$P"; check '[ $rc -eq 1 ] && grep -qx "failed to create $P: File exists" "$tmp/err"' \
	"-n of an existing port: netmap's message"
vc -n lo; check '[ $rc -eq 1 ] && grep -qx "failed to create lo: File exists" "$tmp/err"' \
	"-n of a system interface name"
vc -n vale9; check '[ $rc -eq 1 ] && grep -qx "failed to create vale9: Invalid argument" "$tmp/err"' \
	"-n of a VALE name"
vc -n v40q -C 512,256,2,1 -v
check '[ $rc -eq 0 ] && grep -qx "tx_slots:   512" "$tmp/out" && grep -qx "rx_slots:   256" "$tmp/out" &&
	grep -qx "tx_rings:   2" "$tmp/out" && grep -qx "rx_ring:    1" "$tmp/out"' "-n -C -v"
vc -g v40q; check '[ $rc -eq 0 ] && grep -qx "rx_rings    1" "$tmp/out" && grep -qx "tx_slots:   512" "$tmp/out"' \
	"-g prints netmap's format"
vc -r v40q; check '[ $rc -eq 0 ]' "-r removes an unused port"

vc -a "$sw:$P" -v; check '[ $rc -eq 0 ] && grep -qx "port_index: 0" "$tmp/out"' "-a -v"
vc; check '[ $rc -eq 1 ] && grep -qx "$sw:$P bridge_idx [0-9]* port_idx 0" "$tmp/out"' "listed after -a"
vc -l "$sw:$P"; check '[ $rc -eq 0 ] && grep -qx "port_idx:   0" "$tmp/out"' "-l"
vc -l "$sw:nothere"; check '[ $rc -eq 0 ] && grep -qx "port_idx:   255" "$tmp/out"' "-l of a missing port: 255"
vc -l foo; check '[ $rc -eq 1 ] && grep -q "invalid vale port name" "$tmp/err"' "-l needs a vale name"
vc -r "$P"; check '[ $rc -eq 1 ] && grep -qx "failed to remove $P: Device or resource busy" "$tmp/err"' \
	"-r while attached: EBUSY"
vc -a "$sw:$P"; check '[ $rc -eq 1 ] && grep -qx "failed to attach $sw:$P: Device or resource busy" "$tmp/err"' \
	"-a twice: EBUSY"
vc -a "vale40q:$P"; check '[ $rc -eq 0 ]' "-a to a second switch links the two (59_vale_two_switches)"
vc -d "vale40q:$P"; check '[ $rc -eq 0 ]' "-d from the second switch"
vc -a "$sw:nosuch40"; check '[ $rc -eq 1 ] && grep -q "No such device or address" "$tmp/err"' "-a of nothing: ENXIO"
vc -p "$sw:$P"; check '[ $rc -eq 1 ] && grep -qx "failed to enable polling on $sw:$P: Operation not supported" "$tmp/err"' \
	"-p on a VALE port: EOPNOTSUPP"
vc -P "$sw:$P" -C 0,0; check '[ $rc -eq 1 ] && grep -q "failed to disable polling on" "$tmp/err"' "-P"
vc -v; check '[ $rc -eq 1 ] && grep -q Usage "$tmp/err"' "no action: usage, exit 1"
vc -l "$sw:$P" extra; check '[ $rc -eq 1 ]' "extra argument: exit 1"

if [ -x "$PG" ]; then
	# traffic through the attached port (500 frames fit its 1023 slots)
	timeout 20 "$PG" -i "$sw:$P" -f rx -n 500 -w 0 >"$tmp/rx" 2>&1 & rxp=$!; pids+=($rxp)
	for _ in $(seq 100); do "$V" -l "$sw:$P" >/dev/null 2>&1; sleep 0.02; grep -q Ready "$tmp/rx" && break; done
	timeout 20 "$PG" -i "$sw:e1" -f tx -n 500 -w 0 >"$tmp/tx" 2>&1
	check '[ $? -eq 0 ]' "pkt-gen sends through an ephemeral port"
	wait $rxp; rc=$?
	check '[ $rc -eq 0 ]' "pkt-gen on the persistent port received 500 frames"
	vc -s "$sw:$P"
	check 'grep -qx "$sw:$P rx_pkts 500 rx_bytes 30000 rx_drops 0 tx_pkts 0 tx_bytes 0 tx_drops 0 errors 0" "$tmp/out"' \
		"-s counters of the persistent port"
	vc; check '! grep -q "$sw:e1" "$tmp/out" && grep -q "$sw:$P" "$tmp/out"' \
		"the ephemeral port left with its user, the persistent one stayed"
	# netmap:NAME is the same port
	timeout 20 "$PG" -i "netmap:$P" -f tx -n 100 -w 0 >"$tmp/tx2" 2>&1
	vc -s "$P"; check 'grep -q "^$P rx_pkts 500 .* tx_pkts 100 " "$tmp/out"' "netmap:$P opens the same port"
	vc -s "$sw"; check 'grep -q "^$sw:$P rx_pkts 500" "$tmp/out"' "-s of a whole switch"
else
	echo "note: no pkt-gen, traffic part skipped"
fi

vc -d "$sw:$P" -v; check '[ $rc -eq 0 ] && grep -qx "port_index: 0" "$tmp/out"' "-d -v"
vc; check '! grep -q "^$sw:" "$tmp/out"' "the switch went away with its last port"
vc -l "$sw:$P"; check '[ $rc -eq 1 ] && grep -qx "failed to list $sw:$P: No such file or directory" "$tmp/err"' \
	"-l of a switch that is gone"
if [ -x "$PG" ]; then
	timeout 20 "$PG" -i "$sw:$P" -f tx -n 10 -w 0 >"$tmp/tx3" 2>&1
	check '[ $? -ne 0 ]' "valeX:NAME of a detached persistent port cannot be opened"
	timeout 20 "$PG" -i "netmap:$P" -f tx -n 100 -w 0 >"$tmp/tx4" 2>&1
	vc -s "$P"; check 'grep -q " tx_drops 100 " "$tmp/out"' "a port in no switch drops what it sends"
fi
vc -d "$sw:$P"; check '[ $rc -eq 1 ]' "-d twice fails"
vc -r "$P"; check '[ $rc -eq 0 ]' "-r after -d"
vc -r "$P"; check '[ $rc -eq 1 ] && grep -qx "failed to remove $P: No such device or address" "$tmp/err"' \
	"-r of nothing: ENXIO"

# a persistent port keeps an idle netmapd alive
sock="$tmp/idle.sock"
"$BUILD/netmapd" --foreground --idle-exit 1 --socket "$sock" 2>"$tmp/idle.log" & np=$!; pids+=($np)
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
UNETMAP_SOCKET="$sock" "$V" -n v40idle
sleep 2.5
check 'kill -0 $np 2>/dev/null' "netmapd stays while a persistent port exists"
UNETMAP_SOCKET="$sock" "$V" -r v40idle
for _ in $(seq 60); do kill -0 $np 2>/dev/null || break; sleep 0.1; done
check '! kill -0 $np 2>/dev/null' "and exits when idle once it is removed"

exit $fail

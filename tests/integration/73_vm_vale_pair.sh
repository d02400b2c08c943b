#!/usr/bin/env bash
# Test objective: two guests, each with a VALE port of the same host
# switch passed through, exchange traffic through the host's switch, one
# of them without interrupts (no IOMMU in that guest: its netmapd says so
# and falls back to polling, and traffic still flows).
# Operations (the switch is valept76<pid>):
#   1. export valeP:a to guest A (q35 + intel-iommu: MSI-X through
#      vfio-pci) and valeP:b to guest B (no IOMMU: polling);
#   2. B boots first and waits with pkt-gen rxseq on valeP:b; A boots,
#      starts its own receiver on valeP:a, then sends 5000 frames at
#      5 kpps (txseq); B, done receiving, sends 5000 back the same way;
#   3. each guest received the other's 5000 in order, every frame either
#      arriving or counted by the switch as dropped on a full ring (as
#      netmap's VALE drops; vale-ctl -s); B's netmapd logged that it polls,
#      and why.
set -u
. "$(dirname "$0")/tlib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
B=${BUILD:-$root/build}
pids=()
V=valept76$$
fail=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2"; fail=1; fi; }
guest_setup 73v

"$B/nm-vm" export -s "$tmp/a.sock" -n vm76a "$V:a" >"$tmp/e.out" 2>&1 &&
"$B/nm-vm" export -s "$tmp/b.sock" -n vm76b "$V:b" >>"$tmp/e.out" 2>&1 ||
	{ cat "$tmp/e.out"; echo "FAIL: exports"; exit 1; }

summary='grep -E -o "(Sent|Received) [0-9]+ packets|[0-9]+ sequence gaps, [0-9]+ out of order" $1 | tr "\n" " "'
cat >"$tmp/b.sh" <<EOF
#!/bin/sh
sum() { $summary; }
./pkt-gen -i '$V:b' -f rxseq -n 5000 >rx.log 2>&1 &
r=\$!
sleep 1
echo READY-B
wait \$r
echo "B-RX exit \$? \$(sum rx.log)"
sleep 1
./pkt-gen -i '$V:b' -f txseq -n 5000 -l 60 -R 5000 >tx.log 2>&1
echo "B-TX exit \$? \$(sum tx.log)"
grep -E 'polling|passthrough' /run/unetmap/netmapd.sock.log | sed 's/^/NMD /'
EOF
cat >"$tmp/a.sh" <<EOF
#!/bin/sh
sum() { $summary; }
./pkt-gen -i '$V:a' -f rxseq -n 5000 >rx.log 2>&1 &
r=\$!
sleep 1
./pkt-gen -i '$V:a' -f txseq -n 5000 -l 60 -R 5000 >tx.log 2>&1
echo "A-TX exit \$? \$(sum tx.log)"
wait \$r
echo "A-RX exit \$? \$(sum rx.log)"
sleep 3
EOF
"$root/scripts/vm/run-guest.sh" --timeout 200 --log "$tmp/b.log" --pidfile "$tmp/b.qpid" \
	--add "$g/netmapd" --add "$g/pkt-gen" "$tmp/b.sh" -- \
	-chardev "socket,id=b,path=$tmp/b.sock" -device ivshmem-doorbell,chardev=b,vectors=2 \
	>"$tmp/b.out" 2>&1 &
bpid=$!; pids+=($bpid)
if wait_for "$tmp/b.log" '^READY-B' 120; then
	"$root/scripts/vm/run-guest.sh" --timeout 150 --log "$tmp/a.log" --pidfile "$tmp/a.qpid" \
		--add "$g/netmapd" --add "$g/pkt-gen" --append intel_iommu=on "$tmp/a.sh" -- \
		-device intel-iommu \
		-chardev "socket,id=a,path=$tmp/a.sock" -device ivshmem-doorbell,chardev=a,vectors=2 \
		>"$tmp/a.out" 2>&1 &
	apid=$!; pids+=($apid)
	# each receiving port's counters, while its guest still holds it
	wait_for "$tmp/b.log" '^B-RX' 120 && "$B/vale-ctl" -s "$V:b" >"$tmp/st-b.out" 2>&1
	wait_for "$tmp/a.log" '^A-RX' 120 && "$B/vale-ctl" -s "$V:a" >"$tmp/st-a.out" 2>&1
	wait_pid $apid 150
	arc=$wstatus
else
	echo "FAIL: guest B never got ready"; fail=1; arc=1
fi
wait_pid $bpid 120
brc=$wstatus
tr -d '\r' <"$tmp/a.log" | grep -E '^A-' | sed 's/^/    guest A: /'
tr -d '\r' <"$tmp/b.log" | grep -E '^(B-|NMD)' | sed 's/^/    guest B: /'
a() { tr -d '\r' <"$tmp/a.log" | grep -q -E "$1"; }
b() { tr -d '\r' <"$tmp/b.log" | grep -q -E "$1"; }
check '[ $arc -eq 0 ] && [ $brc -eq 0 ]' "both guests ran their scripts (exit $arc, $brc)"
check 'b "^NMD .*falling back to polling" && b "^NMD .*passthrough.*polling every 1 ms"' \
	"guest B, without an IOMMU, polls and its netmapd says so"
# received, out of order, dropped by the switch on the receiving port
acct() {	# LOG LINE-PREFIX STATS
	local line r o d
	line=$(tr -d '\r' <"$1" | grep -E "^$2")
	r=$(echo "$line" | grep -E -o 'Received [0-9]+' | grep -o '[0-9]*')
	o=$(echo "$line" | grep -E -o '[0-9]+ out of order' | grep -o '^[0-9]*')
	d=$(sed -n 's/.* rx_drops \([0-9]*\) .*/\1/p' "$3" 2>/dev/null)
	echo "${r:-0} ${o:-0} ${d:-0}"
}
read -r rb ob db <<<"$(acct "$tmp/b.log" B-RX "$tmp/st-b.out")"
read -r ra oa da <<<"$(acct "$tmp/a.log" A-RX "$tmp/st-a.out")"
echo "    A -> B: $rb received, $db dropped by the switch; B -> A: $ra received, $da dropped"
check 'a "^A-TX exit 0 Sent 5000 packets" && [ "$ob" -eq 0 ] && [ $((rb + db)) -eq 5000 ]' \
	"A -> B: 5000 frames in order, each received or counted dropped"
check 'b "^B-TX exit 0 Sent 5000 packets" && [ "$oa" -eq 0 ] && [ $((ra + da)) -eq 5000 ]' \
	"B -> A: 5000 frames in order, each received or counted dropped"
check '[ -z "$("$B/nm-vm" list)" ]' "both exports ended with their guests"
[ $fail -eq 0 ] && echo "73_vm_vale_pair: ok"
exit $fail

#!/usr/bin/env bash
# Test objective: a guest that dies mid-transfer (QEMU killed) releases
# what was passed through to it like a dead client: the host side sees
# it, the names can be used again, netmapd keeps serving.
# Operations (names carry the prefix pt74<pid>):
#   1. export pipe end P}1 and VALE port valeP:g to guest A; on the host,
#      pkt-gen sends on P{1 without end (UNETMAP_PEER_HUP=1) and receives
#      on valeP:h; in A, pkt-gen receives on P}1 and sends on valeP:g;
#   2. once frames flow both ways, QEMU is killed (SIGKILL, by pid);
#   3. netmapd ends both exports at once (nm-vm list is empty), its log
#      says the guest went away, the host sender is told the other end of
#      its pipe is gone (and waits, as it should), both host pkt-gens live;
#   4. P}1 is exported again for the same guest name (the pipe lives on:
#      its host end is still open) and guest B receives 2000 frames from
#      the very same host sender; exporting it for another name is
#      refused (EPERM: the region stays sealed for its guest);
#   5. with the host programs gone, P}1 and valeP:g open on the host.
set -u
. "$(dirname "$0")/tlib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
B=${BUILD:-$root/build}
pids=()
P=pt74$$
V=vale$P
fail=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2"; fail=1; fi; }
guest_setup 74
# netmapd's log: the test runner's, or where one started on demand logs
nmdlog=
if [ -n "${UNETMAP_SOCKET:-}" ]; then
	for f in "${UNETMAP_SOCKET%.sock}.log" "$UNETMAP_SOCKET.log"; do
		[ -f "$f" ] && nmdlog=$f && break
	done
fi

"$B/nm-vm" export -s "$tmp/a.sock" -n vm74 "$P}1" >"$tmp/e1.out" 2>&1 &&
"$B/nm-vm" export -s "$tmp/v.sock" -n vm74v "$V:g" >>"$tmp/e1.out" 2>&1 ||
	{ cat "$tmp/e1.out"; echo "FAIL: exports"; exit 1; }

UNETMAP_PEER_HUP=1 "$B/pkt-gen" -i "netmap:$P{1" -f tx -l 60 >"$tmp/htx.out" 2>&1 &
htx=$!; pids+=($htx)
"$B/pkt-gen" -i "$V:h" -f rx >"$tmp/hrx.out" 2>&1 &
hrx=$!; pids+=($hrx)

cat >"$tmp/a.sh" <<EOF
#!/bin/sh
./pkt-gen -i 'netmap:$P}1' -f rx >rx.log 2>&1 &
./pkt-gen -i '$V:g' -f tx -l 60 -R 20000 >tx.log 2>&1 &
sleep 2
echo "FLOWING \$(grep -c pps rx.log) \$(grep -c pps tx.log)"
sleep 1000
EOF
"$root/scripts/vm/run-guest.sh" --timeout 120 --log "$tmp/a.log" --pidfile "$tmp/a.qpid" \
	--add "$g/netmapd" --add "$g/pkt-gen" --append intel_iommu=on "$tmp/a.sh" -- \
	-device intel-iommu \
	-chardev "socket,id=a,path=$tmp/a.sock" -device ivshmem-doorbell,chardev=a,vectors=2 \
	-chardev "socket,id=v,path=$tmp/v.sock" -device ivshmem-doorbell,chardev=v,vectors=2 \
	>"$tmp/a.out" 2>&1 &
apid=$!; pids+=($apid)
check 'wait_for "$tmp/a.log" "^FLOWING" 90' "guest A runs its pkt-gens"
sleep 2
# frames must be moving: the host's counters grow
c1=$(grep -c 'pps' "$tmp/hrx.out"); s1=$(grep -E -o '[0-9.]+ [KM]?pps' "$tmp/htx.out" | tail -n 1)
echo "    before the kill: host sender at ${s1:-?}; host VALE receiver $(grep -E -o '[0-9.]+ [KM]?pps' "$tmp/hrx.out" | tail -n 1)"
check '"$B/nm-vm" list | grep -q "connected.*$P}1"' "the pipe export is connected"

kill -KILL "$(cat "$tmp/a.qpid")"
killed=$(date +%s.%N)
ended=0
for _ in $(seq 100); do
	if [ -z "$("$B/nm-vm" list 2>/dev/null)" ]; then ended=1; break; fi
	sleep 0.05
done
echo "    exports gone $(printf '%.2f' "$(echo "$(date +%s.%N) - $killed" | bc)") s after the kill"
check '[ $ended -eq 1 ]' "netmapd ended both exports when QEMU died"
[ -n "$nmdlog" ] && check 'grep -q "export $tmp/a.sock (vm74): ended, the guest went away" "$nmdlog"' \
	"netmapd's log says the guest went away"
check 'wait_for "$tmp/htx.out" "other end of .* is closed" 10' "the host sender sees its peer gone"
check 'kill -0 $htx && kill -0 $hrx' "the host pkt-gens live on"

# 4: the same pipe end, again, for another guest of the same name
check '"$B/nm-vm" export -s "$tmp/c.sock" -n other74 "$P}1" >"$tmp/e3.out" 2>&1; [ $? -eq 1 ] &&
	grep -q "sealed for vm74" "$tmp/e3.out"' "another guest name is refused (region sealed for vm74)"
check '"$B/nm-vm" export -s "$tmp/b.sock" -n vm74 "$P}1" >"$tmp/e2.out" 2>&1' \
	"$P}1 is exported again for vm74"
cat >"$tmp/b.sh" <<EOF
#!/bin/sh
./pkt-gen -i 'netmap:$P}1' -f rx -n 2000 >rx.log 2>&1
echo "RX exit \$? \$(grep -o 'Received [0-9]* packets' rx.log)"
EOF
"$root/scripts/vm/run-guest.sh" --timeout 120 --log "$tmp/b.log" --pidfile "$tmp/b.qpid" \
	--add "$g/netmapd" --add "$g/pkt-gen" --append intel_iommu=on "$tmp/b.sh" -- \
	-device intel-iommu \
	-chardev "socket,id=b,path=$tmp/b.sock" -device ivshmem-doorbell,chardev=b,vectors=2 \
	>"$tmp/b.out" 2>&1
brc=$?
tr -d '\r' <"$tmp/b.log" | grep '^RX' | sed 's/^/    guest B: /'
check '[ $brc -eq 0 ] && grep -q "^RX exit 0 Received 2000 packets" "$tmp/b.log"' \
	"guest B received 2000 frames from the same host sender"
check 'kill -0 $htx' "the host sender survived both guests"

# 5: everything released
kill -INT $htx $hrx 2>/dev/null
wait_pid $htx 10; rc1=$wstatus
wait_pid $hrx 10; rc2=$wstatus
check '[ $rc1 -lt 128 ] && [ $rc2 -lt 128 ]' "the host pkt-gens stop cleanly (exit $rc1, $rc2)"
for _ in $(seq 40); do [ -z "$("$B/nm-vm" list 2>/dev/null)" ] && break; sleep 0.05; done
check '[ -z "$("$B/nm-vm" list)" ]' "no export is left"
timeout 10 "$B/pkt-gen" -i "netmap:$P}1" -f rx -n 1 >"$tmp/o1.out" 2>&1 &
o1=$!
timeout 10 "$B/pkt-gen" -i "$V:g" -f rx -n 1 >"$tmp/o2.out" 2>&1 &
o2=$!
sleep 1
check 'kill -0 $o1 && kill -0 $o2' "$P}1 and $V:g open on the host (their receivers wait)"
kill $o1 $o2 2>/dev/null; wait $o1 $o2 2>/dev/null
[ $fail -eq 0 ] && echo "74_vm_kill: ok"
exit $fail

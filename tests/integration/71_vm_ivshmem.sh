#!/usr/bin/env bash
# Test objective: a host memfd reaches a real QEMU guest (TCG) as
# ivshmem-doorbell memory, served by netmapd's ivshmem server, and the
# guest uses it with netmapd's guest module, no driver of its own:
# tests/vm/ivshmem_host on the host, tests/vm/ivshmem_guest (static) inside.
# Operations:
#   - guest A (q35 + intel-iommu, vfio-pci): reads the host's pattern and
#     writes a reply the host checks; its doorbell reaches the host's
#     eventfd; it sleeps on MSI-X vector 1 until the host's kick, which
#     comes 1 s later, burning next to no CPU meanwhile (measured in the
#     guest); 50 doorbell/vector round trips; then it holds;
#   - a garbage-sending client on the same socket is dropped; A is
#     undisturbed;
#   - guest B (no IOMMU) runs beside A: vfio is unavailable, the module
#     says so and falls back to polling, and the same exchange works; B
#     powers off and the host sees it leave;
#   - A's QEMU is killed (SIGKILL, by pid): the host sees it leave and
#     keeps serving.
# Boot time and round-trip times are printed, not asserted.
set -u
. "$(dirname "$0")/tlib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
pids=()
fail=0
check() { if eval "$1"; then :; else echo "FAIL: $2"; fail=1; fi; }
# the guest image (cached) and the static guest programs
guest_setup 71
gbin=$root/build-guest/tests/vm/ivshmem_guest
vm=$BUILD/tests/vm
sock=$tmp/ivs.sock

"$vm/ivshmem_host" -s "$sock" -v 2 -d 1000 >"$tmp/host.out" 2>"$tmp/host.err" &
hpid=$!; pids+=($hpid)
wait_for "$tmp/host.out" '^READY' 5 || { echo "host did not start"; cat "$tmp/host.err"; exit 1; }

ivshmem=(-chardev "socket,id=ivs,path=$sock" -device ivshmem-doorbell,chardev=ivs,vectors=2)

cat >"$tmp/a.sh" <<'EOF'
#!/bin/sh
echo "GUEST UPTIME $(cut -d' ' -f1 /proc/uptime)"
exec ./ivshmem_guest --need-irq --pings 50 --min-sleep-ms 500 --hold
EOF
start=$(date +%s.%N)
"$root/scripts/vm/run-guest.sh" --timeout 90 --log "$tmp/a.log" --pidfile "$tmp/a.qpid" \
	--add "$gbin" --append intel_iommu=on "$tmp/a.sh" -- \
	-device intel-iommu "${ivshmem[@]}" >"$tmp/a.out" 2>&1 &
apid=$!; pids+=($apid)
check 'wait_for "$tmp/a.log" "^GUEST (HOLD|FAIL)" 60' "guest A ran its exchange"
grep -E '^GUEST|netmapd' "$tmp/a.log" | tr -d '\r' | sed 's/^/    A: /'
check 'grep -q "^GUEST OPEN .* mode irq vectors 2" "$tmp/a.log"' "A got MSI-X vectors through vfio"
check 'grep -q "^GUEST PATTERN ok" "$tmp/a.log"' "A read the host's pattern"
check 'grep -q "^CHECK 1 ok" "$tmp/host.out"' "the host found A's reply right"
check 'grep -q "^KICK 1 1" "$tmp/host.out"' "the host kicked A's vector 1"
check 'grep -q "^GUEST WOKE verdict 1" "$tmp/a.log"' "A woke on the kick and saw the verdict"
check 'grep -q "^GUEST PINGS 50 " "$tmp/a.log" && grep -q "^PINGS 1 49 " "$tmp/host.out"' \
	"50 doorbell/vector round trips"
check 'grep -q "^GUEST PASSED" "$tmp/a.log"' "every check inside A held"
boot=$(sed -n 's/^GUEST UPTIME //p' "$tmp/a.log" | tr -d '\r')
echo "    guest A reached its script after ${boot:-?} s of guest time;" \
	"$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)") s wall until it held"

# garbage on the socket while A is connected
"$vm/ivshmem_client" -s "$sock" -G -t 5 >"$tmp/g.out" 2>&1
check 'grep -q "^CLOSED\|^REFUSED" "$tmp/g.out"' "a garbage sender is dropped"

cat >"$tmp/b.sh" <<'EOF'
#!/bin/sh
./ivshmem_guest --pings 10
EOF
"$root/scripts/vm/run-guest.sh" --timeout 90 --log "$tmp/b.log" --pidfile "$tmp/b.qpid" \
	--add "$gbin" "$tmp/b.sh" -- "${ivshmem[@]}" >"$tmp/b.out" 2>&1
brc=$?
grep -E '^GUEST|netmapd' "$tmp/b.log" | tr -d '\r' | sed 's/^/    B: /'
check '[ $brc -eq 0 ]' "guest B's program passed (run-guest.sh exit $brc)"
check 'grep -q "falling back to polling" "$tmp/b.log"' "B said it falls back to polling"
check 'grep -q "^GUEST OPEN .* mode poll" "$tmp/b.log"' "B is polling"
bid=$(sed -n 's/^GUEST OPEN .* id \([0-9]*\) .*/\1/p' "$tmp/b.log" | tr -d '\r')
check '[ -n "$bid" ] && [ "$bid" != 1 ]' "B has a peer id of its own (${bid:-none})"
check 'grep -q "^CHECK $bid ok" "$tmp/host.out" && grep -q "^DONE $bid" "$tmp/host.out"' \
	"the host checked B's reply and saw it finish"
check 'wait_for "$tmp/host.out" "^LEAVE $bid\$" 10' "B's power-off is seen as leaving"
check '! grep -q "^LEAVE 1\$" "$tmp/host.out"' "A is still there"

kill -KILL "$(cat "$tmp/a.qpid")"
check 'wait_for "$tmp/host.out" "^LEAVE 1\$" 10' "killing A's QEMU is seen as leaving"
wait_pid "$apid" 10
check '[ "$wstatus" -eq 125 ]' "run-guest.sh reports the killed guest (exit $wstatus)"
check 'kill -0 $hpid' "the server survived"
"$vm/ivshmem_client" -s "$sock" -t 0.5 >"$tmp/c.out" 2>&1
check 'grep -q "^SELF" "$tmp/c.out"' "and still serves"
grep '^PINGS' "$tmp/host.out" | sed 's/^PINGS \([0-9]*\) \([0-9]*\) \([0-9]*\) \([0-9]*\) \([0-9]*\)/    host: peer \1: \2 ring-to-ring turnarounds, avg \3 us, min \4, max \5/'
kill "$hpid"; wait "$hpid"
check '[ $? -eq 0 ] && grep -q "^STOPPED" "$tmp/host.out"' "the server stops cleanly"
check '! grep -q -E "AddressSanitizer|runtime error|LeakSanitizer" "$tmp/host.err"' \
	"no sanitizer report"

[ $fail -eq 0 ] && echo "71_vm_ivshmem: ok"
exit $fail

#!/usr/bin/env bash
# Test objective: host ports passed through to a QEMU guest (TCG, stock
# QEMU, no guest driver) work there with the plain netmap API, zero copy,
# in both directions: a pipe end and a VALE port exported by netmapd
# (nm-vm export), found by the guest's own netmapd under their host
# names, driven by unmodified pkt-gen and nm-filter.
# Operations (pipe and switch names carry the prefix pt73<pid>):
#   host: export pipe ends P}1 and P}2 (one region) on one socket and VALE
#   port valeP:g on another; the guest boots with both ivshmem-doorbell
#   devices (q35, intel-iommu, MSI-X through vfio-pci);
#   1. guest pkt-gen txseq 20000 frames on P}2 -> host rxseq on P{2:
#      exactly 20000, no gap, no reordering;
#   2. host txseq 20000 on P{1 -> guest rxseq on P}1: exactly 20000, in
#      order;
#   3. the guest blocks in poll() on P}1 with no traffic; the host sends 2 s
#      later: the guest wakes (MSI-X) with the frames, having used next to
#      no CPU meanwhile (< 10% of the wait, measured in the guest);
#   4. nm-filter in the guest between P}1 and P}2 (zero copy: one
#      region), rule "drop dport 1235"; the host sends 1000 frames
#      alternating dports 1234/1235: the host receives exactly 500 (its
#      receiver counts until a second passes without frames), and the
#      filter's counters say 1000 received, 500 forwarded, 500 dropped;
#   5. VALE: guest txseq 10000 on valeP:g -> host rxseq on valeP:h, and
#      host txseq 10000 on valeP:h -> guest rxseq on valeP:g, at 10 kpps:
#      nothing arrives out of order, and every frame is accounted for:
#      received, or dropped by the switch because the receiver's ring was
#      full (netmap's VALE drops then too; a TCG guest, or a sanitized
#      host receiver, on a busy host may fall behind for a while), as the
#      switch's counters (vale-ctl -s) say;
#   6. when the guest powers off, both exports end (nm-vm list is empty)
#      and the names can be opened on the host again.
set -u
. "$(dirname "$0")/tlib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
B=${BUILD:-$root/build}
pids=()
P=pt73$$
V=vale${P}
fail=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2"; fail=1; fi; }
guest_setup 73

"$B/nm-vm" export -s "$tmp/p.sock" -n vm73 "$P}1" "$P}2" >"$tmp/exp1.out" 2>&1 ||
	{ cat "$tmp/exp1.out"; echo "FAIL: export of the pipe ends"; exit 1; }
"$B/nm-vm" export -s "$tmp/v.sock" -n vm73v "$V:g" >"$tmp/exp2.out" 2>&1 ||
	{ cat "$tmp/exp2.out"; echo "FAIL: export of the VALE port"; exit 1; }
sed 's/^/    /' "$tmp/exp1.out" "$tmp/exp2.out"

# host receivers that must be there before the guest sends (1, 5)
timeout 120 "$B/pkt-gen" -i "netmap:$P{2" -f rxseq -n 20000 >"$tmp/h1.out" 2>&1 &
h1=$!; pids+=($h1)
timeout 120 "$B/pkt-gen" -i "$V:h" -f rxseq -n 10000 >"$tmp/h5.out" 2>&1 &
h5=$!; pids+=($h5)

cat >"$tmp/run.sh" <<EOF
#!/bin/sh
P='$P'; V='$V'
EOF
cat >>"$tmp/run.sh" <<'EOF'
pg() { timeout 60 ./pkt-gen "$@"; }
summary() { grep -E -o '(Sent|Received) [0-9]+ packets|[0-9]+ sequence gaps, [0-9]+ out of order' "$1" | tr '\n' ' '; }
echo "GUEST UP $(cut -d' ' -f1 /proc/uptime)"
pg -i "netmap:$P}2" -f txseq -n 20000 -l 60 >t1.log 2>&1
echo "STEP1 exit $? $(summary t1.log)"
pg -i "netmap:$P}1" -f rxseq -n 20000 >t2.log 2>&1 &
r2=$!
sleep 1
echo "READY2"
wait $r2
echo "STEP2 exit $? $(summary t2.log)"
./app_wait -t 30 -s 0 "netmap:$P}1" >t3.log 2>&1 &
w3=$!
while ! grep -q WAITING t3.log; do sleep 0.1; done
echo "READY3"
wait $w3
echo "STEP3 exit $? $(grep -E '^(WOKE|TIMEOUT|FAIL)' t3.log)"
./nm-filter -i "netmap:$P}1" -i "netmap:$P}2" drop dport 1235 >t4.log 2>&1 &
f4=$!
while ! grep -q 'zerocopy' t4.log; do sleep 0.1; done
echo "READY4 $(grep -o 'zerocopy [a-z]*' t4.log)"
# until the 1000 frames went through (at most 30 s), then stop it
i=0
while [ $i -lt 60 ] && ! grep -q 'ext->int: 1000 received' t4.log; do
	kill -USR1 $f4; sleep 0.5; i=$((i + 1))
done
kill -INT $f4
wait $f4
echo "STEP4 $(grep -E 'ext->int:' t4.log | tail -n 1)"
pg -i "$V:g" -f txseq -n 10000 -l 60 -R 10000 >t5.log 2>&1
echo "STEP5a exit $? $(summary t5.log)"
pg -i "$V:g" -f rxseq -n 10000 >t6.log 2>&1 &
r6=$!
sleep 1
echo "READY5"
wait $r6
echo "STEP5b exit $? $(summary t6.log)"
# the host reads the switch's counters of this port meanwhile
sleep 3
grep -E 'passthrough|polling|vfio' /run/unetmap/netmapd.sock.log | sed 's/^/NMD /'
EOF
"$root/scripts/vm/run-guest.sh" --timeout 240 --log "$tmp/console.log" --pidfile "$tmp/qpid" \
	--add "$g/netmapd" --add "$g/pkt-gen" --add "$g/nm-filter" \
	--add "$g/tests/vm/app_wait" --append intel_iommu=on "$tmp/run.sh" -- \
	-device intel-iommu \
	-chardev "socket,id=p,path=$tmp/p.sock" -device ivshmem-doorbell,chardev=p,vectors=4 \
	-chardev "socket,id=v,path=$tmp/v.sock" -device ivshmem-doorbell,chardev=v,vectors=2 \
	>"$tmp/guest.out" 2>&1 &
gpid=$!; pids+=($gpid)

con=$tmp/console.log
# 2: host -> guest, once the guest listens
if wait_for "$con" '^READY2' 120; then
	timeout 60 "$B/pkt-gen" -i "netmap:$P{1" -f txseq -n 20000 -l 60 >"$tmp/h2.out" 2>&1
else
	echo "FAIL: the guest never got to step 2"; fail=1
fi
# 3: one burst, 2 s after the guest went to sleep
if wait_for "$con" '^READY3' 60; then
	sleep 2
	timeout 30 "$B/pkt-gen" -i "netmap:$P{1" -f tx -n 64 -l 60 >"$tmp/h3.out" 2>&1
fi
# 4: mixed traffic through the guest's filter
if wait_for "$con" '^READY4' 60; then
	# no -n, -W: it counts until a second passes without frames
	timeout 60 "$B/pkt-gen" -i "netmap:$P{2" -f rx -W >"$tmp/h4r.out" 2>&1 &
	h4=$!; pids+=($h4)
	sleep 0.5
	timeout 30 "$B/pkt-gen" -i "netmap:$P{1" -f tx -n 1000 -l 60 -w 0 \
		-d 10.1.0.1:1234-10.1.0.1:1235 >"$tmp/h4t.out" 2>&1
	wait_pid $h4 30
	h4rc=$wstatus
fi
# 5a: the receiver's port counters, while it is still open (it closes
# once all came, or after a second without frames)
if wait_for "$con" '^STEP5a' 90; then
	"$B/vale-ctl" -s "$V:h" >"$tmp/st5a.out" 2>&1
fi
# 5b: host -> guest through the switch
if wait_for "$con" '^READY5' 60; then
	timeout 60 "$B/pkt-gen" -i "$V:h" -f txseq -n 10000 -l 60 -R 10000 \
		>"$tmp/h6.out" 2>&1
fi
if wait_for "$con" '^STEP5b' 60; then
	"$B/vale-ctl" -s "$V:g" >"$tmp/st5b.out" 2>&1
fi
wait_pid $gpid 120
grc=$wstatus
wait_pid $h1 30; h1rc=$wstatus
wait_pid $h5 30

tr -d '\r' <"$con" | grep -E '^(GUEST|STEP|READY|NMD)' | sed 's/^/    guest: /'
c() { tr -d '\r' <"$con" | grep -E "$1"; }
hsum() { grep -E -o 'Received [0-9]+ packets|[0-9]+ sequence gaps' "$1" | tr '\n' ' '; }
echo "    host: 1 $(hsum "$tmp/h1.out")| 4 $(hsum "$tmp/h4r.out")| 5 $(hsum "$tmp/h5.out")"
check '[ "$grc" -eq 0 ]' "the guest ran its script (run-guest.sh exit $grc)"
check 'c "^NMD.*passthrough.*$P}1 .*MSI-X" >/dev/null' "the guest's netmapd offers $P}1 with MSI-X wake-ups"
check 'c "^STEP1 exit 0 Sent 20000 packets" >/dev/null' "step 1: the guest sent 20000 frames"
check '[ "$h1rc" -eq 0 ] && grep -q "Received 20000 packets" "$tmp/h1.out" && ! grep -q "sequence gaps" "$tmp/h1.out"' \
	"step 1: the host received all 20000, in order"
check 'c "^STEP2 exit 0 Received 20000 packets" >/dev/null && ! c "^STEP2.*gaps" >/dev/null' \
	"step 2: the guest received all 20000 of the host's, in order"
woke=$(c '^STEP3' | sed -n 's/.*WOKE ms \([0-9]*\) cpu_ms \([0-9.]*\) frames \([0-9]*\).*/\1 \2 \3/p')
read -r w_ms w_cpu w_frames <<<"${woke:-0 0 0}"
echo "    step 3: slept ${w_ms} ms, ${w_cpu} ms of CPU, woke with ${w_frames} frames"
check '[ "${w_frames:-0}" -gt 0 ] && [ "${w_ms:-0}" -ge 1500 ]' "step 3: the guest slept until the host's frames came"
check '[ "$(echo "${w_cpu:-9999} < ${w_ms:-0} / 10" | bc)" = 1 ]' \
	"step 3: the wait cost under 10% of a CPU (no busy loop)"
check 'c "^READY4 zerocopy enabled" >/dev/null' "step 4: nm-filter swaps buffers (one region)"
check '[ "${h4rc:-1}" -eq 0 ] && grep -q "Received 500 packets" "$tmp/h4r.out"' \
	"step 4: the host received exactly the 500 frames the rule lets through"
check 'c "^STEP4.*1000 received 500 forwarded 500 dropped" >/dev/null' \
	"step 4: the filter counted 1000 in, 500 forwarded, 500 dropped"
# frames that arrived, out of order, and dropped by the switch (ring full);
# "" for the drops when the port was gone before its counters were read
# (its receiver had them all and left)
got() { grep -E -o 'Received [0-9]+ packets' "$1" | tail -n 1 | grep -o '[0-9]*'; }
ooo() { grep -E -o '[0-9]+ out of order' "$1" | tail -n 1 | grep -o '^[0-9]*'; }
drops() { sed -n 's/.* rx_drops \([0-9]*\) .*/\1/p' "$1" 2>/dev/null; }
c "^STEP5b" | sed 's/^STEP5b exit [0-9]* //' >"$tmp/g6.out"
r5=$(got "$tmp/h5.out"); o5=$(ooo "$tmp/h5.out"); d5=$(drops "$tmp/st5a.out")
r6=$(got "$tmp/g6.out"); o6=$(ooo "$tmp/g6.out"); d6=$(drops "$tmp/st5b.out")
echo "    step 5: guest->host ${r5:-0} received, ${d5:-?} dropped by the switch;" \
	"host->guest ${r6:-0} received, ${d6:-?} dropped"
check 'c "^STEP5a exit 0 Sent 10000 packets" >/dev/null && [ "${o5:-0}" -eq 0 ] &&
	[ $((${r5:-0} + ${d5:-0})) -eq 10000 ]' \
	"step 5: guest -> host through the switch, 10000 in order, each received or counted dropped"
check 'grep -q "Sent 10000 packets" "$tmp/h6.out" && [ "${o6:-0}" -eq 0 ] &&
	[ $((${r6:-0} + ${d6:-0})) -eq 10000 ]' \
	"step 5: host -> guest through the switch, 10000 in order, each received or counted dropped"
check '[ -z "$("$B/nm-vm" list)" ]' "both exports ended with the guest"
timeout 10 "$B/pkt-gen" -i "netmap:$P}1" -f tx -n 1 >"$tmp/re.out" 2>&1 &
rp=$!
sleep 1
check 'kill -0 $rp 2>/dev/null || grep -q "Sent 1 packets" "$tmp/re.out"' "$P}1 opens on the host again"
kill $rp 2>/dev/null; wait $rp 2>/dev/null
[ $fail -eq 0 ] && echo "73_vm_passthrough: ok"
exit $fail

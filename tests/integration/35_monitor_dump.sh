#!/usr/bin/env bash
# 35_monitor_dump.sh - nm-dump on monitor ports, read back by tcpdump and
# tshark; what a monitor loses is counted and listed.
#
# Test objective: nm-dump capturing from a monitor of another program's
# port writes every frame that port exchanged, with a BPF expression
# applied exactly as tcpdump applies it, while the monitored programs
# exchange every frame; the summary tells the port's sent frames from its
# received ones; a monitor that falls behind loses frames, and nm-dump's
# summary and vale-ctl -M say how many, with mirrored + lost = sent.
#
# Operations (pipe names carry the prefix mond<pid>):
#   1. pkt-gen rx on P}1; nm-dump on P}1/r (all frames, -c 3000) and on
#      P}1/r with "udp dst port 1234", both with 4096-slot rings (the
#      sender is not slowed down for them: a monitor never holds the
#      monitored port back, so its ring must hold a whole burst); pkt-gen tx 3000 frames to 3 UDP
#      ports on P{1: the receiver gets 3000, tcpdump and tshark read 3000
#      from the full capture, the filtered one has exactly 1000, all to
#      port 1234 (as tcpdump's filter on the full one), summaries say
#      "0 tx 3000 rx" and "monitor lost 0";
#   2. pkt-gen tx on P{2 (it binds, then waits 4 s), nm-dump on P{2/t
#      as soon as P{2 is bound: 2000 frames, "2000 tx 0 rx", tshark reads
#      2000;
#   3. nm-dump on P}3/r stopped (SIGSTOP) while 20000 frames pass, then
#      resumed: it saw + lost = 20000, lost > 0, and vale-ctl -M P}3 shows
#      the same drops.
set -u
B=${BUILD:-build}
for t in nm-dump pkt-gen vale-ctl; do
	[ -x "$B/$t" ] || { echo "skipped: $B/$t is not built"; exit 77; }
done
for t in tcpdump tshark; do
	command -v $t >/dev/null || { echo "skipped: $t is not installed (scripts/install-deps.sh)"; exit 77; }
done

tmp=$(mktemp -d /tmp/unetmap-35d.XXXXXX) || exit 1
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
check() { if eval "$1"; then ok "$2"; else bad "$2"; fi; }
. "$(dirname "$0")/tlib.sh"	# wait_for, wait_pid
. "$(dirname "$0")/nfv_lib.sh"	# settle

P="mond$$"
count() { tcpdump -r "$1" ${2:+"$2"} 2>/dev/null | wc -l; }

# ---------------------------------------------- 1. RX monitor, BPF filter
"$B/pkt-gen" -i "netmap:$P}1" -f rx -n 3000 -w 0 >"$tmp/rx1.out" 2>&1 &
r=$!; pids+=($r)
wait_for "$tmp/rx1.out" "Ready|receiver_body|Receiving" 10 || sleep 1
"$B/nm-dump" -i "netmap:$P}1/r@conf:rx-slots=4096" -w "$tmp/all.pcap" -c 3000 -q >"$tmp/d1.out" 2>&1 &
d1=$!; pids+=($d1)
"$B/nm-dump" -i "netmap:$P}1/r@conf:rx-slots=4096" -w "$tmp/flt.pcap" udp dst port 1234 >"$tmp/d2.out" 2>&1 &
d2=$!; pids+=($d2)
wait_for "$tmp/d1.out" '^nm-dump: capturing' 10 && wait_for "$tmp/d2.out" '^nm-dump: capturing' 10 ||
	bad "nm-dump did not start on the monitors"
timeout 30 "$B/pkt-gen" -i "netmap:$P{1" -f tx -n 3000 -w 0 -s 10.0.0.1:1000 \
	-d 10.1.0.1:1234-10.1.0.1:1236 >"$tmp/tx1.out" 2>&1
wait_pid $r 20
check 'grep -q "^Received 3000 packets" "$tmp/rx1.out"' "the monitored receiver got all 3000 frames"
wait_pid $d1 20
check '[ $wstatus -eq 0 ]' "nm-dump -c 3000 on the monitor exits 0 by itself (status $wstatus)"
settle "$tmp/d2.out"
kill -INT $d2
wait_pid $d2 10
check 'grep -q "^nm-dump: total 3000 seen, 3000 matched, 3000 written.*, 0 tx 3000 rx, monitor lost 0 (0 ring full, 0 busy)" "$tmp/d1.out"' \
	"summary: 3000 received frames, nothing lost"
check '[ "$(count "$tmp/all.pcap")" -eq 3000 ]' "tcpdump reads 3000 frames"
check '[ "$(tshark -r "$tmp/all.pcap" 2>/dev/null | wc -l)" -eq 3000 ]' "tshark reads 3000 frames"
check 'grep -q "^nm-dump: total 3000 seen, 1000 matched, 1000 written" "$tmp/d2.out"' \
	"the filter kept 1000 of 3000"
check '[ "$(count "$tmp/flt.pcap")" -eq 1000 ]' "the filtered capture has 1000 frames"
check '[ "$(count "$tmp/flt.pcap" "udp dst port 1234")" -eq 1000 ]' "all of them to port 1234"
check '[ "$(count "$tmp/all.pcap" "udp dst port 1234")" -eq 1000 ]' \
	"tcpdump's filter on the full capture agrees"
check '[ "$(tshark -r "$tmp/flt.pcap" -Y "udp.dstport == 1234" 2>/dev/null | wc -l)" -eq 1000 ]' \
	"tshark agrees"
[ $fail -ne 0 ] && cat "$tmp/d1.out" "$tmp/d2.out" "$tmp/rx1.out"

# ------------------------------------------------------- 2. TX monitor
"$B/pkt-gen" -i "netmap:$P}2" -f rx -n 2000 -w 0 >"$tmp/rx2.out" 2>&1 &
r=$!; pids+=($r)
"$B/pkt-gen" -i "netmap:$P{2" -f tx -n 2000 -w 4 >"$tmp/tx2.out" 2>&1 &
g=$!; pids+=($g)
# the monitor needs P{2 bound: try until it opens (the sender waits 4 s)
d=
for _ in $(seq 60); do
	"$B/nm-dump" -i "netmap:$P{2/t@conf:rx-slots=4096" -w "$tmp/tx.pcap" -c 2000 -q >"$tmp/d3.out" 2>&1 &
	d=$!
	wait_for "$tmp/d3.out" '^nm-dump: (capturing|cannot open)' 5
	if grep -q '^nm-dump: capturing' "$tmp/d3.out"; then
		pids+=($d)
		break
	fi
	wait $d 2>/dev/null
	d=
	sleep 0.05
done
if [ -n "$d" ]; then
	wait_pid $d 30
	check '[ $wstatus -eq 0 ]' "nm-dump on P{2/t got its 2000 frames (status $wstatus)"
	check 'grep -q "^nm-dump: total 2000 seen, 2000 matched, 2000 written.*, 2000 tx 0 rx" "$tmp/d3.out"' \
		"summary: 2000 frames the port sent"
	check '[ "$(tshark -r "$tmp/tx.pcap" 2>/dev/null | wc -l)" -eq 2000 ]' "tshark reads 2000 frames"
else
	bad "the monitor of P{2 never opened"; cat "$tmp/d3.out"
fi
wait_pid $g 20
wait_pid $r 20
check 'grep -q "^Received 2000 packets" "$tmp/rx2.out"' "the monitored receiver got all 2000 frames"

# ------------------------------------------------- 3. a monitor that lags
N=20000
"$B/pkt-gen" -i "netmap:$P}3" -f rx -n $N -w 0 >"$tmp/rx3.out" 2>&1 &
r=$!; pids+=($r)
wait_for "$tmp/rx3.out" "Ready|receiver_body|Receiving" 10 || sleep 1
"$B/nm-dump" -i "netmap:$P}3/r" -q >"$tmp/d4.out" 2>&1 &
d=$!; pids+=($d)
wait_for "$tmp/d4.out" '^nm-dump: capturing' 10 || bad "nm-dump did not start"
kill -STOP $d
timeout 30 "$B/pkt-gen" -i "netmap:$P{3" -f tx -n $N -w 0 >"$tmp/tx3.out" 2>&1
wait_pid $r 20
check 'grep -q "^Received $N packets" "$tmp/rx3.out"' "the monitored receiver got all $N frames"
"$B/vale-ctl" -M "$P}3" >"$tmp/m.out" 2>&1
kill -CONT $d
sleep 0.5
kill -INT $d
wait_pid $d 10
line=$(grep '^nm-dump: total' "$tmp/d4.out")
seen=$(echo "$line" | sed -n 's/^nm-dump: total \([0-9]*\) seen.*/\1/p')
lost=$(echo "$line" | sed -n 's/.*monitor lost \([0-9]*\) (\([0-9]*\) ring full, \([0-9]*\) busy).*/\1/p')
full=$(echo "$line" | sed -n 's/.*monitor lost \([0-9]*\) (\([0-9]*\) ring full, \([0-9]*\) busy).*/\2/p')
check '[ -n "$seen" ] && [ -n "$lost" ] && [ $((seen + lost)) -eq $N ]' \
	"seen $seen + lost $lost = $N"
check '[ -n "$lost" ] && [ "$lost" -gt 0 ] && [ "$full" = "$lost" ]' "the stopped monitor lost frames, ring full"
check 'grep -q -E "^$P}3/r#[0-9]+ parent $P}3 (\(orphaned\) )?pkts $seen drops $lost busy 0" "$tmp/m.out"' \
	"vale-ctl -M: pkts $seen drops $lost"
[ $fail -ne 0 ] && cat "$tmp/d4.out" "$tmp/m.out"

"$B/vale-ctl" -M nosuchport$$ >"$tmp/m2.out" 2>&1
check '[ $? -eq 0 ] && [ ! -s "$tmp/m2.out" ]' "vale-ctl -M of a port without monitors: nothing, exit 0"

[ $fail -eq 0 ] && echo "35_monitor_dump: ok"
exit $fail

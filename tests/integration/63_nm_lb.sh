#!/usr/bin/env bash
# 63_nm_lb.sh - nm-lb splits a port's traffic by flow over zero-copy pipes.
#
# Test objective: every frame of one flow, in either direction, leaves on
# the same output pipe; the outputs add up to the input; the JSON
# statistics lines parse and carry netmap lb's keys and the right counts;
# the exit line is netmap's; a second group receives, through the
# overflow queues, exactly the frames the first group's consumers handed
# back.
#
# Operations (pipe names carry the prefix nfvl<pid>):
#   1. pkt-gen -> nm-dump makes two pcaps of 1600 frames: 16 UDP flows
#      A->B and the same 16 flows B->A;
#   2. nmreplay plays both into P{in; nm-lb -i P}in -p P:3 -o 1; an
#      nm-dump on each P}k; then SIGUSR1 and SIGINT to nm-lb;
#   3. per output: the (unordered) flow keys; no key on two outputs,
#      16 keys in all, outputs sum to 3200 frames;
#   4. jq parses every JSON line; the per-pipe lines have netmap's ten
#      keys, the aggregate line its thirteen; the last aggregate line says
#      3200 received, forwarded, 0 dropped; per-pipe counts equal what each
#      consumer captured; exit line "3200 packets forwarded.  0 packets
#      dropped. Total 3200";
#   5. -p Q:2 -p Q:1 -B 4000: the third pipe gets 3200 frames, the same
#      multiset of frames as the first two together, no drops;
#   6. 1600 frames into a pipe nobody reads yet (it keeps what fits, the
#      rest is dropped), then a reader, then 100 more: all 100 arrive.
# nmreplay copies every frame into its slot, so the zero-copy path here
# does not depend on the sender refilling swapped buffers.
set -u
B=${BUILD:-build}
for t in nm-lb nm-dump nmreplay pkt-gen; do
	[ -x "$B/$t" ] || { echo "skipped: $B/$t is not built"; exit 77; }
done
for t in tcpdump tshark jq; do
	command -v $t >/dev/null || { echo "skipped: $t is not installed (scripts/install-deps.sh)"; exit 77; }
done

tmp=$(mktemp -d /tmp/unetmap-63.XXXXXX) || exit 1
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
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

P="nfvl$$"
stop_pid() { kill -INT "$1" 2>/dev/null; wait_pid "$1" 10; }
# start_dump FILE PORT: nm-dump in the background, pid in $dp
start_dump() {
	"$B/nm-dump" -i "$2" -w "$1" >"$1.out" 2>&1 &
	dp=$!; pids+=($dp)
	wait_for "$1.out" '^nm-dump: capturing' 10 || bad "nm-dump on $2 did not start"
}
nframes() { tcpdump -r "$1" 2>/dev/null | wc -l; }
# flow keys of a capture, the two ends in a fixed order
flows() {
	tshark -r "$1" -T fields -e ip.src -e udp.srcport -e ip.dst -e udp.dstport 2>/dev/null |
		awk '{ a = $1 ":" $2; b = $3 ":" $4; if (a > b) { t = a; a = b; b = t }; print a "-" b }' |
		sort -u
}

# -------------------------------------------------------------- 1. traces
gen() {	# gen FILE ID SRC DST
	start_dump "$1" "netmap:${P}g}$2"
	timeout 30 "$B/pkt-gen" -i "netmap:${P}g{$2" -f tx -n 1600 -w 0 -s "$3" -d "$4" \
		>"$1.tx" 2>&1
	settle "$1.out"
	stop_pid $dp
}
gen "$tmp/fwd.pcap" 1 10.0.0.1:1000-10.0.0.1:1007 10.1.0.1:2000-10.1.0.1:2001
gen "$tmp/rev.pcap" 2 10.1.0.1:2000-10.1.0.1:2001 10.0.0.1:1000-10.0.0.1:1007
check '[ "$(nframes "$tmp/fwd.pcap")" -eq 1600 ] && [ "$(nframes "$tmp/rev.pcap")" -eq 1600 ]' \
	"two traces of 1600 frames"
check '[ "$({ flows "$tmp/fwd.pcap"; flows "$tmp/rev.pcap"; } | sort -u | wc -l)" -eq 16 ]' \
	"16 flows, each in both directions"

# ------------------------------------------------------------- 2. one group
"$B/nm-lb" -i "netmap:$P}in" -p "$P:3" -o 1 -w 0 >"$tmp/lb.out" 2>"$tmp/lb.err" &
lb=$!; pids+=($lb)
wait_for "$tmp/lb.out" '^nm-lb: pipe 2' 10 || bad "nm-lb did not start"
outs=()
for k in 0 1 2; do
	start_dump "$tmp/o$k.pcap" "netmap:$P}$k"
	outs+=($dp)
done
timeout 30 "$B/nmreplay" -f "$tmp/fwd.pcap" -i "netmap:$P{in" -n 1 -q >"$tmp/r1.out" 2>&1
timeout 30 "$B/nmreplay" -f "$tmp/rev.pcap" -i "netmap:$P{in" -n 1 -q >"$tmp/r2.out" 2>&1
settle "$tmp/o0.pcap.out" "$tmp/o1.pcap.out" "$tmp/o2.pcap.out"
wait_for "$tmp/lb.out" 'never' 1	# one more -o 1 line after the traffic
kill -USR1 $lb
sleep 0.3
stop_pid $lb
check '[ $wstatus -eq 0 ]' "nm-lb exits 0 on SIGINT (status $wstatus)"
for p in "${outs[@]}"; do stop_pid "$p"; done

# ------------------------------------------------------------ 3. by flow
total=0 keys=0
for k in 0 1 2; do
	n=$(nframes "$tmp/o$k.pcap")
	flows "$tmp/o$k.pcap" >"$tmp/k$k"
	echo "output $k: $n frames, $(wc -l <"$tmp/k$k") flows"
	total=$((total + n))
	keys=$((keys + $(wc -l <"$tmp/k$k")))
done
check '[ $total -eq 3200 ]' "outputs add up to the input: $total of 3200"
check '[ $keys -eq 16 ] && [ "$(cat "$tmp"/k? | sort -u | wc -l)" -eq 16 ]' \
	"each of the 16 flows (both directions) on exactly one output"
check '[ "$(cat "$tmp"/k? | sort | uniq -d | wc -l)" -eq 0 ]' "no flow split over two outputs"

# ------------------------------------------------------------- 4. stats
grep '^{' "$tmp/lb.out" >"$tmp/json"
check '[ -s "$tmp/json" ] && jq -e . "$tmp/json" >/dev/null' "every JSON line parses"
PIPEKEYS='["data_drop_rate_Mbps","data_forward_rate_Mbps","interface","output_ring","overflow_queue_size","packet_drop_rate_kpps","packet_forward_rate_kpps","packets_dropped","packets_forwarded","ts"]'
AGGKEYS='["data_drop_rate_Mbps","data_forward_rate_Mbps","free_buffer_slots","interface","non_ip_packets","output_ring","packet_drop_rate_kpps","packet_forward_rate_kpps","packets_dropped","packets_forwarded","packets_received","ts"]'
check '[ "$(jq -c "select(.output_ring != null) | keys" "$tmp/json" | sort -u)" = "$PIPEKEYS" ]' \
	"per-pipe lines carry lb's keys"
check '[ "$(jq -c "select(.output_ring == null) | keys" "$tmp/json" | sort -u)" = "$AGGKEYS" ]' \
	"aggregate lines carry lb's keys"
last=$(jq -c 'select(.output_ring == null)' "$tmp/json" | tail -1)
check '[ "$(echo "$last" | jq -r "[.packets_received, .packets_forwarded, .packets_dropped, .non_ip_packets] | @tsv" | tr "\t" " ")" = "3200 3200 0 0" ]' \
	"last aggregate line: 3200 received and forwarded, 0 dropped ($last)"
for k in 0 1 2; do
	n=$(nframes "$tmp/o$k.pcap")
	f=$(jq -r "select(.output_ring == $k) | .packets_forwarded" "$tmp/json" | tail -1)
	check '[ "$f" = "$n" ]' "pipe $k: packets_forwarded $f = frames its consumer got"
done
check 'grep -q "^3200 packets forwarded.  0 packets dropped. Total 3200$" "$tmp/lb.out"' \
	"netmap's exit line"
[ $fail -ne 0 ] && { tail -5 "$tmp/lb.out"; cat "$tmp/lb.err"; }

# -------------------------------------------------------- 5. two groups
Q="nfvq$$"
"$B/nm-lb" -i "netmap:$Q}in" -p "$Q:2" -p "$Q:1" -B 4000 -w 0 >"$tmp/lb2.out" 2>"$tmp/lb2.err" &
lb=$!; pids+=($lb)
wait_for "$tmp/lb2.out" '^nm-lb: pipe 2' 10 || bad "nm-lb (two groups) did not start"
check 'grep -q "4000 extra buffers (asked 4000)" "$tmp/lb2.out"' "-B 4000: 4000 extra buffers"
outs=()
for k in 0 1 2; do
	start_dump "$tmp/q$k.pcap" "netmap:$Q}$k"
	outs+=($dp)
done
timeout 30 "$B/nmreplay" -f "$tmp/fwd.pcap" -i "netmap:$Q{in" -n 1 -q >"$tmp/r3.out" 2>&1
timeout 30 "$B/nmreplay" -f "$tmp/rev.pcap" -i "netmap:$Q{in" -n 1 -q >"$tmp/r4.out" 2>&1
for i in $(seq 50); do
	[ "$(nframes "$tmp/q2.pcap")" -ge 3200 ] && break
	sleep 0.1
done
stop_pid $lb
for p in "${outs[@]}"; do stop_pid "$p"; done
n0=$(nframes "$tmp/q0.pcap"); n1=$(nframes "$tmp/q1.pcap"); n2=$(nframes "$tmp/q2.pcap")
check '[ $((n0 + n1)) -eq 3200 ] && [ $n2 -eq 3200 ]' \
	"group 1: $n0 + $n1 frames, group 2: $n2 (3200 each)"
hexes() { tcpdump -t -nn -x -r "$1" 2>/dev/null | awk '/^IP/ { if (f) print f; f = "" } { f = f $0 } END { print f }'; }
check '[ "$({ hexes "$tmp/q0.pcap"; hexes "$tmp/q1.pcap"; } | sort | md5sum)" = "$(hexes "$tmp/q2.pcap" | sort | md5sum)" ]' \
	"group 2 got the very frames group 1's consumers returned"
check 'grep -q "^6400 packets forwarded.  0 packets dropped. Total 6400$" "$tmp/lb2.out"' \
	"two groups: 6400 forwards, no drops"
[ $fail -ne 0 ] && { tail -5 "$tmp/lb2.out"; cat "$tmp/lb2.err"; }

# --------------------------------------- 6. a full pipe comes back to life
# no reader yet: the pipe fills and the rest is dropped; once a reader
# drains it, new frames must flow again (nm-lb has to keep syncing a full
# pipe to see the room its reader makes)
R="nfvs$$"
"$B/nm-lb" -i "netmap:$R}in" -p "$R:1" -w 0 >"$tmp/lb3.out" 2>"$tmp/lb3.err" &
lb=$!; pids+=($lb)
wait_for "$tmp/lb3.out" '^nm-lb: pipe 0' 10 || bad "nm-lb (full pipe) did not start"
timeout 30 "$B/nmreplay" -f "$tmp/fwd.pcap" -i "netmap:$R{in" -n 1 -q >"$tmp/r5.out" 2>&1
start_dump "$tmp/s0.pcap" "netmap:$R}0"
s0=$dp
wait_for "$tmp/lb3.out" 'never' 1
timeout 30 "$B/nmreplay" -f "$tmp/rev.pcap" -i "netmap:$R{in" -n 1 -c 100 -q >"$tmp/r6.out" 2>&1
for i in $(seq 30); do
	[ "$(tshark -r "$tmp/s0.pcap" -Y "ip.src == 10.1.0.1" 2>/dev/null | wc -l)" -ge 100 ] && break
	sleep 0.2
done
stop_pid $lb
stop_pid $s0
full=$(tshark -r "$tmp/s0.pcap" -Y "ip.src == 10.0.0.1" 2>/dev/null | wc -l)
late=$(tshark -r "$tmp/s0.pcap" -Y "ip.src == 10.1.0.1" 2>/dev/null | wc -l)
check '[ "$full" -gt 0 ] && [ "$full" -lt 1600 ] && [ "$late" -eq 100 ]' \
	"a full pipe: $full of 1600 kept while nobody read, then all 100 later frames arrived"
check 'grep -q "^$((full + 100)) packets forwarded.  $((1600 - full)) packets dropped. Total 1700$" "$tmp/lb3.out"' \
	"and the exit line counts the drops"
[ $fail -ne 0 ] && { tail -3 "$tmp/lb3.out"; cat "$tmp/lb3.err"; }

# -------------------------------------------------------- command line
"$B/nm-lb" -i "netmap:${P}x}in" -p "$P:0" >/dev/null 2>"$tmp/e1"
check '[ $? -eq 1 ] && grep -q "bad -p" "$tmp/e1"' "-p with 0 pipes: exit 1"
"$B/nm-lb" -h >"$tmp/h" 2>&1
check '[ $? -eq 0 ] && grep -q "^usage: nm-lb" "$tmp/h"' "-h: usage, exit 0"

[ $fail -eq 0 ] && echo "63_nm_lb: ok"
exit $fail

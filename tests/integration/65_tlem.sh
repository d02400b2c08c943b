#!/usr/bin/env bash
# 65_tlem.sh - tlem delays, drops and limits as configured, and passes
# everything untouched when nothing is configured.
#
# Test objective: -D 20m on both directions makes a ping-pong RTT of at
# least 40 ms (never less: frames never leave early) and not much more
# (generous upper bound, the machine is shared); -L 0.1 drops a tenth of
# 20000 frames within six standard deviations; -B 1M spreads 1000 frames
# of 1000 bits over about a second, and its default 50000-byte queue
# drops what does not fit; per-direction options apply to their own
# direction; with no impairment every frame arrives, in order, unchanged.
#
# Operations (pipe names carry the prefix nfvt<pid>; tlem runs between
# NAME}1 and NAME{2, the test's programs on NAME{1 and NAME}2):
#   1. pkt-gen ping <-> tlem -D 20m <-> pkt-gen pong, 100 round trips;
#   2. nmreplay of a 1000-frame trace (random lengths) through a plain
#      tlem into nm-dump: tcpdump -x identical;
#   3. NFV_SEED fixed, tlem -L 0.1, pkt-gen sends 20000: received within
#      18000 +- 255 and equal to tlem's own "sent", sent + lost = 20000;
#   4. tlem -B 1M -Q 10m: 1000 frames of 125 bytes all arrive, first to
#      last 0.8..5 s apart (1.0 expected); tlem -B 1M (queue 50000 bytes)
#      with the same burst: some frames dropped at the queue, sent +
#      queue drops = 1000;
#   5. tlem -L 1 -L 0: A->B loses all 100 frames, B->A delivers all 100;
#   6. -r (route mode) is refused with exit 1.
set -u
B=${BUILD:-build}
for t in tlem nm-dump nmreplay pkt-gen; do
	[ -x "$B/$t" ] || { echo "skipped: $B/$t is not built"; exit 77; }
done
for t in tcpdump tshark; do
	command -v $t >/dev/null || { echo "skipped: $t is not installed (scripts/install-deps.sh)"; exit 77; }
done

tmp=$(mktemp -d /tmp/unetmap-65.XXXXXX) || exit 1
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

n=0
stop_pid() { kill -INT "$1" 2>/dev/null; wait_pid "$1" 10; }
nframes() { tcpdump -r "$1" 2>/dev/null | wc -l; }
dump() { tcpdump -t -nn -x -r "$1" 2>/dev/null; }
# start_tlem ARGS...: tlem between a fresh pair of pipes; A=NAME{1 and
# Z=NAME}2 are the outer ends, its output in $TL, pid in $tl
start_tlem() {
	n=$((n + 1))
	local p="nfvt$$x$n"
	A="netmap:$p{1" Z="netmap:$p}2" TL="$tmp/tlem$n.out"
	"$B/tlem" -i "netmap:$p}1" -i "netmap:$p{2" -w 0 "$@" >"$TL" 2>"$TL.err" &
	tl=$!; pids+=($tl)
	wait_for "$TL" '^tlem: B->A' 10 || bad "tlem $n did not start: $(cat "$TL.err")"
}
# start_dump FILE PORT [args]: pid in $dp
start_dump() {
	local f=$1 p=$2
	shift 2
	"$B/nm-dump" -i "$p" -w "$f" -q "$@" >"$f.out" 2>&1 &
	dp=$!; pids+=($dp)
	wait_for "$f.out" '^nm-dump: capturing' 10 || bad "nm-dump on $p did not start"
}

# ---------------------------------------------------------------- 1. delay
start_tlem -D 20m
"$B/pkt-gen" -i "$Z" -f pong -w 0 >"$tmp/pong.out" 2>&1 &
pong=$!; pids+=($pong)
wait_for "$tmp/pong.out" '^Working on' 10 || bad "pong did not start"
timeout 60 "$B/pkt-gen" -i "$A" -f ping -n 100 -R 100 -w 0 >"$tmp/ping.out" 2>&1
read -r rmin ravg <<<"$(sed -n 's/.*RTT over 100 packets: min \([0-9]*\) av \([0-9]*\) ns$/\1 \2/p' "$tmp/ping.out")"
check '[ -n "$rmin" ] && [ "$rmin" -ge 40000000 ]' "-D 20m: no round trip under 40 ms (min ${rmin:-?} ns)"
check '[ -n "$ravg" ] && [ "$ravg" -le 190000000 ]' "-D 20m: average ${ravg:-?} ns, 40 ms expected, 190 ms accepted"
stop_pid $pong
stop_pid $tl
check 'grep -q "^tlem: A->B: 100 received 100 sent 0 lost" "$TL"' "tlem counted 100 frames each way"
[ $fail -ne 0 ] && { tail -5 "$tmp/ping.out"; cat "$TL" "$TL.err"; }

# ------------------------------------------------------ 2. no impairment
start_dump "$tmp/gen.pcap" "netmap:nfvt$$g}1" -c 1000
timeout 30 "$B/pkt-gen" -i "netmap:nfvt$$g{1" -f tx -n 1000 -l 1400 -l 60 -w 0 \
	-s 10.0.0.1:1000-10.0.0.1:1009 >"$tmp/gen.tx" 2>&1
wait_pid $dp 20
start_tlem
start_dump "$tmp/o2.pcap" "$Z" -c 1000
timeout 30 "$B/nmreplay" -f "$tmp/gen.pcap" -i "$A" -n 1 -q >"$tmp/r2.out" 2>&1
wait_pid $dp 20
stop_pid $tl
check '[ "$(nframes "$tmp/o2.pcap")" -eq 1000 ]' "no impairment: 1000 of 1000 frames"
check 'dump "$tmp/gen.pcap" >"$tmp/want"; dump "$tmp/o2.pcap" | cmp -s "$tmp/want" -' \
	"no impairment: every frame unchanged, in order"

# ----------------------------------------------------------------- 3. loss
NFV_SEED=7 start_tlem -L 0.1
"$B/nm-dump" -i "$Z" >"$tmp/cnt.out" 2>&1 &
dp=$!; pids+=($dp)
wait_for "$tmp/cnt.out" '^nm-dump: capturing' 10 || bad "nm-dump did not start"
timeout 60 "$B/pkt-gen" -i "$A" -f tx -n 20000 -w 0 >"$tmp/tx3.out" 2>&1
settle "$tmp/cnt.out"
kill -USR1 $tl
check 'wait_for "$TL" "^tlem: A->B: 20000 received" 5' "SIGUSR1: tlem prints its counters"
stop_pid $tl
stop_pid $dp
got=$(sed -n 's/^nm-dump: total \([0-9]*\) seen.*/\1/p' "$tmp/cnt.out")
read -r rx sent lost <<<"$(sed -n 's/^tlem: A->B: \([0-9]*\) received \([0-9]*\) sent \([0-9]*\) lost.*/\1 \2 \3/p' "$TL")"
check '[ "$rx" = 20000 ] && [ $((sent + lost)) -eq 20000 ]' "-L 0.1: tlem received 20000, sent ${sent:-?} + lost ${lost:-?}"
check '[ -n "$got" ] && [ "$got" -ge 17745 ] && [ "$got" -le 18255 ]' "-L 0.1: ${got:-?} arrived, 18000 +- 255 expected"
check '[ "$got" = "$sent" ]' "the receiver got exactly what tlem sent"

# ------------------------------------------------------- 4. bandwidth, queue
start_dump "$tmp/fixed.pcap" "netmap:nfvt$$f}1" -c 1000
timeout 30 "$B/pkt-gen" -i "netmap:nfvt$$f{1" -f tx -n 1000 -l 125 -w 0 >"$tmp/fx.tx" 2>&1
wait_pid $dp 20
start_tlem -B 1M -Q 10m
start_dump "$tmp/o4.pcap" "$Z" -c 1000
timeout 30 "$B/nmreplay" -f "$tmp/fixed.pcap" -i "$A" -n 1 -q >"$tmp/r4.out" 2>&1
wait_pid $dp 20
stop_pid $tl
span=$(tshark -r "$tmp/o4.pcap" -T fields -e frame.time_relative 2>/dev/null | tail -1)
check '[ "$(nframes "$tmp/o4.pcap")" -eq 1000 ]' "-B 1M -Q 10m: all 1000 frames"
check 'awk -v s="${span:-0}" "BEGIN { exit !(s >= 0.8 && s <= 5) }"' \
	"-B 1M: 1000 x 1000 bits over ${span:-?} s (1.0 expected, 0.8..5 accepted)"
start_tlem -B 1M
"$B/nm-dump" -i "$Z" >"$tmp/cnt4.out" 2>&1 &
dp=$!; pids+=($dp)
wait_for "$tmp/cnt4.out" '^nm-dump: capturing' 10 || bad "nm-dump did not start"
timeout 30 "$B/nmreplay" -f "$tmp/fixed.pcap" -i "$A" -n 1 -q >"$tmp/r4b.out" 2>&1
settle "$tmp/cnt4.out"
stop_pid $tl
stop_pid $dp
read -r rx sent qd <<<"$(sed -n 's/^tlem: A->B: \([0-9]*\) received \([0-9]*\) sent [0-9]* lost \([0-9]*\) queue drops.*/\1 \2 \3/p' "$TL")"
check '[ "$rx" = 1000 ] && [ "${qd:-0}" -gt 0 ] && [ $((sent + qd)) -eq 1000 ]' \
	"-B 1M, 50000-byte queue: ${sent:-?} sent + ${qd:-?} dropped at the queue = 1000"
check '[ "${sent:-0}" -ge 400 ] && [ "${sent:-0}" -le 700 ]' \
	"about 50000 bytes' worth passed (${sent:-?} frames of 125 bytes, 400..700 accepted)"

# ------------------------------------------------------ 5. per direction
start_tlem -L 1 -L 0
"$B/nm-dump" -i "$Z" >"$tmp/c5a.out" 2>&1 &
d1=$!; pids+=($d1)
"$B/nm-dump" -i "$A" >"$tmp/c5b.out" 2>&1 &
d2=$!; pids+=($d2)
wait_for "$tmp/c5a.out" '^nm-dump: capturing' 10 && wait_for "$tmp/c5b.out" '^nm-dump: capturing' 10 ||
	bad "nm-dump did not start"
# the test's two ends also send: pkt-gen opens each end once more
timeout 30 "$B/pkt-gen" -i "$A" -f tx -n 100 -w 0 >"$tmp/tx5a.out" 2>&1
timeout 30 "$B/pkt-gen" -i "$Z" -f tx -n 100 -w 0 >"$tmp/tx5b.out" 2>&1
settle "$tmp/c5a.out" "$tmp/c5b.out"
stop_pid $tl
stop_pid $d1
stop_pid $d2
check 'grep -q "^tlem: A->B: 100 received 0 sent 100 lost" "$TL" && grep -q "^tlem: B->A: 100 received 100 sent 0 lost" "$TL"' \
	"-L 1 -L 0: A->B loses all, B->A none"
check 'grep -q "^nm-dump: total 0 seen" "$tmp/c5a.out" && grep -q "^nm-dump: total 100 seen" "$tmp/c5b.out"' \
	"receivers: 0 on B, 100 on A"
[ $fail -ne 0 ] && cat "$TL" "$tmp/c5a.out" "$tmp/c5b.out" "$tmp/tx5a.out" | tail -20

# ------------------------------------------------------- 6. command line
"$B/tlem" -i "netmap:nfvt$$y}1" -i "netmap:nfvt$$y{2" -r >/dev/null 2>"$tmp/e1"
check '[ $? -eq 1 ] && grep -q "not supported" "$tmp/e1"' "-r: refused, exit 1"
"$B/tlem" -h >"$tmp/h" 2>&1
check '[ $? -eq 0 ] && grep -q "^usage: tlem" "$tmp/h"' "-h: usage, exit 0"

[ $fail -eq 0 ] && echo "65_tlem: ok"
exit $fail

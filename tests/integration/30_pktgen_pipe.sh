#!/usr/bin/env bash
# 30_pktgen_pipe.sh - pkt-gen end to end over a netmap pipe.
#
# Test objective: pkt-gen moves exactly the packets it is asked to, reports
# in netmap pkt-gen's formats, detects sequence gaps, measures RTT, and
# rejects bad command lines.
#
# Operations (pipe names carry our pid, so parallel runs do not collide):
#   1. rx -n 1000000 on pipeP<pid>}1, then tx -n 1000000 on pipeP<pid>{1:
#      both summaries say exactly 1000000 packets; the periodic line and
#      the summary lines have netmap's layout;
#   2. txseq -n 5000 -G 1000 (pkt-gen's own option: skip one sequence
#      number every 1000 packets) into rxseq -n 5000: rxseq prints
#      "Sequence GAP: exp 1000 found 1001";
#   3. pong, then ping -n 3000 -R 2000 (1.5 s of traffic): per-second
#      "count N RTT: min A av B ns" lines, the log2 histogram, and the
#      final "RTT over 3000 packets: min A av B ns" plus p50/p99;
#   4. null: ports: tx into a sink, rx from the endless source;
#   5. a bad flag exits 1 with the usage on stderr, -h exits 0.
# Every background process runs under timeout and is killed by pid on exit.
set -u
PG=${BUILD:-build}/pkt-gen
if [ ! -x "$PG" ]; then
	echo "skipped: $PG is not built"
	exit 77
fi

tmp=$(mktemp -d /tmp/unetmap-30.XXXXXX) || exit 1
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

P="pipeP$$"
NUM='[0-9]+\.[0-9]{3} [KMGT]?'

# ---------------------------------------------------------------- 1. tx -> rx
timeout 40 "$PG" -i "netmap:$P}1" -f rx -n 1000000 -w 0 >"$tmp/rx.out" 2>"$tmp/rx.err" &
rx=$!; pids+=($rx)
if ! wait_for "$tmp/rx.out" '^Receiving from' 10; then
	bad "rx did not open netmap:$P}1"
	cat "$tmp/rx.err"
	exit 1
fi
timeout 30 "$PG" -i "netmap:$P{1" -f tx -n 1000000 -w 0 -T 200 >"$tmp/tx.out" 2>"$tmp/tx.err"
check '[ $? -eq 0 ]' "tx exits 0"
wait_pid $rx 20
check '[ $wstatus -eq 0 ]' "rx exits 0 after -n packets (status $wstatus)"
check 'grep -q "^Sent 1000000 packets 60000000 bytes [0-9]* events 60 bytes each in [0-9.]* seconds\.$" "$tmp/tx.out"' \
	"tx summary: Sent 1000000 packets"
check 'grep -q "^Received 1000000 packets 60000000 bytes [0-9]* events 60 bytes each in [0-9.]* seconds\.$" "$tmp/rx.out"' \
	"rx summary: Received exactly 1000000 packets"
check 'grep -q -E "^Speed: ${NUM}pps Bandwidth: ${NUM}bps \(raw ${NUM}bps\)\. Average batch: [0-9]+\.[0-9]{2} pkts$" "$tmp/rx.out"' \
	"Speed line in netmap's format"
check 'grep -q "^Sending on netmap:$P{1: 1 queues, 1 threads and 1 cpus\.$" "$tmp/tx.out"' \
	"tx start line"
check 'grep -q "^10\.0\.0\.1 -> 10\.1\.0\.1 (00:00:00:00:00:00 -> ff:ff:ff:ff:ff:ff)$" "$tmp/tx.out"' \
	"tx address line"
check 'grep -q -E "^[0-9]{3}\.[0-9]{6} main_thread \[[0-9]+\] ${NUM}pps \(${NUM}pkts ${NUM}bps in [0-9]+ usec\) [0-9]+\.[0-9]{2} avg_batch [0-9]+ min_space$" "$tmp/tx.err"' \
	"periodic report line in netmap's D() format"
if [ $fail -ne 0 ]; then
	echo "--- tx"; cat "$tmp/tx.out" "$tmp/tx.err"; echo "--- rx"; cat "$tmp/rx.out" "$tmp/rx.err"
fi

# --------------------------------------------------------- 2. txseq -> rxseq
S="seqP$$"
timeout 40 "$PG" -i "netmap:$S}1" -f rxseq -n 5000 -w 0 >"$tmp/rxs.out" 2>"$tmp/rxs.err" &
rxs=$!; pids+=($rxs)
if wait_for "$tmp/rxs.out" '^Receiving from' 10; then
	timeout 30 "$PG" -i "netmap:$S{1" -f txseq -n 5000 -G 1000 -w 0 >"$tmp/txs.out" 2>"$tmp/txs.err"
	check '[ $? -eq 0 ]' "txseq exits 0"
	wait_pid $rxs 20
	check '[ $wstatus -eq 0 ]' "rxseq exits 0 (status $wstatus)"
	check 'grep -q "Sequence GAP: exp 1000 found 1001$" "$tmp/rxs.err"' \
		"rxseq reports the injected gap"
	check '! grep -q "OUT OF ORDER" "$tmp/rxs.err"' "no reordering reported"
	check 'grep -q "^Received 5000 packets" "$tmp/rxs.out"' "rxseq counted 5000 packets"
else
	bad "rxseq did not open netmap:$S}1"
fi
[ $fail -ne 0 ] && { cat "$tmp/txs.err" "$tmp/rxs.err" 2>/dev/null; }

# ------------------------------------------------------------ 3. ping / pong
Q="pingP$$"
timeout 40 "$PG" -i "netmap:$Q}1" -f pong -w 0 >"$tmp/pong.out" 2>"$tmp/pong.err" &
pong=$!; pids+=($pong)
if wait_for "$tmp/pong.out" '^Working on' 10; then
	timeout 30 "$PG" -i "netmap:$Q{1" -f ping -n 3000 -R 2000 -w 0 >"$tmp/ping.out" 2>"$tmp/ping.err"
	check '[ $? -eq 0 ]' "ping exits 0"
	check 'grep -q -E "ping_body \[[0-9]+\] RTT over 3000 packets: min [0-9]+ av [0-9]+ ns$" "$tmp/ping.err"' \
		"final RTT line, all 3000 replies"
	check 'grep -q -E "RTT over 3000 packets: max [0-9]+ p50 [0-9]+ p99 [0-9]+ ns$" "$tmp/ping.err"' \
		"final p50/p99 line"
	check 'grep -q -E "count [0-9]+ RTT: min [0-9]+ av [0-9]+ ns$" "$tmp/ping.err"' \
		"per-second RTT line"
	check 'grep -q -E "count [0-9]+ RTT: max [0-9]+ p50 [0-9]+ p99 [0-9]+ ns$" "$tmp/ping.err"' \
		"per-second percentile line"
	check 'grep -q -E "k: [0-9]+ \.\. [0-9]+$" "$tmp/ping.err"' "log2 histogram"
else
	bad "pong did not open netmap:$Q}1"
fi
kill -TERM $pong 2>/dev/null
wait_pid $pong 10
check '[ $wstatus -eq 0 ]' "pong stops cleanly on SIGTERM (status $wstatus)"
[ $fail -ne 0 ] && { cat "$tmp/ping.err" "$tmp/pong.err" 2>/dev/null; }

# ------------------------------------------------------------- 4. null ports
timeout 20 "$PG" -i "null:sinkP$$" -f tx -n 2000000 >"$tmp/nt.out" 2>"$tmp/nt.err"
check '[ $? -eq 0 ] && grep -q "^Sent 2000000 packets" "$tmp/nt.out"' "tx into a null: port"
timeout 20 "$PG" -i "null:srcP$$" -f rx -n 2000000 >"$tmp/nr.out" 2>"$tmp/nr.err"
check '[ $? -eq 0 ] && grep -q "^Received 2000000 packets 120000000 bytes" "$tmp/nr.out"' \
	"rx from a null: port (60-byte frames)"
[ $fail -ne 0 ] && { cat "$tmp/nt.err" "$tmp/nr.err"; }

# -------------------------------------------------------- 5. command line
"$PG" -i "netmap:$P{1" -q >"$tmp/bad.out" 2>"$tmp/bad.err"
check '[ $? -eq 1 ] && grep -q "^Usage:" "$tmp/bad.err" && grep -q "bad option -q" "$tmp/bad.err"' \
	"an unknown flag: usage on stderr, exit 1"
"$PG" -i "netmap:$P{1" -f nosuch >/dev/null 2>"$tmp/bad2.err"
check '[ $? -eq 1 ] && grep -q "unrecognised function nosuch" "$tmp/bad2.err"' "an unknown function: exit 1"
"$PG" -h >/dev/null 2>"$tmp/help.err"
check '[ $? -eq 0 ] && grep -q -- "-f function" "$tmp/help.err"' "-h: usage, exit 0"

[ $fail -eq 0 ] && echo "30_pktgen_pipe: ok"
exit $fail

#!/usr/bin/env bash
# 60_nm_dump.sh - nm-dump writes what a port receives into pcap files that
# tcpdump and tshark read back exactly.
#
# Test objective: every frame pkt-gen sends into a pipe is in the file,
# with its length; a BPF expression keeps exactly the frames it matches
# (the same subset libpcap's own filter picks from the full capture);
# "-w -" streams a file tcpdump reads from a pipe; -c stops at COUNT;
# -s truncates; bad command lines fail cleanly.
#
# Operations (pipe names carry the prefix nfvd<pid>):
#   1. pkt-gen tx -n 3000 -l 128 -> nm-dump -c 3000 -w all.pcap: tcpdump
#      and tshark count 3000 frames, every frame.len is 128, nanosecond
#      magic;
#   2. 3000 frames cycling over 3 UDP destination ports -> nm-dump with
#      "udp dst port 1234": exactly 1000 frames, all to port 1234, and the
#      same count as tcpdump's filter on a full capture of the same stream;
#   3. nm-dump -w - -c 500 | tcpdump -r -: 500 frames;
#   4. -c 700 while 2000 are sent: nm-dump exits 0 by itself, 700 written;
#   5. -s 42: caplen 42, len 128;
#   6. a bad filter and a missing -i exit 1; -h exits 0.
# SIGUSR1 prints the counters so far (checked in 2.).
set -u
B=${BUILD:-build}
for t in nm-dump pkt-gen; do
	[ -x "$B/$t" ] || { echo "skipped: $B/$t is not built"; exit 77; }
done
for t in tcpdump tshark; do
	command -v $t >/dev/null || { echo "skipped: $t is not installed (scripts/install-deps.sh)"; exit 77; }
done

tmp=$(mktemp -d /tmp/unetmap-60.XXXXXX) || exit 1
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

P="nfvd$$"
count() { tcpdump -r "$1" ${2:+"$2"} 2>/dev/null | wc -l; }

# ------------------------------------------------------------ 1. all frames
"$B/nm-dump" -i "netmap:$P}1" -w "$tmp/all.pcap" -c 3000 -q >"$tmp/d1.out" 2>&1 &
d=$!; pids+=($d)
wait_for "$tmp/d1.out" '^nm-dump: capturing' 10 || bad "nm-dump did not start"
timeout 30 "$B/pkt-gen" -i "netmap:$P{1" -f tx -n 3000 -l 128 -w 0 >"$tmp/tx1.out" 2>&1
wait_pid $d 20
check '[ $wstatus -eq 0 ]' "nm-dump -c 3000 exits 0 by itself (status $wstatus)"
check 'grep -q "^nm-dump: total 3000 seen, 3000 matched, 3000 written, 384000 bytes" "$tmp/d1.out"' \
	"summary: 3000 seen, matched, written"
check '[ "$(count "$tmp/all.pcap")" -eq 3000 ]' "tcpdump reads 3000 frames"
check '[ "$(tshark -r "$tmp/all.pcap" 2>/dev/null | wc -l)" -eq 3000 ]' "tshark reads 3000 frames"
check '[ "$(tshark -r "$tmp/all.pcap" -T fields -e frame.len 2>/dev/null | sort -u)" = 128 ]' \
	"every frame is 128 bytes long"
check '[ "$(od -A n -t x1 -N 4 "$tmp/all.pcap" | tr -d " ")" = 4d3cb2a1 ]' \
	"nanosecond pcap magic"
[ $fail -ne 0 ] && cat "$tmp/d1.out" "$tmp/tx1.out"

# ------------------------------------------------------------- 2. a filter
# destination ports 1234, 1235, 1236 in turn: a third of the frames match
GEN=(-f tx -n 3000 -w 0 -s 10.0.0.1:1000 -d 10.1.0.1:1234-10.1.0.1:1236)
"$B/nm-dump" -i "netmap:$P}2" -w "$tmp/flt.pcap" udp dst port 1234 >"$tmp/d2.out" 2>&1 &
d=$!; pids+=($d)
"$B/nm-dump" -i "netmap:$P}3" -w "$tmp/full.pcap" -c 3000 -q >"$tmp/d3.out" 2>&1 &
d3=$!; pids+=($d3)
wait_for "$tmp/d2.out" '^nm-dump: capturing' 10 && wait_for "$tmp/d3.out" '^nm-dump: capturing' 10 ||
	bad "nm-dump did not start"
timeout 30 "$B/pkt-gen" -i "netmap:$P{2" "${GEN[@]}" >"$tmp/tx2.out" 2>&1
timeout 30 "$B/pkt-gen" -i "netmap:$P{3" "${GEN[@]}" >"$tmp/tx3.out" 2>&1
settle "$tmp/d2.out"
kill -USR1 $d
check 'wait_for "$tmp/d2.out" "^nm-dump: so far 3000 seen, 1000 matched" 5' "SIGUSR1: the counters so far"
kill -INT $d
wait_pid $d 10
wait_pid $d3 10
check 'grep -q "^nm-dump: total 3000 seen, 1000 matched, 1000 written" "$tmp/d2.out"' \
	"summary: 3000 seen, 1000 matched and written"
check '[ "$(count "$tmp/flt.pcap")" -eq 1000 ]' "the filtered file has 1000 frames"
check '[ "$(count "$tmp/flt.pcap" "udp dst port 1234")" -eq 1000 ]' "all of them to port 1234"
check '[ "$(count "$tmp/full.pcap" "udp dst port 1234")" -eq 1000 ]' \
	"tcpdump's filter on the full stream agrees"
[ $fail -ne 0 ] && cat "$tmp/d2.out" "$tmp/d3.out"

# -------------------------------------------------------- 3. -w - | tcpdump
# through a fifo, so that both ends have a pid to wait for and to kill
mkfifo "$tmp/fifo"
tcpdump -r - -nn <"$tmp/fifo" >"$tmp/td4.out" 2>/dev/null &
td=$!; pids+=($td)
"$B/nm-dump" -i "netmap:$P}4" -w - -c 500 >"$tmp/fifo" 2>"$tmp/d4.err" &
d=$!; pids+=($d)
wait_for "$tmp/d4.err" '^nm-dump: capturing' 10 || bad "nm-dump -w - did not start"
timeout 30 "$B/pkt-gen" -i "netmap:$P{4" -f tx -n 500 -w 0 >"$tmp/tx4.out" 2>&1
wait_pid $d 20
wait_pid $td 10
wc -l <"$tmp/td4.out" | tr -d ' ' >"$tmp/n4"
check '[ "$(cat "$tmp/n4" 2>/dev/null)" = 500 ]' "nm-dump -w - | tcpdump -r - reads 500 frames"
check 'grep -q "^nm-dump: total 500 seen" "$tmp/d4.err"' "with -w - the summary goes to stderr"

# ----------------------------------------------------------- 4. -c COUNT
"$B/nm-dump" -i "netmap:$P}5" -w "$tmp/c.pcap" -c 700 -q >"$tmp/d5.out" 2>&1 &
d=$!; pids+=($d)
wait_for "$tmp/d5.out" '^nm-dump: capturing' 10 || bad "nm-dump did not start"
timeout 10 "$B/pkt-gen" -i "netmap:$P{5" -f tx -n 2000 -w 0 >"$tmp/tx5.out" 2>&1 &
g=$!; pids+=($g)
wait_pid $d 20
check '[ $wstatus -eq 0 ]' "-c 700: exits 0 by itself (status $wstatus)"
check 'grep -q "700 written" "$tmp/d5.out"' "-c 700: 700 written"
check '[ "$(count "$tmp/c.pcap")" -eq 700 ]' "-c 700: 700 frames in the file"
kill $g 2>/dev/null

# ------------------------------------------------------------ 5. snaplen
"$B/nm-dump" -i "netmap:$P}6" -w "$tmp/s.pcap" -c 100 -s 42 -q >"$tmp/d6.out" 2>&1 &
d=$!; pids+=($d)
wait_for "$tmp/d6.out" '^nm-dump: capturing' 10 || bad "nm-dump did not start"
timeout 30 "$B/pkt-gen" -i "netmap:$P{6" -f tx -n 100 -l 128 -w 0 >"$tmp/tx6.out" 2>&1
wait_pid $d 20
check '[ "$(tshark -r "$tmp/s.pcap" -T fields -e frame.cap_len -e frame.len 2>/dev/null | sort -u | tr "\t" " ")" = "42 128" ]' \
	"-s 42: 42 bytes kept of 128"

# -------------------------------------------------------- 6. command line
"$B/nm-dump" -i "netmap:$P}7" -w "$tmp/x.pcap" udp port nosuch >/dev/null 2>"$tmp/e1"
check '[ $? -eq 1 ] && grep -q "bad filter" "$tmp/e1"' "a bad filter: exit 1 with a message"
"$B/nm-dump" -w "$tmp/x.pcap" >/dev/null 2>"$tmp/e2"
check '[ $? -eq 1 ] && grep -q "missing -i" "$tmp/e2"' "no -i: exit 1"
"$B/nm-dump" -h >"$tmp/h" 2>&1
check '[ $? -eq 0 ] && grep -q "^usage: nm-dump" "$tmp/h"' "-h: usage, exit 0"

[ $fail -eq 0 ] && echo "60_nm_dump: ok"
exit $fail

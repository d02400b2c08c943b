#!/usr/bin/env bash
# 64_nmreplay.sh - nmreplay sends a pcap file's frames exactly, and paces
# them as asked.
#
# Test objective: count, sizes, order and content of the replayed frames
# are the file's, for nanosecond and microsecond files in either byte
# order; -n and -c stop where they say; -B bps paces to the rate asked
# and -B real,2 to the file's timestamps at twice the speed (generous
# bounds: the machine is shared); -L drops the fraction asked (within
# six standard deviations); bad files fail cleanly.
#
# Operations (pipe names carry the prefix nfvr<pid>):
#   1. pkt-gen (random lengths 60..999, 24 address/port combinations) ->
#      nm-dump: gen.pcap, 3000 frames, nanosecond magic;
#   2. nmreplay -n 1 gen.pcap -> nm-dump: tcpdump -x of both identical;
#      the same from a microsecond copy (editcap) and from a big-endian
#      microsecond copy (rewritten with perl);
#   3. -n 3: 9000 frames; -c 1234: 1234 frames;
#   4. 2000 frames of 125 bytes at -B 1M: 2.0 s expected, 1.6..10 s
#      accepted; that capture (timestamps spread over ~2 s) replayed with
#      -B real,2: half its span expected, 0.7..5 x accepted;
#   5. -L 0.25 -c 8000 (NFV_SEED fixed): lost + sent = 8000, sent within
#      6000 +- 232, the receiver got exactly what nmreplay sent;
#   6. a file that is not pcap: exit 1, "unknown magic".
set -u
B=${BUILD:-build}
for t in nmreplay nm-dump pkt-gen; do
	[ -x "$B/$t" ] || { echo "skipped: $B/$t is not built"; exit 77; }
done
for t in tcpdump tshark editcap perl; do
	command -v $t >/dev/null || { echo "skipped: $t is not installed (scripts/install-deps.sh)"; exit 77; }
done

tmp=$(mktemp -d /tmp/unetmap-64.XXXXXX) || exit 1
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

P="nfvr$$"
seq_id=0
stop_pid() { kill -INT "$1" 2>/dev/null; wait_pid "$1" 10; }
nframes() { tcpdump -r "$1" 2>/dev/null | wc -l; }
dump() { tcpdump -t -nn -x -r "$1" 2>/dev/null; }
# capture OUT [nm-dump args]: nm-dump on a fresh pipe, its peer in $PEER,
# pid in $dp
capture() {
	local out=$1
	shift
	seq_id=$((seq_id + 1))
	PEER="netmap:$P{$seq_id"
	"$B/nm-dump" -i "netmap:$P}$seq_id" -w "$out" "$@" >"$out.out" 2>&1 &
	dp=$!; pids+=($dp)
	wait_for "$out.out" '^nm-dump: capturing' 10 || bad "nm-dump for $out did not start"
}
# replay FILE OUT [nmreplay args]: replay into a fresh capture, wait for
# the last frame, stop the capture; nmreplay's output in OUT.r, its
# wall time in seconds in $secs
replay() {
	local file=$1 out=$2 t0 t1
	shift 2
	capture "$out"
	t0=${EPOCHREALTIME/./}
	timeout 60 "$B/nmreplay" -f "$file" -i "$PEER" -q "$@" >"$out.r" 2>&1
	t1=${EPOCHREALTIME/./}
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
	settle "$out.out"
	stop_pid $dp
}

# --------------------------------------------------------------- 1. trace
capture "$tmp/gen.pcap" -c 3000
timeout 30 "$B/pkt-gen" -i "$PEER" -f tx -n 3000 -w 0 -l 1000 -l 60 \
	-s 10.0.0.1:1000-10.0.0.3:1003 -d 10.1.0.1:80-10.1.0.1:81 >"$tmp/gen.tx" 2>&1
wait_pid $dp 20
check '[ "$(nframes "$tmp/gen.pcap")" -eq 3000 ]' "generated trace: 3000 frames"
check '[ "$(tshark -r "$tmp/gen.pcap" -T fields -e frame.len 2>/dev/null | sort -u | wc -l)" -gt 100 ]' \
	"with many different lengths"

# ----------------------------------------------------------- 2. exactness
replay "$tmp/gen.pcap" "$tmp/r1.pcap" -n 1
check 'grep -q "^nmreplay: sent 3000 frames" "$tmp/r1.pcap.r"' "nmreplay says 3000 frames sent"
check 'dump "$tmp/gen.pcap" >"$tmp/want"; dump "$tmp/r1.pcap" >"$tmp/got"; cmp -s "$tmp/want" "$tmp/got"' \
	"nanosecond file: count, sizes, order and bytes as in the file"
editcap -F pcap "$tmp/gen.pcap" "$tmp/us.pcap" 2>/dev/null
check '[ "$(od -A n -t x1 -N 4 "$tmp/us.pcap" | tr -d " ")" = d4c3b2a1 ]' "editcap made a microsecond file"
replay "$tmp/us.pcap" "$tmp/r2.pcap" -n 1
check 'dump "$tmp/r2.pcap" | cmp -s "$tmp/want" -' "microsecond file: replayed exactly"
# the same file big-endian: every header field byte-swapped
perl -e '
	local $/; my $d = <STDIN>;
	my @h = unpack("V v v V V V V", substr($d, 0, 24));
	my $o = pack("N n n N N N N", @h);
	my $p = 24;
	while ($p + 16 <= length($d)) {
		my @r = unpack("V4", substr($d, $p, 16));
		$o .= pack("N4", @r) . substr($d, $p + 16, $r[2]);
		$p += 16 + $r[2];
	}
	print $o;' <"$tmp/us.pcap" >"$tmp/be.pcap"
check '[ "$(od -A n -t x1 -N 4 "$tmp/be.pcap" | tr -d " ")" = a1b2c3d4 ]' "a big-endian copy"
replay "$tmp/be.pcap" "$tmp/r3.pcap" -n 1
check 'dump "$tmp/r3.pcap" | cmp -s "$tmp/want" -' "big-endian file: replayed exactly"

# ---------------------------------------------------------- 3. -n and -c
replay "$tmp/gen.pcap" "$tmp/r4.pcap" -n 3
check '[ "$(nframes "$tmp/r4.pcap")" -eq 9000 ]' "-n 3: 9000 frames"
check '[ "$(dump "$tmp/r4.pcap" | md5sum)" = "$(cat "$tmp/want" "$tmp/want" "$tmp/want" | md5sum)" ]' \
	"-n 3: the file three times over, in order"
replay "$tmp/gen.pcap" "$tmp/r5.pcap" -c 1234
check '[ "$(nframes "$tmp/r5.pcap")" -eq 1234 ]' "-c 1234: 1234 frames"

# -------------------------------------------------------------- 4. pacing
capture "$tmp/fixed.pcap" -c 2000
timeout 30 "$B/pkt-gen" -i "$PEER" -f tx -n 2000 -l 125 -w 0 >"$tmp/fixed.tx" 2>&1
wait_pid $dp 20
replay "$tmp/fixed.pcap" "$tmp/r6.pcap" -n 1 -B 1M
check '[ "$(nframes "$tmp/r6.pcap")" -eq 2000 ]' "-B 1M: all 2000 frames"
check 'awk -v s="$secs" "BEGIN { exit !(s >= 1.6 && s <= 10) }"' \
	"-B 1M: 2000 x 1000 bits in $secs s (2.0 expected, 1.6..10 accepted)"
span=$(tshark -r "$tmp/r6.pcap" -T fields -e frame.time_relative 2>/dev/null | tail -1)
replay "$tmp/r6.pcap" "$tmp/r7.pcap" -n 1 -B real,2
check 'awk -v s="$secs" -v sp="$span" "BEGIN { e = sp / 2; exit !(sp > 1 && s >= 0.7 * e && s <= 5 * e + 0.5) }"' \
	"-B real,2: a ${span}s trace in $secs s (half expected, 0.7..5x accepted)"
check 'dump "$tmp/r7.pcap" | cmp -s <(dump "$tmp/r6.pcap") -' "-B real,2: frames unchanged"

# ---------------------------------------------------------------- 5. loss
NFV_SEED=42 replay "$tmp/gen.pcap" "$tmp/r8.pcap" -c 8000 -L 0.25
read -r sent lost <<<"$(sed -n 's/^nmreplay: sent \([0-9]*\) frames [0-9]* bytes, lost \([0-9]*\),.*/\1 \2/p' "$tmp/r8.pcap.r")"
check '[ -n "$sent" ] && [ $((sent + lost)) -eq 8000 ]' "-L 0.25 -c 8000: sent $sent + lost $lost = 8000"
check '[ -n "$sent" ] && [ $sent -ge 5768 ] && [ $sent -le 6232 ]' "-L 0.25: $sent sent, 6000 +- 232 expected"
check '[ "$(nframes "$tmp/r8.pcap")" = "$sent" ]' "the receiver got what nmreplay sent"

# ----------------------------------------------------------- 6. bad input
head -c 1000 /dev/zero >"$tmp/zero.pcap"
"$B/nmreplay" -f "$tmp/zero.pcap" -i "netmap:$P{x" >/dev/null 2>"$tmp/e1"
check '[ $? -eq 1 ] && grep -q "unknown magic" "$tmp/e1"' "not a pcap file: exit 1, unknown magic"
"$B/nmreplay" -f "$tmp/gen.pcap" -i "netmap:$P{x" -B nonsense >/dev/null 2>"$tmp/e2"
check '[ $? -eq 1 ] && grep -q "bad bandwidth" "$tmp/e2"' "a bad -B: exit 1"
"$B/nmreplay" -h >"$tmp/h" 2>&1
check '[ $? -eq 0 ] && grep -q "^usage: nmreplay" "$tmp/h"' "-h: usage, exit 0"

[ $fail -eq 0 ] && echo "64_nmreplay: ok"
exit $fail

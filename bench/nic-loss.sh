#!/usr/bin/env bash
# bench/nic-loss.sh - frames lost by netmap:IFNAME at a modest rate.
#
#   pkt-gen -f tx -n N -R RATE on netmap:A -> pkt-gen -f rx on netmap:B,
#   the two ends of a veth pair in two namespaces; no core pinning (the
#   scheduler places the processes as it would for a user).  With --busy,
#   a busy loop runs meanwhile (the machine's other work).
#
# Figures per run: frames sent, received, lost (sent - received) and,
# when pkt-gen prints it, what the kernel counted as dropped on the
# receiving port ("Kernel:" line: fill ring empty, RX ring full).  At a
# modest rate the receiver is idle most of the time: anything lost was
# lost while it was not scheduled (docs/design.md, "Spare receive
# buffers").  Not a test: the figures depend on what else the machine
# runs, so they are measured, not asserted.
#
# Usage: bench/nic-loss.sh [--runs R] [--count N] [--rate PPS] [--busy]
#                          [--mode MODE] [--base DIR] [--out FILE] [-h]
#   defaults: 5 runs of 1,000,000 frames at 250,000 pps, output on stdout
#   only; --mode adds @conf:nic=MODE to both ports.  Root.  BUILD=dir
#   picks the build; --base DIR adds, before each run, one of another
#   build (an older one, without the "Kernel:" line, works too), so that
#   both meet the same load.
# Exit status: 0, 1 if a run failed to run, 2 on bad usage, 77 if not root.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${BUILD:-$root/build}" && pwd) || { echo "no build directory"; exit 2; }
runs=5 count=1000000 rate=250000 busy=0 mode= out= base=
usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift ;;
	--count) count=$2; shift ;;
	--rate) rate=$2; shift ;;
	--busy) busy=1 ;;
	--mode) mode=$2; shift ;;
	--base) base=$(cd "$2" && pwd) || exit 2; shift ;;
	--out) out=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
if [ "$(id -u)" -ne 0 ]; then
	echo "bench/nic-loss.sh: needs root (network namespaces, XDP)"
	exit 77
fi
for d in "$BUILD" $base; do
	for b in "$d/pkt-gen" "$d/netmapd"; do
		[ -x "$b" ] || { echo "bench/nic-loss.sh: $b is not built (make)"; exit 2; }
	done
done
sx=${mode:+@conf:nic=$mode}

tmp=$(mktemp -d /tmp/unetmap-loss.XXXXXX)
sfx=$$
NA=nlA$sfx NB=nlB$sfx IA=nla$sfx IB=nlb$sfx
pids=() dpid= hog=
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	[ -n "$hog" ] && { kill "$hog" 2>/dev/null; wait "$hog" 2>/dev/null; }
	[ -n "$dpid" ] && { kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null; }
	ip netns del "$NA" 2>/dev/null
	ip netns del "$NB" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for n in "$NA" "$NB"; do
	ip netns add "$n" || exit 1
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null
done
ip link add "$IA" netns "$NA" type veth peer name "$IB" netns "$NB" || exit 1
ip -n "$NA" link set "$IA" up
ip -n "$NB" link set "$IB" up
# each build talks to its own netmapd
start_netmapd() {	# build
	"$1/netmapd" -f -s "$tmp/netmapd.sock" >>"$tmp/netmapd.log" 2>&1 &
	dpid=$!
	for _ in $(seq 100); do [ -S "$tmp/netmapd.sock" ] && break; sleep 0.05; done
}
stop_netmapd() {
	kill "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	dpid=
	rm -f "$tmp/netmapd.sock"
}
export UNETMAP_SOCKET=$tmp/netmapd.sock
if [ $busy -eq 1 ]; then
	sh -c 'while :; do :; done' &
	hog=$!
fi

secs=$(( count / rate + 15 ))
rc=0 table=
one() {	# build label run
	local B=$1 label=$2 r=$3 rp sent recv kdrop lost line
	start_netmapd "$B"
	# no timeout(1) in between: SIGINT must reach pkt-gen (ip netns exec
	# execs it), which then prints its summary
	ip netns exec "$NB" "$B/pkt-gen" -i "netmap:$IB$sx" -f rx -n "$count" -w 1 \
		>"$tmp/rx.$r" 2>&1 &
	rp=$!
	pids+=($rp)
	sleep 1.5
	ip netns exec "$NA" timeout "$secs" "$B/pkt-gen" -i "netmap:$IA$sx" -f tx -n "$count" \
		-l 60 -R "$rate" -w 1 >"$tmp/tx.$r" 2>&1
	# the receiver stops at the count, or is told to once nothing more
	# can come
	for _ in $(seq 40); do kill -0 "$rp" 2>/dev/null || break; sleep 0.05; done
	kill -INT "$rp" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$rp" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$rp" 2>/dev/null
	wait "$rp" 2>/dev/null
	stop_netmapd
	sent=$(sed -n 's/^Sent \([0-9]*\) packets.*/\1/p' "$tmp/tx.$r")
	recv=$(sed -n 's/^Received \([0-9]*\) packets.*/\1/p' "$tmp/rx.$r")
	grep -q '^Received nothing' "$tmp/rx.$r" && recv=0
	kdrop=$(sed -n 's/^Kernel: .*: \([0-9]*\) dropped (RX ring full \([0-9]*\), fill ring empty \([0-9]*\)).*/\1 (ring full \2, fill ring empty \3)/p' "$tmp/rx.$r")
	if [ -z "$sent" ] || [ -z "$recv" ]; then
		echo "run $r ($label): failed"; tail -n 3 "$tmp/tx.$r" "$tmp/rx.$r"
		rc=1
		return
	fi
	lost=$((sent - recv))
	line="| $r | $label | $sent | $recv | $lost | $(awk -v l=$lost -v s=$sent 'BEGIN{printf "%.3f%%", s ? 100*l/s : 0}') | ${kdrop:--} |"
	echo "$line"
	table+="$line"$'\n'
}
for r in $(seq "$runs"); do
	[ -n "$base" ] && one "$base" base "$r"
	one "$BUILD" "$([ -n "$base" ] && echo new || echo -)" "$r"
done
modeline=$(grep -E " $IB: (AF_XDP|emulated)" "$tmp/netmapd.log" | tail -n 1 |
	sed -E 's/.*: (AF_XDP[^,]*, [^,]*, [^,]*|emulated \(AF_PACKET\)),.*/\1/')
if [ -n "$out" ]; then
	{
		echo "# netmap:IFNAME losses on veth, $count frames at $rate pps"
		echo
		echo "Generated by \`bench/nic-loss.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')," \
			"$(uname -r), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)" \
			"before the runs$([ $busy -eq 1 ] && echo ", a busy loop running meanwhile")." \
			"Build: $BUILD${base:+ (new), interleaved run by run with $base (base)}." \
			"Mode: ${modeline:-?}."
		echo
		echo "| run | build | sent | received | lost | lost % | kernel dropped |"
		echo "|---|---|---|---|---|---|---|"
		printf '%s' "$table"
	} >"$out"
	echo "results in $out"
fi
exit $rc

#!/usr/bin/env bash
# bench/xdp.sh - netmap:IFNAME throughput on a veth pair, against the
# paths a program would use instead, all measured in the same run.
#
#   veth tx -> rx, 60-byte frames, sender on core 0 (namespace A), receiver
#   on core 1 (namespace B):
#
#   unetmap-linked    pkt-gen -f tx on netmap:A -> pkt-gen -f rx on netmap:B,
#                     both in automatic mode: netmapd links the two ends
#                     ring to ring (the veth fast path, common/unm_veth.h),
#                     no kernel on the data path
#   pipe              the same two pkt-gen on the two ends of a netmap pipe:
#                     what the linked veth should match
#   unetmap           pkt-gen -f tx on netmap:A@conf:nic=copy -> pkt-gen -f
#                     rx on netmap:B (AF_XDP through netmapd: a forced mode
#                     is never linked; rx sleeps in poll() when idle)
#   unetmap-busy      the same, rx busy-waits (pkt-gen -E: NIOCRXSYNC loop)
#   xsk-poll          xsk_bench tx -> xsk_bench rx -P: a minimal libxdp
#                     program, copy mode, rx sleeps in poll() when idle
#   xsk               the same, rx busy-polls its ring
#   xsk-unaligned     xsk with netmapd's UMEM layout (unaligned chunks,
#                     frames at the chunk start): what that layout costs
#   unetmap-emulated  pkt-gen on netmap:A/B@conf:nic=emulated (AF_PACKET)
#   afpacket          afp_bench: sendmmsg + QDISC_BYPASS -> TPACKET_V3
#
# Frames go to a unicast MAC nobody has (as xsk_bench's and afp_bench's),
# so a kernel stack that sees them (emulated mode: a packet socket only
# taps the interface) drops them at once instead of routing them.
#
# Figure: the receiver's steady-state rate.  pkt-gen: its per-second lines
# (-T 1000 -N), the first non-zero sample dropped, the mean of the next
# S.  xsk_bench / afp_bench: packets counted over S seconds after a 1 s
# warm-up.  Median [min-max] of R runs, scenarios interleaved round-robin
# (host drift hits all alike).  Ratios pair like with like: unetmap /
# xsk-poll and unetmap-busy / xsk (the >= 95% target); unetmap / xsk
# pits pkt-gen's default (sleeping) receiver against the busy-polling
# one; unetmap / afpacket, unetmap-emulated / afpacket; unetmap-linked /
# pipe (the fast path's target) and unetmap-linked / unetmap.
#
# Usage: bench/xdp.sh [--runs R] [--seconds S] [--only ID,ID] [--out FILE]
#                     [--keep] [--list] [-h]
#   defaults: 5 runs, 5 s, out bench/xdp-results.md.  Root.  BUILD=dir
#   picks the build; UNETMAP_SOCKET an existing netmapd (else a private
#   one is started and stopped).
# Exit status: 0, 1 if a unetmap scenario failed, 2 on bad usage, 77 if
# not root.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${BUILD:-$root/build}" && pwd) || { echo "no build directory"; exit 2; }
runs=5 secs=5 only= out=$root/bench/xdp-results.md keep=0
all_ids="unetmap-linked pipe unetmap unetmap-busy xsk-poll xsk xsk-unaligned unetmap-emulated afpacket"
usage() { sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift ;;
	--seconds) secs=$2; shift ;;
	--only) only=${2//,/ }; shift ;;
	--out) out=$2; shift ;;
	--keep) keep=1 ;;
	--list) echo "$all_ids"; exit 0 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
ids=${only:-$all_ids}
if [ "$(id -u)" -ne 0 ]; then
	echo "bench/xdp.sh: needs root (network namespaces, XDP)"
	exit 77
fi
PG=$BUILD/pkt-gen XB=$BUILD/bench/xsk_bench AB=$BUILD/bench/afp_bench
for b in "$PG" "$XB" "$AB" "$BUILD/netmapd"; do
	[ -x "$b" ] || { echo "bench/xdp.sh: $b is not built (make)"; exit 2; }
done

tmp=$(mktemp -d /tmp/unetmap-xdp.XXXXXX)
sfx=$$
NA=xbA$sfx NB=xbB$sfx IA=xa$sfx IB=xb$sfx
pids=() dpid=
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	[ -n "$dpid" ] && { kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null; }
	ip netns del "$NA" 2>/dev/null
	ip netns del "$NB" 2>/dev/null
	if [ $keep -eq 1 ]; then echo "logs kept in $tmp"; else rm -rf "$tmp"; fi
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

if [ -z "${UNETMAP_SOCKET:-}" ]; then
	export UNETMAP_SOCKET=$tmp/netmapd.sock
	"$BUILD/netmapd" -f -s "$UNETMAP_SOCKET" >"$tmp/netmapd.log" 2>&1 &
	dpid=$!
	for _ in $(seq 100); do [ -S "$UNETMAP_SOCKET" ] && break; sleep 0.05; done
fi
dlog=$tmp/netmapd.log
[ -n "$dpid" ] || dlog=$(dirname "$UNETMAP_SOCKET")/netmapd.log

# Run a command in a namespace on a core, in the background.
bgrun() {	# ns core log cmd...
	local ns=$1 core=$2 log=$3
	shift 3
	ip netns exec "$ns" taskset -c "$core" "$@" >"$log" 2>&1 &
	pids+=($!)
}

waitpid() {	# pid secs
	local i
	for i in $(seq $(($2 * 20))); do
		kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
		sleep 0.05
	done
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 1
}

# pkt-gen receiver's mean rate (Mpps) over $secs samples after the first
# non-zero one; empty if there are not enough
pg_rate() {
	awk -v n="$secs" '/main_thread/ && $5 == "pps" {
		v = $4 + 0
		if (!started) { if (v > 0) started = 1; next }
		if (k < n) { s += v; k++ }
	} END { if (k == n) printf "%.3f", s / k / 1e6 }' "$1"
}

one() {	# id run -> prints the figure (Mpps) or nothing
	local id=$1 r=$2 rx=$tmp/$1.$2.rx tx=$tmp/$1.$2.tx rp sp sx="" tsx="" rxo="" xo=""
	local prx="netmap:$IB" ptx="netmap:$IA"
	case $id in
	unetmap-linked|pipe|unetmap|unetmap-busy|unetmap-emulated)
		[ $id = unetmap-busy ] && rxo=-E
		# one end in a forced mode: AF_XDP, not linked
		[ $id = unetmap ] || [ $id = unetmap-busy ] && tsx=@conf:nic=copy
		[ $id = unetmap-emulated ] && sx=@conf:nic=emulated
		[ $id = pipe ] && prx="netmap:pipeXB$sfx}1" ptx="netmap:pipeXB$sfx{1"
		bgrun "$NB" 1 "$rx" timeout $((secs + 12)) "$PG" -i "$prx$sx" -f rx -n 0 \
			-w 1 -a 1 -N -T 1000 $rxo
		rp=$!
		sleep 1.5
		bgrun "$NA" 0 "$tx" timeout $((secs + 4)) "$PG" -i "$ptx$sx$tsx" -f tx -n 0 \
			-l 60 -w 1 -a 0 -D 02:00:00:00:00:02
		sp=$!
		waitpid "$sp" $((secs + 8))
		sleep 0.3
		kill -INT "$rp" 2>/dev/null
		waitpid "$rp" 5
		pg_rate "$rx" ;;
	xsk|xsk-poll|xsk-unaligned)
		[ $id = xsk-poll ] && rxo=-P
		[ $id = xsk-unaligned ] && xo=-U
		bgrun "$NB" 1 "$rx" "$XB" rx -i "$IB" -d "$secs" -w 1000 -t 15 $rxo $xo
		rp=$!
		sleep 0.5
		bgrun "$NA" 0 "$tx" "$XB" tx -i "$IA" -d $((secs + 3)) -l 60 $xo
		sp=$!
		waitpid "$rp" $((secs + 20))
		waitpid "$sp" $((secs + 6))
		grep -o 'received .*: [0-9.]* Mpps' "$rx" | awk '{print $(NF-1)}' ;;
	afpacket)
		bgrun "$NB" 1 "$rx" "$AB" rx -i "$IB" -d "$secs" -w 1000 -t 15
		rp=$!
		sleep 0.5
		bgrun "$NA" 0 "$tx" "$AB" tx -i "$IA" -d $((secs + 3)) -l 60
		sp=$!
		waitpid "$rp" $((secs + 20))
		waitpid "$sp" $((secs + 6))
		grep -o 'received .*: [0-9.]* Mpps' "$rx" | awk '{print $(NF-1)}' ;;
	esac
}

declare -A res
for r in $(seq "$runs"); do
	for id in $ids; do
		v=$(one "$id" "$r")
		res[$id]="${res[$id]:-} ${v:-x}"
		printf '%-17s run %d: %s Mpps\n' "$id" "$r" "${v:-FAILED}"
		sleep 0.5	# let the kernel release the previous sockets
	done
done

stats() {	# values... -> "median min max" (failures "x" skipped)
	printf '%s\n' "$@" | grep -v '^x$' | sort -g | awk '{v[NR] = $1}
		END { if (NR == 0) { print "- - -"; exit }
		      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%.3f %.3f %.3f\n", m, v[1], v[NR] }'
}
declare -A med
mode=$(grep -E " $IB: (AF_XDP|emulated)" "$dlog" 2>/dev/null | grep -v emulated |
	tail -n 1 | sed -E 's/.*: (AF_XDP[^,]*, [^,]*, [^,]*),.*/\1/')
{
	echo "# netmap:IFNAME on veth, tx -> rx, 60 bytes"
	echo
	echo "Generated by \`bench/xdp.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r)," \
		"$(nproc) CPUs; $runs runs of ${secs} s, interleaved; median [min-max] of the" \
		"receiver's steady-state rate.  netmap:IFNAME ran in: ${mode:-?}."
	echo
	echo "| id | Mpps |"
	echo "|---|---|"
	for id in $ids; do
		read -r m lo hi < <(stats ${res[$id]})
		med[$id]=$m
		echo "| $id | $m [$lo-$hi] |"
	done
	echo
	echo "| ratio | value |"
	echo "|---|---|"
	ratio() {
		local a=${med[$1]:--} b=${med[$2]:--}
		if [ "$a" = - ] || [ "$b" = - ]; then echo "| $1 / $2 | - |"; return; fi
		echo "| $1 / $2 | $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f%%", 100 * a / b }') |"
	}
	ratio unetmap-linked pipe
	ratio unetmap-linked unetmap
	ratio unetmap-linked afpacket
	ratio unetmap xsk-poll
	ratio unetmap-busy xsk
	ratio unetmap xsk
	ratio xsk-unaligned xsk
	ratio unetmap afpacket
	ratio unetmap-emulated afpacket
} >"$tmp/report"
cat "$tmp/report"
cp "$tmp/report" "$out"
rc=0
for id in unetmap-linked pipe unetmap unetmap-busy unetmap-emulated; do
	case " $ids " in *" $id "*) [ "${med[$id]:--}" = - ] && rc=1 ;; esac
done
exit $rc

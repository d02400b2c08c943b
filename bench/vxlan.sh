#!/usr/bin/env bash
# bench/vxlan.sh - frames through VXLAN tunnels, 60 bytes, host to host.
#
# Two network namespaces stand in for two hosts, joined by a veth with
# IPv4 addresses (the underlay); each runs its own netmapd.  pkt-gen -f tx
# -l 60 on host A, pkt-gen -f rx on host B, through:
#   unetmap   vxlan:B:42 on A -> vxlan:A:42 on B: netmapd encapsulates
#             (sendmmsg) and decapsulates (recvmmsg) on both sides;
#   kernel    Linux's vxlan device on both sides (id 42, dstport 4789),
#             pkt-gen on netmap:vxk (AF_XDP, or AF_PACKET where the
#             device has no XDP): the kernel encapsulates;
#   interop   vxlan:B:42 on A -> Linux's vxlan device on B: the same
#             datagrams, decapsulated by the kernel (also shows that the
#             two speak the same protocol);
#   interop-rx  Linux's vxlan device on A -> vxlan:A:42 on B.
# The sender's source MAC is 02:00:00:00:00:01: Linux's vxlan drops
# inner frames from 00:00:00:00:00:00, pkt-gen's default on a vxlan: port.
# No core pinning: on a machine with fewer than 4 cores the two pkt-gens
# and the two engines share them, as the kernel's softirqs do.
#
# Figure: the receiver's steady-state rate (its per-second lines, -T 1000
# -N, the first non-zero sample dropped, the mean of the next S), and the
# sender's (what left its ring).  Median [min-max] of R runs, scenarios
# interleaved round-robin (host drift hits all alike).
#
# Usage: bench/vxlan.sh [--runs R] [--seconds S] [--quick] [--only ID,ID]
#                       [--out FILE] [--keep] [--list] [-h]
#   defaults: 5 runs of 5 s, results on stdout only (--out FILE writes
#   the table there: bench/vxlan-results.md for the record); --quick is
#   1 run of 1 s.  Root.  BUILD=dir picks the build.
# Exit status: 0, 1 if the unetmap scenario failed, 2 on bad usage, 77 if
# not root.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${BUILD:-$root/build}" && pwd) || { echo "no build directory"; exit 2; }
runs=5 secs=5 only= out= keep=0
all_ids="unetmap kernel interop interop-rx"
usage() { sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift ;;
	--seconds) secs=$2; shift ;;
	--quick) runs=1 secs=1 ;;
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
	echo "bench/vxlan.sh: needs root (network namespaces)"
	exit 77
fi
PG=$BUILD/pkt-gen ND=$BUILD/netmapd
for b in "$PG" "$ND"; do
	[ -x "$b" ] || { echo "bench/vxlan.sh: $b is not built (make)"; exit 2; }
done

tmp=$(mktemp -d /tmp/unetmap-vxlan.XXXXXX)
sfx=$$
NA=uvxbA$sfx NB=uvxbB$sfx IA=uvxa$sfx IB=uvxb$sfx
IPA=10.66.0.1 IPB=10.66.0.2
pids=() dpids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	for p in "${dpids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
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
	ip -n "$n" link set lo up
done
ip link add "$IA" netns "$NA" type veth peer name "$IB" netns "$NB" || exit 1
ip -n "$NA" addr add "$IPA/24" dev "$IA"
ip -n "$NB" addr add "$IPB/24" dev "$IB"
ip -n "$NA" link set "$IA" up
ip -n "$NB" link set "$IB" up
# one netmapd per host: a tunnel's socket lives in netmapd's namespace
for h in A B; do
	ns=N$h
	ip netns exec "${!ns}" "$ND" -f -s "$tmp/$h.sock" >"$tmp/$h.log" 2>&1 &
	dpids+=($!)
done
for h in A B; do
	for _ in $(seq 100); do [ -S "$tmp/$h.sock" ] && break; sleep 0.05; done
done

on() {	# A|B log cmd...: in host A's or B's namespace, with its netmapd, in
	# the background
	local h=$1 log=$2 ns=N$1
	shift 2
	ip netns exec "${!ns}" env UNETMAP_SOCKET="$tmp/$h.sock" UNETMAP_NETMAPD=/nonexistent \
		"$@" >"$log" 2>&1 &
	pids+=($!)
}

# Linux's vxlan device vxk in a host, to the other one, or none.
kdev() {	# A|B up|down
	local ns=N$1 dev=I$1 remote=$IPA
	[ "$1" = A ] && remote=$IPB
	if [ "$2" = down ]; then
		ip -n "${!ns}" link del vxk 2>/dev/null
		return 0
	fi
	ip -n "${!ns}" link add vxk type vxlan id 42 remote "$remote" dstport 4789 \
		dev "${!dev}" || return 1
	ip -n "${!ns}" link set vxk up
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

# a pkt-gen's mean rate (Mpps) over $secs samples after the first
# non-zero one; empty if there are not enough
pg_rate() {
	awk -v n="$secs" '/main_thread/ && $5 == "pps" {
		v = $4 + 0
		if (!started) { if (v > 0) started = 1; next }
		if (k < n) { s += v; k++ }
	} END { if (k == n) printf "%.3f", s / k / 1e6 }' "$1"
}

one() {	# id run -> prints "rx-Mpps tx-Mpps", or nothing
	local id=$1 r=$2 rx=$tmp/$1.$2.rx tx=$tmp/$1.$2.tx rp sp src dst
	case $id in
	unetmap) src=vxlan:$IPB:42 dst=vxlan:$IPA:42 ;;
	kernel)  src=netmap:vxk dst=netmap:vxk; kdev A up && kdev B up || return ;;
	interop) src=vxlan:$IPB:42 dst=netmap:vxk; kdev B up || return ;;
	interop-rx) src=netmap:vxk dst=vxlan:$IPA:42; kdev A up || return ;;
	esac
	on B "$rx" timeout $((secs + 12)) "$PG" -i "$dst" -f rx -n 0 -w 1 -N -T 1000
	rp=$!
	sleep 1.5
	on A "$tx" timeout $((secs + 4)) "$PG" -i "$src" -f tx -n 0 -l 60 -w 1 -N -T 1000 \
		-S 02:00:00:00:00:01
	sp=$!
	waitpid "$sp" $((secs + 8))
	sleep 0.3
	kill -INT "$rp" 2>/dev/null
	waitpid "$rp" 5
	kdev A down
	kdev B down
	rx=$(pg_rate "$rx") tx=$(pg_rate "$tx")
	echo "${rx:-x} ${tx:-x}"
}

declare -A rxs txs
for r in $(seq "$runs"); do
	for id in $ids; do
		set -- $(one "$id" "$r")
		rxs[$id]="${rxs[$id]:-} ${1:-x}"
		txs[$id]="${txs[$id]:-} ${2:-x}"
		printf '%-10s run %d: rx %s Mpps, tx %s Mpps\n' "$id" "$r" "${1:-x}" "${2:-x}"
		sleep 0.5	# let the kernel release the previous sockets
	done
done

stats() {	# values... -> "median [min-max]" (failures "x" skipped)
	printf '%s\n' "$@" | grep -v '^x$' | sort -g | awk '{v[NR] = $1}
		END { if (NR == 0) { print "-"; exit }
		      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%.3f [%.3f-%.3f]\n", m, v[1], v[NR] }'
}
kmode=$(grep -E " vxk: (AF_XDP|emulated)" "$tmp/B.log" 2>/dev/null | tail -n 1 |
	sed -E 's/.*vxk: ([^,]*(, [^,]*)?).*/\1/')
status=0
{
	echo "# VXLAN tunnels, host to host, 60-byte frames"
	echo
	echo "Generated by \`bench/vxlan.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r)," \
		"$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end;" \
		"$runs runs of ${secs} s, interleaved; median [min-max] of the steady-state" \
		"rate (Mpps).  Hosts are two network namespaces on one veth; netmap:vxk ran in:" \
		"${kmode:-?}."
	echo
	echo "| id | path | rx Mpps | tx Mpps |"
	echo "|---|---|---|---|"
	for id in $ids; do
		case $id in
		unetmap) p="vxlan: port -> vxlan: port (netmapd both ends)" ;;
		kernel)  p="kernel vxlan device both ends, pkt-gen on netmap:vxk" ;;
		interop) p="vxlan: port -> kernel vxlan device" ;;
		interop-rx) p="kernel vxlan device -> vxlan: port" ;;
		esac
		# shellcheck disable=SC2086
		echo "| $id | $p | $(stats ${rxs[$id]}) | $(stats ${txs[$id]}) |"
	done
	echo
	echo "tx is what left the sender's ring; rx what the receiver got.  The"
	echo "difference is what the underlay, the receiving socket or device, or"
	echo "the receiver's ring dropped: with both ends on one machine the"
	echo "receiver competes with the sender for the same cores."
} >"$tmp/table"
cat "$tmp/table"
[ -n "$out" ] && cp "$tmp/table" "$out"
case " ${rxs[unetmap]:-} " in *" x "*) status=1 ;; esac
exit $status

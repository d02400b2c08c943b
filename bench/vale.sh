#!/usr/bin/env bash
# bench/vale.sh - VALE switch benchmarks, with the Linux bridge measured in
# the same run as the yardstick.
#
# Objective: the figures of issue 4 (VALE in netmapd): port-to-port at 60
# bytes with one forwarding thread (target >= 25 Mpps), 1514-byte frames
# (Gbps), 1 -> N broadcast, and the ratio against a Linux bridge joining two
# veths (AF_PACKET sender -> AF_PACKET receiver).
#
# Operations: start two private netmapds (--vale-threads 1, forwarding
# thread pinned as below); for each round, run every selected scenario once
# (round-robin, so drift of a shared host spreads over all of them); each
# run waits for the host to be quiet, starts receivers then the sender,
# lets traffic settle, and measures over a fixed window from the switch's
# own counters (vale-ctl -s: frames delivered into the receivers' rings,
# and drops), so the figure is what receivers actually got.  The bridge
# baseline uses bench/afp_bench in three network namespaces created here.
# Medians of --runs runs.
#
# Scenarios and CPU placement.  A VALE transfer has three busy parties:
# sender, forwarding thread, receiver.  With 3 or more cores each gets
# one (sender 0, forwarding 1, receivers 2...).  With 2 cores, the
# forwarding thread shares core 0 with the sender, receivers get core 1:
# that is where netmap itself does the switching (inside the sender's
# txsync), and a sender that is never held back by the switch (VALE
# drops instead) must not share a core with the receiver.  Receivers spin
# up to 50 us in poll() before sleeping (UNETMAP_POLL_SPIN_US=50), as they
# have a core to themselves.
#   vale-60, vale-1514, vale-bcast: pkt-gen -f tx -> pkt-gen -f rx, ports
#       with netmap's default rings (1024 slots)
#   vale-60-tx4k: the same with a 4096-slot sender ring (@conf:tx_slots=
#       4096, pkt-gen -b 1024): the forwarding thread wakes a sender asleep
#       on a full ring when half of it is free, so a bigger ring means fewer
#       context switches on the core the two share
#   vale-60-pair, vale-1514-pair:   bench/vale_pair, one thread sending on
#       one port and receiving on the other (core 0), forwarding thread
#       alone on core 1: the switch's forwarding capacity, two parties.
#
# Everything started here (processes, namespaces) is undone on exit, by pid
# and by name.
set -u -o pipefail
export LC_ALL=C

usage() {
	cat <<'EOF'
usage: bench/vale.sh [--quick] [--runs N] [--seconds S] [--only ID[,ID...]]
                     [--fanout N] [--out FILE] [--keep] [--list] [-h]

  --quick         one run of 1 s per scenario, no waiting for a quiet host
  --runs N        runs per scenario (default 5)
  --seconds S     measured seconds per run (default 5)
  --only IDS      scenarios to run (see --list)
  --fanout N      receivers of the broadcast scenario (default 4)
  --out FILE      also write the Markdown report to FILE
  --keep          keep the work directory with every log
  --list          print the scenario ids and exit

Environment: BUILD (default "build").  CPU placement: see the header of
this script.
Output (stdout): a Markdown table, then one machine-readable line per
scenario:
  RESULT <id> <unit> <median> <min> <max> <runs> [<drop%>]
  SKIP <id> <reason>
and "RATIO vale-60/bridge-60 <x>".  Exit status: 0 if every scenario gave a
figure or a reasoned skip, 1 if a VALE scenario failed, 2 on usage errors.
EOF
}

SC_IDS=(vale-60 vale-60-tx4k vale-1514 vale-bcast vale-60-pair vale-1514-pair bridge-60)
declare -A SC_DESC=(
	[vale-60]='VALE port→port, pkt-gen tx → pkt-gen rx, 60 B, 1 forwarding thread'
	[vale-60-tx4k]='same, sender ring of 4096 slots (@conf:tx_slots=4096), pkt-gen -b 1024'
	[vale-1514]='VALE port→port, pkt-gen, 1514 B, 1 forwarding thread'
	[vale-bcast]='VALE 1→N broadcast, pkt-gen, 60 B: frames delivered in all (sum over receivers)'
	[vale-60-pair]='VALE port→port, 60 B, one thread sends and receives, forwarding thread on its own core'
	[vale-1514-pair]='same, 1514 B'
	[bridge-60]='Linux bridge + 2 veths (3 netns), AF_PACKET sendmmsg → TPACKET_V3, 60 B')

RUNS=5 SECS=5 QUICK=0 ONLY= FANOUT=4 OUT= KEEP=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--runs) RUNS=${2:-}; shift ;;
	--seconds) SECS=${2:-}; shift ;;
	--only) ONLY=${2:-}; shift ;;
	--fanout) FANOUT=${2:-}; shift ;;
	--out) OUT=${2:-}; shift ;;
	--keep) KEEP=1 ;;
	--list) printf '%s\n' "${SC_IDS[@]}"; exit 0 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "bench/vale.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
[ $QUICK = 1 ] && RUNS=1 SECS=1
for v in "$RUNS" "$SECS" "$FANOUT"; do
	case $v in ''|*[!0-9]*|0) echo "bench/vale.sh: bad number '$v'" >&2; exit 2 ;; esac
done
SELECTED=()
for id in "${SC_IDS[@]}"; do
	[ -z "$ONLY" ] || [[ ",$ONLY," == *",$id,"* ]] && SELECTED+=("$id")
done
[ ${#SELECTED[@]} -gt 0 ] || { echo "bench/vale.sh: nothing selected" >&2; exit 2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
PKTGEN=$BUILD/pkt-gen VALECTL=$BUILD/vale-ctl NETMAPD=$BUILD/netmapd AFP=$BUILD/bench/afp_bench
PAIR=$BUILD/bench/vale_pair
WORK=$(mktemp -d "${TMPDIR:-/tmp}/unetmap-vale-bench.XXXXXX") || exit 1
NCPU=$(nproc)

log() { printf '%s\n' "$*" >&2; }

# ---- bookkeeping: everything started is stopped by pid, namespaces by name
PIDS=() NETNS=()
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
spawn() {	# spawn LOG CMD... ; sets SPAWNED
	local l=$1
	shift
	"$@" >"$l" 2>&1 </dev/null &
	SPAWNED=$!
	PIDS+=("$SPAWNED")
}
stop() {	# stop PID... : SIGINT, then SIGKILL after 3 s
	local p i
	for p in "$@"; do alive "$p" && kill -INT "$p" 2>/dev/null; done
	for p in "$@"; do
		for ((i = 0; i < 30; i++)); do alive "$p" || break; sleep 0.1; done
		alive "$p" && kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	return 0
}
cleanup() {
	local p ns
	trap - EXIT INT TERM
	for p in "${PIDS[@]}"; do alive "$p" && kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for ns in "${NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	if [ $KEEP = 1 ]; then log "bench: logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'log "bench: interrupted"; exit 130' INT TERM

# ---- host quietness (other work on a shared host skews every figure)
host_busy() {	# percent busy over 0.5 s
	local a b
	a=$(head -n1 /proc/stat); sleep 0.5; b=$(head -n1 /proc/stat)
	printf '%s\n%s\n' "$a" "$b" | awk '{ idle = $5 + $6; t = 0; for (i = 2; i <= NF; i++) t += $i
		if (NR == 1) { i0 = idle; t0 = t } else { i1 = idle; t1 = t } }
		END { d = t1 - t0; printf "%d\n", (d > 0) ? 100 * (1 - (i1 - i0) / d) + 0.5 : 0 }'
}
MAXBUSY=0
wait_quiet() {
	local b t=0
	b=$(host_busy)
	while [ $QUICK = 0 ] && [ "$b" -gt 15 ] && [ $t -lt 60 ]; do
		sleep 2; t=$((t + 2)); b=$(host_busy)
	done
	[ "$b" -gt $MAXBUSY ] && MAXBUSY=$b
	[ "$b" -gt 15 ] && log "bench: host ${b}% busy with other work"
	return 0
}

# ---- the switches: one netmapd for the pkt-gen scenarios, one for the
# two-party ones (the forwarding thread is pinned differently)
if [ "$NCPU" -ge 3 ]; then
	SW_CPU=1 APP_TX=0 APP_RX=2 RX_CPUS=$((NCPU - 2))
elif [ "$NCPU" -eq 2 ]; then
	SW_CPU=0 APP_TX=0 APP_RX=1 RX_CPUS=1
else
	SW_CPU=0 APP_TX=0 APP_RX=0 RX_CPUS=1
fi
PAIR_SW_CPU=$((NCPU > 1 ? 1 : 0))
LAYOUT="sender on cpu $APP_TX, forwarding thread on cpu $SW_CPU, receivers on cpu $APP_RX"
[ "$RX_CPUS" -gt 1 ] && LAYOUT="$LAYOUT..$((APP_RX + RX_CPUS - 1))"
LAYOUT="$LAYOUT; pair: program on cpu 0, forwarding thread on cpu $PAIR_SW_CPU"
VALE_SKIP=
for b in "$PKTGEN" "$VALECTL" "$NETMAPD"; do
	[ -x "$b" ] || VALE_SKIP="$b not built"
done
export UNETMAP_NETMAPD=$NETMAPD
start_netmapd() {	# start_netmapd SOCK CPU -> 0 when it listens
	spawn "$1.log" "$NETMAPD" --foreground --socket "$1" --vale-threads 1 --vale-cpus "$2"
	for _ in $(seq 50); do [ -S "$1" ] && return 0; sleep 0.1; done
	return 1
}
SOCK=$WORK/netmapd.sock PAIR_SOCK=$WORK/netmapd-pair.sock
if [ -z "$VALE_SKIP" ]; then
	start_netmapd "$SOCK" "$SW_CPU" || VALE_SKIP="netmapd did not start"
	export UNETMAP_SOCKET=$SOCK
fi
PAIR_SKIP=$VALE_SKIP
[ -z "$PAIR_SKIP" ] && [ ! -x "$PAIR" ] && PAIR_SKIP="$PAIR not built"
[ -z "$PAIR_SKIP" ] && { start_netmapd "$PAIR_SOCK" "$PAIR_SW_CPU" || PAIR_SKIP="netmapd did not start"; }

# counters PORT -> "rx_pkts rx_drops" (0 0 if the port is gone)
counters() {
	"$VALECTL" -s "$1" 2>/dev/null | awk '{ for (i = 2; i < NF; i += 2) v[$i] = $(i + 1) }
		END { printf "%d %d\n", v["rx_pkts"], v["rx_drops"] }'
}

SEQ=0
# vale_run LEN NRX [TXCONF TXOPTS] : one sender (broadcast frames, pkt-gen's
# default) and NRX receivers on switch valeb<seq>; sets RESULT (Mpps
# delivered in all) and DROPPCT.
vale_run() {
	local len=$1 nrx=$2 txconf=${3:-} txopts=${4:--b 512}
	local sw=valeb$((SEQ += 1)) dir=$WORK/run$SEQ i rxp=() txp
	local before=() after=() t0 t1 got=0 drop=0 r d ok=1
	mkdir -p "$dir"
	for ((i = 0; i < nrx; i++)); do
		spawn "$dir/rx$i.log" env UNETMAP_POLL_SPIN_US=50 \
			taskset -c $((APP_RX + i % RX_CPUS)) "$PKTGEN" -i "$sw:r$i" -f rx -w 0 -b 512
		rxp+=("$SPAWNED")
	done
	for ((i = 0; i < 50; i++)); do
		[ "$("$VALECTL" 2>/dev/null | grep -c "^$sw:r")" -ge "$nrx" ] && break
		sleep 0.1
	done
	# shellcheck disable=SC2086 # options are a word list
	spawn "$dir/tx.log" taskset -c "$APP_TX" "$PKTGEN" -i "$sw:tx$txconf" -f tx -l "$len" -w 0 $txopts
	txp=$SPAWNED
	sleep 1.5	# settle
	for ((i = 0; i < nrx; i++)); do before+=("$(counters "$sw:r$i")"); done
	t0=${EPOCHREALTIME/./}
	sleep "$SECS"
	t1=${EPOCHREALTIME/./}
	for ((i = 0; i < nrx; i++)); do after+=("$(counters "$sw:r$i")"); done
	alive "$txp" || ok=0
	for p in "${rxp[@]}"; do alive "$p" || ok=0; done
	stop "$txp" "${rxp[@]}"
	for ((i = 0; i < nrx; i++)); do
		read -r r d <<<"${after[$i]}"
		got=$((got + r - ${before[$i]% *}))
		drop=$((drop + d - ${before[$i]#* }))
	done
	if [ $ok = 0 ] || [ $got -le 0 ]; then
		REASON="no traffic: $(grep -h -i -m1 -E 'error|fail|cannot|invalid' "$dir"/*.log | head -c 140)"
		return 2
	fi
	RESULT=$(awk -v n=$got -v us=$((t1 - t0)) 'BEGIN { printf "%.3f", n / us }')
	DROPPCT=$(awk -v g=$got -v d=$drop 'BEGIN { printf "%.1f", (g + d > 0) ? 100 * d / (g + d) : 0 }')
	return 0
}

# pair_run LEN : bench/vale_pair on the second netmapd; sets RESULT
pair_run() {
	local len=$1 dir=$WORK/pair$((SEQ += 1)) sw=valep$SEQ
	mkdir -p "$dir"
	UNETMAP_SOCKET=$PAIR_SOCK taskset -c 0 "$PAIR" -a "$sw:a" -b "$sw:b" -l "$len" \
		-d "$SECS" -w 1000 >"$dir/pair.log" 2>&1
	RESULT=$(awk '/^vale_pair: received/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mpps") print $i }' \
		"$dir/pair.log")
	DROPPCT=$(awk '/^vale_pair: received/ { r = $3; s = $NF; sub(/\)/, "", s)
		if (s > 0) printf "%.1f", 100 * (s - r) / s }' "$dir/pair.log")
	[ -n "$RESULT" ] && return 0
	REASON="no traffic: $(head -c 140 "$dir/pair.log")"
	return 2
}

# ---- the Linux bridge: ns tx (veth) -- ns br (bridge) -- ns rx (veth)
BR_SKIP= BR_NS=
br_setup() {
	[ -n "$BR_SKIP" ] && return 1
	[ -n "$BR_NS" ] && return 0
	if [ "$(id -u)" != 0 ]; then BR_SKIP="needs root (network namespaces)"; return 1; fi
	command -v ip >/dev/null || { BR_SKIP="ip (iproute2) not installed"; return 1; }
	[ -x "$AFP" ] || { BR_SKIP="$AFP not built"; return 1; }
	BR_NS=vb$$
	NETNS+=("${BR_NS}t" "${BR_NS}b" "${BR_NS}r")
	if ! { ip netns add "${BR_NS}t" && ip netns add "${BR_NS}b" && ip netns add "${BR_NS}r" &&
	       ip -n "${BR_NS}b" link add br0 type bridge &&
	       ip -n "${BR_NS}b" link add p1 type veth peer name e1 netns "${BR_NS}t" &&
	       ip -n "${BR_NS}b" link add p2 type veth peer name e2 netns "${BR_NS}r" &&
	       ip -n "${BR_NS}b" link set p1 master br0 && ip -n "${BR_NS}b" link set p2 master br0 &&
	       ip -n "${BR_NS}b" link set br0 up && ip -n "${BR_NS}b" link set p1 up &&
	       ip -n "${BR_NS}b" link set p2 up &&
	       ip -n "${BR_NS}t" link set e1 address 02:00:00:00:0b:01 up &&
	       ip -n "${BR_NS}r" link set e2 address 02:00:00:00:0b:02 up; } 2>"$WORK/br.log"; then
		BR_SKIP="cannot build the bridge: $(head -c 140 "$WORK/br.log")"
		return 1
	fi
	return 0
}
bridge_run() {
	br_setup || { REASON=$BR_SKIP; return 1; }
	local dir=$WORK/br$((SEQ += 1)) rxp txp
	mkdir -p "$dir"
	spawn "$dir/rx.log" ip netns exec "${BR_NS}r" taskset -c $((NCPU > 1 ? 1 : 0)) \
		"$AFP" rx -i e2 -d "$SECS" -w 1000 -t 10
	rxp=$SPAWNED
	sleep 0.2
	# to a unicast address nobody has: the bridge floods it to p2, the
	# receiver's packet socket sees it, its IP layer drops it
	spawn "$dir/tx.log" ip netns exec "${BR_NS}t" taskset -c 0 "$AFP" tx -i e1 -l 60 -b 512 \
		-d $((SECS + 12)) -D 02:00:00:00:0b:99 -S 02:00:00:00:0b:01
	txp=$SPAWNED
	for ((i = 0; i < (SECS + 13) * 10; i++)); do alive "$rxp" || break; sleep 0.1; done
	stop "$rxp" "$txp"
	RESULT=$(awk '/^afp_bench rx: received/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mpps") print $i }' "$dir/rx.log")
	DROPPCT=
	[ -n "$RESULT" ] && return 0
	REASON="no traffic: $(head -c 140 "$dir/rx.log")"
	return 2
}

run_one() {	# run_one ID -> 0 figure, 1 skip, 2 failure
	RESULT= REASON= DROPPCT=
	case $1 in
	vale-60) [ -n "$VALE_SKIP" ] && { REASON=$VALE_SKIP; return 1; }; vale_run 60 1 ;;
	vale-60-tx4k) [ -n "$VALE_SKIP" ] && { REASON=$VALE_SKIP; return 1; }
		vale_run 60 1 "@conf:tx_slots=4096" "-b 1024" ;;
	vale-1514) [ -n "$VALE_SKIP" ] && { REASON=$VALE_SKIP; return 1; }; vale_run 1514 1 ;;
	vale-bcast) [ -n "$VALE_SKIP" ] && { REASON=$VALE_SKIP; return 1; }; vale_run 60 "$FANOUT" ;;
	vale-60-pair) [ -n "$PAIR_SKIP" ] && { REASON=$PAIR_SKIP; return 1; }; pair_run 60 ;;
	vale-1514-pair) [ -n "$PAIR_SKIP" ] && { REASON=$PAIR_SKIP; return 1; }; pair_run 1514 ;;
	bridge-60) bridge_run ;;
	esac
}

declare -A VALS DROPS SKIPS FAILS
for ((round = 1; round <= RUNS; round++)); do
	for id in "${SELECTED[@]}"; do
		[ -n "${SKIPS[$id]:-}" ] && continue
		wait_quiet
		run_one "$id"
		case $? in
		0) VALS[$id]+="$RESULT "; DROPS[$id]+="${DROPPCT:-} "
		   log "bench: $id run $round: $RESULT Mpps${DROPPCT:+ (drops $DROPPCT%)}" ;;
		1) SKIPS[$id]=$REASON; log "bench: $id skipped: $REASON" ;;
		*) FAILS[$id]+="$REASON; "; log "bench: $id run $round failed: $REASON" ;;
		esac
	done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	printf "%.2f %.2f %.2f %d\n", m, v[1], v[NR], NR } }'; }

report() {
	local id m lo hi n drops gbps rc=0
	echo "# VALE benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $NCPU cpus)"
	echo
	echo "$RUNS run(s) of ${SECS} s per scenario, median [min–max]; $LAYOUT;" \
	     "busiest the host was with other work before a run: ${MAXBUSY}%."
	echo
	echo "| scenario | Mpps | other | drops | description |"
	echo "|---|---|---|---|---|"
	for id in "${SELECTED[@]}"; do
		if [ -n "${VALS[$id]:-}" ]; then
			read -r m lo hi n <<<"$(echo "${VALS[$id]}" | median)"
			drops=$(echo "${DROPS[$id]}" | median | awk '{ print $1 "%" }')
			[ "$drops" = "%" ] && drops=
			gbps=
			[[ $id == vale-1514* ]] && gbps=$(awk -v m=$m 'BEGIN { printf "%.1f Gbps", m * 1514 * 8 / 1000 }')
			echo "| $id | $m [$lo–$hi] | $gbps | $drops | ${SC_DESC[$id]} |"
		elif [ -n "${SKIPS[$id]:-}" ]; then
			echo "| $id | skipped | | | ${SKIPS[$id]} |"
		else
			echo "| $id | failed | | | ${FAILS[$id]:-} |"
		fi
	done
	echo
	for id in "${SELECTED[@]}"; do
		if [ -n "${VALS[$id]:-}" ]; then
			read -r m lo hi n <<<"$(echo "${VALS[$id]}" | median)"
			drops=$(echo "${DROPS[$id]}" | median | awk '{ print $1 }')
			echo "RESULT $id Mpps $m $lo $hi $n ${drops:-}"
		elif [ -n "${SKIPS[$id]:-}" ]; then
			echo "SKIP $id ${SKIPS[$id]}"
		else
			echo "FAIL $id ${FAILS[$id]:-}"
			[[ $id == vale-* ]] && rc=1
		fi
	done
	for id in vale-60 vale-60-tx4k vale-60-pair; do
		if [ -n "${VALS[$id]:-}" ] && [ -n "${VALS[bridge-60]:-}" ]; then
			awk -v a="$(echo "${VALS[$id]}" | median | cut -d' ' -f1)" -v id=$id \
			    -v b="$(echo "${VALS[bridge-60]}" | median | cut -d' ' -f1)" \
			    'BEGIN { if (b > 0) printf "RATIO %s/bridge-60 %.1f\n", id, a / b }'
		fi
	done
	return $rc
}

report >"$WORK/report.md"
rc=$?
cat "$WORK/report.md"
[ -n "$OUT" ] && cp "$WORK/report.md" "$OUT"
exit $rc

#!/usr/bin/env bash
# bench/nfv.sh - throughput of the NFV tools: nm-filter between pipes (zero
# copy and copy, 0, 10 and 100 rules), nm-lb 1 -> 4, nm-dump into a pcap
# file on tmpfs.
#
# Objective: the figures a user of the NFV programs asks first ("how fast
# does the filter forward, what do rules cost, what does copying cost,
# how fast can I capture"), measured the same way every time.
#
# Operations: start a private netmapd (unless UNETMAP_SOCKET names one);
# run every selected scenario once per round, RUNS rounds (round-robin,
# so drift of a shared host spreads over all of them); each run starts
# the receivers, the tool, then pkt-gen as the sender, lets it run
# SECS + 2 seconds, and takes the mean of the per-second samples 2..SECS+1
# (the first is partial); medians and min-max over the runs.
#   filter-{zc,copy}-{0,10,100}: pkt-gen tx (60 B, -o 4: every frame written
#       afresh, so the figure includes touching the data) -> nm-filter
#       [-c] with N rules that match nothing (every frame walks all of
#       them, then the default pass) -> pkt-gen rx; figure = receiver's rate
#   lb-1to4: pkt-gen tx (60 B, 64 flows) -> nm-lb -p 4 -> 4 x pkt-gen rx;
#       figure = nm-lb's packet_forward_rate_kpps (its -o 1 JSON lines)
#   dump-file: pkt-gen tx (60 B) -> nm-dump -w FILE on tmpfs (/dev/shm);
#       figure = nm-dump's per-second rate; the file is removed after
#       each run
# CPU placement (2 cores): sender on core 0, the tool on core 1,
# receivers on core 0.
#
# Everything started here is stopped on exit, by pid.
set -u -o pipefail
export LC_ALL=C

usage() {
	cat <<'EOF'
usage: bench/nfv.sh [--quick] [--runs N] [--seconds S] [--only ID[,ID...]]
                    [--out FILE] [--keep] [--list] [-h]

  --quick       one run of 1 s per scenario (the test suite uses this)
  --runs N      runs per scenario (default 5)
  --seconds S   measured seconds per run (default 5)
  --only IDS    scenarios to run (see --list)
  --out FILE    where to write the Markdown report (default
                bench/nfv-results.md; with --quick, only stdout unless given)
  --keep        keep the work directory with every log
  --list        print the scenario ids and exit

Environment: BUILD (default "build"), UNETMAP_SOCKET (use this netmapd).
Output: the Markdown report on stdout, then one line per scenario:
  RESULT <id> Mpps <median> <min> <max> <runs>  |  SKIP <id> <reason>  |
  FAIL <id> <reason>
Exit status: 0 if every scenario gave a figure or a reasoned skip, 1 if
one failed, 2 on usage errors.
EOF
}

SC_IDS=(filter-zc-0 filter-zc-10 filter-zc-100 filter-copy-0 filter-copy-10 filter-copy-100
	lb-1to4 dump-file)
declare -A SC_DESC=(
	[filter-zc-0]='nm-filter between pipes of one name (buffer swap), no rules, 60 B'
	[filter-zc-10]='same, 10 rules that match nothing (all evaluated)'
	[filter-zc-100]='same, 100 rules that match nothing'
	[filter-copy-0]='nm-filter -c (copy), no rules, 60 B'
	[filter-copy-10]='nm-filter -c, 10 rules that match nothing'
	[filter-copy-100]='nm-filter -c, 100 rules that match nothing'
	[lb-1to4]='nm-lb, one input pipe to 4 output pipes (zero copy), 64 flows, 60 B'
	[dump-file]='nm-dump -w FILE on tmpfs, no filter, 60 B')

RUNS=5 SECS=5 QUICK=0 ONLY= OUT= KEEP=0 OUT_GIVEN=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--runs) RUNS=${2:-}; shift ;;
	--seconds) SECS=${2:-}; shift ;;
	--only) ONLY=${2:-}; shift ;;
	--out) OUT=${2:-}; OUT_GIVEN=1; shift ;;
	--keep) KEEP=1 ;;
	--list) printf '%s\n' "${SC_IDS[@]}"; exit 0 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "bench/nfv.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
[ $QUICK = 1 ] && RUNS=1 SECS=1
for v in "$RUNS" "$SECS"; do
	case $v in ''|*[!0-9]*|0) echo "bench/nfv.sh: bad number '$v'" >&2; exit 2 ;; esac
done
SELECTED=()
for id in "${SC_IDS[@]}"; do
	[ -z "$ONLY" ] || [[ ",$ONLY," == *",$id,"* ]] && SELECTED+=("$id")
done
[ ${#SELECTED[@]} -gt 0 ] || { echo "bench/nfv.sh: nothing selected" >&2; exit 2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
[ $OUT_GIVEN = 0 ] && [ $QUICK = 0 ] && OUT=$ROOT/bench/nfv-results.md
PKTGEN=$BUILD/pkt-gen NETMAPD=$BUILD/netmapd
WORK=$(mktemp -d "${TMPDIR:-/tmp}/unetmap-nfv-bench.XXXXXX") || exit 1
SHM=
NCPU=$(nproc)
C_TX=0 C_TOOL=$((NCPU > 1 ? 1 : 0)) C_RX=0

log() { printf '%s\n' "$*" >&2; }

PIDS=()
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
	local p
	trap - EXIT INT TERM
	for p in "${PIDS[@]}"; do alive "$p" && kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	[ -n "$SHM" ] && rm -rf "$SHM"
	if [ $KEEP = 1 ]; then log "bench: logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'log "bench: interrupted"; exit 130' INT TERM

SKIP_ALL=
for b in "$PKTGEN" "$NETMAPD" "$BUILD/nm-filter" "$BUILD/nm-lb" "$BUILD/nm-dump"; do
	[ -x "$b" ] || SKIP_ALL="$b not built"
done
export UNETMAP_NETMAPD=$NETMAPD
if [ -z "$SKIP_ALL" ] && [ -z "${UNETMAP_SOCKET:-}" ]; then
	export UNETMAP_SOCKET=$WORK/netmapd.sock
	spawn "$WORK/netmapd.log" "$NETMAPD" --foreground --socket "$UNETMAP_SOCKET"
	for _ in $(seq 50); do [ -S "$UNETMAP_SOCKET" ] && break; sleep 0.1; done
	[ -S "$UNETMAP_SOCKET" ] || SKIP_ALL="netmapd did not start"
fi

# pkt-gen's periodic lines -> Mpps, one per line (netmap's units K/M/G)
pps_samples() {
	awk '/Speed:/ { next }
	{
		if (!match($0, /[0-9]+(\.[0-9]+)? ?[KMGT]?pps/)) next
		s = substr($0, RSTART, RLENGTH); sub(/pps$/, "", s); gsub(/ /, "", s)
		m = 1; u = substr(s, length(s), 1)
		if (u ~ /[KMGT]/) {
			s = substr(s, 1, length(s) - 1)
			m = (u == "K") ? 1e3 : (u == "M") ? 1e6 : (u == "G") ? 1e9 : 1e12
		}
		printf "%.6f\n", s * m / 1e6
	}' "$1"
}
# mean of the non-zero samples 2..K+1 on stdin (the first is partial); a
# one-second run (--quick: only "does it still work") takes the one sample
# a busy host may leave it
steady() {
	awk -v k="$1" '$1 > 0 { v[++n] = $1 } END {
		b = (n >= k + 1) ? k + 1 : n - 1
		if (b < 2 && k == 1 && n >= 1) { printf "%.3f\n", v[n]; exit 0 }
		if (b < 2) exit 1
		for (i = 2; i <= b; i++) s += v[i]
		printf "%.3f\n", s / (b - 1) }'
}

# host load: percent of the cpus busy over 0.5 s, sampled before each run
# (other work on a shared host skews every figure; the report says how much)
host_busy() {
	local a b
	a=$(head -n1 /proc/stat); sleep 0.5; b=$(head -n1 /proc/stat)
	printf '%s\n%s\n' "$a" "$b" | awk '{ idle = $5 + $6; t = 0; for (i = 2; i <= NF; i++) t += $i
		if (NR == 1) { i0 = idle; t0 = t } else { i1 = idle; t1 = t } }
		END { d = t1 - t0; printf "%d\n", (d > 0) ? 100 * (1 - (i1 - i0) / d) + 0.5 : 0 }'
}
MAXBUSY=0

SEQ=0
# filter_run NRULES COPY: sets RESULT
filter_run() {
	local nr=$1 copy=$2 name=nfvb$$f$((SEQ += 1)) dir=$WORK/run$SEQ rx tx f i args=()
	mkdir -p "$dir"
	for ((i = 1; i <= nr; i++)); do
		echo "drop proto udp dst 192.168.$((i % 256)).0/24 dport 9999" >>"$dir/rules"
	done
	[ "$nr" -gt 0 ] && args+=(-f "$dir/rules")
	[ "$copy" = 1 ] && args+=(-c)
	spawn "$dir/rx.log" taskset -c $C_RX "$PKTGEN" -i "netmap:$name}2" -f rx -w 0 -b 512
	rx=$SPAWNED
	spawn "$dir/f.log" taskset -c $C_TOOL "$BUILD/nm-filter" -i "netmap:$name}1" \
		-i "netmap:$name{2" "${args[@]}"
	f=$SPAWNED
	sleep 0.3
	spawn "$dir/tx.log" taskset -c $C_TX "$PKTGEN" -i "netmap:$name{1" -f tx -l 60 -w 0 \
		-b 512 -o 4
	tx=$SPAWNED
	sleep $((SECS + 2))
	stop "$tx" "$f" "$rx"
	if RESULT=$(pps_samples "$dir/rx.log" | steady "$SECS"); then
		return 0
	fi
	REASON="no steady traffic: $(grep -h -i -m1 -E 'error|cannot|invalid' "$dir"/*.log | head -c 140)"
	return 2
}

lb_run() {
	local name=nfvb$$l$((SEQ += 1)) dir=$WORK/run$SEQ lb tx k rxs=()
	mkdir -p "$dir"
	spawn "$dir/lb.log" taskset -c $C_TOOL "$BUILD/nm-lb" -i "netmap:$name}in" -p "$name:4" \
		-o 1 -w 0
	lb=$SPAWNED
	sleep 0.3
	for k in 0 1 2 3; do
		spawn "$dir/rx$k.log" taskset -c $C_RX "$PKTGEN" -i "netmap:$name}$k" -f rx -w 0 -b 512
		rxs+=("$SPAWNED")
	done
	sleep 0.3
	spawn "$dir/tx.log" taskset -c $C_TX "$PKTGEN" -i "netmap:$name{in" -f tx -l 60 -w 0 \
		-b 512 -o 4 -s 10.0.0.1:1000-10.0.0.1:1007 -d 10.1.0.1:2000-10.1.0.1:2007
	tx=$SPAWNED
	sleep $((SECS + 2))
	stop "$tx" "$lb" "${rxs[@]}"
	if RESULT=$(awk -F'"packet_forward_rate_kpps":' '/"output_ring":null/ && NF > 1 {
			split($2, a, ","); printf "%.6f\n", a[1] / 1000 }' "$dir/lb.log" | steady "$SECS"); then
		DROP=$(awk -F'[:,]' '/"output_ring":null/ { for (i = 1; i < NF; i++) {
				if ($i == "\"packets_forwarded\"") f = $(i + 1)
				if ($i == "\"packets_dropped\"") d = $(i + 1) } }
			END { if (f + d > 0) printf "%.1f", 100 * d / (f + d) }' "$dir/lb.log")
		return 0
	fi
	REASON="no steady traffic: $(grep -h -i -m1 -E 'error|cannot|invalid' "$dir"/*.log | head -c 140)"
	return 2
}

dump_run() {
	local name=nfvb$$d$((SEQ += 1)) dir=$WORK/run$SEQ d tx
	mkdir -p "$dir"
	if [ -z "$SHM" ]; then
		SHM=$(mktemp -d /dev/shm/unetmap-nfv-bench.XXXXXX 2>/dev/null) ||
			{ REASON="no tmpfs at /dev/shm"; return 1; }
	fi
	spawn "$dir/d.log" taskset -c $C_TOOL "$BUILD/nm-dump" -i "netmap:$name}1" -w "$SHM/cap.pcap"
	d=$SPAWNED
	sleep 0.3
	spawn "$dir/tx.log" taskset -c $C_TX "$PKTGEN" -i "netmap:$name{1" -f tx -l 60 -w 0 -b 512
	tx=$SPAWNED
	sleep $((SECS + 2))
	stop "$tx" "$d"
	rm -f "$SHM/cap.pcap"
	if RESULT=$(awk '/Kpps/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Kpps") printf "%.6f\n", $i / 1000 }' \
			"$dir/d.log" | steady "$SECS"); then
		return 0
	fi
	REASON="no steady traffic: $(grep -h -i -m1 -E 'error|cannot|invalid' "$dir"/*.log | head -c 140)"
	return 2
}

run_one() {	# run_one ID -> 0 figure, 1 skip, 2 failure
	RESULT= REASON= DROP=
	[ -n "$SKIP_ALL" ] && { REASON=$SKIP_ALL; return 1; }
	case $1 in
	filter-zc-*) filter_run "${1#filter-zc-}" 0 ;;
	filter-copy-*) filter_run "${1#filter-copy-}" 1 ;;
	lb-1to4) lb_run ;;
	dump-file) dump_run ;;
	esac
}

declare -A VALS DROPS SKIPS FAILS
for ((round = 1; round <= RUNS; round++)); do
	for id in "${SELECTED[@]}"; do
		[ -n "${SKIPS[$id]:-}" ] && continue
		b=$(host_busy)
		[ "$b" -gt $MAXBUSY ] && MAXBUSY=$b
		run_one "$id"
		case $? in
		0) VALS[$id]+="$RESULT "; DROPS[$id]+="${DROP:-} "
		   log "bench: $id run $round: $RESULT Mpps${DROP:+ (drops $DROP%)}" ;;
		1) SKIPS[$id]=$REASON; log "bench: $id skipped: $REASON" ;;
		*) FAILS[$id]+="$REASON; "; log "bench: $id run $round failed: $REASON" ;;
		esac
	done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	printf "%.2f %.2f %.2f %d\n", m, v[1], v[NR], NR } }'; }

report() {
	local id m lo hi n note rc=0
	echo "# NFV tools benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $NCPU cpus)"
	echo
	echo "$RUNS run(s) of ${SECS} s per scenario, median [min–max] of the per-run means;" \
	     "sender on cpu $C_TX, the tool on cpu $C_TOOL, receivers on cpu $C_RX;" \
	     "busiest the host was with other work just before a run: ${MAXBUSY}%" \
	     "(figures from a busy host are low and spread)."
	echo "Made by \`bench/nfv.sh\` (\`make bench\`); see its header for the method."
	echo
	echo "| scenario | what | median Mpps | min–max | runs | notes |"
	echo "|---|---|---|---|---|---|"
	for id in "${SELECTED[@]}"; do
		if [ -n "${VALS[$id]:-}" ]; then
			read -r m lo hi n <<<"$(echo "${VALS[$id]}" | median)"
			note=
			[ -n "$(echo "${DROPS[$id]:-}" | tr -d ' ')" ] &&
				note="nm-lb drops: $(echo "${DROPS[$id]}" | median | cut -d' ' -f1)%"
			echo "| $id | ${SC_DESC[$id]} | $m | $lo–$hi | $n | $note |"
		elif [ -n "${SKIPS[$id]:-}" ]; then
			echo "| $id | ${SC_DESC[$id]} | skipped: ${SKIPS[$id]} | | | |"
		else
			echo "| $id | ${SC_DESC[$id]} | failed | | | ${FAILS[$id]:-} |"
		fi
	done
	echo
	for id in "${SELECTED[@]}"; do
		if [ -n "${VALS[$id]:-}" ]; then
			read -r m lo hi n <<<"$(echo "${VALS[$id]}" | median)"
			echo "RESULT $id Mpps $m $lo $hi $n"
		elif [ -n "${SKIPS[$id]:-}" ]; then
			echo "SKIP $id ${SKIPS[$id]}"
		else
			echo "FAIL $id ${FAILS[$id]:-}"
			rc=1
		fi
	done
	return $rc
}

report >"$WORK/report.md"
rc=$?
cat "$WORK/report.md"
[ -n "$OUT" ] && grep -v -E '^(RESULT|SKIP|FAIL) ' "$WORK/report.md" >"$OUT"
exit $rc

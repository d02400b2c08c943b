#!/usr/bin/env bash
# bench/monitor.sh - what a monitor costs the port it monitors.
#
# Objective: the figures of issue 10 on monitors: the rate of the
# monitored pipe and VALE paths with no monitor, with a copy monitor and
# with a zero-copy monitor, measured side by side in one run; and, given
# --baseline DIR (a build of the tree before monitors existed), the same
# paths with that build, to show that having monitors in the code costs
# nothing while no monitor is attached.
#
# Operations: private netmapds (one per build: their protocols differ),
# VALE forwarding thread on cpu 0; for each round, every selected scenario
# once (round-robin, so drift of a shared host spreads over them all).  A
# run starts the receiver (cpu 1), the sender (cpu 0), then the monitor's
# reader, pkt-gen -f rx on the monitor port (cpu 1: a monitor costs the
# host a reader, and two cores have no third to give it); once the reader
# reports traffic, the figure is the monitored receiver's steady rate
# (pkt-gen's periodic reports, the first one dropped), and "mirrored" the
# reader's.  Medians of --runs runs.  60-byte frames, batch 512.
#
#   pipe-none    pkt-gen tx netmap:P{1 -> rx netmap:P}1
#   pipe-copy    + P{1/t, a copy monitor of the sender (copies at txsync)
#   pipe-zcopy   + P{1/z, zero copy (buffers swapped as the sender reclaims)
#   pipe-full    + P{1/t that nobody reads: every frame is a drop to count
#   vale-none    pkt-gen tx valeX:a -> rx valeX:b (forwarding thread cpu 0)
#   vale-copy    + valeX:b/r, copied by the switch as it delivers
#   vale-zcopy   + valeX:a/z
#   null-b1-none one pkt-gen tx on null:X, batch 1: a sync per frame, so
#                the per-sync cost of the monitor check weighs most here;
#                a fixed count, figure = frames per second of CPU time used
#                (robust to other work taking turns on the core)
#   base-pipe-none, base-vale-none, base-null-b1-none   the same with
#                --baseline
# A shared host makes even per-CPU-second figures drift by more than what
# one load per sync can cost; so, when valgrind is installed, the report
# adds the instructions one sync costs (callgrind: the difference between
# 2N and N frames of null-b1, divided by N), and the instructions per
# frame of a sender at batch 512 with no monitor and with each kind:
# deterministic, comparable across builds, blind to caches.
#
# Everything started here is stopped by pid on exit.
set -u -o pipefail
export LC_ALL=C

usage() {
	cat <<'EOF'
usage: bench/monitor.sh [--quick] [--runs N] [--seconds S] [--only ID[,ID...]]
                        [--baseline DIR] [--out FILE] [--keep] [--list] [-h]

  --quick         one run of 1 s per scenario
  --runs N        runs per scenario (default 5)
  --seconds S     measured seconds per run (default 5)
  --only IDS      scenarios to run (see --list)
  --baseline DIR  a build directory of the tree before monitors (pkt-gen and
                  netmapd): adds base-pipe-none and base-vale-none
  --out FILE      also write the Markdown report to FILE
  --keep          keep the work directory with every log
  --list          print the scenario ids and exit

Environment: BUILD (default "build").
Output (stdout): a Markdown table, then one line per scenario:
  RESULT <id> Mpps <median> <min> <max> <runs> <mirrored-median>
  SKIP <id> <reason>
Exit status: 0 if every scenario gave a figure or a reasoned skip, 1 if one
failed, 2 on usage errors.
EOF
}

SC_IDS=(pipe-none pipe-copy pipe-zcopy pipe-full vale-none vale-copy vale-zcopy null-b1-none
	base-pipe-none base-vale-none base-null-b1-none)
declare -A SC_DESC=(
	[pipe-none]='pipe, no monitor'
	[pipe-copy]='pipe, copy monitor of the sender (/t), read'
	[pipe-zcopy]='pipe, zero-copy monitor of the sender (/z), read'
	[pipe-full]='pipe, copy monitor (/t) never read: every frame a counted drop'
	[vale-none]='VALE a→b, no monitor'
	[vale-copy]='VALE a→b, copy monitor of the receiver (b/r, the switch copies), read'
	[vale-zcopy]='VALE a→b, zero-copy monitor of the sender (a/z), read'
	[null-b1-none]='null: port, pkt-gen tx alone, batch 1 (one sync per frame), no monitor; Mpps per second of CPU'
	[base-null-b1-none]='null: port, batch 1, baseline build (before monitors)'
	[base-pipe-none]='pipe, no monitor, baseline build (before monitors)'
	[base-vale-none]='VALE a→b, no monitor, baseline build (before monitors)')

RUNS=5 SECS=5 QUICK=0 ONLY= OUT= KEEP=0 BASE=
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--runs) RUNS=${2:-}; shift ;;
	--seconds) SECS=${2:-}; shift ;;
	--only) ONLY=${2:-}; shift ;;
	--baseline) BASE=${2:-}; shift ;;
	--out) OUT=${2:-}; shift ;;
	--keep) KEEP=1 ;;
	--list) printf '%s\n' "${SC_IDS[@]}"; exit 0 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "bench/monitor.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
[ $QUICK = 1 ] && RUNS=1 SECS=1
for v in "$RUNS" "$SECS"; do
	case $v in ''|*[!0-9]*|0) echo "bench/monitor.sh: bad number '$v'" >&2; exit 2 ;; esac
done
SELECTED=()
for id in "${SC_IDS[@]}"; do
	case $id in base-*) [ -n "$BASE" ] || continue ;; esac
	[ -z "$ONLY" ] || [[ ",$ONLY," == *",$id,"* ]] && SELECTED+=("$id")
done
[ ${#SELECTED[@]} -gt 0 ] || { echo "bench/monitor.sh: nothing selected" >&2; exit 2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
WORK=$(mktemp -d "${TMPDIR:-/tmp}/unetmap-mon-bench.XXXXXX") || exit 1

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
	if [ $KEEP = 1 ]; then log "bench: logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'log "bench: interrupted"; exit 130' INT TERM

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# one Mpps figure per periodic pkt-gen report ("14.881 Mpps (...)")
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
nonzero() { awk '$1 > 0 { n++ } END { print n + 0 }'; }
# mean of the samples after the first `skip` lines, the first non-zero one
# of those dropped (partial), at most k
mean_after() {	# FILE SKIP K
	pps_samples "$1" | tail -n +$(($2 + 1)) | awk -v k="$3" '$1 > 0 { v[++n] = $1 } END {
		b = n; if (b > k + 1) b = k + 1
		if (b < 2) exit 1
		for (i = 2; i <= b; i++) s += v[i]
		printf "%.6f\n", s / (b - 1) }'
}
stats() {	# FILE -> "median min max n"
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit 1
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.3f %.3f %.3f %d\n", m, v[1], v[NR], NR }'
}

# ---- the builds and their netmapds (copied: a rebuild meanwhile must not
# change what is measured)
declare -A PG ND SOCKS
SKIP_ALL=
setup_build() {	# setup_build TAG DIR
	local tag=$1 dir=$2
	mkdir -p "$WORK/$tag"
	cp "$dir/pkt-gen" "$WORK/$tag/pkt-gen" 2>/dev/null && cp "$dir/netmapd" "$WORK/$tag/netmapd" ||
		return 1
	PG[$tag]=$WORK/$tag/pkt-gen
	ND[$tag]=$WORK/$tag/netmapd
	SOCKS[$tag]=$WORK/$tag/netmapd.sock
	spawn "$WORK/$tag/netmapd.log" "${ND[$tag]}" --foreground --socket "${SOCKS[$tag]}" \
		--vale-threads 1 --vale-cpus 0
	for _ in $(seq 50); do [ -S "${SOCKS[$tag]}" ] && return 0; sleep 0.1; done
	return 1
}
setup_build cur "$BUILD" || SKIP_ALL="pkt-gen or netmapd not built in $BUILD"
NMDUMP=$WORK/cur/nm-dump
cp "$BUILD/nm-dump" "$NMDUMP" 2>/dev/null || NMDUMP=$BUILD/nm-dump
BASE_SKIP=
if [ -n "$BASE" ]; then
	case $BASE in /*) ;; *) BASE=$ROOT/$BASE ;; esac
	setup_build base "$BASE" || BASE_SKIP="no pkt-gen and netmapd in $BASE"
fi

SEQ=0
PG_T=500
need=$(( (SECS * 1000 + PG_T - 1) / PG_T ))

# run_one TAG KIND MON -> RESULT (Mpps at the receiver), MIRRORED
#   KIND pipe|vale; MON none|copy|zcopy|full
run_one() {
	local tag=$1 kind=$2 mon=$3 dir pg txname rxname mname rxp txp mp=
	local deadline skip=0 i
	SEQ=$((SEQ + 1))
	dir=$WORK/run$SEQ
	mkdir -p "$dir"
	pg=${PG[$tag]}
	export UNETMAP_SOCKET=${SOCKS[$tag]}
	if [ "$kind" = null ]; then
		# a fixed count, figure = frames per second of CPU time the
		# process used: other work on a shared host takes turns on the
		# core, which changes the wall-clock rate, not the CPU per frame
		local frames=$((SECS * 4000000)) cpu
		TIMEFORMAT='%3U %3S'
		{ time timeout $((SECS * 10 + 20)) taskset -c 0 "$pg" -i "null:mb$$n$SEQ" -f tx \
			-l 60 -b 1 -a 0 -w 0 -n $frames >"$dir/tx.log" 2>&1; } 2>"$dir/time"
		MIRRORED=
		cpu=$(awk '{ print $1 + $2 }' "$dir/time")
		if grep -q "^Sent $frames packets" "$dir/tx.log" && [ -n "$cpu" ]; then
			RESULT=$(awk -v n=$frames -v c="$cpu" 'BEGIN { if (c > 0) printf "%.6f", n / c / 1e6 }')
			[ -n "$RESULT" ] && return 0
		fi
		REASON="pkt-gen on null: failed: $(grep -i -m1 -E 'error|fail|cannot' "$dir/tx.log")"
		return 1
	fi
	if [ "$kind" = pipe ]; then
		txname="netmap:mb$$x$SEQ{1" rxname="netmap:mb$$x$SEQ}1"
	else
		txname="valem$((SEQ % 1000)):a" rxname="valem$((SEQ % 1000)):b"
	fi
	case $kind-$mon in
	pipe-copy|pipe-full) mname="$txname/t" ;;
	pipe-zcopy|vale-zcopy) mname="$txname/z" ;;
	vale-copy) mname="$rxname/r" ;;
	*) mname= ;;
	esac
	spawn "$dir/rx.log" taskset -c 1 "$pg" -i "$rxname" -f rx -b 512 -a 1 -w 0 -T $PG_T
	rxp=$SPAWNED
	sleep 0.2
	spawn "$dir/tx.log" taskset -c 0 "$pg" -i "$txname" -f tx -l 60 -b 512 -a 0 -w 0 -T $PG_T
	txp=$SPAWNED
	if [ -n "$mname" ]; then
		# the monitored port must be bound: retry until the monitor opens
		for i in $(seq 40); do
			if [ "$mon" = full ]; then
				# a monitor nobody reads: nm-dump, stopped once open
				spawn "$dir/mon.log" "$NMDUMP" -i "$mname" -q
			else
				spawn "$dir/mon.log" taskset -c 1 "$pg" -i "$mname" -f rx -b 512 -a 1 -w 0 \
					-T $PG_T
			fi
			mp=$SPAWNED
			sleep 0.2
			alive "$mp" && break
			mp=
		done
		[ -n "$mp" ] && [ "$mon" = full ] && kill -STOP "$mp"
		[ -n "$mp" ] || { REASON="the monitor $mname did not open: $(tail -n 2 "$dir/mon.log" | tr '\n' ' ')"; stop "$txp" "$rxp"; return 1; }
		skip=$(pps_samples "$dir/rx.log" | wc -l)
	fi
	deadline=$(( $(now_ms) + SECS * 1000 + 10000 ))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		[ "$(pps_samples "$dir/rx.log" | tail -n +$((skip + 1)) | nonzero)" -gt "$need" ] && break
		alive "$txp" && alive "$rxp" || break
		sleep 0.2
	done
	[ -n "$mp" ] && kill -CONT "$mp" 2>/dev/null
	stop "$txp" ${mp:+"$mp"} "$rxp"
	MIRRORED=
	if [ -n "$mp" ] && [ "$mon" != full ]; then
		MIRRORED=$(mean_after "$dir/mon.log" 0 "$need") || MIRRORED=
	fi
	RESULT=$(mean_after "$dir/rx.log" "$skip" "$need") && return 0
	REASON="no steady traffic: $(grep -i -m1 -E 'error|fail|cannot' "$dir"/*.log)"
	return 1
}

# ---- the rounds
declare -A VALS MIRR SKIPPED FAILED
for id in "${SELECTED[@]}"; do : >"$WORK/$id.vals"; : >"$WORK/$id.mirr"; done
STATUS=0
for ((round = 1; round <= RUNS; round++)); do
	for id in "${SELECTED[@]}"; do
		[ -n "${SKIPPED[$id]:-}" ] && continue
		tag=cur
		case $id in base-*) tag=base ;; esac
		if [ -n "$SKIP_ALL" ]; then SKIPPED[$id]=$SKIP_ALL; continue; fi
		if [ $tag = base ] && [ -n "$BASE_SKIP" ]; then SKIPPED[$id]=$BASE_SKIP; continue; fi
		kind=${id#base-}; kind=${kind%%-*}
		mon=${id##*-}
		REASON=
		if run_one "$tag" "$kind" "$mon"; then
			echo "$RESULT" >>"$WORK/$id.vals"
			[ -n "$MIRRORED" ] && echo "$MIRRORED" >>"$WORK/$id.mirr"
			log "bench: round $round $id: $RESULT Mpps${MIRRORED:+, mirrored $MIRRORED}"
		else
			FAILED[$id]=$REASON
			log "bench: round $round $id failed: $REASON"
		fi
	done
done

# ---- instructions per frame (deterministic), when valgrind is there
declare -A INSTR
instr_per_frame() {	# TAG -> instructions per frame of pkt-gen tx -b 1 on null:
	local tag=$1 n=200000 a b
	export UNETMAP_SOCKET=${SOCKS[$tag]}
	for f in $n $((2 * n)); do
		valgrind --tool=callgrind --callgrind-out-file="$WORK/$tag/cg.$f" \
			"${PG[$tag]}" -i "null:mbi$$$tag$f" -f tx -b 1 -n $f -w 0 >"$WORK/$tag/cg.$f.log" 2>&1 ||
			return 1
	done
	a=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$WORK/$tag/cg.$n.log")
	b=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$WORK/$tag/cg.$((2 * n)).log")
	[ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" -v n=$n 'BEGIN { printf "%.1f\n", (b - a) / n }'
}
# The monitored sender's instructions per frame at batch 512, with a
# monitor of each kind on its null: port (a reader keeps it drained, or
# nobody reads it): what mirroring costs the monitored side, exactly.
instr_mon() {	# MON (none|full|copy|zcopy) -> instructions per frame
	local mon=$1 n=100000 f port v pid rp i c=() mname
	export UNETMAP_SOCKET=${SOCKS[cur]}
	for f in $n $((2 * n)); do
		port="null:mbm$$$mon$f"
		valgrind --tool=callgrind --callgrind-out-file="$WORK/cur/cgm.$mon.$f" \
			"${PG[cur]}" -i "$port" -f tx -b 512 -n $f -w 5 >"$WORK/cur/cgm.$mon.$f.log" 2>&1 &
		pid=$!
		PIDS+=("$pid")
		rp=
		case $mon in full|copy) mname="$port/t" ;; zcopy) mname="$port/z" ;; *) mname= ;; esac
		for i in $(seq 80); do
			[ -n "$mname" ] || break
			if [ "$mon" = full ]; then
				spawn "$WORK/cur/mon.$mon.$f.log" "$NMDUMP" -i "$mname" -q
			else
				spawn "$WORK/cur/mon.$mon.$f.log" "${PG[cur]}" -i "$mname" -f rx -w 0
			fi
			rp=$SPAWNED
			sleep 0.1
			alive "$rp" && break
			rp=
		done
		[ -n "$mname" ] && [ -z "$rp" ] && { stop "$pid"; return 1; }
		[ "$mon" = full ] && kill -STOP "$rp"
		wait "$pid" || { [ -n "$rp" ] && kill -CONT "$rp"; stop ${rp:+"$rp"}; return 1; }
		[ -n "$rp" ] && { kill -CONT "$rp" 2>/dev/null; stop "$rp"; }
		v=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$WORK/cur/cgm.$mon.$f.log")
		[ -n "$v" ] || return 1
		c+=("$v")
	done
	awk -v a="${c[0]}" -v b="${c[1]}" -v n=$n 'BEGIN { printf "%.1f\n", (b - a) / n }'
}
declare -A IMON
INSTR_NOTE=
if [ -z "$SKIP_ALL" ] && [[ " ${SELECTED[*]} " == *" null-b1-none "* ]]; then
	if command -v valgrind >/dev/null; then
		INSTR[cur]=$(instr_per_frame cur) || INSTR[cur]=
		if [ -n "$BASE" ] && [ -z "$BASE_SKIP" ]; then
			INSTR[base]=$(instr_per_frame base) || INSTR[base]=
		fi
		for m in none full copy zcopy; do
			IMON[$m]=$(instr_mon $m) || IMON[$m]=
			log "bench: instructions per frame at batch 512, $m monitor: ${IMON[$m]:-failed}"
		done
	else
		INSTR_NOTE="valgrind not installed: no instruction counts"
	fi
fi

# ---- the report
{
	printf '# Monitor overhead (%s, %s, %s cpus)\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" \
		"$(uname -r)" "$(nproc)"
	printf '%s run(s) of %s s per scenario, median [min–max] of the monitored receiver' "$RUNS" "$SECS"
	printf "'s steady rate; 60 B frames, batch 512; sender on cpu 0 (with the VALE\n"
	printf 'forwarding thread), receiver and monitor reader on cpu 1.  "mirrored" is the\n'
	printf "monitor reader's rate (a copy of the same traffic).\n\n"
	printf '| scenario | Mpps | mirrored Mpps | vs. same path, no monitor | description |\n|---|---|---|---|---|\n'
	for id in "${SELECTED[@]}"; do
		if [ -n "${SKIPPED[$id]:-}" ]; then
			printf '| %s | skipped: %s | | | %s |\n' "$id" "${SKIPPED[$id]}" "${SC_DESC[$id]}"
			continue
		fi
		if ! st=$(stats "$WORK/$id.vals"); then
			printf '| %s | failed: %s | | | %s |\n' "$id" "${FAILED[$id]:-no figure}" "${SC_DESC[$id]}"
			STATUS=1
			continue
		fi
		read -r med lo hi n <<<"$st"
		VALS[$id]=$med
		mirr=
		if mst=$(stats "$WORK/$id.mirr" 2>/dev/null); then mirr=${mst%% *}; MIRR[$id]=$mirr; fi
		# against the same path without a monitor, in this build
		ref= rel=
		case $id in
		pipe-none|vale-none|null-b1-none) rel="—" ;;
		pipe-*|base-pipe-none) ref=${VALS[pipe-none]:-} ;;
		vale-*|base-vale-none) ref=${VALS[vale-none]:-} ;;
		base-null-b1-none) ref=${VALS[null-b1-none]:-} ;;
		esac
		[ -n "$ref" ] &&
			rel=$(awk -v a="$med" -v b="$ref" 'BEGIN { if (b > 0) printf "%+.1f%%", 100 * (a / b - 1) }')
		printf '| %s | %.2f [%.2f–%.2f] | %s | %s | %s |\n' "$id" "$med" "$lo" "$hi" \
			"${mirr:+$(printf '%.2f' "$mirr")}" "$rel" "${SC_DESC[$id]}"
	done
	printf '\n'
	if [ -n "${INSTR[cur]:-}" ]; then
		printf 'Instructions per frame, pkt-gen tx on a `null:` port with batch 1 (one sync per\n'
		printf 'frame), counted by valgrind (callgrind, deterministic): this build %s' "${INSTR[cur]}"
		[ -n "${INSTR[base]:-}" ] && printf ', baseline %s (%+.1f per sync)' "${INSTR[base]}" \
			"$(awk -v a="${INSTR[cur]}" -v b="${INSTR[base]}" 'BEGIN { print a - b }')"
		printf '.\n\n'
		printf 'Instructions per frame of the monitored sender (pkt-gen tx on a `null:` port,\n'
		printf 'batch 512, callgrind): no monitor %s; a copy monitor (/t) nobody reads, every\n' \
			"${IMON[none]:-?}"
		printf 'frame a counted drop, %s.  With a reader (pkt-gen rx on the monitor) the\n' \
			"${IMON[full]:-?}"
		printf 'figure depends on how much of the stream the reader keeps up with (a frame\n'
		printf 'copied costs more than one dropped, a wake-up more than both): copy monitor\n'
		printf '%s, zero-copy monitor %s (pkt-gen writes the frame again into each buffer\n' \
			"${IMON[copy]:-?}" "${IMON[zcopy]:-?}"
		printf 'swapped in, NS_BUF_CHANGED).\n\n'
	elif [ -n "$INSTR_NOTE" ]; then
		printf '%s\n\n' "$INSTR_NOTE"
	fi
	for id in "${SELECTED[@]}"; do
		if [ -n "${SKIPPED[$id]:-}" ]; then
			printf 'SKIP %s %s\n' "$id" "${SKIPPED[$id]}"
		elif [ -n "${VALS[$id]:-}" ]; then
			st=$(stats "$WORK/$id.vals")
			read -r med lo hi n <<<"$st"
			printf 'RESULT %s Mpps %s %s %s %s %s\n' "$id" "$med" "$lo" "$hi" "$n" "${MIRR[$id]:--}"
		fi
	done
	[ -n "${INSTR[cur]:-}" ] && printf 'INSTR null-b1 %s %s\n' "${INSTR[cur]}" "${INSTR[base]:--}"
	[ -n "${INSTR[cur]:-}" ] && printf 'INSTR null-b512 none %s full %s copy %s zcopy %s\n' \
		"${IMON[none]:--}" "${IMON[full]:--}" "${IMON[copy]:--}" "${IMON[zcopy]:--}"
} >"$WORK/report.md"
cat "$WORK/report.md"
[ -n "$OUT" ] && cp "$WORK/report.md" "$OUT"
exit $STATUS

#!/usr/bin/env bash
# bench/vale-modules.sh - what a VALE module costs: the built-in learning
# bridge against the same bridge as a module (learn.so) and the L3
# forwarder (l3fwd.so), in the same run.
#
# Objective (issue 13): port-to-port Mpps at 60 bytes with each logic; the
# module path within 10% of the built-in.
#
# Operations: one private netmapd, one forwarding thread pinned to the
# last cpu.  Each run makes three fresh switches -- one with the built-in
# bridge, one with learn.so, one with l3fwd.so -- with a port pair each,
# and bench/vale_rotate (pinned to cpu 0) sends on one pair's port a and
# receives on its port b for a slice of 100 ms, then the next pair's, and
# so on for --seconds per pair: the forwarding thread is the bottleneck,
# so the logic's cost shows, and since the slices rotate all the time,
# the bursts of other work on a shared host hit the three alike (runs of
# a few seconds one after the other do not).  Frames: 60-byte IPv4/UDP
# datagrams to 10.0.2.1, unicast to b's address, which b announces first
# (a learning bridge sends them to b alone; l3fwd routes 10.0.2.0/24 to b
# among eight routes).  Besides Mpps, the forwarding thread's CPU time
# during each pair's slices (/proc, utime + stime) divided by the frames
# it forwarded gives ns per frame, which other load on the host disturbs
# less than the rate.  Medians of --runs runs, each preceded by a wait for
# the host to be quiet.  Modules are loaded from a copy in the work
# directory (netmapd loads only files nobody untrusted could have
# written; the build tree may be anyone's).  Everything started here is
# stopped by pid on exit.
set -u -o pipefail
export LC_ALL=C

usage() {
	cat <<'EOF'
usage: bench/vale-modules.sh [--quick] [--runs N] [--seconds S] [--out FILE]
                             [--keep] [--list] [-h]

  --quick         one run of 1 s per scenario, no waiting for a quiet host
  --runs N        runs per scenario (default 5)
  --seconds S     measured seconds per scenario and run (default 5)
  --out FILE      also write the Markdown report to FILE
  --keep          keep the work directory with every log
  --list          print the scenario ids and exit

Environment: BUILD (default "build").
Output (stdout): a Markdown table, then one machine-readable line per
scenario:
  RESULT <id> Mpps <median> <min> <max> <runs> <ns/frame median>
  FAIL <id> <reason>
and "RATIO <id>/builtin-60 <Mpps ratio> <ns/frame ratio>", medians of the
ratios within each run.  Exit status:
0 if every scenario gave a figure, 1 if one failed, 2 on usage errors.
EOF
}

SC_IDS=(builtin-60 learn-60 l3fwd-60)
declare -A SC_DESC=(
	[builtin-60]='built-in learning bridge'
	[learn-60]='the same bridge as a module (examples/vale-modules/learn.c)'
	[l3fwd-60]='IPv4 longest-prefix forwarder module, 8 routes (l3fwd.c, per-batch lookup)')
L3_ARGS='route 10.0.1.0/24 a route 10.0.2.0/24 b route 10.0.0.0/16 a route 10.9.0.0/16 a
route 172.16.0.0/12 a route 192.168.0.0/16 a route 10.0.2.128/25 a route 10.0.3.0/24 a
default drop'

RUNS=5 SECS=5 QUICK=0 OUT= KEEP=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--runs) RUNS=${2:-}; shift ;;
	--seconds) SECS=${2:-}; shift ;;
	--out) OUT=${2:-}; shift ;;
	--keep) KEEP=1 ;;
	--list) printf '%s\n' "${SC_IDS[@]}"; exit 0 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "bench/vale-modules.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
[ $QUICK = 1 ] && RUNS=1 SECS=1
for v in "$RUNS" "$SECS"; do
	case $v in ''|*[!0-9]*|0) echo "bench/vale-modules.sh: bad number '$v'" >&2; exit 2 ;; esac
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
VALECTL=$BUILD/vale-ctl NETMAPD=$BUILD/netmapd ROT=$BUILD/bench/vale_rotate
WORK=$(mktemp -d "${TMPDIR:-/tmp}/unetmap-vmod-bench.XXXXXX") || exit 1
chmod 755 "$WORK"
NCPU=$(nproc)
FWD_CPU=$((NCPU > 1 ? NCPU - 1 : 0))

log() { printf '%s\n' "$*" >&2; }

DPID=
cleanup() {
	trap - EXIT INT TERM
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	if [ $KEEP = 1 ]; then log "bench: logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'log "bench: interrupted"; exit 130' INT TERM

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

SKIP=
for b in "$VALECTL" "$NETMAPD" "$ROT" "$BUILD/vale-modules/learn.so" \
	 "$BUILD/vale-modules/l3fwd.so"; do
	[ -e "$b" ] || SKIP="$b not built"
done
SOCK=$WORK/netmapd.sock
export UNETMAP_SOCKET=$SOCK UNETMAP_NETMAPD=$NETMAPD
FWD_TID=
if [ -z "$SKIP" ]; then
	install -m 644 "$BUILD/vale-modules/learn.so" "$BUILD/vale-modules/l3fwd.so" "$WORK/"
	"$NETMAPD" --foreground --socket "$SOCK" --vale-threads 1 --vale-cpus "$FWD_CPU" \
		>"$WORK/netmapd.log" 2>&1 </dev/null &
	DPID=$!
	for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
	[ -S "$SOCK" ] || SKIP="netmapd did not start: $(head -c 140 "$WORK/netmapd.log")"
fi

# The forwarding thread starts with the first port: a persistent port,
# in no switch, makes it exist before the runs.
STATF=
if [ -z "$SKIP" ]; then
	if "$VALECTL" -n vmbhold >"$WORK/hold.log" 2>&1; then
		for t in /proc/"$DPID"/task/*; do
			[ "$(cat "$t/comm" 2>/dev/null)" = vale-fwd0 ] && STATF=$t/stat
		done
	fi
	[ -n "$STATF" ] || log "bench: netmapd's forwarding thread not found: no ns/frame"
fi

SEQ=0
# run: one vale_rotate run over three fresh switches; sets R_<id> (Mpps)
# and N_<id> (ns/frame), or REASON
run_round() {
	local dir=$WORK/run$((SEQ += 1)) sw=valem$SEQ id rc
	mkdir -p "$dir"
	REASON=
	[ -n "$SKIP" ] && { REASON=$SKIP; return 2; }
	# shellcheck disable=SC2086 # the routes are words
	if ! { "$VALECTL" --module "${sw}l" "$WORK/learn.so" &&
	       "$VALECTL" --module "${sw}r" "$WORK/l3fwd.so" $L3_ARGS; } >"$dir/ctl.log" 2>&1; then
		REASON="cannot load the modules: $(head -c 140 "$dir/ctl.log")"
		return 2
	fi
	taskset -c 0 "$ROT" -p "${sw}b:a,${sw}b:b" -p "${sw}l:a,${sw}l:b" -p "${sw}r:a,${sw}r:b" \
		-4 10.0.2.1 -l 60 -d "$SECS" -w 1000 -s 100 ${STATF:+-t "$STATF"} >"$dir/rot.log" 2>&1 &
	local pid=$!
	sleep 0.5
	# what runs in each switch
	for s in b l r; do "$VALECTL" --module "$sw$s"; done >"$dir/module.log" 2>&1
	wait "$pid"
	rc=$?
	"$VALECTL" --module "${sw}l" default >/dev/null 2>&1
	"$VALECTL" --module "${sw}r" default >/dev/null 2>&1
	if [ $rc -ne 0 ]; then
		REASON="vale_rotate exited with $rc: $(tail -c 140 "$dir/rot.log")"
		return 2
	fi
	for id in "${SC_IDS[@]}"; do
		local s=${id%-60} port
		case $s in builtin) port=${sw}b ;; learn) port=${sw}l ;; l3fwd) port=${sw}r ;; esac
		if ! grep -q "^$port module $s forwarded" "$dir/module.log"; then
			REASON="$port did not run $s: $(grep "^$port " "$dir/module.log" | head -c 140)"
			return 2
		fi
		R[$id]=$(awk -v p="$port:a:" '$2 == p { for (i = 1; i < NF; i++) if ($(i + 1) == "Mpps,") print $i }' \
			"$dir/rot.log")
		N[$id]=$(awk -v p="$port:a:" '$2 == p && $(NF - 1) != "-" { print $(NF - 1) }' "$dir/rot.log")
		[ -n "${R[$id]}" ] || { REASON="no figure for $id: $(head -c 140 "$dir/rot.log")"; return 2; }
	done
	return 0
}

declare -A VALS NSV FAILS R N PRM PRN
for ((round = 1; round <= RUNS; round++)); do
	wait_quiet
	if run_round; then
		for id in "${SC_IDS[@]}"; do
			VALS[$id]+="${R[$id]} "
			NSV[$id]+="${N[$id]:-} "
			# ratios within one run: its slices met the same host
			PRM[$id]+="$(awk -v a="${R[$id]}" -v b="${R[builtin-60]}" \
				'BEGIN { if (b > 0) printf "%.3f", a / b }') "
			[ -n "${N[$id]:-}" ] && [ -n "${N[builtin-60]:-}" ] &&
				PRN[$id]+="$(awk -v a="${N[$id]}" -v b="${N[builtin-60]}" \
					'BEGIN { if (b > 0) printf "%.3f", a / b }') "
		done
		log "bench: run $round: $(for id in "${SC_IDS[@]}"; do
			printf '%s %s Mpps %s ns/frame; ' "$id" "${R[$id]}" "${N[$id]:--}"; done)"
	else
		for id in "${SC_IDS[@]}"; do FAILS[$id]+="$REASON; "; done
		log "bench: run $round failed: $REASON"
	fi
done
[ -n "$STATF" ] && "$VALECTL" -r vmbhold >/dev/null 2>&1

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	printf "%.2f %.2f %.2f %d\n", m, v[1], v[NR], NR } }'; }

report() {
	local id m lo hi n ns nslo nshi rc=0
	echo "# VALE module benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $NCPU cpus)"
	echo
	echo "$RUNS run(s) of ${SECS} s per scenario, median [min–max] (the ratios to the" \
	     "built-in are taken within each run, then their median); the three switches" \
	     "measured in turn, 100 ms each, by bench/vale_rotate on cpu 0 (sends on port a," \
	     "receives on port b), one forwarding thread on cpu $FWD_CPU; 60-byte IPv4/UDP frames" \
	     "unicast to b.  ns/frame: CPU time of the forwarding thread per frame forwarded." \
	     "Busiest the host was with other work before a run: ${MAXBUSY}%."
	echo
	echo "| scenario | Mpps | ns/frame | Mpps / built-in | ns/frame / built-in | description |"
	echo "|---|---|---|---|---|---|"
	for id in "${SC_IDS[@]}"; do
		if [ -n "${VALS[$id]:-}" ]; then
			read -r m lo hi n <<<"$(echo "${VALS[$id]}" | median)"
			read -r ns nslo nshi _ <<<"$(echo "${NSV[$id]:-}" | median)"
			local vm= vn=
			if [ "$id" != builtin-60 ]; then
				vm=$(echo "${PRM[$id]:-}" | median | awk '{ printf "%.0f%% [%.0f–%.0f%%]", 100 * $1, 100 * $2, 100 * $3 }')
				vn=$(echo "${PRN[$id]:-}" | median | awk '{ printf "%.0f%% [%.0f–%.0f%%]", 100 * $1, 100 * $2, 100 * $3 }')
			fi
			echo "| $id | $m [$lo–$hi] | ${ns:-?}${ns:+ [$nslo–$nshi]} | $vm | $vn | ${SC_DESC[$id]} |"
		else
			echo "| $id | failed | | | | ${FAILS[$id]:-} |"
		fi
	done
	echo
	for id in "${SC_IDS[@]}"; do
		if [ -n "${VALS[$id]:-}" ]; then
			read -r m lo hi n <<<"$(echo "${VALS[$id]}" | median)"
			read -r ns _ _ _ <<<"$(echo "${NSV[$id]:-}" | median)"
			echo "RESULT $id Mpps $m $lo $hi $n ${ns:-}"
		else
			echo "FAIL $id ${FAILS[$id]:-}"
			rc=1
		fi
	done
	for id in learn-60 l3fwd-60; do
		[ -n "${PRM[$id]:-}" ] || continue
		read -r m _ _ _ <<<"$(echo "${PRM[$id]}" | median)"
		read -r ns _ _ _ <<<"$(echo "${PRN[$id]:-}" | median)"
		echo "RATIO $id/builtin-60 $m ${ns:--}"
	done
	return $rc
}

report >"$WORK/report.md"
rc=$?
cat "$WORK/report.md"
[ -n "$OUT" ] && cp "$WORK/report.md" "$OUT"
exit $rc

#!/usr/bin/env bash
# bench/vale-modules.sh - what a VALE module costs: the built-in learning
# bridge against the same bridge as a module (learn.so) and the L3
# forwarder (l3fwd.so), in the same run.
#
# Objective (issue 13): port-to-port Mpps at 60 bytes with each logic; the
# module path within 10% of the built-in.
#
# Operations: one private netmapd, one forwarding thread pinned to the
# last cpu; bench/vale_pair (one thread sending on port a and receiving on
# port b, pinned to cpu 0) on a fresh switch per run, so the forwarding
# thread is the bottleneck and the logic's cost shows.  Frames: 60-byte
# IPv4/UDP datagrams to 10.0.2.1, unicast to b's address, which b
# announces first (a learning bridge then sends them to b alone; l3fwd
# routes 10.0.2.0/24 to b among eight routes).  Rounds are round-robin
# over the scenarios, so the drift of a shared host spreads over all of
# them; each run waits for the host to be quiet first.  Besides Mpps, the
# forwarding thread's CPU time over the run (/proc, utime + stime) divided
# by the frames it forwarded gives ns per frame, which other load on the
# host disturbs less than the rate.  Medians of --runs runs.  Modules are
# loaded from a copy in the work directory (netmapd loads only files
# nobody untrusted could have written; the build tree may be anyone's).
# Everything started here is stopped by pid on exit.
set -u -o pipefail
export LC_ALL=C

usage() {
	cat <<'EOF'
usage: bench/vale-modules.sh [--quick] [--runs N] [--seconds S] [--out FILE]
                             [--keep] [--list] [-h]

  --quick         one run of 1 s per scenario, no waiting for a quiet host
  --runs N        runs per scenario (default 5)
  --seconds S     measured seconds per run (default 5)
  --out FILE      also write the Markdown report to FILE
  --keep          keep the work directory with every log
  --list          print the scenario ids and exit

Environment: BUILD (default "build").
Output (stdout): a Markdown table, then one machine-readable line per
scenario:
  RESULT <id> Mpps <median> <min> <max> <runs> <ns/frame median>
  FAIL <id> <reason>
and "RATIO <id>/builtin-60 <Mpps ratio> <ns/frame ratio>".  Exit status:
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
VALECTL=$BUILD/vale-ctl NETMAPD=$BUILD/netmapd PAIR=$BUILD/bench/vale_pair
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
for b in "$VALECTL" "$NETMAPD" "$PAIR" "$BUILD/vale-modules/learn.so" \
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

# CPU ticks (utime + stime) of netmapd's forwarding thread, which starts
# with the first port
fwd_ticks() {
	local t
	if [ -z "$FWD_TID" ]; then
		for t in /proc/"$DPID"/task/*; do
			[ "$(cat "$t/comm" 2>/dev/null)" = vale-fwd0 ] && FWD_TID=${t##*/}
		done
	fi
	[ -n "$FWD_TID" ] || { echo 0; return; }
	awk '{ print $14 + $15 }' "/proc/$DPID/task/$FWD_TID/stat" 2>/dev/null || echo 0
}
HZ=$(getconf CLK_TCK)

SEQ=0
# run ID: one vale_pair run on a fresh switch; sets RESULT (Mpps) and NS
run_one() {
	local id=$1 sw=valem$((SEQ += 1)) dir=$WORK/run$SEQ c0 c1 got pid
	mkdir -p "$dir"
	RESULT= NS= REASON=
	[ -n "$SKIP" ] && { REASON=$SKIP; return 2; }
	case $id in
	learn-60) "$VALECTL" --module "$sw" "$WORK/learn.so" >"$dir/ctl.log" 2>&1 ;;
	# shellcheck disable=SC2086 # the routes are words
	l3fwd-60) "$VALECTL" --module "$sw" "$WORK/l3fwd.so" $L3_ARGS >"$dir/ctl.log" 2>&1 ;;
	*) true ;;
	esac || { REASON="cannot load the module: $(head -c 140 "$dir/ctl.log")"; return 2; }
	# CPU time over vale_pair's measured window: after its warm-up,
	# until it stops counting
	taskset -c 0 "$PAIR" -a "$sw:a" -b "$sw:b" -u -4 10.0.2.1 -l 60 -d "$SECS" -w 1000 \
		>"$dir/pair.log" 2>&1 &
	pid=$!
	sleep 1
	c0=$(fwd_ticks)
	"$VALECTL" --module "$sw" >"$dir/module.log" 2>&1	# what runs there
	sleep "$SECS"
	c1=$(fwd_ticks)
	wait "$pid"
	[ "$id" = builtin-60 ] || "$VALECTL" --module "$sw" default >/dev/null 2>&1
	RESULT=$(awk '/^vale_pair: received/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mpps") print $i }' \
		"$dir/pair.log")
	[ -n "$RESULT" ] || { REASON="no traffic: $(head -c 140 "$dir/pair.log")"; return 2; }
	grep -q " module ${id%-60} forwarded" "$dir/module.log" ||
		{ REASON="the switch did not run ${id%-60}: $(head -c 140 "$dir/module.log")"; return 2; }
	got=$(awk '/^vale_pair: received/ { print $3 }' "$dir/pair.log")
	if [ "$c0" -gt 0 ] && [ "$c1" -gt "$c0" ] && [ "${got:-0}" -gt 0 ]; then
		NS=$(awk -v t=$((c1 - c0)) -v hz="$HZ" -v n="$got" 'BEGIN { printf "%.1f", t * 1e9 / hz / n }')
	fi
	return 0
}

declare -A VALS NSV FAILS
for ((round = 1; round <= RUNS; round++)); do
	for id in "${SC_IDS[@]}"; do
		wait_quiet
		if run_one "$id"; then
			VALS[$id]+="$RESULT "
			NSV[$id]+="${NS:-} "
			log "bench: $id run $round: $RESULT Mpps, ${NS:-?} ns/frame in the forwarding thread"
		else
			FAILS[$id]+="$REASON; "
			log "bench: $id run $round failed: $REASON"
		fi
	done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	printf "%.2f %.2f %.2f %d\n", m, v[1], v[NR], NR } }'; }

report() {
	local id m lo hi n ns nslo nshi bm bns rc=0
	echo "# VALE module benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $NCPU cpus)"
	echo
	echo "$RUNS run(s) of ${SECS} s per scenario, median [min–max]; bench/vale_pair on cpu 0" \
	     "(sends on port a, receives on port b), one forwarding thread on cpu $FWD_CPU;" \
	     "60-byte IPv4/UDP frames unicast to b.  ns/frame: CPU time of the forwarding" \
	     "thread per frame forwarded.  Busiest the host was with other work before a run:" \
	     "${MAXBUSY}%."
	echo
	echo "| scenario | Mpps | ns/frame | vs built-in (Mpps, ns/frame) | description |"
	echo "|---|---|---|---|---|"
	read -r bm _ _ _ <<<"$(echo "${VALS[builtin-60]:-}" | median)"
	read -r bns _ _ _ <<<"$(echo "${NSV[builtin-60]:-}" | median)"
	for id in "${SC_IDS[@]}"; do
		if [ -n "${VALS[$id]:-}" ]; then
			read -r m lo hi n <<<"$(echo "${VALS[$id]}" | median)"
			read -r ns nslo nshi _ <<<"$(echo "${NSV[$id]:-}" | median)"
			local vs=
			if [ "$id" != builtin-60 ] && [ -n "${bm:-}" ]; then
				vs=$(awk -v a="$m" -v b="$bm" -v x="${ns:-}" -v y="${bns:-}" 'BEGIN {
					s = sprintf("%.0f%%", 100 * a / b)
					if (x != "" && y != "" && y > 0) s = s sprintf(", %.0f%%", 100 * x / y)
					print s }')
			fi
			echo "| $id | $m [$lo–$hi] | ${ns:-?}${ns:+ [$nslo–$nshi]} | $vs | ${SC_DESC[$id]} |"
		else
			echo "| $id | failed | | | ${FAILS[$id]:-} |"
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
		[ -n "${VALS[$id]:-}" ] && [ -n "${bm:-}" ] || continue
		read -r m _ _ _ <<<"$(echo "${VALS[$id]}" | median)"
		read -r ns _ _ _ <<<"$(echo "${NSV[$id]:-}" | median)"
		awk -v id=$id -v a="$m" -v b="$bm" -v x="${ns:-0}" -v y="${bns:-0}" 'BEGIN {
			printf "RATIO %s/builtin-60 %.2f %s\n", id, a / b, (y > 0 && x > 0) ? sprintf("%.2f", x / y) : "-" }'
	done
	return $rc
}

report >"$WORK/report.md"
rc=$?
cat "$WORK/report.md"
[ -n "$OUT" ] && cp "$WORK/report.md" "$OUT"
exit $rc

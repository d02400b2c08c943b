#!/usr/bin/env bash
# bench/run.sh - unetmap benchmarks, measured side by side with DPDK memif and
# kernel sockets in one invocation, written to bench/RESULTS.md.
#
# Objective: give every figure unetmap claims a peer measured in the same run
# on the same machine, so that ratios hold while absolute figures drift.
#
# Operations: start a private netmapd (unless UNETMAP_SOCKET names one); run
# every selected scenario once per round, RUNS rounds (round-robin, so slow
# drift of a shared host spreads over all scenarios alike); each run is bounded
# in time, pins the sender to core 0 and the receiver to core 1, and measures
# the steady state at the receiver; then write median and min-max per scenario,
# ratios against the peers, and the targets of issues 2 and 3.
#
# Everything this script starts (processes, network namespaces, hugepages,
# DPDK runtime files) is recorded and undone on exit, by pid and by name.
# Traffic only ever crosses pipes, memif sockets, or a veth pair between two
# network namespaces created here.

set -u -o pipefail
export LC_ALL=C

usage() {
	cat <<'EOF'
usage: bench/run.sh [--quick] [--runs N] [--seconds S] [--only ID[,ID...]]
                    [--out FILE] [--install-peers] [--dpdk-hugepages] [--keep]
                    [--list] [-h]

  --quick          one run of ~1 s per scenario (the test suite uses this);
                   results go to a temporary file unless --out is given
  --runs N         runs per scenario (default 5)
  --seconds S      steady-state seconds measured per run (default 5, quick 1)
  --only IDS       run only these scenarios (comma separated; see --list)
  --out FILE       where to write the results (default bench/RESULTS.md)
  --install-peers  apt-get install the peers' packages first (dpdk-dev for
                   dpdk-testpmd, strace, iproute2); nothing is installed otherwise
  --dpdk-hugepages run testpmd on 2 MB hugepages (reserved here, given back
                   on exit) instead of --no-huge; the fallback anyway when
                   --no-huge does not work
  --keep           keep the work directory with every log
  --list           print the scenario ids and exit
  -h, --help       this text

Environment: BUILD (build directory, default "build"), UNETMAP_SOCKET (use
this netmapd instead of starting a private one).
Exit status: 0 when every selected scenario produced a figure or a reasoned
skip, 1 when a unetmap scenario failed, 2 on a usage error.
EOF
}

# ---------------------------------------------------------------------------
# Scenarios: id, kind, description.  Order = order of execution and of the
# report.  Kinds: tput (Mpps, higher is better), rtt (us, lower is better),
# sys (system calls per million packets).
SC_IDS=(pipe-60 pipe-1514 pipe-60-touch pipe-1514-touch null-tx
	memif-64 memif-64-zc memif-1514 afpacket-60
	rtt-busy rtt-block syscalls)
declare -A SC_KIND=(
	[pipe-60]=tput [pipe-1514]=tput [pipe-60-touch]=tput
	[pipe-1514-touch]=tput [null-tx]=tput [memif-64]=tput
	[memif-64-zc]=tput [memif-1514]=tput [afpacket-60]=tput
	[rtt-busy]=rtt [rtt-block]=rtt [syscalls]=sys)
declare -A SC_OWNER=(
	[pipe-60]=unetmap [pipe-1514]=unetmap [pipe-60-touch]=unetmap
	[pipe-1514-touch]=unetmap [null-tx]=unetmap [memif-64]=dpdk
	[memif-64-zc]=dpdk [memif-1514]=dpdk [afpacket-60]=kernel
	[rtt-busy]=unetmap [rtt-block]=unetmap [syscalls]=unetmap)
declare -A SC_DESC=(
	[pipe-60]='unetmap pipe tx→rx, 60 B, batch 512, payload untouched'
	[pipe-1514]='unetmap pipe tx→rx, 1514 B, batch 512, payload untouched'
	[pipe-60-touch]='unetmap pipe, 60 B, tx copies each frame (-o 4), rx reads it (-o 2)'
	[pipe-1514-touch]='unetmap pipe, 1514 B, tx copies each frame (-o 4), rx reads it (-o 2)'
	[null-tx]='unetmap `null:` port, pkt-gen tx alone, 60 B, batch 512'
	[memif-64]='DPDK memif, testpmd txonly → rxonly, 64 B, copy mode'
	[memif-64-zc]='DPDK memif, same with client zero-copy=yes'
	[memif-1514]='DPDK memif, testpmd txonly → rxonly, 1514 B, copy mode'
	[afpacket-60]='veth across two netns, AF_PACKET sendmmsg+QDISC_BYPASS → TPACKET_V3, 60 B'
	[rtt-busy]='unetmap pipe ping-pong RTT, busy-waiting, 60 B'
	[rtt-block]='unetmap pipe ping-pong RTT, blocking in poll(), 60 B'
	[syscalls]='unetmap pipe 60 B under strace -c -f: system calls while both sides are busy')
# Peers each unetmap throughput figure is compared with ("id" or "id:label").
declare -A SC_PEERS=(
	[pipe-60]='memif-64 memif-64-zc afpacket-60'
	[pipe-1514]='memif-1514'
	[pipe-60-touch]='memif-64 memif-64-zc'
	[pipe-1514-touch]='memif-1514'
	[null-tx]='pipe-60')

# ---------------------------------------------------------------------------
# Options.
QUICK=0 RUNS= RUN_SECS= ONLY= OUT= INSTALL_PEERS=0 KEEP=0 DPDK_HUGE=0
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	--runs) RUNS=${2:-}; shift ;;
	--runs=*) RUNS=${1#*=} ;;
	--seconds) RUN_SECS=${2:-}; shift ;;
	--seconds=*) RUN_SECS=${1#*=} ;;
	--only) ONLY=${2:-}; shift ;;
	--only=*) ONLY=${1#*=} ;;
	--out) OUT=${2:-}; shift ;;
	--out=*) OUT=${1#*=} ;;
	--install-peers) INSTALL_PEERS=1 ;;
	--dpdk-hugepages) DPDK_HUGE=1 ;;
	--keep) KEEP=1 ;;
	--list) printf '%s\n' "${SC_IDS[@]}"; exit 0 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "bench/run.sh: unknown option: $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
if [ $QUICK = 1 ]; then
	RUNS=${RUNS:-1} RUN_SECS=${RUN_SECS:-1}
else
	RUNS=${RUNS:-5} RUN_SECS=${RUN_SECS:-5}
fi
case "$RUNS" in ''|*[!0-9]*|0) echo "bench/run.sh: --runs wants a positive integer" >&2; exit 2 ;; esac
case "$RUN_SECS" in ''|*[!0-9]*|0) echo "bench/run.sh: --seconds wants a positive integer" >&2; exit 2 ;; esac

SELECTED=()
if [ -n "$ONLY" ]; then
	for id in ${ONLY//,/ }; do
		if [ -z "${SC_KIND[$id]:-}" ]; then
			echo "bench/run.sh: unknown scenario '$id' (see --list)" >&2
			exit 2
		fi
	done
	for id in "${SC_IDS[@]}"; do
		case ",$ONLY," in *",$id,"*) SELECTED+=("$id") ;; esac
	done
else
	SELECTED=("${SC_IDS[@]}")
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) if [ -d "$BUILD" ]; then BUILD=$(cd "$BUILD" && pwd); else BUILD=$ROOT/$BUILD; fi ;; esac
PKTGEN=$BUILD/pkt-gen
NETMAPD=$BUILD/netmapd

WORK=$(mktemp -d "${TMPDIR:-/tmp}/unetmap-bench.XXXXXX") || exit 1
TMP_OUT=
if [ -z "$OUT" ]; then
	if [ $QUICK = 1 ]; then
		TMP_OUT=$(mktemp "${TMPDIR:-/tmp}/unetmap-bench-results.XXXXXX.md")
		OUT=$TMP_OUT
	else
		OUT=$ROOT/bench/RESULTS.md
	fi
fi
mkdir -p "$WORK/res"
# How long past its nominal length a run may take before it counts as failed.
GRACE_MS=15000
[ $QUICK = 1 ] && GRACE_MS=8000

log() { printf '%s\n' "$*" >&2; }

# ---------------------------------------------------------------------------
# Process, namespace and hugepage bookkeeping; undone by cleanup().
PIDS=()
NETNS=()
HP_SAVED=
HP_MOUNTED=0
HP_MKDIR=0
DPDK_PREFIXES=()
DAEMON_PID=

alive() {
	local st
	[ -r "/proc/$1/status" ] || return 1
	st=$(awk '/^State:/ { print $2; exit }' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# spawn LOG CMD... : start CMD in the background, output to LOG; sets SPAWNED.
spawn() {
	local logf=$1
	shift
	"$@" >"$logf" 2>&1 </dev/null &
	SPAWNED=$!
	PIDS+=("$SPAWNED")
	# Out of the job table: bash still reaps it, but does not print
	# "Segmentation fault" when testpmd crashes at teardown (PEERS.md).
	disown "$SPAWNED" 2>/dev/null
}

# stop PID SIGNAL GRACE_TENTHS : signal, wait up to GRACE, then SIGKILL; reap.
stop() {
	local pid=$1 sig=$2 grace=${3:-30} i
	if alive "$pid"; then
		kill -s "$sig" "$pid" 2>/dev/null
		for ((i = 0; i < grace; i++)); do
			alive "$pid" || break
			sleep 0.1
		done
		alive "$pid" && kill -s KILL "$pid" 2>/dev/null
	fi
	return 0
}

# wait_exit PID TENTHS : wait for PID to exit by itself; 1 on timeout.
wait_exit() {
	local pid=$1 n=$2 i
	for ((i = 0; i < n; i++)); do
		alive "$pid" || return 0
		sleep 0.1
	done
	return 1
}

hp_restore() {
	[ -n "$HP_SAVED" ] || return 0
	local p
	for p in "${DPDK_PREFIXES[@]}"; do
		rm -f /dev/hugepages/"$p"* 2>/dev/null
	done
	echo "$HP_SAVED" >/proc/sys/vm/nr_hugepages 2>/dev/null
	[ $HP_MOUNTED = 1 ] && umount /dev/hugepages 2>/dev/null
	[ $HP_MKDIR = 1 ] && rmdir /dev/hugepages 2>/dev/null
	HP_SAVED=
}

cleanup() {
	local pid ns p
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do
		alive "$pid" && kill -s TERM "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		wait_exit "$pid" 20 || kill -s KILL "$pid" 2>/dev/null
	done
	for ns in "${NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	for p in "${DPDK_PREFIXES[@]}"; do
		rm -rf "/var/run/dpdk/$p" 2>/dev/null
	done
	hp_restore
	if [ $KEEP = 1 ]; then
		log "bench: logs kept in $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'log "bench: interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------------------
# Small numeric helpers (awk does the arithmetic).
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# stats FILE -> "median min max n" of the numbers in FILE, one per line.
stats() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit 1
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.6f %.6f %.6f %d\n", m, v[1], v[NR], NR }'
}

# pps_samples FILE -> one Mpps figure per periodic pkt-gen report line.
# Matches netmap's "14.881 Mpps (14.896 Mpkts 7.150 Gbps in 1001020 usec) ..."
# and its -N form "14881000 pps (...)"; the final "Speed:" line is not a sample.
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

# testpmd_samples FILE -> one Mpps figure per "Rx-pps:" statistics line.
testpmd_samples() {
	awk '/Rx-pps:/ { printf "%.6f\n", $2 / 1e6 }' "$1"
}

# steady K -> mean of non-zero samples 2..K+1 on stdin: the first is a
# partial interval (traffic started inside it); the harness stops the sender
# once K+1 are printed, so any later one is partial too.  With fewer samples
# (a deadline hit), the first and the last are dropped; fails if none is left.
steady() {
	awk -v k="$1" '$1 > 0 { v[++n] = $1 } END {
		if (n >= k + 1) { a = 2; b = k + 1 } else { a = 2; b = n - 1 }
		if (b < a) exit 1
		for (i = a; i <= b; i++) s += v[i]
		printf "%.6f\n", s / (b - a + 1) }'
}

nonzero_count() { awk '$1 > 0 { n++ } END { print n + 0 }'; }

# first_error LOG... -> a one-line reason taken from a failed program's output.
first_error() {
	local line
	line=$(cat "$@" 2>/dev/null | grep -v -E '^\s*$' |
		grep -i -m1 -E 'error|fail|cannot|invalid|denied|not |unknown|usage|cause|reset|refused|abort' )
	[ -n "$line" ] || line=$(cat "$@" 2>/dev/null | grep -v -E '^\s*$' | tail -n1)
	[ -n "$line" ] || line="no output"
	line=${line//|/\/}
	printf '%s' "${line:0:140}"
}

# host_busy -> percentage of CPU time the whole host spent busy over
# QUIET_SAMPLE seconds.
# Called between runs, when nothing of ours runs: it measures the others.
host_busy() {
	local a b
	a=$(head -n1 /proc/stat)
	sleep "$QUIET_SAMPLE"
	b=$(head -n1 /proc/stat)
	printf '%s\n%s\n' "$a" "$b" | awk '{
		idle = $5 + $6; tot = 0
		for (i = 2; i <= NF; i++) tot += $i
		if (NR == 1) { i0 = idle; t0 = tot } else { i1 = idle; t1 = tot } }
		END { d = t1 - t0; printf "%d\n", (d > 0) ? 100 * (1 - (i1 - i0) / d) + 0.5 : 0 }'
}

# wait_quiet ID : before a run, wait (full mode: up to QUIET_WAIT s per run,
# QUIET_BUDGET s in all) for the host to be quiet; remember the busiest
# figure seen for the report.
QUIET_PCT=15
QUIET_WAIT=60 QUIET_SAMPLE=0.5 QUIET_BUDGET=600
[ $QUICK = 1 ] && QUIET_WAIT=0 QUIET_SAMPLE=0.2 QUIET_BUDGET=0
wait_quiet() {
	local id=$1 b t0 prev
	b=$(host_busy)
	t0=$(now_ms)
	while [ "$b" -gt $QUIET_PCT ] && [ $(( $(now_ms) - t0 )) -lt $((QUIET_WAIT * 1000)) ] &&
	      [ "$QUIET_BUDGET" -gt 0 ]; do
		sleep 2
		QUIET_BUDGET=$((QUIET_BUDGET - 2))
		b=$(host_busy)
	done
	prev=$(cat "$WORK/res/$id.busy" 2>/dev/null || echo 0)
	[ "$b" -gt "$prev" ] && echo "$b" >"$WORK/res/$id.busy"
	[ "$b" -gt $QUIET_PCT ] && log "bench: host ${b}% busy with other work before $id"
	return 0
}

# ---------------------------------------------------------------------------
# Per-scenario result records in $WORK/res/<id>.{val,p99,note,skip,fail}.
# A scenario function sets RESULT (figure), optionally RESULT_P99 and NOTE,
# and returns 0 (figure), 1 (skipped for good: REASON) or 2 (this run
# failed: REASON).
RESULT= RESULT_P99= RESULT_STAT= NOTE= REASON=

# ---------------------------------------------------------------------------
# unetmap: pkt-gen.
PG_MISSING=
PG_BUSY_OPT=
PG_HELP=
unetmap_check() {
	if [ ! -x "$PKTGEN" ]; then
		PG_MISSING="pending: $PKTGEN not built yet"
		return
	fi
	# Measure one binary throughout: a rebuild of the tree during the
	# invocation must not swap it (or remove it) between runs.  pkt-gen
	# links libnetmap statically; netmapd is copied with it so that both
	# speak the same protocol version.
	mkdir -p "$WORK/bin"
	cp "$PKTGEN" "$WORK/bin/pkt-gen" && PKTGEN=$WORK/bin/pkt-gen
	if [ -x "$NETMAPD" ] && cp "$NETMAPD" "$WORK/bin/netmapd"; then
		NETMAPD=$WORK/bin/netmapd
	fi
	PG_HELP=$("$PKTGEN" -h 2>&1 | head -n 200)
}

daemon_start() {
	if [ -n "${UNETMAP_SOCKET:-}" ] || [ -n "$PG_MISSING" ]; then
		return 0
	fi
	if [ ! -x "$NETMAPD" ]; then
		log "bench: $NETMAPD not built; pkt-gen will start netmapd on demand"
		return 0
	fi
	local sock=$WORK/netmapd.sock i
	spawn "$WORK/netmapd.log" "$NETMAPD" --foreground --socket "$sock"
	DAEMON_PID=$SPAWNED
	for ((i = 0; i < 50; i++)); do
		[ -S "$sock" ] && break
		alive "$DAEMON_PID" || break
		sleep 0.1
	done
	if [ ! -S "$sock" ]; then
		PG_MISSING="failed: netmapd did not start: $(first_error "$WORK/netmapd.log")"
		return 0
	fi
	export UNETMAP_SOCKET=$sock
}

PIPE_SEQ=0
PG_T=1000
[ $QUICK = 1 ] && PG_T=250

# pg_wait_samples LOG NEED DEADLINE_MS PIDS... : wait until LOG holds NEED
# non-zero periodic samples, one of PIDS exits, or the deadline passes.
pg_wait_samples() {
	local logf=$1 need=$2 deadline=$3 p
	shift 3
	while [ "$(now_ms)" -lt "$deadline" ]; do
		[ "$(pps_samples "$logf" | nonzero_count)" -ge "$need" ] && return 0
		for p in "$@"; do
			alive "$p" || return 1
		done
		sleep 0.2
	done
	return 1
}

# pg_pair LEN TXOPTS RXOPTS [hook] : pkt-gen tx on NAME{1 (core 0) and rx on
# NAME}1 (core 1); figure = receiver's steady-state rate.  The optional hook
# is called with the two pids once traffic is steady (used by "syscalls").
pg_pair() {
	local len=$1 txo=$2 rxo=$3 hook=${4:-}
	local name="ub$$p$((PIPE_SEQ += 1))" dir=$WORK/pipe$PIPE_SEQ
	local need=$(( (RUN_SECS * 1000 + PG_T - 1) / PG_T + 1 )) rxp txp rc=0 deadline
	mkdir -p "$dir"
	# shellcheck disable=SC2086 # options are word lists by design
	spawn "$dir/rx.log" taskset -c 1 "$PKTGEN" -i "netmap:$name}1" -f rx -b 512 \
		-a 1 -w 0 -T "$PG_T" $rxo
	rxp=$SPAWNED
	# shellcheck disable=SC2086
	spawn "$dir/tx.log" taskset -c 0 "$PKTGEN" -i "netmap:$name{1" -f tx -l "$len" \
		-b 512 -a 0 -w 0 -T "$PG_T" $txo
	txp=$SPAWNED
	deadline=$(( $(now_ms) + RUN_SECS * 1000 + GRACE_MS ))
	if [ -n "$hook" ]; then
		# Two samples: traffic flows and the first (partial) one is over.
		if pg_wait_samples "$dir/rx.log" 2 "$deadline" "$rxp" "$txp"; then
			"$hook" "$txp" "$rxp" "$dir" || rc=2
		else
			rc=2
		fi
	fi
	if [ $rc = 0 ] && ! pg_wait_samples "$dir/rx.log" "$need" "$deadline" "$rxp" "$txp"; then
		rc=2
	fi
	stop "$txp" INT 30
	stop "$rxp" INT 30
	if [ $rc = 0 ] && RESULT=$(pps_samples "$dir/rx.log" | steady $((need - 1))); then
		return 0
	fi
	[ -n "${REASON:-}" ] || REASON="no steady traffic: $(first_error "$dir/tx.log" "$dir/rx.log")"
	return 2
}

sc_pipe() { # LEN TXOPTS RXOPTS
	[ -z "$PG_MISSING" ] || { REASON=$PG_MISSING; return 1; }
	REASON=
	pg_pair "$@"
}

run_pipe_60() { sc_pipe 60 "" ""; }
run_pipe_1514() { sc_pipe 1514 "" ""; }
run_pipe_60_touch() { sc_pipe 60 "-o 4" "-o 2"; }
run_pipe_1514_touch() { sc_pipe 1514 "-o 4" "-o 2"; }

run_null_tx() {
	[ -z "$PG_MISSING" ] || { REASON=$PG_MISSING; return 1; }
	local dir=$WORK/null$((PIPE_SEQ += 1)) txp deadline
	local need=$(( (RUN_SECS * 1000 + PG_T - 1) / PG_T + 1 ))
	mkdir -p "$dir"
	spawn "$dir/tx.log" taskset -c 0 "$PKTGEN" -i "null:ub$$n$PIPE_SEQ" -f tx -l 60 \
		-b 512 -a 0 -w 0 -T "$PG_T"
	txp=$SPAWNED
	deadline=$(( $(now_ms) + RUN_SECS * 1000 + GRACE_MS ))
	pg_wait_samples "$dir/tx.log" "$need" "$deadline" "$txp"
	stop "$txp" INT 30
	if RESULT=$(pps_samples "$dir/tx.log" | steady $((need - 1))); then
		return 0
	fi
	REASON="no steady traffic: $(first_error "$dir/tx.log")"
	return 2
}

# RTT: ping on NAME{1 (core 0), pong on NAME}1 (core 1).  Figure = p50 when
# pkt-gen prints one, else the average; p99 alongside when printed.
rtt_parse() { # LOG -> "p50 p99" or "avg -" in microseconds
	# pkt-gen's totals, one unit at the end of the line for all figures:
	#   "RTT over N packets: min X av Y ns"            (netmap)
	#   "RTT over N packets: max X p50 Y p99 Z ns"     (ours, added)
	awk '
	/RTT over [0-9]+ packets:/ {
		u = $NF; d = (u == "ns") ? 1000 : (u == "ms") ? 0.001 : 1
		for (i = 1; i < NF; i++) {
			if ($i == "p50") p50 = $(i + 1) / d
			if ($i == "p99") p99 = $(i + 1) / d
			if ($i == "av") avg = $(i + 1) / d
		}
	}
	END {
		if (p50 != "") printf "%.6f %s\n", p50, (p99 != "") ? sprintf("%.6f", p99) : "-"
		else if (avg != "") printf "%.6f -\n", avg
		else exit 1
	}' "$1"
}

sc_rtt() { # extra ping/pong options
	[ -z "$PG_MISSING" ] || { REASON=$PG_MISSING; return 1; }
	local opts=$1 name="ub$$r$((PIPE_SEQ += 1))" dir=$WORK/rtt$PIPE_SEQ pop pip r
	mkdir -p "$dir"
	# shellcheck disable=SC2086
	spawn "$dir/pong.log" taskset -c 1 "$PKTGEN" -i "netmap:$name}1" -f pong -a 1 -w 0 $opts
	pop=$SPAWNED
	# shellcheck disable=SC2086
	spawn "$dir/ping.log" taskset -c 0 "$PKTGEN" -i "netmap:$name{1" -f ping -a 0 -w 0 $opts
	pip=$SPAWNED
	# A short warm-up, then RUN_SECS of measurement; ping's totals cover
	# both (pkt-gen has no way to reset them).
	wait_exit "$pip" $(( RUN_SECS * 10 + 5 ))
	stop "$pip" INT 30
	stop "$pop" INT 30
	if r=$(rtt_parse "$dir/ping.log"); then
		RESULT=${r% *} RESULT_P99=${r#* }
		[ "$RESULT_P99" = - ] && RESULT_P99=
		if grep -q 'RTT over .* p50 ' "$dir/ping.log"; then
			RESULT_STAT=p50
		else
			RESULT_STAT=avg NOTE="figure is the average: pkt-gen printed no p50"
		fi
		return 0
	fi
	REASON="no RTT report: $(first_error "$dir/ping.log" "$dir/pong.log")"
	return 2
}
run_rtt_busy() {
	if [ -z "$PG_MISSING" ] && [ -z "$PG_BUSY_OPT" ]; then
		REASON="skipped: pkt-gen offers no busy-wait option (see $PKTGEN -h)"
		return 1
	fi
	sc_rtt "$PG_BUSY_OPT"
}
run_rtt_block() { sc_rtt ""; }

# syscalls: strace -c -f attached to both pkt-gen processes of a busy 60 B
# pipe for STRACE_SECS; figure = calls per million packets received.
STRACE_SECS=2
[ $QUICK = 1 ] && STRACE_SECS=1
# vol_switches PID... -> voluntary context switches of all their threads: a
# thread blocks (sleeps in poll/epoll/futex) exactly when one is counted.
vol_switches() {
	local p
	for p in "$@"; do
		cat /proc/"$p"/task/*/status 2>/dev/null
	done | awk '/^voluntary_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}

syscall_hook() { # TXPID RXPID DIR
	local txp=$1 rxp=$2 dir=$3 stx srx t0 t1 v0
	# First, untraced: how often do the two processes block?  strace
	# slows down whoever makes system calls, so this is the undisturbed
	# view of the same thing.
	v0=$(vol_switches "$txp" "$rxp")
	t0=$(now_ms)
	sleep "$STRACE_SECS"
	echo "$(( $(vol_switches "$txp" "$rxp") - v0 )) $(( $(now_ms) - t0 ))" >"$dir/vol"
	spawn "$dir/strace-tx.err" strace -c -f -q -o "$dir/strace-tx.txt" -p "$txp"
	stx=$SPAWNED
	spawn "$dir/strace-rx.err" strace -c -f -q -o "$dir/strace-rx.txt" -p "$rxp"
	srx=$SPAWNED
	t0=$(now_ms)
	sleep "$STRACE_SECS"
	t1=$(now_ms)
	# One SIGINT each: strace detaches and writes its summary; a second
	# one could cut that short.
	kill -s INT "$stx" "$srx" 2>/dev/null
	wait_exit "$stx" 50 || stop "$stx" KILL 0
	wait_exit "$srx" 50 || stop "$srx" KILL 0
	echo $((t1 - t0)) >"$dir/strace-ms"
	if [ ! -s "$dir/strace-tx.txt" ] || [ ! -s "$dir/strace-rx.txt" ]; then
		REASON="strace produced no summary: $(first_error "$dir/strace-tx.err" "$dir/strace-rx.err")"
		return 1
	fi
}
strace_calls() { # strace -c output -> total calls, and top syscalls
	awk '$NF == "total" { print $4; exit }' "$1"
}
strace_top() {
	awk '/^-/ { next } $NF == "total" { exit }
		$1 ~ /^[0-9.]+$/ && NF >= 5 { printf "%s%s %s", sep, $NF, $4; sep = ", " }' "$1" |
		cut -c1-120
}
run_syscalls() {
	[ -z "$PG_MISSING" ] || { REASON=$PG_MISSING; return 1; }
	command -v strace >/dev/null || { REASON="skipped: strace not installed"; return 1; }
	REASON=
	local dir ctx crx ms mpps vol vms
	pg_pair 60 "" "" syscall_hook || return 2
	dir=$WORK/pipe$PIPE_SEQ
	ctx=$(strace_calls "$dir/strace-tx.txt") crx=$(strace_calls "$dir/strace-rx.txt")
	ms=$(cat "$dir/strace-ms")
	mpps=$RESULT
	RESULT=$(awk -v a="${ctx:-0}" -v b="${crx:-0}" -v ms="$ms" -v r="$mpps" \
		'BEGIN { printf "%.6f\n", (a + b) / (r * ms / 1000) }')
	read -r vol vms <"$dir/vol"
	NOTE="untraced: $vol voluntary context switches (sleeps) in ${vms} ms; traced: $((ctx + crx)) calls in ${ms} ms at $(printf '%.1f' "$mpps") Mpps = $(awk -v c="$RESULT" 'BEGIN { printf "%.4f", c * 512 / 1e6 }') per batch of 512 (tx ${ctx:-0}: $(strace_top "$dir/strace-tx.txt"); rx ${crx:-0}: $(strace_top "$dir/strace-rx.txt"))"
	return 0
}

# ---------------------------------------------------------------------------
# DPDK memif: two dpdk-testpmd processes, client txonly -> server rxonly.
TESTPMD=$(command -v dpdk-testpmd || true)
DPDK_MEM=(--no-huge -m 128)
DPDK_MODE=no-huge
DPDK_SKIP=
DPDK_SEQ=0
if [ -z "$TESTPMD" ]; then
	DPDK_SKIP="skipped: dpdk-testpmd not installed (Debian package dpdk-dev; bench/run.sh --install-peers)"
fi

hp_reserve() {
	local want=512 have
	[ -n "$HP_SAVED" ] && return 0
	HP_SAVED=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null) || return 1
	if [ ! -d /dev/hugepages ]; then
		mkdir /dev/hugepages || return 1
		HP_MKDIR=1
	fi
	if ! mountpoint -q /dev/hugepages; then
		mount -t hugetlbfs nodev /dev/hugepages || return 1
		HP_MOUNTED=1
	fi
	if [ "$HP_SAVED" -lt "$want" ]; then
		echo "$want" >/proc/sys/vm/nr_hugepages 2>/dev/null || return 1
	fi
	have=$(awk '/HugePages_Free/ { print $2 }' /proc/meminfo)
	[ "${have:-0}" -ge 256 ]
}

memif_once() { # LEN ZC -> RESULT; 0 ok, 2 failed (REASON)
	local len=$1 zc=$2 n=$((DPDK_SEQ += 1)) dir sp cp deadline need
	local sock ps=ubms$$n$n pc=ubmc$$n$n zopt=
	dir=$WORK/memif$n
	mkdir -p "$dir"
	sock=$dir/memif.sock
	DPDK_PREFIXES+=("$ps" "$pc")
	[ "$zc" = 1 ] && zopt=,zero-copy=yes
	need=$((RUN_SECS + 1))
	spawn "$dir/server.log" stdbuf -oL "$TESTPMD" -l 0,1 --main-lcore 0 \
		--file-prefix "$ps" "${DPDK_MEM[@]}" --no-pci \
		"--vdev=net_memif0,role=server,socket=$sock,id=0" -- \
		--forward-mode=rxonly --port-topology=loop --nb-cores=1 \
		--stats-period 1 --total-num-mbufs=8192
	sp=$SPAWNED
	deadline=$(( $(now_ms) + GRACE_MS ))
	while ! grep -q 'Rx-pps:' "$dir/server.log" 2>/dev/null; do
		if ! alive "$sp" || [ "$(now_ms)" -ge "$deadline" ]; then
			stop "$sp" INT 20
			REASON="testpmd server did not start: $(first_error "$dir/server.log")"
			return 2
		fi
		sleep 0.1
	done
	spawn "$dir/client.log" stdbuf -oL "$TESTPMD" -l 0,1 --main-lcore 1 \
		--file-prefix "$pc" "${DPDK_MEM[@]}" --single-file-segments --no-pci \
		"--vdev=net_memif0,role=client,socket=$sock,id=0$zopt" -- \
		--forward-mode=txonly "--txpkts=$len" --port-topology=loop --nb-cores=1 \
		--stats-period 1 --total-num-mbufs=8192
	cp=$SPAWNED
	deadline=$(( $(now_ms) + RUN_SECS * 1000 + GRACE_MS ))
	while [ "$(testpmd_samples "$dir/server.log" | nonzero_count)" -lt "$need" ]; do
		if ! alive "$sp" || ! alive "$cp" || [ "$(now_ms)" -ge "$deadline" ]; then
			break
		fi
		sleep 0.2
	done
	# The server sometimes segfaults at teardown after its statistics: the
	# figures stand (PEERS.md).
	stop "$cp" INT 50
	stop "$sp" INT 50
	rm -rf "/var/run/dpdk/$ps" "/var/run/dpdk/$pc" 2>/dev/null
	if RESULT=$(testpmd_samples "$dir/server.log" | steady "$RUN_SECS"); then
		NOTE=$DPDK_MODE
		return 0
	fi
	REASON="no steady traffic: $(first_error "$dir/client.log" "$dir/server.log")"
	return 2
}

sc_memif() { # LEN ZC
	[ -z "$DPDK_SKIP" ] || { REASON=$DPDK_SKIP; return 1; }
	REASON=
	memif_once "$@" && return 0
	# --no-huge is the first choice (issue 3); when EAL refuses it, reserve
	# 2 MB hugepages once for the rest of the invocation (restored on exit).
	if [ "$DPDK_MODE" = no-huge ] &&
	   grep -q -E 'Cause:' "$WORK/memif$DPDK_SEQ"/*.log 2>/dev/null; then
		log "bench: testpmd --no-huge failed ($REASON); trying 2 MB hugepages"
		if hp_reserve; then
			DPDK_MODE=hugepages
			DPDK_MEM=(-m 512)
			REASON=
			memif_once "$@" && return 0
		else
			REASON="$REASON; hugepages could not be reserved"
		fi
	fi
	# A peer that cannot run on this host is a skip, not a unetmap failure.
	REASON="skipped: dpdk-testpmd memif failed: $REASON"
	return 1
}
run_memif_64() { sc_memif 64 0; }
run_memif_64_zc() { sc_memif 64 1; }
run_memif_1514() { sc_memif 1514 0; }

# ---------------------------------------------------------------------------
# Kernel baseline: AF_PACKET across a veth pair between two namespaces.
AFP=$BUILD/bench/afp_bench
AFP_SKIP=
AFP_NS_TX= AFP_NS_RX=
afp_setup() {
	[ -n "$AFP_SKIP" ] && return 1
	[ -n "$AFP_NS_TX" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		AFP_SKIP="skipped: needs root (network namespaces)"
		return 1
	fi
	if ! command -v ip >/dev/null; then
		AFP_SKIP="skipped: ip (iproute2) not installed"
		return 1
	fi
	if [ ! -x "$AFP" ]; then
		# Built by the Makefile with the rest; build it here when the tree
		# is not (yet) buildable, so the baseline never waits on the core.
		AFP=$WORK/afp_bench
		if ! ${CC:-cc} -std=gnu11 -O2 -D_GNU_SOURCE -o "$AFP" \
			"$ROOT/bench/src/afp_bench.c" 2>"$WORK/afp-build.log"; then
			AFP_SKIP="skipped: cannot build afp_bench: $(first_error "$WORK/afp-build.log")"
			return 1
		fi
	fi
	AFP_NS_TX=ubt$$ AFP_NS_RX=ubr$$
	NETNS+=("$AFP_NS_TX" "$AFP_NS_RX")
	if ! { ip netns add "$AFP_NS_TX" && ip netns add "$AFP_NS_RX" &&
		ip link add ubv$$a netns "$AFP_NS_TX" type veth peer name ubv$$b netns "$AFP_NS_RX" &&
		ip -n "$AFP_NS_TX" link set ubv$$a address 02:00:00:00:00:03 up &&
		ip -n "$AFP_NS_RX" link set ubv$$b address 02:00:00:00:00:01 up; } 2>"$WORK/netns.log"; then
		AFP_SKIP="skipped: cannot create namespaces/veth: $(first_error "$WORK/netns.log")"
		return 1
	fi
	return 0
}

run_afpacket_60() {
	afp_setup || { REASON=$AFP_SKIP; return 1; }
	local dir=$WORK/afp$((PIPE_SEQ += 1)) rxp txp
	mkdir -p "$dir"
	spawn "$dir/rx.log" ip netns exec "$AFP_NS_RX" taskset -c 1 "$AFP" rx -i ubv$$b \
		-d "$RUN_SECS" -w 200 -t $((GRACE_MS / 1000 - 2))
	rxp=$SPAWNED
	sleep 0.2
	# Destination 02:..:02 is not the receiver's MAC: the packet socket sees
	# every frame, the IP layer drops it (pure L2 path, PEERS.md).
	spawn "$dir/tx.log" ip netns exec "$AFP_NS_TX" taskset -c 0 "$AFP" tx -i ubv$$a \
		-l 60 -b 512 -d $((RUN_SECS + GRACE_MS / 1000)) -D 02:00:00:00:00:02 -S 02:00:00:00:00:03
	txp=$SPAWNED
	wait_exit "$rxp" $(( RUN_SECS * 10 + GRACE_MS / 100 )) || stop "$rxp" INT 20
	stop "$txp" INT 30
	RESULT=$(awk '/^afp_bench rx: received/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mpps") print $i }' "$dir/rx.log")
	if [ -n "$RESULT" ]; then
		NOTE=$(grep -o 'kernel drops [0-9]*' "$dir/rx.log")
		return 0
	fi
	REASON="no traffic: $(first_error "$dir/rx.log" "$dir/tx.log")"
	return 2
}

# ---------------------------------------------------------------------------
install_peers() {
	local pkgs=(dpdk-dev strace iproute2)
	log "bench: apt-get install -y ${pkgs[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >&2
}

if [ $INSTALL_PEERS = 1 ]; then
	install_peers || log "bench: peer installation failed; missing peers will be skipped"
	TESTPMD=$(command -v dpdk-testpmd || true)
	[ -n "$TESTPMD" ] && DPDK_SKIP=
fi

if [ $DPDK_HUGE = 1 ] && [ -n "$TESTPMD" ]; then
	if hp_reserve; then
		DPDK_MODE=hugepages DPDK_MEM=(-m 512)
	else
		DPDK_SKIP="skipped: --dpdk-hugepages: cannot reserve 2 MB hugepages"
	fi
fi
unetmap_check
daemon_start
if [ -z "$PG_MISSING" ]; then
	# Busy waiting: netmap builds it in at compile time (pkt-gen-b); our
	# pkt-gen documents it in its usage text.  Use whatever it offers.
	PG_BUSY_OPT=$(printf '%s\n' "$PG_HELP" | awk '
		tolower($0) ~ /busy/ && match($0, /^[ \t]*-[A-Za-z]([ \t]|$)/) {
			s = substr($0, RSTART, RLENGTH); gsub(/[ \t]/, "", s); print s; exit }')
fi

# ---------------------------------------------------------------------------
# The runs: round-robin over the selected scenarios.
declare -A DONE_SKIP=()
for ((round = 1; round <= RUNS; round++)); do
	for id in "${SELECTED[@]}"; do
		[ -n "${DONE_SKIP[$id]:-}" ] && continue
		RESULT= RESULT_P99= RESULT_STAT= NOTE= REASON=
		wait_quiet "$id"
		fn=run_${id//-/_}
		"$fn"
		rc=$?
		case $rc in
		0)
			echo "$RESULT" >>"$WORK/res/$id.val"
			[ -n "$RESULT_P99" ] && echo "$RESULT_P99" >>"$WORK/res/$id.p99"
			[ -n "$NOTE" ] && printf '%s\n' "$NOTE" >"$WORK/res/$id.note"
			[ -n "$RESULT_STAT" ] && echo "$RESULT_STAT" >"$WORK/res/$id.stat"
			log "bench: [$round/$RUNS] $id: $RESULT${RESULT_P99:+ (p99 $RESULT_P99)}"
			;;
		1)
			REASON=${REASON#skipped: }
			case "$REASON" in pending:*|failed:*) ;; *) REASON="skipped: $REASON" ;; esac
			printf '%s\n' "$REASON" >"$WORK/res/$id.skip"
			DONE_SKIP[$id]=1
			log "bench: $id: $REASON"
			;;
		*)
			printf '%s\n' "$REASON" >>"$WORK/res/$id.fail"
			log "bench: [$round/$RUNS] $id: run failed: $REASON"
			;;
		esac
	done
done

# ---------------------------------------------------------------------------
# Report.
fmt2() { awk -v v="$1" 'BEGIN { printf "%.2f", v }'; }
figure() { # VALUE PREFIX SUFFIX -> "PREFIX1.23SUFFIX", or "—" without a value
	if [ -n "$1" ]; then printf '%s%s%s' "$2" "$(fmt2 "$1")" "$3"; else printf '—'; fi
}
declare -A MED=()
declare -A CELL=()   # median column text
declare -A RANGE=()
declare -A NRUNS=()
STATUS=0
for id in "${SELECTED[@]}"; do
	f=$WORK/res/$id
	if [ -s "$f.val" ]; then
		read -r med lo hi n < <(stats "$f.val")
		MED[$id]=$med
		CELL[$id]=$(fmt2 "$med")
		RANGE[$id]="$(fmt2 "$lo")–$(fmt2 "$hi")"
		NRUNS[$id]=$n
		if [ -s "$f.fail" ]; then
			NRUNS[$id]="$n of $RUNS"
		fi
	elif [ -s "$f.skip" ]; then
		CELL[$id]=$(head -n1 "$f.skip")
		case "${CELL[$id]}" in failed:*) STATUS=1 ;; esac
		RANGE[$id]=—
		NRUNS[$id]=0
	elif [ -s "$f.fail" ]; then
		if [ "${SC_OWNER[$id]}" = unetmap ]; then
			CELL[$id]="failed: $(head -n1 "$f.fail")"
			STATUS=1
		else
			CELL[$id]="skipped: peer failed: $(head -n1 "$f.fail")"
		fi
		RANGE[$id]=—
		NRUNS[$id]="0 of $RUNS"
	fi
done

unit_of() {
	case ${SC_KIND[$1]} in
	tput) echo Mpps ;;
	rtt) echo µs ;;
	sys) echo "calls/Mpkt" ;;
	esac
}

ratio_cell() { # id -> "4.53× memif-64, ..." measured in this invocation
	local id=$1 p out= r
	[ -n "${MED[$id]:-}" ] || { echo —; return; }
	for p in ${SC_PEERS[$id]:-}; do
		if [ -n "${MED[$p]:-}" ]; then
			r=$(awk -v a="${MED[$id]}" -v b="${MED[$p]}" 'BEGIN { if (b > 0) printf "%.2f", a / b }')
			[ -n "$r" ] && out+="${out:+, }${r}× $p"
		fi
	done
	echo "${out:-—}"
}

note_cell() {
	local id=$1 s=
	[ -s "$WORK/res/$id.note" ] && s=$(head -n1 "$WORK/res/$id.note")
	if [ -s "$WORK/res/$id.p99" ]; then
		read -r m _ < <(stats "$WORK/res/$id.p99")
		s="p99 $(fmt2 "$m") µs${s:+; $s}"
	fi
	if [ -s "$WORK/res/$id.busy" ] && [ "$(cat "$WORK/res/$id.busy")" -gt $QUIET_PCT ]; then
		s+="${s:+; }host up to $(cat "$WORK/res/$id.busy")% busy with other work before a run"
	fi
	if [ -s "$WORK/res/$id.fail" ] && [ -s "$WORK/res/$id.val" ]; then
		s+="${s:+; }failed runs: $(head -n1 "$WORK/res/$id.fail")"
	fi
	s=${s//|/\/}
	echo "${s:-}"
}

# Targets (issues 2 and 3): id, text, check.
target_row() { # text source measured status
	printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4"
}
target_status() { # have_figures(0/1) condition(0/1) missing_reason
	if [ "$1" != 1 ]; then echo "${3:-pending}"; elif [ "$2" = 1 ]; then echo met; else echo "**not met**"; fi
}
cmp() { awk -v a="$1" -v b="$2" -v op="$3" 'BEGIN { r = (op == ">=") ? (a >= b) : (a <= b); print r ? 1 : 0 }'; }
why_missing() { # id -> short reason for a missing figure
	local id=$1
	if [ -n "${MED[$id]:-}" ]; then echo ""; return; fi
	case "${CELL[$id]:-not run}" in
	pending*) echo pending ;;
	failed*) echo "not met ($id failed)" ;;
	*) echo "n/a ($id ${CELL[$id]:-not run})" ;;
	esac
}

MACHINE_CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MACHINE_OS=$( . /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}")
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "none (no commit yet)")
if git -C "$ROOT" rev-parse HEAD >/dev/null 2>&1 && [ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null | head -n1)" ]; then
	COMMIT+=" with uncommitted changes"
fi
DPDK_VER=$(dpkg-query -W -f '${Version}' dpdk-dev 2>/dev/null || echo "not installed")

{
	echo "# unetmap benchmark results"
	echo
	echo "Generated by \`bench/run.sh$([ $QUICK = 1 ] && echo ' --quick')$([ -n "$ONLY" ] && echo " --only $ONLY")\`; do not edit by hand. How to read it: [README.md](README.md)."
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- machine: $(nproc) CPUs ($MACHINE_CPU), kernel $(uname -r), $MACHINE_OS"
	echo "- commit: $COMMIT"
	echo "- method: $RUNS run(s) per scenario, round-robin, ${RUN_SECS} s of steady state each; sender on core 0, receiver on core 1"
	echo "- peers: DPDK dpdk-testpmd $DPDK_VER (memory: $DPDK_MODE), Linux $(uname -r) AF_PACKET on veth"
	echo
	echo "## Throughput (Mpps, higher is better)"
	echo
	echo "| scenario | what | median | min–max | runs | unetmap/peer, same run | notes |"
	echo "|---|---|---|---|---|---|---|"
	for id in "${SELECTED[@]}"; do
		[ "${SC_KIND[$id]}" = tput ] || continue
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$id" "${SC_DESC[$id]}" \
			"${CELL[$id]:-not run}" "${RANGE[$id]:-—}" "${NRUNS[$id]:-0}" \
			"$(ratio_cell "$id")" "$(note_cell "$id")"
	done
	if printf '%s\n' "${SELECTED[@]}" | grep -q -E '^(rtt-|syscalls)'; then
		echo
		echo "## Latency (µs, lower is better) and system calls"
		echo
		echo "| scenario | what | median | min–max | runs | unit | notes |"
		echo "|---|---|---|---|---|---|---|"
		for id in "${SELECTED[@]}"; do
			[ "${SC_KIND[$id]}" = tput ] && continue
			printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$id" "${SC_DESC[$id]}" \
				"${CELL[$id]:-not run}" "${RANGE[$id]:-—}" "${NRUNS[$id]:-0}" \
				"$(unit_of "$id")" "$(note_cell "$id")"
		done
	fi
	echo
	echo "## Targets"
	echo
	echo "| target | issue | measured | status |"
	echo "|---|---|---|---|"
	m=${MED[pipe-60]:-}
	target_row "pipe, 60 B ≥ 100 Mpps" "2, 3" "$(figure "$m" '' ' Mpps')" \
		"$(target_status "$([ -n "$m" ] && echo 1)" "$([ -n "$m" ] && cmp "$m" 100 '>=')" "$(why_missing pipe-60)")"
	p=${MED[memif-64]:-}
	if [ -n "$m" ] && [ -n "$p" ]; then
		r=$(awk -v a="$m" -v b="$p" 'BEGIN { printf "%.2f", a / b }')
		target_row "pipe, 60 B ≥ 4× DPDK memif (same run)" 3 "${r}× ($(fmt2 "$m") / $(fmt2 "$p") Mpps)" \
			"$(target_status 1 "$(cmp "$r" 4 '>=')")"
	else
		miss=$(why_missing pipe-60); [ -n "$miss" ] || miss=$(why_missing memif-64)
		target_row "pipe, 60 B ≥ 4× DPDK memif (same run)" 3 — "$miss"
	fi
	n=${MED[null-tx]:-}
	if [ -n "$n" ] && [ -n "$m" ]; then
		r=$(awk -v a="$n" -v b="$m" 'BEGIN { printf "%.2f", a / b }')
		target_row "null: tx ≥ 1.5× pipe 60 B (pkt-gen overhead small)" 3 "${r}× ($(fmt2 "$n") / $(fmt2 "$m") Mpps)" \
			"$(target_status 1 "$(cmp "$r" 1.5 '>=')")"
	else
		miss=$(why_missing null-tx); [ -n "$miss" ] || miss=$(why_missing pipe-60)
		target_row "null: tx ≥ 1.5× pipe 60 B (pkt-gen overhead small)" 3 — "$miss"
	fi
	b=${MED[rtt-busy]:-}
	what=p50; [ -s "$WORK/res/rtt-busy.stat" ] && what=$(head -n1 "$WORK/res/rtt-busy.stat")
	if [ -n "$b" ] && [ "$what" != p50 ]; then
		target_row "pipe RTT p50 ≤ 2 µs, busy-waiting" 3 "avg $(fmt2 "$b") µs (no p50 printed)" \
			"$( [ "$(cmp "$b" 2 '<=')" = 1 ] && echo "met on avg (p50 not printed)" || echo "**not met** (avg)")"
	else
		target_row "pipe RTT p50 ≤ 2 µs, busy-waiting" 3 "$(figure "$b" 'p50 ' ' µs')" \
			"$(target_status "$([ -n "$b" ] && echo 1)" "$([ -n "$b" ] && cmp "$b" 2 '<=')" "$(why_missing rtt-busy)")"
	fi
	s=${MED[syscalls]:-}
	# Issue 2: "no system calls per batch".  A batch is 512 packets, so
	# fewer than one call per batch is < 1953 calls per million packets;
	# what remains are sleeps of a side that has caught up (idle).
	target_row "busy pipe: no system call per batch (< 1 per batch of 512 = 1953 calls per million packets)" 2 \
		"$(figure "$s" '' ' calls/Mpkt')" \
		"$(target_status "$([ -n "$s" ] && echo 1)" "$([ -n "$s" ] && cmp "$s" 1953 '<=')" "$(why_missing syscalls)")"
} >"$WORK/results.md"

mkdir -p "$(dirname "$OUT")"
cp "$WORK/results.md" "$OUT"
cat "$WORK/results.md"
log "bench: results written to $OUT"
exit $STATUS

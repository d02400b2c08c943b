#!/usr/bin/env bash
# bench/vm.sh - host -> QEMU guest -> host, the NFV path of issue 11, under
# TCG: unetmap passthrough against virtio-net NICs on DPDK's vhost PMD,
# measured in the same invocation.
#
# Objective: what a VNF in a VM gets from each path on this machine: the
# rate a host sender can push through a forwarder in the guest and back
# to a host receiver, at 60 and 1514 bytes.  TCG figures are relative
# only (bench/README.md says what KVM would change and why).
#
# Scenarios:
#   pt-zc-60, pt-zc-1514: host pkt-gen tx -> netmap:P{1 ==pipe==> P}1 ->
#       nm-filter (no rules: every frame is looked at and passes) in the
#       guest, buffers swapped between its two ports -> P}2 ==pipe==>
#       netmap:P{2 -> host pkt-gen rx.  P}1 and P}2 are passed through
#       with nm-vm (one ivshmem-doorbell device, MSI-X through vfio-pci);
#   pt-copy-60, pt-copy-1514: the same with nm-filter -c (payload copied);
#   pt-rtt: host pkt-gen -f ping on netmap:P{3 <==pipe==> pkt-gen -f pong
#       on P}3 in the guest, in poll() with its default spin (20 us of
#       re-checking before sleeping, UNETMAP_POLL_SPIN_US); figure = p50
#       RTT in microseconds;
#   pt-rtt-sleep: the same on P{4/P}4 with no spin on either side, so that
#       every frame is a wake-up each way (host -> MSI-X vector -> guest,
#       guest -> doorbell -> host eventfd, wired without a relay);
#   vhost-60, vhost-1514: dpdk-testpmd txonly on net_vhost0 -> virtio-net
#       NIC eth0 of the guest -> Linux bridge br0 (stock kernel) -> eth1 ->
#       net_vhost1 of a second dpdk-testpmd in rxonly mode; guest memory is
#       a shared memfd, virtio-net-pci with vectors=0 (QEMU 7.2 under TCG
#       crashes on MSI-X with vhost-user, shared/PEERS.md).
# Figure: the host receiver's rate (pkt-gen's per-second lines, testpmd's
# Rx-pps), Mpps; per run the mean of SECS samples after 3 warm-up ones
# (TCG translates the guest's code while traffic starts); median and
# min-max over the runs.  One guest boot serves both sizes of a
# passthrough mode; each vhost size boots its own guest (a vhost-user
# backend that restarts under a running QEMU is not what is measured).
# CPU placement (2 cores): QEMU (the guest's one TCG vCPU, and its I/O
# thread) on cpu 0; the host side, sender and receiver, on cpu 1 (pkt-gen
# with taskset; testpmd's forwarding lcores, which busy-poll, both there
# too: DPDK gets the core the unetmap side gets).  Everything started here
# is stopped by pid on exit.
set -u -o pipefail
export LC_ALL=C

usage() {
	cat <<'EOF'
usage: bench/vm.sh [--quick] [--runs N] [--seconds S] [--only ID[,ID...]]
                   [--out FILE] [--keep] [--list] [-h]

  --quick       one run of 2 s per scenario
  --runs N      runs per scenario (default 3)
  --seconds S   measured seconds per run (default 5)
  --only IDS    scenarios to run (see --list)
  --out FILE    the Markdown report (default bench/vm-results.md; with
                --quick, only stdout unless given)
  --keep        keep the work directory with every log
  --list        print the scenario ids and exit

Environment: BUILD (default "build"), UNETMAP_SOCKET (use this netmapd).
Needs qemu-system-x86, busybox-static, cpio (the guests), dpdk-dev
(dpdk-testpmd, for vhost-*), and root for the guests' vfio and DPDK.
Output: the Markdown report on stdout, then one line per scenario:
  RESULT <id> <Mpps|us> <median> <min> <max> <runs>  |  SKIP <id> <reason>  |
  FAIL <id> <reason>
Exit status: 0 if every scenario gave a figure or a reasoned skip, 1 if
one failed, 2 on usage errors.
EOF
}

SC_IDS=(pt-zc-60 pt-zc-1514 pt-copy-60 pt-copy-1514 pt-rtt pt-rtt-sleep vhost-60 vhost-1514)
declare -A SC_DESC=(
	[pt-zc-60]='unetmap passthrough, nm-filter in the guest swapping buffers, 60 B'
	[pt-zc-1514]='same, 1514 B'
	[pt-copy-60]='unetmap passthrough, nm-filter -c (copy) in the guest, 60 B'
	[pt-copy-1514]='same, 1514 B'
	[pt-rtt]='unetmap passthrough, pkt-gen ping (host) / pong (guest) over a pipe, poll() with its default 20 us spin, 60 B'
	[pt-rtt-sleep]='same, no spin (UNETMAP_POLL_SPIN_US=0): every frame a wake-up each way'
	[vhost-60]='virtio-net on DPDK vhost PMD (testpmd), Linux bridge in the guest, 64 B'
	[vhost-1514]='same, 1514 B')

RUNS=3 SECS=5 QUICK=0 ONLY= OUT= KEEP=0 OUT_GIVEN=0
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
	*) echo "bench/vm.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
[ $QUICK = 1 ] && RUNS=1 SECS=2
for v in "$RUNS" "$SECS"; do
	case $v in ''|*[!0-9]*|0) echo "bench/vm.sh: bad number '$v'" >&2; exit 2 ;; esac
done
SELECTED=()
for id in "${SC_IDS[@]}"; do
	[ -z "$ONLY" ] || [[ ",$ONLY," == *",$id,"* ]] && SELECTED+=("$id")
done
[ ${#SELECTED[@]} -gt 0 ] || { echo "bench/vm.sh: nothing selected" >&2; exit 2; }
sel() { [[ " ${SELECTED[*]} " == *" $1 "* ]]; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
[ $OUT_GIVEN = 0 ] && [ $QUICK = 0 ] && OUT=$ROOT/bench/vm-results.md
WORK=$(mktemp -d "${TMPDIR:-/tmp}/unetmap-vm-bench.XXXXXX") || exit 1
WARM=3
NCPU=$(nproc)
C_VM=0 C_HOST=$((NCPU > 1 ? 1 : 0))

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
DPDK_PREFIXES=()
cleanup() {
	local p f
	trap - EXIT INT TERM
	for f in "$WORK"/*/qpid; do
		[ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do alive "$p" && kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for p in "${DPDK_PREFIXES[@]}"; do rm -rf "/var/run/dpdk/$p"; done
	if [ $KEEP = 1 ]; then log "bench: logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'log "bench: interrupted"; exit 130' INT TERM

# ---- what each side needs ----
SKIP_ALL= SKIP_VHOST=
command -v qemu-system-x86_64 >/dev/null || SKIP_ALL="qemu-system-x86_64 not installed"
command -v cpio >/dev/null || SKIP_ALL="cpio not installed"
for b in pkt-gen netmapd nm-vm; do
	[ -x "$BUILD/$b" ] || SKIP_ALL="$BUILD/$b not built"
done
TESTPMD=$(command -v dpdk-testpmd || true)
[ -n "$TESTPMD" ] || SKIP_VHOST="dpdk-testpmd not installed (Debian package dpdk-dev)"
# the binaries measured are copies: a rebuild during the run changes nothing
if [ -z "$SKIP_ALL" ]; then
	mkdir -p "$WORK/bin"
	cp "$BUILD/pkt-gen" "$BUILD/netmapd" "$BUILD/nm-vm" "$WORK/bin/"
	export UNETMAP_NETMAPD=$WORK/bin/netmapd
	if [ -z "${UNETMAP_SOCKET:-}" ]; then
		export UNETMAP_SOCKET=$WORK/netmapd.sock
		spawn "$WORK/netmapd.log" "$WORK/bin/netmapd" --foreground --socket "$UNETMAP_SOCKET"
		for _ in $(seq 50); do [ -S "$UNETMAP_SOCKET" ] && break; sleep 0.1; done
		[ -S "$UNETMAP_SOCKET" ] || SKIP_ALL="netmapd did not start"
	fi
fi
if [ -z "$SKIP_ALL" ]; then
	log "bench: guest images and static guest programs"
	if ! "$ROOT/scripts/vm/build-guest.sh" >"$WORK/build.log" 2>&1 ||
	   ! UNETMAP_VM_MODULES=bridge "$ROOT/scripts/vm/build-guest.sh" >>"$WORK/build.log" 2>&1; then
		SKIP_ALL="no guest image: $(tail -n 1 "$WORK/build.log")"
	elif ! make -s -C "$ROOT" -j2 guest >"$WORK/make.log" 2>&1; then
		SKIP_ALL="make guest failed: $(grep -m1 -i error "$WORK/make.log")"
	else
		mkdir -p "$WORK/guest"
		cp "$ROOT/build-guest/netmapd" "$ROOT/build-guest/nm-filter" "$ROOT/build-guest/pkt-gen" \
			"$WORK/guest/"
	fi
fi
PKTGEN=$WORK/bin/pkt-gen NMVM=$WORK/bin/nm-vm

# pkt-gen's periodic lines -> Mpps, one per line
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
testpmd_samples() { awk '/Rx-pps:/ { printf "%.6f\n", $2 / 1e6 }' "$1"; }
nonzero_count() { awk '$1 > 0 { n++ } END { print n + 0 }'; }
# mean of non-zero samples WARM+1 .. WARM+K on stdin (fewer: what is there
# after the warm-up, but the last, which may be partial)
steady() {
	awk -v k="$1" -v w="$WARM" '$1 > 0 { v[++n] = $1 } END {
		a = w + 1; b = (n >= w + k) ? w + k : n - 1
		if (b < a) exit 1
		for (i = a; i <= b; i++) s += v[i]
		printf "%.3f\n", s / (b - a + 1) }'
}
now_s() { date +%s; }
host_busy() {
	local a b
	a=$(head -n1 /proc/stat); sleep 0.5; b=$(head -n1 /proc/stat)
	printf '%s\n%s\n' "$a" "$b" | awk '{ idle = $5 + $6; t = 0; for (i = 2; i <= NF; i++) t += $i
		if (NR == 1) { i0 = idle; t0 = t } else { i1 = idle; t1 = t } }
		END { d = t1 - t0; printf "%d\n", (d > 0) ? 100 * (1 - (i1 - i0) / d) + 0.5 : 0 }'
}
MAXBUSY=0
SEQ=0
declare -A VALS SKIPS FAILS

unit() { case $1 in pt-rtt*) echo us ;; *) echo Mpps ;; esac; }
record() {	# ID RC: RESULT or REASON
	case $2 in
	0) VALS[$1]+="$RESULT "; log "bench: $1 run $round: $RESULT $(unit "$1")" ;;
	1) SKIPS[$1]=$REASON; log "bench: $1 skipped: $REASON" ;;
	*) FAILS[$1]+="$REASON; "; log "bench: $1 run $round failed: $REASON" ;;
	esac
}

# boot_guest DIR SCRIPT QEMU-ARGS...: a guest in the background, run-guest's
# pid in GPID, QEMU's in DIR/qpid, the console in DIR/console.log
boot_guest() {
	local dir=$1 script=$2
	shift 2
	spawn "$dir/guest.out" taskset -c $C_VM "$ROOT/scripts/vm/run-guest.sh" --timeout 600 \
		--log "$dir/console.log" --pidfile "$dir/qpid" "$@"
	GPID=$SPAWNED
}
console_has() { { tr -d '\r' <"$1/console.log"; } 2>/dev/null | grep -q -E "$2"; }
wait_console() {	# DIR REGEX SECONDS
	local end=$(($(now_s) + $3))
	while [ "$(now_s)" -lt $end ]; do
		console_has "$1" "$2" && return 0
		alive "$GPID" || return 1
		sleep 0.2
	done
	return 1
}
kill_guest() {	# DIR
	[ -f "$1/qpid" ] && kill -KILL "$(cat "$1/qpid")" 2>/dev/null
	stop "$GPID"
}

# ---- unetmap passthrough: one guest per mode, both sizes ----
pt_measure() {	# DIR NAME SIZE -> RESULT
	local dir=$1 name=$2 size=$3 rx tx end need=$((WARM + SECS + 1))
	spawn "$dir/rx$size.log" taskset -c $C_HOST "$PKTGEN" -i "netmap:$name{2" -f rx -w 0 -b 512
	rx=$SPAWNED
	sleep 0.3
	spawn "$dir/tx$size.log" taskset -c $C_HOST "$PKTGEN" -i "netmap:$name{1" -f tx -l "$size" \
		-w 0 -b 512
	tx=$SPAWNED
	end=$(($(now_s) + need + 20))
	while [ "$(pps_samples "$dir/rx$size.log" | nonzero_count)" -lt $need ] &&
	      [ "$(now_s)" -lt $end ] && alive "$rx" && alive "$tx"; do
		sleep 0.2
	done
	stop "$tx" "$rx"
	RESULT=$(pps_samples "$dir/rx$size.log" | steady "$SECS") && return 0
	REASON="no steady traffic at $size B: $(grep -h -i -m1 -E 'error|cannot|invalid' \
		"$dir"/*.log | head -c 140)"
	return 2
}

# rtt_parse LOG -> RTT in us: the mean of ping's per-second p50 samples
# after the warm-up (its totals at exit are not always printed when it is
# interrupted in the middle of a round trip), else its totals' p50
rtt_parse() {
	awk -v w="$WARM" '
	/print_rtt .* p50 / { for (i = 1; i < NF; i++) if ($i == "p50") v[++n] = $(i + 1) / 1000 }
	/RTT over [0-9]+ packets:.* p50 / { for (i = 1; i < NF; i++) if ($i == "p50") t = $(i + 1) / 1000 }
	END {
		for (i = w + 1; i <= n; i++) { s += v[i]; k++ }
		if (k) printf "%.1f\n", s / k; else if (t != "") printf "%.1f\n", t; else exit 1
	}' "$1"
}

pt_rtt() {	# DIR NAME PIPE -> RESULT (us); pipe 4: no spinning before sleeps
	local dir=$1 name=$2 k=$3 spin=
	[ "$k" = 4 ] && spin=0
	UNETMAP_POLL_SPIN_US=${spin:-${UNETMAP_POLL_SPIN_US:-20}} taskset -c $C_HOST \
		timeout -s INT $((WARM + SECS)) "$PKTGEN" -i "netmap:$name{$k" -f ping -w 0 \
		>"$dir/ping$k.log" 2>&1
	RESULT=$(rtt_parse "$dir/ping$k.log") && return 0
	REASON="no RTT report: $(grep -h -i -m1 -E 'error|cannot|invalid' "$dir/ping$k.log" |
		head -c 140)"
	return 2
}

pt_round() {	# MODE (zc|copy)
	local mode=$1 dir=$WORK/pt$((SEQ += 1)) name=vmb$$p$SEQ opt= size ids=() ports vec=4 rc
	for size in 60 1514; do sel "pt-$mode-$size" && ids+=("$size"); done
	[ "$mode" = zc ] && sel pt-rtt && ids+=(rtt)
	[ "$mode" = zc ] && sel pt-rtt-sleep && ids+=(rtt-sleep)
	[ ${#ids[@]} -gt 0 ] || return 0
	mkdir -p "$dir"
	[ "$mode" = copy ] && opt=-c
	ports=("$name}1" "$name}2")
	[ "$mode" = zc ] && ports+=("$name}3" "$name}4") && vec=8
	pt_id() { case $1 in rtt*) echo "pt-$1" ;; *) echo "pt-$mode-$1" ;; esac; }
	if ! "$NMVM" export -s "$dir/vm.sock" -n "bench-$mode" "${ports[@]}" \
			>"$dir/export.log" 2>&1; then
		REASON="export failed: $(head -c 160 "$dir/export.log")"
		for size in "${ids[@]}"; do record "$(pt_id "$size")" 2; done
		return
	fi
	cat >"$dir/run.sh" <<EOF
#!/bin/sh
if [ $vec -eq 8 ]; then
	./pkt-gen -i 'netmap:$name}3' -f pong -w 0 >pong3.log 2>&1 &
	UNETMAP_POLL_SPIN_US=0 ./pkt-gen -i 'netmap:$name}4' -f pong -w 0 >pong4.log 2>&1 &
	# bound before the host pings
	while ! grep -q Ready pong3.log || ! grep -q Ready pong4.log; do sleep 0.1; done
	sleep 1
fi
./nm-filter $opt -i 'netmap:$name}1' -i 'netmap:$name}2' >f.log 2>&1 &
while ! grep -q zerocopy f.log; do sleep 0.1; done
echo "FILTER \$(grep -o 'zerocopy [a-z]*' f.log)"
wait
EOF
	boot_guest "$dir" "$dir/run.sh" --add "$WORK/guest/netmapd" --add "$WORK/guest/nm-filter" \
		--add "$WORK/guest/pkt-gen" --append intel_iommu=on "$dir/run.sh" -- \
		-device intel-iommu -chardev "socket,id=vm,path=$dir/vm.sock" \
		-device "ivshmem-doorbell,chardev=vm,vectors=$vec"
	if ! wait_console "$dir" '^FILTER' 180; then
		REASON="the guest did not start nm-filter: $(tail -n 3 "$dir/guest.out" | tr '\n' ' ')"
		kill_guest "$dir"
		for size in "${ids[@]}"; do record "$(pt_id "$size")" 2; done
		return
	fi
	for size in "${ids[@]}"; do
		RESULT= REASON=
		case $size in
		rtt) pt_rtt "$dir" "$name" 3 ;;
		rtt-sleep) pt_rtt "$dir" "$name" 4 ;;
		*) pt_measure "$dir" "$name" "$size" ;;
		esac
		rc=$?
		record "$(pt_id "$size")" $rc
	done
	kill_guest "$dir"
	"$NMVM" unexport -s "$dir/vm.sock" >/dev/null 2>&1
}

# ---- virtio-net on DPDK's vhost PMD: one guest per size ----
vhost_once() {	# SIZE -> RESULT
	local size=$1 dir=$WORK/vh$((SEQ += 1)) prx=vmbr$$n$SEQ ptx=vmbt$$n$SEQ rx tx end from need
	# the guest image with the bridge module (built, cached, at the start)
	local UNETMAP_VM_MODULES=bridge
	export UNETMAP_VM_MODULES
	mkdir -p "$dir"
	DPDK_PREFIXES+=("$prx" "$ptx")
	need=$((WARM + SECS + 1))
	spawn "$dir/rx.log" stdbuf -oL "$TESTPMD" -l "$C_VM,$C_HOST" --main-lcore $C_VM --no-huge -m 128 \
		--file-prefix "$prx" --no-pci --vdev "net_vhost1,iface=$dir/vh1.sock,queues=1" -- \
		--forward-mode=rxonly --nb-cores=1 --stats-period 1 --total-num-mbufs=8192
	rx=$SPAWNED
	spawn "$dir/tx.log" stdbuf -oL "$TESTPMD" -l "$C_VM,$C_HOST" --main-lcore $C_VM --no-huge -m 128 \
		--file-prefix "$ptx" --no-pci --vdev "net_vhost0,iface=$dir/vh0.sock,queues=1" -- \
		--forward-mode=txonly "--txpkts=$size" --nb-cores=1 --stats-period 1 \
		--total-num-mbufs=8192
	tx=$SPAWNED
	end=$(($(now_s) + 20))
	while ! { [ -S "$dir/vh0.sock" ] && [ -S "$dir/vh1.sock" ]; }; do
		if [ "$(now_s)" -ge $end ] || ! alive "$rx" || ! alive "$tx"; then
			stop "$tx" "$rx"
			REASON="testpmd did not start: $(grep -h -m1 -E 'Cause|rror' "$dir"/*.log)"
			return 1
		fi
		sleep 0.1
	done
	cat >"$dir/run.sh" <<'EOF'
#!/bin/sh
# a new bridge has STP off: its ports forward as soon as they are up
if brctl addbr br0 && brctl addif br0 eth0 && brctl addif br0 eth1 &&
   ip link set eth0 up && ip link set eth1 up && ip link set br0 up; then
	echo BRIDGED
else
	echo BRIDGE-FAILED
fi
sleep 100000
EOF
	boot_guest "$dir" "$dir/run.sh" "$dir/run.sh" -- \
		-object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
		-chardev "socket,id=c0,path=$dir/vh0.sock" -netdev vhost-user,id=n0,chardev=c0 \
		-device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01,vectors=0 \
		-chardev "socket,id=c1,path=$dir/vh1.sock" -netdev vhost-user,id=n1,chardev=c1 \
		-device virtio-net-pci,netdev=n1,mac=52:54:00:00:00:02,vectors=0
	if ! wait_console "$dir" '^BRIDGE' 180 || ! console_has "$dir" '^BRIDGED'; then
		REASON="the guest did not bridge its NICs: $(tr -d '\r' <"$dir/console.log" |
			grep -m1 -i -E 'brctl|error|fail' | head -c 120)"
		kill_guest "$dir"; stop "$tx" "$rx"
		return 2
	fi
	from=$(wc -l <"$dir/rx.log")
	end=$(($(now_s) + need + 30))
	while [ "$(tail -n +"$from" "$dir/rx.log" | testpmd_samples /dev/stdin | nonzero_count)" -lt $need ] &&
	      [ "$(now_s)" -lt $end ] && alive "$rx" && alive "$tx"; do
		sleep 0.2
	done
	kill_guest "$dir"
	stop "$tx" "$rx"
	rm -rf "/var/run/dpdk/$prx" "/var/run/dpdk/$ptx"
	RESULT=$(tail -n +"$from" "$dir/rx.log" | testpmd_samples /dev/stdin | steady "$SECS") && return 0
	REASON="no steady traffic at $size B: $(grep -h -m1 -E 'Cause|rror' "$dir"/*.log)"
	return 2
}

for ((round = 1; round <= RUNS; round++)); do
	b=$(host_busy)
	[ "$b" -gt $MAXBUSY ] && MAXBUSY=$b
	if [ -n "$SKIP_ALL" ]; then
		for id in "${SELECTED[@]}"; do REASON=$SKIP_ALL; record "$id" 1; done
		break
	fi
	pt_round zc
	pt_round copy
	for size in 60 1514; do
		sel "vhost-$size" || continue
		[ -n "${SKIPS[vhost-$size]:-}" ] && continue
		if [ -n "$SKIP_VHOST" ]; then
			REASON=$SKIP_VHOST; record "vhost-$size" 1; continue
		fi
		RESULT= REASON=
		# testpmd counts 64-byte frames with the CRC, as DPDK does
		vhost_once $((size == 60 ? 64 : size))
		record "vhost-$size" $?
	done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	printf "%.3f %.3f %.3f %d\n", m, v[1], v[NR], NR } }'; }

report() {
	local id m lo hi n rc=0 a v
	echo "# VM path benchmark: host -> guest -> host under TCG ($(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $NCPU cpus)"
	echo
	echo "$RUNS run(s) of ${SECS} s per scenario after ${WARM} s of warm-up, median [min–max]" \
	     "of the per-run means; QEMU (one TCG vCPU) on cpu $C_VM, the host's sender and" \
	     "receiver on cpu $C_HOST; busiest the host was with other work just before a" \
	     "round: ${MAXBUSY}%.  TCG figures are relative only: see bench/README.md, \"VM paths\"."
	echo "Made by \`bench/vm.sh\` (\`make bench\`); see its header for the method."
	echo
	echo "| scenario | what | median | min–max | runs |"
	echo "|---|---|---|---|---|"
	for id in "${SELECTED[@]}"; do
		if [ -n "${VALS[$id]:-}" ]; then
			read -r m lo hi n <<<"$(echo "${VALS[$id]}" | median)"
			echo "| $id | ${SC_DESC[$id]} | $m $(unit "$id") | $lo–$hi | $n |"
		elif [ -n "${SKIPS[$id]:-}" ]; then
			echo "| $id | ${SC_DESC[$id]} | skipped: ${SKIPS[$id]} | | |"
		else
			echo "| $id | ${SC_DESC[$id]} | failed | ${FAILS[$id]:-} | |"
		fi
	done
	echo
	for size in 60 1514; do
		a=$(echo "${VALS[pt-zc-$size]:-}" | median | cut -d' ' -f1)
		v=$(echo "${VALS[vhost-$size]:-}" | median | cut -d' ' -f1)
		[ -n "$a" ] && [ -n "$v" ] &&
			awk -v a="$a" -v v="$v" -v s="$size" 'BEGIN { if (v > 0)
				printf "- %s B: passthrough (zero copy) / vhost-user virtio-net = %.1fx\n", s, a / v }'
	done
	echo
	for id in "${SELECTED[@]}"; do
		if [ -n "${VALS[$id]:-}" ]; then
			read -r m lo hi n <<<"$(echo "${VALS[$id]}" | median)"
			echo "RESULT $id $(unit "$id") $m $lo $hi $n"
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

#!/usr/bin/env bash
# bench/vhost-vale.sh - QEMU guests on VM ports of a VALE switch, against
# DPDK's vhost PMD (dpdk-testpmd --vdev net_vhost0,...) serving the same
# guests in the same run.
#
# Objective (issue 12): guest->host and host->guest Mpps and two guests'
# TCP throughput.  Under TCG the guest's CPU sets the pace, so the
# question is parity at equal guest cost: the same guest image, kernel,
# QEMU command line and guest-side tools for both backends; only the
# vhost-user backend differs.  The backends' own cost per packet, without
# TCG, is bench/src/vhost_bench (docs/vhost-user.md).
#
# Scenarios (each one guest boot per run and backend; guest-side figures,
# measured with tests/vm/vu_raw inside the guest, so both backends are
# measured by the same ruler):
#   g2h-60  the guest sends 300,000 60-byte frames as fast as its NIC's
#           transmit ring takes them (qdisc bypassed: none is dropped in
#           the guest); unetmap: VM port -> pkt-gen rx on a port of the
#           switch; DPDK: testpmd rxonly
#   h2g-60  the host sends 60-byte frames as fast as it can; the guest
#           counts what it receives in 5 s; unetmap: pkt-gen tx on a port
#           of the switch -> VM port; DPDK: testpmd txonly
#   tcp     two guests, 64 MiB from /dev/zero through nc; the receiver
#           times from its first byte to the end; unetmap: two VM ports
#           of one switch; DPDK: testpmd io forwarding between two vhost
#           ports
#   vhost-bench  no VM: bench/src/vhost_bench, the backend's own cost per
#           60-byte frame both ways, one core (ns/packet) and two, after
#           the guests (docs/vhost-user.md, "Benchmark")
# Runs go round-robin over scenarios and backends, so that a shared
# host's drift spreads over all; medians [min-max] of --runs runs.
# Guests get -smp 1,maxcpus=2 (one vCPU): see the comment at "mem=".
# CPU placement, the same for both backends: the host's side on the last
# core (testpmd's forwarding lcore; netmapd's forwarding thread, and
# pkt-gen pinned beside it), the guests wherever the scheduler puts them.
# testpmd polls its core at 100% (that is how DPDK works); netmapd's
# forwarding thread sleeps when idle, so a guest's kick wakes it.  With
# --busy a third column runs netmapd with --vale-busy (its thread polls
# too, and the guests need not kick).
#
# Everything started here is stopped by pid on exit.
set -u -o pipefail
export LC_ALL=C

usage() {
	cat <<'EOF'
usage: bench/vhost-vale.sh [--quick] [--runs N] [--only IDS] [--busy] [--out FILE] [--keep] [-h]

  --quick       one run per scenario, results to a temporary file
  --runs N      runs per scenario and backend (default 3)
  --only IDS    scenarios, comma separated: g2h-60, h2g-60, tcp, vhost-bench
  --busy        also unetmap with a busy-polling forwarding thread
  --out FILE    Markdown report (default bench/vhost-vale-results.md)
  --keep        keep the work directory (consoles, logs)

Environment: BUILD (default "build").  Needs qemu-system-x86_64, the guest
image (scripts/vm/build-guest.sh), make guest, and for the DPDK column
dpdk-testpmd (package dpdk-dev; otherwise that column is skipped);
vhost-bench needs BUILD/bench/vhost_bench (make).  About 6 minutes per
run of the three guest scenarios on a busy 2-core host.
Output: the Markdown report on stdout too, then one line per figure:
  RESULT <scenario> <backend> <unit> <median> <min> <max> <runs>
  RESULT vhost_bench-<direction>-60-<cores>core Mpps <median> <min> <max> <runs>
  SKIP <scenario> <backend> <reason>
Exit status: 0, 1 if a unetmap run or vhost_bench failed, 2 on usage errors.
EOF
}

RUNS=3 QUICK=0 ONLY= OUT= KEEP=0 BUSY=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1; RUNS=1 ;;
	--runs) RUNS=$2; shift ;;
	--only) ONLY=$2; shift ;;
	--out) OUT=$2; shift ;;
	--keep) KEEP=1 ;;
	--busy) BUSY=1 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
case $RUNS in ''|*[!0-9]*|0) echo "--runs wants a positive number" >&2; exit 2 ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "no build directory" >&2; exit 2; }
[ -z "$OUT" ] && { [ $QUICK = 1 ] && OUT=$(mktemp /tmp/vhost-vale.XXXXXX.md) || OUT=$root/bench/vhost-vale-results.md; }
SCEN=(g2h-60 h2g-60 tcp) VB=1
if [ -n "$ONLY" ]; then
	IFS=, read -r -a SCEN <<<"$ONLY"
	VB=0
	for i in "${!SCEN[@]}"; do
		case ${SCEN[$i]} in
		g2h-60|h2g-60|tcp) ;;
		vhost-bench) VB=1; unset "SCEN[$i]" ;;
		*) echo "unknown scenario ${SCEN[$i]}" >&2; exit 2 ;;
		esac
	done
	SCEN=("${SCEN[@]}")
fi

command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 is not installed" >&2; exit 2; }
work=$(mktemp -d /tmp/unetmap-vhbench.XXXXXX)
pids=()
cleanup() {
	local p f
	for f in "$work"/*.qpid; do [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null; done
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null; done
	sleep 0.5
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	[ -n "${npid:-}" ] && kill -TERM "$npid" 2>/dev/null && wait "$npid" 2>/dev/null
	[ -n "${bpid:-}" ] && kill -TERM "$bpid" 2>/dev/null && wait "$bpid" 2>/dev/null
	rm -rf /var/run/dpdk/vhb* 2>/dev/null
	if [ $KEEP = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$root/scripts/vm/build-guest.sh" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 2; }
make -s -C "$root" -j2 guest >"$work/make.log" 2>&1 || { cat "$work/make.log" >&2; exit 2; }
# copies: a rebuild during the run cannot change what is measured
cp "$BUILD/netmapd" "$BUILD/pkt-gen" "$BUILD/vale-ctl" "$root/build-guest/tests/vm/vu_raw" "$work/"
have_vb=0
[ -x "$BUILD/bench/vhost_bench" ] && cp "$BUILD/bench/vhost_bench" "$work/" && have_vb=1
export UNETMAP_SOCKET=$work/netmapd.sock UNETMAP_NETMAPD=$work/netmapd
have_dpdk=1
command -v dpdk-testpmd >/dev/null || have_dpdk=0

hc=$(($(nproc) - 1))	# the host's core
"$work/netmapd" --foreground --socket "$work/netmapd.sock" --vale-cpus $hc \
	>"$work/netmapd.log" 2>&1 &
npid=$!
BACK=(unetmap dpdk)
if [ $BUSY = 1 ]; then
	"$work/netmapd" --foreground --socket "$work/busy.sock" --vale-cpus $hc --vale-busy \
		>"$work/busy.log" 2>&1 &
	bpid=$!
	BACK=(unetmap unetmap-busy dpdk)
fi
for _ in $(seq 100); do [ -S "$work/netmapd.sock" ] && [ $BUSY = 0 -o -S "$work/busy.sock" ] && break; sleep 0.05; done

declare -A gpid
# The same QEMU arguments for both backends.  maxcpus=2 (one vCPU still):
# QEMU 7.2's TCG emits the guest's memory barriers only when the machine
# may have more than one CPU (CF_PARALLEL), so with -smp 1 a guest's
# virtio_mb() is no barrier on the host, its avail->idx store can pass
# its load of avail_event, and it misses kicks a sleeping backend asked
# for (netmapd's forwarding thread then sleeps while the guest's queue is
# full: "NETDEV WATCHDOG ... transmit queue 0 timed out").  A busy-polling
# backend (testpmd) never asks for kicks and is not affected.
mem="-smp 1,maxcpus=2 -object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem"
nic() {	# SOCK MAC
	echo "-chardev socket,id=c0,path=$1,reconnect=1 -netdev vhost-user,id=n0,chardev=c0" \
	     "-device virtio-net-pci,netdev=n0,mac=$2,vectors=0"
}
# boot NAME SCRIPT SOCK MAC: in the background
boot() {
	"$root/scripts/vm/run-guest.sh" --timeout 150 --log "$work/$1.log" --pidfile "$work/$1.qpid" \
		--add "$work/vu_raw" "$2" -- $mem $(nic "$3" "$4") >"$work/$1.out" 2>&1 &
	gpid[$1]=$!
	pids+=("$!")
}
gwait() { wait "${gpid[$1]}"; }
console() {	# NAME REGEX SECS
	local i
	for i in $(seq $(($3 * 10))); do
		# (not there yet before QEMU starts)
		tr -d '\r' 2>/dev/null <"$work/$1.log" | grep -q -E "$2" && return 0
		sleep 0.1
	done
	return 1
}
line() { tr -d '\r' 2>/dev/null <"$work/$1.log" | grep -E "$2" | tail -n 1; }

# testpmd with vhost ports on SOCKs, mode MODE, in the background
testpmd() {	# PREFIX MODE SOCK...
	local pfx=$1 mode=$2 vd=() i=0 s
	shift 2
	for s in "$@"; do vd+=(--vdev "net_vhost$i,iface=$s,queues=1"); i=$((i + 1)); done
	dpdk-testpmd -l 0,$hc --main-lcore 0 --file-prefix "$pfx" --no-huge -m 512 --no-pci \
		"${vd[@]}" -- --forward-mode="$mode" --nb-cores=1 --total-num-mbufs=16384 \
		--txpkts=60 --stats-period 1 >"$work/$pfx.log" 2>&1 &
	tpid=$!
	pids+=("$tpid")
	for _ in $(seq 200); do
		kill -0 "$tpid" 2>/dev/null || return 1
		for s in "$@"; do [ -S "$s" ] || { sleep 0.1; continue 2; }; done
		return 0
	done
	return 1
}
stop_testpmd() {	# SIGINT (it prints its statistics), SIGKILL after 5 s
	local i
	kill -INT "$tpid" 2>/dev/null
	for i in $(seq 50); do kill -0 "$tpid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$tpid" 2>/dev/null
	wait "$tpid" 2>/dev/null
}

g_script() {	# the guest side of g2h / h2g
	cat >"$work/$1.sh" <<EOF
#!/bin/sh
echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
ip link set eth0 up
sleep 1
$2
EOF
	chmod +x "$work/$1.sh"
}

# one run: sets res to the figure (pps or Mbit/s), empty if none
run_g2h() {	# BACKEND N
	local b=$1 id=g2h-$1-$2 sock=$work/g2h-$1-$2.sock rx=
	g_script "$id" "./vu_raw send eth0 300000 60 0"
	if [ "$b" != dpdk ]; then
		"$work/vale-ctl" -n vale0:vm --vhost-user "$sock" || return 1
		# -n: it ends by itself (printing its count) once it has them all
		timeout 200 taskset -c $hc "$work/pkt-gen" -i vale0:h -f rx -n 300000 -w 0 \
			>"$work/$id.rx" 2>&1 &
		rx=$!
		pids+=("$rx")
	else
		testpmd "vhb$2" rxonly "$sock" || { stop_testpmd; return 1; }
	fi
	boot "$id" "$work/$id.sh" "$sock" 52:54:00:00:00:01
	gwait "$id"
	res=$(line "$id" '^SENT-RATE' | sed -n 's/.*: \([0-9]*\) pps/\1/p')
	# what the host side counted: every frame, if nothing was lost
	if [ "$b" != dpdk ]; then
		for _ in $(seq 30); do kill -0 "$rx" 2>/dev/null || break; sleep 0.1; done
		kill -INT "$rx" 2>/dev/null
		wait "$rx" 2>/dev/null
		"$work/vale-ctl" -r vale0:vm
		got=$(sed -n 's/^Received \([0-9]*\) packets.*/\1/p' "$work/$id.rx" | tail -n 1)
	else
		stop_testpmd
		got=$(grep -o 'RX-total: *[0-9]*' "$work/vhb$2.log" | tail -n 1 | grep -o '[0-9]*$')
	fi
}

run_h2g() {
	local b=$1 id=h2g-$1-$2 sock=$work/h2g-$1-$2.sock tx=
	g_script "$id" "./vu_raw rate eth0 5"
	if [ "$b" != dpdk ]; then
		"$work/vale-ctl" -n vale0:vm --vhost-user "$sock" || return 1
	else
		testpmd "vhb$2" txonly "$sock" || { stop_testpmd; return 1; }
	fi
	boot "$id" "$work/$id.sh" "$sock" 52:54:00:00:00:01
	if console "$id" '^RATE-READY' 90 && [ "$b" != dpdk ]; then
		timeout 60 taskset -c $hc "$work/pkt-gen" -i vale0:h -f tx -l 60 -w 0 >"$work/$id.tx" 2>&1 &
		tx=$!
		pids+=("$tx")
	fi
	gwait "$id"
	res=$(line "$id" '^RATE ' | sed -n 's/.*: \([0-9]*\) pps/\1/p')
	if [ "$b" != dpdk ]; then
		[ -n "$tx" ] && kill -INT "$tx" 2>/dev/null && wait "$tx" 2>/dev/null
		"$work/vale-ctl" -r vale0:vm
	else
		stop_testpmd
	fi
}

run_tcp() {
	local b=$1 id=tcp-$1-$2 s1=$work/tcp-$1-$2-a.sock s2=$work/tcp-$1-$2-b.sock
	cat >"$work/$id-a.sh" <<'EOF'
#!/bin/sh
echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
ip link set eth0 up
ip addr add 10.77.0.1/24 dev eth0
# (nc's stdin must stay open, and the pipeline would then last as long as
# sleep: wait for the sink's line instead)
sleep 600 | nc -l -p 5000 | ./vu_raw sink >sink.out &
i=0
until grep -q '^SINK' sink.out 2>/dev/null; do i=$((i + 1)); [ $i -lt 1200 ] || break; sleep 0.1; done
cat sink.out
EOF
	cat >"$work/$id-b.sh" <<'EOF'
#!/bin/sh
echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
ip link set eth0 up
ip addr add 10.77.0.2/24 dev eth0
i=0
until ping -c 1 -W 1 10.77.0.1 >/dev/null 2>&1; do i=$((i + 1)); [ $i -lt 60 ] || break; done
sleep 1
i=0
until head -c 67108864 /dev/zero | nc 10.77.0.1 5000; do i=$((i + 1)); [ $i -lt 20 ] || break; sleep 0.5; done
sleep 5
EOF
	chmod +x "$work/$id-a.sh" "$work/$id-b.sh"
	if [ "$b" != dpdk ]; then
		"$work/vale-ctl" -n vale0:a --vhost-user "$s1" &&
			"$work/vale-ctl" -n vale0:b --vhost-user "$s2" || return 1
	else
		testpmd "vhb$2" io "$s1" "$s2" || { stop_testpmd; return 1; }
	fi
	boot "$id-a" "$work/$id-a.sh" "$s1" 52:54:00:00:00:0a
	boot "$id-b" "$work/$id-b.sh" "$s2" 52:54:00:00:00:0b
	gwait "$id-a"
	gwait "$id-b"
	res=$(line "$id-a" '^SINK ' | sed -n 's/.*: \([0-9.]*\) Mbit\/s/\1/p')
	# a transfer cut short is no figure
	line "$id-a" '^SINK 67108864 ' >/dev/null || res=
	if [ "$b" != dpdk ]; then
		"$work/vale-ctl" -r vale0:a
		"$work/vale-ctl" -r vale0:b
	else
		stop_testpmd
	fi
}

declare -A VAL GOT
LOADS=
rc=0
for run in $(seq "$RUNS"); do
	for sc in "${SCEN[@]}"; do
		for b in "${BACK[@]}"; do
			if [ "$b" = dpdk ] && [ $have_dpdk = 0 ]; then continue; fi
			export UNETMAP_SOCKET=$work/netmapd.sock
			[ "$b" = unetmap-busy ] && export UNETMAP_SOCKET=$work/busy.sock
			res= got=
			case $sc in
			g2h-60) run_g2h "$b" "$run" ;;
			h2g-60) run_h2g "$b" "$run" ;;
			tcp) run_tcp "$b" "$run" ;;
			*) echo "unknown scenario $sc" >&2; exit 2 ;;
			esac
			v=$res
			load=$(cut -d' ' -f1 /proc/loadavg)
			LOADS="$LOADS $load"
			echo "run $run $sc $b: ${v:-failed} (load $load)${got:+, host side received $got}" >&2
			[ "$sc" = g2h-60 ] && GOT[$b]="${GOT[$b]:-} ${got:-?}"
			if [ -n "$v" ]; then
				VAL[$sc.$b]="${VAL[$sc.$b]:-} $v"
			elif [ "$b" != dpdk ]; then
				rc=1
			fi
		done
	done
done

# The backend's own cost, no VM (bench/src/vhost_bench): one core, the
# driver and the backend taking turns (ns per packet), and two cores (the
# driver on one, the forwarding thread on the other).  Run after the
# guests, so that no QEMU competes.
VBOUT=
if [ $VB = 1 ] && [ $have_vb = 1 ]; then
	vr=7 vs=2
	[ $QUICK = 1 ] && vr=1 vs=0.5
	echo "vhost_bench: one core, then two, 60 B, $vr runs of $vs s" >&2
	VBOUT=$work/vhost_bench.md
	{ "$work/vhost_bench" -1 -l 60 -r $vr -s $vs &&
	  "$work/vhost_bench" -l 60 -r $vr -s $vs -a 0,$hc | tail -n +3; } >"$VBOUT" 2>"$work/vhost_bench.err" ||
		{ echo "vhost_bench failed: $(head -c 200 "$work/vhost_bench.err")" >&2; VBOUT=; rc=1; }
fi

stats() {	# values -> "median min max n"
	tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- - - 0"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%s %s %s %d\n", m, v[1], v[NR], NR }'
}
num() {	# value unit -> number in the table's unit (Mpps, Mbit/s)
	if [ "$1" = - ]; then echo "—"; elif [ "$2" = pps ]; then awk -v x="$1" 'BEGIN { printf "%.4f", x / 1e6 }'
	else awk -v x="$1" 'BEGIN { printf "%.1f", x }'; fi
}
cell() {	# median min max n unit
	[ "$1" = - ] && { echo "no figure"; return; }
	echo "$(num "$1" "$5") [$(num "$2" "$5")–$(num "$3" "$5")]"
}
{
	echo "# VM ports against DPDK's vhost PMD (generated by bench/vhost-vale.sh)"
	echo
	if [ ${#SCEN[@]} -gt 0 ]; then
		echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), QEMU $(qemu-system-x86_64 --version | head -n 1 | awk '{ print $4 }') (TCG, one vCPU, \`-smp 1,maxcpus=2\`), guest Linux from scripts/vm/build-guest.sh;"
		echo "median [min–max] of $RUNS run(s), runs interleaved over scenarios and backends; figures measured"
		echo "inside the guest (tests/vm/vu_raw), the same guest, kernel, QEMU command line and tools for both"
		echo "backends.  Load average (1 min) after each run: $(echo "$LOADS" | tr ' ' '\n' | grep -v '^$' | sort -g | awk 'NR == 1 { a = $1 } { b = $1 } END { print a "–" b }') on $(nproc) cores."
		echo
		if [ $BUSY = 1 ]; then
			echo "| scenario | unit | unetmap VM port | unetmap, --vale-busy | DPDK vhost PMD (testpmd) | unetmap / DPDK | busy / DPDK |"
			echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
		else
			echo "| scenario | unit | unetmap VM port | DPDK vhost PMD (testpmd) | unetmap / DPDK |"
			echo "| --- | --- | ---: | ---: | ---: |"
		fi
		for sc in "${SCEN[@]}"; do
			unit=pps
			[ "$sc" = tcp ] && unit=Mbit
			read -r dm dmin dmax dn <<<"$(echo "${VAL[$sc.dpdk]:-}" | stats)"
			row="| $sc | $([ $unit = pps ] && echo Mpps || echo Mbit/s)"
			ratios=
			for b in "${BACK[@]}"; do
				[ "$b" = dpdk ] && continue
				read -r um umin umax un <<<"$(echo "${VAL[$sc.$b]:-}" | stats)"
				row="$row | $(cell "$um" "$umin" "$umax" "$un" $unit)"
				ratio=—
				[ "$um" != - ] && [ "$dm" != - ] &&
					ratio=$(awk -v a="$um" -v b="$dm" 'BEGIN { printf "%.2f", a / b }')
				ratios="$ratios | $ratio"
			done
			d=$(cell "$dm" "$dmin" "$dmax" "$dn" $unit)
			[ $have_dpdk = 0 ] && d="skipped: dpdk-testpmd not installed"
			echo "$row | $d$ratios |"
		done
		echo
		echo "- **g2h-60**: the guest sends 300,000 frames of 60 bytes as fast as its NIC's transmit ring takes"
		echo "  them (\`vu_raw send\`, a packet socket that bypasses the qdisc, so a full ring makes it wait"
		echo "  and no frame is dropped in the guest); the figure is frames over the guest's sending time."
		echo "  unetmap: VM port → switch → pkt-gen rx on another port; DPDK: testpmd rxonly."
		if [ -n "${GOT[*]:-}" ]; then
			echo "  Frames the host side counted, per run (pkt-gen rx; testpmd's RX-total):"
			for b in "${BACK[@]}"; do
				[ -n "${GOT[$b]:-}" ] && echo "  $b:${GOT[$b]}."
			done
		fi
		echo "- **h2g-60**: the host sends 60-byte frames as fast as it can (pkt-gen tx on another port of the"
		echo "  switch; testpmd txonly); the guest counts what it receives for 5 s from the first frame"
		echo "  (\`vu_raw rate\`).  What the guest cannot take is dropped by the backend."
		echo "- **tcp**: two guests, 64 MiB through busybox nc, timed by the receiver from its first byte"
		echo "  (unetmap: two VM ports of one switch; DPDK: testpmd io forwarding between two vhost ports)."
		echo
		echo "**Under TCG the guest's CPU is the bottleneck.**  Every guest instruction is translated, so"
		echo "the guest's kernel (packet socket, virtio-net driver, TCP stack) runs one to two orders of"
		echo "magnitude slower than on the host: 0.02–0.1 Mpps of 60-byte frames here, where each backend could move"
		echo "tens of Mpps (below).  The table therefore says whether a VM port keeps up with a TCG guest"
		echo "as well as DPDK does (a ratio near 1 = parity at equal guest cost), not which backend is"
		echo "faster; with this much noise, ratios between about 0.5 and 2 are within the spread of single"
		echo "runs.  Placement: netmapd's forwarding thread, pkt-gen and testpmd's forwarding lcore on the"
		echo "last core; QEMU wherever the scheduler puts it.  testpmd polls its core at 100%; netmapd's"
		echo "thread sleeps when idle and the guest kicks it."
	fi
	if [ -n "$VBOUT" ]; then
		echo
		echo "## The backend alone, without TCG (bench/src/vhost_bench)"
		echo
		echo "A host thread plays a minimal virtio-net driver (recycles its chains, never touches"
		echo "payloads) against netmapd's vhost-user device, driven as netmapd drives it; 60-byte frames,"
		echo "guest→backend copies each frame out as the switch does, backend→guest copies into 2 KB"
		echo "mergeable buffers.  cores 1: driver and backend take turns on one thread, so ns/packet is"
		echo "the backend's work plus the minimal driver's; cores 2: driver on cpu 0, forwarding thread"
		echo "on cpu $hc (cache lines travel, and whatever else runs on either core shows)."
		echo
		# (two-core rows have no ns/packet)
		awk -F'|' 'NF == 10 { print $0 " — |"; next } { print }' "$VBOUT"
	fi
} >"$OUT"
cat "$OUT"
for sc in "${SCEN[@]}"; do
	for b in "${BACK[@]}"; do
		if [ "$b" = dpdk ] && [ $have_dpdk = 0 ]; then
			echo "SKIP $sc $b dpdk-testpmd not installed"
			continue
		fi
		unit=pps
		[ "$sc" = tcp ] && unit=Mbit/s
		echo "RESULT $sc $b $unit $(echo "${VAL[$sc.$b]:-}" | stats)"
	done
done
if [ -n "$VBOUT" ]; then
	# | direction | bytes | median | min | max | runs x s | cores | batch | ns/packet |
	awk -F'|' '$2 ~ /->/ { gsub(/ /, ""); split($7, r, "x")
		printf "RESULT vhost_bench-%s-%s-%score Mpps %s %s %s %s\n", $2, $3, $8, $4, $5, $6, r[1] }' \
		"$VBOUT" | sed 's/->/-to-/'
fi
exit $rc

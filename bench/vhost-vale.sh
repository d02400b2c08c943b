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
#   g2h-60  the guest sends 60-byte frames as fast as its raw socket takes
#           them; unetmap: VM port -> pkt-gen rx on a port of the switch;
#           DPDK: testpmd rxonly
#   h2g-60  the host sends 60-byte frames as fast as it can; the guest
#           counts what it receives in 5 s; unetmap: pkt-gen tx on a port
#           of the switch -> VM port; DPDK: testpmd txonly
#   tcp     two guests, 64 MiB from /dev/zero through nc; the receiver
#           times from its first byte to the end; unetmap: two VM ports
#           of one switch; DPDK: testpmd io forwarding between two vhost
#           ports
# Runs go round-robin over scenarios and backends, so that a shared
# host's drift spreads over all; medians [min-max] of --runs runs.
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
  --only IDS    scenarios, comma separated: g2h-60, h2g-60, tcp
  --busy        also unetmap with a busy-polling forwarding thread
  --out FILE    Markdown report (default bench/vhost-vale-results.md)
  --keep        keep the work directory (consoles, logs)

Environment: BUILD (default "build").  Needs qemu-system-x86_64, the guest
image (scripts/vm/build-guest.sh), make guest, and for the DPDK column
dpdk-testpmd (package dpdk-dev; otherwise that column is skipped).
Output: the Markdown report on stdout too, then one line per figure:
  RESULT <scenario> <backend> <unit> <median> <min> <max> <runs>
  SKIP <scenario> <backend> <reason>
Exit status: 0, 1 if a unetmap run failed, 2 on usage errors.
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
BUILD=$(cd "$root/${BUILD:-build}" 2>/dev/null && pwd) || { echo "no build directory" >&2; exit 2; }
[ -z "$OUT" ] && { [ $QUICK = 1 ] && OUT=$(mktemp /tmp/vhost-vale.XXXXXX.md) || OUT=$root/bench/vhost-vale-results.md; }
SCEN=(g2h-60 h2g-60 tcp)
[ -n "$ONLY" ] && IFS=, read -r -a SCEN <<<"$ONLY"

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
mem="-object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem"
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
		tr -d '\r' <"$work/$1.log" 2>/dev/null | grep -q -E "$2" && return 0
		sleep 0.1
	done
	return 1
}
line() { tr -d '\r' <"$work/$1.log" | grep -E "$2" | tail -n 1; }

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
	for _ in $(seq 100); do
		for s in "$@"; do [ -S "$s" ] || continue 2; done
		return 0
	done
	sleep 0.1
	return 0
}
stop_testpmd() { kill -INT "$tpid" 2>/dev/null; sleep 0.5; kill -KILL "$tpid" 2>/dev/null; wait "$tpid" 2>/dev/null; }

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
		timeout 120 taskset -c $hc "$work/pkt-gen" -i vale0:h -f rx -w 0 >"$work/$id.rx" 2>&1 &
		rx=$!
		pids+=("$rx")
	else
		testpmd "vhb$2" rxonly "$sock"
	fi
	boot "$id" "$work/$id.sh" "$sock" 52:54:00:00:00:01
	gwait "$id"
	res=$(line "$id" '^SENT-RATE' | sed -n 's/.*: \([0-9]*\) pps/\1/p')
	if [ "$b" != dpdk ]; then
		kill -INT "$rx" 2>/dev/null
		wait "$rx" 2>/dev/null
		"$work/vale-ctl" -r vale0:vm
	else
		stop_testpmd
	fi
}

run_h2g() {
	local b=$1 id=h2g-$1-$2 sock=$work/h2g-$1-$2.sock tx=
	g_script "$id" "./vu_raw rate eth0 5"
	if [ "$b" != dpdk ]; then
		"$work/vale-ctl" -n vale0:vm --vhost-user "$sock" || return 1
	else
		testpmd "vhb$2" txonly "$sock"
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
sleep 600 | nc -l -p 5000 | ./vu_raw sink
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
		testpmd "vhb$2" io "$s1" "$s2"
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

declare -A VAL
rc=0
for run in $(seq "$RUNS"); do
	for sc in "${SCEN[@]}"; do
		for b in "${BACK[@]}"; do
			if [ "$b" = dpdk ] && [ $have_dpdk = 0 ]; then continue; fi
			export UNETMAP_SOCKET=$work/netmapd.sock
			[ "$b" = unetmap-busy ] && export UNETMAP_SOCKET=$work/busy.sock
			res=
			case $sc in
			g2h-60) run_g2h "$b" "$run" ;;
			h2g-60) run_h2g "$b" "$run" ;;
			tcp) run_tcp "$b" "$run" ;;
			*) echo "unknown scenario $sc" >&2; exit 2 ;;
			esac
			v=$res
			echo "run $run $sc $b: ${v:-failed} (load $(cut -d' ' -f1 /proc/loadavg))" >&2
			if [ -n "$v" ]; then
				VAL[$sc.$b]="${VAL[$sc.$b]:-} $v"
			elif [ "$b" != dpdk ]; then
				rc=1
			fi
		done
	done
done

stats() {	# values -> "median min max n"
	tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- - - 0"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%s %s %s %d\n", m, v[1], v[NR], NR }'
}
fmt() {	# value unit -> human
	if [ "$1" = - ]; then echo "—"; elif [ "$2" = pps ]; then awk -v x="$1" 'BEGIN { printf "%.1f kpps", x / 1000 }'
	else awk -v x="$1" 'BEGIN { printf "%.0f Mbit/s", x }'; fi
}
{
	echo "# VM ports against DPDK's vhost PMD (generated by bench/vhost-vale.sh)"
	echo
	echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), QEMU $(qemu-system-x86_64 --version | head -n 1 | awk '{ print $4 }') (TCG), guest Linux from scripts/vm/build-guest.sh;"
	echo "median [min–max] of $RUNS run(s); figures measured inside the guest (tests/vm/vu_raw)."
	echo
	if [ $BUSY = 1 ]; then
		echo "| scenario | unetmap VM port | unetmap, --vale-busy | DPDK vhost PMD (testpmd) | unetmap / DPDK | busy / DPDK |"
		echo "| --- | ---: | ---: | ---: | ---: | ---: |"
	else
		echo "| scenario | unetmap VM port | DPDK vhost PMD (testpmd) | unetmap / DPDK |"
		echo "| --- | ---: | ---: | ---: |"
	fi
	for sc in "${SCEN[@]}"; do
		unit=pps
		[ "$sc" = tcp ] && unit=Mbit
		read -r dm dmin dmax dn <<<"$(echo "${VAL[$sc.dpdk]:-}" | stats)"
		row="| $sc"
		ratios=
		for b in "${BACK[@]}"; do
			[ "$b" = dpdk ] && continue
			read -r um umin umax un <<<"$(echo "${VAL[$sc.$b]:-}" | stats)"
			row="$row | $(fmt "$um" $unit) [$(fmt "$umin" $unit)–$(fmt "$umax" $unit)]"
			ratio=—
			[ "$um" != - ] && [ "$dm" != - ] &&
				ratio=$(awk -v a="$um" -v b="$dm" 'BEGIN { printf "%.2f", a / b }')
			ratios="$ratios | $ratio"
		done
		d="$(fmt "$dm" $unit) [$(fmt "$dmin" $unit)–$(fmt "$dmax" $unit)]"
		[ $have_dpdk = 0 ] && d="skipped: dpdk-testpmd not installed"
		echo "$row | $d$ratios |"
	done
	echo
	echo "g2h-60: the guest sends 60-byte frames as fast as its raw socket takes them (unetmap: to a"
	echo "pkt-gen rx on the switch; DPDK: testpmd rxonly).  h2g-60: the host sends as fast as it can"
	echo "(pkt-gen tx on the switch; testpmd txonly), the guest counts 5 s of what it receives.  tcp:"
	echo "64 MiB between two guests through nc (two VM ports of one switch; testpmd io between two"
	echo "vhost ports), timed by the receiver."
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
exit $rc

#!/usr/bin/env bash
# scripts/demo-vm.sh [BUILD] - the FOSDEM 2019 netmap demo across a VM
# boundary, with stock QEMU and no guest driver:
#
#   host pkt-gen tx -> netmap:P{1 ==pipe==> P}1 -> nm-filter (in a QEMU
#   guest) -> P}2 ==pipe==> netmap:P{2 -> host pkt-gen rx
#
# The two guest-side pipe ends are exported by netmapd (nm-vm export) as
# one ivshmem-doorbell device; the guest's own netmapd finds them and
# nm-filter opens them by their host names.  Four runs: zero copy (the
# filter swaps buffers between its two ports, which share the region)
# and copy (nm-filter -c), each with 60- and 1514-byte frames.  Both
# sides print their rates once a second ([tx], [rx] on the host, [guest]
# from the guest's console), and a summary table ends the demo.
#
# Needs what `scripts/install-deps.sh` installs (qemu-system-x86,
# busybox-static, cpio, kmod) and the network for the first guest image
# (Debian packages, cached afterwards).  Root is not needed on the host.
# DEMO_SECONDS sets the seconds per run (default 5).  Everything started
# here is stopped by pid at the end.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$root/build}" && pwd) || exit 1
secs=${DEMO_SECONDS:-5}
case $secs in ''|*[!0-9]*|0) echo "demo-vm: DEMO_SECONDS wants whole seconds"; exit 2 ;; esac
for c in qemu-system-x86_64 cpio; do
	command -v $c >/dev/null || { echo "demo-vm: $c is missing: run scripts/install-deps.sh"; exit 1; }
done
tmp=$(mktemp -d /tmp/unetmap-demo-vm.XXXXXX)
export UNETMAP_SOCKET=$tmp/netmapd.sock UNETMAP_NETMAPD=$BUILD/netmapd
pids=()
cleanup() {
	local p
	[ -f "$tmp/qpid" ] && kill -KILL "$(cat "$tmp/qpid")" 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	[ -f "$UNETMAP_SOCKET.lock" ] && kill "$(cat "$UNETMAP_SOCKET.lock")" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== building the guest image (cached after the first time) and the static guest programs"
"$root/scripts/vm/build-guest.sh" >"$tmp/build.log" 2>&1 ||
	{ tail -n 5 "$tmp/build.log"; echo "demo-vm: cannot build the guest image"; exit 1; }
make -s -C "$root" -j2 guest >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; exit 1; }
g=$root/build-guest

P=demo$$
"$BUILD/nm-vm" export -s "$tmp/vm.sock" -n demo-vm "$P}1" "$P}2" >"$tmp/export.out" 2>&1 ||
	{ cat "$tmp/export.out"; exit 1; }
echo "== netmapd exports $P}1 and $P}2 (one memory region) to the guest:"
sed 's/^/   /' "$tmp/export.out"

# The guest: nm-filter for each mode, its forwarding rate once a second
# (from its counters, SIGUSR1), for as long as the host needs.
win=$((2 * secs + 10))
cat >"$tmp/guest.sh" <<EOF
#!/bin/sh
P='$P'; WIN=$win
EOF
cat >>"$tmp/guest.sh" <<'EOF'
fwd() { grep 'ext->int:' f.log | tail -n 1 | sed -n 's/.* received \([0-9]*\) forwarded.*/\1/p'; }
for mode in zerocopy copy; do
	opt=; [ $mode = copy ] && opt=-c
	: >f.log
	./nm-filter $opt -i "netmap:$P}1" -i "netmap:$P}2" drop proto tcp dport 22 >f.log 2>&1 &
	f=$!
	while ! grep -q 'zerocopy' f.log; do sleep 0.1; done
	echo "FILTER $mode $(grep -o 'zerocopy [a-z]*' f.log)"
	last=0; i=0
	while [ $i -lt $WIN ]; do
		sleep 1
		kill -USR1 $f
		sleep 0.05
		now=$(fwd); now=${now:-$last}
		echo "GUEST $mode nm-filter forwarded $((now - last)) frames/s"
		last=$now; i=$((i + 1))
	done
	kill -INT $f; wait $f
	echo "DONE $mode"
done
EOF
"$root/scripts/vm/run-guest.sh" --timeout $((4 * win + 120)) --log "$tmp/console.log" \
	--pidfile "$tmp/qpid" --add "$g/netmapd" --add "$g/nm-filter" --append intel_iommu=on \
	"$tmp/guest.sh" -- -device intel-iommu \
	-chardev "socket,id=vm,path=$tmp/vm.sock" -device ivshmem-doorbell,chardev=vm,vectors=4 \
	>"$tmp/guest.out" 2>&1 &
gpid=$!; pids+=($gpid)
echo "== booting the guest (QEMU, TCG: a few seconds)"

wait_line() {	# REGEX SECONDS
	local i
	for i in $(seq $(($2 * 10))); do
		tr -d '\r' <"$tmp/console.log" 2>/dev/null | grep -q -E "$1" && return 0
		kill -0 $gpid 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# mean of per-second samples (Mpps, one a line), leaving out the first and
# the last that are not zero: traffic started or stopped inside them
steady() {
	awk '$1 > 0 { s[n++] = $1 }
	     END { t = 0; k = 0; for (i = 1; i < n - 1; i++) { t += s[i]; k++ }
		   if (!k && n) { for (i = 0; i < n; i++) t += s[i]; k = n }
		   if (k) printf "%.3f", t / k; else printf "-" }'
}
rate() {	# a pkt-gen log
	grep -E -o '[0-9.]+ [KM]?pps \(' "$1" |
		awk '{ v = $1; if ($2 == "Kpps") v /= 1000; else if ($2 == "pps") v /= 1e6; print v }' |
		steady
}
guest_rate() {	# console lines FROM..TO, mode
	tr -d '\r' <"$tmp/console.log" | sed -n "$1,$2p" | grep "^GUEST $3 " |
		awk '{ print $5 / 1e6 }' | steady
}
# print the new lines of FILE that match REGEX, with PREFIX, until killed
# (a loop of its own rather than tail -F, so one kill by pid stops it)
follow() {	# FILE PREFIX REGEX SED FROM-LINE
	local n=$5 m
	while :; do
		m=$(wc -l <"$1" 2>/dev/null || echo 0)
		if [ "$m" -gt "$n" ]; then
			sed -n "$((n + 1)),${m}p" "$1" | tr -d '\r' | grep -E "$3" |
				sed -e "$4" -e "s/^/$2/"
			n=$m
		fi
		sleep 0.25
	done
}
pgline='s/^[0-9.]* main_thread \[[0-9]*\] //'
summary=()
for mode in zerocopy copy; do
	if ! wait_line "^FILTER $mode" 120; then
		echo "demo-vm: the guest did not start nm-filter ($mode); its console:"
		tr -d '\r' <"$tmp/console.log" | tail -n 20
		exit 1
	fi
	echo
	echo "== $(tr -d '\r' <"$tmp/console.log" | grep "^FILTER $mode" | cut -d' ' -f3-) in the guest"
	for size in 60 1514; do
		echo "-- $size-byte frames, $secs s: host pkt-gen tx -> guest nm-filter -> host pkt-gen rx"
		: >"$tmp/rx.log"
		: >"$tmp/tx.log"
		"$BUILD/pkt-gen" -i "netmap:$P{2" -f rx -w 0 >"$tmp/rx.log" 2>&1 &
		rx=$!; pids+=($rx)
		from=$(wc -l <"$tmp/console.log")
		follow "$tmp/console.log" "[guest] " "^GUEST $mode" 's/^GUEST [a-z]* //' "$from" &
		f1=$!; pids+=($f1)
		follow "$tmp/rx.log" "[rx]    " 'pps \(' "$pgline" 0 &
		f2=$!; pids+=($f2)
		follow "$tmp/tx.log" "[tx]    " 'pps \(' "$pgline" 0 &
		f3=$!; pids+=($f3)
		sleep 0.3
		timeout -s INT "$secs" "$BUILD/pkt-gen" -i "netmap:$P{1" -f tx -l "$size" -w 0 \
			>"$tmp/tx.log" 2>&1
		sleep 1
		to=$(wc -l <"$tmp/console.log")
		kill -INT $rx 2>/dev/null; wait $rx 2>/dev/null
		kill $f1 $f2 $f3 2>/dev/null; wait $f1 $f2 $f3 2>/dev/null
		summary+=("$(printf '%-9s %6s B   %10s %14s %10s' "$mode" "$size" "$(rate "$tmp/tx.log")" \
			"$(guest_rate "$from" "$to" "$mode")" "$(rate "$tmp/rx.log")")")
	done
	wait_line "^DONE $mode" $((win + 30)) || { echo "demo-vm: the guest did not finish ($mode)"; exit 1; }
done
wait $gpid 2>/dev/null
echo
echo "== summary (Mpps; TCG guest on $(nproc) host cores: relative figures, see bench/README.md)"
printf '%-9s %8s   %10s %14s %10s\n' mode frame "host tx" "guest filter" "host rx"
printf '%s\n' "${summary[@]}"

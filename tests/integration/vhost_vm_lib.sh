# tests/integration/vhost_vm_lib.sh - what the VM port tests with real
# QEMU guests (79_vm_vhost_*.sh) share.  Sourced, not run (deliberately
# not executable, so the runner skips it); needs tlib.sh.
#
# Each test runs a netmapd of its own (it kills and restarts it, or must
# not disturb the runner's), on a socket in its temporary directory, and
# boots TCG guests (scripts/vm/run-guest.sh) whose virtio-net NICs are
# VM ports of that netmapd.  Everything is stopped by pid at exit.
#
#   vv_setup TAG            skip (77) without QEMU or the guest image;
#                           make guest; $tmp, $g (static guest binaries)
#   vv_netmapd              start the private netmapd ($UNETMAP_SOCKET)
#   vv_netmapd_kill         SIGKILL it (a crash, as far as anyone knows)
#   vv_nic SOCK MAC MODE [DEVOPTS]
#                           QEMU arguments of one NIC (words on stdout):
#                           MODE server = netmapd listens, QEMU connects
#                           with reconnect=1; client = QEMU listens
#   vv_boot NAME [run-guest options] SCRIPT -- QEMU-ARGS
#                           boot a guest in the background (vu_raw added);
#                           its console is $tmp/NAME.log, QEMU's pid in
#                           $tmp/NAME.qpid
#   vv_console NAME REGEX SECS   wait for a console line
#   vv_started NAME REGEX SECS   the same, and fail the test at once if
#                                it does not come
#   vv_guest_wait NAME SECS      wait for the guest to finish; its exit
#                                status in $wstatus
#   vv_stats PORT           vale-ctl -s PORT (two lines for a VM port)
#   vv_field PORT FIELD     one counter of vale-ctl -s PORT (tx_pkts...)
# VV_KEEP=1 keeps the temporary directory (consoles, netmapd's log).

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
vv_tmp_pids=()
fail=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2"; fail=1; fi; }

vv_cleanup() {
	local f p
	for f in "$tmp"/*.qpid; do
		[ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
	done
	for p in "${vv_tmp_pids[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	[ -n "${vv_npid:-}" ] && kill -TERM "$vv_npid" 2>/dev/null && wait "$vv_npid" 2>/dev/null
	if [ -f "$tmp/netmapd.log" ] &&
	   grep -q -E 'AddressSanitizer|runtime error:|LeakSanitizer' "$tmp"/netmapd*.log; then
		echo "FAIL: sanitizer report in the private netmapd's log:"
		grep -h -A 20 -E 'AddressSanitizer|runtime error:|LeakSanitizer' "$tmp"/netmapd*.log |
			head -40
		exit 1
	fi
	if [ -n "${VV_KEEP:-}" ]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}

vv_setup() {
	guest_setup "$1" vv_cleanup
	export UNETMAP_SOCKET=$tmp/netmapd.sock
	vv_nrun=0
}

vv_netmapd() {
	vv_nrun=$((vv_nrun + 1))
	"$BUILD/netmapd" --foreground --socket "$UNETMAP_SOCKET" \
		>>"$tmp/netmapd.log" 2>&1 &
	vv_npid=$!
	wait_for "$tmp/netmapd.log" "listening on" 10 ||
		{ echo "private netmapd did not start"; cat "$tmp/netmapd.log"; exit 1; }
	# the log accumulates across restarts: wait for this run's line
	for _ in $(seq 100); do
		[ "$(grep -c 'listening on' "$tmp/netmapd.log")" -ge "$vv_nrun" ] && return 0
		sleep 0.05
	done
	echo "private netmapd did not start"; exit 1
}

vv_netmapd_kill() {
	kill -KILL "$vv_npid" 2>/dev/null
	wait "$vv_npid" 2>/dev/null
	vv_npid=
}

# QEMU needs guest RAM it can share (vhost-user maps it) and, under TCG,
# no MSI-X on a vhost-user virtio-net (QEMU 7.2 crashes): vectors=0.
vv_mem() {
	echo "-object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem"
}

# (called in $(...): the QEMU ids come from the MAC, not from a counter)
vv_nic() {
	local sock=$1 mac=$2 mode=$3 opts=${4:-} ch id
	id=n$(echo "$mac" | tr -d :)
	if [ "$mode" = server ]; then
		ch="socket,id=c$id,path=$sock,reconnect=1"
	else
		ch="socket,id=c$id,path=$sock,server=on,wait=off"
	fi
	echo "-chardev $ch -netdev vhost-user,id=$id,chardev=c$id" \
	     "-device virtio-net-pci,netdev=$id,mac=$mac,vectors=0${opts:+,$opts}"
}

# vv_boot NAME [run-guest options] SCRIPT -- QEMU-ARGS...
vv_boot() {
	local name=$1
	shift
	"$root/scripts/vm/run-guest.sh" --timeout "${VV_TIMEOUT:-150}" --log "$tmp/$name.log" \
		--pidfile "$tmp/$name.qpid" --add "$g/tests/vm/vu_raw" "$@" \
		>"$tmp/$name.out" 2>&1 &
	eval "vv_pid_$name=$!"
	vv_tmp_pids+=("$!")
}

vv_console() {
	wait_for "$tmp/$1.log" "$2" "$3"
}

# the guest must get going, or nothing else can be checked
vv_started() {
	vv_console "$1" "$2" "$3" && return 0
	echo "FAIL: guest $1 never printed '$2'; its run-guest.sh said:"
	sed 's/^/    /' "$tmp/$1.out"
	tr -d '\r' <"$tmp/$1.log" | tail -n 5 | sed 's/^/    console: /'
	exit 1
}

vv_guest_wait() {
	local p
	eval "p=\$vv_pid_$1"
	wait_pid "$p" "$2"
}

vv_stats() {
	vale-ctl -s "$1" 2>&1
}

vv_field() {
	vale-ctl -s "$1" 2>/dev/null | head -n 1 |
		sed -n "s/.* $2 \([0-9]*\).*/\1/p"
}

# the console without carriage returns, lines matching REGEX
vv_lines() {
	tr -d '\r' <"$tmp/$1.log" | grep -E "$2"
}

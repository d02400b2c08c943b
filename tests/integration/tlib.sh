# tests/integration/tlib.sh - shell helpers shared by the script tests.
# Sourced, not run (deliberately not executable, so the runner skips it).

# wait until file $1 contains regex $2 (max $3 s)
wait_for() {
	local i
	for i in $(seq $(($3 * 20))); do
		grep -q -E "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# wait for pid $1 to exit (max $2 s); its exit status in $wstatus
# (124 when it did not exit in time)
wait_pid() {
	local i
	for i in $(seq $(($2 * 20))); do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1"
			wstatus=$?
			return 0
		fi
		sleep 0.05
	done
	wstatus=124
	return 1
}

# ---- tests with QEMU guests (7x_vm_*) ----

# guest_setup TAG [CLEANUP]: skip (77) without QEMU or cpio, or when the
# guest's Debian packages cannot be fetched; otherwise $tmp (a new
# directory; CLEANUP, default guest_cleanup, runs at exit), the guest
# image, and the static guest binaries of `make guest` in $g.
guest_setup() {
	command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 is not installed"; exit 77; }
	command -v cpio >/dev/null || { echo "cpio is not installed"; exit 77; }
	tmp=$(mktemp -d "/tmp/unetmap-$1.XXXXXX")
	trap "${2:-guest_cleanup}" EXIT
	"$root/scripts/vm/build-guest.sh" >"$tmp/build.log" 2>&1
	case $? in
	0) ;;
	2) tail -n 3 "$tmp/build.log"; echo "cannot fetch the guest's Debian packages"; exit 77 ;;
	*) cat "$tmp/build.log"; echo "build-guest.sh failed"; exit 1 ;;
	esac
	make -s -C "$root" -j2 guest >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; exit 1; }
	g=$root/build-guest
}

# guest_cleanup: SIGKILL every QEMU whose pid file is in $tmp (qpid,
# *.qpid), stop the processes in ${pids[@]}, end the exports whose
# sockets are in $tmp, remove $tmp.
guest_cleanup() {
	local f p
	for f in "$tmp"/qpid "$tmp"/*.qpid; do
		[ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
	done
	for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null; done
	for p in ${pids[@]+"${pids[@]}"}; do wait "$p" 2>/dev/null; done
	for f in "$tmp"/*.sock; do
		[ -S "$f" ] && "${B:-$BUILD}/nm-vm" unexport -s "$f" >/dev/null 2>&1
	done
	rm -rf "$tmp"
}

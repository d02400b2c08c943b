# tests/integration/nfv_lib.sh - helpers of the NFV tools' tests (6x_*).
# Sourced, not run (not executable, so the runner skips it).

# settle OUT...: wait until each nm-dump writing its summary lines to one of
# the files OUT has seen no new frame for a whole second: two per-second
# lines printed after this call with the same count.  A fixed sleep is not
# enough when the machine is busy with other work.  Gives up after 30 s.
settle() {
	local f i n0 ok
	local -A start=()
	for f in "$@"; do start[$f]=$(grep -c '^nm-dump: [0-9]* seen' "$f" 2>/dev/null); done
	for i in $(seq 150); do
		ok=1
		for f in "$@"; do
			n0=${start[$f]:-0}
			# the per-second lines printed since the call, last two counts
			if ! grep '^nm-dump: [0-9]* seen' "$f" 2>/dev/null | tail -n +$((n0 + 1)) |
				tail -2 | awk '{ c[NR] = $2 } END { exit !(NR == 2 && c[1] == c[2]) }'; then
				ok=0
				break
			fi
		done
		[ $ok = 1 ] && return 0
		sleep 0.2
	done
	echo "settle: traffic did not stop within 30 s: $*"
	return 1
}

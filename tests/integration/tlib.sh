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

#!/usr/bin/env bash
# Test objective: no client killed at any moment -- while it opens its
# port, while it syncs, while it closes -- can take netmapd down or leave
# anything behind.  A bounded soak (SOAK_SECS, default 20 s) of pkt-gen
# senders and receivers on pipes and VALE ports, SIGKILLed or SIGTERMed at
# random times, about a third of them within milliseconds of starting
# (during the open).  (Regression: the same loop killed netmapd in 4 of 4
# runs after 4-67 s.)
#
# Operations:
#  1. a private netmapd with --idle-exit 3;
#  2. for SOAK_SECS: keep 10 clients alive on 4 pipe names and 2 VALE
#     switches, each killed after 0-1000 ms (SIGKILL mostly, SIGTERM
#     sometimes); every 2 s netmapd must still answer;
#  3. after the last client is gone, netmapd must find itself idle and
#     exit by itself (nothing leaked: no client, pipe, switch or port left)
#     and must not have spun meanwhile;
#  4. a fresh netmapd carries an exact txseq -> rxseq transfer.
set -u
. "$(dirname "$0")/tlib.sh"
secs=${SOAK_SECS:-20}
tmp=$(mktemp -d /tmp/unetmap-32.XXXXXX)
sock=$tmp/netmapd.sock
pids=()
dpid=
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	[ -n "$dpid" ] && kill -9 "$dpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
check() { if eval "$1"; then :; else echo "FAIL: $2"; fail=1; fi; }
PG="$BUILD/pkt-gen"

"$BUILD/netmapd" --foreground --idle-exit 3 --socket "$sock" 2>"$tmp/netmapd.log" &
dpid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
export UNETMAP_SOCKET=$sock UNETMAP_NETMAPD=/nonexistent UNETMAP_TIMEOUT=10

# one random client; its pid in $cpid
spawn() {
	local r=$((RANDOM % 8)) name fn
	case $r in
	0|1) name="netmap:sk$((RANDOM % 4)){1"; fn=tx ;;
	2|3) name="netmap:sk$((RANDOM % 4))}1"; fn=rx ;;
	4) name="valesk$((RANDOM % 2)):p$((RANDOM % 6))"; fn=tx ;;
	5) name="valesk$((RANDOM % 2)):p$((RANDOM % 6))"; fn=rx ;;
	6) name="netmap:sk$((RANDOM % 4)){1"; fn=txseq ;;
	*) name="netmap:sk$((RANDOM % 4))}1"; fn=rxseq ;;
	esac
	"$PG" -i "$name" -f $fn -w 0 -T 100 >/dev/null 2>&1 &
	cpid=$!
}

# client pid -> when to kill it (ms); `live` counts them (bash's set -u
# calls an empty associative array unbound)
declare -A deadline
live=0 started=0 killed=0 termed=0
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
end=$(( $(now_ms) + secs * 1000 ))
next_check=$(( $(now_ms) + 2000 ))
while [ "$(now_ms)" -lt "$end" ]; do
	while [ $live -lt 10 ]; do
		spawn
		started=$((started + 1))
		live=$((live + 1))
		# a third die during the open, the rest during traffic
		if [ $((RANDOM % 3)) -eq 0 ]; then
			deadline[$cpid]=$(( $(now_ms) + RANDOM % 30 ))
		else
			deadline[$cpid]=$(( $(now_ms) + RANDOM % 1000 ))
		fi
	done
	t=$(now_ms)
	for p in $([ $live -gt 0 ] && echo "${!deadline[@]}"); do
		if [ "${deadline[$p]}" -le "$t" ] || ! kill -0 "$p" 2>/dev/null; then
			if [ $((RANDOM % 5)) -eq 0 ]; then
				kill -TERM "$p" 2>/dev/null && termed=$((termed + 1))
			else
				kill -KILL "$p" 2>/dev/null && killed=$((killed + 1))
			fi
			wait "$p" 2>/dev/null
			unset "deadline[$p]"
			live=$((live - 1))
		fi
	done
	if [ "$t" -ge "$next_check" ]; then
		if ! kill -0 "$dpid" 2>/dev/null; then
			echo "FAIL: netmapd died after $started clients"
			tail -n 20 "$tmp/netmapd.log"
			exit 1
		fi
		timeout 10 "$PG" -i null:skalive -f tx -n 1000 -w 0 >/dev/null 2>&1
		check '[ $? -eq 0 ]' "netmapd answers during the soak (after $started clients)"
		next_check=$((t + 2000))
	fi
	sleep 0.01
done
for p in $([ $live -gt 0 ] && echo "${!deadline[@]}"); do
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
echo "soak: $started clients, $killed SIGKILLed, $termed SIGTERMed in ${secs}s"

# 3. nothing left: netmapd goes idle and exits by itself
c0=$(awk '{print $14 + $15}' /proc/$dpid/stat 2>/dev/null)
wait_pid "$dpid" 20
check '[ $wstatus -eq 0 ]' "netmapd exits by itself once idle (status $wstatus): nothing leaked"
check 'grep -q "idle for 3 s" "$tmp/netmapd.log"' "it says it was idle"
check '! grep -q -E "AddressSanitizer|runtime error|double free|corrupt" "$tmp/netmapd.log"' \
	"no memory error in netmapd's log"
dpid=

# 4. a fresh netmapd carries an exact transfer
"$BUILD/netmapd" --foreground --socket "$sock" 2>>"$tmp/netmapd.log" &
dpid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
timeout 30 "$PG" -i "netmap:skfin}1" -f rxseq -n 100000 -w 0 >"$tmp/rx.out" 2>&1 &
rx=$!; pids+=($rx)
sleep 0.3
timeout 30 "$PG" -i "netmap:skfin{1" -f txseq -n 100000 -w 0 >"$tmp/tx.out" 2>&1
wait_pid $rx 30
check '[ $wstatus -eq 0 ]' "rxseq after the soak (status $wstatus)"
check '! grep -q "Sequence GAP" "$tmp/rx.out"' "no sequence gap"
kill "$dpid" 2>/dev/null
wait "$dpid" 2>/dev/null
dpid=
[ $fail -eq 0 ] && echo "32_kill_soak: ok"
exit $fail

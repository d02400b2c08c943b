#!/usr/bin/env bash
# Test objective: a guest that writes garbage all over the memory passed
# through to it cannot crash host netmapd, the VALE switch, or the host
# processes on the other side; afterwards everything is released and the
# host keeps working.
# Operations (names carry the prefix pt75<pid>):
#   1. export pipe end P}1 and VALE port valeP:g to a guest; on the host,
#      tests/vm/app_victim sends and receives on P{1, and two pkt-gens
#      send and receive on valeP:h, all without end.  (A pipe's ends share
#      their region, across a VM too: the guest can write into the host
#      end's rings, so the host end is an application that takes its ring
#      geometry once and checks indices, as any pipe peer of an untrusted
#      party must; a VALE port isolates unmodified applications such as
#      pkt-gen.  docs/passthrough.md, "Trust".)
#   2. in the guest, tests/vm/app_hostile opens P}1 and valeP:g like any
#      netmap application and for 15 s writes random values into ring
#      indices, control blocks and slots (its own and the host peer's
#      rings beside them), buffers, the guest area and netmapd's
#      descriptor, syncing and polling in between;
#   3. meanwhile the switch counts the guest port's impossible values as
#      errors; the guest powers off; every host program is still running
#      and stops cleanly on SIGINT (no crash); the exports are gone;
#   4. a fresh pipe carries 10000 frames on the host (netmapd's allocator
#      and registry are intact); netmapd itself is checked by the runner.
set -u
. "$(dirname "$0")/tlib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
B=${BUILD:-$root/build}
pids=()
P=pt75$$
V=vale$P
fail=0
check() { if eval "$1"; then echo "ok: $2"; else echo "FAIL: $2"; fail=1; fi; }
guest_setup 74h

"$B/nm-vm" export -s "$tmp/a.sock" -n vm75 "$P}1" >"$tmp/e.out" 2>&1 &&
"$B/nm-vm" export -s "$tmp/v.sock" -n vm75v "$V:g" >>"$tmp/e.out" 2>&1 ||
	{ cat "$tmp/e.out"; echo "FAIL: exports"; exit 1; }

host=()
victim() {	# NAME ARGS...: a host program, without end
	local n=$1
	shift
	"$@" >"$tmp/$n.out" 2>&1 &
	host+=($!); pids+=($!)
}
victim pipe "$B/tests/vm/app_victim" "netmap:$P{1"
victim vtx "$B/pkt-gen" -i "$V:h" -f tx -l 60 -R 50000
victim vrx "$B/pkt-gen" -i "$V:h" -f rx

cat >"$tmp/run.sh" <<EOF
#!/bin/sh
./app_hostile -t 15 'netmap:$P}1' '$V:g'
echo "HOSTILE exit \$?"
EOF
"$root/scripts/vm/run-guest.sh" --timeout 150 --log "$tmp/console.log" --pidfile "$tmp/qpid" \
	--add "$g/netmapd" --add "$g/tests/vm/app_hostile" --append intel_iommu=on "$tmp/run.sh" -- \
	-device intel-iommu \
	-chardev "socket,id=a,path=$tmp/a.sock" -device ivshmem-doorbell,chardev=a,vectors=2 \
	-chardev "socket,id=v,path=$tmp/v.sock" -device ivshmem-doorbell,chardev=v,vectors=2 \
	>"$tmp/guest.out" 2>&1 &
gpid=$!; pids+=($gpid)
# the switch's view of the guest's port, half-way through the attack
if wait_for "$tmp/console.log" '^HOSTILE start' 90; then
	sleep 7
	"$B/vale-ctl" -s "$V:g" >"$tmp/stats.out" 2>&1
fi
wait_pid $gpid 120
grc=$wstatus
tr -d '\r' <"$tmp/console.log" | grep -E '^(HOSTILE|FAIL)' | sed 's/^/    guest: /'
check '[ $grc -eq 0 ] && grep -q "^HOSTILE exit 0" "$tmp/console.log"' "the hostile guest ran (exit $grc)"
check 'grep -q "^HOSTILE rounds [1-9]" "$tmp/console.log"' "it wrote garbage for 15 s"

alive=0
for p in "${host[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
check '[ $alive -eq 3 ]' "the 3 host programs outlived the guest ($alive alive)"
errs=$(sed -n 's/.* errors \([0-9]*\)$/\1/p' "$tmp/stats.out")
echo "    the switch counted ${errs:-?} impossible values from the guest's port"
check '[ "${errs:-0}" -gt 0 ]' "the switch saw the garbage and ignored it"
kill -INT "${host[@]}" 2>/dev/null
rcs=
for p in "${host[@]}"; do
	wait_pid "$p" 10
	rcs="$rcs $wstatus"
done
check '! echo "$rcs" | grep -q -E "(^| )(1[2-9][0-9]|2[0-9][0-9])( |$)"' \
	"the host programs stop without a crash (exit$rcs)"
grep -h '^VICTIM polls' "$tmp/pipe.out" | sed 's/^/    host: /'
for _ in $(seq 40); do [ -z "$("$B/nm-vm" list 2>/dev/null)" ] && break; sleep 0.05; done
check '[ -z "$("$B/nm-vm" list)" ]' "the exports ended with the guest"

timeout 30 "$B/pkt-gen" -i "netmap:${P}f}1" -f rx -n 10000 >"$tmp/frx.out" 2>&1 &
frx=$!; pids+=($frx)
sleep 0.5
timeout 30 "$B/pkt-gen" -i "netmap:${P}f{1" -f tx -n 10000 -l 60 >"$tmp/ftx.out" 2>&1
wait_pid $frx 20
check 'grep -q "Received 10000 packets" "$tmp/frx.out"' "a fresh pipe carries 10000 frames"
[ $fail -eq 0 ] && echo "74_vm_hostile: ok"
exit $fail

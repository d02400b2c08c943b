#!/usr/bin/env bash
# Test objective: netmapd's ivshmem-doorbell server (daemon/vm/ivshmem_server.c)
# speaks QEMU's protocol and survives misbehaving clients, without QEMU:
# tests/vm/ivshmem_client plays the QEMU peers against tests/vm/ivshmem_host.
# Operations:
#   - a peer gets version, id, the memory (mapped: the host's magic is
#     there), the host's bells (peer 0) and its own vectors;
#   - a second peer is announced to the first and the first to it; when it
#     leaves, the first is told and the host sees LEAVE; its id is not given
#     again while the first lives (QEMU would use freed memory), and ids
#     start over once every peer is gone;
#   - a ring of the host's bell reaches the host; a ping is answered by a
#     kick of the peer's vector 1;
#   - garbage (bytes and a descriptor) gets its sender dropped; a client
#     that connects and closes at once, one over the peer limit (refused),
#     and one that never reads while others come and go (dropped once its
#     queue is full) leave the server serving;
#   - memory whose size is not a power of two is refused (QEMU would abort);
#     a live socket is not stolen; a stale one is replaced.
set -u
. "$(dirname "$0")/tlib.sh"
tmp=$(mktemp -d /tmp/unetmap-70.XXXXXX)
vm=$BUILD/tests/vm
sock=$tmp/ivs.sock
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
check() { if eval "$1"; then :; else echo "FAIL: $2"; fail=1; fi; }
client() { "$vm/ivshmem_client" -s "$sock" "$@"; }

[ -x "$vm/ivshmem_host" ] || { echo "no $vm/ivshmem_host (make tests)"; exit 1; }

# -p 3: three peers at once
"$vm/ivshmem_host" -s "$sock" -v 2 -p 3 >"$tmp/host.out" 2>"$tmp/host.err" &
hpid=$!; pids+=($hpid)
wait_for "$tmp/host.out" '^READY' 5 || { echo "host did not start"; cat "$tmp/host.err"; exit 1; }

# peer A: stays 8 s, pings once greeted
client -t 8 -P >"$tmp/a.out" 2>&1 & apid=$!; pids+=($apid)
check 'wait_for "$tmp/a.out" "^SELF 1 2" 5' "A greeted as peer 1 with 2 vectors"
check 'grep -q "^SHM 1048576 magic ok" "$tmp/a.out"' "A mapped the memory and saw the magic"
check 'grep -q "^PEER 0 2" "$tmp/a.out"' "A got the host (peer 0) with 2 bells"
check 'wait_for "$tmp/host.out" "^JOIN 1" 5' "host saw peer 1 join"
check 'wait_for "$tmp/a.out" "^KICKED 1" 5' "the ping reached the host and its kick reached A"

# peer B: announced both ways, then leaves
client -t 1 -R 1 >"$tmp/b.out" 2>&1
check '[ $? -eq 0 ] && grep -q "^SELF 2 2" "$tmp/b.out"' "B greeted as peer 2"
check 'grep -q "^PEER 1 2" "$tmp/b.out"' "B was told of A"
check 'wait_for "$tmp/a.out" "^PEER 2 2" 5' "A was told of B"
check 'wait_for "$tmp/host.out" "^RING 2 1" 5' "B's ring of bell 1 reached the host"
check 'wait_for "$tmp/host.out" "^LEAVE 2" 5' "host saw B leave"
check 'wait_for "$tmp/a.out" "^LEFT 2" 5' "A was told that B left"
# QEMU cannot take a new peer under an id it was told had left
client -t 0.3 >"$tmp/b2.out" 2>&1
check 'grep -q "^ID 3" "$tmp/b2.out"' "id 2 is not given again while A lives"

# garbage: dropped, A not disturbed
client -t 5 -G >"$tmp/g.out" 2>&1
check '[ $? -eq 0 ] && grep -q "^CLOSED\|^REFUSED" "$tmp/g.out"' "the garbage sender was dropped"
check 'wait_for "$tmp/host.err" "sent data" 5' "the server says why"
# connect and close at once
client -t 0 >/dev/null 2>&1
# over the limit: A + two holders = 3 peers, the fourth is refused
client -t 6 >"$tmp/h1.out" 2>&1 & pids+=($!)
client -t 6 >"$tmp/h2.out" 2>&1 & pids+=($!)
check 'wait_for "$tmp/h1.out" "^SELF" 5 && wait_for "$tmp/h2.out" "^SELF" 5' "two more peers join"
client -t 3 >"$tmp/h3.out" 2>&1
check 'grep -q "^REFUSED" "$tmp/h3.out"' "a peer over the limit is refused"
check 'wait_for "$tmp/host.err" "too many peers" 5' "the server says why"
wait "${pids[-1]}" "${pids[-2]}" 2>/dev/null

# a peer that never reads while 300 others come and go: dropped, and the
# server keeps serving
joins=$(grep -c '^JOIN' "$tmp/host.out")
client -N -t 8 >"$tmp/n.out" 2>&1 & npid=$!; pids+=($npid)
for _ in $(seq 100); do
	[ "$(grep -c '^JOIN' "$tmp/host.out")" -gt "$joins" ] && break
	sleep 0.05
done
client -L 300 >"$tmp/l.out" 2>&1
check '[ $? -eq 0 ] && grep -q "^LOOPS 300" "$tmp/l.out"' "300 peers joined and left"
check 'wait_for "$tmp/host.err" "does not read its socket" 5' "the non-reader was dropped"
client -t 0.5 >"$tmp/c.out" 2>&1
check 'grep -q "^SELF" "$tmp/c.out"' "a new peer is still served"
check 'kill -0 $hpid' "the server is alive"
check 'wait_for "$tmp/a.out" "^BYE" 10' "A saw nothing wrong"
check 'wait_for "$tmp/host.out" "^LEAVE 1\$" 5' "A left"
client -t 0.3 >"$tmp/e.out" 2>&1
check 'grep -q "^ID 1\$" "$tmp/e.out"' "with no peer left, ids start over at 1"
check '! grep -q "^BAD" "$tmp"/*.out' "no protocol violation seen by any client"

# sizes QEMU cannot take, and the socket path
"$vm/ivshmem_host" -s "$tmp/x.sock" -m 1200128 >"$tmp/np2.out" 2>&1
check '[ $? -eq 1 ] && grep -q "power of two" "$tmp/np2.out"' "a size that is not a power of two is refused"
"$vm/ivshmem_host" -s "$sock" >"$tmp/dup.out" 2>&1
check '[ $? -eq 1 ] && grep -q "in use" "$tmp/dup.out"' "a live server's socket is not taken over"
kill -KILL $hpid; wait $hpid 2>/dev/null
check '[ -S "$sock" ]' "a killed server leaves its socket behind"
"$vm/ivshmem_host" -s "$sock" >"$tmp/h2.out" 2>"$tmp/h2.err" & pids+=($!)
check 'wait_for "$tmp/h2.out" "^READY" 5' "a new server replaces the stale socket"
client -t 0.5 >"$tmp/d.out" 2>&1
check 'grep -q "^SELF 1 2" "$tmp/d.out"' "and serves"
kill "${pids[-1]}"; wait "${pids[-1]}"
check '[ $? -eq 0 ] && grep -q "^STOPPED" "$tmp/h2.out" && [ ! -e "$sock" ]' \
	"SIGTERM stops the server cleanly and removes its socket"
check '! grep -q -E "AddressSanitizer|runtime error|LeakSanitizer" "$tmp"/*.err' "no sanitizer report"

[ $fail -eq 0 ] && echo "70_ivshmem_server: ok"
exit $fail

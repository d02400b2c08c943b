#!/usr/bin/env bash
# Test objective: containers reach the host's netmapd through sockets
# granted to them (nm-grant), bind-mounted into their mount namespace, and
# can open only the ports their grant names: two processes of one pod in
# separate mount+network namespaces exchange traffic over a pipe, two pods
# over a VALE switch, exact counts; a pod cannot open another pod's port,
# an interface, a null port or a region by id, nor administer VALE; its
# regions are sealed for it; revoking disconnects it.
#
# Operations:
#  1. grant pod1 ("pod1..." ports), podA ("valect<pid>:podA..."), podB
#     ("valect<pid>:podB...") sockets in a root-owned directory;
#  2. pod1: a receiver and a sender, each `unshare -m -n` with the grant's
#     directory bind-mounted, txseq -> rxseq 20000 frames over pod1p{1;
#  3. podA -> podB over a VALE switch, 20000 frames;
#  4. podA tries podB's port, an interface, vale-ctl -n: refused (EPERM)
#     with the reason in words;
#  5. the host cannot put a pipe in podA's sealed region; revoke podA:
#     its socket disappears.
set -u
. "$(dirname "$0")/tlib.sh"
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null; then
	echo "needs root and unshare for mount and network namespaces"
	exit 77
fi
tmp=$(mktemp -d /tmp/unetmap-36.XXXXXX)
chmod 755 "$tmp"
pods=$tmp/pods
mkdir "$pods"
chmod 755 "$pods"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	for s in pod1 podA podB; do "$BUILD/nm-grant" -r "$pods/$s.sock" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
check() { if eval "$1"; then :; else echo "FAIL: $2"; fail=1; fi; }
sw="valect$$"
PG="$BUILD/pkt-gen"
NG="$BUILD/nm-grant"

# 1
"$NG" -p pod1 -H pod1 "$pods/pod1.sock" || { echo "FAIL: grant pod1"; exit 1; }
"$NG" -p "$sw:podA" -H podA "$pods/podA.sock" || { echo "FAIL: grant podA"; exit 1; }
"$NG" -p "$sw:podB" -H podB "$pods/podB.sock" || { echo "FAIL: grant podB"; exit 1; }
check '[ -S "$pods/pod1.sock" ] && [ "$(stat -c %a "$pods/pod1.sock")" = 660 ]' "granted sockets exist, mode 660"

# run a command "in a container" of pod $1: own mount and network
# namespaces, the pods directory bind-mounted at /run/unetmap-pod
incontainer() {
	local pod=$1
	shift
	unshare -m -n --propagation private sh -c '
		pod=$1; shift
		mkdir -p /run/unetmap-pod && mount --bind "$0" /run/unetmap-pod &&
		UNETMAP_SOCKET=/run/unetmap-pod/$pod.sock UNETMAP_NETMAPD=/nonexistent exec "$@"' \
		"$pods" "$pod" "$@"
}

# 2: one pod, two containers, a pipe
incontainer pod1 "$PG" -i "netmap:pod1p}1" -f rxseq -n 20000 -w 0 >"$tmp/p1rx.out" 2>&1 &
rx=$!; pids+=($rx)
sleep 0.5
incontainer pod1 "$PG" -i "netmap:pod1p{1" -f txseq -n 20000 -w 0 >"$tmp/p1tx.out" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "pod1 sender (log: $(tail -n 2 "$tmp/p1tx.out" | tr '\n' ' '))"
wait_pid $rx 30
check '[ $wstatus -eq 0 ]' "pod1 receiver got 20000 in sequence (status $wstatus)"
check '! grep -q "Sequence GAP" "$tmp/p1rx.out"' "no gap over the pipe"

# 3: two pods on one switch
incontainer podB "$PG" -i "$sw:podB" -f rx -n 20000 -w 0 >"$tmp/brx.out" 2>&1 &
rx=$!; pids+=($rx)
sleep 0.5
incontainer podA "$PG" -i "$sw:podA" -f tx -n 20000 -R 100000 -w 0 -D ff:ff:ff:ff:ff:ff \
	>"$tmp/atx.out" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "podA sender (log: $(tail -n 2 "$tmp/atx.out" | tr '\n' ' '))"
wait_pid $rx 30
check '[ $wstatus -eq 0 ]' "podB received all 20000 frames (status $wstatus; $(tail -n 1 "$tmp/brx.out"))"

# 4: what podA may not do
incontainer podA "$PG" -i "$sw:podB" -f tx -n 10 -w 0 >"$tmp/n1.out" 2>&1
rc=$?
check '[ $rc -ne 0 ] && grep -q "opens only ports named $sw:podA" "$tmp/n1.out"' \
	"podA cannot open podB's port ($(grep -m1 -o 'Operation not permitted.*' "$tmp/n1.out"))"
incontainer podA "$PG" -i "netmap:lo" -f tx -n 10 -w 0 >"$tmp/n2.out" 2>&1
rc=$?
check '[ $rc -ne 0 ] && grep -q "cannot open interfaces" "$tmp/n2.out"' "podA cannot open an interface"
incontainer podA "$BUILD/vale-ctl" -n "podAx" >"$tmp/n3.out" 2>&1
rc=$?
check '[ $rc -ne 0 ] && grep -q "Operation not permitted" "$tmp/n3.out"' "podA cannot create a persistent port"
incontainer podA "$NG" -p x -H x /run/unetmap-pod/evil.sock >"$tmp/n4.out" 2>&1
rc=$?
check '[ $rc -ne 0 ] && [ ! -e "$pods/evil.sock" ]' "podA cannot grant"

# 5: podA's region is sealed for it; revoke
incontainer podA sh -c "\"$PG\" -i \"$sw:podA\" -f rx -w 0 >/dev/null 2>&1" &
hold=$!; pids+=($hold)
sleep 0.5
"$PG" -i "$sw:podA{1" -f tx -n 10 -w 0 >"$tmp/n5.out" 2>&1
rc=$?
check '[ $rc -ne 0 ] && grep -q "sealed for podA" "$tmp/n5.out"' \
	"the host cannot join podA's region with a pipe ($(grep -m1 -o 'sealed.*' "$tmp/n5.out"))"
"$NG" -r "$pods/podA.sock"
rc=$?
check '[ $rc -eq 0 ] && [ ! -e "$pods/podA.sock" ]' "revoke removes the socket"
wait_pid $hold 10
check '[ $wstatus -ne 124 ]' "podA's client was disconnected by the revoke"

[ $fail -eq 0 ] && echo "36_container_grant: ok"
exit $fail

#!/usr/bin/env bash
# 54_nic_kill.sh - a SIGKILLed owner gives the interface back.
#
# Test objective: while a netmap port is open on an interface, its
# traffic goes to the port, not to the kernel stack (as in netmap); once
# the owner is SIGKILLed, netmapd detaches the XDP program and the kernel
# path works again; and the interface can be opened again at once.
#
# Operations: namespaces A (10.x.0.1) and B (10.x.0.2) joined by a veth
# pair; pkt-gen -f rx on netmap:B's end.
#   1. an XDP program is attached to B's end; ping A -> B fails;
#   2. kill -9 pkt-gen: within 3 s no XDP program is left and ping works;
#   3. pkt-gen rx opens B's end again and receives what pkt-gen tx sends.
# Needs root and ping; skips (77) otherwise.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/nic_lib.sh"
nic_init 54
command -v ping >/dev/null || { echo "skipped: ping not installed (scripts/install-deps.sh)"; exit 77; }

net=10.$((100 + $$ % 100))
nic_ns A
nic_ns B
nic_veth A ka B kb
ip -n "$NS_A" addr add "$net.1.1/24" dev "$IF_ka"
ip -n "$NS_B" addr add "$net.1.2/24" dev "$IF_kb"
if ! ip netns exec "$NS_A" ping -c 1 -W 2 "$net.1.2" >/dev/null 2>&1; then
	bad "ping does not work before the test"; exit 1
fi

bg ip netns exec "$NS_B" timeout 60 "$PG" -i "netmap:$IF_kb" -f rx -n 0 -w 0 >"$tmp/rx" 2>&1
rxp=$!
# pkt-gen itself is the child of timeout: find it to SIGKILL it
if ! wait_for "$tmp/rx" "receiver_body|Ready" 10; then
	bad "pkt-gen rx did not start"; cat "$tmp/rx"; exit 1
fi
pg=$(pgrep -P "$rxp" -x pkt-gen | head -n 1)
echo "mode: $IF_kb $(nic_mode "$IF_kb")"
if xdp_attached "$NS_B" "$IF_kb"; then
	ok "XDP program attached while the port is open"
else
	bad "no XDP program while the port is open"
fi
if ip netns exec "$NS_A" ping -c 2 -i 0.2 -W 1 "$net.1.2" >/dev/null 2>&1; then
	bad "ping works while netmap owns the interface"
else
	ok "the port takes the interface's traffic (ping fails)"
fi

if [ -z "$pg" ]; then
	bad "cannot find pkt-gen's pid"; exit 1
fi
kill -9 "$pg"
wait "$rxp" 2>/dev/null	# timeout(1) dies of the same signal; reap it quietly
t=0
while xdp_attached "$NS_B" "$IF_kb" && [ $t -lt 60 ]; do sleep 0.05; t=$((t + 1)); done
if xdp_attached "$NS_B" "$IF_kb"; then
	bad "XDP program still attached 3 s after SIGKILL"
else
	ok "no XDP program after SIGKILL ($((t * 50)) ms)"
fi
if ip netns exec "$NS_A" ping -c 3 -i 0.2 -W 2 "$net.1.2" >"$tmp/ping" 2>&1; then
	ok "kernel path works again: $(grep -o '[0-9]* received' "$tmp/ping")"
else
	bad "ping after SIGKILL"; cat "$tmp/ping"
fi
if command -v bpftool >/dev/null; then
	if ip netns exec "$NS_B" bpftool net show dev "$IF_kb" 2>/dev/null | grep -q xdp; then
		bad "bpftool still shows an XDP program"
	else
		ok "bpftool shows no XDP program"
	fi
fi

# the interface is free again
bg ip netns exec "$NS_B" timeout 30 "$PG" -i "netmap:$IF_kb" -f rx -n 1000 -w 1 >"$tmp/rx2" 2>&1
rx2=$!
wait_for "$tmp/rx2" "receiver_body|Ready" 10
bg ip netns exec "$NS_A" timeout 30 "$PG" -i "netmap:$IF_ka" -f tx -n 1000 -R 50000 -w 1 \
	>"$tmp/tx2" 2>&1
wait_pid "$rx2" 30
if grep -q "^Received 1000 packets" "$tmp/rx2"; then
	ok "reopened after the kill: received 1000"
else
	bad "reopen after the kill"; tail -n 5 "$tmp/rx2"
fi
exit $fail

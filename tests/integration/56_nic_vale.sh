#!/usr/bin/env bash
# 56_nic_vale.sh - interfaces attached to a VALE switch with vale-ctl.
#
# Test objective: vale-ctl -a valeX:IF puts interface IF on switch valeX
# (netmap-facts 5.5): frames flow between it and the switch's other
# ports, so two namespaces attached to one switch ping each other and
# exchange TCP; the interface belongs to the switch while attached
# (netmap:IF gives EBUSY); vale-ctl -d gives it back; attaching a missing
# interface is ENXIO and -h (host stack) EOPNOTSUPP.
#
# Operations: namespaces A (10.x.2.1) and B (10.x.2.2), each with a veth
# whose other end (sa, sb) sits in namespace M, where vale-ctl runs.
#   1. vale-ctl -a valeN:sa, -a valeN:sb; vale-ctl lists both ports;
#   2. ping -c 5 A -> B, then 2 MB over TCP (nc), identical;
#   3. pkt-gen on netmap:sa fails (EBUSY) while attached; vale-ctl -s
#      valeN:sa adds the kernel's line for the interface (mode, drops)
#      to the port's counters, which counted the traffic;
#   4. vale-ctl -d both; the switch is gone, no XDP program is left;
#   5. vale-ctl -a valeN:nosuchif fails; vale-ctl -h valeN:sa fails.
# Offloads are off on the stacks' interfaces (netmap-facts 5.1).
# Needs root, ping and nc; skips (77) otherwise.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/nic_lib.sh"
nic_init 56
for t in ping nc; do
	command -v $t >/dev/null || { echo "skipped: $t not installed (scripts/install-deps.sh)"; exit 77; }
done
VC=${BUILD:-build}/vale-ctl
[ -x "$VC" ] || { echo "skipped: $VC is not built"; exit 77; }

net=10.$((100 + $$ % 100))
sw=vale$((sfx % 100000))
nic_ns A
nic_ns B
nic_ns M
nic_veth A a0 M sa
nic_veth B b0 M sb
ip -n "$NS_A" addr add "$net.2.1/24" dev "$IF_a0"
ip -n "$NS_B" addr add "$net.2.2/24" dev "$IF_b0"
for x in "A a0" "B b0" "M sa" "M sb"; do nic_nooffload $x; done
vc() { ip netns exec "$NS_M" "$VC" "$@"; }
detach_all() { vc -d "$sw:$IF_sa" >/dev/null 2>&1; vc -d "$sw:$IF_sb" >/dev/null 2>&1; }
trap 'detach_all; nic_cleanup' EXIT

if vc -a "$sw:$IF_sa" >"$tmp/a1" 2>&1 && vc -a "$sw:$IF_sb" >"$tmp/a2" 2>&1; then
	ok "vale-ctl -a $sw:$IF_sa and $sw:$IF_sb"
else
	bad "vale-ctl -a"; cat "$tmp/a1" "$tmp/a2"; exit 1
fi
vc >"$tmp/list" 2>&1
if grep -q "$sw:$IF_sa" "$tmp/list" && grep -q "$sw:$IF_sb" "$tmp/list"; then
	ok "vale-ctl lists both ports"
else
	bad "vale-ctl list"; cat "$tmp/list"
fi
echo "mode: $IF_sa $(nic_mode "$IF_sa"), $IF_sb $(nic_mode "$IF_sb") (through their forwarders)"

# the forwarders register right after the attach: allow a second
stacks_talk "$net.2.2" 5002 2000000 " through $sw"

if ip netns exec "$NS_M" timeout 10 "$PG" -i "netmap:$IF_sa" -f rx -n 1 -w 0 >"$tmp/busy" 2>&1; then
	bad "netmap:$IF_sa opened while attached"
else
	ok "netmap:$IF_sa is the switch's while attached"
fi

vc -s "$sw:$IF_sa" >"$tmp/stats" 2>&1
if grep -q "^$sw:$IF_sa rx_pkts [1-9][0-9]* .* tx_pkts [1-9]" "$tmp/stats" &&
   grep -q -E "^$sw:$IF_sa kernel [a-z+]+ rx_drops [0-9]+ rx_ring_full [0-9]+ rx_fill_empty [0-9]+ rx_invalid [0-9]+ tx_invalid [0-9]+$" "$tmp/stats"; then
	ok "vale-ctl -s $sw:$IF_sa: the port's counters and the kernel's ($(grep kernel "$tmp/stats" | cut -d' ' -f3-5))"
else
	bad "vale-ctl -s $sw:$IF_sa"; cat "$tmp/stats"
fi

if vc -d "$sw:$IF_sa" >"$tmp/d1" 2>&1 && vc -d "$sw:$IF_sb" >"$tmp/d2" 2>&1; then
	ok "vale-ctl -d both"
else
	bad "vale-ctl -d"; cat "$tmp/d1" "$tmp/d2"
fi
vc >"$tmp/list2" 2>&1
if grep -q "$sw:" "$tmp/list2"; then
	bad "ports left on $sw"; cat "$tmp/list2"
else
	ok "$sw is empty"
fi
t=0
while { xdp_attached "$NS_M" "$IF_sa" || xdp_attached "$NS_M" "$IF_sb"; } && [ $t -lt 60 ]; do
	sleep 0.05; t=$((t + 1))
done
if xdp_attached "$NS_M" "$IF_sa" || xdp_attached "$NS_M" "$IF_sb"; then
	bad "XDP program left after the detach"
else
	ok "no XDP program left"
fi

if vc -a "$sw:nosuch$sfx" >"$tmp/e1" 2>&1; then
	bad "attaching a missing interface succeeded"
else
	ok "attaching a missing interface fails"
fi
if vc -h "$sw:$IF_sa" >"$tmp/e2" 2>&1; then
	bad "vale-ctl -h succeeded"; vc -d "$sw:$IF_sa" >/dev/null 2>&1
else
	ok "vale-ctl -h (host stack) is refused"
fi
exit $fail

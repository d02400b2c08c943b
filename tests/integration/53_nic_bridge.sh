#!/usr/bin/env bash
# 53_nic_bridge.sh - two kernel stacks talk through nm-bridge.
#
# Test objective: nm-bridge joining two interfaces forwards everything
# both ways, so that two network namespaces' kernel stacks ping each other
# and complete a TCP transfer; the two ports share the process's NIC
# region, so the bridge swaps buffers ("zerocopy supported").
#
# Operations: namespaces A and B each hold one end of a veth pair whose
# other end (ba, bb) sits in namespace M, where nm-bridge -i netmap:ba
# -i netmap:bb runs.  A is 10.x.0.1/24, B 10.x.0.2/24 (same subnet).
#   1. nm-bridge says "zerocopy supported" and "Ready to go";
#   2. ping -c 5 A -> B: no loss;
#   3. 4 MB of random bytes from A to B over TCP (nc): identical;
#   4. nm-bridge stops on SIGINT, and no XDP program is left on ba, bb.
# Offloads are off on the stacks' interfaces (netmap-facts 5.1: frames
# that cross netmap must be whole, with their checksums).
# Needs root, ping and nc (scripts/install-deps.sh); skips (77) otherwise.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/nic_lib.sh"
nic_init 53
for t in ping nc; do
	command -v $t >/dev/null || { echo "skipped: $t not installed (scripts/install-deps.sh)"; exit 77; }
done

NICMODE=${NICMODE:-}	# @conf:nic= for the bridge's ports (55 sets it)
net=10.$((100 + $$ % 100))
nic_ns A
nic_ns B
nic_ns M
nic_veth A a0 M ba
nic_veth B b0 M bb
ip -n "$NS_A" addr add "$net.0.1/24" dev "$IF_a0"
ip -n "$NS_B" addr add "$net.0.2/24" dev "$IF_b0"
for x in "A a0" "B b0" "M ba" "M bb"; do nic_nooffload $x; done

bg ip netns exec "$NS_M" timeout 60 "$BR" -w 1 -i "netmap:$IF_ba$NICMODE" \
	-i "netmap:$IF_bb$NICMODE" >"$tmp/br" 2>&1
brp=$!
if wait_for "$tmp/br" "Ready to go" 10; then
	ok "nm-bridge ready"
else
	bad "nm-bridge did not start"; cat "$tmp/br"; exit 1
fi
if grep -q "zerocopy supported" "$tmp/br"; then
	ok "zero copy between the two ports (one NIC region)"
else
	bad "no zero copy: $(grep zerocopy "$tmp/br")"
fi
echo "mode: $IF_ba $(nic_mode "$IF_ba"), $IF_bb $(nic_mode "$IF_bb")"

stacks_talk "$net.0.2" 5001 4000000 ""

kill -INT "$brp"
if wait_pid "$brp" 10; then
	ok "nm-bridge exits on SIGINT"
else
	bad "nm-bridge ignores SIGINT"
fi
sleep 0.3
if xdp_attached "$NS_M" "$IF_ba" || xdp_attached "$NS_M" "$IF_bb"; then
	bad "XDP program left behind"
else
	ok "no XDP program left"
fi
exit $fail

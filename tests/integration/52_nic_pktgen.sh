#!/usr/bin/env bash
# 52_nic_pktgen.sh - pkt-gen between two interfaces, through AF_XDP.
#
# Test objective: frames pkt-gen sends on netmap:vethA arrive, all of them
# and nothing else, at pkt-gen on netmap:vethB (the two ends of a veth
# pair, each in a network namespace of its own); the same with two queues
# per interface (two ring pairs, one sender thread per ring); and the
# mode each port ran in is reported.
#
# Operations:
#   1. rx -n N on netmap:B, tx -n N -l 60 -R 100000 on netmap:A (rate
#      limited: exact counts, not speed): both summaries say exactly N;
#   2. the same on a veth pair with 2 queues, tx -p 2 (ring 0 and ring 1);
#   3. after both pkt-gen exit, no XDP program is left on either interface.
# Needs root; skips (77) otherwise.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/nic_lib.sh"
nic_init 52

N=50000
nic_ns A
nic_ns B
nic_veth A pa B pb

run_pair() {	# label ifA ifB txopts
	local label=$1 ia=$2 ib=$3 txopts=$4 rxp txp
	bg ip netns exec "$NS_B" timeout 30 "$PG" -i "netmap:$ib" -f rx -n "$N" -w 1 \
		>"$tmp/rx.$label" 2>&1
	rxp=$!
	if ! wait_for "$tmp/rx.$label" "Ready|receiver_body" 10; then
		bad "$label: receiver did not start"; cat "$tmp/rx.$label"; return
	fi
	bg ip netns exec "$NS_A" timeout 30 "$PG" -i "netmap:$ia" -f tx -n "$N" -l 60 \
		-R 25000 -w 1 $txopts >"$tmp/tx.$label" 2>&1
	txp=$!
	wait_pid "$txp" 40 || bad "$label: sender did not finish"
	wait_pid "$rxp" 40 || bad "$label: receiver did not finish"
	if grep -q "^Sent $N packets" "$tmp/tx.$label"; then
		ok "$label: sent $N"
	else
		bad "$label: sender summary"; tail -n 5 "$tmp/tx.$label"
	fi
	if grep -q "^Received $N packets" "$tmp/rx.$label"; then
		ok "$label: received exactly $N"
	else
		bad "$label: receiver summary"; tail -n 5 "$tmp/rx.$label"
	fi
	echo "mode: $label: $ia $(nic_mode "$ia"), $ib $(nic_mode "$ib")"
}

run_pair "1 queue" "$IF_pa" "$IF_pb" ""

# two queues: one ring pair per queue, one sender thread per ring
ip link add "qa$sfx" numtxqueues 2 numrxqueues 2 netns "$NS_A" type veth \
	peer name "qb$sfx" numtxqueues 2 numrxqueues 2 netns "$NS_B" ||
	{ bad "cannot create a 2-queue veth pair"; exit 1; }
ip -n "$NS_A" link set "qa$sfx" up
ip -n "$NS_B" link set "qb$sfx" up
run_pair "2 queues" "qa$sfx" "qb$sfx" "-p 2"
if grep -q -E "2 (queues|rings)|tx_rings 2|2 tx" "$tmp/tx.2 queues" 2>/dev/null ||
   grep -q -E "Sending on netmap:qa$sfx: 2 queues" "$tmp/tx.2 queues"; then
	ok "2 queues: two rings used"
else
	echo "note: sender header: $(grep -m1 -E "Sending" "$tmp/tx.2 queues")"
fi

# netmapd detaches when it sees the last descriptor go: give it a moment
for x in "$NS_A $IF_pa" "$NS_B $IF_pb" "$NS_A qa$sfx" "$NS_B qb$sfx"; do
	set -- $x
	t=0
	while xdp_attached "$1" "$2" && [ $t -lt 60 ]; do sleep 0.05; t=$((t + 1)); done
	if xdp_attached "$1" "$2"; then
		bad "XDP program left on $2"
	fi
done
[ $fail -eq 0 ] && ok "no XDP program left"
exit $fail

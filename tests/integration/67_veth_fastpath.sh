#!/usr/bin/env bash
# 67_veth_fastpath.sh - the veth fast path (common/unm_veth.h).
#
# Test objective: when both ends of a veth pair (in two network
# namespaces) are open as netmap:IFNAME through one netmapd, netmapd links
# them ring to ring: every frame arrives, in order, and none crosses the
# kernel; opening the second end while the first is sending, closing it,
# and opening it again switch between AF_XDP and linked mode without
# duplicating or reordering a frame.
#
# Operations (namespaces uvfA<pid>, uvfB<pid>; interfaces uvfa<pid>,
# uvfb<pid>):
#   1. rxseq -n N on netmap:B (AF_XDP), then txseq -n N on netmap:A (the
#      second open: linked): both say exactly N, rxseq reports no gap and
#      nothing out of order, netmapd logs the link, and the kernel's
#      counters of both interfaces stay flat (< 100 frames for N = 300000);
#   2. txseq on A alone, rate limited (AF_XDP: the kernel's counters of B
#      grow); rxseq on B opens (linked): its frames are in sequence, none
#      twice, and B's kernel counters stop while it is open; rxseq stops
#      (SIGINT): A goes back to AF_XDP (netmapd says so; B's kernel
#      counters grow again); rxseq opens a second time (the kept end is
#      linked again: it first finds the frames A pushed into it while it
#      was closed, then, after one gap, what A sends once linked again)
#      and stops; A finishes its count;
#   3. B opened through a grant (a container's socket), A by the host: not
#      linked (no shared region across trust domains), exact counts over
#      AF_XDP;
#   4. after everything exits, no XDP program is left on either end.
# Needs root; skips (77) otherwise.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/nic_lib.sh"
nic_init 67

# names with our own prefix: other developers' tests run beside ours
NS_A=uvfA$sfx
NS_B=uvfB$sfx
IA=uvfa$sfx
IB=uvfb$sfx
for n in "$NS_A" "$NS_B"; do
	ip netns add "$n" || { echo "skipped: cannot create network namespaces"; exit 77; }
	namespaces+=("$n")
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
	ip -n "$n" link set lo up
done
ip link add "$IA" netns "$NS_A" type veth peer name "$IB" netns "$NS_B" ||
	{ echo "skipped: cannot create veth pairs"; exit 77; }
ip -n "$NS_A" link set "$IA" up
ip -n "$NS_B" link set "$IB" up

# the netmapd log: the runner's, or a private daemon's
log=
if [ -n "${UNETMAP_SOCKET:-}" ] && [ -f "$(dirname "$UNETMAP_SOCKET")/netmapd.log" ]; then
	log=$(dirname "$UNETMAP_SOCKET")/netmapd.log
fi
if [ -z "$log" ]; then
	export UNETMAP_SOCKET=$tmp/nmd.sock
	log=$tmp/nmd.log
	bg "${BUILD:-build}/netmapd" --foreground --socket "$UNETMAP_SOCKET" >"$log" 2>&1
	for _ in $(seq 100); do [ -S "$UNETMAP_SOCKET" ] && break; sleep 0.05; done
fi
logmark() { wc -l <"$log"; }
logsince() { tail -n +"$(($1 + 1))" "$log"; }

# frames the kernel counted on an interface, both directions
kcount() {	# ns if
	local rx tx
	rx=$(ip netns exec "$1" cat "/sys/class/net/$2/statistics/rx_packets")
	tx=$(ip netns exec "$1" cat "/sys/class/net/$2/statistics/tx_packets")
	echo $((rx + tx))
}

# ---------------------------------------------------------- 1. linked, exact
N=300000
m0=$(logmark)
ka0=$(kcount "$NS_A" "$IA"); kb0=$(kcount "$NS_B" "$IB")
bg ip netns exec "$NS_B" timeout 40 "$PG" -i "netmap:$IB" -f rxseq -n "$N" -w 1 \
	>"$tmp/rx1" 2>&1
rxp=$!
wait_for "$tmp/rx1" "Ready|receiver_body|Receiving" 10 || true
sleep 0.5
bg ip netns exec "$NS_A" timeout 40 "$PG" -i "netmap:$IA" -f txseq -n "$N" -l 60 -w 1 \
	>"$tmp/tx1" 2>&1
txp=$!
wait_pid "$txp" 45 || bad "1: sender did not finish"
wait_pid "$rxp" 45 || bad "1: receiver did not finish"
ka1=$(kcount "$NS_A" "$IA"); kb1=$(kcount "$NS_B" "$IB")
grep -q "^Sent $N packets" "$tmp/tx1" && ok "1: sent $N" ||
	{ bad "1: sender summary"; tail -n 5 "$tmp/tx1"; }
grep -q "^Received $N packets" "$tmp/rx1" && ok "1: received exactly $N" ||
	{ bad "1: receiver summary"; tail -n 5 "$tmp/rx1"; }
if grep -q -E "sequence gaps|GAP|OUT OF ORDER" "$tmp/rx1"; then
	bad "1: sequence errors: $(grep -m1 -E "gaps|GAP|ORDER" "$tmp/rx1")"
else
	ok "1: in sequence, no gap, nothing out of order"
fi
if logsince "$m0" | grep -q "$IB and $IA linked"; then
	ok "1: netmapd linked $IB and $IA"
else
	bad "1: netmapd did not link the pair"; logsince "$m0" | tail -n 5
fi
if [ $((ka1 - ka0)) -lt 100 ] && [ $((kb1 - kb0)) -lt 100 ]; then
	ok "1: kernel counters flat ($IA +$((ka1 - ka0)), $IB +$((kb1 - kb0)))"
else
	bad "1: frames crossed the kernel ($IA +$((ka1 - ka0)), $IB +$((kb1 - kb0)))"
fi
echo "1: $(grep -m1 Speed "$tmp/rx1")"

# ------------------------------------------------- 2. switching while sending
# txseq alone: AF_XDP, into B's namespace stack
M=1500000
m0=$(logmark)
bg ip netns exec "$NS_A" timeout 60 "$PG" -i "netmap:$IA" -f txseq -n "$M" -l 60 -R 100000 \
	-w 1 >"$tmp/tx2" 2>&1
txp=$!
sleep 2
kb0=$(kcount "$NS_B" "$IB"); sleep 1; kb1=$(kcount "$NS_B" "$IB")
if [ $((kb1 - kb0)) -gt 1000 ]; then
	ok "2: one end open: through the kernel ($IB +$((kb1 - kb0)) in 1 s)"
else
	bad "2: one end open, but $IB counted only $((kb1 - kb0)) frames in 1 s"
fi

rx_round() {	# label
	local label=$1 rp ks0 ks1 got
	bg ip netns exec "$NS_B" timeout 30 "$PG" -i "netmap:$IB" -f rxseq -w 1 \
		>"$tmp/rx.$label" 2>&1
	rp=$!
	# a loaded machine may take seconds to start it
	wait_for "$tmp/rx.$label" "Ready" 15 || bad "2.$label: receiver did not start"
	sleep 2
	ks0=$(kcount "$NS_B" "$IB"); sleep 1; ks1=$(kcount "$NS_B" "$IB")
	if [ $((ks1 - ks0)) -lt 100 ]; then
		ok "2.$label: both ends open: kernel flat ($IB +$((ks1 - ks0)) in 1 s)"
	else
		bad "2.$label: both ends open, but $IB counted $((ks1 - ks0)) frames in 1 s"
	fi
	kill -INT "$rp"
	wait_pid "$rp" 10 || bad "2.$label: receiver did not stop"
	got=$(sed -n 's/^Received \([0-9]*\) packets.*/\1/p' "$tmp/rx.$label")
	if [ -n "$got" ] && [ "$got" -gt 10000 ]; then
		ok "2.$label: received $got while linked"
	else
		bad "2.$label: received '${got:-nothing}'"; tail -n 5 "$tmp/rx.$label"
	fi
	# a reopened end first finds what A pushed into it while it was
	# closed (kept), then what A sends once linked again: one gap, the
	# frames that went through the kernel meanwhile (common/unm_veth.h)
	if grep -q -E "OUT OF ORDER|[1-9][0-9]* out of order" "$tmp/rx.$label"; then
		bad "2.$label: out of order: $(grep -m1 -E "ORDER|out of order" "$tmp/rx.$label")"
	elif [ "$label" = first ] && grep -q -E "sequence gaps|GAP" "$tmp/rx.$label"; then
		bad "2.$label: sequence gap: $(grep -m1 -E "gaps|GAP" "$tmp/rx.$label")"
	elif grep -q -E "^.*[^0-9]([2-9]|[1-9][0-9]+) sequence gaps" "$tmp/rx.$label"; then
		bad "2.$label: more than one gap: $(grep -m1 "sequence gaps" "$tmp/rx.$label")"
	else
		ok "2.$label: in sequence across the switch, none twice $(grep -m1 -o "GAP.*" \
			"$tmp/rx.$label")"
	fi
	sleep 1
	ks0=$(kcount "$NS_B" "$IB"); sleep 1; ks1=$(kcount "$NS_B" "$IB")
	if [ $((ks1 - ks0)) -gt 1000 ]; then
		ok "2.$label: closed: through the kernel again ($IB +$((ks1 - ks0)) in 1 s)"
	else
		bad "2.$label: closed, but $IB counted only $((ks1 - ks0)) frames in 1 s"
	fi
}
rx_round first
rx_round again
if logsince "$m0" | grep -q "$IA: the other end closed; back to AF_XDP"; then
	ok "2: netmapd switched $IA back to AF_XDP"
else
	bad "2: no switch back in netmapd's log"; logsince "$m0" | tail -n 5
fi
wait_pid "$txp" 40 || bad "2: sender did not finish"
grep -q "^Sent $M packets" "$tmp/tx2" && ok "2: sender sent its $M" ||
	{ bad "2: sender summary"; tail -n 5 "$tmp/tx2"; }
grep "^Veth:" "$tmp/tx2" || true

# ------------------------------------------- 3. not across trust domains
# B opened through a grant (a container's socket), A by the host: the two
# must not share a region, so they stay on AF_XDP (exact counts at a
# modest rate, as 52_nic_pktgen)
G=$tmp/grant
mkdir -m 755 "$G"
if "${BUILD:-build}/nm-grant" -n -p "$IB" -H "uvfpod$sfx" "$G/pod.sock"; then
	m0=$(logmark)
	K=20000
	bg ip netns exec "$NS_B" env UNETMAP_SOCKET="$G/pod.sock" UNETMAP_NETMAPD=/nonexistent \
		timeout 30 "$PG" -i "netmap:$IB" -f rx -n "$K" -w 1 >"$tmp/rx4" 2>&1
	rxp=$!
	wait_for "$tmp/rx4" "Ready|receiver_body|Receiving" 10 || true
	sleep 0.5
	ip netns exec "$NS_A" timeout 30 "$PG" -i "netmap:$IA" -f tx -n "$K" -l 60 -R 25000 \
		-w 1 >"$tmp/tx4" 2>&1
	wait_pid "$rxp" 30 || bad "3: receiver did not finish"
	grep -q "^Received $K packets" "$tmp/rx4" && ok "3: pod end received exactly $K" ||
		{ bad "3: pod end's summary"; tail -n 5 "$tmp/rx4"; }
	if logsince "$m0" | grep -q "linked"; then
		bad "3: a pod's end was linked to the host's"; logsince "$m0" | grep linked
	else
		ok "3: a pod's end and the host's stay on AF_XDP (not linked)"
	fi
	"${BUILD:-build}/nm-grant" -r "$G/pod.sock" 2>/dev/null
else
	bad "3: cannot grant a socket"
fi

# ------------------------------------------------------------- 4. clean exit
for x in "$NS_A $IA" "$NS_B $IB"; do
	set -- $x
	t=0
	while xdp_attached "$1" "$2" && [ $t -lt 60 ]; do sleep 0.05; t=$((t + 1)); done
	xdp_attached "$1" "$2" && bad "XDP program left on $2"
done
[ $fail -eq 0 ] && ok "no XDP program left"
exit $fail

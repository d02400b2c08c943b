#!/usr/bin/env bash
# 57_nic_rx_stall.sh - a receiver that is not scheduled for a while loses
# nothing the kernel can hold, and is told what the kernel dropped.
#
# Test objective: an AF_XDP port keeps far more receive buffers with the
# kernel than its RX ring has slots (the spares of docs/design.md, "Spare
# receive buffers"), so a receiver that does not run for a while (the
# machine is busy: at 250 kpps 1023 buffers last 4 ms) loses nothing
# until they are all used; beyond that, the frames the kernel dropped are
# counted and pkt-gen prints the kernel's counters, which add up with
# what it received to what was sent.
#
# Operations: netmap:B receives (pkt-gen -f rx -W) on one end of a veth
# pair, and is stopped (SIGSTOP) while pkt-gen sends on netmap:A:
#   1. 6000 frames (far more than a 1024-slot ring can take, fewer than
#      the 8191 buffers the kernel holds): once continued, the receiver
#      gets exactly 6000, and its "Kernel:" line says 0 dropped;
#   2. 12000 frames: the receiver gets fewer, and received + the kernel's
#      "dropped" is exactly 12000, all of them "fill ring empty";
#   3. netmapd's log has the port's kernel drops line at close;
#   4. emulated mode (AF_PACKET, @conf:nic=emulated): 3000 frames at
#      25 kpps (bursts of 83, each landing in a receive-ring block of its
#      own) while the receiver is stopped: all received, 0 dropped.
# Timing does not matter: the receiver sleeps through the whole send.
# Needs root; skips (77) otherwise.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/nic_lib.sh"
nic_init 57

nic_ns A
nic_ns B
nic_veth A sa B sb

stalled() {	# label frames [port suffix] [sender options] -> $rx_out
	local label=$1 n=$2 sx=${3:-} txo=${4:-} rxp txp
	rx_out=$tmp/rx.$label
	# no timeout(1) in between: the signals must reach pkt-gen itself
	# (ip netns exec execs it); the cleanup kills it if it hangs
	bg ip netns exec "$NS_B" "$PG" -i "netmap:$IF_sb$sx" -f rx -W -w 1 >"$rx_out" 2>&1
	rxp=$!
	if ! wait_for "$rx_out" "Ready|receiver_body" 10; then
		bad "$label: receiver did not start"; cat "$rx_out"; return 1
	fi
	sleep 0.2
	kill -STOP "$rxp"
	# the sender asks for copy mode: a forced mode is never linked to
	# the other end (the veth fast path, common/unm_veth.h), and it is
	# the kernel's receive side this test is about
	ip netns exec "$NS_A" timeout 30 "$PG" -i "netmap:$IF_sa${sx:-@conf:nic=copy}" -f tx \
		-n "$n" -l 60 -w 1 \
		$txo >"$tmp/tx.$label" 2>&1
	txp=$?
	# the last frames are in flight a little after the sender's exit
	sleep 0.5
	kill -CONT "$rxp"
	if [ $txp -ne 0 ] || ! grep -q "^Sent $n packets" "$tmp/tx.$label"; then
		bad "$label: sender"; tail -n 5 "$tmp/tx.$label"
	fi
	wait_pid "$rxp" 30 || bad "$label: receiver did not exit after 1 s without traffic"
	return 0
}

# what the receiver's summary and "Kernel:" lines say
received() { sed -n 's/^Received \([0-9]*\) packets.*/\1/p' "$rx_out"; }
dropped() { sed -n 's/^Kernel: .*: \([0-9]*\) dropped .*/\1/p' "$rx_out"; }
fill_empty_drops() { sed -n 's/^Kernel: .*fill ring empty \([0-9]*\)).*/\1/p' "$rx_out"; }

stalled "6000" 6000
r=$(received); d=$(dropped)
if [ "$r" = 6000 ]; then
	ok "stopped receiver: all 6000 frames kept by the kernel and received"
else
	bad "stopped receiver: received ${r:-nothing} of 6000"; tail -n 4 "$rx_out"
fi
if [ "$d" = 0 ]; then
	ok "kernel counters: 0 dropped ($(grep '^Kernel:' "$rx_out" | cut -d: -f2 | cut -d, -f1-3))"
else
	bad "kernel counters: '${d:-no Kernel line}' dropped"; grep -E '^(Kernel|Received)' "$rx_out"
fi

stalled "12000" 12000
r=$(received); d=$(dropped); f=$(fill_empty_drops)
if [ -n "$r" ] && [ -n "$d" ] && [ "$r" -lt 12000 ] && [ $((r + d)) -eq 12000 ]; then
	ok "beyond the buffers: received $r + kernel dropped $d = 12000"
else
	bad "beyond the buffers: received '${r}' + dropped '${d}' != 12000"; grep -E '^(Kernel|Received)' "$rx_out"
fi
if [ -n "$d" ] && [ "$d" -gt 0 ] && [ "$f" = "$d" ]; then
	ok "the drops were for want of buffers (fill ring empty $f)"
else
	bad "fill ring empty '$f', dropped '$d'"
fi

log=${nic_log:-$(dirname "${UNETMAP_SOCKET:-/nonexistent}")/netmapd.log}
t=0
while ! grep -q "$IF_sb: kernel drops: rx $d " "$log" 2>/dev/null && [ $t -lt 40 ]; do
	sleep 0.05; t=$((t + 1))
done
if grep -q "$IF_sb: kernel drops: rx $d " "$log" 2>/dev/null; then
	ok "netmapd logged the drops at close"
else
	bad "no 'kernel drops: rx $d' line for $IF_sb in $log"
fi
stalled "emulated" 3000 "@conf:nic=emulated" "-R 25000"
r=$(received); d=$(dropped)
if [ "$r" = 3000 ] && [ "$d" = 0 ]; then
	ok "emulated mode, stopped receiver: all 3000 frames received, 0 dropped"
else
	bad "emulated mode, stopped receiver: received '${r}', dropped '${d}' of 3000"
	grep -E '^(Kernel|Received)' "$rx_out"
fi
exit $fail

#!/usr/bin/env bash
# 66_vxlan.sh - two hosts share one L2 segment through VXLAN tunnels.
#
# Test objective: a vxlan:REMOTE:VNI port attached to a VALE switch on
# each of two "hosts" (network namespaces, each with its own netmapd,
# joined by a veth with IPv4 addresses) joins the two switches into one
# segment: frames cross it exactly, in order, both ways; two kernel
# stacks (pods, attached to the switches by veths) ping each other and
# exchange TCP through it; datagrams with another VNI are dropped and
# counted; random datagrams sent to the tunnel's UDP port harm nothing.
#
# Operations: hosts H1 (10.x.66.1) and H2 (10.x.66.2) on veth u1 <-> u2;
# a netmapd in each (its own socket, stopped by pid); on each
# vale-ctl -a vale1:vxlan:OTHER:42.
#   1. pkt-gen txseq -n N on vale1:pg in H1, rxseq -n N on vale1:pg in H2:
#      exactly N received, no gap, no reordering; then H2 -> H1;
#   2. pods P1 (10.y.9.1) and P2 (10.y.9.2), each a veth whose other end
#      (in its host) is attached with vale-ctl -a vale1:hp; MTU 1450 (the
#      tunnel adds 50 bytes to a 1500-byte underlay): ping P1 -> P2, then
#      1 MB over TCP, identical;
#   3. H1 sends N frames through vxlan:10.x.66.2:43:4789:4790 (VNI 43, to
#      H2's port): H2's vale-ctl -s counts N rx_wrong_vni, pg in H2 gets
#      none of them; 100 frames of 1500 bytes (too big for the underlay
#      with the tunnel's 50 bytes) are H1's tx_drops, and never arrive;
#   4. random datagrams (every length 0..100, random bytes, I flag clear,
#      and 3000 bytes) from H1 to H2's UDP port: rx_bad counts them, both
#      netmapds live, the pods still ping;
#      10 well-formed datagrams from another address count as rx_foreign;
#      bad tunnel names and a local port in use are refused;
#   5. vale-ctl -d everything; the switches are empty, netmapds stop.
# Needs root, ping, nc, python3; skips (77) otherwise.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/nic_lib.sh"
nic_init 66
for t in ping nc python3; do
	command -v $t >/dev/null || { echo "skipped: $t not installed (scripts/install-deps.sh)"; exit 77; }
done
BUILD=${BUILD:-build}
VC=$BUILD/vale-ctl
ND=$BUILD/netmapd
[ -x "$VC" ] && [ -x "$ND" ] || { echo "skipped: $VC or $ND is not built"; exit 77; }

# namespaces named uvx* (nic_ns names them nic*): other developers' tests
# run beside ours
uvx_ns() {
	local n=uvx$1$sfx
	ip netns add "$n" || { echo "skipped: cannot create network namespaces"; exit 77; }
	namespaces+=("$n")
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
	ip -n "$n" link set lo up
	eval "NS_$1=$n"
}

N=20000 RATE=10000
# sanitizer builds run several times slower
[ "${UNETMAP_SAN:-0}" = 1 ] && N=4000 RATE=2000
net=10.$((100 + $$ % 100))
pnet=10.$((200 + $$ % 50))
H1IP=$net.66.1
H2IP=$net.66.2
uvx_ns H1
uvx_ns H2
uvx_ns P1
uvx_ns P2
nic_veth H1 u1 H2 u2
ip -n "$NS_H1" addr add "$H1IP/24" dev "$IF_u1"
ip -n "$NS_H2" addr add "$H2IP/24" dev "$IF_u2"

# one netmapd per host, in the host's namespace
for h in H1 H2; do
	ns=NS_$h
	bg ip netns exec "${!ns}" "$ND" --foreground --socket "$tmp/$h.sock" 2>"$tmp/$h.log"
	eval "ND_$h=$!"
done
for h in H1 H2; do
	wait_for "$tmp/$h.log" "listening on" 10 || { bad "netmapd of $h did not start"; cat "$tmp/$h.log"; exit 1; }
done
on() { # HOST CMD...: run CMD in HOST's namespace against HOST's netmapd
	local h=$1 ns=NS_$1
	shift
	ip netns exec "${!ns}" env UNETMAP_SOCKET="$tmp/$h.sock" UNETMAP_NETMAPD=/nonexistent "$@"
}
T1=vxlan:$H2IP:42	# H1's tunnel to H2
T2=vxlan:$H1IP:42
detach_all() {
	on H1 "$VC" -d "vale1:hp$sfx" >/dev/null 2>&1
	on H2 "$VC" -d "vale1:hp$sfx" >/dev/null 2>&1
	on H1 "$VC" -d "vale1:$T1" >/dev/null 2>&1
	on H2 "$VC" -d "vale1:$T2" >/dev/null 2>&1
}
trap 'detach_all; nic_cleanup' EXIT

if on H1 "$VC" -a "vale1:$T1" >"$tmp/a1" 2>&1 && on H2 "$VC" -a "vale1:$T2" >"$tmp/a2" 2>&1; then
	ok "vale-ctl -a vale1:$T1 (H1) and vale1:$T2 (H2)"
else
	bad "vale-ctl -a of the tunnels"; cat "$tmp/a1" "$tmp/a2"; exit 1
fi

# the forwarders register the tunnels right after the attach: a tunnel
# exists (and has counters) once its forwarder did
stat_of() { # HOST FIELD: a counter of the host's tunnel (vale-ctl -s)
	local h=$1 t=T${1#H}
	on "$h" "$VC" -s "vale1:${!t}" 2>/dev/null |
		sed -n "s/.* tunnel .* $2 \([0-9]*\).*/\1/p"
}
for i in $(seq 100); do
	[ -n "$(stat_of H1 tx_pkts)" ] && [ -n "$(stat_of H2 tx_pkts)" ] && break
	sleep 0.1
done
[ -n "$(stat_of H1 tx_pkts)" ] && [ -n "$(stat_of H2 tx_pkts)" ] ||
	bad "the tunnels did not open in 10 s"
sleep 0.5	# (and the forwarders bind the switch side right after)

# ------------------------------------------------ 1. exact counts, in order
seq_run() { # FROM TO
	local from=$1 to=$2 rxp
	bg on "$to" timeout $((N / RATE + 40)) "$PG" -i vale1:pg@conf:rx_slots=4096 -f rxseq -n "$N" -w 0 >"$tmp/rx.$from" 2>&1
	rxp=$!
	if ! wait_for "$tmp/rx.$from" "^Receiving from" 10; then
		bad "$from -> $to: receiver did not start"; cat "$tmp/rx.$from"; return
	fi
	# rate-limited: this checks counts and order, not speed.  A VALE
	# switch drops what a full RX ring cannot take (it never holds the
	# sender back), and 1024 slots at $RATE pps are what the forwarders
	# and the receiver may lag on a loaded machine
	on "$from" timeout 30 "$PG" -i vale1:pg -f txseq -n "$N" -R "$RATE" -w 1 \
		>"$tmp/tx.$from" 2>&1 || bad "$from -> $to: sender failed"
	wait_pid "$rxp" $((N / RATE + 15))
	if grep -q "^Received $N packets" "$tmp/rx.$from" &&
	   ! grep -q -E "Sequence GAP|OUT OF ORDER|sequence gaps" "$tmp/rx.$from"; then
		ok "$from -> $to: $N frames sent, exactly $N received, in sequence"
	else
		bad "$from -> $to: rxseq (status $wstatus)"; head -n 30 "$tmp/rx.$from"
		tail -n 4 "$tmp/tx.$from"
		on H1 "$VC" -s vale1; on H2 "$VC" -s vale1
	fi
}
seq_run H1 H2
seq_run H2 H1

# ------------------------------------------------ 2. two kernel stacks
nic_veth P1 p0 H1 hp
ip link set "p0$sfx" netns "$NS_P2" 2>/dev/null	# (nic_veth names are per test)
ip link add "q0$sfx" netns "$NS_P2" type veth peer name "hp$sfx" netns "$NS_H2" ||
	{ bad "cannot create the second pod's veth"; exit 1; }
ip -n "$NS_P2" link set "q0$sfx" up
ip -n "$NS_H2" link set "hp$sfx" up
IF_q0=q0$sfx
for x in "P1 $IF_p0" "H1 hp$sfx" "P2 $IF_q0" "H2 hp$sfx"; do
	set -- $x
	ns=NS_$1
	ip -n "${!ns}" link set "$2" mtu 1450
	ip netns exec "${!ns}" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1
done
ip -n "$NS_P1" addr add "$pnet.9.1/24" dev "$IF_p0"
ip -n "$NS_P2" addr add "$pnet.9.2/24" dev "$IF_q0"
if on H1 "$VC" -a "vale1:hp$sfx" >"$tmp/a3" 2>&1 && on H2 "$VC" -a "vale1:hp$sfx" >"$tmp/a4" 2>&1; then
	ok "pods attached: vale-ctl -a vale1:hp$sfx on both hosts"
	NS_A=$NS_P1 NS_B=$NS_P2 stacks_talk "$pnet.9.2" 5066 1000000 " through the tunnel"
else
	bad "vale-ctl -a of the pods' veths"; cat "$tmp/a3" "$tmp/a4"
fi

# ------------------------------------------------ 3. another VNI
M=500
wv0=$(stat_of H2 rx_wrong_vni)
rx0=$(stat_of H2 rx_pkts)
on H1 timeout 20 "$PG" -i "vxlan:$H2IP:43:4789:4790" -f tx -n "$M" -R 20000 -w 1 \
	>"$tmp/tx.vni" 2>&1 || bad "sending on VNI 43 failed"
sleep 0.5
wv1=$(stat_of H2 rx_wrong_vni)
rx1=$(stat_of H2 rx_pkts)
if [ -n "$wv1" ] && [ $((wv1 - wv0)) -eq $M ] && [ "$rx1" = "$rx0" ]; then
	ok "VNI 43: $M datagrams dropped and counted (rx_wrong_vni $wv1), none delivered"
else
	bad "VNI 43: rx_wrong_vni $wv0 -> $wv1, rx_pkts $rx0 -> $rx1 (want +$M, +0)"
	on H2 "$VC" -s vale1 | grep tunnel; tail -n 3 "$tmp/tx.vni"
fi

# frames the underlay cannot carry whole (1500 + 50 > 1500): dropped and
# counted by the sender's tunnel, never fragmented (RFC 7348 4.3), with
# or without GSO (which refuses a whole message for one such frame)
td0=$(stat_of H1 tx_drops)
rx2=$(stat_of H2 rx_pkts)
on H1 timeout 20 "$PG" -i vale1:big -f tx -n 100 -l 1500 -R 5000 -w 1 >"$tmp/tx.big" 2>&1 ||
	bad "sending 1500-byte frames failed"
sleep 0.5
td1=$(stat_of H1 tx_drops)
rx3=$(stat_of H2 rx_pkts)
if [ -n "$td1" ] && [ $((td1 - td0)) -eq 100 ] && [ "$rx3" = "$rx2" ]; then
	ok "100 frames over the path MTU: tx_drops $td0 -> $td1, none arrived"
else
	bad "frames over the path MTU: tx_drops $td0 -> $td1 (want +100), H2 rx_pkts $rx2 -> $rx3"
fi

# ------------------------------------------------ 4. garbage
bad0=$(stat_of H2 rx_bad)
cat >"$tmp/garbage.py" <<'PY'
import os, socket, sys
dst = (sys.argv[1], 4789)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
n = 0
for l in range(0, 101):		# every short length, random bytes
    s.sendto(os.urandom(l), dst); n += 1
for l in range(0, 22):		# right header, too short a frame
    s.sendto(bytes([8, 0, 0, 0, 0, 0, 42, 0]) + os.urandom(l)[8:], dst); n += 1
for i in range(200):		# I flag clear, VNI right
    s.sendto(bytes([0x80 | (i & 0x77), 0, 0, 0, 0, 0, 42, 0]) + os.urandom(60), dst); n += 1
for i in range(3):		# longer than a buffer (fragmented by the kernel)
    s.sendto(bytes([8, 0, 0, 0, 0, 0, 42, 0]) + os.urandom(3000), dst); n += 1
print(n)
PY
sent=$(ip netns exec "$NS_H1" python3 "$tmp/garbage.py" "$H2IP")
sleep 0.5
bad1=$(stat_of H2 rx_bad)
wv2=$(stat_of H2 rx_wrong_vni)
if kill -0 "$ND_H1" 2>/dev/null && kill -0 "$ND_H2" 2>/dev/null; then
	ok "garbage: $sent datagrams, both netmapds alive"
else
	bad "garbage: a netmapd died"; tail -n 20 "$tmp/H2.log"
fi
# random bytes are either malformed or, with the I bit set by chance,
# well formed with another VNI: each one is counted once
if [ -n "$bad1" ] && [ $(( (bad1 - bad0) + (wv2 - wv1) )) -eq "$sent" ] &&
   [ $((bad1 - bad0)) -ge $((sent - 101)) ]; then
	ok "garbage: rx_bad $bad0 -> $bad1, rx_wrong_vni $wv1 -> $wv2"
else
	bad "garbage: rx_bad $bad0 -> $bad1, rx_wrong_vni $wv1 -> $wv2 for $sent datagrams"
fi
# well-formed, right VNI, but not from the remote: H2 to itself
fo0=$(stat_of H2 rx_foreign)
ip netns exec "$NS_H2" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(10):
    s.sendto(bytes([8, 0, 0, 0, 0, 0, 42, 0]) + bytes([0xff] * 6) + bytes(54), ("127.0.0.1", 4789))
'
sleep 0.3
fo1=$(stat_of H2 rx_foreign)
if [ -n "$fo1" ] && [ $((fo1 - fo0)) -eq 10 ]; then
	ok "10 datagrams from another address: rx_foreign $fo0 -> $fo1"
else
	bad "datagrams from another address: rx_foreign $fo0 -> $fo1 (want +10)"
fi
if ip netns exec "$NS_P1" ping -c 3 -i 0.2 -W 2 "$pnet.9.2" >"$tmp/ping2" 2>&1; then
	ok "the pods still ping after the garbage"
else
	bad "ping after the garbage"; cat "$tmp/ping2"
fi
on H2 "$VC" -s vale1 2>&1 | grep tunnel | sed 's/^/  /'

# names netmapd must refuse (the library lets them through: digits, dots
# and colons), and a local port the tunnel already has
nbad=0
for nm in vxlan:224.0.0.1:42 vxlan:0.0.0.0:42 vxlan:1.2.3.4:16777216 vxlan:1.2.3.4:42:0 \
	  vxlan:1.2.3.4:42:70000 vxlan:1.2.3.4 vxlan:1.2.3:42 vxlan:1.2.3.4:42:1:2:3 \
	  "vxlan:$H2IP:9:4789:4789"; do
	if on H1 timeout 10 "$PG" -i "$nm" -f tx -n 1 -w 0 >"$tmp/badname" 2>&1; then
		bad "$nm was opened"; nbad=1
	fi
done
if [ $nbad -eq 0 ] && kill -0 "$ND_H1" 2>/dev/null; then
	ok "9 bad tunnel names (multicast, any, VNI and ports out of range, UDP port in use) refused"
fi

# ------------------------------------------------ 5. detach, stop
detach_all
left=$( (on H1 "$VC"; on H2 "$VC") 2>&1 | grep -c "vale1:")
if [ "$left" -eq 0 ]; then
	ok "vale-ctl -d: both switches are empty"
else
	bad "ports left after the detach"; on H1 "$VC"; on H2 "$VC"
fi
for h in H1 H2; do
	p=ND_$h
	kill "${!p}" 2>/dev/null
	if wait_pid "${!p}" 10 && [ "$wstatus" -eq 0 ]; then
		ok "netmapd of $h stops cleanly"
	else
		bad "netmapd of $h: status $wstatus"; tail -n 5 "$tmp/$h.log"
	fi
done
grep -h "tx .* frames" "$tmp/H1.log" "$tmp/H2.log" | sed 's/^/  log: /'
# the netmapds are ours, not the runner's: their sanitizer reports too
if grep -l -E "AddressSanitizer|runtime error:|LeakSanitizer" "$tmp"/* 2>/dev/null; then
	bad "sanitizer report (files above)"
	grep -h -A 15 -E "AddressSanitizer|runtime error:|LeakSanitizer" "$tmp"/* | head -40
fi
exit $fail

#!/usr/bin/env bash
# 55_nic_emulated.sh - the AF_PACKET fallback passes the same traffic.
#
# Test objective: when AF_XDP cannot be used, netmap:IFNAME still works,
# in emulated mode (AF_PACKET: TPACKET_V3 receive ring, sendmmsg
# transmit), with a one-line notice in netmapd's log; it can be forced
# with @conf:nic=emulated; the traffic of 52 (exact pkt-gen counts) and 53
# (ping and TCP through nm-bridge) passes.
#
# Operations:
#   1. forced: pkt-gen rx/tx -n N on netmap:B@conf:nic=emulated and
#      netmap:A@conf:nic=emulated: exactly N each way;
#   2. automatic: a private netmapd that cannot find libxdp's AF_XDP
#      program (LIBXDP_OBJECT_PATH points to an empty directory) logs
#      "AF_XDP unavailable, emulated mode (AF_PACKET)" and the same pkt-gen
#      pair (plain netmap:A, netmap:B) moves exactly N;
#   3. 53_nic_bridge.sh with every bridge port forced to emulated mode.
# Needs root; skips (77) otherwise.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/nic_lib.sh"
nic_init 55

N=50000
nic_ns A
nic_ns B
nic_veth A ea B eb

pair() {	# label suffix
	local label=$1 sx=$2 rxp txp
	bg ip netns exec "$NS_B" timeout 30 "$PG" -i "netmap:$IF_eb$sx" -f rx -n "$N" -w 1 \
		>"$tmp/rx.$label" 2>&1
	rxp=$!
	wait_for "$tmp/rx.$label" "receiver_body|Ready" 10 || { bad "$label: no receiver"; return; }
	bg ip netns exec "$NS_A" timeout 30 "$PG" -i "netmap:$IF_ea$sx" -f tx -n "$N" -l 60 \
		-R 25000 -w 1 >"$tmp/tx.$label" 2>&1
	txp=$!
	wait_pid "$txp" 40
	wait_pid "$rxp" 40
	if grep -q "^Sent $N packets" "$tmp/tx.$label" &&
	   grep -q "^Received $N packets" "$tmp/rx.$label"; then
		ok "$label: $N sent, $N received"
	else
		bad "$label: counts"; tail -n 3 "$tmp/tx.$label" "$tmp/rx.$label"
	fi
	echo "mode: $label: $IF_ea $(nic_mode "$IF_ea"), $IF_eb $(nic_mode "$IF_eb")"
}

pair forced "@conf:nic=emulated"
case $(nic_mode "$IF_eb") in
"emulated (AF_PACKET)") ok "forced: emulated mode in use" ;;
"?") echo "note: netmapd log not found, mode not checked" ;;
*) bad "forced: mode is $(nic_mode "$IF_eb")" ;;
esac

# automatic fallback: a netmapd of our own that has no AF_XDP program
mkdir "$tmp/noprog"
sock=$tmp/nd.sock
LIBXDP_OBJECT_PATH=$tmp/noprog bg "${BUILD:-build}/netmapd" -f -s "$sock" >"$tmp/nd.log" 2>&1
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
saved=${UNETMAP_SOCKET:-}
export UNETMAP_SOCKET=$sock
nic_log=$tmp/nd.log
pair automatic ""
if grep -q "AF_XDP unavailable, emulated mode (AF_PACKET)" "$tmp/nd.log"; then
	ok "automatic: the fallback was logged: $(grep -m1 -o 'AF_XDP unavailable.*' "$tmp/nd.log")"
else
	bad "automatic: no fallback notice"; cat "$tmp/nd.log"
fi
[ "$(grep -c "AF_XDP unavailable" "$tmp/nd.log")" -eq 2 ] && ok "one notice line per port"
if [ -n "$saved" ]; then export UNETMAP_SOCKET=$saved; else unset UNETMAP_SOCKET; fi
nic_log=

# the bridge test, every port emulated
if NICMODE=@conf:nic=emulated "$here/53_nic_bridge.sh" >"$tmp/53" 2>&1; then
	ok "53_nic_bridge.sh in emulated mode"
	grep -E "^(ok|mode):" "$tmp/53" | sed 's/^/    /'
else
	bad "53_nic_bridge.sh in emulated mode"; sed 's/^/    /' "$tmp/53"
fi
exit $fail

#!/usr/bin/env bash
# Test objective: two stock guests (Linux 6.1 virtio_net, QEMU 7.2
# vhost-user under TCG, QEMU's default virtio-net features) whose NICs are
# VM ports of one VALE switch talk through it: ping both ways, and 20 MiB
# over TCP arrive with the byte count and checksum that were sent.  With
# host_mtu=9000 on both NICs, their MTU is 9000 (VIRTIO_NET_F_MTU,
# NET_SET_MTU) and 8972-byte pings cross (frames over several mergeable
# buffers, 5 slots in the switch's view).  vale-ctl -s shows the ports
# running, mtu 9000, and the transfer in their counters.
# Operations: a private netmapd; vale-ctl -n vale79:g1/g2 --vhost-user;
# two guests booted at once, each with a script that waits for the other;
# guest 1 receives with nc and reports count and md5sum back to guest 2.
set -u
. "$(dirname "$0")/tlib.sh"
. "$(dirname "$0")/vhost_vm_lib.sh"
vv_setup 79p
vv_netmapd

vale-ctl -n vale79:g1 --vhost-user "$tmp/g1.sock" || { echo "cannot create vale79:g1"; exit 1; }
vale-ctl -n vale79:g2 --vhost-user "$tmp/g2.sock" || { echo "cannot create vale79:g2"; exit 1; }

cat >"$tmp/g1.sh" <<'EOF'
#!/bin/sh
echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
ip link set eth0 up
ip addr add 10.79.0.1/24 dev eth0
echo "MTU $(cat /sys/class/net/eth0/mtu)"
# (a background job's stdin is /dev/null, and nc stops at its end: give
# it one that stays open)
sleep 600 | nc -l -p 5000 >/tmp/recv &
nc=$!
i=0
until ping -c 1 -W 1 10.79.0.2 >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 60 ] || break
done
ping -c 3 -W 3 10.79.0.2 >/dev/null && echo PING-OK
ping -c 3 -W 3 -s 8972 10.79.0.2 >/dev/null && echo BIGPING-OK
# the transfer: nc ends when the sender closes
i=0
while kill -0 $nc 2>/dev/null && [ $i -lt 120 ]; do sleep 1; i=$((i + 1)); done
n=$(wc -c </tmp/recv)
m=$(md5sum </tmp/recv | cut -d' ' -f1)
echo "RECV $n $m"
i=0
until echo "REPORT $n $m" | nc 10.79.0.2 5001; do
	i=$((i + 1)); [ $i -lt 20 ] || break; sleep 0.5
done
EOF
cat >"$tmp/g2.sh" <<'EOF'
#!/bin/sh
echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
ip link set eth0 up
ip addr add 10.79.0.2/24 dev eth0
echo "MTU $(cat /sys/class/net/eth0/mtu)"
head -c 20971520 /dev/urandom >/tmp/data
echo "SENT $(wc -c </tmp/data) $(md5sum </tmp/data | cut -d' ' -f1)"
sleep 600 | nc -l -p 5001 >/tmp/report &
i=0
until ping -c 1 -W 1 10.79.0.1 >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 60 ] || break
done
ping -c 3 -W 3 10.79.0.1 >/dev/null && echo PING-OK
ping -c 3 -W 3 -s 8972 10.79.0.1 >/dev/null && echo BIGPING-OK
i=0
until nc 10.79.0.1 5000 </tmp/data; do
	i=$((i + 1)); [ $i -lt 40 ] || break; sleep 0.5
done
echo "NC-DONE"
# stay up until the receiver has it all (our socket may still hold data)
i=0
while ! [ -s /tmp/report ] && [ $i -lt 240 ]; do sleep 0.5; i=$((i + 1)); done
cat /tmp/report
EOF

vv_boot g1 "$tmp/g1.sh" -- $(vv_mem) $(vv_nic "$tmp/g1.sock" 52:54:00:79:00:01 server host_mtu=9000)
vv_boot g2 "$tmp/g2.sh" -- $(vv_mem) $(vv_nic "$tmp/g2.sock" 52:54:00:79:00:02 server host_mtu=9000)

vv_started g1 '^MTU' 90
vv_started g2 '^MTU' 90
# while they run: the ports as vale-ctl shows them
if vv_console g1 '^PING-OK' 90; then
	vv_stats vale79:g1 >"$tmp/s1"
	vv_stats vale79:g2 >>"$tmp/s1"
	sed 's/^/    /' "$tmp/s1"
	check 'grep -q "vale79:g1 vhost-user .* server connected running .* mtu 9000" "$tmp/s1"' \
		"vale-ctl -s: g1 connected, running, mtu 9000"
	check 'grep -q "vale79:g2 vhost-user .* server connected running .* mtu 9000" "$tmp/s1"' \
		"vale-ctl -s: g2 connected, running, mtu 9000"
fi
vv_guest_wait g1 150; rc1=$wstatus
vv_guest_wait g2 60; rc2=$wstatus
vv_lines g1 '^(MTU|PING|BIGPING|RECV)' | sed 's/^/    g1: /'
vv_lines g2 '^(MTU|PING|BIGPING|SENT|NC-DONE|REPORT)' | sed 's/^/    g2: /'
check '[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ]' "both guests ran their scripts (exit $rc1, $rc2)"
for n in g1 g2; do
	check 'vv_lines $n "^MTU 9000$" >/dev/null' "$n: eth0 has MTU 9000 (host_mtu)"
	check 'vv_lines $n "^PING-OK" >/dev/null' "$n: pings the other guest"
	check 'vv_lines $n "^BIGPING-OK" >/dev/null' "$n: 8972-byte pings cross"
done
sent=$(vv_lines g2 '^SENT ' | cut -d' ' -f2-)
recv=$(vv_lines g1 '^RECV ' | cut -d' ' -f2-)
rep=$(vv_lines g2 '^REPORT ' | cut -d' ' -f2-)
check '[ -n "$sent" ] && [ "$sent" = "$recv" ] && [ "$rep" = "$recv" ]' \
	"TCP: sent '$sent', received '$recv', reported '$rep'"
check '[ "${sent%% *}" = 20971520 ]' "20 MiB were sent"
# the counters saw the transfer: tx of g2 and rx of g1 above 20 MiB
tx=$(vv_field vale79:g2 tx_bytes) rx=$(vv_field vale79:g1 rx_bytes)
check '[ "${tx:-0}" -ge 20971520 ] && [ "${rx:-0}" -ge 20971520 ]' \
	"counters: g2 tx_bytes ${tx:-?}, g1 rx_bytes ${rx:-?}"
check 'kill -0 $vv_npid' "netmapd is alive"

[ $fail -eq 0 ] && echo "79_vm_vhost_pair: ok"
exit $fail

#!/usr/bin/env bash
# Test objective: exact counts both ways between a guest's virtio-net NIC
# and a host pkt-gen on the same switch, with the smallest feature set a
# VM port can offer a modern guest (--features 0x140000000: VERSION_1
# alone, so no mergeable buffers, no event index, no indirect
# descriptors; plus vhost-user's PROTOCOL_FEATURES bit, which QEMU 7.2
# needs to enable the queues of a VERSION_1 device).  Guest ->
# host: 4000 frames of 60 bytes and 1000 of 1514, all counted by pkt-gen
# rx and by the port's tx_pkts; host -> guest: 4000 frames from pkt-gen
# tx, all received by the guest (and counted in rx_pkts, no rx_drops).
# Operations: a private netmapd; vale-ctl -n vale79:m --vhost-user
# --features; pkt-gen rx on vale79:h started before the guest boots; the
# guest sends with tests/vm/vu_raw, then listens and says so on its
# console, upon which pkt-gen tx sends to its MAC.
set -u
. "$(dirname "$0")/tlib.sh"
. "$(dirname "$0")/vhost_vm_lib.sh"
vv_setup 79c
vv_netmapd
mac=52:54:00:79:00:11
n_small=4000 n_big=1000 n_rx=4000

vale-ctl -n vale79:m --vhost-user "$tmp/m.sock" --features 0x140000000 ||
	{ echo "cannot create vale79:m"; exit 1; }

# the host side listens first: whatever the guest sends is counted
timeout 120 pkt-gen -i vale79:h -f rx -n $((n_small + n_big)) -w 0 >"$tmp/rx.log" 2>&1 &
rxpid=$!
vv_tmp_pids+=("$rxpid")

cat >"$tmp/m.sh" <<EOF
#!/bin/sh
# nothing of the kernel's own on the wire: no IPv6, no address
echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
ip link set eth0 up
./vu_raw send eth0 $n_small 60 0
./vu_raw send eth0 $n_big 1514 0
./vu_raw recv eth0 $n_rx 60
EOF

VV_TIMEOUT=120 vv_boot m "$tmp/m.sh" -- $(vv_mem) $(vv_nic "$tmp/m.sock" $mac server rx_queue_size=1024)
vv_started m '^RECV-READY' 90
vv_stats vale79:m >"$tmp/s1"
sed 's/^/    /' "$tmp/s1"
check 'grep -q "negotiated 0x140000000 " "$tmp/s1"' "VERSION_1 alone was negotiated"
# a steady 2000 frames a second, 8 at a time, into a queue of 1024
# buffers: a TCG guest keeps up (the switch drops what does not fit)
timeout 60 pkt-gen -i vale79:h -f tx -n $n_rx -l 60 -R 2000 -b 8 -D $mac -w 0 >"$tmp/tx.log" 2>&1
check '[ $? -eq 0 ]' "pkt-gen tx ran"
vv_guest_wait m 90; rc=$wstatus
wait_pid "$rxpid" 10
vv_lines m '^(SENT|RECV)' | sed 's/^/    guest: /'
grep -E 'Received|Sent' "$tmp/rx.log" "$tmp/tx.log" | tail -n 2 | sed 's/^/    /'
vv_stats vale79:m | sed 's/^/    /'
check '[ $rc -eq 0 ]' "the guest ran its script (exit $rc)"
check 'vv_lines m "^SENT eth0 $n_small\$" >/dev/null && vv_lines m "^SENT eth0 $n_big\$" >/dev/null' \
	"the guest sent everything"
check 'grep -q "Received $((n_small + n_big)) packets" "$tmp/rx.log"' \
	"pkt-gen received all $((n_small + n_big)) frames of the guest"
check 'vv_lines m "^RECV eth0 $n_rx\$" >/dev/null' "the guest received all $n_rx frames of pkt-gen"
tx=$(vv_field vale79:m tx_pkts) rx=$(vv_field vale79:m rx_pkts) drops=$(vv_field vale79:m rx_drops)
check '[ "$tx" = $((n_small + n_big)) ] && [ "$rx" = $n_rx ] && [ "$drops" = 0 ]' \
	"port counters: tx_pkts $tx, rx_pkts $rx, rx_drops $drops"
check 'kill -0 $vv_npid' "netmapd is alive"

[ $fail -eq 0 ] && echo "79_vm_vhost_counts: ok"
exit $fail

#!/usr/bin/env bash
# Test objective: VM ports outlive their peers, both ways round.
#  - netmapd killed (SIGKILL) and started again, its VM ports created again
#    with the same commands, while a guest runs: traffic resumes without
#    touching the guest, both with netmapd as the vhost-user server (QEMU
#    reconnects: reconnect=1) and as the client (netmapd reconnects to
#    QEMU's socket: --client);
#  - QEMU killed: the ports stay (vale-ctl lists them, not connected), and
#    a new QEMU on the same sockets is served on both.
# Traffic both ways is checked from each side: the guest beacons 50
# broadcast frames a second on each NIC (the ports' tx_pkts grow), host
# pkt-gen bursts reach both NICs (the guest's received counts grow).
# Operations: a private netmapd; ports vale79:s (server) and vale79:c
# (client); one guest with two NICs running tests/vm/vu_raw beacon; kill
# and restart netmapd; kill QEMU; a second guest on the same sockets.
set -u
. "$(dirname "$0")/tlib.sh"
. "$(dirname "$0")/vhost_vm_lib.sh"
vv_setup 79r
vv_netmapd

ports() {
	vale-ctl -n vale79:s --vhost-user "$tmp/s.sock" &&
		vale-ctl -n vale79:c --vhost-user "$tmp/c.sock" --client
}
# wait until a port's tx_pkts exceeds $2 (max $3 s)
tx_above() {
	local i v
	for i in $(seq $(($3 * 10))); do
		v=$(vv_field "$1" tx_pkts)
		[ "${v:-0}" -gt "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# the last beacon line of guest $1: "BEACON t eth0 sent recv eth1 sent recv"
beacon() { vv_lines "$1" '^BEACON ' | tail -n 1; }
rx_of() { beacon "$1" | awk -v nic="$2" '{ for (i = 3; i < NF; i += 3) if ($i == nic) print $(i + 2) }'; }
# wait until guest $1 counted more than $3 frames on $2 (max $4 s)
rx_above() {
	local i v
	for i in $(seq $(($4 * 10))); do
		v=$(rx_of "$1" "$2")
		[ "${v:-0}" -gt "$3" ] && return 0
		sleep 0.1
	done
	return 1
}
burst() {
	timeout 30 pkt-gen -i vale79:h -f tx -n 100 -l 60 -R 500 -b 4 -w 0 >>"$tmp/burst.log" 2>&1
}
nics() {
	echo "$(vv_mem)" \
	     "$(vv_nic "$tmp/s.sock" 52:54:00:79:00:21 server)" \
	     "$(vv_nic "$tmp/c.sock" 52:54:00:79:00:22 client)"
}

ports || { echo "cannot create the ports"; exit 1; }
cat >"$tmp/r.sh" <<'EOF'
#!/bin/sh
echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
ip link set eth0 up
ip link set eth1 up
./vu_raw beacon ${BEACON_SECS:-100} 50 eth0 eth1
EOF
cp "$tmp/r.sh" "$tmp/r2.sh"
sed -i 's/^\.\/vu_raw beacon .*/.\/vu_raw beacon 12 50 eth0 eth1/' "$tmp/r2.sh"

VV_TIMEOUT=150 vv_boot r "$tmp/r.sh" -- $(nics)
vv_started r "^BEACON 2 " 90
check 'tx_above vale79:s 0 10 && tx_above vale79:c 0 10' "netmapd hears both NICs"
burst
check 'rx_above r eth0 99 10 && rx_above r eth1 99 10' "both NICs hear pkt-gen ($(beacon r))"
vv_stats vale79:s | sed 's/^/    before: /'
vv_stats vale79:c | sed 's/^/    before: /'

# netmapd dies; a new one gets the same configuration
vv_netmapd_kill
sleep 1
vv_netmapd
ports || { echo "FAIL: cannot create the ports again"; fail=1; }
check 'tx_above vale79:s 0 20' "server mode: QEMU came back, frames from the guest flow again"
check 'tx_above vale79:c 0 20' "client mode: netmapd reached QEMU again, frames flow again"
rx0=$(rx_of r eth0) rx1=$(rx_of r eth1)
burst
check 'rx_above r eth0 $((rx0 + 99)) 10 && rx_above r eth1 $((rx1 + 99)) 10' \
	"the guest hears pkt-gen again on both NICs ($(beacon r))"
vv_stats vale79:s | sed 's/^/    after restart: /'
vv_stats vale79:c | sed 's/^/    after restart: /'

# QEMU dies: the ports stay, a new QEMU is served
kill -KILL "$(cat "$tmp/r.qpid")"
vv_guest_wait r 10
sleep 1
vale-ctl >"$tmp/list" 2>&1
check 'grep -q "^vale79:s " "$tmp/list" && grep -q "^vale79:c " "$tmp/list"' "the ports stay"
check 'vv_stats vale79:s | grep -q " server waiting"' "vale79:s waits for a QEMU"
check 'vv_stats vale79:c | grep -q " client waiting"' "vale79:c waits for a QEMU"
txs=$(vv_field vale79:s tx_pkts) txc=$(vv_field vale79:c tx_pkts)
VV_TIMEOUT=90 vv_boot r2 "$tmp/r2.sh" -- $(nics)
vv_started r2 "^BEACON 2 " 90
check 'tx_above vale79:s $txs 15 && tx_above vale79:c $txc 15' \
	"netmapd hears the new QEMU on both ports"
burst
check 'rx_above r2 eth0 99 10 && rx_above r2 eth1 99 10' "the new guest hears pkt-gen ($(beacon r2))"
vv_guest_wait r2 60
check '[ $wstatus -eq 0 ]' "the new guest ran its script (exit $wstatus)"
vv_stats vale79:s | sed 's/^/    new QEMU: /'
check 'kill -0 $vv_npid' "netmapd is alive"

[ $fail -eq 0 ] && echo "79_vm_vhost_restart: ok"
exit $fail

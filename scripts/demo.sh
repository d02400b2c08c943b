#!/usr/bin/env bash
# scripts/demo.sh [BUILD] - a live demo: two processes exchange packets
# over a unetmap pipe, each printing its rate once a second, netmap
# pkt-gen style.  netmapd is started on demand by the library, on a
# private socket, and stopped by pid at the end.
set -u
BUILD=$(cd "${1:-build}" && pwd)
secs=${DEMO_SECONDS:-5}
tmp=$(mktemp -d /tmp/unetmap-demo.XXXXXX)
export UNETMAP_SOCKET=$tmp/netmapd.sock UNETMAP_NETMAPD=$BUILD/netmapd
rx=
cleanup() {
	[ -n "$rx" ] && kill "$rx" 2>/dev/null
	[ -f "$UNETMAP_SOCKET.lock" ] && kill "$(cat "$UNETMAP_SOCKET.lock")" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cpus=$(nproc)
pin_tx=; pin_rx=
if [ "$cpus" -ge 2 ]; then pin_tx="-a 0"; pin_rx="-a 1"; fi

echo "== unetmap demo: pkt-gen tx -> netmap:demo{1 ==pipe==> netmap:demo}1 -> pkt-gen rx"
echo "== 60-byte frames, batches of 512, ${secs} s; netmapd starts on demand"
echo
"$BUILD/pkt-gen" -i 'netmap:demo}1' -f rx $pin_rx -w 0 -W 2>&1 | sed -u 's/^/[rx] /' &
rx=$!
sleep 0.5
timeout -s INT "$secs" "$BUILD/pkt-gen" -i 'netmap:demo{1' -f tx -l 60 -b 512 $pin_tx -w 0 2>&1 |
	sed -u 's/^/[tx] /'
wait "$rx" 2>/dev/null
rx=
echo
echo "== netmapd log ($UNETMAP_SOCKET.log):"
sed 's/^/   /' "$UNETMAP_SOCKET.log" 2>/dev/null | tail -n 8

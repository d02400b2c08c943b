#!/usr/bin/env bash
# 37_cni.sh - the CNI plugin unetmap-cni, driven as a container runtime
# drives it (CNI spec 1.0.0: CNI_* variables, configuration on stdin).
#
# Test objective: ADD gives a pod (a network namespace) a persistent VALE
# port, a netmapd socket granted to that port alone, a veth on the same
# switch with the address host-local chose, and prints a spec-shaped
# result; CHECK passes while all of it exists and fails once it does not;
# a repeated ADD is refused and leaves the first attachment intact; DEL
# removes everything (port, grant, veth, IP allocation), also for an
# unknown container and when repeated; malformed configurations and a
# failing IPAM get a CNI error JSON and leave nothing behind; a process in
# the pod, through its granted socket, exchanges frames with another port
# of the switch and cannot open another pod's port; the two pods' kernel
# stacks ping each other through the switch.
#
# Operations:
#  1. VERSION; the baseline: the switch's ports, our veths, grants (from
#     netmapd's log), files under socketDir, host-local's allocations;
#  2. ADD pods A and B (veth: true), check the results with jq; CHECK,
#     also with prevResult (its own passes, B's or a wrong address not);
#  3. repeated ADD of A: error 100; CHECK A still passes; one allocation;
#  4. pkt-gen in A through the granted socket: 2000 frames host -> A and
#     2000 A -> host; A cannot open B's port (EPERM); ping A -> B;
#  5. DEL of an unknown container, DEL A; DEL B while netmapd is
#     unreachable: error 11, but its veth and address are gone; DEL B
#     again (without CNI_NETNS), DEL A again: all succeed; CHECK A now
#     fails; ADD/CHECK/DEL without veth and IPAM (the defaults); the
#     baseline again;
#  6. malformed configurations, bad environment, an IPAM plugin that is
#     missing or fails, a veth that cannot be made: CNI errors, baseline.
# Network namespaces are named ucni<pid><x>; everything is removed on exit.
set -u
. "$(dirname "$0")/tlib.sh"
CNI="$BUILD/unetmap-cni"
PG="$BUILD/pkt-gen"
VC="$BUILD/vale-ctl"
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root (network namespaces, veths, grants)"
	exit 77
fi
for t in ip jq ping timeout unshare; do
	command -v $t >/dev/null || { echo "skipped: $t not installed (scripts/install-deps.sh)"; exit 77; }
done
IPAMDIR=/usr/lib/cni
if [ ! -x "$IPAMDIR/host-local" ]; then
	echo "skipped: no $IPAMDIR/host-local (apt-get install containernetworking-plugins)"
	exit 77
fi
[ -x "$CNI" ] || { echo "skipped: $CNI is not built"; exit 77; }

tmp=$(mktemp -d /tmp/unetmap-37.XXXXXX)
chmod 755 "$tmp"
sw=valecni$(($$ % 100000))
net=10.237.$(($$ % 200 + 1))
nsA=ucni$$a
nsB=ucni$$b
pids=()
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }

cat >"$tmp/conf.json" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "ucni$$",
  "type": "unetmap-cni",
  "switch": "$sw",
  "socketDir": "$tmp/pods",
  "veth": true,
  "ipam": {
    "type": "host-local",
    "ranges": [[{ "subnet": "$net.0/24" }]],
    "routes": [{ "dst": "0.0.0.0/0" }],
    "dataDir": "$tmp/ipam"
  }
}
EOF

# cni COMMAND CONTAINER NETNS [CONFIG]: run the plugin, output in $out,
# status in $rc
cni() {
	local cfg=${4:-$tmp/conf.json}
	out=$(env CNI_COMMAND="$1" CNI_CONTAINERID="$2" ${3:+CNI_NETNS=/var/run/netns/$3} \
		CNI_IFNAME=eth0 CNI_PATH="$IPAMDIR" "$CNI" <"$cfg" 2>>"$tmp/stderr")
	rc=$?
}

cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	for p in podA podB podC; do cni DEL "$p" "" >/dev/null 2>&1; done
	[ -f "$tmp/plain.json" ] && cni DEL podN "" "$tmp/plain.json" >/dev/null 2>&1
	ip netns del "$nsA" 2>/dev/null
	ip netns del "$nsB" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# What an attachment leaves behind, one line each: ports of our switch,
# our interfaces, live grants under our socketDir (granted minus revoked,
# from netmapd's log), files under socketDir, host-local's allocations.
log=$(dirname "$UNETMAP_SOCKET")/netmapd.log
snapshot() {
	"$VC" 2>/dev/null | grep "^$sw:" | sort
	ip -o link show | grep -o 'cnv[0-9a-f]*' | sort
	echo "grants $(( $(grep -c "granted $tmp/pods/" "$log" 2>/dev/null) - \
		$(grep -c "revoked $tmp/pods/" "$log" 2>/dev/null) ))"
	find "$tmp/pods" -mindepth 1 2>/dev/null | sort
	ls "$tmp/ipam/ucni$$" 2>/dev/null | grep -v -E '^(lock|last_reserved_ip)' | sort
}
same_as_baseline() { # WHAT
	snapshot >"$tmp/now"
	if cmp -s "$tmp/base" "$tmp/now"; then
		ok "nothing left behind $1"
	else
		bad "left behind $1: $(diff "$tmp/base" "$tmp/now" | grep '^>' | tr '\n' ' ')"
	fi
}
# is_error CODE WHAT: $rc non-zero and $out a CNI error with that code
# (0: any code, for errors passed on from the IPAM plugin)
is_error() {
	if [ "$rc" -ne 0 ] && echo "$out" | jq -e --argjson c "$1" \
		'(.code == $c or ($c == 0 and .code > 0)) and (.msg | length > 0) and (.cniVersion | length > 0)' >/dev/null 2>&1; then
		ok "$2: error $1 ($(echo "$out" | jq -r '.msg + ": " + (.details // "")'))"
	else
		bad "$2: expected error $1, got rc $rc: $out"
	fi
}

ip netns add "$nsA" || { echo "skipped: cannot create network namespaces"; exit 77; }
ip netns add "$nsB" || { echo "skipped: cannot create network namespaces"; exit 77; }
for n in "$nsA" "$nsB"; do
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
done

# 1
out=$(CNI_COMMAND=VERSION "$CNI" </dev/null 2>>"$tmp/stderr"); rc=$?
if [ $rc -eq 0 ] && echo "$out" | jq -e '.supportedVersions | index("1.0.0")' >/dev/null; then
	ok "VERSION: $out"
else
	bad "VERSION: rc $rc: $out"
fi
snapshot >"$tmp/base"

# 2
cni ADD podA "$nsA"; outA=$out
if [ $rc -eq 0 ] && echo "$out" | jq -e --arg sw "$sw:" --arg ns "/var/run/netns/$nsA" '
	.cniVersion == "1.0.0" and (.interfaces[0].name | startswith($sw)) and
	(.interfaces[0].name | length) == ($sw | length) + 15 and
	.interfaces[2].name == "eth0" and .interfaces[2].sandbox == $ns and
	(.interfaces[2].mac | test("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")) and
	(.ips | length) == 1 and .ips[0].interface == 2 and
	(.ips[0].address | endswith("/24")) and .routes[0].dst == "0.0.0.0/0" and
	(.dns | type) == "object"' >/dev/null; then
	ok "ADD podA: $out"
else
	bad "ADD podA: rc $rc: $out $(tail -n 20 "$tmp/stderr")"
	exit 1
fi
portA=$(echo "$outA" | jq -r '.interfaces[0].name')
ipA=$(echo "$outA" | jq -r '.ips[0].address' | cut -d/ -f1)
cni ADD podB "$nsB"; outB=$out
if [ $rc -eq 0 ]; then ok "ADD podB"; else bad "ADD podB: $out"; exit 1; fi
portB=$(echo "$outB" | jq -r '.interfaces[0].name')
ipB=$(echo "$outB" | jq -r '.ips[0].address' | cut -d/ -f1)
sockA=$tmp/pods/podA/eth0.sock
if [ -S "$sockA" ] && [ "$(stat -c %a "$sockA")" = 660 ] &&
   [ "$(cat "$tmp/pods/podA/eth0.port")" = "$portA" ]; then
	ok "podA's socket (mode 660) and port file"
else
	bad "podA's socket or port file: $(ls -l "$tmp/pods/podA" 2>&1)"
fi
if [ "$(ip -n "$nsA" -o -4 addr show dev eth0 | awk '{print $4}')" = "$ipA/24" ] &&
   ip -n "$nsA" route show default | grep -q "dev eth0"; then
	ok "podA's eth0 has $ipA/24 and a default route"
else
	bad "podA's eth0: $(ip -n "$nsA" addr show dev eth0 2>&1)"
fi
cni CHECK podA "$nsA"
if [ $rc -eq 0 ] && [ -z "$out" ]; then ok "CHECK podA"; else bad "CHECK podA: rc $rc: $out"; fi
# CHECK with prevResult (spec 1.0.0): ADD's result passes; another pod's,
# or an address the pod does not have, does not
jq --argjson p "$outA" '.prevResult = $p' "$tmp/conf.json" >"$tmp/prevA.json"
cni CHECK podA "$nsA" "$tmp/prevA.json"
if [ $rc -eq 0 ]; then ok "CHECK podA with its prevResult"; else bad "CHECK with prevResult: $out"; fi
jq --argjson p "$outB" '.prevResult = $p' "$tmp/conf.json" >"$tmp/prevB.json"
cni CHECK podA "$nsA" "$tmp/prevB.json"
is_error 103 "CHECK podA with podB's prevResult"
jq --argjson p "$outA" '.prevResult = ($p | .ips[0].address = "192.0.2.9/24")' "$tmp/conf.json" \
	>"$tmp/prevX.json"
cni CHECK podA "$nsA" "$tmp/prevX.json"
is_error 103 "CHECK podA with an address it lacks"

# 3
cni ADD podA "$nsA"
is_error 100 "repeated ADD of podA"
cni CHECK podA "$nsA"
if [ $rc -eq 0 ]; then ok "podA intact after the repeated ADD"; else bad "CHECK after repeated ADD: $out"; fi
n=$(ls "$tmp/ipam/ucni$$" | grep -c -E '^[0-9]')
if [ "$n" -eq 2 ]; then ok "two IP allocations for two pods"; else bad "$n IP allocations"; fi

# 4: the pod's process reaches netmapd only through its granted socket
# inpod NS DIR CMD...: in network namespace NS and a mount namespace of
# its own where DIR is /run/unetmap (what the kubelet's subPath mount
# makes of the pod's socket directory, docs/cni.md)
inpod() {
	local n=$1 d=$2
	shift 2
	ip netns exec "$n" unshare -m --propagation private sh -c '
		mkdir -p /run/unetmap && mount --bind "$0" /run/unetmap &&
		UNETMAP_SOCKET=/run/unetmap/eth0.sock UNETMAP_NETMAPD=/nonexistent exec "$@"' "$d" "$@"
}
timeout 30 "$PG" -i "$sw:h37" -f rx -n 2000 -w 0 >"$tmp/hrx" 2>&1 &
hrx=$!; pids+=($hrx)
inpod "$nsA" "$tmp/pods/podA" timeout 30 "$PG" -i "$portA" -f rx -n 2000 -w 0 >"$tmp/arx" 2>&1 &
arx=$!; pids+=($arx)
wait_for "$tmp/arx" "waiting for initial packets|Ready" 10
wait_for "$tmp/hrx" "waiting for initial packets|Ready" 10
# broadcast from the host's port reaches podA's port (and the veths);
# podA's broadcast reaches the host's port
timeout 30 "$PG" -i "$sw:h37t" -f tx -n 2000 -R 50000 -w 0 -D ff:ff:ff:ff:ff:ff >"$tmp/htx" 2>&1
wait_pid $arx 20
if [ "$wstatus" -eq 0 ] && grep -q "Received 2000 packets" "$tmp/arx"; then
	ok "podA received 2000 frames from the host's port through its granted socket"
else
	bad "podA receive (status $wstatus): $(tail -n 3 "$tmp/arx" | tr '\n' ' ')"
fi
inpod "$nsA" "$tmp/pods/podA" timeout 30 "$PG" -i "$portA" -f tx -n 2000 -R 50000 -w 0 \
	-D ff:ff:ff:ff:ff:ff >"$tmp/atx" 2>&1
rc=$?
wait_pid $hrx 20
if [ $rc -eq 0 ] && [ "$wstatus" -eq 0 ] && grep -q "Received 2000 packets" "$tmp/hrx"; then
	ok "the host's port received 2000 frames podA sent"
else
	bad "podA send (rc $rc, receiver $wstatus): $(tail -n 2 "$tmp/atx" "$tmp/hrx" | tr '\n' ' ')"
fi
inpod "$nsA" "$tmp/pods/podA" timeout 10 "$PG" -i "$portB" -f tx -n 10 -w 0 >"$tmp/steal" 2>&1
if [ $? -ne 0 ] && grep -q "opens only ports named $portA" "$tmp/steal"; then
	ok "podA cannot open podB's port"
else
	bad "podA opened podB's port: $(tail -n 2 "$tmp/steal" | tr '\n' ' ')"
fi
# the veths' forwarders start with the attachment: allow them a moment
if ip netns exec "$nsA" ping -c 3 -i 0.2 -w 10 "$ipB" >"$tmp/ping" 2>&1; then
	ok "podA's kernel stack pings podB's through $sw ($(grep -o '[0-9]* received' "$tmp/ping"))"
else
	bad "ping podA -> podB: $(tail -n 2 "$tmp/ping" | tr '\n' ' ')"
fi

# 5
cni DEL nosuchpod "$nsA"
if [ $rc -eq 0 ] && [ -z "$out" ]; then ok "DEL of an unknown container succeeds"; else bad "DEL unknown: rc $rc: $out"; fi
cni DEL podA "$nsA"
if [ $rc -eq 0 ]; then ok "DEL podA"; else bad "DEL podA: $out"; fi
# netmapd unreachable: DEL removes the veth and the IP allocation, and
# asks to be repeated (11) for the port and the grant
UNETMAP_SOCKET=$tmp/nosuch.sock cni DEL podB "$nsB"
is_error 11 "DEL podB without netmapd"
if ! ip -n "$nsB" link show eth0 >/dev/null 2>&1 && [ -z "$(ls "$tmp/ipam/ucni$$" | grep "^$ipB$")" ] &&
   "$VC" 2>/dev/null | grep -q "^$portB "; then
	ok "DEL without netmapd removed podB's veth and address, not its port"
else
	bad "DEL without netmapd: $(ip -n "$nsB" -o link show eth0 2>&1) $(ls "$tmp/ipam/ucni$$")"
fi
cni DEL podB ""
if [ $rc -eq 0 ]; then ok "DEL podB again, without CNI_NETNS"; else bad "DEL podB: $out"; fi
cni DEL podA "$nsA"
if [ $rc -eq 0 ]; then ok "DEL podA again"; else bad "DEL podA again: $out"; fi
cni CHECK podA "$nsA"
is_error 103 "CHECK after DEL"
if ip -n "$nsA" link show eth0 >/dev/null 2>&1; then bad "podA's eth0 survived DEL"; else ok "podA's eth0 is gone"; fi
# the default: no veth, no IPAM -- a port and a socket only
jq 'del(.veth, .ipam)' "$tmp/conf.json" >"$tmp/plain.json"
cni ADD podN "$nsA" "$tmp/plain.json"
if [ $rc -eq 0 ] && echo "$out" | jq -e '(.interfaces | length) == 1 and (has("ips") | not) and
	.dns == {}' >/dev/null && ! ip -n "$nsA" link show eth0 >/dev/null 2>&1; then
	ok "ADD without veth and IPAM: the port alone ($out)"
else
	bad "ADD without veth and IPAM: rc $rc: $out"
fi
cni CHECK podN "$nsA" "$tmp/plain.json"
[ $rc -eq 0 ] && ok "CHECK without veth" || bad "CHECK without veth: $out"
cni DEL podN "$nsA" "$tmp/plain.json"
[ $rc -eq 0 ] && ok "DEL without veth" || bad "DEL without veth: $out"
same_as_baseline "after DEL"

# 6: failures leave nothing behind
badconf() { # CODE WHAT JSON
	printf '%s' "$3" >"$tmp/bad.json"
	cni ADD podC "$nsA" "$tmp/bad.json"
	is_error "$1" "$2"
}
badconf 6 "truncated JSON" '{"cniVersion": "1.0.0", "name": "x"'
badconf 6 "not an object" '["cniVersion"]'
badconf 6 "a trailing comma" '{"cniVersion": "1.0.0",}'
badconf 6 "deep nesting" "$(printf '%.0s[' $(seq 5000))"
badconf 6 "garbage after the document" '{} {}'
badconf 6 "a bad escape" '{"cniVersion": "1.0.0", "name": "\q"}'
badconf 6 "empty input" ''
badconf 1 "an unknown cniVersion" '{"cniVersion": "0.1.0", "name": "x", "type": "unetmap-cni", "switch": "vale1"}'
badconf 7 "no switch" '{"cniVersion": "1.0.0", "name": "x", "type": "unetmap-cni"}'
badconf 7 "a switch that is not VALE" '{"cniVersion": "1.0.0", "name": "x", "type": "unetmap-cni", "switch": "br0"}'
badconf 7 "veth not a boolean" "{\"cniVersion\": \"1.0.0\", \"name\": \"x\", \"type\": \"unetmap-cni\", \"switch\": \"$sw\", \"veth\": 1}"
badconf 7 "an IPAM type that is a path" "{\"cniVersion\": \"1.0.0\", \"name\": \"x\", \"type\": \"unetmap-cni\", \"switch\": \"$sw\", \"ipam\": {\"type\": \"../bin/sh\"}}"
badconf 7 "a missing IPAM plugin" "{\"cniVersion\": \"1.0.0\", \"name\": \"x\", \"type\": \"unetmap-cni\", \"switch\": \"$sw\", \"socketDir\": \"$tmp/pods\", \"ipam\": {\"type\": \"nosuch-ipam\"}}"
# host-local refuses a range that is not a network: its error is ours
badconf 0 "a failing IPAM plugin" "$(jq -c '.cniVersion = "0.4.0" | .ipam.ranges = [[{"subnet": "nonsense"}]]' "$tmp/conf.json")"
echo "$out" | jq -e '.details | contains("host-local")' >/dev/null || bad "the IPAM failure does not name host-local"
out=$(CNI_COMMAND=ADD CNI_CONTAINERID='../x' CNI_NETNS=/var/run/netns/$nsA CNI_IFNAME=eth0 \
	CNI_PATH=$IPAMDIR "$CNI" <"$tmp/conf.json" 2>>"$tmp/stderr"); rc=$?
is_error 4 "a container id with '/'"
out=$(CNI_COMMAND=ADD CNI_CONTAINERID=podC CNI_IFNAME=eth0 CNI_PATH=$IPAMDIR "$CNI" <"$tmp/conf.json" 2>>"$tmp/stderr"); rc=$?
is_error 4 "ADD without CNI_NETNS"
out=$(CNI_COMMAND=FROB "$CNI" <"$tmp/conf.json" 2>>"$tmp/stderr"); rc=$?
is_error 4 "an unknown command"
# a veth that cannot be made (the pod has an eth0 already): ADD undoes
# the port, the seal and the IP allocation it made before
ip -n "$nsA" link add eth0 type veth peer name eth0p
cni ADD podC "$nsA"
is_error 102 "ADD into a pod whose eth0 exists"
ip -n "$nsA" link del eth0
same_as_baseline "after the failures"

# the plugin writes nothing on stderr; in a sanitizer build, this is
# where a report (a leak on an error path, say) would be
if [ -s "$tmp/stderr" ]; then
	bad "the plugin wrote on stderr: $(head -c 2000 "$tmp/stderr")"
else
	ok "nothing on the plugin's stderr"
fi

[ $fail -eq 0 ] && echo "37_cni: ok"
exit $fail

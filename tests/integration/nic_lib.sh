# nic_lib.sh - sourced by the 5x_nic_*.sh tests (not a test: not executable).
#
# Network namespaces and veth pairs named after the test's pid (so that
# parallel runs do not collide), removed on exit with everything the test
# started (killed by pid).  Skips (exit 77, reason on the last line) when
# not root or when a tool is missing.
#
#   nic_init TAG                 checks, temp dir $tmp, traps
#   nic_ns NAME                  a namespace: $NS_<NAME>; loopback up, no IPv6
#   nic_veth NSA IFA NSB IFB     veth pair IFA (in NSA) <-> IFB (in NSB), up;
#                                interface names get the pid suffix: $IF_<IFA>
#   nic_nooffload NS IF          checksum/segmentation offloads off (frames
#                                that leave the kernel stack through a netmap
#                                port must be complete, netmap-facts 5.1)
#   bg CMD...                    run in the background, remember the pid ($!)
#   wait_for FILE REGEX SECS     until FILE matches
#   wait_pid PID SECS            until PID exits; status in $wstatus
#   nic_mode IFNAME              the mode netmapd logged for IFNAME, or "?"
#   xdp_attached NS IF           true if an XDP program is on NS/IF
#   stacks_talk DST PORT BYTES WHAT  NS_A pings DST, then sends BYTES over
#                                TCP to DST:PORT in NS_B; compared
set -u

nic_init() {
	tag=$1
	if [ "$(id -u)" -ne 0 ]; then
		echo "skipped: needs root (network namespaces, veth, XDP)"
		exit 77
	fi
	for t in ip timeout; do
		if ! command -v $t >/dev/null; then
			echo "skipped: $t not installed (scripts/install-deps.sh)"
			exit 77
		fi
	done
	PG=${BUILD:-build}/pkt-gen
	BR=${BUILD:-build}/nm-bridge
	sfx=$$
	tmp=$(mktemp -d /tmp/unetmap-$tag.XXXXXX) || exit 1
	pids=()
	namespaces=()
	fail=0
	trap nic_cleanup EXIT
	trap 'exit 130' INT TERM
	if ! ip link add nicchk$sfx type veth peer name nicchkp$sfx 2>/dev/null; then
		echo "skipped: cannot create veth pairs"
		exit 77
	fi
	ip link del nicchk$sfx
}

nic_cleanup() {
	local p n
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	for n in "${namespaces[@]}"; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$tmp"
}

ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }

nic_ns() {
	local n=nic$1$sfx
	ip netns add "$n" || { echo "skipped: cannot create network namespaces"; exit 77; }
	namespaces+=("$n")
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
	ip -n "$n" link set lo up
	eval "NS_$1=$n"
}

nic_veth() {
	local na=NS_$1 nb=NS_$3
	ip link add "$2$sfx" netns "${!na}" type veth peer name "$4$sfx" netns "${!nb}" || {
		echo "skipped: cannot create veth pairs"; exit 77; }
	ip -n "${!na}" link set "$2$sfx" up
	ip -n "${!nb}" link set "$4$sfx" up
	eval "IF_$2=$2$sfx"
	eval "IF_$4=$4$sfx"
}

nic_nooffload() {
	local n=NS_$1 i=IF_$2
	if ! command -v ethtool >/dev/null; then
		echo "skipped: ethtool not installed (scripts/install-deps.sh)"
		exit 77
	fi
	ip netns exec "${!n}" ethtool -K "${!i}" tx off tso off gso off gro off >/dev/null 2>&1
}

bg() {
	"$@" &
	pids+=($!)
}

. "$(dirname "${BASH_SOURCE[0]}")/tlib.sh"	# wait_for, wait_pid

# The two kernel stacks talk through what joins NS_A and NS_B: ping DST,
# then BYTES of random data over TCP to DST:PORT, compared byte for byte.
# WHAT names the path in the messages.  Uses $tmp, ok and bad.
stacks_talk() { # DST PORT BYTES WHAT
	local dst=$1 port=$2 bytes=$3 what=$4 lp
	if ip netns exec "$NS_A" ping -c 5 -i 0.2 -W 2 "$dst" >"$tmp/ping" 2>&1; then
		ok "ping A -> B$what: $(grep -o '[0-9]* received' "$tmp/ping")"
	else
		bad "ping A -> B$what"; cat "$tmp/ping"
	fi
	head -c "$bytes" /dev/urandom >"$tmp/send"
	bg ip netns exec "$NS_B" timeout 30 sh -c "nc -l -p $port >'$tmp/recv'"
	lp=$!
	sleep 0.5
	if ip netns exec "$NS_A" timeout 30 sh -c "nc -N -w 10 $dst $port <'$tmp/send'"; then
		wait_pid "$lp" 15
		if cmp -s "$tmp/send" "$tmp/recv"; then
			ok "TCP A -> B$what: $bytes bytes, identical"
		else
			bad "TCP A -> B$what: received $(stat -c %s "$tmp/recv" 2>/dev/null) bytes, differ"
		fi
	else
		bad "TCP A -> B$what: nc failed"
	fi
}

# The runner's netmapd logs beside its socket; a private one where we say.
nic_log=
nic_mode() {
	local log=${nic_log:-$(dirname "${UNETMAP_SOCKET:-/nonexistent}")/netmapd.log} line
	line=$(grep -E " $1: (AF_XDP|emulated)" "$log" 2>/dev/null | tail -n 1)
	case $line in
	*"emulated (AF_PACKET)"*) echo "emulated (AF_PACKET)" ;;
	*"native XDP, zero copy"*) echo "AF_XDP native zero-copy" ;;
	*"native XDP, copy mode"*) echo "AF_XDP native copy" ;;
	*"generic XDP, copy mode"*) echo "AF_XDP generic copy" ;;
	*) echo "?" ;;
	esac
}

xdp_attached() {
	local n=$1 i=$2
	ip -n "$n" -d link show "$i" 2>/dev/null | grep -q -E "prog/xdp|xdpgeneric|xdpdrv| xdp "
}

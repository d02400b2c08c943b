#!/usr/bin/env bash
# Install what unetmap needs to build and test on Debian 12.
# Safe to run again.  As root it installs; as another user it runs itself
# again through sudo (a bare Debian machine, where one is root, has no
# sudo, so the README's first command names none).
#   scripts/install-deps.sh --list   prints the packages and installs nothing
set -euo pipefail
# build: compilers (gcc and clang), make, pkg-config, libxdp and libbpf
# (netmapd attaches the AF_XDP program; libxdp1 ships it);
# tests: bc (runner timing), iproute2 (namespaces and veths), strace
# (the syscall check), procps (pgrep), util-linux (taskset), ethtool
# (offloads off on veths), iputils-ping and netcat-openbsd (kernel stacks
# talking through netmap:IFNAME ports);
# VM guests (scripts/vm): qemu-system-x86 (the guests), busybox-static
# and cpio (their initramfs), kmod (depmod orders the guest's modules);
# NFV tools: libpcap-dev (nm-dump writes pcap and compiles BPF filters),
# tcpdump and tshark (tests read the captures back; tshark brings editcap,
# which makes microsecond pcap files for the nmreplay test), jq (parses
# nm-lb's JSON statistics and unetmap-cni's results in their tests);
# CNI: containernetworking-plugins (host-local, the IPAM plugin
# tests/integration/37_cni.sh delegates to from unetmap-cni);
# fuzzing (make fuzz): libclang-rt-14-dev (clang's libFuzzer runtime);
# benchmarks: valgrind (bench/monitor.sh counts the instructions a sync
# costs with callgrind: exact where a shared host makes timings drift),
# dpdk-dev (dpdk-testpmd, the DPDK peers: memif in bench/run.sh, virtio-net
# on the vhost PMD in bench/vm.sh)
PACKAGES="build-essential clang pkg-config libxdp-dev libbpf-dev bc iproute2 strace procps util-linux ethtool iputils-ping netcat-openbsd qemu-system-x86 busybox-static cpio kmod libpcap-dev tcpdump tshark jq containernetworking-plugins libclang-rt-14-dev valgrind dpdk-dev"
if [ "${1:-}" = --list ]; then
	echo "$PACKAGES"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null; then
		exec sudo -- "$0" "$@"
	fi
	echo "install-deps: needs root, and sudo is not installed: run it as root" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends $PACKAGES

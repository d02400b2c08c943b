#!/bin/busybox sh
# /init of unetmap's test guests (scripts/vm/build-guest.sh puts it in the
# base initramfs).  It mounts the kernel file systems, loads the modules
# listed in /etc/unm-modules (in dependency order, with the options the
# kernel command line gives as MODULE.PARAM=VALUE, as modprobe would),
# brings up lo and runs /unm/run, the per-run script that run-guest.sh
# appends as a second archive.  Its exit status is printed as
# "UNM-GUEST-RC=<n>" on the console, which run-guest.sh turns into its
# own, and the guest powers off.
# the firmware leaves the console mid-line
echo
/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/unm:/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root

mkdir -p /proc /sys /dev /tmp /run /root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run

cmdline=$(cat /proc/cmdline)
# module options from the command line: "vfio_iommu_type1.allow_unsafe_interrupts=1"
modopts() {
	local w
	for w in $cmdline; do
		case $w in
		"$1".*=*) printf '%s ' "${w#"$1".}" ;;
		esac
	done
}
if [ -f /etc/unm-modules ]; then
	while read -r ko; do
		[ -n "$ko" ] || continue
		name=$(basename "$ko" .ko | tr - _)
		# shellcheck disable=SC2046
		insmod "/lib/modules/$ko" $(modopts "$name") 2>/tmp/insmod.err ||
			echo "init: insmod $name: $(cat /tmp/insmod.err)"
	done </etc/unm-modules
fi
ip link set lo up
hostname unm-guest

rc=127
if [ -x /unm/run ]; then
	cd /unm && ./run
	rc=$?
else
	echo "init: no /unm/run in the initramfs"
fi
cd /
echo "UNM-GUEST-RC=$rc"
sync
poweroff -f

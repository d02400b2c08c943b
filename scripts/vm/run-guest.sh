#!/usr/bin/env bash
# scripts/vm/run-guest.sh - boot a throw-away QEMU guest (TCG), run one
# script inside it, and exit with that script's exit status.
#
# Usage: scripts/vm/run-guest.sh [options] SCRIPT [-- QEMU-ARGS...]
#
#   SCRIPT              shell script run as /unm/run inside the guest (the
#                       guest has busybox; /unm is first in PATH and is the
#                       working directory)
#   --add FILE[=NAME]   put FILE in the guest as /unm/NAME (default: its
#                       basename); repeatable.  Guests have no shared
#                       libraries: add static binaries (make guest)
#   --append ARGS       more kernel command line (e.g. intel_iommu=on, or
#                       module options: vfio_iommu_type1.allow_unsafe_interrupts=1)
#   --timeout SEC       kill QEMU (by its pid) after SEC seconds (default 60)
#   --log FILE          write the guest's console there (default: print it
#                       on stdout when the guest is done)
#   --mem SIZE          guest memory (default 256M)
#   --pidfile FILE      write QEMU's pid there once it runs
#   -h, --help          this text
#   QEMU-ARGS           more QEMU arguments: devices, memory backends, ...
#
# The guest is a q35 machine under TCG (-accel tcg -cpu max), one CPU, no
# default devices, no network unless QEMU-ARGS add one.  Its kernel and
# base initramfs come from scripts/vm/build-guest.sh (cached); SCRIPT and
# the --add files travel as a second cpio archive concatenated to it.
#
# Exit status: the script's own (the guest prints UNM-GUEST-RC=<n> on its
# console before powering off); 124 on timeout; 125 when QEMU failed or
# the guest stopped without a status; 2 when the image cannot be built
# for want of packages (build-guest.sh's 2; the caller may skip).
set -u

here=$(cd "$(dirname "$0")" && pwd)
usage() {
	sed -n '2,/^set -u$/p' "$0" | sed -e '/^set -u$/d' -e 's/^# \{0,1\}//'
}
die() { echo "run-guest: $*" >&2; exit 125; }

script= timeout_s=60 logfile= mem=256M append= pidfile=
adds=()
while [ $# -gt 0 ]; do
	case $1 in
	-h|--help) usage; exit 0 ;;
	--add) [ $# -ge 2 ] || die "--add needs a file"; adds+=("$2"); shift ;;
	--append) [ $# -ge 2 ] || die "--append needs arguments"; append="$append $2"; shift ;;
	--timeout) [ $# -ge 2 ] || die "--timeout needs seconds"; timeout_s=$2; shift ;;
	--log) [ $# -ge 2 ] || die "--log needs a file"; logfile=$2; shift ;;
	--mem) [ $# -ge 2 ] || die "--mem needs a size"; mem=$2; shift ;;
	--pidfile) [ $# -ge 2 ] || die "--pidfile needs a file"; pidfile=$2; shift ;;
	--) shift; break ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) [ -z "$script" ] || die "one script only ($script, $1)"; script=$1 ;;
	esac
	shift
done
[ -n "$script" ] || die "no script (see --help)"
[ -f "$script" ] || die "$script: no such file"
case $timeout_s in ''|*[!0-9]*) die "--timeout wants whole seconds" ;; esac
qemu=${QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null || die "$qemu is not installed (scripts/install-deps.sh)"
command -v cpio >/dev/null || die "cpio is not installed (scripts/install-deps.sh)"

img=$("$here/build-guest.sh")
rc=$?
[ "$rc" -eq 0 ] || { [ "$rc" -eq 2 ] && exit 2; die "build-guest.sh failed"; }
img=$(tail -n 1 <<<"$img")
[ -f "$img/vmlinuz" ] && [ -f "$img/base.cpio" ] || die "build-guest.sh gave no image ($img)"

tmp=$(mktemp -d /tmp/unetmap-guest.XXXXXX)
qpid=
cleanup() {
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
		kill -KILL "$qpid" 2>/dev/null
		wait "$qpid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# the per-run archive: /unm/run and the added files
mkdir -p "$tmp/root/unm"
install -m 755 "$script" "$tmp/root/unm/run"
for a in "${adds[@]}"; do
	src=${a%%=*}
	name=$(basename "$src")
	[ "$a" != "$src" ] && name=${a#*=}
	[ -f "$src" ] || die "$src: no such file"
	mkdir -p "$(dirname "$tmp/root/unm/$name")"
	cp -p "$src" "$tmp/root/unm/$name"
done
(cd "$tmp/root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$tmp/run.cpio" ||
	die "cpio failed"
# the kernel unpacks concatenated archives one after the other
cat "$img/base.cpio" "$tmp/run.cpio" >"$tmp/initrd"

console=${logfile:-$tmp/console.log}
: >"$console" || die "cannot write $console"
# One vCPU, but maxcpus=2: QEMU 7.2's TCG leaves out a guest's memory
# barriers when the machine can never have a second CPU, and then shared-
# memory protocols with the host (virtio's event index, our rings) lose
# wake-ups now and then (bench/vhost-vale.sh found it: stalled queues).
"$qemu" -machine q35 -accel tcg -cpu max -smp 1,maxcpus=2 -m "$mem" \
	-nographic -nodefaults -no-reboot -monitor none \
	-serial "file:$console" \
	-kernel "$img/vmlinuz" -initrd "$tmp/initrd" \
	-append "console=ttyS0 panic=-1 loglevel=4 $append" \
	"$@" </dev/null >"$tmp/qemu.out" 2>&1 &
qpid=$!
[ -n "$pidfile" ] && echo "$qpid" >"$pidfile"

deadline=$((SECONDS + timeout_s))
while kill -0 "$qpid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
	sleep 0.1
done
status=
if kill -0 "$qpid" 2>/dev/null; then
	kill -TERM "$qpid" 2>/dev/null
	for _ in $(seq 20); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	echo "run-guest: timeout after ${timeout_s}s, QEMU (pid $qpid) killed" >&2
	status=124
else
	wait "$qpid"
	qrc=$?
fi
qpid=

[ -z "$logfile" ] && tr -d '\r' <"$console"
if [ -z "$status" ]; then
	rcline=$(tr -d '\r' <"$console" | sed -n 's/^UNM-GUEST-RC=\([0-9]*\)$/\1/p' | tail -n 1)
	if [ -n "$rcline" ]; then
		status=$rcline
	else
		echo "run-guest: the guest stopped without a status (QEMU exit $qrc)" >&2
		sed 's/^/qemu: /' "$tmp/qemu.out" >&2
		status=125
	fi
elif [ -s "$tmp/qemu.out" ]; then
	sed 's/^/qemu: /' "$tmp/qemu.out" >&2
fi
exit "$status"

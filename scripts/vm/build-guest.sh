#!/usr/bin/env bash
# scripts/vm/build-guest.sh - build (or find in the cache) the kernel and
# base initramfs of unetmap's test guests, from Debian packages only.
#
# Usage: scripts/vm/build-guest.sh [-h|--help] [--force] [--clean]
#
#   --force   rebuild the entry even if it is cached
#   --clean   remove the whole cache and exit
#
# Prints the directory that holds `vmlinuz` and `base.cpio` (an
# uncompressed newc archive: busybox, /init, the kernel modules the guests
# need) on its last line of stdout.  Messages go to stderr.
#
# Environment:
#   UNETMAP_VM_CACHE    cache directory (default $XDG_CACHE_HOME/unetmap-vm,
#                       or /var/cache/unetmap-vm when XDG_CACHE_HOME is unset)
#   UNETMAP_VM_KERNEL   kernel image package (default: the package that
#                       linux-image-cloud-amd64 depends on, e.g.
#                       linux-image-6.1.0-57-cloud-amd64)
#   UNETMAP_VM_MODULES  extra modules to load at boot, by name
#
# The cache is keyed by the kernel and busybox package versions, the module
# list and this script's and /init's contents: a new kernel in the apt
# lists, or a change here, builds a new entry (the three newest are kept);
# otherwise nothing is done.
#
# Exit status: 0 built or cached; 2 a package could not be resolved or
# downloaded (no apt lists, no network: the caller may skip); 1 other
# errors.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
MODULES="virtio_pci virtio_net vfio vfio_pci vfio_iommu_type1 ${UNETMAP_VM_MODULES:-}"

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}
force=0
while [ $# -gt 0 ]; do
	case $1 in
	-h|--help) usage; exit 0 ;;
	--force) force=1 ;;
	--clean) clean=1 ;;
	*) echo "build-guest: unknown option $1 (see --help)" >&2; exit 1 ;;
	esac
	shift
done

if [ -n "${UNETMAP_VM_CACHE:-}" ]; then
	cache=$UNETMAP_VM_CACHE
elif [ -n "${XDG_CACHE_HOME:-}" ]; then
	cache=$XDG_CACHE_HOME/unetmap-vm
else
	cache=/var/cache/unetmap-vm
fi
if [ "${clean:-0}" = 1 ]; then
	rm -rf "$cache"
	echo "build-guest: removed $cache" >&2
	exit 0
fi

log() { echo "build-guest: $*" >&2; }
die2() { log "$*"; exit 2; }

for tool in apt-cache apt-get dpkg-deb depmod cpio; do
	command -v "$tool" >/dev/null || { log "$tool is missing (scripts/install-deps.sh)"; exit 1; }
done

# Resolve the packages and their candidate versions.  apt-cache takes
# ~0.6 s a call here (no pkgcache.bin), so the answer is remembered for as
# long as the apt lists do not change.
resolve() {
	local dep
	kpkg=${UNETMAP_VM_KERNEL:-}
	if [ -z "$kpkg" ]; then
		dep=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null) || true
		kpkg=$(sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' <<<"$dep" | head -n 1)
		[ -n "$kpkg" ] || die2 "cannot resolve linux-image-cloud-amd64 (apt-get update?)"
	fi
	# "pkg:" then "  Candidate: version" for each package apt knows
	policy=$(apt-cache policy "$kpkg" busybox-static 2>/dev/null) || true
	cand() {
		awk -v p="$1:" '/^[^ ]/ { cur = $1 } cur == p && $1 == "Candidate:" { print $2 }' \
			<<<"$policy"
	}
	kver=$(cand "$kpkg")
	bver=$(cand busybox-static)
	[ -n "${kver:-}" ] && [ "$kver" != "(none)" ] ||
		die2 "no version of $kpkg in the apt lists (apt-get update?)"
	[ -n "${bver:-}" ] && [ "$bver" != "(none)" ] ||
		die2 "no version of busybox-static in the apt lists (apt-get update?)"
}
mkdir -p "$cache"
lists=$( (echo "${UNETMAP_VM_KERNEL:-}"; stat -c '%n %Y %s' /var/lib/apt/lists/*Packages* 2>/dev/null) |
	sha256sum | cut -c1-16)
if [ -f "$cache/.resolved-$lists" ]; then
	read -r kpkg kver bver <"$cache/.resolved-$lists"
else
	resolve
	rm -f "$cache"/.resolved-*
	echo "$kpkg $kver $bver" >"$cache/.resolved-$lists"
fi

sum=$( (cat "$0" "$here/init.sh"; echo "$MODULES") | sha256sum | cut -c1-12)
key="${kpkg}_${kver}-busybox_${bver}-${sum}"
key=${key//[^A-Za-z0-9._+-]/_}
dir=$cache/$key

exec 9>"$cache/.lock"
# one builder at a time; a second one waits and then finds the entry
flock 9
if [ "$force" = 0 ] && [ -f "$dir/vmlinuz" ] && [ -f "$dir/base.cpio" ]; then
	echo "$dir"
	exit 0
fi

tmp=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "building $key"
(cd "$tmp" && apt-get download "$kpkg=$kver" "busybox-static=$bver") >"$tmp/apt.log" 2>&1 ||
	{ cat "$tmp/apt.log" >&2; die2 "cannot download $kpkg and busybox-static"; }
mkdir "$tmp/k" "$tmp/b" "$tmp/root"
dpkg-deb -x "$tmp"/linux-image-*.deb "$tmp/k"
dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/b"

krel=$(ls "$tmp/k/lib/modules")
[ -n "$krel" ] && [ -d "$tmp/k/lib/modules/$krel" ] || { log "no modules in $kpkg"; exit 1; }
cp "$tmp/k/boot/vmlinuz-$krel" "$tmp/vmlinuz"
# the package ships no modules.dep (its postinst makes it)
depmod -b "$tmp/k" "$krel"
mdir=$tmp/k/lib/modules/$krel

# modules.dep lines are "path: dep dep ..."; resolve each wanted module
# (names match with - and _ alike) and its dependencies, dependencies first
declare -A deps path_of seen
while IFS=: read -r p d; do
	n=$(basename "$p"); n=${n%%.ko*}; n=${n//-/_}
	path_of[$n]=$p
	deps[$p]=$d
done <"$mdir/modules.dep"
order=()
visit() {
	local p=$1 d
	[ -n "${seen[$p]:-}" ] && return 0
	seen[$p]=1
	for d in ${deps[$p]}; do visit "$d"; done
	order+=("$p")
}
for m in $MODULES; do
	m=${m//-/_}
	if grep -q -E "/${m//_/[-_]}\.ko" "$mdir/modules.builtin" 2>/dev/null; then
		continue	# built into the kernel
	fi
	[ -n "${path_of[$m]:-}" ] || { log "module $m is not in $kpkg"; exit 1; }
	visit "${path_of[$m]}"
done

r=$tmp/root
mkdir -p "$r/bin" "$r/etc" "$r/lib/modules" "$r/unm"
cp "$tmp/b/bin/busybox" "$r/bin/busybox"
install -m 755 "$here/init.sh" "$r/init"
: >"$r/etc/unm-modules"
for p in "${order[@]}"; do
	mkdir -p "$r/lib/modules/$(dirname "$p")"
	case $p in
	*.ko.xz)  xz -dc "$mdir/$p" >"$r/lib/modules/${p%.xz}"; p=${p%.xz} ;;
	*.ko.zst) zstd -q -dc "$mdir/$p" >"$r/lib/modules/${p%.zst}"; p=${p%.zst} ;;
	*)        cp "$mdir/$p" "$r/lib/modules/$p" ;;
	esac
	echo "$p" >>"$r/etc/unm-modules"
done
# uncompressed: decompressing under TCG costs more than reading it
(cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$tmp/base.cpio"
printf '%s\n' "kernel $kpkg $kver ($krel)" "busybox-static $bver" \
	"modules ${order[*]}" >"$tmp/INFO"

rm -rf "$dir"
mkdir "$dir"
mv "$tmp/vmlinuz" "$tmp/base.cpio" "$tmp/INFO" "$dir/"
# keep the three newest entries (older kernels, older versions of this
# script); users copy an entry's files as soon as they have its name
ls -1dt "$cache"/*/ 2>/dev/null | tail -n +4 | while read -r old; do rm -rf "$old"; done
log "$dir: $(wc -c <"$dir/vmlinuz") bytes of kernel, $(wc -c <"$dir/base.cpio") of initramfs"
echo "$dir"

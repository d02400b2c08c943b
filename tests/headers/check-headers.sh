#!/usr/bin/env bash
#
# check-headers.sh - every public header compiles alone, as C and as C++.
#
# Test objective: netmap programs include <net/netmap.h>,
# <net/netmap_user.h> (with or without NETMAP_WITH_LIBS) or <libnetmap.h>,
# VALE switch modules <unetmap/vale_module.h>,
# and build with -Wall -Wextra -Werror; each header must be self-contained,
# warning-free even when its static inline functions are unused, usable
# from C++, and protected by an include guard.
#
# Operations: for each header variant, compile
#   - a translation unit that includes only that header (twice: guard);
#   - a translation unit that also takes the address of every static
#     inline function (so that they are really compiled at -O2 and the
#     optimiser's warnings show up) and uses D(), RD() and ND();
# with every C compiler found (gcc, clang, $CC) in -std=c11 and -std=gnu11,
# and every C++ compiler found (g++, clang++, $CXX) in -std=c++11 and
# -std=c++17.
#
# Usage: check-headers.sh [INCLUDE_DIR]	(default: include)
# Exit status: 0 all compiled, 1 some failed (their compiler output is
# printed), 77 no compiler available (reason on the last line).

set -u

incdir=${1:-include}

if [ ! -f "$incdir/net/netmap.h" ]; then
	echo "check-headers: $incdir/net/netmap.h not found" >&2
	exit 1
fi

# C: -pedantic is kept.  The ABI's flexible array members (netmap_ring.slot,
# netmap_if.ring_ofs, the eventfds option) are standard C99/C11, the
# headers use no zero-length arrays, and GNU attributes/builtins
# (__attribute__, __atomic_*, __builtin_expect) are not pedantic errors.
CWARN=(-Wall -Wextra -Werror -Wunused-function -Wshadow -Wstrict-prototypes
       -Wmissing-prototypes -pedantic)
# C++: no -pedantic.  Flexible array members do not exist in ISO C++; they
# are a GNU extension that -pedantic rejects, and the netmap ABI needs them.
CXXWARN=(-Wall -Wextra -Werror -Wunused-function -Wshadow)

# compilers: the usual ones plus $CC/$CXX, each once
add_unique() {
	local list_name=$1 cand=$2 c
	[ -n "$cand" ] || return 0
	command -v "$cand" >/dev/null 2>&1 || return 0
	eval "for c in \"\${${list_name}[@]:-}\"; do [ \"\$c\" = \"\$cand\" ] && return 0; done"
	eval "${list_name}+=(\"\$cand\")"
}
CCS=()
CXXS=()
for c in gcc clang "${CC:-}"; do add_unique CCS "$c"; done
for c in g++ clang++ "${CXX:-}"; do add_unique CXXS "$c"; done

if [ ${#CCS[@]} -eq 0 ] && [ ${#CXXS[@]} -eq 0 ]; then
	echo "check-headers: no C or C++ compiler found (tried gcc clang g++ clang++ \$CC \$CXX)"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-headers.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# header variants: "label|defines (space separated)|header"
VARIANTS=(
	"netmap.h||net/netmap.h"
	"netmap_legacy.h||net/netmap_legacy.h"
	"netmap_virt.h||net/netmap_virt.h"
	"netmap_user.h||net/netmap_user.h"
	"netmap_user.h+LIBS|NETMAP_WITH_LIBS|net/netmap_user.h"
	"libnetmap.h||libnetmap.h"
	"libnetmap.h+NOTHREADSAFE|LIBNETMAP_NOTHREADSAFE|libnetmap.h"
	"unetmap/vale_module.h||unetmap/vale_module.h"
)

# write_tu FILE DEFINES HEADER USE
# USE=1 adds code that forces every static inline function to be emitted.
write_tu() {
	local file=$1 defines=$2 header=$3 use=$4 d
	{
		for d in $defines; do
			echo "#define $d"
		done
		echo "#include <$header>"
		echo "#include <$header>"
		# a header of macros only would leave an empty unit (-pedantic)
		echo "typedef int check_tu_not_empty;"
		if [ "$use" = 1 ]; then
			case $header in
			net/netmap_legacy.h)
				# declarations only: use the struct and ioctls
				cat <<'EOF'
unsigned long check_legacy(struct nmreq *r);
unsigned long check_legacy(struct nmreq *r)
{
	r->nr_flags = NR_REG_MASK;
	return (unsigned long)NIOCREGIF + NIOCGINFO + NIOCCONFIG + sizeof(struct nm_ifreq);
}
EOF
				;;
			net/netmap_virt.h)
				cat <<'EOF'
int check_virt(void);
int check_virt(void)
{
	return PTNETMAP_PCI_DEVICE_ID + PTNET_IO_KICK_BASE + PTNET_MDEV_IO_END;
}
EOF
				;;
			unetmap/vale_module.h)
				# what a module does with it (by assignment: C++
				# before C++20 has no designated initialisers)
				cat <<'EOF'
static uint32_t check_hub(const struct unm_vale_frame *f, uint8_t *dst_ring, void *priv)
{
	(void)priv;
	*dst_ring = (uint8_t)f->src_ring;
	return f->len >= 14 ? (uint32_t)NM_BDG_BROADCAST : (uint32_t)NM_BDG_NOPORT;
}
unsigned long check_module(struct unm_vale_module *m, const struct unm_vale_host *h,
			   struct nm_ifreq *req);
unsigned long check_module(struct unm_vale_module *m, const struct unm_vale_host *h,
			   struct nm_ifreq *req)
{
	m->abi = UNM_VALE_MODULE_ABI;
	m->size = sizeof(*m);
	m->lookup = check_hub;
	h->log(h, UNM_VALE_LOG_INFO, "%s %u", h->switch_name, h->max_ports);
	h->error(h, "%d", 1);
	h->synchronize(h);
	return sizeof(struct unm_vale_frame) + sizeof(UNM_VALE_MODULE_SYMBOL) + sizeof(req->data) +
	       (unsigned long)unm_vale_module.abi;
}
EOF
				;;
			net/netmap.h)
				cat <<'EOF'
typedef void (*check_fn_t)(void);
check_fn_t check_fn(int i);
check_fn_t check_fn(int i)
{
	static check_fn_t const fns[] = {
		(check_fn_t)nm_ring_empty,
		(check_fn_t)nm_stst_barrier,
		(check_fn_t)nm_ldld_barrier,
		(check_fn_t)nm_sync_kloop_appl_write,
		(check_fn_t)nm_sync_kloop_appl_read,
	};
	return fns[i];
}
EOF
				;;
			*)
				cat <<'EOF'
typedef void (*check_fn_t)(void);
check_fn_t check_fn(int i);
check_fn_t check_fn(int i)
{
	static check_fn_t const fns[] = {
		(check_fn_t)nm_ring_empty,
		(check_fn_t)nm_sync_kloop_appl_write,
		(check_fn_t)nm_sync_kloop_appl_read,
		(check_fn_t)nm_ring_next,
		(check_fn_t)nm_ring_space,
		(check_fn_t)nm_tx_pending,
		(check_fn_t)nm_pkt_copy,
#ifdef NETMAP_WITH_LIBS
		(check_fn_t)nm_open,
		(check_fn_t)nm_close,
		(check_fn_t)nm_mmap,
		(check_fn_t)nm_inject,
		(check_fn_t)nm_dispatch,
		(check_fn_t)nm_nextpkt,
#endif
	};
	return fns[i];
}

/* ND() must not compile its arguments; D() and RD() must accept a bare
 * format and a format with arguments */
int check_log(int n);
int check_log(int n)
{
	ND("%d", no_such_variable->no_such_field);
	ND("no arguments");
	D("no arguments");
	D("n = %d", n);
	RD(5, "no arguments");
	RD(5, "n = %d", n);
	return n;
}
EOF
				;;
			esac
		fi
	} > "$file"
}

ok=0
failed=0

# compile LABEL COMPILER ARGS... ; prints the output on failure
compile() {
	local label=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok=$((ok + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $label"
		echo "  command: $*"
		echo "$out" | sed 's/^/  | /'
	fi
}

for v in "${VARIANTS[@]}"; do
	IFS='|' read -r label defines header <<<"$v"
	for use in 0 1; do
		kind=alone
		[ "$use" = 1 ] && kind=used
		write_tu "$tmp/tu.c" "$defines" "$header" "$use"
		cp "$tmp/tu.c" "$tmp/tu.cc"
		for cc in "${CCS[@]}"; do
			for std in c11 gnu11; do
				compile "$label ($kind) $cc -std=$std" \
				    "$cc" -std="$std" -O2 "${CWARN[@]}" \
				    -I"$incdir" -c "$tmp/tu.c" -o "$tmp/tu.o"
			done
		done
		for cxx in "${CXXS[@]}"; do
			for std in c++11 c++17; do
				compile "$label ($kind) $cxx -std=$std" \
				    "$cxx" -std="$std" -O2 "${CXXWARN[@]}" \
				    -I"$incdir" -c "$tmp/tu.cc" -o "$tmp/tu.o"
			done
		done
	done
done

compilers="${CCS[*]:-} ${CXXS[*]:-}"
if [ "$failed" -ne 0 ]; then
	echo "check-headers: $failed of $((ok + failed)) compilations failed (compilers: ${compilers# })"
	exit 1
fi
echo "check-headers: $ok compilations ok (compilers: ${compilers# })"
exit 0

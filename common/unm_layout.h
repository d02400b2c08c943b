/*
 * unm_layout.h - what lives inside a unetmap memory region, beyond netmap's
 * own structures.  Shared by netmapd (which lays regions out) and libnetmap
 * (which syncs rings inside them).  Not a public header.
 *
 * A region is one memfd, mapped by every party that needs it, possibly at
 * different addresses: nothing in it is a pointer, everything an offset.
 *
 *   offset 0        if-pool:   struct unm_region_hdr in the first unit, then
 *                              struct netmap_if objects (one per binding)
 *   ring_pool_ofs   ring-pool: ring objects, each
 *                                struct unm_ring_ctl   (256 bytes)
 *                                struct netmap_ring    (256 bytes + slots)
 *   buf_pool_ofs    buf-pool:  buf_total buffers of buf_size bytes;
 *                              indices 0 and 1 are reserved, as in netmap.
 *
 * Every party other than netmapd treats the region as hostile: the
 * application that owns a ring may write anything anywhere in it.  Values
 * read from shared memory are read once into locals and validated against
 * geometry that came from netmapd over the control socket, never against
 * geometry read back from the region itself.
 */
#ifndef UNM_LAYOUT_H
#define UNM_LAYOUT_H

#include <stdatomic.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <net/netmap.h>

#define UNM_REGION_MAGIC    0x524d4e55u	/* "UNMR" little-endian */
#define UNM_REGION_VERSION  1u

/*
 * The memfd behind a region is larger than the region: a power of two
 * (QEMU's ivshmem maps the whole file as a PCI BAR, which must be one),
 * with at least UNM_REGION_TAIL bytes past the region's end.  The tail is
 * what a passthrough export uses (unm_vm.h: the guest's own area and the
 * descriptor); it and the padding stay untouched, and cost nothing, in a
 * region that is never exported (memfds are sparse).
 */
#define UNM_REGION_TAIL     (2u << 20)

static inline uint64_t unm_region_file_size(uint64_t region_size)
{
	uint64_t need = region_size + UNM_REGION_TAIL, f = 1u << 22;

	while (f < need)
		f <<= 1;
	return f;
}

/* Allocation unit of the if- and ring-pools; netmap rings are 128-aligned. */
#define UNM_POOL_UNIT       128u

/* Informational header at offset 0, written by netmapd only.  Nobody reads
 * it back for decisions (see above); it lets a debugger, or a guest that
 * receives the region through ivshmem, find its way around. */
struct unm_region_hdr {
	uint32_t magic;
	uint32_t version;
	uint16_t mem_id;
	uint16_t pad0[3];
	uint64_t size;
	uint64_t if_pool_ofs, if_pool_size;
	uint64_t ring_pool_ofs, ring_pool_size;
	uint64_t buf_pool_ofs;
	uint32_t buf_size, buf_total;
};

/*
 * unm_ring_ctl - the control block beside each netmap_ring.
 *
 * netmap's ring has fields the application owns (head, cur, flags) and
 * fields the kernel owns (tail).  The kernel's private per-ring state
 * ("kring": hwcur, hwtail, ...) has no place in the ring itself; here it
 * lives in this block so that every process bound to the ring shares it,
 * as every fd bound to a kernel ring shares the kring.
 *
 * Lines 0 and 3 are written by the sync code of the processes bound to
 * this ring (line 3 under `lock`).  Line 1 is written by the ring's
 * "hardware" (netmapd's switch, a NIC engine, a monitor's producers); a
 * pipe's hardware is the peer end's sync code, which reads the peer's
 * line 0 instead.  Line 2 is written by netmapd.
 *
 * Cross-party protocol (Dekker with event suppression, as in virtio):
 *   producer:  store index (release); full fence; if sleep flag: xchg it
 *              to 0 and write the sleeper's eventfd.
 *   sleeper:   store sleep flag; full fence; re-read the index; only then
 *              block.
 * So no system call happens while both sides keep up with each other.
 */
struct unm_ring_ctl {
	/* line 0: what the application side publishes to the other side */
	_Atomic uint32_t app_idx;	/* TX: slots before it are handed over
					 * (== hwcur).  RX: slots before it are
					 * released to the producer (== hwcur). */
	_Atomic uint32_t app_sleep;	/* a binder is about to block on this
					 * ring: the other side kicks after its
					 * next publish, and clears it (xchg) */
	_Atomic uint32_t link_ack;	/* veth RX rings: what the binders have
					 * made of the last link_gen (unm_veth.h) */
	uint8_t  pad0[64 - 3 * 4];

	/* line 1: hardware side */
	_Atomic uint32_t hw_idx;	/* TX: slots before it are consumed.
					 * RX: slots before it are filled. */
	_Atomic uint32_t hw_sleep;	/* hardware is idle: kick it on publish */
	/* A monitor's RX rings have several producers: every process that
	 * syncs a monitored ring, and netmapd's switch.  They share the
	 * hardware role through a try-lock and count what they could not
	 * mirror (common/unm_mon.c).  All of it lives in the monitor's
	 * memory: the monitor can falsify it, which only misleads itself. */
	_Atomic uint64_t hw_lock;	/* 0 free, else the producer holding
					 * it (unm_owner_self()) */
	_Atomic uint64_t hw_pkts;	/* frames mirrored */
	_Atomic uint64_t hw_drops;	/* frames not mirrored: ring full */
	_Atomic uint64_t hw_busy;	/* frames not mirrored: hw_lock held */
	uint8_t  pad1[64 - 2 * 4 - 4 * 8];

	/* line 2: netmapd; every sync reads it */
	_Atomic uint32_t state;		/* UNM_RING_* flags */
	_Atomic uint32_t mon_gen;	/* bumped when the monitors this ring
					 * feeds change: its binders ask netmapd
					 * for the new list (lib/mon.c); beside
					 * state, it costs a sync no other line */
	_Atomic uint32_t link_gen;	/* veth ports: bumped when the port is
					 * linked to its peer's rings or goes back
					 * to AF_XDP (common/unm_veth.h) */
	uint8_t  pad2[64 - 3 * 4];

	/* line 3: private to the binders' sync code, under lock; kept apart
	 * from line 0 so that the other side's reads of app_idx do not
	 * bounce the line every sync writes */
	_Atomic uint64_t lock;		/* 0 free, else the sync owner:
					 * pid | start time << 32 (sync.c) */
	uint32_t hwcur;			/* netmap's kring state, shared by all */
	uint32_t hwtail;		/*   binders of the ring */
	uint32_t rhead;			/* head/cur validated at the last sync */
	uint32_t rcur;
	uint32_t errors;		/* prologue violations seen */
	uint32_t kx[4];			/* per-kind sync state (NIC rings:
					 * AF_PACKET receive cursor) */
	uint8_t  pad3[64 - 8 - 9 * 4];
};

/* ctl->state bits (written by netmapd) */
#define UNM_RING_PEER_GONE  0x1u	/* the other side was bound and no
					 * longer is: nothing more will come */
#define UNM_RING_DEV_DOWN   0x2u	/* NIC: the interface is down; syncs
					 * fail with ENETDOWN until it is up */
#define UNM_RING_DEV_GONE   0x4u	/* NIC: the interface was deleted (or
					 * left the namespace); syncs fail
					 * with ENXIO */
#define UNM_RING_REVOKED    0x8u	/* the binding was taken away (its grant
					 * revoked): syncs fail with ENXIO,
					 * poll() says POLLERR */
#define UNM_RING_ORPHAN     0x10u	/* monitor: the monitored port left
					 * netmap mode; rxsync fails with EIO
					 * (after handing over what came) */

#define UNM_RING_CTL_SIZE   256u
#define UNM_RING_HDR_SIZE   256u	/* offsetof(struct netmap_ring, slot) */

_Static_assert(sizeof(struct unm_ring_ctl) == UNM_RING_CTL_SIZE, "ctl size");

/* Size of a ring object (control block + netmap ring + slots). */
static inline size_t unm_ring_obj_size(uint32_t nslots)
{
	size_t s = UNM_RING_CTL_SIZE + UNM_RING_HDR_SIZE +
		   (size_t)nslots * sizeof(struct netmap_slot);
	return (s + UNM_POOL_UNIT - 1) & ~(size_t)(UNM_POOL_UNIT - 1);
}

/* The control block of a ring, which sits right before it. */
static inline struct unm_ring_ctl *unm_ring_ctl(const struct netmap_ring *r)
{
	return (struct unm_ring_ctl *)((char *)(uintptr_t)r - UNM_RING_CTL_SIZE);
}

/* Size of a netmap_if for a port with these ring counts (host rings: the
 * one "fake" ring per direction netmap always shows). */
static inline size_t unm_nifp_size(uint32_t ntx, uint32_t nrx)
{
	return sizeof(struct netmap_if) + sizeof(ssize_t) * (ntx + 1 + nrx + 1);
}

/* Direction index used by unetmap's own arrays and on the wire.  (netmap's
 * ring->dir field holds the kernel's values: 1 for TX, 0 for RX.) */
#define UNM_DIR_TX 0
#define UNM_DIR_RX 1
#define UNM_NETMAP_DIR(d) ((d) == UNM_DIR_TX ? 1 : 0)

/* Circular index helpers over a ring of n slots. */
static inline uint32_t unm_idx_dist(uint32_t from, uint32_t to, uint32_t n)
{
	return to >= from ? to - from : to + n - from;
}

static inline uint32_t unm_idx_add(uint32_t i, uint32_t k, uint32_t n)
{
	i += k;
	return i >= n ? i - n : i;
}

static inline uint32_t unm_idx_prev(uint32_t i, uint32_t n)
{
	return i == 0 ? n - 1 : i - 1;
}

/* Is x within the circular interval [lo, hi] of a ring of n slots? */
static inline int unm_idx_between(uint32_t lo, uint32_t x, uint32_t hi, uint32_t n)
{
	return x < n && unm_idx_dist(lo, x, n) <= unm_idx_dist(lo, hi, n);
}

#endif /* UNM_LAYOUT_H */

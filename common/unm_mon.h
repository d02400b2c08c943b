/*
 * unm_mon.h - monitor ports: the control requests about them, and the
 * code that mirrors frames into a monitor's rings, which libnetmap (in
 * the monitored application's syncs) and netmapd (in the VALE switch)
 * share.  Not a public header, but UNM_REQ_MON_STATS is unetmap's own
 * extension to netmap's control API, for tools (nm-dump, vale-ctl -M).
 *
 * Who mirrors: whoever runs the monitored ring's sync.  A copy monitor
 * gets TX frames at the monitored txsync, before they are handed over,
 * and RX frames at the monitored rxsync as they come in (on a VALE port:
 * when the switch delivers them, so the monitor sees them even if the
 * port never reads).  A zero-copy monitor gets buffers swapped in when the
 * monitored side gives slots up: TX slots the txsync reclaimed, RX slots
 * the application released.  Frames seen on a TX ring carry NS_TXMON.
 *
 * The producers of one monitor RX ring (threads and processes syncing
 * the monitored rings, the switch) exclude each other with the try-lock
 * ctl.hw_lock; a producer that finds it taken does not wait: its frames
 * are not mirrored (counted in hw_busy).  A full ring drops the oldest of
 * the new frames and keeps the newest (hw_drops), as netmap does.  So a
 * monitor, whatever it writes in its own memory, can make its mirror
 * lossy but never stall or corrupt the monitored port (copy monitors
 * share no memory with it; zero-copy monitors share the region and are
 * trusted as a pipe peer is).
 */
#ifndef UNM_MON_H
#define UNM_MON_H

#include <stdint.h>
#include <net/netmap.h>

#include "unm_layout.h"

/*
 * UNM_REQ_MON_STATS - counters of monitor ports.  An ordinary NIOCCTRL
 * request (body struct unm_mon_stats):
 *   - body.flags UNM_MON_SELF: the monitor this descriptor is bound to
 *     (EINVAL if it is not bound to a monitor);
 *   - otherwise an enumeration, as VALE_LIST's: the first monitor at or
 *     after position body.idx, of port hdr.nr_name (every monitor if the
 *     name is empty); idx is set to its position (ask again with idx + 1);
 *     ENOENT when there is none left.  A name no open port has: ENXIO.
 * Counters start at zero with the monitor and only grow; they are read
 * without stopping anybody.
 */
#define UNM_REQ_MON_STATS	0x7e05

#define UNM_MON_SELF	0x1u	/* in: this descriptor's monitor */
#define UNM_MON_ORPHAN	0x2u	/* out: its port left netmap mode */

struct unm_mon_stats {
	uint32_t idx;		/* in/out: enumeration position */
	uint32_t flags;		/* in: UNM_MON_SELF; out: UNM_MON_ORPHAN */
	uint64_t nr_flags;	/* out: NR_MONITOR_TX, NR_MONITOR_RX,
				 * NR_ZCOPY_MON as registered */
	uint64_t pkts;		/* frames mirrored into its rings */
	uint64_t drops;		/* frames not mirrored because its ring was
				 * full (the oldest new ones) */
	uint64_t busy;		/* frames not mirrored because another
				 * producer held its ring */
	char name[NETMAP_REQ_IFNAMSIZ];		/* "pipe{1/rt#3" */
	char parent[NETMAP_REQ_IFNAMSIZ];	/* the monitored port */
};

_Static_assert(sizeof(struct unm_mon_stats) % 8 == 0, "request bodies are 8-byte multiples");

/*
 * UNM_REQ_MON_TARGETS - libnetmap asks, for one ring its descriptor
 * binds, which monitor rings that ring feeds.  Sent by the sync code when
 * the ring's ctl.mon_gen changed; not for applications.  The reply's body
 * is followed by `ntargets` struct unm_mon_target and their descriptors.
 * netmapd remembers what each binding was told, to know when nobody can
 * still write into a departed zero-copy monitor's memory.
 */
#define UNM_REQ_MON_TARGETS	0x7e06

struct unm_mon_targets {
	uint16_t dir;		/* in: UNM_DIR_* of the ring */
	uint16_t ringid;	/* in */
	uint32_t ntargets;	/* out */
};

#define UNM_MON_T_COPY  0x1u	/* copy the frames (else swap buffers) */
#define UNM_MON_T_CHAIN 0x2u	/* the ring is a zero-copy monitor's, feeding
				 * the next one: flags pass unchanged */
#define UNM_MON_MAX_TARGETS 24u	/* per ring: two descriptors each */

struct unm_mon_target {
	uint64_t region_id;	/* wire id of the monitor's region */
	uint64_t region_size;
	uint64_t buf_pool_ofs;
	uint64_t ring_ofs;	/* the monitor's RX ring */
	uint32_t nslots;
	uint32_t buf_size;
	uint32_t buf_total;
	uint16_t flags;		/* UNM_MON_T_* */
	int16_t  memfd;		/* index of the region's memfd in the
				 * passed descriptors */
	int16_t  wake_fd;	/* index of the eventfd the monitor's RX
				 * sleepers wait on */
	uint16_t pad[3];
};

/* ---- mirroring (unm_mon.c) ---- */

/* A monitor RX ring as one producer sees it: pointers into the
 * producer's own mapping, geometry the producer trusts (from netmapd). */
struct unm_mon_ring {
	struct netmap_ring *ring;
	struct unm_ring_ctl *ctl;
	char *bufs;			/* buffer 0 of the monitor's region */
	uint32_t n;			/* slots */
	uint32_t buf_size, buf_total;
	uint16_t flags;			/* UNM_MON_T_* */
	int wake_fd;			/* -1: nobody to wake */
	uint64_t busy_owner;		/* hw_lock: the other owner seen, */
	uint64_t busy_since;		/*   and since when (private) */
};

/* The ring being mirrored, as its sync owner sees it (geometry trusted). */
struct unm_mon_src {
	struct netmap_ring *ring;
	char *bufs;			/* buffer 0 of its region */
	uint32_t n;
	uint32_t buf_size, buf_total;
	uint16_t txmon;			/* NS_TXMON for a TX ring, else 0 */
};

/*
 * unm_mon_copy - copy the frames in slots [from, to) of src into m
 * (UNM_MON_T_COPY targets).
 * unm_mon_swap - swap the buffers of slots [from, to) of src with free
 * slots of m (zero-copy targets, same region): the monitor gets the
 * frames, src gets the monitor's buffers (NS_BUF_CHANGED).
 * Both run with src's sync lock held (or the switch's ring lock), never
 * block, and read what the monitor wrote once and validated.  `me` is the
 * caller's owner id (unm_owner_self()).
 */
void unm_mon_copy(struct unm_mon_ring *m, const struct unm_mon_src *src, uint32_t from,
		  uint32_t to, uint64_t me);
void unm_mon_swap(struct unm_mon_ring *m, const struct unm_mon_src *src, uint32_t from,
		  uint32_t to, uint64_t me);

#endif /* UNM_MON_H */

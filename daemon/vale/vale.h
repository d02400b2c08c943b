/*
 * vale.h - the VALE switch inside netmapd: what vale.c (registry and
 * control requests) and vale_fwd.c (forwarding threads) share.  Nothing
 * else includes it; the rest of netmapd sees the nmd_vale_* hooks of
 * nmd.h.
 *
 * Who touches what
 * ----------------
 * The main thread (netmapd's event loop) is the only one that creates,
 * changes and destroys switches and ports.  Forwarding threads only read
 * the registry, through the few fields marked "published" below, and write
 * ring state and counters.  A published object is freed only after a
 * grace period (vale_fwd_sync): every forwarding thread has since passed
 * a quiescent point (between two rounds over its ports) or slept, so none
 * still holds a pointer to it.  This is quiescent-state-based RCU: the
 * data path takes no lock to look up a port and never waits for the
 * control path.
 *
 * A switch's forwarding logic (vale_switch.mod: a module, or NULL for the
 * built-in learning bridge) is published the same way: a thread reads it
 * once per batch, and the main thread finishes a module it replaced only
 * after a grace period (vale_mod.c).  A module's own callbacks run on
 * both kinds of thread; include/unetmap/vale_module.h says which.
 *
 * A port's TX rings are served by exactly one thread (vale_port.thr), so
 * TX-side state needs no lock.  Several threads may deliver into the same
 * RX ring; each RX ring has a spin lock held while a thread reserves,
 * fills and publishes slots in it.  A thread never holds two RX ring locks
 * at once, so there is no lock order to respect.
 */
#ifndef NMD_VALE_H
#define NMD_VALE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "nmd.h"
#include "unm_mon.h"
#include "unetmap/vale_module.h"
#include "unm_vale.h"

#define VALE_MAX_SWITCHES  256	/* netmap: 8 */
#define VALE_MAX_PORTS     4096	/* per switch; netmap: 254 (252 usable) */
#define VALE_MAX_RINGS     16	/* per direction, as netmap */
#define VALE_MAX_SLOTS     4096
#define VALE_DEF_SLOTS     1024
#define VALE_MAX_EXTRA     (128u * 4096u)	/* extra buffers per port, as netmap */
#define VALE_NAMSIZ        16	/* switch names, port names, persistent names
				 * are shorter than IFNAMSIZ, as in netmap */
#define VALE_MAC_BITS      13	/* learning table: 8192 entries per switch */
#define VALE_BATCH         1024	/* most slots taken from a TX ring per round */
#define VALE_DEF_BATCH     256	/* default (--vale-batch) */

/* netmap's VALE_LIST reports a missing port as NM_BDG_NOPORT (255) and its
 * lookup functions use 254 for "broadcast": those two indices are never
 * given to a port, so they keep their meaning with more than 254 ports. */
static inline int vale_idx_reserved(uint32_t i)
{
	return i == NM_BDG_BROADCAST || i == NM_BDG_NOPORT;
}

/* A TX ring as the switch sees it.  Written by the port's thread only. */
struct vale_txq {
	struct netmap_ring *ring;	/* in the port's region */
	struct unm_ring_ctl *ctl;
	uint32_t n;			/* trusted slot count */
	uint16_t id;
	uint32_t cons;			/* slots before it are consumed: the
					 * last hw_idx we published */
	uint32_t bad;			/* last impossible app_idx seen */
	_Atomic uint64_t pkts, bytes, drops, errors;	/* read by stats */
};

/* An RX ring as the switch sees it.  Fields below `lock` are protected by
 * it (any forwarding thread may deliver here). */
struct vale_rxq {
	_Atomic uint32_t lock;		/* 0 free, 1 held */
	uint32_t fill;			/* slots before it are filled: the last
					 * hw_idx we published */
	uint32_t rel;			/* the last valid app_idx we read */
	_Atomic uint64_t pkts, bytes, drops, errors;	/* read by stats */
	/* immutable while published */
	struct netmap_ring *ring;
	struct unm_ring_ctl *ctl;
	uint32_t n;
	_Atomic uint32_t bound;		/* main: some descriptor binds the ring */
	/* published by the main thread (vale_mon_changed), used under lock:
	 * the copy monitors of this ring, which get what is delivered */
	struct vale_mon *_Atomic mon;
} __attribute__((aligned(64)));

/* Copy monitors of an RX ring (monitor/monitor.c says which): immutable
 * once published, except each entry's private lock bookkeeping, which
 * the holder of the RX ring's lock updates. */
struct vale_mon {
	unsigned n;
	struct unm_mon_ring t[];
};

struct vale_switch;
struct vale_thread;
struct nmd_vu_dev;

/*
 * What makes a switch port a VM port (vhost-user; the device and its
 * socket belong to vm/vhost_port.c): the guest's virtqueues play the
 * port's rings.  Such a port has no netmap rings (ntx 0) and one rxq
 * that holds no ring, only the lock under which threads deliver into the
 * guest and the receive counters.  `dev` is immutable while the port is
 * published.
 */
struct vale_vm {
	struct nmd_vu_dev *dev;
	/* 1 while the device changes what the data path uses (vhost_user.h
	 * pause/resume): threads leave it alone.  Written by main. */
	_Atomic uint32_t paused;
	/* frames the guest transmitted: forwarded, dropped by the switch
	 * (the thread serving the port writes; stats read) */
	_Atomic uint64_t pkts, bytes, drops;
};

/* Verdict counters of a switch's forwarding logic (vale-ctl --module). */
enum { VALE_V_UNICAST, VALE_V_BCAST, VALE_V_DROP, VALE_V_INVALID, VALE_V_N };

/*
 * A module loaded into one switch (vale_mod.c; the ABI is
 * include/unetmap/vale_module.h).  Published through vale_switch.mod:
 * the fields above `verdicts` are immutable while it is; the rest is the
 * main thread's.  It is freed (fini, dlclose) only after a grace period
 * that follows its unpublishing.
 */
struct vale_mod {
	uint32_t (*lookup)(const struct unm_vale_frame *f, uint8_t *dst_ring, void *priv);
	void (*lookup_batch)(struct unm_vale_frame *f, unsigned int n, void *priv);
	void *priv;
	/* added to once per batch by every forwarding thread */
	_Atomic uint64_t verdicts[VALE_V_N] __attribute__((aligned(64)));
	/* rate limit of host->log from forwarding threads (vale_mod.c) */
	_Atomic long log_sec;
	_Atomic unsigned log_lines;
	/* main thread only */
	struct unm_vale_module ops;	/* the module's, missing tail zeroed */
	struct unm_vale_host host;
	void *dl;			/* dlopen() handle */
	char path[1024], args[512], name[64];
};

struct vale_port {
	struct nmd_port port;		/* what request.c binds; p->name is the
					 * full name ("vale0:a"; a persistent
					 * port attached nowhere: "v0") */
	/* published: read by forwarding threads */
	struct vale_switch *_Atomic sw;	/* NULL: in no switch */
	uint32_t idx;			/* index in sw; set before sw */
	_Atomic uint32_t hdr_len;	/* virtio-net header length */
	/* immutable while published */
	char *buf_base;			/* region base + buffer pool offset */
	uint32_t buf_size, buf_total;	/* trusted region geometry */
	uint32_t ntx, nrx;
	struct vale_txq *txq;
	struct vale_rxq *rxq;		/* nrx entries, 64-byte aligned */
	struct vale_thread *thr;	/* serves the TX rings */
	struct vale_vm *vm;		/* a VM port, NULL for others */
	/* main thread only */
	bool persistent;		/* created by NETMAP_REQ_VALE_NEWIF */
	char pname[VALE_NAMSIZ];	/* persistent: its own name ("v0") */
	int holds;			/* pipe parents built on the port */
	struct vale_port *next;		/* every VALE port */
};

struct vale_switch {
	char name[VALE_NAMSIZ];		/* "vale0" */
	uint16_t idx;			/* bridge index (VALE_LIST) */
	uint32_t nports;		/* main only */
	/* published */
	_Atomic uint32_t hi;		/* 1 + the highest index in use */
	struct vale_port *_Atomic port[VALE_MAX_PORTS];
	/* the forwarding logic: a module, or NULL for the built-in
	 * learning bridge below; read once per batch */
	struct vale_mod *_Atomic mod;
	/* the built-in bridge's verdicts, as vale_mod.verdicts */
	_Atomic uint64_t verdicts[VALE_V_N];
	/* learning table: (MAC << 16) | (port index + 1), 0 = empty;
	 * written by every thread forwarding from a port of this switch */
	_Atomic uint64_t mac[1u << VALE_MAC_BITS];
};

#define VALE_PORT(p) ((struct vale_port *)(void *)((char *)(p) - \
			offsetof(struct vale_port, port)))

/* ---- forwarding threads (vale_fwd.c), called by the main thread ---- */

/* Start the configured threads if they are not running.  0 or -errno. */
int vale_fwd_start(void);
/* Stop and join every thread (netmapd is exiting; no port is left). */
void vale_fwd_stop(void);
/* Hand a new port's TX rings to the least loaded thread and publish it. */
int vale_fwd_add(struct vale_port *vp);
/* Unpublish a port from its thread; a vale_fwd_sync() must follow before
 * the port is freed. */
void vale_fwd_del(struct vale_port *vp);
/* Free `ptr` at the end of the next grace period. */
void vale_fwd_defer_free(void *ptr);
/* Wait for a grace period: no forwarding thread holds a pointer it read
 * from a published field before this call.  Then frees deferred memory. */
void vale_fwd_sync(void);
/* Sum of the port's counters. */
void vale_fwd_stats(const struct vale_port *vp, uint64_t out[7]);
/* Make the thread serving vp look at it again (a VM port resumed: its
 * kick state may have changed while the thread slept). */
void vale_fwd_wake(const struct vale_port *vp);
/* Is the caller a forwarding thread? */
bool vale_fwd_on_thread(void);

/* ---- modules (vale_mod.c), called by the main thread ---- */

/* Load the module at `path` (absolute) into sw, replacing what runs
 * there.  0, or -errno with the reason in msg; then sw is unchanged. */
int vale_mod_load(struct vale_switch *sw, const char *path, const char *args, char *msg,
		  size_t msglen);
/* Back to the built-in learning bridge (with an empty table). */
void vale_mod_unload(struct vale_switch *sw);
/* What runs in sw, with its counters. */
void vale_mod_info(const struct vale_switch *sw, struct unm_vale_module_req *out);
/* NIOCCONFIG for sw.  0 or -errno, with the reason in msg. */
int vale_mod_config(struct vale_switch *sw, struct nm_ifreq *req, char *msg, size_t msglen);
/* Port vp (idx set, not yet published) joins sw / port idx left sw and a
 * grace period has passed. */
void vale_mod_port_attach(struct vale_switch *sw, const struct vale_port *vp);
void vale_mod_port_detach(struct vale_switch *sw, uint32_t idx, const char *name);

#endif /* NMD_VALE_H */

/*
 * vu_dev.h - the device structure shared by the protocol side
 * (vhost_user.c) and the data path (vu_net.c).  Internal to daemon/vm.
 *
 * Who writes what:
 *   protocol thread: everything outside "data path" below, only while the
 *     data path is paused or cannot be inside the device (vhost_user.h);
 *     q->dp is its publication point (release store);
 *   data path (one thread per queue at a time): the queue's vq indices,
 *     scratch, counters (single writer: relaxed load + store), and the
 *     device's broken state (atomics; cleared by the protocol while paused).
 */
#ifndef NMD_VU_DEV_H
#define NMD_VU_DEV_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "vhost_user.h"
#include "virtq.h"
#include "vu_proto.h"

/* q->dp bits */
#define UNM_VU_DP_RUN	1u	/* started: rings translated, memory mapped */
#define UNM_VU_DP_ON	2u	/* enabled (SET_VRING_ENABLE) */

#define UNM_VU_TX_SEGS	(16 * UNM_VQ_MAX_SEGS)	/* segments one tx burst holds */
#define UNM_VU_RX_SEGS	(4 * UNM_VQ_MAX_SEGS)	/* segments one rx frame may use */
#define UNM_VU_RX_CHAINS 256			/* buffers one rx frame may use */

/* At most UNM_VU_RL_BURST lines per second; the rest are counted and
 * reported with the next line that gets through. */
#define UNM_VU_RL_BURST 5
struct nmd_vu_rl {
	struct timespec start;
	uint32_t lines, suppressed;
};

struct nmd_vu_queue {
	struct nmd_vq vq;
	_Atomic uint32_t dp;		/* UNM_VU_DP_*: published state */
	/* data path copies of negotiated values (set with dp) */
	uint32_t hdr_len;
	bool mrg;
	/* eventfds, -1 if none */
	int kick, call, err;
	/* protocol state */
	uint32_t num;			/* 0: not set */
	uint16_t base;			/* where to start (SET_VRING_BASE) */
	bool addr_set;
	struct nmd_vu_addr addr;
	bool kick_set;			/* SET_VRING_KICK received: start */
	bool started;
	bool enabled;
	/* data path scratch */
	struct nmd_vu_seg *seg;		/* tx: UNM_VU_TX_SEGS; rx: UNM_VU_RX_SEGS */
	struct nmd_vq_chain *chain;	/* tx: NMD_VU_BURST; rx: UNM_VU_RX_CHAINS */
	unsigned npeek;			/* tx: chains taken, not yet returned */
	unsigned segs_used;		/* tx: their segments */
	_Atomic uint64_t pkts, bytes, drops, errors;
	struct nmd_vu_rl rl;		/* data path log lines */
};

/* A message being received: header, then payload; the descriptors that
 * came with it. */
struct nmd_vu_in {
	struct nmd_vu_hdr hdr;
	union nmd_vu_payload pl;
	uint32_t got;			/* bytes of header + payload so far */
	int fds[UNM_VU_MAX_FDS];
	unsigned nfds;
};

struct nmd_vu_dev {
	char name[64];
	char path[108];			/* sun_path */
	bool client;
	struct nmd_vu_ops ops;
	void *arg;
	const int *log_level;
	uint64_t offer;			/* virtio features offered */
	uint64_t pf_offer;		/* protocol features offered */
	int ep;				/* epoll: listen, connection, timer */
	int lfd, cfd, tfd;		/* listening socket, connection, timer */
	int wfd;			/* epoll of the kick fds (wait fd) */
	unsigned backoff_ms, backoff_min, backoff_max;
	struct nmd_vu_in in;
	/* negotiated state, reset with each connection */
	uint64_t features;
	uint64_t pfeatures;
	bool owner;
	uint8_t status;
	_Atomic uint16_t mtu;
	struct nmd_vu_mem mem;
	bool paused;
	bool changed;			/* call ops.changed after this message */
	struct nmd_vu_queue q[NMD_VU_NQUEUES];
	/* broken: written by the data path, cleared by the protocol */
	_Atomic bool broken;
	const char *_Atomic broken_why;
	_Atomic uint64_t breaks;
	uint64_t connections, bad_msgs;
	struct nmd_vu_rl rl;		/* protocol log lines */
};

/* vhost_user.c: log a line (rate-limited when rl is not NULL) */
void nmd_vu_log(struct nmd_vu_dev *d, struct nmd_vu_rl *rl, int level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* NMD_VU_DEV_H */

/*
 * pkt-gen -- run-time state shared by pkt-gen.c (set-up, threads,
 * reports) and bodies.c (the per-function loops).
 */
#ifndef UNM_PKTGEN_RUN_H
#define UNM_PKTGEN_RUN_H

#include <pthread.h>
#include <time.h>

#include <libnetmap.h>

#include "pktgen.h"

#define PG_STATS_WIN	15	/* -A window, in reports */
#define PG_CACHELINE	64

/*
 * Counters of one thread.  Written by that thread only (relaxed stores,
 * one batch at a time); the main thread reads them for the periodic
 * report (relaxed loads: a report may mix two batches, never a torn
 * value).  min_space is reset by the main thread after each report.
 */
struct pg_ctrs {
	uint64_t pkts, bytes, events;
	uint64_t min_space;
};

struct pg_glob;

/* One worker thread: its own port descriptor, rings, counters. */
struct pg_targ {
	struct pg_ctrs ctr;		/* own cache line: hot, shared with main */
	char pad_[PG_CACHELINE - sizeof(struct pg_ctrs)];

	struct pg_glob *g;
	int cancel;			/* set by the signal handler / main */
	int used;			/* the thread is running */
	int started;			/* pthread_create() succeeded */
	int completed;			/* the body reached its normal end */
	int me;
	int fd;
	int hup_said;			/* "the other end is closed" printed */
	int affinity;			/* cpu, or -1 */
	struct nmport_d *nmd;		/* NULL for the dummy device */
	pthread_t thread;
	struct timespec tic, toc;	/* CLOCK_MONOTONIC, first/last packet */

	uint8_t *pkt;			/* private copy of the template frame */
	struct pg_addr_iter it;
	uint64_t rng;
	unsigned frags, frag_size;
	uint8_t *scratch;		/* rx -o copy destination */
	struct pg_hist *hist;		/* ping only */
} __attribute__((aligned(PG_CACHELINE)));

struct pg_glob {
	struct pg_conf *c;
	struct pg_frame frame;		/* the template, read-only once built */
	struct nmport_d *nmd;		/* first descriptor (thread 0's) */
	int main_fd;
	uint32_t orig_mode;
	enum pg_td_type td_type;
	int nthreads;
	int cpus, system_cpus;
	int virt_header;		/* header bytes actually in use */
	struct timespec tx_period;	/* -R: time per burst */
	void *(*body)(void *);		/* the function's loop */
	int hdr_update;			/* headers rewritten per packet */

	pthread_mutex_t lock;		/* protects ndone */
	pthread_cond_t cond;		/* a worker finished */
	int ndone;

	int64_t win[PG_STATS_WIN];	/* -A */
	int win_idx;
};

/* bodies.c */
void *sender_body(void *arg);
void *receiver_body(void *arg);
void *ping_body(void *arg);
void *pong_body(void *arg);
void *txseq_body(void *arg);
void *rxseq_body(void *arg);
void *dummy_body(void *arg);

static inline int
pg_cancelled(const struct pg_targ *t)
{
	return __atomic_load_n(&t->cancel, __ATOMIC_RELAXED);
}

static inline void
pg_publish(struct pg_targ *t, uint64_t pkts, uint64_t bytes, uint64_t events)
{
	__atomic_store_n(&t->ctr.pkts, pkts, __ATOMIC_RELAXED);
	__atomic_store_n(&t->ctr.bytes, bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&t->ctr.events, events, __ATOMIC_RELAXED);
}

static inline struct timespec
pg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

static inline int64_t
pg_ts_ns(struct timespec a)
{
	return (int64_t)a.tv_sec * 1000000000 + a.tv_nsec;
}

#endif /* UNM_PKTGEN_RUN_H */

/*
 * vale_fwd.c - the VALE forwarding engine: threads that play the
 * "hardware" of every VALE port's rings (ctl line 1, see unm_layout.h).
 *
 * One round of a thread, for each TX ring of each port it serves:
 *   1. read app_idx (what the application handed over), validate it;
 *   2. phase 1: walk the new slots once, reading each slot once into
 *      locals; validate buffer index and length; group NS_MOREFRAG chains
 *      into packets; learn source MACs; pick each packet's destination
 *      (one port, or every port but the source);
 *   3. phase 2: for each destination RX ring, under its lock: read app_idx
 *      (what the receiver released), reserve room, copy whole packets into
 *      the receiver's own buffers (drop what does not fit: the sender is
 *      never held back), publish hw_idx, wake the receiver if it sleeps;
 *   4. publish the TX ring's hw_idx (the sender may now reuse the slots)
 *      and wake the sender if it sleeps on a full ring, once half of the
 *      ring is free (TX interrupt moderation).
 * A round takes at most --vale-batch slots (default 256) from each ring:
 * small batches give slots back early, so sender, switch and receiver
 * work in a pipeline rather than in turns.
 * Copying is what isolates ports: no buffer ever moves between regions,
 * and what a sender writes after its slots came back cannot change what
 * was delivered.
 *
 * Sleeping: a thread that finds nothing to do sets hw_sleep on every TX
 * ring it serves, fences, re-checks them, and sleeps in epoll_wait() on
 * the ports' hw_kick eventfds.  The library writes hw_kick only when it
 * sees hw_sleep set after publishing app_idx (Dekker, unm_kick()), so a
 * busy switch makes no system call to be woken.  --vale-busy makes the
 * threads spin instead.
 *
 * Registry changes follow the scheme described in vale.h: lookups are
 * RCU-protected (quiescent state based), the main thread waits for a
 * grace period before freeing anything a thread could still reach.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "unm_owner.h"
#include "vale.h"
#include "vm/vhost_user.h"

#define NIL 0xffffu		/* end of a packet list */
#define BCAST 0xffffffffu	/* destination: every port but the source */
#define DROP  0xfffffffeu

#define MAX_FRAGS_BATCH (VALE_BATCH + NETMAP_MAX_FRAGS)
/* most pieces of one frame a VM port's guest may hand over (the device's
 * own limit is the same); longer chains are dropped */
#define VM_MAX_SEGS 256
/* bytes of a VM port's frame a module sees (its headers) */
#define VM_MOD_HDR 128

/* A module decides for this many frames at a time, while the switch
 * gathers the next ones, so that it reads each frame's first line soon
 * after the gather loop prefetched it (PF_DIST slots ahead), as the
 * built-in bridge does when it looks each frame up as it goes.  Chunks of
 * 4 to 1024 frames measured alike within the noise of a shared host
 * (perf, forwarding thread); the short chunk keeps the lines in L1 on
 * hosts with smaller caches. */
#ifndef MOD_CHUNK
#define MOD_CHUNK PF_DIST
#endif

/* How many slots ahead buffers are prefetched.  Buffers are 2048 bytes
 * apart, so their first lines fall into few cache sets and the hardware
 * prefetchers do not help: without this, the first touch of every source
 * buffer (the MAC lookup) and of every destination buffer (the copy) is a
 * cache miss, which is most of the switch's time. */
#ifndef PF_DIST
#define PF_DIST 8
#endif

struct fwd_frag {
	const char *buf;	/* start of the fragment's data */
	uint32_t len;
};

struct fwd_pkt {
	uint32_t frag;		/* first fragment in frag[] */
	uint32_t dst;		/* port index, BCAST or DROP */
	uint32_t len;		/* bytes, all fragments */
	uint16_t nfrags;
	uint16_t next;		/* next packet of the same list */
	uint8_t vm;		/* from a VM port: the fragments are pieces of
				 * one frame in guest memory, not slots */
	uint8_t ring;		/* a module's dst_ring (vale_thread.ringmix) */
};

/* The ports a thread serves: an immutable array, replaced as a whole. */
struct vale_work {
	uint32_t n;
	uint32_t nvm;			/* of which VM ports */
	struct vale_port *port[];
};

struct vale_thread {
	pthread_t tid;
	unsigned id;
	int cpu;			/* -1: not pinned */
	int ep;				/* epoll: ctl + our ports' hw_kick */
	int ctl;			/* eventfd: the main thread wakes us */
	bool started;
	unsigned nports;		/* main thread only */
	/* shared with the main thread */
	struct vale_work *_Atomic work;
	_Atomic uint64_t qs;		/* 0: offline (sleeping); else the
					 * grace-period counter it last saw */
	_Atomic bool stop;
	/* private scratch for one batch */
	uint32_t sh;			/* the source port's header length */
	bool ringmix;			/* a module chose RX rings: pkt[].ring */
	struct unm_vale_frame mf[VALE_BATCH];	/* what a module sees */
	struct fwd_frag frag[MAX_FRAGS_BATCH];
	struct fwd_pkt pkt[MAX_FRAGS_BATCH];
	uint16_t uhead[VALE_MAX_PORTS], utail[VALE_MAX_PORTS];
	uint16_t act[MAX_FRAGS_BATCH];
	uint32_t dbuf[NETMAP_MAX_FRAGS];
	/* VM ports */
	struct nmd_vu_frame vf[NMD_VU_BURST];
	/* a module's view of a VM port's frames: their first bytes, copied
	 * (the guest may rewrite its buffers while we read) */
	unsigned char vmh[NMD_VU_BURST][VM_MOD_HDR];
	struct iovec iov[VM_MAX_SEGS];
	bool vm_poll;			/* a VM queue said "work" and had none */
};

static struct nmd_vale_opts opts = { .threads = 1, .batch = VALE_DEF_BATCH };
static __thread bool on_fwd_thread;
static struct vale_thread **threads;
static unsigned nthreads;
static _Atomic uint64_t gp_ctr = 1;	/* grace-period counter (main writes) */
static void **deferred;
static size_t ndeferred, cap_deferred;

void nmd_vale_configure(const struct nmd_vale_opts *o)
{
	opts = *o;
	if (opts.threads == 0)
		opts.threads = 1;
	if (opts.batch == 0)
		opts.batch = VALE_DEF_BATCH;
	if (opts.batch > VALE_BATCH)
		opts.batch = VALE_BATCH;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* ---- quiescent-state RCU ---- */

/* Between two rounds: nothing read from the registry is held any more.
 * R: our earlier reads are done before the main thread, reading qs with
 * acquire in vale_fwd_sync(), frees anything.  A: the counter read pairs
 * with the main thread's increment, which follows its unpublishing. */
static inline void rcu_quiescent(struct vale_thread *t)
{
	uint64_t g = atomic_load_explicit(&gp_ctr, memory_order_acquire);

	atomic_store_explicit(&t->qs, g, memory_order_release);
}

static inline void rcu_offline(struct vale_thread *t)
{
	/* R: as above; a sleeping thread holds nothing */
	atomic_store_explicit(&t->qs, 0, memory_order_release);
}

static inline void rcu_online(struct vale_thread *t)
{
	atomic_store_explicit(&t->qs, atomic_load_explicit(&gp_ctr, memory_order_acquire),
			      memory_order_relaxed);
	/* F: our qs store is visible before we read any published pointer;
	 * pairs with the fence in vale_fwd_sync() between its counter
	 * increment and its qs reads.  Either it sees us online, or we see
	 * what it unpublished. */
	atomic_thread_fence(memory_order_seq_cst);
}

void vale_fwd_defer_free(void *ptr)
{
	if (!ptr)
		return;
	if (ndeferred == cap_deferred) {
		size_t nc = cap_deferred ? cap_deferred * 2 : 16;
		void **nd = realloc(deferred, nc * sizeof(*nd));

		if (!nd) {
			/* cannot defer: wait for the grace period now */
			vale_fwd_sync();
			free(ptr);
			return;
		}
		deferred = nd;
		cap_deferred = nc;
	}
	deferred[ndeferred++] = ptr;
}

void vale_fwd_sync(void)
{
	uint64_t target;
	unsigned i, spins;
	size_t k;

	target = atomic_fetch_add_explicit(&gp_ctr, 1, memory_order_seq_cst) + 1;
	/* F: pairs with rcu_online() (see there) */
	atomic_thread_fence(memory_order_seq_cst);
	for (i = 0; i < nthreads; i++) {
		struct vale_thread *t = threads[i];

		if (!t->started)
			continue;
		for (spins = 0;; spins++) {
			/* A: pairs with the release in rcu_quiescent() and
			 * rcu_offline(): the thread's reads are done */
			uint64_t v = atomic_load_explicit(&t->qs, memory_order_acquire);

			if (v == 0 || v >= target)
				break;
			if (spins < 64) {
				cpu_relax();
			} else {
				struct timespec ts = { 0, 20000 };

				nanosleep(&ts, NULL);
			}
		}
	}
	for (k = 0; k < ndeferred; k++)
		free(deferred[k]);
	ndeferred = 0;
}

/* ---- waking the other side ---- */

/* After publishing an index with release: wake the party that said it
 * would sleep.  F: orders our index store before the flag load; pairs with
 * the sleeper's fence between its flag store and its index re-check
 * (unm_port_arm() in the library). */
static inline void kick(_Atomic uint32_t *flag, int fd)
{
	uint64_t one = 1;

	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(flag, memory_order_relaxed) &&
	    atomic_exchange_explicit(flag, 0, memory_order_relaxed)) {
		if (write(fd, &one, sizeof(one)) < 0) {
			/* EAGAIN: counter saturated, the sleeper wakes anyway */
		}
	}
}

/* ---- learning bridge ---- */

static inline uint64_t mac48(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40;
}

static inline uint32_t mac_hash(uint64_t m)
{
	return (uint32_t)((m * 0x9e3779b97f4a7c15ull) >> (64 - VALE_MAC_BITS));
}

/* Learn the source, choose the destination (netmap's learning bridge:
 * broadcast and multicast flood, a known unicast goes to its port, an
 * unknown one floods, a learned destination equal to the source is
 * dropped). */
static inline uint32_t lookup(struct vale_switch *sw, uint32_t src, const unsigned char *eh)
{
	unsigned char h[12];
	uint64_t dst, s, e, want;
	_Atomic uint64_t *b;
	uint32_t d;

	memcpy(h, eh, sizeof(h));	/* read the header once */
	if (!(h[6] & 1)) {
		s = mac48(h + 6);
		want = s << 16 | (src + 1);
		b = &sw->mac[mac_hash(s)];
		if (atomic_load_explicit(b, memory_order_relaxed) != want)
			atomic_store_explicit(b, want, memory_order_relaxed);
	}
	if (h[0] & 1)
		return BCAST;
	dst = mac48(h);
	e = atomic_load_explicit(&sw->mac[mac_hash(dst)], memory_order_relaxed);
	if ((e >> 16) != dst || (e & 0xffff) == 0)
		return BCAST;
	d = (uint32_t)(e & 0xffff) - 1;
	if (d == src)
		return DROP;
	if (d >= VALE_MAX_PORTS || !atomic_load_explicit(&sw->port[d], memory_order_relaxed))
		return BCAST;
	return d;
}

/* ---- delivery into one RX ring ---- */

/* A hint about the buffer in slot k of a ring; the index is anybody's
 * guess (the slot may not even be ours yet), so it is only checked to
 * keep the address inside the region. */
static inline void prefetch_slot_buf(const struct netmap_ring *ring, uint32_t k, uint32_t n,
				     const char *base, uint32_t bsz, uint32_t btot, int rw)
{
	uint32_t idx;

	if (PF_DIST == 0)
		return;
	while (k >= n)
		k -= n;
	idx = *(const volatile uint32_t *)&ring->slot[k].buf_idx;
	if (idx < btot) {
		if (rw)
			__builtin_prefetch(base + (size_t)idx * bsz, 1);
		else
			__builtin_prefetch(base + (size_t)idx * bsz, 0);
	}
}

static inline void copy_frag(char *dst, const char *src, uint32_t len, uint32_t bufsz)
{
	/* short frames: one fixed-size copy (inside both buffers), as
	 * netmap copies in 64-byte units */
	if (len <= 64 && bufsz >= 64)
		memcpy(dst, src, 64);
	else
		memcpy(dst, src, len);
}

/* A frame from a VM port, whose pieces lie in guest memory wherever the
 * guest put them, into nf reserved slots (buffers in t->dbuf): packed, so
 * a netmap receiver sees the fewest slots, dh zeroed header bytes first.
 * Exact copies only: a piece may end at the end of guest memory.
 * Returns the slot after the last one filled. */
static uint32_t put_joined(struct vale_thread *t, const struct fwd_pkt *p, struct vale_port *dp,
			   struct netmap_ring *ring, uint32_t fill, uint32_t n, uint32_t nf,
			   uint32_t dh)
{
	const struct fwd_frag *f = &t->frag[p->frag];
	uint32_t bsz = dp->buf_size, fi = 0, foff = 0, k;

	for (k = 0; k < nf; k++) {
		struct netmap_slot *s = &ring->slot[fill];
		char *d = dp->buf_base + (size_t)t->dbuf[k] * bsz;
		uint32_t put = 0;

		if (k == 0 && dh) {
			memset(d, 0, dh);
			put = dh;
		}
		/* each step fills the buffer or finishes a piece */
		while (put < bsz && fi < p->nfrags) {
			uint32_t take = f[fi].len - foff;

			if (take > bsz - put)
				take = bsz - put;
			memcpy(d + put, f[fi].buf + foff, take);
			put += take;
			foff += take;
			if (foff == f[fi].len) {
				fi++;
				foff = 0;
			}
		}
		s->len = (uint16_t)put;
		s->flags = (uint16_t)(nf << 8 | (k + 1 < nf ? NS_MOREFRAG : 0));
		fill = fill + 1 == n ? 0 : fill + 1;
	}
	return fill;
}

/* Take the next packet of two ordered lists (unicast, broadcast). */
static inline uint16_t next_merged(struct vale_thread *t, uint16_t *a, uint16_t *b)
{
	uint16_t i;

	if (*a != NIL && (*b == NIL || *a < *b)) {
		i = *a;
		*a = t->pkt[i].next;
	} else {
		i = *b;
		if (i != NIL)
			*b = t->pkt[i].next;
	}
	return i;
}

/* The slots [from, to) just filled in RX ring q of port dp, into its copy
 * monitors (netmap's copy monitors see RX frames on delivery, before the
 * port reads them).  Never waits: a busy or full monitor loses frames. */
static void mirror_rx(struct vale_mon *mon, struct vale_port *dp, struct vale_rxq *q,
		      uint32_t from, uint32_t to)
{
	struct unm_mon_src src = {
		.ring = q->ring, .bufs = dp->buf_base, .n = q->n,
		.buf_size = dp->buf_size, .buf_total = dp->buf_total, .txmon = 0,
	};
	unsigned i;

	for (i = 0; i < mon->n; i++)
		unm_mon_copy(&mon->t[i], &src, from, to, unm_owner_self());
}

static void deliver_ring(struct vale_thread *t, struct vale_port *dp, struct vale_rxq *q,
			 uint16_t ul, uint16_t bl)
{
	uint32_t n = q->n, fill, room, app, sh = t->sh, dh, bsz = dp->buf_size;
	uint64_t pkts = 0, bytes = 0, drops = 0, errors = 0;
	bool bound;
	uint16_t i;

	dh = atomic_load_explicit(&dp->hdr_len, memory_order_relaxed);
	bound = atomic_load_explicit(&q->bound, memory_order_relaxed);

	while (atomic_exchange_explicit(&q->lock, 1, memory_order_acquire))
		while (atomic_load_explicit(&q->lock, memory_order_relaxed))
			cpu_relax();
	fill = q->fill;
	/* Untrusted: the receiver's release point.  A: pairs with its
	 * release store in hw_rxsync(), so it is done with those buffers.
	 * Legal values lie between the last one and what we filled. */
	app = atomic_load_explicit(&q->ctl->app_idx, memory_order_acquire);
	if (app != q->rel) {
		if (unm_idx_between(q->rel, app, fill, n))
			q->rel = app;
		else
			errors++;
	}
	room = unm_idx_dist(fill, unm_idx_prev(q->rel, n), n);

	while ((i = next_merged(t, &ul, &bl)) != NIL) {
		const struct fwd_pkt *p = &t->pkt[i];
		uint32_t nf = p->nfrags, k, first_len;
		bool ok = true;

		prefetch_slot_buf(q->ring, fill + PF_DIST, n, dp->buf_base, bsz, dp->buf_total, 1);
		if (p->vm)	/* slots it needs, packed (p->len <= NMD_VU_MAX_FRAME) */
			nf = (dh + p->len + bsz - 1) / bsz;
		if (!bound || nf > room || nf > NETMAP_MAX_FRAGS) {
			drops++;
			continue;
		}
		first_len = p->vm ? 0 : t->frag[p->frag].len - sh + dh;
		if (first_len > bsz) {
			drops++;
			continue;
		}
		/* untrusted: the buffer each reserved slot holds now */
		for (k = 0; k < nf; k++) {
			uint32_t idx = *(volatile uint32_t *)&q->ring->slot[unm_idx_add(fill, k, n)].buf_idx;

			if (idx < 2 || idx >= dp->buf_total) {
				ok = false;
				break;
			}
			t->dbuf[k] = idx;
		}
		if (!ok) {
			/* the receiver put a bad index in a slot it released:
			 * nothing can go past it until it fixes its ring */
			drops++;
			errors++;
			continue;
		}
		if (p->vm) {
			fill = put_joined(t, p, dp, q->ring, fill, n, nf, dh);
			room -= nf;
			pkts++;
			bytes += p->len;
			continue;
		}
		for (k = 0; k < nf; k++) {
			const struct fwd_frag *f = &t->frag[p->frag + k];
			struct netmap_slot *s = &q->ring->slot[fill];
			char *d = dp->buf_base + (size_t)t->dbuf[k] * bsz;
			uint32_t len = f->len;

			if (k == 0 && sh != dh) {
				memset(d, 0, dh);
				memcpy(d + dh, f->buf + sh, f->len - sh);
				len = first_len;
			} else if (len > bsz) {
				/* a fragment bigger than this region's buffers */
				len = bsz;
				memcpy(d, f->buf, len);
			} else {
				copy_frag(d, f->buf, len, bsz);
			}
			s->len = (uint16_t)len;
			s->flags = (uint16_t)(nf << 8 | (k + 1 < nf ? NS_MOREFRAG : 0));
			fill = fill + 1 == n ? 0 : fill + 1;
		}
		room -= nf;
		pkts++;
		bytes += p->len;
	}
	if (fill != q->fill) {
		/* copy monitors see the frames before the receiver can touch
		 * them.  A: pairs with the release in vale_mon_changed() */
		struct vale_mon *mon = atomic_load_explicit(&q->mon, memory_order_acquire);

		if (mon)
			mirror_rx(mon, dp, q, q->fill, fill);
		q->fill = fill;
		/* R: publishes the slots and buffers we wrote to the
		 * receiver's acquire load in hw_rxsync() */
		atomic_store_explicit(&q->ctl->hw_idx, fill, memory_order_release);
	}
	/* counters: single writer under the lock */
	if (pkts) {
		atomic_store_explicit(&q->pkts, atomic_load_explicit(&q->pkts, memory_order_relaxed) + pkts,
				      memory_order_relaxed);
		atomic_store_explicit(&q->bytes, atomic_load_explicit(&q->bytes, memory_order_relaxed) + bytes,
				      memory_order_relaxed);
	}
	if (drops)
		atomic_store_explicit(&q->drops, atomic_load_explicit(&q->drops, memory_order_relaxed) + drops,
				      memory_order_relaxed);
	if (errors)
		atomic_store_explicit(&q->errors, atomic_load_explicit(&q->errors, memory_order_relaxed) + errors,
				      memory_order_relaxed);
	/* R: releases the ring state to the next holder */
	atomic_store_explicit(&q->lock, 0, memory_order_release);
	if (pkts)
		kick(&q->ctl->app_sleep, dp->port.wake[UNM_DIR_RX]);
}

/* ---- delivery into a VM port's guest ---- */

static inline void counter_add(_Atomic uint64_t *c, uint64_t v)
{
	if (v)
		atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
				      memory_order_relaxed);
}

/* A VM port's receive side is one queue, whoever delivers: its rxq[0]
 * lock makes each thread's deliveries plus the flush one session of the
 * device's receive queue (vhost_user.h).  Frames are copied straight from
 * the source buffers (or the source guest's memory) into the guest's
 * buffers; what does not fit is dropped, the sender never waits. */
static void deliver_vm(struct vale_thread *t, struct vale_port *dp, uint16_t ul, uint16_t bl)
{
	struct vale_rxq *q = &dp->rxq[0];
	struct nmd_vu_dev *dev = dp->vm->dev;
	uint64_t pkts = 0, bytes = 0, drops = 0, errors = 0;
	uint32_t sh = t->sh;
	bool down;
	uint16_t i;

	while (atomic_exchange_explicit(&q->lock, 1, memory_order_acquire))
		while (atomic_load_explicit(&q->lock, memory_order_relaxed))
			cpu_relax();
	/* A: pairs with the release store in nmd_vale_vm_resume(): the
	 * device's changes are visible.  A pause that starts after this load
	 * waits for our grace period (vale.c), so the device cannot change
	 * under this session. */
	down = atomic_load_explicit(&dp->vm->paused, memory_order_acquire);
	while ((i = next_merged(t, &ul, &bl)) != NIL) {
		const struct fwd_pkt *p = &t->pkt[i];
		const struct fwd_frag *f = &t->frag[p->frag];
		unsigned k, nf = p->nfrags;
		int err;

		if (down || nf > VM_MAX_SEGS) {
			drops++;
			continue;
		}
		for (k = 0; k < nf; k++) {
			t->iov[k].iov_base = (void *)(uintptr_t)f[k].buf;
			t->iov[k].iov_len = f[k].len;
		}
		if (!p->vm && sh) {
			/* a netmap port's own virtio-net header: the device
			 * writes the guest's (phase 1 checked the length) */
			t->iov[0].iov_base = (char *)t->iov[0].iov_base + sh;
			t->iov[0].iov_len -= sh;
		}
		err = nmd_vu_rx_deliver_v(dev, t->iov, nf);
		if (err == 0) {
			pkts++;
			bytes += p->len;
			continue;
		}
		drops++;
		if (err == -EIO)
			errors++;	/* the guest broke its queue just now */
		if (err == -ENETDOWN || err == -EIO)
			down = true;	/* the rest would meet the same */
	}
	if (pkts)
		nmd_vu_rx_flush(dev);
	counter_add(&q->pkts, pkts);
	counter_add(&q->bytes, bytes);
	counter_add(&q->drops, drops);
	counter_add(&q->errors, errors);
	/* R: the device's queue state to the next holder */
	atomic_store_explicit(&q->lock, 0, memory_order_release);
}

/* A module chose each frame's RX ring: one unicast list per ring of dp,
 * in batch order (the nodes of ul are dp's alone, so they can be
 * relinked); the broadcast list goes to ring 0 with that ring's frames. */
static void deliver_split(struct vale_thread *t, struct vale_port *dp, uint16_t ul, uint16_t bl)
{
	uint16_t head[VALE_MAX_RINGS], tail[VALE_MAX_RINGS];
	uint32_t r;

	for (r = 0; r < dp->nrx; r++)
		head[r] = tail[r] = NIL;
	while (ul != NIL) {
		uint16_t nx = t->pkt[ul].next;

		r = t->pkt[ul].ring % dp->nrx;
		t->pkt[ul].next = NIL;
		if (head[r] == NIL)
			head[r] = ul;
		else
			t->pkt[tail[r]].next = ul;
		tail[r] = ul;
		ul = nx;
	}
	for (r = 0; r < dp->nrx; r++)
		if (head[r] != NIL || (r == 0 && bl != NIL))
			deliver_ring(t, dp, &dp->rxq[r], head[r], r == 0 ? bl : NIL);
}

/* Deliver to one port its unicast list and the batch's broadcast list.
 * Unicast uses the source ring's index (mod the receiver's ring count)
 * unless a module chose otherwise, broadcast always ring 0, as netmap
 * does. */
static void deliver_port(struct vale_thread *t, uint16_t ring, struct vale_port *dp,
			 uint16_t ul, uint16_t bl)
{
	uint32_t ur;

	if (dp->vm) {
		deliver_vm(t, dp, ul, bl);
		return;
	}
	ur = ring % dp->nrx;

	if (t->ringmix && ul != NIL) {
		deliver_split(t, dp, ul, bl);
		return;
	}
	if (ul != NIL && bl != NIL && ur != 0) {
		deliver_ring(t, dp, &dp->rxq[ur], ul, NIL);
		deliver_ring(t, dp, &dp->rxq[0], NIL, bl);
	} else {
		deliver_ring(t, dp, &dp->rxq[ul != NIL ? ur : 0], ul, bl);
	}
}

/* Phase 2 of a batch from port vp's ring `ring`: copy every listed packet
 * into its destinations, then empty the unicast lists. */
static void fwd_deliver(struct vale_thread *t, struct vale_switch *sw, struct vale_port *vp,
			uint16_t ring, uint16_t bhead, uint32_t nact)
{
	uint32_t i;

	if (bhead != NIL) {
		uint32_t hi = atomic_load_explicit(&sw->hi, memory_order_acquire), d;

		for (d = 0; d < hi; d++) {
			/* A: pairs with the release store that published the
			 * port: its fields are initialised */
			struct vale_port *dp = atomic_load_explicit(&sw->port[d], memory_order_acquire);

			if (!dp || d == vp->idx)
				continue;
			deliver_port(t, ring, dp, t->uhead[d], bhead);
		}
	} else {
		for (i = 0; i < nact; i++) {
			struct vale_port *dp = atomic_load_explicit(&sw->port[t->act[i]],
								    memory_order_acquire);

			if (dp)
				deliver_port(t, ring, dp, t->uhead[t->act[i]], NIL);
		}
	}
	for (i = 0; i < nact; i++)
		t->uhead[t->act[i]] = NIL;
}

/* Put packet i on its destination's list (phase 2 lists: per
 * destination, in batch order). */
static inline void enlist(struct vale_thread *t, uint16_t i, uint16_t *bhead, uint16_t *btail,
			  uint32_t *nact)
{
	uint32_t d = t->pkt[i].dst;

	if (d == BCAST) {
		if (*bhead == NIL)
			*bhead = i;
		else
			t->pkt[*btail].next = i;
		*btail = i;
	} else if (t->uhead[d] == NIL) {
		t->uhead[d] = t->utail[d] = i;
		t->act[(*nact)++] = (uint16_t)d;
	} else {
		t->pkt[t->utail[d]].next = i;
		t->utail[d] = i;
	}
}

/* A module decides where packets [from, to) go (t->mf[i] describes
 * pkt[i]): one call for them all, or one per frame. */
static inline void mod_call(struct vale_thread *t, const struct vale_mod *m, uint32_t from,
			    uint32_t to)
{
	uint32_t i;

	if (m->lookup_batch) {
		m->lookup_batch(&t->mf[from], to - from, m->priv);
	} else {
		for (i = from; i < to; i++)
			t->mf[i].dst = m->lookup(&t->mf[i], &t->mf[i].dst_ring, m->priv);
	}
}

/* The module's verdict for packet i, untrusted: anything but a port of
 * the switch other than the source, NM_BDG_BROADCAST or NM_BDG_NOPORT is
 * a counted drop.  Sets pkt[i].dst (and .ring) and counts in vc[]. */
static inline uint32_t mod_verdict(struct vale_thread *t, struct vale_switch *sw, uint32_t src,
				   uint16_t ring, uint32_t i, uint64_t vc[VALE_V_N])
{
	uint32_t d = t->mf[i].dst;
	uint8_t r = t->mf[i].dst_ring;

	if (d == NM_BDG_BROADCAST) {
		d = BCAST;
		vc[VALE_V_BCAST]++;
	} else if (d == NM_BDG_NOPORT) {
		d = DROP;
		vc[VALE_V_DROP]++;
	} else if (d >= VALE_MAX_PORTS || d == src || vale_idx_reserved(d) ||
		   !atomic_load_explicit(&sw->port[d], memory_order_relaxed)) {
		/* phase 2 re-reads the port with acquire; a port that leaves
		 * in between is skipped there */
		d = DROP;
		vc[VALE_V_INVALID]++;
	} else {
		vc[VALE_V_UNICAST]++;
	}
	t->pkt[i].dst = d;
	t->pkt[i].ring = r;
	if (r != ring)
		t->ringmix = true;
	return d;
}

/* A module's verdicts for packets [0, npkt) of a batch, those from
 * `decided` on not asked yet: the kept ones go on their lists, counted. */
static void mod_decide(struct vale_thread *t, struct vale_switch *sw, const struct vale_mod *mod,
		       uint32_t src, uint16_t ring, uint32_t decided, uint32_t npkt,
		       uint64_t vc[VALE_V_N], uint64_t *pkts, uint64_t *bytes, uint64_t *drops,
		       uint16_t *bhead, uint16_t *btail, uint32_t *nact)
{
	uint32_t i;

	if (decided < npkt)
		mod_call(t, mod, decided, npkt);
	for (i = 0; i < npkt; i++) {
		if (mod_verdict(t, sw, src, ring, i, vc) == DROP) {
			(*drops)++;
			continue;
		}
		(*pkts)++;
		*bytes += t->pkt[i].len;
		enlist(t, (uint16_t)i, bhead, btail, nact);
	}
}

static inline void verdicts_add(_Atomic uint64_t *to, const uint64_t vc[VALE_V_N])
{
	unsigned k;

	/* several threads may forward for one switch: read-modify-write */
	for (k = 0; k < VALE_V_N; k++)
		if (vc[k])
			atomic_fetch_add_explicit(&to[k], vc[k], memory_order_relaxed);
}

/* ---- one batch from one TX ring ---- */

/* Returns the number of slots consumed. */
static uint32_t fwd_txq(struct vale_thread *t, struct vale_port *vp, struct vale_txq *q)
{
	uint32_t n = q->n, cons = q->cons, app, limit, used = 0, npkt = 0, nfrag = 0, decided = 0;
	uint32_t bsz = vp->buf_size, btot = vp->buf_total, j, nact = 0, hdr;
	uint64_t pkts = 0, bytes = 0, drops = 0, errors = 0, vc[VALE_V_N] = { 0 };
	uint16_t bhead = NIL, btail = NIL;
	struct vale_switch *sw;
	struct vale_mod *mod;

	/* Untrusted: what the application handed over.  A: pairs with the
	 * release store in hw_txsync(): the slots and buffers it wrote are
	 * visible.  Any value in range is legal (the ring may be handed over
	 * up to the slot before cons); others are ignored. */
	app = atomic_load_explicit(&q->ctl->app_idx, memory_order_acquire);
	if (app == cons)
		return 0;
	if (app >= n) {
		if (app != q->bad)
			counter_add(&q->errors, 1);
		q->bad = app;
		return 0;
	}
	limit = unm_idx_dist(cons, app, n);
	if (limit > opts.batch)
		limit = opts.batch;
	/* A: pairs with the release store in vale.c that attaches the port:
	 * idx is valid once sw is seen */
	sw = atomic_load_explicit(&vp->sw, memory_order_acquire);
	/* A: pairs with the release store in vale_mod.c that installs a
	 * module: its fields are initialised.  Read once: a change of logic
	 * takes effect between two batches. */
	mod = sw ? atomic_load_explicit(&sw->mod, memory_order_acquire) : NULL;
	t->ringmix = false;
	hdr = atomic_load_explicit(&vp->hdr_len, memory_order_relaxed);

	/* phase 1: slots -> packets, each slot read once */
	j = cons;
	while (used < limit) {
		uint32_t first = nfrag, nf = 0, plen = 0;
		bool bad = false;
		struct fwd_pkt *p;

		for (;;) {
			volatile struct netmap_slot *s = &q->ring->slot[j];
			uint32_t idx = s->buf_idx;
			uint32_t len = s->len;
			uint16_t fl = s->flags;

			/* the slot array too, further ahead: its lines were just
			 * written by the sender on another core */
			if ((j & 3) == 0) {
				uint32_t pj = j + 2 * PF_DIST;

				while (pj >= n)
					pj -= n;
				__builtin_prefetch(&q->ring->slot[pj]);
			}
			prefetch_slot_buf(q->ring, j + PF_DIST, n, vp->buf_base, bsz, btot, 0);
			j = j + 1 == n ? 0 : j + 1;
			used++;
			if (fl & NS_BUF_CHANGED)
				s->flags = fl & (uint16_t)~NS_BUF_CHANGED;
			if (idx < 2 || idx >= btot || len > bsz) {
				/* netmap: a bad slot becomes an empty fragment */
				errors++;
				len = 0;
				idx = 0;
			}
			if (fl & NS_INDIRECT)
				bad = true;	/* user pointers are not ours to read */
			if (nf < NETMAP_MAX_FRAGS) {
				t->frag[first + nf].buf = vp->buf_base + (size_t)idx * bsz;
				t->frag[first + nf].len = len;
			} else {
				bad = true;
			}
			nf++;
			plen += len;
			/* an unfinished chain at the end of what was handed
			 * over is forwarded as it is, as netmap does */
			if (!(fl & NS_MOREFRAG) || j == app)
				break;
		}
		if (bad || !sw || t->frag[first].len < hdr + 14) {
			drops++;
			continue;
		}
		p = &t->pkt[npkt];
		p->frag = first;
		p->nfrags = (uint16_t)nf;
		p->len = plen;
		p->next = NIL;
		p->vm = 0;
		if (mod) {
			/* the module decides for a chunk of packets at a time */
			struct unm_vale_frame *f = &t->mf[npkt];

			f->data = (const uint8_t *)t->frag[first].buf + hdr;
			f->len = t->frag[first].len - hdr;
			f->frame_len = plen - hdr;
			f->src_port = vp->idx;
			f->src_ring = q->id;
			f->nfrags = (uint16_t)nf;
			f->dst = NM_BDG_NOPORT;
			f->dst_ring = (uint8_t)q->id;
			nfrag = first + nf;
			npkt++;
			if (npkt - decided == MOD_CHUNK) {
				mod_call(t, mod, decided, npkt);
				decided = npkt;
			}
			continue;
		}
		p->dst = lookup(sw, vp->idx, (const unsigned char *)t->frag[first].buf + hdr);
		if (p->dst == DROP) {
			vc[VALE_V_DROP]++;
			drops++;
			continue;
		}
		vc[p->dst == BCAST ? VALE_V_BCAST : VALE_V_UNICAST]++;
		pkts++;
		bytes += plen;
		nfrag = first + nf;
		enlist(t, (uint16_t)npkt, &bhead, &btail, &nact);
		npkt++;
	}
	if (mod && npkt)
		mod_decide(t, sw, mod, vp->idx, q->id, decided, npkt, vc, &pkts, &bytes, &drops,
			   &bhead, &btail, &nact);
	if (sw)
		verdicts_add(mod ? mod->verdicts : sw->verdicts, vc);

	/* phase 2: copy into every destination */
	t->sh = hdr;
	fwd_deliver(t, sw, vp, q->id, bhead, nact);

	/* give the slots back.  R: our reads of the slots and buffers are
	 * done before the sender's acquire load in hw_txsync() */
	q->cons = j;
	atomic_store_explicit(&q->ctl->hw_idx, j, memory_order_release);
	/* A sender asleep on a full ring is woken once half of it is free
	 * (or all that it handed over is done), not after every batch: TX
	 * interrupt moderation, which saves two context switches per batch
	 * when it shares a core with us.  Receivers are woken at once. */
	if (unm_idx_dist(j, app, n) <= n / 2)
		kick(&q->ctl->app_sleep, vp->port.wake[UNM_DIR_TX]);
	counter_add(&q->pkts, pkts);
	counter_add(&q->bytes, bytes);
	counter_add(&q->drops, drops);
	counter_add(&q->errors, errors);
	return used;
}

/* ---- one batch from a VM port's guest ---- */

/*
 * What the guest of VM port vp transmitted: one device session (peek,
 * deliver, done).  Phase 1 reads each frame's first 14 bytes once, into a
 * local copy, for the lookup; phase 2 copies from guest memory straight
 * into the destinations; the chains go back to the guest at the end, so
 * the guest cannot reuse a buffer we still read.  Returns the frames
 * taken.
 */
static uint32_t fwd_vm_tx(struct vale_thread *t, struct vale_port *vp)
{
	struct vale_vm *vm = vp->vm;
	uint32_t max = opts.batch < NMD_VU_BURST ? opts.batch : NMD_VU_BURST;
	uint32_t npkt = 0, nfrag = 0, nact = 0, n, i, k, hl;
	uint64_t pkts = 0, bytes = 0, drops = 0, vc[VALE_V_N] = { 0 };
	uint16_t bhead = NIL, btail = NIL;
	struct vale_switch *sw;
	struct vale_mod *mod;

	/* A: pairs with the release store in nmd_vale_vm_resume(); a pause
	 * that starts after this load waits for our grace period */
	if (atomic_load_explicit(&vm->paused, memory_order_acquire))
		return 0;
	n = nmd_vu_tx_peek(vm->dev, t->vf, max);
	if (!n)
		return 0;
	/* A: as in fwd_txq(): idx is valid once sw is seen, a module's
	 * fields once it is */
	sw = atomic_load_explicit(&vp->sw, memory_order_acquire);
	mod = sw ? atomic_load_explicit(&sw->mod, memory_order_acquire) : NULL;
	t->ringmix = false;
	for (i = 0; i < n; i++) {
		const struct nmd_vu_frame *f = &t->vf[i];
		unsigned char *eh = t->vmh[npkt];
		struct fwd_pkt *p;

		if (!sw || f->len < 14 || f->nseg > VM_MAX_SEGS ||
		    nfrag + f->nseg > MAX_FRAGS_BATCH) {
			drops++;
			continue;
		}
		/* the guest may rewrite its buffers meanwhile: the lookup
		 * works on a copy */
		hl = mod ? (f->len < VM_MOD_HDR ? f->len : VM_MOD_HDR) : 14;
		nmd_vu_frame_copy(f, 0, eh, hl);
		p = &t->pkt[npkt];
		for (k = 0; k < f->nseg; k++) {
			t->frag[nfrag + k].buf = f->seg[k].p;
			t->frag[nfrag + k].len = f->seg[k].len;
		}
		p->frag = nfrag;
		p->nfrags = f->nseg;
		p->len = f->len;
		p->next = NIL;
		p->vm = 1;
		if (mod) {
			struct unm_vale_frame *mf = &t->mf[npkt];

			mf->data = eh;
			mf->len = hl;
			mf->frame_len = f->len;
			mf->src_port = vp->idx;
			mf->src_ring = 0;
			mf->nfrags = (uint16_t)f->nseg;
			mf->dst = NM_BDG_NOPORT;
			mf->dst_ring = 0;
			nfrag += f->nseg;
			npkt++;
			continue;
		}
		p->dst = lookup(sw, vp->idx, eh);
		if (p->dst == DROP) {
			vc[VALE_V_DROP]++;
			drops++;
			continue;
		}
		vc[p->dst == BCAST ? VALE_V_BCAST : VALE_V_UNICAST]++;
		nfrag += f->nseg;
		pkts++;
		bytes += f->len;
		enlist(t, (uint16_t)npkt, &bhead, &btail, &nact);
		npkt++;
	}
	if (mod && npkt)
		mod_decide(t, sw, mod, vp->idx, 0, 0, npkt, vc, &pkts, &bytes, &drops, &bhead, &btail,
			   &nact);
	if (sw)
		verdicts_add(mod ? mod->verdicts : sw->verdicts, vc);
	t->sh = 0;	/* VM ports carry no virtio-net header on the switch */
	fwd_deliver(t, sw, vp, 0, bhead, nact);
	nmd_vu_tx_done(vm->dev);
	counter_add(&vm->pkts, pkts);
	counter_add(&vm->bytes, bytes);
	counter_add(&vm->drops, drops);
	return n;
}

/* Before sleeping: ask the guests of the VM ports we serve to kick us
 * (Dekker with the guest, inside the device).  True when one of them has
 * work already, or has a queue that must be polled. */
static bool vm_arm(struct vale_work *w)
{
	bool work = false;
	uint32_t i;

	for (i = 0; i < w->n; i++) {
		struct vale_vm *vm = w->port[i]->vm;

		/* a paused port is left alone; resuming wakes us */
		if (!vm || atomic_load_explicit(&vm->paused, memory_order_acquire))
			continue;
		if (nmd_vu_kick_enable(vm->dev, NMD_VU_TXQ))
			work = true;
	}
	return work;
}

/* Awake again (or not going to sleep): consume the kicks and let the
 * guests add frames without kicking while we poll. */
static void vm_disarm(struct vale_work *w)
{
	uint32_t i;

	for (i = 0; i < w->n; i++) {
		struct vale_vm *vm = w->port[i]->vm;

		if (!vm || atomic_load_explicit(&vm->paused, memory_order_acquire))
			continue;
		nmd_vu_kick_drain(vm->dev);
		nmd_vu_kick_disable(vm->dev, NMD_VU_TXQ);
	}
}

/* Busy polling: no kicks wanted from the guests, none to consume. */
static void vm_nokick(struct vale_work *w)
{
	uint32_t i;

	for (i = 0; i < w->n; i++) {
		struct vale_vm *vm = w->port[i]->vm;

		if (vm && !atomic_load_explicit(&vm->paused, memory_order_acquire))
			nmd_vu_kick_disable(vm->dev, NMD_VU_TXQ);
	}
}

/* ---- the thread ---- */
/*
 * A guest whose kick gets lost would otherwise stall its transmit queue
 * until something else wakes the thread: QEMU 7.2's TCG drops a one-CPU
 * guest's memory barriers (then the driver may read our "no kicks
 * wanted" before its own ring update is visible, and never kick), and a
 * buggy or hostile guest driver can do the same on purpose.  So a thread
 * serving VM ports never sleeps longer than this: a stall is bounded, and
 * an idle thread wakes 20 times a second.
 */
#define VM_RECHECK_MS 50

static bool work_pending(struct vale_work *w)
{
	uint32_t i, k;

	for (i = 0; i < w->n; i++) {
		struct vale_port *vp = w->port[i];

		for (k = 0; k < vp->ntx; k++) {
			uint32_t a = atomic_load_explicit(&vp->txq[k].ctl->app_idx,
							  memory_order_relaxed);

			/* impossible values do not count as work */
			if (a != vp->txq[k].cons && a < vp->txq[k].n)
				return true;
		}
	}
	return false;
}

static void set_hw_sleep(struct vale_work *w, uint32_t v)
{
	uint32_t i, k;

	for (i = 0; i < w->n; i++)
		for (k = 0; k < w->port[i]->ntx; k++)
			atomic_store_explicit(&w->port[i]->txq[k].ctl->hw_sleep, v,
					      memory_order_relaxed);
}

static void *fwd_main(void *arg)
{
	struct vale_thread *t = arg;
	struct epoll_event evs[64];

	on_fwd_thread = true;
	if (t->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(t->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
			nmd_warn("vale-fwd%u: cannot pin to cpu %d", t->id, t->cpu);
	}
	rcu_online(t);
	while (!atomic_load_explicit(&t->stop, memory_order_relaxed)) {
		/* A: pairs with the release store in publish_work() */
		struct vale_work *w = atomic_load_explicit(&t->work, memory_order_acquire);
		uint32_t i, k, did = 0;
		int timeout;
		bool nap;

		for (i = 0; w && i < w->n; i++) {
			struct vale_port *vp = w->port[i];

			for (k = 0; k < vp->ntx; k++)
				did += fwd_txq(t, vp, &vp->txq[k]);
			if (vp->vm)
				did += fwd_vm_tx(t, vp);
		}
		rcu_quiescent(t);
		if (did) {
			t->vm_poll = false;
			continue;
		}
		if (opts.busy) {
			/* we poll: the guests need not kick (a queue that
			 * restarted asks for kicks again) */
			if (w)
				vm_nokick(w);
			cpu_relax();
			continue;
		}
		/* idle: ask to be kicked, then re-check (Dekker) */
		w = atomic_load_explicit(&t->work, memory_order_acquire);
		nap = false;
		if (w) {
			bool vm_work = vm_arm(w);

			set_hw_sleep(w, 1);
			/* F: the hw_sleep stores are visible before we re-read
			 * app_idx; pairs with unm_kick()'s fence */
			atomic_thread_fence(memory_order_seq_cst);
			if (work_pending(w) || (vm_work && !t->vm_poll)) {
				/* a guest queue that says "work" and then has
				 * none, twice running, has no kicks: poll it */
				t->vm_poll = vm_work;
				set_hw_sleep(w, 0);
				vm_disarm(w);
				continue;
			}
			nap = vm_work;
		}
		/* (w is not ours to read once we are offline) */
		timeout = nap ? 1 : w && w->nvm ? VM_RECHECK_MS : -1;
		rcu_offline(t);
		if (epoll_wait(t->ep, evs, 64, timeout) < 0 && errno != EINTR)
			nmd_err("vale-fwd%u: epoll_wait: %s", t->id, strerror(errno));
		rcu_online(t);
		w = atomic_load_explicit(&t->work, memory_order_acquire);
		if (w) {
			set_hw_sleep(w, 0);
			vm_disarm(w);
		}
	}
	rcu_offline(t);
	return NULL;
}

static void thread_free(struct vale_thread *t)
{
	if (t->ep >= 0)
		close(t->ep);
	if (t->ctl >= 0)
		close(t->ctl);
	free(atomic_load_explicit(&t->work, memory_order_relaxed));
	free(t);
}

int vale_fwd_start(void)
{
	unsigned i, k;
	int err;

	if (threads)
		return 0;
	threads = calloc(opts.threads, sizeof(*threads));
	if (!threads)
		return -ENOMEM;
	for (i = 0; i < opts.threads; i++) {
		struct vale_thread *t = calloc(1, sizeof(*t));
		struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
		char name[16];

		if (!t) {
			err = -ENOMEM;
			goto fail;
		}
		t->id = i;
		t->cpu = opts.ncpus > 0 ? opts.cpu[i % (unsigned)opts.ncpus] : -1;
		t->ep = epoll_create1(EPOLL_CLOEXEC);
		t->ctl = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		for (k = 0; k < VALE_MAX_PORTS; k++)
			t->uhead[k] = NIL;
		ev.data.ptr = NULL;
		if (t->ep < 0 || t->ctl < 0 || epoll_ctl(t->ep, EPOLL_CTL_ADD, t->ctl, &ev) < 0) {
			err = -errno;
			thread_free(t);
			goto fail;
		}
		threads[nthreads++] = t;
		err = -pthread_create(&t->tid, NULL, fwd_main, t);
		if (err)
			goto fail;
		t->started = true;
		snprintf(name, sizeof(name), "vale-fwd%u", i & 0xffffu);
		pthread_setname_np(t->tid, name);
	}
	nmd_info("VALE: %u forwarding thread%s%s", nthreads, nthreads > 1 ? "s" : "",
		 opts.busy ? ", busy polling" : "");
	return 0;
fail:
	nmd_err("VALE: cannot start forwarding threads: %s", strerror(-err));
	vale_fwd_stop();
	return err;
}

void vale_fwd_stop(void)
{
	uint64_t one = 1;
	unsigned i;

	for (i = 0; i < nthreads; i++) {
		struct vale_thread *t = threads[i];

		if (!t->started)
			continue;
		atomic_store_explicit(&t->stop, true, memory_order_relaxed);
		if (write(t->ctl, &one, sizeof(one)) < 0)
			nmd_warn("vale-fwd%u: cannot wake: %s", i, strerror(errno));
		pthread_join(t->tid, NULL);
	}
	for (i = 0; i < nthreads; i++)
		thread_free(threads[i]);
	free(threads);
	threads = NULL;
	nthreads = 0;
	vale_fwd_sync();
	free(deferred);
	deferred = NULL;
	cap_deferred = 0;
}

/* Replace a thread's port array with `nw` and wake it so it notices. */
static void publish_work(struct vale_thread *t, struct vale_work *nw)
{
	struct vale_work *old = atomic_load_explicit(&t->work, memory_order_relaxed);
	uint64_t one = 1;

	/* R: the ports in nw are fully initialised before the thread's
	 * acquire load in fwd_main() sees them */
	atomic_store_explicit(&t->work, nw, memory_order_release);
	vale_fwd_defer_free(old);
	if (write(t->ctl, &one, sizeof(one)) < 0)
		nmd_warn("vale-fwd%u: cannot wake: %s", t->id, strerror(errno));
}

int vale_fwd_add(struct vale_port *vp)
{
	struct vale_thread *t = NULL;
	struct vale_work *old, *nw;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	unsigned i;
	int err;

	err = vale_fwd_start();
	if (err)
		return err;
	for (i = 0; i < nthreads; i++)
		if (!t || threads[i]->nports < t->nports)
			t = threads[i];
	old = atomic_load_explicit(&t->work, memory_order_relaxed);
	nw = malloc(sizeof(*nw) + ((old ? old->n : 0) + 1) * sizeof(nw->port[0]));
	if (!nw)
		return -ENOMEM;
	nw->n = 0;
	for (i = 0; old && i < old->n; i++)
		nw->port[nw->n++] = old->port[i];
	nw->port[nw->n++] = vp;
	nw->nvm = (old ? old->nvm : 0) + (vp->vm != NULL);
	ev.data.ptr = vp;
	if (epoll_ctl(t->ep, EPOLL_CTL_ADD, vp->port.hw_kick, &ev) < 0) {
		err = -errno;
		free(nw);
		return err;
	}
	vp->thr = t;
	t->nports++;
	publish_work(t, nw);
	return 0;
}

void vale_fwd_del(struct vale_port *vp)
{
	struct vale_thread *t = vp->thr;
	struct vale_work *old, *nw;
	uint32_t i;

	if (!t)
		return;
	old = atomic_load_explicit(&t->work, memory_order_relaxed);
	/* A port must leave its thread before it can be freed, so this
	 * cannot fail: retry (after a grace period has freed what it could)
	 * rather than give up. */
	while (!(nw = malloc(sizeof(*nw) + (old ? old->n : 1) * sizeof(nw->port[0])))) {
		struct timespec ts = { 0, 1000000 };

		nmd_err("VALE: out of memory removing %s, retrying", vp->port.name);
		vale_fwd_sync();
		nanosleep(&ts, NULL);
	}
	nw->n = nw->nvm = 0;
	for (i = 0; old && i < old->n; i++) {
		if (old->port[i] == vp)
			continue;
		nw->port[nw->n++] = old->port[i];
		nw->nvm += old->port[i]->vm != NULL;
	}
	epoll_ctl(t->ep, EPOLL_CTL_DEL, vp->port.hw_kick, NULL);
	t->nports--;
	vp->thr = NULL;
	publish_work(t, nw);
}

void vale_fwd_stats(const struct vale_port *vp, uint64_t out[7])
{
	uint32_t i;

	memset(out, 0, 7 * sizeof(out[0]));
	for (i = 0; i < vp->nrx; i++) {
		const struct vale_rxq *q = &vp->rxq[i];

		out[0] += atomic_load_explicit(&q->pkts, memory_order_relaxed);
		out[1] += atomic_load_explicit(&q->bytes, memory_order_relaxed);
		out[2] += atomic_load_explicit(&q->drops, memory_order_relaxed);
		out[6] += atomic_load_explicit(&q->errors, memory_order_relaxed);
	}
	for (i = 0; i < vp->ntx; i++) {
		const struct vale_txq *q = &vp->txq[i];

		out[3] += atomic_load_explicit(&q->pkts, memory_order_relaxed);
		out[4] += atomic_load_explicit(&q->bytes, memory_order_relaxed);
		out[5] += atomic_load_explicit(&q->drops, memory_order_relaxed);
		out[6] += atomic_load_explicit(&q->errors, memory_order_relaxed);
	}
	if (vp->vm) {
		struct nmd_vu_info in;

		/* main thread, as the device's protocol side */
		nmd_vu_info(vp->vm->dev, &in);
		out[3] += atomic_load_explicit(&vp->vm->pkts, memory_order_relaxed);
		out[4] += atomic_load_explicit(&vp->vm->bytes, memory_order_relaxed);
		/* and what the device itself dropped: frames sent on a disabled
		 * queue; malformed ones and broken rings are the guest's errors */
		out[5] += atomic_load_explicit(&vp->vm->drops, memory_order_relaxed) +
			  in.drops[NMD_VU_TXQ];
		out[6] += in.errors[NMD_VU_TXQ] + in.breaks;
	}
}

void vale_fwd_wake(const struct vale_port *vp)
{
	uint64_t one = 1;

	if (vp->thr && write(vp->thr->ctl, &one, sizeof(one)) < 0)
		nmd_warn("vale-fwd%u: cannot wake: %s", vp->thr->id, strerror(errno));
}

bool vale_fwd_on_thread(void)
{
	return on_fwd_thread;
}

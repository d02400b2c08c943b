/*
 * unm_mon.c - mirroring frames into a monitor's RX ring (unm_mon.h).
 *
 * The producers of a monitor ring are its "hardware" (ctl line 1): they
 * fill slots [hw_idx, app_idx - 1) and publish hw_idx; the monitor's own
 * sync code (lib/mon.c) releases slots through app_idx.  Everything in
 * the monitor's ring and control block can have been written by the
 * monitor: indices are read once and checked against the geometry the
 * producer got from netmapd, buffer indices likewise, and a value that
 * cannot be right makes the producer drop the frames, never wait.
 */
#include <string.h>
#include <unistd.h>

#include "unm_mon.h"
#include "unm_owner.h"

/* The same owner seen holding hw_lock this long: is it still alive? */
#define MON_STALE_NS 1000000ull

static inline uint32_t next_slot(uint32_t i, uint32_t n)
{
	return i + 1 == n ? 0 : i + 1;
}

/* A slot of the ring being mirrored: ours during the sync, but its
 * application may write it at any time, so each field is read once. */
static inline void slot_read(const struct netmap_slot *p, uint32_t *idx, uint16_t *len,
			     uint16_t *fl)
{
	*idx = __atomic_load_n(&p->buf_idx, __ATOMIC_RELAXED);
	*len = __atomic_load_n(&p->len, __ATOMIC_RELAXED);
	*fl = __atomic_load_n(&p->flags, __ATOMIC_RELAXED);
}

/* Frames (slots that end a packet) in [from, to) of src: what a drop
 * costs, for every frame of a busy or full monitor, so two straight runs
 * of plain loads (the compiler unrolls them).  A value the application
 * rewrites meanwhile can only make the count wrong. */
static uint64_t frames_run(const struct netmap_slot *s, uint32_t a, uint32_t b)
{
	uint64_t f = 0;
	uint32_t k;

	for (k = a; k < b; k++)
		f += !(s[k].flags & NS_MOREFRAG);
	return f;
}

static uint64_t frames_in(const struct unm_mon_src *src, uint32_t from, uint32_t to)
{
	if (from <= to)
		return frames_run(src->ring->slot, from, to);
	return frames_run(src->ring->slot, from, src->n) + frames_run(src->ring->slot, 0, to);
}

static inline void count(_Atomic uint64_t *c, uint64_t v)
{
	if (v)
		atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

/*
 * Take hw_lock without waiting.  A holder that keeps it for long may have
 * died in the middle of a copy (killed): once the same owner has been
 * seen for MON_STALE_NS, ask whether it is alive, and take the lock over
 * if not.  A monitor can fake an owner that is alive: then it gets
 * nothing, which is all it can do to itself.
 */
static bool mon_trylock(struct unm_mon_ring *m, uint64_t me)
{
	uint64_t cur = 0, t;

	/* A: acquires the previous producer's slot writes and hw_idx,
	 * published by its release in mon_unlock() */
	if (atomic_compare_exchange_strong_explicit(&m->ctl->hw_lock, &cur, me,
						    memory_order_acquire, memory_order_relaxed))
		return true;
	if (cur == me)
		return false;	/* another thread of ours is mirroring */
	t = unm_owner_now_ns();
	if (cur != m->busy_owner) {
		m->busy_owner = cur;
		m->busy_since = t;
		return false;
	}
	if (t - m->busy_since < MON_STALE_NS)
		return false;
	m->busy_since = t;
	if (!unm_owner_dead(cur))
		return false;
	return atomic_compare_exchange_strong_explicit(&m->ctl->hw_lock, &cur, me,
						       memory_order_acquire, memory_order_relaxed);
}

static void mon_unlock(struct unm_mon_ring *m)
{
	/* R: our slot writes and hw_idx, to the next producer's acquire */
	atomic_store_explicit(&m->ctl->hw_lock, 0, memory_order_release);
}

/* Wake the monitor if it said it would sleep. */
static void mon_kick(struct unm_mon_ring *m)
{
	uint64_t one = 1;

	/* F: orders our release store of hw_idx before the load of
	 * app_sleep; pairs with the fence in unm_port_arm() between the
	 * monitor's flag store and its re-check of the ring */
	atomic_thread_fence(memory_order_seq_cst);
	if (m->wake_fd >= 0 && atomic_load_explicit(&m->ctl->app_sleep, memory_order_relaxed) &&
	    atomic_exchange_explicit(&m->ctl->app_sleep, 0, memory_order_relaxed)) {
		if (write(m->wake_fd, &one, sizeof(one)) < 0) {
			/* EAGAIN: the counter is saturated, it wakes anyway */
		}
	}
}

/*
 * Where the new frames go.  *fill: the first free slot of the monitor
 * ring.  If [*from, to) does not fit, the oldest frames are skipped (then
 * the rest of a packet cut in two) and counted in *dropped: netmap keeps
 * the newest.  Returns false if the monitor's indices are impossible
 * (everything is dropped then).
 */
static bool mon_reserve(struct unm_mon_ring *m, const struct unm_mon_src *src, uint32_t *from,
			uint32_t to, uint32_t *fill, uint64_t *dropped)
{
	uint32_t n = m->n, f, rel, room, cnt, skip, k;
	bool more = false;

	/* untrusted, though only producers should write it: we hold the lock */
	f = atomic_load_explicit(&m->ctl->hw_idx, memory_order_relaxed);
	/* untrusted: what the monitor released.  A: pairs with its release
	 * store in its rxsync, so it no longer uses those buffers. */
	rel = atomic_load_explicit(&m->ctl->app_idx, memory_order_acquire);
	if (f >= n || rel >= n) {
		*dropped += frames_in(src, *from, to);
		return false;
	}
	room = unm_idx_dist(f, unm_idx_prev(rel, n), n);
	cnt = unm_idx_dist(*from, to, src->n);
	if (room == 0) {
		/* full: the common case of a monitor nobody reads */
		*dropped += frames_in(src, *from, to);
		*from = to;
	} else if (cnt > room) {
		skip = cnt - room;
		for (k = *from; k != to && (skip > 0 || more); skip -= skip > 0) {
			uint16_t fl = __atomic_load_n(&src->ring->slot[k].flags, __ATOMIC_RELAXED);

			more = fl & NS_MOREFRAG;
			*dropped += !more;
			k = next_slot(k, src->n);
		}
		*from = k;
	}
	*fill = f;
	return true;
}

static inline uint16_t mon_flags(const struct unm_mon_ring *m, const struct unm_mon_src *src,
				 uint16_t fl)
{
	if (m->flags & UNM_MON_T_CHAIN)
		return fl;
	return (uint16_t)((fl & ~NS_TXMON) | src->txmon);
}

/* Publish what we filled, count, unlock, wake. */
static void mon_finish(struct unm_mon_ring *m, uint32_t start, uint32_t fill, uint64_t pkts,
		       uint64_t dropped)
{
	if (fill != start)
		/* R: the slots and buffers we wrote, to the monitor's
		 * acquire load of hw_idx in its rxsync */
		atomic_store_explicit(&m->ctl->hw_idx, fill, memory_order_release);
	count(&m->ctl->hw_pkts, pkts);
	count(&m->ctl->hw_drops, dropped);
	mon_unlock(m);
	if (fill != start)
		mon_kick(m);
}

void unm_mon_copy(struct unm_mon_ring *m, const struct unm_mon_src *src, uint32_t from,
		  uint32_t to, uint64_t me)
{
	uint64_t pkts = 0, dropped = 0;
	uint32_t fill, start, k;

	if (from == to || from >= src->n || to >= src->n)
		return;
	if (!mon_trylock(m, me)) {
		count(&m->ctl->hw_busy, frames_in(src, from, to));
		return;
	}
	if (!mon_reserve(m, src, &from, to, &fill, &dropped)) {
		count(&m->ctl->hw_drops, dropped);
		mon_unlock(m);
		return;
	}
	start = fill;
	for (k = from; k != to; k = next_slot(k, src->n)) {
		struct netmap_slot *d = &m->ring->slot[fill];
		uint32_t sidx, didx, len;
		uint16_t slen, fl;

		slot_read(&src->ring->slot[k], &sidx, &slen, &fl);
		/* untrusted: the buffer the monitor left in its free slot */
		didx = __atomic_load_n(&d->buf_idx, __ATOMIC_RELAXED);
		if (didx < 2 || didx >= m->buf_total) {
			/* the monitor broke its own ring: nothing passes
			 * this slot until it mends it */
			dropped += frames_in(src, k, to);
			break;
		}
		len = slen;
		if (sidx < 2 || sidx >= src->buf_total || len > src->buf_size)
			len = 0;	/* the application's slot is bad */
		if (len > m->buf_size)
			len = m->buf_size;	/* truncated to the monitor's buffer */
		memcpy(m->bufs + (size_t)didx * m->buf_size,
		       src->bufs + (size_t)sidx * src->buf_size, len);
		d->len = (uint16_t)len;
		d->flags = mon_flags(m, src, fl);
		pkts += !(fl & NS_MOREFRAG);
		fill = next_slot(fill, m->n);
	}
	mon_finish(m, start, fill, pkts, dropped);
}

void unm_mon_swap(struct unm_mon_ring *m, const struct unm_mon_src *src, uint32_t from,
		  uint32_t to, uint64_t me)
{
	uint64_t pkts = 0, dropped = 0;
	uint32_t fill, start, k;

	if (from == to || from >= src->n || to >= src->n)
		return;
	if (!mon_trylock(m, me)) {
		count(&m->ctl->hw_busy, frames_in(src, from, to));
		return;
	}
	if (!mon_reserve(m, src, &from, to, &fill, &dropped)) {
		count(&m->ctl->hw_drops, dropped);
		mon_unlock(m);
		return;
	}
	start = fill;
	for (k = from; k != to; k = next_slot(k, src->n)) {
		struct netmap_slot *s = &src->ring->slot[k], *d = &m->ring->slot[fill];
		uint32_t sidx, didx;
		uint16_t slen, fl, dlen;

		slot_read(s, &sidx, &slen, &fl);
		if (sidx < 2 || sidx >= src->buf_total) {
			/* no buffer to give: the frame is lost, the slot kept */
			dropped += !(fl & NS_MOREFRAG);
			continue;
		}
		/* untrusted, from the monitor: in range is all we can check
		 * (it shares the region, as a pipe peer does) */
		didx = __atomic_load_n(&d->buf_idx, __ATOMIC_RELAXED);
		dlen = __atomic_load_n(&d->len, __ATOMIC_RELAXED);
		if (didx < 2 || didx >= m->buf_total) {
			dropped += frames_in(src, k, to);
			break;
		}
		d->buf_idx = sidx;
		d->len = slen;
		d->flags = mon_flags(m, src, fl);
		/* the monitored side gets the monitor's buffer, as netmap
		 * does: len and all, flagged as changed */
		s->buf_idx = didx;
		s->len = dlen <= src->buf_size ? dlen : (uint16_t)src->buf_size;
		s->flags = fl | NS_BUF_CHANGED;
		pkts += !(fl & NS_MOREFRAG);
		fill = next_slot(fill, m->n);
	}
	mon_finish(m, start, fill, pkts, dropped);
}

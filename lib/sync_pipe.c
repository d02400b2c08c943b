/*
 * sync_pipe.c - the pipe "hardware": the other end's sync code.
 *
 * Linked rings A (our TX) and B (the peer's RX) have the same slot count
 * and one set of buffers between them.  Each side writes only its own
 * ring and control block, and reads the other's:
 *
 *   A txsync  publishes A.ctl.app_idx = head          (slots handed over)
 *             reclaims [A.hwtail+1, B.ctl.app_idx)    copying B's slots
 *   B rxsync  publishes B.ctl.app_idx = head          (slots released)
 *             imports  [B.hwtail, A.ctl.app_idx)      copying A's slots,
 *                                                      whole packets only
 *
 * Copies are whole slots (buf_idx, len, flags, ptr), so buffers travel
 * with them: zero copy, and a receiver may swap buffers before releasing
 * (the sender then finds the swapped-in buffer in its reclaimed slot, as
 * with netmap's pipes).  Every slot and index read from the other side is
 * checked: an out-of-range buffer becomes buffer 0 with length 0, an
 * impossible index is ignored (nothing moves).
 */
#include "internal.h"

/* A slot from the other side, made safe for ours.  NS_BUF_CHANGED is
 * consumed by the transfer itself. */
static inline void slot_import(const struct unm_ring *r, struct netmap_slot *dst,
			       const struct netmap_slot *src)
{
	struct netmap_slot s = *src;	/* read once */

	if (__builtin_expect(s.buf_idx < 2 || s.buf_idx >= r->buf_total, 0)) {
		s.buf_idx = 0;
		s.len = 0;
	} else if (__builtin_expect(s.len > r->buf_size, 0)) {
		s.len = (uint16_t)r->buf_size;
	}
	s.flags &= (uint16_t)~NS_BUF_CHANGED;
	*dst = s;
}

static int pipe_txsync(struct unm_ring *r, uint32_t head)
{
	uint32_t n = r->n, hwcur = r->ctl->hwcur, hwtail = r->ctl->hwtail;
	uint32_t first = unm_idx_add(hwtail, 1, n), cons, k;

	/* reclaim what the receiver released.
	 * A: pairs with the receiver's release store of app_idx: its slot
	 * writes (swapped buffers) are visible before we copy them back. */
	cons = atomic_load_explicit(&r->peer_ctl->app_idx, memory_order_acquire);
	if (unm_idx_between(first, cons, hwcur, n) && cons != first) {
		for (k = first; k != cons; k = k + 1 == n ? 0 : k + 1) {
			/* the peer's slots are modified in the other core's
			 * cache: ask for them early (measured: +30% on a busy
			 * pipe, the copy loops are latency-bound without it) */
			__builtin_prefetch(&r->peer->slot[k + 16 < n ? k + 16 : k + 16 - n]);
			slot_import(r, &r->ring->slot[k], &r->peer->slot[k]);
		}
		hwtail = unm_idx_prev(cons, n);
		r->ctl->hwtail = hwtail;
	}
	if (head != hwcur) {
		r->ctl->hwcur = head;
		/* R: publishes the slots [hwcur, head) we filled, to the
		 * receiver's acquire load in pipe_rxsync() */
		atomic_store_explicit(&r->ctl->app_idx, head, memory_order_release);
		unm_kick(r, &r->peer_ctl->app_sleep);
	}
	return 0;
}

static int pipe_rxsync(struct unm_ring *r, uint32_t head)
{
	uint32_t n = r->n, hwcur = r->ctl->hwcur, hwtail = r->ctl->hwtail, prod, k, done;

	if (head != hwcur) {
		hwcur = head;
		r->ctl->hwcur = head;
		/* R: releases slots [old hwcur, head) to the sender's acquire
		 * load in pipe_txsync() */
		atomic_store_explicit(&r->ctl->app_idx, head, memory_order_release);
		unm_kick(r, &r->peer_ctl->app_sleep);
	}
	/* A: pairs with the sender's release store of app_idx */
	prod = atomic_load_explicit(&r->peer_ctl->app_idx, memory_order_acquire);
	if (prod == hwtail || !unm_idx_between(hwtail, prod, unm_idx_prev(hwcur, n), n))
		return 0;
	done = hwtail;
	for (k = hwtail; k != prod;) {
		struct netmap_slot *s = &r->ring->slot[k];

		__builtin_prefetch(&r->peer->slot[k + 16 < n ? k + 16 : k + 16 - n]);
		slot_import(r, s, &r->peer->slot[k]);
		k = k + 1 == n ? 0 : k + 1;
		/* only whole packets are exposed */
		if (!(s->flags & NS_MOREFRAG))
			done = k;
	}
	r->ctl->hwtail = done;
	return 0;
}

const struct unm_port_ops unm_pipe_ops = {
	.name = "pipe",
	.txsync = pipe_txsync,
	.rxsync = pipe_rxsync,
};

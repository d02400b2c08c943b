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
 * Copies are whole slots (buf_idx, len, flags, ptr), flags included, as
 * netmap's pipes copy them: buffers travel with them (zero copy), and a
 * receiver that swaps in another buffer and sets NS_BUF_CHANGED before
 * releasing the slot is heard by the sender, which finds the swapped-in
 * buffer and the flag in its reclaimed slot (pkt-gen, which fills its
 * buffers once, writes a frame again only when it sees the flag).
 *
 * The peer is untrusted: its published index is read once and ignored
 * unless it lies where the protocol allows, each of its slots is read
 * once into a local and an out-of-range buffer becomes buffer 0 with
 * length 0.  Our own kring state comes validated in *k (sync.c); the
 * loops run over [validated index, validated index) of a ring of the
 * trusted size, so they end within n steps whatever the peer writes.
 */
#include "internal.h"

/* Read a slot the other side may be rewriting right now, once, and make
 * it safe for ours: two single loads (buf_idx/len/flags, then ptr) so no
 * field is ever read twice.  Returns the slot's flags. */
static inline uint16_t slot_import(const struct unm_ring *r, struct netmap_slot *dst,
				   const struct netmap_slot *src)
{
	const uint64_t *w = (const uint64_t *)(const void *)src;
	uint64_t w0 = __atomic_load_n(&w[0], __ATOMIC_RELAXED);
	struct netmap_slot s;

	s.buf_idx = (uint32_t)w0;
	s.len = (uint16_t)(w0 >> 32);
	s.flags = (uint16_t)(w0 >> 48);
	s.ptr = __atomic_load_n(&w[1], __ATOMIC_RELAXED);
	if (__builtin_expect(s.buf_idx < 2 || s.buf_idx >= r->buf_total, 0)) {
		s.buf_idx = 0;
		s.len = 0;
	} else if (__builtin_expect(s.len > r->buf_size, 0)) {
		s.len = (uint16_t)r->buf_size;
	}
	*dst = s;
	return s.flags;
}

_Static_assert(offsetof(struct netmap_slot, buf_idx) == 0 &&
	       offsetof(struct netmap_slot, len) == 4 &&
	       offsetof(struct netmap_slot, flags) == 6 &&
	       offsetof(struct netmap_slot, ptr) == 8 && sizeof(struct netmap_slot) == 16,
	       "slot_import() reads a slot as two 64-bit words");

/* Ask early for the peer's slot 16 ahead: it is modified in the other
 * core's cache (measured: +30% on a busy pipe, the copy loops are
 * latency-bound without it). */
static inline void prefetch_peer(const struct unm_ring *r, uint32_t k, uint32_t n)
{
	__builtin_prefetch(&r->peer->slot[k + 16 < n ? k + 16 : k + 16 - n]);
}

static int pipe_txsync(struct unm_ring *r, struct unm_kring *kr, uint32_t head)
{
	uint32_t n = r->n, first = unm_idx_add(kr->hwtail, 1, n), cons, k;

	/* reclaim what the receiver released.
	 * A: pairs with the receiver's release store of app_idx: its slot
	 * writes (swapped buffers) are visible before we copy them back. */
	cons = atomic_load_explicit(&r->peer_ctl->app_idx, memory_order_acquire);
	if (cons != first && unm_idx_between(first, cons, kr->hwcur, n)) {
		for (k = first; k != cons; k = k + 1 == n ? 0 : k + 1) {
			prefetch_peer(r, k, n);
			slot_import(r, &r->ring->slot[k], &r->peer->slot[k]);
		}
		kr->hwtail = unm_idx_prev(cons, n);
	}
	if (head != kr->hwcur) {
		kr->hwcur = head;
		/* R: publishes the slots [hwcur, head) we filled, to the
		 * receiver's acquire load in pipe_rxsync() */
		atomic_store_explicit(&r->ctl->app_idx, head, memory_order_release);
		unm_kick(r, &r->peer_ctl->app_sleep);
	}
	return 0;
}

static int pipe_rxsync(struct unm_ring *r, struct unm_kring *kr, uint32_t head)
{
	uint32_t n = r->n, hwtail = kr->hwtail, prod, k, done;

	if (head != kr->hwcur) {
		kr->hwcur = head;
		/* R: releases slots [old hwcur, head) to the sender's acquire
		 * load in pipe_txsync() */
		atomic_store_explicit(&r->ctl->app_idx, head, memory_order_release);
		unm_kick(r, &r->peer_ctl->app_sleep);
	}
	/* A: pairs with the sender's release store of app_idx */
	prod = atomic_load_explicit(&r->peer_ctl->app_idx, memory_order_acquire);
	if (prod == hwtail || !unm_idx_between(hwtail, prod, unm_idx_prev(kr->hwcur, n), n))
		return 0;
	done = hwtail;
	for (k = hwtail; k != prod;) {
		uint16_t fl;

		prefetch_peer(r, k, n);
		fl = slot_import(r, &r->ring->slot[k], &r->peer->slot[k]);
		k = k + 1 == n ? 0 : k + 1;
		/* only whole packets are exposed */
		if (!(fl & NS_MOREFRAG))
			done = k;
	}
	kr->hwtail = done;
	return 0;
}

const struct unm_port_ops unm_pipe_ops = {
	.name = "pipe",
	.txsync = pipe_txsync,
	.rxsync = pipe_rxsync,
};

/*
 * sync_hw.c - rings whose "hardware" is another party that writes the
 * control block's line 1: netmapd's VALE switch, a NIC engine.
 *
 *   TX: we publish ctl.app_idx = head; the hardware consumes slots and
 *       publishes ctl.hw_idx (consumed up to); tail = hw_idx - 1.
 *   RX: we publish ctl.app_idx = head (released); the hardware fills
 *       slots and publishes ctl.hw_idx (filled up to, whole packets only);
 *       tail = hw_idx.
 * The hardware sleeps when idle after setting ctl.hw_sleep; we kick it
 * (its eventfd) only then.  hw_idx is read once and ignored when out of
 * the range the protocol allows; our kring state comes validated in *k.
 */
#include "internal.h"

static int hw_txsync(struct unm_ring *r, struct unm_kring *k, uint32_t head)
{
	uint32_t n = r->n, first = unm_idx_add(k->hwtail, 1, n), done;

	/* A: pairs with the hardware's release store of hw_idx after it has
	 * finished reading the slots */
	done = atomic_load_explicit(&r->ctl->hw_idx, memory_order_acquire);
	if (done != first && unm_idx_between(first, done, k->hwcur, n))
		k->hwtail = unm_idx_prev(done, n);
	if (head != k->hwcur) {
		k->hwcur = head;
		/* R: publishes the slots [hwcur, head) to the hardware */
		atomic_store_explicit(&r->ctl->app_idx, head, memory_order_release);
		unm_kick(r, &r->ctl->hw_sleep);
	}
	return 0;
}

static int hw_rxsync(struct unm_ring *r, struct unm_kring *k, uint32_t head)
{
	uint32_t n = r->n, filled;

	if (head != k->hwcur) {
		k->hwcur = head;
		/* R: releases slots [old hwcur, head) to the hardware */
		atomic_store_explicit(&r->ctl->app_idx, head, memory_order_release);
		unm_kick(r, &r->ctl->hw_sleep);
	}
	/* A: pairs with the hardware's release store after filling slots */
	filled = atomic_load_explicit(&r->ctl->hw_idx, memory_order_acquire);
	if (filled != k->hwtail &&
	    unm_idx_between(k->hwtail, filled, unm_idx_prev(k->hwcur, n), n))
		k->hwtail = filled;
	return 0;
}

const struct unm_port_ops unm_hw_ops = {
	.name = "hw",
	.txsync = hw_txsync,
	.rxsync = hw_rxsync,
};

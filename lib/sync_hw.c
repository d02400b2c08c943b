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
 * the range the protocol allows.
 */
#include "internal.h"

static int hw_txsync(struct unm_ring *r, uint32_t head)
{
	uint32_t n = r->n, hwcur = r->ctl->hwcur, hwtail = r->ctl->hwtail;
	uint32_t first = unm_idx_add(hwtail, 1, n), done;

	/* A: pairs with the hardware's release store of hw_idx after it has
	 * finished reading the slots */
	done = atomic_load_explicit(&r->ctl->hw_idx, memory_order_acquire);
	if (done != first && unm_idx_between(first, done, hwcur, n))
		r->ctl->hwtail = unm_idx_prev(done, n);
	if (head != hwcur) {
		r->ctl->hwcur = head;
		/* R: publishes the slots [hwcur, head) to the hardware */
		atomic_store_explicit(&r->ctl->app_idx, head, memory_order_release);
		unm_kick(r, &r->ctl->hw_sleep);
	}
	return 0;
}

static int hw_rxsync(struct unm_ring *r, uint32_t head)
{
	uint32_t n = r->n, hwcur = r->ctl->hwcur, hwtail = r->ctl->hwtail, filled;

	if (head != hwcur) {
		hwcur = head;
		r->ctl->hwcur = head;
		/* R: releases slots [old hwcur, head) to the hardware */
		atomic_store_explicit(&r->ctl->app_idx, head, memory_order_release);
		unm_kick(r, &r->ctl->hw_sleep);
	}
	/* A: pairs with the hardware's release store after filling slots */
	filled = atomic_load_explicit(&r->ctl->hw_idx, memory_order_acquire);
	if (filled != hwtail && unm_idx_between(hwtail, filled, unm_idx_prev(hwcur, n), n))
		r->ctl->hwtail = filled;
	return 0;
}

const struct unm_port_ops unm_hw_ops = {
	.name = "hw",
	.txsync = hw_txsync,
	.rxsync = hw_rxsync,
};

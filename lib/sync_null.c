/*
 * sync_null.c - null ports.
 *
 * netmap's null adapter (NR_REG_NULL): syncs do nothing at all.
 * unetmap's null:NAME: TX is a sink (every slot handed over comes back at
 * once) and RX an endless source (every released slot is full again).
 */
#include "internal.h"

static int null_sync(struct unm_ring *r, struct unm_kring *k, uint32_t head)
{
	(void)r;
	(void)k;
	(void)head;
	return 0;
}

/* TX sink and RX source alike: every slot handed over comes back full */
static int loop_sync(struct unm_ring *r, struct unm_kring *k, uint32_t head)
{
	k->hwcur = head;
	k->hwtail = unm_idx_prev(head, r->n);
	return 0;
}

const struct unm_port_ops unm_null_ops = {
	.name = "null",
	.txsync = null_sync,
	.rxsync = null_sync,
};

const struct unm_port_ops unm_nullsink_ops = {
	.name = "null-sink",
	.txsync = loop_sync,
	.rxsync = loop_sync,
};

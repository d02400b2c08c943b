/*
 * badabi.c - a VALE module built for the next module ABI, which netmapd
 * must refuse (41_vale_module_contain).  Not an example.
 */
#include <unetmap/vale_module.h>

static uint32_t hub(const struct unm_vale_frame *f, uint8_t *dst_ring, void *priv)
{
	(void)f, (void)dst_ring, (void)priv;
	return NM_BDG_BROADCAST;
}

UNM_VALE_MODULE_EXPORT const struct unm_vale_module unm_vale_module = {
	.abi = UNM_VALE_MODULE_ABI + 1,
	.size = sizeof(struct unm_vale_module),
	.name = "badabi",
	.lookup = hub,
};

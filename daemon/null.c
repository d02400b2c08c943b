/*
 * null.c - null ports.
 *
 * NR_REG_NULL requests get netmap's null adapter: a fresh port named
 * "null:<name>" whose rings live in an existing region (nr_mem_id,
 * mandatory) and whose syncs do nothing.
 *
 * "null:NAME" is unetmap's own port name: a port with its own region whose
 * TX rings are a sink (every slot handed over is reclaimed at once) and
 * whose RX rings are an endless source of 60-byte frames, for tests and
 * benchmarks.  Several descriptors may open the same null:NAME; it goes
 * away with the last one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nmd.h"

#define NULL_MAX_RINGS 256
#define NULL_MAX_SLOTS 4096

static uint32_t pick(uint32_t v, uint32_t def, uint32_t max)
{
	if (v == 0)
		return def;
	return v > max ? max : v;
}

int nmd_null_open(const char *name, uint16_t mem_id, bool sink,
		  const struct nmreq_register *reg, struct nmd_port **out,
		  char *msg, size_t msglen)
{
	struct nmd_ring_req rq;
	struct nmd_port *p;
	int err;

	if (sink) {
		p = nmd_named_find(name);
		if (p) {
			*out = p;
			return 0;
		}
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->wake[0] = p->wake[1] = p->hw_kick = -1;
	if (sink) {
		struct nmd_region_params rp;

		snprintf(p->name, sizeof(p->name), "%s", name);
		p->kind = NMD_PORT_NULLSINK;
		rq.nrings[UNM_DIR_TX] = pick(reg->nr_tx_rings, 1, NULL_MAX_RINGS);
		rq.nrings[UNM_DIR_RX] = pick(reg->nr_rx_rings, 1, NULL_MAX_RINGS);
		rq.nslots[UNM_DIR_TX] = pick(reg->nr_tx_slots, 1024, NULL_MAX_SLOTS);
		rq.nslots[UNM_DIR_RX] = pick(reg->nr_rx_slots, 1024, NULL_MAX_SLOTS);
		nmd_region_default_params(&rp);
		if (mem_id) {
			p->rg = nmd_region_find(mem_id);
			if (!p->rg) {
				snprintf(msg, msglen, "no memory region %u", mem_id);
				free(p);
				return -EINVAL;
			}
		} else {
			p->rg = nmd_region_new(&rp, &err);
			if (!p->rg) {
				free(p);
				return err;
			}
		}
	} else {
		/* netmap's null adapter: counts verbatim, zero allowed */
		snprintf(p->name, sizeof(p->name), "null:%s", name);
		p->kind = NMD_PORT_NULL;
		p->rg = mem_id ? nmd_region_find(mem_id) : NULL;
		if (!p->rg) {
			snprintf(msg, msglen, "null ports need an existing memory region (mem_id %u)",
				 mem_id);
			free(p);
			return -EINVAL;
		}
		rq.nrings[UNM_DIR_TX] = reg->nr_tx_rings > NULL_MAX_RINGS ? NULL_MAX_RINGS : reg->nr_tx_rings;
		rq.nrings[UNM_DIR_RX] = reg->nr_rx_rings > NULL_MAX_RINGS ? NULL_MAX_RINGS : reg->nr_rx_rings;
		rq.nslots[UNM_DIR_TX] = reg->nr_tx_slots > NULL_MAX_SLOTS ? NULL_MAX_SLOTS : reg->nr_tx_slots;
		rq.nslots[UNM_DIR_RX] = reg->nr_rx_slots > NULL_MAX_SLOTS ? NULL_MAX_SLOTS : reg->nr_rx_slots;
	}
	nmd_region_ref(p->rg);
	err = nmd_port_alloc_rings(p, &rq, sink);
	if (err) {
		snprintf(msg, msglen, "cannot allocate rings for %s: %s", p->name,
			 strerror(-err));
		nmd_region_unref(p->rg);
		free(p);
		return err;
	}
	if (sink)
		nmd_named_add(p);
	nmd_info("null port %s created (region %u)", p->name, p->rg->mem_id);
	*out = p;
	return 0;
}

void nmd_null_unbound(struct nmd_port *p)
{
	if (p->nbind > 0)
		return;
	if (p->kind == NMD_PORT_NULLSINK)
		nmd_named_del(p);
	nmd_info("null port %s removed", p->name);
	nmd_port_free_rings(p, true);
	nmd_region_unref(p->rg);
	free(p);
}

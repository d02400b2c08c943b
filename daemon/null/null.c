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

static int null_open_common(const char *name, uint16_t mem_id, bool sink,
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
		p->ops = &nmd_nullsink_ops;
		rq.nrings[UNM_DIR_TX] = pick(reg->nr_tx_rings, 1, NULL_MAX_RINGS);
		rq.nrings[UNM_DIR_RX] = pick(reg->nr_rx_rings, 1, NULL_MAX_RINGS);
		rq.nslots[UNM_DIR_TX] = pick(reg->nr_tx_slots, 1024, NULL_MAX_SLOTS);
		rq.nslots[UNM_DIR_RX] = pick(reg->nr_rx_slots, 1024, NULL_MAX_SLOTS);
		nmd_region_default_params(&rp);
		if (mem_id) {
			p->rg = nmd_region_join(mem_id, msg, msglen, &err);
			if (!p->rg) {
				free(p);
				return err;
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
		p->ops = &nmd_null_ops;
		if (!mem_id) {
			snprintf(msg, msglen, "null ports need an existing memory region (mem_id 0)");
			free(p);
			return -EINVAL;
		}
		/* the null port hands out the region's memfd: never one that
		 * was sealed for somebody else */
		p->rg = nmd_region_join(mem_id, msg, msglen, &err);
		if (!p->rg) {
			free(p);
			return err;
		}
		rq.nrings[UNM_DIR_TX] = reg->nr_tx_rings > NULL_MAX_RINGS ? NULL_MAX_RINGS : reg->nr_tx_rings;
		rq.nrings[UNM_DIR_RX] = reg->nr_rx_rings > NULL_MAX_RINGS ? NULL_MAX_RINGS : reg->nr_rx_rings;
		rq.nslots[UNM_DIR_TX] = reg->nr_tx_slots > NULL_MAX_SLOTS ? NULL_MAX_SLOTS : reg->nr_tx_slots;
		rq.nslots[UNM_DIR_RX] = reg->nr_rx_slots > NULL_MAX_SLOTS ? NULL_MAX_SLOTS : reg->nr_rx_slots;
	}
	nmd_region_ref(p->rg);
	err = nmd_port_alloc_rings(p, &rq, sink ? NMD_RINGS_NULLSRC : 0);
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

static void null_released(struct nmd_port *p)
{
	if (p->nbind > 0)
		return;
	if (p->ops == &nmd_nullsink_ops)
		nmd_named_del(p);
	nmd_info("null port %s removed", p->name);
	nmd_port_free_rings(p, true);
	nmd_region_unref(p->rg);
	free(p);
}

/* netmap's null adapter: NR_REG_NULL, whatever the name */
static bool null_claims(const char *name, const struct nmreq_register *reg)
{
	(void)name;
	return reg && reg->nr_mode == NR_REG_NULL;
}

static int null_open(struct nmd_client *c, const char *name, struct nmreq_register *reg,
		     struct nmd_port **out, char *msg, size_t msglen)
{
	(void)c;
	return null_open_common(name, reg->nr_mem_id, false, reg, out, msg, msglen);
}

static bool nullsink_claims(const char *name, const struct nmreq_register *reg)
{
	(void)reg;
	return strncmp(name, "null:", 5) == 0;
}

static int nullsink_open(struct nmd_client *c, const char *name, struct nmreq_register *reg,
			 struct nmd_port **out, char *msg, size_t msglen)
{
	(void)c;
	if (reg->nr_mode != NR_REG_ALL_NIC && reg->nr_mode != NR_REG_ONE_NIC) {
		snprintf(msg, msglen, "%s has no host rings", name);
		return -EINVAL;
	}
	if (name[5] == '\0') {
		snprintf(msg, msglen, "null port needs a name after 'null:'");
		return -EINVAL;
	}
	return null_open_common(name, reg->nr_mem_id, true, reg, out, msg, msglen);
}

/* PORT_INFO_GET of null:NAME: the port, or what REGISTER would create */
static int nullsink_info(struct nmd_client *c, const char *name, struct nmreq_port_info_get *pi,
			 char *msg, size_t msglen)
{
	struct nmd_port *p = nmd_named_find(name);

	(void)c;
	(void)msg;
	(void)msglen;
	pi->nr_tx_rings = (uint16_t)(p ? p->nrings[UNM_DIR_TX] : 1);
	pi->nr_rx_rings = (uint16_t)(p ? p->nrings[UNM_DIR_RX] : 1);
	pi->nr_tx_slots = p ? p->ring[UNM_DIR_TX][0].nslots : 1024;
	pi->nr_rx_slots = p ? p->ring[UNM_DIR_RX][0].nslots : 1024;
	pi->nr_host_tx_rings = pi->nr_host_rx_rings = 0;
	if (p) {
		pi->nr_memsize = p->rg->size;
		pi->nr_mem_id = p->rg->mem_id;
	} else {
		struct nmd_region_params rp;

		nmd_region_default_params(&rp);
		pi->nr_memsize = rp.if_size + rp.ring_size + (uint64_t)rp.buf_total * rp.buf_size;
		pi->nr_mem_id = 0;
	}
	return 0;
}

const struct nmd_port_ops nmd_null_ops = {
	.name = "null",
	.claims = null_claims,
	.open = null_open,
	.wire_kind = UNM_KIND_NULL,
	.released = null_released,
	.verbatim = true,
};

const struct nmd_port_ops nmd_nullsink_ops = {
	.name = "null-sink",
	.claims = nullsink_claims,
	.open = nullsink_open,
	.info = nullsink_info,
	.wire_kind = UNM_KIND_NULLSINK,
	.released = null_released,
};

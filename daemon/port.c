/*
 * port.c - what every port kind shares: ring objects and their initial
 * state, the per-direction wake eventfds, and the registry of named ports.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "nmd.h"

static struct nmd_port *named;

struct netmap_ring *nmd_ring_ptr(const struct nmd_port *p, const struct nmd_ring *r)
{
	return (struct netmap_ring *)(p->rg->base + r->ofs);
}

struct unm_ring_ctl *nmd_ring_ctl(const struct nmd_port *p, const struct nmd_ring *r)
{
	return unm_ring_ctl(nmd_ring_ptr(p, r));
}

/* netmap declares the kernel-owned ring fields const; this is the kernel. */
#define KSET(field, val) do { __typeof__(field) v_ = (val); \
	memcpy((void *)(uintptr_t)&(field), &v_, sizeof(v_)); } while (0)

static void ring_init(struct nmd_port *p, struct nmd_ring *r, bool fresh_bufs,
		      uint16_t len)
{
	struct netmap_ring *ring = nmd_ring_ptr(p, r);
	struct unm_ring_ctl *ctl = unm_ring_ctl(ring);
	uint32_t n = r->nslots, k;

	KSET(ring->buf_ofs, (int64_t)p->rg->buf_ofs - (int64_t)r->ofs);
	KSET(ring->num_slots, n);
	KSET(ring->nr_buf_size, p->rg->buf_size);
	KSET(ring->ringid, r->id);
	KSET(ring->dir, (uint16_t)UNM_NETMAP_DIR(r->dir));
	ring->head = ring->cur = 0;
	ring->tail = r->dir == UNM_DIR_TX && n ? n - 1 : 0;
	ctl->hwcur = 0;
	ctl->hwtail = ring->tail;
	ctl->rhead = ctl->rcur = 0;
	atomic_store_explicit(&ctl->app_idx, 0, memory_order_relaxed);
	atomic_store_explicit(&ctl->hw_idx, 0, memory_order_relaxed);
	for (k = 0; k < n; k++) {
		struct netmap_slot *s = &ring->slot[k];

		s->buf_idx = fresh_bufs ? nmd_region_alloc_buf(p->rg) : 0;
		s->len = len;
		s->flags = 0;
		s->ptr = 0;
	}
}

static void ring_free_bufs(struct nmd_port *p, struct nmd_ring *r)
{
	struct netmap_ring *ring = nmd_ring_ptr(p, r);
	uint32_t k;

	for (k = 0; k < r->nslots; k++)
		nmd_region_free_buf(p->rg, ring->slot[k].buf_idx);
}

/*
 * Allocate and initialise the port's rings.  Pipes ask for empty RX rings
 * and fill them themselves (see pipe/pipe.c); every other kind gets fresh
 * buffers in every ring.
 */
int nmd_port_alloc_rings(struct nmd_port *p, const struct nmd_ring_req *rq, unsigned flags)
{
	bool pipe = flags & NMD_RINGS_RX_EMPTY, nullsrc = flags & NMD_RINGS_NULLSRC;
	uint32_t need = 0;
	int d, err = -ENOMEM;

	for (d = 0; d < 2; d++) {
		p->nrings[d] = rq->nrings[d];
		if (!pipe || d == UNM_DIR_TX)
			need += rq->nrings[d] * rq->nslots[d];
	}
	if (need > p->rg->buf_free)
		return -ENOMEM;
	for (d = 0; d < 2; d++) {
		uint32_t i;

		p->ring[d] = calloc(p->nrings[d] ? p->nrings[d] : 1, sizeof(struct nmd_ring));
		if (!p->ring[d])
			goto fail;
		for (i = 0; i < p->nrings[d]; i++) {
			struct nmd_ring *r = &p->ring[d][i];
			size_t sz = unm_ring_obj_size(rq->nslots[d]);
			uint64_t obj = nmd_region_alloc_ring(p->rg, sz);

			if (!obj)
				goto fail;
			r->ofs = obj + UNM_RING_CTL_SIZE;
			r->nslots = rq->nslots[d];
			r->id = (uint16_t)i;
			r->dir = (uint8_t)d;
			ring_init(p, r, !pipe || d == UNM_DIR_TX,
				  nullsrc && d == UNM_DIR_RX ? 60 : (uint16_t)p->rg->buf_size);
		}
		p->wake[d] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p->wake[d] < 0) {
			err = -errno;
			goto fail;
		}
	}
	return 0;
fail:
	/* pipe RX slots still hold buffer 0 here, which freeing ignores */
	nmd_port_free_rings(p, true);
	return err;
}

void nmd_port_free_rings(struct nmd_port *p, bool free_bufs)
{
	int d;

	for (d = 0; d < 2; d++) {
		uint32_t i;

		if (!p->ring[d])
			continue;
		for (i = 0; i < p->nrings[d]; i++) {
			struct nmd_ring *r = &p->ring[d][i];

			if (!r->ofs)
				continue;
			if (free_bufs)
				ring_free_bufs(p, r);
			nmd_region_free_ring(p->rg, r->ofs - UNM_RING_CTL_SIZE,
					     unm_ring_obj_size(r->nslots));
		}
		free(p->ring[d]);
		p->ring[d] = NULL;
		if (p->wake[d] >= 0)
			close(p->wake[d]);
		p->wake[d] = -1;
	}
}

/* Wake every binder of the port (state changed under them). */
void nmd_port_kick(const struct nmd_port *p)
{
	uint64_t one = 1;
	int d;

	for (d = 0; d < 2; d++)
		if (p->wake[d] >= 0 && write(p->wake[d], &one, sizeof(one)) < 0)
			nmd_debug("kick %s: %s", p->name, strerror(errno));
}

struct nmd_port *nmd_named_find(const char *name)
{
	struct nmd_port *p;

	for (p = named; p; p = p->next)
		if (strcmp(p->name, name) == 0)
			return p;
	/* VALE ports keep their own registry */
	return nmd_vale_find(name);
}

void nmd_named_add(struct nmd_port *p)
{
	p->next = named;
	named = p;
}

void nmd_named_del(struct nmd_port *p)
{
	struct nmd_port **pp;

	for (pp = &named; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			return;
		}
	}
}

void nmd_ring_unbound(struct nmd_port *p, struct nmd_ring *r)
{
	/* R: nobody syncs the ring any more; a binder that comes later
	 * acquires the lock word with its first sync */
	atomic_store_explicit(&nmd_ring_ctl(p, r)->lock, 0, memory_order_release);
}

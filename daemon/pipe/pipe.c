/*
 * pipe.c - netmap pipes: "<parent>{<id>" (master) and "<parent>}<id>"
 * (slave).  Both ends are created together on the first open of either,
 * in the parent's region, so every pipe of one parent can exchange buffers
 * with every other (zero-copy forwarding).  A parent that is not an
 * existing port is created on demand and goes away with its last pipe,
 * like netmap's auto-deleted persistent VALE port.
 *
 * Linked rings: master TX i <-> slave RX i, slave TX j <-> master RX j,
 * with one set of buffers per linked pair: the RX ring starts as a copy of
 * the TX ring's slot array, and afterwards slots travel between the two
 * arrays at sync time (lib/sync_pipe.c).  Which array holds the truth for
 * slot k at teardown follows from the two rings' kring state; see
 * pipe_free_pair_bufs().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nmd.h"

#define PIPE_MAX_PER_PARENT 64
#define PIPE_MAX_RINGS      256
#define PIPE_MAX_SLOTS      4096
#define PIPE_DEF_SLOTS      1024

struct nmd_parent {
	char name[NETMAP_REQ_IFNAMSIZ];
	struct nmd_region *rg;
	struct nmd_port *vale;		/* a VALE port we hold alive */
	struct nmd_pipe *pipes;
	int npipes;
	struct nmd_parent *next;
};

struct nmd_pipe {
	struct nmd_parent *parent;
	char id[NETMAP_REQ_IFNAMSIZ];
	struct nmd_port end[2];		/* [0] master '{', [1] slave '}' */
	struct nmd_pipe *next;
};

static struct nmd_parent *parents;
static int npipes_total;

int nmd_pipe_count(void)
{
	return npipes_total;
}

/* Split "<parent>{<id>" / "<parent>}<id>".  Returns 0 (master) or 1
 * (slave), or -EINVAL. */
static int pipe_split(const char *name, char *parent, char *id)
{
	const char *b = strrchr(name, '{');
	int slave = 0;

	if (!b) {
		b = strrchr(name, '}');
		slave = 1;
	}
	if (!b || b == name || b[1] == '\0')
		return -EINVAL;
	if ((size_t)(b - name) >= NETMAP_REQ_IFNAMSIZ || strlen(b + 1) >= NETMAP_REQ_IFNAMSIZ)
		return -EINVAL;
	memcpy(parent, name, (size_t)(b - name));
	parent[b - name] = '\0';
	strcpy(id, b + 1);
	return slave;
}

static struct nmd_parent *parent_find(const char *name)
{
	struct nmd_parent *pa;

	for (pa = parents; pa; pa = pa->next)
		if (strcmp(pa->name, name) == 0)
			return pa;
	return NULL;
}

/*
 * The parent of a pipe, found or created.  mem_id != 0 asks for the pipes
 * to live in that region (netmap's "NAME{N@MEMID", lb's output groups):
 * a new parent is created there; an existing one must already be there.
 */
static struct nmd_parent *parent_get(const char *name, uint16_t mem_id, int *err,
				     char *msg, size_t msglen)
{
	struct nmd_parent *pa = parent_find(name);
	struct nmd_port *held, *owner;
	struct nmd_region *rg;

	if (pa) {
		if (mem_id && mem_id != pa->rg->mem_id) {
			snprintf(msg, msglen, "the pipes of %s live in memory region %u, not %u",
				 name, pa->rg->mem_id, mem_id);
			*err = -EINVAL;
			return NULL;
		}
		return pa;
	}
	/* a VALE port name: the port is held (created if needed) */
	held = nmd_vale_parent_hold(name, err);
	if (*err) {
		snprintf(msg, msglen, "cannot create pipe parent '%s': %s", name, strerror(-*err));
		return NULL;
	}
	owner = held ? held : nmd_named_find(name);
	rg = NULL;
	if (owner) {
		/* pipes of an existing port live in that port's region */
		rg = owner->rg;
		if (mem_id && mem_id != rg->mem_id) {
			snprintf(msg, msglen, "%s lives in memory region %u, not %u", name,
				 rg->mem_id, mem_id);
			*err = -EINVAL;
			goto fail;
		}
	} else if (mem_id) {
		rg = nmd_region_find(mem_id);
		if (!rg) {
			snprintf(msg, msglen, "no memory region %u", mem_id);
			*err = -EINVAL;
			goto fail;
		}
	}
	if (rg && !nmd_region_shareable(rg, msg, msglen)) {
		*err = -EPERM;
		goto fail;
	}
	pa = calloc(1, sizeof(*pa));
	if (!pa) {
		*err = -ENOMEM;
		goto fail;
	}
	snprintf(pa->name, sizeof(pa->name), "%s", name);
	pa->vale = held;
	if (!rg) {
		struct nmd_region_params rp;

		nmd_region_default_params(&rp);
		rg = nmd_region_new(&rp, err);
		if (!rg) {
			snprintf(msg, msglen, "cannot create a region for the pipes of %s: %s",
				 name, strerror(-*err));
			free(pa);
			goto fail;
		}
		rg->refs = 0;
	}
	pa->rg = rg;
	nmd_region_ref(pa->rg);
	pa->next = parents;
	parents = pa;
	nmd_info("pipe parent %s uses region %u", pa->name, pa->rg->mem_id);
	return pa;
fail:
	if (held)
		nmd_vale_parent_drop(held);
	return NULL;
}

static void parent_put(struct nmd_parent *pa)
{
	struct nmd_parent **pp;

	if (pa->npipes > 0)
		return;
	for (pp = &parents; *pp; pp = &(*pp)->next) {
		if (*pp == pa) {
			*pp = pa->next;
			break;
		}
	}
	nmd_info("pipe parent %s removed", pa->name);
	nmd_region_unref(pa->rg);
	if (pa->vale)
		nmd_vale_parent_drop(pa->vale);
	free(pa);
}

static uint32_t clamp(uint32_t v, uint32_t def, uint32_t max)
{
	if (v == 0)
		return def;
	return v > max ? max : v;
}

/* Copy the TX ring's slot array into its linked RX ring: one set of
 * buffers per pair. */
static void link_pair(struct nmd_port *txp, struct nmd_ring *tx,
		      struct nmd_port *rxp, struct nmd_ring *rx)
{
	struct netmap_ring *t = nmd_ring_ptr(txp, tx), *r = nmd_ring_ptr(rxp, rx);

	memcpy(r->slot, t->slot, sizeof(struct netmap_slot) * tx->nslots);
	tx->peer = rx;
	rx->peer = tx;
}

static struct nmd_pipe *pipe_create(struct nmd_parent *pa, const char *id,
				    int opener, const struct nmd_ring_req *rq,
				    int *err)
{
	struct nmd_pipe *pp = calloc(1, sizeof(*pp));
	struct nmd_ring_req mr, sr;
	int e;
	uint32_t i;

	if (!pp) {
		*err = -ENOMEM;
		return NULL;
	}
	pp->parent = pa;
	snprintf(pp->id, sizeof(pp->id), "%s", id);
	/* Geometry is fixed by whoever creates the pair, seen from the end
	 * it opens; the other end gets the swapped values. */
	memset(&mr, 0, sizeof(mr));
	{
		int me = opener == 0 ? UNM_DIR_TX : UNM_DIR_RX;
		int other = me == UNM_DIR_TX ? UNM_DIR_RX : UNM_DIR_TX;

		/* master TX = opener's TX when the opener is the master,
		 * the opener's RX when it is the slave */
		mr.nrings[UNM_DIR_TX] = clamp(rq->nrings[me], 1, PIPE_MAX_RINGS);
		mr.nrings[UNM_DIR_RX] = clamp(rq->nrings[other], 1, PIPE_MAX_RINGS);
		mr.nslots[UNM_DIR_TX] = clamp(rq->nslots[me], PIPE_DEF_SLOTS, PIPE_MAX_SLOTS);
		mr.nslots[UNM_DIR_RX] = clamp(rq->nslots[other], PIPE_DEF_SLOTS, PIPE_MAX_SLOTS);
	}
	sr.nrings[UNM_DIR_TX] = mr.nrings[UNM_DIR_RX];
	sr.nrings[UNM_DIR_RX] = mr.nrings[UNM_DIR_TX];
	sr.nslots[UNM_DIR_TX] = mr.nslots[UNM_DIR_RX];
	sr.nslots[UNM_DIR_RX] = mr.nslots[UNM_DIR_TX];

	for (i = 0; i < 2; i++) {
		struct nmd_port *p = &pp->end[i];

		p->ops = &nmd_pipe_ops;
		p->rg = pa->rg;
		p->pipe = pp;
		p->wake[0] = p->wake[1] = p->hw_kick = -1;
		/* fits: the opener's name, of the same length, did */
		{
			size_t pl = strlen(pa->name), il = strlen(id);

			if (pl + 1 + il >= sizeof(p->name)) {
				free(pp);
				*err = -ENAMETOOLONG;
				return NULL;
			}
			memcpy(p->name, pa->name, pl);
			p->name[pl] = i == 0 ? '{' : '}';
			memcpy(p->name + pl + 1, id, il + 1);
		}
	}
	e = nmd_port_alloc_rings(&pp->end[0], &mr, NMD_RINGS_RX_EMPTY);
	if (e == 0) {
		e = nmd_port_alloc_rings(&pp->end[1], &sr, NMD_RINGS_RX_EMPTY);
		if (e)
			nmd_port_free_rings(&pp->end[0], true);
	}
	if (e) {
		free(pp);
		*err = e;
		return NULL;
	}
	for (i = 0; i < mr.nrings[UNM_DIR_TX]; i++)
		link_pair(&pp->end[0], &pp->end[0].ring[UNM_DIR_TX][i],
			  &pp->end[1], &pp->end[1].ring[UNM_DIR_RX][i]);
	for (i = 0; i < sr.nrings[UNM_DIR_TX]; i++)
		link_pair(&pp->end[1], &pp->end[1].ring[UNM_DIR_TX][i],
			  &pp->end[0], &pp->end[0].ring[UNM_DIR_RX][i]);
	pp->next = pa->pipes;
	pa->pipes = pp;
	pa->npipes++;
	npipes_total++;
	nmd_info("pipe %s{%s created (region %u, %u/%u rings, %u/%u slots)",
		 pa->name, id, pa->rg->mem_id, mr.nrings[0], mr.nrings[1],
		 mr.nslots[0], mr.nslots[1]);
	return pp;
}

static struct nmd_pipe *pipe_find(struct nmd_parent *pa, const char *id)
{
	struct nmd_pipe *pp;

	for (pp = pa->pipes; pp; pp = pp->next)
		if (strcmp(pp->id, id) == 0)
			return pp;
	return NULL;
}

static bool pipe_claims(const char *name, const struct nmreq_register *reg)
{
	(void)reg;
	return strchr(name, '{') || strchr(name, '}');
}

static int pipe_open(struct nmd_client *c, const char *name, struct nmreq_register *reg,
		     struct nmd_port **out, char *msg, size_t msglen)
{
	char parent[NETMAP_REQ_IFNAMSIZ], id[NETMAP_REQ_IFNAMSIZ];
	struct nmd_ring_req rq;
	struct nmd_parent *pa;
	struct nmd_pipe *pp;
	int end = pipe_split(name, parent, id), err = 0;

	(void)c;
	if (reg->nr_mode != NR_REG_ALL_NIC && reg->nr_mode != NR_REG_ONE_NIC) {
		snprintf(msg, msglen, "%s: pipes accept only all-rings or one-ring modes", name);
		return -EINVAL;
	}
	if (end < 0) {
		snprintf(msg, msglen, "invalid pipe name '%s'", name);
		return -EINVAL;
	}
	pa = parent_get(parent, reg->nr_mem_id, &err, msg, msglen);
	if (!pa)
		return err;
	pp = pipe_find(pa, id);
	if (!pp) {
		/* a sealed region (VM passthrough of some of these pipes)
		 * takes no new ones: its holder would share them */
		if (!nmd_region_shareable(pa->rg, msg, msglen)) {
			parent_put(pa);
			return -EPERM;
		}
		if (pa->npipes >= PIPE_MAX_PER_PARENT) {
			snprintf(msg, msglen, "too many pipes on '%s' (max %d)",
				 parent, PIPE_MAX_PER_PARENT);
			parent_put(pa);
			return -EINVAL;
		}
		rq.nrings[UNM_DIR_TX] = reg->nr_tx_rings;
		rq.nrings[UNM_DIR_RX] = reg->nr_rx_rings;
		rq.nslots[UNM_DIR_TX] = reg->nr_tx_slots;
		rq.nslots[UNM_DIR_RX] = reg->nr_rx_slots;
		pp = pipe_create(pa, id, end, &rq, &err);
		if (!pp) {
			snprintf(msg, msglen, "cannot create pipe '%s': %s", name,
				 strerror(-err));
			parent_put(pa);
			return err;
		}
	}
	*out = &pp->end[end];
	return 0;
}

/*
 * Free the buffers of one linked pair at teardown.  Slot k's buffer is in
 * the RX ring's array if the RX side has imported it and the TX side has
 * not yet reclaimed it back: k in [tx.hwtail + 1, rx.hwtail).  Elsewhere
 * the TX array holds it.  Both indices come from shared memory: out of
 * range values only make the split wrong, and freeing is idempotent.
 */
static void pipe_free_pair_bufs(struct nmd_port *txp, struct nmd_ring *tx,
				struct nmd_port *rxp, struct nmd_ring *rx)
{
	struct netmap_ring *t = nmd_ring_ptr(txp, tx), *r = nmd_ring_ptr(rxp, rx);
	uint32_t n = tx->nslots, k, start, stop;

	start = unm_ring_ctl(t)->hwtail;
	stop = unm_ring_ctl(r)->hwtail;
	start = start < n ? unm_idx_add(start, 1, n) : 0;
	stop = stop < n ? stop : start;
	for (k = 0; k < n; k++) {
		bool in_rx = unm_idx_dist(start, k, n) < unm_idx_dist(start, stop, n);

		nmd_region_free_buf(txp->rg, in_rx ? r->slot[k].buf_idx : t->slot[k].buf_idx);
	}
}

static void pipe_destroy(struct nmd_pipe *pp)
{
	struct nmd_parent *pa = pp->parent;
	struct nmd_pipe **l;
	uint32_t i;

	for (i = 0; i < pp->end[0].nrings[UNM_DIR_TX]; i++)
		pipe_free_pair_bufs(&pp->end[0], &pp->end[0].ring[UNM_DIR_TX][i],
				    &pp->end[1], &pp->end[1].ring[UNM_DIR_RX][i]);
	for (i = 0; i < pp->end[1].nrings[UNM_DIR_TX]; i++)
		pipe_free_pair_bufs(&pp->end[1], &pp->end[1].ring[UNM_DIR_TX][i],
				    &pp->end[0], &pp->end[0].ring[UNM_DIR_RX][i]);
	nmd_port_free_rings(&pp->end[0], false);
	nmd_port_free_rings(&pp->end[1], false);
	for (l = &pa->pipes; *l; l = &(*l)->next) {
		if (*l == pp) {
			*l = pp->next;
			break;
		}
	}
	pa->npipes--;
	npipes_total--;
	nmd_info("pipe %s{%s destroyed", pa->name, pp->id);
	free(pp);
	parent_put(pa);
}

static void set_peer_gone(struct nmd_port *p, bool gone)
{
	int d;
	uint32_t i;

	for (d = 0; d < 2; d++) {
		for (i = 0; i < p->nrings[d]; i++) {
			struct unm_ring_ctl *ctl = nmd_ring_ctl(p, &p->ring[d][i]);

			/* R: the flag is read by the peer's sync code after it
			 * wakes from our kick below (eventfd write orders it) */
			if (gone)
				atomic_fetch_or_explicit(&ctl->state, UNM_RING_PEER_GONE,
							 memory_order_release);
			else
				atomic_fetch_and_explicit(&ctl->state, ~UNM_RING_PEER_GONE,
							  memory_order_release);
		}
	}
	if (gone)
		nmd_port_kick(p);
}

static struct nmd_port *pipe_peer(struct nmd_port *end)
{
	struct nmd_pipe *pp = end->pipe;

	return &pp->end[end == &pp->end[0] ? 1 : 0];
}

static void pipe_bound(struct nmd_port *end)
{
	if (end->nbind == 1)
		set_peer_gone(pipe_peer(end), false);
}

static void pipe_released(struct nmd_port *end)
{
	struct nmd_port *other = pipe_peer(end);

	if (end->nbind > 0)
		return;
	if (other->nbind == 0) {
		pipe_destroy(end->pipe);
		return;
	}
	set_peer_gone(other, true);
}

/* REGISTER reply: each ring kicks the sleepers of its linked ring, which
 * is in the other direction of the other end. */
static int pipe_bind_info(struct nmd_port *p, struct nmd_req *r)
{
	struct nmd_port *peer = pipe_peer(p);
	struct unm_bind_info *bi = r->bind;
	uint32_t k;

	r->fds[3] = peer->wake[UNM_DIR_TX];
	r->fds[4] = peer->wake[UNM_DIR_RX];
	r->nfds = 5;
	for (k = 0; k < bi->nrings; k++) {
		struct unm_bind_ring *br = &bi->ring[k];
		struct nmd_ring *ring = &p->ring[br->dir][br->ringid];

		br->peer_ofs = ring->peer->ofs;
		br->kick_fd = (int16_t)(3 + (1 - br->dir));
	}
	return 0;
}

static int pipe_info(struct nmd_client *c, const char *name, struct nmreq_port_info_get *out,
		     char *msg, size_t msglen)
{
	char parent[NETMAP_REQ_IFNAMSIZ], id[NETMAP_REQ_IFNAMSIZ];
	struct nmd_parent *pa;
	struct nmd_pipe *pp = NULL;
	int end = pipe_split(name, parent, id);
	struct nmd_region_params rp;

	(void)c;
	(void)msg;
	(void)msglen;
	pa = end >= 0 ? parent_find(parent) : NULL;
	if (pa)
		pp = pipe_find(pa, id);
	if (pp) {
		struct nmd_port *p = &pp->end[end];

		out->nr_tx_rings = (uint16_t)p->nrings[UNM_DIR_TX];
		out->nr_rx_rings = (uint16_t)p->nrings[UNM_DIR_RX];
		out->nr_tx_slots = p->ring[UNM_DIR_TX][0].nslots;
		out->nr_rx_slots = p->ring[UNM_DIR_RX][0].nslots;
	} else {
		out->nr_tx_rings = out->nr_rx_rings = 1;
		out->nr_tx_slots = out->nr_rx_slots = PIPE_DEF_SLOTS;
	}
	out->nr_host_tx_rings = out->nr_host_rx_rings = 0;
	if (pa) {
		out->nr_memsize = pa->rg->size;
		out->nr_mem_id = pa->rg->mem_id;
	} else {
		nmd_region_default_params(&rp);
		out->nr_memsize = rp.if_size + rp.ring_size +
				  (uint64_t)rp.buf_total * rp.buf_size;
		out->nr_mem_id = 0;
	}
	return 0;
}

/* The pipe end `name` if the pipe exists (for a monitor of it); never
 * creates one. */
static struct nmd_port *pipe_find_end(struct nmd_client *c, const char *name)
{
	char parent[NETMAP_REQ_IFNAMSIZ], id[NETMAP_REQ_IFNAMSIZ];
	int end = pipe_split(name, parent, id);
	struct nmd_parent *pa = end >= 0 ? parent_find(parent) : NULL;
	struct nmd_pipe *pp = pa ? pipe_find(pa, id) : NULL;

	(void)c;
	return pp ? &pp->end[end] : NULL;
}

const struct nmd_port_ops nmd_pipe_ops = {
	.name = "pipe",
	.claims = pipe_claims,
	.open = pipe_open,
	.info = pipe_info,
	.wire_kind = UNM_KIND_PIPE,
	.bound = pipe_bound,
	.released = pipe_released,
	.bind_info = pipe_bind_info,
	.find = pipe_find_end,
};

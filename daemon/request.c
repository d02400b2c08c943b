/*
 * request.c - the semantics of netmap's control requests (NIOCCTRL), as
 * the kernel would apply them: name resolution, REGISTER and its binding,
 * PORT_INFO_GET, POOLS_INFO_GET (the VALE requests are in vale.c).  The
 * library has already done the kernel's copyin (option walking, size
 * limits, duplicate detection); here every option starts with status
 * EOPNOTSUPP and a consumer clears it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nmd.h"
#include "unm_nic.h"
#include "unm_veth.h"
#include "unm_mon.h"
#include "unm_vale.h"
#include "unm_vm.h"
#include "unm_vxlan.h"

/* netmap's bound for a VALE port's extra buffers (128 x 4096), for every
 * port here: linking them touches every buffer (1 GB at 2 KB each), so
 * one request must not ask for more */
#define UNM_MAX_EXTRA_BUFS (128u * 4096u)

#define FAIL(r, e, ...) do { snprintf((r)->msg_text, sizeof((r)->msg_text), __VA_ARGS__); \
	return -(e); } while (0)

/* Which of the port's rings a REGISTER binds (netmap §2.4). */
static int bound_rings(const struct nmd_port *p, const struct nmreq_register *reg,
		       struct nmd_binding *b, struct nmd_req *r)
{
	int d;

	switch (reg->nr_mode) {
	case NR_REG_ALL_NIC:
	case NR_REG_NULL:
		for (d = 0; d < 2; d++) {
			b->first[d] = 0;
			b->count[d] = p->nrings[d];
		}
		break;
	case NR_REG_ONE_NIC:
		if (reg->nr_ringid >= p->nrings[UNM_DIR_TX] &&
		    reg->nr_ringid >= p->nrings[UNM_DIR_RX])
			FAIL(r, EINVAL, "ring %u out of range for %s", reg->nr_ringid, p->name);
		for (d = 0; d < 2; d++) {
			b->first[d] = reg->nr_ringid < p->nrings[d] ? reg->nr_ringid : 0;
			b->count[d] = p->nrings[d] ? 1 : 0;
		}
		break;
	default:
		FAIL(r, EINVAL, "%s has no host rings (mode %u)", p->name, reg->nr_mode);
	}
	if (reg->nr_flags & NR_TX_RINGS_ONLY)
		b->count[UNM_DIR_RX] = 0;
	if (reg->nr_flags & NR_RX_RINGS_ONLY)
		b->count[UNM_DIR_TX] = 0;
	return 0;
}

static int check_exclusive(const struct nmd_port *p, const struct nmd_binding *b,
			   bool excl, struct nmd_req *r)
{
	int d;
	uint32_t i;

	for (d = 0; d < 2; d++) {
		for (i = b->first[d]; i < b->first[d] + b->count[d]; i++) {
			const struct nmd_ring *ring = &p->ring[d][i];

			if (ring->excl || (excl && ring->users > 0))
				FAIL(r, EBUSY, "%s %s ring %u is busy%s", p->name,
				     d == UNM_DIR_TX ? "tx" : "rx", i,
				     ring->excl ? " (exclusive)" : "");
		}
	}
	return 0;
}

static char *region_buf(struct nmd_region *rg, uint32_t idx)
{
	return rg->base + rg->buf_ofs + (uint64_t)idx * rg->buf_size;
}

/* Hand out up to n extra buffers as a list linked through each buffer's
 * first 4 bytes.  Returns the head (0: none) and the count in *got. */
static uint32_t extra_bufs_alloc(struct nmd_region *rg, uint32_t n, uint32_t *got)
{
	uint32_t head = 0, k, run = 0, prev = 0;

	for (k = 0; k < n; k++) {
		uint32_t idx = nmd_region_alloc_buf(rg);

		if (!idx)
			break;
		/* Linking writes into every buffer: fault the pages of each run
		 * of consecutive buffers in with one call rather than one fault
		 * per page (measured: 524288 buffers in 0.35 s instead of
		 * 0.9 s on a loaded 2-core VM). */
		if (idx != prev + 1 || run == 4096) {
			nmd_region_populate(rg, idx, n - k < 4096 ? n - k : 4096);
			run = 0;
		}
		run++;
		prev = idx;
		memcpy(region_buf(rg, idx), &head, sizeof(head));
		head = idx;
	}
	*got = k;
	return head;
}

/* On unbind netmap frees whatever list ni_bufs_head points to now.  The
 * list is in shared memory: the walk is bounded and skips bad indices.
 * The pages of what it frees go back to the kernel. */
static void extra_bufs_free(struct nmd_region *rg, uint32_t head)
{
	uint32_t steps = 0, lo = UINT32_MAX, hi = 0;

	while (nmd_region_buf_valid(rg, head) && steps++ < rg->buf_total) {
		uint32_t next;

		memcpy(&next, region_buf(rg, head), sizeof(next));
		nmd_region_free_buf(rg, head);
		lo = head < lo ? head : lo;
		hi = head > hi ? head : hi;
		head = next;
	}
	if (lo <= hi)
		nmd_region_trim(rg, lo, hi);
}

static void fill_nifp(struct nmd_port *p, struct nmd_binding *b, uint32_t bufs_head)
{
	struct netmap_if *nifp = (struct netmap_if *)(p->rg->base + b->nifp_ofs);
	uint32_t ntx = p->nrings[UNM_DIR_TX], nrx = p->nrings[UNM_DIR_RX], i;
	ssize_t *ofs = (ssize_t *)(uintptr_t)nifp->ring_ofs;

	/* netmap truncates the adapter name to IFNAMSIZ - 1 characters */
	memset(nifp->ni_name, 0, sizeof(nifp->ni_name));
	memcpy(nifp->ni_name, p->name, strnlen(p->name, sizeof(nifp->ni_name) - 1));
	*(uint32_t *)(uintptr_t)&nifp->ni_version = 0;
	*(uint32_t *)(uintptr_t)&nifp->ni_flags = p->rg->mem_id != 1 ? NI_PRIV_MEM : 0;
	*(uint32_t *)(uintptr_t)&nifp->ni_tx_rings = ntx;
	*(uint32_t *)(uintptr_t)&nifp->ni_rx_rings = nrx;
	*(uint32_t *)(uintptr_t)&nifp->ni_host_tx_rings = 1;
	*(uint32_t *)(uintptr_t)&nifp->ni_host_rx_rings = 1;
	nifp->ni_bufs_head = bufs_head;
	/* ring_ofs is 0 for every ring not bound to this descriptor */
	for (i = 0; i < ntx + 1 + nrx + 1; i++)
		ofs[i] = 0;
	for (i = b->first[UNM_DIR_TX]; i < b->first[UNM_DIR_TX] + b->count[UNM_DIR_TX]; i++)
		ofs[i] = (ssize_t)p->ring[UNM_DIR_TX][i].ofs - (ssize_t)b->nifp_ofs;
	for (i = b->first[UNM_DIR_RX]; i < b->first[UNM_DIR_RX] + b->count[UNM_DIR_RX]; i++)
		ofs[ntx + 1 + i] = (ssize_t)p->ring[UNM_DIR_RX][i].ofs - (ssize_t)b->nifp_ofs;
}

/* Build the bind info and descriptor list the library needs to run the
 * rings' sync code; the kind adds what is its own. */
static int fill_bind_info(struct nmd_port *p, struct nmd_binding *b, struct nmd_req *r)
{
	uint32_t n = b->count[0] + b->count[1], k = 0, i;
	struct unm_bind_info *bi;
	int d;

	r->bind_len = sizeof(*bi) + n * sizeof(struct unm_bind_ring);
	bi = calloc(1, r->bind_len);
	if (!bi)
		return -ENOMEM;
	bi->kind = p->ops->wire_kind;
	bi->nrings = n;
	bi->region_id = p->rg->wire_id;
	bi->region_size = p->rg->size;
	bi->buf_pool_ofs = p->rg->buf_ofs;
	bi->buf_size = p->rg->buf_size;
	bi->buf_total = p->rg->buf_total;
	bi->nifp_ofs = b->nifp_ofs;
	bi->mem_id = p->rg->mem_id;
	r->fds[0] = p->rg->memfd;
	r->fds[1] = p->wake[UNM_DIR_TX];
	r->fds[2] = p->wake[UNM_DIR_RX];
	r->nfds = 3;
	for (d = 0; d < 2; d++) {
		for (i = b->first[d]; i < b->first[d] + b->count[d]; i++) {
			struct nmd_ring *ring = &p->ring[d][i];
			struct unm_bind_ring *br = &bi->ring[k++];

			br->ring_ofs = ring->ofs;
			br->nslots = ring->nslots;
			br->ringid = ring->id;
			br->dir = (uint8_t)d;
			br->wake_fd = (int16_t)(1 + d);
			br->kick_fd = -1;
		}
	}
	if (p->hw_kick >= 0) {
		/* hardware-driven port: every ring kicks the hardware */
		r->fds[3] = p->hw_kick;
		r->nfds = 4;
		for (k = 0; k < n; k++)
			bi->ring[k].kick_fd = 3;
	}
	r->bind = bi;
	return p->ops->bind_info ? p->ops->bind_info(p, r) : 0;
}

static int resolve_port(struct nmd_client *c, struct nmd_req *r, struct nmreq_register *reg,
			struct nmd_port **out)
{
	const char *name = r->msg->hdr.nr_name;
	const struct nmd_port_ops *kind;

	if (name[0] == '\0' && reg->nr_mode != NR_REG_NULL)
		FAIL(r, EINVAL, "empty port name");
	kind = nmd_kind_of(name, reg);
	return kind->open(c, name, reg, out, r->msg_text, sizeof(r->msg_text));
}

/* Undo resolve_port() for a port nobody binds. */
static void port_release(struct nmd_port *p)
{
	p->ops->released(p);
}

static int do_register(struct nmd_client *c, struct nmd_req *r)
{
	struct nmreq_register *reg = r->body;
	struct nmd_binding *b;
	struct nmd_port *p = NULL;
	uint32_t got = 0, head = 0, i;
	int err, d;

	if (c->bind)
		FAIL(r, EBUSY, "descriptor already bound to %s", c->bind->port->name);
	/* descriptors already closed must not hold rings against us */
	nmd_reap_hangups();
	if (reg->nr_mode == NR_REG_DEFAULT || reg->nr_mode == NR_REG_PIPE_MASTER ||
	    reg->nr_mode == NR_REG_PIPE_SLAVE || reg->nr_mode > NR_REG_ONE_SW)
		FAIL(r, EINVAL, "invalid register mode %u", reg->nr_mode);
	for (i = 0; i < r->msg->nopts; i++)
		if (r->opt[i]->nro_status == EOPNOTSUPP)
			FAIL(r, EOPNOTSUPP, "option %u is not supported", r->opt[i]->nro_reqtype);
	err = resolve_port(c, r, reg, &p);
	if (err)
		return err;
	err = nmd_grant_bound(c, p, r);
	if (err) {
		port_release(p);
		return err;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		port_release(p);
		return -ENOMEM;
	}
	b->port = p;
	b->excl = (reg->nr_flags & NR_EXCLUSIVE) != 0;
	b->nr_flags = reg->nr_flags;
	err = bound_rings(p, reg, b, r);
	if (!err)
		err = check_exclusive(p, b, b->excl, r);
	if (err)
		goto fail;
	b->nifp_size = unm_nifp_size(p->nrings[0], p->nrings[1]);
	b->nifp_ofs = nmd_region_alloc_if(p->rg, b->nifp_size);
	if (!b->nifp_ofs) {
		snprintf(r->msg_text, sizeof(r->msg_text), "region %u: no room for an interface",
			 p->rg->mem_id);
		err = -ENOMEM;
		goto fail;
	}
	if (reg->nr_extra_bufs > UNM_MAX_EXTRA_BUFS) {
		snprintf(r->msg_text, sizeof(r->msg_text), "%u extra buffers asked, at most %u "
			 "per descriptor", reg->nr_extra_bufs, UNM_MAX_EXTRA_BUFS);
		nmd_region_free_if(p->rg, b->nifp_ofs, b->nifp_size);
		err = -EINVAL;
		goto fail;
	}
	if (reg->nr_extra_bufs)
		head = extra_bufs_alloc(p->rg, reg->nr_extra_bufs, &got);
	fill_nifp(p, b, head);
	err = fill_bind_info(p, b, r);
	if (err) {
		extra_bufs_free(p->rg, head);
		nmd_region_free_if(p->rg, b->nifp_ofs, b->nifp_size);
		goto fail;
	}
	for (d = 0; d < 2; d++) {
		for (i = b->first[d]; i < b->first[d] + b->count[d]; i++) {
			/* a ring whose last binding was revoked is usable
			 * again by a new one.  R: before the reply that lets
			 * the new binder sync */
			if (p->ring[d][i].users++ == 0)
				atomic_fetch_and_explicit(&nmd_ring_ctl(p, &p->ring[d][i])->state,
							  ~UNM_RING_REVOKED, memory_order_release);
			if (b->excl)
				p->ring[d][i].excl = true;
		}
	}
	p->nbind++;
	if (p->ops->bound)
		p->ops->bound(p);
	p->was_bound = true;
	c->bind = b;

	reg->nr_offset = b->nifp_ofs;
	reg->nr_memsize = p->rg->size;
	if (!p->ops->verbatim) {
		reg->nr_tx_rings = (uint16_t)p->nrings[UNM_DIR_TX];
		reg->nr_rx_rings = (uint16_t)p->nrings[UNM_DIR_RX];
		reg->nr_tx_slots = p->nrings[UNM_DIR_TX] ? p->ring[UNM_DIR_TX][0].nslots : 0;
		reg->nr_rx_slots = p->nrings[UNM_DIR_RX] ? p->ring[UNM_DIR_RX][0].nslots : 0;
	}
	reg->nr_host_tx_rings = reg->nr_host_rx_rings = 0;
	reg->nr_mem_id = p->rg->mem_id;
	reg->nr_extra_bufs = got;
	nmd_info("client %d bound %s (%u tx, %u rx rings%s, region %u)", (int)c->pid,
		 p->name, b->count[UNM_DIR_TX], b->count[UNM_DIR_RX],
		 b->excl ? ", exclusive" : "", p->rg->mem_id);
	return 0;
fail:
	free(b);
	port_release(p);
	return err;
}

void nmd_binding_revoke(struct nmd_binding *b)
{
	struct nmd_port *p = b->port;
	uint32_t i;
	int d;

	for (d = 0; d < 2; d++)
		for (i = b->first[d]; i < b->first[d] + b->count[d]; i++)
			/* R: read by the binders' syncs after the kick below */
			atomic_fetch_or_explicit(&nmd_ring_ctl(p, &p->ring[d][i])->state,
						 UNM_RING_REVOKED, memory_order_release);
	nmd_port_kick(p);
}

int nmd_bind_describe(struct nmd_client *c, struct nmd_req *r)
{
	if (!c->bind)
		return 0;
	return fill_bind_info(c->bind->port, c->bind, r);
}

void nmd_unbind(struct nmd_client *c)
{
	struct nmd_binding *b = c->bind;
	struct nmd_port *p;
	struct netmap_if *nifp;
	uint32_t i;
	int d;

	if (!b)
		return;
	p = b->port;
	nifp = (struct netmap_if *)(p->rg->base + b->nifp_ofs);
	extra_bufs_free(p->rg, nifp->ni_bufs_head);
	nmd_region_free_if(p->rg, b->nifp_ofs, b->nifp_size);
	for (d = 0; d < 2; d++) {
		for (i = b->first[d]; i < b->first[d] + b->count[d]; i++) {
			if (--p->ring[d][i].users == 0)
				nmd_ring_unbound(p, &p->ring[d][i]);
			if (b->excl)
				p->ring[d][i].excl = false;
		}
	}
	nmd_mon_unbound(p, b);
	nmd_info("client %d unbound %s", (int)c->pid, p->name);
	c->bind = NULL;
	free(b);
	p->nbind--;
	port_release(p);
}

/* PORT_INFO_GET of an open port, whatever its kind */
static void port_info(const struct nmd_port *p, struct nmreq_port_info_get *pi)
{
	pi->nr_tx_rings = (uint16_t)p->nrings[UNM_DIR_TX];
	pi->nr_rx_rings = (uint16_t)p->nrings[UNM_DIR_RX];
	pi->nr_tx_slots = p->nrings[UNM_DIR_TX] ? p->ring[UNM_DIR_TX][0].nslots : 0;
	pi->nr_rx_slots = p->nrings[UNM_DIR_RX] ? p->ring[UNM_DIR_RX][0].nslots : 0;
	pi->nr_host_tx_rings = pi->nr_host_rx_rings = 0;
	pi->nr_memsize = p->rg->size;
	pi->nr_mem_id = p->rg->mem_id;
}

/* PORT_INFO_GET of a name: the open port of that name, or what its kind
 * says a REGISTER would give. */
static int name_info(struct nmd_client *c, struct nmd_req *r, const char *name,
		     struct nmreq_port_info_get *pi)
{
	const struct nmd_port_ops *kind = nmd_kind_of(name, NULL);
	struct nmd_port *p = nmd_named_find(name);

	if (p) {
		port_info(p, pi);
		return 0;
	}
	if (!kind->info)
		FAIL(r, ENXIO, "%s: no such port", name);
	return kind->info(c, name, pi, r->msg_text, sizeof(r->msg_text));
}

static int do_port_info(struct nmd_client *c, struct nmd_req *r)
{
	struct nmreq_port_info_get *pi = r->body;
	const char *name = r->msg->hdr.nr_name;

	if (name[0] == '\0') {
		struct nmd_region *rg = nmd_region_find(pi->nr_mem_id ? pi->nr_mem_id : 1);

		if (!rg)
			FAIL(r, EINVAL, "no memory region %u", pi->nr_mem_id);
		pi->nr_memsize = rg->size;
		pi->nr_mem_id = rg->mem_id;
		return 0;
	}
	return name_info(c, r, name, pi);
}

/* The pools of the region a port uses, or would use: a port not open yet
 * reports the layout of the region REGISTER would make for it (mem_id 0
 * until then), as netmap answers for a port it has not attached. */
static int do_pools_info(struct nmd_client *c, struct nmd_req *r)
{
	struct nmreq_pools_info *pi = r->body;
	const char *name = r->msg->hdr.nr_name;
	struct nmd_region *rg = NULL;
	struct nmd_region_params rp;
	int err;

	if (name[0] == '\0')
		FAIL(r, ENXIO, "pools info needs a port name");
	if (c->bind && strcmp(c->bind->port->name, name) == 0) {
		rg = c->bind->port->rg;
	} else {
		struct nmreq_port_info_get info;

		memset(&info, 0, sizeof(info));
		err = name_info(c, r, name, &info);
		if (err)
			return err;
		rg = info.nr_mem_id ? nmd_region_find(info.nr_mem_id) : NULL;
	}
	if (rg) {
		pi->nr_memsize = rg->size;
		pi->nr_mem_id = rg->mem_id;
		pi->nr_if_pool_offset = rg->if_ofs;
		pi->nr_if_pool_objtotal = (uint32_t)(rg->if_size / 1024);
		pi->nr_ring_pool_offset = rg->ring_ofs;
		/* rings vary in size; report the pool in pages so that, as in
		 * netmap, offset + objtotal * objsize is the next pool's offset */
		pi->nr_ring_pool_objtotal = (uint32_t)(rg->ring_size / 4096);
		pi->nr_buf_pool_offset = rg->buf_ofs;
		pi->nr_buf_pool_objtotal = rg->buf_total;
		pi->nr_buf_pool_objsize = rg->buf_size;
	} else {
		nmd_region_default_params(&rp);
		pi->nr_mem_id = 0;
		pi->nr_if_pool_offset = 0;
		pi->nr_if_pool_objtotal = (uint32_t)(rp.if_size / 1024);
		pi->nr_ring_pool_offset = rp.if_size;
		pi->nr_ring_pool_objtotal = (uint32_t)(rp.ring_size / 4096);
		pi->nr_buf_pool_offset = rp.if_size + rp.ring_size;
		pi->nr_buf_pool_objtotal = rp.buf_total;
		pi->nr_buf_pool_objsize = rp.buf_size;
		pi->nr_memsize = pi->nr_buf_pool_offset + (uint64_t)rp.buf_total * rp.buf_size;
	}
	pi->nr_if_pool_objsize = 1024;
	pi->nr_ring_pool_objsize = 4096;
	return 0;
}

static int do_hdr_get(struct nmd_client *c, struct nmd_req *r)
{
	struct nmreq_port_hdr *h = r->body;
	const char *name = r->msg->hdr.nr_name;
	struct nmd_port *p = nmd_named_find(name);
	struct nmreq_port_info_get info;
	int err;

	if (p) {
		h->nr_hdr_len = p->ops->hdr_len ? p->ops->hdr_len(p) : 0;
		return 0;
	}
	/* a port that is not open has no header configured */
	memset(&info, 0, sizeof(info));
	err = name_info(c, r, name, &info);
	if (err)
		return err;
	h->nr_hdr_len = 0;
	return 0;
}

/* UNM_REQ_PORT_SEAL (unm_vale.h) */
static int do_seal(struct nmd_client *c, struct nmd_req *r)
{
	struct unm_port_seal *sl = r->body;
	const char *name = r->msg->hdr.nr_name;
	struct nmreq_port_info_get info;
	struct nmd_region *rg;
	int err;

	sl->holder[sizeof(sl->holder) - 1] = '\0';
	if (!sl->holder[0])
		FAIL(r, EINVAL, "sealing %s needs a holder name", name);
	memset(&info, 0, sizeof(info));
	err = name_info(c, r, name, &info);
	if (err)
		return err;
	rg = info.nr_mem_id ? nmd_region_find(info.nr_mem_id) : NULL;
	if (!rg || rg->pinned)
		FAIL(r, ENXIO, "%s: no open port with a region of its own", name);
	if (rg->sealed_for[0]) {
		if (strcmp(rg->sealed_for, sl->holder) != 0)
			FAIL(r, EPERM, "memory region %u is sealed for %s already", rg->mem_id,
			     rg->sealed_for);
	} else {
		if (rg->refs > 1)
			FAIL(r, EBUSY, "memory region %u of %s is shared by other ports already",
			     rg->mem_id, name);
		nmd_region_seal(rg, sl->holder);
	}
	sl->mem_id = rg->mem_id;
	return 0;
}

int nmd_reply_fd(struct nmd_req *r, int fd)
{
	unsigned i;

	for (i = 0; i < r->nfds; i++)
		if (r->fds[i] == fd)
			return (int)i;
	if (r->nfds >= UNM_WIRE_MAXFDS)
		return -1;
	r->fds[r->nfds] = fd;
	return (int)r->nfds++;
}

int nmd_request(struct nmd_client *c, struct nmd_req *r)
{
	struct nmreq_header *hdr = &r->msg->hdr;
	int err;

	hdr->nr_name[sizeof(hdr->nr_name) - 1] = '\0';
	err = nmd_grant_check(c, r);
	if (err)
		return err;
	switch (hdr->nr_reqtype) {
	case NETMAP_REQ_REGISTER:
		return do_register(c, r);
	case NETMAP_REQ_PORT_INFO_GET:
		return do_port_info(c, r);
	case NETMAP_REQ_POOLS_INFO_GET:
		return do_pools_info(c, r);
	case NETMAP_REQ_PORT_HDR_GET:
		return do_hdr_get(c, r);
	case NETMAP_REQ_PORT_HDR_SET:
	case NETMAP_REQ_VALE_ATTACH:
	case NETMAP_REQ_VALE_DETACH:
	case NETMAP_REQ_VALE_LIST:
	case NETMAP_REQ_VALE_NEWIF:
	case NETMAP_REQ_VALE_DELIF:
	case NETMAP_REQ_VALE_POLLING_ENABLE:
	case NETMAP_REQ_VALE_POLLING_DISABLE:
	case UNM_REQ_VALE_STATS:
	case UNM_REQ_VALE_MODULE:
		return nmd_vale_request(c, r);
	case UNM_REQ_PORT_SEAL:
		return do_seal(c, r);
	case UNM_REQ_GRANT:
	case UNM_REQ_REVOKE:
		return nmd_grant_request(c, r);
	case UNM_REQ_VALE_VHOST:
		return nmd_vhost_request(c, r);
	case UNM_REQ_NIC_INFO:
	case UNM_REQ_VETH_LINK:
		return nmd_nic_request(c, r);
	case UNM_REQ_VXLAN_STATS:
		return nmd_vxlan_request(c, r);
	case UNM_REQ_MON_STATS:
	case UNM_REQ_MON_TARGETS:
		return nmd_mon_request(c, r);
	case UNM_REQ_VM_EXPORT:
	case UNM_REQ_VM_UNEXPORT:
	case UNM_REQ_VM_LIST:
		return nmd_vm_request(c, r);
	case NETMAP_REQ_SYNC_KLOOP_START:
	case NETMAP_REQ_SYNC_KLOOP_STOP:
	case NETMAP_REQ_CSB_ENABLE:
		FAIL(r, EOPNOTSUPP, "sync-kloop and CSB mode are not supported");
	default:
		FAIL(r, EINVAL, "unknown request type %u", hdr->nr_reqtype);
	}
}

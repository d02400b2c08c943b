/*
 * export.c - VM passthrough, host side: netmapd serves exported ports to a
 * QEMU guest as ivshmem-doorbell shared memory (the model is in
 * common/unm_vm.h, the use in docs/passthrough.md).
 *
 * An export holds its ports the way a client's binding does: every ring
 * is bound, exclusively, on behalf of the guest, so the port stays alive
 * and no host process can drive the rings the guest drives.  The region
 * is sealed for the guest, so no port it was not given ever joins it.
 * The ivshmem server runs in the control thread (an nmd_watch), and it
 * only has connection work to do: the data path's kicks are wired
 * straight through QEMU.  For each exported port i,
 *
 *   vector 2i   (TX), 2i+1 (RX):
 *     the guest's MSI-X vector  = the eventfd the port's binders sleep
 *                                 on (p->wake[dir]), which the pipe
 *                                 peer or the switch writes;
 *     the guest's doorbell      = the eventfd the port's rings of that
 *       (peer 0)                  direction kick (the pipe peer's wake
 *                                 eventfd, the switch's hw_kick).
 *
 * The export ends, and its ports are released like a dead client's, when
 * the QEMU that connected goes away or on UNM_REQ_VM_UNEXPORT.  What the
 * guest wrote into the rings meanwhile is untrusted, as any client's:
 * the pipe and switch code validate it when they use or reclaim it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../nmd.h"
#include "ivshmem_server.h"
#include "unm_vm.h"

#define FAIL(r, e, ...) do { snprintf((r)->msg_text, sizeof((r)->msg_text), __VA_ARGS__); \
	return -(e); } while (0)

struct vm_export {
	struct nmd_watch w;		/* the server's descriptor (first) */
	char sock[UNM_VM_SOCK_LEN];
	char holder[UNM_VM_HOLDER_LEN];
	uint32_t index;			/* for UNM_REQ_VM_LIST */
	unsigned nports;
	struct nmd_port *port[UNM_VM_MAX_PORTS];
	struct nmd_region *rg;
	struct nmd_ivshmem_server *srv;
	struct unm_vm_desc *desc;	/* the memfd's last UNM_VM_DESC_SIZE */
	uint64_t file_size;
	unsigned vectors;
	uint16_t peer;			/* the connected QEMU, 0: none yet */
	bool gone;			/* it left: end the export once the
					 * server's callback has returned */
	struct vm_export *next;
};

static struct vm_export *exports;
static uint32_t next_index;

bool nmd_vm_busy(void)
{
	return exports != NULL;
}

/* ---- binding the ports for the guest ---- */

/* What a REGISTER of every ring would do, minus the netmap_if (the guest
 * makes its own) and the extra buffers (the guest gets none). */
static void hold_port(struct nmd_port *p)
{
	uint32_t i;
	int d;

	for (d = 0; d < 2; d++) {
		for (i = 0; i < p->nrings[d]; i++) {
			p->ring[d][i].users++;
			p->ring[d][i].excl = true;
		}
	}
	p->nbind++;
	if (p->ops->bound)
		p->ops->bound(p);
	p->was_bound = true;
}

/* What the hang-up of that client would do; the port may be gone after. */
static void drop_port(struct nmd_port *p)
{
	uint32_t i;
	int d;

	for (d = 0; d < 2; d++) {
		for (i = 0; i < p->nrings[d]; i++) {
			/* the guest's sync lock and kring state may be anything:
			 * nmd_ring_unbound() forgets the lock, the kinds
			 * validate the rest when they reclaim */
			if (--p->ring[d][i].users == 0)
				nmd_ring_unbound(p, &p->ring[d][i]);
			p->ring[d][i].excl = false;
		}
	}
	p->nbind--;
	p->ops->released(p);
}

/* ---- ending an export ---- */

static void export_unlink(struct vm_export *e)
{
	struct vm_export **pp;

	for (pp = &exports; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			return;
		}
	}
}

static void export_end(struct vm_export *e, const char *why)
{
	bool connected = e->peer != 0 && !e->gone;
	unsigned i;

	nmd_info("export %s (%s): ended, %s", e->sock, e->holder, why);
	export_unlink(e);
	if (e->desc)
		/* R: tells a guest that is still running (unexport) that the
		 * ports are no longer held for it; nothing orders against it */
		atomic_store_explicit(&e->desc->state, UNM_VM_STATE_REVOKED,
				      memory_order_release);
	nmd_server_unwatch(&e->w);
	/* closes the connection and removes the socket; a QEMU that is
	 * still running keeps its mapping: ivshmem cannot take memory back
	 * (the region stays sealed for this holder, so nobody else gets it) */
	nmd_ivshmem_server_free(e->srv);
	if (!connected) {
		/* nobody maps the guest's area any more: give its pages back */
		uint64_t from = (e->rg->size + 4095) & ~4095ull;

		if (fallocate(e->rg->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)from, (off_t)(e->file_size - from)) < 0)
			nmd_debug("export %s: cannot release the guest's pages: %s", e->sock,
				  strerror(errno));
	}
	if (e->desc)
		munmap(e->desc, UNM_VM_DESC_SIZE);
	for (i = 0; i < e->nports; i++)
		drop_port(e->port[i]);
	free(e);
}

static void on_join(void *arg, const struct nmd_ivshmem_peer *pe)
{
	struct vm_export *e = arg;

	e->peer = pe->id;
	nmd_info("export %s (%s): QEMU connected (peer %u, %u vectors)", e->sock, e->holder,
		 pe->id, pe->vectors);
}

static void on_leave(void *arg, uint16_t id)
{
	struct vm_export *e = arg;

	if (id == e->peer)
		e->gone = true;
}

static void export_served(struct nmd_watch *w)
{
	struct vm_export *e = (struct vm_export *)w;
	int err = nmd_ivshmem_server_process(e->srv);

	if (err < 0)
		export_end(e, "its ivshmem server failed");
	else if (e->gone)
		export_end(e, "the guest went away (QEMU exited or was killed)");
}

void nmd_vm_fini(void)
{
	while (exports)
		export_end(exports, "netmapd stopping");
}

/* ---- UNM_REQ_VM_EXPORT ---- */

/* The eventfds of one port, by direction, as a REGISTER reply would hand
 * them to a binder: the one its binders sleep on, the one its rings kick.
 * Every ring of a direction must agree (they do for pipes and VALE). */
struct port_fds {
	int wake[2], kick[2];
};

static int describe_port(struct nmd_port *p, struct unm_vm_desc *d, uint32_t *ring_at,
			 struct port_fds *pf, struct nmd_req *r)
{
	struct nmd_binding b = { .port = p };
	struct nmd_client fake = { .fd = -1, .bind = &b };
	struct nmd_req q;
	uint32_t k;
	int dir, err;

	memset(&q, 0, sizeof(q));
	for (dir = 0; dir < 2; dir++) {
		b.first[dir] = 0;
		b.count[dir] = p->nrings[dir];
		pf->wake[dir] = pf->kick[dir] = -2;	/* not seen yet */
	}
	err = nmd_bind_describe(&fake, &q);
	if (err || !q.bind) {
		free(q.bind);
		FAIL(r, err ? -err : ENOMEM, "%s: cannot describe its rings", p->name);
	}
	if (*ring_at + q.bind->nrings > UNM_VM_MAX_RINGS) {
		free(q.bind);
		FAIL(r, EINVAL, "%s: too many rings to pass through (at most %zu in all)", p->name,
		     (size_t)UNM_VM_MAX_RINGS);
	}
	for (k = 0; k < q.bind->nrings; k++) {
		const struct unm_bind_ring *br = &q.bind->ring[k];
		struct unm_vm_ring *vr = &d->ring[*ring_at + k];
		int wake = q.fds[br->wake_fd], kick = br->kick_fd >= 0 ? q.fds[br->kick_fd] : -1;

		vr->ofs = br->ring_ofs;
		vr->peer_ofs = br->peer_ofs;
		vr->nslots = br->nslots;
		vr->ringid = br->ringid;
		vr->dir = br->dir;
		if (pf->wake[br->dir] == -2) {
			pf->wake[br->dir] = wake;
			pf->kick[br->dir] = kick;
		} else if (pf->wake[br->dir] != wake || pf->kick[br->dir] != kick) {
			free(q.bind);
			FAIL(r, EOPNOTSUPP, "%s: its rings of one direction do not share "
			     "eventfds; it cannot be passed through", p->name);
		}
	}
	*ring_at += q.bind->nrings;
	free(q.bind);
	return 0;
}

static bool is_passable(const struct nmd_port *p)
{
	return p->ops != &nmd_guest_ops &&
	       (p->ops->wire_kind == UNM_KIND_PIPE || p->ops->wire_kind == UNM_KIND_HW);
}

/* Open the named ports as a REGISTER of all their rings would. */
static int open_ports(struct nmd_client *c, struct unm_vm_export *ex, struct vm_export *e,
		      struct nmd_req *r)
{
	unsigned i, j;
	int err;

	for (i = 0; i < ex->nports; i++) {
		struct nmreq_register reg;
		const struct nmd_port_ops *kind;
		const char *name = ex->port[i];
		struct nmd_port *p;

		ex->port[i][UNM_VM_NAME_LEN - 1] = '\0';
		if (!name[0])
			FAIL(r, EINVAL, "export: port name %u is empty", i + 1);
		for (j = 0; j < i; j++)
			if (strcmp(ex->port[j], name) == 0)
				FAIL(r, EINVAL, "export: %s named twice", name);
		memset(&reg, 0, sizeof(reg));
		reg.nr_mode = NR_REG_ALL_NIC;
		/* the guest's applications say for themselves */
		reg.nr_flags = NR_ACCEPT_VNET_HDR;
		kind = nmd_kind_of(name, &reg);
		err = kind->open(c, name, &reg, &p, r->msg_text, sizeof(r->msg_text));
		if (err)
			return err;
		e->port[e->nports++] = p;
		if (!is_passable(p))
			FAIL(r, EOPNOTSUPP, "%s: a %s port cannot be passed through "
			     "(pipes and VALE ports can)", name, p->ops->name);
		if (p->rg->pinned)
			FAIL(r, EOPNOTSUPP, "%s lives in the global region, which every NIC "
			     "shares; it cannot be passed through", name);
		if (p->rg != e->port[0]->rg)
			FAIL(r, EINVAL, "%s lives in memory region %u, %s in %u: the ports of "
			     "one export share one region", name, p->rg->mem_id,
			     e->port[0]->name, e->port[0]->rg->mem_id);
		for (int d = 0; d < 2; d++)
			for (uint32_t k = 0; k < p->nrings[d]; k++)
				if (p->ring[d][k].users > 0 || p->ring[d][k].excl)
					FAIL(r, EBUSY, "%s is bound on the host: close it "
					     "before passing it through", name);
	}
	return 0;
}

static int do_export(struct nmd_client *c, struct nmd_req *r)
{
	struct unm_vm_export *ex = r->body;
	int kick[NMD_IVSHMEM_MAX_VECTORS], bell[NMD_IVSHMEM_MAX_VECTORS];
	struct nmd_ivshmem_params sp;
	static const struct nmd_ivshmem_ops ops = { .join = on_join, .leave = on_leave };
	struct unm_vm_desc *d = NULL;
	struct vm_export *e, *o;
	struct stat st;
	uint32_t ring_at = 0;
	unsigned i, v;
	void *m;
	int err;

	ex->sock[sizeof(ex->sock) - 1] = '\0';
	ex->holder[sizeof(ex->holder) - 1] = '\0';
	if (ex->sock[0] != '/')
		FAIL(r, EINVAL, "export: the socket path must be absolute ('%s')", ex->sock);
	if (ex->nports < 1 || ex->nports > UNM_VM_MAX_PORTS)
		FAIL(r, EINVAL, "export: %u ports (1 to %u)", ex->nports, UNM_VM_MAX_PORTS);
	if (ex->vectors == 0)
		ex->vectors = 2 * ex->nports;
	if (ex->vectors < 2 * ex->nports || ex->vectors > NMD_IVSHMEM_MAX_VECTORS)
		FAIL(r, EINVAL, "export: %u vectors; %u ports need %u (at most %u)", ex->vectors,
		     ex->nports, 2 * ex->nports, NMD_IVSHMEM_MAX_VECTORS);
	if (!ex->holder[0]) {
		const char *base = strrchr(ex->sock, '/') + 1;

		snprintf(ex->holder, sizeof(ex->holder), "vm:%.44s", base);
	}
	for (o = exports; o; o = o->next)
		if (strcmp(o->sock, ex->sock) == 0)
			FAIL(r, EBUSY, "export: %.80s serves %.40s already", ex->sock, o->holder);
	e = calloc(1, sizeof(*e));
	d = calloc(1, UNM_VM_DESC_SIZE);
	if (!e || !d) {
		free(e);
		free(d);
		return -ENOMEM;
	}
	snprintf(e->sock, sizeof(e->sock), "%s", ex->sock);
	snprintf(e->holder, sizeof(e->holder), "%s", ex->holder);
	e->vectors = ex->vectors;

	err = open_ports(c, ex, e, r);
	if (err)
		goto fail;
	e->rg = e->port[0]->rg;
	for (o = exports; o; o = o->next)
		if (o->rg == e->rg) {
			snprintf(r->msg_text, sizeof(r->msg_text), "memory region %u is exported "
				 "on %s already", e->rg->mem_id, o->sock);
			err = -EBUSY;
			goto fail;
		}
	if (e->rg->sealed_for[0] && strcmp(e->rg->sealed_for, e->holder) != 0) {
		snprintf(r->msg_text, sizeof(r->msg_text), "memory region %u is sealed for %s",
			 e->rg->mem_id, e->rg->sealed_for);
		err = -EPERM;
		goto fail;
	}
	if (!e->rg->sealed_for[0] && e->rg->refs > 1) {
		snprintf(r->msg_text, sizeof(r->msg_text), "memory region %u is shared with other "
			 "ports; a guest may only get a region of its own", e->rg->mem_id);
		err = -EBUSY;
		goto fail;
	}
	if (fstat(e->rg->memfd, &st) < 0) {
		err = -errno;
		goto fail;
	}
	e->file_size = (uint64_t)st.st_size;
	if ((e->file_size & (e->file_size - 1)) ||
	    e->file_size < ((e->rg->size + 4095) & ~4095ull) + UNM_REGION_TAIL) {
		snprintf(r->msg_text, sizeof(r->msg_text), "memory region %u has no room for a "
			 "guest (%llu bytes in a file of %llu)", e->rg->mem_id,
			 (unsigned long long)e->rg->size, (unsigned long long)e->file_size);
		err = -EINVAL;
		goto fail;
	}

	/* the descriptor, built aside and written in one go */
	d->magic = UNM_VM_MAGIC;
	d->version = UNM_VM_VERSION;
	d->region_size = e->rg->size;
	d->buf_pool_ofs = e->rg->buf_ofs;
	d->buf_size = e->rg->buf_size;
	d->buf_total = e->rg->buf_total;
	d->guest_ofs = (e->rg->size + 4095) & ~4095ull;
	d->guest_size = e->file_size - UNM_VM_DESC_SIZE - d->guest_ofs;
	d->host_mem_id = e->rg->mem_id;
	d->vectors = (uint16_t)e->vectors;
	d->nports = e->nports;
	snprintf(d->holder, sizeof(d->holder), "%s", e->holder);
	for (v = 0; v < NMD_IVSHMEM_MAX_VECTORS; v++)
		kick[v] = bell[v] = -1;
	for (i = 0; i < e->nports; i++) {
		struct nmd_port *p = e->port[i];
		struct unm_vm_port *vp = &d->port[i];
		struct port_fds pf;
		int dir;

		snprintf(vp->name, sizeof(vp->name), "%s", p->name);
		vp->kind = p->ops->wire_kind;
		vp->hdr_len = p->ops->hdr_len ? p->ops->hdr_len(p) : 0;
		vp->first_ring = ring_at;
		err = describe_port(p, d, &ring_at, &pf, r);
		if (err)
			goto fail;
		for (dir = 0; dir < 2; dir++) {
			unsigned vec = 2 * i + (unsigned)dir;

			vp->nrings[dir] = p->nrings[dir];
			vp->wake_vec[dir] = vp->kick_vec[dir] = UNM_VM_NO_VECTOR;
			if (pf.wake[dir] >= 0) {
				kick[vec] = pf.wake[dir];
				vp->wake_vec[dir] = (uint16_t)vec;
			}
			if (pf.kick[dir] >= 0) {
				bell[vec] = pf.kick[dir];
				vp->kick_vec[dir] = (uint16_t)vec;
			}
		}
	}
	d->nrings = ring_at;
	d->size = (uint32_t)(offsetof(struct unm_vm_desc, ring) + ring_at * sizeof(d->ring[0]));

	m = mmap(NULL, UNM_VM_DESC_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, e->rg->memfd,
		 (off_t)(e->file_size - UNM_VM_DESC_SIZE));
	if (m == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	e->desc = m;

	memset(&sp, 0, sizeof(sp));
	sp.path = e->sock;
	sp.mode = (mode_t)(ex->mode & 07777);
	sp.shm_fd = e->rg->memfd;
	sp.vectors = e->vectors;
	sp.max_peers = 1;
	sp.ops = &ops;
	sp.arg = e;
	sp.kick_fds = kick;
	sp.bell_fds = bell;
	err = nmd_ivshmem_server_new(&sp, &e->srv);
	if (err) {
		snprintf(r->msg_text, sizeof(r->msg_text), "export: cannot serve %s: %s%s", e->sock,
			 strerror(-err), err == -EADDRINUSE ? " (another server owns it)" : "");
		goto fail;
	}
	e->w.fd = nmd_ivshmem_server_fd(e->srv);
	e->w.cb = export_served;
	err = nmd_server_watch(&e->w);
	if (err)
		goto fail;

	/* from here on nothing fails */
	if (!e->rg->sealed_for[0])
		nmd_region_seal(e->rg, e->holder);
	/* the tail may hold what an earlier guest of this holder left */
	memset(e->desc, 0, UNM_VM_DESC_SIZE);
	memcpy(e->desc, d, d->size);
	/* R: the guest reads the rest after seeing LIVE (it reads once, after
	 * QEMU connected, long after this; the order is for the record) */
	atomic_store_explicit(&e->desc->state, UNM_VM_STATE_LIVE, memory_order_release);
	for (i = 0; i < e->nports; i++)
		hold_port(e->port[i]);
	e->index = next_index++;
	e->next = exports;
	exports = e;
	free(d);
	ex->mem_id = e->rg->mem_id;
	nmd_info("export %s: %u port(s) from %s in region %u for %s, %u vectors; waiting for QEMU",
		 e->sock, e->nports, e->port[0]->name, e->rg->mem_id, e->holder, e->vectors);
	return 0;
fail:
	if (e->srv) {
		nmd_server_unwatch(&e->w);
		nmd_ivshmem_server_free(e->srv);
	}
	if (e->desc)
		munmap(e->desc, UNM_VM_DESC_SIZE);
	for (i = 0; i < e->nports; i++)
		e->port[i]->ops->released(e->port[i]);
	free(e);
	free(d);
	return err;
}

/* ---- UNM_REQ_VM_UNEXPORT, UNM_REQ_VM_LIST ---- */

static int do_unexport(struct nmd_req *r)
{
	struct unm_vm_unexport *ux = r->body;
	struct vm_export *e;

	ux->sock[sizeof(ux->sock) - 1] = '\0';
	ux->holder[sizeof(ux->holder) - 1] = '\0';
	if (!ux->sock[0] && !ux->holder[0])
		FAIL(r, EINVAL, "unexport: name a socket or a holder");
	for (e = exports; e; e = e->next) {
		if (ux->sock[0] ? strcmp(e->sock, ux->sock) == 0 :
				  strcmp(e->holder, ux->holder) == 0)
			break;
	}
	if (!e)
		FAIL(r, ENOENT, "unexport: no export %s", ux->sock[0] ? ux->sock : ux->holder);
	export_end(e, "unexported");
	return 0;
}

static int do_list(struct nmd_req *r)
{
	struct unm_vm_list *l = r->body;
	struct vm_export *e, *best = NULL;
	unsigned i;

	for (e = exports; e; e = e->next)
		if (e->index >= l->index && (!best || e->index < best->index))
			best = e;
	if (!best)
		return -ENOENT;
	memset(l, 0, sizeof(*l));
	l->index = best->index;
	l->state = best->peer ? UNM_VM_CONNECTED : UNM_VM_WAITING;
	snprintf(l->sock, sizeof(l->sock), "%s", best->sock);
	snprintf(l->holder, sizeof(l->holder), "%s", best->holder);
	l->peer = best->peer;
	l->mem_id = best->rg->mem_id;
	l->nports = best->nports;
	l->vectors = best->vectors;
	for (i = 0; i < best->nports; i++)
		snprintf(l->port[i], sizeof(l->port[i]), "%s", best->port[i]->name);
	return 0;
}

int nmd_vm_request(struct nmd_client *c, struct nmd_req *r)
{
	switch (r->msg->hdr.nr_reqtype) {
	case UNM_REQ_VM_EXPORT:
		return do_export(c, r);
	case UNM_REQ_VM_UNEXPORT:
		return do_unexport(r);
	default:
		return do_list(r);
	}
}

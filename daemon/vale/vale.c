/*
 * vale.c - VALE switches and ports: the registry, their life cycle, and
 * netmap's VALE control requests.  The forwarding engine is vale_fwd.c;
 * how the two share data is explained in vale.h.
 *
 * Names (netmap's): "valeX:Y" is port Y of switch valeX.  Switch names
 * start with "val" and use [A-Za-z0-9_]; both parts are shorter than 16.
 *  - An ephemeral port is created by the first REGISTER of its name (or by
 *    a pipe opened on it, "valeX:Y{1"), in a region of its own, and goes
 *    away with its last descriptor and its last pipe.
 *  - A persistent port ("v0") is created by NETMAP_REQ_VALE_NEWIF and
 *    destroyed by VALE_DELIF.  In the kernel it is a network interface;
 *    here it is an entry in our registry, and a name that is already an
 *    interface of the system is refused (EEXIST).  It can be opened as
 *    "netmap:v0"; VALE_ATTACH "valeX:v0" puts it in a switch, after which
 *    "valeX:v0" opens the same port.  Attached to no switch, whatever it
 *    transmits is dropped, as in netmap.
 *  - A switch exists while it has ports.
 * Attaching network interfaces (NICs) to a switch: VALE_ATTACH of a name
 * that is no VALE port goes to nic_vale.c (a forwarder process between
 * the interface and the switch port held here by nmd_vale_nic_hold()).
 *  - A VM port ("valeX:vm1", vale-ctl -n ... --vhost-user) is a switch
 *    port whose rings are a QEMU guest's virtqueues, served by a
 *    vhost-user device (vm/vhost_port.c owns it; nmd_vale_vm_new() here
 *    makes the switch side).  It has no netmap rings: it cannot be
 *    opened, and nothing can be built on its name.  It stays until
 *    VALE_DELIF (vale-ctl -r).
 *
 * Limits (netmap's in brackets): 256 switches [8], 4096 ports per switch
 * [252], 16 rings per direction, 4096 slots per ring, defaults 1 and 1024.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vale.h"
#include "unm_vale.h"
#include "vm/vhost_user.h"
#include "unm_vxlan.h"

#define FAIL(r, e, ...) do { snprintf((r)->msg_text, sizeof((r)->msg_text), __VA_ARGS__); \
	return -(e); } while (0)
#define FAILM(msg, len, e, ...) do { snprintf((msg), (len), __VA_ARGS__); \
	return -(e); } while (0)

static struct vale_switch *switches[VALE_MAX_SWITCHES];
static unsigned nswitches, npersistent;
static struct vale_port *vports;

/* ---- names ---- */

/* Split "valeX:Y" into switch and port names.  0 or -EINVAL. */
static int name_split(const char *name, char *sw, char *port)
{
	const char *c = strchr(name, ':');
	size_t sl, pl, i;

	if (strncmp(name, "val", 3) != 0 || !c)
		return -EINVAL;
	sl = (size_t)(c - name);
	pl = strlen(c + 1);
	/*
	 * A VXLAN tunnel attached to the switch (vale-ctl -a
	 * valeX:vxlan:10.0.0.2:42): the port bears the tunnel's name, which
	 * is longer than a VALE port name and has colons.  Its "port name"
	 * for the lookups below is the prefix alone, which no persistent
	 * port or interface can be (they have no ':'); the whole name
	 * (< NETMAP_REQ_IFNAMSIZ, the request's own limit) is what the
	 * switch keeps.  vxlan.c checks the rest when the tunnel opens.
	 */
	if (sl < VALE_NAMSIZ && strncmp(c + 1, UNM_VXLAN_PREFIX, strlen(UNM_VXLAN_PREFIX)) == 0) {
		for (i = strlen(UNM_VXLAN_PREFIX); i < pl; i++)
			if (!isdigit((unsigned char)c[1 + i]) && !strchr(".:", c[1 + i]))
				return -EINVAL;
		for (i = 0; i < sl; i++)
			if (!isalnum((unsigned char)name[i]) && name[i] != '_')
				return -EINVAL;
		memcpy(sw, name, sl);
		sw[sl] = '\0';
		snprintf(port, VALE_NAMSIZ, "%s", UNM_VXLAN_PREFIX);
		return 0;
	}
	if (sl >= VALE_NAMSIZ || pl == 0 || pl >= VALE_NAMSIZ)
		return -EINVAL;
	for (i = 0; i < sl; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return -EINVAL;
	for (i = 0; i < pl; i++) {
		unsigned char ch = (unsigned char)c[1 + i];

		if (!isgraph(ch) || strchr(":/{}@*^", ch))
			return -EINVAL;
	}
	memcpy(sw, name, sl);
	sw[sl] = '\0';
	memcpy(port, c + 1, pl + 1);
	return 0;
}

/* A name NEWIF accepts: an interface-like name that is not a VALE one. */
static bool persistent_name_ok(const char *name)
{
	size_t l = strlen(name), i;

	if (l == 0 || l >= VALE_NAMSIZ || strncmp(name, NM_BDG_NAME, 4) == 0)
		return false;
	for (i = 0; i < l; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			return false;
	return true;
}

static bool is_system_if(const char *name)
{
	return if_nametoindex(name) != 0;
}

/* ---- lookups ---- */

static struct vale_port *persistent_find(const char *pname)
{
	struct vale_port *vp;

	for (vp = vports; vp; vp = vp->next)
		if (vp->persistent && strcmp(vp->pname, pname) == 0)
			return vp;
	return NULL;
}

/* By the name a descriptor opens: the full name, or a persistent name. */
static struct vale_port *port_find(const char *name)
{
	struct vale_port *vp;

	for (vp = vports; vp; vp = vp->next)
		if (strcmp(vp->port.name, name) == 0 ||
		    (vp->persistent && strcmp(vp->pname, name) == 0))
			return vp;
	return NULL;
}

static struct vale_switch *switch_find(const char *name)
{
	unsigned i;

	for (i = 0; i < VALE_MAX_SWITCHES; i++)
		if (switches[i] && strcmp(switches[i]->name, name) == 0)
			return switches[i];
	return NULL;
}

/* The port of `sw` whose full name is `full`, or NULL. */
static struct vale_port *switch_port(struct vale_switch *sw, const char *full)
{
	uint32_t i, hi = atomic_load_explicit(&sw->hi, memory_order_relaxed);

	for (i = 0; i < hi; i++) {
		struct vale_port *vp = atomic_load_explicit(&sw->port[i], memory_order_relaxed);

		if (vp && strcmp(vp->port.name, full) == 0)
			return vp;
	}
	return NULL;
}

/* Ports that have rings (not VM ports: they are nobody's open port) */
struct nmd_port *nmd_vale_find(const char *name)
{
	struct vale_port *vp = port_find(name);

	return vp && !vp->vm ? &vp->port : NULL;
}

/* "val*:*", or a persistent VALE port ("v0", opened as netmap:v0) */
static bool vale_claims(const char *name, const struct nmreq_register *reg)
{
	(void)reg;
	return (strncmp(name, "val", 3) == 0 && strchr(name, ':')) || persistent_find(name);
}

bool nmd_vale_busy(void)
{
	return nswitches > 0 || npersistent > 0;
}

/* ---- switches ---- */

static struct vale_switch *switch_get(const char *name, int *err)
{
	struct vale_switch *sw = switch_find(name);
	unsigned i;

	if (sw)
		return sw;
	for (i = 0; i < VALE_MAX_SWITCHES && switches[i]; i++)
		;
	if (i == VALE_MAX_SWITCHES) {
		*err = -ENOMEM;
		return NULL;
	}
	sw = calloc(1, sizeof(*sw));
	if (!sw) {
		*err = -ENOMEM;
		return NULL;
	}
	snprintf(sw->name, sizeof(sw->name), "%.*s", VALE_NAMSIZ - 1, name);
	sw->idx = (uint16_t)i;
	switches[i] = sw;
	nswitches++;
	nmd_info("switch %s created (bridge index %u)", sw->name, sw->idx);
	return sw;
}

/* Free sw if nothing holds it: no port, no module (a module keeps its
 * switch, which it may have created, until it is unloaded). */
static void switch_put(struct vale_switch *sw)
{
	if (sw->nports > 0 || atomic_load_explicit(&sw->mod, memory_order_relaxed))
		return;
	switches[sw->idx] = NULL;
	nswitches--;
	nmd_info("switch %s destroyed", sw->name);
	/* every port that led to it has gone through a grace period */
	free(sw);
}

/* Put the port in the switch at the lowest free index. */
static int switch_attach(struct vale_switch *sw, struct vale_port *vp)
{
	uint32_t i, hi = atomic_load_explicit(&sw->hi, memory_order_relaxed);

	for (i = 0; i < VALE_MAX_PORTS; i++)
		if (!vale_idx_reserved(i) &&
		    !atomic_load_explicit(&sw->port[i], memory_order_relaxed))
			break;
	if (i == VALE_MAX_PORTS)
		return -ENOMEM;
	vp->idx = i;
	sw->nports++;
	/* before any frame of the port can reach the module */
	vale_mod_port_attach(sw, vp);
	/* R: idx (and the whole port) before sw: pairs with the acquire
	 * load of vp->sw in fwd_txq() */
	atomic_store_explicit(&vp->sw, sw, memory_order_release);
	/* R: the port is initialised before a thread finds it in the
	 * table (acquire loads of sw->port[] in vale_fwd.c) */
	atomic_store_explicit(&sw->port[i], vp, memory_order_release);
	if (i + 1 > hi)
		atomic_store_explicit(&sw->hi, i + 1, memory_order_release);
	return 0;
}

/* First half of leaving a switch: unpublish.  The caller waits for a
 * grace period, then calls switch_forget(). */
static void switch_unpublish(struct vale_port *vp)
{
	struct vale_switch *sw = atomic_load_explicit(&vp->sw, memory_order_relaxed);

	atomic_store_explicit(&sw->port[vp->idx], NULL, memory_order_release);
	atomic_store_explicit(&vp->sw, NULL, memory_order_release);
}

/* Second half: no thread can use the index any more.  Forget what was
 * learned about it (a CAS, since threads may be learning other ports
 * into the same entries), tell the module, shrink the table's high mark,
 * and free the switch if nothing holds it. */
static void switch_forget(struct vale_switch *sw, uint32_t idx, const char *name)
{
	uint32_t i, hi = atomic_load_explicit(&sw->hi, memory_order_relaxed);

	for (i = 0; i < (1u << VALE_MAC_BITS); i++) {
		uint64_t e = atomic_load_explicit(&sw->mac[i], memory_order_relaxed);

		if (e && (e & 0xffff) == idx + 1)
			atomic_compare_exchange_strong_explicit(&sw->mac[i], &e, 0,
								memory_order_relaxed,
								memory_order_relaxed);
	}
	vale_mod_port_detach(sw, idx, name);
	while (hi > 0 && !atomic_load_explicit(&sw->port[hi - 1], memory_order_relaxed))
		hi--;
	atomic_store_explicit(&sw->hi, hi, memory_order_release);
	sw->nports--;
	switch_put(sw);
}

/* ---- ports ---- */

static uint32_t bound_var(uint32_t v, uint32_t def, uint32_t max)
{
	if (v == 0)
		return def;
	return v > max ? max : v;
}

/* A region for a new port: the default geometry (room for its pipes),
 * plus what the port's own rings and extra buffers need. */
static struct nmd_region *port_region(const struct nmd_ring_req *rq, uint32_t extra, int *err)
{
	struct nmd_region_params rp;
	struct nmd_region *rg;
	int d;

	nmd_region_default_params(&rp);
	for (d = 0; d < 2; d++) {
		rp.buf_total += rq->nrings[d] * rq->nslots[d];
		rp.ring_size += rq->nrings[d] * unm_ring_obj_size(rq->nslots[d]);
	}
	rp.buf_total += extra;
	rg = nmd_region_new(&rp, err);
	if (rg)
		rg->refs = 0;
	return rg;
}

static void port_free(struct vale_port *vp)
{
	struct nmd_port *p = &vp->port;
	uint32_t i;

	nmd_port_free_rings(p, true);
	if (p->hw_kick >= 0)
		close(p->hw_kick);
	if (p->rg)
		nmd_region_unref(p->rg);
	free(vp->txq);
	/* rxq is zeroed once both arrays exist (port_new) */
	for (i = 0; vp->txq && vp->rxq && i < vp->nrx; i++)
		free(atomic_load_explicit(&vp->rxq[i].mon, memory_order_relaxed));
	free(vp->rxq);
	free(vp->vm);
	free(vp);
}

/* Create a port (not yet in any switch).  mem_id 0: a region of its own. */
static struct vale_port *port_new(const char *name, const struct nmd_ring_req *rq,
				  uint16_t mem_id, uint32_t extra, char *msg, size_t msglen,
				  int *err)
{
	struct vale_port *vp = calloc(1, sizeof(*vp));
	struct nmd_port *p;
	uint32_t i;
	size_t rxsz;

	*err = -ENOMEM;
	if (!vp)
		return NULL;
	p = &vp->port;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->ops = &nmd_vale_ops;
	p->wake[0] = p->wake[1] = -1;
	p->hw_kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->hw_kick < 0) {
		*err = -errno;
		goto fail;
	}
	if (mem_id) {
		p->rg = nmd_region_join(mem_id, msg, msglen, err);
		if (!p->rg)
			goto fail;
	} else {
		p->rg = port_region(rq, extra, err);
		if (!p->rg) {
			snprintf(msg, msglen, "cannot create a memory region for %s", name);
			goto fail;
		}
	}
	nmd_region_ref(p->rg);
	*err = nmd_port_alloc_rings(p, rq, false);
	if (*err) {
		snprintf(msg, msglen, "cannot allocate rings for %s: %s", name, strerror(-*err));
		goto fail;
	}
	*err = -ENOMEM;
	vp->ntx = p->nrings[UNM_DIR_TX];
	vp->nrx = p->nrings[UNM_DIR_RX];
	vp->txq = calloc(vp->ntx, sizeof(*vp->txq));
	rxsz = (vp->nrx * sizeof(*vp->rxq) + 63) & ~(size_t)63;
	vp->rxq = aligned_alloc(64, rxsz);
	if (!vp->txq || !vp->rxq)
		goto fail;
	memset(vp->rxq, 0, rxsz);
	for (i = 0; i < vp->ntx; i++) {
		struct vale_txq *q = &vp->txq[i];

		q->ring = nmd_ring_ptr(p, &p->ring[UNM_DIR_TX][i]);
		q->ctl = unm_ring_ctl(q->ring);
		q->n = p->ring[UNM_DIR_TX][i].nslots;
		q->id = (uint16_t)i;
	}
	for (i = 0; i < vp->nrx; i++) {
		struct vale_rxq *q = &vp->rxq[i];

		q->ring = nmd_ring_ptr(p, &p->ring[UNM_DIR_RX][i]);
		q->ctl = unm_ring_ctl(q->ring);
		q->n = p->ring[UNM_DIR_RX][i].nslots;
	}
	vp->buf_base = p->rg->base + p->rg->buf_ofs;
	vp->buf_size = p->rg->buf_size;
	vp->buf_total = p->rg->buf_total;
	*err = vale_fwd_add(vp);
	if (*err) {
		snprintf(msg, msglen, "cannot start forwarding for %s: %s", name, strerror(-*err));
		goto fail;
	}
	vp->next = vports;
	vports = vp;
	return vp;
fail:
	port_free(vp);
	return NULL;
}

static void port_destroy(struct vale_port *vp)
{
	struct vale_switch *sw = atomic_load_explicit(&vp->sw, memory_order_relaxed);
	struct vale_port **pp;

	for (pp = &vports; *pp; pp = &(*pp)->next) {
		if (*pp == vp) {
			*pp = vp->next;
			break;
		}
	}
	if (sw)
		switch_unpublish(vp);
	vale_fwd_del(vp);
	vale_fwd_sync();
	if (sw)
		switch_forget(sw, vp->idx, vp->port.name);
	if (vp->persistent)
		npersistent--;
	nmd_info("VALE port %s destroyed", vp->port.name);
	port_free(vp);
}

/* Ephemeral ports go with their last user. */
static void port_maybe_destroy(struct vale_port *vp)
{
	if (!vp->persistent && vp->port.nbind == 0 && vp->holds == 0)
		port_destroy(vp);
}

/* Which RX rings a descriptor binds: the switch delivers only there. */
static void refresh_bound(struct vale_port *vp)
{
	uint32_t i;

	for (i = 0; i < vp->nrx; i++)
		atomic_store_explicit(&vp->rxq[i].bound, vp->port.ring[UNM_DIR_RX][i].users > 0,
				      memory_order_relaxed);
}

static void vale_bound(struct nmd_port *p)
{
	refresh_bound(VALE_PORT(p));
}

/* the switch also learns which rings are still bound */
static void vale_released(struct nmd_port *p)
{
	struct vale_port *vp = VALE_PORT(p);

	refresh_bound(vp);
	port_maybe_destroy(vp);
}

/* The monitors of p changed: the switch makes the copies into RX
 * monitors as it delivers (vale_fwd.c, mirror_rx), so each RX ring gets
 * its new list; the old ones are freed once no thread can use them. */
static void vale_mon_changed(struct nmd_port *p)
{
	struct vale_port *vp = VALE_PORT(p);
	uint32_t i;

	for (i = 0; i < vp->nrx; i++) {
		unsigned n = nmd_mon_hw_targets(p, i, NULL, 0);
		struct vale_mon *nm = NULL, *old;

		if (n) {
			nm = calloc(1, sizeof(*nm) + n * sizeof(nm->t[0]));
			if (nm)
				nm->n = nmd_mon_hw_targets(p, i, nm->t, n);
			else
				nmd_warn("%s: out of memory: its RX monitors miss frames", p->name);
		}
		/* R: the list is initialised before a thread's acquire load
		 * in deliver_ring() */
		old = atomic_exchange_explicit(&vp->rxq[i].mon, nm, memory_order_acq_rel);
		vale_fwd_defer_free(old);
	}
	/* the caller frees monitors next: no thread may still use them */
	vale_fwd_sync();
}

static uint32_t vale_hdr_len(const struct nmd_port *p)
{
	return atomic_load_explicit(&VALE_PORT((struct nmd_port *)(uintptr_t)p)->hdr_len,
				    memory_order_relaxed);
}

/* Create ephemeral port `name` ("valeX:Y") in its switch. */
static struct vale_port *ephemeral_new(const char *name, const struct nmreq_register *reg,
				       bool nic, char *msg, size_t msglen, int *err)
{
	char swname[VALE_NAMSIZ], pname[VALE_NAMSIZ];
	struct nmd_ring_req rq;
	struct vale_switch *sw;
	struct vale_port *vp;
	uint32_t extra = reg ? reg->nr_extra_bufs : 0;

	if (name_split(name, swname, pname) < 0) {
		snprintf(msg, msglen, "%s: invalid VALE port name", name);
		*err = -EINVAL;
		return NULL;
	}
	/* (an attachment's port may bear a persistent port's name: it is
	 * that port's link to a second switch) */
	if (!nic && persistent_find(pname)) {
		snprintf(msg, msglen, "%s: %s is a persistent port; attach it first (vale-ctl -a %s)",
			 name, pname, name);
		*err = -EINVAL;
		return NULL;
	}
	if (!nic && is_system_if(pname)) {
		snprintf(msg, msglen, "%s: %s is a network interface, not a VALE port", name, pname);
		*err = -EINVAL;
		return NULL;
	}
	rq.nrings[UNM_DIR_TX] = bound_var(reg ? reg->nr_tx_rings : 0, 1, VALE_MAX_RINGS);
	rq.nrings[UNM_DIR_RX] = bound_var(reg ? reg->nr_rx_rings : 0, 1, VALE_MAX_RINGS);
	rq.nslots[UNM_DIR_TX] = bound_var(reg ? reg->nr_tx_slots : 0, VALE_DEF_SLOTS, VALE_MAX_SLOTS);
	rq.nslots[UNM_DIR_RX] = bound_var(reg ? reg->nr_rx_slots : 0, VALE_DEF_SLOTS, VALE_MAX_SLOTS);
	sw = switch_get(swname, err);
	if (!sw) {
		snprintf(msg, msglen, "%s: too many switches (max %d)", name, VALE_MAX_SWITCHES);
		return NULL;
	}
	vp = port_new(name, &rq, reg ? reg->nr_mem_id : 0,
		      extra > VALE_MAX_EXTRA ? VALE_MAX_EXTRA : extra, msg, msglen, err);
	if (!vp) {
		switch_put(sw);
		return NULL;
	}
	*err = switch_attach(sw, vp);
	if (*err) {
		snprintf(msg, msglen, "%s: switch %s is full (%d ports)", name, swname,
			 VALE_MAX_PORTS - 2);
		port_destroy(vp);
		return NULL;
	}
	nmd_info("VALE port %s created (index %u, region %u, %u/%u rings, %u/%u slots)",
		 name, vp->idx, vp->port.rg->mem_id, rq.nrings[0], rq.nrings[1],
		 rq.nslots[0], rq.nslots[1]);
	return vp;
}

static int vale_open(struct nmd_client *c, const char *name, struct nmreq_register *reg,
		     struct nmd_port **out, char *msg, size_t msglen)
{
	struct vale_port *vp = port_find(name);
	bool created = false;
	int err;

	(void)c;
	if (vp && vp->vm)	/* vm/vhost_port.c claims these names first */
		FAILM(msg, msglen, EBUSY, "%s is a VM port", name);
	if (!vp) {
		if (!strchr(name, ':'))
			FAILM(msg, msglen, ENXIO, "%s: no such port", name);
		vp = ephemeral_new(name, reg, false, msg, msglen, &err);
		if (!vp)
			return err;
		created = true;
	}
	if (reg->nr_mem_id && reg->nr_mem_id != vp->port.rg->mem_id) {
		snprintf(msg, msglen, "%s lives in memory region %u, not %u", name,
			 vp->port.rg->mem_id, reg->nr_mem_id);
		err = -EINVAL;
		goto fail;
	}
	if (atomic_load_explicit(&vp->hdr_len, memory_order_relaxed) &&
	    !(reg->nr_flags & NR_ACCEPT_VNET_HDR)) {
		snprintf(msg, msglen, "%s uses virtio-net headers of %u bytes: "
			 "register with NR_ACCEPT_VNET_HDR", name,
			 atomic_load_explicit(&vp->hdr_len, memory_order_relaxed));
		err = -EIO;
		goto fail;
	}
	*out = &vp->port;
	return 0;
fail:
	if (created)
		port_maybe_destroy(vp);
	return err;
}

struct nmd_port *nmd_vale_parent_hold(const char *name, int *err)
{
	struct vale_port *vp = port_find(name);
	char msg[160];

	*err = 0;
	if (vp && vp->vm) {
		nmd_info("%s is a VM port: no pipes on its name", name);
		*err = -EBUSY;
		return NULL;
	}
	if (!vp) {
		if (strncmp(name, "val", 3) != 0 || !strchr(name, ':'))
			return NULL;
		msg[0] = '\0';
		vp = ephemeral_new(name, NULL, false, msg, sizeof(msg), err);
		if (!vp) {
			nmd_info("pipe parent %s: %s", name, msg);
			return NULL;
		}
	}
	vp->holds++;
	return &vp->port;
}

/* VALE_ATTACH of a network interface (nic_vale.c): the switch port its
 * frames enter by, created (the interface's name is no obstacle here) and
 * held until the detach. */
struct nmd_port *nmd_vale_nic_hold(const char *name, uint32_t *idx, char *msg, size_t msglen,
				   int *err)
{
	return nmd_vale_nic_hold_reg(name, NULL, idx, msg, msglen, err);
}

struct nmd_port *nmd_vale_nic_hold_reg(const char *name, const struct nmreq_register *reg,
				       uint32_t *idx, char *msg, size_t msglen, int *err)
{
	struct vale_port *vp = port_find(name);

	*err = 0;
	if (vp) {
		snprintf(msg, msglen, "%s is already a port of its switch", name);
		*err = -EBUSY;
		return NULL;
	}
	vp = ephemeral_new(name, reg, true, msg, msglen, err);
	if (!vp)
		return NULL;
	vp->holds++;
	*idx = vp->idx;
	return &vp->port;
}

void nmd_vale_parent_drop(struct nmd_port *p)
{
	struct vale_port *vp = VALE_PORT(p);

	vp->holds--;
	port_maybe_destroy(vp);
}

/* ---- VM ports ---- */

struct nmd_port *nmd_vale_vm_new(const char *name, struct nmd_vu_dev *dev, char *msg,
				 size_t msglen, int *err)
{
	char swname[VALE_NAMSIZ], pname[VALE_NAMSIZ];
	struct vale_switch *sw, *other;
	struct vale_port *vp;
	struct nmd_port *p;
	size_t rxsz;

	if (name_split(name, swname, pname) < 0) {
		snprintf(msg, msglen, "%s: not a VALE port name (valeX:name)", name);
		*err = -EINVAL;
		return NULL;
	}
	if (port_find(name) || ((other = switch_find(swname)) && switch_port(other, name))) {
		snprintf(msg, msglen, "%s is already a port of %s", name, swname);
		*err = -EEXIST;
		return NULL;
	}
	if (persistent_find(pname)) {
		snprintf(msg, msglen, "%s: %s is a persistent port", name, pname);
		*err = -EEXIST;
		return NULL;
	}
	*err = -ENOMEM;
	vp = calloc(1, sizeof(*vp));
	if (!vp)
		return NULL;
	p = &vp->port;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->ops = &nmd_vale_ops;
	p->wake[0] = p->wake[1] = -1;
	/* the forwarding threads sleep on this (vale_fwd_add): the device's
	 * wait descriptor, which becomes readable when the guest kicks */
	p->hw_kick = fcntl(nmd_vu_wait_fd(dev), F_DUPFD_CLOEXEC, 0);
	if (p->hw_kick < 0) {
		*err = -errno;
		snprintf(msg, msglen, "%s: %s", name, strerror(errno));
		goto fail;
	}
	vp->vm = calloc(1, sizeof(*vp->vm));
	rxsz = (sizeof(*vp->rxq) + 63) & ~(size_t)63;
	vp->rxq = aligned_alloc(64, rxsz);
	if (!vp->vm || !vp->rxq)
		goto fail;
	memset(vp->rxq, 0, rxsz);
	vp->vm->dev = dev;
	vp->nrx = 1;	/* rxq[0]: the lock and counters of deliveries */
	*err = vale_fwd_add(vp);
	if (*err) {
		snprintf(msg, msglen, "cannot start forwarding for %s: %s", name, strerror(-*err));
		goto fail;
	}
	sw = switch_get(swname, err);
	if (!sw) {
		snprintf(msg, msglen, "%s: too many switches (max %d)", name, VALE_MAX_SWITCHES);
		goto fail_fwd;
	}
	*err = switch_attach(sw, vp);
	if (*err) {
		snprintf(msg, msglen, "%s: switch %s is full (%d ports)", name, swname,
			 VALE_MAX_PORTS - 2);
		switch_put(sw);
		goto fail_fwd;
	}
	vp->holds = 1;	/* until nmd_vale_vm_del() */
	vp->next = vports;
	vports = vp;
	nmd_info("VM port %s created (index %u)", name, vp->idx);
	return &vp->port;
fail_fwd:
	vale_fwd_del(vp);
	vale_fwd_sync();
fail:
	port_free(vp);
	return NULL;
}

void nmd_vale_vm_del(struct nmd_port *p)
{
	port_destroy(VALE_PORT(p));
}

/*
 * The device is about to change what the data path uses: from now on the
 * threads leave the port alone (they check `paused` at the start of each
 * session with it), and after the grace period none is still inside one.
 * The store precedes the grace period's counter increment, so a thread
 * that passes a quiescent point after it, or comes back online, sees it.
 */
void nmd_vale_vm_pause(struct nmd_port *p)
{
	struct vale_port *vp = VALE_PORT(p);

	atomic_store_explicit(&vp->vm->paused, 1, memory_order_relaxed);
	vale_fwd_sync();
}

void nmd_vale_vm_resume(struct nmd_port *p)
{
	struct vale_port *vp = VALE_PORT(p);

	/* R: the device's changes before the threads' acquire loads of
	 * paused in vale_fwd.c */
	atomic_store_explicit(&vp->vm->paused, 0, memory_order_release);
	vale_fwd_wake(vp);
}

/* ---- control requests ---- */

static int do_list(struct nmd_req *r)
{
	struct nmreq_vale_list *l = r->body;
	char *name = r->msg->hdr.nr_name;
	uint32_t b, i;

	if (name[0]) {
		char swname[NETMAP_REQ_IFNAMSIZ];
		struct vale_switch *sw;
		struct vale_port *vp;
		const char *c = strchr(name, ':');
		size_t sl = c ? (size_t)(c - name) : strlen(name);

		if (strncmp(name, NM_BDG_NAME, 4) != 0)
			FAIL(r, EINVAL, "%s: not a VALE port name", name);
		memcpy(swname, name, sl);
		swname[sl] = '\0';
		sw = switch_find(swname);
		if (!sw)
			FAIL(r, ENOENT, "%s: no switch %s", name, swname);
		vp = c ? switch_port(sw, name) : NULL;
		l->nr_bridge_idx = sw->idx;
		l->nr_port_idx = vp ? vp->idx : NM_BDG_NOPORT;
		return 0;
	}
	/* enumeration: the first port at or after (bridge, port) */
	for (b = l->nr_bridge_idx; b < VALE_MAX_SWITCHES; b++) {
		struct vale_switch *sw = switches[b];
		uint32_t hi;

		if (!sw)
			continue;
		hi = atomic_load_explicit(&sw->hi, memory_order_relaxed);
		for (i = b == l->nr_bridge_idx ? l->nr_port_idx : 0; i < hi; i++) {
			struct vale_port *vp = atomic_load_explicit(&sw->port[i], memory_order_relaxed);

			if (!vp)
				continue;
			snprintf(name, NETMAP_REQ_IFNAMSIZ, "%s", vp->port.name);
			l->nr_bridge_idx = (uint16_t)b;
			l->nr_port_idx = i;
			return 0;
		}
	}
	return -ENOENT;
}

static int do_newif(struct nmd_req *r)
{
	struct nmreq_vale_newif *nf = r->body;
	const char *name = r->msg->hdr.nr_name;
	struct nmd_ring_req rq;
	struct vale_port *vp;
	int err;

	if (!persistent_name_ok(name))
		FAIL(r, EINVAL, "'%s': invalid name for a persistent VALE port", name);
	if (persistent_find(name) || is_system_if(name) || nmd_named_find(name))
		FAIL(r, EEXIST, "%s already exists", name);
	rq.nrings[UNM_DIR_TX] = bound_var(nf->nr_tx_rings, 1, VALE_MAX_RINGS);
	rq.nrings[UNM_DIR_RX] = bound_var(nf->nr_rx_rings, 1, VALE_MAX_RINGS);
	rq.nslots[UNM_DIR_TX] = bound_var(nf->nr_tx_slots, VALE_DEF_SLOTS, VALE_MAX_SLOTS);
	rq.nslots[UNM_DIR_RX] = bound_var(nf->nr_rx_slots, VALE_DEF_SLOTS, VALE_MAX_SLOTS);
	vp = port_new(name, &rq, nf->nr_mem_id, 0, r->msg_text, sizeof(r->msg_text), &err);
	if (!vp)
		return err;
	vp->persistent = true;
	snprintf(vp->pname, sizeof(vp->pname), "%.*s", VALE_NAMSIZ - 1, name);
	npersistent++;
	nf->nr_tx_rings = (uint16_t)rq.nrings[UNM_DIR_TX];
	nf->nr_rx_rings = (uint16_t)rq.nrings[UNM_DIR_RX];
	nf->nr_tx_slots = rq.nslots[UNM_DIR_TX];
	nf->nr_rx_slots = rq.nslots[UNM_DIR_RX];
	nf->nr_mem_id = vp->port.rg->mem_id;
	nmd_info("persistent VALE port %s created (region %u)", name, vp->port.rg->mem_id);
	return 0;
}

static int do_delif(struct nmd_req *r)
{
	const char *name = r->msg->hdr.nr_name;
	struct vale_port *vp = port_find(name);

	if (vp && vp->vm)
		return nmd_vhost_delete(name, r->msg_text, sizeof(r->msg_text));
	vp = persistent_find(name);
	if (!vp) {
		if (nmd_named_find(name) || is_system_if(name))
			FAIL(r, EINVAL, "%s is not a persistent VALE port", name);
		FAIL(r, ENXIO, "%s: no such port", name);
	}
	if (atomic_load_explicit(&vp->sw, memory_order_relaxed))
		FAIL(r, EBUSY, "%s is attached to a switch (%s)", name, vp->port.name);
	if (vp->port.nbind > 0 || vp->holds > 0)
		FAIL(r, EBUSY, "%s is in use", name);
	port_destroy(vp);
	return 0;
}

static int do_attach(struct nmd_client *c, struct nmd_req *r)
{
	struct nmreq_vale_attach *a = r->body;
	const char *name = r->msg->hdr.nr_name;
	char swname[VALE_NAMSIZ], pname[VALE_NAMSIZ];
	struct vale_switch *sw, *cur;
	struct vale_port *vp;
	int err = 0;

	if (name_split(name, swname, pname) < 0)
		FAIL(r, EINVAL, "%s: not a VALE port name (valeX:name)", name);
	vp = persistent_find(pname);
	if (!vp) {
		if ((sw = switch_find(swname)) && switch_port(sw, name))
			FAIL(r, EBUSY, "%s is already a port of %s", name, swname);
		/* not a VALE port: a network interface (ENXIO if none) */
		return nmd_nic_vale_attach(c, r);
	}
	if (a->reg.nr_mode != NR_REG_ALL_NIC)
		FAIL(r, EINVAL, "%s: %s has no host rings to attach", name, pname);
	cur = atomic_load_explicit(&vp->sw, memory_order_relaxed);
	if (cur && strcmp(cur->name, swname) == 0)
		FAIL(r, EBUSY, "%s is already attached to %s", pname, cur->name);
	if (cur) {
		/* a second switch: netmap wraps the port, which then links
		 * the two switches and is theirs alone (nic_vale.c) */
		if (vp->port.nbind > 0 || vp->holds > 0)
			FAIL(r, EBUSY, "%s is in use: it cannot link %s to %s", pname, cur->name,
			     swname);
		return nmd_nic_vale_wrap(c, r);
	}
	sw = switch_find(swname);
	if (sw && switch_port(sw, name))
		FAIL(r, EBUSY, "%s is already a port of %s", name, swname);
	sw = switch_get(swname, &err);
	if (!sw)
		FAIL(r, -err, "%s: too many switches (max %d)", name, VALE_MAX_SWITCHES);
	snprintf(vp->port.name, sizeof(vp->port.name), "%s", name);
	err = switch_attach(sw, vp);
	if (err) {
		snprintf(vp->port.name, sizeof(vp->port.name), "%s", vp->pname);
		switch_put(sw);
		FAIL(r, -err, "%s: switch %s is full", name, swname);
	}
	a->port_index = vp->idx;
	nmd_info("VALE port %s attached to %s (index %u)", pname, swname, vp->idx);
	return 0;
}

static int do_detach(struct nmd_client *c, struct nmd_req *r)
{
	struct nmreq_vale_detach *d = r->body;
	const char *name = r->msg->hdr.nr_name;
	char swname[VALE_NAMSIZ], pname[VALE_NAMSIZ];
	struct vale_switch *sw;
	struct vale_port *vp;
	uint32_t idx;

	if (name_split(name, swname, pname) < 0)
		FAIL(r, EINVAL, "%s: not a VALE port name (valeX:name)", name);
	sw = switch_find(swname);
	vp = sw ? switch_port(sw, name) : NULL;
	if (!vp)
		FAIL(r, ENXIO, "%s: no such port", name);
	if (nmd_nic_vale_attached(name))
		return nmd_nic_vale_detach(c, r, vp->idx);
	if (vp->vm)
		FAIL(r, EINVAL, "%s is a VM port: remove it (vale-ctl -r %s)", name, name);
	if (!vp->persistent)
		FAIL(r, EINVAL, "%s is an ephemeral port: it goes away with its last user", name);
	if (nmd_nic_vale_wrapped(vp->pname))
		FAIL(r, EBUSY, "%s is also attached to another switch: detach it there first",
		     vp->pname);
	idx = vp->idx;
	switch_unpublish(vp);
	vale_fwd_sync();
	switch_forget(sw, idx, vp->port.name);
	snprintf(vp->port.name, sizeof(vp->port.name), "%s", vp->pname);
	d->port_index = idx;
	nmd_info("VALE port %s detached from %s", vp->pname, swname);
	return 0;
}

static int do_hdr_set(struct nmd_req *r)
{
	struct nmreq_port_hdr *h = r->body;
	const char *name = r->msg->hdr.nr_name;
	struct vale_port *vp = port_find(name);

	if (!vp) {
		if (nmd_named_find(name) || strchr(name, '{') || strchr(name, '}'))
			FAIL(r, EINVAL, "%s: virtio-net headers are only for VALE ports", name);
		FAIL(r, ENXIO, "%s: no such port", name);
	}
	if (vp->vm)
		FAIL(r, EINVAL, "%s is a VM port: the guest's virtio-net header is the device's "
		     "business, the switch sees none", name);
	if (h->nr_hdr_len != 0 && h->nr_hdr_len != 10 && h->nr_hdr_len != 12)
		FAIL(r, EINVAL, "%s: virtio-net header length %u (0, 10 or 12)", name,
		     h->nr_hdr_len);
	atomic_store_explicit(&vp->hdr_len, h->nr_hdr_len, memory_order_relaxed);
	return 0;
}

/* PORT_INFO_GET of a VALE name that does not exist: what REGISTER would
 * create, without creating it (netmap creates and destroys it at once;
 * the region id it would report would be dead on arrival, so we say 0). */
static int vale_info(struct nmd_client *c, const char *name, struct nmreq_port_info_get *pi,
		     char *msg, size_t msglen)
{
	char swname[VALE_NAMSIZ], pname[VALE_NAMSIZ];
	struct nmd_region_params rp;
	struct nmd_ring_req rq;
	int d;

	(void)c;
	if (name_split(name, swname, pname) < 0)
		FAILM(msg, msglen, EINVAL, "%s: invalid VALE port name", name);
	if (persistent_find(pname) || is_system_if(pname))
		FAILM(msg, msglen, EINVAL, "%s: %s is not attached to %s", name, pname, swname);
	nmd_region_default_params(&rp);
	for (d = 0; d < 2; d++) {
		rq.nrings[d] = 1;
		rq.nslots[d] = VALE_DEF_SLOTS;
		rp.buf_total += rq.nrings[d] * rq.nslots[d];
		rp.ring_size += rq.nrings[d] * unm_ring_obj_size(rq.nslots[d]);
	}
	pi->nr_tx_rings = pi->nr_rx_rings = 1;
	pi->nr_tx_slots = pi->nr_rx_slots = VALE_DEF_SLOTS;
	pi->nr_host_tx_rings = pi->nr_host_rx_rings = 0;
	pi->nr_memsize = rp.if_size + rp.ring_size + (uint64_t)rp.buf_total * rp.buf_size;
	pi->nr_mem_id = 0;
	return 0;
}

static int do_polling(struct nmd_req *r)
{
	const char *name = r->msg->hdr.nr_name;
	char swname[VALE_NAMSIZ], pname[VALE_NAMSIZ];
	struct vale_switch *sw;

	if (name_split(name, swname, pname) < 0)
		FAIL(r, EINVAL, "%s: not a VALE port name (valeX:ifname)", name);
	sw = switch_find(swname);
	if (sw && switch_port(sw, name)) {
		if (nmd_nic_vale_attached(name))
			FAIL(r, EOPNOTSUPP, "%s: polling threads are not supported: an attached "
			     "interface is served by its own forwarder", name);
		FAIL(r, EOPNOTSUPP, "%s: polling threads are for network interfaces attached "
		     "to a switch, not for VALE ports", name);
	}
	FAIL(r, ENXIO, "%s: no such port (polling needs an attached interface)", name);
}

static int do_stats(struct nmd_req *r)
{
	struct unm_vale_stats *st = r->body;
	const char *name = r->msg->hdr.nr_name;
	struct vale_port *vp = port_find(name);
	struct vale_switch *sw;
	uint64_t v[7];

	if (!vp) {
		if (nmd_named_find(name) || strchr(name, '{') || strchr(name, '}'))
			FAIL(r, EINVAL, "%s is not a VALE port", name);
		FAIL(r, ENXIO, "%s: no such port", name);
	}
	vale_fwd_stats(vp, v);
	memset(st, 0, sizeof(*st));
	st->rx_pkts = v[0];
	st->rx_bytes = v[1];
	st->rx_drops = v[2];
	st->tx_pkts = v[3];
	st->tx_bytes = v[4];
	st->tx_drops = v[5];
	st->errors = v[6];
	sw = atomic_load_explicit(&vp->sw, memory_order_relaxed);
	st->bridge_idx = sw ? sw->idx : NM_BDG_NOPORT;
	st->port_idx = sw ? vp->idx : NM_BDG_NOPORT;
	return 0;
}

/* The switch a module request or NIOCCONFIG names: "vale0" or any
 * "vale0:port".  0 or -EINVAL. */
static int switch_name_of(const char *name, char sw[VALE_NAMSIZ])
{
	const char *c = strchr(name, ':');
	size_t l = c ? (size_t)(c - name) : strlen(name), i;

	if (strncmp(name, "val", 3) != 0 || l >= VALE_NAMSIZ)
		return -EINVAL;
	for (i = 0; i < l; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return -EINVAL;
	memcpy(sw, name, l);
	sw[l] = '\0';
	return 0;
}

static int do_module(struct nmd_req *r)
{
	struct unm_vale_module_req *mr = r->body;
	const char *name = r->msg->hdr.nr_name;
	char swname[VALE_NAMSIZ];
	struct vale_switch *sw;
	bool created = false;
	int err = 0;

	if (switch_name_of(name, swname) < 0)
		FAIL(r, EINVAL, "%s: not a VALE switch name", name);
	/* untrusted strings: terminated here, too long ones refused */
	if (memchr(mr->path, '\0', sizeof(mr->path)) == NULL ||
	    memchr(mr->args, '\0', sizeof(mr->args)) == NULL)
		FAIL(r, EINVAL, "%s: module path or arguments too long", swname);
	sw = switch_find(swname);
	switch (mr->cmd) {
	case UNM_VALE_MOD_LOAD:
		if (!sw) {
			sw = switch_get(swname, &err);
			if (!sw)
				FAIL(r, -err, "%s: too many switches (max %d)", swname,
				     VALE_MAX_SWITCHES);
			created = true;
		}
		err = vale_mod_load(sw, mr->path, mr->args, r->msg_text, sizeof(r->msg_text));
		if (err) {
			if (created)
				switch_put(sw);
			return err;
		}
		break;
	case UNM_VALE_MOD_UNLOAD:
		if (!sw)
			FAIL(r, ENXIO, "%s: no such switch", swname);
		vale_mod_unload(sw);
		break;
	case UNM_VALE_MOD_INFO:
		if (!sw)
			FAIL(r, ENXIO, "%s: no such switch", swname);
		break;
	default:
		FAIL(r, EINVAL, "%s: unknown module command %u", swname, mr->cmd);
	}
	memset(mr, 0, sizeof(*mr));
	vale_mod_info(sw, mr);
	/* unloaded from a switch that had nothing else */
	switch_put(sw);
	return 0;
}

int nmd_vale_config(struct nmd_client *c, void *payload, size_t len, char *msg, size_t msglen)
{
	struct nm_ifreq *req = payload;
	char swname[VALE_NAMSIZ];
	struct vale_switch *sw;

	/* a module's configuration is switch administration, which a
	 * grant's socket (a container) may not do */
	if (c->grant)
		FAILM(msg, msglen, EPERM, "this socket (granted to %s) cannot configure switches",
		      c->grant->holder);
	if (len != sizeof(*req))
		FAILM(msg, msglen, EINVAL, "NIOCCONFIG: %zu bytes instead of a struct nm_ifreq", len);
	req->nifr_name[sizeof(req->nifr_name) - 1] = '\0';
	/* EINVAL for a missing switch too, as netmap's netmap_bdg_config() */
	if (switch_name_of(req->nifr_name, swname) < 0)
		FAILM(msg, msglen, EINVAL, "NIOCCONFIG: %s is not a VALE switch name",
		      req->nifr_name);
	sw = switch_find(swname);
	if (!sw)
		FAILM(msg, msglen, EINVAL, "NIOCCONFIG: no switch %s", swname);
	return vale_mod_config(sw, req, msg, msglen);
}

int nmd_vale_request(struct nmd_client *c, struct nmd_req *r)
{
	switch (r->msg->hdr.nr_reqtype) {
	case NETMAP_REQ_VALE_LIST:
		return do_list(r);
	case NETMAP_REQ_VALE_NEWIF:
		return do_newif(r);
	case NETMAP_REQ_VALE_DELIF:
		return do_delif(r);
	case NETMAP_REQ_VALE_ATTACH:
		return do_attach(c, r);
	case NETMAP_REQ_VALE_DETACH:
		return do_detach(c, r);
	case NETMAP_REQ_VALE_POLLING_ENABLE:
	case NETMAP_REQ_VALE_POLLING_DISABLE:
		return do_polling(r);
	case NETMAP_REQ_PORT_HDR_SET:
		return do_hdr_set(r);
	case UNM_REQ_VALE_STATS:
		return do_stats(r);
	case UNM_REQ_VALE_MODULE:
		return do_module(r);
	default:
		FAIL(r, EINVAL, "unknown request type %u", r->msg->hdr.nr_reqtype);
	}
}

void nmd_vale_fini(void)
{
	/* VM ports first: their devices go with them */
	nmd_vhost_fini();
	/* clients are gone: what is left are persistent ports (and anything
	 * a bug left behind, which we free all the same) */
	unsigned i;

	while (vports)
		port_destroy(vports);
	/* switches kept by their module alone */
	for (i = 0; i < VALE_MAX_SWITCHES; i++) {
		if (switches[i]) {
			vale_mod_unload(switches[i]);
			switch_put(switches[i]);
		}
	}
	vale_fwd_stop();
}

const struct nmd_port_ops nmd_vale_ops = {
	.name = "vale",
	.claims = vale_claims,
	.open = vale_open,
	.info = vale_info,
	.wire_kind = UNM_KIND_HW,
	.bound = vale_bound,
	.released = vale_released,
	.hdr_len = vale_hdr_len,
	.mon_changed = vale_mon_changed,
};

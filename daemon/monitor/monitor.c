/*
 * monitor.c - monitor ports: "PORT/t", "/r", "/rt" (copy) and "/z"
 * (zero copy), netmap's names and semantics (netmap-facts 5.6, design in
 * common/unm_mon.h and docs/design.md).
 *
 * A REGISTER with NR_MONITOR_TX, NR_MONITOR_RX or NR_ZCOPY_MON creates a
 * new monitor port of the port the name resolves to, which must be bound
 * (in netmap mode) by somebody: 1 TX ring (whose sync fails) and
 * max(parent TX, RX) RX rings; RX ring i mirrors the parent's TX and/or RX
 * ring i.  A copy monitor has a region of its own; a zero-copy one lives
 * in the parent's region, and zero-copy monitors of one port form a chain:
 * the first gets the parent's released buffers, each next one what the
 * previous one released.
 *
 * netmapd does not mirror anything itself (except through the VALE
 * switch, see mon_changed in nmd.h): the processes syncing the monitored
 * rings do, with the list of "targets" each of their rings feeds.  They
 * learn that the list changed from ctl.mon_gen, which we bump in every
 * ring concerned, and then ask for it (UNM_REQ_MON_TARGETS).
 *
 * A departed copy monitor is freed at once: its region is its own, and a
 * producer that has not noticed yet writes into its own stale mapping.
 * A departed zero-copy monitor's rings and buffers are in the parent's
 * region, where a stale producer would scribble on memory that may be
 * given to somebody else: they stay allocated ("quarantined") until every
 * binding of the port that fed it has fetched a list without it, or gone.
 * netmapd knows which generation each binding fetched for each ring.
 *
 * Orphans: when the monitored port's last binding goes, its monitors get
 * UNM_RING_ORPHAN (their rxsync fails, poll says POLLERR) and stay so.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nmd.h"
#include "unm_mon.h"

#define MON_FLAGS     (NR_MONITOR_TX | NR_MONITOR_RX | NR_ZCOPY_MON)
#define MON_MAX_SLOTS 4096u		/* netmap's NM_MONITOR_MAXSLOTS */
#define MON_MAX_EXTRA 65536u		/* extra buffers of a copy monitor */

#define FAILM(msg, len, e, ...) do { snprintf((msg), (len), __VA_ARGS__); \
	return -(e); } while (0)
#define FAIL(r, e, ...) FAILM((r)->msg_text, sizeof((r)->msg_text), e, __VA_ARGS__)

struct mon_port {
	struct nmd_port port;		/* what request.c binds */
	struct nmd_port *parent;	/* the monitored port; NULL once
					 * orphaned */
	struct nmd_port *writer;	/* the port whose binders feed our RX
					 * rings (the parent, or the previous
					 * zero-copy monitor); kept after we
					 * stop being fed, until its binders
					 * are gone; NULL: nobody */
	uint32_t gen_at;		/* generation when writer began */
	uint32_t gen_rm;		/* generation when it stopped */
	uint64_t flags;			/* NR_MONITOR_TX|RX, NR_ZCOPY_MON */
	uint32_t id;
	bool zcopy;
	bool attached;			/* fed by its parent */
	bool orphan;			/* the parent left netmap mode */
	bool gone;			/* unbound, quarantined */
	char pname[NETMAP_REQ_IFNAMSIZ];	/* the parent's name */
	struct mon_port *next;		/* all monitors, in creation order:
					 * the order of zero-copy chains */
};

#define MON(p) ((struct mon_port *)(void *)((char *)(p) - offsetof(struct mon_port, port)))

/* What binding b of a feeding port last fetched, per ring. */
struct mon_seen {
	const struct nmd_binding *b;
	uint32_t *gen[2];
	struct mon_seen *next;
};

/* A port whose rings feed monitors (a monitored port, or a zero-copy
 * monitor feeding the next one). */
struct mon_feed {
	struct nmd_port *port;
	uint32_t *gen[2];		/* per ring: what its ctl.mon_gen says */
	struct mon_seen *seen;
	struct mon_feed *next;
};

static struct mon_port *mons;
static struct mon_feed *feeds;
static uint32_t gen_ctr;		/* wraps after 2^32 changes: years */
static uint32_t id_ctr;

static bool is_mon(const struct nmd_port *p)
{
	return p->ops == &nmd_monitor_ops;
}

static bool live(const struct mon_port *m)
{
	return m->attached && !m->orphan && !m->gone;
}

/* Does monitor m bind its RX ring i (only bound rings are fed)? */
static bool binds_rx(const struct mon_port *m, uint32_t i)
{
	return i < m->port.nrings[UNM_DIR_RX] && m->port.ring[UNM_DIR_RX][i].users > 0;
}

/* The zero-copy monitors of port p, in chain order: the one after m
 * (NULL: the first), or NULL at the end. */
static struct mon_port *zchain_next(const struct nmd_port *p, const struct mon_port *m)
{
	struct mon_port *x = m ? m->next : mons;

	for (; x; x = x->next)
		if (x->zcopy && live(x) && x->parent == p)
			return x;
	return NULL;
}

/* The port that feeds zero-copy monitor m: the previous one of the chain,
 * or the parent. */
static struct nmd_port *zchain_prev(const struct mon_port *m)
{
	struct mon_port *x, *prev = NULL;

	for (x = mons; x && x != m; x = x->next)
		if (x->zcopy && live(x) && x->parent == m->parent)
			prev = x;
	return prev ? &prev->port : m->parent;
}

/* ---- generations ---- */

static struct mon_feed *feed_get(struct nmd_port *p, bool create)
{
	struct mon_feed *f;
	int d;

	for (f = feeds; f; f = f->next)
		if (f->port == p)
			return f;
	if (!create)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	for (d = 0; d < 2; d++) {
		f->gen[d] = calloc(p->nrings[d] ? p->nrings[d] : 1, sizeof(uint32_t));
		if (!f->gen[d]) {
			free(f->gen[0]);
			free(f);
			return NULL;
		}
	}
	f->port = p;
	f->next = feeds;
	feeds = f;
	return f;
}

static void seen_free(struct mon_seen *s)
{
	free(s->gen[0]);
	free(s->gen[1]);
	free(s);
}

static void feed_free(struct mon_feed *f)
{
	struct mon_feed **pp;

	for (pp = &feeds; *pp; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	}
	while (f->seen) {
		struct mon_seen *s = f->seen;

		f->seen = s->next;
		seen_free(s);
	}
	free(f->gen[0]);
	free(f->gen[1]);
	free(f);
}

/* Tell every binder of p's rings that the monitors they feed changed. */
static void bump_port(struct nmd_port *p, uint32_t gen)
{
	struct mon_feed *f = feed_get(p, true);
	uint32_t i;
	int d;

	for (d = 0; d < 2; d++) {
		for (i = 0; i < p->nrings[d]; i++) {
			if (f)
				f->gen[d][i] = gen;
			/* relaxed: a binder that sees the new value asks us
			 * (a control message) for what goes with it */
			atomic_store_explicit(&nmd_ring_ctl(p, &p->ring[d][i])->mon_gen, gen,
					      memory_order_relaxed);
		}
	}
	if (!f)
		/* no memory to remember what binders fetch: they will fetch
		 * again, and quarantines last until they unbind */
		nmd_warn("monitors: out of memory tracking %s", p->name);
}

static uint32_t next_gen(void)
{
	if (++gen_ctr == 0)
		gen_ctr = 1;
	return gen_ctr;
}

/* The monitors of p changed: p's rings and its zero-copy chain's rings
 * get a new generation, and p's hardware (VALE) its new copy targets. */
static uint32_t bump_family(struct nmd_port *p)
{
	uint32_t gen = next_gen();
	struct mon_port *m;

	bump_port(p, gen);
	for (m = zchain_next(p, NULL); m; m = zchain_next(p, m))
		bump_port(&m->port, gen);
	if (p->ops->mon_changed)
		p->ops->mon_changed(p);
	return gen;
}

/* ---- targets ---- */

static uint16_t dir_flag(int d)
{
	return d == UNM_DIR_TX ? NR_MONITOR_TX : NR_MONITOR_RX;
}

/* The monitors ring (d, i) of port p feeds, with UNM_MON_T_* flags.
 * Copies into RX monitors are left to p's hardware when it makes them. */
static unsigned targets_of(struct nmd_port *p, int d, uint32_t i, struct mon_port **out,
			   uint16_t *tfl, unsigned max)
{
	struct mon_port *m;
	unsigned n = 0;

	if (is_mon(p)) {
		m = MON(p);
		if (!m->zcopy || !live(m) || d != UNM_DIR_RX)
			return 0;
		m = zchain_next(m->parent, m);
		if (m && binds_rx(m, i)) {
			out[0] = m;
			tfl[0] = UNM_MON_T_CHAIN;
			return 1;
		}
		return 0;
	}
	for (m = mons; m && n < max; m = m->next) {
		if (m->zcopy || !live(m) || m->parent != p || !(m->flags & dir_flag(d)) ||
		    !binds_rx(m, i) || (d == UNM_DIR_RX && p->ops->mon_changed))
			continue;
		out[n] = m;
		tfl[n++] = UNM_MON_T_COPY;
	}
	m = zchain_next(p, NULL);
	if (m && n < max && binds_rx(m, i)) {
		out[n] = m;
		tfl[n++] = 0;
	}
	return n;
}

unsigned nmd_mon_hw_targets(struct nmd_port *p, uint32_t ringid, struct unm_mon_ring *out,
			    unsigned max)
{
	struct mon_port *m;
	unsigned n = 0;

	for (m = mons; m; m = m->next) {
		struct nmd_port *mp = &m->port;
		struct nmd_ring *ring;

		if (m->zcopy || !live(m) || m->parent != p || !(m->flags & NR_MONITOR_RX) ||
		    !binds_rx(m, ringid))
			continue;
		if (n < max) {
			ring = &mp->ring[UNM_DIR_RX][ringid];
			memset(&out[n], 0, sizeof(out[n]));
			out[n].ring = nmd_ring_ptr(mp, ring);
			out[n].ctl = nmd_ring_ctl(mp, ring);
			out[n].bufs = mp->rg->base + mp->rg->buf_ofs;
			out[n].n = ring->nslots;
			out[n].buf_size = mp->rg->buf_size;
			out[n].buf_total = mp->rg->buf_total;
			out[n].flags = UNM_MON_T_COPY;
			out[n].wake_fd = mp->wake[UNM_DIR_RX];
		}
		n++;
	}
	return n;
}

/* ---- quarantine ---- */

/* May a binder of m's writer still hold a list naming m?  Yes if one
 * fetched, for some ring, a generation from the time m was fed. */
static bool still_named(const struct mon_port *m)
{
	const struct mon_feed *f = m->writer ? feed_get(m->writer, false) : NULL;
	const struct mon_seen *s;
	uint32_t i;
	int d;

	if (!f)
		return false;
	for (s = f->seen; s; s = s->next)
		for (d = 0; d < 2; d++)
			for (i = 0; i < f->port->nrings[d]; i++)
				if (s->gen[d][i] >= m->gen_at && s->gen[d][i] < m->gen_rm)
					return true;
	return false;
}

static void mon_free(struct mon_port *m)
{
	struct mon_port **pp;
	struct mon_feed *f = feed_get(&m->port, false);

	for (pp = &mons; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	if (f)
		feed_free(f);
	nmd_info("monitor %s removed", m->port.name);
	if (m->port.ring[0] || m->port.ring[1])
		nmd_port_free_rings(&m->port, true);
	nmd_region_unref(m->port.rg);
	free(m);
}

/* Free the quarantined monitors nobody can write into any more. */
static void sweep(void)
{
	struct mon_port *m, *next;

	for (m = mons; m; m = next) {
		next = m->next;
		if (m->gone && !still_named(m))
			mon_free(m);
	}
}

/* ---- the port kind ---- */

static bool mon_claims(const char *name, const struct nmreq_register *reg)
{
	(void)name;
	return reg && (reg->nr_flags & MON_FLAGS);
}

static uint32_t pick(uint32_t v, uint32_t def, uint32_t max)
{
	if (v == 0)
		v = def;
	if (v == 0)
		v = 1;
	return v > max ? max : v;
}

/* A copy monitor's own region: its rings, their buffers, extra ones. */
static struct nmd_region *private_region(const struct nmd_ring_req *rq, uint32_t buf_size,
					 uint32_t extra, int *err)
{
	struct nmd_region_params rp;
	struct nmd_region *rg;
	int d;

	rp.if_size = 16384;
	rp.ring_size = 4096;
	rp.buf_total = 2 + (extra < MON_MAX_EXTRA ? extra : MON_MAX_EXTRA);
	rp.buf_size = buf_size;
	for (d = 0; d < 2; d++) {
		rp.ring_size += rq->nrings[d] * unm_ring_obj_size(rq->nslots[d]);
		rp.buf_total += rq->nrings[d] * rq->nslots[d];
	}
	rg = nmd_region_new(&rp, err);
	if (rg)
		rg->refs = 0;
	return rg;
}

static int mon_open(struct nmd_client *c, const char *name, struct nmreq_register *reg,
		    struct nmd_port **out, char *msg, size_t msglen)
{
	struct nmreq_register preg = *reg;
	const struct nmd_port_ops *kind;
	struct nmd_port *parent;
	struct nmd_region *rg;
	struct nmd_ring_req rq;
	struct mon_port *m, **pp;
	uint64_t fl = reg->nr_flags & MON_FLAGS;
	uint32_t def_rx, def_tx;
	int err;

	if (fl & NR_ZCOPY_MON)
		fl |= NR_MONITOR_TX | NR_MONITOR_RX;
	/* the port the same name resolves to without the monitor flags,
	 * found, never created */
	preg.nr_flags &= ~(uint64_t)MON_FLAGS;
	kind = nmd_kind_of(name, &preg);
	parent = kind->find ? kind->find(c, name) : nmd_named_find(name);
	if (!parent || parent->nbind == 0)
		FAILM(msg, msglen, EINVAL, "%s is not in netmap mode (no descriptor binds it): "
		      "nothing to monitor", name);
	if (reg->nr_mode != NR_REG_ALL_NIC && reg->nr_mode != NR_REG_ONE_NIC)
		FAILM(msg, msglen, EINVAL, "%s has no host rings to monitor", name);
	rq.nrings[UNM_DIR_TX] = 1;
	rq.nrings[UNM_DIR_RX] = parent->nrings[UNM_DIR_TX] > parent->nrings[UNM_DIR_RX] ?
				parent->nrings[UNM_DIR_TX] : parent->nrings[UNM_DIR_RX];
	if (rq.nrings[UNM_DIR_RX] == 0)
		FAILM(msg, msglen, EINVAL, "%s has no rings to monitor", name);
	def_rx = parent->nrings[UNM_DIR_RX] ? parent->ring[UNM_DIR_RX][0].nslots :
					      parent->ring[UNM_DIR_TX][0].nslots;
	def_tx = parent->nrings[UNM_DIR_TX] ? parent->ring[UNM_DIR_TX][0].nslots : def_rx;
	/* netmap: the parent's slot counts, unless the request says */
	rq.nslots[UNM_DIR_TX] = pick(reg->nr_tx_slots, def_tx, MON_MAX_SLOTS);
	rq.nslots[UNM_DIR_RX] = pick(reg->nr_rx_slots, def_rx, MON_MAX_SLOTS);
	if (fl & NR_ZCOPY_MON) {
		rg = parent->rg;
		if (!nmd_region_shareable(rg, msg, msglen))
			return -EPERM;
	} else {
		rg = private_region(&rq, parent->rg->buf_size, reg->nr_extra_bufs, &err);
		if (!rg)
			FAILM(msg, msglen, -err, "cannot create a memory region for a monitor of %s",
			      name);
	}
	nmd_region_ref(rg);
	if (reg->nr_mem_id && reg->nr_mem_id != rg->mem_id) {
		snprintf(msg, msglen, "a %s monitor of %s lives in memory region %u, not %u",
			 (fl & NR_ZCOPY_MON) ? "zero-copy" : "copy", name, rg->mem_id,
			 reg->nr_mem_id);
		nmd_region_unref(rg);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		nmd_region_unref(rg);
		return -ENOMEM;
	}
	m->port.ops = &nmd_monitor_ops;
	m->port.rg = rg;
	m->port.wake[0] = m->port.wake[1] = m->port.hw_kick = -1;
	m->id = id_ctr++;
	m->flags = fl;
	m->zcopy = (fl & NR_ZCOPY_MON) != 0;
	m->parent = parent;
	snprintf(m->pname, sizeof(m->pname), "%s", parent->name);
	snprintf(m->port.name, sizeof(m->port.name), "%.40s/%s%s%s#%u", parent->name,
		 m->zcopy ? "z" : "", (fl & NR_MONITOR_RX) ? "r" : "",
		 (fl & NR_MONITOR_TX) ? "t" : "", m->id);
	err = nmd_port_alloc_rings(&m->port, &rq, 0);
	if (err) {
		snprintf(msg, msglen, "cannot allocate the rings of a monitor of %s (region %u): %s",
			 name, rg->mem_id, strerror(-err));
		nmd_region_unref(rg);
		free(m);
		return err;
	}
	for (pp = &mons; *pp; pp = &(*pp)->next)
		;
	*pp = m;
	*out = &m->port;
	return 0;
}

/* The descriptor is bound: now we know which RX rings it feeds. */
static void mon_bound(struct nmd_port *p)
{
	struct mon_port *m = MON(p);

	if (m->attached || m->orphan || !m->parent)
		return;
	m->attached = true;
	m->writer = m->zcopy ? zchain_prev(m) : m->parent;
	m->gen_at = bump_family(m->parent);
	nmd_info("monitor %s attached (%s, region %u, %u rx rings of %u slots)", p->name,
		 m->zcopy ? "zero copy" : "copy", p->rg->mem_id, p->nrings[UNM_DIR_RX],
		 p->ring[UNM_DIR_RX][0].nslots);
}

static void mon_released(struct nmd_port *p)
{
	struct mon_port *m = MON(p), *succ;

	if (p->nbind > 0)
		return;
	if (!m->attached) {
		/* never fed (its REGISTER failed), or orphaned */
		if (m->orphan && m->zcopy && m->writer) {
			m->gone = true;
			sweep();
		} else {
			mon_free(m);
		}
		return;
	}
	succ = m->zcopy ? zchain_next(m->parent, m) : NULL;
	m->gone = true;
	m->gen_rm = bump_family(m->parent);
	if (succ) {
		/* the next of the chain is fed by whoever fed us */
		succ->writer = m->writer;
		succ->gen_at = m->gen_rm;
	}
	if (m->zcopy && still_named(m))
		nmd_info("monitor %s unbound; its buffers wait until the binders of %s "
			 "forget it", p->name, m->writer->name);
	else
		mon_free(m);
}

/* The monitored port's last binding goes: its monitors are orphaned. */
static void orphan_all(struct nmd_port *p)
{
	struct mon_port *m;
	uint32_t gen = next_gen(), i;
	int d;

	/* zero-copy chains stop feeding themselves: their binders learn it
	 * from the new generation */
	for (m = zchain_next(p, NULL); m; m = zchain_next(p, m))
		bump_port(&m->port, gen);
	for (m = mons; m; m = m->next) {
		if (m->parent != p || m->gone)
			continue;
		m->orphan = true;
		m->attached = false;
		m->parent = NULL;
		m->gen_rm = gen;
		for (d = 0; d < 2; d++)
			for (i = 0; i < m->port.nrings[d]; i++)
				/* R: read by the monitor's rxsync after the
				 * kick below (the eventfd write orders it) */
				atomic_fetch_or_explicit(&nmd_ring_ctl(&m->port,
								       &m->port.ring[d][i])->state,
							 UNM_RING_ORPHAN, memory_order_release);
		nmd_port_kick(&m->port);
		nmd_info("monitor %s orphaned: %s left netmap mode", m->port.name, p->name);
	}
	/* the hardware drops its targets (nobody has p for parent now) */
	if (p->ops->mon_changed)
		p->ops->mon_changed(p);
}

bool nmd_mon_has_zcopy(const struct nmd_port *p)
{
	return zchain_next(p, NULL) != NULL;
}

void nmd_mon_unbound(struct nmd_port *p, struct nmd_binding *b)
{
	struct mon_feed *f = feed_get(p, false);
	struct mon_seen **sp;
	struct mon_port *m;

	if (f) {
		/* what b was told no longer matters: it writes nothing more */
		for (sp = &f->seen; *sp;) {
			struct mon_seen *s = *sp;

			if (s->b == b) {
				*sp = s->next;
				seen_free(s);
			} else {
				sp = &s->next;
			}
		}
	}
	if (p->nbind == 1) {
		/* p leaves netmap mode */
		orphan_all(p);
		for (m = mons; m; m = m->next)
			if (m->writer == p)
				m->writer = NULL;
		f = feed_get(p, false);
		if (f)
			feed_free(f);
	}
	sweep();
}

/* ---- requests ---- */

static struct mon_seen *seen_get(struct mon_feed *f, const struct nmd_binding *b)
{
	struct mon_seen *s;
	int d;

	for (s = f->seen; s; s = s->next)
		if (s->b == b)
			return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	for (d = 0; d < 2; d++) {
		s->gen[d] = calloc(f->port->nrings[d] ? f->port->nrings[d] : 1, sizeof(uint32_t));
		if (!s->gen[d]) {
			seen_free(s);
			return NULL;
		}
	}
	s->b = b;
	s->next = f->seen;
	f->seen = s;
	return s;
}


static int do_targets(struct nmd_client *c, struct nmd_req *r)
{
	struct unm_mon_targets *t = r->body;
	struct mon_port *list[UNM_MON_MAX_TARGETS];
	uint16_t tfl[UNM_MON_MAX_TARGETS];
	struct nmd_binding *b = c->bind;
	struct unm_mon_target *out;
	struct mon_feed *f;
	struct nmd_port *p;
	unsigned n, k;
	int d = t->dir;

	if (!b)
		FAIL(r, EINVAL, "monitor targets: the descriptor is not bound");
	p = b->port;
	if (d > 1 || t->ringid < b->first[d] || t->ringid >= b->first[d] + b->count[d])
		FAIL(r, EINVAL, "monitor targets: %s ring %u is not bound by this descriptor",
		     d ? "rx" : "tx", t->ringid);
	n = targets_of(p, d, t->ringid, list, tfl, UNM_MON_MAX_TARGETS);
	t->ntargets = 0;
	if (n) {
		out = calloc(n, sizeof(*out));
		if (!out)
			return -ENOMEM;
		for (k = 0; k < n; k++) {
			struct nmd_port *mp = &list[k]->port;
			struct nmd_ring *ring = &mp->ring[UNM_DIR_RX][t->ringid];
			int mfd = nmd_reply_fd(r, mp->rg->memfd);
			int wfd = nmd_reply_fd(r, mp->wake[UNM_DIR_RX]);

			if (mfd < 0 || wfd < 0)
				break;	/* cannot happen: 24 targets, 64 fds */
			out[k].region_id = mp->rg->wire_id;
			out[k].region_size = mp->rg->size;
			out[k].buf_pool_ofs = mp->rg->buf_ofs;
			out[k].ring_ofs = ring->ofs;
			out[k].nslots = ring->nslots;
			out[k].buf_size = mp->rg->buf_size;
			out[k].buf_total = mp->rg->buf_total;
			out[k].flags = tfl[k];
			out[k].memfd = (int16_t)mfd;
			out[k].wake_fd = (int16_t)wfd;
		}
		t->ntargets = k;
		r->bind = (struct unm_bind_info *)(void *)out;
		r->bind_len = k * sizeof(*out);
	}
	/* remember what this binding now knows */
	f = feed_get(p, false);
	if (f) {
		struct mon_seen *s = seen_get(f, b);

		if (s)
			s->gen[d][t->ringid] = f->gen[d][t->ringid];
		sweep();
	}
	return 0;
}

static void stats_fill(struct unm_mon_stats *st, const struct mon_port *m)
{
	const struct nmd_port *p = &m->port;
	uint32_t i;

	st->nr_flags = m->flags;
	st->flags = m->orphan ? UNM_MON_ORPHAN : 0;
	st->pkts = st->drops = st->busy = 0;
	for (i = 0; i < p->nrings[UNM_DIR_RX]; i++) {
		const struct unm_ring_ctl *ctl = nmd_ring_ctl(p, &p->ring[UNM_DIR_RX][i]);

		/* the monitor's own memory: whatever it says */
		st->pkts += atomic_load_explicit(&ctl->hw_pkts, memory_order_relaxed);
		st->drops += atomic_load_explicit(&ctl->hw_drops, memory_order_relaxed);
		st->busy += atomic_load_explicit(&ctl->hw_busy, memory_order_relaxed);
	}
	snprintf(st->name, sizeof(st->name), "%s", p->name);
	snprintf(st->parent, sizeof(st->parent), "%s", m->pname);
}

static int do_stats(struct nmd_client *c, struct nmd_req *r)
{
	struct unm_mon_stats *st = r->body;
	const char *name = r->msg->hdr.nr_name;
	struct mon_port *m;
	uint32_t pos = 0;

	if (st->flags & UNM_MON_SELF) {
		if (!c->bind || !is_mon(c->bind->port))
			FAIL(r, EINVAL, "this descriptor is not bound to a monitor");
		stats_fill(st, MON(c->bind->port));
		return 0;
	}
	for (m = mons; m; m = m->next) {
		if (m->gone || (name[0] && strcmp(m->pname, name) != 0))
			continue;
		if (pos++ < st->idx)
			continue;
		stats_fill(st, m);
		st->idx = pos - 1;
		return 0;
	}
	return -ENOENT;
}

int nmd_mon_request(struct nmd_client *c, struct nmd_req *r)
{
	switch (r->msg->hdr.nr_reqtype) {
	case UNM_REQ_MON_TARGETS:
		return do_targets(c, r);
	case UNM_REQ_MON_STATS:
		return do_stats(c, r);
	default:
		FAIL(r, EINVAL, "unknown request type %u", r->msg->hdr.nr_reqtype);
	}
}

const struct nmd_port_ops nmd_monitor_ops = {
	.name = "monitor",
	.claims = mon_claims,
	.open = mon_open,
	.wire_kind = UNM_KIND_MONITOR,
	.bound = mon_bound,
	.released = mon_released,
};

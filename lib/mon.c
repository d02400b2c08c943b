/*
 * mon.c - monitors in libnetmap: the monitored side (which monitor rings
 * each of our rings feeds, and mirroring into them inside our syncs) and
 * the monitor side (the sync code of a monitor port's own rings).
 *
 * Monitored side.  netmapd bumps ctl.mon_gen of a ring when the monitors
 * it feeds change; ring_sync() notices (one relaxed load) and calls
 * unm_mon_refresh(), which asks netmapd for the list
 * (UNM_REQ_MON_TARGETS) and maps the monitors' regions.  The list is
 * this process's own, used under the ring's sync lock only.  The mirroring
 * itself is common/unm_mon.c, shared with netmapd's VALE switch.
 *
 * Monitor side.  A monitor's RX rings are driven like hardware rings:
 * the producers publish ctl.hw_idx, we release through ctl.app_idx.  The
 * TX ring cannot send (EIO), and once the monitored port left netmap mode
 * (UNM_RING_ORPHAN) rxsync still hands over what had come, then fails.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "unm_mon.h"
#include "unm_owner.h"

struct unm_mon_tgt {
	struct unm_mon_ring mr;
	struct mon_map *map;		/* a copy monitor's region; NULL: our
					 * port's own (zero copy) */
};

struct unm_mon_set {
	unsigned n;
	struct unm_mon_tgt t[];
};

/* Regions of copy monitors, mapped once per process. */
struct mon_map {
	uint64_t id;
	size_t size;
	char *base;
	int refs;
	struct mon_map *next;
};

static struct mon_map *maps;
static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;

static struct mon_map *map_get(uint64_t id, size_t size, int memfd)
{
	struct mon_map *m;

	pthread_mutex_lock(&maps_lock);
	for (m = maps; m; m = m->next) {
		if (m->id == id && m->size == size) {
			m->refs++;
			goto out;
		}
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		goto out;
	m->base = unm_libc.mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
				memfd, 0);
	if (m->base == MAP_FAILED) {
		free(m);
		m = NULL;
		goto out;
	}
	m->id = id;
	m->size = size;
	m->refs = 1;
	m->next = maps;
	maps = m;
out:
	pthread_mutex_unlock(&maps_lock);
	return m;
}

static void map_put(struct mon_map *m)
{
	struct mon_map **pp;

	pthread_mutex_lock(&maps_lock);
	if (--m->refs > 0) {
		pthread_mutex_unlock(&maps_lock);
		return;
	}
	for (pp = &maps; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	pthread_mutex_unlock(&maps_lock);
	munmap(m->base, m->size);
	free(m);
}

static void set_free(struct unm_mon_set *s)
{
	unsigned i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		if (s->t[i].mr.wake_fd >= 0)
			unm_libc.close(s->t[i].mr.wake_fd);
		if (s->t[i].map)
			map_put(s->t[i].map);
	}
	free(s);
}

static bool fits(uint64_t ofs, uint64_t len, uint64_t size)
{
	return ofs <= size && len <= size - ofs;
}

/*
 * One target from netmapd's answer, checked against the region it names
 * before any pointer is made.  Zero-copy targets must live in our own
 * region, with our buffers: swapping anything else would be corruption.
 * Returns false if the entry is unusable (it is then left out).
 */
static bool target_make(struct unm_ring *r, const struct unm_mon_target *tg, const int *fds,
			unsigned nfds, struct unm_mon_tgt *out)
{
	const struct unm_map *own = r->port->map;
	uint64_t rl = UNM_RING_HDR_SIZE + (uint64_t)tg->nslots * sizeof(struct netmap_slot);
	bool copy = tg->flags & UNM_MON_T_COPY;
	char *base;

	if (tg->memfd < 0 || (unsigned)tg->memfd >= nfds || tg->wake_fd < 0 ||
	    (unsigned)tg->wake_fd >= nfds || tg->nslots == 0 || tg->nslots > 4096 ||
	    tg->buf_size == 0 || tg->buf_size > 65536 || tg->ring_ofs < UNM_RING_CTL_SIZE ||
	    !fits(tg->ring_ofs - UNM_RING_CTL_SIZE, UNM_RING_CTL_SIZE + rl, tg->region_size) ||
	    !fits(tg->buf_pool_ofs, (uint64_t)tg->buf_total * tg->buf_size, tg->region_size))
		return false;
	memset(out, 0, sizeof(*out));
	if (tg->region_id == own->region_id && tg->region_size == own->size) {
		base = own->base;
	} else if (copy) {
		out->map = map_get(tg->region_id, tg->region_size, fds[tg->memfd]);
		if (!out->map)
			return false;
		base = out->map->base;
	} else {
		return false;
	}
	if (!copy && (tg->buf_size != r->buf_size || tg->buf_total != r->buf_total ||
		      base + tg->buf_pool_ofs != r->bufs)) {
		if (out->map)
			map_put(out->map);
		return false;
	}
	out->mr.ring = (struct netmap_ring *)(void *)(base + tg->ring_ofs);
	out->mr.ctl = unm_ring_ctl(out->mr.ring);
	out->mr.bufs = base + tg->buf_pool_ofs;
	out->mr.n = tg->nslots;
	out->mr.buf_size = tg->buf_size;
	out->mr.buf_total = tg->buf_total;
	out->mr.flags = tg->flags;
	out->mr.wake_fd = fds[tg->wake_fd];
	return true;
}

void unm_mon_refresh(struct unm_ring *r)
{
	struct {
		struct unm_msg_nmreq m;
		struct unm_mon_targets t;
	} req;
	const struct unm_mon_targets *rt;
	const struct unm_mon_target *tg;
	struct unm_mon_set *set = NULL;
	int fds[UNM_WIRE_MAXFDS];
	unsigned nfds = UNM_WIRE_MAXFDS, i, k;
	uint32_t rlen = 0, nt;
	char *reply;
	int err;

	/* whatever happens below, ask again only when it changes again */
	r->mon_seen = atomic_load_explicit(&r->ctl->mon_gen, memory_order_relaxed);
	/* a ring that is not a bound port's (the fuzzer's) has nobody to ask */
	if (!r->port->bound || !r->port->map)
		goto done_noreply;
	reply = malloc(UNM_WIRE_MAX);
	if (!reply)
		goto done;
	memset(&req, 0, sizeof(req));
	req.m.hdr.nr_version = NETMAP_API;
	req.m.hdr.nr_reqtype = UNM_REQ_MON_TARGETS;
	req.m.body_len = sizeof(req.t);
	req.t.dir = r->dir;
	req.t.ringid = r->id;
	err = unm_ctl_call(r->port, UNM_MSG_NMREQ, &req, sizeof(req), reply, &rlen, fds, &nfds);
	if (err || rlen < sizeof(req)) {
		/* without an answer we mirror nothing: lossy, never wrong */
		for (i = 0; i < nfds; i++)
			unm_libc.close(fds[i]);
		goto done;
	}
	rt = (const struct unm_mon_targets *)(const void *)(reply + sizeof(req.m));
	nt = rt->ntargets;
	if (nt > UNM_MON_MAX_TARGETS || rlen < sizeof(req) + nt * sizeof(*tg))
		nt = 0;
	tg = (const struct unm_mon_target *)(const void *)(reply + sizeof(req));
	if (nt)
		set = calloc(1, sizeof(*set) + nt * sizeof(set->t[0]));
	for (i = 0; set && i < nt; i++)
		if (target_make(r, &tg[i], fds, nfds, &set->t[set->n]))
			set->n++;
	/* the wake eventfds in use stay open; every other descriptor goes */
	for (i = 0; i < nfds; i++) {
		bool kept = false;

		for (k = 0; set && k < set->n; k++)
			kept |= set->t[k].mr.wake_fd == fds[i];
		if (!kept)
			unm_libc.close(fds[i]);
	}
	if (set && set->n == 0) {
		free(set);
		set = NULL;
	}
done:
	free(reply);
done_noreply:
	set_free(r->mon);
	r->mon = set;
}

static void mirror(struct unm_ring *r, bool zcopy, uint32_t from, uint32_t to)
{
	struct unm_mon_set *s = r->mon;
	struct unm_mon_src src = {
		.ring = r->ring, .bufs = r->bufs, .n = r->n,
		.buf_size = r->buf_size, .buf_total = r->buf_total,
		.txmon = r->dir == UNM_DIR_TX ? NS_TXMON : 0,
	};
	uint64_t me = unm_owner_self();
	unsigned i;

	if (from == to)
		return;
	for (i = 0; i < s->n; i++) {
		struct unm_mon_ring *m = &s->t[i].mr;

		if (!(m->flags & UNM_MON_T_COPY) != zcopy)
			continue;
		if (zcopy)
			unm_mon_swap(m, &src, from, to, me);
		else
			unm_mon_copy(m, &src, from, to, me);
	}
}

/* Copy monitors see TX frames before they leave; zero-copy monitors get
 * the buffers the sync reclaimed. */
int unm_mon_txsync(struct unm_ring *r, struct unm_kring *k, uint32_t head)
{
	uint32_t n = r->n, old_tail = k->hwtail;
	int err;

	mirror(r, false, k->hwcur, head);
	err = r->port->ops->txsync(r, k, head);
	if (k->hwtail != old_tail)
		mirror(r, true, unm_idx_add(old_tail, 1, n), unm_idx_add(k->hwtail, 1, n));
	return err;
}

/* Zero-copy monitors get the buffers released now, before the kind hands
 * the slots back; copy monitors see what came in. */
int unm_mon_rxsync(struct unm_ring *r, struct unm_kring *k, uint32_t head)
{
	uint32_t old_tail = k->hwtail;
	int err;

	mirror(r, true, k->hwcur, head);
	err = r->port->ops->rxsync(r, k, head);
	if (k->hwtail != old_tail)
		mirror(r, false, old_tail, k->hwtail);
	return err;
}

void unm_mon_unbind(struct unm_port *p)
{
	uint32_t i;
	int d;

	for (d = 0; d < 2; d++) {
		for (i = 0; i < p->nrings[d]; i++) {
			set_free(p->ring[d][i].mon);
			p->ring[d][i].mon = NULL;
		}
	}
}

/* ---- the monitor's own rings ---- */

static int mon_txsync(struct unm_ring *r, struct unm_kring *k, uint32_t head)
{
	(void)r;
	(void)k;
	(void)head;
	return -EIO;	/* monitors cannot send, as in netmap */
}

static int mon_rxsync(struct unm_ring *r, struct unm_kring *k, uint32_t head)
{
	uint32_t n = r->n, filled;

	if (head != k->hwcur) {
		k->hwcur = head;
		/* R: the slots [old hwcur, head) are the producers' again,
		 * to their acquire load in unm_mon_copy()/unm_mon_swap();
		 * they never sleep, so nobody is kicked */
		atomic_store_explicit(&r->ctl->app_idx, head, memory_order_release);
	}
	/* A: pairs with the producers' release store after filling slots */
	filled = atomic_load_explicit(&r->ctl->hw_idx, memory_order_acquire);
	if (filled != k->hwtail &&
	    unm_idx_between(k->hwtail, filled, unm_idx_prev(k->hwcur, n), n))
		k->hwtail = filled;
	/* A: pairs with netmapd's release when it orphaned us */
	if (atomic_load_explicit(&r->ctl->state, memory_order_acquire) & UNM_RING_ORPHAN)
		return -EIO;
	return 0;
}

const struct unm_port_ops unm_monitor_ops = {
	.name = "monitor",
	.txsync = mon_txsync,
	.rxsync = mon_rxsync,
};

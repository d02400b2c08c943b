/*
 * sync_veth.c - netmap:IFNAME on one end of a veth pair (UNM_KIND_VETH):
 * AF_XDP as any interface while the other end is not open through our
 * netmapd, linked ring to ring while it is.  The protocol, and what
 * happens to frames in flight at a switch, are in common/unm_veth.h.
 *
 * Each ring asks netmapd what it is (UNM_REQ_VETH_LINK) at its first
 * sync and whenever ctl.link_gen moves, and switches under its sync lock:
 *
 *   1. the ring's shared state (hwcur, hwtail, kx[]) leaves the mode
 *      kx[3] says it is in, unless another binder switched it already:
 *      AF_XDP TX kicks while that completes frames (bounded), then gives back
 *      the slots still in flight (counted in ctl.hw_drops); AF_XDP RX
 *      takes what its AF_XDP RX ring holds; linked RX takes what was
 *      pushed;
 *   2. this process drops its own means of the old mode (the socket and
 *      its mapped rings, the peer's eventfd) and takes the new one's;
 *   3. the shared state enters the new mode: linked TX keeps the slots it
 *      had not sent (pushed once the peer's RX ring is ready), linked RX
 *      publishes its indices then link_ack READY, AF_XDP TX hands the
 *      slots not sent yet to the new socket, AF_XDP RX posts its spares
 *      and its free slots to the new fill ring.
 *
 * Linked data path (push): see unm_veth.h.  The peer's ring and control
 * block are shared memory the other end writes: its app_idx and its
 * slots' buffer indices are read once and validated, loops are bounded
 * by our trusted slot count, which the peer ring shares (netmapd links
 * rings of one size only).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "nic_ring.h"
#include "unm_veth.h"

/* r->priv of a veth port's ring */
struct veth_ring {
	struct unm_nic_sock sock;	/* first: see unm_nic_arm(); fd is
					 * the AF_XDP socket, -1 if none */
	void *x;			/* AF_XDP: the socket's rings, mapped */
	uint32_t seen;			/* ctl.link_gen this config is for */
	uint32_t mode;			/* UNM_VETH_M_*, this process's */
	uint32_t peer_gen;		/* linked: the peer port's generation */
	struct netmap_ring *peer;	/* linked: the peer's ring */
	struct unm_ring_ctl *peer_ctl;
	int kick_fd;			/* linked: the peer ring's sleepers */
};

#define LOAD_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static inline uint32_t nxt(uint32_t i, uint32_t n)
{
	return i + 1 == n ? 0 : i + 1;
}

/* Wake the peer ring's sleepers if one said it was going to sleep. */
static void kick_peer(struct veth_ring *vr, _Atomic uint32_t *flag)
{
	uint64_t one = 1;

	/* F: orders our index store (release, by the caller) before the
	 * flag load; pairs with the sleeper's fence in unm_port_arm() */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(flag, memory_order_relaxed) &&
	    atomic_exchange_explicit(flag, 0, memory_order_relaxed) && vr->kick_fd >= 0) {
		if (write(vr->kick_fd, &one, sizeof(one)) < 0) {
			/* EAGAIN: saturated, the sleeper wakes anyway */
		}
	}
}

/* ---- linked data path ---- */

/*
 * Push slots [hwtail + 1, hwcur) into the peer's RX ring, whole packets
 * only, swapping buffers: each of our slots gets the peer's free slot's
 * buffer.  kx[2] is our position in the peer ring.
 */
/* x86: PREFETCHW, so that the peer's slot line comes in owned, ready for
 * the store that follows the load (a plain prefetch brings it shared,
 * and the store asks for it a second time) */
#if defined(__x86_64__)
__attribute__((target("prfchw")))
#endif
static int link_txsync(struct unm_ring *r, struct veth_ring *vr, struct unm_kring *k,
		       uint32_t head)
{
	struct netmap_ring *ring = r->ring, *peer = vr->peer;
	struct unm_ring_ctl *pctl = vr->peer_ctl;
	uint32_t n = r->n, first, pos, rel, room, pend, m, i, t, last;

	k->hwcur = head;
	first = nxt(k->hwtail, n);
	if (first == head)
		return 0;
	if (!(k->kx[3] & UNM_VETH_CURSOR)) {
		/* A: pairs with the peer RX ring's release of link_ack after
		 * it published its indices (its switch to linked) */
		uint32_t ack = atomic_load_explicit(&pctl->link_ack, memory_order_acquire);

		if (ack != unm_veth_ack(UNM_VETH_ACK_READY, vr->peer_gen))
			return 0;	/* not ready: the slots wait, none lost */
		pos = atomic_load_explicit(&pctl->hw_idx, memory_order_relaxed);
		k->kx[2] = pos < n ? pos : 0;
		k->kx[3] |= UNM_VETH_CURSOR;
	}
	pos = k->kx[2] < n ? k->kx[2] : 0;
	/* A: pairs with the receiver's release of app_idx: the slots it
	 * released (and their buffers) are ours to rewrite */
	rel = atomic_load_explicit(&pctl->app_idx, memory_order_acquire);
	if (rel >= n)
		return 0;	/* scribbled: push nothing until it makes sense */
	room = unm_idx_dist(pos, unm_idx_prev(rel, n), n);
	pend = unm_idx_dist(first, head, n);
	m = pend < room ? pend : room;
	/* whole packets: stop after the last slot without NS_MOREFRAG */
	last = 0;
	for (i = 0, t = first; i < m; i++, t = nxt(t, n))
		if (!(LOAD_ONCE(ring->slot[t].flags) & NS_MOREFRAG))
			last = i + 1;
	if (last == 0 && m == n - 1)
		last = m;	/* a chain as long as the ring: it goes, cut */
	for (i = 0, t = first; i < last; i++, t = nxt(t, n)) {
		struct netmap_slot *ts = &ring->slot[t], *ps = &peer->slot[pos];
		uint32_t mine = LOAD_ONCE(ts->buf_idx), theirs = LOAD_ONCE(ps->buf_idx);
		uint16_t len = LOAD_ONCE(ts->len), fl = LOAD_ONCE(ts->flags);

		/* the peer's slots sit in the receiver's cache: ask early,
		 * as sync_pipe.c does */
		__builtin_prefetch(&peer->slot[pos + 16 < n ? pos + 16 : pos + 16 - n], 1);

		if (__builtin_expect(mine < 2 || mine >= r->buf_total || len > r->buf_size, 0)) {
			/* our application's bad slot: an empty frame, and
			 * nobody's buffer changes hands */
			ps->len = 0;
			ps->flags = 0;
		} else {
			/* untrusted: a bad index of the peer's is never ours */
			if (__builtin_expect(theirs < 2 || theirs >= r->buf_total, 0))
				theirs = 0;
			ps->buf_idx = mine;
			ps->len = len;
			ps->flags = fl & NS_MOREFRAG;
			ts->buf_idx = theirs;
			ts->flags = (uint16_t)((fl & ~(NS_REPORT | NS_MOREFRAG)) | NS_BUF_CHANGED);
		}
		pos = nxt(pos, n);
	}
	if (last) {
		k->kx[2] = pos;
		k->hwtail = unm_idx_prev(t, n);
		/* R: publishes the slots written above to the receiver's
		 * acquire load of hw_idx (sync_hw.c's rxsync) */
		atomic_store_explicit(&pctl->hw_idx, pos, memory_order_release);
		kick_peer(vr, &pctl->app_sleep);
	}
	return 0;
}

/* The hardware-ring protocol of sync_hw.c, the peer's TX ring being the
 * hardware; releasing slots wakes its sleepers. */
static int link_rxsync(struct unm_ring *r, struct veth_ring *vr, struct unm_kring *k,
		       uint32_t head)
{
	uint32_t n = r->n, filled;

	if (head != k->hwcur) {
		k->hwcur = head;
		/* R: releases slots [old hwcur, head) to the pusher's acquire
		 * load of app_idx */
		atomic_store_explicit(&r->ctl->app_idx, head, memory_order_release);
		kick_peer(vr, &vr->peer_ctl->app_sleep);
	}
	/* A: pairs with the pusher's release of hw_idx */
	filled = atomic_load_explicit(&r->ctl->hw_idx, memory_order_acquire);
	if (filled != k->hwtail &&
	    unm_idx_between(k->hwtail, filled, unm_idx_prev(k->hwcur, n), n))
		k->hwtail = filled;
	return 0;
}

/* ---- switching ---- */

/* Ask netmapd what ring r is now.  0 or -errno; on success *cfg, the
 * NIC part (XDP) in nic, and the descriptors (ours to close). */
static int ask(struct unm_ring *r, struct unm_veth_link *cfg, char *nic, size_t niclen,
	       size_t *gotnic, int *fds, unsigned *nfds)
{
	struct {
		struct unm_msg_nmreq m;
		struct unm_veth_link l;
	} req;
	uint32_t rlen = 0;
	char *reply;
	int err;

	if (!r->port->bound || !r->port->map)
		return -ENXIO;
	reply = malloc(UNM_WIRE_MAX);
	if (!reply)
		return -ENOMEM;
	memset(&req, 0, sizeof(req));
	req.m.hdr.nr_version = NETMAP_API;
	req.m.hdr.nr_reqtype = UNM_REQ_VETH_LINK;
	req.m.body_len = sizeof(req.l);
	req.l.dir = r->dir;
	req.l.ringid = r->id;
	err = unm_ctl_call(r->port, UNM_MSG_NMREQ, &req, sizeof(req), reply, &rlen, fds, nfds);
	if (!err && rlen < sizeof(req))
		err = -EPROTO;
	if (!err) {
		memcpy(cfg, reply + sizeof(req.m), sizeof(*cfg));
		*gotnic = rlen - sizeof(req) < niclen ? rlen - sizeof(req) : niclen;
		memcpy(nic, reply + sizeof(req), *gotnic);
	}
	free(reply);
	return err;
}

/* This process's AF_XDP socket of the ring goes. */
static void drop_xdp(struct unm_ring *r, struct veth_ring *vr)
{
	if (vr->sock.in_ep)
		unm_libc.epoll_ctl(r->port->wake_ep, EPOLL_CTL_DEL, vr->sock.fd, NULL);
	vr->sock.in_ep = false;
	if (vr->x)
		unm_xdp_ring_close(vr->x);
	vr->x = NULL;
	if (vr->sock.fd >= 0)
		unm_libc.close(vr->sock.fd);
	vr->sock.fd = -1;
}

static void drop_link(struct veth_ring *vr)
{
	if (vr->kick_fd >= 0)
		unm_libc.close(vr->kick_fd);
	vr->kick_fd = -1;
	vr->peer = NULL;
	vr->peer_ctl = NULL;
}

/* Map the socket the reply passed, as entry 0 of a one-ring bind info
 * made of our own trusted geometry and netmapd's NIC part. */
static int take_xdp(struct unm_ring *r, struct veth_ring *vr, const char *nic, size_t niclen,
		    int sock)
{
	/* bind info, its one ring, then the NIC part with its one ring:
	 * the layout unm_nic_info() reads */
	const size_t bl = sizeof(struct unm_bind_info) + sizeof(struct unm_bind_ring);
	const size_t nl = sizeof(struct unm_bind_nic) + sizeof(struct unm_nic_ring);
	uint64_t buf[(sizeof(struct unm_bind_info) + sizeof(struct unm_bind_ring) +
		      sizeof(struct unm_bind_nic) + sizeof(struct unm_nic_ring)) / 8 + 1];
	struct unm_bind_info *bi = (struct unm_bind_info *)(void *)buf;
	struct unm_bind_nic *bn = (struct unm_bind_nic *)(void *)((char *)buf + bl);
	int fds[4] = { -1, -1, -1, sock }, err;

	_Static_assert((sizeof(struct unm_bind_info) + sizeof(struct unm_bind_ring)) % 8 == 0,
		       "the NIC part is aligned");
	if (niclen < nl)
		return -EPROTO;
	memset(buf, 0, sizeof(buf));
	bi->kind = UNM_KIND_XDP;
	bi->nrings = 1;
	bi->buf_pool_ofs = (uint64_t)(r->bufs - r->port->map->base);
	bi->buf_size = r->buf_size;
	bi->buf_total = r->buf_total;
	bi->ring[0].dir = r->dir;
	bi->ring[0].ringid = r->id;
	bi->ring[0].nslots = r->n;
	memcpy(bn, nic, nl);
	bn->ring[0].sock_fd = 3;
	vr->x = unm_xdp_ring_open(r, r->port->map->base, bi, bl + nl, 0, fds, 4, &err);
	if (!vr->x)
		return err;
	vr->sock.fd = sock;
	return 0;
}

static int take_link(struct unm_ring *r, struct veth_ring *vr, const struct unm_veth_link *cfg,
		     const int *fds, unsigned nfds)
{
	const struct unm_map *m = r->port->map;
	uint64_t len = UNM_RING_HDR_SIZE + (uint64_t)r->n * sizeof(struct netmap_slot);

	if (cfg->peer_ofs < UNM_RING_CTL_SIZE || cfg->peer_ofs % 64 || cfg->peer_ofs > m->size ||
	    m->size - cfg->peer_ofs < len || cfg->kick_fd < 0 || (unsigned)cfg->kick_fd >= nfds)
		return -EPROTO;
	vr->peer = (struct netmap_ring *)(void *)(m->base + cfg->peer_ofs);
	vr->peer_ctl = unm_ring_ctl(vr->peer);
	vr->peer_gen = cfg->peer_gen;
	vr->kick_fd = fds[cfg->kick_fd];
	return 0;
}

/* Step 1 of the switch (see the top): the shared state leaves `from`. */
static void shared_leave(struct unm_ring *r, struct veth_ring *vr, struct unm_kring *k,
			 uint32_t from)
{
	uint32_t n = r->n;

	if (r->dir == UNM_DIR_TX && from == UNM_VETH_M_XDP) {
		uint32_t lost, i;

		/* send what the kernel will still take: a copy-mode kick
		 * completes a budget of frames, so kick again while that
		 * moves anything (bounded) */
		for (i = 0; vr->x && i < 64; i++) {
			uint32_t before = k->hwtail;

			unm_xdp_ring_txsync(r, vr->x, k, k->hwcur);
			if (nxt(k->hwtail, n) == k->hwcur || k->hwtail == before)
				break;
		}
		lost = unm_idx_dist(nxt(k->hwtail, n), k->hwcur, n);
		if (lost)
			atomic_fetch_add_explicit(&r->ctl->hw_drops, lost, memory_order_relaxed);
		k->hwtail = unm_idx_prev(k->hwcur, n);
		k->kx[0] = 0;
	} else if (r->dir == UNM_DIR_RX && from == UNM_VETH_M_XDP) {
		uint32_t left;

		if (vr->x) {
			unm_xdp_ring_rxsync(r, vr->x, k, k->hwcur);
			left = unm_xdp_ring_rx_pending(vr->x);
			if (left)
				atomic_fetch_add_explicit(&r->ctl->hw_drops, left,
							  memory_order_relaxed);
		}
	} else if (r->dir == UNM_DIR_RX && from == UNM_VETH_M_LINK) {
		/* what the peer pushed before it switched */
		uint32_t filled = atomic_load_explicit(&r->ctl->hw_idx, memory_order_acquire);

		if (filled < n &&
		    unm_idx_between(k->hwtail, filled, unm_idx_prev(k->hwcur, n), n))
			k->hwtail = filled;
	}
}

/* Step 3: the shared state enters `to` for generation gen. */
static void shared_enter(struct unm_ring *r, struct veth_ring *vr, struct unm_kring *k,
			 uint32_t from, uint32_t to, uint32_t gen)
{
	uint32_t n = r->n;

	k->kx[3] = unm_veth_state(to, gen, false);
	if (r->dir == UNM_DIR_TX && to == UNM_VETH_M_XDP) {
		/* the slots not pushed yet go to the socket at this sync */
		k->hwcur = nxt(k->hwtail, n);
		k->kx[0] = 0;
	} else if (r->dir == UNM_DIR_RX && to == UNM_VETH_M_XDP && vr->x) {
		unm_xdp_ring_prefill(r, vr->x, k, k->hwtail, unm_idx_prev(k->hwcur, n));
	} else if (r->dir == UNM_DIR_RX && to == UNM_VETH_M_LINK) {
		if (from != UNM_VETH_M_LINK) {
			atomic_store_explicit(&r->ctl->hw_idx, k->hwtail, memory_order_relaxed);
			/* R: the indices before the ack below */
			atomic_store_explicit(&r->ctl->app_idx, k->hwcur, memory_order_release);
		}
		/* R: lets the peer's TX push (its acquire of link_ack) */
		atomic_store_explicit(&r->ctl->link_ack, unm_veth_ack(UNM_VETH_ACK_READY, gen),
				      memory_order_release);
		kick_peer(vr, &vr->peer_ctl->app_sleep);
	}
}

static void veth_switch(struct unm_ring *r, struct veth_ring *vr, struct unm_kring *k,
			uint32_t gen_now)
{
	char nic[sizeof(struct unm_bind_nic) + sizeof(struct unm_nic_ring)];
	struct unm_veth_link cfg = { 0 };
	int fds[UNM_WIRE_MAXFDS];
	unsigned nfds = UNM_WIRE_MAXFDS, i;
	uint32_t st = k->kx[3], from = unm_veth_mode(st), to, gen;
	size_t niclen = 0;
	bool done;
	int err, sock = -1;

	err = ask(r, &cfg, nic, sizeof(nic), &niclen, fds, &nfds);
	if (err)
		nfds = 0;
	to = err ? UNM_VETH_M_NONE : cfg.mode;
	gen = err ? gen_now : cfg.gen & UNM_VETH_GEN_MASK;
	if (to > UNM_VETH_M_NONE)
		to = UNM_VETH_M_NONE;	/* netmapd's answer, but still checked */
	done = from == to && unm_veth_value(st) == gen;
	if (!done)
		shared_leave(r, vr, k, from);
	drop_xdp(r, vr);
	drop_link(vr);
	if (to == UNM_VETH_M_XDP) {
		const struct unm_nic_ring *nr =
			(const struct unm_nic_ring *)(const void *)(nic + sizeof(struct unm_bind_nic));

		if (niclen == sizeof(nic) && nr->sock_fd >= 0 && (unsigned)nr->sock_fd < nfds)
			sock = fds[nr->sock_fd];
		if (sock < 0 || take_xdp(r, vr, nic, niclen, sock) < 0) {
			vr->x = NULL;
			sock = -1;
			to = UNM_VETH_M_NONE;
		}
	} else if (to == UNM_VETH_M_LINK && take_link(r, vr, &cfg, fds, nfds) < 0) {
		to = UNM_VETH_M_NONE;
	}
	/* every descriptor we did not keep goes */
	for (i = 0; i < nfds; i++)
		if (fds[i] != sock && fds[i] != vr->kick_fd)
			unm_libc.close(fds[i]);
	if (!done)
		shared_enter(r, vr, k, from, to, gen);
	vr->mode = to;
	vr->seen = gen;
}

/* ---- ops ---- */

static struct veth_ring *ring_state(struct unm_ring *r, struct unm_kring *k)
{
	struct veth_ring *vr = r->priv;
	/* A: pairs with netmapd's release of link_gen after it changed the
	 * configuration (nic_veth.c); one load of a line every sync reads */
	uint32_t gen = atomic_load_explicit(&r->ctl->link_gen, memory_order_acquire);

	if (__builtin_expect(gen != vr->seen, 0))
		veth_switch(r, vr, k, gen);
	return vr;
}

static int veth_txsync(struct unm_ring *r, struct unm_kring *k, uint32_t head)
{
	struct veth_ring *vr = ring_state(r, k);

	/* linked: the interface's state still counts (down, deleted), as
	 * it does on AF_XDP: frames move, the sync reports the error */
	if (__builtin_expect(vr->mode == UNM_VETH_M_LINK, 1))
		return link_txsync(r, vr, k, head) ?: unm_nic_state_err(r);
	if (vr->mode == UNM_VETH_M_XDP)
		return unm_xdp_ring_txsync(r, vr->x, k, head);
	return unm_nic_state_err(r);	/* no sockets: nothing moves */
}

static int veth_rxsync(struct unm_ring *r, struct unm_kring *k, uint32_t head)
{
	struct veth_ring *vr = ring_state(r, k);

	if (__builtin_expect(vr->mode == UNM_VETH_M_LINK, 1))
		return link_rxsync(r, vr, k, head) ?: unm_nic_state_err(r);
	if (vr->mode == UNM_VETH_M_XDP)
		return unm_xdp_ring_rxsync(r, vr->x, k, head);
	return unm_nic_state_err(r);
}

static void veth_unbind(struct unm_port *p)
{
	uint32_t i;
	int d;

	for (d = 0; d < 2; d++) {
		for (i = 0; p->ring[d] && i < p->nrings[d]; i++) {
			struct unm_ring *r = &p->ring[d][i];
			struct veth_ring *vr = r->priv;

			if (!vr)
				continue;
			drop_xdp(r, vr);
			drop_link(vr);
			free(vr);
			r->priv = NULL;
		}
	}
}

/* Nothing from the REGISTER reply: each ring asks at its first sync. */
static int veth_bind(struct unm_port *p, char *base, const struct unm_bind_info *bi,
		     size_t len, const int *fds, unsigned nfds)
{
	uint32_t i;
	int d;

	(void)base;
	(void)bi;
	(void)len;
	(void)fds;
	(void)nfds;
	for (d = 0; d < 2; d++) {
		for (i = 0; i < p->nrings[d]; i++) {
			struct veth_ring *vr = calloc(1, sizeof(*vr));

			if (!vr) {
				veth_unbind(p);
				return -ENOMEM;
			}
			vr->sock.fd = -1;
			vr->kick_fd = -1;
			vr->seen = UINT32_MAX;	/* no generation is this */
			vr->mode = UNM_VETH_M_NONE;
			p->ring[d][i].priv = vr;
		}
	}
	return 0;
}

static void veth_arm(struct unm_port *p, bool on)
{
	unm_nic_arm(p, on);
}

const struct unm_port_ops unm_veth_ops = {
	.name = "veth",
	.txsync = veth_txsync,
	.rxsync = veth_rxsync,
	.bind = veth_bind,
	.unbind = veth_unbind,
	.arm = veth_arm,
};

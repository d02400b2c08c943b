/*
 * sync_xdp.c - netmap:IFNAME over AF_XDP: the data path, in the
 * application's process, on the sockets netmapd created and passed with
 * the REGISTER reply (one per interface queue; netmap TX ring i and RX
 * ring i are queue i's).  The UMEM is the region's buffer pool: UMEM
 * address = buffer index * buffer size, so frames are never copied in
 * user space.
 *
 *   txsync  completion ring -> slots after tail (their buffers are free
 *           again); slots [hwcur, head) -> TX ring; sendto() when the
 *           kernel asks for a wake-up (always, in copy mode: the copy
 *           happens inside that call); completions once more.
 *   rxsync  slots the application released -> fill ring (netmap keeps one
 *           slot empty, so the slots that become the kernel's are
 *           [old head - 1, head - 1)); RX ring -> slots [tail, ...).
 *
 * Spare receive buffers.  A ring of n slots can lend the kernel at most
 * n - 1 buffers, which a modest rate exhausts while the application is
 * not scheduled: the kernel then drops (fill ring empty).  So each RX
 * queue also owns buffers that belong to no slot, the "spares", whose
 * indices netmapd keeps in an array in the region (struct unm_nic_ring).
 * The kernel holds the spares and the buffers of the slots it owns
 * ([tail, head - 1)); it returns them in the order they were posted
 * (copy mode), and the oldest posted are always the spares, from the
 * cursor on, then the kernel's slots from tail on.  So when a frame
 * arrives in buffer b for slot t, b is normally the spare at the cursor:
 * t takes b, the spare entry takes t's old buffer (now the youngest of
 * the spares' generation, which is right: it was posted after all the
 * other spares), and the cursor moves on.  When the kernel returns
 * buffers in another order (zero copy, a frame it dropped) b is looked
 * up among the kernel's slots and the spares and exchanged with t's the
 * same way.  Either way every buffer keeps exactly one owner, a slot or
 * a spare entry, which is what netmapd frees.
 *
 * Where the frame lands in a buffer: see daemon/nic_xdp.c (copy mode posts
 * buffer b as b * size - 256 on unaligned chunks, so it lands at the start;
 * with aligned chunks, zero copy, rxsync moves it there).
 *
 * Several processes may bind the same ring (under the ring's sync lock):
 * every index lives in the shared AF_XDP rings or the control block,
 * never in a process-private copy.  Descriptors coming from the kernel
 * are checked against the region geometry all the same.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_xdp.h>

#include "nic_ring.h"

#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0)
#endif
#ifndef XDP_UMEM_UNALIGNED_CHUNK_FLAG
#define XDP_UMEM_UNALIGNED_CHUNK_FLAG (1 << 0)
#endif
/* unaligned-chunk descriptors carry the data offset in the top 16 bits */
#define XSK_ADDR_MASK  ((1ull << 48) - 1)
#define XSK_OFF_SHIFT  48

#define ETH_MIN_HDR    14

/* one mmapped AF_XDP ring */
struct xq {
	_Atomic uint32_t *prod;
	_Atomic uint32_t *cons;
	_Atomic uint32_t *flags;
	void *desc;
	uint32_t mask;
	void *map;
	size_t maplen;
};

/* r->priv of a ring of an AF_XDP port */
struct xdp_ring {
	struct unm_nic_sock sock;	/* first: see unm_nic_arm() */
	struct xq q;		/* TX ring (we produce) / RX ring (we consume) */
	struct xq uq;		/* completion (we consume) / fill (we produce) */
	char *bufs;		/* the buffer pool in our mapping */
	uint32_t bs;
	uint32_t back;		/* fill address = buffer start - back */
	uint32_t room;		/* longest frame a buffer receives */
	bool wakeup;		/* XDP_USE_NEED_WAKEUP: kick only when asked */
	bool sg;		/* NS_MOREFRAG chains may be sent */
	bool zc;		/* zero copy: sendto() only wakes the driver */
	/* RX: the spare buffers' indices, in the region (shared with every
	 * binder of the ring; used under its sync lock) */
	uint32_t *spare;
	uint32_t nspare;
};

static inline uint32_t slot_next(uint32_t i, uint32_t n)
{
	return i + 1 == n ? 0 : i + 1;
}

/*
 * Completed transmissions: the slots after tail get their buffers back.
 * Returns the new hwtail.
 */
static uint32_t tx_reap(struct unm_ring *r, struct xdp_ring *x, uint32_t hwcur, uint32_t hwtail)
{
	const uint64_t *addr = x->uq.desc;
	uint32_t n = r->n, t = slot_next(hwtail, n), cons, prod, avail, flight, i;

	cons = atomic_load_explicit(x->uq.cons, memory_order_relaxed);
	/* A: pairs with the kernel's release of the completion entries */
	prod = atomic_load_explicit(x->uq.prod, memory_order_acquire);
	avail = prod - cons;
	if (avail == 0)
		return hwtail;
	flight = unm_idx_dist(t, hwcur, n);
	if (__builtin_expect(avail > flight, 0))
		avail = flight;		/* more than we sent: ignore the excess */
	for (i = 0; i < avail; i++) {
		uint64_t a = addr[(cons + i) & x->uq.mask] & XSK_ADDR_MASK;
		uint32_t b = (uint32_t)(a / x->bs);

		if (__builtin_expect(b >= 2 && b < r->buf_total, 1))
			unm_nic_claim(r->ring, n, t, hwcur, b);
		t = slot_next(t, n);
	}
	/* R: hands the entries back to the kernel's producer */
	atomic_store_explicit(x->uq.cons, cons + avail, memory_order_release);
	return unm_idx_prev(t, n);
}

/* Let the kernel transmit what the TX ring holds.  In copy mode the
 * frames are copied inside sendto(), at most a budget per call: go on
 * while it makes progress.  0 or -errno for a failed device. */
static int tx_kick(struct xdp_ring *x, uint32_t prod)
{
	int tries;

	for (tries = 0; tries < 64; tries++) {
		uint32_t before = atomic_load_explicit(x->q.cons, memory_order_acquire);

		if (before == prod)
			return 0;
		if (sendto(x->sock.fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0) {
			switch (errno) {
			case EINTR:
				continue;
			case EAGAIN:
			case EBUSY:
			case ENOBUFS:
				/* budget spent, or the driver is busy */
				break;
			case ENETDOWN:
			case ENXIO:
			case ENODEV:
				return -errno;
			default:
				return 0;
			}
		}
		if (x->zc || atomic_load_explicit(x->q.cons, memory_order_acquire) == before)
			return 0;	/* no progress: the next sync retries */
	}
	return 0;
}

static int xdp_txsync_x(struct unm_ring *r, struct xdp_ring *x, struct unm_kring *kr,
			uint32_t head)
{
	struct netmap_ring *ring = r->ring;
	struct xdp_desc *desc = x->q.desc;
	uint32_t n = r->n, hwcur = kr->hwcur, hwtail = kr->hwtail, k, prod, prod0;
	uint32_t in_chain = kr->kx[0] != 0;
	int err = unm_nic_state_err(r), kerr;

	hwtail = tx_reap(r, x, hwcur, hwtail);
	prod = prod0 = atomic_load_explicit(x->q.prod, memory_order_relaxed);
	for (k = hwcur; k != head; k = slot_next(k, n)) {
		struct netmap_slot *s = &ring->slot[k];
		uint32_t idx = s->buf_idx, len = s->len;
		uint16_t fl = s->flags;
		struct xdp_desc *d;

		/* netmap refuses such slots (ring reinit); we stop at the
		 * first and report it, the slots before it go */
		if (__builtin_expect(idx < 2 || idx >= r->buf_total || len == 0 ||
				     (!in_chain && len < ETH_MIN_HDR) ||
				     ((fl & NS_MOREFRAG) && !x->sg), 0)) {
			err = (fl & NS_MOREFRAG) && !x->sg ? -EOPNOTSUPP : -EINVAL;
			break;
		}
		if (len > x->bs)
			len = x->bs;
		d = &desc[prod & x->q.mask];
		d->addr = (uint64_t)idx * x->bs;
		d->len = len;
		d->options = (fl & NS_MOREFRAG) ? XDP_PKT_CONTD : 0;
		in_chain = (fl & NS_MOREFRAG) != 0;
		s->flags = fl & (uint16_t)~(NS_BUF_CHANGED | NS_REPORT);
		prod++;
	}
	if (k != hwcur) {
		kr->kx[0] = in_chain;
		hwcur = k;
		kr->hwcur = hwcur;
		/* R: publishes the descriptors to the kernel */
		atomic_store_explicit(x->q.prod, prod, memory_order_release);
	}
	/*
	 * Kick while the TX ring holds descriptors the kernel has not taken,
	 * new or not: in copy mode a sendto() stops early when the socket's
	 * send buffer is full of skbs not yet freed, and nothing else would
	 * send the rest (their completions are what we would wait for).
	 * A: the consumer index pairs with the kernel's release of it.
	 */
	if (prod != prod0 ||
	    (hwtail != unm_idx_prev(hwcur, n) &&
	     atomic_load_explicit(x->q.cons, memory_order_acquire) != prod)) {
		if (!x->wakeup ||
		    (atomic_load_explicit(x->q.flags, memory_order_relaxed) & XDP_RING_NEED_WAKEUP)) {
			kerr = tx_kick(x, prod);
			if (kerr)
				err = kerr;
		}
		hwtail = tx_reap(r, x, hwcur, hwtail);
	}
	kr->hwtail = hwtail;
	return err;
}

/* Post the buffers of slots [from, to) to the fill ring. */
static void rx_post(struct unm_ring *r, struct xdp_ring *x, uint32_t from, uint32_t to)
{
	uint64_t *addr = x->uq.desc;
	uint32_t n = r->n, prod, k;

	prod = atomic_load_explicit(x->uq.prod, memory_order_relaxed);
	for (k = from; k != to; k = slot_next(k, n)) {
		uint32_t idx = r->ring->slot[k].buf_idx;

		/* a slot the application left without a buffer just stays
		 * out of the kernel's reach */
		if (__builtin_expect(idx < 2 || idx >= r->buf_total, 0))
			continue;
		addr[prod & x->uq.mask] = (uint64_t)idx * x->bs - x->back;
		prod++;
	}
	/* R: publishes the addresses to the kernel */
	atomic_store_explicit(x->uq.prod, prod, memory_order_release);
	if (x->wakeup && (atomic_load_explicit(x->uq.flags, memory_order_relaxed) &
			  XDP_RING_NEED_WAKEUP))
		recvfrom(x->sock.fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

/*
 * Slot t (the first of [t, end), the slots the kernel owns) receives a
 * frame in buffer b: make t own b, exchanging buffers with the owner of
 * b, a spare entry or a slot in (t, end).  *sp is the oldest spare's
 * position.  Values in the spare array and the slots are shared memory:
 * each is read once, and a b nobody owns (the application wrote into
 * slots it did not own) is simply taken by t, as unm_nic_claim() does.
 */
static void rx_claim(struct netmap_ring *ring, struct xdp_ring *x, uint32_t n, uint32_t t,
		     uint32_t end, uint32_t b, uint32_t *sp)
{
	struct netmap_slot *st = &ring->slot[t];
	uint32_t own = st->buf_idx, j, k;

	if (own == b)
		return;
	if (__builtin_expect(x->nspare != 0 && x->spare[*sp] == b, 1)) {
		x->spare[*sp] = own;
		st->buf_idx = b;
		*sp = *sp + 1 == x->nspare ? 0 : *sp + 1;
		return;
	}
	/* out of order: the kernel's slots first (without spares, in copy
	 * mode, the search ends at once), then the spares from the cursor
	 * on; a spare found further on takes the cursor along, so that
	 * one buffer that never came back (the application left a slot
	 * without a buffer) costs one search, not one per frame */
	for (k = slot_next(t, n); k != end; k = slot_next(k, n)) {
		if (ring->slot[k].buf_idx == b) {
			ring->slot[k].buf_idx = own;
			st->buf_idx = b;
			return;
		}
	}
	for (j = 0, k = *sp; j < x->nspare; j++, k = k + 1 == x->nspare ? 0 : k + 1) {
		if (x->spare[k] == b) {
			x->spare[k] = own;
			st->buf_idx = b;
			*sp = k + 1 == x->nspare ? 0 : k + 1;
			return;
		}
	}
	st->buf_idx = b;
}

static int xdp_rxsync_x(struct unm_ring *r, struct xdp_ring *x, struct unm_kring *kr,
			uint32_t head)
{
	struct netmap_ring *ring = r->ring;
	const struct xdp_desc *desc = x->q.desc;
	uint32_t n = r->n, hwcur = kr->hwcur, hwtail = kr->hwtail, end;
	uint32_t cons, prod, avail, i, t, sp = kr->kx[1];
	int err = unm_nic_state_err(r);

	if (head != hwcur) {
		/* the slots that became the kernel's */
		rx_post(r, x, unm_idx_prev(hwcur, n), unm_idx_prev(head, n));
		hwcur = head;
		kr->hwcur = hwcur;
	}
	cons = atomic_load_explicit(x->q.cons, memory_order_relaxed);
	/* A: pairs with the kernel's release of the RX descriptors */
	prod = atomic_load_explicit(x->q.prod, memory_order_acquire);
	avail = prod - cons;
	if (avail == 0)
		return err;
	end = unm_idx_prev(hwcur, n);	/* the slots the kernel may fill: [hwtail, end) */
	if (__builtin_expect(avail > unm_idx_dist(hwtail, end, n), 0))
		avail = unm_idx_dist(hwtail, end, n);
	if (__builtin_expect(sp >= x->nspare, 0))
		sp = 0;		/* kx[] is shared memory */
	t = hwtail;
	for (i = 0; i < avail; i++) {
		const struct xdp_desc *d = &desc[(cons + i) & x->q.mask];
		uint64_t a = d->addr;
		uint32_t len = d->len, b, off;
		struct netmap_slot *s;

		/* unaligned chunks: base in the low 48 bits, offset above */
		a = (a & XSK_ADDR_MASK) + (a >> XSK_OFF_SHIFT);
		b = (uint32_t)(a / x->bs);
		off = (uint32_t)(a % x->bs);
		if (__builtin_expect(b < 2 || b >= r->buf_total || off + len > x->bs, 0))
			continue;	/* not a buffer of ours: drop it */
		rx_claim(ring, x, n, t, end, b, &sp);
		s = &ring->slot[t];
		if (__builtin_expect(off != 0, 0)) {
			/* aligned chunks (zero copy): the frame sits after the
			 * kernel's headroom; netmap wants it at the start */
			char *buf = x->bufs + (uint64_t)b * x->bs;

			memmove(buf, buf + off, len);
		}
		s->len = (uint16_t)len;
		s->flags = (d->options & XDP_PKT_CONTD) ? NS_MOREFRAG : 0;
		t = slot_next(t, n);
	}
	/* R: hands the descriptors back to the kernel */
	atomic_store_explicit(x->q.cons, cons + avail, memory_order_release);
	kr->hwtail = t;
	kr->kx[1] = sp;
	return err;
}

/* ---- bind / unbind ---- */

static void xq_unmap(struct xq *q)
{
	if (q->map && q->map != MAP_FAILED)
		munmap(q->map, q->maplen);
	q->map = NULL;
}

static int xq_map(struct xq *q, int fd, const struct xdp_ring_offset *o, uint64_t pgoff,
		  uint32_t entries, size_t esz)
{
	char *m;

	q->maplen = o->desc + (size_t)entries * esz;
	m = unm_libc.mmap(NULL, q->maplen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			  fd, (off_t)pgoff);
	if (m == MAP_FAILED) {
		q->map = NULL;
		return -errno;
	}
	q->map = m;
	q->prod = (_Atomic uint32_t *)(void *)(m + o->producer);
	q->cons = (_Atomic uint32_t *)(void *)(m + o->consumer);
	q->flags = (_Atomic uint32_t *)(void *)(m + o->flags);
	q->desc = m + o->desc;
	q->mask = entries - 1;
	return 0;
}

static void ring_close(struct xdp_ring *x)
{
	xq_unmap(&x->q);
	xq_unmap(&x->uq);
	free(x);
}

static void xdp_unbind(struct unm_port *p)
{
	uint32_t i;
	int d;

	unm_nic_arm(p, false);
	for (d = 0; d < 2; d++) {
		for (i = 0; i < p->nrings[d]; i++) {
			struct xdp_ring *x = p->ring[d][i].priv;

			if (!x)
				continue;
			ring_close(x);
			p->ring[d][i].priv = NULL;
		}
	}
}

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* Map ring r's half of its socket (entry i of the reply).  0 or -errno. */
static int ring_open(struct unm_ring *r, char *base, const struct unm_bind_info *bi,
		     const struct unm_bind_nic *nic, uint32_t i, const int *fds, unsigned nfds,
		     struct xdp_ring **out)
{
	const struct unm_nic_ring *nr = &nic->ring[i];
	struct xdp_mmap_offsets off;
	socklen_t ol = sizeof(off);
	struct xdp_ring *x;
	bool tx = bi->ring[i].dir == UNM_DIR_TX;
	int err;

	/* the rings must hold every slot's buffer at once */
	if (nr->sock_fd < 3 || (unsigned)nr->sock_fd >= nfds ||
	    !pow2(nr->ring_entries) || !pow2(nr->umem_entries) ||
	    nr->ring_entries < r->n || nr->umem_entries < r->n ||
	    nr->ring_entries > (1u << 20) || nr->umem_entries > (1u << 20))
		return -EPROTO;
	/* RX spares: an array below the buffer pool, and a fill ring
	 * that holds them with the kernel's slots' buffers */
	if (!tx && nr->spare_n &&
	    (nr->spare_n > (1u << 20) || nr->umem_entries - (r->n - 1) < nr->spare_n ||
	     nr->spare_ofs % sizeof(uint32_t) || nr->spare_ofs > bi->buf_pool_ofs ||
	     (uint64_t)nr->spare_n * sizeof(uint32_t) > bi->buf_pool_ofs - nr->spare_ofs))
		return -EPROTO;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->sock.fd = fds[nr->sock_fd];
	x->bufs = base + bi->buf_pool_ofs;
	x->bs = bi->buf_size;
	x->back = nic->rx_back;
	x->room = nic->rx_room;
	x->wakeup = (nic->flags & UNM_NIC_F_NEED_WAKEUP) != 0;
	x->sg = (nic->flags & UNM_NIC_F_SG) != 0;
	x->zc = (nic->mode & NR_UNM_NIC_ZEROCOPY) != 0;
	if (!tx && nr->spare_n) {
		x->spare = (uint32_t *)(void *)(base + nr->spare_ofs);
		x->nspare = nr->spare_n;
	}
	if (getsockopt(x->sock.fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &ol) < 0) {
		err = -errno;
		goto fail;
	}
	if (tx)
		err = xq_map(&x->q, x->sock.fd, &off.tx, XDP_PGOFF_TX_RING, nr->ring_entries,
			     sizeof(struct xdp_desc)) ?:
		      xq_map(&x->uq, x->sock.fd, &off.cr, XDP_UMEM_PGOFF_COMPLETION_RING,
			     nr->umem_entries, sizeof(uint64_t));
	else
		err = xq_map(&x->q, x->sock.fd, &off.rx, XDP_PGOFF_RX_RING, nr->ring_entries,
			     sizeof(struct xdp_desc)) ?:
		      xq_map(&x->uq, x->sock.fd, &off.fr, XDP_UMEM_PGOFF_FILL_RING,
			     nr->umem_entries, sizeof(uint64_t));
	if (err)
		goto fail;
	*out = x;
	return 0;
fail:
	ring_close(x);
	return err;
}

static int xdp_bind(struct unm_port *p, char *base, const struct unm_bind_info *bi, size_t len,
		    const int *fds, unsigned nfds)
{
	const struct unm_bind_nic *nic = unm_nic_info(bi, len);
	uint32_t i;
	int err;

	if (!nic || nic->rx_back >= bi->buf_size || nic->rx_room > bi->buf_size)
		return -EPROTO;
	for (i = 0; i < bi->nrings; i++) {
		struct unm_ring *r = unm_nic_ring_of(p, bi, i);
		struct xdp_ring *x;

		err = ring_open(r, base, bi, nic, i, fds, nfds, &x);
		if (err) {
			xdp_unbind(p);
			return err;
		}
		r->priv = x;
	}
	return 0;
}

static int xdp_txsync(struct unm_ring *r, struct unm_kring *kr, uint32_t head)
{
	return xdp_txsync_x(r, r->priv, kr, head);
}

static int xdp_rxsync(struct unm_ring *r, struct unm_kring *kr, uint32_t head)
{
	return xdp_rxsync_x(r, r->priv, kr, head);
}

/* ---- one ring at a time, for kinds that are AF_XDP only at times (the
 * veth fast path, sync_veth.c; declared in nic_ring.h) ---- */

void *unm_xdp_ring_open(struct unm_ring *r, char *base, const struct unm_bind_info *bi,
			size_t len, uint32_t i, const int *fds, unsigned nfds, int *err)
{
	const struct unm_bind_nic *nic = unm_nic_info(bi, len);
	struct xdp_ring *x = NULL;

	*err = -EPROTO;
	if (!nic || i >= bi->nrings || nic->rx_back >= bi->buf_size ||
	    nic->rx_room > bi->buf_size)
		return NULL;
	*err = ring_open(r, base, bi, nic, i, fds, nfds, &x);
	return *err ? NULL : x;
}

void unm_xdp_ring_close(void *x)
{
	ring_close(x);
}

int unm_xdp_ring_txsync(struct unm_ring *r, void *x, struct unm_kring *k, uint32_t head)
{
	return xdp_txsync_x(r, x, k, head);
}

int unm_xdp_ring_rxsync(struct unm_ring *r, void *x, struct unm_kring *k, uint32_t head)
{
	return xdp_rxsync_x(r, x, k, head);
}

uint32_t unm_xdp_ring_rx_pending(void *xv)
{
	struct xdp_ring *x = xv;

	/* A: pairs with the kernel's release of the RX descriptors */
	return atomic_load_explicit(x->q.prod, memory_order_acquire) -
	       atomic_load_explicit(x->q.cons, memory_order_relaxed);
}

/*
 * A new socket's fill ring gets the RX ring's buffers as netmapd posts
 * them at open (nic_xdp.c): every spare first, in array order, then the
 * slots [from, to); the spare cursor (kx[1]) starts at 0 again.
 */
void unm_xdp_ring_prefill(struct unm_ring *r, void *xv, struct unm_kring *k, uint32_t from,
			  uint32_t to)
{
	struct xdp_ring *x = xv;
	uint64_t *addr = x->uq.desc;
	uint32_t prod, j;

	prod = atomic_load_explicit(x->uq.prod, memory_order_relaxed);
	for (j = 0; j < x->nspare; j++) {
		uint32_t idx = __atomic_load_n(&x->spare[j], __ATOMIC_RELAXED);

		/* the array is shared memory: a bad entry is left out */
		if (idx < 2 || idx >= r->buf_total)
			continue;
		addr[prod & x->uq.mask] = (uint64_t)idx * x->bs - x->back;
		prod++;
	}
	/* R: publishes the spares before rx_post() publishes the slots */
	atomic_store_explicit(x->uq.prod, prod, memory_order_release);
	rx_post(r, x, from, to);
	k->kx[1] = 0;
}

const struct unm_port_ops unm_xdp_ops = {
	.name = "af_xdp",
	.txsync = xdp_txsync,
	.rxsync = xdp_rxsync,
	.bind = xdp_bind,
	.unbind = xdp_unbind,
	.arm = unm_nic_arm,
};

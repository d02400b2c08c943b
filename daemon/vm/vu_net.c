/*
 * vu_net.c - the virtio-net data path of a vhost-user device: frames out
 * of the guest's transmit queue, frames into its receive queue, kicks and
 * interrupts.  Runs on forwarding threads under the rules of
 * vhost_user.h; nothing here allocates, blocks or makes a system call
 * except the eventfd writes the guest asked for and kick draining.
 *
 * The virtio-net header (virtio 1.1, 5.1.6) is 12 bytes with VERSION_1 or
 * MRG_RXBUF, 10 bytes otherwise.  We negotiate no offload, so the header
 * of a transmitted frame carries nothing we need: it is skipped unread.
 * Received frames get a zeroed header with num_buffers set.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "vu_dev.h"

/* counters have one writer (the thread serving the queue) */
static inline void ctr_add(_Atomic uint64_t *c, uint64_t v)
{
	if (v)
		atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
				      memory_order_relaxed);
}

static void vu_signal(int fd)
{
	uint64_t one = 1;
	ssize_t r;

	/* non-blocking (vhost_user.c): a counter at its maximum only means
	 * the other side has a signal pending already */
	if (fd >= 0) {
		r = write(fd, &one, sizeof(one));
		(void)r;
	}
}

static void vu_break(struct nmd_vu_dev *d, struct nmd_vu_queue *q, const char *why)
{
	atomic_store_explicit(&d->broken_why, why, memory_order_relaxed);
	/* release: broken_why before broken, for nmd_vu_info() */
	if (!atomic_exchange_explicit(&d->broken, true, memory_order_acq_rel)) {
		atomic_fetch_add_explicit(&d->breaks, 1, memory_order_relaxed);
		vu_signal(q->err);
	}
	nmd_vu_log(d, &q->rl, NMD_VU_LOG_WARN,
		   "%s: the guest broke its %s queue (%s): device stopped until it resets it",
		   d->name, q == &d->q[NMD_VU_TXQ] ? "transmit" : "receive", why);
}

/* The queue's published state, 0 if broken.  Acquire: pairs with the
 * release store of q->dp in vu_publish() (protocol thread), after which
 * the ring geometry, the memory table and hdr_len are those it wrote. */
static inline uint32_t vu_dp(struct nmd_vu_dev *d, struct nmd_vu_queue *q)
{
	uint32_t dp = atomic_load_explicit(&q->dp, memory_order_acquire);

	if (atomic_load_explicit(&d->broken, memory_order_relaxed))
		return 0;
	return dp;
}

unsigned nmd_vu_tx_peek(struct nmd_vu_dev *d, struct nmd_vu_frame *f, unsigned max)
{
	struct nmd_vu_queue *q = &d->q[NMD_VU_TXQ];
	uint32_t dp = vu_dp(d, q), hdr;
	uint64_t bytes = 0, drops = 0, errors = 0;
	unsigned n = 0;

	if (!(dp & UNM_VU_DP_RUN))
		return 0;
	hdr = q->hdr_len;	/* published with dp */
	if (max > NMD_VU_BURST)
		max = NMD_VU_BURST;
	while (n < max && q->npeek < NMD_VU_BURST &&
	       UNM_VU_TX_SEGS - q->segs_used >= UNM_VQ_MAX_SEGS) {
		struct nmd_vu_seg *s = q->seg + q->segs_used;
		struct nmd_vq_chain c;
		uint32_t skip = hdr;
		unsigned k = 0;
		int r = nmd_vq_pop(&q->vq, false, s, UNM_VQ_MAX_SEGS, &c);

		if (r <= 0) {
			if (r < 0)
				vu_break(d, q, q->vq.err);
			break;
		}
		q->chain[q->npeek++] = c;
		q->segs_used += c.nseg;
		if (!(dp & UNM_VU_DP_ON)) {
			/* started but disabled: consume, no side effect */
			drops++;
			continue;
		}
		if (c.len <= hdr || c.len - hdr > NMD_VU_MAX_FRAME) {
			errors++;
			continue;
		}
		/* skip the header; c.len > hdr, so a segment remains */
		while (skip) {
			if (s[k].len <= skip) {
				skip -= s[k].len;
				k++;
			} else {
				s[k].p += skip;
				s[k].len -= skip;
				skip = 0;
			}
		}
		f[n].len = c.len - hdr;
		f[n].seg = s + k;
		f[n].nseg = (uint16_t)(c.nseg - k);
		bytes += f[n].len;
		n++;
	}
	ctr_add(&q->pkts, n);
	ctr_add(&q->bytes, bytes);
	ctr_add(&q->drops, drops);
	ctr_add(&q->errors, errors);
	return n;
}

void nmd_vu_tx_done(struct nmd_vu_dev *d)
{
	struct nmd_vu_queue *q = &d->q[NMD_VU_TXQ];
	unsigned i;

	if (!q->npeek)
		return;
	for (i = 0; i < q->npeek; i++)
		nmd_vq_push(&q->vq, q->chain[i].head, 0);
	q->npeek = 0;
	q->segs_used = 0;
	if (nmd_vq_flush(&q->vq))
		vu_signal(q->call);
}

unsigned nmd_vu_tx_burst(struct nmd_vu_dev *d, nmd_vu_tx_fn fn, void *arg, unsigned max)
{
	struct nmd_vu_frame f[NMD_VU_BURST];
	unsigned i, n = nmd_vu_tx_peek(d, f, max);

	for (i = 0; i < n; i++)
		fn(arg, &f[i]);
	nmd_vu_tx_done(d);
	return n;
}

void nmd_vu_frame_copy(const struct nmd_vu_frame *f, uint32_t off, void *dst, uint32_t len)
{
	char *o = dst;
	unsigned i = 0;

	while (i < f->nseg && off >= f->seg[i].len)
		off -= f->seg[i++].len;
	for (; len && i < f->nseg; i++) {
		uint32_t take = f->seg[i].len - off;

		if (take > len)
			take = len;
		memcpy(o, f->seg[i].p + off, take);
		o += take;
		len -= take;
		off = 0;
	}
}

/* A write cursor over segments whose total room is known to suffice. */
struct wcur {
	struct nmd_vu_seg *s;
	unsigned i;
	uint32_t off;
};

static inline void wcur_put(struct wcur *w, const char *src, size_t len)
{
	while (len) {
		struct nmd_vu_seg *s = &w->s[w->i];
		size_t take = s->len - w->off;

		if (take > len)
			take = len;
		memcpy(s->p + w->off, src, take);
		src += take;
		len -= take;
		w->off += (uint32_t)take;
		if (w->off == s->len) {
			w->i++;
			w->off = 0;
		}
	}
}

int nmd_vu_rx_deliver_v(struct nmd_vu_dev *d, const struct iovec *iov, unsigned niov)
{
	struct nmd_vu_queue *q = &d->q[NMD_VU_RXQ];
	uint32_t dp = vu_dp(d, q), hdr;
	uint64_t total = 0, room = 0, need, left;
	unsigned i, nch = 0, nseg = 0;
	uint8_t h[12] = { 0 };
	struct wcur w;
	int err;

	if ((dp & (UNM_VU_DP_RUN | UNM_VU_DP_ON)) != (UNM_VU_DP_RUN | UNM_VU_DP_ON)) {
		err = -ENETDOWN;
		goto drop;
	}
	hdr = q->hdr_len;	/* published with dp */
	for (i = 0; i < niov; i++)
		total += iov[i].iov_len;
	if (total == 0 || total > NMD_VU_MAX_FRAME) {
		err = -EMSGSIZE;
		goto drop;
	}
	need = hdr + total;
	/* Take buffers until the frame fits; give them all back if it
	 * cannot.  Nothing is visible to the guest before the flush. */
	while (room < need) {
		struct nmd_vq_chain *c = &q->chain[nch];
		int r;

		if (nch == UNM_VU_RX_CHAINS) {
			err = -EMSGSIZE;
			goto undo;
		}
		r = nmd_vq_pop(&q->vq, true, q->seg + nseg, UNM_VU_RX_SEGS - nseg, c);
		if (r == 0 || r == -E2BIG) {
			err = -ENOBUFS;
			goto undo;
		}
		if (r < 0) {
			vu_break(d, q, q->vq.err);
			nmd_vq_unpop(&q->vq, (uint16_t)nch);
			ctr_add(&q->drops, 1);
			return -EIO;
		}
		nch++;
		nseg += c->nseg;
		room += c->len;
		if (!q->mrg)
			break;
	}
	if (room < need) {
		err = -EMSGSIZE;	/* one buffer, too small */
		goto undo;
	}
	if (hdr == 12) {		/* num_buffers, little-endian */
		h[10] = (uint8_t)nch;
		h[11] = (uint8_t)(nch >> 8);
	}
	w.s = q->seg;
	w.i = 0;
	w.off = 0;
	wcur_put(&w, (const char *)h, hdr);
	for (i = 0; i < niov; i++)
		wcur_put(&w, iov[i].iov_base, iov[i].iov_len);
	left = need;
	for (i = 0; i < nch; i++) {
		uint32_t put = left < q->chain[i].len ? (uint32_t)left : q->chain[i].len;

		nmd_vq_push(&q->vq, q->chain[i].head, put);
		left -= put;
	}
	ctr_add(&q->pkts, 1);
	ctr_add(&q->bytes, total);
	return 0;
undo:
	nmd_vq_unpop(&q->vq, (uint16_t)nch);
drop:
	ctr_add(&q->drops, 1);
	return err;
}

int nmd_vu_rx_deliver(struct nmd_vu_dev *d, const void *frame, uint32_t len)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)frame, .iov_len = len };

	return nmd_vu_rx_deliver_v(d, &iov, 1);
}

void nmd_vu_rx_flush(struct nmd_vu_dev *d)
{
	struct nmd_vu_queue *q = &d->q[NMD_VU_RXQ];

	if (!(atomic_load_explicit(&q->dp, memory_order_acquire) & UNM_VU_DP_RUN))
		return;
	if (nmd_vq_flush(&q->vq))
		vu_signal(q->call);
}

int nmd_vu_wait_fd(const struct nmd_vu_dev *d)
{
	return d->wfd;
}

bool nmd_vu_kick_enable(struct nmd_vu_dev *d, unsigned qi)
{
	struct nmd_vu_queue *q;

	if (qi >= NMD_VU_NQUEUES)
		return false;
	q = &d->q[qi];
	if (!(vu_dp(d, q) & UNM_VU_DP_RUN))
		return false;
	if (q->kick < 0)
		return true;	/* no kick will come: keep polling */
	return nmd_vq_kick_enable(&q->vq);
}

void nmd_vu_kick_disable(struct nmd_vu_dev *d, unsigned qi)
{
	struct nmd_vu_queue *q;

	if (qi >= NMD_VU_NQUEUES)
		return;
	q = &d->q[qi];
	if (vu_dp(d, q) & UNM_VU_DP_RUN)
		nmd_vq_kick_disable(&q->vq);
}

void nmd_vu_kick_drain(struct nmd_vu_dev *d)
{
	struct epoll_event ev[NMD_VU_NQUEUES];
	int i, n = epoll_wait(d->wfd, ev, NMD_VU_NQUEUES, 0);
	uint64_t v;
	ssize_t r;

	/* the kick fds are non-blocking (vhost_user.c) and change only
	 * while the data path is paused */
	for (i = 0; i < n; i++) {
		r = read(ev[i].data.fd, &v, sizeof(v));
		(void)r;
	}
}

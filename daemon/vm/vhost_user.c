/*
 * vhost_user.c - the vhost-user protocol side of a virtio-net backend
 * device: the socket (server or client), message parsing and validation,
 * guest memory, ring set-up and tear-down.  The data path is vu_net.c; the
 * thread model and the pause/resume handshake are in vhost_user.h.
 *
 * Messages arrive on a non-blocking stream socket and are assembled from
 * as many reads as the peer makes us do (a peer that sends half a message
 * and stops cannot block netmapd's main loop); each read asks for the rest
 * of the current message only, so descriptors passed with SCM_RIGHTS
 * always belong to the message being read.  Replies are sent without
 * blocking: a peer that does not read them loses its connection.
 *
 * Errors fall in three kinds:
 *   - malformed or impossible (bad size, version, index, fd count,
 *     address): the connection is closed, logged, counted;
 *   - refused (features we did not offer, an invalid MTU): a failure
 *     reply when REPLY_ACK was negotiated and asked for; features we
 *     cannot refuse otherwise close the connection;
 *   - unknown or unsupported requests: a failure reply when asked for,
 *     otherwise ignored, unless the front-end would wait for an answer we
 *     cannot give: then the connection is closed rather than left hanging.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "vu_dev.h"

enum { EV_LISTEN = 1, EV_CONN, EV_TIMER };

/* handler results: >= 0 go back in a REPLY_ACK (0 success) */
#define VU_OK		0
#define VU_FAIL		1	/* refused; the connection stays */
#define VU_REFUSE	2	/* refused; without REPLY_ACK, close */
#define VU_REPLIED	3	/* the handler sent its own reply */

#define MSGS_PER_DISPATCH 64	/* then let the main loop serve others */

/* protocol features we offer */
#define VU_PF_OFFER (UNM_BIT(UNM_VU_PF_MQ) | UNM_BIT(UNM_VU_PF_REPLY_ACK) |	\
		     UNM_BIT(UNM_VU_PF_MTU) | UNM_BIT(UNM_VU_PF_RESET_DEVICE) |	\
		     UNM_BIT(UNM_VU_PF_STATUS))

static const char *const req_names[UNM_VU_REQ_MAX] = {
	[UNM_VU_GET_FEATURES] = "GET_FEATURES",
	[UNM_VU_SET_FEATURES] = "SET_FEATURES",
	[UNM_VU_SET_OWNER] = "SET_OWNER",
	[UNM_VU_RESET_OWNER] = "RESET_OWNER",
	[UNM_VU_SET_MEM_TABLE] = "SET_MEM_TABLE",
	[UNM_VU_SET_LOG_BASE] = "SET_LOG_BASE",
	[UNM_VU_SET_LOG_FD] = "SET_LOG_FD",
	[UNM_VU_SET_VRING_NUM] = "SET_VRING_NUM",
	[UNM_VU_SET_VRING_ADDR] = "SET_VRING_ADDR",
	[UNM_VU_SET_VRING_BASE] = "SET_VRING_BASE",
	[UNM_VU_GET_VRING_BASE] = "GET_VRING_BASE",
	[UNM_VU_SET_VRING_KICK] = "SET_VRING_KICK",
	[UNM_VU_SET_VRING_CALL] = "SET_VRING_CALL",
	[UNM_VU_SET_VRING_ERR] = "SET_VRING_ERR",
	[UNM_VU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	[UNM_VU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
	[UNM_VU_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
	[UNM_VU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	[UNM_VU_SEND_RARP] = "SEND_RARP",
	[UNM_VU_NET_SET_MTU] = "NET_SET_MTU",
	[UNM_VU_SET_SLAVE_REQ_FD] = "SET_SLAVE_REQ_FD",
	[UNM_VU_IOTLB_MSG] = "IOTLB_MSG",
	[UNM_VU_SET_VRING_ENDIAN] = "SET_VRING_ENDIAN",
	[UNM_VU_GET_CONFIG] = "GET_CONFIG",
	[UNM_VU_SET_CONFIG] = "SET_CONFIG",
	[UNM_VU_POSTCOPY_ADVISE] = "POSTCOPY_ADVISE",
	[UNM_VU_POSTCOPY_END] = "POSTCOPY_END",
	[UNM_VU_GET_INFLIGHT_FD] = "GET_INFLIGHT_FD",
	[UNM_VU_SET_INFLIGHT_FD] = "SET_INFLIGHT_FD",
	[UNM_VU_RESET_DEVICE] = "RESET_DEVICE",
	[UNM_VU_VRING_KICK] = "VRING_KICK",
	[UNM_VU_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
	[UNM_VU_ADD_MEM_REG] = "ADD_MEM_REG",
	[UNM_VU_REM_MEM_REG] = "REM_MEM_REG",
	[UNM_VU_SET_STATUS] = "SET_STATUS",
	[UNM_VU_GET_STATUS] = "GET_STATUS",
};

static const char *req_name(uint32_t r)
{
	return r < UNM_VU_REQ_MAX && req_names[r] ? req_names[r] : "unknown request";
}

/* ---- logging ---- */

void nmd_vu_log(struct nmd_vu_dev *d, struct nmd_vu_rl *rl, int level, const char *fmt, ...)
{
	char buf[320];
	va_list ap;
	int n;

	if (!d->ops.log || level > (d->log_level ? *d->log_level : NMD_VU_LOG_INFO))
		return;
	/* debug lines were asked for: all of them */
	if (level == NMD_VU_LOG_DEBUG)
		rl = NULL;
	if (rl) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
		if (now.tv_sec != rl->start.tv_sec) {
			rl->start = now;
			rl->lines = 0;
		}
		if (rl->lines >= UNM_VU_RL_BURST) {
			rl->suppressed++;
			return;
		}
		rl->lines++;
	}
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (rl && rl->suppressed && n >= 0 && (size_t)n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - (size_t)n, " (%u similar lines suppressed)",
			 rl->suppressed);
	if (rl)
		rl->suppressed = 0;
	d->ops.log(d->arg, level, buf);
}

#define vu_warn(d, ...)  nmd_vu_log((d), &(d)->rl, NMD_VU_LOG_WARN, __VA_ARGS__)
#define vu_info(d, ...)  nmd_vu_log((d), &(d)->rl, NMD_VU_LOG_INFO, __VA_ARGS__)
#define vu_debug(d, ...) nmd_vu_log((d), &(d)->rl, NMD_VU_LOG_DEBUG, __VA_ARGS__)

/* A malformed message: log it; the caller closes the connection. */
static int __attribute__((format(printf, 2, 3))) vu_bad(struct nmd_vu_dev *d, const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	vu_warn(d, "%s: bad %s from QEMU: %s; closing the connection", d->name,
		req_name(d->in.hdr.request), buf);
	return -EPROTO;
}

/* ---- the data-path handshake ---- */

static bool vu_dp_active(const struct nmd_vu_dev *d)
{
	unsigned i;

	for (i = 0; i < NMD_VU_NQUEUES; i++)
		if (atomic_load_explicit(&d->q[i].dp, memory_order_relaxed) || d->q[i].kick >= 0)
			return true;
	return false;
}

/* Before changing anything the data path may use: stop it, if it may be
 * inside the device.  Undone by vu_resume() once the message is handled. */
static void vu_pause(struct nmd_vu_dev *d)
{
	if (d->paused || !vu_dp_active(d))
		return;
	if (d->ops.pause)
		d->ops.pause(d->arg);
	d->paused = true;
}

static void vu_resume(struct nmd_vu_dev *d)
{
	if (d->paused) {
		d->paused = false;
		if (d->ops.resume)
			d->ops.resume(d->arg);
	}
	if (d->changed) {
		d->changed = false;
		if (d->ops.changed)
			d->ops.changed(d->arg);
	}
}

/* ---- queues ---- */

static uint32_t vu_hdr_len(uint64_t features)
{
	return features & (UNM_BIT(UNM_VIRTIO_F_VERSION_1) | UNM_BIT(UNM_VIRTIO_NET_F_MRG_RXBUF)) ?
	       12 : 10;
}

/* Tell the data path what the queue is now.  A queue stops being RUN only
 * while paused; it may become RUN at any time. */
static void vu_publish(struct nmd_vu_dev *d, struct nmd_vu_queue *q)
{
	uint32_t v = 0, old = atomic_load_explicit(&q->dp, memory_order_relaxed);

	if (q->started)
		v |= UNM_VU_DP_RUN;
	if (q->enabled)
		v |= UNM_VU_DP_ON;
	q->hdr_len = vu_hdr_len(d->features);
	q->mrg = !!(d->features & UNM_BIT(UNM_VIRTIO_NET_F_MRG_RXBUF));
	/* release: the ring geometry, memory table and the values above
	 * before the state; partner: vu_dp() in vu_net.c */
	atomic_store_explicit(&q->dp, v, memory_order_release);
	if (v != old)
		d->changed = true;
}

/* Stop a started queue (paused): everything taken is returned to the
 * guest, and it restarts where it stopped. */
static void vu_queue_stop(struct nmd_vu_dev *d, struct nmd_vu_queue *q)
{
	if (!q->started)
		return;
	q->npeek = 0;
	q->segs_used = 0;
	nmd_vq_flush(&q->vq);
	q->base = q->vq.last_avail;
	q->started = false;
	vu_publish(d, q);
}

/* Start a queue once it has everything: size, addresses, memory, kick.
 * Returns 0 (started, or still waiting for a piece) or -EPROTO (the
 * addresses QEMU gave do not fit the memory it gave). */
static int vu_queue_try_start(struct nmd_vu_dev *d, struct nmd_vu_queue *q)
{
	struct nmd_vq *vq = &q->vq;
	void *desc, *avail, *used;

	if (q->started || !q->kick_set || !q->num || !q->addr_set || !d->mem.n)
		return 0;
	desc = nmd_vu_mem_uva(&d->mem, q->addr.desc, UNM_VRING_DESC_SIZE(q->num));
	avail = nmd_vu_mem_uva(&d->mem, q->addr.avail, UNM_VRING_AVAIL_SIZE(q->num));
	used = nmd_vu_mem_uva(&d->mem, q->addr.used, UNM_VRING_USED_SIZE(q->num));
	if (!desc || !avail || !used)
		return vu_bad(d, "ring %u lies outside guest memory", q->addr.index);
	if ((uintptr_t)desc % 16 || (uintptr_t)avail % 2 || (uintptr_t)used % 4)
		return vu_bad(d, "ring %u is misaligned", q->addr.index);
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->mem = &d->mem;
	vq->num = (uint16_t)q->num;
	vq->mask = (uint16_t)(q->num - 1);
	vq->event_idx = !!(d->features & UNM_BIT(UNM_VIRTIO_RING_F_EVENT_IDX));
	vq->indirect = !!(d->features & UNM_BIT(UNM_VIRTIO_RING_F_INDIRECT_DESC));
	/* tx: the forwarding thread wants kicks until it polls; rx: only
	 * when it waits for buffers */
	if (!nmd_vq_start(vq, q->base, q == &d->q[NMD_VU_TXQ])) {
		/* the guest wrote an impossible used index: its fault */
		atomic_store_explicit(&d->broken_why, vq->err, memory_order_relaxed);
		atomic_store_explicit(&d->broken, true, memory_order_release);
		atomic_fetch_add_explicit(&d->breaks, 1, memory_order_relaxed);
		vu_warn(d, "%s: queue %u: %s: device broken until the guest resets it",
			d->name, (unsigned)(q - d->q), vq->err);
	}
	if (!(d->features & UNM_BIT(UNM_VHOST_USER_F_PROTOCOL_FEATURES)))
		q->enabled = true;
	q->started = true;
	vu_publish(d, q);
	return 0;
}

static void vu_close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static void vu_drop_kick(struct nmd_vu_dev *d, struct nmd_vu_queue *q)
{
	if (q->kick >= 0) {
		/* before close: the eventfd stays open in QEMU, and an epoll
		 * set drops a file only when its last descriptor closes */
		epoll_ctl(d->wfd, EPOLL_CTL_DEL, q->kick, NULL);
		vu_close_fd(&q->kick);
	}
	q->kick_set = false;
}

/* Back to the state of a fresh connection (paused).  keep_session keeps
 * what RESET_OWNER/RESET_DEVICE leave alone: protocol features, owner. */
static void vu_reset(struct nmd_vu_dev *d, bool keep_session)
{
	unsigned i;

	for (i = 0; i < NMD_VU_NQUEUES; i++) {
		struct nmd_vu_queue *q = &d->q[i];

		vu_queue_stop(d, q);
		vu_drop_kick(d, q);
		vu_close_fd(&q->call);
		vu_close_fd(&q->err);
		q->num = 0;
		q->base = 0;
		q->addr_set = false;
		q->enabled = false;
		vu_publish(d, q);
	}
	nmd_vu_mem_unmap(&d->mem);
	d->features = 0;
	d->status = 0;
	atomic_store_explicit(&d->mtu, 0, memory_order_relaxed);
	atomic_store_explicit(&d->broken, false, memory_order_relaxed);
	atomic_store_explicit(&d->broken_why, NULL, memory_order_relaxed);
	if (!keep_session) {
		d->pfeatures = 0;
		d->owner = false;
	}
	d->changed = true;
}

/* ---- replies ---- */

static int vu_reply(struct nmd_vu_dev *d, const void *pl, uint32_t size)
{
	struct nmd_vu_hdr h = {
		.request = d->in.hdr.request,
		.flags = UNM_VU_VERSION | UNM_VU_FLAG_REPLY,
		.size = size,
	};
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)(uintptr_t)pl, .iov_len = size },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };
	ssize_t r;

	do
		r = sendmsg(d->cfd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r != (ssize_t)(sizeof(h) + size)) {
		vu_warn(d, "%s: cannot reply to %s: %s; closing the connection", d->name,
			req_name(h.request), r < 0 ? strerror(errno) : "short write");
		return -EIO;
	}
	return 0;
}

static int vu_reply_u64(struct nmd_vu_dev *d, uint64_t v)
{
	int r = vu_reply(d, &v, sizeof(v));

	return r < 0 ? r : VU_REPLIED;
}

/* ---- message handlers: 0..VU_REPLIED, or -EPROTO to close ---- */

/* A descriptor the message brought, now ours (-1 if none left). */
static int vu_take_fd(struct nmd_vu_dev *d, unsigned i)
{
	int fd;

	if (i >= d->in.nfds)
		return -1;
	fd = d->in.fds[i];
	d->in.fds[i] = -1;
	return fd;
}

static int vu_expect_size(struct nmd_vu_dev *d, uint32_t want)
{
	if (d->in.hdr.size != want)
		return vu_bad(d, "payload of %u bytes, expected %u", d->in.hdr.size, want);
	return 0;
}

/* The queue a message names; NULL (logged) if there is no such queue. */
static struct nmd_vu_queue *vu_ring(struct nmd_vu_dev *d, uint64_t idx)
{
	if (idx >= NMD_VU_NQUEUES) {
		vu_bad(d, "queue %llu: this device has one queue pair only",
		       (unsigned long long)idx);
		return NULL;
	}
	return &d->q[idx];
}

static int h_set_features(struct nmd_vu_dev *d)
{
	uint64_t f = d->in.pl.u64;
	unsigned i;

	if (f & ~d->offer) {
		vu_warn(d, "%s: QEMU wants features %#llx we did not offer (%#llx)", d->name,
			(unsigned long long)f, (unsigned long long)d->offer);
		return VU_REFUSE;
	}
	vu_pause(d);
	d->features = f;
	for (i = 0; i < NMD_VU_NQUEUES; i++) {
		struct nmd_vu_queue *q = &d->q[i];

		q->vq.event_idx = !!(f & UNM_BIT(UNM_VIRTIO_RING_F_EVENT_IDX));
		q->vq.indirect = !!(f & UNM_BIT(UNM_VIRTIO_RING_F_INDIRECT_DESC));
		vu_publish(d, q);
	}
	return VU_OK;
}

static int h_set_mem_table(struct nmd_vu_dev *d)
{
	const struct nmd_vu_memory *m = &d->in.pl.mem;
	uint32_t n = m->nregions, size = d->in.hdr.size;
	bool was[NMD_VU_NQUEUES];
	struct nmd_vu_mem nm;
	const char *why = "";
	unsigned i;
	int err;

	if (size < 8 || n == 0 || n > UNM_VU_MAX_REGIONS)
		return vu_bad(d, "%u regions", size < 8 ? 0 : n);
	if (size < 8 + n * sizeof(m->r[0]) || size > sizeof(*m))
		return vu_bad(d, "payload of %u bytes for %u regions", size, n);
	if (d->in.nfds != n)
		return vu_bad(d, "%u descriptors for %u regions", d->in.nfds, n);
	err = nmd_vu_mem_map(m->r, n, d->in.fds, &nm, &why);
	if (err)
		return vu_bad(d, "%s (%s)", why, strerror(-err));
	for (i = 0; i < n; i++) {
		int fd = vu_take_fd(d, i);

		close(fd);	/* the mappings keep the memory */
	}
	vu_pause(d);
	for (i = 0; i < NMD_VU_NQUEUES; i++) {
		was[i] = d->q[i].started;
		vu_queue_stop(d, &d->q[i]);
	}
	nmd_vu_mem_unmap(&d->mem);
	d->mem = nm;
	d->changed = true;
	for (i = 0; i < NMD_VU_NQUEUES; i++) {
		if (was[i] && vu_queue_try_start(d, &d->q[i]) < 0)
			return -EPROTO;
	}
	/* rings waiting for memory may start now */
	for (i = 0; i < NMD_VU_NQUEUES; i++) {
		if (vu_queue_try_start(d, &d->q[i]) < 0)
			return -EPROTO;
	}
	return VU_OK;
}

static int h_set_vring_num(struct nmd_vu_dev *d)
{
	const struct nmd_vu_state *s = &d->in.pl.state;
	struct nmd_vu_queue *q;

	if (!(q = vu_ring(d, s->index)))
		return -EPROTO;
	if (s->num == 0 || s->num > UNM_VQ_MAX_SIZE || (s->num & (s->num - 1)))
		return vu_bad(d, "queue size %u is not a power of two up to %u", s->num,
			      UNM_VQ_MAX_SIZE);
	vu_pause(d);
	vu_queue_stop(d, q);
	q->num = s->num;
	return vu_queue_try_start(d, q);
}

static int h_set_vring_addr(struct nmd_vu_dev *d)
{
	const struct nmd_vu_addr *a = &d->in.pl.addr;
	struct nmd_vu_queue *q;

	if (!(q = vu_ring(d, a->index)))
		return -EPROTO;
	/* bit 0 asks for dirty logging, which needs VHOST_F_LOG_ALL: never
	 * offered; no other bit is defined */
	if (a->flags)
		return vu_bad(d, "ring flags %#x", a->flags);
	vu_pause(d);
	vu_queue_stop(d, q);
	q->addr = *a;
	q->addr_set = true;
	return vu_queue_try_start(d, q);
}

static int h_set_vring_base(struct nmd_vu_dev *d)
{
	const struct nmd_vu_state *s = &d->in.pl.state;
	struct nmd_vu_queue *q;

	if (!(q = vu_ring(d, s->index)))
		return -EPROTO;
	if (s->num > 0xffff)
		return vu_bad(d, "ring base %u (split rings: 16 bits)", s->num);
	vu_pause(d);
	vu_queue_stop(d, q);
	q->base = (uint16_t)s->num;
	return vu_queue_try_start(d, q);
}

static int h_get_vring_base(struct nmd_vu_dev *d)
{
	struct nmd_vu_state s = d->in.pl.state;
	struct nmd_vu_queue *q;
	unsigned i;
	bool any = false;
	int r;

	if (!(q = vu_ring(d, s.index)))
		return -EPROTO;
	vu_pause(d);
	vu_queue_stop(d, q);
	vu_drop_kick(d, q);
	s.num = q->base;
	for (i = 0; i < NMD_VU_NQUEUES; i++)
		any |= d->q[i].started;
	if (!any && atomic_load_explicit(&d->broken, memory_order_relaxed)) {
		/* the guest reset the device: give it a fresh start */
		atomic_store_explicit(&d->broken, false, memory_order_relaxed);
		atomic_store_explicit(&d->broken_why, NULL, memory_order_relaxed);
		vu_info(d, "%s: rings stopped, device no longer broken", d->name);
		d->changed = true;
	}
	r = vu_reply(d, &s, sizeof(s));
	return r < 0 ? r : VU_REPLIED;
}

/* The u64 of SET_VRING_KICK/CALL/ERR: queue index and "no fd" flag, and
 * the descriptor that must (not) come with it. */
static int vu_vring_fd(struct nmd_vu_dev *d, struct nmd_vu_queue **q, int *fd)
{
	uint64_t v = d->in.pl.u64;
	bool nofd = v & UNM_VU_VRING_NOFD;

	if (v & ~(UNM_VU_VRING_IDX_MASK | UNM_VU_VRING_NOFD))
		return vu_bad(d, "payload %#llx", (unsigned long long)v);
	if (!(*q = vu_ring(d, v & UNM_VU_VRING_IDX_MASK)))
		return -EPROTO;
	if (d->in.nfds != (nofd ? 0u : 1u))
		return vu_bad(d, "%u descriptors, expected %u", d->in.nfds, nofd ? 0 : 1);
	*fd = vu_take_fd(d, 0);
	/* never block on them: QEMU makes its eventfds non-blocking anyway,
	 * and a peer that passed a pipe it never reads must not stall a
	 * forwarding thread */
	if (*fd >= 0) {
		int fl = fcntl(*fd, F_GETFL);

		if (fl < 0 || fcntl(*fd, F_SETFL, fl | O_NONBLOCK) < 0) {
			close(*fd);
			return vu_bad(d, "unusable descriptor: %s", strerror(errno));
		}
	}
	return 0;
}

static int h_set_vring_kick(struct nmd_vu_dev *d)
{
	struct nmd_vu_queue *q;
	struct epoll_event ev = { .events = EPOLLIN };
	int fd;

	if (vu_vring_fd(d, &q, &fd) < 0)
		return -EPROTO;
	vu_pause(d);
	vu_queue_stop(d, q);
	vu_drop_kick(d, q);
	if (fd >= 0) {
		ev.data.fd = fd;
		if (epoll_ctl(d->wfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			int e = errno;

			close(fd);
			return vu_bad(d, "kick descriptor cannot be polled: %s", strerror(e));
		}
	}
	q->kick = fd;
	q->kick_set = true;
	return vu_queue_try_start(d, q);
}

static int h_set_vring_call_err(struct nmd_vu_dev *d)
{
	struct nmd_vu_queue *q;
	int fd;

	if (vu_vring_fd(d, &q, &fd) < 0)
		return -EPROTO;
	vu_pause(d);
	if (d->in.hdr.request == UNM_VU_SET_VRING_CALL) {
		vu_close_fd(&q->call);
		q->call = fd;
	} else {
		vu_close_fd(&q->err);
		q->err = fd;
	}
	return VU_OK;
}

static int h_set_vring_enable(struct nmd_vu_dev *d)
{
	const struct nmd_vu_state *s = &d->in.pl.state;
	struct nmd_vu_queue *q;

	if (!(q = vu_ring(d, s->index)))
		return -EPROTO;
	if (s->num > 1)
		return vu_bad(d, "enable value %u", s->num);
	vu_pause(d);
	q->enabled = s->num;
	vu_publish(d, q);
	return VU_OK;
}

static int h_unsupported(struct nmd_vu_dev *d)
{
	uint32_t r = d->in.hdr.request;

	if ((d->pfeatures & UNM_BIT(UNM_VU_PF_REPLY_ACK)) &&
	    (d->in.hdr.flags & UNM_VU_FLAG_NEED_REPLY)) {
		vu_debug(d, "%s: %s (%u) not supported: failure reply", d->name, req_name(r), r);
		return VU_FAIL;
	}
	switch (r) {
	case UNM_VU_GET_CONFIG:
		/* an empty payload is the spec's error reply */
		return vu_reply(d, NULL, 0) < 0 ? -EIO : VU_REPLIED;
	case UNM_VU_IOTLB_MSG:
	case UNM_VU_POSTCOPY_ADVISE:
	case UNM_VU_POSTCOPY_END:
	case UNM_VU_GET_INFLIGHT_FD:
	case UNM_VU_GET_MAX_MEM_SLOTS:
		/* QEMU waits for an answer we cannot give */
		return vu_bad(d, "not supported (no feature offered for it)");
	default:
		vu_debug(d, "%s: %s (%u) not supported: ignored", d->name, req_name(r), r);
		return VU_OK;
	}
}

/* Which requests may come with descriptors (the others must not). */
static bool vu_may_have_fds(uint32_t r)
{
	switch (r) {
	case UNM_VU_SET_MEM_TABLE:
	case UNM_VU_SET_LOG_BASE:
	case UNM_VU_SET_LOG_FD:
	case UNM_VU_SET_VRING_KICK:
	case UNM_VU_SET_VRING_CALL:
	case UNM_VU_SET_VRING_ERR:
	case UNM_VU_SET_SLAVE_REQ_FD:
	case UNM_VU_SET_INFLIGHT_FD:
	case UNM_VU_ADD_MEM_REG:
	case UNM_VU_REM_MEM_REG:
	case 33:		/* GPU_SET_SOCKET */
		return true;
	default:
		return false;
	}
}

static int vu_handle(struct nmd_vu_dev *d)
{
	const struct nmd_vu_hdr *h = &d->in.hdr;
	const union nmd_vu_payload *pl = &d->in.pl;
	int r;

	if (d->in.nfds && !vu_may_have_fds(h->request))
		return vu_bad(d, "%u unexpected descriptors", d->in.nfds);
	vu_debug(d, "%s: %s (%u bytes, %u fds)", d->name, req_name(h->request), h->size,
		 d->in.nfds);
	switch (h->request) {
	case UNM_VU_GET_FEATURES:
		if ((r = vu_expect_size(d, 0)) < 0)
			return r;
		return vu_reply_u64(d, d->offer);
	case UNM_VU_SET_FEATURES:
		if ((r = vu_expect_size(d, 8)) < 0)
			return r;
		r = h_set_features(d);
		break;
	case UNM_VU_GET_PROTOCOL_FEATURES:
		if ((r = vu_expect_size(d, 0)) < 0)
			return r;
		return vu_reply_u64(d, d->pf_offer);
	case UNM_VU_SET_PROTOCOL_FEATURES:
		if ((r = vu_expect_size(d, 8)) < 0)
			return r;
		if (pl->u64 & ~d->pf_offer) {
			vu_warn(d, "%s: QEMU wants protocol features %#llx we did not offer",
				d->name, (unsigned long long)pl->u64);
			r = VU_REFUSE;
			break;
		}
		d->pfeatures = pl->u64;
		r = VU_OK;
		break;
	case UNM_VU_SET_OWNER:
		if ((r = vu_expect_size(d, 0)) < 0)
			return r;
		d->owner = true;
		r = VU_OK;
		break;
	case UNM_VU_RESET_OWNER:
	case UNM_VU_RESET_DEVICE:
		if ((r = vu_expect_size(d, 0)) < 0)
			return r;
		vu_pause(d);
		vu_reset(d, true);
		r = VU_OK;
		break;
	case UNM_VU_SET_MEM_TABLE:
		r = h_set_mem_table(d);
		break;
	case UNM_VU_SET_VRING_NUM:
		if ((r = vu_expect_size(d, sizeof(pl->state))) < 0)
			return r;
		r = h_set_vring_num(d);
		break;
	case UNM_VU_SET_VRING_ADDR:
		if ((r = vu_expect_size(d, sizeof(pl->addr))) < 0)
			return r;
		r = h_set_vring_addr(d);
		break;
	case UNM_VU_SET_VRING_BASE:
		if ((r = vu_expect_size(d, sizeof(pl->state))) < 0)
			return r;
		r = h_set_vring_base(d);
		break;
	case UNM_VU_GET_VRING_BASE:
		if ((r = vu_expect_size(d, sizeof(pl->state))) < 0)
			return r;
		return h_get_vring_base(d);
	case UNM_VU_SET_VRING_KICK:
		if ((r = vu_expect_size(d, 8)) < 0)
			return r;
		r = h_set_vring_kick(d);
		break;
	case UNM_VU_SET_VRING_CALL:
	case UNM_VU_SET_VRING_ERR:
		if ((r = vu_expect_size(d, 8)) < 0)
			return r;
		r = h_set_vring_call_err(d);
		break;
	case UNM_VU_GET_QUEUE_NUM:
		if ((r = vu_expect_size(d, 0)) < 0)
			return r;
		return vu_reply_u64(d, 1);	/* queue pairs */
	case UNM_VU_SET_VRING_ENABLE:
		if ((r = vu_expect_size(d, sizeof(pl->state))) < 0)
			return r;
		r = h_set_vring_enable(d);
		break;
	case UNM_VU_NET_SET_MTU:
		if ((r = vu_expect_size(d, 8)) < 0)
			return r;
		if (pl->u64 < 68 || pl->u64 > 65535) {
			vu_warn(d, "%s: MTU %llu refused (68..65535)", d->name,
				(unsigned long long)pl->u64);
			r = VU_FAIL;
			break;
		}
		atomic_store_explicit(&d->mtu, (uint16_t)pl->u64, memory_order_relaxed);
		d->changed = true;
		r = VU_OK;
		break;
	case UNM_VU_SET_STATUS:
		if ((r = vu_expect_size(d, 8)) < 0)
			return r;
		if (pl->u64 > 0xff)
			return vu_bad(d, "status %#llx", (unsigned long long)pl->u64);
		d->status = (uint8_t)pl->u64;
		d->changed = true;
		r = VU_OK;
		break;
	case UNM_VU_GET_STATUS:
		if ((r = vu_expect_size(d, 0)) < 0)
			return r;
		return vu_reply_u64(d, d->status |
				    (atomic_load_explicit(&d->broken, memory_order_relaxed) ?
				     UNM_VIRTIO_S_NEEDS_RESET : 0));
	default:
		r = h_unsupported(d);
		break;
	}
	if (r < 0 || r == VU_REPLIED)
		return r;
	if ((d->pfeatures & UNM_BIT(UNM_VU_PF_REPLY_ACK)) && (h->flags & UNM_VU_FLAG_NEED_REPLY))
		return vu_reply(d, &(uint64_t){ r != VU_OK }, sizeof(uint64_t));
	if (r == VU_REFUSE)
		return vu_bad(d, "refused, and QEMU did not ask for a reply");
	return 0;
}

/* ---- receiving ---- */

static void vu_in_reset(struct nmd_vu_in *in)
{
	unsigned i;

	for (i = 0; i < in->nfds; i++)
		if (in->fds[i] >= 0)
			close(in->fds[i]);
	in->nfds = 0;
	in->got = 0;
}

/* Read what is there of the current message.  Returns 1 when it is
 * complete, 0 when more is to come, -errno to close the connection. */
static int vu_read(struct nmd_vu_dev *d)
{
	struct nmd_vu_in *in = &d->in;
	const uint32_t hsz = sizeof(in->hdr);

	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * UNM_VU_MAX_FDS)];
			struct cmsghdr align;
		} cb;
		struct iovec iov;
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cb.buf, .msg_controllen = sizeof(cb.buf),
		};
		struct cmsghdr *c;
		bool too_many = false;
		ssize_t r;

		if (in->got < hsz) {
			iov.iov_base = (char *)&in->hdr + in->got;
			iov.iov_len = hsz - in->got;
		} else {
			iov.iov_base = in->pl.raw + (in->got - hsz);
			iov.iov_len = hsz + in->hdr.size - in->got;
			if (iov.iov_len == 0)
				return 1;
		}
		r = recvmsg(d->cfd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			unsigned i, n;

			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			n = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (i = 0; i < n; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
				if (in->nfds < UNM_VU_MAX_FDS)
					in->fds[in->nfds++] = fd;
				else {
					close(fd);
					too_many = true;
				}
			}
		}
		if (too_many || (mh.msg_flags & MSG_CTRUNC)) {
			vu_warn(d, "%s: more than %u descriptors with one message; closing the connection",
				d->name, UNM_VU_MAX_FDS);
			return -EPROTO;
		}
		if (r == 0)
			return in->got ? -EPIPE : -ECONNRESET;
		in->got += (uint32_t)r;
		if (in->got == hsz) {
			const struct nmd_vu_hdr *h = &in->hdr;

			if ((h->flags & UNM_VU_VERSION_MASK) != UNM_VU_VERSION ||
			    (h->flags & UNM_VU_FLAG_REPLY)) {
				vu_warn(d, "%s: message flags %#x (version 1 requests only); closing the connection",
					d->name, h->flags);
				return -EPROTO;
			}
			if (h->size > UNM_VU_MAX_PAYLOAD) {
				vu_warn(d, "%s: %s with a payload of %u bytes; closing the connection",
					d->name, req_name(h->request), h->size);
				return -EPROTO;
			}
		}
	}
}

/* ---- connections ---- */

static void vu_schedule(struct nmd_vu_dev *d)
{
	struct itimerspec its = { 0 };

	its.it_value.tv_sec = d->backoff_ms / 1000;
	its.it_value.tv_nsec = (long)(d->backoff_ms % 1000) * 1000000L;
	timerfd_settime(d->tfd, 0, &its, NULL);
	d->backoff_ms = d->backoff_ms * 2 > d->backoff_max ? d->backoff_max : d->backoff_ms * 2;
}

static void vu_disconnect(struct nmd_vu_dev *d, const char *why)
{
	if (d->cfd < 0)
		return;
	vu_info(d, "%s: connection to QEMU closed (%s)", d->name, why);
	vu_pause(d);
	vu_reset(d, false);
	epoll_ctl(d->ep, EPOLL_CTL_DEL, d->cfd, NULL);
	vu_close_fd(&d->cfd);
	vu_in_reset(&d->in);
	vu_resume(d);
	if (d->client && d->path[0])
		vu_schedule(d);
}

static int vu_adopt(struct nmd_vu_dev *d, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u32 = EV_CONN };

	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	d->cfd = fd;
	d->connections++;
	vu_in_reset(&d->in);
	vu_info(d, "%s: QEMU connected", d->name);
	d->changed = true;
	vu_resume(d);
	return 0;
}

static void vu_connect(struct nmd_vu_dev *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (d->cfd >= 0)
		return;
	memcpy(sa.sun_path, d->path, sizeof(d->path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		vu_warn(d, "%s: socket: %s", d->name, strerror(errno));
		vu_schedule(d);
		return;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		vu_debug(d, "%s: connect %s: %s; retrying in %u ms", d->name, d->path,
			 strerror(errno), d->backoff_ms);
		close(fd);
		vu_schedule(d);
		return;
	}
	if (vu_adopt(d, fd) < 0)
		vu_schedule(d);
}

static void vu_accept(struct nmd_vu_dev *d)
{
	int fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (d->cfd >= 0) {
		vu_warn(d, "%s: a second QEMU connected while one is served: refused", d->name);
		close(fd);
		return;
	}
	vu_adopt(d, fd);
}

static void vu_conn_ready(struct nmd_vu_dev *d)
{
	unsigned i;

	for (i = 0; i < MSGS_PER_DISPATCH && d->cfd >= 0; i++) {
		int r = vu_read(d);

		if (r == 0)
			return;
		if (r < 0) {
			if (r == -EPROTO)
				d->bad_msgs++;
			vu_disconnect(d, r == -EPROTO ? "bad message" :
				      r == -ECONNRESET ? "peer closed" : strerror(-r));
			return;
		}
		r = vu_handle(d);
		vu_in_reset(&d->in);
		if (r < 0) {
			if (r == -EPROTO)
				d->bad_msgs++;
			vu_disconnect(d, r == -EPROTO ? "bad message" : "reply failed");
			return;
		}
		/* the peer speaks the protocol: the next reconnection may be
		 * quick again */
		d->backoff_ms = d->backoff_min;
		vu_resume(d);
	}
}

int nmd_vu_dispatch(struct nmd_vu_dev *d)
{
	struct epoll_event ev[4];
	int i, n;

	n = epoll_wait(d->ep, ev, 4, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		switch (ev[i].data.u32) {
		case EV_LISTEN:
			vu_accept(d);
			break;
		case EV_CONN:
			vu_conn_ready(d);
			break;
		case EV_TIMER: {
			uint64_t v;
			ssize_t r = read(d->tfd, &v, sizeof(v));

			(void)r;
			vu_connect(d);
			break;
		}
		}
	}
	return 0;
}

int nmd_vu_fd(const struct nmd_vu_dev *d)
{
	return d->ep;
}

int nmd_vu_attach(struct nmd_vu_dev *d, int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	vu_disconnect(d, "replaced");
	return vu_adopt(d, fd);
}

/* ---- creation ---- */

/* Listen on d->path, replacing a socket file nobody listens on. */
static int vu_listen(struct nmd_vu_dev *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = EV_LISTEN };
	struct stat st;
	int fd, e;

	memcpy(sa.sun_path, d->path, sizeof(d->path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int probe;

		e = -errno;
		if (e != -EADDRINUSE || lstat(d->path, &st) < 0 || !S_ISSOCK(st.st_mode))
			goto fail;
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe < 0 || connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0 ||
		    errno != ECONNREFUSED) {
			if (probe >= 0)
				close(probe);
			goto fail;	/* somebody serves it */
		}
		close(probe);
		unlink(d->path);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			e = -errno;
			goto fail;
		}
	}
	if (listen(fd, 1) < 0 || epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		e = -errno;
		unlink(d->path);
		goto fail;
	}
	d->lfd = fd;
	return 0;
fail:
	close(fd);
	return e;
}

struct nmd_vu_dev *nmd_vu_create(const struct nmd_vu_config *cfg, int *err)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = EV_TIMER };
	struct nmd_vu_dev *d;
	unsigned i;
	int e = -EINVAL;

	if ((cfg->path && strlen(cfg->path) >= sizeof(d->path)) ||
	    (cfg->features & ~NMD_VU_FEATURES)) {
		*err = -EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		*err = -ENOMEM;
		return NULL;
	}
	snprintf(d->name, sizeof(d->name), "%s", cfg->name ? cfg->name : "vhost-user");
	if (cfg->path)
		snprintf(d->path, sizeof(d->path), "%s", cfg->path);
	d->client = cfg->client;
	if (cfg->ops)
		d->ops = *cfg->ops;
	d->arg = cfg->arg;
	d->log_level = cfg->log_level;
	d->offer = cfg->features ? cfg->features : NMD_VU_FEATURES;
	d->pf_offer = VU_PF_OFFER;
	d->backoff_min = cfg->backoff_min_ms ? cfg->backoff_min_ms : 100;
	d->backoff_max = cfg->backoff_max_ms ? cfg->backoff_max_ms : 5000;
	if (d->backoff_max < d->backoff_min)
		d->backoff_max = d->backoff_min;
	d->backoff_ms = d->backoff_min;
	d->lfd = d->cfd = d->tfd = d->ep = d->wfd = -1;
	for (i = 0; i < NMD_VU_NQUEUES; i++) {
		struct nmd_vu_queue *q = &d->q[i];

		q->kick = q->call = q->err = -1;
	}
	d->q[NMD_VU_TXQ].seg = calloc(UNM_VU_TX_SEGS, sizeof(struct nmd_vu_seg));
	d->q[NMD_VU_TXQ].chain = calloc(NMD_VU_BURST, sizeof(struct nmd_vq_chain));
	d->q[NMD_VU_RXQ].seg = calloc(UNM_VU_RX_SEGS, sizeof(struct nmd_vu_seg));
	d->q[NMD_VU_RXQ].chain = calloc(UNM_VU_RX_CHAINS, sizeof(struct nmd_vq_chain));
	for (i = 0; i < NMD_VU_NQUEUES; i++) {
		if (!d->q[i].seg || !d->q[i].chain) {
			e = -ENOMEM;
			goto fail;
		}
	}
	d->ep = epoll_create1(EPOLL_CLOEXEC);
	d->wfd = epoll_create1(EPOLL_CLOEXEC);
	d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->ep < 0 || d->wfd < 0 || d->tfd < 0 ||
	    epoll_ctl(d->ep, EPOLL_CTL_ADD, d->tfd, &ev) < 0) {
		e = -errno;
		goto fail;
	}
	if (d->path[0] && !d->client) {
		e = vu_listen(d);
		if (e < 0)
			goto fail;
	}
	if (d->path[0] && d->client)
		vu_connect(d);
	*err = 0;
	return d;
fail:
	d->path[0] = 0;		/* not ours to remove */
	nmd_vu_destroy(d);
	*err = e;
	return NULL;
}

void nmd_vu_destroy(struct nmd_vu_dev *d)
{
	unsigned i;

	if (!d)
		return;
	d->ops.pause = d->ops.resume = NULL;
	d->ops.changed = NULL;
	vu_reset(d, false);
	vu_close_fd(&d->cfd);
	vu_in_reset(&d->in);
	if (d->lfd >= 0) {
		vu_close_fd(&d->lfd);
		if (d->path[0])
			unlink(d->path);
	}
	vu_close_fd(&d->tfd);
	vu_close_fd(&d->ep);
	vu_close_fd(&d->wfd);
	for (i = 0; i < NMD_VU_NQUEUES; i++) {
		free(d->q[i].seg);
		free(d->q[i].chain);
	}
	free(d);
}

void nmd_vu_info(const struct nmd_vu_dev *d, struct nmd_vu_info *o)
{
	unsigned i;

	memset(o, 0, sizeof(*o));
	o->connected = d->cfd >= 0;
	for (i = 0; i < NMD_VU_NQUEUES; i++) {
		const struct nmd_vu_queue *q = &d->q[i];

		o->running[i] = q->started;
		o->enabled[i] = q->enabled;
		o->polling[i] = q->started && q->kick < 0;
		o->pkts[i] = atomic_load_explicit(&q->pkts, memory_order_relaxed);
		o->bytes[i] = atomic_load_explicit(&q->bytes, memory_order_relaxed);
		o->drops[i] = atomic_load_explicit(&q->drops, memory_order_relaxed);
		o->errors[i] = atomic_load_explicit(&q->errors, memory_order_relaxed);
	}
	/* acquire: pairs with the acq_rel exchange in vu_break() */
	o->broken = atomic_load_explicit(&d->broken, memory_order_acquire);
	o->broken_why = o->broken ? atomic_load_explicit(&d->broken_why, memory_order_relaxed) : NULL;
	o->features = d->features;
	o->protocol_features = d->pfeatures;
	o->status = d->status;
	o->mtu = atomic_load_explicit(&d->mtu, memory_order_relaxed);
	o->hdr_len = vu_hdr_len(d->features);
	o->mem_regions = d->mem.n;
	o->connections = d->connections;
	o->bad_msgs = d->bad_msgs;
	o->breaks = atomic_load_explicit(&d->breaks, memory_order_relaxed);
}

/*
 * vu_harness.h - what the vhost-user tests (7x_vhost_*: 75, 76, 77) and the benchmark
 * (bench/src/vhost_bench.c) share:
 *
 *   vg_*  a fake QEMU plus virtio-net guest driver: guest memory in a
 *         memfd, given to the backend as two regions (contiguous guest
 *         physical addresses, distinct "QEMU" addresses, distinct mmap
 *         offsets), real split rings, the vhost-user messages QEMU 7.2
 *         sends, and the driver side of the rings (kicks and interrupt
 *         suppression with or without event index, indirect tables,
 *         mergeable receive buffers);
 *   tb_*  a backend run the way netmapd will run it: the device
 *         (daemon/vm) on a protocol thread, and a forwarding thread that
 *         echoes every frame the guest transmits back into its receive
 *         queue (or, for the benchmark, sinks or sources frames), with
 *         the pause/resume handshake of vhost_user.h done with a mutex.
 *
 * Everything is static inline: each program uses a part of it.
 */
#ifndef VU_HARNESS_H
#define VU_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../daemon/vm/vhost_user.h"
#include "../../daemon/vm/virtq.h"
#include "../../daemon/vm/vu_proto.h"

#ifndef VH_PROG
#define VH_PROG "vhost"
#endif

#define VH_DIE(...) do {						\
	fprintf(stderr, VH_PROG ":%d: ", __LINE__);			\
	fprintf(stderr, __VA_ARGS__);					\
	fputc('\n', stderr);						\
	exit(1);							\
} while (0)

/* Socket files a test creates go away however it ends: exit, a fatal
 * check (VH_DIE), or the runner's timeout (SIGTERM). */
static char vh_paths[4][108];

static void vh_unlink_paths(void)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		if (vh_paths[i][0])
			unlink(vh_paths[i]);
}

static void vh_on_signal(int sig)
{
	vh_unlink_paths();	/* async-signal-safe */
	signal(sig, SIG_DFL);
	raise(sig);
}

static inline __attribute__((unused)) void vh_remove_at_exit(const char *path)
{
	static bool armed;
	unsigned i;

	if (!armed) {
		armed = true;
		atexit(vh_unlink_paths);
		signal(SIGTERM, vh_on_signal);
		signal(SIGINT, vh_on_signal);
	}
	for (i = 0; i < 4; i++) {
		if (!vh_paths[i][0]) {
			snprintf(vh_paths[i], sizeof(vh_paths[i]), "%s", path);
			return;
		}
	}
}

static inline uint64_t vh_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ================= the fake QEMU + guest driver ================= */

#define VG_MEM_SIZE	(32u << 20)
#define VG_SPLIT	(16u << 20)		/* region A | region B */
#define VG_GPA_BASE	0x100000000ull		/* contiguous guest addresses */
#define VG_UVA_A	0x7f1200000000ull	/* "QEMU" addresses, apart */
#define VG_UVA_B	0x7f5600000000ull
#define VG_RING_AREA	0x0u			/* rings: region A */
#define VG_IND_AREA	0x100000u		/* indirect tables: region A */
#define VG_RX_AREA	0x200000u		/* receive buffers */
#define VG_TX_AREA	(VG_SPLIT - (2u << 20) - 100u)	/* straddles A|B */
#define VG_BUF_STRIDE	16384u			/* buffer area per head */
#define VG_MAX_DESC	16			/* descriptors per chain */
#define VG_MAX_NUM	256

#define VG_HDR_FLAGS_OFS 0

struct vg_q {
	uint16_t num;
	struct nmd_vring_desc *desc;
	struct nmd_vring_avail *avail;
	struct nmd_vring_used *used;
	uint32_t desc_off, avail_off, used_off;
	int kick, call, err;		/* eventfds we made and gave */
	uint16_t avail_idx;		/* next avail entry */
	uint16_t kicked_at;		/* avail_idx at the last kick decision */
	uint16_t last_used;
	uint16_t free[VG_MAX_NUM];	/* free descriptor stack */
	uint16_t nfree;
	uint16_t rec_n[VG_MAX_NUM];	/* per head: descriptors it holds */
	uint16_t rec[VG_MAX_NUM][VG_MAX_DESC];
	uint32_t rx_size[VG_MAX_NUM];	/* rx: buffer bytes posted on the head */
	uint16_t rx_ndesc[VG_MAX_NUM];
	bool busy[VG_MAX_NUM];		/* head handed to the device */
	uint64_t kicks;
};

struct vg {
	int sock;
	int memfd;
	char *mem;
	uint64_t features, pfeatures;
	bool event_idx, indirect, mrg, reply_ack;
	bool lenient;			/* ignore heads we do not hold (the
					 * rings were scribbled over) */
	uint32_t hdr_len;
	struct vg_q q[2];
	int last_reply_err;
};

static inline uint64_t vg_gpa(uint32_t off)
{
	return VG_GPA_BASE + off;
}

static inline uint64_t vg_uva(uint32_t off)
{
	return off < VG_SPLIT ? VG_UVA_A + off : VG_UVA_B + (off - VG_SPLIT);
}

/* ---- messages ---- */

static inline int vg_send(struct vg *g, uint32_t req, uint32_t flags, const void *pl,
			  uint32_t size, const int *fds, unsigned nfds)
{
	struct nmd_vu_hdr h = { .request = req, .flags = flags, .size = size };
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)(uintptr_t)pl, .iov_len = size },
	};
	union {
		char buf[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} cb;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };
	ssize_t r;

	if (nfds) {
		struct cmsghdr *c;

		memset(&cb, 0, sizeof(cb));
		mh.msg_control = cb.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	r = sendmsg(g->sock, &mh, MSG_NOSIGNAL);
	return r == (ssize_t)(sizeof(h) + size) ? 0 : -1;
}

/* Wait for a reply of request req; payload into pl (at most size bytes).
 * Returns the payload size, -ETIMEDOUT, or -EPIPE if the backend closed. */
static inline int vg_recv(struct vg *g, uint32_t req, void *pl, uint32_t size, int timeout_ms)
{
	struct pollfd p = { .fd = g->sock, .events = POLLIN };
	struct nmd_vu_hdr h;
	char buf[UNM_VU_MAX_PAYLOAD];
	ssize_t r;

	if (poll(&p, 1, timeout_ms) <= 0)
		return -ETIMEDOUT;
	r = recv(g->sock, &h, sizeof(h), MSG_WAITALL);
	if (r == 0)
		return -EPIPE;
	if (r != sizeof(h))
		return -EIO;
	if (h.request != req || h.flags != (UNM_VU_VERSION | UNM_VU_FLAG_REPLY) ||
	    h.size > sizeof(buf)) {
		fprintf(stderr, VH_PROG ": reply %u flags %#x size %u to request %u\n",
			h.request, h.flags, h.size, req);
		return -EPROTO;
	}
	if (h.size && recv(g->sock, buf, h.size, MSG_WAITALL) != (ssize_t)h.size)
		return -EIO;
	memcpy(pl, buf, h.size < size ? h.size : size);
	return (int)h.size;
}

static inline uint64_t vg_get_u64(struct vg *g, uint32_t req)
{
	uint64_t v = 0;

	if (vg_send(g, req, UNM_VU_VERSION, NULL, 0, NULL, 0) < 0 ||
	    vg_recv(g, req, &v, sizeof(v), 5000) != sizeof(v))
		VH_DIE("request %u got no u64 reply", req);
	return v;
}

/* A request without a reply of its own; with REPLY_ACK negotiated, ask
 * for the ack and return it (0 = success), else 0. */
static inline int vg_set(struct vg *g, uint32_t req, const void *pl, uint32_t size,
			 const int *fds, unsigned nfds)
{
	uint64_t ack = 0;

	if (vg_send(g, req, UNM_VU_VERSION | (g->reply_ack ? UNM_VU_FLAG_NEED_REPLY : 0),
		    pl, size, fds, nfds) < 0)
		VH_DIE("send of request %u failed", req);
	if (!g->reply_ack)
		return 0;
	if (vg_recv(g, req, &ack, sizeof(ack), 5000) != sizeof(ack))
		VH_DIE("request %u: no ack", req);
	return (int)ack;
}

static inline int vg_set_u64(struct vg *g, uint32_t req, uint64_t v)
{
	return vg_set(g, req, &v, sizeof(v), NULL, 0);
}

static inline int vg_set_state(struct vg *g, uint32_t req, uint32_t index, uint32_t num)
{
	struct nmd_vu_state s = { .index = index, .num = num };

	return vg_set(g, req, &s, sizeof(s), NULL, 0);
}

static inline int vg_vring_fd(struct vg *g, uint32_t req, uint32_t index, int fd)
{
	uint64_t v = index | (fd < 0 ? UNM_VU_VRING_NOFD : 0);

	return vg_set(g, req, &v, sizeof(v), fd < 0 ? NULL : &fd, fd < 0 ? 0 : 1);
}

/* ---- guest memory and rings ---- */

static inline void vg_mem_init(struct vg *g)
{
	g->memfd = memfd_create("vg-guest", MFD_CLOEXEC);
	if (g->memfd < 0 || ftruncate(g->memfd, VG_MEM_SIZE) < 0)
		VH_DIE("memfd: %s", strerror(errno));
	g->mem = mmap(NULL, VG_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, g->memfd, 0);
	if (g->mem == MAP_FAILED)
		VH_DIE("mmap: %s", strerror(errno));
}

static inline void vg_regions(struct nmd_vu_memory *m)
{
	memset(m, 0, sizeof(*m));
	m->nregions = 2;
	m->r[0] = (struct nmd_vu_region_desc){ vg_gpa(0), VG_SPLIT, VG_UVA_A, 0 };
	m->r[1] = (struct nmd_vu_region_desc){ vg_gpa(VG_SPLIT), VG_MEM_SIZE - VG_SPLIT,
					       VG_UVA_B, VG_SPLIT };
}

static inline int vg_send_mem_table(struct vg *g)
{
	struct nmd_vu_memory m;
	int fds[2] = { g->memfd, g->memfd };

	vg_regions(&m);
	return vg_set(g, UNM_VU_SET_MEM_TABLE, &m, 8 + 2 * sizeof(m.r[0]), fds, 2);
}

static inline void vg_ring_layout(struct vg *g, unsigned qi, uint16_t num)
{
	struct vg_q *q = &g->q[qi];
	uint32_t base = VG_RING_AREA + qi * 0x20000u;
	unsigned i;

	q->num = num;
	q->desc_off = base;
	q->avail_off = base + 16u * num;
	q->used_off = (q->avail_off + 6u + 2u * num + 4095u) & ~4095u;
	q->desc = (void *)(g->mem + q->desc_off);
	q->avail = (void *)(g->mem + q->avail_off);
	q->used = (void *)(g->mem + q->used_off);
	memset(g->mem + base, 0, 0x20000u);
	q->avail_idx = q->kicked_at = q->last_used = 0;
	q->nfree = num;
	for (i = 0; i < num; i++) {
		q->free[i] = (uint16_t)(num - 1 - i);
		q->busy[i] = false;
	}
	q->kicks = 0;
}

/* The set-up QEMU 7.2 does for a virtio-net device when the guest driver
 * starts it, for one queue. */
static inline void vg_start_queue(struct vg *g, unsigned qi, uint16_t base)
{
	struct vg_q *q = &g->q[qi];
	struct nmd_vu_addr a = {
		.index = qi,
		.desc = vg_uva(q->desc_off),
		.avail = vg_uva(q->avail_off),
		.used = vg_uva(q->used_off),
	};

	if (vg_set_state(g, UNM_VU_SET_VRING_NUM, qi, q->num) ||
	    vg_set_state(g, UNM_VU_SET_VRING_BASE, qi, base) ||
	    vg_set(g, UNM_VU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0) ||
	    vg_vring_fd(g, UNM_VU_SET_VRING_KICK, qi, q->kick) ||
	    vg_vring_fd(g, UNM_VU_SET_VRING_CALL, qi, q->call) ||
	    vg_vring_fd(g, UNM_VU_SET_VRING_ERR, qi, q->err))
		VH_DIE("queue %u set-up refused", qi);
	if ((g->features & UNM_BIT(UNM_VHOST_USER_F_PROTOCOL_FEATURES)) &&
	    vg_set_state(g, UNM_VU_SET_VRING_ENABLE, qi, 1))
		VH_DIE("queue %u enable refused", qi);
}

/* Connect to path, retrying for 5 s (the backend may still be starting). */
static inline int vg_dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t end = vh_now_ns() + 5000000000ull;
	int fd;

	if (!path)
		VH_DIE("neither a socket nor a path");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (vh_now_ns() > end)
			VH_DIE("connect %s: %s", path, strerror(errno));
		usleep(10000);
	}
	return fd;
}

/*
 * vg_open - connect (or adopt sock >= 0) and do what QEMU does: feature
 * negotiation (want & offered), owner, memory, both queues of num entries.
 */
static inline void vg_open(struct vg *g, const char *path, int sock, uint64_t want, uint16_t num)
{
	uint64_t offered;
	unsigned i;

	memset(g, 0, sizeof(*g));
	g->sock = sock >= 0 ? sock : vg_dial(path);
	vg_mem_init(g);
	offered = vg_get_u64(g, UNM_VU_GET_FEATURES);
	g->features = offered & want;
	if (g->features & UNM_BIT(UNM_VHOST_USER_F_PROTOCOL_FEATURES)) {
		uint64_t pf = vg_get_u64(g, UNM_VU_GET_PROTOCOL_FEATURES);

		g->pfeatures = pf & (UNM_BIT(UNM_VU_PF_MQ) | UNM_BIT(UNM_VU_PF_REPLY_ACK) |
				     UNM_BIT(UNM_VU_PF_MTU) | UNM_BIT(UNM_VU_PF_STATUS) |
				     UNM_BIT(UNM_VU_PF_RESET_DEVICE));
		vg_set_u64(g, UNM_VU_SET_PROTOCOL_FEATURES, g->pfeatures);
		g->reply_ack = g->pfeatures & UNM_BIT(UNM_VU_PF_REPLY_ACK);
		if ((g->pfeatures & UNM_BIT(UNM_VU_PF_MQ)) &&
		    vg_get_u64(g, UNM_VU_GET_QUEUE_NUM) != 1)
			VH_DIE("GET_QUEUE_NUM is not 1");
	}
	if (vg_set(g, UNM_VU_SET_OWNER, NULL, 0, NULL, 0))
		VH_DIE("SET_OWNER refused");
	if (vg_set_u64(g, UNM_VU_SET_FEATURES, g->features))
		VH_DIE("SET_FEATURES refused");
	g->event_idx = g->features & UNM_BIT(UNM_VIRTIO_RING_F_EVENT_IDX);
	g->indirect = g->features & UNM_BIT(UNM_VIRTIO_RING_F_INDIRECT_DESC);
	g->mrg = g->features & UNM_BIT(UNM_VIRTIO_NET_F_MRG_RXBUF);
	g->hdr_len = (g->features & (UNM_BIT(UNM_VIRTIO_F_VERSION_1) |
				     UNM_BIT(UNM_VIRTIO_NET_F_MRG_RXBUF))) ? 12 : 10;
	if (vg_send_mem_table(g))
		VH_DIE("SET_MEM_TABLE refused");
	for (i = 0; i < 2; i++) {
		struct vg_q *q = &g->q[i];

		q->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		q->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		q->err = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		vg_ring_layout(g, i, num);
		vg_start_queue(g, i, 0);
	}
}

static inline void vg_close(struct vg *g)
{
	unsigned i;

	if (g->sock >= 0)
		close(g->sock);
	for (i = 0; i < 2; i++) {
		close(g->q[i].kick);
		close(g->q[i].call);
		close(g->q[i].err);
	}
	munmap(g->mem, VG_MEM_SIZE);
	close(g->memfd);
	g->sock = -1;
}

/* ---- the driver side of the rings ---- */

static inline uint16_t *vg_used_event(struct vg_q *q)
{
	return &q->avail->ring[q->num];
}

static inline uint16_t *vg_avail_event(struct vg_q *q)
{
	return (uint16_t *)(void *)&q->used->ring[q->num];
}

/* Publish what was added; kick if the device asked for it. */
static inline void vg_publish(struct vg *g, unsigned qi)
{
	struct vg_q *q = &g->q[qi];
	uint16_t old = q->kicked_at, now = q->avail_idx;
	bool kick;

	__atomic_store_n(&q->avail->idx, now, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (g->event_idx)
		kick = nmd_vring_need_event(__atomic_load_n(vg_avail_event(q), __ATOMIC_RELAXED),
					    now, old);
	else
		kick = !(__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED) &
			 UNM_VRING_USED_F_NO_NOTIFY);
	q->kicked_at = now;
	if (kick) {
		uint64_t one = 1;

		if (write(q->kick, &one, sizeof(one)) != sizeof(one))
			VH_DIE("kick: %s", strerror(errno));
		q->kicks++;
	}
}

/* Ask for an interrupt at the next used entry (true: one is there already)
 * or for none. */
static inline bool vg_intr(struct vg *g, unsigned qi, bool on)
{
	struct vg_q *q = &g->q[qi];

	if (g->event_idx)
		__atomic_store_n(vg_used_event(q),
				 (uint16_t)(on ? q->last_used : q->last_used - 1),
				 __ATOMIC_RELAXED);
	else
		__atomic_store_n(&q->avail->flags, on ? 0 : UNM_VRING_AVAIL_F_NO_INTERRUPT,
				 __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE) != q->last_used;
}

/* Consume an interrupt; true if there was one within timeout_ms. */
static inline bool vg_wait_call(struct vg *g, unsigned qi, int timeout_ms)
{
	struct pollfd p = { .fd = g->q[qi].call, .events = POLLIN };
	uint64_t v;

	if (poll(&p, 1, timeout_ms) <= 0)
		return false;
	return read(g->q[qi].call, &v, sizeof(v)) == sizeof(v);
}

static inline int vg_alloc_chain(struct vg_q *q, unsigned n, uint16_t *out)
{
	unsigned i;

	if (q->nfree < n)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = q->free[--q->nfree];
	return 0;
}

/* Give back the descriptors of a chain the device returned; false if the
 * head is not one we handed over (a device bug). */
static inline bool vg_free_head(struct vg_q *q, uint32_t head)
{
	unsigned i;

	if (head >= q->num || !q->busy[head])
		return false;
	q->busy[head] = false;
	for (i = 0; i < q->rec_n[head]; i++)
		q->free[q->nfree++] = q->rec[head][i];
	return true;
}

/* TX chain layouts */
enum {
	VG_L_ONE,	/* header and frame in one descriptor */
	VG_L_HDR,	/* header alone, frame in a second one */
	VG_L_SPLIT,	/* header and frame cut in nsplit pieces anywhere */
};

/* Take back transmitted chains; returns how many. */
static inline unsigned vg_tx_reclaim(struct vg *g)
{
	struct vg_q *q = &g->q[NMD_VU_TXQ];
	uint16_t u = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
	unsigned n = 0;

	while (q->last_used != u) {
		struct nmd_vring_used_elem *e = &q->used->ring[q->last_used % q->num];

		if (!vg_free_head(q, e->id) && !g->lenient)
			VH_DIE("tx: device returned head %u it does not hold", e->id);
		q->last_used++;
		n++;
	}
	return n;
}

/*
 * vg_tx - the guest transmits a frame: header (zeroed) + data, laid out
 * as asked, directly or through an indirect table; not published until
 * vg_publish().  Returns 0, or -ENOSPC when the ring is full.
 */
static inline int vg_tx(struct vg *g, const void *data, uint32_t len, int layout,
			unsigned nsplit, bool indirect)
{
	struct vg_q *q = &g->q[NMD_VU_TXQ];
	uint32_t total = g->hdr_len + len, cut[VG_MAX_DESC + 1];
	unsigned nd, i;
	uint16_t d[VG_MAX_DESC], head;
	uint32_t buf;
	struct nmd_vring_desc *tbl;

	vg_tx_reclaim(g);
	if (layout == VG_L_ONE)
		nd = 1;
	else if (layout == VG_L_HDR)
		nd = 2;
	else
		nd = nsplit < 1 ? 1 : nsplit > VG_MAX_DESC ? VG_MAX_DESC : nsplit;
	if (nd > total)
		nd = total;
	if (vg_alloc_chain(q, indirect ? 1 : nd, d) < 0)
		return -ENOSPC;
	head = d[0];
	buf = VG_TX_AREA + head * VG_BUF_STRIDE;
	memset(g->mem + buf, 0, g->hdr_len);
	memcpy(g->mem + buf + g->hdr_len, data, len);
	/* cut points: even pieces, the first one 5 bytes so that the header
	 * itself is split */
	cut[0] = 0;
	if (layout == VG_L_HDR) {
		cut[1] = g->hdr_len;
	} else {
		for (i = 1; i < nd; i++)
			cut[i] = i == 1 && nd > 2 ? 5 : (uint32_t)((uint64_t)total * i / nd);
	}
	cut[nd] = total;
	if (indirect) {
		tbl = (void *)(g->mem + VG_IND_AREA + head * VG_MAX_DESC * 16u);
		q->desc[head] = (struct nmd_vring_desc){
			.addr = vg_gpa(VG_IND_AREA + head * VG_MAX_DESC * 16u),
			.len = nd * 16u, .flags = UNM_VRING_DESC_F_INDIRECT,
		};
		q->rec_n[head] = 1;
		q->rec[head][0] = head;
	} else {
		tbl = q->desc;
		q->rec_n[head] = (uint16_t)nd;
		memcpy(q->rec[head], d, nd * sizeof(d[0]));
	}
	for (i = 0; i < nd; i++) {
		unsigned slot = indirect ? i : d[i];
		unsigned next = indirect ? i + 1 : (i + 1 < nd ? d[i + 1] : 0);

		tbl[slot] = (struct nmd_vring_desc){
			.addr = vg_gpa(buf + cut[i]), .len = cut[i + 1] - cut[i],
			.flags = i + 1 < nd ? UNM_VRING_DESC_F_NEXT : 0,
			.next = (uint16_t)(i + 1 < nd ? next : 0),
		};
	}
	q->busy[head] = true;
	q->avail->ring[q->avail_idx % q->num] = head;
	q->avail_idx++;
	return 0;
}

/* Post one receive buffer of size bytes in ndesc descriptors.  Returns 0
 * or -ENOSPC. */
static inline int vg_rx_post(struct vg *g, uint32_t size, unsigned ndesc)
{
	struct vg_q *q = &g->q[NMD_VU_RXQ];
	uint16_t d[VG_MAX_DESC], head;
	uint32_t buf, piece, off = 0;
	unsigned i;

	if (ndesc < 1 || ndesc > VG_MAX_DESC || size > VG_BUF_STRIDE)
		VH_DIE("bad rx buffer shape");
	if (vg_alloc_chain(q, ndesc, d) < 0)
		return -ENOSPC;
	head = d[0];
	buf = VG_RX_AREA + head * VG_BUF_STRIDE;
	piece = (size + ndesc - 1) / ndesc;
	for (i = 0; i < ndesc; i++) {
		uint32_t len = size - off < piece ? size - off : piece;

		q->desc[d[i]] = (struct nmd_vring_desc){
			.addr = vg_gpa(buf + off), .len = len,
			.flags = UNM_VRING_DESC_F_WRITE |
				 (i + 1 < ndesc ? UNM_VRING_DESC_F_NEXT : 0),
			.next = i + 1 < ndesc ? d[i + 1] : 0,
		};
		off += len;
	}
	memset(g->mem + buf, 0xa5, size);	/* stale bytes must not leak through */
	q->rec_n[head] = (uint16_t)ndesc;
	memcpy(q->rec[head], d, ndesc * sizeof(d[0]));
	q->rx_size[head] = size;
	q->rx_ndesc[head] = (uint16_t)ndesc;
	q->busy[head] = true;
	q->avail->ring[q->avail_idx % q->num] = head;
	q->avail_idx++;
	return 0;
}

/* Post receive buffers until the ring is full; then publish. */
static inline void vg_rx_fill(struct vg *g, uint32_t size, unsigned ndesc)
{
	while (vg_rx_post(g, size, ndesc) == 0)
		;
	vg_publish(g, NMD_VU_RXQ);
}

/*
 * vg_rx_recv - take one received frame (header checked and removed) into
 * out (room bytes); its buffers are posted again (not published).
 * Returns the frame length, 0 if none is there, -1 (with a message) if
 * the device broke a rule.
 */
static inline int vg_rx_recv(struct vg *g, void *out, uint32_t room)
{
	struct vg_q *q = &g->q[NMD_VU_RXQ];
	uint16_t u = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
	uint32_t got = 0, nbuf = 1, k, i;
	uint8_t hdr[12];

	if (u == q->last_used)
		return 0;
	for (k = 0; k < nbuf; k++) {
		struct nmd_vring_used_elem e;
		uint32_t off, left, buf, size;
		uint16_t ndesc;

		if (q->last_used == u) {
			fprintf(stderr, VH_PROG ": rx: %u of %u buffers of a frame\n", k, nbuf);
			return -1;
		}
		e = q->used->ring[q->last_used % q->num];
		q->last_used++;
		if (e.id >= q->num || !q->busy[e.id]) {
			fprintf(stderr, VH_PROG ": rx: device returned head %u\n", e.id);
			return -1;
		}
		size = q->rx_size[e.id];
		ndesc = q->rx_ndesc[e.id];
		buf = VG_RX_AREA + e.id * VG_BUF_STRIDE;
		if (e.len > size) {
			fprintf(stderr, VH_PROG ": rx: %u bytes in a buffer of %u\n", e.len, size);
			return -1;
		}
		off = 0;
		if (k == 0) {
			if (e.len < g->hdr_len) {
				fprintf(stderr, VH_PROG ": rx: %u bytes, no header\n", e.len);
				return -1;
			}
			memcpy(hdr, g->mem + buf, g->hdr_len);
			for (i = 0; i < 10; i++) {
				if (hdr[i]) {
					fprintf(stderr, VH_PROG ": rx: header byte %u is %#x\n", i,
						hdr[i]);
					return -1;
				}
			}
			if (g->hdr_len == 12)
				nbuf = hdr[10] | (uint32_t)hdr[11] << 8;
			if (nbuf == 0 || (!g->mrg && nbuf != 1)) {
				fprintf(stderr, VH_PROG ": rx: num_buffers %u\n", nbuf);
				return -1;
			}
			off = g->hdr_len;
		}
		left = e.len - off;
		if (got + left > room) {
			fprintf(stderr, VH_PROG ": rx: frame longer than %u\n", room);
			return -1;
		}
		memcpy((char *)out + got, g->mem + buf + off, left);
		got += left;
		vg_free_head(q, e.id);
		if (vg_rx_post(g, size, ndesc) < 0)
			VH_DIE("rx: cannot repost");
	}
	return (int)got;
}

/* ================= the backend under test ================= */

enum { TB_ECHO, TB_SINK, TB_SOURCE, TB_IDLE /* the caller runs the data path */ };

struct tb {
	struct nmd_vu_dev *dev;
	int mode;
	nmd_vu_tx_fn fn;		/* TB_SINK: instead of the copy */
	pthread_t proto, fwd;
	int stop;			/* eventfd: both threads end */
	int wake;			/* eventfd: changed hook wakes fwd */
	pthread_mutex_t dp;		/* held by fwd per session, by pause */
	pthread_mutex_t proto_lock;	/* around dispatch, for tb_info */
	_Atomic bool quit;
	_Atomic uint64_t pauses, frames, rx_fail;
	uint32_t src_len;		/* TB_SOURCE frame length */
	unsigned batch;			/* frames per session (0: NMD_VU_BURST) */
	char sink[NMD_VU_MAX_FRAME];	/* TB_SINK copies frames here */
	char src[NMD_VU_MAX_FRAME];
	int log_level;
};

static inline void tb_pause(void *arg)
{
	struct tb *t = arg;

	pthread_mutex_lock(&t->dp);
	atomic_fetch_add(&t->pauses, 1);
}

static inline void tb_resume(void *arg)
{
	struct tb *t = arg;

	pthread_mutex_unlock(&t->dp);
}

static inline void tb_changed(void *arg)
{
	struct tb *t = arg;
	uint64_t one = 1;

	if (write(t->wake, &one, sizeof(one)) < 0)
		VH_DIE("wake: %s", strerror(errno));
}

static inline void tb_log(void *arg, int level, const char *msg)
{
	struct tb *t = arg;

	(void)t;
	fprintf(stderr, "  backend[%d]: %s\n", level, msg);
}

static inline void tb_echo(void *arg, const struct nmd_vu_frame *f)
{
	struct tb *t = arg;
	struct iovec iov[UNM_VQ_MAX_SEGS];
	unsigned i;

	for (i = 0; i < f->nseg; i++) {
		iov[i].iov_base = f->seg[i].p;
		iov[i].iov_len = f->seg[i].len;
	}
	if (nmd_vu_rx_deliver_v(t->dev, iov, f->nseg) < 0)
		atomic_fetch_add_explicit(&t->rx_fail, 1, memory_order_relaxed);
}

static inline void tb_sink(void *arg, const struct nmd_vu_frame *f)
{
	struct tb *t = arg;

	nmd_vu_frame_copy(f, 0, t->sink, f->len);
}

static inline void *tb_proto_main(void *arg)
{
	struct tb *t = arg;
	struct pollfd p[2] = {
		{ .fd = nmd_vu_fd(t->dev), .events = POLLIN },
		{ .fd = t->stop, .events = POLLIN },
	};

	while (!atomic_load(&t->quit)) {
		if (poll(p, 2, 1000) < 0 && errno != EINTR)
			VH_DIE("poll: %s", strerror(errno));
		if (p[1].revents)
			break;
		pthread_mutex_lock(&t->proto_lock);
		nmd_vu_dispatch(t->dev);
		pthread_mutex_unlock(&t->proto_lock);
	}
	return NULL;
}

/* One session of the forwarding thread; returns the work done. */
static inline unsigned tb_round(struct tb *t)
{
	unsigned n = 0, i, b = t->batch ? t->batch : NMD_VU_BURST;

	switch (t->mode) {
	case TB_ECHO:
		n = nmd_vu_tx_burst(t->dev, tb_echo, t, NMD_VU_BURST);
		nmd_vu_rx_flush(t->dev);
		break;
	case TB_SINK:
		n = nmd_vu_tx_burst(t->dev, t->fn ? t->fn : tb_sink, t, b);
		if (t->fn)	/* it may answer */
			nmd_vu_rx_flush(t->dev);
		break;
	case TB_IDLE:
		break;
	case TB_SOURCE:
		for (i = 0; i < b; i++) {
			if (nmd_vu_rx_deliver(t->dev, t->src, t->src_len) < 0)
				break;
			n++;
		}
		nmd_vu_rx_flush(t->dev);
		break;
	}
	return n;
}

static inline void *tb_fwd_main(void *arg)
{
	struct tb *t = arg;
	unsigned wq = t->mode == TB_SOURCE ? NMD_VU_RXQ : NMD_VU_TXQ;
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);
	unsigned idle = 0;

	if (ep < 0)
		VH_DIE("epoll: %s", strerror(errno));
	ev.data.fd = nmd_vu_wait_fd(t->dev);
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = t->stop;
	epoll_ctl(ep, EPOLL_CTL_ADD, t->stop, &ev);
	ev.data.fd = t->wake;
	epoll_ctl(ep, EPOLL_CTL_ADD, t->wake, &ev);
	while (t->mode == TB_IDLE && !atomic_load(&t->quit)) {
		struct pollfd p = { .fd = t->stop, .events = POLLIN };

		poll(&p, 1, -1);
	}
	while (!atomic_load(&t->quit)) {
		struct epoll_event got[4];
		bool sleep_ok = false;
		unsigned n;
		int i, k;

		pthread_mutex_lock(&t->dp);
		n = tb_round(t);
		atomic_fetch_add_explicit(&t->frames, n, memory_order_relaxed);
		if (n) {
			idle = 0;
		} else if (++idle > 64) {
			/* a few empty rounds of polling, then ask for a kick and
			 * sleep unless work came meanwhile */
			sleep_ok = !nmd_vu_kick_enable(t->dev, wq);
		}
		pthread_mutex_unlock(&t->dp);
		if (!sleep_ok)
			continue;
		/* no timeout: a lost kick must stall the test, not slow it */
		k = epoll_wait(ep, got, 4, -1);
		for (i = 0; i < k; i++) {
			uint64_t v;

			if (got[i].data.fd == t->wake && read(t->wake, &v, sizeof(v)) < 0)
				VH_DIE("wake read");
		}
		pthread_mutex_lock(&t->dp);
		nmd_vu_kick_drain(t->dev);
		nmd_vu_kick_disable(t->dev, wq);
		pthread_mutex_unlock(&t->dp);
		idle = 0;
	}
	close(ep);
	return NULL;
}

/* Start a backend on path (server or client mode) or, path NULL, one
 * that gets its connection from tb_attach().  fn (TB_SINK): what to do
 * with each transmitted frame instead of copying it. */
static inline struct tb *tb_start_fn(const char *path, bool client, uint64_t features, int mode,
				     nmd_vu_tx_fn fn)
{
	static const struct nmd_vu_ops ops = {
		.pause = tb_pause, .resume = tb_resume, .changed = tb_changed, .log = tb_log,
	};
	struct tb *t = calloc(1, sizeof(*t));
	struct nmd_vu_config cfg = {
		.name = "test", .path = path, .client = client, .features = features,
		.backoff_min_ms = 20, .backoff_max_ms = 200, .ops = &ops,
	};
	int err;

	if (!t)
		VH_DIE("calloc");
	cfg.arg = t;
	t->mode = mode;
	t->fn = fn;
	/* VH_LOG=3 shows every message the backend handles */
	t->log_level = getenv("VH_LOG") ? atoi(getenv("VH_LOG")) : NMD_VU_LOG_WARN;
	cfg.log_level = &t->log_level;
	t->stop = eventfd(0, EFD_CLOEXEC);
	t->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&t->dp, NULL);
	pthread_mutex_init(&t->proto_lock, NULL);
	t->dev = nmd_vu_create(&cfg, &err);
	if (!t->dev)
		VH_DIE("nmd_vu_create: %s", strerror(-err));
	if (pthread_create(&t->proto, NULL, tb_proto_main, t) ||
	    pthread_create(&t->fwd, NULL, tb_fwd_main, t))
		VH_DIE("pthread_create");
	return t;
}

static inline struct tb *tb_start(const char *path, bool client, uint64_t features, int mode)
{
	return tb_start_fn(path, client, features, mode, NULL);
}

static inline void tb_attach(struct tb *t, int fd)
{
	int err;

	pthread_mutex_lock(&t->proto_lock);
	err = nmd_vu_attach(t->dev, fd);
	pthread_mutex_unlock(&t->proto_lock);
	if (err)
		VH_DIE("nmd_vu_attach: %s", strerror(-err));
}

static inline void tb_info(struct tb *t, struct nmd_vu_info *i)
{
	pthread_mutex_lock(&t->proto_lock);
	nmd_vu_info(t->dev, i);
	pthread_mutex_unlock(&t->proto_lock);
}

/* Wait until cond(info) holds, up to ms; returns whether it did. */
static inline bool tb_wait(struct tb *t, bool (*cond)(const struct nmd_vu_info *), int ms)
{
	struct nmd_vu_info i;
	uint64_t end = vh_now_ns() + (uint64_t)ms * 1000000ull;

	do {
		tb_info(t, &i);
		if (cond(&i))
			return true;
		usleep(2000);
	} while (vh_now_ns() < end);
	return false;
}

static inline bool running_both(const struct nmd_vu_info *i)
{
	return i->running[0] && i->running[1];
}

static inline bool disconnected(const struct nmd_vu_info *i)
{
	return !i->connected;
}

static inline bool stopped_both(const struct nmd_vu_info *i)
{
	return !i->running[0] && !i->running[1];
}

static inline void tb_stop(struct tb *t)
{
	uint64_t one = 1;

	atomic_store(&t->quit, true);
	if (write(t->stop, &one, sizeof(one)) < 0)
		VH_DIE("stop");
	pthread_join(t->fwd, NULL);
	pthread_join(t->proto, NULL);
	nmd_vu_destroy(t->dev);
	close(t->stop);
	close(t->wake);
	pthread_mutex_destroy(&t->dp);
	pthread_mutex_destroy(&t->proto_lock);
	free(t);
}

/* ================= checks and traffic for the tests ================= */

static unsigned fails __attribute__((unused)), checks __attribute__((unused));

#define CHECK(c, ...) do {						\
	checks++;							\
	if (!(c)) {							\
		fails++;						\
		fprintf(stderr, VH_PROG ":%d: [%s] FAIL: ", __LINE__, section);\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

static const char *section __attribute__((unused)) = "";

static const uint32_t lens[] __attribute__((unused)) = { 60, 61, 64, 100, 127, 128, 512, 1000, 1514, 1515, 1536,
				 2048, 3000, 4096, 5000, 8000, 8999, 9000 };
#define NLENS (sizeof(lens) / sizeof(lens[0]))

static inline void make_frame(uint8_t *f, uint32_t len, uint32_t seq)
{
	static const uint8_t hdr[14] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x88, 0xb5 };
	uint32_t i;

	memcpy(f, hdr, 14);
	memcpy(f + 14, &seq, 4);
	for (i = 18; i < len; i++)
		f[i] = (uint8_t)(seq * 31 + i);
}

struct shape {
	uint32_t rx_size;	/* receive buffer bytes */
	unsigned rx_ndesc;	/* in that many descriptors */
	unsigned window;	/* frames in flight */
};

/*
 * Send n frames (lengths from len_tab, cycling layouts) and check each
 * comes back exactly.  seq continues across calls.  With intr, the guest
 * sleeps on interrupts when nothing is there; without, it polls and the
 * interrupts are off.
 */
static inline void traffic(struct vg *g, const struct shape *sh, uint32_t n, const uint32_t *len_tab,
		    unsigned nlen, uint32_t *seq, bool intr)
{
	static uint8_t want[NMD_VU_MAX_FRAME], got[NMD_VU_MAX_FRAME];
	uint32_t sent = 0, recvd = 0, s0 = *seq;
	unsigned bad = 0;

	vg_intr(g, NMD_VU_RXQ, false);
	while (recvd < n && bad < 5) {
		unsigned k = 0;

		while (k < sh->window && sent < n) {
			uint32_t s = s0 + sent, len = len_tab[s % nlen];
			int layout = (int)(s % 4), nsplit = layout == 3 ? 7 : 3;
			bool ind = g->indirect && (s / 4) % 2;

			make_frame(want, len, s);
			if (vg_tx(g, want, len, layout == 3 ? VG_L_SPLIT : layout, (unsigned)nsplit,
				  ind) < 0)
				break;
			sent++;
			k++;
		}
		vg_publish(g, NMD_VU_TXQ);
		while (recvd < sent && bad < 5) {
			uint32_t s = s0 + recvd, len = len_tab[s % nlen];
			uint64_t end;
			int r = vg_rx_recv(g, got, sizeof(got));

			if (r < 0) {
				CHECK(0, "frame %u: the device broke the receive ring", s);
				bad = 5;
				break;
			}
			if (r > 0) {
				make_frame(want, len, s);
				if ((uint32_t)r != len || memcmp(got, want, len)) {
					uint32_t gs = 0;

					memcpy(&gs, got + 14, 4);
					CHECK(0, "frame %u: got %d bytes (seq %u), want %u", s, r, gs,
					      len);
					bad++;
				}
				recvd++;
				continue;
			}
			vg_publish(g, NMD_VU_RXQ);	/* the reposted buffers */
			if (!intr) {
				end = vh_now_ns() + 5000000000ull;
				while (__atomic_load_n(&g->q[NMD_VU_RXQ].used->idx, __ATOMIC_ACQUIRE) ==
				       g->q[NMD_VU_RXQ].last_used && vh_now_ns() < end)
					usleep(50);
				if (vh_now_ns() >= end) {
					CHECK(0, "frame %u: nothing for 5 s (polling)", s);
					bad = 5;
				}
				continue;
			}
			if (vg_intr(g, NMD_VU_RXQ, true))
				continue;
			if (!vg_wait_call(g, NMD_VU_RXQ, 5000)) {
				CHECK(0, "frame %u: no interrupt for 5 s (lost kick or interrupt)", s);
				bad = 5;
			}
			vg_intr(g, NMD_VU_RXQ, false);
		}
		vg_publish(g, NMD_VU_RXQ);
	}
	*seq = s0 + n;
}

/* Wait (on interrupts) for one frame and check it is frame seq of len. */
static inline void recv_expect(struct vg *g, uint32_t seq, uint32_t len)
{
	static uint8_t got[NMD_VU_MAX_FRAME], want[NMD_VU_MAX_FRAME];
	uint64_t end = vh_now_ns() + 5000000000ull;

	while (vh_now_ns() < end) {
		int n = vg_rx_recv(g, got, sizeof(got));

		if (n < 0)
			break;
		if (n == 0) {
			vg_publish(g, NMD_VU_RXQ);
			if (!vg_intr(g, NMD_VU_RXQ, true))
				vg_wait_call(g, NMD_VU_RXQ, 100);
			vg_intr(g, NMD_VU_RXQ, false);
			continue;
		}
		make_frame(want, len, seq);
		CHECK((uint32_t)n == len && !memcmp(got, want, len), "frame %u: %d bytes or content wrong",
		      seq, n);
		vg_publish(g, NMD_VU_RXQ);
		return;
	}
	CHECK(0, "frame %u never came back", seq);
}

#endif /* VU_HARNESS_H */

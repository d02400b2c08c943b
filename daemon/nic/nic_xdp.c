/*
 * nic_xdp.c - the AF_XDP side of netmap:IFNAME ports: the XDP program
 * (libxdp's AF_XDP redirect program, loaded and attached with libxdp),
 * one socket per interface queue with its UMEM on the port's region, and
 * the choice of mode.
 *
 * Mode choice (what is tried, in order, unless forced):
 *   attach  native (XDP in the driver), else generic (skb XDP);
 *   bind    zero copy where the driver has it (native only), else copy.
 * Forced choices (NR_UNM_NIC_* from @conf:nic= or --nic-mode) fail with
 * the kernel's errno instead of falling back.
 *
 * Receive placement.  The kernel writes a frame XDP_PACKET_HEADROOM bytes
 * after the address it took from the fill ring; netmap applications
 * expect it at the start of the buffer.  In copy mode the UMEM uses
 * unaligned chunks and buffer b is posted as b * buf_size - 256: the frame
 * lands exactly at b, at no cost, and the 256 bytes before it (the end of
 * buffer b - 1) are never written (no XDP metadata: the program sets
 * none).  Zero-copy drivers need chunks that do not cross pages unless
 * their DMA pages are contiguous, which memfd pages are not guaranteed to
 * be, so zero copy uses aligned chunks and rxsync moves each frame to the
 * start of its buffer (one short memmove; see docs/design.md).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "nic.h"

/* newer than Debian 12's kernel headers */
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4)
#endif
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9
#endif

#define XSK_PROG_FILE "xsk_def_xdp_prog.o"

/* the last message libxdp or libbpf printed, for our own error messages */
static char lib_msg[256];

static void lib_log(const char *who, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	snprintf(lib_msg, sizeof(lib_msg), "%.*s", (int)sizeof(lib_msg) - 1, buf);
	nmd_debug("%s: %s", who, buf);
}

static int xdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	lib_log("libxdp", fmt, ap);
	return 0;
}

static int bpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	lib_log("libbpf", fmt, ap);
	return 0;
}

void nic_xdp_init(void)
{
	/*
	 * libxdp's multi-program dispatcher keeps its state in bpffs under
	 * names made of the ifindex, which collide between network
	 * namespaces (and bpffs is often not mounted).  A netmap port owns
	 * its interface anyway: one program per interface, attached alone.
	 */
	setenv("LIBXDP_SKIP_DISPATCHER", "1", 0);
	libxdp_set_print(xdp_print);
	libbpf_set_print(bpf_print);
}

static uint32_t pow2_ge(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static const char *attach_name(enum xdp_attach_mode m)
{
	return m == XDP_MODE_NATIVE ? "native" : m == XDP_MODE_SKB ? "generic" : "?";
}

/* Load libxdp's redirect program and attach it in `mode`.  -errno. */
static int prog_attach(struct nic_port *np, enum xdp_attach_mode mode)
{
	struct xdp_program *prog;
	struct bpf_map *map;
	int err;

	lib_msg[0] = '\0';
	prog = xdp_program__find_file(XSK_PROG_FILE, "xdp", NULL);
	err = (int)libxdp_get_error(prog);
	if (err || !prog)
		return err ? err : -ENOENT;
	map = bpf_object__find_map_by_name(xdp_program__bpf_obj(prog), "xsks_map");
	if (!map) {
		xdp_program__close(prog);
		return -ENOENT;
	}
	/* one entry per queue; the program passes queues without one */
	bpf_map__set_max_entries(map, np->nq);
	err = xdp_program__attach(prog, np->ifindex, mode, 0);
	if (err) {
		xdp_program__close(prog);
		return err < 0 ? err : -EINVAL;
	}
	np->map_fd = bpf_map__fd(map);
	np->prog = prog;
	np->attach_mode = mode;
	return 0;
}

static void prog_detach(struct nic_port *np)
{
	int err;

	if (!np->prog)
		return;
	err = xdp_program__detach(np->prog, np->ifindex, (enum xdp_attach_mode)np->attach_mode, 0);
	/* a deleted interface took its program along */
	if (err && !np->gone)
		nmd_warn("%s: cannot detach the XDP program: %s", np->ifname, strerror(-err));
	xdp_program__close(np->prog);
	np->prog = NULL;
	np->map_fd = -1;
}

/* Give queue q its spare receive buffers (struct nic_queue): an array
 * of their indices in the region.  Freed with the port (spares_free). */
static int spares_alloc(struct nic_port *np, struct nic_queue *q)
{
	struct nmd_port *p = &np->port;
	uint32_t *spare, k;

	if (!q->spare_n || q->spare_ofs)
		return 0;
	q->spare_ofs = nmd_region_alloc_ring(p->rg, (size_t)q->spare_n * sizeof(uint32_t));
	if (!q->spare_ofs)
		return -ENOMEM;
	spare = (uint32_t *)(void *)(p->rg->base + q->spare_ofs);
	/* an earlier ring object may have left indices here */
	memset(spare, 0, (size_t)q->spare_n * sizeof(uint32_t));
	for (k = 0; k < q->spare_n; k++) {
		spare[k] = nmd_region_alloc_buf(p->rg);
		if (!spare[k])
			return -ENOMEM;	/* freed with the port */
	}
	return 0;
}

/*
 * Give RX queue qid its spare buffers (struct nic_queue), then post them
 * and the buffers of the RX ring's slots [0, n - 1) to the socket's fill
 * ring (the kernel owns those slots: netmap keeps one slot empty).  The
 * spares go first: the kernel takes fill entries in order, and the
 * library's rxsync expects the oldest posted buffers in the spare array
 * (lib/sync_xdp.c).
 */
static int prefill(struct nic_port *np, int fd, uint32_t qid, struct nic_queue *q)
{
	struct nmd_port *p = &np->port;
	struct nmd_ring *r = &p->ring[UNM_DIR_RX][qid];
	struct netmap_ring *ring = nmd_ring_ptr(p, r);
	struct xdp_mmap_offsets off;
	socklen_t ol = sizeof(off);
	_Atomic uint32_t *prod;
	uint32_t *spare = NULL;
	uint64_t *addr;
	size_t len;
	uint32_t k, pos = 0;
	char *m;
	int err;

	err = spares_alloc(np, q);
	if (err)
		return err;
	if (q->spare_n)
		spare = (uint32_t *)(void *)(p->rg->base + q->spare_ofs);
	if (getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &ol) < 0)
		return -errno;
	len = off.fr.desc + (size_t)q->rx_entries * sizeof(uint64_t);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
		 XDP_UMEM_PGOFF_FILL_RING);
	if (m == MAP_FAILED)
		return -errno;
	prod = (_Atomic uint32_t *)(void *)(m + off.fr.producer);
	addr = (uint64_t *)(void *)(m + off.fr.desc);
	for (k = 0; k < q->spare_n; k++)
		addr[pos++] = (uint64_t)spare[k] * p->rg->buf_size - np->rx_back;
	for (k = 0; k + 1 < r->nslots; k++)
		addr[pos++] = (uint64_t)ring->slot[k].buf_idx * p->rg->buf_size - np->rx_back;
	/* R: publishes the addresses to the kernel's fill-ring consumer */
	atomic_store_explicit(prod, pos, memory_order_release);
	munmap(m, len);
	return 0;
}

/* Give back queue q's spare buffers, whichever indices the binders left
 * in the array (shared memory: each is read once; freeing validates it
 * and ignores a buffer that is not in use).  The socket is closed. */
static void spares_free(struct nic_port *np, struct nic_queue *q)
{
	struct nmd_region *rg = np->port.rg;
	const _Atomic uint32_t *spare;
	uint32_t k;

	if (!q->spare_ofs)
		return;
	spare = (const _Atomic uint32_t *)(const void *)(rg->base + q->spare_ofs);
	for (k = 0; k < q->spare_n; k++)
		nmd_region_free_buf(rg, atomic_load_explicit(&spare[k], memory_order_relaxed));
	nmd_region_free_ring(rg, q->spare_ofs, (size_t)q->spare_n * sizeof(uint32_t));
	q->spare_ofs = 0;
}

/*
 * One attempt at a socket for queue qid: UMEM (own or shared), rings,
 * bind.  Returns the socket or -errno.  A failed bind leaves a socket
 * without its fill and completion rings, so every attempt starts afresh.
 */
static int xsk_try(struct nic_port *np, uint32_t qid, const struct nic_queue *q,
		   int share_fd, uint16_t flags)
{
	struct nmd_region *rg = np->port.rg;
	struct sockaddr_xdp sa;
	uint32_t n;
	int fd, err;

	fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (share_fd < 0) {
		struct xdp_umem_reg ur = {
			.addr = (uint64_t)(uintptr_t)(rg->base + rg->buf_ofs),
			.len = (uint64_t)rg->buf_total * rg->buf_size,
			.chunk_size = rg->buf_size,
			.headroom = 0,
			.flags = q->umem == NIC_UMEM_COPY ? XDP_UMEM_UNALIGNED_CHUNK_FLAG : 0,
		};

		if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &ur, sizeof(ur)) < 0)
			goto fail;
	}
	n = q->rx_entries;
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &n, sizeof(n)) < 0 ||
	    setsockopt(fd, SOL_XDP, XDP_RX_RING, &n, sizeof(n)) < 0)
		goto fail;
	n = q->tx_entries;
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &n, sizeof(n)) < 0 ||
	    setsockopt(fd, SOL_XDP, XDP_TX_RING, &n, sizeof(n)) < 0)
		goto fail;
	memset(&sa, 0, sizeof(sa));
	sa.sxdp_family = AF_XDP;
	sa.sxdp_ifindex = (uint32_t)np->ifindex;
	sa.sxdp_queue_id = qid;
	if (share_fd >= 0) {
		/* a sharing socket inherits every flag from the UMEM's owner */
		sa.sxdp_flags = XDP_SHARED_UMEM;
		sa.sxdp_shared_umem_fd = (uint32_t)share_fd;
	} else {
		sa.sxdp_flags = flags;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * A bound socket of the region whose UMEM has flavour k, to share; -1 if
 * none.  The port's own queues come first (same device, other queue).
 */
static int find_share(const struct nic_port *np, uint32_t upto, enum nic_umem_kind k)
{
	uint32_t i;

	for (i = 0; i < upto; i++)
		if (np->q[i].xsk >= 0 && np->q[i].umem == k)
			return np->q[i].xsk;
	return nic_region_umem_fd(np->nr, np, k);
}

/*
 * Open queue qid's socket with UMEM flavour q->umem.  Shares the region's
 * UMEM when a socket of the same flavour exists; if the kernel refuses,
 * registers an own UMEM over the same buffers.  A queue that a socket
 * closed a moment ago is released by the kernel asynchronously: EBUSY is
 * retried for a while.
 */
static int queue_open(struct nic_port *np, uint32_t qid, struct nic_queue *q)
{
	uint16_t flags = (q->umem == NIC_UMEM_ZC ? XDP_ZEROCOPY : XDP_COPY) |
			 XDP_USE_NEED_WAKEUP | XDP_USE_SG;
	int share = find_share(np, qid, q->umem), fd, tries = 0;

	for (;;) {
		fd = xsk_try(np, qid, q, share, flags);
		if (fd >= 0)
			break;
		if (fd == -EBUSY && tries++ < 200) {
			sleep_ms(10);
			continue;
		}
		if (fd == -EINVAL && share < 0 && (flags & XDP_USE_SG)) {
			/* kernels before 6.6 know no XDP_USE_SG */
			flags &= (uint16_t)~XDP_USE_SG;
			continue;
		}
		if (share >= 0) {
			nmd_info("%s queue %u: XDP_SHARED_UMEM refused (%s); registering "
				 "a second UMEM over the same buffers", np->ifname, qid,
				 strerror(-fd));
			share = -1;
			continue;
		}
		return fd;
	}
	q->xsk = fd;
	if (share < 0 && qid == 0) {
		np->nic_flags |= UNM_NIC_F_NEED_WAKEUP;
		if (flags & XDP_USE_SG)
			np->nic_flags |= UNM_NIC_F_SG;
	}
	{
		struct xdp_options o;
		socklen_t ol = sizeof(o);

		q->zc = getsockopt(fd, SOL_XDP, XDP_OPTIONS, &o, &ol) == 0 &&
			(o.flags & XDP_OPTIONS_ZEROCOPY);
	}
	if (!q->zc) {
		/* copy mode: one sendto() moves a whole ring's worth of
		 * frames instead of 32 (kernels >= 6.17; else ignored) */
		uint32_t budget = q->tx_entries;

		if (setsockopt(fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget, sizeof(budget)) < 0)
			nmd_debug("%s queue %u: no XDP_MAX_TX_SKB_BUDGET: %s", np->ifname, qid,
				  strerror(errno));
	}
	return 0;
}

void nic_xdp_stats(const struct nic_port *np, struct unm_nic_info *ni)
{
	uint32_t i;

	for (i = 0; np->q && i < np->nq; i++) {
		struct xdp_statistics st;
		socklen_t sl = sizeof(st);

		if (np->q[i].xsk < 0)
			continue;
		memset(&st, 0, sizeof(st));
		if (getsockopt(np->q[i].xsk, SOL_XDP, XDP_STATISTICS, &st, &sl) < 0)
			continue;
		/* with the whole struct asked for, rx_dropped leaves out
		 * the frames that found the RX ring full */
		ni->rx_drops += st.rx_dropped + st.rx_ring_full;
		ni->rx_ring_full += st.rx_ring_full;
		ni->rx_fill_empty += st.rx_fill_ring_empty_descs;
		ni->rx_invalid += st.rx_invalid_descs;
		ni->tx_invalid += st.tx_invalid_descs;
	}
}

static void queues_close(struct nic_port *np)
{
	uint32_t i;

	if (!np->q)
		return;
	for (i = 0; i < np->nq; i++) {
		if (np->q[i].xsk >= 0)
			close(np->q[i].xsk);
		np->q[i].xsk = -1;
	}
}

/* All queues with UMEM flavour k.  On failure, none is left open. */
static int queues_open(struct nic_port *np, enum nic_umem_kind k)
{
	uint32_t i;
	int err;

	np->nic_flags = k == NIC_UMEM_COPY ? UNM_NIC_F_UNALIGNED : 0;
	np->rx_back = k == NIC_UMEM_COPY ? XDP_PACKET_HEADROOM : 0;
	for (i = 0; i < np->nq; i++) {
		np->q[i].umem = k;
		err = queue_open(np, i, &np->q[i]);
		if (err) {
			queues_close(np);
			return err;
		}
		if (np->q[i].zc != (k == NIC_UMEM_ZC)) {
			/* a shared UMEM keeps its owner's mode */
			queues_close(np);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/* msg = "ifname: what: error", with libxdp's own words for the attach */
static void set_msg(char *msg, size_t msglen, const char *ifname, const char *what, int err)
{
	if (lib_msg[0] && strstr(what, "XDP") && !strstr(what, "AF_XDP"))
		snprintf(msg, msglen, "%s: %s: %s (%s)", ifname, what, strerror(-err), lib_msg);
	else
		snprintf(msg, msglen, "%s: %s: %s", ifname, what, strerror(-err));
}

static void queues_init(struct nic_port *np)
{
	uint32_t i;

	for (i = 0; i < np->nq; i++) {
		np->q[i].xsk = -1;
		np->q[i].tx_entries = pow2_ge(np->nslots);
		np->q[i].spare_n = nic_rx_spares(np->nslots, np->nq);
		/* room for every buffer the kernel may hold at once */
		np->q[i].rx_entries = pow2_ge(np->nslots + np->q[i].spare_n);
	}
}

int nic_xdp_setup(struct nic_port *np, uint64_t want, char *msg, size_t msglen)
{
	uint64_t attach = want & (NR_UNM_NIC_NATIVE | NR_UNM_NIC_GENERIC);
	uint64_t bindm = want & (NR_UNM_NIC_ZEROCOPY | NR_UNM_NIC_COPY);
	int err = 0;

	np->q = calloc(np->nq, sizeof(*np->q));
	if (!np->q)
		return -ENOMEM;
	queues_init(np);
	np->map_fd = -1;

	if (attach != NR_UNM_NIC_GENERIC) {
		err = prog_attach(np, XDP_MODE_NATIVE);
		if (err && attach == NR_UNM_NIC_NATIVE) {
			set_msg(msg, msglen, np->ifname, "native XDP", err);
			goto fail;
		}
		if (err)
			nmd_debug("%s: native XDP: %s", np->ifname, strerror(-err));
	}
	if (!np->prog) {
		err = prog_attach(np, XDP_MODE_SKB);
		if (err) {
			set_msg(msg, msglen, np->ifname, "generic XDP", err);
			goto fail;
		}
	}

	err = -EOPNOTSUPP;
	if (np->attach_mode == XDP_MODE_NATIVE && bindm != NR_UNM_NIC_COPY) {
		err = queues_open(np, NIC_UMEM_ZC);
		if (err && bindm == NR_UNM_NIC_ZEROCOPY) {
			set_msg(msg, msglen, np->ifname, "AF_XDP zero copy", err);
			goto fail;
		}
		if (err)
			nmd_debug("%s: zero copy: %s", np->ifname, strerror(-err));
	}
	if (err) {
		if (bindm == NR_UNM_NIC_ZEROCOPY) {
			snprintf(msg, msglen, "%s: AF_XDP zero copy needs native XDP", np->ifname);
			err = -EOPNOTSUPP;
			goto fail;
		}
		err = queues_open(np, NIC_UMEM_COPY);
		if (err) {
			set_msg(msg, msglen, np->ifname, "AF_XDP socket", err);
			goto fail;
		}
	}
	np->mode = (np->attach_mode == XDP_MODE_NATIVE ? NR_UNM_NIC_NATIVE : NR_UNM_NIC_GENERIC) |
		   (np->q[0].zc ? NR_UNM_NIC_ZEROCOPY : NR_UNM_NIC_COPY);
	nmd_debug("%s: %s XDP, %u queue(s), %s", np->ifname, attach_name(np->attach_mode),
		  np->nq, np->q[0].zc ? "zero copy" : "copy mode");
	return 0;
fail:
	nic_xdp_teardown(np);
	return err;
}

int nic_xdp_start(struct nic_port *np, char *msg, size_t msglen)
{
	uint32_t i;
	int err;

	for (i = 0; i < np->nq; i++) {
		uint32_t key = i;
		int fd = np->q[i].xsk;

		err = prefill(np, fd, i, &np->q[i]);
		if (err) {
			set_msg(msg, msglen, np->ifname, "fill ring", err);
			return err;
		}
		/* from here on queue i's traffic comes to the socket */
		if (bpf_map_update_elem(np->map_fd, &key, &fd, 0) < 0) {
			err = -errno;
			set_msg(msg, msglen, np->ifname, "XSK map", err);
			return err;
		}
	}
	return 0;
}

void nic_xdp_suspend(struct nic_port *np)
{
	/* the program first: nothing is redirected to the sockets any more;
	 * the binders' last close of each socket waits for the grace period
	 * after which the kernel writes none of its buffers (xsk_release) */
	prog_detach(np);
	queues_close(np);
}

int nic_xdp_resume(struct nic_port *np, char *msg, size_t msglen)
{
	enum nic_umem_kind k = NIC_UMEM_COPY;
	uint32_t i;
	int err;

	if (!np->q) {
		/* a port created linked: never had sockets */
		np->q = calloc(np->nq, sizeof(*np->q));
		if (!np->q)
			return -ENOMEM;
		queues_init(np);
	} else if (np->q[0].umem == NIC_UMEM_ZC) {
		k = NIC_UMEM_ZC;
	}
	for (i = 0; i < np->nq; i++) {
		err = spares_alloc(np, &np->q[i]);
		if (err) {
			set_msg(msg, msglen, np->ifname, "spare buffers", err);
			return err;
		}
	}
	err = prog_attach(np, XDP_MODE_NATIVE);
	if (err)
		err = prog_attach(np, XDP_MODE_SKB);
	if (err) {
		set_msg(msg, msglen, np->ifname, "XDP program", err);
		return err;
	}
	if (np->attach_mode != XDP_MODE_NATIVE)
		k = NIC_UMEM_COPY;
	err = queues_open(np, k);
	if (err && k == NIC_UMEM_ZC)
		err = queues_open(np, k = NIC_UMEM_COPY);
	if (err) {
		set_msg(msg, msglen, np->ifname, "AF_XDP socket", err);
		prog_detach(np);
		return err;
	}
	np->mode = (np->attach_mode == XDP_MODE_NATIVE ? NR_UNM_NIC_NATIVE : NR_UNM_NIC_GENERIC) |
		   (np->q[0].zc ? NR_UNM_NIC_ZEROCOPY : NR_UNM_NIC_COPY);
	for (i = 0; i < np->nq; i++) {
		uint32_t key = i;
		int fd = np->q[i].xsk;

		/* the fill ring is empty until the ring's binders post to it:
		 * what comes meanwhile is dropped and counted by the kernel
		 * (rx_fill_empty; common/unm_veth.h) */
		if (bpf_map_update_elem(np->map_fd, &key, &fd, 0) < 0) {
			err = -errno;
			set_msg(msg, msglen, np->ifname, "XSK map", err);
			queues_close(np);
			prog_detach(np);
			return err;
		}
	}
	return 0;
}

void nic_xdp_teardown(struct nic_port *np)
{
	uint32_t i;

	/* the program first: the kernel stack gets the traffic back */
	prog_detach(np);
	queues_close(np);
	for (i = 0; np->q && i < np->nq; i++)
		spares_free(np, &np->q[i]);
	free(np->q);
	np->q = NULL;
}

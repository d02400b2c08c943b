/*
 * xsk_bench - the raw AF_XDP yardstick for bench/xdp.sh.
 *
 * Test objective: what a minimal, well-behaved AF_XDP program written
 * directly against libxdp gets out of a veth pair, measured in the same
 * run as unetmap's pkt-gen on netmap:IFNAME (which runs on the same kind
 * of sockets through netmapd and libnetmap).
 *
 *   xsk_bench tx -i IFNAME [-l LEN] [-b BATCH] [-d SECONDS] [-m MODE]
 *       one AF_XDP socket on queue 0 (copy mode, need_wakeup), BATCH
 *       descriptors of one prebuilt frame per round, sendto() kick,
 *       completions reaped every round.  No XDP program: TX needs none.
 *
 *   xsk_bench rx -i IFNAME [-d SECONDS] [-w WARMUP_MS] [-t TIMEOUT_S] [-m MODE] [-P]
 *       one AF_XDP socket on queue 0 with libxdp's default redirect program
 *       attached (MODE native or generic), busy polling the RX ring (-P:
 *       sleeping in poll() when it is empty, as a netmap application does)
 *       and refilling the fill ring.  Waits for the first packet, lets
 *       WARMUP_MS go by, then counts for SECONDS.
 *
 * Both use copy mode and set XDP_MAX_TX_SKB_BUDGET to the ring size where
 * the kernel has it (-B N: N instead, 0: the kernel's 32), as netmapd
 * does.  -U: unaligned chunks with frames landing at the chunk start, as
 * netmapd lays out its UMEM in copy mode.
 *
 * Output (stdout, one line, parsed by bench/xdp.sh):
 *   xsk_bench tx: sent N packets in S s: R Mpps
 *   xsk_bench rx: received N packets in S s: R Mpps (mode M)
 *
 * Exit status: 0 on success, 1 on a usage or setup error, 2 if rx saw no
 * packet before its timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <xdp/xsk.h>

#define XB_FRAMES     4096u
#define XB_FRAME_SIZE 2048u
#define XB_RING       2048u
#define XB_MAX_BATCH  1024u

#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9
#endif

static volatile sig_atomic_t xb_stop;

static void xb_on_signal(int sig)
{
	(void)sig;
	xb_stop = 1;
}

static double xb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void xb_usage(void)
{
	fprintf(stderr,
		"usage: xsk_bench tx -i IFNAME [-l LEN] [-b BATCH] [-d SECONDS] [-m native|generic]\n"
		"                    [-B BUDGET] [-U]\n"
		"       xsk_bench rx -i IFNAME [-d SECONDS] [-w WARMUP_MS] [-t TIMEOUT_S]\n"
		"                    [-m native|generic] [-U] [-P]\n");
}

/* An Ethernet/IPv4/UDP frame like pkt-gen's, to a foreign unicast MAC. */
static void xb_frame(uint8_t *f, unsigned len)
{
	static const uint8_t hdr[] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02,	/* dst */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01,	/* src */
		0x08, 0x00,
		0x45, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		0x00, 0x00, 198, 18, 0, 1, 198, 19, 0, 1,
		0x04, 0xd2, 0x04, 0xd2, 0x00, 0x1a, 0x00, 0x00,
	};
	unsigned i;

	memset(f, 0, len);
	memcpy(f, hdr, sizeof(hdr) < len ? sizeof(hdr) : len);
	for (i = sizeof(hdr); i < len; i++)
		f[i] = (uint8_t)i;
}

struct xb {
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq, tx;
	struct xsk_ring_cons cq, rx;
};

static unsigned xb_budget = XB_RING;	/* -B: XDP_MAX_TX_SKB_BUDGET, 0 = kernel default */
static bool xb_unaligned;		/* -U: unaligned chunks, frames at the chunk start
					 * (what netmapd does in copy mode) */
static bool xb_poll;			/* -P: rx sleeps in poll() when the ring is empty */

static int xb_open(struct xb *b, const char *ifname, bool rx, uint32_t xdp_flags)
{
	struct xsk_umem_config uc = {
		.fill_size = XB_RING, .comp_size = XB_RING,
		.frame_size = XB_FRAME_SIZE, .frame_headroom = 0,
		.flags = xb_unaligned ? XDP_UMEM_UNALIGNED_CHUNK_FLAG : 0,
	};
	struct xsk_socket_config sc = {
		.rx_size = XB_RING, .tx_size = XB_RING,
		.libxdp_flags = rx ? 0 : XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = xdp_flags,
		.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
	};
	size_t size = (size_t)XB_FRAMES * XB_FRAME_SIZE;
	unsigned budget = xb_budget;
	int err, tries;

	b->area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->area == MAP_FAILED) {
		perror("xsk_bench: mmap");
		return -1;
	}
	err = xsk_umem__create(&b->umem, b->area, size, &b->fq, &b->cq, &uc);
	if (err) {
		fprintf(stderr, "xsk_bench: xsk_umem__create: %s\n", strerror(-err));
		return -1;
	}
	/* a socket closed on this queue a moment ago is released by the
	 * kernel asynchronously: EBUSY for a little while */
	for (tries = 0; tries < 200; tries++) {
		err = xsk_socket__create(&b->xsk, ifname, 0, b->umem, rx ? &b->rx : NULL,
					 rx ? NULL : &b->tx, &sc);
		if (err != -EBUSY)
			break;
		usleep(10000);
	}
	if (err) {
		fprintf(stderr, "xsk_bench: xsk_socket__create(%s): %s\n", ifname, strerror(-err));
		return -1;
	}
	if (!rx && budget && setsockopt(xsk_socket__fd(b->xsk), SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget,
			      sizeof(budget)) < 0)
		fprintf(stderr, "xsk_bench: no XDP_MAX_TX_SKB_BUDGET: %s\n", strerror(errno));
	return 0;
}

static void xb_close(struct xb *b)
{
	if (b->xsk)
		xsk_socket__delete(b->xsk);
	if (b->umem)
		xsk_umem__delete(b->umem);
}

static int xb_tx(const char *ifname, unsigned len, unsigned batch, double secs, uint32_t xf)
{
	struct xb b;
	uint64_t sent = 0, inflight = 0;
	uint32_t i, idx, next = 0;
	double t0, t1;

	memset(&b, 0, sizeof(b));
	if (xb_open(&b, ifname, false, xf) < 0)
		return 1;
	for (i = 0; i < XB_FRAMES; i++)
		xb_frame((uint8_t *)b.area + (size_t)i * XB_FRAME_SIZE, len);
	t0 = xb_now();
	while (!xb_stop && xb_now() - t0 < secs) {
		uint32_t n = XB_RING - (uint32_t)inflight, done;

		if (n > batch)
			n = batch;
		if (n && xsk_ring_prod__reserve(&b.tx, n, &idx) == n) {
			for (i = 0; i < n; i++) {
				struct xdp_desc *d = xsk_ring_prod__tx_desc(&b.tx, idx + i);

				d->addr = (uint64_t)(next++ % XB_FRAMES) * XB_FRAME_SIZE;
				d->len = len;
				d->options = 0;
			}
			xsk_ring_prod__submit(&b.tx, n);
			inflight += n;
		}
		if (xsk_ring_prod__needs_wakeup(&b.tx))
			sendto(xsk_socket__fd(b.xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
		done = xsk_ring_cons__peek(&b.cq, XB_RING, &idx);
		if (done) {
			xsk_ring_cons__release(&b.cq, done);
			inflight -= done;
			sent += done;
		}
	}
	t1 = xb_now();
	printf("xsk_bench tx: sent %llu packets in %.3f s: %.3f Mpps\n",
	       (unsigned long long)sent, t1 - t0, (double)sent / (t1 - t0) / 1e6);
	xb_close(&b);
	return 0;
}

static int xb_rx(const char *ifname, double secs, unsigned warm_ms, double timeout,
		 uint32_t xf, const char *mode)
{
	struct xb b;
	uint64_t count = 0;
	uint32_t idx, i;
	double t0, start = 0, end = 0;
	int phase = 0;	/* 0 waiting, 1 warm-up, 2 counting */

	memset(&b, 0, sizeof(b));
	if (xb_open(&b, ifname, true, xf) < 0)
		return 1;
	if (xsk_ring_prod__reserve(&b.fq, XB_RING, &idx) != XB_RING) {
		fprintf(stderr, "xsk_bench: fill ring\n");
		return 1;
	}
	/* unaligned: post chunk - 256 so that the frame lands at the chunk */
	for (i = 0; i < XB_RING; i++)
		*xsk_ring_prod__fill_addr(&b.fq, idx + i) = (uint64_t)(i + 1) * XB_FRAME_SIZE -
							     (xb_unaligned ? XDP_PACKET_HEADROOM : 0);
	xsk_ring_prod__submit(&b.fq, XB_RING);
	t0 = xb_now();
	while (!xb_stop) {
		uint32_t n = xsk_ring_cons__peek(&b.rx, 256, &idx), fidx;
		double now;

		if (n) {
			/* give the buffers straight back */
			while (xsk_ring_prod__reserve(&b.fq, n, &fidx) != n)
				;
			for (i = 0; i < n; i++) {
				const struct xdp_desc *d = xsk_ring_cons__rx_desc(&b.rx, idx + i);

				*xsk_ring_prod__fill_addr(&b.fq, fidx + i) =
					xsk_umem__extract_addr(d->addr);
			}
			xsk_ring_prod__submit(&b.fq, n);
			xsk_ring_cons__release(&b.rx, n);
			if (phase == 2)
				count += n;
		} else if (xb_poll) {
			struct pollfd p = { .fd = xsk_socket__fd(b.xsk), .events = POLLIN };

			poll(&p, 1, 100);
		} else if (xsk_ring_prod__needs_wakeup(&b.fq)) {
			recvfrom(xsk_socket__fd(b.xsk), NULL, 0, MSG_DONTWAIT, NULL, NULL);
		} else {
			/* an empty ring: do not hammer the line the kernel
			 * writes on the other core */
			__builtin_ia32_pause();
		}
		now = xb_now();
		if (phase == 0) {
			if (n) {
				phase = 1;
				start = now + warm_ms / 1000.0;
			} else if (now - t0 > timeout) {
				fprintf(stderr, "xsk_bench rx: no packet in %.0f s\n", timeout);
				xb_close(&b);
				return 2;
			}
		} else if (phase == 1 && now >= start) {
			phase = 2;
			start = now;
		} else if (phase == 2 && now - start >= secs) {
			end = now;
			break;
		}
	}
	if (!end)
		end = xb_now();
	printf("xsk_bench rx: received %llu packets in %.3f s: %.3f Mpps (mode %s)\n",
	       (unsigned long long)count, end - start, (double)count / (end - start) / 1e6, mode);
	xb_close(&b);
	return 0;
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *mode = "native";
	unsigned len = 60, batch = 512, warm = 200;
	double secs = 5, timeout = 10;
	uint32_t xf;
	int c;

	if (argc < 2 || (strcmp(argv[1], "tx") && strcmp(argv[1], "rx"))) {
		xb_usage();
		return 1;
	}
	optind = 2;
	while ((c = getopt(argc, argv, "i:l:b:d:w:t:m:B:UP")) != -1) {
		switch (c) {
		case 'i': ifname = optarg; break;
		case 'l': len = (unsigned)atoi(optarg); break;
		case 'b': batch = (unsigned)atoi(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'w': warm = (unsigned)atoi(optarg); break;
		case 't': timeout = atof(optarg); break;
		case 'm': mode = optarg; break;
		case 'B': xb_budget = (unsigned)atoi(optarg); break;
		case 'U': xb_unaligned = true; break;
		case 'P': xb_poll = true; break;
		default: xb_usage(); return 1;
		}
	}
	if (!ifname || len < 60 || len > 1514 || batch < 1 || batch > XB_MAX_BATCH ||
	    secs <= 0 || (strcmp(mode, "native") && strcmp(mode, "generic"))) {
		xb_usage();
		return 1;
	}
	xf = strcmp(mode, "native") == 0 ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
	signal(SIGINT, xb_on_signal);
	signal(SIGTERM, xb_on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argv[1][0] == 't')
		return xb_tx(ifname, len, batch, secs, xf);
	return xb_rx(ifname, secs, warm, timeout, xf, mode);
}

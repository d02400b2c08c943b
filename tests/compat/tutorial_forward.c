/*
 * tutorial_forward - forward packets both ways between two netmap ports.
 *
 * Written the way the netmap tutorial's forwarding programs are written:
 * the legacy API (NETMAP_WITH_LIBS, nm_open, struct nm_desc), poll() on
 * both descriptors, and zero copy by swapping buffer indices (with
 * NS_BUF_CHANGED) when the two ports share a memory region, which is when
 * the second port, opened with NM_OPEN_NO_MMAP and the first as parent,
 * ends up with the same mapping (a->mem == b->mem).  Otherwise packets
 * are copied.
 *
 *	tutorial_forward -i netmap:p}1 -i netmap:p{2 [-c] [-n COUNT] [-v]
 *
 *	-i PORT		a port (give two)
 *	-c		copy even when zero copy is possible
 *	-n COUNT	stop after forwarding COUNT packets (default: run
 *			until a signal, or until both peers have gone away)
 *	-v		report each poll wakeup on stderr
 *
 * Prints "zerocopy enabled" or "zerocopy disabled" when it starts and
 * "forwarded N packets (a->b N, b->a N), N buffers swapped" when it stops.
 * Exit status 0, or 1 on a usage or open error.
 *
 * Part of unetmap's compatibility tests: it is built against the
 * installed headers with nothing but `pkg-config --cflags --libs
 * libnetmap`.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <net/netmap.h>
#define NETMAP_WITH_LIBS
#include <net/netmap_user.h>

static volatile sig_atomic_t do_abort;

static void
sigint_h(int sig)
{
	(void)sig;
	do_abort = 1;
}

struct fwd_stats {
	unsigned long long pkts;	/* complete packets */
	unsigned long long slots;
	unsigned long long swapped;	/* buffers exchanged (zero copy) */
};

/* slots received on any bound RX ring of d */
static unsigned int
rx_ready(struct nm_desc *d)
{
	unsigned int ri, tot = 0;

	for (ri = d->first_rx_ring; ri <= d->last_rx_ring; ri++)
		tot += nm_ring_space(NETMAP_RXRING(d->nifp, ri));
	return tot;
}

/* Move up to `limit` slots from rxring to txring. */
static unsigned int
move_slots(struct netmap_ring *rxring, struct netmap_ring *txring,
	   unsigned int limit, int zerocopy, struct fwd_stats *st)
{
	unsigned int j = rxring->head, k = txring->head, m = 0;
	unsigned int space = nm_ring_space(txring);

	if (limit > space)
		limit = space;
	for (; m < limit; m++) {
		struct netmap_slot *rs = &rxring->slot[j];
		struct netmap_slot *ts = &txring->slot[k];

		if (zerocopy) {
			uint32_t idx = ts->buf_idx;

			ts->buf_idx = rs->buf_idx;
			rs->buf_idx = idx;
			/* both slots now hold another buffer */
			ts->flags |= NS_BUF_CHANGED;
			rs->flags |= NS_BUF_CHANGED;
			st->swapped++;
		} else {
			char *rxbuf = NETMAP_BUF(rxring, rs->buf_idx);
			char *txbuf = NETMAP_BUF(txring, ts->buf_idx);

			nm_pkt_copy(rxbuf, txbuf, rs->len);
		}
		ts->len = rs->len;
		/* keep fragments together */
		ts->flags = (uint16_t)((ts->flags & ~NS_MOREFRAG) |
		    (rs->flags & NS_MOREFRAG));
		if (!(rs->flags & NS_MOREFRAG))
			st->pkts++;
		st->slots++;
		j = nm_ring_next(rxring, j);
		k = nm_ring_next(txring, k);
	}
	rxring->head = rxring->cur = j;
	txring->head = txring->cur = k;
	return m;
}

/* Forward what src received to dst's TX rings. */
static unsigned int
forward(struct nm_desc *src, struct nm_desc *dst, int zerocopy,
	struct fwd_stats *st, unsigned long long max_pkts)
{
	unsigned int si = src->first_rx_ring, di = dst->first_tx_ring;
	unsigned int moved = 0;

	while (si <= src->last_rx_ring && di <= dst->last_tx_ring) {
		struct netmap_ring *rxring = NETMAP_RXRING(src->nifp, si);
		struct netmap_ring *txring = NETMAP_TXRING(dst->nifp, di);
		unsigned int n;

		if (nm_ring_empty(rxring)) {
			si++;
			continue;
		}
		if (nm_ring_empty(txring)) {
			di++;
			continue;
		}
		n = nm_ring_space(rxring);
		if (max_pkts != 0 && st->pkts >= max_pkts)
			break;
		if (max_pkts != 0 && n > max_pkts - st->pkts) {
			/* do not take more than we were asked to: whole
			 * packets only */
			unsigned int j = rxring->head, c = 0, pk = 0;

			while (c < n && pk < max_pkts - st->pkts) {
				if (!(rxring->slot[j].flags & NS_MOREFRAG))
					pk++;
				c++;
				j = nm_ring_next(rxring, j);
			}
			n = c;
		}
		moved += move_slots(rxring, txring, n, zerocopy, st);
	}
	return moved;
}

static void
usage(const char *prog)
{
	fprintf(stderr, "usage: %s -i PORT -i PORT [-c] [-n COUNT] [-v]\n",
	    prog);
	exit(1);
}

int
main(int argc, char **argv)
{
	const char *ifname[2] = { NULL, NULL };
	struct fwd_stats ab, ba;
	struct nm_desc *pa, *pb;
	struct pollfd pfd[2];
	unsigned long long max_pkts = 0;
	int ch, nif = 0, copy = 0, verbose = 0, zerocopy;
	int gone_a = 0, gone_b = 0;

	while ((ch = getopt(argc, argv, "ci:n:v")) != -1) {
		switch (ch) {
		case 'c':
			copy = 1;
			break;
		case 'i':
			if (nif >= 2)
				usage(argv[0]);
			ifname[nif++] = optarg;
			break;
		case 'n':
			max_pkts = strtoull(optarg, NULL, 10);
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (nif != 2 || optind != argc)
		usage(argv[0]);

	pa = nm_open(ifname[0], NULL, 0, NULL);
	if (pa == NULL) {
		fprintf(stderr, "cannot open %s: %s\n", ifname[0],
		    errno ? strerror(errno) : "not a netmap port");
		return 1;
	}
	/* share the first port's mapping if it is the same region */
	pb = nm_open(ifname[1], NULL, NM_OPEN_NO_MMAP, pa);
	if (pb == NULL) {
		fprintf(stderr, "cannot open %s: %s\n", ifname[1],
		    errno ? strerror(errno) : "not a netmap port");
		nm_close(pa);
		return 1;
	}
	zerocopy = !copy && pa->mem == pb->mem;
	printf("zerocopy %s\n", zerocopy ? "enabled" : "disabled");
	fflush(stdout);

	signal(SIGINT, sigint_h);
	signal(SIGTERM, sigint_h);
	memset(&ab, 0, sizeof(ab));
	memset(&ba, 0, sizeof(ba));

	while (!do_abort) {
		int ret;

		if (max_pkts != 0 && ab.pkts + ba.pkts >= max_pkts)
			break;
		pfd[0].fd = gone_a ? -1 : pa->fd;
		pfd[1].fd = gone_b ? -1 : pb->fd;
		pfd[0].events = pfd[1].events = 0;
		pfd[0].revents = pfd[1].revents = 0;
		/* wait for room on the side that has something to get */
		if (rx_ready(pa) > 0)
			pfd[1].events |= POLLOUT;
		else
			pfd[0].events |= POLLIN;
		if (rx_ready(pb) > 0)
			pfd[0].events |= POLLOUT;
		else
			pfd[1].events |= POLLIN;

		ret = poll(pfd, 2, 1000);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			break;
		}
		if (verbose)
			fprintf(stderr, "poll %d: a ev %x rev %x rx %u, "
			    "b ev %x rev %x rx %u\n", ret, pfd[0].events,
			    pfd[0].revents, rx_ready(pa), pfd[1].events,
			    pfd[1].revents, rx_ready(pb));
		forward(pa, pb, zerocopy, &ab,
		    max_pkts ? max_pkts - ba.pkts : 0);
		forward(pb, pa, zerocopy, &ba,
		    max_pkts ? max_pkts - ab.pkts : 0);
		/* a peer that went away, after a poll that read everything
		 * it had sent, all of which has been forwarded */
		if ((pfd[0].revents & POLLHUP) && (pfd[0].events & POLLIN) &&
		    rx_ready(pa) == 0)
			gone_a = 1;
		if ((pfd[1].revents & POLLHUP) && (pfd[1].events & POLLIN) &&
		    rx_ready(pb) == 0)
			gone_b = 1;
		if (gone_a && gone_b)
			break;
	}
	/* push whatever is still queued */
	ioctl(pa->fd, NIOCTXSYNC, NULL);
	ioctl(pb->fd, NIOCTXSYNC, NULL);

	printf("forwarded %llu packets (a->b %llu, b->a %llu), "
	    "%llu buffers swapped\n", ab.pkts + ba.pkts, ab.pkts, ba.pkts,
	    ab.swapped + ba.swapped);
	nm_close(pb);
	nm_close(pa);
	return 0;
}

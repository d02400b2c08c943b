/*
 * nm-bridge - forward packets between two netmap ports (netmap's bridge).
 *
 *   nm-bridge [-v] [-c] [-L] [-b burst] [-w wait] -i ifa [-i ifb]
 *   nm-bridge [-v] [-c] [-L] [-w wait] ifa [ifb [burst]]
 *
 * Every frame that arrives on one port's RX rings leaves on the other
 * port's TX rings.  When both ports live in one memory region (two
 * interfaces opened by this process share its NIC region; pipes of one
 * parent share the parent's), buffers are swapped instead of copied.
 * One port name alone (or twice, without -L) means the port and its host
 * rings ("ifa^"), as in netmap.  Names without a "prefix:" get "netmap:".
 *
 * The loop is netmap's: wait with poll() for RX on a port whose peer has
 * nothing queued, for TX room on a port whose peer has frames; move what
 * fits; the next poll() pushes the TX rings out (no NIOCTXSYNC).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libnetmap.h>

static int verbose;
static volatile sig_atomic_t stop;

static void on_sigint(int sig)
{
	(void)sig;
	stop = 1;
	signal(SIGINT, SIG_DFL);	/* a second Ctrl-C kills */
}

static void usage(void)
{
	fprintf(stderr,
		"nm-bridge: forward packets between two netmap ports\n"
		"    usage(1): nm-bridge [-v] [-c] [-L] [-i ifa] [-i ifb] [-b burst] [-w wait]\n"
		"    usage(2): nm-bridge [-v] [-c] [-L] [-w wait] [ifa [ifb [burst]]]\n"
		"\n"
		"    ifa and ifb are port names (netmap:eth0, vale0:a, x{1, ...); a\n"
		"    name without a prefix means netmap:NAME.  When ifb is missing or\n"
		"    equal to ifa, ifa is bridged with its host rings, or with -L\n"
		"    looped back onto itself.\n"
		"    -b burst  packets moved per ring pair at a time (1..8192, 1024)\n"
		"    -w wait   seconds to wait for the links before forwarding (4)\n"
		"    -c        copy even when the two ports could swap buffers\n"
		"    -v        verbose; twice: every packet\n"
		"\n"
		"    example: nm-bridge -w 1 -i netmap:veth0 -i netmap:veth1\n");
	exit(1);
}

/* Packets waiting in the RX rings (tx == 0) or room in the TX rings. */
static unsigned queued(const struct nmport_d *d, int tx)
{
	unsigned tot = 0, i;

	if (tx) {
		for (i = d->first_tx_ring; i <= d->last_tx_ring; i++)
			tot += nm_ring_space(NETMAP_TXRING(d->nifp, i));
	} else {
		for (i = d->first_rx_ring; i <= d->last_rx_ring; i++)
			tot += nm_ring_space(NETMAP_RXRING(d->nifp, i));
	}
	return tot;
}

/* Move up to limit packets from one RX ring to one TX ring. */
static unsigned move_ring(struct netmap_ring *rx, struct netmap_ring *tx, unsigned limit,
			  int zerocopy)
{
	unsigned j = rx->cur, k = tx->cur, m, n;

	m = nm_ring_space(rx);
	if (m < limit)
		limit = m;
	m = nm_ring_space(tx);
	if (m < limit)
		limit = m;
	for (n = 0; n < limit; n++) {
		struct netmap_slot *rs = &rx->slot[j], *ts = &tx->slot[k];

		if (rs->len > rx->nr_buf_size) {
			RD(1, "bad length %u in rx[%u]", rs->len, j);
			rs->len = 0;
		}
		ts->len = rs->len;
		if (zerocopy) {
			uint32_t b = ts->buf_idx;

			ts->buf_idx = rs->buf_idx;
			rs->buf_idx = b;
			ts->flags |= NS_BUF_CHANGED;
			rs->flags |= NS_BUF_CHANGED;
		} else {
			nm_pkt_copy(NETMAP_BUF(rx, rs->buf_idx), NETMAP_BUF(tx, ts->buf_idx),
				    ts->len);
		}
		/* a frame split over slots stays split */
		ts->flags = (uint16_t)((ts->flags & ~NS_MOREFRAG) | (rs->flags & NS_MOREFRAG));
		if (verbose > 1)
			D("len %u rx[%u] -> tx[%u]", ts->len, j, k);
		j = nm_ring_next(rx, j);
		k = nm_ring_next(tx, k);
	}
	rx->head = rx->cur = j;
	tx->head = tx->cur = k;
	return n;
}

/* Move what fits from src's RX rings to dst's TX rings. */
static unsigned move(struct nmport_d *src, struct nmport_d *dst, unsigned limit, int zerocopy)
{
	unsigned si = src->first_rx_ring, di = dst->first_tx_ring, m = 0;

	while (si <= src->last_rx_ring && di <= dst->last_tx_ring) {
		struct netmap_ring *rx = NETMAP_RXRING(src->nifp, si);
		struct netmap_ring *tx = NETMAP_TXRING(dst->nifp, di);

		if (nm_ring_empty(rx)) {
			si++;
			continue;
		}
		if (nm_ring_empty(tx)) {
			di++;
			continue;
		}
		m += move_ring(rx, tx, limit, zerocopy);
	}
	if (verbose && m)
		D("%s -> %s: %u packets", src->hdr.nr_name, dst->hdr.nr_name, m);
	return m;
}

/* "eth0" -> "netmap:eth0"; names with a prefix stay as they are. */
static char *portname(const char *s)
{
	const char *colon = strchr(s, ':');
	const char *cut = strpbrk(s, "{}^*@/-");
	char *out;

	if (colon && (!cut || colon < cut))
		return strdup(s);
	out = malloc(strlen(s) + 8);
	if (out)
		sprintf(out, "netmap:%s", s);
	return out;
}

static int parse_uint(const char *s, unsigned *v)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(s, &end, 10);
	if (errno || *end || end == s || x < 0)
		return -1;
	*v = x > 1000000 ? 1000000 : (unsigned)x;
	return 0;
}

int main(int argc, char **argv)
{
	struct pollfd pfd[2];
	struct nmport_d *pa = NULL, *pb = NULL;
	const char *ia = NULL, *ib = NULL;
	char *na = NULL, *nb = NULL;
	unsigned burst = 1024, wait_link = 4;
	int ch, loopback = 0, zerocopy = 1, rc = 1;

	while ((ch = getopt(argc, argv, "hb:ci:vw:L")) != -1) {
		switch (ch) {
		case 'b':
			if (parse_uint(optarg, &burst) < 0)
				burst = 0;	/* reported below */
			break;
		case 'i':
			if (!ia)
				ia = optarg;
			else if (!ib)
				ib = optarg;
			else
				D("%s ignored, already have 2 ports", optarg);
			break;
		case 'c':
			zerocopy = 0;
			break;
		case 'v':
			verbose++;
			break;
		case 'w':
			if (parse_uint(optarg, &wait_link) < 0)
				wait_link = 1000;
			break;
		case 'L':
			loopback = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 0)
		ia = argv[0];
	if (argc > 1)
		ib = argv[1];
	if (argc > 2 && parse_uint(argv[2], &burst) < 0)
		burst = 0;
	if (argc > 3)
		usage();
	if (!ia) {
		D("missing port");
		usage();
	}
	if (!ib)
		ib = ia;
	if (burst < 1 || burst > 8192) {
		D("invalid burst %u, set to 1024", burst);
		burst = 1024;
	}
	if (wait_link > 100) {
		D("invalid wait %u, set to 4", wait_link);
		wait_link = 4;
	}
	na = portname(ia);
	nb = portname(ib);
	if (!na || !nb) {
		D("out of memory");
		goto out;
	}
	if (strcmp(na, nb) == 0) {
		if (!loopback) {
			char *h = malloc(strlen(na) + 2);

			D("same port, endpoint 0 goes to the host stack");
			if (!h)
				goto out;
			sprintf(h, "%s^", na);
			free(na);
			na = h;
		} else {
			D("same port, looping traffic back");
		}
	}
	pa = nmport_open(na);
	if (!pa) {
		D("cannot open %s: %s", na, strerror(errno));
		goto out;
	}
	pb = nmport_open(nb);
	if (!pb) {
		D("cannot open %s: %s", nb, strerror(errno));
		goto out;
	}
	zerocopy = zerocopy && pa->mem == pb->mem;
	D("------- zerocopy %ssupported", zerocopy ? "" : "NOT ");

	memset(pfd, 0, sizeof(pfd));
	pfd[0].fd = pa->fd;
	pfd[1].fd = pb->fd;
	D("Wait %u secs for link to come up...", wait_link);
	sleep(wait_link);
	D("Ready to go, %s 0x%x/%d <-> %s 0x%x/%d.",
	  pa->hdr.nr_name, pa->first_rx_ring, pa->reg.nr_rx_rings,
	  pb->hdr.nr_name, pb->first_rx_ring, pb->reg.nr_rx_rings);

	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	while (!stop) {
		unsigned n0 = queued(pa, 0), n1 = queued(pb, 0);
		int ret, i;

		pfd[0].events = pfd[1].events = 0;
		pfd[0].revents = pfd[1].revents = 0;
		if (n0)
			pfd[1].events |= POLLOUT;
		else
			pfd[0].events |= POLLIN;
		if (n1)
			pfd[0].events |= POLLOUT;
		else
			pfd[1].events |= POLLIN;
		/* poll() also runs the rings' txsync and rxsync */
		ret = poll(pfd, 2, 2500);
		if (ret <= 0 || verbose)
			D("poll %s [0] ev %x %x rx %u@%u tx %u, [1] ev %x %x rx %u@%u tx %u",
			  ret <= 0 ? "timeout" : "ok",
			  pfd[0].events, pfd[0].revents, queued(pa, 0),
			  NETMAP_RXRING(pa->nifp, pa->cur_rx_ring)->cur, queued(pa, 1),
			  pfd[1].events, pfd[1].revents, queued(pb, 0),
			  NETMAP_RXRING(pb->nifp, pb->cur_rx_ring)->cur, queued(pb, 1));
		if (ret < 0)
			continue;
		for (i = 0; i < 2; i++) {
			struct nmport_d *d = i ? pb : pa;
			struct netmap_ring *rx = NETMAP_RXRING(d->nifp, d->cur_rx_ring);

			if (!(pfd[i].revents & POLLERR))
				continue;
			RD(1, "error on fd%d, rx [%u,%u,%u)%s", i, rx->head, rx->cur, rx->tail,
			   (pfd[i].revents & POLLHUP) ? " (port gone)" : "");
			/* a port that is down or gone stays so for a while:
			 * do not spin on it */
			if (!(pfd[i].revents & (POLLIN | POLLOUT)))
				usleep(100000);
		}
		if (pfd[0].revents & POLLOUT)
			move(pb, pa, burst, zerocopy);
		if (pfd[1].revents & POLLOUT)
			move(pa, pb, burst, zerocopy);
	}
	rc = 0;
out:
	if (pb)
		nmport_close(pb);
	if (pa)
		nmport_close(pa);
	free(na);
	free(nb);
	return rc;
}

/*
 * vale_pair - one thread that sends on one VALE port and receives on
 * another, for bench/vale.sh and bench/vale-modules.sh.
 *
 * Objective: measure the forwarding capacity of netmapd's VALE switch
 * without the cost of scheduling three busy parties (sender, forwarding
 * thread, receiver) on a host with two cores: the sender and the receiver
 * are this one thread, the forwarding thread has the other core.
 *
 *   vale_pair [-a TXPORT] [-b RXPORT] [-l LEN] [-d SECONDS] [-w WARMUP_MS]
 *             [-u] [-4 A.B.C.D]
 *
 * Frames are LEN-byte broadcasts (the switch floods them to RXPORT, the
 * only other port), written into every TX buffer once.  -u makes them
 * unicast to RXPORT's address, which RXPORT announces first with one
 * frame of its own, so that a learning bridge has learned it; -4 makes
 * them IPv4/UDP datagrams to that address (for bench/vale-modules.sh's
 * L3 module; without -4 the IPv4 header is a pattern).  Each round hands
 * every free TX slot over (txsync), then takes every received frame
 * (rxsync); when neither moved, it sleeps in poll().
 *
 * Output (stdout), one line, parsed by bench/vale.sh:
 *   vale_pair: received N packets (L bytes each) in S s: R Mpps (sent M)
 * Exit status: 0, 1 on a usage or setup error, 2 if nothing arrived.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <libnetmap.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(void)
{
	fprintf(stderr, "usage: vale_pair [-a TXPORT] [-b RXPORT] [-l LEN] [-d SECONDS] "
		"[-w WARMUP_MS] [-u] [-4 A.B.C.D]\n");
	exit(1);
}

int main(int argc, char **argv)
{
	const char *ta = "vale0:pa", *tb = "vale0:pb";
	unsigned len = 60, warm_ms = 500, k;
	double secs = 5, t_start = 0, t_end, t;
	unsigned long long sent = 0, got = 0, got0 = 0, sent0 = 0;
	struct nmport_d *a, *b;
	struct netmap_ring *tx, *rx;
	static const unsigned char bmac[6] = { 0x02, 0x00, 0x00, 0x00, 0x0b, 0x01 };
	unsigned char ip4[4] = { 0 };
	int c, unicast = 0, v4 = 0;

	while ((c = getopt(argc, argv, "a:b:l:d:w:u4:")) != -1) {
		switch (c) {
		case 'u': unicast = 1; break;
		case '4': {
			unsigned x[4];
			char end;

			if (sscanf(optarg, "%u.%u.%u.%u%c", &x[0], &x[1], &x[2], &x[3], &end) != 4 ||
			    x[0] > 255 || x[1] > 255 || x[2] > 255 || x[3] > 255)
				usage();
			for (k = 0; k < 4; k++)
				ip4[k] = (unsigned char)x[k];
			v4 = 1;
			break;
		}
		case 'a': ta = optarg; break;
		case 'b': tb = optarg; break;
		case 'l': len = (unsigned)atoi(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'w': warm_ms = (unsigned)atoi(optarg); break;
		default: usage();
		}
	}
	if (len < 60 || len > 2048 || secs <= 0)
		usage();
	a = nmport_open(ta);
	b = nmport_open(tb);
	if (!a || !b) {
		fprintf(stderr, "vale_pair: cannot open %s: %s\n", a ? tb : ta, strerror(errno));
		return 1;
	}
	tx = NETMAP_TXRING(a->nifp, a->first_tx_ring);
	rx = NETMAP_RXRING(b->nifp, b->first_rx_ring);
	if (len > tx->nr_buf_size) {
		fprintf(stderr, "vale_pair: %u bytes do not fit in one buffer\n", len);
		return 1;
	}
	if (unicast) {
		/* RXPORT speaks first: a learning bridge learns its address */
		struct netmap_ring *btx = NETMAP_TXRING(b->nifp, b->first_tx_ring);
		unsigned char *f = (unsigned char *)NETMAP_BUF(btx, btx->slot[btx->head].buf_idx);
		double until = now_s() + 2;

		memset(f, 0xff, 6);
		memcpy(f + 6, bmac, 6);
		f[12] = 0x88;
		f[13] = 0xb5;
		memset(f + 14, 0, 46);
		btx->slot[btx->head].len = 60;
		btx->head = btx->cur = nm_ring_next(btx, btx->head);
		while (nm_tx_pending(btx) && now_s() < until) {
			ioctl(b->fd, NIOCTXSYNC, NULL);
			usleep(1000);
		}
	}
	for (k = 0; k < tx->num_slots; k++) {
		unsigned char *f = (unsigned char *)NETMAP_BUF(tx, tx->slot[k].buf_idx);

		if (unicast)
			memcpy(f, bmac, 6);
		else
			memset(f, 0xff, 6);		/* broadcast */
		memcpy(f + 6, "\x02\x00\x00\x00\x0a\x01", 6);
		f[12] = 0x08;
		f[13] = 0x00;
		memset(f + 14, 0x5a, len - 14);
		if (v4) {
			unsigned char *ip = f + 14;

			memset(ip, 0, 28);
			ip[0] = 0x45;
			ip[2] = (unsigned char)((len - 14) >> 8);
			ip[3] = (unsigned char)(len - 14);
			ip[8] = 64;
			ip[9] = 17;			/* UDP */
			memcpy(ip + 12, "\x0a\x00\x01\x01", 4);
			memcpy(ip + 16, ip4, 4);
		}
		tx->slot[k].len = (uint16_t)len;
	}
	t = now_s();
	t_end = t + secs + warm_ms / 1000.0;
	while ((t = now_s()) < t_end) {
		uint32_t h = tx->head, n = nm_ring_space(tx), r;
		int moved = 0;

		if (!t_start && t >= t_end - secs) {
			t_start = t;
			got0 = got;
			sent0 = sent;
		}
		for (k = 0; k < n; k++) {
			tx->slot[h].len = (uint16_t)len;
			tx->slot[h].flags = 0;
			h = nm_ring_next(tx, h);
		}
		tx->head = tx->cur = h;
		sent += n;
		ioctl(a->fd, NIOCTXSYNC, NULL);
		ioctl(b->fd, NIOCRXSYNC, NULL);
		r = nm_ring_space(rx);
		got += r;
		rx->head = rx->cur = rx->tail;
		moved = n || r;
		if (!moved) {
			struct pollfd p[2] = { { .fd = a->fd, .events = POLLOUT },
					       { .fd = b->fd, .events = POLLIN } };

			poll(p, 2, 100);
		}
	}
	if (!t_start || got == got0) {
		printf("vale_pair: received 0 packets\n");
		return 2;
	}
	t = now_s() - t_start;
	printf("vale_pair: received %llu packets (%u bytes each) in %.3f s: %.3f Mpps (sent %llu)\n",
	       got - got0, len, t, (double)(got - got0) / t / 1e6, sent - sent0);
	nmport_close(a);
	nmport_close(b);
	return 0;
}

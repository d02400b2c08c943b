/*
 * vale_rotate - several VALE port pairs measured in turn, a short slice
 * each, for bench/vale-modules.sh.
 *
 * Objective: compare switches that differ in one thing (their forwarding
 * logic) on a host shared with other work.  Runs of a few seconds each,
 * one switch after the other, catch different bursts of that other work;
 * slices of a tenth of a second, rotating over the switches for the whole
 * run, expose them all to the same conditions.
 *
 *   vale_rotate -p TXPORT,RXPORT [-p ...] [-l LEN] [-d SECONDS]
 *               [-w WARMUP_MS] [-s SLICE_MS] [-t STATFILE] [-4 A.B.C.D]
 *
 * For each pair, RXPORT first announces its address with one frame, then
 * TXPORT's frames are LEN-byte unicasts to it (a learning bridge looks
 * them up instead of flooding), IPv4/UDP datagrams to A.B.C.D with -4.
 * One thread sends on TXPORT and receives on RXPORT of the pair whose
 * slice it is, as bench/vale_pair does; at the end of a slice it stops
 * sending and waits (up to 20 ms) for what it sent to arrive, so that each
 * slice's frames are counted in it.  -d is the measured time per pair
 * (the run lasts WARMUP + pairs x SECONDS).  With -t (the stat file of
 * netmapd's forwarding thread in /proc), the thread's CPU time during each
 * pair's slices is accounted to that pair.
 *
 * Output (stdout), one line per pair, parsed by bench/vale-modules.sh:
 *   vale_rotate: TXPORT: received N packets in S s: R Mpps, C ns/frame
 * (C is "-" without -t).  Exit status: 0, 1 on a usage or setup error, 2
 * if a pair received nothing.
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

#define MAXP 8

struct pair {
	char *ta, *tb;
	struct nmport_d *a, *b;
	struct netmap_ring *tx, *rx;
	unsigned long long got;
	double secs;
	long ticks;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(void)
{
	fprintf(stderr, "usage: vale_rotate -p TXPORT,RXPORT [-p ...] [-l LEN] [-d SECONDS] "
		"[-w WARMUP_MS] [-s SLICE_MS] [-t STATFILE] [-4 A.B.C.D]\n");
	exit(1);
}

/* utime + stime of the thread whose stat file is path, -1 if unknown */
static long ticks(const char *path)
{
	char buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	if (!path || !(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* fields after the command name, which may hold spaces */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
			 &st) != 2)
		return -1;
	return (long)(ut + st);
}

static void setup(struct pair *p, unsigned len, const unsigned char *ip4)
{
	static const unsigned char bmac[6] = { 0x02, 0x00, 0x00, 0x00, 0x0b, 0x01 };
	struct netmap_ring *btx;
	unsigned char *f;
	double until;
	unsigned k;

	p->a = nmport_open(p->ta);
	p->b = nmport_open(p->tb);
	if (!p->a || !p->b) {
		fprintf(stderr, "vale_rotate: cannot open %s: %s\n", p->a ? p->tb : p->ta,
			strerror(errno));
		exit(1);
	}
	p->tx = NETMAP_TXRING(p->a->nifp, p->a->first_tx_ring);
	p->rx = NETMAP_RXRING(p->b->nifp, p->b->first_rx_ring);
	if (len > p->tx->nr_buf_size) {
		fprintf(stderr, "vale_rotate: %u bytes do not fit in one buffer\n", len);
		exit(1);
	}
	/* RXPORT speaks first: a learning bridge learns its address */
	btx = NETMAP_TXRING(p->b->nifp, p->b->first_tx_ring);
	f = (unsigned char *)NETMAP_BUF(btx, btx->slot[btx->head].buf_idx);
	memset(f, 0xff, 6);
	memcpy(f + 6, bmac, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	memset(f + 14, 0, 46);
	btx->slot[btx->head].len = 60;
	btx->head = btx->cur = nm_ring_next(btx, btx->head);
	for (until = now_s() + 2; nm_tx_pending(btx) && now_s() < until; usleep(1000))
		ioctl(p->b->fd, NIOCTXSYNC, NULL);
	for (k = 0; k < p->tx->num_slots; k++) {
		f = (unsigned char *)NETMAP_BUF(p->tx, p->tx->slot[k].buf_idx);
		memcpy(f, bmac, 6);
		memcpy(f + 6, "\x02\x00\x00\x00\x0a\x01", 6);
		f[12] = 0x08;
		f[13] = 0x00;
		memset(f + 14, 0x5a, len - 14);
		if (ip4) {
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
		p->tx->slot[k].len = (uint16_t)len;
	}
}

/* Take what arrived on p's receiver; the count. */
static unsigned take(struct pair *p)
{
	unsigned r;

	ioctl(p->b->fd, NIOCRXSYNC, NULL);
	r = nm_ring_space(p->rx);
	p->rx->head = p->rx->cur = p->rx->tail;
	return r;
}

/* One slice of pair p until `until`; frames received. */
static unsigned long long slice(struct pair *p, unsigned len, double until)
{
	unsigned long long got = 0;
	double drain;

	while (now_s() < until) {
		uint32_t h = p->tx->head, n = nm_ring_space(p->tx), k, r;

		for (k = 0; k < n; k++) {
			p->tx->slot[h].len = (uint16_t)len;
			p->tx->slot[h].flags = 0;
			h = nm_ring_next(p->tx, h);
		}
		p->tx->head = p->tx->cur = h;
		ioctl(p->a->fd, NIOCTXSYNC, NULL);
		r = take(p);
		got += r;
		if (!n && !r) {
			struct pollfd pf[2] = { { .fd = p->a->fd, .events = POLLOUT },
						{ .fd = p->b->fd, .events = POLLIN } };

			poll(pf, 2, 1);
		}
	}
	/* what was sent in this slice is counted in it */
	for (drain = now_s() + 0.02; now_s() < drain;) {
		ioctl(p->a->fd, NIOCTXSYNC, NULL);
		got += take(p);
		if (!nm_tx_pending(p->tx) && nm_ring_empty(p->rx))
			break;
	}
	return got;
}

int main(int argc, char **argv)
{
	struct pair p[MAXP];
	unsigned len = 60, warm_ms = 1000, slice_ms = 100, np = 0, i, k;
	unsigned char ip4[4];
	const char *statf = NULL;
	double secs = 5, t0, warm_end, end;
	long hz = sysconf(_SC_CLK_TCK);
	int c, v4 = 0, rc = 0;

	memset(p, 0, sizeof(p));
	while ((c = getopt(argc, argv, "p:l:d:w:s:t:4:")) != -1) {
		switch (c) {
		case 'p': {
			char *comma = strchr(optarg, ',');

			if (np == MAXP || !comma)
				usage();
			*comma = '\0';
			p[np].ta = optarg;
			p[np].tb = comma + 1;
			np++;
			break;
		}
		case '4': {
			unsigned x[4];
			char end_c;

			if (sscanf(optarg, "%u.%u.%u.%u%c", &x[0], &x[1], &x[2], &x[3], &end_c) != 4 ||
			    x[0] > 255 || x[1] > 255 || x[2] > 255 || x[3] > 255)
				usage();
			for (k = 0; k < 4; k++)
				ip4[k] = (unsigned char)x[k];
			v4 = 1;
			break;
		}
		case 'l': len = (unsigned)atoi(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'w': warm_ms = (unsigned)atoi(optarg); break;
		case 's': slice_ms = (unsigned)atoi(optarg); break;
		case 't': statf = optarg; break;
		default: usage();
		}
	}
	if (np == 0 || len < 60 || len > 2048 || secs <= 0 || slice_ms == 0 || optind != argc)
		usage();
	for (i = 0; i < np; i++)
		setup(&p[i], len, v4 ? ip4 : NULL);
	if (statf && ticks(statf) < 0) {
		fprintf(stderr, "vale_rotate: cannot read CPU time from %s\n", statf);
		return 1;
	}
	t0 = now_s();
	warm_end = t0 + warm_ms / 1000.0;
	end = warm_end + secs * np;
	for (i = 0; now_s() < end; i = (i + 1) % np) {
		double ts = now_s(), te;
		long c0 = ticks(statf), c1;
		unsigned long long got = slice(&p[i], len, ts + slice_ms / 1000.0);

		te = now_s();
		c1 = ticks(statf);
		if (ts < warm_end)
			continue;
		p[i].got += got;
		p[i].secs += te - ts;
		p[i].ticks += c1 - c0;
	}
	for (i = 0; i < np; i++) {
		char cpu[32] = "-";

		if (statf && p[i].got)
			snprintf(cpu, sizeof(cpu), "%.1f",
				 (double)p[i].ticks * 1e9 / (double)hz / (double)p[i].got);
		printf("vale_rotate: %s: received %llu packets in %.3f s: %.3f Mpps, %s ns/frame\n",
		       p[i].ta, p[i].got, p[i].secs,
		       p[i].secs > 0 ? (double)p[i].got / p[i].secs / 1e6 : 0.0, cpu);
		if (!p[i].got)
			rc = 2;
	}
	for (i = 0; i < np; i++) {
		nmport_close(p[i].a);
		nmport_close(p[i].b);
	}
	return rc;
}

/*
 * app_hostile.c - a hostile guest for the passthrough tests, run inside a
 * guest (built static by make guest): it opens passed-through ports like
 * any netmap application and then, for a while, writes garbage all over
 * what it maps -- its rings' indices and slots, the control blocks, the
 * host peers' rings next to them, buffers, the guest area and the
 * descriptor netmapd wrote at the end of the region -- calling the sync
 * ioctls and poll() in between, so that its library and, above all, the
 * host side (netmapd, the VALE switch, the host peer's library) see it.
 *
 *   app_hostile [-t SECONDS] PORT...
 *
 * Prints "HOSTILE rounds <n> writes <w>" at the end; exit 0 if it ran
 * (it checks nothing: the host side is what the test checks).
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

#define MAX_PORTS 8

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* a value that is sometimes plausible, sometimes wild */
static uint32_t nasty(uint32_t n)
{
	switch (rnd() % 5) {
	case 0: return (uint32_t)rnd();
	case 1: return n ? (uint32_t)(rnd() % n) : 0;
	case 2: return n + (uint32_t)(rnd() % 4);
	case 3: return UINT32_MAX - (uint32_t)(rnd() % 4);
	default: return 0;
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long writes;

static void scribble(char *base, size_t len, unsigned count)
{
	unsigned k;

	for (k = 0; k < count && len >= 8; k++) {
		size_t at = (size_t)(rnd() % (len - 7)) & ~(size_t)3;
		uint32_t v = nasty((uint32_t)(rnd() % 8192));

		memcpy(base + at, &v, sizeof(v));
		writes++;
	}
}

/* n: the slot count seen at the start (the header is garbage later) */
static void attack_ring(struct netmap_ring *r, uint32_t n)
{
	/* the control block and the ring header and slots, as 32-bit words */
	uint32_t *w = (uint32_t *)(void *)((char *)r - 256);
	uint32_t words = (256 + 256 + n * 16) / 4, k;

	for (k = 0; k < 32; k++) {
		w[rnd() % words] = nasty(n);
		writes++;
	}
	r->head = nasty(n);
	r->cur = nasty(n);
	r->tail = nasty(n);
	for (k = 0; k < 16 && n; k++) {
		struct netmap_slot *s = &r->slot[rnd() % n];

		s->buf_idx = nasty(1u << 20);
		s->len = (uint16_t)rnd();
		s->flags = (uint16_t)rnd();
		writes += 3;
	}
}

struct victim {
	struct netmap_ring *ring[64];
	uint32_t n[64];
	unsigned nrings;
	char *near;		/* 64 KB before the first ring, or the base */
	size_t near_len;
};

static void victim_init(struct victim *v, struct nmport_d *d)
{
	struct netmap_if *nifp = d->nifp;
	char *base = d->mem->mem, *first;
	unsigned r;

	v->nrings = 0;
	for (r = d->first_tx_ring; r <= d->last_tx_ring && v->nrings < 64; r++)
		v->ring[v->nrings++] = NETMAP_TXRING(nifp, r);
	for (r = d->first_rx_ring; r <= d->last_rx_ring && v->nrings < 64; r++)
		v->ring[v->nrings++] = NETMAP_RXRING(nifp, r);
	for (r = 0; r < v->nrings; r++) {
		v->n[r] = v->ring[r]->num_slots;
		if (v->n[r] == 0 || v->n[r] > 8192)
			v->n[r] = 1;
	}
	first = (char *)v->ring[0];
	v->near = first - base > 65536 ? first - 65536 : base;
	v->near_len = 196608;
	if ((size_t)(v->near - base) + v->near_len > d->reg.nr_memsize)
		v->near_len = d->reg.nr_memsize - (size_t)(v->near - base);
}

int main(int argc, char **argv)
{
	static struct victim vic[MAX_PORTS];
	struct nmport_d *d[MAX_PORTS];
	double secs = 10, t0;
	unsigned long rounds = 0;
	int nd = 0, ch, i;

	while ((ch = getopt(argc, argv, "t:")) != -1) {
		if (ch == 't') {
			secs = atof(optarg);
		} else {
			fprintf(stderr, "usage: app_hostile [-t SECONDS] PORT...\n");
			return 2;
		}
	}
	for (i = optind; i < argc && nd < MAX_PORTS; i++) {
		d[nd] = nmport_open(argv[i]);
		if (!d[nd]) {
			printf("FAIL open %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		victim_init(&vic[nd], d[nd]);
		nd++;
	}
	if (!nd) {
		fprintf(stderr, "usage: app_hostile [-t SECONDS] PORT...\n");
		return 2;
	}
	printf("HOSTILE start %d ports, %llu bytes mapped\n", nd,
	       (unsigned long long)d[0]->reg.nr_memsize);
	fflush(stdout);
	t0 = now();
	while (now() - t0 < secs) {
		for (i = 0; i < nd; i++) {
			char *base = d[i]->mem->mem;
			size_t len = d[i]->reg.nr_memsize;
			unsigned r;
			struct pollfd pfd = { .fd = d[i]->fd, .events = POLLIN | POLLOUT };

			for (r = 0; r < vic[i].nrings; r++)
				attack_ring(vic[i].ring[r], vic[i].n[r]);
			/* the rings around ours (the host peer's), anything,
			 * and the last 64 KB: netmapd's descriptor */
			scribble(vic[i].near, vic[i].near_len, 64);
			scribble(base, len, 64);
			scribble(base + len - 65536, 65536, 32);
			ioctl(d[i]->fd, NIOCTXSYNC, NULL);
			ioctl(d[i]->fd, NIOCRXSYNC, NULL);
			poll(&pfd, 1, 0);
		}
		rounds++;
	}
	printf("HOSTILE rounds %lu writes %lu\n", rounds, writes);
	/* no nmport_close(): the ring state is garbage by design, and the
	 * test kills the guest anyway */
	return 0;
}

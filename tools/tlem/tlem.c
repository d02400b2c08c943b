/*
 * tlem - link emulator between two netmap ports (netmap's tlem).
 *
 *   tlem -i A -i B [-B bw] [-D delay] [-L loss] [-Q qsize] [-b batch]
 *        [-w sec] [-c] [-C cores] [-v] [-q]
 *
 * Each direction is an emulated link: a FIFO queue of -Q bytes in front
 * of a serializer of -B bit/s, random loss -L, then a delay line -D
 * (constant, uniform or exponential; frames never overtake each other).
 * -B -D -L -Q given once apply to both directions, twice to A->B then
 * B->A.  Frames are copied into a per-direction delay line in memory at
 * arrival, stamped with their departure time, and copied to the other
 * port when it comes.
 *
 * One thread does both directions: it reads what arrived, sends what is
 * due, and sleeps in ppoll() until the next departure or arrival (a
 * departure closer than 50 us is waited for by spinning).  Timers are
 * CLOCK_MONOTONIC; nothing on the per-frame path makes a system call.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <libnetmap.h>

#include "../include/nfv_util.h"

#define TL_MAX_FRAME	65536
#define TL_SPIN_NS	50000

/* a frame in the delay line; its bytes follow, the whole rounded up to
 * 16 bytes.  len TL_WRAP marks the unused end of the arena. */
struct tl_rec {
	uint64_t due;
	uint32_t len;
	uint32_t pad;
};
#define TL_WRAP		UINT32_MAX

struct tl_dir {
	const char *name;	/* "A->B" */
	struct nmport_d *in, *out;
	/* parameters */
	struct nfv_bw bw;
	struct nfv_delay delay;
	struct nfv_loss loss;
	double qsize;		/* bytes, 0 = unlimited */
	int have_delay;
	/* delay line: a byte ring of records */
	unsigned char *arena;
	uint64_t asize, ahead, atail, aused;
	uint32_t nq, maxq;
	/* link state */
	uint64_t link_free;	/* ns when the serializer is idle again */
	uint64_t last_due;
	/* counters */
	uint64_t rx, tx, rx_bytes, tx_bytes, drop_loss, drop_queue, drop_mem, bad;
	uint64_t p_rx, p_tx, p_drop_loss, p_drop_queue;
	uint64_t round_max;
	int dirty;		/* TX slots filled since the last txsync */
	unsigned char *frame;	/* assembly of multi-slot frames */
};

static volatile sig_atomic_t stop;

static volatile sig_atomic_t dump_stats;

static void on_usr1(int sig)
{
	(void)sig;
	dump_stats = 1;
}
static uint64_t seed;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f, int rc)
{
	fprintf(f,
		"usage: tlem [-v] [-D delay] [-B bps] [-L loss] [-Q qsize] \n"
		"\t[-b burst] [-w wait_time] -i ifa -i ifb\n"
		"  -i PORT    the two ports (a name without prefix means netmap:NAME)\n"
		"  -B bw      bps | constant,bps | ether,bps (k/K m/M g/G = 10^3 10^6 10^9),\n"
		"             0 = unlimited (default)\n"
		"  -D delay   t | constant,t | uniform,tmin,tmax | exp,tavg,tmin\n"
		"             (s, or n u m s suffixes); default 0\n"
		"  -L loss    p | plr,p | ber,p with 0 <= p <= 1; default 0\n"
		"  -Q qsize   queue in front of the bandwidth limit, bytes (k/K m/M g/G =\n"
		"             2^10 2^20 2^30); default 50000 with -B, else unlimited\n"
		"  -B -D -L -Q once: both directions; twice: A->B, then B->A\n"
		"  -b batch   frames handled per direction per pass (default 1024)\n"
		"  -w sec     wait before forwarding (default 2)\n"
		"  -M bytes   delay line size per direction (default from -B and -D, or 64m)\n"
		"  -c -C      accepted for netmap compatibility (frames are always copied,\n"
		"             one thread)\n"
		"  -v -q      more, less output\n"
		"  -h         this help\n"
		"Not supported: -r (route mode), -s/-a (sessions), -G, -R, -P, -O, -d, -H.\n");
	exit(rc);
}

static inline uint64_t rnd16(uint64_t x)
{
	return (x + 15) & ~(uint64_t)15;
}

/* Room for a record of len bytes at the tail (wrapping if needed);
 * returns the record or NULL when the arena is full. */
static struct tl_rec *arena_reserve(struct tl_dir *dr, uint32_t len)
{
	uint64_t need = sizeof(struct tl_rec) + rnd16(len);
	uint64_t end_room = dr->asize - dr->atail;

	if (need > dr->asize)
		return NULL;
	if (end_room < need) {
		/* skip the end: only if the start has room afterwards */
		if (dr->aused + end_room + need > dr->asize)
			return NULL;
		((struct tl_rec *)(dr->arena + dr->atail))->len = TL_WRAP;
		dr->aused += end_room;
		dr->atail = 0;
	}
	if (dr->aused + need > dr->asize)
		return NULL;
	return (struct tl_rec *)(dr->arena + dr->atail);
}

static void arena_commit(struct tl_dir *dr, uint32_t len)
{
	uint64_t need = sizeof(struct tl_rec) + rnd16(len);

	dr->atail += need;
	if (dr->atail == dr->asize)
		dr->atail = 0;
	dr->aused += need;
	dr->nq++;
	if (dr->nq > dr->maxq)
		dr->maxq = dr->nq;
}

static struct tl_rec *arena_head(struct tl_dir *dr)
{
	struct tl_rec *r;

	if (!dr->nq)
		return NULL;
	r = (struct tl_rec *)(dr->arena + dr->ahead);
	if (r->len == TL_WRAP) {
		dr->aused -= dr->asize - dr->ahead;
		dr->ahead = 0;
		r = (struct tl_rec *)dr->arena;
	}
	return r;
}

static void arena_pop(struct tl_dir *dr, const struct tl_rec *r)
{
	uint64_t need = sizeof(struct tl_rec) + rnd16(r->len);

	dr->ahead += need;
	if (dr->ahead == dr->asize)
		dr->ahead = 0;
	dr->aused -= need;
	dr->nq--;
}

/* One arriving frame of len bytes at time now: queue, loss, delay. */
static void admit(struct tl_dir *dr, const unsigned char *data, uint32_t len, uint64_t now)
{
	uint64_t done = now, due;
	struct tl_rec *r;

	dr->rx++;
	dr->rx_bytes += len;
	if (dr->bw.bps > 0) {
		uint64_t start = dr->link_free > now ? dr->link_free : now;

		/* bytes still to serialize ahead of this frame = the queue */
		if (dr->qsize > 0) {
			double backlog = (double)(start - now) * dr->bw.bps / 8e9;

			if (backlog + len > dr->qsize) {
				dr->drop_queue++;
				return;
			}
		}
		done = start + (uint64_t)((double)(len + dr->bw.overhead) * 8e9 / dr->bw.bps);
		dr->link_free = done;
	}
	if (dr->loss.p > 0 && nfv_rand64(&seed) < nfv_loss_threshold(&dr->loss, len)) {
		dr->drop_loss++;
		return;
	}
	due = done;
	if (dr->have_delay)
		due += (uint64_t)nfv_delay_draw(&dr->delay, &seed);
	if (due < dr->last_due)
		due = dr->last_due;	/* no reordering */
	r = arena_reserve(dr, len);
	if (!r) {
		dr->drop_mem++;
		return;
	}
	dr->last_due = due;
	r->due = due;
	r->len = len;
	memcpy(r + 1, data, len);
	arena_commit(dr, len);
}

/* Read what arrived on dr->in (at most batch frames). */
static void receive(struct tl_dir *dr, uint64_t now, unsigned batch)
{
	struct nmport_d *d = dr->in;
	unsigned ri;

	for (ri = d->first_rx_ring; ri <= d->last_rx_ring && batch; ri++) {
		struct netmap_ring *r = NETMAP_RXRING(d->nifp, ri);
		uint32_t h = r->head, t = r->tail, n = r->num_slots, maxbuf = nfv_max_buf(d, r);

		while (h != t && batch) {
			uint32_t len = 0, frags = 0;
			const unsigned char *data = NULL;
			int ok = 1;

			/* one frame; the peer wrote these slots: checked */
			for (;;) {
				struct netmap_slot *s = &r->slot[h];
				uint32_t idx = s->buf_idx, sl = s->len;
				uint16_t fl = s->flags;

				if (idx < 2 || idx > maxbuf || sl > r->nr_buf_size) {
					ok = 0;
				} else if (frags == 0 && !(fl & NS_MOREFRAG)) {
					data = (const unsigned char *)NETMAP_BUF(r, idx);
					len = sl;
				} else if (ok && len + sl <= TL_MAX_FRAME) {
					memcpy(dr->frame + len, NETMAP_BUF(r, idx), sl);
					len += sl;
					data = dr->frame;
				} else {
					ok = 0;
				}
				frags++;
				h = h + 1 == n ? 0 : h + 1;
				if (!(fl & NS_MOREFRAG) || h == t)
					break;
			}
			batch--;
			if (!ok || !data) {
				dr->bad++;
				continue;
			}
			admit(dr, data, len, now);
		}
		r->head = r->cur = h;
	}
}

/* Send what is due.  Returns 1 when due frames wait for TX room. */
static int transmit(struct tl_dir *dr, uint64_t now, unsigned batch)
{
	struct nmport_d *d = dr->out;
	unsigned ri = d->first_tx_ring;
	struct tl_rec *rec;

	while ((rec = arena_head(dr)) && rec->due <= now && batch) {
		struct netmap_ring *r = NULL;
		uint32_t bsz, nslots, k, left, h;
		const unsigned char *p = (const unsigned char *)(rec + 1);

		for (; ri <= d->last_tx_ring; ri++) {
			r = NETMAP_TXRING(d->nifp, ri);
			bsz = r->nr_buf_size;
			nslots = rec->len ? (rec->len + bsz - 1) / bsz : 1;
			if (nm_ring_space(r) >= nslots)
				break;
			if (nslots >= r->num_slots) {
				/* can never fit this ring */
				break;
			}
		}
		if (ri > d->last_tx_ring)
			return 1;
		bsz = r->nr_buf_size;
		nslots = rec->len ? (rec->len + bsz - 1) / bsz : 1;
		if (nm_ring_space(r) < nslots) {
			dr->bad++;	/* too long for the port */
			arena_pop(dr, rec);
			continue;
		}
		{
			uint32_t maxbuf = nfv_max_buf(d, r);

			h = r->head;
			left = rec->len;
			for (k = 0; k < nslots; k++) {
				struct netmap_slot *s = &r->slot[h];
				uint32_t l = left > bsz ? bsz : left;

				if (s->buf_idx >= 2 && s->buf_idx <= maxbuf)
					nm_pkt_copy(p + (uint64_t)k * bsz, NETMAP_BUF(r, s->buf_idx),
						    (int)l);
				s->len = (uint16_t)l;
				s->flags = k + 1 < nslots ? NS_MOREFRAG : 0;
				left -= l;
				h = nm_ring_next(r, h);
			}
			r->head = r->cur = h;
		}
		dr->tx++;
		dr->tx_bytes += rec->len;
		dr->dirty = 1;
		batch--;
		arena_pop(dr, rec);
	}
	return 0;
}

static void print_totals(const struct tl_dir *dirs)
{
	int i;

	for (i = 0; i < 2; i++) {
		const struct tl_dir *dr = &dirs[i];

		printf("tlem: %s: %" PRIu64 " received %" PRIu64 " sent %" PRIu64 " lost %" PRIu64
		       " queue drops %" PRIu64 " delay line full %" PRIu64 " bad, %u still queued\n",
		       dr->name, dr->rx, dr->tx, dr->drop_loss, dr->drop_queue, dr->drop_mem,
		       dr->bad, dr->nq);
	}
	fflush(stdout);
}

static int set_param(const char *what, const char *arg, int *n, struct tl_dir *dirs,
		     int (*parse)(const char *, struct tl_dir *))
{
	if (*n == 2) {
		fprintf(stderr, "tlem: -%s given more than twice\n", what);
		return -EINVAL;
	}
	if (parse(arg, &dirs[*n]) < 0) {
		fprintf(stderr, "tlem: bad -%s '%s'\n", what, arg);
		return -EINVAL;
	}
	(*n)++;
	return 0;
}

static int p_bw(const char *a, struct tl_dir *d) { return nfv_parse_bw_spec(a, &d->bw); }
static int p_loss(const char *a, struct tl_dir *d) { return nfv_parse_loss_spec(a, &d->loss); }
static int p_delay(const char *a, struct tl_dir *d)
{
	d->have_delay = 1;
	return nfv_parse_delay_spec(a, &d->delay);
}
static int p_q(const char *a, struct tl_dir *d)
{
	return nfv_parse_size(a, &d->qsize) < 0 || d->qsize < 1 ? -EINVAL : 0;
}

static char *portname(const char *s)
{
	const char *colon = strchr(s, ':'), *cut = strpbrk(s, "{}^*@/-");
	char *out;

	if (colon && (!cut || colon < cut))
		return strdup(s);
	if (asprintf(&out, "netmap:%s", s) < 0)
		return NULL;
	return out;
}

int main(int argc, char **argv)
{
	struct tl_dir dirs[2];
	const char *ports[2];
	char *names[2] = { NULL, NULL };
	struct nmport_d *pd[2] = { NULL, NULL };
	int nports = 0, nb = 0, nd = 0, nl = 0, nqs = 0, ch, rc = 1, verbose = 1, i;
	unsigned long batch = 1024, wait_s = 2;
	double arena_opt = 0;
	char *end;
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
	};

	memset(dirs, 0, sizeof(dirs));
	while ((ch = getopt_long(argc, argv, "hi:B:D:L:Q:b:w:M:cC:vqrs:aG:R:P:O:d:H", lopts,
				 NULL)) != -1) {
		switch (ch) {
		case 'i':
			if (nports == 2) {
				fprintf(stderr, "tlem: -i must be given exactly twice\n");
				return 1;
			}
			ports[nports++] = optarg;
			break;
		case 'B':
			if (set_param("B", optarg, &nb, dirs, p_bw) < 0)
				return 1;
			break;
		case 'D':
			if (set_param("D", optarg, &nd, dirs, p_delay) < 0)
				return 1;
			break;
		case 'L':
			if (set_param("L", optarg, &nl, dirs, p_loss) < 0)
				return 1;
			break;
		case 'Q':
			if (set_param("Q", optarg, &nqs, dirs, p_q) < 0)
				return 1;
			break;
		case 'b':
			errno = 0;
			batch = strtoul(optarg, &end, 10);
			if (errno || *end || batch < 1 || batch > 65536) {
				fprintf(stderr, "tlem: -b wants 1..65536\n");
				return 1;
			}
			break;
		case 'w':
			errno = 0;
			wait_s = strtoul(optarg, &end, 10);
			if (errno || *end || wait_s > 100) {
				fprintf(stderr, "tlem: -w wants 0..100 seconds\n");
				return 1;
			}
			break;
		case 'M':
			if (nfv_parse_size(optarg, &arena_opt) < 0 || arena_opt < 65536 ||
			    arena_opt > 16.0 * 1073741824.0) {
				fprintf(stderr, "tlem: -M wants 64k..16g\n");
				return 1;
			}
			break;
		case 'c':
		case 'C':
			break;
		case 'v':
			verbose++;
			break;
		case 'q':
			verbose--;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'r': case 's': case 'a': case 'G': case 'R': case 'P': case 'O': case 'd':
		case 'H':
			fprintf(stderr, "tlem: option -%c is not supported by this tlem "
				"(see tlem(8), COMPATIBILITY)\n", ch);
			return 1;
		default:
			usage(stderr, 1);
		}
	}
	if (nports != 2 || optind < argc) {
		fprintf(stderr, "tlem: -i must be given exactly twice\n");
		usage(stderr, 1);
	}
	if (strcmp(ports[0], ports[1]) == 0) {
		fprintf(stderr, "tlem: the two ports must differ\n");
		return 1;
	}
	/* given once: both directions */
	if (nb == 1)
		dirs[1].bw = dirs[0].bw;
	if (nd == 1) {
		dirs[1].delay = dirs[0].delay;
		dirs[1].have_delay = dirs[0].have_delay;
	}
	if (nl == 1)
		dirs[1].loss = dirs[0].loss;
	if (nqs == 1)
		dirs[1].qsize = dirs[0].qsize;
	seed = nfv_seed();
	for (i = 0; i < 2; i++) {
		names[i] = portname(ports[i]);
		if (!names[i])
			goto out;
		pd[i] = nmport_open(names[i]);
		if (!pd[i]) {
			fprintf(stderr, "tlem: cannot open %s: %s\n", names[i], strerror(errno));
			goto out;
		}
	}
	for (i = 0; i < 2; i++) {
		struct tl_dir *dr = &dirs[i];
		double maxdelay = 0, size;

		dr->name = i ? "B->A" : "A->B";
		dr->in = pd[i];
		dr->out = pd[1 - i];
		if (dr->bw.bps > 0 && nqs == 0)
			dr->qsize = 50000;	/* netmap's default with a bandwidth */
		if (dr->have_delay)
			maxdelay = dr->delay.kind == NFV_DELAY_UNIFORM ? dr->delay.b :
				   dr->delay.kind == NFV_DELAY_EXP ? 10 * dr->delay.a : dr->delay.a;
		if (arena_opt > 0) {
			size = arena_opt;
		} else if (dr->bw.bps > 0) {
			/* what the link carries during the delay plus the queue,
			 * with room for record headers on minimum-size frames */
			size = dr->bw.bps / 8 * (maxdelay / 1e9 + 0.1) * 1.5 + dr->qsize;
			size = size < 4194304 ? 4194304 : size > 1073741824 ? 1073741824 : size;
		} else {
			size = 67108864;
		}
		dr->asize = (uint64_t)size & ~(uint64_t)15;
		dr->arena = malloc(dr->asize);
		dr->frame = malloc(TL_MAX_FRAME);
		if (!dr->arena || !dr->frame) {
			fprintf(stderr, "tlem: cannot allocate %" PRIu64 " bytes of delay line\n",
				dr->asize);
			goto out;
		}
		if (verbose > 0)
			printf("tlem: %s %s -> %s: bw %.0f bps%s, delay %s %.0f/%.0f ns, loss %s %g, "
			       "queue %.0f bytes, delay line %" PRIu64 " bytes\n", dr->name,
			       names[i], names[1 - i], dr->bw.bps, dr->bw.overhead ? " (ether)" : "",
			       !dr->have_delay ? "none" : dr->delay.kind == NFV_DELAY_CONST ? "constant" :
			       dr->delay.kind == NFV_DELAY_UNIFORM ? "uniform" : "exp",
			       dr->delay.a, dr->delay.b, dr->loss.ber ? "ber" : "plr", dr->loss.p,
			       dr->qsize, dr->asize);
	}
	fflush(stdout);
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	signal(SIGUSR1, on_usr1);
	for (i = 0; i < (int)wait_s * 10 && !stop; i++)
		usleep(100000);

	{
		uint64_t t_rep = nfv_now_ns(), last = t_rep;
		int blocked[2] = { 0, 0 };

		rc = 0;
		while (!stop) {
			struct pollfd pfd[2];
			struct timespec ts;
			uint64_t now = nfv_now_ns(), wake = t_rep + NFV_NSEC;

			for (i = 0; i < 2; i++) {
				struct tl_dir *dr = &dirs[i];

				if (now - last > dr->round_max)
					dr->round_max = now - last;
				receive(dr, now, (unsigned)batch);
				blocked[i] = transmit(dr, now, (unsigned)batch);
				if (dr->dirty) {
					dr->dirty = 0;
					ioctl(dr->out->fd, NIOCTXSYNC, NULL);
				}
			}
			last = now;
			if (dump_stats) {
				dump_stats = 0;
				print_totals(dirs);
			}
			if (now >= t_rep + NFV_NSEC) {
				struct tl_dir *a = &dirs[0], *b = &dirs[1];

				if (verbose > 0)
					D("%" PRIu64 " -> %" PRIu64 " maxq %u round %" PRIu64
					  " drop %" PRIu64 "/%" PRIu64 ", %" PRIu64 " <- %" PRIu64
					  " maxq %u round %" PRIu64 " drop %" PRIu64 "/%" PRIu64,
					  a->rx - a->p_rx, a->tx - a->p_tx, a->maxq, a->round_max,
					  a->drop_loss - a->p_drop_loss, a->drop_queue - a->p_drop_queue,
					  b->rx - b->p_rx, b->tx - b->p_tx, b->maxq, b->round_max,
					  b->drop_loss - b->p_drop_loss, b->drop_queue - b->p_drop_queue);
				for (i = 0; i < 2; i++) {
					struct tl_dir *dr = &dirs[i];

					dr->p_rx = dr->rx;
					dr->p_tx = dr->tx;
					dr->p_drop_loss = dr->drop_loss;
					dr->p_drop_queue = dr->drop_queue;
					dr->maxq = dr->nq;
					dr->round_max = 0;
				}
				t_rep = now;
				wake = now + NFV_NSEC;
			}
			/* sleep until the next departure, an arrival, or room */
			for (i = 0; i < 2; i++) {
				struct tl_rec *r = arena_head(&dirs[i]);

				pfd[i].fd = pd[i]->fd;
				pfd[i].events = POLLIN;
				pfd[i].revents = 0;
				if (r && !blocked[i] && r->due < wake)
					wake = r->due;
			}
			for (i = 0; i < 2; i++)
				if (blocked[i])
					pfd[1 - i].events |= POLLOUT;
			now = nfv_now_ns();
			if (wake <= now + TL_SPIN_NS) {
				/* close: spin, but still look at the ports */
				ts.tv_sec = 0;
				ts.tv_nsec = 0;
			} else {
				uint64_t dt = wake - now - TL_SPIN_NS / 2;

				ts.tv_sec = (time_t)(dt / NFV_NSEC);
				ts.tv_nsec = (long)(dt % NFV_NSEC);
			}
			if (ppoll(pfd, 2, &ts, NULL) < 0 && errno != EINTR) {
				fprintf(stderr, "tlem: ppoll: %s\n", strerror(errno));
				rc = 1;
				break;
			}
			for (i = 0; i < 2; i++)
				if ((pfd[i].revents & POLLERR) && !(pfd[i].revents & (POLLIN | POLLOUT))) {
					RD(1, "error on %s", names[i]);
					usleep(100000);
				}
		}
	}
	print_totals(dirs);
out:
	for (i = 0; i < 2; i++) {
		if (pd[i])
			nmport_close(pd[i]);
		free(names[i]);
		free(dirs[i].arena);
		free(dirs[i].frame);
	}
	return rc;
}

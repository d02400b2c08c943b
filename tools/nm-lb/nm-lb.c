/*
 * nm-lb - spread the traffic of one netmap port over groups of pipes,
 * one flow always to the same pipe (netmap's lb).
 *
 *   nm-lb -i PORT [-p [name:]N]... [-B extra] [-b batch] [-w sec] [-W]
 *         [-s sec] [-o sec]
 *
 * Each group is N pipes NAME{0 .. NAME{N-1 opened in the input port's
 * memory region, so frames move by swapping buffers (zero copy);
 * consumers open NAME}k.  A frame's pipe in a group is a symmetric hash
 * of its addresses, protocol and ports (both directions of a flow agree),
 * modulo N.  With several groups the buffers that the consumers of group
 * g hand back are forwarded to group g+1, so a packet visits one consumer
 * of every group in turn (consumers must not change the frames).  When a
 * pipe is full a frame waits in that pipe's overflow queue, in one of the
 * -B extra buffers of the region; without a free one the longest queue
 * gives up its oldest frame; with no extra buffers the frame is dropped.
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
#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

#include <libnetmap.h>

#include "../include/nfv_util.h"

#define LB_MAX_PIPES	256
#define LB_MAX_GROUPS	32
#define LB_NAME_LEN	128

struct lb_slot {
	uint32_t buf_idx;
	uint16_t len;
};

/* a FIFO of frames parked in extra buffers */
struct lb_queue {
	struct lb_slot *q;
	uint32_t cap, head, n;
};

struct lb_pipe {
	char name[LB_NAME_LEN + 32];
	struct nmport_d *d;
	struct netmap_ring *ring;
	uint32_t maxbuf;
	uint32_t seen_tail;	/* tail when we last looked: returned buffers follow it */
	int dirty;		/* slots queued since the last txsync */
	int synced;		/* txsync done for room in this pass */
	int group;
	struct lb_queue oq;
	uint64_t pkts, bytes, drop, drop_bytes;
	uint64_t p_pkts, p_bytes, p_drop, p_drop_bytes;	/* at the last report */
};

struct lb_group {
	char name[LB_NAME_LEN];
	int first, n;		/* pipes[first .. first + n) */
};

static struct lb_pipe pipes[LB_MAX_PIPES];
static int npipes;
static struct lb_group groups[LB_MAX_GROUPS];
static int ngroups;
static uint32_t *freeq;		/* extra buffers not holding a frame */
static uint32_t nfree, nextra;
static uint64_t received, nonip, bad_slots;
static uint64_t p_received, p_fwd, p_drop, p_bytes, p_drop_bytes;
static volatile sig_atomic_t stop, dump_stats;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	dump_stats = 1;
}

static void usage(FILE *f, int rc)
{
	fprintf(f,
		"usage: nm-lb -i PORT [-p [name:]N]... [-B extra] [-b batch] [-w sec] [-W]\n"
		"             [-s sec] [-o sec]\n"
		"  -i PORT       input port (netmap: is prepended unless it starts with\n"
		"                netmap: or vale)\n"
		"  -p [name:]N   a group of N output pipes name{0..name{N-1 (consumers open\n"
		"                name}k); repeat for more groups, each fed with what the\n"
		"                previous one's consumers return; default one group of 2\n"
		"                named after the input port\n"
		"  -B extra      extra buffers for the overflow queues (default 0)\n"
		"  -b batch      frames read before the input is synced again (default 2048)\n"
		"  -w sec        seconds to wait before forwarding (default 2)\n"
		"  -W            busy wait: poll() never sleeps\n"
		"  -s sec        JSON statistics to syslog every sec seconds (default off)\n"
		"  -o sec        JSON statistics to stdout every sec seconds (default off)\n"
		"  -h            this help\n"
		"SIGUSR1 prints the JSON statistics now; the exit line counts forwarded\n"
		"and dropped frames.\n");
	exit(rc);
}

/* ------------------------------------------------------------------ hash */

static inline uint64_t lb_mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h;
}

static inline uint64_t lb_fin(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * Symmetric flow hash of one frame: the (address, port) ends are put in
 * a fixed order before hashing, so A->B and B->A hash alike.  IPv4 and
 * IPv6 use addresses, protocol and (unfragmented TCP/UDP/SCTP) ports;
 * other frames their two MAC addresses.  Up to two VLAN tags are skipped.
 * Every read is bounds-checked: the frame is untrusted.
 */
static uint64_t lb_hash(const uint8_t *p, unsigned len, int *is_ip)
{
	unsigned off = 12, alen = 0, tags, l4 = 0;
	uint16_t et;
	const uint8_t *a = NULL, *b = NULL;
	int proto = -1, ports = 0, cmp, i;
	uint16_t pa = 0, pb = 0;
	uint64_t h = 0;

	*is_ip = 0;
	if (len < 14)
		return 0;
	et = (uint16_t)(p[12] << 8 | p[13]);
	for (tags = 0; (et == 0x8100 || et == 0x88a8 || et == 0x9100) && tags < 2; tags++) {
		off += 4;
		if (len < off + 2)
			return 0;
		et = (uint16_t)(p[off] << 8 | p[off + 1]);
	}
	off += 2;
	if (et == 0x0800 && len >= off + 20 && (p[off] >> 4) == 4) {
		unsigned ihl = (p[off] & 0xfu) * 4;

		if (ihl >= 20 && len >= off + ihl) {
			proto = p[off + 9];
			a = p + off + 12;
			b = p + off + 16;
			alen = 4;
			/* fragments (offset or more-fragments set) carry no ports
			 * but belong to the flow of their addresses */
			ports = ((p[off + 6] << 8 | p[off + 7]) & 0x3fff) == 0;
			l4 = off + ihl;
		}
	} else if (et == 0x86dd && len >= off + 40 && (p[off] >> 4) == 6) {
		unsigned nh = p[off + 6], x = off + 40;

		a = p + off + 8;
		b = p + off + 24;
		alen = 16;
		ports = 1;
		/* skip hop-by-hop, routing and destination options headers */
		for (i = 0; i < 8 && (nh == 0 || nh == 43 || nh == 60); i++) {
			if (len < x + 8) {
				ports = 0;
				break;
			}
			nh = p[x];
			x += 8 + p[x + 1] * 8u;
		}
		if (nh == 44)
			ports = 0;	/* a fragment */
		proto = (int)nh;
		l4 = x;
	}
	if (!a) {
		/* not IP: the pair of MAC addresses */
		a = p;
		b = p + 6;
		alen = 6;
	} else {
		*is_ip = 1;
		if (ports && (proto == 6 || proto == 17 || proto == 132) && len >= l4 + 4) {
			pa = (uint16_t)(p[l4] << 8 | p[l4 + 1]);
			pb = (uint16_t)(p[l4 + 2] << 8 | p[l4 + 3]);
		}
	}
	cmp = memcmp(a, b, alen);
	if (cmp > 0 || (cmp == 0 && pa > pb)) {
		const uint8_t *t = a;
		uint16_t tp = pa;

		a = b;
		b = t;
		pa = pb;
		pb = tp;
	}
	for (i = 0; i < (int)alen; i++)
		h = lb_mix(h, a[i]);
	for (i = 0; i < (int)alen; i++)
		h = lb_mix(h, b[i]);
	h = lb_mix(h, (uint64_t)pa << 16 | pb);
	h = lb_mix(h, (uint64_t)(proto + 1));
	return lb_fin(h);
}

/* ------------------------------------------------------- overflow queues */

static int q_init(struct lb_queue *q, uint32_t cap)
{
	q->cap = cap;
	q->head = q->n = 0;
	q->q = cap ? calloc(cap, sizeof(*q->q)) : NULL;
	return cap && !q->q ? -ENOMEM : 0;
}

static void q_push(struct lb_queue *q, uint32_t buf, uint16_t len)
{
	uint32_t t = q->head + q->n;

	if (t >= q->cap)
		t -= q->cap;
	q->q[t].buf_idx = buf;
	q->q[t].len = len;
	q->n++;
}

static struct lb_slot q_pop(struct lb_queue *q)
{
	struct lb_slot s = q->q[q->head];

	q->head = q->head + 1 == q->cap ? 0 : q->head + 1;
	q->n--;
	return s;
}

/* A free extra buffer, taking the oldest frame of the longest queue if
 * none is free (that frame is dropped).  0 = none at all. */
static uint32_t get_free_buf(void)
{
	struct lb_pipe *lp = NULL;
	struct lb_slot s;
	int i;

	if (nfree)
		return freeq[--nfree];
	for (i = 0; i < npipes; i++)
		if (pipes[i].oq.n && (!lp || pipes[i].oq.n > lp->oq.n))
			lp = &pipes[i];
	if (!lp)
		return 0;
	s = q_pop(&lp->oq);
	lp->drop++;
	lp->drop_bytes += s.len;
	return s.buf_idx;
}

/* ------------------------------------------------------------ forwarding */

static inline uint32_t tx_room(const struct netmap_ring *r)
{
	uint32_t h = r->head, t = r->tail;

	return t >= h ? t - h : t + r->num_slots - h;
}

/* Move queued frames into the pipe while it has room. */
static void drain(struct lb_pipe *lp)
{
	struct netmap_ring *r = lp->ring;
	uint32_t h = r->head, room = tx_room(r);

	while (lp->oq.n && room) {
		struct netmap_slot *ts = &r->slot[h];
		struct lb_slot s = q_pop(&lp->oq);

		/* the slot's old buffer, returned by the consumer, becomes free
		 * (the consumer wrote that index: a bad one is not kept) */
		if (ts->buf_idx >= 2 && ts->buf_idx <= lp->maxbuf)
			freeq[nfree++] = ts->buf_idx;
		ts->buf_idx = s.buf_idx;
		ts->len = s.len;
		ts->flags = NS_BUF_CHANGED;
		h = h + 1 == r->num_slots ? 0 : h + 1;
		room--;
		lp->pkts++;
		lp->bytes += s.len;
		lp->dirty = 1;
	}
	r->head = r->cur = h;
}

static void chain_pipe(struct lb_pipe *lp);

/*
 * A full ring learns that its reader made room only in a txsync: do one
 * (once per pass) before giving up on it.  The buffers that sync hands
 * back go on to the next group at once, before their slots are reused.
 */
static void refresh(struct lb_pipe *lp)
{
	if (lp->synced)
		return;
	lp->synced = 1;
	ioctl(lp->d->fd, NIOCTXSYNC, NULL);
	lp->dirty = 0;
	if (lp->group + 1 < ngroups)
		chain_pipe(lp);
}

/*
 * Hand the frame in the nfr slots starting at src[j] (a ring of sn
 * slots) to pipe lp: swap into its TX ring, else park in its overflow
 * queue (single-slot frames only), else drop.  The source slots get the
 * buffers given in exchange, with NS_BUF_CHANGED.
 */
static void send_to(struct lb_pipe *lp, struct netmap_slot *src, uint32_t sn, uint32_t j,
		    uint32_t nfr, unsigned len)
{
	struct netmap_ring *r = lp->ring;
	uint32_t f;

	if (lp->oq.n == 0 && tx_room(r) < nfr)
		refresh(lp);
	if (lp->oq.n == 0 && tx_room(r) >= nfr) {
		uint32_t h = r->head;

		/* the buffers we take in exchange were left by the consumer:
		 * check them all before touching anything */
		for (f = 0; f < nfr; f++) {
			uint32_t b = r->slot[h].buf_idx;

			if (b < 2 || b > lp->maxbuf)
				goto drop;
			h = h + 1 == r->num_slots ? 0 : h + 1;
		}
		h = r->head;

		for (f = 0; f < nfr; f++) {
			struct netmap_slot *rs = &src[j], *ts = &r->slot[h];
			uint32_t b = ts->buf_idx;

			ts->buf_idx = rs->buf_idx;
			ts->len = rs->len;
			ts->flags = NS_BUF_CHANGED | (rs->flags & NS_MOREFRAG);
			rs->buf_idx = b;
			rs->flags |= NS_BUF_CHANGED;
			h = h + 1 == r->num_slots ? 0 : h + 1;
			j = j + 1 == sn ? 0 : j + 1;
		}
		r->head = r->cur = h;
		lp->pkts++;
		lp->bytes += len;
		lp->dirty = 1;
		return;
	}
	if (nfr == 1 && nextra) {
		uint32_t b = get_free_buf();

		if (b) {
			q_push(&lp->oq, src[j].buf_idx, src[j].len);
			src[j].buf_idx = b;
			src[j].flags |= NS_BUF_CHANGED;
			return;
		}
	}
drop:
	lp->drop++;
	lp->drop_bytes += len;
}

/*
 * Frames starting at slot j of ring (sn slots, the first `avail` of
 * them ours): count the slots of the frame at j, check them, and send it
 * to its pipe in group g.  Returns the slots consumed.
 */
static uint32_t dispatch(struct netmap_ring *ring, uint32_t maxbuf, uint32_t j, uint32_t avail,
			 int g, int from_input)
{
	uint32_t nfr = 0, x = j, sn = ring->num_slots, b0 = ring->slot[j].buf_idx;
	unsigned len = 0;
	uint16_t fl;
	uint64_t h;
	int ok = 1, ip;

	do {
		uint32_t bi = ring->slot[x].buf_idx, bl = ring->slot[x].len;

		if (bi < 2 || bi > maxbuf || bl > ring->nr_buf_size)
			ok = 0;
		len += bl;
		fl = ring->slot[x].flags;
		nfr++;
		x = x + 1 == sn ? 0 : x + 1;
	} while ((fl & NS_MOREFRAG) && nfr < avail);
	if (from_input)
		received++;
	if (!ok) {
		bad_slots++;
		return nfr;
	}
	h = lb_hash((const uint8_t *)NETMAP_BUF(ring, b0), ring->slot[j].len, &ip);
	if (!ip && from_input)
		nonip++;
	send_to(&pipes[groups[g].first + (int)(h % (uint64_t)groups[g].n)], ring->slot, sn, j,
		nfr, len);
	return nfr;
}

/*
 * Buffers the consumers of lp's group returned since we last looked: the
 * slots after the old tail up to and including the new one (a pipe
 * gives a slot back with the buffer its reader left in it).  They go on
 * to the next group.
 */
static void chain_pipe(struct lb_pipe *lp)
{
	struct netmap_ring *r = lp->ring;
	uint32_t t = r->tail, j = lp->seen_tail, n = r->num_slots, left;

	if (t >= n)
		return;	/* not a ring index: leave it alone */
	left = t >= j ? t - j : t + n - j;
	while (left) {
		uint32_t used;

		j = j + 1 == n ? 0 : j + 1;
		used = dispatch(r, lp->maxbuf, j, left, lp->group + 1, 0);
		/* dispatch consumed `used` slots from j on */
		j = j + used - 1;
		if (j >= n)
			j -= n;
		left -= used < left ? used : left;
	}
	lp->seen_tail = t;
}

/* ------------------------------------------------------------ statistics */

static void print_json(FILE *f, const char *ifname, double usec)
{
	struct timeval tv;
	uint64_t fwd = 0, drop = 0, bytes = 0, dbytes = 0;
	char line[1024];
	int i;

	gettimeofday(&tv, NULL);
	for (i = 0; i < npipes; i++) {
		struct lb_pipe *lp = &pipes[i];
		double pk = (double)(lp->pkts - lp->p_pkts), dr = (double)(lp->drop - lp->p_drop);
		double by = (double)(lp->bytes - lp->p_bytes);
		double db = (double)(lp->drop_bytes - lp->p_drop_bytes);

		/* rates as netmap's lb: Mbps are 2^20 bit/s, kpps 1000 pkt/s */
		snprintf(line, sizeof(line),
			 "{\"ts\":%.6f,\"interface\":\"%.159s\",\"output_ring\":%d,"
			 "\"packets_forwarded\":%" PRIu64 ",\"packets_dropped\":%" PRIu64 ","
			 "\"data_forward_rate_Mbps\":%.4f,\"data_drop_rate_Mbps\":%.4f,"
			 "\"packet_forward_rate_kpps\":%.4f,\"packet_drop_rate_kpps\":%.4f,"
			 "\"overflow_queue_size\":%" PRIu32 "}",
			 tv.tv_sec + tv.tv_usec / 1e6, lp->name, i, lp->pkts, lp->drop,
			 usec > 0 ? by * 8 * 1e6 / usec / 1048576.0 : 0,
			 usec > 0 ? db * 8 * 1e6 / usec / 1048576.0 : 0,
			 usec > 0 ? pk * 1e6 / usec / 1000.0 : 0,
			 usec > 0 ? dr * 1e6 / usec / 1000.0 : 0, lp->oq.n);
		if (f)
			fprintf(f, "%s\n", line);
		else
			syslog(LOG_INFO, "%s", line);
		fwd += lp->pkts;
		drop += lp->drop;
		bytes += lp->bytes;
		dbytes += lp->drop_bytes;
	}
	snprintf(line, sizeof(line),
		 "{\"ts\":%.6f,\"interface\":\"%.159s\",\"output_ring\":null,"
		 "\"packets_received\":%" PRIu64 ",\"packets_forwarded\":%" PRIu64 ","
		 "\"packets_dropped\":%" PRIu64 ",\"non_ip_packets\":%" PRIu64 ","
		 "\"data_forward_rate_Mbps\":%.4f,\"data_drop_rate_Mbps\":%.4f,"
		 "\"packet_forward_rate_kpps\":%.4f,\"packet_drop_rate_kpps\":%.4f,"
		 "\"free_buffer_slots\":%" PRIu32 "}",
		 tv.tv_sec + tv.tv_usec / 1e6, ifname, received, fwd, drop, nonip,
		 usec > 0 ? (double)(bytes - p_bytes) * 8 * 1e6 / usec / 1048576.0 : 0,
		 usec > 0 ? (double)(dbytes - p_drop_bytes) * 8 * 1e6 / usec / 1048576.0 : 0,
		 usec > 0 ? (double)(fwd - p_fwd) * 1e6 / usec / 1000.0 : 0,
		 usec > 0 ? (double)(drop - p_drop) * 1e6 / usec / 1000.0 : 0, nfree);
	if (f) {
		fprintf(f, "%s\n", line);
		fflush(f);
	} else {
		syslog(LOG_INFO, "%s", line);
	}
}

/* Remember the counters the next report's rates start from. */
static void stats_mark(void)
{
	int i;

	p_fwd = p_drop = p_bytes = p_drop_bytes = 0;
	for (i = 0; i < npipes; i++) {
		struct lb_pipe *lp = &pipes[i];

		lp->p_pkts = lp->pkts;
		lp->p_bytes = lp->bytes;
		lp->p_drop = lp->drop;
		lp->p_drop_bytes = lp->drop_bytes;
		p_fwd += lp->pkts;
		p_drop += lp->drop;
		p_bytes += lp->bytes;
		p_drop_bytes += lp->drop_bytes;
	}
	p_received = received;
}

/* ------------------------------------------------------------------ main */

static int parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno || *end || end == s || s[0] == '-' || *v > max)
		return -EINVAL;
	return 0;
}

static int add_group(const char *arg, const char *defname)
{
	const char *colon = strrchr(arg, ':');
	unsigned long n;
	struct lb_group *g;
	int i;

	if (ngroups == LB_MAX_GROUPS) {
		fprintf(stderr, "nm-lb: at most %d groups\n", LB_MAX_GROUPS);
		return -EINVAL;
	}
	if (parse_uint(colon ? colon + 1 : arg, LB_MAX_PIPES, &n) < 0 || n == 0 ||
	    npipes + (int)n > LB_MAX_PIPES) {
		fprintf(stderr, "nm-lb: bad -p '%s' (at most %d pipes in all)\n", arg, LB_MAX_PIPES);
		return -EINVAL;
	}
	g = &groups[ngroups];
	if (colon) {
		size_t l = (size_t)(colon - arg);

		if (l == 0 || l >= LB_NAME_LEN) {
			fprintf(stderr, "nm-lb: bad pipe name in '%s'\n", arg);
			return -EINVAL;
		}
		memcpy(g->name, arg, l);
		g->name[l] = '\0';
	} else {
		snprintf(g->name, sizeof(g->name), "%s", defname);
	}
	g->first = npipes;
	g->n = (int)n;
	/* a name used by an earlier group continues its numbering */
	{
		int id = 0;

		for (i = 0; i < ngroups; i++)
			if (strcmp(groups[i].name, g->name) == 0)
				id += groups[i].n;
		for (i = 0; i < g->n; i++) {
			struct lb_pipe *lp = &pipes[npipes + i];

			lp->group = ngroups;
			snprintf(lp->name, sizeof(lp->name), "%s%s{%d", strncmp(g->name, "vale", 4) ?
				 "netmap:" : "", g->name, id + i);
		}
	}
	npipes += g->n;
	ngroups++;
	return 0;
}

int main(int argc, char **argv)
{
	char ifname[LB_NAME_LEN + 8];
	const char *groupargs[LB_MAX_GROUPS];
	int ngroupargs = 0, ch, busy = 0, rc = 1, i;
	unsigned long extra = 0, batch = 2048, wait_link = 2, syslog_iv = 0, stdout_iv = 0;
	struct nmport_d *in = NULL;
	struct netmap_ring *r0 = NULL;
	struct pollfd *pfd = NULL;
	uint64_t t_out, t_log, t_mark;
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
	};

	ifname[0] = '\0';
	while ((ch = getopt_long(argc, argv, "hi:p:B:b:w:Ws:o:", lopts, NULL)) != -1) {
		unsigned long v;

		switch (ch) {
		case 'i':
			if (strlen(optarg) >= LB_NAME_LEN) {
				fprintf(stderr, "nm-lb: port name too long\n");
				return 1;
			}
			if (strncmp(optarg, "netmap:", 7) && strncmp(optarg, "vale", 4))
				snprintf(ifname, sizeof(ifname), "netmap:%s", optarg);
			else
				snprintf(ifname, sizeof(ifname), "%s", optarg);
			break;
		case 'p':
			if (ngroupargs == LB_MAX_GROUPS) {
				fprintf(stderr, "nm-lb: at most %d groups\n", LB_MAX_GROUPS);
				return 1;
			}
			groupargs[ngroupargs++] = optarg;
			break;
		case 'B':
		case 'b':
		case 'w':
		case 's':
		case 'o':
			if (parse_uint(optarg, ch == 'B' ? 1000000 : ch == 'b' ? 1000000 : 100000,
				       &v) < 0 || (ch == 'b' && v == 0)) {
				fprintf(stderr, "nm-lb: bad value '%s' for -%c\n", optarg, ch);
				return 1;
			}
			*(ch == 'B' ? &extra : ch == 'b' ? &batch : ch == 'w' ? &wait_link :
			  ch == 's' ? &syslog_iv : &stdout_iv) = v;
			break;
		case 'W':
			busy = 1;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, 1);
		}
	}
	if (optind < argc || !ifname[0]) {
		fprintf(stderr, "nm-lb: %s\n", ifname[0] ? "unexpected arguments" : "missing -i PORT");
		usage(stderr, 1);
	}

	in = nmport_prepare(ifname);
	if (!in) {
		fprintf(stderr, "nm-lb: cannot parse %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	in->reg.nr_extra_bufs = (uint32_t)extra;
	if (nmport_open_desc(in) < 0) {
		fprintf(stderr, "nm-lb: cannot open %s: %s\n", ifname, strerror(errno));
		nmport_undo_prepare(in);
		return 1;
	}
	for (i = 0; i < ngroupargs; i++)
		if (add_group(groupargs[i], in->hdr.nr_name) < 0)
			goto out;
	if (ngroups == 0 && add_group("2", in->hdr.nr_name) < 0)
		goto out;

	/* the extra buffers: a list threaded through their first 4 bytes,
	 * written by netmapd; walked at most nr_extra_bufs steps, each index
	 * checked against the region */
	r0 = NETMAP_RXRING(in->nifp, in->first_rx_ring);
	nextra = 0;
	if (in->reg.nr_extra_bufs) {
		uint32_t b = in->nifp->ni_bufs_head, maxbuf = nfv_max_buf(in, r0);

		freeq = calloc(in->reg.nr_extra_bufs, sizeof(*freeq));
		if (!freeq)
			goto out;
		while (b >= 2 && b <= maxbuf && nextra < in->reg.nr_extra_bufs) {
			freeq[nextra++] = b;
			b = *(volatile uint32_t *)NETMAP_BUF(r0, b);
		}
		nfree = nextra;
		/* they are ours now; given back at exit */
		in->nifp->ni_bufs_head = 0;
	}
	printf("nm-lb: %s, %d group(s), %d pipes, %" PRIu32 " extra buffers (asked %lu)\n",
	       ifname, ngroups, npipes, nextra, extra);

	for (i = 0; i < npipes; i++) {
		struct lb_pipe *lp = &pipes[i];
		char spec[LB_NAME_LEN + 64];

		snprintf(spec, sizeof(spec), "%.159s/xT@%u", lp->name, in->reg.nr_mem_id);
		lp->d = nmport_open(spec);
		if (!lp->d) {
			/* until netmapd lets a pipe join a region it was not born
			 * in, a pipe of the input's own parent family is already
			 * there: try without @MEMID, the check below decides */
			snprintf(spec, sizeof(spec), "%.159s/xT", lp->name);
			lp->d = nmport_open(spec);
		}
		if (!lp->d) {
			fprintf(stderr, "nm-lb: cannot open %s: %s\n", lp->name, strerror(errno));
			goto out;
		}
		if (lp->d->mem != in->mem) {
			fprintf(stderr, "nm-lb: %s is not in the memory region of %s, no zero copy "
				"(close whatever uses it and retry)\n", lp->name, ifname);
			goto out;
		}
		lp->ring = NETMAP_TXRING(lp->d->nifp, lp->d->first_tx_ring);
		lp->maxbuf = nfv_max_buf(lp->d, lp->ring);
		lp->seen_tail = lp->ring->tail;
		if (q_init(&lp->oq, nextra) < 0)
			goto out;
		{
			char peer[sizeof(lp->name)];

			memcpy(peer, lp->name, sizeof(peer));
			*strrchr(peer, '{') = '}';
			printf("nm-lb: pipe %d: %s, consumers open %s (%u slots)\n", i, lp->name,
			       peer, lp->ring->num_slots);
		}
	}
	fflush(stdout);
	pfd = calloc((size_t)npipes + 1, sizeof(*pfd));
	if (!pfd)
		goto out;
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	signal(SIGUSR1, on_usr1);
	if (syslog_iv)
		openlog("nm-lb", LOG_PID, LOG_DAEMON);
	for (i = 0; i < (int)wait_link * 10 && !stop; i++)
		usleep(100000);

	t_out = t_log = t_mark = nfv_now_ns();
	rc = 0;
	while (!stop) {
		int np = 1, timeout;
		unsigned long nb = 0;
		uint64_t now;

		pfd[0].fd = in->fd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		/* room in a pipe matters only to drain its queue */
		for (i = 0; i < npipes; i++) {
			if (!pipes[i].oq.n)
				continue;
			pfd[np].fd = pipes[i].d->fd;
			pfd[np].events = POLLOUT;
			pfd[np].revents = 0;
			np++;
		}
		/* later groups are fed by what earlier consumers return:
		 * look at the earlier pipes often even when the input is idle */
		timeout = busy ? 0 : ngroups > 1 ? 100 : 1000;
		if (poll(pfd, (nfds_t)np, timeout) < 0 && errno != EINTR) {
			fprintf(stderr, "nm-lb: poll: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		for (i = 0; i < npipes; i++) {
			pipes[i].synced = 0;
			if (pipes[i].group + 1 < ngroups) {
				ioctl(pipes[i].d->fd, NIOCTXSYNC, NULL);
				chain_pipe(&pipes[i]);
			}
		}
		for (i = 0; i < npipes; i++)
			if (pipes[i].oq.n)
				drain(&pipes[i]);
		for (i = in->first_rx_ring; i <= in->last_rx_ring; i++) {
			struct netmap_ring *rx = NETMAP_RXRING(in->nifp, i);
			uint32_t maxbuf = nfv_max_buf(in, rx);

			while (!nm_ring_empty(rx)) {
				uint32_t j = rx->head, t = rx->tail, avail, used;

				avail = t >= j ? t - j : t + rx->num_slots - j;
				used = dispatch(rx, maxbuf, j, avail, 0, 1);
				j += used;
				if (j >= rx->num_slots)
					j -= rx->num_slots;
				rx->head = rx->cur = j;
				if (++nb >= batch) {
					/* release what we read, learn what came since */
					ioctl(in->fd, NIOCRXSYNC, NULL);
					nb = 0;
				}
			}
		}
		for (i = 0; i < npipes; i++) {
			if (pipes[i].dirty) {
				pipes[i].dirty = 0;
				ioctl(pipes[i].d->fd, NIOCTXSYNC, NULL);
			}
		}
		now = nfv_now_ns();
		if (dump_stats) {
			dump_stats = 0;
			print_json(stdout, ifname, (double)(now - t_mark) / 1e3);
		}
		if (stdout_iv && now - t_out >= stdout_iv * NFV_NSEC) {
			print_json(stdout, ifname, (double)(now - t_mark) / 1e3);
			t_out = now;
		}
		if (syslog_iv && now - t_log >= syslog_iv * NFV_NSEC) {
			print_json(NULL, ifname, (double)(now - t_mark) / 1e3);
			t_log = now;
		}
		if ((stdout_iv && t_out == now) || (syslog_iv && t_log == now)) {
			stats_mark();
			t_mark = now;
		}
	}
	{
		uint64_t fwd = 0, drop = 0;

		for (i = 0; i < npipes; i++) {
			fwd += pipes[i].pkts;
			drop += pipes[i].drop;
		}
		drop += bad_slots;
		printf("%" PRIu64 " packets forwarded.  %" PRIu64 " packets dropped. Total %" PRIu64
		       "\n", fwd, drop, fwd + drop);
		fflush(stdout);
	}
out:
	/* every extra buffer we hold (free or parked) goes back on the list
	 * netmapd frees at unbind */
	if (in && freeq && r0) {
		uint32_t head = 0, b;
		int k;

		for (k = 0; k < npipes; k++)
			while (pipes[k].oq.n) {
				b = q_pop(&pipes[k].oq).buf_idx;
				*(uint32_t *)NETMAP_BUF(r0, b) = head;
				head = b;
			}
		while (nfree) {
			b = freeq[--nfree];
			*(uint32_t *)NETMAP_BUF(r0, b) = head;
			head = b;
		}
		in->nifp->ni_bufs_head = head;
	}
	for (i = 0; i < npipes; i++) {
		if (pipes[i].d)
			nmport_close(pipes[i].d);
		free(pipes[i].oq.q);
	}
	if (in)
		nmport_close(in);
	free(freeq);
	free(pfd);
	return rc;
}

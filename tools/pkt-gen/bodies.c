/*
 * pkt-gen -- the per-function loops: tx, rx, ping, pong, txseq, rxseq,
 * and the dummy device.
 *
 * Each loop waits with poll() (or, with -E, spins on NIOCTXSYNC /
 * NIOCRXSYNC like netmap's pkt-gen-b), then works on the rings between
 * head and tail.  Inside a batch there is no system call and no
 * allocation.  The transmit fast path relies on buffers keeping their
 * contents: each buffer gets the template frame once (the slot carries
 * NS_BUF_CHANGED until then), after which a packet costs a slot write.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "run.h"

#define PG_LIKELY(x)	__builtin_expect(!!(x), 1)
#define PG_UNLIKELY(x)	__builtin_expect(!!(x), 0)

#define NSEC		1000000000LL
#define PG_SILENCE_NS	NSEC		/* -W: exit after 1 s without packets */
#define PG_FLUSH_NS	(2 * NSEC)	/* give up draining a stuck TX ring */
#define PG_PING_WAIT_MS	3000

/* Offsets inside a ping frame's UDP payload (netmap's: 42 and 46 for v4) */
#define PING_SEQ_OFF	0
#define PING_TS_OFF	4
#define PING_BYTES	12

static struct timespec
ts_add(struct timespec a, struct timespec b)
{
	a.tv_sec += b.tv_sec;
	a.tv_nsec += b.tv_nsec;
	if (a.tv_nsec >= NSEC) {
		a.tv_sec++;
		a.tv_nsec -= NSEC;
	}
	return a;
}

static int
setaffinity(const struct pg_targ *t)
{
	cpu_set_t set;
	int err;

	if (t->affinity < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(t->affinity, &set);
	err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (err != 0) {
		D("Unable to set affinity: %s", strerror(err));
		return -1;
	}
	return 0;
}

/* Wait until ts (CLOCK_MONOTONIC): sleep while more than 1 ms away, then spin. */
static struct timespec
wait_time(struct timespec ts)
{
	for (;;) {
		struct timespec now = pg_now();
		int64_t left = pg_ts_ns(ts) - pg_ts_ns(now);

		if (left <= 0)
			return now;
		if (left > 1000000)
			poll(NULL, 0, 1);
	}
}

/* -R: the first burst goes out on a whole second, two seconds from now */
static struct timespec
rate_start(void)
{
	struct timespec ts = pg_now();

	ts.tv_sec += 2;
	ts.tv_nsec = 0;
	wait_time(ts);
	return ts;
}

/* -X: "ring ... cur ... [buf ... flags ... len ...]" then a hexdump */
static void
dump_payload(const uint8_t *p, unsigned len, const struct netmap_ring *ring,
	     unsigned cur)
{
	unsigned i, j;

	printf("ring %p cur %5u [buf %6u flags 0x%04x len %5u]\n", (const void *)ring,
	       cur, ring->slot[cur].buf_idx, ring->slot[cur].flags, len);
	for (i = 0; i < len; i += 16) {
		char line[128];
		int o = snprintf(line, sizeof(line), "%5u: ", i);

		for (j = 0; j < 16; j++) {
			if (i + j < len)
				o += snprintf(line + o, sizeof(line) - (size_t)o,
					      "%02x ", p[i + j]);
			else
				o += snprintf(line + o, sizeof(line) - (size_t)o, "   ");
		}
		for (j = 0; j < 16 && i + j < len; j++)
			line[o++] = isprint(p[i + j]) ? (char)p[i + j] : '.';
		line[o] = '\0';
		printf("%s\n", line);
	}
}

/* Packets this thread must handle: the -n share, remainder to the first. */
static uint64_t
my_share(const struct pg_targ *t)
{
	uint64_t n = t->g->c->npackets, k = (uint64_t)t->g->nthreads;

	return n / k + ((uint64_t)t->me < n % k ? 1 : 0);
}

#define PG_WAIT_HUP	2

/*
 * Wait for the fd.  Returns 1 = go on, 0 = timeout, -1 = error (message
 * printed), PG_WAIT_HUP = the other end of the port went away and
 * nothing is ready (unetmap says so with POLLHUP; netmap would just
 * block): the caller decides whether to wait for a new peer.
 */
static int
wait_fd(struct pg_targ *t, short events, int timeout_ms, int busy)
{
	struct pollfd pfd = { .fd = t->fd, .events = events };
	int rv;

	if (busy) {
		unsigned long req = (events & POLLOUT) ? NIOCTXSYNC : NIOCRXSYNC;

		if (ioctl(t->fd, req, NULL) < 0) {
			D("ioctl error on queue %d: %s", t->me, strerror(errno));
			return -1;
		}
		return 1;
	}
	rv = poll(&pfd, 1, timeout_ms);
	if (rv < 0 && errno != EINTR) {
		D("poll error on queue %d: %s", t->me, strerror(errno));
		return 0;
	}
	if (rv > 0 && (pfd.revents & POLLHUP) && !(pfd.revents & events)) {
		if (!t->hup_said) {
			D("the other end of %s is closed, waiting for it",
			  t->g->c->ifname);
			t->hup_said = 1;
		}
		poll(NULL, 0, 10);	/* poll() would not wait: sleep a bit */
		return PG_WAIT_HUP;
	}
	if (rv > 0 && (pfd.revents & POLLERR)) {
		D("poll error on %d ring %d-%d", t->fd, t->nmd->first_tx_ring,
		  t->nmd->last_tx_ring);
		return -1;
	}
	t->hup_said = 0;
	return rv > 0;
}

/* Unbounded wait for the first packet (rx, rxseq). 0 = got one. */
static int
wait_first_packet(struct pg_targ *t)
{
	struct pollfd pfd = { .fd = t->fd, .events = POLLIN };

	while (!pg_cancelled(t)) {
		int i = poll(&pfd, 1, 1000);

		if (i > 0 && !(pfd.revents & (POLLERR | POLLHUP)))
			return 0;
		if (i > 0 && (pfd.revents & POLLHUP)) {
			/* a sender came and went: wait for the next one */
			RD(1, "waiting for initial packets, poll returns %d %d", i,
			   pfd.revents);
			poll(NULL, 0, 10);
			continue;
		}
		if (i < 0 && errno != EINTR) {
			D("poll() error: %s", strerror(errno));
			return -1;
		}
		if (i > 0 && (pfd.revents & POLLERR)) {
			D("fd error");
			return -1;
		}
		RD(1, "waiting for initial packets, poll returns %d %d", i,
		   pfd.revents);
	}
	return 0;
}

/*
 * Mark every slot of our TX rings: the buffer does not hold the frame
 * yet.  The flag goes away when the slot is sent.
 */
static void
mark_tx_slots(struct pg_targ *t)
{
	unsigned i, j;

	for (i = t->nmd->first_tx_ring; i <= t->nmd->last_tx_ring; i++) {
		struct netmap_ring *ring = NETMAP_TXRING(t->nmd->nifp, i);

		for (j = 0; j < ring->num_slots; j++)
			ring->slot[j].flags = NS_BUF_CHANGED;
	}
}

/* Push what is left and wait (bounded) until the peer has taken it. */
static void
flush_tx(struct pg_targ *t)
{
	struct netmap_if *nifp = t->nmd->nifp;
	unsigned i;

	if (t->nmd->first_tx_ring > t->nmd->last_tx_ring)
		return;
	{
		struct netmap_ring *r = NETMAP_TXRING(nifp, t->nmd->last_tx_ring);

		D("flush tail %d head %d on thread %p", r->tail, r->head,
		  (void *)pthread_self());
	}
	ioctl(t->fd, NIOCTXSYNC, NULL);
	for (i = t->nmd->first_tx_ring; i <= t->nmd->last_tx_ring; i++) {
		struct netmap_ring *ring = NETMAP_TXRING(nifp, i);
		uint32_t last_tail = ring->tail;
		int64_t since = pg_ts_ns(pg_now());

		while (!pg_cancelled(t) && nm_tx_pending(ring)) {
			int64_t now = pg_ts_ns(pg_now());

			RD(5, "pending tx tail %d head %d on ring %d", ring->tail,
			   ring->head, i);
			if (ring->tail != last_tail) {
				last_tail = ring->tail;
				since = now;
			} else if (now - since > PG_FLUSH_NS) {
				D("ring %d: %u slots not taken by the peer, giving up",
				  i, (ring->head - ring->tail - 1 + ring->num_slots) %
				  ring->num_slots);
				break;
			}
			ioctl(t->fd, NIOCTXSYNC, NULL);
			usleep(1);
		}
	}
}

/* Fragments of a packet of vsz bytes, at most cap bytes each. */
static unsigned
frag_count(unsigned vsz, unsigned want, unsigned cap)
{
	unsigned nf = want;

	if ((vsz + nf - 1) / nf > cap)
		nf = (vsz + cap - 1) / cap;
	if (nf > vsz)
		nf = vsz;
	return nf;
}

/* Size of the next packet: fixed, or random in [min, max) with -l -l. */
static unsigned
next_size(struct pg_targ *t)
{
	const struct pg_conf *c = t->g->c;

	if (c->pkt_min_size == 0 || t->g->frame.raw)
		return t->g->frame.len;
	return (unsigned)c->pkt_min_size +
	       (unsigned)(pg_rand(&t->rng) % (uint64_t)(c->pkt_size - c->pkt_min_size));
}

/* Headers of the next packet, in the thread's template copy. */
static void
update_headers(struct pg_targ *t, unsigned size, unsigned keep)
{
	struct pg_glob *g = t->g;
	uint8_t *eth = t->pkt + g->virt_header;

	if (g->c->addr_ranges || (g->c->options & (OPT_RANDOM_SRC | OPT_RANDOM_DST))) {
		pg_frame_set_addrs(&g->frame, eth, &t->it.cur, &g->c->src_ip,
				   &g->c->dst_ip);
		pg_addr_iter_next(&t->it);
	}
	pg_frame_fix(&g->frame, eth, size, keep);
}

/*
 * Fill up to count packets into ring; returns the number of packets.
 * Sets NS_REPORT on the last slot, and cur = tail if the ring had no
 * room for all of them (poll then waits for room).
 */
static unsigned
send_packets(struct pg_targ *t, struct netmap_ring *ring, unsigned count,
	     uint64_t *bytes)
{
	struct pg_glob *g = t->g;
	const struct pg_frame *f = &g->frame;
	const unsigned opt = g->c->options, vh = (unsigned)g->virt_header;
	const uint8_t *tp = t->pkt;
	unsigned head = ring->head, space = nm_ring_space(ring);
	unsigned bufsz = ring->nr_buf_size;
	unsigned full = f->len + vh < bufsz ? f->len + vh : bufsz;
	struct netmap_slot *slot = NULL;
	unsigned sent = 0, want = count;

	if (PG_LIKELY(!g->hdr_update && t->frags == 1 &&
		      !(opt & (OPT_COPY | OPT_MEMCPY | OPT_ACCESS | OPT_PREFETCH |
			       OPT_RUBBISH | OPT_INDIRECT | OPT_DUMP)))) {
		/* fixed frames: only the slot is written */
		const unsigned vsz = f->len + vh;

		if (count > space)
			count = space;
		for (sent = 0; sent < count; sent++) {
			slot = &ring->slot[head];
			if (PG_UNLIKELY(slot->flags & NS_BUF_CHANGED))
				memcpy(NETMAP_BUF(ring, slot->buf_idx), tp, full);
			slot->len = (uint16_t)vsz;
			slot->flags = 0;
			head = nm_ring_next(ring, head);
		}
		*bytes += (uint64_t)sent * vsz;
		goto done;
	}

	for (sent = 0; sent < count; sent++) {
		unsigned size = next_size(t), vsz = size + vh, nf = 1;
		uint8_t *p;

		if (t->frags > 1)	/* -F, or frames larger than a buffer */
			nf = frag_count(vsz, (unsigned)g->c->frags, t->frag_size);
		if (space < nf)
			break;
		if (g->hdr_update)
			update_headers(t, size, 0);
		if (nf > 1) {
			unsigned i, off = 0;

			for (i = 0; i < nf; i++) {
				unsigned l = vsz / nf + (i < vsz % nf ? 1 : 0);

				slot = &ring->slot[head];
				p = (uint8_t *)NETMAP_BUF(ring, slot->buf_idx);
				memcpy(p, tp + off, l);
				slot->len = (uint16_t)l;
				slot->flags = i + 1 < nf ? NS_MOREFRAG : 0;
				if (opt & OPT_DUMP)
					dump_payload(p, l, ring, head);
				off += l;
				head = nm_ring_next(ring, head);
			}
			space -= nf;
			*bytes += vsz;
			continue;
		}
		slot = &ring->slot[head];
		p = (uint8_t *)NETMAP_BUF(ring, slot->buf_idx);
		if (opt & OPT_RUBBISH) {
			/* send whatever the buffer holds */
		} else if (opt & OPT_INDIRECT) {
			slot->ptr = (uint64_t)(uintptr_t)tp;
		} else if ((slot->flags & NS_BUF_CHANGED) || t->frags != 1) {
			memcpy(p, tp, t->frags != 1 ? vsz : full);
		} else if (opt & OPT_COPY) {
			nm_pkt_copy(tp, p, (int)vsz);
		} else if (opt & OPT_MEMCPY) {
			memcpy(p, tp, vsz);
		} else {
			if (g->hdr_update)
				memcpy(p, tp, vh + f->pl_off);
			if (opt & OPT_ACCESS) {
				unsigned o;

				/* one store in every cache line of the frame */
				for (o = 0; o < vsz; o += 64)
					((volatile uint8_t *)p)[o] = tp[o];
			} else if (opt & OPT_PREFETCH) {
				__builtin_prefetch(p);
			}
		}
		slot->len = (uint16_t)vsz;
		slot->flags = (opt & OPT_INDIRECT) ? NS_INDIRECT : 0;
		if (opt & OPT_DUMP)
			dump_payload(p, vsz, ring, head);
		head = nm_ring_next(ring, head);
		space--;
		*bytes += vsz;
	}
done:
	if (sent > 0) {
		slot->flags |= NS_REPORT;
		ring->head = ring->cur = head;
	}
	if (sent < want)
		ring->cur = ring->tail;	/* wake me when there is room */
	return sent;
}

/*
 * Split the frame into fragments no larger than the buffers (or -M):
 * t->frags and t->frag_size describe the largest frame.
 */
static int
setup_frags(struct pg_targ *t, unsigned bufsz)
{
	const struct pg_conf *c = t->g->c;
	unsigned cap = bufsz, vmax = t->g->frame.len + (unsigned)t->g->virt_header;

	if (c->frag_size > 0 && c->frag_size < cap)
		cap = c->frag_size;
	t->frags = frag_count(vmax, (unsigned)c->frags, cap);
	t->frag_size = cap;
	if (t->frags > NETMAP_MAX_FRAGS) {
		D("%u bytes need %u fragments of %u bytes, more than %d",
		  vmax, t->frags, cap, NETMAP_MAX_FRAGS);
		return -1;
	}
	D("frags %u frag_size %u", t->frags, (vmax + t->frags - 1) / t->frags);
	return 0;
}

void *
sender_body(void *arg)
{
	struct pg_targ *t = arg;
	struct pg_glob *g = t->g;
	const struct pg_conf *c = g->c;
	struct netmap_if *nifp = t->nmd->nifp;
	uint64_t n = my_share(t), sent = 0, event = 0, bytes = 0;
	struct timespec nexttime = { 0, 0 };
	uint64_t tosend = 0;
	unsigned i;

	D("start, fd %d main_fd %d", t->fd, g->main_fd);
	if (setaffinity(t) < 0)
		return NULL;
	if (t->nmd->first_tx_ring > t->nmd->last_tx_ring) {
		D("no TX rings bound on %s", c->ifname);
		return NULL;
	}
	if (setup_frags(t, NETMAP_TXRING(nifp, t->nmd->first_tx_ring)->nr_buf_size) < 0)
		return NULL;
	mark_tx_slots(t);

	t->tic = pg_now();
	if (c->tx_rate) {
		t->tic = nexttime = rate_start();
	}
	while (!pg_cancelled(t) && (n == 0 || sent < n)) {
		int rv;

		if (c->tx_rate && tosend == 0) {
			tosend = (uint64_t)c->burst;
			nexttime = ts_add(nexttime, g->tx_period);
			wait_time(nexttime);
		}
		rv = wait_fd(t, POLLOUT, 2000, c->busywait);
		if (rv < 0)
			goto quit;
		if (rv == PG_WAIT_HUP)
			continue;
		if (rv == 0) {
			if (pg_cancelled(t))
				break;
			D("poll error on queue %d: timeout", t->me);
		}
		for (i = t->nmd->first_tx_ring; i <= t->nmd->last_tx_ring; i++) {
			struct netmap_ring *ring = NETMAP_TXRING(nifp, i);
			uint64_t limit = c->tx_rate ? tosend : (uint64_t)c->burst;
			unsigned m;

			if (n > 0 && n - sent < limit)
				limit = n - sent;
			if (limit == 0)
				break;
			if (nm_ring_empty(ring))
				continue;
			m = send_packets(t, ring, (unsigned)limit, &bytes);
			sent += m;
			if (m > 0)
				event++;
			pg_publish(t, sent, bytes, event);
			if (c->tx_rate) {
				tosend -= m;
				if (tosend == 0)
					break;
			}
		}
	}
	flush_tx(t);
	t->toc = pg_now();
	t->completed = 1;
quit:
	pg_publish(t, sent, bytes, event);
	return NULL;
}

/*
 * Consume up to limit slots and at most maxpkts packets from ring;
 * returns the complete packets (a slot without NS_MOREFRAG ends one).
 */
static unsigned
receive_packets(struct pg_targ *t, struct netmap_ring *ring, unsigned limit,
		uint64_t maxpkts, uint64_t *bytes)
{
	const unsigned opt = t->g->c->options;
	unsigned head = ring->head, rx, complete = 0;
	unsigned n = nm_ring_space(ring);
	uint64_t b = 0;

	if (n < limit)
		limit = n;
	if (PG_LIKELY(!(opt & (OPT_DUMP | OPT_ACCESS | OPT_COPY | OPT_MEMCPY |
			       OPT_PREFETCH)))) {
		for (rx = 0; rx < limit && complete < maxpkts; rx++) {
			const struct netmap_slot *slot = &ring->slot[head];

			b += slot->len;
			complete += !(slot->flags & NS_MOREFRAG);
			head = nm_ring_next(ring, head);
		}
	} else {
		uint64_t sink = 0;

		for (rx = 0; rx < limit && complete < maxpkts; rx++) {
			const struct netmap_slot *slot = &ring->slot[head];
			const uint8_t *p = (const uint8_t *)NETMAP_BUF(ring, slot->buf_idx);
			unsigned len = slot->len, o;

			if (len > ring->nr_buf_size)
				len = ring->nr_buf_size;	/* peer's value */
			if (opt & OPT_DUMP)
				dump_payload(p, len, ring, head);
			if (opt & OPT_COPY) {
				nm_pkt_copy(p, t->scratch, (int)len);
			} else if (opt & OPT_MEMCPY) {
				memcpy(t->scratch, p, len);
			} else if (opt & OPT_ACCESS) {
				/* read the whole frame */
				for (o = 0; o + 8 <= len; o += 8) {
					uint64_t w;

					memcpy(&w, p + o, 8);
					sink += w;
				}
				for (; o < len; o++)
					sink += p[o];
			} else if (opt & OPT_PREFETCH) {
				__builtin_prefetch(p);
			}
			b += slot->len;
			complete += !(slot->flags & NS_MOREFRAG);
			head = nm_ring_next(ring, head);
		}
		__asm__ volatile("" : : "r"(sink));
	}
	ring->head = ring->cur = head;
	*bytes += b;
	return complete;
}

void *
receiver_body(void *arg)
{
	struct pg_targ *t = arg;
	struct pg_glob *g = t->g;
	const struct pg_conf *c = g->c;
	struct netmap_if *nifp = t->nmd->nifp;
	uint64_t n = my_share(t), pkts = 0, bytes = 0, events = 0;
	int64_t last_rx;
	unsigned idle = 0;

	if (setaffinity(t) < 0)
		return NULL;
	D("reading from %s fd %d main_fd %d", c->ifname, t->fd, g->main_fd);
	if (wait_first_packet(t) < 0)
		goto quit;
	t->tic = pg_now();
	last_rx = pg_ts_ns(t->tic);
	while (!pg_cancelled(t) && (n == 0 || pkts < n)) {
		uint64_t space_min = UINT64_MAX, got = 0;
		unsigned i;

		if (c->busywait) {
			if (wait_fd(t, POLLIN, 0, 1) < 0)
				goto quit;
		} else {
			int rv = wait_fd(t, POLLIN, 1000, 0);

			if (rv < 0)
				goto quit;
			if (rv == 0 && !c->forever) {
				t->toc = pg_now();
				t->toc.tv_sec -= 1;	/* do not count the wait */
				goto out;
			}
			if (rv == PG_WAIT_HUP) {
				if (!c->forever) {	/* -W: nothing more will come */
					t->toc = pg_now();
					goto out;
				}
				continue;
			}
		}
		for (i = t->nmd->first_rx_ring; i <= t->nmd->last_rx_ring; i++) {
			struct netmap_ring *ring = NETMAP_RXRING(nifp, i);
			uint64_t busy = (ring->tail - ring->head + ring->num_slots) %
					ring->num_slots, m;

			if (ring->num_slots - 1 - busy < space_min)
				space_min = ring->num_slots - 1 - busy;
			if (busy == 0)
				continue;
			m = receive_packets(t, ring, (unsigned)c->burst,
					    n ? n - pkts : UINT64_MAX, &bytes);
			pkts += m;
			got += m;
			if (m > 0)
				events++;
			if (n && pkts >= n)
				break;
		}
		if (space_min < __atomic_load_n(&t->ctr.min_space, __ATOMIC_RELAXED))
			__atomic_store_n(&t->ctr.min_space, space_min, __ATOMIC_RELAXED);
		pg_publish(t, pkts, bytes, events);
		if (c->busywait && !c->forever) {
			/* -W without poll: look at the clock now and then */
			if (got) {
				idle = 0;
				last_rx = -1;
			} else if ((++idle & 1023) == 0) {
				int64_t now = pg_ts_ns(pg_now());

				if (last_rx < 0)
					last_rx = now;
				else if (now - last_rx > PG_SILENCE_NS) {
					t->toc = pg_now();
					t->toc.tv_sec -= 1;
					goto out;
				}
			}
		}
	}
	t->toc = pg_now();
out:
	/* give the consumed slots back, so that the sender is not left waiting */
	ioctl(t->fd, NIOCRXSYNC, NULL);
	t->completed = 1;
quit:
	pg_publish(t, pkts, bytes, events);
	return NULL;
}

/* Put a sequence number and a timestamp in a ping frame, fix checksums. */
static void
ping_fill(struct pg_targ *t, uint8_t *p, unsigned vsz, uint32_t seq)
{
	struct pg_glob *g = t->g;
	uint8_t *eth = p + g->virt_header;
	uint8_t *pl = eth + g->frame.pl_off;
	struct timespec now;
	uint32_t sec, nsec;

	nm_pkt_copy(t->pkt, p, (int)vsz);
	clock_gettime(CLOCK_MONOTONIC, &now);
	sec = (uint32_t)now.tv_sec;
	nsec = (uint32_t)now.tv_nsec;
	memcpy(pl + PING_SEQ_OFF, &seq, 4);
	memcpy(pl + PING_TS_OFF, &sec, 4);
	memcpy(pl + PING_TS_OFF + 4, &nsec, 4);
	pg_frame_fix(&g->frame, eth, vsz - (unsigned)g->virt_header, PING_BYTES);
}

/* RTT of a returned ping frame, or -1 if it is not one of ours. */
static int64_t
ping_rtt(const struct pg_targ *t, const uint8_t *p, unsigned len)
{
	const struct pg_glob *g = t->g;
	unsigned off = (unsigned)g->virt_header + g->frame.pl_off;
	struct timespec now;
	uint32_t sec, nsec;
	int64_t d;

	if (len < off + PING_BYTES)
		return -1;
	memcpy(&sec, p + off + PING_TS_OFF, 4);
	memcpy(&nsec, p + off + PING_TS_OFF + 4, 4);
	clock_gettime(CLOCK_MONOTONIC, &now);
	d = ((int64_t)(uint32_t)((uint32_t)now.tv_sec - sec)) * NSEC +
	    ((int64_t)now.tv_nsec - (int64_t)nsec);
	if (d < 0 || d > 60 * NSEC)
		return -1;
	return d;
}

static void
print_hist(const struct pg_hist *h)
{
	char buf[64 * 8 + 8];
	int kmin, kmax, k, off = 0;

	for (kmin = 0; kmin < 64 && h->log2[kmin] == 0; kmin++)
		;
	for (kmax = 63; kmax >= kmin && h->log2[kmax] == 0; kmax--)
		;
	if (kmin > kmax)
		return;
	buf[0] = '\0';
	for (k = kmin; k <= kmax; k++)
		off += snprintf(buf + off, sizeof(buf) - (size_t)off, " %5d",
				(int)h->log2[k]);
	D("k: %llu .. %llu\n\t%s", 1ULL << kmin, 1ULL << kmax, buf);
}

static void
print_rtt(const struct pg_hist *h)
{
	if (h->count == 0) {
		D("count 0 RTT: no replies");
		return;
	}
	D("count %d RTT: min %d av %d ns", (int)h->count, (int)h->min,
	  (int)(h->sum / h->count));
	D("count %d RTT: max %d p50 %d p99 %d ns", (int)h->count, (int)h->max,
	  (int)pg_hist_pct(h, 50), (int)pg_hist_pct(h, 99));
	print_hist(h);
}

/* Consume the replies; returns how many were ping frames. */
static unsigned
ping_collect(struct pg_targ *t, struct pg_hist *sec_h)
{
	struct netmap_if *nifp = t->nmd->nifp;
	unsigned i, got = 0;

	for (i = t->nmd->first_rx_ring; i <= t->nmd->last_rx_ring; i++) {
		struct netmap_ring *ring = NETMAP_RXRING(nifp, i);

		while (!nm_ring_empty(ring)) {
			struct netmap_slot *slot = &ring->slot[ring->head];
			const uint8_t *p = (const uint8_t *)NETMAP_BUF(ring, slot->buf_idx);
			unsigned len = slot->len <= ring->nr_buf_size ? slot->len :
				       ring->nr_buf_size;
			int64_t rtt = ping_rtt(t, p, len);

			if (t->g->c->options & OPT_DUMP)
				dump_payload(p, len, ring, ring->head);
			if (rtt >= 0) {
				pg_hist_add(sec_h, (uint64_t)rtt);
				got++;
			}
			ring->head = ring->cur = nm_ring_next(ring, ring->head);
		}
	}
	return got;
}

void *
ping_body(void *arg)
{
	struct pg_targ *t = arg;
	struct pg_glob *g = t->g;
	const struct pg_conf *c = g->c;
	struct netmap_if *nifp = t->nmd->nifp;
	unsigned vsz = g->frame.len + (unsigned)g->virt_header;
	uint64_t n = c->npackets, sent = 0, events = 0, replies = 0;
	struct timespec nexttime = { 0, 0 }, last_print;
	uint64_t tosend = 0;
	struct pg_hist *sec_h = t->hist, *all_h = t->hist + 1;
	uint32_t seq = 0;

	if (setaffinity(t) < 0)
		return NULL;
	if (g->frame.len < g->frame.pl_off + PING_BYTES) {
		D("frames of %u bytes are too short for ping, need %u", g->frame.len,
		  g->frame.pl_off + PING_BYTES);
		return NULL;
	}
	if (t->nmd->first_tx_ring > t->nmd->last_tx_ring ||
	    t->nmd->first_rx_ring > t->nmd->last_rx_ring) {
		D("ping needs both TX and RX rings");
		return NULL;
	}
	if (vsz > NETMAP_TXRING(nifp, t->nmd->first_tx_ring)->nr_buf_size) {
		D("ping frames must fit in one buffer (%u bytes)",
		  NETMAP_TXRING(nifp, t->nmd->first_tx_ring)->nr_buf_size);
		return NULL;
	}
	pg_hist_reset(sec_h);
	pg_hist_reset(all_h);
	t->tic = last_print = pg_now();
	if (c->tx_rate)
		t->tic = nexttime = rate_start();
	while (!pg_cancelled(t) && (n == 0 || sent < n)) {
		struct netmap_ring *ring = NETMAP_TXRING(nifp, t->nmd->first_tx_ring);
		uint64_t limit = c->tx_rate ? tosend : (uint64_t)c->burst, m;
		unsigned got;
		struct timespec now;

		if (c->tx_rate && tosend == 0) {
			tosend = (uint64_t)c->burst;
			limit = tosend;
			nexttime = ts_add(nexttime, g->tx_period);
			wait_time(nexttime);
		}
		if (n > 0 && n - sent < limit)
			limit = n - sent;
		if (t->hup_said)
			limit = 0;	/* nobody to answer: just wait */
		for (m = 0; m < limit; m++) {
			struct netmap_slot *slot;

			if (nm_ring_empty(ring)) {
				RD(1, "-- ouch, cannot send");
				break;
			}
			slot = &ring->slot[ring->head];
			ping_fill(t, (uint8_t *)NETMAP_BUF(ring, slot->buf_idx), vsz, seq++);
			slot->len = (uint16_t)vsz;
			slot->flags = 0;
			ring->head = ring->cur = nm_ring_next(ring, ring->head);
		}
		sent += m;
		if (m > 0)
			events++;
		if (c->tx_rate)
			tosend -= m;
		pg_publish(t, sent, sent * vsz, events);

		if (c->busywait) {
			int64_t deadline = pg_ts_ns(pg_now()) + PG_PING_WAIT_MS * 1000000LL;

			if (ioctl(t->fd, NIOCTXSYNC, NULL) < 0)
				D("TXSYNC error on queue %d: %s", t->me, strerror(errno));
			for (got = 0; got < m && !pg_cancelled(t);) {
				ioctl(t->fd, NIOCRXSYNC, NULL);
				got += ping_collect(t, sec_h);
				if (got < m && pg_ts_ns(pg_now()) > deadline)
					break;
			}
			replies += got;
		} else {
			int rv = wait_fd(t, POLLIN, PG_PING_WAIT_MS, 0);

			if (rv < 0)
				break;
			if (rv == 0) {
				D("poll error on queue %d: timeout", t->me);
				continue;
			}
			if (rv == PG_WAIT_HUP)
				continue;
			replies += ping_collect(t, sec_h);
		}
		now = pg_now();
		if (pg_ts_ns(now) - pg_ts_ns(last_print) >= NSEC) {
			print_rtt(sec_h);
			pg_hist_merge(all_h, sec_h);
			pg_hist_reset(sec_h);
			last_print = now;
		}
	}
	/* replies may lag behind the requests (a busy peer): wait for the
	 * ones still out, as long as a single reply may take */
	if (!c->busywait) {
		int64_t deadline = pg_ts_ns(pg_now()) + PG_PING_WAIT_MS * 1000000LL;

		while (replies < sent && !pg_cancelled(t) && pg_ts_ns(pg_now()) < deadline)
			if (wait_fd(t, POLLIN, 100, 0) == 1)
				replies += ping_collect(t, sec_h);
	}
	pg_hist_merge(all_h, sec_h);
	if (all_h->count > 0) {
		D("RTT over %llu packets: min %d av %d ns",
		  (unsigned long long)all_h->count, (int)all_h->min,
		  (int)(all_h->sum / all_h->count));
		D("RTT over %llu packets: max %d p50 %d p99 %d ns",
		  (unsigned long long)all_h->count, (int)all_h->max,
		  (int)pg_hist_pct(all_h, 50), (int)pg_hist_pct(all_h, 99));
		print_hist(all_h);
	} else if (sent > 0) {
		D("RTT over 0 packets: no replies to %llu requests",
		  (unsigned long long)sent);
	}
	t->toc = pg_now();
	t->completed = 1;
	return NULL;
}

/* Swap two equal-length byte ranges (does not change any checksum). */
static void
swap_bytes(uint8_t *a, uint8_t *b, unsigned len)
{
	unsigned i;

	for (i = 0; i < len; i++) {
		uint8_t x = a[i];

		a[i] = b[i];
		b[i] = x;
	}
}

void *
pong_body(void *arg)
{
	struct pg_targ *t = arg;
	const struct pg_conf *c = t->g->c;
	struct netmap_if *nifp = t->nmd->nifp;
	const unsigned vh = (unsigned)t->g->virt_header;
	uint64_t n = c->npackets, sent = 0, bytes = 0, events = 0;

	if (setaffinity(t) < 0)
		return NULL;
	if (t->nmd->first_tx_ring > t->nmd->last_tx_ring ||
	    t->nmd->first_rx_ring > t->nmd->last_rx_ring) {
		D("pong needs both TX and RX rings");
		return NULL;
	}
	t->tic = pg_now();
	while (!pg_cancelled(t) && (n == 0 || sent < n)) {
		struct netmap_ring *txring;
		uint32_t txhead, txavail;
		unsigned i;

		if (c->busywait) {
			ioctl(t->fd, NIOCRXSYNC, NULL);
		} else {
			int rv = wait_fd(t, POLLIN, 1000, 0);

			if (rv < 0)
				break;
			if (rv == 0) {
				D("poll error on queue %d: timeout", t->me);
				continue;
			}
			if (rv == PG_WAIT_HUP)
				continue;
		}
		txring = NETMAP_TXRING(nifp, t->nmd->first_tx_ring);
		txhead = txring->head;
		txavail = nm_ring_space(txring);
		for (i = t->nmd->first_rx_ring; i <= t->nmd->last_rx_ring; i++) {
			struct netmap_ring *rxring = NETMAP_RXRING(nifp, i);

			while (!nm_ring_empty(rxring) && (n == 0 || sent < n)) {
				struct netmap_slot *rs = &rxring->slot[rxring->head];
				struct netmap_slot *ts;
				const uint8_t *src = (const uint8_t *)NETMAP_BUF(rxring, rs->buf_idx);
				unsigned len = rs->len;
				uint8_t *dst, *eth;

				rxring->head = rxring->cur = nm_ring_next(rxring, rxring->head);
				if (txavail == 0 || len > txring->nr_buf_size ||
				    len > rxring->nr_buf_size)
					continue;	/* no room, or a bogus length */
				ts = &txring->slot[txhead];
				dst = (uint8_t *)NETMAP_BUF(txring, ts->buf_idx);
				nm_pkt_copy(src, dst, (int)len);
				eth = dst + vh;
				if (len >= vh + PG_ETH_HLEN) {
					uint16_t type = (uint16_t)(eth[12] << 8 | eth[13]);

					swap_bytes(eth, eth + 6, 6);	/* MACs */
					if (type == 0x0800 && len >= vh + 34)
						swap_bytes(eth + 26, eth + 30, 4);
					else if (type == 0x86dd && len >= vh + 54)
						swap_bytes(eth + 22, eth + 38, 16);
				}
				ts->len = (uint16_t)len;
				ts->flags = 0;
				if (c->options & OPT_DUMP)
					dump_payload(dst, len, txring, txhead);
				txhead = nm_ring_next(txring, txhead);
				txavail--;
				sent++;
				bytes += len;
			}
		}
		if (txhead != txring->head) {
			txring->head = txring->cur = txhead;
			events++;
		}
		pg_publish(t, sent, bytes, events);
		if (c->busywait)
			ioctl(t->fd, NIOCTXSYNC, NULL);
	}
	ioctl(t->fd, NIOCTXSYNC, NULL);	/* the last replies */
	t->toc = pg_now();
	t->completed = 1;
	return NULL;
}

void *
txseq_body(void *arg)
{
	struct pg_targ *t = arg;
	struct pg_glob *g = t->g;
	const struct pg_conf *c = g->c;
	const struct pg_frame *f = &g->frame;
	const unsigned vh = (unsigned)g->virt_header, opt = c->options;
	struct netmap_ring *ring;
	uint64_t n = c->npackets, sent = 0, event = 0, bytes = 0, since_gap = 0;
	struct timespec nexttime = { 0, 0 };
	uint64_t budget = 0;
	const unsigned frags = (unsigned)c->frags;
	unsigned fcnt = frags;
	uint32_t sequence = 0;

	D("start, fd %d main_fd %d", t->fd, g->main_fd);
	if (setaffinity(t) < 0)
		return NULL;
	if (t->nmd->first_tx_ring > t->nmd->last_tx_ring) {
		D("no TX rings bound on %s", c->ifname);
		return NULL;
	}
	/* only the first ring: one sequence */
	ring = NETMAP_TXRING(t->nmd->nifp, t->nmd->first_tx_ring);
	if (f->len < f->pl_off + 4 || f->len + vh > ring->nr_buf_size) {
		D("txseq needs frames of %u..%u bytes", f->pl_off + 4,
		  ring->nr_buf_size - vh);
		return NULL;
	}
	mark_tx_slots(t);
	t->tic = pg_now();
	if (c->tx_rate)
		t->tic = nexttime = rate_start();
	while (!pg_cancelled(t) && (n == 0 || sent < n)) {
		unsigned space, head, limit, k;
		struct netmap_slot *slot = NULL;
		int rv;

		if (!c->tx_rate) {
			budget = (uint64_t)c->burst;
		} else if (budget == 0) {
			budget = (uint64_t)c->burst;
			nexttime = ts_add(nexttime, g->tx_period);
			wait_time(nexttime);
		}
		rv = wait_fd(t, POLLOUT, 2000, c->busywait);
		if (rv < 0)
			goto quit;
		if (rv == PG_WAIT_HUP)
			continue;
		if (rv == 0) {
			if (pg_cancelled(t))
				break;
			D("poll error on queue %d: timeout", t->me);
		}
		space = nm_ring_space(ring);
		if (space == 0)
			continue;
		limit = budget < space ? (unsigned)budget : space;
		if (frags > 1)
			limit = limit / frags * frags;	/* whole packets only */
		if (n > 0 && n - sent < limit)
			limit = (unsigned)(n - sent);
		if (limit == 0) {
			ring->cur = ring->tail;
			continue;
		}
		head = ring->head;
		for (k = 0; k < limit; k++) {
			unsigned size = next_size(t), vsz = size + vh;
			uint8_t *p, *teth = t->pkt + vh;

			slot = &ring->slot[head];
			p = (uint8_t *)NETMAP_BUF(ring, slot->buf_idx);
			pg_frame_put_seq(f, teth, sequence);
			if (fcnt == frags && (c->addr_ranges ||
			    (opt & (OPT_RANDOM_SRC | OPT_RANDOM_DST)))) {
				pg_frame_set_addrs(f, teth, &t->it.cur, &c->src_ip,
						   &c->dst_ip);
				pg_addr_iter_next(&t->it);
			}
			pg_frame_fix(f, teth, size, 4);
			if (slot->flags & NS_BUF_CHANGED)
				memcpy(p, t->pkt, f->len + vh);
			else if (opt & OPT_COPY)
				nm_pkt_copy(t->pkt, p, (int)vsz);
			else if (opt & OPT_MEMCPY)
				memcpy(p, t->pkt, vsz);
			else
				memcpy(p, t->pkt, vh + f->pl_off + 4);
			if (opt & OPT_DUMP)
				dump_payload(p, vsz, ring, head);
			slot->len = (uint16_t)vsz;
			slot->flags = 0;
			if (--fcnt > 0 && k + 1 < limit)
				slot->flags = NS_MOREFRAG;
			else
				fcnt = frags;
			head = nm_ring_next(ring, head);
			bytes += vsz;
			sequence++;
			if (c->seq_gap && ++since_gap == c->seq_gap) {
				sequence++;	/* -G: leave a hole */
				since_gap = 0;
			}
		}
		slot->flags |= NS_REPORT;
		ring->head = ring->cur = head;
		sent += limit;
		if (c->tx_rate)
			budget -= limit < budget ? limit : budget;
		event++;
		pg_publish(t, sent, bytes, event);
	}
	flush_tx(t);
	t->toc = pg_now();
	t->completed = 1;
quit:
	pg_publish(t, sent, bytes, event);
	return NULL;
}

/* "|len,flags|" for each slot of a multi-slot packet */
static const char *
multi_slot_to_string(const struct netmap_ring *ring, unsigned head,
		     unsigned nfrags, char *buf, size_t len)
{
	size_t o = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < nfrags && o < len; i++) {
		const struct netmap_slot *s = &ring->slot[head];
		int m = snprintf(buf + o, len - o, "|%u,%x|", s->len, s->flags);

		if (m < 0 || (size_t)m >= len - o)
			break;
		o += (size_t)m;
		head = nm_ring_next(ring, head);
	}
	return buf;
}

void *
rxseq_body(void *arg)
{
	struct pg_targ *t = arg;
	struct pg_glob *g = t->g;
	const struct pg_conf *c = g->c;
	const unsigned vh = (unsigned)g->virt_header;
	unsigned nrings = (unsigned)(t->nmd->last_rx_ring - t->nmd->first_rx_ring + 1);
	uint64_t n = c->npackets, pkts = 0, bytes = 0, events = 0;
	uint64_t gaps = 0, reorder = 0;
	unsigned frags = 0, frags_exp = 1;
	int first_packet = 1;
	uint32_t *seq_exp = NULL;
	uint8_t *seen = NULL;
	int64_t last_rx = -1;
	unsigned idle = 0;

	if (setaffinity(t) < 0)
		return NULL;
	if (t->nmd->first_rx_ring > t->nmd->last_rx_ring) {
		D("no RX rings bound on %s", c->ifname);
		return NULL;
	}
	seq_exp = calloc(nrings, sizeof(*seq_exp));
	seen = calloc(nrings, 1);
	if (seq_exp == NULL || seen == NULL) {
		D("failed to allocate seq array");
		goto quit;
	}
	D("reading from %s fd %d main_fd %d", c->ifname, t->fd, g->main_fd);
	if (wait_first_packet(t) < 0)
		goto quit;
	t->tic = pg_now();
	while (!pg_cancelled(t) && (n == 0 || pkts < n)) {
		uint64_t got = 0;
		unsigned j;

		if (c->busywait) {
			if (wait_fd(t, POLLIN, 0, 1) < 0)
				goto quit;
		} else {
			int rv = wait_fd(t, POLLIN, 1000, 0);

			if (rv < 0)
				goto quit;
			if (rv == 0 && !c->forever) {
				t->toc = pg_now();
				t->toc.tv_sec -= 1;
				goto out;
			}
			if (rv == PG_WAIT_HUP) {
				if (!c->forever) {
					t->toc = pg_now();
					goto out;
				}
				continue;
			}
		}
		for (j = t->nmd->first_rx_ring; j <= t->nmd->last_rx_ring; j++) {
			struct netmap_ring *ring = NETMAP_RXRING(t->nmd->nifp, j);
			unsigned r = j - t->nmd->first_rx_ring, head, i, limit;

			if (nm_ring_empty(ring))
				continue;
			limit = nm_ring_space(ring);
			if (limit > (unsigned)c->burst)
				limit = (unsigned)c->burst;
			if (n > 0 && n - pkts < limit)
				limit = (unsigned)(n - pkts);
			for (head = ring->head, i = 0; i < limit; i++) {
				struct netmap_slot *slot = &ring->slot[head];
				const uint8_t *p = (const uint8_t *)NETMAP_BUF(ring, slot->buf_idx);
				unsigned len = slot->len <= ring->nr_buf_size ? slot->len :
					       ring->nr_buf_size;
				uint32_t seq;
				int ok;

				if (c->options & OPT_DUMP)
					dump_payload(p, len, ring, head);
				frags++;
				if (!(slot->flags & NS_MOREFRAG)) {
					if (!first_packet && frags != frags_exp) {
						char prbuf[512];

						RD(1, "Received packets with %u frags, "
						   "expected %u, '%s'", frags, frags_exp,
						   multi_slot_to_string(ring,
							(head + ring->num_slots + 1 - frags) %
							ring->num_slots, frags, prbuf,
							sizeof(prbuf)));
					}
					first_packet = 0;
					frags_exp = frags;
					frags = 0;
				}
				ok = 0;
				seq = 0;
				if (len > vh)
					seq = pg_frame_get_seq(p + vh, len - vh, &ok);
				if (!ok) {
					RD(1, "%s: packet too small (len=%u)", __func__,
					   slot->len);
				} else if (!seen[r]) {
					seen[r] = 1;	/* the first one sets the pace */
					seq_exp[r] = seq + 1;
				} else {
					if (seq != seq_exp[r]) {
						uint32_t delta = seq - seq_exp[r];

						if (delta < (0xFFFFFFFFu >> 1)) {
							gaps++;
							RD(2, "Sequence GAP: exp %u found %u",
							   seq_exp[r], seq);
						} else {
							reorder++;
							RD(2, "Sequence OUT OF ORDER: "
							   "exp %u found %u", seq_exp[r], seq);
						}
					}
					seq_exp[r] = seq + 1;
				}
				bytes += slot->len;
				head = nm_ring_next(ring, head);
				pkts++;
				got++;
			}
			ring->cur = ring->head = head;
			events++;
		}
		pg_publish(t, pkts, bytes, events);
		if (c->busywait && !c->forever) {
			if (got) {
				idle = 0;
				last_rx = -1;
			} else if ((++idle & 1023) == 0) {
				int64_t now = pg_ts_ns(pg_now());

				if (last_rx < 0) {
					last_rx = now;
				} else if (now - last_rx > PG_SILENCE_NS) {
					t->toc = pg_now();
					t->toc.tv_sec -= 1;
					goto out;
				}
			}
		}
	}
	t->toc = pg_now();
out:
	ioctl(t->fd, NIOCRXSYNC, NULL);
	if (gaps || reorder)
		D("%llu sequence gaps, %llu out of order",
		  (unsigned long long)gaps, (unsigned long long)reorder);
	t->completed = 1;
quit:
	pg_publish(t, pkts, bytes, events);
	free(seq_exp);
	free(seen);
	return NULL;
}

/*
 * "-i null": no port.  Senders and receivers count bursts as if they had
 * moved them; this measures pkt-gen's own loop and report machinery.
 */
void *
dummy_body(void *arg)
{
	struct pg_targ *t = arg;
	const struct pg_conf *c = t->g->c;
	uint64_t n = my_share(t), pkts = 0, events = 0;
	const uint64_t sz = t->g->frame.len + (unsigned)t->g->virt_header;
	struct timespec nexttime = { 0, 0 };

	if (setaffinity(t) < 0)
		return NULL;
	D("using a dummy send routine");
	t->tic = pg_now();
	if (c->tx_rate)
		t->tic = nexttime = rate_start();
	while (!pg_cancelled(t) && (n == 0 || pkts < n)) {
		uint64_t m = (uint64_t)c->burst;

		if (c->tx_rate) {
			nexttime = ts_add(nexttime, t->g->tx_period);
			wait_time(nexttime);
		}
		if (n > 0 && n - pkts < m)
			m = n - pkts;
		pkts += m;
		events++;
		pg_publish(t, pkts, pkts * sz, events);
	}
	t->toc = pg_now();
	t->completed = 1;
	return NULL;
}

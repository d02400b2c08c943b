/*
 * Test objective: a monitor can make its own mirror lossy, never hurt the
 * port it monitors: whatever a copy monitor writes in its rings and
 * control blocks, however long it holds the producers' lock, or if it
 * never reads, the monitored traffic arrives exactly (every frame, in
 * order, intact), nothing hangs, and the counters say what was lost.  A
 * lock left by a producer that died is taken over.  A zero-copy monitor
 * that scribbles (it shares the region, as a pipe peer does) may garble
 * data but neither crashes nor stalls anybody.
 *
 * Operations (pipe mh<pid>{N, switch vh<pid>):
 *  1. A{/rt scribbles on its ring, control block and slots between
 *     batches: 500 frames A->B and 300 B->A arrive exactly;
 *  2. A{/t's lock is held by a live process: 200 frames arrive exactly,
 *     its counters say 200 busy and nothing mirrored;
 *  3. that process is killed: after at most a few milliseconds the lock
 *     is taken over: of 50 more frames the monitor gets a suffix, in
 *     order, and mirrored + busy grow by exactly 50;
 *  4. A{/t never reads: 5000 frames arrive exactly; it holds 1023, and
 *     counts 4977 dropped;
 *  5. the same through a VALE switch (the switch is the producer): b/r's
 *     lock held, then its indices scribbled: b gets 400 frames exactly,
 *     b/r counts 200 busy; netmapd lives on;
 *  6. A{/z scribbles: counts still exact, nothing hangs.
 */
#include <signal.h>
#include <sys/wait.h>

#include "mon_util.h"

static char base[40];
static struct mrec rec[MT_MAX];
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The owner id a live process has in a lock word: pid | start << 32 */
static uint64_t owner_of(pid_t pid)
{
	char path[64], buf[512], *p;
	unsigned long long start = 0;
	int field;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	REQUIRE(f, "open %s", path);
	REQUIRE(fgets(buf, sizeof(buf), f), "read %s", path);
	fclose(f);
	p = strrchr(buf, ')') + 2;
	for (field = 3; field < 22; field++)
		p = strchr(p, ' ') + 1;
	start = strtoull(p, NULL, 10);
	return (uint32_t)pid | (uint64_t)start << 32;
}

static struct unm_ring_ctl *mon_ctl(struct nmport_d *m)
{
	return unm_ring_ctl(NETMAP_RXRING(m->nifp, 0));
}

static void scribble(struct nmport_d *m)
{
	struct netmap_ring *r = NETMAP_RXRING(m->nifp, 0);
	struct unm_ring_ctl *c = unm_ring_ctl(r);
	uint32_t n = 1024, k;

	switch (rnd() % 5) {
	case 0:
		atomic_store(&c->hw_idx, (uint32_t)rnd() % (rnd() % 2 ? 4096 : n));
		atomic_store(&c->app_idx, (uint32_t)rnd() % (rnd() % 2 ? 4096 : n));
		break;
	case 1:
		for (k = 0; k < 64; k++) {
			struct netmap_slot *s = &r->slot[rnd() % n];

			s->buf_idx = rnd() % 3 ? (uint32_t)rnd() : (uint32_t)(rnd() % 64);
			s->len = (uint16_t)rnd();
			s->flags = (uint16_t)rnd();
		}
		break;
	case 2:
		r->head = (uint32_t)rnd() % 2048;
		r->cur = (uint32_t)rnd();
		r->tail = (uint32_t)rnd();
		c->hwcur = (uint32_t)rnd() % 2048;
		c->hwtail = (uint32_t)rnd();
		break;
	case 3:
		atomic_store(&c->app_sleep, 1);
		atomic_store(&c->hw_lock, rnd() % 2 ? 0 : rnd());
		break;
	default:
		ioctl(m->fd, NIOCRXSYNC, NULL);
	}
}

/* n frames a -> b in batches, b takes them: b must get exactly them */
static void transfer(struct nmport_d *a, struct nmport_d *b, uint32_t tag, uint32_t first,
		     unsigned n, unsigned batch, struct nmport_d *hostile)
{
	unsigned sent = 0, got = 0, bad = 0, k;

	while (sent < n) {
		unsigned want = n - sent < batch ? n - sent : batch, s, m;

		if (hostile)
			scribble(hostile);
		s = mt_send(a, 0, tag, first + sent, want, 60 + sent % 200);
		CHECK_EQ(s, want);
		m = mt_take(b, rec, MT_MAX);
		for (k = 0; k < m; k++) {
			/* frames of the batch starting at `sent` are 60 + sent % 200
			 * bytes long */
			uint32_t i = got + k, len = 60 + (i / batch * batch) % 200;
			bool good = rec[k].ok && rec[k].tag == tag && rec[k].seq == first + i &&
				    rec[k].len == len;

			bad += !good;
		}
		got += m;
		mt_release(b);
		ioctl(a->fd, NIOCTXSYNC, NULL);
		sent += s;
		if (s == 0)
			break;
	}
	CHECK_EQ(got, n);
	CHECK_EQ(bad, 0);
}

static void pipe_scribbler(void)
{
	struct nmport_d *a = mt_open("netmap:%s{1", base), *b = mt_open("netmap:%s}1", base);
	struct nmport_d *h = mt_open("netmap:%s{1/rt", base);

	transfer(a, b, 'A', 0, 500, 50, h);
	transfer(b, a, 'B', 0, 300, 30, h);
	nmport_close(h);
	transfer(a, b, 'A', 500, 100, 50, NULL);
	nmport_close(b);
	nmport_close(a);
}

static void pipe_lock(void)
{
	struct nmport_d *a = mt_open("netmap:%s{2", base), *b = mt_open("netmap:%s}2", base);
	struct nmport_d *h = mt_open("netmap:%s{2/t", base);
	struct unm_mon_stats s0, s1;
	unsigned n, k, i;
	pid_t child;

	child = fork();
	REQUIRE(child >= 0, "fork");
	if (child == 0) {
		pause();
		_exit(0);
	}
	atomic_store(&mon_ctl(h)->hw_lock, owner_of(child));
	CHECK_EQ(mt_stats(h->fd, NULL, &s0, UNM_MON_SELF, 0), 0);
	transfer(a, b, 'A', 0, 200, 20, NULL);
	CHECK_EQ(mt_stats(h->fd, NULL, &s1, UNM_MON_SELF, 0), 0);
	CHECK_EQ(s1.busy - s0.busy, 200);
	CHECK_EQ(s1.pkts - s0.pkts, 0);
	CHECK_EQ(mt_pending(h), 0);

	/* the holder dies: its lock is taken over */
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	for (i = 0; i < 5; i++) {
		transfer(a, b, 'A', 200 + 10 * i, 10, 10, NULL);
		usleep(3000);
	}
	CHECK_EQ(mt_stats(h->fd, NULL, &s0, UNM_MON_SELF, 0), 0);
	CHECK_EQ((s0.pkts - s1.pkts) + (s0.busy - s1.busy), 50);
	n = mt_take(h, rec, MT_MAX);
	CHECK(n >= 30, "after the holder died, %u of 50 frames mirrored", n);
	CHECK_EQ(n, s0.pkts - s1.pkts);
	/* a suffix of what was sent, in order */
	for (k = 0; k < n && k < MT_MAX; k++)
		CHECK(rec[k].ok && rec[k].seq == 250 - n + k, "frame %u: seq %u", k, rec[k].seq);
	mt_release(h);
	nmport_close(h);
	nmport_close(b);
	nmport_close(a);
}

static void pipe_never_reads(void)
{
	struct nmport_d *a = mt_open("netmap:%s{3", base), *b = mt_open("netmap:%s}3", base);
	struct nmport_d *h = mt_open("netmap:%s{3/t", base);
	struct unm_mon_stats st;

	transfer(a, b, 'A', 0, 5000, 300, NULL);
	CHECK_EQ(mt_stats(h->fd, NULL, &st, UNM_MON_SELF, 0), 0);
	CHECK_EQ(st.pkts, 1023);
	CHECK_EQ(st.drops, 5000 - 1023);
	CHECK_EQ(mt_pending(h), 1023);
	nmport_close(h);
	nmport_close(b);
	nmport_close(a);
}

/* like transfer(), through the switch: wait until a's slots came back */
static void vale_transfer(struct nmport_d *a, struct nmport_d *b, uint32_t first, unsigned n)
{
	unsigned sent = 0, got = 0, bad = 0, k;
	double t0;

	while (sent < n) {
		struct netmap_ring *tx = NETMAP_TXRING(a->nifp, 0);
		unsigned want = n - sent < 100 ? n - sent : 100, m;

		CHECK_EQ(mt_send(a, 0, 'V', first + sent, want, 60), want);
		t0 = t_now();
		while (nm_tx_pending(tx) && t_now() - t0 < 10) {
			usleep(100);
			ioctl(a->fd, NIOCTXSYNC, NULL);
		}
		m = mt_take(b, rec, MT_MAX);
		for (k = 0; k < m; k++)
			bad += !(rec[k].ok && rec[k].seq == first + got + k);
		got += m;
		mt_release(b);
		sent += want;
	}
	CHECK_EQ(got, n);
	CHECK_EQ(bad, 0);
}

static void vale_hostile(void)
{
	char sw[24];
	struct nmport_d *a, *b, *h;
	struct unm_mon_stats s0, s1;
	unsigned i;
	pid_t child;

	snprintf(sw, sizeof(sw), "vale%d", (int)getpid() % 100000);
	a = mt_open("%s:a", sw);
	b = mt_open("%s:b", sw);
	h = mt_open("%s:b/r", sw);
	child = fork();
	REQUIRE(child >= 0, "fork");
	if (child == 0) {
		pause();
		_exit(0);
	}
	atomic_store(&mon_ctl(h)->hw_lock, owner_of(child));
	CHECK_EQ(mt_stats(h->fd, NULL, &s0, UNM_MON_SELF, 0), 0);
	vale_transfer(a, b, 0, 200);
	CHECK_EQ(mt_stats(h->fd, NULL, &s1, UNM_MON_SELF, 0), 0);
	CHECK_EQ(s1.busy - s0.busy, 200);
	CHECK_EQ(s1.pkts - s0.pkts, 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	for (i = 0; i < 4; i++) {
		scribble(h);
		vale_transfer(a, b, 200 + 50 * i, 50);
	}
	nmport_close(h);
	nmport_close(b);
	nmport_close(a);
}

static void zcopy_scribbler(void)
{
	struct nmport_d *a = mt_open("netmap:%s{4", base), *b = mt_open("netmap:%s}4", base);
	struct nmport_d *h = mt_open("netmap:%s{4/z", base);
	unsigned sent = 0, got = 0;

	while (sent < 2000) {
		scribble(h);
		sent += mt_send(a, 0, 'Z', sent, 100, 60);
		got += mt_take(b, rec, MT_MAX);
		mt_release(b);
		ioctl(a->fd, NIOCTXSYNC, NULL);
		/* consume without reading: its slots are its own garbage */
		ioctl(h->fd, NIOCRXSYNC, NULL);
		{
			struct netmap_ring *r = NETMAP_RXRING(h->nifp, 0);

			r->head = r->cur = r->tail < r->num_slots ? r->tail : 0;
		}
	}
	CHECK_EQ(sent, 2000);
	CHECK_EQ(got, 2000);
	nmport_close(h);
	nmport_close(b);
	nmport_close(a);
}

int main(void)
{
	snprintf(base, sizeof(base), "mh%dx", (int)getpid());
	pipe_scribbler();
	pipe_lock();
	pipe_never_reads();
	vale_hostile();
	zcopy_scribbler();
	return t_done("35_monitor_hostile");
}

/*
 * Test objective: a pipe peer that races the victim's own control blocks
 * -- rewriting the kring indices (hwcur, hwtail, rhead) and the published
 * indices while the victim's sync code runs -- cannot crash the victim's
 * library, whatever the timing.  (Regression: txsync/rxsync validated the
 * indices, then read them again from shared memory and looped from the
 * second, unvalidated value: SIGSEGV within seconds.)
 *
 * Operations:
 *  1. the victim binds one end of a pipe with 2 TX and 2 RX rings and
 *     tells the attacker (a separate process, the other end) where its
 *     rings are;
 *  2. the attacker's threads rewrite the victim's control blocks and both
 *     sides' published indices and slots in tight loops, with values in
 *     range, just out of range and anything, for a few seconds;
 *  3. meanwhile the victim syncs (ioctl and poll) as fast as it can,
 *     sending and receiving;
 *  4. the victim must exit normally; a fresh pipe works afterwards.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <libnetmap.h>

#include "tcommon.h"
#include "unm_layout.h"

#define NR 2

static char base[32];
static atomic_int stop;

struct target {
	uint64_t ring_ofs[2][NR];	/* the victim's rings, region offsets */
	uint32_t n;
};

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint32_t evil_index(uint64_t *s, uint32_t n)
{
	switch (xorshift(s) % 4) {
	case 0: return (uint32_t)xorshift(s);
	case 1: return n + (uint32_t)(xorshift(s) % 8);
	case 2: return (uint32_t)-16 + (uint32_t)(xorshift(s) % 16);
	default: return (uint32_t)(xorshift(s) % n);
	}
}

struct hammer_arg {
	char *mem;
	struct target t;
	struct netmap_ring *own[2][NR];
	int seed;
};

/* Rewrite everything of the victim's control blocks and ours that the
 * victim's sync code reads, as fast as possible. */
static void *hammer(void *a)
{
	struct hammer_arg *h = a;
	uint64_t s = 0x9e3779b97f4a7c15ull ^ (uint64_t)h->seed;
	uint32_t n = h->t.n;

	while (!atomic_load(&stop)) {
		int d = (int)(xorshift(&s) % 2), i = (int)(xorshift(&s) % NR);
		struct netmap_ring *vr = (struct netmap_ring *)(h->mem + h->t.ring_ofs[d][i]);
		struct unm_ring_ctl *vc = unm_ring_ctl(vr);
		struct unm_ring_ctl *oc = unm_ring_ctl(h->own[1 - d][i]);

		switch (xorshift(&s) % 5) {
		case 0:
			vc->hwcur = evil_index(&s, n);
			break;
		case 1:
			vc->hwtail = evil_index(&s, n);
			break;
		case 2:
			vc->rhead = evil_index(&s, n);
			vc->rcur = evil_index(&s, n);
			break;
		case 3:
			/* what the victim reads from us as its peer */
			atomic_store_explicit(&oc->app_idx, evil_index(&s, n), memory_order_relaxed);
			break;
		default: {
			struct netmap_slot *sl = &h->own[1 - d][i]->slot[xorshift(&s) % n];

			sl->buf_idx = (uint32_t)xorshift(&s);
			sl->len = (uint16_t)xorshift(&s);
			sl->flags = (uint16_t)xorshift(&s);
			break;
		}
		}
	}
	return NULL;
}

static int attacker(int rfd, double secs)
{
	struct nmport_d *d;
	struct hammer_arg h;
	pthread_t th[2];
	char name[64];
	int i;

	REQUIRE(read(rfd, &h.t, sizeof(h.t)) == (ssize_t)sizeof(h.t), "read target");
	snprintf(name, sizeof(name), "netmap:%s{1@conf:rings=%d", base, NR);
	d = nmport_open(name);
	REQUIRE(d, "open %s", name);
	h.mem = d->mem->mem;
	for (i = 0; i < NR; i++) {
		h.own[0][i] = NETMAP_TXRING(d->nifp, i);
		h.own[1][i] = NETMAP_RXRING(d->nifp, i);
	}
	for (i = 0; i < 2; i++) {
		h.seed = getpid() + i;
		REQUIRE(pthread_create(&th[i], NULL, hammer, &h) == 0, "thread");
	}
	usleep((useconds_t)(secs * 1e6));
	atomic_store(&stop, 1);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	nmport_close(d);
	return 0;
}

/* The victim: syncs as fast as it can while its control blocks are under
 * attack.  It only needs to survive; what it reads may be garbage. */
static int victim(int wfd, pid_t *att_out, double secs)
{
	char name[64];
	struct nmport_d *d;
	struct target t;
	struct pollfd p;
	double end;
	uint64_t syncs = 0;
	pid_t att;
	int i, st;

	snprintf(name, sizeof(name), "netmap:%s}1@conf:rings=%d", base, NR);
	d = nmport_open(name);
	REQUIRE(d, "open %s", name);
	t.n = NETMAP_TXRING(d->nifp, 0)->num_slots;
	for (i = 0; i < NR; i++) {
		t.ring_ofs[0][i] = (uint64_t)((char *)NETMAP_TXRING(d->nifp, i) - (char *)d->mem->mem);
		t.ring_ofs[1][i] = (uint64_t)((char *)NETMAP_RXRING(d->nifp, i) - (char *)d->mem->mem);
	}
	att = *att_out;
	REQUIRE(write(wfd, &t, sizeof(t)) == (ssize_t)sizeof(t), "write target");
	p.fd = d->fd;
	p.events = POLLIN | POLLOUT;
	end = t_now() + secs + 0.5;
	while (t_now() < end) {
		for (i = 0; i < NR; i++) {
			struct netmap_ring *tx = NETMAP_TXRING(d->nifp, i);
			uint32_t h = tx->head;

			if (h < t.n && tx->tail < t.n && h != tx->tail) {
				tx->slot[h].len = 60;
				tx->head = tx->cur = h + 1 == t.n ? 0 : h + 1;
			}
		}
		ioctl(d->fd, NIOCTXSYNC, NULL);
		ioctl(d->fd, NIOCRXSYNC, NULL);
		for (i = 0; i < NR; i++) {
			struct netmap_ring *rx = NETMAP_RXRING(d->nifp, i);
			uint32_t tl = rx->tail;

			if (tl < t.n)
				rx->head = rx->cur = tl;
		}
		if (syncs++ % 16 == 0)
			poll(&p, 1, 0);
		if (waitpid(att, &st, WNOHANG) == att) {
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "attacker status %#x", st);
			*att_out = 0;
			break;
		}
	}
	printf("victim: %llu sync rounds under attack\n", (unsigned long long)syncs);
	nmport_close(d);
	return 0;
}

static void fresh_pipe_works(void)
{
	char b[40];
	struct nmport_d *tx, *rx;
	struct netmap_ring *t, *r;
	int i;

	snprintf(b, sizeof(b), "raceafter%d", (int)getpid());
	tx = t_open_pipe(b, '{', 1);
	rx = t_open_pipe(b, '}', 1);
	t = NETMAP_TXRING(tx->nifp, 0);
	r = NETMAP_RXRING(rx->nifp, 0);
	for (i = 0; i < 100; i++) {
		t->slot[t->head].len = 60;
		t->head = t->cur = nm_ring_next(t, t->head);
	}
	ioctl(tx->fd, NIOCTXSYNC, NULL);
	ioctl(rx->fd, NIOCRXSYNC, NULL);
	CHECK_EQ(nm_ring_space(r), 100);
	nmport_close(tx);
	nmport_close(rx);
}

int main(void)
{
	double secs = t_env_long("UNETMAP_TEST_SECS", 4);
	int pfd[2], st;
	pid_t att, vic;

	alarm(60);
	snprintf(base, sizeof(base), "race%d", (int)getpid());
	REQUIRE(pipe(pfd) == 0, "pipe");
	att = fork();
	REQUIRE(att >= 0, "fork");
	if (att == 0) {
		close(pfd[1]);
		_exit(attacker(pfd[0], secs));
	}
	/* the victim runs in a process of its own so that its death is
	 * seen as such, not as ours */
	vic = fork();
	REQUIRE(vic >= 0, "fork");
	if (vic == 0) {
		close(pfd[0]);
		_exit(victim(pfd[1], &att, secs) || t_failures ? 1 : 0);
	}
	close(pfd[0]);
	close(pfd[1]);
	REQUIRE(waitpid(vic, &st, 0) == vic, "wait victim");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "victim died: status %#x%s%s", st,
	      WIFSIGNALED(st) ? ", signal " : "", WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "");
	kill(att, SIGKILL);
	waitpid(att, NULL, 0);
	fresh_pipe_works();
	return t_done("22_hostile_race");
}

/*
 * Test objective: no wake-up is ever lost.  Two processes play ping-pong
 * over a pipe, one frame at a time, each blocking in poll() (with and
 * without the pre-sleep spin, on one CPU and on two) so that nearly every
 * exchange goes through the sleep / kick path.  A lost kick shows up as
 * a round trip as long as the poll timeout (2 s); any round trip over
 * 1.5 s fails the test.
 */
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <libnetmap.h>

#include "tcommon.h"

#define POLL_MS 2000

/* libnetmap's pre-sleep spin (UNETMAP_POLL_SPIN_US, read at start-up);
 * the tests link the static library and may set it directly */
extern unsigned unm_poll_spin_us;

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Wait for one frame on d and release it; returns 0, or -1 on timeout. */
static int wait_one(struct nmport_d *d)
{
	struct netmap_ring *r = NETMAP_RXRING(d->nifp, 0);
	struct pollfd p = { .fd = d->fd, .events = POLLIN };

	while (nm_ring_empty(r)) {
		int n = poll(&p, 1, POLL_MS);

		if (n == 0)
			return -1;
		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0 && (p.revents & (POLLHUP | POLLERR)) && nm_ring_empty(r)) {
			fprintf(stderr, "peer gone (revents %#x)\n", p.revents);
			return -1;
		}
	}
	r->head = r->cur = nm_ring_next(r, r->head);
	return 0;
}

static void send_one(struct nmport_d *d)
{
	struct netmap_ring *t = NETMAP_TXRING(d->nifp, 0);
	struct pollfd p = { .fd = d->fd, .events = POLLOUT };

	while (!nm_ring_space(t))
		poll(&p, 1, POLL_MS);
	t->slot[t->head].len = 60;
	t->head = t->cur = nm_ring_next(t, t->head);
	/* pushed by the next poll(), as pkt-gen relies on */
}

static int round_trips(const char *base, int id, int n, int cpu_ping, int cpu_pong,
		       double *worst)
{
	char name[80];
	struct nmport_d *a;
	pid_t pid;
	int i, st, slow = 0;

	snprintf(name, sizeof(name), "netmap:%s{%d", base, id);
	a = nmport_open(name);
	REQUIRE(a, "open %s", name);
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0) {
		struct nmport_d *b;

		pin(cpu_pong);
		snprintf(name, sizeof(name), "netmap:%s}%d", base, id);
		b = nmport_open(name);
		if (!b)
			_exit(2);
		for (i = 0; i < n; i++) {
			if (wait_one(b) < 0)
				_exit(3);
			send_one(b);
		}
		/* push the last reply, then wait for the parent to finish */
		ioctl(b->fd, NIOCTXSYNC, NULL);
		wait_one(b);
		_exit(0);
	}
	pin(cpu_ping);
	*worst = 0;
	for (i = 0; i < n; i++) {
		double t0 = t_now(), dt;

		send_one(a);
		if (wait_one(a) < 0) {
			fprintf(stderr, "round trip %d timed out (%d ms)\n", i, POLL_MS);
			slow++;
			break;
		}
		dt = t_now() - t0;
		if (dt > *worst)
			*worst = dt;
		/* a lost kick costs a whole poll timeout; a busy shared host
		 * can stall a process for a few hundred ms, which is not one */
		if (dt > POLL_MS * 0.75e-3) {
			fprintf(stderr, "round trip %d took %.3f s: a wake-up was lost\n", i, dt);
			slow++;
		}
	}
	send_one(a);
	ioctl(a->fd, NIOCTXSYNC, NULL);
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "pong status %#x", st);
	nmport_close(a);
	return slow;
}

int main(void)
{
	int n = (int)t_env_long("UNETMAP_TEST_ROUNDS", 20000);
	int two = sysconf(_SC_NPROCESSORS_ONLN) > 1;
	struct { unsigned spin; int ping, pong; } cfg[] = {
		{ 0, 0, 0 }, { 0, 0, 1 }, { 20, 0, 0 }, { 20, 0, 1 },
	};
	char base[32];
	unsigned k;

	snprintf(base, sizeof(base), "wk%d", (int)getpid());
	for (k = 0; k < sizeof(cfg) / sizeof(cfg[0]); k++) {
		double worst;
		int slow;

		if (cfg[k].pong && !two)
			continue;
		unm_poll_spin_us = cfg[k].spin;	/* the child inherits it */
		slow = round_trips(base, (int)k, n, cfg[k].ping, cfg[k].pong, &worst);
		printf("spin %u us, cpus %d/%d: %d round trips, worst %.1f us\n", cfg[k].spin,
		       cfg[k].ping, cfg[k].pong, n, worst * 1e6);
		CHECK_EQ(slow, 0);
	}
	return t_done("19_wakeup_stress");
}

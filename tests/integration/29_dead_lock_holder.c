/*
 * Test objective: a process that died while holding a ring's sync lock
 * does not block the ring -- not even while it is a zombie nobody has
 * reaped, and not when its pid now belongs to another process -- while a
 * live holder keeps its lock.  (Regression: the lock was taken over only
 * once kill(pid, 0) failed, which it does not for a zombie: a sender
 * waited 3 s for 1,023 frames.)
 *
 * Operations (the lock word is the control block's; a holder is written
 * there as a sync in progress would leave it):
 *  1. a child that shares our pipe descriptor takes the TX ring's lock and
 *     dies by SIGKILL; we do not reap it.  While it is a zombie, our
 *     txsyncs get the ring back and the frames reach the other end;
 *  2. the lock held by a live process (a sleeping child) is respected:
 *     our syncs skip the ring and nothing moves;
 *  3. the lock word naming an existing pid with another start time (a
 *     reused pid), or a pid that does not exist, is taken over.
 */
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <libnetmap.h>

#include "tcommon.h"
#include "unm_layout.h"

static uint32_t start_time_of(pid_t pid)
{
	char path[64], buf[512], *p;
	unsigned long long st = 0;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	p = strrchr(buf, ')');
	for (i = 2; p && i < 22; i++)
		p = strchr(p + 1, ' ');
	if (p)
		st = strtoull(p + 1, NULL, 10);
	return (uint32_t)st;
}

/* Frames queued on tx that have not reached rx yet. */
static uint32_t pending;

/* Queue n more frames on tx, then sync both ends until everything queued
 * so far reached rx or secs pass; returns how many arrived this time.
 * Ends with a txsync that reclaims the slots rx released, so the next
 * call finds room (when the ring is not locked by somebody else). */
static uint32_t push(struct nmport_d *tx, struct nmport_d *rx, uint32_t n, double secs)
{
	struct netmap_ring *t = NETMAP_TXRING(tx->nifp, 0), *r = NETMAP_RXRING(rx->nifp, 0);
	double end = t_now() + secs;
	uint32_t k, got = 0;

	REQUIRE(nm_ring_space(t) >= n, "room for %u frames (%u)", n, nm_ring_space(t));
	for (k = 0; k < n; k++) {
		t->slot[t->head].len = 60;
		t->head = t->cur = nm_ring_next(t, t->head);
	}
	pending += n;
	while (got < pending && t_now() < end) {
		ioctl(tx->fd, NIOCTXSYNC, NULL);
		ioctl(rx->fd, NIOCRXSYNC, NULL);
		got += nm_ring_space(r);
		r->head = r->cur = r->tail;
		usleep(1000);
	}
	ioctl(rx->fd, NIOCRXSYNC, NULL);
	ioctl(tx->fd, NIOCTXSYNC, NULL);
	pending -= got;
	return got;
}

int main(void)
{
	char base[32];
	struct nmport_d *tx, *rx;
	struct unm_ring_ctl *ctl;
	pid_t z, live;
	int st;

	alarm(60);
	snprintf(base, sizeof(base), "lock%d", (int)getpid());
	tx = t_open_pipe(base, '{', 1);
	rx = t_open_pipe(base, '}', 1);
	ctl = unm_ring_ctl(NETMAP_TXRING(tx->nifp, 0));

	/* 1. a zombie holder */
	z = fork();
	REQUIRE(z >= 0, "fork");
	if (z == 0) {
		uint64_t me = (uint32_t)getpid() | (uint64_t)start_time_of(getpid()) << 32;

		atomic_store(&ctl->lock, me);
		raise(SIGKILL);
		_exit(1);
	}
	/* wait until it is a zombie, without reaping it */
	{
		siginfo_t si;

		REQUIRE(waitid(P_PID, (id_t)z, &si, WEXITED | WNOWAIT) == 0, "waitid");
	}
	CHECK((uint32_t)atomic_load(&ctl->lock) == (uint32_t)z, "the zombie holds the lock");
	CHECK_EQ(push(tx, rx, 1000, 5), 1000);
	CHECK(kill(z, 0) == 0, "the holder is still a zombie (not reaped)");
	waitpid(z, &st, 0);

	/* 2. a live holder keeps it */
	live = fork();
	REQUIRE(live >= 0, "fork");
	if (live == 0) {
		pause();
		_exit(0);
	}
	usleep(50000);	/* its /proc entry is complete */
	atomic_store(&ctl->lock, (uint32_t)live | (uint64_t)start_time_of(live) << 32);
	CHECK_EQ(push(tx, rx, 10, 0.3), 0);
	kill(live, SIGKILL);
	waitpid(live, &st, 0);
	/* the 10 frames queued while it lived go now */
	CHECK_EQ(push(tx, rx, 0, 5), 10);

	/* 3. a reused pid (ours, with another start time), a pid that is free */
	atomic_store(&ctl->lock, (uint32_t)getppid() | (uint64_t)(start_time_of(getppid()) + 7) << 32);
	CHECK_EQ(push(tx, rx, 5, 5), 5);
	atomic_store(&ctl->lock, (uint64_t)4194300);
	CHECK_EQ(push(tx, rx, 5, 5), 5);

	nmport_close(tx);
	nmport_close(rx);
	return t_done("29_dead_lock_holder");
}

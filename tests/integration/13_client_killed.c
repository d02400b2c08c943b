/*
 * Test objective: a client SIGKILLed in the middle of a transfer harms
 * nobody: netmapd notices at once (its peer, which opted in with
 * UNETMAP_PEER_HUP=1, sees POLLHUP within a second -- by default it would
 * wait quietly, as on netmap), netmapd keeps serving, and the name is
 * usable again within a second, both by a new process taking the dead
 * one's end and, once every end is closed, as a fresh pipe.
 */
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <libnetmap.h>

#include "tcommon.h"

static char base[32];

/* send until killed, or count frames then exit */
static int sender(long count)
{
	struct nmport_d *d = t_open_pipe(base, '{', 1);
	struct pollfd p = { .fd = d->fd, .events = POLLOUT };
	long sent = 0;

	while (count < 0 || sent < count) {
		struct netmap_ring *r = NETMAP_TXRING(d->nifp, 0);

		if (poll(&p, 1, 5000) != 1)
			return 1;
		while (nm_ring_space(r) && (count < 0 || sent < count)) {
			r->slot[r->head].len = 60;
			r->head = r->cur = nm_ring_next(r, r->head);
			sent++;
		}
	}
	ioctl(d->fd, NIOCTXSYNC, NULL);
	pause();		/* keep the end open until killed */
	return 0;
}

static long receive(struct nmport_d *d, long want, int timeout_ms, short *last)
{
	struct pollfd p = { .fd = d->fd, .events = POLLIN };
	double t0 = t_now();
	long got = 0;

	*last = 0;
	while (want < 0 || got < want) {
		struct netmap_ring *r = NETMAP_RXRING(d->nifp, 0);
		int n = poll(&p, 1, timeout_ms);

		*last = p.revents;
		if (n == 1 && !(p.revents & POLLIN) && (p.revents & POLLHUP) && want >= 0 &&
		    t_now() - t0 < timeout_ms / 1000.0) {
			/* the new peer is not bound yet */
			usleep(1000);
			continue;
		}
		if (n != 1 || !(p.revents & POLLIN))
			break;
		while (!nm_ring_empty(r)) {
			r->head = r->cur = nm_ring_next(r, r->head);
			got++;
		}
	}
	return got;
}

int main(void)
{
	struct nmport_d *rx, *probe;
	pid_t pid;
	short rev;
	double t0;
	long got;
	int st;

	snprintf(base, sizeof(base), "kill%d", (int)getpid());
	setenv("UNETMAP_PEER_HUP", "1", 1);
	rx = t_open_pipe(base, '}', 1);
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0)
		_exit(sender(-1));
	got = receive(rx, 100000, 5000, &rev);
	CHECK_EQ(got >= 100000, 1);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);

	/* the survivor drains what was sent, then learns the peer is gone */
	t0 = t_now();
	receive(rx, -1, 1000, &rev);
	CHECK(rev & POLLHUP, "revents %#x after the sender died", rev);
	CHECK(t_now() - t0 < 2.0, "took %.2f s to notice", t_now() - t0);

	/* netmapd still serves */
	probe = nmport_open("null:probe");
	CHECK(probe != NULL, "netmapd stopped answering");
	if (probe)
		nmport_close(probe);

	/* a new process takes the dead one's end within a second */
	t0 = t_now();
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0)
		_exit(sender(10));
	got = receive(rx, 10, 2000, &rev);
	CHECK_EQ(got, 10);
	CHECK(t_now() - t0 < 1.0, "reopen took %.2f s", t_now() - t0);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);

	/* once every end is closed the name is a fresh pipe again */
	nmport_close(rx);
	usleep(100 * 1000);
	rx = t_open_pipe(base, '}', 1);
	{
		struct netmap_ring *r = NETMAP_RXRING(rx->nifp, 0);
		struct nmport_d *tx = t_open_pipe(base, '{', 1);
		struct netmap_ring *t = NETMAP_TXRING(tx->nifp, 0);

		CHECK_EQ(r->head, 0);
		CHECK_EQ(r->tail, 0);
		CHECK_EQ(t->head, 0);
		CHECK_EQ(t->tail, t->num_slots - 1);
		nmport_close(tx);
	}
	nmport_close(rx);
	return t_done("13_client_killed");
}

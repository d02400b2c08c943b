/*
 * Test objective: poll(), ppoll(), select() and epoll on port descriptors
 * behave as netmap's: POLLIN after rxsync when packets wait, POLLOUT when
 * the TX ring has room, every poll pushes pending TX, timeouts sleep
 * without burning CPU, wake-ups cross processes, port and ordinary
 * descriptors mix in one call, and a peer that goes away shows as POLLHUP.
 *
 * Operations: pairs of pipe ends in this process and in children.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/wait.h>

#include <libnetmap.h>

#include "tcommon.h"

static char base[32];

static void send_frames(struct nmport_d *d, int n, int sync)
{
	struct netmap_ring *r = NETMAP_TXRING(d->nifp, 0);

	while (n-- > 0 && nm_ring_space(r)) {
		r->slot[r->head].len = 60;
		r->head = r->cur = nm_ring_next(r, r->head);
	}
	if (sync)
		ioctl(d->fd, NIOCTXSYNC, NULL);
}

static int drain_rx(struct nmport_d *d)
{
	struct netmap_ring *r = NETMAP_RXRING(d->nifp, 0);
	int n = 0;

	ioctl(d->fd, NIOCRXSYNC, NULL);
	while (!nm_ring_empty(r)) {
		r->head = r->cur = nm_ring_next(r, r->head);
		n++;
	}
	ioctl(d->fd, NIOCRXSYNC, NULL);
	return n;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void test_timeouts(void)
{
	struct nmport_d *tx = t_open_pipe(base, '{', 1), *rx = t_open_pipe(base, '}', 1);
	struct pollfd p = { .fd = rx->fd, .events = POLLIN };
	double t0 = t_now(), c0 = cpu_seconds(), dt, dc;
	int n;

	n = poll(&p, 1, 0);
	CHECK_EQ(n, 0);
	n = poll(&p, 1, 300);
	dt = t_now() - t0;
	dc = cpu_seconds() - c0;
	CHECK_EQ(n, 0);
	CHECK(dt >= 0.28 && dt < 2.0, "poll(300 ms) took %.3f s", dt);
	/* sleeping, not spinning */
	CHECK(dc < 0.1, "poll(300 ms) used %.3f s of CPU", dc);

	/* POLLOUT is immediate with room; POLLIN appears after a send */
	p.fd = tx->fd;
	p.events = POLLOUT;
	CHECK_EQ(poll(&p, 1, 0), 1);
	CHECK(p.revents & POLLOUT, "revents %#x", p.revents);
	send_frames(tx, 3, 1);
	p.fd = rx->fd;
	p.events = POLLIN;
	CHECK_EQ(poll(&p, 1, 1000), 1);
	CHECK(p.revents == POLLIN, "revents %#x", p.revents);
	CHECK_EQ(drain_rx(rx), 3);

	/* every poll pushes pending TX, even a POLLIN-only poll */
	send_frames(tx, 5, 0);
	p.fd = tx->fd;
	p.events = POLLIN;
	poll(&p, 1, 0);
	CHECK_EQ(drain_rx(rx), 5);

	/* a full TX ring is not writable until the receiver releases */
	{
		struct netmap_ring *r = NETMAP_TXRING(tx->nifp, 0);

		while (nm_ring_space(r))
			send_frames(tx, (int)nm_ring_space(r), 1);
		p.fd = tx->fd;
		p.events = POLLOUT;
		CHECK_EQ(poll(&p, 1, 100), 0);
		CHECK(drain_rx(rx) > 0, "nothing to drain");
		CHECK_EQ(poll(&p, 1, 100), 1);
	}
	/* ppoll with a signal mask */
	{
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		sigset_t mask;

		sigemptyset(&mask);
		p.fd = rx->fd;
		p.events = POLLIN;
		CHECK_EQ(ppoll(&p, 1, &ts, &mask), 0);
	}
	nmport_close(tx);
	nmport_close(rx);
}

/* NR_NO_TX_POLL: a POLLIN poll no longer pushes TX */
static void test_no_tx_poll(void)
{
	char name[64];
	struct nmport_d *tx, *rx = t_open_pipe(base, '}', 2);
	struct pollfd p;

	snprintf(name, sizeof(name), "netmap:%s{2", base);
	tx = nmport_prepare(name);
	REQUIRE(tx, "prepare");
	tx->reg.nr_flags |= NR_NO_TX_POLL;
	REQUIRE(nmport_open_desc(tx) == 0, "open_desc");
	send_frames(tx, 4, 0);
	p.fd = tx->fd;
	p.events = POLLIN;
	poll(&p, 1, 0);
	CHECK_EQ(drain_rx(rx), 0);
	p.events = POLLOUT;
	poll(&p, 1, 0);
	CHECK_EQ(drain_rx(rx), 4);
	nmport_close(tx);
	nmport_close(rx);
}

/* select(): a port and an ordinary pipe in one set */
static void test_select(void)
{
	struct nmport_d *tx = t_open_pipe(base, '{', 3), *rx = t_open_pipe(base, '}', 3);
	struct timeval tv = { 0, 100000 };
	fd_set rs;
	int pp[2], maxfd, n;

	REQUIRE(pipe(pp) == 0, "pipe");
	maxfd = (pp[0] > rx->fd ? pp[0] : rx->fd) + 1;
	FD_ZERO(&rs);
	FD_SET(pp[0], &rs);
	FD_SET(rx->fd, &rs);
	CHECK_EQ(select(maxfd, &rs, NULL, NULL, &tv), 0);

	CHECK_EQ(write(pp[1], "x", 1), 1);
	FD_ZERO(&rs);
	FD_SET(pp[0], &rs);
	FD_SET(rx->fd, &rs);
	tv.tv_sec = 1;
	n = select(maxfd, &rs, NULL, NULL, &tv);
	CHECK_EQ(n, 1);
	CHECK(FD_ISSET(pp[0], &rs) && !FD_ISSET(rx->fd, &rs), "wrong descriptor ready");

	send_frames(tx, 1, 1);
	FD_ZERO(&rs);
	FD_SET(rx->fd, &rs);
	tv.tv_sec = 1;
	n = select(maxfd, &rs, NULL, NULL, &tv);
	CHECK_EQ(n, 1);
	CHECK(FD_ISSET(rx->fd, &rs), "port not readable");
	CHECK_EQ(drain_rx(rx), 1);
	close(pp[0]);
	close(pp[1]);
	nmport_close(tx);
	nmport_close(rx);
}

/* A child blocks in poll (or epoll_wait) forever; we send after a delay. */
static void test_cross_process(int use_epoll)
{
	struct nmport_d *rx = t_open_pipe(base, '}', 4 + use_epoll);
	struct nmport_d *tx;
	int sync[2], st;
	pid_t pid;
	char c;

	REQUIRE(pipe(sync) == 0, "pipe");
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0) {
		double t0;
		int n;

		close(sync[0]);
		if (use_epoll) {
			struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0xfeedULL }, out[4];
			int ep = epoll_create1(0);

			if (epoll_ctl(ep, EPOLL_CTL_ADD, rx->fd, &ev) < 0)
				_exit(10);
			if (epoll_wait(ep, out, 4, 100) != 0)
				_exit(11);
			CHECK_EQ(write(sync[1], "r", 1), 1);
			t0 = t_now();
			n = epoll_wait(ep, out, 4, -1);
			if (n != 1 || out[0].data.u64 != 0xfeedULL || !(out[0].events & EPOLLIN))
				_exit(12);
			if (t_now() - t0 > 5)
				_exit(13);
			if (drain_rx(rx) != 2)
				_exit(14);
			if (epoll_ctl(ep, EPOLL_CTL_DEL, rx->fd, NULL) < 0)
				_exit(15);
			if (epoll_wait(ep, out, 4, 50) != 0)
				_exit(16);
			_exit(0);
		} else {
			struct pollfd p = { .fd = rx->fd, .events = POLLIN };

			CHECK_EQ(write(sync[1], "r", 1), 1);
			t0 = t_now();
			n = poll(&p, 1, -1);
			if (n != 1 || p.revents != POLLIN || t_now() - t0 > 5)
				_exit(20);
			_exit(drain_rx(rx) == 2 ? 0 : 21);
		}
	}
	close(sync[1]);
	REQUIRE(read(sync[0], &c, 1) == 1, "child not ready");
	close(sync[0]);
	usleep(150 * 1000);		/* let the child go to sleep */
	tx = t_open_pipe(base, '{', 4 + use_epoll);
	send_frames(tx, 2, 1);
	REQUIRE(waitpid(pid, &st, 0) == pid, "waitpid");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s child status %#x",
	      use_epoll ? "epoll" : "poll", st);
	nmport_close(tx);
	nmport_close(rx);
}

/* epoll in this process: data and timeouts, mixed with an ordinary fd */
static void test_epoll_local(void)
{
	struct nmport_d *tx = t_open_pipe(base, '{', 6), *rx = t_open_pipe(base, '}', 6);
	struct epoll_event ev, out[4];
	int ep = epoll_create1(EPOLL_CLOEXEC), pp[2], n;

	REQUIRE(pipe(pp) == 0, "pipe");
	ev.events = EPOLLIN;
	ev.data.u32 = 1;
	CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, rx->fd, &ev), 0);
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, rx->fd, &ev) < 0 && errno == EEXIST, "double add");
	ev.data.u32 = 2;
	CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, pp[0], &ev), 0);
	ev.events = EPOLLOUT;
	ev.data.u32 = 3;
	CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, tx->fd, &ev), 0);
	/* only the TX port is ready (room) */
	n = epoll_wait(ep, out, 4, 0);
	CHECK_EQ(n, 1);
	CHECK(n == 1 && out[0].data.u32 == 3 && (out[0].events & EPOLLOUT), "tx not writable");
	CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, tx->fd, NULL), 0);
	CHECK_EQ(epoll_wait(ep, out, 4, 100), 0);
	CHECK_EQ(write(pp[1], "x", 1), 1);
	send_frames(tx, 1, 1);
	n = epoll_wait(ep, out, 4, 1000);
	CHECK_EQ(n, 2);
	close(pp[0]);
	close(pp[1]);
	close(ep);
	nmport_close(tx);
	nmport_close(rx);
}

/* the other end goes away: as netmap, nothing to report -- the survivor
 * waits quietly for a new peer; with UNETMAP_PEER_HUP=1, POLLHUP */
static void test_peer_gone(void)
{
	struct nmport_d *tx = t_open_pipe(base, '{', 7), *rx = t_open_pipe(base, '}', 7);
	struct pollfd p = { .fd = rx->fd, .events = POLLIN };
	double t0;
	int n;

	nmport_close(tx);
	p.revents = 0;
	CHECK_EQ(poll(&p, 1, 300), 0);
	CHECK_EQ(p.revents, 0);
	/* a new peer sends: the survivor gets it */
	tx = t_open_pipe(base, '{', 7);
	{
		struct netmap_ring *t = NETMAP_TXRING(tx->nifp, 0);

		t->slot[t->head].len = 60;
		t->head = t->cur = nm_ring_next(t, t->head);
		ioctl(tx->fd, NIOCTXSYNC, NULL);
	}
	CHECK_EQ(poll(&p, 1, 1000), 1);
	CHECK(p.revents == POLLIN, "revents %#x", p.revents);
	nmport_close(tx);
	nmport_close(rx);

	setenv("UNETMAP_PEER_HUP", "1", 1);
	tx = t_open_pipe(base, '{', 8);
	rx = t_open_pipe(base, '}', 8);
	p.fd = rx->fd;
	nmport_close(tx);
	t0 = t_now();
	do {
		n = poll(&p, 1, 1000);
	} while (n == 1 && !(p.revents & POLLHUP) && t_now() - t0 < 2);
	CHECK(n == 1 && (p.revents & POLLHUP), "opted in: poll %d revents %#x", n, p.revents);
	/* an end opened again clears it */
	tx = t_open_pipe(base, '{', 8);
	CHECK_EQ(poll(&p, 1, 50), 0);
	nmport_close(tx);
	nmport_close(rx);
	unsetenv("UNETMAP_PEER_HUP");
}

/* descriptors that are not bound yet */
static void test_unbound(void)
{
	int fd = open("/dev/netmap", O_RDWR);
	struct pollfd p = { .fd = -1, .events = POLLIN };

	REQUIRE(fd >= 0, "open /dev/netmap");
	CHECK(ioctl(fd, NIOCTXSYNC, NULL) < 0 && errno == ENXIO, "txsync unbound: errno %d", errno);
	p.fd = fd;
	CHECK_EQ(poll(&p, 1, 0), 1);
	CHECK(p.revents & POLLERR, "revents %#x", p.revents);
	CHECK_EQ(close(fd), 0);
}

int main(void)
{
	snprintf(base, sizeof(base), "poll%d", (int)getpid());
	test_timeouts();
	test_no_tx_poll();
	test_select();
	test_cross_process(0);
	test_cross_process(1);
	test_epoll_local();
	test_peer_gone();
	test_unbound();
	return t_done("11_poll_semantics");
}

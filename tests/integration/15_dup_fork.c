/*
 * Test objective: a port descriptor lives like a kernel file.  A dup()
 * of it refers to the same binding, which survives until every copy is
 * closed; a child inherits its parent's bindings across fork() and keeps
 * them after the parent closes its copies; exclusive rings are released
 * only when the last copy goes.
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <libnetmap.h>

#include "tcommon.h"

static char base[32];

static void send_one(int fd, struct netmap_ring *r)
{
	r->slot[r->head].len = 60;
	r->head = r->cur = nm_ring_next(r, r->head);
	ioctl(fd, NIOCTXSYNC, NULL);
}

static int recv_count(int fd, struct netmap_ring *r)
{
	int n = 0;

	ioctl(fd, NIOCRXSYNC, NULL);
	while (!nm_ring_empty(r)) {
		r->head = r->cur = nm_ring_next(r, r->head);
		n++;
	}
	ioctl(fd, NIOCRXSYNC, NULL);
	return n;
}

static int try_exclusive(char end, int id)
{
	char name[80];
	struct nmport_d *d;

	snprintf(name, sizeof(name), "netmap:%s%c%d/x", base, end, id);
	nmctx_get()->verbose = 0;
	d = nmport_open(name);
	nmctx_get()->verbose = 1;
	if (!d)
		return -errno;
	nmport_close(d);
	return 0;
}

static void test_dup(void)
{
	struct nmport_d *tx = t_open_pipe(base, '{', 1);
	struct nmport_d *rx = t_open_pipe(base, '}', 1);
	struct netmap_ring *t = NETMAP_TXRING(tx->nifp, 0), *r = NETMAP_RXRING(rx->nifp, 0);
	int fd2 = dup(tx->fd), fd3 = fcntl(tx->fd, F_DUPFD_CLOEXEC, 10);
	struct pollfd p;

	REQUIRE(fd2 >= 0, "dup");
	/* the copy syncs the same rings */
	t->slot[t->head].len = 60;
	t->head = t->cur = nm_ring_next(t, t->head);
	CHECK_EQ(ioctl(fd2, NIOCTXSYNC, NULL), 0);
	CHECK_EQ(recv_count(rx->fd, r), 1);
	/* and polls like the original */
	p.fd = fd2;
	p.events = POLLOUT;
	CHECK_EQ(poll(&p, 1, 0), 1);
	/* F_DUPFD goes to libc: not a port descriptor for us (netmap has no
	 * answer for it either), but it must not disturb the binding */
	if (fd3 >= 0)
		close(fd3);
	/* closing the original leaves the binding to the copy */
	close(tx->fd);
	tx->fd = fd2;
	send_one(fd2, t);
	CHECK_EQ(recv_count(rx->fd, r), 1);
	nmport_close(tx);
	nmport_close(rx);
}

static void test_fork(void)
{
	struct nmport_d *tx = t_open_pipe(base, '{', 2);
	struct nmport_d *rx = t_open_pipe(base, '}', 2);
	struct netmap_ring *t = NETMAP_TXRING(tx->nifp, 0), *r = NETMAP_RXRING(rx->nifp, 0);
	int go[2], st;
	pid_t pid;
	char c;

	REQUIRE(pipe(go) == 0, "pipe");
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0) {
		/* the child sends on the inherited binding after the parent
		 * closed its copy */
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		send_one(tx->fd, t);
		_exit(0);
	}
	close(go[0]);
	close(tx->fd);		/* our copy only: the child still holds the end */
	usleep(50 * 1000);
	CHECK_EQ(write(go[1], "g", 1), 1);
	close(go[1]);
	REQUIRE(waitpid(pid, &st, 0) == pid, "waitpid");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
	CHECK_EQ(recv_count(rx->fd, r), 1);
	tx->fd = -1;
	nmport_close(tx);
	nmport_close(rx);
}

static void test_exclusive_copies(void)
{
	char name[80];
	struct nmport_d *x;
	int fd2;

	snprintf(name, sizeof(name), "netmap:%s{3/x", base);
	x = nmport_open(name);
	REQUIRE(x, "open %s", name);
	fd2 = dup(x->fd);
	CHECK_EQ(try_exclusive('{', 3), -EBUSY);
	close(x->fd);
	x->fd = fd2;
	/* one copy left: still exclusive */
	CHECK_EQ(try_exclusive('{', 3), -EBUSY);
	nmport_close(x);
	/* gone: available again at once, as after the kernel's close() */
	CHECK_EQ(try_exclusive('{', 3), 0);
}

int main(void)
{
	snprintf(base, sizeof(base), "df%d", (int)getpid());
	test_dup();
	test_fork();
	test_exclusive_copies();
	return t_done("15_dup_fork");
}

/*
 * Test objective: a port descriptor given to another process -- passed
 * with SCM_RIGHTS, as netmap's fd_server does for its functional tests, or
 * inherited through exec -- is fully usable there: the receiver maps the
 * region with mmap() on it and moves frames with NIOC*SYNC and poll(),
 * exactly as the process that registered it could.  (Regression: mmap()
 * failed with ENODEV, so netmap's functional suite could not run at all.)
 *
 * Operations:
 *  1. a server registers a pipe end (X{1) and a VALE port, sends both
 *     descriptors with SCM_RIGHTS plus what fd_server sends (the
 *     register's nr_offset and nr_memsize) to a client, and closes its
 *     own copies;
 *  2. the client, which never opened them, mmaps the region, finds the
 *     netmap_if at nr_offset, sends 5000 frames on the pipe (NIOCTXSYNC
 *     and poll) and one on the VALE port; the test receives them all;
 *  3. the same through exec: a child execs this program with the
 *     descriptor number on the command line, and it sends 1000 frames;
 *  4. a descriptor that binds nothing yet, passed the same way, can be
 *     registered by the receiver (NIOCCTRL).
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <libnetmap.h>

#include "tcommon.h"

struct fdinfo {
	uint64_t offset, memsize;
};

static int send_fd(int sock, int fd, const struct fdinfo *fi)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)fi, .iov_len = sizeof(*fi) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			    .msg_controllen = sizeof(cm.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &m, 0) == (ssize_t)sizeof(*fi) ? 0 : -1;
}

static int recv_fd(int sock, struct fdinfo *fi)
{
	struct iovec iov = { .iov_base = fi, .iov_len = sizeof(*fi) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			    .msg_controllen = sizeof(cm.buf) };
	struct cmsghdr *c;
	int fd = -1;

	if (recvmsg(sock, &m, 0) != (ssize_t)sizeof(*fi))
		return -1;
	c = CMSG_FIRSTHDR(&m);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* Use a descriptor this process never registered: map, send n frames. */
static int use_fd(int fd, const struct fdinfo *fi, int n)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	struct netmap_if *nifp;
	struct netmap_ring *t;
	void *mem;
	int sent = 0, rounds = 0;

	mem = mmap(NULL, fi->memsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		fprintf(stderr, "client: mmap: %s\n", strerror(errno));
		return 1;
	}
	nifp = NETMAP_IF(mem, fi->offset);
	t = NETMAP_TXRING(nifp, 0);
	while (sent < n && rounds++ < 100000) {
		while (sent < n && !nm_ring_empty(t)) {
			char *b = NETMAP_BUF(t, t->slot[t->head].buf_idx);

			/* broadcast, so that a switch floods it */
			memset(b, 0xff, 6);
			memset(b + 6, 0x02, 6);
			memset(b + 12, sent & 0xff, 48);
			t->slot[t->head].len = 60;
			t->head = t->cur = nm_ring_next(t, t->head);
			sent++;
		}
		/* both ways to sync: the ioctl, and poll() that sleeps when
		 * the ring is full */
		ioctl(fd, NIOCTXSYNC, NULL);
		if (nm_ring_empty(t) && poll(&p, 1, 1000) < 0)
			return 2;
	}
	ioctl(fd, NIOCTXSYNC, NULL);
	/* the receiver takes them: keep the descriptor open until then */
	usleep(300000);
	munmap(mem, fi->memsize);
	return sent == n ? 0 : 3;
}

static int receive(struct nmport_d *d, int want, double secs)
{
	struct netmap_ring *r = NETMAP_RXRING(d->nifp, 0);
	double end = t_now() + secs;
	int got = 0;

	while (got < want && t_now() < end) {
		struct pollfd p = { .fd = d->fd, .events = POLLIN };

		if (poll(&p, 1, 100) <= 0)
			continue;
		while (!nm_ring_empty(r)) {
			got++;
			r->head = r->cur = nm_ring_next(r, r->head);
		}
	}
	return got;
}

int main(int argc, char **argv)
{
	char base[32], vname[32], buf[64];
	struct nmport_d *d, *v, *rx, *vrx;
	struct fdinfo fi, vi, ui;
	int sv[2], st, ufd;
	pid_t pid;

	if (argc == 4 && strcmp(argv[1], "--exec-child") == 0) {
		/* 3: we were exec'd with the descriptor inherited */
		fi.offset = strtoull(argv[3], NULL, 10);
		fi.memsize = strtoull(strchr(argv[3], ',') + 1, NULL, 10);
		return use_fd(atoi(argv[2]), &fi, 1000);
	}
	alarm(60);
	snprintf(base, sizeof(base), "fdp%d", (int)getpid());
	snprintf(vname, sizeof(vname), "valefd%d:a", (int)getpid() % 10000);
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");

	/* 1 */
	d = t_open_pipe(base, '{', 1);
	rx = t_open_pipe(base, '}', 1);
	v = nmport_open(vname);
	REQUIRE(v, "open %s", vname);
	snprintf(buf, sizeof(buf), "valefd%d:b", (int)getpid() % 10000);
	vrx = nmport_open(buf);
	REQUIRE(vrx, "open %s", buf);
	fi.offset = d->reg.nr_offset;
	fi.memsize = d->reg.nr_memsize;
	vi.offset = v->reg.nr_offset;
	vi.memsize = v->reg.nr_memsize;
	ufd = open("/dev/netmap", O_RDWR);
	REQUIRE(ufd >= 0, "open /dev/netmap");
	ui.offset = ui.memsize = 0;

	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0) {
		/* the client: a fresh program image, as fd_server's clients */
		int fds[3], k, rc = 0;
		struct fdinfo got[3];

		close(sv[0]);
		for (k = 0; k < 3; k++)
			fds[k] = recv_fd(sv[1], &got[k]);
		rc |= use_fd(fds[0], &got[0], 5000);
		rc |= use_fd(fds[1], &got[1], 1) << 2;
		/* 4: register the unbound one ourselves */
		{
			struct nmreq_header h;
			struct nmreq_register reg;

			memset(&reg, 0, sizeof(reg));
			nmreq_header_init(&h, NETMAP_REQ_REGISTER, &reg);
			snprintf(h.nr_name, sizeof(h.nr_name), "%s{2", base);
			reg.nr_mode = NR_REG_ALL_NIC;
			if (ioctl(fds[2], NIOCCTRL, &h) < 0) {
				fprintf(stderr, "client: REGISTER on a passed descriptor: %s\n",
					strerror(errno));
				rc |= 16;
			} else {
				got[2].offset = reg.nr_offset;
				got[2].memsize = reg.nr_memsize;
				rc |= use_fd(fds[2], &got[2], 10) << 5;
			}
		}
		/* keep the bindings until the test has received everything */
		if (read(sv[1], &k, 1) != 1)
			rc |= 128;
		_exit(rc);
	}
	close(sv[1]);
	REQUIRE(send_fd(sv[0], d->fd, &fi) == 0 && send_fd(sv[0], v->fd, &vi) == 0 &&
		send_fd(sv[0], ufd, &ui) == 0, "send the descriptors");
	/* the client's copies are all that keep the bindings now */
	nmport_close(d);
	nmport_close(v);
	close(ufd);

	/* 2 */
	CHECK_EQ(receive(rx, 5000, 20), 5000);
	CHECK_EQ(receive(vrx, 1, 10), 1);
	{
		struct nmport_d *rx2 = t_open_pipe(base, '}', 2);

		CHECK_EQ(receive(rx2, 10, 10), 10);
		nmport_close(rx2);
	}
	REQUIRE(write(sv[0], "x", 1) == 1, "release the client");
	REQUIRE(waitpid(pid, &st, 0) == pid, "wait client");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "client status %#x", st);

	/* 3: through exec */
	d = t_open_pipe(base, '{', 3);
	nmport_close(rx);
	rx = t_open_pipe(base, '}', 3);
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0) {
		char a1[16], a2[64];

		fcntl(d->fd, F_SETFD, 0);	/* inherited through exec */
		snprintf(a1, sizeof(a1), "%d", d->fd);
		snprintf(a2, sizeof(a2), "%llu,%llu", (unsigned long long)d->reg.nr_offset,
			 (unsigned long long)d->reg.nr_memsize);
		execl("/proc/self/exe", argv[0], "--exec-child", a1, a2, (char *)NULL);
		_exit(127);
	}
	nmport_close(d);
	CHECK_EQ(receive(rx, 1000, 20), 1000);
	REQUIRE(waitpid(pid, &st, 0) == pid, "wait exec child");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exec child status %#x", st);
	nmport_close(rx);
	nmport_close(vrx);
	close(sv[0]);
	return t_done("34_fd_passing");
}

/*
 * ivshmem_client.c - a stand-in for QEMU's ivshmem-doorbell device, for
 * tests/integration/70_ivshmem_server.sh: it speaks the client side of
 * the protocol against ivshmem_host (or misbehaves, on request) and
 * prints what it got, one event per line:
 *
 *   ID <id>                  its peer id
 *   SHM <size> magic ok|bad  the shared memory, mapped and checked
 *   PEER <id> <nfds>         a peer (0: the host) announced with all its fds
 *   SELF <id> <nfds>         its own vectors: the greeting is complete
 *   LEFT <id>                a peer left
 *   LEFT-UNKNOWN <id>        a peer we were never told of left
 *   KICKED <vector>          one of its own vectors fired
 *   REFUSED                  the server closed before the greeting
 *   CLOSED                   the server closed the connection later
 *   BAD <why>                the server broke the protocol (exit 1)
 *
 * Modes: normal (greet, optionally ping, stay -t seconds); -G garbage
 * (send junk and a descriptor, expect to be dropped); -N never read;
 * -L N join and leave N times in a row.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ivt_box.h"

#define MAXPEERS 64	/* known at once */
#define MAXVEC	 16

static int vectors = 2;
static int self_id = -1;
/* the peers we know: ids up to 65535, at most MAXPEERS at a time */
static struct known {
	int id;		/* -1: free entry */
	int nfds;
	int fds[MAXVEC];
} known[MAXPEERS];
static int stage;		/* 0 version, 1 id, 2 shm, 3 peers */
static char *shm;
static size_t shm_size;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One message: 1 read, 0 EOF, -1 error.  Like QEMU: 8 bytes at a time. */
static int recv_msg(int sock, int64_t *val, int *fd)
{
	uint64_t le;
	size_t got = 0;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct iovec iov;
	struct msghdr m;
	struct cmsghdr *cm;
	ssize_t n;

	*fd = -1;
	while (got < sizeof(le)) {
		iov.iov_base = (char *)&le + got;
		iov.iov_len = sizeof(le) - got;
		memset(&m, 0, sizeof(m));
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = c.buf;
		m.msg_controllen = sizeof(c.buf);
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 && got == 0 ? 0 : -1;
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
			    cm->cmsg_len == CMSG_LEN(sizeof(int)))
				memcpy(fd, CMSG_DATA(cm), sizeof(int));
		got += (size_t)n;
	}
	*val = (int64_t)le64toh(le);
	return 1;
}

static struct known *lookup(int id, bool add)
{
	int i, free_i = -1;

	for (i = 0; i < MAXPEERS; i++) {
		if (known[i].id == id)
			return &known[i];
		if (known[i].id < 0 && free_i < 0)
			free_i = i;
	}
	if (!add || free_i < 0)
		return NULL;
	known[free_i].id = id;
	known[free_i].nfds = 0;
	return &known[free_i];
}

static int bad(const char *why, int64_t v)
{
	printf("BAD %s (%lld)\n", why, (long long)v);
	return -1;
}

/* Apply one message; -1 on a protocol violation. */
static int handle(int64_t v, int fd)
{
	struct stat st;
	struct ivt_box *b;
	struct known *k;
	int i;

	switch (stage) {
	case 0:
		if (v != 0 || fd >= 0)
			return bad("version", v);
		stage = 1;
		return 0;
	case 1:
		if (v < 0 || v > 65535 || fd >= 0)
			return bad("id", v);
		self_id = (int)v;
		printf("ID %d\n", self_id);
		stage = 2;
		return 0;
	case 2:
		if (v != -1 || fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0)
			return bad("shm", v);
		shm_size = (size_t)st.st_size;
		shm = mmap(NULL, shm_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		if (shm == MAP_FAILED)
			return bad("shm mmap", v);
		b = (struct ivt_box *)shm;
		printf("SHM %zu magic %s\n", shm_size,
		       shm_size >= IVT_MIN_SIZE &&
		       atomic_load_explicit(&b->magic, memory_order_relaxed) == IVT_MAGIC ?
		       "ok" : "bad");
		stage = 3;
		return 0;
	}
	if (v < 0 || v > 65535) {
		if (fd >= 0)
			close(fd);
		return bad("peer id", v);
	}
	if (fd < 0) {
		if (v == self_id)
			return bad("told that we left", v);
		k = lookup((int)v, false);
		if (!k) {
			/* its announcement was still queued when it left */
			printf("LEFT-UNKNOWN %lld\n", (long long)v);
			return 0;
		}
		for (i = 0; i < k->nfds; i++)
			close(k->fds[i]);
		k->id = -1;
		printf("LEFT %lld\n", (long long)v);
		return 0;
	}
	k = lookup((int)v, true);
	if (!k) {
		close(fd);
		return bad("too many peers for this client", v);
	}
	if (k->nfds >= vectors) {
		close(fd);
		return bad("more fds than vectors", v);
	}
	k->fds[k->nfds++] = fd;
	if (k->nfds == vectors)
		printf("%s %lld %d\n", v == self_id ? "SELF" : "PEER", (long long)v, vectors);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ivshmem_client -s SOCKET [-v VECTORS] [-t SECONDS] [-P] [-R V]\n"
		"                      [-G | -N | -L COUNT]\n"
		"  -P  once greeted, ping the host (mailbox PING, ring vector 0)\n"
		"  -R  once greeted, ring the host's vector V\n"
		"  -G  send garbage and a descriptor instead; expect to be dropped\n"
		"  -N  never read (stay -t seconds)\n"
		"  -L  join and leave COUNT times\n");
}

static void drop_all(int sock)
{
	int p, i;

	close(sock);
	for (p = 0; p < MAXPEERS; p++) {
		for (i = 0; known[p].id >= 0 && i < known[p].nfds; i++)
			close(known[p].fds[i]);
		known[p].id = -1;
	}
	if (shm && shm != MAP_FAILED)
		munmap(shm, shm_size);
	shm = NULL;
	stage = 0;
	self_id = -1;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	double secs = 2, end;
	int c, sock, mode = 0, ping = 0, ring = -1, loops = 0, r, fd, i, greeted = 0;
	struct known *me, *host;
	struct pollfd pfd[1 + MAXVEC];
	uint64_t one = 1, cnt;
	int64_t v;

	while ((c = getopt(argc, argv, "s:v:t:PR:GNL:h")) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'v': vectors = atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'P': ping = 1; break;
		case 'R': ring = atoi(optarg); break;
		case 'G': mode = 'G'; break;
		case 'N': mode = 'N'; break;
		case 'L': mode = 'L'; loops = atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!path || vectors < 1 || vectors > MAXVEC) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < MAXPEERS; i++)
		known[i].id = -1;

	if (mode == 'L') {
		int refused = 0;

		for (i = 0; i < loops; ) {
			sock = connect_to(path);
			if (sock < 0)
				return 1;
			/* read the greeting up to our own vectors, then go */
			r = 1;
			while ((self_id < 0 || !(me = lookup(self_id, false)) ||
				me->nfds < vectors) &&
			       (r = recv_msg(sock, &v, &fd)) > 0)
				if (handle(v, fd) < 0)
					return 1;
			drop_all(sock);
			if (r > 0) {
				i++;
				continue;
			}
			/* refused: our previous self still held its slot
			 * when we came back; give the server a moment */
			if (++refused > 100 * loops)
				return 1;
			usleep(2000);
		}
		printf("LOOPS %d (%d refused and retried)\n", loops, refused);
		return 0;
	}
	sock = connect_to(path);
	if (sock < 0) {
		printf("CONNECT failed: %s\n", strerror(errno));
		return 1;
	}
	if (mode == 'G') {
		static const char junk[] = "\x01\x02\x03 this is not QEMU \xff\xfe";
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int))];
		} cb;
		struct iovec iov = { .iov_base = (void *)junk, .iov_len = sizeof(junk) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cb.buf, .msg_controllen = sizeof(cb.buf) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);

		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &nul, sizeof(int));
		if (sendmsg(sock, &m, MSG_NOSIGNAL) < 0)
			printf("SEND failed: %s\n", strerror(errno));
		close(nul);
	}
	if (mode == 'N') {
		usleep((useconds_t)(secs * 1e6));
		printf("SLEPT\n");
		return 0;
	}

	end = now() + secs;
	while (now() < end) {
		int n = 1;

		pfd[0].fd = sock;
		pfd[0].events = POLLIN;
		me = self_id >= 0 ? lookup(self_id, false) : NULL;
		for (i = 0; me && i < me->nfds; i++, n++) {
			pfd[n].fd = me->fds[i];
			pfd[n].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)n, (int)((end - now()) * 1000) + 1) <= 0)
			continue;
		for (i = 1; i < n; i++)
			if ((pfd[i].revents & POLLIN) &&
			    read(pfd[i].fd, &cnt, sizeof(cnt)) == (ssize_t)sizeof(cnt))
				printf("KICKED %d\n", i - 1);
		if (!(pfd[0].revents & (POLLIN | POLLHUP)))
			continue;
		r = recv_msg(sock, &v, &fd);
		if (r <= 0) {
			printf("%s\n", stage < 3 ? "REFUSED" : "CLOSED");
			return mode == 'G' || stage < 3 ? 0 : 1;
		}
		if (mode == 'G') {
			/* the greeting may come before the server reads our junk */
			if (fd >= 0)
				close(fd);
			continue;
		}
		if (handle(v, fd) < 0)
			return 1;
		me = self_id >= 0 ? lookup(self_id, false) : NULL;
		host = lookup(0, false);
		if (!greeted && me && me->nfds == vectors && host && host->nfds == vectors) {
			struct ivt_box *b = (struct ivt_box *)shm + self_id;

			greeted = 1;
			if (ring >= 0 && ring < vectors &&
			    write(host->fds[ring], &one, sizeof(one)) != (ssize_t)sizeof(one))
				printf("RING failed\n");
			if (ping && self_id < IVT_MAX_PEERS && shm_size >= IVT_MIN_SIZE) {
				atomic_store_explicit(&b->round, 1, memory_order_relaxed);
				/* R2 (partner: A2 in ivshmem_host.c) */
				atomic_store_explicit(&b->cmd, IVT_CMD_PING, memory_order_release);
				if (write(host->fds[0], &one, sizeof(one)) != (ssize_t)sizeof(one))
					printf("RING failed\n");
			}
		}
	}
	if (mode == 'G') {
		printf("NOT DROPPED\n");
		return 1;
	}
	drop_all(sock);
	printf("BYE\n");
	return 0;
}

/*
 * unm_wire.c - message framing and descriptor passing for the control
 * protocol (see unm_wire.h).  The library and the daemon both use these;
 * they call the kernel directly (send/recvmsg on a socket), so they are
 * safe inside libnetmap's interposed libc functions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unm_wire.h"

int unm_wire_send(int sock, const struct unm_msg_hdr *h, const void *payload,
		  const int *fds, unsigned nfds)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)(uintptr_t)h, .iov_len = sizeof(*h) },
		{ .iov_base = (void *)(uintptr_t)payload, .iov_len = h->len },
	};
	union {
		char buf[CMSG_SPACE(sizeof(int) * UNM_WIRE_MAXFDS)];
		struct cmsghdr align;
	} cm;
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = h->len ? 2 : 1 };
	ssize_t n;

	if (nfds > UNM_WIRE_MAXFDS || sizeof(*h) + h->len > UNM_WIRE_MAX)
		return -EMSGSIZE;
	if (nfds) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != sizeof(*h) + h->len)
		return -EPROTO;
	return 0;
}

ssize_t unm_wire_recv(int sock, void *buf, int *fds, unsigned *nfds)
{
	struct iovec iov = { .iov_base = buf, .iov_len = UNM_WIRE_MAX };
	union {
		char buf[CMSG_SPACE(sizeof(int) * UNM_WIRE_MAXFDS)];
		struct cmsghdr align;
	} cm;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cm.buf, .msg_controllen = sizeof(cm.buf),
	};
	const struct unm_msg_hdr *h = buf;
	unsigned want = nfds ? *nfds : 0, got = 0;
	struct cmsghdr *c;
	ssize_t n;

	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		unsigned k, cnt;
		int fd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < cnt; k++) {
			memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
			if (got < want)
				fds[got++] = fd;
			else
				close(fd);
		}
	}
	if (nfds)
		*nfds = got;
	if (n == 0)
		return 0;
	if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    (size_t)n < sizeof(*h) || h->magic != UNM_WIRE_MAGIC ||
	    (h->version != UNM_WIRE_VERSION && h->type != UNM_MSG_HELLO) ||
	    sizeof(*h) + h->len != (size_t)n)
		goto proto;
	return n;
proto:
	while (got)
		close(fds[--got]);
	if (nfds)
		*nfds = 0;
	return -EPROTO;
}

int unm_socket_path(char *buf, size_t len)
{
	const char *env = getenv("UNETMAP_SOCKET");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (env && *env)
		n = snprintf(buf, len, "%s", env);
	else if (xdg && *xdg)
		n = snprintf(buf, len, "%s/unetmap/netmapd.sock", xdg);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/run/unetmap/netmapd.sock");
	else
		n = snprintf(buf, len, "/tmp/unetmap-%u/netmapd.sock",
			     (unsigned)geteuid());
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

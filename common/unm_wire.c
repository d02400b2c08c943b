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
		  const char *text, const int *fds, unsigned nfds)
{
	struct unm_msg_hdr hh = *h;
	size_t tl = text ? strnlen(text, UNM_WIRE_TEXT_MAX - 1) : 0;
	char tbuf[UNM_WIRE_TEXT_MAX];
	struct iovec iov[3] = {
		{ .iov_base = &hh, .iov_len = sizeof(hh) },
		{ .iov_base = (void *)(uintptr_t)payload, .iov_len = h->len },
		{ .iov_base = tbuf, .iov_len = 0 },
	};
	union {
		char buf[CMSG_SPACE(sizeof(int) * UNM_WIRE_MAXFDS)];
		struct cmsghdr align;
	} cm;
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 3 };
	ssize_t n;

	if (text) {
		memcpy(tbuf, text, tl);
		tbuf[tl] = '\0';
		iov[2].iov_len = tl + 1;
		hh.text_len = (uint32_t)(tl + 1);
		hh.len += hh.text_len;
	} else {
		hh.text_len = 0;
	}
	hh.pad = 0;
	if (nfds > UNM_WIRE_MAXFDS || sizeof(hh) + hh.len > UNM_WIRE_MAX)
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
	if ((size_t)n != sizeof(hh) + hh.len)
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
	if (msg.msg_flags & MSG_CTRUNC) {
		/* the kernel could not give us every descriptor: we are out
		 * of them (EMFILE), which the caller should hear as such */
		while (got)
			close(fds[--got]);
		if (nfds)
			*nfds = 0;
		return -EMFILE;
	}
	/* a HELLO from a peer of another version passes whatever its header
	 * looks like beyond magic, version and type, so that both sides can
	 * say what they speak; the caller reads nothing else of it */
	if (!(msg.msg_flags & MSG_TRUNC) && (size_t)n >= 8 && h->magic == UNM_WIRE_MAGIC &&
	    h->version != UNM_WIRE_VERSION && h->type == UNM_MSG_HELLO)
		return n;
	if ((msg.msg_flags & MSG_TRUNC) ||
	    (size_t)n < sizeof(*h) || h->magic != UNM_WIRE_MAGIC ||
	    h->version != UNM_WIRE_VERSION || sizeof(*h) + h->len != (size_t)n || h->text_len > h->len ||
	    h->text_len > UNM_WIRE_TEXT_MAX ||
	    (h->text_len && ((const char *)buf)[n - 1] != '\0'))
		goto proto;
	return n;
proto:
	while (got)
		close(fds[--got]);
	if (nfds)
		*nfds = 0;
	return -EPROTO;
}

int unm_socket_dir_ok(const char *dir, uid_t uid, char *msg, size_t msglen)
{
	struct stat st;

	if (lstat(dir, &st) < 0) {
		int err = errno;

		snprintf(msg, msglen, "%s: %s", dir, strerror(err));
		return -err;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(msg, msglen, "%s is not a directory%s", dir,
			 S_ISLNK(st.st_mode) ? " (a symbolic link)" : "");
		return -ENOTDIR;
	}
	if (st.st_uid != uid && st.st_uid != 0) {
		snprintf(msg, msglen, "%s belongs to uid %u, not to uid %u or root", dir,
			 (unsigned)st.st_uid, (unsigned)uid);
		return -EACCES;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		snprintf(msg, msglen, "%s is writable by others (mode %03o)", dir,
			 (unsigned)(st.st_mode & 0777));
		return -EACCES;
	}
	return 0;
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
	else {
		char run[64];
		struct stat st;

		/* the user's private runtime directory, when there is one
		 * (systemd makes it at login; XDG_RUNTIME_DIR may just not
		 * be passed on), else a directory of our own in /tmp, whose
		 * owner and mode netmapd and the library both check */
		snprintf(run, sizeof(run), "/run/user/%u", (unsigned)geteuid());
		if (lstat(run, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
		    !(st.st_mode & 077))
			n = snprintf(buf, len, "%s/unetmap/netmapd.sock", run);
		else
			n = snprintf(buf, len, "/tmp/unetmap-%u/netmapd.sock",
				     (unsigned)geteuid());
	}
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * ctl_client.c - the connection from a port descriptor to netmapd, and
 * starting netmapd when none is running.
 *
 * A newcomer needs no set-up: if nobody listens on the socket, we start
 * netmapd (which detaches once it listens, and exits when idle), then
 * connect.  Two processes racing to start it are fine: netmapd takes a
 * lock and the loser exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

extern char **environ;

#ifndef UNM_NETMAPD_DEFAULT
#define UNM_NETMAPD_DEFAULT "/usr/local/sbin/netmapd"
#endif

static bool executable(const char *p)
{
	return access(p, X_OK) == 0;
}

/* $UNETMAP_NETMAPD, then beside the running program, then the installed
 * path, then $PATH. */
static int find_netmapd(char *out, size_t len)
{
	const char *env = getenv("UNETMAP_NETMAPD");
	char self[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return executable(out) ? 0 : -ENOENT;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((size_t)snprintf(out, len, "%s/netmapd", dirname(self)) < len &&
		    executable(out))
			return 0;
	}
	if (executable(UNM_NETMAPD_DEFAULT)) {
		snprintf(out, len, "%s", UNM_NETMAPD_DEFAULT);
		return 0;
	}
	{
		const char *path = getenv("PATH");
		char dir[PATH_MAX];

		while (path && *path) {
			const char *colon = strchr(path, ':');
			size_t l = colon ? (size_t)(colon - path) : strlen(path);

			if (l && l < sizeof(dir)) {
				memcpy(dir, path, l);
				dir[l] = '\0';
				if ((size_t)snprintf(out, len, "%s/netmapd", dir) < len &&
				    executable(out))
					return 0;
			}
			path = colon ? colon + 1 : NULL;
		}
	}
	return -ENOENT;
}

static int spawn_netmapd(const char *sock)
{
	char bin[PATH_MAX];
	char *argv[] = { bin, "--socket", (char *)sock, "--idle-exit", "60", NULL };
	pid_t pid;
	int st;

	if (find_netmapd(bin, sizeof(bin)) < 0)
		return -ENOENT;
	if (posix_spawn(&pid, bin, NULL, NULL, argv, environ) != 0)
		return -errno;
	/* netmapd's first process exits once the socket listens */
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return 0;
}

static int try_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		unm_libc.close(fd);
		return err;
	}
	return fd;
}

static int hello(int fd)
{
	struct unm_msg_hello h = { .version = UNM_WIRE_VERSION, .pid = (uint32_t)getpid() };
	struct unm_msg_hdr mh = {
		.magic = UNM_WIRE_MAGIC, .version = UNM_WIRE_VERSION,
		.type = UNM_MSG_HELLO, .len = sizeof(h),
	};
	char *buf = malloc(UNM_WIRE_MAX);
	ssize_t n;
	int err;

	if (!buf)
		return -ENOMEM;
	err = unm_wire_send(fd, &mh, &h, NULL, 0);
	if (err == 0) {
		n = unm_wire_recv(fd, buf, NULL, NULL);
		if (n <= 0)
			err = n == 0 ? -ECONNRESET : (int)n;
		else if (((struct unm_msg_hdr *)buf)->type != UNM_MSG_HELLO)
			err = -EPROTO;
		else if (((struct unm_msg_hdr *)buf)->error)
			/* a netmapd of another version (it logs which) */
			err = -((struct unm_msg_hdr *)buf)->error;
	}
	free(buf);
	return err;
}

int unm_ctl_connect(void)
{
	struct sockaddr_un sa;
	char path[sizeof(sa.sun_path)];
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int fd, tries, spawned = 0, err;

	if (unm_socket_path(path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	for (tries = 0; tries < 400; tries++) {
		fd = try_connect(path);
		if (fd >= 0) {
			err = hello(fd);
			if (err == 0)
				return fd;
			unm_libc.close(fd);
			return err;
		}
		if (fd != -ENOENT && fd != -ECONNREFUSED)
			return fd;
		if (!spawned) {
			err = spawn_netmapd(path);
			if (err < 0)
				return -ENOENT;
			spawned = 1;
			continue;
		}
		nanosleep(&ts, NULL);	/* up to ~2 s for a slow start */
	}
	return -ETIMEDOUT;
}

int unm_ctl_call(struct unm_port *p, uint16_t type, const void *payload, uint32_t len,
		 void *reply, uint32_t *reply_len, int *fds, unsigned *nfds)
{
	struct unm_msg_hdr h = {
		.magic = UNM_WIRE_MAGIC, .version = UNM_WIRE_VERSION,
		.type = type, .len = len,
	};
	const struct unm_msg_hdr *rh;
	char *buf = malloc(UNM_WIRE_MAX);
	unsigned got = nfds ? *nfds : 0;
	ssize_t n;
	int err;

	if (reply_len && reply) {
		/* callers pass a UNM_WIRE_MAX buffer; 0 unless a reply arrives */
		*reply_len = 0;
	}
	if (!buf)
		return -ENOMEM;
	pthread_mutex_lock(&p->ctl_lock);
	err = unm_wire_send(p->fd, &h, payload, NULL, 0);
	if (err == 0) {
		n = unm_wire_recv(p->fd, buf, fds, &got);
		if (n <= 0) {
			err = n == 0 ? -ECONNRESET : (int)n;
		} else {
			rh = (const struct unm_msg_hdr *)buf;
			if (rh->type != type) {
				err = -EPROTO;
			} else {
				if (reply && reply_len) {
					uint32_t l = rh->len < UNM_WIRE_MAX ? rh->len : UNM_WIRE_MAX;

					memcpy(reply, buf + sizeof(*rh), l);
					*reply_len = rh->len;
				}
				err = -rh->error;
			}
		}
	}
	pthread_mutex_unlock(&p->ctl_lock);
	if (nfds)
		*nfds = got;
	free(buf);
	return err;
}

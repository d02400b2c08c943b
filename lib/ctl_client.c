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
#include <poll.h>
#include <spawn.h>
#include <stdarg.h>
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

/* Why the last control operation of this thread failed, for people:
 * netmapd's own words, or ours.  nmport_*() and nmreq_*() add it to the
 * messages they send to the nmctx error callback. */
static __thread char reason[UNM_WIRE_TEXT_MAX];

const char *unm_reason(void)
{
	return reason;
}

void unm_reason_clear(void)
{
	reason[0] = '\0';
}

void unm_reason_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
}

/* How long we wait for netmapd's answers (UNETMAP_TIMEOUT, seconds):
 * a netmapd that is stuck or gone must give the application an error,
 * not a hang. */
static int reply_timeout_ms(void)
{
	const char *e = getenv("UNETMAP_TIMEOUT");
	long v = e && *e ? strtol(e, NULL, 10) : 0;

	return v > 0 && v < 86400 ? (int)v * 1000 : 30000;
}

/* Wait for a reply on fd, then receive it.  -ETIMEDOUT if none came. */
static ssize_t recv_reply(int fd, void *buf, int *fds, unsigned *nfds)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int left = reply_timeout_ms(), rc;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		rc = unm_libc.poll(&p, 1, left);
		if (rc > 0)
			break;
		if (rc == 0 || errno != EINTR) {
			if (nfds)
				*nfds = 0;
			return rc == 0 ? -ETIMEDOUT : -errno;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left -= (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
		t0 = t1;
		if (left <= 0)
			left = 0;
	}
	return unm_wire_recv(fd, buf, fds, nfds);
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

/* Whoever listens must be our own netmapd (or root's): anybody else
 * could read every request and hand us regions of their choosing. */
static int check_server(int fd, const char *path)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	if (cred.uid != geteuid() && cred.uid != 0) {
		unm_reason_set("the server on %s runs as uid %u, not as uid %u or root: "
			       "refusing to talk to it", path, (unsigned)cred.uid,
			       (unsigned)geteuid());
		return -EACCES;
	}
	return 0;
}

static int hello(int fd, const char *path)
{
	struct unm_msg_hello h = { .version = UNM_WIRE_VERSION, .pid = (uint32_t)getpid() };
	struct unm_msg_hdr mh = {
		.magic = UNM_WIRE_MAGIC, .version = UNM_WIRE_VERSION,
		.type = UNM_MSG_HELLO, .len = sizeof(h),
	};
	char *buf = malloc(UNM_WIRE_MAX);
	const struct unm_msg_hdr *rh = (const struct unm_msg_hdr *)buf;
	ssize_t n;
	int err;

	if (!buf)
		return -ENOMEM;
	err = unm_wire_send(fd, &mh, &h, NULL, NULL, 0);
	/* a server that refuses us writes why and closes at once: our HELLO
	 * may then meet a closed socket, but the refusal is still there */
	if (err == -EPIPE || err == -ECONNRESET)
		err = 0;
	if (err == 0) {
		n = recv_reply(fd, buf, NULL, NULL);
		/* if our HELLO was still unread when it closed, the kernel
		 * reports the reset first and the refusal after it */
		if (n == -ECONNRESET)
			n = unm_wire_recv(fd, buf, NULL, NULL);
		if (n == -ETIMEDOUT) {
			unm_reason_set("netmapd on %s did not answer within %d s", path,
				       reply_timeout_ms() / 1000);
			err = -ETIMEDOUT;
		} else if (n <= 0) {
			err = n == 0 ? -ECONNRESET : (int)n;
		} else if (rh->version != UNM_WIRE_VERSION) {
			unm_reason_set("netmapd on %s speaks control protocol version %u, "
				       "this library %u", path, rh->version, UNM_WIRE_VERSION);
			err = -EPROTONOSUPPORT;
		} else if (rh->type != UNM_MSG_HELLO) {
			err = -EPROTO;
		} else if (rh->error) {
			/* refused: another user, out of descriptors, another
			 * version; netmapd says which */
			unm_reason_set("%s", unm_wire_text(buf));
			err = -rh->error;
		}
	}
	free(buf);
	return err;
}

/* The socket's directory must be one nobody else controls (see
 * unm_socket_dir_ok); netmapd refuses to listen in any other. */
static int check_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)], why[UNM_WIRE_TEXT_MAX], *slash;
	int err;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	err = unm_socket_dir_ok(dir, geteuid(), why, sizeof(why));
	if (err == -ENOENT)
		return 0;	/* netmapd will make it */
	if (err)
		unm_reason_set("not using netmapd's socket %s: %s", path, why);
	return err;
}

int unm_ctl_connect(void)
{
	struct sockaddr_un sa;
	char path[sizeof(sa.sun_path)];
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int fd, tries, spawned = 0, err;

	reason[0] = '\0';
	if (unm_socket_path(path, sizeof(path)) < 0) {
		unm_reason_set("netmapd's socket path is too long");
		return -ENAMETOOLONG;
	}
	for (tries = 0; tries < 400; tries++) {
		err = check_dir(path);
		if (err)
			return err;
		fd = try_connect(path);
		if (fd >= 0) {
			err = check_server(fd, path);
			if (err == 0)
				err = hello(fd, path);
			if (err == 0)
				return fd;
			unm_libc.close(fd);
			return err;
		}
		if (fd != -ENOENT && fd != -ECONNREFUSED) {
			unm_reason_set("cannot connect to netmapd on %s: %s", path, strerror(-fd));
			return fd;
		}
		if (!spawned) {
			err = spawn_netmapd(path);
			if (err < 0) {
				unm_reason_set("no netmapd on %s, and none found to start "
					       "(set UNETMAP_NETMAPD)", path);
				return -ENOENT;
			}
			spawned = 1;
			continue;
		}
		nanosleep(&ts, NULL);	/* up to ~2 s for a slow start */
	}
	unm_reason_set("netmapd did not start listening on %s (see %s.log)", path, path);
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

	reason[0] = '\0';
	if (reply_len && reply) {
		/* callers pass a UNM_WIRE_MAX buffer; 0 unless a reply arrives */
		*reply_len = 0;
	}
	if (!buf)
		return -ENOMEM;
	pthread_mutex_lock(&p->ctl_lock);
	if (p->broken) {
		/* a reply we gave up waiting for may still come: the
		 * connection cannot be trusted to pair replies any more */
		err = -EIO;
		unm_reason_set("an earlier request on this descriptor timed out");
		got = 0;
		goto out;
	}
	err = unm_wire_send(p->fd, &h, payload, NULL, NULL, 0);
	if (err == 0) {
		n = recv_reply(p->fd, buf, fds, &got);
		if (n == -ETIMEDOUT) {
			p->broken = true;
			unm_reason_set("netmapd did not answer within %d s", reply_timeout_ms() / 1000);
			err = -ETIMEDOUT;
		} else if (n <= 0) {
			err = n == 0 ? -ECONNRESET : (int)n;
			if (err == -EMFILE)
				unm_reason_set("this process is out of file descriptors");
		} else {
			rh = (const struct unm_msg_hdr *)buf;
			if (rh->type != type) {
				err = -EPROTO;
			} else {
				if (reply && reply_len) {
					uint32_t l = rh->len - rh->text_len;

					memcpy(reply, buf + sizeof(*rh), l);
					*reply_len = l;
				}
				err = -rh->error;
				if (err)
					unm_reason_set("%s", unm_wire_text(buf));
			}
		}
	}
out:
	pthread_mutex_unlock(&p->ctl_lock);
	if (nfds)
		*nfds = got;
	free(buf);
	return err;
}

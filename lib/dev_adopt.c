/*
 * dev_adopt.c - port descriptors this process did not open.
 *
 * A port descriptor is a connection to netmapd, so it survives being
 * passed to another process with SCM_RIGHTS (netmap's fd_server) or
 * inherited through exec, as a kernel file would -- but the receiving
 * process has none of the library's state for it.  The first netmap
 * ioctl() or mmap() on a descriptor the library does not know checks
 * whether it is a connection to our netmapd, and if so asks netmapd what
 * it binds (UNM_MSG_ADOPT) and sets it up as if this process had
 * registered it: mapped region, rings, wake-ups.  poll() alone does not
 * adopt (checking every unknown descriptor of every poll would cost a
 * system call each); netmap applications map the region before they
 * poll.
 *
 * Two processes using one descriptor both send their control requests on
 * the same connection; as with a kernel file shared that way, they must
 * not issue control requests at the same time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"

static pthread_mutex_t adopt_lock = PTHREAD_MUTEX_INITIALIZER;

/* Is fd connected to the netmapd this process would use? */
static bool is_our_connection(int fd)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	char path[sizeof(sa.sun_path)];
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	int type;
	socklen_t tl = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_SEQPACKET)
		return false;
	memset(&sa, 0, sizeof(sa));
	if (getpeername(fd, (struct sockaddr *)&sa, &len) < 0 || sa.sun_family != AF_UNIX ||
	    len <= offsetof(struct sockaddr_un, sun_path))
		return false;
	if (unm_socket_path(path, sizeof(path)) < 0 ||
	    strncmp(sa.sun_path, path, sizeof(sa.sun_path)) != 0)
		return false;
	/* the same rule as for a connection of our own (ctl_client.c) */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
	    (cred.uid != geteuid() && cred.uid != 0))
		return false;
	return true;
}

struct unm_port *unm_dev_adopt(int fd)
{
	struct unm_port *p;
	char *reply = NULL;
	uint32_t rlen = 0;
	int fds[UNM_WIRE_MAXFDS];
	unsigned nfds = UNM_WIRE_MAXFDS;
	int err;

	if (!is_our_connection(fd))
		return NULL;
	pthread_mutex_lock(&adopt_lock);
	p = unm_port_lookup(fd);	/* another thread was quicker */
	if (p)
		goto out;
	p = calloc(1, sizeof(*p));
	reply = malloc(UNM_WIRE_MAX);
	if (!p || !reply)
		goto fail;
	pthread_mutex_init(&p->ctl_lock, NULL);
	p->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	p->wake_ep = epoll_create1(EPOLL_CLOEXEC);
	if (p->fd < 0 || p->wake_ep < 0)
		goto fail;
	err = unm_ctl_call(p, UNM_MSG_ADOPT, NULL, 0, reply, &rlen, fds, &nfds);
	if (err || rlen < sizeof(struct unm_msg_adopt)) {
		while (nfds > 0)
			unm_libc.close(fds[--nfds]);
		goto fail;
	}
	{
		const struct unm_msg_adopt *a = (const struct unm_msg_adopt *)(void *)reply;

		if (a->bound) {
			err = unm_dev_bind(p, (const struct unm_bind_info *)(reply + sizeof(*a)),
					   rlen - sizeof(*a), fds, nfds);
			if (err)
				goto fail;
			p->nr_flags = a->nr_flags;
		} else {
			while (nfds > 0)
				unm_libc.close(fds[--nfds]);
		}
	}
	if (unm_port_insert_ref(p, fd) < 0) {
		if (p->bound)
			unm_dev_unbind_local(p);
		goto fail;
	}
	goto out;
fail:
	if (p) {
		if (p->wake_ep > 0)
			unm_libc.close(p->wake_ep);
		if (p->fd > 0)
			unm_libc.close(p->fd);
		free(p);
	}
	p = NULL;
out:
	pthread_mutex_unlock(&adopt_lock);
	free(reply);
	return p;
}

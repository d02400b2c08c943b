/*
 * interpose.c - the libc calls a netmap application makes on port
 * descriptors.  netmap applications call open("/dev/netmap"), ioctl(),
 * mmap(), poll()/select()/epoll and close() directly (pkt-gen does, and so
 * do the static inline nm_open()/nm_close() of netmap_user.h), so source
 * compatibility means answering those calls.  libnetmap defines them;
 * linked with -lnetmap (or the static library) its definitions come before
 * libc's, and every call on a descriptor that is not a port goes straight
 * on to the next definition (RTLD_NEXT), which keeps other interposers
 * such as sanitizers in the chain.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include <net/netmap_user.h>

#include "internal.h"

struct unm_libc unm_libc;

#define RESOLVE(name) do { if (!unm_libc.name) \
	*(void **)&unm_libc.name = dlsym(RTLD_NEXT, #name); } while (0)

void unm_libc_init(void)
{
	const char *spin;

	RESOLVE(open);
	RESOLVE(openat);
	RESOLVE(close);
	RESOLVE(ioctl);
	RESOLVE(mmap);
	RESOLVE(poll);
	RESOLVE(ppoll);
	RESOLVE(select);
	RESOLVE(pselect);
	RESOLVE(epoll_ctl);
	RESOLVE(epoll_wait);
	RESOLVE(epoll_pwait);
	RESOLVE(dup);
	RESOLVE(dup2);
	RESOLVE(dup3);
	unm_libc_raw(&unm_libc);	/* static executables: libc_raw.c */
	spin = getenv("UNETMAP_POLL_SPIN_US");
	if (spin)
		unm_poll_spin_us = (unsigned)strtoul(spin, NULL, 10);
}

__attribute__((constructor)) static void unm_init(void)
{
	unm_libc_init();
}

#define LIBC(name) (unm_libc.name ? unm_libc.name : (unm_libc_init(), unm_libc.name))

static bool is_netmap_device(const char *path)
{
	return path && strcmp(path, NETMAP_DEVICE_NAME) == 0;
}

static int dev_open(int flags)
{
	int fd = unm_dev_open(flags);

	if (fd < 0) {
		errno = -fd;
		return -1;
	}
	return fd;
}

#define OPEN_MODE(flags, mode) do { mode = 0; if ((flags) & (O_CREAT | O_TMPFILE)) { \
	va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); } } while (0)

UNM_EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode;

	if (is_netmap_device(path))
		return dev_open(flags);
	OPEN_MODE(flags, mode);
	return LIBC(open)(path, flags, mode);
}

UNM_EXPORT int open64(const char *path, int flags, ...)
{
	mode_t mode;

	if (is_netmap_device(path))
		return dev_open(flags);
	OPEN_MODE(flags, mode);
	return LIBC(open)(path, flags | O_LARGEFILE, mode);
}

UNM_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	if (is_netmap_device(path))
		return dev_open(flags);
	OPEN_MODE(flags, mode);
	return LIBC(openat)(dirfd, path, flags, mode);
}

UNM_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	if (is_netmap_device(path))
		return dev_open(flags);
	OPEN_MODE(flags, mode);
	return LIBC(openat)(dirfd, path, flags | O_LARGEFILE, mode);
}

/* _FORTIFY_SOURCE entry points */
UNM_EXPORT int __open_2(const char *path, int flags);
UNM_EXPORT int __open_2(const char *path, int flags)
{
	return open(path, flags);
}

UNM_EXPORT int __open64_2(const char *path, int flags);
UNM_EXPORT int __open64_2(const char *path, int flags)
{
	return open64(path, flags);
}

UNM_EXPORT int __openat_2(int dirfd, const char *path, int flags);
UNM_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	return openat(dirfd, path, flags);
}

UNM_EXPORT int close(int fd)
{
	struct unm_port *p = unm_port_lookup(fd);

	if (p)
		return unm_dev_close(p, fd);
	return LIBC(close)(fd);
}

UNM_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	struct unm_port *p;
	va_list ap;
	void *arg;
	int err;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	p = unm_port_lookup(fd);
	if (!p && (_IOC_TYPE(req) != 'i' || !(p = unm_dev_adopt(fd))))
		return LIBC(ioctl)(fd, req, arg);
	err = unm_dev_ioctl(p, req, arg);
	if (err) {
		errno = -err;
		return -1;
	}
	return 0;
}

UNM_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	struct unm_port *p = unm_port_lookup(fd);
	int err = 0;
	void *v;

	/* a descriptor we do not know may be a port another process passed
	 * us: only a socket can be (one fstat for the others) */
	if (!p && fd >= 0 && (flags & MAP_SHARED)) {
		struct stat st;

		if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
			p = unm_dev_adopt(fd);
	}
	if (!p)
		return LIBC(mmap)(addr, len, prot, flags, fd, off);
	v = unm_dev_mmap(p, addr, len, prot, flags, off, &err);
	if (v == MAP_FAILED)
		errno = err;
	return v;
}

UNM_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

static bool any_port(const struct pollfd *fds, nfds_t n)
{
	nfds_t i;

	if (!unm_any_ports())
		return false;
	for (i = 0; i < n; i++)
		if (unm_port_lookup(fds[i].fd))
			return true;
	return false;
}

/* glibc declares poll()'s array write_only (access attribute), which our
 * definition inherits; reading events from it is what poll does. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
UNM_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	struct timespec ts;

	if (!any_port(fds, n))
		return LIBC(poll)(fds, n, timeout);
	if (timeout >= 0) {
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (long)(timeout % 1000) * 1000000;
	}
	return unm_poll_common(fds, n, timeout >= 0 ? &ts : NULL, NULL);
}

UNM_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
		     const sigset_t *mask)
{
	if (!any_port(fds, n))
		return LIBC(ppoll)(fds, n, ts, mask);
	return unm_poll_common(fds, n, ts, mask);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

UNM_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
UNM_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return poll(fds, n, timeout);
}

UNM_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts,
			   const sigset_t *mask, size_t fdslen);
UNM_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts,
			   const sigset_t *mask, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return ppoll(fds, n, ts, mask);
}

/* select() on port descriptors: translated to poll. */
static int select_common(int nfds, fd_set *r, fd_set *w, fd_set *e,
			 const struct timespec *ts, const sigset_t *mask, bool *handled)
{
	struct pollfd small[64], *pfd = small;
	int fd, n = 0, rc, k;
	bool port = false;

	*handled = false;
	if (!unm_any_ports() || nfds <= 0)
		return 0;
	for (fd = 0; fd < nfds && fd < FD_SETSIZE; fd++) {
		if (((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (e && FD_ISSET(fd, e))) &&
		    unm_port_lookup(fd)) {
			port = true;
			break;
		}
	}
	if (!port)
		return 0;
	*handled = true;
	if (nfds > 64) {
		pfd = calloc((size_t)nfds, sizeof(*pfd));
		if (!pfd) {
			errno = ENOMEM;
			return -1;
		}
	}
	for (fd = 0; fd < nfds && fd < FD_SETSIZE; fd++) {
		short ev = 0;

		if (r && FD_ISSET(fd, r))
			ev |= POLLIN;
		if (w && FD_ISSET(fd, w))
			ev |= POLLOUT;
		if (e && FD_ISSET(fd, e))
			ev |= POLLPRI;
		if (ev) {
			pfd[n].fd = fd;
			pfd[n].events = ev;
			pfd[n].revents = 0;
			n++;
		}
	}
	rc = unm_poll_common(pfd, (nfds_t)n, ts, mask);
	if (rc >= 0) {
		if (r)
			FD_ZERO(r);
		if (w)
			FD_ZERO(w);
		if (e)
			FD_ZERO(e);
		rc = 0;
		for (k = 0; k < n; k++) {
			short re = pfd[k].revents;

			if (r && (re & (POLLIN | POLLHUP | POLLERR)) && (pfd[k].events & POLLIN)) {
				FD_SET(pfd[k].fd, r);
				rc++;
			}
			if (w && (re & (POLLOUT | POLLERR)) && (pfd[k].events & POLLOUT)) {
				FD_SET(pfd[k].fd, w);
				rc++;
			}
			if (e && (re & POLLPRI)) {
				FD_SET(pfd[k].fd, e);
				rc++;
			}
		}
	}
	if (pfd != small)
		free(pfd);
	return rc;
}

UNM_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	struct timespec ts;
	bool handled;
	int rc;

	if (tv) {
		ts.tv_sec = tv->tv_sec;
		ts.tv_nsec = tv->tv_usec * 1000;
	}
	rc = select_common(nfds, r, w, e, tv ? &ts : NULL, NULL, &handled);
	if (!handled)
		return LIBC(select)(nfds, r, w, e, tv);
	return rc;
}

UNM_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
		       const sigset_t *mask)
{
	bool handled;
	int rc = select_common(nfds, r, w, e, ts, mask, &handled);

	if (!handled)
		return LIBC(pselect)(nfds, r, w, e, ts, mask);
	return rc;
}

UNM_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	bool handled = false;
	int rc = 0;

	if (unm_any_ports())
		rc = unm_epoll_ctl(epfd, op, fd, ev, &handled);
	if (!handled)
		return LIBC(epoll_ctl)(epfd, op, fd, ev);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

UNM_EXPORT int epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout)
{
	if (!unm_any_ports())
		return LIBC(epoll_wait)(epfd, evs, max, timeout);
	return unm_epoll_wait_common(epfd, evs, max, timeout, NULL);
}

UNM_EXPORT int epoll_pwait(int epfd, struct epoll_event *evs, int max, int timeout,
			   const sigset_t *mask)
{
	if (!unm_any_ports())
		return LIBC(epoll_pwait)(epfd, evs, max, timeout, mask);
	return unm_epoll_wait_common(epfd, evs, max, timeout, mask);
}

/* dup() of a port descriptor refers to the same binding, as for a kernel
 * file: the binding lives until every copy is closed. */
static int dup_port(struct unm_port *p, int newfd)
{
	int err = unm_port_insert_ref(p, newfd);

	if (err) {
		LIBC(close)(newfd);
		errno = -err;
		return -1;
	}
	return newfd;
}

UNM_EXPORT int dup(int fd)
{
	struct unm_port *p = unm_port_lookup(fd);
	int nfd = LIBC(dup)(fd);

	if (nfd < 0 || !p)
		return nfd;
	return dup_port(p, nfd);
}

UNM_EXPORT int dup2(int fd, int newfd)
{
	struct unm_port *p = unm_port_lookup(fd), *old;
	int nfd;

	if (fd == newfd)
		return LIBC(dup2)(fd, newfd);
	old = unm_port_lookup(newfd);
	if (old)
		unm_dev_close(old, newfd);
	nfd = LIBC(dup2)(fd, newfd);
	if (nfd < 0 || !p)
		return nfd;
	return dup_port(p, nfd);
}

UNM_EXPORT int dup3(int fd, int newfd, int flags)
{
	struct unm_port *p = unm_port_lookup(fd), *old;
	int nfd;

	old = fd != newfd ? unm_port_lookup(newfd) : NULL;
	if (old)
		unm_dev_close(old, newfd);
	nfd = LIBC(dup3)(fd, newfd, flags);
	if (nfd < 0 || !p)
		return nfd;
	return dup_port(p, nfd);
}

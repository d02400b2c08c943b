/*
 * libc_raw.c - the interposed libc calls for statically linked programs.
 *
 * interpose.c passes calls on non-port descriptors to the next definition,
 * found with dlsym(RTLD_NEXT).  A static executable has no "next" object:
 * dlsym finds nothing there, and since the static link let our open()
 * and friends take the place of libc's, nothing else would reach the
 * kernel.  Static binaries exist for VM guests, which carry no shared
 * libraries (make guest, docs/vm-guests.md).  For them the entries dlsym
 * left empty are filled with plain system calls, with libc's semantics
 * (errno, timeouts the caller's copy of which stays untouched where libc
 * leaves it untouched).  Cancellation points are not emulated.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/* the kernel's sigset size (glibc's sigset_t is larger) */
#define KSIGSET_SIZE (_NSIG / 8)

static int raw_openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

static int raw_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

static int raw_close(int fd)
{
	return (int)syscall(SYS_close, fd);
}

static int raw_ioctl(int fd, unsigned long req, ...)
{
	void *arg;
	va_list ap;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	return (int)syscall(SYS_ioctl, fd, req, arg);
}

static void *raw_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static int raw_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
		     const sigset_t *mask)
{
	struct timespec t;

	/* the kernel writes the time left back; libc's ppoll does not */
	if (ts)
		t = *ts;
	return (int)syscall(SYS_ppoll, fds, n, ts ? &t : NULL, mask, KSIGSET_SIZE);
}

static int raw_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	struct timespec t = { .tv_sec = timeout / 1000, .tv_nsec = (timeout % 1000) * 1000000L };

	return (int)syscall(SYS_ppoll, fds, n, timeout < 0 ? NULL : &t, NULL, KSIGSET_SIZE);
}

static int raw_pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
		       const sigset_t *mask)
{
	struct { const sigset_t *ss; size_t len; } data = { mask, KSIGSET_SIZE };
	struct timespec t;

	if (ts)
		t = *ts;
	return (int)syscall(SYS_pselect6, nfds, r, w, e, ts ? &t : NULL, &data);
}

static int raw_select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	struct { const sigset_t *ss; size_t len; } data = { NULL, KSIGSET_SIZE };
	struct timespec t;
	int ret;

	if (tv) {
		t.tv_sec = tv->tv_sec;
		t.tv_nsec = tv->tv_usec * 1000L;
	}
	ret = (int)syscall(SYS_pselect6, nfds, r, w, e, tv ? &t : NULL, &data);
	/* Linux's select() reports the time left */
	if (tv && ret >= 0) {
		tv->tv_sec = t.tv_sec;
		tv->tv_usec = t.tv_nsec / 1000;
	}
	return ret;
}

static int raw_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	return (int)syscall(SYS_epoll_ctl, epfd, op, fd, ev);
}

static int raw_epoll_pwait(int epfd, struct epoll_event *evs, int max, int timeout,
			   const sigset_t *mask)
{
	return (int)syscall(SYS_epoll_pwait, epfd, evs, max, timeout, mask, KSIGSET_SIZE);
}

static int raw_epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout)
{
	return raw_epoll_pwait(epfd, evs, max, timeout, NULL);
}

static int raw_dup(int fd)
{
	return (int)syscall(SYS_dup, fd);
}

static int raw_dup3(int fd, int nfd, int flags)
{
	return (int)syscall(SYS_dup3, fd, nfd, flags);
}

static int raw_dup2(int fd, int nfd)
{
	/* dup3 refuses equal descriptors; dup2 checks fd and returns it */
	if (fd == nfd)
		return syscall(SYS_fcntl, fd, F_GETFD) < 0 ? -1 : nfd;
	return raw_dup3(fd, nfd, 0);
}

void unm_libc_raw(struct unm_libc *l)
{
#define FILL(name) do { if (!l->name) l->name = raw_##name; } while (0)
	FILL(open);
	FILL(openat);
	FILL(close);
	FILL(ioctl);
	FILL(mmap);
	FILL(poll);
	FILL(ppoll);
	FILL(select);
	FILL(pselect);
	FILL(epoll_ctl);
	FILL(epoll_wait);
	FILL(epoll_pwait);
	FILL(dup);
	FILL(dup2);
	FILL(dup3);
#undef FILL
}

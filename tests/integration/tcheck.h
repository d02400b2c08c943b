/*
 * tcheck.h - the check framework of the control-ABI tests (16, 17): each
 * failed check names the test, its line and the section being run, and
 * prints got and want.  Define PROG before including it.
 */
#ifndef TCHECK_H
#define TCHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>

static unsigned int n_checks, n_failed;
static const char *section = "";

static void __attribute__((format(printf, 2, 3)))
check_fail(int line, const char *fmt, ...)
{
	va_list ap;

	n_failed++;
	fprintf(stderr, PROG ":%d: [%s] FAIL: ", line, section);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

#define CHECK(cond, ...) do {						\
	n_checks++;							\
	if (!(cond))							\
		check_fail(__LINE__, __VA_ARGS__);			\
} while (0)

/* integer equality, both values printed */
#define EQ(got, want) do {						\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	CHECK(g_ == w_, "%s: got %lld, want %lld", #got, g_, w_);	\
} while (0)

/* an errno-style result (0 = success) */
#define ERR(got, want) do {						\
	int g_ = (got), w_ = (want);					\
	CHECK(g_ == w_, "%s: got %d (%s), want %d (%s)", #got,		\
	    g_, g_ ? strerror(g_) : "success", w_,			\
	    w_ ? strerror(w_) : "success");				\
} while (0)

/* a fatal setup failure: nothing after it would mean anything */
#define DIE(...) do {							\
	fprintf(stderr, PROG ":%d: setup failed: ", __LINE__);		\
	fprintf(stderr, __VA_ARGS__);					\
	fputc('\n', stderr);						\
	exit(1);							\
} while (0)

static char prefix[16];		/* short per-run name prefix, set by main() */

/* A port name of our own: prefix + suffix.  ni_name holds 15 chars, so
 * the names used for ni_name checks stay short. */
static const char *
pname(char *buf, size_t len, const char *suffix)
{
	snprintf(buf, len, "%s%s", prefix, suffix);
	return buf;
}

static int
dev_open(void)
{
	int fd = open("/dev/netmap", O_RDWR);

	if (fd < 0)
		DIE("open(/dev/netmap): %s", strerror(errno));
	return fd;
}

#endif

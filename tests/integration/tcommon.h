/*
 * tcommon.h - helpers shared by the C integration tests: checks that
 * print expected and actual values, unique port names, clocks.
 */
#ifndef TCOMMON_H
#define TCOMMON_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int t_failures, t_checks;

#define CHECK(cond, ...) do { t_checks++; if (!(cond)) { t_failures++; \
	fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

#define CHECK_EQ(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	t_checks++; if (a_ != b_) { t_failures++; \
	fprintf(stderr, "FAIL %s:%d: %s == %s: got %lld, expected %lld\n", \
		__FILE__, __LINE__, #a, #b, a_, b_); } } while (0)

/* fatal: the rest of the test cannot run */
#define REQUIRE(cond, ...) do { t_checks++; if (!(cond)) { \
	fprintf(stderr, "FATAL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
	fprintf(stderr, __VA_ARGS__); fprintf(stderr, " (errno %d: %s)\n", errno, \
	strerror(errno)); exit(1); } } while (0)

static inline int t_done(const char *name)
{
	if (t_failures) {
		fprintf(stderr, "%s: %d of %d checks failed\n", name, t_failures, t_checks);
		return 1;
	}
	printf("%s: %d checks ok\n", name, t_checks);
	return 0;
}

static inline double t_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A pipe name no other test uses: netmap:<tag><pid>{<id> */
static inline void t_pipe_name(char *buf, size_t len, const char *tag, char end, int id)
{
	snprintf(buf, len, "netmap:%s%d%c%d", tag, (int)getpid(), end, id);
}

/* Open end '{' or '}' of pipe <id> of netmap:<base>, or die. */
#define t_open_pipe(base, end, id) ({ \
	char t_name_[80]; struct nmport_d *t_d_; \
	snprintf(t_name_, sizeof(t_name_), "netmap:%s%c%d", (base), (end), (id)); \
	t_d_ = nmport_open(t_name_); \
	REQUIRE(t_d_, "open %s", t_name_); \
	t_d_; })

static inline long t_env_long(const char *name, long def)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 10) : def;
}

#endif

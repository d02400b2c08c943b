/*
 * unm_owner.c - owner ids of lock words in shared memory (unm_owner.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "unm_owner.h"

static uint64_t self_id;

/* State (field 3) and start time (field 22, low 32 bits) of a process,
 * from /proc/PID/stat.  Returns -ESRCH if there is no such process, 0
 * otherwise (an unreadable entry leaves *start at 0 and *state at '?'). */
static int stat_of(int pid, char *state, uint32_t *start)
{
	char path[48], buf[512], *p;
	ssize_t n;
	int fd, field;

	*state = '?';
	*start = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? -ESRCH : 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;	/* it went away while we read */
	buf[n] = '\0';
	/* the command name may itself hold ") ": the state follows the last */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return 0;
	*state = p[2];
	p += 2;
	for (field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p)
		*start = (uint32_t)strtoull(p, NULL, 10);
	return 0;
}

static void compute_self(void)
{
	uint32_t start;
	char state;
	int pid = (int)getpid();

	stat_of(pid, &state, &start);
	self_id = (uint32_t)pid | (uint64_t)start << 32;
}

__attribute__((constructor)) static void owner_init(void)
{
	compute_self();
	/* the child of a fork is another owner */
	pthread_atfork(NULL, NULL, compute_self);
}

uint64_t unm_owner_self(void)
{
	return self_id;
}

bool unm_owner_dead(uint64_t id)
{
	int pid = (int)(uint32_t)id;
	uint32_t want = (uint32_t)(id >> 32), start;
	char state;

	if (pid <= 0)
		return true;
	if (stat_of(pid, &state, &start) < 0)
		return true;
	if (state == 'Z' || state == 'X')
		return true;	/* exited, not reaped yet */
	/* a start time we could not read proves nothing */
	return want && start && start != want;
}

uint64_t unm_owner_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

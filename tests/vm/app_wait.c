/*
 * app_wait.c - a netmap application for the passthrough tests, run inside
 * a guest (built static by make guest): block in poll() on a port until
 * frames arrive, and say how long it slept and how much CPU the wait
 * took, so that the test can tell a real sleep from a busy loop.
 *
 *   app_wait [-t SECONDS] [-s SPIN_US] PORT
 *
 * Prints "WAITING <port>" once the port is bound and the poll is about to
 * start, then "WOKE ms <wall> cpu_ms <cpu> frames <n> polls <k>" (or
 * "TIMEOUT ..." after SECONDS, default 60).  Exit 0 when frames came.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <libnetmap.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
	       ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
}

int main(int argc, char **argv)
{
	struct nmport_d *d;
	double t0, c0, limit_ms = 60e3;
	unsigned frames = 0, polls = 0;
	int ch;

	while ((ch = getopt(argc, argv, "t:s:")) != -1) {
		switch (ch) {
		case 't':
			limit_ms = atof(optarg) * 1e3;
			break;
		case 's':
			setenv("UNETMAP_POLL_SPIN_US", optarg, 1);
			break;
		default:
			fprintf(stderr, "usage: app_wait [-t SECONDS] [-s SPIN_US] PORT\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: app_wait [-t SECONDS] [-s SPIN_US] PORT\n");
		return 2;
	}
	d = nmport_open(argv[optind]);
	if (!d) {
		printf("FAIL open %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	printf("WAITING %s\n", argv[optind]);
	fflush(stdout);
	t0 = now_ms();
	c0 = cpu_ms();
	while (!frames && now_ms() - t0 < limit_ms) {
		struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
		int left = (int)(limit_ms - (now_ms() - t0)), i;

		polls++;
		if (poll(&pfd, 1, left > 0 ? left : 0) < 0 && errno != EINTR) {
			printf("FAIL poll: %s\n", strerror(errno));
			return 1;
		}
		for (i = d->first_rx_ring; i <= d->last_rx_ring; i++) {
			struct netmap_ring *r = NETMAP_RXRING(d->nifp, i);

			frames += nm_ring_space(r);
			r->head = r->cur = r->tail;
		}
	}
	printf("%s ms %.0f cpu_ms %.1f frames %u polls %u\n", frames ? "WOKE" : "TIMEOUT",
	       now_ms() - t0, cpu_ms() - c0, frames, polls);
	nmport_close(d);
	return frames ? 0 : 1;
}

/*
 * pipe_bench - the smallest honest pipe throughput benchmark: one process
 * sends 60-byte frames (length written, payload untouched) in batches,
 * another receives them, over netmap:NAME{1 / NAME}1.
 *
 * usage: pipe_bench [-s seconds] [-b batch] [-l len] [-m poll|busy]
 *                   [-a txcpu,rxcpu] [-n name]
 *
 * Prints "pipe_bench: <Mpps> Mpps" (the receiver's count over the
 * measured interval) and, with -v, per-side counters.  Each side runs in
 * its own process, pinned when -a is given.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libnetmap.h>

struct shared {
	volatile int stop;
	volatile int ready;
	volatile unsigned long long rx, tx;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static int busy;

static void wait_ready(int fd, short ev)
{
	struct pollfd p = { .fd = fd, .events = ev };

	if (busy)
		ioctl(fd, ev == POLLIN ? NIOCRXSYNC : NIOCTXSYNC, NULL);
	else
		poll(&p, 1, 100);
}

static int tx_main(const char *name, unsigned batch, unsigned len, struct shared *sh)
{
	struct nmport_d *d = nmport_open(name);
	struct netmap_ring *r;
	unsigned long long n = 0;

	if (!d)
		return 1;
	r = NETMAP_TXRING(d->nifp, 0);
	__sync_fetch_and_add(&sh->ready, 1);
	while (!sh->stop) {
		unsigned space = nm_ring_space(r), k, h = r->head;

		if (space > batch)
			space = batch;
		for (k = 0; k < space; k++) {
			r->slot[h].len = (uint16_t)len;
			h = nm_ring_next(r, h);
		}
		r->head = r->cur = h;
		n += space;
		wait_ready(d->fd, POLLOUT);
	}
	sh->tx = n;
	nmport_close(d);
	return 0;
}

static int rx_main(const char *name, struct shared *sh)
{
	struct nmport_d *d = nmport_open(name);
	struct netmap_ring *r;
	unsigned long long n = 0;

	if (!d)
		return 1;
	r = NETMAP_RXRING(d->nifp, 0);
	__sync_fetch_and_add(&sh->ready, 1);
	while (!sh->stop) {
		unsigned k = nm_ring_space(r);

		/* count without touching payloads, as netmap's pkt-gen rx */
		r->head = r->cur = (r->head + k) % r->num_slots;
		n += k;
		sh->rx = n;
		wait_ready(d->fd, POLLIN);
	}
	nmport_close(d);
	return 0;
}

int main(int argc, char **argv)
{
	double secs = 3, t0, t1;
	unsigned batch = 512, len = 60;
	int txcpu = -1, rxcpu = -1, c, verbose = 0;
	char base[48], txn[64], rxn[64];
	unsigned long long r0, r1;
	struct shared *sh;
	pid_t tp, rp;

	snprintf(base, sizeof(base), "pb%d", (int)getpid());
	while ((c = getopt(argc, argv, "s:b:l:m:a:n:vh")) != -1) {
		switch (c) {
		case 's': secs = atof(optarg); break;
		case 'b': batch = (unsigned)atoi(optarg); break;
		case 'l': len = (unsigned)atoi(optarg); break;
		case 'm': busy = strcmp(optarg, "busy") == 0; break;
		case 'a': sscanf(optarg, "%d,%d", &txcpu, &rxcpu); break;
		case 'n': snprintf(base, sizeof(base), "%s", optarg); break;
		case 'v': verbose = 1; break;
		default:
			fprintf(stderr, "usage: pipe_bench [-s sec] [-b batch] [-l len] [-m poll|busy] "
				"[-a txcpu,rxcpu] [-n name] [-v]\n");
			return c == 'h' ? 0 : 1;
		}
	}
	snprintf(txn, sizeof(txn), "netmap:%s{1", base);
	snprintf(rxn, sizeof(rxn), "netmap:%s}1", base);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	rp = fork();
	if (rp == 0) {
		pin(rxcpu);
		_exit(rx_main(rxn, sh));
	}
	tp = fork();
	if (tp == 0) {
		pin(txcpu);
		_exit(tx_main(txn, batch, len, sh));
	}
	while (sh->ready < 2)
		usleep(1000);
	usleep(200 * 1000);		/* warm-up */
	r0 = sh->rx;
	t0 = now();
	usleep((useconds_t)(secs * 1e6));
	r1 = sh->rx;
	t1 = now();
	sh->stop = 1;
	waitpid(tp, NULL, 0);
	waitpid(rp, NULL, 0);
	printf("pipe_bench: %.2f Mpps\n", (r1 - r0) / (t1 - t0) / 1e6);
	if (verbose)
		printf("tx %llu rx %llu frames\n", sh->tx, sh->rx);
	return 0;
}

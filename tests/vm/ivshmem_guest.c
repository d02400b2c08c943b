/*
 * ivshmem_guest.c - guest side of the ivshmem tests, run inside a QEMU
 * guest (built static by make guest) against tests/vm/ivshmem_host.c on
 * the host, on netmapd's guest module (daemon/vm/ivshmem_guest.c):
 *
 *   1. open the ivshmem device (vfio interrupts, or polling);
 *   2. check the pattern the host wrote, write the reply, ring the host
 *      (peer 0, vector 0) with command DATA;
 *   3. sleep until the host raises vector 1 (it waits -d ms first):
 *      check that the wait slept that long, burnt next to no CPU, and
 *      that the host found the reply right;
 *   4. ping-pong N rounds (ring, wait for vector 1) and report the
 *      round-trip times;
 *   5. ring DONE; with --hold, stay (the test then kills QEMU).
 *
 * One "GUEST ..." line per step on stdout; exit 0 when every check held.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "nmd.h"
#include "vm/ivshmem_guest.h"
#include "ivt_box.h"

static int failures;

#define GCHECK(cond, ...) do { if (!(cond)) { failures++; \
	printf("GUEST FAIL %s: ", #cond); printf(__VA_ARGS__); putchar('\n'); } } while (0)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_time(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Wait until *word (host-written) reaches want, sleeping on vector 1;
 * returns the seconds it took, or -1 after limit seconds.  *wakes counts
 * the waits that returned with the vector fired. */
static double wait_for(struct nmd_ivshmem_guest *g, _Atomic uint32_t *word, uint32_t want,
		       double limit, unsigned *wakes)
{
	double t0 = now();
	int w;

	/* A1: what the host published before kicking (partner: R1 in
	 * ivshmem_host.c) */
	while (atomic_load_explicit(word, memory_order_acquire) != want) {
		if (now() - t0 > limit)
			return -1;
		/* one sleep for the whole limit: a wake-up is the kick */
		w = nmd_ivshmem_guest_wait(g, 1, (int)(1e3 * (limit - (now() - t0))) + 1);
		if (w < 0)
			return -1;
		if (w > 0 && wakes)
			(*wakes)++;
	}
	return now() - t0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "poll", no_argument, NULL, 'P' },
		{ "need-irq", no_argument, NULL, 'I' },
		{ "pings", required_argument, NULL, 'n' },
		{ "min-sleep-ms", required_argument, NULL, 'm' },
		{ "hold", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct nmd_ivshmem_guest *g;
	struct ivt_box *b;
	const uint8_t *data;
	uint8_t *reply;
	unsigned flags = 0, pings = 50, r, npings = 0, wakes = 0;
	int c, err, min_sleep_ms = 500, hold = 0;
	uint32_t seed, st, i, bad = 0, verdict;
	double t0, t1, c0, c1, d, sum = 0, mn = 0, mx = 0;
	size_t size;
	uint16_t id;
	char *shm;

	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 'P': flags |= NMD_IVSHMEM_GUEST_POLL; break;
		case 'I': flags |= NMD_IVSHMEM_GUEST_IRQ; break;
		case 'n': pings = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'm': min_sleep_ms = atoi(optarg); break;
		case 'H': hold = 1; break;
		case 'h':
			printf("usage: ivshmem_guest [--poll] [--need-irq] [--pings N] "
			       "[--min-sleep-ms MS] [--hold]\n");
			return 0;
		default:
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	nmd_log_open(NULL);

	err = nmd_ivshmem_guest_open(NULL, flags, &g);
	if (err) {
		printf("GUEST FAIL open: %s\n", strerror(-err));
		return 1;
	}
	shm = nmd_ivshmem_guest_shm(g, &size);
	id = nmd_ivshmem_guest_id(g);
	printf("GUEST OPEN %s id %u size %zu mode %s vectors %u\n", nmd_ivshmem_guest_bdf(g), id,
	       size, nmd_ivshmem_guest_has_irq(g) ? "irq" : "poll", nmd_ivshmem_guest_vectors(g));
	if (size < IVT_MIN_SIZE || id == 0 || id >= IVT_MAX_PEERS) {
		printf("GUEST FAIL size %zu or id %u out of range\n", size, id);
		return 1;
	}
	b = (struct ivt_box *)shm + id;
	/* the host wrote the pattern before it listened: no ordering
	 * needed beyond the device setup itself */
	GCHECK(atomic_load_explicit(&b->magic, memory_order_relaxed) == IVT_MAGIC,
	       "magic %#x", atomic_load_explicit(&b->magic, memory_order_relaxed));
	seed = atomic_load_explicit(&b->seed, memory_order_relaxed);
	data = (const uint8_t *)shm + IVT_DATA_OFS;
	reply = (uint8_t *)shm + IVT_REPLY_OFS(id);
	st = seed;
	for (i = 0; i < IVT_DATA_LEN; i++) {
		uint8_t want = ivt_pattern(&st);

		if (data[i] != want)
			bad++;
		reply[i] = (uint8_t)(data[i] ^ IVT_XOR ^ id);
	}
	GCHECK(bad == 0, "%u of %u pattern bytes differ", bad, IVT_DATA_LEN);
	printf("GUEST PATTERN %s (%u bytes)\n", bad ? "bad" : "ok", IVT_DATA_LEN);

	atomic_store_explicit(&b->guest_id, id, memory_order_relaxed);
	/* R2: reply and command before the ring (partner: A2 in
	 * ivshmem_host.c) */
	atomic_store_explicit(&b->cmd, IVT_CMD_DATA, memory_order_release);
	t0 = now();
	c0 = cpu_time();
	err = nmd_ivshmem_guest_ring(g, 0, 0);
	GCHECK(err == 0, "ring: %s", strerror(-err));
	/* the host checks the reply at once and kicks -d ms later */
	d = wait_for(g, &b->kicks, 1, 15, &wakes);
	t1 = now();
	c1 = cpu_time();
	verdict = atomic_load_explicit(&b->verdict, memory_order_acquire);
	printf("GUEST WOKE verdict %u after %.0f ms, cpu %.1f ms, %u wake-up(s)\n", verdict,
	       1e3 * (t1 - t0), 1e3 * (c1 - c0), wakes);
	GCHECK(d >= 0, "no kick from the host");
	GCHECK(verdict == IVT_VERDICT_OK, "verdict %u", verdict);
	if (nmd_ivshmem_guest_has_irq(g)) {
		/* it must have slept until the host's delayed kick, not woken
		 * early and spun */
		GCHECK(t1 - t0 >= min_sleep_ms / 1000.0, "woke after %.0f ms, before the kick",
		       1e3 * (t1 - t0));
		GCHECK(c1 - c0 <= 0.2 * (t1 - t0), "%.1f ms of CPU in %.0f ms of waiting",
		       1e3 * (c1 - c0), 1e3 * (t1 - t0));
		GCHECK(wakes >= 1 && wakes <= 3, "%u wake-ups", wakes);
	}

	for (r = 1; r <= pings; r++) {
		atomic_store_explicit(&b->round, r, memory_order_relaxed);
		atomic_store_explicit(&b->cmd, IVT_CMD_PING, memory_order_release);	/* R2 */
		t0 = now();
		if (nmd_ivshmem_guest_ring(g, 0, 0) != 0)
			break;
		d = wait_for(g, &b->pong, r, 5, NULL);
		if (d < 0) {
			GCHECK(d >= 0, "no pong for round %u", r);
			break;
		}
		d = now() - t0;
		sum += d;
		if (!npings || d < mn)
			mn = d;
		if (d > mx)
			mx = d;
		npings++;
	}
	if (npings)
		printf("GUEST PINGS %u rtt avg %.0f us min %.0f max %.0f\n", npings,
		       1e6 * sum / npings, 1e6 * mn, 1e6 * mx);
	GCHECK(npings == pings, "%u of %u pings answered", npings, pings);
	atomic_store_explicit(&b->cmd, IVT_CMD_DONE, memory_order_release);	/* R2 */
	nmd_ivshmem_guest_ring(g, 0, 0);
	printf("GUEST %s\n", failures ? "FAILED" : "PASSED");
	if (hold) {
		printf("GUEST HOLD\n");
		for (;;)
			nmd_ivshmem_guest_wait(g, 0, -1);
	}
	nmd_ivshmem_guest_close(g);
	return failures ? 1 : 0;
}

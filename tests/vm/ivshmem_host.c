/*
 * ivshmem_host.c - host side of the ivshmem tests (tests/integration/7x_*):
 * netmapd's ivshmem server (daemon/vm/ivshmem_server.c) on a memfd that
 * holds the test pattern (tests/vm/ivt_box.h), printing one line per event
 * on stdout for the test script to check:
 *
 *   READY <path> <size> <vectors>  listening
 *   JOIN <id> / LEAVE <id>         a peer came / went
 *   RING <id> <vector>             a peer rang us
 *   CHECK <id> ok|bad <detail>     its reply to the pattern, checked
 *   KICK <id> <vector>             we raised a vector in it
 *   PINGS <id> <n> <avg_us> <min_us> <max_us>
 *                                  ring-to-ring turnaround of its pings
 *   DONE <id>
 *
 * A ring of vector 0 acts on the peer's mailbox command: DATA (check the
 * reply, then kick vector 1 after -d ms, so that the guest is asleep when
 * the kick comes), PING (answer the round, kick vector 1 at once), DONE.
 * SIGTERM/SIGINT stop it cleanly (exit 0).  Setup errors exit 1.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "nmd.h"
#include "vm/ivshmem_server.h"
#include "ivt_box.h"

static volatile sig_atomic_t stop;
static struct nmd_ivshmem_server *srv;
static char *shm;
static size_t shm_size;
static unsigned vectors = 2;
static int kick_delay_ms = 1000;

/* per peer id (1..IVT_MAX_PEERS-1) */
static struct {
	double kick_at;		/* pending delayed kick, 0 if none */
	double last_ping;
	unsigned npings;
	double sum, min, max;	/* turnaround, seconds */
} peer[IVT_MAX_PEERS];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct ivt_box *box(uint16_t id)
{
	return (struct ivt_box *)shm + id;
}

static void kick(uint16_t id, unsigned v)
{
	int err;

	/* R1: the count before the kick (partner: A1 in ivshmem_guest.c) */
	atomic_fetch_add_explicit(&box(id)->kicks, 1, memory_order_release);
	err = nmd_ivshmem_server_kick(srv, id, v);
	if (err)
		printf("KICKFAIL %u %u %s\n", id, v, strerror(-err));
	else
		printf("KICK %u %u\n", id, v);
}

static void on_join(void *arg, const struct nmd_ivshmem_peer *p)
{
	(void)arg;
	printf("JOIN %u\n", p->id);
	if (p->id < IVT_MAX_PEERS)
		memset(&peer[p->id], 0, sizeof(peer[p->id]));
}

static void on_leave(void *arg, uint16_t id)
{
	(void)arg;
	printf("LEAVE %u\n", id);
	if (id < IVT_MAX_PEERS)
		peer[id].kick_at = 0;
}

static void check_reply(uint16_t id)
{
	const uint8_t *data = (const uint8_t *)shm + IVT_DATA_OFS;
	const uint8_t *reply = (const uint8_t *)shm + IVT_REPLY_OFS(id);
	uint32_t i, bad = 0, first = 0;

	for (i = 0; i < IVT_DATA_LEN; i++) {
		if (reply[i] != (uint8_t)(data[i] ^ IVT_XOR ^ id)) {
			if (!bad++)
				first = i;
		}
	}
	if (bad)
		printf("CHECK %u bad %u wrong bytes, first at %u\n", id, bad, first);
	else
		printf("CHECK %u ok %u bytes\n", id, IVT_DATA_LEN);
	/* R1: the verdict is published before the kick that tells the
	 * guest to look (partner: A1 in ivshmem_guest.c) */
	atomic_store_explicit(&box(id)->verdict, bad ? IVT_VERDICT_BAD : IVT_VERDICT_OK,
			      memory_order_release);
}

static void on_ring(void *arg, uint16_t id, unsigned v)
{
	double t = now(), d;
	uint32_t cmd, round;

	(void)arg;
	if (v != 0 || id >= IVT_MAX_PEERS) {
		printf("RING %u %u\n", id, v);
		return;
	}
	/* A2: the guest wrote its command and data before ringing
	 * (partner: R2 in ivshmem_guest.c); read once, then validated */
	cmd = atomic_load_explicit(&box(id)->cmd, memory_order_acquire);
	switch (cmd) {
	case IVT_CMD_DATA:
		printf("RING %u %u\n", id, v);
		check_reply(id);
		peer[id].kick_at = t + kick_delay_ms / 1000.0;
		break;
	case IVT_CMD_PING:
		round = atomic_load_explicit(&box(id)->round, memory_order_relaxed);
		if (peer[id].last_ping > 0) {
			d = t - peer[id].last_ping;
			if (!peer[id].npings || d < peer[id].min)
				peer[id].min = d;
			if (d > peer[id].max)
				peer[id].max = d;
			peer[id].sum += d;
			peer[id].npings++;
		}
		peer[id].last_ping = t;
		/* R1 again, for the round */
		atomic_store_explicit(&box(id)->pong, round, memory_order_release);
		if (nmd_ivshmem_server_kick(srv, id, 1) != 0)
			printf("KICKFAIL %u 1\n", id);
		break;
	case IVT_CMD_DONE:
		if (peer[id].npings)
			printf("PINGS %u %u %.0f %.0f %.0f\n", id, peer[id].npings,
			       1e6 * peer[id].sum / peer[id].npings, 1e6 * peer[id].min,
			       1e6 * peer[id].max);
		printf("DONE %u\n", id);
		break;
	default:
		printf("RING %u %u (command %u)\n", id, v, cmd);
		break;
	}
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ivshmem_host -s SOCKET [-m BYTES] [-v VECTORS] [-p PEERS] [-d MS]\n"
		"  -s SOCKET   listen there for QEMU ivshmem-doorbell peers\n"
		"  -m BYTES    shared memory size (default 1048576)\n"
		"  -v VECTORS  vectors per peer (default 2)\n"
		"  -p PEERS    peers at once (default 7)\n"
		"  -d MS       delay of the kick that answers a DATA ring (default 1000)\n"
		"  -h          this text\n");
}

int main(int argc, char **argv)
{
	static const struct nmd_ivshmem_ops ops = {
		.join = on_join, .leave = on_leave, .ring = on_ring,
	};
	struct nmd_ivshmem_params p = { .vectors = 2, .max_peers = 7, .ops = &ops };
	struct sigaction sa = { .sa_handler = on_signal };
	struct pollfd pfd;
	const char *path = NULL;
	uint32_t seed, st, i;
	double next, t;
	int c, fd, err, timeout, id;

	shm_size = 1 << 20;
	while ((c = getopt(argc, argv, "s:m:v:p:d:h")) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'm': shm_size = strtoul(optarg, NULL, 0); break;
		case 'v': p.vectors = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'p': p.max_peers = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'd': kick_delay_ms = atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!path || optind != argc) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	nmd_log_open(NULL);
	nmd_log_level = NMD_LOG_DEBUG;
	vectors = p.vectors;
	if (shm_size < IVT_MIN_SIZE) {
		fprintf(stderr, "ivshmem_host: -m must be at least %u\n", IVT_MIN_SIZE);
		return 1;
	}
	fd = memfd_create("ivshmem-test", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)shm_size) < 0) {
		perror("ivshmem_host: memfd");
		return 1;
	}
	shm = mmap(NULL, shm_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (shm == MAP_FAILED) {
		perror("ivshmem_host: mmap");
		return 1;
	}
	seed = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 8) ^ 0x9e3779b9u;
	if (!seed)
		seed = 1;
	st = seed;
	for (i = 0; i < IVT_DATA_LEN; i++)
		shm[IVT_DATA_OFS + i] = (char)ivt_pattern(&st);
	for (id = 0; id < IVT_MAX_PEERS; id++) {
		atomic_store_explicit(&box((uint16_t)id)->seed, seed, memory_order_relaxed);
		atomic_store_explicit(&box((uint16_t)id)->magic, IVT_MAGIC, memory_order_relaxed);
	}

	p.path = path;
	p.shm_fd = fd;
	err = nmd_ivshmem_server_new(&p, &srv);
	close(fd);	/* the server keeps its own */
	if (err) {
		fprintf(stderr, "ivshmem_host: %s\n", strerror(-err));
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("READY %s %zu %u\n", path, shm_size, p.vectors);

	pfd.fd = nmd_ivshmem_server_fd(srv);
	pfd.events = POLLIN;
	while (!stop) {
		t = now();
		next = 0;
		for (id = 1; id < IVT_MAX_PEERS; id++) {
			if (peer[id].kick_at > 0 && peer[id].kick_at <= t) {
				peer[id].kick_at = 0;
				kick((uint16_t)id, 1);
			} else if (peer[id].kick_at > 0 && (!next || peer[id].kick_at < next)) {
				next = peer[id].kick_at;
			}
		}
		timeout = next ? (int)((next - t) * 1000) + 1 : 1000;
		if (poll(&pfd, 1, timeout) < 0 && errno != EINTR) {
			perror("ivshmem_host: poll");
			break;
		}
		err = nmd_ivshmem_server_process(srv);
		if (err) {
			fprintf(stderr, "ivshmem_host: %s\n", strerror(-err));
			break;
		}
	}
	nmd_ivshmem_server_free(srv);
	munmap(shm, shm_size);
	printf("STOPPED\n");
	return 0;
}

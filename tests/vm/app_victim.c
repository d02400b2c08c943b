/*
 * app_victim.c - the host end of a pipe whose other end a hostile guest
 * holds (74_vm_hostile.sh).  A pipe's two ends share one region -- that
 * is what makes them zero copy, across a VM boundary too -- so the guest
 * can write even into this end's netmap_if, ring headers and slots.
 * netmapd and the library cope with anything; an application that must
 * survive such a peer does what this one does (as the victim of
 * 14_hostile_peer.c): it takes ring addresses and geometry once, at open
 * time, and bounds-checks every index before it touches a buffer.  Plain
 * netmap applications trust their rings; see docs/passthrough.md,
 * "Trust".
 *
 *   app_victim PORT      sends and receives until SIGINT or SIGTERM
 *
 * Prints "VICTIM polls <p> sent <s> seen <r>" at the end; exit 0.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include <libnetmap.h>

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct nmport_d *d;
	struct netmap_ring *rx, *tx;
	uint32_t n, ntx, bufsz;
	uint64_t nbufs, polls = 0, sent = 0, seen = 0;
	char *bufs;

	if (argc != 2) {
		fprintf(stderr, "usage: app_victim PORT\n");
		return 2;
	}
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	d = nmport_open(argv[1]);
	if (!d) {
		printf("FAIL open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/* everything the ring headers say, once */
	rx = NETMAP_RXRING(d->nifp, d->first_rx_ring);
	tx = NETMAP_TXRING(d->nifp, d->first_tx_ring);
	n = rx->num_slots;
	ntx = tx->num_slots;
	bufsz = rx->nr_buf_size;
	bufs = (char *)rx + rx->buf_ofs;
	nbufs = (d->reg.nr_memsize - (uint64_t)(bufs - (char *)d->mem->mem)) / bufsz;
	printf("VICTIM on %s: %u/%u slots\n", argv[1], ntx, n);
	fflush(stdout);
	while (!stop) {
		struct pollfd p = { .fd = d->fd, .events = POLLIN | POLLOUT };
		uint32_t k = 0, h;

		poll(&p, 1, 5);
		polls++;
		while ((h = rx->head) < n && rx->tail < n && h != rx->tail && k++ < n) {
			uint32_t idx = rx->slot[h].buf_idx;

			if (idx < nbufs)
				seen += bufs[(uint64_t)idx * bufsz] != 0x7f;
			rx->head = rx->cur = h + 1 == n ? 0 : h + 1;
		}
		for (k = 0; k < 64 && (h = tx->head) < ntx && tx->tail < ntx && h != tx->tail; k++) {
			uint32_t idx = tx->slot[h].buf_idx;

			if (idx < nbufs)
				memset(bufs + (uint64_t)idx * bufsz, 0x55, 60);
			tx->slot[h].len = 60;
			tx->head = tx->cur = h + 1 == ntx ? 0 : h + 1;
			sent++;
		}
		ioctl(d->fd, NIOCTXSYNC, NULL);
		ioctl(d->fd, NIOCRXSYNC, NULL);
	}
	printf("VICTIM polls %llu sent %llu seen %llu\n", (unsigned long long)polls,
	       (unsigned long long)sent, (unsigned long long)seen);
	nmport_close(d);
	return 0;
}

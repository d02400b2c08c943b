/*
 * fuzz_rings - libFuzzer target: the library's ring validation.  Two
 * linked ring pairs of a pipe (ours and the peer's) and a hardware-driven
 * ring live in a buffer standing for the region; the input overwrites
 * their headers, control blocks and slots -- everything a peer or a
 * confused application can write -- between syncs, and the syncs (the
 * prologue, the kring validation, the pipe and hw kinds) must keep every
 * index they use inside the rings and every buffer inside the pool.
 * ASan turns any stray access into a report.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NS	64u		/* slots per ring */
#define NBUF	128u		/* buffers in the pool */
#define BSZ	256u		/* buffer size */
#define NRING	5		/* A our TX, B peer RX, C our RX, D peer TX, H hw */

static char *region;
static size_t ring_obj, region_size;

static struct netmap_ring *ring_at(int i)
{
	return (struct netmap_ring *)(region + (size_t)i * ring_obj + UNM_RING_CTL_SIZE);
}

static void setup(void)
{
	ring_obj = unm_ring_obj_size(NS);
	region_size = NRING * ring_obj + (size_t)NBUF * BSZ;
	region = aligned_alloc(128, region_size);
	if (!region)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct unm_port pipe_port, hw_port;
	struct unm_ring a, c, h, *synced;
	int rc;
	size_t off = 0;
	int i, step;

	if (!region)
		setup();
	memset(region, 0, region_size);
	for (i = 0; i < NRING; i++) {
		struct netmap_ring *r = ring_at(i);
		uint32_t k;

		for (k = 0; k < NS; k++) {
			r->slot[k].buf_idx = 2 + (uint32_t)((i * NS + k) % (NBUF - 2));
			r->slot[k].len = 60;
		}
		/* TX rings start with all slots available, as netmapd makes them */
		if (i == 0 || i == 3 || i == 4) {
			r->tail = NS - 1;
			unm_ring_ctl(r)->hwtail = NS - 1;
		}
	}
	pipe_port.ops = &unm_pipe_ops;
	hw_port.ops = &unm_hw_ops;
	memset(&a, 0, sizeof(a));
	a.n = NS;
	a.buf_total = NBUF;
	a.buf_size = BSZ;
	a.kick_fd = -1;
	c = h = a;
	a.ring = ring_at(0);
	a.peer = ring_at(1);
	a.dir = UNM_DIR_TX;
	a.port = &pipe_port;
	c.ring = ring_at(2);
	c.peer = ring_at(3);
	c.dir = UNM_DIR_RX;
	c.port = &pipe_port;
	h.ring = ring_at(4);
	h.dir = UNM_DIR_TX;
	h.port = &hw_port;
	a.ctl = unm_ring_ctl(a.ring);
	a.peer_ctl = unm_ring_ctl(a.peer);
	c.ctl = unm_ring_ctl(c.ring);
	c.peer_ctl = unm_ring_ctl(c.peer);
	h.ctl = unm_ring_ctl(h.ring);

	/* each step: [which ring u8][where u16][n u8][n bytes written there],
	 * then one sync of a ring chosen by the first byte */
	for (step = 0; step < 64 && off + 4 <= size; step++) {
		uint8_t which = data[off];
		size_t where = ((size_t)data[off + 1] | (size_t)data[off + 2] << 8) % ring_obj;
		size_t n = data[off + 3];
		char *base = region + (size_t)(which % NRING) * ring_obj;

		off += 4;
		if (n > size - off)
			n = size - off;
		if (n > ring_obj - where)
			n = ring_obj - where;
		memcpy(base + where, data + off, n);
		off += n;
		/* a lock word left set would only make the sync skip (or read
		 * /proc): clear it most of the time */
		if (!(which & 0x80)) {
			atomic_store(&a.ctl->lock, 0);
			atomic_store(&c.ctl->lock, 0);
			atomic_store(&h.ctl->lock, 0);
		}
		switch ((which >> 3) % 4) {
		case 0: rc = unm_txsync(&a); synced = &a; break;
		case 1: rc = unm_rxsync(&c); synced = &c; break;
		case 2: rc = unm_txsync(&h); synced = &h; break;
		default: rc = unm_rxsync(&h); synced = &h; break;
		}
		/* what a sync that ran left for the application is usable (a
		 * ring marked revoked in its state word is not synced at all:
		 * ENXIO, ring untouched) */
		if (!(which & 0x80) && rc != -ENXIO &&
		    (synced->ring->tail >= NS || synced->ring->head >= NS || synced->ring->cur >= NS))
			abort();
	}
	return 0;
}

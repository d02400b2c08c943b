/*
 * 40_vale_util.h - helpers for the VALE integration tests (40_vale_*.c):
 * opening ports, building and checking frames, sending with the switch's
 * completion as the synchronisation point, receiving with a deadline,
 * and reading the per-port counters.
 *
 * Synchronisation: the switch runs asynchronously in netmapd, and gives
 * TX slots back (tail advances) only after it has copied their frames into
 * every destination and published them there.  So once a sender's ring is
 * empty again (vt_flush), whatever it sent is already visible to an
 * rxsync of the receivers: "nothing arrived" can be checked without
 * sleeping.
 */
#ifndef VT_UTIL_H
#define VT_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <libnetmap.h>

#include "unm_vale.h"

#define VT_ETHERTYPE 0x88b5	/* IEEE local experimental */

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__,	\
			__LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		exit(1);						\
	}								\
} while (0)

static inline uint64_t vt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline struct nmport_d *vt_open(const char *spec)
{
	struct nmport_d *d = nmport_open(spec);

	CHECK(d, "nmport_open(%s): %s", spec, strerror(errno));
	return d;
}

static inline void vt_mac(uint8_t m[6], unsigned id)
{
	m[0] = 0x02;	/* locally administered unicast */
	m[1] = 0x00;
	m[2] = 0x5e;
	m[3] = (uint8_t)(id >> 16);
	m[4] = (uint8_t)(id >> 8);
	m[5] = (uint8_t)id;
}

/* An Ethernet frame: dst, src, our ethertype, a 32-bit tag and a 32-bit
 * sequence number, then bytes derived from both. */
static inline void vt_frame(uint8_t *f, size_t len, const uint8_t dst[6], const uint8_t src[6],
			    uint32_t tag, uint32_t seq)
{
	size_t i;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = VT_ETHERTYPE >> 8;
	f[13] = VT_ETHERTYPE & 0xff;
	for (i = 14; i < len; i++)
		f[i] = (uint8_t)(i * 7 + seq * 13 + tag);
	if (len >= 22) {
		memcpy(f + 14, &tag, 4);
		memcpy(f + 18, &seq, 4);
	}
}

/* Does f look like vt_frame(..., tag, seq) of this length? */
static inline int vt_frame_ok(const uint8_t *f, size_t len, uint32_t tag, uint32_t seq)
{
	uint32_t t, s;
	size_t i;

	if (len < 22 || f[12] != (VT_ETHERTYPE >> 8) || f[13] != (VT_ETHERTYPE & 0xff))
		return 0;
	memcpy(&t, f + 14, 4);
	memcpy(&s, f + 18, 4);
	if (t != tag || s != seq)
		return 0;
	for (i = 22; i < len; i++)
		if (f[i] != (uint8_t)(i * 7 + seq * 13 + tag))
			return 0;
	return 1;
}

static inline struct netmap_ring *vt_txring(struct nmport_d *d)
{
	return NETMAP_TXRING(d->nifp, d->first_tx_ring);
}

static inline struct netmap_ring *vt_rxring(struct nmport_d *d, unsigned i)
{
	return NETMAP_RXRING(d->nifp, i);
}

/* Queue one frame (possibly in fragments of at most frag bytes) in TX
 * ring 0 without syncing.  Returns 0, or -1 if the ring has no room. */
static inline int vt_queue(struct nmport_d *d, const void *frame, size_t len, size_t frag)
{
	struct netmap_ring *r = vt_txring(d);
	size_t nf = frag ? (len + frag - 1) / frag : 1, k;
	uint32_t i = r->head;

	if (nf == 0)
		nf = 1;
	if (nm_ring_space(r) < nf)
		return -1;
	for (k = 0; k < nf; k++) {
		struct netmap_slot *s = &r->slot[i];
		size_t off = frag ? k * frag : 0;
		size_t l = frag ? (len - off < frag ? len - off : frag) : len;

		memcpy(NETMAP_BUF(r, s->buf_idx), (const char *)frame + off, l);
		s->len = (uint16_t)l;
		s->flags = k + 1 < nf ? NS_MOREFRAG : 0;
		i = nm_ring_next(r, i);
	}
	r->head = r->cur = i;
	return 0;
}

/* txsync until the switch has taken everything we queued (and therefore
 * delivered it).  Fails the test after timeout_ms. */
static inline void vt_flush(struct nmport_d *d, int timeout_ms)
{
	struct netmap_ring *r = vt_txring(d);
	uint64_t end = vt_now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		CHECK(ioctl(d->fd, NIOCTXSYNC, NULL) == 0, "txsync: %s", strerror(errno));
		if (!nm_tx_pending(r))
			return;
		CHECK(vt_now_ms() < end, "the switch did not consume %s's TX ring "
		      "(head %u tail %u)", d->hdr.nr_name, r->head, r->tail);
		usleep(100);
	}
}

static inline void vt_send(struct nmport_d *d, const void *frame, size_t len)
{
	CHECK(vt_queue(d, frame, len, 0) == 0, "no room in %s's TX ring", d->hdr.nr_name);
	vt_flush(d, 5000);
}

/* Next received frame from any RX ring, gathering NS_MOREFRAG fragments
 * into buf.  Waits up to timeout_ms (0: only what is there now).
 * Returns the length, or -1.  *nfrags and *flags0 (flags of the first
 * slot) are filled if not NULL. */
static inline int vt_recv(struct nmport_d *d, void *buf, size_t cap, int timeout_ms,
			  unsigned *nfrags, uint16_t *flags0)
{
	uint64_t end = vt_now_ms() + (uint64_t)timeout_ms;
	unsigned ri;

	for (;;) {
		CHECK(ioctl(d->fd, NIOCRXSYNC, NULL) == 0, "rxsync: %s", strerror(errno));
		for (ri = d->first_rx_ring; ri <= d->last_rx_ring; ri++) {
			struct netmap_ring *r = vt_rxring(d, ri);
			uint32_t i = r->head;
			size_t got = 0;
			unsigned nf = 0;

			if (nm_ring_empty(r))
				continue;
			for (;;) {
				struct netmap_slot *s = &r->slot[i];

				CHECK(i != r->tail, "fragment chain runs past tail");
				if (nf == 0 && flags0)
					*flags0 = s->flags;
				if (got + s->len <= cap)
					memcpy((char *)buf + got, NETMAP_BUF(r, s->buf_idx), s->len);
				got += s->len;
				nf++;
				i = nm_ring_next(r, i);
				if (!(s->flags & NS_MOREFRAG))
					break;
			}
			r->head = r->cur = i;
			if (nfrags)
				*nfrags = nf;
			return (int)got;
		}
		if (vt_now_ms() >= end)
			return -1;
		{
			struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
			int left = (int)(end - vt_now_ms());

			poll(&pfd, 1, left > 0 ? left : 0);
		}
	}
}

/* Frames waiting now in the RX rings (consumes them). */
static inline unsigned vt_drain(struct nmport_d *d)
{
	static char buf[65536];
	unsigned n = 0;

	while (vt_recv(d, buf, sizeof(buf), 0, NULL, NULL) >= 0)
		n++;
	return n;
}

/* unetmap's per-port counters (vale-ctl -s).  Returns 0 or an errno. */
static inline int vt_stats(const char *port, struct unm_vale_stats *st)
{
	struct nmreq_header hdr;
	int fd = open("/dev/netmap", O_RDWR), e = 0;

	CHECK(fd >= 0, "open /dev/netmap: %s", strerror(errno));
	memset(st, 0, sizeof(*st));
	nmreq_header_init(&hdr, UNM_REQ_VALE_STATS, st);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", port);
	if (ioctl(fd, NIOCCTRL, &hdr) < 0)
		e = errno;
	close(fd);
	return e;
}

/* NETMAP_REQ_VALE_LIST lookup: port index (255: not there), or -errno. */
static inline int vt_port_idx(const char *port)
{
	struct nmreq_header hdr;
	struct nmreq_vale_list l;
	int fd = open("/dev/netmap", O_RDWR), rc;

	CHECK(fd >= 0, "open /dev/netmap: %s", strerror(errno));
	memset(&l, 0, sizeof(l));
	nmreq_header_init(&hdr, NETMAP_REQ_VALE_LIST, &l);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", port);
	rc = ioctl(fd, NIOCCTRL, &hdr) < 0 ? -errno : (int)l.nr_port_idx;
	close(fd);
	return rc;
}

#endif /* VT_UTIL_H */

/*
 * mon_util.h - helpers of the monitor tests (35_monitor_*.c): frames that
 * say who sent them and in which order, sending a batch with one txsync,
 * importing and taking what a port received, and the monitor counters
 * (UNM_REQ_MON_STATS).  Checks are tcommon.h's.
 */
#ifndef MON_UTIL_H
#define MON_UTIL_H

#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/ioctl.h>

#include <libnetmap.h>

#include "tcommon.h"
#include "unm_mon.h"

#define MT_ETHERTYPE 0x88b5	/* IEEE local experimental */
#define MT_MAX 8192		/* records per take */

struct mrec {
	uint32_t tag, seq;
	uint16_t len, flags;
	uint32_t buf;		/* buffer index it arrived in */
	bool ok;		/* every byte as sent */
};

static inline uint8_t mt_byte(uint32_t tag, uint32_t seq, size_t i)
{
	return (uint8_t)(tag * 7 + seq * 13 + i);
}

/* Broadcast frame: ff.. dst, src 02:..:tag, our ethertype, tag, seq, then
 * bytes that depend on all three. */
static inline void mt_frame(uint8_t *f, size_t len, uint32_t tag, uint32_t seq)
{
	size_t i;

	memset(f, 0xff, 6);
	f[6] = 0x02;
	f[7] = f[8] = 0;
	f[9] = (uint8_t)(tag >> 16);
	f[10] = (uint8_t)(tag >> 8);
	f[11] = (uint8_t)tag;
	f[12] = MT_ETHERTYPE >> 8;
	f[13] = MT_ETHERTYPE & 0xff;
	memcpy(f + 14, &tag, 4);
	memcpy(f + 18, &seq, 4);
	for (i = 22; i < len; i++)
		f[i] = mt_byte(tag, seq, i);
}

static inline bool mt_parse(const uint8_t *f, size_t len, struct mrec *r)
{
	size_t i;

	r->ok = false;
	if (len < 22 || f[12] != (MT_ETHERTYPE >> 8) || f[13] != (MT_ETHERTYPE & 0xff))
		return false;
	memcpy(&r->tag, f + 14, 4);
	memcpy(&r->seq, f + 18, 4);
	for (i = 22; i < len; i++)
		if (f[i] != mt_byte(r->tag, r->seq, i))
			return false;
	r->ok = true;
	return true;
}

static inline struct nmport_d *mt_open(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline struct nmport_d *mt_open(const char *fmt, ...)
{
	char name[128];
	struct nmport_d *d;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	d = nmport_open(name);
	REQUIRE(d, "open %s", name);
	return d;
}

/* Fill n TX slots of ring `ri` with frames tag/seq first..first+n-1 of
 * `len` bytes and hand them over with one txsync.  Returns how many fit. */
static inline unsigned mt_send(struct nmport_d *d, unsigned ri, uint32_t tag, uint32_t first,
			       unsigned n, unsigned len)
{
	struct netmap_ring *r = NETMAP_TXRING(d->nifp, ri);
	unsigned k;

	for (k = 0; k < n && !nm_ring_empty(r); k++) {
		struct netmap_slot *s = &r->slot[r->head];

		mt_frame((uint8_t *)NETMAP_BUF(r, s->buf_idx), len, tag, first + k);
		s->len = (uint16_t)len;
		s->flags = 0;
		r->head = r->cur = nm_ring_next(r, r->head);
	}
	ioctl(d->fd, NIOCTXSYNC, NULL);
	return k;
}

/* Take what the port's RX rings hold after an rxsync (which also releases
 * what was taken before): records in out (up to max), slots released at
 * the next sync.  Returns the number of frames. */
static inline unsigned mt_take(struct nmport_d *d, struct mrec *out, unsigned max)
{
	unsigned ri, n = 0;

	ioctl(d->fd, NIOCRXSYNC, NULL);
	for (ri = d->first_rx_ring; ri <= d->last_rx_ring; ri++) {
		struct netmap_ring *r = NETMAP_RXRING(d->nifp, ri);

		while (!nm_ring_empty(r)) {
			struct netmap_slot *s = &r->slot[r->head];
			struct mrec rec;

			memset(&rec, 0, sizeof(rec));
			mt_parse((const uint8_t *)NETMAP_BUF(r, s->buf_idx), s->len, &rec);
			rec.len = s->len;
			rec.flags = s->flags;
			rec.buf = s->buf_idx;
			if (n < max)
				out[n] = rec;
			n++;
			r->head = r->cur = nm_ring_next(r, r->head);
		}
	}
	return n;
}

/* Give back what mt_take() took (one rxsync). */
static inline void mt_release(struct nmport_d *d)
{
	ioctl(d->fd, NIOCRXSYNC, NULL);
}

/* Frames still waiting in the port's RX rings after an rxsync, not taken. */
static inline unsigned mt_pending(struct nmport_d *d)
{
	unsigned ri, n = 0;

	ioctl(d->fd, NIOCRXSYNC, NULL);
	for (ri = d->first_rx_ring; ri <= d->last_rx_ring; ri++)
		n += nm_ring_space(NETMAP_RXRING(d->nifp, ri));
	return n;
}

/* Check records [0, n) are tag `tag`, seqs first.., all intact, of `len`
 * bytes, with NS_TXMON iff txmon.  Returns the number of mismatches. */
static inline unsigned mt_expect(const char *what, const struct mrec *r, unsigned n,
				 uint32_t tag, uint32_t first, unsigned len, bool txmon)
{
	unsigned k, bad = 0;

	for (k = 0; k < n; k++) {
		bool good = r[k].ok && r[k].tag == tag && r[k].seq == first + k &&
			    r[k].len == len && !!(r[k].flags & NS_TXMON) == txmon;

		if (!good && bad++ < 3)
			fprintf(stderr, "%s: frame %u: tag %u seq %u len %u flags 0x%x ok %d, "
				"expected tag %u seq %u len %u %s\n", what, k, r[k].tag, r[k].seq,
				r[k].len, r[k].flags, r[k].ok, tag, first + k, len,
				txmon ? "NS_TXMON" : "no NS_TXMON");
	}
	return bad;
}

static inline int mt_stats(int fd, const char *port, struct unm_mon_stats *st, uint32_t flags,
			   uint32_t idx)
{
	struct nmreq_header h;

	memset(&h, 0, sizeof(h));
	memset(st, 0, sizeof(*st));
	h.nr_version = NETMAP_API;
	h.nr_reqtype = UNM_REQ_MON_STATS;
	h.nr_body = (uintptr_t)st;
	if (port)
		snprintf(h.nr_name, sizeof(h.nr_name), "%s", port);
	st->flags = flags;
	st->idx = idx;
	return ioctl(fd, NIOCCTRL, &h) < 0 ? errno : 0;
}

/* How many monitors port `port` has, as netmapd lists them. */
static inline unsigned mt_count(int fd, const char *port)
{
	struct unm_mon_stats st;
	unsigned n = 0, i;

	for (i = 0; i < 64 && mt_stats(fd, port, &st, 0, i) == 0; i = st.idx + 1)
		n++;
	return n;
}

/* A descriptor closes asynchronously (netmapd sees the hang-up a moment
 * later, as it sees any): wait until port has `want` monitors. */
static inline bool mt_wait_count(int fd, const char *port, unsigned want)
{
	double t0 = t_now();

	while (mt_count(fd, port) != want) {
		if (t_now() - t0 > 10)
			return false;
		usleep(1000);
	}
	return true;
}

/* poll() one descriptor for POLLIN; its revents */
static inline short mt_poll(struct nmport_d *d, int ms)
{
	struct pollfd p = { .fd = d->fd, .events = POLLIN };

	if (poll(&p, 1, ms) < 0)
		return -1;
	return p.revents;
}

#endif /* MON_UTIL_H */

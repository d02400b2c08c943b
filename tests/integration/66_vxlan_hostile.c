/*
 * 66_vxlan_hostile.c - a VXLAN port's engine (netmapd) against an
 * application that writes garbage into its rings.
 *
 * Test objective: netmapd validates every slot of a tunnel port before it
 * sends from it or receives into it: TX slots with a bad buffer index, a
 * length under 14 or over the buffer size, or an NS_MOREFRAG chain are
 * dropped and counted (tx_drops), the good frames around them still
 * leave; RX slots released with a bad buffer index come back as empty
 * frames, counted once each (rx_invalid), and the frames after them
 * arrive; netmapd lives through it all.
 *
 * Operations: a tunnel to itself, vxlan:127.0.0.1:7:P:P (it sends to its
 * own UDP port, from 127.0.0.1: what it sends comes back), so that no
 * namespace or privilege is needed;
 *   1. 200 frames of 60..259 bytes out, the same 200 back, in order;
 *   2. one TX batch: a good frame, then buf 0, buf 0xffffffff, len 5,
 *      len 5000, a two-slot NS_MOREFRAG chain: the good frame back and
 *      nothing else, tx_drops +5 (the chain counts once);
 *   3. three RX slots released with buffer 0 (NS_BUF_CHANGED), then 10
 *      frames sent: 3 empty frames, then the 10, rx_invalid +3;
 * Needs nothing but netmapd (UDP port 20000 + pid % 20000 on 127.0.0.1).
 */
#include <poll.h>
#include <sys/ioctl.h>

#include <libnetmap.h>

#include "tcommon.h"
#include "unm_vxlan.h"

static char name[NETMAP_REQ_IFNAMSIZ];

static int stats(int fd, struct unm_vxlan_stats *st)
{
	struct nmreq_header hdr;

	memset(st, 0, sizeof(*st));
	nmreq_header_init(&hdr, UNM_REQ_VXLAN_STATS, st);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", name);
	return ioctl(fd, NIOCCTRL, &hdr);
}

static void fill(char *p, unsigned len, uint32_t seq)
{
	unsigned i;

	memset(p, 0xff, 6);			/* broadcast */
	memcpy(p + 6, "\x02\x00\x00\x00\x66\x01", 6);
	p[12] = 0x08;
	p[13] = 0x00;
	memcpy(p + 14, &seq, 4);
	for (i = 18; i < len; i++)
		p[i] = (char)(seq + i);
}

static int frame_ok(const char *p, unsigned len, uint32_t seq)
{
	unsigned i;
	uint32_t s;

	if (len < 18)
		return 0;
	memcpy(&s, p + 14, 4);
	if (s != seq)
		return 0;
	for (i = 18; i < len; i++)
		if (p[i] != (char)(seq + i))
			return 0;
	return 1;
}

/* Queue one frame on TX ring 0 (head moves on); 0 if the ring was full. */
static int queue(struct nmport_d *d, unsigned len, uint32_t seq)
{
	struct netmap_ring *tx = NETMAP_TXRING(d->nifp, 0);
	struct netmap_slot *s;

	if (nm_ring_space(tx) == 0)
		return 0;
	s = &tx->slot[tx->head];
	fill(NETMAP_BUF(tx, s->buf_idx), len, seq);
	s->len = (uint16_t)len;
	s->flags = 0;
	tx->head = tx->cur = nm_ring_next(tx, tx->head);
	return 1;
}

/* Wait up to ms for one frame on RX ring 0: its length (-1: none), and a
 * copy of up to cap bytes. */
static int next_frame(struct nmport_d *d, char *buf, unsigned cap, int ms)
{
	struct netmap_ring *rx = NETMAP_RXRING(d->nifp, 0);
	double end = t_now() + ms / 1000.0;

	for (;;) {
		struct pollfd pfd = { .fd = d->fd, .events = POLLIN };

		if (!nm_ring_empty(rx)) {
			struct netmap_slot *s = &rx->slot[rx->head];
			unsigned len = s->len;

			if (len && len <= cap)
				memcpy(buf, NETMAP_BUF(rx, s->buf_idx), len);
			rx->head = rx->cur = nm_ring_next(rx, rx->head);
			return (int)len;
		}
		if (t_now() > end)
			return -1;
		poll(&pfd, 1, 100);
	}
}

int main(void)
{
	struct unm_vxlan_stats st0, st1;
	struct nmport_d *d;
	struct netmap_ring *tx, *rx;
	char buf[4096];
	uint32_t seq, sent = 0, got = 0, save[8];
	unsigned port = 20000 + (unsigned)getpid() % 20000, i, k;
	int len;

	snprintf(name, sizeof(name), "vxlan:127.0.0.1:7:%u:%u", port, port);
	d = nmport_open(name);
	REQUIRE(d, "open %s", name);
	tx = NETMAP_TXRING(d->nifp, 0);
	rx = NETMAP_RXRING(d->nifp, 0);
	REQUIRE(stats(d->fd, &st0) == 0, "stats of %s", name);

	/* 1. round trip, in order */
	for (seq = 0; seq < 200; seq++) {
		while (!queue(d, 60 + seq, seq))
			ioctl(d->fd, NIOCTXSYNC, NULL);
		sent++;
		if (seq % 32 == 31)
			ioctl(d->fd, NIOCTXSYNC, NULL);
	}
	ioctl(d->fd, NIOCTXSYNC, NULL);
	for (seq = 0; seq < 200; seq++) {
		len = next_frame(d, buf, sizeof(buf), 3000);
		if (len < 0)
			break;
		got++;
		CHECK(len == (int)(60 + seq) && frame_ok(buf, (unsigned)len, seq),
		      "frame %u: len %d", seq, len);
	}
	CHECK_EQ(got, 200);

	/* 2. garbage in one TX batch, between two good frames */
	REQUIRE(nm_ring_space(tx) >= 8, "TX ring space");
	k = tx->head;
	for (i = 0; i < 7; i++) {
		unsigned j = (k + i) % tx->num_slots;

		save[i] = tx->slot[j].buf_idx;
		fill(NETMAP_BUF(tx, save[i]), 60, 1000 + i);
		tx->slot[j].len = 60;
		tx->slot[j].flags = 0;
	}
	tx->slot[(k + 1) % tx->num_slots].buf_idx = 0;
	tx->slot[(k + 2) % tx->num_slots].buf_idx = 0xffffffffu;
	tx->slot[(k + 3) % tx->num_slots].len = 5;
	tx->slot[(k + 4) % tx->num_slots].len = 5000;
	tx->slot[(k + 5) % tx->num_slots].flags = NS_MOREFRAG;	/* 5+6: a chain */
	tx->head = tx->cur = (k + 7) % tx->num_slots;
	ioctl(d->fd, NIOCTXSYNC, NULL);
	len = next_frame(d, buf, sizeof(buf), 3000);
	CHECK(len == 60 && frame_ok(buf, 60, 1000), "good frame before the garbage: len %d", len);
	/* the chain's last slot is not a frame of its own: dropped with it */
	len = next_frame(d, buf, sizeof(buf), 1000);
	CHECK(len == -1, "something came back for the garbage: len %d", len);
	/* give the slots their buffers back (the engine is done with them) */
	for (i = 0; i < 7; i++)
		tx->slot[(k + i) % tx->num_slots].buf_idx = save[i];
	REQUIRE(stats(d->fd, &st1) == 0, "stats");
	CHECK_EQ(st1.tx_drops - st0.tx_drops, 5);

	/* 3. RX slots released with no buffer */
	while (next_frame(d, buf, sizeof(buf), 200) >= 0)
		;
	/* the three slots after tail are the engine's next: release three
	 * slots whose buffers we take away */
	REQUIRE(nm_ring_empty(rx), "RX ring drained");
	st0 = st1;
	for (i = 0; i < 3; i++) {
		unsigned j = (rx->head + i) % rx->num_slots;

		/* those slots are the engine's (head == tail): write what the
		 * next release hands back, as an application swapping
		 * buffers would (NS_BUF_CHANGED) */
		save[i] = rx->slot[j].buf_idx;
		rx->slot[j].buf_idx = 0;
		rx->slot[j].flags = NS_BUF_CHANGED;
	}
	ioctl(d->fd, NIOCRXSYNC, NULL);
	for (seq = 2000; seq < 2010; seq++)
		CHECK(queue(d, 100, seq), "TX space");
	ioctl(d->fd, NIOCTXSYNC, NULL);
	for (i = 0; i < 13; i++) {
		len = next_frame(d, buf, sizeof(buf), 3000);
		if (len < 0) {
			CHECK(0, "frame %u of 13 missing", i);
			break;
		}
		if (i < 3)
			CHECK(len == 0, "slot %u with no buffer came back with len %d", i, len);
		else
			CHECK(len == 100 && frame_ok(buf, 100, 2000 + i - 3), "frame %u: len %d",
			      i, len);
	}
	REQUIRE(stats(d->fd, &st1) == 0, "stats after the bad RX slots: netmapd lives");
	CHECK_EQ(st1.rx_invalid - st0.rx_invalid, 3);
	printf("%s: tx_pkts %llu tx_drops %llu rx_pkts %llu rx_invalid %llu\n", name,
	       (unsigned long long)st1.tx_pkts, (unsigned long long)st1.tx_drops,
	       (unsigned long long)st1.rx_pkts, (unsigned long long)st1.rx_invalid);
	nmport_close(d);
	return t_done("66_vxlan_hostile");
}

/*
 * Test objective: zero-copy forwarding between pipes keeps frames intact
 * for a sender that fills its buffers once and refills a slot only when
 * the slot comes back with NS_BUF_CHANGED (upstream pkt-gen does exactly
 * this).  As in netmap, a pipe copies whole slots, flags included, in both
 * directions: a receiver that swapped in another buffer and set
 * NS_BUF_CHANGED is heard by the sender.  (Regression: the flag was
 * cleared on the way back; behind upstream bridge, 1024 of every 3000
 * frames arrived all zeros.)
 *
 * Operations (one process, three roles, pipes of one parent so that the
 * forwarder can swap buffers):
 *  1. the sender on X{1 writes a pattern into every TX buffer once, then
 *     only into slots that come back with NS_BUF_CHANGED;
 *  2. the forwarder moves X}1 -> X{2 by swapping buffers, NS_BUF_CHANGED on
 *     both slots, as bridge does;
 *  3. the receiver on X}2 checks every frame (sequence number and
 *     pattern), for 20,000 frames through 1024-slot rings;
 *  4. also: a flag the receiver did not set comes back as the sender left
 *     it (netmap copies the RX slot back whole).
 */
#include <sys/ioctl.h>

#include <libnetmap.h>

#include "tcommon.h"

#define LEN 64

static void fill(struct netmap_ring *r, uint32_t k, uint32_t seq)
{
	unsigned char *b = (unsigned char *)NETMAP_BUF(r, r->slot[k].buf_idx);

	memset(b, 0xa5, LEN);
	memcpy(b, &seq, sizeof(seq));
	r->slot[k].len = LEN;
}

int main(void)
{
	char base[32];
	struct nmport_d *s, *f_in, *f_out, *rcv;
	struct netmap_ring *st, *fi, *fo, *rr;
	uint32_t seq = 0, next = 0, bad = 0, k, total = 20000, rounds = 0, refills = 0;

	alarm(60);
	snprintf(base, sizeof(base), "bufc%d", (int)getpid());
	s = t_open_pipe(base, '{', 1);
	f_in = t_open_pipe(base, '}', 1);
	f_out = t_open_pipe(base, '{', 2);
	rcv = t_open_pipe(base, '}', 2);
	REQUIRE(s->mem == f_out->mem, "pipes of one parent share a region");
	st = NETMAP_TXRING(s->nifp, 0);
	fi = NETMAP_RXRING(f_in->nifp, 0);
	fo = NETMAP_TXRING(f_out->nifp, 0);
	rr = NETMAP_RXRING(rcv->nifp, 0);

	/* 1: every buffer once, as pkt-gen does at start */
	for (k = 0; k < st->num_slots; k++)
		fill(st, k, 0);

	while (next < total && rounds++ < 100000) {
		/* sender: the seq goes into buffers it knows hold the pattern;
		 * a slot marked NS_BUF_CHANGED gets the whole frame again */
		while (!nm_ring_empty(st) && seq < total) {
			struct netmap_slot *sl = &st->slot[st->head];

			if (sl->flags & NS_BUF_CHANGED) {
				fill(st, st->head, seq);
				sl->flags &= ~NS_BUF_CHANGED;
				refills++;
			} else {
				memcpy(NETMAP_BUF(st, sl->buf_idx), &seq, sizeof(seq));
			}
			seq++;
			st->head = st->cur = nm_ring_next(st, st->head);
		}
		ioctl(s->fd, NIOCTXSYNC, NULL);

		/* forwarder: swap buffers */
		ioctl(f_in->fd, NIOCRXSYNC, NULL);
		ioctl(f_out->fd, NIOCTXSYNC, NULL);
		while (!nm_ring_empty(fi) && !nm_ring_empty(fo)) {
			struct netmap_slot *a = &fi->slot[fi->head], *b = &fo->slot[fo->head];
			uint32_t t = a->buf_idx;

			a->buf_idx = b->buf_idx;
			b->buf_idx = t;
			b->len = a->len;
			a->flags |= NS_BUF_CHANGED;
			b->flags |= NS_BUF_CHANGED;
			fi->head = fi->cur = nm_ring_next(fi, fi->head);
			fo->head = fo->cur = nm_ring_next(fo, fo->head);
		}
		ioctl(f_out->fd, NIOCTXSYNC, NULL);
		ioctl(f_in->fd, NIOCRXSYNC, NULL);

		/* receiver */
		ioctl(rcv->fd, NIOCRXSYNC, NULL);
		while (!nm_ring_empty(rr)) {
			const unsigned char *b = (const unsigned char *)NETMAP_BUF(rr,
						  rr->slot[rr->head].buf_idx);
			uint32_t got;

			memcpy(&got, b, sizeof(got));
			if (got != next || b[LEN - 1] != 0xa5 || rr->slot[rr->head].len != LEN) {
				if (bad++ < 5)
					fprintf(stderr, "frame %u: seq %u, last byte %#x, len %u\n",
						next, got, b[LEN - 1], rr->slot[rr->head].len);
			}
			next++;
			rr->head = rr->cur = nm_ring_next(rr, rr->head);
		}
		ioctl(rcv->fd, NIOCRXSYNC, NULL);
	}
	printf("%u frames, %u refilled after NS_BUF_CHANGED, %u bad\n", next, refills, bad);
	CHECK_EQ(next, total);
	CHECK_EQ(bad, 0);
	CHECK(refills > 0, "the sender saw NS_BUF_CHANGED on reclaimed slots");

	/* 4: a flag the receiver leaves alone comes back as it was sent */
	{
		struct netmap_ring *t = NETMAP_TXRING(s->nifp, 0), *r = NETMAP_RXRING(f_in->nifp, 0);
		uint32_t h;

		ioctl(s->fd, NIOCTXSYNC, NULL);
		h = t->head;
		t->slot[h].len = LEN;
		t->slot[h].flags = NS_REPORT;
		t->head = t->cur = nm_ring_next(t, h);
		ioctl(s->fd, NIOCTXSYNC, NULL);
		ioctl(f_in->fd, NIOCRXSYNC, NULL);
		CHECK(!nm_ring_empty(r) && (r->slot[r->head].flags & NS_REPORT),
		      "the receiver sees the sender's flags");
		r->head = r->cur = r->tail;
		ioctl(f_in->fd, NIOCRXSYNC, NULL);
		ioctl(s->fd, NIOCTXSYNC, NULL);
		CHECK(t->slot[h].flags & NS_REPORT, "the slot comes back with its flags: %#x",
		      t->slot[h].flags);
	}
	nmport_close(s);
	nmport_close(f_in);
	nmport_close(f_out);
	nmport_close(rcv);
	return t_done("33_buf_changed");
}

/*
 * 40_vale_morefrag - multi-slot (NS_MOREFRAG) packets through a switch.
 *
 * Test objective: a packet spread over several slots arrives whole, with
 * the same fragment lengths, each slot flagged as netmap's switch flags
 * it ((nfrags << 8) | NS_MOREFRAG on all but the last, nfrags << 8 on the
 * last); chains of up to NETMAP_MAX_FRAGS (64) slots, 64 KiB, pass; a
 * longer chain is dropped and counted; a chain still open at the end of
 * what was handed over is forwarded as it is; a packet that does not fit
 * in the receiver's free slots is dropped whole, never split.
 *
 * Operations: vale40f:a sends to vale40f:b (4096 RX slots); vale40f:c
 * (64 RX slots) gets the broadcast packets of the last part.
 */
#include "40_vale_util.h"

static struct nmport_d *a, *b, *c;
static uint8_t ma[6], mb[6];
static uint8_t frame[70000], buf[70000];

/* Send a packet of `len` bytes in fragments of `frag` bytes, and check
 * that b gets it with the same layout. */
static void frags(size_t len, size_t frag, uint32_t seq)
{
	struct netmap_ring *r = vt_rxring(b, 0);
	size_t nf = (len + frag - 1) / frag, k, off = 0;
	uint32_t i;

	vt_frame(frame, len, mb, ma, 0xf0, seq);
	CHECK(vt_queue(a, frame, len, frag) == 0, "no room for %zu fragments", nf);
	vt_flush(a, 5000);
	CHECK(ioctl(b->fd, NIOCRXSYNC, NULL) == 0, "rxsync");
	CHECK(nm_ring_space(r) == nf, "%zu-byte packet in %zu-byte fragments: b sees %u slots",
	      len, frag, nm_ring_space(r));
	for (k = 0, i = r->head; k < nf; k++, i = nm_ring_next(r, i)) {
		struct netmap_slot *s = &r->slot[i];
		size_t want = len - off < frag ? len - off : frag;
		uint16_t fl = (uint16_t)(nf << 8 | (k + 1 < nf ? NS_MOREFRAG : 0));

		CHECK(s->len == want, "fragment %zu: %u bytes, expected %zu", k, s->len, want);
		CHECK(s->flags == fl, "fragment %zu of %zu: flags %#x, expected %#x", k, nf,
		      s->flags, fl);
		CHECK(NS_RFRAGS(s) == (nf & 0xff), "NS_RFRAGS %u", NS_RFRAGS(s));
		memcpy(buf + off, NETMAP_BUF(r, s->buf_idx), s->len);
		off += s->len;
	}
	CHECK(vt_frame_ok(buf, len, 0xf0, seq), "%zu-byte packet corrupted", len);
	r->head = r->cur = i;
	printf("ok: %zu bytes in %zu fragments\n", len, nf);
}

int main(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct unm_vale_stats st0, st;
	struct netmap_ring *tx;
	unsigned nf;
	int n, k;

	a = vt_open("vale40f:a");
	b = vt_open("vale40f:b@conf:rx_slots=4096");
	vt_mac(ma, 0xfa);
	vt_mac(mb, 0xfb);
	/* b announces itself so that a's packets are unicast */
	vt_frame(frame, 60, ma, mb, 0xf0, 0);
	vt_send(b, frame, 60);
	CHECK(vt_recv(a, buf, sizeof(buf), 1000, NULL, NULL) == 60, "a did not hear b");

	frags(3000, 2048, 1);			/* 2048 + 952 */
	frags(4200, 1000, 2);			/* 5 fragments */
	frags(2048 * 3, 2048, 3);		/* full buffers */
	frags(64 * 1024, 1024, 4);		/* 64 fragments, 64 KiB */
	frags(9000, 150, 5);			/* 60 small fragments */

	/* 65 fragments: dropped, counted, and the ring still comes back */
	CHECK(vt_stats("vale40f:a", &st0) == 0, "stats");
	vt_frame(frame, 65 * 100, mb, ma, 0xf0, 6);
	CHECK(vt_queue(a, frame, 65 * 100, 100) == 0, "queue 65 fragments");
	vt_flush(a, 5000);
	CHECK(vt_drain(b) == 0, "a 65-fragment packet got through");
	CHECK(vt_stats("vale40f:a", &st) == 0, "stats");
	CHECK(st.tx_drops == st0.tx_drops + 1, "tx_drops %llu -> %llu",
	      (unsigned long long)st0.tx_drops, (unsigned long long)st.tx_drops);
	printf("ok: a 65-fragment packet is dropped and counted\n");

	/* a chain still open where the handed-over slots end */
	tx = vt_txring(a);
	vt_frame(frame, 300, mb, ma, 0xf0, 7);
	CHECK(vt_queue(a, frame, 300, 100) == 0, "queue");
	tx->slot[tx->head == 0 ? tx->num_slots - 1 : tx->head - 1].flags |= NS_MOREFRAG;
	vt_flush(a, 5000);
	n = vt_recv(b, buf, sizeof(buf), 1000, &nf, NULL);
	CHECK(n == 300 && nf == 3 && vt_frame_ok(buf, 300, 0xf0, 7),
	      "unfinished chain: %d bytes in %u fragments", n, nf);
	printf("ok: an unfinished chain is forwarded as a whole packet\n");

	/* a receiver with 63 free slots: 40-fragment packets, the second
	 * does not fit and is dropped whole */
	c = vt_open("vale40f:c@conf:rx_slots=64");
	for (k = 0; k < 2; k++) {
		vt_frame(frame, 40 * 100, bcast, ma, 0xf1, (uint32_t)k);
		CHECK(vt_queue(a, frame, 40 * 100, 100) == 0, "queue");
	}
	vt_flush(a, 5000);
	n = vt_recv(c, buf, sizeof(buf), 0, &nf, NULL);
	CHECK(n == 4000 && nf == 40 && vt_frame_ok(buf, 4000, 0xf1, 0), "c: %d bytes, %u frags",
	      n, nf);
	CHECK(vt_drain(c) == 0, "c got part of the packet that did not fit");
	CHECK(vt_drain(b) == 2, "b (4096 slots) gets both");
	CHECK(vt_stats("vale40f:c", &st) == 0 && st.rx_drops == 1 && st.rx_pkts == 1,
	      "c: rx %llu drops %llu", (unsigned long long)st.rx_pkts,
	      (unsigned long long)st.rx_drops);
	printf("ok: a packet that does not fit is dropped whole\n");

	nmport_close(c);
	nmport_close(b);
	nmport_close(a);
	return 0;
}

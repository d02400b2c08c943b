/*
 * 40_vale_drops - a full receiver costs drops, never a blocked sender.
 *
 * Test objective: as in netmap, the switch drops what does not fit in a
 * receiver's free slots and gives the sender its slots back at once;
 * frames for a port whose RX rings nobody binds are dropped too.  The
 * counters (vale-ctl -s) say exactly how many frames were delivered and
 * dropped, per port, and the frames that were delivered are the first
 * ones, in order.
 *
 * Operations: vale40d:a sends 3000 frames to vale40d:b, which does not
 * read (1024 RX slots: 1023 usable); vale40d:c is bound TX-only (/T), so
 * it gets nothing of the broadcasts.  Then b reads.
 */
#include "40_vale_util.h"

#define NSEND 3000

int main(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct nmport_d *a = vt_open("vale40d:a"), *b = vt_open("vale40d:b");
	struct nmport_d *c = vt_open("vale40d:c/T");
	struct unm_vale_stats sa, sb, sc;
	uint8_t src[6], f[60], buf[128];
	uint32_t i, got = 0;
	uint64_t t0 = vt_now_ms();

	vt_mac(src, 0xda);
	for (i = 0; i < NSEND; i++) {
		vt_frame(f, sizeof(f), bcast, src, 0xd0, i);
		/* room in the TX ring is there every time: the switch never
		 * holds a's slots for b */
		if (vt_queue(a, f, sizeof(f), 0) < 0) {
			vt_flush(a, 5000);
			CHECK(vt_queue(a, f, sizeof(f), 0) == 0, "no room after a flush");
		}
		if (i % 100 == 99)
			vt_flush(a, 5000);
	}
	vt_flush(a, 5000);
	printf("ok: %d frames sent to a receiver that does not read, in %llu ms\n", NSEND,
	       (unsigned long long)(vt_now_ms() - t0));

	CHECK(vt_stats("vale40d:a", &sa) == 0 && vt_stats("vale40d:b", &sb) == 0 &&
	      vt_stats("vale40d:c", &sc) == 0, "stats");
	CHECK(sa.tx_pkts == NSEND && sa.tx_drops == 0, "a: tx %llu drops %llu",
	      (unsigned long long)sa.tx_pkts, (unsigned long long)sa.tx_drops);
	CHECK(sb.rx_pkts == 1023 && sb.rx_drops == NSEND - 1023,
	      "b: rx %llu drops %llu (expected 1023 and %d)", (unsigned long long)sb.rx_pkts,
	      (unsigned long long)sb.rx_drops, NSEND - 1023);
	CHECK(sb.rx_bytes == 1023 * 60, "b: rx_bytes %llu", (unsigned long long)sb.rx_bytes);
	CHECK(sc.rx_pkts == 0 && sc.rx_drops == NSEND, "c (not bound for RX): rx %llu drops %llu",
	      (unsigned long long)sc.rx_pkts, (unsigned long long)sc.rx_drops);
	printf("ok: counters: b got 1023 and dropped %llu; c dropped all %llu\n",
	       (unsigned long long)sb.rx_drops, (unsigned long long)sc.rx_drops);

	/* what b holds are the first 1023 frames, in order */
	while (vt_recv(b, buf, sizeof(buf), 0, NULL, NULL) == 60) {
		CHECK(vt_frame_ok(buf, 60, 0xd0, got), "b: frame %u is not the expected one", got);
		got++;
	}
	CHECK(got == 1023, "b read %u frames", got);
	printf("ok: b holds frames 0..1022 in order\n");

	/* room again: delivery resumes */
	vt_frame(f, sizeof(f), bcast, src, 0xd0, NSEND);
	vt_send(a, f, sizeof(f));
	CHECK(vt_recv(b, buf, sizeof(buf), 0, NULL, NULL) == 60 &&
	      vt_frame_ok(buf, 60, 0xd0, NSEND), "b gets frames again once it released slots");
	printf("ok: delivery resumes once b released its slots\n");
	nmport_close(c);
	nmport_close(b);
	nmport_close(a);
	return 0;
}

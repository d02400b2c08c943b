/*
 * 40_vale_copy - frames cross a VALE switch by copy.
 *
 * Test objective: what a receiver gets is a copy in its own buffers,
 * taken while the sender's slots belonged to the switch: a sender that
 * rewrites its buffers once its slots are given back cannot change what
 * was delivered, and a receiver that scribbles on its buffers cannot
 * reach the sender's.  The two ports share no memory region.
 *
 * Operations: vale40c:a sends 2000 frames (60 and 1514 bytes) in bursts
 * to vale40c:b; after each burst's slots came back, a overwrites all its
 * TX buffers with garbage; b then checks every frame, scribbles over its
 * own buffers, and releases them; a checks its buffers hold its garbage.
 */
#include "40_vale_util.h"

#define NFRAMES 2000
#define BURST   200

int main(void)
{
	struct nmport_d *a = vt_open("vale40c:a"), *b = vt_open("vale40c:b");
	struct netmap_ring *tx = vt_txring(a), *rx = vt_rxring(b, 0);
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t src[6], f[1514], buf[2048];
	uint32_t seq = 0, k, got = 0;

	vt_mac(src, 0x4c00);
	CHECK(a->reg.nr_mem_id != b->reg.nr_mem_id, "both ports in region %u",
	      a->reg.nr_mem_id);
	/* the two regions are distinct mappings, so no buffer of one can
	 * alias a buffer of the other */
	CHECK((char *)a->nifp != (char *)b->nifp, "same interface object");

	while (seq < NFRAMES) {
		uint32_t first = seq;

		for (k = 0; k < BURST; k++, seq++) {
			size_t len = seq % 2 ? 1514 : 60;

			vt_frame(f, len, bcast, src, 0xc0, seq);
			CHECK(vt_queue(a, f, len, 0) == 0, "no room at frame %u", seq);
		}
		vt_flush(a, 5000);
		/* the slots are ours again: rewrite every TX buffer */
		for (k = 0; k < tx->num_slots; k++)
			memset(NETMAP_BUF(tx, tx->slot[k].buf_idx), 0xa5, tx->nr_buf_size);
		for (k = first; k < seq; k++) {
			size_t len = k % 2 ? 1514 : 60;
			int n = vt_recv(b, buf, sizeof(buf), 2000, NULL, NULL);

			CHECK(n == (int)len, "frame %u: %d bytes, expected %zu", k, n, len);
			CHECK(vt_frame_ok(buf, len, 0xc0, k),
			      "frame %u was changed after the sender got its slot back", k);
			got++;
		}
		/* receiver scribbles on all its buffers before releasing */
		for (k = 0; k < rx->num_slots; k++)
			memset(NETMAP_BUF(rx, rx->slot[k].buf_idx), 0x5a, rx->nr_buf_size);
		CHECK(ioctl(b->fd, NIOCRXSYNC, NULL) == 0, "rxsync");
		for (k = 0; k < tx->num_slots; k++) {
			const uint8_t *p = (const uint8_t *)NETMAP_BUF(tx, tx->slot[k].buf_idx);

			CHECK(p[0] == 0xa5 && p[tx->nr_buf_size - 1] == 0xa5,
			      "the receiver's writes reached the sender's buffer %u",
			      tx->slot[k].buf_idx);
		}
	}
	CHECK(got == NFRAMES, "got %u", got);
	CHECK(vt_drain(b) == 0, "extra frames");
	printf("ok: %u frames delivered intact although both sides rewrote their buffers\n", got);
	nmport_close(a);
	nmport_close(b);
	return 0;
}

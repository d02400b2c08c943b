/*
 * 40_vale_hostile - a port that writes garbage harms nobody else.
 *
 * Test objective: while port h of a switch writes random values over its
 * own rings (head, cur, tail, every field of the control blocks, slot
 * buffer indices, lengths and flags, buffer contents) and syncs, thousands
 * of times, ports a and b of the same switch keep exchanging frames with
 * nothing lost, duplicated, reordered or corrupted, and netmapd survives.
 * The switch counts h's impossible values as errors.
 *
 * Operations: one process holds h, a and b.  Each round: h scribbles and
 * runs txsync/rxsync/poll; a sends a window of frames to b's learned
 * address and waits until the switch took them; b receives them (h's
 * garbage may reach b too, as any port may flood: b skips frames that are
 * not a's, and replays of a's earlier frames that h picked up).  b's RX
 * ring has 4096 slots, more than h can send in a round, so nothing of a's
 * can be dropped for lack of room.
 */
#include "40_vale_util.h"
#include "unm_layout.h"

#define ROUNDS  20000
#define WINDOW  8
#define MAX_SECONDS 20

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A value for an index field: in range, just out of range, or anything. */
static uint32_t rnd_idx(uint32_t n)
{
	switch (rnd() % 4) {
	case 0: return (uint32_t)rnd();
	case 1: return n + (uint32_t)(rnd() % 4);
	default: return (uint32_t)(rnd() % n);
	}
}

struct saved {
	char *bufs;		/* buffer 0 of the region, before any scribbling */
	uint32_t bufsz, n;
};

static void scribble_ring(struct netmap_ring *r, const struct saved *sv, uint32_t buf_total)
{
	struct unm_ring_ctl *ctl = (struct unm_ring_ctl *)((char *)r - UNM_RING_CTL_SIZE);
	uint32_t n = sv->n, k, what = (uint32_t)(rnd() % 8);

	if (what <= 2) {
		r->head = rnd_idx(n);
		r->cur = rnd_idx(n);
		*(volatile uint32_t *)&r->tail = rnd_idx(n);
	}
	if (what == 3 || what == 4) {
		/* the control block: every field, the lock included */
		atomic_store(&ctl->app_idx, rnd_idx(n));
		atomic_store(&ctl->app_sleep, (uint32_t)rnd() & 1);
		atomic_store(&ctl->hw_idx, rnd_idx(n));
		atomic_store(&ctl->hw_sleep, (uint32_t)rnd() & 1);
		ctl->hwcur = rnd_idx(n);
		ctl->hwtail = rnd_idx(n);
		ctl->rhead = rnd_idx(n);
		ctl->rcur = rnd_idx(n);
		if (rnd() % 4 == 0)
			atomic_store(&ctl->lock, (uint32_t)rnd());
		if (rnd() % 4 == 0)
			atomic_store(&ctl->state, (uint32_t)rnd());
	}
	/* slots: buffer indices valid or not, any length, any flags */
	for (k = 0; k < n; k++) {
		struct netmap_slot *s = &r->slot[k];

		if (rnd() % 3)
			continue;
		s->buf_idx = rnd() % 2 ? (uint32_t)(2 + rnd() % (buf_total - 2)) : (uint32_t)rnd();
		s->len = rnd() % 2 ? (uint16_t)(rnd() % (sv->bufsz + 1)) : (uint16_t)rnd();
		s->flags = (uint16_t)rnd();
		s->ptr = rnd();
		if (s->buf_idx >= 2 && s->buf_idx < buf_total && rnd() % 2) {
			uint64_t *p = (uint64_t *)(sv->bufs + (size_t)s->buf_idx * sv->bufsz);

			p[0] = rnd();	/* random MAC addresses */
			p[1] = rnd();
		}
	}
	if (what == 5) {
		/* plausible: advance the ring as an application would */
		r->head = r->cur = (r->head + (uint32_t)(rnd() % n)) % n;
	}
}

int main(void)
{
	struct nmport_d *h = vt_open("vale40h:h");
	struct nmport_d *a = vt_open("vale40h:a");
	struct nmport_d *b = vt_open("vale40h:b@conf:rx_slots=4096");
	struct netmap_ring *htx = vt_txring(h), *hrx = vt_rxring(h, 0);
	struct saved svt, svr;
	struct unm_vale_stats st;
	uint8_t ma[6], mb[6], f[128], buf[65536];
	uint32_t seq = 0, next = 0, foreign = 0, round, k, buf_total;
	uint64_t start = vt_now_ms();
	const char *seed = getenv("VT_SEED");

	rng = seed ? strtoull(seed, NULL, 0) : (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();
	rng |= 1;
	printf("seed %llu (set VT_SEED to replay)\n", (unsigned long long)rng);

	vt_mac(ma, 0x4a00);
	vt_mac(mb, 0x4b00);
	svt.bufs = (char *)htx + htx->buf_ofs;
	svt.bufsz = htx->nr_buf_size;
	svt.n = htx->num_slots;
	svr.bufs = (char *)hrx + hrx->buf_ofs;
	svr.bufsz = hrx->nr_buf_size;
	svr.n = hrx->num_slots;
	{
		struct nmreq_pools_info pi;
		struct nmreq_header hdr;

		memset(&pi, 0, sizeof(pi));
		nmreq_header_init(&hdr, NETMAP_REQ_POOLS_INFO_GET, &pi);
		strcpy(hdr.nr_name, "vale40h:h");
		CHECK(ioctl(h->fd, NIOCCTRL, &hdr) == 0, "pools info: %s", strerror(errno));
		buf_total = pi.nr_buf_pool_objtotal;
	}

	/* b announces itself so that a's frames are unicast */
	vt_frame(f, 60, ma, mb, 0xbb, 0);
	vt_send(b, f, 60);
	CHECK(vt_recv(a, buf, sizeof(buf), 1000, NULL, NULL) == 60, "a did not hear b");

	for (round = 0; round < ROUNDS && vt_now_ms() - start < MAX_SECONDS * 1000; round++) {
		struct pollfd pfd = { .fd = h->fd, .events = POLLIN | POLLOUT };

		scribble_ring(htx, &svt, buf_total);
		scribble_ring(hrx, &svr, buf_total);
		ioctl(h->fd, NIOCTXSYNC, NULL);
		ioctl(h->fd, NIOCRXSYNC, NULL);
		poll(&pfd, 1, 0);

		for (k = 0; k < WINDOW; k++, seq++) {
			vt_frame(f, 60 + seq % 60, mb, ma, 0xaa, seq);
			CHECK(vt_queue(a, f, 60 + seq % 60, 0) == 0, "a: no room (round %u)", round);
		}
		vt_flush(a, 5000);
		while (next < seq) {
			int n = vt_recv(b, buf, sizeof(buf), 2000, NULL, NULL);

			uint32_t fseq;

			CHECK(n >= 0, "round %u: frame %u of a never reached b", round, next);
			memcpy(&fseq, buf + 18, 4);
			/* h may flood b with anything: copies of a's earlier
			 * frames it received when its random source addresses
			 * evicted b's from the learning table, or frames
			 * spliced from pieces of them (NS_MOREFRAG chains
			 * whose first fragment holds a's header).  Only a
			 * complete, well-formed frame of a's counts as a's;
			 * one of a's own being lost or corrupted shows as the
			 * next one arriving early, or none arriving at all. */
			if (n < 22 || memcmp(buf + 6, ma, 6) != 0 ||
			    !vt_frame_ok(buf, (size_t)n, 0xaa, fseq) || n != (int)(60 + fseq % 60) ||
			    fseq < next) {
				foreign++;
				continue;
			}
			CHECK(fseq == next,
			      "round %u: b got a's frame %u where %u was expected (lost or reordered)",
			      round, fseq, next);
			next++;
		}
	}
	CHECK(round >= 1000, "only %u rounds in %d s", round, MAX_SECONDS);
	foreign += vt_drain(b);
	printf("ok: %u rounds of garbage from h; %u frames from a to b all intact "
	       "(b also got %u of h's frames)\n", round, seq, foreign);

	CHECK(vt_stats("vale40h:b", &st) == 0, "stats b");
	CHECK(st.rx_drops == 0, "b dropped %llu frames", (unsigned long long)st.rx_drops);
	CHECK(vt_stats("vale40h:a", &st) == 0, "stats a");
	CHECK(st.tx_pkts == seq && st.tx_drops == 0 && st.errors == 0,
	      "a: tx %llu drops %llu errors %llu", (unsigned long long)st.tx_pkts,
	      (unsigned long long)st.tx_drops, (unsigned long long)st.errors);
	CHECK(vt_stats("vale40h:h", &st) == 0, "stats h");
	CHECK(st.errors > 0, "the switch saw no error from h");
	printf("ok: the switch counted %llu errors on h, none on a and b\n",
	       (unsigned long long)st.errors);

	nmport_close(h);
	/* the switch still works after h is gone */
	vt_frame(f, 60, mb, ma, 0xaa, seq);
	vt_send(a, f, 60);
	CHECK(vt_recv(b, buf, sizeof(buf), 2000, NULL, NULL) == 60 && vt_frame_ok(buf, 60, 0xaa, seq),
	      "a -> b after h left");
	nmport_close(a);
	nmport_close(b);
	return 0;
}

/*
 * 77_vhost_hostile - a malicious guest or QEMU cannot crash the
 * vhost-user backend, and the device works again afterwards.
 *
 * Test objective, guest side: descriptors outside guest memory (above,
 * below, straddling its end, length 0xffffffff), ring entries and next
 * indices out of range, descriptor loops (direct and inside an indirect
 * table), indirect descriptors not negotiated / with NEXT / nested /
 * with a bad table size or address, chains with too many segments, an
 * available index that jumps by more than the ring, a writable transmit
 * descriptor, a read-only receive descriptor, an impossible used index
 * at start, and random bytes over the rings: each marks the device broken
 * (counted, error eventfd written, GET_STATUS says DEVICE_NEEDS_RESET),
 * nothing crashes, and frames flow again after the guest resets its rings
 * or after a reconnection.  A call eventfd that is a pipe with no reader
 * left (SIGPIPE ignored, as netmapd does) costs interrupts, not frames.
 *
 * Test objective, protocol side: truncated messages, a half message left
 * hanging (the backend's loop stays responsive), oversized payloads, bad
 * version or reply flags, wrong payload sizes, wrong descriptor counts
 * (too few, too many, more than 8, on requests that take none), queue
 * indices out of range, impossible queue sizes and bases, bad memory
 * tables (past the end of the file, overlapping, empty, no or too many
 * regions, wrapping, a descriptor that is no file), ring addresses outside
 * memory or misaligned, a kick descriptor that cannot be polled, refused
 * features without REPLY_ACK, requests that would need an answer we cannot
 * give, and random byte streams with random descriptors: each closes that
 * connection (counted as a bad message where it is one), and the next
 * connection negotiates and moves exact frames.
 *
 * Operations: one process; the backend (server mode) runs in two threads
 * of it under ASan in the sanitizer build.
 */
#define VH_PROG "77_vhost_hostile"
#include "vu_harness.h"

#define NUM 256

static char path[108];
static struct tb *tb;
static const struct shape mrg = { 1536, 1, 32 };
static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static bool is_broken(const struct nmd_vu_info *i)
{
	return i->broken;
}

/* A session that must work: negotiation and exact frames. */
static void good_session(void)
{
	const char *was = section;
	uint32_t seq = 0;
	struct vg g;

	section = "good-session";
	vg_open(&g, path, -1, NMD_VU_FEATURES, NUM);
	CHECK(tb_wait(tb, running_both, 3000), "queues not running after %s", was);
	vg_rx_fill(&g, mrg.rx_size, mrg.rx_ndesc);
	traffic(&g, &mrg, 100, lens, sizeof(lens) / sizeof(lens[0]), &seq, true);
	vg_close(&g);
	CHECK(tb_wait(tb, disconnected, 3000), "disconnection unnoticed");
	section = was;
}

/* ---------------- guest side ---------------- */

struct gcase {
	const char *name;
	uint64_t features;	/* 0: all */
	bool rx_first;		/* post receive buffers before breaking */
	void (*mk)(struct vg *g);
};

/* Make head available on the transmit queue, with desc[] written by the
 * caller, and kick. */
static void tx_avail(struct vg *g, uint16_t head)
{
	struct vg_q *q = &g->q[NMD_VU_TXQ];

	q->avail->ring[q->avail_idx % q->num] = head;
	q->avail_idx++;
	vg_publish(g, NMD_VU_TXQ);
}

static void set_desc(struct vg *g, unsigned qi, unsigned i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	g->q[qi].desc[i] = (struct nmd_vring_desc){ addr, len, flags, next };
}

static struct nmd_vring_desc *ind_table(struct vg *g)
{
	return (void *)(g->mem + VG_IND_AREA);
}

#define TXB vg_gpa(VG_TX_AREA)
#define END (VG_GPA_BASE + VG_MEM_SIZE)

static void mk_above(struct vg *g) { set_desc(g, 1, 7, END + 4096, 100, 0, 0); tx_avail(g, 7); }
static void mk_below(struct vg *g) { set_desc(g, 1, 7, 0x1000, 100, 0, 0); tx_avail(g, 7); }
static void mk_straddle(struct vg *g) { set_desc(g, 1, 7, END - 50, 100, 0, 0); tx_avail(g, 7); }
static void mk_hugelen(struct vg *g) { set_desc(g, 1, 7, TXB, 0xffffffffu, 0, 0); tx_avail(g, 7); }
static void mk_head(struct vg *g) { tx_avail(g, NUM + 5); }
static void mk_next(struct vg *g)
{
	set_desc(g, 1, 7, TXB, 100, UNM_VRING_DESC_F_NEXT, 999);
	tx_avail(g, 7);
}
static void mk_loop(struct vg *g)
{
	set_desc(g, 1, 7, TXB, 100, UNM_VRING_DESC_F_NEXT, 8);
	set_desc(g, 1, 8, TXB, 100, UNM_VRING_DESC_F_NEXT, 9);
	set_desc(g, 1, 9, TXB, 100, UNM_VRING_DESC_F_NEXT, 7);
	tx_avail(g, 7);
}
static void mk_selfloop(struct vg *g)
{
	set_desc(g, 1, 7, TXB, 0, UNM_VRING_DESC_F_NEXT, 7);
	tx_avail(g, 7);
}
static void mk_ind_plain(struct vg *g)
{
	struct nmd_vring_desc *t = ind_table(g);

	t[0] = (struct nmd_vring_desc){ TXB, 100, 0, 0 };
	set_desc(g, 1, 7, vg_gpa(VG_IND_AREA), 16, UNM_VRING_DESC_F_INDIRECT, 0);
	tx_avail(g, 7);
}
static void mk_ind_next(struct vg *g)
{
	struct nmd_vring_desc *t = ind_table(g);

	t[0] = (struct nmd_vring_desc){ TXB, 100, 0, 0 };
	set_desc(g, 1, 7, vg_gpa(VG_IND_AREA), 16,
		 UNM_VRING_DESC_F_INDIRECT | UNM_VRING_DESC_F_NEXT, 8);
	set_desc(g, 1, 8, TXB, 100, 0, 0);
	tx_avail(g, 7);
}
static void mk_ind_nested(struct vg *g)
{
	struct nmd_vring_desc *t = ind_table(g);

	t[0] = (struct nmd_vring_desc){ vg_gpa(VG_IND_AREA), 32, UNM_VRING_DESC_F_INDIRECT, 0 };
	t[1] = (struct nmd_vring_desc){ TXB, 100, 0, 0 };
	set_desc(g, 1, 7, vg_gpa(VG_IND_AREA), 32, UNM_VRING_DESC_F_INDIRECT, 0);
	tx_avail(g, 7);
}
static void mk_ind_size(struct vg *g)
{
	set_desc(g, 1, 7, vg_gpa(VG_IND_AREA), 24, UNM_VRING_DESC_F_INDIRECT, 0);
	tx_avail(g, 7);
}
static void mk_ind_addr(struct vg *g)
{
	set_desc(g, 1, 7, END - 8, 32, UNM_VRING_DESC_F_INDIRECT, 0);
	tx_avail(g, 7);
}
static void mk_ind_loop(struct vg *g)
{
	struct nmd_vring_desc *t = ind_table(g);

	t[0] = (struct nmd_vring_desc){ TXB, 10, UNM_VRING_DESC_F_NEXT, 1 };
	t[1] = (struct nmd_vring_desc){ TXB, 10, UNM_VRING_DESC_F_NEXT, 0 };
	set_desc(g, 1, 7, vg_gpa(VG_IND_AREA), 32, UNM_VRING_DESC_F_INDIRECT, 0);
	tx_avail(g, 7);
}
static void mk_ind_next_range(struct vg *g)
{
	struct nmd_vring_desc *t = ind_table(g);

	t[0] = (struct nmd_vring_desc){ TXB, 10, UNM_VRING_DESC_F_NEXT, 5 };
	t[1] = (struct nmd_vring_desc){ TXB, 10, 0, 0 };
	set_desc(g, 1, 7, vg_gpa(VG_IND_AREA), 32, UNM_VRING_DESC_F_INDIRECT, 0);
	tx_avail(g, 7);
}
static void mk_many_segs(struct vg *g)
{
	struct nmd_vring_desc *t = ind_table(g);
	unsigned i, n = 300;

	for (i = 0; i < n; i++)
		t[i] = (struct nmd_vring_desc){ TXB + i, 1,
			(uint16_t)(i + 1 < n ? UNM_VRING_DESC_F_NEXT : 0), (uint16_t)(i + 1) };
	set_desc(g, 1, 7, vg_gpa(VG_IND_AREA), n * 16, UNM_VRING_DESC_F_INDIRECT, 0);
	tx_avail(g, 7);
}
static void mk_avail_jump(struct vg *g)
{
	struct vg_q *q = &g->q[NMD_VU_TXQ];

	q->avail_idx += NUM + 1;
	vg_publish(g, NMD_VU_TXQ);
}
static void mk_tx_writable(struct vg *g)
{
	set_desc(g, 1, 7, TXB, 100, UNM_VRING_DESC_F_WRITE, 0);
	tx_avail(g, 7);
}
static void mk_rx_readonly(struct vg *g)
{
	struct vg_q *q = &g->q[NMD_VU_RXQ];
	uint8_t f[100];

	set_desc(g, 0, 3, vg_gpa(VG_RX_AREA), 2048, 0, 0);
	q->avail->ring[q->avail_idx % q->num] = 3;
	q->avail_idx++;
	vg_publish(g, NMD_VU_RXQ);
	make_frame(f, sizeof(f), 0);
	vg_tx(g, f, sizeof(f), VG_L_ONE, 1, false);
	vg_publish(g, NMD_VU_TXQ);
}
static void mk_rx_outside(struct vg *g)
{
	struct vg_q *q = &g->q[NMD_VU_RXQ];
	uint8_t f[100];

	set_desc(g, 0, 3, END, 2048, UNM_VRING_DESC_F_WRITE, 0);
	q->avail->ring[q->avail_idx % q->num] = 3;
	q->avail_idx++;
	vg_publish(g, NMD_VU_RXQ);
	make_frame(f, sizeof(f), 0);
	vg_tx(g, f, sizeof(f), VG_L_ONE, 1, false);
	vg_publish(g, NMD_VU_TXQ);
}
static void mk_used_idx(struct vg *g)
{
	struct nmd_vu_state st = { .index = NMD_VU_TXQ };

	if (vg_send(g, UNM_VU_GET_VRING_BASE, UNM_VU_VERSION, &st, sizeof(st), NULL, 0) < 0 ||
	    vg_recv(g, UNM_VU_GET_VRING_BASE, &st, sizeof(st), 3000) != sizeof(st))
		VH_DIE("GET_VRING_BASE");
	g->q[NMD_VU_TXQ].used->idx = 5000;
	vg_start_queue(g, NMD_VU_TXQ, 0);
}

static const struct gcase gcases[] = {
	{ "desc-above-memory", 0, true, mk_above },
	{ "desc-below-memory", 0, true, mk_below },
	{ "desc-straddles-end", 0, true, mk_straddle },
	{ "desc-len-4G", 0, true, mk_hugelen },
	{ "head-out-of-range", 0, true, mk_head },
	{ "next-out-of-range", 0, true, mk_next },
	{ "desc-loop", 0, true, mk_loop },
	{ "desc-self-loop", 0, true, mk_selfloop },
	{ "indirect-not-negotiated", NMD_VU_FEATURES & ~UNM_BIT(UNM_VIRTIO_RING_F_INDIRECT_DESC),
	  true, mk_ind_plain },
	{ "indirect-with-next", 0, true, mk_ind_next },
	{ "indirect-nested", 0, true, mk_ind_nested },
	{ "indirect-size", 0, true, mk_ind_size },
	{ "indirect-outside", 0, true, mk_ind_addr },
	{ "indirect-loop", 0, true, mk_ind_loop },
	{ "indirect-next-range", 0, true, mk_ind_next_range },
	{ "too-many-segments", 0, true, mk_many_segs },
	{ "avail-jump", 0, true, mk_avail_jump },
	{ "tx-writable", 0, true, mk_tx_writable },
	{ "rx-read-only", 0, false, mk_rx_readonly },
	{ "rx-outside", 0, false, mk_rx_outside },
	{ "used-idx-impossible", 0, true, mk_used_idx },
	{ "no-event-idx-loop", NMD_VU_FEATURES & ~UNM_BIT(UNM_VIRTIO_RING_F_EVENT_IDX), true,
	  mk_loop },
	{ "legacy-straddle", UNM_BIT(UNM_VIRTIO_NET_F_MRG_RXBUF), true, mk_straddle },
};

static bool err_signalled(struct vg *g)
{
	struct pollfd p[2] = {
		{ .fd = g->q[0].err, .events = POLLIN },
		{ .fd = g->q[1].err, .events = POLLIN },
	};

	return poll(p, 2, 1000) > 0;
}

static void guest_case(const struct gcase *c, bool by_reset)
{
	struct nmd_vu_info info;
	uint64_t breaks;
	uint32_t seq = 0;
	struct vg g;
	unsigned i;

	section = c->name;
	vg_open(&g, path, -1, c->features ? c->features : NMD_VU_FEATURES, NUM);
	CHECK(tb_wait(tb, running_both, 3000), "queues not running");
	if (c->rx_first)
		vg_rx_fill(&g, mrg.rx_size, mrg.rx_ndesc);
	tb_info(tb, &info);
	breaks = info.breaks;
	c->mk(&g);
	CHECK(tb_wait(tb, is_broken, 3000), "device not broken");
	tb_info(tb, &info);
	CHECK(info.breaks == breaks + 1, "%llu breaks, want %llu",
	      (unsigned long long)info.breaks, (unsigned long long)breaks + 1);
	CHECK(info.broken_why != NULL, "no reason recorded");
	if (c->mk != mk_used_idx)
		CHECK(err_signalled(&g), "error eventfd not written");
	if (g.pfeatures & UNM_BIT(UNM_VU_PF_STATUS))
		CHECK(vg_get_u64(&g, UNM_VU_GET_STATUS) & UNM_VIRTIO_S_NEEDS_RESET,
		      "GET_STATUS without NEEDS_RESET");
	if (by_reset) {
		/* the guest resets the device: rings stopped, set up anew */
		for (i = 0; i < 2; i++) {
			struct nmd_vu_state st = { .index = i };

			if (vg_send(&g, UNM_VU_GET_VRING_BASE, UNM_VU_VERSION, &st, sizeof(st), NULL,
				    0) < 0 ||
			    vg_recv(&g, UNM_VU_GET_VRING_BASE, &st, sizeof(st), 3000) != sizeof(st))
				VH_DIE("GET_VRING_BASE");
		}
		tb_info(tb, &info);
		CHECK(!info.broken, "still broken after the rings stopped");
		for (i = 0; i < 2; i++) {
			vg_ring_layout(&g, i, NUM);
			vg_start_queue(&g, i, 0);
		}
		CHECK(tb_wait(tb, running_both, 3000), "rings did not restart");
		vg_rx_fill(&g, mrg.rx_size, mrg.rx_ndesc);
		traffic(&g, &mrg, 100, lens, sizeof(lens) / sizeof(lens[0]), &seq, true);
		vg_close(&g);
		CHECK(tb_wait(tb, disconnected, 3000), "disconnection unnoticed");
	} else {
		vg_close(&g);
		CHECK(tb_wait(tb, disconnected, 3000), "disconnection unnoticed");
		good_session();
	}
}

/* Random bytes over the transmit and receive rings while frames flow. */
static void scribble(void)
{
	struct nmd_vu_info info;
	struct vg g;
	unsigned round, k;

	section = "scribble";
	vg_open(&g, path, -1, NMD_VU_FEATURES, NUM);
	g.lenient = true;	/* heads come back that we never made available */
	CHECK(tb_wait(tb, running_both, 3000), "queues not running");
	for (round = 0; round < 300; round++) {
		struct vg_q *q = &g.q[round % 2];
		uint8_t f[200];

		vg_rx_fill(&g, mrg.rx_size, mrg.rx_ndesc);
		make_frame(f, sizeof(f), round);
		vg_tx(&g, f, sizeof(f), VG_L_SPLIT, 3, round % 3 == 0);
		for (k = 0; k < 8; k++) {
			unsigned i = (unsigned)(rnd() % NUM);

			switch (rnd() % 5) {
			case 0:
				q->desc[i].addr = rnd() % 3 ? vg_gpa((uint32_t)(rnd() % VG_MEM_SIZE)) : rnd();
				break;
			case 1:
				q->desc[i].len = rnd() % 2 ? (uint32_t)(rnd() % 4096) : (uint32_t)rnd();
				break;
			case 2:
				q->desc[i].flags = (uint16_t)(rnd() & 7);
				q->desc[i].next = (uint16_t)(rnd() % 2 ? rnd() % NUM : rnd());
				break;
			case 3:
				q->avail->ring[i] = (uint16_t)(rnd() % 4 ? rnd() % NUM : rnd());
				break;
			default:
				ind_table(&g)[rnd() % 64] = (struct nmd_vring_desc){
					vg_gpa((uint32_t)(rnd() % VG_MEM_SIZE)), (uint32_t)(rnd() % 9000),
					(uint16_t)(rnd() & 7), (uint16_t)(rnd() % 70) };
				break;
			}
		}
		q->avail_idx += (uint16_t)(rnd() % 4);
		vg_publish(&g, round % 2);
		vg_publish(&g, NMD_VU_TXQ);
		usleep(300);
		tb_info(tb, &info);
		if (info.broken || rnd() % 16 == 0) {
			/* the guest resets: stop and set up the rings again */
			for (k = 0; k < 2; k++) {
				struct nmd_vu_state st = { .index = k };

				if (vg_send(&g, UNM_VU_GET_VRING_BASE, UNM_VU_VERSION, &st, sizeof(st),
					    NULL, 0) < 0 ||
				    vg_recv(&g, UNM_VU_GET_VRING_BASE, &st, sizeof(st), 3000) !=
				    sizeof(st))
					VH_DIE("GET_VRING_BASE");
				vg_ring_layout(&g, k, NUM);
				vg_start_queue(&g, k, 0);
			}
		}
	}
	tb_info(tb, &info);
	CHECK(info.breaks > 0, "300 rounds of garbage never broke the device?");
	vg_close(&g);
	CHECK(tb_wait(tb, disconnected, 3000), "disconnection unnoticed");
	good_session();
}

/* A call eventfd that is a pipe nobody reads any more: interrupts fail
 * (EPIPE, SIGPIPE ignored as in netmapd), frames still flow. */
static void dead_pipe_call(void)
{
	struct nmd_vu_info info;
	uint32_t seq = 0;
	struct vg g;
	int p[2];

	section = "call-is-a-dead-pipe";
	vg_open(&g, path, -1, NMD_VU_FEATURES, NUM);
	CHECK(tb_wait(tb, running_both, 3000), "queues not running");
	if (pipe2(p, O_CLOEXEC) < 0)
		VH_DIE("pipe: %s", strerror(errno));
	close(p[0]);
	CHECK(vg_vring_fd(&g, UNM_VU_SET_VRING_CALL, NMD_VU_RXQ, p[1]) == 0, "refused");
	CHECK(vg_vring_fd(&g, UNM_VU_SET_VRING_CALL, NMD_VU_TXQ, p[1]) == 0, "refused");
	close(p[1]);
	vg_rx_fill(&g, mrg.rx_size, mrg.rx_ndesc);
	vg_intr(&g, NMD_VU_TXQ, true);
	traffic(&g, &mrg, 200, lens, sizeof(lens) / sizeof(lens[0]), &seq, false);
	tb_info(tb, &info);
	CHECK(!info.broken, "device broken");
	vg_close(&g);
	CHECK(tb_wait(tb, disconnected, 3000), "disconnection unnoticed");
}

/* ---------------- protocol side ---------------- */

static int raw_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		VH_DIE("connect: %s", strerror(errno));
	return fd;
}

/* Did the backend close the connection (within 3 s)? */
static bool closed_by_backend(int fd)
{
	char buf[256];
	uint64_t end = vh_now_ns() + 3000000000ull;

	while (vh_now_ns() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 100) <= 0)
			continue;
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return true;
	}
	return false;
}

/* A vg that has negotiated features and memory but no rings. */
static void partial(struct vg *g)
{
	memset(g, 0, sizeof(*g));
	g->sock = raw_connect();
	vg_mem_init(g);
	g->q[0].kick = g->q[0].call = g->q[0].err = -1;
	g->q[1].kick = g->q[1].call = g->q[1].err = -1;
	g->features = vg_get_u64(g, UNM_VU_GET_FEATURES);
	if (vg_set_u64(g, UNM_VU_SET_FEATURES, g->features) || vg_send_mem_table(g))
		VH_DIE("partial set-up refused");
}

static void partial_close(struct vg *g)
{
	close(g->sock);
	munmap(g->mem, VG_MEM_SIZE);
	close(g->memfd);
}

/* One protocol case: what `send` does must make the backend close the
 * connection, counted as a bad message when `bad`; then a good session. */
static void pcase(const char *name, bool bad, void (*send)(struct vg *g))
{
	struct nmd_vu_info info;
	uint64_t bad0;
	struct vg g;

	section = name;
	tb_info(tb, &info);
	bad0 = info.bad_msgs;
	partial(&g);
	send(&g);
	CHECK(closed_by_backend(g.sock), "connection not closed");
	partial_close(&g);
	CHECK(tb_wait(tb, disconnected, 3000), "backend still connected");
	tb_info(tb, &info);
	if (bad)
		CHECK(info.bad_msgs == bad0 + 1, "bad messages %llu, want %llu",
		      (unsigned long long)info.bad_msgs, (unsigned long long)bad0 + 1);
	good_session();
}

static void raw(struct vg *g, uint32_t req, uint32_t flags, const void *pl, uint32_t size,
		const int *fds, unsigned n)
{
	if (vg_send(g, req, flags, pl, size, fds, n) < 0)
		VH_DIE("send");
}

#define V UNM_VU_VERSION

static void p_oversize(struct vg *g)
{
	struct nmd_vu_hdr h = { UNM_VU_SET_MEM_TABLE, V, UNM_VU_MAX_PAYLOAD + 1 };

	if (write(g->sock, &h, sizeof(h)) != sizeof(h))
		VH_DIE("write");
}
static void p_version0(struct vg *g) { raw(g, UNM_VU_GET_FEATURES, 0, NULL, 0, NULL, 0); }
static void p_version2(struct vg *g) { raw(g, UNM_VU_GET_FEATURES, 2, NULL, 0, NULL, 0); }
static void p_reply_flag(struct vg *g)
{
	raw(g, UNM_VU_GET_FEATURES, V | UNM_VU_FLAG_REPLY, NULL, 0, NULL, 0);
}
static void p_size_num(struct vg *g)
{
	uint32_t x = 0;

	raw(g, UNM_VU_SET_VRING_NUM, V, &x, 4, NULL, 0);
}
static void p_size_get(struct vg *g)
{
	uint64_t x = 0;

	raw(g, UNM_VU_GET_FEATURES, V, &x, 8, NULL, 0);
}
static void p_size_addr(struct vg *g)
{
	struct nmd_vu_addr a = { 0 };

	raw(g, UNM_VU_SET_VRING_ADDR, V, &a, sizeof(a) - 8, NULL, 0);
}
static void p_fd_on_get(struct vg *g)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	raw(g, UNM_VU_GET_FEATURES, V, NULL, 0, &fd, 1);
	close(fd);
}
static void p_mem_fewfds(struct vg *g)
{
	struct nmd_vu_memory m;

	vg_regions(&m);
	raw(g, UNM_VU_SET_MEM_TABLE, V, &m, 8 + 2 * 32, &g->memfd, 1);
}
static void p_mem_manyfds(struct vg *g)
{
	struct nmd_vu_memory m;
	int fds[3] = { g->memfd, g->memfd, g->memfd };

	vg_regions(&m);
	raw(g, UNM_VU_SET_MEM_TABLE, V, &m, 8 + 2 * 32, fds, 3);
}
static void p_nine_fds(struct vg *g)
{
	struct nmd_vu_memory m;
	int fds[9];
	unsigned i;

	for (i = 0; i < 9; i++)
		fds[i] = g->memfd;
	vg_regions(&m);
	m.nregions = 8;
	raw(g, UNM_VU_SET_MEM_TABLE, V, &m, 8 + 8 * 32, fds, 9);
}
static void p_kick_twofds(struct vg *g)
{
	uint64_t v = 0;
	int fds[2] = { eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC) };

	raw(g, UNM_VU_SET_VRING_KICK, V, &v, 8, fds, 2);
	close(fds[0]);
	close(fds[1]);
}
static void p_kick_nofd_flag_with_fd(struct vg *g)
{
	uint64_t v = UNM_VU_VRING_NOFD;
	int fd = eventfd(0, EFD_CLOEXEC);

	raw(g, UNM_VU_SET_VRING_KICK, V, &v, 8, &fd, 1);
	close(fd);
}
static void p_kick_nofd(struct vg *g)
{
	uint64_t v = 1;

	raw(g, UNM_VU_SET_VRING_CALL, V, &v, 8, NULL, 0);
}
static void p_kick_badbits(struct vg *g)
{
	uint64_t v = 1ull << 20;
	int fd = eventfd(0, EFD_CLOEXEC);

	raw(g, UNM_VU_SET_VRING_KICK, V, &v, 8, &fd, 1);
	close(fd);
}
static void p_kick_unpollable(struct vg *g)
{
	uint64_t v = 1;
	int fd = memfd_create("notpollable", MFD_CLOEXEC);
	struct nmd_vu_state s = { 1, 256 };

	raw(g, UNM_VU_SET_VRING_NUM, V, &s, sizeof(s), NULL, 0);
	raw(g, UNM_VU_SET_VRING_KICK, V, &v, 8, &fd, 1);
	close(fd);
}
static void p_index2(struct vg *g)
{
	struct nmd_vu_state s = { 2, 256 };

	raw(g, UNM_VU_SET_VRING_NUM, V, &s, sizeof(s), NULL, 0);
}
static void p_kick_index3(struct vg *g)
{
	uint64_t v = 3;
	int fd = eventfd(0, EFD_CLOEXEC);

	raw(g, UNM_VU_SET_VRING_KICK, V, &v, 8, &fd, 1);
	close(fd);
}
static void p_num_100(struct vg *g)
{
	struct nmd_vu_state s = { 0, 100 };

	raw(g, UNM_VU_SET_VRING_NUM, V, &s, sizeof(s), NULL, 0);
}
static void p_num_0(struct vg *g)
{
	struct nmd_vu_state s = { 0, 0 };

	raw(g, UNM_VU_SET_VRING_NUM, V, &s, sizeof(s), NULL, 0);
}
static void p_num_65536(struct vg *g)
{
	struct nmd_vu_state s = { 0, 65536 };

	raw(g, UNM_VU_SET_VRING_NUM, V, &s, sizeof(s), NULL, 0);
}
static void p_base_big(struct vg *g)
{
	struct nmd_vu_state s = { 0, 70000 };

	raw(g, UNM_VU_SET_VRING_BASE, V, &s, sizeof(s), NULL, 0);
}
static void p_enable_2(struct vg *g)
{
	struct nmd_vu_state s = { 0, 2 };

	raw(g, UNM_VU_SET_VRING_ENABLE, V, &s, sizeof(s), NULL, 0);
}

static void mem_with(struct vg *g, void (*edit)(struct nmd_vu_memory *m), int fd)
{
	struct nmd_vu_memory m;
	int fds[UNM_VU_MAX_REGIONS];
	unsigned i;

	vg_regions(&m);
	edit(&m);
	for (i = 0; i < UNM_VU_MAX_REGIONS; i++)
		fds[i] = fd >= 0 ? fd : g->memfd;
	raw(g, UNM_VU_SET_MEM_TABLE, V, &m, 8 + (m.nregions <= 8 ? m.nregions : 8) * 32, fds,
	    m.nregions <= 8 ? m.nregions : 8);
}
static void e_past_end(struct nmd_vu_memory *m) { m->r[1].size += 4096; }
static void e_overlap_gpa(struct nmd_vu_memory *m) { m->r[1].gpa = m->r[0].gpa + 4096; }
static void e_overlap_uva(struct nmd_vu_memory *m) { m->r[1].uaddr = m->r[0].uaddr + 4096; }
static void e_empty(struct nmd_vu_memory *m) { m->r[0].size = 0; }
static void e_none(struct nmd_vu_memory *m) { m->nregions = 0; }
static void e_wrap(struct nmd_vu_memory *m) { m->r[1].gpa = ~0ull - 100; }
static void e_offset_wrap(struct nmd_vu_memory *m) { m->r[1].mmap_offset = ~0ull - 4095; }
static void e_same(struct nmd_vu_memory *m) { (void)m; }
static void p_mem_past_end(struct vg *g) { mem_with(g, e_past_end, -1); }
static void p_mem_overlap_gpa(struct vg *g) { mem_with(g, e_overlap_gpa, -1); }
static void p_mem_overlap_uva(struct vg *g) { mem_with(g, e_overlap_uva, -1); }
static void p_mem_empty(struct vg *g) { mem_with(g, e_empty, -1); }
static void p_mem_none(struct vg *g) { mem_with(g, e_none, -1); }
static void p_mem_wrap(struct vg *g) { mem_with(g, e_wrap, -1); }
static void p_mem_offset_wrap(struct vg *g) { mem_with(g, e_offset_wrap, -1); }
static void p_mem_nine(struct vg *g)
{
	struct nmd_vu_memory m;

	vg_regions(&m);
	m.nregions = 9;
	raw(g, UNM_VU_SET_MEM_TABLE, V, &m, 8 + 8 * 32, NULL, 0);
}
static void p_mem_eventfd(struct vg *g)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	mem_with(g, e_same, fd);
	close(fd);
}

/* a ring whose addresses are outside memory, or misaligned */
static void ring_at(struct vg *g, uint64_t desc, uint64_t avail, uint64_t used)
{
	struct nmd_vu_state s = { 0, 256 };
	struct nmd_vu_addr a = { .index = 0, .desc = desc, .avail = avail, .used = used };
	uint64_t v = 0;
	int fd = eventfd(0, EFD_CLOEXEC);

	raw(g, UNM_VU_SET_VRING_NUM, V, &s, sizeof(s), NULL, 0);
	raw(g, UNM_VU_SET_VRING_ADDR, V, &a, sizeof(a), NULL, 0);
	raw(g, UNM_VU_SET_VRING_KICK, V, &v, 8, &fd, 1);
	close(fd);
}
static void p_ring_outside(struct vg *g) { ring_at(g, 0x1000, vg_uva(8192), vg_uva(16384)); }
static void p_ring_straddle(struct vg *g)
{
	/* the used ring runs past the end of region A */
	ring_at(g, vg_uva(0), vg_uva(8192), vg_uva(VG_SPLIT - 1024));
}
static void p_ring_misaligned(struct vg *g) { ring_at(g, vg_uva(8), vg_uva(8192), vg_uva(16384)); }
static void p_ring_flags(struct vg *g)
{
	struct nmd_vu_addr a = { .index = 0, .flags = 1, .desc = vg_uva(0) };

	raw(g, UNM_VU_SET_VRING_ADDR, V, &a, sizeof(a), NULL, 0);
}
static void p_features_unoffered(struct vg *g)
{
	uint64_t f = g->features | UNM_BIT(UNM_VIRTIO_NET_F_CSUM);

	raw(g, UNM_VU_SET_FEATURES, V, &f, 8, NULL, 0);
}
static void p_pfeatures_unoffered(struct vg *g)
{
	uint64_t f = UNM_BIT(UNM_VU_PF_SLAVE_REQ);

	raw(g, UNM_VU_SET_PROTOCOL_FEATURES, V, &f, 8, NULL, 0);
}
static void p_inflight(struct vg *g)
{
	uint8_t x[24] = { 0 };

	raw(g, UNM_VU_GET_INFLIGHT_FD, V, x, sizeof(x), NULL, 0);
}
static void p_status_big(struct vg *g)
{
	uint64_t v = 0x100;

	raw(g, UNM_VU_SET_STATUS, V, &v, 8, NULL, 0);
}
static void p_truncated(struct vg *g)
{
	struct nmd_vu_hdr h = { UNM_VU_SET_VRING_ADDR, V, 40 };
	char part[10] = { 0 };

	if (write(g->sock, &h, sizeof(h)) != sizeof(h) || write(g->sock, part, 10) != 10)
		VH_DIE("write");
	shutdown(g->sock, SHUT_WR);
}

/* Half a message, then nothing: the backend's loop must stay free. */
static void half_message(void)
{
	struct nmd_vu_hdr h = { UNM_VU_GET_FEATURES, V, 0 };
	struct nmd_vu_info info;
	uint64_t t0, f = 0;
	int fd;

	section = "half-message";
	fd = raw_connect();
	if (write(fd, &h, 6) != 6)
		VH_DIE("write");
	usleep(100000);
	t0 = vh_now_ns();
	tb_info(tb, &info);	/* takes the lock the dispatcher holds */
	CHECK(vh_now_ns() - t0 < 50000000ull, "backend loop blocked by a half message");
	if (write(fd, (char *)&h + 6, 6) != 6)
		VH_DIE("write");
	{
		struct vg g = { .sock = fd };

		CHECK(vg_recv(&g, UNM_VU_GET_FEATURES, &f, 8, 3000) == 8, "no reply once complete");
	}
	CHECK(f == NMD_VU_FEATURES, "features %#llx", (unsigned long long)f);
	close(fd);
	CHECK(tb_wait(tb, disconnected, 3000), "disconnection unnoticed");
}

/* Random streams: random headers (often valid request numbers), random
 * sizes and payloads, random descriptors attached. */
static void random_streams(void)
{
	unsigned round;

	section = "random-streams";
	for (round = 0; round < 300; round++) {
		struct vg g;
		unsigned k, n = 1 + (unsigned)(rnd() % 6);

		partial(&g);
		for (k = 0; k < n; k++) {
			uint8_t pl[600];
			uint32_t size = (uint32_t)(rnd() % 4 ? rnd() % 48 : rnd() % sizeof(pl));
			uint32_t req = (uint32_t)(rnd() % 4 ? rnd() % 42 : rnd());
			uint32_t flags = rnd() % 8 ? V | (uint32_t)(rnd() % 2 ? UNM_VU_FLAG_NEED_REPLY : 0)
						   : (uint32_t)rnd();
			int fds[4];
			unsigned i, nf = rnd() % 3 ? 0 : (unsigned)(rnd() % 4);

			for (i = 0; i < sizeof(pl); i++)
				pl[i] = (uint8_t)rnd();
			if (rnd() % 2) {	/* small, plausible values */
				uint32_t w[4] = { (uint32_t)(rnd() % 3), (uint32_t)(rnd() % 512),
						  (uint32_t)(rnd() % 512), 0 };

				memcpy(pl, w, sizeof(w));
			}
			for (i = 0; i < nf; i++)
				fds[i] = rnd() % 2 ? eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) : dup(g.memfd);
			if (vg_send(&g, req, flags, pl, size, fds, nf) < 0)
				k = n;	/* closed already */
			for (i = 0; i < nf; i++)
				close(fds[i]);
		}
		usleep(200);
		partial_close(&g);
		CHECK(tb_wait(tb, disconnected, 3000), "round %u: disconnection unnoticed", round);
	}
	good_session();
}

struct pc {
	const char *name;
	bool bad;
	void (*send)(struct vg *g);
};

static const struct pc pcases[] = {
	{ "truncated", false, p_truncated },
	{ "oversized", true, p_oversize },
	{ "version-0", true, p_version0 },
	{ "version-2", true, p_version2 },
	{ "reply-flag", true, p_reply_flag },
	{ "size-vring-num", true, p_size_num },
	{ "size-get-features", true, p_size_get },
	{ "size-vring-addr", true, p_size_addr },
	{ "fd-on-get", true, p_fd_on_get },
	{ "mem-few-fds", true, p_mem_fewfds },
	{ "mem-many-fds", true, p_mem_manyfds },
	{ "nine-fds", true, p_nine_fds },
	{ "kick-two-fds", true, p_kick_twofds },
	{ "kick-nofd-with-fd", true, p_kick_nofd_flag_with_fd },
	{ "call-fd-missing", true, p_kick_nofd },
	{ "kick-bad-bits", true, p_kick_badbits },
	{ "kick-unpollable", true, p_kick_unpollable },
	{ "queue-index-2", true, p_index2 },
	{ "kick-index-3", true, p_kick_index3 },
	{ "num-100", true, p_num_100 },
	{ "num-0", true, p_num_0 },
	{ "num-65536", true, p_num_65536 },
	{ "base-70000", true, p_base_big },
	{ "enable-2", true, p_enable_2 },
	{ "mem-past-end", true, p_mem_past_end },
	{ "mem-overlap-gpa", true, p_mem_overlap_gpa },
	{ "mem-overlap-uva", true, p_mem_overlap_uva },
	{ "mem-empty-region", true, p_mem_empty },
	{ "mem-no-region", true, p_mem_none },
	{ "mem-nine-regions", true, p_mem_nine },
	{ "mem-wrap", true, p_mem_wrap },
	{ "mem-offset-wrap", true, p_mem_offset_wrap },
	{ "mem-not-a-file", true, p_mem_eventfd },
	{ "ring-outside", true, p_ring_outside },
	{ "ring-straddles-region", true, p_ring_straddle },
	{ "ring-misaligned", true, p_ring_misaligned },
	{ "ring-log-flag", true, p_ring_flags },
	{ "features-unoffered", true, p_features_unoffered },
	{ "protocol-features-unoffered", true, p_pfeatures_unoffered },
	{ "inflight-unanswerable", true, p_inflight },
	{ "status-too-big", true, p_status_big },
};

int main(void)
{
	unsigned i;

	signal(SIGPIPE, SIG_IGN);	/* as netmapd: see vhost_user.h */
	snprintf(path, sizeof(path), "/tmp/unm-vu77-%d.sock", (int)getpid());
	vh_remove_at_exit(path);
	tb = tb_start(path, false, 0, TB_ECHO);
	for (i = 0; i < sizeof(gcases) / sizeof(gcases[0]); i++)
		guest_case(&gcases[i], i % 2 == 0);
	scribble();
	dead_pipe_call();
	for (i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++)
		pcase(pcases[i].name, pcases[i].bad, pcases[i].send);
	half_message();
	random_streams();
	tb_stop(tb);
	unlink(path);
	printf("%u checks, %u failed\n", checks, fails);
	return fails ? 1 : 0;
}

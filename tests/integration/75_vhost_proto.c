/*
 * 75_vhost_proto - the vhost-user backend moves exact frames both ways
 * under every feature set a QEMU guest may negotiate.
 *
 * Test objective: a backend device (daemon/vm, the code netmapd runs: a
 * protocol thread and a forwarding thread with the pause/resume
 * handshake) serves a fake QEMU + virtio-net guest driver that speaks the
 * vhost-user protocol over the device's socket and uses real split rings
 * in memfd guest memory given as two regions.  The forwarding thread
 * echoes every frame the guest transmits into the guest's receive queue.
 * For each feature set (QEMU's defaults; no event index; VERSION_1 only;
 * legacy headers with and without MRG_RXBUF) frames of 60..9000 bytes,
 * laid out in one descriptor, header apart, cut in 3 or 7 pieces (the
 * header itself split), directly or through indirect tables, crossing
 * from one memory region into the other, come back byte for byte, in
 * order, with a zeroed virtio-net header and the right num_buffers.
 * Also: interrupts come when the guest asks and never when it does not
 * (event index and flags); the backend asks for kicks before it sleeps
 * (a lost kick or interrupt would stall the test: it fails on a
 * timeout); 16-bit ring indices wrap; GET_VRING_BASE stops the rings at
 * the right index and SET_VRING_BASE resumes them; SET_MEM_TABLE and
 * SET_VRING_CALL while frames flow; disabled rings drop and consume;
 * GET_QUEUE_NUM, NET_SET_MTU, SET/GET_STATUS, REPLY_ACK of unknown
 * requests, RESET_DEVICE.
 *
 * Operations: one process; the backend runs in two threads of it, the
 * guest in the main thread.  Exit 0 when every check passed.
 */
#define VH_PROG "75_vhost_proto"
#include "vu_harness.h"

#define NUM 256

static char sockpath[108];
static struct tb *tb;

static bool is_idle_tx(struct vg *g)
{
	struct vg_q *q = &g->q[NMD_VU_TXQ];

	if (g->event_idx)
		return __atomic_load_n((uint16_t *)(void *)&q->used->ring[q->num], __ATOMIC_RELAXED) ==
		       q->avail_idx;
	return !(__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED) & UNM_VRING_USED_F_NO_NOTIFY);
}

/* The backend, idle, has asked the guest to kick the transmit queue. */
static void check_kick_requested(struct vg *g)
{
	uint64_t end = vh_now_ns() + 3000000000ull;

	while (!is_idle_tx(g) && vh_now_ns() < end)
		usleep(1000);
	CHECK(is_idle_tx(g), "idle backend did not ask for transmit kicks");
}

/* No interrupt while the guest said it wants none; one when it asks. */
static void check_interrupts(struct vg *g, const struct shape *sh, uint32_t *seq)
{
	static const uint32_t small[] = { 60 };
	uint64_t end;

	while (vg_wait_call(g, NMD_VU_TXQ, 0) || vg_wait_call(g, NMD_VU_RXQ, 0))
		;
	vg_intr(g, NMD_VU_TXQ, false);
	traffic(g, sh, 200, small, 1, seq, false);
	end = vh_now_ns() + 2000000000ull;
	while ((vg_tx_reclaim(g), g->q[NMD_VU_TXQ].nfree < g->q[NMD_VU_TXQ].num) &&
	       vh_now_ns() < end)
		usleep(100);
	CHECK(!vg_wait_call(g, NMD_VU_RXQ, 30), "receive interrupt the guest did not ask for");
	CHECK(!vg_wait_call(g, NMD_VU_TXQ, 30), "transmit interrupt the guest did not ask for");
	/* now ask for transmit completions */
	vg_intr(g, NMD_VU_TXQ, true);
	traffic(g, sh, 1, small, 1, seq, false);
	CHECK(vg_wait_call(g, NMD_VU_TXQ, 3000), "no transmit interrupt though the guest asked");
	vg_tx_reclaim(g);
	vg_intr(g, NMD_VU_TXQ, false);
}

static void feature_set(const char *name, uint64_t want, const struct shape *sh, uint32_t nframes)
{
	struct nmd_vu_info info;
	struct vg g;
	uint32_t seq = 0;

	section = name;
	vg_open(&g, sockpath, -1, want, NUM);
	CHECK(tb_wait(tb, running_both, 3000), "queues not running");
	tb_info(tb, &info);
	CHECK(info.features == g.features, "negotiated %#llx, backend has %#llx",
	      (unsigned long long)g.features, (unsigned long long)info.features);
	CHECK(info.hdr_len == g.hdr_len, "header %u, backend %u", g.hdr_len, info.hdr_len);
	CHECK(info.mem_regions == 2, "%u regions", info.mem_regions);
	vg_rx_fill(&g, sh->rx_size, sh->rx_ndesc);
	traffic(&g, sh, nframes, lens, NLENS, &seq, true);
	check_kick_requested(&g);
	check_interrupts(&g, sh, &seq);
	tb_info(tb, &info);
	CHECK(!info.broken, "device broken: %s", info.broken_why ? info.broken_why : "?");
	CHECK(info.errors[NMD_VU_TXQ] == 0, "%llu malformed frames",
	      (unsigned long long)info.errors[NMD_VU_TXQ]);
	vg_close(&g);
	CHECK(tb_wait(tb, disconnected, 3000), "backend did not notice the disconnection");
}

static const struct shape mrg_shape = { 1536, 1, 32 };
static const struct shape big_shape = { 9216, 3, 32 };

/* 16-bit indices wrap: many small frames through a small ring. */
static void index_wrap(void)
{
	static const uint32_t small[] = { 60, 61, 200 };
	struct shape sh = { 256, 1, 24 };
	struct vg g;
	uint32_t seq = 0;

	section = "index-wrap";
	vg_open(&g, sockpath, -1, NMD_VU_FEATURES, 64);
	CHECK(tb_wait(tb, running_both, 3000), "queues not running");
	vg_rx_fill(&g, sh.rx_size, sh.rx_ndesc);
	traffic(&g, &sh, 70000, small, 3, &seq, true);
	CHECK(g.q[NMD_VU_TXQ].avail_idx == (uint16_t)70000, "avail index %u",
	      g.q[NMD_VU_TXQ].avail_idx);
	vg_close(&g);
	CHECK(tb_wait(tb, disconnected, 3000), "backend did not notice the disconnection");
}

/* GET_VRING_BASE stops the rings at the index the guest sees; they resume
 * where they stopped; runtime SET_MEM_TABLE and SET_VRING_CALL. */
static void stop_resume(void)
{
	static uint8_t f[2000];
	struct nmd_vu_state st = { 0 };
	uint16_t base[2], u;
	struct vg g;
	uint32_t seq = 0;
	uint64_t pauses;
	unsigned i, k;
	int newcall;

	section = "stop-resume";
	vg_open(&g, sockpath, -1, NMD_VU_FEATURES, NUM);
	CHECK(tb_wait(tb, running_both, 3000), "queues not running");
	vg_rx_fill(&g, mrg_shape.rx_size, mrg_shape.rx_ndesc);
	traffic(&g, &mrg_shape, 500, lens, NLENS, &seq, true);
	for (i = 0; i < 2; i++) {
		st.index = i;
		st.num = 0;
		if (vg_send(&g, UNM_VU_GET_VRING_BASE, UNM_VU_VERSION, &st, sizeof(st), NULL, 0) < 0 ||
		    vg_recv(&g, UNM_VU_GET_VRING_BASE, &st, sizeof(st), 5000) != sizeof(st))
			VH_DIE("GET_VRING_BASE failed");
		CHECK(st.index == i, "GET_VRING_BASE answered for queue %u", st.index);
		if (i == NMD_VU_TXQ)
			CHECK(st.num == g.q[i].avail_idx, "tx base %u, guest made %u available",
			      st.num, g.q[i].avail_idx);
		else
			CHECK(st.num == g.q[i].last_used, "rx base %u, guest got %u back", st.num,
			      g.q[i].last_used);
		base[i] = (uint16_t)st.num;
	}
	CHECK(tb_wait(tb, stopped_both, 3000), "rings still running after GET_VRING_BASE");
	/* stopped: a frame the guest transmits stays where it is... */
	u = g.q[NMD_VU_TXQ].used->idx;
	make_frame(f, 1000, seq);
	vg_tx(&g, f, 1000, VG_L_HDR, 2, false);
	vg_publish(&g, NMD_VU_TXQ);
	usleep(50000);
	CHECK(g.q[NMD_VU_TXQ].used->idx == u, "stopped transmit ring moved");
	/* ...and goes once the rings resume where they stopped */
	for (i = 0; i < 2; i++)
		vg_start_queue(&g, i, base[i]);
	CHECK(tb_wait(tb, running_both, 3000), "rings did not restart");
	recv_expect(&g, seq, 1000);
	seq++;
	traffic(&g, &mrg_shape, 500, lens, NLENS, &seq, true);

	/* memory table and interrupt eventfd replaced while frames flow */
	section = "runtime-changes";
	pauses = atomic_load(&tb->pauses);
	newcall = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	for (k = 0; k < 16; k++) {
		make_frame(f, 1514, seq + k);
		vg_tx(&g, f, 1514, VG_L_ONE, 1, false);
	}
	vg_publish(&g, NMD_VU_TXQ);
	CHECK(vg_send_mem_table(&g) == 0, "runtime SET_MEM_TABLE refused");
	CHECK(vg_vring_fd(&g, UNM_VU_SET_VRING_CALL, NMD_VU_RXQ, newcall) == 0,
	      "runtime SET_VRING_CALL refused");
	close(g.q[NMD_VU_RXQ].call);
	g.q[NMD_VU_RXQ].call = newcall;
	for (k = 0; k < 16; k++)
		recv_expect(&g, seq + k, 1514);
	seq += 16;
	CHECK(atomic_load(&tb->pauses) > pauses, "no pause around runtime changes");
	traffic(&g, &mrg_shape, 300, lens, NLENS, &seq, true);
	vg_close(&g);
	CHECK(tb_wait(tb, disconnected, 3000), "backend did not notice the disconnection");
}

static bool rx_drop_seen(const struct nmd_vu_info *i)
{
	return i->drops[NMD_VU_RXQ] > 0;
}

/* Protocol odds and ends on one connection. */
static void misc(void)
{
	struct nmd_vu_info info;
	struct vg g;
	uint64_t v, one = 1;
	int efd, r;
	uint32_t seq = 0;

	section = "misc";
	vg_open(&g, sockpath, -1, NMD_VU_FEATURES, NUM);
	CHECK(g.reply_ack, "REPLY_ACK not offered");
	CHECK(g.pfeatures & UNM_BIT(UNM_VU_PF_MQ), "MQ not offered");
	CHECK(tb_wait(tb, running_both, 3000), "queues not running");
	CHECK(vg_set_u64(&g, UNM_VU_NET_SET_MTU, 1500) == 0, "MTU 1500 refused");
	CHECK(vg_set_u64(&g, UNM_VU_NET_SET_MTU, 10) != 0, "MTU 10 accepted");
	CHECK(vg_set_u64(&g, UNM_VU_SET_STATUS, 0xf) == 0, "SET_STATUS refused");
	CHECK(vg_get_u64(&g, UNM_VU_GET_STATUS) == 0xf, "GET_STATUS differs");
	tb_info(tb, &info);
	CHECK(info.mtu == 1500, "mtu %u", info.mtu);
	CHECK(info.status == 0xf, "status %#x", info.status);
	/* unknown and unsupported requests: failure acks, connection alive */
	CHECK(vg_set(&g, 99, &one, sizeof(one), NULL, 0) != 0, "request 99 acked as success");
	efd = eventfd(0, EFD_CLOEXEC);
	CHECK(vg_set(&g, UNM_VU_SET_LOG_FD, NULL, 0, &efd, 1) != 0, "SET_LOG_FD acked");
	close(efd);
	CHECK(vg_get_u64(&g, UNM_VU_GET_FEATURES) == NMD_VU_FEATURES, "connection lost");
	/* features we did not offer: refused (REPLY_ACK), connection stays */
	CHECK(vg_set_u64(&g, UNM_VU_SET_FEATURES, g.features | UNM_BIT(0)) != 0,
	      "CSUM accepted though not offered");
	/* a request without NEED_REPLY that we ignore */
	CHECK(vg_send(&g, UNM_VU_SEND_RARP, UNM_VU_VERSION, &one, 8, NULL, 0) == 0, "send");
	CHECK(vg_get_u64(&g, UNM_VU_GET_QUEUE_NUM) == 1, "GET_QUEUE_NUM after RARP");
	/* GET_CONFIG without feature: empty payload (the spec's error) */
	{
		uint8_t cfg[12 + 8] = { 0 };

		cfg[4] = 8;
		CHECK(vg_send(&g, UNM_VU_GET_CONFIG, UNM_VU_VERSION, cfg, sizeof(cfg), NULL, 0) == 0,
		      "send");
		r = vg_recv(&g, UNM_VU_GET_CONFIG, cfg, sizeof(cfg), 3000);
		CHECK(r == 0, "GET_CONFIG reply of %d bytes", r);
	}

	/* receive ring disabled: transmitted frames are consumed, and the
	 * ones for the guest dropped */
	vg_rx_fill(&g, mrg_shape.rx_size, mrg_shape.rx_ndesc);
	CHECK(vg_set_state(&g, UNM_VU_SET_VRING_ENABLE, NMD_VU_RXQ, 0) == 0, "disable refused");
	{
		uint8_t f[60];

		make_frame(f, 60, 0);
		vg_tx(&g, f, 60, VG_L_ONE, 1, false);
		vg_publish(&g, NMD_VU_TXQ);
	}
	CHECK(tb_wait(tb, rx_drop_seen, 3000), "no drop while the receive ring is disabled");
	v = __atomic_load_n(&g.q[NMD_VU_RXQ].used->idx, __ATOMIC_ACQUIRE);
	CHECK(v == 0, "disabled receive ring got %llu buffers", (unsigned long long)v);
	CHECK(vg_set_state(&g, UNM_VU_SET_VRING_ENABLE, NMD_VU_RXQ, 1) == 0, "enable refused");
	seq = 1;
	traffic(&g, &mrg_shape, 50, lens, NLENS, &seq, true);

	/* RESET_DEVICE, then QEMU's start sequence again */
	CHECK(vg_set(&g, UNM_VU_RESET_DEVICE, NULL, 0, NULL, 0) == 0, "RESET_DEVICE refused");
	CHECK(tb_wait(tb, stopped_both, 3000), "rings running after RESET_DEVICE");
	CHECK(vg_set_u64(&g, UNM_VU_SET_FEATURES, g.features) == 0, "SET_FEATURES refused");
	CHECK(vg_send_mem_table(&g) == 0, "SET_MEM_TABLE refused");
	vg_ring_layout(&g, 0, NUM);
	vg_ring_layout(&g, 1, NUM);
	vg_start_queue(&g, 0, 0);
	vg_start_queue(&g, 1, 0);
	CHECK(tb_wait(tb, running_both, 3000), "rings did not restart after reset");
	vg_rx_fill(&g, mrg_shape.rx_size, mrg_shape.rx_ndesc);
	seq = 0;
	traffic(&g, &mrg_shape, 100, lens, NLENS, &seq, true);
	vg_close(&g);
	CHECK(tb_wait(tb, disconnected, 3000), "backend did not notice the disconnection");
}

int main(void)
{
	uint64_t all = NMD_VU_FEATURES;

	snprintf(sockpath, sizeof(sockpath), "/tmp/unm-vu75-%d.sock", (int)getpid());
	vh_remove_at_exit(sockpath);
	tb = tb_start(sockpath, false, 0, TB_ECHO);

	feature_set("qemu-defaults", all, &mrg_shape, 2000);
	feature_set("no-event-idx", all & ~UNM_BIT(UNM_VIRTIO_RING_F_EVENT_IDX), &mrg_shape, 1000);
	feature_set("no-indirect", all & ~UNM_BIT(UNM_VIRTIO_RING_F_INDIRECT_DESC), &mrg_shape,
		    500);
	feature_set("version1-only", UNM_BIT(UNM_VIRTIO_F_VERSION_1), &big_shape, 1000);
	feature_set("legacy", UNM_BIT(UNM_VIRTIO_RING_F_EVENT_IDX), &big_shape, 500);
	feature_set("legacy-mrg", UNM_BIT(UNM_VIRTIO_NET_F_MRG_RXBUF) |
		    UNM_BIT(UNM_VIRTIO_RING_F_INDIRECT_DESC), &mrg_shape, 500);
	index_wrap();
	stop_resume();
	misc();

	printf("backend forwarded %llu frames, %llu pauses\n",
	       (unsigned long long)atomic_load(&tb->frames),
	       (unsigned long long)atomic_load(&tb->pauses));
	tb_stop(tb);
	if (access(sockpath, F_OK) == 0) {
		fprintf(stderr, VH_PROG ": socket %s left behind\n", sockpath);
		fails++;
		unlink(sockpath);
	}
	printf("%u checks, %u failed\n", checks, fails);
	return fails ? 1 : 0;
}

/*
 * Test objective: the veth fast path (common/unm_veth.h) survives a peer
 * that scribbles on what it shares with the other end: the sender's sync
 * neither crashes, nor writes outside the rings, nor takes a bad buffer
 * index for a good one, and traffic resumes once the peer behaves.
 *
 * Operations: in a network namespace of its own (unshare), a veth pair
 * uvfh0/uvfh1 (both ends in one namespace: the peer is found without a
 * namespace id); netmap:uvfh1 opened for RX, then netmap:uvfh0 for TX
 * (linked: NIC_INFO says so); 500 frames arrive exactly, every slot of
 * the four rings owns a distinct buffer; then the receiver's side is
 * scribbled on, one thing at a time, while the sender sends:
 *   1. RX ctl.app_idx out of range: the sender pushes nothing (RX
 *      ctl.hw_idx does not move);
 *   2. the free RX slots' buffer indices out of range (and 0, 1): the
 *      sender's slots get buffer 0, never an index outside the pool;
 *   3. the sender's own kring cursor (kx[2]) out of range;
 *   4. RX ctl.hw_idx and link_ack garbage;
 * after each, the receiver's indices are put back and frames flow again.
 * Needs root (namespaces, veth, XDP): exit 77 otherwise.
 */
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>

#include <libnetmap.h>

#include "tcommon.h"
#include "unm_layout.h"
#include "unm_nic.h"

static int sh(const char *cmd)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s >/dev/null 2>&1", cmd);
	return system(buf);
}

static void fill(struct netmap_ring *r, unsigned n)
{
	unsigned i;

	for (i = 0; i < n && nm_ring_space(r); i++) {
		struct netmap_slot *s = &r->slot[r->head];

		if (s->buf_idx >= 2) {
			char *b = NETMAP_BUF(r, s->buf_idx);

			memset(b, 0xff, 6);
			memcpy(b + 6, "\x02\x00\x00\x00\x00\x01", 6);
			b[12] = (char)0x88;
			b[13] = (char)0xb5;
			memset(b + 14, 0x5a, 46);
		}
		s->len = 60;
		r->head = r->cur = nm_ring_next(r, r->head);
	}
}

static unsigned drain(struct nmport_d *d)
{
	struct netmap_ring *r = NETMAP_RXRING(d->nifp, 0);
	unsigned got = 0;

	ioctl(d->fd, NIOCRXSYNC, NULL);
	for (; r->head != r->tail; r->head = nm_ring_next(r, r->head)) {
		const struct netmap_slot *s = &r->slot[r->head];
		const char *b = NETMAP_BUF(r, s->buf_idx);

		got += s->len == 60 && b[12] == (char)0x88 && b[13] == (char)0xb5;
	}
	r->cur = r->head;
	return got;
}

/* send n frames, receive what comes within t seconds */
static unsigned round_trip(struct nmport_d *tx, struct nmport_d *rx, unsigned n, double t)
{
	struct netmap_ring *r = NETMAP_TXRING(tx->nifp, 0);
	unsigned got = 0, sent = 0;
	double end = t_now() + t;

	while (t_now() < end && got < n) {
		if (sent < n) {
			unsigned before = r->head;

			fill(r, n - sent);
			sent += (r->head - before + r->num_slots) % r->num_slots;
		}
		ioctl(tx->fd, NIOCTXSYNC, NULL);
		got += drain(rx);
		usleep(1000);
	}
	return got;
}

static unsigned link_of(struct nmport_d *d)
{
	struct nmreq_header hdr;
	struct unm_nic_info ni;

	memset(&ni, 0, sizeof(ni));
	nmreq_header_init(&hdr, UNM_REQ_NIC_INFO, &ni);
	memcpy(hdr.nr_name, d->hdr.nr_name, sizeof(hdr.nr_name));
	if (ioctl(d->fd, NIOCCTRL, &hdr) < 0)
		return 99;
	return ni.link;
}

/* every slot of the four rings owns a distinct buffer of the pool */
static void check_buffers(struct nmport_d *a, struct nmport_d *b, const char *when)
{
	struct netmap_ring *rings[4] = {
		NETMAP_TXRING(a->nifp, 0), NETMAP_RXRING(a->nifp, 0),
		NETMAP_TXRING(b->nifp, 0), NETMAP_RXRING(b->nifp, 0),
	};
	uint32_t dup = 0, bad = 0;
	unsigned char *seen = calloc(1u << 24, 1);
	unsigned k, j;

	REQUIRE(seen, "calloc");
	for (k = 0; k < 4; k++) {
		for (j = 0; j < rings[k]->num_slots; j++) {
			uint32_t idx = rings[k]->slot[j].buf_idx;

			if (idx < 2 || idx >= (1u << 24)) {
				bad++;
				continue;
			}
			dup += seen[idx]++ != 0;
		}
	}
	free(seen);
	CHECK(dup == 0 && bad == 0, "%s: %u buffers owned twice, %u slots without one", when,
	      dup, bad);
}

int main(void)
{
	struct nmport_d *rx, *tx;
	struct netmap_ring *rr, *tr;
	struct unm_ring_ctl *rc, *tc;
	uint32_t save, hw, j;
	unsigned got;

	nmctx_get()->verbose = 0;
	if (geteuid() != 0) {
		printf("skip: needs root (network namespace, veth, XDP)\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		printf("skip: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 77;
	}
	sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1");
	if (sh("ip link add uvfh0 type veth peer name uvfh1") != 0 ||
	    sh("ip link set uvfh0 up") != 0 || sh("ip link set uvfh1 up") != 0) {
		printf("skip: cannot create a veth pair (ip link add ... type veth)\n");
		return 77;
	}
	rx = nmport_open("netmap:uvfh1");
	REQUIRE(rx, "open netmap:uvfh1");
	tx = nmport_open("netmap:uvfh0");
	REQUIRE(tx, "open netmap:uvfh0");
	if (link_of(tx) != UNM_NIC_LINK_PEER) {
		printf("skip: the pair was not linked (link %u): AF_XDP unavailable?\n",
		       link_of(tx));
		return 77;
	}
	CHECK_EQ(link_of(rx), UNM_NIC_LINK_PEER);
	CHECK(tx->mem == rx->mem, "both ends in one region");
	rr = NETMAP_RXRING(rx->nifp, 0);
	tr = NETMAP_TXRING(tx->nifp, 0);
	rc = unm_ring_ctl(rr);
	tc = unm_ring_ctl(tr);

	got = round_trip(tx, rx, 500, 5);
	CHECK_EQ(got, 500);
	check_buffers(tx, rx, "after 500 frames");

	/* 1. app_idx out of range (between two of the receiver's syncs,
	 * which publish it again): the sender pushes nothing, no crash */
	save = atomic_load(&rc->app_idx);
	hw = atomic_load(&rc->hw_idx);
	atomic_store(&rc->app_idx, 0xfffffff0u);
	fill(tr, 50);
	CHECK_EQ(ioctl(tx->fd, NIOCTXSYNC, NULL), 0);
	CHECK_EQ(ioctl(tx->fd, NIOCTXSYNC, NULL), 0);
	CHECK_EQ(atomic_load(&rc->hw_idx), hw);
	atomic_store(&rc->app_idx, save);
	got = round_trip(tx, rx, 300, 5);
	CHECK(got >= 100, "frames flow again after app_idx: %u", got);
	check_buffers(tx, rx, "after app_idx");

	/* 2. the free RX slots' buffers: garbage, 0 and 1 */
	for (j = 0; j < rr->num_slots; j++) {
		uint32_t k = (rr->tail + j) % rr->num_slots;

		if (k == (rr->head + rr->num_slots - 1) % rr->num_slots)
			break;
		rr->slot[k].buf_idx = j % 3 == 0 ? 0xffffffffu : j % 3;
	}
	got = round_trip(tx, rx, 200, 1);
	for (j = 0; j < tr->num_slots; j++)
		CHECK(tr->slot[j].buf_idx < (1u << 24),
		      "sender slot %u got buffer %u", j, tr->slot[j].buf_idx);
	printf("2: %u frames of 200 with the receiver's buffers scribbled on\n", got);

	/* 3. the sender's own cursor in the peer ring */
	tc->kx[2] = 0xdeadbeefu;
	got = round_trip(tx, rx, 100, 1);
	printf("3: %u frames of 100 with a scribbled cursor\n", got);

	/* 4. hw_idx and link_ack */
	atomic_store(&rc->hw_idx, 0xabcdef01u);
	atomic_store(&rc->link_ack, 0x12345678u);
	got = round_trip(tx, rx, 100, 1);
	printf("4: %u frames of 100 with hw_idx and link_ack scribbled on\n", got);
	CHECK_EQ(ioctl(tx->fd, NIOCTXSYNC, NULL), 0);
	CHECK_EQ(ioctl(rx->fd, NIOCRXSYNC, NULL), 0);

	nmport_close(tx);
	nmport_close(rx);
	sh("ip link del uvfh0");
	return t_done("68_veth_hostile");
}

/*
 * Test objective: an interface that goes down, comes back, or is deleted
 * while a netmap port is open on it makes the sync calls report an error
 * (poll() says POLLERR; NIOC*SYNC return 0, as netmap's ioctl ignores
 * per-ring errors), never a crash or a hang; traffic resumes when the
 * link is up again; the name is gone (ENXIO) once the interface is.
 *
 * Operations: in a network namespace of its own (unshare), a veth pair
 * nda0/ndb0; netmap:ndb0 open for RX and netmap:nda0 for TX; set ndb0
 * 20000 frames nda0 -> ndb0, after which every slot of the four rings
 * (one region) still owns a distinct buffer; set ndb0 down -> POLLERR
 * within 3 s; up -> frames sent on nda0 arrive on ndb0;
 * delete the pair -> POLLERR within 3 s on both, the ports close cleanly,
 * netmap:ndb0 then gives ENXIO; a port opened on an interface that is
 * down reports POLLERR until it is up.  Prints the mode the ports ran in.
 * Needs root (namespaces, veth, XDP): exit 77 otherwise.
 */
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>

#include <libnetmap.h>

#include "tcommon.h"
#include "unm_nic.h"

static int sh(const char *cmd)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s >/dev/null 2>&1", cmd);
	return system(buf);
}

/* poll until revents has one of `want`, or timeout; returns revents */
static short wait_for(struct nmport_d *d, short events, short want, double timeout)
{
	struct pollfd p = { .fd = d->fd, .events = events };
	double end = t_now() + timeout;

	while (t_now() < end) {
		p.revents = 0;
		if (poll(&p, 1, 100) > 0 && (p.revents & want))
			return p.revents;
	}
	return p.revents;
}

/* the mode the port runs in, as netmapd tells it (REGISTER leaves
 * nr_flags alone, as netmap does) */
static const char *mode_name(struct nmport_d *d)
{
	struct nmreq_header hdr;
	struct unm_nic_info ni;

	memset(&ni, 0, sizeof(ni));
	nmreq_header_init(&hdr, UNM_REQ_NIC_INFO, &ni);
	memcpy(hdr.nr_name, d->hdr.nr_name, sizeof(hdr.nr_name));
	if (ioctl(d->fd, NIOCCTRL, &hdr) < 0)
		return "unknown";
	return unm_nic_mode_desc(ni.mode);
}

/* put n frames on d's first TX ring and push them */
static void send_frames(struct nmport_d *d, unsigned n)
{
	struct netmap_ring *r = NETMAP_TXRING(d->nifp, d->first_tx_ring);
	unsigned i;

	for (i = 0; i < n && nm_ring_space(r); i++) {
		struct netmap_slot *s = &r->slot[r->head];
		char *b = NETMAP_BUF(r, s->buf_idx);

		memset(b, 0xff, 6);			/* broadcast */
		memcpy(b + 6, "\x02\x00\x00\x00\x00\x01", 6);
		b[12] = (char)0x88;			/* local experimental */
		b[13] = (char)0xb5;
		memset(b + 14, 0x5a, 46);
		s->len = 60;
		r->head = r->cur = nm_ring_next(r, r->head);
	}
	ioctl(d->fd, NIOCTXSYNC, NULL);
}

static unsigned drain_rx(struct nmport_d *d)
{
	unsigned got = 0, i;

	ioctl(d->fd, NIOCRXSYNC, NULL);
	for (i = d->first_rx_ring; i <= d->last_rx_ring; i++) {
		struct netmap_ring *r = NETMAP_RXRING(d->nifp, i);

		/* only our frames: the host stack may send its own (IPv6) */
		for (; r->head != r->tail; r->head = nm_ring_next(r, r->head)) {
			const char *b = NETMAP_BUF(r, r->slot[r->head].buf_idx);

			got += r->slot[r->head].len == 60 && b[12] == (char)0x88 &&
			       b[13] == (char)0xb5;
		}
		r->cur = r->head;
	}
	return got;
}

/* Every slot of every ring of the two ports (one NIC region: this
 * process's) owns a valid buffer of its own: netmapd frees exactly the
 * slots' buffers when a port goes, so a duplicate would be freed twice. */
static void check_buffers(struct nmport_d *a, struct nmport_d *b)
{
	struct nmport_d *d[2] = { a, b };
	uint32_t total = 0, dup = 0, bad = 0;
	unsigned char *seen;
	int k;

	CHECK(a->mem == b->mem, "the two ports share one region");
	seen = calloc(1u << 24, 1);
	REQUIRE(seen, "calloc");
	for (k = 0; k < 2; k++) {
		unsigned i, t;

		for (t = 0; t < 2; t++) {
			unsigned first = t ? d[k]->first_rx_ring : d[k]->first_tx_ring;
			unsigned last = t ? d[k]->last_rx_ring : d[k]->last_tx_ring;

			for (i = first; i <= last; i++) {
				struct netmap_ring *r = t ? NETMAP_RXRING(d[k]->nifp, i) :
							    NETMAP_TXRING(d[k]->nifp, i);
				unsigned j;

				for (j = 0; j < r->num_slots; j++) {
					uint32_t idx = r->slot[j].buf_idx;

					total++;
					if (idx < 2 || idx >= (1u << 24))
						bad++;
					else if (seen[idx]++)
						dup++;
				}
			}
		}
	}
	free(seen);
	CHECK(total > 0, "no slots");
	CHECK_EQ(bad, 0);
	CHECK_EQ(dup, 0);
}

int main(void)
{
	struct nmport_d *rx, *tx;
	unsigned got = 0;
	short rev;
	double t0, end;

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
	if (sh("ip link add nda0 type veth peer name ndb0") != 0 ||
	    sh("ip link set nda0 up") != 0 || sh("ip link set ndb0 up") != 0) {
		printf("skip: cannot create a veth pair (ip link add ... type veth)\n");
		return 77;
	}
	rx = nmport_open("netmap:ndb0");
	REQUIRE(rx, "open netmap:ndb0");
	/* a forced mode: the pair stays on AF_XDP instead of being linked
	 * ring to ring (the veth fast path, 67_veth_fastpath.sh) */
	tx = nmport_open("netmap:nda0@conf:nic=copy");
	REQUIRE(tx, "open netmap:nda0");
	printf("mode: ndb0 %s, nda0 %s\n", mode_name(rx), mode_name(tx));

	/* up: no error, frames flow */
	send_frames(tx, 8);
	end = t_now() + 3;
	while (got < 8 && t_now() < end) {
		wait_for(rx, POLLIN, POLLIN, 0.2);
		got += drain_rx(rx);
	}
	CHECK_EQ(got, 8);
	/* a few thousand more, then every buffer is still owned once */
	{
		unsigned sent = 0, k;

		got = 0;
		end = t_now() + 5;
		for (k = 0; k < 40 && t_now() < end; k++) {
			send_frames(tx, 500);
			sent += 500;
			while (got < sent && t_now() < end) {
				wait_for(rx, POLLIN, POLLIN, 0.2);
				got += drain_rx(rx);
			}
		}
		CHECK_EQ(got, sent);
		check_buffers(rx, tx);
	}

	/* down: POLLERR, syncs do not hang */
	t0 = t_now();
	CHECK(sh("ip link set ndb0 down") == 0, "ip link set down");
	rev = wait_for(rx, POLLIN, POLLERR, 3);
	CHECK(rev & POLLERR, "POLLERR after link down: revents %#x", rev);
	printf("link down seen in %.0f ms\n", (t_now() - t0) * 1e3);
	CHECK_EQ(ioctl(rx->fd, NIOCRXSYNC, NULL), 0);
	CHECK_EQ(ioctl(rx->fd, NIOCTXSYNC, NULL), 0);

	/* up again: the error goes away, frames flow again */
	CHECK(sh("ip link set ndb0 up") == 0, "ip link set up");
	end = t_now() + 3;
	do {
		rev = wait_for(rx, POLLIN, POLLERR, 0.1);
	} while ((rev & POLLERR) && t_now() < end);
	CHECK(!(rev & POLLERR), "still POLLERR after link up: revents %#x", rev);
	got = 0;
	drain_rx(rx);
	/* the veth peer needs its carrier back before it forwards */
	end = t_now() + 3;
	while (got < 8 && t_now() < end) {
		send_frames(tx, 8 - got);
		wait_for(rx, POLLIN, POLLIN, 0.2);
		got += drain_rx(rx);
	}
	CHECK(got >= 8, "frames after link up: %u", got);

	/* deleted: POLLERR on both ends, no crash, clean close */
	t0 = t_now();
	CHECK(sh("ip link del nda0") == 0, "ip link del");
	rev = wait_for(rx, POLLIN, POLLERR, 3);
	CHECK(rev & POLLERR, "POLLERR after delete (rx): revents %#x", rev);
	rev = wait_for(tx, POLLIN | POLLOUT, POLLERR, 3);
	CHECK(rev & POLLERR, "POLLERR after delete (tx): revents %#x", rev);
	printf("deletion seen in %.0f ms\n", (t_now() - t0) * 1e3);
	send_frames(tx, 4);	/* transmitting into the void is harmless */
	CHECK_EQ(ioctl(rx->fd, NIOCRXSYNC, NULL), 0);
	nmport_close(tx);
	nmport_close(rx);
	CHECK(nmport_open("netmap:ndb0") == NULL && errno == ENXIO,
	      "netmap:ndb0 after deletion: errno %d", errno);

	/* opened while down: errors from the start, gone once it is up */
	if (sh("ip link add nda1 type veth peer name ndb1") == 0) {
		rx = nmport_open("netmap:ndb1");
		REQUIRE(rx, "open netmap:ndb1 (down)");
		rev = wait_for(rx, POLLIN, POLLERR, 3);
		CHECK(rev & POLLERR, "POLLERR on a port opened down: revents %#x", rev);
		sh("ip link set nda1 up");
		sh("ip link set ndb1 up");
		end = t_now() + 3;
		do {
			rev = wait_for(rx, POLLIN, POLLERR, 0.1);
		} while ((rev & POLLERR) && t_now() < end);
		CHECK(!(rev & POLLERR), "still POLLERR once up: revents %#x", rev);
		nmport_close(rx);
	}
	return t_done("51_nic_down");
}

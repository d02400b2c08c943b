/*
 * 17_legacy_api - netmap's legacy API: nm_open() and friends, NIOCREGIF,
 * NIOCGINFO.
 *
 * Test objective: programs written against the pre-libnetmap API
 * (#define NETMAP_WITH_LIBS + <net/netmap_user.h>, struct nmreq) work
 * unchanged (netmap-facts §2.7, §3.4, §4.3):
 *   - nm_open() tells "not a netmap name" (NULL, errno 0) from errors;
 *     a child opened with NM_OPEN_NO_MMAP and a parent of the same region
 *     shares the parent's mapping and does not unmap it;
 *   - nm_inject() copies a packet into the TX ring (fragments of
 *     nr_buf_size with NS_MOREFRAG), returns its size, or 0 when full;
 *     after NIOCTXSYNC the other end reads the packets with nm_nextpkt()
 *     and nm_dispatch() (which aggregates fragments and calls back one
 *     packet late, the last one with flags 0);
 *   - NIOCREGIF accepts nr_version 14 and anything later, rejects 13,
 *     converts NR_REG_DEFAULT and NR_REG_PIPE_MASTER/SLAVE + ring id into
 *     the same ports as the new API, grants nr_arg3 extra buffers, returns
 *     the memory id in nr_arg2 and leaves nr_name, nr_ringid, nr_flags and
 *     nr_version as passed;
 *   - NIOCGINFO reports a port's geometry.
 *
 * Operations: pipes "l<pid>..." opened with nm_open() and with raw
 * NIOCREGIF in this process; packets travel through the shared region.
 *
 * Prints every failed check with the expected and actual value, then
 * "17_legacy_api: N checks, N failed"; exit status 0 if none failed, else 1.
 */
#define NETMAP_WITH_LIBS
#include <net/netmap_user.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define PROG "17_legacy_api"

#include "tcheck.h"

/* a legacy request for name (truncated to the 16-byte field) */
static void
req_init(struct nmreq *req, const char *name, uint32_t version,
	 uint32_t flags, uint16_t ringid)
{
	memset(req, 0, sizeof(*req));
	memcpy(req->nr_name, name, strnlen(name, sizeof(req->nr_name) - 1));
	req->nr_version = version;
	req->nr_flags = flags;
	req->nr_ringid = ringid;
}

/* ioctl with a legacy request: 0 or errno */
static int
legacy(int fd, unsigned long cmd, struct nmreq *req)
{
	errno = 0;
	if (ioctl(fd, cmd, req) == 0)
		return 0;
	return errno != 0 ? errno : -1;
}

/* deterministic packet contents: byte i of packet `seq` */
static unsigned char
pkt_byte(unsigned int seq, size_t i)
{
	return (unsigned char)(seq * 31u + i * 7u + (i >> 8));
}

static void
pkt_fill(unsigned char *buf, unsigned int seq, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pkt_byte(seq, i);
	if (len >= 4)
		memcpy(buf, &seq, 4);
}

/* Reassemble the packet starting at slot index `first` of an RX ring into
 * out; returns its length (slots followed while NS_MOREFRAG). */
static size_t
pkt_gather(struct netmap_ring *ring, uint32_t first, unsigned char *out,
	   size_t max)
{
	uint32_t i = first;
	size_t len = 0;

	for (;;) {
		struct netmap_slot *s = &ring->slot[i];

		if (len + s->len > max)
			return (size_t)-1;
		memcpy(out + len, NETMAP_BUF(ring, s->buf_idx), s->len);
		len += s->len;
		if (!(s->flags & NS_MOREFRAG))
			return len;
		i = nm_ring_next(ring, i);
	}
}

static int
pkt_check(const unsigned char *buf, unsigned int seq, size_t len)
{
	unsigned char want[8192];

	if (len > sizeof(want))
		return 0;
	pkt_fill(want, seq, len);
	return memcmp(buf, want, len) == 0;
}

/* ------------------------------------------------------------------ */

static void
test_not_netmap(void)
{
	static const char *names[] = { "eth0", "pcap:eth0", "", "netmap",
		"valx" };
	char name[64];
	struct nm_desc *d;
	unsigned int i;

	section = "nm_open names";
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		errno = EAGAIN;
		d = nm_open(names[i], NULL, 0, NULL);
		CHECK(d == NULL, "nm_open(\"%s\") succeeded", names[i]);
		CHECK(errno == 0, "nm_open(\"%s\"): errno %d (%s), want 0",
		    names[i], errno, strerror(errno));
		if (d != NULL)
			nm_close(d);
	}
	/* real errors have an errno */
	snprintf(name, sizeof(name), "netmap:%s{5000", prefix);
	errno = 0;
	d = nm_open(name, NULL, 0, NULL);
	CHECK(d == NULL && errno == EINVAL, "nm_open(%s): %p, errno %d, want "
	    "NULL, EINVAL", name, (void *)d, errno);
	errno = 0;
	d = nm_open("netmap:abcdefghijklmnopq{1", NULL, 0, NULL);
	CHECK(d == NULL && errno == EINVAL, "nm_open(too long): %p, errno %d, "
	    "want NULL, EINVAL", (void *)d, errno);
	errno = 0;
	d = nm_open("netmap:nosuchifc0", NULL, 0, NULL);
	CHECK(d == NULL && errno == ENXIO, "nm_open(netmap:nosuchifc0): %p, "
	    "errno %d, want NULL, ENXIO", (void *)d, errno);
	EQ(nm_close(NULL), EINVAL);
}

/* state of one nm_dispatch() round, for the callback */
struct disp {
	struct netmap_ring *ring;
	unsigned int ncb;
	size_t len[8], caplen[8];
	uint64_t flags[8];
	uint32_t first[8];	/* first slot of the packet */
	uint32_t head[8];	/* ring->head when the callback ran */
	int ok[8];		/* contents right */
	unsigned int seq0;	/* sequence number of the first packet */
};

static void
disp_cb(u_char *arg, const struct nm_pkthdr *h, const u_char *buf)
{
	struct disp *st = (struct disp *)(void *)arg;
	unsigned char tmp[8192];
	unsigned int k = st->ncb++;
	size_t l;

	if (k >= 8)
		return;
	st->len[k] = h->len;
	st->caplen[k] = h->caplen;
	st->flags[k] = h->flags;
	st->first[k] = (uint32_t)(h->slot - st->ring->slot);
	st->head[k] = st->ring->head;
	l = pkt_gather(st->ring, st->first[k], tmp, sizeof(tmp));
	st->ok[k] = l == h->len && buf == (const u_char *)NETMAP_BUF(st->ring,
	    h->slot->buf_idx) && pkt_check(tmp, st->seq0 + k, l) &&
	    h->d != NULL;
}

/* nm_open with a parent, nm_inject, nm_nextpkt, nm_dispatch, nm_close. */
static void
test_nm_functions(void)
{
	static const size_t sizes[] = { 60, 5000, 100, 1500 };
	unsigned char pkt[8192];
	struct nm_pkthdr hdr;
	struct nm_desc *a, *b;
	struct netmap_ring *tx, *rx;
	struct disp st;
	char an[64], bn[64];
	unsigned char *p;
	unsigned int i;
	uint32_t n;
	int r;

	section = "nm_*";
	snprintf(an, sizeof(an), "netmap:%s{3", prefix);
	snprintf(bn, sizeof(bn), "netmap:%s}3", prefix);
	a = nm_open(an, NULL, 0, NULL);
	if (a == NULL)
		DIE("nm_open(%s): %s", an, strerror(errno));
	b = nm_open(bn, NULL, NM_OPEN_NO_MMAP, a);
	if (b == NULL)
		DIE("nm_open(%s, NM_OPEN_NO_MMAP, parent): %s", bn,
		    strerror(errno));
	CHECK(a->self == a && b->self == b, "self pointers");
	EQ(a->done_mmap, 1);
	EQ(b->done_mmap, 0);
	CHECK(a->mem == b->mem, "child mapping %p, parent's %p", b->mem,
	    a->mem);
	EQ(b->memsize, a->memsize);
	EQ(b->req.nr_arg2, a->req.nr_arg2);
	CHECK(a->req.nr_arg2 != 0, "nr_arg2 (memory id) is 0");
	EQ(a->req.nr_memsize, a->memsize);
	EQ(a->first_tx_ring, 0);
	EQ(a->last_tx_ring, 0);
	EQ(b->first_rx_ring, 0);
	EQ(b->last_rx_ring, 0);
	EQ(a->req.nr_flags & NR_REG_MASK, NR_REG_PIPE_MASTER);
	EQ(a->req.nr_ringid, 3);
	CHECK(strcmp(a->req.nr_name, prefix) == 0, "nr_name \"%.16s\", want "
	    "\"%s\"", a->req.nr_name, prefix);
	CHECK(strcmp(a->nifp->ni_name, an + 7) == 0, "ni_name \"%.16s\", want "
	    "\"%s\"", a->nifp->ni_name, an + 7);
	CHECK(strcmp(b->nifp->ni_name, bn + 7) == 0, "ni_name \"%.16s\", want "
	    "\"%s\"", b->nifp->ni_name, bn + 7);
	CHECK(b->buf_start == a->buf_start, "buf_start differs");
	CHECK(b->some_ring != NULL, "some_ring is NULL");
	tx = NETMAP_TXRING(a->nifp, 0);
	rx = NETMAP_RXRING(b->nifp, 0);
	CHECK(b->some_ring == rx, "some_ring is not the RX ring");
	EQ(tx->nr_buf_size, 2048);

	/* inject: copies, fragments, no sync */
	for (i = 0; i < 4; i++) {
		pkt_fill(pkt, i, sizes[i]);
		EQ(nm_inject(a, pkt, sizes[i]), sizes[i]);
	}
	EQ(tx->head, 6);
	EQ(tx->cur, 6);
	EQ(tx->slot[0].len, 60);
	EQ(tx->slot[0].flags, 0);
	EQ(tx->slot[1].len, 2048);
	EQ(tx->slot[1].flags, NS_MOREFRAG);
	EQ(tx->slot[2].len, 2048);
	EQ(tx->slot[2].flags, NS_MOREFRAG);
	EQ(tx->slot[3].len, 5000 - 4096);
	EQ(tx->slot[3].flags, 0);
	EQ(tx->slot[5].len, 1500);
	/* nothing reaches the peer before a sync */
	EQ(ioctl(b->fd, NIOCRXSYNC, NULL), 0);
	EQ(rx->tail, 0);
	EQ(ioctl(a->fd, NIOCTXSYNC, NULL), 0);
	EQ(ioctl(b->fd, NIOCRXSYNC, NULL), 0);
	EQ(rx->tail, 6);

	/* nm_nextpkt: the first packet */
	memset(&hdr, 0, sizeof(hdr));
	p = nm_nextpkt(b, &hdr);
	CHECK(p != NULL, "nm_nextpkt returned NULL");
	if (p != NULL) {
		EQ(hdr.len, 60);
		EQ(hdr.caplen, 60);
		CHECK(pkt_check(p, 0, 60), "nm_nextpkt: wrong contents");
	}
	EQ(rx->head, 1);
	EQ(rx->cur, 1);

	/* nm_dispatch: the other three, one callback late */
	memset(&st, 0, sizeof(st));
	st.ring = rx;
	st.seq0 = 1;
	r = nm_dispatch(b, 0, disp_cb, (u_char *)&st);
	EQ(r, 3);
	EQ(st.ncb, 3);
	for (i = 0; i < 3 && i < st.ncb; i++) {
		CHECK(st.ok[i], "nm_dispatch packet %u: wrong contents", i + 1);
		EQ(st.len[i], sizes[i + 1]);
		CHECK(st.caplen[i] <= st.len[i] && st.caplen[i] >=
		    (st.len[i] < 2048 ? st.len[i] : 2048),
		    "packet %u: caplen %zu, len %zu", i + 1, st.caplen[i],
		    st.len[i]);
		EQ(st.flags[i], i < 2 ? NM_MORE_PKTS : 0);
	}
	EQ(st.first[0], 1);
	EQ(st.first[1], 4);
	EQ(st.first[2], 5);
	/* each packet's slots are released before its callback runs, and
	 * the callback comes only once the next packet has been seen (hence
	 * NM_MORE_PKTS above, and flags 0 for the last) */
	EQ(st.head[0], 4);
	EQ(st.head[1], 5);
	EQ(st.head[2], 6);
	EQ(st.caplen[1], 100);
	EQ(st.caplen[2], 1500);
	EQ(rx->head, 6);
	EQ(rx->cur, 6);
	/* empty now */
	memset(&st, 0, sizeof(st));
	st.ring = rx;
	EQ(nm_dispatch(b, 0, disp_cb, (u_char *)&st), 0);
	EQ(st.ncb, 0);
	CHECK(nm_nextpkt(b, &hdr) == NULL, "nm_nextpkt on an empty ring");

	/* a count limit */
	for (i = 0; i < 5; i++) {
		pkt_fill(pkt, 10 + i, 64 + i);
		EQ(nm_inject(a, pkt, 64 + i), 64 + i);
	}
	EQ(ioctl(a->fd, NIOCTXSYNC, NULL), 0);
	EQ(ioctl(b->fd, NIOCRXSYNC, NULL), 0);
	memset(&st, 0, sizeof(st));
	st.ring = rx;
	st.seq0 = 10;
	EQ(nm_dispatch(b, 2, disp_cb, (u_char *)&st), 2);
	EQ(st.ncb, 2);
	EQ(st.flags[0], NM_MORE_PKTS);
	EQ(st.flags[1], 0);
	CHECK(st.ok[0] && st.ok[1], "limited nm_dispatch: wrong contents");
	memset(&st, 0, sizeof(st));
	st.ring = rx;
	st.seq0 = 12;
	EQ(nm_dispatch(b, -1, disp_cb, (u_char *)&st), 3);
	EQ(st.ncb, 3);
	EQ(st.len[2], 68);
	CHECK(st.ok[0] && st.ok[1] && st.ok[2],
	    "second nm_dispatch: wrong contents");

	/* the other direction, b's TX through a's mapping */
	pkt_fill(pkt, 99, 200);
	EQ(nm_inject(b, pkt, 200), 200);
	EQ(ioctl(b->fd, NIOCTXSYNC, NULL), 0);
	EQ(ioctl(a->fd, NIOCRXSYNC, NULL), 0);
	p = nm_nextpkt(a, &hdr);
	CHECK(p != NULL && hdr.len == 200 && pkt_check(p, 99, 200),
	    "b -> a: packet missing or wrong");

	/* a full ring: inject gives 0.  b returns what it read, a reclaims */
	EQ(ioctl(b->fd, NIOCRXSYNC, NULL), 0);
	EQ(ioctl(a->fd, NIOCTXSYNC, NULL), 0);
	EQ(nm_ring_space(tx), tx->num_slots - 1);
	n = 0;
	memset(pkt, 0xab, 60);
	while (n < 2 * tx->num_slots && nm_inject(a, pkt, 60) == 60)
		n++;
	EQ(n, tx->num_slots - 1);
	EQ(nm_inject(a, pkt, 60), 0);

	/* closing the child leaves the parent's mapping alone */
	EQ(nm_close(b), 0);
	CHECK(strcmp(a->nifp->ni_name, an + 7) == 0,
	    "parent's mapping unusable after closing the child");
	EQ(tx->num_slots, 1024);
	EQ(nm_close(a), 0);
}

/* NIOCREGIF directly (ctrl-api-test legacy_regif_*). */
static void
test_niocregif(void)
{
	struct nmreq req, r2;
	struct nmreq_header h;
	struct nmreq_register reg;
	struct netmap_if *nifp, *snifp;
	struct netmap_ring *ring, *srx;
	char name[40], *mem, *smem;
	uint32_t idx, n;
	int fd, fd2, fd3, e;

	section = "NIOCREGIF";
	/* versions 14, 15, 16 (anything >= 14) */
	{
		static const uint32_t versions[] = { 14, 15, 16 };
		unsigned int i;

		for (i = 0; i < 3; i++) {
			char sfx[16];

			snprintf(sfx, sizeof(sfx), "{v%u", versions[i]);
			fd = dev_open();
			req_init(&req, pname(name, sizeof(name), sfx),
			    versions[i], NR_REG_ALL_NIC, NETMAP_NO_TX_POLL);
			e = legacy(fd, NIOCREGIF, &req);
			CHECK(e == 0, "NIOCREGIF version %u: %s", versions[i],
			    strerror(e));
			EQ(req.nr_version, versions[i]);
			EQ(req.nr_ringid, NETMAP_NO_TX_POLL);
			EQ(req.nr_flags, NR_REG_ALL_NIC);
			CHECK(strcmp(req.nr_name, name) == 0, "nr_name "
			    "\"%.16s\", want \"%s\"", req.nr_name, name);
			CHECK(req.nr_memsize != 0, "nr_memsize is 0");
			CHECK(req.nr_offset < req.nr_memsize, "nr_offset %u, "
			    "nr_memsize %u", req.nr_offset, req.nr_memsize);
			CHECK(req.nr_arg2 != 0, "nr_arg2 (memory id) is 0");
			EQ(req.nr_arg3, 0);
			EQ(req.nr_tx_slots, 1024);
			EQ(req.nr_rx_slots, 1024);
			EQ(req.nr_tx_rings, 1);
			EQ(req.nr_rx_rings, 1);
			EQ(req.nr_cmd, 0);
			/* bound once */
			r2 = req;
			ERR(legacy(fd, NIOCREGIF, &r2), EBUSY);
			close(fd);
		}
	}
	fd = dev_open();
	req_init(&req, pname(name, sizeof(name), "{v13"), 13, NR_REG_ALL_NIC,
	    0);
	ERR(legacy(fd, NIOCREGIF, &req), EINVAL);
	req_init(&req, name, 0, NR_REG_ALL_NIC, 0);
	ERR(legacy(fd, NIOCREGIF, &req), EINVAL);
	/* pipes have no host rings */
	req_init(&req, name, NETMAP_API, NR_REG_NIC_SW, 0);
	ERR(legacy(fd, NIOCREGIF, &req), EINVAL);
	/* NR_REG_DEFAULT means all rings, and is left as passed */
	req_init(&req, name, NETMAP_API, NR_REG_DEFAULT, 0);
	ERR(legacy(fd, NIOCREGIF, &req), 0);
	EQ(req.nr_flags, 0);
	EQ(req.nr_tx_rings, 1);
	close(fd);

	/* extra buffers through nr_arg3 */
	fd = dev_open();
	req_init(&req, pname(name, sizeof(name), "{xb"), NETMAP_API,
	    NR_REG_ALL_NIC, 0);
	req.nr_arg3 = 20;
	ERR(legacy(fd, NIOCREGIF, &req), 0);
	EQ(req.nr_arg3, 20);
	mem = mmap(NULL, req.nr_memsize, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (mem == MAP_FAILED)
		DIE("mmap: %s", strerror(errno));
	nifp = NETMAP_IF(mem, req.nr_offset);
	ring = NETMAP_TXRING(nifp, 0);
	n = 0;
	for (idx = nifp->ni_bufs_head; idx >= 2 && n < 40; n++)
		memcpy(&idx, NETMAP_BUF(ring, idx), sizeof(idx));
	EQ(n, 20);
	EQ(idx, 0);
	munmap(mem, req.nr_memsize);
	close(fd);

	/* NR_REG_PIPE_MASTER / SLAVE + ring id N = the pipe "NAME{N" */
	fd = dev_open();
	req_init(&req, pname(name, sizeof(name), "P"), NETMAP_API,
	    NR_REG_PIPE_MASTER, 7);
	req.nr_arg3 = 5;
	ERR(legacy(fd, NIOCREGIF, &req), 0);
	CHECK(strcmp(req.nr_name, name) == 0, "nr_name \"%.16s\", want "
	    "\"%s\"", req.nr_name, name);
	EQ(req.nr_ringid, 7);
	EQ(req.nr_flags, NR_REG_PIPE_MASTER);
	EQ(req.nr_arg3, 5);
	fd2 = dev_open();
	req_init(&r2, name, NETMAP_API, NR_REG_PIPE_SLAVE, 7);
	ERR(legacy(fd2, NIOCREGIF, &r2), 0);
	EQ(r2.nr_arg2, req.nr_arg2);
	EQ(r2.nr_ringid, 7);
	EQ(r2.nr_flags, NR_REG_PIPE_SLAVE);
	/* nr_arg2 is the memory id the new API reports for "NAME{7" */
	fd3 = dev_open();
	{
		struct nmreq_port_info_get pi;

		memset(&pi, 0, sizeof(pi));
		memset(&h, 0, sizeof(h));
		h.nr_version = NETMAP_API;
		h.nr_reqtype = NETMAP_REQ_PORT_INFO_GET;
		h.nr_body = (uintptr_t)&pi;
		snprintf(h.nr_name, sizeof(h.nr_name), "%s{7", name);
		EQ(ioctl(fd3, NIOCCTRL, &h), 0);
		EQ(pi.nr_mem_id, req.nr_arg2);
		EQ(pi.nr_memsize, req.nr_memsize);
	}
	/* the master end is taken: an exclusive "NAME{7" must fail */
	memset(&reg, 0, sizeof(reg));
	reg.nr_mode = NR_REG_ALL_NIC;
	reg.nr_flags = NR_EXCLUSIVE;
	memset(&h, 0, sizeof(h));
	h.nr_version = NETMAP_API;
	h.nr_reqtype = NETMAP_REQ_REGISTER;
	h.nr_body = (uintptr_t)&reg;
	snprintf(h.nr_name, sizeof(h.nr_name), "%s{7", name);
	errno = 0;
	EQ(ioctl(fd3, NIOCCTRL, &h), -1);
	ERR(errno, EBUSY);
	close(fd3);

	mem = mmap(NULL, req.nr_memsize, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	smem = mmap(NULL, r2.nr_memsize, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd2, 0);
	if (mem == MAP_FAILED || smem == MAP_FAILED)
		DIE("mmap: %s", strerror(errno));
	nifp = NETMAP_IF(mem, req.nr_offset);
	snifp = NETMAP_IF(smem, r2.nr_offset);
	{
		char want[48];

		snprintf(want, sizeof(want), "%s{7", name);
		CHECK(strcmp(nifp->ni_name, want) == 0, "ni_name \"%.16s\", "
		    "want \"%s\"", nifp->ni_name, want);
		snprintf(want, sizeof(want), "%s}7", name);
		CHECK(strcmp(snifp->ni_name, want) == 0, "ni_name \"%.16s\", "
		    "want \"%s\"", snifp->ni_name, want);
	}
	/* master -> slave */
	ring = NETMAP_TXRING(nifp, 0);
	srx = NETMAP_RXRING(snifp, 0);
	memcpy(NETMAP_BUF(ring, ring->slot[0].buf_idx), "legacy pipe", 12);
	ring->slot[0].len = 12;
	ring->head = ring->cur = 1;
	EQ(ioctl(fd, NIOCTXSYNC, NULL), 0);
	EQ(ioctl(fd2, NIOCRXSYNC, NULL), 0);
	EQ(srx->tail, 1);
	EQ(srx->slot[0].len, 12);
	CHECK(memcmp(NETMAP_BUF(srx, srx->slot[0].buf_idx), "legacy pipe",
	    12) == 0, "slave received the wrong bytes");
	munmap(mem, req.nr_memsize);
	munmap(smem, r2.nr_memsize);

	/* NIOCGINFO on an unbound descriptor */
	fd3 = dev_open();
	{
		char pn[48];

		snprintf(pn, sizeof(pn), "%s{7", name);
		req_init(&r2, pn, NETMAP_API, 0, 0);
	}
	ERR(legacy(fd3, NIOCGINFO, &r2), 0);
	EQ(r2.nr_memsize, req.nr_memsize);
	EQ(r2.nr_arg2, req.nr_arg2);
	EQ(r2.nr_tx_slots, 1024);
	EQ(r2.nr_rx_slots, 1024);
	EQ(r2.nr_tx_rings, 1);
	EQ(r2.nr_rx_rings, 1);
	req_init(&r2, "nosuchifc0", NETMAP_API, 0, 0);
	ERR(legacy(fd3, NIOCGINFO, &r2), ENXIO);
	req_init(&r2, "x{1", 13, 0, 0);
	ERR(legacy(fd3, NIOCGINFO, &r2), EINVAL);
	/* and NIOCGINFO did not bind it */
	errno = 0;
	EQ(ioctl(fd3, NIOCTXSYNC, NULL), -1);
	ERR(errno, ENXIO);
	close(fd3);
	close(fd2);
	close(fd);
}

int
main(void)
{
	snprintf(prefix, sizeof(prefix), "l%d", (int)(getpid() % 100000));

	test_not_netmap();
	test_nm_functions();
	test_niocregif();

	printf(PROG ": %u checks, %u failed\n", n_checks, n_failed);
	return n_failed == 0 ? 0 : 1;
}

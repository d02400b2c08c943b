/*
 * 40_vale_ctl - VALE control requests, names and port life cycle.
 *
 * Test objective: netmap's answers for VALE ports: REGISTER of good and
 * bad names (errno table), @conf ring and slot counts (clamped to 16 and
 * 4096), no host rings, several descriptors on one port and NR_EXCLUSIVE,
 * PORT_INFO_GET / POOLS_INFO_GET / PORT_HDR_SET+GET (and EIO without
 * NR_ACCEPT_VNET_HDR), VALE_LIST lookups and enumeration, POLLING on VALE
 * ports (EOPNOTSUPP), pipes on VALE port names sharing the port's region
 * (creating the port when it does not exist, which then lives as long as
 * its pipes), and frames forwarded between ports that use virtio-net
 * headers of different lengths.
 *
 * Operations: requests on fresh /dev/netmap descriptors and nmport_open()
 * on switch vale40x (and a few others); no traffic besides the header
 * conversion check.
 */
#include "40_vale_util.h"

static int ctl(uint16_t type, const char *name, void *body)
{
	struct nmreq_header hdr;
	int fd = open("/dev/netmap", O_RDWR), rc;

	CHECK(fd >= 0, "open /dev/netmap");
	nmreq_header_init(&hdr, type, body);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", name);
	rc = ioctl(fd, NIOCCTRL, &hdr) < 0 ? errno : 0;
	close(fd);
	return rc;
}

/* REGISTER `name` with this mode and flags; returns 0 or errno; on
 * success the descriptor is kept open in *out (if out) or closed. */
static int reg(const char *name, uint32_t mode, uint64_t flags, int *out,
	       struct nmreq_register *back)
{
	struct nmreq_header hdr;
	struct nmreq_register r;
	int fd = open("/dev/netmap", O_RDWR), rc;

	CHECK(fd >= 0, "open /dev/netmap");
	memset(&r, 0, sizeof(r));
	r.nr_mode = mode;
	r.nr_flags = flags;
	if (back)
		r = *back, r.nr_mode = mode, r.nr_flags = flags;
	nmreq_header_init(&hdr, NETMAP_REQ_REGISTER, &r);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", name);
	rc = ioctl(fd, NIOCCTRL, &hdr) < 0 ? errno : 0;
	if (back)
		*back = r;
	if (rc == 0 && out)
		*out = fd;
	else
		close(fd);
	return rc;
}

static void names(void)
{
	static const struct { const char *name; uint32_t mode; int err; } t[] = {
		{ "vale40x:ok", NR_REG_ALL_NIC, 0 },
		{ "vale40x:ok", NR_REG_ONE_NIC, 0 },
		{ "vale:x", NR_REG_ALL_NIC, 0 },		/* switch "vale" */
		{ "valX:x", NR_REG_ALL_NIC, 0 },		/* "val" is enough */
		{ "vale40x:", NR_REG_ALL_NIC, EINVAL },		/* no port name */
		{ "vale-1:x", NR_REG_ALL_NIC, EINVAL },		/* bad switch char */
		{ "vale0123456789ab:x", NR_REG_ALL_NIC, EINVAL }, /* switch >= 16 */
		{ "vale40x:0123456789abcdef", NR_REG_ALL_NIC, EINVAL }, /* port >= 16 */
		{ "vale40x:lo", NR_REG_ALL_NIC, EINVAL },	/* a system interface */
		{ "vale40x:ok", NR_REG_SW, EINVAL },		/* no host rings */
		{ "vale40x:ok", NR_REG_NIC_SW, EINVAL },
		{ "vale40x:ok", NR_REG_ONE_SW, EINVAL },
		{ "nosuchport40", NR_REG_ALL_NIC, ENXIO },
	};
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int e = reg(t[i].name, t[i].mode, 0, NULL, NULL);

		CHECK(e == t[i].err, "REGISTER %s mode %u: %s, expected %s", t[i].name, t[i].mode,
		      strerror(e), strerror(t[i].err));
	}
	printf("ok: %u REGISTER name/mode cases\n", i);
}

static void conf(void)
{
	struct nmport_d *d = vt_open("vale40x:conf@conf:tx_rings=3,rx_rings=2,tx_slots=512,rx_slots=2048");
	struct nmport_d *e = vt_open("vale40x:big@conf:rings=40,slots=9000");
	struct nmport_d *d2;

	CHECK(d->reg.nr_tx_rings == 3 && d->reg.nr_rx_rings == 2 && d->reg.nr_tx_slots == 512 &&
	      d->reg.nr_rx_slots == 2048 && d->reg.nr_host_tx_rings == 0,
	      "conf: %u/%u rings %u/%u slots", d->reg.nr_tx_rings, d->reg.nr_rx_rings,
	      d->reg.nr_tx_slots, d->reg.nr_rx_slots);
	CHECK(e->reg.nr_tx_rings == 16 && e->reg.nr_rx_rings == 16 && e->reg.nr_tx_slots == 4096,
	      "clamped: %u rings %u slots", e->reg.nr_tx_rings, e->reg.nr_tx_slots);
	/* a second descriptor: same port, same region, its counts win */
	d2 = vt_open("vale40x:conf@conf:rings=1");
	CHECK(d2->reg.nr_tx_rings == 3 && d2->reg.nr_mem_id == d->reg.nr_mem_id,
	      "second open: %u rings, region %u vs %u", d2->reg.nr_tx_rings, d2->reg.nr_mem_id,
	      d->reg.nr_mem_id);
	/* one ring per descriptor, as netmap allows */
	nmport_close(d2);
	d2 = vt_open("vale40x:conf-2");
	CHECK(d2->first_tx_ring == 2 && d2->last_tx_ring == 2, "ring 2 only: %u..%u",
	      d2->first_tx_ring, d2->last_tx_ring);
	nmport_close(d2);
	nmport_close(e);
	nmport_close(d);
	printf("ok: @conf counts, clamping, shared port, one-ring binding\n");
}

static void exclusive(void)
{
	int fd1, fd2;

	CHECK(reg("vale40x:ex", NR_REG_ALL_NIC, NR_EXCLUSIVE, &fd1, NULL) == 0, "exclusive open");
	CHECK(reg("vale40x:ex", NR_REG_ALL_NIC, 0, NULL, NULL) == EBUSY, "second open not EBUSY");
	close(fd1);
	CHECK(reg("vale40x:ex", NR_REG_ALL_NIC, 0, &fd1, NULL) == 0, "open after close");
	CHECK(reg("vale40x:ex", NR_REG_ALL_NIC, 0, &fd2, NULL) == 0, "second shared open");
	CHECK(reg("vale40x:ex", NR_REG_ALL_NIC, NR_EXCLUSIVE, NULL, NULL) == EBUSY,
	      "exclusive open of a busy port not EBUSY");
	close(fd1);
	close(fd2);
	printf("ok: NR_EXCLUSIVE\n");
}

static void info(void)
{
	struct nmreq_port_info_get pi;
	struct nmreq_pools_info po;
	struct nmreq_port_hdr ph;
	struct nmreq_register r;
	int fd, fd2;

	memset(&pi, 0, sizeof(pi));
	CHECK(ctl(NETMAP_REQ_PORT_INFO_GET, "vale40x:none", &pi) == 0, "info of a new port");
	CHECK(pi.nr_tx_rings == 1 && pi.nr_rx_slots == 1024 && pi.nr_memsize > 0,
	      "defaults: %u rings %u slots", pi.nr_tx_rings, pi.nr_rx_slots);
	CHECK(vt_port_idx("vale40x:none") == -ENOENT, "PORT_INFO_GET created a switch");
	memset(&po, 0, sizeof(po));
	/* netmap answers for a port it would create (ctrl-api-test case 12):
	 * the layout of such a region, mem_id 0 as it does not exist yet */
	CHECK(ctl(NETMAP_REQ_POOLS_INFO_GET, "vale40x:none", &po) == 0, "pools of a new port");
	CHECK(po.nr_mem_id == 0 && po.nr_memsize && po.nr_if_pool_objtotal &&
	      po.nr_ring_pool_objtotal && po.nr_buf_pool_objtotal && po.nr_buf_pool_objsize,
	      "pools of a new port: mem_id %u memsize %llu", po.nr_mem_id,
	      (unsigned long long)po.nr_memsize);
	CHECK(vt_port_idx("vale40x:none") == -ENOENT, "POOLS_INFO_GET created a switch");

	memset(&r, 0, sizeof(r));
	CHECK(reg("vale40x:i", NR_REG_ALL_NIC, 0, &fd, &r) == 0, "open");
	memset(&pi, 0, sizeof(pi));
	CHECK(ctl(NETMAP_REQ_PORT_INFO_GET, "vale40x:i", &pi) == 0, "info");
	CHECK(pi.nr_mem_id == r.nr_mem_id && pi.nr_memsize == r.nr_memsize, "info: region %u",
	      pi.nr_mem_id);
	memset(&po, 0, sizeof(po));
	CHECK(ctl(NETMAP_REQ_POOLS_INFO_GET, "vale40x:i", &po) == 0, "pools");
	CHECK(po.nr_mem_id == r.nr_mem_id && po.nr_buf_pool_objsize == 2048 &&
	      po.nr_buf_pool_objtotal > 2048, "pools: %u bufs of %u", po.nr_buf_pool_objtotal,
	      po.nr_buf_pool_objsize);

	/* virtio-net header lengths */
	ph.nr_hdr_len = 12;
	CHECK(ctl(NETMAP_REQ_PORT_HDR_SET, "vale40x:i", &ph) == 0, "hdr set 12");
	ph.nr_hdr_len = 0;
	CHECK(ctl(NETMAP_REQ_PORT_HDR_GET, "vale40x:i", &ph) == 0 && ph.nr_hdr_len == 12,
	      "hdr get %u", ph.nr_hdr_len);
	ph.nr_hdr_len = 11;
	CHECK(ctl(NETMAP_REQ_PORT_HDR_SET, "vale40x:i", &ph) == EINVAL, "hdr 11 accepted");
	ph.nr_hdr_len = 10;
	CHECK(ctl(NETMAP_REQ_PORT_HDR_SET, "vale40x:nope", &ph) == ENXIO, "hdr set on nothing");
	CHECK(reg("vale40x:i", NR_REG_ALL_NIC, 0, NULL, NULL) == EIO,
	      "REGISTER without NR_ACCEPT_VNET_HDR");
	CHECK(reg("vale40x:i", NR_REG_ALL_NIC, NR_ACCEPT_VNET_HDR, &fd2, NULL) == 0,
	      "REGISTER with NR_ACCEPT_VNET_HDR");
	close(fd2);
	ph.nr_hdr_len = 0;
	CHECK(ctl(NETMAP_REQ_PORT_HDR_SET, "vale40x:i", &ph) == 0, "hdr set 0");
	/* @N: an existing region; a wrong one for an existing port */
	{
		char name[64];

		snprintf(name, sizeof(name), "vale40x:i@%u", r.nr_mem_id + 1000);
		CHECK(nmport_open(name) == NULL && errno == EINVAL, "wrong region accepted");
	}
	close(fd);
	printf("ok: PORT_INFO_GET, POOLS_INFO_GET, PORT_HDR_SET/GET\n");
}

static void list(void)
{
	struct nmreq_vale_list l;
	struct nmreq_vale_polling pl;
	int fd1, fd2;

	CHECK(reg("vale40x:l1", NR_REG_ALL_NIC, 0, &fd1, NULL) == 0, "open l1");
	CHECK(reg("vale40x:l2", NR_REG_ALL_NIC, 0, &fd2, NULL) == 0, "open l2");
	memset(&l, 0, sizeof(l));
	CHECK(ctl(NETMAP_REQ_VALE_LIST, "vale40x:l2", &l) == 0, "lookup");
	CHECK(l.nr_port_idx == 1, "l2 index %u", l.nr_port_idx);
	CHECK(ctl(NETMAP_REQ_VALE_LIST, "vale40x:zz", &l) == 0 && l.nr_port_idx == NM_BDG_NOPORT,
	      "missing port: %u", l.nr_port_idx);
	CHECK(ctl(NETMAP_REQ_VALE_LIST, "vale40y:zz", &l) == ENOENT, "missing switch");
	CHECK(ctl(NETMAP_REQ_VALE_LIST, "foo:zz", &l) == EINVAL, "not a VALE name");
	memset(&pl, 0, sizeof(pl));
	pl.nr_mode = NETMAP_POLLING_MODE_SINGLE_CPU;
	pl.nr_num_polling_cpus = 1;
	CHECK(ctl(NETMAP_REQ_VALE_POLLING_ENABLE, "vale40x:l1", &pl) == EOPNOTSUPP,
	      "polling on a VALE port");
	CHECK(ctl(NETMAP_REQ_VALE_POLLING_DISABLE, "vale40x:l1", &pl) == EOPNOTSUPP,
	      "polling off on a VALE port");
	CHECK(ctl(NETMAP_REQ_VALE_POLLING_ENABLE, "foo", &pl) == EINVAL, "polling on foo");
	close(fd1);
	close(fd2);
	CHECK(vt_port_idx("vale40x:l1") == -ENOENT, "the switch outlived its ports");
	printf("ok: VALE_LIST, POLLING\n");
}

static void pipes(void)
{
	struct nmport_d *p, *m, *s;

	/* pipes on an existing port share its region */
	p = vt_open("vale40x:pp");
	m = vt_open("vale40x:pp{1");
	s = vt_open("vale40x:pp}1");
	CHECK(m->reg.nr_mem_id == p->reg.nr_mem_id && s->reg.nr_mem_id == p->reg.nr_mem_id,
	      "pipe regions %u %u, port %u", m->reg.nr_mem_id, s->reg.nr_mem_id, p->reg.nr_mem_id);
	/* the port lives while its pipes do */
	nmport_close(p);
	CHECK(vt_port_idx("vale40x:pp") != NM_BDG_NOPORT, "port gone while its pipes are open");
	CHECK(nmport_inject(m, "0123456789abcdef", 16) == 16, "inject");
	CHECK(ioctl(m->fd, NIOCTXSYNC, NULL) == 0, "txsync");
	CHECK(vt_recv(s, (uint8_t[64]){ 0 }, 64, 1000, NULL, NULL) == 16, "pipe transfer");
	nmport_close(m);
	nmport_close(s);
	CHECK(vt_port_idx("vale40x:pp") < 0 || vt_port_idx("vale40x:pp") == NM_BDG_NOPORT,
	      "port outlived its pipes");

	/* pipes on a port that does not exist create it */
	m = vt_open("vale40z:new{x");
	CHECK(vt_port_idx("vale40z:new") >= 0 && vt_port_idx("vale40z:new") != NM_BDG_NOPORT,
	      "the pipe did not create its VALE parent");
	p = vt_open("vale40z:new");
	CHECK(p->reg.nr_mem_id == m->reg.nr_mem_id, "regions %u %u", p->reg.nr_mem_id,
	      m->reg.nr_mem_id);
	nmport_close(p);
	nmport_close(m);
	CHECK(vt_port_idx("vale40z:new") == -ENOENT, "switch vale40z outlived the pipe");
	printf("ok: pipes on VALE port names\n");
}

/* A port with a 12-byte virtio-net header talks to one without. */
static void vnet(void)
{
	struct nmreq_port_hdr ph = { .nr_hdr_len = 12 };
	struct nmport_d *v, *n;
	uint8_t f[100], buf[256], mv[6], mn[6];
	int len;

	n = vt_open("vale40v:plain");
	v = vt_open("vale40v:virt");
	CHECK(ctl(NETMAP_REQ_PORT_HDR_SET, "vale40v:virt", &ph) == 0, "hdr set");
	vt_mac(mv, 0x7e);
	vt_mac(mn, 0x7f);
	/* v -> n: v's frame starts with 12 header bytes, n gets none */
	memset(f, 0xee, 12);
	vt_frame(f + 12, 60, mn, mv, 0x12, 1);
	vt_send(v, f, 72);
	len = vt_recv(n, buf, sizeof(buf), 1000, NULL, NULL);
	CHECK(len == 60 && vt_frame_ok(buf, 60, 0x12, 1), "n got %d bytes", len);
	/* n -> v: v gets a zeroed 12-byte header in front */
	vt_frame(f, 60, mv, mn, 0x12, 2);
	vt_send(n, f, 60);
	len = vt_recv(v, buf, sizeof(buf), 1000, NULL, NULL);
	CHECK(len == 72 && vt_frame_ok(buf + 12, 60, 0x12, 2) &&
	      memcmp(buf, (uint8_t[12]){ 0 }, 12) == 0, "v got %d bytes", len);
	nmport_close(v);
	nmport_close(n);
	printf("ok: virtio-net header lengths converted between ports\n");
}

/* Rings of 1 and 2 slots: nothing breaks, and 2 slots carry a frame. */
static void tiny(void)
{
	struct nmport_d *a = vt_open("vale40s:a@conf:slots=2");
	struct nmport_d *b = vt_open("vale40s:b@conf:slots=2");
	struct nmport_d *c = vt_open("vale40s:c@conf:slots=1");
	uint8_t f[60], buf[128], src[6];
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	int k;

	CHECK(a->reg.nr_tx_slots == 2 && c->reg.nr_rx_slots == 1, "slots %u %u",
	      a->reg.nr_tx_slots, c->reg.nr_rx_slots);
	vt_mac(src, 0x2a);
	for (k = 0; k < 5; k++) {
		vt_frame(f, sizeof(f), bcast, src, 0x22, (uint32_t)k);
		vt_send(a, f, sizeof(f));
		CHECK(vt_recv(b, buf, sizeof(buf), 1000, NULL, NULL) == 60 &&
		      vt_frame_ok(buf, 60, 0x22, (uint32_t)k), "2-slot ring: frame %d", k);
		CHECK(vt_drain(c) == 0, "a 1-slot ring received something");
		/* hand the one usable slot back before the next frame */
		CHECK(ioctl(b->fd, NIOCRXSYNC, NULL) == 0, "rxsync");
	}
	CHECK(ioctl(c->fd, NIOCTXSYNC, NULL) == 0, "txsync on a 1-slot ring");
	nmport_close(c);
	nmport_close(b);
	nmport_close(a);
	printf("ok: rings of 1 and 2 slots\n");
}

static void stats(void)
{
	struct unm_vale_stats st;

	CHECK(vt_stats("vale40x:nothere", &st) == ENXIO, "stats of nothing");
	CHECK(vt_stats("null:x", &st) == ENXIO || vt_stats("null:x", &st) == EINVAL,
	      "stats of a null port");
	printf("ok: counters request errors\n");
}

int main(void)
{
	names();
	conf();
	exclusive();
	info();
	list();
	pipes();
	vnet();
	tiny();
	stats();
	return 0;
}

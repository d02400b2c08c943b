/*
 * 78_vhost_vale - VM ports: VALE switch ports that are vhost-user sockets
 * served by netmapd, with this process playing QEMU and the guest's
 * virtio-net driver (tests/integration/vu_harness.h), no VM needed.
 *
 * Test objective:
 *  - control: UNM_REQ_VALE_VHOST creates a port in its switch (listed by
 *    VALE_LIST, described by INFO); relative paths, features outside the
 *    offer, unknown ops or flags, bad names, an existing port and a socket
 *    somebody serves are refused; the port cannot be opened (REGISTER,
 *    PORT_INFO_GET: EBUSY), nor can pipes on its name, headers be set on
 *    it, or it be detached;
 *  - guest <-> netmap port: exact frames of 60..9000 bytes both ways in
 *    every descriptor layout (one, header apart, split, indirect), through
 *    an echo on a netmap port of the switch: a guest frame lands packed in
 *    the fewest slots (NS_MOREFRAG beyond 2048 bytes), a netmap chain
 *    reaches the guest whole; default QEMU features and VERSION_1 alone;
 *  - the device's pause while frames flow (SET_MEM_TABLE again), a guest
 *    that disconnects and comes back, and client mode (netmapd connects to
 *    our socket, and again after we drop it);
 *  - exact counters (UNM_REQ_VALE_STATS) for the frames above;
 *  - guest <-> guest through two VM ports (frames copied from one guest's
 *    memory into the other's), mixed features;
 *  - the same through a loaded VALE module (the learning bridge as a
 *    module): it decides for VM ports' frames too, counted exactly;
 *  - hostile guests and QEMUs, through netmapd: descriptors outside guest
 *    memory (the port is marked broken, counted, and works after a
 *    reset), random bytes over the rings while frames flow both ways,
 *    random message streams (connection closed, counted); netmapd survives
 *    (the runner checks) and the port works afterwards;
 *  - VALE_DELIF removes the port while a QEMU is connected: the
 *    connection closes, the socket file goes.
 * Operations: one process against the runner's netmapd: a switch and
 * socket directory of its own (pid in the names); a thread echoes on a
 * netmap port, another plays a second guest that echoes.
 */
#define VH_PROG "78_vhost_vale"
#include <libnetmap.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "vu_harness.h"
#include "unm_vale.h"

#define NUM 256

static char sw[16], vm1[40], vm2[40], vm3[40], host[40];
static char dir[64], path1[108], path2[108], path3[108];
static const struct shape mrg = { 1536, 1, 32 };	/* 2 KB mergeable buffers */
static const struct shape big = { 9100, 3, 16 };	/* whole frames, no MRG_RXBUF */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* ---- control requests ---- */

static int ctl(uint16_t type, const char *name, void *body)
{
	struct nmreq_header hdr;
	int fd = open("/dev/netmap", O_RDWR), e = 0;

	if (fd < 0)
		VH_DIE("open /dev/netmap: %s", strerror(errno));
	nmreq_header_init(&hdr, type, body);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", name);
	if (ioctl(fd, NIOCCTRL, &hdr) < 0)
		e = errno;
	close(fd);
	return e;
}

static int vm_create(const char *name, const char *path, uint32_t flags, uint64_t features)
{
	struct unm_vale_vhost b = { .op = UNM_VHOST_CREATE, .flags = flags, .features = features };

	snprintf(b.path, sizeof(b.path), "%s", path);
	return ctl(UNM_REQ_VALE_VHOST, name, &b);
}

static int vm_info(const char *name, struct unm_vale_vhost *b)
{
	memset(b, 0, sizeof(*b));
	b->op = UNM_VHOST_INFO;
	return ctl(UNM_REQ_VALE_VHOST, name, b);
}

static struct unm_vale_stats stats(const char *name)
{
	struct unm_vale_stats st;
	int e;

	memset(&st, 0, sizeof(st));
	e = ctl(UNM_REQ_VALE_STATS, name, &st);
	CHECK(e == 0, "stats of %s: %s", name, strerror(e));
	return st;
}

/* The counters are added after the frames are visible: a check of them
 * right after the last frame arrived retries for a while. */
#define EVENTUALLY(cond) ({ uint64_t end_ = vh_now_ns() + 2000000000ull; bool ok_;	\
	while (!(ok_ = (cond)) && vh_now_ns() < end_)					\
		usleep(1000);								\
	ok_; })

/* Wait until INFO's state has all bits of `want` and none of `unwanted`. */
static bool wait_state(const char *name, uint32_t want, uint32_t unwanted, int ms)
{
	struct unm_vale_vhost b;
	uint64_t end = vh_now_ns() + (uint64_t)ms * 1000000ull;

	do {
		if (vm_info(name, &b) == 0 && (b.state & want) == want && !(b.state & unwanted))
			return true;
		usleep(2000);
	} while (vh_now_ns() < end);
	return false;
}

static void cleanup(void)
{
	/* ports go with their sockets; a second time is harmless */
	ctl(NETMAP_REQ_VALE_DELIF, vm1, NULL);
	ctl(NETMAP_REQ_VALE_DELIF, vm2, NULL);
	ctl(NETMAP_REQ_VALE_DELIF, vm3, NULL);
	unlink(path3);
	rmdir(dir);
}

/* ---- a netmap port of the switch that sends back what it receives ---- */

struct echo {
	struct nmport_d *d;
	pthread_t tid;
	_Atomic bool stop;
	_Atomic uint64_t frames;
	uint64_t chains, slots;		/* received: frames of > 1 slot, slots */
	uint32_t max_slot;		/* the longest slot received */
	bool bad_pack;			/* a chain not packed into full slots */
};

static void *echo_main(void *arg)
{
	static uint8_t buf[NMD_VU_MAX_FRAME];
	struct echo *e = arg;
	struct netmap_ring *rx = NETMAP_RXRING(e->d->nifp, 0), *tx = NETMAP_TXRING(e->d->nifp, 0);

	while (!atomic_load(&e->stop)) {
		struct pollfd p = { .fd = e->d->fd, .events = POLLIN };
		uint32_t len = 0, nslot = 0, i, bsz = tx->nr_buf_size, off, need;

		if (nm_ring_empty(rx)) {
			poll(&p, 1, 20);
			ioctl(e->d->fd, NIOCRXSYNC, NULL);
			continue;
		}
		i = rx->head;
		for (;;) {
			struct netmap_slot *s = &rx->slot[i];

			if (i == rx->tail)
				VH_DIE("echo: a chain runs past tail");
			if (len + s->len <= sizeof(buf))
				memcpy(buf + len, NETMAP_BUF(rx, s->buf_idx), s->len);
			if (s->len > e->max_slot)
				e->max_slot = s->len;
			if ((s->flags & NS_MOREFRAG) && s->len != bsz)
				e->bad_pack = true;
			len += s->len;
			nslot++;
			i = nm_ring_next(rx, i);
			if (!(s->flags & NS_MOREFRAG))
				break;
		}
		rx->head = rx->cur = i;
		e->slots += nslot;
		e->chains += nslot > 1;
		/* back out, in slots of the ring's buffer size */
		need = (len + bsz - 1) / bsz;
		while (nm_ring_space(tx) < need) {
			ioctl(e->d->fd, NIOCTXSYNC, NULL);
			if (atomic_load(&e->stop))
				return NULL;
			usleep(50);
		}
		for (off = 0, i = tx->head; off < len; i = nm_ring_next(tx, i)) {
			struct netmap_slot *s = &tx->slot[i];
			uint32_t l = len - off < bsz ? len - off : bsz;

			memcpy(NETMAP_BUF(tx, s->buf_idx), buf + off, l);
			s->len = (uint16_t)l;
			off += l;
			s->flags = off < len ? NS_MOREFRAG : 0;
		}
		tx->head = tx->cur = i;
		ioctl(e->d->fd, NIOCTXSYNC, NULL);
		atomic_fetch_add(&e->frames, 1);
	}
	return NULL;
}

static void echo_start(struct echo *e)
{
	memset(e, 0, sizeof(*e));
	e->d = nmport_open(host);
	if (!e->d)
		VH_DIE("nmport_open %s: %s", host, strerror(errno));
	if (pthread_create(&e->tid, NULL, echo_main, e))
		VH_DIE("pthread_create");
}

static void echo_stop(struct echo *e)
{
	atomic_store(&e->stop, true);
	pthread_join(e->tid, NULL);
	nmport_close(e->d);
}

/* ---- a second guest that sends back what it receives ---- */

struct gecho {
	struct vg g;
	pthread_t tid;
	_Atomic bool stop;
	_Atomic uint64_t frames;
};

static void *gecho_main(void *arg)
{
	static uint8_t buf[NMD_VU_MAX_FRAME];
	struct gecho *e = arg;

	while (!atomic_load(&e->stop)) {
		int n = vg_rx_recv(&e->g, buf, sizeof(buf));

		if (n < 0)
			VH_DIE("second guest: the device broke its receive ring");
		if (n == 0) {
			vg_publish(&e->g, NMD_VU_RXQ);
			if (!vg_intr(&e->g, NMD_VU_RXQ, true))
				vg_wait_call(&e->g, NMD_VU_RXQ, 20);
			vg_intr(&e->g, NMD_VU_RXQ, false);
			continue;
		}
		while (vg_tx(&e->g, buf, (uint32_t)n, VG_L_ONE, 1, false) < 0) {
			if (atomic_load(&e->stop))
				return NULL;
			usleep(50);
		}
		vg_publish(&e->g, NMD_VU_TXQ);
		atomic_fetch_add(&e->frames, 1);
	}
	return NULL;
}

static void gecho_start(struct gecho *e, uint64_t features, const struct shape *sh)
{
	memset(e, 0, sizeof(*e));
	vg_open(&e->g, path2, -1, features, NUM);
	CHECK(wait_state(vm2, UNM_VHOST_RUNNING, 0, 3000), "%s not running", vm2);
	vg_rx_fill(&e->g, sh->rx_size, sh->rx_ndesc);
	if (pthread_create(&e->tid, NULL, gecho_main, e))
		VH_DIE("pthread_create");
}

static void gecho_stop(struct gecho *e)
{
	atomic_store(&e->stop, true);
	pthread_join(e->tid, NULL);
	vg_close(&e->g);
}

/* ---- the parts ---- */

static void control(void)
{
	struct unm_vale_vhost b;
	struct nmreq_port_info_get pi;
	struct nmreq_port_hdr h = { .nr_hdr_len = 12 };
	struct nmreq_vale_detach det;
	struct nmreq_vale_list l;
	struct nmport_d *d;
	char name[64];
	struct stat st;

	section = "control";
	CHECK(vm_create(vm1, "rel/vm1.sock", 0, 0) == EINVAL, "relative path accepted");
	CHECK(vm_create(vm1, path1, 0, 1ull << 0) == EINVAL, "CSUM offered?");
	CHECK(vm_create(vm1, path1, 0x80, 0) == EINVAL, "unknown flag accepted");
	CHECK(vm_create("notvale", path1, 0, 0) == EINVAL, "name without a switch accepted");
	memset(&b, 0, sizeof(b));
	b.op = 99;
	CHECK(ctl(UNM_REQ_VALE_VHOST, vm1, &b) == EINVAL, "unknown op accepted");
	CHECK(vm_info(vm1, &b) == ENXIO, "INFO of a port that is not there");
	CHECK(vm_create(vm1, path1, 0, 0) == 0, "create %s", vm1);
	CHECK(vm_create(vm1, path1, 0, 0) == EEXIST, "created twice");
	CHECK(stat(path1, &st) == 0 && S_ISSOCK(st.st_mode), "no socket at %s", path1);
	CHECK(vm_info(vm1, &b) == 0 && b.state == 0 && !strcmp(b.path, path1) &&
	      b.features && b.negotiated == 0 && b.connections == 0 && b.flags == 0,
	      "INFO before QEMU: state %#x features %#llx, %llu connections", b.state,
	      (unsigned long long)b.features, (unsigned long long)b.connections);
	/* (netmapd finds out by connecting: one more connection for vm1) */
	CHECK(vm_create(vm3, path1, 0, 0) == EADDRINUSE, "two ports on one socket");
	memset(&l, 0, sizeof(l));
	CHECK(ctl(NETMAP_REQ_VALE_LIST, vm1, &l) == 0 && l.nr_port_idx != NM_BDG_NOPORT,
	      "%s not in its switch", vm1);
	CHECK(vm_create(vm2, path2, 0, 0) == 0, "create %s", vm2);

	/* a port without rings: nothing opens it */
	snprintf(name, sizeof(name), "%s", vm1);
	errno = 0;
	d = nmport_open(name);
	CHECK(!d && errno == EBUSY, "REGISTER of a VM port: %s", d ? "opened" : strerror(errno));
	if (d)
		nmport_close(d);
	snprintf(name, sizeof(name), "%s{1", vm1);
	errno = 0;
	d = nmport_open(name);
	CHECK(!d && errno == EBUSY, "a pipe on a VM port: %s", d ? "opened" : strerror(errno));
	if (d)
		nmport_close(d);
	memset(&pi, 0, sizeof(pi));
	CHECK(ctl(NETMAP_REQ_PORT_INFO_GET, vm1, &pi) == EBUSY, "PORT_INFO_GET of a VM port");
	CHECK(ctl(NETMAP_REQ_PORT_HDR_SET, vm1, &h) == EINVAL, "a header on a VM port");
	memset(&det, 0, sizeof(det));
	CHECK(ctl(NETMAP_REQ_VALE_DETACH, vm1, &det) == EINVAL, "VM port detached");
}

/* Frames through the switch and back, checked; then the counters. */
static void with_host(void)
{
	struct unm_vale_stats s1, sh;
	struct unm_vale_vhost b;
	struct nmreq_port_hdr hdr;
	struct echo e;
	uint64_t sent = 0, i, conn0;
	uint32_t seq = 0;
	struct vg g;
	int ls, fd;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	section = "guest-host";
	vm_info(vm1, &b);
	conn0 = b.connections;
	echo_start(&e);
	vg_open(&g, path1, -1, NMD_VU_FEATURES, NUM);
	CHECK(wait_state(vm1, UNM_VHOST_CONNECTED | UNM_VHOST_RUNNING, 0, 3000),
	      "%s not running", vm1);
	vg_rx_fill(&g, mrg.rx_size, mrg.rx_ndesc);
	traffic(&g, &mrg, 3 * NLENS * 4, lens, NLENS, &seq, true);
	sent += 3 * NLENS * 4;
	CHECK(e.chains > 0 && !e.bad_pack && e.max_slot == 2048,
	      "guest frames reach netmap packed: %llu chains, max slot %u%s",
	      (unsigned long long)e.chains, e.max_slot, e.bad_pack ? ", a short inner slot" : "");
	CHECK(vm_info(vm1, &b) == 0 && b.negotiated == (b.features & NMD_VU_FEATURES) &&
	      b.connections == conn0 + 1, "INFO: negotiated %#llx of %#llx, %llu connections",
	      (unsigned long long)b.negotiated, (unsigned long long)b.features,
	      (unsigned long long)b.connections);

	section = "pause-while-flowing";
	for (i = 0; i < 10; i++) {
		traffic(&g, &mrg, 40, lens, NLENS, &seq, i % 2);
		sent += 40;
		CHECK(vg_send_mem_table(&g) == 0, "SET_MEM_TABLE again refused");
	}
	traffic(&g, &mrg, 40, lens, NLENS, &seq, true);
	sent += 40;

	section = "reconnect";
	vg_close(&g);
	CHECK(wait_state(vm1, 0, UNM_VHOST_CONNECTED, 3000), "disconnection unnoticed");
	vg_open(&g, path1, -1, UNM_BIT(UNM_VIRTIO_F_VERSION_1), NUM);
	CHECK(wait_state(vm1, UNM_VHOST_RUNNING, 0, 3000), "not running after reconnecting");
	vg_rx_fill(&g, big.rx_size, big.rx_ndesc);
	traffic(&g, &big, 2 * NLENS, lens, NLENS, &seq, true);
	sent += 2 * NLENS;
	CHECK(vm_info(vm1, &b) == 0 && b.negotiated == UNM_BIT(UNM_VIRTIO_F_VERSION_1) &&
	      b.connections == conn0 + 2, "INFO: negotiated %#llx, %llu connections",
	      (unsigned long long)b.negotiated, (unsigned long long)b.connections);

	section = "counters";
	EVENTUALLY((s1 = stats(vm1), sh = stats(host),
		    s1.rx_pkts == sent && sh.tx_pkts == sent && atomic_load(&e.frames) == sent));
	CHECK(s1.tx_pkts == sent && s1.rx_pkts == sent && s1.tx_drops == 0 && s1.errors == 0,
	      "%s: tx %llu rx %llu tx_drops %llu errors %llu, %llu sent", vm1,
	      (unsigned long long)s1.tx_pkts, (unsigned long long)s1.rx_pkts,
	      (unsigned long long)s1.tx_drops, (unsigned long long)s1.errors,
	      (unsigned long long)sent);
	CHECK(sh.rx_pkts == sent && sh.tx_pkts == sent && atomic_load(&e.frames) == sent,
	      "%s: rx %llu tx %llu, echoed %llu, %llu sent", host, (unsigned long long)sh.rx_pkts,
	      (unsigned long long)sh.tx_pkts, (unsigned long long)atomic_load(&e.frames),
	      (unsigned long long)sent);
	CHECK(s1.tx_bytes == sh.rx_bytes && s1.rx_bytes == sh.tx_bytes,
	      "bytes: guest sent %llu, host got %llu; host sent %llu, guest got %llu",
	      (unsigned long long)s1.tx_bytes, (unsigned long long)sh.rx_bytes,
	      (unsigned long long)sh.tx_bytes, (unsigned long long)s1.rx_bytes);

	/* a netmap port with virtio-net headers of its own: the switch
	 * writes a zeroed one towards it and strips it towards the guest */
	section = "vnet-header";
	hdr.nr_hdr_len = 12;
	CHECK(ctl(NETMAP_REQ_PORT_HDR_SET, host, &hdr) == 0, "PORT_HDR_SET %s", host);
	vg_rx_fill(&g, big.rx_size, big.rx_ndesc);
	traffic(&g, &big, 2 * NLENS, lens, NLENS, &seq, true);
	hdr.nr_hdr_len = 0;
	CHECK(ctl(NETMAP_REQ_PORT_HDR_SET, host, &hdr) == 0, "PORT_HDR_SET %s", host);
	vg_close(&g);
	CHECK(wait_state(vm1, 0, UNM_VHOST_CONNECTED, 3000), "disconnection unnoticed");

	/* client mode: netmapd connects to us, and again when we drop it */
	section = "client-mode";
	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path3);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 4) < 0)
		VH_DIE("listen %s: %s", path3, strerror(errno));
	CHECK(vm_create(vm3, path3, UNM_VHOST_CLIENT, 0) == 0, "create %s (client)", vm3);
	for (i = 0; i < 2; i++) {
		struct pollfd p = { .fd = ls, .events = POLLIN };

		CHECK(poll(&p, 1, 10000) == 1, "netmapd did not connect (%llu)",
		      (unsigned long long)i);
		fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			VH_DIE("accept: %s", strerror(errno));
		vg_open(&g, NULL, fd, NMD_VU_FEATURES, NUM);
		CHECK(wait_state(vm3, UNM_VHOST_RUNNING, 0, 3000), "%s not running", vm3);
		vg_rx_fill(&g, mrg.rx_size, mrg.rx_ndesc);
		traffic(&g, &mrg, NLENS * 2, lens, NLENS, &seq, true);
		vg_close(&g);
	}
	CHECK(vm_info(vm3, &b) == 0 && (b.flags & UNM_VHOST_CLIENT) && b.connections >= 2,
	      "INFO of the client: flags %#x, %llu connections", b.flags,
	      (unsigned long long)b.connections);
	CHECK(ctl(NETMAP_REQ_VALE_DELIF, vm3, NULL) == 0, "remove %s", vm3);
	close(ls);
	unlink(path3);
	echo_stop(&e);
}

static void guest_to_guest(void)
{
	struct unm_vale_stats s1, s2;
	struct gecho e;
	uint32_t seq = 1000;
	struct vg g;

	section = "guest-guest";
	gecho_start(&e, UNM_BIT(UNM_VIRTIO_F_VERSION_1) | UNM_BIT(UNM_VIRTIO_RING_F_EVENT_IDX),
		    &big);
	vg_open(&g, path1, -1, NMD_VU_FEATURES, NUM);
	CHECK(wait_state(vm1, UNM_VHOST_RUNNING, 0, 3000), "%s not running", vm1);
	vg_rx_fill(&g, mrg.rx_size, mrg.rx_ndesc);
	s1 = stats(vm1);
	s2 = stats(vm2);
	traffic(&g, &mrg, 4 * NLENS, lens, NLENS, &seq, true);
	CHECK(EVENTUALLY(atomic_load(&e.frames) == 4 * NLENS), "second guest echoed %llu of %zu",
	      (unsigned long long)atomic_load(&e.frames), 4 * NLENS);
	CHECK(EVENTUALLY(stats(vm2).rx_pkts - s2.rx_pkts == 4 * NLENS &&
			 stats(vm1).rx_pkts - s1.rx_pkts == 4 * NLENS),
	      "counters of the two VM ports");
	vg_close(&g);
	gecho_stop(&e);
}

/* Stage the example module learn.so where netmapd trusts it (a directory
 * of root's, not writable by others); its path, or NULL when that cannot
 * be (not root, not built). */
static char mdir[64];

static const char *stage_learn(char *path, size_t len)
{
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	char src[512], buf[65536];
	ssize_t n;
	int in, out;

	if (geteuid() != 0)
		return NULL;
	snprintf(src, sizeof(src), "%s/vale-modules/learn.so", build);
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return NULL;
	snprintf(mdir, sizeof(mdir), "/tmp/unetmap-78m.XXXXXX");
	if (!mkdtemp(mdir))
		VH_DIE("mkdtemp: %s", strerror(errno));
	snprintf(path, len, "%s/learn.so", mdir);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		VH_DIE("create %s: %s", path, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			VH_DIE("write %s: %s", path, strerror(errno));
	close(in);
	if (n < 0 || fchmod(out, 0644) < 0 || close(out) < 0)
		VH_DIE("copy %s: %s", src, strerror(errno));
	return path;
}

/* A loaded module decides for the frames VM ports send, as for any
 * port's: guest -> guest through learn.so, every frame counted once. */
static void through_module(void)
{
	static struct unm_vale_module_req mr;
	char path[128];
	uint64_t before;
	uint32_t seq = 5000;
	struct gecho e;
	struct vg g;

	section = "module";
	if (!stage_learn(path, sizeof(path))) {
		printf("module section skipped: needs root and build/vale-modules/learn.so\n");
		return;
	}
	memset(&mr, 0, sizeof(mr));
	mr.cmd = UNM_VALE_MOD_LOAD;
	snprintf(mr.path, sizeof(mr.path), "%s", path);
	CHECK(ctl(UNM_REQ_VALE_MODULE, sw, &mr) == 0, "load %s into %s", path, sw);
	before = mr.forwarded + mr.broadcast + mr.dropped + mr.invalid;
	gecho_start(&e, UNM_BIT(UNM_VIRTIO_F_VERSION_1), &big);
	vg_open(&g, path1, -1, NMD_VU_FEATURES, NUM);
	CHECK(wait_state(vm1, UNM_VHOST_RUNNING, 0, 3000), "%s not running", vm1);
	vg_rx_fill(&g, mrg.rx_size, mrg.rx_ndesc);
	traffic(&g, &mrg, 2 * NLENS, lens, NLENS, &seq, true);
	CHECK(EVENTUALLY(atomic_load(&e.frames) == 2 * NLENS), "second guest echoed %llu of %zu",
	      (unsigned long long)atomic_load(&e.frames), 2 * NLENS);
	memset(&mr, 0, sizeof(mr));
	mr.cmd = UNM_VALE_MOD_INFO;
	CHECK(ctl(UNM_REQ_VALE_MODULE, sw, &mr) == 0, "module info of %s", sw);
	CHECK(strcmp(mr.name, "builtin") != 0 &&
	      mr.forwarded + mr.broadcast + mr.dropped + mr.invalid - before == 4 * NLENS &&
	      mr.dropped == 0 && mr.invalid == 0,
	      "module %s decided %llu frames (forwarded %llu broadcast %llu dropped %llu "
	      "invalid %llu), %zu sent by the guests", mr.name,
	      (unsigned long long)(mr.forwarded + mr.broadcast + mr.dropped + mr.invalid - before),
	      (unsigned long long)mr.forwarded, (unsigned long long)mr.broadcast,
	      (unsigned long long)mr.dropped, (unsigned long long)mr.invalid, 4 * NLENS);
	vg_close(&g);
	gecho_stop(&e);
	memset(&mr, 0, sizeof(mr));
	mr.cmd = UNM_VALE_MOD_UNLOAD;
	CHECK(ctl(UNM_REQ_VALE_MODULE, sw, &mr) == 0, "unload the module of %s", sw);
	unlink(path);
	rmdir(mdir);
}

static void hostile(void)
{
	struct unm_vale_vhost b;
	struct gecho e;
	uint32_t seq = 5000;
	uint64_t breaks0, bad0;
	unsigned round, k;
	struct vg g;

	gecho_start(&e, NMD_VU_FEATURES, &mrg);

	/* a descriptor outside guest memory */
	section = "hostile-descriptor";
	vm_info(vm1, &b);
	breaks0 = b.breaks;
	vg_open(&g, path1, -1, NMD_VU_FEATURES, NUM);
	CHECK(wait_state(vm1, UNM_VHOST_RUNNING, 0, 3000), "%s not running", vm1);
	g.q[NMD_VU_TXQ].desc[7] = (struct nmd_vring_desc){ VG_GPA_BASE + VG_MEM_SIZE + 4096, 100,
							   0, 0 };
	g.q[NMD_VU_TXQ].avail->ring[g.q[NMD_VU_TXQ].avail_idx % NUM] = 7;
	g.q[NMD_VU_TXQ].avail_idx++;
	vg_publish(&g, NMD_VU_TXQ);
	CHECK(wait_state(vm1, UNM_VHOST_BROKEN, 0, 3000), "a bad descriptor did not break %s",
	      vm1);
	CHECK(vm_info(vm1, &b) == 0 && b.breaks == breaks0 + 1, "breaks %llu, was %llu",
	      (unsigned long long)b.breaks, (unsigned long long)breaks0);
	CHECK(stats(vm1).errors >= 1, "the break is not among the port's errors");
	vg_close(&g);
	vg_open(&g, path1, -1, NMD_VU_FEATURES, NUM);
	CHECK(wait_state(vm1, UNM_VHOST_RUNNING, UNM_VHOST_BROKEN, 3000),
	      "%s not running after a new connection", vm1);
	vg_rx_fill(&g, mrg.rx_size, mrg.rx_ndesc);
	traffic(&g, &mrg, NLENS, lens, NLENS, &seq, true);

	/* random bytes over the rings while the other guest echoes */
	section = "hostile-scribble";
	g.lenient = true;
	for (round = 0; round < 200; round++) {
		struct vg_q *q = &g.q[round % 2];
		uint8_t f[300];

		make_frame(f, sizeof(f), round);
		vg_tx(&g, f, sizeof(f), VG_L_SPLIT, 3, round % 3 == 0);
		for (k = 0; k < 6; k++) {
			unsigned i = (unsigned)(rnd() % NUM);

			switch (rnd() % 4) {
			case 0:
				q->desc[i].addr = rnd() % 3 ? vg_gpa((uint32_t)(rnd() % VG_MEM_SIZE)) : rnd();
				break;
			case 1:
				q->desc[i].len = rnd() % 2 ? (uint32_t)(rnd() % 9000) : (uint32_t)rnd();
				break;
			case 2:
				q->desc[i].flags = (uint16_t)(rnd() & 7);
				q->desc[i].next = (uint16_t)(rnd() % 2 ? rnd() % NUM : rnd());
				break;
			default:
				q->avail->ring[i] = (uint16_t)(rnd() % 4 ? rnd() % NUM : rnd());
				break;
			}
		}
		q->avail_idx += (uint16_t)(rnd() % 3);
		vg_publish(&g, NMD_VU_RXQ);
		vg_publish(&g, NMD_VU_TXQ);
		usleep(500);
		if (round % 50 == 49) {
			/* a new connection resets everything */
			vg_close(&g);
			vg_open(&g, path1, -1, NMD_VU_FEATURES, NUM);
			g.lenient = true;
			vg_rx_fill(&g, mrg.rx_size, mrg.rx_ndesc);
		}
	}
	vg_close(&g);
	vg_open(&g, path1, -1, NMD_VU_FEATURES, NUM);
	CHECK(wait_state(vm1, UNM_VHOST_RUNNING, UNM_VHOST_BROKEN, 3000), "not running after it");
	vg_rx_fill(&g, mrg.rx_size, mrg.rx_ndesc);
	traffic(&g, &mrg, NLENS, lens, NLENS, &seq, true);
	vg_close(&g);
	CHECK(wait_state(vm1, 0, UNM_VHOST_CONNECTED, 3000), "disconnection unnoticed");

	/* QEMU speaking nonsense */
	section = "hostile-messages";
	vm_info(vm1, &b);
	bad0 = b.bad_msgs;
	for (round = 0; round < 20; round++) {
		uint8_t junk[512];
		int fd = vg_dial(path1);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t w;

		for (k = 0; k < sizeof(junk); k++)
			junk[k] = (uint8_t)rnd();
		if (round % 2 == 0) {
			/* a plausible header: a real request number, a size
			 * beyond what any request takes */
			struct nmd_vu_hdr *h = (void *)junk;

			h->request = (uint32_t)(rnd() % 40);
			h->flags = UNM_VU_VERSION;
			h->size = 0x10000u + (uint32_t)(rnd() % 1000);
		}
		w = write(fd, junk, sizeof(junk));
		(void)w;
		/* netmapd closes the connection (or waits for the rest of a
		 * message that never comes, if the junk said so) */
		poll(&p, 1, 200);
		close(fd);
	}
	CHECK(vm_info(vm1, &b) == 0 && b.bad_msgs > bad0, "no bad message counted (%llu)",
	      (unsigned long long)b.bad_msgs);
	CHECK(wait_state(vm1, 0, UNM_VHOST_CONNECTED, 3000), "a junk connection lingers");
	vg_open(&g, path1, -1, NMD_VU_FEATURES, NUM);
	CHECK(wait_state(vm1, UNM_VHOST_RUNNING, 0, 3000), "not running after the junk");
	vg_rx_fill(&g, mrg.rx_size, mrg.rx_ndesc);
	traffic(&g, &mrg, NLENS, lens, NLENS, &seq, true);
	vg_close(&g);
	gecho_stop(&e);
}

static void removal(void)
{
	struct unm_vale_vhost b;
	struct nmreq_vale_list l;
	struct stat st;
	struct vg g;
	char c;

	section = "remove";
	vg_open(&g, path1, -1, NMD_VU_FEATURES, NUM);
	CHECK(wait_state(vm1, UNM_VHOST_RUNNING, 0, 3000), "%s not running", vm1);
	CHECK(ctl(NETMAP_REQ_VALE_DELIF, vm1, NULL) == 0, "remove %s", vm1);
	{
		struct pollfd p = { .fd = g.sock, .events = POLLIN };

		CHECK(poll(&p, 1, 3000) == 1 && read(g.sock, &c, 1) <= 0,
		      "QEMU's connection survived the port");
	}
	vg_close(&g);
	CHECK(stat(path1, &st) < 0 && errno == ENOENT, "socket file left behind");
	CHECK(vm_info(vm1, &b) == ENXIO, "INFO of a removed port");
	memset(&l, 0, sizeof(l));
	CHECK(ctl(NETMAP_REQ_VALE_LIST, vm1, &l) != 0 || l.nr_port_idx == NM_BDG_NOPORT,
	      "%s still listed", vm1);
	CHECK(ctl(NETMAP_REQ_VALE_DELIF, vm1, NULL) == ENXIO, "removed twice");
	CHECK(ctl(NETMAP_REQ_VALE_DELIF, vm2, NULL) == 0, "remove %s", vm2);
}

int main(void)
{
	int id = (int)(getpid() % 100000);

	signal(SIGPIPE, SIG_IGN);
	snprintf(sw, sizeof(sw), "vale78_%d", id);
	snprintf(vm1, sizeof(vm1), "%s:vm1", sw);
	snprintf(vm2, sizeof(vm2), "%s:vm2", sw);
	snprintf(vm3, sizeof(vm3), "%s:vm3", sw);
	snprintf(host, sizeof(host), "%s:h", sw);
	snprintf(dir, sizeof(dir), "/tmp/unetmap-78.%d", (int)getpid());
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		VH_DIE("mkdir %s: %s", dir, strerror(errno));
	snprintf(path1, sizeof(path1), "%s/vm1.sock", dir);
	snprintf(path2, sizeof(path2), "%s/vm2.sock", dir);
	snprintf(path3, sizeof(path3), "%s/qemu.sock", dir);
	vh_remove_at_exit(path1);
	vh_remove_at_exit(path2);
	vh_remove_at_exit(path3);
	atexit(cleanup);

	control();
	with_host();
	guest_to_guest();
	through_module();
	hostile();
	removal();
	if (fails) {
		fprintf(stderr, VH_PROG ": %u of %u checks failed\n", fails, checks);
		return 1;
	}
	printf(VH_PROG ": %u checks ok\n", checks);
	return 0;
}

/*
 * 76_vhost_reconnect - the vhost-user backend outlives its QEMUs.
 *
 * Test objective: in client mode the backend keeps trying while no QEMU
 * listens yet, connects when one does, and after each QEMU goes away
 * (cleanly, or in the middle of traffic with frames in flight) it
 * reconnects and a fresh negotiation moves exact frames again.  In server
 * mode one QEMU is served at a time: a second connection is refused
 * (closed) while the first keeps working, and the next QEMU is served
 * once the first left.  A stale socket file is replaced; a live one is
 * EADDRINUSE.  An already connected socket can be handed to the device
 * (nmd_vu_attach).
 *
 * Operations: one process; the backend runs in two threads of it; the
 * test plays QEMU (listening, in client mode) and the guest driver.
 */
#define VH_PROG "76_vhost_reconnect"
#include "vu_harness.h"

static const struct shape mrg = { 1536, 1, 32 };

static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0)
		VH_DIE("listen %s: %s", path, strerror(errno));
	return fd;
}

/* accept within ms, or -1 */
static int accept_within(int lfd, int ms)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	if (poll(&p, 1, ms) <= 0)
		return -1;
	return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

static void session(struct tb *tb, struct vg *g, int sock, const char *path, uint32_t n)
{
	uint32_t seq = 0;

	vg_open(g, path, sock, NMD_VU_FEATURES, 256);
	CHECK(tb_wait(tb, running_both, 3000), "queues not running");
	vg_rx_fill(g, mrg.rx_size, mrg.rx_ndesc);
	traffic(g, &mrg, n, lens, sizeof(lens) / sizeof(lens[0]), &seq, true);
}

static void client_mode(void)
{
	char path[108];
	struct nmd_vu_info info;
	struct tb *tb;
	struct vg g;
	int lfd, fd, k;

	section = "client";
	snprintf(path, sizeof(path), "/tmp/unm-vu76c-%d.sock", (int)getpid());
	vh_remove_at_exit(path);
	unlink(path);
	tb = tb_start(path, true, 0, TB_ECHO);
	usleep(150000);		/* QEMU is not there yet: a few retries */
	tb_info(tb, &info);
	CHECK(!info.connected && info.connections == 0, "connected to nothing?");
	lfd = listen_at(path);
	for (k = 0; k < 3; k++) {
		fd = accept_within(lfd, 3000);
		CHECK(fd >= 0, "round %d: the backend did not (re)connect", k);
		if (fd < 0)
			break;
		session(tb, &g, fd, NULL, 300);
		if (k == 1) {
			/* QEMU dies with frames in flight */
			uint8_t f[1514];
			unsigned i;

			for (i = 0; i < 16; i++) {
				make_frame(f, sizeof(f), i);
				vg_tx(&g, f, sizeof(f), VG_L_ONE, 1, false);
			}
			vg_publish(&g, NMD_VU_TXQ);
		}
		vg_close(&g);
		CHECK(tb_wait(tb, disconnected, 3000), "round %d: disconnection unnoticed", k);
	}
	tb_info(tb, &info);
	CHECK(info.connections == 3, "%llu connections, want 3",
	      (unsigned long long)info.connections);
	CHECK(info.bad_msgs == 0, "%llu bad messages", (unsigned long long)info.bad_msgs);
	tb_stop(tb);
	close(lfd);
	unlink(path);
}

static bool peer_closed(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&p, 1, ms) == 1 && recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		VH_DIE("connect %s: %s", path, strerror(errno));
	return fd;
}

static void server_mode(void)
{
	char path[108];
	struct nmd_vu_info info;
	struct tb *tb;
	struct vg g;
	uint32_t seq = 1000;
	int second;

	section = "server";
	snprintf(path, sizeof(path), "/tmp/unm-vu76s-%d.sock", (int)getpid());
	vh_remove_at_exit(path);
	tb = tb_start(path, false, 0, TB_ECHO);
	session(tb, &g, -1, path, 300);
	second = connect_to(path);
	CHECK(peer_closed(second, 3000), "a second QEMU was not refused");
	close(second);
	traffic(&g, &mrg, 100, lens, sizeof(lens) / sizeof(lens[0]), &seq, true);
	vg_close(&g);
	CHECK(tb_wait(tb, disconnected, 3000), "disconnection unnoticed");
	session(tb, &g, -1, path, 300);
	vg_close(&g);
	CHECK(tb_wait(tb, disconnected, 3000), "disconnection unnoticed");
	tb_info(tb, &info);
	CHECK(info.connections == 2, "%llu connections, want 2",
	      (unsigned long long)info.connections);
	tb_stop(tb);
	CHECK(access(path, F_OK) != 0, "socket file left behind");
	unlink(path);
}

static void socket_files(void)
{
	char path[108];
	struct nmd_vu_config cfg = { .name = "t" };
	struct nmd_vu_dev *d;
	int fd, err;

	section = "socket-files";
	snprintf(path, sizeof(path), "/tmp/unm-vu76f-%d.sock", (int)getpid());
	vh_remove_at_exit(path);
	cfg.path = path;
	/* a socket file nobody listens on any more */
	fd = listen_at(path);
	close(fd);
	d = nmd_vu_create(&cfg, &err);
	CHECK(d != NULL, "stale socket not replaced: %s", strerror(-err));
	/* now it is live: a second device must not steal it */
	{
		struct nmd_vu_dev *d2 = nmd_vu_create(&cfg, &err);

		CHECK(!d2 && err == -EADDRINUSE, "second device on a live socket: %s",
		      d2 ? "created" : strerror(-err));
		nmd_vu_destroy(d2);
	}
	nmd_vu_destroy(d);
	CHECK(access(path, F_OK) != 0, "socket file left behind");
	/* a path too long for sun_path */
	{
		char longp[200];

		memset(longp, 'x', sizeof(longp) - 1);
		longp[0] = '/';
		longp[sizeof(longp) - 1] = 0;
		cfg.path = longp;
		d = nmd_vu_create(&cfg, &err);
		CHECK(!d && err == -EINVAL, "long path: %s", d ? "created" : strerror(-err));
		nmd_vu_destroy(d);
	}
	/* features outside what the backend can do */
	cfg.path = NULL;
	cfg.features = UNM_BIT(0);
	d = nmd_vu_create(&cfg, &err);
	CHECK(!d && err == -EINVAL, "offloads accepted in the offer");
	nmd_vu_destroy(d);
	unlink(path);
}

static void attach_mode(void)
{
	struct tb *tb;
	struct vg g;
	int sv[2];

	section = "attach";
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		VH_DIE("socketpair: %s", strerror(errno));
	tb = tb_start(NULL, false, 0, TB_ECHO);
	tb_attach(tb, sv[0]);
	session(tb, &g, sv[1], NULL, 300);
	vg_close(&g);
	CHECK(tb_wait(tb, disconnected, 3000), "disconnection unnoticed");
	tb_stop(tb);
}

int main(void)
{
	client_mode();
	server_mode();
	socket_files();
	attach_mode();
	printf("%u checks, %u failed\n", checks, fails);
	return fails ? 1 : 0;
}

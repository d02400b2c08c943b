/*
 * Test objective: a client that hangs up right after sending a request --
 * before netmapd even reads it -- is dropped once and only once, and
 * netmapd keeps serving everybody else.  (Regression: REGISTER reaped its
 * own hung-up client, then replied on the closed descriptor and dropped
 * it a second time: a double free, or a freed-client list pointing to
 * itself and netmapd spinning at 100% CPU.)
 *
 * Operations:
 *  1. for pipes, VALE ports and bad names alike, a raw client connects,
 *     sends REGISTER (or another request) and closes at once, hundreds of
 *     times, sometimes several in a row before netmapd gets to them;
 *  2. after every burst, an honest client opens a pipe and moves a frame
 *     through it within a bounded time (netmapd is alive and not stuck).
 */
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <libnetmap.h>

#include "tcommon.h"
#include "unm_layout.h"
#include "unm_wire.h"

static int raw_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	REQUIRE(unm_socket_path(sa.sun_path, sizeof(sa.sun_path)) == 0, "socket path");
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	REQUIRE(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
		"connect to netmapd");
	return fd;
}

/* Send one REGISTER (or PORT_INFO_GET) for name and hang up at once. */
static void register_and_hang_up(const char *name, uint16_t type, uint32_t mem_id)
{
	struct {
		struct unm_msg_nmreq m;
		struct nmreq_register reg;
	} req;
	struct unm_msg_hdr h = {
		.magic = UNM_WIRE_MAGIC, .version = UNM_WIRE_VERSION,
		.type = UNM_MSG_NMREQ, .len = sizeof(req),
	};
	int fd = raw_connect();

	memset(&req, 0, sizeof(req));
	req.m.hdr.nr_version = NETMAP_API;
	req.m.hdr.nr_reqtype = type;
	snprintf(req.m.hdr.nr_name, sizeof(req.m.hdr.nr_name), "%s", name);
	req.m.body_len = type == NETMAP_REQ_REGISTER ? sizeof(struct nmreq_register)
						     : sizeof(struct nmreq_port_info_get);
	h.len = (uint32_t)(sizeof(req.m) + req.m.body_len);
	req.reg.nr_mode = NR_REG_ALL_NIC;
	req.reg.nr_mem_id = (uint16_t)mem_id;
	REQUIRE(unm_wire_send(fd, &h, &req, NULL, NULL, 0) == 0, "send REGISTER");
	close(fd);
}

/* netmapd still answers: a fresh pipe carries one frame. */
static void daemon_serves(int round)
{
	char b[40];
	struct nmport_d *tx, *rx;
	struct netmap_ring *t, *r;

	snprintf(b, sizeof(b), "hupok%d_%d", (int)getpid(), round);
	tx = t_open_pipe(b, '{', 1);
	rx = t_open_pipe(b, '}', 1);
	t = NETMAP_TXRING(tx->nifp, 0);
	r = NETMAP_RXRING(rx->nifp, 0);
	t->slot[t->head].len = 60;
	t->head = t->cur = nm_ring_next(t, t->head);
	ioctl(tx->fd, NIOCTXSYNC, NULL);
	ioctl(rx->fd, NIOCRXSYNC, NULL);
	CHECK_EQ(nm_ring_space(r), 1);
	nmport_close(tx);
	nmport_close(rx);
}

int main(void)
{
	int rounds = (int)t_env_long("UNETMAP_TEST_ROUNDS", 200), i, k;
	char name[64];

	/* a stuck or dead netmapd must fail the test, not hang it */
	alarm(120);
	for (i = 0; i < rounds; i++) {
		int burst = 1 + i % 4;

		for (k = 0; k < burst; k++) {
			switch ((i + k) % 6) {
			case 0:	/* a pipe: created, then its only binder is gone */
				snprintf(name, sizeof(name), "hup%d{%d", (int)getpid(), i);
				register_and_hang_up(name, NETMAP_REQ_REGISTER, 0);
				break;
			case 1:	/* an ephemeral VALE port */
				snprintf(name, sizeof(name), "valehup%d:p%d", (int)getpid() % 1000, i);
				register_and_hang_up(name, NETMAP_REQ_REGISTER, 0);
				break;
			case 2:	/* a REGISTER that fails (no such interface) */
				register_and_hang_up("nosuchif0hup", NETMAP_REQ_REGISTER, 0);
				break;
			case 3:	/* a pipe with a region that is not its own */
				snprintf(name, sizeof(name), "hupm%d{%d", (int)getpid(), i);
				register_and_hang_up(name, NETMAP_REQ_REGISTER, 999);
				break;
			case 4:	/* a bad name */
				register_and_hang_up("vale:", NETMAP_REQ_REGISTER, 0);
				break;
			default:	/* not a REGISTER at all */
				snprintf(name, sizeof(name), "hup%d{%d", (int)getpid(), i);
				register_and_hang_up(name, NETMAP_REQ_PORT_INFO_GET, 0);
				break;
			}
		}
		if (i % 25 == 0)
			daemon_serves(i);
	}
	daemon_serves(rounds);
	return t_done("21_register_hangup");
}

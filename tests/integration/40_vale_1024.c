/*
 * 40_vale_1024 - 1024 ports on one VALE switch.
 *
 * Test objective: a switch takes at least 1024 ports (netmap stops at
 * 252), each in a region of its own; a broadcast reaches each of the
 * other 1023 exactly once, from the first port and from the last; the
 * port list shows them all; the switch goes away with the last of them.
 *
 * Operations: raise RLIMIT_NOFILE (each open port costs this process
 * about seven descriptors), open vale40m:0 .. vale40m:1023, broadcast
 * from port 0 and from port 1023, rxsync every port, close them all.
 * Skips if the descriptor limit cannot be raised far enough.
 */
#include <sys/resource.h>

#include "40_vale_util.h"

#define NPORTS 1024

static struct nmport_d *port[NPORTS];

static void broadcast_from(unsigned from)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t f[60], src[6], buf[128];
	unsigned i;

	vt_mac(src, 0x400000 + from);
	vt_frame(f, sizeof(f), bcast, src, 0x10, from);
	vt_send(port[from], f, sizeof(f));
	for (i = 0; i < NPORTS; i++) {
		int n = vt_recv(port[i], buf, sizeof(buf), 0, NULL, NULL);

		if (i == from) {
			CHECK(n < 0, "the broadcast came back to its sender %u", from);
			continue;
		}
		CHECK(n == 60 && vt_frame_ok(buf, 60, 0x10, from),
		      "port %u did not get the broadcast of port %u (%d)", i, from, n);
		CHECK(vt_drain(port[i]) == 0, "port %u got it twice", i);
	}
	printf("ok: a broadcast from port %u reached the %u others once each\n", from, NPORTS - 1);
}

int main(void)
{
	struct rlimit rl;
	struct nmreq_header hdr;
	struct nmreq_vale_list l;
	unsigned i, listed = 0;
	uint64_t t0;
	int fd;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 8 * NPORTS + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < 8 * NPORTS + 64) {
		printf("descriptor limit %llu too low for %d ports\n",
		       (unsigned long long)rl.rlim_cur, NPORTS);
		return 77;
	}
	t0 = vt_now_ms();
	for (i = 0; i < NPORTS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "vale40m:%u", i);
		port[i] = vt_open(name);
	}
	printf("ok: %d ports opened in %llu ms\n", NPORTS, (unsigned long long)(vt_now_ms() - t0));
	CHECK(port[0]->reg.nr_mem_id != port[NPORTS - 1]->reg.nr_mem_id, "shared region");

	/* the list shows every port */
	fd = open("/dev/netmap", O_RDWR);
	CHECK(fd >= 0, "open /dev/netmap");
	memset(&l, 0, sizeof(l));
	nmreq_header_init(&hdr, NETMAP_REQ_VALE_LIST, &l);
	for (;;) {
		hdr.nr_name[0] = '\0';
		if (ioctl(fd, NIOCCTRL, &hdr) < 0) {
			CHECK(errno == ENOENT, "list: %s", strerror(errno));
			break;
		}
		if (strncmp(hdr.nr_name, "vale40m:", 8) == 0) {
			listed++;
			CHECK(l.nr_port_idx != NM_BDG_NOPORT && l.nr_port_idx != NM_BDG_BROADCAST,
			      "%s has reserved index %u", hdr.nr_name, l.nr_port_idx);
		}
		l.nr_port_idx++;
	}
	close(fd);
	CHECK(listed == NPORTS, "listed %u ports", listed);
	printf("ok: all %u ports listed\n", listed);

	broadcast_from(0);
	broadcast_from(NPORTS - 1);

	t0 = vt_now_ms();
	for (i = 0; i < NPORTS; i++)
		nmport_close(port[i]);
	CHECK(vt_port_idx("vale40m:0") == -ENOENT, "switch vale40m survived its ports");
	printf("ok: closed in %llu ms; the switch is gone\n",
	       (unsigned long long)(vt_now_ms() - t0));
	return 0;
}

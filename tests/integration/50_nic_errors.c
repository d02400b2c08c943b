/*
 * Test objective: netmap:IFNAME requests that cannot be served fail
 * cleanly, with netmap's errno and nothing left behind: a missing
 * interface is ENXIO (through nmport_open() and through a raw
 * NIOCCTRL), host rings on an interface are EOPNOTSUPP (no faithful
 * equivalent; docs/design.md), a contradictory @conf:nic= mode is EINVAL
 * at parse time, a NIC port cannot be put into a region that is not a NIC
 * region (EINVAL), and netmapd keeps serving afterwards.
 *
 * Operations: each open below, on "lo" (every network namespace has it)
 * or on a name no interface has; then a pipe opened and closed to show
 * netmapd alive.  Needs no privileges: every request fails before
 * netmapd would touch the interface.
 */
#include <fcntl.h>
#include <sys/ioctl.h>

#include <libnetmap.h>

#include "tcommon.h"

static int open_errno(const char *name)
{
	struct nmport_d *d = nmport_open(name);

	if (d) {
		nmport_close(d);
		return 0;
	}
	return errno;
}

int main(void)
{
	struct nmreq_header hdr;
	struct nmreq_register reg;
	char missing[64], name[80];
	struct nmport_d *d;
	int fd, rc;

	nmctx_get()->verbose = 0;
	snprintf(missing, sizeof(missing), "nx%dq", (int)getpid() % 100000);

	/* a missing interface */
	snprintf(name, sizeof(name), "netmap:%s", missing);
	CHECK_EQ(open_errno(name), ENXIO);

	/* the same through the raw control ABI */
	fd = open("/dev/netmap", O_RDWR);
	REQUIRE(fd >= 0, "open /dev/netmap");
	memset(&hdr, 0, sizeof(hdr));
	memset(&reg, 0, sizeof(reg));
	hdr.nr_version = NETMAP_API;
	hdr.nr_reqtype = NETMAP_REQ_REGISTER;
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", missing);
	hdr.nr_body = (uintptr_t)&reg;
	reg.nr_mode = NR_REG_ALL_NIC;
	rc = ioctl(fd, NIOCCTRL, &hdr);
	CHECK(rc < 0 && errno == ENXIO, "NIOCCTRL REGISTER %s: rc %d errno %d", missing, rc, errno);
	/* PORT_INFO_GET of a missing interface */
	{
		struct nmreq_port_info_get pi;

		memset(&pi, 0, sizeof(pi));
		hdr.nr_reqtype = NETMAP_REQ_PORT_INFO_GET;
		hdr.nr_body = (uintptr_t)&pi;
		rc = ioctl(fd, NIOCCTRL, &hdr);
		CHECK(rc < 0 && errno == ENXIO, "PORT_INFO_GET %s: rc %d errno %d", missing, rc,
		      errno);
	}
	close(fd);

	/* host rings: no faithful equivalent for interfaces */
	CHECK_EQ(open_errno("netmap:lo^"), EOPNOTSUPP);
	CHECK_EQ(open_errno("netmap:lo*"), EOPNOTSUPP);

	/* contradictory or unknown modes are parse errors */
	CHECK_EQ(open_errno("netmap:lo@conf:nic=emulated+zerocopy"), EINVAL);
	CHECK_EQ(open_errno("netmap:lo@conf:nic=native+generic"), EINVAL);
	CHECK_EQ(open_errno("netmap:lo@conf:nic=fast"), EINVAL);
	CHECK_EQ(open_errno("netmap:lo@conf:nic=copy+"), EINVAL);

	/* the global region is not pinned as a UMEM: it cannot back a NIC
	 * (root only gets that far; others stop at the namespace) */
	rc = open_errno("netmap:lo@1");
	CHECK(rc == EINVAL || rc == EPERM || rc == EACCES, "netmap:lo@1: errno %d", rc);

	/* netmapd still serves */
	snprintf(name, sizeof(name), "netmap:nicerr%d{1", (int)getpid());
	d = nmport_open(name);
	CHECK(d != NULL, "open %s after the failures: %s", name, strerror(errno));
	if (d)
		nmport_close(d);
	return t_done("50_nic_errors");
}

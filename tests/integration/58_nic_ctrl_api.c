/*
 * Test objective: the control API answers for network interfaces as
 * netmap's does (upstream ctrl-api-test cases 1, 3, 5 and 12 check the
 * same on a tap):
 *   - REGISTER leaves nr_mode, nr_ringid and nr_flags as they were sent,
 *     also when the flags force a mode (NR_UNM_NIC_*) or carry other
 *     bits; the mode in use is told by UNM_REQ_NIC_INFO instead;
 *   - PORT_INFO_GET on an interface no port is open on reports a region
 *     (non-zero nr_memsize, nr_mem_id > 1) and the rings, and that region
 *     is the one a REGISTER of the same process then gets (same id, same
 *     size), as nmreq_get_mem_id() and @share= expect; POOLS_INFO_GET
 *     agrees with it; asked again once the port is open, the same;
 *   - a region reserved that way by a process that exits without
 *     registering goes away (the next lookup sweeps it);
 *   - UNM_REQ_NIC_INFO reports the mode, queues and slots of an open
 *     port, and ENXIO for an interface with no port.
 *
 * Operations: in a network namespace of its own (unshare), a veth pair
 * nca0/ncb0, both up; raw NIOCCTRL requests on /dev/netmap descriptors,
 * as ctrl-api-test makes them.  Needs root (namespace, veth, XDP): exit
 * 77 otherwise.
 */
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <libnetmap.h>

#include "tcommon.h"
#include "unm_nic.h"

static int sh(const char *cmd)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s >/dev/null 2>&1", cmd);
	return system(buf);
}

static int ctrl(int fd, const char *name, uint16_t type, void *body)
{
	struct nmreq_header hdr;

	nmreq_header_init(&hdr, type, body);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", name);
	return ioctl(fd, NIOCCTRL, &hdr);
}

static int port_info(const char *name, struct nmreq_port_info_get *pi)
{
	int fd = open("/dev/netmap", O_RDWR), rc;

	REQUIRE(fd >= 0, "open /dev/netmap");
	memset(pi, 0, sizeof(*pi));
	rc = ctrl(fd, name, NETMAP_REQ_PORT_INFO_GET, pi);
	close(fd);
	return rc;
}

/* REGISTER on a fresh descriptor (left open in *fdp); the outputs in reg */
static int reg_port(const char *name, uint32_t mode, uint16_t ringid, uint64_t flags,
		    struct nmreq_register *reg, int *fdp)
{
	int fd = open("/dev/netmap", O_RDWR);

	REQUIRE(fd >= 0, "open /dev/netmap");
	memset(reg, 0, sizeof(*reg));
	reg->nr_mode = mode;
	reg->nr_ringid = ringid;
	reg->nr_flags = flags;
	*fdp = fd;
	return ctrl(fd, name, NETMAP_REQ_REGISTER, reg);
}

static int nic_info(int fd, const char *name, struct unm_nic_info *ni)
{
	memset(ni, 0, sizeof(*ni));
	return ctrl(fd, name, UNM_REQ_NIC_INFO, ni);
}

/* REGISTER with these inputs must succeed and give them back untouched */
static void register_keeps(const char *name, uint32_t mode, uint16_t ringid, uint64_t flags)
{
	struct nmreq_register reg;
	int fd;

	CHECK(reg_port(name, mode, ringid, flags, &reg, &fd) == 0,
	      "REGISTER %s mode %u flags %#llx: %s", name, mode, (unsigned long long)flags,
	      strerror(errno));
	CHECK_EQ(reg.nr_mode, mode);
	CHECK_EQ(reg.nr_ringid, ringid);
	CHECK(reg.nr_flags == flags, "nr_flags %#llx came back as %#llx",
	      (unsigned long long)flags, (unsigned long long)reg.nr_flags);
	CHECK(reg.nr_memsize != 0, "nr_memsize 0");
	close(fd);
}

int main(void)
{
	struct nmreq_port_info_get pi, pi2, pi3;
	struct nmreq_pools_info pools;
	struct nmreq_register reg;
	struct unm_nic_info ni;
	const char *spec;
	int fd, fd2, st, pfd[2];
	uint16_t child_id = 0;
	int32_t share_id;
	pid_t child;

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
	if (sh("ip link add nca0 type veth peer name ncb0") != 0 ||
	    sh("ip link set nca0 up") != 0 || sh("ip link set ncb0 up") != 0) {
		printf("skip: cannot create a veth pair (ip link add ... type veth)\n");
		return 77;
	}

	/* a process that only asks, then exits: its reservation goes */
	REQUIRE(pipe(pfd) == 0, "pipe");
	child = fork();
	REQUIRE(child >= 0, "fork");
	if (child == 0) {
		uint16_t id = port_info("nca0", &pi) == 0 ? pi.nr_mem_id : 0;

		_exit(write(pfd[1], &id, sizeof(id)) == sizeof(id) ? 0 : 1);
	}
	REQUIRE(waitpid(child, &st, 0) == child, "waitpid");
	REQUIRE(read(pfd[0], &child_id, sizeof(child_id)) == sizeof(child_id), "child's answer");
	close(pfd[0]);
	close(pfd[1]);
	CHECK(child_id > 1, "child's PORT_INFO_GET: region %u", child_id);

	/* ctrl-api-test case 1: PORT_INFO_GET on an interface nobody opened */
	CHECK(port_info("nca0", &pi) == 0, "PORT_INFO_GET nca0: %s", strerror(errno));
	CHECK(pi.nr_memsize != 0, "nr_memsize 0");
	CHECK(pi.nr_mem_id > 1, "nr_mem_id %u", pi.nr_mem_id);
	CHECK(pi.nr_tx_rings >= 1 && pi.nr_rx_rings >= 1, "rings %u/%u", pi.nr_tx_rings,
	      pi.nr_rx_rings);
	CHECK(pi.nr_tx_slots && pi.nr_rx_slots, "slots %u/%u", pi.nr_tx_slots, pi.nr_rx_slots);
	if (child_id > 1) {
		/* the child's region was swept by that lookup */
		memset(&pi3, 0, sizeof(pi3));
		pi3.nr_mem_id = child_id;
		CHECK(pi3.nr_mem_id != pi.nr_mem_id, "child and parent share region %u",
		      pi.nr_mem_id);
		fd = open("/dev/netmap", O_RDWR);
		REQUIRE(fd >= 0, "open /dev/netmap");
		/* an empty name asks for region nr_mem_id */
		CHECK(ctrl(fd, "", NETMAP_REQ_PORT_INFO_GET, &pi3) < 0 && errno == EINVAL,
		      "region %u of the exited child still exists", child_id);
		close(fd);
	}
	/* asking twice reserves nothing new */
	CHECK(port_info("nca0", &pi2) == 0, "PORT_INFO_GET nca0 again");
	CHECK_EQ(pi2.nr_mem_id, pi.nr_mem_id);
	/* the pools of that region (case 12's first step) */
	fd = open("/dev/netmap", O_RDWR);
	REQUIRE(fd >= 0, "open /dev/netmap");
	memset(&pools, 0, sizeof(pools));
	CHECK(ctrl(fd, "nca0", NETMAP_REQ_POOLS_INFO_GET, &pools) == 0, "POOLS_INFO_GET: %s",
	      strerror(errno));
	CHECK_EQ(pools.nr_mem_id, pi.nr_mem_id);
	CHECK_EQ(pools.nr_memsize, pi.nr_memsize);
	CHECK(pools.nr_buf_pool_objtotal && pools.nr_ring_pool_objtotal &&
	      pools.nr_if_pool_objtotal, "pools %u/%u/%u", pools.nr_if_pool_objtotal,
	      pools.nr_ring_pool_objtotal, pools.nr_buf_pool_objtotal);
	/* nothing open on it yet */
	CHECK(nic_info(fd, "nca0", &ni) < 0 && errno == ENXIO, "NIC_INFO with no port: errno %d",
	      errno);
	close(fd);
	/* what @share=netmap:nca0 looks up */
	spec = "netmap:nca0";
	share_id = nmreq_get_mem_id(&spec, nmctx_get());
	CHECK_EQ(share_id, pi.nr_mem_id);

	/* cases 3 and 5: flags, mode and ring id come back as sent */
	register_keeps("nca0", NR_REG_ALL_NIC, 0, 0);
	register_keeps("nca0", NR_REG_ONE_NIC, 0, 0);
	register_keeps("nca0", NR_REG_ALL_NIC, 0, NR_RX_RINGS_ONLY | NR_NO_TX_POLL | 0x1000);
	register_keeps("ncb0", NR_REG_ALL_NIC, 0, NR_UNM_NIC_GENERIC | NR_UNM_NIC_COPY);

	/* REGISTER gets the region PORT_INFO_GET announced */
	CHECK(reg_port("nca0", NR_REG_ALL_NIC, 0, 0, &reg, &fd) == 0, "REGISTER nca0: %s",
	      strerror(errno));
	CHECK_EQ(reg.nr_mem_id, pi.nr_mem_id);
	CHECK_EQ(reg.nr_memsize, pi.nr_memsize);
	CHECK(port_info("nca0", &pi2) == 0, "PORT_INFO_GET nca0 while open");
	CHECK_EQ(pi2.nr_mem_id, pi.nr_mem_id);
	CHECK_EQ(pi2.nr_memsize, pi.nr_memsize);
	CHECK_EQ(pi2.nr_tx_rings, reg.nr_tx_rings);
	CHECK_EQ(pi2.nr_rx_slots, reg.nr_rx_slots);

	/* the mode is told apart from the flags */
	CHECK(nic_info(fd, "nca0", &ni) == 0, "UNM_REQ_NIC_INFO nca0: %s", strerror(errno));
	CHECK(ni.mode != 0 && unm_nic_mode_check(ni.mode) == 0, "mode %#llx",
	      (unsigned long long)ni.mode);
	CHECK_EQ(ni.queues, reg.nr_rx_rings);
	CHECK_EQ(ni.slots, reg.nr_rx_slots);
	CHECK_EQ(ni.rx_drops, 0);
	printf("nca0: %s, %u queue(s) of %u slots, %u spare receive buffers per queue\n",
	       unm_nic_mode_desc(ni.mode), ni.queues, ni.slots, ni.rx_spares);
	/* a forced mode the open port does not have is refused, not hidden */
	if (ni.mode & NR_UNM_NIC_NATIVE) {
		CHECK(reg_port("nca0", NR_REG_ALL_NIC, 0, NR_UNM_NIC_GENERIC, &reg, &fd2) < 0 &&
		      errno == EBUSY, "generic on a native port: errno %d", errno);
		close(fd2);
	}
	CHECK(nic_info(fd, "nosuch0", &ni) < 0 && errno == ENXIO, "NIC_INFO nosuch0: errno %d",
	      errno);
	close(fd);
	return t_done("58_nic_ctrl_api");
}

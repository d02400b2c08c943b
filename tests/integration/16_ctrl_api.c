/*
 * 16_ctrl_api - netmap's control ABI on the emulated /dev/netmap.
 *
 * Test objective: a program that talks to /dev/netmap directly, as
 * netmap's utils/ctrl-api-test and vale-ctl do (open, ioctl(NIOCCTRL),
 * mmap), sees the kernel's answers (netmap-facts §2, §8.1): REGISTER
 * outputs and the fields it must leave alone, the errno of every
 * malformed request, option-list handling (EOPNOTSUPP / EMSGSIZE /
 * EINVAL / EFAULT, statuses and nro_next written back), null ports,
 * NR_EXCLUSIVE, extra buffers, PORT_INFO_GET / POOLS_INFO_GET, mmap
 * limits, and the layout and initial state of a fresh port's rings.
 * Ordinary descriptors (a pipe(2), a file) keep working unchanged in the
 * same program.
 *
 * Operations: every check opens fresh /dev/netmap descriptors and pipe
 * names of its own ("c<pid>..."), issues requests with hand-built
 * nmreq_header / nmreq_register / nmreq_option structures, maps the
 * region and inspects netmap_if, netmap_ring and slots.  A few checks use
 * nmport_open() for the "/x" and "@conf:" port specs.  Nothing is
 * transmitted.
 *
 * Prints every failed check with the expected and actual value, then
 * "16_ctrl_api: N checks, N failed"; exit status 0 if none failed, else 1.
 */
#include <net/netmap_user.h>
#include <libnetmap.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define PROG "16_ctrl_api"

#include "tcheck.h"

static void
hdr_init(struct nmreq_header *h, uint16_t type, const char *name, void *body)
{
	memset(h, 0, sizeof(*h));
	h->nr_version = NETMAP_API;
	h->nr_reqtype = type;
	if (name != NULL)
		snprintf(h->nr_name, sizeof(h->nr_name), "%s", name);
	h->nr_body = (uintptr_t)body;
}

/* ioctl(NIOCCTRL): 0 or the errno */
static int
ctrl(int fd, struct nmreq_header *h)
{
	errno = 0;
	if (ioctl(fd, NIOCCTRL, h) == 0)
		return 0;
	return errno != 0 ? errno : -1;
}

static void
reg_init(struct nmreq_register *reg, uint32_t mode)
{
	memset(reg, 0, sizeof(*reg));
	reg->nr_mode = mode;
}

/* REGISTER name with reg (and an option list); 0 or errno */
static int
do_register(int fd, const char *name, struct nmreq_register *reg,
	    void *opts)
{
	struct nmreq_header h;

	hdr_init(&h, NETMAP_REQ_REGISTER, name, reg);
	h.nr_options = (uintptr_t)opts;
	return ctrl(fd, &h);
}

/* A descriptor registered to name with mode and flags; dies on failure. */
static int
open_port(const char *name, uint32_t mode, uint64_t flags,
	  struct nmreq_register *out)
{
	struct nmreq_register reg;
	int fd = dev_open(), e;

	reg_init(&reg, mode);
	reg.nr_flags = flags;
	e = do_register(fd, name, &reg, NULL);
	if (e != 0)
		DIE("register %s: %s", name, strerror(e));
	if (out != NULL)
		*out = reg;
	return fd;
}

static char *
map_port(int fd, const struct nmreq_register *reg)
{
	void *m = mmap(NULL, reg->nr_memsize, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);

	if (m == MAP_FAILED)
		DIE("mmap of %" PRIu64 " bytes: %s", reg->nr_memsize,
		    strerror(errno));
	return m;
}

static int
pools_info(int fd, const char *name, struct nmreq_pools_info *pi)
{
	struct nmreq_header h;

	memset(pi, 0, sizeof(*pi));
	hdr_init(&h, NETMAP_REQ_POOLS_INFO_GET, name, pi);
	return ctrl(fd, &h);
}

static int
port_info(int fd, const char *name, struct nmreq_port_info_get *pi,
	  uint16_t mem_id)
{
	struct nmreq_header h;

	memset(pi, 0, sizeof(*pi));
	pi->nr_mem_id = mem_id;
	hdr_init(&h, NETMAP_REQ_PORT_INFO_GET, name, pi);
	return ctrl(fd, &h);
}

/* an address nothing is mapped at */
static void *
unmapped_address(void)
{
	void *p = mmap(NULL, 65536, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);

	if (p == MAP_FAILED)
		DIE("mmap: %s", strerror(errno));
	munmap(p, 65536);
	return (char *)p + 4096;
}

/* ------------------------------------------------------------------ */

/* REGISTER on a pipe end: outputs, and the fields it must not touch. */
static void
test_register(void)
{
	struct nmreq_register reg;
	struct nmreq_header h;
	char name[64], other[64];
	int fd = dev_open(), e;

	section = "register";
	pname(name, sizeof(name), "r{1");
	reg_init(&reg, NR_REG_ALL_NIC);
	reg.nr_ringid = 0;
	/* NR_NO_TX_POLL plus netmap's unused 0x1000 (pkt-gen ORs the legacy
	 * NETMAP_NO_TX_POLL in): both accepted, neither written back */
	reg.nr_flags = NR_NO_TX_POLL | 0x1000;
	hdr_init(&h, NETMAP_REQ_REGISTER, name, &reg);
	e = ctrl(fd, &h);
	ERR(e, 0);
	if (e != 0) {
		close(fd);
		return;
	}
	EQ(reg.nr_mode, NR_REG_ALL_NIC);
	EQ(reg.nr_ringid, 0);
	EQ(reg.nr_flags, NR_NO_TX_POLL | 0x1000);
	CHECK(reg.nr_memsize != 0, "nr_memsize is 0");
	CHECK(reg.nr_offset + sizeof(struct netmap_if) <= reg.nr_memsize,
	    "nr_offset %" PRIu64 " outside the region (%" PRIu64 " bytes)",
	    reg.nr_offset, reg.nr_memsize);
	EQ(reg.nr_tx_rings, 1);
	EQ(reg.nr_rx_rings, 1);
	EQ(reg.nr_tx_slots, 1024);
	EQ(reg.nr_rx_slots, 1024);
	EQ(reg.nr_host_tx_rings, 0);
	EQ(reg.nr_host_rx_rings, 0);
	CHECK(reg.nr_mem_id != 0, "nr_mem_id is 0");
	/* the auto-created pipe parent has a private region */
	CHECK(reg.nr_mem_id != 1, "pipe of a new parent in the global region");
	EQ(reg.nr_extra_bufs, 0);
	CHECK(strcmp(h.nr_name, name) == 0, "nr_name changed: \"%s\"",
	    h.nr_name);
	EQ(h.nr_version, NETMAP_API);
	EQ(h.nr_reqtype, NETMAP_REQ_REGISTER);
	EQ(h.nr_options, 0);
	EQ(h.nr_body, (uintptr_t)&reg);

	/* a descriptor is bound once */
	reg_init(&reg, NR_REG_ALL_NIC);
	ERR(do_register(fd, name, &reg, NULL), EBUSY);
	reg_init(&reg, NR_REG_ALL_NIC);
	ERR(do_register(fd, pname(other, sizeof(other), "r{2"), &reg, NULL),
	    EBUSY);
	errno = 0;
	EQ(ioctl(fd, NIOCTXSYNC, NULL), 0);
	EQ(ioctl(fd, NIOCRXSYNC, NULL), 0);
	close(fd);

	/* sync on a descriptor never registered: ENXIO */
	fd = dev_open();
	errno = 0;
	EQ(ioctl(fd, NIOCTXSYNC, NULL), -1);
	ERR(errno, ENXIO);
	errno = 0;
	EQ(ioctl(fd, NIOCRXSYNC, NULL), -1);
	ERR(errno, ENXIO);
	/* and poll reports POLLERR at once */
	{
		struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
		int rc = poll(&pfd, 1, 0);

		EQ(rc, 1);
		CHECK(pfd.revents & POLLERR,
		    "poll on an unbound descriptor: revents 0x%x, want POLLERR",
		    pfd.revents);
	}
	close(fd);
}

/* Modes NIOCCTRL rejects; a rejected request leaves the fd unbound. */
static void
test_bad_modes(void)
{
	static const uint32_t bad[] = {
		NR_REG_DEFAULT, NR_REG_PIPE_MASTER, NR_REG_PIPE_SLAVE, 9, 100
	};
	static const uint32_t no_host[] = { NR_REG_NIC_SW, NR_REG_SW,
		NR_REG_ONE_SW };
	struct nmreq_register reg;
	char name[64];
	unsigned int i;
	int fd = dev_open();

	section = "modes";
	pname(name, sizeof(name), "m{1");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reg_init(&reg, bad[i]);
		CHECK(do_register(fd, name, &reg, NULL) == EINVAL,
		    "nr_mode %u: want EINVAL (%s)", bad[i], strerror(errno));
	}
	/* pipes have no host rings */
	for (i = 0; i < sizeof(no_host) / sizeof(no_host[0]); i++) {
		reg_init(&reg, no_host[i]);
		CHECK(do_register(fd, name, &reg, NULL) == EINVAL,
		    "pipe with nr_mode %u: want EINVAL (%s)", no_host[i],
		    strerror(errno));
	}
	/* a ring the pipe does not have */
	reg_init(&reg, NR_REG_ONE_NIC);
	reg.nr_ringid = 1;
	ERR(do_register(fd, name, &reg, NULL), EINVAL);
	/* none of the above bound the descriptor */
	reg_init(&reg, NR_REG_ALL_NIC);
	ERR(do_register(fd, name, &reg, NULL), 0);
	close(fd);
}

/* Header and body validation. */
static void
test_bad_header(void)
{
	static const uint16_t bad_versions[] = { 0, 13, 16, 0xffff };
	static const uint16_t need_body[] = { NETMAP_REQ_REGISTER,
		NETMAP_REQ_PORT_INFO_GET, NETMAP_REQ_POOLS_INFO_GET,
		NETMAP_REQ_PORT_HDR_GET };
	static const uint16_t no_body[] = { NETMAP_REQ_VALE_DELIF,
		NETMAP_REQ_SYNC_KLOOP_STOP, NETMAP_REQ_CSB_ENABLE };
	struct nmreq_port_info_get pi;
	struct nmreq_register reg;
	struct nmreq_header h;
	char name[64];
	uint64_t junk[16];
	unsigned int i;
	int fd = dev_open(), fd2;

	section = "header";
	pname(name, sizeof(name), "h{1");
	for (i = 0; i < sizeof(bad_versions) / sizeof(bad_versions[0]); i++) {
		reg_init(&reg, NR_REG_ALL_NIC);
		hdr_init(&h, NETMAP_REQ_REGISTER, name, &reg);
		h.nr_version = bad_versions[i];
		CHECK(ctrl(fd, &h) == EINVAL, "nr_version %u: want EINVAL (%s)",
		    bad_versions[i], strerror(errno));
	}
	reg_init(&reg, NR_REG_ALL_NIC);
	hdr_init(&h, NETMAP_REQ_REGISTER, name, &reg);
	h.nr_reserved = 1;
	ERR(ctrl(fd, &h), EINVAL);

	for (i = 0; i < sizeof(need_body) / sizeof(need_body[0]); i++) {
		hdr_init(&h, need_body[i], name, NULL);
		CHECK(ctrl(fd, &h) == EINVAL,
		    "reqtype %u without a body: want EINVAL (%s)", need_body[i],
		    strerror(errno));
	}
	memset(junk, 0, sizeof(junk));
	for (i = 0; i < sizeof(no_body) / sizeof(no_body[0]); i++) {
		hdr_init(&h, no_body[i], name, junk);
		CHECK(ctrl(fd, &h) == EINVAL,
		    "reqtype %u with a body: want EINVAL (%s)", no_body[i],
		    strerror(errno));
	}
	hdr_init(&h, 0, name, junk);
	ERR(ctrl(fd, &h), EINVAL);
	hdr_init(&h, 99, name, junk);
	ERR(ctrl(fd, &h), EINVAL);

	/* still unbound: NETMAP_MAX_API (15) is accepted */
	reg_init(&reg, NR_REG_ALL_NIC);
	hdr_init(&h, NETMAP_REQ_REGISTER, name, &reg);
	h.nr_version = NETMAP_MAX_API;
	ERR(ctrl(fd, &h), 0);

	/* 64 non-NUL bytes of name: the callee terminates it; whatever the
	 * answer, nothing breaks and the next request is served */
	fd2 = dev_open();
	reg_init(&reg, NR_REG_ALL_NIC);
	hdr_init(&h, NETMAP_REQ_REGISTER, NULL, &reg);
	memset(h.nr_name, 'a', sizeof(h.nr_name));
	h.nr_name[10] = '{';
	(void)ctrl(fd2, &h);
	ERR(port_info(fd2, "", &pi, 0), 0);
	EQ(pi.nr_mem_id, 1);
	close(fd2);
	close(fd);
}

/* Option lists (netmap-facts §2.5 and ctrl-api-test 19-22). */
static void
test_options(void)
{
	struct nmreq_option o1, o2, *many;
	struct nmreq_opt_offsets off, off2;
	struct nmreq_register reg;
	char name[64], *evbuf;
	void *bad = unmapped_address();
	int fd = dev_open(), fd2, e, i;

	section = "options";
	pname(name, sizeof(name), "o{1");

	/* an unknown option type: the request fails, the option comes
	 * back with status EOPNOTSUPP and its other fields intact */
	memset(&o1, 0, sizeof(o1));
	o1.nro_reqtype = 1234;
	reg_init(&reg, NR_REG_ALL_NIC);
	reg.nr_flags = NR_EXCLUSIVE;
	e = do_register(fd, name, &reg, &o1);
	CHECK(e != 0, "option type 1234 accepted");
	ERR(e, EOPNOTSUPP);
	EQ(o1.nro_status, EOPNOTSUPP);
	EQ(o1.nro_next, 0);
	EQ(o1.nro_reqtype, 1234);
	EQ(o1.nro_size, 0);

	/* two unknown options: nro_next is restored in both */
	memset(&o2, 0, sizeof(o2));
	o1.nro_next = (uintptr_t)&o2;
	o1.nro_status = 0;
	o2.nro_reqtype = NETMAP_REQ_OPT_MAX + 7;
	o2.nro_status = 77;
	reg_init(&reg, NR_REG_ALL_NIC);
	e = do_register(fd, name, &reg, &o1);
	ERR(e, EOPNOTSUPP);
	EQ(o1.nro_next, (uintptr_t)&o2);
	EQ(o2.nro_next, 0);
	EQ(o1.nro_status, EOPNOTSUPP);
	EQ(o2.nro_status, EOPNOTSUPP);
	EQ(o2.nro_reqtype, NETMAP_REQ_OPT_MAX + 7);

	/* the failed exclusive request left nothing behind */
	fd2 = dev_open();
	reg_init(&reg, NR_REG_ALL_NIC);
	ERR(do_register(fd2, name, &reg, NULL), 0);
	close(fd2);

	/* option type 0 is invalid */
	memset(&o1, 0, sizeof(o1));
	reg_init(&reg, NR_REG_ALL_NIC);
	ERR(do_register(fd, name, &reg, &o1), EINVAL);

	/* an unknown option pointing to itself: EMSGSIZE */
	memset(&o1, 0, sizeof(o1));
	o1.nro_reqtype = NETMAP_REQ_OPT_MAX + 1;
	o1.nro_next = (uintptr_t)&o1;
	reg_init(&reg, NR_REG_ALL_NIC);
	ERR(do_register(fd, name, &reg, &o1), EMSGSIZE);
	EQ(o1.nro_next, (uintptr_t)&o1);

	/* a valid option pointing to itself: a duplicate, EINVAL */
	memset(&off, 0, sizeof(off));
	off.nro_opt.nro_reqtype = NETMAP_REQ_OPT_OFFSETS;
	off.nro_opt.nro_next = (uintptr_t)&off;
	reg_init(&reg, NR_REG_ALL_NIC);
	ERR(do_register(fd, name, &reg, &off), EINVAL);
	EQ(off.nro_opt.nro_status, EINVAL);
	EQ(off.nro_opt.nro_next, (uintptr_t)&off);

	/* two options of one type: both marked EINVAL */
	memset(&off, 0, sizeof(off));
	memset(&off2, 0, sizeof(off2));
	off.nro_opt.nro_reqtype = NETMAP_REQ_OPT_OFFSETS;
	off.nro_opt.nro_next = (uintptr_t)&off2;
	off2.nro_opt.nro_reqtype = NETMAP_REQ_OPT_OFFSETS;
	reg_init(&reg, NR_REG_ALL_NIC);
	ERR(do_register(fd, name, &reg, &off), EINVAL);
	EQ(off.nro_opt.nro_status, EINVAL);
	EQ(off2.nro_opt.nro_status, EINVAL);

	/* 99 options of type OPT_MAX, then an EVENTFDS option of 1000
	 * bytes: more than the kernel's copy buffer holds */
	many = calloc(99, sizeof(*many));
	evbuf = calloc(1, 1024);
	if (many == NULL || evbuf == NULL)
		DIE("calloc");
	for (i = 0; i < 99; i++) {
		many[i].nro_reqtype = NETMAP_REQ_OPT_MAX;
		many[i].nro_next = i < 98 ? (uintptr_t)&many[i + 1] :
		    (uintptr_t)evbuf;
	}
	((struct nmreq_option *)evbuf)->nro_reqtype =
	    NETMAP_REQ_OPT_SYNC_KLOOP_EVENTFDS;
	((struct nmreq_option *)evbuf)->nro_size = 1000;
	reg_init(&reg, NR_REG_ALL_NIC);
	ERR(do_register(fd, name, &reg, many), EMSGSIZE);
	EQ(many[0].nro_next, (uintptr_t)&many[1]);
	EQ(many[98].nro_next, (uintptr_t)evbuf);
	free(many);
	free(evbuf);

	/* pointers to nothing: EFAULT, never a crash */
	reg_init(&reg, NR_REG_ALL_NIC);
	ERR(do_register(fd, name, &reg, bad), EFAULT);
	memset(&o1, 0, sizeof(o1));
	o1.nro_reqtype = 1234;
	o1.nro_next = (uintptr_t)bad;
	reg_init(&reg, NR_REG_ALL_NIC);
	ERR(do_register(fd, name, &reg, &o1), EFAULT);
	{
		struct nmreq_header h;

		hdr_init(&h, NETMAP_REQ_REGISTER, name, bad);
		ERR(ctrl(fd, &h), EFAULT);
		hdr_init(&h, NETMAP_REQ_PORT_INFO_GET, name, bad);
		ERR(ctrl(fd, &h), EFAULT);
	}
	errno = 0;
	EQ(ioctl(fd, NIOCCTRL, bad), -1);
	ERR(errno, EFAULT);
	errno = 0;
	EQ(ioctl(fd, NIOCREGIF, bad), -1);
	ERR(errno, EFAULT);
	errno = 0;
	EQ(ioctl(fd, NIOCGINFO, bad), -1);
	ERR(errno, EFAULT);

	/* after all that, the descriptor is still unbound and usable */
	reg_init(&reg, NR_REG_ALL_NIC);
	ERR(do_register(fd, name, &reg, NULL), 0);
	close(fd);
}

/* netmap's null adapter (NR_REG_NULL). */
static void
test_null_port(void)
{
	struct nmreq_port_info_get pi;
	struct nmreq_register reg;
	struct netmap_if *nifp;
	char *mem;
	int fd, e;

	section = "null";
	fd = dev_open();
	reg_init(&reg, NR_REG_NULL);
	reg.nr_mem_id = 1;
	reg.nr_tx_rings = 10;
	reg.nr_rx_rings = 5;
	reg.nr_tx_slots = 256;
	reg.nr_rx_slots = 100;
	e = do_register(fd, "anything", &reg, NULL);
	ERR(e, 0);
	if (e == 0) {
		EQ(reg.nr_mode, NR_REG_NULL);
		EQ(reg.nr_mem_id, 1);
		EQ(reg.nr_tx_rings, 10);
		EQ(reg.nr_rx_rings, 5);
		EQ(reg.nr_tx_slots, 256);
		EQ(reg.nr_rx_slots, 100);
		EQ(reg.nr_host_tx_rings, 0);
		EQ(reg.nr_host_rx_rings, 0);
		CHECK(reg.nr_memsize != 0, "nr_memsize is 0");
		/* it is region 1, whose size PORT_INFO_GET reports */
		{
			int fd2 = dev_open();

			ERR(port_info(fd2, "", &pi, 0), 0);
			EQ(reg.nr_memsize, pi.nr_memsize);
			close(fd2);
		}
		errno = 0;
		EQ(ioctl(fd, NIOCTXSYNC, NULL), 0);
		EQ(ioctl(fd, NIOCRXSYNC, NULL), 0);
		mem = map_port(fd, &reg);
		nifp = NETMAP_IF(mem, reg.nr_offset);
		EQ(nifp->ni_tx_rings, 10);
		EQ(nifp->ni_rx_rings, 5);
		EQ(nifp->ni_flags & NI_PRIV_MEM, 0);
		EQ(NETMAP_TXRING(nifp, 9)->num_slots, 256);
		EQ(NETMAP_TXRING(nifp, 9)->ringid, 9);
		EQ(NETMAP_RXRING(nifp, 4)->num_slots, 100);
		EQ(NETMAP_RXRING(nifp, 4)->ringid, 4);
		munmap(mem, reg.nr_memsize);
	}
	close(fd);

	/* all zeros: no rings, no slots, still fine */
	fd = dev_open();
	reg_init(&reg, NR_REG_NULL);
	reg.nr_mem_id = 1;
	e = do_register(fd, "zero", &reg, NULL);
	ERR(e, 0);
	EQ(reg.nr_tx_rings, 0);
	EQ(reg.nr_rx_rings, 0);
	EQ(reg.nr_tx_slots, 0);
	EQ(reg.nr_rx_slots, 0);
	EQ(reg.nr_mem_id, 1);
	if (e == 0) {
		errno = 0;
		EQ(ioctl(fd, NIOCTXSYNC, NULL), 0);
		EQ(ioctl(fd, NIOCRXSYNC, NULL), 0);
	}
	close(fd);

	/* the region must exist */
	fd = dev_open();
	reg_init(&reg, NR_REG_NULL);
	reg.nr_tx_rings = reg.nr_rx_rings = 1;
	ERR(do_register(fd, "nomem", &reg, NULL), EINVAL);
	reg_init(&reg, NR_REG_NULL);
	reg.nr_mem_id = 4242;
	ERR(do_register(fd, "nomem", &reg, NULL), EINVAL);
	close(fd);
}

/* NR_EXCLUSIVE: raw, and through the "/x" port spec. */
static void
test_exclusive(void)
{
	struct nmreq_register reg;
	struct nmport_d *d1, *d2;
	char name[64], peer[64], spec[96];
	int a, b, c, fd;

	section = "exclusive";
	pname(name, sizeof(name), "x{1");
	pname(peer, sizeof(peer), "x}1");
	a = open_port(name, NR_REG_ALL_NIC, NR_EXCLUSIVE, &reg);
	EQ(reg.nr_flags, NR_EXCLUSIVE);
	b = dev_open();
	reg_init(&reg, NR_REG_ALL_NIC);
	ERR(do_register(b, name, &reg, NULL), EBUSY);
	reg_init(&reg, NR_REG_ALL_NIC);
	reg.nr_flags = NR_EXCLUSIVE;
	ERR(do_register(b, name, &reg, NULL), EBUSY);
	/* the other end has rings of its own */
	c = open_port(peer, NR_REG_ALL_NIC, 0, NULL);
	/* closing the exclusive holder releases the rings at once */
	close(a);
	reg_init(&reg, NR_REG_ALL_NIC);
	ERR(do_register(b, name, &reg, NULL), 0);
	/* now b uses them: an exclusive request fails */
	fd = dev_open();
	reg_init(&reg, NR_REG_ALL_NIC);
	reg.nr_flags = NR_EXCLUSIVE;
	ERR(do_register(fd, name, &reg, NULL), EBUSY);
	close(fd);
	close(b);
	close(c);

	/* exclusivity is per ring: two rings of one end */
	pname(name, sizeof(name), "x{2");
	a = dev_open();
	reg_init(&reg, NR_REG_ONE_NIC);
	reg.nr_tx_rings = reg.nr_rx_rings = 2;
	reg.nr_ringid = 0;
	reg.nr_flags = NR_EXCLUSIVE;
	ERR(do_register(a, name, &reg, NULL), 0);
	b = dev_open();
	reg_init(&reg, NR_REG_ONE_NIC);
	reg.nr_ringid = 1;
	reg.nr_flags = NR_EXCLUSIVE;
	ERR(do_register(b, name, &reg, NULL), 0);
	c = dev_open();
	reg_init(&reg, NR_REG_ALL_NIC);
	ERR(do_register(c, name, &reg, NULL), EBUSY);
	close(b);
	reg_init(&reg, NR_REG_ONE_NIC);
	reg.nr_ringid = 1;
	ERR(do_register(c, name, &reg, NULL), 0);
	close(a);
	close(c);

	/* close() is synchronous, as in the kernel: the very next request,
	 * on a descriptor that is already talking to netmapd, finds the
	 * rings free.  Repeated, because a late release is a race. */
	{
		int late = 0, it;

		pname(name, sizeof(name), "x{4");
		b = dev_open();
		for (it = 0; it < 200; it++) {
			int tries = 0, e;

			a = dev_open();
			do {
				reg_init(&reg, NR_REG_ALL_NIC);
				reg.nr_flags = NR_EXCLUSIVE;
				e = do_register(a, name, &reg, NULL);
				if (e == EBUSY)
					usleep(10000);	/* counted below */
			} while (e == EBUSY && ++tries < 100);
			if (e != 0)
				DIE("register %s/x: %s", name, strerror(e));
			if (tries > 0)
				late++;
			reg_init(&reg, NR_REG_ALL_NIC);
			if (do_register(b, name, &reg, NULL) != EBUSY) {
				CHECK(0, "exclusive ring given to a second fd");
				break;
			}
			close(a);
			reg_init(&reg, NR_REG_ALL_NIC);
			reg.nr_flags = NR_EXCLUSIVE;
			if (do_register(b, name, &reg, NULL) != 0) {
				late++;
				continue;
			}
			/* b holds it now; give it back through a new fd */
			close(b);
			b = dev_open();
		}
		close(b);
		CHECK(late == 0, "rings still busy right after close() of their "
		    "holder in %d cases (200 tries)", late);
	}

	/* the "/x" flag of a port spec */
	snprintf(spec, sizeof(spec), "netmap:%sx{3/x", prefix);
	d1 = nmport_open(spec);
	CHECK(d1 != NULL, "nmport_open(%s): %s", spec, strerror(errno));
	if (d1 != NULL)
		CHECK(d1->reg.nr_flags & NR_EXCLUSIVE,
		    "%s: nr_flags 0x%" PRIx64 " lacks NR_EXCLUSIVE", spec,
		    d1->reg.nr_flags);
	snprintf(spec, sizeof(spec), "netmap:%sx{3", prefix);
	errno = 0;
	d2 = nmport_open(spec);
	CHECK(d2 == NULL, "second open of an exclusive pipe end succeeded");
	ERR(errno, EBUSY);
	if (d2 != NULL)
		nmport_close(d2);
	nmport_close(d1);
	d2 = nmport_open(spec);
	CHECK(d2 != NULL, "reopen after closing the exclusive holder: %s",
	    strerror(errno));
	if (d2 != NULL)
		nmport_close(d2);
}

/* Walk the ring slots of every bound ring and note their buffers. */
static void
mark_ring_bufs(struct netmap_if *nifp, unsigned char *seen, uint32_t total,
	       const char *what)
{
	uint32_t i, k, ntx = nifp->ni_tx_rings + nifp->ni_host_tx_rings;
	uint32_t nall = ntx + nifp->ni_rx_rings + nifp->ni_host_rx_rings;

	for (i = 0; i < nall; i++) {
		struct netmap_ring *r;

		if (nifp->ring_ofs[i] == 0)
			continue;
		r = (struct netmap_ring *)((char *)nifp + nifp->ring_ofs[i]);
		for (k = 0; k < r->num_slots; k++) {
			uint32_t idx = r->slot[k].buf_idx;

			if (idx < total && seen[idx]) {
				CHECK(0, "%s: buffer %u used twice (ring_ofs[%u] "
				    "slot %u)", what, idx, i, k);
				return;
			}
			if (idx < total)
				seen[idx] = 1;
		}
	}
}

/* Extra buffers: a list through the first 4 bytes of each buffer. */
static void
test_extra_bufs(void)
{
	struct nmreq_pools_info pools;
	struct nmreq_register reg;
	struct netmap_if *nifp;
	struct netmap_ring *ring;
	unsigned char *seen;
	char name[64], *mem;
	uint32_t idx, n = 0;
	int fd, e;

	section = "extra-bufs";
	pname(name, sizeof(name), "e{1");
	fd = dev_open();
	reg_init(&reg, NR_REG_ALL_NIC);
	reg.nr_extra_bufs = 20;
	e = do_register(fd, name, &reg, NULL);
	ERR(e, 0);
	if (e != 0) {
		close(fd);
		return;
	}
	EQ(reg.nr_extra_bufs, 20);
	ERR(pools_info(fd, name, &pools), 0);
	EQ(pools.nr_mem_id, reg.nr_mem_id);
	mem = map_port(fd, &reg);
	nifp = NETMAP_IF(mem, reg.nr_offset);
	ring = NETMAP_TXRING(nifp, 0);
	seen = calloc(pools.nr_buf_pool_objtotal + 1, 1);
	if (seen == NULL)
		DIE("calloc");
	mark_ring_bufs(nifp, seen, pools.nr_buf_pool_objtotal, name);
	CHECK(nifp->ni_bufs_head != 0, "ni_bufs_head is 0");
	for (idx = nifp->ni_bufs_head; idx != 0 && n <= 20; n++) {
		if (idx < 2 || idx >= pools.nr_buf_pool_objtotal) {
			CHECK(0, "extra buffer %u: index %u outside [2, %u)", n,
			    idx, pools.nr_buf_pool_objtotal);
			break;
		}
		CHECK(!seen[idx], "extra buffer %u: index %u already in use",
		    n, idx);
		seen[idx] = 1;
		memcpy(&idx, NETMAP_BUF(ring, idx), sizeof(idx));
	}
	EQ(n, 20);
	free(seen);
	munmap(mem, reg.nr_memsize);
	close(fd);

	/* none asked, none given */
	fd = open_port(pname(name, sizeof(name), "e{2"), NR_REG_ALL_NIC, 0,
	    &reg);
	EQ(reg.nr_extra_bufs, 0);
	mem = map_port(fd, &reg);
	EQ(NETMAP_IF(mem, reg.nr_offset)->ni_bufs_head, 0);
	munmap(mem, reg.nr_memsize);
	close(fd);
}

/* PORT_INFO_GET and POOLS_INFO_GET. */
static void
test_info(void)
{
	struct nmreq_port_info_get pi;
	struct nmreq_pools_info pools;
	struct nmreq_register reg, nreg;
	char name[64];
	int fd, q, nfd;

	section = "info";
	pname(name, sizeof(name), "i{1");
	fd = open_port(name, NR_REG_ALL_NIC, 0, &reg);
	q = dev_open();		/* never bound */

	/* an existing pipe end */
	ERR(port_info(q, name, &pi, 0), 0);
	EQ(pi.nr_memsize, reg.nr_memsize);
	EQ(pi.nr_mem_id, reg.nr_mem_id);
	EQ(pi.nr_tx_slots, 1024);
	EQ(pi.nr_rx_slots, 1024);
	EQ(pi.nr_tx_rings, 1);
	EQ(pi.nr_rx_rings, 1);
	EQ(pi.nr_host_tx_rings, 0);
	EQ(pi.nr_host_rx_rings, 0);
	/* a pipe nobody opened yet (ctrl-api-test pipe_port_info_get) */
	ERR(port_info(q, pname(name, sizeof(name), "i}7"), &pi, 0), 0);
	CHECK(pi.nr_memsize != 0 && pi.nr_tx_slots != 0 &&
	    pi.nr_rx_slots != 0 && pi.nr_tx_rings != 0 && pi.nr_rx_rings != 0,
	    "PORT_INFO_GET %s: memsize %" PRIu64 " slots %u/%u rings %u/%u",
	    name, pi.nr_memsize, pi.nr_tx_slots, pi.nr_rx_slots,
	    pi.nr_tx_rings, pi.nr_rx_rings);
	/* empty name: region nr_mem_id, 0 meaning 1 */
	nfd = dev_open();
	reg_init(&nreg, NR_REG_NULL);
	nreg.nr_mem_id = 1;
	ERR(do_register(nfd, "g", &nreg, NULL), 0);
	ERR(port_info(q, "", &pi, 0), 0);
	EQ(pi.nr_mem_id, 1);
	EQ(pi.nr_memsize, nreg.nr_memsize);
	ERR(port_info(q, "", &pi, reg.nr_mem_id), 0);
	EQ(pi.nr_mem_id, reg.nr_mem_id);
	EQ(pi.nr_memsize, reg.nr_memsize);
	close(nfd);
	/* no such port */
	CHECK(port_info(q, "nosuchifc0", &pi, 0) == ENXIO,
	    "PORT_INFO_GET nosuchifc0: want ENXIO (%s)", strerror(errno));

	/* POOLS_INFO_GET needs a name */
	CHECK(pools_info(q, "", &pools) != 0,
	    "POOLS_INFO_GET with an empty name succeeded");
	ERR(pools_info(q, pname(name, sizeof(name), "i{1"), &pools), 0);
	EQ(pools.nr_memsize, reg.nr_memsize);
	EQ(pools.nr_mem_id, reg.nr_mem_id);
	EQ(pools.nr_if_pool_offset, 0);
	CHECK(pools.nr_if_pool_objtotal && pools.nr_if_pool_objsize &&
	    pools.nr_ring_pool_offset && pools.nr_ring_pool_objtotal &&
	    pools.nr_ring_pool_objsize && pools.nr_buf_pool_offset &&
	    pools.nr_buf_pool_objtotal,
	    "POOLS_INFO_GET %s: a zero field (if %u x %u, ring @%" PRIu64
	    " %u x %u, buf @%" PRIu64 " %u)", name,
	    pools.nr_if_pool_objtotal, pools.nr_if_pool_objsize,
	    pools.nr_ring_pool_offset, pools.nr_ring_pool_objtotal,
	    pools.nr_ring_pool_objsize, pools.nr_buf_pool_offset,
	    pools.nr_buf_pool_objtotal);
	EQ(pools.nr_buf_pool_objsize, 2048);
	/* the pools follow each other: each offset is the bytes before it */
	EQ(pools.nr_ring_pool_offset,
	    (uint64_t)pools.nr_if_pool_objtotal * pools.nr_if_pool_objsize);
	EQ(pools.nr_buf_pool_offset, pools.nr_ring_pool_offset +
	    (uint64_t)pools.nr_ring_pool_objtotal * pools.nr_ring_pool_objsize);
	CHECK(pools.nr_buf_pool_offset + (uint64_t)pools.nr_buf_pool_objtotal *
	    pools.nr_buf_pool_objsize <= pools.nr_memsize,
	    "buffer pool (%" PRIu64 " + %u x %u) beyond memsize %" PRIu64,
	    pools.nr_buf_pool_offset, pools.nr_buf_pool_objtotal,
	    pools.nr_buf_pool_objsize, pools.nr_memsize);
	/* the bound descriptor can ask too */
	ERR(pools_info(fd, name, &pools), 0);
	EQ(pools.nr_mem_id, reg.nr_mem_id);
	close(q);
	close(fd);
}

/* mmap rules. */
static void
test_mmap(void)
{
	struct nmreq_register reg;
	struct nmreq_pools_info pools;
	char name[64], *mem, *part;
	void *m;
	int fd;

	section = "mmap";
	fd = dev_open();
	errno = 0;
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m == MAP_FAILED, "mmap before REGISTER succeeded");
	ERR(errno, EINVAL);
	if (m != MAP_FAILED)
		munmap(m, 4096);
	close(fd);

	pname(name, sizeof(name), "p{1");
	fd = open_port(name, NR_REG_ALL_NIC, 0, &reg);
	errno = 0;
	m = mmap(NULL, reg.nr_memsize + 4096, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	CHECK(m == MAP_FAILED, "mmap of nr_memsize + 4096 bytes succeeded");
	ERR(errno, EINVAL);
	if (m != MAP_FAILED)
		munmap(m, reg.nr_memsize + 4096);
	errno = 0;
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    (off_t)((reg.nr_memsize + 4095) & ~4095ull));
	CHECK(m == MAP_FAILED, "mmap past the end succeeded");
	ERR(errno, EINVAL);
	if (m != MAP_FAILED)
		munmap(m, 4096);

	/* a whole mapping and a partial one see the same memory */
	mem = map_port(fd, &reg);
	ERR(pools_info(fd, name, &pools), 0);
	part = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    (off_t)(pools.nr_buf_pool_offset & ~4095ull));
	CHECK(part != MAP_FAILED, "mmap of 8192 bytes inside the region: %s",
	    strerror(errno));
	if (part != MAP_FAILED) {
		char *w = mem + (pools.nr_buf_pool_offset & ~4095ull) + 4100;

		memcpy(w, "unetmap", 8);
		CHECK(memcmp(part + 4100, "unetmap", 8) == 0,
		    "two mappings of the region disagree");
		munmap(part, 8192);
	}
	munmap(mem, reg.nr_memsize);
	close(fd);
}

/* Check every ring of a fresh port. */
static void
check_fresh_rings(const char *what, char *mem,
		  const struct nmreq_register *reg,
		  const struct nmreq_pools_info *pools,
		  uint32_t tx_slots, uint32_t rx_slots)
{
	struct netmap_if *nifp = NETMAP_IF(mem, reg->nr_offset);
	uint32_t ntx = nifp->ni_tx_rings, nrx = nifp->ni_rx_rings, i, k;
	unsigned char *seen = calloc(pools->nr_buf_pool_objtotal, 1);

	if (seen == NULL)
		DIE("calloc");
	EQ(ntx, reg->nr_tx_rings);
	EQ(nrx, reg->nr_rx_rings);
	for (i = 0; i < ntx + nrx; i++) {
		int tx = i < ntx;
		uint32_t ri = tx ? i : i - ntx;
		struct netmap_ring *r = tx ? NETMAP_TXRING(nifp, ri) :
		    NETMAP_RXRING(nifp, ri);
		uint64_t rofs = (uint64_t)((char *)r - mem);
		uint32_t n = r->num_slots, dup = 0, bad = 0, lenbad = 0;

		if ((tx ? nifp->ring_ofs[ri] : nifp->ring_ofs[ntx + 1 + ri]) ==
		    0) {
			CHECK(0, "%s: %s ring %u not bound", what,
			    tx ? "tx" : "rx", ri);
			continue;
		}
		CHECK(rofs % 128 == 0, "%s: %s ring %u at region offset %" PRIu64
		    ", not 128-byte aligned", what, tx ? "tx" : "rx", ri, rofs);
		CHECK(rofs >= pools->nr_ring_pool_offset &&
		    rofs < pools->nr_buf_pool_offset,
		    "%s: %s ring %u at %" PRIu64 ", outside the ring pool",
		    what, tx ? "tx" : "rx", ri, rofs);
		EQ(r->num_slots, tx ? tx_slots : rx_slots);
		EQ(r->nr_buf_size, 2048);
		EQ(r->ringid, ri);
		EQ(r->dir, tx ? 1 : 0);
		EQ(r->head, 0);
		EQ(r->cur, 0);
		EQ(r->tail, tx ? n - 1 : 0);
		EQ(r->flags, 0);
		EQ(r->offset_mask, 0);
		/* buffer 0 of the ring is the start of the buffer pool */
		EQ((int64_t)rofs + r->buf_ofs, (int64_t)pools->nr_buf_pool_offset);
		if (!tx)
			continue;
		for (k = 0; k < n; k++) {
			uint32_t idx = r->slot[k].buf_idx;

			if (idx < 2 || idx >= pools->nr_buf_pool_objtotal)
				bad++;
			else if (seen[idx]++)
				dup++;
			if (r->slot[k].len != 2048 || r->slot[k].flags != 0 ||
			    r->slot[k].ptr != 0)
				lenbad++;
		}
		CHECK(bad == 0, "%s: tx ring %u: %u buffer indices outside "
		    "[2, %u)", what, ri, bad, pools->nr_buf_pool_objtotal);
		CHECK(dup == 0, "%s: tx ring %u: %u duplicate buffer indices",
		    what, ri, dup);
		CHECK(lenbad == 0, "%s: tx ring %u: %u slots not {len 2048, "
		    "flags 0, ptr 0}", what, ri, lenbad);
	}
	free(seen);
}

/* Layout and initial state of a fresh port (netmap-facts §1.1-§1.5). */
static void
test_rings(void)
{
	struct nmreq_pools_info pools;
	struct nmreq_register reg, preg;
	struct netmap_if *nifp, *pnifp;
	struct nmport_d *d, *s;
	char name[64], peer[64], spec[128], *mem, *pmem;
	uint32_t k;
	int fd, pfd;

	section = "rings";
	pname(name, sizeof(name), "f{1");
	pname(peer, sizeof(peer), "f}1");
	fd = open_port(name, NR_REG_ALL_NIC, 0, &reg);
	ERR(pools_info(fd, name, &pools), 0);
	mem = map_port(fd, &reg);
	nifp = NETMAP_IF(mem, reg.nr_offset);
	CHECK(reg.nr_offset % 8 == 0, "nr_offset %" PRIu64 " not 8-aligned",
	    reg.nr_offset);
	CHECK(strcmp(nifp->ni_name, name) == 0, "ni_name \"%.16s\", want "
	    "\"%s\"", nifp->ni_name, name);
	EQ(nifp->ni_version, 0);
	EQ(nifp->ni_flags & NI_PRIV_MEM, NI_PRIV_MEM);
	EQ(nifp->ni_tx_rings, 1);
	EQ(nifp->ni_rx_rings, 1);
	EQ(nifp->ni_host_tx_rings, 1);
	EQ(nifp->ni_host_rx_rings, 1);
	EQ(nifp->ni_bufs_head, 0);
	/* hw tx, fake host tx, hw rx, fake host rx */
	CHECK(nifp->ring_ofs[0] != 0, "tx ring 0 not bound");
	EQ(nifp->ring_ofs[1], 0);
	CHECK(nifp->ring_ofs[2] != 0, "rx ring 0 not bound");
	EQ(nifp->ring_ofs[3], 0);
	check_fresh_rings(name, mem, &reg, &pools, 1024, 1024);

	/* the peer end: one set of buffers per linked pair (master TX
	 * slot k and slave RX slot k hold the same buffer) */
	pfd = open_port(peer, NR_REG_ALL_NIC, 0, &preg);
	EQ(preg.nr_mem_id, reg.nr_mem_id);
	pmem = map_port(pfd, &preg);
	pnifp = NETMAP_IF(pmem, preg.nr_offset);
	CHECK(strcmp(pnifp->ni_name, peer) == 0, "ni_name \"%.16s\", want "
	    "\"%s\"", pnifp->ni_name, peer);
	check_fresh_rings(peer, pmem, &preg, &pools, 1024, 1024);
	for (k = 0; k < 1024; k++) {
		if (NETMAP_TXRING(nifp, 0)->slot[k].buf_idx !=
		    NETMAP_RXRING(pnifp, 0)->slot[k].buf_idx)
			break;
	}
	EQ(k, 1024);
	{
		unsigned char *seen = calloc(pools.nr_buf_pool_objtotal, 1);

		if (seen == NULL)
			DIE("calloc");
		/* the two TX rings have buffers of their own */
		for (k = 0; k < 1024; k++)
			seen[NETMAP_TXRING(nifp, 0)->slot[k].buf_idx %
			    pools.nr_buf_pool_objtotal] = 1;
		for (k = 0; k < 1024; k++)
			if (seen[NETMAP_TXRING(pnifp, 0)->slot[k].buf_idx %
			    pools.nr_buf_pool_objtotal])
				break;
		CHECK(k == 1024, "master and slave TX rings share buffer %u",
		    NETMAP_TXRING(pnifp, 0)->slot[k % 1024].buf_idx);
		free(seen);
	}
	munmap(pmem, preg.nr_memsize);
	close(pfd);
	munmap(mem, reg.nr_memsize);
	close(fd);

	/* ring and slot counts from the request (raw) */
	pname(name, sizeof(name), "f{2");
	fd = dev_open();
	reg_init(&reg, NR_REG_ALL_NIC);
	reg.nr_tx_rings = 3;
	reg.nr_rx_rings = 2;
	reg.nr_tx_slots = 128;
	reg.nr_rx_slots = 512;
	ERR(do_register(fd, name, &reg, NULL), 0);
	EQ(reg.nr_tx_rings, 3);
	EQ(reg.nr_rx_rings, 2);
	EQ(reg.nr_tx_slots, 128);
	EQ(reg.nr_rx_slots, 512);
	ERR(pools_info(fd, name, &pools), 0);
	if (reg.nr_memsize != 0) {
		mem = map_port(fd, &reg);
		nifp = NETMAP_IF(mem, reg.nr_offset);
		EQ(nifp->ring_ofs[3], 0);	/* fake host tx */
		EQ(nifp->ring_ofs[6], 0);	/* fake host rx */
		check_fresh_rings(name, mem, &reg, &pools, 128, 512);
		munmap(mem, reg.nr_memsize);
	}
	/* the other end sees the swapped geometry */
	pname(peer, sizeof(peer), "f}2");
	pfd = open_port(peer, NR_REG_ALL_NIC, 0, &preg);
	EQ(preg.nr_tx_rings, 2);
	EQ(preg.nr_rx_rings, 3);
	EQ(preg.nr_tx_slots, 512);
	EQ(preg.nr_rx_slots, 128);
	close(pfd);
	close(fd);

	/* ... and from "@conf:" */
	snprintf(spec, sizeof(spec),
	    "netmap:%sf{3@conf:tx_rings=2,rx_rings=4,tx_slots=64,rx_slots=2048",
	    prefix);
	d = nmport_open(spec);
	CHECK(d != NULL, "nmport_open(%s): %s", spec, strerror(errno));
	if (d != NULL) {
		EQ(d->reg.nr_tx_rings, 2);
		EQ(d->reg.nr_rx_rings, 4);
		EQ(d->reg.nr_tx_slots, 64);
		EQ(d->reg.nr_rx_slots, 2048);
		EQ(d->nifp->ni_tx_rings, 2);
		EQ(d->nifp->ni_rx_rings, 4);
		EQ(NETMAP_TXRING(d->nifp, 1)->num_slots, 64);
		EQ(NETMAP_RXRING(d->nifp, 3)->num_slots, 2048);
		EQ(NETMAP_TXRING(d->nifp, 1)->tail, 63);
		EQ(d->first_tx_ring, 0);
		EQ(d->last_tx_ring, 1);
		EQ(d->first_rx_ring, 0);
		EQ(d->last_rx_ring, 3);
		nmport_close(d);
	}

	/* one ring of a 2-ring pipe: ring_ofs is 0 for the others */
	snprintf(spec, sizeof(spec), "netmap:%sf{4@conf:rings=2,slots=256",
	    prefix);
	d = nmport_prepare(spec);
	CHECK(d != NULL, "nmport_prepare(%s): %s", spec, strerror(errno));
	if (d != NULL) {
		d->reg.nr_mode = NR_REG_ONE_NIC;
		d->reg.nr_ringid = 1;
		if (nmport_open_desc(d) < 0) {
			CHECK(0, "nmport_open_desc(%s, ONE_NIC 1): %s", spec,
			    strerror(errno));
			nmport_undo_prepare(d);
			d = NULL;
		}
	}
	if (d != NULL) {
		struct netmap_if *ni = d->nifp;

		EQ(d->reg.nr_tx_rings, 2);
		EQ(d->reg.nr_tx_slots, 256);
		EQ(d->reg.nr_mode, NR_REG_ONE_NIC);
		EQ(d->reg.nr_ringid, 1);
		EQ(ni->ni_tx_rings, 2);
		EQ(ni->ni_rx_rings, 2);
		EQ(ni->ni_host_tx_rings, 1);
		EQ(ni->ni_host_rx_rings, 1);
		EQ(ni->ring_ofs[0], 0);			/* tx 0 */
		CHECK(ni->ring_ofs[1] != 0, "tx ring 1 not bound");
		EQ(ni->ring_ofs[2], 0);			/* host tx */
		EQ(ni->ring_ofs[3], 0);			/* rx 0 */
		CHECK(ni->ring_ofs[4] != 0, "rx ring 1 not bound");
		EQ(ni->ring_ofs[5], 0);			/* host rx */
		EQ(d->first_tx_ring, 1);
		EQ(d->last_tx_ring, 1);
		EQ(d->first_rx_ring, 1);
		EQ(d->last_rx_ring, 1);
		if (ni->ring_ofs[1] != 0) {
			EQ(NETMAP_TXRING(ni, 1)->ringid, 1);
			EQ(NETMAP_TXRING(ni, 1)->num_slots, 256);
			EQ(NETMAP_TXRING(ni, 1)->tail, 255);
		}
		if (ni->ring_ofs[4] != 0)
			EQ(NETMAP_RXRING(ni, 1)->ringid, 1);
		/* the other ring is still free for someone else */
		s = nmport_prepare(spec);
		if (s != NULL) {
			s->reg.nr_mode = NR_REG_ONE_NIC;
			s->reg.nr_ringid = 0;
			s->reg.nr_flags |= NR_EXCLUSIVE;
			CHECK(nmport_open_desc(s) == 0,
			    "exclusive open of ring 0 beside ring 1: %s",
			    strerror(errno));
			nmport_close(s);
		}
		nmport_close(d);
	}

	/* TX-only and RX-only bindings */
	pname(name, sizeof(name), "f{5");
	fd = open_port(name, NR_REG_ALL_NIC, NR_TX_RINGS_ONLY, &reg);
	EQ(reg.nr_flags, NR_TX_RINGS_ONLY);
	mem = map_port(fd, &reg);
	nifp = NETMAP_IF(mem, reg.nr_offset);
	CHECK(nifp->ring_ofs[0] != 0, "TX_RINGS_ONLY: tx ring not bound");
	EQ(nifp->ring_ofs[2], 0);
	munmap(mem, reg.nr_memsize);
	close(fd);
	fd = open_port(name, NR_REG_ALL_NIC, NR_RX_RINGS_ONLY, &reg);
	mem = map_port(fd, &reg);
	nifp = NETMAP_IF(mem, reg.nr_offset);
	EQ(nifp->ring_ofs[0], 0);
	CHECK(nifp->ring_ofs[2] != 0, "RX_RINGS_ONLY: rx ring not bound");
	munmap(mem, reg.nr_memsize);
	close(fd);
}

/* Ordinary descriptors in the same program are left alone. */
static void
test_ordinary(void)
{
	char path[] = "/tmp/unetmap-16-XXXXXX", buf[4096];
	struct pollfd pfd[2];
	int p[2], n = -1, fd, port;
	void *m;

	section = "ordinary";
	if (pipe(p) < 0)
		DIE("pipe: %s", strerror(errno));
	EQ(write(p[1], "hello", 5), 5);
	EQ(ioctl(p[0], FIONREAD, &n), 0);
	EQ(n, 5);

	/* a port and the pipe in one poll set */
	port = open_port(pname(buf, sizeof(buf), "d{1"), NR_REG_ALL_NIC, 0,
	    NULL);
	pfd[0].fd = p[0];
	pfd[0].events = POLLIN;
	pfd[1].fd = port;
	pfd[1].events = POLLOUT;
	pfd[0].revents = pfd[1].revents = 0;
	EQ(poll(pfd, 2, 1000), 2);
	EQ(pfd[0].revents, POLLIN);
	EQ(pfd[1].revents, POLLOUT);
	EQ(read(p[0], buf, sizeof(buf)), 5);
	EQ(close(port), 0);
	EQ(close(p[0]), 0);
	EQ(close(p[1]), 0);

	/* mmap of a plain file */
	fd = mkstemp(path);
	if (fd < 0)
		DIE("mkstemp: %s", strerror(errno));
	unlink(path);
	memset(buf, 'z', sizeof(buf));
	memcpy(buf, "file contents", 13);
	EQ(write(fd, buf, sizeof(buf)), sizeof(buf));
	m = mmap(NULL, sizeof(buf), PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED, "mmap of a file: %s", strerror(errno));
	if (m != MAP_FAILED) {
		CHECK(memcmp(m, buf, sizeof(buf)) == 0,
		    "file mapping has the wrong contents");
		munmap(m, sizeof(buf));
	}
	EQ(close(fd), 0);
	/* and close() of a closed descriptor is still EBADF */
	errno = 0;
	EQ(close(fd), -1);
	ERR(errno, EBADF);
}

static void
quiet_error(struct nmctx *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;	/* expected failures are checked through errno */
}

int
main(void)
{
	snprintf(prefix, sizeof(prefix), "c%d", (int)(getpid() % 100000));
	nmctx_get()->error = quiet_error;

	test_register();
	test_bad_modes();
	test_bad_header();
	test_options();
	test_null_port();
	test_exclusive();
	test_extra_bufs();
	test_info();
	test_mmap();
	test_rings();
	test_ordinary();

	printf(PROG ": %u checks, %u failed\n", n_checks, n_failed);
	return n_failed == 0 ? 0 : 1;
}

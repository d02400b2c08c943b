/*
 * Test objective: a port handed to a less trusted party (a guest, a
 * container) never shares its memory region with a port that party was
 * not given.  Once the region of a port is sealed, netmap's ways of
 * joining a region -- a pipe on the port's name, NR_REG_NULL or @MEMID
 * with its id -- are refused with EPERM and a reason, while the port
 * itself opens as before.  Unsealed ports keep netmap's behaviour.
 *
 * Operations:
 *  1. seal VALE port A for "vm-test"; its own name opens again;
 *  2. "A{1", NR_REG_NULL with A's mem_id, and a new VALE port @A's mem_id
 *     are refused with EPERM naming the holder;
 *  3. an unsealed port B: the same three requests succeed (netmap's
 *     behaviour), and sealing B afterwards is EBUSY (already shared);
 *  4. sealing A again for the same holder succeeds, for another EPERM.
 */
#include <fcntl.h>
#include <sys/ioctl.h>

#include <libnetmap.h>

#include "tcommon.h"
#include "unm_vale.h"

static char last[512];

static void capture(struct nmctx *ctx, const char *msg)
{
	(void)ctx;
	snprintf(last, sizeof(last), "%s", msg);
}

static int seal(const char *name, const char *holder, uint16_t *mem_id)
{
	struct nmreq_header hdr;
	struct unm_port_seal sl;
	int fd = open("/dev/netmap", O_RDWR), rc;

	REQUIRE(fd >= 0, "open /dev/netmap");
	memset(&sl, 0, sizeof(sl));
	snprintf(sl.holder, sizeof(sl.holder), "%s", holder);
	nmreq_header_init(&hdr, UNM_REQ_PORT_SEAL, &sl);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", name);
	rc = ioctl(fd, NIOCCTRL, &hdr) < 0 ? errno : 0;
	if (mem_id)
		*mem_id = sl.mem_id;
	close(fd);
	return rc;
}

/* NR_REG_NULL in region mem_id: 0 or the errno */
static int open_null(uint16_t mem_id, struct nmport_d **out)
{
	struct nmport_d *d = nmport_prepare("netmap:nullseal");

	REQUIRE(d, "prepare");
	d->reg.nr_mode = NR_REG_NULL;
	d->reg.nr_mem_id = mem_id;
	d->reg.nr_tx_rings = d->reg.nr_rx_rings = 1;
	d->reg.nr_tx_slots = d->reg.nr_rx_slots = 64;
	last[0] = '\0';
	if (nmport_open_desc(d) < 0) {
		int e = errno;

		nmport_undo_prepare(d);
		*out = NULL;
		return e;
	}
	*out = d;
	return 0;
}

static struct nmport_d *open_name(const char *name)
{
	last[0] = '\0';
	return nmport_open(name);
}

int main(void)
{
	char a[32], b[32], x[48];
	struct nmport_d *pa, *pa2, *pb, *d;
	uint16_t mem = 0, mb;
	int sw = (int)getpid() % 10000;

	alarm(60);
	nmctx_get()->error = capture;
	snprintf(a, sizeof(a), "valeS%d:a", sw);
	snprintf(b, sizeof(b), "valeS%d:b", sw);

	/* 1 */
	pa = open_name(a);
	REQUIRE(pa, "open %s: %s", a, last);
	CHECK_EQ(seal(a, "vm-test", &mem), 0);
	CHECK_EQ(mem, pa->reg.nr_mem_id);
	pa2 = open_name(a);
	CHECK(pa2 != NULL, "the sealed port itself opens: %s", last);
	if (pa2)
		nmport_close(pa2);

	/* 2 */
	snprintf(x, sizeof(x), "%s{1", a);
	d = open_name(x);
	CHECK(d == NULL && errno == EPERM, "pipe on a sealed port's name: %p errno %d",
	      (void *)d, errno);
	CHECK(strstr(last, "sealed for vm-test") != NULL, "reason: '%s'", last);
	if (d)
		nmport_close(d);
	CHECK_EQ(open_null(mem, &d), EPERM);
	CHECK(strstr(last, "sealed") != NULL, "reason: '%s'", last);
	if (d)
		nmport_close(d);
	snprintf(x, sizeof(x), "valeS%d:c@%u", sw, mem);
	d = open_name(x);
	CHECK(d == NULL && errno == EPERM, "a VALE port @%u: errno %d", mem, errno);
	if (d)
		nmport_close(d);

	/* 3: netmap's behaviour where nothing is sealed */
	pb = open_name(b);
	REQUIRE(pb, "open %s: %s", b, last);
	mb = pb->reg.nr_mem_id;
	snprintf(x, sizeof(x), "%s{1", b);
	d = open_name(x);
	CHECK(d != NULL && d->reg.nr_mem_id == mb, "pipe on an unsealed port's name: %s", last);
	CHECK_EQ(seal(b, "vm-test", NULL), EBUSY);
	if (d)
		nmport_close(d);
	CHECK_EQ(open_null(mb, &d), 0);
	if (d)
		nmport_close(d);

	/* 4 */
	CHECK_EQ(seal(a, "vm-test", NULL), 0);
	CHECK_EQ(seal(a, "somebody-else", NULL), EPERM);
	CHECK_EQ(seal("valeS0:nosuchport", "vm-test", NULL), ENXIO);

	nmport_close(pb);
	nmport_close(pa);
	return t_done("27_region_seal");
}

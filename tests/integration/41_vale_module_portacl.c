/*
 * 41_vale_module_portacl - the port ACL module
 * (examples/vale-modules/portacl.c) applies its rule to every frame by
 * the port it comes from, and the netmap tutorial's mmctl configures it
 * unchanged.
 *
 * Test objective: loaded with "drop=b a>c default=pass", frames from a go
 * to c whatever their destination, frames from b go nowhere, frames from
 * c and d are forwarded by learning; an mmctl-style program -- nm_open()
 * of "vale41a:vi0" and ioctl(NIOCCONFIG) with the tutorial's 24-byte
 * struct mmreq, exactly as mmctl.c does it -- makes d's frames drop, then
 * gives d its rule back (mr_cmd 1), then patches b to a, overriding b's
 * load-time rule until b leaves: when b comes back, drop=b holds again.
 * Bad indices are refused with EINVAL.  Counted per port.
 *
 * Operations: load portacl.so into vale41a, open a, b, c, d; send bursts
 * of broadcast and unicast frames, wait until the switch has taken them,
 * count what every port received.
 */
#define NETMAP_WITH_LIBS
#include <net/netmap_user.h>

#include "41_vale_module_util.h"

#define SW "vale41a"
#define NP 4
#define BURST 9

/* the netmap tutorial's mymodule/mmctl request, field for field */
struct mmreq {
	char mr_name[IFNAMSIZ];
	uint16_t mr_sport;
	uint16_t mr_dport;
	int mr_cmd;
};

static struct nmport_d *port[NP];
static char pname[NP][32];
static uint8_t mac[NP][6];
static uint32_t seq;

/* What mmctl does: open a port of the switch with nm_open(), send the
 * request with NIOCCONFIG.  Returns 0 or an errno. */
static int mmctl(uint16_t sport, uint16_t dport, int cmd)
{
	struct nm_desc *nmd = nm_open(SW ":vi0", NULL, 0, NULL);
	struct mmreq mreq;
	int e = 0;

	CHECK(nmd, "nm_open(" SW ":vi0): %s", strerror(errno));
	memset(&mreq, 0, sizeof(mreq));
	strncpy(mreq.mr_name, SW ":vi0", sizeof(mreq.mr_name) - 1);
	mreq.mr_sport = sport;
	mreq.mr_dport = dport;
	mreq.mr_cmd = cmd;
	if (ioctl(nmd->fd, NIOCCONFIG, &mreq) < 0)
		e = errno;
	nm_close(nmd);
	return e;
}

static void open_port(int i)
{
	snprintf(pname[i], sizeof(pname[i]), SW ":%c", 'a' + i);
	port[i] = vt_open(pname[i]);
}

static void close_port(int i)
{
	vm_close(port[i], pname[i]);
	port[i] = NULL;
}

/* BURST frames from `from` to dst (NULL: broadcast); expect[i] = how many
 * port i must get (BURST or 0). */
static void burst(int from, const uint8_t *dst, const int expect[NP], const char *what)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t f[60];
	int i, k;

	for (k = 0; k < BURST; k++) {
		vt_frame(f, sizeof(f), dst ? dst : bcast, mac[from], 41, ++seq);
		CHECK(vt_queue(port[from], f, sizeof(f), 0) == 0, "%s: TX ring full", what);
	}
	vt_flush(port[from], 5000);
	for (i = 0; i < NP; i++) {
		unsigned got = port[i] ? vt_drain(port[i]) : 0;

		CHECK(got == (unsigned)(expect[i] ? BURST : 0), "%s: %s got %u frames, not %d", what,
		      pname[i], got, expect[i] ? BURST : 0);
	}
	printf("ok: %s\n", what);
}

int main(void)
{
	int i, ia, ib, id;

	for (i = 0; i < NP; i++)
		vt_mac(mac[i], 0x4120 + (unsigned)i);
	vm_load(SW, vm_stage("portacl"), "drop=b a>vale41a:c default=pass");
	for (i = 0; i < NP; i++)
		open_port(i);

	burst(0, NULL, (const int[]){ 0, 0, 1, 0 }, "a>c: a's broadcast reaches c only");
	burst(0, mac[3], (const int[]){ 0, 0, 1, 0 }, "a>c: a's unicast to d reaches c");
	burst(1, NULL, (const int[]){ 0, 0, 0, 0 }, "drop=b: b's frames reach nobody");
	burst(2, NULL, (const int[]){ 1, 1, 0, 1 }, "c passes: its broadcast floods");
	burst(3, mac[2], (const int[]){ 0, 0, 1, 0 }, "d passes: unicast to learned c");
	burst(2, mac[3], (const int[]){ 0, 0, 0, 1 }, "c passes: unicast to learned d");

	ia = vt_port_idx(pname[0]);
	ib = vt_port_idx(pname[1]);
	id = vt_port_idx(pname[3]);
	CHECK(ia >= 0 && ib >= 0 && id >= 0, "port indices %d %d %d", ia, ib, id);
	CHECK(mmctl((uint16_t)id, NM_BDG_NOPORT, 0) == 0, "mmctl d -> drop: %s", unm_reason());
	burst(3, mac[2], (const int[]){ 0, 0, 0, 0 }, "mmctl: d dropped");
	CHECK(mmctl((uint16_t)id, 0, 1) == 0, "mmctl reset d: %s", unm_reason());
	burst(3, mac[2], (const int[]){ 0, 0, 1, 0 }, "mmctl reset: d passes again");
	CHECK(mmctl((uint16_t)ib, (uint16_t)ia, 0) == 0, "mmctl b -> a: %s", unm_reason());
	burst(1, NULL, (const int[]){ 1, 0, 0, 0 }, "mmctl: b patched to a");
	CHECK(mmctl(5000, 1, 0) == EINVAL, "mmctl accepted source port 5000");
	CHECK(mmctl(NM_BDG_BROADCAST, 1, 0) == EINVAL, "mmctl accepted source port 254");
	CHECK(mmctl(1, 5000, 0) == EINVAL, "mmctl accepted destination port 5000");
	printf("ok: mmctl's bad indices are refused\n");

	/* b leaves and comes back: its load-time rule again */
	close_port(1);
	open_port(1);
	burst(1, NULL, (const int[]){ 0, 0, 0, 0 }, "b back: drop=b again");
	burst(0, NULL, (const int[]){ 0, 0, 1, 0 }, "a>c still");

	for (i = 0; i < NP; i++)
		nmport_close(port[i]);
	vm_unload(SW);
	return 0;
}

/*
 * 41_vale_module_contain - what netmapd refuses to load, and what it
 * does with verdicts that make no sense.
 *
 * Test objective:
 *  - refused, with the switch still forwarding with the module it had
 *    (learn.so): a module built for another ABI (EPROTONOSUPPORT, the
 *    reason names both versions), one without a lookup function
 *    (EINVAL), a shared object that is no module and a file that is no
 *    shared object (ENOEXEC), a module whose init fails (its errno and
 *    its own reason), a relative path (EINVAL), a missing file (ENOENT),
 *    an unknown command or switch name (EINVAL);
 *  - NIOCCONFIG to a switch whose logic takes no configuration: EINVAL,
 *    as in netmap;
 *  - verdicts naming no port of the switch (4095, 4096, 5000, 253,
 *    0xffffffff, the source port itself) deliver nothing anywhere and are
 *    counted as invalid, and as drops of the sending port;
 *  - dst_ring: any value is taken modulo the destination's ring count
 *    (200 on a one-ring port, 6 on a four-ring port -> ring 2), and a
 *    batch mixing unicast to ring 3 with broadcasts puts the broadcasts
 *    on ring 0 of every other port.
 *
 * Operations: switch vale41c with ports a, b (one RX ring) and c (four
 * RX rings); tests/vale-modules/wild.so returns the verdicts it is told
 * (by arguments, then by NIOCCONFIG).  Frames are sent from a and
 * counted per port and per ring once the switch has taken them.
 */
#include "41_vale_module_util.h"

#define SW "vale41c"

static struct nmport_d *pa, *pb, *pc;
static uint8_t mac[6];
static uint32_t seq;

static void send_n(unsigned n)
{
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0x41, 0x99 };
	uint8_t f[60];
	unsigned k;

	for (k = 0; k < n; k++) {
		vt_frame(f, sizeof(f), dst, mac, 41, ++seq);
		CHECK(vt_queue(pa, f, sizeof(f), 0) == 0, "TX ring full");
	}
	vt_flush(pa, 5000);
}

/* frames waiting in RX ring r of d (consumed) */
static unsigned ring_count(struct nmport_d *d, unsigned r)
{
	struct netmap_ring *ring = NETMAP_RXRING(d->nifp, r);
	unsigned n = 0;

	CHECK(ioctl(d->fd, NIOCRXSYNC, NULL) == 0, "rxsync: %s", strerror(errno));
	while (!nm_ring_empty(ring)) {
		if (!(ring->slot[ring->head].flags & NS_MOREFRAG))
			n++;
		ring->head = ring->cur = nm_ring_next(ring, ring->head);
	}
	return n;
}

/* The switch still runs learn.so and forwards: a broadcast from a
 * reaches b and c. */
static void still_learn(const char *after)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct unm_vale_module_req mr = vm_info(SW);
	uint8_t f[60];

	CHECK(strcmp(mr.name, "learn") == 0, "after %s the switch runs '%s'", after, mr.name);
	vt_frame(f, sizeof(f), bcast, mac, 41, ++seq);
	vt_send(pa, f, sizeof(f));
	CHECK(vt_drain(pb) == 1 && vt_drain(pc) == 1, "after %s the switch does not forward", after);
}

static char why[300];	/* the last refusal's reason */

static void refused(const char *path, const char *args, int want, const char *reason,
		    const char *what)
{
	int e = vm_request(SW, UNM_VALE_MOD_LOAD, path, args, NULL);

	snprintf(why, sizeof(why), "%s", unm_reason());
	CHECK(e == want, "%s: got '%s', want '%s' (%s)", what, strerror(e), strerror(want), why);
	CHECK(!reason || strstr(why, reason), "%s: the reason '%s' does not say '%s'", what, why,
	      reason);
	still_learn(what);
	printf("ok: refused %s (%s: %s)\n", what, strerror(e), why);
}

int main(void)
{
	const char *wild = vm_stage("t/wild");
	const char *notso;
	char text[256];
	struct unm_vale_module_req mr;
	struct unm_vale_stats st;
	unsigned ib, ic;

	vt_mac(mac, 0x4140);
	pa = vt_open(SW ":a");
	pb = vt_open(SW ":b");
	pc = vt_open(SW ":c@conf:rx_rings=4");
	CHECK(pc->reg.nr_rx_rings == 4, "c has %u RX rings", pc->reg.nr_rx_rings);
	ib = (unsigned)vt_port_idx(SW ":b");
	ic = (unsigned)vt_port_idx(SW ":c");
	CHECK(vm_config_text(SW, "x") == EINVAL, "NIOCCONFIG to the built-in bridge");
	vm_load(SW, vm_stage("learn"), "");
	CHECK(vm_config_text(SW, "x") == EINVAL, "NIOCCONFIG to learn.so, which has no config");
	printf("ok: NIOCCONFIG without a config callback: EINVAL\n");
	still_learn("loading learn.so");

	/* refusals */
	notso = vm_stage_text("notso.so", "not a shared object\n");
	refused(vm_stage("t/badabi"), "", EPROTONOSUPPORT, "ABI 2", "another module ABI");
	CHECK(strstr(why, "ABI 1"), "the reason does not name our ABI: %s", why);
	refused(vm_stage("t/nolookup"), "", EINVAL, "no lookup", "a module without lookup");
	refused(vm_stage("t/nosym"), "", ENOEXEC, "no symbol", "a shared object that is no module");
	refused(notso, "", ENOEXEC, NULL, "a file that is no shared object");
	refused(wild, "fail 1", EINVAL, "asked to fail", "a module whose init fails");
	refused("learn.so", "", EINVAL, "absolute", "a relative path");
	refused("/nonexistent/learn.so", "", ENOENT, NULL, "a missing file");
	CHECK(vm_request(SW, 7, NULL, NULL, NULL) == EINVAL, "unknown command accepted");
	CHECK(vm_request("xyz", UNM_VALE_MOD_INFO, NULL, NULL, NULL) == EINVAL,
	      "switch name xyz accepted");
	still_learn("an unknown command");

	/* nonsense verdicts */
	vm_load(SW, wild, "4095 4096 5000 253 0xffffffff src");
	send_n(12);
	CHECK(vt_drain(pa) + vt_drain(pb) + vt_drain(pc) == 0, "a nonsense verdict delivered");
	mr = vm_info(SW);
	CHECK(mr.invalid == 12 && mr.forwarded == 0 && mr.broadcast == 0 && mr.dropped == 0,
	      "verdicts: invalid %llu forwarded %llu broadcast %llu dropped %llu",
	      (unsigned long long)mr.invalid, (unsigned long long)mr.forwarded,
	      (unsigned long long)mr.broadcast, (unsigned long long)mr.dropped);
	CHECK(vt_stats(SW ":a", &st) == 0 && st.tx_drops == 12, "a's tx_drops %llu",
	      (unsigned long long)st.tx_drops);
	printf("ok: 12 invalid verdicts contained and counted\n");

	/* dst_ring */
	snprintf(text, sizeof(text), "%u ring=200", ib);
	CHECK(vm_config_text(SW, text) == 0, "config: %s", unm_reason());
	send_n(5);
	CHECK(ring_count(pb, 0) == 5, "dst_ring 200 on a one-ring port");
	snprintf(text, sizeof(text), "%u ring=6", ic);
	CHECK(vm_config_text(SW, text) == 0, "config: %s", unm_reason());
	send_n(5);
	CHECK(ring_count(pc, 2) == 5 && ring_count(pc, 0) == 0, "dst_ring 6 on four rings: ring 2");
	snprintf(text, sizeof(text), "%u bcast ring=3", ic);
	CHECK(vm_config_text(SW, text) == 0, "config: %s", unm_reason());
	send_n(6);
	CHECK(ring_count(pc, 3) == 3, "unicast with dst_ring 3");
	CHECK(ring_count(pc, 0) == 3 && ring_count(pb, 0) == 3 && vt_drain(pa) == 0,
	      "broadcasts on ring 0");
	CHECK(ring_count(pc, 1) + ring_count(pc, 2) == 0, "frames on c's rings 1 or 2");
	printf("ok: dst_ring taken modulo the ring count, broadcasts on ring 0\n");

	vm_unload(SW);
	nmport_close(pa);
	nmport_close(pb);
	nmport_close(pc);
	return 0;
}

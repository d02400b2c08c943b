/*
 * 41_vale_module_l3fwd - the IPv4 forwarder module
 * (examples/vale-modules/l3fwd.c) sends each frame where its rules say.
 *
 * Test objective: with routes 10.1.0.0/16 -> p1, 10.1.2.0/24 -> p2,
 * 10.0.0.0/8 -> p3 and default drop, frames from p0 reach exactly the
 * port of the longest matching prefix (counted per port, contents
 * intact), also through an 802.1Q tag; unrouted IPv4 is dropped; non-IP
 * (ARP) floods; a frame routed back to its own port is dropped; a route
 * to a port that has not joined yet drops until it joins (port_attach);
 * NIOCCONFIG (on the switch's name or any of its ports' names) adds and
 * removes routes and changes the default; a command that does not parse
 * fails with EINVAL and changes nothing; the module's verdict counters
 * add up.
 *
 * Operations: load l3fwd.so into vale41r, open p0, p1, p2 (p3 later);
 * each check sends a burst of frames from one port, waits until the
 * switch has taken them, then counts the frames in every port's RX rings.
 */
#include "41_vale_module_util.h"

#define SW "vale41r"
#define NP 4
#define BURST 17

static struct nmport_d *port[NP];
static uint8_t mac[NP][6];
static uint32_t seq;
static uint64_t want_fwd, want_bcast, want_drop;

/* BURST frames from port `from`; expect[i] = port i gets them all.
 * kind: 0 IPv4, 1 IPv4 in 802.1Q, 2 ARP. */
static void burst(int from, int kind, uint32_t dst, const int expect[NP], const char *what)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t f[128], buf[2048];
	unsigned got[NP];
	int i, k, n = 0, len;

	for (k = 0; k < BURST; k++) {
		seq++;
		if (kind == 2) {
			vt_frame(f, 60, bcast, mac[from], 41, seq);
			f[12] = 0x08, f[13] = 0x06;
			len = 60;
		} else {
			len = 60 + k;
			vm_ipv4(f, (size_t)len, mac[(from + 1) % NP], mac[from], dst, kind == 1, 41, seq);
		}
		CHECK(vt_queue(port[from], f, (size_t)len, 0) == 0, "%s: TX ring full", what);
	}
	vt_flush(port[from], 5000);
	/* the last frame's contents, wherever it went */
	for (i = 0; i < NP; i++) {
		int got_len;

		if (!port[i] || !expect[i])
			continue;
		for (k = 0; k < BURST - 1; k++)
			CHECK(vt_recv(port[i], buf, sizeof(buf), 0, NULL, NULL) >= 0,
			      "%s: port p%d got only %d frames", what, i, k);
		got_len = vt_recv(port[i], buf, sizeof(buf), 0, NULL, NULL);
		CHECK(got_len == len && memcmp(buf, f, (size_t)len) == 0,
		      "%s: port p%d: the last frame differs (%d bytes)", what, i, got_len);
	}
	for (i = 0; i < NP; i++)
		got[i] = port[i] ? vt_drain(port[i]) : 0;
	for (i = 0; i < NP; i++) {
		CHECK(got[i] == 0, "%s: port p%d got %u frames too many", what, i, got[i]);
		n += expect[i];
	}
	if (n == 0)
		want_drop += BURST;
	else if (n == 1)
		want_fwd += BURST;
	else
		want_bcast += BURST;
	printf("ok: %s\n", what);
}

static void open_port(int i)
{
	char name[32];

	snprintf(name, sizeof(name), SW ":p%d", i);
	port[i] = vt_open(name);
}

int main(void)
{
	struct unm_vale_module_req mr;
	int i;

	for (i = 0; i < NP; i++)
		vt_mac(mac[i], 0x4110 + (unsigned)i);
	vm_load(SW, vm_stage("l3fwd"), "route 10.1.0.0/16 p1 route 10.1.2.0/24 vale41r:p2 "
		"route 10.0.0.0/8 p3 default drop");
	for (i = 0; i < 3; i++)
		open_port(i);

	burst(0, 0, vm_ip(10, 1, 2, 5), (const int[]){ 0, 0, 1, 0 }, "10.1.2.5: the /24 wins over the /16");
	burst(0, 0, vm_ip(10, 1, 3, 5), (const int[]){ 0, 1, 0, 0 }, "10.1.3.5 -> p1 (/16)");
	burst(0, 1, vm_ip(10, 1, 2, 9), (const int[]){ 0, 0, 1, 0 }, "802.1Q-tagged 10.1.2.9 -> p2");
	burst(0, 0, vm_ip(192, 168, 0, 1), (const int[]){ 0, 0, 0, 0 }, "unrouted: default drop");
	burst(0, 2, 0, (const int[]){ 0, 1, 1, 0 }, "ARP (not IPv4) floods");
	burst(1, 0, vm_ip(10, 1, 3, 1), (const int[]){ 0, 0, 0, 0 }, "routed back to its own port: dropped");
	burst(0, 0, vm_ip(10, 200, 0, 1), (const int[]){ 0, 0, 0, 0 }, "route to p3, not there yet: dropped");
	open_port(3);
	burst(0, 0, vm_ip(10, 200, 0, 1), (const int[]){ 0, 0, 0, 1 }, "p3 joined: 10.200.0.1 -> p3");

	/* run time changes, by the switch's name and by a port's */
	CHECK(vm_config_text(SW, "route 192.168.0.0/16 p1") == 0, "add a route: %s", unm_reason());
	burst(0, 0, vm_ip(192, 168, 0, 1), (const int[]){ 0, 1, 0, 0 }, "added 192.168.0.0/16 -> p1");
	CHECK(vm_config_text(SW ":p0", "unroute 10.1.2.0/24 default broadcast") == 0,
	      "remove a route: %s", unm_reason());
	burst(0, 0, vm_ip(10, 1, 2, 5), (const int[]){ 0, 1, 0, 0 }, "10.1.2.0/24 removed: the /16 -> p1");
	burst(0, 0, vm_ip(172, 16, 0, 1), (const int[]){ 0, 1, 1, 1 }, "default broadcast");
	CHECK(vm_config_text(SW, "route 10.1.2.0/33 p2") == EINVAL, "a bad prefix was accepted");
	CHECK(strstr(unm_reason(), "10.1.2.0/33"), "the refusal does not say which word: '%s'",
	      unm_reason());
	CHECK(vm_config_text(SW, "default drop route 10.1.2.0/24") == EINVAL,
	      "an incomplete command was accepted");
	burst(0, 0, vm_ip(10, 1, 2, 5), (const int[]){ 0, 1, 0, 0 }, "refused commands changed nothing");
	CHECK(vm_config_text("vale41nosuch", "flush") == EINVAL, "NIOCCONFIG of a missing switch");
	/* p3 leaves: its route drops again */
	vm_close(port[3], SW ":p3");
	port[3] = NULL;
	burst(0, 0, vm_ip(10, 200, 0, 1), (const int[]){ 0, 0, 0, 0 }, "p3 gone: its route drops");

	mr = vm_info(SW);
	CHECK(mr.forwarded == want_fwd && mr.broadcast == want_bcast && mr.dropped == want_drop &&
	      mr.invalid == 0, "verdicts: forwarded %llu/%llu broadcast %llu/%llu dropped "
	      "%llu/%llu invalid %llu", (unsigned long long)mr.forwarded,
	      (unsigned long long)want_fwd, (unsigned long long)mr.broadcast,
	      (unsigned long long)want_bcast, (unsigned long long)mr.dropped,
	      (unsigned long long)want_drop, (unsigned long long)mr.invalid);
	printf("ok: verdict counters add up\n");
	for (i = 0; i < 3; i++)
		nmport_close(port[i]);
	vm_unload(SW);
	return 0;
}

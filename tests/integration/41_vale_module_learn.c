/*
 * 41_vale_module_learn - the learning bridge rebuilt as a module
 * (examples/vale-modules/learn.c) forwards exactly as the built-in one,
 * and going back to the built-in restores learning.
 *
 * Test objective: the same sequence of frames, on a switch with the
 * built-in bridge and on a switch running learn.so, reaches exactly the
 * same ports (broadcast and multicast flood, a learned unicast reaches
 * only its port, an unknown one floods, a frame to the sender's own
 * address is dropped); the module's verdict counters add up; a port that
 * leaves is forgotten (port_detach); after --module default the switch
 * learns again from an empty table; a module loaded into a switch with
 * ports already in it gets them (port_attach) and forwards at once.
 *
 * Operations: switch vale41b keeps the built-in bridge, vale41m gets
 * learn.so before its ports exist.  Each step sends one frame from one
 * port, waits until the switch has taken it (and so delivered it), and
 * checks every port's RX rings.
 */
#include "41_vale_module_util.h"

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
static uint8_t mac[3][6], unknown[6];
static uint32_t seq;

struct sw {
	const char *name;
	struct nmport_d *port[3];
	char pname[3][32];
};

static void open_port(struct sw *s, int i)
{
	snprintf(s->pname[i], sizeof(s->pname[i]), "%s:%c", s->name, 'a' + i);
	s->port[i] = vt_open(s->pname[i]);
}

/* Send from port `from` to `dst`; expect[i]: port i must receive it. */
static void step(struct sw *s, int from, const uint8_t dst[6], const int expect[3],
		 const char *what)
{
	uint8_t f[60], buf[2048];
	int i;

	seq++;
	vt_frame(f, sizeof(f), dst, mac[from], 41, seq);
	vt_send(s->port[from], f, sizeof(f));
	for (i = 0; i < 3; i++) {
		int len;

		if (!s->port[i])
			continue;
		len = vt_recv(s->port[i], buf, sizeof(buf), 0, NULL, NULL);
		if (expect[i])
			CHECK(len == 60 && vt_frame_ok(buf, 60, 41, seq),
			      "%s: %s: %s did not get the frame (%d)", s->name, what, s->pname[i], len);
		else
			CHECK(len < 0, "%s: %s: %s received a frame it must not see", s->name, what,
			      s->pname[i]);
		CHECK(vt_drain(s->port[i]) == 0, "%s: %s: %s got extra frames", s->name, what,
		      s->pname[i]);
	}
}

/* The sequence of 40_vale_learn, then a port leaving and coming back. */
static void sequence(struct sw *s)
{
	step(s, 0, bcast, (const int[]){ 0, 1, 1 }, "broadcast floods");
	step(s, 1, mac[0], (const int[]){ 1, 0, 0 }, "learned unicast reaches only its port");
	step(s, 2, unknown, (const int[]){ 1, 1, 0 }, "unknown unicast floods");
	step(s, 0, mac[1], (const int[]){ 0, 1, 0 }, "unicast to b reaches only b");
	step(s, 2, mcast, (const int[]){ 1, 1, 0 }, "multicast floods");
	step(s, 1, mac[2], (const int[]){ 0, 0, 1 }, "unicast to c reaches only c");
	step(s, 0, mac[0], (const int[]){ 0, 0, 0 }, "a frame to the sender's own address is dropped");
	/* c leaves: what it taught is forgotten; it comes back unknown */
	vm_close(s->port[2], s->pname[2]);
	s->port[2] = NULL;
	step(s, 0, mac[2], (const int[]){ 0, 1, 0 }, "c gone: its address floods to b");
	open_port(s, 2);
	step(s, 0, mac[2], (const int[]){ 0, 1, 1 }, "c back, not yet heard from: flood");
	step(s, 2, mac[0], (const int[]){ 1, 0, 0 }, "c heard from");
	step(s, 1, mac[2], (const int[]){ 0, 0, 1 }, "c learned again");
	printf("ok: %s forwards as a learning bridge\n", s->name);
}

int main(void)
{
	struct sw b = { .name = "vale41b" }, m = { .name = "vale41m" };
	struct unm_vale_module_req mr;
	const char *learn = vm_stage("learn");
	int i;

	for (i = 0; i < 3; i++)
		vt_mac(mac[i], 0x4100 + (unsigned)i);
	vt_mac(unknown, 0x41ff);

	/* the module creates its switch; ports join it afterwards */
	vm_load(m.name, learn, "");
	for (i = 0; i < 3; i++) {
		open_port(&b, i);
		open_port(&m, i);
	}
	mr = vm_info(m.name);
	CHECK(strcmp(mr.name, "learn") == 0 && strcmp(mr.path, learn) == 0,
	      "module of %s: '%s' at '%s'", m.name, mr.name, mr.path);
	CHECK(strcmp(vm_info(b.name).name, "builtin") == 0, "vale41b runs '%s'", vm_info(b.name).name);

	sequence(&b);
	sequence(&m);
	/* both saw 11 frames: 5 flooded, 5 unicast, 1 dropped */
	mr = vm_info(m.name);
	CHECK(mr.forwarded == 5 && mr.broadcast == 5 && mr.dropped == 1 && mr.invalid == 0,
	      "learn.so verdicts: forwarded %llu broadcast %llu dropped %llu invalid %llu",
	      (unsigned long long)mr.forwarded, (unsigned long long)mr.broadcast,
	      (unsigned long long)mr.dropped, (unsigned long long)mr.invalid);
	mr = vm_info(b.name);
	CHECK(mr.forwarded == 5 && mr.broadcast == 5 && mr.dropped == 1 && mr.invalid == 0,
	      "built-in verdicts: forwarded %llu broadcast %llu dropped %llu invalid %llu",
	      (unsigned long long)mr.forwarded, (unsigned long long)mr.broadcast,
	      (unsigned long long)mr.dropped, (unsigned long long)mr.invalid);
	printf("ok: the verdict counters of module and built-in agree\n");

	/* back to the built-in: empty table, learning again */
	vm_unload(m.name);
	mr = vm_info(m.name);
	CHECK(strcmp(mr.name, "builtin") == 0 && mr.path[0] == '\0' && mr.forwarded == 0 &&
	      mr.broadcast == 0, "after unload: '%s' '%s' %llu %llu", mr.name, mr.path,
	      (unsigned long long)mr.forwarded, (unsigned long long)mr.broadcast);
	step(&m, 0, mac[1], (const int[]){ 0, 1, 1 }, "built-in back: b unknown, flood");
	step(&m, 1, mac[0], (const int[]){ 1, 0, 0 }, "built-in learned a");
	step(&m, 0, mac[1], (const int[]){ 0, 1, 0 }, "built-in learned b");
	printf("ok: --module default restores learning\n");

	/* loaded with ports in place: it knows them at once */
	vm_load(m.name, learn, "");
	step(&m, 0, mac[1], (const int[]){ 0, 1, 1 }, "module reloaded: fresh table, flood");
	step(&m, 1, mac[0], (const int[]){ 1, 0, 0 }, "module reloaded: learned a");
	step(&m, 2, mac[1], (const int[]){ 0, 1, 0 }, "module reloaded: learned b");
	printf("ok: a module loaded into a busy switch forwards at once\n");

	for (i = 0; i < 3; i++) {
		nmport_close(b.port[i]);
		nmport_close(m.port[i]);
	}
	/* the module keeps its switch until it is unloaded */
	mr = vm_info(m.name);
	CHECK(strcmp(mr.name, "learn") == 0, "switch without ports runs '%s'", mr.name);
	vm_unload(m.name);
	CHECK(vm_request(m.name, UNM_VALE_MOD_INFO, NULL, NULL, NULL) == ENXIO,
	      "%s still exists with no port and no module", m.name);
	printf("ok: a switch lives while its module is loaded\n");
	return 0;
}

/*
 * 40_vale_learn - the VALE switch as a learning bridge.
 *
 * Test objective: with three ports a, b, c on one switch, a broadcast
 * reaches every port but its sender; a unicast to a learned address
 * reaches only the port it was learned on; an unknown unicast and a
 * multicast flood; a frame to the sender's own learned address and a
 * runt (< 14 bytes) are dropped; nothing ever comes back to the sender.
 * Received single-slot frames carry netmap's flags (1 << 8), and every
 * counter of vale-ctl -s adds up.
 *
 * Operations: open vale40l:a, :b, :c in this process; send one frame at a
 * time and wait for the sender's TX ring to be given back (the switch has
 * then delivered), then look at every RX ring.
 */
#include "40_vale_util.h"

static struct nmport_d *port[3];
static uint8_t mac[3][6];
static const char *const pname[3] = { "vale40l:a", "vale40l:b", "vale40l:c" };
static uint32_t seq;

/* Send from port `from` to `dst`; `expect` has a 1 for each port that
 * must receive it. */
static void step(int from, const uint8_t dst[6], const int expect[3], const char *what)
{
	uint8_t f[60], buf[2048];
	int i;

	seq++;
	vt_frame(f, sizeof(f), dst, mac[from], 40, seq);
	vt_send(port[from], f, sizeof(f));
	for (i = 0; i < 3; i++) {
		uint16_t fl = 0;
		unsigned nf = 0;
		int len = vt_recv(port[i], buf, sizeof(buf), 0, &nf, &fl);

		if (expect[i]) {
			CHECK(len == 60, "%s: port %s got %d bytes, expected the frame", what,
			      pname[i], len);
			CHECK(vt_frame_ok(buf, 60, 40, seq), "%s: port %s: wrong contents", what,
			      pname[i]);
			CHECK(nf == 1 && fl == (1u << 8), "%s: %s: %u fragments, flags %#x "
			      "(netmap: 1 fragment, flags 0x100)", what, pname[i], nf, fl);
		} else {
			CHECK(len < 0, "%s: port %s received a frame it must not see", what,
			      pname[i]);
		}
		CHECK(vt_drain(port[i]) == 0, "%s: port %s got extra frames", what, pname[i]);
	}
	printf("ok: %s\n", what);
}

int main(void)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	uint8_t unknown[6], runt[10];
	struct unm_vale_stats st[3];
	int i;

	for (i = 0; i < 3; i++) {
		port[i] = vt_open(pname[i]);
		vt_mac(mac[i], 0x4000 + (unsigned)i);
	}
	vt_mac(unknown, 0x40ff);
	/* every port has its own memory region */
	CHECK(port[0]->reg.nr_mem_id != port[1]->reg.nr_mem_id &&
	      port[1]->reg.nr_mem_id != port[2]->reg.nr_mem_id,
	      "regions %u %u %u", port[0]->reg.nr_mem_id, port[1]->reg.nr_mem_id,
	      port[2]->reg.nr_mem_id);

	step(0, bcast, (const int[]){ 0, 1, 1 }, "broadcast from a reaches b and c");
	step(1, mac[0], (const int[]){ 1, 0, 0 }, "unicast to a's learned address reaches only a");
	step(2, unknown, (const int[]){ 1, 1, 0 }, "unknown unicast floods to a and b");
	step(0, mac[1], (const int[]){ 0, 1, 0 }, "unicast to b's learned address reaches only b");
	step(2, mcast, (const int[]){ 1, 1, 0 }, "multicast floods");
	step(1, mac[2], (const int[]){ 0, 0, 1 }, "unicast to c's learned address reaches only c");
	step(0, mac[0], (const int[]){ 0, 0, 0 }, "a frame to the sender's own address is dropped");

	/* a runt: dropped, and the ring still comes back */
	memset(runt, 0xff, sizeof(runt));
	vt_send(port[1], runt, sizeof(runt));
	for (i = 0; i < 3; i++)
		CHECK(vt_drain(port[i]) == 0, "the runt reached %s", pname[i]);
	printf("ok: frames shorter than 14 bytes are dropped\n");

	/* a moves: after it sends from c's address, frames for that address
	 * go to a */
	{
		uint8_t f[60], buf[128];

		vt_frame(f, sizeof(f), bcast, mac[2], 40, ++seq);
		vt_send(port[0], f, sizeof(f));
		vt_drain(port[1]);
		vt_drain(port[2]);
		vt_frame(f, sizeof(f), mac[2], mac[1], 40, ++seq);
		vt_send(port[1], f, sizeof(f));
		CHECK(vt_recv(port[0], buf, sizeof(buf), 0, NULL, NULL) == 60,
		      "a did not get the frame for the address it took over");
		CHECK(vt_drain(port[2]) == 0, "c still gets frames for the address a took over");
		printf("ok: a source address seen on another port is re-learned\n");
	}

	/* counters: a sent 3 (+1 dropped), b 3 (+1 runt), c 2 */
	for (i = 0; i < 3; i++)
		CHECK(vt_stats(pname[i], &st[i]) == 0, "stats %s", pname[i]);
	CHECK(st[0].tx_pkts == 3 && st[0].tx_drops == 1, "a: tx %llu drops %llu",
	      (unsigned long long)st[0].tx_pkts, (unsigned long long)st[0].tx_drops);
	CHECK(st[1].tx_pkts == 3 && st[1].tx_drops == 1, "b: tx %llu drops %llu",
	      (unsigned long long)st[1].tx_pkts, (unsigned long long)st[1].tx_drops);
	CHECK(st[2].tx_pkts == 2 && st[2].tx_drops == 0, "c: tx %llu drops %llu",
	      (unsigned long long)st[2].tx_pkts, (unsigned long long)st[2].tx_drops);
	CHECK(st[0].rx_pkts == 4 && st[1].rx_pkts == 5 && st[2].rx_pkts == 3,
	      "rx %llu %llu %llu", (unsigned long long)st[0].rx_pkts,
	      (unsigned long long)st[1].rx_pkts, (unsigned long long)st[2].rx_pkts);
	CHECK(st[1].rx_bytes == 5 * 60, "b rx_bytes %llu", (unsigned long long)st[1].rx_bytes);
	for (i = 0; i < 3; i++)
		CHECK(st[i].rx_drops == 0 && st[i].errors == 0, "%s: drops %llu errors %llu",
		      pname[i], (unsigned long long)st[i].rx_drops,
		      (unsigned long long)st[i].errors);
	printf("ok: counters\n");

	for (i = 0; i < 3; i++)
		nmport_close(port[i]);
	/* ephemeral ports and their switch are gone with their last user */
	CHECK(vt_port_idx("vale40l:a") == -ENOENT, "switch vale40l still exists");
	printf("ok: the switch went away with its last port\n");
	return 0;
}

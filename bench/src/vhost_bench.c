/*
 * vhost_bench - the vhost-user backend's own cost per packet, without a
 * VM: a host thread plays the guest's virtio-net driver on real split
 * rings in memfd memory, doing as little as a driver can (it recycles the
 * same chains and never touches payloads), so the rate is set by the
 * backend: the device of daemon/vm, driven as netmapd drives it (protocol
 * thread, forwarding thread with the pause/resume handshake).
 *
 *   guest->backend  the guest keeps its transmit ring full of prebuilt
 *                   frames; the backend takes each one and copies it out
 *                   (as the switch copies into a netmap buffer)
 *   backend->guest  the backend copies one frame after another into the
 *                   guest's receive buffers (2 KB, mergeable); the guest
 *                   gives the buffers straight back
 *
 * Features are QEMU's defaults (VERSION_1, MRG_RXBUF, EVENT_IDX,
 * INDIRECT_DESC); the guest asks for no interrupts and kicks when the
 * backend asks (event index), as a busy Linux guest does.  Guest on CPU
 * 0, forwarding thread on CPU 1 (-a).
 *
 * With -1 the guest driver and the data path alternate on one thread, in
 * batches of 256 (the forwarding thread idles): no cache line travels
 * between cores, and the figure is the backend's own work per packet plus
 * the minimal driver's, in ns per packet too.
 *
 * usage: vhost_bench [-1] [-b batch] [-d tx|rx] [-l len] [-s seconds]
 *                    [-r runs] [-q size] [-a gcpu,bcpu] [-h]
 * Without -d and -l: both directions at 60 and 1514 bytes.  Prints one
 * Markdown table row per scenario: median, min and max Mpps of the runs.
 */
#define VH_PROG "vhost_bench"
#include "../../tests/integration/vu_harness.h"

#include <sched.h>

struct bcfg {
	bool single;
	unsigned batch;
	double seconds;
	unsigned runs;
	uint16_t qsize;
	int gcpu, bcpu;
};

static void pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void pin_thread(pthread_t t, int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(t, sizeof(set), &set);
}

static double now_s(void)
{
	return vh_now_ns() / 1e9;
}

/* The guest's transmit side: every head is a one-descriptor chain with
 * header and frame written once; completed heads go straight back. */
static void tx_prepare(struct vg *g, uint32_t len)
{
	struct vg_q *q = &g->q[NMD_VU_TXQ];
	unsigned h;

	for (h = 0; h < q->num; h++) {
		uint32_t buf = VG_RX_AREA + 0x800000u + h * 2048u;

		memset(g->mem + buf, 0, g->hdr_len);
		make_frame((uint8_t *)g->mem + buf + g->hdr_len, len, h);
		q->desc[h] = (struct nmd_vring_desc){ vg_gpa(buf), g->hdr_len + len, 0, 0 };
		q->avail->ring[h] = (uint16_t)h;
	}
	q->avail_idx = q->num;
	vg_publish(g, NMD_VU_TXQ);
}

/* Recycle what came back; returns how many. */
static unsigned recycle(struct vg *g, unsigned qi)
{
	struct vg_q *q = &g->q[qi];
	uint16_t u = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE), n = 0;

	while (q->last_used != u) {
		uint32_t id = q->used->ring[q->last_used & (q->num - 1)].id;

		q->avail->ring[q->avail_idx & (q->num - 1)] = (uint16_t)id;
		q->avail_idx++;
		q->last_used++;
		n++;
	}
	if (n)
		vg_publish(g, qi);
	return n;
}

static void rx_prepare(struct vg *g)
{
	struct vg_q *q = &g->q[NMD_VU_RXQ];
	unsigned h;

	for (h = 0; h < q->num; h++) {
		q->desc[h] = (struct nmd_vring_desc){ vg_gpa(VG_RX_AREA + h * 2048u), 2048,
						      UNM_VRING_DESC_F_WRITE, 0 };
		q->avail->ring[h] = (uint16_t)h;
	}
	q->avail_idx = q->num;
	vg_publish(g, NMD_VU_RXQ);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One scenario: runs measurements of c->seconds each; median etc. in mpps. */
static int scenario(const struct bcfg *c, bool tx, uint32_t len, double *mpps)
{
	unsigned qi = tx ? NMD_VU_TXQ : NMD_VU_RXQ, r;
	struct tb *t;
	struct vg g;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	t = tb_start(NULL, false, 0, c->single ? TB_IDLE : tx ? TB_SINK : TB_SOURCE);
	t->src_len = len;
	t->batch = c->batch;
	make_frame((uint8_t *)t->src, len, 0);
	pin_thread(t->fwd, c->bcpu);
	tb_attach(t, sv[0]);
	vg_open(&g, NULL, sv[1], NMD_VU_FEATURES, c->qsize);
	if (!tb_wait(t, running_both, 3000)) {
		fprintf(stderr, VH_PROG ": queues did not start\n");
		return -1;
	}
	vg_intr(&g, NMD_VU_TXQ, false);
	vg_intr(&g, NMD_VU_RXQ, false);
	if (tx)
		tx_prepare(&g, len);
	else
		rx_prepare(&g);
	for (r = 0; r <= c->runs; r++) {
		double t0 = now_s(), end = t0 + (r == 0 ? 0.3 : c->seconds), t1;
		uint64_t n = 0;
		unsigned k = 0;

		/* run 0 warms up and is not counted */
		do {
			n += recycle(&g, qi);
			if (c->single) {
				/* the backend's turn, one session, as its thread would */
				unsigned i;

				pthread_mutex_lock(&t->dp);
				if (tx) {
					nmd_vu_tx_burst(t->dev, tb_sink, t, c->batch);
				} else {
					for (i = 0; i < c->batch; i++)
						if (nmd_vu_rx_deliver(t->dev, t->src, len) < 0)
							break;
					nmd_vu_rx_flush(t->dev);
				}
				pthread_mutex_unlock(&t->dp);
			}
			if (++k % 1024 == 0)
				t1 = now_s();
			else
				t1 = t0;
		} while (t1 < end);
		t1 = now_s();
		if (r)
			mpps[r - 1] = n / (t1 - t0) / 1e6;
	}
	vg_close(&g);
	tb_stop(t);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vhost_bench [-1] [-b batch] [-d tx|rx] [-l len] [-s seconds] [-r runs]\n"
		"                   [-q size] [-a gcpu,bcpu] [-h]\n"
		"  -1          guest driver and backend on one thread, taking turns (ns/packet)\n"
		"  -b batch    frames the backend handles per session, 1..256 (default 64)\n"
		"  -d tx|rx    tx: guest->backend, rx: backend->guest (default: both)\n"
		"  -l len      frame length, 60..1514 (default: 60 and 1514)\n"
		"  -s seconds  length of one measured run (default 2)\n"
		"  -r runs     measured runs per scenario (default 5); the median is reported\n"
		"  -q size     virtqueue size, a power of two up to 256 (default 256)\n"
		"  -a g,b      CPUs of the guest driver and the backend's forwarding\n"
		"              thread (default 0,1; -1 leaves a side unpinned)\n"
		"Prints one Markdown row per scenario: direction, bytes, median, min, max Mpps.\n");
}

int main(int argc, char **argv)
{
	struct bcfg c = { .seconds = 2, .runs = 5, .qsize = 256, .gcpu = 0, .bcpu = 1,
			  .batch = 64 };
	static const uint32_t flens[] = { 60, 1514 };
	int dir = -1, opt;
	uint32_t len = 0;
	unsigned d, l;

	while ((opt = getopt(argc, argv, "1b:d:l:s:r:q:a:h")) != -1) {
		switch (opt) {
		case '1':
			c.single = true;
			break;
		case 'b':
			c.batch = (unsigned)atoi(optarg);
			break;
		case 'd':
			if (strcmp(optarg, "tx") && strcmp(optarg, "rx")) {
				usage(stderr);
				return 2;
			}
			dir = !strcmp(optarg, "tx");
			break;
		case 'l':
			len = (uint32_t)atoi(optarg);
			break;
		case 's':
			c.seconds = atof(optarg);
			break;
		case 'r':
			c.runs = (unsigned)atoi(optarg);
			break;
		case 'q':
			c.qsize = (uint16_t)atoi(optarg);
			break;
		case 'a':
			if (sscanf(optarg, "%d,%d", &c.gcpu, &c.bcpu) != 2) {
				usage(stderr);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if ((len && (len < 60 || len > 1514)) || c.seconds <= 0 || c.runs < 1 || c.runs > 100 ||
	    c.qsize < 2 || c.qsize > VG_MAX_NUM || (c.qsize & (c.qsize - 1)) ||
	    c.batch < 1 || c.batch > NMD_VU_BURST) {
		usage(stderr);
		return 2;
	}
	pin_self(c.gcpu);
	printf("| direction | bytes | Mpps median | min | max | runs x s | cores | batch |%s\n",
	       c.single ? " ns/packet |" : "");
	printf("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |%s\n",
	       c.single ? " ---: |" : "");
	for (d = 0; d < 2; d++) {
		bool tx = d == 0;

		if (dir >= 0 && (bool)dir != tx)
			continue;
		for (l = 0; l < 2; l++) {
			double mpps[100];
			uint32_t fl = len ? len : flens[l];

			if (len && l)
				break;
			if (scenario(&c, tx, fl, mpps) < 0)
				return 1;
			qsort(mpps, c.runs, sizeof(mpps[0]), cmp_d);
			printf("| %s | %u | %.2f | %.2f | %.2f | %u x %g | %d | %u |", tx ?
			       "guest->backend" : "backend->guest", fl, mpps[c.runs / 2], mpps[0],
			       mpps[c.runs - 1], c.runs, c.seconds, c.single ? 1 : 2, c.batch);
			if (c.single)
				printf(" %.1f |", 1e3 / mpps[c.runs / 2]);
			putchar('\n');
			fflush(stdout);
		}
	}
	return 0;
}

/*
 * pkt-gen -- netmap's packet generator and sink, for unetmap.
 *
 * Command line, periodic report and final summary follow netmap's
 * pkt-gen (see pkt-gen.8), so that scripts written for it work with
 * this one.  This file: set-up (port, frame, threads), the report loop
 * and the summary.  The loops themselves are in bodies.c, command line
 * parsing in args.c, frames in frame.c.
 *
 * Threads: with -p N each thread opens its own descriptor on one ring
 * (nmport_clone() + NR_REG_ONE_NIC), as netmap's pkt-gen does.  Each
 * thread publishes its counters; the main thread sums them every -T ms
 * and wakes up early when the last thread finishes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <math.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "run.h"
#include "unm_nic.h"

static struct pg_targ *targs;
static int global_nthreads;
static volatile sig_atomic_t got_signal;

/* SIGINT / SIGTERM: ask every thread to stop; a second one ends us now. */
static void
sigint_h(int sig)
{
	int i;

	if (got_signal)
		_exit(128 + sig);
	got_signal = sig;
	for (i = 0; i < global_nthreads; i++)
		__atomic_store_n(&targs[i].cancel, 1, __ATOMIC_RELAXED);
}

/* Find the MAC address of the interface behind a "netmap:IF..." name. */
static int
source_hwaddr(const char *ifname, char *buf, size_t len)
{
	struct ifaddrs *head, *ifa;
	char name[IFNAMSIZ + 1];
	size_t l;
	int found = 0;

	if (strncmp(ifname, "netmap:", 7) == 0)
		ifname += 7;
	l = strcspn(ifname, "-*^/@{}");
	if (l == 0 || l > IFNAMSIZ)
		return -1;
	memcpy(name, ifname, l);
	name[l] = '\0';
	if (getifaddrs(&head) != 0) {
		D("getifaddrs %s failed", name);
		return -1;
	}
	for (ifa = head; ifa != NULL; ifa = ifa->ifa_next) {
		const struct sockaddr_ll *sll = (const void *)ifa->ifa_addr;

		if (sll == NULL || sll->sll_family != AF_PACKET ||
		    strcmp(ifa->ifa_name, name) != 0 || sll->sll_halen != 6)
			continue;
		snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x",
			 sll->sll_addr[0], sll->sll_addr[1], sll->sll_addr[2],
			 sll->sll_addr[3], sll->sll_addr[4], sll->sll_addr[5]);
		found = 1;
		break;
	}
	freeifaddrs(head);
	return found ? 0 : -1;
}

/* MTU of a real interface; 65536 for software ports (pipes, VALE, null). */
static int
get_if_mtu(const struct pg_glob *g)
{
	const char *name = g->nmd->hdr.nr_name;
	struct ifreq ifr;
	int s, mtu = 65536;

	if (strncmp(g->c->ifname, "netmap:", 7) != 0 || strchr(name, '{') ||
	    strchr(name, '}'))
		return mtu;
	if (strlen(name) >= IFNAMSIZ) {
		D("'%s' too long, cannot ask for MTU", name);
		return -1;
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		D("socket() failed: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, name);
	if (ioctl(s, SIOCGIFMTU, &ifr) < 0) {
		/* not a system interface: nothing to check */
		mtu = -1;
	} else {
		mtu = ifr.ifr_mtu;
	}
	close(s);
	return mtu;
}

/* Virtio-net header: set it if -H was given, else ask what the port uses. */
static void
vnet_hdr(struct pg_glob *g)
{
	struct nmreq_header hdr;
	struct nmreq_port_hdr ph;

	hdr = g->nmd->hdr;
	hdr.nr_options = 0;
	memset(&ph, 0, sizeof(ph));
	hdr.nr_body = (uintptr_t)&ph;
	if (g->c->virt_header) {
		hdr.nr_reqtype = NETMAP_REQ_PORT_HDR_SET;
		ph.nr_hdr_len = (uint32_t)g->c->virt_header;
		if (ioctl(g->main_fd, NIOCCTRL, &hdr) < 0)
			D("Unable to set virtio-net header length %d",
			  g->c->virt_header);
		g->virt_header = g->c->virt_header;
		return;
	}
	hdr.nr_reqtype = NETMAP_REQ_PORT_HDR_GET;
	if (ioctl(g->main_fd, NIOCCTRL, &hdr) < 0) {
		if (g->c->verbose)
			D("Unable to get virtio-net header length");
		return;
	}
	g->virt_header = (int)ph.nr_hdr_len;
	if (g->virt_header)
		D("Port requires virtio-net header, length = %d", g->virt_header);
}

static int
open_port(struct pg_glob *g)
{
	const struct pg_conf *c = g->c;
	struct nmreq_register *reg;

	g->nmd = nmport_prepare(c->ifname);
	if (g->nmd == NULL)
		return -1;
	reg = &g->nmd->reg;
	if (c->ring_conf != NULL) {
		D("WARNING: the 'C' option is deprecated, use the '@conf:' libnetmap option instead");
		reg->nr_tx_slots = c->tx_slots;
		reg->nr_rx_slots = c->rx_slots;
		reg->nr_tx_rings = (uint16_t)c->tx_rings;
		reg->nr_rx_rings = (uint16_t)c->rx_rings;
		D("txr %d txd %d rxr %d rxd %d", reg->nr_tx_rings, reg->nr_tx_slots,
		  reg->nr_rx_rings, reg->nr_rx_slots);
	}
	reg->nr_flags |= NR_ACCEPT_VNET_HDR;
	g->orig_mode = reg->nr_mode;
	if (g->nthreads > 1) {
		/* thread 0 takes ring 0, the others clone and take theirs */
		if (g->orig_mode == NR_REG_ALL_NIC || g->orig_mode == NR_REG_NIC_SW)
			reg->nr_mode = NR_REG_ONE_NIC;
		else if (g->orig_mode == NR_REG_SW)
			reg->nr_mode = NR_REG_ONE_SW;
		reg->nr_ringid = 0;
	}
	if (nmport_open_desc(g->nmd) < 0) {
		nmport_undo_prepare(g->nmd);
		g->nmd = NULL;
		return -1;
	}
	g->main_fd = g->nmd->fd;
	vnet_hdr(g);
	return 0;
}

static void
print_layout(const struct pg_glob *g)
{
	const struct nmreq_register *req = &g->nmd->reg;
	struct netmap_if *nifp = g->nmd->nifp;
	int i;

	D("nifp at offset %llu ntxqs %d nrxqs %d memid %d",
	  (unsigned long long)req->nr_offset, req->nr_tx_rings, req->nr_rx_rings,
	  req->nr_mem_id);
	for (i = 0; i < req->nr_tx_rings + req->nr_host_tx_rings; i++) {
		if (nifp->ring_ofs[i] == 0)
			continue;
		D("   TX%d at offset %p slots %d", i,
		  (void *)((char *)NETMAP_TXRING(nifp, i) - (char *)nifp),
		  NETMAP_TXRING(nifp, i)->num_slots);
	}
	for (i = 0; i < req->nr_rx_rings + req->nr_host_rx_rings; i++) {
		if (nifp->ring_ofs[i + nifp->ni_tx_rings + nifp->ni_host_tx_rings] == 0)
			continue;
		D("   RX%d at offset %p slots %d", i,
		  (void *)((char *)NETMAP_RXRING(nifp, i) - (char *)nifp),
		  NETMAP_RXRING(nifp, i)->num_slots);
	}
}

static int
build_frame(struct pg_glob *g, const char *src_mac)
{
	const struct pg_conf *c = g->c;
	struct pg_frame_spec s;
	char err[256];
	int rv;

	if (c->packet_file != NULL) {
		if (pg_frame_load_pcap(&g->frame, c->packet_file,
				       (unsigned)g->virt_header, err, sizeof(err)) < 0) {
			D("%s", err);
			return -1;
		}
		return 0;
	}
	memset(&s, 0, sizeof(s));
	s.af = c->af;
	s.len = (unsigned)c->pkt_size;
	s.vh_len = (unsigned)g->virt_header;
	if (pg_parse_mac(s.src_mac, src_mac) < 0)
		memset(s.src_mac, 0, sizeof(s.src_mac));
	memcpy(s.dst_mac, c->dst_mac.addr, 6);
	s.src4 = c->src_ip.v4_start;
	s.dst4 = c->dst_ip.v4_start;
	s.src6 = c->src_ip.v6_start;
	s.dst6 = c->dst_ip.v6_start;
	s.sport = c->src_ip.port0;
	s.dport = c->dst_ip.port0;
	s.payload = (c->options & OPT_INDIRECT) ? "netmap pkt-gen indirect payload\n"
						: "netmap pkt-gen DIRECT payload\n";
	rv = pg_frame_init(&g->frame, &s);
	if (rv < 0) {
		D("cannot build the frame: %s", strerror(-rv));
		return -1;
	}
	return 0;
}

/* Bytes of g->frame.mem: virtio header, then at least the headers. */
static size_t
frame_bytes(const struct pg_frame *f)
{
	return f->vh_len + (f->len > f->pl_off ? f->len : f->pl_off);
}

static void
free_targ(struct pg_targ *t)
{
	free(t->pkt);
	free(t->scratch);
	free(t->hist);
	t->pkt = t->scratch = NULL;
	t->hist = NULL;
}

/* Per-thread state and descriptors; thread 0 uses the main descriptor. */
static int
setup_threads(struct pg_glob *g)
{
	const struct pg_conf *c = g->c;
	uint64_t seed = (uint64_t)pg_ts_ns(pg_now()) ^ ((uint64_t)getpid() << 32);
	int i;

	for (i = 0; i < g->nthreads; i++) {
		struct pg_targ *t = &targs[i];
		size_t fb = frame_bytes(&g->frame);

		t->g = g;
		t->me = i;
		t->fd = -1;
		t->ctr.min_space = 99999;
		t->affinity = -1;
		if (c->affinity >= 0) {
			/*
			 * thread i on cpu a+i, within the -c cpus if given.
			 * (netmap computes (a+i) % cpus with cpus = 1 unless -c
			 * is given, which pins every thread to cpu 0.)
			 */
			int span = c->cpus_given ? g->cpus : g->system_cpus;

			t->affinity = (c->affinity + i % span) % g->system_cpus;
		}
		t->rng = (seed + (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ULL) | 1;
		pg_addr_iter_init(&t->it, c, pg_rand(&t->rng) | 1);
		t->pkt = malloc(fb + 128);
		if (t->pkt == NULL)
			return -1;
		memcpy(t->pkt, g->frame.mem, fb);
		memset(t->pkt + fb, 0, 128);
		if (c->options & (OPT_COPY | OPT_MEMCPY)) {
			t->scratch = malloc(PG_MAX_PKT_SIZE + 128);
			if (t->scratch == NULL)
				return -1;
		}
		if (c->func == PG_F_PING) {
			t->hist = calloc(2, sizeof(*t->hist));
			if (t->hist == NULL)
				return -1;
		}
		if (c->dev == PG_DEV_DUMMY)
			continue;
		if (i == 0) {
			t->nmd = g->nmd;
		} else {
			int ring = i, hw;

			t->nmd = nmport_clone(g->nmd);
			if (t->nmd == NULL)
				return -1;
			/* past the hardware rings come the host rings (with '*') */
			hw = g->td_type == PG_TD_RECEIVER ? g->nmd->reg.nr_rx_rings :
							    g->nmd->reg.nr_tx_rings;
			if (g->orig_mode == NR_REG_NIC_SW && ring >= hw) {
				t->nmd->reg.nr_mode = NR_REG_ONE_SW;
				ring -= hw;
			}
			t->nmd->reg.nr_ringid = (uint16_t)(ring & NETMAP_RING_MASK);
			if (g->td_type == PG_TD_RECEIVER)
				t->nmd->reg.nr_flags |= NETMAP_NO_TX_POLL;
			if (nmport_open_desc(t->nmd) < 0) {
				nmport_undo_prepare(t->nmd);
				t->nmd = NULL;
				return -1;
			}
		}
		t->fd = t->nmd->fd;
	}
	return 0;
}

static void *
run_thread(void *arg)
{
	struct pg_targ *t = arg;
	struct pg_glob *g = t->g;

	g->body(t);
	pthread_mutex_lock(&g->lock);
	__atomic_store_n(&t->used, 0, __ATOMIC_RELAXED);
	g->ndone++;
	pthread_cond_signal(&g->cond);
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

static int
start_threads(struct pg_glob *g)
{
	int i, err;

	D("Wait %d secs for phy reset", g->c->wait_link);
	sleep((unsigned)g->c->wait_link);
	D("Ready...");
	for (i = 0; i < g->nthreads; i++) {
		struct pg_targ *t = &targs[i];

		t->used = 1;
		err = pthread_create(&t->thread, NULL, run_thread, t);
		if (err == 0) {
			t->started = 1;
		} else {
			D("Unable to create thread %d: %s", i, strerror(err));
			t->used = 0;
			pthread_mutex_lock(&g->lock);
			g->ndone++;
			pthread_mutex_unlock(&g->lock);
		}
	}
	return 0;
}

/*
 * Wait until the next report is due or every thread is done.
 * Returns the microseconds since *prev and updates it.
 */
static uint64_t
wait_for_next_report(struct pg_glob *g, struct timespec *prev, int *all_done)
{
	struct timespec deadline = *prev, now;
	int64_t ns;

	deadline.tv_sec += g->c->report_ms / 1000;
	deadline.tv_nsec += (long)(g->c->report_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&g->lock);
	while (g->ndone < g->nthreads) {
		if (pthread_cond_timedwait(&g->cond, &g->lock, &deadline) == ETIMEDOUT)
			break;
	}
	*all_done = g->ndone >= g->nthreads;
	pthread_mutex_unlock(&g->lock);
	now = pg_now();
	ns = pg_ts_ns(now) - pg_ts_ns(*prev);
	return ns > 0 ? (uint64_t)ns / 1000 : 0;
}

/* The periodic report, netmap's main_thread() line. */
static void
main_thread(struct pg_glob *g)
{
	const struct pg_conf *c = g->c;
	uint64_t prev_pkts = 0, prev_bytes = 0, prev_events = 0;
	struct timespec prev_t = pg_now();
	int said_signal = 0;

	for (;;) {
		char b1[40], b2[40], b3[40], b4[100];
		uint64_t pkts = 0, bytes = 0, events = 0, min_space = 0;
		uint64_t usec, pps, dp, db, de;
		int i, done;
		double abs;

		usec = wait_for_next_report(g, &prev_t, &done);
		if (got_signal && !said_signal) {
			D("received control-C on thread %p", (void *)pthread_self());
			said_signal = 1;
		}
		if (usec < 10000 && !done)	/* too short to be meaningful */
			continue;
		for (i = 0; i < g->nthreads; i++) {
			struct pg_ctrs *x = &targs[i].ctr;

			pkts += __atomic_load_n(&x->pkts, __ATOMIC_RELAXED);
			bytes += __atomic_load_n(&x->bytes, __ATOMIC_RELAXED);
			events += __atomic_load_n(&x->events, __ATOMIC_RELAXED);
			min_space += __atomic_load_n(&x->min_space, __ATOMIC_RELAXED);
			__atomic_store_n(&x->min_space, 99999, __ATOMIC_RELAXED);
		}
		if (usec >= 1000) {
			dp = pkts - prev_pkts;
			db = bytes - prev_bytes;
			de = events - prev_events;
			pps = (dp * 1000000 + usec / 2) / usec;
			abs = de > 0 ? (double)dp / (double)de : 0;
			b4[0] = '\0';
			if (c->options & OPT_PPS_STATS) {
				double avg = 0, dev = 0;
				int ns = 0;

				g->win[g->win_idx] = (int64_t)pps;
				g->win_idx = (g->win_idx + 1) % PG_STATS_WIN;
				for (i = 0; i < PG_STATS_WIN; i++) {
					avg += (double)g->win[i];
					ns += g->win[i] != 0;
				}
				avg /= ns ? ns : 1;
				for (i = 0; i < PG_STATS_WIN; i++)
					if (g->win[i] != 0)
						dev += ((double)g->win[i] - avg) *
						       ((double)g->win[i] - avg);
				dev = sqrt(dev / (ns ? ns : 1));
				snprintf(b4, sizeof(b4), "[avg/std %s/%s pps]",
					 pg_norm(b1, sizeof(b1), avg, c->normalize),
					 pg_norm(b2, sizeof(b2), dev, c->normalize));
			}
			D("%spps %s(%spkts %sbps in %llu usec) %.2f avg_batch %d min_space",
			  pg_norm(b1, sizeof(b1), (double)pps, c->normalize), b4,
			  pg_norm(b2, sizeof(b2), (double)dp, c->normalize),
			  pg_norm(b3, sizeof(b3), 1000000.0 * ((double)db * 8 +
					(double)dp * c->framing) / (double)usec, c->normalize),
			  (unsigned long long)usec, abs, (int)min_space);
			prev_pkts = pkts;
			prev_bytes = bytes;
			prev_events = events;
			prev_t = pg_now();
		}
		if (done)
			break;
	}
}

/* netmap's final summary on stdout. */
static void
tx_output(const struct pg_conf *c, uint64_t pkts, uint64_t bytes,
	  uint64_t events, double delta, const char *msg)
{
	char b1[40], b2[80], b3[80];
	double pps, bw, raw_bw, abs;
	int size;

	if (pkts == 0) {
		printf("%s nothing.\n", msg);
		return;
	}
	size = (int)(bytes / pkts);
	printf("%s %llu packets %llu bytes %llu events %d bytes each in %.2f seconds.\n",
	       msg, (unsigned long long)pkts, (unsigned long long)bytes,
	       (unsigned long long)events, size, delta);
	if (delta <= 0)
		delta = 1e-6;
	pps = (double)pkts / delta;
	bw = 8.0 * (double)bytes / delta;
	raw_bw = (8.0 * (double)bytes + (double)pkts * c->framing) / delta;
	abs = events ? (double)pkts / (double)events : 0;
	printf("Speed: %spps Bandwidth: %sbps (raw %sbps). Average batch: %.2f pkts\n",
	       pg_norm(b1, sizeof(b1), pps, c->normalize),
	       pg_norm(b2, sizeof(b2), bw, c->normalize),
	       pg_norm(b3, sizeof(b3), raw_bw, c->normalize), abs);
}

/*
 * unetmap: on an interface, what the kernel dropped on its way to the
 * port, and the mode (UNM_REQ_NIC_INFO): netmap's own lines cannot say
 * it, so it is a line of its own after them.  Nothing for other ports.
 */
static int
nic_info(const struct pg_glob *g, struct unm_nic_info *ni)
{
	struct nmreq_header hdr;

	/* only names that may be interfaces (no VALE port, no pipe) */
	if (g->nmd == NULL || strncmp(g->c->ifname, "netmap:", 7) != 0 ||
	    strpbrk(g->nmd->hdr.nr_name, "{}:") != NULL)
		return -1;
	memset(ni, 0, sizeof(*ni));
	nmreq_header_init(&hdr, UNM_REQ_NIC_INFO, ni);
	memcpy(hdr.nr_name, g->nmd->hdr.nr_name, sizeof(hdr.nr_name));
	return ioctl(g->main_fd, NIOCCTRL, &hdr);
}

static void
nic_output(const struct unm_nic_info *ni)
{
	printf("Kernel: %s, %u queue(s): %llu dropped (RX ring full %llu, fill ring "
	       "empty %llu), invalid descriptors rx %llu tx %llu\n",
	       unm_nic_mode_desc(ni->mode), ni->queues, (unsigned long long)ni->rx_drops,
	       (unsigned long long)ni->rx_ring_full, (unsigned long long)ni->rx_fill_empty,
	       (unsigned long long)ni->rx_invalid, (unsigned long long)ni->tx_invalid);
	/* the veth fast path (common/unm_veth.h) */
	if (ni->link == UNM_NIC_LINK_PEER)
		printf("Veth: linked to the other end (no kernel on the data path); "
		       "%llu frames dropped at mode switches\n",
		       (unsigned long long)ni->link_drops);
	else if (ni->link_drops)
		printf("Veth: %llu frames dropped at mode switches\n",
		       (unsigned long long)ni->link_drops);
}

/*
 * Join the threads, close their descriptors, free their state and, if
 * report is set, print the summary.  Returns the exit status.
 */
static int
finish(struct pg_glob *g, int report)
{
	uint64_t pkts = 0, bytes = 0, events = 0;
	int64_t tic = 0, toc = 0;
	struct unm_nic_info ni;
	int i, status = 0, have_ni;

	for (i = 0; i < g->nthreads; i++)
		if (targs[i].started)
			pthread_join(targs[i].thread, NULL);
	/* the counters go with the port: ask before closing it */
	have_ni = report && nic_info(g, &ni) == 0;
	for (i = 0; i < g->nthreads; i++) {
		struct pg_targ *t = &targs[i];
		int64_t a, b;

		if (t->nmd != NULL) {
			if (t->nmd == g->nmd)
				g->nmd = NULL;
			nmport_close(t->nmd);
			t->nmd = NULL;
		}
		if (report && !t->completed) {
			D("ouch, thread %d exited with error", i);
			status = 1;
		}
		pkts += t->ctr.pkts;
		bytes += t->ctr.bytes;
		events += t->ctr.events;
		a = pg_ts_ns(t->tic);
		b = pg_ts_ns(t->toc);
		if (a != 0 && (tic == 0 || a < tic))
			tic = a;
		if (b > toc)
			toc = b;
		free_targ(t);
	}
	if (report && (g->td_type == PG_TD_SENDER || g->td_type == PG_TD_RECEIVER))
		tx_output(g->c, pkts, bytes, events,
			  toc > tic ? (double)(toc - tic) / 1e9 : 0,
			  g->td_type == PG_TD_SENDER ? "Sent" : "Received");
	if (have_ni)
		nic_output(&ni);
	fflush(stdout);
	return status;
}

static void *(*const bodies[])(void *) = {
	[PG_F_RX] = receiver_body,
	[PG_F_TX] = sender_body,
	[PG_F_PING] = ping_body,
	[PG_F_PONG] = pong_body,
	[PG_F_TXSEQ] = txseq_body,
	[PG_F_RXSEQ] = rxseq_body,
};

int
main(int argc, char **argv)
{
	static struct pg_conf conf;
	static struct pg_glob glob;
	struct pg_glob *g = &glob;
	struct pg_conf *c = &conf;
	char err[256], src_mac[32] = "00:00:00:00:00:00", rs[128];
	int devqueues, rv, status;
	struct sigaction sa;
	sigset_t ss;

	rv = pg_parse_args(c, argc, argv, err, sizeof(err));
	if (rv == PG_ARGS_HELP) {
		pg_usage(stderr);
		return 0;
	}
	if (rv != PG_ARGS_OK) {
		D("%s", err);
		pg_usage(stderr);
		return 1;
	}
	D("interface is %s", c->ifname);
	if (!c->burst_given)
		D("using default burst size: %d", c->burst);

	g->c = c;
	g->main_fd = -1;
	g->td_type = pg_func_type(c->func);
	g->body = c->dev == PG_DEV_DUMMY ? dummy_body : bodies[c->func];
	g->nthreads = c->nthreads;
	g->system_cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	D("running on %d cpus (have %d)", c->cpus, g->system_cpus);
	g->cpus = c->cpus == 0 ? g->system_cpus : c->cpus;
	pthread_mutex_init(&g->lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&g->cond, &ca);
		pthread_condattr_destroy(&ca);
	}

	if (c->src_mac_given)
		snprintf(src_mac, sizeof(src_mac), "%s", c->src_mac.name);
	else if (c->dev == PG_DEV_NETMAP &&
		 source_hwaddr(c->ifname, src_mac, sizeof(src_mac)) == 0 && c->verbose)
		D("source hwaddr %s", src_mac);
	c->src_mac.name = src_mac;
	pg_range_str(&c->src_ip, c->af, rs, sizeof(rs));
	D("range is %s", rs);
	pg_range_str(&c->dst_ip, c->af, rs, sizeof(rs));
	D("range is %s", rs);

	if (c->dev == PG_DEV_DUMMY) {
		if (g->td_type == PG_TD_OTHER) {
			D("-f %s needs a port, not \"null\"", pg_func_name(c->func));
			return 1;
		}
		devqueues = g->nthreads;
	} else {
		if (open_port(g) < 0) {
			D("aborting");
			return 1;
		}
		if (g->td_type == PG_TD_SENDER)
			devqueues = g->nmd->reg.nr_tx_rings + g->nmd->reg.nr_host_tx_rings;
		else
			devqueues = g->nmd->reg.nr_rx_rings + g->nmd->reg.nr_host_rx_rings;
		if (g->nthreads > devqueues) {
			D("bad nthreads %d, have %d queues", g->nthreads, devqueues);
			nmport_close(g->nmd);
			return 1;
		}
		if (g->td_type == PG_TD_SENDER) {
			int mtu = get_if_mtu(g);

			if (mtu > 0 && c->pkt_size > mtu) {
				D("pkt_size (%d) must be <= mtu (%d)", c->pkt_size, mtu);
				nmport_close(g->nmd);
				return 1;
			}
		}
		if (c->verbose)
			print_layout(g);
		printf("%s %s: %d queues, %d threads and %d cpus.\n",
		       g->td_type == PG_TD_SENDER ? "Sending on" :
		       g->td_type == PG_TD_RECEIVER ? "Receiving from" : "Working on",
		       c->ifname, devqueues, g->nthreads, g->cpus);
		if (g->td_type == PG_TD_SENDER)
			printf("%s -> %s (%s -> %s)\n", c->src_ip.name, c->dst_ip.name,
			       c->src_mac.name, c->dst_mac.name);
		fflush(stdout);
	}

	if (c->options)
		D("--- SPECIAL OPTIONS:%s%s%s%s%s%s",
		  c->options & OPT_PREFETCH ? " prefetch" : "",
		  c->options & OPT_ACCESS ? " access" : "",
		  c->options & OPT_MEMCPY ? " memcpy" : "",
		  c->options & OPT_INDIRECT ? " indirect" : "",
		  c->options & OPT_COPY ? " copy" : "",
		  c->options & OPT_RUBBISH ? " rubbish " : "");
	if (c->tx_rate > 0) {
		uint64_t x = 1000000000ULL * (uint64_t)c->burst / c->tx_rate;

		g->tx_period.tv_sec = (time_t)(x / 1000000000ULL);
		g->tx_period.tv_nsec = (long)(x % 1000000000ULL);
	}
	if (g->td_type == PG_TD_SENDER)
		D("Sending %d packets every  %jd.%09ld s", c->burst,
		  (intmax_t)g->tx_period.tv_sec, g->tx_period.tv_nsec);

	status = 1;
	if (build_frame(g, src_mac) < 0)
		goto out_port;
	g->hdr_update = !g->frame.raw && (c->addr_ranges || c->pkt_min_size > 0 ||
			(c->options & (OPT_RANDOM_SRC | OPT_RANDOM_DST)));

	targs = aligned_alloc(PG_CACHELINE, sizeof(*targs) * (size_t)g->nthreads);
	if (targs == NULL) {
		D("out of memory");
		goto out_frame;
	}
	memset(targs, 0, sizeof(*targs) * (size_t)g->nthreads);
	global_nthreads = g->nthreads;

	/* SIGINT/SIGTERM blocked in the workers, handled by this thread */
	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &ss, NULL) != 0)
		D("failed to block SIGINT");
	if (setup_threads(g) < 0) {
		D("cannot set up the threads: %s", strerror(errno));
		finish(g, 0);
		goto out_targs;
	}
	start_threads(g);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sigint_h;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		D("failed to install ^C handler: %s", strerror(errno));
	if (pthread_sigmask(SIG_UNBLOCK, &ss, NULL) != 0)
		D("failed to re-enable SIGINT");
	main_thread(g);
	status = finish(g, 1);
out_targs:
	global_nthreads = 0;
	free(targs);
	targs = NULL;
out_frame:
	pg_frame_free(&g->frame);
out_port:
	if (g->nmd != NULL)
		nmport_close(g->nmd);
	return status;
}

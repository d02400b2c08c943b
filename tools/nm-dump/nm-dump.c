/*
 * nm-dump - capture the frames of a netmap port into a pcap file.
 *
 *   nm-dump -i PORT [-w FILE|-] [-c COUNT] [-s SNAPLEN] [-q] [expression]
 *
 * Any port will do; a monitor port (PORT/t, /r, /rt, /z) sees another
 * program's traffic without taking it.  On a monitor the summary also
 * says which frames the port sent (NS_TXMON) and which it received, and
 * what the monitor lost (UNM_REQ_MON_STATS): frames not mirrored because
 * its ring was full (we read too slowly) or busy.  Frames are read from every RX
 * ring the port binds, filtered through a BPF expression compiled by
 * libpcap (pcap_offline_filter, the same code tcpdump runs), and written
 * with nanosecond timestamps.  The timestamp of a frame is the
 * CLOCK_REALTIME reading taken once per batch, right after the poll()
 * that delivered it: netmap's ring->ts has only microseconds and is not
 * filled by every port kind.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include <libnetmap.h>

#include "../include/nfv_util.h"
#include "unm_mon.h"

/* largest frame assembled from NS_MOREFRAG slots */
#define NMD_MAX_FRAME 65536

static volatile sig_atomic_t stop;

static volatile sig_atomic_t dump_stats;

static void on_usr1(int sig)
{
	(void)sig;
	dump_stats = 1;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct nmd_stats {
	uint64_t seen, matched, written, bytes, truncated, bad;
	uint64_t tx;		/* of seen: sent by the monitored port */
};

/* The descriptor of a monitor, or -1: summaries then say what it lost. */
static int mon_fd = -1;

static void usage(FILE *f, int rc)
{
	fprintf(f,
		"usage: nm-dump -i PORT [-w FILE|-] [-c COUNT] [-s SNAPLEN] [-q] [expression]\n"
		"  -i PORT     netmap port to read (pipe end, VALE port, monitor PORT/t|/r|/rt|/z,\n"
		"              netmap:IFNAME, ...); a name without prefix means netmap:NAME\n"
		"  -w FILE     write a pcap file (nanosecond timestamps); - is stdout, flushed\n"
		"              after every batch; without -w frames are only counted\n"
		"  -c COUNT    exit after COUNT frames written (or matched, without -w)\n"
		"  -s SNAPLEN  bytes kept of each frame (default 262144)\n"
		"  -q          no per-second summary line\n"
		"  expression  a pcap-filter(7) expression; only matching frames are written\n"
		"  -h          this help\n"
		"Summary lines go to stdout, or to stderr when the capture goes to stdout.\n");
	exit(rc);
}

/* "eth0" -> "netmap:eth0"; names with a prefix stay as they are. */
static char *portname(const char *s)
{
	const char *colon = strchr(s, ':');
	const char *cut = strpbrk(s, "{}^*@/-");
	char *out;

	if (colon && (!cut || colon < cut))
		return strdup(s);
	if (asprintf(&out, "netmap:%s", s) < 0)
		return NULL;
	return out;
}

static char *join_args(int argc, char **argv)
{
	size_t len = 1;
	char *s;
	int i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	if (!s)
		return NULL;
	for (i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static void summary(FILE *f, const char *what, const struct nmd_stats *st,
		    const struct nmd_stats *prev, double secs)
{
	fprintf(f, "nm-dump: %s%" PRIu64 " seen, %" PRIu64 " matched, %" PRIu64 " written, %"
		PRIu64 " bytes", what, st->seen, st->matched, st->written, st->bytes);
	if (prev && secs > 0)
		fprintf(f, ", %.3f Kpps", (double)(st->seen - prev->seen) / secs / 1000.0);
	if (st->truncated)
		fprintf(f, ", %" PRIu64 " truncated", st->truncated);
	if (st->bad)
		fprintf(f, ", %" PRIu64 " bad slots", st->bad);
	if (mon_fd >= 0) {
		struct unm_mon_stats ms;
		struct nmreq_header h;

		fprintf(f, ", %" PRIu64 " tx %" PRIu64 " rx", st->tx, st->seen - st->tx);
		memset(&ms, 0, sizeof(ms));
		nmreq_header_init(&h, UNM_REQ_MON_STATS, &ms);
		ms.flags = UNM_MON_SELF;
		if (ioctl(mon_fd, NIOCCTRL, &h) == 0)
			fprintf(f, ", monitor lost %" PRIu64 " (%" PRIu64 " ring full, %" PRIu64
				" busy)%s", ms.drops + ms.busy, ms.drops, ms.busy,
				(ms.flags & UNM_MON_ORPHAN) ? ", orphaned" : "");
	}
	fputc('\n', f);
	fflush(f);
}

int main(int argc, char **argv)
{
	const char *port = NULL, *out = NULL;
	char *name = NULL, *expr = NULL, *end;
	unsigned long long count = 0;
	long snaplen = 262144;
	int ch, quiet = 0, rc = 1, have_filter = 0;
	struct nmport_d *d = NULL;
	pcap_t *pd = NULL;
	pcap_dumper_t *dumper = NULL;
	struct bpf_program prog;
	struct nmd_stats st = { 0 }, last = { 0 };
	unsigned char *frame = NULL;
	FILE *info = stdout;
	uint64_t t_last;
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
	};

	while ((ch = getopt_long(argc, argv, "+hi:w:c:s:q", lopts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			port = optarg;
			break;
		case 'w':
			out = optarg;
			break;
		case 'c':
			errno = 0;
			count = strtoull(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-') {
				fprintf(stderr, "nm-dump: bad count '%s'\n", optarg);
				return 1;
			}
			break;
		case 's':
			errno = 0;
			snaplen = strtol(optarg, &end, 10);
			if (errno || *end || snaplen < 1 || snaplen > 262144) {
				fprintf(stderr, "nm-dump: snaplen must be 1..262144\n");
				return 1;
			}
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, 1);
		}
	}
	if (!port) {
		fprintf(stderr, "nm-dump: missing -i PORT\n");
		usage(stderr, 1);
	}
	if (out && strcmp(out, "-") == 0)
		info = stderr;

	/* the dead handle gives pcap_compile the link type and snap length
	 * and pcap_dump_open the file header; nanosecond precision sets the
	 * file's magic to a1b23c4d */
	pd = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, (int)snaplen,
						  PCAP_TSTAMP_PRECISION_NANO);
	if (!pd) {
		fprintf(stderr, "nm-dump: pcap_open_dead failed\n");
		return 1;
	}
	if (optind < argc) {
		expr = join_args(argc - optind, argv + optind);
		if (!expr) {
			fprintf(stderr, "nm-dump: out of memory\n");
			goto done;
		}
		if (pcap_compile(pd, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			fprintf(stderr, "nm-dump: bad filter '%s': %s\n", expr, pcap_geterr(pd));
			goto done;
		}
		have_filter = 1;
	}
	frame = malloc(NMD_MAX_FRAME);
	name = portname(port);
	if (!frame || !name) {
		fprintf(stderr, "nm-dump: out of memory\n");
		goto done;
	}
	d = nmport_open(name);
	if (!d) {
		fprintf(stderr, "nm-dump: cannot open %s: %s\n", name, strerror(errno));
		goto done;
	}
	if (d->reg.nr_flags & (NR_MONITOR_TX | NR_MONITOR_RX | NR_ZCOPY_MON))
		mon_fd = d->fd;
	if (out) {
		/* a reader that goes away must give us EPIPE, not kill us */
		signal(SIGPIPE, SIG_IGN);
		dumper = pcap_dump_open(pd, out);
		if (!dumper) {
			fprintf(stderr, "nm-dump: %s: %s\n", out, pcap_geterr(pd));
			goto done;
		}
		pcap_dump_flush(dumper);	/* the header, at once */
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_usr1);
	fprintf(info, "nm-dump: capturing on %s%s%s%s%s\n", name, out ? " to " : "",
		out ? (strcmp(out, "-") ? out : "stdout") : "", expr ? ", filter: " : "",
		expr ? expr : "");
	fflush(info);

	t_last = nfv_now_ns();
	rc = 0;
	while (!stop && !(count && (out ? st.written : st.matched) >= count)) {
		struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
		struct timespec now_rt;
		unsigned ri;
		uint64_t now;
		int batch = 0;

		if (poll(&pfd, 1, 250) < 0 && errno != EINTR) {
			fprintf(stderr, "nm-dump: poll: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		if (pfd.revents & POLLERR) {
			/* an orphaned monitor or a vanished peer stays so */
			RD(1, "error on %s", name);
			usleep(100000);
		}
		clock_gettime(CLOCK_REALTIME, &now_rt);
		for (ri = d->first_rx_ring; ri <= d->last_rx_ring; ri++) {
			struct netmap_ring *r = NETMAP_RXRING(d->nifp, ri);
			uint32_t head = r->head, tail = r->tail, n = r->num_slots;
			uint32_t maxbuf = nfv_max_buf(d, r);

			while (head != tail && !(count && (out ? st.written : st.matched) >= count)) {
				struct pcap_pkthdr h;
				unsigned len = 0, frags = 0;
				const unsigned char *data = NULL;
				int ok = 1, txmon = (r->slot[head].flags & NS_TXMON) != 0;

				/* one frame: slots up to the first one without NS_MOREFRAG;
				 * the loop is bounded by the ring's owned slots */
				for (;;) {
					struct netmap_slot *s = &r->slot[head];
					uint32_t idx = s->buf_idx, sl = s->len;
					uint16_t fl = s->flags;

					if (idx < 2 || idx > maxbuf || sl > r->nr_buf_size) {
						ok = 0;
					} else if (frags == 0 && !(fl & NS_MOREFRAG)) {
						data = (const unsigned char *)NETMAP_BUF(r, idx);
						len = sl;
					} else if (ok && len + sl <= NMD_MAX_FRAME) {
						memcpy(frame + len, NETMAP_BUF(r, idx), sl);
						len += sl;
						data = frame;
					} else {
						ok = 0;
					}
					frags++;
					head = head + 1 == n ? 0 : head + 1;
					if (!(fl & NS_MOREFRAG) || head == tail)
						break;
				}
				if (!ok || !data) {
					st.bad++;
					continue;
				}
				st.seen++;
				st.tx += txmon;
				h.ts.tv_sec = now_rt.tv_sec;
				/* nanoseconds, given the precision asked above */
				h.ts.tv_usec = now_rt.tv_nsec;
				h.len = len;
				h.caplen = len < (unsigned)snaplen ? len : (unsigned)snaplen;
				if (h.caplen < len)
					st.truncated++;
				if (have_filter && !pcap_offline_filter(&prog, &h, data))
					continue;
				st.matched++;
				if (dumper) {
					pcap_dump((u_char *)dumper, &h, data);
					st.written++;
				}
				st.bytes += len;
				batch++;
			}
			r->head = r->cur = head;
		}
		if (dumper && batch) {
			FILE *f = pcap_dump_file(dumper);

			if (pcap_dump_flush(dumper) < 0 || ferror(f)) {
				fprintf(stderr, "nm-dump: writing %s: %s\n", out, strerror(errno));
				rc = 1;
				break;
			}
		}
		if (dump_stats) {
			dump_stats = 0;
			summary(info, "so far ", &st, NULL, 0);
		}
		now = nfv_now_ns();
		if (now - t_last >= NFV_NSEC) {
			if (!quiet)
				summary(info, "", &st, &last, (double)(now - t_last) / 1e9);
			last = st;
			t_last = now;
		}
	}
	/* give the slots back before the summary: the sender may wait on them */
	ioctl(d->fd, NIOCRXSYNC, NULL);
	summary(info, "total ", &st, NULL, 0);
done:
	if (dumper)
		pcap_dump_close(dumper);
	if (have_filter)
		pcap_freecode(&prog);
	if (pd)
		pcap_close(pd);
	if (d)
		nmport_close(d);
	free(frame);
	free(name);
	free(expr);
	return rc;
}

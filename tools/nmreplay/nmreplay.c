/*
 * nmreplay - replay a pcap file into a netmap port (netmap's nmreplay).
 *
 *   nmreplay -f FILE -i PORT [-B bw] [-D delay] [-L loss] [-b burst]
 *            [-n loops] [-c count] [-w sec] [-C cores] [-q] [-v]
 *
 * The file is read whole into memory (our own reader: microsecond and
 * nanosecond pcap, either byte order), then its frames are sent in file
 * order, in a loop: forever by default, as netmap's nmreplay does, or
 * -n times, or until -c frames were taken from the trace.  Pacing: the
 * file's timestamps (-B real[,speedup]), a fixed bit rate (-B bps,
 * constant,bps or ether,bps) or none (full speed, the default).  -D adds
 * a delay to each departure (never reordering frames) and -L drops
 * frames at random.  Frames are copied into the TX slots (split over
 * several slots with NS_MOREFRAG when longer than a buffer); the ring is
 * pushed every burst frames or when the next departure is not due yet.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libnetmap.h>

#include "../include/nfv_util.h"

#define NR_MAX_CAPLEN	262144

struct nr_pkt {
	uint64_t off;		/* of the frame's bytes in the file */
	uint32_t len;		/* bytes captured (what is sent) */
	uint64_t ts;		/* ns, from the file */
};

struct nr_trace {
	unsigned char *data;
	size_t size;
	struct nr_pkt *pkts;
	uint64_t n;
	uint64_t truncated;	/* frames with caplen < len */
	uint32_t linktype;
};

static volatile sig_atomic_t stop;

static volatile sig_atomic_t dump_stats;

static void on_usr1(int sig)
{
	(void)sig;
	dump_stats = 1;
}

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f, int rc)
{
	fprintf(f,
		"usage: nmreplay -f FILE -i PORT [-B bw] [-D delay] [-L loss] [-b burst]\n"
		"                [-n loops] [-c count] [-w sec] [-C cores] [-q] [-v]\n"
		"  -f FILE    pcap file (microsecond or nanosecond, either byte order)\n"
		"  -i PORT    netmap port to send on (a name without prefix means netmap:NAME)\n"
		"  -B bw      real[,speedup]: at the file's timestamps (speedup > 0, default 1)\n"
		"             bps | constant,bps: frame bytes at bps bit/s\n"
		"             ether,bps: frame + 24 bytes (preamble, gap, CRC) at bps bit/s\n"
		"             bps takes k/K m/M g/G (10^3, 10^6, 10^9); default full speed\n"
		"  -D delay   t | constant,t | uniform,tmin,tmax | exp,tavg,tmin added to each\n"
		"             departure (order kept); times in s, or with n u m s suffixes\n"
		"  -L loss    p | plr,p (packet loss rate) | ber,p (bit error rate), 0..1\n"
		"  -b burst   frames between pushes of the TX ring (1..8192, default 128)\n"
		"  -n loops   stop after replaying the file this many times (default: forever)\n"
		"  -c count   stop after this many frames taken from the file (sent or lost)\n"
		"  -w sec     wait before the first frame (default 0)\n"
		"  -C cores   accepted for netmap compatibility, ignored (one thread)\n"
		"  -q         no per-second lines on stderr\n"
		"  -v         verbose\n"
		"  -h         this help\n");
	exit(rc);
}

static uint32_t rd32(const unsigned char *p, int swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

/* Read and index a whole pcap file; 0 or -errno after a message. */
static int load_pcap(const char *path, struct nr_trace *t)
{
	FILE *f = fopen(path, "rbe");
	struct stat sb;
	uint32_t magic;
	uint64_t off, cap = 0;
	int swap, nano;

	memset(t, 0, sizeof(*t));
	if (!f || fstat(fileno(f), &sb) < 0) {
		fprintf(stderr, "nmreplay: %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -ENOENT;
	}
	t->size = (size_t)sb.st_size;
	t->data = malloc(t->size ? t->size : 1);
	if (!t->data || fread(t->data, 1, t->size, f) != t->size) {
		fprintf(stderr, "nmreplay: cannot read %s\n", path);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	if (t->size < 24) {
		fprintf(stderr, "nmreplay: %s: too short for a pcap file\n", path);
		return -EINVAL;
	}
	memcpy(&magic, t->data, 4);
	switch (magic) {
	case 0xa1b2c3d4: swap = 0; nano = 0; break;
	case 0xd4c3b2a1: swap = 1; nano = 0; break;
	case 0xa1b23c4d: swap = 0; nano = 1; break;
	case 0x4d3cb2a1: swap = 1; nano = 1; break;
	default:
		fprintf(stderr, "nmreplay: %s: unknown magic 0x%08x (not a pcap file; "
			"pcapng is not read)\n", path, magic);
		return -EINVAL;
	}
	t->linktype = rd32(t->data + 20, swap) & 0xffff;
	for (off = 24; off < t->size;) {
		uint32_t caplen, len, sec, frac;

		if (t->size - off < 16) {
			fprintf(stderr, "nmreplay: %s: truncated record header at byte %" PRIu64
				", ignored\n", path, off);
			break;
		}
		sec = rd32(t->data + off, swap);
		frac = rd32(t->data + off + 4, swap);
		caplen = rd32(t->data + off + 8, swap);
		len = rd32(t->data + off + 12, swap);
		if (caplen > NR_MAX_CAPLEN || caplen > t->size - off - 16) {
			fprintf(stderr, "nmreplay: %s: bad or truncated record at byte %" PRIu64
				" (caplen %u), stopping there\n", path, off, caplen);
			break;
		}
		if (t->n == cap) {
			struct nr_pkt *np;

			cap = cap ? 2 * cap : 1024;
			np = realloc(t->pkts, cap * sizeof(*np));
			if (!np) {
				fprintf(stderr, "nmreplay: out of memory\n");
				return -ENOMEM;
			}
			t->pkts = np;
		}
		t->pkts[t->n].off = off + 16;
		t->pkts[t->n].len = caplen;
		t->pkts[t->n].ts = (uint64_t)sec * NFV_NSEC + (nano ? frac : (uint64_t)frac * 1000);
		if (caplen < len)
			t->truncated++;
		t->n++;
		off += 16 + (uint64_t)caplen;
	}
	return 0;
}

/* Sleep until monotonic time `when` (ns): nanosleep while far, then spin
 * the last stretch, as a sleep overshoots by tens of microseconds. */
static void wait_until(uint64_t when)
{
	uint64_t now = nfv_now_ns();

	if (when > now + 200000) {
		uint64_t t = when - 100000;
		struct timespec ts = { .tv_sec = (time_t)(t / NFV_NSEC),
				       .tv_nsec = (long)(t % NFV_NSEC) };

		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	while (nfv_now_ns() < when && !stop)
		;
}

int main(int argc, char **argv)
{
	const char *file = NULL, *port = NULL;
	char *name = NULL, *end;
	struct nr_trace tr;
	struct nfv_bw bw = { 0, 0 };
	struct nfv_delay delay = { NFV_DELAY_CONST, 0, 0 };
	struct nfv_loss loss = { 0, 0 };
	int real = 0, have_delay = 0, quiet = 0, verbose = 0, ch, rc = 1;
	double speedup = 1;
	unsigned long burst = 128, wait_s = 0;
	unsigned long long loops = 0, count = 0;
	struct nmport_d *d = NULL;
	uint64_t seed = nfv_seed();
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
	};

	while ((ch = getopt_long(argc, argv, "hf:i:B:D:L:b:n:c:w:C:qv", lopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			file = optarg;
			break;
		case 'i':
			port = optarg;
			break;
		case 'B':
			if (strncmp(optarg, "real", 4) == 0 && (optarg[4] == '\0' || optarg[4] == ',')) {
				real = 1;
				speedup = 1;
				if (optarg[4] == ',' && (nfv_parse_mult(optarg + 5, (const struct nfv_mult[]){
						{ "", 1 }, { NULL, 0 } }, &speedup) < 0 ||
						speedup <= 0 || speedup > 1000)) {
					fprintf(stderr, "nmreplay: bad speedup in '%s' (0 < s <= 1000)\n",
						optarg);
					return 1;
				}
			} else if (nfv_parse_bw_spec(optarg, &bw) < 0) {
				fprintf(stderr, "nmreplay: bad bandwidth '%s'\n", optarg);
				return 1;
			}
			break;
		case 'D':
			if (nfv_parse_delay_spec(optarg, &delay) < 0) {
				fprintf(stderr, "nmreplay: bad delay '%s'\n", optarg);
				return 1;
			}
			have_delay = 1;
			break;
		case 'L':
			if (nfv_parse_loss_spec(optarg, &loss) < 0) {
				fprintf(stderr, "nmreplay: bad loss '%s'\n", optarg);
				return 1;
			}
			break;
		case 'b':
			errno = 0;
			burst = strtoul(optarg, &end, 10);
			if (errno || *end || burst < 1 || burst > 8192) {
				fprintf(stderr, "nmreplay: invalid burst %s, set to 1024\n", optarg);
				burst = 1024;
			}
			break;
		case 'n':
		case 'c':
			errno = 0;
			*(ch == 'n' ? &loops : &count) = strtoull(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-') {
				fprintf(stderr, "nmreplay: bad number '%s' for -%c\n", optarg, ch);
				return 1;
			}
			break;
		case 'w':
			errno = 0;
			wait_s = strtoul(optarg, &end, 10);
			if (errno || *end || wait_s > 100) {
				fprintf(stderr, "nmreplay: -w wants 0..100 seconds\n");
				return 1;
			}
			break;
		case 'C':
			break;
		case 'q':
			quiet = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, 1);
		}
	}
	if (!file || !port || optind < argc) {
		fprintf(stderr, "nmreplay: %s\n", optind < argc ? "unexpected arguments" :
			"need -f FILE and -i PORT");
		usage(stderr, 1);
	}
	if (load_pcap(file, &tr) < 0)
		goto out;
	if (tr.n == 0) {
		fprintf(stderr, "nmreplay: %s has no frames\n", file);
		goto out;
	}
	if (tr.linktype != 1)
		fprintf(stderr, "nmreplay: warning: link type %u is not Ethernet, sent as is\n",
			tr.linktype);
	if (tr.truncated)
		fprintf(stderr, "nmreplay: warning: %" PRIu64 " frames were captured short; "
			"their captured bytes are sent\n", tr.truncated);
	{
		/* "eth0" -> "netmap:eth0"; names with a prefix stay as they are */
		const char *colon = strchr(port, ':'), *cut = strpbrk(port, "{}^*@/-");

		if (colon && (!cut || colon < cut))
			name = strdup(port);
		else if (asprintf(&name, "netmap:%s", port) < 0)
			name = NULL;
	}
	if (!name)
		goto out;
	d = nmport_open(name);
	if (!d) {
		fprintf(stderr, "nmreplay: cannot open %s: %s\n", name, strerror(errno));
		goto out;
	}
	printf("nmreplay: %" PRIu64 " frames from %s to %s, %s%s\n", tr.n, file, name,
	       real ? "at the file's timestamps" : bw.bps > 0 ? "at a fixed rate" : "full speed",
	       loops ? "" : count ? "" : ", looping until interrupted");
	fflush(stdout);
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	signal(SIGUSR1, on_usr1);
	if (wait_s)
		sleep((unsigned)wait_s);

	{
		struct netmap_ring *ring = NETMAP_TXRING(d->nifp, d->first_tx_ring);
		uint32_t maxbuf = nfv_max_buf(d, ring), bsz = ring->nr_buf_size;
		uint64_t t0 = nfv_now_ns(), t_rep = t0, sched = 0, last_dep = t0;
		uint64_t taken = 0, sent = 0, lost = 0, bytes = 0, loop = 0, i = 0;
		uint64_t p_taken = 0, p_sent = 0, round_max = 0, skipped = 0;
		uint64_t lthr = 0, dep = 0;
		unsigned since_sync = 0, maxq = 0;
		int done = 0, have_dep = 0;
		double gap_mean = 0;

		if (tr.n > 1 && tr.pkts[tr.n - 1].ts > tr.pkts[0].ts)
			gap_mean = (double)(tr.pkts[tr.n - 1].ts - tr.pkts[0].ts) / (double)(tr.n - 1);
		if (!loss.ber)
			lthr = nfv_loss_threshold(&loss, 0);
		rc = 0;
		while (!stop && !done) {
			uint64_t pass_start = nfv_now_ns(), now = pass_start;
			uint32_t h = ring->head, room = nm_ring_space(ring);
			int waiting = 0;

			/* take every frame that is due and fits */
			while (!done) {
				const struct nr_pkt *p = &tr.pkts[i];
				uint32_t nslots = p->len ? (p->len + bsz - 1) / bsz : 1, k, left;

				/* this frame's departure, drawn once */
				if (!have_dep) {
					dep = t0 + sched;
					if (have_delay)
						dep += (uint64_t)nfv_delay_draw(&delay, &seed);
					if (dep < last_dep)
						dep = last_dep;	/* never reorder */
					have_dep = 1;
				}
				if (dep > now) {
					now = nfv_now_ns();
					if (dep > now) {
						waiting = 1;
						break;
					}
				}
				if (nslots > room) {
					if (nslots > ring->num_slots - 1) {
						/* can never fit: skip it, say so once */
						if (!skipped++)
							fprintf(stderr, "nmreplay: frame of %u bytes "
								"needs more slots than the ring has, "
								"skipped\n", p->len);
						goto next;
					}
					break;
				}
				if (loss.ber)
					lthr = nfv_loss_threshold(&loss, p->len);
				if (lthr && nfv_rand64(&seed) < lthr) {
					lost++;
					goto next;
				}
				left = p->len;
				for (k = 0; k < nslots; k++) {
					struct netmap_slot *s = &ring->slot[h];
					uint32_t l = left > bsz ? bsz : left;

					if (s->buf_idx >= 2 && s->buf_idx <= maxbuf)
						nm_pkt_copy(tr.data + p->off + (uint64_t)k * bsz,
							    NETMAP_BUF(ring, s->buf_idx), (int)l);
					s->len = (uint16_t)l;
					s->flags = k + 1 < nslots ? NS_MOREFRAG : 0;
					left -= l;
					h = nm_ring_next(ring, h);
				}
				room -= nslots;
				sent++;
				bytes += p->len;
				last_dep = dep;
				if (++since_sync >= burst) {
					ring->head = ring->cur = h;
					ioctl(d->fd, NIOCTXSYNC, NULL);
					h = ring->head;
					room = nm_ring_space(ring);
					since_sync = 0;
				}
next:
				taken++;
				have_dep = 0;
				/* the next frame's departure, before any delay */
				if (real) {
					if (i + 1 < tr.n) {
						uint64_t a = tr.pkts[i].ts, b = tr.pkts[i + 1].ts;

						sched += b > a ? (uint64_t)((double)(b - a) / speedup) : 0;
					} else {
						sched += (uint64_t)(gap_mean / speedup);
					}
				} else if (bw.bps > 0) {
					sched += (uint64_t)((double)(p->len + bw.overhead) * 8e9 / bw.bps);
				}
				if (++i == tr.n) {
					i = 0;
					loop++;
					if (loops && loop >= loops)
						done = 1;
				}
				if (count && taken >= count)
					done = 1;
			}
			ring->head = ring->cur = h;
			{
				uint32_t q = ring->num_slots - 1 - nm_ring_space(ring);

				if (q > maxq)
					maxq = q;
			}
			if (since_sync || waiting || done) {
				ioctl(d->fd, NIOCTXSYNC, NULL);
				since_sync = 0;
			}
			now = nfv_now_ns();
			if (dump_stats) {
				dump_stats = 0;
				printf("nmreplay: so far sent %" PRIu64 " frames %" PRIu64 " bytes, lost %"
				       PRIu64 ", %" PRIu64 " full loops\n", sent, bytes, lost, loop);
				fflush(stdout);
			}
			if (now - pass_start > round_max)
				round_max = now - pass_start;
			if (now - t_rep >= NFV_NSEC) {
				if (!quiet) {
					D("%" PRIu64 " -> %" PRIu64 " maxq %u round %" PRIu64,
					  taken - p_taken, sent - p_sent, maxq, round_max);
					D("plr nominal %le actual %le", loss.p,
					  taken ? (double)lost / (double)taken : 0.0);
				}
				p_taken = taken;
				p_sent = sent;
				maxq = 0;
				round_max = 0;
				t_rep = now;
			}
			if (done)
				break;
			if (waiting) {
				/* wake for the report line at the latest */
				wait_until(dep < t_rep + NFV_NSEC ? dep : t_rep + NFV_NSEC);
			} else {
				struct pollfd pfd = { .fd = d->fd, .events = POLLOUT };

				if (nm_ring_space(ring) == 0 && poll(&pfd, 1, 1000) < 0 && errno != EINTR) {
					fprintf(stderr, "nmreplay: poll: %s\n", strerror(errno));
					rc = 1;
					break;
				}
				if (pfd.revents & POLLHUP) {
					/* a pipe whose reader went away: nobody will
					 * ever make room again */
					fprintf(stderr, "nmreplay: %s: the peer is gone\n", name);
					rc = 1;
					break;
				}
				if (pfd.revents & POLLERR)
					usleep(100000);
			}
		}
		/* let the port take what is still in the ring (bounded wait) */
		{
			uint64_t lim = nfv_now_ns() + 5 * NFV_NSEC;

			while (!stop && nm_tx_pending(ring) && nfv_now_ns() < lim) {
				ioctl(d->fd, NIOCTXSYNC, NULL);
				usleep(1000);
			}
		}
		{
			double secs = (double)(nfv_now_ns() - t0) / 1e9;

			printf("nmreplay: sent %" PRIu64 " frames %" PRIu64 " bytes, lost %" PRIu64
			       ", skipped %" PRIu64 ", %" PRIu64 " full loops, in %.3f s "
			       "(%.0f pps, %.0f bps)\n", sent, bytes, lost, skipped, loop, secs,
			       secs > 0 ? sent / secs : 0, secs > 0 ? bytes * 8 / secs : 0);
			if (verbose)
				printf("nmreplay: %" PRIu64 " frames taken from the trace\n", taken);
		}
	}
out:
	if (d)
		nmport_close(d);
	free(tr.data);
	free(tr.pkts);
	free(name);
	return rc;
}

/*
 * nm-filter - a stateless IPv4 filter between an external and an internal
 * netmap port (the FOSDEM 2019 netmap-tutorial exercise, grown up).
 *
 *   nm-filter -i EXT -i INT [-f FILE] [-D pass|drop] [-N pass|drop]
 *             [-b batch] [-c] [-v] [rule ...]
 *
 * Both directions go through one poll() loop.  Each frame is checked
 * against the rules in order; the first rule that matches decides (pass
 * or drop), and a frame no rule matches gets the default policy (-D).
 * Frames that are not IPv4 get the -N policy.  Passing frames move to
 * the other port by swapping buffers when the two ports share a memory
 * region (NS_BUF_CHANGED on both slots), by copying otherwise or with -c.
 * Per-rule hit counters are printed on SIGUSR1 and at exit.
 */
#include <arpa/inet.h>
#include <ctype.h>
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

#include <libnetmap.h>

#include "../include/nfv_util.h"

#define NMF_MAX_RULES	4096
#define NMF_DIR_IN	1	/* EXT -> INT */
#define NMF_DIR_OUT	2	/* INT -> EXT */

struct nmf_rule {
	int pass;
	int dirs;		/* NMF_DIR_* mask */
	int proto;		/* -1 = any */
	uint32_t src, smask, dst, dmask;	/* host order */
	int sport_lo, sport_hi;	/* -1 = any */
	int dport_lo, dport_hi;
	char text[160];		/* as written, for the counters */
	uint64_t hits, bytes;
};

struct nmf_dir {
	const char *name;
	uint64_t rx, fwd, drop, bad;
};

static struct nmf_rule *rules;
static int nrules;
static int def_pass = 1, nonip_pass = 1;
static uint64_t def_hits, def_bytes, nonip_hits, nonip_bytes;
static struct nmf_dir dirs[2] = { { "ext->int", 0, 0, 0, 0 }, { "int->ext", 0, 0, 0, 0 } };
static volatile sig_atomic_t stop, dump_stats;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	dump_stats = 1;
}

static void usage(FILE *f, int rc)
{
	fprintf(f,
		"usage: nm-filter -i EXT -i INT [-f FILE] [-D pass|drop] [-N pass|drop]\n"
		"                 [-b batch] [-c] [-v] [rule ...]\n"
		"  -i PORT        the external, then the internal port (any netmap port name;\n"
		"                 a name without prefix means netmap:NAME)\n"
		"  -f FILE        read rules from FILE, one per line, '#' starts a comment\n"
		"                 (files are read before the rules on the command line)\n"
		"  -D pass|drop   policy for IPv4 frames no rule matches (default pass)\n"
		"  -N pass|drop   policy for frames that are not IPv4 (default pass)\n"
		"  -b batch       frames moved per direction per pass (1..8192, default 1024)\n"
		"  -c             copy frames even when the ports could swap buffers\n"
		"  -v             print the rules at start\n"
		"  -h             this help\n"
		"rule: pass|drop [in|out] [proto tcp|udp|icmp|N] [src A.B.C.D[/LEN]]\n"
		"      [dst A.B.C.D[/LEN]] [sport P[-Q]] [dport P[-Q]]\n"
		"  in = EXT to INT, out = INT to EXT, neither = both directions;\n"
		"  each pass or drop word starts a new rule; first match wins.\n"
		"Counters: kill -USR1 <pid>, and at exit.\n");
	exit(rc);
}

static int parse_policy(const char *s, int *pass)
{
	if (strcmp(s, "pass") == 0)
		*pass = 1;
	else if (strcmp(s, "drop") == 0)
		*pass = 0;
	else
		return -EINVAL;
	return 0;
}

static int parse_prefix(const char *s, uint32_t *addr, uint32_t *mask)
{
	char buf[32], *slash, *end;
	struct in_addr a;
	long len = 32;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (errno || *end || end == slash + 1 || len < 0 || len > 32)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	*mask = len ? ~0u << (32 - len) : 0;
	*addr = ntohl(a.s_addr) & *mask;
	return 0;
}

static int parse_range(const char *s, int *lo, int *hi)
{
	char *end;
	long a, b;

	errno = 0;
	a = strtol(s, &end, 10);
	if (errno || end == s || a < 0 || a > 65535)
		return -EINVAL;
	b = a;
	if (*end == '-') {
		const char *t = end + 1;

		b = strtol(t, &end, 10);
		if (errno || end == t || b < a || b > 65535)
			return -EINVAL;
	}
	if (*end)
		return -EINVAL;
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

/*
 * Parse the words w[0..n) into rules; where says where they came from
 * (for the error message).  Returns 0 or -EINVAL after printing why.
 */
static int parse_rules(char **w, int n, const char *where)
{
	struct nmf_rule *r = NULL;
	int i;

	for (i = 0; i < n; i++) {
		const char *k = w[i], *v = i + 1 < n ? w[i + 1] : NULL;
		int pass;

		if (parse_policy(k, &pass) == 0) {
			if (nrules == NMF_MAX_RULES) {
				fprintf(stderr, "nm-filter: %s: more than %d rules\n", where,
					NMF_MAX_RULES);
				return -EINVAL;
			}
			r = &rules[nrules++];
			memset(r, 0, sizeof(*r));
			r->pass = pass;
			r->dirs = NMF_DIR_IN | NMF_DIR_OUT;
			r->proto = r->sport_lo = r->sport_hi = r->dport_lo = r->dport_hi = -1;
			snprintf(r->text, sizeof(r->text), "%s", k);
			continue;
		}
		if (!r) {
			fprintf(stderr, "nm-filter: %s: a rule starts with pass or drop, not '%s'\n",
				where, k);
			return -EINVAL;
		}
		if (strcmp(k, "in") == 0 || strcmp(k, "out") == 0) {
			r->dirs = k[0] == 'i' ? NMF_DIR_IN : NMF_DIR_OUT;
			v = NULL;
		} else if (strcmp(k, "any") == 0) {
			v = NULL;
		} else if (!v) {
			fprintf(stderr, "nm-filter: %s: '%s' needs a value\n", where, k);
			return -EINVAL;
		} else if (strcmp(k, "proto") == 0) {
			char *end;
			long p;

			if (strcmp(v, "tcp") == 0)
				r->proto = 6;
			else if (strcmp(v, "udp") == 0)
				r->proto = 17;
			else if (strcmp(v, "icmp") == 0)
				r->proto = 1;
			else {
				errno = 0;
				p = strtol(v, &end, 10);
				if (errno || *end || end == v || p < 0 || p > 255)
					goto bad;
				r->proto = (int)p;
			}
		} else if (strcmp(k, "src") == 0) {
			if (parse_prefix(v, &r->src, &r->smask) < 0)
				goto bad;
		} else if (strcmp(k, "dst") == 0) {
			if (parse_prefix(v, &r->dst, &r->dmask) < 0)
				goto bad;
		} else if (strcmp(k, "sport") == 0) {
			if (parse_range(v, &r->sport_lo, &r->sport_hi) < 0)
				goto bad;
		} else if (strcmp(k, "dport") == 0) {
			if (parse_range(v, &r->dport_lo, &r->dport_hi) < 0)
				goto bad;
		} else {
			fprintf(stderr, "nm-filter: %s: unknown word '%s'\n", where, k);
			return -EINVAL;
		}
		/* keep the text as written: it names the rule in the counters */
		{
			size_t l = strlen(r->text);

			snprintf(r->text + l, sizeof(r->text) - l, " %s%s%s", k, v ? " " : "",
				 v ? v : "");
		}
		if (v)
			i++;
		continue;
bad:
		fprintf(stderr, "nm-filter: %s: bad value '%s' for %s\n", where, v, k);
		return -EINVAL;
	}
	return 0;
}

/* Split a line into words in place; returns the count (at most max). */
static int words(char *s, char **w, int max)
{
	int n = 0;

	while (*s && n < max) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s || *s == '#')
			break;
		w[n++] = s;
		while (*s && !isspace((unsigned char)*s))
			s++;
		if (*s)
			*s++ = '\0';
	}
	return n;
}

static int load_file(const char *path)
{
	char line[1024], where[1100], *w[64];
	FILE *f = fopen(path, "re");
	int ln = 0, n, rc = 0;

	if (!f) {
		fprintf(stderr, "nm-filter: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		ln++;
		n = words(line, w, 64);
		if (n == 0)
			continue;
		snprintf(where, sizeof(where), "%s:%d", path, ln);
		if (parse_policy(w[0], &(int){ 0 }) < 0) {
			fprintf(stderr, "nm-filter: %s: a rule starts with pass or drop\n", where);
			rc = -EINVAL;
			break;
		}
		rc = parse_rules(w, n, where);
		if (rc < 0)
			break;
	}
	fclose(f);
	return rc;
}

#define NMF_DEFAULT	(-1)
#define NMF_NONIP	(-2)

/*
 * Which rule decides a frame going in direction dir (NMF_DIR_*): its
 * index, NMF_DEFAULT or NMF_NONIP.  Counts nothing: a frame that has to
 * wait for room is classified again.  The frame is untrusted: every
 * header read is bounds-checked against len.
 */
static int classify(const uint8_t *p, unsigned len, int dir)
{
	unsigned off = 12, ihl, tags;
	uint16_t et;
	uint32_t src, dst;
	int proto, sport = -1, dport = -1, i;

	if (len < 14)
		goto nonip;
	et = (uint16_t)(p[12] << 8 | p[13]);
	for (tags = 0; (et == 0x8100 || et == 0x88a8) && tags < 2; tags++) {
		off += 4;
		if (len < off + 2)
			goto nonip;
		et = (uint16_t)(p[off] << 8 | p[off + 1]);
	}
	off += 2;
	if (et != 0x0800 || len < off + 20 || (p[off] >> 4) != 4)
		goto nonip;
	ihl = (p[off] & 0xfu) * 4;
	if (ihl < 20 || len < off + ihl)
		goto nonip;
	proto = p[off + 9];
	memcpy(&src, p + off + 12, 4);
	memcpy(&dst, p + off + 16, 4);
	src = ntohl(src);
	dst = ntohl(dst);
	/* only the first fragment carries the ports */
	if ((proto == 6 || proto == 17 || proto == 132) &&
	    ((p[off + 6] << 8 | p[off + 7]) & 0x1fff) == 0 && len >= off + ihl + 4) {
		sport = p[off + ihl] << 8 | p[off + ihl + 1];
		dport = p[off + ihl + 2] << 8 | p[off + ihl + 3];
	}
	for (i = 0; i < nrules; i++) {
		struct nmf_rule *r = &rules[i];

		if (!(r->dirs & dir))
			continue;
		if (r->proto >= 0 && r->proto != proto)
			continue;
		if ((src & r->smask) != r->src || (dst & r->dmask) != r->dst)
			continue;
		if (r->sport_lo >= 0 && (sport < r->sport_lo || sport > r->sport_hi))
			continue;
		if (r->dport_lo >= 0 && (dport < r->dport_lo || dport > r->dport_hi))
			continue;
		return i;
	}
	return NMF_DEFAULT;
nonip:
	return NMF_NONIP;
}

/* Count a frame against what decided it; 1 = pass, 0 = drop. */
static int verdict(int who, unsigned len)
{
	if (who >= 0) {
		rules[who].hits++;
		rules[who].bytes += len;
		return rules[who].pass;
	}
	if (who == NMF_DEFAULT) {
		def_hits++;
		def_bytes += len;
		return def_pass;
	}
	nonip_hits++;
	nonip_bytes += len;
	return nonip_pass;
}

static void print_stats(FILE *f)
{
	int i;

	fprintf(f, "nm-filter: counters\n");
	for (i = 0; i < nrules; i++)
		fprintf(f, "  rule %d: %s: %" PRIu64 " packets %" PRIu64 " bytes\n", i + 1,
			rules[i].text, rules[i].hits, rules[i].bytes);
	fprintf(f, "  default %s: %" PRIu64 " packets %" PRIu64 " bytes\n",
		def_pass ? "pass" : "drop", def_hits, def_bytes);
	fprintf(f, "  non-ip %s: %" PRIu64 " packets %" PRIu64 " bytes\n",
		nonip_pass ? "pass" : "drop", nonip_hits, nonip_bytes);
	for (i = 0; i < 2; i++)
		fprintf(f, "  %s: %" PRIu64 " received %" PRIu64 " forwarded %" PRIu64
			" dropped %" PRIu64 " bad\n", dirs[i].name, dirs[i].rx, dirs[i].fwd,
			dirs[i].drop, dirs[i].bad);
	fflush(f);
}

/*
 * Move up to budget frames from src's RX rings to dst's TX rings through
 * the rules.  Returns 1 when frames wait for room in dst's TX rings.
 * *moved counts the slots written to dst.
 */
static int forward(struct nmport_d *src, struct nmport_d *dst, int dir, struct nmf_dir *st,
		   unsigned budget, int zerocopy, unsigned *moved)
{
	unsigned si = src->first_rx_ring, di = dst->first_tx_ring;
	int blocked = 0;

	*moved = 0;
	while (si <= src->last_rx_ring && budget) {
		struct netmap_ring *rx = NETMAP_RXRING(src->nifp, si), *tx;
		uint32_t j = rx->head, rtail = rx->tail, rn = rx->num_slots;
		uint32_t maxbuf = nfv_max_buf(src, rx);
		uint32_t k, ttail, tn, tmaxbuf;
		int full = 0;

		if (j == rtail) {
			si++;
			continue;
		}
		if (di > dst->last_tx_ring) {
			blocked = 1;
			break;
		}
		tx = NETMAP_TXRING(dst->nifp, di);
		k = tx->head;
		ttail = tx->tail;
		tn = tx->num_slots;
		tmaxbuf = nfv_max_buf(dst, tx);
		while (j != rtail && budget) {
			uint32_t nfr = 0, x = j, f, room;
			uint32_t idx0 = rx->slot[j].buf_idx, len0 = rx->slot[j].len;
			int ok = 1, who, pass;

			/* the frame's slots, bounded by the slots we own; what
			 * the peer wrote in them is checked before use */
			do {
				uint32_t bi = rx->slot[x].buf_idx, bl = rx->slot[x].len;

				if (bi < 2 || bi > maxbuf || bl > rx->nr_buf_size)
					ok = 0;
				nfr++;
				f = rx->slot[x].flags;
				x = x + 1 == rn ? 0 : x + 1;
			} while ((f & NS_MOREFRAG) && x != rtail);
			if (!ok) {
				st->rx++;
				st->bad++;
				budget--;
				j = x;
				continue;
			}
			who = classify((const uint8_t *)NETMAP_BUF(rx, idx0), len0, dir);
			pass = who >= 0 ? rules[who].pass : who == NMF_DEFAULT ? def_pass : nonip_pass;
			room = ttail >= k ? ttail - k : ttail + tn - k;
			if (pass && room < nfr) {
				full = 1;
				break;
			}
			st->rx++;
			budget--;
			if (!verdict(who, len0)) {
				st->drop++;
				j = x;
				continue;
			}
			for (f = 0; f < nfr; f++) {
				struct netmap_slot *rs = &rx->slot[j], *ts = &tx->slot[k];
				uint32_t tb = ts->buf_idx;

				if (zerocopy) {
					ts->buf_idx = rs->buf_idx;
					rs->buf_idx = tb;
					rs->flags |= NS_BUF_CHANGED;
					ts->flags = NS_BUF_CHANGED;
				} else {
					if (tb >= 2 && tb <= tmaxbuf)
						nm_pkt_copy(NETMAP_BUF(rx, rs->buf_idx),
							    NETMAP_BUF(tx, tb), rs->len);
					else
						RD(1, "bad buffer %u in tx slot %u", tb, k);
					ts->flags = 0;
				}
				ts->len = rs->len;
				ts->flags |= rs->flags & NS_MOREFRAG;
				j = j + 1 == rn ? 0 : j + 1;
				k = k + 1 == tn ? 0 : k + 1;
				(*moved)++;
			}
			st->fwd++;
		}
		rx->head = rx->cur = j;
		tx->head = tx->cur = k;
		if (full)
			di++;
	}
	return blocked;
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

int main(int argc, char **argv)
{
	const char *ports[2] = { NULL, NULL }, *files[16];
	struct nmport_d *d[2] = { NULL, NULL };
	char *names[2] = { NULL, NULL };
	int nports = 0, nfiles = 0, ch, zerocopy = 1, verbose = 0, rc = 1, i;
	unsigned long batch = 1024;
	char *end;
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
	};

	rules = calloc(NMF_MAX_RULES, sizeof(*rules));
	if (!rules) {
		fprintf(stderr, "nm-filter: out of memory\n");
		return 1;
	}
	while ((ch = getopt_long(argc, argv, "+hi:f:D:N:b:cv", lopts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			if (nports == 2) {
				fprintf(stderr, "nm-filter: -i given more than twice\n");
				usage(stderr, 1);
			}
			ports[nports++] = optarg;
			break;
		case 'f':
			if (nfiles == 16) {
				fprintf(stderr, "nm-filter: at most 16 -f files\n");
				return 1;
			}
			files[nfiles++] = optarg;
			break;
		case 'D':
		case 'N':
			if (parse_policy(optarg, ch == 'D' ? &def_pass : &nonip_pass) < 0) {
				fprintf(stderr, "nm-filter: -%c wants pass or drop\n", ch);
				return 1;
			}
			break;
		case 'b':
			errno = 0;
			batch = strtoul(optarg, &end, 10);
			if (errno || *end || batch < 1 || batch > 8192) {
				fprintf(stderr, "nm-filter: -b wants 1..8192\n");
				return 1;
			}
			break;
		case 'c':
			zerocopy = 0;
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
	if (nports != 2) {
		fprintf(stderr, "nm-filter: give -i EXT and -i INT\n");
		usage(stderr, 1);
	}
	for (i = 0; i < nfiles; i++)
		if (load_file(files[i]) < 0)
			return 1;
	if (optind < argc) {
		/* words may come one per argument or several in one quoted
		 * argument: split them all the same way */
		char **w = calloc((size_t)(argc - optind) * 64, sizeof(*w));
		int nw = 0;

		if (!w)
			return 1;
		for (i = optind; i < argc; i++)
			nw += words(argv[i], w + nw, 64);
		if (nw && parse_policy(w[0], &(int){ 0 }) < 0) {
			fprintf(stderr, "nm-filter: a rule starts with pass or drop, not '%s'\n",
				w[0]);
			free(w);
			return 1;
		}
		if (parse_rules(w, nw, "command line") < 0) {
			free(w);
			return 1;
		}
		free(w);
	}
	for (i = 0; i < 2; i++) {
		names[i] = portname(ports[i]);
		if (!names[i])
			goto out;
		d[i] = nmport_open(names[i]);
		if (!d[i]) {
			fprintf(stderr, "nm-filter: cannot open %s: %s\n", names[i], strerror(errno));
			goto out;
		}
	}
	zerocopy = zerocopy && d[0]->mem == d[1]->mem;
	printf("nm-filter: external %s, internal %s, zerocopy %s, %d rules, default %s, "
	       "non-ip %s\n", names[0], names[1], zerocopy ? "enabled" : "disabled", nrules,
	       def_pass ? "pass" : "drop", nonip_pass ? "pass" : "drop");
	if (verbose)
		for (i = 0; i < nrules; i++)
			printf("  rule %d: %s\n", i + 1, rules[i].text);
	fflush(stdout);

	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	signal(SIGUSR1, on_usr1);
	{
		int blocked[2] = { 0, 0 };

		while (!stop) {
			struct pollfd pfd[2];
			unsigned moved;

			/* direction i goes from d[i] to d[1 - i]: wait for frames
			 * on d[i], or for room on d[1 - i] when frames wait */
			for (i = 0; i < 2; i++) {
				pfd[i].fd = d[i]->fd;
				pfd[i].events = 0;
				pfd[i].revents = 0;
			}
			for (i = 0; i < 2; i++) {
				if (blocked[i])
					pfd[1 - i].events |= POLLOUT;
				else
					pfd[i].events |= POLLIN;
			}
			if (poll(pfd, 2, 1000) < 0 && errno != EINTR) {
				fprintf(stderr, "nm-filter: poll: %s\n", strerror(errno));
				break;
			}
			if (dump_stats) {
				dump_stats = 0;
				print_stats(stdout);
			}
			for (i = 0; i < 2; i++) {
				if (pfd[i].revents & POLLERR) {
					RD(1, "error on %s", names[i]);
					if (!(pfd[i].revents & (POLLIN | POLLOUT)))
						usleep(100000);
				}
			}
			for (i = 0; i < 2; i++) {
				blocked[i] = forward(d[i], d[1 - i], i ? NMF_DIR_OUT : NMF_DIR_IN,
						     &dirs[i], (unsigned)batch, zerocopy, &moved);
				/* push at once: latency, and the peer may sleep */
				if (moved)
					ioctl(d[1 - i]->fd, NIOCTXSYNC, NULL);
			}
		}
	}
	print_stats(stdout);
	rc = 0;
out:
	for (i = 0; i < 2; i++) {
		if (d[i])
			nmport_close(d[i]);
		free(names[i]);
	}
	free(rules);
	return rc;
}

/*
 * pkt-gen -- command line parsing.
 *
 * The option letters and their meaning are netmap pkt-gen's (see
 * pkt-gen.8).  Two letters netmap does not use are ours: -E (busy-wait
 * with NIOCTXSYNC/NIOCRXSYNC instead of poll, netmap's "pkt-gen-b") and
 * -G (txseq skips a sequence number every N packets, to test rxseq).
 *
 * Unlike netmap's pkt-gen, which takes every number with atoi(), each
 * value is checked here: a wrong value is an error with a message, the
 * caller prints the usage and exits with status 1.  Nothing in this file
 * prints, exits or allocates, so the unit test can run it many times.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pktgen.h"

#define PG_OPTSTRING ":46a:f:F:Nn:i:Il:d:s:D:S:b:c:o:p:T:w:WvR:XC:H:rP:zZAhBM:EG:"

static const struct {
	const char *name;
	enum pg_func func;
	enum pg_td_type type;
	int burst;
} pg_funcs[] = {
	{ "rx",    PG_F_RX,    PG_TD_RECEIVER, 512 },
	{ "tx",    PG_F_TX,    PG_TD_SENDER,   512 },
	{ "ping",  PG_F_PING,  PG_TD_OTHER,    1 },
	{ "pong",  PG_F_PONG,  PG_TD_OTHER,    1 },
	{ "txseq", PG_F_TXSEQ, PG_TD_SENDER,   512 },
	{ "rxseq", PG_F_RXSEQ, PG_TD_RECEIVER, 512 },
};
#define PG_NFUNCS (sizeof(pg_funcs) / sizeof(pg_funcs[0]))

const char *
pg_func_name(enum pg_func f)
{
	size_t i;

	for (i = 0; i < PG_NFUNCS; i++)
		if (pg_funcs[i].func == f)
			return pg_funcs[i].name;
	return "?";
}

enum pg_td_type
pg_func_type(enum pg_func f)
{
	size_t i;

	for (i = 0; i < PG_NFUNCS; i++)
		if (pg_funcs[i].func == f)
			return pg_funcs[i].type;
	return PG_TD_OTHER;
}

static int
func_default_burst(enum pg_func f)
{
	size_t i;

	for (i = 0; i < PG_NFUNCS; i++)
		if (pg_funcs[i].func == f)
			return pg_funcs[i].burst;
	return 512;
}

static int __attribute__((format(printf, 3, 4)))
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return PG_ARGS_ERR;
}

/* Strict unsigned decimal (or 0x/0 prefixed when base is 0) in [min, max]. */
static int
parse_u64(const char *s, int base, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s == '\0' || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_int(const char *s, int min, int max, int *out)
{
	uint64_t v;

	if (min < 0)
		return -1;	/* no option takes negative numbers */
	if (parse_u64(s, 10, (uint64_t)min, (uint64_t)max, &v) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

int
pg_parse_mac(uint8_t mac[6], const char *s)
{
	unsigned int b[6];
	int i, n = 0;

	if (s == NULL)
		return -1;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2],
		   &b[3], &b[4], &b[5], &n) != 6 || s[n] != '\0')
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static int
parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (parse_u64(s, 0, 0, 65535, &v) < 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* "a.b.c.d[:port]" */
static int
parse_v4_end(char *s, uint32_t *addr, uint16_t *port)
{
	struct in_addr a;
	char *colon = strchr(s, ':');

	if (colon != NULL) {
		*colon++ = '\0';
		if (parse_port(colon, port) < 0)
			return -1;
	}
	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*addr = ntohl(a.s_addr);
	return 0;
}

/* "[group@]addr", "[group@][addr]", "[group@][addr]:port" */
static int
parse_v6_end(char *s, struct in6_addr *addr, uint16_t *port, uint8_t *group)
{
	char *at = strchr(s, '@'), *close;

	if (at != NULL) {
		int g;

		*at = '\0';
		if (parse_int(s, 0, 7, &g) < 0)
			return -1;
		*group = (uint8_t)g;
		s = at + 1;
	}
	if (*s == '[') {
		s++;
		close = strchr(s, ']');
		if (close == NULL)
			return -1;
		*close++ = '\0';
		if (*close == ':') {
			if (parse_port(close + 1, port) < 0)
				return -1;
		} else if (*close != '\0') {
			return -1;
		}
	}
	if (inet_pton(AF_INET6, s, addr) != 1)
		return -1;
	return 0;
}

static uint16_t
v6_group(const struct in6_addr *a, unsigned g)
{
	return (uint16_t)(a->s6_addr[2 * g] << 8 | a->s6_addr[2 * g + 1]);
}

/*
 * pg_parse_ip_range - parse "lo[:port][-hi[:port]]" (IPv4) or
 * "[grp@][lo]:port[-[grp@][hi]:port]" (IPv6).  As an extension, the part
 * after '-' may be a bare port number ("10.0.0.1:1000-1010").
 * Start and end are swapped when given in decreasing order, like netmap.
 */
int
pg_parse_ip_range(struct pg_ip_range *r, const char *s, int af,
		  char *err, size_t errlen)
{
	char buf[256], *lo, *hi;
	uint64_t v;

	if (s == NULL || strlen(s) >= sizeof(buf))
		return fail(err, errlen, "invalid address range '%s'",
			    s ? s : "(null)");
	strcpy(buf, s);
	memset(r, 0, sizeof(*r));
	r->name = s;
	r->port0 = PG_DEFAULT_PORT;
	lo = buf;
	/* IPv6 addresses contain no '-', so the first '-' splits the range */
	hi = strchr(buf, '-');
	if (hi != NULL)
		*hi++ = '\0';

	if (af == AF_INET6) {
		r->v6_sgroup = 7;
		if (parse_v6_end(lo, &r->v6_start, &r->port0, &r->v6_sgroup) < 0)
			return fail(err, errlen, "invalid IPv6 address '%s'", s);
	} else if (parse_v4_end(lo, &r->v4_start, &r->port0) < 0) {
		return fail(err, errlen, "invalid IPv4 address '%s'", s);
	}
	r->port1 = r->port0;
	r->v4_end = r->v4_start;
	r->v6_end = r->v6_start;
	r->v6_egroup = r->v6_sgroup;

	if (hi != NULL) {
		if (*hi == '\0')
			return fail(err, errlen, "empty range end in '%s'", s);
		if (strpbrk(hi, ".:[@") == NULL) {
			/* bare number: end of the port range */
			if (parse_u64(hi, 0, 0, 65535, &v) < 0)
				return fail(err, errlen, "invalid range end in '%s'", s);
			r->port1 = (uint16_t)v;
		} else if (af == AF_INET6) {
			if (parse_v6_end(hi, &r->v6_end, &r->port1, &r->v6_egroup) < 0)
				return fail(err, errlen, "invalid IPv6 address '%s'", s);
		} else if (parse_v4_end(hi, &r->v4_end, &r->port1) < 0) {
			return fail(err, errlen, "invalid IPv4 address '%s'", s);
		}
	}
	if (af == AF_INET && r->v4_start > r->v4_end) {
		uint32_t t = r->v4_start;

		r->v4_start = r->v4_end;
		r->v4_end = t;
	}
	if (af == AF_INET6 &&
	    v6_group(&r->v6_start, r->v6_sgroup) > v6_group(&r->v6_end, r->v6_sgroup)) {
		struct in6_addr t = r->v6_start;

		r->v6_start = r->v6_end;
		r->v6_end = t;
	}
	if (r->port0 > r->port1) {
		uint16_t t = r->port0;

		r->port0 = r->port1;
		r->port1 = t;
	}
	return PG_ARGS_OK;
}

static int
range_is_multi(const struct pg_ip_range *r, int af)
{
	if (r->port0 != r->port1)
		return 1;
	if (af == AF_INET6)
		return memcmp(&r->v6_start, &r->v6_end, sizeof(r->v6_start)) != 0;
	return r->v4_start != r->v4_end;
}

void
pg_range_str(const struct pg_ip_range *r, int af, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	if (af == AF_INET6) {
		inet_ntop(AF_INET6, &r->v6_start, a, sizeof(a));
		inet_ntop(AF_INET6, &r->v6_end, b, sizeof(b));
		snprintf(buf, len, "%d@[%s]:%d to %d@[%s]:%d", r->v6_sgroup, a,
			 r->port0, r->v6_egroup, b, r->port1);
	} else {
		struct in_addr x = { .s_addr = htonl(r->v4_start) };
		struct in_addr y = { .s_addr = htonl(r->v4_end) };

		inet_ntop(AF_INET, &x, a, sizeof(a));
		inet_ntop(AF_INET, &y, b, sizeof(b));
		snprintf(buf, len, "%s:%d to %s:%d", a, r->port0, b, r->port1);
	}
}

/*
 * -C tx_slots[,rx_slots[,tx_rings[,rx_rings]]]: one value sets both slot
 * counts; without a fourth value the third sets both ring counts.
 */
static int
parse_ring_conf(struct pg_conf *c, const char *s)
{
	unsigned v[4] = { 0, 0, 0, 0 };
	const char *p = s;
	int n = 0;

	if (*s == '\0')
		return -1;
	for (;;) {
		char num[16];
		size_t l = strcspn(p, ",");
		uint64_t x;

		if (n == 4 || l == 0 || l >= sizeof(num))
			return -1;
		memcpy(num, p, l);
		num[l] = '\0';
		if (parse_u64(num, 10, 0, UINT32_MAX, &x) < 0)
			return -1;
		v[n++] = (unsigned)x;
		p += l;
		if (*p == '\0')
			break;
		p++;		/* skip ',' */
	}
	c->tx_slots = v[0];
	c->rx_slots = n >= 2 ? v[1] : v[0];
	c->tx_rings = v[2];
	c->rx_rings = n >= 4 ? v[3] : v[2];
	return 0;
}

static int
set_ifname(struct pg_conf *c, const char *name, char *err, size_t errlen)
{
	size_t l = strlen(name);

	if (l == 0)
		return fail(err, errlen, "empty interface name");
	if (l > PG_MAX_IFNAMELEN - 8)
		return fail(err, errlen, "ifname too long %s", name);
	if (strcmp(name, "null") == 0) {
		c->dev = PG_DEV_DUMMY;
		strcpy(c->ifname, name);
	} else if (strncmp(name, "tap", 3) == 0 || strncmp(name, "pcap:", 5) == 0) {
		return fail(err, errlen, "%s: tap and pcap devices are not supported",
			    name);
	} else if (strncmp(name, "netmap:", 7) == 0 ||
		   strncmp(name, "vale", 4) == 0 ||
		   strncmp(name, "null:", 5) == 0 ||
		   strncmp(name, "vxlan:", 6) == 0) {	/* unetmap's tunnels */
		c->dev = PG_DEV_NETMAP;
		strcpy(c->ifname, name);
	} else {
		c->dev = PG_DEV_NETMAP;
		snprintf(c->ifname, sizeof(c->ifname), "netmap:%s", name);
	}
	return PG_ARGS_OK;
}

#define PG_SRC4_DEFAULT	"10.0.0.1"
#define PG_DST4_DEFAULT	"10.1.0.1"
#define PG_SRC6_DEFAULT	"2001:db8::1"
#define PG_DST6_DEFAULT	"2001:db8:1::1"

static void
conf_defaults(struct pg_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->func = PG_F_RX;
	c->pkt_size = 60;
	c->af = AF_INET;
	c->src_ip.name = PG_SRC4_DEFAULT;
	c->dst_ip.name = PG_DST4_DEFAULT;
	c->dst_mac.name = "ff:ff:ff:ff:ff:ff";
	c->src_mac.name = NULL;
	c->affinity = -1;
	c->cpus = 1;
	c->nthreads = 1;
	c->report_ms = 1000;
	c->wait_link = 2;
	c->forever = 1;
	c->frags = 1;
	c->normalize = 1;
}

/* No link to wait for on software ports. */
static int
is_soft_port(const char *n)
{
	return strncmp(n, "vale", 4) == 0 || strncmp(n, "null", 4) == 0 ||
	       strchr(n, '{') != NULL || strchr(n, '}') != NULL;
}

int
pg_parse_args(struct pg_conf *c, int argc, char *argv[], char *err, size_t errlen)
{
	int ch, v, lsize_seen = 0;
	uint64_t u;
	size_t i;

	conf_defaults(c);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	optind = 0;		/* glibc: full re-initialisation */
	opterr = 0;
	while ((ch = getopt(argc, argv, PG_OPTSTRING)) != -1) {
		const char *a = optarg;

		switch (ch) {
		case 'h':
			return PG_ARGS_HELP;
		case '4':
			c->af = AF_INET;
			break;
		case '6':
			c->af = AF_INET6;
			break;
		case 'N':
			c->normalize = 0;
			break;
		case 'n':
			if (parse_u64(a, 10, 0, UINT64_MAX, &c->npackets) < 0)
				return fail(err, errlen, "invalid count '%s'", a);
			break;
		case 'F':
			if (parse_int(a, 1, PG_MAX_FRAGS, &c->frags) < 0)
				return fail(err, errlen, "invalid frags '%s' [1..%d]",
					    a, PG_MAX_FRAGS);
			break;
		case 'M':
			if (parse_int(a, 1, PG_MAX_PKT_SIZE, &v) < 0)
				return fail(err, errlen, "invalid frag size '%s'", a);
			c->frag_size = (unsigned)v;
			break;
		case 'f':
			for (i = 0; i < PG_NFUNCS; i++)
				if (strcmp(pg_funcs[i].name, a) == 0)
					break;
			if (i == PG_NFUNCS)
				return fail(err, errlen, "unrecognised function %s", a);
			c->func = pg_funcs[i].func;
			break;
		case 'o':
			if (parse_u64(a, 0, 0, UINT32_MAX, &u) < 0)
				return fail(err, errlen, "invalid options '%s'", a);
			c->options |= (unsigned)u;
			break;
		case 'a':
			if (parse_int(a, 0, CPU_SETSIZE - 1, &c->affinity) < 0)
				return fail(err, errlen, "invalid cpu '%s'", a);
			break;
		case 'i':
			if (set_ifname(c, a, err, errlen) != PG_ARGS_OK)
				return PG_ARGS_ERR;
			break;
		case 'I':
			c->options |= OPT_INDIRECT;
			break;
		case 'l':
			if (parse_int(a, PG_MIN_PKT_SIZE, PG_MAX_PKT_SIZE, &v) < 0)
				return fail(err, errlen, "bad pktsize %s [%d..%d]", a,
					    PG_MIN_PKT_SIZE, PG_MAX_PKT_SIZE);
			if (lsize_seen++)
				c->pkt_min_size = v;
			else
				c->pkt_size = v;
			break;
		case 'd':
			c->dst_ip.name = a;
			break;
		case 's':
			c->src_ip.name = a;
			break;
		case 'D':
			c->dst_mac.name = a;
			break;
		case 'S':
			c->src_mac.name = a;
			c->src_mac_given = 1;
			break;
		case 'b':
			if (parse_int(a, 0, 1 << 20, &c->burst) < 0)
				return fail(err, errlen, "invalid burst '%s'", a);
			c->burst_given = c->burst > 0;
			break;
		case 'c':
			if (parse_int(a, 0, CPU_SETSIZE, &c->cpus) < 0)
				return fail(err, errlen, "invalid cpus '%s'", a);
			c->cpus_given = 1;
			break;
		case 'p':
			if (parse_int(a, 1, 4096, &c->nthreads) < 0)
				return fail(err, errlen, "invalid threads '%s'", a);
			break;
		case 'T':
			if (parse_int(a, 1, 3600 * 1000, &c->report_ms) < 0)
				return fail(err, errlen, "invalid report interval '%s'", a);
			break;
		case 'w':
			if (parse_int(a, 0, 3600, &c->wait_link) < 0)
				return fail(err, errlen, "invalid wait time '%s'", a);
			c->wait_link_given = 1;
			break;
		case 'W':
			c->forever = 0;
			break;
		case 'v':
			c->verbose++;
			break;
		case 'R':
			if (parse_u64(a, 10, 0, UINT32_MAX, &c->tx_rate) < 0)
				return fail(err, errlen, "invalid rate '%s'", a);
			break;
		case 'X':
			c->options |= OPT_DUMP;
			break;
		case 'C':
			if (parse_ring_conf(c, a) < 0)
				return fail(err, errlen, "invalid ring config '%s'", a);
			c->ring_conf = a;
			break;
		case 'H':
			if (parse_int(a, 0, PG_VHDR_MAX, &c->virt_header) < 0 ||
			    (c->virt_header != 0 && c->virt_header != 10 &&
			     c->virt_header != 12))
				return fail(err, errlen,
					    "bad virtio-net-header length '%s'", a);
			break;
		case 'P':
			c->packet_file = a;
			break;
		case 'r':
			c->options |= OPT_RUBBISH;
			break;
		case 'z':
			c->options |= OPT_RANDOM_SRC;
			break;
		case 'Z':
			c->options |= OPT_RANDOM_DST;
			break;
		case 'A':
			c->options |= OPT_PPS_STATS;
			break;
		case 'B':
			c->framing = 24 * 8;	/* 4 bytes CRC + 20 preamble/IFG */
			break;
		case 'E':
			c->busywait = 1;
			break;
		case 'G':
			if (parse_u64(a, 10, 1, UINT64_MAX, &c->seq_gap) < 0)
				return fail(err, errlen, "invalid gap interval '%s'", a);
			break;
		case ':':
			return fail(err, errlen, "option -%c requires an argument",
				    optopt);
		default:
			if (optopt >= 0x20 && optopt < 0x7f)
				return fail(err, errlen, "bad option -%c", optopt);
			return fail(err, errlen, "bad option %s",
				    argv[optind - 1 > 0 ? optind - 1 : 0]);
		}
	}
	if (optind < argc)
		return fail(err, errlen, "unexpected argument '%s'", argv[optind]);

	if (c->ifname[0] == '\0')
		return fail(err, errlen, "missing ifname");
	if (c->burst == 0)
		c->burst = func_default_burst(c->func);
	if (c->cpus > (int)sysconf(_SC_NPROCESSORS_ONLN))
		return fail(err, errlen, "%d cpus is too high, have only %ld cpus",
			    c->cpus, sysconf(_SC_NPROCESSORS_ONLN));
	if (!c->wait_link_given && (c->dev == PG_DEV_DUMMY || is_soft_port(
		    strncmp(c->ifname, "netmap:", 7) == 0 ? c->ifname + 7 : c->ifname)))
		c->wait_link = 0;
	if (c->pkt_min_size > c->pkt_size)
		return fail(err, errlen, "bad pktminsize %d [%d..%d]",
			    c->pkt_min_size, PG_MIN_PKT_SIZE, c->pkt_size);
	if (c->pkt_min_size == c->pkt_size)
		c->pkt_min_size = 0;	/* a range of one size */
	if (c->nthreads > 1 && c->func != PG_F_TX && c->func != PG_F_RX)
		return fail(err, errlen, "-f %s can only use 1 thread",
			    pg_func_name(c->func));
	if (c->packet_file != NULL && c->func != PG_F_TX)
		return fail(err, errlen, "-P can only be used with -f tx");
	if (c->seq_gap != 0 && c->func != PG_F_TXSEQ)
		return fail(err, errlen, "-G can only be used with -f txseq");

	if (c->af == AF_INET6) {
		/* the IPv4 defaults make no sense here */
		if (strcmp(c->src_ip.name, PG_SRC4_DEFAULT) == 0)
			c->src_ip.name = PG_SRC6_DEFAULT;
		if (strcmp(c->dst_ip.name, PG_DST4_DEFAULT) == 0)
			c->dst_ip.name = PG_DST6_DEFAULT;
	}
	if (pg_parse_mac(c->dst_mac.addr, c->dst_mac.name) < 0)
		return fail(err, errlen, "invalid MAC address '%s'", c->dst_mac.name);
	if (c->src_mac_given && pg_parse_mac(c->src_mac.addr, c->src_mac.name) < 0)
		return fail(err, errlen, "invalid MAC address '%s'", c->src_mac.name);
	if (pg_parse_ip_range(&c->src_ip, c->src_ip.name, c->af, err, errlen) < 0 ||
	    pg_parse_ip_range(&c->dst_ip, c->dst_ip.name, c->af, err, errlen) < 0)
		return PG_ARGS_ERR;
	c->addr_ranges = range_is_multi(&c->src_ip, c->af) ||
			 range_is_multi(&c->dst_ip, c->af);

	if (c->tx_rate > 0) {
		/* some packets every ~3 ms, at least one per burst */
		uint64_t lim = c->tx_rate / 300;

		if ((uint64_t)c->burst > lim)
			c->burst = (int)lim;
		if (c->burst == 0)
			c->burst = 1;
	}
	return PG_ARGS_OK;
}

void
pg_usage(FILE *f)
{
	fprintf(f,
"Usage:\n"
"pkt-gen arguments\n"
"  -i port       netmap port: netmap:IF, netmap:NAME{N, netmap:NAME}N,\n"
"                valeX:Y, null:NAME (endless source / sink) or any name\n"
"                libnetmap accepts; a bare IF means netmap:IF;\n"
"                \"null\" alone runs without a port (dummy send)\n"
"  -f function   rx (default), tx, ping, pong, txseq, rxseq\n"
"  -n count      packets (tx/rx) or transactions (ping/pong), 0 = forever\n"
"  -l len        frame length without CRC, default 60 [16..65536];\n"
"                a second -l gives the minimum of random lengths [min, len)\n"
"  -b burst      packets per batch (default 512, 1 for ping/pong)\n"
"  -4 | -6       IPv4 (default) or IPv6 frames\n"
"  -s addr       source ip[:port][-ip[:port]], default 10.0.0.1:1234\n"
"  -d addr       destination, default 10.1.0.1:1234 (IPv6: grp@[ip]:port)\n"
"  -S mac        source MAC (default: the interface's, or 00:00:00:00:00:00)\n"
"  -D mac        destination MAC, default ff:ff:ff:ff:ff:ff\n"
"  -a cpu        pin thread i to cpu+i\n"
"  -c cpus       cpus to use, 0 = all (default 1)\n"
"  -p threads    threads, one ring each (default 1)\n"
"  -T ms         report interval, default 1000\n"
"  -w sec        wait before starting (default 2; 0 on software ports)\n"
"  -W            rx: exit after 1 s without traffic\n"
"  -R pps        transmit rate limit\n"
"  -X            hexdump every packet\n"
"  -H len        virtio-net header length 0, 10 or 12\n"
"  -P file       transmit the first packet of a pcap file (tx only)\n"
"  -z | -Z       random source | destination address and port\n"
"  -N            do not normalize units\n"
"  -F n          packets of n fragments (NS_MOREFRAG) [1..63]\n"
"  -M size       fragment size, default the buffer size\n"
"  -I            indirect buffers (NS_INDIRECT, VALE only)\n"
"  -r            rubbish: send the buffers without writing them\n"
"  -A            pps average/stddev over a 15-sample window\n"
"  -B            add 24 bytes of framing and CRC to the bps figures\n"
"  -C tx_slots[,rx_slots[,tx_rings[,rx_rings]]]  ring configuration\n"
"  -o bits       options: 1 prefetch, 2 access, 4 copy, 8 memcpy,\n"
"                16 timestamp, 32 indirect, 64 dump, 256 rubbish,\n"
"                512 random src, 1024 random dst, 2048 pps stats,\n"
"                4096 update checksums\n"
"  -E            busy-wait with NIOCTXSYNC/NIOCRXSYNC instead of poll()\n"
"  -G n          txseq: skip one sequence number every n packets\n"
"  -v            verbose (ring layout)\n"
"  -h            this help\n");
}

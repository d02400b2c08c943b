/*
 * Test objective: pkt-gen's command line is netmap's, with strict checks.
 *
 * Operations: a table of command lines, each with either the expected
 * configuration ("field=value" pairs, every other field must keep its
 * default) or the expected error message; then the number formatting
 * used by the report lines (netmap's norm()).
 *
 * Exit 0 pass, 1 fail.
 */
#include "../../tools/pkt-gen/args.c"
#include "../../tools/pkt-gen/report.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

/*
 * Field values as strings, so that a table row can state them as text.
 * Every field listed here is compared on every successful row: the
 * expectation is the defaults overridden by the row.
 */
static const char *const fields[] = {
	"ifname", "dev", "f", "n", "l", "lmin", "b", "af", "p", "c", "a",
	"T", "w", "W", "R", "o", "H", "F", "M", "C", "v", "N", "B", "E",
	"G", "ranges", "src", "dst", "smac", "dmac", "P",
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static void
field(const struct pg_conf *c, const char *name, char *buf, size_t len)
{
	char mac[32];

	if (!strcmp(name, "ifname"))
		snprintf(buf, len, "%s", c->ifname);
	else if (!strcmp(name, "dev"))
		snprintf(buf, len, "%s", c->dev == PG_DEV_DUMMY ? "dummy" : "netmap");
	else if (!strcmp(name, "f"))
		snprintf(buf, len, "%s", pg_func_name(c->func));
	else if (!strcmp(name, "n"))
		snprintf(buf, len, "%llu", (unsigned long long)c->npackets);
	else if (!strcmp(name, "l"))
		snprintf(buf, len, "%d", c->pkt_size);
	else if (!strcmp(name, "lmin"))
		snprintf(buf, len, "%d", c->pkt_min_size);
	else if (!strcmp(name, "b"))
		snprintf(buf, len, "%d", c->burst);
	else if (!strcmp(name, "af"))
		snprintf(buf, len, "%d", c->af == AF_INET6 ? 6 : 4);
	else if (!strcmp(name, "p"))
		snprintf(buf, len, "%d", c->nthreads);
	else if (!strcmp(name, "c"))
		snprintf(buf, len, "%d", c->cpus);
	else if (!strcmp(name, "a"))
		snprintf(buf, len, "%d", c->affinity);
	else if (!strcmp(name, "T"))
		snprintf(buf, len, "%d", c->report_ms);
	else if (!strcmp(name, "w"))
		snprintf(buf, len, "%d", c->wait_link);
	else if (!strcmp(name, "W"))
		snprintf(buf, len, "%d", !c->forever);
	else if (!strcmp(name, "R"))
		snprintf(buf, len, "%llu", (unsigned long long)c->tx_rate);
	else if (!strcmp(name, "o"))
		snprintf(buf, len, "%u", c->options);
	else if (!strcmp(name, "H"))
		snprintf(buf, len, "%d", c->virt_header);
	else if (!strcmp(name, "F"))
		snprintf(buf, len, "%d", c->frags);
	else if (!strcmp(name, "M"))
		snprintf(buf, len, "%u", c->frag_size);
	else if (!strcmp(name, "C"))
		snprintf(buf, len, "%u,%u,%u,%u", c->tx_slots, c->rx_slots,
			 c->tx_rings, c->rx_rings);
	else if (!strcmp(name, "v"))
		snprintf(buf, len, "%d", c->verbose);
	else if (!strcmp(name, "N"))
		snprintf(buf, len, "%d", !c->normalize);
	else if (!strcmp(name, "B"))
		snprintf(buf, len, "%d", c->framing);
	else if (!strcmp(name, "E"))
		snprintf(buf, len, "%d", c->busywait);
	else if (!strcmp(name, "G"))
		snprintf(buf, len, "%llu", (unsigned long long)c->seq_gap);
	else if (!strcmp(name, "ranges"))
		snprintf(buf, len, "%d", c->addr_ranges);
	else if (!strcmp(name, "src"))
		pg_range_str(&c->src_ip, c->af, buf, len);
	else if (!strcmp(name, "dst"))
		pg_range_str(&c->dst_ip, c->af, buf, len);
	else if (!strcmp(name, "smac") || !strcmp(name, "dmac")) {
		const uint8_t *m = name[0] == 's' ? c->src_mac.addr : c->dst_mac.addr;

		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 m[0], m[1], m[2], m[3], m[4], m[5]);
		snprintf(buf, len, "%s", mac);
	} else if (!strcmp(name, "P"))
		snprintf(buf, len, "%s", c->packet_file ? c->packet_file : "-");
	else
		snprintf(buf, len, "?unknown field %s", name);
}

/* Defaults of every field, for "-i netmap:x{1 -w 0" (w for clarity). */
static const char *const defaults =
	"ifname=netmap:x{1 dev=netmap f=rx n=0 l=60 lmin=0 b=512 af=4 p=1 c=1 a=-1 "
	"T=1000 w=0 W=0 R=0 o=0 H=0 F=1 M=0 C=0,0,0,0 v=0 N=0 B=0 E=0 G=0 "
	"ranges=0 src=10.0.0.1:1234|to|10.0.0.1:1234 "
	"dst=10.1.0.1:1234|to|10.1.0.1:1234 smac=00:00:00:00:00:00 "
	"dmac=ff:ff:ff:ff:ff:ff P=-";

struct row {
	const char *args;	/* after "pkt-gen"; words split on spaces */
	int rc;			/* PG_ARGS_* */
	const char *expect;	/* "field=value ..." ('|' stands for a space),
				   or a substring of the error message */
};

static const struct row rows[] = {
	/* names */
	{ "-i netmap:x{1", PG_ARGS_OK, "" },
	{ "-i x{1", PG_ARGS_OK, "" },			/* netmap: prepended */
	{ "-i eth0", PG_ARGS_OK, "ifname=netmap:eth0 w=2" },
	{ "-i netmap:eth0-1", PG_ARGS_OK, "ifname=netmap:eth0-1 w=2" },
	{ "-i vale0:1", PG_ARGS_OK, "ifname=vale0:1" },	/* no wait on VALE */
	{ "-i vale0:1 -w 3", PG_ARGS_OK, "ifname=vale0:1 w=3" },
	{ "-i netmap:p}7", PG_ARGS_OK, "ifname=netmap:p}7" },
	{ "-i null:sink", PG_ARGS_OK, "ifname=null:sink" },
	{ "-i null -f tx", PG_ARGS_OK, "ifname=null dev=dummy f=tx" },
	{ "-i tap0", PG_ARGS_ERR, "not supported" },
	{ "-i pcap:eth0", PG_ARGS_ERR, "not supported" },
	{ "-f tx", PG_ARGS_ERR, "missing ifname" },
	{ "", PG_ARGS_ERR, "missing ifname" },
	{ "-i", PG_ARGS_ERR, "requires an argument" },
	/* functions and their default bursts */
	{ "-i x{1 -f tx", PG_ARGS_OK, "f=tx" },
	{ "-i x{1 -f rx", PG_ARGS_OK, "f=rx" },
	{ "-i x{1 -f ping", PG_ARGS_OK, "f=ping b=1" },
	{ "-i x{1 -f pong", PG_ARGS_OK, "f=pong b=1" },
	{ "-i x{1 -f txseq", PG_ARGS_OK, "f=txseq" },
	{ "-i x{1 -f rxseq", PG_ARGS_OK, "f=rxseq" },
	{ "-i x{1 -f ping -b 8", PG_ARGS_OK, "f=ping b=8" },
	{ "-i x{1 -f bogus", PG_ARGS_ERR, "unrecognised function bogus" },
	{ "-i x{1 -f ping -p 2", PG_ARGS_ERR, "only use 1 thread" },
	/* counts and sizes */
	{ "-i x{1 -n 1000000", PG_ARGS_OK, "n=1000000" },
	{ "-i x{1 -n 18446744073709551615", PG_ARGS_OK, "n=18446744073709551615" },
	{ "-i x{1 -n 1e6", PG_ARGS_ERR, "invalid count" },
	{ "-i x{1 -n -5", PG_ARGS_ERR, "invalid count" },
	{ "-i x{1 -l 1514", PG_ARGS_OK, "l=1514" },
	{ "-i x{1 -l 16", PG_ARGS_OK, "l=16" },
	{ "-i x{1 -l 65536", PG_ARGS_OK, "l=65536" },
	{ "-i x{1 -l 15", PG_ARGS_ERR, "bad pktsize" },
	{ "-i x{1 -l 65537", PG_ARGS_ERR, "bad pktsize" },
	{ "-i x{1 -l 1514 -l 60", PG_ARGS_OK, "l=1514 lmin=60" },
	{ "-i x{1 -l 60 -l 60", PG_ARGS_OK, "l=60 lmin=0" },
	{ "-i x{1 -l 60 -l 100", PG_ARGS_ERR, "bad pktminsize" },
	{ "-i x{1 -l abc", PG_ARGS_ERR, "bad pktsize" },
	{ "-i x{1 -b 64", PG_ARGS_OK, "b=64" },
	{ "-i x{1 -b 0", PG_ARGS_OK, "b=512" },
	{ "-i x{1 -b x", PG_ARGS_ERR, "invalid burst" },
	/* addresses */
	{ "-i x{1 -s 192.168.1.1:4000 -d 192.168.2.2", PG_ARGS_OK,
	  "src=192.168.1.1:4000|to|192.168.1.1:4000 dst=192.168.2.2:1234|to|192.168.2.2:1234" },
	{ "-i x{1 -s 10.0.0.5-10.0.0.1", PG_ARGS_OK,
	  "src=10.0.0.1:1234|to|10.0.0.5:1234 ranges=1" },
	{ "-i x{1 -d 10.1.0.1:100-10.1.0.1:200", PG_ARGS_OK,
	  "dst=10.1.0.1:100|to|10.1.0.1:200 ranges=1" },
	{ "-i x{1 -d 10.1.0.1:100-200", PG_ARGS_OK,
	  "dst=10.1.0.1:100|to|10.1.0.1:200 ranges=1" },
	{ "-i x{1 -d 10.1.0.1:0x10", PG_ARGS_OK, "dst=10.1.0.1:16|to|10.1.0.1:16" },
	{ "-i x{1 -s 10.0.0.300", PG_ARGS_ERR, "invalid IPv4 address" },
	{ "-i x{1 -s 10.0.0.1:70000", PG_ARGS_ERR, "invalid IPv4 address" },
	{ "-i x{1 -d 10.0.0.1-", PG_ARGS_ERR, "empty range end" },
	{ "-i x{1 -6", PG_ARGS_OK,
	  "af=6 src=7@[2001:db8::1]:1234|to|7@[2001:db8::1]:1234 "
	  "dst=7@[2001:db8:1::1]:1234|to|7@[2001:db8:1::1]:1234" },
	{ "-i x{1 -6 -s 3@[fd00::1]:99-3@[fd00::9]:99", PG_ARGS_OK,
	  "af=6 ranges=1 src=3@[fd00::1]:99|to|3@[fd00::9]:99 "
	  "dst=7@[2001:db8:1::1]:1234|to|7@[2001:db8:1::1]:1234" },
	{ "-i x{1 -6 -d fd00::2", PG_ARGS_OK,
	  "af=6 src=7@[2001:db8::1]:1234|to|7@[2001:db8::1]:1234 "
	  "dst=7@[fd00::2]:1234|to|7@[fd00::2]:1234" },
	{ "-i x{1 -6 -d 9@[fd00::2]", PG_ARGS_ERR, "invalid IPv6 address" },
	{ "-i x{1 -6 -d [fd00::2", PG_ARGS_ERR, "invalid IPv6 address" },
	{ "-i x{1 -D 02:00:00:00:00:02 -S 02:00:00:00:00:01", PG_ARGS_OK,
	  "dmac=02:00:00:00:00:02 smac=02:00:00:00:00:01" },
	{ "-i x{1 -D 02:00:00:00:00", PG_ARGS_ERR, "invalid MAC" },
	{ "-i x{1 -S 02:00:00:00:00:0g", PG_ARGS_ERR, "invalid MAC" },
	{ "-i x{1 -z -Z", PG_ARGS_OK, "o=1536" },
	/* threads, cpus, timing */
	{ "-i x{1 -p 2 -a 1 -c 0", PG_ARGS_OK, "p=2 a=1 c=0" },
	{ "-i x{1 -p 0", PG_ARGS_ERR, "invalid threads" },
	{ "-i x{1 -c 100000", PG_ARGS_ERR, "invalid cpus" },
	{ "-i x{1 -a -1", PG_ARGS_ERR, "invalid cpu" },
	{ "-i x{1 -T 100 -w 1 -W", PG_ARGS_OK, "T=100 w=1 W=1" },
	{ "-i x{1 -T 0", PG_ARGS_ERR, "invalid report interval" },
	{ "-i x{1 -f tx -R 1000000", PG_ARGS_OK, "f=tx R=1000000 b=512" },
	{ "-i x{1 -f tx -R 3000", PG_ARGS_OK, "f=tx R=3000 b=10" },
	{ "-i x{1 -f tx -R 10", PG_ARGS_OK, "f=tx R=10 b=1" },
	{ "-i x{1 -R fast", PG_ARGS_ERR, "invalid rate" },
	/* data options */
	{ "-i x{1 -o 4 -o 2", PG_ARGS_OK, "o=6" },
	{ "-i x{1 -o 0x1000", PG_ARGS_OK, "o=4096" },
	{ "-i x{1 -o many", PG_ARGS_ERR, "invalid options" },
	{ "-i x{1 -X -I -r -A", PG_ARGS_OK, "o=2400" },
	{ "-i x{1 -N -B -v -v -E", PG_ARGS_OK, "N=1 B=192 v=2 E=1" },
	{ "-i x{1 -H 10", PG_ARGS_OK, "H=10" },
	{ "-i x{1 -H 12", PG_ARGS_OK, "H=12" },
	{ "-i x{1 -H 11", PG_ARGS_ERR, "virtio-net-header" },
	{ "-i x{1 -F 4 -M 512", PG_ARGS_OK, "F=4 M=512" },
	{ "-i x{1 -F 63", PG_ARGS_OK, "F=63" },
	{ "-i x{1 -F 0", PG_ARGS_ERR, "invalid frags" },
	{ "-i x{1 -F 64", PG_ARGS_ERR, "invalid frags" },
	{ "-i x{1 -M 0", PG_ARGS_ERR, "invalid frag size" },
	{ "-i x{1 -C 2048", PG_ARGS_OK, "C=2048,2048,0,0" },
	{ "-i x{1 -C 512,256", PG_ARGS_OK, "C=512,256,0,0" },
	{ "-i x{1 -C 512,256,4", PG_ARGS_OK, "C=512,256,4,4" },
	{ "-i x{1 -C 512,256,4,2", PG_ARGS_OK, "C=512,256,4,2" },
	{ "-i x{1 -C 1,2,3,4,5", PG_ARGS_ERR, "invalid ring config" },
	{ "-i x{1 -C 1,,3", PG_ARGS_ERR, "invalid ring config" },
	{ "-i x{1 -f tx -P /tmp/f.pcap", PG_ARGS_OK, "f=tx P=/tmp/f.pcap" },
	{ "-i x{1 -f rx -P /tmp/f.pcap", PG_ARGS_ERR, "only be used with -f tx" },
	{ "-i x{1 -f txseq -G 100", PG_ARGS_OK, "f=txseq G=100" },
	{ "-i x{1 -f tx -G 100", PG_ARGS_ERR, "only be used with -f txseq" },
	{ "-i x{1 -f txseq -G 0", PG_ARGS_ERR, "invalid gap" },
	/* bad options, help */
	{ "-i x{1 -q", PG_ARGS_ERR, "bad option -q" },
	{ "-i x{1 -Y 3", PG_ARGS_ERR, "bad option -Y" },
	{ "-i x{1 extra", PG_ARGS_ERR, "unexpected argument 'extra'" },
	{ "-h", PG_ARGS_HELP, "" },
	{ "-i x{1 -f tx -h", PG_ARGS_HELP, "" },
	/* the usual ones from netmap's documentation */
	{ "-i netmap:x{1 -f tx -l 60 -b 512 -n 1000000 -w 0", PG_ARGS_OK,
	  "f=tx n=1000000" },
	{ "-i netmap:x}1 -f rx -W -T 500", PG_ARGS_OK, "ifname=netmap:x}1 W=1 T=500" },
};

/* Value of name in a "k=v k=v" list ('|' = space); NULL if absent. */
static const char *
lookup(const char *list, const char *name, char *buf, size_t len)
{
	size_t nl = strlen(name);
	const char *p = list;

	while (p && *p) {
		const char *end = strchr(p, ' ');
		size_t wl = end ? (size_t)(end - p) : strlen(p);

		if (wl > nl && p[nl] == '=' && strncmp(p, name, nl) == 0) {
			size_t vl = wl - nl - 1, i;

			if (vl >= len)
				vl = len - 1;
			for (i = 0; i < vl; i++)
				buf[i] = p[nl + 1 + i] == '|' ? ' ' : p[nl + 1 + i];
			buf[vl] = '\0';
			return buf;
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

static void
run_row(const struct row *r)
{
	char line[512], *argv[40], err[256], *tok;
	struct pg_conf c;
	int argc = 0, rc;
	size_t i;

	snprintf(line, sizeof(line), "pkt-gen %s", r->args);
	for (tok = strtok(line, " "); tok && argc < 39; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	argv[argc] = NULL;
	rc = pg_parse_args(&c, argc, argv, err, sizeof(err));
	if (rc != r->rc) {
		failures++;
		printf("FAIL '%s': rc %d, want %d (%s)\n", r->args, rc, r->rc,
		       rc == PG_ARGS_ERR ? err : "");
		return;
	}
	if (rc == PG_ARGS_ERR) {
		if (strstr(err, r->expect) == NULL) {
			failures++;
			printf("FAIL '%s': error '%s', want '%s'\n", r->args, err,
			       r->expect);
		}
		return;
	}
	if (rc == PG_ARGS_HELP)
		return;
	for (i = 0; i < NFIELDS; i++) {
		char got[PG_MAX_IFNAMELEN + 64], want[PG_MAX_IFNAMELEN + 64];
		const char *w = lookup(r->expect, fields[i], want, sizeof(want));

		if (w == NULL)
			w = lookup(defaults, fields[i], want, sizeof(want));
		/* rows that do not name the port expect it on "x{1" */
		if (!strcmp(fields[i], "ifname") && !lookup(r->expect, "ifname", got,
							    sizeof(got)))
			continue;
		field(&c, fields[i], got, sizeof(got));
		if (w == NULL || strcmp(got, w) != 0) {
			failures++;
			printf("FAIL '%s': %s = '%s', want '%s'\n", r->args, fields[i],
			       got, w ? w : "(no default)");
		}
	}
}

/* norm(): "%.3f %s" scaled by 1000s, or "%.0f " with -N */
static void
test_norm(void)
{
	static const struct {
		double v;
		int normalize;
		const char *want;
	} t[] = {
		{ 0, 1, "0.000 " },
		{ 999, 1, "999.000 " },
		{ 1000, 1, "1.000 K" },
		{ 14881000, 1, "14.881 M" },
		{ 7150000000.0, 1, "7.150 G" },
		{ 2.5e12, 1, "2.500 T" },
		{ 3e15, 1, "3000.000 T" },
		{ 14881000, 0, "14881000 " },
		{ 0.4, 0, "0 " },
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		pg_norm(buf, sizeof(buf), t[i].v, t[i].normalize);
		if (strcmp(buf, t[i].want) != 0) {
			failures++;
			printf("FAIL norm(%g, %d) = '%s', want '%s'\n", t[i].v,
			       t[i].normalize, buf, t[i].want);
		}
	}
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i]);
	test_norm();
	/* parsing twice in one process gives the same result (getopt reset) */
	run_row(&rows[0]);
	run_row(&rows[2]);
	if (failures) {
		printf("%d checks failed\n", failures);
		return 1;
	}
	printf("pktgen args: %zu rows passed\n", sizeof(rows) / sizeof(rows[0]));
	return 0;
}

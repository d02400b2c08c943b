/*
 * Test objective: pkt-gen builds valid Ethernet/IPv4|IPv6/UDP frames.
 *
 * Operations: build template frames of many lengths and address ranges,
 * rewrite them per packet the way the transmit loops do (length, address
 * ranges, random addresses, sequence numbers, ping stamps), and check
 * every header field and both checksums with a checksum routine written
 * here, independently of frame.c.  Also: pcap loading, the RTT
 * histogram percentiles.
 *
 * Exit 0 pass, 1 fail.
 */
#include "../../tools/pkt-gen/args.c"
#include "../../tools/pkt-gen/frame.c"
#include "../../tools/pkt-gen/report.c"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			failures++;					\
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__,	\
				__LINE__, #cond);			\
			fprintf(stderr, __VA_ARGS__);			\
			fputc('\n', stderr);				\
		}							\
	} while (0)

/*
 * Reference Internet checksum (RFC 1071): sum 16-bit big-endian words in
 * 64 bits, pad an odd byte with a zero, fold at the end.
 */
static uint32_t
ref_sum(const uint8_t *p, size_t n)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += (i % 2 == 0) ? (uint64_t)p[i] << 8 : p[i];
	return (uint32_t)(s % 0xffff);	/* one's complement reduction */
}

/* A packet with a correct checksum sums to 0xffff, i.e. 0 mod 0xffff. */
static int
ref_ok(uint64_t total)
{
	return total % 0xffff == 0;
}

static unsigned
rd16(const uint8_t *p)
{
	return (unsigned)(p[0] << 8 | p[1]);
}

static uint32_t
rd32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct expect {
	int af;
	uint32_t src4, dst4;
	struct in6_addr src6, dst6;
	unsigned sport, dport;
	const uint8_t *smac, *dmac;
};

/*
 * Check a frame of len bytes (len >= header length).  Returns 0 if all
 * fields and checksums are right.
 */
static int
verify(const uint8_t *e, unsigned len, const struct expect *x, const char *what)
{
	int bad0 = failures;
	unsigned hdrs = x->af == AF_INET ? 42 : 62;

	/* shorter frames go out truncated, with the headers of an empty one */
	if (len < hdrs)
		len = hdrs;

	if (x->dmac)
		CHECK(memcmp(e, x->dmac, 6) == 0, "%s: dst mac", what);
	if (x->smac)
		CHECK(memcmp(e + 6, x->smac, 6) == 0, "%s: src mac", what);
	if (x->af == AF_INET) {
		const uint8_t *ip = e + 14, *udp = ip + 20;
		uint64_t tot;

		CHECK(rd16(e + 12) == 0x0800, "%s: ethertype %04x", what, rd16(e + 12));
		CHECK(ip[0] == 0x45, "%s: ver/ihl %02x", what, ip[0]);
		CHECK(ip[1] == 0x10, "%s: tos", what);
		CHECK(rd16(ip + 2) == len - 14, "%s: ip len %u want %u", what,
		      rd16(ip + 2), len - 14);
		CHECK(rd16(ip + 6) == 0x4000, "%s: DF", what);
		CHECK(ip[8] == 64 && ip[9] == 17, "%s: ttl/proto", what);
		CHECK(ref_ok(ref_sum(ip, 20)), "%s: IP checksum %04x", what, rd16(ip + 10));
		CHECK(rd32be(ip + 12) == x->src4, "%s: src %08x want %08x", what,
		      rd32be(ip + 12), x->src4);
		CHECK(rd32be(ip + 16) == x->dst4, "%s: dst %08x want %08x", what,
		      rd32be(ip + 16), x->dst4);
		CHECK(rd16(udp) == x->sport && rd16(udp + 2) == x->dport,
		      "%s: ports %u %u want %u %u", what, rd16(udp), rd16(udp + 2),
		      x->sport, x->dport);
		CHECK(rd16(udp + 4) == len - 34, "%s: udp len", what);
		CHECK(rd16(udp + 6) != 0, "%s: udp checksum missing", what);
		/* pseudo header: addresses, protocol, UDP length */
		tot = ref_sum(ip + 12, 8) + 17 + (len - 34) + ref_sum(udp, len - 34);
		CHECK(ref_ok(tot), "%s: UDP checksum %04x (len %u)", what,
		      rd16(udp + 6), len);
	} else {
		const uint8_t *ip = e + 14, *udp = ip + 40;
		uint64_t tot;

		CHECK(rd16(e + 12) == 0x86dd, "%s: ethertype %04x", what, rd16(e + 12));
		CHECK(ip[0] >> 4 == 6, "%s: version", what);
		CHECK(rd16(ip + 4) == len - 54, "%s: payload len %u want %u", what,
		      rd16(ip + 4), len - 54);
		CHECK(ip[6] == 17 && ip[7] == 64, "%s: next hdr/hlim", what);
		CHECK(memcmp(ip + 8, &x->src6, 16) == 0, "%s: src6", what);
		CHECK(memcmp(ip + 24, &x->dst6, 16) == 0, "%s: dst6", what);
		CHECK(rd16(udp) == x->sport && rd16(udp + 2) == x->dport,
		      "%s: ports %u %u want %u %u", what, rd16(udp), rd16(udp + 2),
		      x->sport, x->dport);
		CHECK(rd16(udp + 4) == len - 54, "%s: udp len", what);
		CHECK(rd16(udp + 6) != 0, "%s: udp checksum missing", what);
		tot = ref_sum(ip + 8, 32) + 17 + (len - 54) + ref_sum(udp, len - 54);
		CHECK(ref_ok(tot), "%s: UDP checksum %04x (len %u)", what,
		      rd16(udp + 6), len);
	}
	return failures != bad0;
}

static const uint8_t SMAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t DMAC[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void
spec_for(struct pg_frame_spec *s, const struct pg_conf *c, unsigned len)
{
	memset(s, 0, sizeof(*s));
	s->af = c->af;
	s->len = len;
	memcpy(s->src_mac, SMAC, 6);
	memcpy(s->dst_mac, DMAC, 6);
	s->src4 = c->src_ip.v4_start;
	s->dst4 = c->dst_ip.v4_start;
	s->src6 = c->src_ip.v6_start;
	s->dst6 = c->dst_ip.v6_start;
	s->sport = c->src_ip.port0;
	s->dport = c->dst_ip.port0;
}

static void
conf_from(struct pg_conf *c, const char *args)
{
	char buf[512], *argv[32], err[256];
	int argc = 0;
	char *tok;

	snprintf(buf, sizeof(buf), "pkt-gen -i netmap:x{1 %s", args);
	for (tok = strtok(buf, " "); tok && argc < 31; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	argv[argc] = NULL;
	if (pg_parse_args(c, argc, argv, err, sizeof(err)) != PG_ARGS_OK) {
		fprintf(stderr, "FAIL cannot parse '%s': %s\n", args, err);
		exit(1);
	}
	/* names point into buf: keep what we need as numbers only */
	c->src_ip.name = c->dst_ip.name = NULL;
}

static void
expect_from(struct expect *x, const struct pg_conf *c, const struct pg_addrs *a)
{
	memset(x, 0, sizeof(*x));
	x->af = c->af;
	x->smac = SMAC;
	x->dmac = DMAC;
	x->src4 = a->src4;
	x->dst4 = a->dst4;
	x->src6 = c->src_ip.v6_start;
	x->dst6 = c->dst_ip.v6_start;
	x->src6.s6_addr[2 * c->src_ip.v6_sgroup] = (uint8_t)(a->src6g >> 8);
	x->src6.s6_addr[2 * c->src_ip.v6_sgroup + 1] = (uint8_t)a->src6g;
	x->dst6.s6_addr[2 * c->dst_ip.v6_sgroup] = (uint8_t)(a->dst6g >> 8);
	x->dst6.s6_addr[2 * c->dst_ip.v6_sgroup + 1] = (uint8_t)a->dst6g;
	x->sport = a->sport;
	x->dport = a->dport;
}

/* Template frames of many lengths, both families. */
static void
test_lengths(void)
{
	static const unsigned lens[] = { 42, 43, 59, 60, 61, 62, 63, 64, 65, 74,
					 127, 128, 129, 1000, 1023, 1514, 1515,
					 2048, 9000, 65535, 65536 };
	static const char *const fam[] = { "", "-6" };
	unsigned i, k;

	for (k = 0; k < 2; k++) {
		struct pg_conf c;

		conf_from(&c, fam[k]);
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			struct pg_frame_spec s;
			struct pg_frame f;
			struct expect x;
			struct pg_addrs a;
			char what[64];

			if (k == 1 && lens[i] < 62)
				continue;
			spec_for(&s, &c, lens[i]);
			CHECK(pg_frame_init(&f, &s) == 0, "init %u", lens[i]);
			a.src4 = c.src_ip.v4_start;
			a.dst4 = c.dst_ip.v4_start;
			a.src6g = 0x0001;	/* ::1 default */
			a.dst6g = 0x0001;
			a.sport = a.dport = 1234;
			expect_from(&x, &c, &a);
			x.src6 = c.src_ip.v6_start;
			x.dst6 = c.dst_ip.v6_start;
			snprintf(what, sizeof(what), "%s len %u", k ? "v6" : "v4", lens[i]);
			verify(f.eth, lens[i], &x, what);
			/* payload: the string, last byte NUL */
			if (lens[i] > f.pl_off + 1) {
				CHECK(memcmp(f.eth + f.pl_off, "netmap pkt-gen", lens[i] -
					     f.pl_off - 1 < 14 ? lens[i] - f.pl_off - 1 : 14) == 0,
				      "%s: payload", what);
				CHECK(f.eth[lens[i] - 1] == 0, "%s: last byte", what);
			}
			pg_frame_free(&f);
		}
	}
}

/* A frame shorter than its headers: sent truncated, headers as if empty. */
static void
test_short(void)
{
	struct pg_conf c;
	struct pg_frame_spec s;
	struct pg_frame f;

	conf_from(&c, "-l 16");
	spec_for(&s, &c, 16);
	CHECK(pg_frame_init(&f, &s) == 0, "init 16");
	CHECK(f.len == 16, "len %u", f.len);
	CHECK(rd16(f.eth + 14 + 2) == 28, "ip len of an empty UDP datagram");
	CHECK(ref_ok(ref_sum(f.eth + 14, 20)), "IP checksum of short frame");
	pg_frame_free(&f);

	memset(&s, 0, sizeof(s));
	s.af = AF_INET;
	s.len = 15;
	CHECK(pg_frame_init(&f, &s) == -EINVAL, "15 bytes rejected");
	s.len = 65537;
	CHECK(pg_frame_init(&f, &s) == -EINVAL, "65537 bytes rejected");
	s.len = 60;
	s.af = AF_UNIX;
	CHECK(pg_frame_init(&f, &s) == -EINVAL, "bad family rejected");
}

/*
 * Per-packet rewrites as the tx loop does them: the buffer is filled
 * with the whole template once, then only headers change.
 */
static void
test_rewrites(const char *args, unsigned npkts, int check_order)
{
	struct pg_conf c;
	struct pg_frame_spec s;
	struct pg_frame f;
	struct pg_addr_iter it;
	uint8_t *buf;
	unsigned i, maxlen, minlen;
	uint64_t rng = 12345;
	struct pg_addrs prev;

	conf_from(&c, args);
	maxlen = (unsigned)c.pkt_size;
	minlen = c.pkt_min_size ? (unsigned)c.pkt_min_size : maxlen;
	spec_for(&s, &c, maxlen);
	CHECK(pg_frame_init(&f, &s) == 0, "init %s", args);
	buf = calloc(1, maxlen + 64);
	memcpy(buf, f.eth, maxlen);
	pg_addr_iter_init(&it, &c, 99);
	prev = it.cur;
	for (i = 0; i < npkts; i++) {
		unsigned len = minlen == maxlen ? maxlen :
			       minlen + (unsigned)(pg_rand(&rng) % (maxlen - minlen));
		struct expect x;
		char what[128];

		expect_from(&x, &c, &it.cur);
		pg_frame_set_addrs(&f, buf, &it.cur, &c.src_ip, &c.dst_ip);
		pg_frame_fix(&f, buf, len, 0);
		snprintf(what, sizeof(what), "'%s' pkt %u len %u", args, i, len);
		if (verify(buf, len, &x, what))
			break;
		pg_addr_iter_next(&it);
		if (check_order && c.af == AF_INET) {
			/* odometer: sport, src, dport, dst */
			struct pg_addrs *a = &it.cur;

			if (prev.sport < c.src_ip.port1)
				CHECK(a->sport == prev.sport + 1 && a->src4 == prev.src4 &&
				      a->dport == prev.dport && a->dst4 == prev.dst4,
				      "%s: sport step", what);
			else if (prev.src4 < c.src_ip.v4_end)
				CHECK(a->sport == c.src_ip.port0 && a->src4 == prev.src4 + 1,
				      "%s: src step", what);
			else if (prev.dport < c.dst_ip.port1)
				CHECK(a->src4 == c.src_ip.v4_start &&
				      a->dport == prev.dport + 1, "%s: dport step", what);
			else if (prev.dst4 < c.dst_ip.v4_end)
				CHECK(a->dport == c.dst_ip.port0 && a->dst4 == prev.dst4 + 1,
				      "%s: dst step", what);
			else
				CHECK(a->src4 == c.src_ip.v4_start &&
				      a->dst4 == c.dst_ip.v4_start, "%s: wrap", what);
			CHECK(a->src4 >= c.src_ip.v4_start && a->src4 <= c.src_ip.v4_end &&
			      a->dst4 >= c.dst_ip.v4_start && a->dst4 <= c.dst_ip.v4_end &&
			      a->sport >= c.src_ip.port0 && a->sport <= c.src_ip.port1 &&
			      a->dport >= c.dst_ip.port0 && a->dport <= c.dst_ip.port1,
			      "%s: out of range", what);
		}
		prev = it.cur;
	}
	free(buf);
	pg_frame_free(&f);
}

/* txseq: sequence in the first 4 payload bytes, checksum still right. */
static void
test_seq(int af6)
{
	struct pg_conf c;
	struct pg_frame_spec s;
	struct pg_frame f;
	uint8_t buf[128];
	static const uint32_t seqs[] = { 0, 1, 2, 0xffff, 0x10000, 0x12345678,
					 0x7fffffff, 0xfffffffe, 0xffffffff };
	unsigned i;

	conf_from(&c, af6 ? "-6 -l 80" : "-l 60");
	spec_for(&s, &c, (unsigned)c.pkt_size);
	CHECK(pg_frame_init(&f, &s) == 0, "init seq");
	for (i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		struct expect x;
		struct pg_addrs a = { c.src_ip.v4_start, c.dst_ip.v4_start, 1, 1,
				      1234, 1234 };
		int ok;

		memcpy(buf, f.eth, f.len);
		pg_frame_put_seq(&f, buf, seqs[i]);
		pg_frame_fix(&f, buf, f.len, 4);
		expect_from(&x, &c, &a);
		x.src6 = c.src_ip.v6_start;
		x.dst6 = c.dst_ip.v6_start;
		verify(buf, f.len, &x, "seq");
		CHECK(pg_frame_get_seq(buf, f.len, &ok) == seqs[i] && ok,
		      "seq %u round trip", seqs[i]);
		CHECK(rd32be(buf + f.pl_off) == seqs[i], "seq big-endian");
	}
	/* ping: 12 bytes of stamp */
	memcpy(buf, f.eth, f.len);
	memset(buf + f.pl_off, 0xa5, 12);
	pg_frame_fix(&f, buf, f.len, 12);
	{
		struct expect x;
		struct pg_addrs a = { c.src_ip.v4_start, c.dst_ip.v4_start, 1, 1,
				      1234, 1234 };

		expect_from(&x, &c, &a);
		x.src6 = c.src_ip.v6_start;
		x.dst6 = c.dst_ip.v6_start;
		verify(buf, f.len, &x, "ping stamp");
	}
	{
		int ok;

		pg_frame_get_seq(buf, f.pl_off + 3, &ok);
		CHECK(!ok, "short frame has no sequence");
	}
	pg_frame_free(&f);
}

/* Random addresses (-z -Z) keep valid checksums. */
static void
test_random(void)
{
	struct pg_conf c;
	struct pg_frame_spec s;
	struct pg_frame f;
	struct pg_addr_iter it;
	uint8_t buf[64];
	unsigned i, distinct = 0;
	uint32_t last = 0;

	conf_from(&c, "-z -Z");
	spec_for(&s, &c, 60);
	CHECK(pg_frame_init(&f, &s) == 0, "init random");
	memcpy(buf, f.eth, 60);
	pg_addr_iter_init(&it, &c, 7);
	for (i = 0; i < 2000; i++) {
		struct expect x;

		pg_addr_iter_next(&it);
		pg_frame_set_addrs(&f, buf, &it.cur, &c.src_ip, &c.dst_ip);
		pg_frame_fix(&f, buf, 60, 0);
		expect_from(&x, &c, &it.cur);
		if (verify(buf, 60, &x, "random"))
			break;
		distinct += it.cur.src4 != last;
		last = it.cur.src4;
	}
	CHECK(distinct > 1900, "random sources vary (%u)", distinct);
	pg_frame_free(&f);
}

static void
test_pcap(void)
{
	char path[] = "/tmp/test_pktgen_XXXXXX";
	uint8_t frame[60];
	uint32_t gh[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1 };
	uint32_t rh[4] = { 1, 2, 60, 60 };
	struct pg_frame f;
	char err[256];
	int fd = mkstemp(path);
	unsigned i;

	CHECK(fd >= 0, "mkstemp");
	if (fd < 0)
		return;
	for (i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	CHECK(write(fd, gh, sizeof(gh)) == sizeof(gh) &&
	      write(fd, rh, sizeof(rh)) == sizeof(rh) &&
	      write(fd, frame, sizeof(frame)) == sizeof(frame), "write pcap");
	close(fd);
	CHECK(pg_frame_load_pcap(&f, path, 10, err, sizeof(err)) == 0, "load: %s", err);
	CHECK(f.raw && f.len == 60 && f.vh_len == 10, "pcap frame shape");
	CHECK(memcmp(f.eth, frame, 60) == 0, "pcap bytes");
	CHECK(f.mem[0] == 0 && f.mem[9] == 0, "virtio header zeroed");
	pg_frame_free(&f);
	CHECK(pg_frame_load_pcap(&f, "/nonexistent/x.pcap", 0, err, sizeof(err)) < 0,
	      "missing file");
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(write(fd, "garbage-garbage-garbage-garbage", 31) == 31, "write");
	close(fd);
	CHECK(pg_frame_load_pcap(&f, path, 0, err, sizeof(err)) < 0, "not a pcap");
	unlink(path);
}

static void
test_hist(void)
{
	static struct pg_hist h, h2;
	uint64_t v, p50, p99;

	pg_hist_reset(&h);
	CHECK(pg_hist_pct(&h, 50) == 0, "empty");
	for (v = 1; v <= 100000; v++)
		pg_hist_add(&h, v * 10);	/* 10 ns .. 1 ms uniform */
	p50 = pg_hist_pct(&h, 50);
	p99 = pg_hist_pct(&h, 99);
	CHECK(p50 > 500000 * 0.98 && p50 < 500000 * 1.02, "p50 %llu",
	      (unsigned long long)p50);
	CHECK(p99 > 990000 * 0.98 && p99 < 990000 * 1.02, "p99 %llu",
	      (unsigned long long)p99);
	CHECK(h.min == 10 && h.max == 1000000, "min/max");
	CHECK(h.log2[pg_msb64(1000000)] > 0 && h.log2[3] > 0, "log2 buckets");
	CHECK(pg_hist_pct(&h, 100) == 1000000, "p100 is max");
	/* exact for small values */
	pg_hist_reset(&h2);
	for (v = 0; v < 100; v++)
		pg_hist_add(&h2, v);
	CHECK(pg_hist_pct(&h2, 50) == 49, "small p50 %llu",
	      (unsigned long long)pg_hist_pct(&h2, 50));
	pg_hist_merge(&h2, &h);
	CHECK(h2.count == 100100 && h2.min == 0 && h2.max == 1000000, "merge");
	pg_hist_reset(&h);
	pg_hist_add(&h, 1234567);
	CHECK(pg_hist_pct(&h, 50) == 1234567 && pg_hist_pct(&h, 99) == 1234567,
	      "single value clamps to min/max");
}

int
main(void)
{
	test_lengths();
	test_short();
	test_rewrites("", 10, 0);
	test_rewrites("-l 1514 -l 60", 3000, 0);
	test_rewrites("-l 1514 -l 16", 3000, 0);
	test_rewrites("-l 60 -s 10.0.0.1:1000-10.0.0.3:1002 -d 10.1.0.250:5-10.1.1.2:6",
		      500, 1);
	test_rewrites("-l 128 -s 192.168.0.254-192.168.1.1 -d 1.2.3.4:65534-65535",
		      100, 1);
	test_rewrites("-l 9000 -l 64 -s 10.0.0.1:1-10.0.0.9:3", 300, 1);
	test_rewrites("-6 -l 78", 10, 0);
	test_rewrites("-6 -l 1514 -l 62 -s 7@[2001:db8::1]:1000-7@[2001:db8::5]:1003 "
		      "-d 7@[2001:db8:1::ff]:10-7@[2001:db8:1::102]:10", 2000, 0);
	test_rewrites("-6 -l 100 -s 3@[fd00:1:2:ffff::9]:7-3@[fd00:1:2:fffe::9]:7", 50, 0);
	test_seq(0);
	test_seq(1);
	test_random();
	test_pcap();
	test_hist();
	if (failures) {
		printf("%d checks failed\n", failures);
		return 1;
	}
	printf("pktgen frame tests passed\n");
	return 0;
}

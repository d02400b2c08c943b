/*
 * pkt-gen -- private header: configuration, argument parsing, frame
 * building and report formatting.
 *
 * Nothing here depends on the netmap headers, so the unit tests can
 * include args.c, frame.c and report.c directly and check them in
 * isolation (tests/unit/test_pktgen_*.c).  The run-time part (ports,
 * threads, rings) lives in run.h / pkt-gen.c / bodies.c.
 */
#ifndef UNM_PKTGEN_H
#define UNM_PKTGEN_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PG_MAX_IFNAMELEN	512	/* -i buffer, as netmap's pkt-gen */
#define PG_MIN_PKT_SIZE		16
#define PG_MAX_PKT_SIZE		65536
#define PG_MAX_FRAGS		63	/* -F accepts 1..63 */
#define PG_VHDR_MAX		12	/* largest virtio-net header */
#define PG_DEFAULT_PORT		1234

/*
 * -o option bits.  The values are netmap pkt-gen's, so "-o 4" means the
 * same thing to both programs.  What each bit does here is described in
 * pkt-gen.8.
 */
#define OPT_PREFETCH	0x0001
#define OPT_ACCESS	0x0002
#define OPT_COPY	0x0004
#define OPT_MEMCPY	0x0008
#define OPT_TS		0x0010
#define OPT_INDIRECT	0x0020
#define OPT_DUMP	0x0040
#define OPT_RUBBISH	0x0100
#define OPT_RANDOM_SRC	0x0200
#define OPT_RANDOM_DST	0x0400
#define OPT_PPS_STATS	0x0800
#define OPT_UPDATE_CSUM	0x1000

enum pg_func {
	PG_F_RX = 0,		/* default, as in netmap */
	PG_F_TX,
	PG_F_PING,
	PG_F_PONG,
	PG_F_TXSEQ,
	PG_F_RXSEQ,
};

enum pg_td_type {
	PG_TD_SENDER = 1,
	PG_TD_RECEIVER,
	PG_TD_OTHER,
};

enum pg_dev {
	PG_DEV_NETMAP = 0,	/* any port name libnetmap understands */
	PG_DEV_DUMMY,		/* "-i null": no port at all */
};

/* An address range as given to -s / -d.  Addresses in host order. */
struct pg_ip_range {
	const char *name;	/* the string as given (printed at start) */
	uint32_t v4_start, v4_end;
	struct in6_addr v6_start, v6_end;
	uint8_t v6_sgroup, v6_egroup;	/* 16-bit group that varies, 0..7 */
	uint16_t port0, port1;
};

struct pg_mac {
	const char *name;
	uint8_t addr[6];
};

struct pg_conf {
	char ifname[PG_MAX_IFNAMELEN];	/* "netmap:" prepended if needed */
	enum pg_dev dev;
	enum pg_func func;
	uint64_t npackets;		/* -n, 0 = forever */
	int pkt_size;			/* -l (first) */
	int pkt_min_size;		/* -l (second), 0 = fixed size */
	int burst;			/* -b, function default if not given */
	int burst_given;
	int af;				/* AF_INET / AF_INET6 */
	struct pg_ip_range src_ip, dst_ip;
	struct pg_mac src_mac, dst_mac;
	int src_mac_given;
	int affinity;			/* -a, -1 = none */
	int cpus;			/* -c as given, 0 = all */
	int cpus_given;
	int nthreads;			/* -p */
	int report_ms;			/* -T */
	int wait_link;			/* -w */
	int wait_link_given;
	int forever;			/* 0 with -W */
	uint64_t tx_rate;		/* -R pps, 0 = unlimited */
	unsigned options;		/* OPT_* */
	int virt_header;		/* -H: 0, 10 or 12 */
	int frags;			/* -F */
	unsigned frag_size;		/* -M, 0 = buffer size */
	const char *ring_conf;		/* -C as given, NULL if absent */
	unsigned tx_slots, rx_slots, tx_rings, rx_rings;	/* from -C */
	const char *packet_file;	/* -P */
	int verbose;			/* -v, repeatable */
	int normalize;			/* 0 with -N */
	int framing;			/* bits per packet added by -B */
	int busywait;			/* -E: ioctl busy loops, no poll */
	uint64_t seq_gap;		/* -G N: txseq skips a number every N */
	int addr_ranges;		/* -s/-d give more than one value */
};

/* pg_parse_args() results */
#define PG_ARGS_OK	0
#define PG_ARGS_HELP	1	/* -h: print usage, exit 0 */
#define PG_ARGS_ERR	(-1)	/* message in err; print usage, exit 1 */

/*
 * pg_parse_args - fill c from the command line
 * @c:      configuration, fully (re)initialised by the call
 * @argc, argv: the command line; argv may be permuted by getopt
 * @err:    receives a one-line message on PG_ARGS_ERR
 *
 * Validates every value (ranges, MACs, -C, -F, ...) and resolves the
 * defaults that depend on other options (burst, wait time, address
 * ranges).  Pointers in c (names) point into argv or static strings.
 * Returns PG_ARGS_OK, PG_ARGS_HELP or PG_ARGS_ERR.
 */
int pg_parse_args(struct pg_conf *c, int argc, char *argv[],
		  char *err, size_t errlen);
void pg_usage(FILE *f);
int pg_parse_ip_range(struct pg_ip_range *r, const char *s, int af,
		      char *err, size_t errlen);
int pg_parse_mac(uint8_t mac[6], const char *s);
const char *pg_func_name(enum pg_func f);
enum pg_td_type pg_func_type(enum pg_func f);
void pg_range_str(const struct pg_ip_range *r, int af, char *buf, size_t len);

/* ---------------------------------------------------------------- frames */

/* Static description of the frame to build. */
struct pg_frame_spec {
	int af;
	unsigned len;		/* largest frame length, without CRC */
	unsigned vh_len;	/* virtio-net header bytes before Ethernet */
	uint8_t src_mac[6], dst_mac[6];
	uint32_t src4, dst4;	/* host order */
	struct in6_addr src6, dst6;
	uint16_t sport, dport;
	const char *payload;	/* repeated to fill the UDP payload */
};

/*
 * A template frame.  Buffers are filled from it; the per-packet helpers
 * below rewrite only the headers, and compute the UDP checksum from the
 * prefix sums of the template payload, so a buffer prepared once keeps
 * a valid frame whatever the per-packet length and addresses.
 */
struct pg_frame {
	uint8_t *mem;		/* vh_len zero bytes, then the frame */
	uint8_t *eth;		/* mem + vh_len */
	unsigned vh_len;
	unsigned len;		/* template frame length */
	int af;
	int raw;		/* loaded from a pcap file: opaque bytes */
	unsigned l4_off;	/* UDP header offset from eth */
	unsigned pl_off;	/* UDP payload offset from eth */
	uint32_t *psum;		/* psum[k]: sum of the first k payload words */
	unsigned npsum;
};

/* Current addresses of a frame (host order). */
struct pg_addrs {
	uint32_t src4, dst4;
	uint16_t src6g, dst6g;	/* value of the varying IPv6 group */
	uint16_t sport, dport;
};

/* Walks the -s/-d ranges (or random values with -z/-Z) packet by packet. */
struct pg_addr_iter {
	struct pg_addrs cur;
	const struct pg_ip_range *src, *dst;
	int af;
	int rand_src, rand_dst;
	uint64_t rng;		/* xorshift state, never 0 */
};

#define PG_ETH_HLEN	14
#define PG_IP4_HLEN	20
#define PG_IP6_HLEN	40
#define PG_UDP_HLEN	8

uint32_t pg_csum_add(const void *data, size_t len, uint32_t sum);
uint16_t pg_csum_fold(uint32_t sum);
int pg_frame_init(struct pg_frame *f, const struct pg_frame_spec *s);
int pg_frame_load_pcap(struct pg_frame *f, const char *path, unsigned vh_len,
		       char *err, size_t errlen);
void pg_frame_free(struct pg_frame *f);
unsigned pg_frame_hdr_len(const struct pg_frame *f);
void pg_frame_fix(const struct pg_frame *f, uint8_t *eth, unsigned len,
		  unsigned keep);
void pg_frame_set_addrs(const struct pg_frame *f, uint8_t *eth,
			const struct pg_addrs *a, const struct pg_ip_range *src,
			const struct pg_ip_range *dst);
void pg_frame_put_seq(const struct pg_frame *f, uint8_t *eth, uint32_t seq);
uint32_t pg_frame_get_seq(const uint8_t *eth, unsigned len, int *ok);
void pg_addr_iter_init(struct pg_addr_iter *it, const struct pg_conf *c,
		       uint64_t seed);
void pg_addr_iter_next(struct pg_addr_iter *it);
uint64_t pg_rand(uint64_t *state);

/* --------------------------------------------------------------- reports */

/* netmap's norm(): value scaled by 1000s, "%.3f %s" with K M G T units. */
const char *pg_norm(char *buf, size_t len, double val, int normalize);

/*
 * RTT histogram: the log2 buckets ping prints (netmap's format) and, for
 * the percentiles, 64 linear sub-buckets per power of two (error < 1.6%).
 */
#define PG_HIST_SUB	64
struct pg_hist {
	uint64_t count, sum, min, max;
	uint64_t log2[64];
	uint64_t fine[64 * PG_HIST_SUB];
};
void pg_hist_reset(struct pg_hist *h);
void pg_hist_add(struct pg_hist *h, uint64_t ns);
void pg_hist_merge(struct pg_hist *dst, const struct pg_hist *src);
uint64_t pg_hist_pct(const struct pg_hist *h, double pct);
int pg_msb64(uint64_t x);

#endif /* UNM_PKTGEN_H */

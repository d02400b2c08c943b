/*
 * pkt-gen -- frame building: Ethernet + IPv4/IPv6 + UDP with correct
 * checksums, per-packet header rewrites, address ranges.
 *
 * A frame is built once as a template.  Transmit buffers are filled from
 * it when first used; afterwards only the headers change from packet to
 * packet (length, addresses, ports, sequence number).  pg_frame_fix()
 * recomputes the IP and UDP checksums of such a buffer without reading
 * its payload: the payload is the template's, whose 16-bit word sums
 * are precomputed (psum), so any length up to the template's costs a
 * couple of dozen additions.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pktgen.h"

#define ETHTYPE_IP	0x0800
#define ETHTYPE_IPV6	0x86dd
#define PROTO_UDP	17

/* One's complement sum of big-endian 16-bit words, folded to 16 bits. */
uint32_t
pg_csum_add(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	uint64_t s = sum;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < len)
		s += (uint32_t)p[i] << 8;	/* odd byte: high half of a word */
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

/* Final checksum value (host order) from a partial sum. */
uint16_t
pg_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

unsigned
pg_frame_hdr_len(const struct pg_frame *f)
{
	return f->pl_off;
}

/*
 * Sum of template payload bytes [a, b), a even, b <= template payload:
 * the difference of two prefix sums, plus the odd last byte if any.
 */
static uint32_t
payload_sum(const struct pg_frame *f, unsigned a, unsigned b)
{
	uint64_t s;

	if (b <= a)
		return 0;
	s = (uint64_t)f->psum[b / 2] - f->psum[a / 2];
	if (b & 1)
		s += (uint32_t)f->eth[f->pl_off + b - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

/*
 * pg_frame_fix - set lengths and checksums of the frame at eth
 * @len:  frame length (a frame shorter than its headers gets the lengths
 *        of an empty payload and is sent truncated)
 * @keep: the first keep payload bytes (even) are read from eth, the rest
 *        are assumed to be the template's
 * Addresses and ports are taken from eth as they are.
 */
void
pg_frame_fix(const struct pg_frame *f, uint8_t *eth, unsigned len, unsigned keep)
{
	unsigned hl = len > f->pl_off ? len : f->pl_off;
	unsigned pl = hl - f->pl_off, ulen = hl - f->l4_off;
	uint8_t *udp = eth + f->l4_off;
	uint32_t sum;

	if (keep > pl)
		keep = pl & ~1u;
	if (f->af == AF_INET6) {
		uint8_t *ip6 = eth + PG_ETH_HLEN;

		put16(ip6 + 4, (uint16_t)ulen);		/* payload length */
		sum = pg_csum_add(ip6 + 8, 32, PROTO_UDP + ulen);
	} else {
		uint8_t *ip = eth + PG_ETH_HLEN;

		put16(ip + 2, (uint16_t)(hl - PG_ETH_HLEN));
		put16(ip + 10, 0);
		put16(ip + 10, pg_csum_fold(pg_csum_add(ip, PG_IP4_HLEN, 0)));
		sum = pg_csum_add(ip + 12, 8, PROTO_UDP + ulen);
	}
	put16(udp + 4, (uint16_t)ulen);
	put16(udp + 6, 0);
	sum = pg_csum_add(udp, PG_UDP_HLEN, sum);
	sum = pg_csum_add(eth + f->pl_off, keep, sum);
	sum += payload_sum(f, keep, pl);
	sum = pg_csum_fold(sum);
	put16(udp + 6, sum == 0 ? 0xffff : (uint16_t)sum);	/* 0 = "none" */
}

static void
build_headers(struct pg_frame *f, const struct pg_frame_spec *s)
{
	uint8_t *e = f->eth, *ip = e + PG_ETH_HLEN, *udp = e + f->l4_off;

	memcpy(e, s->dst_mac, 6);
	memcpy(e + 6, s->src_mac, 6);
	if (s->af == AF_INET6) {
		put16(e + 12, ETHTYPE_IPV6);
		put32(ip, 6u << 28);		/* version 6, class 0, flow 0 */
		ip[6] = PROTO_UDP;		/* next header */
		ip[7] = 64;			/* hop limit */
		memcpy(ip + 8, &s->src6, 16);
		memcpy(ip + 24, &s->dst6, 16);
	} else {
		put16(e + 12, ETHTYPE_IP);
		ip[0] = 0x45;			/* version 4, 5 words */
		ip[1] = 0x10;			/* TOS low delay */
		put16(ip + 4, 0);		/* id */
		put16(ip + 6, 0x4000);		/* don't fragment */
		ip[8] = 64;			/* TTL */
		ip[9] = PROTO_UDP;
		put32(ip + 12, s->src4);
		put32(ip + 16, s->dst4);
	}
	put16(udp, s->sport);
	put16(udp + 2, s->dport);
}

static int
alloc_frame(struct pg_frame *f, unsigned vh_len, unsigned bytes)
{
	/* slack so that 64-byte copy loops may overrun the end */
	f->mem = calloc(1, vh_len + bytes + 128);
	if (f->mem == NULL)
		return -ENOMEM;
	f->eth = f->mem + vh_len;
	f->vh_len = vh_len;
	return 0;
}

/*
 * pg_frame_init - build the template frame described by s
 * Returns 0, -EINVAL (bad length or family) or -ENOMEM.
 */
int
pg_frame_init(struct pg_frame *f, const struct pg_frame_spec *s)
{
	const char *pay = s->payload ? s->payload : "netmap pkt-gen DIRECT payload\n";
	size_t plen = strlen(pay);
	unsigned hl, pl, i;

	memset(f, 0, sizeof(*f));
	if ((s->af != AF_INET && s->af != AF_INET6) || s->len < PG_MIN_PKT_SIZE ||
	    s->len > PG_MAX_PKT_SIZE || s->vh_len > PG_VHDR_MAX || plen == 0)
		return -EINVAL;
	f->af = s->af;
	f->len = s->len;
	f->l4_off = PG_ETH_HLEN + (s->af == AF_INET6 ? PG_IP6_HLEN : PG_IP4_HLEN);
	f->pl_off = f->l4_off + PG_UDP_HLEN;
	hl = s->len > f->pl_off ? s->len : f->pl_off;
	pl = hl - f->pl_off;
	if (alloc_frame(f, s->vh_len, hl) < 0)
		return -ENOMEM;
	f->npsum = pl / 2 + 1;
	f->psum = calloc(f->npsum, sizeof(*f->psum));
	if (f->psum == NULL) {
		pg_frame_free(f);
		return -ENOMEM;
	}
	/* payload: the string repeated, the last byte NUL (as netmap's) */
	for (i = 0; i < pl; i++)
		f->eth[f->pl_off + i] = (uint8_t)pay[i % plen];
	if (pl > 0)
		f->eth[f->pl_off + pl - 1] = '\0';
	for (i = 0; i + 1 < f->npsum; i++) {
		const uint8_t *w = f->eth + f->pl_off + 2 * i;

		f->psum[i + 1] = f->psum[i] + (uint32_t)(w[0] << 8 | w[1]);
	}
	build_headers(f, s);
	pg_frame_fix(f, f->eth, s->len, 0);
	return 0;
}

static uint32_t
rd32(const uint8_t *p, int swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

/*
 * pg_frame_load_pcap - use the first packet of a pcap file as the frame
 * (sent verbatim: no header rewriting, checksums as in the file).
 * Returns 0 or -1 with a message in err.
 */
int
pg_frame_load_pcap(struct pg_frame *f, const char *path, unsigned vh_len,
		   char *err, size_t errlen)
{
	uint8_t gh[24], rh[16];
	uint32_t magic, caplen, linktype;
	int swap;
	FILE *fp;

	memset(f, 0, sizeof(*f));
	fp = fopen(path, "rb");
	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fread(gh, 1, sizeof(gh), fp) != sizeof(gh))
		goto bad;
	memcpy(&magic, gh, 4);
	if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d)
		swap = 0;
	else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1)
		swap = 1;
	else
		goto bad;
	linktype = rd32(gh + 20, swap) & 0xffff;
	if (linktype != 1) {
		snprintf(err, errlen, "%s: link type %u is not Ethernet", path,
			 linktype);
		fclose(fp);
		return -1;
	}
	if (fread(rh, 1, sizeof(rh), fp) != sizeof(rh))
		goto bad;
	caplen = rd32(rh + 8, swap);
	if (caplen < PG_MIN_PKT_SIZE || caplen > PG_MAX_PKT_SIZE)
		goto bad;
	if (alloc_frame(f, vh_len, caplen) < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		fclose(fp);
		return -1;
	}
	if (fread(f->eth, 1, caplen, fp) != caplen) {
		pg_frame_free(f);
		goto bad;
	}
	fclose(fp);
	f->raw = 1;
	f->len = caplen;
	f->af = AF_UNSPEC;
	return 0;
bad:
	snprintf(err, errlen, "%s: not a pcap file or no packet in it", path);
	fclose(fp);
	return -1;
}

void
pg_frame_free(struct pg_frame *f)
{
	free(f->psum);
	free(f->mem);
	memset(f, 0, sizeof(*f));
}

/* Write addresses and ports of a into the frame at eth (no checksums). */
void
pg_frame_set_addrs(const struct pg_frame *f, uint8_t *eth,
		   const struct pg_addrs *a, const struct pg_ip_range *src,
		   const struct pg_ip_range *dst)
{
	uint8_t *ip = eth + PG_ETH_HLEN, *udp = eth + f->l4_off;

	if (f->af == AF_INET6) {
		put16(ip + 8 + 2 * src->v6_sgroup, a->src6g);
		put16(ip + 24 + 2 * dst->v6_sgroup, a->dst6g);
	} else {
		put32(ip + 12, a->src4);
		put32(ip + 16, a->dst4);
	}
	put16(udp, a->sport);
	put16(udp + 2, a->dport);
}

/* txseq: 32-bit big-endian sequence number in the first payload bytes. */
void
pg_frame_put_seq(const struct pg_frame *f, uint8_t *eth, uint32_t seq)
{
	put32(eth + f->pl_off, seq);
}

/*
 * Sequence number of a received frame (IPv4 or IPv6, UDP); *ok = 0 when
 * the frame is too short or not ours.
 */
uint32_t
pg_frame_get_seq(const uint8_t *eth, unsigned len, int *ok)
{
	unsigned off;
	uint16_t type;

	*ok = 0;
	if (len < PG_ETH_HLEN + 1)
		return 0;
	type = (uint16_t)(eth[12] << 8 | eth[13]);
	if (type == ETHTYPE_IP)
		off = PG_ETH_HLEN + (eth[PG_ETH_HLEN] & 0x0f) * 4u + PG_UDP_HLEN;
	else if (type == ETHTYPE_IPV6)
		off = PG_ETH_HLEN + PG_IP6_HLEN + PG_UDP_HLEN;
	else
		return 0;
	if (len < off + 4)
		return 0;
	*ok = 1;
	return (uint32_t)eth[off] << 24 | (uint32_t)eth[off + 1] << 16 |
	       (uint32_t)eth[off + 2] << 8 | eth[off + 3];
}

/* xorshift64*: cheap, good enough for addresses; state must not be 0 */
uint64_t
pg_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static uint16_t
group_of(const struct in6_addr *a, unsigned g)
{
	return (uint16_t)(a->s6_addr[2 * g] << 8 | a->s6_addr[2 * g + 1]);
}

void
pg_addr_iter_init(struct pg_addr_iter *it, const struct pg_conf *c, uint64_t seed)
{
	memset(it, 0, sizeof(*it));
	it->src = &c->src_ip;
	it->dst = &c->dst_ip;
	it->af = c->af;
	it->rand_src = !!(c->options & OPT_RANDOM_SRC);
	it->rand_dst = !!(c->options & OPT_RANDOM_DST);
	it->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
	it->cur.src4 = c->src_ip.v4_start;
	it->cur.dst4 = c->dst_ip.v4_start;
	it->cur.src6g = group_of(&c->src_ip.v6_start, c->src_ip.v6_sgroup);
	it->cur.dst6g = group_of(&c->dst_ip.v6_start, c->dst_ip.v6_sgroup);
	it->cur.sport = c->src_ip.port0;
	it->cur.dport = c->dst_ip.port0;
}

/* Advance one end of the range, port first; returns 1 when it wrapped. */
static int
step(const struct pg_ip_range *r, int af, uint32_t *a4, uint16_t *a6g,
     uint16_t *port)
{
	if (*port < r->port1) {
		(*port)++;
		return 0;
	}
	*port = r->port0;
	if (af == AF_INET6) {
		uint16_t end = group_of(&r->v6_end, r->v6_sgroup);

		if (*a6g < end) {
			(*a6g)++;
			return 0;
		}
		*a6g = group_of(&r->v6_start, r->v6_sgroup);
		return 1;
	}
	if (*a4 < r->v4_end) {
		(*a4)++;
		return 0;
	}
	*a4 = r->v4_start;
	return 1;
}

/*
 * Next addresses, odometer order: source port, source address,
 * destination port, destination address (netmap's order).  A random end
 * is redrawn each time it would be stepped.
 */
void
pg_addr_iter_next(struct pg_addr_iter *it)
{
	struct pg_addrs *a = &it->cur;
	int carry;

	if (it->rand_src) {
		uint64_t r = pg_rand(&it->rng);

		a->src4 = (uint32_t)r;
		a->src6g = (uint16_t)(r >> 32);
		a->sport = (uint16_t)(r >> 48);
		carry = 1;
	} else {
		carry = step(it->src, it->af, &a->src4, &a->src6g, &a->sport);
	}
	if (!carry)
		return;
	if (it->rand_dst) {
		uint64_t r = pg_rand(&it->rng);

		a->dst4 = (uint32_t)r;
		a->dst6g = (uint16_t)(r >> 32);
		a->dport = (uint16_t)(r >> 48);
	} else {
		step(it->dst, it->af, &a->dst4, &a->dst6g, &a->dport);
	}
}

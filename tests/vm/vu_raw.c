/*
 * vu_raw.c - raw Ethernet traffic with exact counts from inside a test
 * guest (its virtio-net NIC sits on a VALE switch through a VM port), for
 * tests/integration/79_vm_vhost_*.sh.  Static, no netmap: the guest's own
 * kernel driver is what is being exercised.
 *
 *   vu_raw send IF COUNT LEN PPS [DSTMAC]
 *	COUNT frames of LEN bytes, ethertype 0x88b5 (IEEE local
 *	experimental), to DSTMAC (default broadcast), PPS per second (0: as
 *	fast as the NIC's transmit ring takes them; no qdisc, so nothing is
 *	dropped in the guest); prints "SENT IF n", then
 *	"SENT-RATE IF n in T s: P pps"
 *   vu_raw recv IF COUNT SECS
 *	counts the frames IF receives that are ours (0x88b5) or pkt-gen's
 *	(IPv4 UDP to port 1234); prints "RECV-READY IF" once listening, then
 *	"RECV IF n" after COUNT of them and half a second of silence (a
 *	duplicate would be counted), or after SECS
 *   vu_raw rate IF SECS
 *	counts every frame IF receives (whoever sent it: a benchmark's
 *	peer) for SECS seconds from the first one; prints "RATE IF n in T
 *	s: P pps"
 *   vu_raw sink
 *	reads stdin to its end (nc's output); prints "SINK n bytes in T s:
 *	M Mbit/s", T from the first byte (benchmarks)
 *   vu_raw beacon SECS PPS IF...
 *	sends PPS broadcast frames a second on each IF and counts what each
 *	receives (as recv, but not what our other IFs sent), printing once
 *	a second "BEACON t IF sent received ..." with running totals
 *
 * Exit status: 0, or 1 with a message (bad arguments, socket errors).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define OUR_TYPE 0x88b5
#define PKTGEN_PORT 1234
#define MAXIF 4

struct nic {
	const char *name;
	int fd;
	uint8_t mac[6];
	uint64_t sent, recvd;
};

static void die(const char *what)
{
	fprintf(stderr, "vu_raw: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void nic_open(struct nic *n, const char *name)
{
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct ifreq ifr;
	int big = 16 << 20;

	memset(n, 0, sizeof(*n));
	n->name = name;
	n->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (n->fd < 0)
		die("socket");
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(n->fd, SIOCGIFHWADDR, &ifr) < 0)
		die(name);
	memcpy(n->mac, ifr.ifr_hwaddr.sa_data, 6);
	sa.sll_ifindex = (int)if_nametoindex(name);
	if (!sa.sll_ifindex || bind(n->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die(name);
	/* bursts from the host must not overflow us: the count is the test */
	if (setsockopt(n->fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
		setsockopt(n->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
}

static int parse_mac(const char *s, uint8_t m[6])
{
	unsigned v[6], i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		m[i] = (uint8_t)v[i];
	}
	return 0;
}

static void send_one(struct nic *n, const uint8_t dst[6], uint32_t len, uint32_t seq)
{
	uint8_t f[9216];
	uint32_t i;

	memcpy(f, dst, 6);
	memcpy(f + 6, n->mac, 6);
	f[12] = OUR_TYPE >> 8;
	f[13] = OUR_TYPE & 0xff;
	memcpy(f + 14, &seq, 4);
	for (i = 18; i < len; i++)
		f[i] = (uint8_t)(i + seq);
	/* a full queue says ENOBUFS: try again, the count must be exact */
	while (send(n->fd, f, len, 0) < 0) {
		if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
			die("send");
		usleep(200);
	}
	n->sent++;
}

/* One of ours, or one of pkt-gen's? */
static int counts(const uint8_t *f, ssize_t len)
{
	uint16_t type;

	if (len < 14)
		return 0;
	type = (uint16_t)(f[12] << 8 | f[13]);
	if (type == OUR_TYPE)
		return 1;
	if (type == ETH_P_IP && len >= 14 + 20 + 4 && f[14 + 9] == IPPROTO_UDP) {
		unsigned ihl = (f[14] & 15u) * 4u;

		return len >= (ssize_t)(14 + ihl + 4) &&
		       (f[14 + ihl + 2] << 8 | f[14 + ihl + 3]) == PKTGEN_PORT;
	}
	return 0;
}

/* Our own NICs (beacon): what they send may reach the others through the
 * switch, and is not counted as received. */
static struct nic *own;
static unsigned nown;

static int from_self(const uint8_t *f)
{
	unsigned i;

	for (i = 0; i < nown; i++)
		if (!memcmp(f + 6, own[i].mac, 6))
			return 1;
	return 0;
}

static int count_all;	/* rate: every received frame counts */

/* Take every frame waiting on n (not waiting); count ours. */
static void drain(struct nic *n)
{
	uint8_t f[65536];

	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(n->fd, f, sizeof(f), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);

		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			die("recv");
		}
		if (from.sll_pkttype != PACKET_OUTGOING && (count_all || (counts(f, r) && !from_self(f))))
			n->recvd++;
	}
}

static int do_send(int argc, char **argv)
{
	uint8_t dst[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct nic n;
	uint32_t count, len, pps, i;
	double t0;

	if (argc < 6 || (argc > 6 && parse_mac(argv[6], dst) < 0))
		return fprintf(stderr, "usage: vu_raw send IF COUNT LEN PPS [DSTMAC]\n"), 1;
	count = (uint32_t)strtoul(argv[3], NULL, 0);
	len = (uint32_t)strtoul(argv[4], NULL, 0);
	pps = (uint32_t)strtoul(argv[5], NULL, 0);
	if (len < 60 || len > 9014)
		return fprintf(stderr, "vu_raw: LEN must be 60..9014\n"), 1;
	nic_open(&n, argv[2]);
	/* Straight to the driver: a full transmit ring then says ENOBUFS
	 * (send_one() retries), where the default qdisc, fq_codel, would
	 * drop frames of a flow over its limit and report success
	 * (NET_XMIT_CN): counts and rates are of frames the NIC took. */
	if (setsockopt(n.fd, SOL_PACKET, PACKET_QDISC_BYPASS, &(int){ 1 }, sizeof(int)) < 0)
		die("PACKET_QDISC_BYPASS");
	t0 = now();
	for (i = 0; i < count; i++) {
		if (pps) {
			double due = t0 + (double)i / pps, w = due - now();

			if (w > 0)
				usleep((useconds_t)(w * 1e6));
		}
		send_one(&n, dst, len, i);
	}
	printf("SENT %s %llu\n", n.name, (unsigned long long)n.sent);
	t0 = now() - t0;
	printf("SENT-RATE %s %llu in %.3f s: %.0f pps\n", n.name, (unsigned long long)n.sent, t0,
	       t0 > 0 ? n.sent / t0 : 0);
	return 0;
}

static int do_rate(int argc, char **argv)
{
	struct nic n;
	double secs, t0 = 0, end = 0;

	if (argc != 4)
		return fprintf(stderr, "usage: vu_raw rate IF SECS\n"), 1;
	secs = strtod(argv[3], NULL);
	count_all = 1;
	nic_open(&n, argv[2]);
	drain(&n);
	n.recvd = 0;
	printf("RATE-READY %s\n", n.name);
	while (!t0 || now() < end) {
		struct pollfd p = { .fd = n.fd, .events = POLLIN };

		poll(&p, 1, 100);
		drain(&n);
		if (!t0 && n.recvd) {
			t0 = now();
			end = t0 + secs;
			n.recvd = 0;	/* from here */
		}
	}
	printf("RATE %s %llu in %.3f s: %.0f pps\n", n.name, (unsigned long long)n.recvd, secs,
	       n.recvd / secs);
	return 0;
}

static int do_sink(void)
{
	static char buf[1 << 16];
	uint64_t total = 0;
	double t0 = 0, t;
	ssize_t r;

	while ((r = read(0, buf, sizeof(buf))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		if (!total)
			t0 = now();
		total += (uint64_t)r;
	}
	t = total ? now() - t0 : 0;
	printf("SINK %llu bytes in %.3f s: %.1f Mbit/s\n", (unsigned long long)total, t,
	       t > 0 ? total * 8 / t / 1e6 : 0);
	return 0;
}

static int do_recv(int argc, char **argv)
{
	struct nic n;
	uint64_t count;
	double end, last = 0;

	if (argc != 5)
		return fprintf(stderr, "usage: vu_raw recv IF COUNT SECS\n"), 1;
	count = strtoull(argv[3], NULL, 0);
	nic_open(&n, argv[2]);
	drain(&n);	/* what came before we were asked */
	n.recvd = 0;
	end = now() + strtod(argv[4], NULL);
	printf("RECV-READY %s\n", n.name);
	fflush(stdout);
	while (now() < end) {
		struct pollfd p = { .fd = n.fd, .events = POLLIN };
		uint64_t before = n.recvd;

		poll(&p, 1, 100);
		drain(&n);
		if (n.recvd != before)
			last = now();
		if (n.recvd >= count && now() - last > 0.5)
			break;
	}
	printf("RECV %s %llu\n", n.name, (unsigned long long)n.recvd);
	return 0;
}

static int do_beacon(int argc, char **argv)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct nic n[MAXIF];
	unsigned nn = 0, i, sec = 0;
	double t0, secs, pps;
	uint64_t k = 0;

	if (argc < 5)
		return fprintf(stderr, "usage: vu_raw beacon SECS PPS IF...\n"), 1;
	secs = strtod(argv[2], NULL);
	pps = strtod(argv[3], NULL);
	if (pps <= 0 || pps > 10000)
		return fprintf(stderr, "vu_raw: PPS must be 1..10000\n"), 1;
	for (i = 4; i < (unsigned)argc && nn < MAXIF; i++)
		nic_open(&n[nn++], argv[i]);
	own = n;
	nown = nn;
	t0 = now();
	while (now() - t0 < secs) {
		double due = t0 + (double)k / pps, w = due - now();
		struct pollfd p[MAXIF];

		for (i = 0; i < nn; i++)
			p[i] = (struct pollfd){ .fd = n[i].fd, .events = POLLIN };
		if (w > 0)
			poll(p, nn, (int)(w * 1000) + 1);
		for (i = 0; i < nn; i++)
			drain(&n[i]);
		if (now() >= due) {
			for (i = 0; i < nn; i++)
				send_one(&n[i], bcast, 60, (uint32_t)k);
			k++;
		}
		if (now() - t0 >= sec + 1) {
			sec++;
			printf("BEACON %u", sec);
			for (i = 0; i < nn; i++)
				printf(" %s %llu %llu", n[i].name, (unsigned long long)n[i].sent,
				       (unsigned long long)n[i].recvd);
			printf("\n");
			fflush(stdout);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "send"))
		return do_send(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "recv"))
		return do_recv(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "beacon"))
		return do_beacon(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "rate"))
		return do_rate(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "sink"))
		return do_sink();
	fprintf(stderr, "usage: vu_raw send|recv|rate|sink|beacon ... (see the source's header)\n");
	return argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) ? 0 : 1;
}

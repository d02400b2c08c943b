/*
 * afp_bench - kernel-socket baseline for bench/run.sh.
 *
 * Test objective: measure what a plain Linux program gets out of the kernel's
 * packet sockets on a veth pair, so that unetmap's figures have a kernel-path
 * yardstick measured in the same invocation.
 *
 *   afp_bench tx -i IFNAME [-l LEN] [-b BATCH] [-d SECONDS] [-D MAC] [-S MAC]
 *       AF_PACKET SOCK_RAW socket with PACKET_QDISC_BYPASS, sendmmsg() of
 *       BATCH copies of one valid Ethernet/IPv4/UDP frame per call.
 *
 *   afp_bench rx -i IFNAME [-d SECONDS] [-w WARMUP_MS] [-t TIMEOUT_S]
 *       AF_PACKET TPACKET_V3 ring (memory-mapped blocks).  Waits for the first
 *       packet, lets WARMUP_MS go by, then counts packets for SECONDS and
 *       prints the rate over exactly that window.
 *
 * Output (stdout, one line, parsed by bench/run.sh):
 *   afp_bench tx: sent N packets (E errors) in S s: R Mpps
 *   afp_bench rx: received N packets in S s: R Mpps (kernel drops D)
 *
 * Exit status: 0 on success, 1 on a usage or setup error, 2 if rx saw no
 * packet before its timeout.
 *
 * This program is linked with libnetmap.a by the Makefile (as every bench
 * source is).  libnetmap interposes poll/mmap/ioctl/close for port descriptors; the
 * baseline must not depend on that layer, so the calls that would be
 * interposed are made with syscall(2) directly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define AFP_MAX_BATCH 1024
#define AFP_MAX_LEN 1514
#define AFP_MIN_LEN 60

/* TPACKET_V3 ring geometry: small blocks so that packets are counted close
 * to the time they arrived (a 1 MiB block holds ~8k minimum-size frames,
 * a few ms at the rates veth reaches). */
#define AFP_BLOCK_SIZE (1u << 20)
#define AFP_BLOCK_NR 64u
#define AFP_FRAME_SIZE 2048u
#define AFP_RETIRE_MS 2u

static volatile sig_atomic_t afp_stop;

static void afp_on_signal(int sig)
{
	(void)sig;
	afp_stop = 1;
}

static double afp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void afp_usage(void)
{
	fprintf(stderr,
		"usage: afp_bench tx -i IFNAME [-l LEN] [-b BATCH] [-d SECONDS] [-D MAC] [-S MAC]\n"
		"       afp_bench rx -i IFNAME [-d SECONDS] [-w WARMUP_MS] [-t TIMEOUT_S]\n"
		"  tx: AF_PACKET sendmmsg + PACKET_QDISC_BYPASS, LEN %d..%d (default 60),\n"
		"      BATCH 1..%d (default 512), runs SECONDS (default 5) or until SIGINT\n"
		"  rx: AF_PACKET TPACKET_V3; counts for SECONDS (default 5) after the first\n"
		"      packet plus WARMUP_MS (default 200); gives up after TIMEOUT_S (default 10)\n",
		AFP_MIN_LEN, AFP_MAX_LEN, AFP_MAX_BATCH);
}

static int afp_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -EINVAL;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

static uint32_t afp_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t afp_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Build an Ethernet/IPv4/UDP frame of len bytes (no FCS), the same shape as
 * pkt-gen's: addresses from the RFC 2544 benchmarking range, UDP port 1234,
 * checksums correct.  The frame only ever crosses a veth pair inside network
 * namespaces and is dropped by the receiving stack (foreign destination MAC).
 */
static void afp_build_frame(uint8_t *f, size_t len, const uint8_t dst[6],
			    const uint8_t src[6])
{
	struct ether_header *eh = (struct ether_header *)f;
	struct iphdr *ip = (struct iphdr *)(f + sizeof(*eh));
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	uint8_t *payload = (uint8_t *)(udp + 1);
	size_t plen = len - sizeof(*eh) - sizeof(*ip) - sizeof(*udp);
	static const char fill[] = "unetmap afp_bench payload\n";
	uint32_t sum;

	memset(f, 0, len);
	memcpy(eh->ether_dhost, dst, 6);
	memcpy(eh->ether_shost, src, 6);
	eh->ether_type = htons(ETHERTYPE_IP);

	for (size_t i = 0; i < plen; i++)
		payload[i] = (uint8_t)fill[i % (sizeof(fill) - 1)];
	if (plen)
		payload[plen - 1] = 0;

	ip->version = 4;
	ip->ihl = 5;
	ip->tos = IPTOS_LOWDELAY;
	ip->tot_len = htons((uint16_t)(len - sizeof(*eh)));
	ip->frag_off = htons(IP_DF);
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = htonl(0xc6120001); /* 198.18.0.1 */
	ip->daddr = htonl(0xc6130001); /* 198.19.0.1 */
	ip->check = htons(afp_csum_fold(afp_csum_add(0, ip, sizeof(*ip))));

	udp->source = htons(1234);
	udp->dest = htons(1234);
	udp->len = htons((uint16_t)(sizeof(*udp) + plen));
	/* Pseudo header: addresses, protocol, UDP length. */
	sum = afp_csum_add(0, &ip->saddr, 8);
	sum += IPPROTO_UDP + (uint32_t)(sizeof(*udp) + plen);
	sum = afp_csum_add(sum, udp, sizeof(*udp) + plen);
	udp->check = htons(afp_csum_fold(sum));
	if (udp->check == 0)
		udp->check = 0xffff;
}

static int afp_open(const char *ifname, int proto, unsigned int *ifindex)
{
	struct sockaddr_ll sll;
	int fd;

	*ifindex = if_nametoindex(ifname);
	if (*ifindex == 0) {
		fprintf(stderr, "afp_bench: if_nametoindex(%s): %s\n", ifname,
			strerror(errno));
		return -1;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(proto));
	if (fd < 0) {
		fprintf(stderr, "afp_bench: socket(AF_PACKET): %s\n", strerror(errno));
		return -1;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(proto);
	sll.sll_ifindex = (int)*ifindex;
	/* A protocol of 0 binds for sending only: the tx socket must not get a
	 * copy of every frame it sends. */
	if (proto != 0 && bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		fprintf(stderr, "afp_bench: bind(%s): %s\n", ifname, strerror(errno));
		syscall(SYS_close, fd);
		return -1;
	}
	return fd;
}

static int afp_tx(const char *ifname, size_t len, unsigned int batch,
		  double seconds, const uint8_t dst[6], const uint8_t src[6])
{
	static uint8_t frame[AFP_MAX_LEN];
	static struct mmsghdr msgs[AFP_MAX_BATCH];
	struct iovec iov = { .iov_base = frame, .iov_len = len };
	struct sockaddr_ll to;
	unsigned long long sent = 0, errors = 0;
	unsigned int ifindex;
	int one = 1, fd;
	double t0, t1, deadline;

	fd = afp_open(ifname, 0, &ifindex);
	if (fd < 0)
		return 1;
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) < 0) {
		fprintf(stderr, "afp_bench: PACKET_QDISC_BYPASS: %s\n", strerror(errno));
		syscall(SYS_close, fd);
		return 1;
	}
	afp_build_frame(frame, len, dst, src);

	memset(&to, 0, sizeof(to));
	to.sll_family = AF_PACKET;
	to.sll_ifindex = (int)ifindex;
	to.sll_halen = 6;
	memcpy(to.sll_addr, dst, 6);
	for (unsigned int i = 0; i < batch; i++) {
		msgs[i].msg_hdr.msg_name = &to;
		msgs[i].msg_hdr.msg_namelen = sizeof(to);
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	t0 = afp_now();
	deadline = t0 + seconds;
	while (!afp_stop) {
		int n = sendmmsg(fd, msgs, batch, 0);

		if (n > 0) {
			sent += (unsigned int)n;
		} else if (n < 0 && errno != EINTR) {
			/* ENOBUFS and friends: count and go on, the point is the
			 * rate the receiver sees. */
			errors++;
		}
		/* One clock read per batch is noise next to a sendmmsg. */
		if (afp_now() >= deadline)
			break;
	}
	t1 = afp_now();
	printf("afp_bench tx: sent %llu packets (%llu errors) in %.3f s: %.3f Mpps\n",
	       sent, errors, t1 - t0, (double)sent / (t1 - t0) / 1e6);
	fflush(stdout);
	syscall(SYS_close, fd);
	return 0;
}

static int afp_rx(const char *ifname, double seconds, double warmup_s,
		  double timeout_s)
{
	struct tpacket_req3 req;
	struct tpacket_stats_v3 st;
	socklen_t stlen = sizeof(st);
	int version = TPACKET_V3, fd, rc = 0;
	unsigned int ifindex, blk = 0;
	uint8_t *ring;
	size_t ring_len;
	unsigned long long counted = 0;
	double t_start = 0, t_end = 0, t_give_up;
	enum { WAIT_FIRST, WARMUP, COUNTING } phase = WAIT_FIRST;

	fd = afp_open(ifname, ETH_P_ALL, &ifindex);
	if (fd < 0)
		return 1;
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version)) < 0) {
		fprintf(stderr, "afp_bench: PACKET_VERSION: %s\n", strerror(errno));
		goto fail_close;
	}
	memset(&req, 0, sizeof(req));
	req.tp_block_size = AFP_BLOCK_SIZE;
	req.tp_block_nr = AFP_BLOCK_NR;
	req.tp_frame_size = AFP_FRAME_SIZE;
	req.tp_frame_nr = AFP_BLOCK_SIZE / AFP_FRAME_SIZE * AFP_BLOCK_NR;
	req.tp_retire_blk_tov = AFP_RETIRE_MS;
	if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0) {
		fprintf(stderr, "afp_bench: PACKET_RX_RING: %s\n", strerror(errno));
		goto fail_close;
	}
	ring_len = (size_t)req.tp_block_size * req.tp_block_nr;
	ring = (uint8_t *)syscall(SYS_mmap, NULL, ring_len, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_LOCKED, fd, 0);
	if (ring == MAP_FAILED) {
		/* MAP_LOCKED may exceed RLIMIT_MEMLOCK; retry without it. */
		ring = (uint8_t *)syscall(SYS_mmap, NULL, ring_len,
					  PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	}
	if (ring == MAP_FAILED) {
		fprintf(stderr, "afp_bench: mmap ring: %s\n", strerror(errno));
		goto fail_close;
	}
	/* Reset the kernel's counters: drops before the window do not count. */
	getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &stlen);

	t_give_up = afp_now() + timeout_s;
	while (!afp_stop) {
		struct tpacket_block_desc *bd =
			(struct tpacket_block_desc *)(ring + (size_t)blk * AFP_BLOCK_SIZE);
		double now;

		/* A1: acquire pairs with the kernel's release of the block
		 * status after it has written the block's packets. */
		if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
		      TP_STATUS_USER)) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			struct timespec tmo = { .tv_sec = 0, .tv_nsec = 50 * 1000000 };

			now = afp_now();
			if (phase == WAIT_FIRST && now > t_give_up)
				break;
			if (phase == COUNTING && now >= t_end)
				break;
			syscall(SYS_ppoll, &pfd, 1, &tmo, NULL, (size_t)8);
			continue;
		}
		now = afp_now();
		if (phase == WAIT_FIRST) {
			phase = WARMUP;
			t_start = now + warmup_s;
		}
		if (phase == COUNTING) {
			counted += bd->hdr.bh1.num_pkts;
		} else if (phase == WARMUP && now >= t_start) {
			/* The window opens after this block: its packets
			 * arrived before now. */
			phase = COUNTING;
			t_start = now;
			t_end = now + seconds;
			getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &stlen);
		}
		/* R1: release hands the block (and our reads of it) back to
		 * the kernel, which acquires the status before refilling. */
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
				 __ATOMIC_RELEASE);
		blk = (blk + 1) % AFP_BLOCK_NR;
		if (phase == COUNTING && now >= t_end)
			break;
	}

	if (phase == WAIT_FIRST) {
		printf("afp_bench rx: received nothing in %.1f s\n", timeout_s);
		rc = 2;
	} else {
		double t = (phase == COUNTING ? afp_now() : t_start) - t_start;

		memset(&st, 0, sizeof(st));
		stlen = sizeof(st);
		getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &stlen);
		if (t <= 0)
			t = 1e-9;
		printf("afp_bench rx: received %llu packets in %.3f s: %.3f Mpps "
		       "(kernel drops %u)\n",
		       counted, t, (double)counted / t / 1e6, st.tp_drops);
	}
	fflush(stdout);
	syscall(SYS_munmap, ring, ring_len);
	syscall(SYS_close, fd);
	return rc;

fail_close:
	syscall(SYS_close, fd);
	return 1;
}

int main(int argc, char **argv)
{
	const char *ifname = NULL;
	size_t len = AFP_MIN_LEN;
	unsigned long batch = 512;
	double seconds = 5, warmup_ms = 200, timeout_s = 10;
	uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x03 };
	struct sigaction sa;
	int tx, opt;

	if (argc < 2 || (strcmp(argv[1], "tx") && strcmp(argv[1], "rx"))) {
		afp_usage();
		return (argc >= 2 && !strcmp(argv[1], "-h")) ? 0 : 1;
	}
	tx = !strcmp(argv[1], "tx");
	optind = 2;
	while ((opt = getopt(argc, argv, "i:l:b:d:w:t:D:S:h")) != -1) {
		char *end = NULL;

		switch (opt) {
		case 'i':
			ifname = optarg;
			break;
		case 'l':
			len = strtoul(optarg, &end, 10);
			break;
		case 'b':
			batch = strtoul(optarg, &end, 10);
			break;
		case 'd':
			seconds = strtod(optarg, &end);
			break;
		case 'w':
			warmup_ms = strtod(optarg, &end);
			break;
		case 't':
			timeout_s = strtod(optarg, &end);
			break;
		case 'D':
			if (afp_parse_mac(optarg, dst)) {
				afp_usage();
				return 1;
			}
			break;
		case 'S':
			if (afp_parse_mac(optarg, src)) {
				afp_usage();
				return 1;
			}
			break;
		case 'h':
			afp_usage();
			return 0;
		default:
			afp_usage();
			return 1;
		}
		if (end && *end) {
			fprintf(stderr, "afp_bench: bad value for -%c: %s\n", opt, optarg);
			return 1;
		}
	}
	if (!ifname || len < AFP_MIN_LEN || len > AFP_MAX_LEN || batch < 1 ||
	    batch > AFP_MAX_BATCH || !(seconds > 0) || warmup_ms < 0 ||
	    !(timeout_s > 0) || optind != argc) {
		afp_usage();
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = afp_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (tx)
		return afp_tx(ifname, len, (unsigned int)batch, seconds, dst, src);
	return afp_rx(ifname, seconds, warmup_ms / 1000.0, timeout_s);
}

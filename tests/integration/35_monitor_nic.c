/*
 * Test objective: monitors of network interfaces (netmap:IFNAME over
 * AF_XDP, and over AF_PACKET), with exact counts:
 * copy monitors see every frame once (NS_TXMON on what the port sent),
 * a zero-copy monitor gets the buffers the port reclaimed or released,
 * and the traffic between the interfaces is complete and intact.
 *
 * Operations (namespaces mnA<pid>, mnB<pid>, veth va<pid> <-> vb<pid>;
 * this process enters a namespace before each REGISTER, as netmapd
 * resolves interfaces in the caller's namespace):
 *  1. A: netmap:va with monitors /t, /r, /z; B: netmap:vb with /r;
 *  2. A sends 200 frames in batches of 40 (waiting for B each time):
 *     B gets 200, B/r 200, A/t 200 with NS_TXMON, A/z 200 once A's ring
 *     is empty again (transmission completed);
 *  3. B sends 120: A gets 120, A/r 120, A/z 120 after A released them;
 *  4. nothing is seen twice;
 *  5. all of it again with both interfaces in emulated mode
 *     (@conf:nic=emulated: AF_PACKET), whose sync code differs.
 * Frames of other ethertypes (the kernel's own) are ignored.  Needs root;
 * skips (77) otherwise, or when veths cannot be made.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>

#include "mon_util.h"

static char ns_a[32], ns_b[32], if_a[16], if_b[16];
static struct mrec rec[MT_MAX];
static int have_ns;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void cleanup(void)
{
	if (!have_ns)
		return;
	have_ns = 0;
	sh("ip netns del %s 2>/dev/null", ns_a);
	sh("ip netns del %s 2>/dev/null", ns_b);
}

static void on_signal(int sig)
{
	(void)sig;
	exit(130);	/* atexit removes the namespaces */
}

static void enter(const char *ns)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	REQUIRE(fd >= 0, "open %s", path);
	REQUIRE(setns(fd, CLONE_NEWNET) == 0, "setns %s", ns);
	close(fd);
}

/* Only our frames (by tag), in the order they came. */
static unsigned take_ours(struct nmport_d *d, uint32_t tag, struct mrec *out, unsigned max)
{
	unsigned n = mt_take(d, out, max), k, m = 0;

	for (k = 0; k < n && k < max; k++)
		if (out[k].ok && out[k].tag == tag)
			out[m++] = out[k];
	return m;
}

/* Receive `want` frames of `tag` on d within 10 s, appended at out. */
static unsigned recv_ours(struct nmport_d *d, uint32_t tag, struct mrec *out, unsigned want)
{
	unsigned got = 0;
	double t0 = t_now();

	while (got < want && t_now() - t0 < 10) {
		got += take_ours(d, tag, out + got, MT_MAX - got);
		mt_release(d);
		if (got < want)
			mt_poll(d, 10);
	}
	return got;
}

static void flush_tx(struct nmport_d *d)
{
	struct netmap_ring *r = NETMAP_TXRING(d->nifp, 0);
	double t0 = t_now();

	do {
		ioctl(d->fd, NIOCTXSYNC, NULL);
		if (!nm_tx_pending(r))
			return;
		usleep(200);
	} while (t_now() - t0 < 10);
	CHECK(0, "transmissions on %s did not complete within 10 s", if_a);
}

/* Open the interface port in ns with conf (e.g. "@conf:nic=emulated"):
 * the previous round's port may not be released yet (EBUSY). */
static struct nmport_d *open_if(const char *ns, const char *ifname, const char *conf)
{
	char name[96];
	struct nmport_d *d;
	double t0 = t_now();

	enter(ns);
	snprintf(name, sizeof(name), "netmap:%s%s", ifname, conf);
	while (!(d = nmport_open(name)) && errno == EBUSY && t_now() - t0 < 10)
		usleep(20000);
	REQUIRE(d, "open %s", name);
	return d;
}

/* One round: the interfaces in the mode conf asks for. */
static void run(const char *what, const char *conf)
{
	struct nmport_d *a, *b, *at, *ar, *az, *br;
	unsigned n, i, got;

	printf("%s\n", what);
	a = open_if(ns_a, if_a, conf);
	at = mt_open("netmap:%s/t", if_a);
	ar = mt_open("netmap:%s/r", if_a);
	az = mt_open("netmap:%s/z", if_a);
	b = open_if(ns_b, if_b, conf);
	br = mt_open("netmap:%s/r", if_b);
	CHECK_EQ(az->reg.nr_mem_id, a->reg.nr_mem_id);
	CHECK(at->reg.nr_mem_id != a->reg.nr_mem_id, "a copy monitor has a region of its own");
	/* the links come up */
	usleep(200000);

	for (i = 0, got = 0; i < 5; i++) {
		CHECK_EQ(mt_send(a, 0, 'A', 40 * i, 40, 60), 40);
		got += recv_ours(b, 'A', rec + got, 40);
	}
	CHECK_EQ(got, 200);
	CHECK_EQ(mt_expect("B from A", rec, got, 'A', 0, 60, false), 0);
	flush_tx(a);
	n = take_ours(br, 'A', rec, MT_MAX);
	CHECK_EQ(n, 200);
	CHECK_EQ(mt_expect("B/r", rec, n, 'A', 0, 60, false), 0);
	mt_release(br);
	n = take_ours(at, 'A', rec, MT_MAX);
	CHECK_EQ(n, 200);
	CHECK_EQ(mt_expect("A/t", rec, n, 'A', 0, 60, true), 0);
	mt_release(at);
	n = take_ours(az, 'A', rec, MT_MAX);
	CHECK_EQ(n, 200);
	CHECK_EQ(mt_expect("A/z tx", rec, n, 'A', 0, 60, true), 0);
	mt_release(az);

	for (i = 0, got = 0; i < 3; i++) {
		CHECK_EQ(mt_send(b, 0, 'B', 40 * i, 40, 100), 40);
		got += take_ours(a, 'B', rec + got, MT_MAX - got);
		while (got < 40 * (i + 1) && mt_poll(a, 1000) > 0)
			got += take_ours(a, 'B', rec + got, MT_MAX - got);
	}
	CHECK_EQ(got, 120);
	CHECK_EQ(mt_expect("A from B", rec, got, 'B', 0, 100, false), 0);
	n = take_ours(ar, 'B', rec, MT_MAX);
	CHECK_EQ(n, 120);
	CHECK_EQ(mt_expect("A/r", rec, n, 'B', 0, 100, false), 0);
	mt_release(ar);
	mt_release(a);	/* A releases the last of them now */
	n = take_ours(az, 'B', rec, MT_MAX);
	CHECK_EQ(n, 120);
	CHECK_EQ(mt_expect("A/z rx", rec, n, 'B', 0, 100, false), 0);
	mt_release(az);
	CHECK_EQ(take_ours(at, 'A', rec, MT_MAX) + take_ours(at, 'B', rec, MT_MAX), 0);

	nmport_close(br);
	nmport_close(b);
	nmport_close(az);
	nmport_close(ar);
	nmport_close(at);
	nmport_close(a);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("skipped: needs root (network namespaces, veth, XDP)\n");
		return 77;
	}
	snprintf(ns_a, sizeof(ns_a), "mnA%d", (int)getpid());
	snprintf(ns_b, sizeof(ns_b), "mnB%d", (int)getpid());
	snprintf(if_a, sizeof(if_a), "va%d", (int)getpid());
	snprintf(if_b, sizeof(if_b), "vb%d", (int)getpid());
	atexit(cleanup);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (sh("ip netns add %s 2>/dev/null", ns_a) || (have_ns = 1, 0) ||
	    sh("ip netns add %s 2>/dev/null", ns_b) ||
	    sh("ip link add %s netns %s type veth peer name %s netns %s 2>/dev/null",
	       if_a, ns_a, if_b, ns_b)) {
		printf("skipped: cannot create network namespaces and veth pairs\n");
		return 77;
	}
	/* no IPv6: the kernel would send its own frames on the link */
	sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 >/dev/null 2>&1", ns_a);
	sh("ip netns exec %s sysctl -qw net.ipv6.conf.all.disable_ipv6=1 >/dev/null 2>&1", ns_b);
	sh("ip -n %s link set %s up", ns_a, if_a);
	sh("ip -n %s link set %s up", ns_b, if_b);
	run("AF_XDP (or what netmapd falls back to)", "");
	run("emulated (AF_PACKET)", "@conf:nic=emulated");
	return t_done("35_monitor_nic");
}

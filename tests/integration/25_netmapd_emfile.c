/*
 * Test objective: a netmapd that runs out of file descriptors keeps
 * working for the clients it has, refuses new ones with EMFILE and a
 * reason (not EPROTO, not a hang), does not spin or flood its log, and
 * serves again once descriptors are free.  (Regression: EMFILE on accept
 * left the listener readable: 100% CPU and gigabytes of "accept: Too many
 * open files"; clients hung in HELLO.)
 *
 * Operations:
 *  1. start a private netmapd limited to 64 descriptors;
 *  2. open VALE ports until netmapd refuses one: errno EMFILE (or ENFILE)
 *     and the message says so;
 *  3. a client that connects now is refused at once with a reason;
 *  4. while refused clients keep trying for 2 s, netmapd uses little CPU
 *     and logs the condition only a few times;
 *  5. the ports already open still carry traffic; after closing some, a
 *     new port opens.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <libnetmap.h>

#include "tcommon.h"

static char last[1024];
static int fds[64], nbare;	/* bare connections (no port bound) */

static void capture(struct nmctx *ctx, const char *msg)
{
	(void)ctx;
	snprintf(last, sizeof(last), "%s", msg);
}

/* utime + stime of pid, in seconds */
static double cpu_of(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	p = strrchr(buf, ')');
	for (i = 0; p && i < 12; i++)
		p = strchr(p + 1, ' ');
	if (p)
		sscanf(p + 1, "%lu %lu", &ut, &st);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int count_lines(const char *file, const char *needle)
{
	char line[512];
	FILE *f = fopen(file, "r");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

int main(void)
{
	char dir[] = "/tmp/unetmap-25.XXXXXX", sock[128], log[128], name[64];
	const char *nd = getenv("UNETMAP_NETMAPD");
	struct nmport_d *d[200];
	int n = 0, i, refused_errno = 0;
	double c0, c1;
	pid_t dpid;

	alarm(120);
	REQUIRE(nd && *nd, "UNETMAP_NETMAPD");
	REQUIRE(mkdtemp(dir), "mkdtemp");
	snprintf(sock, sizeof(sock), "%s/netmapd.sock", dir);
	snprintf(log, sizeof(log), "%s/netmapd.log", dir);
	dpid = fork();
	REQUIRE(dpid >= 0, "fork");
	if (dpid == 0) {
		struct rlimit rl = { 64, 64 };
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		setrlimit(RLIMIT_NOFILE, &rl);
		dup2(fd, 2);
		execl(nd, nd, "--foreground", "--socket", sock, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200; i++) {
		struct stat st;

		if (stat(sock, &st) == 0)
			break;
		usleep(20000);
	}
	setenv("UNETMAP_SOCKET", sock, 1);
	setenv("UNETMAP_TIMEOUT", "5", 1);
	nmctx_get()->error = capture;

	/* 2. fill it */
	for (n = 0; n < 200; n++) {
		snprintf(name, sizeof(name), "valefd%d:p%d", (int)getpid() % 1000, n);
		last[0] = '\0';
		d[n] = nmport_open(name);
		if (!d[n]) {
			refused_errno = errno;
			break;
		}
	}
	printf("netmapd took %d ports before refusing: %s\n", n, last);
	CHECK(n > 0 && n < 200, "ports opened: %d", n);
	CHECK(refused_errno == EMFILE || refused_errno == ENFILE, "errno %d (%s)",
	      refused_errno, strerror(refused_errno));
	CHECK(strstr(last, "descriptors") || strstr(last, "Too many open files"),
	      "message '%s'", last);

	/* 3. bare connections use up what is left: the next is refused at
	 * accept time, with a reason */
	{
		int k, e = 0;

		for (k = 0; k < 64; k++) {
			last[0] = '\0';
			fds[k] = open("/dev/netmap", O_RDWR | O_CLOEXEC);
			if (fds[k] < 0) {
				e = errno;
				break;
			}
		}
		printf("%d more connections before refusal\n", k);
		CHECK(k < 64 && (e == EMFILE || e == ENFILE), "connection %d refused with %d (%s)",
		      k, e, strerror(e));
		/* nmport_open says it through the error callback */
		last[0] = '\0';
		CHECK(nmport_open("netmap:fdy{1") == NULL, "open refused");
		CHECK(strstr(last, "out of file descriptors") != NULL, "message '%s'", last);
		nbare = k;	/* kept: the refusals below all happen at accept time */
	}

	/* 4. refused clients keep coming; netmapd does not spin */
	c0 = cpu_of(dpid);
	{
		double end = t_now() + 2;
		int tries = 0, ok_refusals = 0;

		while (t_now() < end) {
			struct nmport_d *x;

			last[0] = '\0';
			x = nmport_open("netmap:fdx{1");
			tries++;
			if (!x && (errno == EMFILE || errno == ENFILE))
				ok_refusals++;
			if (x)
				nmport_close(x);
			usleep(20000);
		}
		CHECK(ok_refusals == tries, "%d of %d further opens refused with EMFILE (last: %s)",
		      ok_refusals, tries, last);
	}
	c1 = cpu_of(dpid);
	printf("netmapd CPU while refusing for 2 s: %.2f s\n", c1 - c0);
	CHECK(c1 - c0 < 1.0, "netmapd used %.2f s of CPU in 2 s of refusals", c1 - c0);
	i = count_lines(log, "out of file descriptors");
	CHECK(i >= 1 && i <= 3, "netmapd logged the condition %d times", i);

	/* 5. what is open still works, and freed descriptors serve again */
	{
		struct netmap_ring *t = NETMAP_TXRING(d[0]->nifp, 0);

		t->slot[t->head].len = 60;
		t->head = t->cur = nm_ring_next(t, t->head);
		CHECK(ioctl(d[0]->fd, NIOCTXSYNC, NULL) == 0, "sync on an open port");
	}
	for (i = 0; i < nbare; i++)
		close(fds[i]);
	for (i = n - 1; i >= n / 2; i--)
		nmport_close(d[i]);
	n /= 2;
	{
		struct nmport_d *x = nmport_open("netmap:fdagain{1");

		CHECK(x != NULL, "open after closing some ports: %s", last);
		if (x)
			nmport_close(x);
	}
	for (i = 0; i < n; i++)
		nmport_close(d[i]);
	CHECK(kill(dpid, 0) == 0, "netmapd alive");
	kill(dpid, SIGTERM);
	waitpid(dpid, NULL, 0);
	unlink(log);
	unlink(sock);
	strcat(sock, ".lock");
	unlink(sock);
	rmdir(dir);
	return t_done("25_netmapd_emfile");
}

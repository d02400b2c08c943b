/*
 * 40_vale_threads - several forwarding threads, and busy polling.
 *
 * Test objective: with netmapd --vale-threads 2 ports are served by
 * different threads that deliver concurrently into the same RX rings;
 * nothing is corrupted, duplicated or reordered, and every frame is either
 * delivered or counted as dropped.  The same holds with --vale-busy.  The
 * control path (ports coming and going) runs while traffic flows.
 *
 * Operations: for each configuration, start a private netmapd; ports
 * vale40t:s0 and :s1 (one per thread) are driven by two child processes
 * that each send N frames alternately to r0 and r1; meanwhile this process
 * receives on r0 and r1 and checks every frame, and a third child opens
 * and closes other ports of the switch in a loop.  Counters must add up.
 * Every process started here is killed by pid on exit.
 */
#include <signal.h>
#include <sys/wait.h>

#include "40_vale_util.h"

#define N 300000

static pid_t kids[4];
static int nkids;
static char sock[80];

/* Stop everything we started; netmapd (the first) last and gently, so
 * that it runs its exit path (and the leak checker of a sanitizer build).
 * Returns 1 if its log shows a sanitizer report. */
static int kill_kids(void)
{
	char line[512];
	FILE *log;
	int i, bad = 0;

	for (i = nkids - 1; i >= 0; i--) {
		if (kids[i] > 0) {
			kill(kids[i], i == 0 ? SIGTERM : SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
	}
	nkids = 0;
	if (sock[0]) {
		snprintf(line, sizeof(line), "%s.log", sock);
		log = fopen(line, "r");
		while (log && fgets(line, sizeof(line), log)) {
			if (strstr(line, "AddressSanitizer") || strstr(line, "LeakSanitizer") ||
			    strstr(line, "runtime error:"))
				bad = 1;
			if (bad)
				fputs(line, stderr);
		}
		if (log)
			fclose(log);
		/* netmapd leaves its socket's .lock (and our .log) behind */
		unlink(sock);
		snprintf(line, sizeof(line), "%s.log", sock);
		unlink(line);
		snprintf(line, sizeof(line), "%s.lock", sock);
		unlink(line);
		sock[0] = '\0';
	}
	return bad;
}

static void cleanup(void)
{
	kill_kids();
}

static pid_t spawn(void)
{
	pid_t p = fork();

	CHECK(p >= 0, "fork: %s", strerror(errno));
	if (p > 0)
		kids[nkids++] = p;
	else
		nkids = 0;	/* a child kills nobody at exit */
	return p;
}

static void sender(unsigned id, const uint8_t dst[2][6])
{
	char name[32];
	struct nmport_d *d;
	uint8_t src[6], f[128];
	uint32_t i;

	snprintf(name, sizeof(name), "vale40t:s%u", id);
	d = vt_open(name);
	vt_mac(src, 0x5000 + id);
	for (i = 0; i < 2 * N; i++) {
		size_t len = 60 + i % 61;

		vt_frame(f, len, dst[i % 2], src, id, i / 2);
		while (vt_queue(d, f, len, 0) < 0) {
			struct pollfd pfd = { .fd = d->fd, .events = POLLOUT };

			poll(&pfd, 1, 100);
		}
		if (i % 256 == 255)
			ioctl(d->fd, NIOCTXSYNC, NULL);
	}
	vt_flush(d, 10000);
	_exit(0);
}

/* Ports coming and going on the same switch while traffic flows. */
static void churner(void)
{
	unsigned i;

	/* libnetmap reports on stderr: quiet once netmapd is gone */
	if (!freopen("/dev/null", "w", stderr))
		_exit(1);
	for (i = 0;; i++) {
		char name[32];
		struct nmport_d *d;

		snprintf(name, sizeof(name), "vale40t:c%u", i % 8);
		d = nmport_open(name);
		if (d)
			nmport_close(d);
	}
}

static void run(const char *extra)
{
	struct nmport_d *r[2];
	uint8_t mr[2][6], f[128], buf[256];
	uint32_t next[2][2] = { { 0, 0 }, { 0, 0 } };
	uint64_t got = 0, base_rx = 0, base_drops = 0, rx = 0, drops = 0, quiet;
	struct unm_vale_stats st;
	unsigned i, j, done = 0;
	char *argv[8];
	int status;

	snprintf(sock, sizeof(sock), "/tmp/unetmap-40t.%d.sock", (int)getpid());
	unlink(sock);
	if (spawn() == 0) {
		argv[0] = "netmapd";
		argv[1] = "--foreground";
		argv[2] = "--socket";
		argv[3] = sock;
		argv[4] = "--vale-threads";
		argv[5] = "2";
		argv[6] = (char *)(uintptr_t)extra;
		argv[7] = NULL;
		{
			char path[512];

			snprintf(path, sizeof(path), "%s.log", sock);
			if (!freopen(path, "w", stderr))
				_exit(126);
			snprintf(path, sizeof(path), "%s/netmapd", getenv("BUILD") ? getenv("BUILD") : "build");
			execv(path, argv);
		}
		_exit(127);
	}
	for (i = 0; i < 200 && access(sock, F_OK) != 0; i++)
		usleep(20000);
	CHECK(access(sock, F_OK) == 0, "private netmapd did not start");
	setenv("UNETMAP_SOCKET", sock, 1);

	/* r0, r1 first: threads get s0, s1 next (one each) */
	r[0] = vt_open("vale40t:r0@conf:rx_slots=4096");
	r[1] = vt_open("vale40t:r1@conf:rx_slots=4096");
	for (i = 0; i < 2; i++) {
		vt_mac(mr[i], 0x5100 + i);
		vt_frame(f, 60, mr[i], mr[i], 0, 0);
		f[0] = 0xff;	/* broadcast, so the switch learns r[i] */
		vt_send(r[i], f, 60);
	}
	vt_drain(r[0]);
	vt_drain(r[1]);
	for (i = 0; i < 2; i++) {
		CHECK(vt_stats(i ? "vale40t:r1" : "vale40t:r0", &st) == 0, "stats");
		base_rx += st.rx_pkts;
		base_drops += st.rx_drops;
	}
	for (i = 0; i < 2; i++)
		if (spawn() == 0)
			sender(i, (const uint8_t (*)[6])mr);
	if (spawn() == 0)
		churner();

	quiet = vt_now_ms();
	while (done < 2 || vt_now_ms() - quiet < 300) {
		for (j = 0; j < 2; j++) {
			int n;

			while ((n = vt_recv(r[j], buf, sizeof(buf), 0, NULL, NULL)) >= 0) {
				uint32_t tag, seq;

				CHECK(n >= 22, "r%u: %d-byte frame", j, n);
				memcpy(&tag, buf + 14, 4);
				memcpy(&seq, buf + 18, 4);
				CHECK(tag < 2, "r%u: frame from nowhere (tag %u)", j, tag);
				CHECK(seq >= next[j][tag], "r%u: s%u's frame %u after %u: reordered or "
				      "duplicated", j, tag, seq, next[j][tag]);
				CHECK(n == (int)(60 + (2 * seq + j) % 61) && vt_frame_ok(buf, (size_t)n, tag, seq),
				      "r%u: s%u's frame %u corrupted", j, tag, seq);
				next[j][tag] = seq + 1;
				got++;
				quiet = vt_now_ms();
			}
		}
		if (done < 2) {
			for (i = 0; i < 2; i++) {
				if (kids[1 + i] > 0 && waitpid(kids[1 + i], &status, WNOHANG) == kids[1 + i]) {
					CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
					      "sender %u failed", i);
					kids[1 + i] = 0;
					done++;
				}
			}
			CHECK(vt_now_ms() - quiet < 30000, "no progress for 30 s");
		}
		{
			struct pollfd pfd[2] = { { .fd = r[0]->fd, .events = POLLIN },
						 { .fd = r[1]->fd, .events = POLLIN } };

			poll(pfd, 2, 10);
		}
	}
	for (i = 0; i < 2; i++) {
		CHECK(vt_stats(i ? "vale40t:r1" : "vale40t:r0", &st) == 0, "stats");
		rx += st.rx_pkts;
		drops += st.rx_drops;
	}
	for (i = 0; i < 2; i++) {
		CHECK(vt_stats(i ? "vale40t:s1" : "vale40t:s0", &st) != 0 || st.tx_pkts == 2 * N,
		      "s%u: tx %llu", i, (unsigned long long)st.tx_pkts);
	}
	rx -= base_rx;
	drops -= base_drops;
	CHECK(rx == got, "counted %llu delivered, received %llu", (unsigned long long)rx,
	      (unsigned long long)got);
	CHECK(rx + drops == 4 * N, "delivered %llu + dropped %llu != sent %d",
	      (unsigned long long)rx, (unsigned long long)drops, 4 * N);
	printf("ok: netmapd --vale-threads 2 %s: %d frames from 2 threads into 2 rings: "
	       "%llu delivered in order and intact, %llu dropped and counted\n",
	       extra ? extra : "(sleeping when idle)", 4 * N, (unsigned long long)got,
	       (unsigned long long)drops);
	nmport_close(r[0]);
	nmport_close(r[1]);
	CHECK(kill_kids() == 0, "sanitizer report in the private netmapd's log");
}

int main(void)
{
	atexit(cleanup);
	run(NULL);
	run("--vale-busy");
	return 0;
}

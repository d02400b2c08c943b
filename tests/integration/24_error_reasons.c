/*
 * Test objective: when netmapd refuses a request it says why, and the
 * reason reaches the application through libnetmap's error callback
 * (nmctx), not just an errno; a netmapd that does not answer gives a
 * timeout error with a reason instead of a hang.
 *
 * Operations:
 *  1. open ports netmapd refuses for different reasons (a bad VALE name, a
 *     null port without a region, a ring out of range, a region that does
 *     not exist, an exclusive ring) and check the callback's message holds
 *     netmapd's reason and the errno is the expected one;
 *  2. point the library at a server that accepts and never answers, with
 *     UNETMAP_TIMEOUT=1: the open fails with ETIMEDOUT within a few
 *     seconds and says netmapd did not answer.
 */
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <libnetmap.h>

#include "tcommon.h"

static char last[1024];

static void capture(struct nmctx *ctx, const char *msg)
{
	(void)ctx;
	snprintf(last, sizeof(last), "%s", msg);
}

static void expect_refusal(const char *name, int want_errno, const char *want_text)
{
	struct nmport_d *d;

	last[0] = '\0';
	errno = 0;
	d = nmport_open(name);
	CHECK(d == NULL, "%s should fail", name);
	if (d) {
		nmport_close(d);
		return;
	}
	CHECK(errno == want_errno, "%s: errno %d (%s), expected %d (%s)", name, errno,
	      strerror(errno), want_errno, strerror(want_errno));
	CHECK(strstr(last, want_text) != NULL, "%s: message '%s' lacks '%s'", name, last,
	      want_text);
}

static int listen_fd = -1;

/* A "netmapd" that takes connections and never says a word. */
static void *mute_server(void *arg)
{
	int *conns = arg, k = 0;

	while (k < 4) {
		int fd = accept(listen_fd, NULL, NULL);

		if (fd < 0)
			break;
		conns[k++] = fd;
	}
	return NULL;
}

static void timeout_on_mute_server(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/unetmap-24.XXXXXX";
	int conns[4] = { -1, -1, -1, -1 }, i;
	pthread_t th;
	struct nmport_d *d;
	double t0, dt;

	REQUIRE(mkdtemp(dir), "mkdtemp");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/mute.sock", dir);
	listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	REQUIRE(listen_fd >= 0 && bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		listen(listen_fd, 8) == 0, "listen on %s", sa.sun_path);
	REQUIRE(pthread_create(&th, NULL, mute_server, conns) == 0, "thread");
	setenv("UNETMAP_SOCKET", sa.sun_path, 1);
	setenv("UNETMAP_TIMEOUT", "1", 1);
	last[0] = '\0';
	t0 = t_now();
	d = nmport_open("netmap:mute{1");
	dt = t_now() - t0;
	CHECK(d == NULL && errno == ETIMEDOUT, "open on a mute server: %p errno %d", (void *)d,
	      errno);
	CHECK(dt < 20, "the open gave up after %.1f s", dt);
	CHECK(strstr(last, "did not answer") != NULL, "message '%s'", last);
	shutdown(listen_fd, SHUT_RDWR);
	close(listen_fd);
	pthread_join(th, NULL);
	for (i = 0; i < 4; i++)
		if (conns[i] >= 0)
			close(conns[i]);
	unlink(sa.sun_path);
	rmdir(dir);
}

int main(void)
{
	struct nmctx *ctx = nmctx_get();
	struct nmport_d *a;
	char name[80];

	alarm(60);
	ctx->error = capture;
	expect_refusal("netmap:vale:", EINVAL, "");
	expect_refusal("netmap:valex:", EINVAL, "invalid");
	snprintf(name, sizeof(name), "netmap:rng%d{1-7", (int)getpid());
	expect_refusal(name, EINVAL, "out of range");
	snprintf(name, sizeof(name), "valerr%d:a@9999", (int)getpid() % 1000);
	expect_refusal(name, EINVAL, "region");
	/* an exclusive ring is busy for everybody else */
	snprintf(name, sizeof(name), "netmap:excl%d{1/x", (int)getpid());
	a = nmport_open(name);
	REQUIRE(a, "open %s", name);
	expect_refusal(name, EBUSY, "busy");
	nmport_close(a);
	timeout_on_mute_server();
	return t_done("24_error_reasons");
}

/*
 * Test objective: extra buffers (nr_extra_bufs) behave as in netmap -- a
 * list linked through the buffers' first four bytes from ni_bufs_head,
 * freed at unbind whatever the application did with it -- within a bound
 * per request, with the memory given back when the binding goes.
 * (Regression: 160,000 extra buffers of the global region stayed resident
 * in netmapd after the binding was gone; 524,288 took seconds with
 * netmapd's single thread busy, and nothing bounded a request.)
 *
 * Operations:
 *  1. more than netmap's bound (128 x 4096) is EINVAL with a reason;
 *  2. 100,000 extra buffers in the global region: the list holds exactly
 *     that many distinct, valid buffers;
 *  3. after close, netmapd's resident shared memory is back near where it
 *     was (the pages were returned);
 *  4. a list the application scribbled on (a loop, a bad index) is freed
 *     without harm, and the buffers are usable again afterwards.
 */
#include <sys/ioctl.h>

#include <libnetmap.h>

#include "tcommon.h"

static char last[512];

static void capture(struct nmctx *ctx, const char *msg)
{
	(void)ctx;
	snprintf(last, sizeof(last), "%s", msg);
}

static pid_t netmapd_pid(void)
{
	char path[256], buf[32];
	const char *sock = getenv("UNETMAP_SOCKET");
	FILE *f;

	if (!sock)
		return 0;
	snprintf(path, sizeof(path), "%s.lock", sock);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return (pid_t)atoi(buf);
}

/* RssShmem of pid, in kB */
static long shmem_kb(pid_t pid)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "RssShmem: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static struct nmport_d *open_extra(const char *name, uint32_t n)
{
	struct nmport_d *d = nmport_prepare(name);

	REQUIRE(d, "prepare %s", name);
	d->reg.nr_extra_bufs = n;
	last[0] = '\0';
	if (nmport_open_desc(d) < 0) {
		int e = errno;

		nmport_undo_prepare(d);
		errno = e;
		return NULL;
	}
	return d;
}

int main(void)
{
	char name[64];
	struct nmport_d *d;
	pid_t nd;
	long before, during, after;
	uint32_t n = 100000, k, head, count = 0;
	uint8_t *seen;

	alarm(120);
	nmctx_get()->error = capture;

	/* 1 */
	snprintf(name, sizeof(name), "netmap:xb%d{1", (int)getpid());
	d = open_extra(name, 128u * 4096u + 1);
	CHECK(d == NULL && errno == EINVAL, "over the bound: %p errno %d", (void *)d, errno);
	CHECK(strstr(last, "at most 524288") != NULL, "reason: '%s'", last);
	if (d)
		nmport_close(d);

	/* 2 (netmapd runs now, whoever started it) */
	nd = netmapd_pid();
	CHECK(nd > 0, "netmapd's pid from its lock file");
	before = nd ? shmem_kb(nd) : -1;
	snprintf(name, sizeof(name), "netmap:xb%d{2@1", (int)getpid());
	d = open_extra(name, n);
	REQUIRE(d, "open with %u extra buffers: %s", n, last);
	CHECK_EQ(d->reg.nr_extra_bufs, n);
	{
		struct netmap_ring *r = NETMAP_TXRING(d->nifp, 0);
		uint32_t nbufs = (uint32_t)((d->reg.nr_memsize -
					     (uint64_t)((char *)NETMAP_BUF(r, 0) - (char *)d->mem->mem)) /
					    r->nr_buf_size);

		seen = calloc(nbufs, 1);
		REQUIRE(seen, "calloc");
		for (head = d->nifp->ni_bufs_head; head && count <= n; count++) {
			CHECK(head >= 2 && head < nbufs, "buffer %u out of range", head);
			if (head < 2 || head >= nbufs)
				break;
			CHECK(!seen[head], "buffer %u twice in the list", head);
			seen[head] = 1;
			memcpy(&head, NETMAP_BUF(r, head), sizeof(head));
		}
		CHECK_EQ(count, n);
		/* and they are usable: write every one of them */
		for (k = 0; k < nbufs; k++)
			if (seen[k])
				memset(NETMAP_BUF(r, k) + 4, 0x5a, 60);
		free(seen);
	}
	during = nd ? shmem_kb(nd) : -1;
	nmport_close(d);
	usleep(200000);
	after = nd ? shmem_kb(nd) : -1;
	printf("netmapd RssShmem: %ld kB before, %ld during, %ld after\n", before, during, after);
	if (nd && before >= 0) {
		/* 100,000 x 2 KB = 195 MB were touched; all but a few pages
		 * must be gone */
		CHECK(after < before + 16 * 1024, "netmapd keeps %ld kB more than before",
		      after - before);
	}

	/* 4 */
	snprintf(name, sizeof(name), "netmap:xb%d{3@1", (int)getpid());
	d = open_extra(name, 1000);
	REQUIRE(d, "open: %s", last);
	{
		struct netmap_ring *r = NETMAP_TXRING(d->nifp, 0);
		uint32_t a = d->nifp->ni_bufs_head, b;

		memcpy(&b, NETMAP_BUF(r, a), sizeof(b));
		/* a loop of two, and garbage in the next one */
		memcpy(NETMAP_BUF(r, b), &a, sizeof(a));
	}
	nmport_close(d);
	d = open_extra(name, 1000);
	CHECK(d != NULL && d->reg.nr_extra_bufs == 1000, "extra buffers again after a bad list: %s",
	      last);
	if (d)
		nmport_close(d);
	return t_done("28_extra_bufs");
}

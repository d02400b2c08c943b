/*
 * Test objective: pipes can be asked to live in a given memory region
 * ("NAME{N@MEMID", "/xT@MEMID"), as in netmap: the parent is created in
 * that region, so the pipes share buffers with the ports already there
 * (upstream lb opens its output groups this way).  A request that cannot
 * be met fails cleanly with a reason.  (Regressions: EINVAL "lives in
 * memory region N, not M" for every such request; and a use after free
 * while formatting that message: "p{1@1" destroyed the new pipe, then read
 * its region.)
 *
 * Operations:
 *  1. "x{1@1": a new parent in the global region;
 *  2. lb's pattern: input pipe in{0 in its parent's region R, output group
 *     out{k/xT@R -- a new parent created in R; consumers out}k see R too;
 *     zero copy between them (same mapping);
 *  3. a parent that already lives in R, asked for another region: EINVAL
 *     with a reason naming both; a region that does not exist: EINVAL;
 *  4. frames cross a pipe created in a requested region.
 */
#include <stdarg.h>
#include <sys/ioctl.h>

#include <libnetmap.h>

#include "tcommon.h"

static char last[512];

static void capture(struct nmctx *ctx, const char *msg)
{
	(void)ctx;
	snprintf(last, sizeof(last), "%s", msg);
}

static struct nmport_d *open_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct nmport_d *open_fmt(const char *fmt, ...)
{
	char name[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	last[0] = '\0';
	return nmport_open(name);
}

int main(void)
{
	int me = (int)getpid(), k;
	struct nmport_d *g, *in, *out[2], *cons[2], *bad;
	uint16_t r;

	alarm(60);
	nmctx_get()->error = capture;

	/* 1 */
	g = open_fmt("netmap:g%d{1@1", me);
	CHECK(g != NULL, "x{1@1: %s", last);
	if (g) {
		CHECK_EQ(g->reg.nr_mem_id, 1);
		nmport_close(g);
	}

	/* 2 */
	in = open_fmt("netmap:in%d{0", me);
	REQUIRE(in, "input pipe: %s", last);
	r = in->reg.nr_mem_id;
	for (k = 0; k < 2; k++) {
		out[k] = open_fmt("netmap:out%d{%d/xT@%u", me, k, r);
		CHECK(out[k] != NULL, "output pipe %d in region %u: %s", k, r, last);
		if (!out[k])
			continue;
		CHECK_EQ(out[k]->reg.nr_mem_id, r);
		CHECK(out[k]->mem == in->mem, "output %d shares the input's mapping", k);
		cons[k] = open_fmt("netmap:out%d}%d", me, k);
		CHECK(cons[k] != NULL, "consumer %d: %s", k, last);
		if (cons[k])
			CHECK_EQ(cons[k]->reg.nr_mem_id, r);
	}

	/* 4: a frame written in the input's buffer space crosses out{0 */
	if (out[0] && cons[0]) {
		struct netmap_ring *t = NETMAP_TXRING(out[0]->nifp, 0);
		struct netmap_ring *rx = NETMAP_RXRING(cons[0]->nifp, 0);
		struct netmap_slot *s = &t->slot[t->head];

		memset(NETMAP_BUF(t, s->buf_idx), 0xab, 60);
		s->len = 60;
		t->head = t->cur = nm_ring_next(t, t->head);
		ioctl(out[0]->fd, NIOCTXSYNC, NULL);
		ioctl(cons[0]->fd, NIOCRXSYNC, NULL);
		CHECK_EQ(nm_ring_space(rx), 1);
		CHECK_EQ((unsigned char)NETMAP_BUF(rx, rx->slot[rx->head].buf_idx)[59], 0xab);
	}

	/* 3: out%d lives in r now; another region is refused, with words */
	bad = open_fmt("netmap:out%d{5@1", me);
	CHECK(bad == NULL && errno == EINVAL, "parent in region %u asked for region 1", r);
	CHECK(strstr(last, "region") != NULL, "reason: '%s'", last);
	if (bad)
		nmport_close(bad);
	bad = open_fmt("netmap:nores%d{1@65000", me);
	CHECK(bad == NULL && errno == EINVAL, "a region that does not exist");
	CHECK(strstr(last, "no memory region 65000") != NULL, "reason: '%s'", last);
	if (bad)
		nmport_close(bad);

	for (k = 0; k < 2; k++) {
		if (out[k])
			nmport_close(out[k]);
		if (cons[k])
			nmport_close(cons[k]);
	}
	nmport_close(in);
	/* the names are free again, in any region */
	g = open_fmt("netmap:out%d{0", me);
	CHECK(g != NULL, "reopen after close: %s", last);
	if (g)
		nmport_close(g);
	return t_done("26_pipe_memid");
}

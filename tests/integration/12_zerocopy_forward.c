/*
 * Test objective: a process holding two pipes of one NAME forwards
 * between them by swapping buffer indices (NS_BUF_CHANGED), netmap's
 * zero-copy idiom, and every frame arrives intact in the buffer the
 * sender wrote it into.
 *
 * Operations: source -> NAME{1 ; forwarder: NAME}1 -> NAME{2 (buffer
 * swap) ; sink <- NAME}2.  The source writes, into each frame, the index
 * of the buffer it used; the sink checks it received that very buffer.
 */
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <libnetmap.h>

#include "tcommon.h"

#define FRAMES 200000

static char base[32];

static int source(void)
{
	struct nmport_d *d = t_open_pipe(base, '{', 1);
	struct pollfd p = { .fd = d->fd, .events = POLLOUT };
	uint32_t seq = 0;

	while (seq < FRAMES) {
		struct netmap_ring *r = NETMAP_TXRING(d->nifp, 0);

		if (poll(&p, 1, 5000) != 1 || (p.revents & POLLERR))
			return 1;
		while (nm_ring_space(r) && seq < FRAMES) {
			struct netmap_slot *s = &r->slot[r->head];
			char *b = NETMAP_BUF(r, s->buf_idx);

			memcpy(b, &seq, 4);
			memcpy(b + 4, &s->buf_idx, 4);
			s->len = 64;
			seq++;
			r->head = r->cur = nm_ring_next(r, r->head);
		}
	}
	ioctl(d->fd, NIOCTXSYNC, NULL);
	sleep(1);		/* stay until the chain has drained */
	nmport_close(d);
	return 0;
}

static int forwarder(void)
{
	struct nmport_d *in = t_open_pipe(base, '}', 1), *out = t_open_pipe(base, '{', 2);
	struct pollfd p[2] = { { .fd = in->fd, .events = POLLIN }, { .fd = out->fd } };
	uint32_t moved = 0;

	if (in->mem != out->mem) {
		fprintf(stderr, "pipes of one name do not share memory\n");
		return 2;
	}
	while (moved < FRAMES) {
		struct netmap_ring *rx = NETMAP_RXRING(in->nifp, 0);
		struct netmap_ring *tx = NETMAP_TXRING(out->nifp, 0);
		uint32_t n;

		/* as netmap's bridge: wait for input while we have none, for
		 * room while we have input */
		p[0].events = nm_ring_empty(rx) ? POLLIN : 0;
		p[1].events = nm_ring_empty(rx) ? 0 : POLLOUT;
		if (poll(p, 2, 5000) <= 0)
			return 3;
		n = nm_ring_space(rx);
		if (n > nm_ring_space(tx))
			n = nm_ring_space(tx);
		while (n--) {
			struct netmap_slot *rs = &rx->slot[rx->head], *ts = &tx->slot[tx->head];
			uint32_t idx = ts->buf_idx;

			ts->buf_idx = rs->buf_idx;
			rs->buf_idx = idx;
			ts->len = rs->len;
			ts->flags |= NS_BUF_CHANGED;
			rs->flags |= NS_BUF_CHANGED;
			rx->head = rx->cur = nm_ring_next(rx, rx->head);
			tx->head = tx->cur = nm_ring_next(tx, tx->head);
			moved++;
		}
	}
	ioctl(out->fd, NIOCTXSYNC, NULL);
	ioctl(in->fd, NIOCRXSYNC, NULL);
	sleep(1);
	nmport_close(in);
	nmport_close(out);
	return 0;
}

int main(void)
{
	struct nmport_d *sink;
	struct pollfd p;
	pid_t src, fwd;
	uint32_t seq = 0, bad_idx = 0;
	int st;

	snprintf(base, sizeof(base), "zc%d", (int)getpid());
	sink = t_open_pipe(base, '}', 2);
	fwd = fork();
	if (fwd == 0)
		_exit(forwarder());
	src = fork();
	if (src == 0)
		_exit(source());
	REQUIRE(src > 0 && fwd > 0, "fork");
	p.fd = sink->fd;
	p.events = POLLIN;
	while (seq < FRAMES) {
		struct netmap_ring *r = NETMAP_RXRING(sink->nifp, 0);
		int n = poll(&p, 1, 5000);

		if (n != 1 || !(p.revents & POLLIN)) {
			fprintf(stderr, "sink: poll %d revents %#x at frame %u\n", n, p.revents, seq);
			break;
		}
		while (!nm_ring_empty(r)) {
			struct netmap_slot *s = &r->slot[r->head];
			uint32_t got, idx;
			char *b = NETMAP_BUF(r, s->buf_idx);

			memcpy(&got, b, 4);
			memcpy(&idx, b + 4, 4);
			if (got != seq) {
				fprintf(stderr, "sink: frame %u, expected %u\n", got, seq);
				goto out;
			}
			if (idx != s->buf_idx)
				bad_idx++;
			seq++;
			r->head = r->cur = nm_ring_next(r, r->head);
		}
	}
out:
	CHECK_EQ(seq, FRAMES);
	CHECK_EQ(bad_idx, 0);	/* every frame travelled in its own buffer */
	waitpid(src, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "source status %#x", st);
	waitpid(fwd, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "forwarder status %#x", st);
	nmport_close(sink);
	return t_done("12_zerocopy_forward");
}

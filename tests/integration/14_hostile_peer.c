/*
 * Test objective: whatever a peer writes into shared memory, and whatever
 * a client sends on the control socket, the other party's library and
 * netmapd neither crash nor hang, and the system keeps working.
 *
 * Operations:
 *  1. an attacker opens one end of a pipe and, for thousands of rounds,
 *     writes random values into its ring indices, its control blocks, its
 *     slots, and random bytes anywhere in the shared region, calling the
 *     sync ioctls and poll in between; the victim on the other end keeps
 *     sending, receiving and polling (with timeouts) meanwhile;
 *  2. a client sends random and malformed messages to netmapd;
 *  3. afterwards a fresh pipe transfers frames correctly (netmapd's
 *     allocator and registry are intact).
 */
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <libnetmap.h>

#include "tcommon.h"
#include "unm_layout.h"
#include "unm_wire.h"

static char base[32];
static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t rnd_index(uint32_t n)
{
	switch (rnd() % 4) {
	case 0: return (uint32_t)rnd();			/* anything */
	case 1: return n + (uint32_t)(rnd() % 8);	/* just out of range */
	default: return (uint32_t)(rnd() % (n ? n : 1));	/* plausible */
	}
}

/* n: the slot count as registered (the ring's own field is scribbled on) */
static void scribble_ring(struct netmap_ring *r, uint32_t n, int is_tx)
{
	struct unm_ring_ctl *c = unm_ring_ctl(r);
	uint32_t k;

	switch (rnd() % 6) {
	case 0:
		r->head = rnd_index(n);
		r->cur = rnd_index(n);
		break;
	case 1:
		r->tail = rnd_index(n);
		break;
	case 2:
		atomic_store(&c->app_idx, rnd_index(n));
		atomic_store(&c->app_sleep, (uint32_t)rnd());
		break;
	case 3:
		c->hwcur = rnd_index(n);
		c->hwtail = rnd_index(n);
		c->rhead = rnd_index(n);
		break;
	case 4:
		for (k = 0; k < 16; k++) {
			struct netmap_slot *s = &r->slot[rnd() % n];

			s->buf_idx = (uint32_t)rnd();
			s->len = (uint16_t)rnd();
			s->flags = (uint16_t)rnd();
			s->ptr = rnd();
		}
		break;
	default:
		/* honest traffic in between keeps the peer busy */
		while (is_tx && r->head != r->tail && r->head < n && r->tail < n) {
			r->slot[r->head].len = 60;
			r->head = r->cur = nm_ring_next(r, r->head);
		}
		break;
	}
}

static int attacker(int rounds)
{
	struct nmport_d *d = t_open_pipe(base, '{', 1);
	char *mem = d->mem->mem;
	size_t size = d->reg.nr_memsize;
	struct pollfd p = { .fd = d->fd, .events = POLLIN | POLLOUT };
	struct netmap_ring *tx = NETMAP_TXRING(d->nifp, 0), *rx = NETMAP_RXRING(d->nifp, 0);
	uint32_t ntx = tx->num_slots, nrx = rx->num_slots;
	int i;

	for (i = 0; i < rounds; i++) {
		scribble_ring(tx, ntx, 1);
		scribble_ring(rx, nrx, 0);
		if (rnd() % 4 == 0) {
			/* random bytes in the if- and ring-pools (where every
			 * ring and control block of the region lives) */
			size_t lim = size < (17u << 20) ? size : (17u << 20);
			int k;

			for (k = 0; k < 8; k++)
				mem[rnd() % lim] = (char)rnd();
		}
		switch (rnd() % 3) {
		case 0: ioctl(d->fd, NIOCTXSYNC, NULL); break;
		case 1: ioctl(d->fd, NIOCRXSYNC, NULL); break;
		default: poll(&p, 1, 0); break;
		}
	}
	/* and leave with garbage in place: netmapd reclaims from it */
	d->nifp->ni_bufs_head = (uint32_t)rnd();
	nmport_close(d);
	return 0;
}

/*
 * The victim: a careful application on the other end.  A pipe's peer
 * shares its region (that is what makes pipes zero-copy), so it can
 * scribble even on our netmap_if and ring headers; the library copes, and
 * an application that wants to survive such a peer does what this one
 * does: it takes ring addresses and geometry once, at open time, and
 * bounds-checks indices before touching buffers.
 */
static void victim(struct nmport_d *d, pid_t att)
{
	struct pollfd p = { .fd = d->fd, .events = POLLIN | POLLOUT };
	struct netmap_ring *rx = NETMAP_RXRING(d->nifp, 0);
	struct netmap_ring *tx = NETMAP_TXRING(d->nifp, 0);
	const uint32_t n = rx->num_slots, ntx = tx->num_slots, bufsz = rx->nr_buf_size;
	char *const bufs = (char *)rx + rx->buf_ofs;
	const uint64_t nbufs = (d->reg.nr_memsize - (uint64_t)(bufs - (char *)d->mem->mem)) / bufsz;
	uint64_t polls = 0, frames = 0;
	int st;

	while (waitpid(att, &st, WNOHANG) == 0) {
		uint32_t k = 0, h;

		poll(&p, 1, 5);
		polls++;
		while ((h = rx->head) < n && rx->tail < n && h != rx->tail && k++ < n) {
			uint32_t idx = rx->slot[h].buf_idx;

			if (idx < nbufs)
				frames += bufs[(uint64_t)idx * bufsz] == 0x55 ? 0 : 1;
			rx->head = rx->cur = h + 1 == n ? 0 : h + 1;
		}
		for (k = 0; k < 8 && (h = tx->head) < ntx && tx->tail < ntx && h != tx->tail; k++) {
			tx->slot[h].len = 60;
			tx->head = tx->cur = h + 1 == ntx ? 0 : h + 1;
		}
		ioctl(d->fd, NIOCTXSYNC, NULL);
		ioctl(d->fd, NIOCRXSYNC, NULL);
	}
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "attacker status %#x", st);
	printf("victim: %llu polls, %llu frames seen during the attack\n",
	       (unsigned long long)polls, (unsigned long long)frames);
}

/* Random and malformed control messages straight at netmapd. */
static void fuzz_daemon(int rounds)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[512];
	int i, fd = -1, dropped = 0;

	REQUIRE(unm_socket_path(sa.sun_path, sizeof(sa.sun_path)) == 0, "socket path");
	for (i = 0; i < rounds; i++) {
		struct unm_msg_hdr *h = (struct unm_msg_hdr *)buf;
		size_t len = rnd() % sizeof(buf), k;

		if (fd < 0) {
			fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
			REQUIRE(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
				"connect to netmapd");
		}
		for (k = 0; k < len; k++)
			buf[k] = (char)rnd();
		if (len >= sizeof(*h) && rnd() % 2) {
			/* plausible header, implausible rest */
			h->magic = UNM_WIRE_MAGIC;
			h->version = UNM_WIRE_VERSION;
			h->type = (uint16_t)(rnd() % 6);
			h->len = rnd() % 2 ? (uint32_t)(len - sizeof(*h)) : (uint32_t)rnd();
			if (h->type == UNM_MSG_NMREQ && len >= sizeof(*h) + sizeof(struct nmreq_header))
				((struct nmreq_header *)(h + 1))->nr_reqtype = (uint16_t)(rnd() % 16);
		}
		if (send(fd, buf, len, MSG_NOSIGNAL) < 0 || recv(fd, buf, sizeof(buf), MSG_DONTWAIT) == 0) {
			close(fd);
			fd = -1;
			dropped++;
		}
	}
	if (fd >= 0)
		close(fd);
	printf("fuzz: %d messages, %d connections dropped by netmapd\n", rounds, dropped);
}

static void fresh_pipe_works(void)
{
	char b[32];
	struct nmport_d *tx, *rx;
	struct netmap_ring *t, *r;
	int i, got = 0, ok = 1;

	snprintf(b, sizeof(b), "after%d", (int)getpid());
	tx = t_open_pipe(b, '{', 1);
	rx = t_open_pipe(b, '}', 1);
	t = NETMAP_TXRING(tx->nifp, 0);
	r = NETMAP_RXRING(rx->nifp, 0);
	for (i = 0; i < 500; i++) {
		struct netmap_slot *s = &t->slot[t->head];

		memset(NETMAP_BUF(t, s->buf_idx), i & 0xff, 64);
		s->len = 64;
		t->head = t->cur = nm_ring_next(t, t->head);
	}
	ioctl(tx->fd, NIOCTXSYNC, NULL);
	ioctl(rx->fd, NIOCRXSYNC, NULL);
	while (!nm_ring_empty(r)) {
		struct netmap_slot *s = &r->slot[r->head];

		if ((unsigned char)NETMAP_BUF(r, s->buf_idx)[63] != (got & 0xff) || s->len != 64)
			ok = 0;
		got++;
		r->head = r->cur = nm_ring_next(r, r->head);
	}
	CHECK_EQ(got, 500);
	CHECK(ok, "frames corrupted on a fresh pipe");
	nmport_close(tx);
	nmport_close(rx);
}

int main(void)
{
	int rounds = (int)t_env_long("UNETMAP_TEST_ROUNDS", 20000);
	pid_t pid;

	snprintf(base, sizeof(base), "hostile%d", (int)getpid());
	rng ^= (uint64_t)getpid();
	/* the victim is bound before the attack starts */
	{
		struct nmport_d *d = t_open_pipe(base, '}', 1);

		pid = fork();
		REQUIRE(pid >= 0, "fork");
		if (pid == 0)
			_exit(attacker(rounds));
		victim(d, pid);
		nmport_close(d);
	}
	fuzz_daemon(rounds / 4);
	fresh_pipe_works();
	return t_done("14_hostile_peer");
}

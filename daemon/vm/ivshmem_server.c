/*
 * ivshmem_server.c - ivshmem-doorbell server (protocol in ivshmem_server.h
 * and QEMU's docs/specs/ivshmem-spec.rst).
 *
 * Every message to a peer goes through that peer's output queue, so that
 * a peer whose socket is momentarily full is served later (EPOLLOUT)
 * instead of blocking the owner's event loop.  Queue entries name the
 * descriptor to attach (the memfd, a bell of the receiving peer, or a kick
 * of some peer by slot and generation) instead of holding it: a peer that
 * leaves while announcements of it are still queued simply has those
 * entries skipped.  Each descriptor goes with its own sendmsg() of 8
 * bytes: the kernel never merges stream data carrying SCM_RIGHTS with the
 * next message, and QEMU reads 8 bytes at a time.
 *
 * Peer ids and QEMU
 * -----------------
 * QEMU (7.2, and master as of this writing) frees its table of a peer's
 * eventfds when told that the peer left, without forgetting it: a later
 * peer with the same id is written into freed memory, and its departure
 * frees it again (QEMU aborts: "double free or corruption").  "Left" for
 * an id it never heard of does the same to the table it preallocated.  So
 * an id must never come back while a QEMU that was told it left is still
 * connected.  Ids are handed out in increasing order (1, 2, ... 65535,
 * then around), and an id that left is taken again only when every peer
 * connected now joined after it left; with no peer left, numbering starts
 * over at 1.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../nmd.h"
#include "ivshmem_server.h"

#define IVS_PROTOCOL_VERSION 0
#define IVS_DEF_PEERS	16
#define IVS_MAX_ID	65535	/* QEMU's limit; the doorbell has 16 bits */
#define IVS_BATCH	32	/* epoll events handled per process() call */
#define IVS_ACCEPTS	8	/* connections accepted per listen event */
#define IVS_LIVE	UINT32_MAX	/* idstate: in use */

/* epoll data: what the descriptor is, and for peers which slot and which
 * generation (a slot is reused; an event queued for a peer that has since
 * been replaced must not reach the new one) */
enum { EV_LISTEN = 1, EV_SOCK, EV_BELL };
#define EV_PACK(kind, gen, slot, vec) (((uint64_t)(kind) << 60) | \
	((uint64_t)((gen) & 0x0fffffffu) << 32) | ((uint64_t)(slot) << 16) | (uint64_t)(vec))
#define EV_KIND(u)  ((unsigned)((u) >> 60))
#define EV_GEN(u)   ((uint32_t)(((u) >> 32) & 0x0fffffffu))
#define EV_SLOT(u)  ((unsigned)(((u) >> 16) & 0xffffu))
#define EV_VEC(u)   ((unsigned)((u) & 0xffffu))

enum ivs_fdkind { FD_NONE, FD_SHM, FD_BELL, FD_KICK };

struct ivs_msg {
	int64_t val;
	uint8_t fdkind;		/* enum ivs_fdkind */
	uint8_t vec;
	uint16_t slot;		/* FD_KICK: whose kick */
	uint32_t gen;		/* FD_KICK: of which peer in that slot */
};

struct ivs_peer {
	int sock;
	uint16_t id;
	uint16_t slot;		/* index in srv->slot[] */
	uint32_t gen;
	uint32_t joined_at;	/* srv->seq when it was announced */
	bool dead;		/* to be dropped (reaped after the event) */
	bool joined;		/* announced to the others and the owner */
	bool want_out;		/* EPOLLOUT armed */
	const char *why;	/* why it is dead, for the log */
	int *kick, *bell;	/* [vectors] */
	struct ivs_msg *q;	/* output queue: [qhead, qlen) pending */
	unsigned qhead, qlen, qcap;
};

struct nmd_ivshmem_server {
	int lfd, ep, shm;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	unsigned vectors, max_peers, npeers, qmax;
	uint32_t gen, seq;
	uint16_t next_id;
	struct nmd_ivshmem_ops ops;
	void *arg;
	int *given_kick, *given_bell;	/* [vectors] or NULL (params) */
	struct ivs_peer **slot;	/* [max_peers] */
	/* per id: 0 never used (or forgotten), IVS_LIVE in use, else the
	 * seq at which it left (see "Peer ids and QEMU") */
	uint32_t *idstate;	/* [IVS_MAX_ID + 1] */
};

/* ---- sending ---- */

/* One message, without blocking.  0, -EAGAIN (try later), or -errno. */
static int ivs_send(int sock, int64_t val, int fd)
{
	uint64_t le = htole64((uint64_t)val);
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	ssize_t n;

	if (fd >= 0) {
		memset(&c, 0, sizeof(c));
		m.msg_control = c.buf;
		m.msg_controllen = sizeof(c.buf);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	/* a partial write would leave the stream out of step: only a full
	 * socket does that, and then nothing was written (8 bytes < any
	 * buffer), but be strict */
	return n == (ssize_t)sizeof(le) ? 0 : -EPROTO;
}

static void peer_kill(struct ivs_peer *p, const char *why)
{
	if (!p->dead) {
		p->dead = true;
		p->why = why;
	}
}

static void queue_push(struct nmd_ivshmem_server *s, struct ivs_peer *p, int64_t val,
		       enum ivs_fdkind kind, unsigned vec, const struct ivs_peer *of)
{
	struct ivs_msg *m;
	unsigned cap;

	if (p->dead)
		return;
	if (p->qhead == p->qlen)
		p->qhead = p->qlen = 0;
	if (p->qlen - p->qhead >= s->qmax) {
		/* a peer that lets this much pile up does not read: QEMU
		 * always does */
		peer_kill(p, "does not read its socket");
		return;
	}
	if (p->qlen == p->qcap) {
		if (p->qhead > 0) {
			memmove(p->q, p->q + p->qhead, (p->qlen - p->qhead) * sizeof(*m));
			p->qlen -= p->qhead;
			p->qhead = 0;
		} else {
			cap = p->qcap ? 2 * p->qcap : 64;
			m = realloc(p->q, cap * sizeof(*m));
			if (!m) {
				peer_kill(p, "out of memory");
				return;
			}
			p->q = m;
			p->qcap = cap;
		}
	}
	m = &p->q[p->qlen++];
	m->val = val;
	m->fdkind = (uint8_t)kind;
	m->vec = (uint8_t)vec;
	m->slot = of ? of->slot : 0;
	m->gen = of ? of->gen : 0;
}

static void peer_set_out(struct nmd_ivshmem_server *s, struct ivs_peer *p, bool out)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0),
		.data.u64 = EV_PACK(EV_SOCK, p->gen, p->slot, 0),
	};

	if (p->want_out == out)
		return;
	if (epoll_ctl(s->ep, EPOLL_CTL_MOD, p->sock, &ev) < 0) {
		peer_kill(p, "epoll_ctl failed");
		return;
	}
	p->want_out = out;
}

/* Send what the queue holds until it is empty or the socket is full. */
static void queue_flush(struct nmd_ivshmem_server *s, struct ivs_peer *p)
{
	const struct ivs_msg *m;
	const struct ivs_peer *of;
	int fd, err;

	while (!p->dead && p->qhead < p->qlen) {
		m = &p->q[p->qhead];
		fd = -1;
		switch (m->fdkind) {
		case FD_SHM:
			fd = s->shm;
			break;
		case FD_BELL:
			fd = p->bell[m->vec];
			break;
		case FD_KICK:
			of = m->slot < s->max_peers ? s->slot[m->slot] : NULL;
			if (!of || of->gen != m->gen || of->dead) {
				/* that peer left since; its "left" message
				 * follows in the queue */
				p->qhead++;
				continue;
			}
			fd = of->kick[m->vec];
			break;
		}
		err = ivs_send(p->sock, m->val, fd);
		if (err == -EAGAIN) {
			peer_set_out(s, p, true);
			return;
		}
		if (err < 0) {
			peer_kill(p, err == -EPIPE || err == -ECONNRESET ? "hung up" : "send failed");
			return;
		}
		p->qhead++;
	}
	if (!p->dead)
		peer_set_out(s, p, false);
}

/* ---- peers ---- */

static void peer_free(struct ivs_peer *p, unsigned vectors)
{
	unsigned v;

	if (p->sock >= 0)
		close(p->sock);
	for (v = 0; v < vectors; v++) {
		if (p->kick && p->kick[v] >= 0)
			close(p->kick[v]);
		if (p->bell && p->bell[v] >= 0)
			close(p->bell[v]);
	}
	free(p->kick);
	free(p->bell);
	free(p->q);
	free(p);
}

/* Remove a peer: tell the owner, stop watching it, tell the others.
 * Announcing may kill other peers; the caller's reap loop picks them up. */
static void peer_drop(struct nmd_ivshmem_server *s, struct ivs_peer *p)
{
	struct ivs_peer *q;
	unsigned i, v;

	s->slot[p->slot] = NULL;
	s->npeers--;
	epoll_ctl(s->ep, EPOLL_CTL_DEL, p->sock, NULL);
	if (s->ops.ring)
		for (v = 0; v < s->vectors; v++)
			epoll_ctl(s->ep, EPOLL_CTL_DEL, p->bell[v], NULL);
	if (!p->joined) {
		/* no one heard of it: its id is as good as new */
		s->idstate[p->id] = 0;
		nmd_warn("ivshmem %s: dropped a connecting peer (%s)", s->path,
			 p->why ? p->why : "closed");
		peer_free(p, s->vectors);
		return;
	}
	nmd_info("ivshmem %s: peer %u left (%s)", s->path, p->id, p->why ? p->why : "closed");
	s->idstate[p->id] = ++s->seq;
	/* before the descriptors close: the owner removes them from its own
	 * epoll sets (QEMU holds copies, so closing alone would not) */
	if (s->ops.leave)
		s->ops.leave(s->arg, p->id);
	for (i = 0; i < s->max_peers; i++) {
		q = s->slot[i];
		if (q && q->joined && !q->dead) {
			queue_push(s, q, p->id, FD_NONE, 0, NULL);
			queue_flush(s, q);
		}
	}
	peer_free(p, s->vectors);
}

static void reap(struct nmd_ivshmem_server *s)
{
	bool again = true;
	unsigned i, rounds = 0;

	/* each round drops at least one peer or ends the loop */
	while (again && rounds++ <= s->max_peers) {
		again = false;
		for (i = 0; i < s->max_peers; i++) {
			if (s->slot[i] && s->slot[i]->dead) {
				peer_drop(s, s->slot[i]);
				again = true;
			}
		}
	}
}

/* An id no connected QEMU has seen leave (see "Peer ids and QEMU"). */
static int id_alloc(struct nmd_ivshmem_server *s, uint16_t *out)
{
	uint32_t oldest = UINT32_MAX, st;
	unsigned i, n;
	uint16_t id;

	for (i = 0; i < s->max_peers; i++)
		if (s->slot[i] && s->slot[i]->joined && s->slot[i]->joined_at < oldest)
			oldest = s->slot[i]->joined_at;
	if (oldest == UINT32_MAX)
		s->next_id = 1;		/* no QEMU remembers anything */
	for (n = 0; n < IVS_MAX_ID; n++) {
		id = s->next_id;
		s->next_id = id == IVS_MAX_ID ? 1 : (uint16_t)(id + 1);
		st = s->idstate[id];
		if (st == IVS_LIVE || (st != 0 && st >= oldest))
			continue;
		*out = id;
		return 0;
	}
	return -EUSERS;
}

static int eventfds(int *fds, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		fds[i] = -1;
	for (i = 0; i < n; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fds[i] < 0)
			return -errno;
	}
	return 0;
}

/* The eventfds the owner gave for the guest replace fresh ones. */
static int take_given(int *fds, const int *given, unsigned n)
{
	unsigned i;
	int fd;

	for (i = 0; given && i < n; i++) {
		if (given[i] < 0)
			continue;
		fd = fcntl(given[i], F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return -errno;
		close(fds[i]);
		fds[i] = fd;
	}
	return 0;
}

static int peer_new(struct nmd_ivshmem_server *s, int sock, struct ivs_peer **out)
{
	struct ivs_peer *p;
	unsigned slot;
	uint16_t id;
	int err;

	for (slot = 0; slot < s->max_peers && s->slot[slot]; slot++)
		;
	if (slot == s->max_peers)
		return -EUSERS;
	err = id_alloc(s, &id);
	if (err)
		return -ERANGE;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->sock = -1;
	p->kick = malloc(s->vectors * sizeof(int));
	p->bell = malloc(s->vectors * sizeof(int));
	if (!p->kick || !p->bell) {
		free(p->kick);
		free(p->bell);
		free(p);
		return -ENOMEM;
	}
	err = eventfds(p->kick, s->vectors);
	if (!err)
		err = eventfds(p->bell, s->vectors);
	if (!err)
		err = take_given(p->kick, s->given_kick, s->vectors);
	if (!err)
		err = take_given(p->bell, s->given_bell, s->vectors);
	if (err) {
		peer_free(p, s->vectors);
		return err;
	}
	p->sock = sock;
	p->id = id;
	p->slot = (uint16_t)slot;
	p->gen = ++s->gen & 0x0fffffffu;
	*out = p;
	return 0;
}

/* Queue everything a new peer gets, in the spec's order. */
static void peer_greet(struct nmd_ivshmem_server *s, struct ivs_peer *p)
{
	const struct ivs_peer *q;
	unsigned i, v;

	queue_push(s, p, IVS_PROTOCOL_VERSION, FD_NONE, 0, NULL);
	queue_push(s, p, p->id, FD_NONE, 0, NULL);
	queue_push(s, p, -1, FD_SHM, 0, NULL);
	for (v = 0; v < s->vectors; v++)
		queue_push(s, p, NMD_IVSHMEM_SERVER_ID, FD_BELL, v, NULL);
	for (i = 0; i < s->max_peers; i++) {
		q = s->slot[i];
		if (q && q != p && q->joined && !q->dead)
			for (v = 0; v < s->vectors; v++)
				queue_push(s, p, q->id, FD_KICK, v, q);
	}
	for (v = 0; v < s->vectors; v++)
		queue_push(s, p, p->id, FD_KICK, v, p);
}

static const char *refusal(int err)
{
	switch (err) {
	case -EUSERS: return "too many peers";
	case -ERANGE: return "no peer id that every connected QEMU can take";
	default:      return strerror(-err);
	}
}

static void peer_accept(struct nmd_ivshmem_server *s)
{
	struct epoll_event ev;
	struct nmd_ivshmem_peer info;
	struct ivs_peer *p, *q;
	unsigned i, k, v;
	int fd, err;

	for (k = 0; k < IVS_ACCEPTS; k++) {
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				nmd_warn("ivshmem %s: accept: %s", s->path, strerror(errno));
			return;
		}
		err = peer_new(s, fd, &p);
		if (err) {
			nmd_warn("ivshmem %s: refusing a peer: %s", s->path, refusal(err));
			close(fd);
			continue;
		}
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.u64 = EV_PACK(EV_SOCK, p->gen, p->slot, 0);
		err = epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
		for (v = 0; !err && s->ops.ring && v < s->vectors; v++) {
			ev.events = EPOLLIN;
			ev.data.u64 = EV_PACK(EV_BELL, p->gen, p->slot, v);
			if (epoll_ctl(s->ep, EPOLL_CTL_ADD, p->bell[v], &ev) < 0)
				err = -errno;
		}
		if (err) {
			nmd_warn("ivshmem %s: epoll_ctl: %s", s->path, strerror(-err));
			epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, NULL);
			for (v = 0; s->ops.ring && v < s->vectors; v++)
				epoll_ctl(s->ep, EPOLL_CTL_DEL, p->bell[v], NULL);
			peer_free(p, s->vectors);
			continue;
		}
		s->slot[p->slot] = p;
		s->idstate[p->id] = IVS_LIVE;
		s->npeers++;
		peer_greet(s, p);
		queue_flush(s, p);
		if (p->dead) {
			/* gone before anyone heard of it */
			reap(s);
			continue;
		}
		for (i = 0; i < s->max_peers; i++) {
			q = s->slot[i];
			if (!q || q == p || !q->joined || q->dead)
				continue;
			for (v = 0; v < s->vectors; v++)
				queue_push(s, q, p->id, FD_KICK, v, p);
			queue_flush(s, q);
		}
		p->joined = true;
		p->joined_at = ++s->seq;
		nmd_info("ivshmem %s: peer %u joined (%u vectors)", s->path, p->id, s->vectors);
		if (s->ops.join) {
			info.id = p->id;
			info.vectors = s->vectors;
			info.kick = p->kick;
			info.bell = p->bell;
			s->ops.join(s->arg, &info);
		}
		reap(s);
	}
}

/* Readable (or hung up) peer socket: QEMU never writes, so any byte is
 * a protocol violation; descriptors sent along are discarded by the
 * kernel since we pass no control buffer. */
static void peer_input(struct ivs_peer *p, uint32_t events)
{
	char buf[64];
	ssize_t n;

	if (events & EPOLLIN) {
		n = recv(p->sock, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			peer_kill(p, "sent data (not a QEMU ivshmem peer?)");
		else if (n == 0)
			peer_kill(p, "hung up");
		else if (errno == ECONNRESET)
			peer_kill(p, "hung up");	/* with our messages unread */
		else if (errno != EAGAIN && errno != EINTR)
			peer_kill(p, "socket error");
	}
	if (events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR))
		peer_kill(p, "hung up");
}

static struct ivs_peer *peer_of(struct nmd_ivshmem_server *s, uint64_t u)
{
	unsigned slot = EV_SLOT(u);
	struct ivs_peer *p;

	if (slot >= s->max_peers)
		return NULL;
	p = s->slot[slot];
	return p && p->gen == EV_GEN(u) && !p->dead ? p : NULL;
}

int nmd_ivshmem_server_process(struct nmd_ivshmem_server *s)
{
	struct epoll_event evs[IVS_BATCH];
	struct ivs_peer *p;
	uint64_t cnt;
	int i, n;

	n = epoll_wait(s->ep, evs, IVS_BATCH, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	/* peers first, then new connections: a departure seen in this
	 * batch frees its slot for a newcomer */
	for (i = 0; i < n; i++) {
		uint64_t u = evs[i].data.u64;

		switch (EV_KIND(u)) {
		case EV_SOCK:
			p = peer_of(s, u);
			if (!p)
				break;
			peer_input(p, evs[i].events);
			if (!p->dead && (evs[i].events & EPOLLOUT))
				queue_flush(s, p);
			break;
		case EV_BELL:
			p = peer_of(s, u);
			if (!p || EV_VEC(u) >= s->vectors)
				break;
			if (read(p->bell[EV_VEC(u)], &cnt, sizeof(cnt)) == (ssize_t)sizeof(cnt) &&
			    s->ops.ring && p->joined)
				s->ops.ring(s->arg, p->id, EV_VEC(u));
			break;
		}
		reap(s);
	}
	for (i = 0; i < n; i++)
		if (EV_KIND(evs[i].data.u64) == EV_LISTEN)
			peer_accept(s);
	return 0;
}

/* ---- the server ---- */

static bool pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* Bind @path, replacing a stale socket left by a dead server. */
static int listen_on(struct nmd_ivshmem_server *s, mode_t mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, probe, err;

	memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
	if (lstat(s->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe < 0)
			return -errno;
		err = connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
		close(probe);
		if (err == 0)
			return -EADDRINUSE;
		if (err != ECONNREFUSED)
			return -err;
		unlink(s->path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(s->path, mode ? mode : 0600) < 0 || listen(fd, 16) < 0) {
		err = -errno;
		close(fd);
		unlink(s->path);
		return err;
	}
	s->lfd = fd;
	return 0;
}

static void given_free(struct nmd_ivshmem_server *s)
{
	unsigned v;

	for (v = 0; v < s->vectors; v++) {
		if (s->given_kick && s->given_kick[v] >= 0)
			close(s->given_kick[v]);
		if (s->given_bell && s->given_bell[v] >= 0)
			close(s->given_bell[v]);
	}
	free(s->given_kick);
	free(s->given_bell);
}

int nmd_ivshmem_server_new(const struct nmd_ivshmem_params *p,
			   struct nmd_ivshmem_server **out)
{
	struct nmd_ivshmem_server *s;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_PACK(EV_LISTEN, 0, 0, 0) };
	struct stat st;
	int err;

	if (!p || !p->path || !out || p->vectors < 1 || p->vectors > NMD_IVSHMEM_MAX_VECTORS ||
	    p->max_peers > NMD_IVSHMEM_MAX_PEERS || p->shm_fd < 0 ||
	    ((p->kick_fds || p->bell_fds) && p->max_peers != 1)) {
		nmd_warn("ivshmem: bad server parameters");
		return -EINVAL;
	}
	if (strlen(p->path) == 0 || strlen(p->path) >= sizeof(s->path)) {
		nmd_warn("ivshmem: socket path too long: %s", p->path);
		return -ENAMETOOLONG;
	}
	if (fstat(p->shm_fd, &st) < 0) {
		err = -errno;
		nmd_warn("ivshmem %s: fstat of the memory: %s", p->path, strerror(-err));
		return err;
	}
	if (!S_ISREG(st.st_mode) || !pow2((uint64_t)st.st_size)) {
		nmd_warn("ivshmem %s: the memory is %lld bytes: QEMU needs a power of two",
			 p->path, (long long)st.st_size);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->lfd = s->ep = s->shm = -1;
	memcpy(s->path, p->path, strlen(p->path) + 1);
	s->vectors = p->vectors;
	s->max_peers = p->max_peers ? p->max_peers : IVS_DEF_PEERS;
	s->next_id = 1;
	/* a joining peer needs 3 + vectors * (peers + 1) messages; leave
	 * room for the churn of the others on top of that */
	s->qmax = 4 * s->vectors * (s->max_peers + 2) + 64;
	if (p->ops)
		s->ops = *p->ops;
	s->arg = p->arg;
	if (p->kick_fds || p->bell_fds) {
		s->given_kick = malloc(s->vectors * sizeof(int));
		s->given_bell = malloc(s->vectors * sizeof(int));
		if (!s->given_kick || !s->given_bell) {
			free(s->given_kick);
			free(s->given_bell);
			s->given_kick = s->given_bell = NULL;
			err = -ENOMEM;
			goto fail;
		}
		err = 0;
		for (unsigned v = 0; v < s->vectors; v++)
			s->given_kick[v] = s->given_bell[v] = -1;
		/* our own copies: the caller's may close before we do */
		for (unsigned v = 0; v < s->vectors; v++) {
			if (p->kick_fds && p->kick_fds[v] >= 0 &&
			    (s->given_kick[v] = fcntl(p->kick_fds[v], F_DUPFD_CLOEXEC, 3)) < 0)
				err = -errno;
			if (p->bell_fds && p->bell_fds[v] >= 0 &&
			    (s->given_bell[v] = fcntl(p->bell_fds[v], F_DUPFD_CLOEXEC, 3)) < 0)
				err = -errno;
		}
		if (err)
			goto fail;
	}
	s->slot = calloc(s->max_peers, sizeof(*s->slot));
	/* 256 KB of address space, touched only where ids were used */
	s->idstate = calloc(IVS_MAX_ID + 1, sizeof(*s->idstate));
	if (!s->slot || !s->idstate) {
		err = -ENOMEM;
		goto fail;
	}
	s->shm = fcntl(p->shm_fd, F_DUPFD_CLOEXEC, 3);
	if (s->shm < 0) {
		err = -errno;
		goto fail;
	}
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->ep < 0) {
		err = -errno;
		goto fail;
	}
	err = listen_on(s, p->mode);
	if (err)
		goto fail;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &ev) < 0) {
		err = -errno;
		close(s->lfd);
		s->lfd = -1;
		unlink(s->path);
		goto fail;
	}
	nmd_info("ivshmem %s: serving %lld bytes, %u vectors, up to %u peers",
		 s->path, (long long)st.st_size, s->vectors, s->max_peers);
	*out = s;
	return 0;
fail:
	nmd_warn("ivshmem %s: %s", p->path, strerror(-err));
	if (s->ep >= 0)
		close(s->ep);
	if (s->shm >= 0)
		close(s->shm);
	given_free(s);
	free(s->slot);
	free(s->idstate);
	free(s);
	return err;
}

void nmd_ivshmem_server_free(struct nmd_ivshmem_server *s)
{
	unsigned i;

	if (!s)
		return;
	for (i = 0; i < s->max_peers; i++)
		if (s->slot[i])
			peer_kill(s->slot[i], "server closing");
	reap(s);
	if (s->lfd >= 0) {
		close(s->lfd);
		unlink(s->path);
	}
	close(s->ep);
	close(s->shm);
	given_free(s);
	free(s->slot);
	free(s->idstate);
	free(s);
}

int nmd_ivshmem_server_fd(const struct nmd_ivshmem_server *s)
{
	return s->ep;
}

int nmd_ivshmem_server_kick(struct nmd_ivshmem_server *s, uint16_t id, unsigned vector)
{
	const uint64_t one = 1;
	struct ivs_peer *p = NULL;
	unsigned i;

	for (i = 0; i < s->max_peers && !p; i++)
		if (s->slot[i] && s->slot[i]->id == id && s->slot[i]->joined && !s->slot[i]->dead)
			p = s->slot[i];
	if (!p)
		return -ENOENT;
	if (vector >= s->vectors)
		return -EINVAL;
	/* an eventfd write fails only on counter overflow (EAGAIN after
	 * 2^64-2 unread kicks): the guest has the kick pending anyway */
	if (write(p->kick[vector], &one, sizeof(one)) != (ssize_t)sizeof(one) && errno != EAGAIN)
		return -errno;
	return 0;
}

unsigned nmd_ivshmem_server_npeers(const struct nmd_ivshmem_server *s)
{
	return s->npeers;
}

/*
 * server.c - netmapd's control socket and event loop.
 *
 * One SOCK_SEQPACKET connection per port descriptor.  Requests are served
 * one at a time, in order, from a single thread: the control path is not
 * a fast path.  A client that sends anything malformed is disconnected;
 * nothing it does can stop the loop.
 *
 * Client lifetime has one owner, this file, and one way out,
 * client_drop(): it marks the client dead, unbinds it, closes its
 * connection and moves it to `buried`, exactly once whoever calls it and
 * however often.  A dead client gets no reply (its descriptor number may
 * already belong to something else) and its memory stays valid until the
 * current batch of events, which may still name it, is over.  Reaping
 * hung-up clients in the middle of a request never drops the client that
 * request came from: the loop sees its hang-up once the reply is out.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "nmd.h"
#include "unm_nmreq.h"

volatile int nmd_stop;
static struct nmd_client *clients;
static struct nmd_client *buried;	/* dropped during a batch, freed after it */
static struct nmd_client *serving;	/* the client whose request runs now */
static int the_ep = -1;
/* the batch of events being handled, for nmd_server_unwatch() */
static struct epoll_event *batch;
static int batch_n;
static int nclients;
static uint64_t instance_id;
static int reserve_fd = -1;		/* spare descriptor for EMFILE (accept) */

static void on_signal(int sig)
{
	(void)sig;
	nmd_stop = 1;
}

static int mkdir_parents(const char *path)
{
	char tmp[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	p = strrchr(tmp, '/');
	if (!p || p == tmp)
		return 0;
	*p = '\0';
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Take the instance lock, then bind the socket.  Returns the listening
 * socket, -EALREADY if another netmapd holds the lock, or -errno. */
int nmd_server_listen(const char *path, int *lockfd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char lockpath[sizeof(sa.sun_path) + 8];
	int fd, lk, err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		nmd_err("socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	err = mkdir_parents(path);
	if (err) {
		nmd_err("cannot create the directory of %s: %s", path, strerror(-err));
		return err;
	}
	{
		/* a directory somebody else made (or can write into) would let
		 * them put their own socket where our clients look for ours */
		char dir[sizeof(sa.sun_path)], why[256], *slash;

		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		else
			snprintf(dir, sizeof(dir), ".");
		err = unm_socket_dir_ok(dir, geteuid(), why, sizeof(why));
		if (err) {
			nmd_err("refusing to listen on %s: %s", path, why);
			return err;
		}
	}
	snprintf(lockpath, sizeof(lockpath), "%s.lock", path);
	lk = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lk < 0) {
		err = -errno;
		nmd_err("cannot open %s: %s", lockpath, strerror(errno));
		return err;
	}
	if (flock(lk, LOCK_EX | LOCK_NB) < 0) {
		close(lk);
		return -EALREADY;
	}
	/* we hold the lock: any socket file left there is stale */
	unlink(path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	strcpy(sa.sun_path, path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 128) < 0)
		goto fail;
	*lockfd = lk;
	return fd;
fail:
	err = -errno;
	nmd_err("cannot listen on %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	close(lk);
	return err;
}

/* Unbind and disconnect a client, once.  The struct itself is freed
 * after the current batch of events, which may still name it. */
static void client_drop(int ep, struct nmd_client *c, const char *why)
{
	struct nmd_client **pp;

	if (c->dead)
		return;
	c->dead = true;
	if (why)
		nmd_info("client %d disconnected: %s", (int)c->pid, why);
	nmd_unbind(c);
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	for (pp = &clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	nclients--;
	c->next = buried;
	buried = c;
}

static void free_buried(void)
{
	while (buried) {
		struct nmd_client *c = buried;

		buried = c->next;
		free(c);
	}
}

/*
 * Drop every client whose connection has already hung up.  netmap
 * unbinds inside close(); here the unbinding happens when we see the
 * hang-up, which the kernel signals the moment the last copy of the
 * descriptor is closed.  Calling this before a REGISTER makes "close,
 * then open the same rings again" behave as with the kernel, whatever
 * order the events come in.  The client being served is left alone (see
 * the top of the file).
 */
void nmd_reap_hangups(void)
{
	struct epoll_event evs[1024];
	int n, i;

	if (the_ep < 0)
		return;
	n = epoll_wait(the_ep, evs, 1024, 0);
	for (i = 0; i < n; i++) {
		struct nmd_client *c = evs[i].data.ptr;

		if (c && c->ep_type == NMD_EP_CLIENT && c != serving && !c->dead &&
		    (evs[i].events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)))
			client_drop(the_ep, c, NULL);
	}
}

static int reply_text(struct nmd_client *c, uint16_t type, int error, const void *payload,
		      uint32_t len, const int *fds, unsigned nfds, const char *text)
{
	struct unm_msg_hdr h = {
		.magic = UNM_WIRE_MAGIC, .version = UNM_WIRE_VERSION,
		.type = type, .len = len, .error = error,
	};

	if (c->dead)
		return -EPIPE;	/* its descriptor number may be another's now */
	return unm_wire_send(c->fd, &h, payload, error && text && *text ? text : NULL,
			     fds, nfds);
}

static int reply(struct nmd_client *c, uint16_t type, int error, const void *payload,
		 uint32_t len, const int *fds, unsigned nfds)
{
	return reply_text(c, type, error, payload, len, fds, nfds, NULL);
}

/* Say why a connection is refused, then close it (no client struct). */
static void refuse(int fd, int error, const char *why)
{
	struct unm_msg_hdr h = {
		.magic = UNM_WIRE_MAGIC, .version = UNM_WIRE_VERSION,
		.type = UNM_MSG_HELLO, .error = error,
	};

	unm_wire_send(fd, &h, NULL, why, NULL, 0);
	close(fd);
}

/*
 * Out of descriptors, accept() fails and leaves the listener readable:
 * looping on it would burn a CPU and fill the log.  So one descriptor is
 * kept in reserve; when accept() says EMFILE or ENFILE we give it up,
 * accept the client, tell it why it cannot be served, close it and take
 * the reserve again.  The log says so at most once every 10 s.
 */
static void out_of_fds(int lfd, int err)
{
	static time_t last_log;
	static unsigned long refused;
	char why[160];
	time_t now = time(NULL);
	int fd;

	refused++;
	if (now - last_log >= 10) {
		nmd_warn("out of file descriptors (%s): refusing new clients (%lu so far)",
			 strerror(err), refused);
		last_log = now;
	}
	if (reserve_fd >= 0) {
		close(reserve_fd);
		reserve_fd = -1;
	}
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0) {
		snprintf(why, sizeof(why), "netmapd is out of file descriptors (%s); "
			 "close some ports or raise its RLIMIT_NOFILE", strerror(err));
		refuse(fd, err, why);
	}
	reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

const char *nmd_current_holder(void)
{
	return serving && serving->grant ? serving->grant->holder : NULL;
}

bool nmd_server_has_loop(void)
{
	return the_ep >= 0;
}

/* What an event of a watch that went away points to: nothing happens. */
static void watch_gone(struct nmd_watch *w)
{
	(void)w;
}
static struct nmd_watch gone_watch = { .ep_type = NMD_EP_WATCH, .fd = -1, .cb = watch_gone };

int nmd_server_watch_grant(struct nmd_grant *g)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = g };

	if (the_ep < 0)
		return -ENOTCONN;	/* no event loop (the fuzzer) */
	return epoll_ctl(the_ep, EPOLL_CTL_ADD, g->lfd, &ev) < 0 ? -errno : 0;
}

void nmd_server_unwatch_grant(struct nmd_grant *g)
{
	int i;

	if (the_ep < 0)
		return;
	epoll_ctl(the_ep, EPOLL_CTL_DEL, g->lfd, NULL);
	/* g is freed once we return: its pending events in the batch
	 * being handled now lead nowhere */
	for (i = 0; i < batch_n; i++)
		if (batch[i].data.ptr == g)
			batch[i].data.ptr = &gone_watch;
}

void nmd_server_drop_grant_clients(const struct nmd_grant *g)
{
	struct nmd_client *c, *next;

	for (c = clients; c; c = next) {
		next = c->next;
		if (c->grant != g || c == serving)
			continue;
		/* its process still maps the rings: tell it they are gone */
		if (c->bind)
			nmd_binding_revoke(c->bind);
		client_drop(the_ep, c, "its grant was revoked");
	}
}

int nmd_server_watch(struct nmd_watch *w)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };

	if (the_ep < 0)
		return -ENOTCONN;	/* no event loop (the fuzzer) */
	w->ep_type = NMD_EP_WATCH;
	return epoll_ctl(the_ep, EPOLL_CTL_ADD, w->fd, &ev) < 0 ? -errno : 0;
}

void nmd_server_unwatch(struct nmd_watch *w)
{
	int i;

	if (the_ep < 0)
		return;
	epoll_ctl(the_ep, EPOLL_CTL_DEL, w->fd, NULL);
	/* w may be freed once we return: its pending events in the batch
	 * being handled now lead nowhere */
	for (i = 0; i < batch_n; i++)
		if (batch[i].data.ptr == w)
			batch[i].data.ptr = &gone_watch;
}

/* lfd: the main socket (g NULL) or a grant's */
static void client_accept(int ep, int lfd, struct nmd_grant *g)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
	struct nmd_client *c;
	int fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				out_of_fds(lfd, errno);
			else if (errno != EAGAIN && errno != EINTR)
				nmd_warn("accept: %s", strerror(errno));
			return;
		}
		/* a grant's socket is guarded by its file's owner and mode:
		 * whoever can connect to it is its holder */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
		    (!g && cred.uid != geteuid() && cred.uid != 0)) {
			char why[160];

			nmd_warn("refusing a client of another user (uid %d, pid %d)",
				 (int)cred.uid, (int)cred.pid);
			snprintf(why, sizeof(why), "this netmapd serves uid %u and root only, "
				 "not uid %u", (unsigned)geteuid(), (unsigned)cred.uid);
			refuse(fd, EACCES, why);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			refuse(fd, ENOMEM, "netmapd is out of memory");
			continue;
		}
		c->fd = fd;
		c->pid = cred.pid;
		c->uid = cred.uid;
		c->grant = g;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = clients;
		clients = c;
		nclients++;
		nmd_debug("client %d connected", (int)c->pid);
	}
}

/* Decode a flattened NMREQ in place.  Returns 0, or -EPROTO for a message
 * no honest library sends. */
static int decode_nmreq(char *p, uint32_t len, struct nmd_req *r)
{
	struct unm_msg_nmreq *m = (struct unm_msg_nmreq *)p;
	uint64_t off = sizeof(*m);
	int bsz;
	uint32_t i;

	if (len < sizeof(*m))
		return -EPROTO;
	bsz = unm_nmreq_body_size(m->hdr.nr_reqtype);
	if (m->nopts > UNM_WIRE_MAXOPTS || m->body_len % 8 ||
	    (bsz >= 0 && m->body_len != (uint32_t)bsz) || (bsz < 0 && m->body_len))
		return -EPROTO;
	r->msg = m;
	r->body = m->body_len ? p + off : NULL;
	off += m->body_len;
	for (i = 0; i < m->nopts; i++) {
		if (m->opt_body_len[i] % 8 || off + sizeof(struct nmreq_option) +
		    m->opt_body_len[i] > len)
			return -EPROTO;
		r->opt[i] = (struct nmreq_option *)(p + off);
		off += sizeof(struct nmreq_option);
		r->opt_body[i] = p + off;
		off += m->opt_body_len[i];
	}
	return off == len ? 0 : -EPROTO;
}

static int serve_nmreq(struct nmd_client *c, char *payload, uint32_t len)
{
	static char out[UNM_WIRE_MAX];
	struct nmd_req r;
	int err;

	memset(&r, 0, sizeof(r));
	if (decode_nmreq(payload, len, &r) < 0)
		return -EPROTO;
	err = nmd_request(c, &r);
	if (err && r.msg_text[0])
		nmd_info("client %d: %s", (int)c->pid, r.msg_text);
	memcpy(out, payload, len);
	if (!err && r.bind) {
		if (len + r.bind_len > sizeof(out) - sizeof(struct unm_msg_hdr)) {
			free(r.bind);
			nmd_unbind(c);
			return reply_text(c, UNM_MSG_NMREQ, ENOMEM, out, len, NULL, 0,
					  "the port's description does not fit in a reply");
		}
		memcpy(out + len, r.bind, r.bind_len);
		len += (uint32_t)r.bind_len;
		free(r.bind);
	}
	err = reply_text(c, UNM_MSG_NMREQ, -err, out, len, r.fds, err ? 0 : r.nfds,
			 r.msg_text);
	if (err < 0 && c->bind) {
		/* the client will never know it is bound */
		nmd_unbind(c);
	}
	return err;
}

/* A process that received the descriptor asks what it binds. */
static int serve_adopt(struct nmd_client *c)
{
	static char out[UNM_WIRE_MAX];
	struct unm_msg_adopt a = { 0 };
	struct nmd_req r;
	uint32_t len = sizeof(a);
	int err;

	memset(&r, 0, sizeof(r));
	err = nmd_bind_describe(c, &r);
	if (err)
		return reply_text(c, UNM_MSG_ADOPT, -err, NULL, 0, NULL, 0,
				  "cannot describe the binding");
	if (r.bind) {
		a.bound = 1;
		a.nr_flags = c->bind->nr_flags;
		if (sizeof(a) + r.bind_len > sizeof(out) - sizeof(struct unm_msg_hdr)) {
			free(r.bind);
			return reply_text(c, UNM_MSG_ADOPT, ENOMEM, NULL, 0, NULL, 0,
					  "the port's description does not fit in a reply");
		}
		memcpy(out + sizeof(a), r.bind, r.bind_len);
		len += (uint32_t)r.bind_len;
		free(r.bind);
		nmd_debug("client %d: binding of %s described for a process that received "
			  "the descriptor", (int)c->pid, c->bind->port->name);
	}
	memcpy(out, &a, sizeof(a));
	return reply(c, UNM_MSG_ADOPT, 0, out, len, r.fds, r.nfds);
}

static void client_serve(int ep, struct nmd_client *c)
{
	static char buf[UNM_WIRE_MAX];
	struct unm_msg_hdr *h = (struct unm_msg_hdr *)buf;
	char *payload = buf + sizeof(*h);
	unsigned nfds = 0;
	ssize_t n;
	int err = 0;

	n = unm_wire_recv(c->fd, buf, NULL, &nfds);
	if (n == -EAGAIN)
		return;
	if (n <= 0) {
		client_drop(ep, c, n == 0 ? NULL : strerror((int)-n));
		return;
	}
	if (h->version != UNM_WIRE_VERSION) {
		char why[128];

		nmd_warn("client %d speaks protocol version %u, this netmapd %u: refused",
			 (int)c->pid, h->version, UNM_WIRE_VERSION);
		snprintf(why, sizeof(why), "netmapd speaks control protocol version %u, "
			 "the library %u: use a netmapd of the same release",
			 UNM_WIRE_VERSION, h->version);
		reply_text(c, UNM_MSG_HELLO, EPROTONOSUPPORT, NULL, 0, NULL, 0, why);
		client_drop(ep, c, NULL);
		return;
	}
	serving = c;
	switch (h->type) {
	case UNM_MSG_HELLO: {
		struct unm_msg_hello hello = {
			.version = UNM_WIRE_VERSION, .pid = (uint32_t)getpid(),
			.instance = instance_id,
		};
		err = reply(c, UNM_MSG_HELLO, 0, &hello, sizeof(hello), NULL, 0);
		break;
	}
	case UNM_MSG_NMREQ:
		err = serve_nmreq(c, payload, h->len - h->text_len);
		break;
	case UNM_MSG_UNBIND:
		nmd_unbind(c);
		err = reply(c, UNM_MSG_UNBIND, 0, NULL, 0, NULL, 0);
		break;
	case UNM_MSG_CONFIG: {
		/* NIOCCONFIG: the switch's module answers (vale/) */
		char why[UNM_WIRE_TEXT_MAX] = "";
		uint32_t plen = h->len - h->text_len;
		int e = nmd_vale_config(c, payload, plen, why, sizeof(why));

		err = reply_text(c, UNM_MSG_CONFIG, -e, payload, e ? 0 : plen, NULL, 0, why);
		break;
	}
	case UNM_MSG_ADOPT:
		err = serve_adopt(c);
		break;
	default:
		err = -EPROTO;
	}
	serving = NULL;
	if (err < 0)
		client_drop(ep, c, err == -EPROTO ? "malformed message" : strerror(-err));
}

/*
 * The control protocol's fuzzer (tests/fuzz/fuzz_ctl.c) feeds netmapd's
 * request handling in-process: it queues messages on one end of a
 * socketpair and calls this with the other, which is served as a client
 * of pid `pid` until nothing is queued, then dropped as a client that
 * hung up.  Same code as for real clients, minus the event loop.
 */
void nmd_server_serve_fd(int fd, pid_t pid)
{
	struct nmd_client *c = calloc(1, sizeof(*c));
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (!c) {
		close(fd);
		return;
	}
	if (!instance_id)
		instance_id = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);
	c->fd = fd;
	c->pid = pid;
	c->uid = geteuid();
	c->next = clients;
	clients = c;
	nclients++;
	while (!c->dead && poll(&p, 1, 0) == 1 && (p.revents & POLLIN))
		client_serve(-1, c);
	client_drop(-1, c, NULL);
	free_buried();
}

static bool idle(void)
{
	return nclients == 0 && nmd_pipe_count() == 0 && !nmd_vale_busy() && !nmd_grants_exist() &&
	       !nmd_vm_busy();
}

int nmd_server_loop(int lfd, int idle_exit_sec)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL }, evs[64];
	struct sigaction sa;
	time_t idle_since = time(NULL);
	int ep, n, i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	instance_id = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);
	reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ep = the_ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) {
		nmd_err("epoll: %s", strerror(errno));
		return 1;
	}
	while (!nmd_stop) {
		n = epoll_wait(ep, evs, 64, 1000);
		if (n < 0 && errno != EINTR) {
			nmd_err("epoll_wait: %s", strerror(errno));
			break;
		}
		batch = evs;
		batch_n = n > 0 ? n : 0;
		for (i = 0; i < n; i++) {
			struct nmd_client *c = evs[i].data.ptr;

			if (!c) {
				client_accept(ep, lfd, NULL);
			} else if (c->ep_type == NMD_EP_GRANT) {
				client_accept(ep, ((struct nmd_grant *)(void *)c)->lfd,
					      (struct nmd_grant *)(void *)c);
			} else if (c->ep_type == NMD_EP_WATCH) {
				((struct nmd_watch *)(void *)c)->cb((struct nmd_watch *)(void *)c);
			} else if (!c->dead) {
				client_serve(ep, c);
			}
		}
		batch_n = 0;
		free_buried();
		if (!idle()) {
			idle_since = time(NULL);
		} else if (idle_exit_sec > 0 && time(NULL) - idle_since >= idle_exit_sec) {
			nmd_info("idle for %d s, exiting", idle_exit_sec);
			break;
		}
	}
	nmd_grants_fini();
	while (clients)
		client_drop(ep, clients, "netmapd stopping");
	free_buried();
	close(ep);
	the_ep = -1;
	if (reserve_fd >= 0)
		close(reserve_fd);
	reserve_fd = -1;
	nmd_info("stopped");
	return 0;
}

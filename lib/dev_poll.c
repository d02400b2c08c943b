/*
 * dev_poll.c - poll(), select() and epoll on port descriptors, with
 * netmap's meaning: POLLIN runs rxsync, POLLOUT runs txsync, every poll
 * pushes pending TX, and a descriptor is ready when cur != tail after the
 * sync.  Port descriptors mix with ordinary ones in one call.
 *
 * Blocking without busy waiting: when nothing is ready we set the
 * "app_sleep" flag of the rings we wait on, re-check, and sleep in the
 * kernel on the port's wake epoll (its eventfds), together with the
 * caller's other descriptors.  The other side writes the eventfd only if
 * the flag is set (unm_kick), so a busy pair makes no system calls.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/*
 * How long poll()/epoll_wait() keep re-checking the rings before they
 * sleep.  A wake-up through the kernel costs tens of microseconds on a
 * virtual machine, more than a whole batch takes to produce, so two
 * busy processes that slept each time one caught up with the other would
 * spend their time waking each other.  Re-checking for a few tens of
 * microseconds first lets a busy pair stay awake and make no system
 * calls, while an idle one still sleeps almost at once.  Set with
 * UNETMAP_POLL_SPIN_US (0: sleep at once).
 */
unsigned unm_poll_spin_us = 20;

#define WANT_TX (POLLOUT | POLLWRNORM)
#define WANT_RX (POLLIN | POLLRDNORM)

short unm_port_eval(struct unm_port *p, short events)
{
	short rev = 0, want_tx = events & WANT_TX, want_rx = events & WANT_RX;
	bool err = false, gone = false, ready;
	uint32_t i;

	if (!p->bound)
		return POLLERR;
	if (want_tx || !(p->nr_flags & NR_NO_TX_POLL)) {
		ready = false;
		for (i = 0; i < p->nrings[UNM_DIR_TX]; i++) {
			struct unm_ring *r = &p->ring[UNM_DIR_TX][i];

			/* rings with nothing pending are synced only while we
			 * still look for room */
			if ((!want_tx || ready) &&
			    *(volatile uint32_t *)&r->ring->head == r->ctl->hwcur)
				continue;
			if (unm_txsync(r) < 0)
				err = true;
			if (r->ring->cur != r->ring->tail)
				ready = true;
		}
		if (want_tx && ready)
			rev |= want_tx;
	}
	if (want_rx) {
		ready = false;
		for (i = 0; i < p->nrings[UNM_DIR_RX]; i++) {
			struct unm_ring *r = &p->ring[UNM_DIR_RX][i];

			if (unm_rxsync(r) < 0)
				err = true;
			if (r->ring->cur != r->ring->tail)
				ready = true;
		}
		if (ready)
			rev |= want_rx;
	}
	/* netmap says nothing when a pipe's other end goes away: the
	 * survivor waits, quietly, until a new peer opens it (upstream
	 * pkt-gen and bridge treat POLLERR as fatal).  Asked for with
	 * UNETMAP_PEER_HUP, we say POLLHUP, and POLLERR when nothing else is
	 * ready. */
	for (i = 0; p->peer_hup && i < p->nrings[UNM_DIR_TX] && !gone; i++)
		gone = atomic_load_explicit(&p->ring[UNM_DIR_TX][i].ctl->state,
					    memory_order_acquire) & UNM_RING_PEER_GONE;
	for (i = 0; p->peer_hup && i < p->nrings[UNM_DIR_RX] && !gone; i++)
		gone = atomic_load_explicit(&p->ring[UNM_DIR_RX][i].ctl->state,
					    memory_order_acquire) & UNM_RING_PEER_GONE;
	if (gone) {
		rev |= POLLHUP;
		if (!(rev & (WANT_RX | WANT_TX)))
			err = true;
	}
	if (err)
		rev |= POLLERR;
	return rev;
}

void unm_port_arm(struct unm_port *p, short events)
{
	uint32_t i;
	int d;

	if (!p->bound)
		return;
	for (d = 0; d < 2; d++) {
		if (!(events & (d == UNM_DIR_TX ? WANT_TX : WANT_RX)))
			continue;
		for (i = 0; i < p->nrings[d]; i++) {
			struct unm_ring *r = &p->ring[d][i];

			atomic_store_explicit(&r->ctl->app_sleep, 1, memory_order_relaxed);
			r->armed = true;
		}
	}
	/* F: orders the flag stores before the caller's re-check of the
	 * rings; pairs with the fence in unm_kick() */
	atomic_thread_fence(memory_order_seq_cst);
	/* kinds whose wake-ups are kernel sockets join them now (NICs) */
	if (p->ops->arm)
		p->ops->arm(p, true);
}

void unm_port_disarm(struct unm_port *p)
{
	uint32_t i;
	int d;

	for (d = 0; d < 2; d++) {
		for (i = 0; i < p->nrings[d]; i++) {
			struct unm_ring *r = &p->ring[d][i];

			if (r->armed) {
				atomic_store_explicit(&r->ctl->app_sleep, 0, memory_order_relaxed);
				r->armed = false;
			}
		}
	}
	if (p->bound && p->ops->arm)
		p->ops->arm(p, false);
}

/* Consume the wake-ups that made the port's wake epoll readable. */
static void drain(struct unm_port *p)
{
	struct epoll_event evs[8];

	while (unm_libc.epoll_wait(p->wake_ep, evs, 8, 0) == 8)
		;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Remaining time until deadline (-1: none) as a timespec; NULL = forever. */
static const struct timespec *remaining(int64_t deadline, struct timespec *ts)
{
	int64_t left;

	if (deadline < 0)
		return NULL;
	left = deadline - now_ns();
	if (left < 0)
		left = 0;
	ts->tv_sec = left / 1000000000;
	ts->tv_nsec = left % 1000000000;
	return ts;
}

/* Evaluate every port of the set into its revents; returns how many are
 * ready.  Ordinary descriptors are left alone. */
static int eval_ports(struct pollfd *fds, nfds_t n, struct unm_port **ports)
{
	int count = 0;
	nfds_t i;

	for (i = 0; i < n; i++) {
		if (ports[i]) {
			fds[i].revents = unm_port_eval(ports[i], fds[i].events);
			count += fds[i].revents != 0;
		}
	}
	return count;
}

/* Re-evaluate for up to unm_poll_spin_us (or the deadline); returns the
 * number of ports ready, with their revents set. */
static int spin_wait(struct pollfd *fds, nfds_t n, struct unm_port **ports, int64_t deadline)
{
	int64_t until = now_ns() + (int64_t)unm_poll_spin_us * 1000;
	int count;

	if (deadline >= 0 && deadline < until)
		until = deadline;
	do {
		__builtin_ia32_pause();
		count = eval_ports(fds, n, ports);
	} while (count == 0 && now_ns() < until);
	return count;
}

int unm_poll_common(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
		    const sigset_t *sigmask)
{
	struct pollfd tmp_small[32], *tmp = tmp_small;
	struct unm_port *ports_small[32], **ports = ports_small;
	static const struct timespec zero = { 0, 0 };
	struct timespec ts;
	int64_t deadline = -1;
	nfds_t i, nports = 0, nother = 0;
	int count = 0, r, rc = -1;
	bool fresh = false;

	if (n > 32) {
		tmp = malloc(n * sizeof(*tmp));
		ports = malloc(n * sizeof(*ports));
		if (!tmp || !ports) {
			free(tmp);
			free(ports);
			errno = ENOMEM;
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		ports[i] = unm_port_lookup(fds[i].fd);
		if (ports[i])
			nports++;
		else if (fds[i].fd >= 0)
			nother++;
	}
	for (;;) {
		/* fresh: the ports' revents already hold a current evaluation */
		if (!fresh)
			count = eval_ports(fds, n, ports);
		fresh = false;
		/* the clock is read only once we may have to wait: a poll that
		 * finds work at once (the busy case) costs no clock read */
		if (count == 0 && timeout && deadline < 0)
			deadline = now_ns() + (int64_t)timeout->tv_sec * 1000000000 +
				   timeout->tv_nsec;
		if (count == 0 && unm_poll_spin_us && (deadline < 0 || now_ns() < deadline))
			count = spin_wait(fds, n, ports, deadline);
		if (count > 0 || (deadline >= 0 && now_ns() >= deadline)) {
			/* ready (or out of time): look at the others once */
			if (nother) {
				for (i = 0; i < n; i++) {
					tmp[i] = fds[i];
					if (ports[i])
						tmp[i].fd = -1;
				}
				r = unm_libc.ppoll(tmp, n, &zero, sigmask);
				if (r < 0 && count == 0)
					goto out;
				for (i = 0; i < n; i++) {
					if (!ports[i]) {
						fds[i].revents = r < 0 ? 0 : tmp[i].revents;
						count += fds[i].revents != 0;
					}
				}
			}
			rc = count;
			goto out;
		}
		/* nothing ready: announce we sleep, re-check, sleep */
		for (i = 0; i < n; i++)
			if (ports[i])
				unm_port_arm(ports[i], fds[i].events);
		count = eval_ports(fds, n, ports);
		if (count) {
			for (i = 0; i < n; i++)
				if (ports[i])
					unm_port_disarm(ports[i]);
			fresh = true;
			continue;
		}
		for (i = 0; i < n; i++) {
			tmp[i] = fds[i];
			if (ports[i]) {
				tmp[i].fd = ports[i]->wake_ep;
				tmp[i].events = POLLIN;
			}
		}
		r = unm_libc.ppoll(tmp, n, remaining(deadline, &ts), sigmask);
		for (i = 0; i < n; i++) {
			if (ports[i]) {
				unm_port_disarm(ports[i]);
				if (r > 0 && tmp[i].revents)
					drain(ports[i]);
			}
		}
		if (r < 0)
			goto out;
		count = eval_ports(fds, n, ports);
		for (i = 0; i < n; i++) {
			if (!ports[i]) {
				fds[i].revents = tmp[i].revents;
				count += fds[i].revents != 0;
			}
		}
		if (count > 0 || (deadline >= 0 && now_ns() >= deadline)) {
			rc = count;
			goto out;
		}
		fresh = true;	/* nothing ready: no need to evaluate again */
	}
out:
	if (tmp != tmp_small) {
		free(tmp);
		free(ports);
	}
	return rc;
}

/* ---- epoll ---- */

struct ep_rec {
	int epfd;
	int fd;
	struct unm_port *port;
	uint32_t events;
	epoll_data_t data;
	struct ep_rec *next;
};

static struct ep_rec *recs;
static pthread_mutex_t recs_lock = PTHREAD_MUTEX_INITIALIZER;

static struct ep_rec *rec_find(int epfd, int fd)
{
	struct ep_rec *r;

	for (r = recs; r; r = r->next)
		if (r->epfd == epfd && r->fd == fd)
			return r;
	return NULL;
}

int unm_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev, bool *handled)
{
	struct unm_port *p = unm_port_lookup(fd);
	struct epoll_event wev = { .events = EPOLLIN };
	struct ep_rec *r, **pp;
	int rc = 0;

	*handled = p != NULL;
	if (!p)
		return 0;
	pthread_mutex_lock(&recs_lock);
	r = rec_find(epfd, fd);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (r) {
			rc = -EEXIST;
			break;
		}
		r = calloc(1, sizeof(*r));
		if (!r) {
			rc = -ENOMEM;
			break;
		}
		r->epfd = epfd;
		r->fd = fd;
		r->port = p;
		r->events = ev ? ev->events : 0;
		r->data = ev ? ev->data : (epoll_data_t){ 0 };
		wev.data.ptr = r;
		if (unm_libc.epoll_ctl(epfd, EPOLL_CTL_ADD, p->wake_ep, &wev) < 0) {
			rc = -errno;
			free(r);
			break;
		}
		r->next = recs;
		recs = r;
		break;
	case EPOLL_CTL_MOD:
		if (!r) {
			rc = -ENOENT;
			break;
		}
		r->events = ev ? ev->events : 0;
		r->data = ev ? ev->data : (epoll_data_t){ 0 };
		break;
	case EPOLL_CTL_DEL:
		if (!r) {
			rc = -ENOENT;
			break;
		}
		unm_libc.epoll_ctl(epfd, EPOLL_CTL_DEL, p->wake_ep, NULL);
		for (pp = &recs; *pp; pp = &(*pp)->next) {
			if (*pp == r) {
				*pp = r->next;
				break;
			}
		}
		free(r);
		break;
	default:
		rc = -EINVAL;
	}
	pthread_mutex_unlock(&recs_lock);
	return rc;
}

void unm_epoll_forget_port(struct unm_port *p)
{
	struct ep_rec **pp, *r;

	pthread_mutex_lock(&recs_lock);
	for (pp = &recs; (r = *pp);) {
		if (r->port == p) {
			*pp = r->next;
			free(r);
		} else {
			pp = &r->next;
		}
	}
	pthread_mutex_unlock(&recs_lock);
}

static short ep_to_poll(uint32_t e)
{
	return (short)(((e & EPOLLIN) ? POLLIN : 0) | ((e & EPOLLOUT) ? POLLOUT : 0) |
		       ((e & EPOLLRDNORM) ? POLLRDNORM : 0) | ((e & EPOLLWRNORM) ? POLLWRNORM : 0));
}

static uint32_t poll_to_ep(short r)
{
	return ((r & POLLIN) ? EPOLLIN : 0) | ((r & POLLOUT) ? EPOLLOUT : 0) |
	       ((r & POLLRDNORM) ? EPOLLRDNORM : 0) | ((r & POLLWRNORM) ? EPOLLWRNORM : 0) |
	       ((r & POLLERR) ? EPOLLERR : 0) | ((r & POLLHUP) ? EPOLLHUP : 0);
}

/* Evaluate every port registered in this epoll set; fill evs. */
static int ep_eval(struct ep_rec **snap, int ns, struct epoll_event *evs, int max)
{
	int i, n = 0;

	for (i = 0; i < ns && n < max; i++) {
		short rev = unm_port_eval(snap[i]->port, ep_to_poll(snap[i]->events));

		if (rev) {
			evs[n].events = poll_to_ep(rev);
			evs[n].data = snap[i]->data;
			n++;
		}
	}
	return n;
}

/* Drop our own records from what the kernel returned. */
static int ep_filter(struct ep_rec **snap, int ns, struct epoll_event *evs, int n)
{
	int i, j, k = 0;

	for (i = 0; i < n; i++) {
		bool ours = false;

		for (j = 0; j < ns; j++) {
			if (evs[i].data.ptr == snap[j]) {
				drain(snap[j]->port);
				ours = true;
				break;
			}
		}
		if (!ours)
			evs[k++] = evs[i];
	}
	return k;
}

int unm_epoll_wait_common(int epfd, struct epoll_event *evs, int max, int timeout_ms,
			  const sigset_t *sigmask)
{
	struct ep_rec *snap_small[16], **snap = snap_small, *r;
	int64_t deadline = -1;
	int ns = 0, cap = 16, n, k, i, rc = -1;

	pthread_mutex_lock(&recs_lock);
	for (r = recs; r; r = r->next) {
		if (r->epfd != epfd)
			continue;
		if (ns == cap) {
			struct ep_rec **nsnap = malloc(sizeof(*nsnap) * (size_t)cap * 2);

			if (!nsnap)
				break;
			memcpy(nsnap, snap, sizeof(*snap) * (size_t)ns);
			if (snap != snap_small)
				free(snap);
			snap = nsnap;
			cap *= 2;
		}
		snap[ns++] = r;
	}
	pthread_mutex_unlock(&recs_lock);
	if (ns == 0)
		return unm_libc.epoll_pwait(epfd, evs, max, timeout_ms, sigmask);
	if (max <= 0) {
		errno = EINVAL;
		goto out;
	}
	for (;;) {
		n = ep_eval(snap, ns, evs, max);
		/* read the clock only once we may have to wait */
		if (n == 0 && timeout_ms >= 0 && deadline < 0)
			deadline = now_ns() + (int64_t)timeout_ms * 1000000;
		if (n == 0 && unm_poll_spin_us && (deadline < 0 || now_ns() < deadline)) {
			int64_t until = now_ns() + (int64_t)unm_poll_spin_us * 1000;

			if (deadline >= 0 && deadline < until)
				until = deadline;
			while (n == 0 && now_ns() < until) {
				__builtin_ia32_pause();
				n = ep_eval(snap, ns, evs, max);
			}
		}
		if (n > 0 || (deadline >= 0 && now_ns() >= deadline)) {
			if (n < max) {
				k = unm_libc.epoll_pwait(epfd, evs + n, max - n, 0, sigmask);
				if (k > 0)
					n += ep_filter(snap, ns, evs + n, k);
			}
			rc = n;
			goto out;
		}
		for (i = 0; i < ns; i++)
			unm_port_arm(snap[i]->port, ep_to_poll(snap[i]->events));
		n = ep_eval(snap, ns, evs, max);
		if (n > 0) {
			for (i = 0; i < ns; i++)
				unm_port_disarm(snap[i]->port);
			rc = n;
			goto out;
		}
		{
			int64_t left = deadline < 0 ? -1 : (deadline - now_ns()) / 1000000;

			k = unm_libc.epoll_pwait(epfd, evs, max, deadline < 0 ? -1 :
						 (int)(left < 0 ? 0 : left), sigmask);
		}
		for (i = 0; i < ns; i++)
			unm_port_disarm(snap[i]->port);
		if (k < 0)
			goto out;
		k = ep_filter(snap, ns, evs, k);
		n = k + ep_eval(snap, ns, evs + k, max - k);
		if (n > 0 || (deadline >= 0 && now_ns() >= deadline)) {
			rc = n;
			goto out;
		}
	}
out:
	if (snap != snap_small)
		free(snap);
	return rc;
}

/*
 * nic.c - netmap:IFNAME ports: the registry, per-process NIC regions,
 * network namespaces, the REGISTER hooks request.c calls, and the link
 * monitor.  The AF_XDP and AF_PACKET sockets are made in nic_xdp.c and
 * nic_packet.c; the design is in nic.h.
 *
 * Names resolve in the caller's network namespace, as the kernel's ioctl
 * would: netmapd enters the namespace of the client process (SO_PEERCRED
 * pid) on its main thread while it creates sockets and attaches the
 * program, and again to detach them.  Sockets stay in the namespace they
 * were made in.
 *
 * The link monitor is one thread with an rtnetlink socket per port (made
 * in the port's namespace).  When the interface goes down, comes back up,
 * or disappears, it sets or clears UNM_RING_DEV_DOWN / UNM_RING_DEV_GONE
 * in every ring's control block and wakes the binders; the library's
 * syncs then fail (poll() reports POLLERR) instead of waiting forever.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

#include "nic.h"
#include "unm_veth.h"

pthread_mutex_t nic_lock = PTHREAD_MUTEX_INITIALIZER;

static struct nic_port *ports;		/* main thread; monitor under nic_lock */
static struct nic_region *regions;	/* main thread only */
static uint64_t def_mode;		/* --nic-mode */
static bool disabled;			/* --no-nic */

bool nmd_nic_disabled(char *msg, size_t msglen)
{
	if (disabled)
		snprintf(msg, msglen, "this netmapd serves no network interfaces (--no-nic)");
	return disabled;
}
static uint32_t def_bufs = NIC_DEF_BUFS;	/* --nic-bufs */
static struct stat self_ns;

/* ---- network namespaces ---- */

static int ns_open_pid(pid_t pid, int *fd, struct stat *st)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	if (fstat(*fd, st) < 0) {
		int err = -errno;

		close(*fd);
		*fd = -1;
		return err;
	}
	return 0;
}

static bool ns_is_self(const struct stat *st)
{
	return st->st_dev == self_ns.st_dev && st->st_ino == self_ns.st_ino;
}

/* Enter the namespace of fd (if it is not ours).  *saved is what
 * ns_leave() needs to come back.  0 or -errno. */
static int ns_enter(int fd, const struct stat *st, int *saved)
{
	*saved = -1;
	if (ns_is_self(st))
		return 0;
	*saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET) < 0) {
		int err = -errno;

		close(*saved);
		*saved = -1;
		return err;
	}
	return 0;
}

static void ns_leave(int saved)
{
	if (saved < 0)
		return;
	if (setns(saved, CLONE_NEWNET) < 0) {
		/* cannot happen with a namespace we were in; staying in the
		 * wrong one would misresolve every later name */
		nmd_err("cannot return to netmapd's network namespace: %s", strerror(errno));
		abort();
	}
	close(saved);
}

/* ---- interface facts (in the interface's namespace) ---- */

static int if_query(const char *name, uint32_t *mtu, uint32_t *nq, bool *up)
{
	struct ethtool_channels ch;
	struct ifreq ifr;
	int s, err = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFMTU, &ifr) < 0) {
		err = -errno;
		goto out;
	}
	*mtu = (uint32_t)ifr.ifr_mtu;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		err = -errno;
		goto out;
	}
	*up = (ifr.ifr_flags & IFF_UP) != 0;
	/* one ring pair per queue (channel); drivers without channels
	 * have one */
	memset(&ch, 0, sizeof(ch));
	ch.cmd = ETHTOOL_GCHANNELS;
	ifr.ifr_data = (void *)&ch;
	*nq = 1;
	if (ioctl(s, SIOCETHTOOL, &ifr) == 0) {
		uint32_t rx = ch.rx_count + ch.combined_count;
		uint32_t tx = ch.tx_count + ch.combined_count;
		uint32_t n = rx < tx ? rx : tx;

		if (n > 0)
			*nq = n;
	}
out:
	close(s);
	return err;
}

/* ---- NIC regions ---- */

int nic_region_umem_fd(const struct nic_region *nr, const struct nic_port *self,
		       enum nic_umem_kind k)
{
	const struct nic_port *np;
	uint32_t i;

	for (np = ports; np; np = np->next) {
		if (np == self || np->nr != nr || !np->q || np->gone)
			continue;
		for (i = 0; i < np->nq; i++)
			if (np->q[i].xsk >= 0 && np->q[i].umem == k)
				return np->q[i].xsk;
	}
	return -1;
}

/* Drop a region that no port uses (it goes with its last reference:
 * pipes on an interface name may still hold it). */
static void region_drop(struct nic_region *nr)
{
	struct nic_region **pp;

	for (pp = &regions; *pp; pp = &(*pp)->next) {
		if (*pp == nr) {
			*pp = nr->next;
			break;
		}
	}
	nmd_region_unref(nr->rg);
	free(nr);
}

/*
 * A process's NIC region with no port in it (PORT_INFO_GET made it, so
 * that the id it answered is the one REGISTER then gives, or the
 * process's last port closed) stays until the process is gone.  There is
 * no hook for a client's departure here, so the regions of dead
 * processes are swept whenever NIC regions are looked up or released.
 */
static void regions_sweep(void)
{
	struct nic_region *nr, *next;

	for (nr = regions; nr; nr = next) {
		next = nr->next;
		if (nr->nports == 0 && kill(nr->pid, 0) < 0 && errno == ESRCH) {
			nmd_debug("region %u: reserved by process %d, which is gone", nr->rg->mem_id,
				  (int)nr->pid);
			region_drop(nr);
		}
	}
}

/*
 * The region a new port of process pid lives in: the one asked for with
 * nr_mem_id (it must be a NIC region), else the process's NIC region if
 * it has room for `need` buffers, else a new one (with no port yet: the
 * caller counts its port in nports).
 */
static struct nic_region *region_get(pid_t pid, uint16_t mem_id, uint32_t need,
				     char *msg, size_t msglen, int *err)
{
	struct nmd_region_params rp;
	struct nic_region *nr, *full = NULL;

	regions_sweep();
	for (nr = regions; nr; nr = nr->next) {
		if (mem_id) {
			if (nr->rg->mem_id != mem_id)
				continue;
			if (!nmd_region_shareable(nr->rg, msg, msglen)) {
				*err = -EPERM;
				return NULL;
			}
			if (nr->rg->buf_free < need) {
				snprintf(msg, msglen, "NIC region %u has %u free buffers, %u needed",
					 mem_id, nr->rg->buf_free, need);
				*err = -ENOMEM;
				return NULL;
			}
			return nr;
		}
		if (nr->pid != pid || nr->rg->sealed_for[0])
			continue;
		if (nr->rg->buf_free >= need)
			return nr;
		full = nr;
	}
	if (mem_id) {
		snprintf(msg, msglen, "region %u cannot back an interface: only NIC regions "
			 "(pinned as AF_XDP UMEM) can; open without @%u", mem_id, mem_id);
		*err = -EINVAL;
		return NULL;
	}
	nr = calloc(1, sizeof(*nr));
	if (!nr) {
		*err = -ENOMEM;
		return NULL;
	}
	nmd_region_default_params(&rp);
	/* UMEM registration pins the buffer pool: keep it small */
	rp.buf_size = NMD_NIC_BUF_SIZE;
	rp.buf_total = def_bufs;
	if (rp.buf_total < need + 2)
		rp.buf_total = (need + 2 + 1023) & ~1023u;
	nr->rg = nmd_region_new(&rp, err);
	if (!nr->rg) {
		snprintf(msg, msglen, "cannot create a NIC region: %s", strerror(-*err));
		free(nr);
		return NULL;
	}
	/* the list's own reference; ports (and pipes) add theirs */
	nmd_region_ref(nr->rg);
	nr->pid = pid;
	nr->next = regions;
	regions = nr;
	if (full)
		nmd_info("client %d: NIC region %u is full; region %u opened (no zero-copy "
			 "forwarding between the two)", (int)pid, full->rg->mem_id, nr->rg->mem_id);
	return nr;
}

/*
 * A port of the region went away.  The last one leaves the region to its
 * process, with the pages of its buffers given back: the process keeps
 * its region id, as netmap's interfaces keep region 1, so that an id it
 * was told (PORT_INFO_GET, @share=) stays true while it lives.
 */
static void region_put(struct nic_region *nr)
{
	if (--nr->nports > 0)
		return;
	nmd_region_trim(nr->rg, 0, nr->rg->buf_total - 1);
	regions_sweep();
}

/* Buffers a port of nq queues with `slots` slots takes from its region. */
static uint32_t port_bufs(uint32_t nq, uint32_t slots, bool spares)
{
	return nq * (2 * slots + (spares ? nic_rx_spares(slots, nq) : 0));
}

/* ---- link monitor ---- */

static pthread_t mon_thr;
static int mon_ep = -1, mon_stop = -1;
static bool mon_running;
static uint32_t watch_next;

/* Reflect the link state in every ring; wake the binders.  nic_lock held. */
static void link_apply(struct nic_port *np, bool down, bool gone)
{
	struct nmd_port *p = &np->port;
	uint32_t set = 0, clr, i;
	int d;

	if (down == np->down && gone == np->gone)
		return;
	if (gone && !np->gone)
		nmd_info("%s: interface removed; its netmap rings report errors", np->ifname);
	else if (down != np->down)
		nmd_info("%s: link %s", np->ifname, down ? "down" : "up");
	np->down = down;
	np->gone = gone;
	if (down)
		set |= UNM_RING_DEV_DOWN;
	if (gone)
		set |= UNM_RING_DEV_GONE;
	clr = ~set & (UNM_RING_DEV_DOWN | UNM_RING_DEV_GONE);
	for (d = 0; d < 2; d++) {
		for (i = 0; i < p->nrings[d]; i++) {
			struct unm_ring_ctl *ctl = nmd_ring_ctl(p, &p->ring[d][i]);

			/* R: pairs with the acquire load of the binders' syncs */
			atomic_fetch_or_explicit(&ctl->state, set, memory_order_release);
			atomic_fetch_and_explicit(&ctl->state, ~clr, memory_order_release);
		}
	}
	nmd_port_kick(p);
}

static int link_request(int nl, int ifindex)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = RTM_GETLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = ifindex;
	return send(nl, &req, sizeof(req), 0) < 0 ? -errno : 0;
}

/* Read what the netlink socket has.  nic_lock held. */
static void link_read(struct nic_port *np)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	bool down = np->down, gone = np->gone;

	for (;;) {
		ssize_t n = recv(np->nl, buf, sizeof(buf), MSG_DONTWAIT);
		struct nlmsghdr *nh;
		size_t len;

		if (n < 0) {
			if (errno == ENOBUFS) {
				/* events were lost: ask for the state again */
				link_request(np->nl, np->ifindex);
				continue;
			}
			break;
		}
		if (n == 0)
			break;
		len = (size_t)n;
		for (nh = (struct nlmsghdr *)(void *)buf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			const struct ifinfomsg *ifi;

			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				/* our GETLINK found no such interface */
				if (nh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error == -ENODEV)
					gone = true;
				continue;
			}
			if ((nh->nlmsg_type != RTM_NEWLINK && nh->nlmsg_type != RTM_DELLINK) ||
			    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
				continue;
			ifi = NLMSG_DATA(nh);
			if (ifi->ifi_index != np->ifindex)
				continue;
			if (nh->nlmsg_type == RTM_DELLINK)
				gone = true;
			else
				down = !(ifi->ifi_flags & IFF_UP);
		}
	}
	link_apply(np, down, gone);
}

static void *mon_main(void *arg)
{
	struct epoll_event evs[16];

	(void)arg;
	for (;;) {
		int n = epoll_wait(mon_ep, evs, 16, -1), i;

		if (n < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			struct nic_port *np;

			if (evs[i].data.u64 == 0)
				return NULL;	/* mon_stop */
			pthread_mutex_lock(&nic_lock);
			for (np = ports; np; np = np->next)
				if (np->nl >= 0 && np->watch_id == (uint32_t)evs[i].data.u64)
					break;
			if (np)
				link_read(np);
			pthread_mutex_unlock(&nic_lock);
		}
	}
	return NULL;
}

static int mon_start(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
	int err;

	if (mon_running)
		return 0;
	mon_ep = epoll_create1(EPOLL_CLOEXEC);
	mon_stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (mon_ep < 0 || mon_stop < 0 || epoll_ctl(mon_ep, EPOLL_CTL_ADD, mon_stop, &ev) < 0) {
		err = -errno;
		goto fail;
	}
	err = -pthread_create(&mon_thr, NULL, mon_main, NULL);
	if (err)
		goto fail;
	mon_running = true;
	return 0;
fail:
	if (mon_ep >= 0)
		close(mon_ep);
	if (mon_stop >= 0)
		close(mon_stop);
	mon_ep = mon_stop = -1;
	return err;
}

/* Start watching np's link; called inside its namespace. */
static int watch_start(struct nic_port *np)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	struct epoll_event ev = { .events = EPOLLIN };
	int fd, err;

	err = mon_start();
	if (err)
		return err;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	pthread_mutex_lock(&nic_lock);
	if (++watch_next == 0)
		watch_next = 1;
	np->watch_id = watch_next;
	np->nl = fd;
	ev.data.u64 = np->watch_id;
	if (epoll_ctl(mon_ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		err = -errno;
		np->nl = -1;
		pthread_mutex_unlock(&nic_lock);
		close(fd);
		return err;
	}
	/* the state now; later changes arrive as events */
	link_request(fd, np->ifindex);
	pthread_mutex_unlock(&nic_lock);
	return 0;
}

static void watch_stop(struct nic_port *np)
{
	pthread_mutex_lock(&nic_lock);
	if (np->nl >= 0) {
		epoll_ctl(mon_ep, EPOLL_CTL_DEL, np->nl, NULL);
		close(np->nl);
		np->nl = -1;
	}
	pthread_mutex_unlock(&nic_lock);
}

/* ---- ports ---- */

static struct nic_port *port_find(const struct stat *ns, const char *name)
{
	struct nic_port *np;

	for (np = ports; np; np = np->next) {
		bool gone;

		if (np->ns_dev != ns->st_dev || np->ns_ino != ns->st_ino ||
		    strcmp(np->ifname, name) != 0)
			continue;
		pthread_mutex_lock(&nic_lock);
		gone = np->gone;
		pthread_mutex_unlock(&nic_lock);
		/* a deleted interface's port lingers until its binders go;
		 * an interface of the same name is another port */
		if (!gone)
			return np;
	}
	return NULL;
}

static void port_unlink(struct nic_port *np)
{
	struct nic_port **pp;

	pthread_mutex_lock(&nic_lock);
	for (pp = &ports; *pp; pp = &(*pp)->next) {
		if (*pp == np) {
			*pp = np->next;
			break;
		}
	}
	pthread_mutex_unlock(&nic_lock);
}

/* What UNM_REQ_NIC_INFO tells of np, counters included. */
static void port_describe(struct nic_port *np, struct unm_nic_info *ni)
{
	memset(ni, 0, sizeof(*ni));
	ni->mode = np->mode;
	ni->queues = np->nq;
	ni->slots = np->nslots;
	ni->rx_spares = np->q ? np->q[0].spare_n : 0;
	ni->link = !np->peer || np->peer->peer != np || np->peer->kept ? UNM_NIC_LINK_NONE :
		   np->kept ? UNM_NIC_LINK_KEPT : UNM_NIC_LINK_PEER;
	if (np->veth)
		ni->link_drops = nic_veth_drops(np);
	if (np->pkt >= 0)
		nic_packet_stats(np, ni);
	else
		nic_xdp_stats(np, ni);
}

/* Undo everything of a port that nobody binds (or that failed to open).
 * Enters the port's namespace to detach. */
static void port_destroy(struct nic_port *np)
{
	struct unm_nic_info ni;
	bool opened = np->port.nbind > 0 || np->port.was_bound;
	struct stat st;
	int saved = -1;

	/* the kernel's counters go with the sockets: log them first, the
	 * numbers a user needs to see where frames were lost */
	if (opened) {
		port_describe(np, &ni);
		nmd_info("%s: kernel drops: rx %llu (RX ring full %llu, fill ring empty %llu), "
			 "invalid descriptors rx %llu tx %llu", np->ifname,
			 (unsigned long long)ni.rx_drops, (unsigned long long)ni.rx_ring_full,
			 (unsigned long long)ni.rx_fill_empty, (unsigned long long)ni.rx_invalid,
			 (unsigned long long)ni.tx_invalid);
	}
	if (np->peer && np->peer->peer == np)
		np->peer->peer = NULL;
	np->peer = NULL;
	watch_stop(np);
	port_unlink(np);
	if (np->nsfd >= 0 && fstat(np->nsfd, &st) == 0 && ns_enter(np->nsfd, &st, &saved) < 0)
		nmd_warn("%s: cannot enter its network namespace to detach: %s", np->ifname,
			 strerror(errno));
	if (np->pkt >= 0)
		nic_packet_teardown(np);
	nic_xdp_teardown(np);
	ns_leave(saved);
	if (nmd_named_find(np->port.name) == &np->port)
		nmd_named_del(&np->port);
	if (np->port.ring[0] || np->port.ring[1])
		nmd_port_free_rings(&np->port, true);
	if (np->nr)
		region_put(np->nr);
	if (np->port.rg)
		nmd_region_unref(np->port.rg);
	if (np->nsfd >= 0)
		close(np->nsfd);
	if (np->gone)
		nmd_info("%s: released (the interface is gone)", np->ifname);
	else
		nmd_info("%s: released; the kernel stack has the interface back", np->ifname);
	free(np);
}

/* An open port must be asked for in a compatible way. */
static bool mode_compatible(uint64_t have, uint64_t want)
{
	const uint64_t att = NR_UNM_NIC_NATIVE | NR_UNM_NIC_GENERIC | NR_UNM_NIC_EMULATED;
	const uint64_t bnd = NR_UNM_NIC_ZEROCOPY | NR_UNM_NIC_COPY;

	if ((want & att) && (want & att) != (have & att))
		return false;
	if ((want & bnd) && (want & bnd) != (have & bnd))
		return false;
	return true;
}

static uint32_t rx_room(const struct nic_port *np)
{
	uint32_t bs = np->port.rg->buf_size;

	return np->pkt >= 0 ? bs : bs - np->rx_back;
}

static int nic_open(struct nmd_client *c, const char *name, struct nmreq_register *reg,
		    struct nmd_port **out, char *msg, size_t msglen)
{
	uint64_t want = reg->nr_flags & NR_UNM_NIC_MASK;
	struct nmd_ring_req rq;
	struct nic_port *np;
	struct stat st;
	char mbuf[48];
	uint32_t mtu = 0, nq = 1, need;
	bool up = true;
	int nsfd = -1, saved = -1, err, ifindex;

	if (nmd_nic_disabled(msg, msglen))
		return -ENXIO;
	if (reg->nr_mode == NR_REG_SW || reg->nr_mode == NR_REG_NIC_SW ||
	    reg->nr_mode == NR_REG_ONE_SW) {
		snprintf(msg, msglen, "%s: host rings are not supported on interfaces "
			 "(no faithful way to take over the host stack's traffic; see "
			 "docs/design.md)", name);
		return -EOPNOTSUPP;
	}
	if (reg->nr_flags & ~(uint64_t)(NR_UNM_NIC_MASK | NR_EXCLUSIVE | NR_RX_RINGS_ONLY |
					NR_TX_RINGS_ONLY | NR_ACCEPT_VNET_HDR | NR_DO_RX_POLL |
					NR_NO_TX_POLL | 0x1000)) {
		snprintf(msg, msglen, "%s: unsupported register flags 0x%llx", name,
			 (unsigned long long)reg->nr_flags);
		return -EINVAL;
	}
	if (!want)
		want = def_mode;
	if (unm_nic_mode_check(want) < 0) {
		snprintf(msg, msglen, "%s: contradictory interface mode %s", name,
			 unm_nic_mode_str(want, mbuf, sizeof(mbuf)));
		return -EINVAL;
	}
	if (strlen(name) >= IFNAMSIZ || strchr(name, '/') || strchr(name, ':')) {
		snprintf(msg, msglen, "%s: no such port or interface", name);
		return -ENXIO;
	}
	err = ns_open_pid(c->pid, &nsfd, &st);
	if (err) {
		snprintf(msg, msglen, "%s: cannot find the network namespace of process %d: %s",
			 name, (int)c->pid, strerror(-err));
		return err == -ENOENT ? -ESRCH : err;
	}
	np = port_find(&st, name);
	if (np) {
		close(nsfd);
		if (!mode_compatible(np->mode, want)) {
			snprintf(msg, msglen, "%s is open in %s mode already", name,
				 unm_nic_mode_str(np->mode, mbuf, sizeof(mbuf)));
			return -EBUSY;
		}
		if (reg->nr_mem_id && reg->nr_mem_id != np->port.rg->mem_id) {
			snprintf(msg, msglen, "%s lives in memory region %u, not %u", name,
				 np->port.rg->mem_id, reg->nr_mem_id);
			return -EINVAL;
		}
		*out = &np->port;
		return 0;
	}
	err = ns_enter(nsfd, &st, &saved);
	if (err) {
		snprintf(msg, msglen, "%s: netmapd cannot enter the caller's network namespace "
			 "(it needs CAP_SYS_ADMIN): %s", name, strerror(-err));
		close(nsfd);
		return err;
	}
	ifindex = (int)if_nametoindex(name);
	if (ifindex == 0) {
		snprintf(msg, msglen, "%s: no such port or interface", name);
		err = -ENXIO;
		goto fail_ns;
	}
	err = if_query(name, &mtu, &nq, &up);
	if (err) {
		snprintf(msg, msglen, "%s: cannot query the interface: %s", name, strerror(-err));
		goto fail_ns;
	}
	if (mtu + NIC_L2_HDR > NMD_NIC_BUF_SIZE && !(reg->nr_flags & NR_TX_RINGS_ONLY)) {
		snprintf(msg, msglen, "%s: MTU %u does not fit a %u-byte buffer (netmap cannot "
			 "receive it without NS_MOREFRAG); lower the MTU", name, mtu,
			 NMD_NIC_BUF_SIZE);
		err = -EINVAL;
		goto fail_ns;
	}
	if (nq > NIC_MAX_QUEUES) {
		nmd_warn("%s has %u queues; netmap rings for the first %u only", name, nq,
			 NIC_MAX_QUEUES);
		nq = NIC_MAX_QUEUES;
	}
	np = calloc(1, sizeof(*np));
	if (!np) {
		err = -ENOMEM;
		goto fail_ns;
	}
	snprintf(np->ifname, sizeof(np->ifname), "%s", name);
	snprintf(np->port.name, sizeof(np->port.name), "%s", name);
	np->port.ops = &nmd_nic_ops;
	np->port.wake[0] = np->port.wake[1] = np->port.hw_kick = -1;
	np->ifindex = ifindex;
	np->ns_dev = st.st_dev;
	np->ns_ino = st.st_ino;
	np->nsfd = nsfd;
	nsfd = -1;
	np->pkt = -1;
	np->nl = -1;
	np->map_fd = -1;
	np->mtu = mtu;
	/* the link monitor's first answer sets the rings' state */
	np->down = false;
	if (!up)
		nmd_info("%s is down: its rings report ENETDOWN until it is up", name);
	np->nslots = reg->nr_tx_slots > reg->nr_rx_slots ? reg->nr_tx_slots : reg->nr_rx_slots;
	if (np->nslots == 0)
		np->nslots = NIC_DEF_SLOTS;
	np->nslots = np->nslots < NIC_MIN_SLOTS ? NIC_MIN_SLOTS :
		     np->nslots > NIC_MAX_SLOTS ? NIC_MAX_SLOTS : np->nslots;

	if (want == NR_UNM_NIC_EMULATED)
		nq = 1;	/* a packet socket has no queues */
	np->nq = nq;
	/* the other end of a veth pair open already: linked, in its region
	 * and with its geometry (common/unm_veth.h); automatic mode only,
	 * and only to an end opened by the same trust domain (the host, or
	 * one grant holder: a container shares memory with no port it was
	 * not given) */
	if (c->grant)
		snprintf(np->holder, sizeof(np->holder), "%s", c->grant->holder);
	if (!(reg->nr_flags & NR_UNM_NIC_MASK) && !def_mode && nic_veth_probe(np) == 0) {
		struct nic_port *q = nic_veth_peer(np, reg->nr_extra_bufs);

		if (q && (!reg->nr_mem_id || reg->nr_mem_id == q->nr->rg->mem_id)) {
			np->peer = q;	/* linked by the first bind */
			np->nslots = q->nslots;
			np->nr = q->nr;
			np->mode = q->mode;
			np->rx_back = q->rx_back;
			np->nic_flags = q->nic_flags;
			np->attach_mode = q->attach_mode;
		}
	}
	need = port_bufs(nq, np->nslots, want != NR_UNM_NIC_EMULATED) + reg->nr_extra_bufs;
	if (!np->nr)
		np->nr = region_get(c->pid, reg->nr_mem_id, need, msg, msglen, &err);
	if (!np->nr)
		goto fail_port;
	np->nr->nports++;
	np->port.rg = np->nr->rg;
	nmd_region_ref(np->port.rg);

	if (np->peer) {
		/* no sockets: the rings are linked */
	} else if (want != NR_UNM_NIC_EMULATED) {
		err = nic_xdp_setup(np, want, msg, msglen);
		if (err && want) {
			/* a forced AF_XDP mode does not fall back */
			goto fail_port;
		}
		if (err) {
			nmd_warn("AF_XDP unavailable, emulated mode (AF_PACKET): %s", msg);
			msg[0] = '\0';
			np->nq = 1;
		}
	}
	if (!np->prog && !np->peer) {
		err = nic_packet_setup(np, msg, msglen);
		if (err)
			goto fail_port;
	}
	if (np->pkt >= 0)
		np->veth = false;	/* emulated: nothing to link */
	if (np->mtu + NIC_L2_HDR > rx_room(np) && !(reg->nr_flags & NR_TX_RINGS_ONLY)) {
		snprintf(msg, msglen, "%s: MTU %u does not fit the %u bytes a buffer receives; "
			 "lower the MTU", name, np->mtu, rx_room(np));
		err = -EINVAL;
		goto fail_port;
	}
	rq.nrings[UNM_DIR_TX] = rq.nrings[UNM_DIR_RX] = np->nq;
	rq.nslots[UNM_DIR_TX] = rq.nslots[UNM_DIR_RX] = np->nslots;
	err = nmd_port_alloc_rings(&np->port, &rq, false);
	if (err) {
		snprintf(msg, msglen, "%s: cannot allocate rings: %s", name, strerror(-err));
		goto fail_port;
	}
	if (np->prog) {
		err = nic_xdp_start(np, msg, msglen);
		if (err)
			goto fail_port;
	}
	nic_veth_init(np);
	err = watch_start(np);
	if (err)
		nmd_warn("%s: no link monitor: %s", name, strerror(-err));
	ns_leave(saved);
	saved = -1;

	pthread_mutex_lock(&nic_lock);
	np->next = ports;
	ports = np;
	pthread_mutex_unlock(&nic_lock);
	if (!nmd_named_find(np->port.name))
		nmd_named_add(&np->port);
	nmd_info("%s: %s, %u ring pair(s) of %u slots, region %u (client %d)", name,
		 np->peer ? "veth linked to the other end" : unm_nic_mode_desc(np->mode), np->nq,
		 np->nslots, np->port.rg->mem_id, (int)c->pid);
	*out = &np->port;
	return 0;

fail_port:
	ns_leave(saved);
	saved = -1;
	port_destroy(np);
	return err;
fail_ns:
	ns_leave(saved);
	close(nsfd);
	return err;
}

static void nic_released(struct nmd_port *p)
{
	if (p->nbind > 0)
		return;
	if (!nic_veth_released(NIC_PORT(p)))
		return;	/* kept for the other end of its veth pair */
	port_destroy(NIC_PORT(p));
}

static void nic_bound(struct nmd_port *p)
{
	nic_veth_bound(NIC_PORT(p));
}


/* REGISTER reply: the sockets, and what the library needs to map their
 * rings (struct unm_bind_nic after the rings) */
static int nic_bind_info(struct nmd_port *p, struct nmd_req *r)
{
	struct nic_port *np = NIC_PORT(p);
	struct unm_bind_info *bi = r->bind;
	uint32_t n = bi->nrings, k;
	size_t extra = sizeof(struct unm_bind_nic) + n * sizeof(struct unm_nic_ring);
	struct unm_bind_nic *nic;
	char *nb;

	nb = realloc(r->bind, r->bind_len + extra);
	if (!nb)
		return -ENOMEM;
	bi = (struct unm_bind_info *)(void *)nb;
	r->bind = bi;
	nic = (struct unm_bind_nic *)(void *)(nb + r->bind_len);
	r->bind_len += extra;
	memset(nic, 0, extra);
	bi->kind = np->pkt >= 0 ? UNM_KIND_PACKET : np->veth ? UNM_KIND_VETH : UNM_KIND_XDP;
	if (np->veth) {
		/* each ring asks what it is at its first sync (unm_veth.h) */
		r->bind_len -= extra;
		return 0;
	}
	nic->magic = UNM_NIC_MAGIC;
	nic->flags = np->nic_flags;
	nic->mode = np->mode;
	nic->rx_back = np->pkt >= 0 ? 0 : np->rx_back;
	nic->rx_room = rx_room(np);
	nic->blk_size = np->blk_size;
	nic->blk_nr = np->blk_nr;
	for (k = 0; k < n; k++) {
		uint32_t qid = bi->ring[k].ringid;
		int idx;

		idx = qid < np->nq ? nmd_reply_fd(r, np->pkt >= 0 ? np->pkt : np->q[qid].xsk) : -1;
		if (idx < 0) {
			/* cannot happen: NIC_MAX_QUEUES keeps us in bounds */
			free(r->bind);
			r->bind = NULL;
			return -E2BIG;
		}
		nic->ring[k].sock_fd = (int16_t)idx;
		nic->ring[k].qid = (uint16_t)qid;
		if (np->pkt < 0 && bi->ring[k].dir == UNM_DIR_TX) {
			nic->ring[k].ring_entries = np->q[qid].tx_entries;
			nic->ring[k].umem_entries = np->q[qid].tx_entries;
		} else if (np->pkt < 0) {
			nic->ring[k].ring_entries = np->q[qid].rx_entries;
			nic->ring[k].umem_entries = np->q[qid].rx_entries;
			nic->ring[k].spare_n = np->q[qid].spare_n;
			nic->ring[k].spare_ofs = np->q[qid].spare_ofs;
		}
	}
	return 0;
}

static int nic_info(struct nmd_client *c, const char *name, struct nmreq_port_info_get *pi,
		    char *msg, size_t msglen)
{
	struct nic_region *nr;
	struct nic_port *np;
	struct stat st;
	uint32_t mtu, nq = 1;
	bool up;
	int nsfd, saved, err;

	if (nmd_nic_disabled(msg, msglen))
		return -ENXIO;
	if (strlen(name) >= IFNAMSIZ || strchr(name, '/') || strchr(name, ':')) {
		snprintf(msg, msglen, "%s: no such port", name);
		return -ENXIO;
	}
	err = ns_open_pid(c->pid, &nsfd, &st);
	if (err)
		return err;
	err = ns_enter(nsfd, &st, &saved);
	close(nsfd);
	if (err)
		return err;
	if (if_nametoindex(name) == 0)
		err = -ENXIO;
	else
		err = if_query(name, &mtu, &nq, &up);
	ns_leave(saved);
	if (err) {
		snprintf(msg, msglen, "%s: no such port or interface", name);
		return err;
	}
	if (nq > NIC_MAX_QUEUES)
		nq = NIC_MAX_QUEUES;
	np = port_find(&st, name);
	if (np) {
		/* open in the caller's namespace under a name request.c
		 * did not find it by (another port has that name) */
		pi->nr_tx_rings = pi->nr_rx_rings = (uint16_t)np->nq;
		pi->nr_tx_slots = pi->nr_rx_slots = np->nslots;
		pi->nr_host_tx_rings = pi->nr_host_rx_rings = 0;
		pi->nr_mem_id = np->port.rg->mem_id;
		pi->nr_memsize = np->port.rg->size;
		return 0;
	}
	pi->nr_tx_rings = pi->nr_rx_rings = (uint16_t)nq;
	pi->nr_tx_slots = pi->nr_rx_slots = NIC_DEF_SLOTS;
	pi->nr_host_tx_rings = pi->nr_host_rx_rings = 0;
	/*
	 * The region REGISTER would put it in, as netmap reports the global
	 * region for any interface: the caller's NIC region, or the one its
	 * REGISTER would create, made now (empty and sparse, so cheap) so
	 * that the id is the one REGISTER then really gives, as @share=
	 * and nmreq_get_mem_id() expect.
	 */
	nr = region_get(c->pid, 0, port_bufs(nq, NIC_DEF_SLOTS, true), msg, msglen, &err);
	if (!nr)
		return err;
	pi->nr_mem_id = nr->rg->mem_id;
	pi->nr_memsize = nr->rg->size;
	return 0;
}

int nmd_nic_request(struct nmd_client *c, struct nmd_req *r)
{
	struct unm_nic_info *ni = r->body;
	const char *name = r->msg->hdr.nr_name;
	char ifname[IFNAMSIZ];
	struct nic_port *np = NULL;
	struct stat st;
	int nsfd, err;

	if (r->msg->hdr.nr_reqtype == UNM_REQ_VETH_LINK)
		return nic_veth_request(c, r);
	if (r->msg->hdr.nr_reqtype != UNM_REQ_NIC_INFO)
		return -EINVAL;
	if (strchr(name, ':')) {
		/* an attachment: its forwarder holds the interface */
		if (nic_vale_lookup(name, &st, ifname))
			np = port_find(&st, ifname);
	} else if (strlen(name) < IFNAMSIZ) {
		err = ns_open_pid(c->pid, &nsfd, &st);
		if (err) {
			snprintf(r->msg_text, sizeof(r->msg_text), "%s: cannot find the network "
				 "namespace of process %d: %s", name, (int)c->pid, strerror(-err));
			return err == -ENOENT ? -ESRCH : err;
		}
		close(nsfd);
		np = port_find(&st, name);
	}
	/* no reason text, so no log line: tools ask this of any port name
	 * (vale-ctl -s of a whole switch) to learn whether it is an
	 * interface, and ENXIO is the answer */
	if (!np)
		return -ENXIO;
	port_describe(np, ni);
	return 0;
}

void nmd_nic_configure(const struct nmd_nic_opts *o)
{
	def_mode = o->mode;
	disabled = o->disabled;
	if (o->bufs)
		def_bufs = o->bufs;
	nic_vale_configure(o->socket);
}

int nic_if_exists(int nsfd, const struct stat *ns, const char *ifname)
{
	int saved, err;
	unsigned idx;

	if (strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/') || strchr(ifname, ':'))
		return 0;
	err = ns_enter(nsfd, ns, &saved);
	if (err)
		return err;
	idx = if_nametoindex(ifname);
	ns_leave(saved);
	return idx != 0;
}

bool nic_port_open_in(const struct stat *ns, const char *ifname)
{
	return port_find(ns, ifname) != NULL;
}

void nmd_nic_init(void)
{
	if (stat("/proc/self/ns/net", &self_ns) < 0)
		nmd_warn("cannot stat /proc/self/ns/net: %s", strerror(errno));
	nic_xdp_init();
}

void nmd_nic_fini(void)
{
	uint64_t one = 1;

	nic_vale_fini();
	/* the server loop unbound every client: no port is left */
	while (ports)
		port_destroy(ports);
	/* what is left are reservations (PORT_INFO_GET) */
	while (regions)
		region_drop(regions);
	if (mon_running) {
		if (write(mon_stop, &one, sizeof(one)) < 0)
			nmd_warn("cannot stop the link monitor: %s", strerror(errno));
		pthread_join(mon_thr, NULL);
		mon_running = false;
	}
	if (mon_ep >= 0)
		close(mon_ep);
	if (mon_stop >= 0)
		close(mon_stop);
	mon_ep = mon_stop = -1;
}

struct nic_port *nic_port_next(struct nic_port *np)
{
	return np ? np->next : ports;
}

int nic_ns_enter(const struct nic_port *np, int *saved)
{
	struct stat st;

	*saved = -1;
	if (np->nsfd < 0 || fstat(np->nsfd, &st) < 0)
		return -EBADF;
	return ns_enter(np->nsfd, &st, saved);
}

void nic_ns_leave(int saved)
{
	ns_leave(saved);
}

void nic_port_destroy(struct nic_port *np)
{
	port_destroy(np);
}

/* The open port of interface `name` in the caller's namespace (for a
 * monitor of it); never opens one. */
static struct nmd_port *nic_find(struct nmd_client *c, const char *name)
{
	struct nic_port *np;
	struct stat st;
	int nsfd;

	if (ns_open_pid(c->pid, &nsfd, &st) < 0)
		return NULL;
	close(nsfd);
	np = port_find(&st, name);
	return np ? &np->port : NULL;
}

/* A name no other kind claims is a network interface (ENXIO if none). */
static bool nic_claims(const char *name, const struct nmreq_register *reg)
{
	(void)name;
	(void)reg;
	return true;
}

const struct nmd_port_ops nmd_nic_ops = {
	.name = "nic",
	.claims = nic_claims,
	.open = nic_open,
	.info = nic_info,
	.wire_kind = UNM_KIND_XDP,
	.bound = nic_bound,
	.released = nic_released,
	.bind_info = nic_bind_info,
	.find = nic_find,
};

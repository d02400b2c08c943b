/*
 * nic_veth.c - the veth fast path inside netmapd: finding the other end
 * of a veth pair among the open ports, linking the two ports' rings, and
 * back to AF_XDP when one end closes.  The protocol, and what happens to
 * frames in flight, are in common/unm_veth.h; the data path is
 * lib/sync_veth.c.  Everything here runs on netmapd's main thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "nic.h"
#include "unm_veth.h"

#define FAIL(r, e, ...) do { snprintf((r)->msg_text, sizeof((r)->msg_text), __VA_ARGS__); \
	return -(e); } while (0)

/* One request, one answer, on a fresh rtnetlink socket of the current
 * namespace.  The answer goes to buf; returns its length or -errno. */
static ssize_t nl_ask(void *req, size_t len, char *buf, size_t buflen)
{
	struct nlmsghdr *nh;
	ssize_t n;
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, req, len, 0) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	do
		n = recv(fd, buf, buflen, 0);
	while (n < 0 && errno == EINTR);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	nh = (struct nlmsghdr *)(void *)buf;
	if (!NLMSG_OK(nh, (size_t)n))
		return -EPROTO;
	if (nh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nh);

		return nh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error ? e->error : -EPROTO;
	}
	return n;
}

int nic_veth_probe(struct nic_port *np)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req;
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	const struct nlmsghdr *nh = (const struct nlmsghdr *)(void *)buf;
	const struct rtattr *a;
	bool veth = false;
	int link = 0, nsid = -1, alen;
	ssize_t n;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = RTM_GETLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = np->ifindex;
	n = nl_ask(&req, sizeof(req), buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	if (nh->nlmsg_type != RTM_NEWLINK || nh->nlmsg_len > (size_t)n ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return -EPROTO;
	a = IFLA_RTA(NLMSG_DATA(nh));
	alen = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(struct ifinfomsg)));
	for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
		if (a->rta_type == IFLA_LINK && RTA_PAYLOAD(a) >= 4) {
			memcpy(&link, RTA_DATA(a), 4);
		} else if (a->rta_type == IFLA_LINK_NETNSID && RTA_PAYLOAD(a) >= 4) {
			memcpy(&nsid, RTA_DATA(a), 4);
		} else if (a->rta_type == IFLA_LINKINFO) {
			const struct rtattr *in = RTA_DATA(a);
			int ilen = (int)RTA_PAYLOAD(a);

			for (; RTA_OK(in, ilen); in = RTA_NEXT(in, ilen))
				if (in->rta_type == IFLA_INFO_KIND &&
				    RTA_PAYLOAD(in) >= 5 && memcmp(RTA_DATA(in), "veth", 5) == 0)
					veth = true;
		}
	}
	np->veth = veth && link > 0;
	np->peer_ifindex = link;
	np->peer_nsid = nsid;
	return 0;
}

/* The id the current namespace gives the namespace of fd (-1: none). */
static int nsid_of(int fd)
{
	struct {
		struct nlmsghdr nh;
		struct rtgenmsg g;
		char pad[3];
		struct rtattr a;
		uint32_t fd;
	} req;
	char buf[1024] __attribute__((aligned(NLMSG_ALIGNTO)));
	const struct nlmsghdr *nh = (const struct nlmsghdr *)(void *)buf;
	const struct rtattr *a;
	int alen, id = -1;
	ssize_t n;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = RTM_GETNSID;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.g.rtgen_family = AF_UNSPEC;
	req.a.rta_len = RTA_LENGTH(sizeof(uint32_t));
	req.a.rta_type = NETNSA_FD;
	req.fd = (uint32_t)fd;
	n = nl_ask(&req, sizeof(req), buf, sizeof(buf));
	if (n < 0 || nh->nlmsg_type != RTM_NEWNSID || nh->nlmsg_len > (size_t)n ||
	    nh->nlmsg_len < NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct rtgenmsg))))
		return -1;
	a = (const struct rtattr *)(const void *)((const char *)NLMSG_DATA(nh) +
						 NLMSG_ALIGN(sizeof(struct rtgenmsg)));
	alen = (int)(nh->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(struct rtgenmsg))));
	for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen))
		if (a->rta_type == NETNSA_NSID && RTA_PAYLOAD(a) >= 4)
			memcpy(&id, RTA_DATA(a), 4);
	return id;
}

/* Called in np's namespace, np not in the port list yet. */
struct nic_port *nic_veth_peer(struct nic_port *np, uint32_t extra)
{
	struct nic_port *q;

	if (!np->veth)
		return NULL;
	for (q = nic_port_next(NULL); q; q = nic_port_next(q)) {
		uint32_t need;

		if (!q->veth || q->ifindex != np->peer_ifindex || q->gone || q->peer ||
		    strcmp(q->holder, np->holder) != 0 ||
		    (q->port.nbind == 0 && !q->kept) || q->nq != np->nq || !q->nr ||
		    q->nr->rg->sealed_for[0])
			continue;
		if (np->peer_nsid < 0 ? q->ns_dev != np->ns_dev || q->ns_ino != np->ns_ino :
					nsid_of(q->nsfd) != np->peer_nsid)
			continue;
		if (nmd_mon_has_zcopy(&q->port)) {
			/* a zero-copy monitor takes the buffers a TX ring
			 * reclaims: once linked, those are the receiver's old
			 * ones, not the frames sent (common/unm_veth.h) */
			nmd_info("%s: the other end %s has a zero-copy monitor: through the "
				 "kernel", np->ifname, q->ifname);
			return NULL;
		}
		need = q->nq * (2 * q->nslots + nic_rx_spares(q->nslots, q->nq)) + extra;
		if (q->nr->rg->buf_free < need) {
			nmd_info("%s: the other end %s has no room for it in region %u (%u free "
				 "buffers, %u needed): through the kernel", np->ifname, q->ifname,
				 q->nr->rg->mem_id, q->nr->rg->buf_free, need);
			return NULL;
		}
		return q;
	}
	return NULL;
}

/* np and its peer point to each other (one may be kept) */
static bool paired(const struct nic_port *np)
{
	return np->peer && np->peer->peer == np;
}

/* ... and both are open: the rings are linked */
static bool linked(const struct nic_port *np)
{
	return paired(np) && !np->kept && !np->peer->kept;
}

/*
 * New configuration generation for np's rings; rings nobody binds are
 * switched here (their shared state is ours to write), the others by
 * their binders' next sync (lib/sync_veth.c), which the kick wakes.
 */
static void gen_bump(struct nic_port *np, uint32_t mode)
{
	struct nmd_port *p = &np->port;
	uint32_t i;
	int d;

	np->link_gen = (np->link_gen + 1) & UNM_VETH_GEN_MASK;
	if (np->link_gen == 0)
		np->link_gen = 1;
	for (d = 0; d < 2; d++) {
		for (i = 0; i < p->nrings[d]; i++) {
			struct nmd_ring *r = &p->ring[d][i];
			struct unm_ring_ctl *ctl = nmd_ring_ctl(p, r);

			if (r->users == 0 && d == UNM_DIR_RX && mode == UNM_VETH_M_LINK) {
				uint32_t n = r->nslots, hwcur = ctl->hwcur, hwtail = ctl->hwtail;

				/* what the last binder left: validated */
				if (hwcur >= n || hwtail >= n)
					hwcur = hwtail = 0;
				ctl->kx[3] = unm_veth_state(UNM_VETH_M_LINK, np->link_gen, false);
				atomic_store_explicit(&ctl->hw_idx, hwtail, memory_order_relaxed);
				/* R: the indices before the ack that lets the
				 * peer's TX push (its acquire of link_ack) */
				atomic_store_explicit(&ctl->app_idx, hwcur, memory_order_release);
				atomic_store_explicit(&ctl->link_ack,
						      unm_veth_ack(UNM_VETH_ACK_READY, np->link_gen),
						      memory_order_release);
			}
			/* R: pairs with the binders' acquire load in their sync */
			atomic_store_explicit(&ctl->link_gen, np->link_gen, memory_order_release);
		}
	}
	nmd_port_kick(p);
}

void nic_veth_init(struct nic_port *np)
{
	struct nmd_port *p = &np->port;
	uint32_t mode = np->peer ? UNM_VETH_M_LINK : UNM_VETH_M_XDP, i;
	int d;

	if (!np->veth)
		return;
	np->link_gen = 1;
	for (d = 0; d < 2; d++) {
		for (i = 0; i < p->nrings[d]; i++) {
			struct unm_ring_ctl *ctl = nmd_ring_ctl(p, &p->ring[d][i]);

			/* fresh rings: netmapd posted the XDP fill rings
			 * (nic_xdp_start), a linked RX ring is empty */
			ctl->kx[3] = unm_veth_state(mode, 1, false);
			if (d == UNM_DIR_RX && mode == UNM_VETH_M_LINK)
				atomic_store_explicit(&ctl->link_ack,
						      unm_veth_ack(UNM_VETH_ACK_READY, 1),
						      memory_order_relaxed);
			atomic_store_explicit(&ctl->link_gen, 1, memory_order_release);
		}
	}
}

/* q, bound, on AF_XDP, is linked to np: the kernel lets go of it. */
static void link_to(struct nic_port *q, struct nic_port *np)
{
	int saved;

	q->peer = np;
	np->peer = q;
	if (nic_ns_enter(q, &saved) < 0)
		nmd_warn("%s: cannot enter its namespace to detach: %s", q->ifname,
			 strerror(errno));
	nic_xdp_suspend(q);
	nic_ns_leave(saved);
	gen_bump(q, UNM_VETH_M_LINK);
	nmd_info("%s and %s linked: ring to ring, no kernel on the data path (region %u)",
		 q->ifname, np->ifname, np->port.rg->mem_id);
}

void nic_veth_bound(struct nic_port *np)
{
	if (!np->veth)
		return;
	if (np->peer && !paired(np)) {
		/* the open chose np->peer: its first binding links them */
		link_to(np->peer, np);
	} else if (np->kept && np->port.nbind == 1 && np->peer) {
		struct nic_port *q = np->peer;

		np->kept = false;
		q->peer = NULL;
		gen_bump(np, UNM_VETH_M_LINK);
		link_to(q, np);
	}
}

/* np's peer q closed: np goes back to AF_XDP. */
static void unlink_from(struct nic_port *np)
{
	char msg[256] = "";
	int saved, err;

	err = nic_ns_enter(np, &saved);
	if (!err)
		err = nic_xdp_resume(np, msg, sizeof(msg));
	else
		snprintf(msg, sizeof(msg), "cannot enter its namespace: %s", strerror(-err));
	nic_ns_leave(saved);
	if (err)
		nmd_warn("%s: the other end closed and AF_XDP cannot resume (%s): its rings "
			 "stay idle", np->ifname, msg);
	gen_bump(np, err ? UNM_VETH_M_NONE : UNM_VETH_M_XDP);
	nmd_info("%s: the other end closed; back to AF_XDP", np->ifname);
}

bool nic_veth_released(struct nic_port *np)
{
	struct nic_port *q = np->peer;

	if (!np->veth || !q)
		return true;
	if (!paired(np)) {
		/* chosen by a REGISTER that failed: never linked */
		np->peer = NULL;
		return true;
	}
	if (q->port.nbind > 0 && !np->gone && !q->gone) {
		/* q may push into np's RX rings until its TX rings
		 * switch: np's memory stays (common/unm_veth.h) */
		np->kept = true;
		unlink_from(q);
		return false;
	}
	np->peer = q->peer = NULL;
	if (q->kept) {
		q->kept = false;
		nic_port_destroy(q);
	} else if (q->port.nbind > 0) {
		unlink_from(q);
	}
	return true;
}

uint64_t nic_veth_drops(const struct nic_port *np)
{
	const struct nmd_port *p = &np->port;
	uint64_t sum = 0;
	uint32_t i;
	int d;

	for (d = 0; d < 2; d++)
		for (i = 0; i < p->nrings[d]; i++)
			sum += atomic_load_explicit(&nmd_ring_ctl(p, &p->ring[d][i])->hw_drops,
						    memory_order_relaxed);
	return sum;
}


int nic_veth_request(struct nmd_client *c, struct nmd_req *r)
{
	struct unm_veth_link *vl = r->body;
	struct nmd_binding *b = c->bind;
	struct nic_port *np;
	uint32_t id = vl->ringid;
	int d = vl->dir;

	if (!b || b->port->ops != &nmd_nic_ops)
		FAIL(r, EINVAL, "veth link: the descriptor is not bound to an interface");
	np = NIC_PORT(b->port);
	if (!np->veth)
		FAIL(r, EINVAL, "veth link: %s is not a veth port", np->ifname);
	if (d > 1 || id < b->first[d] || id >= b->first[d] + b->count[d] || id >= np->nq)
		FAIL(r, EINVAL, "veth link: %s ring %u is not bound by this descriptor",
		     d ? "rx" : "tx", id);
	vl->gen = np->link_gen;
	vl->peer_gen = 0;
	vl->peer_ofs = 0;
	vl->kick_fd = -1;
	if (linked(np)) {
		struct nic_port *q = np->peer;
		int od = d ^ 1, k = nmd_reply_fd(r, q->port.wake[od]);

		if (k < 0 || id >= q->port.nrings[od])
			return -E2BIG;	/* cannot happen: equal ring counts */
		vl->mode = UNM_VETH_M_LINK;
		vl->peer_gen = q->link_gen;
		vl->peer_ofs = q->port.ring[od][id].ofs;
		vl->kick_fd = (int16_t)k;
		return 0;
	}
	if (np->q && np->q[id].xsk >= 0) {
		size_t len = sizeof(struct unm_bind_nic) + sizeof(struct unm_nic_ring);
		struct unm_bind_nic *nic = calloc(1, len);
		struct nic_queue *q = &np->q[id];
		int k = nmd_reply_fd(r, q->xsk);

		if (!nic || k < 0) {
			free(nic);
			return -ENOMEM;
		}
		nic->magic = UNM_NIC_MAGIC;
		nic->flags = np->nic_flags;
		nic->mode = np->mode;
		nic->rx_back = np->rx_back;
		nic->rx_room = np->port.rg->buf_size - np->rx_back;
		nic->ring[0].sock_fd = (int16_t)k;
		nic->ring[0].qid = (uint16_t)id;
		if (d == UNM_DIR_TX) {
			nic->ring[0].ring_entries = nic->ring[0].umem_entries = q->tx_entries;
		} else {
			nic->ring[0].ring_entries = nic->ring[0].umem_entries = q->rx_entries;
			nic->ring[0].spare_n = q->spare_n;
			nic->ring[0].spare_ofs = q->spare_ofs;
		}
		vl->mode = UNM_VETH_M_XDP;
		r->bind = (struct unm_bind_info *)(void *)nic;
		r->bind_len = len;
		return 0;
	}
	vl->mode = UNM_VETH_M_NONE;
	return 0;
}

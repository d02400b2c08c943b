/*
 * vxlan.c - vxlan:REMOTE:VNI[:PORT[:LPORT]] ports: a virtual NIC whose
 * wire is a VXLAN tunnel (RFC 7348) to one remote host.  The name is
 * described in common/unm_vxlan.h, the design in docs/multi-host.md.
 *
 * The port is an ordinary "hardware" port for the library (UNM_KIND_HW,
 * lib/sync_hw.c, as a VALE port): netmapd plays the NIC.  One engine
 * thread per port owns two UDP sockets and the hardware side (ctl line 1)
 * of the port's two rings:
 *   TX: slots the application handed over (app_idx) are sent with
 *       sendmmsg(), each as [VXLAN header][frame] to REMOTE:PORT, straight
 *       from the region's buffers (an iovec each, no copy), runs of equal
 *       length as one UDP GSO message; hw_idx then gives the slots back.
 *   RX: slots the application released (up to app_idx - 1) receive with
 *       recvmmsg() straight into their buffers (the header into a local
 *       array); datagrams that fail a check leave their slot for the next
 *       one; hw_idx publishes the good ones.
 * The outer Ethernet/IPv4/UDP headers are the kernel's: the sockets are
 * ordinary UDP sockets in netmapd's network namespace (one receives on
 * LPORT, one sends, see vx_socket()), so routing, ARP, the source
 * address and the outer MTU are the kernel's business.
 *
 * Everything here that comes from outside is untrusted: slots (buffer
 * index, length, flags) and ring indices are read once into locals and
 * validated, as the VALE engine does; every datagram is length-checked
 * and its header and source checked before its frame is delivered.
 *
 * Sleeping follows unm_layout.h: an idle engine sets hw_sleep on both
 * rings, fences, re-checks, and sleeps in poll() on the port's hw_kick
 * eventfd and (while the RX ring has room) the socket.  A full RX ring
 * leaves datagrams in the socket buffer, where the kernel drops what does
 * not fit (the wire's behaviour); a full socket send buffer makes the
 * engine wait for POLLOUT without giving the TX slots back.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "nmd.h"
#include "unm_vxlan.h"

#define VX_BATCH      64u	/* messages per sendmmsg()/recvmmsg() */
#define VX_TX_SLOTS   256u	/* TX slots taken per round */
#define VX_GSO_SEGS   64u	/* datagrams per UDP_SEGMENT message */
#define VX_DEF_SLOTS  1024u
#define VX_MIN_SLOTS  64u
#define VX_MAX_SLOTS  4096u
#define VX_SOCKBUF    (4 << 20)	/* socket buffers: a burst of ~30000
				 * small datagrams while the engine or the
				 * application is not scheduled */
#define VX_MIN_FRAME  14u	/* an Ethernet header */

struct vx_stats {
	_Atomic uint64_t tx_pkts, tx_bytes, tx_drops;
	_Atomic uint64_t rx_pkts, rx_bytes, rx_wrong_vni, rx_bad, rx_foreign, rx_invalid;
};

struct vx_port {
	struct nmd_port port;		/* name = "vxlan:..." */
	struct sockaddr_in remote;	/* REMOTE:PORT */
	uint32_t vni;
	uint16_t lport;
	int sock;			/* bound to LPORT: receives */
	int txsock;			/* connected to REMOTE:PORT: sends */
	pthread_t thr;
	bool running;
	_Atomic bool stop;
	struct vx_stats st;		/* engine writes, main thread reads */
	/* engine thread only */
	uint32_t tx_hw;			/* TX: slots before it were consumed */
	uint32_t rx_hw;			/* RX: slots before it were filled */
	bool tx_in_chain;		/* dropping an NS_MOREFRAG chain */
	bool tx_blocked;		/* the send buffer is full: wait POLLOUT */
	bool gso;			/* UDP_SEGMENT works (until refused) */
	bool gso_skip;			/* the next round without it */
	unsigned gso_fails;		/* refusals in a row */
	time_t warn_at;			/* rate limit of the engine's warnings */
	unsigned char hdr[UNM_VXLAN_HDR_LEN];	/* what every datagram starts with */
};

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103		/* linux/udp.h, older libcs lack it */
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

#define VX_PORT(p) ((struct vx_port *)(void *)((char *)(p) - offsetof(struct vx_port, port)))

static inline void stat_add(_Atomic uint64_t *c, uint64_t v)
{
	/* one writer (the engine): relaxed; readers only sample */
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

static inline char *buf_addr(const struct nmd_region *rg, uint32_t idx)
{
	return rg->base + rg->buf_ofs + (uint64_t)idx * rg->buf_size;
}

/* Wake the application side if it sleeps (Dekker with unm_layout.h's
 * sleeper): the full fence orders our hw_idx store before the flag read. */
static void kick_app(_Atomic uint32_t *flag, int fd)
{
	uint64_t one = 1;

	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(flag, memory_order_relaxed) &&
	    atomic_exchange_explicit(flag, 0, memory_order_relaxed)) {
		if (write(fd, &one, sizeof(one)) < 0) {
			/* EAGAIN: the counter is saturated, the sleeper wakes */
		}
	}
}

/* Engine warnings: at most one a second per port. */
static void vx_warn(struct vx_port *vp, const char *what, int err)
{
	time_t now = time(NULL);

	if (now == vp->warn_at)
		return;
	vp->warn_at = now;
	nmd_warn("%s: %s: %s", vp->port.name, what, strerror(err));
}

/* ---- name ---- */

/*
 * Parse "vxlan:REMOTE:VNI[:PORT[:LPORT]]".  Strict: decimal numbers in
 * range, a dotted-quad address, nothing else.  0 or -EINVAL with msg.
 */
static int vx_parse(const char *name, struct sockaddr_in *remote, uint32_t *vni,
		    uint16_t *lport, char *msg, size_t msglen)
{
	const char *s = name + strlen(UNM_VXLAN_PREFIX), *c;
	unsigned long v[3] = { 0, UNM_VXLAN_DEF_PORT, 0 };
	unsigned long max[3] = { UNM_VXLAN_VNI_MAX, 65535, 65535 };
	char addr[INET_ADDRSTRLEN];
	int i;

	c = strchr(s, ':');
	if (!c || (size_t)(c - s) >= sizeof(addr))
		goto bad;
	memcpy(addr, s, (size_t)(c - s));
	addr[c - s] = '\0';
	memset(remote, 0, sizeof(*remote));
	remote->sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &remote->sin_addr) != 1)
		goto bad;
	/* one unicast remote: no "any", no multicast group, no broadcast
	 * (docs/multi-host.md, Limits) */
	if (remote->sin_addr.s_addr == htonl(INADDR_ANY) ||
	    remote->sin_addr.s_addr == htonl(INADDR_BROADCAST) ||
	    IN_MULTICAST(ntohl(remote->sin_addr.s_addr))) {
		snprintf(msg, msglen, "%s: the remote must be one unicast IPv4 address "
			 "(no multicast groups or broadcast)", name);
		return -EINVAL;
	}
	s = c + 1;
	for (i = 0; i < 3 && *s; i++) {
		unsigned long x = 0;
		const char *d = s;

		for (; *s >= '0' && *s <= '9'; s++) {
			x = x * 10 + (unsigned long)(*s - '0');
			if (x > max[i])
				goto bad;
		}
		if (s == d || (*s && *s != ':') || (*s == ':' && s[1] == '\0'))
			goto bad;
		if (*s == ':')
			s++;
		v[i] = x;
	}
	if (i == 0 || *s || (i >= 2 && v[1] == 0) || (i == 3 && v[2] == 0))
		goto bad;
	*vni = (uint32_t)v[0];
	remote->sin_port = htons((uint16_t)v[1]);
	*lport = (uint16_t)(i == 3 ? v[2] : v[1]);
	return 0;
bad:
	snprintf(msg, msglen, "%s: invalid VXLAN port name (vxlan:REMOTE:VNI[:PORT[:LPORT]], "
		 "REMOTE an IPv4 address, VNI 0..%u, ports 1..65535)", name, UNM_VXLAN_VNI_MAX);
	return -EINVAL;
}

/* ---- the engine ---- */

/* Segments of one UDP_SEGMENT (GSO) send: 64 is UDP_MAX_SEGMENTS of the
 * kernels that introduced it; the whole must stay below 64 KB. */
static inline uint32_t gso_max(uint32_t len)
{
	uint32_t m = 65000u / (UNM_VXLAN_HDR_LEN + len);

	return m < VX_GSO_SEGS ? m : VX_GSO_SEGS;
}

/*
 * Send what the application handed over on the TX ring, one batch of up
 * to VX_TX_SLOTS slots.  Consecutive frames of one length go out as one
 * UDP_SEGMENT (GSO) message, [hdr][frame][hdr][frame]... split by the
 * kernel every 8 + len bytes into datagrams of their own: one trip down
 * the stack for up to 64 of them instead of one each.  Returns the slots
 * consumed.
 */
static uint32_t vx_tx(struct vx_port *vp)
{
	struct nmd_port *p = &vp->port;
	struct nmd_ring *r = &p->ring[UNM_DIR_TX][0];
	struct netmap_ring *ring = nmd_ring_ptr(p, r);
	struct unm_ring_ctl *ctl = unm_ring_ctl(ring);
	struct mmsghdr msgs[VX_BATCH];
	struct iovec iov[2 * VX_TX_SLOTS];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} cm[VX_BATCH];
	uint32_t at[VX_BATCH + 1];	/* first slot of each message, then the end */
	uint32_t nseg[VX_BATCH], seglen[VX_BATCH];
	uint32_t n = r->nslots, cur = vp->tx_hw, head, k = 0, v = 0, seen = 0, done, i;
	uint64_t bytes = 0, pkts = 0, drops = 0;
	bool gso = vp->gso && !vp->gso_skip;
	int sent;

	/* A: pairs with the release store of app_idx in hw_txsync(), after
	 * the application wrote the slots.  Untrusted: validated here. */
	head = atomic_load_explicit(&ctl->app_idx, memory_order_acquire);
	if (head >= n || head == cur)
		return 0;
	vp->gso_skip = false;
	memset(msgs, 0, sizeof(msgs));
	while (cur != head && seen < VX_TX_SLOTS) {
		struct netmap_slot *s = &ring->slot[cur];
		uint32_t idx = s->buf_idx, len = s->len, fl = s->flags;	/* read once */
		bool chained = vp->tx_in_chain;

		vp->tx_in_chain = (fl & NS_MOREFRAG) != 0;
		if (chained || vp->tx_in_chain || !nmd_region_buf_valid(p->rg, idx) ||
		    len < VX_MIN_FRAME || len > p->rg->buf_size) {
			/* fragments of a frame, or garbage: a whole frame or
			 * nothing, as on a wire; counted once per frame */
			if (!vp->tx_in_chain)
				drops++;
			cur = unm_idx_add(cur, 1, n);
			seen++;
			continue;
		}
		if (gso && k > 0 && seglen[k - 1] == len && nseg[k - 1] < gso_max(len)) {
			/* one more segment of the last message (its iovecs
			 * are the last ones: they stay contiguous) */
			msgs[k - 1].msg_hdr.msg_iovlen += 2;
			nseg[k - 1]++;
		} else if (k < VX_BATCH) {
			msgs[k].msg_hdr.msg_iov = &iov[v];
			msgs[k].msg_hdr.msg_iovlen = 2;
			nseg[k] = 1;
			seglen[k] = len;
			at[k++] = cur;
		} else {
			break;	/* (a good slot: tx_in_chain is still false) */
		}
		iov[v].iov_base = vp->hdr;
		iov[v++].iov_len = UNM_VXLAN_HDR_LEN;
		iov[v].iov_base = buf_addr(p->rg, idx);
		iov[v++].iov_len = len;
		cur = unm_idx_add(cur, 1, n);
		seen++;
	}
	at[k] = cur;
	for (i = 0; i < k; i++) {
		struct cmsghdr *c;
		uint16_t gs = (uint16_t)(UNM_VXLAN_HDR_LEN + seglen[i]);

		if (nseg[i] < 2)
			continue;
		msgs[i].msg_hdr.msg_control = cm[i].buf;
		msgs[i].msg_hdr.msg_controllen = sizeof(cm[i].buf);
		c = CMSG_FIRSTHDR(&msgs[i].msg_hdr);
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		memcpy(CMSG_DATA(c), &gs, sizeof(gs));
	}
	done = 0;
	while (done < k) {
		sent = sendmmsg(vp->txsock, msgs + done, k - done, MSG_DONTWAIT);
		if (sent > 0) {
			for (i = done; i < done + (uint32_t)sent; i++) {
				pkts += nseg[i];
				bytes += (uint64_t)nseg[i] * seglen[i];
			}
			done += (uint32_t)sent;
			vp->gso_fails = 0;
			continue;
		}
		if (sent < 0 && errno == EINTR)
			continue;
		if (sent < 0 && errno == EAGAIN) {
			/* keep the rest for later: the slots stay ours until
			 * the socket drains (POLLOUT) */
			vp->tx_blocked = true;
			break;
		}
		if (sent < 0 && nseg[done] > 1 &&
		    (errno == EINVAL || errno == EIO || errno == ENOPROTOOPT ||
		     errno == EOPNOTSUPP)) {
			/* no GSO here, or a frame too big for the path (GSO
			 * says EINVAL where a datagram gets EMSGSIZE): the
			 * next round sends these one by one, so that only
			 * what is too big is dropped.  A kernel that never
			 * takes it loses GSO for good. */
			vp->gso_skip = true;
			if (++vp->gso_fails >= 8) {
				vp->gso = false;
				nmd_info("%s: UDP GSO refused (%s): one datagram per send",
					 p->name, strerror(errno));
			}
			break;
		}
		/* the kernel refused this datagram (no route, EMSGSIZE over
		 * the path MTU, ENOBUFS from a full device queue...): a
		 * wire would lose it too */
		vx_warn(vp, "sendmmsg", sent < 0 ? errno : EIO);
		drops += nseg[done];
		done++;
	}
	/* the slots of the messages not sent are not consumed (nor the bad
	 * slots after the first of them: they are seen again) */
	if (done < k)
		cur = at[done];
	stat_add(&vp->st.tx_pkts, pkts);
	stat_add(&vp->st.tx_bytes, bytes);
	if (drops)
		stat_add(&vp->st.tx_drops, drops);
	if (cur == vp->tx_hw)
		return vp->gso_skip ? 1 : 0;	/* (go again, without GSO) */
	done = unm_idx_dist(vp->tx_hw, cur, n);
	vp->tx_hw = cur;
	/* R: the slots before cur are read (sent): the application may
	 * reuse them; pairs with the acquire load in hw_txsync() */
	atomic_store_explicit(&ctl->hw_idx, cur, memory_order_release);
	kick_app(&ctl->app_sleep, p->wake[UNM_DIR_TX]);
	return done;
}

/* Slots the RX ring can take now. */
static uint32_t vx_rx_room(struct vx_port *vp, struct unm_ring_ctl *ctl, uint32_t n)
{
	/* A: pairs with the release store of app_idx in hw_rxsync(): the
	 * application is done with the slots before it.  Untrusted. */
	uint32_t rel = atomic_load_explicit(&ctl->app_idx, memory_order_acquire);

	if (rel >= n)
		return 0;
	/* we may fill up to rel - 1: one slot stays empty, as in netmap */
	return unm_idx_dist(vp->rx_hw, unm_idx_prev(rel, n), n);
}

/* Receive one batch into the RX ring.  Returns the datagrams taken from
 * the socket (good or not), 0 if none was there or there is no room. */
static uint32_t vx_rx(struct vx_port *vp)
{
	struct nmd_port *p = &vp->port;
	struct nmd_ring *r = &p->ring[UNM_DIR_RX][0];
	struct netmap_ring *ring = nmd_ring_ptr(p, r);
	struct unm_ring_ctl *ctl = unm_ring_ctl(ring);
	struct mmsghdr msgs[VX_BATCH];
	struct iovec iov[VX_BATCH][2];
	struct sockaddr_in from[VX_BATCH];
	unsigned char hdr[VX_BATCH][UNM_VXLAN_HDR_LEN];
	uint32_t bidx[VX_BATCH], glen[VX_BATCH], good[VX_BATCH], bad[VX_BATCH];
	uint32_t n = r->nslots, room, want = 0, ngood = 0, nbad = 0, ninval = 0, i, slot;
	uint64_t bytes = 0;
	int got = 0;

	room = vx_rx_room(vp, ctl, n);
	if (room == 0)
		return 0;
	if (room > VX_BATCH)
		room = VX_BATCH;
	memset(msgs, 0, sizeof(msgs));
	for (slot = vp->rx_hw; want + ninval < room; slot = unm_idx_add(slot, 1, n)) {
		/* untrusted: the application may have put any index in a
		 * slot it released (NS_BUF_CHANGED) */
		uint32_t idx = ring->slot[slot].buf_idx;

		if (!nmd_region_buf_valid(p->rg, idx)) {
			if (want > 0)
				break;	/* receive up to it; it comes next */
			/* no buffer to receive into: handed back at once as
			 * an empty frame, counted once, so that the ring
			 * moves on (as the VALE engine does) */
			ring->slot[slot].len = 0;
			ring->slot[slot].flags = 0;
			ninval++;
			continue;
		}
		bidx[want] = idx;
		iov[want][0].iov_base = hdr[want];
		iov[want][0].iov_len = UNM_VXLAN_HDR_LEN;
		iov[want][1].iov_base = buf_addr(p->rg, idx);
		iov[want][1].iov_len = p->rg->buf_size;
		msgs[want].msg_hdr.msg_name = &from[want];
		msgs[want].msg_hdr.msg_namelen = sizeof(from[want]);
		msgs[want].msg_hdr.msg_iov = iov[want];
		msgs[want].msg_hdr.msg_iovlen = 2;
		want++;
	}
	if (ninval) {
		vp->rx_hw = unm_idx_add(vp->rx_hw, ninval, n);
		stat_add(&vp->st.rx_invalid, ninval);
	}
	while (want > 0) {
		got = recvmmsg(vp->sock, msgs, want, MSG_DONTWAIT, NULL);
		if (got >= 0 || errno != EINTR)
			break;
	}
	if (got < 0) {
		if (errno != EAGAIN)
			vx_warn(vp, "recvmmsg", errno);
		got = 0;
	}
	for (i = 0; i < (uint32_t)got; i++) {
		const struct mmsghdr *m = &msgs[i];
		uint32_t len = m->msg_len, vni;

		if (m->msg_hdr.msg_namelen != sizeof(struct sockaddr_in) ||
		    from[i].sin_family != AF_INET ||
		    from[i].sin_addr.s_addr != vp->remote.sin_addr.s_addr) {
			stat_add(&vp->st.rx_foreign, 1);
			bad[nbad++] = bidx[i];
			continue;
		}
		if ((m->msg_hdr.msg_flags & MSG_TRUNC) ||
		    len < UNM_VXLAN_HDR_LEN + VX_MIN_FRAME || !(hdr[i][0] & UNM_VXLAN_FLAG_I)) {
			stat_add(&vp->st.rx_bad, 1);
			bad[nbad++] = bidx[i];
			continue;
		}
		vni = (uint32_t)hdr[i][4] << 16 | (uint32_t)hdr[i][5] << 8 | hdr[i][6];
		if (vni != vp->vni) {
			stat_add(&vp->st.rx_wrong_vni, 1);
			bad[nbad++] = bidx[i];
			continue;
		}
		good[ngood] = bidx[i];
		glen[ngood] = len - UNM_VXLAN_HDR_LEN;	/* <= buf_size: no MSG_TRUNC */
		bytes += glen[ngood];
		ngood++;
	}
	/*
	 * Write the slots: good frames first, in order, then the buffers of
	 * the datagrams dropped (and of the messages not used), which stay
	 * with the hardware for the next round.  Every slot we write is ours
	 * (between hw_idx and app_idx - 1); buffers only move between them.
	 */
	slot = vp->rx_hw;
	for (i = 0; i < ngood; i++) {
		struct netmap_slot *s = &ring->slot[slot];

		s->buf_idx = good[i];
		s->len = (uint16_t)glen[i];
		s->flags = 0;
		slot = unm_idx_add(slot, 1, n);
	}
	for (i = 0; i < nbad; i++) {
		ring->slot[slot].buf_idx = bad[i];
		slot = unm_idx_add(slot, 1, n);
	}
	for (i = (uint32_t)got; i < want; i++) {
		ring->slot[slot].buf_idx = bidx[i];
		slot = unm_idx_add(slot, 1, n);
	}
	if (ngood || ninval) {
		vp->rx_hw = unm_idx_add(vp->rx_hw, ngood, n);
		stat_add(&vp->st.rx_pkts, ngood);
		stat_add(&vp->st.rx_bytes, bytes);
		/* R: the slots' contents before hw_idx; pairs with the
		 * acquire load in hw_rxsync() */
		atomic_store_explicit(&ctl->hw_idx, vp->rx_hw, memory_order_release);
		kick_app(&ctl->app_sleep, p->wake[UNM_DIR_RX]);
	}
	return (uint32_t)got + ninval;
}

static void set_hw_sleep(struct vx_port *vp, uint32_t v)
{
	int d;

	for (d = 0; d < 2; d++)
		atomic_store_explicit(&nmd_ring_ctl(&vp->port, &vp->port.ring[d][0])->hw_sleep, v,
				      memory_order_relaxed);
}

static bool tx_pending(struct vx_port *vp)
{
	struct nmd_ring *r = &vp->port.ring[UNM_DIR_TX][0];
	uint32_t head = atomic_load_explicit(&nmd_ring_ctl(&vp->port, r)->app_idx,
					     memory_order_acquire);

	return head < r->nslots && head != vp->tx_hw;
}

static void *vx_main(void *arg)
{
	struct vx_port *vp = arg;
	struct nmd_ring *rr = &vp->port.ring[UNM_DIR_RX][0];
	struct unm_ring_ctl *rctl = nmd_ring_ctl(&vp->port, rr);

	while (!atomic_load_explicit(&vp->stop, memory_order_relaxed)) {
		struct pollfd pfd[3];
		uint64_t v;
		uint32_t did = 0;

		if (!vp->tx_blocked)
			did += vx_tx(vp);
		did += vx_rx(vp);
		if (did)
			continue;
		/* idle: ask to be kicked, then re-check (Dekker) */
		set_hw_sleep(vp, 1);
		/* F: the hw_sleep stores are visible before we re-read
		 * app_idx; pairs with unm_kick()'s fence in the library */
		atomic_thread_fence(memory_order_seq_cst);
		pfd[0].fd = vp->port.hw_kick;
		pfd[0].events = POLLIN;
		pfd[1].fd = vp->sock;
		pfd[1].events = vx_rx_room(vp, rctl, rr->nslots) ? POLLIN : 0;
		/* the send socket only while it is full: its errors (ICMP)
		 * come back from the next sendmmsg() anyway */
		pfd[2].fd = vp->tx_blocked ? vp->txsock : -1;
		pfd[2].events = POLLOUT;
		pfd[2].revents = 0;
		if ((!vp->tx_blocked && tx_pending(vp)) ||
		    atomic_load_explicit(&vp->stop, memory_order_relaxed)) {
			set_hw_sleep(vp, 0);
			continue;
		}
		if (poll(pfd, 3, -1) < 0 && errno != EINTR)
			vx_warn(vp, "poll", errno);
		if (pfd[0].revents & POLLIN) {
			if (read(vp->port.hw_kick, &v, sizeof(v)) < 0) {
				/* EAGAIN: another wake-up took it */
			}
		}
		if (pfd[1].revents & POLLERR) {
			int e = 0;
			socklen_t el = sizeof(e);

			/* a pending socket error (ICMP) is reported even when
			 * we asked for no event: take it, or poll() spins */
			if (getsockopt(vp->sock, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e)
				vx_warn(vp, "socket", e);
		}
		if (pfd[2].revents & (POLLOUT | POLLERR))
			vp->tx_blocked = false;
		set_hw_sleep(vp, 0);
	}
	return NULL;
}

/* ---- the port ---- */

static void vx_log_stats(const struct vx_port *vp)
{
	nmd_info("%s: tx %llu frames (%llu dropped), rx %llu frames; dropped on receipt: "
		 "wrong VNI %llu, malformed %llu, from other hosts %llu, bad RX buffers %llu",
		 vp->port.name,
		 (unsigned long long)atomic_load(&vp->st.tx_pkts),
		 (unsigned long long)atomic_load(&vp->st.tx_drops),
		 (unsigned long long)atomic_load(&vp->st.rx_pkts),
		 (unsigned long long)atomic_load(&vp->st.rx_wrong_vni),
		 (unsigned long long)atomic_load(&vp->st.rx_bad),
		 (unsigned long long)atomic_load(&vp->st.rx_foreign),
		 (unsigned long long)atomic_load(&vp->st.rx_invalid));
}

static void vx_destroy(struct vx_port *vp)
{
	struct nmd_port *p = &vp->port;
	uint64_t one = 1;

	if (vp->running) {
		atomic_store_explicit(&vp->stop, true, memory_order_relaxed);
		if (write(p->hw_kick, &one, sizeof(one)) < 0)
			nmd_warn("%s: cannot wake the engine: %s", p->name, strerror(errno));
		pthread_join(vp->thr, NULL);
		vx_log_stats(vp);
	}
	if (vp->sock >= 0)
		close(vp->sock);
	if (vp->txsock >= 0)
		close(vp->txsock);
	if (nmd_named_find(p->name) == p)
		nmd_named_del(p);
	if (p->ring[0] || p->ring[1])
		nmd_port_free_rings(p, true);
	if (p->hw_kick >= 0)
		close(p->hw_kick);
	if (p->rg)
		nmd_region_unref(p->rg);
	free(vp);
}

/* A UDP socket with big buffers that never fragments: RFC 7348 4.3 says
 * VTEPs must not, so a frame too large for the path is refused
 * (EMSGSIZE, counted) rather than split. */
static int vx_udp(const struct vx_port *vp)
{
	int fd, v;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	v = VX_SOCKBUF;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	v = IP_PMTUDISC_DO;
	if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v)) < 0)
		nmd_debug("%s: IP_MTU_DISCOVER: %s", vp->port.name, strerror(errno));
	return fd;
}

/*
 * Two sockets.  Receiving: bound to LPORT, unconnected, since Linux's
 * vxlan device sends from a source port of its choice per flow (and we
 * check the address ourselves).  Sending: connected to REMOTE:PORT, so
 * that the kernel keeps the route instead of looking it up for every
 * datagram (bench/vxlan.sh on a loaded 2-core machine: 0.04-0.14 Mpps
 * with a destination per datagram, 0.13-0.54 connected); its source
 * port is an ephemeral one, which RFC 7348 allows (receivers must
 * accept any).
 */
static int vx_socket(struct vx_port *vp, char *msg, size_t msglen)
{
	struct sockaddr_in local;
	const char *what = "socket";
	int v;

	vp->sock = vx_udp(vp);
	if (vp->sock < 0)
		goto fail;
	memset(&local, 0, sizeof(local));
	local.sin_family = AF_INET;
	local.sin_addr.s_addr = htonl(INADDR_ANY);
	local.sin_port = htons(vp->lport);
	what = "bind";
	if (bind(vp->sock, (struct sockaddr *)&local, sizeof(local)) < 0)
		goto fail;
	what = "socket";
	vp->txsock = vx_udp(vp);
	if (vp->txsock < 0)
		goto fail;
	what = "connect";
	if (connect(vp->txsock, (struct sockaddr *)&vp->remote, sizeof(vp->remote)) < 0)
		goto fail;
	return 0;
fail:
	v = errno;
	if (v == EADDRINUSE)
		snprintf(msg, msglen, "%s: UDP port %u is in use (another vxlan port, or the "
			 "kernel's vxlan device?); choose one with vxlan:REMOTE:VNI:PORT:LPORT",
			 vp->port.name, vp->lport);
	else
		snprintf(msg, msglen, "%s: %s: %s", vp->port.name, what, strerror(v));
	/* vx_destroy() closes what is open */
	return -v;
}

static uint32_t clamp_slots(uint32_t v)
{
	if (v == 0)
		return VX_DEF_SLOTS;
	return v < VX_MIN_SLOTS ? VX_MIN_SLOTS : v > VX_MAX_SLOTS ? VX_MAX_SLOTS : v;
}

static int vx_open(struct nmd_client *c, const char *name, struct nmreq_register *reg,
		   struct nmd_port **out, char *msg, size_t msglen)
{
	struct nmd_region_params rp;
	struct nmd_ring_req rq;
	struct sockaddr_in remote;
	struct vx_port *vp;
	struct nmd_port *p;
	uint32_t vni;
	uint16_t lport;
	int err, d;

	(void)c;
	/* --no-nic (the fuzzer's netmapd): nothing reaches the network */
	if (nmd_nic_disabled(msg, msglen))
		return -ENXIO;
	err = vx_parse(name, &remote, &vni, &lport, msg, msglen);
	if (err)
		return err;
	if (reg->nr_mode != NR_REG_ALL_NIC && reg->nr_mode != NR_REG_ONE_NIC) {
		snprintf(msg, msglen, "%s has no host rings", name);
		return -EINVAL;
	}
	p = nmd_named_find(name);
	if (p) {
		if (reg->nr_mem_id && reg->nr_mem_id != p->rg->mem_id) {
			snprintf(msg, msglen, "%s lives in memory region %u, not %u", name,
				 p->rg->mem_id, reg->nr_mem_id);
			return -EINVAL;
		}
		*out = p;
		return 0;
	}
	vp = calloc(1, sizeof(*vp));
	if (!vp)
		return -ENOMEM;
	p = &vp->port;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->ops = &nmd_vxlan_ops;
	p->wake[0] = p->wake[1] = -1;
	vp->sock = vp->txsock = -1;
	vp->gso = true;
	vp->remote = remote;
	vp->vni = vni;
	vp->lport = lport;
	vp->hdr[0] = UNM_VXLAN_FLAG_I;
	vp->hdr[4] = (unsigned char)(vni >> 16);
	vp->hdr[5] = (unsigned char)(vni >> 8);
	vp->hdr[6] = (unsigned char)vni;
	p->hw_kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->hw_kick < 0) {
		err = -errno;
		goto fail;
	}
	if (reg->nr_mem_id) {
		p->rg = nmd_region_join(reg->nr_mem_id, msg, msglen, &err);
	} else {
		nmd_region_default_params(&rp);
		p->rg = nmd_region_new(&rp, &err);
	}
	if (!p->rg)
		goto fail;
	nmd_region_ref(p->rg);
	for (d = 0; d < 2; d++)
		rq.nrings[d] = 1;
	rq.nslots[UNM_DIR_TX] = clamp_slots(reg->nr_tx_slots);
	rq.nslots[UNM_DIR_RX] = clamp_slots(reg->nr_rx_slots);
	err = nmd_port_alloc_rings(p, &rq, 0);
	if (err) {
		snprintf(msg, msglen, "%s: cannot allocate rings: %s", name, strerror(-err));
		goto fail;
	}
	err = vx_socket(vp, msg, msglen);
	if (err)
		goto fail;
	err = -pthread_create(&vp->thr, NULL, vx_main, vp);
	if (err) {
		snprintf(msg, msglen, "%s: cannot start its engine: %s", name, strerror(-err));
		goto fail;
	}
	vp->running = true;
	nmd_named_add(p);
	nmd_info("%s: VXLAN tunnel to %s:%u, VNI %u, receiving on UDP port %u (region %u)",
		 name, inet_ntop(AF_INET, &remote.sin_addr, (char[INET_ADDRSTRLEN]){ 0 },
				 INET_ADDRSTRLEN), ntohs(remote.sin_port), vni, lport,
		 p->rg->mem_id);
	*out = p;
	return 0;
fail:
	vx_destroy(vp);
	return err;
}

static void vx_released(struct nmd_port *p)
{
	if (p->nbind > 0)
		return;
	vx_destroy(VX_PORT(p));
}

static bool vx_claims(const char *name, const struct nmreq_register *reg)
{
	(void)reg;
	return strncmp(name, UNM_VXLAN_PREFIX, strlen(UNM_VXLAN_PREFIX)) == 0;
}

/* PORT_INFO_GET: the open port, or what REGISTER would create */
static int vx_info(struct nmd_client *c, const char *name, struct nmreq_port_info_get *pi,
		   char *msg, size_t msglen)
{
	struct nmd_region_params rp;
	struct sockaddr_in remote;
	uint32_t vni;
	uint16_t lport;
	int err;

	(void)c;
	err = vx_parse(name, &remote, &vni, &lport, msg, msglen);
	if (err)
		return err;
	nmd_region_default_params(&rp);
	pi->nr_tx_rings = pi->nr_rx_rings = 1;
	pi->nr_tx_slots = pi->nr_rx_slots = VX_DEF_SLOTS;
	pi->nr_host_tx_rings = pi->nr_host_rx_rings = 0;
	pi->nr_memsize = rp.if_size + rp.ring_size + (uint64_t)rp.buf_total * rp.buf_size;
	pi->nr_mem_id = 0;
	return 0;
}

/* UNM_REQ_VXLAN_STATS of a port, or of "valeX:vxlan:..." (its attachment:
 * the name after the switch's). */
int nmd_vxlan_request(struct nmd_client *c, struct nmd_req *r)
{
	struct unm_vxlan_stats *st = r->body;
	const char *name = r->msg->hdr.nr_name, *v = strstr(name, UNM_VXLAN_PREFIX);
	struct nmd_port *p;
	struct vx_port *vp;

	(void)c;
	if (r->msg->hdr.nr_reqtype != UNM_REQ_VXLAN_STATS)
		return -EINVAL;
	p = v ? nmd_named_find(v) : NULL;
	if (!p || p->ops != &nmd_vxlan_ops)
		return -ENXIO;	/* no text: tools ask this of any port name */
	vp = VX_PORT(p);
	memset(st, 0, sizeof(*st));
	st->tx_pkts = atomic_load_explicit(&vp->st.tx_pkts, memory_order_relaxed);
	st->tx_bytes = atomic_load_explicit(&vp->st.tx_bytes, memory_order_relaxed);
	st->tx_drops = atomic_load_explicit(&vp->st.tx_drops, memory_order_relaxed);
	st->rx_pkts = atomic_load_explicit(&vp->st.rx_pkts, memory_order_relaxed);
	st->rx_bytes = atomic_load_explicit(&vp->st.rx_bytes, memory_order_relaxed);
	st->rx_wrong_vni = atomic_load_explicit(&vp->st.rx_wrong_vni, memory_order_relaxed);
	st->rx_bad = atomic_load_explicit(&vp->st.rx_bad, memory_order_relaxed);
	st->rx_foreign = atomic_load_explicit(&vp->st.rx_foreign, memory_order_relaxed);
	st->rx_invalid = atomic_load_explicit(&vp->st.rx_invalid, memory_order_relaxed);
	st->remote = vp->remote.sin_addr.s_addr;
	st->vni = vp->vni;
	st->port = ntohs(vp->remote.sin_port);
	st->lport = vp->lport;
	return 0;
}

const struct nmd_port_ops nmd_vxlan_ops = {
	.name = "vxlan",
	.claims = vx_claims,
	.open = vx_open,
	.info = vx_info,
	.wire_kind = UNM_KIND_HW,
	.released = vx_released,
};

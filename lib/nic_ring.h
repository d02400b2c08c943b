/*
 * nic_ring.h - what sync_xdp.c and sync_packet.c share: the parse of the
 * NIC part of a REGISTER reply and buffer ownership helpers.  Private to
 * libnetmap.
 *
 * Buffer ownership on NIC rings.  netmap's rule is that every slot owns
 * one buffer and no buffer is owned twice; netmapd frees exactly the
 * slots' buffers when the port goes away (the region may be shared with
 * the process's other NIC ports, so a stray index would free a buffer
 * somebody else uses).  The kernel, however, returns buffers (completed
 * transmissions, received frames) in an order of its own.  So when buffer
 * b comes back for slot t and slot t holds another buffer, the slot that
 * holds b (it is among the slots still with the kernel) exchanges buffers
 * with t: the set of buffers with the kernel and the set of slots with
 * the kernel stay equal.  With in-order completion (copy mode) the search
 * ends at once.
 */
#ifndef UNM_NIC_RING_H
#define UNM_NIC_RING_H

#include <errno.h>

#include "internal.h"
#include "unm_nic.h"

/* The struct unm_bind_nic after ring[] of a REGISTER reply; NULL if the
 * reply is too short or not one. */
static inline const struct unm_bind_nic *unm_nic_info(const struct unm_bind_info *bi,
						      size_t len)
{
	size_t off = sizeof(*bi) + (size_t)bi->nrings * sizeof(bi->ring[0]);
	const struct unm_bind_nic *nic;

	if (len < off + sizeof(*nic) + (size_t)bi->nrings * sizeof(nic->ring[0]))
		return NULL;
	nic = (const struct unm_bind_nic *)(const void *)((const char *)bi + off);
	return nic->magic == UNM_NIC_MAGIC ? nic : NULL;
}

/* unm_dev_bind() appended the bound rings to p->ring[dir] in reply order:
 * the ring that reply entry i describes. */
static inline struct unm_ring *unm_nic_ring_of(struct unm_port *p, const struct unm_bind_info *bi,
					       uint32_t i)
{
	uint32_t k, nth = 0;

	for (k = 0; k < i; k++)
		nth += bi->ring[k].dir == bi->ring[i].dir;
	return &p->ring[bi->ring[i].dir][nth];
}

/*
 * Make slot t own buffer b, which the kernel just returned for it: if
 * another slot in [t, end) owns b, the two exchange buffers.  If none
 * does (the application wrote into slots it did not own), t simply takes
 * b.  Returns true if b was found where expected.
 */
static inline bool unm_nic_claim(struct netmap_ring *ring, uint32_t n, uint32_t t,
				 uint32_t end, uint32_t b)
{
	struct netmap_slot *st = &ring->slot[t];
	uint32_t s;

	if (__builtin_expect(st->buf_idx == b, 1))
		return true;
	for (s = t + 1 == n ? 0 : t + 1; s != end; s = s + 1 == n ? 0 : s + 1) {
		if (ring->slot[s].buf_idx == b) {
			ring->slot[s].buf_idx = st->buf_idx;
			st->buf_idx = b;
			return true;
		}
	}
	st->buf_idx = b;
	return false;
}

/* The first member of r->priv of every NIC ring. */
struct unm_nic_sock {
	int fd;			/* the ring's AF_XDP or AF_PACKET socket */
	bool in_ep;		/* this ring added fd to the port's wake_ep */
};

/*
 * Sleepers must wake for frames received and for transmissions completed.
 * The sockets report both (POLLIN, and the write-space wake-up of every
 * transmitted skb the kernel frees), but a socket on an epoll set pays a
 * wake-up callback for every such packet even when nobody sleeps: ~5% of
 * the sender's time at 1.4 Mpps.  So the sockets join the port's wake_ep
 * only while a poll is about to sleep: arm adds them, edge-triggered, and
 * consumes the readiness their insertion reports (POLLOUT is always true:
 * the edge of a later completion is what matters; the caller re-checks
 * the rings after arm, so nothing is lost); disarm removes them.
 */
static inline void unm_nic_arm(struct unm_port *p, bool on)
{
	struct epoll_event ev, evs[8];
	bool added = false;
	uint32_t i;
	int d;

	for (d = 0; d < 2; d++) {
		for (i = 0; i < p->nrings[d]; i++) {
			struct unm_nic_sock *s = p->ring[d][i].priv;

			/* fd -1: a veth ring linked to its peer (sync_veth.c),
			 * woken through the port's eventfds only */
			if (!s || s->fd < 0 || s->in_ep == on)
				continue;
			if (on) {
				ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
				ev.data.fd = s->fd;
				/* EEXIST: the ring pair's other ring added it */
				if (unm_libc.epoll_ctl(p->wake_ep, EPOLL_CTL_ADD, s->fd, &ev) == 0)
					s->in_ep = added = true;
			} else {
				unm_libc.epoll_ctl(p->wake_ep, EPOLL_CTL_DEL, s->fd, NULL);
				s->in_ep = false;
			}
		}
	}
	if (added)
		while (unm_libc.epoll_wait(p->wake_ep, evs, 8, 0) == 8)
			;
}

/*
 * AF_XDP one ring at a time (sync_xdp.c), for the veth fast path
 * (sync_veth.c), whose rings are AF_XDP at times only.  The state is what
 * unm_xdp_ring_open() returns: ring r's half of the socket of reply entry
 * i (its rings mapped; the descriptor stays the caller's).
 * unm_xdp_ring_prefill() posts every spare, then slots [from, to), to a
 * new socket's fill ring and resets the spare cursor in k.
 */
void *unm_xdp_ring_open(struct unm_ring *r, char *base, const struct unm_bind_info *bi,
			size_t len, uint32_t i, const int *fds, unsigned nfds, int *err);
void unm_xdp_ring_close(void *x);
int unm_xdp_ring_txsync(struct unm_ring *r, void *x, struct unm_kring *k, uint32_t head);
int unm_xdp_ring_rxsync(struct unm_ring *r, void *x, struct unm_kring *k, uint32_t head);
uint32_t unm_xdp_ring_rx_pending(void *x);	/* frames its RX ring holds */
void unm_xdp_ring_prefill(struct unm_ring *r, void *x, struct unm_kring *k, uint32_t from,
			  uint32_t to);

/* The error a sync reports for the device state netmapd publishes. */
static inline int unm_nic_state_err(const struct unm_ring *r)
{
	/* A: pairs with netmapd's release in its link monitor */
	uint32_t st = atomic_load_explicit(&r->ctl->state, memory_order_acquire);

	if (__builtin_expect(!(st & (UNM_RING_DEV_DOWN | UNM_RING_DEV_GONE)), 1))
		return 0;
	return st & UNM_RING_DEV_GONE ? -ENXIO : -ENETDOWN;
}

#endif /* UNM_NIC_RING_H */

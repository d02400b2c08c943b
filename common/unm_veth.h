/*
 * unm_veth.h - the veth fast path: what netmapd (daemon/nic/nic_veth.c)
 * and libnetmap (lib/sync_veth.c) agree on.  Not a public header.
 *
 * When both ends of a veth pair are open as netmap:IFNAME through one
 * netmapd, in automatic mode (no @conf:nic= / --nic-mode), netmapd links
 * the two ports: TX ring i of one end feeds RX ring i of the other
 * directly, as netmap's native veth mode does, and the kernel is no
 * longer on the data path.  With one end open, the port runs on AF_XDP as
 * any interface.  netmapd finds the peer with RTM_GETLINK (IFLA_LINK, and
 * IFLA_LINK_NETNSID compared with the nsid of each open port's namespace,
 * RTM_GETNSID), so the two ends may live in different namespaces.
 *
 * Ports.  The second end opened is created in the first end's region
 * (zero copy: buffers move between the two without a copy), with the
 * first end's ring count and size, and without sockets.  A port that may
 * be linked binds with kind UNM_KIND_VETH.  Its rings do nothing until
 * their first sync asks netmapd what they are (UNM_REQ_VETH_LINK, one
 * round trip per ring, as monitors' UNM_REQ_MON_TARGETS): linked (the
 * peer ring and the eventfd its sleepers wait on), AF_XDP (the socket of
 * the ring's queue), or neither (nothing moves).  netmapd bumps
 * ctl.link_gen of every ring of a port whose configuration changes and
 * kicks the binders; each ring's next sync asks again and switches,
 * under its own sync lock, ring by ring.  kx[3] of each ring says which
 * configuration its shared state (hwcur, hwtail, kx[]) is in, so that
 * several processes binding one ring switch it once.
 *
 * Data path when linked (netmap's veth_netmap_txsync, push model).  TX
 * ring T of one end, RX ring R of the other, same slot count n.  T's
 * txsync owns R's free zone [R.ctl.hw_idx, R.ctl.app_idx - 1): it swaps
 * the buffer of each slot it sends with the one of the next free slot of
 * R (every slot always owns exactly one buffer: the sender's slot gets the
 * receiver's old buffer, flagged NS_BUF_CHANGED), publishes R.ctl.hw_idx
 * (release) and kicks R's sleepers.  Its position in R is in T's kx[2],
 * so a scribbled hw_idx cannot lead it.  R's rxsync is the hardware-ring
 * protocol of lib/sync_hw.c: publish app_idx = head (release), kick T's
 * sleepers, tail = hw_idx.  Only whole packets are pushed (NS_MOREFRAG
 * chains stay together; a chain that fills the whole ring goes as it is).  What
 * the peer wrote (app_idx, its slots' buffer indices) is read once and
 * validated; every loop is bounded by n.
 *
 * Switching, and what happens to frames in flight (exactly):
 *
 *   link (the second end B opens while A runs on AF_XDP): netmapd
 *   detaches A's XDP program, closes its copies of A's sockets and bumps
 *   A's link_gen.  Until A's rings switch, A's transmissions still go
 *   through the kernel, which now delivers them to B's namespace stack,
 *   not to B's rings (as if B were not open yet): B's rings see only what
 *   A sends after its TX ring switched, in order, none twice.  When A's
 *   TX ring switches it kicks the AF_XDP socket again and again while
 *   that completes anything (bounded: 64 kicks; in copy mode each kick
 *   completes a budget of frames), and takes back the completions; only
 *   slots the kernel then still had not completed are given back to the application unsent and counted (ctl.hw_drops of
 *   the TX ring, "link_drops" of UNM_REQ_NIC_INFO).  A's RX ring takes
 *   what its AF_XDP RX ring holds (as much as fits; the rest is counted
 *   the same way), closes the socket (the last close waits for an RCU
 *   grace period: the kernel writes no buffer of the ring afterwards),
 *   publishes hw_idx = tail, app_idx = head and then link_ack = READY |
 *   gen; only then does B's TX ring push into it, so nothing the kernel
 *   delivered is overwritten.  B's rings, new, are READY at once.  An RX
 *   ring nobody binds is made READY by netmapd.
 *
 *   unlink (B's last binding goes, A is still bound): B is kept, rings
 *   and buffers, for as long as A is bound (like a pipe end: reopening it
 *   links again and finds what A had pushed into it; A may be pushing
 *   into it until its TX ring switches).  netmapd makes new AF_XDP
 *   sockets for A, puts them in the XDP program's map and bumps A's
 *   link_gen.  A's TX ring hands what it held but had not pushed yet to
 *   the new AF_XDP TX ring (nothing lost); A's RX ring takes what had been
 *   pushed (hw_idx), then posts its spare buffers and its free slots to
 *   the new fill ring.  Frames that reach A's queue between netmapd's
 *   map update and that post find the fill ring empty: the kernel drops
 *   and counts them (rx_fill_empty of UNM_REQ_NIC_INFO).  Frames B had
 *   pushed that A had not taken are in A's RX ring, none lost.
 *
 *   both ends closed: both ports go, as any interface's.
 *
 * Trust.  The two linked ends share a region, so they trust each other
 * as two ends of a pipe do.  So ends are linked only when they were
 * opened by one trust domain: the host, or one grant's holder (a pod,
 * docs/containers.md), never across: a container shares memory with no
 * port it was not given.  An end whose region is sealed is not linked.
 *
 * Monitors.  Copy monitors (/r, /t) see a linked ring's frames as on
 * AF_XDP.  A zero-copy monitor (/z) of a TX ring takes the buffers the
 * ring reclaims, which, linked, are the receiver's old ones (the frames
 * left with the push): so an end with a zero-copy monitor is not linked
 * (both stay on AF_XDP); a /z monitor opened on an end already linked
 * gets those buffers.
 */
#ifndef UNM_VETH_H
#define UNM_VETH_H

#include <stdbool.h>
#include <stdint.h>

#include "unm_nic.h"

#define UNM_VETH_GEN_MASK 0x1fffffffu	/* generations wrap in 29 bits */

/*
 * kx[3] of a veth port's ring: which configuration the ring's shared
 * state is in, written under the ring's sync lock by whichever binder
 * switches it (netmapd sets it on rings nobody binds).  Shared memory:
 * whoever reads it validates what it says.
 */
#define UNM_VETH_M_SHIFT  30
#define UNM_VETH_M_XDP    0u	/* AF_XDP sockets; value: the generation */
#define UNM_VETH_M_LINK   1u	/* linked; value: the generation */
#define UNM_VETH_M_NONE   2u	/* no sockets, no link */
#define UNM_VETH_CURSOR   (1u << 29)	/* TX, linked: kx[2] is our position
					 * in the peer's RX ring */

static inline uint32_t unm_veth_state(uint32_t mode, uint32_t value, bool cursor)
{
	return mode << UNM_VETH_M_SHIFT | (cursor ? UNM_VETH_CURSOR : 0) |
	       (value & UNM_VETH_GEN_MASK);
}

static inline uint32_t unm_veth_mode(uint32_t st)
{
	return st >> UNM_VETH_M_SHIFT;
}

static inline uint32_t unm_veth_value(uint32_t st)
{
	return st & UNM_VETH_GEN_MASK;
}

/* ctl.link_ack of an RX ring: its binders made it ready for gen */
#define UNM_VETH_ACK_READY  (1u << 30)	/* linked for gen: push into me from
					 * hw_idx on */

static inline uint32_t unm_veth_ack(uint32_t what, uint32_t gen)
{
	return what | (gen & UNM_VETH_GEN_MASK);
}

/*
 * UNM_REQ_VETH_LINK: what ring (dir, ringid) of the caller's binding is
 * now.  The reply body is this struct; for UNM_VETH_M_XDP it is followed
 * by a struct unm_bind_nic with one struct unm_nic_ring (the socket of the
 * ring's queue, as in a REGISTER reply), for UNM_VETH_M_LINK by nothing:
 * peer_ofs and kick_fd say it all.  Descriptors: the socket, or the
 * eventfd of the peer ring's sleepers.  Errors: EINVAL the descriptor is
 * not bound, or not to that ring of a veth port.
 */
#define UNM_REQ_VETH_LINK	0x7e11

struct unm_veth_link {
	uint16_t dir;		/* in: UNM_DIR_* of the ring */
	uint16_t ringid;	/* in */
	uint32_t mode;		/* out: UNM_VETH_M_* */
	uint32_t gen;		/* out: the ring's link_gen this describes */
	uint32_t peer_gen;	/* out, LINK: the peer port's generation (a TX
				 * ring waits for link_ack READY of it) */
	uint64_t peer_ofs;	/* out, LINK: region offset of the peer ring
				 * (TX: the peer's RX ring i; RX: its TX ring i) */
	int16_t  kick_fd;	/* out, LINK: descriptor index of the eventfd
				 * the peer ring's sleepers wait on */
	uint16_t pad[3];
};

#endif /* UNM_VETH_H */

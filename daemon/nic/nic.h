/*
 * nic.h - netmap:IFNAME ports inside netmapd: what nic.c (ports, regions,
 * namespaces, link monitor), nic_xdp.c (AF_XDP) and nic_packet.c
 * (AF_PACKET) share.  The rest of netmapd sees the nmd_nic_* hooks of
 * nmd.h.
 *
 * Model
 * -----
 * One port per interface (network namespace + ifindex), created by the
 * first REGISTER and destroyed with its last binding, like netmap's NIC
 * adapter.  Binding any of its rings puts the whole interface in netmap
 * mode: every queue gets an AF_XDP socket and the XDP program redirects
 * every queue's traffic to it.  One netmap TX/RX ring pair per queue.
 *
 * The port's region is the UMEM.  Regions are per client process: the
 * NIC ports a process opens share one region ("NIC region"), so that an
 * application bridging two interfaces swaps buffers instead of copying,
 * as with netmap's global allocator.  The sockets of one region share one
 * UMEM (XDP_SHARED_UMEM); where the kernel refuses, a socket registers
 * its own UMEM over the same buffers, which keeps the buffer index space
 * (and zero-copy forwarding) intact at the cost of pinning the pages once
 * more.  UMEM registration pins the buffer pool, so NIC regions are small.
 *
 * Threads: everything here runs on netmapd's main thread except the link
 * monitor (nic.c), which only reads `mon` fields under nic_lock and sets
 * state bits in ring control blocks.
 */
#ifndef NMD_NIC_H
#define NMD_NIC_H

#include <net/if.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "nmd.h"
#include "unm_nic.h"

#define NIC_DEF_SLOTS   1024u
#define NIC_MIN_SLOTS   64u
#define NIC_MAX_SLOTS   4096u
#define NIC_MAX_QUEUES  48u	/* per port: bounded by the descriptors a
				 * REGISTER reply can pass */
#define NIC_DEF_BUFS    32768u	/* buffers of a NIC region (64 MB): two
				 * default ports with their spares */
#define NIC_RX_SPARE_X  7u	/* an RX queue's spare buffers: this many
				 * times its slots (see struct nic_queue), */
#define NIC_RX_SPARE_PORT 7168u	/* but a port's queues share at most this
				 * many */
#define NIC_L2_HDR      18u	/* Ethernet header with one VLAN tag */
#define NMD_NIC_BUF_SIZE 2048u	/* buffer size of NIC regions */

/* UMEM flavours: how a socket's UMEM is laid over the region's buffers */
enum nic_umem_kind {
	NIC_UMEM_COPY,		/* unaligned chunks, frames land at the
				 * buffer start (copy mode) */
	NIC_UMEM_ZC,		/* aligned chunks (zero copy) */
	NIC_UMEM_KINDS
};

/* The NIC region of one client process. */
struct nic_region {
	pid_t pid;
	struct nmd_region *rg;
	int nports;
	struct nic_region *next;
};

/*
 * One interface queue: its AF_XDP socket, and the receive buffers it
 * holds beyond the RX ring's slots.  A netmap ring of n slots lends the
 * kernel at most n - 1 buffers; while the application is not scheduled
 * the kernel fills them and then drops (fill ring empty), which at
 * 250 kpps takes 4 ms with 1024 slots, and stalls of a few hundred ms
 * happen on a busy machine.  So each RX queue also owns
 * `spare_n` buffers that belong to no slot: they are posted to the fill
 * ring first, and their indices live in an array in the region
 * (spare_ofs) that the library's rxsync keeps up to date as it exchanges
 * buffers between slots and spares (lib/sync_xdp.c), so that netmapd
 * frees exactly them when the port goes.
 */
struct nic_queue {
	int xsk;		/* AF_XDP socket, -1 if none */
	enum nic_umem_kind umem;
	uint32_t tx_entries;	/* TX and completion ring entries */
	uint32_t rx_entries;	/* RX and fill ring entries */
	uint32_t spare_n;	/* receive buffers beyond the slots' */
	uint64_t spare_ofs;	/* region offset of their uint32_t indices
				 * (0: not allocated) */
	bool zc;
};

struct nic_port {
	struct nmd_port port;	/* what request.c binds; name = ifname */
	char ifname[IFNAMSIZ];
	int ifindex;
	dev_t ns_dev;		/* the network namespace it lives in */
	ino_t ns_ino;
	int nsfd;		/* that namespace, for the teardown */
	struct nic_region *nr;
	uint64_t mode;		/* NR_UNM_NIC_* in use */
	uint32_t nq;		/* queues = ring pairs */
	uint32_t nslots;
	uint32_t mtu;
	/* AF_XDP */
	struct xdp_program *prog;
	int attach_mode;	/* enum xdp_attach_mode */
	int map_fd;
	struct nic_queue *q;
	uint32_t nic_flags;	/* UNM_NIC_F_* */
	uint32_t rx_back;
	/* AF_PACKET */
	int pkt;
	uint32_t blk_size, blk_nr;
	uint64_t pkt_drops;	/* PACKET_STATISTICS resets on each read:
				 * the sum of what we read */
	/* veth fast path (nic_veth.c, common/unm_veth.h); main thread */
	bool veth;		/* a veth end opened in automatic mode: its
				 * binders run lib/sync_veth.c */
	int peer_ifindex;	/* the other end (IFLA_LINK) */
	int peer_nsid;		/* its namespace as our namespace numbers it
				 * (IFLA_LINK_NETNSID); -1: ours */
	struct nic_port *peer;	/* the other end's port, when linked (or
				 * chosen by the open, linked by the bind) */
	bool kept;		/* unbound, kept for its bound peer */
	char holder[48];	/* opened through a grant: its holder; "" for
				 * the host.  Only equal holders are linked */
	uint32_t link_gen;	/* configuration generation of the rings */
	/* link monitor (under nic_lock) */
	int nl;			/* rtnetlink socket in the namespace */
	uint32_t watch_id;
	bool down, gone;
	struct nic_port *next;
};

/*
 * The spare receive buffers of each of the nq queues of an AF_XDP port
 * with `slots` RX slots.  With 1024 slots, one queue lends the kernel
 * 8191 buffers: 330 ms of traffic at 25 kpps, 33 ms at 250 kpps.  A
 * stall hits the whole process, so the queues of a port share one
 * budget (traffic spread over them arrives at the same total rate).
 */
static inline uint32_t nic_rx_spares(uint32_t slots, uint32_t nq)
{
	uint32_t n = slots * NIC_RX_SPARE_X, per = NIC_RX_SPARE_PORT / (nq ? nq : 1);

	return n < per ? n : per;
}

#define NIC_PORT(p) ((struct nic_port *)(void *)((char *)(p) - \
			offsetof(struct nic_port, port)))

extern pthread_mutex_t nic_lock;

/* nic.c: a bound AF_XDP socket of the region (other than self's) whose
 * UMEM has flavour k, to share it; -1 if none. */
int nic_region_umem_fd(const struct nic_region *nr, const struct nic_port *self,
		       enum nic_umem_kind k);

/* nic_xdp.c: attach the program and create one socket per queue.  On
 * failure everything it did is undone; msg says why.  `want` holds the
 * requested NR_UNM_NIC_* bits (0: best available).  nic_xdp_start(), once
 * the rings exist, posts the RX rings' buffers and lets traffic in. */
int nic_xdp_setup(struct nic_port *np, uint64_t want, char *msg, size_t msglen);
int nic_xdp_start(struct nic_port *np, char *msg, size_t msglen);
void nic_xdp_teardown(struct nic_port *np);
/* Add what the kernel dropped on the port's sockets to ni (the sockets
 * are open). */
void nic_xdp_stats(const struct nic_port *np, struct unm_nic_info *ni);
void nic_xdp_init(void);
/* veth fast path: the kernel stops delivering to the port (program
 * detached, netmapd's socket copies closed; spare arrays kept, the
 * binders' rings still own them); and back: program, sockets (and spare
 * arrays for a port that never had any) made again and put in the map,
 * fill rings left for the binders to post (common/unm_veth.h). */
void nic_xdp_suspend(struct nic_port *np);
int nic_xdp_resume(struct nic_port *np, char *msg, size_t msglen);

/* nic.c, for nic_vale.c: does the interface exist in the namespace (1,
 * 0, -errno); is a netmap port open on it. */
int nic_if_exists(int nsfd, const struct stat *ns, const char *ifname);
bool nic_port_open_in(const struct stat *ns, const char *ifname);

/* nic_vale.c: interfaces attached to VALE switches */
void nic_vale_configure(const char *socket_path);
void nic_vale_fini(void);
/* The namespace and interface of attachment `name` ("valeX:IFNAME");
 * false if there is none. */
bool nic_vale_lookup(const char *name, struct stat *ns, char *ifname);

/* nic.c, for nic_veth.c: the next open port after np (NULL: the first);
 * enter a port's namespace (leave it with nic_ns_leave); the NIC_INFO
 * description of a port */
struct nic_port *nic_port_next(struct nic_port *np);
int nic_ns_enter(const struct nic_port *np, int *saved);
void nic_ns_leave(int saved);
void nic_port_destroy(struct nic_port *np);

/*
 * nic_veth.c: the veth fast path (common/unm_veth.h).
 *   nic_veth_probe	in np's namespace: is it a veth end, and its peer
 *   nic_veth_peer	the open port a new port np should be linked to
 *			(NULL: none, or no room in its region)
 *   nic_veth_init	np is new and linked-to-be: its rings' link state
 *   nic_veth_bound	a binding was added to np: link it if it must be
 *   nic_veth_released	np's last binding went: false if np is kept for its
 *			peer (else the caller destroys it; a kept peer
 *			goes too)
 *   nic_veth_request	UNM_REQ_VETH_LINK
 *   nic_veth_drops	what its binders counted at switches
 */
int nic_veth_probe(struct nic_port *np);
struct nic_port *nic_veth_peer(struct nic_port *np, uint32_t need);
void nic_veth_init(struct nic_port *np);
void nic_veth_bound(struct nic_port *np);
bool nic_veth_released(struct nic_port *np);
int nic_veth_request(struct nmd_client *c, struct nmd_req *r);
uint64_t nic_veth_drops(const struct nic_port *np);

/* nic_packet.c: the AF_PACKET socket and its TPACKET_V3 ring. */
int nic_packet_setup(struct nic_port *np, char *msg, size_t msglen);
void nic_packet_teardown(struct nic_port *np);
void nic_packet_stats(struct nic_port *np, struct unm_nic_info *ni);

#endif /* NMD_NIC_H */

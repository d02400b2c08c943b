/*
 * unm_nic.h - netmap:IFNAME ports (network interfaces): what netmapd tells
 * libnetmap beyond struct unm_bind_info, and the mode words shared by the
 * @conf:nic= option, netmapd's --nic-mode and the NR_UNM_NIC_* register
 * flags (net/netmap.h).  Not a public header.
 *
 * netmapd owns the interface side: it attaches the XDP program, creates
 * the AF_XDP sockets (one per interface queue) or the AF_PACKET socket,
 * registers the UMEM on the port's region and passes the sockets with the
 * REGISTER reply.  The application's process runs the data path on those
 * sockets inside txsync/rxsync (lib/sync_xdp.c, lib/sync_packet.c).
 *
 * Wire layout of a REGISTER reply for kinds UNM_KIND_XDP and
 * UNM_KIND_PACKET:
 *   struct unm_bind_info, ring[nrings]
 *   struct unm_bind_nic, ring[nrings]   (same order as above)
 * The descriptors: [0] region memfd, [1] [2] wake eventfds (TX, RX), then
 * the sockets, each named by unm_nic_ring.sock_fd.
 */
#ifndef UNM_NIC_H
#define UNM_NIC_H

#include <stdint.h>
#include <stddef.h>
#include <net/netmap.h>

/* Changes with the layout below: a library that expects another one
 * finds no NIC part in the reply and refuses the bind (EPROTO). */
#define UNM_NIC_MAGIC 0x33494e55u	/* "UNI3" */

/* unm_bind_nic.flags */
#define UNM_NIC_F_NEED_WAKEUP 0x1u	/* XDP: bound with XDP_USE_NEED_WAKEUP */
#define UNM_NIC_F_SG          0x2u	/* XDP: bound with XDP_USE_SG (TX of
					 * NS_MOREFRAG chains) */
#define UNM_NIC_F_UNALIGNED   0x4u	/* XDP: unaligned chunks; see rx_back */

struct unm_nic_ring {
	int16_t  sock_fd;	/* index in the passed descriptors */
	uint16_t qid;		/* interface queue */
	uint32_t ring_entries;	/* XDP: entries of the socket's TX ring (for
				 * a netmap TX ring) or RX ring (RX) */
	uint32_t umem_entries;	/* XDP: entries of the completion (TX) or
				 * fill (RX) ring */
	/*
	 * XDP RX: buffers the ring lends the kernel beyond its slots'
	 * (netmapd posted them to the fill ring before the slots' own).
	 * Their indices are an array of spare_n uint32_t at region offset
	 * spare_ofs, in the order the kernel will return them: rxsync
	 * exchanges the buffer of the slot a frame fills with the array's
	 * oldest entry (cursor in the control block's kx[1]), so that the
	 * slots and the array together always own every buffer exactly
	 * once; netmapd frees the array's buffers with the port.
	 */
	uint32_t spare_n;
	uint64_t spare_ofs;
};

struct unm_bind_nic {
	uint32_t magic;		/* UNM_NIC_MAGIC */
	uint32_t flags;		/* UNM_NIC_F_* */
	uint64_t mode;		/* NR_UNM_NIC_* bits in use */
	/*
	 * XDP receive: the kernel writes a frame XDP_PACKET_HEADROOM bytes
	 * (plus the UMEM headroom, 0 here) after the address it took from
	 * the fill ring.  With unaligned chunks we post buffer b as
	 * b * buf_size - rx_back, so the frame lands at the start of b, where
	 * netmap applications expect it.  0 with aligned chunks (zero copy):
	 * the frame then lands inside the buffer and rxsync moves it.
	 */
	uint32_t rx_back;
	uint32_t rx_room;	/* longest frame a buffer receives */
	/* AF_PACKET: the TPACKET_V3 receive ring */
	uint32_t blk_size;
	uint32_t blk_nr;
	struct unm_nic_ring ring[];
};

/*
 * UNM_REQ_NIC_INFO - unetmap's own control request (NIOCCTRL, like
 * netmap's): how an open netmap:IFNAME port reaches its interface, and
 * what the kernel dropped on its way to the port's rings, the numbers
 * netmap users diagnose losses with (pkt-gen prints them after its
 * summary, vale-ctl -s for interfaces attached to a switch).  REGISTER
 * leaves nr_flags as the caller sent them, as netmap does, so this is
 * where the mode in use is told.
 *
 *	struct nmreq_header hdr;
 *	struct unm_nic_info ni;
 *	nmreq_header_init(&hdr, UNM_REQ_NIC_INFO, &ni);
 *	strcpy(hdr.nr_name, "eth0");	or "vale0:eth0", an attached one
 *	ioctl(fd, NIOCCTRL, &hdr);
 *
 * The name is an interface of the caller's network namespace with a
 * netmap port open on it (by any process), or "valeX:IFNAME" of an
 * interface attached to switch valeX.  Errors: ENXIO no such open port
 * or attachment.  Counters cover every queue, since the port was opened.
 * The type sits far above netmap's own request numbers, as
 * UNM_REQ_VALE_STATS does (unm_vale.h).
 */
#define UNM_REQ_NIC_INFO	0x7e10

struct unm_nic_info {
	uint64_t mode;		/* NR_UNM_NIC_* bits of the mode in use */
	uint32_t queues;	/* ring pairs (interface queues) */
	uint32_t slots;		/* slots per ring */
	uint32_t rx_spares;	/* AF_XDP: receive buffers per queue beyond
				 * the RX ring's slots */
	uint32_t link;		/* UNM_NIC_LINK_*: the veth fast path */
	uint64_t rx_drops;	/* frames the kernel took for the port and
				 * dropped: AF_XDP no buffer (fill ring
				 * empty), RX ring full, or too long;
				 * AF_PACKET no room in the receive ring */
	uint64_t rx_ring_full;	/* AF_XDP: of those, RX ring full */
	uint64_t rx_fill_empty;	/* AF_XDP: times the kernel wanted a buffer
				 * and found the fill ring empty */
	uint64_t rx_invalid;	/* AF_XDP: fill ring entries it refused */
	uint64_t tx_invalid;	/* AF_XDP: TX descriptors it refused */
	uint64_t link_drops;	/* veth: frames in the kernel path when the
				 * port switched to or from linked mode
				 * (common/unm_veth.h) */
};

_Static_assert(sizeof(struct unm_nic_info) == 72, "unm_nic_info is 72 bytes");

/* unm_nic_info.link */
#define UNM_NIC_LINK_NONE 0u	/* through the kernel (the mode above) */
#define UNM_NIC_LINK_PEER 1u	/* veth: rings linked to the other end's,
				 * no kernel on the data path */
#define UNM_NIC_LINK_KEPT 2u	/* veth: closed, kept for the other end,
				 * which is open (common/unm_veth.h) */

/* What a mode means, for people: "AF_XDP, native XDP, copy mode",
 * "emulated (AF_PACKET)", ...; "unknown" for no mode. */
const char *unm_nic_mode_desc(uint64_t mode);

/* Names of the mode words, for messages: "native", "generic+copy", ... */
const char *unm_nic_mode_str(uint64_t mode, char *buf, size_t len);

/*
 * unm_nic_mode_parse - "auto", or words joined by '+': one of native,
 * generic, emulated (how the interface is reached) and one of zerocopy,
 * copy (AF_XDP bind mode).  Returns 0 and the NR_UNM_NIC_* bits in *mode,
 * or -EINVAL.
 */
int unm_nic_mode_parse(const char *s, uint64_t *mode);

/* Checks a requested mode for contradictions.  0 or -EINVAL. */
int unm_nic_mode_check(uint64_t mode);

#endif /* UNM_NIC_H */

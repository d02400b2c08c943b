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

#define UNM_NIC_MAGIC 0x43494e55u	/* "UNIC" */

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
	uint32_t pad;
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

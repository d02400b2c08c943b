/*
 * nic_packet.c - the emulated side of netmap:IFNAME ports, for when
 * AF_XDP is not available (or @conf:nic=emulated asks for it): one
 * AF_PACKET socket bound to the interface, with a TPACKET_V3 receive ring
 * the client maps and walks in rxsync; txsync transmits with sendmmsg()
 * straight from the region's buffers (PACKET_QDISC_BYPASS).  Like netmap's
 * emulated adapter this is one ring pair; unlike it, the kernel stack
 * keeps receiving the interface's traffic (a packet socket only taps it).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "nic.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

/*
 * The receive ring is 4 MB of blocks.  A block goes to the application
 * when full or after PKT_RETIRE_MS, and the kernel drops once every block
 * waits for the application, so at a modest rate each block carries only
 * what arrived in 1 ms: with 32 blocks of 128 KB, a receiver that is not
 * scheduled for 32 ms lost frames at 25 kpps.  Blocks of 16 KB (a block
 * holds ~110 minimum-size frames, and any frame a buffer can take) give
 * 256 of them: 256 ms at low rates, and the same ~29000 frames at high
 * ones.
 */
#define PKT_BLOCK_SIZE (1u << 14)	/* 16 KB blocks */
#define PKT_BLOCK_NR   256u		/* 4 MB of receive ring */
#define PKT_RETIRE_MS  1u		/* a partly filled block reaches the
					 * application after at most 1 ms */

int nic_packet_setup(struct nic_port *np, char *msg, size_t msglen)
{
	struct tpacket_req3 req;
	struct sockaddr_ll sll;
	int fd, v, err;
	const char *what;

	/* protocol 0: nothing is queued to the socket before bind() */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		what = "AF_PACKET socket";
		goto fail;
	}
	v = TPACKET_V3;
	what = "PACKET_VERSION";
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0)
		goto fail;
	memset(&req, 0, sizeof(req));
	req.tp_block_size = PKT_BLOCK_SIZE;
	req.tp_block_nr = PKT_BLOCK_NR;
	req.tp_frame_size = 2048;	/* V3 frames are packed: only for tp_frame_nr */
	req.tp_frame_nr = PKT_BLOCK_SIZE / req.tp_frame_size * PKT_BLOCK_NR;
	req.tp_retire_blk_tov = PKT_RETIRE_MS;
	what = "PACKET_RX_RING";
	if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
		goto fail;
	v = 1;
	/* transmit straight to the driver, as netmap does */
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &v, sizeof(v)) < 0)
		nmd_debug("%s: PACKET_QDISC_BYPASS: %s", np->ifname, strerror(errno));
	/* netmap's RX rings see what the wire brings, not what the host
	 * sends (the client also skips PACKET_OUTGOING frames) */
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &v, sizeof(v)) < 0)
		nmd_debug("%s: PACKET_IGNORE_OUTGOING: %s", np->ifname, strerror(errno));
	v = 4 << 20;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = np->ifindex;
	what = "bind";
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto fail;
	np->pkt = fd;
	np->blk_size = PKT_BLOCK_SIZE;
	np->blk_nr = PKT_BLOCK_NR;
	np->mode = NR_UNM_NIC_EMULATED;
	return 0;
fail:
	err = -errno;
	snprintf(msg, msglen, "%s: %s: %s", np->ifname, what, strerror(errno));
	if (fd >= 0)
		close(fd);
	return err;
}

void nic_packet_stats(struct nic_port *np, struct unm_nic_info *ni)
{
	struct tpacket_stats_v3 st;
	socklen_t sl = sizeof(st);

	memset(&st, 0, sizeof(st));
	if (np->pkt >= 0 && getsockopt(np->pkt, SOL_PACKET, PACKET_STATISTICS, &st, &sl) == 0)
		np->pkt_drops += st.tp_drops;
	ni->rx_drops += np->pkt_drops;
}

void nic_packet_teardown(struct nic_port *np)
{
	if (np->pkt >= 0)
		close(np->pkt);
	np->pkt = -1;
}

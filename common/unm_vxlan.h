/*
 * unm_vxlan.h - VXLAN ports (RFC 7348): a netmap port whose "wire" is a
 * UDP tunnel to one remote host, served by netmapd (daemon/vxlan/).
 *
 * Port name (the whole string is the name, as for valeX:Y):
 *
 *	vxlan:REMOTE:VNI[:PORT[:LPORT]]
 *
 *   REMOTE	IPv4 address of the other end, dotted quad
 *   VNI	VXLAN network identifier, 0 .. 16777215 (decimal)
 *   PORT	UDP port datagrams are sent to (default 4789, IANA's)
 *   LPORT	local UDP port netmapd receives on (default PORT)
 *
 * Frames an application transmits on the port leave as UDP datagrams
 * (8-byte VXLAN header, then the frame) from netmapd's socket to
 * REMOTE:PORT; datagrams arriving on LPORT from REMOTE's address (any
 * source port, as Linux's vxlan device picks one per flow) with the VNI
 * are delivered, without the header, to the RX ring.  Everything else is
 * dropped and counted below.
 *
 * UNM_REQ_VXLAN_STATS - the counters of an open vxlan port, by its name
 * or by the name of its attachment to a switch ("vale0:vxlan:..."):
 *
 *	struct nmreq_header hdr;
 *	struct unm_vxlan_stats st;
 *	nmreq_header_init(&hdr, UNM_REQ_VXLAN_STATS, &st);
 *	strcpy(hdr.nr_name, "vxlan:10.0.0.2:42");
 *	ioctl(fd, NIOCCTRL, &hdr);
 *
 * Errors: ENXIO no such open port.  Counters start at zero when the port
 * is created and only grow; they are sampled while traffic flows.
 */
#ifndef UNM_VXLAN_H
#define UNM_VXLAN_H

#include <stdint.h>

#define UNM_REQ_VXLAN_STATS	0x7e40

#define UNM_VXLAN_PREFIX	"vxlan:"
#define UNM_VXLAN_DEF_PORT	4789u
#define UNM_VXLAN_HDR_LEN	8u	/* flags, 3 reserved, VNI (24), 1 reserved */
#define UNM_VXLAN_FLAG_I	0x08u	/* "the VNI is valid": must be set */
#define UNM_VXLAN_VNI_MAX	0xffffffu
/* What encapsulation adds on the underlay: outer Ethernet 14, IPv4 20,
 * UDP 8, VXLAN 8.  The inner frame's Ethernet header is carried too, so
 * an inner MTU of 1450 fits an underlay MTU of 1500. */
#define UNM_VXLAN_OVERHEAD	50u

struct unm_vxlan_stats {
	uint64_t tx_pkts;	/* frames sent as datagrams */
	uint64_t tx_bytes;	/* their bytes (inner frames) */
	uint64_t tx_drops;	/* taken from the TX ring and not sent: bad
				 * slot (buffer index, length, NS_MOREFRAG)
				 * or the kernel refused the datagram */
	uint64_t rx_pkts;	/* frames delivered into the RX ring */
	uint64_t rx_bytes;
	uint64_t rx_wrong_vni;	/* well-formed, another VNI */
	uint64_t rx_bad;	/* too short, I flag clear, or longer than
				 * a buffer */
	uint64_t rx_foreign;	/* from an address other than REMOTE */
	uint64_t rx_invalid;	/* RX slot released with a bad buffer */
	uint32_t remote;	/* REMOTE, network byte order */
	uint32_t vni;
	uint16_t port, lport;	/* host byte order */
	uint32_t pad;
};

_Static_assert(sizeof(struct unm_vxlan_stats) == 88, "unm_vxlan_stats is 88 bytes");

#endif /* UNM_VXLAN_H */

/*
 * unetmap — netmap's legacy control ABI (API version 14): struct nmreq,
 * NIOCGINFO, NIOCREGIF and NIOCCONFIG, with netmap's sizes, values and
 * ioctl numbers.  Still used by nm_open() in <net/netmap_user.h> and by
 * older programs; libnetmap converts these requests to NIOCCTRL ones, as
 * the kernel does.
 *
 * As in netmap, <net/netmap.h> includes this file; programs include that
 * one (or <net/netmap_user.h>), not this.  It compiles alone all the same.
 */
#ifndef _NET_NETMAP_LEGACY_H_
#define _NET_NETMAP_LEGACY_H_

#include <stdint.h>
#include <sys/ioctl.h>		/* _IOWR */

#ifndef IFNAMSIZ
#define IFNAMSIZ 16
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * struct nmreq - argument of NIOCGINFO and NIOCREGIF (60 bytes).
 *
 * nr_name	port name (15 characters at most)
 * nr_version	NETMAP_API or later
 * nr_offset	(out) offset of the netmap_if in the region
 * nr_memsize	(out) size of the region
 * nr_tx_slots, nr_rx_slots, nr_tx_rings, nr_rx_rings
 *		(in/out) ring configuration, 0 = default
 * nr_ringid	ring number (NETMAP_RING_MASK) plus the NETMAP_* bits
 * nr_cmd	0 to register, else NETMAP_BDG_* / NETMAP_VNET_HDR_GET
 * nr_arg1	argument of nr_cmd
 * nr_arg2	(in/out) memory region id
 * nr_arg3	(in/out) extra buffers
 * nr_flags	NR_REG_* mode (NR_REG_MASK bits) | NR_* flags
 *
 * A successful register writes back only nr_offset, nr_memsize, the ring
 * configuration, nr_arg2 and nr_arg3.
 */
struct nmreq {
	char		nr_name[IFNAMSIZ];
	uint32_t	nr_version;
	uint32_t	nr_offset;
	uint32_t	nr_memsize;
	uint32_t	nr_tx_slots;
	uint32_t	nr_rx_slots;
	uint16_t	nr_tx_rings;
	uint16_t	nr_rx_rings;
	uint16_t	nr_ringid;
	uint16_t	nr_cmd;
	uint16_t	nr_arg1;
	uint16_t	nr_arg2;
	uint32_t	nr_arg3;
	uint32_t	nr_flags;
	uint32_t	spare2[1];
};

/* nmreq.nr_ringid */
#define NETMAP_RING_MASK	0x0fff	/* ring number */
#define NETMAP_NO_TX_POLL	0x1000	/* poll() does not txsync */
#define NETMAP_SW_RING		0x2000	/* NR_REG_DEFAULT: host rings only */
#define NETMAP_HW_RING		0x4000	/* NR_REG_DEFAULT: one NIC ring pair */
#define NETMAP_DO_RX_POLL	0x8000	/* accepted, no effect */

/* nmreq.nr_cmd */
#define NETMAP_BDG_ATTACH	1	/* attach a NIC to a switch */
#define NETMAP_BDG_DETACH	2	/* detach it */
#define NETMAP_BDG_REGOPS	3	/* install lookup callbacks (internal) */
#define NETMAP_BDG_LIST		4	/* NIOCGINFO: look up / list ports */
#define NETMAP_BDG_VNET_HDR	5	/* set the virtio-net header length */
#define NETMAP_BDG_NEWIF	6	/* create a persistent VALE port */
#define NETMAP_BDG_DELIF	7	/* destroy it */
#define NETMAP_PT_HOST_CREATE	8	/* ptnetmap (not supported) */
#define NETMAP_PT_HOST_DELETE	9	/* ptnetmap (not supported) */
#define NETMAP_BDG_POLLING_ON	10	/* start polling threads */
#define NETMAP_BDG_POLLING_OFF	11	/* stop them */
#define NETMAP_VNET_HDR_GET	12	/* get the virtio-net header length */

#define NETMAP_BDG_HOST		1	/* nr_arg1 of NETMAP_BDG_ATTACH: also
					   attach the host stack */

#define NR_REG_MASK		0xf	/* NR_REG_* mode bits of nr_flags */

/*
 * struct nm_ifreq - argument of NIOCCONFIG (272 bytes): nifr_name selects
 * a VALE switch, data is passed to its lookup module's config callback.
 */
#define NM_IFRDATA_LEN		256
struct nm_ifreq {
	char		nifr_name[IFNAMSIZ];
	char		data[NM_IFRDATA_LEN];
};

#define NIOCGINFO	_IOWR('i', 145, struct nmreq)	/* 0xc03c6991 */
#define NIOCREGIF	_IOWR('i', 146, struct nmreq)	/* 0xc03c6992 */
#define NIOCCONFIG	_IOWR('i', 150, struct nm_ifreq) /* 0xc1106996 */

#ifdef __cplusplus
}
#endif

#endif /* _NET_NETMAP_LEGACY_H_ */

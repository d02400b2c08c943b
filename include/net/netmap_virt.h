/*
 * unetmap — netmap's <net/netmap_virt.h>: PCI identifiers and register
 * offsets of netmap's paravirtual devices for passthrough (ptnetmap):
 * ptnetmap-memdev, which exposes a host netmap region to a guest, and
 * ptnet, a guest NIC backed by a host netmap port.  Values as netmap's.
 *
 * Status in unetmap: these devices are not emulated.  unetmap passes a
 * port into a guest with stock QEMU instead -- the region as an
 * ivshmem-doorbell device, and the same libnetmap inside the guest (see
 * docs/passthrough.md).  The definitions are here so that programs
 * written against netmap (upstream's testmmap includes this header) build
 * unchanged.
 */
#ifndef NETMAP_VIRT_H
#define NETMAP_VIRT_H

/* PCI identity and BARs of ptnetmap-memdev and ptnet */
#define PTNETMAP_MEMDEV_NAME		"ptnetmap-memdev"
#define PTNETMAP_PCI_VENDOR_ID		0x1b36	/* QEMU's virtual devices */
#define PTNETMAP_PCI_DEVICE_ID		0x000c	/* the memory device */
#define PTNETMAP_PCI_NETIF_ID		0x000d	/* the ptnet NIC */
#define PTNETMAP_IO_PCI_BAR		0
#define PTNETMAP_MEM_PCI_BAR		1
#define PTNETMAP_MSIX_PCI_BAR		2

/* ptnetmap-memdev registers (BAR 0): where the region's pools are */
#define PTNET_MDEV_IO_MEMSIZE_LO	0
#define PTNET_MDEV_IO_MEMSIZE_HI	4
#define PTNET_MDEV_IO_MEMID		8	/* the host's memory region id */
#define PTNET_MDEV_IO_IF_POOL_OFS	64
#define PTNET_MDEV_IO_IF_POOL_OBJNUM	68
#define PTNET_MDEV_IO_IF_POOL_OBJSZ	72
#define PTNET_MDEV_IO_RING_POOL_OFS	76
#define PTNET_MDEV_IO_RING_POOL_OBJNUM	80
#define PTNET_MDEV_IO_RING_POOL_OBJSZ	84
#define PTNET_MDEV_IO_BUF_POOL_OFS	88
#define PTNET_MDEV_IO_BUF_POOL_OBJNUM	92
#define PTNET_MDEV_IO_BUF_POOL_OBJSZ	96
#define PTNET_MDEV_IO_END		100

/* ptnet feature bits (PTNET_IO_PTFEAT) */
#define PTNETMAP_F_VNET_HDR		1

/* ptnet registers (BAR 0) */
#define PTNET_IO_PTFEAT			0	/* features, negotiated */
#define PTNET_IO_PTCTL			4	/* PTNETMAP_PTCTL_* commands */
#define PTNET_IO_MAC_LO			8
#define PTNET_IO_MAC_HI			12
#define PTNET_IO_CSBBAH			16	/* netmap: deprecated */
#define PTNET_IO_CSBBAL			20	/* netmap: deprecated */
#define PTNET_IO_NIFP_OFS		24	/* the port's netmap_if */
#define PTNET_IO_NUM_TX_RINGS		28
#define PTNET_IO_NUM_RX_RINGS		32
#define PTNET_IO_NUM_TX_SLOTS		36
#define PTNET_IO_NUM_RX_SLOTS		40
#define PTNET_IO_VNET_HDR_LEN		44
#define PTNET_IO_HOSTMEMID		48
#define PTNET_IO_CSB_GH_BAH		52	/* guest-to-host CSB (atok) */
#define PTNET_IO_CSB_GH_BAL		56
#define PTNET_IO_CSB_HG_BAH		60	/* host-to-guest CSB (ktoa) */
#define PTNET_IO_CSB_HG_BAL		64
#define PTNET_IO_END			68
#define PTNET_IO_KICK_BASE		128	/* ring i's kick: 128 + 4 * i */
#define PTNET_IO_MASK			0xff

/* PTNET_IO_PTCTL commands: start and stop the host's sync kloop */
#define PTNETMAP_PTCTL_CREATE		1
#define PTNETMAP_PTCTL_DELETE		2

#endif /* NETMAP_VIRT_H */

/*
 * link.h - the kernel interfaces unetmap-cni makes for a pod's own stack:
 * a veth pair whose host end goes into the VALE switch and whose other end
 * is the pod's CNI_IFNAME, with the addresses and routes IPAM chose.
 * rtnetlink and ioctl only (no iproute2 at run time).  Every function
 * works in the caller's current network namespace unless it takes one, and
 * returns 0 or -errno.
 */
#ifndef UNETMAP_CNI_LINK_H
#define UNETMAP_CNI_LINK_H

#include <stddef.h>

/* host (in our namespace) <-> peer (created directly inside netns_fd) */
int link_veth_create(const char *host, const char *peer, int netns_fd);
int link_delete(const char *name);		/* -ENODEV if there is none */
/* up, and checksum/segmentation offloads off: frames leaving the stack
 * through the switch must be complete (no partial checksums) */
int link_prepare(const char *name);
int link_mac(const char *name, char *out, size_t outlen);	/* "aa:bb:.." */
/* "10.1.2.3/24" or "fd00::3/64" */
int link_addr_add(const char *name, const char *cidr);
/* dst "0.0.0.0/0" (or any prefix); gw may be NULL or "" */
int link_route_add(const char *name, const char *dst, const char *gw);

#endif

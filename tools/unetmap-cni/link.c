/*
 * link.c - see link.h.  A request is built in one fixed buffer (what we
 * send is small and bounded), sent, and its acknowledgement read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "link.h"

struct nlreq {
	struct nlmsghdr h;
	char buf[1024];
};

static struct rtattr *rta_put(struct nlreq *r, unsigned short type, const void *data, size_t len)
{
	size_t off = NLMSG_ALIGN(r->h.nlmsg_len);
	struct rtattr *a = (struct rtattr *)((char *)r + off);

	/* the requests below are far smaller than the buffer: overflowing
	 * it would be a bug of ours, never of the input */
	if (off + RTA_SPACE(len) > sizeof(*r))
		abort();
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = (uint32_t)(off + RTA_SPACE(len));
	return a;
}

/* close a nest opened by rta_put(r, type, NULL, 0) */
static void rta_end(struct nlreq *r, struct rtattr *nest)
{
	nest->rta_len = (unsigned short)((char *)r + r->h.nlmsg_len - (char *)nest);
}

static int nl_talk(struct nlreq *r)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char ack[4096];
	ssize_t n;
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	r->h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	r->h.nlmsg_seq = 1;
	if (sendto(fd, r, r->h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	do {
		n = recv(fd, ack, sizeof(ack), 0);
	} while (n < 0 && errno == EINTR);
	err = n < 0 ? -errno : -EPROTO;
	if (n >= (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
		struct nlmsghdr *h = (struct nlmsghdr *)ack;

		if (h->nlmsg_type == NLMSG_ERROR)
			err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
	}
	close(fd);
	return err;
}

static void nl_init(struct nlreq *r, uint16_t type, uint16_t flags, size_t hdrlen)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(hdrlen);
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = flags;
}

int link_veth_create(const char *host, const char *peer, int netns_fd)
{
	struct nlreq r;
	struct ifinfomsg pi = { .ifi_family = AF_UNSPEC };
	struct rtattr *li, *data, *pe;
	uint32_t fd = (uint32_t)netns_fd;

	nl_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
	rta_put(&r, IFLA_IFNAME, host, strlen(host) + 1);
	li = rta_put(&r, IFLA_LINKINFO, NULL, 0);
	rta_put(&r, IFLA_INFO_KIND, "veth", 4);
	data = rta_put(&r, IFLA_INFO_DATA, NULL, 0);
	/* the peer: an ifinfomsg, then its own attributes */
	pe = rta_put(&r, VETH_INFO_PEER, &pi, sizeof(pi));
	rta_put(&r, IFLA_IFNAME, peer, strlen(peer) + 1);
	rta_put(&r, IFLA_NET_NS_FD, &fd, sizeof(fd));
	rta_end(&r, pe);
	rta_end(&r, data);
	rta_end(&r, li);
	return nl_talk(&r);
}

int link_delete(const char *name)
{
	struct nlreq r;

	nl_init(&r, RTM_DELLINK, 0, sizeof(struct ifinfomsg));
	rta_put(&r, IFLA_IFNAME, name, strlen(name) + 1);
	return nl_talk(&r);
}

static int ifreq_ioctl(const char *name, unsigned long req, struct ifreq *ifr)
{
	int fd, err = 0;

	if (strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	/* a socket belongs to the namespace it was made in: the caller's */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, req, ifr) < 0)
		err = -errno;
	close(fd);
	return err;
}

int link_prepare(const char *name)
{
	static const uint32_t off[] = { ETHTOOL_STXCSUM, ETHTOOL_STSO, ETHTOOL_SGSO };
	struct ethtool_value ev;
	struct ifreq ifr;
	unsigned i;
	int err;

	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		memset(&ifr, 0, sizeof(ifr));
		ev.cmd = off[i];
		ev.data = 0;
		ifr.ifr_data = (char *)&ev;
		err = ifreq_ioctl(name, SIOCETHTOOL, &ifr);
		/* without TX checksumming the rest is off anyway; only that
		 * one must succeed */
		if (err && i == 0)
			return err;
	}
	memset(&ifr, 0, sizeof(ifr));
	err = ifreq_ioctl(name, SIOCGIFFLAGS, &ifr);
	if (err)
		return err;
	ifr.ifr_flags |= IFF_UP;
	return ifreq_ioctl(name, SIOCSIFFLAGS, &ifr);
}

int link_mac(const char *name, char *out, size_t outlen)
{
	struct ifreq ifr;
	unsigned char *m;
	int err;

	memset(&ifr, 0, sizeof(ifr));
	err = ifreq_ioctl(name, SIOCGIFHWADDR, &ifr);
	if (err)
		return err;
	m = (unsigned char *)ifr.ifr_hwaddr.sa_data;
	snprintf(out, outlen, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return 0;
}

/* "addr/len" into family, 4 or 16 bytes and a prefix length */
static int parse_cidr(const char *cidr, int *family, unsigned char *addr, unsigned *plen)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long l;

	if (strlen(cidr) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", cidr);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		*family = AF_INET6;
	else
		return -EINVAL;
	l = *family == AF_INET ? 32 : 128;
	if (slash) {
		unsigned long max = l;

		errno = 0;
		l = strtoul(slash + 1, &end, 10);
		if (errno || *end || end == slash + 1 || l > max)
			return -EINVAL;
	}
	*plen = (unsigned)l;
	return 0;
}

int link_addr_add(const char *name, const char *cidr)
{
	struct nlreq r;
	struct ifaddrmsg *ifa;
	unsigned char addr[16];
	unsigned plen;
	int family, idx, err;

	err = parse_cidr(cidr, &family, addr, &plen);
	if (err)
		return err;
	idx = (int)if_nametoindex(name);
	if (!idx)
		return -ENODEV;
	nl_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifa));
	ifa = NLMSG_DATA(&r.h);
	ifa->ifa_family = (unsigned char)family;
	ifa->ifa_prefixlen = (unsigned char)plen;
	ifa->ifa_index = (unsigned)idx;
	rta_put(&r, IFA_LOCAL, addr, family == AF_INET ? 4 : 16);
	rta_put(&r, IFA_ADDRESS, addr, family == AF_INET ? 4 : 16);
	return nl_talk(&r);
}

int link_route_add(const char *name, const char *dst, const char *gw)
{
	struct nlreq r;
	struct rtmsg *rt;
	unsigned char daddr[16], gaddr[16];
	unsigned plen, glen;
	int family, gfamily, idx, err;
	uint32_t oif;

	err = parse_cidr(dst, &family, daddr, &plen);
	if (err)
		return err;
	idx = (int)if_nametoindex(name);
	if (!idx)
		return -ENODEV;
	oif = (uint32_t)idx;
	nl_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(*rt));
	rt = NLMSG_DATA(&r.h);
	rt->rtm_family = (unsigned char)family;
	rt->rtm_dst_len = (unsigned char)plen;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_BOOT;
	rt->rtm_type = RTN_UNICAST;
	rt->rtm_scope = RT_SCOPE_UNIVERSE;
	if (plen)
		rta_put(&r, RTA_DST, daddr, family == AF_INET ? 4 : 16);
	if (gw && *gw) {
		if (parse_cidr(gw, &gfamily, gaddr, &glen) < 0 || gfamily != family)
			return -EINVAL;
		rta_put(&r, RTA_GATEWAY, gaddr, family == AF_INET ? 4 : 16);
	} else {
		rt->rtm_scope = RT_SCOPE_LINK;
	}
	rta_put(&r, RTA_OIF, &oif, sizeof(oif));
	return nl_talk(&r);
}

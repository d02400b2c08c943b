/*
 * grant.c - sockets for less trusted parties (containers).
 *
 * A grant is a listening socket of its own, made on request of a client of
 * the main socket (UNM_REQ_GRANT, common/unm_vale.h) and typically bind-
 * mounted into a container.  Clients that come through it are limited to
 * the ports whose names start with the grant's prefix: every request is
 * checked here before request.c sees it, and every region such a client
 * binds is sealed for the grant's holder, so it shares memory with no port
 * it was not given (docs/design.md, "Trust and isolation").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "nmd.h"
#include "unm_nic.h"
#include "unm_veth.h"
#include "unm_mon.h"
#include "unm_vale.h"

#define FAIL(r, e, ...) do { snprintf((r)->msg_text, sizeof((r)->msg_text), __VA_ARGS__); \
	return -(e); } while (0)

static struct nmd_grant *grants;

bool nmd_grants_exist(void)
{
	return grants != NULL;
}

static bool name_granted(const struct nmd_grant *g, const char *name)
{
	return strncmp(name, g->prefix, strlen(g->prefix)) == 0;
}

int nmd_grant_check(const struct nmd_client *c, struct nmd_req *r)
{
	const struct nmd_grant *g = c->grant;
	const char *name = r->msg->hdr.nr_name;

	if (!g)
		return 0;
	switch (r->msg->hdr.nr_reqtype) {
	case NETMAP_REQ_REGISTER: {
		const struct nmreq_register *reg = r->body;

		if (reg->nr_mode == NR_REG_NULL)
			FAIL(r, EPERM, "this socket (granted to %s) cannot open null ports", g->holder);
		if (reg->nr_mem_id)
			FAIL(r, EPERM, "this socket (granted to %s) cannot choose a memory region",
			     g->holder);
		if (nmd_kind_of(name, reg) == &nmd_nic_ops) {
			if (!(g->flags & UNM_GRANT_NIC))
				FAIL(r, EPERM, "this socket (granted to %s) cannot open interfaces",
				     g->holder);
			return 0;	/* in the client's own network namespace */
		}
		/* a tunnel sends and receives on the host's network, with
		 * netmapd's privileges: never through a grant */
		if (nmd_kind_of(name, reg) == &nmd_vxlan_ops)
			FAIL(r, EPERM, "this socket (granted to %s) cannot open VXLAN ports",
			     g->holder);
		break;
	}
	case UNM_REQ_NIC_INFO:
		/* the interfaces of the holder's own network namespace */
		if (!(g->flags & UNM_GRANT_NIC))
			FAIL(r, EPERM, "this socket (granted to %s) cannot open interfaces",
			     g->holder);
		return 0;
	case NETMAP_REQ_PORT_INFO_GET:
	case NETMAP_REQ_POOLS_INFO_GET:
	case NETMAP_REQ_PORT_HDR_GET:
	case UNM_REQ_VALE_STATS:
		break;
	case UNM_REQ_VETH_LINK:
		/* what a ring of the client's own binding is now */
		return 0;
	case UNM_REQ_MON_TARGETS:
		/* the monitors of the client's own binding (the host may
		 * monitor the ports it granted): no name to check */
		return 0;
	case UNM_REQ_MON_STATS:
		if (((const struct unm_mon_stats *)r->body)->flags & UNM_MON_SELF)
			return 0;	/* its own monitor */
		break;
	default:
		FAIL(r, EPERM, "this socket (granted to %s) allows no request of type %u", g->holder,
		     r->msg->hdr.nr_reqtype);
	}
	if (!name_granted(g, name))
		FAIL(r, EPERM, "this socket (granted to %s) opens only ports named %s...", g->holder,
		     g->prefix);
	return 0;
}

int nmd_grant_bound(const struct nmd_client *c, struct nmd_port *p, struct nmd_req *r)
{
	const struct nmd_grant *g = c->grant;
	struct nmd_region *rg = p->rg;

	if (!g || p->ops == &nmd_nic_ops)
		return 0;
	if (rg->sealed_for[0])
		return strcmp(rg->sealed_for, g->holder) == 0 ? 0 : -EPERM;
	/* the port's region must be the party's alone: the port itself, or
	 * the parent of the pipes it opens */
	if (rg->refs > 1 || rg->pinned) {
		snprintf(r->msg_text, sizeof(r->msg_text), "%s shares memory region %u with ports "
			 "this socket (granted to %s) does not give", p->name, rg->mem_id, g->holder);
		return -EPERM;
	}
	nmd_region_seal(rg, g->holder);
	return 0;
}

static int grant_create(struct nmd_req *r)
{
	struct unm_grant *q = r->body;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct nmd_grant *g;
	char dir[sizeof(sa.sun_path)], why[200], *slash;
	int fd, err;

	/* no event loop (the fuzzer): never create files from its input */
	if (!nmd_server_has_loop())
		FAIL(r, ENOTCONN, "this netmapd cannot grant (no event loop)");
	q->path[sizeof(q->path) - 1] = '\0';
	q->holder[sizeof(q->holder) - 1] = '\0';
	q->prefix[sizeof(q->prefix) - 1] = '\0';
	if (q->path[0] != '/' || strlen(q->path) >= sizeof(sa.sun_path))
		FAIL(r, EINVAL, "a grant needs an absolute socket path shorter than %zu bytes",
		     sizeof(sa.sun_path));
	if (!q->holder[0] || !q->prefix[0])
		FAIL(r, EINVAL, "a grant needs a holder and a port name prefix");
	if (q->flags & ~UNM_GRANT_NIC)
		FAIL(r, EINVAL, "unknown grant flags %#x", q->flags);
	for (g = grants; g; g = g->next)
		if (strcmp(g->path, q->path) == 0)
			FAIL(r, EEXIST, "%s is granted already (to %s)", q->path, g->holder);
	/* the same rule as for our own socket: nobody else may replace it */
	snprintf(dir, sizeof(dir), "%s", q->path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	err = unm_socket_dir_ok(dir, geteuid(), why, sizeof(why));
	if (err)
		FAIL(r, -err, "cannot grant %.100s: %.140s", q->path, why);
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->ep_type = NMD_EP_GRANT;
	snprintf(g->path, sizeof(g->path), "%s", q->path);
	snprintf(g->holder, sizeof(g->holder), "%s", q->holder);
	snprintf(g->prefix, sizeof(g->prefix), "%s", q->prefix);
	g->flags = q->flags;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	strcpy(sa.sun_path, g->path);
	unlink(g->path);	/* a stale socket of an earlier run */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chown(g->path, q->uid, q->gid) < 0 || chmod(g->path, q->mode ? q->mode & 0777 : 0660) < 0 ||
	    listen(fd, 64) < 0) {
		err = -errno;
		snprintf(r->msg_text, sizeof(r->msg_text), "cannot listen on %s: %s", g->path,
			 strerror(errno));
		unlink(g->path);
		close(fd);
		goto fail;
	}
	g->lfd = fd;
	err = nmd_server_watch_grant(g);
	if (err) {
		unlink(g->path);
		close(fd);
		goto fail;
	}
	g->next = grants;
	grants = g;
	nmd_info("granted %s to %s: ports named %s...%s", g->path, g->holder, g->prefix,
		 g->flags & UNM_GRANT_NIC ? ", interfaces" : "");
	return 0;
fail:
	free(g);
	return err;
}

static void grant_destroy(struct nmd_grant *g)
{
	nmd_server_drop_grant_clients(g);
	nmd_server_unwatch_grant(g);
	close(g->lfd);
	unlink(g->path);
	nmd_info("revoked %s (granted to %s)", g->path, g->holder);
	free(g);
}

static int grant_revoke(struct nmd_req *r)
{
	struct unm_grant *q = r->body;
	struct nmd_grant **pp, *g;

	q->path[sizeof(q->path) - 1] = '\0';
	for (pp = &grants; (g = *pp); pp = &g->next) {
		if (strcmp(g->path, q->path) == 0) {
			*pp = g->next;
			grant_destroy(g);
			return 0;
		}
	}
	FAIL(r, ENOENT, "%s is not a granted socket", q->path);
}

int nmd_grant_request(struct nmd_client *c, struct nmd_req *r)
{
	if (c->grant)
		FAIL(r, EPERM, "only a client of netmapd's own socket may grant or revoke");
	return r->msg->hdr.nr_reqtype == UNM_REQ_GRANT ? grant_create(r) : grant_revoke(r);
}

void nmd_grants_fini(void)
{
	while (grants) {
		struct nmd_grant *g = grants;

		grants = g->next;
		grant_destroy(g);
	}
}

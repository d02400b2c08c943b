/*
 * vhost_port.c - VM ports: VALE switch ports whose frames are a QEMU
 * guest's, through a vhost-user socket (`vale-ctl -n vale0:vm1
 * --vhost-user PATH [--client]`, UNM_REQ_VALE_VHOST in common/unm_vale.h).
 *
 * Each VM port is one vhost-user device (vhost_user.h) plus one switch
 * port (vale.c, nmd_vale_vm_new()).  The parts run where vhost_user.h
 * wants them:
 *   - the protocol on netmapd's control thread: the device's descriptor
 *     is a watch of the server loop (nmd_server_watch), so messages
 *     from QEMU are handled between requests and never race them;
 *   - the data path on the VALE forwarding threads (vale_fwd.c): the
 *     thread that serves the port takes what the guest transmits, every
 *     thread may deliver into the guest under the port's receive lock;
 *   - pause/resume: the port's `paused` flag and a grace period of the
 *     forwarding threads (nmd_vale_vm_pause), on the control thread.
 * The port is persistent: QEMU connecting, leaving, reconnecting, or the
 * guest resetting its NIC change nothing but the device's state.  It
 * goes with VALE_DELIF (vale-ctl -r) or when netmapd stops.
 *
 * On the switch a VM port's frames carry no virtio-net header (hdr_len 0):
 * the device writes a zeroed one for the guest and skips the guest's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nmd.h"
#include "unm_vale.h"
#include "vhost_user.h"

#define FAIL(r, e, ...) do { snprintf((r)->msg_text, sizeof((r)->msg_text), __VA_ARGS__); \
	return -(e); } while (0)

struct vhost_port {
	struct nmd_watch watch;		/* nmd_vu_fd(): first, see on_ready() */
	char name[NETMAP_REQ_IFNAMSIZ];	/* "vale0:vm1" */
	char path[108];
	uint32_t flags;			/* UNM_VHOST_CLIENT */
	uint64_t features;		/* offered */
	struct nmd_vu_dev *dev;
	struct nmd_port *port;		/* the switch side; NULL while created */
	bool watched;
	/* what the log last said about the device (changed hook) */
	bool was_running;
	struct vhost_port *next;
};

static struct vhost_port *vports;

static struct vhost_port *find(const char *name)
{
	struct vhost_port *v;

	for (v = vports; v; v = v->next)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

/* ---- the device's hooks (control thread) ---- */

static void hook_pause(void *arg)
{
	struct vhost_port *v = arg;

	if (v->port)
		nmd_vale_vm_pause(v->port);
}

static void hook_resume(void *arg)
{
	struct vhost_port *v = arg;

	if (v->port)
		nmd_vale_vm_resume(v->port);
}

static bool running(const struct nmd_vu_info *in)
{
	return in->running[NMD_VU_RXQ] && in->running[NMD_VU_TXQ] && in->enabled[NMD_VU_RXQ] &&
	       in->enabled[NMD_VU_TXQ];
}

/* One line when the guest's NIC starts or stops; the device logs the
 * rest (connections, breaks, refused messages). */
static void hook_changed(void *arg)
{
	struct vhost_port *v = arg;
	struct nmd_vu_info in;
	char mtu[16] = "";
	bool run;

	/* a client connects inside nmd_vu_create(), before we have it */
	if (!v->dev)
		return;
	nmd_vu_info(v->dev, &in);
	run = running(&in);
	/* (the device says itself when QEMU comes and goes) */
	if (in.mtu)
		snprintf(mtu, sizeof(mtu), ", mtu %u", in.mtu);
	if (run && !v->was_running)
		nmd_info("%s: the guest's NIC runs (features 0x%llx, %u-byte headers%s)", v->name,
			 (unsigned long long)in.features, in.hdr_len, mtu);
	else if (!run && v->was_running && in.connected)
		nmd_info("%s: the guest's NIC stopped", v->name);
	v->was_running = run;
}

static void hook_log(void *arg, int level, const char *msg)
{
	(void)arg;
	/* the device's levels are netmapd's; it checked ours already */
	nmd_log_msg(level, "%s", msg);
}

static const struct nmd_vu_ops hooks = {
	.pause = hook_pause,
	.resume = hook_resume,
	.changed = hook_changed,
	.log = hook_log,
};

/* ---- the control thread's loop ---- */

static void on_ready(struct nmd_watch *w)
{
	struct vhost_port *v = (struct vhost_port *)(void *)w;
	int err = nmd_vu_dispatch(v->dev);

	if (err) {
		/* its sockets are unusable: stop watching them rather than
		 * spin; the port stays (the user may remove it) */
		nmd_err("%s: vhost-user device failed (%s): no more QEMU connections; remove "
			"the port and create it again", v->name, strerror(-err));
		nmd_server_unwatch(&v->watch);
		v->watched = false;
	}
}

/* ---- life cycle ---- */

static void vport_free(struct vhost_port *v)
{
	if (v->watched)
		nmd_server_unwatch(&v->watch);
	/* no thread uses the device once the switch port is gone */
	if (v->port)
		nmd_vale_vm_del(v->port);
	if (v->dev)
		nmd_vu_destroy(v->dev);
	free(v);
}

static void vport_unlink(struct vhost_port *v)
{
	struct vhost_port **pp;

	for (pp = &vports; *pp; pp = &(*pp)->next) {
		if (*pp == v) {
			*pp = v->next;
			return;
		}
	}
}

static int do_create(struct nmd_req *r, struct unm_vale_vhost *b)
{
	const char *name = r->msg->hdr.nr_name;
	struct nmd_vu_config cfg;
	struct vhost_port *v;
	int err;

	if (b->flags & ~UNM_VHOST_CLIENT)
		FAIL(r, EINVAL, "%s: unknown flags 0x%x", name, b->flags & ~UNM_VHOST_CLIENT);
	if (!memchr(b->path, '\0', sizeof(b->path)))
		FAIL(r, EINVAL, "%s: socket path too long (at most %zu bytes)", name,
		     sizeof(b->path) - 1);
	/* netmapd's working directory is not the caller's */
	if (b->path[0] != '/')
		FAIL(r, EINVAL, "%s: the socket path must be absolute ('%s')", name, b->path);
	if (b->features & ~(uint64_t)NMD_VU_FEATURES)
		FAIL(r, EINVAL, "%s: features 0x%llx are not offered (at most 0x%llx)", name,
		     (unsigned long long)(b->features & ~(uint64_t)NMD_VU_FEATURES),
		     (unsigned long long)NMD_VU_FEATURES);
	if (!nmd_server_has_loop())
		FAIL(r, EOPNOTSUPP, "%s: VM ports need netmapd's event loop", name);
	if (find(name))
		FAIL(r, EEXIST, "%s already exists (a VM port on %s)", name, find(name)->path);
	v = calloc(1, sizeof(*v));
	if (!v)
		FAIL(r, ENOMEM, "%s: out of memory", name);
	snprintf(v->name, sizeof(v->name), "%s", name);
	snprintf(v->path, sizeof(v->path), "%s", b->path);
	v->flags = b->flags;
	v->features = b->features ? b->features : NMD_VU_FEATURES;
	memset(&cfg, 0, sizeof(cfg));
	cfg.name = v->name;
	cfg.path = v->path;
	cfg.client = b->flags & UNM_VHOST_CLIENT;
	cfg.features = v->features;
	cfg.ops = &hooks;
	cfg.arg = v;
	cfg.log_level = &nmd_log_level;
	v->dev = nmd_vu_create(&cfg, &err);
	if (!v->dev) {
		snprintf(r->msg_text, sizeof(r->msg_text), "%s: cannot serve %s: %s", name, v->path,
			 err == -EADDRINUSE ? "another process listens there" : strerror(-err));
		free(v);
		return err;
	}
	v->port = nmd_vale_vm_new(name, v->dev, r->msg_text, sizeof(r->msg_text), &err);
	if (!v->port)
		goto fail;
	v->watch.fd = nmd_vu_fd(v->dev);
	v->watch.cb = on_ready;
	err = nmd_server_watch(&v->watch);
	if (err) {
		snprintf(r->msg_text, sizeof(r->msg_text), "%s: cannot watch its socket: %s", name,
			 strerror(-err));
		goto fail;
	}
	v->watched = true;
	v->next = vports;
	vports = v;
	b->features = v->features;
	if ((v->features & (1ull << 32)) && !(v->features & (1ull << 30)))
		nmd_warn("%s: VERSION_1 offered without PROTOCOL_FEATURES: QEMU 7.2 cannot "
			 "enable the queues of such a device (\"unable to start vhost net: 22\")",
			 name);
	nmd_info("%s: vhost-user %s on %s (features offered 0x%llx)", name,
		 cfg.client ? "client, connecting to QEMU" : "server", v->path,
		 (unsigned long long)v->features);
	return 0;
fail:
	vport_free(v);
	return err;
}

static int do_info(struct nmd_req *r, struct unm_vale_vhost *b)
{
	const char *name = r->msg->hdr.nr_name;
	struct vhost_port *v = find(name);
	struct nmd_vu_info in;

	if (!v)
		FAIL(r, ENXIO, "%s: no such VM port", name);
	nmd_vu_info(v->dev, &in);
	memset(b, 0, sizeof(*b));
	b->op = UNM_VHOST_INFO;
	b->flags = v->flags;
	snprintf(b->path, sizeof(b->path), "%s", v->path);
	b->state = (in.connected ? UNM_VHOST_CONNECTED : 0) |
		   (running(&in) ? UNM_VHOST_RUNNING : 0) | (in.broken ? UNM_VHOST_BROKEN : 0);
	b->features = v->features;
	b->negotiated = in.features;
	b->connections = in.connections;
	b->breaks = in.breaks;
	b->bad_msgs = in.bad_msgs;
	b->mtu = in.mtu;
	return 0;
}

int nmd_vhost_request(struct nmd_client *c, struct nmd_req *r)
{
	struct unm_vale_vhost *b = r->body;

	(void)c;
	switch (b->op) {
	case UNM_VHOST_CREATE:
		return do_create(r, b);
	case UNM_VHOST_INFO:
		return do_info(r, b);
	default:
		FAIL(r, EINVAL, "%s: unknown VM port operation %u", r->msg->hdr.nr_name, b->op);
	}
}

int nmd_vhost_delete(const char *name, char *msg, size_t msglen)
{
	struct vhost_port *v = find(name);

	if (!v) {
		snprintf(msg, msglen, "%s: no such VM port", name);
		return -ENXIO;
	}
	vport_unlink(v);
	nmd_info("%s: VM port removed (%s)", name, v->path);
	vport_free(v);
	return 0;
}

void nmd_vhost_fini(void)
{
	while (vports) {
		struct vhost_port *v = vports;

		vports = v->next;
		vport_free(v);
	}
}

/* ---- the names: a VM port cannot be opened ---- */

static bool vhost_claims(const char *name, const struct nmreq_register *reg)
{
	(void)reg;
	return find(name) != NULL;
}

static int vhost_refuse(const char *name, char *msg, size_t msglen)
{
	const struct vhost_port *v = find(name);

	snprintf(msg, msglen, "%s is a VM port (the guest's NIC, vhost-user %s): it has no "
		 "rings to open; open another port of its switch to talk to the guest", name,
		 v ? v->path : "?");
	return -EBUSY;
}

static int vhost_open(struct nmd_client *c, const char *name, struct nmreq_register *reg,
		      struct nmd_port **out, char *msg, size_t msglen)
{
	(void)c;
	(void)reg;
	(void)out;
	return vhost_refuse(name, msg, msglen);
}

static int vhost_info(struct nmd_client *c, const char *name, struct nmreq_port_info_get *pi,
		      char *msg, size_t msglen)
{
	(void)c;
	(void)pi;
	return vhost_refuse(name, msg, msglen);
}

static void vhost_nothing(struct nmd_port *p)
{
	(void)p;
}

const struct nmd_port_ops nmd_vhost_ops = {
	.name = "vhost-user",
	.claims = vhost_claims,
	.open = vhost_open,
	.info = vhost_info,
	.wire_kind = UNM_KIND_HW,
	.bound = vhost_nothing,
	.released = vhost_nothing,
};

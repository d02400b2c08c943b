/*
 * nic_vale.c - network interfaces attached to VALE switches
 * (vale-ctl -a valeX:eth0, -d valeX:eth0; netmap-facts 5.5).
 *
 * In the kernel the NIC's interrupts and the host stack's transmit hook
 * drive the attached port.  Here the attachment is a forwarding process
 * netmapd starts: nm-bridge between netmap:eth0/x (the interface,
 * exclusively: other REGISTERs of it get EBUSY, as in netmap) and the
 * switch port valeX:eth0, run in the caller's network namespace with the
 * caller's interface.  It is an ordinary client of this netmapd, so the
 * interface side is the AF_XDP (or emulated) port of nic.c and the switch
 * side an ordinary VALE port; the switch isolates regions, so frames are
 * copied once between the two (plus the switch's own copy).
 *
 * netmapd creates the switch port itself and holds it until the detach,
 * so that VALE_ATTACH can answer with its index at once (the forwarder,
 * being a client, can only register once this request is answered).
 * VALE_DETACH stops the forwarder (SIGTERM, then SIGKILL) and drops the
 * hold; the port goes with the forwarder's binding.  A forwarder that
 * dies on its own is reported in the log; its port stays in the switch
 * (silent) until the detach, like a NIC whose link went down.
 *
 * A VXLAN tunnel (vale-ctl -a valeX:vxlan:10.0.0.2:42) is attached the
 * same way: nm-bridge between the tunnel port vxlan:10.0.0.2:42/x (which
 * netmapd serves, daemon/vxlan/) and the switch port of the whole name,
 * run in netmapd's own namespace, where the tunnel's socket lives.
 *
 * A persistent VALE port attached to a second switch is served the same
 * way.  netmap wraps the port (a "bwrap", as for a NIC): frames switch A
 * delivers to v0's RX rings enter switch B as sent by port valeB:v0, and
 * what B sends to valeB:v0 leaves by v0's TX rings into A, so the port
 * becomes a link between the two switches, owned by the kernel meanwhile
 * (other REGISTERs of it: EBUSY).  Here the forwarder is nm-bridge
 * between netmap:v0/x, the persistent port itself, and valeB:v0, run in
 * netmapd's own namespace (VALE ports have none).  As in netmap, a port
 * is on two switches at most, and the second attachment must go first
 * (vale.c refuses to detach the first meanwhile).
 *
 * Not supported: -h (the host stack as a second port: no faithful
 * equivalent, as for host rings), polling threads (VALE_POLLING_*: the
 * forwarder sleeps in poll() and is woken by the sockets).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "nic.h"
#include "unm_vxlan.h"

struct nic_attach {
	char name[NETMAP_REQ_IFNAMSIZ];	/* "vale0:eth0" */
	char ifname[NETMAP_REQ_IFNAMSIZ];	/* interface, persistent port or
						 * tunnel ("vxlan:...") */
	dev_t ns_dev;
	ino_t ns_ino;
	struct nmd_port *vport;		/* held switch port */
	bool wrap;			/* ifname is a persistent VALE port
					 * attached to another switch */
	pid_t helper;			/* the forwarder; 0 once reaped */
	struct nic_attach *next;
};

static struct nic_attach *attaches;
static char sock_path[108];

void nic_vale_configure(const char *socket_path)
{
	snprintf(sock_path, sizeof(sock_path), "%s", socket_path ? socket_path : "");
}

/* Reap forwarders that exited on their own. */
static void reap(void)
{
	struct nic_attach *a;
	int st;

	for (a = attaches; a; a = a->next) {
		if (a->helper > 0 && waitpid(a->helper, &st, WNOHANG) == a->helper) {
			nmd_warn("%s: the forwarder (pid %d) exited (%s %d); the port stays "
				 "silent until vale-ctl -d %s", a->name, (int)a->helper,
				 WIFSIGNALED(st) ? "signal" : "status",
				 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), a->name);
			a->helper = 0;
		}
	}
}

static struct nic_attach *attach_find(const char *name)
{
	struct nic_attach *a;

	for (a = attaches; a; a = a->next)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

bool nic_vale_lookup(const char *name, struct stat *ns, char *ifname)
{
	const struct nic_attach *a = attach_find(name);

	if (!a || a->wrap || strncmp(a->ifname, UNM_VXLAN_PREFIX, strlen(UNM_VXLAN_PREFIX)) == 0)
		return false;
	memset(ns, 0, sizeof(*ns));
	ns->st_dev = a->ns_dev;
	ns->st_ino = a->ns_ino;
	snprintf(ifname, IFNAMSIZ, "%.*s", IFNAMSIZ - 1, a->ifname);
	return true;
}

bool nmd_nic_vale_attached(const char *name)
{
	return attach_find(name) != NULL;
}

/* nm-bridge: $UNETMAP_NM_BRIDGE, beside netmapd (build tree), or in
 * ../bin (installed: netmapd in sbin, tools in bin). */
static int find_bridge(char *out, size_t len)
{
	const char *env = getenv("UNETMAP_NM_BRIDGE");
	char self[PATH_MAX], *dir;
	ssize_t n;

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return access(out, X_OK) == 0 ? 0 : -ENOENT;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -ENOENT;
	self[n] = '\0';
	dir = dirname(self);
	if ((size_t)snprintf(out, len, "%s/nm-bridge", dir) < len && access(out, X_OK) == 0)
		return 0;
	if ((size_t)snprintf(out, len, "%s/../bin/nm-bridge", dir) < len && access(out, X_OK) == 0)
		return 0;
	return -ENOENT;
}

extern char **environ;

/* Start the forwarder in the namespace nsfd.  Returns its pid or -errno.
 * netmapd has threads: between fork() and exec the child only makes
 * system calls (its environment is built beforehand). */
static pid_t spawn(const char *bridge, int nsfd, const char *ifname, const char *vname)
{
	char nic[NETMAP_REQ_IFNAMSIZ + 16], vp[NETMAP_REQ_IFNAMSIZ];
	char sockenv[sizeof(sock_path) + 16];
	char *argv[] = { (char *)"nm-bridge", (char *)"-w", (char *)"0", (char *)"-i", nic,
			 (char *)"-i", vp, NULL };

	/* both sides exclusively: other REGISTERs of either get EBUSY, as
	 * for the kernel-owned ports of netmap's attachments */
	char **envp;
	size_t n = 0, k = 0;
	pid_t pid;

	if (strncmp(ifname, UNM_VXLAN_PREFIX, strlen(UNM_VXLAN_PREFIX)) == 0)
		snprintf(nic, sizeof(nic), "%s/x", ifname);	/* a tunnel */
	else
		snprintf(nic, sizeof(nic), "netmap:%s/x", ifname);
	snprintf(vp, sizeof(vp), "%s/x", vname);
	snprintf(sockenv, sizeof(sockenv), "UNETMAP_SOCKET=%s", sock_path);
	while (environ[n])
		n++;
	envp = calloc(n + 2, sizeof(*envp));
	if (!envp)
		return -ENOMEM;
	for (n = 0; environ[n]; n++)
		if (strncmp(environ[n], "UNETMAP_SOCKET=", 15) != 0)
			envp[k++] = environ[n];
	if (sock_path[0])
		envp[k++] = sockenv;
	pid = fork();
	if (pid < 0) {
		free(envp);
		return -errno;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		sigset_t none;

		/* nothing of netmapd's but the namespace and the socket */
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) < 0)
			_exit(126);
		close_range(3, ~0u, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		execve(bridge, argv, envp);
		_exit(127);
	}
	free(envp);
	return pid;
}

#define VXLAN_SWITCH_SLOTS 4096u

/* VALE_ATTACH of "valeX:vxlan:...": a tunnel into the switch. */
static int vxlan_attach(struct nmd_req *r, const char *tname)
{
	struct nmreq_vale_attach *va = r->body;
	const char *name = r->msg->hdr.nr_name;
	struct nmreq_register reg;
	char bridge[PATH_MAX];
	struct nic_attach *a;
	uint32_t idx = 0;
	int err;
	pid_t pid;

	for (a = attaches; a; a = a->next) {
		if (strcmp(a->ifname, tname) == 0) {
			snprintf(r->msg_text, sizeof(r->msg_text), "%s is already attached (%s)",
				 tname, a->name);
			return -EBUSY;
		}
	}
	if (nmd_named_find(tname)) {
		snprintf(r->msg_text, sizeof(r->msg_text), "%s is in use by netmap clients", tname);
		return -EBUSY;
	}
	err = find_bridge(bridge, sizeof(bridge));
	if (err) {
		snprintf(r->msg_text, sizeof(r->msg_text), "%s: cannot find nm-bridge (beside "
			 "netmapd, ../bin, or $UNETMAP_NM_BRIDGE)", name);
		return -ENOENT;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	/* The switch never holds a sender back: what it delivers to this
	 * port while the forwarder is not scheduled must fit its RX ring,
	 * or is lost.  4096 slots (6 MB of buffers more than the default
	 * 1024) are 400 ms at 10 kpps, for a port that carries everything
	 * a host sends to the other. */
	memset(&reg, 0, sizeof(reg));
	reg.nr_tx_slots = reg.nr_rx_slots = VXLAN_SWITCH_SLOTS;
	a->vport = nmd_vale_nic_hold_reg(name, &reg, &idx, r->msg_text, sizeof(r->msg_text),
					 &err);
	if (!a->vport) {
		free(a);
		return err ? err : -EINVAL;
	}
	pid = spawn(bridge, -1, tname, name);
	if (pid < 0) {
		nmd_vale_parent_drop(a->vport);
		free(a);
		snprintf(r->msg_text, sizeof(r->msg_text), "%s: fork: %s", name, strerror((int)-pid));
		return (int)pid;
	}
	snprintf(a->name, sizeof(a->name), "%s", name);
	snprintf(a->ifname, sizeof(a->ifname), "%s", tname);
	a->helper = pid;
	a->next = attaches;
	attaches = a;
	va->port_index = idx;
	nmd_info("%s: tunnel %s attached (index %u), forwarder pid %d", name, tname, idx,
		 (int)pid);
	return 0;
}

int nmd_nic_vale_attach(struct nmd_client *c, struct nmd_req *r)
{
	struct nmreq_vale_attach *va = r->body;
	const char *name = r->msg->hdr.nr_name;
	const char *ifname = strchr(name, ':') + 1;
	char bridge[PATH_MAX], path[64];
	struct nic_attach *a;
	struct stat st;
	uint32_t idx = 0;
	int nsfd, err, exists;
	pid_t pid;

	reap();
	if (nmd_nic_disabled(r->msg_text, sizeof(r->msg_text)))
		return -ENXIO;
	if (va->reg.nr_mode == NR_REG_NIC_SW) {
		snprintf(r->msg_text, sizeof(r->msg_text), "%s: attaching the host stack (-h) is "
			 "not supported (no faithful equivalent of host rings)", name);
		return -EOPNOTSUPP;
	}
	if (va->reg.nr_mode != NR_REG_ALL_NIC || va->reg.nr_ringid != 0) {
		snprintf(r->msg_text, sizeof(r->msg_text), "%s: attach takes all rings (mode %u)",
			 name, va->reg.nr_mode);
		return -EINVAL;
	}
	if (strncmp(ifname, UNM_VXLAN_PREFIX, strlen(UNM_VXLAN_PREFIX)) == 0)
		return vxlan_attach(r, ifname);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)c->pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || fstat(nsfd, &st) < 0) {
		err = -errno;
		snprintf(r->msg_text, sizeof(r->msg_text), "%s: %s: %s", name, path, strerror(-err));
		if (nsfd >= 0)
			close(nsfd);
		return err;
	}
	exists = nic_if_exists(nsfd, &st, ifname);
	if (exists <= 0) {
		close(nsfd);
		snprintf(r->msg_text, sizeof(r->msg_text), "%s: no such port or interface%s%s",
			 name, exists < 0 ? ": " : "", exists < 0 ? strerror(-exists) : "");
		return exists < 0 ? exists : -ENXIO;
	}
	for (a = attaches; a; a = a->next) {
		if (a->ns_dev == st.st_dev && a->ns_ino == st.st_ino &&
		    strcmp(a->ifname, ifname) == 0) {
			close(nsfd);
			snprintf(r->msg_text, sizeof(r->msg_text), "%s is already attached (%s)",
				 ifname, a->name);
			return -EBUSY;
		}
	}
	if (nic_port_open_in(&st, ifname)) {
		close(nsfd);
		snprintf(r->msg_text, sizeof(r->msg_text), "%s is in use by netmap clients", ifname);
		return -EBUSY;
	}
	err = find_bridge(bridge, sizeof(bridge));
	if (err) {
		close(nsfd);
		snprintf(r->msg_text, sizeof(r->msg_text), "%s: cannot find nm-bridge (beside "
			 "netmapd, ../bin, or $UNETMAP_NM_BRIDGE)", name);
		return -ENOENT;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		close(nsfd);
		return -ENOMEM;
	}
	a->vport = nmd_vale_nic_hold(name, &idx, r->msg_text, sizeof(r->msg_text), &err);
	if (!a->vport) {
		close(nsfd);
		free(a);
		return err ? err : -EINVAL;
	}
	pid = spawn(bridge, nsfd, ifname, name);
	close(nsfd);
	if (pid < 0) {
		nmd_vale_parent_drop(a->vport);
		free(a);
		snprintf(r->msg_text, sizeof(r->msg_text), "%s: fork: %s", name, strerror((int)-pid));
		return (int)pid;
	}
	snprintf(a->name, sizeof(a->name), "%s", name);
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	a->ns_dev = st.st_dev;
	a->ns_ino = st.st_ino;
	a->helper = pid;
	a->next = attaches;
	attaches = a;
	va->port_index = idx;
	nmd_info("%s: interface %s attached (index %u), forwarder pid %d", name, ifname, idx,
		 (int)pid);
	return 0;
}

bool nmd_nic_vale_wrapped(const char *pname)
{
	const struct nic_attach *a;

	for (a = attaches; a; a = a->next)
		if (a->wrap && strcmp(a->ifname, pname) == 0)
			return true;
	return false;
}

int nmd_nic_vale_wrap(struct nmd_client *c, struct nmd_req *r)
{
	struct nmreq_vale_attach *va = r->body;
	const char *name = r->msg->hdr.nr_name;
	const char *pname = strchr(name, ':') + 1;
	char bridge[PATH_MAX];
	struct nic_attach *a;
	uint32_t idx = 0;
	int err;
	pid_t pid;

	(void)c;
	reap();
	if (nmd_nic_vale_wrapped(pname)) {
		snprintf(r->msg_text, sizeof(r->msg_text), "%s is attached to two switches "
			 "already", pname);
		return -EBUSY;
	}
	err = find_bridge(bridge, sizeof(bridge));
	if (err) {
		snprintf(r->msg_text, sizeof(r->msg_text), "%s: cannot find nm-bridge (beside "
			 "netmapd, ../bin, or $UNETMAP_NM_BRIDGE)", name);
		return -ENOENT;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->vport = nmd_vale_nic_hold(name, &idx, r->msg_text, sizeof(r->msg_text), &err);
	if (!a->vport) {
		free(a);
		return err ? err : -EINVAL;
	}
	pid = spawn(bridge, -1, pname, name);
	if (pid < 0) {
		nmd_vale_parent_drop(a->vport);
		free(a);
		snprintf(r->msg_text, sizeof(r->msg_text), "%s: fork: %s", name, strerror((int)-pid));
		return (int)pid;
	}
	snprintf(a->name, sizeof(a->name), "%s", name);
	snprintf(a->ifname, sizeof(a->ifname), "%s", pname);
	a->wrap = true;
	a->helper = pid;
	a->next = attaches;
	attaches = a;
	va->port_index = idx;
	nmd_info("%s: persistent port %s attached to a second switch (index %u), forwarder "
		 "pid %d", name, pname, idx, (int)pid);
	return 0;
}

/* Stop a forwarder: SIGTERM, then SIGKILL after 2 s. */
static void stop_helper(struct nic_attach *a)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	if (a->helper <= 0)
		return;
	kill(a->helper, SIGTERM);
	for (i = 0; i < 200; i++) {
		if (waitpid(a->helper, NULL, WNOHANG) == a->helper) {
			a->helper = 0;
			return;
		}
		nanosleep(&ts, NULL);
	}
	kill(a->helper, SIGKILL);
	waitpid(a->helper, NULL, 0);
	a->helper = 0;
}

static void attach_drop(struct nic_attach *a)
{
	struct nic_attach **pp;

	stop_helper(a);
	/* its descriptors are closed: unbind it now, so that the port has
	 * left the switch when the detach is answered */
	nmd_reap_hangups();
	for (pp = &attaches; *pp; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	}
	nmd_vale_parent_drop(a->vport);
	free(a);
}

int nmd_nic_vale_detach(struct nmd_client *c, struct nmd_req *r, uint32_t idx)
{
	struct nmreq_vale_detach *vd = r->body;
	const char *name = r->msg->hdr.nr_name;
	struct nic_attach *a = attach_find(name);
	const char *what;

	(void)c;
	reap();
	if (!a) {
		snprintf(r->msg_text, sizeof(r->msg_text), "%s: no such attachment", name);
		return -ENXIO;
	}
	what = a->wrap ? "persistent port" : "interface";
	attach_drop(a);
	vd->port_index = idx;
	nmd_info("%s: %s detached", name, what);
	return 0;
}

void nic_vale_fini(void)
{
	while (attaches)
		attach_drop(attaches);
}

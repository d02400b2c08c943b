/*
 * unetmap-cni - a CNI plugin (spec 1.0.0) that gives a pod a port of a
 * VALE switch in the host's netmapd, a netmapd socket granted to that port
 * alone, and optionally a veth on the same switch for the pod's own kernel
 * stack.  See unetmap-cni.8 and docs/cni.md.
 *
 * Everything an attachment owns is named after a hash of its (container
 * id, network name, interface name) -- the key the spec makes unique -- so
 * DEL and CHECK find it again from the same inputs without keeping any
 * state of their own: nothing can get out of step with netmapd.
 *
 * ADD builds in this order and, when a step fails, undoes the steps done,
 * last first (so a failed ADD leaves nothing): the persistent port (its
 * creation is also what detects a repeated ADD), its attachment to the
 * switch, the region's seal, the IPAM allocation, the veth, the grant.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <libnetmap.h>

#include "json.h"
#include "link.h"
#include "unm_reason.h"	/* why netmapd refused: this tool links libnetmap.a */
#include "unm_vale.h"

/* CNI's well-known error codes (SPEC.md of spec-v1.0.0, "Error") and
 * ours (100 and above, which the spec leaves to plugins) */
enum {
	CNI_ERR_VERSION = 1,
	CNI_ERR_ENV = 4,	/* invalid necessary environment variables */
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,	/* failed to decode content */
	CNI_ERR_CONFIG = 7,	/* invalid network configuration */
	CNI_ERR_AGAIN = 11,
	CNI_ERR_EXISTS = 100,	/* ADD of an attachment that exists */
	CNI_ERR_NETMAPD = 101,	/* netmapd refused a request */
	CNI_ERR_LINK = 102,	/* the veth, its addresses or routes */
	CNI_ERR_MISSING = 103,	/* CHECK: something ADD made is gone */
};

#define DEFAULT_SOCKET_DIR	"/run/unetmap/cni"
#define DEFAULT_NETMAPD_SOCKET	"/run/unetmap/netmapd.sock"
#define MAX_STDIN		JSON_MAX_INPUT
#define IPAM_TIMEOUT_MS		30000

static const char *const versions[] = { "0.4.0", "1.0.0" };

static struct {
	int code;
	char msg[256];
	char details[768];
} err;

/* Record the first error (the cause); later ones come from undoing. */
static int __attribute__((format(printf, 3, 4))) fail(int code, const char *msg,
						      const char *fmt, ...)
{
	va_list ap;

	if (err.code)
		return -1;
	err.code = code;
	snprintf(err.msg, sizeof(err.msg), "%s", msg);
	va_start(ap, fmt);
	vsnprintf(err.details, sizeof(err.details), fmt, ap);
	va_end(ap);
	return -1;
}

struct cni {
	/* environment */
	const char *cmd, *cid, *netns, *ifname, *path;
	/* configuration */
	char *in;
	size_t inlen;
	struct json *cfg;
	char version[16], name[128], sw[16], sockdir[256];
	bool veth;
	int ipam;			/* token of "ipam", or -1 */
	char ipam_type[64];
	uint32_t uid, gid, mode;
	/* what the attachment's names are */
	char port[16], hostveth[16], vport[40], vveth[40], holder[48];
	char poddir[PATH_MAX], sock[108], portfile[PATH_MAX];
	int ctl;			/* /dev/netmap, for NIOCCTRL */
	int hostns, podns;
};

static void usage(FILE *f, int status)
{
	fprintf(f,
		"usage: unetmap-cni           (run by a container runtime, CNI 1.0.0)\n"
		"       unetmap-cni --help | --version\n"
		"\n"
		"A CNI plugin: CNI_COMMAND (ADD, DEL, CHECK, VERSION), CNI_CONTAINERID,\n"
		"CNI_NETNS, CNI_IFNAME, CNI_PATH and CNI_ARGS in the environment, the\n"
		"network configuration as JSON on stdin; the result (or a CNI error) as\n"
		"JSON on stdout.  ADD gives the container a persistent port of a VALE\n"
		"switch in netmapd, a netmapd socket granted to that port alone, and\n"
		"optionally a veth on the same switch; DEL removes all of it.\n"
		"\n"
		"Configuration (beside cniVersion, name, type):\n"
		"  \"switch\": \"vale0\"            the VALE switch (required)\n"
		"  \"socketDir\": \"%s\"  where pods' sockets go\n"
		"  \"netmapdSocket\": \"%s\"  the host netmapd\n"
		"  \"veth\": false                also a veth on the switch\n"
		"  \"socketUid\", \"socketGid\": 0,  \"socketMode\": \"0660\"\n"
		"  \"ipam\": { \"type\": \"host-local\", ... }   delegated, per CNI\n"
		"See unetmap-cni(8) and docs/cni.md.\n", DEFAULT_SOCKET_DIR, DEFAULT_NETMAPD_SOCKET);
	exit(status);
}

/* ---- output ---------------------------------------------------------- */

static void print_error(const char *version)
{
	struct jbuf b = { 0 };

	jb_lit(&b, "{");
	jb_key(&b, "cniVersion");
	jb_str(&b, version && *version ? version : "1.0.0");
	jb_lit(&b, ",");
	jb_key(&b, "code");
	{
		char n[16];

		snprintf(n, sizeof(n), "%d", err.code);
		jb_lit(&b, n);
	}
	jb_lit(&b, ",");
	jb_key(&b, "msg");
	jb_str(&b, err.msg);
	if (err.details[0]) {
		jb_lit(&b, ",");
		jb_key(&b, "details");
		jb_str(&b, err.details);
	}
	jb_lit(&b, "}\n");
	if (!b.oom)
		fputs(b.p, stdout);
	else
		printf("{\"code\":%d,\"msg\":\"out of memory\"}\n", err.code);
	jb_free(&b);
}

static int cmd_version(void)
{
	unsigned i;

	printf("{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[");
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		printf("%s\"%s\"", i ? "," : "", versions[i]);
	printf("]}\n");
	return 0;
}

/* ---- environment and configuration ----------------------------------- */

/* The spec's rule for container ids; interface names as the kernel's. */
static bool id_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return false;
	return true;
}

static bool ifname_ok(const char *s)
{
	size_t l = strlen(s);

	if (l == 0 || l >= IFNAMSIZ || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

static int read_env(struct cni *c)
{
	c->cid = getenv("CNI_CONTAINERID");
	c->netns = getenv("CNI_NETNS");
	c->ifname = getenv("CNI_IFNAME");
	c->path = getenv("CNI_PATH");
	if (!c->cid || !id_ok(c->cid))
		return fail(CNI_ERR_ENV, "invalid CNI_CONTAINERID",
			    "CNI_CONTAINERID must be non-empty and hold only letters, digits, "
			    "'_', '-' and '.'");
	if (!c->ifname || !ifname_ok(c->ifname))
		return fail(CNI_ERR_ENV, "invalid CNI_IFNAME",
			    "CNI_IFNAME must be an interface name: 1 to %d bytes, no '/', ':' "
			    "or blanks", IFNAMSIZ - 1);
	if (strcmp(c->cmd, "DEL") != 0 && (!c->netns || !*c->netns))
		return fail(CNI_ERR_ENV, "missing CNI_NETNS", "%s needs CNI_NETNS", c->cmd);
	return 0;
}

static int read_stdin(struct cni *c)
{
	size_t cap = 4096;
	ssize_t n;

	c->in = malloc(cap);
	if (!c->in)
		return fail(CNI_ERR_IO, "out of memory", "reading the configuration");
	c->inlen = 0;
	for (;;) {
		if (c->inlen == cap) {
			char *p;

			if (cap >= MAX_STDIN)
				return fail(CNI_ERR_DECODE, "configuration too large",
					    "more than %d bytes on stdin", MAX_STDIN);
			cap *= 2;
			p = realloc(c->in, cap);
			if (!p)
				return fail(CNI_ERR_IO, "out of memory", "reading the configuration");
			c->in = p;
		}
		n = read(0, c->in + c->inlen, cap - c->inlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(CNI_ERR_IO, "cannot read the configuration", "stdin: %s",
				    strerror(errno));
		if (n == 0)
			return 0;
		c->inlen += (size_t)n;
	}
}

/* A string member: 0 found, 1 absent (out untouched), -1 error recorded */
static int cfg_str(struct cni *c, int obj, const char *key, char *out, size_t len, bool required)
{
	int t = json_get(c->cfg, obj, key);

	if (t < 0) {
		if (required)
			return fail(CNI_ERR_CONFIG, "invalid network configuration",
				    "\"%s\" is missing", key);
		return 1;
	}
	if (c->cfg->tok[t].type != JSON_STRING)
		return fail(CNI_ERR_CONFIG, "invalid network configuration",
			    "\"%s\" must be a string", key);
	if (json_str(c->cfg, t, out, len) < 0)
		return fail(CNI_ERR_CONFIG, "invalid network configuration",
			    "\"%s\" is longer than %zu bytes (or holds a NUL)", key, len - 1);
	return 0;
}

static int cfg_uint(struct cni *c, const char *key, uint32_t *out)
{
	int t = json_get(c->cfg, 0, key);
	const struct json_tok *k;
	char buf[16], *end;
	unsigned long v;

	if (t < 0)
		return 0;
	k = &c->cfg->tok[t];
	if (k->type != JSON_NUMBER || k->end - k->start >= sizeof(buf))
		goto bad;
	memcpy(buf, c->cfg->src + k->start, k->end - k->start);
	buf[k->end - k->start] = '\0';
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (errno || *end || buf[0] == '-' || v > UINT32_MAX)
		goto bad;
	*out = (uint32_t)v;
	return 0;
bad:
	return fail(CNI_ERR_CONFIG, "invalid network configuration",
		    "\"%s\" must be a non-negative integer", key);
}

static bool name_chars_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static int read_config(struct cni *c)
{
	char why[200], buf[256];
	unsigned i;
	int t;

	c->cfg = malloc(sizeof(*c->cfg));
	if (!c->cfg)
		return fail(CNI_ERR_IO, "out of memory", "parsing the configuration");
	if (json_parse(c->cfg, c->in, c->inlen, why, sizeof(why)) < 0)
		return fail(CNI_ERR_DECODE, "cannot parse the network configuration", "%s", why);
	if (c->cfg->tok[0].type != JSON_OBJECT)
		return fail(CNI_ERR_DECODE, "cannot parse the network configuration",
			    "the configuration must be a JSON object");
	if (cfg_str(c, 0, "cniVersion", c->version, sizeof(c->version), true))
		return -1;
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (strcmp(c->version, versions[i]) == 0)
			break;
	if (i == sizeof(versions) / sizeof(versions[0])) {
		char asked[sizeof(c->version)];

		/* the error itself in a version the runtime can read */
		snprintf(asked, sizeof(asked), "%s", c->version);
		c->version[0] = '\0';
		return fail(CNI_ERR_VERSION, "incompatible CNI version",
			    "cniVersion \"%s\": this plugin supports 0.4.0 and 1.0.0", asked);
	}
	if (cfg_str(c, 0, "name", c->name, sizeof(c->name), true) ||
	    cfg_str(c, 0, "type", buf, sizeof(buf), true) ||
	    cfg_str(c, 0, "switch", c->sw, sizeof(c->sw), true))
		return -1;
	/* netmap's rule for switch names (docs/vale.md): "vale" and
	 * [A-Za-z0-9_], shorter than 16 bytes; and nothing after them */
	if (strncmp(c->sw, "vale", 4) != 0 || !name_chars_ok(c->sw))
		return fail(CNI_ERR_CONFIG, "invalid network configuration",
			    "\"switch\": \"%s\" is not a VALE switch name (vale and letters, "
			    "digits or '_', at most 15 bytes)", c->sw);
	snprintf(c->sockdir, sizeof(c->sockdir), "%s", DEFAULT_SOCKET_DIR);
	if (cfg_str(c, 0, "socketDir", c->sockdir, sizeof(c->sockdir), false) < 0)
		return -1;
	if (c->sockdir[0] != '/')
		return fail(CNI_ERR_CONFIG, "invalid network configuration",
			    "\"socketDir\" must be an absolute path");
	buf[0] = '\0';
	t = cfg_str(c, 0, "netmapdSocket", buf, sizeof(buf), false);
	if (t < 0)
		return -1;
	/* the host's netmapd; the plugin never starts one itself (a
	 * daemon born of a CNI call would live in the runtime's cgroup) */
	if (t == 0 || !getenv("UNETMAP_SOCKET"))
		setenv("UNETMAP_SOCKET", t == 0 ? buf : DEFAULT_NETMAPD_SOCKET, 1);
	setenv("UNETMAP_NETMAPD", "/nonexistent/unetmap-cni-starts-no-netmapd", 1);
	t = json_get(c->cfg, 0, "veth");
	if (t >= 0) {
		if (c->cfg->tok[t].type != JSON_TRUE && c->cfg->tok[t].type != JSON_FALSE)
			return fail(CNI_ERR_CONFIG, "invalid network configuration",
				    "\"veth\" must be true or false");
		c->veth = c->cfg->tok[t].type == JSON_TRUE;
	}
	c->uid = c->gid = 0;
	c->mode = 0660;
	if (cfg_uint(c, "socketUid", &c->uid) || cfg_uint(c, "socketGid", &c->gid))
		return -1;
	t = cfg_str(c, 0, "socketMode", buf, sizeof(buf), false);
	if (t < 0)
		return -1;
	if (t == 0) {
		char *end;

		errno = 0;
		c->mode = (uint32_t)strtoul(buf, &end, 8);
		if (errno || *end || !buf[0] || c->mode > 0777)
			return fail(CNI_ERR_CONFIG, "invalid network configuration",
				    "\"socketMode\" must be octal permissions, e.g. \"0660\"");
	}
	c->ipam = json_get(c->cfg, 0, "ipam");
	if (c->ipam >= 0) {
		if (c->cfg->tok[c->ipam].type != JSON_OBJECT)
			return fail(CNI_ERR_CONFIG, "invalid network configuration",
				    "\"ipam\" must be an object");
		if (cfg_str(c, c->ipam, "type", c->ipam_type, sizeof(c->ipam_type), true))
			return -1;
		if (!id_ok(c->ipam_type) || c->ipam_type[0] == '.')
			return fail(CNI_ERR_CONFIG, "invalid network configuration",
				    "\"ipam\": \"type\" must be a plugin name, not a path");
		/* an empty ipam object ({"type": ""}) is rejected above */
	}
	return 0;
}

/* ---- names ------------------------------------------------------------- */

/* FNV-1a, 64 bits: small, and good enough to spread container ids; the
 * names keep 48 bits of it (a collision among a million attachments on one
 * host has odds of about 2 in a thousand million). */
static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Where the pod's socket goes: a directory per pod, named after its
 * Kubernetes uid when the runtime says it (CNI_ARGS K8S_POD_UID: a pod
 * spec can mount it with subPathExpr), else after the container id. */
static void pod_key(const struct cni *c, char *out, size_t len)
{
	const char *a = getenv("CNI_ARGS"), *p;

	snprintf(out, len, "%s", c->cid);
	for (p = a; p && *p;) {
		const char *semi = strchr(p, ';');
		size_t l = semi ? (size_t)(semi - p) : strlen(p);

		if (l > 12 && strncmp(p, "K8S_POD_UID=", 12) == 0 && l - 12 < len) {
			char uid[128];

			if (l - 12 < sizeof(uid)) {
				memcpy(uid, p + 12, l - 12);
				uid[l - 12] = '\0';
				if (id_ok(uid) && uid[0] != '.')
					snprintf(out, len, "%s", uid);
			}
		}
		p = semi ? semi + 1 : NULL;
	}
}

static int make_names(struct cni *c)
{
	uint64_t h = 0xcbf29ce484222325ull;
	char key[128];

	h = fnv(h, c->cid, strlen(c->cid) + 1);
	h = fnv(h, c->name, strlen(c->name) + 1);
	h = fnv(h, c->ifname, strlen(c->ifname) + 1);
	h &= 0xffffffffffffull;
	/* 15 bytes: netmap's port names and Linux's interface names are
	 * shorter than 16; a persistent port may not share an interface's
	 * name, so the veth's differs in its third letter */
	snprintf(c->port, sizeof(c->port), "cni%012llx", (unsigned long long)h);
	snprintf(c->hostveth, sizeof(c->hostveth), "cnv%012llx", (unsigned long long)h);
	snprintf(c->vport, sizeof(c->vport), "%s:%s", c->sw, c->port);
	snprintf(c->vveth, sizeof(c->vveth), "%s:%s", c->sw, c->hostveth);
	snprintf(c->holder, sizeof(c->holder), "%s", c->port);
	pod_key(c, key, sizeof(key));
	if ((size_t)snprintf(c->poddir, sizeof(c->poddir), "%s/%s", c->sockdir, key) >=
	    sizeof(c->poddir) ||
	    (size_t)snprintf(c->sock, sizeof(c->sock), "%s/%s.sock", c->poddir, c->ifname) >=
	    sizeof(c->sock))
		return fail(CNI_ERR_CONFIG, "invalid network configuration",
			    "the socket path %s/%s/%s.sock is longer than %zu bytes: choose a "
			    "shorter \"socketDir\"", c->sockdir, key, c->ifname, sizeof(c->sock) - 1);
	/* shorter than the socket's path, checked above */
	if ((size_t)snprintf(c->portfile, sizeof(c->portfile), "%s/%s.port", c->poddir,
			     c->ifname) >= sizeof(c->portfile))
		return fail(CNI_ERR_CONFIG, "invalid network configuration", "path too long");
	return 0;
}

/* ---- netmapd ------------------------------------------------------------- */

static int ctl_open(struct cni *c)
{
	c->ctl = open("/dev/netmap", O_RDWR | O_CLOEXEC);
	if (c->ctl < 0) {
		int e = errno;

		/* no netmapd yet (its DaemonSet still starting): the
		 * runtime should try again */
		return fail(e == ENOENT || e == ECONNREFUSED || e == ETIMEDOUT ? CNI_ERR_AGAIN :
			    CNI_ERR_NETMAPD, "cannot reach netmapd", "%s: %s%s%s",
			    getenv("UNETMAP_SOCKET"), strerror(e), unm_reason()[0] ? ": " : "",
			    unm_reason());
	}
	return 0;
}

/* One NIOCCTRL request; -errno, and the reason is in unm_reason() */
static int ctl(struct cni *c, uint16_t type, const char *name, void *body)
{
	struct nmreq_header hdr;

	if (c->ctl < 0)
		return -ENOTCONN;	/* DEL without netmapd (main) */
	nmreq_header_init(&hdr, type, body);
	snprintf(hdr.nr_name, sizeof(hdr.nr_name), "%s", name ? name : "");
	return ioctl(c->ctl, NIOCCTRL, &hdr) < 0 ? -errno : 0;
}

static int ctl_fail(int e, const char *what)
{
	return fail(e == -EBUSY ? CNI_ERR_AGAIN : CNI_ERR_NETMAPD, "netmapd refused a request",
		    "%s: %s%s%s", what, strerror(-e), unm_reason()[0] ? ": " : "", unm_reason());
}

static int port_attach(struct cni *c, const char *vname)
{
	struct nmreq_vale_attach a;

	memset(&a, 0, sizeof(a));
	a.reg.nr_mode = NR_REG_ALL_NIC;
	return ctl(c, NETMAP_REQ_VALE_ATTACH, vname, &a);
}

static int port_detach(struct cni *c, const char *vname)
{
	struct nmreq_vale_detach d;

	memset(&d, 0, sizeof(d));
	return ctl(c, NETMAP_REQ_VALE_DETACH, vname, &d);
}

/* Is vname ("valeX:port") in its switch?  0 yes, -ENOENT no */
static int port_listed(struct cni *c, const char *vname)
{
	struct nmreq_vale_list l;
	int e;

	memset(&l, 0, sizeof(l));
	e = ctl(c, NETMAP_REQ_VALE_LIST, vname, &l);
	if (e)
		return e;
	return l.nr_port_idx == NM_BDG_NOPORT || l.nr_port_idx == 255 ? -ENOENT : 0;
}

static int grant_req(struct cni *c, bool revoke)
{
	struct unm_grant g;

	memset(&g, 0, sizeof(g));
	snprintf(g.path, sizeof(g.path), "%s", c->sock);
	snprintf(g.holder, sizeof(g.holder), "%s", c->holder);
	/* the port and the pipes on it ("vale0:cni...{1"): fixed-length
	 * names, so no other attachment's name starts with this one */
	snprintf(g.prefix, sizeof(g.prefix), "%s", c->vport);
	g.uid = c->uid;
	g.gid = c->gid;
	g.mode = c->mode;
	return ctl(c, revoke ? UNM_REQ_REVOKE : UNM_REQ_GRANT, NULL, &g);
}

/* Remove the persistent port.  A pod's process that still holds it goes
 * away with the grant's revocation, a moment later: retry a little. */
static int port_remove(struct cni *c)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	int e, i;

	e = port_detach(c, c->vport);
	if (e && e != -ENXIO && e != -ENOENT && e != -EINVAL)
		return ctl_fail(e, c->vport);
	for (i = 0; i < 40; i++) {
		e = ctl(c, NETMAP_REQ_VALE_DELIF, c->port, NULL);
		if (e != -EBUSY)
			break;
		nanosleep(&ts, NULL);
	}
	if (e && e != -ENXIO && e != -ENOENT)
		return ctl_fail(e, c->port);
	return 0;
}

/* ---- directories ------------------------------------------------------- */

/* mkdir -p, 0755: netmapd creates a grant's socket only in a directory
 * that nobody but root (its user) can write */
static int mkdirs(const char *path)
{
	char buf[PATH_MAX], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;

			*p = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = saved;
			if (!saved)
				return 0;
		}
	}
}

static int write_portfile(struct cni *c)
{
	FILE *f = fopen(c->portfile, "we");

	if (!f)
		return -errno;
	fprintf(f, "%s\n", c->vport);
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

/* ---- IPAM ---------------------------------------------------------------- */

/* Run the IPAM plugin with our environment and stdin (CNI's delegation
 * convention); its stdout into *out.  0 if it succeeded, 1 if it failed
 * (its error JSON is in *out), -1 if it could not be run. */
static int ipam_exec(struct cni *c, const char *cmd, struct jbuf *out)
{
	char path[PATH_MAX];
	const char *p;
	int in[2], o[2], status;
	size_t written = 0;
	pid_t pid;
	bool found = false;
	struct timespec t0, t1;

	setenv("CNI_COMMAND", cmd, 1);
	for (p = c->path; p && *p;) {
		const char *colon = strchr(p, ':');
		size_t l = colon ? (size_t)(colon - p) : strlen(p);

		if (l && (size_t)snprintf(path, sizeof(path), "%.*s/%s", (int)l, p, c->ipam_type) <
		    sizeof(path) && access(path, X_OK) == 0) {
			found = true;
			break;
		}
		p = colon ? colon + 1 : NULL;
	}
	if (!found)
		return fail(CNI_ERR_CONFIG, "IPAM plugin not found",
			    "no executable \"%s\" in CNI_PATH (%s)", c->ipam_type,
			    c->path ? c->path : "unset");
	if (pipe2(in, O_CLOEXEC) < 0)
		return fail(CNI_ERR_IO, "cannot run the IPAM plugin", "pipe: %s", strerror(errno));
	if (pipe2(o, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return fail(CNI_ERR_IO, "cannot run the IPAM plugin", "pipe: %s", strerror(errno));
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		close(in[0]); close(in[1]); close(o[0]); close(o[1]);
		return fail(CNI_ERR_IO, "cannot run the IPAM plugin", "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		char *argv[] = { path, NULL };

		if (dup2(in[0], 0) < 0 || dup2(o[1], 1) < 0)
			_exit(127);
		execv(path, argv);
		_exit(127);
	}
	close(in[0]);
	close(o[1]);
	/* a blocking write would wait for all of it to fit, whatever poll
	 * said: a plugin that answers before reading could then deadlock */
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* feed stdin while reading stdout: neither side can fill a pipe and
	 * wait for the other */
	for (;;) {
		struct pollfd pf[2] = { { .fd = o[0], .events = POLLIN },
					{ .fd = in[1], .events = POLLOUT } };
		char buf[4096];
		long ms;
		int n;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= IPAM_TIMEOUT_MS) {
			kill(pid, SIGKILL);
			break;
		}
		n = poll(pf, in[1] >= 0 ? 2 : 1, (int)(IPAM_TIMEOUT_MS - ms));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (in[1] >= 0 && (pf[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(in[1], c->in + written, c->inlen - written);

			if (w > 0)
				written += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == c->inlen) {
				close(in[1]);
				in[1] = -1;
			}
		}
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(o[0], buf, sizeof(buf));

			if (r <= 0)
				break;
			if (out->len + (size_t)r > JSON_MAX_INPUT) {
				kill(pid, SIGKILL);
				break;
			}
			jb_raw(out, buf, (size_t)r);
		}
	}
	if (in[1] >= 0)
		close(in[1]);
	close(o[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	setenv("CNI_COMMAND", c->cmd, 1);
	if (out->oom)
		return fail(CNI_ERR_IO, "out of memory", "reading the IPAM plugin's answer");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && out->len == 0)
		return fail(CNI_ERR_IO, "cannot run the IPAM plugin", "%s could not be executed",
			    path);
	return 1;
}

/* The IPAM plugin failed: its error is ours (its code and message, its
 * name in the details). */
static int ipam_failed(struct cni *c, const char *cmd, struct jbuf *out)
{
	static struct json j;
	char msg[256] = "", det[512] = "";
	char why[160];
	int code = CNI_ERR_IO, t;

	if (out->len && json_parse(&j, out->p, out->len, why, sizeof(why)) == 0 &&
	    j.tok[0].type == JSON_OBJECT) {
		t = json_get(&j, 0, "code");
		if (t >= 0 && j.tok[t].type == JSON_NUMBER) {
			/* untrusted: any JSON number; the parse stops at
			 * the token's end (a ',' or '}' follows it) */
			long v = strtol(j.src + j.tok[t].start, NULL, 10);

			code = v > 0 && v < 100000 ? (int)v : CNI_ERR_IO;
		}
		json_str(&j, json_get(&j, 0, "msg"), msg, sizeof(msg));
		json_str(&j, json_get(&j, 0, "details"), det, sizeof(det));
	}
	if (code <= 0)
		code = CNI_ERR_IO;
	return fail(code, msg[0] ? msg : "the IPAM plugin failed", "IPAM plugin %s (%s)%s%s",
		    c->ipam_type, cmd, det[0] ? ": " : "", det);
}

/* ---- namespaces ---------------------------------------------------------- */

static int enter_pod(struct cni *c)
{
	if (c->podns < 0) {
		c->podns = open(c->netns, O_RDONLY | O_CLOEXEC);
		if (c->podns < 0)
			return fail(CNI_ERR_ENV, "invalid CNI_NETNS", "%s: %s", c->netns,
				    strerror(errno));
	}
	if (setns(c->podns, CLONE_NEWNET) < 0)
		return fail(CNI_ERR_ENV, "invalid CNI_NETNS", "setns %s: %s", c->netns,
			    strerror(errno));
	return 0;
}

/* Back to our own namespace: if this failed we could do harm in the
 * pod's (delete its interfaces by name), so it is fatal. */
static void leave_pod(struct cni *c)
{
	if (setns(c->hostns, CLONE_NEWNET) < 0) {
		fail(CNI_ERR_IO, "cannot return to the host network namespace", "setns: %s",
		     strerror(errno));
		print_error(c->version);
		_exit(1);
	}
}

/* ---- the veth ------------------------------------------------------------ */

/* Addresses and routes of an IPAM result, inside the pod. */
static int configure_ips(struct cni *c, const struct json *r)
{
	char addr[64], gw[64], dst[64];
	int ips = json_get(r, 0, "ips"), routes = json_get(r, 0, "routes"), i, t, e;

	for (i = 0; (t = json_child(r, ips, i)) >= 0; i++) {
		if (json_str(r, json_get(r, t, "address"), addr, sizeof(addr)) < 0)
			return fail(CNI_ERR_DECODE, "bad IPAM result", "ips[%d] has no address", i);
		e = link_addr_add(c->ifname, addr);
		if (e)
			return fail(CNI_ERR_LINK, "cannot configure the pod's interface",
				    "address %s on %s: %s", addr, c->ifname, strerror(-e));
	}
	for (i = 0; (t = json_child(r, routes, i)) >= 0; i++) {
		if (json_str(r, json_get(r, t, "dst"), dst, sizeof(dst)) < 0)
			return fail(CNI_ERR_DECODE, "bad IPAM result", "routes[%d] has no dst", i);
		gw[0] = '\0';
		if (json_get(r, t, "gw") >= 0)
			json_str(r, json_get(r, t, "gw"), gw, sizeof(gw));
		/* without a gateway of its own, the first address's (as
		 * CNI's bridge plugin does) */
		if (!gw[0] && (t = json_child(r, ips, 0)) >= 0 && json_get(r, t, "gateway") >= 0)
			json_str(r, json_get(r, t, "gateway"), gw, sizeof(gw));
		e = link_route_add(c->ifname, dst, gw);
		if (e && e != -EEXIST)
			return fail(CNI_ERR_LINK, "cannot configure the pod's interface",
				    "route %s via %s: %s", dst, gw[0] ? gw : "-", strerror(-e));
	}
	return 0;
}

static int veth_add(struct cni *c, const struct json *ipam, char *mac, size_t maclen)
{
	int e;

	if (c->podns < 0) {
		c->podns = open(c->netns, O_RDONLY | O_CLOEXEC);
		if (c->podns < 0)
			return fail(CNI_ERR_ENV, "invalid CNI_NETNS", "%s: %s", c->netns,
				    strerror(errno));
	}
	e = link_veth_create(c->hostveth, c->ifname, c->podns);
	if (e)
		return fail(CNI_ERR_LINK, "cannot create the veth",
			    "%s <-> %s in %s: %s", c->hostveth, c->ifname, c->netns, strerror(-e));
	e = link_prepare(c->hostveth);
	if (e) {
		fail(CNI_ERR_LINK, "cannot set up the veth", "%s: %s", c->hostveth, strerror(-e));
		goto undo;
	}
	if (enter_pod(c) < 0)
		goto undo;
	e = link_prepare(c->ifname);
	if (e) {
		fail(CNI_ERR_LINK, "cannot set up the veth", "%s in %s: %s", c->ifname, c->netns,
		     strerror(-e));
		leave_pod(c);
		goto undo;
	}
	e = link_mac(c->ifname, mac, maclen);
	if (!e && ipam && configure_ips(c, ipam) < 0)
		e = -1;
	leave_pod(c);
	if (e)
		goto undo;
	e = port_attach(c, c->vveth);
	if (e) {
		ctl_fail(e, c->vveth);
		goto undo;
	}
	return 0;
undo:
	link_delete(c->hostveth);	/* takes its peer along */
	return -1;
}

static void veth_del(struct cni *c)
{
	port_detach(c, c->vveth);
	link_delete(c->hostveth);
}

/* ---- ADD ----------------------------------------------------------------- */

static void emit_result(struct cni *c, const struct json *ipam, const char *mac)
{
	struct jbuf b = { 0 };
	int ips = ipam ? json_get(ipam, 0, "ips") : -1, i, t, pod = -1;

	jb_lit(&b, "{");
	jb_key(&b, "cniVersion");
	jb_str(&b, c->version);
	jb_lit(&b, ",\"interfaces\":[{");
	/* 0: the VALE port (in netmapd, no sandbox: not a kernel interface) */
	jb_key(&b, "name");
	jb_str(&b, c->vport);
	jb_lit(&b, "}");
	if (c->veth) {
		jb_lit(&b, ",{");
		jb_key(&b, "name");
		jb_str(&b, c->hostveth);
		jb_lit(&b, "},{");
		jb_key(&b, "name");
		jb_str(&b, c->ifname);
		jb_lit(&b, ",");
		jb_key(&b, "mac");
		jb_str(&b, mac);
		jb_lit(&b, ",");
		jb_key(&b, "sandbox");
		jb_str(&b, c->netns);
		jb_lit(&b, "}");
		pod = 2;
	}
	jb_lit(&b, "]");
	if (ips >= 0 && ipam->tok[ips].type == JSON_ARRAY) {
		jb_lit(&b, ",\"ips\":[");
		for (i = 0; (t = json_child(ipam, ips, i)) >= 0; i++) {
			int k, n = 0;

			jb_lit(&b, i ? ",{" : "{");
			/* IPAM's fields, with "interface" pointing at the pod's
			 * veth when there is one */
			for (k = 0; json_child(ipam, t, k) >= 0; k++) {
				int key = json_child(ipam, t, k);

				if (json_streq(ipam, key, "interface"))
					continue;
				jb_lit(&b, n++ ? "," : "");
				jb_tok(&b, ipam, key);
				jb_lit(&b, ":");
				jb_tok(&b, ipam, key + 1);
			}
			if (pod >= 0) {
				char n2[16];

				snprintf(n2, sizeof(n2), "%d", pod);
				jb_lit(&b, n ? "," : "");
				jb_key(&b, "interface");
				jb_lit(&b, n2);
			}
			jb_lit(&b, "}");
		}
		jb_lit(&b, "]");
	}
	if (ipam && (t = json_get(ipam, 0, "routes")) >= 0) {
		jb_lit(&b, ",\"routes\":");
		jb_tok(&b, ipam, t);
	}
	jb_lit(&b, ",\"dns\":");
	if (ipam && (t = json_get(ipam, 0, "dns")) >= 0)
		jb_tok(&b, ipam, t);
	else
		jb_lit(&b, "{}");
	jb_lit(&b, "}\n");
	if (b.oom) {
		fail(CNI_ERR_IO, "out of memory", "writing the result");
		print_error(c->version);
	} else {
		fputs(b.p, stdout);
	}
	jb_free(&b);
}

static int cmd_add(struct cni *c)
{
	static struct json ipam;
	struct jbuf ipout = { 0 };
	struct nmreq_vale_newif nif;
	struct unm_port_seal seal;
	char mac[32] = "";
	bool have_ipam = false;
	int e;

	memset(&nif, 0, sizeof(nif));
	e = ctl(c, NETMAP_REQ_VALE_NEWIF, c->port, &nif);
	if (e == -EEXIST)
		return fail(CNI_ERR_EXISTS, "the attachment exists already",
			    "%s (container %s, network %s, interface %s): ADD is not repeated; "
			    "DEL it first", c->port, c->cid, c->name, c->ifname);
	if (e)
		return ctl_fail(e, c->port);
	e = port_attach(c, c->vport);
	if (e) {
		ctl_fail(e, c->vport);
		goto undo_port;
	}
	/* sealed now, before the pod ever opens it: no host process can
	 * slip a pipe into its region meanwhile */
	memset(&seal, 0, sizeof(seal));
	snprintf(seal.holder, sizeof(seal.holder), "%s", c->holder);
	e = ctl(c, UNM_REQ_PORT_SEAL, c->port, &seal);
	if (e) {
		ctl_fail(e, c->port);
		goto undo_port;
	}
	if (c->ipam >= 0) {
		char why[160];

		e = ipam_exec(c, "ADD", &ipout);
		if (e < 0)
			goto undo_port;
		if (e > 0) {
			ipam_failed(c, "ADD", &ipout);
			goto undo_ipam;	/* it may have done half */
		}
		have_ipam = true;
		if (json_parse(&ipam, ipout.p ? ipout.p : "", ipout.len, why, sizeof(why)) < 0 ||
		    ipam.tok[0].type != JSON_OBJECT) {
			fail(CNI_ERR_DECODE, "bad IPAM result", "%s: %s", c->ipam_type,
			     ipout.len ? why : "no output");
			goto undo_ipam;
		}
	}
	if (c->veth && veth_add(c, have_ipam ? &ipam : NULL, mac, sizeof(mac)) < 0)
		goto undo_ipam;
	e = mkdirs(c->poddir);
	if (e) {
		fail(CNI_ERR_IO, "cannot make the pod's socket directory", "%s: %s", c->poddir,
		     strerror(-e));
		goto undo_veth;
	}
	e = grant_req(c, false);
	if (e) {
		ctl_fail(e, c->sock);
		goto undo_dir;
	}
	e = write_portfile(c);
	if (e) {
		fail(CNI_ERR_IO, "cannot write the port's name", "%s: %s", c->portfile,
		     strerror(-e));
		grant_req(c, true);
		goto undo_dir;
	}
	emit_result(c, have_ipam ? &ipam : NULL, mac);
	jb_free(&ipout);
	return 0;
undo_dir:
	rmdir(c->poddir);	/* only if nothing else is in it */
undo_veth:
	if (c->veth)
		veth_del(c);
undo_ipam:
	if (c->ipam >= 0) {
		struct jbuf o2 = { 0 };

		ipam_exec(c, "DEL", &o2);
		jb_free(&o2);
	}
undo_port:
	port_remove(c);
	jb_free(&ipout);
	return -1;
}

/* ---- DEL, CHECK ---------------------------------------------------------- */

/* Everything ADD may have made, each part whether or not it exists (a
 * half-done ADD, a repeated DEL); the first real failure is reported
 * after trying the rest. */
static int cmd_del(struct cni *c)
{
	int e, rc = 0;

	e = grant_req(c, true);
	if (e && e != -ENOENT)
		rc = ctl_fail(e, c->sock);
	unlink(c->portfile);
	unlink(c->sock);
	rmdir(c->poddir);
	veth_del(c);
	if (c->ipam >= 0) {
		struct jbuf o = { 0 };

		e = ipam_exec(c, "DEL", &o);
		if (e > 0)
			rc = ipam_failed(c, "DEL", &o);
		else if (e < 0)
			rc = -1;
		jb_free(&o);
	}
	if (port_remove(c) < 0)
		rc = -1;
	return rc;
}

/* Is address "a.b.c.d/len" (the part before '/') on interface ifname of
 * the current network namespace? */
static bool addr_present(const char *ifname, const char *cidr)
{
	char a[INET6_ADDRSTRLEN];
	unsigned char want[16];
	struct ifaddrs *ifs, *i;
	bool found = false;
	int fam;

	snprintf(a, sizeof(a), "%.*s", (int)strcspn(cidr, "/"), cidr);
	fam = inet_pton(AF_INET, a, want) == 1 ? AF_INET :
	      inet_pton(AF_INET6, a, want) == 1 ? AF_INET6 : 0;
	if (!fam || getifaddrs(&ifs) < 0)
		return false;
	for (i = ifs; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != fam || strcmp(i->ifa_name, ifname))
			continue;
		if (fam == AF_INET)
			found = !memcmp(&((struct sockaddr_in *)i->ifa_addr)->sin_addr, want, 4);
		else
			found = !memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, want, 16);
	}
	freeifaddrs(ifs);
	return found;
}

/* What the runtime says ADD returned (prevResult, spec 1.0.0) must name
 * the port this configuration makes. */
static int check_prev_port(struct cni *c, int prev)
{
	const struct json *j = c->cfg;
	char name[64];
	int t;

	if (j->tok[prev].type != JSON_OBJECT)
		return fail(CNI_ERR_DECODE, "invalid prevResult", "prevResult must be an object");
	t = json_child(j, json_get(j, prev, "interfaces"), 0);
	if (t < 0 || json_str(j, json_get(j, t, "name"), name, sizeof(name)) < 0 ||
	    strcmp(name, c->vport) != 0)
		return fail(CNI_ERR_MISSING, "prevResult is not this attachment's",
			    "its first interface is not %s", c->vport);
	return 0;
}

/* ... and its addresses are on the pod's interface (called in the pod) */
static int check_prev_addrs(struct cni *c, int prev)
{
	const struct json *j = c->cfg;
	char addr[64];
	int ips = json_get(j, prev, "ips"), t, i;

	for (i = 0; (t = json_child(j, ips, i)) >= 0; i++) {
		if (json_str(j, json_get(j, t, "address"), addr, sizeof(addr)) < 0)
			return fail(CNI_ERR_DECODE, "invalid prevResult", "ips[%d] has no address", i);
		if (!addr_present(c->ifname, addr))
			return fail(CNI_ERR_MISSING, "an address of prevResult is missing",
				    "%s on %s in %s", addr, c->ifname, c->netns);
	}
	return 0;
}

static int cmd_check(struct cni *c)
{
	struct stat st;
	int e, prev = json_get(c->cfg, 0, "prevResult");

	if (prev >= 0 && check_prev_port(c, prev) < 0)
		return -1;
	e = port_listed(c, c->vport);
	if (e)
		return fail(CNI_ERR_MISSING, "the VALE port is missing", "%s: %s", c->vport,
			    strerror(-e));
	if (stat(c->sock, &st) < 0 || !S_ISSOCK(st.st_mode))
		return fail(CNI_ERR_MISSING, "the granted socket is missing", "%s", c->sock);
	if (c->veth) {
		e = port_listed(c, c->vveth);
		if (e)
			return fail(CNI_ERR_MISSING, "the veth is not on the switch", "%s: %s",
				    c->vveth, strerror(-e));
		if (enter_pod(c) < 0)
			return -1;
		if (!if_nametoindex(c->ifname))
			e = fail(CNI_ERR_MISSING, "the pod's interface is missing", "%s in %s: %s",
				 c->ifname, c->netns, strerror(errno));
		else if (prev >= 0)
			e = check_prev_addrs(c, prev);
		leave_pod(c);
		if (e)
			return -1;
	}
	if (c->ipam >= 0) {
		struct jbuf o = { 0 };

		e = ipam_exec(c, "CHECK", &o);
		if (e > 0)
			ipam_failed(c, "CHECK", &o);
		jb_free(&o);
		if (e)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cni c;
	int rc;

	if (argc > 1) {
		if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
			usage(stdout, 0);
		if (strcmp(argv[1], "--version") == 0)
			return cmd_version();
		usage(stderr, 2);
	}
	memset(&c, 0, sizeof(c));
	c.ctl = c.hostns = c.podns = -1;
	c.ipam = -1;
	c.cmd = getenv("CNI_COMMAND");
	if (!c.cmd || !*c.cmd) {
		fail(CNI_ERR_ENV, "CNI_COMMAND is not set", "run by a container runtime; "
		     "see unetmap-cni --help");
		goto out;
	}
	if (strcmp(c.cmd, "VERSION") == 0)
		return cmd_version();
	if (strcmp(c.cmd, "ADD") != 0 && strcmp(c.cmd, "DEL") != 0 && strcmp(c.cmd, "CHECK") != 0) {
		fail(CNI_ERR_ENV, "unknown CNI_COMMAND", "\"%.100s\": ADD, DEL, CHECK or VERSION",
		     c.cmd);
		goto out;
	}
	if (read_stdin(&c) < 0 || read_config(&c) < 0 || read_env(&c) < 0 || make_names(&c) < 0)
		goto out;
	c.hostns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (c.hostns < 0) {
		fail(CNI_ERR_IO, "cannot open our network namespace", "/proc/self/ns/net: %s",
		     strerror(errno));
		goto out;
	}
	/* DEL goes on without netmapd: the veth and the IP allocation are
	 * the kernel's and IPAM's, and go now; the error (try again later)
	 * stands, so the runtime repeats DEL, which then finds the rest */
	if (ctl_open(&c) < 0 && strcmp(c.cmd, "DEL") != 0)
		goto out;
	if (strcmp(c.cmd, "ADD") == 0)
		cmd_add(&c);
	else if (strcmp(c.cmd, "DEL") == 0)
		cmd_del(&c);
	else
		cmd_check(&c);
out:
	rc = err.code ? 1 : 0;
	if (err.code)
		print_error(c.version);
	fflush(stdout);
	if (c.ctl >= 0)
		close(c.ctl);
	free(c.cfg);
	free(c.in);
	return rc;
}

/*
 * vale_mod.c - VALE switch modules: forwarding logic loaded into a switch
 * while netmapd runs (ABI: include/unetmap/vale_module.h; guide:
 * docs/vale-modules.md).
 *
 * Loading a module into a switch, all on the main thread:
 *   1. the path is resolved (realpath) and trusted only if nobody netmapd
 *      does not trust could have written the file or any directory above
 *      it (path_trusted);
 *   2. dlopen(RTLD_NOW | RTLD_LOCAL), then the exported descriptor's ABI
 *      version and size are checked before anything else in it is read;
 *   3. the module's init builds its private state for this switch, and
 *      port_attach is called for every port already there;
 *   4. only then is the module published in vale_switch.mod.  Forwarding
 *      threads read that pointer once per batch (fwd_txq), so after one
 *      grace period (vale_fwd_sync) none runs the previous logic any
 *      more, which is then finished (fini) and closed (dlclose).
 * A failure at any step undoes the steps before it: the switch keeps
 * forwarding with the logic it had.
 *
 * A module is trusted code in our address space: what it returns is
 * validated (vale_fwd.c, mod_verdict), what it does is not.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vale.h"

/* ABI 1's struct unm_vale_module: every module of this ABI has at least
 * this much of it (later versions of the header only append). */
#define MOD_MIN_SIZE	(offsetof(struct unm_vale_module, port_detach) + \
			 sizeof(((struct unm_vale_module *)0)->port_detach))
/* a descriptor claiming more than this is not one */
#define MOD_MAX_SIZE	4096u
/* lines a module may log per second from forwarding threads */
#define MOD_LOG_RATE	5u

/* Where host->error writes during the init or config call in progress
 * (main thread only). */
static char *cur_msg;
static size_t cur_msglen;

#define MOD_OF(h) ((struct vale_mod *)(void *)((char *)(uintptr_t)(h) - \
			offsetof(struct vale_mod, host)))

/* ---- what a module may call (struct unm_vale_host) ---- */

static void host_synchronize(const struct unm_vale_host *h)
{
	if (vale_fwd_on_thread()) {
		/* a forwarding thread waiting for itself would never return */
		nmd_err("%s: module %s called synchronize() from a lookup: ignored",
			h->switch_name, MOD_OF(h)->name);
		return;
	}
	vale_fwd_sync();
}

static void host_log(const struct unm_vale_host *h, int level, const char *fmt, ...)
{
	struct vale_mod *m = MOD_OF(h);
	char line[256];
	va_list ap;

	if (level < NMD_LOG_ERR)
		level = NMD_LOG_ERR;
	if (level > NMD_LOG_DEBUG)
		level = NMD_LOG_DEBUG;
	if (level > nmd_log_level)
		return;
	if (vale_fwd_on_thread()) {
		long now = (long)time(NULL);
		long sec = atomic_load_explicit(&m->log_sec, memory_order_relaxed);

		/* a window per second; racing threads may let a line or
		 * two more through, never a flood */
		if (sec != now && atomic_compare_exchange_strong_explicit(
			    &m->log_sec, &sec, now, memory_order_relaxed, memory_order_relaxed))
			atomic_store_explicit(&m->log_lines, 0, memory_order_relaxed);
		if (atomic_fetch_add_explicit(&m->log_lines, 1, memory_order_relaxed) >=
		    MOD_LOG_RATE)
			return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	nmd_log_msg(level, "%s: module %s: %s", h->switch_name, m->name, line);
}

static void host_error(const struct unm_vale_host *h, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (!vale_fwd_on_thread() && cur_msg)
		snprintf(cur_msg, cur_msglen, "module %s: %s", MOD_OF(h)->name, line);
	else
		host_log(h, NMD_LOG_WARN, "%s", line);
}

/* ---- trust ---- */

/* Could someone netmapd does not trust have written what st describes?
 * Trusted owners: root, and netmapd's own user when it is not root.
 * Directories writable by others are acceptable only when sticky (as
 * /tmp): nobody else can then rename or remove what we own in them. */
static const char *untrusted(const struct stat *st, bool dir)
{
	uid_t me = geteuid();

	if (st->st_uid != 0 && (me == 0 || st->st_uid != me))
		return me == 0 ? "is not owned by root" : "is owned by neither netmapd's user nor root";
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(dir && (st->st_mode & S_ISVTX)))
		return "is writable by group or others";
	return NULL;
}

/* Resolve path into real (PATH_MAX) and check the file and every
 * directory above it.  0 or -errno with the reason in msg. */
static int path_trusted(const char *path, char *real, char *msg, size_t msglen)
{
	char dir[PATH_MAX];
	struct stat st;
	const char *why;
	char *slash;

	if (!realpath(path, real)) {
		int e = errno;

		snprintf(msg, msglen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (stat(real, &st) < 0) {
		int e = errno;

		snprintf(msg, msglen, "%s: %s", real, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(msg, msglen, "%s is not a regular file", real);
		return -EINVAL;
	}
	if ((why = untrusted(&st, false))) {
		snprintf(msg, msglen, "refusing %s: it %s (netmapd runs as uid %u)", real, why,
			 (unsigned)geteuid());
		return -EPERM;
	}
	/* realpath() left no symbolic link and no "..": each prefix is a
	 * directory the file depends on */
	snprintf(dir, sizeof(dir), "%s", real);
	while ((slash = strrchr(dir, '/'))) {
		if (slash == dir)
			slash[1] = '\0';	/* "/" itself, last */
		else
			*slash = '\0';
		if (lstat(dir, &st) < 0) {
			int e = errno;

			snprintf(msg, msglen, "%s: %s", dir, strerror(e));
			return -e;
		}
		if ((why = untrusted(&st, true))) {
			snprintf(msg, msglen, "refusing %s: directory %s %s (netmapd runs as uid %u)",
				 real, dir, why, (unsigned)geteuid());
			return -EPERM;
		}
		if (slash == dir)
			break;
	}
	return 0;
}

/* ---- life cycle ---- */

static void mod_free(struct vale_mod *m)
{
	if (m->ops.fini)
		m->ops.fini(m->priv);
	if (m->dl)
		dlclose(m->dl);
	free(m);
}

/* An errno value from a module: either sign, anything else is EINVAL. */
static int mod_errno(int e)
{
	if (e < 0)
		e = -e;
	return e > 0 && e < 4096 ? e : EINVAL;
}

/* Open path and check its descriptor; fills m (not its host yet). */
static int mod_open(struct vale_mod *m, const char *path, char *msg, size_t msglen)
{
	const struct unm_vale_module *d;
	uint32_t abi, size;
	const char *base;

	m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!m->dl) {
		const char *e = dlerror();

		snprintf(msg, msglen, "cannot load %s: %s", path, e ? e : "dlopen failed");
		return -ENOEXEC;
	}
	dlerror();
	d = dlsym(m->dl, UNM_VALE_MODULE_SYMBOL);
	if (!d) {
		snprintf(msg, msglen, "%s is not a VALE module: it exports no symbol %s", path,
			 UNM_VALE_MODULE_SYMBOL);
		return -ENOEXEC;
	}
	/* the version first: the rest may be laid out otherwise */
	abi = d->abi;
	size = d->size;
	if (abi != UNM_VALE_MODULE_ABI) {
		snprintf(msg, msglen, "%s: built for VALE module ABI %u, netmapd speaks ABI %u: "
			 "rebuild it", path, abi, UNM_VALE_MODULE_ABI);
		return -EPROTONOSUPPORT;
	}
	if (size < MOD_MIN_SIZE || size > MOD_MAX_SIZE) {
		snprintf(msg, msglen, "%s: its module descriptor claims %u bytes (ABI %u has %zu): "
			 "not built with UNM_VALE_MODULE_HEADER?", path, size, abi, MOD_MIN_SIZE);
		return -ENOEXEC;
	}
	memcpy(&m->ops, d, size < sizeof(m->ops) ? size : sizeof(m->ops));
	if (!m->ops.lookup && !m->ops.lookup_batch) {
		snprintf(msg, msglen, "%s has no lookup function", path);
		return -EINVAL;
	}
	base = strrchr(path, '/');
	snprintf(m->name, sizeof(m->name), "%.63s",
		 m->ops.name && m->ops.name[0] ? m->ops.name : base ? base + 1 : path);
	m->lookup = m->ops.lookup;
	m->lookup_batch = m->ops.lookup_batch;
	return 0;
}

int vale_mod_load(struct vale_switch *sw, const char *path, const char *args, char *msg,
		  size_t msglen)
{
	char real[PATH_MAX];
	struct vale_mod *m, *old;
	size_t sz = (sizeof(*m) + 63) & ~(size_t)63;
	uint32_t i, hi;
	int err;

	/* no event loop (the fuzzer): never run code from its input */
	if (!nmd_server_has_loop()) {
		snprintf(msg, msglen, "this netmapd loads no modules (no event loop)");
		return -ENOTCONN;
	}
	if (path[0] != '/') {
		snprintf(msg, msglen, "%s: the module's path must be absolute", path);
		return -EINVAL;
	}
	err = path_trusted(path, real, msg, msglen);
	if (err)
		return err;
	if (strlen(real) >= sizeof(m->path)) {
		snprintf(msg, msglen, "%.100s...: path longer than %zu bytes", real,
			 sizeof(m->path) - 1);
		return -ENAMETOOLONG;
	}
	m = aligned_alloc(64, sz);
	if (!m) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	memset(m, 0, sz);
	err = mod_open(m, real, msg, msglen);
	if (err) {
		if (m->dl)
			dlclose(m->dl);
		free(m);
		return err;
	}
	memcpy(m->path, real, strlen(real) + 1);
	snprintf(m->args, sizeof(m->args), "%s", args);
	m->host.abi = UNM_VALE_MODULE_ABI;
	m->host.size = sizeof(m->host);
	m->host.switch_name = sw->name;
	m->host.max_ports = VALE_MAX_PORTS;
	m->host.max_rings = VALE_MAX_RINGS;
	m->host.synchronize = host_synchronize;
	m->host.log = host_log;
	m->host.error = host_error;
	if (m->ops.init) {
		msg[0] = '\0';
		cur_msg = msg;
		cur_msglen = msglen;
		err = m->ops.init(&m->host, m->args, &m->priv);
		cur_msg = NULL;
		if (err) {
			err = mod_errno(err);
			if (!msg[0])
				snprintf(msg, msglen, "module %s: init failed: %s", m->name,
					 strerror(err));
			dlclose(m->dl);
			free(m);
			return -err;
		}
	}
	hi = atomic_load_explicit(&sw->hi, memory_order_relaxed);
	for (i = 0; m->ops.port_attach && i < hi; i++) {
		struct vale_port *vp = atomic_load_explicit(&sw->port[i], memory_order_relaxed);

		if (vp)
			m->ops.port_attach(m->priv, i, vp->port.name);
	}
	old = atomic_load_explicit(&sw->mod, memory_order_relaxed);
	/* R: the module's fields and whatever its init and port_attach
	 * wrote are visible to a forwarding thread that loads the pointer
	 * (acquire in fwd_txq) */
	atomic_store_explicit(&sw->mod, m, memory_order_release);
	/* After this grace period no batch still runs the previous logic:
	 * the old module can go, and the built-in bridge's state is ours
	 * alone until it runs again (vale_mod_unload). */
	vale_fwd_sync();
	if (old) {
		nmd_info("%s: module %s replaces module %s", sw->name, m->name, old->name);
		mod_free(old);
	} else {
		nmd_info("%s: module %s (%s%s%s) replaces the learning bridge", sw->name, m->name,
			 m->path, m->args[0] ? " " : "", m->args);
	}
	return 0;
}

void vale_mod_unload(struct vale_switch *sw)
{
	struct vale_mod *old = atomic_load_explicit(&sw->mod, memory_order_relaxed);
	uint32_t i;

	if (!old)
		return;
	/* No thread has run the built-in bridge since the module's grace
	 * period (vale_mod_load).  It starts afresh, as netmap's regops
	 * with no ops: what it learned before may be stale. */
	for (i = 0; i < (1u << VALE_MAC_BITS); i++)
		atomic_store_explicit(&sw->mac[i], 0, memory_order_relaxed);
	for (i = 0; i < VALE_V_N; i++)
		atomic_store_explicit(&sw->verdicts[i], 0, memory_order_relaxed);
	/* R: the table clears above before a thread that sees NULL learns */
	atomic_store_explicit(&sw->mod, NULL, memory_order_release);
	vale_fwd_sync();
	nmd_info("%s: module %s unloaded, learning bridge back", sw->name, old->name);
	mod_free(old);
}

void vale_mod_info(const struct vale_switch *sw, struct unm_vale_module_req *out)
{
	const struct vale_mod *m = atomic_load_explicit(&sw->mod, memory_order_relaxed);
	const _Atomic uint64_t *v = m ? m->verdicts : sw->verdicts;

	out->abi = UNM_VALE_MODULE_ABI;
	snprintf(out->name, sizeof(out->name), "%s", m ? m->name : "builtin");
	snprintf(out->path, sizeof(out->path), "%s", m ? m->path : "");
	snprintf(out->args, sizeof(out->args), "%s", m ? m->args : "");
	out->forwarded = atomic_load_explicit(&v[VALE_V_UNICAST], memory_order_relaxed);
	out->broadcast = atomic_load_explicit(&v[VALE_V_BCAST], memory_order_relaxed);
	out->dropped = atomic_load_explicit(&v[VALE_V_DROP], memory_order_relaxed);
	out->invalid = atomic_load_explicit(&v[VALE_V_INVALID], memory_order_relaxed);
}

int vale_mod_config(struct vale_switch *sw, struct nm_ifreq *req, char *msg, size_t msglen)
{
	struct vale_mod *m = atomic_load_explicit(&sw->mod, memory_order_relaxed);
	int err;

	/* EINVAL, as netmap's netmap_bdg_config() without a config callback */
	if (!m) {
		snprintf(msg, msglen, "%s runs the built-in learning bridge, which takes no "
			 "configuration (load a module: vale-ctl --module)", sw->name);
		return -EINVAL;
	}
	if (!m->ops.config) {
		snprintf(msg, msglen, "module %s in %s takes no configuration", m->name, sw->name);
		return -EINVAL;
	}
	msg[0] = '\0';
	cur_msg = msg;
	cur_msglen = msglen;
	err = m->ops.config(m->priv, req);
	cur_msg = NULL;
	if (!err)
		return 0;
	err = mod_errno(err);
	if (!msg[0])
		snprintf(msg, msglen, "module %s refused the configuration: %s", m->name,
			 strerror(err));
	return -err;
}

void vale_mod_port_attach(struct vale_switch *sw, const struct vale_port *vp)
{
	struct vale_mod *m = atomic_load_explicit(&sw->mod, memory_order_relaxed);

	if (m && m->ops.port_attach)
		m->ops.port_attach(m->priv, vp->idx, vp->port.name);
}

void vale_mod_port_detach(struct vale_switch *sw, uint32_t idx, const char *name)
{
	struct vale_mod *m = atomic_load_explicit(&sw->mod, memory_order_relaxed);

	if (m && m->ops.port_detach)
		m->ops.port_detach(m->priv, idx, name);
}

/*
 * portacl.c - a VALE module that applies a rule to every frame by the
 * port it comes from: pass it to the learning bridge, drop it, flood it,
 * or send it to one fixed port (a patch cable).
 *
 * Rules at load time, words separated by spaces or commas:
 *	default=pass|drop	ports without a rule (default: pass)
 *	pass=PORT  drop=PORT  flood=PORT
 *	PORT>PORT2		everything PORT sends goes to PORT2
 * PORT is a port's name ("a" or "vale0:a"); rules follow the name, so a
 * port that leaves and comes back (or joins after the load) gets its
 * rule again.
 *
 * At run time, NIOCCONFIG takes the netmap tutorial's struct mmreq
 * (mmctl), so that tool works unchanged:
 *	struct mmreq { char mr_name[16]; uint16_t mr_sport, mr_dport; int mr_cmd; };
 * mr_name names the switch ("vale0:vi0" selects vale0); frames from port
 * index mr_sport then go to port index mr_dport (NM_BDG_BROADCAST: flood,
 * NM_BDG_NOPORT: drop).  mr_cmd 1 gives mr_sport back its load-time rule.
 * Such a rule lasts until the port leaves the switch.
 *
 * Design: one word per port, read by the lookup with a relaxed atomic
 * load (a rule is a single value, so no table needs replacing); the
 * learning table is the built-in bridge's, in this module's memory.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unetmap/vale_module.h>

#define PASS 0xffffffffu		/* rule: the learning bridge decides */
#define BITS 13
#define NAMSIZ 32
#define MAX_NAMED 64

struct named {				/* a load-time rule */
	char src[NAMSIZ], dst[NAMSIZ];	/* dst "" unless a patch */
	uint32_t rule;			/* PASS, NM_BDG_NOPORT, NM_BDG_BROADCAST */
};

struct acl {
	const struct unm_vale_host *host;
	_Atomic uint32_t *rule;		/* by source port index */
	_Atomic uint64_t mac[1u << BITS];	/* MAC << 16 | (port + 1) */
	/* main thread only */
	uint32_t dflt;
	struct named named[MAX_NAMED];
	unsigned nnamed;
	char (*names)[NAMSIZ];		/* the switch's ports, by index */
	unsigned char *manual;		/* rule set by NIOCCONFIG */
};

struct mmreq {				/* the netmap tutorial's */
	char mr_name[16];
	uint16_t mr_sport, mr_dport;
	int mr_cmd;
};

/* the address as a number, in memory order: compilers make it two loads */
static uint64_t mac48(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40;
}
static uint32_t hash(uint64_t m) { return (uint32_t)((m * 0x9e3779b97f4a7c15ull) >> (64 - BITS)); }

static bool name_is(const char *full, const char *want)
{
	const char *c = strchr(full, ':');

	return strcmp(full, want) == 0 || (c && strcmp(c + 1, want) == 0);
}

static uint32_t port_by_name(const struct acl *a, const char *want)
{
	uint32_t i;

	for (i = 0; i < a->host->max_ports; i++)
		if (a->names[i][0] && name_is(a->names[i], want))
			return i;
	return NM_BDG_NOPORT;
}

/* The load-time rule of port i. */
static uint32_t rule_of(const struct acl *a, uint32_t i)
{
	unsigned k;

	for (k = 0; k < a->nnamed; k++) {
		const struct named *n = &a->named[k];

		if (!name_is(a->names[i], n->src))
			continue;
		/* a patch to a port not (yet) there drops */
		return n->dst[0] ? port_by_name(a, n->dst) : n->rule;
	}
	return a->dflt;
}

/* Ports joined, left or were renamed: every load-time rule again. */
static void apply(struct acl *a)
{
	uint32_t i;

	for (i = 0; i < a->host->max_ports; i++)
		if (a->names[i][0] && !a->manual[i])
			atomic_store_explicit(&a->rule[i], rule_of(a, i), memory_order_relaxed);
}

static int parse(struct acl *a, const char *args)
{
	char buf[512], *save = NULL, *w, *eq;

	if (strlen(args) >= sizeof(buf)) {
		a->host->error(a->host, "arguments too long");
		return EINVAL;
	}
	strcpy(buf, args);
	for (w = strtok_r(buf, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
		struct named *n = &a->named[a->nnamed];

		if (strcmp(w, "default=pass") == 0 || strcmp(w, "default=drop") == 0) {
			a->dflt = w[8] == 'p' ? PASS : NM_BDG_NOPORT;
			continue;
		}
		if (a->nnamed == MAX_NAMED) {
			a->host->error(a->host, "more than %d rules", MAX_NAMED);
			return EINVAL;
		}
		memset(n, 0, sizeof(*n));
		if ((eq = strchr(w, '>'))) {
			*eq = '\0';
			snprintf(n->dst, sizeof(n->dst), "%s", eq + 1);
			snprintf(n->src, sizeof(n->src), "%s", w);
		} else if ((eq = strchr(w, '=')) && eq - w <= 5) {
			*eq = '\0';
			n->rule = strcmp(w, "pass") == 0 ? PASS : strcmp(w, "drop") == 0 ?
				  NM_BDG_NOPORT : strcmp(w, "flood") == 0 ? NM_BDG_BROADCAST : 0;
			if (n->rule == 0) {
				a->host->error(a->host, "'%s': pass, drop or flood", w);
				return EINVAL;
			}
			snprintf(n->src, sizeof(n->src), "%s", eq + 1);
		}
		if (!n->src[0] || (eq && *w == '\0')) {
			a->host->error(a->host, "'%s': not a rule (pass=PORT, drop=PORT, "
				       "flood=PORT, PORT>PORT, default=pass|drop)", w);
			return EINVAL;
		}
		a->nnamed++;
	}
	return 0;
}

static void acl_fini(void *priv)
{
	struct acl *a = priv;

	free(a->rule);
	free(a->names);
	free(a->manual);
	free(a);
}

static int acl_init(const struct unm_vale_host *host, const char *args, void **priv)
{
	struct acl *a = calloc(1, sizeof(*a));
	uint32_t i;
	int err;

	if (!a)
		return ENOMEM;
	a->host = host;
	a->dflt = PASS;
	a->rule = calloc(host->max_ports, sizeof(*a->rule));
	a->names = calloc(host->max_ports, sizeof(*a->names));
	a->manual = calloc(host->max_ports, 1);
	if (!a->rule || !a->names || !a->manual) {
		acl_fini(a);
		return ENOMEM;
	}
	err = parse(a, args);
	if (err) {
		acl_fini(a);
		return err;
	}
	for (i = 0; i < host->max_ports; i++)
		atomic_init(&a->rule[i], a->dflt);
	*priv = a;
	return 0;
}

static uint32_t learn(struct acl *a, const struct unm_vale_frame *f)
{
	uint8_t h[12];			/* the sender may rewrite it: read once */
	uint64_t src, dst, v;

	memcpy(h, f->data, sizeof(h));
	src = mac48(h + 6) << 16 | (f->src_port + 1);
	if (!(h[6] & 1) && atomic_load_explicit(&a->mac[hash(src >> 16)], memory_order_relaxed) != src)
		atomic_store_explicit(&a->mac[hash(src >> 16)], src, memory_order_relaxed);
	if (h[0] & 1)
		return NM_BDG_BROADCAST;
	dst = mac48(h);
	v = atomic_load_explicit(&a->mac[hash(dst)], memory_order_relaxed);
	if (v >> 16 != dst || !(v & 0xffff))
		return NM_BDG_BROADCAST;
	return (v & 0xffff) - 1 == f->src_port ? NM_BDG_NOPORT : (uint32_t)(v & 0xffff) - 1;
}

static uint32_t acl_lookup(const struct unm_vale_frame *f, uint8_t *dst_ring, void *priv)
{
	struct acl *a = priv;
	uint32_t r = atomic_load_explicit(&a->rule[f->src_port], memory_order_relaxed);

	(void)dst_ring;
	return r == PASS ? learn(a, f) : r;
}

static int acl_config(void *priv, struct nm_ifreq *req)
{
	struct acl *a = priv;
	struct mmreq m;

	memcpy(&m, req, sizeof(m));
	if (m.mr_sport >= a->host->max_ports || m.mr_sport == NM_BDG_BROADCAST ||
	    m.mr_sport == NM_BDG_NOPORT) {
		a->host->error(a->host, "mr_sport %u is not a port index", m.mr_sport);
		return EINVAL;
	}
	if (m.mr_cmd == 1) {
		a->manual[m.mr_sport] = 0;
		atomic_store_explicit(&a->rule[m.mr_sport],
				      a->names[m.mr_sport][0] ? rule_of(a, m.mr_sport) : a->dflt,
				      memory_order_relaxed);
		return 0;
	}
	if (m.mr_dport >= a->host->max_ports) {
		a->host->error(a->host, "mr_dport %u is not a port index", m.mr_dport);
		return EINVAL;
	}
	a->manual[m.mr_sport] = 1;
	atomic_store_explicit(&a->rule[m.mr_sport], m.mr_dport, memory_order_relaxed);
	return 0;
}

static void acl_attach(void *priv, uint32_t port, const char *name)
{
	struct acl *a = priv;

	snprintf(a->names[port], sizeof(a->names[port]), "%s", name);
	apply(a);
}

static void acl_detach(void *priv, uint32_t port, const char *name)
{
	struct acl *a = priv;
	uint32_t i;

	(void)name;
	a->names[port][0] = '\0';
	a->manual[port] = 0;
	atomic_store_explicit(&a->rule[port], a->dflt, memory_order_relaxed);
	for (i = 0; i < (1u << BITS); i++) {	/* forget what the port taught */
		uint64_t v = atomic_load_explicit(&a->mac[i], memory_order_relaxed);

		if ((v & 0xffff) == port + 1)
			atomic_compare_exchange_strong(&a->mac[i], &v, 0);
	}
	apply(a);
}

UNM_VALE_MODULE_EXPORT const struct unm_vale_module unm_vale_module = {
	UNM_VALE_MODULE_HEADER,
	.name = "portacl",
	.init = acl_init,
	.fini = acl_fini,
	.lookup = acl_lookup,
	.config = acl_config,
	.port_attach = acl_attach,
	.port_detach = acl_detach,
};

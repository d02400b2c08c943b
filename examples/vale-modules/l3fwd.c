/*
 * l3fwd.c - a VALE module that forwards IPv4 frames by destination
 * prefix (longest match), the netmap tutorial's exercise.
 *
 * Rules, given at load time and changed at run time with NIOCCONFIG (the
 * text in nm_ifreq.data, e.g. vale-ctl --config vale0 route ...):
 *	route A.B.C.D/N TARGET	frames to A.B.C.D/N go to TARGET
 *	unroute A.B.C.D/N	forget that route
 *	flush			forget every route
 *	default TARGET		IPv4 frames no route matches (default: drop)
 *	nonip TARGET		frames that are not IPv4, such as ARP
 *				(default: broadcast)
 * TARGET is a port's name ("p1" or "vale0:p1"), drop, or broadcast.  A
 * route to a port that is not in the switch drops until the port joins.
 * One 802.1Q tag is looked through.  A frame routed back to its own
 * port is dropped, as a router would.  A command that does not parse
 * changes nothing (EINVAL, and the reason says which word).
 *
 * Design: the lookup reads one immutable table (routes longest prefix
 * first, targets resolved to port indices), published with an atomic
 * store.  Every change -- a command, a port joining or leaving -- builds
 * a new table on netmapd's main thread, publishes it, waits for the
 * lookups still reading the old one (host->synchronize), and frees it.
 * The lookup takes whole batches (lookup_batch).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unetmap/vale_module.h>

#define MAX_ROUTES 256
#define NAMSIZ 16
#define BY_NAME (NM_BDG_NOPORT + 1)	/* a target port known by its name */
#define FAIL(s, e, ...) do { (s)->host->error((s)->host, __VA_ARGS__); return (e); } while (0)

struct target {
	uint32_t verdict;		/* NM_BDG_NOPORT, NM_BDG_BROADCAST or BY_NAME */
	char port[NAMSIZ * 2];
};

struct route {
	uint32_t net, mask;
	uint8_t len;
	struct target to;
};

/* what the lookup reads */
struct table {
	uint32_t n, dflt, nonip;
	struct {
		uint32_t net, mask, port;
	} r[];
};

struct l3 {
	const struct unm_vale_host *host;
	struct table *_Atomic tab;
	/* main thread only */
	struct route r[MAX_ROUTES];
	unsigned nr;
	struct target dflt, nonip;
	char (*names)[NAMSIZ * 2];	/* the switch's ports, by index */
};

static uint32_t resolve(const struct l3 *s, const struct target *t)
{
	uint32_t i;

	if (t->verdict != BY_NAME)
		return t->verdict;
	for (i = 0; i < s->host->max_ports; i++) {
		const char *n = s->names[i], *c = strchr(n, ':');

		if (n[0] && (strcmp(n, t->port) == 0 || (c && strcmp(c + 1, t->port) == 0)))
			return i;
	}
	return NM_BDG_NOPORT;
}

/* Build and publish a table from the rules; 0 or ENOMEM (then the old
 * table stays). */
static int publish(struct l3 *s)
{
	struct table *t = malloc(sizeof(*t) + s->nr * sizeof(t->r[0])), *old;
	unsigned i;

	if (!t)
		return ENOMEM;
	t->n = s->nr;
	t->dflt = resolve(s, &s->dflt);
	t->nonip = resolve(s, &s->nonip);
	for (i = 0; i < s->nr; i++) {
		t->r[i].net = s->r[i].net;
		t->r[i].mask = s->r[i].mask;
		t->r[i].port = resolve(s, &s->r[i].to);
	}
	old = atomic_exchange_explicit(&s->tab, t, memory_order_acq_rel);
	if (old) {
		s->host->synchronize(s->host);	/* no lookup reads old any more */
		free(old);
	}
	return 0;
}

static int parse_target(const char *w, struct target *t)
{
	memset(t, 0, sizeof(*t));
	if (strcmp(w, "drop") == 0)
		t->verdict = NM_BDG_NOPORT;
	else if (strcmp(w, "broadcast") == 0)
		t->verdict = NM_BDG_BROADCAST;
	else if (strlen(w) >= NAMSIZ * 2)
		return -1;
	else
		t->verdict = BY_NAME;
	snprintf(t->port, sizeof(t->port), "%s", w);
	return 0;
}

static int parse_prefix(const char *w, uint32_t *net, uint32_t *mask, uint8_t *len)
{
	unsigned a, b, c, d, l;
	char end;

	if (sscanf(w, "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &l, &end) != 5 || a > 255 ||
	    b > 255 || c > 255 || d > 255 || l > 32)
		return -1;
	*mask = l ? 0xffffffffu << (32 - l) : 0;
	*net = (a << 24 | b << 16 | c << 8 | d) & *mask;
	*len = (uint8_t)l;
	return 0;
}

/* Apply a command line to a copy of the rules; commit only if all of it
 * parses. */
static int command(struct l3 *s, const char *text)
{
	struct route r[MAX_ROUTES];
	struct target dflt = s->dflt, nonip = s->nonip;
	unsigned nr = s->nr, i;
	char buf[512], *save = NULL, *w;

	if (strlen(text) >= sizeof(buf))
		FAIL(s, EINVAL, "command too long");
	strcpy(buf, text);
	memcpy(r, s->r, sizeof(r));
	for (w = strtok_r(buf, " \t\n,;", &save); w; w = strtok_r(NULL, " \t\n,;", &save)) {
		char *a = NULL, *b = NULL;
		struct route x;

		if (strcmp(w, "flush") == 0) {
			nr = 0;
			continue;
		}
		if (strcmp(w, "route") == 0 || strcmp(w, "unroute") == 0 ||
		    strcmp(w, "default") == 0 || strcmp(w, "nonip") == 0)
			a = strtok_r(NULL, " \t\n,;", &save);
		if (a && strcmp(w, "route") == 0)
			b = strtok_r(NULL, " \t\n,;", &save);
		if (!a || (strcmp(w, "route") == 0 && !b))
			FAIL(s, EINVAL, "'%s': unknown or incomplete command", w);
		if (strcmp(w, "default") == 0 || strcmp(w, "nonip") == 0) {
			if (parse_target(a, strcmp(w, "default") == 0 ? &dflt : &nonip) < 0)
				FAIL(s, EINVAL, "'%s': bad target", a);
			continue;
		}
		if (parse_prefix(a, &x.net, &x.mask, &x.len) < 0)
			FAIL(s, EINVAL, "'%s': not A.B.C.D/N", a);
		for (i = 0; i < nr && (r[i].net != x.net || r[i].len != x.len); i++)
			;
		if (strcmp(w, "unroute") == 0) {
			if (i < nr) {
				memmove(&r[i], &r[i + 1], (nr - i - 1) * sizeof(r[0]));
				nr--;
			}
			continue;
		}
		if (parse_target(b, &x.to) < 0)
			FAIL(s, EINVAL, "'%s': bad target", b);
		if (i == nr) {
			if (nr == MAX_ROUTES)
				FAIL(s, ENOSPC, "more than %d routes", MAX_ROUTES);
			/* longest prefixes first: the first match is the longest */
			for (i = 0; i < nr && r[i].len >= x.len; i++)
				;
			memmove(&r[i + 1], &r[i], (nr - i) * sizeof(r[0]));
			nr++;
		}
		r[i] = x;
	}
	memcpy(s->r, r, sizeof(r));
	s->nr = nr;
	s->dflt = dflt;
	s->nonip = nonip;
	return publish(s);
}

static int l3_init(const struct unm_vale_host *host, const char *args, void **priv)
{
	struct l3 *s = calloc(1, sizeof(*s));
	int err;

	if (!s || !(s->names = calloc(host->max_ports, sizeof(*s->names)))) {
		free(s);
		return ENOMEM;
	}
	s->host = host;
	s->dflt.verdict = NM_BDG_NOPORT;
	s->nonip.verdict = NM_BDG_BROADCAST;
	err = command(s, args);
	if (err) {
		free(atomic_load(&s->tab));
		free(s->names);
		free(s);
		return err;
	}
	*priv = s;
	return 0;
}

static void l3_fini(void *priv)
{
	struct l3 *s = priv;

	free(atomic_load(&s->tab));
	free(s->names);
	free(s);
}

static uint32_t verdict(const struct table *t, const struct unm_vale_frame *f)
{
	const uint8_t *p = f->data;
	uint32_t l2 = 14, type = (uint32_t)p[12] << 8 | p[13], dst, i;
	uint8_t ip[20];

	if (type == 0x8100 && f->len >= 18) {
		type = (uint32_t)p[16] << 8 | p[17];
		l2 = 18;
	}
	if (type != 0x0800 || f->len < l2 + 20)
		return t->nonip;
	memcpy(ip, p + l2, sizeof(ip));		/* the sender may rewrite it: read once */
	if (ip[0] >> 4 != 4)
		return t->nonip;
	dst = (uint32_t)ip[16] << 24 | (uint32_t)ip[17] << 16 | (uint32_t)ip[18] << 8 | ip[19];
	for (i = 0; i < t->n; i++)
		if ((dst & t->r[i].mask) == t->r[i].net)
			return t->r[i].port;
	return t->dflt;
}

static void l3_lookup_batch(struct unm_vale_frame *f, unsigned int n, void *priv)
{
	struct l3 *s = priv;
	/* A: pairs with the exchange in publish(): the table is complete */
	const struct table *t = atomic_load_explicit(&s->tab, memory_order_acquire);
	unsigned i;

	for (i = 0; i < n; i++) {
		uint32_t v = verdict(t, &f[i]);

		f[i].dst = v == f[i].src_port ? NM_BDG_NOPORT : v;
	}
}

static int l3_config(void *priv, struct nm_ifreq *req)
{
	char text[NM_IFRDATA_LEN + 1];

	memcpy(text, req->data, NM_IFRDATA_LEN);
	text[NM_IFRDATA_LEN] = '\0';
	return command(priv, text);
}

static void l3_attach(void *priv, uint32_t port, const char *name)
{
	struct l3 *s = priv;

	snprintf(s->names[port], sizeof(s->names[port]), "%s", name);
	if (publish(s))
		s->host->log(s->host, UNM_VALE_LOG_ERR, "out of memory: %s not routed", name);
}

static void l3_detach(void *priv, uint32_t port, const char *name)
{
	struct l3 *s = priv;

	(void)name;
	s->names[port][0] = '\0';
	if (publish(s))
		s->host->log(s->host, UNM_VALE_LOG_ERR, "out of memory: stale routes to %s", name);
}

UNM_VALE_MODULE_EXPORT const struct unm_vale_module unm_vale_module = {
	UNM_VALE_MODULE_HEADER,
	.name = "l3fwd",
	.init = l3_init,
	.fini = l3_fini,
	.lookup_batch = l3_lookup_batch,
	.config = l3_config,
	.port_attach = l3_attach,
	.port_detach = l3_detach,
};

/*
 * wild.c - a VALE module that returns whatever it is told to, for the
 * containment tests (41_vale_module_contain).  Not an example.
 *
 * Arguments and NIOCCONFIG text: words, each a verdict the lookup then
 * returns in turn, frame after frame (a number, decimal or 0x hex; "src"
 * for the frame's own source port; "bcast"; "drop"), plus "ring=N" (set
 * dst_ring to N for every frame) and, at load time only, "fail" (init
 * fails with EINVAL and says so).  NIOCCONFIG replaces the list.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unetmap/vale_module.h>

#define MAXV 32
#define SRC 0xfffffff0u

struct wild {
	const struct unm_vale_host *host;
	_Atomic uint32_t v[MAXV];
	_Atomic unsigned nv, pos;
	_Atomic int ring;		/* -1: leave dst_ring alone */
};

static int parse(struct wild *w, const char *text, int *fail)
{
	char buf[512], *save = NULL, *t;
	uint32_t v[MAXV];
	unsigned n = 0, i;
	int ring = -1;

	if (strlen(text) >= sizeof(buf))
		return EINVAL;
	strcpy(buf, text);
	for (t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		char *end;

		if (strcmp(t, "fail") == 0 && fail) {
			*fail = 1;
			continue;
		}
		if (strncmp(t, "ring=", 5) == 0) {
			ring = atoi(t + 5) & 0xff;
			continue;
		}
		if (n == MAXV) {
			w->host->error(w->host, "more than %d verdicts", MAXV);
			return EINVAL;
		}
		if (strcmp(t, "src") == 0)
			v[n++] = SRC;
		else if (strcmp(t, "bcast") == 0)
			v[n++] = NM_BDG_BROADCAST;
		else if (strcmp(t, "drop") == 0)
			v[n++] = NM_BDG_NOPORT;
		else if ((v[n++] = (uint32_t)strtoul(t, &end, 0)), *end) {
			w->host->error(w->host, "'%s': not a verdict", t);
			return EINVAL;
		}
	}
	if (n == 0) {
		w->host->error(w->host, "no verdict given");
		return EINVAL;
	}
	for (i = 0; i < n; i++)
		atomic_store(&w->v[i], v[i]);
	atomic_store(&w->nv, n);
	atomic_store(&w->pos, 0);
	atomic_store(&w->ring, ring);
	return 0;
}

static int wild_init(const struct unm_vale_host *host, const char *args, void **priv)
{
	struct wild *w = calloc(1, sizeof(*w));
	int fail = 0, err;

	if (!w)
		return ENOMEM;
	w->host = host;
	err = parse(w, args, &fail);
	if (!err && fail) {
		host->error(host, "asked to fail");
		err = EINVAL;
	}
	if (err) {
		free(w);
		return err;
	}
	*priv = w;
	return 0;
}

static uint32_t wild_lookup(const struct unm_vale_frame *f, uint8_t *dst_ring, void *priv)
{
	struct wild *w = priv;
	unsigned n = atomic_load(&w->nv), k = atomic_fetch_add(&w->pos, 1);
	uint32_t v = atomic_load(&w->v[k % (n ? n : 1)]);
	int ring = atomic_load(&w->ring);

	if (ring >= 0)
		*dst_ring = (uint8_t)ring;
	return v == SRC ? f->src_port : v;
}

static int wild_config(void *priv, struct nm_ifreq *req)
{
	char text[NM_IFRDATA_LEN + 1];

	memcpy(text, req->data, NM_IFRDATA_LEN);
	text[NM_IFRDATA_LEN] = '\0';
	return parse(priv, text, NULL);
}

UNM_VALE_MODULE_EXPORT const struct unm_vale_module unm_vale_module = {
	UNM_VALE_MODULE_HEADER,
	.name = "wild",
	.init = wild_init,
	.fini = free,
	.lookup = wild_lookup,
	.config = wild_config,
};

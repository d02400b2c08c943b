/* learn.c - netmap's default VALE lookup, a learning bridge, as a module. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unetmap/vale_module.h>

#define BITS 13					/* 8192 entries, as the built-in */
struct table { _Atomic uint64_t e[1u << BITS]; };	/* MAC << 16 | (port + 1) */

/* byte by byte: each byte load is served from the copy just stored */
static uint64_t mac(const uint8_t *p)
{
	return (uint64_t)p[0] << 40 | (uint64_t)p[1] << 32 | (uint64_t)p[2] << 24 |
	       (uint64_t)p[3] << 16 | (uint64_t)p[4] << 8 | p[5];
}
static uint32_t hash(uint64_t m) { return (uint32_t)((m * 0x9e3779b97f4a7c15ull) >> (64 - BITS)); }

static int init(const struct unm_vale_host *host, const char *args, void **priv)
{
	(void)host, (void)args;
	return (*priv = calloc(1, sizeof(struct table))) ? 0 : ENOMEM;
}

static uint32_t lookup(const struct unm_vale_frame *f, uint8_t *dst_ring, void *priv)
{
	_Atomic uint64_t *e = ((struct table *)priv)->e;
	uint8_t h[12];				/* the sender may rewrite it: read once */
	uint64_t src, dst, v;

	(void)dst_ring;
	memcpy(h, f->data, sizeof(h));
	src = mac(h + 6) << 16 | (f->src_port + 1);
	if (!(h[6] & 1) && atomic_load_explicit(&e[hash(src >> 16)], memory_order_relaxed) != src)
		atomic_store_explicit(&e[hash(src >> 16)], src, memory_order_relaxed);	/* learn */
	if (h[0] & 1)
		return NM_BDG_BROADCAST;	/* broadcast, multicast */
	dst = mac(h);
	v = atomic_load_explicit(&e[hash(dst)], memory_order_relaxed);
	if (v >> 16 != dst || !(v & 0xffff))
		return NM_BDG_BROADCAST;	/* unknown: flood */
	return (v & 0xffff) - 1 == f->src_port ? NM_BDG_NOPORT : (uint32_t)(v & 0xffff) - 1;
}

/* a whole batch per call: the per-frame function, inlined */
static void lookup_batch(struct unm_vale_frame *f, unsigned int n, void *priv)
{
	for (unsigned int i = 0; i < n; i++)
		f[i].dst = lookup(&f[i], &f[i].dst_ring, priv);
}

static void detach(void *priv, uint32_t port, const char *name)
{
	_Atomic uint64_t *e = ((struct table *)priv)->e;

	(void)name;
	for (uint32_t i = 0; i < (1u << BITS); i++) {	/* forget what the port taught */
		uint64_t v = atomic_load_explicit(&e[i], memory_order_relaxed);

		if ((v & 0xffff) == port + 1)
			atomic_compare_exchange_strong(&e[i], &v, 0);
	}
}

UNM_VALE_MODULE_EXPORT const struct unm_vale_module unm_vale_module = {
	UNM_VALE_MODULE_HEADER,
	.name = "learn",
	.init = init,
	.fini = free,
	.lookup = lookup,
	.lookup_batch = lookup_batch,
	.port_detach = detach,
};

/* learn.c - netmap's default VALE lookup, a learning bridge, as a module. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unetmap/vale_module.h>

#define BITS 13					/* 8192 entries, as the built-in */
struct table { _Atomic uint64_t e[1u << BITS]; };	/* MAC << 16 | (port + 1) */

/* the address as a number, in memory order: compilers make it two loads */
static uint64_t mac(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40;
}
static uint32_t hash(uint64_t m) { return (uint32_t)((m * 0x9e3779b97f4a7c15ull) >> (64 - BITS)); }

static int init(const struct unm_vale_host *host, const char *args, void **priv)
{
	(void)host, (void)args;
	return (*priv = calloc(1, sizeof(struct table))) ? 0 : ENOMEM;
}

/* A batch of frames from one port: where each goes.  (A per-frame
 * .lookup would do too, at the cost of a call per frame.) */
static void lookup(struct unm_vale_frame *f, unsigned int n, void *priv)
{
	_Atomic uint64_t *e = ((struct table *)priv)->e;

	for (unsigned int i = 0; i < n; i++, f++) {
		uint8_t h[12];			/* the sender may rewrite it: read once */
		uint64_t src, dst, v;

		memcpy(h, f->data, sizeof(h));
		src = mac(h + 6) << 16 | (f->src_port + 1);
		if (!(h[6] & 1) && atomic_load_explicit(&e[hash(src >> 16)], memory_order_relaxed) != src)
			atomic_store_explicit(&e[hash(src >> 16)], src, memory_order_relaxed);	/* learn */
		dst = mac(h);
		v = atomic_load_explicit(&e[hash(dst)], memory_order_relaxed);
		if ((h[0] & 1) || v >> 16 != dst || !(v & 0xffff))
			f->dst = NM_BDG_BROADCAST;	/* multicast, or not learned: flood */
		else if ((v & 0xffff) - 1 == f->src_port)
			f->dst = NM_BDG_NOPORT;		/* back where it came from */
		else
			f->dst = (uint32_t)(v & 0xffff) - 1;
	}
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
	.lookup_batch = lookup,
	.port_detach = detach,
};

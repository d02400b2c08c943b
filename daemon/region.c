/*
 * region.c - memory regions: memfd-backed, sealed against resizing, laid
 * out as netmap's allocators are (if-pool | ring-pool | buf-pool), with
 * netmapd the only allocator.
 *
 * Regions are sized generously but sparsely: the memfd is only truncated
 * to its size, and pages are allocated when first touched, so an unused
 * pipe slot or buffer costs address space, not memory.  A region cannot
 * grow once mapped (clients hold pointers into it), hence the headroom.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "nmd.h"

static struct nmd_region *regions;
static uint16_t last_mem_id = 1;
static uint64_t wire_id_base, wire_id_next;

#define BITS 64u

static bool bit_get(const uint64_t *m, uint32_t i)
{
	return (m[i / BITS] >> (i % BITS)) & 1u;
}

static void bit_set(uint64_t *m, uint32_t i, bool v)
{
	if (v)
		m[i / BITS] |= (uint64_t)1 << (i % BITS);
	else
		m[i / BITS] &= ~((uint64_t)1 << (i % BITS));
}

static int extents_init(struct nmd_extents *e, uint64_t bytes)
{
	e->units = (uint32_t)(bytes / UNM_POOL_UNIT);
	e->map = calloc((e->units + BITS - 1) / BITS, sizeof(uint64_t));
	return e->map ? 0 : -ENOMEM;
}

/* First fit: control-path only, so a linear scan is fine. */
static int64_t extents_alloc(struct nmd_extents *e, size_t bytes)
{
	uint32_t need = (uint32_t)((bytes + UNM_POOL_UNIT - 1) / UNM_POOL_UNIT);
	uint32_t run = 0, i;

	if (need == 0)
		need = 1;
	for (i = 0; i < e->units; i++) {
		if (bit_get(e->map, i)) {
			run = 0;
			continue;
		}
		if (++run == need) {
			uint32_t first = i + 1 - need, k;

			for (k = first; k <= i; k++)
				bit_set(e->map, k, true);
			return (int64_t)first * UNM_POOL_UNIT;
		}
	}
	return -1;
}

static void extents_free(struct nmd_extents *e, uint64_t ofs, size_t bytes)
{
	uint32_t first = (uint32_t)(ofs / UNM_POOL_UNIT);
	uint32_t n = (uint32_t)((bytes + UNM_POOL_UNIT - 1) / UNM_POOL_UNIT), k;

	for (k = first; k < first + (n ? n : 1) && k < e->units; k++)
		bit_set(e->map, k, false);
}

void nmd_region_default_params(struct nmd_region_params *p)
{
	/* Room for the port's own rings plus netmap's limit of 64 pipes of
	 * default geometry (1 ring, 1024 slots each way). */
	p->if_size = 1u << 20;
	p->ring_size = 16u << 20;
	p->buf_total = 64u * 2u * 1024u + 4096u;
	p->buf_size = 2048;
}

static uint16_t next_mem_id(void)
{
	uint16_t id = last_mem_id;
	int tries;

	for (tries = 0; tries < 65535; tries++) {
		id = (uint16_t)(id + 1);
		if (id == 0 || id == 1)
			continue;
		if (!nmd_region_find(id)) {
			last_mem_id = id;
			return id;
		}
	}
	return 0;
}

static struct nmd_region *region_create(uint16_t mem_id,
					const struct nmd_region_params *p, int *err)
{
	struct nmd_region *rg = calloc(1, sizeof(*rg));
	struct unm_region_hdr *h;
	uint64_t bufbytes;

	*err = -ENOMEM;
	if (!rg)
		return NULL;
	rg->mem_id = mem_id;
	rg->memfd = -1;
	rg->buf_size = p->buf_size;
	rg->buf_total = p->buf_total;
	rg->if_ofs = 0;
	rg->if_size = (p->if_size + 4095) & ~4095ull;
	rg->ring_ofs = rg->if_size;
	rg->ring_size = (p->ring_size + 4095) & ~4095ull;
	rg->buf_ofs = rg->ring_ofs + rg->ring_size;
	bufbytes = (uint64_t)rg->buf_total * rg->buf_size;
	rg->size = rg->buf_ofs + ((bufbytes + 4095) & ~4095ull);
	if (extents_init(&rg->ifs, rg->if_size) || extents_init(&rg->rings, rg->ring_size))
		goto fail;
	rg->buf_map = calloc((rg->buf_total + BITS - 1) / BITS, sizeof(uint64_t));
	if (!rg->buf_map)
		goto fail;
	/* buffers 0 and 1 are reserved, as in netmap */
	bit_set(rg->buf_map, 0, true);
	bit_set(rg->buf_map, 1, true);
	rg->buf_free = rg->buf_total - 2;
	rg->buf_hint = 2;

	rg->memfd = memfd_create("unetmap-region", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	/* a power of two with room past the end, so that any region can be
	 * passed through to a guest later (unm_layout.h) */
	if (rg->memfd < 0 || ftruncate(rg->memfd, (off_t)unm_region_file_size(rg->size)) < 0) {
		*err = -errno;
		goto fail;
	}
	/* A client holding the memfd must not be able to shrink it under
	 * everybody else's mappings (SIGBUS). */
	if (fcntl(rg->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		*err = -errno;
		goto fail;
	}
	rg->base = mmap(NULL, rg->size, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_NORESERVE, rg->memfd, 0);
	if (rg->base == MAP_FAILED) {
		rg->base = NULL;
		*err = -errno;
		goto fail;
	}
	/* the region header occupies the first units of the if-pool */
	extents_alloc(&rg->ifs, sizeof(*h));
	h = (struct unm_region_hdr *)rg->base;
	h->magic = UNM_REGION_MAGIC;
	h->version = UNM_REGION_VERSION;
	h->mem_id = mem_id;
	h->size = rg->size;
	h->if_pool_ofs = rg->if_ofs;
	h->if_pool_size = rg->if_size;
	h->ring_pool_ofs = rg->ring_ofs;
	h->ring_pool_size = rg->ring_size;
	h->buf_pool_ofs = rg->buf_ofs;
	h->buf_size = rg->buf_size;
	h->buf_total = rg->buf_total;

	rg->wire_id = wire_id_base + ++wire_id_next;
	rg->next = regions;
	regions = rg;
	*err = 0;
	nmd_debug("region %u created: %zu bytes, %u buffers of %u", mem_id,
		  rg->size, rg->buf_total, rg->buf_size);
	return rg;
fail:
	if (rg->memfd >= 0)
		close(rg->memfd);
	free(rg->ifs.map);
	free(rg->rings.map);
	free(rg->buf_map);
	free(rg);
	return NULL;
}

void nmd_regions_init(void)
{
	struct nmd_region_params p;
	struct nmd_region *g;
	int err;

	if (getrandom(&wire_id_base, sizeof(wire_id_base), 0) != sizeof(wire_id_base))
		wire_id_base = (uint64_t)getpid() << 32;
	wire_id_base &= ~0xffffffffull;
	/* Region 1 is netmap's global allocator: NICs and explicit @1 users.
	 * Sized like the kernel's (163840 buffers). */
	nmd_region_default_params(&p);
	p.buf_total = 163840;
	g = region_create(1, &p, &err);
	if (!g) {
		nmd_err("cannot create the global region: %s", strerror(-err));
		exit(1);
	}
	g->pinned = true;
	g->refs = 1;
}

struct nmd_region *nmd_region_new(const struct nmd_region_params *p, int *err)
{
	uint16_t id = next_mem_id();

	if (!id) {
		*err = -ENOMEM;
		return NULL;
	}
	return region_create(id, p, err);
}

int nmd_region_add_foreign(struct nmd_region *rg)
{
	uint16_t id = next_mem_id();

	if (!id)
		return -ENOMEM;
	rg->mem_id = id;
	rg->wire_id = wire_id_base + ++wire_id_next;
	rg->pinned = true;
	rg->refs = 1;
	rg->next = regions;
	regions = rg;
	return 0;
}

void nmd_region_forget(struct nmd_region *rg)
{
	struct nmd_region **pp;

	for (pp = &regions; *pp; pp = &(*pp)->next) {
		if (*pp == rg) {
			*pp = rg->next;
			return;
		}
	}
}

struct nmd_region *nmd_region_find(uint16_t mem_id)
{
	struct nmd_region *rg;

	for (rg = regions; rg; rg = rg->next)
		if (rg->mem_id == mem_id)
			return rg;
	return NULL;
}

void nmd_region_ref(struct nmd_region *rg)
{
	rg->refs++;
}

void nmd_region_unref(struct nmd_region *rg)
{
	struct nmd_region **pp;

	if (--rg->refs > 0 || rg->pinned)
		return;
	for (pp = &regions; *pp; pp = &(*pp)->next) {
		if (*pp == rg) {
			*pp = rg->next;
			break;
		}
	}
	nmd_debug("region %u destroyed", rg->mem_id);
	munmap(rg->base, rg->size);
	close(rg->memfd);
	free(rg->ifs.map);
	free(rg->rings.map);
	free(rg->buf_map);
	free(rg);
}

/* An object from one of the pools at region offset `base`; zeroed. */
static uint64_t pool_alloc(struct nmd_region *rg, struct nmd_extents *e, uint64_t base,
			   size_t size)
{
	int64_t o = extents_alloc(e, size);

	if (o < 0)
		return 0;
	memset(rg->base + base + o, 0, size);
	return base + (uint64_t)o;
}

uint64_t nmd_region_alloc_if(struct nmd_region *rg, size_t size)
{
	return pool_alloc(rg, &rg->ifs, rg->if_ofs, size);
}

void nmd_region_free_if(struct nmd_region *rg, uint64_t ofs, size_t size)
{
	extents_free(&rg->ifs, ofs - rg->if_ofs, size);
}

uint64_t nmd_region_alloc_ring(struct nmd_region *rg, size_t size)
{
	return pool_alloc(rg, &rg->rings, rg->ring_ofs, size);
}

void nmd_region_free_ring(struct nmd_region *rg, uint64_t ofs, size_t size)
{
	extents_free(&rg->rings, ofs - rg->ring_ofs, size);
}

/* Next free buffer at or after `from` (a word of the map at a time: a
 * full region must not cost a bit-by-bit scan per allocation), or n. */
static uint32_t next_free_buf(const struct nmd_region *rg, uint32_t from)
{
	uint32_t n = rg->buf_total, w = from / BITS;
	uint64_t m;

	if (from >= n)
		return n;
	m = ~rg->buf_map[w] & (~(uint64_t)0 << (from % BITS));
	for (;;) {
		if (m) {
			uint32_t k = w * BITS + (uint32_t)__builtin_ctzll(m);

			return k < n ? k : n;
		}
		if (++w >= (n + BITS - 1) / BITS)
			return n;
		m = ~rg->buf_map[w];
	}
}

uint32_t nmd_region_alloc_buf(struct nmd_region *rg)
{
	uint32_t n = rg->buf_total, k;

	if (rg->buf_free == 0)
		return 0;
	k = next_free_buf(rg, rg->buf_hint);
	if (k >= n)
		k = next_free_buf(rg, 2);
	if (k >= n)
		return 0;	/* cannot happen while buf_free counts right */
	bit_set(rg->buf_map, k, true);
	rg->buf_free--;
	rg->buf_hint = k + 1 < n ? k + 1 : 2;
	return k;
}

bool nmd_region_buf_valid(const struct nmd_region *rg, uint32_t idx)
{
	return idx >= 2 && idx < rg->buf_total;
}

/* Freeing an index that is invalid or already free is ignored: the index
 * came from shared memory, and a confused client must not be able to
 * corrupt the allocator. */
void nmd_region_free_buf(struct nmd_region *rg, uint32_t idx)
{
	if (!nmd_region_buf_valid(rg, idx) || !bit_get(rg->buf_map, idx))
		return;
	bit_set(rg->buf_map, idx, false);
	rg->buf_free++;
}

bool nmd_region_shareable(const struct nmd_region *rg, char *msg, size_t msglen)
{
	const char *holder = nmd_current_holder();

	/* the holder itself may put more ports in its own region */
	if (!rg->sealed_for[0] || (holder && strcmp(holder, rg->sealed_for) == 0))
		return true;
	snprintf(msg, msglen, "memory region %u is sealed for %s: no other port may use it",
		 rg->mem_id, rg->sealed_for);
	return false;
}

void nmd_region_seal(struct nmd_region *rg, const char *holder)
{
	snprintf(rg->sealed_for, sizeof(rg->sealed_for), "%s", holder);
	nmd_info("region %u sealed for %s", rg->mem_id, rg->sealed_for);
}

struct nmd_region *nmd_region_join(uint16_t mem_id, char *msg, size_t msglen, int *err)
{
	struct nmd_region *rg = nmd_region_find(mem_id);

	if (!rg) {
		snprintf(msg, msglen, "no memory region %u", mem_id);
		*err = -EINVAL;
		return NULL;
	}
	if (!nmd_region_shareable(rg, msg, msglen)) {
		*err = -EPERM;
		return NULL;
	}
	return rg;
}

/*
 * Give back to the kernel the memory of free buffers in [lo, hi]: every
 * page that holds only free buffers is punched out of the memfd, so a
 * client that asked for many extra buffers and went away does not leave
 * them resident.  A page that still holds a buffer in use is kept.
 */
void nmd_region_trim(struct nmd_region *rg, uint32_t lo, uint32_t hi)
{
	const uint64_t pg = 4096;
	uint32_t k = lo < 2 ? 2 : lo;

	if (hi >= rg->buf_total)
		hi = rg->buf_total - 1;
	while (k <= hi) {
		uint32_t s = next_free_buf(rg, k), e;
		uint64_t from, to;

		if (s > hi)
			break;
		for (e = s; e <= hi && !bit_get(rg->buf_map, e); e++)
			;
		from = rg->buf_ofs + (uint64_t)s * rg->buf_size;
		to = rg->buf_ofs + (uint64_t)e * rg->buf_size;
		from = (from + pg - 1) & ~(pg - 1);
		to &= ~(pg - 1);
		if (to > from &&
		    fallocate(rg->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)from, (off_t)(to - from)) < 0)
			nmd_debug("region %u: cannot release pages: %s", rg->mem_id,
				  strerror(errno));
		k = e + 1;
	}
}

void nmd_region_populate(struct nmd_region *rg, uint32_t first, uint32_t count)
{
#ifdef MADV_POPULATE_WRITE
	uint64_t from, to;

	if (first >= rg->buf_total)
		return;
	if (count > rg->buf_total - first)
		count = rg->buf_total - first;
	from = (rg->buf_ofs + (uint64_t)first * rg->buf_size) & ~(uint64_t)4095;
	to = rg->buf_ofs + (uint64_t)(first + count) * rg->buf_size;
	/* a hint: where the kernel cannot, the writes fault the pages in */
	madvise(rg->base + from, to - from, MADV_POPULATE_WRITE);
#else
	(void)rg;
	(void)first;
	(void)count;
#endif
}

/*
 * vu_mem.h - a vhost-user guest memory table: the regions QEMU handed over
 * with SET_MEM_TABLE, mapped into netmapd, and the translation of guest
 * physical addresses (descriptors) and QEMU virtual addresses (ring
 * addresses, SET_VRING_ADDR) into our pointers.
 *
 * Internal to daemon/vm.  A table is immutable once built: a new
 * SET_MEM_TABLE builds a new table and the old one is unmapped only while
 * the data path is paused (see vhost_user.h), so the data path reads a
 * table without any synchronisation of its own.
 *
 * Every address and length passed to the translators comes from the guest
 * or from QEMU and is untrusted: a translation either yields memory that
 * lies wholly inside one mapped region, or fails.
 */
#ifndef NMD_VU_MEM_H
#define NMD_VU_MEM_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UNM_VU_MAX_REGIONS 8	/* QEMU's limit without CONFIGURE_MEM_SLOTS */

/* One region as QEMU describes it (wire layout, 32 bytes). */
struct nmd_vu_region_desc {
	uint64_t gpa;		/* guest physical address */
	uint64_t size;
	uint64_t uaddr;		/* QEMU's virtual address */
	uint64_t mmap_offset;	/* where the region starts in the fd */
};

struct nmd_vu_region {
	uint64_t gpa, size, uaddr;
	char *host;		/* our address of gpa */
	void *map;		/* what mmap() returned, for munmap() */
	size_t map_len;
};

struct nmd_vu_mem {
	uint32_t n;
	struct nmd_vu_region r[UNM_VU_MAX_REGIONS];
};

/* A piece of guest memory we may read or write: wholly inside a region. */
struct nmd_vu_seg {
	char *p;
	uint32_t len;
};

/*
 * nmd_vu_mem_map - validate regions and map their descriptors.
 * @d: n region descriptions (untrusted)
 * @fds: one descriptor per region; not closed here
 * @out: the new table (filled on success only)
 * @why: a static reason on failure, for the log
 * Returns 0, or -EINVAL (zero size, overflow, overlapping regions,
 * descriptor that is not a regular file or is shorter than the region),
 * -ENOMEM / -errno of mmap().  On failure nothing stays mapped.
 */
int nmd_vu_mem_map(const struct nmd_vu_region_desc *d, uint32_t n, const int *fds,
		   struct nmd_vu_mem *out, const char **why);
void nmd_vu_mem_unmap(struct nmd_vu_mem *m);

/* QEMU virtual address -> our pointer to len bytes, all in one region;
 * NULL if they are not. */
void *nmd_vu_mem_uva(const struct nmd_vu_mem *m, uint64_t uaddr, uint64_t len);
/* Guest physical address -> our pointer to len bytes in one region. */
void *nmd_vu_mem_gpa(const struct nmd_vu_mem *m, uint64_t gpa, uint64_t len);

/*
 * nmd_vu_mem_gpa_segs - guest range [gpa, gpa + len) as segments, split
 * where it crosses from one region into the next (guest-contiguous regions
 * need not be contiguous here).  Appends at most max - *n segments to seg.
 * Returns 0, -EFAULT (some byte lies in no region), -E2BIG (more segments
 * than room).
 */
static inline int nmd_vu_mem_gpa_segs(const struct nmd_vu_mem *m, uint64_t gpa, uint32_t len,
				      struct nmd_vu_seg *seg, unsigned *n, unsigned max)
{
	unsigned i, k = *n, guard = 0;

	while (len) {
		const struct nmd_vu_region *r = NULL;
		uint64_t off, room;
		uint32_t take;

		for (i = 0; i < m->n; i++) {
			/* off < size also rules out gpa < r->gpa (wraps) */
			if (gpa - m->r[i].gpa < m->r[i].size) {
				r = &m->r[i];
				break;
			}
		}
		/* each step consumes one region to its end or len to zero, so
		 * more steps than regions means something is wrong */
		if (!r || ++guard > UNM_VU_MAX_REGIONS)
			return -EFAULT;
		if (k >= max)
			return -E2BIG;
		off = gpa - r->gpa;
		room = r->size - off;
		take = room < len ? (uint32_t)room : len;
		seg[k].p = r->host + off;
		seg[k].len = take;
		k++;
		gpa += take;
		len -= take;
	}
	*n = k;
	return 0;
}

#endif /* NMD_VU_MEM_H */

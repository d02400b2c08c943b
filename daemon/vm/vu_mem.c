/*
 * vu_mem.c - mapping QEMU's guest memory regions (SET_MEM_TABLE).
 *
 * The region descriptions come from QEMU and are checked before anything
 * is mapped: a region must be non-empty, must not wrap any of its three
 * address spaces, must not overlap another region (translation would be
 * ambiguous), and its descriptor must be a regular file (memfd, hugetlbfs,
 * tmpfs) long enough to hold it, so that touching any byte of the mapping
 * cannot raise SIGBUS.  What remains outside our control: QEMU itself
 * (not the guest) could shrink the file later; see docs/vhost-user.md.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vu_mem.h"

#define HUGE_ALIGN_MAX (1ull << 30)	/* the largest page size we honour */

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* The alignment mmap() needs for this file: its page size.  hugetlbfs
 * reports the huge page size as st_blksize. */
static uint64_t map_align(const struct stat *st)
{
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE), b = (uint64_t)st->st_blksize;

	if (b > pg && b <= HUGE_ALIGN_MAX && (b & (b - 1)) == 0)
		return b;
	return pg;
}

void nmd_vu_mem_unmap(struct nmd_vu_mem *m)
{
	uint32_t i;

	for (i = 0; i < m->n; i++)
		munmap(m->r[i].map, m->r[i].map_len);
	m->n = 0;
}

int nmd_vu_mem_map(const struct nmd_vu_region_desc *d, uint32_t n, const int *fds,
		   struct nmd_vu_mem *out, const char **why)
{
	struct nmd_vu_mem m;
	uint32_t i, j;
	int err;

	memset(&m, 0, sizeof(m));
	if (n == 0 || n > UNM_VU_MAX_REGIONS) {
		*why = "region count out of range";
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		uint64_t gpa = d[i].gpa, size = d[i].size, uaddr = d[i].uaddr;
		uint64_t off = d[i].mmap_offset, align, start, lead, len;
		struct stat st;
		void *p;

		err = -EINVAL;
		if (size == 0) {
			*why = "empty region";
			goto fail;
		}
		if (gpa + size < gpa || uaddr + size < uaddr || off + size < off ||
		    size > SIZE_MAX / 2) {
			*why = "region wraps around";
			goto fail;
		}
		for (j = 0; j < i; j++) {
			if (ranges_overlap(gpa, size, m.r[j].gpa, m.r[j].size) ||
			    ranges_overlap(uaddr, size, m.r[j].uaddr, m.r[j].size)) {
				*why = "regions overlap";
				goto fail;
			}
		}
		if (fstat(fds[i], &st) < 0) {
			err = -errno;
			*why = "fstat of a region descriptor failed";
			goto fail;
		}
		if (!S_ISREG(st.st_mode)) {
			*why = "region descriptor is not a regular file";
			goto fail;
		}
		if (st.st_size < 0 || (uint64_t)st.st_size < off + size) {
			*why = "region extends past the end of its file";
			goto fail;
		}
		align = map_align(&st);
		start = off & ~(align - 1);
		lead = off - start;
		len = (lead + size + align - 1) & ~(align - 1);
		if (len < size) {
			*why = "region wraps around";
			goto fail;
		}
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], (off_t)start);
		if (p == MAP_FAILED) {
			err = -errno;
			*why = "mmap of a region failed";
			goto fail;
		}
		m.r[i].gpa = gpa;
		m.r[i].size = size;
		m.r[i].uaddr = uaddr;
		m.r[i].map = p;
		m.r[i].map_len = len;
		m.r[i].host = (char *)p + lead;
		m.n = i + 1;
	}
	*out = m;
	return 0;
fail:
	nmd_vu_mem_unmap(&m);
	return err;
}

void *nmd_vu_mem_uva(const struct nmd_vu_mem *m, uint64_t uaddr, uint64_t len)
{
	uint32_t i;

	for (i = 0; i < m->n; i++) {
		const struct nmd_vu_region *r = &m->r[i];
		uint64_t off = uaddr - r->uaddr;

		if (off < r->size && len <= r->size - off)
			return r->host + off;
	}
	return NULL;
}

void *nmd_vu_mem_gpa(const struct nmd_vu_mem *m, uint64_t gpa, uint64_t len)
{
	uint32_t i;

	for (i = 0; i < m->n; i++) {
		const struct nmd_vu_region *r = &m->r[i];
		uint64_t off = gpa - r->gpa;

		if (off < r->size && len <= r->size - off)
			return r->host + off;
	}
	return NULL;
}

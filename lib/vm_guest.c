/*
 * vm_guest.c - a passthrough port seen from inside a QEMU guest
 * (common/unm_vm.h, docs/passthrough.md).
 *
 * The guest's netmapd offers the ports its host exported; a REGISTER of
 * one answers with the usual bind info plus struct unm_bind_vm.  The
 * region is the ivshmem device's BAR2, which we map through the device
 * descriptor netmapd passed (vfio-pci's, or the sysfs resource file when
 * it polls) at an offset; the rings are the host's own, driven by the
 * ordinary sync code (a pipe end against its host peer's rings, a VALE
 * port by the host's switch).  What differs is the kick: the other side
 * sleeps on a host eventfd, which QEMU writes when we write the device's
 * doorbell register with the value netmapd gave for the ring.  Wake-ups
 * need nothing here: the wake descriptors are the device's MSI-X
 * eventfds (or a timer when the guest polls), and our epoll set takes
 * them like any eventfd.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

int unm_vm_parse(const struct unm_bind_info *bi, size_t len, unsigned nfds,
		 const struct unm_bind_vm **out)
{
	size_t at = sizeof(*bi) + (size_t)bi->nrings * sizeof(bi->ring[0]);
	const struct unm_bind_vm *vm;

	/* the rings' count was checked against len by the caller */
	if (len < at + sizeof(*vm) || len - at - sizeof(*vm) < (size_t)bi->nrings * sizeof(uint32_t))
		return -EPROTO;
	vm = (const struct unm_bind_vm *)((const char *)bi + at);
	if (vm->bell_fd < 1 || (unsigned)vm->bell_fd >= nfds || (vm->map_ofs & 4095))
		return -EPROTO;
	if (bi->kind != UNM_KIND_PIPE && bi->kind != UNM_KIND_HW)
		return -EPROTO;
	*out = vm;
	return 0;
}

/* Map the page of the doorbell register; where the device does not let
 * us, kicks go through pwrite() on its descriptor (a trap to QEMU
 * either way). */
int unm_vm_bind(struct unm_port *p, const struct unm_bind_vm *vm, const int *fds)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t base = vm->bell_ofs & ~(uint64_t)(page - 1);
	void *m;

	p->bell_fd = fds[vm->bell_fd];
	p->bell_ofs = vm->bell_ofs;
	m = unm_libc.mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, p->bell_fd, (off_t)base);
	if (m != MAP_FAILED) {
		p->bell_map = m;
		p->bell_maplen = page;
		p->bell_reg = (volatile uint32_t *)((char *)m + (vm->bell_ofs - base));
	}
	return 0;
}

void unm_vm_unbind(struct unm_port *p)
{
	if (p->bell_map)
		munmap(p->bell_map, p->bell_maplen);
	p->bell_map = NULL;
	p->bell_reg = NULL;
	p->bell_fd = -1;
}

void unm_vm_kick(const struct unm_ring *r)
{
	const struct unm_port *p = r->port;
	uint32_t v = r->bell_val;

	/* a 32-bit store to the register: QEMU turns it into the write of
	 * the host eventfd named by the value's vector */
	if (p->bell_reg)
		*p->bell_reg = v;
	else if (pwrite(p->bell_fd, &v, sizeof(v), (off_t)p->bell_ofs) < 0) {
		/* nothing to do: the host re-checks its rings on its next wake */
	}
}

/*
 * ivshmem_guest.h - the guest side of QEMU's ivshmem device, from user
 * space and without a driver of our own: find the device, map its shared
 * memory (BAR2) and registers (BAR0), ring peers' doorbells, and sleep
 * until a peer raises one of our MSI-X vectors.
 *
 * Interrupts reach user space through vfio-pci: the device is bound to
 * vfio-pci (driver_override), its IOMMU group attached to a type-1
 * container, one eventfd per MSI-X vector registered with
 * VFIO_DEVICE_SET_IRQS, and bus mastering enabled (MSI-X messages are
 * memory writes by the device).  That needs an IOMMU with interrupt
 * remapping in the guest: QEMU `-machine q35 -device intel-iommu` (its
 * intremap is on by default under TCG; with KVM, QEMU wants
 * kernel-irqchip=split for it) and the guest kernel's `intel_iommu=on`, plus the
 * vfio, vfio_pci and vfio_iommu_type1 modules.  The BARs are mapped
 * through the vfio device descriptor: while vfio-pci has them mapped they
 * are claimed, and a kernel with CONFIG_IO_STRICT_DEVMEM (Debian's)
 * refuses to map their sysfs resource files (EINVAL).  Only one process
 * at a time can hold the device through vfio (its IOMMU group is
 * exclusive).
 *
 * Without vfio (no IOMMU group, modules missing, or the caller asked
 * for NMD_IVSHMEM_GUEST_POLL), the BARs are mapped through sysfs
 * (`resource0`, `resource2`), and there are no interrupts: the device
 * only signals through MSI-X, which stays disabled, so waits become
 * timed sleeps and the caller polls the shared memory.  A notice in the
 * log says so and why.
 *
 * Registers (BAR0): 0 interrupt mask, 4 interrupt status (both unused
 * with MSI-X), 8 IVPosition (our peer id), 12 doorbell
 * ((peer << 16) | vector).
 *
 * The device is used from one thread at a time, except that waits on
 * different vectors, doorbells and memory accesses may run concurrently.
 * Root is needed (sysfs, vfio).
 */
#ifndef NMD_IVSHMEM_GUEST_H
#define NMD_IVSHMEM_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NMD_IVSHMEM_VENDOR	0x1af4
#define NMD_IVSHMEM_DEVICE	0x1110
#define NMD_IVSHMEM_BDF_LEN	16	/* "0000:00:03.0" + NUL, with room */
#define NMD_IVSHMEM_GUEST_MAX_VECTORS 64

/* nmd_ivshmem_guest_open() flags */
#define NMD_IVSHMEM_GUEST_POLL	0x1	/* do not try vfio: sysfs, polling */
#define NMD_IVSHMEM_GUEST_IRQ	0x2	/* interrupts or nothing: fail
					 * instead of falling back to polling */

struct nmd_ivshmem_guest;

/**
 * nmd_ivshmem_guest_list - find the ivshmem devices (1af4:1110) in sysfs.
 * @bdf: filled with up to @max PCI addresses ("0000:00:03.0"), sorted
 * @max: room in @bdf
 *
 * Returns the number of devices found (which may exceed @max), or -errno
 * if /sys/bus/pci/devices cannot be read.
 */
int nmd_ivshmem_guest_list(char (*bdf)[NMD_IVSHMEM_BDF_LEN], unsigned max);

/**
 * nmd_ivshmem_guest_open - take an ivshmem device.
 * @bdf:   its PCI address, or NULL for the one with the lowest address
 * @flags: NMD_IVSHMEM_GUEST_*
 * @out:   the device
 *
 * Maps BAR2 and BAR0, reads the peer id, and sets up interrupts through
 * vfio-pci (binding the device to it), falling back to polling unless
 * NMD_IVSHMEM_GUEST_IRQ is set.  Returns 0, or -errno: -ENODEV (no such
 * ivshmem device), -ENXIO (device without shared memory yet), -EPERM (the
 * IOMMU lacks interrupt remapping: add intremap=on to QEMU's intel-iommu,
 * or load vfio_iommu_type1 with allow_unsafe_interrupts=1), -EOPNOTSUPP
 * (NMD_IVSHMEM_GUEST_IRQ without a usable vfio), or what the system calls
 * returned.  Logs the reason of a failure or fallback.
 */
int nmd_ivshmem_guest_open(const char *bdf, unsigned flags, struct nmd_ivshmem_guest **out);

/** nmd_ivshmem_guest_close - unmap, disable interrupts, close.  NULL is accepted. */
void nmd_ivshmem_guest_close(struct nmd_ivshmem_guest *g);

/** The shared memory (BAR2) and its size. */
void *nmd_ivshmem_guest_shm(const struct nmd_ivshmem_guest *g, size_t *size);

/** IVPosition: our peer id (0 with ivshmem-plain, which has no doorbell). */
uint16_t nmd_ivshmem_guest_id(const struct nmd_ivshmem_guest *g);

/** true if waits sleep until a vector fires; false when polling. */
bool nmd_ivshmem_guest_has_irq(const struct nmd_ivshmem_guest *g);

/** MSI-X vectors with an eventfd (0 when polling). */
unsigned nmd_ivshmem_guest_vectors(const struct nmd_ivshmem_guest *g);

/** PCI address of the device. */
const char *nmd_ivshmem_guest_bdf(const struct nmd_ivshmem_guest *g);

/**
 * nmd_ivshmem_guest_fds - descriptors through which another process maps
 * the device too (pass them with SCM_RIGHTS; the receiver's mmap works):
 * the shared memory starts at @shm_ofs of @shm_fd, the registers (BAR0)
 * at @regs_ofs of @regs_fd (the doorbell is 12 bytes further).  With vfio
 * both are the device descriptor; when polling, the sysfs resource files.
 * They stay the device's: do not close them.
 */
void nmd_ivshmem_guest_fds(const struct nmd_ivshmem_guest *g, int *shm_fd, uint64_t *shm_ofs,
			   int *regs_fd, uint64_t *regs_ofs);

/**
 * nmd_ivshmem_guest_peek - copy the last @len bytes of the shared memory
 * of device @bdf into @buf without taking the device (through sysfs
 * resource2), to see whether it is meant for the caller before binding
 * it to vfio-pci.  @bar_size: out, the memory's size.
 *
 * Works while no driver claims the BAR (no process holds the device
 * through vfio).  Returns 0, or -errno: -ENODEV (not an ivshmem device),
 * -ENXIO (no memory yet), -ERANGE (smaller than @len), -EINVAL (claimed),
 * or what open() and mmap() returned.
 */
int nmd_ivshmem_guest_peek(const char *bdf, void *buf, size_t len, uint64_t *bar_size);

/**
 * nmd_ivshmem_guest_ring - write the doorbell: interrupt vector @vector
 * of peer @peer (the host is peer 0 with netmapd's ivshmem server).
 * Returns 0 or -errno.  QEMU ignores rings of unknown peers or vectors.
 */
int nmd_ivshmem_guest_ring(struct nmd_ivshmem_guest *g, uint16_t peer, uint16_t vector);

/**
 * nmd_ivshmem_guest_irq_fd - the eventfd that becomes readable when
 * @vector fires, to put in the caller's own poll or epoll set (read it to
 * re-arm).  -1 when polling or @vector is out of range.
 */
int nmd_ivshmem_guest_irq_fd(const struct nmd_ivshmem_guest *g, unsigned vector);

/**
 * nmd_ivshmem_guest_wait - sleep until @vector fires or @timeout_ms
 * passes (-1: no limit).
 *
 * Returns 1 if the vector fired (the count is consumed), 0 on timeout,
 * -EINVAL for a vector out of range, -errno from poll().  When polling,
 * sleeps min(@timeout_ms, poll interval) and returns 0: the caller checks
 * the shared memory.
 */
int nmd_ivshmem_guest_wait(struct nmd_ivshmem_guest *g, unsigned vector, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* NMD_IVSHMEM_GUEST_H */

/*
 * ivshmem_guest.c - ivshmem from a guest's user space (see ivshmem_guest.h).
 *
 * Everything read from sysfs or the device is checked before use: sysfs
 * text is parsed with bounds, region sizes and offsets the kernel reports
 * are checked against what we map.  The shared memory itself is the
 * caller's business (the host writes it too).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../nmd.h"
#include "ivshmem_guest.h"

#define SYSPCI		"/sys/bus/pci"
#define REG_IVPOSITION	8
#define REG_DOORBELL	12
#define BAR0_MIN	16	/* the registers we use */
#define POLL_MS		1	/* polling mode: one wait step */

struct nmd_ivshmem_guest {
	char bdf[NMD_IVSHMEM_BDF_LEN];
	/* vfio; -1 when polling */
	int container, group, dev;
	/* BAR0: mapped (regs) or, if vfio does not let it be mapped, reached
	 * with pread/pwrite at regs_ofs of the device descriptor */
	volatile uint32_t *regs;
	void *regs_map;
	size_t regs_maplen;
	uint64_t regs_ofs;
	/* BAR2 */
	void *shm;
	size_t shm_size;
	/* for other processes: the memory at shm_ofs of shm_fd, the
	 * registers at regs_ofs of regs_fd (the vfio device, or the sysfs
	 * resource files, kept open for that) */
	int shm_fd, regs_fd;
	uint64_t shm_ofs;
	uint16_t id;
	unsigned nvec;
	int irq[NMD_IVSHMEM_GUEST_MAX_VECTORS];
};

/* ---- sysfs ---- */

static int read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int write_text(const char *path, const char *text)
{
	ssize_t n;
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	if (n < 0)
		return -errno;
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

static int read_hex(const char *bdf, const char *attr, unsigned long *val)
{
	char path[PATH_MAX], buf[32], *end;
	int err;

	snprintf(path, sizeof(path), SYSPCI "/devices/%s/%s", bdf, attr);
	err = read_text(path, buf, sizeof(buf));
	if (err)
		return err;
	errno = 0;
	*val = strtoul(buf, &end, 16);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

static bool is_ivshmem(const char *bdf)
{
	unsigned long v, d;

	return read_hex(bdf, "vendor", &v) == 0 && read_hex(bdf, "device", &d) == 0 &&
	       v == NMD_IVSHMEM_VENDOR && d == NMD_IVSHMEM_DEVICE;
}

static int cmp_bdf(const void *a, const void *b)
{
	return strcmp(a, b);
}

int nmd_ivshmem_guest_list(char (*bdf)[NMD_IVSHMEM_BDF_LEN], unsigned max)
{
	DIR *d = opendir(SYSPCI "/devices");
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= NMD_IVSHMEM_BDF_LEN ||
		    !is_ivshmem(e->d_name))
			continue;
		if (n < max)
			memcpy(bdf[n], e->d_name, strlen(e->d_name) + 1);
		if (n < INT_MAX)
			n++;
	}
	closedir(d);
	if (bdf && max)
		qsort(bdf, n < max ? n : max, sizeof(*bdf), cmp_bdf);
	return (int)n;
}

/* Start and length of BAR @bar, from the "resource" file (one
 * "start end flags" line per resource). */
static int bar_range(const char *bdf, unsigned bar, uint64_t *start, uint64_t *len)
{
	char path[PATH_MAX], buf[1024], *line, *save = NULL;
	unsigned long long s, e, f;
	unsigned i = 0;
	int err;

	snprintf(path, sizeof(path), SYSPCI "/devices/%s/resource", bdf);
	err = read_text(path, buf, sizeof(buf));
	if (err)
		return err;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
		if (i != bar)
			continue;
		if (sscanf(line, "%llx %llx %llx", &s, &e, &f) != 3)
			return -EINVAL;
		if (s == 0 || e < s)
			return -ENXIO;	/* not assigned */
		*start = s;
		*len = e - s + 1;
		return 0;
	}
	return -ENXIO;
}

/* Map BAR @bar through its sysfs resource file; *ptr points at the BAR
 * (the mapping starts at its page). */
static int sysfs_map(const char *bdf, unsigned bar, size_t need, void **map, size_t *maplen,
		     void **ptr, size_t *len, int *keep_fd)
{
	char path[PATH_MAX];
	uint64_t start, blen;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), in_page, ml;
	void *m;
	int fd, err;

	err = bar_range(bdf, bar, &start, &blen);
	if (err)
		return err;
	if (blen < need || blen > SIZE_MAX / 2)
		return -ENXIO;
	in_page = (size_t)(start & (page - 1));
	ml = (in_page + (size_t)blen + page - 1) & ~(page - 1);
	snprintf(path, sizeof(path), SYSPCI "/devices/%s/resource%u", bdf, bar);
	fd = open(path, O_RDWR | O_CLOEXEC | O_SYNC);
	if (fd < 0)
		return -errno;
	m = mmap(NULL, ml, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	err = m == MAP_FAILED ? -errno : 0;
	if (err || !keep_fd)
		close(fd);
	if (err)
		return err;
	if (keep_fd)
		*keep_fd = fd;
	*map = m;
	*maplen = ml;
	*ptr = (char *)m + in_page;
	*len = (size_t)blen;
	return 0;
}

/* ---- vfio ---- */

/* Make vfio-pci the driver of @bdf. */
static int bind_vfio(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *drv;
	ssize_t n;
	int err;

	snprintf(path, sizeof(path), SYSPCI "/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		drv = strrchr(link, '/');
		drv = drv ? drv + 1 : link;
		if (strcmp(drv, "vfio-pci") == 0)
			return 0;
		snprintf(path, sizeof(path), SYSPCI "/devices/%s/driver/unbind", bdf);
		err = write_text(path, bdf);
		if (err) {
			nmd_warn("ivshmem %s: cannot unbind it from %s: %s", bdf, drv,
				 strerror(-err));
			return err;
		}
	}
	snprintf(path, sizeof(path), SYSPCI "/devices/%s/driver_override", bdf);
	err = write_text(path, "vfio-pci");
	if (err)
		return err;
	err = write_text(SYSPCI "/drivers/vfio-pci/bind", bdf);
	if (err == -EBUSY || err == -EEXIST)
		err = 0;
	return err;
}

static int vfio_region(int dev, unsigned index, struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	return ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, ri) < 0 ? -errno : 0;
}

/* MSI-X messages are writes by the device: without bus mastering the
 * (virtual) device drops them. */
static int vfio_bus_master(int dev)
{
	struct vfio_region_info ri;
	uint16_t cmd;
	int err;

	err = vfio_region(dev, VFIO_PCI_CONFIG_REGION_INDEX, &ri);
	if (err)
		return err;
	if (pread(dev, &cmd, sizeof(cmd), (off_t)(ri.offset + PCI_COMMAND)) != sizeof(cmd))
		return -EIO;
	if (cmd & PCI_COMMAND_MASTER)
		return 0;
	cmd |= PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY;
	if (pwrite(dev, &cmd, sizeof(cmd), (off_t)(ri.offset + PCI_COMMAND)) != sizeof(cmd))
		return -EIO;
	return 0;
}

static int vfio_irqs(struct nmd_ivshmem_guest *g)
{
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = VFIO_PCI_MSIX_IRQ_INDEX };
	struct vfio_irq_set *set;
	unsigned i, n;
	int err;

	if (ioctl(g->dev, VFIO_DEVICE_GET_IRQ_INFO, &ii) < 0)
		return -errno;
	n = ii.count;
	if (n == 0 || !(ii.flags & VFIO_IRQ_INFO_EVENTFD)) {
		nmd_warn("ivshmem %s: no MSI-X vectors (ivshmem-plain, or doorbell without vectors)",
			 g->bdf);
		return -ENOTSUP;
	}
	if (n > NMD_IVSHMEM_GUEST_MAX_VECTORS)
		n = NMD_IVSHMEM_GUEST_MAX_VECTORS;
	set = calloc(1, sizeof(*set) + n * sizeof(int));
	if (!set)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		g->irq[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (g->irq[i] < 0) {
			err = -errno;
			goto out;
		}
	}
	set->argsz = (uint32_t)(sizeof(*set) + n * sizeof(int));
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = VFIO_PCI_MSIX_IRQ_INDEX;
	set->start = 0;
	set->count = n;
	memcpy(set->data, g->irq, n * sizeof(int));
	err = ioctl(g->dev, VFIO_DEVICE_SET_IRQS, set) < 0 ? -errno : 0;
	if (!err)
		err = vfio_bus_master(g->dev);
	if (!err)
		g->nvec = n;
out:
	free(set);
	if (err)
		for (i = 0; i < n; i++)
			if (g->irq[i] >= 0) {
				close(g->irq[i]);
				g->irq[i] = -1;
			}
	return err;
}

static int vfio_map(struct nmd_ivshmem_guest *g)
{
	struct vfio_region_info ri;
	void *m;
	int err;

	err = vfio_region(g->dev, VFIO_PCI_BAR2_REGION_INDEX, &ri);
	if (err)
		return err;
	if (ri.size == 0 || ri.size > SIZE_MAX / 2 || !(ri.flags & VFIO_REGION_INFO_FLAG_MMAP))
		return -ENXIO;
	m = mmap(NULL, (size_t)ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, g->dev,
		 (off_t)ri.offset);
	if (m == MAP_FAILED)
		return -errno;
	g->shm = m;
	g->shm_size = (size_t)ri.size;
	g->shm_ofs = ri.offset;

	err = vfio_region(g->dev, VFIO_PCI_BAR0_REGION_INDEX, &ri);
	if (err)
		return err;
	if (ri.size < BAR0_MIN || !(ri.flags & VFIO_REGION_INFO_FLAG_READ) ||
	    !(ri.flags & VFIO_REGION_INFO_FLAG_WRITE))
		return -ENXIO;
	g->regs_ofs = ri.offset;
	if (ri.flags & VFIO_REGION_INFO_FLAG_MMAP) {
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		size_t len = ((size_t)ri.size + page - 1) & ~(page - 1);

		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, g->dev, (off_t)ri.offset);
		if (m != MAP_FAILED) {
			g->regs_map = m;
			g->regs_maplen = len;
			g->regs = m;
		}
	}
	/* else (a BAR smaller than a page that vfio would not map) the
	 * registers go through pread/pwrite: a doorbell is a trap to QEMU
	 * anyway */
	return 0;
}

static int vfio_open(struct nmd_ivshmem_guest *g)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[PATH_MAX], link[PATH_MAX], grp[16];
	const char *base;
	ssize_t n;
	int err, type;

	snprintf(path, sizeof(path), SYSPCI "/devices/%s/iommu_group", g->bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0) {
		nmd_warn("ivshmem %s: no IOMMU group: the guest needs an IOMMU "
			 "(QEMU -machine q35 -device intel-iommu,intremap=on, kernel intel_iommu=on)",
			 g->bdf);
		return -ENODEV;
	}
	link[n] = '\0';
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	/* a group is a number: /dev/vfio/<number> */
	if (strlen(base) == 0 || strlen(base) >= sizeof(grp) ||
	    strspn(base, "0123456789") != strlen(base)) {
		nmd_warn("ivshmem %s: odd IOMMU group %s", g->bdf, base);
		return -ENODEV;
	}
	memcpy(grp, base, strlen(base) + 1);
	if (access(SYSPCI "/drivers/vfio-pci", F_OK) < 0) {
		nmd_warn("ivshmem %s: vfio-pci is not loaded (modules vfio, vfio_pci, "
			 "vfio_iommu_type1)", g->bdf);
		return -ENODEV;
	}
	err = bind_vfio(g->bdf);
	if (err) {
		nmd_warn("ivshmem %s: cannot bind it to vfio-pci: %s", g->bdf, strerror(-err));
		return err;
	}
	g->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (g->container < 0) {
		err = -errno;
		nmd_warn("ivshmem %s: /dev/vfio/vfio: %s", g->bdf, strerror(-err));
		return err;
	}
	if (ioctl(g->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		nmd_warn("ivshmem %s: unknown vfio API version", g->bdf);
		return -EPROTONOSUPPORT;
	}
	if (ioctl(g->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0)
		type = VFIO_TYPE1v2_IOMMU;
	else if (ioctl(g->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) > 0)
		type = VFIO_TYPE1_IOMMU;
	else {
		nmd_warn("ivshmem %s: vfio has no type-1 IOMMU (vfio_iommu_type1 not loaded?)",
			 g->bdf);
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%s", grp);
	g->group = open(path, O_RDWR | O_CLOEXEC);
	if (g->group < 0) {
		err = -errno;
		nmd_warn("ivshmem %s: %s: %s", g->bdf, path, err == -EBUSY ?
			 "busy: another process has this IOMMU group open" : strerror(-err));
		return err;
	}
	if (ioctl(g->group, VFIO_GROUP_GET_STATUS, &st) < 0)
		return -errno;
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		nmd_warn("ivshmem %s: IOMMU group %s has devices not bound to vfio-pci",
			 g->bdf, grp);
		return -EBUSY;
	}
	if (ioctl(g->group, VFIO_GROUP_SET_CONTAINER, &g->container) < 0) {
		err = -errno;
		nmd_warn("ivshmem %s: VFIO_GROUP_SET_CONTAINER: %s", g->bdf, strerror(-err));
		return err;
	}
	if (ioctl(g->container, VFIO_SET_IOMMU, type) < 0) {
		err = -errno;
		if (err == -EPERM)
			nmd_warn("ivshmem %s: vfio refuses an IOMMU without interrupt remapping: "
				 "use intel-iommu,intremap=on in QEMU, or load vfio_iommu_type1 "
				 "with allow_unsafe_interrupts=1", g->bdf);
		else
			nmd_warn("ivshmem %s: VFIO_SET_IOMMU: %s", g->bdf, strerror(-err));
		return err;
	}
	g->dev = ioctl(g->group, VFIO_GROUP_GET_DEVICE_FD, g->bdf);
	if (g->dev < 0) {
		err = -errno;
		nmd_warn("ivshmem %s: VFIO_GROUP_GET_DEVICE_FD: %s", g->bdf, strerror(-err));
		return err;
	}
	err = vfio_map(g);
	if (err) {
		nmd_warn("ivshmem %s: mapping the BARs through vfio: %s", g->bdf, strerror(-err));
		return err;
	}
	err = vfio_irqs(g);
	if (err)
		nmd_warn("ivshmem %s: MSI-X through vfio: %s", g->bdf, strerror(-err));
	return err;
}

/* Undo vfio_open() and the mappings of either mode. */
static void release(struct nmd_ivshmem_guest *g)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSIX_IRQ_INDEX,
	};
	unsigned i;

	if (g->dev >= 0 && g->nvec)
		ioctl(g->dev, VFIO_DEVICE_SET_IRQS, &set);	/* count 0: disable */
	for (i = 0; i < NMD_IVSHMEM_GUEST_MAX_VECTORS; i++)
		if (g->irq[i] >= 0) {
			close(g->irq[i]);
			g->irq[i] = -1;
		}
	g->nvec = 0;
	if (g->regs_map)
		munmap(g->regs_map, g->regs_maplen);
	if (g->shm)
		munmap(g->shm, g->shm_size);
	g->regs_map = g->shm = NULL;
	g->regs = NULL;
	if (g->shm_fd >= 0 && g->shm_fd != g->dev)
		close(g->shm_fd);
	if (g->regs_fd >= 0 && g->regs_fd != g->dev)
		close(g->regs_fd);
	g->shm_fd = g->regs_fd = -1;
	g->shm_ofs = 0;
	if (g->dev >= 0)
		close(g->dev);
	if (g->group >= 0)
		close(g->group);
	if (g->container >= 0)
		close(g->container);
	g->dev = g->group = g->container = -1;
}

/* ---- registers ---- */

static int reg_read(const struct nmd_ivshmem_guest *g, unsigned off, uint32_t *val)
{
	if (g->regs) {
		*val = g->regs[off / 4];
		return 0;
	}
	if (pread(g->dev, val, sizeof(*val), (off_t)(g->regs_ofs + off)) != sizeof(*val))
		return -EIO;
	return 0;
}

static int reg_write(struct nmd_ivshmem_guest *g, unsigned off, uint32_t val)
{
	if (g->regs) {
		g->regs[off / 4] = val;
		return 0;
	}
	if (pwrite(g->dev, &val, sizeof(val), (off_t)(g->regs_ofs + off)) != sizeof(val))
		return -EIO;
	return 0;
}

/* ---- the device ---- */

static int sysfs_open(struct nmd_ivshmem_guest *g)
{
	void *ptr;
	size_t len;
	int err;

	err = sysfs_map(g->bdf, 2, 1, &g->shm, &g->shm_size, &ptr, &len, &g->shm_fd);
	if (err) {
		/* with CONFIG_IO_STRICT_DEVMEM the kernel refuses to map a BAR
		 * a driver claimed: vfio-pci does while a process has mapped it */
		nmd_warn("ivshmem %s: mapping resource2: %s", g->bdf,
			 err == -EINVAL ? "refused: the BAR is claimed (is another process "
			 "using the device through vfio?)" : strerror(-err));
		return err;
	}
	/* BAR2 starts at a page: the whole mapping is the memory */
	g->shm_size = len;
	if (ptr != g->shm) {
		munmap(g->shm, g->shm_size);
		g->shm = NULL;
		return -ENXIO;
	}
	err = sysfs_map(g->bdf, 0, BAR0_MIN, &g->regs_map, &g->regs_maplen, &ptr, &len,
			&g->regs_fd);
	if (err) {
		nmd_warn("ivshmem %s: mapping resource0: %s", g->bdf, strerror(-err));
		return err;
	}
	g->regs = ptr;
	/* the resource file maps from the page that holds the BAR */
	g->regs_ofs = (uint64_t)((char *)ptr - (char *)g->regs_map);
	return 0;
}

int nmd_ivshmem_guest_open(const char *bdf, unsigned flags, struct nmd_ivshmem_guest **out)
{
	char found[32][NMD_IVSHMEM_BDF_LEN];
	struct nmd_ivshmem_guest *g;
	uint32_t pos;
	unsigned i;
	int err, n;

	if (!bdf) {
		/* the lowest address, among the first 32 the directory lists */
		n = nmd_ivshmem_guest_list(found, 32);
		if (n <= 0) {
			nmd_warn("ivshmem: no ivshmem device (%04x:%04x) in this machine",
				 NMD_IVSHMEM_VENDOR, NMD_IVSHMEM_DEVICE);
			return n < 0 ? n : -ENODEV;
		}
		bdf = found[0];
	}
	if (strlen(bdf) >= NMD_IVSHMEM_BDF_LEN || strchr(bdf, '/') || !is_ivshmem(bdf)) {
		nmd_warn("ivshmem: %s is not an ivshmem device", bdf);
		return -ENODEV;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	memcpy(g->bdf, bdf, strlen(bdf) + 1);
	g->container = g->group = g->dev = -1;
	g->shm_fd = g->regs_fd = -1;
	for (i = 0; i < NMD_IVSHMEM_GUEST_MAX_VECTORS; i++)
		g->irq[i] = -1;

	err = -EOPNOTSUPP;
	if (!(flags & NMD_IVSHMEM_GUEST_POLL)) {
		err = vfio_open(g);
		if (err)
			release(g);
		else
			g->shm_fd = g->regs_fd = g->dev;
	}
	if (err) {
		if (flags & NMD_IVSHMEM_GUEST_IRQ) {
			nmd_err("ivshmem %s: no interrupts through vfio (%s)", g->bdf,
				strerror(-err));
			free(g);
			return err == -EPERM ? err : -EOPNOTSUPP;
		}
		if (flags & NMD_IVSHMEM_GUEST_POLL)
			nmd_info("ivshmem %s: polling mode, as asked", g->bdf);
		else
			nmd_warn("ivshmem %s: no interrupts through vfio: falling back to polling "
				 "(every wait is a %d ms sleep)", g->bdf, POLL_MS);
		err = sysfs_open(g);
		if (err) {
			nmd_ivshmem_guest_close(g);
			return err;
		}
	}
	err = reg_read(g, REG_IVPOSITION, &pos);
	/* untrusted (QEMU's): an id is 16 bits; a revision-0 device reads
	 * -1 before it has one */
	if (!err && pos > 0xffff) {
		nmd_warn("ivshmem %s: IVPosition reads %#x: no peer id yet", g->bdf, pos);
		err = -ENXIO;
	}
	if (err) {
		nmd_ivshmem_guest_close(g);
		return err;
	}
	g->id = (uint16_t)pos;
	nmd_info("ivshmem %s: %zu bytes of shared memory, peer id %u, %s, registers %s", g->bdf,
		 g->shm_size, g->id, g->nvec ? "MSI-X through vfio" : "polling",
		 g->regs ? "mapped" : "through pread/pwrite");
	*out = g;
	return 0;
}

void nmd_ivshmem_guest_close(struct nmd_ivshmem_guest *g)
{
	if (!g)
		return;
	release(g);
	free(g);
}

void *nmd_ivshmem_guest_shm(const struct nmd_ivshmem_guest *g, size_t *size)
{
	if (size)
		*size = g->shm_size;
	return g->shm;
}

uint16_t nmd_ivshmem_guest_id(const struct nmd_ivshmem_guest *g)
{
	return g->id;
}

bool nmd_ivshmem_guest_has_irq(const struct nmd_ivshmem_guest *g)
{
	return g->nvec > 0;
}

unsigned nmd_ivshmem_guest_vectors(const struct nmd_ivshmem_guest *g)
{
	return g->nvec;
}

const char *nmd_ivshmem_guest_bdf(const struct nmd_ivshmem_guest *g)
{
	return g->bdf;
}

void nmd_ivshmem_guest_fds(const struct nmd_ivshmem_guest *g, int *shm_fd, uint64_t *shm_ofs,
			   int *regs_fd, uint64_t *regs_ofs)
{
	*shm_fd = g->shm_fd;
	*shm_ofs = g->shm_ofs;
	*regs_fd = g->regs_fd;
	*regs_ofs = g->regs_ofs;
}

int nmd_ivshmem_guest_peek(const char *bdf, void *buf, size_t len, uint64_t *bar_size)
{
	char path[PATH_MAX];
	uint64_t start, blen;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), ofs, in_page, ml;
	void *m;
	int fd, err;

	if (strlen(bdf) >= NMD_IVSHMEM_BDF_LEN || strchr(bdf, '/') || !is_ivshmem(bdf))
		return -ENODEV;
	err = bar_range(bdf, 2, &start, &blen);
	if (err)
		return err;
	if (blen < len || blen > SIZE_MAX / 2 || (start & (page - 1)))
		return -ERANGE;
	ofs = (size_t)blen - len;
	in_page = ofs & (page - 1);
	ml = (in_page + len + page - 1) & ~(page - 1);
	snprintf(path, sizeof(path), SYSPCI "/devices/%s/resource2", bdf);
	fd = open(path, O_RDWR | O_CLOEXEC | O_SYNC);
	if (fd < 0)
		return -errno;
	m = mmap(NULL, ml, PROT_READ, MAP_SHARED, fd, (off_t)(ofs - in_page));
	err = m == MAP_FAILED ? -errno : 0;
	close(fd);
	if (err)
		return err;
	memcpy(buf, (char *)m + in_page, len);
	munmap(m, ml);
	*bar_size = blen;
	return 0;
}

int nmd_ivshmem_guest_ring(struct nmd_ivshmem_guest *g, uint16_t peer, uint16_t vector)
{
	return reg_write(g, REG_DOORBELL, ((uint32_t)peer << 16) | vector);
}

int nmd_ivshmem_guest_irq_fd(const struct nmd_ivshmem_guest *g, unsigned vector)
{
	return vector < g->nvec ? g->irq[vector] : -1;
}

int nmd_ivshmem_guest_wait(struct nmd_ivshmem_guest *g, unsigned vector, int timeout_ms)
{
	struct pollfd pfd;
	uint64_t cnt;
	int n;

	if (!g->nvec) {
		if (timeout_ms != 0)
			usleep(1000u * (unsigned)(timeout_ms < 0 || timeout_ms > POLL_MS ?
						  POLL_MS : timeout_ms));
		return 0;
	}
	if (vector >= g->nvec)
		return -EINVAL;
	pfd.fd = g->irq[vector];
	pfd.events = POLLIN;
	do {
		n = poll(&pfd, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	/* another waiter on the same vector may have taken the count */
	return read(pfd.fd, &cnt, sizeof(cnt)) == (ssize_t)sizeof(cnt) ? 1 : 0;
}

/*
 * guest_port.c - VM passthrough, guest side: the ports a host exported to
 * this machine, offered by the guest's netmapd under their host names, so
 * that `pkt-gen -i netmap:x}1` and any netmap application run here as on
 * the host (the model is in common/unm_vm.h).
 *
 * On its first name lookup netmapd looks for ivshmem devices whose shared
 * memory ends with a unetmap descriptor (peeking through sysfs, so that a
 * device meant for something else is left alone), takes them
 * (daemon/vm/ivshmem_guest.c: vfio-pci and MSI-X, or polling), copies the
 * descriptor once into private memory and checks all of it against the
 * BAR: the host is not trusted here.  Each device becomes a region of its
 * own (a "foreign" one: netmapd allocates nothing in it but the netmap_if
 * objects of the bindings, in the area the host left to the guest), each
 * exported port a port of this kind.
 *
 * A REGISTER answers as for the port's host kind (pipe or hardware-driven
 * rings, so the library runs the very same sync code on the host's rings)
 * plus struct unm_bind_vm: the region is the BAR at an offset of the
 * device descriptor, the wake descriptors are the device's MSI-X eventfds
 * (or a 1 ms tick when the guest polls), and the rings kick the host by
 * writing the doorbell.  Nothing goes through netmapd on the data path.
 *
 * Environment: UNETMAP_IVSHMEM=auto (default) | irq (interrupts or
 * nothing) | poll (never vfio) | off (do not look for devices).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "../nmd.h"
#include "ivshmem_guest.h"
#include "unm_vm.h"

#define GUEST_MAX_DEVS	8
#define GUEST_MAX_SLOTS	4096	/* netmap's largest ring (pipes, VALE) */
#define GUEST_MAX_DIR_RINGS 256	/* netmap's most rings per direction */
#define GUEST_POLL_NS	1000000	/* polling: how often sleepers re-check */
#define DOORBELL_REG	12	/* BAR0 offset */
#define HOST_PEER	0	/* netmapd's ivshmem server is peer 0 */

struct guest_dev;

struct guest_port {
	struct nmd_port port;		/* first: the ops get &port */
	struct guest_dev *dev;
	uint32_t kind;			/* UNM_KIND_PIPE or UNM_KIND_HW */
	uint32_t hdr_len;
	uint32_t bell[2];		/* per UNM_DIR_*: doorbell value */
	uint64_t *peer_ofs[2];		/* per ring: pipes' linked host ring */
	bool polls;			/* wakes on the ticks, not on MSI-X */
};

struct guest_dev {
	struct nmd_ivshmem_guest *g;
	struct nmd_region rg;		/* the BAR, as a foreign region */
	const struct unm_vm_desc *live; /* the descriptor in the BAR: only
					 * its state is read there, once per
					 * open */
	int shm_fd, regs_fd;
	uint64_t shm_ofs, regs_ofs;
	unsigned nports;
	struct guest_port port[UNM_VM_MAX_PORTS];
};

static struct guest_dev *devs[GUEST_MAX_DEVS];
static unsigned ndevs;
static bool scanned;

/*
 * Polling: the binders of a port without MSI-X sleep on an eventfd that a
 * thread of ours writes every millisecond while such a port is bound.
 * (A periodic timerfd would not do: it fires again only once read, and
 * the library never reads its wake descriptors, whose edges it waits on.)
 */
static int poll_tick = -1;		/* what polling ports wake on */
static unsigned poll_bound;		/* bound polling ports (control thread) */
static pthread_t tick_thread;
static bool tick_started;
static pthread_mutex_t tick_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tick_cond = PTHREAD_COND_INITIALIZER;
static bool tick_on, tick_quit;		/* under tick_lock */

static struct guest_port *port_find(const char *name)
{
	unsigned i, k;

	for (i = 0; i < ndevs; i++)
		for (k = 0; k < devs[i]->nports; k++)
			if (strcmp(devs[i]->port[k].port.name, name) == 0)
				return &devs[i]->port[k];
	return NULL;
}

/* ---- checking what the host wrote ---- */

static bool span_ok(uint64_t ofs, uint64_t len, uint64_t limit)
{
	return ofs <= limit && len <= limit - ofs;
}

/* A ring object (control block, ring header, slots) inside the region. */
static bool ring_ok(uint64_t ofs, uint32_t nslots, uint64_t region_size)
{
	return ofs >= UNM_RING_CTL_SIZE && ofs % UNM_POOL_UNIT == 0 &&
	       span_ok(ofs - UNM_RING_CTL_SIZE,
		       UNM_RING_CTL_SIZE + UNM_RING_HDR_SIZE +
		       (uint64_t)nslots * sizeof(struct netmap_slot), region_size);
}

/*
 * Check the private copy d of a descriptor found at the end of a BAR of
 * bar bytes.  Everything the ports are built from is checked here, once;
 * why says what was wrong.
 */
static int desc_check(const struct unm_vm_desc *d, uint64_t bar, char *why, size_t wl)
{
	uint64_t top = bar - UNM_VM_DESC_SIZE;
	uint32_t i, k;

#define BAD(...) do { snprintf(why, wl, __VA_ARGS__); return -EINVAL; } while (0)
	if (d->magic != UNM_VM_MAGIC || d->version != UNM_VM_VERSION)
		BAD("no unetmap descriptor (version %u)", d->version);
	if (atomic_load_explicit(&d->state, memory_order_relaxed) != UNM_VM_STATE_LIVE)
		BAD("the host withdrew its ports");
	if (d->nports < 1 || d->nports > UNM_VM_MAX_PORTS || d->nrings > UNM_VM_MAX_RINGS)
		BAD("%u ports, %u rings", d->nports, d->nrings);
	if (d->region_size == 0 || d->region_size > top)
		BAD("a region of %llu bytes in a BAR of %llu",
		    (unsigned long long)d->region_size, (unsigned long long)bar);
	if (d->guest_ofs % 4096 || d->guest_ofs < d->region_size ||
	    !span_ok(d->guest_ofs, d->guest_size, top) || d->guest_size < (64u << 10))
		BAD("the guest's area [%llu, +%llu) is not past the region and in the BAR",
		    (unsigned long long)d->guest_ofs, (unsigned long long)d->guest_size);
	if (d->buf_size < 64 || d->buf_size > 65536 || d->buf_total < 3 ||
	    !span_ok(d->buf_pool_ofs, (uint64_t)d->buf_total * d->buf_size, d->region_size))
		BAD("buffers outside the region");
	for (i = 0; i < d->nports; i++) {
		const struct unm_vm_port *p = &d->port[i];
		uint32_t n = p->nrings[UNM_DIR_TX], nrx = p->nrings[UNM_DIR_RX];

		if (strnlen(p->name, sizeof(p->name)) == sizeof(p->name) || !p->name[0])
			BAD("port %u has no name", i);
		for (k = 0; k < i; k++)
			if (strcmp(d->port[k].name, p->name) == 0)
				BAD("%s listed twice", p->name);
		if (p->kind != UNM_KIND_PIPE && p->kind != UNM_KIND_HW)
			BAD("%s: kind %u", p->name, p->kind);
		if (n > GUEST_MAX_DIR_RINGS || nrx > GUEST_MAX_DIR_RINGS || n + nrx == 0 ||
		    p->first_ring > d->nrings || n + nrx > d->nrings - p->first_ring)
			BAD("%s: rings %u+%u from %u of %u", p->name, n, nrx, p->first_ring,
			    d->nrings);
		if (p->hdr_len > 64)
			BAD("%s: a virtio-net header of %u bytes", p->name, p->hdr_len);
		for (k = 0; k < 2; k++) {
			if (p->kick_vec[k] != UNM_VM_NO_VECTOR && p->kick_vec[k] > 255)
				BAD("%s: doorbell vector %u", p->name, p->kick_vec[k]);
			if (p->wake_vec[k] != UNM_VM_NO_VECTOR && p->wake_vec[k] >= d->vectors)
				BAD("%s: vector %u of %u", p->name, p->wake_vec[k], d->vectors);
		}
		for (k = 0; k < n + nrx; k++) {
			const struct unm_vm_ring *r = &d->ring[p->first_ring + k];
			uint32_t dir = k < n ? UNM_DIR_TX : UNM_DIR_RX;

			if (r->dir != dir || r->ringid != (k < n ? k : k - n) || r->nslots == 0 ||
			    r->nslots > GUEST_MAX_SLOTS || !ring_ok(r->ofs, r->nslots, d->region_size))
				BAD("%s: ring %u is not where the region allows", p->name, k);
			if (p->kind == UNM_KIND_PIPE &&
			    !ring_ok(r->peer_ofs, r->nslots, d->region_size))
				BAD("%s: the peer of ring %u is not where the region allows",
				    p->name, k);
		}
	}
#undef BAD
	return 0;
}

/* ---- devices ---- */

static void *ticker(void *arg)
{
	const struct timespec period = { 0, GUEST_POLL_NS };
	const uint64_t one = 1;

	(void)arg;
	pthread_mutex_lock(&tick_lock);
	while (!tick_quit) {
		if (!tick_on) {
			pthread_cond_wait(&tick_cond, &tick_lock);
			continue;
		}
		pthread_mutex_unlock(&tick_lock);
		/* every write is a new edge for the sleepers' epoll sets */
		if (write(poll_tick, &one, sizeof(one)) < 0) {
			/* EAGAIN: a counter nobody reads for 500 million years */
		}
		nanosleep(&period, NULL);
		pthread_mutex_lock(&tick_lock);
	}
	pthread_mutex_unlock(&tick_lock);
	return NULL;
}

static int tick_get(void)
{
	if (poll_tick < 0)
		poll_tick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return poll_tick;
}

/* The ticks run while a polling port is bound: an idle guest is not woken
 * for nothing. */
static void tick_users(int delta)
{
	poll_bound = (unsigned)((int)poll_bound + delta);
	if (!tick_started && poll_bound) {
		if (pthread_create(&tick_thread, NULL, ticker, NULL) != 0) {
			nmd_err("passthrough: cannot start the polling thread: its binders "
				"will wake only when their timeouts expire");
			return;
		}
		tick_started = true;
	}
	pthread_mutex_lock(&tick_lock);
	tick_on = poll_bound > 0;
	pthread_cond_signal(&tick_cond);
	pthread_mutex_unlock(&tick_lock);
}

static void dev_free(struct guest_dev *dv)
{
	unsigned i;
	int d;

	for (i = 0; i < dv->nports; i++) {
		nmd_named_del(&dv->port[i].port);
		for (d = 0; d < 2; d++) {
			free(dv->port[i].port.ring[d]);
			free(dv->port[i].peer_ofs[d]);
		}
	}
	if (dv->rg.mem_id)
		nmd_region_forget(&dv->rg);
	free(dv->rg.ifs.map);
	free(dv->rg.buf_map);
	nmd_ivshmem_guest_close(dv->g);
	free(dv);
}

static int port_build(struct guest_dev *dv, struct guest_port *gp, const struct unm_vm_desc *d,
		      const struct unm_vm_port *vp, const char *bdf)
{
	struct nmd_port *p = &gp->port;
	uint32_t k;
	int dir;

	snprintf(p->name, sizeof(p->name), "%s", vp->name);
	p->ops = &nmd_guest_ops;
	p->rg = &dv->rg;
	p->hw_kick = -1;
	gp->dev = dv;
	gp->kind = vp->kind;
	gp->hdr_len = vp->hdr_len;
	for (dir = 0; dir < 2; dir++) {
		uint32_t n = vp->nrings[dir];
		uint32_t first = vp->first_ring + (dir == UNM_DIR_TX ? 0 : vp->nrings[UNM_DIR_TX]);
		int irq = vp->wake_vec[dir] == UNM_VM_NO_VECTOR ? -1 :
			  nmd_ivshmem_guest_irq_fd(dv->g, vp->wake_vec[dir]);

		p->nrings[dir] = n;
		p->ring[dir] = calloc(n ? n : 1, sizeof(struct nmd_ring));
		gp->peer_ofs[dir] = calloc(n ? n : 1, sizeof(uint64_t));
		if (!p->ring[dir] || !gp->peer_ofs[dir])
			return -ENOMEM;
		for (k = 0; k < n; k++) {
			const struct unm_vm_ring *r = &d->ring[first + k];

			p->ring[dir][k].ofs = r->ofs;
			p->ring[dir][k].nslots = r->nslots;
			p->ring[dir][k].id = (uint16_t)k;
			p->ring[dir][k].dir = (uint8_t)dir;
			gp->peer_ofs[dir][k] = vp->kind == UNM_KIND_PIPE ? r->peer_ofs : 0;
		}
		gp->bell[dir] = vp->kick_vec[dir] == UNM_VM_NO_VECTOR ? UINT32_MAX :
				((uint32_t)HOST_PEER << 16) | vp->kick_vec[dir];
		if (irq < 0)
			gp->polls = true;
		p->wake[dir] = irq;
	}
	if (gp->polls) {
		int t = tick_get();

		if (t < 0)
			return -errno;
		if (nmd_ivshmem_guest_has_irq(dv->g))
			nmd_warn("passthrough %s (%s): no MSI-X vector for it: its binders "
				 "wake every %d ms to check", p->name, bdf, GUEST_POLL_NS / 1000000);
		p->wake[UNM_DIR_TX] = p->wake[UNM_DIR_RX] = t;
	}
	return 0;
}

static void dev_attach(const char *bdf, unsigned flags)
{
	struct unm_vm_desc *d = malloc(UNM_VM_DESC_SIZE);
	struct guest_dev *dv = NULL;
	char why[160];
	uint64_t bar;
	size_t size;
	char *shm;
	unsigned i;
	int err;

	if (!d)
		return;
	/* a look before taking the device: it may be meant for another use */
	err = nmd_ivshmem_guest_peek(bdf, d, UNM_VM_DESC_SIZE, &bar);
	if (err || d->magic != UNM_VM_MAGIC) {
		nmd_debug("ivshmem %s: %s", bdf, err ? strerror(-err) : "no unetmap descriptor");
		goto out;
	}
	dv = calloc(1, sizeof(*dv));
	if (!dv)
		goto out;
	err = nmd_ivshmem_guest_open(bdf, flags, &dv->g);
	if (err) {
		nmd_warn("passthrough %s: cannot take the device: %s", bdf, strerror(-err));
		free(dv);
		dv = NULL;
		goto out;
	}
	shm = nmd_ivshmem_guest_shm(dv->g, &size);
	if (size < UNM_REGION_TAIL || (size & (size - 1))) {
		nmd_warn("passthrough %s: %zu bytes of shared memory: not a unetmap region", bdf,
			 size);
		goto fail;
	}
	/* the one read of the descriptor: the host may rewrite it any time */
	memcpy(d, shm + size - UNM_VM_DESC_SIZE, UNM_VM_DESC_SIZE);
	if (desc_check(d, size, why, sizeof(why)) < 0) {
		nmd_warn("passthrough %s: ignored: %s", bdf, why);
		goto fail;
	}
	for (i = 0; i < d->nports; i++) {
		if (port_find(d->port[i].name)) {
			nmd_warn("passthrough %s: ignored: %s comes from another device too", bdf,
				 d->port[i].name);
			goto fail;
		}
	}
	dv->live = (const struct unm_vm_desc *)(shm + size - UNM_VM_DESC_SIZE);
	nmd_ivshmem_guest_fds(dv->g, &dv->shm_fd, &dv->shm_ofs, &dv->regs_fd, &dv->regs_ofs);

	/* the BAR as a region: the host's layout, and the netmap_ifs of our
	 * bindings in the guest's area; no buffer is ours to allocate */
	dv->rg.memfd = dv->shm_fd;
	dv->rg.base = shm;
	dv->rg.size = size;
	dv->rg.if_ofs = d->guest_ofs;
	dv->rg.if_size = d->guest_size & ~(uint64_t)(UNM_POOL_UNIT - 1);
	dv->rg.ifs.units = (uint32_t)(dv->rg.if_size / UNM_POOL_UNIT);
	dv->rg.ifs.map = calloc((dv->rg.ifs.units + 63) / 64, sizeof(uint64_t));
	dv->rg.buf_ofs = d->buf_pool_ofs;
	dv->rg.buf_size = d->buf_size;
	dv->rg.buf_total = d->buf_total;
	dv->rg.buf_free = 0;
	dv->rg.buf_hint = 2;
	dv->rg.buf_map = calloc((d->buf_total + 63) / 64, sizeof(uint64_t));
	snprintf(dv->rg.sealed_for, sizeof(dv->rg.sealed_for), "the host (passthrough)");
	if (!dv->rg.ifs.map || !dv->rg.buf_map || nmd_region_add_foreign(&dv->rg) < 0)
		goto fail;
	for (i = 0; i < d->nports; i++) {
		if (port_build(dv, &dv->port[i], d, &d->port[i], bdf) < 0) {
			dv->nports = i + 1;
			goto fail;
		}
	}
	dv->nports = d->nports;
	for (i = 0; i < dv->nports; i++)
		nmd_named_add(&dv->port[i].port);
	devs[ndevs++] = dv;
	for (i = 0; i < dv->nports; i++)
		nmd_info("passthrough %s: %s (%s, %u/%u rings, %s), region %u (host's %u, for %s)",
			 bdf, dv->port[i].port.name,
			 dv->port[i].kind == UNM_KIND_PIPE ? "pipe end" : "switch port",
			 dv->port[i].port.nrings[UNM_DIR_TX], dv->port[i].port.nrings[UNM_DIR_RX],
			 dv->port[i].polls ? "polling every 1 ms" : "MSI-X wake-ups",
			 dv->rg.mem_id, d->host_mem_id, d->holder);
	goto out;
fail:
	dev_free(dv);
out:
	free(d);
}

static void scan(void)
{
	char bdf[32][NMD_IVSHMEM_BDF_LEN], path[PATH_MAX], link[PATH_MAX];
	const char *mode = getenv("UNETMAP_IVSHMEM");
	unsigned flags = 0;
	int n, i;

	scanned = true;
	if (mode && strcmp(mode, "off") == 0)
		return;
	if (mode && strcmp(mode, "poll") == 0)
		flags = NMD_IVSHMEM_GUEST_POLL;
	else if (mode && strcmp(mode, "irq") == 0)
		flags = NMD_IVSHMEM_GUEST_IRQ;
	n = nmd_ivshmem_guest_list(bdf, 32);
	for (i = 0; i < n && i < 32 && ndevs < GUEST_MAX_DEVS; i++) {
		ssize_t l;

		/* a device another driver has is not ours to take */
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf[i]);
		l = readlink(path, link, sizeof(link) - 1);
		if (l > 0) {
			link[l] = '\0';
			if (!strstr(link, "/vfio-pci")) {
				nmd_debug("ivshmem %s: driven by %s, left alone", bdf[i], link);
				continue;
			}
		}
		dev_attach(bdf[i], flags);
	}
}

void nmd_guest_fini(void)
{
	while (ndevs)
		dev_free(devs[--ndevs]);
	if (tick_started) {
		pthread_mutex_lock(&tick_lock);
		tick_quit = true;
		pthread_cond_signal(&tick_cond);
		pthread_mutex_unlock(&tick_lock);
		pthread_join(tick_thread, NULL);
		tick_started = tick_quit = tick_on = false;
	}
	if (poll_tick >= 0)
		close(poll_tick);
	poll_tick = -1;
	poll_bound = 0;
	scanned = false;
}

/* ---- the kind ---- */

static bool guest_claims(const char *name, const struct nmreq_register *reg)
{
	(void)reg;
	if (!scanned)
		scan();
	return ndevs && port_find(name);
}

static int guest_open(struct nmd_client *c, const char *name, struct nmreq_register *reg,
		      struct nmd_port **out, char *msg, size_t msglen)
{
	struct guest_port *gp = port_find(name);

	(void)c;
	if (!gp) {
		snprintf(msg, msglen, "%s: no such port", name);
		return -ENXIO;
	}
	/* A: the host's release store when it revoked the export */
	if (atomic_load_explicit(&gp->dev->live->state, memory_order_acquire) !=
	    UNM_VM_STATE_LIVE) {
		snprintf(msg, msglen, "%s: the host no longer passes it through", name);
		return -ENXIO;
	}
	if (reg->nr_mode != NR_REG_ALL_NIC && reg->nr_mode != NR_REG_ONE_NIC) {
		snprintf(msg, msglen, "%s: passthrough ports accept only all-rings or one-ring "
			 "modes", name);
		return -EINVAL;
	}
	if (reg->nr_mem_id && reg->nr_mem_id != gp->dev->rg.mem_id) {
		snprintf(msg, msglen, "%s lives in memory region %u, not %u", name,
			 gp->dev->rg.mem_id, reg->nr_mem_id);
		return -EINVAL;
	}
	*out = &gp->port;
	return 0;
}

static void guest_bound(struct nmd_port *p)
{
	struct guest_port *gp = (struct guest_port *)p;

	if (gp->polls && p->nbind == 1)
		tick_users(1);
}

static void guest_released(struct nmd_port *p)
{
	struct guest_port *gp = (struct guest_port *)p;

	/* the port lives as long as the device; only the ticks care */
	if (gp->polls && p->nbind == 0 && p->was_bound) {
		p->was_bound = false;
		tick_users(-1);
	}
}

/* The REGISTER reply: the host kind's sync code, plus where the BAR and
 * the doorbell are. */
static int guest_bind_info(struct nmd_port *p, struct nmd_req *r)
{
	struct guest_port *gp = (struct guest_port *)p;
	struct guest_dev *dv = gp->dev;
	struct unm_bind_info *bi;
	struct unm_bind_vm *vm;
	size_t extra = sizeof(*vm) + r->bind->nrings * sizeof(uint32_t);
	uint32_t k;

	if (r->nfds >= UNM_WIRE_MAXFDS)
		return -ENOMEM;
	bi = realloc(r->bind, r->bind_len + extra);
	if (!bi)
		return -ENOMEM;
	r->bind = bi;
	vm = (struct unm_bind_vm *)((char *)bi + r->bind_len);
	r->bind_len += extra;
	memset(vm, 0, extra);
	bi->kind = gp->kind;
	bi->flags |= UNM_BIND_F_VM;
	for (k = 0; k < bi->nrings; k++) {
		struct unm_bind_ring *br = &bi->ring[k];

		br->peer_ofs = gp->peer_ofs[br->dir][br->ringid];
		br->kick_fd = -1;
		vm->bell[k] = gp->bell[br->dir];
	}
	vm->map_ofs = dv->shm_ofs;
	vm->bell_ofs = dv->regs_ofs + DOORBELL_REG;
	vm->bell_fd = (int16_t)r->nfds;
	r->fds[r->nfds++] = dv->regs_fd;
	return 0;
}

static uint32_t guest_hdr_len(const struct nmd_port *p)
{
	return ((const struct guest_port *)p)->hdr_len;
}

const struct nmd_port_ops nmd_guest_ops = {
	.name = "passthrough",
	.claims = guest_claims,
	.open = guest_open,
	.wire_kind = UNM_KIND_PIPE,	/* each port's own kind goes in bind_info */
	.bound = guest_bound,
	.released = guest_released,
	.bind_info = guest_bind_info,
	.hdr_len = guest_hdr_len,
};

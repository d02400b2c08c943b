/*
 * dev_port.c - the life of a port descriptor: open("/dev/netmap"), the
 * local half of REGISTER (mapping the region, wiring rings and wake-ups),
 * mmap() by the application, and close().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

static struct unm_map *maps;
static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;

/* One mapping per region per process; memfd is ours from then on. */
static struct unm_map *map_get(uint64_t id, int memfd, size_t size, uint64_t file_ofs, int *err)
{
	struct unm_map *m;

	pthread_mutex_lock(&maps_lock);
	for (m = maps; m; m = m->next) {
		if (m->region_id == id && m->size == size) {
			m->refs++;
			pthread_mutex_unlock(&maps_lock);
			unm_libc.close(memfd);
			return m;
		}
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		*err = -ENOMEM;
		goto fail;
	}
	m->base = unm_libc.mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
				memfd, (off_t)file_ofs);
	if (m->base == MAP_FAILED) {
		*err = -errno;
		free(m);
		goto fail;
	}
	m->region_id = id;
	m->size = size;
	m->file_ofs = file_ofs;
	m->memfd = memfd;
	m->refs = 1;
	m->next = maps;
	maps = m;
	pthread_mutex_unlock(&maps_lock);
	return m;
fail:
	pthread_mutex_unlock(&maps_lock);
	unm_libc.close(memfd);
	return NULL;
}

static void map_put(struct unm_map *m)
{
	struct unm_map **pp;

	pthread_mutex_lock(&maps_lock);
	if (--m->refs > 0) {
		pthread_mutex_unlock(&maps_lock);
		return;
	}
	for (pp = &maps; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	pthread_mutex_unlock(&maps_lock);
	munmap(m->base, m->size);
	unm_libc.close(m->memfd);
	free(m);
}

int unm_dev_open(int flags)
{
	struct unm_port *p;
	int fd, err;

	fd = unm_ctl_connect();
	if (fd < 0)
		return fd;
	p = calloc(1, sizeof(*p));
	if (!p) {
		unm_libc.close(fd);
		return -ENOMEM;
	}
	pthread_mutex_init(&p->ctl_lock, NULL);
	/* the application gets its own descriptor of the connection; ours
	 * outlives whichever of its copies it closes first */
	p->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	p->wake_ep = epoll_create1(EPOLL_CLOEXEC);
	if (p->fd < 0 || p->wake_ep < 0) {
		err = -errno;
		goto fail;
	}
	if (!(flags & O_CLOEXEC))
		fcntl(fd, F_SETFD, 0);
	err = unm_port_insert_ref(p, fd);
	if (err)
		goto fail;
	return fd;
fail:
	if (p->wake_ep >= 0)
		unm_libc.close(p->wake_ep);
	if (p->fd >= 0)
		unm_libc.close(p->fd);
	unm_libc.close(fd);
	free(p);
	return err;
}

static bool in_region(const struct unm_map *m, uint64_t ofs, uint64_t len)
{
	return ofs <= m->size && len <= m->size - ofs;
}

/*
 * The local half of REGISTER.  netmapd is trusted, but its answer is
 * still checked against the mapping before we hand out pointers.
 */
int unm_dev_bind(struct unm_port *p, const struct unm_bind_info *bi, size_t len,
		 int *fds, unsigned nfds)
{
	const struct unm_port_ops *ops;
	const struct unm_bind_vm *vm = NULL;
	struct unm_map *m = NULL;
	uint32_t cnt[2] = { 0, 0 }, i;
	unsigned k;
	int err = -EPROTO, d;

	if (nfds < 3 || len < sizeof(*bi) || bi->nrings > 4096 ||
	    len < sizeof(*bi) + (size_t)bi->nrings * sizeof(bi->ring[0]))
		goto fail;
	switch (bi->kind) {
	case UNM_KIND_PIPE: ops = &unm_pipe_ops; break;
	case UNM_KIND_NULL: ops = &unm_null_ops; break;
	case UNM_KIND_NULLSINK: ops = &unm_nullsink_ops; break;
	case UNM_KIND_HW: ops = &unm_hw_ops; break;
	case UNM_KIND_XDP: ops = &unm_xdp_ops; break;
	case UNM_KIND_PACKET: ops = &unm_packet_ops; break;
	case UNM_KIND_MONITOR: ops = &unm_monitor_ops; break;
	case UNM_KIND_VETH: ops = &unm_veth_ops; break;
	default: goto fail;
	}
	/* a passthrough port inside a guest: the region is a device BAR */
	if ((bi->flags & UNM_BIND_F_VM) && unm_vm_parse(bi, len, nfds, &vm) < 0)
		goto fail;
	m = map_get(bi->region_id, fds[0], bi->region_size, vm ? vm->map_ofs : 0, &err);
	fds[0] = -1;
	if (!m)
		goto fail;
	if (!in_region(m, bi->nifp_ofs, sizeof(struct netmap_if)) || bi->buf_size == 0 ||
	    !in_region(m, bi->buf_pool_ofs, (uint64_t)bi->buf_total * bi->buf_size))
		goto fail_proto;
	for (i = 0; i < bi->nrings; i++) {
		const struct unm_bind_ring *br = &bi->ring[i];
		uint64_t rl = UNM_RING_HDR_SIZE + (uint64_t)br->nslots * sizeof(struct netmap_slot);

		if (br->dir > 1 || br->ring_ofs < UNM_RING_CTL_SIZE ||
		    !in_region(m, br->ring_ofs - UNM_RING_CTL_SIZE, UNM_RING_CTL_SIZE + rl) ||
		    (br->peer_ofs && (br->peer_ofs < UNM_RING_CTL_SIZE ||
		     !in_region(m, br->peer_ofs - UNM_RING_CTL_SIZE, UNM_RING_CTL_SIZE + rl))) ||
		    br->wake_fd < 1 || (unsigned)br->wake_fd >= nfds ||
		    br->kick_fd >= (int)nfds || (bi->kind == UNM_KIND_PIPE && !br->peer_ofs))
			goto fail_proto;
		cnt[br->dir]++;
	}
	for (d = 0; d < 2; d++) {
		p->ring[d] = calloc(cnt[d] ? cnt[d] : 1, sizeof(struct unm_ring));
		if (!p->ring[d]) {
			err = -ENOMEM;
			goto fail_map;
		}
		p->nrings[d] = 0;
	}
	for (i = 0; i < bi->nrings; i++) {
		const struct unm_bind_ring *br = &bi->ring[i];
		struct unm_ring *r = &p->ring[br->dir][p->nrings[br->dir]++];

		r->ring = (struct netmap_ring *)(m->base + br->ring_ofs);
		r->ctl = unm_ring_ctl(r->ring);
		if (br->peer_ofs) {
			r->peer = (struct netmap_ring *)(m->base + br->peer_ofs);
			r->peer_ctl = unm_ring_ctl(r->peer);
		}
		r->n = br->nslots;
		r->id = br->ringid;
		r->bufs = m->base + bi->buf_pool_ofs;
		r->buf_total = bi->buf_total;
		r->buf_size = bi->buf_size;
		r->dir = br->dir;
		r->kick_fd = br->kick_fd >= 0 ? fds[br->kick_fd] : -1;
		if (vm && vm->bell[i] != UINT32_MAX) {
			r->bell_on = true;
			r->bell_val = vm->bell[i];
		}
		r->port = p;
	}
	if (vm)
		unm_vm_bind(p, vm, fds);
	/* we sleep on every eventfd named as a wake_fd of a bound ring;
	 * edge-triggered, so no read() is ever needed to re-arm them */
	for (i = 0; i < bi->nrings; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
		int fd = fds[bi->ring[i].wake_fd];

		ev.data.fd = fd;
		if (unm_libc.epoll_ctl(p->wake_ep, EPOLL_CTL_ADD, fd, &ev) < 0 && errno != EEXIST) {
			err = -errno;
			goto fail_map;
		}
	}
	/* per-kind state (NIC sockets); the descriptors stay ours */
	if (ops->bind) {
		err = ops->bind(p, m->base, bi, len, fds, nfds);
		if (err)
			goto fail_map;
	}
	for (k = 1; k < nfds; k++)
		p->efds[p->nefds++] = fds[k];
	{
		const char *hup = getenv("UNETMAP_PEER_HUP");

		p->peer_hup = hup && *hup && *hup != '0';
	}
	p->map = m;
	p->nifp = (struct netmap_if *)(m->base + bi->nifp_ofs);
	p->mem_id = bi->mem_id;
	p->ops = ops;
	p->bound = true;
	return 0;

fail_proto:
	err = -EPROTO;
fail_map:
	unm_vm_unbind(p);
	for (d = 0; d < 2; d++) {
		free(p->ring[d]);
		p->ring[d] = NULL;
		p->nrings[d] = 0;
	}
	if (m)
		map_put(m);
fail:
	for (k = 0; k < nfds; k++)
		if (fds[k] >= 0)
			unm_libc.close(fds[k]);
	return err;
}

void *unm_dev_mmap(struct unm_port *p, void *addr, size_t len, int prot, int flags,
		   off_t off, int *err)
{
	void *v;

	if (!p->bound || off < 0 || (uint64_t)off > p->map->size ||
	    len > p->map->size - (uint64_t)off) {
		*err = EINVAL;
		return MAP_FAILED;
	}
	v = unm_libc.mmap(addr, len, prot, flags, p->map->memfd, off + (off_t)p->map->file_ofs);
	if (v == MAP_FAILED)
		*err = errno;
	return v;
}

/* Undo unm_dev_bind(): this process's state of the binding only. */
void unm_dev_unbind_local(struct unm_port *p)
{
	unsigned k;
	int d;

	if (!p->bound)
		return;
	unm_port_disarm(p);
	unm_mon_unbind(p);
	if (p->ops->unbind)
		p->ops->unbind(p);
	unm_vm_unbind(p);
	for (d = 0; d < 2; d++) {
		free(p->ring[d]);
		p->ring[d] = NULL;
		p->nrings[d] = 0;
	}
	map_put(p->map);
	p->map = NULL;
	for (k = 0; k < p->nefds; k++)
		unm_libc.close(p->efds[k]);
	p->nefds = 0;
	p->bound = false;
}

int unm_dev_close(struct unm_port *p, int fd)
{
	int rc;

	unm_port_remove(fd);
	rc = unm_libc.close(fd);
	if (atomic_fetch_sub(&p->refs, 1) > 1)
		return rc;
	unm_epoll_forget_port(p);
	unm_dev_unbind_local(p);
	unm_libc.close(p->wake_ep);
	/* closing the last copy of the connection is what unbinds us in
	 * netmapd (copies inherited across fork() count too) */
	unm_libc.close(p->fd);
	pthread_mutex_destroy(&p->ctl_lock);
	free(p);
	return rc;
}

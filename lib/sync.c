/*
 * sync.c - txsync and rxsync: netmap's "kernel" half of the ring protocol,
 * run inside ioctl(NIOC*SYNC) and poll() in the application's process.
 *
 * Common part (this file): the per-ring sync lock, the prologue that
 * validates head and cur as the kernel does (and reinitialises the ring
 * on a violation), and the epilogue that exposes the new tail.  The
 * per-kind part (what the "hardware" does) is in sync_pipe.c and
 * sync_null.c.
 *
 * Ring state other processes may scribble on is read once and checked
 * against the trusted slot count before any index is used.
 */
#include <errno.h>
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include "internal.h"

/*
 * Several descriptors (maybe in several processes) may bind one ring; like
 * netmap's nm_kr_tryget(), a sync that finds another in progress on the
 * same ring skips it.  A holder that died keeps the lock; the next sync
 * notices (kill(pid, 0)) and takes it over.
 */
static uint32_t my_pid;

/* getpid() is a system call; the sync path must not make any */
static void refresh_pid(void)
{
	my_pid = (uint32_t)getpid();
}

__attribute__((constructor)) static void sync_init(void)
{
	refresh_pid();
	pthread_atfork(NULL, NULL, refresh_pid);
}

static bool ring_trylock(struct unm_ring *r)
{
	uint32_t me = my_pid, cur = 0;

	/* A: acquires the kring state published by the previous owner's
	 * release in ring_unlock() */
	if (atomic_compare_exchange_strong_explicit(&r->ctl->lock, &cur, me,
						    memory_order_acquire, memory_order_relaxed))
		return true;
	if (cur != me && cur != 0 && kill((pid_t)cur, 0) < 0 && errno == ESRCH)
		return atomic_compare_exchange_strong_explicit(&r->ctl->lock, &cur, me,
							       memory_order_acquire,
							       memory_order_relaxed);
	return false;
}

static void ring_unlock(struct unm_ring *r)
{
	/* R: publishes the kring state to the next owner */
	atomic_store_explicit(&r->ctl->lock, 0, memory_order_release);
}

/* Wake the other side if it said it was going to sleep. */
void unm_kick(struct unm_ring *r, _Atomic uint32_t *sleep_flag)
{
	uint64_t one = 1;

	/* F: orders our index store (release, by the caller) before the
	 * flag load; pairs with the sleeper's fence between its flag store
	 * and its index re-check (unm_port_arm). */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(sleep_flag, memory_order_relaxed) &&
	    atomic_exchange_explicit(sleep_flag, 0, memory_order_relaxed) && r->kick_fd >= 0) {
		if (write(r->kick_fd, &one, sizeof(one)) < 0) {
			/* EAGAIN: counter saturated, the sleeper is awake anyway */
		}
	}
}

/* netmap_ring_reinit(): put the ring back to the kernel's view. */
static void ring_reinit(struct unm_ring *r, uint32_t hwcur, uint32_t hwtail)
{
	struct netmap_ring *ring = r->ring;
	uint32_t k;

	for (k = 0; k < r->n; k++) {
		struct netmap_slot *s = &ring->slot[k];
		uint32_t idx = s->buf_idx;

		if (idx < 2 || idx >= r->buf_total) {
			s->buf_idx = 0;
			s->len = 0;
		} else if (s->len > r->buf_size) {
			s->len = 0;
		}
	}
	ring->head = ring->cur = hwcur;
	ring->tail = hwtail;
	r->ctl->rhead = r->ctl->rcur = hwcur;
	r->ctl->errors++;
}

/* The kring indices live in shared memory: a value out of range means the
 * application scribbled over its own control block. */
static void kring_load(struct unm_ring *r, uint32_t *hwcur, uint32_t *hwtail, uint32_t *rhead)
{
	uint32_t n = r->n;

	*hwcur = r->ctl->hwcur;
	*hwtail = r->ctl->hwtail;
	*rhead = r->ctl->rhead;
	if (*hwcur >= n || *hwtail >= n || *rhead >= n) {
		*hwcur = *hwcur < n ? *hwcur : 0;
		*hwtail = *hwtail < n ? *hwtail : (r->dir == UNM_DIR_TX ? unm_idx_prev(*hwcur, n) : *hwcur);
		*rhead = *hwcur;
		r->ctl->hwcur = *hwcur;
		r->ctl->hwtail = *hwtail;
	}
}

/*
 * One sync of one ring.  The prologue is netmap's: TX head must lie in
 * [rhead, tail] (it cannot go back nor pass tail), RX head in [hwcur,
 * tail]; cur in [head, tail] for both.  A violation reinitialises the
 * ring; netmap then skips a txsync but still performs an rxsync.
 */
static int ring_sync(struct unm_ring *r, bool tx)
{
	struct netmap_ring *ring = r->ring;
	uint32_t n = r->n, head, cur, hwcur, hwtail, rhead;
	int err = 0;

	if (n == 0 || !ring_trylock(r))
		return 0;
	kring_load(r, &hwcur, &hwtail, &rhead);
	head = *(volatile uint32_t *)&ring->head;
	cur = *(volatile uint32_t *)&ring->cur;
	if (!unm_idx_between(tx ? rhead : hwcur, head, hwtail, n) ||
	    !unm_idx_between(head, cur, hwtail, n)) {
		ring_reinit(r, hwcur, hwtail);
		err = -EIO;
		if (tx)
			goto out;
		head = cur = hwcur;
	}
	if (tx) {
		err = r->port->ops->txsync(r, head);
	} else {
		int kerr = r->port->ops->rxsync(r, head);

		if (kerr < 0)	/* the device failed (NIC down, gone) */
			err = kerr;
		/* netmap stamps every rxsync; we stamp those that bring
		 * packets, which is what the stamp is read for, and keep
		 * empty polls cheap */
		if (ring->tail != r->ctl->hwtail)
			gettimeofday(&ring->ts, NULL);
	}
	r->ctl->rhead = head;
	r->ctl->rcur = cur;
	ring->tail = r->ctl->hwtail;
out:
	ring_unlock(r);
	return err;
}

int unm_txsync(struct unm_ring *r)
{
	return ring_sync(r, true);
}

int unm_rxsync(struct unm_ring *r)
{
	return ring_sync(r, false);
}

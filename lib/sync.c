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
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/*
 * Several descriptors (maybe in several processes) may bind one ring; like
 * netmap's nm_kr_tryget(), a sync that finds another in progress on the
 * same ring skips it.  The lock word names its owner by pid and process
 * start time, so that a holder that died -- even one that is a zombie
 * nobody reaped yet, or whose pid was reused since -- is recognised and
 * its lock taken over.  Checking costs a read of /proc, so it is done
 * only once the same owner has been seen holding the lock for a while:
 * legitimate contention (two live processes syncing one ring) costs
 * nothing but the skipped sync.  netmapd also clears the lock of a ring
 * nobody binds any more.
 */
#define LOCK_STALE_NS 1000000ull	/* holder seen this long: is it alive? */

static uint64_t my_lock_id;

/* Field 22 of /proc/PID/stat (start time in clock ticks, low 32 bits) and
 * field 3 (state).  Returns false if the process does not exist. */
static bool proc_stat(pid_t pid, uint32_t *start, char *state)
{
	char path[40], buf[512], *p;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno != ENOENT && errno != ESRCH;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* the command name may hold spaces and parentheses: skip to the
	 * last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return true;
	*state = p[2];
	for (field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	*start = p ? (uint32_t)strtoull(p + 1, NULL, 10) : 0;
	return true;
}

/* getpid() is a system call; the sync path must not make any */
static void refresh_lock_id(void)
{
	pid_t pid = getpid();
	uint32_t start = 0;
	char state;

	proc_stat(pid, &start, &state);
	my_lock_id = (uint32_t)pid | (uint64_t)start << 32;
}

__attribute__((constructor)) static void sync_init(void)
{
	refresh_lock_id();
	pthread_atfork(NULL, NULL, refresh_lock_id);
}

/* Is the owner of lock word `id` gone for good? */
static bool holder_dead(uint64_t id)
{
	pid_t pid = (pid_t)(uint32_t)id;
	uint32_t start = 0, want = (uint32_t)(id >> 32);
	char state = 0;

	if (pid <= 0)
		return true;	/* no process ever wrote that */
	if (!proc_stat(pid, &start, &state))
		return true;
	if (state == 'Z' || state == 'X')
		return true;	/* exited, not reaped yet */
	return want && start != want;	/* the pid was reused */
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool ring_trylock(struct unm_ring *r)
{
	uint64_t me = my_lock_id, cur = 0, t;

	/* A: acquires the kring state published by the previous owner's
	 * release in ring_unlock() */
	if (atomic_compare_exchange_strong_explicit(&r->ctl->lock, &cur, me,
						    memory_order_acquire, memory_order_relaxed))
		return true;
	if (cur == me)
		return false;	/* another thread of ours: skip, as netmap */
	t = now_ns();
	if (cur != r->busy_owner) {
		r->busy_owner = cur;
		r->busy_since = t;
		return false;
	}
	if (t - r->busy_since < LOCK_STALE_NS)
		return false;
	r->busy_since = t;
	if (!holder_dead(cur))
		return false;
	return atomic_compare_exchange_strong_explicit(&r->ctl->lock, &cur, me,
						       memory_order_acquire, memory_order_relaxed);
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
	    atomic_exchange_explicit(sleep_flag, 0, memory_order_relaxed)) {
		if (r->bell_on) {
			/* in a guest: the host's eventfd is behind the doorbell */
			unm_vm_kick(r);
		} else if (r->kick_fd >= 0 && write(r->kick_fd, &one, sizeof(one)) < 0) {
			/* EAGAIN: counter saturated, the sleeper is awake anyway */
		}
	}
}

/* netmap_ring_reinit(): put the ring back to the kernel's view. */
static void ring_reinit(struct unm_ring *r, const struct unm_kring *k)
{
	struct netmap_ring *ring = r->ring;
	uint32_t i;

	for (i = 0; i < r->n; i++) {
		struct netmap_slot *s = &ring->slot[i];
		uint32_t idx = s->buf_idx;

		if (idx < 2 || idx >= r->buf_total) {
			s->buf_idx = 0;
			s->len = 0;
		} else if (s->len > r->buf_size) {
			s->len = 0;
		}
	}
	ring->head = ring->cur = k->hwcur;
	ring->tail = k->hwtail;
	r->ctl->rhead = r->ctl->rcur = k->hwcur;
	r->ctl->errors++;
}

/* Shared memory another party may be rewriting right now: one load. */
#define LOAD_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/*
 * Load the kring state into k, once, and make it consistent with the
 * trusted slot count.  An index out of range means somebody scribbled on
 * the control block (the application itself, or a peer sharing the
 * region); the ring restarts from the last position that still makes
 * sense.  Everything after this uses k only.
 */
static void kring_load(struct unm_ring *r, struct unm_kring *k, uint32_t *rhead)
{
	struct unm_ring_ctl *ctl = r->ctl;
	uint32_t n = r->n, i;

	k->hwcur = LOAD_ONCE(ctl->hwcur);
	k->hwtail = LOAD_ONCE(ctl->hwtail);
	*rhead = LOAD_ONCE(ctl->rhead);
	for (i = 0; i < 4; i++)
		k->kx[i] = LOAD_ONCE(ctl->kx[i]);
	if (k->hwcur >= n || k->hwtail >= n || *rhead >= n) {
		k->hwcur = k->hwcur < n ? k->hwcur : 0;
		if (k->hwtail >= n)
			k->hwtail = r->dir == UNM_DIR_TX ? unm_idx_prev(k->hwcur, n) : k->hwcur;
		*rhead = k->hwcur;
	}
}

static void kring_store(struct unm_ring *r, const struct unm_kring *k)
{
	struct unm_ring_ctl *ctl = r->ctl;
	uint32_t i;

	STORE_ONCE(ctl->hwcur, k->hwcur);
	STORE_ONCE(ctl->hwtail, k->hwtail);
	for (i = 0; i < 4; i++)
		STORE_ONCE(ctl->kx[i], k->kx[i]);
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
	uint32_t n = r->n, head, cur, rhead;
	struct unm_kring k;
	int err = 0;

	if (n == 0)
		return 0;
	/* A: pairs with netmapd's release when it revokes the binding */
	if (__builtin_expect(atomic_load_explicit(&r->ctl->state, memory_order_acquire) &
			     UNM_RING_REVOKED, 0))
		return -ENXIO;
	if (!ring_trylock(r))
		return 0;
	/* monitors came or went: ask netmapd which this ring feeds now (one
	 * shared load per sync; the round trip is rare) */
	if (__builtin_expect(atomic_load_explicit(&r->ctl->mon_gen, memory_order_relaxed) !=
			     r->mon_seen, 0))
		unm_mon_refresh(r);
	kring_load(r, &k, &rhead);
	head = LOAD_ONCE(ring->head);
	cur = LOAD_ONCE(ring->cur);
	if (!unm_idx_between(tx ? rhead : k.hwcur, head, k.hwtail, n) ||
	    !unm_idx_between(head, cur, k.hwtail, n)) {
		ring_reinit(r, &k);
		err = -EIO;
		if (tx)
			goto out;
		head = cur = k.hwcur;
	}
	/* a ring that feeds monitors syncs through mon.c, which mirrors
	 * around the kind's sync */
	if (tx) {
		err = __builtin_expect(r->mon != NULL, 0) ? unm_mon_txsync(r, &k, head) :
			r->port->ops->txsync(r, &k, head);
	} else {
		uint32_t old_tail = k.hwtail;
		int kerr = __builtin_expect(r->mon != NULL, 0) ? unm_mon_rxsync(r, &k, head) :
			r->port->ops->rxsync(r, &k, head);

		if (kerr < 0)	/* the device failed (NIC down, gone) */
			err = kerr;
		/* netmap stamps every rxsync; we stamp those that bring
		 * packets, which is what the stamp is read for, and keep
		 * empty polls cheap */
		if (k.hwtail != old_tail)
			gettimeofday(&ring->ts, NULL);
	}
	kring_store(r, &k);
	STORE_ONCE(r->ctl->rhead, head);
	STORE_ONCE(r->ctl->rcur, cur);
	ring->tail = k.hwtail;
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

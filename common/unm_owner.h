/*
 * unm_owner.h - naming the holder of a lock word in shared memory, and
 * recognising a holder that died.  Used by the monitor producers
 * (common/unm_mon.c), in libnetmap and in netmapd alike.  Not a public
 * header.
 *
 * An owner id is pid | (process start time, in clock ticks) << 32: the
 * start time tells a live process from a dead one whose pid was reused.
 */
#ifndef UNM_OWNER_H
#define UNM_OWNER_H

#include <stdbool.h>
#include <stdint.h>

/*
 * unm_owner_self - this process's owner id.  Computed once, and again in
 * the child after fork(); reading it makes no system call.
 */
uint64_t unm_owner_self(void);

/*
 * unm_owner_dead - has the process that wrote owner id `id` gone for
 * good (exited, a zombie, or its pid reused since)?  Reads /proc: call it
 * rarely, after the same owner has been seen holding a lock for a while.
 * An id no process can have (pid 0) counts as dead.
 */
bool unm_owner_dead(uint64_t id);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t unm_owner_now_ns(void);

#endif /* UNM_OWNER_H */

/*
 * dev_table.c - which descriptors are netmap port descriptors.
 *
 * Every interposed libc call asks this first, so lookups are lock-free:
 * a two-level table (1024 chunks of 1024 entries) whose chunks are
 * allocated on first use and never freed or moved.  Writers serialise on
 * a mutex.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

#define CHUNK_BITS 10
#define CHUNK      (1u << CHUNK_BITS)
#define NCHUNKS    1024u

static _Atomic(struct unm_port *) *_Atomic table[NCHUNKS];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int nports;

struct unm_port *unm_port_lookup(int fd)
{
	_Atomic(struct unm_port *) *chunk;

	if (fd < 0 || (unsigned)fd >= CHUNK * NCHUNKS ||
	    atomic_load_explicit(&nports, memory_order_relaxed) == 0)
		return NULL;
	/* A: pairs with the release stores in unm_port_insert() */
	chunk = atomic_load_explicit(&table[(unsigned)fd >> CHUNK_BITS], memory_order_acquire);
	if (!chunk)
		return NULL;
	return atomic_load_explicit(&chunk[(unsigned)fd & (CHUNK - 1)], memory_order_acquire);
}

bool unm_any_ports(void)
{
	return atomic_load_explicit(&nports, memory_order_relaxed) != 0;
}

/* Make fd (an application descriptor) refer to port p. */
int unm_port_insert_ref(struct unm_port *p, int fd)
{
	_Atomic(struct unm_port *) *chunk;
	unsigned c;

	if (fd < 0 || (unsigned)fd >= CHUNK * NCHUNKS)
		return -EMFILE;
	c = (unsigned)fd >> CHUNK_BITS;
	pthread_mutex_lock(&table_lock);
	chunk = atomic_load_explicit(&table[c], memory_order_relaxed);
	if (!chunk) {
		chunk = calloc(CHUNK, sizeof(*chunk));
		if (!chunk) {
			pthread_mutex_unlock(&table_lock);
			return -ENOMEM;
		}
		/* R: publishes the zeroed chunk to lookups */
		atomic_store_explicit(&table[c], chunk, memory_order_release);
	}
	/* R: publishes the initialised port to lookups */
	atomic_fetch_add(&p->refs, 1);
	atomic_store_explicit(&chunk[(unsigned)fd & (CHUNK - 1)], p, memory_order_release);
	atomic_fetch_add(&nports, 1);
	pthread_mutex_unlock(&table_lock);
	return 0;
}

void unm_port_remove(int fd)
{
	_Atomic(struct unm_port *) *chunk;

	if (fd < 0 || (unsigned)fd >= CHUNK * NCHUNKS)
		return;
	pthread_mutex_lock(&table_lock);
	chunk = atomic_load_explicit(&table[(unsigned)fd >> CHUNK_BITS], memory_order_relaxed);
	if (chunk && atomic_load_explicit(&chunk[(unsigned)fd & (CHUNK - 1)],
					  memory_order_relaxed)) {
		atomic_store_explicit(&chunk[(unsigned)fd & (CHUNK - 1)], NULL,
				      memory_order_release);
		atomic_fetch_sub(&nports, 1);
	}
	pthread_mutex_unlock(&table_lock);
}

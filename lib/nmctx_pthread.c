/*
 * nmctx_pthread.c - the thread-safe default context.
 *
 * libnetmap.h contains a static, always-emitted function that stores into
 * nmctx_threadsafe unless the application defines LIBNETMAP_NOTHREADSAFE.
 * That reference is what pulls this object out of the static library; once
 * it is linked in, the constructor below replaces the default context with
 * a copy whose lock() callback takes a pthread mutex, so that ports opened
 * from several threads can share the list of mapped regions safely.
 */

#ifndef UNM_EXPORT
#define UNM_EXPORT __attribute__((visibility("default")))
#endif

#include <pthread.h>
#include <stddef.h>

#define LIBNETMAP_NOTHREADSAFE	/* we define the symbol, no need to use it */
#include <libnetmap.h>

/*
 * Link-time anchor referenced by libnetmap_init() in libnetmap.h (which
 * also declares it).  Its value is never read.
 */
UNM_EXPORT int nmctx_threadsafe;

/*
 * One mutex for the whole process.  The lock callback ignores its ctx
 * argument on purpose: applications copy the default context and change a
 * callback or two (ctrl-api-test does), and such a copy must still lock
 * safely instead of looking for a mutex beside a struct that has none.
 */
static pthread_mutex_t unm_nmctx_mutex = PTHREAD_MUTEX_INITIALIZER;

static struct nmctx unm_nmctx_mt;

static void
unm_nmctx_pthread_lock(struct nmctx *ctx, int lock)
{
	(void)ctx;
	if (lock)
		pthread_mutex_lock(&unm_nmctx_mutex);
	else
		pthread_mutex_unlock(&unm_nmctx_mutex);
}

/*
 * nmctx_set_threadsafe - install a thread-safe default context
 *
 * The new default is a copy of the current one (same verbosity, error,
 * malloc and free callbacks, empty region list) with a mutex-based lock()
 * callback.  Calling it again once installed does nothing, so applications
 * (tlem) may call it explicitly even though the constructor already did.
 */
UNM_EXPORT void
nmctx_set_threadsafe(void)
{
	struct nmctx *cur = nmctx_get();

	if (cur == &unm_nmctx_mt)
		return;
	unm_nmctx_mt = *cur;
	unm_nmctx_mt.lock = unm_nmctx_pthread_lock;
	/*
	 * Regions already mapped through the old context stay on the old
	 * context's list (their descriptors point there); sharing list nodes
	 * between two heads would corrupt both.
	 */
	unm_nmctx_mt.mem_descs = NULL;
	nmctx_set_default(&unm_nmctx_mt);
}

static void __attribute__((constructor))
unm_nmctx_pthread_init(void)
{
	nmctx_set_threadsafe();
}

/*
 * nmctx.c - libnetmap contexts: where errors, memory and locking go.
 *
 * The library never prints anything by itself and never calls malloc()
 * directly: every message, allocation and lock of the shared region list
 * goes through the callbacks of a struct nmctx.  A context is chosen when a
 * port descriptor is created (nmport_new() uses the current default) and
 * stays with that descriptor for its whole life.
 *
 * The built-in default context is verbose, prints each message followed by
 * a newline on stderr, allocates with the C library and has no lock (see
 * nmctx_pthread.c for the thread-safe variant that is installed when the
 * application links it in).
 */

#ifndef UNM_EXPORT
#define UNM_EXPORT __attribute__((visibility("default")))
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define LIBNETMAP_NOTHREADSAFE	/* this object must not drag in pthreads */
#include <libnetmap.h>

/*
 * Longest message nmctx_ferror() delivers, terminating NUL included.
 * Longer ones are replaced by a fixed notice rather than cut, so that a
 * reader never mistakes a truncated message for a complete one.
 */
#define UNM_NMCTX_MAXMSG	1000

static void
unm_nmctx_default_error(struct nmctx *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s\n", msg);
}

static void *
unm_nmctx_default_malloc(struct nmctx *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void
unm_nmctx_default_free(struct nmctx *ctx, void *p)
{
	(void)ctx;
	free(p);
}

static struct nmctx unm_nmctx_builtin = {
	.verbose = 1,
	.error = unm_nmctx_default_error,
	.malloc = unm_nmctx_default_malloc,
	.free = unm_nmctx_default_free,
	.lock = NULL,
	.mem_descs = NULL,
};

/*
 * The current default context.  Changed only by nmctx_set_default(), which
 * (like upstream) is meant to be called at start-up, before ports are
 * opened from several threads.
 */
static struct nmctx *unm_nmctx_current = &unm_nmctx_builtin;

/*
 * nmctx_get - return the current default context
 *
 * Never returns NULL.
 */
UNM_EXPORT struct nmctx *
nmctx_get(void)
{
	return unm_nmctx_current;
}

/*
 * nmctx_set_default - make @ctx the default context
 * @ctx		the new default; NULL restores the built-in context
 *
 * Descriptors created before the call keep the context they were created
 * with.  Returns the previous default context.
 */
UNM_EXPORT struct nmctx *
nmctx_set_default(struct nmctx *ctx)
{
	struct nmctx *old = unm_nmctx_current;

	unm_nmctx_current = (ctx != NULL) ? ctx : &unm_nmctx_builtin;
	return old;
}

/*
 * nmctx_ferror - format a message and hand it to @ctx->error()
 * @ctx		the context (nothing happens if ctx->verbose is 0)
 * @fmt		printf-style format, followed by its arguments
 *
 * Messages are formatted into a buffer of UNM_NMCTX_MAXMSG bytes; a message
 * that does not fit is replaced by "error message too long".  errno is
 * preserved, so callers may set it before reporting.
 */
UNM_EXPORT void
nmctx_ferror(struct nmctx *ctx, const char *fmt, ...)
{
	char msg[UNM_NMCTX_MAXMSG];
	int saved_errno = errno;
	va_list ap;
	int n;

	if (ctx == NULL || !ctx->verbose || ctx->error == NULL)
		return;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (n < 0)
		ctx->error(ctx, "error message could not be formatted");
	else if ((size_t)n >= sizeof(msg))
		ctx->error(ctx, "error message too long");
	else
		ctx->error(ctx, msg);

	errno = saved_errno;
}

/*
 * nmctx_malloc - allocate @size bytes through @ctx->malloc()
 *
 * Falls back to the C library if the context has no malloc callback.
 * Returns NULL (errno from the allocator) on failure.
 */
UNM_EXPORT void *
nmctx_malloc(struct nmctx *ctx, size_t size)
{
	if (ctx->malloc == NULL)
		return malloc(size);
	return ctx->malloc(ctx, size);
}

/*
 * nmctx_free - release memory obtained from nmctx_malloc() on the same ctx
 */
UNM_EXPORT void
nmctx_free(struct nmctx *ctx, void *p)
{
	if (ctx->free == NULL) {
		free(p);
		return;
	}
	ctx->free(ctx, p);
}

/*
 * nmctx_lock - take the lock protecting @ctx->mem_descs (no-op without one)
 */
UNM_EXPORT void
nmctx_lock(struct nmctx *ctx)
{
	if (ctx->lock != NULL)
		ctx->lock(ctx, 1);
}

/*
 * nmctx_unlock - release the lock taken by nmctx_lock()
 */
UNM_EXPORT void
nmctx_unlock(struct nmctx *ctx)
{
	if (ctx->lock != NULL)
		ctx->lock(ctx, 0);
}

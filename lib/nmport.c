/*
 * nmport.c - struct nmport_d: open a netmap port from a portspec.
 *
 * Opening is split into four steps, each with its inverse:
 *
 *   nmport_new()       allocate, hdr = REGISTER request on d->reg   (delete)
 *   nmport_parse()     portspec -> hdr.nr_name, reg, options         (undo_parse)
 *   nmport_register()  open /dev/netmap + NIOCCTRL                  (undo_register)
 *   nmport_mmap()      map the region, find the bound rings          (undo_mmap)
 *
 * nmport_prepare = new + parse, nmport_open_desc = register + mmap,
 * nmport_open = prepare + open_desc.  Whatever parse (or the extmem/offset
 * helpers) attaches to a descriptor (options, mapped files) is recorded on a
 * LIFO cleanup list, so undoing runs in reverse order and a call that fails
 * half-way leaves nothing behind.
 *
 * The device calls (open, ioctl, mmap, close on NETMAP_DEVICE_NAME) are the
 * plain libc ones: in unetmap they are served by the emulated device layer
 * of this same library, exactly as the kernel serves them for netmap.
 *
 * Regions are shared per context: two descriptors of one nmctx that got the
 * same mem_id point to the same struct nmem_d, which is mapped once and
 * reference counted.  The list lives in ctx->mem_descs and is only touched
 * with the context lock held.
 */

#ifndef UNM_EXPORT
#define UNM_EXPORT __attribute__((visibility("default")))
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#define LIBNETMAP_NOTHREADSAFE	/* this object must not drag in pthreads */
#include <libnetmap.h>

#include "unm_nic.h"
#include "unm_reason.h"

/* -------------------------------------------------------------------------
 * cleanup list
 */

/* one undo action; specific actions embed this as their first member */
struct nmport_cleanup_d {
	struct nmport_cleanup_d *next;
	void (*cleanup)(struct nmport_cleanup_d *, struct nmport_d *);
};

static void
unm_nmport_push_cleanup(struct nmport_d *d, struct nmport_cleanup_d *c)
{
	c->next = d->clist;
	d->clist = c;
}

/* run and free the most recent cleanup action */
static void
unm_nmport_pop_cleanup(struct nmport_d *d)
{
	struct nmport_cleanup_d *top = d->clist;

	d->clist = top->next;
	top->cleanup(top, d);
	nmctx_free(d->ctx, top);
}

static void
unm_nmport_do_cleanup(struct nmport_d *d)
{
	while (d->clist != NULL)
		unm_nmport_pop_cleanup(d);
}

/* -------------------------------------------------------------------------
 * descriptor lifetime
 */

static struct nmport_d *
unm_nmport_new(struct nmctx *ctx)
{
	struct nmport_d *d;

	d = nmctx_malloc(ctx, sizeof(*d));
	if (d == NULL) {
		nmctx_ferror(ctx, "cannot allocate nmport descriptor");
		errno = ENOMEM;
		return NULL;
	}
	memset(d, 0, sizeof(*d));
	nmreq_header_init(&d->hdr, NETMAP_REQ_REGISTER, &d->reg);
	d->ctx = ctx;
	d->fd = -1;
	return d;
}

/*
 * nmport_new - allocate an empty port descriptor
 *
 * The descriptor uses the current default context; its hdr is a REGISTER
 * request whose body is d->reg, and d->fd is -1.  Returns NULL with errno
 * ENOMEM (and a message) on failure.
 */
UNM_EXPORT struct nmport_d *
nmport_new(void)
{
	return unm_nmport_new(nmctx_get());
}

/*
 * nmport_delete - free a descriptor allocated by nmport_new()
 *
 * Undoes nothing else: use nmport_close() for an opened descriptor.
 */
UNM_EXPORT void
nmport_delete(struct nmport_d *d)
{
	if (d == NULL)
		return;
	nmctx_free(d->ctx, d);
}

/* -------------------------------------------------------------------------
 * extmem
 */

static void
unm_nmport_extmem_cleanup(struct nmport_cleanup_d *c, struct nmport_d *d)
{
	(void)c;
	if (d->extmem == NULL)
		return;
	nmreq_remove_option(&d->hdr, &d->extmem->nro_opt);
	nmctx_free(d->ctx, d->extmem);
	d->extmem = NULL;
}

/* common preconditions of nmport_extmem() and nmport_extmem_from_file() */
static int
unm_nmport_extmem_check(struct nmport_d *d)
{
	if (d->register_done) {
		nmctx_ferror(d->ctx, "%s: cannot set extmem of an already "
		    "registered port", d->hdr.nr_name);
		errno = EINVAL;
		return -1;
	}
	if (d->extmem != NULL) {
		nmctx_ferror(d->ctx, "%s: extmem already in use",
		    d->hdr.nr_name);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/*
 * nmport_extmem - make the port use application-provided memory
 * @d		a parsed, not yet registered descriptor
 * @base	start of the memory
 * @size	its size in bytes
 *
 * Pushes a NETMAP_REQ_OPT_EXTMEM option (nro_usrptr = @base,
 * nro_info.nr_memsize = @size, all pool parameters 0 = defaults) onto
 * d->hdr; nmport_extmem_getinfo() gives access to the pool parameters.
 * Undone by nmport_undo_parse()/nmport_close().
 *
 * Returns 0 on success.  On failure returns -1 with errno EINVAL (already
 * registered, extmem already set) or ENOMEM, sends a message to the
 * context's error() and leaves *@d unchanged.
 */
UNM_EXPORT int
nmport_extmem(struct nmport_d *d, void *base, size_t size)
{
	struct nmctx *ctx = d->ctx;
	struct nmport_cleanup_d *c;
	struct nmreq_opt_extmem *e;

	if (unm_nmport_extmem_check(d) < 0)
		return -1;

	c = nmctx_malloc(ctx, sizeof(*c));
	e = nmctx_malloc(ctx, sizeof(*e));
	if (c == NULL || e == NULL) {
		if (c != NULL)
			nmctx_free(ctx, c);
		if (e != NULL)
			nmctx_free(ctx, e);
		nmctx_ferror(ctx, "%s: cannot allocate extmem option",
		    d->hdr.nr_name);
		errno = ENOMEM;
		return -1;
	}
	memset(e, 0, sizeof(*e));
	e->nro_opt.nro_reqtype = NETMAP_REQ_OPT_EXTMEM;
	e->nro_usrptr = (uint64_t)(uintptr_t)base;
	e->nro_info.nr_memsize = size;

	nmreq_push_option(&d->hdr, &e->nro_opt);
	d->extmem = e;
	c->cleanup = unm_nmport_extmem_cleanup;
	unm_nmport_push_cleanup(d, c);
	return 0;
}

struct unm_nmport_file_cleanup {
	struct nmport_cleanup_d up;
	void *addr;
	size_t size;
};

static void
unm_nmport_file_cleanup(struct nmport_cleanup_d *c, struct nmport_d *d)
{
	struct unm_nmport_file_cleanup *fc =
	    (struct unm_nmport_file_cleanup *)c;

	(void)d;
	munmap(fc->addr, fc->size);
}

/*
 * nmport_extmem_from_file - use a shared mapping of @fname as extmem
 * @d		a parsed, not yet registered descriptor
 * @fname	file to map (e.g. on hugetlbfs), read-write, whole length
 *
 * Like nmport_extmem() on the mapping; the file is unmapped again by
 * nmport_undo_parse()/nmport_close().
 *
 * Returns 0 on success.  On failure returns -1 with errno set (EINVAL,
 * ENOMEM, or the errno of open/lseek/mmap), sends a message to the
 * context's error() and leaves *@d unchanged.
 */
UNM_EXPORT int
nmport_extmem_from_file(struct nmport_d *d, const char *fname)
{
	struct nmctx *ctx = d->ctx;
	struct unm_nmport_file_cleanup *fc;
	off_t len;
	void *p;
	int fd, err;

	if (unm_nmport_extmem_check(d) < 0)
		return -1;

	fc = nmctx_malloc(ctx, sizeof(*fc));
	if (fc == NULL) {
		nmctx_ferror(ctx, "cannot allocate cleanup descriptor");
		errno = ENOMEM;
		return -1;
	}

	fd = open(fname, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		nmctx_ferror(ctx, "cannot open '%.400s': %s", fname, strerror(err));
		goto fail_free;
	}
	len = lseek(fd, 0, SEEK_END);
	if (len < 0) {
		err = errno;
		nmctx_ferror(ctx, "failed to obtain the size of '%.400s': %s",
		    fname, strerror(err));
		goto fail_close;
	}
	if (len == 0) {
		err = EINVAL;
		nmctx_ferror(ctx, "cannot use empty file '%.400s' as extmem", fname);
		goto fail_close;
	}
	p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = errno;
		nmctx_ferror(ctx, "cannot mmap '%.400s': %s", fname, strerror(err));
		goto fail_close;
	}
	close(fd);

	fc->addr = p;
	fc->size = (size_t)len;
	fc->up.cleanup = unm_nmport_file_cleanup;
	unm_nmport_push_cleanup(d, &fc->up);

	if (nmport_extmem(d, p, (size_t)len) < 0) {
		err = errno;
		unm_nmport_pop_cleanup(d);	/* munmap, free fc */
		errno = err;
		return -1;
	}
	return 0;

fail_close:
	close(fd);
fail_free:
	nmctx_free(ctx, fc);
	errno = err;
	return -1;
}

/*
 * nmport_extmem_getinfo - pool parameters of the extmem option, or NULL
 *
 * Before registration the application may adjust them; after registration
 * they hold the values the port actually uses.
 */
UNM_EXPORT struct nmreq_pools_info *
nmport_extmem_getinfo(struct nmport_d *d)
{
	if (d->extmem == NULL)
		return NULL;
	return &d->extmem->nro_info;
}

/* -------------------------------------------------------------------------
 * offsets
 */

struct unm_nmport_offset_cleanup {
	struct nmport_cleanup_d up;
	struct nmreq_opt_offsets *opt;
};

static void
unm_nmport_offset_cleanup(struct nmport_cleanup_d *c, struct nmport_d *d)
{
	struct unm_nmport_offset_cleanup *oc =
	    (struct unm_nmport_offset_cleanup *)c;

	nmreq_remove_option(&d->hdr, &oc->opt->nro_opt);
	nmctx_free(d->ctx, oc->opt);
}

/*
 * nmport_offset - request per-slot buffer offsets
 * @d		a parsed, not yet registered descriptor
 * @initial	offset written into every slot by the port
 * @maxoff	largest offset the application will use
 * @bits	how many low bits of slot->ptr hold the offset (0 = all)
 * @mingap	minimum gap between offsets in shared buffers (0 = none)
 *
 * Pushes a NETMAP_REQ_OPT_OFFSETS option onto d->hdr, undone by
 * nmport_undo_parse()/nmport_close().
 *
 * Returns 0 on success, or -1 with errno ENOMEM (and a message), leaving
 * *@d unchanged.
 */
UNM_EXPORT int
nmport_offset(struct nmport_d *d, uint64_t initial, uint64_t maxoff,
		uint64_t bits, uint64_t mingap)
{
	struct nmctx *ctx = d->ctx;
	struct unm_nmport_offset_cleanup *oc;
	struct nmreq_opt_offsets *o;

	oc = nmctx_malloc(ctx, sizeof(*oc));
	o = nmctx_malloc(ctx, sizeof(*o));
	if (oc == NULL || o == NULL) {
		if (oc != NULL)
			nmctx_free(ctx, oc);
		if (o != NULL)
			nmctx_free(ctx, o);
		nmctx_ferror(ctx, "%s: cannot allocate offset option",
		    d->hdr.nr_name);
		errno = ENOMEM;
		return -1;
	}
	memset(o, 0, sizeof(*o));
	o->nro_opt.nro_reqtype = NETMAP_REQ_OPT_OFFSETS;
	o->nro_initial_offset = initial;
	o->nro_max_offset = maxoff;
	o->nro_offset_bits = (uint32_t)bits;
	o->nro_min_gap = mingap;

	nmreq_push_option(&d->hdr, &o->nro_opt);
	oc->opt = o;
	oc->up.cleanup = unm_nmport_offset_cleanup;
	unm_nmport_push_cleanup(d, &oc->up);
	return 0;
}

/* -------------------------------------------------------------------------
 * built-in portspec options: share, extmem, conf, offset
 */

/*
 * Strict unsigned decimal: digits only, no sign, no blanks, at most @max.
 * (Upstream uses atoi(); rejecting "abc" or "-1" instead of silently
 * turning them into 0 or a huge count gives the user a clear message.)
 */
static int
unm_nmport_opt_uint(struct nmreq_parse_ctx *p, const char *opt,
		const char *key, const char *val, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = val;

	if (*s == '\0')
		goto bad;
	for (; *s != '\0'; s++) {
		unsigned int digit;

		if (*s < '0' || *s > '9')
			goto bad;
		digit = (unsigned int)(*s - '0');
		if (v > (max - digit) / 10)
			goto bad;
		v = v * 10 + digit;
	}
	*out = v;
	return 0;
bad:
	nmctx_ferror(p->ctx, "option '%s': invalid value '%.200s' for key '%s' "
	    "(expected an integer in [0, %" PRIu64 "])", opt, val, key, max);
	errno = EINVAL;
	return -1;
}

static int unm_nmport_opt_share(struct nmreq_parse_ctx *);
static int unm_nmport_opt_extmem(struct nmreq_parse_ctx *);
static int unm_nmport_opt_conf(struct nmreq_parse_ctx *);
static int unm_nmport_opt_offset(struct nmreq_parse_ctx *);

enum { UNM_SHARE_PORT };
enum {
	UNM_EXTMEM_FILE, UNM_EXTMEM_IF_NUM, UNM_EXTMEM_IF_SIZE,
	UNM_EXTMEM_RING_NUM, UNM_EXTMEM_RING_SIZE, UNM_EXTMEM_BUF_NUM,
	UNM_EXTMEM_BUF_SIZE, UNM_EXTMEM_NKEYS
};
enum {
	UNM_CONF_RINGS, UNM_CONF_HOST_RINGS, UNM_CONF_SLOTS,
	UNM_CONF_TX_RINGS, UNM_CONF_RX_RINGS, UNM_CONF_HOST_TX_RINGS,
	UNM_CONF_HOST_RX_RINGS, UNM_CONF_TX_SLOTS, UNM_CONF_RX_SLOTS,
	UNM_CONF_NIC, UNM_CONF_NKEYS
};
enum { UNM_OFFSET_INITIAL, UNM_OFFSET_BITS, UNM_OFFSET_NKEYS };

#define UNM_KEY(name, id, fl)	[id] = { (name), (id), (fl) }
#define UNM_KEY_DEF		(NMREQ_OPTK_DEFAULT | NMREQ_OPTK_MUSTSET)

/*
 * The parsers form a static list; nmport_enable_option() and
 * nmport_disable_option() flip NMREQ_OPTF_DISABLED in place (not thread
 * safe, meant for program start-up, as upstream).
 */
static struct nmreq_opt_parser unm_nmport_opt_offset_desc = {
	.prefix = "offset",
	.parse = unm_nmport_opt_offset,
	.default_key = UNM_OFFSET_INITIAL,
	.nr_keys = UNM_OFFSET_NKEYS,
	.flags = NMREQ_OPTF_DISABLED,	/* needs application support */
	.next = NULL,
	.keys = {
		UNM_KEY("initial", UNM_OFFSET_INITIAL, UNM_KEY_DEF),
		UNM_KEY("bits", UNM_OFFSET_BITS, 0),
	},
};

static struct nmreq_opt_parser unm_nmport_opt_conf_desc = {
	.prefix = "conf",
	.parse = unm_nmport_opt_conf,
	.default_key = -1,	/* "@conf=N" is a syntax error, as upstream */
	.nr_keys = UNM_CONF_NKEYS,
	.flags = 0,
	.next = &unm_nmport_opt_offset_desc,
	.keys = {
		UNM_KEY("rings", UNM_CONF_RINGS, 0),
		UNM_KEY("host_rings", UNM_CONF_HOST_RINGS, 0),
		UNM_KEY("slots", UNM_CONF_SLOTS, 0),
		UNM_KEY("tx_rings", UNM_CONF_TX_RINGS, 0),
		UNM_KEY("rx_rings", UNM_CONF_RX_RINGS, 0),
		UNM_KEY("host_tx_rings", UNM_CONF_HOST_TX_RINGS, 0),
		UNM_KEY("host_rx_rings", UNM_CONF_HOST_RX_RINGS, 0),
		UNM_KEY("tx_slots", UNM_CONF_TX_SLOTS, 0),
		UNM_KEY("rx_slots", UNM_CONF_RX_SLOTS, 0),
		UNM_KEY("nic", UNM_CONF_NIC, 0),
	},
};

static struct nmreq_opt_parser unm_nmport_opt_extmem_desc = {
	.prefix = "extmem",
	.parse = unm_nmport_opt_extmem,
	.default_key = UNM_EXTMEM_FILE,
	.nr_keys = UNM_EXTMEM_NKEYS,
	.flags = 0,
	.next = &unm_nmport_opt_conf_desc,
	.keys = {
		UNM_KEY("file", UNM_EXTMEM_FILE, UNM_KEY_DEF),
		UNM_KEY("if_num", UNM_EXTMEM_IF_NUM, 0),
		UNM_KEY("if_size", UNM_EXTMEM_IF_SIZE, 0),
		UNM_KEY("ring_num", UNM_EXTMEM_RING_NUM, 0),
		UNM_KEY("ring_size", UNM_EXTMEM_RING_SIZE, 0),
		UNM_KEY("buf_num", UNM_EXTMEM_BUF_NUM, 0),
		UNM_KEY("buf_size", UNM_EXTMEM_BUF_SIZE, 0),
	},
};

static struct nmreq_opt_parser unm_nmport_opt_share_desc = {
	.prefix = "share",
	.parse = unm_nmport_opt_share,
	.default_key = UNM_SHARE_PORT,
	.nr_keys = 1,
	.flags = 0,
	.next = &unm_nmport_opt_extmem_desc,
	.keys = {
		UNM_KEY("port", UNM_SHARE_PORT, UNM_KEY_DEF),
	},
};

static struct nmreq_opt_parser *const unm_nmport_parsers =
    &unm_nmport_opt_share_desc;

/* @share=PORTSPEC: open in the memory region of another port */
static int
unm_nmport_opt_share(struct nmreq_parse_ctx *p)
{
	struct nmport_d *d = p->token;
	const char *port = p->keys[UNM_SHARE_PORT];
	int32_t mem_id;

	mem_id = nmreq_get_mem_id(&port, p->ctx);
	if (mem_id < 0)
		return -1;
	if (d->reg.nr_mem_id != 0 && d->reg.nr_mem_id != mem_id) {
		nmctx_ferror(p->ctx, "cannot set mem_id to %" PRId32
		    ", already set to %u", mem_id, (unsigned)d->reg.nr_mem_id);
		errno = EINVAL;
		return -1;
	}
	d->reg.nr_mem_id = (uint16_t)mem_id;
	return 0;
}

/* @extmem:file=PATH[,if-num=..,if-size=..,ring-num=..,ring-size=..,...] */
static int
unm_nmport_opt_extmem(struct nmreq_parse_ctx *p)
{
	struct nmport_d *d = p->token;
	struct nmreq_pools_info *pi;
	uint64_t v[UNM_EXTMEM_NKEYS] = { 0 };
	int i;

	/* validate every number before mapping anything */
	for (i = UNM_EXTMEM_IF_NUM; i < UNM_EXTMEM_NKEYS; i++) {
		if (p->keys[i] == NULL)
			continue;
		if (unm_nmport_opt_uint(p, "extmem",
		    unm_nmport_opt_extmem_desc.keys[i].key, p->keys[i],
		    UINT32_MAX, &v[i]) < 0)
			return -1;
	}
	if (nmport_extmem_from_file(d, p->keys[UNM_EXTMEM_FILE]) < 0)
		return -1;

	pi = &d->extmem->nro_info;
	pi->nr_if_pool_objtotal = (uint32_t)v[UNM_EXTMEM_IF_NUM];
	pi->nr_if_pool_objsize = (uint32_t)v[UNM_EXTMEM_IF_SIZE];
	pi->nr_ring_pool_objtotal = (uint32_t)v[UNM_EXTMEM_RING_NUM];
	pi->nr_ring_pool_objsize = (uint32_t)v[UNM_EXTMEM_RING_SIZE];
	pi->nr_buf_pool_objtotal = (uint32_t)v[UNM_EXTMEM_BUF_NUM];
	pi->nr_buf_pool_objsize = (uint32_t)v[UNM_EXTMEM_BUF_SIZE];
	return 0;
}

/*
 * @conf:key=N,...  ring and slot counts requested for a port created by
 * this open.  Generic keys (rings, host_rings, slots) are applied first,
 * so the specific ones (tx_rings, ...) override them whatever their order
 * in the spec.  unetmap adds nic=MODE for netmap:IFNAME (auto, or native,
 * generic, emulated, zerocopy, copy joined with '+'; NR_UNM_NIC_*).
 */
static int
unm_nmport_opt_conf(struct nmreq_parse_ctx *p)
{
	struct nmport_d *d = p->token;
	uint64_t v[UNM_CONF_NKEYS] = { 0 };
	int i;

	for (i = 0; i < UNM_CONF_NKEYS; i++) {
		uint64_t max;

		if (p->keys[i] == NULL || i == UNM_CONF_NIC)
			continue;
		max = (i == UNM_CONF_SLOTS || i == UNM_CONF_TX_SLOTS ||
		    i == UNM_CONF_RX_SLOTS) ? UINT32_MAX : UINT16_MAX;
		if (unm_nmport_opt_uint(p, "conf",
		    unm_nmport_opt_conf_desc.keys[i].key, p->keys[i], max,
		    &v[i]) < 0)
			return -1;
	}

	if (p->keys[UNM_CONF_RINGS] != NULL) {
		d->reg.nr_tx_rings = (uint16_t)v[UNM_CONF_RINGS];
		d->reg.nr_rx_rings = (uint16_t)v[UNM_CONF_RINGS];
	}
	if (p->keys[UNM_CONF_HOST_RINGS] != NULL) {
		d->reg.nr_host_tx_rings = (uint16_t)v[UNM_CONF_HOST_RINGS];
		d->reg.nr_host_rx_rings = (uint16_t)v[UNM_CONF_HOST_RINGS];
	}
	if (p->keys[UNM_CONF_SLOTS] != NULL) {
		d->reg.nr_tx_slots = (uint32_t)v[UNM_CONF_SLOTS];
		d->reg.nr_rx_slots = (uint32_t)v[UNM_CONF_SLOTS];
	}
	if (p->keys[UNM_CONF_TX_RINGS] != NULL)
		d->reg.nr_tx_rings = (uint16_t)v[UNM_CONF_TX_RINGS];
	if (p->keys[UNM_CONF_RX_RINGS] != NULL)
		d->reg.nr_rx_rings = (uint16_t)v[UNM_CONF_RX_RINGS];
	if (p->keys[UNM_CONF_HOST_TX_RINGS] != NULL)
		d->reg.nr_host_tx_rings = (uint16_t)v[UNM_CONF_HOST_TX_RINGS];
	if (p->keys[UNM_CONF_HOST_RX_RINGS] != NULL)
		d->reg.nr_host_rx_rings = (uint16_t)v[UNM_CONF_HOST_RX_RINGS];
	if (p->keys[UNM_CONF_TX_SLOTS] != NULL)
		d->reg.nr_tx_slots = (uint32_t)v[UNM_CONF_TX_SLOTS];
	if (p->keys[UNM_CONF_RX_SLOTS] != NULL)
		d->reg.nr_rx_slots = (uint32_t)v[UNM_CONF_RX_SLOTS];
	if (p->keys[UNM_CONF_NIC] != NULL) {
		/* unetmap: how netmap:IFNAME reaches the interface */
		uint64_t mode;

		if (unm_nic_mode_parse(p->keys[UNM_CONF_NIC], &mode) < 0) {
			nmctx_ferror(p->ctx, "option 'conf': invalid value '%.200s' for "
			    "key 'nic' (expected auto, or native, generic, emulated, "
			    "zerocopy, copy joined with '+')", p->keys[UNM_CONF_NIC]);
			errno = EINVAL;
			return -1;
		}
		d->reg.nr_flags = (d->reg.nr_flags & ~NR_UNM_NIC_MASK) | mode;
	}
	return 0;
}

/* @offset=N or @offset:initial=N[,bits=B]  (disabled by default) */
static int
unm_nmport_opt_offset(struct nmreq_parse_ctx *p)
{
	struct nmport_d *d = p->token;
	uint64_t initial, bits = 0;

	if (unm_nmport_opt_uint(p, "offset", "initial",
	    p->keys[UNM_OFFSET_INITIAL], UINT64_MAX, &initial) < 0)
		return -1;
	if (p->keys[UNM_OFFSET_BITS] != NULL &&
	    unm_nmport_opt_uint(p, "offset", "bits", p->keys[UNM_OFFSET_BITS],
	    UINT32_MAX, &bits) < 0)
		return -1;
	return nmport_offset(d, initial, initial, bits, 0);
}

/*
 * nmport_disable_option - make a built-in portspec option an error
 * @opt		"share", "extmem", "conf" or "offset"; unknown names: no-op
 *
 * A disabled option makes nmport_parse() fail with EOPNOTSUPP.  Not thread
 * safe: call it at program start-up.
 */
UNM_EXPORT void
nmport_disable_option(const char *opt)
{
	struct nmreq_opt_parser *p;

	for (p = unm_nmport_parsers; p != NULL; p = p->next) {
		if (strcmp(p->prefix, opt) == 0)
			p->flags |= NMREQ_OPTF_DISABLED;
	}
}

/*
 * nmport_enable_option - allow a built-in portspec option
 * @opt		option name ("offset" is disabled by default)
 *
 * Returns 0, or -1 with errno EOPNOTSUPP if no option has that name.  Not
 * thread safe: call it at program start-up.
 */
UNM_EXPORT int
nmport_enable_option(const char *opt)
{
	struct nmreq_opt_parser *p;

	for (p = unm_nmport_parsers; p != NULL; p = p->next) {
		if (strcmp(p->prefix, opt) == 0) {
			p->flags &= ~NMREQ_OPTF_DISABLED;
			return 0;
		}
	}
	errno = EOPNOTSUPP;
	return -1;
}

/* -------------------------------------------------------------------------
 * parse
 */

/*
 * nmport_undo_parse - drop everything nmport_parse() attached to @d
 *
 * Runs the cleanup list (options freed, extmem files unmapped) and zeroes
 * d->hdr and d->reg.
 */
UNM_EXPORT void
nmport_undo_parse(struct nmport_d *d)
{
	unm_nmport_do_cleanup(d);
	memset(&d->reg, 0, sizeof(d->reg));
	memset(&d->hdr, 0, sizeof(d->hdr));
}

/*
 * nmport_parse - fill d->hdr and d->reg from a portspec
 * @d		descriptor from nmport_new()
 * @spec	portspec (grammar in libnetmap.h)
 *
 * Decodes the name into hdr.nr_name, the mode into reg (nr_mode, nr_ringid,
 * nr_flags, nr_mem_id) and applies the '@' options (which may set ring and
 * slot counts, push request options or map an extmem file).
 *
 * Returns 0 on success.  On failure returns -1 with errno set (EINVAL,
 * EOPNOTSUPP for a disabled option, ENOMEM, or an errno from share/extmem),
 * sends a message to the context's error() and - as upstream libnetmap
 * does - runs nmport_undo_parse(): the cleanup list is emptied and d->hdr
 * and d->reg are zeroed.
 */
UNM_EXPORT int
nmport_parse(struct nmport_d *d, const char *spec)
{
	const char *scan = spec;
	int err;

	if (nmreq_header_decode(&scan, &d->hdr, d->ctx) < 0)
		goto fail;
	if (nmreq_register_decode(&scan, &d->reg, d->ctx) < 0)
		goto fail;
	if (nmreq_options_decode(scan, unm_nmport_parsers, d, d->ctx) < 0)
		goto fail;
	return 0;

fail:
	err = errno;
	nmport_undo_parse(d);
	errno = err;
	return -1;
}

/*
 * nmport_undo_prepare - undo nmport_prepare(): undo_parse, then delete
 */
UNM_EXPORT void
nmport_undo_prepare(struct nmport_d *d)
{
	if (d == NULL)
		return;
	nmport_undo_parse(d);
	nmport_delete(d);
}

/*
 * nmport_prepare - nmport_new() + nmport_parse()
 *
 * Returns the parsed descriptor, or NULL with errno set and a message sent
 * to the default context's error().
 */
UNM_EXPORT struct nmport_d *
nmport_prepare(const char *spec)
{
	struct nmport_d *d;
	int err;

	d = nmport_new();
	if (d == NULL)
		return NULL;
	if (nmport_parse(d, spec) < 0) {
		err = errno;
		nmport_undo_prepare(d);
		errno = err;
		return NULL;
	}
	return d;
}

/* -------------------------------------------------------------------------
 * register
 */

/*
 * nmport_register - bind a control fd to the port described by d->hdr
 * @d		descriptor with hdr/reg filled (nmport_parse() or by hand)
 *
 * Opens NETMAP_DEVICE_NAME and issues NIOCCTRL with d->hdr; on success the
 * request's outputs (ring/slot counts, mem_id, memsize, offset) are in
 * d->reg and d->fd is the bound fd.
 *
 * Returns 0 on success.  On failure returns -1 with errno set (EINVAL if
 * already registered, otherwise the errno of open/ioctl), leaves d->fd and
 * d->register_done unchanged and reports "<name>: option <opt>: <error>"
 * for each option the request rejected, or "<name>: <error>" if none did.
 */
UNM_EXPORT int
nmport_register(struct nmport_d *d)
{
	struct nmctx *ctx = d->ctx;
	struct nmreq_option *o;
	int fd, err, option_errors = 0;

	if (d->register_done) {
		nmctx_ferror(ctx, "%s: already registered", d->hdr.nr_name);
		errno = EINVAL;
		return -1;
	}

	fd = open(NETMAP_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		nmctx_ferror(ctx, "%s: %s%s%s", NETMAP_DEVICE_NAME, strerror(err),
		    unm_reason()[0] ? ": " : "", unm_reason());
		errno = err;
		return -1;
	}

	if (ioctl(fd, NIOCCTRL, &d->hdr) < 0) {
		err = errno;
		nmreq_foreach_option(&d->hdr, o) {
			if (o->nro_status == 0)
				continue;
			nmctx_ferror(ctx, "%s: option %s: %s", d->hdr.nr_name,
			    nmreq_option_name(o->nro_reqtype),
			    strerror((int)o->nro_status));
			option_errors++;
		}
		/* netmapd's reason, when it gave one, says more than the
		 * errno ("invalid VALE port name", "lives in region 3") */
		if (option_errors == 0)
			nmctx_ferror(ctx, "%s: %s%s%s", d->hdr.nr_name,
			    strerror(err), unm_reason()[0] ? ": " : "",
			    unm_reason());
		close(fd);
		errno = err;
		return -1;
	}

	d->fd = fd;
	d->register_done = 1;
	return 0;
}

/*
 * nmport_undo_register - close the control fd (unbinding the port)
 */
UNM_EXPORT void
nmport_undo_register(struct nmport_d *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	d->register_done = 0;
}

/* -------------------------------------------------------------------------
 * mmap
 */

/* drop one reference to @m; the last one unmaps it. ctx lock held. */
static void
unm_nmport_mem_put_locked(struct nmctx *ctx, struct nmem_d *m)
{
	if (--m->refcount > 0)
		return;
	if (!m->is_extmem)
		munmap(m->mem, m->size);
	if (m->next != NULL)
		m->next->prev = m->prev;
	if (m->prev != NULL)
		m->prev->next = m->next;
	else
		ctx->mem_descs = m->next;
	nmctx_free(ctx, m);
}

/*
 * Find or create the nmem_d for d's mem_id and take a reference.  ctx lock
 * held.  Returns NULL with errno set and a message on failure.
 */
static struct nmem_d *
unm_nmport_mem_get_locked(struct nmport_d *d)
{
	struct nmctx *ctx = d->ctx;
	struct nmem_d *m;
	int err;

	for (m = ctx->mem_descs; m != NULL; m = m->next) {
		if (m->mem_id == d->reg.nr_mem_id) {
			m->refcount++;
			return m;
		}
	}

	m = nmctx_malloc(ctx, sizeof(*m));
	if (m == NULL) {
		nmctx_ferror(ctx, "cannot allocate memory descriptor");
		errno = ENOMEM;
		return NULL;
	}
	memset(m, 0, sizeof(*m));
	if (d->extmem != NULL) {
		/* the application's memory is the region: nothing to map */
		m->mem = (void *)(uintptr_t)d->extmem->nro_usrptr;
		m->size = (size_t)d->extmem->nro_info.nr_memsize;
		m->is_extmem = 1;
	} else {
		m->size = (size_t)d->reg.nr_memsize;
		m->mem = mmap(NULL, m->size, PROT_READ | PROT_WRITE,
		    MAP_SHARED, d->fd, 0);
		if (m->mem == MAP_FAILED) {
			err = errno;
			nmctx_ferror(ctx, "%s: mmap: %s", d->hdr.nr_name,
			    strerror(err));
			nmctx_free(ctx, m);
			errno = err;
			return NULL;
		}
	}
	m->mem_id = d->reg.nr_mem_id;
	m->refcount = 1;
	m->prev = NULL;
	m->next = ctx->mem_descs;
	if (m->next != NULL)
		m->next->prev = m;
	ctx->mem_descs = m;
	return m;
}

/*
 * Ring index range bound to this fd among @count entries of ring_ofs
 * starting at @base: the first run of non-zero offsets.  An empty range
 * gives first = count, last = count - 1.
 */
static void
unm_nmport_ring_range(const struct netmap_if *nifp, unsigned int base,
		unsigned int count, uint16_t *first, uint16_t *last)
{
	unsigned int i = 0;

	while (i < count && nifp->ring_ofs[base + i] == 0)
		i++;
	*first = (uint16_t)i;
	while (i < count && nifp->ring_ofs[base + i] != 0)
		i++;
	*last = (uint16_t)(i - 1);
}

/*
 * nmport_mmap - map the port's memory region and locate its rings
 * @d		a registered descriptor
 *
 * Descriptors of the same context with the same mem_id share one mapping
 * (d->mem is then the same pointer); with extmem the application's memory
 * is used and nothing is mapped.  Sets d->nifp and the first/last/cur
 * tx/rx ring indices from the non-zero entries of nifp->ring_ofs (TX
 * entries: nr_tx_rings + ni_host_tx_rings, RX entries after them).
 *
 * Returns 0 on success.  On failure returns -1 with errno set (EINVAL if
 * not registered, already mapped or the netmap_if lies outside the
 * region; ENOMEM; the errno of mmap), sends a message to the context's
 * error() and leaves *@d unchanged.
 */
UNM_EXPORT int
nmport_mmap(struct nmport_d *d)
{
	struct nmctx *ctx = d->ctx;
	struct netmap_if *nifp;
	struct nmem_d *m;
	unsigned int num_tx, num_rx;
	uint64_t need;
	size_t size;

	if (d->mmap_done) {
		nmctx_ferror(ctx, "%s: already mapped", d->hdr.nr_name);
		errno = EINVAL;
		return -1;
	}
	if (!d->register_done) {
		nmctx_ferror(ctx, "%s: cannot map unregistered port",
		    d->hdr.nr_name);
		errno = EINVAL;
		return -1;
	}

	nmctx_lock(ctx);
	m = unm_nmport_mem_get_locked(d);
	if (m == NULL) {
		int err = errno;

		nmctx_unlock(ctx);
		errno = err;
		return -1;
	}

	/* the netmap_if and its ring_ofs[] must lie inside the region */
	if (d->reg.nr_offset > m->size ||
	    m->size - d->reg.nr_offset < sizeof(struct netmap_if))
		goto bad_nifp;
	nifp = NETMAP_IF(m->mem, d->reg.nr_offset);
	num_tx = (unsigned int)d->reg.nr_tx_rings + nifp->ni_host_tx_rings;
	num_rx = (unsigned int)d->reg.nr_rx_rings + nifp->ni_host_rx_rings;
	need = sizeof(struct netmap_if) +
	    (uint64_t)(num_tx + num_rx) * sizeof(nifp->ring_ofs[0]);
	if (m->size - d->reg.nr_offset < need)
		goto bad_nifp;
	nmctx_unlock(ctx);

	d->mem = m;
	d->nifp = nifp;
	unm_nmport_ring_range(nifp, 0, num_tx, &d->first_tx_ring,
	    &d->last_tx_ring);
	unm_nmport_ring_range(nifp, num_tx, num_rx, &d->first_rx_ring,
	    &d->last_rx_ring);
	d->cur_tx_ring = d->first_tx_ring;
	d->cur_rx_ring = d->first_rx_ring;
	d->mmap_done = 1;
	return 0;

bad_nifp:
	size = m->size;
	unm_nmport_mem_put_locked(ctx, m);
	nmctx_unlock(ctx);
	nmctx_ferror(ctx, "%s: netmap_if at offset %" PRIu64 " does not fit "
	    "in the %zu-byte memory region", d->hdr.nr_name,
	    (uint64_t)d->reg.nr_offset, size);
	errno = EINVAL;
	return -1;
}

/*
 * nmport_undo_mmap - release the region reference taken by nmport_mmap()
 *
 * The last descriptor of a context using a region unmaps it (unless it is
 * extmem).  Ring indices, nifp and mem are reset to 0/NULL.
 */
UNM_EXPORT void
nmport_undo_mmap(struct nmport_d *d)
{
	struct nmctx *ctx = d->ctx;

	if (d->mem != NULL) {
		nmctx_lock(ctx);
		unm_nmport_mem_put_locked(ctx, d->mem);
		nmctx_unlock(ctx);
	}
	d->mem = NULL;
	d->nifp = NULL;
	d->first_tx_ring = 0;
	d->last_tx_ring = 0;
	d->first_rx_ring = 0;
	d->last_rx_ring = 0;
	d->cur_tx_ring = 0;
	d->cur_rx_ring = 0;
	d->mmap_done = 0;
}

/* -------------------------------------------------------------------------
 * composite operations
 */

/*
 * nmport_open_desc - nmport_register() + nmport_mmap()
 *
 * Returns 0 on success.  On failure returns -1 with errno set and a
 * message sent; whatever this call did is undone, so *@d is unchanged.
 */
UNM_EXPORT int
nmport_open_desc(struct nmport_d *d)
{
	int err;

	if (nmport_register(d) < 0)
		return -1;
	if (nmport_mmap(d) < 0) {
		err = errno;
		nmport_undo_register(d);
		errno = err;
		return -1;
	}
	return 0;
}

/*
 * nmport_undo_open_desc - nmport_undo_mmap() + nmport_undo_register()
 */
UNM_EXPORT void
nmport_undo_open_desc(struct nmport_d *d)
{
	nmport_undo_mmap(d);
	nmport_undo_register(d);
}

/*
 * nmport_close - undo nmport_open(): unmap, unregister, free.  NULL: no-op.
 */
UNM_EXPORT void
nmport_close(struct nmport_d *d)
{
	if (d == NULL)
		return;
	nmport_undo_open_desc(d);
	nmport_undo_prepare(d);
}

/*
 * nmport_open - open a port from a portspec, ready for I/O
 * @spec	portspec (grammar in libnetmap.h)
 *
 * Equivalent to nmport_prepare() + nmport_open_desc().  The rings usable
 * for tx are [first_tx_ring, last_tx_ring], for rx likewise (either range
 * may be empty).  Close with nmport_close().
 *
 * Returns the descriptor, or NULL with errno set and message(s) sent to
 * the default context's error(); nothing is left open.
 */
UNM_EXPORT struct nmport_d *
nmport_open(const char *spec)
{
	struct nmport_d *d;
	int err;

	d = nmport_prepare(spec);
	if (d == NULL)
		return NULL;
	if (nmport_open_desc(d) < 0) {
		err = errno;
		nmport_close(d);
		errno = err;
		return NULL;
	}
	return d;
}

/*
 * nmport_clone - a new, unregistered descriptor equivalent to @d
 * @d		the descriptor to copy
 *
 * The copy uses @d's context and has the same hdr and reg (hence the same
 * name, mode and mem_id; hdr.nr_body points to the copy's own reg) but no
 * options.  It is ready for nmport_open_desc(), typically after changing
 * reg.nr_mode/nr_ringid (pkt-gen does this for per-thread fds).
 *
 * Returns NULL with errno set and a message on failure: EINVAL if @d uses
 * extmem and is not registered yet (its mem_id is then unknown), ENOMEM.
 */
UNM_EXPORT struct nmport_d *
nmport_clone(struct nmport_d *d)
{
	struct nmport_d *c;

	if (d->extmem != NULL && !d->register_done) {
		nmctx_ferror(d->ctx, "%s: cannot clone unregistered port that "
		    "is using extmem", d->hdr.nr_name);
		errno = EINVAL;
		return NULL;
	}
	c = unm_nmport_new(d->ctx);
	if (c == NULL)
		return NULL;
	c->hdr = d->hdr;
	c->hdr.nr_body = (uint64_t)(uintptr_t)&c->reg;
	c->hdr.nr_options = 0;
	c->reg = d->reg;
	return c;
}

/* -------------------------------------------------------------------------
 * inject
 */

/*
 * nmport_inject - copy one packet into the next free tx slot(s)
 * @d		an open descriptor
 * @buf		the packet
 * @size	its length in bytes
 *
 * Tries the bound tx rings in turn starting at d->cur_tx_ring.  On a ring
 * with room from ring->cur up to ring->tail for the whole packet, the
 * packet is copied in nr_buf_size chunks (all but the last slot get
 * len = nr_buf_size and flags = NS_MOREFRAG, the last gets the remainder
 * and flags = 0), head and cur move past it and d->cur_tx_ring is set to
 * that ring.  No sync is done: the caller issues NIOCTXSYNC or poll().
 *
 * Returns @size on success and 0 if no ring had room (as upstream's
 * implementation, whose header comment says 0/-1).
 */
UNM_EXPORT int
nmport_inject(struct nmport_d *d, const void *buf, size_t size)
{
	const char *src = buf;
	uintptr_t mem_lo, mem_hi;
	unsigned int n, c, ri;

	if (d->nifp == NULL || d->mem == NULL ||
	    d->last_tx_ring < d->first_tx_ring)
		return 0;
	mem_lo = (uintptr_t)d->mem->mem;
	mem_hi = mem_lo + d->mem->size;
	n = (unsigned int)d->last_tx_ring - d->first_tx_ring + 1;
	ri = d->cur_tx_ring;

	for (c = 0; c < n; c++, ri++) {
		struct netmap_ring *ring;
		uint32_t cur, tail, nslots, bsize, avail, i;
		size_t need, rem;

		if (ri < d->first_tx_ring || ri > d->last_tx_ring)
			ri = d->first_tx_ring;
		ring = NETMAP_TXRING(d->nifp, ri);
		cur = ring->cur;
		tail = ring->tail;
		nslots = ring->num_slots;
		bsize = ring->nr_buf_size;
		if (bsize == 0 || cur >= nslots || tail >= nslots)
			continue;	/* not a usable ring */

		/* slots needed (at least one, even for an empty packet) */
		need = (size == 0) ? 1 : (size - 1) / bsize + 1;
		avail = (tail >= cur) ? tail - cur : tail + nslots - cur;
		if (need > avail)
			continue;

		/*
		 * Check every buffer before writing any, so that a bad
		 * buf_idx leaves the ring untouched.
		 */
		for (i = cur, rem = need; rem > 0; rem--) {
			uintptr_t b = (uintptr_t)NETMAP_BUF(ring,
			    ring->slot[i].buf_idx);

			if (b < mem_lo || b > mem_hi || mem_hi - b < bsize)
				return 0;
			i = nm_ring_next(ring, i);
		}

		for (i = cur, rem = size; rem > bsize; rem -= bsize) {
			struct netmap_slot *slot = &ring->slot[i];

			memcpy(NETMAP_BUF(ring, slot->buf_idx), src, bsize);
			slot->len = (uint16_t)bsize;
			slot->flags = NS_MOREFRAG;
			src += bsize;
			i = nm_ring_next(ring, i);
		}
		if (rem > 0)
			memcpy(NETMAP_BUF(ring, ring->slot[i].buf_idx), src, rem);
		ring->slot[i].len = (uint16_t)rem;
		ring->slot[i].flags = 0;
		ring->head = ring->cur = nm_ring_next(ring, i);
		d->cur_tx_ring = (uint16_t)ri;
		return (int)size;
	}
	return 0;
}

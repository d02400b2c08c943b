/*
 * unetmap — libnetmap, the netmap port library (source compatible with
 * netmap's libnetmap.h).
 *
 * Opening a port takes one call:
 *
 *	struct nmport_d *d = nmport_open("netmap:eth0-1/x");
 *	if (d == NULL)
 *		... errno is set, a message went to the context's error() ...
 *	... use d->fd, d->nifp, d->first_rx_ring .. d->last_rx_ring ...
 *	nmport_close(d);
 *
 * nmport_open() is nmport_prepare() (allocate and parse) followed by
 * nmport_open_desc() (register and mmap); a program can change d->reg
 * between the two.  Each step has an undo_ function, and a failed call
 * leaves the descriptor as it was before it.
 *
 * PORT SPECIFICATIONS
 *
 *	portspec := prefix ':' name [mode] [flags] ['@' memid] options
 *	prefix   := "netmap"		the name is a NIC or any netmap port;
 *					only "name" goes into hdr.nr_name
 *		  | "vale" [ident]	a port of VALE switch "vale[ident]";
 *					hdr.nr_name is "vale[ident]:name"
 *	name     := base [('{' | '}') pipeid]
 *		    base: the port name, ends at the first - * ^ / @
 *		    '{' pipeid: master end of pipe pipeid of port base
 *		    '}' pipeid: slave end; pipeid is [A-Za-z0-9_]+
 *	mode     := '-' N		hardware ring pair N only
 *		  | '*'			hardware and host rings
 *		  | '^'			host rings only
 *		  | '^' N		host ring pair N only
 *		    (default: all hardware rings)
 *	flags    := '/' [xztrRT]+	x exclusive, z zero-copy monitor,
 *					t/r TX/RX copy monitor, R RX rings
 *					only, T TX rings only
 *	memid    := N > 0		use memory region N
 *	options  := ('@' option)*
 *	option   := oname '=' value			(the default key)
 *		  | oname ':' key '=' value (',' key '=' value)*
 *
 * Options ("-" and "_" are the same in key names):
 *
 *	@share=PORTSPEC		use the memory region of another port
 *	@conf:KEY=N,...		ring configuration; keys rings, host_rings,
 *				slots, tx_rings, rx_rings, host_tx_rings,
 *				host_rx_rings, tx_slots, rx_slots
 *				(no default key: "@conf=4" is an error)
 *	@extmem:file=PATH[,if_num=N,if_size=N,ring_num=N,ring_size=N,
 *		buf_num=N,buf_size=N]
 *				build the region on the file's memory
 *	@offset=N[,bits=B]	buffer offsets (disabled by default, see
 *				nmport_enable_option)
 *
 * Examples: "netmap:eth0", "netmap:eth0^", "vale0:p1/x", "netmap:p{1/T@1",
 * "vale0:1@conf:rings=4,slots=2048", "netmap:eth0@share=netmap:eth1".
 *
 * ERRORS
 *
 * The library never prints: messages go to the error() callback of the
 * descriptor's struct nmctx (by default: stderr).  Functions that fail
 * return -1 (or NULL) and set errno.
 *
 * THREADS
 *
 * Programs are linked with a thread-safe default context (its lock
 * callback is a mutex) unless they define LIBNETMAP_NOTHREADSAFE before
 * including this header.
 */

#ifndef LIBNETMAP_H_
#define LIBNETMAP_H_

#include <stddef.h>
#include <stdint.h>
#include <net/netmap_user.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nmctx;
struct nmem_d;
struct nmport_d;
struct nmport_cleanup_d;	/* internal */

/*
 * struct nmport_d - a port descriptor.
 *
 * hdr		the register request (hdr.nr_name is the parsed port name,
 *		hdr.nr_body points to reg, hdr.nr_options to the options)
 * reg		register body: the parsed mode/ringid/flags/mem_id before
 *		registration, the port's configuration after it.  May be
 *		changed between nmport_prepare() and nmport_open_desc().
 *
 * The fields below are read-only for programs:
 *
 * mem		the mapped region, shared by every descriptor of the same
 *		context and memory region: d1->mem == d2->mem means the two
 *		ports can swap buffers (zero copy)
 * ctx		the context used to create the descriptor
 * register_done	nmport_register() succeeded
 * mmap_done	nmport_mmap() succeeded
 * extmem	the extmem option in hdr's option list, or NULL
 * fd		the netmap file descriptor, -1 if not open
 * nifp		the netmap_if of this registration
 * first_tx_ring, last_tx_ring, first_rx_ring, last_rx_ring
 *		inclusive ranges of the rings bound to fd (found from the
 *		non-zero ring_ofs entries); an empty range has
 *		first = number of rings, last = first - 1
 * cur_tx_ring, cur_rx_ring
 *		first_tx_ring / first_rx_ring after mmap; nmport_inject()
 *		continues from cur_tx_ring
 * clist	cleanup actions of nmport_parse() (internal)
 */
struct nmport_d {
	struct nmreq_header	hdr;
	struct nmreq_register	reg;

	struct nmem_d		*mem;
	struct nmctx		*ctx;
	int			register_done;
	int			mmap_done;
	struct nmreq_opt_extmem	*extmem;

	int			fd;
	struct netmap_if	*nifp;
	uint16_t		first_tx_ring;
	uint16_t		last_tx_ring;
	uint16_t		first_rx_ring;
	uint16_t		last_rx_ring;
	uint16_t		cur_tx_ring;
	uint16_t		cur_rx_ring;

	struct nmport_cleanup_d	*clist;
};

/*
 * ---------------------------------------------------------------------
 * The one-call interface
 * ---------------------------------------------------------------------
 */

/*
 * nmport_open - open, register and map a port
 * @portspec:	the port specification (see the top of this file)
 *
 * Equivalent to nmport_prepare() followed by nmport_open_desc().
 *
 * Returns the new descriptor, or NULL: sets errno (EINVAL for a bad
 * portspec, ENOMEM, or the error of the register request: ENXIO,
 * EBUSY, ...) and sends a message to the default context's error().
 */
struct nmport_d *nmport_open(const char *portspec);

/*
 * nmport_close - close a port and free its descriptor
 * @d:		the descriptor (NULL is a no-op)
 *
 * Equivalent to nmport_undo_open_desc() followed by
 * nmport_undo_prepare().
 */
void nmport_close(struct nmport_d *d);

/*
 * nmport_inject - copy one packet into the TX rings
 * @d:		an open descriptor
 * @buf:	the packet
 * @size:	its length
 *
 * Tries the bound TX rings in turn from d->cur_tx_ring and uses the first
 * with enough free slots from ring->cur on: the packet is copied in
 * buffer-sized fragments (NS_MOREFRAG on all but the last), head and cur
 * move past it and cur_tx_ring becomes that ring.  Does not sync (use
 * NIOCTXSYNC or poll()).
 *
 * Returns size on success, 0 if no ring had room (as netmap does; the
 * original header comment saying -1 is wrong).
 */
int nmport_inject(struct nmport_d *d, const void *buf, size_t size);

/*
 * ---------------------------------------------------------------------
 * Step by step
 * ---------------------------------------------------------------------
 *
 *	nmport_new		nmport_delete
 *	nmport_parse		nmport_undo_parse
 *	nmport_register		nmport_undo_register
 *	nmport_mmap		nmport_undo_mmap
 *
 * nmport_prepare = new + parse, nmport_open_desc = register + mmap.
 */

/*
 * nmport_new - allocate a blank descriptor
 *
 * The descriptor is zeroed, with hdr initialised for a REGISTER request
 * (version NETMAP_API, body = &reg) and fd = -1.  Memory comes from the
 * default context's malloc().
 *
 * Returns the descriptor, or NULL: sets errno (ENOMEM) and sends a message
 * to the context's error().
 */
struct nmport_d *nmport_new(void);

/*
 * nmport_parse - fill a descriptor from a port specification
 * @d:		a descriptor from nmport_new()
 * @portspec:	the port specification
 *
 * Fills d->hdr and d->reg (name, mode, ring id, flags, memory id) and
 * processes the options, which may add entries to hdr's option list.
 *
 * Returns 0, or -1: sets errno (EINVAL for a syntax error or unknown
 * option, EOPNOTSUPP for a disabled option, or the error of an option's
 * action) and sends a message to d->ctx's error().  On failure the
 * option cleanups have run and d->hdr and d->reg are zeroed (as in
 * netmap, whatever its header comment says).
 */
int nmport_parse(struct nmport_d *d, const char *portspec);

/*
 * nmport_register - register the port
 * @d:		a parsed descriptor
 *
 * Opens /dev/netmap and issues the NIOCCTRL request in d->hdr.  On
 * success d->fd is the bound descriptor and d->reg holds the port's
 * configuration.
 *
 * Returns 0, or -1: sets errno (EINVAL if already registered, or the
 * request's error) and sends a message to d->ctx's error() naming the
 * port and, if one was refused, the option.
 */
int nmport_register(struct nmport_d *d);

/*
 * nmport_mmap - map the port's memory region
 * @d:		a registered descriptor
 *
 * Reuses the context's mapping of the same memory region if there is
 * one, else maps it (or uses the extmem memory).  Sets mem, nifp and the
 * ring ranges.
 *
 * Returns 0, or -1: sets errno (EINVAL if not registered or already
 * mapped, ENOMEM, or mmap()'s error) and sends a message to d->ctx's
 * error().
 */
int nmport_mmap(struct nmport_d *d);

/*
 * nmport_delete - free a descriptor
 * @d:		the descriptor, with everything else undone
 */
void nmport_delete(struct nmport_d *d);

/*
 * nmport_undo_parse - undo nmport_parse()
 * @d:		the descriptor
 *
 * Runs the cleanups of the options and zeroes d->reg and d->hdr.
 */
void nmport_undo_parse(struct nmport_d *d);

/*
 * nmport_undo_register - undo nmport_register()
 * @d:		the descriptor
 *
 * Closes d->fd (unbinding the port) and sets it to -1.
 */
void nmport_undo_register(struct nmport_d *d);

/*
 * nmport_undo_mmap - undo nmport_mmap()
 * @d:		the descriptor
 *
 * Drops the descriptor's reference to the region (unmapping it when it
 * was the last one) and clears mem, nifp and the ring fields.
 */
void nmport_undo_mmap(struct nmport_d *d);

/*
 * nmport_prepare - allocate a descriptor and parse a port specification
 * @portspec:	the port specification
 *
 * nmport_new() + nmport_parse().
 *
 * Returns the descriptor, or NULL: sets errno and sends a message to the
 * default context's error() (see nmport_new, nmport_parse).
 */
struct nmport_d *nmport_prepare(const char *portspec);

/*
 * nmport_open_desc - register and map a prepared descriptor
 * @d:		the descriptor
 *
 * nmport_register() + nmport_mmap(); if the mmap fails the registration
 * is undone.
 *
 * Returns 0, or -1: sets errno and sends a message to d->ctx's error()
 * (see nmport_register, nmport_mmap).
 */
int nmport_open_desc(struct nmport_d *d);

/*
 * nmport_undo_prepare - undo nmport_prepare()
 * @d:		the descriptor (NULL is a no-op); freed
 */
void nmport_undo_prepare(struct nmport_d *d);

/*
 * nmport_undo_open_desc - undo nmport_open_desc()
 * @d:		the descriptor
 */
void nmport_undo_open_desc(struct nmport_d *d);

/*
 * nmport_clone - copy a descriptor's request into a new descriptor
 * @d:		the descriptor to copy
 *
 * The new descriptor (same context) has copies of hdr and reg, with
 * hdr.nr_body pointing to its own reg and no options; it is not
 * registered.  Typical use: change reg.nr_mode / reg.nr_ringid and call
 * nmport_open_desc() to bind another fd to other rings of the same port.
 *
 * Returns the new descriptor, or NULL: sets errno (EINVAL if d uses
 * extmem and is not registered yet, ENOMEM) and sends a message to
 * d->ctx's error().
 */
struct nmport_d *nmport_clone(struct nmport_d *d);

/*
 * nmport_extmem - build the port's memory region on program memory
 * @d:		a descriptor, not yet registered
 * @base:	start of the memory
 * @size:	its size
 *
 * Adds an EXTMEM option (pool parameters 0: defaults) to the request.
 *
 * Returns 0, or -1: sets errno (EINVAL if d is registered or already has
 * extmem, ENOMEM) and sends a message to d->ctx's error().
 */
int nmport_extmem(struct nmport_d *d, void *base, size_t size);

/*
 * nmport_extmem_from_file - like nmport_extmem(), on a mapped file
 * @d:		a descriptor, not yet registered
 * @fname:	file to map whole (e.g. on hugetlbfs)
 *
 * The mapping is released when the descriptor's parse is undone.
 *
 * Returns 0, or -1: sets errno (open/lseek/mmap errors, or those of
 * nmport_extmem) and sends a message to d->ctx's error().
 */
int nmport_extmem_from_file(struct nmport_d *d, const char *fname);

/*
 * nmport_extmem_getinfo - pool parameters of the extmem option
 * @d:		the descriptor
 *
 * Returns the option's nmreq_pools_info (which the program may adjust
 * before registering; the real values after it), or NULL if d has no
 * extmem option.
 */
struct nmreq_pools_info *nmport_extmem_getinfo(struct nmport_d *d);

/*
 * nmport_offset - ask for buffer offsets
 * @d:		a descriptor, not yet registered
 * @initial:	offset written into every slot of new rings
 * @maxoff:	largest offset the program will use
 * @bits:	width of the offset field in slot.ptr (0: all 64 bits)
 * @mingap:	room needed after the offset (0: none)
 *
 * Adds an OFFSETS option to the request.
 *
 * Returns 0, or -1: sets errno (EINVAL if d is registered, ENOMEM) and
 * sends a message to d->ctx's error().
 */
int nmport_offset(struct nmport_d *d, uint64_t initial, uint64_t maxoff,
		  uint64_t bits, uint64_t mingap);

/*
 * nmport_disable_option - stop accepting a portspec option
 * @opt:	option name ("share", "conf", "extmem", "offset")
 *
 * Later portspecs using it fail with EOPNOTSUPP.  Unknown names are
 * ignored.
 */
void nmport_disable_option(const char *opt);

/*
 * nmport_enable_option - accept a portspec option again
 * @opt:	option name ("offset" is disabled by default)
 *
 * Returns 0, or -1 with errno EOPNOTSUPP if there is no such option.
 */
int nmport_enable_option(const char *opt);

/*
 * ---------------------------------------------------------------------
 * Requests
 * ---------------------------------------------------------------------
 */

/*
 * nmreq_header_init - initialise a request header
 * @hdr:	the header
 * @reqtype:	NETMAP_REQ_*
 * @body:	the request body (or NULL)
 *
 * Zeroes hdr and sets the version (NETMAP_API), type and body.
 */
void nmreq_header_init(struct nmreq_header *hdr, uint16_t reqtype,
		       void *body);

/*
 * nmreq_header_decode - parse the prefix and name of a port specification
 * @ppspec:	pointer to the portspec; advanced past the name on success
 * @hdr:	header whose nr_name is filled
 * @ctx:	context for the error message
 *
 * Accepts "netmap:NAME" (nr_name = NAME) and "vale[ID]:NAME" (nr_name =
 * the whole "vale[ID]:NAME"); NAME ends at the first - * ^ / @.
 *
 * Returns 0, or -1: sets errno (EINVAL: unknown prefix, missing ':',
 * empty, invalid or too long name, bad pipe id) and sends a message to
 * ctx's error(); *ppspec and hdr are unchanged.
 */
int nmreq_header_decode(const char **ppspec, struct nmreq_header *hdr,
			struct nmctx *ctx);

/*
 * nmreq_register_decode - parse the mode, flags and memory id
 * @pmode:	pointer to the text after the name; advanced on success to
 *		the end or to the '@' that starts the options
 * @reg:	body whose nr_mode, nr_ringid, nr_flags and nr_mem_id are set
 * @ctx:	context for the error message
 *
 * Returns 0, or -1: sets errno (EINVAL: unknown modifier or flag, missing
 * or out-of-range number, conflicting memory ids, unexpected end) and
 * sends a message to ctx's error(); *pmode and reg are unchanged.
 */
int nmreq_register_decode(const char **pmode, struct nmreq_register *reg,
			  struct nmctx *ctx);

struct nmreq_opt_parser;
struct nmreq_parse_ctx;

/*
 * nmreq_options_decode - parse a list of "@option" items
 * @opt:	the text ("" or starting with '@')
 * @parsers:	list of option parsers
 * @token:	passed to the parsers' callbacks (nmport: the descriptor)
 * @ctx:	context for the error message
 *
 * Returns 0, or -1: sets errno (EINVAL: syntax error, unknown option or
 * key, missing mandatory key; EOPNOTSUPP: disabled option; or the error
 * of a parser callback) and sends a message to ctx's error().
 */
int nmreq_options_decode(const char *opt, struct nmreq_opt_parser *parsers,
			 void *token, struct nmctx *ctx);

/* the callback of an option parser; returns 0 or -1 with errno set */
typedef int (*nmreq_opt_parser_cb)(struct nmreq_parse_ctx *);

#define NMREQ_OPT_MAXKEYS	16	/* keys per option, at most */

/* struct nmreq_opt_key - one key an option accepts */
struct nmreq_opt_key {
	const char	*key;		/* its name */
	int		id;		/* index in nmreq_parse_ctx.keys */
	unsigned int	flags;		/* NMREQ_OPTK_* */
};

#define NMREQ_OPTK_ALLOWEMPTY	(1U << 0)	/* "=value" may be omitted */
#define NMREQ_OPTK_MUSTSET	(1U << 1)	/* the key is mandatory */
#define NMREQ_OPTK_DEFAULT	(1U << 2)	/* "option=value" sets it */

/* struct nmreq_opt_parser - an option: its name, keys and callback */
struct nmreq_opt_parser {
	const char		*prefix;	/* the option's name */
	nmreq_opt_parser_cb	parse;		/* called once all keys are
						   read */
	int			default_key;	/* key set by "option=value",
						   -1 if none */
	int			nr_keys;
	unsigned int		flags;		/* NMREQ_OPTF_* */
	struct nmreq_opt_parser	*next;		/* the next parser */
	struct nmreq_opt_key	keys[NMREQ_OPT_MAXKEYS];
} __attribute__((__aligned__(16)));

#define NMREQ_OPTF_DISABLED	(1U << 0)	/* rejected with EOPNOTSUPP */
#define NMREQ_OPTF_ALLOWEMPTY	(1U << 1)	/* "@option" alone is valid */

/* struct nmreq_parse_ctx - what a parser callback receives */
struct nmreq_parse_ctx {
	struct nmctx	*ctx;			/* for errors and memory */
	void		*token;			/* from nmreq_options_decode */
	const char	*keys[NMREQ_OPT_MAXKEYS]; /* each key's value, NULL
						     if not given */
};

/*
 * nmreq_get_mem_id - memory region of a port
 * @portname:	pointer to a port specification; advanced past its name
 * @ctx:	context for the error message
 *
 * Asks for the port's info (NETMAP_REQ_PORT_INFO_GET), which may create
 * an ephemeral port just for the request.
 *
 * Returns the region id, or -1: sets errno (the errors of
 * nmreq_header_decode, of opening /dev/netmap, or of the request) and
 * sends a message to ctx's error().
 */
int32_t nmreq_get_mem_id(const char **portname, struct nmctx *ctx);

/*
 * nmreq_push_option - add an option at the head of a request's list
 * @hdr:	the request header
 * @opt:	the option
 */
void nmreq_push_option(struct nmreq_header *hdr, struct nmreq_option *opt);

/*
 * nmreq_remove_option - take an option out of a request's list
 * @hdr:	the request header
 * @opt:	the option; its nro_next is set to 0
 */
void nmreq_remove_option(struct nmreq_header *hdr,
			 struct nmreq_option *opt);

/*
 * nmreq_find_option - first option of a type in a request's list
 * @hdr:	the request header
 * @reqtype:	NETMAP_REQ_OPT_*
 *
 * Returns the option, or NULL if there is none.
 */
struct nmreq_option *nmreq_find_option(struct nmreq_header *hdr,
				       uint32_t reqtype);

/*
 * nmreq_free_options - free() every option of a request's list
 * @hdr:	the request header; its list becomes empty
 */
void nmreq_free_options(struct nmreq_header *hdr);

/*
 * nmreq_option_name - printable name of an option type
 * @reqtype:	NETMAP_REQ_OPT_*
 *
 * Returns "extmem", "sync-kloop-eventfds", "csb", "sync-kloop-mode",
 * "offsets", or "unknown".
 */
const char *nmreq_option_name(uint32_t reqtype);

/* nmreq_foreach_option - for each option o_ in the list of header h_ */
#define nmreq_foreach_option(h_, o_)					\
	for ((o_) = (struct nmreq_option *)(uintptr_t)((h_)->nr_options); \
	     (o_) != NULL;						\
	     (o_) = (struct nmreq_option *)(uintptr_t)((o_)->nro_next))

/*
 * ---------------------------------------------------------------------
 * Contexts
 * ---------------------------------------------------------------------
 *
 * A context gathers the callbacks through which the library reports
 * errors, allocates memory and locks its shared state, plus the list of
 * mapped memory regions.  Descriptors keep the context that was the
 * default when they were created.
 */

/* receives one error message (no trailing newline) */
typedef void (*nmctx_error_cb)(struct nmctx *, const char *);
/* allocates memory, like malloc() */
typedef void *(*nmctx_malloc_cb)(struct nmctx *, size_t);
/* releases memory from the malloc callback, like free() */
typedef void (*nmctx_free_cb)(struct nmctx *, void *);
/* lock != 0: take the context's lock; 0: release it */
typedef void (*nmctx_lock_cb)(struct nmctx *, int);

/*
 * struct nmctx - a library context.
 *
 * verbose	0 silences the error callback
 * error, malloc, free
 *		callbacks (the default context prints to stderr and uses
 *		the C library)
 * lock		NULL for no locking; the thread-safe default context uses
 *		a mutex
 * mem_descs	the regions mapped through this context (internal)
 */
struct nmctx {
	int		verbose;
	nmctx_error_cb	error;
	nmctx_malloc_cb	malloc;
	nmctx_free_cb	free;
	nmctx_lock_cb	lock;
	struct nmem_d	*mem_descs;
};

/*
 * struct nmem_d - a memory region mapped through a context (one per
 * region id and context; shared by all its descriptors).
 */
struct nmem_d {
	uint16_t	mem_id;		/* region id */
	int		refcount;	/* descriptors using it */
	void		*mem;		/* where it is mapped */
	size_t		size;		/* its size */
	int		is_extmem;	/* program memory (not unmapped) */
	struct nmem_d	*next;		/* circular list of the context */
	struct nmem_d	*prev;
};

/*
 * nmctx_get - the current default context
 */
struct nmctx *nmctx_get(void);

/*
 * nmctx_set_default - make ctx the default context
 * @ctx:	the new default context
 *
 * Returns the previous default context.
 */
struct nmctx *nmctx_set_default(struct nmctx *ctx);

/*
 * nmctx_set_threadsafe - make the default context thread-safe
 *
 * Installs a mutex as the lock callback of (a copy of) the default
 * context.  Done automatically at startup unless the program defines
 * LIBNETMAP_NOTHREADSAFE; calling it again is harmless.
 */
void nmctx_set_threadsafe(void);

/*
 * nmctx_ferror - report an error through a context
 * @ctx:	the context
 * @fmt:	printf() format, then its arguments
 *
 * If ctx->verbose, formats the message (up to 1000 characters) and passes
 * it to ctx->error().
 */
void nmctx_ferror(struct nmctx *ctx, const char *fmt, ...)
	__attribute__((__format__(__printf__, 2, 3)));

/*
 * nmctx_malloc - allocate memory through a context
 * @ctx:	the context
 * @sz:		bytes
 *
 * Returns the memory, or NULL (errno is left as the callback set it).
 */
void *nmctx_malloc(struct nmctx *ctx, size_t sz);

/*
 * nmctx_free - release memory from nmctx_malloc()
 * @ctx:	the context it came from
 * @p:		the memory
 */
void nmctx_free(struct nmctx *ctx, void *p);

/*
 * nmctx_lock - take a context's lock (no-op without a lock callback)
 * @ctx:	the context
 */
void nmctx_lock(struct nmctx *ctx);

/*
 * nmctx_unlock - release a context's lock
 * @ctx:	the context
 */
void nmctx_unlock(struct nmctx *ctx);

/*
 * nmctx_threadsafe - defined next to nmctx_set_threadsafe() in the
 * library.  Any reference to it links that code in, whose constructor
 * makes the default context thread-safe.
 */
extern int nmctx_threadsafe;

#ifndef LIBNETMAP_NOTHREADSAFE
/*
 * Every program that includes this header references nmctx_threadsafe
 * (from a function that is never called but is kept by the "used"
 * attribute), so a static link pulls in the thread-safe context.
 */
static __attribute__((__used__)) void
libnetmap_init(void)
{
	nmctx_threadsafe = 1;
}
#endif /* !LIBNETMAP_NOTHREADSAFE */

#ifdef __cplusplus
}
#endif

#endif /* LIBNETMAP_H_ */

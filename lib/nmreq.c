/*
 * nmreq.c - portspec parsing and nmreq_header/option helpers.
 *
 * A portspec is  subsystem ':' vpname [mode] [options]  (the full grammar
 * is written out in libnetmap.h).  Parsing is split in three steps, each a
 * public function, so that applications can use the pieces:
 *
 *   nmreq_header_decode()    subsystem and vpname  -> hdr.nr_name
 *   nmreq_register_decode()  mode, flags, mem id   -> reg.nr_mode, ...
 *   nmreq_options_decode()   '@name...' options    -> caller's parsers
 *
 * The first two are all-or-nothing: on error they return -1 with errno set
 * to EINVAL, leave both the spec pointer and the output structure exactly
 * as they were, and report the reason through nmctx_ferror().
 *
 * Character classes are spelled out in ASCII instead of using <ctype.h>, so
 * that the result does not depend on the locale and a negative char can
 * never index a table.
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
#include <unistd.h>

#define LIBNETMAP_NOTHREADSAFE	/* this object must not drag in pthreads */
#include <libnetmap.h>

#include "unm_reason.h"

/* characters that end the vpname and start the mode/options part */
#define UNM_NMREQ_NAME_END	"-*^/@"

/* ring numbers must be below this (netmap's NETMAP_RING_MASK, 0xfff) */
#define UNM_NMREQ_RING_LIMIT	NETMAP_RING_MASK

/* -------------------------------------------------------------------------
 * small lexical helpers
 */

static int
unm_nmreq_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
unm_nmreq_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* identifier character: switch names and pipe ids */
static int
unm_nmreq_is_ident(char c)
{
	return unm_nmreq_is_alnum(c) || c == '_';
}

/* port-name character: identifiers plus '.' for VLAN names like "em0.123" */
static int
unm_nmreq_is_portchar(char c)
{
	return unm_nmreq_is_ident(c) || c == '.';
}

/* first character in [s, e) that fails @ok, or NULL if all pass */
static const char *
unm_nmreq_find_bad(const char *s, const char *e, int (*ok)(char))
{
	for (; s != e; s++) {
		if (!ok(*s))
			return s;
	}
	return NULL;
}

/*
 * Parse a run of decimal digits at *ps (at least one must be there) and
 * advance *ps past it.  The value saturates at UINT32_MAX, which every
 * caller rejects as out of range, so overflow needs no special case.
 */
static unsigned long
unm_nmreq_parse_uint(const char **ps)
{
	const char *s = *ps;
	unsigned long v = 0;

	for (; unm_nmreq_is_digit(*s); s++) {
		if (v < UINT32_MAX)
			v = v * 10 + (unsigned long)(*s - '0');
		if (v > UINT32_MAX)
			v = UINT32_MAX;
	}
	*ps = s;
	return v;
}

/* -------------------------------------------------------------------------
 * nmreq_header
 */

/*
 * nmreq_header_init - zero @hdr and set version, request type and body
 */
UNM_EXPORT void
nmreq_header_init(struct nmreq_header *hdr, uint16_t reqtype, void *body)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->nr_version = NETMAP_API;
	hdr->nr_reqtype = reqtype;
	hdr->nr_body = (uint64_t)(uintptr_t)body;
}

/*
 * The subsystems a portspec may start with, tried in this order.
 * "netmap" takes no identifier and is not part of the name the kernel sees;
 * "vale" takes an optional switch identifier and the whole "valeX:port"
 * string is the name.  "null" is unetmap's own: "null:NAME" names a null
 * port (a TX sink and RX source), and the whole string is the name.
 * "vxlan" is unetmap's too: "vxlan:REMOTE:VNI[:PORT[:LPORT]]" names a
 * VXLAN tunnel port (common/unm_vxlan.h), the whole string being the name.
 */
struct unm_nmreq_subsys {
	const char *prefix;
	size_t len;
	int keep_prefix;	/* nr_name starts at the prefix, not after ':' */
	int has_id;		/* an identifier may sit between prefix and ':' */
};

static const struct unm_nmreq_subsys unm_nmreq_subsystems[] = {
	{ "netmap", sizeof("netmap") - 1, 0, 0 },
	{ NM_BDG_NAME, sizeof(NM_BDG_NAME) - 1, 1, 1 },
	{ "null", sizeof("null") - 1, 1, 0 },
	{ "vxlan", sizeof("vxlan") - 1, 1, 0 },
};

/* A tunnel's name, alone ("vxlan:" subsystem) or as a switch port
 * ("vale0:vxlan:..."), has an address and numbers joined by ':'. */
static int
unm_nmreq_is_tunnelchar(char c)
{
	return (c >= '0' && c <= '9') || c == '.' || c == ':';
}

/*
 * nmreq_header_decode - extract the port name of a portspec
 * @pspec	(in/out) the portspec; on success moved past the vpname
 * @hdr		hdr->nr_name receives the name; nothing else is touched
 * @ctx		context for error messages
 *
 * Rules: the subsystem is "netmap" (nothing between it and ':') or "vale"
 * followed by an optional [A-Za-z0-9_]* switch name.  The vpname ends at the
 * first of - * ^ / @ and is  base [ ('{'|'}') pipeid ]  where base is a
 * non-empty [A-Za-z0-9_.]+ and pipeid a non-empty [A-Za-z0-9_]+.  The
 * resulting nr_name ("eth0", "pipe{1", "vale0:p{x") must be shorter than
 * NETMAP_REQ_IFNAMSIZ.
 *
 * Returns 0 on success.  On error returns -1, sets errno to EINVAL, leaves
 * *@pspec and *@hdr unchanged and sends a message to @ctx->error().
 */
UNM_EXPORT int
nmreq_header_decode(const char **pspec, struct nmreq_header *hdr,
		struct nmctx *ctx)
{
	const struct unm_nmreq_subsys *sub = NULL;
	const char *spec, *scan, *colon, *vpname, *name, *end, *pipe;
	const char *base_end, *bad;
	size_t i, namelen;

	if (pspec == NULL || *pspec == NULL) {
		nmctx_ferror(ctx, "invalid request: missing port name");
		goto fail;
	}
	spec = *pspec;

	for (i = 0; i < sizeof(unm_nmreq_subsystems) /
	    sizeof(unm_nmreq_subsystems[0]); i++) {
		if (strncmp(spec, unm_nmreq_subsystems[i].prefix,
		    unm_nmreq_subsystems[i].len) == 0) {
			sub = &unm_nmreq_subsystems[i];
			break;
		}
	}
	if (sub == NULL) {
		nmctx_ferror(ctx, "%.200s: invalid request, prefix unknown "
		    "or missing", spec);
		goto fail;
	}
	scan = spec + sub->len;

	colon = strchr(scan, ':');
	if (colon == NULL) {
		nmctx_ferror(ctx, "%.200s: missing ':'", spec);
		goto fail;
	}
	if (colon != scan) {
		if (!sub->has_id) {
			nmctx_ferror(ctx, "%.200s: no identifier allowed "
			    "between '%s' and ':'", spec, sub->prefix);
			goto fail;
		}
		if (unm_nmreq_find_bad(scan, colon, unm_nmreq_is_ident)) {
			nmctx_ferror(ctx, "%.200s: invalid identifier", spec);
			goto fail;
		}
	}
	vpname = colon + 1;
	name = sub->keep_prefix ? spec : vpname;

	/* the vpname runs up to the first mode/option separator */
	end = vpname + strcspn(vpname, UNM_NMREQ_NAME_END);

	/* the first '{' or '}' separates the pipe id */
	pipe = vpname + strcspn(vpname, "{}");
	if (pipe >= end)
		pipe = NULL;
	base_end = (pipe != NULL) ? pipe : end;

	if (base_end == vpname) {
		nmctx_ferror(ctx, "%.200s: invalid empty port name", spec);
		goto fail;
	}
	if (strncmp(sub->prefix, "vxlan", 5) == 0)
		bad = unm_nmreq_find_bad(vpname, base_end, unm_nmreq_is_tunnelchar);
	else if (sub->has_id && strncmp(vpname, "vxlan:", 6) == 0)
		bad = unm_nmreq_find_bad(vpname + 6, base_end, unm_nmreq_is_tunnelchar);
	else
		bad = unm_nmreq_find_bad(vpname, base_end, unm_nmreq_is_portchar);
	if (bad != NULL) {
		nmctx_ferror(ctx, "%.200s: invalid character '%c' in port name",
		    spec, *bad);
		goto fail;
	}
	if (pipe != NULL) {
		if (pipe + 1 == end) {
			nmctx_ferror(ctx, "%.200s: invalid empty pipe name",
			    spec);
			goto fail;
		}
		if (unm_nmreq_find_bad(pipe + 1, end, unm_nmreq_is_ident)) {
			nmctx_ferror(ctx, "%.200s: invalid pipe name", spec);
			goto fail;
		}
	}

	namelen = (size_t)(end - name);
	if (namelen >= sizeof(hdr->nr_name)) {
		nmctx_ferror(ctx, "name '%.*s...' too long (max %zu "
		    "characters)", (int)sizeof(hdr->nr_name), name,
		    sizeof(hdr->nr_name) - 1);
		goto fail;
	}

	memcpy(hdr->nr_name, name, namelen);
	hdr->nr_name[namelen] = '\0';
	*pspec = end;
	return 0;

fail:
	errno = EINVAL;
	return -1;
}

/* -------------------------------------------------------------------------
 * nmreq_register
 */

/*
 * nmreq_register_decode - parse the mode part of a portspec
 * @pmode	(in/out) the text after the vpname; on success moved past it
 * @reg		receives nr_mode, nr_ringid, nr_flags and nr_mem_id
 * @ctx		context for error messages
 *
 * Accepted (see libnetmap.h): an optional mode as first element
 * ('^', '^N', '*', '-N'), then '/' followed by flag letters x z t r R T,
 * and '@N' memory ids (N > 0; a non-zero reg->nr_mem_id on entry counts as
 * already set, and a different id is an error).  A '@' followed by a
 * non-digit starts the options: parsing stops there without error and
 * *@pmode is left pointing at that '@'.
 *
 * Returns 0 on success.  On error returns -1, sets errno to EINVAL, leaves
 * *@pmode and *@reg unchanged and sends a message to @ctx->error().
 */
UNM_EXPORT int
nmreq_register_decode(const char **pmode, struct nmreq_register *reg,
		struct nmctx *ctx)
{
	enum {
		UNM_S_START,	/* nothing seen yet: a mode may come */
		UNM_S_NEXT,	/* only '/' or '@' may follow */
		UNM_S_RING,	/* digits are mandatory (after '-') */
		UNM_S_HOST,	/* after '^': optional digits */
		UNM_S_FLAGS,	/* after '/': at least one flag or '@' */
		UNM_S_MOREFLAGS,/* flags seen: more flags, '@' or end */
		UNM_S_MEMID,	/* after '@': digits, or options begin */
	} state = UNM_S_START;
	const char *s;
	uint32_t mode = NR_REG_ALL_NIC;
	uint16_t ringid = 0;
	uint64_t flags = 0;
	uint16_t mem_id;
	unsigned long n;

	if (pmode == NULL || *pmode == NULL) {
		nmctx_ferror(ctx, "invalid request: missing port mode");
		goto fail;
	}
	s = *pmode;
	mem_id = reg->nr_mem_id;

	while (*s != '\0') {
		switch (state) {
		case UNM_S_START:
			switch (*s) {
			case '^':
				mode = NR_REG_SW;
				state = UNM_S_HOST;
				break;
			case '*':
				mode = NR_REG_NIC_SW;
				state = UNM_S_NEXT;
				break;
			case '-':
				mode = NR_REG_ONE_NIC;
				state = UNM_S_RING;
				break;
			case '/':
				state = UNM_S_FLAGS;
				break;
			case '@':
				state = UNM_S_MEMID;
				break;
			default:
				nmctx_ferror(ctx, "unknown modifier: '%c'", *s);
				goto fail;
			}
			s++;
			break;

		case UNM_S_NEXT:
			if (*s == '/') {
				state = UNM_S_FLAGS;
			} else if (*s == '@') {
				state = UNM_S_MEMID;
			} else {
				nmctx_ferror(ctx, "unexpected character: '%c'",
				    *s);
				goto fail;
			}
			s++;
			break;

		case UNM_S_HOST:
			/* "^N" selects one host ring; re-examine *s below */
			if (unm_nmreq_is_digit(*s)) {
				mode = NR_REG_ONE_SW;
				state = UNM_S_RING;
			} else {
				state = UNM_S_NEXT;
			}
			break;

		case UNM_S_RING:
			if (!unm_nmreq_is_digit(*s)) {
				nmctx_ferror(ctx, "got '%.200s' while expecting a "
				    "number", s);
				goto fail;
			}
			n = unm_nmreq_parse_uint(&s);
			if (n >= UNM_NMREQ_RING_LIMIT) {
				nmctx_ferror(ctx, "ring number %lu out of range "
				    "[0, %d)", n, UNM_NMREQ_RING_LIMIT);
				goto fail;
			}
			ringid = (uint16_t)n;
			state = UNM_S_NEXT;
			break;

		case UNM_S_FLAGS:
		case UNM_S_MOREFLAGS:
			switch (*s) {
			case '@':
				state = UNM_S_MEMID;
				s++;
				continue;
			case 'x':
				flags |= NR_EXCLUSIVE;
				break;
			case 'z':
				flags |= NR_ZCOPY_MON;
				break;
			case 't':
				flags |= NR_MONITOR_TX;
				break;
			case 'r':
				flags |= NR_MONITOR_RX;
				break;
			case 'R':
				flags |= NR_RX_RINGS_ONLY;
				break;
			case 'T':
				flags |= NR_TX_RINGS_ONLY;
				break;
			default:
				nmctx_ferror(ctx, "unrecognized flag: '%c'", *s);
				goto fail;
			}
			state = UNM_S_MOREFLAGS;
			s++;
			break;

		case UNM_S_MEMID:
			if (!unm_nmreq_is_digit(*s)) {
				/* "@name": the options start at this '@' */
				s--;
				goto done;
			}
			n = unm_nmreq_parse_uint(&s);
			if (n == 0 || n > UINT16_MAX) {
				nmctx_ferror(ctx, "invalid mem_id: '%lu'", n);
				goto fail;
			}
			if (mem_id != 0 && mem_id != n) {
				nmctx_ferror(ctx, "invalid setting of mem_id to "
				    "%lu (already set to %u)", n,
				    (unsigned)mem_id);
				goto fail;
			}
			mem_id = (uint16_t)n;
			state = UNM_S_NEXT;
			break;
		}
	}

	switch (state) {
	case UNM_S_MEMID:
		nmctx_ferror(ctx, "invalid empty mem_id");
		goto fail;
	case UNM_S_RING:
	case UNM_S_FLAGS:
		nmctx_ferror(ctx, "unexpected end of request");
		goto fail;
	default:
		break;
	}

done:
	reg->nr_mode = mode;
	reg->nr_ringid = ringid;
	reg->nr_flags = flags;
	reg->nr_mem_id = mem_id;
	*pmode = s;
	return 0;

fail:
	errno = EINVAL;
	return -1;
}

/* -------------------------------------------------------------------------
 * options ("@name", "@name=value", "@name:key=value,...")
 */

/* the key id the "name=value" form assigns, or -1 if the parser has none */
static int
unm_nmreq_default_key(const struct nmreq_opt_parser *p)
{
	int i;

	if (p->default_key >= 0 && p->default_key < NMREQ_OPT_MAXKEYS)
		return p->default_key;
	for (i = 0; i < NMREQ_OPT_MAXKEYS && p->keys[i].key != NULL; i++) {
		if (p->keys[i].flags & NMREQ_OPTK_DEFAULT)
			return p->keys[i].id;
	}
	return -1;
}

/* key names compare equal if they differ only in '-' versus '_' */
static int
unm_nmreq_key_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char ca = (*a == '-') ? '_' : *a;
		char cb = (*b == '-') ? '_' : *b;

		if (ca != cb)
			return 0;
		if (ca == '\0')
			return 1;
	}
}

static const struct nmreq_opt_key *
unm_nmreq_find_key(const struct nmreq_opt_parser *p, const char *key)
{
	int i;

	for (i = 0; i < NMREQ_OPT_MAXKEYS && p->keys[i].key != NULL; i++) {
		if (unm_nmreq_key_eq(p->keys[i].key, key))
			return &p->keys[i];
	}
	return NULL;
}

/*
 * Split "key=value,key=value" (modified in place) into pctx->keys[].
 * '-' in key names is folded to '_'; every key may appear at most once;
 * "key=" leaves the key unassigned; a bare "key" is accepted only for keys
 * flagged NMREQ_OPTK_ALLOWEMPTY (the value is then the key name itself).
 * An empty list ("name:") assigns nothing; empty items (",,", a trailing
 * ',') are errors.
 */
static int
unm_nmreq_parse_keys(const struct nmreq_opt_parser *p, char *body,
		struct nmreq_parse_ctx *pctx)
{
	unsigned int seen = 0;
	char *item = body;
	int more;

	if (*body == '\0')
		return 0;
	do {
		const struct nmreq_opt_key *k;
		char *next, *eq, *c;

		next = item + strcspn(item, ",");
		more = (*next == ',');
		if (more)
			*next++ = '\0';
		eq = strchr(item, '=');
		if (eq != NULL)
			*eq = '\0';
		for (c = item; *c != '\0'; c++) {
			if (*c == '-')
				*c = '_';
		}
		if (*item == '\0') {
			nmctx_ferror(pctx->ctx, "option '%s': empty key",
			    p->prefix);
			goto fail;
		}
		k = unm_nmreq_find_key(p, item);
		if (k == NULL) {
			nmctx_ferror(pctx->ctx, "option '%s': unknown key: "
			    "'%.200s'", p->prefix, item);
			goto fail;
		}
		if (k->id < 0 || k->id >= NMREQ_OPT_MAXKEYS) {
			nmctx_ferror(pctx->ctx, "option '%s': key '%.200s' has "
			    "invalid id %d", p->prefix, item, k->id);
			goto fail;
		}
		if (seen & (1U << k->id)) {
			nmctx_ferror(pctx->ctx, "option '%s': duplicate key "
			    "'%.200s'", p->prefix, item);
			goto fail;
		}
		seen |= 1U << k->id;
		if (eq != NULL) {
			pctx->keys[k->id] = (eq[1] != '\0') ? eq + 1 : NULL;
		} else if (k->flags & NMREQ_OPTK_ALLOWEMPTY) {
			pctx->keys[k->id] = item;
		} else {
			nmctx_ferror(pctx->ctx, "option '%s': missing '=value' "
			    "for key '%.200s'", p->prefix, item);
			goto fail;
		}
		item = next;
	} while (more);
	return 0;

fail:
	errno = EINVAL;
	return -1;
}

/* check that every NMREQ_OPTK_MUSTSET key received a value */
static int
unm_nmreq_check_mandatory(const struct nmreq_opt_parser *p,
		struct nmreq_parse_ctx *pctx)
{
	int i;

	for (i = 0; i < NMREQ_OPT_MAXKEYS && p->keys[i].key != NULL; i++) {
		const struct nmreq_opt_key *k = &p->keys[i];

		if (!(k->flags & NMREQ_OPTK_MUSTSET))
			continue;
		if (k->id < 0 || k->id >= NMREQ_OPT_MAXKEYS ||
		    pctx->keys[k->id] == NULL) {
			nmctx_ferror(pctx->ctx, "option '%s': mandatory key "
			    "'%s' not assigned", p->prefix, k->key);
			errno = EINVAL;
			return -1;
		}
	}
	return 0;
}

/* decode one option (without its '@'), modifying @opt in place */
static int
unm_nmreq_option_decode1(char *opt, struct nmreq_opt_parser *parsers,
		void *token, struct nmctx *ctx)
{
	struct nmreq_opt_parser *p;
	struct nmreq_parse_ctx pctx;
	char *sep, *body, delim;
	int defkey, i;

	sep = opt + strcspn(opt, ":=");
	delim = *sep;
	*sep = '\0';
	body = (delim != '\0') ? sep + 1 : sep;

	for (p = parsers; p != NULL; p = p->next) {
		if (p->prefix != NULL && strcmp(p->prefix, opt) == 0)
			break;
	}
	if (p == NULL) {
		nmctx_ferror(ctx, "unknown option: '%.200s'", opt);
		errno = EINVAL;
		return -1;
	}
	if (p->flags & NMREQ_OPTF_DISABLED) {
		nmctx_ferror(ctx, "option '%.200s' is not supported", opt);
		errno = EOPNOTSUPP;
		return -1;
	}

	pctx.ctx = ctx;
	pctx.token = token;
	for (i = 0; i < NMREQ_OPT_MAXKEYS; i++)
		pctx.keys[i] = NULL;

	switch (delim) {
	case '\0':
		if (!(p->flags & NMREQ_OPTF_ALLOWEMPTY)) {
			nmctx_ferror(ctx, "syntax error: missing body after "
			    "'%.200s'", opt);
			errno = EINVAL;
			return -1;
		}
		break;
	case '=':
		defkey = unm_nmreq_default_key(p);
		if (defkey < 0) {
			nmctx_ferror(ctx, "syntax error: '=' not valid after "
			    "'%.200s' (use '%.200s:key=value')", opt, opt);
			errno = EINVAL;
			return -1;
		}
		if (*body == '\0') {
			nmctx_ferror(ctx, "missing value for option '%s'", opt);
			errno = EINVAL;
			return -1;
		}
		pctx.keys[defkey] = body;
		if (unm_nmreq_check_mandatory(p, &pctx) < 0)
			return -1;
		break;
	default: /* ':' */
		if (unm_nmreq_parse_keys(p, body, &pctx) < 0)
			return -1;
		if (unm_nmreq_check_mandatory(p, &pctx) < 0)
			return -1;
		break;
	}

	if (p->parse == NULL)
		return 0;
	errno = 0;
	if (p->parse(&pctx) < 0) {
		if (errno == 0)
			errno = EINVAL;
		return -1;
	}
	return 0;
}

/*
 * nmreq_options_decode - parse the options part of a portspec
 * @opt		the text left by nmreq_register_decode(): "" or "@..."
 * @parsers	list (linked through ->next) of the recognised options
 * @token	passed to each parser callback in nmreq_parse_ctx.token
 * @ctx		context for errors and for the scratch allocations
 *
 * Each '@' starts an option that runs to the next '@' or the end.  The
 * option name is matched exactly against the parsers' prefixes; the keys
 * are checked as described in libnetmap.h and then the parser callback
 * interprets them.  Options are applied left to right.
 *
 * Returns 0 on success.  On error returns -1 and sets errno: EINVAL for
 * syntax errors, unknown options or keys; EOPNOTSUPP for a disabled option;
 * ENOMEM; or whatever a parser callback set.  A message is sent to
 * @ctx->error().  Options decoded before the failing one are not undone.
 */
UNM_EXPORT int
nmreq_options_decode(const char *opt, struct nmreq_opt_parser *parsers,
		void *token, struct nmctx *ctx)
{
	const char *scan;

	if (opt == NULL || *opt == '\0')
		return 0;
	if (*opt != '@') {
		nmctx_ferror(ctx, "option list does not start with '@': "
		    "'%.200s'", opt);
		errno = EINVAL;
		return -1;
	}

	scan = opt;
	while (*scan == '@') {
		const char *start = scan + 1;
		size_t len = strcspn(start, "@");
		char *copy;
		int ret;

		if (len == 0) {
			nmctx_ferror(ctx, "invalid empty option");
			errno = EINVAL;
			return -1;
		}
		copy = nmctx_malloc(ctx, len + 1);
		if (copy == NULL) {
			nmctx_ferror(ctx, "out of memory parsing options");
			errno = ENOMEM;
			return -1;
		}
		memcpy(copy, start, len);
		copy[len] = '\0';
		ret = unm_nmreq_option_decode1(copy, parsers, token, ctx);
		if (ret < 0) {
			int err = errno;

			nmctx_free(ctx, copy);
			errno = err;
			return -1;
		}
		nmctx_free(ctx, copy);
		scan = start + len;
	}
	return 0;
}

/* -------------------------------------------------------------------------
 * mem id lookup
 */

/*
 * nmreq_get_mem_id - memory region id of the port named by a portspec
 * @pportname	(in/out) "subsystem:vpname..."; on success moved past vpname
 * @ctx		context for error messages
 *
 * The name is decoded first (nothing is opened for a malformed name), then
 * a NETMAP_REQ_PORT_INFO_GET request is issued on a fresh control fd.  Note
 * that for a VALE port that does not exist yet the port is created only for
 * the duration of the request, so the id is stable only for ports that
 * outlive it (NICs, persistent or already open ports).
 *
 * Returns the mem id (>= 0).  On error returns -1 with errno set (EINVAL for
 * a bad name, otherwise the errno of open/ioctl) and a message sent to
 * @ctx->error(); *@pportname is then unchanged.
 */
UNM_EXPORT int32_t
nmreq_get_mem_id(const char **pportname, struct nmctx *ctx)
{
	struct nmreq_header hdr;
	struct nmreq_port_info_get info;
	const char *scan;
	int fd, err;

	if (pportname == NULL || *pportname == NULL) {
		nmctx_ferror(ctx, "invalid request: missing port name");
		errno = EINVAL;
		return -1;
	}
	scan = *pportname;
	memset(&info, 0, sizeof(info));
	nmreq_header_init(&hdr, NETMAP_REQ_PORT_INFO_GET, &info);
	if (nmreq_header_decode(&scan, &hdr, ctx) < 0)
		return -1;

	fd = open(NETMAP_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		nmctx_ferror(ctx, "cannot open %s: %s%s%s", NETMAP_DEVICE_NAME,
		    strerror(err), unm_reason()[0] ? ": " : "", unm_reason());
		errno = err;
		return -1;
	}
	if (ioctl(fd, NIOCCTRL, &hdr) < 0) {
		err = errno;
		nmctx_ferror(ctx, "cannot get info for '%.*s': %s%s%s",
		    (int)(scan - *pportname), *pportname, strerror(err),
		    unm_reason()[0] ? ": " : "", unm_reason());
		close(fd);
		errno = err;
		return -1;
	}
	close(fd);
	*pportname = scan;
	return info.nr_mem_id;
}

/* -------------------------------------------------------------------------
 * option lists
 */

/*
 * nmreq_push_option - insert @opt at the head of @hdr's option list
 */
UNM_EXPORT void
nmreq_push_option(struct nmreq_header *hdr, struct nmreq_option *opt)
{
	opt->nro_next = hdr->nr_options;
	hdr->nr_options = (uint64_t)(uintptr_t)opt;
}

/*
 * nmreq_remove_option - unlink @opt from @hdr's option list
 *
 * If found, @opt->nro_next is cleared; otherwise nothing changes.
 */
UNM_EXPORT void
nmreq_remove_option(struct nmreq_header *hdr, struct nmreq_option *opt)
{
	uint64_t *link = &hdr->nr_options;

	while (*link != 0) {
		struct nmreq_option *o =
		    (struct nmreq_option *)(uintptr_t)*link;

		if (o == opt) {
			*link = o->nro_next;
			o->nro_next = 0;
			return;
		}
		link = &o->nro_next;
	}
}

/*
 * nmreq_find_option - first option of type @reqtype in @hdr's list, or NULL
 */
UNM_EXPORT struct nmreq_option *
nmreq_find_option(struct nmreq_header *hdr, uint32_t reqtype)
{
	struct nmreq_option *o;

	nmreq_foreach_option(hdr, o) {
		if (o->nro_reqtype == reqtype)
			return o;
	}
	return NULL;
}

/*
 * nmreq_free_options - free() every option in @hdr's list
 *
 * The options must have been allocated with malloc().  The list is left
 * empty (hdr->nr_options = 0).
 */
UNM_EXPORT void
nmreq_free_options(struct nmreq_header *hdr)
{
	struct nmreq_option *o, *next;

	for (o = (struct nmreq_option *)(uintptr_t)hdr->nr_options; o != NULL;
	    o = next) {
		next = (struct nmreq_option *)(uintptr_t)o->nro_next;
		free(o);
	}
	hdr->nr_options = 0;
}

/*
 * nmreq_option_name - printable name of an option type ("unknown" if none)
 */
UNM_EXPORT const char *
nmreq_option_name(uint32_t reqtype)
{
	switch (reqtype) {
	case NETMAP_REQ_OPT_EXTMEM:
		return "extmem";
	case NETMAP_REQ_OPT_SYNC_KLOOP_EVENTFDS:
		return "sync-kloop-eventfds";
	case NETMAP_REQ_OPT_CSB:
		return "csb";
	case NETMAP_REQ_OPT_SYNC_KLOOP_MODE:
		return "sync-kloop-mode";
	case NETMAP_REQ_OPT_OFFSETS:
		return "offsets";
	default:
		return "unknown";
	}
}

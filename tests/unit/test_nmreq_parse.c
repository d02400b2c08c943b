/*
 * test_nmreq_parse - table-driven tests of libnetmap's portspec parsing.
 *
 * Covers nmreq_header_decode, nmreq_register_decode, nmreq_options_decode
 * (built-in and custom parsers), nmport_parse and its option parsers, the
 * option-list helpers, nmctx error delivery, and the parts of nmport that
 * can run without a device: extmem, offsets, clone, mmap of an extmem
 * region and nmport_inject on a hand-built region.
 *
 * Needs neither netmapd nor /dev/netmap: nothing here opens a port.
 * Prints each failing check with expected and actual values; the last line
 * is "test_nmreq_parse: N checks ok" (exit 0) or a failure count (exit 1).
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libnetmap.h>

/* -------------------------------------------------------------------------
 * check helpers
 */

static unsigned int n_checks, n_failed;
static const char *cur_case = "";

static void
check_fail(int line, const char *fmt, ...)
{
	va_list ap;

	n_failed++;
	printf("FAIL [%s] line %d: ", cur_case, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

#define CHECK(cond, ...) do {						\
	n_checks++;							\
	if (!(cond))							\
		check_fail(__LINE__, __VA_ARGS__);			\
} while (0)

#define CHECK_INT(got, want) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	CHECK(g_ == w_, "%s: got %lld, want %lld", #got, g_, w_);	\
} while (0)

#define CHECK_STR(got, want) do {					\
	const char *g_ = (got), *w_ = (want);				\
	CHECK(g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0,		\
	    "%s: got \"%s\", want \"%s\"", #got,			\
	    g_ ? g_ : "(null)", w_ ? w_ : "(null)");			\
} while (0)

#define CHECK_ERRNO(want) do {						\
	int e_ = errno;							\
	CHECK(e_ == (want), "errno: got %d (%s), want %d (%s)",	\
	    e_, strerror(e_), (want), strerror(want));			\
} while (0)

/* -------------------------------------------------------------------------
 * a context that records messages instead of printing them
 */

static unsigned int n_msgs;
static char last_msg[1100];

static void
capture_error(struct nmctx *ctx, const char *msg)
{
	(void)ctx;
	n_msgs++;
	snprintf(last_msg, sizeof(last_msg), "%s", msg);
}

static struct nmctx test_ctx;

static void
msgs_reset(void)
{
	n_msgs = 0;
	last_msg[0] = '\0';
}

#define CHECK_MSG() CHECK(n_msgs > 0, "no error message was produced")
#define CHECK_NOMSG() CHECK(n_msgs == 0, "unexpected error message: %s", \
	last_msg)

/* -------------------------------------------------------------------------
 * 1. header + register decode table
 */

#define HDR_ERR(e)	(e)	/* nmreq_header_decode fails with errno e */
#define REG_ERR(e)	(-(e))	/* nmreq_register_decode fails with errno e */

struct decode_row {
	const char *spec;
	const char *name;	/* expected nr_name (unused on HDR_ERR) */
	const char *rest;	/* expected remaining text (unused on HDR_ERR) */
	int err;		/* 0, HDR_ERR(e) or REG_ERR(e) */
	uint32_t mode;
	uint16_t ringid;
	uint64_t flags;
	uint16_t mem_id;	/* expected nr_mem_id on success */
	uint16_t mem_in;	/* nr_mem_id on entry */
};

#define N64 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab"
#define N63 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789a"

static const struct decode_row decode_rows[] = {
	/* the upstream nmreq_parsing table */
	{ "netmap:eth0", "eth0", "", 0, NR_REG_ALL_NIC, 0, 0, 0, 0 },
	{ "netmap:eth0-1", "eth0", "", 0, NR_REG_ONE_NIC, 1, 0, 0, 0 },
	{ "netmap:eth0-", "eth0", "-", REG_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:eth0/x", "eth0", "", 0, NR_REG_ALL_NIC, 0, NR_EXCLUSIVE, 0, 0 },
	{ "netmap:eth0/z", "eth0", "", 0, NR_REG_ALL_NIC, 0, NR_ZCOPY_MON, 0, 0 },
	{ "netmap:eth0/r", "eth0", "", 0, NR_REG_ALL_NIC, 0, NR_MONITOR_RX, 0, 0 },
	{ "netmap:eth0/t", "eth0", "", 0, NR_REG_ALL_NIC, 0, NR_MONITOR_TX, 0, 0 },
	{ "netmap:eth0-2/Tx", "eth0", "", 0, NR_REG_ONE_NIC, 2,
	    NR_TX_RINGS_ONLY | NR_EXCLUSIVE, 0, 0 },
	{ "netmap:eth0*", "eth0", "", 0, NR_REG_NIC_SW, 0, 0, 0, 0 },
	{ "netmap:eth0^", "eth0", "", 0, NR_REG_SW, 0, 0, 0, 0 },
	{ "netmap:eth0@2", "eth0", "", 0, NR_REG_ALL_NIC, 0, 0, 2, 0 },
	{ "netmap:eth0@2/R", "eth0", "", 0, NR_REG_ALL_NIC, 0,
	    NR_RX_RINGS_ONLY, 2, 0 },
	{ "netmap:eth0@netmap:lo/R", "eth0", "@netmap:lo/R", 0,
	    NR_REG_ALL_NIC, 0, 0, 0, 0 },
	{ "netmap:eth0/R@xxx", "eth0", "@xxx", 0, NR_REG_ALL_NIC, 0,
	    NR_RX_RINGS_ONLY, 0, 0 },
	{ "netmap:eth0@2/R@2", "eth0", "", 0, NR_REG_ALL_NIC, 0,
	    NR_RX_RINGS_ONLY, 2, 0 },
	{ "netmap:eth0@2/R@3", "eth0", "@2/R@3", REG_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:eth0@", "eth0", "@", REG_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:^", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:{", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:vale0:0", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "eth0", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "vale0:0", "vale0:0", "", 0, NR_REG_ALL_NIC, 0, 0, 0, 0 },
	{ "vale:0", "vale:0", "", 0, NR_REG_ALL_NIC, 0, 0, 0, 0 },
	/* unetmap's null:NAME ports keep the whole string as the name */
	{ "null:x", "null:x", "", 0, NR_REG_ALL_NIC, 0, 0, 0, 0 },
	{ "null:sink-1", "null:sink", "", 0, NR_REG_ONE_NIC, 1, 0, 0, 0 },
	/* unetmap's VXLAN tunnels, alone and as switch ports: an address
	 * and numbers joined by ':', nothing else */
	{ "vxlan:10.0.0.2:42", "vxlan:10.0.0.2:42", "", 0, NR_REG_ALL_NIC, 0, 0, 0, 0 },
	{ "vxlan:10.0.0.2:42:4789:4790/x", "vxlan:10.0.0.2:42:4789:4790", "", 0,
	    NR_REG_ALL_NIC, 0, NR_EXCLUSIVE, 0, 0 },
	{ "vale0:vxlan:10.0.0.2:42/x", "vale0:vxlan:10.0.0.2:42", "", 0, NR_REG_ALL_NIC, 0,
	    NR_EXCLUSIVE, 0, 0 },
	{ "vxlan:host:42", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "vale0:vxlan:a:b", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "vale0:x:1", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "valeXXX:YYY", "valeXXX:YYY", "", 0, NR_REG_ALL_NIC, 0, 0, 0, 0 },
	{ "valeXXX:YYY-4", "valeXXX:YYY", "", 0, NR_REG_ONE_NIC, 4, 0, 0, 0 },
	{ "netmapXXX:eth0", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:14", "14", "", 0, NR_REG_ALL_NIC, 0, 0, 0, 0 },
	{ "netmap:eth0&", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:pipe{0", "pipe{0", "", 0, NR_REG_ALL_NIC, 0, 0, 0, 0 },
	{ "netmap:pipe{in", "pipe{in", "", 0, NR_REG_ALL_NIC, 0, 0, 0, 0 },
	{ "netmap:pipe{in-7", "pipe{in", "", 0, NR_REG_ONE_NIC, 7, 0, 0, 0 },
	{ "vale0:0{0", "vale0:0{0", "", 0, NR_REG_ALL_NIC, 0, 0, 0, 0 },
	{ "netmap:pipe{1}2", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "vale0:0@opt", "vale0:0", "@opt", 0, NR_REG_ALL_NIC, 0, 0, 0, 0 },
	{ "vale0:0/Tx@opt", "vale0:0", "@opt", 0, NR_REG_ALL_NIC, 0,
	    NR_TX_RINGS_ONLY | NR_EXCLUSIVE, 0, 0 },
	{ "vale0:0-3@opt", "vale0:0", "@opt", 0, NR_REG_ONE_NIC, 3, 0, 0, 0 },
	{ "vale0:0@", "vale0:0", "@", REG_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },

	/* modes */
	{ "netmap:eth0^1", "eth0", "", 0, NR_REG_ONE_SW, 1, 0, 0, 0 },
	{ "netmap:eth0^12/x", "eth0", "", 0, NR_REG_ONE_SW, 12,
	    NR_EXCLUSIVE, 0, 0 },
	{ "netmap:eth0^/x", "eth0", "", 0, NR_REG_SW, 0, NR_EXCLUSIVE, 0, 0 },
	{ "netmap:eth0^@3", "eth0", "", 0, NR_REG_SW, 0, 0, 3, 0 },
	{ "netmap:eth0^-1", "eth0", "^-1", REG_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:eth0*/R", "eth0", "", 0, NR_REG_NIC_SW, 0,
	    NR_RX_RINGS_ONLY, 0, 0 },
	{ "netmap:eth0*1", "eth0", "*1", REG_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:eth0**", "eth0", "**", REG_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:eth0-0", "eth0", "", 0, NR_REG_ONE_NIC, 0, 0, 0, 0 },
	{ "netmap:eth0-007", "eth0", "", 0, NR_REG_ONE_NIC, 7, 0, 0, 0 },
	{ "netmap:eth0-4094", "eth0", "", 0, NR_REG_ONE_NIC, 4094, 0, 0, 0 },
	{ "netmap:eth0-4095", "eth0", "-4095", REG_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:eth0-99999999999999999999999", "eth0",
	    "-99999999999999999999999", REG_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:eth0-x", "eth0", "-x", REG_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:eth0-1-2", "eth0", "-1-2", REG_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:eth0-1*", "eth0", "-1*", REG_ERR(EINVAL), 0, 0, 0, 0, 0 },

	/* flags */
	{ "netmap:eth0/xzrtRT", "eth0", "", 0, NR_REG_ALL_NIC, 0,
	    NR_EXCLUSIVE | NR_ZCOPY_MON | NR_MONITOR_RX | NR_MONITOR_TX |
	    NR_RX_RINGS_ONLY | NR_TX_RINGS_ONLY, 0, 0 },
	{ "netmap:eth0/", "eth0", "/", REG_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:eth0/q", "eth0", "/q", REG_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:eth0/x/", "eth0", "/x/", REG_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:eth0/x^", "eth0", "/x^", REG_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:eth0/x@2/R", "eth0", "", 0, NR_REG_ALL_NIC, 0,
	    NR_EXCLUSIVE | NR_RX_RINGS_ONLY, 2, 0 },
	{ "netmap:eth0{0/xT@1", "eth0{0", "", 0, NR_REG_ALL_NIC, 0,
	    NR_EXCLUSIVE | NR_TX_RINGS_ONLY, 1, 0 },
	{ "netmap:pipe{1/r", "pipe{1", "", 0, NR_REG_ALL_NIC, 0,
	    NR_MONITOR_RX, 0, 0 },
	{ "vale0:v0/z", "vale0:v0", "", 0, NR_REG_ALL_NIC, 0, NR_ZCOPY_MON, 0, 0 },

	/* mem ids */
	{ "netmap:eth0@0", "eth0", "@0", REG_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:eth0@65535", "eth0", "", 0, NR_REG_ALL_NIC, 0, 0, 65535, 0 },
	{ "netmap:eth0@65536", "eth0", "@65536", REG_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:eth0@3@3", "eth0", "", 0, NR_REG_ALL_NIC, 0, 0, 3, 0 },
	{ "netmap:eth0@2x", "eth0", "@2x", REG_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:eth0@2@opt", "eth0", "@opt", 0, NR_REG_ALL_NIC, 0, 0, 2, 0 },
	{ "netmap:eth0-1@2/x", "eth0", "", 0, NR_REG_ONE_NIC, 1,
	    NR_EXCLUSIVE, 2, 0 },
	{ "netmap:eth0@2", "eth0", "", 0, NR_REG_ALL_NIC, 0, 0, 2, 2 },
	{ "netmap:eth0@2", "eth0", "@2", REG_ERR(EINVAL), 0, 0, 0, 0, 3 },
	{ "netmap:eth0", "eth0", "", 0, NR_REG_ALL_NIC, 0, 0, 5, 5 },
	{ "netmap:eth0@opt", "eth0", "@opt", 0, NR_REG_ALL_NIC, 0, 0, 5, 5 },

	/* names */
	{ "netmap:eth0.123", "eth0.123", "", 0, NR_REG_ALL_NIC, 0, 0, 0, 0 },
	{ "netmap:eth0.123-2", "eth0.123", "", 0, NR_REG_ONE_NIC, 2, 0, 0, 0 },
	{ "netmap:a_b", "a_b", "", 0, NR_REG_ALL_NIC, 0, 0, 0, 0 },
	{ "netmap:" N63, N63, "", 0, NR_REG_ALL_NIC, 0, 0, 0, 0 },
	{ "netmap:" N64, NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:eth0 ", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:eth 0", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap::", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "NETMAP:eth0", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap-1:eth0", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:-1", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:@2", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },

	/* pipes */
	{ "netmap:pipe}3", "pipe}3", "", 0, NR_REG_ALL_NIC, 0, 0, 0, 0 },
	{ "netmap:pipe{a_1", "pipe{a_1", "", 0, NR_REG_ALL_NIC, 0, 0, 0, 0 },
	{ "netmap:pipe{a-b", "pipe{a", "-b", REG_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:pipe{a.b", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:pipe{a{b", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:pipe}", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:pipe{/x", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:{1", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "netmap:}1", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "vale0:p}x", "vale0:p}x", "", 0, NR_REG_ALL_NIC, 0, 0, 0, 0 },
	{ "vale0:p{", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },

	/* VALE */
	{ "vale", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "vale:", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "vale0:", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "vale0:0:1", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "vale-0:1", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "vale.0:1", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "vale0:a&b", NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
	{ "valeA_b:c.d", "valeA_b:c.d", "", 0, NR_REG_ALL_NIC, 0, 0, 0, 0 },
	{ "valeX:Y*", "valeX:Y", "", 0, NR_REG_NIC_SW, 0, 0, 0, 0 },
	{ "valeX:Y^2", "valeX:Y", "", 0, NR_REG_ONE_SW, 2, 0, 0, 0 },
	{ "vale1:p@extmem:file=/x", "vale1:p", "@extmem:file=/x", 0,
	    NR_REG_ALL_NIC, 0, 0, 0, 0 },
	/* nr_name holds "valeX:port": 63 characters fit, 64 do not */
	{ "vale0:" "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
	    "vale0:" "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
	    "", 0, NR_REG_ALL_NIC, 0, 0, 0, 0 },
	{ "vale0:" "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
	    NULL, NULL, HDR_ERR(EINVAL), 0, 0, 0, 0, 0 },
};

static void
test_decode_row(const struct decode_row *r)
{
	struct nmreq_header hdr, hdr0, hdr_want;
	struct nmreq_register reg, reg0, reg_want;
	const char *scan = r->spec, *after_hdr;
	int ret;

	cur_case = r->spec;
	/* garbage everywhere, to see what the decoders touch */
	memset(&hdr, 0xa5, sizeof(hdr));
	memset(&reg, 0x5a, sizeof(reg));
	reg.nr_mem_id = r->mem_in;
	hdr0 = hdr;
	reg0 = reg;

	msgs_reset();
	errno = 0;
	ret = nmreq_header_decode(&scan, &hdr, &test_ctx);
	if (r->err > 0) {
		CHECK_INT(ret, -1);
		CHECK_ERRNO(r->err);
		CHECK(scan == r->spec, "spec pointer moved on header error "
		    "(now at \"%s\")", scan);
		CHECK(memcmp(&hdr, &hdr0, sizeof(hdr)) == 0,
		    "header changed on error");
		CHECK_MSG();
		return;
	}
	CHECK_INT(ret, 0);
	if (ret != 0) {
		printf("      message: %s\n", last_msg);
		return;
	}
	CHECK_NOMSG();
	CHECK_STR(hdr.nr_name, r->name);
	hdr_want = hdr0;
	memcpy(hdr_want.nr_name, hdr.nr_name, sizeof(hdr.nr_name));
	CHECK(memcmp(&hdr, &hdr_want, sizeof(hdr)) == 0,
	    "header fields other than nr_name changed");

	after_hdr = scan;
	errno = 0;
	ret = nmreq_register_decode(&scan, &reg, &test_ctx);
	if (r->err < 0) {
		CHECK_INT(ret, -1);
		CHECK_ERRNO(-r->err);
		CHECK(scan == after_hdr, "spec pointer moved on register "
		    "error (now at \"%s\")", scan);
		CHECK(memcmp(&reg, &reg0, sizeof(reg)) == 0,
		    "nmreq_register changed on error");
		CHECK_STR(scan, r->rest);
		CHECK_MSG();
		return;
	}
	CHECK_INT(ret, 0);
	if (ret != 0) {
		printf("      message: %s\n", last_msg);
		return;
	}
	CHECK_NOMSG();
	CHECK_STR(scan, r->rest);
	CHECK_INT(reg.nr_mode, r->mode);
	CHECK_INT(reg.nr_ringid, r->ringid);
	CHECK_INT(reg.nr_flags, r->flags);
	CHECK_INT(reg.nr_mem_id, r->mem_id);
	reg_want = reg0;
	reg_want.nr_mode = reg.nr_mode;
	reg_want.nr_ringid = reg.nr_ringid;
	reg_want.nr_flags = reg.nr_flags;
	reg_want.nr_mem_id = reg.nr_mem_id;
	CHECK(memcmp(&reg, &reg_want, sizeof(reg)) == 0,
	    "nmreq_register fields other than mode/ringid/flags/mem_id "
	    "changed");
}

static void
test_decode_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(decode_rows) / sizeof(decode_rows[0]); i++)
		test_decode_row(&decode_rows[i]);

	/* NULL inputs are rejected, not dereferenced */
	cur_case = "NULL spec";
	{
		struct nmreq_header hdr;
		struct nmreq_register reg;
		const char *null_spec = NULL;

		memset(&hdr, 0, sizeof(hdr));
		memset(&reg, 0, sizeof(reg));
		msgs_reset();
		CHECK_INT(nmreq_header_decode(&null_spec, &hdr, &test_ctx), -1);
		CHECK_ERRNO(EINVAL);
		CHECK_INT(nmreq_register_decode(&null_spec, &reg, &test_ctx),
		    -1);
		CHECK_ERRNO(EINVAL);
		CHECK_MSG();
	}
}

/* -------------------------------------------------------------------------
 * 2. nmport_parse with the built-in options
 */

struct parse_row {
	const char *spec;
	int err;		/* expected errno, 0 = success */
	const char *name;
	uint16_t tx_rings, rx_rings, host_tx_rings, host_rx_rings;
	uint32_t tx_slots, rx_slots;
	uint16_t mem_id;
	uint64_t flags;
};

static const struct parse_row parse_rows[] = {
	{ "vale0:1@conf:rings=4,slots=2048", 0, "vale0:1",
	    4, 4, 0, 0, 2048, 2048, 0, 0 },
	{ "vale0:1@conf:tx-rings=2,rx-rings=1", 0, "vale0:1",
	    2, 1, 0, 0, 0, 0, 0, 0 },
	{ "vale0:x@conf:tx-rings=2,rx-rings=1,host-rings=0", 0, "vale0:x",
	    2, 1, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@conf:rings=4,tx_rings=2", 0, "vale0:1",
	    2, 4, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@conf:tx_rings=2,rings=4", 0, "vale0:1",
	    2, 4, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@conf:host-rings=3,host-rx-rings=1", 0, "vale0:1",
	    0, 0, 3, 1, 0, 0, 0, 0 },
	{ "vale0:1@conf:host_tx_rings=2", 0, "vale0:1",
	    0, 0, 2, 0, 0, 0, 0, 0 },
	{ "vale0:1@conf:slots=1024,rx-slots=512", 0, "vale0:1",
	    0, 0, 0, 0, 1024, 512, 0, 0 },
	{ "vale0:1@conf:tx-slots=256@conf:rx-slots=128", 0, "vale0:1",
	    0, 0, 0, 0, 256, 128, 0, 0 },
	{ "vale0:1@conf:rings=65535,slots=4294967295", 0, "vale0:1",
	    65535, 65535, 0, 0, 4294967295u, 4294967295u, 0, 0 },
	{ "vale0:1@conf:rings=", 0, "vale0:1", 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@conf:", 0, "vale0:1", 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@2@conf:rings=3", 0, "vale0:1", 3, 3, 0, 0, 0, 0, 2, 0 },
	{ "vale0:1/x@conf:slots=64", 0, "vale0:1",
	    0, 0, 0, 0, 64, 64, 0, NR_EXCLUSIVE },
	{ "netmap:eth0-1@conf:rings=8", 0, "eth0", 8, 8, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1", 0, "vale0:1", 0, 0, 0, 0, 0, 0, 0, 0 },

	{ "vale0:1@conf=4", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@conf:bogus=1", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@conf:rings", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@conf:rings=4,rings=5", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@conf:rings=4,tx-rings=1,tx_rings=2", EINVAL, NULL,
	    0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@conf:rings=abc", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@conf:rings=-1", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@conf:rings=65536", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@conf:slots=4294967296", EINVAL, NULL,
	    0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@conf:rings=4,", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@conf:,rings=4", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@conf:=4", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@conf", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@Conf:rings=1", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@@", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@conf:rings=1@", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@conf:rings=1@@conf:slots=2", EINVAL, NULL,
	    0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@offset:initial=8", EOPNOTSUPP, NULL,
	    0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@offset=8", EOPNOTSUPP, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@bogus", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@=3", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "netmap:eth0@netmap:lo/R", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@share", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@share=", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@share:port=", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@share:bogus=1", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	/* a malformed share target is rejected before anything is opened */
	{ "vale0:1@share=eth0", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@share=netmap:", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@extmem", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@extmem:if-num=3", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@extmem:file=/nonexistent,buf-num=x", EINVAL, NULL,
	    0, 0, 0, 0, 0, 0, 0, 0 },
	{ "vale0:1@extmem=/nonexistent/unetmap-test", ENOENT, NULL,
	    0, 0, 0, 0, 0, 0, 0, 0 },
	/* errors in the name or mode part still zero everything */
	{ "vale0:1-@conf:rings=4", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "bogus:1@conf:rings=4", EINVAL, NULL, 0, 0, 0, 0, 0, 0, 0, 0 },
	/* the conf applied before a failing option is zeroed too */
	{ "vale0:1@conf:rings=4@conf=4", EINVAL, NULL,
	    0, 0, 0, 0, 0, 0, 0, 0 },
};

static int
all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n-- > 0) {
		if (*c++ != 0)
			return 0;
	}
	return 1;
}

static void
test_parse_row(const struct parse_row *r)
{
	struct nmport_d *d;
	int ret;

	cur_case = r->spec;
	d = nmport_new();
	CHECK(d != NULL, "nmport_new failed: %s", strerror(errno));
	if (d == NULL)
		return;
	CHECK(d->ctx == &test_ctx, "nmport_new did not use the default ctx");

	msgs_reset();
	errno = 0;
	ret = nmport_parse(d, r->spec);
	if (r->err != 0) {
		CHECK_INT(ret, -1);
		CHECK_ERRNO(r->err);
		CHECK_MSG();
		CHECK(all_zero(&d->hdr, sizeof(d->hdr)),
		    "hdr not zeroed after failed parse");
		CHECK(all_zero(&d->reg, sizeof(d->reg)),
		    "reg not zeroed after failed parse");
		CHECK(d->clist == NULL && d->extmem == NULL,
		    "cleanups not run after failed parse");
	} else {
		CHECK_INT(ret, 0);
		if (ret != 0)
			printf("      message: %s\n", last_msg);
		CHECK_NOMSG();
		CHECK_STR(d->hdr.nr_name, r->name);
		CHECK_INT(d->hdr.nr_version, NETMAP_API);
		CHECK_INT(d->hdr.nr_reqtype, NETMAP_REQ_REGISTER);
		CHECK(d->hdr.nr_body == (uint64_t)(uintptr_t)&d->reg,
		    "hdr.nr_body does not point to d->reg");
		CHECK_INT(d->hdr.nr_options, 0);
		CHECK_INT(d->reg.nr_tx_rings, r->tx_rings);
		CHECK_INT(d->reg.nr_rx_rings, r->rx_rings);
		CHECK_INT(d->reg.nr_host_tx_rings, r->host_tx_rings);
		CHECK_INT(d->reg.nr_host_rx_rings, r->host_rx_rings);
		CHECK_INT(d->reg.nr_tx_slots, r->tx_slots);
		CHECK_INT(d->reg.nr_rx_slots, r->rx_slots);
		CHECK_INT(d->reg.nr_mem_id, r->mem_id);
		CHECK_INT(d->reg.nr_flags, r->flags);
		CHECK_INT(d->fd, -1);
	}
	nmport_undo_prepare(d);
}

static void
test_parse_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++)
		test_parse_row(&parse_rows[i]);

	cur_case = "nmport_prepare";
	{
		struct nmport_d *d;

		msgs_reset();
		d = nmport_prepare("vale0:3-1/T@conf:rings=2");
		CHECK(d != NULL, "nmport_prepare failed: %s", last_msg);
		if (d != NULL) {
			CHECK_STR(d->hdr.nr_name, "vale0:3");
			CHECK_INT(d->reg.nr_mode, NR_REG_ONE_NIC);
			CHECK_INT(d->reg.nr_ringid, 1);
			CHECK_INT(d->reg.nr_flags, NR_TX_RINGS_ONLY);
			CHECK_INT(d->reg.nr_tx_rings, 2);
			/* closing a never-registered descriptor is fine */
			nmport_close(d);
		}
		msgs_reset();
		errno = 0;
		d = nmport_prepare("vale0:3@conf=2");
		CHECK(d == NULL, "nmport_prepare accepted a bad spec");
		CHECK_ERRNO(EINVAL);
		CHECK_MSG();
		nmport_close(NULL);	/* no-op */
	}
}

/* -------------------------------------------------------------------------
 * 3. offsets: disabled by default, enable/disable
 */

static void
test_offset_option(void)
{
	struct nmport_d *d;
	struct nmreq_opt_offsets *o;

	cur_case = "offset option";
	errno = 0;
	CHECK_INT(nmport_enable_option("no-such-option"), -1);
	CHECK_ERRNO(EOPNOTSUPP);
	nmport_disable_option("no-such-option");	/* no-op */

	CHECK_INT(nmport_enable_option("offset"), 0);
	d = nmport_new();
	if (d == NULL) {
		CHECK(0, "nmport_new failed");
		return;
	}
	msgs_reset();
	CHECK_INT(nmport_parse(d, "vale0:1@offset:initial=8,bits=10"), 0);
	o = (struct nmreq_opt_offsets *)nmreq_find_option(&d->hdr,
	    NETMAP_REQ_OPT_OFFSETS);
	CHECK(o != NULL, "no OFFSETS option after @offset");
	if (o != NULL) {
		CHECK_INT(o->nro_initial_offset, 8);
		CHECK_INT(o->nro_max_offset, 8);
		CHECK_INT(o->nro_offset_bits, 10);
		CHECK_INT(o->nro_min_gap, 0);
		CHECK_INT(o->nro_opt.nro_next, 0);
	}
	nmport_undo_parse(d);
	CHECK(d->clist == NULL && d->hdr.nr_options == 0,
	    "offset option not cleaned up");

	nmreq_header_init(&d->hdr, NETMAP_REQ_REGISTER, &d->reg);
	CHECK_INT(nmport_parse(d, "vale0:1@offset=16"), 0);
	o = (struct nmreq_opt_offsets *)nmreq_find_option(&d->hdr,
	    NETMAP_REQ_OPT_OFFSETS);
	CHECK(o != NULL && o->nro_initial_offset == 16 &&
	    o->nro_offset_bits == 0, "@offset=16 not applied");
	nmport_undo_parse(d);

	msgs_reset();
	errno = 0;
	CHECK_INT(nmport_parse(d, "vale0:1@offset:bits=3"), -1);
	CHECK_ERRNO(EINVAL);	/* initial is mandatory */
	CHECK_MSG();

	/* two options: the list holds both, most recent first */
	nmreq_header_init(&d->hdr, NETMAP_REQ_REGISTER, &d->reg);
	CHECK_INT(nmport_parse(d, "vale0:1@offset=1@offset=2"), 0);
	o = (struct nmreq_opt_offsets *)nmreq_find_option(&d->hdr,
	    NETMAP_REQ_OPT_OFFSETS);
	CHECK(o != NULL && o->nro_initial_offset == 2 &&
	    o->nro_opt.nro_next != 0, "two @offset options not both pushed");
	nmport_undo_parse(d);
	CHECK(d->clist == NULL, "cleanups left");

	nmport_disable_option("offset");
	msgs_reset();
	errno = 0;
	CHECK_INT(nmport_parse(d, "vale0:1@offset=8"), -1);
	CHECK_ERRNO(EOPNOTSUPP);
	CHECK_MSG();

	/* a built-in option can be disabled and enabled again */
	nmport_disable_option("conf");
	errno = 0;
	CHECK_INT(nmport_parse(d, "vale0:1@conf:rings=2"), -1);
	CHECK_ERRNO(EOPNOTSUPP);
	CHECK_INT(nmport_enable_option("conf"), 0);
	nmreq_header_init(&d->hdr, NETMAP_REQ_REGISTER, &d->reg);
	CHECK_INT(nmport_parse(d, "vale0:1@conf:rings=2"), 0);
	CHECK_INT(d->reg.nr_tx_rings, 2);

	nmport_undo_prepare(d);
}

/* -------------------------------------------------------------------------
 * 4. extmem (a real file, mapped and unmapped)
 */

static int
mapping_present(const char *path)
{
	char line[4096];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, path) != NULL)
			found = 1;
	}
	fclose(f);
	return found;
}

static void
test_extmem(void)
{
	char path[] = "/tmp/unetmap-extmem-XXXXXX";
	char spec[256];
	struct nmport_d *d, *c;
	struct nmreq_pools_info *pi;
	const size_t fsize = 1 << 20;
	static char mem[8192];
	int fd;

	cur_case = "extmem";
	fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp: %s", strerror(errno));
	if (fd < 0)
		return;
	CHECK(ftruncate(fd, (off_t)fsize) == 0, "ftruncate: %s",
	    strerror(errno));
	close(fd);

	d = nmport_new();
	if (d == NULL) {
		CHECK(0, "nmport_new failed");
		unlink(path);
		return;
	}
	snprintf(spec, sizeof(spec), "vale0:1@extmem:file=%s,if-num=2,"
	    "if-size=1024,ring-num=4,ring-size=33024,buf-num=100,"
	    "buf-size=2048", path);
	msgs_reset();
	CHECK_INT(nmport_parse(d, spec), 0);
	if (n_msgs)
		printf("      message: %s\n", last_msg);
	CHECK(d->extmem != NULL, "no extmem after @extmem");
	if (d->extmem != NULL) {
		pi = nmport_extmem_getinfo(d);
		CHECK(pi == &d->extmem->nro_info, "getinfo pointer");
		CHECK_INT(pi->nr_memsize, fsize);
		CHECK_INT(pi->nr_if_pool_objtotal, 2);
		CHECK_INT(pi->nr_if_pool_objsize, 1024);
		CHECK_INT(pi->nr_ring_pool_objtotal, 4);
		CHECK_INT(pi->nr_ring_pool_objsize, 33024);
		CHECK_INT(pi->nr_buf_pool_objtotal, 100);
		CHECK_INT(pi->nr_buf_pool_objsize, 2048);
		CHECK(d->extmem->nro_usrptr != 0, "nro_usrptr not set");
		CHECK(nmreq_find_option(&d->hdr, NETMAP_REQ_OPT_EXTMEM) ==
		    &d->extmem->nro_opt, "extmem option not in hdr list");
		CHECK_INT(mapping_present(path), 1);
	}
	/* a second extmem is refused and changes nothing */
	msgs_reset();
	errno = 0;
	CHECK_INT(nmport_extmem(d, mem, sizeof(mem)), -1);
	CHECK_ERRNO(EINVAL);
	CHECK_MSG();
	errno = 0;
	CHECK_INT(nmport_extmem_from_file(d, path), -1);
	CHECK_ERRNO(EINVAL);
	/* an unregistered extmem port cannot be cloned */
	errno = 0;
	c = nmport_clone(d);
	CHECK(c == NULL, "clone of unregistered extmem port succeeded");
	CHECK_ERRNO(EINVAL);

	nmport_undo_parse(d);
	CHECK(d->extmem == NULL && d->clist == NULL, "extmem not cleaned up");
	CHECK_INT(mapping_present(path), 0);

	/* a later failing option unmaps the file again */
	nmreq_header_init(&d->hdr, NETMAP_REQ_REGISTER, &d->reg);
	snprintf(spec, sizeof(spec), "vale0:1@extmem=%s@conf=4", path);
	msgs_reset();
	errno = 0;
	CHECK_INT(nmport_parse(d, spec), -1);
	CHECK_ERRNO(EINVAL);
	CHECK(d->extmem == NULL && d->clist == NULL, "extmem left behind");
	CHECK_INT(mapping_present(path), 0);

	/* programmatic extmem: refused once registered */
	nmreq_header_init(&d->hdr, NETMAP_REQ_REGISTER, &d->reg);
	CHECK(nmport_extmem_getinfo(d) == NULL, "getinfo without extmem");
	CHECK_INT(nmport_extmem(d, mem, sizeof(mem)), 0);
	CHECK(d->extmem != NULL &&
	    d->extmem->nro_usrptr == (uint64_t)(uintptr_t)mem &&
	    d->extmem->nro_info.nr_memsize == sizeof(mem),
	    "nmport_extmem fields");
	nmport_undo_parse(d);
	d->register_done = 1;
	errno = 0;
	CHECK_INT(nmport_extmem(d, mem, sizeof(mem)), -1);
	CHECK_ERRNO(EINVAL);
	d->register_done = 0;

	/* an empty file is refused */
	fd = open(path, O_RDWR | O_TRUNC);
	if (fd >= 0)
		close(fd);
	errno = 0;
	CHECK_INT(nmport_extmem_from_file(d, path), -1);
	CHECK_ERRNO(EINVAL);
	CHECK(d->extmem == NULL && d->clist == NULL, "state after failure");

	nmport_delete(d);
	unlink(path);
}

/* -------------------------------------------------------------------------
 * 5. clone, register/mmap preconditions
 */

static void
test_clone(void)
{
	struct nmport_d *d, *c;

	cur_case = "clone";
	d = nmport_prepare("vale0:1-2/x@conf:rings=4@7");
	CHECK(d == NULL, "'@7' after an option must be an option error");
	d = nmport_prepare("vale0:1-2/x@7@conf:rings=4");
	CHECK(d != NULL, "prepare failed: %s", last_msg);
	if (d == NULL)
		return;
	c = nmport_clone(d);
	CHECK(c != NULL, "clone failed");
	if (c != NULL) {
		CHECK(c != d, "clone returned the same descriptor");
		CHECK(c->ctx == d->ctx, "clone uses another ctx");
		CHECK_STR(c->hdr.nr_name, "vale0:1");
		CHECK(c->hdr.nr_body == (uint64_t)(uintptr_t)&c->reg,
		    "clone body not re-pointed");
		CHECK_INT(c->hdr.nr_options, 0);
		CHECK_INT(c->hdr.nr_version, NETMAP_API);
		CHECK(memcmp(&c->reg, &d->reg, sizeof(c->reg)) == 0,
		    "clone reg differs");
		CHECK_INT(c->reg.nr_mem_id, 7);
		CHECK_INT(c->fd, -1);
		CHECK_INT(c->register_done, 0);
		CHECK_INT(c->mmap_done, 0);
		CHECK(c->mem == NULL && c->nifp == NULL && c->clist == NULL,
		    "clone state");
		nmport_close(c);
	}

	/* register/mmap preconditions that need no device */
	msgs_reset();
	errno = 0;
	CHECK_INT(nmport_mmap(d), -1);
	CHECK_ERRNO(EINVAL);
	CHECK_MSG();
	d->register_done = 1;
	msgs_reset();
	errno = 0;
	CHECK_INT(nmport_register(d), -1);
	CHECK_ERRNO(EINVAL);
	CHECK_MSG();
	CHECK_INT(d->fd, -1);
	d->register_done = 0;
	nmport_close(d);
}

/* -------------------------------------------------------------------------
 * 6. nmport_mmap on an extmem region built by hand, and nmport_inject
 *
 * Region layout (offsets from the start):
 *   0      netmap_if A: 2 hw tx rings + 1 (fake) host tx, 1 rx + 1 host rx
 *   1024   netmap_if B: same counts, no tx ring bound (like "/R")
 *   4096   tx ring 0,  8192 tx ring 1,  12288 rx ring 0
 *   16384  buffers (64 bytes each)
 */

#define R_SIZE		(64 * 1024)
#define R_NSLOTS	8
#define R_BUFSZ		64
#define R_BUFS		16384

static void
wr32(const void *field, uint32_t v)
{
	memcpy((void *)(uintptr_t)field, &v, sizeof(v));
}

static void
wr64(const void *field, int64_t v)
{
	memcpy((void *)(uintptr_t)field, &v, sizeof(v));
}

static void
build_nifp(char *mem, size_t at, const int64_t *ofs)
{
	struct netmap_if *nifp = (struct netmap_if *)(mem + at);
	int i;

	wr32(&nifp->ni_tx_rings, 2);
	wr32(&nifp->ni_rx_rings, 1);
	wr32(&nifp->ni_host_tx_rings, 1);
	wr32(&nifp->ni_host_rx_rings, 1);
	for (i = 0; i < 5; i++)
		wr64(&nifp->ring_ofs[i], ofs[i] == 0 ? 0 :
		    ofs[i] - (int64_t)at);
}

static void
build_ring(char *mem, size_t at, uint32_t first_buf)
{
	struct netmap_ring *ring = (struct netmap_ring *)(mem + at);
	uint32_t i;

	wr64(&ring->buf_ofs, (int64_t)R_BUFS - (int64_t)at);
	wr32(&ring->num_slots, R_NSLOTS);
	wr32(&ring->nr_buf_size, R_BUFSZ);
	ring->head = ring->cur = 0;
	wr32(&ring->tail, R_NSLOTS - 1);
	for (i = 0; i < R_NSLOTS; i++) {
		ring->slot[i].buf_idx = first_buf + i;
		ring->slot[i].len = 0;
		ring->slot[i].flags = 0x55;
	}
}

static struct nmport_d *
fake_open(char *mem, uint64_t nifp_ofs, uint16_t mem_id, int use_extmem)
{
	struct nmport_d *d = nmport_new();

	if (d == NULL)
		return NULL;
	snprintf(d->hdr.nr_name, sizeof(d->hdr.nr_name), "fake");
	if (use_extmem && nmport_extmem(d, mem, R_SIZE) < 0) {
		nmport_undo_prepare(d);
		return NULL;
	}
	/* pretend the port was registered */
	d->register_done = 1;
	d->reg.nr_offset = nifp_ofs;
	d->reg.nr_memsize = R_SIZE;
	d->reg.nr_tx_rings = 2;
	d->reg.nr_rx_rings = 1;
	d->reg.nr_mem_id = mem_id;
	return d;
}

static void
fake_close(struct nmport_d *d)
{
	nmport_undo_mmap(d);
	d->register_done = 0;	/* nothing to close: fd is -1 */
	nmport_undo_prepare(d);
}

static void
test_mmap_inject(void)
{
	static const int64_t ofs_a[5] = { 4096, 8192, 0, 12288, 0 };
	static const int64_t ofs_b[5] = { 0, 0, 0, 12288, 0 };
	char *mem;
	struct nmport_d *a, *b, *bad;
	struct netmap_ring *t0, *t1;
	char pkt[400];
	size_t i;

	cur_case = "mmap+inject";
	mem = aligned_alloc(4096, R_SIZE);
	if (mem == NULL) {
		CHECK(0, "aligned_alloc");
		return;
	}
	memset(mem, 0, R_SIZE);
	build_nifp(mem, 0, ofs_a);
	build_nifp(mem, 1024, ofs_b);
	build_ring(mem, 4096, 0);
	build_ring(mem, 8192, R_NSLOTS);
	build_ring(mem, 12288, 2 * R_NSLOTS);
	for (i = 0; i < sizeof(pkt); i++)
		pkt[i] = (char)(i * 7 + 1);

	a = fake_open(mem, 0, 42, 1);
	b = fake_open(mem, 1024, 42, 0);
	bad = fake_open(mem, R_SIZE - 8, 42, 0);
	if (a == NULL || b == NULL || bad == NULL) {
		CHECK(0, "fake_open failed");
		goto out;
	}

	msgs_reset();
	CHECK_INT(nmport_mmap(a), 0);
	CHECK_NOMSG();
	CHECK(a->mem != NULL && a->mem->mem == mem && a->mem->is_extmem,
	    "extmem region not used as is");
	CHECK(a->nifp == (struct netmap_if *)mem, "nifp");
	CHECK_INT(a->first_tx_ring, 0);
	CHECK_INT(a->last_tx_ring, 1);
	CHECK_INT(a->first_rx_ring, 0);
	CHECK_INT(a->last_rx_ring, 0);
	CHECK_INT(a->cur_tx_ring, 0);
	CHECK_INT(a->mmap_done, 1);
	errno = 0;
	CHECK_INT(nmport_mmap(a), -1);	/* already mapped */
	CHECK_ERRNO(EINVAL);

	/* same ctx and mem_id: same nmem_d, no new mapping */
	CHECK_INT(nmport_mmap(b), 0);
	CHECK(b->mem == a->mem, "same mem_id did not share the nmem_d");
	if (a->mem != NULL)
		CHECK_INT(a->mem->refcount, 2);
	/* empty tx range: first = count (3), last = count - 1 */
	CHECK_INT(b->first_tx_ring, 3);
	CHECK_INT(b->last_tx_ring, 2);
	CHECK_INT(b->first_rx_ring, 0);
	CHECK_INT(b->last_rx_ring, 0);
	CHECK_INT(nmport_inject(b, pkt, 10), 0);

	/* a netmap_if outside the region is refused, refcount restored */
	msgs_reset();
	errno = 0;
	CHECK_INT(nmport_mmap(bad), -1);
	CHECK_ERRNO(EINVAL);
	CHECK_MSG();
	CHECK(bad->mem == NULL && bad->nifp == NULL && !bad->mmap_done,
	    "failed mmap changed the descriptor");
	if (a->mem != NULL)
		CHECK_INT(a->mem->refcount, 2);

	t0 = NETMAP_TXRING(a->nifp, 0);
	t1 = NETMAP_TXRING(a->nifp, 1);
	CHECK(t0 == (struct netmap_ring *)(mem + 4096), "NETMAP_TXRING 0");

	/* 100 bytes: one full 64-byte slot with MOREFRAG + 36 bytes */
	CHECK_INT(nmport_inject(a, pkt, 100), 100);
	CHECK_INT(t0->slot[0].len, 64);
	CHECK_INT(t0->slot[0].flags, NS_MOREFRAG);
	CHECK_INT(t0->slot[1].len, 36);
	CHECK_INT(t0->slot[1].flags, 0);
	CHECK_INT(t0->head, 2);
	CHECK_INT(t0->cur, 2);
	CHECK(memcmp(NETMAP_BUF(t0, t0->slot[0].buf_idx), pkt, 64) == 0 &&
	    memcmp(NETMAP_BUF(t0, t0->slot[1].buf_idx), pkt + 64, 36) == 0,
	    "injected data differs");
	CHECK_INT(a->cur_tx_ring, 0);

	/* exactly one buffer: one slot, no MOREFRAG */
	CHECK_INT(nmport_inject(a, pkt, 64), 64);
	CHECK_INT(t0->slot[2].len, 64);
	CHECK_INT(t0->slot[2].flags, 0);
	CHECK_INT(t0->cur, 3);

	/* 4 slots left before tail (7): 257 bytes need 5 -> next ring */
	CHECK_INT(nmport_inject(a, pkt, 257), 257);
	CHECK_INT(a->cur_tx_ring, 1);
	CHECK_INT(t0->cur, 3);
	CHECK_INT(t1->cur, 5);
	CHECK_INT(t1->slot[4].len, 1);
	CHECK_INT(t1->slot[4].flags, 0);
	CHECK_INT(t1->slot[3].flags, NS_MOREFRAG);

	/* ring 1 has 2 slots left, ring 0 has 4: 256 bytes go to ring 0 */
	CHECK_INT(nmport_inject(a, pkt, 256), 256);
	CHECK_INT(a->cur_tx_ring, 0);
	CHECK_INT(t0->cur, 7);
	CHECK_INT(nmport_inject(a, pkt, 128), 128);	/* ring 1, full */
	CHECK_INT(a->cur_tx_ring, 1);
	CHECK_INT(t1->cur, 7);
	CHECK_INT(nmport_inject(a, pkt, 1), 0);		/* all full */
	CHECK_INT(nmport_inject(a, pkt, 0), 0);
	CHECK_INT(t0->head, 7);
	CHECK_INT(t1->head, 7);

	/* a zero-length packet takes one slot */
	wr32(&t0->tail, 0);	/* free slots 7 -> 0 wrap: one slot */
	CHECK_INT(nmport_inject(a, pkt, 0), 0);
	CHECK_INT(t0->slot[7].len, 0);
	CHECK_INT(t0->slot[7].flags, 0);	/* was 0x55 */
	CHECK_INT(t0->cur, 0);

	/* a buffer index outside the region is never written */
	wr32(&t1->tail, 6);	/* wraps: 7 free slots from cur 7 */
	t1->slot[7].buf_idx = 100000;
	CHECK_INT(nmport_inject(a, pkt, 10), 0);
	CHECK_INT(t1->cur, 7);

out:
	if (bad != NULL)
		fake_close(bad);
	if (b != NULL)
		fake_close(b);
	if (a != NULL) {
		struct nmctx *ctx = a->ctx;

		fake_close(a);
		CHECK(ctx->mem_descs == NULL, "nmem_d list not empty at end");
	}
	free(mem);
}

/* -------------------------------------------------------------------------
 * 7. nmreq_options_decode with custom parsers
 */

static int parse_calls;
/* the values live in a scratch copy freed after the callback: keep copies */
static char seen_buf[NMREQ_OPT_MAXKEYS][64];
static const char *seen_keys[NMREQ_OPT_MAXKEYS];
static void *seen_token;
static int parse_ret_errno;

static int
record_parse(struct nmreq_parse_ctx *p)
{
	int i;

	parse_calls++;
	seen_token = p->token;
	for (i = 0; i < NMREQ_OPT_MAXKEYS; i++) {
		seen_keys[i] = NULL;
		if (p->keys[i] != NULL) {
			snprintf(seen_buf[i], sizeof(seen_buf[i]), "%s",
			    p->keys[i]);
			seen_keys[i] = seen_buf[i];
		}
	}
	if (parse_ret_errno >= 0) {
		errno = parse_ret_errno;
		return parse_ret_errno ? -1 : 0;
	}
	return -1;	/* failure without errno */
}

static struct nmreq_opt_parser p_off = {
	.prefix = "off",
	.parse = record_parse,
	.default_key = -1,
	.flags = NMREQ_OPTF_DISABLED | NMREQ_OPTF_ALLOWEMPTY,
	.next = NULL,
};

static struct nmreq_opt_parser p_kv = {
	.prefix = "kv",
	.parse = record_parse,
	.default_key = -1,	/* found through NMREQ_OPTK_DEFAULT */
	.nr_keys = 3,
	.next = &p_off,
	.keys = {
		{ "a", 2, NMREQ_OPTK_DEFAULT | NMREQ_OPTK_MUSTSET },
		{ "b-c", 0, NMREQ_OPTK_ALLOWEMPTY },
		{ "d", 1, 0 },
	},
};

static struct nmreq_opt_parser p_flag = {
	.prefix = "flag",
	.parse = record_parse,
	.default_key = -1,
	.flags = NMREQ_OPTF_ALLOWEMPTY,
	.next = &p_kv,
};

struct opt_row {
	const char *opt;
	int err;		/* expected errno, 0 = success */
	int calls;		/* expected parser invocations */
	const char *k0, *k1, *k2;	/* keys seen by the last call */
};

static const struct opt_row opt_rows[] = {
	{ "", 0, 0, NULL, NULL, NULL },
	{ "@flag", 0, 1, NULL, NULL, NULL },
	{ "@flag@flag", 0, 2, NULL, NULL, NULL },
	{ "@kv=5", 0, 1, NULL, NULL, "5" },
	{ "@kv=a=b,c:d", 0, 1, NULL, NULL, "a=b,c:d" },
	{ "@kv:a=1,b-c", 0, 1, "b_c", NULL, "1" },
	{ "@kv:b_c,a=1", 0, 1, "b_c", NULL, "1" },
	{ "@kv:b-c=x,d=y,a=z", 0, 1, "x", "y", "z" },
	{ "@flag@kv:a=7", 0, 2, NULL, NULL, "7" },
	{ "@kv:d=1", EINVAL, 0, NULL, NULL, NULL },	/* a is mandatory */
	{ "@kv:a=", EINVAL, 0, NULL, NULL, NULL },	/* empty = unset */
	{ "@kv:a=1,d", EINVAL, 0, NULL, NULL, NULL },	/* d needs =value */
	{ "@kv:a=1,a=2", EINVAL, 0, NULL, NULL, NULL },
	{ "@kv:a=1,e=2", EINVAL, 0, NULL, NULL, NULL },
	{ "@kv", EINVAL, 0, NULL, NULL, NULL },		/* no ALLOWEMPTY */
	{ "@kv=", EINVAL, 0, NULL, NULL, NULL },
	{ "@flag=1", EINVAL, 0, NULL, NULL, NULL },	/* no default key */
	{ "@flag:x=1", EINVAL, 0, NULL, NULL, NULL },	/* no keys at all */
	{ "@off", EOPNOTSUPP, 0, NULL, NULL, NULL },
	{ "@flag@off", EOPNOTSUPP, 1, NULL, NULL, NULL },
	{ "@nope", EINVAL, 0, NULL, NULL, NULL },
	{ "flag", EINVAL, 0, NULL, NULL, NULL },
	{ "@", EINVAL, 0, NULL, NULL, NULL },
	{ "@flag@", EINVAL, 1, NULL, NULL, NULL },
};

static void
test_options_decode(void)
{
	size_t i;
	int token;

	for (i = 0; i < sizeof(opt_rows) / sizeof(opt_rows[0]); i++) {
		const struct opt_row *r = &opt_rows[i];
		int ret, j;

		cur_case = r->opt;
		parse_calls = 0;
		parse_ret_errno = 0;
		seen_token = NULL;
		for (j = 0; j < NMREQ_OPT_MAXKEYS; j++)
			seen_keys[j] = NULL;
		msgs_reset();
		errno = 0;
		ret = nmreq_options_decode(r->opt, &p_flag, &token, &test_ctx);
		CHECK_INT(parse_calls, r->calls);
		if (r->err != 0) {
			CHECK_INT(ret, -1);
			CHECK_ERRNO(r->err);
			CHECK_MSG();
			continue;
		}
		CHECK_INT(ret, 0);
		CHECK_NOMSG();
		if (r->calls == 0)
			continue;
		CHECK(seen_token == &token, "token not passed through");
#define CHECK_KEY(i, want) do {						\
	if ((want) == NULL)						\
		CHECK(seen_keys[i] == NULL, "key %d: got \"%s\", want NULL", \
		    (i), seen_keys[i]);					\
	else								\
		CHECK_STR(seen_keys[i], (want));			\
} while (0)
		CHECK_KEY(0, r->k0);
		CHECK_KEY(1, r->k1);
		CHECK_KEY(2, r->k2);
		for (j = 3; j < NMREQ_OPT_MAXKEYS; j++)
			CHECK_KEY(j, (const char *)NULL);
	}

	/* parser failures propagate their errno, or EINVAL if none */
	cur_case = "parser callback failure";
	parse_ret_errno = ERANGE;
	errno = 0;
	CHECK_INT(nmreq_options_decode("@flag", &p_flag, NULL, &test_ctx), -1);
	CHECK_ERRNO(ERANGE);
	parse_ret_errno = -1;
	errno = 0;
	CHECK_INT(nmreq_options_decode("@flag", &p_flag, NULL, &test_ctx), -1);
	CHECK_ERRNO(EINVAL);
	parse_ret_errno = 0;
}

/* -------------------------------------------------------------------------
 * 8. option lists
 */

static void
test_option_lists(void)
{
	struct nmreq_header hdr;
	struct nmreq_option a, b, c, *heap1, *heap2;

	cur_case = "option lists";
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	a.nro_reqtype = NETMAP_REQ_OPT_EXTMEM;
	b.nro_reqtype = NETMAP_REQ_OPT_CSB;
	c.nro_reqtype = NETMAP_REQ_OPT_EXTMEM;

	nmreq_header_init(&hdr, NETMAP_REQ_PORT_INFO_GET, &a);
	CHECK_INT(hdr.nr_version, NETMAP_API);
	CHECK_INT(hdr.nr_reqtype, NETMAP_REQ_PORT_INFO_GET);
	CHECK(hdr.nr_body == (uint64_t)(uintptr_t)&a, "nr_body");
	CHECK_INT(hdr.nr_options, 0);
	CHECK_INT(hdr.nr_reserved, 0);
	CHECK_STR(hdr.nr_name, "");
	CHECK(nmreq_find_option(&hdr, NETMAP_REQ_OPT_EXTMEM) == NULL,
	    "find on empty list");

	nmreq_push_option(&hdr, &a);
	nmreq_push_option(&hdr, &b);
	nmreq_push_option(&hdr, &c);	/* list: c, b, a */
	CHECK(hdr.nr_options == (uint64_t)(uintptr_t)&c, "push order");
	CHECK(c.nro_next == (uint64_t)(uintptr_t)&b, "push link c->b");
	CHECK(b.nro_next == (uint64_t)(uintptr_t)&a, "push link b->a");
	CHECK_INT(a.nro_next, 0);
	CHECK(nmreq_find_option(&hdr, NETMAP_REQ_OPT_EXTMEM) == &c,
	    "find returns the first match");
	CHECK(nmreq_find_option(&hdr, NETMAP_REQ_OPT_CSB) == &b, "find CSB");
	CHECK(nmreq_find_option(&hdr, NETMAP_REQ_OPT_OFFSETS) == NULL,
	    "find missing type");

	nmreq_remove_option(&hdr, &b);	/* middle */
	CHECK(c.nro_next == (uint64_t)(uintptr_t)&a, "remove middle");
	CHECK_INT(b.nro_next, 0);
	nmreq_remove_option(&hdr, &b);	/* not in list: no-op */
	CHECK(hdr.nr_options == (uint64_t)(uintptr_t)&c, "remove absent");
	nmreq_remove_option(&hdr, &c);	/* head */
	CHECK(hdr.nr_options == (uint64_t)(uintptr_t)&a, "remove head");
	CHECK(nmreq_find_option(&hdr, NETMAP_REQ_OPT_EXTMEM) == &a,
	    "find after remove");
	nmreq_remove_option(&hdr, &a);	/* last */
	CHECK_INT(hdr.nr_options, 0);

	heap1 = calloc(1, sizeof(*heap1));
	heap2 = calloc(1, sizeof(*heap2));
	if (heap1 == NULL || heap2 == NULL) {
		free(heap1);
		free(heap2);
		CHECK(0, "calloc");
		return;
	}
	nmreq_push_option(&hdr, heap1);
	nmreq_push_option(&hdr, heap2);
	nmreq_free_options(&hdr);	/* ASan/LSan would flag a leak */
	CHECK_INT(hdr.nr_options, 0);

	cur_case = "nmreq_option_name";
	CHECK_STR(nmreq_option_name(NETMAP_REQ_OPT_EXTMEM), "extmem");
	CHECK_STR(nmreq_option_name(NETMAP_REQ_OPT_SYNC_KLOOP_EVENTFDS),
	    "sync-kloop-eventfds");
	CHECK_STR(nmreq_option_name(NETMAP_REQ_OPT_CSB), "csb");
	CHECK_STR(nmreq_option_name(NETMAP_REQ_OPT_SYNC_KLOOP_MODE),
	    "sync-kloop-mode");
	CHECK_STR(nmreq_option_name(NETMAP_REQ_OPT_OFFSETS), "offsets");
	CHECK_STR(nmreq_option_name(0), "unknown");
	CHECK_STR(nmreq_option_name(NETMAP_REQ_OPT_MAX), "unknown");
	CHECK_STR(nmreq_option_name(1234), "unknown");
}

/* -------------------------------------------------------------------------
 * 9. nmctx
 */

static void
test_nmctx(void)
{
	struct nmctx quiet, *prev, *cur;
	char big[1500];

	cur_case = "nmctx";
	CHECK(nmctx_get() == &test_ctx, "nmctx_get");

	msgs_reset();
	errno = EXDEV;
	nmctx_ferror(&test_ctx, "value %d and %s", 42, "text");
	CHECK_STR(last_msg, "value 42 and text");
	CHECK_ERRNO(EXDEV);	/* reporting keeps errno */

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	msgs_reset();
	nmctx_ferror(&test_ctx, "%s", big);
	CHECK_STR(last_msg, "error message too long");
	big[999] = '\0';	/* 999 characters + NUL fit */
	msgs_reset();
	nmctx_ferror(&test_ctx, "%s", big);
	CHECK_INT(strlen(last_msg), 999);
	big[999] = 'x';
	big[1000] = '\0';	/* 1000 characters do not */
	msgs_reset();
	nmctx_ferror(&test_ctx, "%s", big);
	CHECK_STR(last_msg, "error message too long");

	quiet = test_ctx;
	quiet.verbose = 0;
	msgs_reset();
	nmctx_ferror(&quiet, "not delivered");
	CHECK_INT(n_msgs, 0);

	/* a quiet default context: parse errors are silent but still fail */
	prev = nmctx_set_default(&quiet);
	CHECK(prev == &test_ctx, "set_default returns the previous ctx");
	msgs_reset();
	errno = 0;
	CHECK(nmport_prepare("bogus") == NULL, "prepare(bogus)");
	CHECK_ERRNO(EINVAL);
	CHECK_INT(n_msgs, 0);

	/* NULL restores the built-in context */
	prev = nmctx_set_default(NULL);
	CHECK(prev == &quiet, "set_default(NULL) returns the previous ctx");
	cur = nmctx_get();
	CHECK(cur != NULL && cur != &quiet && cur->verbose == 1 &&
	    cur->error != NULL && cur->malloc != NULL && cur->free != NULL,
	    "built-in default context");
	nmctx_set_default(&test_ctx);

	/* malloc/free/lock wrappers */
	{
		void *p = nmctx_malloc(&test_ctx, 32);

		CHECK(p != NULL, "nmctx_malloc");
		nmctx_free(&test_ctx, p);
		nmctx_lock(&test_ctx);
		nmctx_unlock(&test_ctx);
		quiet.lock = NULL;
		nmctx_lock(&quiet);	/* no callback: no-op */
		nmctx_unlock(&quiet);
	}
}

/* -------------------------------------------------------------------------
 * 10. thread-safe default context
 */

static void
test_threadsafe(struct nmctx *start)
{
	cur_case = "nmctx_threadsafe";
	/*
	 * libnetmap.h references nmctx_threadsafe, which links in the
	 * pthread object; its constructor installed a default context with
	 * a lock callback before main().  Calling nmctx_set_threadsafe()
	 * again is harmless.
	 */
	CHECK(start->lock != NULL, "default ctx has no lock callback");
	nmctx_set_threadsafe();
	CHECK(nmctx_get() == start, "nmctx_set_threadsafe is not idempotent");
}

int
main(void)
{
	struct nmctx *start;

	setvbuf(stdout, NULL, _IOLBF, 0);

	/* every descriptor below uses a copy of the default context whose
	 * error() records messages */
	start = nmctx_get();
	test_ctx = *start;
	test_ctx.error = capture_error;
	test_ctx.mem_descs = NULL;
	test_threadsafe(start);
	nmctx_set_default(&test_ctx);

	test_decode_table();
	test_parse_table();
	test_offset_option();
	test_extmem();
	test_clone();
	test_mmap_inject();
	test_options_decode();
	test_option_lists();
	test_nmctx();

	nmctx_set_default(start);

	if (n_failed != 0) {
		printf("test_nmreq_parse: %u of %u checks FAILED\n", n_failed,
		    n_checks);
		return 1;
	}
	printf("test_nmreq_parse: %u checks ok\n", n_checks);
	return 0;
}

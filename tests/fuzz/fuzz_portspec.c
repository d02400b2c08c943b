/*
 * fuzz_portspec - libFuzzer target: the port-name parsers an application
 * hands its strings to: libnetmap's portspec grammar (nmport_prepare: the
 * header, register and option decoders, @conf/@extmem/@share/@offset) and
 * the legacy nm_open() parser of netmap_user.h.  Parsing only: nothing is
 * registered.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NETMAP_WITH_LIBS
#include <net/netmap_user.h>
#include <libnetmap.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(struct nmctx *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	nmctx_get()->error = quiet;
	/* @extmem opens and maps a file: keep the parser, not the file */
	nmport_disable_option("extmem");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct nmport_d *d;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	d = nmport_prepare(s);
	if (d)
		nmport_undo_prepare(d);
	{
		struct nm_desc nd;
		char err[NM_ERRMSG_LEN_];

		memset(&nd, 0, sizeof(nd));
		(void)nm_parse_(s, &nd, err);
	}
	free(s);
	return 0;
}

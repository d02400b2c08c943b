/*
 * fuzz_cni_json - libFuzzer target: unetmap-cni's JSON reader (what a
 * runtime or an IPAM plugin hands the CNI plugin), then what the plugin
 * does with a parsed document: member lookups, unescaping every string,
 * walking every container, and the compact copy it writes results with.
 * Bounded by construction (JSON_MAX_*): no input may crash, overrun or
 * take long.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/unetmap-cni/json.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct json j;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jbuf b = { 0 };
	char err[200], s[256];
	int t, k;

	if (json_parse(&j, (const char *)data, size, err, sizeof(err)) < 0)
		return 0;
	for (t = 0; t < j.ntok; t++) {
		json_str(&j, t, s, sizeof(s));
		json_str(&j, t, s, 5);		/* too small a buffer on purpose */
		for (k = 0; json_child(&j, t, k) >= 0; k++)
			;
		if (k != json_count(&j, t))
			abort();
		json_get(&j, t, "cniVersion");
		json_get(&j, t, "ipam");
	}
	jb_tok(&b, &j, 0);
	/* the compact copy is JSON too, and parses to as many values */
	if (!b.oom) {
		static struct json j2;
		int n = j.ntok;

		if (json_parse(&j2, b.p, b.len, err, sizeof(err)) < 0 || j2.ntok != n)
			abort();
	}
	jb_free(&b);
	return 0;
}

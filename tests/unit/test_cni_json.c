/*
 * Test objective: unetmap-cni's JSON reader accepts exactly RFC 8259
 * documents, within its bounds, and says where it stopped otherwise; the
 * lookups and the unescaping find what a configuration holds; the writer
 * escapes and compacts.
 *
 * Operations: a table of documents with "ok" or the expected start of the
 * error message; lookups on one configuration; depth, size and token
 * limits at and beyond their bounds.
 *
 * Exit 0 pass, 1 fail.
 */
#include "../../tools/unetmap-cni/json.c"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
static struct json j;

#define CHECK(cond, ...) do { if (!(cond)) { printf("FAIL %s:%d: ", __FILE__, __LINE__); \
	printf(__VA_ARGS__); printf("\n"); failures++; } } while (0)

static const struct {
	const char *in;
	const char *err;	/* NULL: must parse; else the message contains it */
} cases[] = {
	{ "{}", NULL },
	{ " [ ] ", NULL },
	{ "0", NULL },
	{ "-0.5e+10", NULL },
	{ "\"\\u00e9\\ud83d\\ude00\\n\"", NULL },
	{ "{\"a\":[1,true,false,null,{\"b\":\"c\"}]}", NULL },
	{ "", "a value is missing" },
	{ "{", "'}' is missing" },
	{ "[1,]", "unexpected ']'" },
	{ "[1 2]", "expected ',' or ']'" },
	{ "{\"a\" 1}", "expected ':'" },
	{ "{1:2}", "expected a string as object key" },
	{ "{\"a\":1,}", "expected a string as object key" },
	{ "01", "trailing characters" },
	{ "1.", "no digit after '.'" },
	{ "1e", "no digit in the exponent" },
	{ "-", "bad number" },
	{ "tru", "unexpected 't'" },
	{ "\"abc", "unterminated string" },
	{ "\"a\tb\"", "control character 0x09" },
	{ "\"\\x\"", "bad escape" },
	{ "\"\\u12g4\"", "bad \\u escape" },
	{ "{} x", "trailing characters" },
	{ "\x01", "unexpected byte 0x01" },
	{ "{\"a\":\n  nul}", "line 2, column 3" },
};

static void table(void)
{
	char err[200];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		err[0] = '\0';
		rc = json_parse(&j, cases[i].in, strlen(cases[i].in), err, sizeof(err));
		if (!cases[i].err)
			CHECK(rc == 0, "'%s' should parse: %s", cases[i].in, err);
		else
			CHECK(rc < 0 && strstr(err, cases[i].err), "'%s' should fail with '%s', got "
			      "rc %d '%s'", cases[i].in, cases[i].err, rc, err);
	}
	/* a NUL inside the length */
	CHECK(json_parse(&j, "{}\0", 3, err, sizeof(err)) < 0 && strstr(err, "NUL"), "NUL: %s", err);
}

static void lookups(void)
{
	static const char doc[] =
		"{ \"cniVersion\": \"1.0.0\", \"name\": \"n\\u00e9t\", \"veth\": true,\n"
		"  \"ipam\": { \"type\": \"host-local\", \"ranges\": [[{\"subnet\": \"10.0.0.0/24\"}]] },\n"
		"  \"list\": [ 1, [2, 3], {\"x\": 4}, \"five\" ], \"q\": \"a\\\"b\\\\c\" }";
	char err[200], s[64];
	struct jbuf b = { 0 };
	int t, ipam;

	CHECK(json_parse(&j, doc, strlen(doc), err, sizeof(err)) == 0, "parse: %s", err);
	CHECK(json_str(&j, json_get(&j, 0, "name"), s, sizeof(s)) == 0 && strcmp(s, "n\xc3\xa9t") == 0,
	      "name unescaped: %s", s);
	CHECK(j.tok[json_get(&j, 0, "veth")].type == JSON_TRUE, "veth true");
	ipam = json_get(&j, 0, "ipam");
	CHECK(json_streq(&j, json_get(&j, ipam, "type"), "host-local"), "ipam.type");
	CHECK(json_get(&j, 0, "type") < 0, "a key of a nested object is not found at the top");
	t = json_get(&j, 0, "list");
	CHECK(json_count(&j, t) == 4, "list has 4, not %d", json_count(&j, t));
	CHECK(json_child(&j, t, 3) >= 0 && json_streq(&j, json_child(&j, t, 3), "five"),
	      "list[3] after nested values");
	CHECK(json_child(&j, t, 4) < 0, "no list[4]");
	CHECK(json_count(&j, 0) == 6, "top has 6 members, not %d", json_count(&j, 0));
	CHECK(json_str(&j, json_get(&j, 0, "q"), s, sizeof(s)) == 0 && strcmp(s, "a\"b\\c") == 0,
	      "escapes: %s", s);
	CHECK(json_str(&j, json_get(&j, 0, "q"), s, 4) < 0, "too small a buffer fails");
	CHECK(json_str(&j, ipam, s, sizeof(s)) < 0, "an object is no string");
	jb_tok(&b, &j, ipam);
	CHECK(!b.oom && strcmp(b.p, "{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":"
	      "\"10.0.0.0/24\"}]]}") == 0, "compact copy: %s", b.p);
	jb_free(&b);
	jb_str(&b, "a\"b\\c\n\x01");
	CHECK(!b.oom && strcmp(b.p, "\"a\\\"b\\\\c\\u000a\\u0001\"") == 0, "escaped: %s", b.p);
	jb_free(&b);
	/* a \u0000 would cut the C string: refused */
	CHECK(json_parse(&j, "\"a\\u0000b\"", 10, err, sizeof(err)) == 0 &&
	      json_str(&j, 0, s, sizeof(s)) < 0, "\\u0000 refused on unescaping");
}

static void limits(void)
{
	size_t n = JSON_MAX_INPUT + 10, i;
	char *big = malloc(n), err[200];

	if (!big)
		exit(2);
	/* exactly the depth limit parses; one more does not */
	for (i = 0; i < JSON_MAX_DEPTH; i++) {
		big[i] = '[';
		big[2 * JSON_MAX_DEPTH - 1 - i] = ']';
	}
	CHECK(json_parse(&j, big, 2 * JSON_MAX_DEPTH, err, sizeof(err)) == 0, "depth %d: %s",
	      JSON_MAX_DEPTH, err);
	memset(big, '[', JSON_MAX_DEPTH + 1);
	CHECK(json_parse(&j, big, JSON_MAX_DEPTH + 1, err, sizeof(err)) < 0 &&
	      strstr(err, "nested deeper"), "depth + 1: %s", err);
	/* more values than tokens */
	big[0] = '[';
	for (i = 0; i < JSON_MAX_TOKENS + 1; i++) {
		big[1 + 2 * i] = '0';
		big[2 + 2 * i] = ',';
	}
	big[2 * JSON_MAX_TOKENS + 2] = ']';
	CHECK(json_parse(&j, big, 2 * JSON_MAX_TOKENS + 3, err, sizeof(err)) < 0 &&
	      strstr(err, "more than"), "tokens: %s", err);
	memset(big, ' ', n);
	big[0] = '0';
	CHECK(json_parse(&j, big, n, err, sizeof(err)) < 0 && strstr(err, "longer than"),
	      "size: %s", err);
	free(big);
}

int main(void)
{
	table();
	lookups();
	limits();
	if (failures)
		printf("%d failures\n", failures);
	else
		printf("test_cni_json: ok\n");
	return failures ? 1 : 0;
}

/*
 * json.h - the small JSON reader and writer of unetmap-cni.
 *
 * The reader validates a whole document (RFC 8259) and cuts it into a flat
 * array of tokens in document order, without recursion: an explicit stack
 * of at most JSON_MAX_DEPTH open containers, at most JSON_MAX_TOKENS tokens
 * and JSON_MAX_INPUT bytes, so hostile input (a runtime's config, an IPAM
 * plugin's answer) costs bounded time and memory and fails with a message
 * saying where.  Strings stay escaped in the input; json_str() unescapes
 * one on demand into a caller's buffer.
 *
 * The writer appends to a growing buffer and escapes strings; a value
 * already validated by the reader can be copied verbatim (json_raw).
 */
#ifndef UNETMAP_CNI_JSON_H
#define UNETMAP_CNI_JSON_H

#include <stdbool.h>
#include <stddef.h>

#define JSON_MAX_INPUT	(256 * 1024)
#define JSON_MAX_TOKENS	4096
#define JSON_MAX_DEPTH	32

enum json_type { JSON_OBJECT, JSON_ARRAY, JSON_STRING, JSON_NUMBER, JSON_TRUE, JSON_FALSE,
		 JSON_NULL };

struct json_tok {
	enum json_type type;
	size_t start, end;	/* the value's text is src[start, end): quotes
				 * and brackets included */
	int next;		/* index of the token after this value and
				 * everything inside it */
};

struct json {
	const char *src;
	size_t len;
	int ntok;
	struct json_tok tok[JSON_MAX_TOKENS];
};

/* Parse src[0, len).  0, or -1 with a message in err ("line 3, column 7:
 * expected ':' after an object key"). */
int json_parse(struct json *j, const char *src, size_t len, char *err, size_t errlen);

/* In object token obj, the value of key (first match), or -1. */
int json_get(const struct json *j, int obj, const char *key);
/* The idx-th child of array or object token (for objects: the key), or -1. */
int json_child(const struct json *j, int tok, int idx);
/* Number of children of an array (key/value pairs of an object). */
int json_count(const struct json *j, int tok);
/* Unescape string token t into out (NUL-terminated).  0, or -1 if it is
 * not a string, holds a NUL, or does not fit. */
int json_str(const struct json *j, int t, char *out, size_t outlen);
/* Does string token t equal s (after unescaping)? */
bool json_streq(const struct json *j, int t, const char *s);

struct jbuf {
	char *p;
	size_t len, cap;
	bool oom;		/* an allocation failed: the text is cut */
};

void jb_raw(struct jbuf *b, const char *s, size_t n);
void jb_lit(struct jbuf *b, const char *s);	/* unescaped text, as is */
void jb_str(struct jbuf *b, const char *s);	/* a quoted, escaped string */
void jb_key(struct jbuf *b, const char *k);	/* "k": */
void jb_tok(struct jbuf *b, const struct json *j, int t);	/* copy a token's text */
void jb_free(struct jbuf *b);

#endif

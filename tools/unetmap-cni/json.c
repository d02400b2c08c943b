/*
 * json.c - see json.h.  One pass over the input with an explicit stack of
 * open containers: the nesting depth of the input never becomes the depth
 * of our call stack.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct pstate {
	struct json *j;
	size_t i;
	char *err;
	size_t errlen;
};

/* Report the position of p->i as a line and column, which is what a
 * person editing a config file looks for. */
static int perr(struct pstate *p, const char *fmt, ...)
{
	size_t k, line = 1, col = 1;
	char msg[160];
	va_list ap;

	for (k = 0; k < p->i && k < p->j->len; k++) {
		if (p->j->src[k] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "line %zu, column %zu: %s", line, col, msg);
	return -1;
}

static void skip_ws(struct pstate *p)
{
	const char *s = p->j->src;

	while (p->i < p->j->len &&
	       (s[p->i] == ' ' || s[p->i] == '\t' || s[p->i] == '\n' || s[p->i] == '\r'))
		p->i++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A string starting at the opening quote; p->i ends after the closing one. */
static int scan_string(struct pstate *p)
{
	const char *s = p->j->src;
	size_t n = p->j->len;

	p->i++;
	while (p->i < n) {
		unsigned char c = (unsigned char)s[p->i];

		if (c == '"') {
			p->i++;
			return 0;
		}
		if (c < 0x20)
			return perr(p, "control character 0x%02x inside a string", c);
		if (c == '\\') {
			if (p->i + 1 >= n)
				break;
			switch (s[p->i + 1]) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				p->i += 2;
				continue;
			case 'u': {
				int k;

				for (k = 2; k < 6; k++)
					if (p->i + (size_t)k >= n || hexval(s[p->i + k]) < 0)
						return perr(p, "bad \\u escape");
				p->i += 6;
				continue;
			}
			default:
				return perr(p, "bad escape '\\%c'", s[p->i + 1]);
			}
		}
		p->i++;
	}
	return perr(p, "unterminated string");
}

static int scan_number(struct pstate *p)
{
	const char *s = p->j->src;
	size_t n = p->j->len, d;

	if (p->i < n && s[p->i] == '-')
		p->i++;
	if (p->i < n && s[p->i] == '0') {
		p->i++;
	} else {
		for (d = p->i; p->i < n && s[p->i] >= '0' && s[p->i] <= '9'; p->i++)
			;
		if (d == p->i)
			return perr(p, "bad number");
	}
	if (p->i < n && s[p->i] == '.') {
		p->i++;
		for (d = p->i; p->i < n && s[p->i] >= '0' && s[p->i] <= '9'; p->i++)
			;
		if (d == p->i)
			return perr(p, "bad number: no digit after '.'");
	}
	if (p->i < n && (s[p->i] == 'e' || s[p->i] == 'E')) {
		p->i++;
		if (p->i < n && (s[p->i] == '+' || s[p->i] == '-'))
			p->i++;
		for (d = p->i; p->i < n && s[p->i] >= '0' && s[p->i] <= '9'; p->i++)
			;
		if (d == p->i)
			return perr(p, "bad number: no digit in the exponent");
	}
	return 0;
}

static int new_tok(struct pstate *p, enum json_type t)
{
	struct json *j = p->j;
	int k;

	if (j->ntok >= JSON_MAX_TOKENS)
		return perr(p, "more than %d values", JSON_MAX_TOKENS);
	k = j->ntok++;
	j->tok[k].type = t;
	j->tok[k].start = p->i;
	j->tok[k].end = p->i;
	j->tok[k].next = k + 1;
	return k;
}

/* One scalar, or the opening of a container (pushed on stack). */
static int scan_value(struct pstate *p, int *stack, int *depth)
{
	const char *s = p->j->src;
	size_t n = p->j->len;
	static const struct { const char *word; enum json_type t; } lits[] = {
		{ "true", JSON_TRUE }, { "false", JSON_FALSE }, { "null", JSON_NULL },
	};
	unsigned k;
	int t;

	if (p->i >= n)
		return perr(p, "unexpected end of input: a value is missing");
	switch (s[p->i]) {
	case '{':
	case '[':
		if (*depth >= JSON_MAX_DEPTH)
			return perr(p, "nested deeper than %d", JSON_MAX_DEPTH);
		t = new_tok(p, s[p->i] == '{' ? JSON_OBJECT : JSON_ARRAY);
		if (t < 0)
			return -1;
		stack[(*depth)++] = t;
		p->i++;
		return 0;
	case '"':
		t = new_tok(p, JSON_STRING);
		if (t < 0 || scan_string(p) < 0)
			return -1;
		break;
	default:
		if (s[p->i] == '-' || (s[p->i] >= '0' && s[p->i] <= '9')) {
			t = new_tok(p, JSON_NUMBER);
			if (t < 0 || scan_number(p) < 0)
				return -1;
			break;
		}
		for (k = 0; k < sizeof(lits) / sizeof(lits[0]); k++) {
			size_t l = strlen(lits[k].word);

			if (n - p->i >= l && memcmp(s + p->i, lits[k].word, l) == 0) {
				t = new_tok(p, lits[k].t);
				if (t < 0)
					return -1;
				p->i += l;
				break;
			}
		}
		if (k == sizeof(lits) / sizeof(lits[0])) {
			unsigned char c = (unsigned char)s[p->i];

			if (c >= 0x20 && c < 0x7f)
				return perr(p, "unexpected '%c': a value is expected", c);
			return perr(p, "unexpected byte 0x%02x: a value is expected", c);
		}
		break;
	}
	p->j->tok[t].end = p->i;
	return 0;
}

int json_parse(struct json *j, const char *src, size_t len, char *err, size_t errlen)
{
	struct pstate p = { .j = j, .i = 0, .err = err, .errlen = errlen };
	int stack[JSON_MAX_DEPTH], depth = 0;

	j->src = src;
	j->len = len;
	j->ntok = 0;
	if (len > JSON_MAX_INPUT)
		return perr(&p, "input longer than %d bytes", JSON_MAX_INPUT);
	if (memchr(src, '\0', len))
		return perr(&p, "a NUL byte in the input");
	skip_ws(&p);
	if (scan_value(&p, stack, &depth) < 0)
		return -1;
	/* After each value or opening: inside an object, a key comes before
	 * each value; commas and closings end what is open. */
	while (depth > 0) {
		int top = stack[depth - 1];
		bool obj = j->tok[top].type == JSON_OBJECT;
		bool first = j->ntok == top + 1;	/* nothing inside yet */
		char close = obj ? '}' : ']';

		skip_ws(&p);
		if (p.i >= len)
			return perr(&p, "unexpected end of input: '%c' is missing", close);
		if (src[p.i] == close) {
			/* "[1,]" is caught below: a comma always wants a value */
			p.i++;
			j->tok[top].end = p.i;
			j->tok[top].next = j->ntok;
			depth--;
			continue;
		}
		if (!first) {
			if (src[p.i] != ',')
				return perr(&p, "expected ',' or '%c'", close);
			p.i++;
			skip_ws(&p);
		}
		if (obj) {
			int k;

			if (p.i >= len || src[p.i] != '"')
				return perr(&p, "expected a string as object key");
			k = new_tok(&p, JSON_STRING);
			if (k < 0 || scan_string(&p) < 0)
				return -1;
			j->tok[k].end = p.i;
			skip_ws(&p);
			if (p.i >= len || src[p.i] != ':')
				return perr(&p, "expected ':' after an object key");
			p.i++;
			skip_ws(&p);
		}
		if (scan_value(&p, stack, &depth) < 0)
			return -1;
	}
	skip_ws(&p);
	if (p.i != len)
		return perr(&p, "trailing characters after the document");
	return 0;
}

int json_child(const struct json *j, int tok, int idx)
{
	int c, k = 0, step;

	if (tok < 0 || tok >= j->ntok ||
	    (j->tok[tok].type != JSON_OBJECT && j->tok[tok].type != JSON_ARRAY))
		return -1;
	/* an object's children come as key, value: step over both */
	step = j->tok[tok].type == JSON_OBJECT ? 2 : 1;
	for (c = tok + 1; c < j->tok[tok].next; k++) {
		if (k == idx)
			return c;
		if (step == 2)
			c = j->tok[c].next;	/* the key */
		c = j->tok[c].next;
	}
	return -1;
}

int json_count(const struct json *j, int tok)
{
	int n = 0;

	while (json_child(j, tok, n) >= 0)
		n++;
	return n;
}

int json_get(const struct json *j, int obj, const char *key)
{
	int c, k;

	if (obj < 0 || obj >= j->ntok || j->tok[obj].type != JSON_OBJECT)
		return -1;
	for (c = obj + 1; c < j->tok[obj].next; c = j->tok[k].next) {
		k = c + 1;		/* the value after key c */
		if (json_streq(j, c, key))
			return k;
	}
	return -1;
}

static void put_utf8(char *out, size_t *o, uint32_t cp)
{
	if (cp < 0x80) {
		out[(*o)++] = (char)cp;
	} else if (cp < 0x800) {
		out[(*o)++] = (char)(0xc0 | (cp >> 6));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		out[(*o)++] = (char)(0xe0 | (cp >> 12));
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		out[(*o)++] = (char)(0xf0 | (cp >> 18));
		out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[(*o)++] = (char)(0x80 | (cp & 0x3f));
	}
}

static uint32_t hex4(const char *s)
{
	return (uint32_t)(hexval(s[0]) << 12 | hexval(s[1]) << 8 | hexval(s[2]) << 4 |
			  hexval(s[3]));
}

int json_str(const struct json *j, int t, char *out, size_t outlen)
{
	const char *s;
	size_t i, e, o = 0;

	if (t < 0 || t >= j->ntok || j->tok[t].type != JSON_STRING || outlen == 0)
		return -1;
	s = j->src;
	i = j->tok[t].start + 1;	/* validated: quotes at both ends */
	e = j->tok[t].end - 1;
	while (i < e) {
		uint32_t cp;

		/* room for the longest UTF-8 sequence and the NUL */
		if (o + 5 > outlen)
			return -1;
		if (s[i] != '\\') {
			out[o++] = s[i++];
			continue;
		}
		switch (s[i + 1]) {
		case 'b': out[o++] = '\b'; i += 2; continue;
		case 'f': out[o++] = '\f'; i += 2; continue;
		case 'n': out[o++] = '\n'; i += 2; continue;
		case 'r': out[o++] = '\r'; i += 2; continue;
		case 't': out[o++] = '\t'; i += 2; continue;
		case 'u': break;
		default: out[o++] = s[i + 1]; i += 2; continue;
		}
		cp = hex4(s + i + 2);
		i += 6;
		/* a surrogate pair is one code point; a lone half becomes
		 * U+FFFD rather than invalid UTF-8 */
		if (cp >= 0xd800 && cp < 0xdc00 && i + 6 <= e && s[i] == '\\' && s[i + 1] == 'u') {
			uint32_t lo = hex4(s + i + 2);

			if (lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			}
		}
		if (cp >= 0xd800 && cp < 0xe000)
			cp = 0xfffd;
		if (cp == 0)
			return -1;	/* would cut a C string short */
		put_utf8(out, &o, cp);
	}
	out[o] = '\0';
	return 0;
}

bool json_streq(const struct json *j, int t, const char *s)
{
	char buf[256];

	if (strlen(s) >= sizeof(buf) || json_str(j, t, buf, sizeof(buf)) < 0)
		return false;
	return strcmp(buf, s) == 0;
}

void jb_raw(struct jbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void jb_lit(struct jbuf *b, const char *s)
{
	jb_raw(b, s, strlen(s));
}

void jb_str(struct jbuf *b, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	char esc[8];

	jb_raw(b, "\"", 1);
	for (; *u; u++) {
		if (*u == '"' || *u == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*u;
			jb_raw(b, esc, 2);
		} else if (*u < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", *u);
			jb_raw(b, esc, 6);
		} else {
			jb_raw(b, (const char *)u, 1);
		}
	}
	jb_raw(b, "\"", 1);
}

void jb_key(struct jbuf *b, const char *k)
{
	jb_str(b, k);
	jb_raw(b, ":", 1);
}

/* Copied without the blanks between tokens: a plugin's result is one
 * line, whatever the IPAM plugin's layout. */
void jb_tok(struct jbuf *b, const struct json *j, int t)
{
	const char *s = j->src;
	size_t i, run = j->tok[t].start;
	bool in_str = false;

	for (i = j->tok[t].start; i < j->tok[t].end; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;	/* validated: an escape is complete */
			else if (s[i] == '"')
				in_str = false;
		} else if (s[i] == '"') {
			in_str = true;
		} else if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			jb_raw(b, s + run, i - run);
			run = i + 1;
		}
	}
	jb_raw(b, s + run, i - run);
}

void jb_free(struct jbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

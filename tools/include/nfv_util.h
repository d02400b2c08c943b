/*
 * nfv_util.h - small helpers shared by the NFV tools (nm-dump, nm-filter,
 * nm-lb, nmreplay, tlem): clocks, netmap's number syntaxes for bandwidth,
 * time, loss and sizes, a fast PRNG, frame length checks.
 *
 * Header-only on purpose: the Makefile builds every tools/<name>/ into its
 * own program from that directory's sources, and these few functions are
 * not worth a library.  Everything is static inline so that a tool that
 * uses part of it still compiles -Werror clean.
 */
#ifndef NFV_UTIL_H
#define NFV_UTIL_H

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libnetmap.h>

#define NFV_NSEC 1000000000ULL

static inline uint64_t nfv_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NFV_NSEC + (uint64_t)ts.tv_nsec;
}

/*
 * A floating point number with an optional one-letter multiplier from
 * mult[] (pairs "letters", factor; a NULL letters ends the table; the
 * entry with "" is the unit of a bare number).  Returns 0 and *out, or
 * -EINVAL for anything else (empty, trailing junk, negative, not finite).
 */
struct nfv_mult {
	const char *letters;
	double factor;
};

static inline int nfv_parse_mult(const char *s, const struct nfv_mult *mult, double *out)
{
	char *end;
	double v;
	const struct nfv_mult *m;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	for (m = mult; m->letters; m++) {
		if (*end == '\0' && m->letters[0] == '\0')
			break;
		if (*end && end[1] == '\0' && m->letters[0] && strchr(m->letters, *end))
			break;
	}
	if (!m->letters)
		return -EINVAL;
	*out = v * m->factor;
	return 0;
}

/* bits per second: k/K m/M g/G are powers of 1000 (netmap's parse_bw) */
static inline int nfv_parse_bw(const char *s, double *bps)
{
	static const struct nfv_mult t[] = {
		{ "", 1 }, { "kK", 1e3 }, { "mM", 1e6 }, { "gG", 1e9 }, { NULL, 0 }
	};

	return nfv_parse_mult(s, t, bps);
}

/* nanoseconds: a bare number is seconds; n u m s suffixes (netmap's parse_time) */
static inline int nfv_parse_time(const char *s, double *ns)
{
	static const struct nfv_mult t[] = {
		{ "", 1e9 }, { "n", 1 }, { "u", 1e3 }, { "m", 1e6 }, { "s", 1e9 }, { NULL, 0 }
	};

	return nfv_parse_mult(s, t, ns);
}

/* bytes: k/K m/M g/G are powers of 1024 (netmap's parse_qsize) */
static inline int nfv_parse_size(const char *s, double *bytes)
{
	static const struct nfv_mult t[] = {
		{ "", 1 }, { "kK", 1024.0 }, { "mM", 1048576.0 }, { "gG", 1073741824.0 },
		{ NULL, 0 }
	};

	return nfv_parse_mult(s, t, bytes);
}

/*
 * Split "a,b,c" in place into at most max words; returns how many, or
 * -EINVAL if there are more (an empty word counts as a word).
 */
static inline int nfv_split(char *s, char **w, int max)
{
	int n = 0;

	for (;;) {
		char *c = strchr(s, ',');

		if (n == max)
			return -EINVAL;
		w[n++] = s;
		if (!c)
			return n;
		*c = '\0';
		s = c + 1;
	}
}

/*
 * Bandwidth spec: "bps", "constant,bps", "ether,bps" (24 bytes of
 * preamble, inter-frame gap and CRC added to each frame).  0 = unlimited.
 */
struct nfv_bw {
	double bps;
	unsigned overhead;	/* bytes added to each frame's length */
};

static inline int nfv_parse_bw_spec(const char *arg, struct nfv_bw *bw)
{
	char buf[128], *w[3];
	int n;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	n = nfv_split(buf, w, 2);
	bw->overhead = 0;
	if (n == 1)
		return nfv_parse_bw(w[0], &bw->bps);
	if (n != 2)
		return -EINVAL;
	if (strcmp(w[0], "ether") == 0)
		bw->overhead = 24;
	else if (strcmp(w[0], "constant") != 0)
		return -EINVAL;
	return nfv_parse_bw(w[1], &bw->bps);
}

/* Delay spec: "t", "constant,t", "uniform,tmin,tmax", "exp,tavg,tmin" */
enum nfv_delay_kind { NFV_DELAY_CONST, NFV_DELAY_UNIFORM, NFV_DELAY_EXP };

struct nfv_delay {
	enum nfv_delay_kind kind;
	double a, b;		/* ns: const a; uniform [a, b]; exp avg a, min b */
};

static inline int nfv_parse_delay_spec(const char *arg, struct nfv_delay *d)
{
	char buf[128], *w[4];
	int n;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	n = nfv_split(buf, w, 3);
	d->b = 0;
	if (n == 1) {
		d->kind = NFV_DELAY_CONST;
		return nfv_parse_time(w[0], &d->a);
	}
	if (n == 2 && strcmp(w[0], "constant") == 0) {
		d->kind = NFV_DELAY_CONST;
		return nfv_parse_time(w[1], &d->a);
	}
	if (n == 3 && strcmp(w[0], "uniform") == 0) {
		d->kind = NFV_DELAY_UNIFORM;
		if (nfv_parse_time(w[1], &d->a) < 0 || nfv_parse_time(w[2], &d->b) < 0 || d->b < d->a)
			return -EINVAL;
		return 0;
	}
	if (n == 3 && strcmp(w[0], "exp") == 0) {
		d->kind = NFV_DELAY_EXP;
		if (nfv_parse_time(w[1], &d->a) < 0 || nfv_parse_time(w[2], &d->b) < 0 || d->a < d->b)
			return -EINVAL;
		return 0;
	}
	return -EINVAL;
}

/* Loss spec: "p", "plr,p", "ber,p" with 0 <= p <= 1 */
struct nfv_loss {
	int ber;		/* p is a bit error rate, not a packet loss rate */
	double p;
};

static inline int nfv_parse_loss_spec(const char *arg, struct nfv_loss *l)
{
	char buf[128], *w[3], *end;
	int n;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	n = nfv_split(buf, w, 2);
	l->ber = 0;
	if (n == 2) {
		if (strcmp(w[0], "ber") == 0)
			l->ber = 1;
		else if (strcmp(w[0], "plr") != 0)
			return -EINVAL;
		w[0] = w[1];
	} else if (n != 1) {
		return -EINVAL;
	}
	errno = 0;
	l->p = strtod(w[0], &end);
	if (errno || end == w[0] || *end || !(l->p >= 0 && l->p <= 1))
		return -EINVAL;
	return 0;
}

/* xoshiro-style PRNG state: splitmix64 is enough for loss and jitter */
static inline uint64_t nfv_rand64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in [0, 1) */
static inline double nfv_rand01(uint64_t *s)
{
	return (double)(nfv_rand64(s) >> 11) * (1.0 / 9007199254740992.0);
}

/*
 * Threshold form of a loss probability for a frame of len bytes: the
 * frame is lost when nfv_rand64() < the returned value.  p = 1 maps to
 * UINT64_MAX (lost unless the draw is exactly that, 1 in 2^64).
 */
static inline uint64_t nfv_loss_threshold(const struct nfv_loss *l, unsigned len)
{
	double p = l->p;

	if (l->ber)
		p = 1.0 - pow(1.0 - p, 8.0 * len);
	if (p <= 0)
		return 0;
	if (p >= 1)
		return UINT64_MAX;
	return (uint64_t)(p * 18446744073709551616.0);
}

/* one delay draw in ns */
static inline double nfv_delay_draw(const struct nfv_delay *d, uint64_t *s)
{
	switch (d->kind) {
	case NFV_DELAY_UNIFORM:
		return d->a + (d->b - d->a) * nfv_rand01(s);
	case NFV_DELAY_EXP:
		/* mean a, never below b: b plus an exponential of mean a - b */
		return d->b - (d->a - d->b) * log(1.0 - nfv_rand01(s));
	default:
		return d->a;
	}
}

/* A seed that differs between runs unless NFV_SEED fixes it (tests). */
static inline uint64_t nfv_seed(void)
{
	const char *e = getenv("NFV_SEED");

	if (e && *e)
		return strtoull(e, NULL, 0);
	return nfv_now_ns() ^ ((uint64_t)getpid() << 32);
}

/* Highest valid buffer index of the region d maps, seen from ring r. */
static inline uint32_t nfv_max_buf(const struct nmport_d *d, const struct netmap_ring *r)
{
	/* the netmap_if sits nr_offset bytes into the region */
	const char *base = (const char *)d->nifp - d->reg.nr_offset;
	const char *buf0 = (const char *)r + r->buf_ofs;
	uint64_t room;

	if (buf0 < base || buf0 >= base + d->reg.nr_memsize || !r->nr_buf_size)
		return 0;
	room = (uint64_t)(base + d->reg.nr_memsize - buf0) / r->nr_buf_size;
	return room > UINT32_MAX ? UINT32_MAX : (uint32_t)room - 1;
}

#endif /* NFV_UTIL_H */

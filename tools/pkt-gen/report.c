/*
 * pkt-gen -- number formatting and the RTT histogram.
 */
#include <string.h>

#include "pktgen.h"

/*
 * pg_norm - netmap's norm(): "14.881 M" for 14881000, "999.000 " below
 * 1000; with normalize == 0 the plain integer and a space ("14881000 ").
 * The caller appends the unit ("pps", "bps", ...).
 */
const char *
pg_norm(char *buf, size_t len, double val, int normalize)
{
	static const char *const units[] = { "", "K", "M", "G", "T" };
	unsigned i = 0;

	if (!normalize) {
		snprintf(buf, len, "%.0f ", val);
		return buf;
	}
	while (val >= 1000 && i + 1 < sizeof(units) / sizeof(units[0])) {
		val /= 1000;
		i++;
	}
	snprintf(buf, len, "%.3f %s", val, units[i]);
	return buf;
}

/* Index of the highest bit set, 0 for 0 and 1. */
int
pg_msb64(uint64_t x)
{
	return x ? 63 - __builtin_clzll(x) : 0;
}

/*
 * Fine buckets: values below 2*SUB have their own bucket; above, each
 * power of two [2^e, 2^(e+1)) is cut into SUB equal parts.
 */
static unsigned
fine_index(uint64_t v)
{
	int e, shift;

	if (v < 2 * PG_HIST_SUB)
		return (unsigned)v;
	e = pg_msb64(v);
	shift = e - 6;			/* log2(PG_HIST_SUB) == 6 */
	return (unsigned)((e - 5) * PG_HIST_SUB + ((v >> shift) - PG_HIST_SUB));
}

/* Middle of a fine bucket. */
static uint64_t
fine_value(unsigned idx)
{
	unsigned e, m;
	uint64_t lo, width;

	if (idx < 2 * PG_HIST_SUB)
		return idx;
	e = idx / PG_HIST_SUB + 5;
	m = PG_HIST_SUB + idx % PG_HIST_SUB;
	lo = (uint64_t)m << (e - 6);
	width = 1ULL << (e - 6);
	return lo + width / 2;
}

void
pg_hist_reset(struct pg_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void
pg_hist_add(struct pg_hist *h, uint64_t ns)
{
	h->count++;
	h->sum += ns;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
	h->log2[pg_msb64(ns)]++;
	h->fine[fine_index(ns)]++;
}

void
pg_hist_merge(struct pg_hist *dst, const struct pg_hist *src)
{
	unsigned i;

	if (src->count == 0)
		return;
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	for (i = 0; i < 64; i++)
		dst->log2[i] += src->log2[i];
	for (i = 0; i < 64 * PG_HIST_SUB; i++)
		dst->fine[i] += src->fine[i];
}

/*
 * pg_hist_pct - the pct-th percentile (nearest rank), within the width
 * of a fine bucket (< 1/64 of the value) and clamped to [min, max].
 * Returns 0 on an empty histogram.
 */
uint64_t
pg_hist_pct(const struct pg_hist *h, double pct)
{
	uint64_t rank, seen = 0, v;
	unsigned i;

	if (h->count == 0)
		return 0;
	rank = (uint64_t)(pct / 100.0 * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (i = 0; i < 64 * PG_HIST_SUB; i++) {
		seen += h->fine[i];
		if (seen >= rank)
			break;
	}
	v = fine_value(i);
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return v;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A latency histogram cheap enough for the packet path: log-linear buckets (16 per power of
 * two, so any value is within 1/16 of its bucket's low edge), one increment per sample, no
 * allocation. Each lcore owns its histogram; readers sum them (fc_hist_merge) for reports.
 */
#ifndef FC_HIST_H
#define FC_HIST_H

#include <stdint.h>

#define FC_HIST_SUB_LOG2 4u
#define FC_HIST_SUB      (1u << FC_HIST_SUB_LOG2)
#define FC_HIST_BUCKETS  (FC_HIST_SUB * (64u - FC_HIST_SUB_LOG2 + 1u))

struct fc_hist {
	uint64_t count;
	uint64_t max;
	uint64_t b[FC_HIST_BUCKETS];
};

static inline unsigned int
fc_hist_bucket(uint64_t v)
{
	unsigned int e;

	if (v < FC_HIST_SUB)
		return (unsigned int)v;
	e = 63u - (unsigned int)__builtin_clzll(v); /* >= FC_HIST_SUB_LOG2 */
	return FC_HIST_SUB * (e - FC_HIST_SUB_LOG2 + 1u) +
	       (unsigned int)((v >> (e - FC_HIST_SUB_LOG2)) & (FC_HIST_SUB - 1u));
}

static inline void
fc_hist_add(struct fc_hist *h, uint64_t v)
{
	h->b[fc_hist_bucket(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
}

/* The low edge of bucket i: every value in it is >= this and < the next bucket's edge. */
uint64_t fc_hist_bucket_low(unsigned int i);

/* Adds src into dst. */
void fc_hist_merge(struct fc_hist *dst, const struct fc_hist *src);

/*
 * The value at quantile q (0 < q <= 1): the high edge of the bucket holding it, clamped to the
 * maximum seen, so a reported percentile is never below the truth. 0 if empty.
 */
uint64_t fc_hist_quantile(const struct fc_hist *h, double q);

#endif /* FC_HIST_H */

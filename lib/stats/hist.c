/* SPDX-License-Identifier: BSD-3-Clause */
/* Log-linear latency histogram; see fc_hist.h. */
#include "fc_hist.h"

uint64_t
fc_hist_bucket_low(unsigned int i)
{
	unsigned int e, sub;

	if (i < FC_HIST_SUB)
		return i;
	e = i / FC_HIST_SUB + FC_HIST_SUB_LOG2 - 1u;
	sub = i % FC_HIST_SUB;
	return (UINT64_C(1) << e) + ((uint64_t)sub << (e - FC_HIST_SUB_LOG2));
}

void
fc_hist_merge(struct fc_hist *dst, const struct fc_hist *src)
{
	for (unsigned int i = 0; i < FC_HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t
fc_hist_quantile(const struct fc_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (h->count == 0)
		return 0;
	rank = (uint64_t)(q * (double)h->count);
	if (rank == 0)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (unsigned int i = 0; i < FC_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t high = i + 1 < FC_HIST_BUCKETS ? fc_hist_bucket_low(i + 1) - 1
								: UINT64_MAX;

			return high < h->max ? high : h->max;
		}
	}
	return h->max;
}

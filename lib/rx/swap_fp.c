/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The RX role's tick-boundary swaps (fc_tick.h, "Swaps"): floorctl's roster commands give the
 * RX lcores a new tag table and tag caches, a round start with a new layout new clue discs.
 * TX publishes them under sequence counters; an RX adopts them before it applies the first
 * frame of a tick, so every fix of a tick is mapped and routed with one roster and one layout.
 * Two sequence-counter reads a tick; never allocates, frees or waits.
 */
#include <rte_branch_prediction.h>

#include "fc_rx.h"

void
fc__rx_swap(struct fc_rx *rx, uint64_t t)
{
	struct fc_tick_sync *s = rx->sync;
	const void *tags, *discs;
	uint64_t gen, layout;
	uint32_t sn;

	rx->swap_tick = t;
	do {
		sn = rte_seqcount_read_begin(&s->roster.sc);
		gen = s->roster.gen;
		tags = s->roster.rx[rx->index];
	} while (rte_seqcount_read_retry(&s->roster.sc, sn));
	if (gen != rx->roster_gen && tags != NULL) {
		const struct fc_rx_tags *v = tags;

		rx->tags = v->tags;
		rx->tag_cache = v->cache;
		rx->tag_cache_log2 = v->cache_log2;
		rx->roster_gen = gen;
		fc_tick_store(&s->rx[rx->index].used[FC_TICK_SWAP_ROSTER], gen);
	}
	do {
		sn = rte_seqcount_read_begin(&s->round.sc);
		layout = s->round.layout_id;
		discs = s->round.discs;
	} while (rte_seqcount_read_retry(&s->round.sc, sn));
	if (layout != rx->layout_gen && discs != NULL) {
		rx->discs = discs;
		rx->layout_gen = layout;
		fc_tick_store(&s->rx[rx->index].used[FC_TICK_SWAP_LAYOUT], layout);
	}
}

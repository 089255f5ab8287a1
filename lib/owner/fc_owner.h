/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shard-owner role: drains the rings from every RX lcore in bursts, applies each fix to its
 * state (fc_grid.h: newest measurement wins, duplicates collapse), records the latency from the
 * RX burst to applied, and publishes the ticks it has completed (fc_tick.h). The owner is the
 * only writer of its state; it never waits for a reader.
 */
#ifndef FC_OWNER_H
#define FC_OWNER_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ring.h>

#include "fc_grid.h"
#include "fc_hist.h"
#include "fc_tick.h"

#define FC_OWNER_BURST    32u
#define FC_OWNER_MAX_POLL 4096u /* records drained from one ring in one poll, at most */

struct fc_owner_stats {
	uint64_t records;    /* fix records dequeued */
	uint64_t applied;    /* became the player's candidate */
	uint64_t older;      /* arrived after a newer fix of the player: ignored */
	uint64_t duplicates; /* the same fix again */
	uint64_t watermarks;
	struct fc_hist lat_tsc; /* RX burst -> applied, TSC cycles */
};

struct fc_owner {
	uint32_t index; /* 0 .. n_owners - 1 */
	uint32_t n_rings;
	struct rte_ring *ring[FC_TICK_MAX_RX]; /* from each RX lcore */
	struct fc_tick_sync *sync;
	struct fc_owner_state state;

	uint64_t wm[FC_TICK_MAX_RX]; /* latest watermark of each ring */
	uint64_t done;               /* last published completed tick */

	struct fc_owner_stats st __rte_cache_aligned;
} __rte_cache_aligned;

/* One unit of owner work: a burst from each ring. Returns true if it did anything. */
bool fc_owner_poll(struct fc_owner *o);

#endif /* FC_OWNER_H */

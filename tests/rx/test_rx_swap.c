/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The RX role's tick-boundary swaps (lib/rx/swap_fp.c, fc_tick.h "Swaps"): what TX publishes
 * for the roster and the layout is what an RX maps and routes with from its next tick, once,
 * and the RX says which generation it now reads. No EAL: the publications are plain memory
 * under sequence counters.
 */
#include <criterion/criterion.h>

#include "fc_rx.h"

static struct fc_tick_sync sync_;
static struct fc_rx rx;
static struct fc_tag_slot cache1[4], cache2[4];
static const struct fc_rx_tags tags1 = { .tags = (const struct rte_hash *)0x1000,
					 .cache = cache1,
					 .cache_log2 = 2 };
static const struct fc_rx_tags tags2 = { .tags = (const struct rte_hash *)0x2000,
					 .cache = cache2,
					 .cache_log2 = 2 };
static const struct fc_disc_index discs1, discs2;

/* The state floord's start leaves: generation 1 of both, published and in use. */
static void
setup(void)
{
	memset(&sync_, 0, sizeof(sync_));
	memset(&rx, 0, sizeof(rx));
	rte_seqcount_init(&sync_.roster.sc);
	rte_seqcount_init(&sync_.round.sc);
	rx.index = 1;
	rx.sync = &sync_;
	rx.tags = tags1.tags;
	rx.tag_cache = tags1.cache;
	rx.tag_cache_log2 = 2;
	rx.discs = &discs1;
	rx.roster_gen = rx.layout_gen = 1;
	sync_.roster.gen = 1;
	sync_.roster.rx[1] = &tags1;
	sync_.round.layout_id = 1;
	sync_.round.discs = &discs1;
	sync_.rx[1].used[FC_TICK_SWAP_ROSTER] = sync_.rx[1].used[FC_TICK_SWAP_LAYOUT] = 1;
}

static void
publish_roster(uint64_t gen, const struct fc_rx_tags *t)
{
	rte_seqcount_write_begin(&sync_.roster.sc);
	sync_.roster.gen = gen;
	sync_.roster.rx[1] = t;
	rte_seqcount_write_end(&sync_.roster.sc);
}

TestSuite(rx_swap, .init = setup);

Test(rx_swap, nothing_published_changes_nothing)
{
	fc__rx_swap(&rx, 100);
	cr_assert_eq(rx.swap_tick, 100, "the tick is checked");
	cr_assert_eq(rx.tags, tags1.tags);
	cr_assert_eq(rx.tag_cache, cache1);
	cr_assert_eq(rx.discs, &discs1);
	cr_assert_eq(sync_.rx[1].used[FC_TICK_SWAP_ROSTER], 1);
}

Test(rx_swap, a_published_roster_is_adopted_and_said_so)
{
	publish_roster(2, &tags2);
	fc__rx_swap(&rx, 101);
	cr_assert_eq(rx.tags, tags2.tags);
	cr_assert_eq(rx.tag_cache, cache2, "this RX's own cache of generation 2");
	cr_assert_eq(rx.roster_gen, 2);
	cr_assert_eq(sync_.rx[1].used[FC_TICK_SWAP_ROSTER], 2, "the control thread may free 1");
	cr_assert_eq(sync_.rx[1].used[FC_TICK_SWAP_LAYOUT], 1, "the layout did not change");
	cr_assert_eq(rx.discs, &discs1);
}

Test(rx_swap, the_layout_comes_with_the_round)
{
	rte_seqcount_write_begin(&sync_.round.sc);
	sync_.round.id = 2;
	sync_.round.layout_id = 3;
	sync_.round.discs = &discs2;
	rte_seqcount_write_end(&sync_.round.sc);
	fc__rx_swap(&rx, 102);
	cr_assert_eq(rx.discs, &discs2);
	cr_assert_eq(rx.layout_gen, 3);
	cr_assert_eq(sync_.rx[1].used[FC_TICK_SWAP_LAYOUT], 3);
	cr_assert_eq(rx.tags, tags1.tags, "the roster did not change");
}

Test(rx_swap, several_changes_between_two_ticks_adopt_the_last)
{
	publish_roster(2, &tags1); /* a generation this RX never sees */
	publish_roster(3, &tags2);
	fc__rx_swap(&rx, 103);
	cr_assert_eq(rx.tag_cache, cache2);
	cr_assert_eq(sync_.rx[1].used[FC_TICK_SWAP_ROSTER], 3, "2 is freed with 1");
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ticks and time: how RX, owners and TX agree on what "tick T" contains, in replay and live.
 *
 * Time is nanoseconds on one clock: the capture's timestamps in replay (a virtual clock), the
 * TSC scaled onto the wall clock live. Tick T (absolute) covers [T * tick_ns, (T + 1) * tick_ns).
 *
 * One mechanism for both modes, watermarks: each RX lcore stamps every record with the tick it
 * received the frame in and, when its clock passes the end of a tick, sends every owner a
 * watermark record "all my records of ticks <= T came before this". An owner has completed T
 * when every ring's watermark is >= T and publishes that; TX emits tick T when every owner has
 * completed it. So a tick's deltas contain exactly the frames received in it, whatever the
 * layout.
 *
 * Replay adds one rule, lockstep: an RX lcore applies frames of tick T + 1 only once TX has
 * emitted T, so owners never run ahead of the tick TX is reading and the output is the same
 * bytes for every layout (DESIGN invariant 5). Live, nobody waits: RX never blocks (invariant 6)
 * and the deadlines are the TSC's.
 *
 * Claims as soon as possible (live and paced replay, sync->asap): each RX also publishes its
 * clock, the time up to which every frame it received is on the rings, after each poll. An
 * owner that has drained its rings decides the clues whose settle window ended by the least of
 * those clocks at once, and TX announces each claim as soon as it is durable, in a packet of
 * the tick in progress, without waiting for the tick's end. Unpaced replay decides and
 * announces at the tick (deterministic bytes); sync->clock maps floord's clock back to the TSC
 * so that TX can time a claim from the end of its settle window to the wire.
 *
 * Start and end: each RX publishes the first tick it saw (live: the tick it started in); TX
 * starts at the smallest, numbering ticks on the wire from 1. At the end of a capture (or on
 * SIGINT/SIGTERM) each RX publishes its last tick, then sends the final watermark (UINT64_MAX),
 * which completes every later tick at the owners: TX therefore never emits a tick past the last
 * tick of all, then sends the end of session and says the pipeline is done.
 *
 * Swaps (floorctl's load layout and roster commands, docs/control.md): the tag tables and the
 * clue discs and arbiters are read without locks, so a change is a new set of objects, built
 * by the control thread, that TX publishes while it emits tick T (the roster, and the layout
 * with the round start that takes it). Each role adopts what is published at its next tick
 * boundary: RX before it applies a frame of a tick it has not checked, an owner before it
 * handles a record of a tick past T' + 1 where T' is the tick TX had emitted when it last
 * checked. In replay, lockstep makes that exactly tick T + 1 for every role (RX applies frames
 * of T + 1 only once TX has emitted T, after publishing). Live, an RX running ahead of TX
 * adopts a change at the first tick it sees it in. Each role then says which generation it
 * uses (`used`), and the control thread frees an old generation only when every role uses a
 * newer one: nothing is freed under a reader, and the packet path never frees.
 */
#ifndef FC_TICK_H
#define FC_TICK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_seqcount.h>

#define FC_TICK_MAX_RX     16u
#define FC_TICK_MAX_OWNERS 16u
#define FC_TICK_NONE       UINT64_MAX /* "no tick": an RX that saw no frame, the final watermark */

/* The objects swapped at tick boundaries, and the generation numbers of each kind. */
enum fc_tick_swap {
	FC_TICK_SWAP_ROSTER = 0, /* the tag table and the RX tag caches */
	FC_TICK_SWAP_LAYOUT,     /* the clue discs and the owners' arbiters */
	FC_TICK_SWAPS,
};

struct fc_tick_rx_pub {
	uint64_t first_tick; /* 0 until known; FC_TICK_NONE if the RX ended without a frame */
	uint64_t last_tick;  /* valid once eof */
	uint32_t eof;        /* last_tick is final; the final watermark follows it */
	uint64_t clock_ns;   /* asap: every frame received at or before this is on the rings */
	uint64_t used[FC_TICK_SWAPS]; /* the generation this RX reads, per kind */
} __rte_cache_aligned;

struct fc_tick_owner_pub {
	uint64_t done;        /* every record of ticks <= done is applied */
	uint64_t used_layout; /* the layout generation this owner reads */
} __rte_cache_aligned;

struct fc_tick_sync {
	bool replay;
	bool asap; /* live or paced: claims decided and announced as soon as they can be */
	uint64_t tick_ns;
	uint32_t n_rx;
	uint32_t n_owners;
	struct fc_tick_rx_pub rx[FC_TICK_MAX_RX];
	struct fc_tick_owner_pub owner[FC_TICK_MAX_OWNERS];
	struct {
		uint64_t first;    /* S: the first tick on the wire; 0 until known */
		uint64_t done;     /* the last tick TX emitted (S - 1 before the first) */
		uint32_t finished; /* end of session sent: every lcore may leave its loop */
	} tx __rte_cache_aligned;
	struct {
		uint32_t stop; /* SIGINT/SIGTERM: RX lcores stop receiving */
	} ctl __rte_cache_aligned;
	struct {
		uint64_t ns0, tsc0; /* floord's clock read ns0 when the TSC read tsc0 */
		uint64_t hz;        /* TSC cycles per second of floord's clock */
		uint32_t set;       /* the three above are valid (release/acquire) */
	} clock __rte_cache_aligned;
	struct {
		rte_seqcount_t sc; /* TX writes (floorctl's round commands), owners read */
		uint32_t id;
		uint32_t state; /* enum fc_round_state */
		uint64_t
			open_ns; /* fixes measured before this do not claim (a new round's start) */
		uint64_t
			layout_id; /* the round's layout generation (1: the one floord started on) */
		const void *discs; /* its clue discs: struct fc_disc_index, for RX's routing */
		void *game[FC_TICK_MAX_OWNERS]; /* each owner's arbiter for it: fc_owner_game */
	} round __rte_cache_aligned;
	struct {
		rte_seqcount_t sc; /* TX writes (floorctl's roster commands), RX reads */
		uint64_t gen;      /* the roster generation (1: the roster file's) */
		const void *rx[FC_TICK_MAX_RX]; /* each RX's tag table and cache: fc_rx_tags */
	} roster __rte_cache_aligned;
};

static inline uint64_t
fc_tick_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void
fc_tick_store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline uint32_t
fc_tick_load32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void
fc_tick_store32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline uint64_t
fc_tick_of(const struct fc_tick_sync *s, uint64_t now_ns)
{
	return now_ns / s->tick_ns;
}

/*
 * Replay lockstep: may an RX apply frames of tick t now? Always live; in replay only once TX
 * has emitted t - 1 (and knows where the session starts).
 */
static inline bool
fc_tick_may_apply(const struct fc_tick_sync *s, uint64_t t)
{
	uint64_t first;

	if (!s->replay)
		return true;
	first = fc_tick_load(&s->tx.first);
	return first != 0 && (t <= first || fc_tick_load(&s->tx.done) >= t - 1);
}

/*
 * The TSC at which floord's clock reads ns, or 0 while the mapping is unknown (unpaced replay,
 * or a paced replay before its first frame). Times before ns0 map to tsc0.
 */
static inline uint64_t
fc_tick_clock_tsc(const struct fc_tick_sync *s, uint64_t ns)
{
	uint64_t d;

	if (!fc_tick_load32(&s->clock.set))
		return 0;
	d = ns > s->clock.ns0 ? ns - s->clock.ns0 : 0;
	/* Split so that d * hz cannot overflow (a minute at 2.6 GHz would). */
	return s->clock.tsc0 + d / UINT64_C(1000000000) * s->clock.hz +
	       d % UINT64_C(1000000000) * s->clock.hz / UINT64_C(1000000000);
}

/* The least of the RX clocks (asap): every frame received by then is on the rings. */
static inline uint64_t
fc_tick_rx_clock(const struct fc_tick_sync *s)
{
	uint64_t t = UINT64_MAX;

	for (uint32_t r = 0; r < s->n_rx; r++) {
		uint64_t c = fc_tick_load(&s->rx[r].clock_ns);

		if (c < t)
			t = c;
	}
	return t;
}

#endif /* FC_TICK_H */

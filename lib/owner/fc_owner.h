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

#include "fc_game.h"
#include "fc_grid.h"
#include "fc_journal.h"
#include "fc_hist.h"
#include "fc_tick.h"

#define FC_OWNER_BURST    32u
#define FC_OWNER_MAX_POLL 4096u /* records drained from one ring in one poll, at most */

#define FC_OWNER_CLAIMS 16u /* claims decided per call, and the most held back at once */

/*
 * A decided claim on its way to TX, with the tick it was decided at the end of and, with a
 * journal, the ticket TX waits on before announcing it (DESIGN invariant 7).
 */
struct fc_claim_ev {
	uint64_t tick;
	uint64_t ticket;     /* 0 without a journal */
	uint32_t producer;   /* the journal producer that appended it: the owner's index */
	uint32_t journaled;  /* appended (the owner's own bookkeeping while it holds the claim) */
	uint64_t layout_gen; /* the layout the arbiter played: its clue_idx is in that layout */
	uint32_t reopen;     /* not a claim: the clue respawned (claim: clue_id, clue_idx and
			      * deadline_ns = the moment it reopened; nothing to journal) */
	uint32_t round_id;   /* the round the arbiter played */
	struct fc_game_claim claim;
};

/*
 * What an owner plays a layout with (floorctl's load layout builds one per owner; fc_tick.h,
 * "Swaps"): adopted with the round start that takes the layout.
 */
struct fc_owner_game {
	struct fc_arbiter *arb;
	const struct fc_game_layout *layout; /* the arbiter's: clue ids */
	const struct fc_disc_index *discs;
	uint32_t *respawns; /* per clue of the layout */
};

/*
 * One player's plausibility reference as one owner has seen it (its newest plausible fix),
 * published for the other owners by the tick it was set in: two slots, so that while the owner
 * writes tick T's the one of an earlier tick stays whole. An owner judging a fix of tick T
 * reads, from every other owner, the newest slot of a tick before T: in replay's lockstep
 * every owner completed T - 1 before any record of T exists, so what it reads is final, and
 * the same in every lcore layout (docs/game.md section 4).
 */
struct fc_owner_ref {
	rte_seqcount_t sc; /* the publishing owner writes, the others read */
	uint32_t reserved;
	struct {
		uint64_t tick; /* the tick of the record that set it; 0: never set */
		struct fc_game_ref r;
	} at[2];
};

struct fc_owner_stats {
	uint64_t records;    /* fix records dequeued */
	uint64_t applied;    /* became the player's candidate */
	uint64_t older;      /* arrived after a newer fix of the player: ignored */
	uint64_t duplicates; /* the same fix again */
	uint64_t watermarks;
	uint64_t clue_fixes;      /* fixes presented to this owner's clues */
	uint64_t qualifying;      /* of which became or improved a contender */
	uint64_t implausible;     /* fixes flagged as an impossible speed (with a game) */
	uint64_t claims;          /* clues decided here */
	uint64_t reopened;        /* respawning clues reopened here */
	uint64_t claims_held;     /* times the claim ring was full: done held back, nothing lost */
	uint64_t journal_full;    /* times the journal's queue was full: the claim waited */
	uint64_t already_awarded; /* decided again after a restart: in the journal, not re-sent */
	struct fc_hist lat_tsc;   /* RX burst -> applied, TSC cycles */
};

struct fc_owner {
	uint32_t index; /* 0 .. n_owners - 1 */
	uint32_t n_rings;
	struct rte_ring *ring[FC_TICK_MAX_RX]; /* from each RX lcore */
	struct fc_tick_sync *sync;
	struct fc_owner_state state;

	/* the game, NULL without a layout: the arbiter of this owner's clues (their home owner) */
	struct fc_arbiter *arb;
	const struct fc_game_layout *layout; /* the arbiter's: clue ids */
	const struct fc_disc_index *discs;
	const struct fc_geom *geom;
	const uint16_t *team; /* player -> team */
	/* with more than one owner: this owner's references for the others, theirs for it */
	struct fc_owner_ref *refs; /* n_refs players, NULL with one owner */
	uint32_t n_refs;
	uint32_t n_peers;
	const struct fc_owner_ref *peer[FC_TICK_MAX_OWNERS - 1];
	struct rte_ring *claims;    /* to TX: struct fc_claim_ev */
	struct fc_journal *journal; /* NULL: no journal */
	uint32_t round_id;
	bool round_running;    /* claims are decided only while the round runs */
	uint32_t round_sn;     /* the round's sequence count last seen */
	uint64_t layout_gen;   /* the layout arb, discs and respawns belong to */
	uint64_t checked_tick; /* the round and layout are known for records up to this tick */
	uint32_t *respawns; /* per clue: awards so far this round (the journal's respawn number) */
	uint32_t n_held;    /* decided, not yet on the ring */
	struct fc_claim_ev held[FC_OWNER_CLAIMS];

	uint64_t wm[FC_TICK_MAX_RX]; /* latest watermark of each ring */
	uint64_t done;               /* last published completed tick */

	struct fc_owner_stats st __rte_cache_aligned;
} __rte_cache_aligned;

/* One unit of owner work: a burst from each ring. Returns true if it did anything. */
bool fc_owner_poll(struct fc_owner *o);

#endif /* FC_OWNER_H */

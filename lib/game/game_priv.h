/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The arbiter's insides, shared by its control path (arbiter.c: sizing, carving one block of
 * memory, reset) and its hot path (arbiter_fp.c: fixes, offers, decisions). One arbiter lives on
 * one owner lcore, which is its only writer, so nothing here is atomic.
 *
 * Memory, all carved from one block at init: the arbiter, then per clue a struct fc__clue (its
 * 64 best contenders inline), then per clue a bitmap of the players counted as contenders, then
 * per player the plausibility reference, then (probability policy with dwell > 1 only) a dwell
 * run per (clue, player).
 */
#ifndef FC_GAME_PRIV_H
#define FC_GAME_PRIV_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include "fc_game.h"

#define FC__CACHE_LINE 64u

/* A contender kept by a clue: its player's earliest qualifying fix. */
struct fc__cont {
	uint64_t meas_ns;
	uint32_t dist_mm;
	uint32_t fix_seq;
	uint16_t player;
	uint16_t team;
	uint32_t reserved;
};

static_assert(sizeof(struct fc__cont) == 24, "contender entry");

struct fc__clue {
	struct fc_game_clue clue; /* read by every fix presented: first */
	uint8_t state;            /* enum fc_arbiter_clue_state */
	uint8_t n_listed;         /* entries in cont[], sorted by rank */
	uint16_t total;           /* players counted: the bits set in its bitmap */
	uint16_t winner;
	uint8_t unreported; /* reopened by an offer (see reopen_clue()), not yet reported */
	uint64_t open_ns;
	uint64_t deadline_ns;
	uint64_t reopen_ns;
	uint64_t respawn_ns;
	struct fc__cont cont[FC_GAME_MAX_LISTED];
} __attribute__((aligned(FC__CACHE_LINE)));

/*
 * A player's dwell run at one clue. The run's first fix is what the arbiter is offered, so that
 * a player's claim time is when it got there, not when its dwell was complete (which would
 * favour tags with a higher fix rate). run_back_ns is that fix's time before last_ns: a run spans
 * at most (dwell - 1) gaps of at most FC_GAME_DWELL_GAP_MAX_MS, and it stops growing once the
 * dwell is reached.
 */
struct fc__dwell {
	uint64_t last_ns; /* the newest fix of the player presented to the clue; 0: none */
	uint32_t last_seq;
	uint32_t run_back_ns;
	uint32_t run_seq;
	uint16_t run_dist_mm;
	uint8_t count; /* qualifying fixes in the run, up to dwell + 1 */
	uint8_t reserved;
};

static_assert(sizeof(struct fc__dwell) == 24, "dwell entry");
static_assert((uint64_t)(FC_GAME_DWELL_MAX - 1) * FC_GAME_DWELL_GAP_MAX_MS * 1000000u <= UINT32_MAX,
	      "a dwell run's span fits run_back_ns");

struct fc_arbiter {
	struct fc_game_rules rules;
	uint32_t n_clues;
	uint32_t n_players;
	uint32_t seen_words;    /* uint64_t words of one clue's player bitmap */
	bool owns_mem;          /* made by fc_arbiter_create(): fc_arbiter_free() frees it */
	uint32_t n_settling;    /* clues SETTLING */
	uint32_t n_waiting;     /* clues DECIDED with a respawn still to come */
	uint32_t n_unreported;  /* clues reopened by an offer, not yet returned by reopen_until */
	uint64_t next_deadline; /* the earliest deadline of a SETTLING clue */
	uint64_t next_reopen;   /* the earliest respawn of a DECIDED clue */
	struct fc__clue *clues;
	uint64_t *seen;          /* n_clues x seen_words */
	struct fc_game_ref *ref; /* n_players */
	struct fc__dwell *dwell; /* n_clues x n_players, or NULL without dwell */
	struct fc_arbiter_stats st;
} __attribute__((aligned(FC__CACHE_LINE)));

/* Where each part of an arbiter's block starts, and its size. */
struct fc__arb_layout {
	size_t clues;
	size_t seen;
	size_t ref;
	size_t dwell; /* == size when there is no dwell table */
	size_t size;
};

/* The layout of an arbiter's block; false if n_players is 0 or too large. */
bool fc__arb_layout(const struct fc_game_layout *l, uint32_t n_players, struct fc__arb_layout *out);

/* True if the rules keep dwell runs (probability policy with dwell > 1). */
static inline bool
fc__has_dwell(const struct fc_game_rules *r)
{
	return r->policy == FC_GAME_POLICY_PROBABILITY && r->dwell > 1;
}

#endif /* FC_GAME_PRIV_H */

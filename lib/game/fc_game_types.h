/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The game's types, for the components that only carry them: the clue layout a round is played
 * on, a fix as the game sees it, and the claim record the arbiter writes when a clue is decided
 * (TX turns it into CLUE_CLAIMED and SCORE events, the journal appends it). The rules and every
 * number are in docs/game.md; the functions are in fc_game.h.
 *
 * No DPDK here and no EAL anywhere in lib/game: the tests, the tools and the owners use it as it
 * is.
 */
#ifndef FC_GAME_TYPES_H
#define FC_GAME_TYPES_H

#include <assert.h>
#include <stdint.h>

#define FC_GAME_MAX_CLUES        65535u /* clues in one layout */
#define FC_GAME_MAX_PLAYERS      65535u /* player ids 0 .. 65534; 0xFFFF is "none" on the wire */
#define FC_GAME_PLAYER_NONE      0xFFFFu
#define FC_GAME_ERR_UNKNOWN      0xFFFFu /* err_mm of a fix whose engine gave no error */
#define FC_GAME_COORD_MAX_MM     655350  /* the floor's bound: positions go out as u16 cm */
#define FC_GAME_RADIUS_MAX_MM    65535u  /* CLUE_STATE carries the radius as u16 mm */
#define FC_GAME_POINTS_MAX       1000000u
#define FC_GAME_RESPAWN_MAX_S    86400u
#define FC_GAME_DWELL_MAX        8u
#define FC_GAME_DWELL_GAP_MAX_MS 500u
#define FC_GAME_MAX_LISTED       64u /* contenders a claim lists: the design's hot spot */

/* Layout defaults (docs/game.md, "Settings"). */
#define FC_GAME_DEF_RADIUS_MM    20u
#define FC_GAME_DEF_SIGMA_K      1.0
#define FC_GAME_DEF_THRESHOLD    0.9
#define FC_GAME_DEF_DWELL        2u
#define FC_GAME_DEF_DWELL_GAP_MS 250u
#define FC_GAME_DEF_SETTLE_MS    100u
#define FC_GAME_DEF_MAX_SPEED    8.0 /* m/s: a sprinter's top speed is about 12, a player's 8 */

enum fc_game_policy {
	FC_GAME_POLICY_DISTANCE = 0, /* the fix's position within the radius */
	FC_GAME_POLICY_CONSERVATIVE, /* the fix's k-sigma disc inside the radius */
	FC_GAME_POLICY_PROBABILITY,  /* P(within the radius) >= threshold for dwell fixes */
};

/* The one tie-break rule: earliest time, then smaller distance_mm, then smaller player id. */
enum fc_game_tie_break {
	FC_GAME_TIE_DISTANCE_THEN_PLAYER = 0,
};

/* A clue of the layout. */
struct fc_game_clue {
	uint32_t clue_id; /* >= 1 */
	int32_t x_mm;     /* 0 .. FC_GAME_COORD_MAX_MM */
	int32_t y_mm;
	uint32_t radius_mm; /* 1 .. FC_GAME_RADIUS_MAX_MM */
	uint32_t points;    /* 0 .. FC_GAME_POINTS_MAX */
	uint32_t respawn_s; /* 0: stays decided for the round */
	uint32_t line;      /* its line in the layout file, for messages */
};

/*
 * A layout's rules, with what the hot path needs precomputed at load (docs/game.md gives the
 * maths of accept_k2 and reject_z).
 */
struct fc_game_rules {
	enum fc_game_policy policy;
	enum fc_game_tie_break tie_break;
	double sigma_k;   /* conservative: the error disc's radius in sigmas */
	double threshold; /* probability: 0.5 <= threshold < 1 */
	double accept_k2; /* -2 ln(1 - threshold): (r - d)^2 >= accept_k2 sigma^2 proves P >= thr */
	double reject_z;  /* Phi^-1(threshold): r - d < reject_z sigma proves P < thr */
	uint32_t dwell;   /* probability: consecutive qualifying fixes, 1 .. FC_GAME_DWELL_MAX */
	uint32_t default_radius_mm;
	uint64_t dwell_gap_ns; /* two fixes further apart than this are not consecutive */
	uint64_t settle_ns;    /* the settle window */
	double max_speed_mps;  /* plausibility */
};

/* A layout: its rules and its clues, sorted by clue_id (a clue's index is its rank by id). */
struct fc_game_layout {
	struct fc_game_rules rules;
	uint32_t n_clues;
	struct fc_game_clue *clues;
};

/* A fix as the game sees it: the owner's record of a tag's fix, mapped to its player and team. */
struct fc_game_fix {
	uint64_t meas_ns; /* corrected measurement time, ns since the epoch (never 0) */
	int32_t x_mm;
	int32_t y_mm;
	uint32_t fix_seq; /* the engine's per-tag counter: one fix heard twice has one fix_seq */
	uint16_t player;  /* < the arbiter's n_players */
	uint16_t team;
	uint16_t err_mm; /* 1-sigma horizontal error, FC_GAME_ERR_UNKNOWN if unknown */
	uint16_t reserved[3];
};

static_assert(sizeof(struct fc_game_fix) == 32, "fix layout: two a cache line");

/*
 * A plausibility reference: a player's newest plausible fix (docs/game.md, "Plausibility").
 * An arbiter keeps one per player; fc_arbiter_plausible_seen() also takes one from elsewhere
 * (the other owners' view of the player).
 */
struct fc_game_ref {
	uint64_t meas_ns; /* 0: none */
	int32_t x_mm;
	int32_t y_mm;
	uint16_t err_mm; /* FC_GAME_ERR_UNKNOWN if unknown */
	uint16_t reserved[3];
};

static_assert(sizeof(struct fc_game_ref) == 24, "plausibility reference");

/* Contender flags: the values of docs/protocol.md, CLUE_CLAIMED. */
#define FC_GAME_CONT_WINNER 0x0001u /* the first entry only */
#define FC_GAME_CONT_TIE    0x0002u /* tied on time with the winner, lost on the tie-break */

/* A contender entry, laid out as CLUE_CLAIMED's 16-byte entry (docs/protocol.md). */
struct fc_game_contender {
	uint16_t player;
	uint16_t flags;        /* FC_GAME_CONT_* */
	uint32_t distance_mm;  /* from the clue at the qualifying fix, rounded to the nearest mm */
	uint64_t meas_time_ns; /* corrected measurement time of the qualifying fix */
};

static_assert(sizeof(struct fc_game_contender) == 16, "the wire's contender entry");

/* A decided claim: what CLUE_CLAIMED says, plus what the journal and the scores need. */
struct fc_game_claim {
	uint32_t clue_id;
	uint32_t clue_idx; /* index in the layout */
	uint32_t points;
	uint16_t winner;
	uint16_t winner_team;
	uint16_t contenders_total;  /* every player that qualified before the decision */
	uint16_t contenders_listed; /* 1 .. FC_GAME_MAX_LISTED, winner first */
	uint32_t winner_fix_seq;    /* the winner's qualifying fix, for the audit */
	uint64_t meas_time_ns;      /* the winner's qualifying fix */
	uint64_t deadline_ns;       /* the end of the settle window: when the clue was decided */
	uint64_t reopen_ns;         /* when the clue respawns, 0 if it stays decided */
	struct fc_game_contender contenders[FC_GAME_MAX_LISTED];
	uint32_t fix_seq[FC_GAME_MAX_LISTED]; /* each listed contender's qualifying fix (audit) */
};

#endif /* FC_GAME_TYPES_H */

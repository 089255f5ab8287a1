/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The game's rules: the clue layout file, claim detection under measurement error, plausibility,
 * and the arbiter that decides who reached a clue first. docs/game.md is the description of the
 * rules; this is the API.
 *
 * Where it runs: each clue has one home owner lcore (DESIGN.md section 2), which keeps one
 * arbiter. The owner presents every fix it applies to the clues near it, and polls the arbiter
 * for decisions and respawns once per loop. Everything an arbiter needs is allocated when it is
 * made, sized from the layout and the number of players; after that no function here allocates,
 * locks, logs or makes a syscall, and none needs the EAL.
 *
 * Control path: fc_game_layout_load(), fc_arbiter_create() / _init(), _reset(), _free().
 * Hot path (the owner lcore, one writer): fc_game_qualifies(), fc_arbiter_plausible(),
 * fc_arbiter_fix(), fc_arbiter_offer(), fc_arbiter_decide_until(), fc_arbiter_reopen_until().
 */
#ifndef FC_GAME_H
#define FC_GAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fc_game_types.h"

/* ---- the layout file (layout.c) ---------------------------------------------------------- */

/*
 * Loads the layout file at path (format in docs/game.md) into a new layout. The caller's
 * current layout is not touched, so a refused file leaves the running round as it was.
 * Returns 0 and *out, or -errno with *out NULL and one line in err[0, err_len):
 *  -ENOENT, -EACCES, ... "FILE: cannot open: REASON"
 *  -EINVAL  "FILE:LINE: REASON" for a bad line, value or duplicate clue id, and for a file
 *           without a policy or without clues (LINE is then its last line);
 *  -ENOMEM  "FILE: out of memory".
 */
int fc_game_layout_load(const char *path, struct fc_game_layout **out, char *err, size_t err_len);

/*
 * Checks a loaded layout against the floor it is played on: every clue's centre must lie on the
 * floor, 0 <= x < width_mm and 0 <= y < height_mm (a clue off the floor could never be reached,
 * and no shard would be its home). path names the file in the message. Returns 0, or -EINVAL
 * with "FILE:LINE: clue ID at (X, Y) mm is outside the floor (W x H mm)" for the first such
 * clue in the file. floord makes this check at start and for floorctl's load layout.
 */
int fc_game_layout_check_floor(const struct fc_game_layout *l, const char *path, uint32_t width_mm,
			       uint32_t height_mm, char *err, size_t err_len);

/* Frees a layout from fc_game_layout_load(); NULL is accepted. */
void fc_game_layout_free(struct fc_game_layout *l);

/* The index of clue_id in the layout (its rank by id), or -ENOENT. */
int fc_game_layout_find(const struct fc_game_layout *l, uint32_t clue_id);

/* The name of a policy as the file writes it ("distance", ...). */
const char *fc_game_policy_name(enum fc_game_policy p);

/* ---- claim detection (claim_fp.c) --------------------------------------------------------- */

/*
 * True if a fix at (x_mm, y_mm) with 1-sigma error err_mm qualifies for clue c under the rules'
 * policy, for this one fix (the probability policy's dwell is the arbiter's: fc_arbiter_fix()).
 *  distance:     d <= r, exactly, in integer millimetres; err_mm is not used;
 *  conservative: d + sigma_k * err_mm <= r; an unknown error never qualifies;
 *  probability:  P(true position within r) >= threshold (fc_game_probability()); an unknown
 *                error never qualifies.
 * A fix outside the disc (d > r) never qualifies under any policy. If dist_mm is not NULL, it
 * gets d rounded to the nearest mm when the fix qualifies.
 */
bool fc_game_qualifies(const struct fc_game_rules *rules, const struct fc_game_clue *c,
		       int32_t x_mm, int32_t y_mm, uint16_t err_mm, uint32_t *dist_mm);

/*
 * The probability that the true position is within r of the clue's centre, for a fix at
 * distance d from it with isotropic 2D normal error of standard deviation sigma (all in mm):
 * 1 - Q1(d / sigma, r / sigma), Q1 Marcum's Q function. sigma 0 gives 1 if d <= r, else 0.
 * Absolute error below 1e-13 (docs/game.md, "Computing P"); at most a few hundred ns.
 */
double fc_game_probability(double d, double r, double sigma);

/* ---- the arbiter (arbiter.c, arbiter_fp.c) ------------------------------------------------ */

/* Every clue's state (docs/game.md, "Clue states"). */
enum fc_arbiter_clue_state {
	FC_ARB_CLUE_OPEN = 0, /* no qualifying fix yet */
	FC_ARB_CLUE_SETTLING, /* a first qualifying fix: waiting for slower gateways */
	FC_ARB_CLUE_DECIDED,  /* awarded; waits for its respawn if it has one */
};

/* What presenting a fix or an offer did; counted in fc_arbiter_stats.outcome[]. */
enum fc_arbiter_outcome {
	FC_ARB_NOT_QUALIFYING = 0, /* the fix failed the policy or was implausible */
	FC_ARB_DWELLING,           /* qualifying, but fewer than dwell consecutive fixes so far */
	FC_ARB_STALE,              /* dwell: not newer than the player's last fix at the clue */
	FC_ARB_OPENED,             /* the clue's first contender: it now settles */
	FC_ARB_ADDED,              /* a new contender */
	FC_ARB_IMPROVED,           /* an earlier fix of a contender: it replaces the one kept */
	FC_ARB_KEPT,               /* not earlier than the contender's fix kept: nothing changes */
	FC_ARB_TOO_LATE,           /* the clue is already decided: ignored */
	FC_ARB_NOT_OPEN,           /* measured before the clue opened (round start, respawn) */
	FC_ARB_INVALID,            /* clue index or player out of range */
	FC_ARB__OUTCOMES,
};

/* Counters of one arbiter: only its owner writes them; a reader copies them whole. */
struct fc_arbiter_stats {
	uint64_t outcome[FC_ARB__OUTCOMES];
	uint64_t implausible; /* fixes fc_arbiter_plausible() flagged */
	uint64_t unlisted;    /* contenders pushed out of a clue's 64 listed by earlier ones */
	uint64_t claims;      /* clues decided */
	uint64_t reopened;    /* clues respawned */
};

/* A clue's state, for snapshots (CLUE_STATE) and the audit. */
struct fc_arbiter_clue_info {
	enum fc_arbiter_clue_state state;
	uint16_t winner;           /* FC_GAME_PLAYER_NONE unless DECIDED */
	uint16_t contenders_total; /* SETTLING: so far */
	uint64_t open_ns;          /* fixes measured before this are refused */
	uint64_t deadline_ns;      /* SETTLING, DECIDED: the end of the settle window */
	uint64_t reopen_ns;        /* DECIDED with a respawn: when it reopens; else 0 */
};

struct fc_arbiter;

/*
 * Bytes an arbiter needs for layout l and player ids 0 .. n_players - 1 (docs/game.md,
 * "Memory"): about 1.6 KiB a clue, 24 B a player, and for the probability policy with
 * dwell > 1 also 24 B per (clue, player). 0 if n_players is 0 or above FC_GAME_MAX_PLAYERS.
 */
size_t fc_arbiter_mem_size(const struct fc_game_layout *l, uint32_t n_players);

/*
 * Makes an arbiter for layout l in mem (len >= fc_arbiter_mem_size(), 64-byte aligned), e.g.
 * memory on the owner's NUMA node. Every clue opens at open_ns. The arbiter copies what it needs
 * from l, which may then be freed. Returns 0 and *out, or -EINVAL (bad size, alignment, or
 * n_players).
 */
int fc_arbiter_init(struct fc_arbiter **out, void *mem, size_t len, const struct fc_game_layout *l,
		    uint32_t n_players, uint64_t open_ns);

/* fc_arbiter_init() in memory of its own (aligned_alloc). Returns 0, -EINVAL or -ENOMEM. */
int fc_arbiter_create(struct fc_arbiter **out, const struct fc_game_layout *l, uint32_t n_players,
		      uint64_t open_ns);

/* Frees an arbiter from fc_arbiter_create() (not one from _init()); NULL is accepted. */
void fc_arbiter_free(struct fc_arbiter *a);

/*
 * A new round: every clue OPEN from open_ns (fixes measured before are refused), every
 * contender and dwell run forgotten. The plausibility references are kept: a player's position
 * does not restart with a round. Counters are kept (they are the owner's lifetime's).
 */
void fc_arbiter_reset(struct fc_arbiter *a, uint64_t open_ns);

/*
 * A restart continuing its round (the journal's awards): OPEN clue idx becomes DECIDED for
 * winner at deadline_ns, as if decided then; with a respawn it reopens at deadline_ns +
 * respawn_s, as it would have. Returns 0, or -EINVAL (idx out of range, deadline 0, or the
 * clue not OPEN).
 */
int fc_arbiter_restore(struct fc_arbiter *a, uint32_t idx, uint16_t winner, uint64_t deadline_ns);

uint32_t fc_arbiter_n_clues(const struct fc_arbiter *a);

/* A clue's state (idx < fc_arbiter_n_clues()). */
void fc_arbiter_clue_info(const struct fc_arbiter *a, uint32_t idx,
			  struct fc_arbiter_clue_info *out);

void fc_arbiter_stats(const struct fc_arbiter *a, struct fc_arbiter_stats *out);

/*
 * Plausibility, once per fix before it is presented to clues: false if reaching the fix from
 * the player's reference fix (the newest plausible one) takes more than the layout's
 * max_speed_mps, with a noise allowance of 4 combined sigmas (docs/game.md, "Plausibility").
 * A plausible fix newer than the reference becomes the reference; an implausible one never
 * does, so the next fix is again compared with the last plausible one. A player's first fix is
 * plausible. Returns false also for a player out of range.
 */
bool fc_arbiter_plausible(struct fc_arbiter *a, const struct fc_game_fix *f);

/*
 * fc_arbiter_plausible(), with the player's reference from elsewhere as well (NULL or meas_ns 0:
 * none): f is judged against the newer of the arbiter's own reference and *seen. Only the
 * arbiter's own reference moves (to f, if plausible and newer). floord's owners pass the
 * newest plausible fix the other owners had seen of the player by the end of the previous
 * tick, so that a jump from another owner's stripe is judged too (docs/game.md section 4).
 */
bool fc_arbiter_plausible_seen(struct fc_arbiter *a, const struct fc_game_fix *f,
			       const struct fc_game_ref *seen);

/*
 * Presents fix f of its player to clue clue_idx: the policy (fc_game_qualifies()), the dwell
 * run (probability policy with dwell > 1), then fc_arbiter_offer() when the player qualifies.
 * plausible is fc_arbiter_plausible()'s verdict on f: an implausible fix never qualifies. The
 * owner presents to a clue every fix that lands near it, qualifying or not: a non-qualifying
 * fix ends the player's dwell run (docs/game.md, "Dwell"). Returns what happened.
 */
enum fc_arbiter_outcome fc_arbiter_fix(struct fc_arbiter *a, uint32_t clue_idx,
				       const struct fc_game_fix *f, bool plausible);

/*
 * A qualifying fix (policy, dwell and plausibility passed) of player (in team) at clue clue_idx,
 * measured at meas_ns, dist_mm from the clue. The clue keeps, per player, the earliest such fix
 * (by time, then distance, then fix_seq) and the best FC_GAME_MAX_LISTED players by the ranking
 * of docs/game.md; it counts every player. The first offer of an OPEN clue makes it SETTLING;
 * its deadline is the earliest offered time plus the settle window. Returns OPENED, ADDED,
 * IMPROVED, KEPT, TOO_LATE (decided), NOT_OPEN (meas_ns before the clue opened) or INVALID.
 */
enum fc_arbiter_outcome fc_arbiter_offer(struct fc_arbiter *a, uint32_t clue_idx, uint16_t player,
					 uint16_t team, uint64_t meas_ns, uint32_t dist_mm,
					 uint32_t fix_seq);

/*
 * Decides every SETTLING clue whose deadline is <= now_ns, at most max of them, in the order
 * (deadline, clue_id), and writes their claims to out[]. Returns how many; clues left over are
 * due at the next call. A decided clue refuses later offers (TOO_LATE); with a respawn it
 * reopens at deadline + respawn_s. O(1) when no clue is due.
 */
unsigned int fc_arbiter_decide_until(struct fc_arbiter *a, uint64_t now_ns,
				     struct fc_game_claim *out, unsigned int max);

/*
 * Reopens every DECIDED clue whose respawn time is <= now_ns, at most max of them, in the order
 * (reopen time, clue_id), writing their indices to out[] (for CLUE_STATE events). A reopened
 * clue refuses fixes measured before its respawn time. Returns how many. O(1) when none is due.
 */
unsigned int fc_arbiter_reopen_until(struct fc_arbiter *a, uint64_t now_ns, uint32_t *out,
				     unsigned int max);

#endif /* FC_GAME_H */

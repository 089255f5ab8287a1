/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The arbiter's hot path, on the clue's home owner: plausibility of each fix, the dwell runs,
 * the contenders of each settling clue, and the decisions (docs/game.md, "Who was first").
 *
 * The rule that makes the award fair under reordering (DESIGN invariant 3): what a clue keeps is
 * a function of the set of offers it has had, never of their order. Per player it keeps the
 * least fix by (time, distance, fix_seq); of those, the FC_GAME_MAX_LISTED least by (time,
 * distance, player), sorted; and a bitmap of every player offered, which is the total. Its
 * deadline is the least offered time plus the settle window. Each of these is a minimum or a
 * union, which do not care about order; the listed entries are exact because an entry pushed out
 * by 64 better ones can only come back with a fix better than its own.
 *
 * No allocation, lock, log or syscall: the owner counts outcomes in the arbiter's stats.
 */
#include <math.h>
#include <string.h>

#include "fc_game.h"
#include "game_priv.h"

/* The ranking of contenders: earliest time, then smaller distance, then smaller player id. */
static inline bool
rank_before(const struct fc__cont *x, const struct fc__cont *y)
{
	if (x->meas_ns != y->meas_ns)
		return x->meas_ns < y->meas_ns;
	if (x->dist_mm != y->dist_mm)
		return x->dist_mm < y->dist_mm;
	return x->player < y->player;
}

/* Which of one player's fixes a clue keeps: earliest, then nearer, then the smaller fix_seq. */
static inline bool
own_before(const struct fc__cont *x, const struct fc__cont *y)
{
	if (x->meas_ns != y->meas_ns)
		return x->meas_ns < y->meas_ns;
	if (x->dist_mm != y->dist_mm)
		return x->dist_mm < y->dist_mm;
	return x->fix_seq < y->fix_seq;
}

/* Inserts e in the sorted list (room for it); most offers are later ones, so from the end. */
static void
list_insert(struct fc__clue *c, const struct fc__cont *e)
{
	unsigned int i = c->n_listed;

	while (i > 0 && rank_before(e, &c->cont[i - 1])) {
		c->cont[i] = c->cont[i - 1];
		i--;
	}
	c->cont[i] = *e;
	c->n_listed++;
}

static void
list_remove(struct fc__clue *c, unsigned int i)
{
	for (; i + 1u < c->n_listed; i++)
		c->cont[i] = c->cont[i + 1];
	c->n_listed--;
}

/* A full list takes e only if it ranks before the last entry, which it pushes out. */
static bool
list_push_in(struct fc_arbiter *a, struct fc__clue *c, const struct fc__cont *e)
{
	if (!rank_before(e, &c->cont[c->n_listed - 1]))
		return false;
	c->n_listed--;
	a->st.unlisted++;
	list_insert(c, e);
	return true;
}

/* DECIDED clue idx, due to respawn, becomes OPEN from its respawn time, forgetting the award. */
static void
reopen_clue(struct fc_arbiter *a, uint32_t idx)
{
	struct fc__clue *c = &a->clues[idx];

	c->state = FC_ARB_CLUE_OPEN;
	c->open_ns = c->reopen_ns;
	c->reopen_ns = 0;
	c->deadline_ns = 0;
	c->n_listed = 0;
	c->total = 0;
	c->winner = FC_GAME_PLAYER_NONE;
	a->n_waiting--;
	a->st.reopened++;
}

/*
 * A DECIDED clue is too late for an offer, unless the clue respawns and the offer was measured
 * at or after its respawn time: then the clue reopens now, whether or not its owner has called
 * fc_arbiter_reopen_until() for that time yet (corrected measurement times may run ahead of
 * the owner's clock), and reopen_until() reports it next. So a respawn, like a claim, depends
 * on the offers, never on when the owner polled.
 */
static inline bool
too_late(struct fc_arbiter *a, uint32_t idx, uint64_t meas_ns)
{
	struct fc__clue *c = &a->clues[idx];

	if (c->state != FC_ARB_CLUE_DECIDED)
		return false;
	if (c->reopen_ns == 0 || meas_ns < c->reopen_ns)
		return true;
	reopen_clue(a, idx);
	c->unreported = 1;
	a->n_unreported++;
	return false;
}

static enum fc_arbiter_outcome
offer(struct fc_arbiter *a, uint32_t idx, uint16_t player, uint16_t team, uint64_t meas_ns,
      uint32_t dist_mm, uint32_t fix_seq)
{
	struct fc__cont e = { .meas_ns = meas_ns,
			      .dist_mm = dist_mm,
			      .fix_seq = fix_seq,
			      .player = player,
			      .team = team };
	struct fc__clue *c;
	uint64_t *word, bit, deadline;

	if (idx >= a->n_clues || player >= a->n_players)
		return FC_ARB_INVALID;
	c = &a->clues[idx];
	if (too_late(a, idx, meas_ns))
		return FC_ARB_TOO_LATE;
	if (meas_ns < c->open_ns)
		return FC_ARB_NOT_OPEN;
	word = &a->seen[(size_t)idx * a->seen_words + (player >> 6)];
	bit = 1ull << (player & 63);
	deadline = meas_ns + a->rules.settle_ns;

	if (c->state == FC_ARB_CLUE_OPEN) {
		c->state = FC_ARB_CLUE_SETTLING;
		c->deadline_ns = deadline;
		c->cont[0] = e;
		c->n_listed = 1;
		c->total = 1;
		*word |= bit;
		a->n_settling++;
		if (deadline < a->next_deadline)
			a->next_deadline = deadline;
		return FC_ARB_OPENED;
	}
	/* the window runs from the earliest fix offered, whichever arrived first */
	if (deadline < c->deadline_ns) {
		c->deadline_ns = deadline;
		if (deadline < a->next_deadline)
			a->next_deadline = deadline;
	}
	if ((*word & bit) != 0) {
		for (unsigned int i = 0; i < c->n_listed; i++) {
			if (c->cont[i].player != player)
				continue;
			if (!own_before(&e, &c->cont[i]))
				return FC_ARB_KEPT;
			list_remove(c, i);
			list_insert(c, &e);
			return FC_ARB_IMPROVED;
		}
		/* counted but pushed out by 64 better: back only with a better fix than those */
		return list_push_in(a, c, &e) ? FC_ARB_IMPROVED : FC_ARB_KEPT;
	}
	*word |= bit;
	c->total++;
	if (c->n_listed < FC_GAME_MAX_LISTED)
		list_insert(c, &e);
	else
		list_push_in(a, c, &e);
	return FC_ARB_ADDED;
}

enum fc_arbiter_outcome
fc_arbiter_offer(struct fc_arbiter *a, uint32_t clue_idx, uint16_t player, uint16_t team,
		 uint64_t meas_ns, uint32_t dist_mm, uint32_t fix_seq)
{
	enum fc_arbiter_outcome r = offer(a, clue_idx, player, team, meas_ns, dist_mm, fix_seq);

	a->st.outcome[r]++;
	return r;
}

bool
fc_arbiter_plausible_seen(struct fc_arbiter *a, const struct fc_game_fix *f,
			  const struct fc_game_ref *seen)
{
	struct fc_game_ref *own;
	const struct fc_game_ref *ref;
	double dt, dx, dy, s1, s2, allowed;

	if (f->player >= a->n_players) {
		a->st.outcome[FC_ARB_INVALID]++;
		return false;
	}
	own = &a->ref[f->player];
	/* the newer of the two: where the player was last seen, here or elsewhere */
	ref = seen != NULL && seen->meas_ns > own->meas_ns ? seen : own;
	if (ref->meas_ns != 0) {
		dt = f->meas_ns >= ref->meas_ns ? (double)(f->meas_ns - ref->meas_ns)
						: (double)(ref->meas_ns - f->meas_ns);
		dx = (double)((int64_t)f->x_mm - ref->x_mm);
		dy = (double)((int64_t)f->y_mm - ref->y_mm);
		/* an unknown error gets no allowance: it cannot excuse a jump */
		s1 = ref->err_mm == FC_GAME_ERR_UNKNOWN ? 0.0 : ref->err_mm;
		s2 = f->err_mm == FC_GAME_ERR_UNKNOWN ? 0.0 : f->err_mm;
		/* 4 combined sigmas: a still player's two fixes differ by more once in ~3000 */
		/* m/s is mm/ms: mm = mps * ns / 1e6, exact for whole speeds and times */
		allowed = a->rules.max_speed_mps * dt / 1e6 + 4.0 * sqrt(s1 * s1 + s2 * s2);
		if (dx * dx + dy * dy > allowed * allowed) {
			a->st.implausible++;
			return false;
		}
	}
	if (f->meas_ns > own->meas_ns) {
		own->meas_ns = f->meas_ns;
		own->x_mm = f->x_mm;
		own->y_mm = f->y_mm;
		own->err_mm = f->err_mm;
	}
	return true;
}

bool
fc_arbiter_plausible(struct fc_arbiter *a, const struct fc_game_fix *f)
{
	return fc_arbiter_plausible_seen(a, f, NULL);
}

static enum fc_arbiter_outcome
present(struct fc_arbiter *a, uint32_t idx, const struct fc_game_fix *f, bool plausible)
{
	struct fc__clue *c;
	struct fc__dwell *d;
	uint32_t dist = 0;
	uint64_t prev;
	bool q;

	if (idx >= a->n_clues || f->player >= a->n_players)
		return FC_ARB_INVALID;
	c = &a->clues[idx];
	/* before the policy: a decided clue costs a player standing on it nothing */
	if (too_late(a, idx, f->meas_ns))
		return FC_ARB_TOO_LATE;
	if (f->meas_ns < c->open_ns)
		return FC_ARB_NOT_OPEN;
	q = plausible && fc_game_qualifies(&a->rules, &c->clue, f->x_mm, f->y_mm, f->err_mm, &dist);
	if (a->dwell == NULL)
		return q ? offer(a, idx, f->player, f->team, f->meas_ns, dist, f->fix_seq)
			 : FC_ARB_NOT_QUALIFYING;

	d = &a->dwell[(size_t)idx * a->n_players + f->player];
	/* a run never spans the clue's opening (round start, respawn) */
	if (d->last_ns < c->open_ns)
		memset(d, 0, sizeof(*d));
	/* the same fix heard again, or one older than the player's last: not consecutive */
	if (d->last_ns != 0 && (f->fix_seq == d->last_seq || f->meas_ns <= d->last_ns))
		return FC_ARB_STALE;
	prev = d->last_ns;
	d->last_ns = f->meas_ns;
	d->last_seq = f->fix_seq;
	if (!q) {
		d->count = 0;
		return FC_ARB_NOT_QUALIFYING;
	}
	if (d->count == 0 || f->meas_ns - prev > a->rules.dwell_gap_ns) {
		d->count = 1;
		d->run_back_ns = 0;
		d->run_seq = f->fix_seq;
		d->run_dist_mm = (uint16_t)dist;
	} else if (d->count >= a->rules.dwell) {
		/* offered when the run reached dwell, in this opening: the same offer again */
		return FC_ARB_KEPT;
	} else {
		d->count++;
		d->run_back_ns += (uint32_t)(f->meas_ns - prev);
	}
	if (d->count < a->rules.dwell)
		return FC_ARB_DWELLING;
	return offer(a, idx, f->player, f->team, f->meas_ns - d->run_back_ns, d->run_dist_mm,
		     d->run_seq);
}

enum fc_arbiter_outcome
fc_arbiter_fix(struct fc_arbiter *a, uint32_t clue_idx, const struct fc_game_fix *f, bool plausible)
{
	enum fc_arbiter_outcome r = present(a, clue_idx, f, plausible);

	a->st.outcome[r]++;
	return r;
}

/* The SETTLING clue (or DECIDED with a respawn) least by (time, clue_id) with time <= now. */
static uint32_t
next_due(const struct fc_arbiter *a, uint8_t state, uint64_t now_ns, uint64_t *least)
{
	uint32_t best = UINT32_MAX;
	uint64_t best_t = UINT64_MAX;

	for (uint32_t i = 0; i < a->n_clues; i++) {
		const struct fc__clue *c = &a->clues[i];
		uint64_t t = state == FC_ARB_CLUE_SETTLING ? c->deadline_ns : c->reopen_ns;

		if (c->state != state || (state == FC_ARB_CLUE_DECIDED && t == 0))
			continue;
		/* clues are sorted by id: strictly less keeps the smaller id on equal times */
		if (t < best_t) {
			best_t = t;
			best = i;
		}
	}
	*least = best_t;
	return best_t <= now_ns ? best : UINT32_MAX;
}

static void
decide(struct fc_arbiter *a, uint32_t idx, struct fc_game_claim *out)
{
	struct fc__clue *c = &a->clues[idx];
	const struct fc__cont *w = &c->cont[0];
	uint64_t *seen = &a->seen[(size_t)idx * a->seen_words];
	unsigned int i;

	out->clue_id = c->clue.clue_id;
	out->clue_idx = idx;
	out->points = c->clue.points;
	out->winner = w->player;
	out->winner_team = w->team;
	out->contenders_total = c->total;
	out->contenders_listed = c->n_listed;
	out->winner_fix_seq = w->fix_seq;
	out->meas_time_ns = w->meas_ns;
	out->deadline_ns = c->deadline_ns;
	for (i = 0; i < c->n_listed; i++) {
		const struct fc__cont *e = &c->cont[i];
		uint16_t flags = 0;

		if (i == 0)
			flags = FC_GAME_CONT_WINNER;
		else if (e->meas_ns == w->meas_ns)
			flags = FC_GAME_CONT_TIE;
		out->contenders[i] = (struct fc_game_contender){ .player = e->player,
								 .flags = flags,
								 .distance_mm = e->dist_mm,
								 .meas_time_ns = e->meas_ns };
		out->fix_seq[i] = e->fix_seq;
	}
	for (; i < FC_GAME_MAX_LISTED; i++) {
		out->contenders[i] = (struct fc_game_contender){ 0 };
		out->fix_seq[i] = 0;
	}

	c->state = FC_ARB_CLUE_DECIDED;
	c->winner = w->player;
	a->n_settling--;
	a->st.claims++;
	c->reopen_ns = 0;
	if (c->respawn_ns != 0) {
		c->reopen_ns = c->deadline_ns + c->respawn_ns;
		a->n_waiting++;
		if (c->reopen_ns < a->next_reopen)
			a->next_reopen = c->reopen_ns;
	}
	out->reopen_ns = c->reopen_ns;
	for (i = 0; i < a->seen_words; i++)
		seen[i] = 0;
}

unsigned int
fc_arbiter_decide_until(struct fc_arbiter *a, uint64_t now_ns, struct fc_game_claim *out,
			unsigned int max)
{
	unsigned int n = 0;
	uint32_t idx;

	if (a->n_settling == 0 || now_ns < a->next_deadline)
		return 0;
	while (n < max &&
	       (idx = next_due(a, FC_ARB_CLUE_SETTLING, now_ns, &a->next_deadline)) != UINT32_MAX)
		decide(a, idx, &out[n++]);
	next_due(a, FC_ARB_CLUE_SETTLING, 0, &a->next_deadline);
	return n;
}

unsigned int
fc_arbiter_reopen_until(struct fc_arbiter *a, uint64_t now_ns, uint32_t *out, unsigned int max)
{
	unsigned int n = 0;
	uint32_t idx;

	/* Those an offer reopened first, in (respawn time, clue_id) order: they are due anyway. */
	while (a->n_unreported > 0 && n < max) {
		uint32_t best = UINT32_MAX;

		for (uint32_t i = 0; i < a->n_clues; i++)
			if (a->clues[i].unreported &&
			    (best == UINT32_MAX || a->clues[i].open_ns < a->clues[best].open_ns))
				best = i;
		a->clues[best].unreported = 0;
		a->n_unreported--;
		out[n++] = best;
	}
	if (a->n_waiting == 0 || now_ns < a->next_reopen) {
		if (n > 0)
			next_due(a, FC_ARB_CLUE_DECIDED, 0, &a->next_reopen);
		return n;
	}
	while (n < max &&
	       (idx = next_due(a, FC_ARB_CLUE_DECIDED, now_ns, &a->next_reopen)) != UINT32_MAX) {
		reopen_clue(a, idx);
		out[n++] = idx;
	}
	next_due(a, FC_ARB_CLUE_DECIDED, 0, &a->next_reopen);
	return n;
}

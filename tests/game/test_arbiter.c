/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The arbiter (docs/game.md, "Who was first"): the dwell runs, the ranking and its tie-break,
 * the permutation property (DESIGN invariant 3: the claim is a function of the set of
 * qualifying fixes, whatever their arrival order and batching), the 64-player hot spot, the
 * settle window, respawns and the round reset.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define CX 100000
#define CY 50000

static struct fc_arbiter *arb;

static void
free_arb(void)
{
	fc_arbiter_free(arb);
}

static uint64_t
ms(uint64_t t)
{
	return T0 + t * MS;
}

static enum fc_arbiter_outcome
present(uint16_t player, uint64_t t_ms, int32_t dx, uint16_t err, uint32_t seq)
{
	struct fc_game_fix f = fix_at(player, ms(t_ms), CX + dx, CY, err, seq);

	return fc_arbiter_fix(arb, 0, &f, true);
}

static unsigned int
decide_all(struct fc_game_claim *out, unsigned int max)
{
	return fc_arbiter_decide_until(arb, UINT64_MAX, out, max);
}

/* ---- dwell ------------------------------------------------------------------------------- */

/* r 100, sigma 20: d <= 72 is P >= 0.9. */
static void
make_dwell(void)
{
	arb = arbiter_from("policy = probability\ndwell = 3\nsettle_ms = 100\n"
			   "1,100000,50000,100,10\n",
			   16);
}

TestSuite(dwell, .init = make_dwell, .fini = free_arb);

Test(dwell, needs_dwell_consecutive_qualifying_fixes_and_claims_at_the_first)
{
	struct fc_game_claim c;

	cr_assert_eq(present(1, 0, 70, 20, 1), FC_ARB_DWELLING);
	cr_assert_eq(present(1, 50, 10, 20, 2), FC_ARB_DWELLING);
	cr_assert_eq(present(1, 100, 20, 20, 3), FC_ARB_OPENED);
	cr_assert_eq(present(1, 150, 20, 20, 4), FC_ARB_KEPT, "the run was offered already");
	cr_assert_eq(decide_all(&c, 1), 1);
	cr_assert_eq(c.meas_time_ns, ms(0), "the run's first fix: when the player got there");
	cr_assert_eq(c.contenders[0].distance_mm, 70);
	cr_assert_eq(c.winner_fix_seq, 1);
}

Test(dwell, a_non_qualifying_fix_ends_the_run)
{
	cr_assert_eq(present(1, 0, 0, 20, 1), FC_ARB_DWELLING);
	cr_assert_eq(present(1, 50, 0, 20, 2), FC_ARB_DWELLING);
	cr_assert_eq(present(1, 100, 73, 20, 3), FC_ARB_NOT_QUALIFYING, "P(73) = 0.891");
	cr_assert_eq(present(1, 150, 0, 20, 4), FC_ARB_DWELLING);
	cr_assert_eq(present(1, 200, 0, 20, 5), FC_ARB_DWELLING);
	cr_assert_eq(present(1, 250, 0, 20, 6), FC_ARB_OPENED);
}

Test(dwell, an_implausible_fix_ends_the_run)
{
	struct fc_game_fix f = fix_at(1, ms(100), CX, CY, 20, 3);

	cr_assert_eq(present(1, 0, 0, 20, 1), FC_ARB_DWELLING);
	cr_assert_eq(present(1, 50, 0, 20, 2), FC_ARB_DWELLING);
	cr_assert_eq(fc_arbiter_fix(arb, 0, &f, false), FC_ARB_NOT_QUALIFYING);
	cr_assert_eq(present(1, 150, 0, 20, 4), FC_ARB_DWELLING);
}

Test(dwell, the_same_fix_heard_twice_counts_once)
{
	cr_assert_eq(present(1, 0, 0, 20, 1), FC_ARB_DWELLING);
	cr_assert_eq(present(1, 50, 0, 20, 2), FC_ARB_DWELLING);
	/* fix 2 again, by a gateway whose corrected clock puts it 3 ms later */
	cr_assert_eq(present(1, 53, 0, 20, 2), FC_ARB_STALE);
	cr_assert_eq(present(1, 50, 0, 20, 2), FC_ARB_STALE);
	cr_assert_eq(present(1, 40, 0, 20, 9), FC_ARB_STALE,
		     "older than the last: not consecutive");
	cr_assert_eq(present(1, 100, 0, 20, 3), FC_ARB_OPENED);
}

Test(dwell, a_gap_longer_than_dwell_gap_restarts_the_run)
{
	cr_assert_eq(present(1, 0, 0, 20, 1), FC_ARB_DWELLING);
	cr_assert_eq(present(1, 250, 0, 20, 2), FC_ARB_DWELLING, "250 ms: still consecutive");
	cr_assert_eq(present(1, 501, 0, 20, 3), FC_ARB_DWELLING, "251 ms: a new run");
	cr_assert_eq(present(1, 550, 0, 20, 4), FC_ARB_DWELLING);
	cr_assert_eq(present(1, 600, 0, 20, 5), FC_ARB_OPENED);
}

Test(dwell, a_slower_fix_rate_does_not_lose_to_a_faster_one)
{
	struct fc_game_claim c;

	/* player 1 at 20 Hz gets there at 0 ms, player 2 at 50 Hz at 10 ms */
	cr_assert_eq(present(1, 0, 0, 20, 1), FC_ARB_DWELLING);
	cr_assert_eq(present(2, 10, 0, 20, 1), FC_ARB_DWELLING);
	cr_assert_eq(present(2, 30, 0, 20, 2), FC_ARB_DWELLING);
	cr_assert_eq(present(2, 50, 0, 20, 3), FC_ARB_OPENED);
	cr_assert_eq(present(1, 50, 0, 20, 2), FC_ARB_DWELLING);
	cr_assert_eq(present(1, 100, 0, 20, 3), FC_ARB_ADDED);
	cr_assert_eq(decide_all(&c, 1), 1);
	cr_assert_eq(c.winner, 1);
	cr_assert_eq(c.contenders[1].player, 2);
	cr_assert_eq(c.contenders[1].meas_time_ns, ms(10));
}

Test(dwell, one_player_runs_are_kept_per_clue)
{
	struct fc_game_layout *l = layout_from("policy = probability\ndwell = 2\n"
					       "1,100000,50000,100,10\n2,100150,50000,100,10\n");
	struct fc_game_fix f;

	fc_arbiter_free(arb);
	cr_assert_eq(fc_arbiter_create(&arb, l, 4, T0), 0);
	fc_game_layout_free(l);
	/* between the clues: qualifies for neither; then at each in turn */
	f = fix_at(1, ms(0), CX, CY, 20, 1);
	cr_assert_eq(fc_arbiter_fix(arb, 0, &f, true), FC_ARB_DWELLING);
	cr_assert_eq(fc_arbiter_fix(arb, 1, &f, true), FC_ARB_NOT_QUALIFYING);
	f = fix_at(1, ms(50), CX + 150, CY, 20, 2);
	cr_assert_eq(fc_arbiter_fix(arb, 0, &f, true), FC_ARB_NOT_QUALIFYING);
	cr_assert_eq(fc_arbiter_fix(arb, 1, &f, true), FC_ARB_DWELLING);
	f = fix_at(1, ms(100), CX + 150, CY, 20, 3);
	cr_assert_eq(fc_arbiter_fix(arb, 1, &f, true), FC_ARB_OPENED);
}

Test(dwell, a_dwell_of_one_offers_every_qualifying_fix)
{
	fc_arbiter_free(arb);
	arb = arbiter_from("policy = probability\ndwell = 1\n1,100000,50000,100,10\n", 4);
	cr_assert_eq(present(1, 50, 0, 20, 2), FC_ARB_OPENED);
	cr_assert_eq(present(1, 0, 0, 20, 1), FC_ARB_IMPROVED, "out of order, and it counts");
}

/* ---- the arbiter --------------------------------------------------------------------------- */

static void
make_arb(void)
{
	arb = arbiter_from("policy = distance\nsettle_ms = 100\n"
			   "10,100000,50000,20,50\n20,200000,50000,20,70,0\n30,300000,50000,20,"
			   "90\n",
			   300);
}

TestSuite(arbiter, .init = make_arb, .fini = free_arb);

static enum fc_arbiter_outcome
offer(uint32_t clue, uint16_t player, uint64_t t_ms, uint32_t dist)
{
	return fc_arbiter_offer(arb, clue, player, (uint16_t)(player % 4), ms(t_ms), dist,
				player * 1000u + (uint32_t)t_ms);
}

Test(arbiter, one_contender_is_decided_at_its_deadline)
{
	struct fc_game_claim c;
	struct fc_arbiter_clue_info info;

	fc_arbiter_clue_info(arb, 0, &info);
	cr_assert_eq(info.state, FC_ARB_CLUE_OPEN);
	cr_assert_eq(info.winner, FC_GAME_PLAYER_NONE);
	cr_assert_eq(offer(0, 7, 10, 5), FC_ARB_OPENED);
	fc_arbiter_clue_info(arb, 0, &info);
	cr_assert_eq(info.state, FC_ARB_CLUE_SETTLING);
	cr_assert_eq(info.deadline_ns, ms(110));
	cr_assert_eq(fc_arbiter_decide_until(arb, ms(110) - 1, &c, 1), 0);
	cr_assert_eq(fc_arbiter_decide_until(arb, ms(110), &c, 1), 1);
	cr_assert_eq(c.clue_id, 10);
	cr_assert_eq(c.clue_idx, 0);
	cr_assert_eq(c.points, 50);
	cr_assert_eq(c.winner, 7);
	cr_assert_eq(c.winner_team, 3);
	cr_assert_eq(c.winner_fix_seq, 7010);
	cr_assert_eq(c.meas_time_ns, ms(10));
	cr_assert_eq(c.deadline_ns, ms(110));
	cr_assert_eq(c.reopen_ns, 0);
	cr_assert_eq(c.contenders_total, 1);
	cr_assert_eq(c.contenders_listed, 1);
	cr_assert_eq(c.contenders[0].player, 7);
	cr_assert_eq(c.contenders[0].flags, FC_GAME_CONT_WINNER);
	cr_assert_eq(c.contenders[0].distance_mm, 5);
	cr_assert_eq(c.contenders[0].meas_time_ns, ms(10));
	cr_assert_eq(c.contenders[1].player, 0, "entries past the listed ones are zero");
	fc_arbiter_clue_info(arb, 0, &info);
	cr_assert_eq(info.state, FC_ARB_CLUE_DECIDED);
	cr_assert_eq(info.winner, 7);
	cr_assert_eq(fc_arbiter_decide_until(arb, UINT64_MAX, &c, 1), 0, "decided once");
}

Test(arbiter, the_earliest_wins_and_ties_go_to_distance_then_player)
{
	struct fc_game_claim c;

	offer(0, 9, 20, 3);
	offer(0, 5, 20, 3);
	offer(0, 4, 20, 8);
	offer(0, 8, 20, 1);
	offer(0, 2, 25, 0);
	offer(0, 1, 21, 0);
	cr_assert_eq(decide_all(&c, 1), 1);
	cr_assert_eq(c.contenders_listed, 6);
	/* 20 ms: 8 (1 mm), then 5 and 9 (3 mm) by id, then 4 (8 mm); 21 ms: 1; 25 ms: 2 */
	uint16_t order[] = { 8, 5, 9, 4, 1, 2 };
	uint16_t flags[] = {
		FC_GAME_CONT_WINNER, FC_GAME_CONT_TIE, FC_GAME_CONT_TIE, FC_GAME_CONT_TIE, 0, 0
	};
	uint32_t t_ms[] = { 20, 20, 20, 20, 21, 25 };
	for (int i = 0; i < 6; i++) {
		cr_assert_eq(c.contenders[i].player, order[i], "entry %d", i);
		cr_assert_eq(c.contenders[i].flags, flags[i], "entry %d", i);
		/* offer() gives fix_seq player * 1000 + t_ms: the audit's key to each fix */
		cr_assert_eq(c.fix_seq[i], order[i] * 1000u + t_ms[i], "entry %d", i);
	}
	cr_assert_eq(c.fix_seq[6], 0, "entries past the listed ones are zero");
	cr_assert_eq(c.winner, 8);
}

Test(arbiter, a_players_earliest_fix_counts_whatever_its_arrival)
{
	struct fc_game_claim c;

	cr_assert_eq(offer(0, 1, 50, 2), FC_ARB_OPENED);
	cr_assert_eq(offer(0, 2, 40, 2), FC_ARB_ADDED);
	cr_assert_eq(offer(0, 1, 30, 9), FC_ARB_IMPROVED, "an earlier fix arriving late");
	cr_assert_eq(offer(0, 1, 35, 0), FC_ARB_KEPT, "later than the one kept");
	cr_assert_eq(offer(0, 1, 30, 10), FC_ARB_KEPT, "same time, farther");
	cr_assert_eq(offer(0, 1, 30, 8), FC_ARB_IMPROVED, "same time, nearer");
	cr_assert_eq(decide_all(&c, 1), 1);
	cr_assert_eq(c.winner, 1);
	cr_assert_eq(c.meas_time_ns, ms(30));
	cr_assert_eq(c.contenders[0].distance_mm, 8);
	cr_assert_eq(c.contenders_total, 2, "one entry per player");
	cr_assert_eq(c.deadline_ns, ms(130), "the window runs from the earliest fix");
}

Test(arbiter, offers_after_the_decision_are_too_late_and_counted)
{
	struct fc_game_claim c;
	struct fc_arbiter_stats st;
	struct fc_game_fix f = fix_at(3, ms(1), CX, CY, 20, 1);

	offer(0, 1, 10, 0);
	cr_assert_eq(decide_all(&c, 1), 1);
	cr_assert_eq(offer(0, 2, 5, 0), FC_ARB_TOO_LATE);
	cr_assert_eq(fc_arbiter_fix(arb, 0, &f, true), FC_ARB_TOO_LATE);
	fc_arbiter_stats(arb, &st);
	cr_assert_eq(st.outcome[FC_ARB_TOO_LATE], 2);
	cr_assert_eq(st.outcome[FC_ARB_OPENED], 1);
	cr_assert_eq(st.claims, 1);
}

Test(arbiter, fixes_measured_before_the_clue_opened_are_refused)
{
	cr_assert_eq(fc_arbiter_offer(arb, 0, 1, 0, T0 - 1, 0, 1), FC_ARB_NOT_OPEN);
	cr_assert_eq(fc_arbiter_offer(arb, 0, 1, 0, T0, 0, 1), FC_ARB_OPENED);
}

Test(arbiter, out_of_range_arguments_are_invalid)
{
	struct fc_game_fix f = fix_at(300, ms(1), CX, CY, 20, 1);
	struct fc_arbiter_stats st;

	cr_assert_eq(offer(3, 1, 10, 0), FC_ARB_INVALID);
	cr_assert_eq(offer(0, 300, 10, 0), FC_ARB_INVALID);
	cr_assert_eq(fc_arbiter_fix(arb, 0, &f, true), FC_ARB_INVALID);
	fc_arbiter_stats(arb, &st);
	cr_assert_eq(st.outcome[FC_ARB_INVALID], 3);
}

Test(arbiter, due_clues_are_decided_by_deadline_then_clue_id_at_most_max_a_call)
{
	struct fc_game_claim c[3];

	offer(2, 1, 30, 0); /* clue 30: deadline 130 */
	offer(1, 2, 20, 0); /* clue 20: deadline 120 */
	offer(0, 3, 20, 0); /* clue 10: deadline 120 */
	cr_assert_eq(fc_arbiter_decide_until(arb, ms(125), c, 1), 1);
	cr_assert_eq(c[0].clue_id, 10);
	cr_assert_eq(fc_arbiter_decide_until(arb, ms(125), c, 3), 1);
	cr_assert_eq(c[0].clue_id, 20);
	cr_assert_eq(fc_arbiter_decide_until(arb, ms(129), c, 3), 0);
	cr_assert_eq(fc_arbiter_decide_until(arb, ms(500), c, 3), 1);
	cr_assert_eq(c[0].clue_id, 30);
}

Test(arbiter, the_memory_bound_is_what_the_layout_and_players_say)
{
	struct fc_game_layout *l = layout_from("policy = probability\ndwell = 2\n"
					       "1,0,0,20,1\n2,0,0,20,1\n");
	struct fc_arbiter *a;
	size_t with = fc_arbiter_mem_size(l, 400), without;
	void *mem;

	l->rules.dwell = 1;
	without = fc_arbiter_mem_size(l, 400);
	cr_assert_eq(with - without, 2 * 400 * 24, "24 B per (clue, player) of dwell runs");
	cr_assert_lt(without, 2 * 1664 + 400 * 24 + 2 * 64 + 1024, "%zu", without);
	cr_assert_eq(fc_arbiter_mem_size(NULL, 400), 0);
	cr_assert_eq(fc_arbiter_mem_size(l, 0), 0);
	cr_assert_eq(fc_arbiter_mem_size(l, 65536), 0);
	cr_assert_neq(fc_arbiter_mem_size(l, 65535), 0);
	mem = aligned_alloc(64, without + 64);
	cr_assert_eq(fc_arbiter_init(&a, mem, without - 1, l, 400, T0), -EINVAL);
	cr_assert_eq(fc_arbiter_init(&a, (char *)mem + 8, without, l, 400, T0), -EINVAL);
	cr_assert_eq(fc_arbiter_init(&a, mem, without, l, 400, T0), 0);
	cr_assert_eq(fc_arbiter_n_clues(a), 2);
	fc_arbiter_free(a); /* not its memory: a no-op */
	free(mem);
	fc_game_layout_free(l);
}

/* ---- the permutation property -------------------------------------------------------------- */

struct pfix {
	uint64_t meas_ns;
	uint32_t dist;
	uint32_t seq;
	uint16_t player;
};

/* The expected claim, computed the slow and obvious way from the set. */
static void
reference_claim(const struct pfix *f, uint32_t n, struct fc_game_claim *out)
{
	static struct pfix best[300];
	static bool has[300];
	uint32_t m = 0, order[300];

	memset(has, 0, sizeof(has));
	for (uint32_t i = 0; i < n; i++) {
		struct pfix *b = &best[f[i].player];
		bool better =
			!has[f[i].player] || f[i].meas_ns < b->meas_ns ||
			(f[i].meas_ns == b->meas_ns &&
			 (f[i].dist < b->dist || (f[i].dist == b->dist && f[i].seq < b->seq)));

		if (better)
			*b = f[i];
		has[f[i].player] = true;
	}
	for (uint32_t p = 0; p < 300; p++)
		if (has[p])
			order[m++] = p;
	/* selection sort by (time, distance, player): slow, obviously right */
	for (uint32_t i = 0; i < m; i++)
		for (uint32_t j = i + 1; j < m; j++) {
			const struct pfix *x = &best[order[j]], *y = &best[order[i]];

			if (x->meas_ns < y->meas_ns ||
			    (x->meas_ns == y->meas_ns &&
			     (x->dist < y->dist ||
			      (x->dist == y->dist && x->player < y->player)))) {
				uint32_t t = order[i];

				order[i] = order[j];
				order[j] = t;
			}
		}
	memset(out, 0, sizeof(*out));
	out->winner = best[order[0]].player;
	out->meas_time_ns = best[order[0]].meas_ns;
	out->winner_fix_seq = best[order[0]].seq;
	out->contenders_total = (uint16_t)m;
	out->contenders_listed = (uint16_t)(m < 64 ? m : 64);
	for (uint32_t i = 0; i < out->contenders_listed; i++) {
		const struct pfix *b = &best[order[i]];

		out->contenders[i] = (struct fc_game_contender){
			.player = b->player,
			.flags = i == 0 ? FC_GAME_CONT_WINNER
					: (b->meas_ns == out->meas_time_ns ? FC_GAME_CONT_TIE : 0),
			.distance_mm = b->dist,
			.meas_time_ns = b->meas_ns
		};
	}
}

TestSuite(permutation, .init = make_arb, .fini = free_arb);

/*
 * Thousands of random sets of qualifying fixes, crowded in time and distance so that ties are
 * common, some with more than 64 players, each offered in several random orders split into
 * random arrival batches with decisions polled between them: always the reference's claim.
 */
Test(permutation, any_arrival_order_and_batching_gives_the_same_claim)
{
	static struct pfix set[400];
	static uint32_t idx[400];
	struct fc_game_claim want, got, first;
	uint64_t s = 0x9E3779B97F4A7C15ull;
	unsigned int ties = 0, crowded = 0;

	for (int round = 0; round < 3000; round++) {
		uint32_t n = 1 + rnd_below(&s, round % 10 == 0 ? 400 : 40);
		uint32_t players = 1 + rnd_below(&s, round % 10 == 0 ? 300 : 20);
		uint32_t spread = 1 + rnd_below(&s, 30); /* ms: small spreads make equal times */

		for (uint32_t i = 0; i < n; i++)
			set[i] = (struct pfix){ .meas_ns = ms(1000 + rnd_below(&s, spread)),
						.dist = rnd_below(&s, 4),
						.seq = rnd_below(&s, 1000),
						.player = (uint16_t)rnd_below(&s, players) };
		reference_claim(set, n, &want);
		ties += want.contenders_listed > 1 && (want.contenders[1].flags & FC_GAME_CONT_TIE);
		crowded += want.contenders_total > 64;
		for (int perm = 0; perm < 5; perm++) {
			uint32_t next_batch;

			for (uint32_t i = 0; i < n; i++)
				idx[i] = i;
			shuffle_u32(&s, idx, n);
			fc_arbiter_reset(arb, T0);
			next_batch = rnd_below(&s, 8);
			for (uint32_t i = 0; i < n; i++) {
				const struct pfix *f = &set[idx[i]];

				if (i == next_batch) {
					/* an arrival batch ends: the owner polls, nothing is due */
					cr_assert_eq(
						fc_arbiter_decide_until(arb, ms(1099), &got, 1), 0);
					next_batch += 1 + rnd_below(&s, 16);
				}
				fc_arbiter_offer(arb, 0, f->player, 0, f->meas_ns, f->dist, f->seq);
			}
			cr_assert_eq(decide_all(&got, 1), 1);
			cr_assert_eq(got.winner, want.winner, "round %d perm %d", round, perm);
			cr_assert_eq(got.meas_time_ns, want.meas_time_ns);
			cr_assert_eq(got.winner_fix_seq, want.winner_fix_seq);
			cr_assert_eq(got.contenders_total, want.contenders_total);
			cr_assert_eq(got.contenders_listed, want.contenders_listed);
			cr_assert_eq(
				memcmp(got.contenders, want.contenders, sizeof(got.contenders)), 0,
				"round %d perm %d: contender lists differ", round, perm);
			if (perm == 0)
				first = got;
			else
				cr_assert_eq(memcmp(&got, &first, sizeof(got)), 0,
					     "round %d perm %d: claims differ", round, perm);
		}
	}
	cr_assert_gt(ties, 300, "the sets must exercise the tie-break (%u)", ties);
	cr_assert_gt(crowded, 30, "and lists longer than 64 (%u)", crowded);
}

/* ---- the hot spot -------------------------------------------------------------------------- */

TestSuite(hot_spot, .init = make_arb, .fini = free_arb);

/* n players converge on clue 10 within one 50 ms tick, in a random order, through the policy. */
static void
converge(uint32_t n, uint64_t seed, struct fc_game_claim *c)
{
	static uint32_t order[300];
	struct fc_arbiter_stats before, st;
	uint64_t s = seed;

	fc_arbiter_stats(arb, &before);

	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	shuffle_u32(&s, order, n);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t p = order[i];
		/* player p at 1000 + (p * 7) % 50 ms, (p % 21) mm east of the centre */
		struct fc_game_fix f = fix_at((uint16_t)p, ms(1000 + (p * 7) % 50),
					      CX + (int32_t)(p % 21), CY, 20, p);

		cr_assert(fc_arbiter_plausible(arb, &f));
		cr_assert_eq(fc_arbiter_fix(arb, 0, &f, true),
			     i == 0 ? FC_ARB_OPENED : FC_ARB_ADDED);
	}
	cr_assert_eq(fc_arbiter_decide_until(arb, ms(1099), c, 1), 0);
	cr_assert_eq(fc_arbiter_decide_until(arb, ms(1100), c, 1), 1);
	cr_assert_eq(fc_arbiter_decide_until(arb, UINT64_MAX, c + 1, 1), 0, "exactly one award");
	fc_arbiter_stats(arb, &st);
	cr_assert_eq(st.claims - before.claims, 1);
	cr_assert_eq(st.outcome[FC_ARB_OPENED] + st.outcome[FC_ARB_ADDED] -
			     before.outcome[FC_ARB_OPENED] - before.outcome[FC_ARB_ADDED],
		     n, "nothing dropped");
}

Test(hot_spot, sixty_four_players_one_award_sixty_three_contenders_listed)
{
	struct fc_game_claim c[2];

	converge(64, 1, c);
	cr_assert_eq(c[0].contenders_total, 64);
	cr_assert_eq(c[0].contenders_listed, 64);
	/* (p * 7) % 50 == 0 for p in {0, 50}: both at 1000 ms; 0 is 0 mm away, 50 is 8 mm */
	cr_assert_eq(c[0].winner, 0);
	cr_assert_eq(c[0].contenders[1].player, 50);
	cr_assert_eq(c[0].contenders[1].flags, FC_GAME_CONT_TIE);
	bool seen[64] = { false };
	for (unsigned int i = 0; i < 64; i++) {
		cr_assert_not(seen[c[0].contenders[i].player], "each player once");
		seen[c[0].contenders[i].player] = true;
		if (i > 0)
			cr_assert_geq(c[0].contenders[i].meas_time_ns,
				      c[0].contenders[i - 1].meas_time_ns);
		cr_assert_eq(c[0].contenders[i].flags & FC_GAME_CONT_WINNER, i == 0);
	}
}

Test(hot_spot, more_than_sixty_four_lists_the_best_sixty_four_and_counts_all)
{
	struct fc_game_claim c[2], again[2];
	struct fc_arbiter_stats st;

	converge(200, 2, c);
	cr_assert_eq(c[0].contenders_total, 200);
	cr_assert_eq(c[0].contenders_listed, 64);
	/* 4 players at each of 1000 .. 1049 ms (7p mod 50): the 64 of 1000 .. 1015 ms are listed */
	for (unsigned int i = 0; i < 64; i++)
		cr_assert_eq(c[0].contenders[i].meas_time_ns, ms(1000 + i / 4), "entry %u", i);
	fc_arbiter_stats(arb, &st);
	cr_assert_gt(st.unlisted, 0);
	/* another arrival order, the same claim */
	fc_arbiter_reset(arb, T0);
	converge(200, 3, again);
	cr_assert_eq(memcmp(&c[0], &again[0], sizeof(c[0])), 0);
}

/* ---- the settle window --------------------------------------------------------------------- */

TestSuite(settle, .init = make_arb, .fini = free_arb);

Test(settle, a_slower_gateways_earlier_fix_arriving_before_the_deadline_wins)
{
	struct fc_game_claim c;
	struct fc_arbiter_clue_info info;

	/* player 1's fix, measured at 40 ms, comes through a fast gateway first */
	cr_assert_eq(offer(0, 1, 40, 0), FC_ARB_OPENED);
	cr_assert_eq(fc_arbiter_decide_until(arb, ms(100), &c, 1), 0);
	/* player 2's, measured at 35 ms, through a gateway 90 ms slower: before 140 */
	cr_assert_eq(offer(0, 2, 35, 5), FC_ARB_ADDED);
	fc_arbiter_clue_info(arb, 0, &info);
	cr_assert_eq(info.deadline_ns, ms(135), "the window now runs from 35 ms");
	cr_assert_eq(fc_arbiter_decide_until(arb, ms(134), &c, 1), 0);
	cr_assert_eq(fc_arbiter_decide_until(arb, ms(135), &c, 1), 1);
	cr_assert_eq(c.winner, 2);
	cr_assert_eq(c.contenders[1].player, 1);
}

Test(settle, after_the_deadline_an_earlier_fix_is_too_late_and_counted)
{
	struct fc_game_claim c;
	struct fc_arbiter_stats st;

	offer(0, 1, 40, 0);
	cr_assert_eq(fc_arbiter_decide_until(arb, ms(140), &c, 1), 1);
	cr_assert_eq(offer(0, 2, 35, 0), FC_ARB_TOO_LATE);
	fc_arbiter_stats(arb, &st);
	cr_assert_eq(st.outcome[FC_ARB_TOO_LATE], 1);
	cr_assert_eq(c.winner, 1);
}

Test(settle, the_deadline_does_not_depend_on_which_fix_arrived_first)
{
	struct fc_arbiter_clue_info a, b;

	offer(0, 1, 40, 0);
	offer(0, 2, 35, 0);
	fc_arbiter_clue_info(arb, 0, &a);
	fc_arbiter_reset(arb, T0);
	offer(0, 2, 35, 0);
	offer(0, 1, 40, 0);
	fc_arbiter_clue_info(arb, 0, &b);
	cr_assert_eq(a.deadline_ns, b.deadline_ns);
	cr_assert_eq(a.deadline_ns, ms(135));
}

Test(settle, a_zero_window_decides_at_the_fixs_own_time)
{
	struct fc_game_claim c;

	fc_arbiter_free(arb);
	arb = arbiter_from("policy = distance\nsettle_ms = 0\n1,0,0,20,5\n", 4);
	cr_assert_eq(fc_arbiter_offer(arb, 0, 1, 0, ms(40), 0, 1), FC_ARB_OPENED);
	cr_assert_eq(fc_arbiter_decide_until(arb, ms(40), &c, 1), 1);
}

/* ---- respawn and round reset --------------------------------------------------------------- */

static void
make_respawn(void)
{
	arb = arbiter_from("policy = distance\nsettle_ms = 100\n"
			   "10,100000,50000,20,50,5\n20,200000,50000,20,70\n",
			   16);
}

TestSuite(respawn, .init = make_respawn, .fini = free_arb);

Test(respawn, a_respawning_clue_reopens_respawn_s_after_its_deadline)
{
	struct fc_game_claim c;
	struct fc_arbiter_clue_info info;
	uint32_t idx[2];
	struct fc_arbiter_stats st;

	offer(0, 1, 0, 0);
	cr_assert_eq(decide_all(&c, 1), 1);
	cr_assert_eq(c.reopen_ns, ms(5100));
	fc_arbiter_clue_info(arb, 0, &info);
	cr_assert_eq(info.reopen_ns, ms(5100));
	cr_assert_eq(offer(0, 2, 3000, 0), FC_ARB_TOO_LATE);
	cr_assert_eq(fc_arbiter_reopen_until(arb, ms(5099), idx, 2), 0);
	cr_assert_eq(fc_arbiter_reopen_until(arb, ms(5100), idx, 2), 1);
	cr_assert_eq(idx[0], 0);
	fc_arbiter_clue_info(arb, 0, &info);
	cr_assert_eq(info.state, FC_ARB_CLUE_OPEN);
	cr_assert_eq(info.open_ns, ms(5100));
	cr_assert_eq(info.winner, FC_GAME_PLAYER_NONE);
	/* a fix measured while it was hidden, arriving now, does not count */
	cr_assert_eq(offer(0, 2, 5099, 0), FC_ARB_NOT_OPEN);
	cr_assert_eq(offer(0, 2, 5100, 0), FC_ARB_OPENED);
	cr_assert_eq(offer(0, 1, 5101, 0), FC_ARB_ADDED, "the last winner may win it again");
	cr_assert_eq(decide_all(&c, 1), 1);
	cr_assert_eq(c.winner, 2);
	cr_assert_eq(c.contenders_total, 2, "the first award's contenders are forgotten");
	fc_arbiter_stats(arb, &st);
	cr_assert_eq(st.reopened, 1);
	cr_assert_eq(st.claims, 2);
}

Test(respawn, a_clue_without_respawn_stays_decided)
{
	struct fc_game_claim c;
	uint32_t idx[2];

	offer(1, 1, 0, 0);
	cr_assert_eq(decide_all(&c, 1), 1);
	cr_assert_eq(c.reopen_ns, 0);
	cr_assert_eq(fc_arbiter_reopen_until(arb, UINT64_MAX, idx, 2), 0);
	cr_assert_eq(offer(1, 2, 999999, 0), FC_ARB_TOO_LATE);
}

Test(respawn, a_player_standing_on_a_respawning_clue_dwells_again)
{
	struct fc_game_claim c;
	uint32_t idx;

	fc_arbiter_free(arb);
	arb = arbiter_from("policy = probability\ndwell = 2\n1,100000,50000,100,10,1\n", 4);
	cr_assert_eq(present(1, 0, 0, 20, 1), FC_ARB_DWELLING);
	cr_assert_eq(present(1, 50, 0, 20, 2), FC_ARB_OPENED);
	cr_assert_eq(fc_arbiter_decide_until(arb, ms(100), &c, 1), 1);
	for (uint32_t t = 100; t < 1100; t += 50)
		cr_assert_eq(present(1, t, 0, 20, t), FC_ARB_TOO_LATE);
	cr_assert_eq(fc_arbiter_reopen_until(arb, ms(1100), &idx, 1), 1);
	cr_assert_eq(present(1, 1100, 0, 20, 1100), FC_ARB_DWELLING, "a run never spans a respawn");
	cr_assert_eq(present(1, 1150, 0, 20, 1150), FC_ARB_OPENED);
	cr_assert_eq(fc_arbiter_decide_until(arb, UINT64_MAX, &c, 1), 1);
	cr_assert_eq(c.meas_time_ns, ms(1100));
}

Test(respawn, a_round_reset_forgets_every_clue_and_run)
{
	struct fc_game_claim c;
	struct fc_arbiter_clue_info info;
	uint32_t idx;

	offer(0, 1, 0, 0);
	cr_assert_eq(decide_all(&c, 1), 1);
	offer(1, 2, 10, 0); /* settling at the reset */
	fc_arbiter_reset(arb, ms(60000));
	for (uint32_t i = 0; i < 2; i++) {
		fc_arbiter_clue_info(arb, i, &info);
		cr_assert_eq(info.state, FC_ARB_CLUE_OPEN);
		cr_assert_eq(info.contenders_total, 0);
		cr_assert_eq(info.open_ns, ms(60000));
	}
	cr_assert_eq(decide_all(&c, 1), 0, "the settling clue is forgotten");
	cr_assert_eq(fc_arbiter_reopen_until(arb, UINT64_MAX, &idx, 1), 0, "and the respawn");
	cr_assert_eq(offer(1, 2, 59999, 0), FC_ARB_NOT_OPEN, "measured in the last round");
	cr_assert_eq(offer(1, 3, 60000, 0), FC_ARB_OPENED);
	cr_assert_eq(offer(1, 2, 60001, 0), FC_ARB_ADDED);
	cr_assert_eq(decide_all(&c, 1), 1);
	cr_assert_eq(c.winner, 3);
	cr_assert_eq(c.contenders_total, 2);
}

Test(respawn, a_round_reset_clears_dwell_runs)
{
	fc_arbiter_free(arb);
	arb = arbiter_from("policy = probability\ndwell = 2\n1,100000,50000,100,10\n", 4);
	cr_assert_eq(present(1, 0, 0, 20, 1), FC_ARB_DWELLING);
	fc_arbiter_reset(arb, T0);
	cr_assert_eq(present(1, 50, 0, 20, 2), FC_ARB_DWELLING, "the run before the reset is gone");
	cr_assert_eq(present(1, 100, 0, 20, 3), FC_ARB_OPENED);
}

Test(respawn, a_restored_clue_is_decided_and_reopens_when_it_would_have)
{
	struct fc_game_claim c;
	struct fc_arbiter_clue_info info;
	uint32_t idx[2];

	/* A restart: clue 10 (respawn 5 s) was won by player 3 with deadline 1 s, clue 20 by 4. */
	cr_assert_eq(fc_arbiter_restore(arb, 0, 3, ms(1000)), 0);
	cr_assert_eq(fc_arbiter_restore(arb, 1, 4, ms(2000)), 0);
	fc_arbiter_clue_info(arb, 0, &info);
	cr_assert_eq(info.state, FC_ARB_CLUE_DECIDED);
	cr_assert_eq(info.winner, 3);
	cr_assert_eq(info.reopen_ns, ms(6000));
	fc_arbiter_clue_info(arb, 1, &info);
	cr_assert_eq(info.state, FC_ARB_CLUE_DECIDED);
	cr_assert_eq(info.reopen_ns, 0, "no respawn: decided for the round");
	cr_assert_eq(offer(0, 1, 3000, 0), FC_ARB_TOO_LATE);
	cr_assert_eq(offer(1, 1, 3000, 0), FC_ARB_TOO_LATE);
	cr_assert_eq(decide_all(&c, 1), 0, "a restored clue is not decided again");
	cr_assert_eq(fc_arbiter_reopen_until(arb, ms(5999), idx, 2), 0);
	cr_assert_eq(fc_arbiter_reopen_until(arb, ms(6000), idx, 2), 1);
	cr_assert_eq(idx[0], 0);
	cr_assert_eq(offer(0, 2, 6000, 0), FC_ARB_OPENED);
	cr_assert_eq(decide_all(&c, 1), 1);
	cr_assert_eq(c.winner, 2);
	cr_assert_eq(fc_arbiter_reopen_until(arb, UINT64_MAX, idx, 2), 1, "and it respawns again");
}

Test(respawn, restoring_what_is_not_an_open_clue_is_refused)
{
	struct fc_arbiter_clue_info info;

	cr_assert_eq(fc_arbiter_restore(arb, 2, 1, ms(1000)), -EINVAL, "no such clue");
	cr_assert_eq(fc_arbiter_restore(arb, 0, 1, 0), -EINVAL, "no deadline");
	offer(0, 1, 0, 0);
	cr_assert_eq(fc_arbiter_restore(arb, 0, 1, ms(1000)), -EINVAL, "settling: not OPEN");
	fc_arbiter_clue_info(arb, 0, &info);
	cr_assert_eq(info.state, FC_ARB_CLUE_SETTLING, "left as it was");
}

Test(respawn, an_offer_measured_after_the_respawn_reopens_the_clue_before_the_owner_does)
{
	struct fc_game_claim c;
	struct fc_arbiter_clue_info info;
	uint32_t idx[2];

	offer(0, 1, 0, 0);
	cr_assert_eq(decide_all(&c, 1), 1);
	cr_assert_eq(c.reopen_ns, ms(5100));
	cr_assert_eq(offer(0, 2, 5099, 0), FC_ARB_TOO_LATE, "measured before the respawn");
	/* corrected times can run ahead of the owner's clock: no reopen_until(5100) yet */
	cr_assert_eq(offer(0, 2, 5100, 0), FC_ARB_OPENED);
	fc_arbiter_clue_info(arb, 0, &info);
	cr_assert_eq(info.state, FC_ARB_CLUE_SETTLING);
	cr_assert_eq(info.open_ns, ms(5100));
	cr_assert_eq(fc_arbiter_reopen_until(arb, ms(5000), idx, 2), 1,
		     "reported at the next call, whatever its time");
	cr_assert_eq(idx[0], 0);
	cr_assert_eq(fc_arbiter_reopen_until(arb, UINT64_MAX, idx, 2), 0, "and only once");
	cr_assert_eq(fc_arbiter_decide_until(arb, ms(5199), &c, 1), 0);
	cr_assert_eq(fc_arbiter_decide_until(arb, ms(5200), &c, 1), 1);
	cr_assert_eq(c.winner, 2);
	cr_assert_eq(c.reopen_ns, ms(10200), "and it respawns again");
}

Test(respawn, a_reset_forgets_a_reopening_not_yet_reported)
{
	struct fc_game_claim c;
	uint32_t idx[2];

	offer(0, 1, 0, 0);
	cr_assert_eq(decide_all(&c, 1), 1);
	cr_assert_eq(offer(0, 2, 5100, 0), FC_ARB_OPENED);
	fc_arbiter_reset(arb, ms(60000));
	cr_assert_eq(fc_arbiter_reopen_until(arb, UINT64_MAX, idx, 2), 0);
}

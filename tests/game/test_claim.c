/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Claim detection and plausibility (docs/game.md): each policy on fixes at and around the
 * radius with UWB (20 mm), BLE (300 mm) and unknown errors, the exact boundaries; P against
 * closed forms and against values computed independently with mpmath at 40 digits; and the
 * teleport that cannot claim.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "helpers.h"

#define UWB 20u
#define BLE 300u
#define UNK FC_GAME_ERR_UNKNOWN
#define CX  100000
#define CY  50000

static struct fc_game_layout *lay;

static void
load(const char *text)
{
	lay = layout_from(text);
}

static void
unload(void)
{
	fc_game_layout_free(lay);
}

/* Does a fix at (CX + dx, CY + dy) qualify for a clue of radius r at (CX, CY)? */
static bool
q(uint32_t r, int32_t dx, int32_t dy, uint16_t err)
{
	struct fc_game_clue c = { .clue_id = 1, .x_mm = CX, .y_mm = CY, .radius_mm = r };

	return fc_game_qualifies(&lay->rules, &c, CX + dx, CY + dy, err, NULL);
}

/* ---- distance ------------------------------------------------------------------------------ */

static void
load_distance(void)
{
	load("policy = distance\n1,0,0,20,1\n");
}

TestSuite(distance, .init = load_distance, .fini = unload);

Test(distance, the_boundary_is_exact_in_whole_millimetres)
{
	cr_assert(q(20, 0, 0, UWB));
	cr_assert(q(20, 20, 0, UWB), "d = r qualifies");
	cr_assert(q(20, -12, 16, UWB), "d = 20 exactly (12-16-20)");
	cr_assert_not(q(20, 20, 1, UWB), "d = sqrt(401) > 20");
	cr_assert_not(q(20, 21, 0, UWB));
	cr_assert(q(20, 14, 14, UWB), "d = 19.8");
	cr_assert_not(q(20, 15, 14, UWB), "d = 20.5");
}

Test(distance, ignores_the_error_whatever_it_is)
{
	for (int i = 0; i < 4; i++) {
		uint16_t err = (uint16_t[]){ 0, UWB, BLE, UNK }[i];

		cr_assert(q(20, 20, 0, err));
		cr_assert_not(q(20, 21, 0, err));
	}
}

Test(distance, reports_the_distance_rounded_to_the_nearest_mm)
{
	struct fc_game_clue c = { .clue_id = 1, .x_mm = CX, .y_mm = CY, .radius_mm = 20 };
	uint32_t d = 99;

	cr_assert(fc_game_qualifies(&lay->rules, &c, CX + 7, CY + 7, UWB, &d));
	cr_assert_eq(d, 10, "9.9 rounds to 10");
	cr_assert(fc_game_qualifies(&lay->rules, &c, CX + 3, CY + 3, UWB, &d));
	cr_assert_eq(d, 4, "4.24 rounds to 4");
	cr_assert(fc_game_qualifies(&lay->rules, &c, CX, CY, UWB, &d));
	cr_assert_eq(d, 0);
}

Test(distance, far_off_the_floor_does_not_overflow)
{
	struct fc_game_clue c = {
		.clue_id = 1, .x_mm = 655350, .y_mm = 655350, .radius_mm = 65535
	};

	cr_assert_not(fc_game_qualifies(&lay->rules, &c, INT32_MIN, INT32_MIN, UWB, NULL));
	cr_assert_not(fc_game_qualifies(&lay->rules, &c, INT32_MAX, -5, UWB, NULL));
	cr_assert(fc_game_qualifies(&lay->rules, &c, 655350 + 65535, 655350, UWB, NULL));
}

/* ---- conservative -------------------------------------------------------------------------- */

static void
load_conservative(void)
{
	load("policy = conservative\n1,0,0,20,1\n");
}

TestSuite(conservative, .init = load_conservative, .fini = unload);

Test(conservative, the_error_disc_must_fit_inside_with_an_exact_boundary)
{
	/* r 100, UWB: d + 20 <= 100 */
	cr_assert(q(100, 80, 0, UWB), "d + sigma = r qualifies");
	cr_assert(q(100, 48, 64, UWB), "d = 80 exactly (48-64-80)");
	cr_assert_not(q(100, 81, 0, UWB));
	cr_assert_not(q(100, 48, 65, UWB));
	cr_assert(q(100, 0, 0, 100), "sigma = r at the centre");
	cr_assert_not(q(100, 1, 0, 100));
	cr_assert_not(q(100, 0, 0, 101));
}

Test(conservative, uwb_at_the_default_radius_qualifies_only_dead_centre)
{
	cr_assert(q(20, 0, 0, UWB));
	cr_assert_not(q(20, 1, 0, UWB));
	cr_assert(q(20, 5, 0, 15));
	cr_assert_not(q(20, 5, 1, 15));
}

Test(conservative, ble_needs_a_radius_of_its_error)
{
	cr_assert_not(q(20, 0, 0, BLE));
	cr_assert_not(q(299, 0, 0, BLE));
	cr_assert(q(300, 0, 0, BLE));
	cr_assert(q(1000, 700, 0, BLE));
	cr_assert_not(q(1000, 701, 0, BLE));
}

Test(conservative, an_unknown_error_never_qualifies)
{
	cr_assert_not(q(20, 0, 0, UNK));
	cr_assert_not(q(65535, 0, 0, UNK));
}

Test(conservative, a_zero_error_is_the_distance_rule)
{
	cr_assert(q(20, 20, 0, 0));
	cr_assert_not(q(20, 20, 1, 0));
}

Test(conservative, sigma_k_scales_the_disc)
{
	unload();
	load("policy = conservative\nsigma_k = 2.5\n1,0,0,20,1\n");
	cr_assert(q(100, 50, 0, UWB), "50 + 2.5 x 20 = 100");
	cr_assert_not(q(100, 51, 0, UWB));
	cr_assert(q(100, 60, 0, 16), "60 + 2.5 x 16 = 100");
	cr_assert_not(q(100, 60, 1, 16));
}

/* ---- probability (the policy) -------------------------------------------------------------- */

static void
load_probability(void)
{
	load("policy = probability\n1,0,0,20,1\n");
}

TestSuite(probability, .init = load_probability, .fini = unload);

Test(probability, uwb_at_the_default_radius_never_reaches_0_9)
{
	/* d = 0, sigma = r: P = 1 - e^-1/2 = 0.39 */
	cr_assert_not(q(20, 0, 0, UWB));
	cr_assert(q(20, 0, 0, 9), "sigma 9 at the centre: P = 0.915");
	cr_assert_not(q(20, 0, 0, 10), "sigma 10 at the centre: P = 0.865");
}

/*
 * The P = 0.9 boundary, from mpmath: r 100, sigma 20 at d = 72.001 (P(72) = 0.900010,
 * P(73) = 0.891098); r 1000, sigma 300 at d = 554.33 (P(554) = 0.900184, P(555) = 0.899630);
 * r 60, sigma 2 at d = 57.40 (P(57) = 0.93095, P(58) = 0.83721), where a = d / sigma > 10 takes
 * the quadrature.
 */
Test(probability, the_boundary_falls_where_p_crosses_the_threshold)
{
	cr_assert(q(100, 72, 0, UWB));
	cr_assert_not(q(100, 73, 0, UWB));
	cr_assert(q(1000, 0, 554, BLE));
	cr_assert_not(q(1000, 0, 555, BLE));
	cr_assert(q(60, -57, 0, 2));
	cr_assert_not(q(60, -58, 0, 2));
}

Test(probability, outside_the_disc_never_qualifies_however_precise)
{
	cr_assert_not(q(100, 101, 0, 1));
	cr_assert_not(q(100, 100, 0, 1), "on the edge P < 0.5");
	cr_assert(q(100, 99, 0, 0), "sigma 0: a point, inside");
	cr_assert(q(100, 100, 0, 0), "sigma 0 on the edge: the closed disc");
	cr_assert_not(q(100, 101, 0, 0));
}

Test(probability, an_unknown_error_never_qualifies)
{
	cr_assert_not(q(100, 0, 0, UNK));
	cr_assert_not(q(65535, 0, 0, UNK));
}

/* The early accept and reject bounds only ever save work: the verdict is P >= threshold. */
Test(probability, the_early_bounds_agree_with_p_itself)
{
	uint64_t s = 42;

	for (int i = 0; i < 20000; i++) {
		uint32_t r = 1 + rnd_below(&s, 3000);
		uint16_t err = (uint16_t)rnd_below(&s, 1 + rnd_below(&s, 2) * 600 + 40);
		int32_t dx = (int32_t)rnd_below(&s, r + 1), dy = (int32_t)rnd_below(&s, r / 4 + 1);
		double d = sqrt((double)dx * dx + (double)dy * dy);
		double p = fc_game_probability(d, r, err);

		if (fabs(p - 0.9) < 1e-12)
			continue;
		cr_assert_eq(q(r, dx, dy, err), p >= 0.9, "r %u d %.3f sigma %u: P %.15f", r, d,
			     err, p);
	}
}

Test(probability, dwell_and_threshold_are_the_layouts)
{
	unload();
	load("policy = probability\nthreshold = 0.99\n1,0,0,20,1\n");
	/* r 100, sigma 20: P(72) = 0.90 no longer qualifies; P(50) = 0.9938 does */
	cr_assert_not(q(100, 72, 0, UWB));
	cr_assert(q(100, 50, 0, UWB));
}

/* ---- the value of P ------------------------------------------------------------------------ */

TestSuite(p_value);

/* (d, r, sigma, P) from mpmath at 40 digits, by the Rice density and by the Poisson series. */
static const double p_ref[][4] = {
	{ 10, 20, 20, 0.35728576972745623 },   { 20, 20, 20, 0.26712019620317978 },
	{ 15, 20, 2, 0.99270379730863595 },    { 0, 20, 300, 0.0022197549143935826 },
	{ 5, 20, 5, 0.9971104672293524 },      { 12, 20, 4, 0.96932239791597826 },
	{ 18, 20, 1, 0.97578909909120757 },    { 250, 270, 20, 0.83184499550735384 },
	{ 199, 220, 20, 0.84186565787729408 }, { 201, 220, 20, 0.81657528894584056 },
	{ 480, 500, 10, 0.97669317243772041 }, { 100, 700, 300, 0.92423381006132892 },
	{ 400, 700, 150, 0.9684362075285375 }, { 3000, 3050, 10, 0.99999971088079817 },
	{ 19, 20, 0.5, 0.97654851182397247 },  { 25, 20, 3, 0.041475202375239188 },
};

Test(p_value, matches_independent_high_precision_values)
{
	for (size_t i = 0; i < sizeof(p_ref) / sizeof(p_ref[0]); i++) {
		double p = fc_game_probability(p_ref[i][0], p_ref[i][1], p_ref[i][2]);

		cr_expect(fabs(p - p_ref[i][3]) < 1e-13, "d %g r %g sigma %g: %.17g, want %.17g",
			  p_ref[i][0], p_ref[i][1], p_ref[i][2], p, p_ref[i][3]);
	}
}

Test(p_value, at_the_centre_it_is_the_rayleigh_cdf)
{
	for (double sigma = 0.5; sigma < 5000; sigma *= 1.37)
		for (double r = 1; r < 3000; r *= 1.9) {
			double want = -expm1(-r * r / (2 * sigma * sigma));

			cr_expect(fabs(fc_game_probability(0, r, sigma) - want) < 1e-14,
				  "r %g sigma %g", r, sigma);
		}
}

Test(p_value, on_the_edge_it_is_half_of_one_minus_e_a2_i0_a2)
{
	/* d = r = a sigma: P = (1 - e^-a^2 I0(a^2)) / 2, from mpmath */
	static const double edge[][2] = { { 0.5, 0.10449141893014032 },
					  { 1, 0.26712019620317978 },
					  { 2, 0.39649903938800665 },
					  { 5, 0.45990161322628165 } };

	for (size_t i = 0; i < 4; i++)
		cr_expect(fabs(fc_game_probability(edge[i][0] * 20, edge[i][0] * 20, 20) -
			       edge[i][1]) < 1e-13,
			  "a %g", edge[i][0]);
}

Test(p_value, the_two_methods_meet_at_a_equal_10)
{
	/* at 10 sigma the series, one ulp above the quadrature */
	for (double b = 4; b < 19; b += 0.25) {
		double lo = fc_game_probability(10, b, 1);
		double hi = fc_game_probability(nextafter(10, 11), b, 1);

		cr_expect(fabs(lo - hi) < 1e-12, "b %g: %.17g vs %.17g", b, lo, hi);
	}
}

Test(p_value, is_a_probability_decreasing_in_d_and_increasing_in_r)
{
	for (double sigma = 1; sigma < 1000; sigma *= 3.1) {
		double prev = 1.0;

		for (double d = 0; d < 200 + 12 * sigma; d += sigma / 7) {
			double p = fc_game_probability(d, 200, sigma);

			cr_assert(p >= 0 && p <= 1);
			cr_assert(p <= prev + 1e-14, "sigma %g d %g: %.17g after %.17g", sigma, d,
				  p, prev);
			cr_assert(fc_game_probability(d, 201, sigma) >= p - 1e-14);
			prev = p;
		}
	}
}

Test(p_value, sigma_zero_is_the_closed_disc)
{
	cr_assert_float_eq(fc_game_probability(20, 20, 0), 1.0, 0);
	cr_assert_float_eq(fc_game_probability(20.001, 20, 0), 0.0, 0);
	cr_assert_float_eq(fc_game_probability(0, 0, 1), 0.0, 0);
}

/* ---- plausibility -------------------------------------------------------------------------- */

static struct fc_arbiter *arb;

static void
make_arb(void)
{
	arb = arbiter_from("policy = distance\n1,10000,0,20,5\n", 8);
}

static void
free_arb(void)
{
	fc_arbiter_free(arb);
}

TestSuite(plausibility, .init = make_arb, .fini = free_arb);

static bool
plaus(uint16_t player, uint64_t t_ms, int32_t x, uint16_t err)
{
	struct fc_game_fix f = fix_at(player, T0 + t_ms * MS, x, 0, err, (uint32_t)t_ms);

	return fc_arbiter_plausible(arb, &f);
}

Test(plausibility, a_teleport_is_flagged_and_cannot_claim)
{
	struct fc_game_fix f = fix_at(1, T0 + 50 * MS, 10000, 0, UWB, 2);
	struct fc_game_claim claim;
	struct fc_arbiter_stats st;

	cr_assert(plaus(1, 0, 0, UWB), "a first fix is plausible");
	/* 10 m in 50 ms is 200 m/s, and lands on the clue */
	cr_assert_not(fc_arbiter_plausible(arb, &f));
	cr_assert_eq(fc_arbiter_fix(arb, 0, &f, false), FC_ARB_NOT_QUALIFYING);
	cr_assert_eq(fc_arbiter_decide_until(arb, UINT64_MAX, &claim, 1), 0);
	fc_arbiter_stats(arb, &st);
	cr_assert_eq(st.implausible, 1);
	cr_assert_eq(st.outcome[FC_ARB_NOT_QUALIFYING], 1);
}

Test(plausibility, the_next_fix_is_compared_with_the_last_plausible_one)
{
	cr_assert(plaus(1, 0, 0, 0));
	cr_assert_not(plaus(1, 50, 10000, 0));
	/* staying at the teleport's spot does not make it plausible: still 10 m from (0, 0) */
	cr_assert_not(plaus(1, 100, 10000, 0));
	cr_assert_not(plaus(1, 1240, 10000, 0), "10 m in 1.24 s is 8.06 m/s");
	cr_assert(plaus(1, 1250, 10000, 0), "10 m in 1.25 s is 8 m/s: the walk it would take");
	cr_assert(plaus(1, 1300, 10050, 0), "now compared with the fix at 1250 ms");
}

Test(plausibility, running_is_plausible_and_faster_than_max_speed_is_not)
{
	cr_assert(plaus(2, 0, 0, 0));
	cr_assert(plaus(2, 50, 75, 0), "1.5 m/s");
	cr_assert(plaus(2, 100, 475, 0), "8 m/s exactly");
	cr_assert_not(plaus(2, 150, 876, 0), "8.02 m/s");
	cr_assert(plaus(2, 150, 875, 0));
}

Test(plausibility, the_allowance_covers_measurement_noise_of_still_players)
{
	/* in 50 ms a player moves 400 mm at most; noise adds 4 sqrt(s1^2 + s2^2) */
	cr_assert(plaus(3, 0, 0, BLE));
	cr_assert(plaus(3, 50, 2000, BLE), "BLE: 400 + 4 x 424 = 2097 mm");
	cr_assert(plaus(4, 0, 0, UWB));
	cr_assert_not(plaus(4, 50, 1000, UWB), "UWB: 400 + 4 x 28 = 513 mm");
	cr_assert(plaus(5, 0, 0, UNK));
	cr_assert_not(plaus(5, 50, 401, UNK), "an unknown error excuses nothing");
}

Test(plausibility, an_older_fix_is_judged_but_does_not_move_the_reference)
{
	cr_assert(plaus(6, 1000, 0, 0));
	cr_assert(plaus(6, 900, 700, 0), "0.7 m, 100 ms before: 7 m/s");
	cr_assert_not(plaus(6, 900, 900, 0), "9 m/s");
	/* the reference is still (0, 1000 ms): 3.9 m in 0.5 s */
	cr_assert(plaus(6, 1500, 3900, 0));
}

Test(plausibility, a_duplicate_of_the_reference_is_plausible)
{
	cr_assert(plaus(7, 0, 500, UWB));
	cr_assert(plaus(7, 0, 500, UWB));
	cr_assert_not(plaus(7, 0, 700, 0), "another place at the same instant");
}

static bool
plaus_seen(uint16_t player, uint64_t t_ms, int32_t x, uint64_t seen_ms, int32_t seen_x)
{
	struct fc_game_fix f = fix_at(player, T0 + t_ms * MS, x, 0, 0, (uint32_t)t_ms);
	struct fc_game_ref seen = { .meas_ns = T0 + seen_ms * MS, .x_mm = seen_x, .err_mm = 0 };

	return fc_arbiter_plausible_seen(arb, &f, &seen);
}

Test(plausibility, a_reference_seen_elsewhere_judges_a_first_fix)
{
	/* the player was seen elsewhere 10 m away 50 ms ago: its first fix here is a jump */
	cr_assert_not(plaus_seen(1, 50, 10000, 0, 0));
	cr_assert_not(plaus_seen(1, 100, 10000, 0, 0),
		      "and still, 100 ms on: nothing here excuses it");
	cr_assert(plaus_seen(1, 100, 300, 50, 0), "300 mm from where it was seen, 50 ms on");
	/* now this arbiter's own reference is (300, 100 ms) */
	cr_assert(plaus(1, 150, 600, 0));
}

Test(plausibility, the_newer_of_the_two_references_judges)
{
	cr_assert(plaus(2, 0, 0, 0)); /* own: (0, 0 ms) */
	/* seen elsewhere at 5 m 1 s later: 5.3 m 50 ms on from there is plausible, although it is
	 * 5.3 m from the own reference (1.05 s at 8 m/s = 8.4 m: plausible from both) */
	cr_assert(plaus_seen(2, 1050, 5300, 1000, 5000));
	/* seen at 0 m at 2 s; a fix at 1.6 m at 2.1 s is 0.8 m too far from it, although the own
	 * reference (5.3 m, 1.05 s) would allow 8.4 m */
	cr_assert_not(plaus_seen(2, 2100, 1600, 2000, 0));
	/* an older reference seen elsewhere changes nothing: own (5.3 m, 1.05 s) judges */
	cr_assert(plaus_seen(2, 1100, 5600, 0, -20000));
	cr_assert_not(plaus_seen(2, 1100, 6000, 0, 6000), "0.7 m in 50 ms");
}

Test(plausibility, no_reference_seen_is_the_own_one_alone)
{
	struct fc_game_fix f = fix_at(3, T0 + 50 * MS, 10000, 0, 0, 1);
	struct fc_game_ref none = { 0 };

	cr_assert(plaus(3, 0, 0, 0));
	cr_assert_not(fc_arbiter_plausible_seen(arb, &f, NULL));
	cr_assert_not(fc_arbiter_plausible_seen(arb, &f, &none));
}

Test(plausibility, a_player_out_of_range_is_refused)
{
	struct fc_game_fix f = fix_at(8, T0, 0, 0, UWB, 1);

	cr_assert_not(fc_arbiter_plausible(arb, &f));
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How players move: a random walk between waypoints at walking speed, with pauses, inside the
 * floor; or, for the crowded scenario, a walk to the floor centre and a small jitter there.
 * mkcapture.py's Walker, with the leg's direction computed once per leg instead of per step:
 * 2 M steps per second of capture leave no room for a square root each.
 */
#include <math.h>

#include "gen_priv.h"

/* Speeds and pauses are the scenario's (struct fc__gen_floor): 0.5 .. 1.5 m/s, and at a
 * waypoint a 40 % chance to stand for 0.3 .. 2 s, by default. */
#define LEG_MIN_MM       500.0 /* waypoints 0.5 .. 4 m apart */
#define LEG_MAX_MM       4000.0
#define START_STANDING   0.3    /* some players start standing for 0.2 .. 1.5 s */
#define CONVERGE_MIN_MM  1000.0 /* crowded: start 1 .. 2 m from the centre */
#define CONVERGE_MAX_MM  2000.0
/*
 * A holding player jitters a few mm a step but never leaves a 9 cm disc, so that after
 * rounding to whole mm it is within FC_GEN_HOLD_MM. The jitter shrinks at high fix rates so
 * that it never looks like more than 1 m/s.
 */
#define HOLD_JITTER_MM   8.0
#define HOLD_JITTER_MM_S 700.0
#define HOLD_RADIUS_MM   90.0

uint64_t
fc__gen_rng_seed(uint64_t seed, unsigned int stream, uint64_t index)
{
	/* Each input goes through the mixer, so nearby seeds and indices give unrelated streams. */
	uint64_t s = seed;
	uint64_t a = fc__gen_rng_next(&s);

	s = a ^ ((uint64_t)stream << 56);
	a = fc__gen_rng_next(&s);
	s = a ^ index;
	return fc__gen_rng_next(&s);
}

static double
clamp(double v, double hi)
{
	if (v < FC_GEN_MARGIN_MM)
		return FC_GEN_MARGIN_MM;
	if (v > hi - FC_GEN_MARGIN_MM)
		return hi - FC_GEN_MARGIN_MM;
	return v;
}

static void
aim(struct fc__gen_walker *w)
{
	double dx = w->tx - w->x, dy = w->ty - w->y;

	w->left = sqrt(dx * dx + dy * dy);
	if (w->left > 0) {
		w->ux = dx / w->left;
		w->uy = dy / w->left;
	} else {
		w->ux = w->uy = 0;
	}
}

/* A clue to head for: hot spots weigh more, so crowds gather there (a binary search). */
static const struct fc__gen_spot *
pick_spot(struct fc__gen_walker *w, const struct fc__gen_floor *f)
{
	double u = fc__gen_rng_uniform(&w->rng, 0, f->total_weight);
	uint32_t lo = 0, hi = f->n_spots - 1;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (u < f->spots[mid].weight)
			hi = mid;
		else
			lo = mid + 1;
	}
	return &f->spots[lo];
}

static void
new_leg(struct fc__gen_walker *w, const struct fc__gen_floor *f)
{
	/* the draw for attraction only when it is on: without clues the streams are unchanged */
	if (f->attraction > 0 && fc__gen_rng_unit(&w->rng) < f->attraction) {
		const struct fc__gen_spot *s = pick_spot(w, f);
		double a = fc__gen_rng_uniform(&w->rng, 0, 2 * M_PI);
		double r = f->approach * sqrt(fc__gen_rng_unit(&w->rng)); /* uniform on the disc */

		w->tx = clamp(s->x + r * cos(a), f->w);
		w->ty = clamp(s->y + r * sin(a), f->h);
		w->speed = fc__gen_rng_uniform(&w->rng, f->speed_min, f->speed_max);
		w->to_clue = true;
		aim(w);
		return;
	}
	double a = fc__gen_rng_uniform(&w->rng, 0, 2 * M_PI);
	double d = fc__gen_rng_uniform(&w->rng, LEG_MIN_MM, LEG_MAX_MM);

	/* Both ends inside the (convex) floor: every point of the leg is inside too. */
	w->tx = clamp(w->x + d * cos(a), f->w);
	w->ty = clamp(w->y + d * sin(a), f->h);
	w->speed = fc__gen_rng_uniform(&w->rng, f->speed_min, f->speed_max);
	w->to_clue = false;
	aim(w);
}

void
fc__gen_walker_init(struct fc__gen_walker *w, const struct fc__gen_floor *f, uint64_t rng,
		    bool converge)
{
	w->rng = rng;
	w->pause = 0;
	w->converge = converge;
	w->holding = false;
	w->to_clue = false;
	if (!converge) {
		w->x = fc__gen_rng_uniform(&w->rng, FC_GEN_MARGIN_MM, f->w - FC_GEN_MARGIN_MM);
		w->y = fc__gen_rng_uniform(&w->rng, FC_GEN_MARGIN_MM, f->h - FC_GEN_MARGIN_MM);
		new_leg(w, f);
		if (fc__gen_rng_unit(&w->rng) < START_STANDING)
			w->pause = fc__gen_rng_uniform(&w->rng, 0.2, 1.5);
		return;
	}
	double a = fc__gen_rng_uniform(&w->rng, 0, 2 * M_PI);
	double r = fc__gen_rng_uniform(&w->rng, CONVERGE_MIN_MM, CONVERGE_MAX_MM);

	w->x = clamp(f->cx + r * cos(a), f->w);
	w->y = clamp(f->cy + r * sin(a), f->h);
	w->tx = f->cx;
	w->ty = f->cy;
	w->speed = fc__gen_rng_uniform(&w->rng, f->speed_min, f->speed_max);
	aim(w);
}

void
fc__gen_walker_step(struct fc__gen_walker *w, const struct fc__gen_floor *f, double dt)
{
	if (w->holding) {
		double amp = fmin(HOLD_JITTER_MM, HOLD_JITTER_MM_S * dt);
		double nx = w->x + fc__gen_rng_uniform(&w->rng, -amp, amp);
		double ny = w->y + fc__gen_rng_uniform(&w->rng, -amp, amp);
		double dx = nx - f->cx, dy = ny - f->cy;

		if (dx * dx + dy * dy <= HOLD_RADIUS_MM * HOLD_RADIUS_MM) {
			w->x = nx;
			w->y = ny;
		}
		return;
	}
	if (w->pause > 0) {
		w->pause -= dt;
		if (w->pause <= 0)
			new_leg(w, f);
		return;
	}
	double move = w->speed * dt;

	if (move < w->left) {
		w->x += w->ux * move;
		w->y += w->uy * move;
		w->left -= move;
		return;
	}
	/* Arrived: exactly on the waypoint, so rounding errors never accumulate over legs. */
	w->x = w->tx;
	w->y = w->ty;
	w->left = 0;
	if (w->converge)
		w->holding = true;
	else if (w->to_clue) /* a player at a clue looks around */
		w->pause = fc__gen_rng_uniform(&w->rng, f->clue_pause_min, f->clue_pause_max);
	else if (fc__gen_rng_unit(&w->rng) < f->pause_prob)
		w->pause = fc__gen_rng_uniform(&w->rng, f->pause_min, f->pause_max);
	else
		new_leg(w, f);
}

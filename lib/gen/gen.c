/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The generator's main loop (see fc_gen.h): players' fixes in time order, bucketed into their
 * gateway's next frame, encoded with the project's codec (fc_up_build, fc_pkt_write_headers),
 * merged across gateways into capture order, tallied as floord would count them, checked by a
 * receiver of its own, and handed to the sink.
 *
 * Time advances in steps of one frame period (25 ms). During step e every gateway sends
 * exactly once, at phase + e * 25 ms, the fixes measured since its previous send: so after the
 * fixes of [25e, 25e + 25) ms are taken, every gateway's frame of step e is complete, and
 * every frame still to come has a capture time of 25(e + 1) ms or later. What is older goes to
 * the sink; the rest waits one more step. Memory stays a few steps of frames deep.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_priv.h"

#define PERIOD_US ((uint64_t)FC_GEN_FRAME_PERIOD_US)

const uint8_t fc__gen_dst_mac[6] = { 0x02, 0x70, 0x63, 0x61, 0x70, 0x00 };

void
fc_gen_params_init(struct fc_gen_params *p)
{
	memset(p, 0, sizeof(*p));
	p->seconds = 10.0;
	p->rate_hz = 20.0;
	p->seed = 1;
	p->width_mm = 20000;
	p->height_mm = 10000;
	p->start_ns = FC_GEN_DEFAULT_START_NS;
	p->scenario = FC_GEN_NORMAL;
	p->dst_ip = 0xC6120001u; /* 198.18.0.1 */
	p->dst_port = 47474;
	p->clock_bound_ns = 2000000000ull;
	p->check = true;
	p->speed_min_mps = 0.5;
	p->speed_max_mps = 1.5;
	p->pause_prob = 0.4;
	p->pause_min_s = 0.3;
	p->pause_max_s = 2.0;
	p->hot_weight = 8.0;
	p->clue_pause_min_s = 1.0;
	p->clue_pause_max_s = 5.0;
	p->approach_mm = 150;
	p->reorder_ms = 50;
	p->late_ms = 500;
}

int
fc__gen_fail(struct fc_gen *g, int rc, const char *fmt, ...)
{
	va_list ap;

	if (g->err != NULL && g->err_len > 0) {
		va_start(ap, fmt);
		vsnprintf(g->err, g->err_len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

void
fc__gen_gw_addr(uint32_t id, uint8_t mac[6], uint32_t *ip, uint16_t *port)
{
	/* 198.18.<1 + id / 256>.<id % 256>: 198.18.1.<id> for the usual ids 1..254; larger ids
	 * run on into 198.19.x.y, still inside the test range 198.18.0.0/15. */
	*ip = 0xC6120000u | ((256u + id) & 0x1FFFFu);
	*port = (uint16_t)(40000u + id % 20000u);
	mac[0] = 0x02;
	mac[1] = id > 0xFFFF ? 0x01 : 0x00;
	mac[2] = (uint8_t)(id >> 24);
	mac[3] = (uint8_t)(id >> 16);
	mac[4] = (uint8_t)(id >> 8);
	mac[5] = (uint8_t)id;
}

int
fc__gen_fixbuf_push(struct fc__gen_fixbuf *b, const struct fc__gen_fix *f)
{
	if (b->n == b->cap) {
		uint32_t cap = b->cap ? b->cap * 2 : 256;
		struct fc__gen_fix *v = realloc(b->v, (size_t)cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = *f;
	return 0;
}

/* The cell of v along an axis of length len cut into n. */
static uint32_t
cell_of(int64_t v, uint32_t n, uint32_t len)
{
	int64_t z = v * n / len;

	if (z < 0)
		return 0;
	return z >= n ? n - 1 : (uint32_t)z;
}

uint32_t
fc__gen_zone(const struct fc_gen *g, int32_t x_mm, int32_t y_mm)
{
	if (g->p.coverage == FC_GEN_COVER_STRIPES)
		return cell_of(x_mm, g->n_gw, g->p.width_mm);
	return (cell_of(y_mm, g->rows, g->p.height_mm) * g->cols +
		cell_of(x_mm, g->cols, g->p.width_mm)) %
	       g->n_gw;
}

/*
 * The gateways whose cells overlap the fix (overlap_mm past their border), other than its
 * own, into out[0..3). Neighbours along x and along y; a corner hears the diagonal one too.
 */
static uint32_t
overlapping(const struct fc_gen *g, int32_t x, int32_t y, uint32_t own, uint32_t out[3])
{
	const int32_t o = (int32_t)g->p.overlap_mm;
	uint32_t cols = g->p.coverage == FC_GEN_COVER_STRIPES ? g->n_gw : g->cols;
	uint32_t rows = g->p.coverage == FC_GEN_COVER_STRIPES ? 1 : g->rows;
	uint32_t cx = cell_of(x, cols, g->p.width_mm), cy = cell_of(y, rows, g->p.height_mm);
	uint32_t nx = cell_of(x - o, cols, g->p.width_mm),
		 ny = cell_of(y - o, rows, g->p.height_mm);
	uint32_t n = 0;

	if (nx == cx)
		nx = cell_of(x + o, cols, g->p.width_mm);
	if (ny == cy)
		ny = cell_of(y + o, rows, g->p.height_mm);
	for (uint32_t k = 1; k < 4; k++) {
		uint32_t gx = k & 1 ? nx : cx, gy = k & 2 ? ny : cy, gi;

		if ((k & 1 && nx == cx) || (k & 2 && ny == cy))
			continue;
		gi = (gy * cols + gx) % g->n_gw;
		if (gi != own && (n == 0 || out[0] != gi) && (n < 2 || out[1] != gi))
			out[n++] = gi;
	}
	return n;
}

/*
 * The gateway's clock at true time t_us (from the capture start): its offset plus its drift,
 * in whole microseconds, never running backwards.
 */
int64_t
fc__gen_gw_clock_us(const struct fc_gen *g, uint32_t gidx, int64_t t_us)
{
	const struct fc_gen_gateway *gi = &g->gwi[gidx];

	if (gi->clock_offset_us == 0 && gi->drift_ppm == 0)
		return t_us;
	return t_us + gi->clock_offset_us + llround(gi->drift_ppm * 1e-6 * (double)t_us);
}

/* The hostile plan's fixes are never impaired nor reported twice: their outcome is planned. */
bool
fc__gen_protected(const struct fc_gen *g, uint32_t pidx, uint32_t fix_seq)
{
	return (pidx == g->held_pidx && (fix_seq == g->held_seq || fix_seq == g->held_seq + 1)) ||
	       (pidx == g->dup_pidx && (fix_seq == g->dup_seq || fix_seq == g->dup_seq + 1));
}

uint64_t
fc__gen_send_slot(const struct fc_gen *g, uint32_t gidx, uint64_t t_us)
{
	uint64_t p = g->gwi[gidx].phase_us;

	if (t_us <= p)
		return p;
	return p + (t_us - p + PERIOD_US - 1) / PERIOD_US * PERIOD_US;
}

/* --- players ------------------------------------------------------------------------------ */

static uint32_t
period_of_hz(double hz)
{
	return (uint32_t)lround(1e6 / hz);
}

/* The tag's fix period: its team's rate, the fraction's (a draw of its own), or rate_hz. */
uint32_t
fc__gen_period_of(const struct fc_gen *g, uint32_t pidx)
{
	const struct fc_gen_params *p = &g->p;
	uint64_t rng;

	for (uint32_t i = 0; i < p->n_team_rates; i++)
		if (p->team_rates[i].team == p->roster[pidx].team)
			return period_of_hz(p->team_rates[i].hz);
	if (p->fraction_hz > 0) {
		rng = fc__gen_rng_seed(p->seed, FC__GEN_S_RATE, pidx);
		if (fc__gen_rng_unit(&rng) < p->rate_fraction)
			return period_of_hz(p->fraction_hz);
	}
	return g->period_us;
}

static void
player_init(const struct fc_gen *g, uint32_t pidx, struct fc__gen_player *pl)
{
	uint64_t rng = fc__gen_rng_seed(g->p.seed, FC__GEN_S_PLAYER, pidx);
	uint32_t period = fc__gen_period_of(g, pidx);
	uint32_t span = period < 5000 ? period : 5000; /* phases within 5 ms */

	memset(pl, 0, sizeof(*pl));
	pl->pidx = pidx;
	pl->period_us = period;
	pl->noise_rng = fc__gen_rng_seed(g->p.seed, FC__GEN_S_NOISE, pidx);
	pl->dup_rng = fc__gen_rng_seed(g->p.seed, FC__GEN_S_DUP, pidx);
	pl->tag_id = g->p.roster[pidx].tag_id;
	pl->phase_us = fc__gen_rng_below(&rng, span);
	fc__gen_walker_init(&pl->w, &g->floor, rng, pidx < g->n_conv);
}

/* The player's fix of round k (k from 0): one step of the walk, then the rounded position. */
static inline void
player_take(const struct fc_gen *g, struct fc__gen_player *pl, uint64_t k, struct fc__gen_fix *f)
{
	if (k > 0)
		fc__gen_walker_step(&pl->w, &g->floor, pl->period_us / 1e6);
	pl->fix_seq = (uint32_t)(k + 1);
	f->t_us = pl->phase_us + k * pl->period_us;
	f->tag_id = pl->tag_id;
	f->pidx = pl->pidx;
	f->fix_seq = pl->fix_seq;
	f->quality = g->fix_quality;
	f->flags = g->fix_flags;
	f->extra = 0;
	if (g->noise_sigma > 0) {
		/* the engine's error estimate varies fix to fix; the error is drawn from it
		 * (Box-Muller: two normal draws, one per axis) */
		double sg = g->noise_sigma * fc__gen_rng_uniform(&pl->noise_rng, 0.5, 1.5);
		double u1 = 1.0 - fc__gen_rng_unit(&pl->noise_rng); /* (0, 1]: log is finite */
		double u2 = fc__gen_rng_unit(&pl->noise_rng);
		double r = sg * sqrt(-2.0 * log(u1));
		double x = pl->w.x + r * cos(2 * M_PI * u2), y = pl->w.y + r * sin(2 * M_PI * u2);

		/* an engine reports positions on the floor */
		f->x_mm = fc__gen_round(fmin(fmax(x, 0), g->floor.w));
		f->y_mm = fc__gen_round(fmin(fmax(y, 0), g->floor.h));
		f->err_mm = (uint16_t)(sg < 1 ? 1 : fc__gen_round(sg));
	} else {
		f->x_mm = fc__gen_round(pl->w.x);
		f->y_mm = fc__gen_round(pl->w.y);
		f->err_mm = FC__GEN_ERR_MM;
	}
	pl->last_x = f->x_mm;
	pl->last_y = f->y_mm;
}

int
fc__gen_simulate_player(const struct fc_gen *g, uint32_t pidx, struct fc__gen_fixbuf *out)
{
	struct fc__gen_player pl;
	struct fc__gen_fix f;

	player_init(g, pidx, &pl);
	for (uint64_t k = 0; pl.phase_us + k * pl.period_us < g->dur_us; k++) {
		player_take(g, &pl, k, &f);
		if (fc__gen_fixbuf_push(out, &f) != 0)
			return -ENOMEM;
	}
	return 0;
}

static int
cmp_player(const void *a, const void *b)
{
	const struct fc__gen_player *x = a, *y = b;

	if (x->phase_us != y->phase_us)
		return x->phase_us < y->phase_us ? -1 : 1;
	return x->pidx < y->pidx ? -1 : x->pidx > y->pidx;
}

/* --- set-up ------------------------------------------------------------------------------- */

static bool
in(double v, double lo, double hi)
{
	return v >= lo && v <= hi; /* false for NaN */
}

static int
check_model(struct fc_gen *g, const struct fc_gen_params *p)
{
	if (p->n_team_rates > FC_GEN_MAX_TEAM_RATES || !in(p->rate_fraction, 0, 1) ||
	    !(p->fraction_hz == 0 || in(p->fraction_hz, 0.1, 1000)))
		return fc__gen_fail(
			g, -EINVAL,
			"rates: up to %u teams, a fraction 0 .. 1, rates 0.1 .. 1000 Hz",
			FC_GEN_MAX_TEAM_RATES);
	for (uint32_t i = 0; i < p->n_team_rates; i++)
		if (!in(p->team_rates[i].hz, 0.1, 1000))
			return fc__gen_fail(g, -EINVAL, "team %u: rate %g Hz: expected 0.1 .. 1000",
					    p->team_rates[i].team, p->team_rates[i].hz);
	if (!in(p->speed_min_mps, 0.05, 10) || !in(p->speed_max_mps, p->speed_min_mps, 10))
		return fc__gen_fail(g, -EINVAL,
				    "speed %g .. %g m/s: expected 0.05 <= min <= max <= 10",
				    p->speed_min_mps, p->speed_max_mps);
	if (!in(p->pause_prob, 0, 1) || !in(p->pause_min_s, 0.01, 3600) ||
	    !in(p->pause_max_s, p->pause_min_s, 3600))
		return fc__gen_fail(g, -EINVAL,
				    "pauses: a chance 0 .. 1 and 0.01 <= min <= max <= 3600 s");
	if (!in(p->attraction, 0, 1) || !in(p->hot_weight, 1, 1e6) ||
	    !in(p->clue_pause_min_s, 0.01, 3600) ||
	    !in(p->clue_pause_max_s, p->clue_pause_min_s, 3600) || p->approach_mm > 10000)
		return fc__gen_fail(g, -EINVAL,
				    "clues: attraction 0 .. 1, hot_weight 1 .. 1e6, pauses 0.01 <= "
				    "min <= max <= 3600 s, approach up to 10 m");
	if (p->attraction > 0 && (p->layout == NULL || p->layout->n_clues == 0))
		return fc__gen_fail(g, -EINVAL, "attraction without a clue layout");
	if (p->scenario == FC_GEN_CROWDED && p->attraction > 0)
		return fc__gen_fail(g, -EINVAL, "crowded players do not follow clues");
	if (p->n_hot_spots > FC_GEN_MAX_HOT_SPOTS)
		return fc__gen_fail(g, -EINVAL, "at most %u hot spots", FC_GEN_MAX_HOT_SPOTS);
	for (uint32_t i = 0; i < p->n_hot_spots; i++)
		if (p->layout == NULL || fc_game_layout_find(p->layout, p->hot_spots[i]) < 0)
			return fc__gen_fail(g, -EINVAL, "hot spot %" PRIu32 " is not a clue",
					    p->hot_spots[i]);
	if (p->noise > FC_GEN_NOISE_BLE_AOA || !in(p->noise_sigma_mm, 0, 10000))
		return fc__gen_fail(g, -EINVAL, "noise: a known profile, sigma 0 .. 10000 mm");
	if (p->coverage > FC_GEN_COVER_GRID || p->grid_cols > 1024 || p->grid_rows > 1024 ||
	    (p->grid_cols == 0) != (p->grid_rows == 0) || p->overlap_mm > 100000)
		return fc__gen_fail(g, -EINVAL,
				    "coverage: stripes or grid; cols and rows both 1 .. 1024 or "
				    "both 0; overlap up to 100 m");
	if (!in(p->skew_ms, 0, 3600000) || !in(p->drift_ppm, 0, 1000))
		return fc__gen_fail(g, -EINVAL,
				    "clock: skew 0 .. 3 600 000 ms, drift 0 .. 1000 ppm");
	if (!in(p->loss_pct, 0, 100) || !in(p->dup_pct, 0, 100) || !in(p->reorder_pct, 0, 100) ||
	    !in(p->late_pct, 0, 100) || p->loss_pct + p->reorder_pct + p->late_pct > 100)
		return fc__gen_fail(g, -EINVAL,
				    "impairments: per cent, loss + reorder + late at most 100");
	if (!in(p->reorder_ms, 1, 1000) || !in(p->late_ms, 1, 120000))
		return fc__gen_fail(g, -EINVAL,
				    "reorder window 1 .. 1000 ms, late 1 .. 120 000 ms");
	return 0;
}

static int
check_params(struct fc_gen *g, const struct fc_gen_params *p)
{
	if (p->roster == NULL || p->n_roster == 0)
		return fc__gen_fail(g, -EINVAL, "the roster is empty");
	if (p->keys == NULL || p->keys->n == 0)
		return fc__gen_fail(g, -EINVAL, "the keys file has no gateway");
	if (p->n_players > p->n_roster)
		return fc__gen_fail(g, -EINVAL,
				    "%" PRIu32 " players: the roster has %" PRIu32 " entries",
				    p->n_players, p->n_roster);
	if (p->n_gateways > p->keys->n)
		return fc__gen_fail(g, -EINVAL, "%" PRIu32 " gateways: the keys file has %" PRIu32,
				    p->n_gateways, p->keys->n);
	if (!(p->seconds >= 0.01 && p->seconds <= 86400))
		return fc__gen_fail(g, -EINVAL, "seconds %g: expected 0.01 .. 86400", p->seconds);
	if (!(p->rate_hz >= 0.1 && p->rate_hz <= 1000))
		return fc__gen_fail(g, -EINVAL, "rate %g Hz: expected 0.1 .. 1000", p->rate_hz);
	if (p->width_mm <= 2 * FC_GEN_MARGIN_MM || p->height_mm <= 2 * FC_GEN_MARGIN_MM ||
	    p->width_mm > 655350 || p->height_mm > 655350)
		return fc__gen_fail(g, -EINVAL,
				    "floor %" PRIu32 " x %" PRIu32
				    " mm: expected 201 .. 655350 mm a side",
				    p->width_mm, p->height_mm);
	if (p->scenario > FC_GEN_HOSTILE)
		return fc__gen_fail(g, -EINVAL, "unknown scenario %d", (int)p->scenario);
	if (p->scenario == FC_GEN_HOSTILE && p->seconds < 0.5)
		return fc__gen_fail(g, -EINVAL, "the hostile scenario needs 0.5 s or more");
	if (p->mac_alg != 0 && fc_mac_key_len(p->mac_alg) == 0)
		return fc__gen_fail(g, -EINVAL, "unknown MAC algorithm %u", p->mac_alg);
	return check_model(g, p);
}

/* Coverage cells, clue spots, noise: what the model needs beyond today's defaults. */
static int
setup_model(struct fc_gen *g)
{
	const struct fc_gen_params *p = &g->p;
	const struct fc_game_layout *l = p->layout;

	g->floor.speed_min = p->speed_min_mps * 1000;
	g->floor.speed_max = p->speed_max_mps * 1000;
	g->floor.pause_prob = p->pause_prob;
	g->floor.pause_min = p->pause_min_s;
	g->floor.pause_max = p->pause_max_s;
	g->floor.attraction = p->attraction;
	g->floor.clue_pause_min = p->clue_pause_min_s;
	g->floor.clue_pause_max = p->clue_pause_max_s;
	g->floor.approach = p->approach_mm;
	if (p->attraction > 0) {
		double cum = 0;

		g->floor.spots = calloc(l->n_clues, sizeof(*g->floor.spots));
		if (g->floor.spots == NULL)
			return -ENOMEM;
		for (uint32_t i = 0; i < l->n_clues; i++) {
			const struct fc_game_clue *c = &l->clues[i];
			double wgt = 1;

			for (uint32_t h = 0; h < p->n_hot_spots; h++)
				if (p->hot_spots[h] == c->clue_id)
					wgt = p->hot_weight;
			cum += wgt;
			/* a clue off the floor (a layout for a bigger one) is walked to its edge */
			g->floor.spots[i] = (struct fc__gen_spot){
				.x = fmin(fmax(c->x_mm, FC_GEN_MARGIN_MM),
					  p->width_mm - FC_GEN_MARGIN_MM),
				.y = fmin(fmax(c->y_mm, FC_GEN_MARGIN_MM),
					  p->height_mm - FC_GEN_MARGIN_MM),
				.weight = cum,
			};
		}
		g->floor.n_spots = l->n_clues;
		g->floor.total_weight = cum;
	}
	switch (p->noise) {
	case FC_GEN_NOISE_UWB:
		g->noise_sigma = p->noise_sigma_mm > 0 ? p->noise_sigma_mm : 20;
		g->fix_flags = FC_FIX_TECH_UWB;
		g->fix_quality = FC__GEN_QUALITY;
		break;
	case FC_GEN_NOISE_BLE_AOA:
		g->noise_sigma = p->noise_sigma_mm > 0 ? p->noise_sigma_mm : 300;
		g->fix_flags = FC_FIX_TECH_BLE_AOA;
		g->fix_quality = 60; /* an AoA engine is less sure of itself */
		break;
	default:
		g->noise_sigma = 0;
		g->fix_flags = FC__GEN_FLAGS;
		g->fix_quality = FC__GEN_QUALITY;
		break;
	}
	g->cols = p->grid_cols;
	g->rows = p->grid_rows;
	if (p->coverage == FC_GEN_COVER_GRID && g->cols == 0) {
		/* the most square grid of n cells (a 2 x 2 for four gateways) */
		g->rows = (uint32_t)sqrt((double)g->n_gw);
		while (g->n_gw % g->rows != 0)
			g->rows--;
		g->cols = g->n_gw / g->rows;
		if (p->width_mm < p->height_mm) {
			uint32_t t = g->rows;

			g->rows = g->cols;
			g->cols = t;
		}
	}
	g->impaired = p->loss_pct > 0 || p->reorder_pct > 0 || p->late_pct > 0;
	g->split_dup = (p->overlap_mm > 0 || p->dup_pct > 0) && g->n_gw > 1;
	return 0;
}

static int
setup_gateways(struct fc_gen *g)
{
	g->gwi = calloc(g->n_gw, sizeof(*g->gwi));
	g->gw = calloc(g->n_gw, sizeof(*g->gw));
	if (g->gwi == NULL || g->gw == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < g->n_gw; i++) {
		const struct fc_gateway *src = &g->p.keys->gw[i];
		struct fc_gen_gateway *gi = &g->gwi[i];
		struct fc__gen_gw *gw = &g->gw[i];
		uint64_t rng = fc__gen_rng_seed(g->p.seed, FC__GEN_S_LATENCY, src->id);

		for (uint32_t k = 0; k < src->n_keys && gw->key == NULL; k++)
			if (g->p.mac_alg == 0 || src->keys[k].alg == g->p.mac_alg)
				gw->key = &src->keys[k];
		if (gw->key == NULL)
			return fc__gen_fail(
				g, -EINVAL, "gateway %" PRIu32 " has no %s key", src->id,
				g->p.mac_alg == FC_MAC_SIPHASH24 ? "siphash24" : "hmac-sha256-128");
		gi->id = src->id;
		gi->key_id = gw->key->key_id;
		gi->mac_alg = gw->key->alg;
		fc__gen_gw_addr(src->id, gi->mac, &gi->ip, &gi->port);
		gi->latency_us = 200 + fc__gen_rng_below(&rng, 701);
		gi->phase_us = (uint32_t)(i * PERIOD_US / g->n_gw);
		/* clocks: draws of a stream of their own, only for what is asked */
		rng = fc__gen_rng_seed(g->p.seed, FC__GEN_S_CLOCK, src->id);
		if (g->p.skew_ms > 0)
			gi->clock_offset_us = llround(
				fc__gen_rng_uniform(&rng, -g->p.skew_ms, g->p.skew_ms) * 1000);
		if (g->p.drift_ppm > 0)
			gi->drift_ppm = fc__gen_rng_uniform(&rng, -g->p.drift_ppm, g->p.drift_ppm);
		gw->impair_rng = fc__gen_rng_seed(g->p.seed, FC__GEN_S_IMPAIR, src->id);
		fc_replay_window_init(&gw->window);
		/* the last send is the first at or after the end of the fixes */
		gw->last_slot =
			(uint32_t)((fc__gen_send_slot(g, i, g->dur_us) - gi->phase_us) / PERIOD_US);
	}
	return 0;
}

/* The check's receiver: the whole key table (floord knows every gateway), fresh windows. */
static int
setup_check(struct fc_gen *g)
{
	const struct fc_gw_table *k = g->p.keys;

	g->rx_keys = fc_gw_table_create();
	if (g->rx_keys == NULL)
		return -ENOMEM;
	g->rx_keys->gw = malloc((size_t)k->n * sizeof(*k->gw));
	if (g->rx_keys->gw == NULL)
		return -ENOMEM;
	memcpy(g->rx_keys->gw, k->gw, (size_t)k->n * sizeof(*k->gw));
	g->rx_keys->n = g->rx_keys->cap = k->n;
	for (uint32_t i = 0; i < k->n; i++)
		fc_replay_window_init(&g->rx_keys->gw[i].window);
	return 0;
}

struct fc_gen *
fc_gen_create(const struct fc_gen_params *p, char *err, size_t err_len)
{
	struct fc_gen *g = calloc(1, sizeof(*g));
	int rc;

	if (g == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	g->err = err;
	g->err_len = err_len;
	rc = check_params(g, p);
	if (rc != 0)
		goto fail;
	g->p = *p;
	if (g->p.n_players == 0)
		g->p.n_players = p->n_roster;
	if (g->p.n_gateways == 0)
		g->p.n_gateways = p->keys->n;
	g->n_gw = g->p.n_gateways;
	g->start_ns = p->start_ns - p->start_ns % 1000; /* every time a whole us */
	g->dur_us = (uint64_t)llround(p->seconds * 1e6);
	g->period_us = period_of_hz(p->rate_hz);
	g->floor.w = p->width_mm;
	g->floor.h = p->height_mm;
	g->floor.cx = p->width_mm / 2.0;
	g->floor.cy = p->height_mm / 2.0;
	g->n_conv = p->scenario == FC_GEN_CROWDED ? g->p.n_players / 2 : 0;

	rc = setup_model(g);
	if (rc == 0)
		rc = setup_gateways(g);
	if (rc != 0)
		goto fail;
	g->players = calloc(g->p.n_players, sizeof(*g->players));
	g->final = calloc(g->p.n_players, sizeof(*g->final));
	g->final_corr_ns = calloc(g->p.n_players, sizeof(*g->final_corr_ns));
	if (g->players == NULL || g->final == NULL || g->final_corr_ns == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	g->uniform_rate = true;
	g->max_period_us = g->period_us;
	for (uint32_t i = 0; i < g->p.n_players; i++) {
		player_init(g, i, &g->players[i]);
		if (g->players[i].period_us != g->period_us)
			g->uniform_rate = false;
		if (g->players[i].period_us > g->max_period_us)
			g->max_period_us = g->players[i].period_us;
		g->final[i].tag_id = p->roster[i].tag_id;
		g->final[i].player = p->roster[i].player;
		g->final[i].team = p->roster[i].team;
	}
	qsort(g->players, g->p.n_players, sizeof(*g->players), cmp_player);
	g->held_pidx = FC__GEN_NO_PLAYER;
	g->dup_pidx = FC__GEN_NO_PLAYER;
	if (p->scenario == FC_GEN_HOSTILE) {
		rc = fc__gen_plan_hostile(g);
		if (rc != 0)
			goto fail;
	}
	if (p->check) {
		rc = setup_check(g);
		if (rc != 0)
			goto fail;
	}

	g->res.n_players = g->p.n_players;
	g->res.final = g->final;
	g->res.n_gateways = g->n_gw;
	g->res.gateways = g->gwi;
	g->res.centre_x_mm = p->width_mm / 2;
	g->res.centre_y_mm = p->height_mm / 2;
	g->res.n_converging = g->n_conv;
	return g;
fail:
	if (rc == -ENOMEM)
		fc__gen_fail(g, rc, "out of memory");
	fc_gen_free(g);
	errno = -rc;
	return NULL;
}

void
fc_gen_note_live(struct fc_gen *g, const struct fc_gen_live *lv)
{
	g->live = lv;
}

void
fc_gen_free(struct fc_gen *g)
{
	if (g == NULL)
		return;
	for (uint32_t i = 0; g->gw != NULL && i < g->n_gw; i++) {
		free(g->gw[i].cur.v);
		free(g->gw[i].next.v);
	}
	for (uint32_t i = 0; i < g->n_pool; i++)
		free(g->pool[i]);
	for (uint32_t i = 0; i < g->n_pending; i++)
		free(g->pending[i]);
	free(g->pool);
	free(g->pending);
	free(g->gw);
	free(g->gwi);
	free(g->players);
	free(g->final);
	free(g->final_corr_ns);
	free(g->floor.spots);
	free(g->taken);
	fc_gw_table_free(g->rx_keys);
	free(g);
}

const struct fc_gen_result *
fc_gen_result(const struct fc_gen *g)
{
	return &g->res;
}

/* --- frames ------------------------------------------------------------------------------- */

static struct fc__gen_frame *
frame_get(struct fc_gen *g)
{
	struct fc__gen_frame *f;

	if (g->n_pool > 0)
		f = g->pool[--g->n_pool];
	else
		f = malloc(sizeof(*f));
	if (f != NULL) {
		f->n_rec = 0;
		f->cls = -1;
		f->delayed = 0;
		f->seq = 0;
		f->base_ns = 0;
	}
	return f;
}

static int
frame_put(struct fc_gen *g, struct fc__gen_frame *f)
{
	if (g->n_pool == g->cap_pool) {
		uint32_t cap = g->cap_pool ? g->cap_pool * 2 : 64;
		struct fc__gen_frame **v = realloc(g->pool, (size_t)cap * sizeof(*v));

		if (v == NULL) {
			free(f);
			return -ENOMEM;
		}
		g->pool = v;
		g->cap_pool = cap;
	}
	g->pool[g->n_pool++] = f;
	return 0;
}

static int
frame_queue(struct fc_gen *g, struct fc__gen_frame *f)
{
	if (g->n_pending == g->cap_pending) {
		uint32_t cap = g->cap_pending ? g->cap_pending * 2 : 256;
		struct fc__gen_frame **v = realloc(g->pending, (size_t)cap * sizeof(*v));

		if (v == NULL) {
			free(f);
			return -ENOMEM;
		}
		g->pending = v;
		g->cap_pending = cap;
	}
	f->order = g->order++;
	g->pending[g->n_pending++] = f;
	return 0;
}

void
fc__gen_put_headers(const struct fc_gen *g, uint32_t gw_id, struct fc__gen_frame *f,
		    uint32_t payload_len)
{
	struct fc_pkt_tx_tmpl t = { .ttl = FC__GEN_TTL };

	fc__gen_gw_addr(gw_id, t.src_mac, &t.src_ip, &t.src_port);
	fc_pkt_write_headers(f->data, &t, fc__gen_dst_mac, g->p.dst_ip, g->p.dst_port,
			     (uint16_t)payload_len);
	f->len = FC_PKT_HDR_LEN + payload_len;
}

int
fc__gen_encode_fixes(struct fc_gen *g, uint32_t gidx, uint64_t send_us, uint64_t seq,
		     const struct fc__gen_fix *rec, uint32_t n, struct fc__gen_frame *f)
{
	struct fc_up_fix fix[FC_GEN_MAX_FIXES];
	struct fc_up_hdr hdr = { 0 };
	/* base time: a frame period before the send, or the oldest record if that is older
	 * (a late fix): never after the earliest record time (docs/protocol.md section 3.5) */
	int64_t base_us = (int64_t)send_us - (int64_t)PERIOD_US, gw_base;
	int len;

	for (uint32_t i = 0; i < n; i++)
		if ((int64_t)rec[i].t_us < base_us)
			base_us = (int64_t)rec[i].t_us;
	/* times as the gateway's clock tells them (skew and drift; it never runs backwards) */
	gw_base = fc__gen_gw_clock_us(g, gidx, base_us);
	for (uint32_t i = 0; i < n; i++) {
		fix[i] = (struct fc_up_fix){
			.tag_id = rec[i].tag_id,
			.x_mm = rec[i].x_mm,
			.y_mm = rec[i].y_mm,
			.z_mm = FC__GEN_Z_MM,
			.dt_us = (uint32_t)(fc__gen_gw_clock_us(g, gidx, (int64_t)rec[i].t_us) -
					    gw_base),
			.err_mm = rec[i].err_mm,
			.quality = rec[i].quality,
			.flags = rec[i].flags,
			.fix_seq = rec[i].fix_seq,
		};
		f->rec[i] = rec[i];
	}
	f->n_rec = n;
	hdr.msg_type = FC_UP_FIX_BATCH;
	hdr.gateway_id = g->gwi[gidx].id;
	hdr.seq = seq;
	hdr.base_time_ns = (uint64_t)((int64_t)g->start_ns + gw_base * 1000);
	hdr.record_count = (uint16_t)n;
	len = fc_up_build(f->data + FC_PKT_HDR_LEN, FC_WIRE_MAX_PAYLOAD, &hdr, fix,
			  g->gw[gidx].key);
	if (len < 0)
		return fc__gen_fail(
			g, len, "gateway %" PRIu32 ": cannot build a frame of %" PRIu32 " fixes",
			hdr.gateway_id, n);
	fc__gen_put_headers(g, hdr.gateway_id, f, (uint32_t)len);
	f->gidx = gidx;
	f->ts_us = send_us + g->gwi[gidx].latency_us;
	f->seq = seq;
	f->base_ns = (int64_t)hdr.base_time_ns;
	g->gwi[gidx].frames++;
	return 0;
}

/*
 * What the network does to a regular frame: one draw a frame from the gateway's stream, made
 * only when an impairment is on. Returns true if the frame is lost.
 */
static bool
impair(struct fc_gen *g, uint32_t gidx, struct fc__gen_frame *f)
{
	struct fc__gen_gw *gw = &g->gw[gidx];
	double u = fc__gen_rng_unit(&gw->impair_rng) * 100;
	uint64_t delay;

	for (uint32_t i = 0; i < f->n_rec; i++)
		if (fc__gen_protected(g, f->rec[i].pidx, f->rec[i].fix_seq))
			return false; /* the hostile plan's: its outcome is planned */
	if (u < g->p.loss_pct) {
		g->gwi[gidx].lost++;
		g->gwi[gidx].frames--;
		g->res.lost_frames++;
		g->res.lost_reports += f->n_rec;
		return true;
	}
	u -= g->p.loss_pct;
	if (u < g->p.late_pct) {
		f->ts_us += (uint64_t)llround(g->p.late_ms * 1000);
		f->delayed = 2;
		g->gwi[gidx].late++;
		g->res.late_frames++;
		return false;
	}
	u -= g->p.late_pct;
	if (u < g->p.reorder_pct) {
		/* 1 us .. the window: behind every frame sent meanwhile */
		delay = 1 + fc__gen_rng_below(&gw->impair_rng,
					      (uint32_t)llround(g->p.reorder_ms * 1000));
		f->ts_us += delay;
		f->delayed = 1;
		g->gwi[gidx].reordered++;
		g->res.reordered_frames++;
	}
	return false;
}

/* The regular frames of step e of gateway gidx: its fixes, split at 42, or a keepalive. */
static int
emit_regular(struct fc_gen *g, uint32_t gidx, uint64_t send_us)
{
	struct fc__gen_gw *gw = &g->gw[gidx];
	struct fc__gen_fixbuf *b = &gw->cur;
	uint32_t chunks = b->n == 0 ? 1 : (b->n + FC_GEN_MAX_FIXES - 1) / FC_GEN_MAX_FIXES;
	/* the unknown tag rides in the first frame at or after its time with room for it */
	bool room = b->n % FC_GEN_MAX_FIXES != 0 || b->n == 0;
	bool inject = gw->inject_unknown_tag && send_us >= gw->inject_after_us && room;
	struct fc__gen_fix rec[FC_GEN_MAX_FIXES];
	int rc;

	for (uint32_t c = 0; c < chunks; c++) {
		uint32_t first = c * FC_GEN_MAX_FIXES;
		uint32_t n = b->n - first < FC_GEN_MAX_FIXES ? b->n - first : FC_GEN_MAX_FIXES;
		struct fc__gen_frame *f = frame_get(g);
		bool last = c + 1 == chunks;

		if (f == NULL)
			return -ENOMEM;
		if (n > 0) /* a keepalive's buffer may never have been allocated */
			memcpy(rec, b->v + first, (size_t)n * sizeof(rec[0]));
		if (inject && last) {
			/* the stranger tag's fix, measured at the send time, mid-floor */
			rec[n++] = (struct fc__gen_fix){ .t_us = send_us,
							 .tag_id = g->stranger_tag,
							 .pidx = FC__GEN_NO_PLAYER,
							 .fix_seq = 1,
							 .x_mm = (int32_t)(g->p.width_mm / 2),
							 .y_mm = (int32_t)(g->p.height_mm / 2),
							 .err_mm = FC__GEN_ERR_MM,
							 .quality = FC__GEN_QUALITY,
							 .flags = FC__GEN_FLAGS };
			f->cls = FC_GEN_H_UNKNOWN_TAG;
			gw->inject_unknown_tag = false;
		}
		rc = fc__gen_encode_fixes(g, gidx, send_us, FC_UP_SEQ(1, ++gw->counter), rec, n, f);
		if (rc != 0) {
			free(f);
			return rc;
		}
		if (g->impaired && f->cls < 0 && impair(g, gidx, f)) {
			rc = frame_put(g, f); /* lost: its seq is used up all the same */
			if (rc != 0)
				return rc;
			continue;
		}
		if (!f->delayed) { /* replay_dup repeats a frame floord has had */
			gw->last_valid_len = f->len - FC_PKT_HDR_LEN;
			memcpy(gw->last_valid, f->data + FC_PKT_HDR_LEN, gw->last_valid_len);
		}
		rc = frame_queue(g, f);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
emit_hostile(struct fc_gen *g, const struct fc__gen_hostile *h)
{
	struct fc__gen_frame *f = frame_get(g);
	int rc;

	if (f == NULL)
		return -ENOMEM;
	rc = fc__gen_encode_hostile(g, h, f);
	if (rc != 0) {
		free(f);
		return rc;
	}
	f->cls = (int)h->cls;
	return frame_queue(g, f);
}

/*
 * Step e of gateway gidx (or of the hosts that are not gateways, gidx == n_gw): its hostile
 * frames of [25e, 25e + 25) ms and its regular frame, in send order (a hostile frame first at
 * the same time), so that seq counters follow send order.
 */
static int
emit_step(struct fc_gen *g, uint32_t gidx, uint64_t e)
{
	bool regular = gidx < g->n_gw && e <= g->gw[gidx].last_slot;
	uint64_t send = gidx < g->n_gw ? g->gwi[gidx].phase_us + e * PERIOD_US : 0;
	uint64_t lo = e * PERIOD_US, hi = lo + PERIOD_US;
	int rc;

	/* g->hostile is sorted by send time: a merge of two ordered lists */
	for (uint32_t j = 0; j <= g->n_hostile; j++) {
		const struct fc__gen_hostile *h = j < g->n_hostile ? &g->hostile[j] : NULL;

		if (h != NULL && (h->gidx != gidx || h->send_us < lo || h->send_us >= hi))
			continue;
		if (regular && (h == NULL || h->send_us > send)) {
			rc = emit_regular(g, gidx, send);
			if (rc != 0)
				return rc;
			regular = false;
		}
		if (h != NULL) {
			rc = emit_hostile(g, h);
			if (rc != 0)
				return rc;
		}
	}
	if (gidx < g->n_gw) {
		struct fc__gen_fixbuf t = g->gw[gidx].cur;

		g->gw[gidx].cur = g->gw[gidx].next;
		g->gw[gidx].next = t;
		g->gw[gidx].next.n = 0;
	}
	return 0;
}

/* --- the receiver's view: tally and check -------------------------------------------------- */

enum outcome { OUT_APPLIED, OUT_OLDER, OUT_DUPLICATE, OUT_UNKNOWN_TAG };

/*
 * floord's newest-wins rule (fc_owner_apply in lib/grid/fc_grid.h), on the final positions,
 * ordered by corr: the measurement time as floord corrects it (the gateway's clock plus its
 * offset estimate). The final t_ns stays the fix's true measurement time.
 */
static enum outcome
tally_record(struct fc_gen *g, const struct fc__gen_fix *r, uint64_t corr)
{
	struct fc_gen_final *c;
	uint64_t *cc;

	if (r->pidx == FC__GEN_NO_PLAYER) {
		g->res.unknown_tags++;
		return OUT_UNKNOWN_TAG;
	}
	c = &g->final[r->pidx];
	cc = &g->final_corr_ns[r->pidx];
	if (c->fix_seq != 0) {
		bool same = r->fix_seq == c->fix_seq;

		if (corr < *cc || (corr == *cc && r->fix_seq <= c->fix_seq)) {
			if (same) {
				g->res.duplicates++;
				return OUT_DUPLICATE;
			}
			g->res.older++;
			return OUT_OLDER;
		}
		if (same && r->x_mm == c->x_mm && r->y_mm == c->y_mm) {
			*cc = corr; /* the same fix, by a gateway whose clock puts it later */
			g->res.duplicates++;
			return OUT_DUPLICATE;
		}
	}
	*cc = corr;
	c->fix_seq = r->fix_seq;
	c->t_ns = g->start_ns + r->t_us * 1000;
	c->x_mm = r->x_mm;
	c->y_mm = r->y_mm;
	c->z_mm = FC__GEN_Z_MM;
	g->res.applied++;
	return OUT_APPLIED;
}

/* Where a frame of class cls (-1 valid) must land: a net verdict, an uplink error, or OK. */
static void
expected(int cls, enum fc_pkt_verdict *net, enum fc_up_err *up)
{
	static const struct {
		enum fc_pkt_verdict net;
		enum fc_up_err up;
	} want[FC_GEN_H__COUNT] = {
		[FC_GEN_H_RUNT] = { FC_PKT_OK, FC_UP_E_RUNT },
		[FC_GEN_H_BAD_MAGIC] = { FC_PKT_OK, FC_UP_E_BAD_MAGIC },
		[FC_GEN_H_ARP] = { FC_PKT_ARP, FC_UP_OK },
		[FC_GEN_H_BAD_VERSION] = { FC_PKT_OK, FC_UP_E_BAD_VERSION },
		[FC_GEN_H_BAD_MSG_TYPE] = { FC_PKT_OK, FC_UP_E_BAD_MSG_TYPE },
		[FC_GEN_H_IPV6_UDP] = { FC_PKT_IPV6, FC_UP_OK },
		[FC_GEN_H_BAD_MAC_ALG] = { FC_PKT_OK, FC_UP_E_BAD_MAC_ALG },
		[FC_GEN_H_BAD_RECORD_LEN] = { FC_PKT_OK, FC_UP_E_BAD_RECORD_LEN },
		[FC_GEN_H_ICMP_ECHO] = { FC_PKT_NOT_UDP, FC_UP_OK },
		[FC_GEN_H_BAD_RECORD_COUNT] = { FC_PKT_OK, FC_UP_E_BAD_RECORD_COUNT },
		[FC_GEN_H_BAD_LENGTH] = { FC_PKT_OK, FC_UP_E_BAD_LENGTH },
		[FC_GEN_H_IPV4_FRAGMENT] = { FC_PKT_FRAGMENT, FC_UP_OK },
		[FC_GEN_H_UNKNOWN_GATEWAY] = { FC_PKT_OK, FC_UP_E_UNKNOWN_GATEWAY },
		[FC_GEN_H_UNKNOWN_KEY] = { FC_PKT_OK, FC_UP_E_UNKNOWN_KEY },
		[FC_GEN_H_OTHER_PORT] = { FC_PKT_WRONG_PORT, FC_UP_OK },
		[FC_GEN_H_KEY_ALG_MISMATCH] = { FC_PKT_OK, FC_UP_E_KEY_ALG_MISMATCH },
		[FC_GEN_H_REPLAY_OLD] = { FC_PKT_OK, FC_UP_E_REPLAY_OLD },
		[FC_GEN_H_ETH_RUNT] = { FC_PKT_RUNT, FC_UP_OK },
		[FC_GEN_H_REPLAY_DUP] = { FC_PKT_OK, FC_UP_E_REPLAY_DUP },
		[FC_GEN_H_BAD_MAC] = { FC_PKT_OK, FC_UP_E_BAD_MAC },
		[FC_GEN_H_OTHER_ETHERTYPE] = { FC_PKT_OTHER_L2, FC_UP_OK },
		[FC_GEN_H_CLOCK_SKEW] = { FC_PKT_OK, FC_UP_E_CLOCK_SKEW },
		[FC_GEN_H_BAD_IP_CHECKSUM] = { FC_PKT_BAD_IPV4, FC_UP_OK },
		[FC_GEN_H_UNKNOWN_TAG] = { FC_PKT_OK, FC_UP_OK },
		[FC_GEN_H_BAD_UDP_LENGTH] = { FC_PKT_BAD_UDP, FC_UP_OK },
		[FC_GEN_H_DUPLICATE_FIX] = { FC_PKT_OK, FC_UP_OK },
		[FC_GEN_H_OLDER_FIX] = { FC_PKT_OK, FC_UP_OK },
	};

	*net = cls < 0 ? FC_PKT_OK : want[cls].net;
	*up = cls < 0 ? FC_UP_OK : want[cls].up;
}

/*
 * floord's clock-offset estimate for a gateway (lib/rx: clock_offset() in rx_fp.c, the
 * minimum-delay filter of fc_rx.h), fed as floord feeds it: every accepted fix batch, with the
 * capture time as the clock. Mirrored so that the tally orders fixes as floord does even when
 * clocks are skewed and frames late.
 */
#define CLOCK_BUCKET_NS 10000000000ull /* FC_RX_CLOCK_BUCKET_NS */

static int64_t
clock_offset(struct fc__gen_gw *gw, uint64_t now_ns, int64_t base_ns)
{
	int64_t d = (int64_t)now_ns - base_ns;

	if (!gw->clk_started || now_ns - gw->clk_bucket_start >= CLOCK_BUCKET_NS) {
		gw->clk_min_prev = gw->clk_started ? gw->clk_min_cur : d;
		gw->clk_min_cur = d;
		gw->clk_bucket_start = now_ns;
		gw->clk_started = true;
	} else if (d < gw->clk_min_cur) {
		gw->clk_min_cur = d;
	}
	return gw->clk_min_cur < gw->clk_min_prev ? gw->clk_min_cur : gw->clk_min_prev;
}

/*
 * Where an authentic gateway frame lands, by construction: the replay window (a frame held
 * back behind 1024 newer ones is replay_old) and then the clock bound (docs/protocol.md
 * section 3.8, steps 11 to 14). Marks the window as floord would.
 */
static enum fc_up_err
model_receive(struct fc_gen *g, const struct fc__gen_frame *f, uint64_t ts_ns)
{
	struct fc__gen_gw *gw = &g->gw[f->gidx];
	int64_t skew = f->base_ns - (int64_t)ts_ns;

	switch (fc_replay_window_check(&gw->window, f->seq)) {
	case FC_REPLAY_TOO_OLD:
		return FC_UP_E_REPLAY_OLD;
	case FC_REPLAY_DUPLICATE:
		return FC_UP_E_REPLAY_DUP;
	default:
		break;
	}
	fc_replay_window_mark(&gw->window, f->seq);
	if ((uint64_t)(skew < 0 ? -skew : skew) > g->p.clock_bound_ns)
		return FC_UP_E_CLOCK_SKEW;
	return FC_UP_OK;
}

static const char *
class_name(int cls)
{
	return cls < 0 ? "valid" : fc_gen_hostile_name((enum fc_gen_hostile)cls);
}

/* The check: the frame through the receive path floord runs, with windows of its own. */
static int
check_frame(struct fc_gen *g, const struct fc__gen_frame *f, uint64_t idx, uint64_t ts_ns,
	    enum fc_pkt_verdict want_net, enum fc_up_err want_up)
{
	struct fc_pkt_info info;
	struct fc_up_view v;
	struct fc_gateway *gw;
	enum fc_pkt_verdict net;
	enum fc_up_err up = FC_UP_OK;

	net = fc_pkt_classify(f->data, f->len, g->p.dst_ip, g->p.dst_port, &info);
	if (net == FC_PKT_OK)
		up = fc_up_accept(g->rx_keys, f->data + info.payload_off, info.payload_len, ts_ns,
				  g->p.clock_bound_ns, &v, &gw);
	if (net != want_net || up != want_up)
		return fc__gen_fail(g, -EPROTO, "frame %" PRIu64 " (%s) lands in %s.%s, not %s.%s",
				    idx, class_name(f->cls), net ? "net" : "uplink",
				    net ? fc_pkt_verdict_name(net) : fc_up_err_name(up),
				    want_net ? "net" : "uplink",
				    want_net ? fc_pkt_verdict_name(want_net)
					     : fc_up_err_name(want_up));
	if (net == FC_PKT_OK && up == FC_UP_OK && v.hdr.record_count != f->n_rec)
		return fc__gen_fail(g, -EPROTO,
				    "frame %" PRIu64 " (%s): %u records, %" PRIu32 " meant", idx,
				    class_name(f->cls), v.hdr.record_count, f->n_rec);
	return 0;
}

static int
write_frame(struct fc_gen *g, struct fc__gen_frame *f, fc_gen_sink_fn sink, void *ctx)
{
	uint64_t idx, ts_ns = g->start_ns + f->ts_us * 1000;
	enum fc_pkt_verdict want_net;
	enum fc_up_err want_up;
	int rc;

	/* a socket sends only UDP to floord's port: the other hosts' frames are not its to send */
	if (g->p.udp_only && f->gidx >= g->n_gw) {
		g->res.skipped[f->cls]++;
		return 0;
	}
	idx = g->res.frames++;
	if (idx == 0)
		g->res.first_ts_ns = ts_ns;
	g->res.last_ts_ns = ts_ns;
	expected(f->cls, &want_net, &want_up);
	/* authentic frames of a gateway: the window and the clock decide (a hostile frame that
	 * fails before the MAC never reaches the window) */
	if (f->gidx < g->n_gw && f->seq != 0 &&
	    (want_up == FC_UP_E_CLOCK_SKEW || (want_net == FC_PKT_OK && want_up == FC_UP_OK))) {
		enum fc_up_err m = model_receive(g, f, ts_ns);

		if (m != FC_UP_OK && want_up == FC_UP_OK) {
			want_up = m;
			g->res.window_drops += f->delayed != 0;
		}
	}
	if (f->cls >= 0) {
		g->res.hostile_sent[f->cls] = true;
		g->res.hostile[f->cls] = (struct fc_gen_hostile_frame){
			.frame_index = idx,
			.ts_ns = ts_ns,
			.gateway_id = f->gidx < g->n_gw ? g->gwi[f->gidx].id : 0,
		};
	}
	if (g->rx_keys != NULL) {
		rc = check_frame(g, f, idx, ts_ns, want_net, want_up);
		if (rc != 0)
			return rc;
	}
	if (want_net != FC_PKT_OK) {
		g->res.net[want_net]++;
	} else if (want_up != FC_UP_OK) {
		g->res.up[want_up]++;
	} else {
		enum outcome last = OUT_APPLIED;
		int64_t off = clock_offset(&g->gw[f->gidx], ts_ns, f->base_ns);

		g->res.gw_frames++;
		g->res.keepalives += f->n_rec == 0;
		g->res.fix_records += f->n_rec;
		for (uint32_t i = 0; i < f->n_rec; i++) {
			const struct fc__gen_fix *r = &f->rec[i];
			int64_t gw_t = fc__gen_gw_clock_us(g, f->gidx, (int64_t)r->t_us);

			last = tally_record(g, r,
					    (uint64_t)((int64_t)g->start_ns + gw_t * 1000 + off));
		}
		/* the telling record of these classes is the frame's last */
		if ((f->cls == FC_GEN_H_UNKNOWN_TAG && last != OUT_UNKNOWN_TAG) ||
		    (f->cls == FC_GEN_H_DUPLICATE_FIX && last != OUT_DUPLICATE) ||
		    (f->cls == FC_GEN_H_OLDER_FIX && last != OUT_OLDER))
			return fc__gen_fail(g, -EPROTO,
					    "frame %" PRIu64 " (%s): its record is not "
					    "counted as %s",
					    idx, class_name(f->cls),
					    fc_gen_hostile_counter((enum fc_gen_hostile)f->cls));
	}
	g->res.fix_reports += f->n_rec;
	return sink(ctx, ts_ns, f->data, f->len);
}

static int
cmp_frame(const void *a, const void *b)
{
	const struct fc__gen_frame *x = *(struct fc__gen_frame *const *)a;
	const struct fc__gen_frame *y = *(struct fc__gen_frame *const *)b;

	if (x->ts_us != y->ts_us)
		return x->ts_us < y->ts_us ? -1 : 1;
	if (x->gidx != y->gidx)
		return x->gidx < y->gidx ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Hands the sink every pending frame captured before bound_us, in capture order. */
static int
flush(struct fc_gen *g, uint64_t bound_us, fc_gen_sink_fn sink, void *ctx)
{
	uint32_t i, kept = 0;
	int rc = 0;

	qsort(g->pending, g->n_pending, sizeof(*g->pending), cmp_frame);
	for (i = 0; i < g->n_pending && g->pending[i]->ts_us < bound_us;) {
		struct fc__gen_frame *f = g->pending[i++];

		rc = write_frame(g, f, sink, ctx);
		if (rc == 0) {
			rc = frame_put(g, f); /* frees f if it fails */
		} else {
			free(f);
		}
		if (rc != 0)
			break;
	}
	for (uint32_t j = i; j < g->n_pending; j++)
		g->pending[kept++] = g->pending[j];
	g->n_pending = kept;
	return rc;
}

/* --- the run ------------------------------------------------------------------------------ */

/* A fix into gateway gidx's frame of step e, or of the next step if it is measured after. */
static int
bucket(struct fc_gen *g, uint32_t gidx, uint64_t e, const struct fc__gen_fix *f)
{
	return fc__gen_fixbuf_push(f->t_us <= g->gwi[gidx].phase_us + e * PERIOD_US
					   ? &g->gw[gidx].cur
					   : &g->gw[gidx].next,
				   f);
}

/*
 * The same fix heard by other gateways: the neighbours whose cells overlap its position, and
 * with dup_pct the next gateway. Same fix_seq, same position: floord collapses them (or counts
 * them older if a newer fix of the player got in first).
 */
static int
report_again(struct fc_gen *g, struct fc__gen_player *pl, uint32_t own, uint64_t e,
	     const struct fc__gen_fix *f)
{
	uint32_t other[4], n = 0;
	struct fc__gen_fix x = *f;
	int rc = 0;

	if (fc__gen_protected(g, f->pidx, f->fix_seq))
		return 0;
	if (g->p.overlap_mm > 0)
		n = overlapping(g, f->x_mm, f->y_mm, own, other);
	x.extra = 1;
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		rc = bucket(g, other[i], e, &x);
		g->res.overlap_reports++;
	}
	/* one draw a fix when duplicates are asked for: the player's stream of its own */
	if (rc == 0 && g->p.dup_pct > 0 && fc__gen_rng_unit(&pl->dup_rng) * 100 < g->p.dup_pct) {
		uint32_t gb = (own + 1) % g->n_gw;

		x.extra = 2;
		for (uint32_t i = 0; i < n; i++)
			if (other[i] == gb) /* already heard there: the one after */
				gb = (gb + 1) % g->n_gw;
		if (gb != own) {
			rc = bucket(g, gb, e, &x);
			g->res.duplicate_reports++;
		}
	}
	return rc;
}

/* Every player's newest fix as counted must be the last it measured: newest wins. */
static int
check_final(struct fc_gen *g)
{
	for (uint32_t i = 0; i < g->p.n_players; i++) {
		const struct fc__gen_player *pl = &g->players[i];
		const struct fc_gen_final *c = &g->final[pl->pidx];

		if (g->impaired)
			break; /* the last fix may be lost or late: the tally is the truth */
		if (c->fix_seq != pl->fix_seq || c->x_mm != pl->last_x || c->y_mm != pl->last_y)
			return fc__gen_fail(g, -EPROTO,
					    "player %u ends on fix %" PRIu32 ", not on "
					    "its last fix %" PRIu32,
					    c->player, c->fix_seq, pl->fix_seq);
	}
	for (uint32_t i = 0; i < g->n_hostile; i++)
		if (!g->res.hostile_sent[g->hostile[i].cls] && !g->res.skipped[g->hostile[i].cls])
			return fc__gen_fail(g, -EPROTO, "hostile %s was never sent",
					    fc_gen_hostile_name(g->hostile[i].cls));
	if (g->p.scenario == FC_GEN_HOSTILE && !g->res.hostile_sent[FC_GEN_H_UNKNOWN_TAG])
		return fc__gen_fail(g, -EPROTO, "the unknown tag was never sent");
	return 0;
}

/* A fix just taken: counted, then to its gateway (and any other that hears it). */
static int
distribute(struct fc_gen *g, struct fc__gen_player *pl, uint64_t e, const struct fc__gen_fix *f)
{
	const double r2 = (double)FC_GEN_HOLD_MM * FC_GEN_HOLD_MM;
	uint32_t gidx;
	int rc;

	g->res.fixes++;
	if (pl->w.converge && g->final[pl->pidx].arrival_ns == 0) {
		double dx = f->x_mm - g->floor.cx, dy = f->y_mm - g->floor.cy;

		if (dx * dx + dy * dy <= r2)
			g->final[pl->pidx].arrival_ns = g->start_ns + f->t_us * 1000;
	}
	if (f->pidx == g->held_pidx && f->fix_seq == g->held_seq)
		return 0; /* the older_fix: sent late, by hostile.c */
	gidx = fc__gen_zone(g, f->x_mm, f->y_mm);
	rc = bucket(g, gidx, e, f);
	if (rc == 0 && g->split_dup)
		rc = report_again(g, pl, gidx, e, f);
	return rc;
}

static int
cmp_taken(const void *a, const void *b)
{
	const struct fc__gen_taken *x = a, *y = b;

	if (x->f.t_us != y->f.t_us)
		return x->f.t_us < y->f.t_us ? -1 : 1;
	return x->f.pidx < y->f.pidx ? -1 : x->f.pidx > y->f.pidx;
}

/*
 * Per-tag rates: every fix measured before lim, player by player, then in time order (ties by
 * player index, the order the uniform loop gives), so frames are filled as they would be.
 */
static int
take_step(struct fc_gen *g, uint64_t lim)
{
	g->n_taken = 0;
	for (uint32_t j = 0; j < g->p.n_players; j++) {
		struct fc__gen_player *pl = &g->players[j];

		while (pl->phase_us + pl->next_k * pl->period_us < lim) {
			if (g->n_taken == g->cap_taken) {
				uint32_t cap = g->cap_taken ? g->cap_taken * 2 : 1024;
				struct fc__gen_taken *v =
					realloc(g->taken, (size_t)cap * sizeof(*v));

				if (v == NULL)
					return -ENOMEM;
				g->taken = v;
				g->cap_taken = cap;
			}
			g->taken[g->n_taken].pl = pl;
			player_take(g, pl, pl->next_k++, &g->taken[g->n_taken].f);
			g->n_taken++;
		}
	}
	qsort(g->taken, g->n_taken, sizeof(*g->taken), cmp_taken);
	return 0;
}

int
fc_gen_run(struct fc_gen *g, fc_gen_sink_fn sink, void *ctx, char *err, size_t err_len)
{
	const uint32_t n = g->p.n_players;
	uint64_t e_last = 0, k = 0;
	uint32_t i = 0;
	int rc;

	g->err = err;
	g->err_len = err_len;
	if (g->ran++)
		return fc__gen_fail(g, -EALREADY, "the generator has already run");
	for (uint32_t gi = 0; gi < g->n_gw; gi++)
		if (g->gw[gi].last_slot > e_last)
			e_last = g->gw[gi].last_slot;
	for (uint32_t h = 0; h < g->n_hostile; h++)
		if (g->hostile[h].send_us / PERIOD_US > e_last)
			e_last = g->hostile[h].send_us / PERIOD_US;

	for (uint64_t e = 0; e <= e_last; e++) {
		uint64_t end = (e + 1) * PERIOD_US;
		uint64_t lim = end < g->dur_us ? end : g->dur_us;

		if (g->uniform_rate) {
			/* Round k, players by phase: every fix in time order (phases are < one
			 * period). */
			for (;;) {
				struct fc__gen_player *pl = &g->players[i];
				struct fc__gen_fix f;

				if (pl->phase_us + k * g->period_us >= lim)
					break;
				player_take(g, pl, k, &f);
				if (++i == n) {
					i = 0;
					k++;
				}
				rc = distribute(g, pl, e, &f);
				if (rc != 0)
					return fc__gen_fail(g, rc, "out of memory");
			}
		} else {
			rc = take_step(g, lim);
			for (uint32_t j = 0; rc == 0 && j < g->n_taken; j++)
				rc = distribute(g, g->taken[j].pl, e, &g->taken[j].f);
			if (rc != 0)
				return fc__gen_fail(g, rc, "out of memory");
		}
		for (uint32_t gi = 0; gi <= g->n_gw; gi++) {
			rc = emit_step(g, gi, e);
			if (rc != 0)
				return rc == -ENOMEM ? fc__gen_fail(g, rc, "out of memory") : rc;
		}
		rc = flush(g, end, sink, ctx);
		if (rc != 0)
			return rc;
	}
	rc = flush(g, UINT64_MAX, sink, ctx);
	if (rc != 0)
		return rc;
	return check_final(g);
}

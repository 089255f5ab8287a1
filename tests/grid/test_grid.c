/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The grid and the owners' state, without an EAL: geometry and routing, the newest-wins rule
 * in every arrival order (DESIGN invariant 2), duplicates collapsing, dirty sets and their
 * reuse, and readers that never block the writer nor see a torn candidate (invariant 4).
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fc_grid.h"
#include "fc_hist.h"

/* An owner state on the heap, as fc_owner_state_init() makes it on a NUMA node. */
static struct fc_owner_state *
state_new(uint32_t n)
{
	struct fc_owner_state *o = calloc(1, sizeof(*o));

	o->n_players = n;
	o->cand = calloc(n, sizeof(*o->cand));
	o->dirty_mem = calloc((size_t)n * FC_GRID_DIRTY_TICKS, sizeof(uint16_t));
	for (uint32_t p = 0; p < n; p++)
		rte_seqcount_init(&o->cand[p].sc);
	for (unsigned int i = 0; i < FC_GRID_DIRTY_TICKS; i++) {
		rte_seqcount_init(&o->dirty[i].sc);
		o->dirty[i].tick = UINT64_MAX;
		o->dirty[i].players = o->dirty_mem + (size_t)i * n;
	}
	return o;
}

static void
state_free(struct fc_owner_state *o)
{
	free(o->cand);
	free(o->dirty_mem);
	free(o);
}

static struct fc_fix_rec
fix(uint16_t player, uint64_t meas, uint32_t seq, int32_t x, uint64_t tick)
{
	return (struct fc_fix_rec){ .player = player,
				    .meas_ns = meas,
				    .fix_seq = seq,
				    .x_mm = x,
				    .y_mm = x * 2,
				    .tick = tick,
				    .kind = FC_REC_FIX };
}

Test(geom, shards_are_8x8_cells_and_stripes_go_to_owners)
{
	struct fc_geom g;

	fc_geom_init(&g, 20000, 10000, 8, 2); /* 256 mm cells, 2048 mm shards */
	cr_assert_eq(g.shards_x, 10);
	cr_assert_eq(g.shards_y, 5);
	cr_assert_eq(fc_geom_shard_of(&g, 0, 0), 0);
	cr_assert_eq(fc_geom_shard_of(&g, 2047, 2047), 0);
	cr_assert_eq(fc_geom_shard_of(&g, 2048, 0), 1);
	cr_assert_eq(fc_geom_shard_of(&g, 0, 2048), 10);
	cr_assert_eq(fc_geom_shard_of(&g, 19999, 9999), 49);
	/* Off the floor: the nearest edge shard, never an index past the grid. */
	cr_assert_eq(fc_geom_shard_of(&g, -50, -1), 0);
	cr_assert_eq(fc_geom_shard_of(&g, 1 << 30, 1 << 30), 49);
	cr_assert_eq(fc_geom_shard_of(&g, INT32_MIN, INT32_MAX), 40);
	/* Stripes: columns 0-4 to owner 0, 5-9 to owner 1, whatever the row. */
	for (uint32_t s = 0; s < 50; s++)
		cr_assert_eq(fc_geom_owner_of_shard(&g, s), (s % 10) < 5 ? 0u : 1u, "shard %u", s);
}

Test(geom, every_owner_gets_shards_when_there_are_enough_columns)
{
	struct fc_geom g;

	for (uint32_t owners = 1; owners <= 10; owners++) {
		uint32_t seen[16] = { 0 };

		fc_geom_init(&g, 20000, 10000, 8, owners);
		for (uint32_t s = 0; s < fc_geom_n_shards(&g); s++)
			seen[fc_geom_owner_of_shard(&g, s)]++;
		for (uint32_t o = 0; o < owners; o++)
			cr_assert_gt(seen[o], 0, "%u owners: owner %u has no shard", owners, o);
	}
	fc_geom_init(&g, 655350, 655350, 16, 4); /* the designed maximum floor */
	cr_assert_eq(g.shards_x, 2);
	cr_assert_lt(fc_geom_shard_of(&g, 655349, 655349), fc_geom_n_shards(&g));
}

Test(owner_state, newest_measurement_wins)
{
	struct fc_owner_state *o = state_new(4);
	struct fc_fix_rec r;
	struct fc_pos p;

	r = fix(1, 2000, 2, 200, 1);
	cr_assert_eq(fc_owner_apply(o, &r), FC_APPLY_NEWER);
	r = fix(1, 1000, 1, 100, 1);
	cr_assert_eq(fc_owner_apply(o, &r), FC_APPLY_OLDER);
	fc_owner_read(o, 1, &p);
	cr_assert_eq(p.x_mm, 200);
	cr_assert_eq(p.meas_ns, 2000);
	r = fix(1, 3000, 3, 300, 1);
	cr_assert_eq(fc_owner_apply(o, &r), FC_APPLY_NEWER);
	fc_owner_read(o, 1, &p);
	cr_assert_eq(p.x_mm, 300);
	state_free(o);
}

Test(owner_state, the_same_fix_twice_collapses)
{
	struct fc_owner_state *o = state_new(4);
	struct fc_fix_rec r = fix(2, 5000, 9, 10, 1), again = fix(2, 5100, 9, 10, 1);

	cr_assert_eq(fc_owner_apply(o, &r), FC_APPLY_NEWER);
	/* Heard by a second gateway whose clock puts it 100 ns later: still the same fix. */
	cr_assert_eq(fc_owner_apply(o, &again), FC_APPLY_DUPLICATE);
	cr_assert_eq(fc_owner_apply(o, &r), FC_APPLY_DUPLICATE);
	state_free(o);
}

Test(owner_state, equal_times_are_decided_by_fix_seq)
{
	struct fc_owner_state *a = state_new(2), *b = state_new(2);
	struct fc_fix_rec r1 = fix(0, 7000, 4, 40, 1), r2 = fix(0, 7000, 5, 50, 1);
	struct fc_pos pa, pb;

	fc_owner_apply(a, &r1);
	fc_owner_apply(a, &r2);
	fc_owner_apply(b, &r2);
	fc_owner_apply(b, &r1);
	fc_owner_read(a, 0, &pa);
	fc_owner_read(b, 0, &pb);
	cr_assert_eq(pa.x_mm, 50);
	cr_assert_eq(pb.x_mm, 50);
	state_free(a);
	state_free(b);
}

/* The greatest fix of player p by (time, seq): what any arrival order must leave. */
static const struct fc_fix_rec *
greatest(const struct fc_fix_rec *set, int n, uint16_t p)
{
	const struct fc_fix_rec *best = NULL;

	for (int i = 0; i < n; i++)
		if (set[i].player == p &&
		    (best == NULL || set[i].meas_ns > best->meas_ns ||
		     (set[i].meas_ns == best->meas_ns && set[i].fix_seq > best->fix_seq)))
			best = &set[i];
	return best;
}

/* Invariant 2: any arrival order of any set of fixes leaves the same candidate per player. */
Test(owner_state, outcome_is_independent_of_arrival_order)
{
	enum { PLAYERS = 8, FIXES = 64, ROUNDS = 1000 };
	struct fc_fix_rec set[FIXES];

	srand(4242);
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < FIXES; i++) {
			/* Few distinct times and seqs: ties, copies and reorderings are frequent. */
			set[i] = fix((uint16_t)(rand() % PLAYERS), (uint64_t)(1 + rand() % 6),
				     (uint32_t)(1 + rand() % 5), 0, 1);
			/* Half are copies of a fix (position set by seq alone, the time varies, as
			 * through gateways with different clocks), half distinct measurements. */
			set[i].x_mm = (int32_t)(set[i].fix_seq * 100 +
						(rand() % 2 ? 0 : (int)set[i].meas_ns));
			set[i].y_mm = set[i].x_mm;
		}
		for (int perm = 0; perm < 8; perm++) {
			struct fc_owner_state *o = state_new(PLAYERS);

			for (int i = FIXES - 1; i > 0; i--) {
				int j = rand() % (i + 1);
				struct fc_fix_rec t = set[i];

				set[i] = set[j];
				set[j] = t;
			}
			for (int i = 0; i < FIXES; i++)
				fc_owner_apply(o, &set[i]);
			for (uint16_t p = 0; p < PLAYERS; p++) {
				const struct fc_fix_rec *want = greatest(set, FIXES, p);
				struct fc_pos got;

				fc_owner_read(o, p, &got);
				if (want == NULL) {
					cr_assert_eq(got.meas_ns, 0);
					continue;
				}
				cr_assert_eq(got.meas_ns, want->meas_ns, "round %d player %u",
					     round, p);
				cr_assert_eq(got.fix_seq, want->fix_seq, "round %d player %u",
					     round, p);
				cr_assert_eq(got.x_mm, want->x_mm, "round %d player %u", round, p);
			}
			state_free(o);
		}
	}
}

/* The players of o's dirty list for tick, as TX reads them: marked in a cleared bitmap. */
static int32_t
marked(const struct fc_owner_state *o, uint64_t tick, uint64_t bits[4])
{
	memset(bits, 0, 4 * sizeof(*bits));
	return fc_owner_dirty_mark(o, tick, bits);
}

Test(owner_state, dirty_set_lists_each_changed_player_once_per_tick)
{
	struct fc_owner_state *o = state_new(100);
	uint64_t bits[4];
	const uint64_t first4[4] = { 0xF, 0, 0, 0 }, p50[4] = { UINT64_C(1) << 50, 0, 0, 0 };
	struct fc_fix_rec r;

	for (uint32_t i = 0; i < 10; i++) {
		r = fix((uint16_t)(i % 4), 100 + i, i + 1, 0, 7);
		fc_owner_apply(o, &r);
	}
	r = fix(50, 10, 1, 0, 8);
	fc_owner_apply(o, &r);
	cr_assert_eq(marked(o, 7, bits), 4, "players 0..3, once each");
	cr_assert_arr_eq(bits, first4, sizeof(bits));
	cr_assert_eq(marked(o, 8, bits), 1);
	cr_assert_arr_eq(bits, p50, sizeof(bits));
	/* A tick nobody touched is empty, not lost. */
	cr_assert_eq(marked(o, 9, bits), 0);
	/* An older fix does not dirty the player. */
	r = fix(50, 5, 2, 0, 9);
	cr_assert_eq(fc_owner_apply(o, &r), FC_APPLY_OLDER);
	cr_assert_eq(marked(o, 9, bits), 0);
	state_free(o);
}

Test(owner_state, reused_dirty_list_is_reported_lost)
{
	struct fc_owner_state *o = state_new(10);
	uint64_t bits[4];
	const uint64_t p1[4] = { 2, 0, 0, 0 };
	struct fc_fix_rec r = fix(1, 1, 1, 0, 3);

	fc_owner_apply(o, &r);
	r = fix(1, 2, 2, 0, 3 + FC_GRID_DIRTY_TICKS); /* the same list, a later tick */
	fc_owner_apply(o, &r);
	cr_assert_eq(marked(o, 3, bits), -1, "the reader must fall back to a scan");
	cr_assert_eq(marked(o, 3 + FC_GRID_DIRTY_TICKS, bits), 1);
	cr_assert_arr_eq(bits, p1, sizeof(bits));
	state_free(o);
}

/* TX marks the dirty players in its bitmap straight from the list: exactly the changed ones. */
Test(owner_state, dirty_mark_sets_the_bits_of_the_changed_players)
{
	struct fc_owner_state *o = state_new(200);
	uint64_t bits[4] = { 0 }, want[4] = { 0 };
	struct fc_fix_rec r;
	int32_t n = 0;

	for (uint32_t i = 0; i < 60; i++) {
		uint16_t p = (uint16_t)((i * 37) % 200);

		r = fix(p, 100 + i, i + 1, 0, 5);
		fc_owner_apply(o, &r);
		n += (want[p >> 6] & (UINT64_C(1) << (p & 63))) == 0;
		want[p >> 6] |= UINT64_C(1) << (p & 63);
	}
	cr_assert_eq(fc_owner_dirty_mark(o, 5, bits), n);
	cr_assert_arr_eq(bits, want, sizeof(bits));
	/* Empty for a tick nobody touched; -1 once the list was reused. */
	cr_assert_eq(fc_owner_dirty_mark(o, 6, bits), 0);
	r = fix(1, 1000, 1000, 0, 5 + FC_GRID_DIRTY_TICKS);
	fc_owner_apply(o, &r);
	cr_assert_eq(fc_owner_dirty_mark(o, 5, bits), -1);
	state_free(o);
}

/* Invariant 4: a reader spinning on a candidate never blocks the writer nor sees it torn. */
struct race {
	struct fc_owner_state *o;
	volatile int stop;
	uint64_t reads, torn;
};

static void *
reader(void *arg)
{
	struct race *rc = arg;

	while (!rc->stop) {
		struct fc_pos p;

		fc_owner_read(rc->o, 0, &p);
		/* The writer keeps x = seq * 3 and y = seq * 6 and meas = seq * 10. */
		if (p.x_mm != (int32_t)p.fix_seq * 3 || p.y_mm != p.x_mm * 2 ||
		    p.meas_ns != (uint64_t)p.fix_seq * 10)
			rc->torn++;
		rc->reads++;
	}
	return NULL;
}

Test(owner_state, readers_never_block_the_writer_nor_see_torn_state, .timeout = 60)
{
	struct race rc = { .o = state_new(1) };
	pthread_t t;
	const uint32_t writes = 2000000;

	cr_assert_eq(pthread_create(&t, NULL, reader, &rc), 0);
	for (uint32_t s = 1; s <= writes; s++) {
		struct fc_fix_rec r = fix(0, (uint64_t)s * 10, s, (int32_t)s * 3, 1);

		cr_assert_eq(fc_owner_apply(rc.o, &r), FC_APPLY_NEWER);
	}
	rc.stop = 1;
	pthread_join(t, NULL);
	cr_assert_eq(rc.torn, 0, "%lu torn reads of %lu", (unsigned long)rc.torn,
		     (unsigned long)rc.reads);
	cr_assert_gt(rc.reads, 0);
	state_free(rc.o);
}

Test(hist, buckets_bound_every_value_within_a_sixteenth)
{
	for (uint64_t v = 0; v < 100000; v += 7) {
		unsigned int b = fc_hist_bucket(v);

		cr_assert_leq(fc_hist_bucket_low(b), v);
		cr_assert_gt(fc_hist_bucket_low(b + 1), v);
		cr_assert_leq(fc_hist_bucket_low(b + 1) - fc_hist_bucket_low(b), v / 16 + 1);
	}
	cr_assert_lt(fc_hist_bucket(UINT64_MAX), FC_HIST_BUCKETS);
}

Test(hist, quantiles_never_understate)
{
	static struct fc_hist h, h2;

	for (uint64_t v = 1; v <= 1000; v++)
		fc_hist_add(&h, v);
	cr_assert_geq(fc_hist_quantile(&h, 0.5), 500);
	cr_assert_leq(fc_hist_quantile(&h, 0.5), 500 + 500 / 16 + 1);
	cr_assert_geq(fc_hist_quantile(&h, 0.999), 999);
	cr_assert_eq(fc_hist_quantile(&h, 1.0), 1000, "clamped to the max seen");
	fc_hist_add(&h2, 1000000);
	fc_hist_merge(&h2, &h);
	cr_assert_eq(h2.count, 1001);
	cr_assert_eq(h2.max, 1000000);
	cr_assert_eq(fc_hist_quantile(&(struct fc_hist){ 0 }, 0.5), 0);
}

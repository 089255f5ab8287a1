/* SPDX-License-Identifier: BSD-3-Clause */
/* Grid geometry and owner state allocation; see fc_grid.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include "fc_grid.h"

void
fc_geom_init(struct fc_geom *g, uint32_t width_mm, uint32_t height_mm, uint8_t cell_shift,
	     uint32_t n_owners)
{
	memset(g, 0, sizeof(*g));
	g->width_mm = width_mm;
	g->height_mm = height_mm;
	g->cell_shift = cell_shift;
	g->shard_shift = (uint8_t)(cell_shift + FC_GRID_SHARD_CELLS_LOG2);
	g->shards_x = ((width_mm - 1) >> g->shard_shift) + 1;
	g->shards_y = ((height_mm - 1) >> g->shard_shift) + 1;
	g->n_owners = n_owners;
}

int
fc_owner_state_init(struct fc_owner_state *o, uint32_t n_players, int socket)
{
	memset(o, 0, sizeof(*o));
	o->n_players = n_players;
	o->cand = rte_zmalloc_socket("fc_candidates", (size_t)n_players * sizeof(*o->cand),
				     RTE_CACHE_LINE_SIZE, socket);
	o->dirty_mem = rte_zmalloc_socket(
		"fc_dirty", (size_t)n_players * FC_GRID_DIRTY_TICKS * sizeof(uint16_t),
		RTE_CACHE_LINE_SIZE, socket);
	if (o->cand == NULL || o->dirty_mem == NULL) {
		fc_owner_state_free(o);
		return -ENOMEM;
	}
	for (uint32_t p = 0; p < n_players; p++)
		rte_seqcount_init(&o->cand[p].sc);
	for (unsigned int i = 0; i < FC_GRID_DIRTY_TICKS; i++) {
		rte_seqcount_init(&o->dirty[i].sc);
		/* Ticks start at 1: no list claims to hold a tick yet. */
		o->dirty[i].tick = UINT64_MAX;
		o->dirty[i].players = o->dirty_mem + (size_t)i * n_players;
	}
	return 0;
}

void
fc_owner_state_free(struct fc_owner_state *o)
{
	rte_free(o->cand);
	rte_free(o->dirty_mem);
	o->cand = NULL;
	o->dirty_mem = NULL;
}

int32_t
fc_owner_dirty_mark(const struct fc_owner_state *o, uint64_t tick, uint64_t *bits)
{
	const struct fc_dirty_list *d = &o->dirty[tick % FC_GRID_DIRTY_TICKS];
	uint32_t sn, n;
	uint64_t t;

	do {
		sn = rte_seqcount_read_begin(&d->sc);
		t = d->tick;
		n = __atomic_load_n(&d->n, __ATOMIC_ACQUIRE);
	} while (rte_seqcount_read_retry(&d->sc, sn));
	if (t != tick)
		return t == UINT64_MAX || t < tick ? 0 : -1; /* never written for tick: empty */
	/* Marked in place, not copied first: every entry ever written is one of this owner's
	 * players, so a torn read marks valid bits, and the caller marks everyone then. */
	for (uint32_t i = 0; i < n; i++) {
		uint16_t p = d->players[i];

		bits[p >> 6] |= UINT64_C(1) << (p & 63);
	}
	if (rte_seqcount_read_retry(&d->sc, sn))
		return -1;
	return (int32_t)n;
}

/* The shard column or row range a span [lo, hi] mm covers, clamped to the grid. */
static void
span(int64_t lo, int64_t hi, uint8_t shift, uint32_t n, uint32_t *a, uint32_t *b)
{
	lo = lo < 0 ? 0 : lo >> shift;
	hi = hi < 0 ? 0 : hi >> shift;
	*a = lo >= n ? n - 1 : (uint32_t)lo;
	*b = hi >= n ? n - 1 : (uint32_t)hi;
}

int
fc_disc_index_build(struct fc_disc_index *ix, const struct fc_geom *g, const int32_t *x,
		    const int32_t *y, const uint32_t *r, uint32_t n)
{
	uint32_t ns = fc_geom_n_shards(g), total = 0, *fill;

	memset(ix, 0, sizeof(*ix));
	ix->n_shards = ns;
	ix->first = calloc(ns + 1, sizeof(*ix->first));
	fill = calloc(ns, sizeof(*fill));
	if (ix->first == NULL || fill == NULL)
		goto nomem;
	/* Two passes: count each shard's discs, then place them (CSR). */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < n; i++) {
			uint32_t x0, x1, y0, y1;

			span((int64_t)x[i] - r[i], (int64_t)x[i] + r[i], g->shard_shift,
			     g->shards_x, &x0, &x1);
			span((int64_t)y[i] - r[i], (int64_t)y[i] + r[i], g->shard_shift,
			     g->shards_y, &y0, &y1);
			for (uint32_t sy = y0; sy <= y1; sy++) {
				for (uint32_t sx = x0; sx <= x1; sx++) {
					uint32_t s = sy * g->shards_x + sx;

					if (pass == 0) {
						ix->first[s + 1]++;
						total++;
						continue;
					}
					ix->disc[ix->first[s] + fill[s]++] = (struct fc_disc){
						.x_mm = x[i],
						.y_mm = y[i],
						.r2 = (uint64_t)r[i] * r[i],
						.clue_idx = i,
						.owner = fc_geom_owner_of_shard(
							g, fc_geom_shard_of(g, x[i], y[i])),
					};
				}
			}
		}
		if (pass == 0) {
			for (uint32_t s = 0; s < ns; s++)
				ix->first[s + 1] += ix->first[s];
			ix->disc = calloc(total ? total : 1, sizeof(*ix->disc));
			if (ix->disc == NULL)
				goto nomem;
		}
	}
	free(fill);
	return 0;
nomem:
	free(fill);
	fc_disc_index_free(ix);
	return -ENOMEM;
}

void
fc_disc_index_free(struct fc_disc_index *ix)
{
	free(ix->first);
	free(ix->disc);
	ix->first = NULL;
	ix->disc = NULL;
}

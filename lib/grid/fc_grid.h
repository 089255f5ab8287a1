/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The floor's grid and the state the shard owners keep.
 *
 * Geometry: the floor is cut into square cells of (1 << cell_shift) mm, and cells into shards of
 * 8 x 8 cells (as in the original engine). A shard is the unit of routing: every fix goes to the
 * owner of the shard it lands in. Shards are dealt to owners in vertical stripes, so neighbours
 * mostly share an owner and a walking player rarely changes lcore.
 *
 * State: each owner keeps, for every player, the newest fix it has applied (a "candidate"),
 * in an array allocated on the owner's NUMA node. A player walking across a stripe border has
 * candidates at two owners; readers take the newest (DESIGN invariant 2), so no owner ever
 * needs to hear from another. Each candidate is guarded by a sequence counter: the owner is its
 * only writer and never waits; readers (TX, telemetry) retry and never block it (invariant 4).
 *
 * Dirty sets: the owner lists, per tick, the players whose candidate changed, in a ring of
 * FC_GRID_DIRTY_TICKS lists; a reader that falls that far behind finds the list reused (its tick
 * stamp changed) and falls back to a full scan.
 */
#ifndef FC_GRID_H
#define FC_GRID_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_seqcount.h>

#define FC_GRID_SHARD_CELLS_LOG2 3u /* 8 x 8 cells a shard */
#define FC_GRID_DIRTY_TICKS      4u /* dirty lists kept per owner */

/* ---- the record every RX lcore sends every owner through their ring ---------------------- */

enum fc_rec_kind {
	FC_REC_FIX = 0,
	FC_REC_WATERMARK = 1, /* "all my records of ticks <= tick are before this one" */
	FC_REC_CLUE_FIX = 2,  /* a fix in a clue's disc, for the clue's home owner only */
};

struct fc_fix_rec {
	uint64_t meas_ns; /* measurement time, ns, on the gateway clock corrected to ours */
	uint64_t rx_tsc;  /* TSC when the RX lcore took the frame: latency to applied */
	uint64_t tick;    /* absolute tick the frame was received in (or the watermark) */
	int32_t x_mm;
	int32_t y_mm;
	int32_t z_mm;
	uint32_t fix_seq;
	uint16_t player;
	uint16_t err_mm;
	uint8_t quality;
	uint8_t flags; /* FC_FIX_F_* of the wire */
	uint8_t kind;  /* enum fc_rec_kind */
	uint8_t reserved;
};

static_assert(sizeof(struct fc_fix_rec) == 48, "ring element: keep it a multiple of 16");

/* ---- geometry ----------------------------------------------------------------------------- */

struct fc_geom {
	uint32_t width_mm;
	uint32_t height_mm;
	uint8_t cell_shift;
	uint8_t shard_shift; /* cell_shift + 3: a shard's side is 1 << shard_shift mm */
	uint32_t shards_x;
	uint32_t shards_y;
	uint32_t n_owners;
};

/* Sets up the geometry; floor sizes and cell_shift are those fc_config_load() accepted. */
void fc_geom_init(struct fc_geom *g, uint32_t width_mm, uint32_t height_mm, uint8_t cell_shift,
		  uint32_t n_owners);

static inline uint32_t
fc_geom_n_shards(const struct fc_geom *g)
{
	return g->shards_x * g->shards_y;
}

/* The shard a point lands in; points off the floor count as on its nearest edge. */
static inline uint32_t
fc_geom_shard_of(const struct fc_geom *g, int32_t x_mm, int32_t y_mm)
{
	uint32_t sx, sy;

	sx = x_mm <= 0 ? 0 : (uint32_t)x_mm >> g->shard_shift;
	sy = y_mm <= 0 ? 0 : (uint32_t)y_mm >> g->shard_shift;
	if (sx >= g->shards_x)
		sx = g->shards_x - 1;
	if (sy >= g->shards_y)
		sy = g->shards_y - 1;
	return sy * g->shards_x + sx;
}

/* The owner (0 .. n_owners - 1) of a shard: vertical stripes of whole shard columns. */
static inline uint32_t
fc_geom_owner_of_shard(const struct fc_geom *g, uint32_t shard)
{
	return (uint32_t)(((uint64_t)(shard % g->shards_x) * g->n_owners) / g->shards_x);
}

/* ---- clue discs: which owner must hear a fix besides its shard's ---------------------------- */

/*
 * A clue's claim disc, listed under every shard its bounding box touches. A clue has one home
 * owner, the owner of the shard holding its centre; a fix inside the disc but in a neighbour
 * shard owned by another lcore is routed to the home owner as well (DESIGN.md section 2).
 */
struct fc_disc {
	int32_t x_mm;
	int32_t y_mm;
	uint64_t r2;       /* radius squared, mm^2 */
	uint32_t clue_idx; /* in the layout */
	uint32_t owner;    /* the home owner */
};

struct fc_disc_index {
	uint32_t n_shards;
	uint32_t *first; /* n_shards + 1: shard s lists disc[first[s] .. first[s + 1]) */
	struct fc_disc *disc;
};

/*
 * Builds the index of n discs (centres x, y and radii r, mm) over the geometry g. Control path
 * (malloc). Returns 0 or -ENOMEM.
 */
int fc_disc_index_build(struct fc_disc_index *ix, const struct fc_geom *g, const int32_t *x,
			const int32_t *y, const uint32_t *r, uint32_t n);
void fc_disc_index_free(struct fc_disc_index *ix);

/* True if the point is inside (or on) the disc. */
static inline bool
fc_disc_contains(const struct fc_disc *d, int32_t x_mm, int32_t y_mm)
{
	int64_t dx = (int64_t)x_mm - d->x_mm, dy = (int64_t)y_mm - d->y_mm;

	return (uint64_t)(dx * dx + dy * dy) <= d->r2;
}

/* ---- per-owner player state -------------------------------------------------------------- */

struct fc_candidate {
	rte_seqcount_t sc;
	uint32_t fix_seq;
	uint64_t meas_ns; /* 0: this owner never had a fix of the player */
	int32_t x_mm;
	int32_t y_mm;
	int32_t z_mm;
	uint16_t err_mm;
	uint8_t quality;
	uint8_t flags;
	uint64_t dirty_tick; /* the last tick the candidate changed in (owner-private) */
};

static_assert(sizeof(struct fc_candidate) == 40, "candidate layout");

#define FC__IN_A_ROW(s, a, b, c)                                                                   \
	(offsetof(struct s, b) == offsetof(struct s, a) + sizeof(((struct s *)0)->a) &&            \
	 offsetof(struct s, c) == offsetof(struct s, b) + sizeof(((struct s *)0)->b))
static_assert(FC__IN_A_ROW(fc_candidate, x_mm, y_mm, z_mm) &&
		      FC__IN_A_ROW(fc_fix_rec, x_mm, y_mm, z_mm) &&
		      FC__IN_A_ROW(fc_candidate, err_mm, quality, flags) &&
		      FC__IN_A_ROW(fc_fix_rec, err_mm, quality, flags),
	      "fc_owner_apply() copies x..z and err_mm..flags in one piece each");

/* A plain copy of a candidate, as a reader gets it. */
struct fc_pos {
	uint64_t meas_ns; /* 0: none */
	int32_t x_mm;
	int32_t y_mm;
	int32_t z_mm;
	uint32_t fix_seq;
	uint16_t err_mm;
	uint8_t quality;
	uint8_t flags;
};

struct fc_dirty_list {
	rte_seqcount_t sc; /* guards tick and n against a reuse racing a reader */
	uint32_t n;
	uint64_t tick;
	uint16_t *players; /* n_players entries */
};

/* Outcome of applying one fix; counters in the owner's stats. */
enum fc_apply {
	FC_APPLY_NEWER = 0, /* became the candidate */
	FC_APPLY_OLDER,     /* older than the candidate: out-of-order arrival, ignored */
	FC_APPLY_DUPLICATE, /* the same fix (same fix_seq) heard again, e.g. by another gateway */
};

struct fc_owner_state {
	uint32_t n_players;
	struct fc_candidate *cand; /* n_players, on the owner's node */
	struct fc_dirty_list dirty[FC_GRID_DIRTY_TICKS];
	uint16_t *dirty_mem; /* backing store of the lists */
} __rte_cache_aligned;

/*
 * Allocates an owner's state for n_players on NUMA socket (rte_zmalloc_socket; SOCKET_ID_ANY
 * accepted). Returns 0 or -ENOMEM. Needs the EAL.
 */
int fc_owner_state_init(struct fc_owner_state *o, uint32_t n_players, int socket);
void fc_owner_state_free(struct fc_owner_state *o);

/*
 * Applies a fix record to the owner's state (the owner lcore only). The candidate is the fix
 * greatest by (measurement time, fix_seq): a pure function of the set of fixes, whatever their
 * arrival order (DESIGN invariant 2). A record no greater than the candidate is a DUPLICATE if
 * it carries the candidate's fix_seq (the same fix heard again) and OLDER otherwise. A greater
 * record that is the same fix (same fix_seq and position, heard by a gateway whose clock puts
 * it later) only moves the candidate's time forward: it is counted as a DUPLICATE and changes
 * nothing a subscriber sees, so the fix is applied once.
 */
static inline enum fc_apply
fc_owner_apply(struct fc_owner_state *o, const struct fc_fix_rec *r)
{
	/* The record's fields in locals: the stores below could alias them for the compiler,
	 * which would then load them again after each one. */
	const uint64_t meas_ns = r->meas_ns, tick = r->tick;
	const uint32_t fix_seq = r->fix_seq;
	const uint16_t player = r->player;
	struct fc_candidate *c = &o->cand[player];
	struct fc_dirty_list *d;
	uint32_t n;

	if (c->meas_ns != 0) {
		bool same_fix = fix_seq == c->fix_seq;

		if (meas_ns < c->meas_ns || (meas_ns == c->meas_ns && fix_seq <= c->fix_seq))
			return same_fix ? FC_APPLY_DUPLICATE : FC_APPLY_OLDER;
		if (same_fix && r->x_mm == c->x_mm && r->y_mm == c->y_mm && r->z_mm == c->z_mm) {
			rte_seqcount_write_begin(&c->sc);
			c->meas_ns = meas_ns;
			rte_seqcount_write_end(&c->sc);
			return FC_APPLY_DUPLICATE;
		}
	}
	rte_seqcount_write_begin(&c->sc);
	c->fix_seq = fix_seq;
	c->meas_ns = meas_ns;
	/* x, y, z and err_mm, quality, flags sit in a row in both structs: two copies, not six
	 * (the static_assert after struct fc_candidate). */
	memcpy(&c->x_mm, &r->x_mm, 3 * sizeof(c->x_mm));
	memcpy(&c->err_mm, &r->err_mm, sizeof(c->err_mm) + sizeof(c->quality) + sizeof(c->flags));
	rte_seqcount_write_end(&c->sc);

	if (c->dirty_tick != tick) {
		c->dirty_tick = tick;
		d = &o->dirty[tick % FC_GRID_DIRTY_TICKS];
		if (d->tick != tick) {
			rte_seqcount_write_begin(&d->sc);
			d->tick = tick;
			d->n = 0;
			rte_seqcount_write_end(&d->sc);
		}
		n = d->n;
		d->players[n] = player;
		/* Publish the entry before the count that makes it visible. */
		__atomic_store_n(&d->n, n + 1, __ATOMIC_RELEASE);
	}
	return FC_APPLY_NEWER;
}

/* Reads an owner's candidate of player p consistently (any lcore). */
static inline void
fc_owner_read(const struct fc_owner_state *o, uint32_t p, struct fc_pos *out)
{
	const struct fc_candidate *c = &o->cand[p];
	uint32_t sn;

	do {
		sn = rte_seqcount_read_begin(&c->sc);
		out->meas_ns = c->meas_ns;
		out->x_mm = c->x_mm;
		out->y_mm = c->y_mm;
		out->z_mm = c->z_mm;
		out->fix_seq = c->fix_seq;
		out->err_mm = c->err_mm;
		out->quality = c->quality;
		out->flags = c->flags;
	} while (rte_seqcount_read_retry(&c->sc, sn));
}

/* True if a is newer than b under the owners' rule (time, then fix_seq). */
static inline bool
fc_pos_newer(const struct fc_pos *a, const struct fc_pos *b)
{
	return a->meas_ns > b->meas_ns || (a->meas_ns == b->meas_ns && a->fix_seq > b->fix_seq);
}

/*
 * Marks the players of an owner's dirty list for tick in the bitmap bits (bit p % 64 of word
 * p / 64, n_players bits) and returns how many it held, or -1 if the list no longer holds that
 * tick (the reader fell behind), in which case some of its bits may be set and the caller is
 * expected to mark every player (a full scan). Only valid once the owner has completed the tick.
 */
int32_t fc_owner_dirty_mark(const struct fc_owner_state *o, uint64_t tick, uint64_t *bits);

#endif /* FC_GRID_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/* The shard-owner loop; see fc_owner.h. */
#include <string.h>

#include <rte_cycles.h>

#include "fc_owner.h"

/* Presents a fix to the clues of its shard that this owner is home to (the game). */
static inline void
to_clues(struct fc_owner *o, const struct fc_fix_rec *rec)
{
	const struct fc_disc_index *ix = o->discs;
	uint32_t shard = fc_geom_shard_of(o->geom, rec->x_mm, rec->y_mm);
	struct fc_game_fix f;
	bool checked = false, plausible = true;

	for (uint32_t k = ix->first[shard]; k < ix->first[shard + 1]; k++) {
		const struct fc_disc *d = &ix->disc[k];
		enum fc_arbiter_outcome out;

		if (d->owner != o->index || !fc_disc_contains(d, rec->x_mm, rec->y_mm))
			continue;
		if (!checked) {
			f = (struct fc_game_fix){
				.meas_ns = rec->meas_ns,
				.x_mm = rec->x_mm,
				.y_mm = rec->y_mm,
				.fix_seq = rec->fix_seq,
				.player = rec->player,
				.team = o->team[rec->player],
				.err_mm = rec->err_mm,
			};
			plausible = fc_arbiter_plausible(o->arb, &f);
			o->st.implausible += !plausible;
			checked = true;
		}
		o->st.clue_fixes++;
		out = fc_arbiter_fix(o->arb, d->clue_idx, &f, plausible);
		o->st.qualifying +=
			out == FC_ARB_OPENED || out == FC_ARB_ADDED || out == FC_ARB_IMPROVED;
	}
}

/*
 * The clues whose settle window ends with tick `done` (all of them at the end of input) are
 * decided and handed to TX before `done` is published: TX emits a tick only once every owner
 * has completed it, so a claim is always in the packets of the tick it was decided in. A full
 * ring holds `done` back (counted) rather than lose an award. Returns false while held.
 */
static bool
decide(struct fc_owner *o, uint64_t done)
{
	const uint64_t until = done == FC_TICK_NONE ? UINT64_MAX : (done + 1) * o->sync->tick_ns;
	struct fc_game_claim c[FC_OWNER_CLAIMS];

	for (;;) {
		unsigned int n, k;

		while (o->n_held > 0) {
			if (rte_ring_enqueue_elem(o->claims, &o->held[0], sizeof(o->held[0])) !=
			    0) {
				o->st.claims_held++;
				return false;
			}
			memmove(&o->held[0], &o->held[1], --o->n_held * sizeof(o->held[0]));
		}
		n = fc_arbiter_decide_until(o->arb, until, c, FC_OWNER_CLAIMS);
		for (k = 0; k < n; k++) {
			o->held[k].tick = done;
			o->held[k].claim = c[k];
		}
		o->n_held = n;
		o->st.claims += n;
		if (n == 0)
			return true;
	}
}

bool
fc_owner_poll(struct fc_owner *o)
{
	struct fc_fix_rec recs[FC_OWNER_BURST];
	bool busy = false;
	uint64_t done = FC_TICK_NONE;

	for (uint32_t r = 0; r < o->n_rings; r++) {
		/*
		 * Drain up to FC_OWNER_MAX_POLL records a ring, in bursts: an RX burst of 32 full
		 * frames is 1344 records, and an owner sharing its lcore with that RX must keep up
		 * with it in one turn of the loop, or the ring fills.
		 */
		for (unsigned int k = 0; k < FC_OWNER_MAX_POLL / FC_OWNER_BURST; k++) {
			unsigned int n = rte_ring_dequeue_burst_elem(
				o->ring[r], recs, sizeof(recs[0]), FC_OWNER_BURST, NULL);
			uint64_t now;

			if (n == 0)
				break;
			busy = true;
			now = rte_rdtsc();
			for (unsigned int i = 0; i < n; i++) {
				const struct fc_fix_rec *rec = &recs[i];

				if (rec->kind == FC_REC_WATERMARK) {
					o->wm[r] = rec->tick;
					o->st.watermarks++;
					continue;
				}
				if (o->arb != NULL)
					to_clues(o, rec);
				if (rec->kind == FC_REC_CLUE_FIX)
					continue;
				o->st.records++;
				switch (fc_owner_apply(&o->state, rec)) {
				case FC_APPLY_NEWER:
					o->st.applied++;
					break;
				case FC_APPLY_OLDER:
					o->st.older++;
					break;
				case FC_APPLY_DUPLICATE:
					o->st.duplicates++;
					break;
				}
				fc_hist_add(&o->st.lat_tsc, now - rec->rx_tsc);
			}
			if (n < FC_OWNER_BURST)
				break;
		}
		if (o->wm[r] < done)
			done = o->wm[r];
	}
	if (done != o->done && (o->arb == NULL || decide(o, done))) {
		o->done = done;
		fc_tick_store(&o->sync->owner[o->index].done, done);
	}
	return busy;
}

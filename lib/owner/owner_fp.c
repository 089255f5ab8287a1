/* SPDX-License-Identifier: BSD-3-Clause */
/* The shard-owner loop; see fc_owner.h. */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>

#include "fc_owner.h"

/*
 * The newest plausible fix of player the other owners had seen by the end of tick - 1 (NULL if
 * none): each one's newest published slot of an earlier tick (fc_owner_ref).
 */
static const struct fc_game_ref *
peers_seen(const struct fc_owner *o, uint16_t player, uint64_t tick, struct fc_game_ref *out)
{
	out->meas_ns = 0;
	for (uint32_t p = 0; p < o->n_peers; p++) {
		const struct fc_owner_ref *e = &o->peer[p][player];
		struct fc_game_ref r;
		uint32_t sn;

		do {
			bool a, b;

			sn = rte_seqcount_read_begin(&e->sc);
			a = e->at[0].tick < tick;
			b = e->at[1].tick < tick;
			if (a && (!b || e->at[0].tick >= e->at[1].tick))
				r = e->at[0].r;
			else if (b)
				r = e->at[1].r;
			else
				r.meas_ns = 0;
		} while (rte_seqcount_read_retry(&e->sc, sn));
		if (r.meas_ns > out->meas_ns)
			*out = r;
	}
	return out->meas_ns != 0 ? out : NULL;
}

/*
 * Publishes plausible fix f of a record of tick for the other owners, if it is the newest this
 * owner has seen of its player: into the slot of this tick, or else over the older slot.
 */
static void
ref_publish(struct fc_owner *o, const struct fc_game_fix *f, uint64_t tick)
{
	struct fc_owner_ref *e = &o->refs[f->player];
	unsigned int k = e->at[0].tick == tick   ? 0
			 : e->at[1].tick == tick ? 1
						 : (e->at[0].tick <= e->at[1].tick ? 0 : 1);
	const struct fc_game_ref *newest = e->at[k].tick == tick ? &e->at[k].r : &e->at[k ^ 1].r;

	if (newest->meas_ns >= f->meas_ns)
		return; /* the newest is already there: readers of later ticks find it */
	rte_seqcount_write_begin(&e->sc);
	e->at[k].tick = tick;
	e->at[k].r = (struct fc_game_ref){
		.meas_ns = f->meas_ns, .x_mm = f->x_mm, .y_mm = f->y_mm, .err_mm = f->err_mm
	};
	rte_seqcount_write_end(&e->sc);
}

/*
 * The game's view of a fix (docs/game.md 4): every fix of the owner's shards, near a clue or
 * not, is judged against the player's plausibility reference and keeps it fresh, so that a
 * player who jumps into a clue's disc is judged against where they really were last, not
 * against their last visit to a clue. With several owners the reference is the newer of this
 * owner's and the others' as of the previous tick, so a jump from another owner's stripe is
 * judged as well. Then, while the round runs, the fix goes to the clues of its shard that this
 * owner is home to.
 */
static inline void
to_game(struct fc_owner *o, const struct fc_fix_rec *rec)
{
	const struct fc_disc_index *ix = o->discs;
	uint32_t shard;
	struct fc_game_fix f = {
		.meas_ns = rec->meas_ns,
		.x_mm = rec->x_mm,
		.y_mm = rec->y_mm,
		.fix_seq = rec->fix_seq,
		.player = rec->player,
		.team = o->team[rec->player],
		.err_mm = rec->err_mm,
	};
	struct fc_game_ref seen;
	const bool shared = o->refs != NULL && rec->player < o->n_refs;
	const bool plausible = fc_arbiter_plausible_seen(
		o->arb, &f, shared ? peers_seen(o, rec->player, rec->tick, &seen) : NULL);

	if (plausible && shared)
		ref_publish(o, &f, rec->tick);
	o->st.implausible += !plausible;
	if (!o->round_running)
		return;
	shard = fc_geom_shard_of(o->geom, rec->x_mm, rec->y_mm);
	for (uint32_t k = ix->first[shard]; k < ix->first[shard + 1]; k++) {
		const struct fc_disc *d = &ix->disc[k];
		enum fc_arbiter_outcome out;

		if (d->owner != o->index || !fc_disc_contains(d, rec->x_mm, rec->y_mm))
			continue;
		o->st.clue_fixes++;
		out = fc_arbiter_fix(o->arb, d->clue_idx, &f, plausible);
		o->st.qualifying +=
			out == FC_ARB_OPENED || out == FC_ARB_ADDED || out == FC_ARB_IMPROVED;
	}
}

/*
 * Makes a held claim durable-to-be: appends its AWARD to the journal once. Returns 0, or
 * -ENOBUFS (try again next poll), or -EEXIST when the journal already has this award (a
 * restarted floord deciding it again): it is dropped, never announced twice.
 */
static int
journal_claim(struct fc_owner *o, struct fc_claim_ev *ev)
{
	const struct fc_game_claim *c = &ev->claim;
	struct fc_journal_fix fixes[FC_GAME_MAX_LISTED];
	struct fc_journal_rec rec = { .type = FC_JOURNAL_AWARD };
	int rc;

	if (o->journal == NULL || ev->journaled || ev->reopen)
		return 0;
	for (unsigned int i = 0; i < c->contenders_listed; i++) {
		const struct fc_game_contender *k = &c->contenders[i];

		fixes[i] = (struct fc_journal_fix){
			.player = k->player,
			.flags = k->flags,
			.meas_time_ns = k->meas_time_ns,
			.distance_mm = k->distance_mm,
			.err_mm = 0xFFFF,
			.fix_seq = c->fix_seq[i],
		};
	}
	rec.award = (struct fc_journal_award){
		.round_id = o->round_id,
		.clue_id = c->clue_id,
		.points = c->points,
		.winner = c->winner,
		.winner_team = c->winner_team,
		.meas_time_ns = c->meas_time_ns,
		.decided_ns = c->deadline_ns,
		.contenders_total = c->contenders_total,
		.n_fixes = c->contenders_listed,
		.respawn = o->respawns[c->clue_idx],
		.fixes = fixes,
	};
	rc = fc_journal_append(o->journal, o->index, &rec, &ev->ticket);
	if (rc == 0) {
		ev->journaled = 1;
		ev->producer = o->index;
		o->respawns[c->clue_idx]++;
	} else if (rc == -EEXIST) {
		o->respawns[c->clue_idx]++;
	}
	return rc;
}

/*
 * Respawning clues whose time came by `until` reopen (docs/game.md section 5.5); each goes to
 * TX as a reopen event, for its CLUE_STATE. Fills o->held from 0; returns how many.
 */
static unsigned int
reopen(struct fc_owner *o, uint64_t until, uint64_t tick)
{
	uint32_t idx[FC_OWNER_CLAIMS];
	unsigned int n = fc_arbiter_reopen_until(o->arb, until, idx, FC_OWNER_CLAIMS);

	for (unsigned int k = 0; k < n; k++) {
		struct fc_arbiter_clue_info info;

		fc_arbiter_clue_info(o->arb, idx[k], &info);
		o->held[k] = (struct fc_claim_ev){ .tick = tick,
						   .layout_gen = o->layout_gen,
						   .reopen = 1,
						   .round_id = o->round_id };
		o->held[k].claim.clue_idx = idx[k];
		o->held[k].claim.clue_id = o->layout->clues[idx[k]].clue_id;
		o->held[k].claim.deadline_ns = info.open_ns;
	}
	o->st.reopened += n;
	return n;
}

/*
 * The end of the session's last tick on the measurement clock: every RX published its last tick
 * before the final watermark, which the caller has seen on each of its rings (fc_tick.h).
 */
static uint64_t
input_end_ns(const struct fc_owner *o)
{
	uint64_t end = 0;

	for (uint32_t r = 0; r < o->sync->n_rx; r++) {
		uint64_t t;

		if (!fc_tick_load32(&o->sync->rx[r].eof))
			continue;
		t = o->sync->rx[r].last_tick;
		if (t != FC_TICK_NONE && t + 1 > end)
			end = t + 1;
	}
	return end * o->sync->tick_ns;
}

/*
 * The clues whose settle window ended by `until` (ns) are decided, journaled and handed to TX
 * as claims of tick `tick`. At a tick's end (until = its end; all of them at the end of input)
 * this runs before the tick is published as done: TX emits a tick only once every owner has
 * completed it, so a claim is always in the packets of the tick it was decided in. asap
 * (fc_tick.h) also runs it between ticks, until the RX clocks. A full ring or journal queue
 * holds the claim (and the tick) back, counted, rather than lose an award. Returns false while
 * held.
 */
static bool
decide(struct fc_owner *o, uint64_t until, uint64_t tick)
{
	struct fc_game_claim c[FC_OWNER_CLAIMS];

	for (;;) {
		unsigned int n, k;

		while (o->n_held > 0) {
			int rc = journal_claim(o, &o->held[0]);

			if (rc == -EEXIST) {
				o->st.already_awarded++;
			} else if (rc != 0) {
				o->st.journal_full++;
				return false;
			} else if (rte_ring_enqueue_elem(o->claims, &o->held[0],
							 sizeof(o->held[0])) != 0) {
				o->st.claims_held++;
				return false;
			}
			memmove(&o->held[0], &o->held[1], --o->n_held * sizeof(o->held[0]));
		}
		/*
		 * Reopenings first: a clue an offer reopened (fc_arbiter_fix()) may be decided
		 * again in this call, and its CLUE_STATE must reach TX before that claim. At the
		 * end of input every settling clue is decided (until = UINT64_MAX), but a clue
		 * reopens only if its time came within the session: one whose respawn falls after
		 * the last tick stays claimed in the final state.
		 */
		n = reopen(o, until == UINT64_MAX ? input_end_ns(o) : until, tick);
		if (n == 0) {
			n = fc_arbiter_decide_until(o->arb, until, c, FC_OWNER_CLAIMS);
			for (k = 0; k < n; k++) {
				o->held[k] = (struct fc_claim_ev){ .tick = tick,
								   .layout_gen = o->layout_gen,
								   .round_id = o->round_id };
				o->held[k].claim = c[k];
			}
			o->st.claims += n;
		}
		o->n_held = n;
		if (n == 0)
			return true;
	}
}

/*
 * The round as TX published it (floorctl's commands): a new round resets the arbiter, whose
 * clues open at the round's start; a paused or ended round decides nothing.
 */
static void
round_check(struct fc_owner *o)
{
	uint32_t sn, id, state;
	uint64_t open_ns, layout;
	void *game;

	if (rte_seqcount_read_begin(&o->sync->round.sc) == o->round_sn)
		return;
	do {
		sn = rte_seqcount_read_begin(&o->sync->round.sc);
		id = o->sync->round.id;
		state = o->sync->round.state;
		open_ns = o->sync->round.open_ns;
		layout = o->sync->round.layout_id;
		game = o->sync->round.game[o->index];
	} while (rte_seqcount_read_retry(&o->sync->round.sc, sn));
	o->round_sn = sn;
	if (layout != o->layout_gen && game != NULL) {
		/* floorctl's load layout: this round is played on a new layout (fc_tick.h) */
		const struct fc_owner_game *g = game;

		o->arb = g->arb;
		o->layout = g->layout;
		o->discs = g->discs;
		o->respawns = g->respawns;
		o->layout_gen = layout;
		fc_tick_store(&o->sync->owner[o->index].used_layout, layout);
		o->round_id = 0; /* a new layout only ever comes with a new round: reset below */
	}
	if (id != o->round_id) {
		fc_arbiter_reset(o->arb, open_ns);
		memset(o->respawns, 0, fc_arbiter_n_clues(o->arb) * sizeof(*o->respawns));
		o->round_id = id;
	}
	o->round_running = state == FC_ROUND_RUNNING;
}

/*
 * A burst holds records of a tick past the one the round is known for: TX may have started a
 * round (or a layout) for it since the poll began. What TX published up to its emitted tick T'
 * is final for every tick <= T' + 1 (fc_tick.h, "Swaps"), so the round is read after T'.
 */
static void
tick_check(struct fc_owner *o)
{
	o->checked_tick = fc_tick_load(&o->sync->tx.done) + 1;
	if (o->arb != NULL)
		round_check(o);
}

/*
 * Applies n records of ring r, read in place in the ring's memory (zero-copy dequeue), all
 * dequeued at TSC now. The latency histogram gets one sample per fix, as fc_hist_add() would
 * give it, computed once per run of records from the same RX burst: they share rx_tsc, so they
 * share the value and its bucket; the count is added once.
 */
static inline void
apply_run(struct fc_owner *o, uint32_t r, const struct fc_fix_rec *rec, unsigned int n,
	  uint64_t now)
{
	struct fc_hist *h = &o->st.lat_tsc;
	/* Unlike rec[0]'s, so the first fix computes its value (rec[0] is a fix, or a watermark
	 * with rx_tsc 0, and a TSC reaches ~0 after two centuries). */
	uint64_t last_tsc = ~rec->rx_tsc, max = h->max;
	unsigned int bucket = 0, others = 0;

	for (unsigned int i = 0; i < n; i++, rec++) {
		if (unlikely(rec->kind != FC_REC_FIX)) {
			others++;
			if (rec->kind == FC_REC_WATERMARK) {
				o->wm[r] = rec->tick;
				o->st.watermarks++;
				continue;
			}
			if (o->arb != NULL)
				to_game(o, rec);
			continue; /* FC_REC_CLUE_FIX: for the game only */
		}
		if (o->arb != NULL)
			to_game(o, rec);
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
		if (rec->rx_tsc != last_tsc) {
			uint64_t v = now - rec->rx_tsc;

			last_tsc = rec->rx_tsc;
			bucket = fc_hist_bucket(v);
			if (v > max)
				max = v;
		}
		h->b[bucket]++;
	}
	o->st.records += n - others;
	h->count += n - others;
	h->max = max;
}

bool
fc_owner_poll(struct fc_owner *o)
{
	bool busy = false, drained = true;
	uint64_t done = FC_TICK_NONE, clock = 0;

	if (o->arb != NULL) {
		round_check(o);
		/* Read before draining: what the RX lcores had received by then is in the rings. */
		if (o->sync->asap)
			clock = fc_tick_rx_clock(o->sync);
	}

	for (uint32_t r = 0; r < o->n_rings; r++) {
		/*
		 * Drain up to FC_OWNER_MAX_POLL records a ring, in bursts: an RX burst of 32 full
		 * frames is 1344 records, and an owner sharing its lcore with that RX must keep up
		 * with it in one turn of the loop, or the ring fills. The records are read where
		 * they are in the ring (zero-copy: the ring is single-consumer), and released after.
		 */
		for (unsigned int k = 0;; k++) {
			struct rte_ring_zc_data zcd;
			const struct fc_fix_rec *last;
			unsigned int n;
			uint64_t now;

			if (k == FC_OWNER_MAX_POLL / FC_OWNER_BURST) {
				/* More next poll: this poll's RX clock may be past them. */
				drained = false;
				break;
			}
			n = rte_ring_dequeue_zc_burst_elem_start(
				o->ring[r], sizeof(struct fc_fix_rec), FC_OWNER_BURST, &zcd, NULL);
			if (n == 0)
				break;
			last = n > zcd.n1 ? (const struct fc_fix_rec *)zcd.ptr2 + (n - zcd.n1 - 1)
					  : (const struct fc_fix_rec *)zcd.ptr1 + (n - 1);
			if (unlikely(last->tick > o->checked_tick))
				tick_check(o); /* a ring's records are in tick order */
			busy = true;
			now = rte_rdtsc();
			apply_run(o, r, zcd.ptr1, zcd.n1, now);
			if (n > zcd.n1)
				apply_run(o, r, zcd.ptr2, n - zcd.n1, now);
			rte_ring_dequeue_zc_elem_finish(o->ring[r], n);
			if (n < FC_OWNER_BURST)
				break;
		}
		if (o->wm[r] < done)
			done = o->wm[r];
	}
	if (done != o->done &&
	    (o->arb == NULL ||
	     decide(o, done == FC_TICK_NONE ? UINT64_MAX : (done + 1) * o->sync->tick_ns, done))) {
		o->done = done;
		fc_tick_store(&o->sync->owner[o->index].done, done);
	} else if (clock != 0 && drained && o->done != FC_TICK_NONE) {
		decide(o, clock, o->done + 1); /* asap: claims that need not wait for the tick */
	}
	return busy;
}

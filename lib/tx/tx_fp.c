/* SPDX-License-Identifier: BSD-3-Clause */
/* The TX loop: tick deltas, heartbeats, snapshot loop, end of session; see fc_tx.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "fc_downlink.h"
#include "fc_rx.h"
#include "fc_tx.h"

static void
send_out(struct fc_tx *tx)
{
	uint16_t sent = 0;

	for (unsigned int a = 0; a < FC_TX_RETRIES && sent < tx->n_out; a++) {
		if (a > 0)
			tx->st.tx_retries++;
		sent += rte_eth_tx_burst(tx->port, tx->queue, tx->out + sent, tx->n_out - sent);
	}
	if (sent < tx->n_out) {
		tx->st.tx_drops += tx->n_out - sent;
		rte_pktmbuf_free_bulk(tx->out + sent, tx->n_out - sent);
	}
	tx->n_out = 0;
	/* Claim latency (asap): from the end of the settle window on floord's clock to the NIC.
	 * A claim decided before its window ended (the end of input forces them) is not one. */
	if (tx->n_timing > 0) {
		const uint64_t now = rte_rdtsc();

		for (uint32_t i = 0; i < tx->n_timing; i++) {
			uint64_t at = fc_tick_clock_tsc(tx->sync, tx->timing_ns[i]);

			if (at != 0 && now >= at)
				fc_hist_add(&tx->st.claim_tsc, now - at);
		}
		tx->n_timing = 0;
	}
}

/* A packet being built in an mbuf. */
struct pkt {
	struct rte_mbuf *m;
	struct fc_dl_builder b;
};

static bool
pkt_begin(struct fc_tx *tx, struct pkt *p, uint8_t chan, uint64_t tick, uint64_t send_ns)
{
	struct fc_dl_hdr h = {
		.session_id = tx->session_id,
		.packet_seq = tx->pkt_seq[chan],
		.send_time_ns = send_ns,
		.first_event_seq = tx->next_event_seq,
		.tick = tx->first == FC_TICK_NONE ? 0 : (uint32_t)(tick - tx->first + 1),
		.channel_id = chan,
	};

	p->m = rte_pktmbuf_alloc(tx->pool);
	if (p->m == NULL) {
		tx->st.alloc_fail++;
		return false;
	}
	fc_dl_begin(&p->b, rte_pktmbuf_mtod(p->m, uint8_t *) + FC_PKT_HDR_LEN,
		    rte_pktmbuf_tailroom(p->m) - FC_PKT_HDR_LEN, &h);
	return true;
}

static void
pkt_send(struct fc_tx *tx, struct pkt *p, uint8_t chan, size_t len)
{
	uint8_t *f = rte_pktmbuf_mtod(p->m, uint8_t *);

	fc_pkt_write_headers(f, &tx->tmpl, NULL, tx->tmpl.group_ip, tx->tmpl.group_port,
			     (uint16_t)len);
	p->m->data_len = (uint16_t)(FC_PKT_HDR_LEN + len);
	p->m->pkt_len = p->m->data_len;
	tx->pkt_seq[chan]++;
	tx->st.packets++;
	tx->st.bytes += p->m->pkt_len;
	tx->out[tx->n_out++] = p->m;
	p->m = NULL;
	if (tx->n_out == FC_TX_MAX_BATCH)
		send_out(tx);
}

/*
 * The newest candidate of player p across owners: best->meas_ns 0 if none has one. Owner 0's
 * candidate is read straight into *best (a candidate never set is all zeros, and one with
 * meas_ns 0 counts as none, so starting from it or from zero picks the same), then the others
 * replace it only when newer.
 */
static inline void
merged(const struct fc_tx *tx, uint32_t p, struct fc_pos *best)
{
	fc_owner_read(tx->owner[0], p, best);
	for (uint32_t o = 1; o < tx->n_owners; o++) {
		struct fc_pos c;

		fc_owner_read(tx->owner[o], p, &c);
		if (c.meas_ns != 0 && (best->meas_ns == 0 || fc_pos_newer(&c, best)))
			*best = c;
	}
}

/*
 * docs/protocol.md POSITIONS: nearest cm, halves up, clamped to 0 .. 65535. A negative sum
 * clamps to 0 whatever its rounding, so only non-negative values are divided (unsigned, by a
 * constant: a multiply).
 */
static inline uint16_t
to_cm(int32_t mm)
{
	int64_t a = (int64_t)mm + 5;
	uint32_t cm;

	if (a < 0)
		return 0;
	cm = (uint32_t)a / 10u; /* a <= INT32_MAX + 5 < 2^32 */
	return (uint16_t)(cm > UINT16_MAX ? UINT16_MAX : cm);
}

/* Nearest dm, halves up (towards -inf for negatives), clamped to -128 .. 127; 0 without z. */
static inline int8_t
to_dm(int32_t mm, uint8_t status)
{
	int64_t a = (int64_t)mm + 50, dm;

	if (status & FC_POS_S_NO_Z)
		return 0;
	/* |a| + 99 < 2^32: 32-bit unsigned division by a constant. */
	dm = a >= 0 ? (int64_t)((uint32_t)a / 100u) : -(int64_t)((uint32_t)(-a + 99) / 100u);
	return (int8_t)(dm < -128 ? -128 : dm > 127 ? 127 : dm);
}

/*
 * Marks the players to look at in tick T in the want bitmap: the owners' dirty sets and this
 * tick's refresh share (or everyone, if a dirty set was lost). Walking the bitmap then visits
 * them in player order, which the wire needs: dirty sets come in arrival order.
 */
static void
collect(struct fc_tx *tx, uint64_t tick)
{
	uint32_t r = (uint32_t)((tick - tx->first) % tx->refresh_ticks);

	for (uint32_t o = 0; o < tx->n_owners; o++) {
		if (fc_owner_dirty_mark(tx->owner[o], tick, tx->want) < 0) {
			tx->st.full_scans++;
			memset(tx->want, 0xFF, tx->want_words * sizeof(uint64_t));
			return;
		}
	}
	for (uint32_t p = r; p < tx->n_players; p += tx->refresh_ticks)
		tx->want[p >> 6] |= UINT64_C(1) << (p & 63);
}

/*
 * Sends player pl's position c with status (it moved past the dead band, changed status, or is
 * due for its refresh) and remembers it as sent. Returns false if no mbuf could be had (the
 * rest of the tick is skipped; counted).
 */
static bool
send_position(struct fc_tx *tx, struct pkt *p, uint32_t pl, const struct fc_pos *c, uint8_t status,
	      uint64_t tick, uint64_t send_ns)
{
	struct fc_tx_player *s = &tx->sent[pl];
	struct fc_dl_position dp;

	s->x_mm = c->x_mm;
	s->y_mm = c->y_mm;
	s->z_mm = c->z_mm;
	s->status = status;

	dp.player = (uint16_t)pl;
	dp.x_cm = to_cm(c->x_mm);
	dp.y_cm = to_cm(c->y_mm);
	dp.z_dm = to_dm(c->z_mm, status);
	dp.status = status;
	if (p->m == NULL || fc_dl_add_position(&p->b, &dp) != 0) {
		if (p->m != NULL)
			pkt_send(tx, p, FC_DL_CHAN_INCREMENTAL, fc_dl_finish(&p->b));
		if (!pkt_begin(tx, p, FC_DL_CHAN_INCREMENTAL, tick, send_ns))
			return false;
		fc_dl_add_position(&p->b, &dp);
	}
	tx->st.positions++;
	return true;
}

/*
 * The players marked in the want bitmap, in player order: each one's newest candidate is sent
 * if it moved past the dead band, changed status, or is due for its refresh. The loop's
 * constants are locals the compiler keeps in registers: the candidate reads' barriers
 * (rte_smp_rmb(), a compiler barrier on x86) would otherwise reload them from *tx every visit.
 */
static void
emit_positions(struct fc_tx *tx, uint64_t tick, uint64_t send_ns, bool sent_events)
{
	/* send_ns - meas_ns > stale_ns, for meas_ns < send_ns, is meas_ns < send_ns - stale_ns. */
	const uint64_t stale_before = send_ns > tx->stale_ns ? send_ns - tx->stale_ns : 0;
	const uint64_t dead_band_sq = tx->dead_band_sq;
	const uint32_t refresh_ticks = tx->refresh_ticks;
	const uint32_t r = (uint32_t)((tick - tx->first) % refresh_ticks);
	const bool one_owner = tx->n_owners == 1;
	const struct fc_owner_state *const owner0 = tx->owner[0];
	const struct fc_tx_player *const sent = tx->sent;
	uint64_t *const want = tx->want;
	const uint32_t words = tx->want_words, n_players = tx->n_players;
	struct pkt p = { .m = NULL };
	bool any = false, ok = true;

	collect(tx, tick);
	/* Bits past the last player (a full scan sets whole words) are not players. */
	if (n_players % 64 != 0)
		want[words - 1] &= (UINT64_C(1) << (n_players % 64)) - 1;
	for (uint32_t w = 0; w < words && ok; w++) {
		uint64_t bits = want[w];

		want[w] = 0;
		while (bits != 0 && ok) {
			const uint32_t pl = w * 64 + (uint32_t)__builtin_ctzll(bits);
			const struct fc_tx_player *s = &sent[pl];
			struct fc_pos c;
			uint8_t status;
			int64_t dx, dy, dz;

			bits &= bits - 1;
			if (one_owner)
				fc_owner_read(owner0, pl, &c);
			else
				merged(tx, pl, &c);
			if (c.meas_ns == 0)
				continue;
			status = c.meas_ns < stale_before ? FC_POS_S_STALE : FC_POS_S_ACTIVE;
			if (c.flags & FC_FIX_F_NO_Z)
				status |= FC_POS_S_NO_Z;
			dx = (int64_t)c.x_mm - s->x_mm;
			dy = (int64_t)c.y_mm - s->y_mm;
			dz = (int64_t)c.z_mm - s->z_mm;
			if (s->status == status &&
			    (uint64_t)(dx * dx + dy * dy + dz * dz) <= dead_band_sq &&
			    pl % refresh_ticks != r)
				continue;
			ok = send_position(tx, &p, pl, &c, status, tick, send_ns);
			any |= ok;
		}
	}
	if (!ok) /* no mbuf: the rest of the tick is skipped, its marks cleared */
		memset(want, 0, words * sizeof(*want));
	if (p.m != NULL) {
		pkt_send(tx, &p, FC_DL_CHAN_INCREMENTAL, fc_dl_finish(&p.b));
	} else if (!any && !sent_events &&
		   pkt_begin(tx, &p, FC_DL_CHAN_INCREMENTAL, tick, send_ns)) {
		tx->st.heartbeats++;
		pkt_send(tx, &p, FC_DL_CHAN_INCREMENTAL, fc_dl_finish(&p.b));
	}
}

/*
 * The snapshot loop's image, in parts of one packet each: SNAPSHOT_PART, the ROUND_STATE (part
 * 0), one CLUE_STATE per clue, one SCORE per player with points, then the positions. The part
 * count goes in every part, so a first pass counts with the same sizes the second one writes.
 */
struct snap {
	struct fc_tx *tx;
	bool emit;
	uint32_t part, parts;
	size_t used;   /* bytes of messages in the current part, after its SNAPSHOT_PART */
	bool pos_open; /* the part's last message is a POSITIONS that can take one more entry */
	uint64_t tick, send_ns;
	struct pkt pk;
};

#define SNAP_ROOM                                                                                  \
	(FC_WIRE_MAX_PAYLOAD - sizeof(struct fc_dl_hdr) - sizeof(struct fc_dl_snapshot_part))

static bool
snap_part_begin(struct snap *sn)
{
	struct fc_tx *tx = sn->tx;
	struct fc_dl_snapshot_part sp = {
		.snapshot_id = tx->snapshot_id,
		.part = (uint16_t)sn->part,
		.part_count = (uint16_t)sn->parts,
		.as_of_tick = (uint32_t)(sn->tick - tx->first + 1),
		.as_of_packet_seq = tx->pkt_seq[FC_DL_CHAN_INCREMENTAL] - 1,
		.as_of_event_seq = tx->next_event_seq,
	};

	sn->used = 0;
	sn->pos_open = false;
	if (!sn->emit)
		return true;
	if (!pkt_begin(tx, &sn->pk, FC_DL_CHAN_SNAPSHOT, sn->tick, sn->send_ns))
		return false;
	fc_dl_add(&sn->pk.b, FC_DL_T_SNAPSHOT_PART, &sp, sizeof(sp), false);
	return true;
}

static void
snap_part_end(struct snap *sn)
{
	if (sn->emit && sn->pk.m != NULL) {
		sn->tx->st.snapshot_packets++;
		pkt_send(sn->tx, &sn->pk, FC_DL_CHAN_SNAPSHOT, fc_dl_finish(&sn->pk.b));
	}
}

/* Makes room for need bytes, starting the next part if this one is full. */
static bool
snap_room(struct snap *sn, size_t need)
{
	if (sn->used + need <= SNAP_ROOM)
		return true;
	snap_part_end(sn);
	sn->part++;
	return snap_part_begin(sn);
}

static bool
snap_msg(struct snap *sn, unsigned int template_id, void *msg, size_t len)
{
	if (!snap_room(sn, len))
		return false;
	sn->used += len;
	sn->pos_open = false;
	if (sn->emit)
		fc_dl_add(&sn->pk.b, template_id, msg, len, false);
	return true;
}

/* One position in the image; dp may be NULL in the counting pass (only sizes matter there). */
static bool
snap_position(struct snap *sn, const struct fc_dl_position *dp)
{
	size_t need = sn->pos_open ? sizeof(struct fc_dl_position)
				   : sizeof(struct fc_dl_positions) + sizeof(struct fc_dl_position);

	if (!snap_room(sn, need))
		return false;
	if (sn->used == 0) /* a fresh part: a new POSITIONS message */
		need = sizeof(struct fc_dl_positions) + sizeof(struct fc_dl_position);
	sn->used += need;
	sn->pos_open = true;
	if (sn->emit)
		fc_dl_add_position(&sn->pk.b, dp);
	return true;
}

/* A clue as subscribers are told it (CLUE_STATE), in the given state. */
static void
clue_msg(const struct fc_game_clue *c, uint8_t state, uint16_t winner, struct fc_dl_clue_state *cs)
{
	*cs = (struct fc_dl_clue_state){
		.clue_id = c->clue_id,
		.points = c->points,
		.x_cm = to_cm(c->x_mm),
		.y_cm = to_cm(c->y_mm),
		.radius_mm = (uint16_t)(c->radius_mm > UINT16_MAX ? UINT16_MAX : c->radius_mm),
		.state = state,
		.winner = winner,
	};
}

/* Clue i of the round's layout, in its state now. */
static void
clue_state(const struct fc_tx *tx, uint32_t i, struct fc_dl_clue_state *cs)
{
	clue_msg(&tx->layout->clues[i], tx->clue[i].state, tx->clue[i].winner, cs);
}

/* One pass over the image; returns the number of parts, or 0 if a packet could not be had. */
static uint32_t
snap_pass(struct snap *sn)
{
	struct fc_tx *tx = sn->tx;
	struct fc_dl_round_state rs = { .round_id = tx->round_id,
					.state = tx->round_state,
					.round_time_ms = (uint32_t)tx->round_ms };

	sn->part = 0;
	if (!snap_part_begin(sn) || !snap_msg(sn, FC_DL_T_ROUND_STATE, &rs, sizeof(rs)))
		return 0;
	for (uint32_t i = 0; tx->layout != NULL && i < tx->layout->n_clues; i++) {
		struct fc_dl_clue_state cs;

		clue_state(tx, i, &cs);
		if (!snap_msg(sn, FC_DL_T_CLUE_STATE, &cs, sizeof(cs)))
			return 0;
	}
	for (uint32_t p = 0; tx->score != NULL && p < tx->n_players; p++) {
		struct fc_dl_score sc = {
			.player = (uint16_t)p,
			.team = tx->team[p],
			.total = tx->score[p],
			.team_total = tx->team_score[tx->team[p]],
			.round_id = tx->round_id,
		};

		if (tx->score[p] != 0 && !snap_msg(sn, FC_DL_T_SCORE, &sc, sizeof(sc)))
			return 0;
	}
	for (uint32_t p = 0; p < tx->n_players; p++) {
		const struct fc_tx_player *s = &tx->sent[p];
		struct fc_dl_position dp;

		if (s->status == 0)
			continue;
		if (!sn->emit) { /* the counting pass needs the sizes only */
			if (!snap_position(sn, NULL))
				return 0;
			continue;
		}
		dp.player = (uint16_t)p;
		dp.x_cm = to_cm(s->x_mm);
		dp.y_cm = to_cm(s->y_mm);
		dp.z_dm = to_dm(s->z_mm, s->status);
		dp.status = s->status;
		if (!snap_position(sn, &dp))
			return 0;
	}
	snap_part_end(sn);
	return sn->part + 1;
}

/* One full pass of the snapshot loop: what subscribers have been told, as of this tick. */
static void
emit_snapshot(struct fc_tx *tx, uint64_t tick, uint64_t send_ns)
{
	struct snap sn = { .tx = tx, .emit = false, .tick = tick, .send_ns = send_ns };

	tx->snapshot_id++;
	tx->st.snapshots++;
	sn.parts = snap_pass(&sn);
	sn.emit = true;
	snap_pass(&sn);
}

/* ---- events: claims, scores, the round -------------------------------------------------- */

/* Keeps the event about to be numbered next_event_seq, for the retransmit service. */
static inline void
keep(struct fc_tx *tx, const uint8_t *msg, uint16_t len)
{
	struct fc_tx_event *e;

	if (tx->history == NULL || len > FC_TX_EVENT_MAX)
		return;
	e = &tx->history[tx->next_event_seq % FC_TX_HISTORY];
	e->seq = tx->next_event_seq;
	e->len = len;
	memcpy(e->msg, msg, len);
}

/* Adds one event message, sending the packet and starting another when it is full. */
static bool
event_add(struct fc_tx *tx, struct pkt *p, uint64_t tick, uint64_t send_ns, unsigned int tmpl,
	  void *msg, size_t len, const struct fc_dl_contender *cont)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int rc;

		uint16_t at;

		if (p->m == NULL && !pkt_begin(tx, p, FC_DL_CHAN_INCREMENTAL, tick, send_ns))
			return false;
		at = p->b.len;
		rc = tmpl == FC_DL_T_CLUE_CLAIMED ? fc_dl_add_claim(&p->b, msg, cont)
						  : fc_dl_add(&p->b, tmpl, msg, len, true);
		if (rc == 0) {
			keep(tx, p->b.buf + at, (uint16_t)(p->b.len - at));
			tx->next_event_seq++;
			tx->st.events++;
			return true;
		}
		pkt_send(tx, p, FC_DL_CHAN_INCREMENTAL, fc_dl_finish(&p->b));
	}
	return false;
}

static void
take_claims(struct fc_tx *tx)
{
	for (uint32_t o = 0; o < tx->n_owners; o++)
		while (tx->n_pending < FC_TX_MAX_CLAIMS &&
		       rte_ring_dequeue_elem(tx->claims[o], &tx->pending[tx->n_pending],
					     sizeof(tx->pending[0])) == 0)
			tx->n_pending++;
}

/* A respawning clue reopened (docs/game.md section 5.5): its CLUE_STATE, OPEN, no winner. */
static void
emit_reopen(struct fc_tx *tx, struct pkt *p, uint64_t tick, uint64_t send_ns, uint32_t idx)
{
	struct fc_dl_clue_state cs;

	tx->clue[idx].state = FC_CLUE_OPEN;
	tx->clue[idx].winner = FC_PLAYER_NONE;
	clue_state(tx, idx, &cs);
	event_add(tx, p, tick, send_ns, FC_DL_T_CLUE_STATE, &cs, sizeof(cs), NULL);
	tx->st.reopened++;
}

/*
 * A round start restates the clues as events (docs/protocol.md section 4.7), so that a
 * subscriber following channel 0 plays the new round on the right clues without waiting for
 * the snapshot loop: every clue of the round's layout, OPEN, then every clue of the previous
 * round's layout that is not in it, HIDDEN.
 */
static void
emit_round_clues(struct fc_tx *tx, struct pkt *p, uint64_t tick, uint64_t send_ns,
		 const struct fc_game_layout *before)
{
	struct fc_dl_clue_state cs;

	for (uint32_t i = 0; i < tx->layout->n_clues; i++) {
		clue_state(tx, i, &cs);
		event_add(tx, p, tick, send_ns, FC_DL_T_CLUE_STATE, &cs, sizeof(cs), NULL);
	}
	if (before == NULL || before == tx->layout)
		return;
	for (uint32_t i = 0; i < before->n_clues; i++) {
		const struct fc_game_clue *c = &before->clues[i];

		if (fc_game_layout_find(tx->layout, c->clue_id) >= 0)
			continue;
		clue_msg(c, FC_CLUE_HIDDEN, FC_PLAYER_NONE, &cs);
		event_add(tx, p, tick, send_ns, FC_DL_T_CLUE_STATE, &cs, sizeof(cs), NULL);
	}
}

/* Is this claim on disk (or is there no journal)? */
static inline bool
claim_durable(const struct fc_tx *tx, const struct fc_claim_ev *ev)
{
	return tx->journal == NULL || ev->ticket == 0 ||
	       fc_journal_durable_ticket(tx->journal, ev->producer) >= ev->ticket;
}

/*
 * DESIGN invariant 7: an award is announced only once it is durable. True when every claim
 * decided by the end of tick `upto` is on disk; otherwise the tick waits (one poll at a time:
 * in replay this keeps the output the same bytes whatever the disk's speed).
 */
static bool
claims_durable(struct fc_tx *tx, uint64_t upto)
{
	if (tx->layout == NULL || tx->journal == NULL)
		return true;
	take_claims(tx);
	for (uint32_t i = 0; i < tx->n_pending; i++) {
		const struct fc_claim_ev *ev = &tx->pending[i];

		if (ev->tick <= upto && !claim_durable(tx, ev)) {
			tx->st.durable_waits++;
			return false;
		}
	}
	return true;
}

/* SCORE and ROUND records: the journal's copy of what the scoreboard said. */
static void
journal_rec(struct fc_tx *tx, const struct fc_journal_rec *rec)
{
	uint64_t ticket;

	if (tx->journal != NULL &&
	    fc_journal_append(tx->journal, tx->journal_producer, rec, &ticket) != 0)
		tx->st.journal_drops++;
}

static int
claim_cmp(const struct fc_claim_ev *a, const struct fc_claim_ev *b)
{
	if (a->claim.deadline_ns != b->claim.deadline_ns)
		return a->claim.deadline_ns < b->claim.deadline_ns ? -1 : 1;
	return a->claim.clue_id < b->claim.clue_id ? -1 : a->claim.clue_id > b->claim.clue_id;
}

/*
 * Announces the claims decided by the end of tick `upto` (every one left with FC_TICK_NONE),
 * in (deadline, clue id) order whatever owner decided them: CLUE_CLAIMED with its contenders,
 * then the winner's SCORE. With durable_only, only those already durable (asap: the rest wait
 * for their own moment). Returns true if any event went out.
 */
static bool
emit_claims(struct fc_tx *tx, struct pkt *p, uint64_t tick, uint64_t send_ns, uint64_t upto,
	    bool durable_only)
{
	bool any = false;

	take_claims(tx);
	for (;;) {
		struct fc_claim_ev *best = NULL;
		const struct fc_game_claim *c;
		struct fc_dl_clue_claimed cc;
		struct fc_dl_score sc;

		for (uint32_t i = 0; i < tx->n_pending; i++)
			if (tx->pending[i].tick <= upto &&
			    (best == NULL || claim_cmp(&tx->pending[i], best) < 0) &&
			    (!durable_only || claim_durable(tx, &tx->pending[i])))
				best = &tx->pending[i];
		if (best == NULL)
			return any;
		if (unlikely(best->layout_gen != tx->layout_gen ||
			     best->round_id != tx->round_id)) {
			/*
			 * decided in a round that has since given way to a new one (on its layout,
			 * or by an owner that had not yet seen the round start): it is in the
			 * journal as that round's award, but neither its clue nor its points
			 * belong to the round now played.
			 */
			tx->st.stale_claims++;
			*best = tx->pending[--tx->n_pending];
			continue;
		}
		c = &best->claim;
		if (best->reopen) {
			emit_reopen(tx, p, tick, send_ns, c->clue_idx);
			any = true;
			*best = tx->pending[--tx->n_pending];
			continue;
		}
		cc = (struct fc_dl_clue_claimed){
			.clue_id = c->clue_id,
			.points = c->points,
			.winner = c->winner,
			.winner_team = c->winner_team,
			.contenders_total = c->contenders_total,
			.contenders_listed = c->contenders_listed,
			.round_id = tx->round_id,
			.meas_time_ns = c->meas_time_ns,
		};
		tx->score[c->winner] += (int32_t)c->points;
		tx->team_score[c->winner_team] += (int32_t)c->points;
		tx->clue[c->clue_idx].state = FC_CLUE_CLAIMED;
		tx->clue[c->clue_idx].winner = c->winner;
		sc = (struct fc_dl_score){
			.player = c->winner,
			.team = c->winner_team,
			.total = tx->score[c->winner],
			.delta = (int32_t)c->points,
			.clue_id = c->clue_id,
			.team_total = tx->team_score[c->winner_team],
			.round_id = tx->round_id,
		};
		/* struct fc_game_contender is the wire's entry (both pinned at 16 bytes). */
		event_add(tx, p, tick, send_ns, FC_DL_T_CLUE_CLAIMED, &cc, sizeof(cc),
			  (const struct fc_dl_contender *)(const void *)c->contenders);
		event_add(tx, p, tick, send_ns, FC_DL_T_SCORE, &sc, sizeof(sc), NULL);
		journal_rec(tx, &(struct fc_journal_rec){
					.type = FC_JOURNAL_SCORE,
					.score = { .round_id = tx->round_id,
						   .clue_id = c->clue_id,
						   .player = c->winner,
						   .team = c->winner_team,
						   .delta = (int32_t)c->points,
						   .total = sc.total,
						   .team_total = sc.team_total },
				});
		tx->st.claims++;
		if (tx->n_timing < FC_TX_MAX_CLAIMS)
			tx->timing_ns[tx->n_timing++] = c->deadline_ns;
		any = true;
		*best = tx->pending[--tx->n_pending];
	}
}

/*
 * asap (fc_tick.h): announces every claim that is durable now, whatever its tick, in packets
 * of the tick in progress, and hands them to the NIC at once.
 */
static void
announce_durable(struct fc_tx *tx)
{
	const uint64_t tick = fc_tick_load(&tx->sync->tx.done) + 1;
	const uint64_t before = tx->st.claims;
	struct pkt p = { .m = NULL };

	if (!emit_claims(tx, &p, tick, (tick + 1) * tx->sync->tick_ns, FC_TICK_NONE, true))
		return;
	if (p.m != NULL)
		pkt_send(tx, &p, FC_DL_CHAN_INCREMENTAL, fc_dl_finish(&p.b));
	send_out(tx);
	tx->st.claims_asap += tx->st.claims - before;
}

/* The round's layout, for RX and the owners (inside the round's sequence count). */
static void
publish_layout(struct fc_tx *tx)
{
	const struct fc_tx_layout *l = tx->cur_layout;

	if (l == NULL || tx->sync->round.layout_id == l->id)
		return;
	tx->sync->round.layout_id = l->id;
	tx->sync->round.discs = l->discs;
	for (uint32_t o = 0; o < tx->n_owners; o++)
		tx->sync->round.game[o] = l->game[o];
}

/* Tells the owners the round's state; a new id makes them reset their arbiters. */
static void
publish_round(struct fc_tx *tx, uint64_t open_ns)
{
	rte_seqcount_write_begin(&tx->sync->round.sc);
	tx->sync->round.id = tx->round_id;
	tx->sync->round.state = tx->round_state;
	tx->sync->round.open_ns = open_ns;
	publish_layout(tx);
	rte_seqcount_write_end(&tx->sync->round.sc);
}

static void
emit_round(struct fc_tx *tx, struct pkt *p, uint64_t tick, uint64_t send_ns, uint8_t state)
{
	struct fc_dl_round_state rs = {
		.round_id = tx->round_id,
		.state = state,
		.round_time_ms = (uint32_t)tx->round_ms,
	};

	tx->round_state = state;
	publish_round(tx, tx->sync->round.open_ns);
	event_add(tx, p, tick, send_ns, FC_DL_T_ROUND_STATE, &rs, sizeof(rs), NULL);
	journal_rec(tx, &(struct fc_journal_rec){
				.type = FC_JOURNAL_ROUND,
				.round = { .round_id = tx->round_id,
					   .state = state,
					   .round_time_ms = rs.round_time_ms,
					   .time_ns = send_ns },
			});
}

/* A round start takes the layout loaded last: TX's clue states now, RX's and owners' with it. */
static void
take_layout(struct fc_tx *tx)
{
	const struct fc_tx_layout *l = tx->next_layout;

	tx->cur_layout = l;
	tx->layout = l->layout;
	tx->clue = l->clue;
	tx->layout_gen = l->id;
	tx->next_layout = NULL;
}

/*
 * floorctl's load layout and roster commands (docs/control.md). A layout waits for the next
 * round start. A roster change is published now, so every RX maps tags with it from the next
 * tick (fc_tick.h, "Swaps"); an added player's team is set before, so that no owner sees a fix
 * of the player without it. Returns the echo's arg: the layout id, or the player.
 */
static uint32_t
swap_command(struct fc_tx *tx, const struct fc_cmd *c)
{
	const struct fc_tx_roster *r = c->obj;

	if (c->code == FC_CMD_LOAD_LAYOUT) {
		tx->next_layout = c->obj;
		return (uint32_t)tx->next_layout->id;
	}
	if (r->add) {
		__atomic_store_n(&tx->team[r->player], r->team, __ATOMIC_RELAXED);
		if (r->team + 1u > tx->n_teams && r->team < tx->max_teams)
			tx->n_teams = r->team + 1u;
	}
	rte_seqcount_write_begin(&tx->sync->roster.sc);
	tx->sync->roster.gen = r->gen;
	for (uint32_t i = 0; i < tx->n_rx; i++)
		tx->sync->roster.rx[i] = r->rx[i];
	rte_seqcount_write_end(&tx->sync->roster.sc);
	return r->player;
}

/*
 * floorctl's commands, applied at the start of a tick in their order, each echoed as a
 * COMMAND_ECHO event (status 0, or EINVAL for a round command the round's state does not
 * allow) and journaled (load layout and roster ones with their text, for a restart); an
 * applied round command also changes the round (ROUND_STATE, END_OF_ROUND).
 */
static bool
apply_commands(struct fc_tx *tx, struct pkt *p, uint64_t tick, uint64_t send_ns)
{
	struct fc_cmd c;
	bool any = false;

	while (tx->cmds != NULL && rte_ring_dequeue_elem(tx->cmds, &c, sizeof(c)) == 0) {
		uint8_t s = tx->round_state, next = s;
		struct fc_dl_command_echo ce = { .cmd_seq = c.cmd_seq, .command = c.code };
		const struct fc_game_layout *before = tx->layout;
		bool round_cmd = true;
		const char *text = NULL;

		switch (c.code) {
		case FC_CMD_LOAD_LAYOUT:
		case FC_CMD_ROSTER_ADD:
		case FC_CMD_ROSTER_REMOVE:
			round_cmd = false;
			ce.arg = swap_command(tx, &c);
			text = c.code == FC_CMD_LOAD_LAYOUT
				       ? ((const struct fc_tx_layout *)c.obj)->text
				       : ((const struct fc_tx_roster *)c.obj)->text;
			break;
		case FC_CMD_ROUND_START:
			if (s == FC_ROUND_RUNNING || s == FC_ROUND_PAUSED || tx->layout == NULL)
				break;
			if (tx->next_layout != NULL)
				take_layout(tx);
			tx->round_id++;
			tx->round_ms = 0;
			memset(tx->score, 0, tx->n_players * sizeof(*tx->score));
			memset(tx->team_score, 0, tx->n_teams * sizeof(*tx->team_score));
			for (uint32_t i = 0; i < tx->layout->n_clues; i++)
				tx->clue[i] = (struct fc_tx_clue){ .winner = FC_PLAYER_NONE,
								   .state = FC_CLUE_OPEN };
			/* The new round's clues open at the start of this tick. */
			tx->sync->round.open_ns = tick * tx->sync->tick_ns;
			next = FC_ROUND_RUNNING;
			break;
		case FC_CMD_ROUND_PAUSE:
			next = s == FC_ROUND_RUNNING ? FC_ROUND_PAUSED : s;
			break;
		case FC_CMD_ROUND_RESUME:
			next = s == FC_ROUND_PAUSED ? FC_ROUND_RUNNING : s;
			break;
		case FC_CMD_ROUND_END:
			next = s == FC_ROUND_RUNNING || s == FC_ROUND_PAUSED ? FC_ROUND_ENDED : s;
			break;
		}
		if (round_cmd) {
			ce.status = next == s ? EINVAL : 0;
			ce.arg = tx->round_id;
		}
		event_add(tx, p, tick, send_ns, FC_DL_T_COMMAND_ECHO, &ce, sizeof(ce), NULL);
		journal_rec(
			tx,
			&(struct fc_journal_rec){
				.type = FC_JOURNAL_COMMAND,
				.command = { .cmd_seq = c.cmd_seq,
					     .command = c.code,
					     .status = ce.status,
					     .arg = ce.arg,
					     .time_ns = send_ns,
					     .text_len = text != NULL ? (uint16_t)strlen(text) : 0,
					     .text = text },
			});
		if (next != s) {
			if (next == FC_ROUND_ENDED) {
				struct fc_dl_end_of_round eor = { .round_id = tx->round_id };

				event_add(tx, p, tick, send_ns, FC_DL_T_END_OF_ROUND, &eor,
					  sizeof(eor), NULL);
			}
			emit_round(tx, p, tick, send_ns, next);
			if (c.code == FC_CMD_ROUND_START)
				emit_round_clues(tx, p, tick, send_ns, before);
		}
		tx->st.commands++;
		any = true;
	}
	return any;
}

/* ---- the retransmit service (docs/protocol.md section 6) ------------------------------- */

/* A unicast reply packet to the requester: from the retransmit port, packet_seq 0. */
static bool
rt_begin(struct fc_tx *tx, struct pkt *p, uint64_t tick, uint64_t send_ns, uint64_t first)
{
	struct fc_dl_hdr h = {
		.flags = FC_DL_F_RETRANSMIT,
		.session_id = tx->session_id,
		.packet_seq = 0,
		.send_time_ns = send_ns,
		.first_event_seq = first,
		.tick = (uint32_t)(tick - tx->first + 1),
		.channel_id = FC_DL_CHAN_INCREMENTAL,
	};

	p->m = rte_pktmbuf_alloc(tx->pool);
	if (p->m == NULL) {
		tx->st.alloc_fail++;
		return false;
	}
	fc_dl_begin(&p->b, rte_pktmbuf_mtod(p->m, uint8_t *) + FC_PKT_HDR_LEN,
		    rte_pktmbuf_tailroom(p->m) - FC_PKT_HDR_LEN, &h);
	return true;
}

static void
rt_send(struct fc_tx *tx, struct pkt *p, const struct fc_rt_req *q)
{
	struct fc_pkt_tx_tmpl t = tx->tmpl;
	size_t len = fc_dl_finish(&p->b);
	uint8_t *f = rte_pktmbuf_mtod(p->m, uint8_t *);

	t.src_port = tx->rt_port;
	fc_pkt_write_headers(f, &t, q->src_mac, q->src_ip, q->src_port, (uint16_t)len);
	p->m->data_len = (uint16_t)(FC_PKT_HDR_LEN + len);
	p->m->pkt_len = p->m->data_len;
	tx->st.packets++;
	tx->st.bytes += p->m->pkt_len;
	tx->out[tx->n_out++] = p->m;
	p->m = NULL;
	if (tx->n_out == FC_TX_MAX_BATCH)
		send_out(tx);
}

/* The requester's standing against its rate: 0 answer, RATE refuse, UINT16_MAX ignore. */
static uint16_t
rt_rate(struct fc_tx *tx, uint32_t ip, uint64_t now_ns)
{
	struct fc_tx_rate *r = &tx->rate[(ip ^ (ip >> 8) ^ (ip >> 16)) % FC_TX_RT_BUCKETS];

	if (r->ip != ip || now_ns - r->window_ns >= UINT64_C(1000000000)) {
		r->ip = ip;
		r->n = 0;
		r->window_ns = now_ns;
	}
	r->n++;
	if (r->n > 2 * FC_TX_RT_PER_S)
		return UINT16_MAX;
	return r->n > FC_TX_RT_PER_S ? FC_RT_REFUSED_RATE : 0;
}

static void
rt_answer(struct fc_tx *tx, const struct fc_rt_req *q, uint64_t tick, uint64_t send_ns)
{
	const uint64_t next = tx->next_event_seq;
	const uint64_t oldest = next > FC_TX_HISTORY ? next - FC_TX_HISTORY : 1;
	uint16_t reason = 0;
	struct pkt p = { .m = NULL };

	/* The checks of docs/protocol.md section 6.2, in its order. */
	if (q->session_id != tx->session_id) {
		reason = FC_RT_REFUSED_SESSION;
	} else if (q->count > FC_RT_MAX_COUNT) {
		reason = FC_RT_REFUSED_TOO_MANY;
	} else {
		reason = rt_rate(tx, q->src_ip, send_ns);
		if (reason == UINT16_MAX) { /* beyond the hard limit: no answer at all */
			tx->st.rt_ignored++;
			return;
		}
		if (reason == 0 && q->first_event_seq + q->count > next)
			reason = FC_RT_REFUSED_NOT_YET;
		else if (reason == 0 && q->first_event_seq < oldest)
			reason = FC_RT_REFUSED_TOO_OLD;
	}
	tx->st.rt_requests++;
	if (reason != 0) {
		struct fc_dl_retrans_refused r = {
			.reason = reason,
			.count = q->count,
			.first_event_seq = q->first_event_seq,
			.oldest_available = oldest,
			.next_event_seq = next,
		};

		tx->st.rt_refused[reason < 6 ? reason : 0]++;
		if (rt_begin(tx, &p, tick, send_ns, next)) {
			fc_dl_add(&p.b, FC_DL_T_RETRANS_REFUSED, &r, sizeof(r), false);
			rt_send(tx, &p, q);
		}
		return;
	}
	/* The events, byte for byte as first sent, in as many packets as they need. */
	for (uint64_t seq = q->first_event_seq; seq < q->first_event_seq + q->count; seq++) {
		const struct fc_tx_event *e = &tx->history[seq % FC_TX_HISTORY];

		if (p.m != NULL && (p.b.event_count == UINT8_MAX ||
				    fc_dl_add_raw(&p.b, e->msg, e->len, true) != 0)) {
			rt_send(tx, &p, q);
			tx->st.rt_packets++;
		}
		if (p.m == NULL) {
			if (!rt_begin(tx, &p, tick, send_ns, seq))
				return;
			fc_dl_add_raw(&p.b, e->msg, e->len, true);
		}
	}
	if (p.m != NULL) {
		rt_send(tx, &p, q);
		tx->st.rt_packets++;
	}
}

/* Requests received by the end of this tick, answered with it (in replay: deterministic). */
static void
rt_serve(struct fc_tx *tx, uint64_t tick, uint64_t send_ns)
{
	struct fc_rt_req q;

	for (uint32_t r = 0; r < tx->n_rx; r++)
		while (tx->rt_ring[r] != NULL &&
		       rte_ring_dequeue_elem(tx->rt_ring[r], &q, sizeof(q)) == 0)
			rt_answer(tx, &q, tick, send_ns);
}

static void
emit_tick(struct fc_tx *tx, uint64_t tick)
{
	const uint64_t send_ns = (tick + 1) * tx->sync->tick_ns; /* the end of the tick */
	struct pkt p = { .m = NULL };
	bool events = false;

	/* Events first, in their own packets: the round's start, then the tick's claims. */
	if (tx->layout != NULL) {
		/* The first tick announces the round the session starts in. */
		if (tick == tx->first && tx->round_state != FC_ROUND_IDLE) {
			emit_round(tx, &p, tick, send_ns, tx->round_state);
			events = true;
		}
		events |= emit_claims(tx, &p, tick, send_ns, tick, false);
	}
	/* floorctl's commands: without a layout, only roster ones reach TX (ctl.c) */
	events |= apply_commands(tx, &p, tick, send_ns);
	if (p.m != NULL)
		pkt_send(tx, &p, FC_DL_CHAN_INCREMENTAL, fc_dl_finish(&p.b));
	if (tx->n_timing > 0 && tx->sync->asap)
		send_out(tx); /* claims first, not behind the tick's positions */
	/* The round has run through this tick (ROUND_STATE's round_time_ms, pauses excluded). */
	if (tx->round_state == FC_ROUND_RUNNING)
		tx->round_ms += tx->sync->tick_ns / UINT64_C(1000000);
	emit_positions(tx, tick, send_ns, events);
	rt_serve(tx, tick, send_ns);
	/* Every channel sends at least one packet a tick, so a lost tail shows within a tick. */
	if ((tick - tx->first) % tx->snapshot_ticks == 0) {
		emit_snapshot(tx, tick, send_ns);
	} else if (pkt_begin(tx, &p, FC_DL_CHAN_SNAPSHOT, tick, send_ns)) {
		tx->st.heartbeats++;
		pkt_send(tx, &p, FC_DL_CHAN_SNAPSHOT, fc_dl_finish(&p.b));
	}
	send_out(tx);
	tx->st.ticks++;
	fc_tick_store(&tx->sync->tx.done, tick);
}

/* The end-of-session frame of channel chan, payload[0, len) with its headers as pkt_send()
 * writes them, for the copies fc_tx_linger() sends. */
static void
eos_keep(struct fc_tx *tx, uint8_t chan, const uint8_t *payload, size_t len)
{
	if (FC_PKT_HDR_LEN + len > FC_TX_EOS_FRAME)
		return;
	memcpy(tx->eos_frame[chan] + FC_PKT_HDR_LEN, payload, len);
	fc_pkt_write_headers(tx->eos_frame[chan], &tx->tmpl, NULL, tx->tmpl.group_ip,
			     tx->tmpl.group_port, (uint16_t)len);
	tx->eos_len[chan] = (uint16_t)(FC_PKT_HDR_LEN + len);
}

static void
emit_end_of_session(struct fc_tx *tx, uint64_t tick)
{
	const uint64_t send_ns = (tick + 1) * tx->sync->tick_ns;
	struct pkt p = { .m = NULL };

	/* Claims whose settle window outlived the input are decided now: announce them, close
	 * the round, then end the session. */
	if (tx->layout != NULL && tx->first != FC_TICK_NONE) {
		struct fc_dl_end_of_round eor = { .round_id = tx->round_id, .reason = 0 };

		emit_claims(tx, &p, tick, send_ns, FC_TICK_NONE, false);
		event_add(tx, &p, tick, send_ns, FC_DL_T_END_OF_ROUND, &eor, sizeof(eor), NULL);
		emit_round(tx, &p, tick, send_ns, FC_ROUND_ENDED);
		if (p.m != NULL)
			pkt_send(tx, &p, FC_DL_CHAN_INCREMENTAL, fc_dl_finish(&p.b));
	}
	/* The last packet of each channel (docs/protocol.md section 4.2): part of the last tick,
	 * sent as it ends, not stamped with the end of a tick that never comes. A copy of the
	 * frame is kept for the repeats while floord lingers (live only). */
	for (uint8_t chan = FC_DL_CHAN_INCREMENTAL; chan <= FC_DL_CHAN_SNAPSHOT; chan++)
		if (pkt_begin(tx, &p, chan, tick, send_ns)) {
			const size_t len = fc_dl_finish_end_of_session(&p.b);

			eos_keep(tx, chan, p.b.buf, len);
			pkt_send(tx, &p, chan, len);
		}
	send_out(tx);
	tx->end_tick = tick;
	fc_tick_store32(&tx->sync->tx.finished, 1);
}

/*
 * One round of copies of the end of session: each channel's frame as eos_keep() kept it, the
 * same bytes (packet_seq included) in a fresh mbuf. They are not new packets of the channel:
 * pkt_seq does not move, only the packets and bytes handed to the NIC, and eos_repeats.
 */
static void
eos_repeat(struct fc_tx *tx)
{
	for (unsigned int chan = 0; chan < 2; chan++) {
		struct rte_mbuf *m;

		if (tx->eos_len[chan] == 0)
			continue;
		if (tx->n_out == FC_TX_MAX_BATCH)
			send_out(tx);
		m = rte_pktmbuf_alloc(tx->pool);
		if (m == NULL) {
			tx->st.alloc_fail++;
			continue;
		}
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), tx->eos_frame[chan], tx->eos_len[chan]);
		m->data_len = tx->eos_len[chan];
		m->pkt_len = m->data_len;
		tx->st.packets++;
		tx->st.bytes += m->pkt_len;
		tx->st.eos_repeats++;
		tx->out[tx->n_out++] = m;
	}
	send_out(tx);
}

void
fc_tx_linger(struct fc_tx *tx, uint64_t now_ns)
{
	const uint64_t gap_ns = (uint64_t)FC_TX_EOS_REPEAT_MS * UINT64_C(1000000);

	/* The end of session again: copy k is due k * FC_TX_EOS_REPEAT_MS after the linger's
	 * start, never earlier; one made late by a stall goes at once, so all fit in the second. */
	if (tx->eos_next_ns == 0) {
		tx->eos_next_ns = now_ns + gap_ns;
	} else if (tx->eos_copies < FC_TX_EOS_REPEATS && now_ns >= tx->eos_next_ns) {
		eos_repeat(tx);
		tx->eos_copies++;
		tx->eos_next_ns += gap_ns;
	}
	if (tx->history == NULL || tx->first == FC_TICK_NONE)
		return;
	rt_serve(tx, tx->end_tick, now_ns);
	send_out(tx);
}

/* S, once every RX has published its first tick; false while one has not. */
static bool
try_start(struct fc_tx *tx)
{
	uint64_t first = FC_TICK_NONE;

	for (uint32_t r = 0; r < tx->sync->n_rx; r++) {
		uint64_t f = fc_tick_load(&tx->sync->rx[r].first_tick);

		if (f == 0)
			return false;
		if (f < first)
			first = f;
	}
	tx->started = true;
	tx->first = first;
	tx->pkt_seq[0] = tx->pkt_seq[1] = 1;
	tx->next_event_seq = 1;
	if (first == FC_TICK_NONE)
		return true; /* no input at all: only the end of session */
	tx->session_id = tx->session_id_cfg != 0
				 ? tx->session_id_cfg
				 : (uint32_t)(first * tx->sync->tick_ns / UINT64_C(1000000000));
	fc_tick_store(&tx->sync->tx.done, first - 1);
	fc_tick_store(&tx->sync->tx.first, first);
	return true;
}

/* The last tick of all input, or 0 while some RX is still receiving. */
static uint64_t
last_tick(const struct fc_tx *tx)
{
	uint64_t last = 0;

	for (uint32_t r = 0; r < tx->sync->n_rx; r++) {
		if (!fc_tick_load32(&tx->sync->rx[r].eof))
			return 0;
		if (tx->sync->rx[r].last_tick != FC_TICK_NONE && tx->sync->rx[r].last_tick > last)
			last = tx->sync->rx[r].last_tick;
	}
	return last == 0 ? FC_TICK_NONE : last;
}

bool
fc_tx_poll(struct fc_tx *tx)
{
	uint64_t t, last;

	if (fc_tick_load32(&tx->sync->tx.finished))
		return false;
	if (!tx->started && !try_start(tx))
		return true;
	if (tx->first == FC_TICK_NONE) {
		last = last_tick(tx);
		if (last != 0)
			emit_end_of_session(tx, 0);
		return last == 0;
	}
	if (tx->sync->asap && tx->layout != NULL)
		announce_durable(tx);
	for (;;) {
		t = fc_tick_load(&tx->sync->tx.done) + 1;
		for (uint32_t o = 0; o < tx->n_owners; o++)
			if (fc_tick_load(&tx->sync->owner[o].done) < t)
				return true;
		/*
		 * Every owner has completed t. Past the input's end they all say so (the final
		 * watermark), and the last tick, published before it, is visible here: stop there.
		 */
		last = last_tick(tx);
		if (last != 0 && (last == FC_TICK_NONE || t > last)) {
			if (!claims_durable(tx, FC_TICK_NONE))
				return true;
			emit_end_of_session(tx, t - 1);
			return false;
		}
		if (!claims_durable(tx, t))
			return true;
		emit_tick(tx, t);
	}
}

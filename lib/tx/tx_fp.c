/* SPDX-License-Identifier: BSD-3-Clause */
/* The TX loop: tick deltas, heartbeats, snapshot loop, end of session; see fc_tx.h. */
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "fc_downlink.h"
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

/* The newest candidate of player p across owners. */
static void
merged(const struct fc_tx *tx, uint32_t p, struct fc_pos *best)
{
	*best = (struct fc_pos){ 0 };
	for (uint32_t o = 0; o < tx->n_owners; o++) {
		struct fc_pos c;

		fc_owner_read(tx->owner[o], p, &c);
		if (c.meas_ns != 0 && fc_pos_newer(&c, best))
			*best = c;
	}
}

/* Floor division for the wire's rounding rules (negative values round towards -inf). */
static inline int64_t
floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* docs/protocol.md POSITIONS: nearest cm, halves up, clamped to 0 .. 65535. */
static inline uint16_t
to_cm(int32_t mm)
{
	int64_t cm = floor_div((int64_t)mm + 5, 10);

	return (uint16_t)(cm < 0 ? 0 : cm > UINT16_MAX ? UINT16_MAX : cm);
}

/* Nearest dm, halves up, clamped to -128 .. 127; 0 when the fix has no height. */
static inline int8_t
to_dm(int32_t mm, uint8_t status)
{
	int64_t dm = floor_div((int64_t)mm + 50, 100);

	if (status & FC_POS_S_NO_Z)
		return 0;
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
		int32_t k = fc_owner_dirty_read(tx->owner[o], tick, tx->tmp);

		if (k < 0) {
			tx->st.full_scans++;
			memset(tx->want, 0xFF, tx->want_words * sizeof(uint64_t));
			return;
		}
		for (int32_t i = 0; i < k; i++)
			tx->want[tx->tmp[i] >> 6] |= UINT64_C(1) << (tx->tmp[i] & 63);
	}
	for (uint32_t p = r; p < tx->n_players; p += tx->refresh_ticks)
		tx->want[p >> 6] |= UINT64_C(1) << (p & 63);
}

/*
 * Sends player pl's position if it moved past the dead band, changed status, or is due for its
 * refresh. Returns false if no mbuf could be had (the rest of the tick is skipped; counted).
 */
static bool
consider(struct fc_tx *tx, uint32_t pl, uint32_t r, uint64_t tick, uint64_t send_ns, struct pkt *p,
	 bool *any)
{
	struct fc_tx_player *s = &tx->sent[pl];
	struct fc_dl_position dp;
	struct fc_pos c;
	uint8_t status;
	int64_t dx, dy, dz;

	merged(tx, pl, &c);
	if (c.meas_ns == 0)
		return true;
	status = send_ns > c.meas_ns && send_ns - c.meas_ns > tx->stale_ns ? FC_POS_S_STALE
									   : FC_POS_S_ACTIVE;
	if (c.flags & FC_FIX_F_NO_Z)
		status |= FC_POS_S_NO_Z;
	dx = (int64_t)c.x_mm - s->x_mm;
	dy = (int64_t)c.y_mm - s->y_mm;
	dz = (int64_t)c.z_mm - s->z_mm;
	if (s->status == status && pl % tx->refresh_ticks != r &&
	    (uint64_t)(dx * dx + dy * dy + dz * dz) <= tx->dead_band_sq)
		return true;
	s->x_mm = c.x_mm;
	s->y_mm = c.y_mm;
	s->z_mm = c.z_mm;
	s->status = status;

	dp.player = (uint16_t)pl;
	dp.x_cm = to_cm(c.x_mm);
	dp.y_cm = to_cm(c.y_mm);
	dp.z_dm = to_dm(c.z_mm, status);
	dp.status = status;
	if (p->m == NULL || fc_dl_add_position(&p->b, &dp) != 0) {
		if (p->m != NULL)
			pkt_send(tx, p, FC_DL_CHAN_INCREMENTAL, fc_dl_finish(&p->b));
		if (!pkt_begin(tx, p, FC_DL_CHAN_INCREMENTAL, tick, send_ns))
			return false;
		fc_dl_add_position(&p->b, &dp);
	}
	tx->st.positions++;
	*any = true;
	return true;
}

static void
emit_positions(struct fc_tx *tx, uint64_t tick, uint64_t send_ns)
{
	uint32_t r = (uint32_t)((tick - tx->first) % tx->refresh_ticks);
	struct pkt p = { .m = NULL };
	bool any = false, ok = true;

	collect(tx, tick);
	for (uint32_t w = 0; w < tx->want_words; w++) {
		while (tx->want[w] != 0) {
			uint32_t pl = w * 64 + (uint32_t)__builtin_ctzll(tx->want[w]);

			tx->want[w] &= tx->want[w] - 1;
			if (ok && pl < tx->n_players)
				ok = consider(tx, pl, r, tick, send_ns, &p, &any);
		}
	}
	if (p.m != NULL) {
		pkt_send(tx, &p, FC_DL_CHAN_INCREMENTAL, fc_dl_finish(&p.b));
	} else if (!any && pkt_begin(tx, &p, FC_DL_CHAN_INCREMENTAL, tick, send_ns)) {
		tx->st.heartbeats++;
		pkt_send(tx, &p, FC_DL_CHAN_INCREMENTAL, fc_dl_finish(&p.b));
	}
}

/* One full pass of the snapshot loop: what subscribers have been told, as of this tick. */
static void
emit_snapshot(struct fc_tx *tx, uint64_t tick, uint64_t send_ns)
{
	uint32_t have = 0, parts, part = 0, p = 0;

	for (uint32_t i = 0; i < tx->n_players; i++)
		have += tx->sent[i].status != 0;
	parts = have == 0 ? 1 : (have + FC_TX_SNAP_PER_PART - 1) / FC_TX_SNAP_PER_PART;
	tx->snapshot_id++;
	tx->st.snapshots++;
	for (part = 0; part < parts; part++) {
		struct fc_dl_snapshot_part sp = {
			.snapshot_id = tx->snapshot_id,
			.part = (uint16_t)part,
			.part_count = (uint16_t)parts,
			.as_of_tick = (uint32_t)(tick - tx->first + 1),
			.as_of_packet_seq = tx->pkt_seq[FC_DL_CHAN_INCREMENTAL] - 1,
			.as_of_event_seq = tx->next_event_seq,
		};
		struct fc_dl_round_state rs = { .round_id = 0, .state = FC_ROUND_IDLE };
		struct pkt pk;
		uint32_t k = 0;

		if (!pkt_begin(tx, &pk, FC_DL_CHAN_SNAPSHOT, tick, send_ns))
			return;
		fc_dl_add(&pk.b, FC_DL_T_SNAPSHOT_PART, &sp, sizeof(sp), false);
		if (part == 0)
			fc_dl_add(&pk.b, FC_DL_T_ROUND_STATE, &rs, sizeof(rs), false);
		for (; p < tx->n_players && k < FC_TX_SNAP_PER_PART; p++) {
			const struct fc_tx_player *s = &tx->sent[p];
			struct fc_dl_position dp;

			if (s->status == 0)
				continue;
			dp.player = (uint16_t)p;
			dp.x_cm = to_cm(s->x_mm);
			dp.y_cm = to_cm(s->y_mm);
			dp.z_dm = to_dm(s->z_mm, s->status);
			dp.status = s->status;
			fc_dl_add_position(&pk.b, &dp);
			k++;
		}
		tx->st.snapshot_packets++;
		pkt_send(tx, &pk, FC_DL_CHAN_SNAPSHOT, fc_dl_finish(&pk.b));
	}
}

static void
emit_tick(struct fc_tx *tx, uint64_t tick)
{
	const uint64_t send_ns = (tick + 1) * tx->sync->tick_ns; /* the end of the tick */

	struct pkt p;

	emit_positions(tx, tick, send_ns);
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

static void
emit_end_of_session(struct fc_tx *tx, uint64_t tick)
{
	struct pkt p;

	/* The last packet of each channel (docs/protocol.md section 4.2): part of the last tick,
	 * sent as it ends, not stamped with the end of a tick that never comes. */
	for (uint8_t chan = FC_DL_CHAN_INCREMENTAL; chan <= FC_DL_CHAN_SNAPSHOT; chan++)
		if (pkt_begin(tx, &p, chan, tick, (tick + 1) * tx->sync->tick_ns))
			pkt_send(tx, &p, chan, fc_dl_finish_end_of_session(&p.b));
	send_out(tx);
	fc_tick_store32(&tx->sync->tx.finished, 1);
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
			emit_end_of_session(tx, t - 1);
			return false;
		}
		emit_tick(tx, t);
	}
}

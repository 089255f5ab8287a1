/* SPDX-License-Identifier: BSD-3-Clause */
/* The RX role's loop; see fc_rx.h for what it does and fc_tick.h for the tick protocol. */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf_dyn.h>

#include "fc_downlink.h"
#include "fc_rx.h"

static const char *const drop_names[FC_RX_DROP__COUNT] = {
	[FC_RX_DROP_UNKNOWN_TAG] = "unknown_tag",
	[FC_RX_DROP_RING_FULL] = "ring_full",
	[FC_RX_DROP_NO_TIMESTAMP] = "no_timestamp",
};

const char *
fc_rx_drop_name(enum fc_rx_drop d)
{
	return (unsigned int)d < FC_RX_DROP__COUNT ? drop_names[d] : "unknown";
}

static inline uint64_t
live_now(const struct fc_rx *rx, uint64_t tsc)
{
	uint64_t d = tsc - rx->tsc0;

	/* Split to keep d * 1e9 from overflowing after ~18 s at 1 GHz. */
	return rx->wall0_ns + (d / rx->tsc_hz) * UINT64_C(1000000000) +
	       ((d % rx->tsc_hz) * UINT64_C(1000000000)) / rx->tsc_hz;
}

/* asap (fc_tick.h): every frame received by `clock` is on the rings; only after the flush. */
static inline void
publish_clock(struct fc_rx *rx, uint64_t clock)
{
	if (rx->sync->asap && clock > rx->sync->rx[rx->index].clock_ns)
		fc_tick_store(&rx->sync->rx[rx->index].clock_ns, clock);
}

/* Sends what is staged for owner o, after any watermark still owed to it (ring order). */
static void
flush_owner(struct fc_rx *rx, uint32_t o)
{
	struct rte_ring *r = rx->ring[o];
	unsigned int n = rx->n_stage[o], sent = 0, free_space;

	if (rx->wm_sent[o] != rx->wm_want[o]) {
		struct fc_fix_rec wm = { .kind = FC_REC_WATERMARK, .tick = rx->wm_want[o] };

		if (rte_ring_enqueue_elem(r, &wm, sizeof(wm)) == 0)
			rx->wm_sent[o] = rx->wm_want[o];
	}
	if (n == 0)
		return;
	/* Records may not overtake a watermark still owed: they belong to a later tick. */
	if (rx->wm_sent[o] == rx->wm_want[o])
		sent = rte_ring_enqueue_burst_elem(r, rx->stage[o], sizeof(rx->stage[o][0]), n,
						   &free_space);
	else
		free_space = 0;
	rx->st.routed += sent;
	rx->st.drop[FC_RX_DROP_RING_FULL] += n - sent;
	rx->n_stage[o] = 0;
	if (sent > 0) {
		uint32_t used = rte_ring_get_capacity(r) - free_space;

		if (used > rx->st.ring_hwm[o])
			rx->st.ring_hwm[o] = used;
	}
}

static void
flush_all(struct fc_rx *rx)
{
	for (uint32_t o = 0; o < rx->n_owners; o++)
		if (rx->n_stage[o] != 0 || rx->wm_sent[o] != rx->wm_want[o])
			flush_owner(rx, o);
}

/* Closes every tick before t: staged records go first, then the watermark t - 1. */
static void
close_ticks_before(struct fc_rx *rx, uint64_t t)
{
	for (uint32_t o = 0; o < rx->n_owners; o++) {
		flush_owner(rx, o);
		rx->wm_want[o] = t - 1;
		flush_owner(rx, o);
	}
	rx->cur_tick = t;
}

static inline void
stage(struct fc_rx *rx, uint32_t o, const struct fc_fix_rec *rec)
{
	if (rx->n_stage[o] == FC_RX_STAGE)
		flush_owner(rx, o);
	rx->stage[o][rx->n_stage[o]++] = *rec;
}

/*
 * A fix inside a clue's disc whose home owner is not the shard's owner goes there too, once
 * per owner, marked for the game only: the home owner alone arbitrates its clues.
 */
static inline void
route_to_clues(struct fc_rx *rx, const struct fc_fix_rec *rec, uint32_t shard, uint32_t owner)
{
	const struct fc_disc_index *ix = rx->discs;
	uint32_t sent = UINT32_C(1) << owner;

	for (uint32_t k = ix->first[shard]; k < ix->first[shard + 1]; k++) {
		const struct fc_disc *d = &ix->disc[k];

		if (!(sent & (UINT32_C(1) << d->owner)) &&
		    fc_disc_contains(d, rec->x_mm, rec->y_mm)) {
			struct fc_fix_rec c = *rec;

			c.kind = FC_REC_CLUE_FIX;
			stage(rx, d->owner, &c);
			sent |= UINT32_C(1) << d->owner;
			rx->st.clue_routed++;
		}
	}
}

/* Feeds the gateway's minimum-delay filter with this frame; returns the offset to add. */
static inline int64_t
clock_offset(struct fc_rx *rx, const struct fc_gateway *gw, uint64_t base_ns)
{
	struct fc_gw_clock *c = &rx->clock[gw - rx->gw->gw];
	int64_t d = (int64_t)(rx->now_ns - base_ns);

	if (!c->started || rx->now_ns - c->bucket_start >= FC_RX_CLOCK_BUCKET_NS) {
		c->min_prev = c->started ? c->min_cur : d;
		c->min_cur = d;
		c->bucket_start = rx->now_ns;
		c->started = 1;
	} else if (d < c->min_cur) {
		c->min_cur = d;
	}
	return c->min_cur < c->min_prev ? c->min_cur : c->min_prev;
}

static void
route_fixes(struct fc_rx *rx, const struct fc_up_view *v, const struct fc_gateway *gw, uint64_t tsc)
{
	const int64_t offset = clock_offset(rx, gw, v->hdr.base_time_ns);
	const void *keys[FC_WIRE_MAX_PAYLOAD / sizeof(struct fc_up_fix)];
	uint64_t tags[RTE_DIM(keys)];
	void *data[RTE_DIM(keys)];
	uint32_t player[RTE_DIM(keys)], miss[RTE_DIM(keys)];
	struct fc_up_fix f[RTE_DIM(keys)];
	uint64_t hits = 0;
	unsigned int n = v->hdr.record_count, n_miss = 0;

	/*
	 * fc_up_parse() bounds a frame to 1400 bytes: at most 42 fixes. The cache answers most
	 * tags; the rest go to the rte_hash in one bulk lookup.
	 */
	for (unsigned int i = 0; i < n; i++) {
		const struct fc_tag_slot *c;

		fc_up_fix_at(v, i, &f[i]);
		c = &rx->tag_cache[fc_tag_slot_of(f[i].tag_id, rx->tag_cache_log2)];
		player[i] = c->tag == f[i].tag_id ? c->player1 : 0;
		if (player[i] == 0) {
			tags[n_miss] = f[i].tag_id;
			keys[n_miss] = &tags[n_miss];
			miss[n_miss++] = i;
		}
	}
	if (n_miss > 0) {
		rte_hash_lookup_bulk_data(rx->tags, keys, n_miss, &hits, data);
		for (unsigned int k = 0; k < n_miss; k++)
			if (hits & (UINT64_C(1) << k))
				player[miss[k]] = (uint32_t)(uintptr_t)data[k] + 1;
		rx->st.tag_misses += n_miss;
	}
	rx->st.fixes += n;
	for (unsigned int i = 0; i < n; i++) {
		struct fc_fix_rec rec;
		uint32_t shard, owner;

		if (player[i] == 0) {
			rx->st.drop[FC_RX_DROP_UNKNOWN_TAG]++;
			continue;
		}
		rec.meas_ns = (uint64_t)((int64_t)fc_up_fix_time_ns(v, &f[i]) + offset);
		rec.rx_tsc = tsc;
		rec.tick = rx->cur_tick;
		rec.x_mm = f[i].x_mm;
		rec.y_mm = f[i].y_mm;
		rec.z_mm = f[i].z_mm;
		rec.fix_seq = f[i].fix_seq;
		rec.player = (uint16_t)(player[i] - 1);
		rec.err_mm = f[i].err_mm;
		rec.quality = f[i].quality;
		rec.flags = f[i].flags;
		rec.kind = FC_REC_FIX;
		rec.reserved = 0;
		shard = fc_geom_shard_of(rx->geom, rec.x_mm, rec.y_mm);
		owner = fc_geom_owner_of_shard(rx->geom, shard);
		stage(rx, owner, &rec);
		if (rx->discs != NULL)
			route_to_clues(rx, &rec, shard, owner);
	}
}

/* A subscriber asks for missed events: checked, stamped with the tick, handed to TX. */
static void
retransmit_request(struct fc_rx *rx, const uint8_t *f, const struct fc_pkt_info *info)
{
	struct fc_rt_request r;
	struct fc_rt_req q;

	if (fc_rt_request_decode(f + info->payload_off, info->payload_len, &r) != FC_DL_OK) {
		rx->st.rt_dropped++; /* dropped silently, as docs/protocol.md section 6.2 says */
		return;
	}
	q = (struct fc_rt_req){
		.tick = rx->cur_tick,
		.first_event_seq = r.first_event_seq,
		.session_id = r.session_id,
		.src_ip = info->src_ip,
		.src_port = info->src_port,
		.count = r.count,
	};
	memcpy(q.src_mac, f + 6, sizeof(q.src_mac));
	if (rte_ring_enqueue_elem(rx->rt_ring, &q, sizeof(q)) != 0)
		rx->st.rt_dropped++;
	else
		rx->st.rt_requests++;
}

static void
handle_frame(struct fc_rx *rx, struct rte_mbuf *m, uint64_t tsc)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	struct fc_pkt_info info;
	struct fc_gateway *gw;
	struct fc_up_view v;
	enum fc_pkt_verdict pv;
	enum fc_up_err ue;

	/* Gateway frames are small: a multi-segment mbuf is only its first segment's bytes. */
	pv = fc_pkt_classify2(f, rte_pktmbuf_data_len(m), rx->local_ip, rx->udp_port, rx->rt_port,
			      &info);
	if (pv != FC_PKT_OK) {
		rx->st.pkt_drop[pv]++;
		return;
	}
	if (info.dst_port != rx->udp_port) {
		retransmit_request(rx, f, &info);
		return;
	}
	ue = fc_up_accept(rx->gw, f + info.payload_off, info.payload_len, rx->now_ns,
			  rx->clock_bound_ns, &v, &gw);
	if (ue != FC_UP_OK) {
		rx->st.up_drop[ue]++;
		return;
	}
	rx->st.gw_frames++;
	switch (v.hdr.msg_type) {
	case FC_UP_FIX_BATCH:
		route_fixes(rx, &v, gw, tsc);
		break;
	case FC_UP_GATEWAY_STATUS:
		rx->st.status_frames++;
		break;
	case FC_UP_GATEWAY_EVENT:
		rx->st.event_frames++;
		break;
	}
}

void
fc_rx_linger(struct fc_rx *rx)
{
	struct rte_mbuf *m[FC_RX_BURST];
	uint16_t n = rte_eth_rx_burst(rx->port, rx->queue, m, FC_RX_BURST);

	for (uint16_t i = 0; i < n; i++) {
		const uint8_t *f = rte_pktmbuf_mtod(m[i], const uint8_t *);
		struct fc_pkt_info info;

		if (rx->rt_ring != NULL &&
		    fc_pkt_classify2(f, rte_pktmbuf_data_len(m[i]), rx->local_ip, rx->udp_port,
				     rx->rt_port, &info) == FC_PKT_OK &&
		    info.dst_port != rx->udp_port) {
			rx->st.frames++;
			retransmit_request(rx, f, &info);
		} else {
			rx->lingered++; /* as if drained at exit: after the end, discarded */
		}
		rte_pktmbuf_free(m[i]);
	}
}

/*
 * The end of input: flush, publish the last tick, deliver the final watermark everywhere. The
 * last tick is published before the final watermark is sent, so an owner that has seen it
 * (and TX that has seen the owner's "done") also sees where the session ends (fc_tick.h).
 */
static bool
finish(struct fc_rx *rx)
{
	struct fc_tick_rx_pub *pub = &rx->sync->rx[rx->index];
	bool owed = false;

	if (!rx->finishing) {
		rx->finishing = true;
		/* Frames a lockstep wait held back when a stop came: freed, never applied. */
		for (; rx->i_pend < rx->n_pend; rx->i_pend++)
			rte_pktmbuf_free(rx->pend[rx->i_pend]);
		if (!rx->started) {
			fc_tick_store(&pub->first_tick, FC_TICK_NONE);
			pub->last_tick = FC_TICK_NONE;
		} else {
			pub->last_tick = rx->cur_tick;
		}
		fc_tick_store32(&pub->eof, 1);
		for (uint32_t o = 0; o < rx->n_owners; o++) {
			flush_owner(rx, o);
			rx->wm_want[o] = FC_TICK_NONE;
		}
	}
	for (uint32_t o = 0; o < rx->n_owners; o++) {
		flush_owner(rx, o);
		owed |= rx->wm_sent[o] != rx->wm_want[o];
	}
	if (owed)
		return true;
	rx->done = true;
	return false;
}

/*
 * Paced replay: is the frame stamped ts due (the TSC has run as long since the first frame as
 * the capture had, scaled by the speed)? *tsc becomes the time it is taken, for the latency.
 * When it is not, *clock becomes the capture time the TSC has reached (before ts). RX 0's
 * first frame sets the mapping TX times claims with (fc_tick.h, sync->clock).
 */
static inline bool
paced(struct fc_rx *rx, uint64_t ts, uint64_t *tsc, uint64_t *clock)
{
	uint64_t now = rte_rdtsc(), due, d;

	if (rx->pace_tsc0 == 0) {
		rx->pace_tsc0 = now;
		rx->pace_ts0 = ts;
		if (rx->index == 0) {
			rx->sync->clock.ns0 = ts;
			rx->sync->clock.tsc0 = now;
			rx->sync->clock.hz = rx->pace_hz;
			fc_tick_store32(&rx->sync->clock.set, 1);
		}
	}
	d = ts > rx->pace_ts0 ? ts - rx->pace_ts0 : 0;
	/* Split so that d * hz cannot overflow (a minute at 2.6 GHz would). */
	due = rx->pace_tsc0 + d / UINT64_C(1000000000) * rx->pace_hz +
	      d % UINT64_C(1000000000) * rx->pace_hz / UINT64_C(1000000000);
	if (now < due) {
		d = now - rx->pace_tsc0;
		*clock = rx->pace_ts0 + d / rx->pace_hz * UINT64_C(1000000000) +
			 d % rx->pace_hz * UINT64_C(1000000000) / rx->pace_hz;
		return false;
	}
	*tsc = now;
	return true;
}

void
fc_rx_start_live(struct fc_rx *rx)
{
	uint64_t t;

	rx->now_ns = live_now(rx, rte_rdtsc());
	t = fc_tick_of(rx->sync, rx->now_ns);
	rx->started = true;
	close_ticks_before(rx, t);
	fc_tick_store(&rx->sync->rx[rx->index].first_tick, t);
}

bool
fc_rx_poll(struct fc_rx *rx)
{
	const bool replay = rx->sync->replay;
	uint64_t tsc, clock;

	if (rx->done)
		return false;
	if (rx->finishing || fc_tick_load32(&rx->sync->ctl.stop))
		return finish(rx);

	if (rx->i_pend == rx->n_pend) {
		rx->n_pend = rte_eth_rx_burst(rx->port, rx->queue, rx->pend, FC_RX_BURST);
		rx->i_pend = 0;
		if (rx->n_pend == 0) {
			/* net_pcap reads the capture synchronously: an empty burst is its end. */
			if (replay)
				return finish(rx);
			rx->now_ns = live_now(rx, rte_rdtsc());
			if (fc_tick_of(rx->sync, rx->now_ns) > rx->cur_tick)
				close_ticks_before(rx, fc_tick_of(rx->sync, rx->now_ns));
			flush_all(rx);
			publish_clock(rx, rx->now_ns);
			return true;
		}
		rx->st.frames += rx->n_pend;
		rx->st.bursts++;
	}

	tsc = rte_rdtsc();
	if (!replay)
		rx->now_ns = live_now(rx, tsc);
	/* Replay: a later frame may carry the same microsecond as the last one applied. */
	clock = replay && rx->now_ns != 0 ? rx->now_ns - 1 : rx->now_ns;
	for (; rx->i_pend < rx->n_pend; rx->i_pend++) {
		struct rte_mbuf *m = rx->pend[rx->i_pend];
		uint64_t t;

		if (replay) {
			if (!(m->ol_flags & rx->ts_flag)) {
				rx->st.drop[FC_RX_DROP_NO_TIMESTAMP]++;
				rte_pktmbuf_free(m);
				continue;
			}
			/* net_pcap stamps microseconds; the clock never runs backwards. */
			uint64_t ts = *RTE_MBUF_DYNFIELD(m, rx->ts_offset, rte_mbuf_timestamp_t *) *
				      UINT64_C(1000);

			if (rx->pace_hz != 0 && !paced(rx, ts, &tsc, &clock))
				break; /* not due yet: the rest of the burst waits for its time */
			if (ts > rx->now_ns)
				rx->now_ns = ts;
			clock = rx->now_ns - 1;
		}
		t = fc_tick_of(rx->sync, rx->now_ns);
		if (!rx->started) {
			rx->started = true;
			fc_tick_store(&rx->sync->rx[rx->index].first_tick, t);
			close_ticks_before(rx, t);
		} else if (t > rx->cur_tick) {
			close_ticks_before(rx, t);
		}
		if (!fc_tick_may_apply(rx->sync, t))
			break; /* replay lockstep: keep the rest of the burst for the next poll */
		if (unlikely(t != rx->swap_tick))
			fc__rx_swap(rx, t); /* a tick boundary: floorctl's changes, if any */
		handle_frame(rx, m, tsc);
		rte_pktmbuf_free(m);
		if (!replay)
			clock = rx->now_ns;
	}
	flush_all(rx);
	publish_clock(rx, clock);
	return true;
}

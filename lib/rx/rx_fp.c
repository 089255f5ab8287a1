/* SPDX-License-Identifier: BSD-3-Clause */
/* The RX role's loop; see fc_rx.h for what it does and fc_tick.h for the tick protocol. */
#include <assert.h>
#include <stddef.h>
#include <string.h>

#include <rte_byteorder.h>
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

/* Slots of owner o's window written so far. */
static inline uint32_t
win_used(const struct fc_rx_win *w)
{
	if (w->end == w->p1 + w->n1) /* still in the first run */
		return (uint32_t)(w->next - w->p1);
	return w->n1 + (uint32_t)(w->next - w->p2);
}

/* Commits the records written in owner o's window: the owner sees them from now on. */
static void
commit(struct fc_rx *rx, uint32_t o)
{
	struct fc_rx_win *w = &rx->win[o];
	uint32_t n_used;

	if (w->n == 0)
		return;
	n_used = win_used(w);
	rte_ring_enqueue_zc_elem_finish(rx->ring[o], n_used);
	rx->st.routed += n_used;
	if (n_used > 0) {
		/* The free space after the commit: what the reservation left, plus unused slots. */
		uint32_t used = rte_ring_get_capacity(rx->ring[o]) - (w->free + w->n - n_used);

		if (used > rx->st.ring_hwm[o])
			rx->st.ring_hwm[o] = used;
	}
	*w = (struct fc_rx_win){ .n = 0 };
}

/* Commits what is written for owner o, then sends the watermark still owed to it, if any. */
static void
flush_owner(struct fc_rx *rx, uint32_t o)
{
	commit(rx, o);
	if (rx->wm_sent[o] != rx->wm_want[o]) {
		struct fc_fix_rec wm = { .kind = FC_REC_WATERMARK, .tick = rx->wm_want[o] };

		if (rte_ring_enqueue_elem(rx->ring[o], &wm, sizeof(wm)) == 0)
			rx->wm_sent[o] = rx->wm_want[o];
	}
}

static void
flush_all(struct fc_rx *rx)
{
	for (uint32_t o = 0; o < rx->n_owners; o++)
		if (rx->win[o].n != 0 || rx->wm_sent[o] != rx->wm_want[o])
			flush_owner(rx, o);
}

/* Closes every tick before t: written records go first, then the watermark t - 1. */
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

/*
 * The slow path of slot(): moves to the second run of the window after a wrap-around, or
 * commits the full window and reserves the next one. Records may not overtake a watermark still
 * owed: they belong to a later tick, so while it cannot be sent there is no slot. NULL: no room
 * (the caller counts the drop).
 */
static __rte_noinline struct fc_fix_rec *
reserve(struct fc_rx *rx, uint32_t o)
{
	struct fc_rx_win *w = &rx->win[o];
	struct rte_ring_zc_data zcd;
	unsigned int free_space, n;

	if (w->n != 0 && w->end == w->p1 + w->n1 && w->n > w->n1) {
		w->next = w->p2 + 1;
		w->end = w->p2 + (w->n - w->n1);
		return w->p2;
	}
	flush_owner(rx, o);
	if (rx->wm_sent[o] != rx->wm_want[o])
		return NULL;
	n = rte_ring_enqueue_zc_burst_elem_start(rx->ring[o], sizeof(struct fc_fix_rec),
						 FC_RX_STAGE, &zcd, &free_space);
	if (n == 0)
		return NULL;
	w->p1 = zcd.ptr1;
	w->p2 = zcd.ptr2;
	w->n1 = zcd.n1;
	w->n = n;
	w->free = free_space;
	w->next = w->p1 + 1;
	w->end = w->p1 + w->n1;
	return w->p1;
}

/* The next ring slot for owner o, or NULL if its ring has no room. */
static inline struct fc_fix_rec *
slot(struct fc_rx *rx, uint32_t o)
{
	struct fc_rx_win *w = &rx->win[o];
	struct fc_fix_rec *r = w->next;

	if (likely(r < w->end)) {
		w->next = r + 1;
		return r;
	}
	return reserve(rx, o);
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
			struct fc_fix_rec *c = slot(rx, d->owner);

			if (c != NULL) {
				*c = *rec;
				c->kind = FC_REC_CLUE_FIX;
			} else {
				rx->st.drop[FC_RX_DROP_RING_FULL]++;
			}
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

/* Little-endian loads at any alignment: the uplink's fields, read in place in the frame. */
static inline uint32_t
le32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return rte_le_to_cpu_32(v);
}

static inline uint64_t
le64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return rte_le_to_cpu_64(v);
}

/* Tags the cache does not hold go to the rte_hash, the authority. */
static __rte_noinline bool
tag_lookup(struct fc_rx *rx, uint64_t tag, uint32_t *player)
{
	void *data;

	rx->st.tag_misses++;
	if (rte_hash_lookup_data(rx->tags, &tag, &data) < 0)
		return false;
	*player = (uint32_t)(uintptr_t)data;
	return true;
}

#define FIX_OFF(f) offsetof(struct fc_up_fix, f)

/* The in-place reads below copy runs of fields that sit together in both layouts. */
static_assert(FIX_OFF(y_mm) == FIX_OFF(x_mm) + 4 && FIX_OFF(z_mm) == FIX_OFF(x_mm) + 8 &&
		      offsetof(struct fc_fix_rec, y_mm) == offsetof(struct fc_fix_rec, x_mm) + 4 &&
		      offsetof(struct fc_fix_rec, z_mm) == offsetof(struct fc_fix_rec, x_mm) + 8,
	      "x, y, z in a row");
static_assert(FIX_OFF(quality) == FIX_OFF(err_mm) + 2 && FIX_OFF(flags) == FIX_OFF(err_mm) + 3 &&
		      offsetof(struct fc_fix_rec, quality) ==
			      offsetof(struct fc_fix_rec, err_mm) + 2 &&
		      offsetof(struct fc_fix_rec, flags) == offsetof(struct fc_fix_rec, err_mm) + 3,
	      "err_mm, quality, flags in a row");

/*
 * The frame's fixes, each read in place (fc_up_parse() bounds a frame to 1400 bytes: at most 42
 * fixes), mapped to its player, routed to the owner of its shard and written once, into that
 * owner's ring. one_owner (one owner and no clues: every fix goes to owner 0 and its shard is
 * never needed) is a constant in each of the two copies route_fixes() makes of this loop; in
 * that copy the window's cursor stays in registers.
 */
static __rte_always_inline void
route_loop(struct fc_rx *rx, const struct fc_up_view *v, uint64_t base, uint64_t tsc,
	   const bool one_owner)
{
	const uint64_t tick = rx->cur_tick;
	const struct fc_tag_slot *const cache = rx->tag_cache;
	const uint32_t cache_log2 = rx->tag_cache_log2;
	const struct fc_geom *g = rx->geom;
	const unsigned int n = v->hdr.record_count, stride = v->hdr.record_len;
	const uint8_t *f = v->records;
	struct fc_rx_win *const w0 = &rx->win[0];
	struct fc_fix_rec *next = w0->next, *end = w0->end;

	for (unsigned int i = 0; i < n; i++, f += stride) {
		const uint64_t tag = le64_at(f + FIX_OFF(tag_id));
		const struct fc_tag_slot *c = &cache[fc_tag_slot_of(tag, cache_log2)];
		struct fc_fix_rec *rec, dropped;
		uint32_t player, shard = 0, owner = 0;

		if (likely(c->tag == tag && c->player1 != 0)) {
			player = c->player1 - 1;
		} else if (!tag_lookup(rx, tag, &player)) {
			rx->st.drop[FC_RX_DROP_UNKNOWN_TAG]++;
			continue;
		}
		if (one_owner) {
			if (likely(next < end)) {
				rec = next++;
			} else {
				w0->next = next;
				rec = reserve(rx, 0);
				next = w0->next;
				end = w0->end;
			}
		} else {
			shard = fc_geom_shard_of(g, (int32_t)le32_at(f + FIX_OFF(x_mm)),
						 (int32_t)le32_at(f + FIX_OFF(y_mm)));
			owner = fc_geom_owner_of_shard(g, shard);
			rec = slot(rx, owner);
		}
		if (unlikely(rec == NULL)) {
			rx->st.drop[FC_RX_DROP_RING_FULL]++;
			rec = &dropped; /* still offered to the clues' home owners, as before */
		}
		rec->meas_ns = base + (uint64_t)le32_at(f + FIX_OFF(dt_us)) * 1000u;
		rec->rx_tsc = tsc;
		rec->tick = tick;
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
		memcpy(&rec->x_mm, f + FIX_OFF(x_mm), 3 * sizeof(int32_t));
		memcpy(&rec->err_mm, f + FIX_OFF(err_mm), 4);
#else
		rec->x_mm = (int32_t)le32_at(f + FIX_OFF(x_mm));
		rec->y_mm = (int32_t)le32_at(f + FIX_OFF(y_mm));
		rec->z_mm = (int32_t)le32_at(f + FIX_OFF(z_mm));
		rec->err_mm = rte_le_to_cpu_16(*(const unaligned_uint16_t *)(f + FIX_OFF(err_mm)));
		rec->quality = f[FIX_OFF(quality)];
		rec->flags = f[FIX_OFF(flags)];
#endif
		rec->fix_seq = le32_at(f + FIX_OFF(fix_seq));
		rec->player = (uint16_t)player;
		rec->kind = FC_REC_FIX;
		rec->reserved = 0;
		if (!one_owner && rx->discs != NULL)
			route_to_clues(rx, rec, shard, owner);
	}
	if (one_owner)
		w0->next = next;
}

/* Kept out of line: perf/bench_ipf.sh shows it as the routing stage. */
static __rte_noinline void
route_fixes(struct fc_rx *rx, const struct fc_up_view *v, const struct fc_gateway *gw, uint64_t tsc)
{
	const int64_t offset = clock_offset(rx, gw, v->hdr.base_time_ns);
	/* (base + dt) + offset, wrapping as the signed sum did: the same bits. */
	const uint64_t base = v->hdr.base_time_ns + (uint64_t)offset;

	rx->st.fixes += v->hdr.record_count;
	if (rx->geom->n_owners == 1 && rx->discs == NULL)
		route_loop(rx, v, base, tsc, true);
	else
		route_loop(rx, v, base, tsc, false);
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
	uint16_t first;
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
	first = rx->i_pend;
	for (; rx->i_pend < rx->n_pend; rx->i_pend++) {
		struct rte_mbuf *m = rx->pend[rx->i_pend];
		uint64_t t;

		if (replay) {
			if (!(m->ol_flags & rx->ts_flag)) {
				rx->st.drop[FC_RX_DROP_NO_TIMESTAMP]++;
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
		if (!replay)
			clock = rx->now_ns;
	}
	flush_all(rx);
	publish_clock(rx, clock);
	/* The frames taken in this poll, freed together (a lockstep or pacing break keeps the
	 * rest): one bulk put to the mempool instead of one per frame. */
	if (rx->i_pend > first)
		rte_pktmbuf_free_bulk(rx->pend + first, rx->i_pend - first);
	return true;
}

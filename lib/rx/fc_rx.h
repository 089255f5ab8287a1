/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The RX role: one per RX queue, on its own lcore or sharing one. Per burst of frames from the
 * NIC: classify the headers (fc_pkt), accept the gateway frame (fc_uplink: structure, gateway,
 * replay window, MAC, clock bound), map each fix's tag to its player (rte_hash, built at start,
 * read-only), route it to the owner of its shard (fc_geom) and enqueue fixed-size records in
 * bursts on the SP/SC ring to that owner, which lives on the owner's NUMA node. mbufs are freed
 * here and never cross cores. Nothing is allocated, locked, logged or syscalled after start:
 * every frame that is not used is a counted drop by reason.
 */
#ifndef FC_RX_H
#define FC_RX_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_hash.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "fc_gateways.h"
#include "fc_grid.h"
#include "fc_pkt.h"
#include "fc_tick.h"
#include "fc_uplink.h"

#define FC_RX_BURST 32u
#define FC_RX_STAGE 64u /* ring slots reserved per owner at a time (records per enqueue) */

/* Drops and events the RX role counts besides fc_pkt and fc_uplink verdicts. */
enum fc_rx_drop {
	FC_RX_DROP_UNKNOWN_TAG = 0, /* a fix of a tag that is not in the roster */
	FC_RX_DROP_RING_FULL,       /* the owner's ring had no room: the owner is too slow */
	FC_RX_DROP_NO_TIMESTAMP,    /* replay: a frame without the capture's timestamp */
	FC_RX_DROP__COUNT
};

const char *fc_rx_drop_name(enum fc_rx_drop d);

/*
 * Per gateway, the offset of its clock from ours: a minimum-delay filter. Every accepted frame
 * gives d = (our clock at arrival) - (the frame's base time); queueing only ever adds to d, so
 * the smallest d seen is the clock offset plus the gateway's least transport delay. Two 10 s
 * buckets (the current one and the last) follow drift while keeping at least 10 s of samples.
 * A fix's corrected measurement time is its gateway time + this offset (docs/game.md).
 */
#define FC_RX_CLOCK_BUCKET_NS UINT64_C(10000000000)

struct fc_gw_clock {
	int64_t min_cur;  /* smallest d in the current bucket */
	int64_t min_prev; /* smallest d in the previous bucket */
	uint64_t bucket_start;
	uint32_t started;
};

/* A retransmit request, on its way to TX (docs/protocol.md section 6). */
struct fc_rt_req {
	uint64_t tick; /* received in: TX answers it with that tick */
	uint64_t first_event_seq;
	uint32_t session_id;
	uint32_t src_ip; /* host order: where the reply goes */
	uint16_t src_port;
	uint16_t count;
	uint8_t src_mac[6];
	uint16_t reserved;
};

/*
 * A direct-mapped cache of tag -> player in front of the rte_hash, per RX lcore, filled from the
 * roster at start: one multiply, one load and one compare where the rte_hash bulk lookup costs
 * about 190 instructions a fix (perf/README.md). Tags that collide in the cache, and unknown
 * tags, go to the rte_hash, which stays the authority.
 */
struct fc_tag_slot {
	uint64_t tag;
	uint32_t player1; /* player + 1; 0: empty */
	uint32_t reserved;
};

/*
 * What an RX reads to map tags, for one roster generation (floorctl's roster add/remove build a
 * new one; fc_tick.h, "Swaps"): the table, and this RX's own cache, both read-only once
 * published.
 */
struct fc_rx_tags {
	const struct rte_hash *tags;
	struct fc_tag_slot *cache;
	uint32_t cache_log2;
};

/*
 * Records are written once, straight into the owner's ring: the rte_ring zero-copy API reserves
 * up to FC_RX_STAGE slots (the ring is single-producer: this RX is its only writer), the fixes
 * are written in them, and the slots used are committed at the end of the burst, when the
 * window is full, or before a watermark. A copy into a staging array and a second copy into the
 * ring cost about 55 instructions a fix (perf/README.md).
 */
struct fc_rx_win {
	struct fc_fix_rec *next; /* the next slot to write */
	struct fc_fix_rec *end;  /* the end of the run next is in */
	struct fc_fix_rec *p1;   /* the first n1 slots */
	struct fc_fix_rec *p2;   /* the rest, after the ring's wrap-around (NULL: none) */
	uint32_t n1;
	uint32_t n;    /* slots reserved; 0: no window open */
	uint32_t free; /* free ring slots after the reservation */
	uint32_t reserved;
};

struct fc_rx_stats {
	uint64_t frames;        /* received from the NIC */
	uint64_t bursts;        /* non-empty bursts */
	uint64_t gw_frames;     /* accepted gateway frames */
	uint64_t fixes;         /* fixes in accepted frames */
	uint64_t routed;        /* records enqueued to owners */
	uint64_t clue_routed;   /* copies to a clue's home owner across a stripe border */
	uint64_t status_frames; /* gateway status frames accepted */
	uint64_t event_frames;  /* gateway event frames accepted */
	uint64_t tag_misses;    /* fixes whose tag the cache did not hold (rte_hash asked) */
	uint64_t rt_requests;   /* retransmit requests handed to TX */
	uint64_t rt_dropped;    /* malformed (short, bad magic/version, count 0) or TX too busy */
	uint64_t pkt_drop[FC_PKT__COUNT];
	uint64_t up_drop[FC_UP_E__COUNT];
	uint64_t drop[FC_RX_DROP__COUNT];
	uint32_t ring_hwm[FC_TICK_MAX_OWNERS]; /* highest ring occupancy seen after an enqueue */
};

struct fc_rx {
	/* set up by the dataplane, read-only in the loop */
	uint32_t index; /* 0 .. n_rx - 1 */
	uint16_t port;
	uint16_t queue;
	uint32_t n_owners;
	struct rte_ring *ring[FC_TICK_MAX_OWNERS]; /* to each owner */
	struct fc_gw_table *gw;                    /* this RX's own copy: its replay windows */
	const struct rte_hash *tags;               /* tag id -> player */
	struct fc_tag_slot *tag_cache;             /* 1 << tag_cache_log2 slots, or NULL */
	uint32_t tag_cache_log2;
	const struct fc_geom *geom;
	const struct fc_disc_index *discs; /* clue discs, NULL without a game */
	struct fc_gw_clock *clock;         /* per gateway of gw (same index), this RX's own */
	uint16_t rt_port;                  /* the retransmit service's port, 0 off */
	struct rte_ring *rt_ring;          /* requests to TX: struct fc_rt_req */
	struct fc_tick_sync *sync;
	uint32_t local_ip;
	uint16_t udp_port;
	uint64_t clock_bound_ns;
	int ts_offset; /* mbuf timestamp dynfield (replay), -1 live */
	uint64_t ts_flag;
	uint64_t wall0_ns, tsc0, tsc_hz; /* live clock: wall0 + (tsc - tsc0) / hz */
	uint64_t pace_hz;                /* paced replay: TSC ticks a capture second; 0 off */
	uint64_t roster_gen;             /* the generations tags/tag_cache and discs belong to */
	uint64_t layout_gen;
	uint64_t swap_tick;           /* the tick whose swaps were checked last */
	uint64_t pace_ts0, pace_tsc0; /* the first frame's capture time and TSC */

	/* loop state */
	bool started;   /* first frame seen (replay) or first tick published (live) */
	bool finishing; /* end of input: flushing the final watermarks */
	bool done;
	uint64_t lingered; /* frames discarded after the end of session (fc_rx_linger()) */
	uint64_t now_ns;
	uint64_t cur_tick;
	uint16_t n_pend, i_pend;
	struct rte_mbuf *pend[FC_RX_BURST];
	uint64_t wm_want[FC_TICK_MAX_OWNERS]; /* watermark owed to each owner */
	uint64_t wm_sent[FC_TICK_MAX_OWNERS];
	struct fc_rx_win win[FC_TICK_MAX_OWNERS];

	struct fc_rx_stats st __rte_cache_aligned;
} __rte_cache_aligned;

/* The cache slot of a tag: Fibonacci hashing, the top bits of tag x 2^64 / phi. */
static inline uint32_t
fc_tag_slot_of(uint64_t tag, uint32_t log2)
{
	return (uint32_t)((tag * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - log2));
}

/*
 * One unit of RX work: a burst (or what is left of one after a lockstep wait), ticks closed
 * on the way, records flushed. Returns false once the role has finished (end of capture or
 * stop requested, final watermarks delivered).
 */
bool fc_rx_poll(struct fc_rx *rx);

/*
 * At a tick boundary (the first frame of tick t to be applied): adopts the roster and the clue
 * layout TX has published (fc_tick.h, "Swaps") and says so in this RX's `used`. Control of the
 * rx_fp.c loop only; never allocates, frees or waits.
 */
void fc__rx_swap(struct fc_rx *rx, uint64_t t);

/* Live mode: publish the first tick and close the ticks before it. Call once before polling. */
void fc_rx_start_live(struct fc_rx *rx);

/*
 * Live, after the end of session: one burst, of which only retransmit requests are kept (to
 * TX, which answers them with fc_tx_linger()); every other frame is freed, counted in
 * `lingered` (the report's frames discarded at the end). Lets subscribers recover the
 * session's last events, which no snapshot brings after the end.
 */
void fc_rx_linger(struct fc_rx *rx);

#endif /* FC_RX_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * floorgen's internals, shared by the files of lib/gen: the random streams, the walkers, the
 * fixes and frames in flight, and the generator itself. See fc_gen.h for the model.
 */
#ifndef FC_GEN_PRIV_H
#define FC_GEN_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "fc_game.h"
#include "fc_gen.h"
#include "fc_replay_window.h"

#define FC__GEN_Z_MM      1100
#define FC__GEN_ERR_MM    20
#define FC__GEN_QUALITY   90
#define FC__GEN_FLAGS     FC_FIX_TECH_UWB
#define FC__GEN_NO_PLAYER UINT32_MAX
#define FC__GEN_TTL       64

/* floord's port as gateways address it */
extern const uint8_t fc__gen_dst_mac[6];

/* Purposes of the random streams: one stream per (seed, purpose, index). */
enum fc__gen_stream {
	FC__GEN_S_PLAYER = 1,
	FC__GEN_S_LATENCY = 2,
	FC__GEN_S_NOISE = 3,  /* per player: its fixes' errors */
	FC__GEN_S_DUP = 4,    /* per player: which fixes a second gateway reports */
	FC__GEN_S_CLOCK = 5,  /* per gateway id: clock offset and drift */
	FC__GEN_S_IMPAIR = 6, /* per gateway id: loss, reordering, lateness of its frames */
	FC__GEN_S_RATE = 7,   /* per player: whether it is of the rate fraction */
};

/*
 * splitmix64 (Steele, Lea, Flood 2014): 8 bytes of state, passes BigCrush, and any 64-bit
 * seed is a good one, so every player can have its own stream cheaply.
 */
static inline uint64_t
fc__gen_rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1), 53 bits. */
static inline double
fc__gen_rng_unit(uint64_t *s)
{
	return (double)(fc__gen_rng_next(s) >> 11) * 0x1.0p-53;
}

/* Uniform in [a, b). */
static inline double
fc__gen_rng_uniform(uint64_t *s, double a, double b)
{
	return a + (b - a) * fc__gen_rng_unit(s);
}

/* Uniform integer in [0, n), n >= 1 (Lemire's multiply; the bias is below 2^-32). */
static inline uint32_t
fc__gen_rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((fc__gen_rng_next(s) >> 32) * (uint64_t)n) >> 32);
}

uint64_t fc__gen_rng_seed(uint64_t seed, unsigned int stream, uint64_t index);

/* A place legs can head for: a clue of the layout, inside the floor's margins. */
struct fc__gen_spot {
	double x, y;
	double weight; /* cumulative: spot i is chosen for u in [weight[i-1], weight[i]) */
};

/* The floor a walker moves on, and how it walks. */
struct fc__gen_floor {
	double w, h;                 /* mm */
	double cx, cy;               /* the centre */
	double speed_min, speed_max; /* mm/s */
	double pause_prob, pause_min, pause_max;
	double attraction; /* 0: no draw for it at all */
	double clue_pause_min, clue_pause_max;
	double approach; /* mm */
	struct fc__gen_spot *spots;
	uint32_t n_spots;
	double total_weight;
};

/* One player's path; positions in mm, as doubles, rounded when a fix is taken. */
struct fc__gen_walker {
	double x, y;
	double tx, ty; /* the waypoint */
	double ux, uy; /* unit vector towards it */
	double left;   /* mm still to walk on this leg */
	double speed;  /* mm/s */
	double pause;  /* s still to stand */
	uint64_t rng;
	bool converge; /* crowded: walks to the centre and stays */
	bool holding;  /* arrived at the centre */
	bool to_clue;  /* this leg ends at a clue */
};

void fc__gen_walker_init(struct fc__gen_walker *w, const struct fc__gen_floor *f, uint64_t rng,
			 bool converge);
void fc__gen_walker_step(struct fc__gen_walker *w, const struct fc__gen_floor *f, double dt);

static inline int32_t
fc__gen_round(double v)
{
	/* floor(v + 0.5) for the positive values a floor has, without libm on the hot path */
	return (int32_t)(v + 0.5);
}

/* One measured fix before encoding. */
struct fc__gen_fix {
	uint64_t t_us; /* measurement time from the capture start */
	uint64_t tag_id;
	uint32_t pidx; /* player index (roster order), FC__GEN_NO_PLAYER for a stranger tag */
	uint32_t fix_seq;
	int32_t x_mm;
	int32_t y_mm;
	uint16_t err_mm;
	uint8_t quality;
	uint8_t flags;
	uint32_t extra; /* 0 the fix as its gateway heard it; 1 overlap, 2 duplicate report */
};

struct fc__gen_fixbuf {
	struct fc__gen_fix *v;
	uint32_t n;
	uint32_t cap;
};

/* A player as the generator iterates them: sorted by (phase, index), so that going round
 * after round through this array yields every fix in time order. */
struct fc__gen_player {
	struct fc__gen_walker w;
	uint64_t tag_id;
	uint32_t pidx;
	uint32_t phase_us;
	uint32_t period_us; /* its tag's fix period */
	uint64_t next_k;    /* per-tag rates: the round of its next fix */
	uint32_t fix_seq;   /* of the last fix taken */
	int32_t last_x;     /* and its reported position */
	int32_t last_y;
	uint64_t noise_rng;
	uint64_t dup_rng;
};

struct fc__gen_taken {
	struct fc__gen_fix f;
	struct fc__gen_player *pl;
};

/* A frame between encoding and the sink: capture order is (ts, gateway index, order). */
struct fc__gen_frame {
	uint64_t ts_us; /* capture time from the start */
	uint64_t order; /* creation order: send order within a gateway */
	uint32_t gidx;  /* gateway index, n_gateways for frames not from a gateway */
	uint32_t len;
	int cls;         /* -1 a valid frame, else enum fc_gen_hostile */
	uint8_t delayed; /* 0 on time, 1 reordered, 2 late */
	uint64_t seq;    /* gateway frames with a valid MAC: the seq, for the window model */
	int64_t base_ns; /* and the base time */
	uint32_t n_rec;
	struct fc__gen_fix rec[FC_GEN_MAX_FIXES]; /* what a valid frame carries, for the tally */
	uint8_t data[FC_GEN_FRAME_MAX];
};

/* A planned hostile frame. */
struct fc__gen_hostile {
	enum fc_gen_hostile cls;
	uint64_t send_us;
	uint32_t gidx;          /* the sending gateway; n_gateways for frames not from a gateway */
	struct fc__gen_fix fix; /* the record it carries */
};

struct fc__gen_gw {
	const struct fc_mac_key *key;
	uint32_t last_slot;         /* slots 0 .. last_slot are sent */
	uint32_t counter;           /* the low half of the last seq used */
	struct fc__gen_fixbuf cur;  /* fixes for this step's send */
	struct fc__gen_fixbuf next; /* fixes after it, for the next one */
	bool inject_unknown_tag;    /* the next frame with room gets the stranger tag's fix */
	uint64_t inject_after_us;
	uint8_t last_valid[FC_WIRE_MAX_PAYLOAD]; /* replay_dup repeats the last valid payload */
	uint32_t last_valid_len;
	uint64_t impair_rng;
	/* the receiver as the tally models it: the replay window and the clock filter */
	struct fc_replay_window window;
	int64_t clk_min_cur, clk_min_prev;
	uint64_t clk_bucket_start;
	bool clk_started;
};

struct fc_gen {
	struct fc_gen_params p;
	struct fc__gen_floor floor;
	uint64_t start_ns;
	uint64_t dur_us;
	uint32_t period_us; /* rate_hz's; the longest of all tags' in max_period_us */
	uint32_t max_period_us;
	bool uniform_rate; /* every tag at rate_hz: the players go round by round */
	uint32_t n_gw;
	struct fc_gen_gateway *gwi; /* public view */
	struct fc__gen_gw *gw;
	struct fc__gen_player *players; /* n_players, sorted by (phase, index) */
	uint32_t n_conv;
	struct fc_gen_final *final; /* by player index */
	uint64_t *final_corr_ns;    /* the candidate's time as floord corrects it, by player */
	bool impaired;              /* loss, reordering or lateness: the last fix may not win */
	bool split_dup;             /* overlap or duplicates: fixes go to more than one gateway */
	double noise_sigma;         /* mm; 0: exact positions */
	uint8_t fix_flags;
	uint8_t fix_quality;
	uint32_t cols, rows; /* coverage cells */
	struct fc_gen_result res;
	uint64_t ran;

	/* hostile plan */
	uint32_t n_hostile;
	struct fc__gen_hostile hostile[FC_GEN_H__COUNT];
	uint32_t held_pidx; /* the older_fix: this fix is held back from its regular frame */
	uint32_t held_seq;
	uint32_t dup_pidx; /* duplicate_fix: this fix and the next are never impaired */
	uint32_t dup_seq;
	uint64_t stranger_tag;
	uint32_t rogue_gw; /* unknown_gateway's id */
	struct fc_mac_key rogue_key;

	/* frames in flight */
	struct fc__gen_frame **pool; /* free frames */
	uint32_t n_pool;
	uint32_t cap_pool;
	struct fc__gen_frame **pending; /* encoded, waiting for capture order */
	uint32_t n_pending;
	uint32_t cap_pending;
	uint64_t order;

	/* per-tag rates: one step's fixes, put in time order before they are bucketed */
	struct fc__gen_taken *taken;
	uint32_t n_taken;
	uint32_t cap_taken;

	/* the check: a receiver of its own */
	struct fc_gw_table *rx_keys;

	const struct fc_gen_live *live; /* for the summary */

	char *err;
	size_t err_len;
};

int fc__gen_fail(struct fc_gen *g, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* hostile.c */
int fc__gen_plan_hostile(struct fc_gen *g);
int fc__gen_encode_hostile(struct fc_gen *g, const struct fc__gen_hostile *h,
			   struct fc__gen_frame *f);

/* gen.c, for hostile.c */
uint64_t fc__gen_send_slot(const struct fc_gen *g, uint32_t gidx, uint64_t t_us);
uint32_t fc__gen_zone(const struct fc_gen *g, int32_t x_mm, int32_t y_mm);
int64_t fc__gen_gw_clock_us(const struct fc_gen *g, uint32_t gidx, int64_t t_us);
bool fc__gen_protected(const struct fc_gen *g, uint32_t pidx, uint32_t fix_seq);
int fc__gen_simulate_player(const struct fc_gen *g, uint32_t pidx, struct fc__gen_fixbuf *out);
uint32_t fc__gen_period_of(const struct fc_gen *g, uint32_t pidx);
int fc__gen_fixbuf_push(struct fc__gen_fixbuf *b, const struct fc__gen_fix *f);
int fc__gen_encode_fixes(struct fc_gen *g, uint32_t gidx, uint64_t send_us, uint64_t seq,
			 const struct fc__gen_fix *rec, uint32_t n, struct fc__gen_frame *f);
void fc__gen_put_headers(const struct fc_gen *g, uint32_t gw_id, struct fc__gen_frame *f,
			 uint32_t payload_len);
void fc__gen_gw_addr(uint32_t id, uint8_t mac[6], uint32_t *ip, uint16_t *port);

#endif /* FC_GEN_PRIV_H */

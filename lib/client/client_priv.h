/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals of the subscriber library: the client's structure, shared by client.c (the
 * recovery state machine of docs/protocol.md section 7), state.c (the floor state of section
 * 4.7 and the snapshot being collected) and evbuf.c (the events held ahead of a gap).
 */
#ifndef FC_CLIENT_PRIV_H
#define FC_CLIENT_PRIV_H

#include "fc_client.h"
#include "fc_downlink.h"

/* docs/protocol.md section 7's constants. */
#define FC__CLIENT_RT_TIMEOUT_NS 100000000ull    /* a request's deadline */
#define FC__CLIENT_RT_RETRIES    2u              /* 3 attempts in all */
#define FC__CLIENT_MAX_GAP       FC_RT_MAX_COUNT /* largest gap recovered by retransmit: 256 */
#define FC__CLIENT_PKT_WINDOW    1024u           /* packet_seqs remembered below the highest */
#define FC__CLIENT_LIVENESS_NS   1000000000ull   /* channel 0 sends every tick: 1 s is "down" */
/*
 * After an end of session, how long the library waits for a recovery that needs nothing but
 * packets already on their way (the last snapshot parts): the same second as liveness.
 */
#define FC__CLIENT_CLOSE_NS      1000000000ull
#define FC__CLIENT_PAST_SESSIONS 16u /* ended or replaced session ids remembered */
/* Missing events are at most 256, so at most 256 runs of them are ever requested at once. */
#define FC__CLIENT_MAX_PENDING   FC__CLIENT_MAX_GAP
#define FC__CLIENT_MAX_PARTS     65536u /* part is a u16 */

/* ---- the events held ahead of a gap (evbuf.c) ------------------------------------------ */

struct fc__evslot {
	uint64_t seq;
	uint32_t off; /* in the current arena */
	uint16_t len;
	bool used;
};

/*
 * Slots indexed by event_seq modulo cap, the bytes in an arena filled from the start and
 * compacted into its twin when it runs out; when the arena is empty it starts over. When it is
 * full the highest events are dropped (docs/protocol.md section 7: they will be recovered again).
 */
struct fc__evbuf {
	struct fc__evslot *slot;
	uint32_t cap;
	uint32_t count;
	uint8_t *arena[2];
	uint32_t size; /* bytes per arena */
	uint32_t used; /* bytes written in the current arena */
	uint32_t live; /* bytes of the events held */
	unsigned int cur;
};

int fc__evbuf_init(struct fc__evbuf *b, uint32_t cap, uint32_t bytes);
void fc__evbuf_fini(struct fc__evbuf *b);
void fc__evbuf_clear(struct fc__evbuf *b);
bool fc__evbuf_has(const struct fc__evbuf *b, uint64_t seq);
/* The event's bytes (valid until the next put), NULL if not held. */
const uint8_t *fc__evbuf_get(const struct fc__evbuf *b, uint64_t seq, uint16_t *len);
void fc__evbuf_del(struct fc__evbuf *b, uint64_t seq);
void fc__evbuf_drop_below(struct fc__evbuf *b, uint64_t seq);
/*
 * Holds a copy of the event. Returns 0, -EEXIST (already held) or -ENOSPC (not held: it would be
 * the highest of a full buffer). *evicted counts the higher events dropped to make room.
 */
int fc__evbuf_put(struct fc__evbuf *b, uint64_t seq, const void *msg, uint16_t len,
		  uint64_t *evicted);

/* ---- the floor state (state.c) ---------------------------------------------------------- */

/* What a snapshot replaces entirely: the round, the clues, the scores (section 5). */
struct fc__tables {
	struct fc_client_round round;
	uint32_t n_clues;
	struct fc_client_clue *clues; /* sorted by clue_id */
	int32_t *score;               /* per player */
	uint16_t *team;               /* per player */
	uint8_t *scored;              /* per player: has a score in the round */
	int32_t *team_total;          /* per team */
	uint8_t *team_scored;
};

struct fc__pos {
	uint64_t stamp; /* pos_stamp[player] of section 7 step 9; 0: never heard */
	uint32_t tick;
	uint16_t x_cm;
	uint16_t y_cm;
	int8_t z_dm;
	uint8_t status;
};

/* A channel's packet_seqs (step 3): the highest and a bitmap of the 1024 below it. */
struct fc__pktwin {
	bool any;
	uint64_t top;
	uint64_t bits[FC__CLIENT_PKT_WINDOW / 64];
};

/* A retransmit request in flight. */
struct fc__request {
	uint64_t first;
	uint64_t deadline;
	uint16_t count;
	uint8_t tries; /* retries sent */
};

struct fc_client {
	struct fc_client_params p; /* defaults filled in */

	/* the session (section 7 step 2, step 4) */
	bool has_session;
	bool closing; /* an end of session was seen: finishing the recovery */
	bool ended;
	bool complete;
	bool eos[2]; /* end of session seen, per channel */
	uint32_t session;
	uint64_t close_deadline;
	uint32_t past[FC__CLIENT_PAST_SESSIONS];
	uint32_t n_past;

	struct fc__pktwin win[2]; /* per channel */

	/* events (steps 5 to 7) */
	bool synced;
	bool rt_stopped; /* a SESSION refusal: no more requests in this session */
	bool dirty;      /* something changed since the gaps were last looked at */
	uint64_t next_ev;
	uint64_t known_ev;
	/* 1 + the highest event_seq applied in this session: an event below it applied again
	 * (after a snapshot older than what was applied) is neither notified nor added to the
	 * claims history again */
	uint64_t high_ev;
	struct fc__evbuf buf;
	struct fc__request req[FC__CLIENT_MAX_PENDING];
	uint32_t n_req;

	/* the snapshot being collected (step 8) */
	bool snap_active;
	uint32_t snap_id;
	uint16_t snap_parts;
	uint32_t snap_held;
	uint32_t snap_as_of_tick;
	uint64_t snap_as_of_pkt;
	uint64_t snap_as_of_ev;
	uint64_t *snap_have; /* bitmap of parts held */
	struct fc_client_position *stage_pos;
	uint32_t n_stage_pos;

	/* the floor state: tab[cur] is live, the other is the snapshot being staged */
	struct fc__tables tab[2];
	unsigned int cur;
	struct fc__pos *pos;
	uint32_t n_heard;
	struct fc_client_claim *claims; /* a ring of p.max_claims */
	uint32_t claim_head;            /* index of the oldest */
	uint32_t n_claims;

	/* liveness (step 10) */
	bool feed_up;
	uint64_t last_ch0_ns;

	struct fc_client_stats st;
};

static inline struct fc__tables *
fc__live(struct fc_client *c)
{
	return &c->tab[c->cur];
}

static inline struct fc__tables *
fc__stage(struct fc_client *c)
{
	return &c->tab[c->cur ^ 1u];
}

int fc__state_alloc(struct fc_client *c);
void fc__state_free(struct fc_client *c);
/* Forgets everything of the session: tables, positions, claims, the staged snapshot. */
void fc__state_clear(struct fc_client *c);
/* Empties a table set (a new snapshot starts staging into it). */
void fc__tables_clear(struct fc_client *c, struct fc__tables *t);
/* Applies an event to the live state (section 4.7); the message passed fc_dl_parse(). */
void fc__state_apply_event(struct fc_client *c, const struct fc_dl_msg *m);
/* Stages a state message of a snapshot part. */
void fc__state_stage(struct fc_client *c, const struct fc_dl_msg *m);
/* Applies a POSITIONS message with stamp packet_seq (section 7 step 9). */
void fc__state_positions(struct fc_client *c, const struct fc_dl_msg *m, uint64_t stamp,
			 uint32_t tick);
/* The staged snapshot becomes the live state; its positions go through step 9. */
void fc__state_commit_snapshot(struct fc_client *c);

#endif /* FC_CLIENT_PRIV_H */

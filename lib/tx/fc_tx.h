/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TX role: once every owner has completed tick T (fc_tick.h), it merges the owners' dirty
 * sets for T, takes each player's newest candidate across owners, and multicasts the deltas as
 * downlink packets (docs/protocol.md): a position when a player moved past the dead band or
 * changed status, every player at least once per refresh period (spread evenly over the ticks),
 * a heartbeat when a tick has nothing to say, the snapshot loop on its own channel, and the end
 * of session. Ethernet/IPv4/UDP headers are written by hand (fc_pkt). TX never blocks an owner:
 * it reads their state under sequence counters.
 */
#ifndef FC_TX_H
#define FC_TX_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_mempool.h>

#include "fc_game.h"
#include "fc_grid.h"
#include "fc_owner.h"
#include "fc_pkt.h"
#include "fc_hist.h"
#include "fc_tick.h"

#define FC_TX_MAX_BATCH     64u  /* packets sent with one tx_burst */
#define FC_TX_RETRIES       3u   /* tx_burst attempts for what the NIC did not take */
#define FC_TX_SNAP_PER_PART 160u /* positions in one snapshot part: fills a 1400-byte packet */
#define FC_TX_MAX_CLAIMS    64u  /* claims taken off the owners' rings, not yet announced */

/* The retransmit service's history and limits (docs/protocol.md section 6). */
#define FC_TX_HISTORY    4096u /* events kept for retransmission */
#define FC_TX_EVENT_MAX  1088u /* the longest event: a CLUE_CLAIMED of 64 contenders (1056) */
#define FC_TX_RT_BUCKETS 256u  /* requesters' rate windows, by address */
#define FC_TX_RT_PER_S   50u   /* requests a requester may make a second; twice that: ignored */

/*
 * Live, the end of session is sent again while floord lingers (fc_tx_linger()): each channel's
 * end-of-session frame, byte for byte as first sent (the same packet_seq), FC_TX_EOS_REPEATS
 * more times, FC_TX_EOS_REPEAT_MS apart, all within the linger's second. A subscriber ignores
 * a packet_seq it has processed (docs/protocol.md section 7 step 3), so the copies are
 * harmless, and one that lost the first copies on both channels still learns that the
 * session ended (at 10 % loss, both copies of one send are lost once in a hundred sessions).
 */
#define FC_TX_EOS_REPEATS   4u
#define FC_TX_EOS_REPEAT_MS 200u
#define FC_TX_EOS_FRAME     96u /* room for an end-of-session frame: 42 + 40 bytes */

struct fc_tx_event {
	uint64_t seq; /* 0: empty */
	uint16_t len;
	uint8_t msg[FC_TX_EVENT_MAX];
};

struct fc_tx_rate {
	uint32_t ip;
	uint32_t n;
	uint64_t window_ns;
};

/* floorctl's commands (docs/control.md), applied by TX at the start of a tick. */
enum fc_cmd_code {
	FC_CMD_ROUND_START = 1, /* the COMMAND_ECHO codes of docs/protocol.md */
	FC_CMD_ROUND_PAUSE = 2,
	FC_CMD_ROUND_RESUME = 3,
	FC_CMD_ROUND_END = 4,
	FC_CMD_LOAD_LAYOUT = 5,   /* obj: struct fc_tx_layout; used from the next round start */
	FC_CMD_ROSTER_ADD = 6,    /* obj: struct fc_tx_roster; used from the next tick */
	FC_CMD_ROSTER_REMOVE = 7, /* obj: struct fc_tx_roster */
};

/*
 * A clue layout the control thread has loaded, checked and built for every role (floorctl's
 * load layout): TX takes it at the next round start and publishes it with that round
 * (fc_tick.h, "Swaps"). Read-only for the lcores; the control thread frees it.
 */
struct fc_tx_layout {
	uint64_t id; /* the layout id COMMAND_ECHO carries: 1 is the one floord started on */
	const struct fc_game_layout *layout;
	struct fc_tx_clue *clue;        /* TX's clue states for it, every clue OPEN */
	const void *discs;              /* RX's clue routing: struct fc_disc_index */
	const char *text;               /* the command, for the journal (a restart replays it) */
	void *game[FC_TICK_MAX_OWNERS]; /* each owner's: struct fc_owner_game */
};

/* A roster change (roster add, roster remove): the tag tables RX reads from the next tick on. */
struct fc_tx_roster {
	uint64_t gen;
	uint16_t player; /* the player added or removed */
	uint16_t team;   /* add: the player's team, set before any RX maps the tag */
	uint32_t add;
	const char *text;               /* the command, for the journal (a restart replays it) */
	const void *rx[FC_TICK_MAX_RX]; /* each RX's struct fc_rx_tags */
};

struct fc_cmd {
	uint64_t cmd_seq;
	uint16_t code; /* enum fc_cmd_code */
	uint16_t reserved;
	uint32_t arg;
	const void *obj; /* load layout: struct fc_tx_layout; roster: struct fc_tx_roster */
};

struct fc_tx_stats {
	uint64_t ticks;
	uint64_t packets; /* handed to the NIC */
	uint64_t bytes;
	uint64_t positions; /* position entries sent on the incremental channel */
	uint64_t heartbeats;
	uint64_t snapshots; /* full passes of the snapshot loop */
	uint64_t snapshot_packets;
	uint64_t tx_retries;    /* tx_burst calls beyond the first */
	uint64_t tx_drops;      /* packets the NIC never took after FC_TX_RETRIES */
	uint64_t alloc_fail;    /* no mbuf for a packet */
	uint64_t full_scans;    /* an owner's dirty list was reused before TX read it */
	uint64_t rt_requests;   /* retransmit requests answered or refused */
	uint64_t rt_packets;    /* reply packets with events */
	uint64_t rt_refused[6]; /* by FC_RT_REFUSED_* reason */
	uint64_t rt_ignored;    /* over the hard rate limit: no answer */
	uint64_t commands;      /* floorctl commands applied or refused (each echoed) */
	uint64_t events;        /* events numbered and sent */
	uint64_t durable_waits; /* polls a tick waited for its claims to be durable */
	uint64_t journal_drops; /* SCORE/ROUND records the journal's queue could not take */
	uint64_t claims;        /* CLUE_CLAIMED among them */
	uint64_t reopened;      /* CLUE_STATE events of respawning clues reopened */
	uint64_t claims_asap;   /* of which announced as soon as durable, before their tick's end */
	struct fc_hist claim_tsc; /* asap: end of the settle window -> handed to the NIC, cycles */
	uint64_t stale_claims;    /* decided in a round no longer played: not announced */
	uint64_t eos_repeats;     /* end-of-session copies sent while lingering (both channels) */
};

/* What subscribers have been told of a clue. */
struct fc_tx_clue {
	uint16_t winner; /* FC_PLAYER_NONE while open */
	uint8_t state;   /* enum fc_clue_state_code */
	uint8_t reserved;
};

/* What TX last told subscribers about a player. */
struct fc_tx_player {
	int32_t x_mm, y_mm, z_mm;
	uint8_t status; /* FC_POS_S_*, 0 = never sent */
	uint8_t reserved[3];
};

struct fc_tx {
	/* set up by the dataplane */
	uint16_t port;
	uint16_t queue;
	struct rte_mempool *pool;
	struct fc_tick_sync *sync;
	uint32_t n_owners;
	const struct fc_owner_state *owner[FC_TICK_MAX_OWNERS];
	uint32_t n_players;
	struct fc_pkt_tx_tmpl tmpl;
	uint32_t session_id_cfg; /* 0: derived from the first tick */
	uint64_t dead_band_sq;   /* mm^2 */
	uint64_t stale_ns;
	uint32_t refresh_ticks;
	uint32_t snapshot_ticks;
	struct fc_tx_player *sent; /* n_players */
	uint64_t *want;            /* bitmap of the players to look at this tick */
	uint32_t want_words;

	/* the game: NULL layout = positions only */
	const struct fc_game_layout *layout;
	struct rte_ring *claims[FC_TICK_MAX_OWNERS]; /* from each owner: struct fc_claim_ev */
	uint16_t *team; /* player -> team (TX writes a roster add's before publishing it) */
	uint32_t n_teams;
	uint32_t max_teams;                     /* team_score's size */
	uint64_t layout_gen;                    /* the layout of tx->layout and tx->clue */
	const struct fc_tx_layout *cur_layout;  /* published with the round: RX's and owners' */
	const struct fc_tx_layout *next_layout; /* loaded: taken by the next round start */
	int32_t *score;                         /* n_players: the round's totals */
	int32_t *team_score;                    /* n_teams */
	struct fc_tx_clue *clue;                /* the layout's clues */
	uint32_t round_id;
	uint8_t round_state; /* enum fc_round_state */
	uint32_t n_pending;
	struct fc_claim_ev pending[FC_TX_MAX_CLAIMS];
	uint64_t round_ms; /* the round's running time so far, pauses excluded */
	uint32_t n_timing; /* claims put in packets since the last send_out(): their deadlines */
	uint64_t timing_ns[FC_TX_MAX_CLAIMS];
	struct rte_ring *cmds; /* from the control thread: struct fc_cmd, NULL if none */
	struct rte_ring *rt_ring[FC_TICK_MAX_RX]; /* retransmit requests from each RX; NULL off */
	uint32_t n_rx;
	uint16_t rt_port;            /* replies come from it, as subscribers expect */
	struct fc_tx_event *history; /* FC_TX_HISTORY, by event seq */
	struct fc_tx_rate rate[FC_TX_RT_BUCKETS];
	struct fc_journal *journal; /* NULL: none; TX appends SCORE and ROUND records to it */
	uint32_t journal_producer;

	/* state */
	bool started;
	uint64_t first;    /* S */
	uint64_t end_tick; /* the tick the end of session belongs to, once sent */
	uint32_t session_id;
	uint64_t pkt_seq[2]; /* next packet_seq per channel */
	uint64_t next_event_seq;
	uint32_t snapshot_id;
	uint16_t n_out;
	struct rte_mbuf *out[FC_TX_MAX_BATCH];
	/* The end of session as sent, per channel, for its copies (fc_tx_linger()). */
	uint8_t eos_frame[2][FC_TX_EOS_FRAME];
	uint16_t eos_len[2];  /* the frame's length; 0: none was sent (no mbuf) */
	uint32_t eos_copies;  /* rounds of copies sent so far */
	uint64_t eos_next_ns; /* floord's clock: when the next round is due; 0 before the linger */

	struct fc_tx_stats st __rte_cache_aligned;
} __rte_cache_aligned;

/*
 * One unit of TX work: emits every tick the owners have completed, and the end of session
 * once all input has ended. Returns false once the end of session has been sent.
 */
bool fc_tx_poll(struct fc_tx *tx);

/*
 * Live, after the end of session, called in a loop for as long as floord lingers: answers the
 * retransmit requests the RX lcores received (fc_rx_linger()), stamped with the session's last
 * tick and now_ns (floord's clock), and sends the end of session again on each channel,
 * FC_TX_EOS_REPEATS times, FC_TX_EOS_REPEAT_MS apart from the first call on. Never called in
 * replay: the replay's output ends with the one end of session per channel.
 */
void fc_tx_linger(struct fc_tx *tx, uint64_t now_ns);

#endif /* FC_TX_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * floorcast subscriber library: rebuilds a floor's shared map from floord's downlink
 * (docs/protocol.md sections 4 to 7; docs/client.md is the guide, with an example program).
 *
 * The caller feeds every downlink datagram it receives (multicast channels 0 and 1, feed A or B,
 * and the unicast retransmit replies) to fc_client_feed(), from a socket or from a capture. The
 * library runs the subscriber's recovery procedure of docs/protocol.md section 7: it tracks
 * packet_seq per channel and the event numbers, ignores duplicates, buffers events that arrive
 * ahead of a gap, asks for missing events with retransmit requests (handed to the caller's
 * send_request callback: the library itself never touches a socket) and, past the limits, or on
 * a late join, recovers from the snapshot loop. It keeps the floor state: the round, the clues,
 * the scores per player and per team, each player's position and the history of claims.
 *
 * Time: every function that takes now_ns wants one clock that never goes back (for instance
 * fc_client_now_ns(), CLOCK_MONOTONIC), the same for every call. It is used for the retransmit
 * timeouts (100 ms, 2 retries) and the feed's liveness (1 s) only.
 *
 * Memory: fc_client_create() allocates everything, sized by struct fc_client_params; nothing
 * allocates afterwards. Nothing here blocks, logs or needs DPDK. One fc_client is not
 * thread-safe: feed, poll and read it from one thread (or under the caller's lock).
 *
 * Conventions: functions returning int give 0 or -errno; the constructor returns NULL and sets
 * errno. Pointers returned into the client's state stay valid until the next call that feeds,
 * polls or frees it.
 *
 * The socket helpers at the end (plain POSIX sockets, IPv4) join the group, receive with a
 * timeout and send the retransmit requests; they are optional.
 */
#ifndef FC_CLIENT_H
#define FC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- words of the protocol (docs/protocol.md section 4.6; the same values as the wire) ---- */

#define FC_CLIENT_PLAYER_NONE 0xFFFFu /* "no player": a clue's winner while it is not claimed */

/* Position status bits (struct fc_client_position.status). */
#define FC_CLIENT_POS_ACTIVE      0x01u /* an accepted fix within the stale limit */
#define FC_CLIENT_POS_STALE       0x02u /* no fix for longer than the stale limit: last known */
#define FC_CLIENT_POS_IMPLAUSIBLE 0x04u /* the newest fix implied an impossible speed */
#define FC_CLIENT_POS_NO_Z        0x08u /* height unknown (2D fixes); z_dm is 0 */

/* Round states (struct fc_client_round.state). */
enum fc_client_round_state {
	FC_CLIENT_ROUND_IDLE = 0,
	FC_CLIENT_ROUND_RUNNING = 1,
	FC_CLIENT_ROUND_PAUSED = 2,
	FC_CLIENT_ROUND_ENDED = 3,
};

/* END_OF_ROUND reasons (struct fc_client_round.end_reason). */
#define FC_CLIENT_END_OPERATOR    0u
#define FC_CLIENT_END_ALL_CLAIMED 1u
#define FC_CLIENT_END_TIME_LIMIT  2u
#define FC_CLIENT_END_NONE        0xFFFFu /* no END_OF_ROUND applied in this round */

/* Clue states (struct fc_client_clue.state). */
enum fc_client_clue_state {
	FC_CLIENT_CLUE_OPEN = 0,
	FC_CLIENT_CLUE_CLAIMED = 1,
	FC_CLIENT_CLUE_HIDDEN = 2, /* waiting to respawn, or not in this round */
};

/* Contender flags (struct fc_client_contender.flags). */
#define FC_CLIENT_CONT_WINNER 0x0001u /* the first entry only */
#define FC_CLIENT_CONT_TIE    0x0002u /* tied on time with the winner, lost on the tie-break */

/* Event templates (struct fc_client_note.template_id); newer floords may send others. */
enum fc_client_template {
	FC_CLIENT_T_CLUE_CLAIMED = 2,
	FC_CLIENT_T_SCORE = 3,
	FC_CLIENT_T_ROUND_STATE = 4,
	FC_CLIENT_T_CLUE_STATE = 6,
	FC_CLIENT_T_END_OF_ROUND = 7,
	FC_CLIENT_T_COMMAND_ECHO = 8,
};

/* ---- the floor state ------------------------------------------------------------------- */

struct fc_client_round {
	uint32_t round_id;      /* 0: no round yet */
	uint8_t state;          /* enum fc_client_round_state */
	uint16_t end_reason;    /* FC_CLIENT_END_*: set by END_OF_ROUND, NONE in a new round */
	uint32_t round_time_ms; /* as of the last ROUND_STATE (0 in snapshots) */
	uint64_t cmd_seq;       /* the operator command behind the last change, 0 if none */
};

struct fc_client_position {
	uint16_t player;
	uint16_t x_cm; /* floor coordinates, cm from the floor origin */
	uint16_t y_cm;
	int8_t z_dm;         /* height, dm */
	uint8_t status;      /* FC_CLIENT_POS_* */
	uint32_t tick;       /* the tick of the packet it came in (as_of_tick from a snapshot) */
	uint64_t packet_seq; /* its channel-0 packet_seq (as_of_packet_seq from a snapshot) */
};

struct fc_client_clue {
	uint32_t clue_id; /* >= 1 */
	uint32_t points;
	uint16_t x_cm; /* the clue's centre */
	uint16_t y_cm;
	uint16_t radius_mm;
	uint8_t state;   /* enum fc_client_clue_state */
	bool located;    /* centre and radius known (a CLUE_STATE was applied); false for a clue
			  * known only from a claim, whose x, y and radius are then 0 */
	uint16_t winner; /* FC_CLIENT_PLAYER_NONE unless CLAIMED */
};

/* A player's score in the current round. */
struct fc_client_score {
	uint16_t player;
	uint16_t team;
	int32_t total;
};

/* A team's score in the current round. */
struct fc_client_team {
	uint16_t team;
	int32_t total;
};

struct fc_client_contender {
	uint16_t player;
	uint16_t flags;        /* FC_CLIENT_CONT_* */
	uint32_t distance_mm;  /* from the clue at the qualifying fix */
	uint64_t meas_time_ns; /* the qualifying fix's corrected measurement time */
};

#define FC_CLIENT_MAX_CONTENDERS 64u /* what one CLUE_CLAIMED lists at most */

/* A decided claim (CLUE_CLAIMED): the winner first, then the others as the arbiter ranked them. */
struct fc_client_claim {
	uint64_t event_seq;
	uint64_t meas_time_ns; /* the winner's corrected measurement time */
	uint32_t clue_id;
	uint32_t points;
	uint32_t round_id;
	uint16_t winner;
	uint16_t winner_team;
	uint16_t contenders_total;  /* every player that qualified, winner included */
	uint16_t contenders_listed; /* entries in contenders[], <= FC_CLIENT_MAX_CONTENDERS */
	struct fc_client_contender contenders[FC_CLIENT_MAX_CONTENDERS];
};

/* ---- counters ---------------------------------------------------------------------------- */

/* Why a datagram was dropped: docs/protocol.md section 4.5's reasons, then the library's own. */
enum fc_client_malformed {
	FC_CLIENT_M_RUNT = 0,        /* shorter than the 40-byte header */
	FC_CLIENT_M_BAD_LENGTH,      /* longer than 1400 bytes */
	FC_CLIENT_M_BAD_MAGIC,       /* not "FD" */
	FC_CLIENT_M_BAD_VERSION,     /* a packet version other than 1 */
	FC_CLIENT_M_UNKNOWN_CHANNEL, /* a channel other than 0 and 1 */
	FC_CLIENT_M_BAD_PACKET,      /* the packet rules of sections 4.2 and 4.4 */
	FC_CLIENT_M_BAD_MESSAGE,     /* a message's length or version (section 4.3) */
	FC_CLIENT_M_BAD_SNAPSHOT,    /* a snapshot packet without a sane SNAPSHOT_PART first */
	FC_CLIENT_M__COUNT
};

/* Why a snapshot recovery (docs/protocol.md section 7 step 8) started. */
enum fc_client_recovery {
	FC_CLIENT_R_LATE_JOIN = 0, /* the first packet of a session: every subscriber starts so */
	FC_CLIENT_R_REFUSED,       /* a TOO_OLD, TOO_MANY, NOT_YET (or unknown) refusal */
	FC_CLIENT_R_GAP,           /* more than 256 events missing */
	FC_CLIENT_R_RETRIES,       /* a request unanswered after its second retry */
	FC_CLIENT_R_NO_RETRANSMIT, /* events missing, and no retransmit service to ask */
	FC_CLIENT_R__COUNT
};

#define FC_CLIENT_REFUSED_MAX 5u /* refusal reasons 1 TOO_OLD .. 5 NOT_YET (section 6.3) */

struct fc_client_stats {
	uint64_t datagrams;                     /* fed */
	uint64_t malformed[FC_CLIENT_M__COUNT]; /* dropped, by reason */
	uint64_t packets;                       /* of the current session, processed */
	uint64_t duplicates;     /* packet_seq already processed, or more than 1024 below the top */
	uint64_t pkt_gaps[2];    /* per channel: jumps in packet_seq */
	uint64_t pkt_skipped[2]; /* per channel: the packet_seqs those jumps skipped */
	uint64_t pkt_late[2];    /* per channel: skipped packets that arrived after all */
	uint64_t other_session;  /* packets of an ended or replaced session, stray replies */
	uint64_t after_end;      /* packets of the current session after it ended */
	uint64_t sessions;       /* sessions started, the first included */
	uint64_t events_applied;
	uint64_t events_duplicate; /* already applied or held */
	uint64_t events_buffered;  /* held ahead of the next event to apply */
	uint64_t events_dropped;   /* not held: the buffer was full (recovered again later) */
	uint64_t events_unknown;   /* applied events of a template this library does not know */
	uint64_t commands;         /* COMMAND_ECHO events */
	uint64_t gaps;             /* runs of missing events detected */
	uint64_t rt_asked;         /* retransmit requests sent, retries included */
	uint64_t rt_retries;
	uint64_t rt_answered;                           /* requests whose events all arrived */
	uint64_t rt_refused[FC_CLIENT_REFUSED_MAX + 1]; /* by reason; [0] an unknown reason */
	uint64_t rt_unmatched;                          /* refusals matching no pending request */
	uint64_t rt_timeouts;                           /* requests given up after the last retry */
	uint64_t rt_send_errors;                        /* send_request returned an error */
	uint64_t recoveries[FC_CLIENT_R__COUNT];        /* snapshot recoveries started, by cause */
	uint64_t snapshots_applied;
	uint64_t snapshot_parts;     /* parts stored */
	uint64_t snapshots_replaced; /* collections dropped for a part of another snapshot_id */
	uint64_t out_of_range; /* player, team or clue beyond the configured capacity: ignored */
	uint64_t claims_forgotten; /* claims pushed out of the history (max_claims) */
	uint64_t feed_down;        /* times channel 0 went silent for 1 s */
};

/* Names for the counters' indexes, as docs/protocol.md spells them ("bad_magic", ...). */
const char *fc_client_malformed_name(unsigned int reason);
const char *fc_client_recovery_name(unsigned int cause);
const char *fc_client_refused_name(unsigned int reason); /* "too_old", ...; 0: "unknown" */

/* ---- notifications ------------------------------------------------------------------------ */

enum fc_client_note_kind {
	FC_CLIENT_N_EVENT = 0, /* an event was applied (in event_seq order) */
	FC_CLIENT_N_SNAPSHOT,  /* a snapshot replaced the round, clues and scores */
	FC_CLIENT_N_SESSION,   /* a new session replaced the old one: the state was discarded */
	FC_CLIENT_N_END,       /* the session ended; the state is final */
};

struct fc_client_note {
	enum fc_client_note_kind kind;
	uint32_t session_id;
	uint64_t event_seq;       /* EVENT: the event; SNAPSHOT: its as_of_event_seq */
	unsigned int template_id; /* EVENT: enum fc_client_template, or a newer one */
	const void *msg;          /* EVENT: the message as on the wire, header included
				   * (little-endian, any alignment); valid during the call */
	size_t len;
};

/* ---- the client ---------------------------------------------------------------------------- */

struct fc_client;

/* Sizes and hooks. Zero fields take the defaults shown. */
struct fc_client_params {
	uint32_t max_players;  /* player ids 0 .. max_players - 1 (default 4096, at most 65535) */
	uint32_t max_teams;    /* team ids 0 .. max_teams - 1 (default 1024, at most 65535) */
	uint32_t max_clues;    /* clues held (default 1024) */
	uint32_t max_claims;   /* claims history kept, the oldest forgotten first (default 1024;
			       * about 1.1 KB each) */
	uint32_t event_buffer; /* events held ahead of a gap (default and minimum 4096) */
	uint32_t event_buffer_bytes; /* their bytes (default 64 per event; twice this is
				      * allocated, for compaction) */
	/*
	 * Sends one retransmit request (len bytes, docs/protocol.md section 6.1) to floord's
	 * retransmit port; returns 0 or -errno (counted, then handled as a lost request).
	 * fc_client_sock_send_request() does it with a struct fc_client_sock as arg. NULL: no
	 * retransmit service (a capture, or no unicast path to floord); missing events are then
	 * recovered from the snapshot loop at once.
	 */
	int (*send_request)(void *arg, const void *req, size_t len);
	void *send_arg;
	/*
	 * Called after each change worth showing (struct fc_client_note); the state already
	 * includes it. It must not feed, poll or free the client. NULL: none.
	 */
	void (*notify)(void *arg, const struct fc_client *c, const struct fc_client_note *n);
	void *notify_arg;
};

/*
 * Creates a client with every table allocated. p may be NULL for the defaults. Returns NULL with
 * errno EINVAL (a size out of range) or ENOMEM.
 */
struct fc_client *fc_client_create(const struct fc_client_params *p);

/* Frees c and all it holds; NULL is accepted. */
void fc_client_free(struct fc_client *c);

/*
 * Processes one UDP payload (buf[0, len): a whole downlink packet, any alignment) received at
 * now_ns: docs/protocol.md section 7 steps 1 to 9, then any deadline that has passed. Returns 0
 * when the packet was taken (applied, buffered, or ignored as a duplicate or a packet of another
 * session: see the counters), or -EBADMSG when it was dropped as malformed (counted by reason in
 * stats.malformed; nothing else changes).
 */
int fc_client_feed(struct fc_client *c, const void *buf, size_t len, uint64_t now_ns);

/*
 * Runs the deadlines due at now_ns: retransmit retries and their give-up, the end of a session
 * whose recovery cannot finish, the feed's liveness. Call it at least every
 * fc_client_next_deadline(), also when nothing arrives.
 */
void fc_client_poll(struct fc_client *c, uint64_t now_ns);

/* The earliest deadline fc_client_poll() has to run, or UINT64_MAX if none. */
uint64_t fc_client_next_deadline(const struct fc_client *c);

/* ---- reading the state ------------------------------------------------------------------- */

struct fc_client_info {
	bool has_session;
	uint32_t session_id;
	bool synced;   /* the round, clues and scores are exact as of event next_event_seq - 1 */
	bool ended;    /* the session ended: nothing will change until a new session */
	bool complete; /* ended with every event of the session applied */
	bool feed_up;  /* a channel-0 packet arrived in the last second */
	uint64_t next_event_seq;  /* the next event to apply (valid when synced) */
	uint64_t known_event_seq; /* the next event any packet announced */
	struct fc_client_round round;
	uint32_t players; /* players with a position */
	uint32_t clues;
	uint32_t claims; /* claims held: fc_client_claim_at(c, 0 .. claims - 1) */
};

void fc_client_get_info(const struct fc_client *c, struct fc_client_info *out);
void fc_client_get_stats(const struct fc_client *c, struct fc_client_stats *out);

/*
 * Iterators: set *cursor to 0, then call until false. Each call copies the next item into *out.
 * Positions and scores come in player order, teams in team order, clues in clue_id order.
 */
bool fc_client_next_position(const struct fc_client *c, uint32_t *cursor,
			     struct fc_client_position *out);
bool fc_client_next_clue(const struct fc_client *c, uint32_t *cursor, struct fc_client_clue *out);
bool fc_client_next_score(const struct fc_client *c, uint32_t *cursor, struct fc_client_score *out);
bool fc_client_next_team(const struct fc_client *c, uint32_t *cursor, struct fc_client_team *out);

/* One player's position: 0, -ENOENT (never heard) or -ERANGE (id beyond max_players). */
int fc_client_position(const struct fc_client *c, uint16_t player, struct fc_client_position *out);

/* One clue by id: 0 or -ENOENT. */
int fc_client_clue(const struct fc_client *c, uint32_t clue_id, struct fc_client_clue *out);

/*
 * The claims history, oldest first: i in 0 .. info.claims - 1, NULL beyond. Claims decided while
 * the client was recovering from a snapshot are not in it (a snapshot carries the clues' states
 * and the scores, not the history).
 */
const struct fc_client_claim *fc_client_claim_at(const struct fc_client *c, uint32_t i);

/* ---- sockets (optional; plain POSIX, IPv4) ---------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds: the clock fc_client_sock_run() feeds with. */
uint64_t fc_client_now_ns(void);

struct fc_client_sock_params {
	const char *group;      /* the downlink group, dotted quad. A unicast address is bound
			    * without joining (a relay, or a test's fake server) */
	uint16_t port;          /* the downlink port (floord's [downlink] port, 47480 by default) */
	const char *iface_addr; /* the interface to join on, by its IPv4 address; NULL: the
				 * kernel picks by route. Requests leave from it too */
	const char *server;     /* floord's unicast address for retransmit requests; NULL: none */
	uint16_t rt_port;       /* its retransmit port; 0: port + 1 (docs/protocol.md 6.1) */
};

struct fc_client_sock {
	int fd;    /* bound to the group's port and joined */
	int rt_fd; /* connected to the retransmit port: requests out, replies in; -1 if none */
};

/*
 * Opens the sockets: fd bound to (group, port) with SO_REUSEADDR, so several subscribers can
 * share a host, and joined to the group (IP_ADD_MEMBERSHIP) on iface_addr; with a server,
 * rt_fd on an ephemeral port, connected to (server, rt_port). Returns 0, or -EINVAL (an address
 * that does not parse, port 0) or the -errno of the failing socket call (nothing left open).
 */
int fc_client_sock_open(struct fc_client_sock *s, const struct fc_client_sock_params *p);

/* Closes what fc_client_sock_open() opened; safe to call twice. */
void fc_client_sock_close(struct fc_client_sock *s);

/*
 * The send_request callback for struct fc_client_params: arg is the struct fc_client_sock.
 * Returns 0, -ENOTCONN without a server, or the -errno of send().
 */
int fc_client_sock_send_request(void *arg, const void *req, size_t len);

/*
 * Waits up to timeout_ms (less if the client has an earlier deadline; negative: no limit but
 * that deadline) for datagrams on s's sockets, feeds each to c with fc_client_now_ns(), then
 * polls c. Returns the number of datagrams fed (0 on a timeout), or -errno from poll() (-EINTR
 * on a signal: check your stop flag and call again).
 */
int fc_client_sock_run(struct fc_client_sock *s, struct fc_client *c, int timeout_ms);

/*
 * The UDP payload of a captured frame: Ethernet II, at most one 802.1Q tag, IPv4 (not a
 * fragment), UDP. For feeding a capture (libpcap, DLT_EN10MB) to fc_client_feed().
 */
struct fc_client_udp {
	const uint8_t *payload; /* inside the frame */
	size_t len;
	uint32_t src_ip; /* host byte order */
	uint32_t dst_ip;
	uint16_t src_port;
	uint16_t dst_port;
};

/* Returns 0, -ENOMSG (not IPv4/UDP, or a fragment) or -EBADMSG (truncated or inconsistent). */
int fc_client_udp_payload(const void *frame, size_t len, struct fc_client_udp *out);

#ifdef __cplusplus
}
#endif

#endif /* FC_CLIENT_H */

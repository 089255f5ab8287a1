/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * floorcast wire formats: the byte layouts of the uplink (gateway -> floord), the downlink
 * (floord -> subscribers, multicast) and the unicast retransmit exchange.
 *
 * docs/protocol.md is the normative description; these structs mirror its tables and the
 * static_asserts at the bottom pin every size and offset to it. All fields are little-endian
 * and naturally aligned *relative to the start of their header or record*; a UDP payload sits
 * at an arbitrary address inside an mbuf, so the codec never dereferences these structs in
 * place: it memcpy()s them out (see fc_uplink.h, fc_downlink.h).
 */
#ifndef FC_WIRE_TYPES_H
#define FC_WIRE_TYPES_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/* Every UDP payload floorcast sends or accepts fits one unfragmented datagram. */
#define FC_WIRE_MAX_PAYLOAD 1400u

/* ------------------------------------------------------------------------------------------ */
/* Uplink: gateway -> floord, UDP unicast                                                      */
/* ------------------------------------------------------------------------------------------ */

#define FC_UP_MAGIC   0x4746u /* bytes "FG" on the wire */
#define FC_UP_VERSION 1u

enum fc_up_msg_type {
	FC_UP_FIX_BATCH = 1,      /* records: struct fc_up_fix */
	FC_UP_GATEWAY_STATUS = 2, /* exactly one record: struct fc_up_status */
	FC_UP_GATEWAY_EVENT = 3,  /* records: struct fc_up_event */
};

enum fc_up_mac_alg {
	FC_MAC_HMAC_SHA256_128 = 1, /* HMAC-SHA-256, first 16 bytes; 32-byte key */
	FC_MAC_SIPHASH24 = 2,       /* SipHash-2-4, 8-byte tag; 16-byte key */
};

#define FC_MAC_HMAC_TAG_LEN    16u
#define FC_MAC_HMAC_KEY_LEN    32u
#define FC_MAC_SIPHASH_TAG_LEN 8u
#define FC_MAC_SIPHASH_KEY_LEN 16u
#define FC_MAC_MAX_TAG_LEN     16u
#define FC_MAC_MAX_KEY_LEN     32u

/* Header flags (fc_up_hdr.flags). Unknown bits are ignored by receivers. */
#define FC_UP_F_CLOCK_UNSYNCED 0x0001u /* the gateway's clock is not disciplined (NTP/PTP) */

/* seq: high 32 bits boot epoch (persisted, +1 every boot), low 32 bits frame counter. */
#define FC_UP_SEQ(epoch, counter) (((uint64_t)(epoch) << 32) | (uint32_t)(counter))

struct fc_up_hdr {
	uint16_t magic;        /* FC_UP_MAGIC */
	uint8_t version;       /* FC_UP_VERSION */
	uint8_t msg_type;      /* enum fc_up_msg_type */
	uint32_t gateway_id;   /* selects the key set and the replay window */
	uint64_t seq;          /* never reused under one key; see FC_UP_SEQ */
	uint64_t base_time_ns; /* gateway clock, ns since the Unix epoch */
	uint16_t record_count;
	uint16_t record_len; /* bytes per record, >= the type's v1 size, multiple of 8 */
	uint8_t key_id;      /* which of the gateway's keys made the MAC */
	uint8_t mac_alg;     /* enum fc_up_mac_alg */
	uint16_t flags;      /* FC_UP_F_* */
};

/* Fix record flags (fc_up_fix.flags). */
#define FC_FIX_F_TECH_MASK  0x03u
#define FC_FIX_TECH_UNKNOWN 0x00u
#define FC_FIX_TECH_BLE_AOA 0x01u
#define FC_FIX_TECH_UWB     0x02u
#define FC_FIX_F_NO_Z       0x04u /* z was not measured (2D fix) */

#define FC_FIX_ERR_UNKNOWN 0xFFFFu

struct fc_up_fix {
	uint64_t tag_id; /* tag address; a 48-bit BLE address fits in the low bits */
	int32_t x_mm;    /* floor coordinates, mm from the floor origin */
	int32_t y_mm;
	int32_t z_mm;
	uint32_t dt_us;   /* measurement time = base_time_ns + dt_us * 1000 */
	uint16_t err_mm;  /* 1-sigma horizontal error, FC_FIX_ERR_UNKNOWN if unknown */
	uint8_t quality;  /* 0 (worst) .. 100 (best), engine-specific */
	uint8_t flags;    /* FC_FIX_F_* */
	uint32_t fix_seq; /* per-tag counter: the same fix heard by two gateways has one fix_seq */
};

/* Gateway status: clock discipline values for fc_up_status.clock_sync */
#define FC_CLOCK_NONE 0u
#define FC_CLOCK_NTP  1u
#define FC_CLOCK_PTP  2u

struct fc_up_status {
	uint32_t uptime_s;
	uint32_t tags_heard; /* distinct tags heard in the last second */
	uint64_t frames_sent;
	uint32_t frames_dropped; /* frames the gateway could not send (queue full, ...) */
	uint8_t cpu_pct;
	int8_t temp_c;
	uint8_t clock_sync; /* FC_CLOCK_* */
	uint8_t reserved0;
	uint32_t clock_err_ns; /* the gateway's own estimate of its clock error */
	uint32_t reserved1;
};

enum fc_up_event_code {
	FC_GW_EV_BOOT = 1,
	FC_GW_EV_ANTENNA_FAULT = 2,
	FC_GW_EV_CLOCK_STEP = 3, /* arg: signed step in ns */
	FC_GW_EV_OVERLOAD = 4,   /* arg: fixes dropped */
};

struct fc_up_event {
	uint16_t code;    /* enum fc_up_event_code */
	uint8_t severity; /* 0 info, 1 warning, 2 error */
	uint8_t reserved;
	uint32_t dt_us; /* event time = base_time_ns + dt_us * 1000 */
	uint64_t arg;
};

/* ------------------------------------------------------------------------------------------ */
/* Downlink: floord -> subscribers, UDP multicast (and unicast retransmit replies)             */
/* ------------------------------------------------------------------------------------------ */

#define FC_DL_MAGIC   0x4446u /* bytes "FD" on the wire */
#define FC_DL_VERSION 1u

/* Packet flags (fc_dl_hdr.flags). */
#define FC_DL_F_RETRANSMIT 0x01u /* a unicast reply to a retransmit request */
#define FC_DL_F_FEED_B     0x02u /* sent on the redundant feed B */

/* msg_count values with a special meaning. */
#define FC_DL_HEARTBEAT      0u
#define FC_DL_END_OF_SESSION 0xFFFFu

/* Channels: each has its own packet_seq space. */
#define FC_DL_CHAN_INCREMENTAL 0u /* positions and events */
#define FC_DL_CHAN_SNAPSHOT    1u /* the snapshot loop: state, never events */

struct fc_dl_hdr {
	uint16_t magic;  /* FC_DL_MAGIC */
	uint8_t version; /* FC_DL_VERSION */
	uint8_t flags;   /* FC_DL_F_* */
	uint32_t session_id;
	uint64_t packet_seq;      /* per channel, starts at 1, +1 per packet (heartbeats too) */
	uint64_t send_time_ns;    /* server clock (capture clock in replay) */
	uint64_t first_event_seq; /* seq of the first event in this packet, or the next one */
	uint32_t tick;            /* tick number the packet belongs to */
	uint16_t msg_count;       /* messages in the packet; 0 heartbeat, 0xFFFF end of session */
	uint8_t event_count;      /* how many of the messages are events */
	uint8_t channel_id;       /* FC_DL_CHAN_* */
};

/* Message header: every message starts with it; length includes it and is a multiple of 8. */
struct fc_dl_msg_hdr {
	uint16_t length;
	uint8_t template_id; /* enum fc_dl_template */
	uint8_t version;     /* template schema version, 1 */
};

enum fc_dl_template {
	FC_DL_T_POSITIONS = 1,       /* state */
	FC_DL_T_CLUE_CLAIMED = 2,    /* event */
	FC_DL_T_SCORE = 3,           /* event on the incremental channel, state in snapshots */
	FC_DL_T_ROUND_STATE = 4,     /* event on the incremental channel, state in snapshots */
	FC_DL_T_SNAPSHOT_PART = 5,   /* snapshot channel only */
	FC_DL_T_CLUE_STATE = 6,      /* event on the incremental channel, state in snapshots */
	FC_DL_T_END_OF_ROUND = 7,    /* event */
	FC_DL_T_COMMAND_ECHO = 8,    /* event */
	FC_DL_T_RETRANS_REFUSED = 9, /* retransmit replies only */
};

/* POSITIONS: a batch of fixed-size entries after a 4-byte sub-header. */
struct fc_dl_positions {
	struct fc_dl_msg_hdr h;
	uint8_t entry_len; /* 8 in version 1; receivers read the first 8 bytes of each */
	uint8_t reserved;
	uint16_t count;
};

/* fc_dl_position.status bits */
#define FC_POS_S_ACTIVE      0x01u /* heard within the stale limit */
#define FC_POS_S_STALE       0x02u /* no accepted fix for more than the stale limit */
#define FC_POS_S_IMPLAUSIBLE 0x04u /* the newest fix implied an impossible speed */
#define FC_POS_S_NO_Z        0x08u

#define FC_PLAYER_NONE 0xFFFFu

struct fc_dl_position {
	uint16_t player;
	uint16_t x_cm; /* clamped to 0 .. 65535 */
	uint16_t y_cm;
	int8_t z_dm;    /* clamped to -128 .. 127 */
	uint8_t status; /* FC_POS_S_* */
};

struct fc_dl_contender {
	uint16_t player;
	uint16_t flags;        /* FC_CONT_F_* */
	uint32_t distance_mm;  /* from the clue at the qualifying fix */
	uint64_t meas_time_ns; /* corrected measurement time of the qualifying fix */
};

#define FC_CONT_F_WINNER 0x0001u
#define FC_CONT_F_TIE    0x0002u /* tied on time with the winner; lost on the tie-break rule */

/* Most contenders one CLUE_CLAIMED lists: the design's 64-player hot spot (84 would fit). */
#define FC_DL_MAX_CONTENDERS 64u

struct fc_dl_clue_claimed {
	struct fc_dl_msg_hdr h;
	uint32_t clue_id;
	uint32_t points;
	uint16_t winner; /* player */
	uint16_t winner_team;
	uint16_t contenders_total; /* every player that qualified in the settle window */
	uint16_t
		contenders_listed; /* entries that follow, winner first (<= FC_DL_MAX_CONTENDERS) */
	uint32_t round_id;
	uint64_t meas_time_ns; /* the winner's corrected measurement time */
			       /* followed by contenders_listed x struct fc_dl_contender */
};

struct fc_dl_score {
	struct fc_dl_msg_hdr h;
	uint16_t player;
	uint16_t team;
	int32_t total;    /* the player's score after this change */
	int32_t delta;    /* the change (0 in snapshots) */
	uint32_t clue_id; /* the cause, 0 for none */
	int32_t team_total;
	uint32_t round_id;
	uint32_t reserved;
};

enum fc_round_state {
	FC_ROUND_IDLE = 0,
	FC_ROUND_RUNNING = 1,
	FC_ROUND_PAUSED = 2,
	FC_ROUND_ENDED = 3,
};

struct fc_dl_round_state {
	struct fc_dl_msg_hdr h;
	uint32_t round_id;
	uint8_t state; /* enum fc_round_state */
	uint8_t reserved0;
	uint16_t reserved1;
	uint32_t round_time_ms; /* running time of the round so far, pauses excluded */
	uint64_t cmd_seq;       /* the control command that caused it, 0 if none */
};

struct fc_dl_snapshot_part {
	struct fc_dl_msg_hdr h;
	uint32_t snapshot_id; /* +1 per full pass of the loop */
	uint16_t part;        /* 0 .. part_count - 1 */
	uint16_t part_count;
	uint32_t as_of_tick;
	uint32_t reserved0;
	uint32_t reserved1;
	uint64_t as_of_packet_seq; /* last incremental packet whose content is included */
	uint64_t as_of_event_seq;  /* first event NOT included: replay events from here */
};

enum fc_clue_state_code {
	FC_CLUE_OPEN = 0,
	FC_CLUE_CLAIMED = 1,
	FC_CLUE_HIDDEN = 2, /* waiting to respawn, or not in this round */
};

struct fc_dl_clue_state {
	struct fc_dl_msg_hdr h;
	uint32_t clue_id;
	uint32_t points;
	uint16_t x_cm;
	uint16_t y_cm;
	uint16_t radius_mm;
	uint8_t state; /* enum fc_clue_state_code */
	uint8_t reserved0;
	uint16_t winner; /* FC_PLAYER_NONE unless claimed */
	uint16_t reserved1;
};

struct fc_dl_end_of_round {
	struct fc_dl_msg_hdr h;
	uint32_t round_id;
	uint16_t reason; /* 0 operator, 1 all clues claimed, 2 time limit */
	uint16_t reserved0;
	uint32_t reserved1;
};

struct fc_dl_command_echo {
	struct fc_dl_msg_hdr h;
	uint32_t reserved;
	uint64_t cmd_seq;
	uint16_t command; /* floorctl command code (docs/protocol.md) */
	uint16_t status;  /* 0 applied, otherwise a positive errno */
	uint32_t arg;
};

/* Retransmit refusal reasons */
#define FC_RT_REFUSED_TOO_OLD  1u /* not in the history any more: use the snapshot loop */
#define FC_RT_REFUSED_TOO_MANY 2u /* count above the per-request limit */
#define FC_RT_REFUSED_RATE     3u /* requester above its rate limit */
#define FC_RT_REFUSED_SESSION  4u /* wrong session id */
#define FC_RT_REFUSED_NOT_YET  5u /* asked for events not sent yet */

struct fc_dl_retrans_refused {
	struct fc_dl_msg_hdr h;
	uint16_t reason;          /* FC_RT_REFUSED_* */
	uint16_t count;           /* echo of the request */
	uint64_t first_event_seq; /* echo of the request */
	uint64_t oldest_available;
	uint64_t next_event_seq; /* next event seq the server will assign */
};

/* ------------------------------------------------------------------------------------------ */
/* Retransmit request: subscriber -> floord, UDP unicast                                       */
/* ------------------------------------------------------------------------------------------ */

#define FC_RT_MAGIC     0x5246u /* bytes "FR" on the wire */
#define FC_RT_VERSION   1u
#define FC_RT_MAX_COUNT 256u /* most events one request may ask for */

struct fc_rt_request {
	uint16_t magic;  /* FC_RT_MAGIC */
	uint8_t version; /* FC_RT_VERSION */
	uint8_t reserved0;
	uint32_t session_id;
	uint64_t first_event_seq;
	uint16_t count;
	uint16_t reserved1;
	uint32_t reserved2;
};

/* ------------------------------------------------------------------------------------------ */
/* Layout pins: docs/protocol.md's tables, checked at compile time.                            */
/* ------------------------------------------------------------------------------------------ */

static_assert(sizeof(struct fc_up_hdr) == 32, "uplink header");
static_assert(offsetof(struct fc_up_hdr, gateway_id) == 4, "");
static_assert(offsetof(struct fc_up_hdr, seq) == 8, "");
static_assert(offsetof(struct fc_up_hdr, base_time_ns) == 16, "");
static_assert(offsetof(struct fc_up_hdr, record_count) == 24, "");
static_assert(offsetof(struct fc_up_hdr, record_len) == 26, "");
static_assert(offsetof(struct fc_up_hdr, key_id) == 28, "");
static_assert(offsetof(struct fc_up_hdr, mac_alg) == 29, "");
static_assert(offsetof(struct fc_up_hdr, flags) == 30, "");

static_assert(sizeof(struct fc_up_fix) == 32, "fix record");
static_assert(offsetof(struct fc_up_fix, x_mm) == 8, "");
static_assert(offsetof(struct fc_up_fix, y_mm) == 12, "");
static_assert(offsetof(struct fc_up_fix, z_mm) == 16, "");
static_assert(offsetof(struct fc_up_fix, dt_us) == 20, "");
static_assert(offsetof(struct fc_up_fix, err_mm) == 24, "");
static_assert(offsetof(struct fc_up_fix, quality) == 26, "");
static_assert(offsetof(struct fc_up_fix, flags) == 27, "");
static_assert(offsetof(struct fc_up_fix, fix_seq) == 28, "");

static_assert(sizeof(struct fc_up_status) == 32, "status record");
static_assert(offsetof(struct fc_up_status, frames_sent) == 8, "");
static_assert(offsetof(struct fc_up_status, frames_dropped) == 16, "");
static_assert(offsetof(struct fc_up_status, cpu_pct) == 20, "");
static_assert(offsetof(struct fc_up_status, clock_sync) == 22, "");
static_assert(offsetof(struct fc_up_status, clock_err_ns) == 24, "");

static_assert(sizeof(struct fc_up_event) == 16, "event record");
static_assert(offsetof(struct fc_up_event, dt_us) == 4, "");
static_assert(offsetof(struct fc_up_event, arg) == 8, "");

static_assert(sizeof(struct fc_dl_hdr) == 40, "downlink header");
static_assert(offsetof(struct fc_dl_hdr, session_id) == 4, "");
static_assert(offsetof(struct fc_dl_hdr, packet_seq) == 8, "");
static_assert(offsetof(struct fc_dl_hdr, send_time_ns) == 16, "");
static_assert(offsetof(struct fc_dl_hdr, first_event_seq) == 24, "");
static_assert(offsetof(struct fc_dl_hdr, tick) == 32, "");
static_assert(offsetof(struct fc_dl_hdr, msg_count) == 36, "");
static_assert(offsetof(struct fc_dl_hdr, event_count) == 38, "");
static_assert(offsetof(struct fc_dl_hdr, channel_id) == 39, "");

static_assert(sizeof(struct fc_dl_msg_hdr) == 4, "message header");
static_assert(sizeof(struct fc_dl_positions) == 8, "");
static_assert(sizeof(struct fc_dl_position) == 8, "");
static_assert(offsetof(struct fc_dl_position, z_dm) == 6, "");
static_assert(sizeof(struct fc_dl_contender) == 16, "");
static_assert(sizeof(struct fc_dl_clue_claimed) == 32, "");
static_assert(offsetof(struct fc_dl_clue_claimed, contenders_total) == 16, "");
static_assert(offsetof(struct fc_dl_clue_claimed, round_id) == 20, "");
static_assert(offsetof(struct fc_dl_clue_claimed, meas_time_ns) == 24, "");
static_assert(sizeof(struct fc_dl_score) == 32, "");
static_assert(offsetof(struct fc_dl_score, total) == 8, "");
static_assert(offsetof(struct fc_dl_score, team_total) == 20, "");
static_assert(sizeof(struct fc_dl_round_state) == 24, "");
static_assert(offsetof(struct fc_dl_round_state, round_time_ms) == 12, "");
static_assert(offsetof(struct fc_dl_round_state, cmd_seq) == 16, "");
static_assert(sizeof(struct fc_dl_snapshot_part) == 40, "");
static_assert(offsetof(struct fc_dl_snapshot_part, as_of_tick) == 12, "");
static_assert(offsetof(struct fc_dl_snapshot_part, reserved1) == 20, "no hidden padding");
static_assert(offsetof(struct fc_dl_snapshot_part, as_of_packet_seq) == 24, "");
static_assert(offsetof(struct fc_dl_snapshot_part, as_of_event_seq) == 32, "");
static_assert(sizeof(struct fc_dl_clue_state) == 24, "");
static_assert(offsetof(struct fc_dl_clue_state, radius_mm) == 16, "");
static_assert(offsetof(struct fc_dl_clue_state, winner) == 20, "");
static_assert(sizeof(struct fc_dl_end_of_round) == 16, "");
static_assert(sizeof(struct fc_dl_command_echo) == 24, "");
static_assert(offsetof(struct fc_dl_command_echo, cmd_seq) == 8, "");
static_assert(offsetof(struct fc_dl_command_echo, command) == 16, "");
static_assert(sizeof(struct fc_dl_retrans_refused) == 32, "");
static_assert(offsetof(struct fc_dl_retrans_refused, first_event_seq) == 8, "");
static_assert(offsetof(struct fc_dl_retrans_refused, oldest_available) == 16, "");
static_assert(offsetof(struct fc_dl_retrans_refused, next_event_seq) == 24, "");

static_assert(sizeof(struct fc_rt_request) == 24, "retransmit request");
static_assert(offsetof(struct fc_rt_request, first_event_seq) == 8, "");
static_assert(offsetof(struct fc_rt_request, count) == 16, "");

/* A full contender list fits one packet with the header and its claim. */
static_assert(sizeof(struct fc_dl_hdr) + sizeof(struct fc_dl_clue_claimed) +
			      FC_DL_MAX_CONTENDERS * sizeof(struct fc_dl_contender) <=
		      FC_WIRE_MAX_PAYLOAD,
	      "contender list must fit one datagram");

#endif /* FC_WIRE_TYPES_H */

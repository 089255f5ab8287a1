/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tests' floord: builds downlink packets with lib/wire's builder (docs/protocol.md section
 * 4), numbers the events, keeps them in a history and answers retransmit requests from it
 * (section 6), so the recovery tests play the server with no socket.
 */
#ifndef FC_TEST_SRV_H
#define FC_TEST_SRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fc_downlink.h"

#define SRV_MAX_EVENTS 8192u
#define SRV_CONTENDERS 4u

/* One event as sent, to be sent again byte for byte in a reply. */
struct srv_event {
	unsigned int template_id;
	union {
		struct fc_dl_clue_claimed claim;
		struct fc_dl_score score;
		struct fc_dl_round_state round;
		struct fc_dl_clue_state clue;
		struct fc_dl_end_of_round eor;
		struct fc_dl_command_echo echo;
		uint8_t raw[64];
	} u;
	size_t len;
	struct fc_dl_contender cont[SRV_CONTENDERS];
};

struct srv {
	uint32_t session;
	uint64_t pkt[2];  /* the next packet_seq per channel */
	uint64_t next_ev; /* the next event_seq to assign */
	uint32_t tick;
	struct srv_event *hist; /* by event_seq */
	struct fc_dl_builder b;
	uint8_t buf[FC_WIRE_MAX_PAYLOAD];
	bool open;
};

void srv_init(struct srv *s, uint32_t session);
void srv_fini(struct srv *s);

/* Starts the next multicast packet of channel chan (events first, then state). */
void srv_begin(struct srv *s, uint8_t chan);
/* Finishes it: its bytes in s->buf, the length returned. */
size_t srv_end(struct srv *s);

/* Events: each gets the next event_seq (returned) and goes into the open packet. */
uint64_t srv_score(struct srv *s, uint16_t player, uint16_t team, int32_t total, int32_t team_total,
		   uint32_t round_id);
uint64_t srv_round(struct srv *s, uint32_t round_id, uint8_t state, uint32_t time_ms);
uint64_t srv_claim(struct srv *s, uint32_t clue_id, uint16_t winner, uint16_t team,
		   unsigned int contenders, uint32_t round_id);
uint64_t srv_clue(struct srv *s, uint32_t clue_id, uint16_t x_cm, uint16_t y_cm, uint8_t state,
		  uint16_t winner);
uint64_t srv_end_of_round(struct srv *s, uint32_t round_id, uint16_t reason);
uint64_t srv_echo(struct srv *s, uint64_t cmd_seq, uint16_t command);
/* An event of a template the client does not know (id 200, 16 bytes). */
uint64_t srv_unknown(struct srv *s);

/* State: a position (channel 0 or a snapshot part). */
void srv_pos(struct srv *s, uint16_t player, uint16_t x_cm, uint16_t y_cm);
/* State messages of a snapshot part. */
void srv_state_round(struct srv *s, uint32_t round_id, uint8_t state);
void srv_state_clue(struct srv *s, uint32_t clue_id, uint16_t x_cm, uint16_t y_cm, uint8_t state,
		    uint16_t winner);
void srv_state_score(struct srv *s, uint16_t player, uint16_t team, int32_t total,
		     int32_t team_total, uint32_t round_id);

/*
 * Starts a snapshot part on channel 1: a SNAPSHOT_PART as of the server's now (the last
 * channel-0 packet, the next event), unless as_of_ev is not 0.
 */
void srv_snap(struct srv *s, uint32_t snapshot_id, uint16_t part, uint16_t parts,
	      uint64_t as_of_pkt, uint64_t as_of_ev);

/* Special packets, finished at once. */
size_t srv_heartbeat(struct srv *s, uint8_t chan);
size_t srv_end_of_session(struct srv *s, uint8_t chan);

/* A retransmit reply with events first .. first + count - 1 from the history, into out. */
size_t srv_reply(struct srv *s, uint64_t first, uint16_t count, uint8_t *out);
/* The same with as many of them as fit one packet: *sent says how many. */
size_t srv_reply_part(struct srv *s, uint64_t first, uint16_t count, uint8_t *out, uint16_t *sent);
/* A refusal of the request (first, count) for reason, into out. */
size_t srv_refuse(struct srv *s, uint64_t first, uint16_t count, uint16_t reason, uint8_t *out);

/* ---- the harness: one client, one server, a clock, what the client asked and told -------- */

#include "fc_client.h"

#define TC_MAX_REQUESTS 64u
#define TC_MAX_NOTES    512u

struct tc {
	struct fc_client *c;
	struct srv s;
	uint64_t now;
	int send_rc; /* what the send_request callback returns */
	struct fc_rt_request req[TC_MAX_REQUESTS];
	unsigned int n_req;
	struct fc_client_note note[TC_MAX_NOTES]; /* msg and len cleared: they do not outlive */
	unsigned int n_note;
};

extern struct tc T;

/* A client with the recording callbacks (params may be NULL), a server of session 0x5EED0001. */
void tc_setup(const struct fc_client_params *params);
/* The same without a retransmit service (send_request NULL). */
void tc_setup_no_rt(void);
void tc_teardown(void);
/* Finishes the server's open packet and feeds it; returns fc_client_feed()'s result. */
int tc_feed(void);
int tc_feed_buf(const void *buf, size_t len);
/* Syncs a fresh client: a one-part snapshot as of now (round 1 RUNNING) is fed. */
void tc_join(void);
struct fc_client_stats tc_stats(void);
struct fc_client_info tc_info(void);
/* The last request sent, asserting there is one. */
struct fc_rt_request tc_last_request(void);
/* Answers every request not yet answered from the history (one reply each). */
void tc_answer_all(unsigned int *answered);

#endif /* FC_TEST_SRV_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/* The tests' floord: see srv.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"

#define BASE_NS 1767225600000000000ull
#define TICK_NS 50000000ull

void
srv_init(struct srv *s, uint32_t session)
{
	memset(s, 0, sizeof(*s));
	s->session = session;
	s->pkt[0] = s->pkt[1] = 1;
	s->next_ev = 1;
	s->tick = 1;
	s->hist = calloc(SRV_MAX_EVENTS, sizeof(*s->hist));
	cr_assert_not_null(s->hist);
}

void
srv_fini(struct srv *s)
{
	free(s->hist);
	s->hist = NULL;
}

static struct fc_dl_hdr
hdr(const struct srv *s, uint8_t chan, uint64_t packet_seq, uint8_t flags, uint64_t first_event)
{
	return (struct fc_dl_hdr){
		.flags = flags,
		.session_id = s->session,
		.packet_seq = packet_seq,
		.send_time_ns = BASE_NS + s->tick * TICK_NS,
		.first_event_seq = first_event,
		.tick = s->tick,
		.channel_id = chan,
	};
}

void
srv_begin(struct srv *s, uint8_t chan)
{
	struct fc_dl_hdr h = hdr(s, chan, s->pkt[chan]++, 0, s->next_ev);

	cr_assert(!s->open, "srv: a packet is already open");
	cr_assert_eq(fc_dl_begin(&s->b, s->buf, sizeof(s->buf), &h), 0);
	s->open = true;
}

size_t
srv_end(struct srv *s)
{
	cr_assert(s->open, "srv: no packet open");
	s->open = false;
	s->tick++;
	return fc_dl_finish(&s->b);
}

/* Adds event e (numbered next_ev) to the builder b. */
static void
add_event(struct fc_dl_builder *b, struct srv_event *e)
{
	int rc;

	if (e->template_id == FC_DL_T_CLUE_CLAIMED)
		rc = fc_dl_add_claim(b, &e->u.claim, e->cont);
	else if (e->template_id == 200)
		rc = -EINVAL; /* unknown templates are written by hand below */
	else
		rc = fc_dl_add(b, e->template_id, &e->u, e->len, true);
	if (e->template_id == 200) {
		/* An unknown template: the builder refuses it, so write it and fix the counts. */
		struct fc_dl_msg_hdr mh = { .length = 16, .template_id = 200, .version = 1 };

		cr_assert(fc_dl_room(b) >= 16);
		memset(b->buf + b->len, 0xAB, 16);
		memcpy(b->buf + b->len, &mh, sizeof(mh));
		b->len += 16;
		b->msg_count++;
		b->event_count++;
		rc = 0;
	}
	cr_assert_eq(rc, 0, "srv: event does not fit (%d)", rc);
}

static uint64_t
event(struct srv *s, struct srv_event *e)
{
	uint64_t seq = s->next_ev++;

	cr_assert(seq < SRV_MAX_EVENTS);
	s->hist[seq] = *e;
	if (s->open)
		add_event(&s->b, &s->hist[seq]);
	return seq;
}

uint64_t
srv_score(struct srv *s, uint16_t player, uint16_t team, int32_t total, int32_t team_total,
	  uint32_t round_id)
{
	struct srv_event e = { .template_id = FC_DL_T_SCORE, .len = sizeof(e.u.score) };

	e.u.score = (struct fc_dl_score){ .player = player,
					  .team = team,
					  .total = total,
					  .delta = 10,
					  .team_total = team_total,
					  .round_id = round_id };
	return event(s, &e);
}

uint64_t
srv_round(struct srv *s, uint32_t round_id, uint8_t state, uint32_t time_ms)
{
	struct srv_event e = { .template_id = FC_DL_T_ROUND_STATE, .len = sizeof(e.u.round) };

	e.u.round = (struct fc_dl_round_state){ .round_id = round_id,
						.state = state,
						.round_time_ms = time_ms };
	return event(s, &e);
}

uint64_t
srv_claim(struct srv *s, uint32_t clue_id, uint16_t winner, uint16_t team, unsigned int contenders,
	  uint32_t round_id)
{
	struct srv_event e = { .template_id = FC_DL_T_CLUE_CLAIMED, .len = sizeof(e.u.claim) };

	cr_assert(contenders >= 1 && contenders <= SRV_CONTENDERS);
	e.u.claim = (struct fc_dl_clue_claimed){ .clue_id = clue_id,
						 .points = 50,
						 .winner = winner,
						 .winner_team = team,
						 .contenders_total = (uint16_t)(contenders + 1),
						 .contenders_listed = (uint16_t)contenders,
						 .round_id = round_id,
						 .meas_time_ns = BASE_NS + 1000 * clue_id };
	for (unsigned int i = 0; i < contenders; i++)
		e.cont[i] = (struct fc_dl_contender){
			.player = (uint16_t)(i == 0 ? winner : winner + 100 + i),
			.flags = i == 0 ? FC_CONT_F_WINNER : 0,
			.distance_mm = 10 * (i + 1),
			.meas_time_ns = BASE_NS + 1000 * clue_id + i,
		};
	return event(s, &e);
}

uint64_t
srv_clue(struct srv *s, uint32_t clue_id, uint16_t x_cm, uint16_t y_cm, uint8_t state,
	 uint16_t winner)
{
	struct srv_event e = { .template_id = FC_DL_T_CLUE_STATE, .len = sizeof(e.u.clue) };

	e.u.clue = (struct fc_dl_clue_state){ .clue_id = clue_id,
					      .points = 50,
					      .x_cm = x_cm,
					      .y_cm = y_cm,
					      .radius_mm = 150,
					      .state = state,
					      .winner = winner };
	return event(s, &e);
}

uint64_t
srv_end_of_round(struct srv *s, uint32_t round_id, uint16_t reason)
{
	struct srv_event e = { .template_id = FC_DL_T_END_OF_ROUND, .len = sizeof(e.u.eor) };

	e.u.eor = (struct fc_dl_end_of_round){ .round_id = round_id, .reason = reason };
	return event(s, &e);
}

uint64_t
srv_echo(struct srv *s, uint64_t cmd_seq, uint16_t command)
{
	struct srv_event e = { .template_id = FC_DL_T_COMMAND_ECHO, .len = sizeof(e.u.echo) };

	e.u.echo = (struct fc_dl_command_echo){ .cmd_seq = cmd_seq, .command = command };
	return event(s, &e);
}

uint64_t
srv_unknown(struct srv *s)
{
	struct srv_event e = { .template_id = 200, .len = 16 };

	return event(s, &e);
}

void
srv_pos(struct srv *s, uint16_t player, uint16_t x_cm, uint16_t y_cm)
{
	struct fc_dl_position p = {
		.player = player, .x_cm = x_cm, .y_cm = y_cm, .status = FC_POS_S_ACTIVE
	};

	cr_assert_eq(fc_dl_add_position(&s->b, &p), 0);
}

void
srv_state_round(struct srv *s, uint32_t round_id, uint8_t state)
{
	struct fc_dl_round_state rs = { .round_id = round_id, .state = state };

	cr_assert_eq(fc_dl_add(&s->b, FC_DL_T_ROUND_STATE, &rs, sizeof(rs), false), 0);
}

void
srv_state_clue(struct srv *s, uint32_t clue_id, uint16_t x_cm, uint16_t y_cm, uint8_t state,
	       uint16_t winner)
{
	struct fc_dl_clue_state cs = { .clue_id = clue_id,
				       .points = 50,
				       .x_cm = x_cm,
				       .y_cm = y_cm,
				       .radius_mm = 150,
				       .state = state,
				       .winner = winner };

	cr_assert_eq(fc_dl_add(&s->b, FC_DL_T_CLUE_STATE, &cs, sizeof(cs), false), 0);
}

void
srv_state_score(struct srv *s, uint16_t player, uint16_t team, int32_t total, int32_t team_total,
		uint32_t round_id)
{
	struct fc_dl_score sc = { .player = player,
				  .team = team,
				  .total = total,
				  .team_total = team_total,
				  .round_id = round_id };

	cr_assert_eq(fc_dl_add(&s->b, FC_DL_T_SCORE, &sc, sizeof(sc), false), 0);
}

void
srv_snap(struct srv *s, uint32_t snapshot_id, uint16_t part, uint16_t parts, uint64_t as_of_pkt,
	 uint64_t as_of_ev)
{
	struct fc_dl_snapshot_part sp = {
		.snapshot_id = snapshot_id,
		.part = part,
		.part_count = parts,
		.as_of_packet_seq = as_of_pkt != 0 ? as_of_pkt : s->pkt[0] - 1,
		.as_of_event_seq = as_of_ev != 0 ? as_of_ev : s->next_ev,
	};

	sp.as_of_tick = (uint32_t)sp.as_of_packet_seq; /* the same in every part */
	srv_begin(s, FC_DL_CHAN_SNAPSHOT);
	cr_assert_eq(fc_dl_add(&s->b, FC_DL_T_SNAPSHOT_PART, &sp, sizeof(sp), false), 0);
}

size_t
srv_heartbeat(struct srv *s, uint8_t chan)
{
	srv_begin(s, chan);
	return srv_end(s);
}

size_t
srv_end_of_session(struct srv *s, uint8_t chan)
{
	srv_begin(s, chan);
	s->open = false;
	return fc_dl_finish_end_of_session(&s->b);
}

/* The size event e takes in a packet. */
static size_t
event_size(const struct srv_event *e)
{
	if (e->template_id == FC_DL_T_CLUE_CLAIMED)
		return sizeof(e->u.claim) + e->u.claim.contenders_listed * sizeof(e->cont[0]);
	return e->len;
}

size_t
srv_reply_part(struct srv *s, uint64_t first, uint16_t count, uint8_t *out, uint16_t *sent)
{
	struct fc_dl_hdr h = hdr(s, FC_DL_CHAN_INCREMENTAL, 0, FC_DL_F_RETRANSMIT, first);
	struct fc_dl_builder b;

	cr_assert_eq(fc_dl_begin(&b, out, FC_WIRE_MAX_PAYLOAD, &h), 0);
	for (*sent = 0; *sent < count && *sent < 255; (*sent)++) {
		uint64_t q = first + *sent;

		cr_assert(q < s->next_ev, "srv: event %llu was never sent", (unsigned long long)q);
		if (event_size(&s->hist[q]) > fc_dl_room(&b))
			break;
		add_event(&b, &s->hist[q]);
	}
	return fc_dl_finish(&b);
}

size_t
srv_reply(struct srv *s, uint64_t first, uint16_t count, uint8_t *out)
{
	uint16_t sent;
	size_t len = srv_reply_part(s, first, count, out, &sent);

	cr_assert_eq(sent, count, "srv: the reply holds %u events of %u", sent, count);
	return len;
}

size_t
srv_refuse(struct srv *s, uint64_t first, uint16_t count, uint16_t reason, uint8_t *out)
{
	struct fc_dl_hdr h = hdr(s, FC_DL_CHAN_INCREMENTAL, 0, FC_DL_F_RETRANSMIT, s->next_ev);
	struct fc_dl_retrans_refused r = { .reason = reason,
					   .count = count,
					   .first_event_seq = first,
					   .oldest_available = first + 1000,
					   .next_event_seq = s->next_ev };
	struct fc_dl_builder b;

	cr_assert_eq(fc_dl_begin(&b, out, FC_WIRE_MAX_PAYLOAD, &h), 0);
	cr_assert_eq(fc_dl_add(&b, FC_DL_T_RETRANS_REFUSED, &r, sizeof(r), false), 0);
	return fc_dl_finish(&b);
}

/* ---- the harness ------------------------------------------------------------------------ */

struct tc T;

static int
rec_request(void *arg, const void *req, size_t len)
{
	struct tc *t = arg;
	struct fc_rt_request r;

	cr_assert_eq(fc_rt_request_decode(req, len, &r), FC_DL_OK, "the request must decode");
	if (t->n_req == TC_MAX_REQUESTS)
		return t->send_rc; /* the tests look at the first ones */
	t->req[t->n_req++] = r;
	return t->send_rc;
}

static void
rec_note(void *arg, const struct fc_client *c, const struct fc_client_note *n)
{
	struct tc *t = arg;

	cr_assert_eq(c, t->c);
	if (t->n_note == TC_MAX_NOTES)
		return; /* the tests look at the first ones */
	t->note[t->n_note] = *n;
	t->note[t->n_note].msg = NULL;
	t->note[t->n_note].len = n->len;
	t->n_note++;
}

static void
setup(const struct fc_client_params *params, bool rt)
{
	struct fc_client_params p = { 0 };

	memset(&T, 0, sizeof(T));
	if (params != NULL)
		p = *params;
	p.send_request = rt ? rec_request : NULL;
	p.send_arg = &T;
	p.notify = rec_note;
	p.notify_arg = &T;
	T.c = fc_client_create(&p);
	cr_assert_not_null(T.c);
	srv_init(&T.s, 0x5EED0001u);
	T.now = 1000000000ull;
}

void
tc_setup(const struct fc_client_params *params)
{
	setup(params, true);
}

void
tc_setup_no_rt(void)
{
	setup(NULL, false);
}

void
tc_teardown(void)
{
	fc_client_free(T.c);
	srv_fini(&T.s);
	T.c = NULL;
}

int
tc_feed_buf(const void *buf, size_t len)
{
	return fc_client_feed(T.c, buf, len, T.now);
}

int
tc_feed(void)
{
	size_t len = srv_end(&T.s);

	return tc_feed_buf(T.s.buf, len);
}

void
tc_join(void)
{
	srv_snap(&T.s, 1, 0, 1, 0, 0);
	srv_state_round(&T.s, 1, FC_ROUND_RUNNING);
	cr_assert_eq(tc_feed(), 0);
	cr_assert(tc_info().synced, "the snapshot syncs the client");
}

struct fc_client_stats
tc_stats(void)
{
	struct fc_client_stats st;

	fc_client_get_stats(T.c, &st);
	return st;
}

struct fc_client_info
tc_info(void)
{
	struct fc_client_info in;

	fc_client_get_info(T.c, &in);
	return in;
}

struct fc_rt_request
tc_last_request(void)
{
	cr_assert(T.n_req > 0, "a request was sent");
	return T.req[T.n_req - 1];
}

void
tc_answer_all(unsigned int *answered)
{
	uint8_t out[FC_WIRE_MAX_PAYLOAD];

	while (*answered < T.n_req) {
		struct fc_rt_request r = T.req[(*answered)++];

		while (r.count > 0) { /* in as many packets as needed (section 6.2) */
			uint16_t sent;
			size_t len = srv_reply_part(&T.s, r.first_event_seq, r.count, out, &sent);

			cr_assert_eq(tc_feed_buf(out, len), 0);
			r.first_event_seq += sent;
			r.count = (uint16_t)(r.count - sent);
		}
	}
}

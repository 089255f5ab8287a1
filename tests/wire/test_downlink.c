/* SPDX-License-Identifier: BSD-3-Clause */
/* Downlink codec: byte-exact vectors for every template, decoding, event numbering, malformations. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "fc_downlink.h"
#include "vectors.h"

static struct fc_dl_hdr
hdr(uint8_t chan, uint64_t pkt, uint32_t tick, uint64_t first_event)
{
	return (struct fc_dl_hdr){
		.session_id = V_SESSION,
		.packet_seq = pkt,
		.tick = tick,
		.channel_id = chan,
		.send_time_ns = V_BASE + (uint64_t)tick * 50000000u,
		.first_event_seq = first_event,
	};
}

static void
assert_vector(const char *name, const uint8_t *got, size_t len)
{
	uint8_t want[FC_WIRE_MAX_PAYLOAD];
	size_t n = v_load(name, want, sizeof(want));

	cr_assert_eq(len, n, "%s: built %zu bytes, vector has %zu", name, len, n);
	cr_assert_arr_eq(got, want, n, "%s: bytes differ from the vector", name);
}

static void
parse_ok(const uint8_t *buf, size_t len, struct fc_dl_view *v)
{
	enum fc_dl_err e = fc_dl_parse(buf, len, v);

	cr_assert_eq(e, FC_DL_OK, "parse: %s", fc_dl_err_name(e));
}

static const struct fc_dl_position P0 = {
	.player = 0, .x_cm = 123, .y_cm = 67, .z_dm = 11, .status = FC_POS_S_ACTIVE
};
static const struct fc_dl_position P1 = { .player = 1,
					  .x_cm = 0,
					  .y_cm = 1000,
					  .z_dm = -3,
					  .status = FC_POS_S_ACTIVE | FC_POS_S_IMPLAUSIBLE };

Test(downlink, positions_match_vector_and_decode)
{
	uint8_t buf[FC_WIRE_MAX_PAYLOAD];
	struct fc_dl_hdr h = hdr(0, 1, 1, 1);
	struct fc_dl_builder b;
	struct fc_dl_view v;
	struct fc_dl_iter it;
	struct fc_dl_msg m;
	struct fc_dl_position p;

	cr_assert_eq(fc_dl_begin(&b, buf, sizeof(buf), &h), 0);
	cr_assert_eq(fc_dl_add_position(&b, &P0), 0);
	cr_assert_eq(fc_dl_add_position(&b, &P1), 0);
	size_t len = fc_dl_finish(&b);
	assert_vector("dl_positions", buf, len);

	parse_ok(buf, len, &v);
	cr_assert_eq(v.hdr.msg_count, 1);
	fc_dl_iter_init(&it, &v);
	cr_assert(fc_dl_iter_next(&it, &m));
	cr_assert_eq(m.template_id, FC_DL_T_POSITIONS);
	cr_assert_not(m.is_event);
	cr_assert_eq(fc_dl_positions_count(&m), 2);
	fc_dl_position_at(&m, 1, &p);
	cr_assert_eq(memcmp(&p, &P1, sizeof(p)), 0);
	cr_assert_not(fc_dl_iter_next(&it, &m));
}

static const struct fc_dl_contender CONT[2] = {
	{ .player = 3,
	  .flags = FC_CONT_F_WINNER,
	  .distance_mm = 12,
	  .meas_time_ns = V_BASE + 73000000 },
	{ .player = 9, .flags = 0, .distance_mm = 18, .meas_time_ns = V_BASE + 81000000 },
};

static size_t
build_claim(uint8_t *buf)
{
	struct fc_dl_hdr h = hdr(0, 2, 2, 1);
	struct fc_dl_builder b;
	struct fc_dl_clue_claimed c = {
		.clue_id = 17,
		.points = 50,
		.winner = 3,
		.winner_team = 1,
		.contenders_total = 2,
		.contenders_listed = 2,
		.meas_time_ns = V_BASE + 73000000,
		.round_id = 1,
	};
	struct fc_dl_score s = { .player = 3,
				 .team = 1,
				 .total = 50,
				 .delta = 50,
				 .clue_id = 17,
				 .team_total = 120,
				 .round_id = 1 };

	cr_assert_eq(fc_dl_begin(&b, buf, FC_WIRE_MAX_PAYLOAD, &h), 0);
	cr_assert_eq(fc_dl_add_claim(&b, &c, CONT), 0);
	cr_assert_eq(fc_dl_add(&b, FC_DL_T_SCORE, &s, sizeof(s), true), 0);
	return fc_dl_finish(&b);
}

Test(downlink, clue_claimed_matches_vector_and_numbers_events)
{
	uint8_t buf[FC_WIRE_MAX_PAYLOAD];
	size_t len = build_claim(buf);
	struct fc_dl_view v;
	struct fc_dl_iter it;
	struct fc_dl_msg m;
	struct fc_dl_clue_claimed c;
	struct fc_dl_contender k;
	struct fc_dl_score s;

	assert_vector("dl_clue_claimed", buf, len);
	parse_ok(buf, len, &v);
	cr_assert_eq(v.hdr.event_count, 2);
	fc_dl_iter_init(&it, &v);
	cr_assert(fc_dl_iter_next(&it, &m));
	cr_assert(m.is_event);
	cr_assert_eq(m.event_seq, 1);
	fc_dl_msg_get(&m, &c, sizeof(c));
	cr_assert_eq(c.clue_id, 17);
	cr_assert_eq(c.winner, 3);
	fc_dl_contender_at(&m, 1, &k);
	cr_assert_eq(memcmp(&k, &CONT[1], sizeof(k)), 0);
	cr_assert(fc_dl_iter_next(&it, &m));
	cr_assert_eq(m.event_seq, 2);
	fc_dl_msg_get(&m, &s, sizeof(s));
	cr_assert_eq(s.team_total, 120);
}

static size_t
build_round_start(uint8_t *buf, struct fc_dl_hdr h)
{
	struct fc_dl_builder b;
	struct fc_dl_command_echo ce = { .cmd_seq = 5, .command = 1, .status = 0, .arg = 1 };
	struct fc_dl_round_state rs = { .round_id = 1, .state = FC_ROUND_RUNNING, .cmd_seq = 5 };

	cr_assert_eq(fc_dl_begin(&b, buf, FC_WIRE_MAX_PAYLOAD, &h), 0);
	cr_assert_eq(fc_dl_add(&b, FC_DL_T_COMMAND_ECHO, &ce, sizeof(ce), true), 0);
	cr_assert_eq(fc_dl_add(&b, FC_DL_T_ROUND_STATE, &rs, sizeof(rs), true), 0);
	return fc_dl_finish(&b);
}

Test(downlink, round_start_matches_vector)
{
	uint8_t buf[FC_WIRE_MAX_PAYLOAD];

	assert_vector("dl_round_start", buf, build_round_start(buf, hdr(0, 3, 3, 3)));
}

Test(downlink, retransmit_reply_matches_vector)
{
	uint8_t buf[FC_WIRE_MAX_PAYLOAD];
	struct fc_dl_hdr h = hdr(0, 0, 3, 3);

	h.flags = FC_DL_F_RETRANSMIT;
	assert_vector("dl_retrans_reply", buf, build_round_start(buf, h));
}

Test(downlink, end_of_round_matches_vector)
{
	uint8_t buf[FC_WIRE_MAX_PAYLOAD];
	struct fc_dl_hdr h = hdr(0, 4, 4, 5);
	struct fc_dl_builder b;
	struct fc_dl_end_of_round e = { .round_id = 1, .reason = 1 };

	cr_assert_eq(fc_dl_begin(&b, buf, sizeof(buf), &h), 0);
	cr_assert_eq(fc_dl_add(&b, FC_DL_T_END_OF_ROUND, &e, sizeof(e), true), 0);
	assert_vector("dl_end_of_round", buf, fc_dl_finish(&b));
}

Test(downlink, heartbeat_and_end_of_session_match_vectors)
{
	uint8_t buf[FC_WIRE_MAX_PAYLOAD];
	struct fc_dl_hdr h = hdr(0, 5, 5, 6);
	struct fc_dl_builder b;
	struct fc_dl_view v;
	size_t len;

	cr_assert_eq(fc_dl_begin(&b, buf, sizeof(buf), &h), 0);
	len = fc_dl_finish(&b);
	assert_vector("dl_heartbeat", buf, len);
	parse_ok(buf, len, &v);
	cr_assert(fc_dl_is_heartbeat(&v));

	h = hdr(0, 6, 6, 6);
	cr_assert_eq(fc_dl_begin(&b, buf, sizeof(buf), &h), 0);
	len = fc_dl_finish_end_of_session(&b);
	assert_vector("dl_end_of_session", buf, len);
	parse_ok(buf, len, &v);
	cr_assert(fc_dl_is_end_of_session(&v));
}

Test(downlink, snapshot_matches_vector)
{
	uint8_t buf[FC_WIRE_MAX_PAYLOAD];
	struct fc_dl_hdr h = hdr(FC_DL_CHAN_SNAPSHOT, 1, 40, 5);
	struct fc_dl_builder b;
	struct fc_dl_snapshot_part sp = { .snapshot_id = 2,
					  .part = 0,
					  .part_count = 1,
					  .as_of_tick = 40,
					  .as_of_packet_seq = 57,
					  .as_of_event_seq = 5 };
	struct fc_dl_round_state rs = {
		.round_id = 1, .state = FC_ROUND_RUNNING, .round_time_ms = 2000, .cmd_seq = 5
	};
	struct fc_dl_clue_state cs = { .clue_id = 17,
				       .points = 50,
				       .x_cm = 1234,
				       .y_cm = 567,
				       .radius_mm = 20,
				       .state = FC_CLUE_CLAIMED,
				       .winner = 3 };
	struct fc_dl_score s = {
		.player = 3, .team = 1, .total = 50, .team_total = 120, .round_id = 1
	};
	struct fc_dl_position p = {
		.player = 3, .x_cm = 1234, .y_cm = 567, .status = FC_POS_S_ACTIVE
	};
	struct fc_dl_view v;
	struct fc_dl_iter it;
	struct fc_dl_msg m;
	int n = 0;

	cr_assert_eq(fc_dl_begin(&b, buf, sizeof(buf), &h), 0);
	cr_assert_eq(fc_dl_add(&b, FC_DL_T_SNAPSHOT_PART, &sp, sizeof(sp), false), 0);
	cr_assert_eq(fc_dl_add(&b, FC_DL_T_ROUND_STATE, &rs, sizeof(rs), false), 0);
	cr_assert_eq(fc_dl_add(&b, FC_DL_T_CLUE_STATE, &cs, sizeof(cs), false), 0);
	cr_assert_eq(fc_dl_add(&b, FC_DL_T_SCORE, &s, sizeof(s), false), 0);
	cr_assert_eq(fc_dl_add_position(&b, &p), 0);
	size_t len = fc_dl_finish(&b);
	assert_vector("dl_snapshot", buf, len);

	parse_ok(buf, len, &v);
	fc_dl_iter_init(&it, &v);
	while (fc_dl_iter_next(&it, &m)) {
		cr_assert_not(m.is_event);
		n++;
	}
	cr_assert_eq(n, 5);
}

Test(downlink, retransmit_refused_matches_vector)
{
	uint8_t buf[FC_WIRE_MAX_PAYLOAD];
	struct fc_dl_hdr h = hdr(0, 0, 6, 260);
	struct fc_dl_builder b;
	struct fc_dl_retrans_refused r = { .reason = FC_RT_REFUSED_TOO_OLD,
					   .count = 2,
					   .first_event_seq = 1,
					   .oldest_available = 100,
					   .next_event_seq = 260 };

	h.flags = FC_DL_F_RETRANSMIT;
	cr_assert_eq(fc_dl_begin(&b, buf, sizeof(buf), &h), 0);
	cr_assert_eq(fc_dl_add(&b, FC_DL_T_RETRANS_REFUSED, &r, sizeof(r), false), 0);
	assert_vector("dl_retrans_refused", buf, fc_dl_finish(&b));
}

Test(downlink, retransmit_request_matches_vector_and_round_trips)
{
	uint8_t buf[64];
	struct fc_rt_request r = { .session_id = V_SESSION, .first_event_seq = 3, .count = 2 },
			     back;

	cr_assert_eq(fc_rt_request_encode(buf, sizeof(buf), &r), 24);
	assert_vector("rt_request", buf, 24);
	cr_assert_eq(fc_rt_request_decode(buf, 24, &back), FC_DL_OK);
	cr_assert_eq(memcmp(&back, &r, sizeof(r)), 0);
	cr_assert_eq(fc_rt_request_decode(buf, 23, &back), FC_DL_E_RUNT);
	cr_assert_eq(fc_rt_request_decode(buf, 32, &back), FC_DL_OK); /* newer, longer: prefix */
	cr_assert_eq(fc_rt_request_decode(buf, 1401, &back), FC_DL_E_BAD_LENGTH);
	buf[16] = 0;
	cr_assert_eq(fc_rt_request_decode(buf, 24, &back), FC_DL_E_BAD_MESSAGE);
	buf[16] = 1;
	buf[17] = 1; /* 257: decodes; the service refuses it as TOO_MANY */
	cr_assert_eq(fc_rt_request_decode(buf, 24, &back), FC_DL_OK);
	cr_assert_eq(back.count, 257);
	buf[0] = 0;
	cr_assert_eq(fc_rt_request_decode(buf, 24, &back), FC_DL_E_BAD_MAGIC);
	buf[0] = 0x46;
	buf[2] = 9;
	cr_assert_eq(fc_rt_request_decode(buf, 24, &back), FC_DL_E_BAD_VERSION);
}

/* ---- builder rules ----------------------------------------------------------------------- */

Test(downlink_builder, refuses_events_after_state)
{
	uint8_t buf[FC_WIRE_MAX_PAYLOAD];
	struct fc_dl_hdr h = hdr(0, 1, 1, 1);
	struct fc_dl_builder b;
	struct fc_dl_score s = { 0 };

	cr_assert_eq(fc_dl_begin(&b, buf, sizeof(buf), &h), 0);
	cr_assert_eq(fc_dl_add_position(&b, &P0), 0);
	cr_assert_eq(fc_dl_add(&b, FC_DL_T_SCORE, &s, sizeof(s), true), -EINVAL);
}

Test(downlink_builder, refuses_wrong_sizes_and_variable_templates)
{
	uint8_t buf[FC_WIRE_MAX_PAYLOAD];
	struct fc_dl_hdr h = hdr(0, 1, 1, 1);
	struct fc_dl_builder b;
	struct fc_dl_score s = { 0 };

	cr_assert_eq(fc_dl_begin(&b, buf, sizeof(buf), &h), 0);
	cr_assert_eq(fc_dl_add(&b, FC_DL_T_SCORE, &s, sizeof(s) - 8, true), -EINVAL);
	cr_assert_eq(fc_dl_add(&b, FC_DL_T_POSITIONS, &s, 8, false), -EINVAL);
	cr_assert_eq(fc_dl_add(&b, 200, &s, sizeof(s), false), -EINVAL);
	cr_assert_eq(fc_dl_begin(&b, buf, 39, &h), -EMSGSIZE);
}

Test(downlink_builder, fills_to_1400_bytes_and_no_further)
{
	uint8_t buf[2048];
	struct fc_dl_hdr h = hdr(0, 1, 1, 1);
	struct fc_dl_builder b;
	struct fc_dl_view v;
	struct fc_dl_iter it;
	struct fc_dl_msg m;
	unsigned int n = 0;

	cr_assert_eq(fc_dl_begin(&b, buf, sizeof(buf), &h), 0);
	for (;;) {
		struct fc_dl_position p = P0;

		p.player = (uint16_t)n;
		if (fc_dl_add_position(&b, &p) != 0)
			break;
		n++;
	}
	/* 40 header + 8 sub-header + 8 per entry */
	cr_assert_eq(n, (FC_WIRE_MAX_PAYLOAD - 48) / 8);
	size_t len = fc_dl_finish(&b);
	cr_assert_leq(len, FC_WIRE_MAX_PAYLOAD);
	parse_ok(buf, len, &v);
	fc_dl_iter_init(&it, &v);
	cr_assert(fc_dl_iter_next(&it, &m));
	cr_assert_eq(fc_dl_positions_count(&m), n);
}

Test(downlink_builder, full_contender_list_fits_and_more_is_refused)
{
	uint8_t buf[FC_WIRE_MAX_PAYLOAD];
	struct fc_dl_hdr h = hdr(0, 1, 1, 1);
	struct fc_dl_builder b;
	struct fc_dl_contender list[FC_DL_MAX_CONTENDERS + 1] = { 0 };
	struct fc_dl_clue_claimed c = { .contenders_total = 80,
					.contenders_listed = FC_DL_MAX_CONTENDERS };
	struct fc_dl_view v;

	cr_assert_eq(fc_dl_begin(&b, buf, sizeof(buf), &h), 0);
	cr_assert_eq(fc_dl_add_claim(&b, &c, list), 0);
	parse_ok(buf, fc_dl_finish(&b), &v);
	c.contenders_listed = FC_DL_MAX_CONTENDERS + 1;
	cr_assert_eq(fc_dl_begin(&b, buf, sizeof(buf), &h), 0);
	cr_assert_eq(fc_dl_add_claim(&b, &c, list), -EINVAL);
}

Test(downlink_builder, no_space_leaves_packet_unchanged)
{
	uint8_t buf[80];
	struct fc_dl_hdr h = hdr(0, 1, 1, 1);
	struct fc_dl_builder b;
	struct fc_dl_score s = { 0 };
	struct fc_dl_snapshot_part sp = { 0 };

	cr_assert_eq(fc_dl_begin(&b, buf, sizeof(buf), &h), 0);
	cr_assert_eq(fc_dl_add(&b, FC_DL_T_SCORE, &s, sizeof(s), true), 0);
	cr_assert_eq(fc_dl_add(&b, FC_DL_T_SNAPSHOT_PART, &sp, sizeof(sp), false), -ENOSPC);
	cr_assert_eq(b.len, 72);
	cr_assert_eq(b.msg_count, 1);
}

/* ---- decoder: malformations --------------------------------------------------------------- */

static enum fc_dl_err
dparse(const uint8_t *buf, size_t len)
{
	struct fc_dl_view v;

	return fc_dl_parse(buf, len, &v);
}

Test(downlink_malformed, rejects_every_truncation)
{
	uint8_t buf[FC_WIRE_MAX_PAYLOAD];
	size_t len = build_claim(buf);

	for (size_t n = 0; n < 40; n++)
		cr_assert_eq(dparse(buf, n), FC_DL_E_RUNT);
	for (size_t n = 40; n < len; n++)
		cr_assert_neq(dparse(buf, n), FC_DL_OK, "len %zu", n);
	cr_assert_eq(dparse(buf, len - 8), FC_DL_E_BAD_MESSAGE);
}

Test(downlink_malformed, rejects_bad_header_fields)
{
	uint8_t buf[FC_WIRE_MAX_PAYLOAD];
	size_t len = build_claim(buf);

	buf[0] = 'X';
	cr_assert_eq(dparse(buf, len), FC_DL_E_BAD_MAGIC);
	len = build_claim(buf);
	buf[2] = 2;
	cr_assert_eq(dparse(buf, len), FC_DL_E_BAD_VERSION);
	len = build_claim(buf);
	buf[38] = 3; /* three events in two messages */
	cr_assert_eq(dparse(buf, len), FC_DL_E_BAD_PACKET);
	len = build_claim(buf);
	buf[39] = FC_DL_CHAN_SNAPSHOT; /* events on the snapshot channel */
	cr_assert_eq(dparse(buf, len), FC_DL_E_BAD_PACKET);
	len = build_claim(buf);
	buf[39] = 2; /* a channel this version does not have */
	cr_assert_eq(dparse(buf, len), FC_DL_E_UNKNOWN_CHANNEL);
	len = build_claim(buf);
	buf[36] = 3; /* three messages announced, two present */
	cr_assert_eq(dparse(buf, len), FC_DL_E_BAD_MESSAGE);
	len = build_claim(buf);
	buf[36] = 1; /* one message announced, two present: bytes left over */
	buf[38] = 1;
	cr_assert_eq(dparse(buf, len), FC_DL_E_BAD_PACKET);
}

Test(downlink_malformed, rejects_oversize_packet)
{
	uint8_t buf[1500] = { 0 };
	size_t len = build_claim(buf);

	(void)len;
	cr_assert_eq(dparse(buf, 1401), FC_DL_E_BAD_LENGTH);
}

Test(downlink_malformed, rejects_bad_message_lengths)
{
	uint8_t buf[FC_WIRE_MAX_PAYLOAD];
	size_t len = build_claim(buf);

	buf[40] = 2; /* shorter than a message header */
	buf[41] = 0;
	cr_assert_eq(dparse(buf, len), FC_DL_E_BAD_MESSAGE);
	len = build_claim(buf);
	buf[40] = 0x44; /* 68: not a multiple of 8 */
	cr_assert_eq(dparse(buf, len), FC_DL_E_BAD_MESSAGE);
	len = build_claim(buf);
	buf[41] = 0x10; /* past the end */
	cr_assert_eq(dparse(buf, len), FC_DL_E_BAD_MESSAGE);
	len = build_claim(buf);
	buf[43] = 0; /* template version 0 is invalid */
	cr_assert_eq(dparse(buf, len), FC_DL_E_BAD_MESSAGE);
	len = build_claim(buf);
	buf[40] = 24; /* CLUE_CLAIMED shorter than its 32 bytes */
	buf[41] = 0;
	cr_assert_eq(dparse(buf, len), FC_DL_E_BAD_MESSAGE);
}

Test(downlink_malformed, rejects_entries_past_their_message)
{
	uint8_t buf[FC_WIRE_MAX_PAYLOAD];
	size_t len = build_claim(buf);

	buf[40 + 18] = 3; /* three contenders listed in a message with room for two */
	buf[40 + 16] = 3;
	cr_assert_eq(dparse(buf, len), FC_DL_E_BAD_MESSAGE);
	len = build_claim(buf);
	buf[40 + 18] = 2;
	buf[40 + 16] = 1; /* listed > total */
	cr_assert_eq(dparse(buf, len), FC_DL_E_BAD_MESSAGE);

	struct fc_dl_hdr h = hdr(0, 1, 1, 1);
	struct fc_dl_builder b;
	cr_assert_eq(fc_dl_begin(&b, buf, sizeof(buf), &h), 0);
	cr_assert_eq(fc_dl_add_position(&b, &P0), 0);
	len = fc_dl_finish(&b);
	buf[46] = 2; /* count 2, room for one */
	cr_assert_eq(dparse(buf, len), FC_DL_E_BAD_MESSAGE);
	buf[46] = 1;
	buf[44] = 4; /* entry_len below 8 */
	cr_assert_eq(dparse(buf, len), FC_DL_E_BAD_MESSAGE);
}

Test(downlink_malformed, heartbeat_or_end_of_session_with_a_body)
{
	uint8_t buf[FC_WIRE_MAX_PAYLOAD] = { 0 };
	struct fc_dl_hdr h = hdr(0, 5, 5, 6);
	struct fc_dl_builder b;

	cr_assert_eq(fc_dl_begin(&b, buf, sizeof(buf), &h), 0);
	size_t len = fc_dl_finish_end_of_session(&b);
	cr_assert_eq(dparse(buf, len + 8), FC_DL_E_BAD_PACKET);
	cr_assert_eq(fc_dl_begin(&b, buf, sizeof(buf), &h), 0);
	len = fc_dl_finish(&b);
	cr_assert_eq(dparse(buf, len + 8), FC_DL_E_BAD_PACKET);
}

Test(downlink_malformed, skips_unknown_templates_and_reads_longer_known_ones)
{
	uint8_t buf[FC_WIRE_MAX_PAYLOAD] = { 0 };
	struct fc_dl_hdr h = hdr(0, 1, 1, 1);
	struct fc_dl_view v;
	struct fc_dl_iter it;
	struct fc_dl_msg m;
	struct fc_dl_end_of_round e;
	size_t off = sizeof(h);

	h.magic = FC_DL_MAGIC;
	h.version = 1;
	h.msg_count = 2;
	h.event_count = 2;
	memcpy(buf, &h, sizeof(h));
	/* an unknown event template of 16 bytes */
	buf[off] = 16;
	buf[off + 2] = 77;
	buf[off + 3] = 1;
	off += 16;
	/* END_OF_ROUND version 2, 24 bytes: 8 appended bytes */
	buf[off] = 24;
	buf[off + 2] = FC_DL_T_END_OF_ROUND;
	buf[off + 3] = 2;
	buf[off + 4] = 9; /* round 9 */
	buf[off + 16] = 0xAA;
	off += 24;
	parse_ok(buf, off, &v);
	fc_dl_iter_init(&it, &v);
	cr_assert(fc_dl_iter_next(&it, &m));
	cr_assert_eq(m.template_id, 77);
	cr_assert_eq(m.event_seq, 1);
	cr_assert(fc_dl_iter_next(&it, &m));
	cr_assert_eq(m.event_seq, 2);
	fc_dl_msg_get(&m, &e, sizeof(e));
	cr_assert_eq(e.round_id, 9);
}

Test(downlink_malformed, error_names_are_distinct)
{
	for (int a = 0; a < FC_DL_E__COUNT; a++)
		for (int b = a + 1; b < FC_DL_E__COUNT; b++)
			cr_assert_str_neq(fc_dl_err_name(a), fc_dl_err_name(b));
}

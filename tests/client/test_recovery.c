/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The subscriber's recovery procedure (docs/protocol.md section 7), with hand-built packets and
 * the test playing floord: in-order streams, packet_seq gaps that carry only positions, event
 * gaps recovered by retransmit, duplicates and reordering, late joins through the snapshot
 * loop, refusals, timeouts and retries, new sessions, the end of a session, malformed input.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "fc_client.h"
#include "srv.h"

#define MS 1000000ull

static void
setup_default(void)
{
	tc_setup(NULL);
}

static void
setup_joined(void)
{
	tc_setup(NULL);
	tc_join();
}

/* Loses a packet: built (the server moves on) and never fed. */
static void
lose(void)
{
	srv_end(&T.s);
}

/* Loses n COMMAND_ECHO events, 50 a packet. */
static void
lose_echoes(unsigned int n)
{
	while (n > 0) {
		srv_begin(&T.s, 0);
		for (unsigned int i = 0; i < 50 && n > 0; i++, n--)
			srv_echo(&T.s, n, 1);
		lose();
	}
}

static int32_t
score_of(uint16_t player)
{
	uint32_t cur = 0;
	struct fc_client_score sc;

	while (fc_client_next_score(T.c, &cur, &sc))
		if (sc.player == player)
			return sc.total;
	return -1;
}

static unsigned int
notes_of(enum fc_client_note_kind kind)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < T.n_note; i++)
		n += T.note[i].kind == kind;
	return n;
}

/* ---- in order --------------------------------------------------------------------------- */

TestSuite(in_order, .init = setup_joined, .fini = tc_teardown);

Test(in_order, applies_events_and_positions_as_they_come)
{
	struct fc_client_clue k;
	struct fc_client_position p;
	const struct fc_client_claim *cl;
	struct fc_client_info in;
	uint32_t cur = 0;
	struct fc_client_team tm;

	srv_begin(&T.s, 0);
	srv_clue(&T.s, 17, 1234, 567, FC_CLUE_OPEN, FC_PLAYER_NONE);
	srv_claim(&T.s, 17, 3, 1, 2, 1);
	srv_score(&T.s, 3, 1, 50, 120, 1);
	srv_pos(&T.s, 3, 1230, 560);
	srv_pos(&T.s, 9, 100, 200);
	cr_assert_eq(tc_feed(), 0);

	in = tc_info();
	cr_assert(in.synced);
	cr_assert_eq(in.next_event_seq, 4);
	cr_assert_eq(in.round.round_id, 1);
	cr_assert_eq(in.round.state, FC_CLIENT_ROUND_RUNNING);
	cr_assert_eq(in.players, 2);
	cr_assert_eq(in.clues, 1);
	cr_assert_eq(fc_client_clue(T.c, 17, &k), 0);
	cr_assert(k.located);
	cr_assert_eq(k.state, FC_CLIENT_CLUE_CLAIMED);
	cr_assert_eq(k.winner, 3);
	cr_assert_eq(k.x_cm, 1234);
	cr_assert_eq(k.radius_mm, 150);
	cl = fc_client_claim_at(T.c, 0);
	cr_assert_not_null(cl);
	cr_assert_null(fc_client_claim_at(T.c, 1));
	cr_assert_eq(cl->event_seq, 2);
	cr_assert_eq(cl->clue_id, 17);
	cr_assert_eq(cl->winner, 3);
	cr_assert_eq(cl->contenders_listed, 2);
	cr_assert_eq(cl->contenders_total, 3);
	cr_assert_eq(cl->contenders[0].player, 3);
	cr_assert_eq(cl->contenders[0].flags, FC_CLIENT_CONT_WINNER);
	cr_assert_eq(cl->contenders[1].distance_mm, 20);
	cr_assert_eq(score_of(3), 50);
	cr_assert(fc_client_next_team(T.c, &cur, &tm));
	cr_assert_eq(tm.team, 1);
	cr_assert_eq(tm.total, 120);
	cr_assert_not(fc_client_next_team(T.c, &cur, &tm));
	cr_assert_eq(fc_client_position(T.c, 3, &p), 0);
	cr_assert_eq(p.x_cm, 1230);
	cr_assert_eq(p.packet_seq, 1);
	cr_assert_eq(fc_client_position(T.c, 4, &p), -ENOENT);
	cr_assert_eq(tc_stats().events_applied, 3);
	cr_assert_eq(T.n_req, 0, "nothing was missing");
}

Test(in_order, notifies_each_event_in_order_after_the_snapshot)
{
	srv_begin(&T.s, 0);
	srv_round(&T.s, 1, FC_ROUND_PAUSED, 1000);
	srv_echo(&T.s, 7, 2);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(T.n_note, 3);
	cr_assert_eq(T.note[0].kind, FC_CLIENT_N_SNAPSHOT);
	cr_assert_eq(T.note[1].kind, FC_CLIENT_N_EVENT);
	cr_assert_eq(T.note[1].event_seq, 1);
	cr_assert_eq(T.note[1].template_id, FC_CLIENT_T_ROUND_STATE);
	cr_assert_eq(T.note[1].len, 24);
	cr_assert_eq(T.note[2].event_seq, 2);
	cr_assert_eq(T.note[2].template_id, FC_CLIENT_T_COMMAND_ECHO);
	cr_assert_eq(tc_stats().commands, 1);
	cr_assert_eq(tc_info().round.state, FC_CLIENT_ROUND_PAUSED);
	cr_assert_eq(tc_info().round.round_time_ms, 1000);
}

Test(in_order, heartbeats_keep_the_state_and_ask_nothing)
{
	for (int i = 0; i < 5; i++)
		cr_assert_eq(tc_feed_buf(T.s.buf, srv_heartbeat(&T.s, i % 2)), 0);
	cr_assert(tc_info().synced);
	cr_assert_eq(T.n_req, 0);
	cr_assert_eq(tc_stats().gaps, 0);
}

Test(in_order, a_new_round_starts_with_every_score_zero)
{
	srv_begin(&T.s, 0);
	srv_score(&T.s, 3, 1, 50, 50, 1);
	srv_end_of_round(&T.s, 1, FC_CLIENT_END_ALL_CLAIMED);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(tc_info().round.state, FC_CLIENT_ROUND_ENDED);
	cr_assert_eq(tc_info().round.end_reason, FC_CLIENT_END_ALL_CLAIMED);
	cr_assert_eq(score_of(3), 50);

	srv_begin(&T.s, 0);
	srv_round(&T.s, 2, FC_ROUND_RUNNING, 0);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(tc_info().round.round_id, 2);
	cr_assert_eq(tc_info().round.end_reason, FC_CLIENT_END_NONE);
	cr_assert_eq(score_of(3), -1, "no score in the new round");
}

Test(in_order, unknown_template_is_numbered_and_skipped)
{
	srv_begin(&T.s, 0);
	srv_unknown(&T.s);
	srv_score(&T.s, 5, 0, 10, 10, 1);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(tc_info().next_event_seq, 3);
	cr_assert_eq(tc_stats().events_unknown, 1);
	cr_assert_eq(score_of(5), 10);
	cr_assert_eq(T.note[1].template_id, 200, "the caller sees the unknown event");
	cr_assert_eq(T.note[1].len, 16);
}

/* ---- positions ---------------------------------------------------------------------------- */

TestSuite(positions, .init = setup_joined, .fini = tc_teardown);

Test(positions, packet_gap_with_only_positions_needs_no_recovery)
{
	for (uint16_t i = 0; i < 3; i++) {
		srv_begin(&T.s, 0);
		srv_pos(&T.s, 1, (uint16_t)(100 + i), 100);
		cr_assert_eq(tc_feed(), 0);
	}
	srv_begin(&T.s, 0);
	srv_pos(&T.s, 1, 900, 900);
	lose();
	srv_begin(&T.s, 0);
	srv_pos(&T.s, 2, 50, 50);
	cr_assert_eq(tc_feed(), 0);

	cr_assert_eq(tc_stats().pkt_gaps[0], 1);
	cr_assert_eq(tc_stats().pkt_skipped[0], 1);
	cr_assert_eq(T.n_req, 0, "no event was lost: nothing to ask");
	cr_assert(tc_info().synced);
	cr_assert_eq(tc_stats().recoveries[FC_CLIENT_R_LATE_JOIN], 1);
	cr_assert_eq(tc_stats().snapshots_applied, 1);
	cr_assert_eq(tc_info().players, 2);
}

Test(positions, a_late_packet_never_moves_a_player_back)
{
	struct fc_client_position p;
	size_t len;
	uint8_t older[FC_WIRE_MAX_PAYLOAD];

	srv_begin(&T.s, 0);
	srv_pos(&T.s, 1, 200, 200);
	len = srv_end(&T.s);
	memcpy(older, T.s.buf, len);
	srv_begin(&T.s, 0);
	srv_pos(&T.s, 1, 300, 300);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(tc_feed_buf(older, len), 0);

	cr_assert_eq(fc_client_position(T.c, 1, &p), 0);
	cr_assert_eq(p.x_cm, 300);
	cr_assert_eq(p.packet_seq, 2);
	cr_assert_eq(tc_stats().pkt_late[0], 1);
	cr_assert_eq(tc_stats().duplicates, 0);
}

Test(positions, snapshot_positions_carry_the_as_of_packet_stamp, .init = setup_default)
{
	struct fc_client_position p;

	/* unsynced: channel-0 positions apply at once */
	T.s.pkt[0] = 5;
	srv_begin(&T.s, 0);
	srv_pos(&T.s, 1, 500, 500);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_not(tc_info().synced);
	cr_assert_eq(fc_client_position(T.c, 1, &p), 0);

	srv_snap(&T.s, 1, 0, 1, 4, 0);
	srv_state_round(&T.s, 1, FC_ROUND_RUNNING);
	srv_pos(&T.s, 1, 400, 400);
	srv_pos(&T.s, 2, 222, 111);
	cr_assert_eq(tc_feed(), 0);

	cr_assert(tc_info().synced);
	cr_assert_eq(fc_client_position(T.c, 1, &p), 0);
	cr_assert_eq(p.x_cm, 500, "packet 5 is newer than the snapshot's packet 4");
	cr_assert_eq(p.packet_seq, 5);
	cr_assert_eq(fc_client_position(T.c, 2, &p), 0);
	cr_assert_eq(p.x_cm, 222);
	cr_assert_eq(p.packet_seq, 4);
}

Test(positions, a_player_beyond_max_players_is_counted_and_ignored, .init = NULL)
{
	struct fc_client_params p = { .max_players = 16 };
	struct fc_client_position pos;

	tc_setup(&p);
	tc_join();
	srv_begin(&T.s, 0);
	srv_pos(&T.s, 15, 1, 1);
	srv_pos(&T.s, 16, 2, 2);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(tc_stats().out_of_range, 1);
	cr_assert_eq(fc_client_position(T.c, 16, &pos), -ERANGE);
	cr_assert_eq(tc_info().players, 1);
}

/* ---- retransmit ---------------------------------------------------------------------------- */

TestSuite(retransmit, .init = setup_joined, .fini = tc_teardown);

Test(retransmit, an_event_gap_is_asked_for_and_filled_by_the_reply)
{
	uint8_t out[FC_WIRE_MAX_PAYLOAD];
	struct fc_rt_request r;

	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 10, 10, 1);
	cr_assert_eq(tc_feed(), 0);
	srv_begin(&T.s, 0);
	srv_score(&T.s, 2, 0, 20, 30, 1);
	lose();
	srv_begin(&T.s, 0);
	srv_score(&T.s, 3, 0, 30, 60, 1);
	cr_assert_eq(tc_feed(), 0);

	cr_assert_eq(T.n_req, 1);
	r = tc_last_request();
	cr_assert_eq(r.session_id, 0x5EED0001u);
	cr_assert_eq(r.first_event_seq, 2);
	cr_assert_eq(r.count, 1);
	cr_assert_eq(score_of(3), -1, "event 3 waits for event 2");
	cr_assert_eq(tc_stats().events_buffered, 1);
	cr_assert_eq(fc_client_next_deadline(T.c), T.now + 100 * MS);

	cr_assert_eq(tc_feed_buf(out, srv_reply(&T.s, 2, 1, out)), 0);
	cr_assert_eq(score_of(2), 20);
	cr_assert_eq(score_of(3), 30);
	cr_assert_eq(tc_info().next_event_seq, 4);
	cr_assert_eq(tc_stats().rt_asked, 1);
	cr_assert_eq(tc_stats().rt_answered, 1);
	cr_assert_eq(tc_stats().gaps, 1);
	T.now += 500 * MS;
	fc_client_poll(T.c, T.now);
	cr_assert_eq(T.n_req, 1, "nothing more to ask");
}

Test(retransmit, separate_runs_get_separate_requests)
{
	unsigned int answered = 0;

	for (int i = 0; i < 5; i++) {
		srv_begin(&T.s, 0);
		srv_score(&T.s, (uint16_t)i, 0, i, i, 1);
		if (i == 1 || i == 3)
			lose();
		else
			cr_assert_eq(tc_feed(), 0);
	}
	cr_assert_eq(T.n_req, 2);
	cr_assert_eq(T.req[0].first_event_seq, 2);
	cr_assert_eq(T.req[0].count, 1);
	cr_assert_eq(T.req[1].first_event_seq, 4);
	tc_answer_all(&answered);
	cr_assert_eq(tc_info().next_event_seq, 6);
	cr_assert_eq(tc_stats().rt_answered, 2);
}

Test(retransmit, a_heartbeat_reveals_a_lost_tail)
{
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 10, 10, 1);
	srv_score(&T.s, 2, 0, 10, 20, 1);
	lose();
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_heartbeat(&T.s, 0)), 0);
	cr_assert_eq(T.n_req, 1);
	cr_assert_eq(tc_last_request().first_event_seq, 1);
	cr_assert_eq(tc_last_request().count, 2);
}

Test(retransmit, the_snapshot_channel_reveals_a_gap_too)
{
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 10, 10, 1);
	lose();
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_heartbeat(&T.s, 1)), 0);
	cr_assert_eq(T.n_req, 1);
	cr_assert_eq(tc_last_request().first_event_seq, 1);
}

Test(retransmit, a_pending_request_is_not_repeated_before_its_deadline)
{
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 10, 10, 1);
	lose();
	for (int i = 0; i < 4; i++) {
		T.now += 20 * MS;
		srv_begin(&T.s, 0);
		srv_pos(&T.s, 1, 1, 1);
		cr_assert_eq(tc_feed(), 0);
	}
	cr_assert_eq(T.n_req, 1);
}

Test(retransmit, a_gap_of_256_is_asked_for_in_one_request)
{
	unsigned int answered = 0;

	lose_echoes(256);
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_heartbeat(&T.s, 0)), 0);
	cr_assert_eq(T.n_req, 1);
	cr_assert_eq(tc_last_request().count, 256);
	tc_answer_all(&answered); /* in several packets */
	cr_assert_eq(tc_info().next_event_seq, 257);
	cr_assert_eq(tc_stats().rt_answered, 1);
}

Test(retransmit, a_gap_above_256_goes_to_the_snapshot_loop)
{
	lose_echoes(257);
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_heartbeat(&T.s, 0)), 0);
	cr_assert_eq(T.n_req, 0, "257 events are not asked for");
	cr_assert_eq(tc_stats().recoveries[FC_CLIENT_R_GAP], 1);
	cr_assert_not(tc_info().synced);

	srv_snap(&T.s, 2, 0, 1, 0, 0);
	srv_state_round(&T.s, 1, FC_ROUND_RUNNING);
	srv_state_score(&T.s, 4, 2, 77, 77, 1);
	cr_assert_eq(tc_feed(), 0);
	cr_assert(tc_info().synced);
	cr_assert_eq(tc_info().next_event_seq, 258);
	cr_assert_eq(score_of(4), 77);
}

Test(retransmit, a_reply_repeating_applied_events_changes_nothing)
{
	uint8_t out[FC_WIRE_MAX_PAYLOAD];

	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 10, 10, 1);
	srv_score(&T.s, 1, 0, 20, 20, 1);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(tc_feed_buf(out, srv_reply(&T.s, 1, 2, out)), 0);
	cr_assert_eq(tc_stats().events_duplicate, 2);
	cr_assert_eq(tc_stats().events_applied, 2);
	cr_assert_eq(score_of(1), 20);
}

Test(retransmit, a_failing_send_is_counted_and_retried)
{
	T.send_rc = -EHOSTUNREACH;
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 10, 10, 1);
	lose();
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_heartbeat(&T.s, 0)), 0);
	cr_assert_eq(tc_stats().rt_send_errors, 1);
	T.now += 100 * MS;
	fc_client_poll(T.c, T.now);
	cr_assert_eq(T.n_req, 2);
	cr_assert_eq(tc_stats().rt_send_errors, 2);
}

/* ---- duplicates and reordering -------------------------------------------------------------- */

TestSuite(duplicates, .init = setup_joined, .fini = tc_teardown);

Test(duplicates, the_same_packet_twice_is_processed_once)
{
	size_t len;

	srv_begin(&T.s, 0);
	srv_claim(&T.s, 1, 3, 0, 1, 1);
	len = srv_end(&T.s);
	cr_assert_eq(tc_feed_buf(T.s.buf, len), 0);
	cr_assert_eq(tc_feed_buf(T.s.buf, len), 0);
	cr_assert_eq(tc_stats().duplicates, 1);
	cr_assert_eq(tc_stats().events_applied, 1);
	cr_assert_eq(tc_info().claims, 1);
}

Test(duplicates, the_feed_b_copy_is_a_duplicate)
{
	size_t len;
	uint8_t b[FC_WIRE_MAX_PAYLOAD];
	struct fc_client_position p;

	srv_begin(&T.s, 0);
	srv_pos(&T.s, 1, 10, 10);
	len = srv_end(&T.s);
	memcpy(b, T.s.buf, len);
	b[3] |= FC_DL_F_FEED_B;
	cr_assert_eq(tc_feed_buf(b, len), 0);
	cr_assert_eq(tc_feed_buf(T.s.buf, len), 0);
	cr_assert_eq(tc_stats().duplicates, 1);
	cr_assert_eq(fc_client_position(T.c, 1, &p), 0);
}

Test(duplicates, reordered_events_wait_and_apply_in_order)
{
	size_t len;
	uint8_t early[FC_WIRE_MAX_PAYLOAD];

	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 1, 1, 1);
	srv_score(&T.s, 1, 0, 2, 2, 1);
	len = srv_end(&T.s);
	memcpy(early, T.s.buf, len);
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 3, 3, 1);
	srv_score(&T.s, 1, 0, 4, 4, 1);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(score_of(1), -1);
	cr_assert_eq(tc_feed_buf(early, len), 0);

	cr_assert_eq(score_of(1), 4);
	cr_assert_eq(tc_info().next_event_seq, 5);
	for (unsigned int i = 1; i < 5; i++)
		cr_assert_eq(T.note[i].event_seq, i, "event %u applied in order", i);
	cr_assert_eq(tc_stats().pkt_late[0], 1);
	cr_assert_eq(tc_stats().rt_answered, T.n_req, "a request, if any, completed");
}

Test(duplicates, a_packet_more_than_1024_below_the_highest_is_ignored)
{
	T.s.pkt[0] = 2000;
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_heartbeat(&T.s, 0)), 0);
	T.s.pkt[0] = 976;
	srv_begin(&T.s, 0);
	srv_pos(&T.s, 1, 1, 1);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(tc_stats().duplicates, 1);
	cr_assert_eq(tc_info().players, 0);
	T.s.pkt[0] = 977; /* exactly 1023 below: still in the window */
	srv_begin(&T.s, 0);
	srv_pos(&T.s, 1, 1, 1);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(tc_info().players, 1);
}

Test(duplicates, an_event_held_twice_is_a_duplicate)
{
	uint8_t out[FC_WIRE_MAX_PAYLOAD];

	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 1, 1, 1);
	lose();
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 2, 2, 1);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(tc_feed_buf(out, srv_reply(&T.s, 2, 1, out)), 0);
	cr_assert_eq(tc_stats().events_duplicate, 1);
	cr_assert_eq(tc_stats().events_buffered, 1);
}

/* ---- late join -------------------------------------------------------------------------- */

TestSuite(late_join, .init = setup_default, .fini = tc_teardown);

Test(late_join, buffers_events_then_applies_those_from_as_of_event_seq)
{
	/* events 1 .. 10 went out before the client started */
	for (int i = 0; i < 10; i++) {
		srv_begin(&T.s, 0);
		srv_score(&T.s, 1, 0, i + 1, i + 1, 1);
		lose();
	}
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 11, 11, 1); /* 11: older than the snapshot below */
	srv_score(&T.s, 1, 0, 12, 12, 1); /* 12: newer */
	cr_assert_eq(tc_feed(), 0);
	srv_begin(&T.s, 0);
	srv_score(&T.s, 2, 0, 13, 25, 1); /* 13 */
	cr_assert_eq(tc_feed(), 0);
	cr_assert_not(tc_info().synced);
	cr_assert_eq(tc_stats().events_buffered, 3);

	/* snapshot as of event 12 (reflects 1 .. 11), in two parts, part 1 first */
	srv_snap(&T.s, 4, 1, 2, 0, 12);
	srv_state_score(&T.s, 1, 0, 11, 11, 1);
	srv_state_clue(&T.s, 9, 100, 100, FC_CLUE_OPEN, FC_PLAYER_NONE);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_not(tc_info().synced, "one part of two");
	srv_snap(&T.s, 4, 0, 2, 0, 12);
	srv_state_round(&T.s, 1, FC_ROUND_RUNNING);
	cr_assert_eq(tc_feed(), 0);

	cr_assert(tc_info().synced);
	cr_assert_eq(tc_info().next_event_seq, 14);
	cr_assert_eq(score_of(1), 12, "event 12 applied over the snapshot's 11");
	cr_assert_eq(score_of(2), 13);
	cr_assert_eq(tc_info().clues, 1);
	cr_assert_eq(tc_stats().events_applied, 2, "11 was in the snapshot already");
	cr_assert_eq(tc_stats().recoveries[FC_CLIENT_R_LATE_JOIN], 1);
	cr_assert_eq(tc_stats().snapshots_applied, 1);
	cr_assert_eq(tc_stats().snapshot_parts, 2);
	cr_assert_eq(T.n_req, 0);
	cr_assert_eq(T.note[0].kind, FC_CLIENT_N_SNAPSHOT);
	cr_assert_eq(T.note[0].event_seq, 12);
	cr_assert_eq(T.note[1].event_seq, 12);
	cr_assert_eq(T.note[2].event_seq, 13);
}

Test(late_join, parts_of_different_snapshots_are_never_combined)
{
	srv_snap(&T.s, 5, 0, 2, 0, 0);
	srv_state_round(&T.s, 1, FC_ROUND_RUNNING);
	srv_state_score(&T.s, 1, 0, 5, 5, 1);
	cr_assert_eq(tc_feed(), 0);
	srv_snap(&T.s, 6, 1, 2, 0, 0);
	srv_state_score(&T.s, 2, 0, 6, 6, 1);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_not(tc_info().synced, "part 0 of 5 and part 1 of 6 are not a snapshot");
	cr_assert_eq(tc_stats().snapshots_replaced, 1);
	srv_snap(&T.s, 6, 0, 2, 0, 0);
	srv_state_round(&T.s, 1, FC_ROUND_RUNNING);
	cr_assert_eq(tc_feed(), 0);
	cr_assert(tc_info().synced);
	cr_assert_eq(score_of(1), -1, "snapshot 5's score is gone");
	cr_assert_eq(score_of(2), 6);
}

Test(late_join, a_part_seen_twice_counts_once)
{
	size_t len;

	srv_snap(&T.s, 1, 0, 2, 0, 0);
	srv_state_round(&T.s, 1, FC_ROUND_RUNNING);
	len = srv_end(&T.s);
	cr_assert_eq(tc_feed_buf(T.s.buf, len), 0);
	/* the same part again, in a new packet */
	T.s.buf[8]++;
	cr_assert_eq(tc_feed_buf(T.s.buf, len), 0);
	cr_assert_eq(tc_stats().snapshot_parts, 1);
	cr_assert_not(tc_info().synced);
}

Test(late_join, the_snapshot_replaces_round_clues_and_scores)
{
	uint32_t cur = 0;
	struct fc_client_clue k;

	tc_join();
	srv_begin(&T.s, 0);
	srv_clue(&T.s, 1, 10, 10, FC_CLUE_OPEN, FC_PLAYER_NONE);
	srv_score(&T.s, 1, 0, 10, 10, 1);
	cr_assert_eq(tc_feed(), 0);
	lose_echoes(300); /* back to the snapshot loop */
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_heartbeat(&T.s, 0)), 0);
	srv_snap(&T.s, 9, 0, 1, 0, 0);
	srv_state_round(&T.s, 2, FC_ROUND_PAUSED);
	srv_state_clue(&T.s, 2, 20, 20, FC_CLUE_CLAIMED, 4);
	cr_assert_eq(tc_feed(), 0);

	cr_assert(tc_info().synced);
	cr_assert_eq(tc_info().round.round_id, 2);
	cr_assert_eq(score_of(1), -1, "a player without a SCORE has 0 points");
	cr_assert(fc_client_next_clue(T.c, &cur, &k));
	cr_assert_eq(k.clue_id, 2, "clue 1 is not in the layout any more");
	cr_assert_not(fc_client_next_clue(T.c, &cur, &k));
}

Test(late_join, the_snapshot_loop_is_ignored_once_synced)
{
	tc_join();
	srv_snap(&T.s, 2, 0, 1, 0, 0);
	srv_state_round(&T.s, 7, FC_ROUND_ENDED);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(tc_info().round.round_id, 1);
	cr_assert_eq(tc_stats().snapshots_applied, 1);
}

Test(late_join, events_between_as_of_and_the_buffer_are_asked_for)
{
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 1, 1, 1); /* 1 */
	lose();
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 2, 2, 1); /* 2 */
	cr_assert_eq(tc_feed(), 0);
	srv_snap(&T.s, 1, 0, 1, 0, 1); /* as of event 1: 1 is missing */
	srv_state_round(&T.s, 1, FC_ROUND_RUNNING);
	cr_assert_eq(tc_feed(), 0);
	cr_assert(tc_info().synced);
	cr_assert_eq(T.n_req, 1);
	cr_assert_eq(tc_last_request().first_event_seq, 1);
	cr_assert_eq(tc_last_request().count, 1);
}

/* ---- refusals -------------------------------------------------------------------------- */

TestSuite(refusal, .init = setup_joined, .fini = tc_teardown);

/* Loses event 1 and returns the request the client sent for it. */
static struct fc_rt_request
gap_of_one(void)
{
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 1, 1, 1);
	lose();
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_heartbeat(&T.s, 0)), 0);
	return tc_last_request();
}

static void
refuse(const struct fc_rt_request *r, uint16_t reason)
{
	uint8_t out[FC_WIRE_MAX_PAYLOAD];

	cr_assert_eq(tc_feed_buf(out, srv_refuse(&T.s, r->first_event_seq, r->count, reason, out)),
		     0);
}

Test(refusal, too_old_recovers_from_the_snapshot_loop)
{
	struct fc_rt_request r = gap_of_one();

	refuse(&r, FC_RT_REFUSED_TOO_OLD);
	cr_assert_eq(tc_stats().rt_refused[FC_RT_REFUSED_TOO_OLD], 1);
	cr_assert_eq(tc_stats().recoveries[FC_CLIENT_R_REFUSED], 1);
	cr_assert_not(tc_info().synced);
	T.now += 1000 * MS;
	fc_client_poll(T.c, T.now);
	cr_assert_eq(T.n_req, 1, "requests were cancelled");

	srv_snap(&T.s, 2, 0, 1, 0, 0);
	srv_state_round(&T.s, 1, FC_ROUND_RUNNING);
	srv_state_score(&T.s, 1, 0, 1, 1, 1);
	cr_assert_eq(tc_feed(), 0);
	cr_assert(tc_info().synced);
	cr_assert_eq(score_of(1), 1);
	cr_assert_eq(tc_info().next_event_seq, 2);
}

Test(refusal, events_applied_again_over_an_older_snapshot_are_told_once)
{
	struct fc_rt_request r;
	unsigned int answered = 0, told = 0;

	/* claim 1 applied (event 1), then event 2 lost and refused: back to the snapshot loop */
	srv_begin(&T.s, 0);
	srv_claim(&T.s, 17, 3, 1, 2, 1);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_not_null(fc_client_claim_at(T.c, 0));
	r = gap_of_one();
	refuse(&r, FC_RT_REFUSED_TOO_OLD);
	cr_assert_not(tc_info().synced);
	/* the next snapshot is older than what was applied: as of event 1, before the claim */
	srv_snap(&T.s, 2, 0, 1, 0, 1);
	srv_state_round(&T.s, 1, FC_ROUND_RUNNING);
	cr_assert_eq(tc_feed(), 0);
	cr_assert(tc_info().synced);
	cr_assert_eq(tc_info().next_event_seq, 1);
	tc_answer_all(&answered); /* events 1 and 2, by retransmit */
	cr_assert_eq(tc_info().next_event_seq, 3);
	cr_assert_not_null(fc_client_claim_at(T.c, 0));
	cr_assert_null(fc_client_claim_at(T.c, 1), "the claim is in the history once");
	for (unsigned int i = 0; i < T.n_note; i++)
		told += T.note[i].kind == FC_CLIENT_N_EVENT && T.note[i].event_seq == 1;
	cr_assert_eq(told, 1, "event 1 is notified once");
	cr_assert_eq(score_of(1), 1, "event 2 (a score) is applied and notified");
	cr_assert_eq(T.note[T.n_note - 1].event_seq, 2);
}

Test(refusal, too_many_and_not_yet_recover_from_the_snapshot_loop_too)
{
	struct fc_rt_request r = gap_of_one();

	refuse(&r, FC_RT_REFUSED_NOT_YET);
	cr_assert_eq(tc_stats().recoveries[FC_CLIENT_R_REFUSED], 1);
	cr_assert_not(tc_info().synced);
	tc_join();
	r = gap_of_one();
	refuse(&r, FC_RT_REFUSED_TOO_MANY);
	cr_assert_eq(tc_stats().recoveries[FC_CLIENT_R_REFUSED], 2);
	cr_assert_eq(tc_stats().rt_refused[FC_RT_REFUSED_TOO_MANY], 1);
}

Test(refusal, rate_is_retried_at_the_deadline)
{
	struct fc_rt_request r = gap_of_one();

	refuse(&r, FC_RT_REFUSED_RATE);
	cr_assert(tc_info().synced);
	cr_assert_eq(T.n_req, 1);
	T.now += 100 * MS;
	fc_client_poll(T.c, T.now);
	cr_assert_eq(T.n_req, 2);
	cr_assert_eq(tc_stats().rt_retries, 1);
}

Test(refusal, session_stops_the_requests)
{
	struct fc_rt_request r = gap_of_one();

	refuse(&r, FC_RT_REFUSED_SESSION);
	cr_assert_eq(tc_stats().recoveries[FC_CLIENT_R_NO_RETRANSMIT], 1);
	tc_join();
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 1, 1, 1);
	lose();
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_heartbeat(&T.s, 0)), 0);
	cr_assert_eq(T.n_req, 1, "no request after a SESSION refusal");
	cr_assert_eq(tc_stats().recoveries[FC_CLIENT_R_NO_RETRANSMIT], 2);
}

Test(refusal, an_unmatched_refusal_is_counted_and_ignored)
{
	struct fc_rt_request r = gap_of_one();

	r.first_event_seq += 5;
	refuse(&r, FC_RT_REFUSED_TOO_OLD);
	cr_assert_eq(tc_stats().rt_unmatched, 1);
	cr_assert(tc_info().synced);
}

Test(refusal, a_refusal_of_another_session_is_ignored)
{
	struct fc_rt_request r = gap_of_one();

	T.s.session++;
	refuse(&r, FC_RT_REFUSED_TOO_OLD);
	cr_assert_eq(tc_stats().other_session, 1);
	cr_assert_eq(tc_stats().rt_refused[FC_RT_REFUSED_TOO_OLD], 0);
	cr_assert(tc_info().synced);
	cr_assert_eq(tc_info().session_id, 0x5EED0001u);
}

/* ---- timeouts -------------------------------------------------------------------------- */

TestSuite(timeout, .init = setup_joined, .fini = tc_teardown);

Test(timeout, two_retries_at_100_ms_then_the_snapshot_loop)
{
	uint64_t t0;

	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 1, 1, 1);
	lose();
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_heartbeat(&T.s, 0)), 0);
	t0 = T.now;
	cr_assert_eq(T.n_req, 1);
	fc_client_poll(T.c, t0 + 99 * MS);
	cr_assert_eq(T.n_req, 1);
	fc_client_poll(T.c, t0 + 100 * MS);
	cr_assert_eq(T.n_req, 2);
	cr_assert_eq(fc_client_next_deadline(T.c), t0 + 200 * MS);
	fc_client_poll(T.c, t0 + 200 * MS);
	cr_assert_eq(T.n_req, 3);
	cr_assert_eq(T.req[2].first_event_seq, 1);
	cr_assert(tc_info().synced);
	fc_client_poll(T.c, t0 + 300 * MS);
	cr_assert_eq(T.n_req, 3, "3 attempts in all");
	cr_assert_not(tc_info().synced);
	cr_assert_eq(tc_stats().rt_timeouts, 1);
	cr_assert_eq(tc_stats().rt_retries, 2);
	cr_assert_eq(tc_stats().rt_asked, 3);
	cr_assert_eq(tc_stats().recoveries[FC_CLIENT_R_RETRIES], 1);
}

Test(timeout, a_partial_reply_is_asked_again_for_the_rest_only)
{
	uint8_t out[FC_WIRE_MAX_PAYLOAD];

	srv_begin(&T.s, 0);
	for (int i = 0; i < 4; i++)
		srv_score(&T.s, 1, 0, i, i, 1);
	lose();
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_heartbeat(&T.s, 0)), 0);
	cr_assert_eq(tc_last_request().count, 4);
	cr_assert_eq(tc_feed_buf(out, srv_reply(&T.s, 1, 2, out)), 0);
	cr_assert_eq(tc_info().next_event_seq, 3);
	T.now += 100 * MS;
	fc_client_poll(T.c, T.now);
	cr_assert_eq(T.n_req, 2);
	cr_assert_eq(tc_last_request().first_event_seq, 3);
	cr_assert_eq(tc_last_request().count, 2);
}

Test(timeout, the_next_deadline_is_the_earliest_request)
{
	uint64_t t0 = T.now;

	cr_assert_eq(fc_client_next_deadline(T.c), UINT64_MAX);
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 1, 1, 1);
	lose();
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_heartbeat(&T.s, 0)), 0);
	T.now += 30 * MS;
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 2, 2, 1);
	lose();
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_heartbeat(&T.s, 0)), 0);
	cr_assert_eq(T.n_req, 2);
	cr_assert_eq(fc_client_next_deadline(T.c), t0 + 100 * MS);
}

Test(timeout, without_a_retransmit_service_a_gap_goes_to_the_snapshot_loop, .init = NULL)
{
	tc_setup_no_rt();
	tc_join();
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 1, 1, 1);
	lose();
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_heartbeat(&T.s, 0)), 0);
	cr_assert_not(tc_info().synced);
	cr_assert_eq(tc_stats().recoveries[FC_CLIENT_R_NO_RETRANSMIT], 1);
	cr_assert_eq(tc_stats().rt_asked, 0);
}

Test(timeout, a_silent_feed_is_reported_down_and_keeps_its_state)
{
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 1, 1, 1);
	cr_assert_eq(tc_feed(), 0);
	cr_assert(tc_info().feed_up);
	fc_client_poll(T.c, T.now + 999 * MS);
	cr_assert(tc_info().feed_up);
	fc_client_poll(T.c, T.now + 1000 * MS);
	cr_assert_not(tc_info().feed_up);
	cr_assert_eq(tc_stats().feed_down, 1);
	cr_assert_eq(score_of(1), 1);
}

/* ---- sessions ------------------------------------------------------------------------------ */

TestSuite(session, .init = setup_joined, .fini = tc_teardown);

Test(session, a_new_session_discards_everything_and_starts_over)
{
	srv_begin(&T.s, 0);
	srv_claim(&T.s, 1, 3, 0, 1, 1);
	srv_score(&T.s, 3, 0, 50, 50, 1);
	srv_pos(&T.s, 3, 10, 10);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(tc_info().claims, 1);

	srv_fini(&T.s);
	srv_init(&T.s, 0x5EED0002u);
	srv_begin(&T.s, 0);
	srv_pos(&T.s, 4, 20, 20);
	cr_assert_eq(tc_feed(), 0);

	cr_assert_eq(tc_info().session_id, 0x5EED0002u);
	cr_assert_not(tc_info().synced);
	cr_assert_eq(tc_info().claims, 0);
	cr_assert_eq(tc_info().clues, 0);
	cr_assert_eq(tc_info().players, 1, "only the new session's player");
	cr_assert_eq(score_of(3), -1);
	cr_assert_eq(tc_stats().sessions, 2);
	cr_assert_eq(tc_stats().recoveries[FC_CLIENT_R_LATE_JOIN], 2);
	cr_assert_eq(notes_of(FC_CLIENT_N_SESSION), 1);
	tc_join();
	cr_assert_eq(tc_info().next_event_seq, 1);
}

Test(session, packets_of_the_replaced_session_are_ignored)
{
	struct srv old;
	size_t len;

	srv_init(&old, 0x5EED0001u);
	old.pkt[0] = 50;
	srv_fini(&T.s);
	srv_init(&T.s, 0x5EED0002u);
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_heartbeat(&T.s, 0)), 0);
	len = srv_heartbeat(&old, 0);
	cr_assert_eq(tc_feed_buf(old.buf, len), 0);
	cr_assert_eq(tc_info().session_id, 0x5EED0002u);
	cr_assert_eq(tc_stats().other_session, 1);
	cr_assert_eq(tc_stats().sessions, 2);
	srv_fini(&old);
}

Test(session, a_reply_never_starts_a_session, .init = setup_default)
{
	uint8_t out[FC_WIRE_MAX_PAYLOAD];

	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 1, 1, 1);
	lose();
	cr_assert_eq(tc_feed_buf(out, srv_reply(&T.s, 1, 1, out)), 0);
	cr_assert_not(tc_info().has_session);
	cr_assert_eq(tc_stats().other_session, 1);
}

/* ---- end of session ------------------------------------------------------------------------ */

TestSuite(end_of_session, .init = setup_joined, .fini = tc_teardown);

Test(end_of_session, with_nothing_missing_the_state_is_final_and_complete)
{
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 5, 5, 1);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_end_of_session(&T.s, 0)), 0);
	cr_assert(tc_info().ended);
	cr_assert(tc_info().complete);
	cr_assert_eq(notes_of(FC_CLIENT_N_END), 1);
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_end_of_session(&T.s, 1)), 0);
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 6, 6, 1);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(score_of(1), 5, "nothing changes after the end");
	cr_assert_eq(tc_stats().after_end, 2);
}

Test(end_of_session, missing_events_are_recovered_before_the_end)
{
	unsigned int answered = 0;

	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 5, 5, 1);
	lose();
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_end_of_session(&T.s, 0)), 0);
	cr_assert_not(tc_info().ended);
	cr_assert_eq(T.n_req, 1, "the end of session announced event 1");
	tc_answer_all(&answered);
	cr_assert(tc_info().ended);
	cr_assert(tc_info().complete);
	cr_assert_eq(score_of(1), 5);
}

Test(end_of_session, an_end_that_cannot_be_recovered_is_incomplete)
{
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 5, 5, 1);
	lose();
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_end_of_session(&T.s, 0)), 0);
	for (uint64_t t = 100; t <= 300; t += 100) /* every retry unanswered */
		fc_client_poll(T.c, T.now + t * MS);
	cr_assert_not(tc_info().synced);
	cr_assert_not(tc_info().ended, "the last snapshot parts may still come");
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_end_of_session(&T.s, 1)), 0);
	cr_assert(tc_info().ended);
	cr_assert_not(tc_info().complete);
}

Test(end_of_session, a_late_joiner_finishes_with_the_last_snapshot, .init = setup_default)
{
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 5, 5, 1);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_end_of_session(&T.s, 0)), 0);
	cr_assert_not(tc_info().ended);
	srv_snap(&T.s, 3, 0, 1, 0, 1);
	srv_state_round(&T.s, 1, FC_ROUND_RUNNING);
	cr_assert_eq(tc_feed(), 0);
	cr_assert(tc_info().ended);
	cr_assert(tc_info().complete);
	cr_assert_eq(score_of(1), 5);
}

Test(end_of_session, an_unsynced_end_gives_up_after_a_second, .init = setup_default)
{
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_end_of_session(&T.s, 0)), 0);
	cr_assert_eq(fc_client_next_deadline(T.c), T.now + 1000 * MS);
	fc_client_poll(T.c, T.now + 999 * MS);
	cr_assert_not(tc_info().ended);
	fc_client_poll(T.c, T.now + 1000 * MS);
	cr_assert(tc_info().ended);
	cr_assert_not(tc_info().complete);
}

/*
 * A late joiner whose snapshot completes in the end's last second asks for what it still lacks.
 * The wait for the end (1 s) then passes while it is synced, when only the request's deadline
 * matters: the next deadline is the request's, not the passed end wait, which a caller sleeping
 * until fc_client_next_deadline() would busy-poll (found by tests/fuzz/fuzz_client).
 */
Test(end_of_session, a_recovery_in_the_last_second_leaves_no_deadline_in_the_past,
     .init = setup_default)
{
	unsigned int answered = 0;
	uint64_t t0;

	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 5, 5, 1);
	lose();
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_end_of_session(&T.s, 0)), 0);
	t0 = T.now;
	T.now = t0 + 950 * MS;
	srv_snap(&T.s, 3, 0, 1, 0, 1); /* as of event 1: event 1 is missing */
	srv_state_round(&T.s, 1, FC_ROUND_RUNNING);
	cr_assert_eq(tc_feed(), 0);
	cr_assert(tc_info().synced);
	cr_assert_eq(T.n_req, 1);
	fc_client_poll(T.c, t0 + 1000 * MS);
	cr_assert_not(tc_info().ended, "the request may still be answered");
	cr_assert_eq(fc_client_next_deadline(T.c), t0 + 1050 * MS, "the request's deadline");
	T.now = t0 + 1010 * MS;
	tc_answer_all(&answered);
	cr_assert(tc_info().ended);
	cr_assert(tc_info().complete);
	cr_assert_eq(score_of(1), 5);
}

Test(end_of_session, a_new_session_after_the_end_starts_over)
{
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_end_of_session(&T.s, 0)), 0);
	cr_assert(tc_info().ended);
	srv_fini(&T.s);
	srv_init(&T.s, 7);
	tc_join();
	cr_assert_eq(tc_info().session_id, 7);
	cr_assert_not(tc_info().ended);
	cr_assert_eq(tc_stats().sessions, 2);
}

/* ---- malformed ----------------------------------------------------------------------------- */

TestSuite(malformed, .init = setup_default, .fini = tc_teardown);

Test(malformed, a_clue_0_is_refused_and_an_open_clue_has_no_winner, .init = setup_joined)
{
	struct fc_client_clue k;

	srv_begin(&T.s, 0);
	srv_clue(&T.s, 0, 10, 10, FC_CLIENT_CLUE_OPEN, FC_CLIENT_PLAYER_NONE);
	srv_clue(&T.s, 5, 10, 10, FC_CLIENT_CLUE_OPEN, 7);
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(fc_client_clue(T.c, 0, &k), -ENOENT, "clue ids start at 1");
	cr_assert_eq(tc_stats().out_of_range, 1);
	cr_assert_eq(fc_client_clue(T.c, 5, &k), 0);
	cr_assert_eq(k.winner, FC_CLIENT_PLAYER_NONE, "no winner unless CLAIMED");
	cr_assert_eq(tc_info().next_event_seq, 3, "both events are numbered and passed");
}

Test(malformed, every_drop_reason_is_counted_and_changes_nothing)
{
	uint8_t b[FC_WIRE_MAX_PAYLOAD + 8];
	size_t len;
	struct fc_client_stats st;

	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 5, 5, 1);
	len = srv_end(&T.s);

	memcpy(b, T.s.buf, len);
	cr_assert_eq(tc_feed_buf(b, 39), -EBADMSG); /* runt */
	memset(b + len, 0, sizeof(b) - len);
	cr_assert_eq(tc_feed_buf(b, FC_WIRE_MAX_PAYLOAD + 1), -EBADMSG); /* bad_length */
	b[0] = 'X';
	cr_assert_eq(tc_feed_buf(b, len), -EBADMSG); /* bad_magic */
	memcpy(b, T.s.buf, len);
	b[2] = 2;
	cr_assert_eq(tc_feed_buf(b, len), -EBADMSG); /* bad_version */
	memcpy(b, T.s.buf, len);
	b[39] = 2;
	cr_assert_eq(tc_feed_buf(b, len), -EBADMSG); /* unknown_channel */
	memcpy(b, T.s.buf, len);
	b[38] = 2;
	cr_assert_eq(tc_feed_buf(b, len), -EBADMSG); /* bad_packet: 2 events of 1 message */
	memcpy(b, T.s.buf, len);
	b[40] = 12;
	cr_assert_eq(tc_feed_buf(b, len), -EBADMSG); /* bad_message: length not a multiple of 8 */

	st = tc_stats();
	for (unsigned int r = FC_CLIENT_M_RUNT; r <= FC_CLIENT_M_BAD_MESSAGE; r++)
		cr_assert_eq(st.malformed[r], 1, "%s", fc_client_malformed_name(r));
	cr_assert_eq(st.datagrams, 7);
	cr_assert_not(tc_info().has_session, "no malformed packet starts a session");
	cr_assert_eq(tc_feed_buf(T.s.buf, len), 0, "the packet itself is fine");
	cr_assert(tc_info().has_session);
}

Test(malformed, a_dropped_packet_is_as_if_lost)
{
	uint8_t b[FC_WIRE_MAX_PAYLOAD], good[FC_WIRE_MAX_PAYLOAD];
	size_t len;

	tc_join();
	srv_begin(&T.s, 0);
	srv_score(&T.s, 1, 0, 5, 5, 1);
	len = srv_end(&T.s);
	memcpy(good, T.s.buf, len);
	memcpy(b, T.s.buf, len);
	b[40] = 0; /* message length 0 */
	cr_assert_eq(tc_feed_buf(b, len), -EBADMSG);
	cr_assert_eq(tc_feed_buf(T.s.buf, srv_heartbeat(&T.s, 0)), 0);
	cr_assert_eq(T.n_req, 1, "its event is asked for");
	cr_assert_eq(tc_feed_buf(good, len), 0, "and the real packet still counts");
	cr_assert_eq(score_of(1), 5);
}

Test(malformed, a_snapshot_packet_without_its_part_is_counted)
{
	srv_begin(&T.s, 1);
	srv_state_round(&T.s, 1, FC_ROUND_RUNNING);
	cr_assert_eq(tc_feed(), 0);
	srv_snap(&T.s, 1, 3, 3, 0, 0); /* part 3 of 3 */
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(tc_stats().malformed[FC_CLIENT_M_BAD_SNAPSHOT], 2);
	cr_assert_not(tc_info().synced);
}

Test(malformed, parts_that_disagree_are_counted)
{
	srv_snap(&T.s, 1, 0, 2, 10, 0);
	cr_assert_eq(tc_feed(), 0);
	srv_snap(&T.s, 1, 1, 2, 11, 0); /* another as_of_packet_seq */
	cr_assert_eq(tc_feed(), 0);
	cr_assert_eq(tc_stats().malformed[FC_CLIENT_M_BAD_SNAPSHOT], 1);
	cr_assert_not(tc_info().synced);
}

Test(malformed, random_damage_never_breaks_the_client)
{
	uint8_t pkt[8][FC_WIRE_MAX_PAYLOAD], b[FC_WIRE_MAX_PAYLOAD];
	size_t len[8];
	uint64_t x = 0x9E3779B97F4A7C15ull; /* xorshift64: the same damage every run */
	struct fc_client_info in;
	struct fc_client_stats st;
	uint64_t malformed = 0;

	/* a small session's packets: a snapshot, events and positions, a reply, a refusal */
	srv_snap(&T.s, 1, 0, 1, 0, 0);
	srv_state_round(&T.s, 1, FC_ROUND_RUNNING);
	srv_state_clue(&T.s, 1, 5, 5, FC_CLUE_OPEN, FC_PLAYER_NONE);
	srv_pos(&T.s, 1, 1, 1);
	len[0] = srv_end(&T.s);
	memcpy(pkt[0], T.s.buf, len[0]);
	for (int i = 1; i < 6; i++) {
		srv_begin(&T.s, 0);
		srv_claim(&T.s, (uint32_t)i, (uint16_t)i, 0, 3, 1);
		srv_score(&T.s, (uint16_t)i, 0, i, i, 1);
		srv_pos(&T.s, (uint16_t)i, 3, 3);
		len[i] = srv_end(&T.s);
		memcpy(pkt[i], T.s.buf, len[i]);
	}
	len[6] = srv_reply(&T.s, 2, 4, pkt[6]);
	len[7] = srv_refuse(&T.s, 1, 2, FC_RT_REFUSED_TOO_OLD, pkt[7]);

	for (int round = 0; round < 20000; round++) {
		unsigned int k, flips;
		size_t n;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = (unsigned int)(x % 8);
		n = len[k];
		memcpy(b, pkt[k], n);
		flips = 1 + (unsigned int)(x >> 40) % 4;
		for (unsigned int f = 0; f < flips; f++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			b[(x >> 8) % n] ^= (uint8_t)(1u << (x % 8));
		}
		if ((x >> 60) == 0)
			n = (size_t)((x >> 20) % (n + 1)); /* truncated too, now and then */
		T.now += 1 * MS;
		fc_client_feed(T.c, b, n, T.now);
		fc_client_get_info(T.c, &in);
		if (in.synced)
			cr_assert_leq(in.next_event_seq, in.known_event_seq,
				      "never ahead of what was announced");
	}
	st = tc_stats();
	for (unsigned int r = 0; r < FC_CLIENT_M__COUNT; r++)
		malformed += st.malformed[r];
	cr_assert_eq(st.datagrams, 20000);
	cr_assert_gt(malformed, 1000, "damage was caught (%llu)", (unsigned long long)malformed);
	cr_assert_gt(st.packets, 500, "and damage that still parses went through (%llu)",
		     (unsigned long long)st.packets);
	cr_assert_gt(st.sessions, 10, "including damaged session ids");
}

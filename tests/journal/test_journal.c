/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The journal as producers, the TX side and floorctl use it: the bytes on disk against
 * docs/journal.md (golden bytes from an encoder written from the doc alone), round trips through
 * close and reopen, the SPSC rings (full, wrap, too large, bad input), durability (a ticket
 * is durable only once its record is in the file; close drains; group commit; a write error
 * stops everything), and the audit reader.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <zlib.h>

#include "journal_test.h"

/* ------------------------------------------------------------------------------------------ */
/* format: the bytes of docs/journal.md                                                        */
/* ------------------------------------------------------------------------------------------ */

TestSuite(format);

/*
 * The example's bytes from docs/journal.md section 6: the hex dump that follows the marker
 * line, produced by an encoder written in Python from the section 3 and 4 tables alone
 * (struct.pack, zlib.crc32). Lines are "OFFSET  BYTE BYTE ...", OFFSET in hex from the start
 * of the file; other lines in the block are ignored. Returns the bytes from offset 32 on.
 */
static size_t
doc_example(uint8_t *out, size_t cap)
{
	static const char marker[] = "<!-- journal-example:";
	char line[256];
	size_t n = 0;
	bool in_block = false, seen_marker = false;
	FILE *f = fopen(FC_JOURNAL_DOC, "r");

	cr_assert_not_null(f, "%s: %s", FC_JOURNAL_DOC, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long off;
		char *p = line, *end;

		if (!seen_marker) {
			seen_marker = strncmp(line, marker, sizeof(marker) - 1) == 0;
			continue;
		}
		if (strncmp(line, "```", 3) == 0) {
			if (in_block)
				break;
			in_block = true;
			continue;
		}
		off = strtoul(p, &end, 16);
		if (end == p || end - p < 4 || *end != ' ')
			continue;
		cr_assert_eq(off, 32 + n, "doc dump line at %lx, expected %zx", off, 32 + n);
		for (p = end;;) {
			unsigned long v;

			while (*p == ' ')
				p++;
			v = strtoul(p, &end, 16);
			if (end - p != 2)
				break;
			cr_assert_lt(n, cap);
			out[n++] = (uint8_t)v;
			p = end;
		}
	}
	fclose(f);
	cr_assert(seen_marker && in_block, "no example dump in %s", FC_JOURNAL_DOC);
	return n;
}

/* The example of docs/journal.md section 6, each record durable before the next is appended. */
static void
write_example(const char *path)
{
	const uint64_t t0 = JT_T0, meas = JT_T0 + 10123456789ull;
	struct fc_journal_opts o = { .producers = 2 };
	struct fc_journal_fix fx[2] = {
		{ .player = 12,
		  .flags = FC_CONT_F_WINNER,
		  .gateway_id = 7,
		  .meas_time_ns = meas,
		  .gw_time_ns = meas - 1500,
		  .x_mm = 5000,
		  .y_mm = -250,
		  .z_mm = 1100,
		  .distance_mm = 12,
		  .err_mm = 20,
		  .quality = 90,
		  .fix_flags = 2,
		  .fix_seq = 1001 },
		{ .player = 31,
		  .flags = 0,
		  .gateway_id = 8,
		  .meas_time_ns = meas + 3000000,
		  .gw_time_ns = meas + 3002500,
		  .x_mm = 5030,
		  .y_mm = -240,
		  .z_mm = 0,
		  .distance_mm = 18,
		  .err_mm = 0xFFFF,
		  .quality = 100,
		  .fix_flags = 6,
		  .fix_seq = 77 },
	};
	const struct fc_journal_rec recs[] = {
		{ .type = FC_JOURNAL_SESSION,
		  .session = { .session_id = 0x01020304, .started_ns = t0 } },
		{ .type = FC_JOURNAL_COMMAND,
		  .command = { .cmd_seq = 1, .command = 1, .arg = 7, .time_ns = t0 + 1000000000 } },
		{ .type = FC_JOURNAL_ROUND,
		  .round = { .round_id = 7,
			     .state = FC_ROUND_RUNNING,
			     .cmd_seq = 1,
			     .time_ns = t0 + 1000000000 } },
		{ .type = FC_JOURNAL_AWARD,
		  .award = { .round_id = 7,
			     .clue_id = 42,
			     .points = 100,
			     .winner = 12,
			     .winner_team = 3,
			     .meas_time_ns = meas,
			     .decided_ns = meas + 100000000,
			     .contenders_total = 2,
			     .n_fixes = 2,
			     .fixes = fx } },
		{ .type = FC_JOURNAL_SCORE,
		  .score = { .round_id = 7,
			     .clue_id = 42,
			     .player = 12,
			     .team = 3,
			     .delta = 100,
			     .total = 100,
			     .team_total = 250 } },
	};
	struct fc_journal *j = jt_open(path, &o, NULL);

	for (unsigned int i = 0; i < 5; i++) {
		unsigned int p = recs[i].type == FC_JOURNAL_AWARD ? 1 : 0;

		jt_wait_durable(j, p, jt_append(j, p, &recs[i]));
	}
	cr_assert_eq(fc_journal_close(j), 0);
}

Test(format, records_match_the_documented_bytes)
{
	static uint8_t doc[4096];
	size_t n = doc_example(doc, sizeof(doc)), len;
	struct jt_dir d;
	uint8_t *b;

	cr_assert_gt(n, 0);
	jt_dir_make(&d);
	write_example(d.path);
	b = jt_read_file(d.path, &len);
	cr_assert_eq(len, 32 + n, "file of %zu bytes, doc shows %zu after the header", len, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(b[32 + i], doc[i], "file offset %#zx: %02x, docs/journal.md says %02x",
			     32 + i, b[32 + i], doc[i]);
	free(b);
	jt_dir_remove(&d);
}

Test(format, header_is_magic_version_length_and_crc)
{
	struct jt_dir d;
	uint8_t *b;
	size_t len;
	uint32_t crc;

	jt_dir_make(&d);
	cr_assert_eq(fc_journal_close(jt_open(d.path, NULL, NULL)), 0);
	b = jt_read_file(d.path, &len);
	cr_assert_eq(len, 32, "a new journal is its header alone");
	cr_assert_eq(memcmp(b, "FCJOURNL", 8), 0);
	cr_assert_eq(b[8] | b[9] << 8, 1, "version 1");
	cr_assert_eq(b[10] | b[11] << 8, 32, "header length 32");
	for (int i = 12; i < 16; i++)
		cr_assert_eq(b[i], 0, "reserved byte %d", i);
	memcpy(&crc, b + 28, 4);
	cr_assert_eq(crc, (uint32_t)crc32(0, b, 28), "header crc = zlib crc32 of bytes 0..27");
	free(b);
	jt_dir_remove(&d);
}

Test(format, every_record_crc_is_zlib_crc32_of_the_rest)
{
	struct jt_offsets o;
	struct jt_dir d;
	uint8_t *b;
	size_t len;

	jt_dir_make(&d);
	write_example(d.path);
	jt_offsets(d.path, &o);
	cr_assert_eq(o.n, 5);
	b = jt_read_file(d.path, &len);
	for (unsigned int i = 0; i < o.n; i++) {
		uint32_t crc;

		memcpy(&crc, b + o.off[i], 4);
		cr_assert_eq(crc, (uint32_t)crc32(0, b + o.off[i] + 4, (uInt)(o.len[i] - 4)));
		cr_assert_eq(o.len[i] % 8, 0, "records are multiples of 8 bytes");
	}
	free(b);
	jt_dir_remove(&d);
}

/* ------------------------------------------------------------------------------------------ */
/* round_trip: what was appended is what is recovered and read back                            */
/* ------------------------------------------------------------------------------------------ */

static struct jt_dir rt;

static void
rt_setup(void)
{
	jt_dir_make(&rt);
}

static void
rt_teardown(void)
{
	jt_dir_remove(&rt);
}

TestSuite(round_trip, .init = rt_setup, .fini = rt_teardown);

Test(round_trip, recovers_round_awards_scores_commands_session)
{
	struct fc_journal_opts o = { .producers = 3 };
	struct fc_journal_fix fx[JT_MAX_FIX];
	struct fc_journal_recovered rec;
	struct fc_journal *j = jt_open(rt.path, &o, &rec);
	struct fc_journal_rec r;

	cr_assert_eq(rec.records, 0);
	cr_assert_eq(rec.next_seq, 1);
	cr_assert_eq(rec.next_cmd_seq, 1);
	cr_assert_eq(rec.round_id, 0);
	cr_assert_eq(rec.round_state, FC_ROUND_IDLE);
	fc_journal_recovered_free(&rec);

	r = (struct fc_journal_rec){ .type = FC_JOURNAL_SESSION, .session = { .session_id = 77 } };
	jt_append(j, 0, &r);
	r = jt_command(1, 1, 3);
	jt_append(j, 0, &r);
	r = jt_round(3, FC_ROUND_RUNNING, 1);
	jt_append(j, 0, &r);
	for (uint32_t c = 1; c <= 20; c++) {
		r = jt_award(3, c, (uint16_t)(1 + c % 9), fx);
		jt_append(j, 1, &r);
	}
	for (uint16_t p = 0; p < 10; p++) {
		r = jt_score(3, p, p % 3, 10 + p);
		jt_append(j, 2, &r);
		r = jt_score(3, p, p % 3, -3);
		jt_append(j, 2, &r);
	}
	r = jt_command(2, 2, 3);
	jt_append(j, 0, &r);
	r = jt_round(3, FC_ROUND_PAUSED, 2);
	jt_append(j, 0, &r);
	cr_assert_eq(fc_journal_close(j), 0);

	j = jt_open(rt.path, &o, &rec);
	cr_assert_eq(rec.records, 3 + 20 + 20 + 2);
	cr_assert_eq(rec.next_seq, rec.records + 1);
	cr_assert_eq(rec.next_cmd_seq, 3);
	cr_assert_eq(rec.last_session_id, 77);
	cr_assert_eq(rec.round_id, 3);
	cr_assert_eq(rec.round_state, FC_ROUND_PAUSED);
	cr_assert_eq(rec.round_time_ms, 3000);
	cr_assert_eq(rec.round_cmd_seq, 2);
	cr_assert_not(rec.round_inferred);
	cr_assert_eq(rec.torn_bytes, 0);
	cr_assert_eq(rec.n_awards, 20);
	for (uint32_t i = 0; i < 20; i++) {
		struct fc_journal_rec want = jt_award(3, i + 1, (uint16_t)(1 + (i + 1) % 9), fx);

		cr_assert_eq(rec.awards[i].clue_id, i + 1);
		cr_assert_eq(rec.awards[i].winner, want.award.winner);
		cr_assert_eq(rec.awards[i].winner_team, want.award.winner_team);
		cr_assert_eq(rec.awards[i].points, want.award.points);
		cr_assert_eq(rec.awards[i].meas_time_ns, want.award.meas_time_ns);
		cr_assert_eq(rec.awards[i].decided_ns, want.award.decided_ns);
		cr_assert_eq(rec.awards[i].contenders_total, want.award.contenders_total);
		cr_assert_eq(fc_journal_recovered_award(&rec, i + 1), &rec.awards[i]);
	}
	cr_assert_null(fc_journal_recovered_award(&rec, 21));
	cr_assert_null(fc_journal_recovered_award(&rec, 0));
	cr_assert_eq(rec.n_players, 10);
	for (uint16_t p = 0; p < 10; p++) {
		cr_assert_eq(rec.players[p].player, p);
		cr_assert_eq(rec.players[p].team, p % 3);
		cr_assert_eq(rec.players[p].total, 10 + p - 3);
	}
	cr_assert_eq(rec.n_teams, 3);
	/* team 0: players 0 3 6 9 -> 7+10+13+16; team 1: 1 4 7 -> 8+11+14; team 2: 9+12+15 */
	cr_assert_eq(rec.teams[0].total, 46);
	cr_assert_eq(rec.teams[1].total, 33);
	cr_assert_eq(rec.teams[2].total, 36);
	fc_journal_recovered_free(&rec);
	cr_assert_eq(fc_journal_close(j), 0);
}

Test(round_trip, a_command_with_its_text_comes_back_for_the_restart)
{
	struct fc_journal_opts o = { .producers = 1 };
	struct fc_journal_recovered rec;
	struct fc_journal *j = jt_open(rt.path, &o, NULL);
	static const char load[] = "load layout /etc/floorcast/round2.txt";
	static const char add[] = "roster add 0xa4c1 60 4 Late";
	struct fc_journal_rec r;

	r = jt_command(1, 5, 2); /* load layout, layout 2 */
	r.command.text = load;
	r.command.text_len = sizeof(load) - 1;
	jt_append(j, 0, &r);
	r = jt_command(2, 2, 1); /* a round pause: no text, not replayed */
	jt_append(j, 0, &r);
	r = jt_command(3, 1, 1); /* a round start: replayed, it takes the layout */
	jt_append(j, 0, &r);
	r = jt_command(4, 6, 60);
	r.command.text = add;
	r.command.text_len = sizeof(add) - 1;
	r.command.status = 22; /* refused: not replayed */
	jt_append(j, 0, &r);
	r.command.cmd_seq = 5;
	r.command.status = 0;
	jt_append(j, 0, &r);
	r = jt_command(6, 6, 61);
	r.command.text_len = FC_JOURNAL_TEXT_MAX + 1;
	r.command.text = add;
	cr_assert_eq(fc_journal_append(j, 0, &r, NULL), -EINVAL, "a text past the maximum");
	cr_assert_eq(fc_journal_close(j), 0);

	j = jt_open(rt.path, &o, &rec);
	cr_assert_eq(rec.next_cmd_seq, 6);
	cr_assert_eq(rec.n_replay, 3);
	cr_assert_eq(rec.replay[0].cmd_seq, 1);
	cr_assert_eq(rec.replay[0].command, 5);
	cr_assert_eq(rec.replay[0].arg, 2);
	cr_assert_str_eq(rec.replay[0].text, load);
	cr_assert_eq(rec.replay[1].command, 1);
	cr_assert_str_eq(rec.replay[1].text, "");
	cr_assert_eq(rec.replay[2].cmd_seq, 5);
	cr_assert_str_eq(rec.replay[2].text, add);
	fc_journal_recovered_free(&rec);
	cr_assert_eq(fc_journal_close(j), 0);
}

struct collect {
	struct fc_journal_entry e[64];
	struct fc_journal_fix fixes[64][JT_MAX_FIX];
	unsigned int n;
};

static int
collect_cb(const struct fc_journal_entry *e, void *arg)
{
	struct collect *c = arg;

	cr_assert_lt(c->n, 64);
	c->e[c->n] = *e;
	if (e->rec.type == FC_JOURNAL_AWARD) {
		memcpy(c->fixes[c->n], e->rec.award.fixes,
		       e->rec.award.n_fixes * sizeof(c->fixes[0][0]));
		c->e[c->n].rec.award.fixes = c->fixes[c->n];
	}
	c->n++;
	return 0;
}

Test(round_trip, scan_reads_back_every_field)
{
	static struct collect c;
	struct fc_journal_fix fx[JT_MAX_FIX];
	struct fc_journal *j = jt_open(rt.path, NULL, NULL);
	struct fc_journal_rec in[4];
	char err[256];

	in[0] = jt_award(9, 4, 17, fx);
	in[1] = jt_command(5, 6, 1234);
	in[2] = jt_round(9, FC_ROUND_ENDED, 5);
	in[2].round.end_reason = 2;
	in[3] = (struct fc_journal_rec){ .type = FC_JOURNAL_SCORE,
					 .score = { .round_id = 9,
						    .clue_id = 4,
						    .player = 65534,
						    .team = 65535,
						    .delta = -2000000000,
						    .total = INT32_MIN,
						    .team_total = INT32_MAX } };
	for (int i = 0; i < 4; i++)
		jt_append(j, 0, &in[i]);
	cr_assert_eq(fc_journal_close(j), 0);

	cr_assert_eq(fc_journal_scan(rt.path, collect_cb, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.n, 4);
	for (unsigned int i = 0; i < 4; i++) {
		cr_assert_eq(c.e[i].seq, i + 1);
		cr_assert_eq(c.e[i].producer, 0);
		cr_assert_eq(c.e[i].version, 1);
		cr_assert_eq(c.e[i].rec.type, in[i].type);
	}
	cr_assert_eq(c.e[0].rec.award.n_fixes, 17);
	cr_assert_eq(memcmp(c.e[0].rec.award.fixes, fx, 17 * sizeof(fx[0])), 0,
		     "every fix field comes back");
	c.e[0].rec.award.fixes = in[0].award.fixes;
	cr_assert_eq(memcmp(&c.e[0].rec.award, &in[0].award, sizeof(in[0].award)), 0);
	cr_assert_eq(memcmp(&c.e[1].rec.command, &in[1].command, sizeof(in[1].command)), 0);
	cr_assert_eq(memcmp(&c.e[2].rec.round, &in[2].round, sizeof(in[2].round)), 0);
	cr_assert_eq(memcmp(&c.e[3].rec.score, &in[3].score, sizeof(in[3].score)), 0);
}

static int
seq_cb(const struct fc_journal_entry *e, void *arg)
{
	uint64_t *next = arg;

	cr_assert_eq(e->seq, *next, "seq %lu, expected %lu", (unsigned long)e->seq,
		     (unsigned long)*next);
	(*next)++;
	return 0;
}

Test(round_trip, seq_continues_across_reopen)
{
	struct fc_journal_recovered rec;
	struct fc_journal_rec r;
	uint64_t next = 1;
	char err[256];

	for (int run = 0; run < 3; run++) {
		struct fc_journal *j = jt_open(rt.path, NULL, &rec);

		cr_assert_eq(rec.next_seq, (uint64_t)run * 5 + 1);
		cr_assert_eq(fc_journal_durable_seq(j), (uint64_t)run * 5,
			     "recovered records are durable");
		fc_journal_recovered_free(&rec);
		for (int i = 0; i < 5; i++) {
			r = jt_command((uint64_t)run * 5 + (uint64_t)i + 1, 1, 0);
			jt_append(j, 0, &r);
		}
		cr_assert_eq(fc_journal_close(j), 0);
	}
	cr_assert_eq(fc_journal_scan(rt.path, seq_cb, &next, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(next, 16);
}

Test(round_trip, new_round_starts_with_no_awards_and_zero_scores)
{
	struct fc_journal_fix fx[4];
	struct fc_journal_recovered rec;
	struct fc_journal *j = jt_open(rt.path, NULL, NULL);
	struct fc_journal_rec r;

	r = jt_round(1, FC_ROUND_RUNNING, 1);
	jt_append(j, 0, &r);
	r = jt_award(1, 5, 2, fx);
	jt_append(j, 0, &r);
	r = jt_score(1, 35, 0, 50);
	jt_append(j, 0, &r);
	r = jt_round(1, FC_ROUND_ENDED, 2);
	jt_append(j, 0, &r);
	r = jt_round(2, FC_ROUND_RUNNING, 3);
	jt_append(j, 0, &r);
	r = jt_score(2, 36, 1, 7);
	jt_append(j, 0, &r);
	cr_assert_eq(fc_journal_close(j), 0);

	j = jt_open(rt.path, NULL, &rec);
	cr_assert_eq(rec.round_id, 2);
	cr_assert_eq(rec.round_state, FC_ROUND_RUNNING);
	cr_assert_eq(rec.n_awards, 0, "clue 5 was awarded in round 1, not 2");
	cr_assert_eq(rec.n_players, 1);
	cr_assert_eq(rec.players[0].player, 36);
	cr_assert_eq(rec.players[0].total, 7);
	cr_assert_eq(rec.next_cmd_seq, 4);
	fc_journal_recovered_free(&rec);
	cr_assert_eq(fc_journal_close(j), 0);
}

Test(round_trip, award_without_its_round_record_implies_the_round_running)
{
	struct fc_journal_fix fx[4];
	struct fc_journal_recovered rec;
	struct fc_journal *j = jt_open(rt.path, NULL, NULL);
	struct fc_journal_rec r;

	/* the writer merged the owner's ring first; the ROUND record was lost in the crash */
	r = jt_round(4, FC_ROUND_ENDED, 1);
	jt_append(j, 0, &r);
	r = jt_award(5, 8, 3, fx);
	jt_append(j, 0, &r);
	cr_assert_eq(fc_journal_close(j), 0);

	j = jt_open(rt.path, NULL, &rec);
	cr_assert_eq(rec.round_id, 5);
	cr_assert_eq(rec.round_state, FC_ROUND_RUNNING);
	cr_assert(rec.round_inferred);
	cr_assert_eq(rec.n_awards, 1);
	cr_assert_not_null(fc_journal_recovered_award(&rec, 8));
	fc_journal_recovered_free(&rec);
	cr_assert_eq(fc_journal_close(j), 0);
}

Test(round_trip, records_of_an_older_round_do_not_count)
{
	struct fc_journal_opts o = { .producers = 2 };
	struct fc_journal_recovered rec;
	struct fc_journal *j = jt_open(rt.path, &o, NULL);
	struct fc_journal_rec r;

	r = jt_round(2, FC_ROUND_RUNNING, 1);
	jt_wait_durable(j, 0, jt_append(j, 0, &r));
	/* a late score of round 1 from another producer reaches the file after round 2 began */
	r = jt_score(1, 3, 0, 100);
	jt_append(j, 1, &r);
	r = jt_score(2, 3, 0, 1);
	jt_append(j, 1, &r);
	cr_assert_eq(fc_journal_close(j), 0);

	j = jt_open(rt.path, &o, &rec);
	cr_assert_eq(rec.round_id, 2);
	cr_assert_eq(rec.n_players, 1);
	cr_assert_eq(rec.players[0].total, 1);
	cr_assert_eq(rec.n_teams, 1);
	cr_assert_eq(rec.teams[0].total, 1);
	fc_journal_recovered_free(&rec);
	cr_assert_eq(fc_journal_close(j), 0);
}

Test(round_trip, open_without_recovered_state)
{
	struct fc_journal *j = jt_open(rt.path, NULL, NULL);
	struct fc_journal_rec r = jt_command(1, 5, 9);

	jt_append(j, 0, &r);
	cr_assert_eq(fc_journal_close(j), 0);
	j = jt_open(rt.path, NULL, NULL);
	cr_assert_eq(fc_journal_durable_seq(j), 1);
	cr_assert_eq(fc_journal_close(j), 0);
}

/* ------------------------------------------------------------------------------------------ */
/* queue: the SPSC rings                                                                       */
/* ------------------------------------------------------------------------------------------ */

TestSuite(queue, .init = rt_setup, .fini = rt_teardown);

static int
count_cb(const struct fc_journal_entry *e, void *arg)
{
	(void)e;
	(*(unsigned int *)arg)++;
	return 0;
}

Test(queue, full_ring_refuses_with_enobufs_and_takes_nothing)
{
	struct fc_journal_fix fa[16], fb[16];
	/* 24 + 48 + 12 * 48 = 648 bytes: 11 of the 16 slots */
	struct fc_journal_rec a = jt_award(0, 1, 12, fa), b = jt_award(0, 2, 12, fb);
	struct fc_journal *j = jt_open_full_ring(rt.path, &a, &b);
	unsigned int n = 0;
	uint64_t t2 = 0;
	char err[256];

	jt_wait_durable(j, 0, 1);
	cr_assert_eq(fc_journal_append(j, 0, &b, &t2), 0, "the retry is accepted");
	cr_assert_eq(t2, 2);
	cr_assert_eq(fc_journal_close(j), 0);
	cr_assert_eq(fc_journal_scan(rt.path, count_cb, &n, err, sizeof(err)), 0);
	cr_assert_eq(n, 2, "the refused append left nothing behind");
}

Test(queue, record_larger_than_the_ring_is_emsgsize)
{
	struct fc_journal_opts o = { .ring_slots = 16 };
	struct fc_journal_fix fa[32], fb[32];
	struct fc_journal *j = jt_open(rt.path, &o, NULL);
	struct fc_journal_rec a = jt_award(0, 1, 19, fa), b = jt_award(0, 1, 20, fb);

	/* 16 slots are 1 024 bytes: 24 + 48 + 19 * 48 = 984 fit, one more fix (1 032) does not */
	cr_assert_eq(fc_journal_append(j, 0, &b, NULL), -EMSGSIZE);
	cr_assert_eq(fc_journal_append(j, 0, &a, NULL), 0);
	cr_assert_eq(fc_journal_close(j), 0);
}

static int
wrap_cb(const struct fc_journal_entry *e, void *arg)
{
	struct fc_journal_fix fx[JT_MAX_FIX];
	unsigned int *n = arg;
	uint32_t clue = *n + 1;
	struct fc_journal_rec want = jt_award(0, clue, (uint16_t)(1 + clue * 7 % 15), fx);

	cr_assert_eq(e->rec.type, FC_JOURNAL_AWARD);
	cr_assert_eq(e->rec.award.clue_id, clue, "records in append order");
	cr_assert_eq(e->rec.award.n_fixes, want.award.n_fixes);
	cr_assert_eq(memcmp(e->rec.award.fixes, fx, want.award.n_fixes * sizeof(fx[0])), 0,
		     "award %u came through the ring intact", clue);
	(*n)++;
	return 0;
}

Test(queue, records_wrap_around_the_ring_intact)
{
	struct fc_journal_opts o = { .ring_slots = 16 };
	struct fc_journal_fix fx[JT_MAX_FIX];
	struct fc_journal *j = jt_open(rt.path, &o, NULL);
	unsigned int n = 0;
	char err[256];

	/* 2 .. 13 slots each, so records start at every slot and straddle the end */
	for (uint32_t c = 1; c <= 500; c++) {
		struct fc_journal_rec r = jt_award(0, c, (uint16_t)(1 + c * 7 % 15), fx);

		jt_append(j, 0, &r);
	}
	cr_assert_eq(fc_journal_close(j), 0);
	cr_assert_eq(fc_journal_scan(rt.path, wrap_cb, &n, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(n, 500);
}

Test(queue, invalid_records_are_refused)
{
	struct fc_journal_fix fx[4];
	struct fc_journal *j = jt_open(rt.path, NULL, NULL);
	struct fc_journal_rec r;

	r = jt_award(0, 0, 2, fx);
	cr_assert_eq(fc_journal_append(j, 0, &r, NULL), -EINVAL, "clue 0");
	r = jt_award(0, 1, 2, fx);
	r.award.n_fixes = 0;
	cr_assert_eq(fc_journal_append(j, 0, &r, NULL), -EINVAL, "no fixes");
	r = jt_award(0, 1, 2, fx);
	r.award.fixes = NULL;
	cr_assert_eq(fc_journal_append(j, 0, &r, NULL), -EINVAL, "fixes NULL");
	r = jt_award(0, 1, 2, fx);
	r.award.winner++;
	cr_assert_eq(fc_journal_append(j, 0, &r, NULL), -EINVAL, "fixes[0] not the winner");
	r = jt_award(0, 1, 2, fx);
	r.award.contenders_total = 1;
	cr_assert_eq(fc_journal_append(j, 0, &r, NULL), -EINVAL, "more fixes than contenders");
	r = jt_round(1, FC_ROUND_ENDED + 1, 0);
	cr_assert_eq(fc_journal_append(j, 0, &r, NULL), -EINVAL, "round state");
	r = jt_command(0, 1, 0);
	cr_assert_eq(fc_journal_append(j, 0, &r, NULL), -EINVAL, "cmd_seq 0");
	r = jt_command(1, 1, 0);
	r.type = 99;
	cr_assert_eq(fc_journal_append(j, 0, &r, NULL), -EINVAL, "unknown type");
	r = jt_command(1, 1, 0);
	cr_assert_eq(fc_journal_append(j, 1, &r, NULL), -EINVAL, "producer 1 of 1");
	cr_assert_eq(fc_journal_close(j), 0);
	cr_assert_eq(jt_file_size(rt.path), 32, "nothing refused was written");
}

Test(queue, bad_options_are_refused)
{
	struct fc_journal_opts o = { .ring_slots = 100 };
	char err[256] = "";

	cr_assert_null(fc_journal_open(rt.path, &o, NULL, err, sizeof(err)));
	cr_assert_eq(errno, EINVAL);
	cr_assert(strstr(err, "ring_slots") != NULL, "%s", err);
	o = (struct fc_journal_opts){ .producers = FC_JOURNAL_MAX_PRODUCERS + 1 };
	cr_assert_null(fc_journal_open(rt.path, &o, NULL, err, sizeof(err)));
	cr_assert_eq(errno, EINVAL);
	o = (struct fc_journal_opts){ .ring_slots = 8 };
	cr_assert_null(fc_journal_open(rt.path, &o, NULL, err, sizeof(err)));
	cr_assert_eq(errno, EINVAL);
}

/* ------------------------------------------------------------------------------------------ */
/* durable: what the TX side may announce                                                      */
/* ------------------------------------------------------------------------------------------ */

TestSuite(durable, .init = rt_setup, .fini = rt_teardown);

struct find_seq {
	uint64_t seq;
	uint32_t clue;
	bool found;
};

static int
find_seq_cb(const struct fc_journal_entry *e, void *arg)
{
	struct find_seq *f = arg;

	if (e->seq == f->seq && e->rec.type == FC_JOURNAL_AWARD && e->rec.award.clue_id == f->clue)
		f->found = true;
	return 0;
}

Test(durable, a_durable_ticket_is_in_the_file)
{
	struct fc_journal_fix fx[8];
	struct fc_journal *j = jt_open(rt.path, NULL, NULL);
	char err[256];

	for (uint32_t c = 1; c <= 50; c++) {
		struct fc_journal_rec r = jt_award(0, c, 5, fx);
		uint64_t t = jt_append(j, 0, &r);
		struct find_seq f = { .seq = c, .clue = c };

		cr_assert_eq(t, c);
		jt_wait_durable(j, 0, t);
		cr_assert_geq(fc_journal_durable_seq(j), c);
		/* read by another open file, as after a crash: the record is there */
		cr_assert_eq(fc_journal_scan(rt.path, find_seq_cb, &f, err, sizeof(err)), 0);
		cr_assert(f.found, "award %u durable but not in the file", c);
	}
	cr_assert_eq(fc_journal_close(j), 0);
}

Test(durable, close_drains_and_syncs_everything)
{
	struct fc_journal_recovered rec;
	struct fc_journal_opts o = { .producers = 2 };
	struct fc_journal *j = jt_open(rt.path, &o, NULL);
	struct fc_journal_rec r;

	for (uint32_t i = 1; i <= 5000; i++) {
		r = jt_command(i, 1, i);
		jt_append(j, i % 2, &r);
	}
	cr_assert_eq(fc_journal_close(j), 0);
	j = jt_open(rt.path, &o, &rec);
	cr_assert_eq(rec.records, 5000);
	cr_assert_eq(rec.next_cmd_seq, 5001);
	fc_journal_recovered_free(&rec);
	cr_assert_eq(fc_journal_close(j), 0);
}

Test(durable, one_fdatasync_covers_a_batch)
{
	struct fc_journal_opts o = { .idle_us = 200000 };
	struct fc_journal *j = jt_open(rt.path, &o, NULL);
	struct fc_journal_stats s;
	struct fc_journal_rec r;
	uint64_t t = 0;

	usleep(50000); /* the writer sleeps: the records gather in the ring */
	for (uint32_t i = 1; i <= 1000; i++) {
		r = jt_command(i, 1, i);
		t = jt_append(j, 0, &r);
	}
	jt_wait_durable(j, 0, t);
	fc_journal_stats(j, &s);
	cr_assert_eq(s.records, 1000);
	cr_assert_lt(s.syncs, 1000, "group commit: %lu syncs for 1000 records",
		     (unsigned long)s.syncs);
	cr_assert_gt(s.max_batch, 1);
	cr_assert_eq(s.durable_seq, 1000);
	cr_assert_eq(fc_journal_close(j), 0);
}

Test(durable, batch_max_bounds_a_batch)
{
	struct fc_journal_opts o = { .idle_us = 200000, .batch_max = 10 };
	struct fc_journal *j = jt_open(rt.path, &o, NULL);
	struct fc_journal_stats s;
	struct fc_journal_rec r;
	uint64_t t = 0;

	usleep(50000);
	for (uint32_t i = 1; i <= 100; i++) {
		r = jt_command(i, 1, i);
		t = jt_append(j, 0, &r);
	}
	jt_wait_durable(j, 0, t);
	fc_journal_stats(j, &s);
	cr_assert_leq(s.max_batch, 10);
	cr_assert_geq(s.syncs, 10);
	cr_assert_eq(fc_journal_close(j), 0);
}

Test(durable, a_write_error_stops_durability_and_appends)
{
	struct fc_journal_fix fx[32];
	struct fc_journal_recovered rec;
	struct fc_journal_stats s;
	struct fc_journal *j = jt_open(rt.path, NULL, NULL);
	struct rlimit lim = { .rlim_cur = 32 + 10 * 1024, .rlim_max = RLIM_INFINITY };
	uint64_t appended = 0, durable;
	int rc = 0;

	/* the file may not grow past ~10 records: the writer's write() fails with EFBIG */
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (uint32_t c = 1; c <= 200 && rc == 0; c++) {
		struct fc_journal_rec r = jt_award(0, c, 20, fx); /* 1 024 bytes */

		while ((rc = fc_journal_append(j, 0, &r, NULL)) == -ENOBUFS)
			usleep(100);
		if (rc == 0)
			appended++;
		usleep(200);
	}
	for (int i = 0; i < 10000 && (fc_journal_stats(j, &s), s.error == 0); i++)
		usleep(1000);
	cr_assert_eq(s.error, -EFBIG, "writer error %d", s.error);
	durable = fc_journal_durable_ticket(j, 0);
	cr_assert_lt(durable, appended, "what failed to reach the disk is not durable");
	{
		struct fc_journal_rec r = jt_award(0, 1000, 1, fx);

		cr_assert_eq(fc_journal_append(j, 0, &r, NULL), -EFBIG, "the error is sticky");
	}
	usleep(20000);
	cr_assert_eq(fc_journal_durable_ticket(j, 0), durable);
	cr_assert_eq(fc_journal_close(j), -EFBIG);

	lim.rlim_cur = RLIM_INFINITY;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	j = jt_open(rt.path, NULL, &rec);
	cr_assert_geq(rec.n_awards, durable, "every durable award is recovered");
	fc_journal_recovered_free(&rec);
	cr_assert_eq(fc_journal_close(j), 0);
}

/* ------------------------------------------------------------------------------------------ */
/* audit: floorctl audit CLUE                                                                  */
/* ------------------------------------------------------------------------------------------ */

TestSuite(audit, .init = rt_setup, .fini = rt_teardown);

Test(audit, finds_the_award_with_every_fix)
{
	static struct collect c;
	struct fc_journal_fix fx[JT_MAX_FIX], want[JT_MAX_FIX];
	struct fc_journal *j = jt_open(rt.path, NULL, NULL);
	struct fc_journal_rec r;
	char err[256];

	for (uint32_t clue = 1; clue <= 3; clue++) {
		r = jt_award(1, clue, (uint16_t)(clue * 30), fx);
		jt_append(j, 0, &r);
		r = jt_score(1, r.award.winner, 0, 10);
		jt_append(j, 0, &r);
	}
	cr_assert_eq(fc_journal_close(j), 0);
	r = jt_award(1, 2, 60, want);

	cr_assert_eq(fc_journal_audit(rt.path, 2, collect_cb, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(c.e[0].rec.type, FC_JOURNAL_AWARD);
	cr_assert_eq(c.e[0].rec.award.clue_id, 2);
	cr_assert_eq(c.e[0].rec.award.winner, r.award.winner);
	cr_assert_eq(c.e[0].rec.award.decided_ns, r.award.decided_ns);
	cr_assert_eq(c.e[0].rec.award.n_fixes, 60, "every contender's fix");
	cr_assert_eq(memcmp(c.e[0].rec.award.fixes, want, 60 * sizeof(want[0])), 0);
	cr_assert_eq(c.e[0].rec.award.fixes[0].flags, FC_CONT_F_WINNER);
}

Test(audit, a_clue_of_two_rounds_gives_both_in_order)
{
	static struct collect c;
	struct fc_journal_fix fx[4];
	struct fc_journal *j = jt_open(rt.path, NULL, NULL);
	struct fc_journal_rec r;
	char err[256];

	r = jt_award(1, 5, 2, fx);
	jt_append(j, 0, &r);
	r = jt_round(2, FC_ROUND_RUNNING, 1);
	jt_append(j, 0, &r);
	r = jt_award(2, 5, 3, fx);
	jt_append(j, 0, &r);
	cr_assert_eq(fc_journal_close(j), 0);
	cr_assert_eq(fc_journal_audit(rt.path, 5, collect_cb, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.n, 2);
	cr_assert_eq(c.e[0].rec.award.round_id, 1);
	cr_assert_eq(c.e[1].rec.award.round_id, 2);
	cr_assert_lt(c.e[0].seq, c.e[1].seq);
	c.n = 0;
	cr_assert_eq(fc_journal_audit(rt.path, 6, collect_cb, &c, err, sizeof(err)), 0);
	cr_assert_eq(c.n, 0, "a clue never awarded has no entry");
}

static int
stop_cb(const struct fc_journal_entry *e, void *arg)
{
	(void)e;
	(void)arg;
	return 7;
}

Test(audit, a_callback_can_stop_it)
{
	struct fc_journal_fix fx[4];
	struct fc_journal *j = jt_open(rt.path, NULL, NULL);
	struct fc_journal_rec r = jt_award(1, 5, 2, fx);
	char err[256];

	jt_append(j, 0, &r);
	cr_assert_eq(fc_journal_close(j), 0);
	cr_assert_eq(fc_journal_audit(rt.path, 5, stop_cb, NULL, err, sizeof(err)), 7);
}

Test(audit, reads_a_torn_journal_without_changing_it)
{
	static struct collect c;
	struct fc_journal_fix fx[4];
	struct fc_journal *j = jt_open(rt.path, NULL, NULL);
	struct fc_journal_rec r;
	uint64_t size;
	char err[256];

	for (uint32_t clue = 1; clue <= 3; clue++) {
		r = jt_award(1, clue, 2, fx);
		jt_append(j, 0, &r);
	}
	cr_assert_eq(fc_journal_close(j), 0);
	size = jt_file_size(rt.path);
	jt_truncate(rt.path, size - 5); /* the last award is torn */
	cr_assert_eq(fc_journal_audit(rt.path, 2, collect_cb, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.n, 1);
	c.n = 0;
	cr_assert_eq(fc_journal_audit(rt.path, 3, collect_cb, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.n, 0, "a torn award was never durable");
	cr_assert_eq(jt_file_size(rt.path), size - 5, "the reader leaves the file alone");
}

Test(audit, refuses_damage_in_the_middle)
{
	struct jt_offsets o;
	struct fc_journal_fix fx[4];
	struct fc_journal *j = jt_open(rt.path, NULL, NULL);
	struct fc_journal_rec r;
	char err[512] = "";

	for (uint32_t clue = 1; clue <= 3; clue++) {
		r = jt_award(1, clue, 2, fx);
		jt_append(j, 0, &r);
	}
	cr_assert_eq(fc_journal_close(j), 0);
	jt_offsets(rt.path, &o);
	jt_flip_byte(rt.path, o.off[1] + 40);
	cr_assert_eq(fc_journal_audit(rt.path, 3, stop_cb, NULL, err, sizeof(err)), -EBADMSG);
	cr_assert(strstr(err, "offset") != NULL, "%s", err);
}

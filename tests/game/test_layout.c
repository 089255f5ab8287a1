/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The clue layout file (docs/game.md, "The layout file"): a good file, every default, every
 * refusal with its FILE:LINE, and a refused file leaving the loaded layout alone.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

TestSuite(layout);

Test(layout, loads_every_setting_and_sorts_clues_by_id)
{
	struct fc_game_layout *l = layout_from("# round 2: the warehouse\n"
					       "policy = probability\n"
					       "sigma_k = 2.5\n"
					       "threshold = 0.95\n"
					       "dwell = 3\n"
					       "dwell_gap_ms = 400\n"
					       "settle_ms = 150\n"
					       "max_speed_mps = 6.5\n"
					       "tie_break = distance_then_player\n"
					       "radius_mm = 500\n"
					       "\n"
					       "17,1234,5678,30,50,60\n"
					       "3,0,655350,,10\n"
					       "9,655350,0,65535,1000000,86400\n");
	const struct fc_game_rules *r = &l->rules;

	cr_assert_eq(r->policy, FC_GAME_POLICY_PROBABILITY);
	cr_assert_float_eq(r->sigma_k, 2.5, 1e-15);
	cr_assert_float_eq(r->threshold, 0.95, 1e-15);
	cr_assert_eq(r->dwell, 3);
	cr_assert_eq(r->dwell_gap_ns, 400 * MS);
	cr_assert_eq(r->settle_ns, 150 * MS);
	cr_assert_float_eq(r->max_speed_mps, 6.5, 1e-15);
	cr_assert_eq(r->tie_break, FC_GAME_TIE_DISTANCE_THEN_PLAYER);
	cr_assert_eq(r->default_radius_mm, 500);
	cr_assert_eq(l->n_clues, 3);
	cr_assert_eq(l->clues[0].clue_id, 3);
	cr_assert_eq(l->clues[0].radius_mm, 500, "an empty radius takes radius_mm");
	cr_assert_eq(l->clues[0].y_mm, 655350);
	cr_assert_eq(l->clues[0].respawn_s, 0, "no respawn_s: stays decided");
	cr_assert_eq(l->clues[0].line, 13);
	cr_assert_eq(l->clues[1].clue_id, 9);
	cr_assert_eq(l->clues[1].points, 1000000);
	cr_assert_eq(l->clues[1].respawn_s, 86400);
	cr_assert_eq(l->clues[2].clue_id, 17);
	cr_assert_eq(l->clues[2].x_mm, 1234);
	cr_assert_eq(l->clues[2].y_mm, 5678);
	cr_assert_eq(l->clues[2].radius_mm, 30);
	cr_assert_eq(l->clues[2].points, 50);
	cr_assert_eq(l->clues[2].respawn_s, 60);
	cr_assert_eq(fc_game_layout_find(l, 17), 2);
	cr_assert_eq(fc_game_layout_find(l, 3), 0);
	cr_assert_eq(fc_game_layout_find(l, 4), -ENOENT);
	cr_assert_eq(fc_game_layout_find(l, 18), -ENOENT);
	fc_game_layout_free(l);
}

Test(layout, absent_settings_take_the_documented_defaults)
{
	struct fc_game_layout *l = layout_from("policy = distance\n1,100,100,,5\n");
	const struct fc_game_rules *r = &l->rules;

	cr_assert_float_eq(r->sigma_k, 1.0, 0);
	cr_assert_float_eq(r->threshold, 0.9, 0);
	cr_assert_eq(r->dwell, 2);
	cr_assert_eq(r->dwell_gap_ns, 250 * MS);
	cr_assert_eq(r->settle_ns, 100 * MS);
	cr_assert_float_eq(r->max_speed_mps, 8.0, 0);
	cr_assert_eq(r->tie_break, FC_GAME_TIE_DISTANCE_THEN_PLAYER);
	cr_assert_eq(r->default_radius_mm, 20);
	cr_assert_eq(l->clues[0].radius_mm, 20);
	cr_assert_eq(l->clues[0].respawn_s, 0);
	fc_game_layout_free(l);
}

Test(layout, the_probability_bounds_are_computed_from_the_threshold)
{
	struct fc_game_layout *l = layout_from("policy = probability\n1,0,0,20,1\n");

	/* -2 ln(0.1) and Phi^-1(0.9) */
	cr_assert_float_eq(l->rules.accept_k2, 4.605170185988091, 1e-14);
	cr_assert_float_eq(l->rules.reject_z, 1.2815515655446004, 1e-12);
	fc_game_layout_free(l);
	l = layout_from("policy = probability\nthreshold = 0.5\n1,0,0,20,1\n");
	cr_assert_float_eq(l->rules.reject_z, 0.0, 1e-12);
	fc_game_layout_free(l);
}

Test(layout, comments_blank_lines_spaces_and_crlf_are_accepted)
{
	struct fc_game_layout *l = layout_from("\r\n"
					       "   # a comment\n"
					       "\tpolicy=conservative   # trailing comment\r\n"
					       "sigma_k =2\n"
					       "  7 , 10 , 20 , 30 , 40 , 50   # the fountain\r\n"
					       "\n");

	cr_assert_eq(l->rules.policy, FC_GAME_POLICY_CONSERVATIVE);
	cr_assert_float_eq(l->rules.sigma_k, 2.0, 0);
	cr_assert_eq(l->n_clues, 1);
	cr_assert_eq(l->clues[0].clue_id, 7);
	cr_assert_eq(l->clues[0].respawn_s, 50);
	cr_assert_eq(l->clues[0].line, 5);
	fc_game_layout_free(l);
}

struct bad {
	const char *text;
	const char *want; /* ":LINE: ..." as it must follow the path */
};

#define P "policy = distance\n"
#define C "1,0,0,20,10\n"

static const struct bad bad_files[] = {
	{ "policy = fast\n" C, ":1: policy = 'fast': expected distance, conservative or" },
	{ P "sigma_k = 0\n" C, ":2: sigma_k = '0': expected a number above 0, at most 10" },
	{ P "sigma_k = -1\n" C, ":2: sigma_k = '-1'" },
	{ P "sigma_k = 10.5\n" C, ":2: sigma_k = '10.5'" },
	{ P "sigma_k = 1e0\n" C, ":2: sigma_k = '1e0'" },
	{ P "sigma_k = 1.2.3\n" C, ":2: sigma_k = '1.2.3'" },
	{ P "sigma_k = nan\n" C, ":2: sigma_k = 'nan'" },
	{ P "threshold = 0.49\n" C, ":2: threshold = '0.49': expected a probability from 0.5" },
	{ P "threshold = 1\n" C, ":2: threshold = '1'" },
	{ P "dwell = 0\n" C, ":2: dwell = '0': expected a number of fixes from 1 to 8" },
	{ P "dwell = 9\n" C, ":2: dwell = '9'" },
	{ P "dwell_gap_ms = 0\n" C, ":2: dwell_gap_ms = '0': expected milliseconds from 1 to 500" },
	{ P "dwell_gap_ms = 501\n" C, ":2: dwell_gap_ms = '501'" },
	{ P "settle_ms = 10001\n" C, ":2: settle_ms = '10001': expected milliseconds from 0 to" },
	{ P "settle_ms = 1.5\n" C, ":2: settle_ms = '1.5'" },
	{ P "max_speed_mps = 0\n" C, ":2: max_speed_mps = '0'" },
	{ P "max_speed_mps = 100.5\n" C, ":2: max_speed_mps = '100.5'" },
	{ P "tie_break = coin\n" C, ":2: tie_break = 'coin': expected distance_then_player" },
	{ P "radius_mm = 0\n" C, ":2: radius_mm = '0': expected millimetres from 1 to 65535" },
	{ P "radius_mm = 65536\n" C, ":2: radius_mm = '65536'" },
	{ P "settle_ms =\n" C, ":2: settle_ms = ''" },
	{ P "radius = 20\n" C, ":2: unknown setting 'radius': expected one of policy," },
	{ P "\nsettle_ms = 50\nsettle_ms = 60\n" C, ":4: 'settle_ms' already set on line 3" },
	{ P "policy = distance\n" C, ":2: 'policy' already set on line 1" },
	{ P C "dwell = 2\n",
	  ":3: setting 'dwell' after the first clue (line 2): settings come first" },
	{ P "1,0,0,20\n",
	  ":2: expected 'clue_id,x_mm,y_mm,radius_mm,points[,respawn_s]', got fewer" },
	{ P "1,0,0,20,10,0,5\n",
	  ":2: expected 'clue_id,x_mm,y_mm,radius_mm,points[,respawn_s]', got more" },
	{ P "0,0,0,20,10\n", ":2: clue_id '0': expected a number from 1 to 4294967295" },
	{ P "4294967296,0,0,20,10\n", ":2: clue_id '4294967296'" },
	{ P "1,655351,0,20,10\n", ":2: x_mm '655351': expected a number from 0 to 655350" },
	{ P "1,-1,0,20,10\n", ":2: x_mm '-1'" },
	{ P "1,0,1e3,20,10\n", ":2: y_mm '1e3'" },
	{ P "1,0,0,0,10\n", ":2: radius_mm '0': expected a number from 1 to 65535, or nothing" },
	{ P "1,0,0,65536,10\n", ":2: radius_mm '65536'" },
	{ P "1,0,0,20,1000001\n", ":2: points '1000001': expected a number from 0 to 1000000" },
	{ P "1,0,0,20,\n", ":2: points '': expected" },
	{ P "1,0,0,20,10,86401\n", ":2: respawn_s '86401': expected a number from 0 to 86400" },
	{ P "1,0,0,20,10,x\n", ":2: respawn_s 'x'" },
	{ P "hello\n", ":2: 'hello': expected 'key = value' or" },
	{ "# nothing but\n" C, ":2: no 'policy' setting: expected policy = distance" },
	{ "\n\n", ":2: no 'policy' setting" },
	{ P "# no clues\n", ":2: no clues" },
};

Test(layout, every_refusal_names_the_file_and_the_line)
{
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		const char *path;
		char err[512] = "";
		int rc = layout_refused(bad_files[i].text, err, sizeof(err), &path);
		size_t plen = strlen(path);

		cr_expect_eq(rc, -EINVAL, "case %zu", i);
		cr_expect(strncmp(err, path, plen) == 0 && strncmp(err + plen, bad_files[i].want,
								   strlen(bad_files[i].want)) == 0,
			  "case %zu: got '%s', want '%s%s...'", i, err, path, bad_files[i].want);
	}
}

Test(layout, a_clue_id_given_twice_is_refused_with_both_lines)
{
	const char *path;
	char err[256];

	layout_refused(P "7,0,0,20,10\n3,0,0,20,10\n7,5,5,20,10\n3,1,1,20,1\n", err, sizeof(err),
		       &path);
	cr_assert(strstr(err, ":4: clue_id 7 already on line 2") != NULL, "%s", err);
	layout_refused(P "7,0,0,20,10\n3,0,0,20,10\n3,5,5,20,10\n7,1,1,20,1\n", err, sizeof(err),
		       &path);
	cr_assert(strstr(err, ":4: clue_id 3 already on line 3") != NULL, "%s", err);
}

Test(layout, a_nul_byte_is_refused)
{
	static const char text[] = "policy = distance\n1,0,0,20,10\0 # hidden\n";
	struct fc_game_layout *l;
	char path[] = "/tmp/fc-game-nul-XXXXXX", err[256];
	int fd = mkstemp(path);

	cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	cr_assert_eq(fc_game_layout_load(path, &l, err, sizeof(err)), -EINVAL);
	unlink(path);
	cr_assert(strstr(err, ":2: NUL byte in the line") != NULL, "%s", err);
}

Test(layout, a_refused_file_leaves_the_loaded_layout_untouched)
{
	struct fc_game_layout *running = layout_from(P "5,100,200,20,10\n");
	struct fc_game_layout *next = running, before = *running;
	struct fc_game_clue clue = running->clues[0];
	const char *path = layout_file(P "5,100,200,20,10\n6,0,0,0,1\n");
	char err[256];

	cr_assert_eq(fc_game_layout_load(path, &next, err, sizeof(err)), -EINVAL);
	unlink(path);
	cr_assert_null(next, "the caller's pointer is overwritten, never its layout");
	cr_assert_eq(memcmp(&before, running, sizeof(before)), 0);
	cr_assert_eq(memcmp(&clue, &running->clues[0], sizeof(clue)), 0);
	fc_game_layout_free(running);
}

Test(layout, a_missing_file_is_enoent_with_its_name)
{
	struct fc_game_layout *l;
	char err[256];

	cr_assert_eq(fc_game_layout_load("/nonexistent/layout.txt", &l, err, sizeof(err)), -ENOENT);
	cr_assert_null(l);
	cr_assert_str_eq(err, "/nonexistent/layout.txt: cannot open: No such file or directory");
}

Test(layout, policy_names_round_trip)
{
	cr_assert_str_eq(fc_game_policy_name(FC_GAME_POLICY_DISTANCE), "distance");
	cr_assert_str_eq(fc_game_policy_name(FC_GAME_POLICY_CONSERVATIVE), "conservative");
	cr_assert_str_eq(fc_game_policy_name(FC_GAME_POLICY_PROBABILITY), "probability");
	cr_assert_str_eq(fc_game_policy_name((enum fc_game_policy)7), "?");
}

Test(layout, a_clue_off_the_floor_is_refused_with_its_line)
{
	struct fc_game_layout *l = layout_from(P "5,100,200,20,10\n"
						 "9,20000,100,20,10\n"
						 "2,100,10000,20,10\n");
	char err[256] = "";

	/* the floor of the design: 20 m x 10 m; the first offending line is 3 (clue 9) */
	cr_assert_eq(fc_game_layout_check_floor(l, "l.txt", 20000, 10000, err, sizeof(err)),
		     -EINVAL);
	cr_assert_str_eq(err, "l.txt:3: clue 9 at (20000, 100) mm is outside the floor "
			      "(20000 x 10000 mm)");
	err[0] = '\0';
	cr_assert_eq(fc_game_layout_check_floor(l, "l.txt", 20001, 10001, err, sizeof(err)), 0,
		     "the last millimetre of the floor is on it: %s", err);
	cr_assert_eq(fc_game_layout_check_floor(l, "l.txt", 20001, 10000, err, sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "l.txt:4: clue 2 at (100, 10000)") != NULL, "%s", err);
	fc_game_layout_free(l);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the clue layout file (suite fuzz): what an operator hands floord at
 * start and with floorctl's load layout, read as floord reads it (fc_game_layout_load(), then
 * fc_game_layout_check_floor()) from a file holding the input.
 *
 * A loaded layout must keep the promises of fc_game.h, fc_game_types.h and docs/game.md: every
 * setting and field within its range, clue ids unique and sorted so that fc_game_layout_find()
 * finds each, one clue for each clue line of the file with the values that line gives (an
 * independent reading of the syntax here), and the floor check refusing exactly the clues off
 * the floor, naming the first in the file. A refused file must say "FILE:LINE: reason" in one
 * line with LINE in the file. A broken promise aborts; LeakSanitizer checks the frees.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_game.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The file's trim: spaces and tabs before, and CR and LF too after. */
static char *
trim(char *s)
{
	char *end;

	while (is_blank(*s))
		s++;
	end = s + strlen(s);
	while (end > s && (is_blank(end[-1]) || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/* docs/game.md: decimal digits only, no sign; "" is not a number. */
static bool
dec(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* Checks the clue of line s (a clue line of the file: it has ',' and no '=') against c. */
static void
check_clue_line(const struct fc_game_layout *l, const struct fc_game_clue *c, char *s)
{
	static const uint64_t max[6] = { UINT32_MAX,           FC_GAME_COORD_MAX_MM,
					 FC_GAME_COORD_MAX_MM, FC_GAME_RADIUS_MAX_MM,
					 FC_GAME_POINTS_MAX,   FC_GAME_RESPAWN_MAX_S };
	uint64_t v[6] = { 0, 0, 0, l->rules.default_radius_mm, 0, 0 };
	char *f[6];
	unsigned int nf = 0;

	CHECK_MSG(c != NULL, "line %s: a clue line without its clue", s);
	for (char *p = s;; p++) {
		char *comma = strchr(p, ',');

		CHECK_MSG(nf < 6, "line %u: more than 6 fields, loaded", c->line);
		f[nf++] = p;
		if (comma == NULL)
			break;
		*comma = '\0';
		p = comma;
	}
	CHECK_MSG(nf >= 5, "line %u: %u fields, loaded", c->line, nf);
	for (unsigned int i = 0; i < nf; i++) {
		const char *t = trim(f[i]);

		if (*t == '\0' && (i == 3 || i == 5))
			continue;
		CHECK_MSG(dec(t, max[i], &v[i]), "line %u: field %u '%s' loaded", c->line, i, t);
	}
	CHECK_MSG(c->clue_id == v[0] && c->x_mm == (int32_t)v[1] && c->y_mm == (int32_t)v[2] &&
			  c->radius_mm == v[3] && c->points == v[4] && c->respawn_s == v[5],
		  "line %u: clue %u (%d, %d) r %u p %u s %u", c->line, c->clue_id, c->x_mm, c->y_mm,
		  c->radius_mm, c->points, c->respawn_s);
}

static void
check_rules(const struct fc_game_rules *r)
{
	CHECK(r->policy == FC_GAME_POLICY_DISTANCE || r->policy == FC_GAME_POLICY_CONSERVATIVE ||
	      r->policy == FC_GAME_POLICY_PROBABILITY);
	CHECK(strcmp(fc_game_policy_name(r->policy), "?") != 0);
	CHECK(r->tie_break == FC_GAME_TIE_DISTANCE_THEN_PLAYER);
	CHECK(r->sigma_k > 0 && r->sigma_k <= 10);
	CHECK(r->threshold >= 0.5 && r->threshold <= 0.999999);
	CHECK(r->dwell >= 1 && r->dwell <= FC_GAME_DWELL_MAX);
	CHECK(r->dwell_gap_ns >= 1000000u &&
	      r->dwell_gap_ns <= FC_GAME_DWELL_GAP_MAX_MS * 1000000ull &&
	      r->dwell_gap_ns % 1000000u == 0);
	CHECK(r->settle_ns <= 10000 * 1000000ull && r->settle_ns % 1000000u == 0);
	CHECK(r->max_speed_mps > 0 && r->max_speed_mps <= 100);
	CHECK(r->default_radius_mm >= 1 && r->default_radius_mm <= FC_GAME_RADIUS_MAX_MM);
	/* the hot path's bounds: accept proves P >= threshold, reject proves P < threshold, so
	 * the accept distance must not be below the reject one */
	CHECK(isfinite(r->accept_k2) && r->accept_k2 > 0);
	CHECK(isfinite(r->reject_z) && r->reject_z >= 0);
	CHECK(sqrt(r->accept_k2) >= r->reject_z);
}

/* The floor check against the clues: refuses the first clue in the file off a w x h floor. */
static void
check_floor(const struct fc_game_layout *l, const char *path, uint32_t w, uint32_t h)
{
	const struct fc_game_clue *bad = NULL;
	char *err = fuzz_err_buf(), want[FUZZ_ERR_LEN];
	int rc;

	for (uint32_t i = 0; i < l->n_clues; i++) {
		const struct fc_game_clue *c = &l->clues[i];

		if ((c->x_mm >= 0 && (uint32_t)c->x_mm >= w) ||
		    (c->y_mm >= 0 && (uint32_t)c->y_mm >= h))
			if (bad == NULL || c->line < bad->line)
				bad = c;
	}
	rc = fc_game_layout_check_floor(l, path, w, h, err, FUZZ_ERR_LEN);
	if (bad == NULL) {
		CHECK_MSG(rc == 0, "%ux%u: '%s'", w, h, err);
	} else {
		CHECK(rc == -EINVAL);
		fuzz_check_refusal(err, FUZZ_ERR_LEN, path, true, bad->line, bad->line);
		snprintf(want, sizeof(want), "%s:%u: clue %u at (%d, %d) mm is outside the floor",
			 path, bad->line, bad->clue_id, bad->x_mm, bad->y_mm);
		CHECK_MSG(strncmp(err, want, strlen(want)) == 0, "'%s', not '%s'", err, want);
	}
	free(err);
}

static void
check_layout(const struct fc_game_layout *l, const char *path, const uint8_t *data, size_t size)
{
	unsigned int nlines = fuzz_count_lines(data, size), clue_lines = 0;
	const struct fc_game_clue **at_line;
	char *text, *line, *next;

	/* docs/game.md: a NUL byte is refused */
	CHECK(memchr(data, '\0', size) == NULL);
	check_rules(&l->rules);
	CHECK(l->n_clues >= 1 && l->n_clues <= FC_GAME_MAX_CLUES && l->clues != NULL);

	at_line = calloc(nlines + 1, sizeof(*at_line));
	CHECK(at_line != NULL);
	for (uint32_t i = 0; i < l->n_clues; i++) {
		const struct fc_game_clue *c = &l->clues[i];

		/* sorted by id, each once: a clue's index is its rank by id */
		CHECK(i == 0 || c->clue_id > l->clues[i - 1].clue_id);
		CHECK(c->clue_id >= 1);
		CHECK(c->x_mm >= 0 && c->x_mm <= FC_GAME_COORD_MAX_MM);
		CHECK(c->y_mm >= 0 && c->y_mm <= FC_GAME_COORD_MAX_MM);
		CHECK(c->radius_mm >= 1 && c->radius_mm <= FC_GAME_RADIUS_MAX_MM);
		CHECK(c->points <= FC_GAME_POINTS_MAX);
		CHECK(c->respawn_s <= FC_GAME_RESPAWN_MAX_S);
		CHECK(c->line >= 1 && c->line <= nlines && at_line[c->line] == NULL);
		at_line[c->line] = c;
		CHECK(fc_game_layout_find(l, c->clue_id) == (int)i);
		if (c->clue_id < UINT32_MAX &&
		    (i + 1 == l->n_clues || l->clues[i + 1].clue_id != c->clue_id + 1))
			CHECK(fc_game_layout_find(l, c->clue_id + 1) == -ENOENT);
	}
	CHECK(fc_game_layout_find(l, 0) == -ENOENT);

	/* Every clue line of the file is one clue, with that line's values; nothing else is. */
	text = fuzz_strdup(data, size);
	line = text;
	for (unsigned int n = 1; n <= nlines; n++, line = next) {
		char *hash, *s;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		s = trim(line);
		if (*s == '\0' || strchr(s, '=') != NULL) {
			CHECK_MSG(at_line[n] == NULL, "line %u: a clue from a non-clue line", n);
			continue;
		}
		CHECK_MSG(strchr(s, ',') != NULL, "line %u: '%s' accepted", n, s);
		check_clue_line(l, at_line[n], s);
		clue_lines++;
	}
	CHECK(clue_lines == l->n_clues);
	free(text);
	free(at_line);

	/* the largest floor takes every clue; the design's 20 x 10 m, and one made to refuse */
	check_floor(l, path, FC_GAME_COORD_MAX_MM + 1, FC_GAME_COORD_MAX_MM + 1);
	check_floor(l, path, 20000, 10000);
	check_floor(l, path, (uint32_t)l->clues[l->n_clues / 2].x_mm,
		    (uint32_t)l->clues[0].y_mm + 1);

	/* What floord builds from it: an arbiter (small layouts: 1.6 KiB a clue). */
	if (l->n_clues <= 64) {
		struct fc_arbiter *a = NULL;

		CHECK(fc_arbiter_mem_size(l, 4) > 0);
		CHECK(fc_arbiter_create(&a, l, 4, 1) == 0);
		CHECK(fc_arbiter_n_clues(a) == l->n_clues);
		for (uint32_t i = 0; i < l->n_clues; i++) {
			struct fc_arbiter_clue_info ci;

			fc_arbiter_clue_info(a, i, &ci);
			CHECK(ci.state == FC_ARB_CLUE_OPEN && ci.winner == FC_GAME_PLAYER_NONE);
		}
		fc_arbiter_free(a);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_memfd_path(data, size);
	struct fc_game_layout *l = (void *)1;
	char *err = fuzz_err_buf();
	unsigned int nlines;
	int rc;

	rc = fc_game_layout_load(path, &l, err, FUZZ_ERR_LEN);
	if (rc == 0) {
		CHECK(l != NULL);
		check_layout(l, path, data, size);
		fc_game_layout_free(l);
	} else {
		CHECK(l == NULL);
		CHECK_MSG(rc == -EINVAL || rc == -ENOMEM, "rc %d: '%s'", rc, err);
		nlines = fuzz_count_lines(data, size);
		/* "no clues" names the last line: there is none in an empty file */
		if (nlines == 0)
			CHECK_MSG(strstr(err, ": no ") != NULL, "'%s'", err);
		else
			fuzz_check_refusal(err, FUZZ_ERR_LEN, path, rc == -EINVAL, 1, nlines);
	}
	free(err);
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the roster (suite fuzz): the file floord loads at start
 * (fc_roster_load(), from a file holding the input), and floorctl's roster add, whose text goes
 * through fc_roster_parse_entry() and fc_roster_check_add() (lib/dataplane/ctl.c).
 *
 * A loaded roster must keep the promises of fc_config.h and docs/configuration.md: each tag
 * once, each player once, ids up to 65534, names of at most 23 characters without quotes,
 * commas or control characters; one entry per data line of the file, in order, equal to what
 * fc_roster_parse_entry() makes of that line (roster add takes "the file's syntax"). A refused
 * file says "FILE:LINE: reason" with LINE in the file. roster add's verdicts are checked
 * against the roster: a tag or player already in it, a player not below the capacity. The input
 * as one text goes through fc_roster_parse_entry() too ("roster add: reason" when refused).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_config.h"
#include "fuzz_file.h"

/* fc_roster_parse_entry() copies its text into a buffer of this size (roster.c). */
#define ENTRY_TEXT_MAX 512u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

static void
check_entry(const struct fc_roster_entry *e)
{
	size_t len = strnlen(e->name, sizeof(e->name));

	CHECK(len < sizeof(e->name));
	CHECK(e->player <= 65534 && e->team <= 65534);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)e->name[i];

		CHECK_MSG(c >= 0x20 && c != 0x7f && c != '"' && c != ',', "name '%s'", e->name);
	}
}

static bool
same_entry(const struct fc_roster_entry *a, const struct fc_roster_entry *b)
{
	return a->tag_id == b->tag_id && a->player == b->player && a->team == b->team &&
	       strcmp(a->name, b->name) == 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* roster add against r[0, n) with capacity cap: the verdict fc_config.h promises. */
static void
check_add(const struct fc_roster_entry *r, uint32_t n, uint32_t cap,
	  const struct fc_roster_entry *e)
{
	bool tag_taken = fc_roster_find_tag(r, n, e->tag_id) >= 0, player_taken = false;
	char *err = fuzz_err_buf();
	int rc, want = 0;

	for (uint32_t i = 0; i < n; i++)
		player_taken = player_taken || r[i].player == e->player;
	if (tag_taken)
		want = -EEXIST;
	else if (e->player >= cap)
		want = -ERANGE;
	else if (player_taken)
		want = -EEXIST;
	else if (n >= FC_CFG_MAX_PLAYERS)
		want = -ENOSPC;
	rc = fc_roster_check_add(r, n, cap, e, err, FUZZ_ERR_LEN);
	CHECK_MSG(rc == want, "rc %d, not %d: '%s'", rc, want, rc != 0 ? err : "");
	if (rc != 0)
		fuzz_check_refusal(err, FUZZ_ERR_LEN, "roster add", false, 0, 0);
	free(err);
}

static void
check_roster(const struct fc_roster_entry *r, uint32_t n, const uint8_t *data, size_t size)
{
	unsigned int nlines = fuzz_count_lines(data, size);
	struct fc_roster_entry e;
	uint32_t k = 0, cap = 0;
	uint64_t *tags, max_tag = 0;
	uint8_t *players;
	char *text, *line, *next, *err = fuzz_err_buf();
	bool first = true;

	CHECK(n <= FC_CFG_MAX_PLAYERS);
	CHECK(n == 0 || r != NULL);
	/* "nothing is ignored" (docs/configuration.md): what follows a NUL byte would be */
	CHECK(memchr(data, '\0', size) == NULL);
	players = calloc(65536, 1);
	tags = malloc((n + 1) * sizeof(*tags));
	CHECK(players != NULL && tags != NULL);
	for (uint32_t i = 0; i < n; i++) {
		check_entry(&r[i]);
		CHECK_MSG(!players[r[i].player], "player %u twice", r[i].player);
		players[r[i].player] = 1;
		tags[i] = r[i].tag_id;
		if (r[i].player + 1u > cap)
			cap = r[i].player + 1u;
		if (r[i].tag_id > max_tag)
			max_tag = r[i].tag_id;
	}
	qsort(tags, n, sizeof(*tags), cmp_u64);
	for (uint32_t i = 1; i < n; i++)
		CHECK_MSG(tags[i] != tags[i - 1], "tag 0x%llx twice", (unsigned long long)tags[i]);

	/* Every data line is one entry, in the file's order, as roster add would read it. */
	text = fuzz_strdup(data, size);
	line = text;
	for (unsigned int ln = 1; ln <= nlines; ln++, line = next) {
		char *s;

		next = memchr(line, '\n', (size_t)(text + size - line));
		if (next != NULL)
			*next++ = '\0';
		/* a NUL byte ends the line as the loader sees it */
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if (first) {
			first = false;
			if (strncmp(s, "tag_id", 6) == 0 && (s[6] == ',' || s[6] == ' '))
				continue;
		}
		CHECK_MSG(k < n, "line %u: '%s' not loaded", ln, s);
		if (strlen(s) < ENTRY_TEXT_MAX) {
			CHECK_MSG(fc_roster_parse_entry("roster add", s, &e, err, FUZZ_ERR_LEN) ==
					  0,
				  "line %u loaded, roster add refuses it: '%s'", ln, err);
			CHECK_MSG(same_entry(&e, &r[k]), "line %u: roster add reads it otherwise",
				  ln);
		}
		k++;
	}
	CHECK(k == n);
	free(text);

	/* roster add against this roster, with floord's default capacity (the highest + 1) */
	if (n > 0) {
		e = r[n - 1];
		check_add(r, n, cap, &e); /* its tag is taken */
		e.tag_id = max_tag + 1;
		if (e.tag_id != 0) {
			check_add(r, n, cap, &e); /* its player is taken */
			e.player = (uint16_t)cap;
			if (cap <= 65534) {
				check_add(r, n, cap, &e);     /* not below the capacity */
				check_add(r, n, cap + 1, &e); /* taken */
			}
		}
	}
	free(players);
	free(tags);
	free(err);
}

/*
 * The input's first line as roster add's text (floorctl's command is one line of the control
 * socket): "roster add: reason", or an entry within the ranges.
 */
static void
check_parse_entry(const uint8_t *data, size_t size)
{
	const uint8_t *lf = memchr(data, '\n', size);
	struct fc_roster_entry e;
	char *text = fuzz_strdup(data, lf != NULL ? (size_t)(lf - data) : size);
	char *err = fuzz_err_buf();
	int rc;

	rc = fc_roster_parse_entry("roster add", text, &e, err, FUZZ_ERR_LEN);
	if (rc == 0)
		check_entry(&e);
	else
		fuzz_check_refusal(err, FUZZ_ERR_LEN, "roster add", false, 0, 0);
	free(text);
	free(err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_memfd_path(data, size);
	struct fc_roster_entry *r = (void *)1;
	char *err = fuzz_err_buf();
	uint32_t n = 7;
	int rc;

	rc = fc_roster_load(path, &r, &n, err, FUZZ_ERR_LEN);
	if (rc == 0) {
		check_roster(r, n, data, size);
		free(r);
	} else {
		CHECK(r == NULL && n == 0);
		CHECK_MSG(rc == -EINVAL || rc == -ENOMEM, "rc %d: '%s'", rc, err);
		fuzz_check_refusal(err, FUZZ_ERR_LEN, path, rc == -EINVAL, 1,
				   fuzz_count_lines(data, size));
	}
	free(err);
	check_parse_entry(data, size);
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The roster file: which tag each player wears, and the player's team (docs/configuration.md,
 * "Roster file"). The RX lcores map every fix's tag to its player with the table built from it;
 * a tag on two players, or a player on two lines, would make that mapping depend on the order
 * of the file, so both are refused.
 *
 * CSV without quoting: tag_id,player,team[,name]; a line whose first non-blank character is
 * '#' is a comment; a first line starting with the field name tag_id is a header and skipped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_config.h"
#include "config_priv.h"

#define ROSTER_NO_PLAYER 0xffffu /* player and team ids stop at 65534: 65535 is "none" */

/* The line of each entry, kept beside it until the duplicate check has run. */
struct tag_line {
	uint64_t tag;
	uint32_t line;
};

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

/* Decimal, or hex with 0x; the whole string, up to 64 bits. */
static bool
parse_tag(const char *s, uint64_t *out)
{
	int base = 10;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned int)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned int)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned int)(*s - 'A' + 10);
		else
			return false;
		if (v > (UINT64_MAX - d) / (uint64_t)base)
			return false;
		v = v * (uint64_t)base + d;
	}
	*out = v;
	return true;
}

static bool
parse_id(const char *s, uint16_t *out)
{
	uint32_t v = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint32_t)(*s - '0');
		if (v >= ROSTER_NO_PLAYER)
			return false;
	}
	*out = (uint16_t)v;
	return true;
}

static bool
valid_name(const char *s, size_t cap)
{
	size_t len = strlen(s);

	if (len >= cap)
		return false;
	for (; *s != '\0'; s++)
		/* no control characters; no quotes, which would say the CSV expects quoting */
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '"')
			return false;
	return true;
}

static int
cmp_tag_line(const void *a, const void *b)
{
	const struct tag_line *x = a, *y = b;

	if (x->tag != y->tag)
		return x->tag < y->tag ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Reports the tag given twice whose second line comes first in the file, as a reader would. */
static int
check_tags(const char *path, struct tag_line *tl, uint32_t n, char *err, size_t err_len)
{
	uint32_t worst = UINT32_MAX, first = 0;
	uint64_t tag = 0;

	if (n < 2)
		return 0;
	qsort(tl, n, sizeof(*tl), cmp_tag_line);
	for (uint32_t i = 1; i < n; i++)
		if (tl[i].tag == tl[i - 1].tag && tl[i].line < worst) {
			worst = tl[i].line;
			first = tl[i - 1].line;
			tag = tl[i].tag;
		}
	if (worst == UINT32_MAX)
		return 0;
	return fc__fail(err, err_len, -EINVAL, "%s:%u: tag_id 0x%" PRIx64 " already on line %u",
			path, worst, tag, first);
}

/* Parses "tag_id,player,team[,name]"; where ("FILE:LINE") starts every message. */
static int
parse_line(const char *where, char *s, struct fc_roster_entry *e, char *err, size_t err_len)
{
	char *f[5];
	unsigned int nf = 0;

	for (char *p = s;; p++) {
		char *comma = strchr(p, ',');

		if (nf == 5)
			break;
		f[nf++] = p;
		if (comma == NULL)
			break;
		*comma = '\0';
		p = comma;
	}
	if (nf < 3 || nf > 4)
		return fc__fail(err, err_len, -EINVAL,
				"%s: expected 'tag_id,player,team[,name]', got %s fields", where,
				nf < 3 ? "fewer" : "more");
	for (unsigned int i = 0; i < nf; i++)
		f[i] = trim(f[i]);
	memset(e, 0, sizeof(*e));
	if (!parse_tag(f[0], &e->tag_id))
		return fc__fail(
			err, err_len, -EINVAL,
			"%s: tag_id '%s': expected a number up to 64 bits, decimal or 0x-hex",
			where, f[0]);
	if (!parse_id(f[1], &e->player))
		return fc__fail(err, err_len, -EINVAL,
				"%s: player '%s': expected a number from 0 to 65534", where, f[1]);
	if (!parse_id(f[2], &e->team))
		return fc__fail(err, err_len, -EINVAL,
				"%s: team '%s': expected a number from 0 to 65534", where, f[2]);
	if (nf == 4) {
		if (!valid_name(f[3], sizeof(e->name)))
			return fc__fail(err, err_len, -EINVAL,
					"%s: name '%s': expected at most %zu characters, no "
					"quotes or control characters",
					where, f[3], sizeof(e->name) - 1);
		strcpy(e->name, f[3]);
	}
	return 0;
}

int
fc_roster_load(const char *path, struct fc_roster_entry **entries, uint32_t *n, char *err,
	       size_t err_len)
{
	struct fc_roster_entry *ent = NULL;
	struct tag_line *tl = NULL;
	uint32_t *player_line, count = 0, cap = 0;
	char where[FC_CFG_PATH_MAX + 16];
	unsigned int lineno = 0;
	bool first = true;
	char *line = NULL;
	size_t line_cap = 0;
	ssize_t got;
	FILE *f;
	int rc = 0;

	*entries = NULL;
	*n = 0;
	f = fopen(path, "r");
	if (f == NULL)
		return fc__fail(err, err_len, -errno, "%s: cannot open: %s", path, strerror(errno));
	/* the line each player was given on, 0 if not yet: 256 KiB for a direct lookup */
	player_line = calloc(ROSTER_NO_PLAYER, sizeof(*player_line));
	if (player_line == NULL) {
		fclose(f);
		return fc__fail(err, err_len, -ENOMEM, "%s: out of memory", path);
	}
	while ((got = getline(&line, &line_cap, f)) != -1) {
		struct fc_roster_entry e;
		char *s;

		lineno++;
		/* the C string would end at it, and the rest of the line be ignored unseen */
		if (strlen(line) != (size_t)got) {
			rc = fc__fail(err, err_len, -EINVAL, "%s:%u: NUL byte in the line", path,
				      lineno);
			break;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if (first) {
			first = false;
			/* a header line, as spreadsheets write them */
			if (strncmp(s, "tag_id", 6) == 0 && (s[6] == ',' || s[6] == ' '))
				continue;
		}
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		rc = parse_line(where, s, &e, err, err_len);
		if (rc != 0)
			break;
		if (count == FC_CFG_MAX_PLAYERS) {
			rc = fc__fail(err, err_len, -EINVAL, "%s:%u: more than %u entries", path,
				      lineno, FC_CFG_MAX_PLAYERS);
			break;
		}
		if (player_line[e.player] != 0) {
			rc = fc__fail(err, err_len, -EINVAL, "%s:%u: player %u already on line %u",
				      path, lineno, e.player, player_line[e.player]);
			break;
		}
		player_line[e.player] = lineno;
		if (count == cap) {
			uint32_t ncap = cap != 0 ? cap * 2 : 256;
			void *p = realloc(ent, (size_t)ncap * sizeof(*ent));
			void *q = p != NULL ? realloc(tl, (size_t)ncap * sizeof(*tl)) : NULL;

			if (p != NULL)
				ent = p;
			if (q == NULL) {
				rc = fc__fail(err, err_len, -ENOMEM, "%s: out of memory", path);
				break;
			}
			tl = q;
			cap = ncap;
		}
		ent[count] = e;
		tl[count].tag = e.tag_id;
		tl[count].line = lineno;
		count++;
	}
	if (rc == 0 && ferror(f))
		rc = fc__fail(err, err_len, -EIO, "%s: cannot read: %s", path, strerror(errno));
	if (rc == 0)
		rc = check_tags(path, tl, count, err, err_len);
	free(line);
	free(tl);
	free(player_line);
	fclose(f);
	if (rc != 0) {
		free(ent);
		return rc;
	}
	*entries = ent;
	*n = count;
	return 0;
}

int
fc_roster_parse_entry(const char *what, const char *text, struct fc_roster_entry *e, char *err,
		      size_t err_len)
{
	char buf[FC_CFG_ERR_MAX];

	if (strlen(text) >= sizeof(buf))
		return fc__fail(err, err_len, -EINVAL, "%s: too long", what);
	strcpy(buf, text);
	return parse_line(what, trim(buf), e, err, err_len);
}

int
fc_roster_find_tag(const struct fc_roster_entry *r, uint32_t n, uint64_t tag)
{
	for (uint32_t i = 0; i < n; i++)
		if (r[i].tag_id == tag)
			return (int)i;
	return -ENOENT;
}

int
fc_roster_check_add(const struct fc_roster_entry *r, uint32_t n, uint32_t capacity,
		    const struct fc_roster_entry *e, char *err, size_t err_len)
{
	int i = fc_roster_find_tag(r, n, e->tag_id);

	if (i >= 0)
		return fc__fail(err, err_len, -EEXIST,
				"roster add: tag_id 0x%" PRIx64 " is already player %u's",
				e->tag_id, r[i].player);
	if (e->player >= capacity)
		return fc__fail(err, err_len, -ERANGE,
				"roster add: player %u: expected a player id below %u, the "
				"roster's capacity ([roster] capacity)",
				e->player, capacity);
	for (uint32_t k = 0; k < n; k++)
		if (r[k].player == e->player)
			return fc__fail(err, err_len, -EEXIST,
					"roster add: player %u already wears tag_id 0x%" PRIx64,
					e->player, r[k].tag_id);
	if (n >= FC_CFG_MAX_PLAYERS)
		return fc__fail(err, err_len, -ENOSPC, "roster add: the roster has %u entries", n);
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The clue layout file (docs/game.md, "The layout file"): a few `key = value` settings, then one
 * clue per line `clue_id,x_mm,y_mm,radius_mm,points[,respawn_s]`. The operator loads one at start
 * and one per round, while a round may be running: so it is read into a new object, checked
 * whole, and refused with FILE:LINE: REASON, leaving the caller's layout as it was.
 *
 * Control path only: this file allocates, and it is where the rules' constants for the hot path
 * (the probability policy's early accept and reject bounds) are computed once.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_game.h"

/* The settings, in the order docs/game.md lists them. */
enum setting {
	S_POLICY,
	S_SIGMA_K,
	S_THRESHOLD,
	S_DWELL,
	S_DWELL_GAP_MS,
	S_SETTLE_MS,
	S_MAX_SPEED,
	S_TIE_BREAK,
	S_RADIUS_MM,
	S__COUNT,
};

static const char *const setting_name[S__COUNT] = {
	[S_POLICY] = "policy",
	[S_SIGMA_K] = "sigma_k",
	[S_THRESHOLD] = "threshold",
	[S_DWELL] = "dwell",
	[S_DWELL_GAP_MS] = "dwell_gap_ms",
	[S_SETTLE_MS] = "settle_ms",
	[S_MAX_SPEED] = "max_speed_mps",
	[S_TIE_BREAK] = "tie_break",
	[S_RADIUS_MM] = "radius_mm",
};

static const char *const policy_name[] = {
	[FC_GAME_POLICY_DISTANCE] = "distance",
	[FC_GAME_POLICY_CONSERVATIVE] = "conservative",
	[FC_GAME_POLICY_PROBABILITY] = "probability",
};

/* The parser's state across lines. */
struct parse {
	const char *path;
	char *err;
	size_t err_len;
	struct fc_game_layout *l;
	unsigned int set_line[S__COUNT]; /* the line each setting was given on, 0 if not */
	unsigned int first_clue_line;
	uint32_t cap;
};

static int __attribute__((format(printf, 4, 5)))
fail(char *err, size_t err_len, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && err_len > 0) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

const char *
fc_game_policy_name(enum fc_game_policy p)
{
	if ((unsigned int)p >= sizeof(policy_name) / sizeof(policy_name[0]))
		return "?";
	return policy_name[p];
}

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

/* A decimal integer without sign, min..max, the whole string. */
static bool
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
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
	if (v < min)
		return false;
	*out = v;
	return true;
}

/* A decimal number without sign or exponent (1, 0.9, .5): what an operator writes. */
static bool
parse_real(const char *s, double *out)
{
	unsigned int digits = 0, dots = 0;
	char *end;

	for (const char *p = s; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (*p == '.')
			dots++;
		else
			return false;
	}
	if (digits == 0 || dots > 1)
		return false;
	*out = strtod(s, &end);
	return *end == '\0' && isfinite(*out);
}

/* Phi^-1(p) for 0.5 <= p < 1, by bisection on erfc: the control path can afford exactness. */
static double
normal_quantile(double p)
{
	double lo = 0.0, hi = 40.0;

	for (int i = 0; i < 200 && hi - lo > 1e-15; i++) {
		double mid = (lo + hi) / 2;

		if (0.5 * erfc(-mid / M_SQRT2) < p)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static int
parse_setting(struct parse *ps, unsigned int lineno, char *s, char *eq)
{
	struct fc_game_rules *r = &ps->l->rules;
	char *key, *val;
	unsigned int k;
	uint64_t u;
	double d;

	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	for (k = 0; k < S__COUNT; k++)
		if (strcmp(key, setting_name[k]) == 0)
			break;
	if (k == S__COUNT)
		return fail(ps->err, ps->err_len, -EINVAL,
			    "%s:%u: unknown setting '%s': expected one of policy, sigma_k, "
			    "threshold, dwell, dwell_gap_ms, settle_ms, max_speed_mps, tie_break, "
			    "radius_mm",
			    ps->path, lineno, key);
	if (ps->first_clue_line != 0)
		return fail(
			ps->err, ps->err_len, -EINVAL,
			"%s:%u: setting '%s' after the first clue (line %u): settings come first",
			ps->path, lineno, key, ps->first_clue_line);
	if (ps->set_line[k] != 0)
		return fail(ps->err, ps->err_len, -EINVAL, "%s:%u: '%s' already set on line %u",
			    ps->path, lineno, key, ps->set_line[k]);
	ps->set_line[k] = lineno;

	switch (k) {
	case S_POLICY:
		for (unsigned int p = 0; p < sizeof(policy_name) / sizeof(policy_name[0]); p++)
			if (strcmp(val, policy_name[p]) == 0) {
				r->policy = (enum fc_game_policy)p;
				return 0;
			}
		return fail(ps->err, ps->err_len, -EINVAL,
			    "%s:%u: policy = '%s': expected distance, conservative or probability",
			    ps->path, lineno, val);
	case S_SIGMA_K:
		if (!parse_real(val, &d) || d <= 0 || d > 10)
			return fail(ps->err, ps->err_len, -EINVAL,
				    "%s:%u: sigma_k = '%s': expected a number above 0, at most 10",
				    ps->path, lineno, val);
		r->sigma_k = d;
		return 0;
	case S_THRESHOLD:
		/* below 0.5 "qualified" would mean "more likely outside than inside" */
		if (!parse_real(val, &d) || d < 0.5 || d > 0.999999)
			return fail(ps->err, ps->err_len, -EINVAL,
				    "%s:%u: threshold = '%s': expected a probability from 0.5 to "
				    "0.999999",
				    ps->path, lineno, val);
		r->threshold = d;
		return 0;
	case S_DWELL:
		if (!parse_uint(val, 1, FC_GAME_DWELL_MAX, &u))
			return fail(ps->err, ps->err_len, -EINVAL,
				    "%s:%u: dwell = '%s': expected a number of fixes from 1 to %u",
				    ps->path, lineno, val, FC_GAME_DWELL_MAX);
		r->dwell = (uint32_t)u;
		return 0;
	case S_DWELL_GAP_MS:
		if (!parse_uint(val, 1, FC_GAME_DWELL_GAP_MAX_MS, &u))
			return fail(
				ps->err, ps->err_len, -EINVAL,
				"%s:%u: dwell_gap_ms = '%s': expected milliseconds from 1 to %u",
				ps->path, lineno, val, FC_GAME_DWELL_GAP_MAX_MS);
		r->dwell_gap_ns = u * 1000000u;
		return 0;
	case S_SETTLE_MS:
		if (!parse_uint(val, 0, 10000, &u))
			return fail(
				ps->err, ps->err_len, -EINVAL,
				"%s:%u: settle_ms = '%s': expected milliseconds from 0 to 10000",
				ps->path, lineno, val);
		r->settle_ns = u * 1000000u;
		return 0;
	case S_MAX_SPEED:
		if (!parse_real(val, &d) || d <= 0 || d > 100)
			return fail(
				ps->err, ps->err_len, -EINVAL,
				"%s:%u: max_speed_mps = '%s': expected metres per second above 0, "
				"at most 100",
				ps->path, lineno, val);
		r->max_speed_mps = d;
		return 0;
	case S_TIE_BREAK:
		if (strcmp(val, "distance_then_player") != 0)
			return fail(
				ps->err, ps->err_len, -EINVAL,
				"%s:%u: tie_break = '%s': expected distance_then_player (the one "
				"rule, docs/game.md)",
				ps->path, lineno, val);
		r->tie_break = FC_GAME_TIE_DISTANCE_THEN_PLAYER;
		return 0;
	case S_RADIUS_MM:
		if (!parse_uint(val, 1, FC_GAME_RADIUS_MAX_MM, &u))
			return fail(ps->err, ps->err_len, -EINVAL,
				    "%s:%u: radius_mm = '%s': expected millimetres from 1 to %u",
				    ps->path, lineno, val, FC_GAME_RADIUS_MAX_MM);
		r->default_radius_mm = (uint32_t)u;
		return 0;
	}
	return -EINVAL; /* not reached: k < S__COUNT */
}

static int
parse_clue(struct parse *ps, unsigned int lineno, char *s)
{
	static const char *const what[6] = { "clue_id",   "x_mm",   "y_mm",
					     "radius_mm", "points", "respawn_s" };
	static const uint64_t lo[6] = { 1, 0, 0, 1, 0, 0 };
	static const uint64_t hi[6] = { UINT32_MAX,           FC_GAME_COORD_MAX_MM,
					FC_GAME_COORD_MAX_MM, FC_GAME_RADIUS_MAX_MM,
					FC_GAME_POINTS_MAX,   FC_GAME_RESPAWN_MAX_S };
	struct fc_game_layout *l = ps->l;
	struct fc_game_clue *c;
	uint64_t v[6] = { 0 };
	char *f[7];
	unsigned int nf = 0;

	for (char *p = s;;) {
		char *comma = strchr(p, ',');

		if (nf == 7)
			break;
		f[nf++] = p;
		if (comma == NULL)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	if (nf < 5 || nf > 6)
		return fail(ps->err, ps->err_len, -EINVAL,
			    "%s:%u: expected 'clue_id,x_mm,y_mm,radius_mm,points[,respawn_s]', got "
			    "%s fields",
			    ps->path, lineno, nf < 5 ? "fewer" : "more");
	v[3] = l->rules.default_radius_mm; /* an empty radius takes the layout's */
	for (unsigned int i = 0; i < nf; i++) {
		f[i] = trim(f[i]);
		if (f[i][0] == '\0' && (i == 3 || i == 5))
			continue;
		if (!parse_uint(f[i], lo[i], hi[i], &v[i]))
			return fail(ps->err, ps->err_len, -EINVAL,
				    "%s:%u: %s '%s': expected a number from %llu to %llu%s",
				    ps->path, lineno, what[i], f[i], (unsigned long long)lo[i],
				    (unsigned long long)hi[i],
				    i == 3 || i == 5 ? ", or nothing for the default" : "");
	}
	if (ps->first_clue_line == 0)
		ps->first_clue_line = lineno;
	if (l->n_clues == FC_GAME_MAX_CLUES)
		return fail(ps->err, ps->err_len, -EINVAL, "%s:%u: more than %u clues", ps->path,
			    lineno, FC_GAME_MAX_CLUES);
	if (l->n_clues == ps->cap) {
		uint32_t ncap = ps->cap != 0 ? ps->cap * 2 : 64;
		void *p = realloc(l->clues, (size_t)ncap * sizeof(*l->clues));

		if (p == NULL)
			return fail(ps->err, ps->err_len, -ENOMEM, "%s: out of memory", ps->path);
		l->clues = p;
		ps->cap = ncap;
	}
	c = &l->clues[l->n_clues++];
	*c = (struct fc_game_clue){ .clue_id = (uint32_t)v[0],
				    .x_mm = (int32_t)v[1],
				    .y_mm = (int32_t)v[2],
				    .radius_mm = (uint32_t)v[3],
				    .points = (uint32_t)v[4],
				    .respawn_s = (uint32_t)v[5],
				    .line = lineno };
	return 0;
}

static int
cmp_clue(const void *a, const void *b)
{
	const struct fc_game_clue *x = a, *y = b;

	if (x->clue_id != y->clue_id)
		return x->clue_id < y->clue_id ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Sorts by id and reports the id given twice whose second line comes first, as a reader would. */
static int
check_ids(struct parse *ps)
{
	struct fc_game_layout *l = ps->l;
	uint32_t worst = UINT32_MAX, first = 0, id = 0;

	qsort(l->clues, l->n_clues, sizeof(*l->clues), cmp_clue);
	for (uint32_t i = 1; i < l->n_clues; i++)
		if (l->clues[i].clue_id == l->clues[i - 1].clue_id && l->clues[i].line < worst) {
			worst = l->clues[i].line;
			first = l->clues[i - 1].line;
			id = l->clues[i].clue_id;
		}
	if (worst == UINT32_MAX)
		return 0;
	return fail(ps->err, ps->err_len, -EINVAL, "%s:%u: clue_id %u already on line %u", ps->path,
		    worst, id, first);
}

static int
parse_line(struct parse *ps, unsigned int lineno, char *line, size_t len)
{
	char *s, *hash, *eq;

	if (strlen(line) != len)
		return fail(ps->err, ps->err_len, -EINVAL, "%s:%u: NUL byte in the line", ps->path,
			    lineno);
	/* no quoting in this format, so a '#' always starts a comment */
	hash = strchr(line, '#');
	if (hash != NULL)
		*hash = '\0';
	s = trim(line);
	if (*s == '\0')
		return 0;
	eq = strchr(s, '=');
	if (eq != NULL)
		return parse_setting(ps, lineno, s, eq);
	if (strchr(s, ',') != NULL)
		return parse_clue(ps, lineno, s);
	return fail(ps->err, ps->err_len, -EINVAL,
		    "%s:%u: '%s': expected 'key = value' or "
		    "'clue_id,x_mm,y_mm,radius_mm,points[,respawn_s]'",
		    ps->path, lineno, s);
}

int
fc_game_layout_load(const char *path, struct fc_game_layout **out, char *err, size_t err_len)
{
	struct parse ps = { .path = path, .err = err, .err_len = err_len };
	struct fc_game_layout *l;
	unsigned int lineno = 0;
	char *line = NULL;
	size_t line_cap = 0;
	ssize_t n;
	FILE *f;
	int rc = 0;

	*out = NULL;
	f = fopen(path, "r");
	if (f == NULL)
		return fail(err, err_len, -errno, "%s: cannot open: %s", path, strerror(errno));
	l = calloc(1, sizeof(*l));
	if (l == NULL) {
		fclose(f);
		return fail(err, err_len, -ENOMEM, "%s: out of memory", path);
	}
	l->rules = (struct fc_game_rules){ .policy = FC_GAME_POLICY_DISTANCE,
					   .tie_break = FC_GAME_TIE_DISTANCE_THEN_PLAYER,
					   .sigma_k = FC_GAME_DEF_SIGMA_K,
					   .threshold = FC_GAME_DEF_THRESHOLD,
					   .dwell = FC_GAME_DEF_DWELL,
					   .default_radius_mm = FC_GAME_DEF_RADIUS_MM,
					   .dwell_gap_ns = FC_GAME_DEF_DWELL_GAP_MS * 1000000ull,
					   .settle_ns = FC_GAME_DEF_SETTLE_MS * 1000000ull,
					   .max_speed_mps = FC_GAME_DEF_MAX_SPEED };
	ps.l = l;
	while ((n = getline(&line, &line_cap, f)) != -1) {
		lineno++;
		rc = parse_line(&ps, lineno, line, (size_t)n);
		if (rc != 0)
			break;
	}
	if (rc == 0 && ferror(f))
		rc = fail(err, err_len, -EIO, "%s: cannot read: %s", path, strerror(errno));
	/* the policy has no default: which one fits depends on the tags (docs/game.md) */
	if (rc == 0 && ps.set_line[S_POLICY] == 0)
		rc = fail(err, err_len, -EINVAL,
			  "%s:%u: no 'policy' setting: expected policy = distance, conservative "
			  "or probability before the clues",
			  path, ps.first_clue_line != 0 ? ps.first_clue_line : lineno);
	if (rc == 0 && l->n_clues == 0)
		rc = fail(err, err_len, -EINVAL, "%s:%u: no clues", path, lineno);
	if (rc == 0)
		rc = check_ids(&ps);
	free(line);
	fclose(f);
	if (rc != 0) {
		fc_game_layout_free(l);
		return rc;
	}
	l->rules.accept_k2 = -2.0 * log1p(-l->rules.threshold);
	l->rules.reject_z = normal_quantile(l->rules.threshold);
	*out = l;
	return 0;
}

int
fc_game_layout_check_floor(const struct fc_game_layout *l, const char *path, uint32_t width_mm,
			   uint32_t height_mm, char *err, size_t err_len)
{
	const struct fc_game_clue *bad = NULL;

	/* The clue a reader meets first: clues are sorted by id, the message names a line. */
	for (uint32_t i = 0; i < l->n_clues; i++) {
		const struct fc_game_clue *c = &l->clues[i];

		if (((uint32_t)c->x_mm >= width_mm || (uint32_t)c->y_mm >= height_mm) &&
		    (bad == NULL || c->line < bad->line))
			bad = c;
	}
	if (bad == NULL)
		return 0;
	return fail(err, err_len, -EINVAL,
		    "%s:%u: clue %u at (%d, %d) mm is outside the floor (%u x %u mm)", path,
		    bad->line, bad->clue_id, bad->x_mm, bad->y_mm, width_mm, height_mm);
}

void
fc_game_layout_free(struct fc_game_layout *l)
{
	if (l == NULL)
		return;
	free(l->clues);
	free(l);
}

int
fc_game_layout_find(const struct fc_game_layout *l, uint32_t clue_id)
{
	uint32_t lo = 0, hi = l->n_clues;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (l->clues[mid].clue_id < clue_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < l->n_clues && l->clues[lo].clue_id == clue_id)
		return (int)lo;
	return -ENOENT;
}

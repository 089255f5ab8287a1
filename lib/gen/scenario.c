/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The scenario file (docs/floorgen.md): what a run of floorgen looks like, as an INI file of
 * sections and keys, read into struct fc_gen_params. A small reader of its own rather than
 * lib/config's (rte_cfgfile): a bad line is reported as FILE:LINE: reason, and the same table
 * of keys serves floorgen's --set SECTION.KEY=VALUE, so that every key of the file can be
 * overridden from the command line.
 *
 * Syntax: '[section]' lines, 'key = value' lines, '#' or ';' comments (on their own line or
 * after a value), blank lines; CR LF accepted. Unknown sections and keys are refused, and so is
 * a key given twice (naming the first line). Paths are relative to the file's directory.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "gen_priv.h"

enum kind {
	K_U32,     /* decimal integer, min .. max */
	K_U64,     /* decimal or 0x hex, min .. max */
	K_DOUBLE,  /* decimal number, min .. max */
	K_MM,      /* metres, min .. max (in m), into a uint32_t of mm */
	K_MS_NS,   /* milliseconds min .. max, into a uint64_t of ns */
	K_BOOL,    /* yes/no, true/false, on/off, 1/0 */
	K_ENUM,    /* one of names[], its index into an int-sized enum */
	K_PATH,    /* a path, relative to the file's directory */
	K_IPV4,    /* dotted quad, into a uint32_t in host order */
	K_PORT,    /* 1 .. 65535 into a uint16_t */
	K_U32LIST, /* comma-separated integers (hot spots) */
	K_TEAMS,   /* comma-separated TEAM:HZ pairs */
};

struct key {
	const char *section;
	const char *name;
	enum kind kind;
	size_t off; /* into struct fc_gen_scenario */
	double min, max;
	const char *const *names; /* K_ENUM */
};

static const char *const kinds[] = { "normal", "crowded", "hostile", NULL };
static const char *const macs[] = { "first", "hmac", "siphash", NULL };
static const char *const noises[] = { "none", "uwb", "ble_aoa", NULL };
static const char *const covers[] = { "stripes", "grid", NULL };

static char *trim(char *s);
static int fail_at(char *err, size_t err_len, const char *path, unsigned int line, const char *fmt,
		   ...) __attribute__((format(printf, 5, 6)));

#define P(f) offsetof(struct fc_gen_scenario_file, p.f)
#define S(f) offsetof(struct fc_gen_scenario_file, f)

static const struct key keys[] = {
	{ "scenario", "players", K_U32, P(n_players), 1, FC_CFG_MAX_PLAYERS, NULL },
	{ "scenario", "gateways", K_U32, P(n_gateways), 1, 65535, NULL },
	{ "scenario", "seconds", K_DOUBLE, P(seconds), 0.01, 86400, NULL },
	{ "scenario", "rate_hz", K_DOUBLE, P(rate_hz), 0.1, 1000, NULL },
	{ "scenario", "seed", K_U64, P(seed), 0, (double)UINT64_MAX, NULL },
	{ "scenario", "width_m", K_MM, P(width_mm), 0.201, 655.35, NULL },
	{ "scenario", "height_m", K_MM, P(height_mm), 0.201, 655.35, NULL },
	{ "scenario", "start_ns", K_U64, P(start_ns), 0, (double)(UINT64_MAX / 2), NULL },
	{ "scenario", "kind", K_ENUM, S(kind), 0, 0, kinds },
	{ "scenario", "mac", K_ENUM, S(mac), 0, 0, macs },
	{ "scenario", "roster", K_PATH, S(roster), 0, 0, NULL },
	{ "scenario", "keys", K_PATH, S(keys), 0, 0, NULL },
	{ "scenario", "dst_ip", K_IPV4, P(dst_ip), 0, 0, NULL },
	{ "scenario", "dst_port", K_PORT, P(dst_port), 0, 0, NULL },
	{ "scenario", "clock_bound_ms", K_MS_NS, P(clock_bound_ns), 1, 3600000, NULL },
	{ "rates", "teams", K_TEAMS, P(team_rates), 0.1, 1000, NULL },
	{ "rates", "fraction", K_DOUBLE, P(rate_fraction), 0, 1, NULL },
	{ "rates", "fraction_hz", K_DOUBLE, P(fraction_hz), 0, 1000, NULL },
	{ "movement", "speed_min_mps", K_DOUBLE, P(speed_min_mps), 0.05, 10, NULL },
	{ "movement", "speed_max_mps", K_DOUBLE, P(speed_max_mps), 0.05, 10, NULL },
	{ "movement", "pause_probability", K_DOUBLE, P(pause_prob), 0, 1, NULL },
	{ "movement", "pause_min_s", K_DOUBLE, P(pause_min_s), 0.01, 3600, NULL },
	{ "movement", "pause_max_s", K_DOUBLE, P(pause_max_s), 0.01, 3600, NULL },
	{ "clues", "layout", K_PATH, S(layout_path), 0, 0, NULL },
	{ "clues", "attraction", K_DOUBLE, P(attraction), 0, 1, NULL },
	{ "clues", "hot_spots", K_U32LIST, P(hot_spots), 1, UINT32_MAX, NULL },
	{ "clues", "hot_weight", K_DOUBLE, P(hot_weight), 1, 1e6, NULL },
	{ "clues", "pause_min_s", K_DOUBLE, P(clue_pause_min_s), 0.01, 3600, NULL },
	{ "clues", "pause_max_s", K_DOUBLE, P(clue_pause_max_s), 0.01, 3600, NULL },
	{ "clues", "approach_mm", K_U32, P(approach_mm), 0, 10000, NULL },
	{ "noise", "profile", K_ENUM, P(noise), 0, 0, noises },
	{ "noise", "sigma_mm", K_DOUBLE, P(noise_sigma_mm), 0, 10000, NULL },
	{ "gateways", "coverage", K_ENUM, P(coverage), 0, 0, covers },
	{ "gateways", "cols", K_U32, P(grid_cols), 1, 1024, NULL },
	{ "gateways", "rows", K_U32, P(grid_rows), 1, 1024, NULL },
	{ "gateways", "overlap_mm", K_U32, P(overlap_mm), 0, 100000, NULL },
	{ "clock", "skew_ms", K_DOUBLE, P(skew_ms), 0, 3600000, NULL },
	{ "clock", "drift_ppm", K_DOUBLE, P(drift_ppm), 0, 1000, NULL },
	{ "impairments", "loss_pct", K_DOUBLE, P(loss_pct), 0, 100, NULL },
	{ "impairments", "duplicate_pct", K_DOUBLE, P(dup_pct), 0, 100, NULL },
	{ "impairments", "reorder_pct", K_DOUBLE, P(reorder_pct), 0, 100, NULL },
	{ "impairments", "reorder_window_ms", K_DOUBLE, P(reorder_ms), 1, 1000, NULL },
	{ "impairments", "late_pct", K_DOUBLE, P(late_pct), 0, 100, NULL },
	{ "impairments", "late_ms", K_DOUBLE, P(late_ms), 1, 120000, NULL },
	{ "hostile", "enabled", K_BOOL, S(hostile), 0, 0, NULL },
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static_assert(N_KEYS <= 64, "seen_line has room for every key");

void
fc_gen_scenario_init(struct fc_gen_scenario_file *s)
{
	memset(s, 0, sizeof(*s));
	fc_gen_params_init(&s->p);
}

void
fc_gen_scenario_free(struct fc_gen_scenario_file *s)
{
	fc_game_layout_free(s->layout);
	s->layout = NULL;
	s->p.layout = NULL;
}

static const struct key *
find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static bool
section_known(const char *section)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(keys[i].section, section) == 0)
			return true;
	return false;
}

/* "a, b or c" of names[] */
static void
list_names(const char *const *names, char *buf, size_t len)
{
	size_t n = 0, used = 0;

	while (names[n] != NULL)
		n++;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i == 0       ? ""
					 : i + 1 == n ? " or "
						      : ", ",
					 names[i]);
}

static int
parse_double(const char *v, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	return errno != 0 || end == v || *end != '\0' || !isfinite(*out) ? -EINVAL : 0;
}

static int
parse_u64(const char *v, uint64_t *out)
{
	char *end;

	if (*v == '-' || *v == '+' || *v == '\0')
		return -EINVAL;
	errno = 0;
	*out = strtoull(v, &end, strncmp(v, "0x", 2) == 0 || strncmp(v, "0X", 2) == 0 ? 16 : 10);
	return errno != 0 || end == v || *end != '\0' ? -EINVAL : 0;
}

/* The file's directory joined with a relative path (absolute paths stay as they are). */
static int
join_path(const char *base_file, const char *v, char *out, size_t len)
{
	const char *slash = base_file != NULL ? strrchr(base_file, '/') : NULL;
	int n;

	if (v[0] == '/' || slash == NULL)
		n = snprintf(out, len, "%s", v);
	else
		n = snprintf(out, len, "%.*s/%s", (int)(slash - base_file), base_file, v);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Sets one key; on error writes the reason (without the location) to why. */
static int
set_key(struct fc_gen_scenario_file *s, const struct key *k, const char *v, const char *base_file,
	char *why, size_t why_len)
{
	char *dst = (char *)s + k->off;
	char names[128];
	uint64_t u;
	double d;

	switch (k->kind) {
	case K_U32:
	case K_U64:
		if (parse_u64(v, &u) != 0 || (double)u < k->min || (double)u > k->max) {
			if (k->kind == K_U32)
				snprintf(why, why_len,
					 "%s = '%s': expected an integer %.0f .. %.0f", k->name, v,
					 k->min, k->max);
			else
				snprintf(why, why_len, "%s = '%s': expected an unsigned integer",
					 k->name, v);
			return -EINVAL;
		}
		if (k->kind == K_U32)
			*(uint32_t *)dst = (uint32_t)u;
		else
			*(uint64_t *)dst = u;
		return 0;
	case K_DOUBLE:
	case K_MM:
	case K_MS_NS:
		if (parse_double(v, &d) != 0 || d < k->min || d > k->max) {
			snprintf(why, why_len, "%s = '%s': expected a number %g .. %g", k->name, v,
				 k->min, k->max);
			return -EINVAL;
		}
		if (k->kind == K_DOUBLE)
			*(double *)dst = d;
		else if (k->kind == K_MM)
			*(uint32_t *)dst = (uint32_t)llround(d * 1000);
		else
			*(uint64_t *)dst = (uint64_t)llround(d * 1e6);
		return 0;
	case K_BOOL:
		if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "on") == 0 ||
		    strcmp(v, "1") == 0) {
			*(bool *)dst = true;
		} else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
			   strcmp(v, "off") == 0 || strcmp(v, "0") == 0) {
			*(bool *)dst = false;
		} else {
			snprintf(why, why_len, "%s = '%s': expected yes or no", k->name, v);
			return -EINVAL;
		}
		return 0;
	case K_ENUM:
		for (int i = 0; k->names[i] != NULL; i++)
			if (strcmp(v, k->names[i]) == 0) {
				*(int *)dst = i;
				return 0;
			}
		list_names(k->names, names, sizeof(names));
		snprintf(why, why_len, "%s = '%s': expected %s", k->name, v, names);
		return -EINVAL;
	case K_PATH:
		if (*v == '\0' || join_path(base_file, v, dst, PATH_MAX) != 0) {
			snprintf(why, why_len, "%s = '%s': expected a path", k->name, v);
			return -EINVAL;
		}
		return 0;
	case K_IPV4: {
		struct in_addr in;

		if (inet_pton(AF_INET, v, &in) != 1) {
			snprintf(why, why_len, "%s = '%s': expected an IPv4 address", k->name, v);
			return -EINVAL;
		}
		*(uint32_t *)dst = ntohl(in.s_addr);
		return 0;
	}
	case K_PORT:
		if (parse_u64(v, &u) != 0 || u == 0 || u > 65535) {
			snprintf(why, why_len, "%s = '%s': expected a port 1 .. 65535", k->name, v);
			return -EINVAL;
		}
		*(uint16_t *)dst = (uint16_t)u;
		return 0;
	case K_U32LIST: {
		char buf[256], *save = NULL, *tok;
		uint32_t n = 0;

		if (strlen(v) >= sizeof(buf))
			goto bad_list;
		strcpy(buf, v);
		for (tok = strtok_r(buf, ",", &save); tok != NULL;
		     tok = strtok_r(NULL, ",", &save)) {
			while (*tok == ' ' || *tok == '\t')
				tok++;
			for (char *e = tok + strlen(tok);
			     e > tok && (e[-1] == ' ' || e[-1] == '\t');)
				*--e = '\0';
			if (n == FC_GEN_MAX_HOT_SPOTS || parse_u64(tok, &u) != 0 || u == 0 ||
			    u > UINT32_MAX)
				goto bad_list;
			s->p.hot_spots[n++] = (uint32_t)u;
		}
		if (n == 0)
			goto bad_list;
		s->p.n_hot_spots = n;
		return 0;
	bad_list:
		snprintf(why, why_len, "%s = '%s': expected 1 .. %u clue ids, comma-separated",
			 k->name, v, FC_GEN_MAX_HOT_SPOTS);
		return -EINVAL;
	}
	case K_TEAMS: {
		char buf[512], *save = NULL, *tok, *colon;
		uint32_t n = 0;

		if (strlen(v) >= sizeof(buf))
			goto bad_teams;
		strcpy(buf, v);
		for (tok = strtok_r(buf, ",", &save); tok != NULL;
		     tok = strtok_r(NULL, ",", &save)) {
			colon = strchr(tok, ':');
			if (n == FC_GEN_MAX_TEAM_RATES || colon == NULL)
				goto bad_teams;
			*colon = '\0';
			if (parse_u64(trim(tok), &u) != 0 || u > 65534 ||
			    parse_double(trim(colon + 1), &d) != 0 || d < k->min || d > k->max)
				goto bad_teams;
			for (uint32_t i = 0; i < n; i++)
				if (s->p.team_rates[i].team == u)
					goto bad_teams;
			s->p.team_rates[n++] =
				(struct fc_gen_team_rate){ .team = (uint16_t)u, .hz = d };
		}
		if (n == 0)
			goto bad_teams;
		s->p.n_team_rates = n;
		return 0;
	bad_teams:
		snprintf(why, why_len,
			 "%s = '%s': expected 1 .. %u TEAM:HZ pairs, comma-separated, each team "
			 "once, 0.1 .. 1000 Hz",
			 k->name, v, FC_GEN_MAX_TEAM_RATES);
		return -EINVAL;
	}
	}
	return -EINVAL;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* What the keys together must satisfy, and the layout, once every key is read. */
static int
finish(struct fc_gen_scenario_file *s, const char *where, char *err, size_t err_len)
{
	if (s->hostile && s->kind == FC_GEN_CROWDED) {
		snprintf(err, err_len,
			 "%s: [hostile] enabled with kind = crowded: the hostile "
			 "classes ride a normal game",
			 where);
		return -EINVAL;
	}
	s->p.scenario = s->hostile ? FC_GEN_HOSTILE : (enum fc_gen_scenario)s->kind;
	s->p.mac_alg = s->mac == 1 ? FC_MAC_HMAC_SHA256_128 : s->mac == 2 ? FC_MAC_SIPHASH24 : 0;
	if (s->layout_path[0] != '\0' &&
	    (s->layout == NULL || strcmp(s->layout_path, s->layout_loaded) != 0)) {
		char why[FC_CFG_ERR_MAX];
		int rc;

		fc_game_layout_free(s->layout);
		s->layout = NULL;
		rc = fc_game_layout_load(s->layout_path, &s->layout, why, sizeof(why));
		if (rc != 0) {
			snprintf(err, err_len, "%s: [clues] layout: %s", where, why);
			return rc;
		}
		snprintf(s->layout_loaded, sizeof(s->layout_loaded), "%s", s->layout_path);
	}
	s->p.layout = s->layout;
	if (s->p.attraction > 0 && s->layout == NULL) {
		snprintf(err, err_len, "%s: [clues] attraction without a layout", where);
		return -EINVAL;
	}
	return 0;
}

int
fc_gen_scenario_load(struct fc_gen_scenario_file *s, const char *path, char *err, size_t err_len)
{
	FILE *f = fopen(path, "r");
	char line[1024], section[32] = "";
	unsigned int lineno = 0, seen_line[N_KEYS] = { 0 };
	int rc = 0;

	if (f == NULL) {
		rc = -errno;
		snprintf(err, err_len, "%s: %s", path, strerror(-rc));
		return rc;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *l, *eq, *name, *value, *c, why[512];
		const struct key *k;
		size_t len = strlen(line);

		lineno++;
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			rc = fail_at(err, err_len, path, lineno, "line too long");
			break;
		}
		/* a comment runs to the end of the line; values never hold '#' or ';' */
		c = strpbrk(line, "#;");
		if (c != NULL)
			*c = '\0';
		l = trim(line);
		if (*l == '\0')
			continue;
		if (*l == '[') {
			char *e = strchr(l, ']');

			if (e == NULL || e[1] != '\0' || e - l - 1 <= 0 ||
			    (size_t)(e - l - 1) >= sizeof(section)) {
				rc = fail_at(err, err_len, path, lineno, "a section is [name]");
				break;
			}
			*e = '\0';
			snprintf(section, sizeof(section), "%s", trim(l + 1));
			if (!section_known(section))
				rc = fail_at(err, err_len, path, lineno, "unknown section [%s]",
					     section);
			continue;
		}
		eq = strchr(l, '=');
		if (eq == NULL) {
			rc = fail_at(err, err_len, path, lineno,
				     "expected [section] or key = value");
			break;
		}
		*eq = '\0';
		name = trim(l);
		value = trim(eq + 1);
		if (section[0] == '\0') {
			rc = fail_at(err, err_len, path, lineno, "%s before any [section]", name);
			break;
		}
		k = find_key(section, name);
		if (k == NULL) {
			rc = fail_at(err, err_len, path, lineno, "unknown key %s in [%s]", name,
				     section);
			break;
		}
		if (seen_line[k - keys] != 0) {
			rc = fail_at(err, err_len, path, lineno,
				     "[%s] %s given twice (first on line %u)", section, name,
				     seen_line[k - keys]);
			break;
		}
		seen_line[k - keys] = lineno;
		rc = set_key(s, k, value, path, why, sizeof(why));
		if (rc != 0)
			fail_at(err, err_len, path, lineno, "[%s] %s", section, why);
	}
	if (rc == 0 && ferror(f)) {
		rc = -EIO;
		snprintf(err, err_len, "%s: read error", path);
	}
	fclose(f);
	if (rc != 0)
		return rc;
	if (seen_line[find_key("scenario", "width_m") - keys] == 0 &&
	    seen_line[find_key("scenario", "height_m") - keys] != 0)
		return fail_at(err, err_len, path, 0, "height_m without width_m");
	return finish(s, path, err, err_len);
}

int
fc_gen_scenario_set(struct fc_gen_scenario_file *s, const char *assignment, char *err,
		    size_t err_len)
{
	char buf[512], why[512], *dot, *eq;
	const struct key *k;
	int rc;

	if (strlen(assignment) >= sizeof(buf)) {
		snprintf(err, err_len, "--set %s: too long", assignment);
		return -EINVAL;
	}
	strcpy(buf, assignment);
	dot = strchr(buf, '.');
	eq = strchr(buf, '=');
	if (dot == NULL || eq == NULL || dot > eq) {
		snprintf(err, err_len, "--set %s: expected SECTION.KEY=VALUE", assignment);
		return -EINVAL;
	}
	*dot = '\0';
	*eq = '\0';
	k = find_key(trim(buf), trim(dot + 1));
	if (k == NULL) {
		snprintf(err, err_len, "--set %s: unknown key %s in [%s]", assignment,
			 trim(dot + 1), trim(buf));
		return -EINVAL;
	}
	/* relative paths from the working directory, as for every other option */
	rc = set_key(s, k, trim(eq + 1), NULL, why, sizeof(why));
	if (rc != 0) {
		snprintf(err, err_len, "--set [%s] %s", k->section, why);
		return rc;
	}
	return finish(s, "--set", err, err_len);
}

void
fc_gen_scenario_describe(FILE *out)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key *k = &keys[i];
		char what[128], full[64];

		switch (k->kind) {
		case K_U32:
			snprintf(what, sizeof(what), "integer %.0f .. %.0f", k->min, k->max);
			break;
		case K_U64:
			snprintf(what, sizeof(what), "integer, decimal or 0x hex, %s",
				 k->max > 0x1p63 ? "64 bits" : "63 bits");
			break;
		case K_DOUBLE:
			snprintf(what, sizeof(what), "number %g .. %g", k->min, k->max);
			break;
		case K_MM:
			snprintf(what, sizeof(what), "metres %g .. %g", k->min, k->max);
			break;
		case K_MS_NS:
			snprintf(what, sizeof(what), "ms %.0f .. %.0f", k->min, k->max);
			break;
		case K_BOOL:
			snprintf(what, sizeof(what), "yes or no");
			break;
		case K_ENUM:
			list_names(k->names, what, sizeof(what));
			break;
		case K_PATH:
			snprintf(what, sizeof(what), "a path (from the file's directory)");
			break;
		case K_IPV4:
			snprintf(what, sizeof(what), "an IPv4 address");
			break;
		case K_PORT:
			snprintf(what, sizeof(what), "a port 1 .. 65535");
			break;
		case K_U32LIST:
			snprintf(what, sizeof(what), "clue ids, comma-separated (up to %u)",
				 FC_GEN_MAX_HOT_SPOTS);
			break;
		case K_TEAMS:
			snprintf(what, sizeof(what), "TEAM:HZ, comma-separated (up to %u)",
				 FC_GEN_MAX_TEAM_RATES);
			break;
		}
		snprintf(full, sizeof(full), "%s.%s", k->section, k->name);
		fprintf(out, "  %-30s %s\n", full, what);
	}
}

static int
fail_at(char *err, size_t err_len, const char *path, unsigned int line, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(err, err_len, "%s:%u: %s", path, line, why);
	else
		snprintf(err, err_len, "%s: %s", path, why);
	return -EINVAL;
}

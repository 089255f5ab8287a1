/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The INI reader behind the floor file and the drivers-cfg profiles: rte_cfgfile does the
 * parsing, this file makes it strict. See config_priv.h.
 *
 * rte_cfgfile (DPDK 22.11) reports syntax errors only to the DPDK log, never to its caller, and
 * accepts some mistakes without a word: a line with neither '[' nor '=' (say "tick_ms 40") is
 * skipped, text after a section's ']' is dropped, a section or key given twice is kept twice
 * (lookups then see only the first), and names over 63 or values over 255 characters are cut
 * short. A first pass over the file (lint()) therefore refuses all of these with the file and
 * line, before rte_cfgfile reads it; the table pass then refuses unknown sections and keys.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_config.h>
#include <rte_cfgfile.h>

#include "fc_config.h"
#include "config_priv.h"

/* rte_cfgfile reads a line into CFG_NAME_LEN + CFG_VALUE_LEN + 4 bytes with fgets() and refuses
 * it if the newline does not fit: 322 bytes before the newline is the longest line it takes. */
#define INI_LINE_MAX (CFG_NAME_LEN + CFG_VALUE_LEN + 2)

/* ';' is rte_cfgfile's default; one character only, so '#' is refused with a hint (lint()). */
#define INI_COMMENT ';'

int
fc__fail(char *err, size_t err_len, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && err_len > 0) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Trims s[0, *len) in place as rte_cfgfile's _strip() does; returns the new start. */
static char *
trim(char *s, size_t *len)
{
	while (*len > 0 && is_space(s[*len - 1]))
		s[--*len] = '\0';
	while (*len > 0 && is_space(*s)) {
		s++;
		--*len;
	}
	return s;
}

/*
 * The first pass: every line is blank, a comment, "[section]" or "key = value" inside a
 * section, within rte_cfgfile's limits. The comment rule is rte_cfgfile's: the first ';' not
 * preceded by a backslash starts a comment; "\;" in a value stands for ';'.
 */
static int
lint(const char *path, char *err, size_t err_len)
{
	bool in_section = false;
	unsigned int lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	FILE *f;
	int rc = 0;

	f = fopen(path, "r");
	if (f == NULL)
		return fc__fail(err, err_len, -errno, "%s: cannot open: %s", path, strerror(errno));
	while (rc == 0 && (got = getline(&line, &cap, f)) != -1) {
		size_t len = (size_t)got, klen, vlen;
		char *s, *c, *eq, *val;

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (strlen(line) != len) {
			rc = fc__fail(err, err_len, -EINVAL, "%s:%u: NUL byte: not a text file",
				      path, lineno);
			break;
		}
		if (len > INI_LINE_MAX) {
			rc = fc__fail(err, err_len, -EINVAL,
				      "%s:%u: line longer than %u bytes (rte_cfgfile's limit)",
				      path, lineno, INI_LINE_MAX);
			break;
		}
		c = memchr(line, INI_COMMENT, len);
		if (c != NULL && (c == line || c[-1] != '\\')) {
			*c = '\0';
			len = (size_t)(c - line);
		} else if (c != NULL) {
			/* rte_cfgfile looks at the first ';' only: after a "\;" a comment would
			 * become part of the value */
			for (c++; (c = strchr(c, INI_COMMENT)) != NULL; c++)
				if (c[-1] != '\\') {
					rc = fc__fail(err, err_len, -EINVAL,
						      "%s:%u: a ';' comment cannot follow '\\;' on "
						      "the same line",
						      path, lineno);
					break;
				}
			if (rc != 0)
				break;
		}
		s = trim(line, &len);
		if (len == 0)
			continue;
		if (*s == '#') {
			rc = fc__fail(err, err_len, -EINVAL,
				      "%s:%u: comments start with ';', not '#'", path, lineno);
			break;
		}
		if (*s == '[') {
			char *end = memchr(s, ']', len);

			if (end == NULL) {
				rc = fc__fail(err, err_len, -EINVAL,
					      "%s:%u: expected ']' closing the section name", path,
					      lineno);
				break;
			}
			if ((size_t)(end - s) + 1 != len) {
				rc = fc__fail(err, err_len, -EINVAL,
					      "%s:%u: expected nothing after ']' but a ';' comment",
					      path, lineno);
				break;
			}
			klen = (size_t)(end - s) - 1;
			trim(s + 1, &klen);
			if (klen == 0 || klen >= CFG_NAME_LEN) {
				rc = fc__fail(
					err, err_len, -EINVAL,
					"%s:%u: expected a section name of 1 to %u characters",
					path, lineno, CFG_NAME_LEN - 1);
				break;
			}
			in_section = true;
			continue;
		}
		eq = memchr(s, '=', len);
		if (eq == NULL) {
			rc = fc__fail(err, err_len, -EINVAL,
				      "%s:%u: expected '[section]' or 'key = value'", path, lineno);
			break;
		}
		if (!in_section) {
			rc = fc__fail(err, err_len, -EINVAL,
				      "%s:%u: 'key = value' before the first [section]", path,
				      lineno);
			break;
		}
		klen = (size_t)(eq - s);
		trim(s, &klen);
		vlen = strlen(eq + 1);
		val = trim(eq + 1, &vlen);
		if (klen == 0 || klen >= CFG_NAME_LEN) {
			rc = fc__fail(err, err_len, -EINVAL,
				      "%s:%u: expected a key of 1 to %u characters before '='",
				      path, lineno, CFG_NAME_LEN - 1);
			break;
		}
		/* "\;" becomes ';' in rte_cfgfile's copy: one byte shorter for each */
		for (c = val; (c = strstr(c, "\\;")) != NULL; c += 2)
			vlen--;
		if (vlen >= CFG_VALUE_LEN) {
			rc = fc__fail(
				err, err_len, -EINVAL,
				"%s:%u: value longer than %u characters (rte_cfgfile's limit)",
				path, lineno, CFG_VALUE_LEN - 1);
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = fc__fail(err, err_len, -EIO, "%s: cannot read: %s", path, strerror(errno));
	free(line);
	fclose(f);
	return rc;
}

const char *
fc__ini_value(const struct fc__ini *ini, const char *section, const char *key)
{
	if (ini->cf == NULL)
		return NULL;
	return rte_cfgfile_get_entry(ini->cf, section, key);
}

static int
vfail(const struct fc__ini *ini, int rc, const char *section, const char *key, const char *dflt,
      char *err, size_t err_len, const char *fmt, va_list ap)
{
	const char *v = fc__ini_value(ini, section, key);
	char what[256];

	vsnprintf(what, sizeof(what), fmt, ap);
	return fc__fail(err, err_len, rc, "%s: [%s] %s = '%s'%s: expected %s", ini->path, section,
			key, v != NULL ? v : dflt, v != NULL ? "" : " (default)", what);
}

int
fc__ini_fail(const struct fc__ini *ini, int rc, const char *section, const char *key,
	     const char *dflt, char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rc = vfail(ini, rc, section, key, dflt, err, err_len, fmt, ap);
	va_end(ap);
	return rc;
}

/* -EINVAL for the value the file gives to key k, saying what k takes. */
static int __attribute__((format(printf, 5, 6)))
refuse(const struct fc__ini *ini, const struct fc__ini_key *k, char *err, size_t err_len,
       const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(ini, -EINVAL, k->section, k->name, "", err, err_len, fmt, ap);
	va_end(ap);
	return rc;
}

void
fc__ini_close(struct fc__ini *ini)
{
	if (ini->cf != NULL)
		rte_cfgfile_close(ini->cf);
	ini->cf = NULL;
}

/* Decimal digits only: no sign, no spaces, no 0x; refuses what overflows 64 bits. */
static bool
parse_dec(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned int d = (unsigned int)(*s - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* "20", "20.5", "20.125": metres with at most 3 decimals, to whole millimetres. */
static bool
parse_metres(const char *s, uint64_t *mm)
{
	uint64_t whole = 0, frac = 0;
	unsigned int nd = 0, nf = 0;

	for (; *s >= '0' && *s <= '9'; s++) {
		if (++nd > 9)
			return false;
		whole = whole * 10 + (uint64_t)(*s - '0');
	}
	if (nd == 0)
		return false;
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++) {
			if (++nf > 3)
				return false;
			frac = frac * 10 + (uint64_t)(*s - '0');
		}
		if (nf == 0)
			return false;
	}
	if (*s != '\0')
		return false;
	for (; nf < 3; nf++)
		frac *= 10;
	*mm = whole * 1000 + frac;
	return true;
}

/* Millimetres as metres for a message: 1 is "0.001", 655350 is "655.35", 20000 is "20". */
static const char *
metres(uint64_t mm, char buf[24])
{
	size_t len = (size_t)snprintf(buf, 24, "%" PRIu64 ".%03" PRIu64, mm / 1000, mm % 1000);

	while (buf[len - 1] == '0')
		buf[--len] = '\0';
	if (buf[len - 1] == '.')
		buf[--len] = '\0';
	return buf;
}

static bool
parse_ipv4(const char *s, uint32_t *host)
{
	struct in_addr a;

	/* inet_pton() takes exactly four decimal parts, no leading zeros (inet_aton() would
	 * take "10.1" or "0x0a000001" too) */
	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	*host = ntohl(a.s_addr);
	return true;
}

static void
store_uint(void *p, size_t size, uint64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	switch (size) {
	case 1:
		memcpy(p, &u8, 1);
		break;
	case 2:
		memcpy(p, &u16, 2);
		break;
	case 4:
		memcpy(p, &u32, 4);
		break;
	default:
		memcpy(p, &v, 8);
		break;
	}
}

/* The directory part of path, with its '/', or "" when path has none. */
static size_t
dir_len(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? (size_t)(slash - path) + 1 : 0;
}

static int
set_path(const struct fc__ini *ini, const struct fc__ini_key *k, const char *v, char *dst,
	 char *err, size_t err_len)
{
	size_t dl = v[0] == '/' ? 0 : dir_len(ini->path);
	struct stat st;
	int n;

	if (v[0] == '\0')
		return refuse(ini, k, err, err_len, "a file name");
	n = snprintf(dst, k->size, "%.*s%s", (int)dl, ini->path, v);
	if (n < 0 || (size_t)n >= k->size)
		return fc__ini_fail(ini, -ENAMETOOLONG, k->section, k->name, "", err, err_len,
				    "a path of at most %zu bytes once resolved against '%.*s'",
				    k->size - 1, (int)dl, ini->path);
	if (k->create && stat(dst, &st) != 0 && errno == ENOENT) {
		/* Not there yet: floord creates it, in a directory that must exist and be writable. */
		char dir[FC_CFG_PATH_MAX];
		const char *slash = strrchr(dst, '/');

		snprintf(dir, sizeof(dir), "%.*s", slash == NULL ? 1 : (int)(slash - dst + 1),
			 slash == NULL ? "." : dst);
		if (access(dir, W_OK) != 0) {
			int e = errno;

			return fc__ini_fail(ini, -e, k->section, k->name, "", err, err_len,
					    "a file in a writable directory (%s: %s)", dir,
					    strerror(e));
		}
		return 0;
	}
	if (stat(dst, &st) != 0 || access(dst, R_OK) != 0) {
		int e = errno;

		return fc__ini_fail(ini, -e, k->section, k->name, "", err, err_len,
				    "a readable file (%s: %s)", dst, strerror(e));
	}
	/* A path floord creates may hold what it created last time: its socket or its file. */
	if (!S_ISREG(st.st_mode) && !(k->create && S_ISSOCK(st.st_mode)))
		return refuse(ini, k, err, err_len, "a readable file (%s: not a regular file)",
			      dst);
	return 0;
}

static int
set_lcores(const struct fc__ini *ini, const struct fc__ini_key *k, const char *v, void *obj,
	   char *err, size_t err_len)
{
	uint8_t seen[(RTE_MAX_LCORE + 7) / 8] = { 0 };
	uint32_t ids[FC_CFG_MAX_LCORES], n = 0;
	const char *p = v;

	for (;;) {
		char item[24];
		size_t len = strcspn(p, ",");
		char *s;
		uint64_t id;

		if (len >= sizeof(item) || n == FC_CFG_MAX_LCORES)
			goto bad;
		memcpy(item, p, len);
		item[len] = '\0';
		s = trim(item, &len);
		if (!parse_dec(s, &id) || id >= RTE_MAX_LCORE)
			goto bad;
		if (seen[id / 8] & (1u << (id % 8)))
			return refuse(ini, k, err, err_len,
				      "each lcore once (lcore %" PRIu64 " is listed twice)", id);
		seen[id / 8] |= (uint8_t)(1u << (id % 8));
		ids[n++] = (uint32_t)id;
		p += strcspn(p, ",");
		if (*p == '\0')
			break;
		p++;
	}
	memcpy((char *)obj + k->off, ids, n * sizeof(ids[0]));
	memcpy((char *)obj + k->off_n, &n, sizeof(n));
	return 0;
bad:
	return refuse(ini, k, err, err_len,
		      "a comma-separated list of 1 to %u lcore ids from 0 to %u", FC_CFG_MAX_LCORES,
		      RTE_MAX_LCORE - 1);
}

static bool
is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/* Parses one value into obj; an error names the key and what it takes. */
static int
set_value(const struct fc__ini *ini, const struct fc__ini_key *k, const char *v, void *obj,
	  char *err, size_t err_len)
{
	char *dst = (char *)obj + k->off;
	const char *unit = k->unit != NULL ? k->unit : "";
	const char *sp = k->unit != NULL ? " " : "";
	uint64_t n = 0;
	uint32_t ip = 0;
	size_t len = strlen(v);

	switch (k->kind) {
	case FC__INI_UINT:
		if (!parse_dec(v, &n) || ((n < k->min || n > k->max) && !(k->or_zero && n == 0))) {
			if (k->or_zero)
				return refuse(ini, k, err, err_len,
					      "0 or a number from %" PRIu64 " to %" PRIu64 "%s%s",
					      k->min, k->max, sp, unit);
			return refuse(ini, k, err, err_len,
				      "a number from %" PRIu64 " to %" PRIu64 "%s%s", k->min,
				      k->max, sp, unit);
		}
		store_uint(dst, k->size, n);
		return 0;
	case FC__INI_MS_TO_NS:
		if (!parse_dec(v, &n) || n < k->min || n > k->max)
			return refuse(ini, k, err, err_len,
				      "a number from %" PRIu64 " to %" PRIu64 " ms", k->min,
				      k->max);
		store_uint(dst, sizeof(uint64_t), n * 1000000u);
		return 0;
	case FC__INI_POW2:
	case FC__INI_POW2_SHIFT:
		if (!parse_dec(v, &n) || !is_pow2(n) || n < k->min || n > k->max)
			return refuse(ini, k, err, err_len,
				      "a power of two from %" PRIu64 " to %" PRIu64 "%s%s", k->min,
				      k->max, sp, unit);
		if (k->kind == FC__INI_POW2_SHIFT)
			n = (uint64_t)__builtin_ctzll(n);
		store_uint(dst, k->size, n);
		return 0;
	case FC__INI_METRES:
		if (!parse_metres(v, &n) || n < k->min || n > k->max) {
			char lo[24], hi[24];

			return refuse(
				ini, k, err, err_len,
				"a length in metres from %s to %s, at most 3 decimals (e.g. 20 "
				"or 12.5)",
				metres(k->min, lo), metres(k->max, hi));
		}
		store_uint(dst, k->size, n);
		return 0;
	case FC__INI_IPV4:
		/* 0.0.0.0 means any; multicast, broadcast and class E are nobody's address */
		if (!parse_ipv4(v, &ip) || ip >= 0xe0000000u)
			return refuse(ini, k, err, err_len,
				      "a unicast IPv4 address as a dotted quad, or 0.0.0.0");
		store_uint(dst, k->size, ip);
		return 0;
	case FC__INI_IPV4_MCAST:
		if (!parse_ipv4(v, &ip) || (ip >> 28) != 0xe)
			return refuse(ini, k, err, err_len,
				      "an IPv4 multicast address (224.0.0.0 to "
				      "239.255.255.255) as a dotted quad");
		store_uint(dst, k->size, ip);
		return 0;
	case FC__INI_LCORE:
		if (!parse_dec(v, &n) || n >= RTE_MAX_LCORE)
			return refuse(ini, k, err, err_len, "an lcore id from 0 to %u",
				      RTE_MAX_LCORE - 1);
		store_uint(dst, k->size, n);
		return 0;
	case FC__INI_LCORES:
		return set_lcores(ini, k, v, obj, err, err_len);
	case FC__INI_BOOL:
		if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
			return refuse(ini, k, err, err_len, "yes or no");
		*(bool *)(void *)dst = v[0] == 'y';
		return 0;
	case FC__INI_NAME:
	case FC__INI_IDENT: {
		bool ok = len > 0 && len < k->size;

		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)v[i];

			if (k->kind == FC__INI_NAME)
				ok = ok && c >= 0x20 && c != 0x7f;
			else
				ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
					    (c >= '0' && c <= '9') || c == '_');
		}
		if (!ok) {
			if (k->kind == FC__INI_NAME)
				return refuse(ini, k, err, err_len, "1 to %zu printable characters",
					      k->size - 1);
			return refuse(ini, k, err, err_len, "1 to %zu letters, digits or '_'",
				      k->size - 1);
		}
		memcpy(dst, v, len + 1);
		return 0;
	}
	case FC__INI_TEXT:
		if (len >= k->size)
			return refuse(ini, k, err, err_len, "at most %zu characters", k->size - 1);
		memcpy(dst, v, len + 1);
		return 0;
	case FC__INI_PATH:
		return set_path(ini, k, v, dst, err, err_len);
	}
	return fc__fail(err, err_len, -EINVAL, "%s: [%s] %s: unknown kind %d", ini->path,
			k->section, k->name, (int)k->kind);
}

/* ", "-separated list of the sections of keys, or of the keys of one section, for messages. */
static void
list_names(const struct fc__ini_key *keys, size_t n_keys, const char *section, char *buf,
	   size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n_keys && used < len; i++) {
		const char *name = section != NULL ? keys[i].name : keys[i].section;
		bool dup = false;

		if (section != NULL && strcmp(keys[i].section, section) != 0)
			continue;
		for (size_t j = 0; j < i && section == NULL; j++)
			dup = dup || strcmp(keys[j].section, name) == 0;
		if (dup)
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name);
	}
}

static bool
section_known(const struct fc__ini_key *keys, size_t n_keys, const char *section)
{
	for (size_t i = 0; i < n_keys; i++)
		if (strcmp(keys[i].section, section) == 0)
			return true;
	return false;
}

/* Walks every section and entry of the file (duplicates included) through the table. */
static int
apply(struct fc__ini *ini, const struct fc__ini_key *keys, size_t n_keys, void *obj, bool *seen,
      char *err, size_t err_len)
{
	int n_sec = rte_cfgfile_num_sections(ini->cf, NULL, 0);
	struct rte_cfgfile_entry *e = NULL;
	char list[256];
	int rc = 0;

	for (int i = 0; i < n_sec && rc == 0; i++) {
		char name[CFG_NAME_LEN], prev[CFG_NAME_LEN];
		int n_ent = rte_cfgfile_section_num_entries_by_index(ini->cf, name, i);

		if (!section_known(keys, n_keys, name)) {
			list_names(keys, n_keys, NULL, list, sizeof(list));
			rc = fc__fail(err, err_len, -EINVAL,
				      "%s: [%s]: unknown section; expected one of %s", ini->path,
				      name, list);
			break;
		}
		for (int j = 0; j < i && rc == 0; j++) {
			rte_cfgfile_section_num_entries_by_index(ini->cf, prev, j);
			if (strcmp(prev, name) == 0)
				rc = fc__fail(err, err_len, -EINVAL,
					      "%s: [%s]: section given twice; expected each once",
					      ini->path, name);
		}
		if (rc != 0)
			break;
		if (n_ent <= 0)
			continue;
		free(e);
		e = malloc((size_t)n_ent * sizeof(*e));
		if (e == NULL) {
			rc = fc__fail(err, err_len, -ENOMEM, "%s: out of memory", ini->path);
			break;
		}
		n_ent = rte_cfgfile_section_entries_by_index(ini->cf, i, name, e, n_ent);
		for (int j = 0; j < n_ent && rc == 0; j++) {
			size_t k;

			for (k = 0; k < n_keys; k++)
				if (strcmp(keys[k].section, name) == 0 &&
				    strcmp(keys[k].name, e[j].name) == 0)
					break;
			if (k == n_keys) {
				list_names(keys, n_keys, name, list, sizeof(list));
				rc = fc__fail(err, err_len, -EINVAL,
					      "%s: [%s] %s = '%s': unknown key; [%s] takes %s",
					      ini->path, name, e[j].name, e[j].value, name, list);
				break;
			}
			if (seen[k]) {
				rc = fc__fail(err, err_len, -EINVAL,
					      "%s: [%s] %s = '%s': expected once, already given as "
					      "'%s'",
					      ini->path, name, e[j].name, e[j].value,
					      fc__ini_value(ini, name, e[j].name));
				break;
			}
			seen[k] = true;
			rc = set_value(ini, &keys[k], e[j].value, obj, err, err_len);
		}
	}
	free(e);
	for (size_t k = 0; k < n_keys && rc == 0; k++)
		if (keys[k].required && !seen[k])
			rc = fc__fail(err, err_len, -EINVAL, "%s: [%s] %s: missing (required)",
				      ini->path, keys[k].section, keys[k].name);
	return rc;
}

int
fc__ini_load(struct fc__ini *ini, const char *path, const struct fc__ini_key *keys, size_t n_keys,
	     void *obj, char *err, size_t err_len)
{
	struct rte_cfgfile_parameters params = { .comment_character = INI_COMMENT };
	bool *seen;
	int rc;

	ini->path = path;
	ini->cf = NULL;
	rc = lint(path, err, err_len);
	if (rc != 0)
		return rc;
	/* empty values are let through so that "key =" gets the key's own message */
	ini->cf = rte_cfgfile_load_with_params(path, CFG_FLAG_EMPTY_VALUES, &params);
	if (ini->cf == NULL)
		return fc__fail(err, err_len, -EINVAL, "%s: not a valid INI file", path);
	seen = calloc(n_keys, sizeof(*seen));
	if (seen == NULL) {
		fc__ini_close(ini);
		return fc__fail(err, err_len, -ENOMEM, "%s: out of memory", path);
	}
	rc = apply(ini, keys, n_keys, obj, seen, err, err_len);
	free(seen);
	if (rc != 0)
		fc__ini_close(ini);
	return rc;
}

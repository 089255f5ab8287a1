/* SPDX-License-Identifier: BSD-3-Clause */
/* The gateway table and its keys file; see fc_gateways.h. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_gateways.h"

/* Longest line of the keys file, its LF aside: a key line with a long comment fits. */
#define KEYS_LINE_MAX 510u

struct fc_gw_table *
fc_gw_table_create(void)
{
	struct fc_gw_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		errno = ENOMEM;
	return t;
}

void
fc_gw_table_free(struct fc_gw_table *t)
{
	if (t == NULL)
		return;
	if (t->gw != NULL)
		sodium_memzero(t->gw, (size_t)t->cap * sizeof(*t->gw));
	free(t->gw);
	free(t);
}

/* Index of the first gateway whose id is >= id. */
static uint32_t
lower_bound(const struct fc_gw_table *t, uint32_t id)
{
	uint32_t lo = 0, hi = t->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (t->gw[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct fc_gateway *
fc_gw_table_lookup(const struct fc_gw_table *t, uint32_t gateway_id)
{
	uint32_t i = lower_bound(t, gateway_id);

	return i < t->n && t->gw[i].id == gateway_id ? &t->gw[i] : NULL;
}

int
fc_gw_table_add_key(struct fc_gw_table *t, uint32_t gateway_id, unsigned int key_id,
		    unsigned int alg, const uint8_t *key, size_t key_len)
{
	struct fc_mac_key k;
	struct fc_gateway *g;
	uint32_t i;
	int rc;

	rc = fc_mac_key_init(&k, alg, key_id, key, key_len);
	if (rc != 0)
		return rc;
	i = lower_bound(t, gateway_id);
	if (i == t->n || t->gw[i].id != gateway_id) {
		if (t->n == t->cap) {
			uint32_t cap = t->cap ? t->cap * 2 : 16;
			struct fc_gateway *gw = realloc(t->gw, (size_t)cap * sizeof(*gw));

			if (gw == NULL)
				return -ENOMEM;
			t->gw = gw;
			t->cap = cap;
		}
		memmove(&t->gw[i + 1], &t->gw[i], (size_t)(t->n - i) * sizeof(*t->gw));
		memset(&t->gw[i], 0, sizeof(t->gw[i]));
		t->gw[i].id = gateway_id;
		fc_replay_window_init(&t->gw[i].window);
		t->n++;
	}
	g = &t->gw[i];
	if (fc_gateway_key(g, key_id) != NULL)
		return -EEXIST;
	if (g->n_keys == FC_GW_MAX_KEYS)
		return -ENOSPC;
	g->keys[g->n_keys++] = k;
	sodium_memzero(&k, sizeof(k));
	return 0;
}

unsigned int
fc_mac_alg_from_name(const char *name)
{
	if (strcmp(name, "hmac-sha256-128") == 0)
		return FC_MAC_HMAC_SHA256_128;
	if (strcmp(name, "siphash24") == 0)
		return FC_MAC_SIPHASH24;
	return 0;
}

static int
fail(char *err, size_t err_len, int rc, const char *path, unsigned int line, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (err != NULL && err_len > 0) {
		if (line > 0)
			snprintf(err, err_len, "%s:%u: %s", path, line, why);
		else
			snprintf(err, err_len, "%s: %s", path, why);
	}
	return rc;
}

/*
 * Parses an unsigned number up to max: decimal digits (leading zeros do not mean octal) or, if
 * hex_digits is not 0, 0x or 0X and 1 to hex_digits hex digits (docs/protocol.md 3.9). No sign
 * and no white space: strtoull() would take both, and read "010" as 8.
 */
static int
parse_uint(const char *s, uint64_t max, unsigned int hex_digits, uint64_t *out)
{
	unsigned int base = 10, n = 0;
	uint64_t v = 0;

	if (hex_digits != 0 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; *s != '\0'; s++, n++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned int)(*s - '0');
		else if (base == 16 && isxdigit((unsigned char)*s))
			d = (unsigned int)(tolower((unsigned char)*s) - 'a' + 10);
		else
			return -EINVAL;
		if (base == 16 && n == hex_digits)
			return -EINVAL;
		v = v * base + d;
		if (v > max)
			return -EINVAL;
	}
	if (n == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

int
fc_gw_table_load_keys(struct fc_gw_table *t, const char *path, char *err, size_t err_len)
{
	unsigned int lineno = 0;
	char *line = NULL;
	size_t line_cap = 0;
	ssize_t got;
	int rc = 0;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL)
		return fail(err, err_len, -errno, path, 0, "cannot open: %s", strerror(errno));

	while ((got = getline(&line, &line_cap, f)) != -1) {
		char *fields[5], *save = NULL, *tok;
		uint8_t key[FC_MAC_MAX_KEY_LEN];
		uint64_t gw_id, key_id;
		unsigned int alg, nf = 0;
		size_t key_len, len = (size_t)got;

		lineno++;
		/* a C string would end at it: the rest of the line would be ignored unseen */
		if (strlen(line) != len) {
			rc = fail(err, err_len, -EINVAL, path, lineno, "NUL byte in the line");
			break;
		}
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (len > KEYS_LINE_MAX) {
			rc = fail(err, err_len, -EINVAL, path, lineno, "line longer than %u bytes",
				  KEYS_LINE_MAX);
			break;
		}
		tok = strchr(line, '#');
		if (tok != NULL)
			*tok = '\0';
		for (tok = strtok_r(line, " \t\r\n", &save); tok != NULL && nf < 5;
		     tok = strtok_r(NULL, " \t\r\n", &save))
			fields[nf++] = tok;
		if (nf == 0)
			continue;
		if (nf != 4) {
			rc = fail(err, err_len, -EINVAL, path, lineno,
				  "expected 4 fields 'gateway_id key_id algorithm hexkey', got %s",
				  nf < 4 ? "fewer" : "more");
			break;
		}
		if (parse_uint(fields[0], UINT32_MAX, 8, &gw_id) != 0) {
			rc = fail(err, err_len, -EINVAL, path, lineno,
				  "gateway_id '%s': expected a number 0..4294967295, decimal or 0x "
				  "and 1 to 8 hex digits",
				  fields[0]);
			break;
		}
		if (parse_uint(fields[1], UINT8_MAX, 0, &key_id) != 0) {
			rc = fail(err, err_len, -EINVAL, path, lineno,
				  "key_id '%s': expected a decimal number 0..255", fields[1]);
			break;
		}
		alg = fc_mac_alg_from_name(fields[2]);
		if (alg == 0) {
			rc = fail(err, err_len, -EINVAL, path, lineno,
				  "algorithm '%s': expected hmac-sha256-128 or siphash24",
				  fields[2]);
			break;
		}
		if (strlen(fields[3]) != 2 * fc_mac_key_len(alg) ||
		    sodium_hex2bin(key, sizeof(key), fields[3], strlen(fields[3]), NULL, &key_len,
				   NULL) != 0 ||
		    key_len != fc_mac_key_len(alg)) {
			rc = fail(err, err_len, -EINVAL, path, lineno,
				  "key: expected exactly %u hex digits for %s",
				  2 * fc_mac_key_len(alg), fields[2]);
			break;
		}
		rc = fc_gw_table_add_key(t, (uint32_t)gw_id, (unsigned int)key_id, alg, key,
					 key_len);
		sodium_memzero(key, sizeof(key));
		if (rc == -EEXIST) {
			rc = fail(err, err_len, rc, path, lineno,
				  "gateway %" PRIu64 " key %" PRIu64 " is defined twice", gw_id,
				  key_id);
			break;
		} else if (rc == -ENOSPC) {
			rc = fail(err, err_len, rc, path, lineno,
				  "gateway %" PRIu64 " has more than %u keys", gw_id,
				  FC_GW_MAX_KEYS);
			break;
		} else if (rc != 0) {
			rc = fail(err, err_len, rc, path, lineno, "%s", strerror(-rc));
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = fail(err, err_len, -EIO, path, lineno, "read error");
	if (line != NULL)
		sodium_memzero(line, line_cap);
	free(line);
	fclose(f);
	return rc;
}

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

/* Parses an unsigned number (decimal, or hex with 0x) that fits max. */
static int
parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s == '-' || *s == '+' || *s == '\0')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int
fc_gw_table_load_keys(struct fc_gw_table *t, const char *path, char *err, size_t err_len)
{
	char line[512];
	unsigned int lineno = 0;
	int rc = 0;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL)
		return fail(err, err_len, -errno, path, 0, "cannot open: %s", strerror(errno));

	while (fgets(line, sizeof(line), f) != NULL) {
		char *fields[5], *save = NULL, *tok;
		uint8_t key[FC_MAC_MAX_KEY_LEN];
		uint64_t gw_id, key_id;
		unsigned int alg, nf = 0;
		size_t key_len;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			rc = fail(err, err_len, -EINVAL, path, lineno, "line longer than %zu bytes",
				  sizeof(line) - 2);
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
		if (parse_uint(fields[0], UINT32_MAX, &gw_id) != 0) {
			rc = fail(err, err_len, -EINVAL, path, lineno,
				  "gateway_id '%s': expected a number 0..4294967295", fields[0]);
			break;
		}
		if (parse_uint(fields[1], UINT8_MAX, &key_id) != 0) {
			rc = fail(err, err_len, -EINVAL, path, lineno,
				  "key_id '%s': expected a number 0..255", fields[1]);
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
	sodium_memzero(line, sizeof(line));
	fclose(f);
	return rc;
}

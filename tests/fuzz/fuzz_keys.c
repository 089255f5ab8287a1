/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the gateway keys file (suite fuzz): fc_gw_table_load_keys() on a file
 * holding the input, into a new table, as floord loads it at start for each RX lcore.
 *
 * The harness reads the file itself by docs/protocol.md section 3.9 alone (an independent
 * reading: 4 fields, gateway_id decimal or 0x with 1 to 8 hex digits, key_id decimal 0..255,
 * the two algorithm names, exactly 64 or 32 hex digits, each (gateway, key) once, at most 4 keys
 * a gateway; and a line of at most 510 bytes without a NUL byte) and holds the loader to it:
 *  - a file the section accepts loads, into a table of exactly its keys: gateways sorted by id
 *    (fc_gw_table_lookup() finds each), each key found by fc_gateway_key() with its algorithm,
 *    and MACs computed with it equal to those of the key the file gives;
 *  - a file it refuses is refused with "FILE:LINE: reason", LINE the first bad line.
 * A broken promise aborts; LeakSanitizer checks fc_gw_table_free().
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_gateways.h"
#include "fuzz_file.h"

/* The loader's line buffer holds 510 bytes, the LF and the NUL (gateways.c). */
#define KEYS_LINE_MAX 510u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ref_key {
	uint32_t gw;
	uint8_t key_id;
	unsigned int alg;
	uint8_t key[FC_MAC_MAX_KEY_LEN];
	size_t key_len;
};

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "a u32: decimal digits (leading zeros do not mean octal) or 0x/0X and 1 to 8 hex digits" */
static bool
ref_gateway_id(const char *s, uint32_t *out)
{
	uint64_t v = 0;
	size_t n = strlen(s);

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (n < 3 || n > 10)
			return false;
		for (s += 2; *s != '\0'; s++) {
			if (hex_digit(*s) < 0)
				return false;
			v = v * 16 + (uint64_t)hex_digit(*s);
		}
		*out = (uint32_t)v;
		return true;
	}
	if (n == 0)
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

/* "decimal, 0..255" */
static bool
ref_key_id(const char *s, uint8_t *out)
{
	unsigned int v = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned int)(*s - '0');
		if (v > 255)
			return false;
	}
	*out = (uint8_t)v;
	return true;
}

/*
 * One line of the file (without its LF, len bytes, maybe with NUL bytes): 0 if blank or a
 * comment, 1 with *k if an entry, -1 if the section refuses it. keys[0, n) are the entries of
 * the lines before.
 */
static int
ref_line(char *line, size_t len, const struct ref_key *keys, uint32_t n, struct ref_key *k)
{
	static const char *const sep = " \t\r";
	char *f[5], *save = NULL, *tok, *hash;
	unsigned int nf = 0, same_gw = 0;
	size_t hex_len;

	if (len > KEYS_LINE_MAX || memchr(line, '\0', len) != NULL)
		return -1;
	hash = strchr(line, '#');
	if (hash != NULL)
		*hash = '\0';
	for (tok = strtok_r(line, sep, &save); tok != NULL && nf < 5;
	     tok = strtok_r(NULL, sep, &save))
		f[nf++] = tok;
	if (nf == 0)
		return 0;
	if (nf != 4 || !ref_gateway_id(f[0], &k->gw) || !ref_key_id(f[1], &k->key_id))
		return -1;
	if (strcmp(f[2], "hmac-sha256-128") == 0)
		k->alg = FC_MAC_HMAC_SHA256_128;
	else if (strcmp(f[2], "siphash24") == 0)
		k->alg = FC_MAC_SIPHASH24;
	else
		return -1;
	k->key_len = k->alg == FC_MAC_HMAC_SHA256_128 ? 32 : 16;
	hex_len = strlen(f[3]);
	if (hex_len != 2 * k->key_len)
		return -1;
	for (size_t i = 0; i < k->key_len; i++) {
		int hi = hex_digit(f[3][2 * i]), lo = hex_digit(f[3][2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		k->key[i] = (uint8_t)(hi * 16 + lo);
	}
	for (uint32_t i = 0; i < n; i++) {
		if (keys[i].gw != k->gw)
			continue;
		if (keys[i].key_id == k->key_id)
			return -1; /* defined twice */
		same_gw++;
	}
	return same_gw < FC_GW_MAX_KEYS ? 1 : -1;
}

/* MACs under the loaded key and under the file's key agree. */
static void
check_key(const struct fc_mac_key *got, const struct ref_key *k)
{
	static const uint8_t msg[] = "floorcast fuzz_keys";
	uint8_t a[FC_MAC_MAX_TAG_LEN] = { 0 }, b[FC_MAC_MAX_TAG_LEN] = { 0 };
	struct fc_mac_key want;

	CHECK(got->alg == k->alg && got->key_id == k->key_id);
	CHECK(got->tag_len == fc_mac_tag_len(k->alg));
	CHECK(fc_mac_key_init(&want, k->alg, k->key_id, k->key, k->key_len) == 0);
	fc_mac_compute(got, msg, sizeof(msg), a);
	fc_mac_compute(&want, msg, sizeof(msg), b);
	CHECK_MSG(memcmp(a, b, sizeof(a)) == 0, "gateway %u key %u: another key", k->gw, k->key_id);
	CHECK(fc_mac_verify(got, msg, sizeof(msg), b));
}

static void
check_table(const struct fc_gw_table *t, const struct ref_key *keys, uint32_t n)
{
	uint32_t total = 0;

	CHECK(t->n <= t->cap && (t->n == 0 || t->gw != NULL));
	for (uint32_t i = 0; i < t->n; i++) {
		const struct fc_gateway *g = &t->gw[i];

		CHECK(i == 0 || g->id > t->gw[i - 1].id);
		CHECK(g->n_keys >= 1 && g->n_keys <= FC_GW_MAX_KEYS);
		CHECK(fc_gw_table_lookup(t, g->id) == g);
		for (uint32_t j = 0; j < g->n_keys; j++)
			for (uint32_t m = 0; m < j; m++)
				CHECK(g->keys[j].key_id != g->keys[m].key_id);
		total += g->n_keys;
	}
	CHECK_MSG(total == n, "%u keys loaded, the file has %u", total, n);
	for (uint32_t i = 0; i < n; i++) {
		const struct fc_gateway *g = fc_gw_table_lookup(t, keys[i].gw);
		const struct fc_mac_key *got;

		CHECK_MSG(g != NULL, "gateway %u not loaded", keys[i].gw);
		got = fc_gateway_key(g, keys[i].key_id);
		CHECK_MSG(got != NULL, "gateway %u key %u not loaded", keys[i].gw, keys[i].key_id);
		check_key(got, &keys[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_memfd_path(data, size);
	struct fc_gw_table *t = fc_gw_table_create();
	struct ref_key *keys = malloc((size / 2 + 1) * sizeof(*keys));
	char *err = fuzz_err_buf(), *text = fuzz_strdup(data, size), *line = text;
	unsigned int nlines = fuzz_count_lines(data, size), bad_line = 0;
	uint32_t n = 0;
	int rc;

	CHECK(t != NULL && keys != NULL);
	for (unsigned int ln = 1; ln <= nlines && bad_line == 0; ln++) {
		char *lf = memchr(line, '\n', (size_t)(text + size - line));
		size_t len = lf != NULL ? (size_t)(lf - line) : (size_t)(text + size - line);
		int r;

		line[len] = '\0';
		r = ref_line(line, len, keys, n, &keys[n]);
		if (r < 0)
			bad_line = ln;
		n += r > 0;
		line += len + 1;
	}

	rc = fc_gw_table_load_keys(t, path, err, FUZZ_ERR_LEN);
	if (bad_line == 0) {
		CHECK_MSG(rc == 0, "refused a file docs/protocol.md 3.9 accepts: '%s'", err);
		check_table(t, keys, n);
	} else {
		CHECK_MSG(rc != 0, "loaded a file whose line %u docs/protocol.md 3.9 refuses",
			  bad_line);
		CHECK_MSG(rc == -EINVAL || rc == -EEXIST || rc == -ENOSPC, "rc %d: '%s'", rc, err);
		fuzz_check_refusal(err, FUZZ_ERR_LEN, path, true, bad_line, bad_line);
	}
	fc_gw_table_free(t);
	free(keys);
	free(text);
	free(err);
	return 0;
}

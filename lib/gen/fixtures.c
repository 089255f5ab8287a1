/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test fixtures: a roster and a keys file for any number of players and gateways, the ones
 * mkcapture.py --write-fixtures writes (same tags, teams and HMAC keys), plus SipHash keys for
 * the weak-gateway case. Big rosters (65 535 players) are what floorgen is for.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sodium.h>

#include "gen_priv.h"

unsigned int
fc_gen_fixture_key(uint32_t gw, unsigned int alg, uint8_t key[FC_MAC_MAX_KEY_LEN])
{
	unsigned int len = fc_mac_key_len(alg);
	uint8_t digest[crypto_hash_sha256_BYTES];
	char text[64];
	int n;

	if (len == 0 || sodium_init() < 0)
		return 0;
	n = snprintf(text, sizeof(text), "floorcast test key for gateway %" PRIu32, gw);
	crypto_hash_sha256(digest, (const uint8_t *)text, (unsigned long long)n);
	memcpy(key, digest, len);
	return len;
}

/* mkdir -p */
static int
make_dirs(const char *dir)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (char *p = path + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(path, 0755) != 0 && errno != EEXIST)
				return -errno;
			*p = c;
			if (c == '\0')
				return 0;
		}
	}
}

static int
fail(char *err, size_t err_len, int rc, const char *path)
{
	snprintf(err, err_len, "%s: %s", path, strerror(-rc));
	return rc;
}

static int
close_checked(FILE *f)
{
	bool bad = ferror(f) != 0;

	if (fclose(f) != 0 || bad)
		return -EIO;
	return 0;
}

int
fc_gen_write_fixtures(const char *dir, uint32_t players, uint32_t gateways, unsigned int alg,
		      char *err, size_t err_len)
{
	char path[PATH_MAX];
	uint8_t key[FC_MAC_MAX_KEY_LEN];
	const char *alg_name = alg == FC_MAC_SIPHASH24 ? "siphash24" : "hmac-sha256-128";
	FILE *f;
	int rc;

	if (players == 0 || players > FC_CFG_MAX_PLAYERS || gateways == 0 ||
	    fc_mac_key_len(alg) == 0) {
		snprintf(err, err_len, "fixtures: 1 .. %u players, 1 or more gateways, a known MAC",
			 FC_CFG_MAX_PLAYERS);
		return -EINVAL;
	}
	rc = make_dirs(dir);
	if (rc != 0)
		return fail(err, err_len, rc, dir);

	snprintf(path, sizeof(path), "%s/roster.csv", dir);
	f = fopen(path, "w");
	if (f == NULL)
		return fail(err, err_len, -errno, path);
	fprintf(f, "# floorcast test roster, written by floorgen --write-fixtures\n"
		   "# tag_id,player,team,name\n");
	for (uint32_t p = 0; p < players; p++)
		fprintf(f, "0x%016" PRIX64 ",%" PRIu32 ",%" PRIu32 ",player-%" PRIu32 "\n",
			(uint64_t)(FC_GEN_FIXTURE_TAG_BASE + p), p, p % 8, p);
	rc = close_checked(f);
	if (rc != 0)
		return fail(err, err_len, rc, path);

	snprintf(path, sizeof(path), "%s/gateways.keys", dir);
	/* the spec's SHOULD for a secrets file (0600), even for test keys */
	f = fopen(path, "w");
	if (f == NULL || fchmod(fileno(f), 0600) != 0) {
		rc = -errno;
		if (f != NULL)
			fclose(f);
		return fail(err, err_len, rc, path);
	}
	fprintf(f, "# TEST KEYS ONLY, written by floorgen --write-fixtures.\n"
		   "# Each key is SHA-256(\"floorcast test key for gateway <id>\") (its first 16\n"
		   "# bytes for siphash24): anyone can recompute it. Never deploy these.\n"
		   "# gateway  key  algorithm        hexkey\n");
	for (uint32_t gw = 1; gw <= gateways; gw++) {
		unsigned int len = fc_gen_fixture_key(gw, alg, key);
		char hex[2 * FC_MAC_MAX_KEY_LEN + 1];

		sodium_bin2hex(hex, sizeof(hex), key, len);
		fprintf(f, "%-9" PRIu32 "  1    %-15s  %s\n", gw, alg_name, hex);
	}
	sodium_memzero(key, sizeof(key));
	rc = close_checked(f);
	if (rc != 0)
		return fail(err, err_len, rc, path);
	return 0;
}

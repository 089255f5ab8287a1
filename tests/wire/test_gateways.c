/* SPDX-License-Identifier: BSD-3-Clause */
/* The gateway table and its keys file: lookups, rotation, and every refusal with its line. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fc_gateways.h"

static char path[64];

static const char *
write_keys(const char *text)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/fc-keys-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void
cleanup(void)
{
	if (path[0] != '\0')
		unlink(path);
}

TestSuite(gateways, .fini = cleanup);

#define HK "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define SK "000102030405060708090a0b0c0d0e0f"

Test(gateways, loads_keys_file_with_comments_and_rotation)
{
	struct fc_gw_table *t = fc_gw_table_create();
	char err[256] = "";
	const char *p = write_keys("# floor 1 gateways\n"
				   "\n"
				   "7   1 hmac-sha256-128 " HK "  # current\n"
				   "7   2 hmac-sha256-128 " HK "\n"
				   "0x8 0 siphash24 " SK "\n"
				   "4294967295 255 siphash24 " SK "\r\n");

	cr_assert_eq(fc_gw_table_load_keys(t, p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(t->n, 3);
	cr_assert_eq(fc_gw_table_lookup(t, 7)->n_keys, 2);
	cr_assert_not_null(fc_gateway_key(fc_gw_table_lookup(t, 7), 2));
	cr_assert_eq(fc_gateway_key(fc_gw_table_lookup(t, 8), 0)->alg, FC_MAC_SIPHASH24);
	cr_assert_not_null(fc_gw_table_lookup(t, UINT32_MAX));
	cr_assert_null(fc_gw_table_lookup(t, 9));
	cr_assert_null(fc_gw_table_lookup(t, 0));
	fc_gw_table_free(t);
}

static void
assert_refused(const char *text, int rc, const char *needle)
{
	struct fc_gw_table *t = fc_gw_table_create();
	char err[256] = "";
	const char *p = write_keys(text);

	cr_assert_eq(fc_gw_table_load_keys(t, p, err, sizeof(err)), rc, "got: %s", err);
	cr_assert_not_null(strstr(err, p), "message names the file: %s", err);
	cr_assert_not_null(strstr(err, needle), "message '%s' lacks '%s'", err, needle);
	fc_gw_table_free(t);
}

Test(gateways, refuses_bad_lines_naming_file_and_line)
{
	assert_refused("7 1 hmac-sha256-128\n", -EINVAL, ":1: expected 4 fields");
	assert_refused("\n7 1 hmac-sha256-128 " HK " extra\n", -EINVAL, ":2: expected 4 fields");
	assert_refused("seven 1 siphash24 " SK "\n", -EINVAL, "gateway_id 'seven'");
	assert_refused("-7 1 siphash24 " SK "\n", -EINVAL, "gateway_id '-7'");
	assert_refused("4294967296 1 siphash24 " SK "\n", -EINVAL, "gateway_id");
	assert_refused("7 256 siphash24 " SK "\n", -EINVAL, "key_id '256'");
	assert_refused("7 1 md5 " SK "\n", -EINVAL, "algorithm 'md5'");
	assert_refused("7 1 siphash24 " HK "\n", -EINVAL, "32 hex digits");
	assert_refused("7 1 hmac-sha256-128 " SK "\n", -EINVAL, "64 hex digits");
	assert_refused("7 1 siphash24 000102030405060708090a0b0c0d0eZZ\n", -EINVAL, "hex digits");
	assert_refused("7 1 siphash24 " SK "\n7 1 siphash24 " SK "\n", -EEXIST,
		       ":2: gateway 7 key 1");
	assert_refused("7 1 siphash24 " SK "\n7 2 siphash24 " SK "\n7 3 siphash24 " SK
		       "\n7 4 siphash24 " SK "\n7 5 siphash24 " SK "\n",
		       -ENOSPC, ":5: gateway 7 has more than 4 keys");
}

/*
 * docs/protocol.md 3.9: gateway_id is decimal ("leading zeros do not mean octal") or 0x and 1 to
 * 8 hex digits; key_id is decimal. strtoull(, 0) read "010" as 8, refused "08", took "0x1" as a
 * key_id, a sign or white space after a \v. Found by tests/fuzz/fuzz_keys
 * (regressions/keys/leading-zeros-read-as-octal).
 */
Test(gateways, numbers_are_decimal_or_0x_hex_as_documented)
{
	struct fc_gw_table *t = fc_gw_table_create();
	char err[256] = "";
	const char *p = write_keys("010 010 siphash24 " SK "\n"
				   "08 09 siphash24 " SK "\n"
				   "0XfF 0 siphash24 " SK "\n"
				   "0x0000000C 0 siphash24 " SK "\n");

	cr_assert_eq(fc_gw_table_load_keys(t, p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(t->n, 4);
	cr_assert_not_null(fc_gw_table_lookup(t, 10), "010 is gateway 10, not 8");
	cr_assert_not_null(fc_gateway_key(fc_gw_table_lookup(t, 10), 10), "and key 10");
	cr_assert_not_null(fc_gateway_key(fc_gw_table_lookup(t, 8), 9));
	cr_assert_not_null(fc_gw_table_lookup(t, 255));
	cr_assert_not_null(fc_gw_table_lookup(t, 12));
	fc_gw_table_free(t);

	assert_refused("0x1 0x1 siphash24 " SK "\n", -EINVAL, ":1: key_id '0x1'");
	assert_refused("0x000000001 1 siphash24 " SK "\n", -EINVAL, ":1: gateway_id '0x000000001'");
	assert_refused("0x 1 siphash24 " SK "\n", -EINVAL, ":1: gateway_id '0x'");
	assert_refused("7 +1 siphash24 " SK "\n", -EINVAL, ":1: key_id '+1'");
	assert_refused("\v-0 1 siphash24 " SK "\n", -EINVAL, ":1: gateway_id '\v-0'");
}

/* A NUL byte is refused, not taken as the end of the line (found by tests/fuzz/fuzz_keys). */
Test(gateways, a_nul_byte_is_refused)
{
	static const char text[] = "7 1 siphash24 " SK "\n8 1 siphash24 " SK "\0 junk";
	struct fc_gw_table *t = fc_gw_table_create();
	char err[256] = "";
	int fd;

	snprintf(path, sizeof(path), "/tmp/fc-keys-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	cr_assert_eq(fc_gw_table_load_keys(t, path, err, sizeof(err)), -EINVAL, "%s", err);
	cr_assert_not_null(strstr(err, ":2: NUL byte"), "%s", err);
	fc_gw_table_free(t);
}

Test(gateways, refuses_missing_file)
{
	struct fc_gw_table *t = fc_gw_table_create();
	char err[256] = "";

	cr_assert_eq(fc_gw_table_load_keys(t, "/nonexistent/keys", err, sizeof(err)), -ENOENT);
	cr_assert_not_null(strstr(err, "/nonexistent/keys: cannot open"));
	fc_gw_table_free(t);
}

Test(gateways, keeps_ids_sorted_for_lookup)
{
	struct fc_gw_table *t = fc_gw_table_create();
	uint8_t k[16] = { 0 };

	/* Insert in a scrambled order, past the first growth of the array. */
	for (uint32_t i = 0; i < 100; i++)
		cr_assert_eq(fc_gw_table_add_key(t, (i * 37) % 101, 0, FC_MAC_SIPHASH24, k, 16), 0);
	for (uint32_t i = 1; i < t->n; i++)
		cr_assert_lt(t->gw[i - 1].id, t->gw[i].id);
	for (uint32_t i = 0; i < 100; i++)
		cr_assert_not_null(fc_gw_table_lookup(t, (i * 37) % 101));
	cr_assert_eq(fc_gw_table_add_key(t, 5, 0, FC_MAC_SIPHASH24, k, 15), -EINVAL);
	cr_assert_eq(fc_gw_table_add_key(t, 5, 0, 7, k, 16), -EINVAL);
	fc_gw_table_free(t);
}

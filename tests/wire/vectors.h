/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test vectors shared by the wire tests: the example field values of docs/protocol.md and a
 * loader for the byte-exact vectors in tests/wire/vectors/NAME.hex. Those files are written
 * by tests/wire/ref_codec.py, an encoder written from the spec alone (no C), so a C vector
 * test compares two independent implementations, and the lint suite checks the spec's hex
 * dumps against the same files.
 */
#ifndef FC_TEST_VECTORS_H
#define FC_TEST_VECTORS_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>

#include "fc_gateways.h"
#include "fc_mac.h"
#include "fc_wire_types.h"

#define V_BASE    UINT64_C(1767225600000000000)
#define V_SESSION 0x5EED0001u

static inline void
v_hmac_key(uint8_t k[32])
{
	for (int i = 0; i < 32; i++)
		k[i] = (uint8_t)i;
}

static inline void
v_sip_key(uint8_t k[16])
{
	for (int i = 0; i < 16; i++)
		k[i] = (uint8_t)i;
}

static const struct fc_up_fix V_R0 = {
	.tag_id = UINT64_C(0x0000A4C138F0E1D2),
	.x_mm = 12345,
	.y_mm = 6789,
	.z_mm = 1100,
	.dt_us = 1500,
	.err_mm = 20,
	.quality = 90,
	.flags = 0x02,
	.fix_seq = 1001,
};
static const struct fc_up_fix V_R1 = {
	.tag_id = UINT64_C(0x0000A4C138F0E1D3),
	.x_mm = -50,
	.y_mm = 10000,
	.z_mm = 0,
	.dt_us = 2500,
	.err_mm = 0xFFFF,
	.quality = 40,
	.flags = 0x05,
	.fix_seq = 77,
};

/* Reads tests/wire/vectors/NAME.hex into buf; returns its length. Fails the test if absent. */
static inline size_t
v_load(const char *name, uint8_t *buf, size_t cap)
{
	char path[512];
	unsigned int byte;
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.hex", FC_VECTORS_DIR, name);
	f = fopen(path, "r");
	cr_assert_not_null(f, "vector %s missing", path);
	while (fscanf(f, "%2x", &byte) == 1) {
		cr_assert_lt(n, cap, "vector %s larger than %zu", name, cap);
		buf[n++] = (uint8_t)byte;
	}
	fclose(f);
	cr_assert_gt(n, 0, "vector %s empty", name);
	return n;
}

/* A gateway table with the vectors' gateways: 7 (HMAC key 1), 8 (SipHash key 0). */
static inline struct fc_gw_table *
v_table(void)
{
	struct fc_gw_table *t = fc_gw_table_create();
	uint8_t hk[32], sk[16];

	v_hmac_key(hk);
	v_sip_key(sk);
	cr_assert_not_null(t);
	cr_assert_eq(fc_gw_table_add_key(t, 7, 1, FC_MAC_HMAC_SHA256_128, hk, 32), 0);
	cr_assert_eq(fc_gw_table_add_key(t, 8, 0, FC_MAC_SIPHASH24, sk, 16), 0);
	return t;
}

#endif /* FC_TEST_VECTORS_H */

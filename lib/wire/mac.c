/* SPDX-License-Identifier: BSD-3-Clause */
/* Uplink MACs on libsodium; see fc_mac.h. */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "fc_mac.h"

unsigned int
fc_mac_tag_len(unsigned int alg)
{
	switch (alg) {
	case FC_MAC_HMAC_SHA256_128:
		return FC_MAC_HMAC_TAG_LEN;
	case FC_MAC_SIPHASH24:
		return FC_MAC_SIPHASH_TAG_LEN;
	default:
		return 0;
	}
}

unsigned int
fc_mac_key_len(unsigned int alg)
{
	switch (alg) {
	case FC_MAC_HMAC_SHA256_128:
		return FC_MAC_HMAC_KEY_LEN;
	case FC_MAC_SIPHASH24:
		return FC_MAC_SIPHASH_KEY_LEN;
	default:
		return 0;
	}
}

int
fc_mac_key_init(struct fc_mac_key *k, unsigned int alg, unsigned int key_id, const uint8_t *key,
		size_t key_len)
{
	unsigned int want = fc_mac_key_len(alg);

	if (want == 0 || key_len != want || key_id > UINT8_MAX)
		return -EINVAL;
	if (sodium_init() < 0)
		return -ENOMEM;
	memset(k, 0, sizeof(*k));
	k->alg = (uint8_t)alg;
	k->key_id = (uint8_t)key_id;
	k->tag_len = (uint8_t)fc_mac_tag_len(alg);
	if (alg == FC_MAC_HMAC_SHA256_128)
		crypto_auth_hmacsha256_init(&k->u.hmac, key, key_len);
	else
		memcpy(k->u.siphash, key, key_len);
	return 0;
}

void
fc_mac_compute(const struct fc_mac_key *k, const void *data, size_t len,
	       uint8_t tag[FC_MAC_MAX_TAG_LEN])
{
	if (k->alg == FC_MAC_HMAC_SHA256_128) {
		/* The precomputed state is copied, never consumed: keys are shared read-only. */
		crypto_auth_hmacsha256_state st = k->u.hmac;
		uint8_t full[crypto_auth_hmacsha256_BYTES];

		crypto_auth_hmacsha256_update(&st, data, len);
		crypto_auth_hmacsha256_final(&st, full);
		memcpy(tag, full, FC_MAC_HMAC_TAG_LEN);
		sodium_memzero(&st, sizeof(st));
	} else {
		crypto_shorthash_siphash24(tag, data, len, k->u.siphash);
	}
}

/*
 * Constant-time equality of two tags of len bytes (8 or 16: the length is public, the bytes
 * are not). sodium_memcmp() compares byte by byte behind a call, about 85 instructions for a
 * SipHash tag; two 64-bit XORs OR-ed together read every byte the same way whatever they hold,
 * and the barrier keeps the compiler from turning the OR into an early exit.
 */
static inline bool
tag_equal(const uint8_t *a, const uint8_t *b, unsigned int len)
{
	uint64_t x, y, d;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	d = x ^ y;
	if (len == 2 * sizeof(x)) {
		memcpy(&x, a + sizeof(x), sizeof(x));
		memcpy(&y, b + sizeof(y), sizeof(y));
		d |= x ^ y;
	}
	__asm__ volatile("" : "+r"(d));
	return d == 0;
}

static_assert(FC_MAC_SIPHASH_TAG_LEN == 8 && FC_MAC_HMAC_TAG_LEN == 16, "tag_equal's lengths");

bool
fc_mac_verify(const struct fc_mac_key *k, const void *data, size_t len, const uint8_t *tag)
{
	uint8_t want[FC_MAC_MAX_TAG_LEN];

	fc_mac_compute(k, data, len, want);
	return tag_equal(want, tag, k->tag_len);
}

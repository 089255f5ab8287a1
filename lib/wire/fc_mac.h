/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Message authentication of uplink frames (docs/protocol.md, "MAC"), on libsodium:
 * HMAC-SHA-256 truncated to 128 bits, or SipHash-2-4 (64-bit tag) for weak gateways.
 *
 * A key is prepared once at start-up: for HMAC the inner and outer hash states after the key
 * block are precomputed, so a frame costs its own SHA-256 blocks plus two, not four.
 */
#ifndef FC_MAC_H
#define FC_MAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "fc_wire_types.h"

struct fc_mac_key {
	uint8_t alg;    /* enum fc_up_mac_alg */
	uint8_t key_id; /* as carried in fc_up_hdr.key_id */
	uint8_t tag_len;
	union {
		crypto_auth_hmacsha256_state hmac; /* after the key block */
		uint8_t siphash[FC_MAC_SIPHASH_KEY_LEN];
	} u;
};

/*
 * Tag length of a MAC algorithm: 16 for HMAC-SHA-256-128, 8 for SipHash-2-4, 0 if unknown.
 */
unsigned int fc_mac_tag_len(unsigned int alg);

/*
 * Key length an algorithm takes: 32 or 16, 0 if the algorithm is unknown.
 */
unsigned int fc_mac_key_len(unsigned int alg);

/*
 * Prepares a key. Returns 0, -EINVAL for an unknown algorithm or a key of the wrong length,
 * or -ENOMEM if libsodium cannot initialise.
 */
int fc_mac_key_init(struct fc_mac_key *k, unsigned int alg, unsigned int key_id, const uint8_t *key,
		    size_t key_len);

/*
 * Writes the k->tag_len bytes of the tag of data[0, len) to tag.
 */
void fc_mac_compute(const struct fc_mac_key *k, const void *data, size_t len,
		    uint8_t tag[FC_MAC_MAX_TAG_LEN]);

/*
 * True if tag (k->tag_len bytes) is the MAC of data[0, len); the comparison is constant-time.
 */
bool fc_mac_verify(const struct fc_mac_key *k, const void *data, size_t len, const uint8_t *tag);

#endif /* FC_MAC_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The gateway table: what the receiver knows of each beacon gateway (its MAC keys and its
 * replay window), and the keys file that fills it (docs/protocol.md, "Keys file").
 *
 * Built at start-up, then read-only but for the replay windows, which belong to the lcore that
 * receives the gateway. Lookups are a binary search over an array sorted by gateway id: no
 * allocation, no hashing state, and a few hundred gateways stay within a few cache lines of
 * ids.
 */
#ifndef FC_GATEWAYS_H
#define FC_GATEWAYS_H

#include <stddef.h>
#include <stdint.h>

#include "fc_mac.h"
#include "fc_replay_window.h"

#define FC_GW_MAX_KEYS 4u /* per gateway: enough to rotate keys with an overlap */

struct fc_gateway {
	uint32_t id;
	uint32_t n_keys;
	struct fc_mac_key keys[FC_GW_MAX_KEYS];
	struct fc_replay_window window;
};

struct fc_gw_table {
	struct fc_gateway *gw; /* sorted by id */
	uint32_t n;
	uint32_t cap;
};

/*
 * Makes an empty table. Returns NULL with errno ENOMEM if out of memory.
 */
struct fc_gw_table *fc_gw_table_create(void);

/* Frees the table and every gateway in it (NULL is accepted). */
void fc_gw_table_free(struct fc_gw_table *t);

/*
 * Adds a key to gateway gateway_id, creating the gateway on its first key. Returns 0, -EINVAL
 * (unknown algorithm or wrong key length), -EEXIST (this gateway already has key_id), -ENOSPC
 * (the gateway has FC_GW_MAX_KEYS keys) or -ENOMEM.
 */
int fc_gw_table_add_key(struct fc_gw_table *t, uint32_t gateway_id, unsigned int key_id,
			unsigned int alg, const uint8_t *key, size_t key_len);

/*
 * Loads a keys file into t. Returns 0, or -errno with a one-line message naming the file, the
 * line and the reason in err[0, err_len): -ENOENT/-EACCES (cannot open), -EINVAL (syntax, an
 * unknown algorithm, a key of the wrong length, a bad number), -EEXIST, -ENOSPC, -ENOMEM.
 * On an error t may hold the keys of the lines before it; callers discard it.
 */
int fc_gw_table_load_keys(struct fc_gw_table *t, const char *path, char *err, size_t err_len);

/* The gateway with this id, or NULL. */
struct fc_gateway *fc_gw_table_lookup(const struct fc_gw_table *t, uint32_t gateway_id);

/* The gateway's key with this key_id, or NULL. */
static inline const struct fc_mac_key *
fc_gateway_key(const struct fc_gateway *g, unsigned int key_id)
{
	for (uint32_t i = 0; i < g->n_keys; i++)
		if (g->keys[i].key_id == key_id)
			return &g->keys[i];
	return NULL;
}

/* Parses an algorithm name of the keys file ("hmac-sha256-128", "siphash24"); 0 if unknown. */
unsigned int fc_mac_alg_from_name(const char *name);

#endif /* FC_GATEWAYS_H */

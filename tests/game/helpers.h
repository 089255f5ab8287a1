/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the game's tests share: layouts written to temporary files and loaded as floord would,
 * fixes, and a small deterministic random generator (so a failing permutation can be replayed
 * from its seed).
 */
#ifndef FC_TEST_GAME_HELPERS_H
#define FC_TEST_GAME_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include "fc_game.h"

#define MS 1000000ull
#define T0 1767225600000000000ull /* 2026-01-01T00:00:00Z, in ns: a plausible epoch time */

/* Writes text to a fresh temporary file; returns its path (static storage, one at a time). */
const char *layout_file(const char *text);

/* Loads text as a layout file; the test fails if it is refused. */
struct fc_game_layout *layout_from(const char *text);

/* Loads text, which must be refused; returns the rc, the message in err, the path in *path. */
int layout_refused(const char *text, char *err, size_t err_len, const char **path);

/* A fresh arbiter for text's layout and n_players, open from T0; the test fails otherwise. */
struct fc_arbiter *arbiter_from(const char *text, uint32_t n_players);

struct fc_game_fix fix_at(uint16_t player, uint64_t meas_ns, int32_t x_mm, int32_t y_mm,
			  uint16_t err_mm, uint32_t fix_seq);

/* xorshift64*: deterministic across libcs, unlike rand(). */
uint64_t rnd_next(uint64_t *s);
uint32_t rnd_below(uint64_t *s, uint32_t n);
void shuffle_u32(uint64_t *s, uint32_t *v, uint32_t n);

#endif /* FC_TEST_GAME_HELPERS_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The arbiter's control path: how much memory it needs for a layout and a number of players,
 * carving that memory, and the round reset. All of an arbiter's memory is one block sized here,
 * so the owner can take it from its NUMA node (fc_arbiter_init()) and nothing is allocated after.
 * The hot path is arbiter_fp.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fc_game.h"
#include "game_priv.h"

static size_t
round_up(size_t n)
{
	return (n + FC__CACHE_LINE - 1) & ~(size_t)(FC__CACHE_LINE - 1);
}

bool
fc__arb_layout(const struct fc_game_layout *l, uint32_t n_players, struct fc__arb_layout *out)
{
	size_t words = ((size_t)n_players + 63) / 64, off;

	if (l == NULL || n_players == 0 || n_players > FC_GAME_MAX_PLAYERS ||
	    l->n_clues > FC_GAME_MAX_CLUES)
		return false;
	off = round_up(sizeof(struct fc_arbiter));
	out->clues = off;
	off += (size_t)l->n_clues * sizeof(struct fc__clue);
	out->seen = off;
	off = round_up(off + (size_t)l->n_clues * words * sizeof(uint64_t));
	out->ref = off;
	off = round_up(off + (size_t)n_players * sizeof(struct fc_game_ref));
	out->dwell = off;
	if (fc__has_dwell(&l->rules))
		off += (size_t)l->n_clues * n_players * sizeof(struct fc__dwell);
	out->size = round_up(off);
	return true;
}

size_t
fc_arbiter_mem_size(const struct fc_game_layout *l, uint32_t n_players)
{
	struct fc__arb_layout lay;

	return fc__arb_layout(l, n_players, &lay) ? lay.size : 0;
}

static void
open_clue(struct fc__clue *c, uint64_t open_ns)
{
	c->state = FC_ARB_CLUE_OPEN;
	c->n_listed = 0;
	c->total = 0;
	c->winner = FC_GAME_PLAYER_NONE;
	c->unreported = 0;
	c->open_ns = open_ns;
	c->deadline_ns = 0;
	c->reopen_ns = 0;
}

int
fc_arbiter_init(struct fc_arbiter **out, void *mem, size_t len, const struct fc_game_layout *l,
		uint32_t n_players, uint64_t open_ns)
{
	struct fc__arb_layout lay;
	struct fc_arbiter *a = mem;
	char *base = mem;

	*out = NULL;
	if (mem == NULL || ((uintptr_t)mem & (FC__CACHE_LINE - 1)) != 0 ||
	    !fc__arb_layout(l, n_players, &lay) || len < lay.size)
		return -EINVAL;
	memset(mem, 0, lay.size);
	a->rules = l->rules;
	a->n_clues = l->n_clues;
	a->n_players = n_players;
	a->seen_words = (n_players + 63) / 64;
	a->clues = (struct fc__clue *)(base + lay.clues);
	a->seen = (uint64_t *)(base + lay.seen);
	a->ref = (struct fc_game_ref *)(base + lay.ref);
	a->dwell = fc__has_dwell(&l->rules) ? (struct fc__dwell *)(base + lay.dwell) : NULL;
	a->next_deadline = UINT64_MAX;
	a->next_reopen = UINT64_MAX;
	for (uint32_t i = 0; i < l->n_clues; i++) {
		struct fc__clue *c = &a->clues[i];

		c->clue = l->clues[i];
		c->respawn_ns = (uint64_t)l->clues[i].respawn_s * 1000000000u;
		open_clue(c, open_ns);
	}
	*out = a;
	return 0;
}

int
fc_arbiter_create(struct fc_arbiter **out, const struct fc_game_layout *l, uint32_t n_players,
		  uint64_t open_ns)
{
	size_t size = fc_arbiter_mem_size(l, n_players);
	void *mem;
	int rc;

	*out = NULL;
	if (size == 0)
		return -EINVAL;
	mem = aligned_alloc(FC__CACHE_LINE, size);
	if (mem == NULL)
		return -ENOMEM;
	rc = fc_arbiter_init(out, mem, size, l, n_players, open_ns);
	if (rc != 0) {
		free(mem);
		return rc;
	}
	(*out)->owns_mem = true;
	return 0;
}

void
fc_arbiter_free(struct fc_arbiter *a)
{
	if (a != NULL && a->owns_mem)
		free(a);
}

void
fc_arbiter_reset(struct fc_arbiter *a, uint64_t open_ns)
{
	for (uint32_t i = 0; i < a->n_clues; i++)
		open_clue(&a->clues[i], open_ns);
	memset(a->seen, 0, (size_t)a->n_clues * a->seen_words * sizeof(uint64_t));
	if (a->dwell != NULL)
		memset(a->dwell, 0, (size_t)a->n_clues * a->n_players * sizeof(*a->dwell));
	a->n_settling = 0;
	a->n_waiting = 0;
	a->n_unreported = 0;
	a->next_deadline = UINT64_MAX;
	a->next_reopen = UINT64_MAX;
}

int
fc_arbiter_restore(struct fc_arbiter *a, uint32_t idx, uint16_t winner, uint64_t deadline_ns)
{
	struct fc__clue *c;

	if (idx >= a->n_clues || deadline_ns == 0 || a->clues[idx].state != FC_ARB_CLUE_OPEN)
		return -EINVAL;
	c = &a->clues[idx];
	c->state = FC_ARB_CLUE_DECIDED;
	c->winner = winner;
	c->deadline_ns = deadline_ns;
	c->reopen_ns = 0;
	if (c->respawn_ns != 0) {
		c->reopen_ns = deadline_ns + c->respawn_ns;
		a->n_waiting++;
		if (c->reopen_ns < a->next_reopen)
			a->next_reopen = c->reopen_ns;
	}
	return 0;
}

uint32_t
fc_arbiter_n_clues(const struct fc_arbiter *a)
{
	return a->n_clues;
}

void
fc_arbiter_clue_info(const struct fc_arbiter *a, uint32_t idx, struct fc_arbiter_clue_info *out)
{
	const struct fc__clue *c = &a->clues[idx];

	*out = (struct fc_arbiter_clue_info){ .state = (enum fc_arbiter_clue_state)c->state,
					      .winner = c->winner,
					      .contenders_total = c->total,
					      .open_ns = c->open_ns,
					      .deadline_ns = c->deadline_ns,
					      .reopen_ns = c->reopen_ns };
}

void
fc_arbiter_stats(const struct fc_arbiter *a, struct fc_arbiter_stats *out)
{
	*out = a->st;
}

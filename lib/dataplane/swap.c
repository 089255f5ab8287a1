/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Generations of what the lcores read without locks (control path): the tag table and the RX
 * tag caches of a roster, the clue discs, arbiters and TX clue states of a layout. floord's
 * start builds generation 1 of each; floorctl's load layout and roster commands build the next
 * ones here, off the packet path, and hand them to TX, which publishes them at a tick boundary
 * (fc_tick.h, "Swaps"). A generation is freed once every role says it reads a newer one.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "dataplane_priv.h"
#include "fc_game.h"

void
fc__layout_gen_free(struct fc_layout_gen *g)
{
	if (g == NULL)
		return;
	for (uint32_t o = 0; o < FC_TICK_MAX_OWNERS; o++) {
		rte_free(g->game[o].arb); /* the arbiter lives at the start of its block */
		rte_free(g->game[o].respawns);
	}
	rte_free(g->tx.clue);
	fc_disc_index_free(&g->discs);
	if (g->owned)
		fc_game_layout_free((struct fc_game_layout *)(uintptr_t)g->layout);
	free(g);
}

struct fc_layout_gen *
fc__layout_gen_build(struct fc_dataplane *dp, const struct fc_game_layout *l, bool owned,
		     uint64_t id, char *err, size_t len)
{
	struct fc_layout_gen *g = calloc(1, sizeof(*g));
	int32_t *x = calloc(l->n_clues + 1, sizeof(*x));
	int32_t *y = calloc(l->n_clues + 1, sizeof(*y));
	uint32_t *r = calloc(l->n_clues + 1, sizeof(*r));
	size_t sz = fc_arbiter_mem_size(l, dp->n_players);
	int tx_sock = fc__lcore_socket(dp->cfg->tx_lcore);

	if (g == NULL || x == NULL || y == NULL || r == NULL)
		goto nomem;
	g->layout = l;
	g->owned = owned;
	if (sz == 0) {
		snprintf(err, len, "the layout's arbiter: no size for %u players", dp->n_players);
		goto fail;
	}
	for (uint32_t i = 0; i < l->n_clues; i++) {
		x[i] = l->clues[i].x_mm;
		y[i] = l->clues[i].y_mm;
		r[i] = l->clues[i].radius_mm;
	}
	if (fc_disc_index_build(&g->discs, &dp->geom, x, y, r, l->n_clues) != 0)
		goto nomem;
	/* Each owner's arbiter and respawn counts on the owner's node, as at start. */
	for (uint32_t o = 0; o < dp->n_owners; o++) {
		int sock = fc__lcore_socket(dp->cfg->owner_lcores[o]);
		void *mem = rte_zmalloc_socket("fc_arbiter", sz, RTE_CACHE_LINE_SIZE, sock);

		if (mem == NULL ||
		    fc_arbiter_init(&g->game[o].arb, mem, sz, l, dp->n_players, 0) != 0) {
			rte_free(mem);
			snprintf(err, len, "owner %u: the arbiter (%zu bytes) on socket %d", o, sz,
				 sock);
			goto fail;
		}
		g->game[o].discs = &g->discs;
		g->game[o].layout = l;
		g->game[o].respawns = rte_zmalloc_socket(
			"fc_respawns", (l->n_clues + 1) * sizeof(uint32_t), 0, sock);
		if (g->game[o].respawns == NULL)
			goto nomem;
		g->tx.game[o] = &g->game[o];
	}
	g->tx.clue = rte_zmalloc_socket("fc_tx_clue", (l->n_clues + 1) * sizeof(*g->tx.clue), 0,
					tx_sock);
	if (g->tx.clue == NULL)
		goto nomem;
	for (uint32_t i = 0; i < l->n_clues; i++)
		g->tx.clue[i] =
			(struct fc_tx_clue){ .winner = FC_PLAYER_NONE, .state = FC_CLUE_OPEN };
	g->tx.id = id;
	g->tx.layout = l;
	g->tx.discs = &g->discs;
	free(x);
	free(y);
	free(r);
	return g;
nomem:
	snprintf(err, len, "the layout: out of memory");
fail:
	free(x);
	free(y);
	free(r);
	if (g != NULL)
		g->owned = false; /* the caller still has l */
	fc__layout_gen_free(g);
	return NULL;
}

void
fc__roster_gen_free(struct fc_roster_gen *g)
{
	if (g == NULL)
		return;
	for (uint32_t r = 0; r < FC_TICK_MAX_RX; r++)
		rte_free(g->view[r].cache);
	rte_hash_free(g->tags);
	free(g);
}

struct fc_roster_gen *
fc__roster_gen_build(struct fc_dataplane *dp, const struct fc_roster_entry *e, uint32_t n,
		     uint64_t gen, char *err, size_t len)
{
	struct fc_roster_gen *g = calloc(1, sizeof(*g));
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = rte_align32pow2(n < 8 ? 16 : n * 2),
		.key_len = sizeof(uint64_t),
		.hash_func = rte_hash_crc, /* SSE4.2 crc32: a few instructions a tag */
		.socket_id = dp->port_socket,
	};
	uint32_t log2 = 10;

	if (g == NULL) {
		snprintf(err, len, "tag table: out of memory");
		return NULL;
	}
	/* Each generation has its own table: rte_hash names are unique in the process. */
	snprintf(name, sizeof(name), gen == 1 ? "fc_tags" : "fc_tags_%" PRIu64, gen);
	g->tags = rte_hash_create(&hp);
	if (g->tags == NULL) {
		snprintf(err, len, "tag table of %u entries: %s", hp.entries,
			 rte_strerror(rte_errno));
		goto fail;
	}
	for (uint32_t i = 0; i < n; i++) {
		int rc = rte_hash_add_key_data(g->tags, &e[i].tag_id,
					       (void *)(uintptr_t)e[i].player);

		if (rc != 0) {
			snprintf(err, len, "tag table: %s", rte_strerror(-rc));
			goto fail;
		}
	}
	/* The tag caches: 4 slots a roster entry (at least 1024), on each RX's node. */
	while ((UINT32_C(1) << log2) < 4 * n && log2 < 24)
		log2++;
	for (uint32_t r = 0; r < dp->n_rx; r++) {
		int sock = fc__lcore_socket(dp->cfg->rx_lcores[r]);
		struct fc_tag_slot *c = rte_zmalloc_socket("fc_tag_cache", sizeof(*c) << log2,
							   RTE_CACHE_LINE_SIZE, sock);

		if (c == NULL) {
			snprintf(err, len, "RX %u: tag cache: out of memory on socket %d", r, sock);
			goto fail;
		}
		for (uint32_t i = 0; i < n; i++) {
			struct fc_tag_slot *s = &c[fc_tag_slot_of(e[i].tag_id, log2)];

			if (s->player1 == 0) /* a collision stays with the rte_hash */
				*s = (struct fc_tag_slot){ .tag = e[i].tag_id,
							   .player1 = e[i].player + 1u };
		}
		g->view[r] = (struct fc_rx_tags){ .tags = g->tags, .cache = c, .cache_log2 = log2 };
		g->tx.rx[r] = &g->view[r];
	}
	g->tx.gen = gen;
	return g;
fail:
	fc__roster_gen_free(g);
	return NULL;
}

/* The smallest generation of a kind any RX reads (UINT64_MAX without RX). */
static uint64_t
rx_used(const struct fc_dataplane *dp, enum fc_tick_swap k)
{
	uint64_t m = UINT64_MAX;

	for (uint32_t r = 0; r < dp->n_rx; r++) {
		uint64_t u = fc_tick_load(&dp->sync->rx[r].used[k]);

		if (u < m)
			m = u;
	}
	return m;
}

void
fc__gen_collect(struct fc_dataplane *dp, bool all)
{
	uint64_t roster = rx_used(dp, FC_TICK_SWAP_ROSTER);
	uint64_t layout = rx_used(dp, FC_TICK_SWAP_LAYOUT);
	uint64_t tx_layout;
	uint32_t sn;

	for (uint32_t o = 0; o < dp->n_owners; o++) {
		uint64_t u = fc_tick_load(&dp->sync->owner[o].used_layout);

		if (u < layout)
			layout = u;
	}
	do {
		sn = rte_seqcount_read_begin(&dp->sync->round.sc);
		tx_layout = dp->sync->round.layout_id;
	} while (rte_seqcount_read_retry(&dp->sync->round.sc, sn));
	if (tx_layout < layout)
		layout = tx_layout;
	/* Every role reads generation >= the minimum: older ones have no reader left. */
	for (struct fc_roster_gen **p = &dp->rosters; *p != NULL;) {
		struct fc_roster_gen *g = *p;

		if (all || g->tx.gen < roster) {
			*p = g->next;
			fc__roster_gen_free(g);
		} else {
			p = &g->next;
		}
	}
	for (struct fc_layout_gen **p = &dp->layouts; *p != NULL;) {
		struct fc_layout_gen *g = *p;

		if (all || g->tx.id < layout) {
			*p = g->next;
			fc__layout_gen_free(g);
		} else {
			p = &g->next;
		}
	}
}

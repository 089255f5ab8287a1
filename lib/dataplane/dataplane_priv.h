/* SPDX-License-Identifier: BSD-3-Clause */
/* The dataplane's internals, shared by its setup, report, NUMA and telemetry files. */
#ifndef FC_DATAPLANE_PRIV_H
#define FC_DATAPLANE_PRIV_H

#include <stdio.h>

#include <rte_hash.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "fc_config.h"
#include "fc_control.h"
#include "fc_dataplane.h"
#include "fc_grid.h"
#include "fc_journal.h"
#include "fc_owner.h"
#include "fc_rx.h"
#include "fc_tick.h"
#include "fc_tx.h"

/*
 * A layout generation (swap.c): everything the roles read to play one clue layout, built off
 * the packet path; tx is what TX publishes. The control thread keeps the list, oldest first.
 */
struct fc_layout_gen {
	struct fc_tx_layout tx;
	const struct fc_game_layout *layout;
	bool owned; /* the generation frees layout (floord's start layout is main's) */
	struct fc_disc_index discs;
	struct fc_owner_game game[FC_TICK_MAX_OWNERS];
	char text[FC_JOURNAL_TEXT_MAX + 1]; /* "load layout PATH": the journal's copy */
	struct fc_layout_gen *next;
};

/* A roster generation (swap.c): the tag table and each RX's tag cache for one roster. */
struct fc_roster_gen {
	struct fc_tx_roster tx;
	struct rte_hash *tags;
	struct fc_rx_tags view[FC_TICK_MAX_RX];
	char text[FC_JOURNAL_TEXT_MAX + 1]; /* "roster add ...": the journal's copy */
	struct fc_roster_gen *next;
};

/* The roles one lcore runs. */
struct fc_lcore_plan {
	uint32_t n_rx;
	uint32_t rx[FC_TICK_MAX_RX];
	uint32_t n_owners;
	uint32_t owner[FC_TICK_MAX_OWNERS];
	bool tx;
};

struct fc_dataplane {
	const struct fc_config *cfg;
	struct fc_dataplane_opts opts;
	uint16_t port;
	int port_socket; /* clamped: never -1 */
	bool port_socket_known;
	bool port_started;
	bool port_closed;
	uint32_t n_players;
	uint32_t n_rx;
	uint32_t n_owners;
	uint32_t mbufs;
	struct rte_mempool *pool;
	struct fc_geom geom;
	struct fc_tick_sync *sync;
	struct fc_rx *rx[FC_TICK_MAX_RX];
	struct fc_owner *owner[FC_TICK_MAX_OWNERS];
	struct fc_tx *tx;
	const struct fc_game_layout *layout; /* the one floord started on (main's) */
	uint32_t restored_clues;             /* clues DECIDED again from the journal at a restart */
	uint16_t *team;                      /* player -> team, from the roster (TX adds) */
	uint32_t n_teams;
	/* the generations (swap.c) and what the control thread alone reads and writes */
	struct fc_layout_gen *layouts;
	struct fc_roster_gen *rosters;
	struct fc_roster_entry *roster; /* the roster after every command taken (malloc) */
	uint32_t n_roster;
	uint64_t next_layout_id;
	uint64_t next_roster_gen;
	/* a restart (restore.c): the layout the round plays and the one loaded after it */
	struct fc_game_layout *restored;      /* NULL: the floor file's (dp->layout) */
	uint64_t restored_id;                 /* its layout id; 1 without a restart */
	struct fc_game_layout *restored_next; /* loaded, waiting for a round start; or NULL */
	uint64_t restored_next_id;
	char restored_next_text[FC_JOURNAL_TEXT_MAX + 1];
	struct rte_ring *claims[FC_TICK_MAX_OWNERS];
	struct rte_ring *cmds;      /* floorctl's commands to TX */
	struct fc_control *control; /* the control socket's server, NULL if none */
	uint64_t next_cmd_seq;      /* the control thread's only */
	struct rte_ring *ring[FC_TICK_MAX_RX][FC_TICK_MAX_OWNERS];
	struct fc_lcore_plan plan[RTE_MAX_LCORE];
	uint64_t tsc_hz;
	uint64_t mempool_in_use_at_exit;
	uint64_t elapsed_ns;      /* wall time of the run, lcores launched to all done */
	uint64_t drained_at_exit; /* frames left on the RX queues after the end of session */
	bool ran;
};

/* Prometheus text exposition of the counters (report.c), for floorctl metrics. */
void fc__report_metrics(const struct fc_dataplane *dp, FILE *out);

/* The control socket's request handler (ctl.c). */
void fc__control_handle(void *arg, const char *request, char *reply, size_t len);

/*
 * Generations (swap.c). The builders return NULL with a message in err; a layout generation
 * frees l only if owned. fc__gen_collect() frees the generations no role reads any more (all:
 * every one, at exit).
 */
struct fc_layout_gen *fc__layout_gen_build(struct fc_dataplane *dp, const struct fc_game_layout *l,
					   bool owned, uint64_t id, char *err, size_t len);
void fc__layout_gen_free(struct fc_layout_gen *g);
struct fc_roster_gen *fc__roster_gen_build(struct fc_dataplane *dp, const struct fc_roster_entry *e,
					   uint32_t n, uint64_t gen, char *err, size_t len);
void fc__roster_gen_free(struct fc_roster_gen *g);
void fc__gen_collect(struct fc_dataplane *dp, bool all);

/*
 * The roster after "roster add TAG PLAYER TEAM [NAME]" (add) or "roster remove TAG" (args:
 * what follows the command's words), checked against dp->roster and dp->n_players (ctl.c).
 * Returns 0 with the entry added or removed in *e and a new array in *out, or -errno with
 * the reason in err; dp is not changed.
 */
int fc__roster_change(const struct fc_dataplane *dp, bool add, const char *args,
		      struct fc_roster_entry *e, struct fc_roster_entry **out, uint32_t *n_out,
		      char *err, size_t len);

/*
 * A restart on a journal (restore.c): the roster changes and the layouts the journal's COMMAND
 * records took, replayed onto the floor file's: fc__restore_roster() changes dp->roster before
 * the tag tables are built, fc__restore_layout() says which layout the round plays (and which
 * one waits for the next round start). -errno with the command and the reason in err.
 */
int fc__restore_roster(struct fc_dataplane *dp, char *err, size_t len);
int fc__restore_layout(struct fc_dataplane *dp, char *err, size_t len);

/* Socket of an lcore, clamped to a usable index (DPDK reports -1 for "unknown"). */
int fc__lcore_socket(unsigned int lcore);

#endif /* FC_DATAPLANE_PRIV_H */

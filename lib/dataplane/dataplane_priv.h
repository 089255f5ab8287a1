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
#include "fc_owner.h"
#include "fc_rx.h"
#include "fc_tick.h"
#include "fc_tx.h"

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
	struct rte_hash *tags;
	struct fc_geom geom;
	struct fc_tick_sync *sync;
	struct fc_rx *rx[FC_TICK_MAX_RX];
	struct fc_owner *owner[FC_TICK_MAX_OWNERS];
	struct fc_tx *tx;
	const struct fc_game_layout *layout;
	struct fc_disc_index discs;
	uint32_t restored_clues; /* clues DECIDED again from the journal at a restart */
	uint16_t *team;          /* player -> team, from the roster */
	uint32_t n_teams;
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

/* Socket of an lcore, clamped to a usable index (DPDK reports -1 for "unknown"). */
int fc__lcore_socket(unsigned int lcore);

#endif /* FC_DATAPLANE_PRIV_H */

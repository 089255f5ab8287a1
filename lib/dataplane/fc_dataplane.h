/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane: floord's whole pipeline wired from a configuration. It sets up the port (from
 * its drivers-cfg profile), the mempool, the tag table, one SP/SC ring per (RX, owner) on the
 * owner's NUMA node, the roles (fc_rx, fc_owner, fc_tx) and which lcore runs which; then runs
 * them until the end of session, and reports.
 *
 * Layouts are configuration: every role on one lcore (run to completion), two lcores, or N RX x
 * M owners + TX. Each lcore runs a loop over the roles it holds; every role's poll returns
 * without waiting, so roles sharing an lcore never deadlock (fc_tick.h).
 */
#ifndef FC_DATAPLANE_H
#define FC_DATAPLANE_H

#include <stdbool.h>
#include <stdio.h>

#include "fc_config.h"

struct fc_dataplane;

struct fc_game_layout;
struct fc_journal;
struct fc_journal_recovered;

struct fc_dataplane_opts {
	const struct fc_game_layout *layout; /* the clues of the round, NULL for positions only */
	struct fc_journal *journal;          /* awards made durable before announced; or NULL */
	const struct fc_journal_recovered *recovered; /* what the journal held at start */
	bool replay; /* the clock is the capture's timestamps; the end of input ends the run */
	double pace; /* replay paced: 1.0 capture speed, 2.0 twice as fast; 0 as fast as it reads */
};

/*
 * Builds the dataplane for cfg on port 0 (the EAL must be initialised). Returns NULL with
 * rte_errno set and a one-line reason in err: lcores of the layout not enabled in the EAL,
 * more busy lcores than CPUs, a port that cannot do what the profile asks, no memory, ...
 */
struct fc_dataplane *fc_dataplane_create(const struct fc_config *cfg,
					 const struct fc_dataplane_opts *opts, char *err,
					 size_t err_len);

/*
 * Runs the pipeline on every lcore of the layout (the calling main lcore included) until the
 * end of session has been sent. Returns 0, or -errno if the port could not start.
 */
int fc_dataplane_run(struct fc_dataplane *dp);

/* Asks the RX lcores to stop (async-signal-safe): the pipeline drains and ends the session. */
void fc_dataplane_stop(struct fc_dataplane *dp);

/* The exit report, human-readable. */
void fc_dataplane_report(const struct fc_dataplane *dp, FILE *out);

/* The same figures as one JSON object (for tests and tools). */
void fc_dataplane_report_json(const struct fc_dataplane *dp, FILE *out);

/*
 * The NUMA placement report: every port, queue, ring, shard, mempool and lcore with its node,
 * and every cross-node hop with the change that removes it. Returns the number of hops.
 */
unsigned int fc_dataplane_numa_report(const struct fc_dataplane *dp, FILE *out);

/* Registers the /floorcast/ telemetry commands for dp (one dataplane per process). */
int fc_dataplane_telemetry_register(struct fc_dataplane *dp);

/* Stops the port and frees everything. NULL is accepted. */
void fc_dataplane_free(struct fc_dataplane *dp);

#endif /* FC_DATAPLANE_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * floorctl's requests, answered on the control thread (docs/control.md). Round commands are
 * sequenced here and handed to TX through a ring; TX applies them at the start of the next
 * tick and echoes each as a COMMAND_ECHO event. Status reads the lcores' counters as telemetry
 * does: never anything that could block them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dataplane_priv.h"
#include "fc_journal.h"

static const char *const round_names[] = { "idle", "running", "paused", "ended" };

static void
status(struct fc_dataplane *dp, char *reply, size_t len)
{
	uint64_t frames = 0, fixes = 0, applied = 0, claims = 0;
	uint32_t sn, id, state;

	do {
		sn = rte_seqcount_read_begin(&dp->sync->round.sc);
		id = dp->sync->round.id;
		state = dp->sync->round.state;
	} while (rte_seqcount_read_retry(&dp->sync->round.sc, sn));
	for (uint32_t r = 0; r < dp->n_rx; r++) {
		frames += dp->rx[r]->st.frames;
		fixes += dp->rx[r]->st.fixes;
	}
	for (uint32_t o = 0; o < dp->n_owners; o++) {
		applied += dp->owner[o]->st.applied;
		claims += dp->owner[o]->st.claims;
	}
	snprintf(reply, len,
		 "{\"ok\": true, \"round\": {\"id\": %u, \"state\": \"%s\"}, \"ticks\": %" PRIu64
		 ", \"players\": %u, \"clues\": %u, \"rx_frames\": %" PRIu64 ", \"fixes\": %" PRIu64
		 ", \"applied\": %" PRIu64 ", \"claims\": %" PRIu64 ", \"events\": %" PRIu64
		 ", \"journal\": \"%s\"}",
		 id, state < 4 ? round_names[state] : "?", dp->tx->st.ticks, dp->n_players,
		 dp->layout != NULL ? dp->layout->n_clues : 0, frames, fixes, applied, claims,
		 dp->tx->st.events, dp->cfg->journal_file);
}

void
fc__control_handle(void *arg, const char *request, char *reply, size_t len)
{
	static const struct {
		const char *name;
		uint16_t code;
	} rounds[] = {
		{ "round start", FC_CMD_ROUND_START },
		{ "round pause", FC_CMD_ROUND_PAUSE },
		{ "round resume", FC_CMD_ROUND_RESUME },
		{ "round end", FC_CMD_ROUND_END },
	};
	struct fc_dataplane *dp = arg;

	if (strcmp(request, "status") == 0) {
		status(dp, reply, len);
		return;
	}
	for (unsigned int i = 0; i < RTE_DIM(rounds); i++) {
		struct fc_cmd c = { .code = rounds[i].code };

		if (strcmp(request, rounds[i].name) != 0)
			continue;
		if (dp->layout == NULL || dp->cmds == NULL) {
			snprintf(reply, len,
				 "{\"ok\": false, \"error\": \"no game: the floor file "
				 "has no [game] layout\"}");
			return;
		}
		c.cmd_seq = dp->next_cmd_seq;
		if (rte_ring_enqueue_elem(dp->cmds, &c, sizeof(c)) != 0) {
			snprintf(reply, len,
				 "{\"ok\": false, \"error\": \"busy: too many commands "
				 "waiting for the next tick\"}");
			return;
		}
		dp->next_cmd_seq++;
		snprintf(reply, len,
			 "{\"ok\": true, \"cmd_seq\": %" PRIu64
			 ", \"applied\": \"at the next tick, "
			 "echoed as COMMAND_ECHO\"}",
			 c.cmd_seq);
		return;
	}
	snprintf(reply, len,
		 "{\"ok\": false, \"error\": \"unknown request; expected status, round start, "
		 "round pause, round resume or round end\"}");
}

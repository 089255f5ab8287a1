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
#include <stdlib.h>
#include <string.h>

#include "dataplane_priv.h"
#include "fc_journal.h"

static const char *const round_names[] = { "idle", "running", "paused", "ended" };

/* Appends text as a JSON string value (quotes, backslashes, newlines escaped). */
static size_t
json_string(char *out, size_t len, const char *text)
{
	size_t n = 0;

	if (len < 3)
		return 0;
	out[n++] = '"';
	for (const char *p = text; *p != '\0' && n + 3 < len; p++) {
		if (*p == '"' || *p == '\\') {
			out[n++] = '\\';
			out[n++] = *p;
		} else if (*p == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else if ((unsigned char)*p >= 0x20) {
			out[n++] = *p;
		}
	}
	out[n++] = '"';
	out[n] = '\0';
	return n;
}

/* Renders one of the reports into a string (control thread only: it may allocate). */
static char *
render(const struct fc_dataplane *dp, void (*fn)(const struct fc_dataplane *, FILE *))
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	if (f == NULL)
		return NULL;
	fn(dp, f);
	fclose(f);
	return text;
}

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
	/* The human-readable report rides along as "text" (floorctl status prints it). */
	{
		char *text = render(dp, fc_dataplane_report);
		size_t n = strlen(reply);

		if (text != NULL && n > 1 && n + 16 < len) {
			n--; /* over the closing brace */
			n += (size_t)snprintf(reply + n, len - n, ", \"text\": ");
			n += json_string(reply + n, len - n - 1, text);
			snprintf(reply + n, len - n, "}");
		}
		free(text);
	}
}

static void
metrics(struct fc_dataplane *dp, char *reply, size_t len)
{
	char *text = render(dp, fc__report_metrics);
	size_t n;

	if (text == NULL) {
		snprintf(reply, len, "{\"ok\": false, \"error\": \"out of memory\"}");
		return;
	}
	n = (size_t)snprintf(reply, len, "{\"ok\": true, \"metrics\": ");
	n += json_string(reply + n, len - n - 1, text);
	snprintf(reply + n, len - n, "}");
	free(text);
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
	if (strcmp(request, "metrics") == 0) {
		metrics(dp, reply, len);
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
	snprintf(
		reply, len,
		"{\"ok\": false, \"error\": \"unknown request; expected status, metrics, round start, "
		"round pause, round resume or round end\"}");
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * floorctl's requests, answered on the control thread (docs/control.md). Commands are
 * sequenced here and handed to TX through a ring; TX applies them at the start of the next
 * tick and echoes each as a COMMAND_ECHO event. load layout and roster add/remove are checked
 * here and refused with the reason, touching nothing; a good one is built here whole, off the
 * packet path (swap.c), and TX publishes it at a tick boundary. Status reads the lcores'
 * counters as telemetry does: never anything that could block them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane_priv.h"
#include "fc_game.h"
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
	uint64_t frames = 0, fixes = 0, applied = 0, claims = 0, layout_id;
	uint32_t sn, id, state, clues = 0;

	do {
		sn = rte_seqcount_read_begin(&dp->sync->round.sc);
		id = dp->sync->round.id;
		state = dp->sync->round.state;
		layout_id = dp->sync->round.layout_id;
	} while (rte_seqcount_read_retry(&dp->sync->round.sc, sn));
	/* the layout in play: its generation is alive, only this thread frees generations */
	for (const struct fc_layout_gen *g = dp->layouts; g != NULL; g = g->next)
		if (g->tx.id == layout_id)
			clues = g->layout->n_clues;
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
		 ", \"players\": %u, \"roster\": %u, \"layout_id\": %" PRIu64
		 ", \"clues\": %u, \"rx_frames\": %" PRIu64 ", \"fixes\": %" PRIu64
		 ", \"applied\": %" PRIu64 ", \"claims\": %" PRIu64 ", \"events\": %" PRIu64
		 ", \"journal\": \"%s\"}",
		 id, state < 4 ? round_names[state] : "?", dp->tx->st.ticks, dp->n_players,
		 dp->n_roster, layout_id, clues, frames, fixes, applied, claims, dp->tx->st.events,
		 dp->cfg->journal_file);
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

/* The reply of a refusal: the reason as a JSON string. */
static void
refuse(char *reply, size_t len, const char *why)
{
	size_t n = (size_t)snprintf(reply, len, "{\"ok\": false, \"error\": ");

	n += json_string(reply + n, len - n - 2, why);
	snprintf(reply + n, len - n, "}");
}

/* Numbers the command and hands it to TX; false (and the reply said why) if the ring is full. */
static bool
send_cmd(struct fc_dataplane *dp, struct fc_cmd *c, char *reply, size_t len)
{
	c->cmd_seq = dp->next_cmd_seq;
	if (rte_ring_enqueue_elem(dp->cmds, c, sizeof(*c)) != 0) {
		refuse(reply, len, "busy: too many commands waiting for the next tick");
		return false;
	}
	dp->next_cmd_seq++;
	return true;
}

/*
 * load layout FILE: the file is read and checked as at start (fc_game_layout_load(), then
 * against the floor); a refusal says FILE:LINE: reason and touches nothing. A good layout is
 * built for every role here and waits at TX for the next round start (docs/control.md).
 */
static void
load_layout_at(struct fc_dataplane *dp, const char *path, char *reply, size_t len)
{
	struct fc_game_layout *l = NULL;
	struct fc_layout_gen *g;
	struct fc_cmd c = { .code = FC_CMD_LOAD_LAYOUT };
	char err[FC_CFG_ERR_MAX];

	if (fc_game_layout_load(path, &l, err, sizeof(err)) != 0 ||
	    fc_game_layout_check_floor(l, path, dp->cfg->width_mm, dp->cfg->height_mm, err,
				       sizeof(err)) != 0) {
		fc_game_layout_free(l);
		refuse(reply, len, err);
		return;
	}
	g = fc__layout_gen_build(dp, l, true, dp->next_layout_id, err, sizeof(err));
	if (g == NULL) {
		fc_game_layout_free(l);
		refuse(reply, len, err);
		return;
	}
	if (snprintf(g->text, sizeof(g->text), "load layout %s", path) >= (int)sizeof(g->text)) {
		fc__layout_gen_free(g);
		refuse(reply, len, "load layout: the path is too long for the journal");
		return;
	}
	g->tx.text = g->text;
	c.obj = &g->tx;
	if (!send_cmd(dp, &c, reply, len)) {
		fc__layout_gen_free(g);
		return;
	}
	g->next = NULL;
	{
		struct fc_layout_gen **p = &dp->layouts;

		while (*p != NULL)
			p = &(*p)->next;
		*p = g;
	}
	dp->next_layout_id++;
	snprintf(reply, len,
		 "{\"ok\": true, \"cmd_seq\": %" PRIu64 ", \"layout_id\": %" PRIu64
		 ", \"clues\": %u, \"applied\": \"from the next round start, echoed as "
		 "COMMAND_ECHO at the next tick\"}",
		 c.cmd_seq, g->tx.id, l->n_clues);
}

/* The file by its absolute path: the journal's copy must mean the same file after a restart. */
static void
load_layout(struct fc_dataplane *dp, const char *path, char *reply, size_t len)
{
	char err[FC_CFG_ERR_MAX];
	char *abs;

	if (*path == '\0') {
		refuse(reply, len, "load layout: expected a file");
		return;
	}
	abs = realpath(path, NULL);
	if (abs == NULL) {
		snprintf(err, sizeof(err), "%s: cannot open: %s", path, strerror(errno));
		refuse(reply, len, err);
		return;
	}
	load_layout_at(dp, abs, reply, len);
	free(abs);
}

/* A tag as the roster file writes it: decimal, or hex with 0x; the whole text. */
static bool
parse_tag(const char *s, uint64_t *tag)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*tag = strtoull(s, &end, s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10);
	return errno == 0 && *end == '\0';
}

int
fc__roster_change(const struct fc_dataplane *dp, bool add, const char *args,
		  struct fc_roster_entry *e, struct fc_roster_entry **out, uint32_t *n_out,
		  char *err, size_t len)
{
	struct fc_roster_entry *next;
	char text[FC_CONTROL_LINE_MAX];
	uint32_t n = dp->n_roster;
	int i = -1, rc;

	/* "TAG PLAYER TEAM [NAME]" becomes the file's "TAG,PLAYER,TEAM[,NAME]" */
	snprintf(text, sizeof(text), "%s", args);
	for (unsigned int k = 0, fields = 1; text[k] != '\0' && fields < 4; k++)
		if (text[k] == ' ') {
			text[k] = ',';
			fields++;
			while (text[k + 1] == ' ')
				memmove(&text[k + 1], &text[k + 2], strlen(&text[k + 2]) + 1);
		}
	if (add) {
		rc = fc_roster_parse_entry("roster add", text, e, err, len);
		if (rc == 0)
			rc = fc_roster_check_add(dp->roster, n, dp->n_players, e, err, len);
		if (rc != 0)
			return rc;
	} else {
		if (!parse_tag(args, &e->tag_id)) {
			snprintf(err, len,
				 "roster remove: tag_id '%s': expected a number up to 64 bits, "
				 "decimal or 0x-hex",
				 args);
			return -EINVAL;
		}
		i = fc_roster_find_tag(dp->roster, n, e->tag_id);
		if (i < 0) {
			snprintf(err, len,
				 "roster remove: tag_id 0x%" PRIx64 " is not in the roster",
				 e->tag_id);
			return -ENOENT;
		}
		*e = dp->roster[i];
	}
	next = malloc((n + 1) * sizeof(*next));
	if (next == NULL) {
		snprintf(err, len, "roster: out of memory");
		return -ENOMEM;
	}
	memcpy(next, dp->roster, n * sizeof(*next));
	if (add)
		next[n++] = *e;
	else
		next[i] = next[--n]; /* the order of the entries means nothing */
	*out = next;
	*n_out = n;
	return 0;
}

/*
 * roster add TAG PLAYER TEAM [NAME] / roster remove TAG: checked against the roster as every
 * command taken so far leaves it, then a new tag table and caches are built for every RX; TX
 * publishes them at the next tick (docs/control.md).
 */
static void
roster_cmd(struct fc_dataplane *dp, bool add, const char *args, char *reply, size_t len)
{
	struct fc_cmd c = { .code = add ? FC_CMD_ROSTER_ADD : FC_CMD_ROSTER_REMOVE };
	struct fc_roster_entry e, *next;
	struct fc_roster_gen *g;
	char err[FC_CFG_ERR_MAX];
	uint32_t n;

	if (fc__roster_change(dp, add, args, &e, &next, &n, err, sizeof(err)) != 0) {
		refuse(reply, len, err);
		return;
	}
	g = fc__roster_gen_build(dp, next, n, dp->next_roster_gen, err, sizeof(err));
	if (g == NULL) {
		free(next);
		refuse(reply, len, err);
		return;
	}
	g->tx.player = e.player;
	g->tx.team = e.team;
	g->tx.add = add;
	/* the journal's copy, in the request's own syntax: a restart replays it (restore.c) */
	if (add)
		snprintf(g->text, sizeof(g->text), "roster add 0x%" PRIx64 " %u %u%s%s", e.tag_id,
			 e.player, e.team, e.name[0] != '\0' ? " " : "", e.name);
	else
		snprintf(g->text, sizeof(g->text), "roster remove 0x%" PRIx64, e.tag_id);
	g->tx.text = g->text;
	c.obj = &g->tx;
	if (!send_cmd(dp, &c, reply, len)) {
		fc__roster_gen_free(g);
		free(next);
		return;
	}
	{
		struct fc_roster_gen **p = &dp->rosters;

		while (*p != NULL)
			p = &(*p)->next;
		*p = g;
	}
	free(dp->roster);
	dp->roster = next;
	dp->n_roster = n;
	dp->next_roster_gen++;
	snprintf(reply, len,
		 "{\"ok\": true, \"cmd_seq\": %" PRIu64 ", \"tag_id\": \"0x%" PRIx64
		 "\", \"player\": %u, \"team\": %u, \"applied\": \"at the next tick, echoed "
		 "as COMMAND_ECHO\"}",
		 c.cmd_seq, e.tag_id, e.player, e.team);
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

	if (dp->cmds != NULL)
		fc__gen_collect(dp, false); /* what no lcore reads any more */
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
		if (!send_cmd(dp, &c, reply, len))
			return;
		snprintf(reply, len,
			 "{\"ok\": true, \"cmd_seq\": %" PRIu64
			 ", \"applied\": \"at the next tick, "
			 "echoed as COMMAND_ECHO\"}",
			 c.cmd_seq);
		return;
	}
	if (strncmp(request, "load layout ", 12) == 0 || strcmp(request, "load layout") == 0 ||
	    strncmp(request, "roster add ", 11) == 0 ||
	    strncmp(request, "roster remove ", 14) == 0) {
		if (dp->cmds == NULL || (request[0] == 'l' && dp->layout == NULL))
			refuse(reply, len, "no game: the floor file has no [game] layout");
		else if (request[0] == 'l')
			load_layout(dp, request[11] == ' ' ? request + 12 : "", reply, len);
		else
			roster_cmd(dp, request[7] == 'a', request + (request[7] == 'a' ? 11 : 14),
				   reply, len);
		return;
	}
	snprintf(
		reply, len,
		"{\"ok\": false, \"error\": \"unknown request; expected status, metrics, round start, "
		"round pause, round resume, round end, load layout FILE, roster add TAG PLAYER TEAM "
		"[NAME] or roster remove TAG\"}");
}

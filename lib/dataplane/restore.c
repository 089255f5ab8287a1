/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A restart on a journal (control path, start-up only): floorctl's roster changes and loaded
 * layouts come back. The journal's COMMAND records keep their command's text ("roster add
 * 0xA4C1 60 4", "load layout /abs/path"); they are replayed in order onto the floor file's
 * roster and layout, with the checks the commands had (docs/control.md, "After a restart").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane_priv.h"
#include "fc_game.h"

static bool
starts(const char *s, const char *word)
{
	return strncmp(s, word, strlen(word)) == 0;
}

int
fc__restore_roster(struct fc_dataplane *dp, char *err, size_t len)
{
	const struct fc_journal_recovered *r = dp->opts.recovered;

	for (uint32_t i = 0; r != NULL && i < r->n_replay; i++) {
		const struct fc_journal_replay_cmd *c = &r->replay[i];
		bool add = c->command == FC_CMD_ROSTER_ADD;
		const char *word = add ? "roster add " : "roster remove ";
		struct fc_roster_entry e, *next;
		char why[FC_CFG_ERR_MAX];
		uint32_t n;
		int rc, k;

		if (c->command != FC_CMD_ROSTER_ADD && c->command != FC_CMD_ROSTER_REMOVE)
			continue;
		if (!starts(c->text, word)) {
			snprintf(err, len, "journal: command %" PRIu64 " '%s': not a %scommand",
				 c->cmd_seq, c->text, word);
			return -EINVAL;
		}
		rc = fc__roster_change(dp, add, c->text + strlen(word), &e, &next, &n, why,
				       sizeof(why));
		/* The roster file may have caught up with the change since: nothing to do. */
		if (rc == -EEXIST && add &&
		    (k = fc_roster_find_tag(dp->roster, dp->n_roster, e.tag_id)) >= 0 &&
		    dp->roster[k].player == e.player && dp->roster[k].team == e.team)
			continue;
		if (rc == -ENOENT && !add)
			continue;
		if (rc != 0) {
			snprintf(err, len,
				 "journal: command %" PRIu64
				 " '%s' no longer fits the roster file: "
				 "%s",
				 c->cmd_seq, c->text, why);
			return rc;
		}
		free(dp->roster);
		dp->roster = next;
		dp->n_roster = n;
	}
	return 0;
}

/* Loads a layout a journaled command names, with the checks of load layout. */
static int
load(struct fc_dataplane *dp, const struct fc_journal_replay_cmd *c, struct fc_game_layout **l,
     char *err, size_t len)
{
	const char *path = c->text + strlen("load layout ");
	char why[FC_CFG_ERR_MAX];
	int rc = fc_game_layout_load(path, l, why, sizeof(why));

	if (rc == 0)
		rc = fc_game_layout_check_floor(*l, path, dp->cfg->width_mm, dp->cfg->height_mm,
						why, sizeof(why));
	if (rc != 0) {
		fc_game_layout_free(*l);
		*l = NULL;
		snprintf(err, len,
			 "journal: command %" PRIu64 " '%s' cannot be replayed: %s (restore the "
			 "file, or start on a new journal)",
			 c->cmd_seq, c->text, why);
	}
	return rc;
}

int
fc__restore_layout(struct fc_dataplane *dp, char *err, size_t len)
{
	const struct fc_journal_recovered *r = dp->opts.recovered;
	const struct fc_journal_replay_cmd *cur = NULL, *next = NULL;
	uint64_t max_id = 1;
	int rc;

	if (r == NULL || dp->layout == NULL)
		return 0;
	/* A load waits for the next applied round start, which then plays it (as TX does). */
	for (uint32_t i = 0; i < r->n_replay; i++) {
		const struct fc_journal_replay_cmd *c = &r->replay[i];

		if (c->command == FC_CMD_LOAD_LAYOUT) {
			if (!starts(c->text, "load layout ")) {
				snprintf(err, len,
					 "journal: command %" PRIu64 " '%s': not a load layout",
					 c->cmd_seq, c->text);
				return -EINVAL;
			}
			next = c;
			if (c->arg > max_id)
				max_id = c->arg;
		} else if (c->command == FC_CMD_ROUND_START && next != NULL) {
			cur = next;
			next = NULL;
		}
	}
	dp->next_layout_id = max_id + 1;
	/* auto_start opens a new round with the first tick: that start takes a waiting layout */
	if (next != NULL && dp->cfg->auto_start &&
	    !(r->round_id != 0 &&
	      (r->round_state == FC_ROUND_RUNNING || r->round_state == FC_ROUND_PAUSED))) {
		cur = next;
		next = NULL;
	}
	if (cur != NULL) {
		rc = load(dp, cur, &dp->restored, err, len);
		if (rc != 0)
			return rc;
		dp->restored_id = cur->arg;
	}
	if (next != NULL) {
		rc = load(dp, next, &dp->restored_next, err, len);
		if (rc != 0)
			return rc;
		dp->restored_next_id = next->arg;
		snprintf(dp->restored_next_text, sizeof(dp->restored_next_text), "%s", next->text);
	}
	return 0;
}

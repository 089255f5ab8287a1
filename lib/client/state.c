/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The floor state a subscriber keeps (docs/protocol.md section 4.7): the round, the clues, the
 * scores per player and per team, each player's position and the claims history; and the
 * snapshot being collected (section 5), staged into a second set of tables that becomes the
 * live one when the last part arrives. client.c decides what to apply and when; this file only
 * applies it. Messages carry absolute values, so applying one needs only the right order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client_priv.h"

/* The public words are the wire's. */
static_assert(FC_CLIENT_PLAYER_NONE == FC_PLAYER_NONE, "");
static_assert(FC_CLIENT_POS_ACTIVE == FC_POS_S_ACTIVE && FC_CLIENT_POS_STALE == FC_POS_S_STALE &&
		      FC_CLIENT_POS_IMPLAUSIBLE == FC_POS_S_IMPLAUSIBLE &&
		      FC_CLIENT_POS_NO_Z == FC_POS_S_NO_Z,
	      "");
static_assert((int)FC_CLIENT_ROUND_ENDED == (int)FC_ROUND_ENDED &&
		      (int)FC_CLIENT_CLUE_CLAIMED == (int)FC_CLUE_CLAIMED &&
		      (int)FC_CLIENT_CLUE_HIDDEN == (int)FC_CLUE_HIDDEN,
	      "");
static_assert(FC_CLIENT_CONT_WINNER == FC_CONT_F_WINNER && FC_CLIENT_CONT_TIE == FC_CONT_F_TIE, "");
static_assert((int)FC_CLIENT_T_CLUE_CLAIMED == (int)FC_DL_T_CLUE_CLAIMED &&
		      (int)FC_CLIENT_T_SCORE == (int)FC_DL_T_SCORE &&
		      (int)FC_CLIENT_T_ROUND_STATE == (int)FC_DL_T_ROUND_STATE &&
		      (int)FC_CLIENT_T_CLUE_STATE == (int)FC_DL_T_CLUE_STATE &&
		      (int)FC_CLIENT_T_END_OF_ROUND == (int)FC_DL_T_END_OF_ROUND &&
		      (int)FC_CLIENT_T_COMMAND_ECHO == (int)FC_DL_T_COMMAND_ECHO,
	      "");
static_assert(FC_CLIENT_MAX_CONTENDERS == FC_DL_MAX_CONTENDERS, "");
static_assert(sizeof(struct fc_client_contender) == sizeof(struct fc_dl_contender), "");

/* ---- allocation --------------------------------------------------------------------------- */

static int
tables_alloc(struct fc_client *c, struct fc__tables *t)
{
	t->clues = calloc(c->p.max_clues, sizeof(*t->clues));
	t->score = calloc(c->p.max_players, sizeof(*t->score));
	t->team = calloc(c->p.max_players, sizeof(*t->team));
	t->scored = calloc(c->p.max_players, sizeof(*t->scored));
	t->team_total = calloc(c->p.max_teams, sizeof(*t->team_total));
	t->team_scored = calloc(c->p.max_teams, sizeof(*t->team_scored));
	if (t->clues == NULL || t->score == NULL || t->team == NULL || t->scored == NULL ||
	    t->team_total == NULL || t->team_scored == NULL)
		return -ENOMEM;
	fc__tables_clear(c, t);
	return 0;
}

static void
tables_free(struct fc__tables *t)
{
	free(t->clues);
	free(t->score);
	free(t->team);
	free(t->scored);
	free(t->team_total);
	free(t->team_scored);
	memset(t, 0, sizeof(*t));
}

int
fc__state_alloc(struct fc_client *c)
{
	c->pos = calloc(c->p.max_players, sizeof(*c->pos));
	c->stage_pos = calloc(c->p.max_players, sizeof(*c->stage_pos));
	c->claims = calloc(c->p.max_claims, sizeof(*c->claims));
	c->snap_have = calloc(FC__CLIENT_MAX_PARTS / 64, sizeof(*c->snap_have));
	if (c->pos == NULL || c->stage_pos == NULL || c->claims == NULL || c->snap_have == NULL ||
	    tables_alloc(c, &c->tab[0]) != 0 || tables_alloc(c, &c->tab[1]) != 0)
		return -ENOMEM;
	return 0;
}

void
fc__state_free(struct fc_client *c)
{
	tables_free(&c->tab[0]);
	tables_free(&c->tab[1]);
	free(c->pos);
	free(c->stage_pos);
	free(c->claims);
	free(c->snap_have);
	c->pos = NULL;
	c->stage_pos = NULL;
	c->claims = NULL;
	c->snap_have = NULL;
}

static void
scores_clear(struct fc_client *c, struct fc__tables *t)
{
	memset(t->score, 0, (size_t)c->p.max_players * sizeof(*t->score));
	memset(t->team, 0, (size_t)c->p.max_players * sizeof(*t->team));
	memset(t->scored, 0, (size_t)c->p.max_players * sizeof(*t->scored));
	memset(t->team_total, 0, (size_t)c->p.max_teams * sizeof(*t->team_total));
	memset(t->team_scored, 0, (size_t)c->p.max_teams * sizeof(*t->team_scored));
}

void
fc__tables_clear(struct fc_client *c, struct fc__tables *t)
{
	memset(&t->round, 0, sizeof(t->round));
	t->round.end_reason = FC_CLIENT_END_NONE;
	t->n_clues = 0;
	scores_clear(c, t);
}

void
fc__state_clear(struct fc_client *c)
{
	fc__tables_clear(c, &c->tab[0]);
	fc__tables_clear(c, &c->tab[1]);
	memset(c->pos, 0, (size_t)c->p.max_players * sizeof(*c->pos));
	c->n_heard = 0;
	c->n_stage_pos = 0;
	c->claim_head = 0;
	c->n_claims = 0;
}

/* ---- clues ---------------------------------------------------------------------------------- */

/* Index of the first clue with an id >= clue_id. */
static uint32_t
clue_lower_bound(const struct fc__tables *t, uint32_t clue_id)
{
	uint32_t lo = 0, hi = t->n_clues;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (t->clues[mid].clue_id < clue_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The clue, added (not located, OPEN, no winner) if new; NULL when the table is full. */
static struct fc_client_clue *
clue_get(struct fc_client *c, struct fc__tables *t, uint32_t clue_id)
{
	uint32_t i = clue_lower_bound(t, clue_id);
	struct fc_client_clue *k;

	if (clue_id == 0) { /* clue ids start at 1 (docs/protocol.md): not from floord */
		c->st.out_of_range++;
		return NULL;
	}
	if (i < t->n_clues && t->clues[i].clue_id == clue_id)
		return &t->clues[i];
	if (t->n_clues == c->p.max_clues) {
		c->st.out_of_range++;
		return NULL;
	}
	memmove(&t->clues[i + 1], &t->clues[i], (size_t)(t->n_clues - i) * sizeof(*k));
	t->n_clues++;
	k = &t->clues[i];
	memset(k, 0, sizeof(*k));
	k->clue_id = clue_id;
	k->winner = FC_CLIENT_PLAYER_NONE;
	return k;
}

static void
clue_state(struct fc_client *c, struct fc__tables *t, const struct fc_dl_msg *m)
{
	struct fc_dl_clue_state cs;
	struct fc_client_clue *k;

	fc_dl_msg_get(m, &cs, sizeof(cs));
	k = clue_get(c, t, cs.clue_id);
	if (k == NULL)
		return;
	k->points = cs.points;
	k->x_cm = cs.x_cm;
	k->y_cm = cs.y_cm;
	k->radius_mm = cs.radius_mm;
	k->state = cs.state;
	/* as the header promises: no winner unless CLAIMED, whatever a forged message says */
	k->winner = cs.state == FC_CLIENT_CLUE_CLAIMED ? cs.winner : FC_CLIENT_PLAYER_NONE;
	k->located = true;
}

/* ---- scores and the round --------------------------------------------------------------- */

static void
score(struct fc_client *c, struct fc__tables *t, const struct fc_dl_msg *m)
{
	struct fc_dl_score sc;

	fc_dl_msg_get(m, &sc, sizeof(sc));
	if (sc.player < c->p.max_players) {
		t->score[sc.player] = sc.total;
		t->team[sc.player] = sc.team;
		t->scored[sc.player] = 1;
	} else {
		c->st.out_of_range++;
	}
	if (sc.team < c->p.max_teams) {
		t->team_total[sc.team] = sc.team_total;
		t->team_scored[sc.team] = 1;
	} else {
		c->st.out_of_range++;
	}
}

static void
round_state(struct fc_client *c, struct fc__tables *t, const struct fc_dl_msg *m)
{
	struct fc_dl_round_state rs;

	fc_dl_msg_get(m, &rs, sizeof(rs));
	if (rs.round_id != t->round.round_id) {
		scores_clear(c, t); /* a new round starts with every score 0 */
		t->round.end_reason = FC_CLIENT_END_NONE;
	}
	t->round.round_id = rs.round_id;
	t->round.state = rs.state;
	t->round.round_time_ms = rs.round_time_ms;
	t->round.cmd_seq = rs.cmd_seq;
}

/* ---- claims ------------------------------------------------------------------------------- */

static void
claim(struct fc_client *c, struct fc__tables *t, const struct fc_dl_msg *m)
{
	struct fc_dl_clue_claimed cc;
	struct fc_client_clue *k;
	struct fc_client_claim *h;
	uint32_t slot;

	fc_dl_msg_get(m, &cc, sizeof(cc));
	k = clue_get(c, t, cc.clue_id);
	if (k != NULL) {
		k->state = FC_CLIENT_CLUE_CLAIMED;
		k->winner = cc.winner;
		if (!k->located)
			k->points = cc.points;
	}
	if (m->event_seq < c->high_ev)
		return; /* in the history already: applied again over an older snapshot */
	if (c->n_claims == c->p.max_claims) {
		c->claim_head = (c->claim_head + 1) % c->p.max_claims;
		c->n_claims--;
		c->st.claims_forgotten++;
	}
	slot = (c->claim_head + c->n_claims) % c->p.max_claims;
	c->n_claims++;
	h = &c->claims[slot];
	h->event_seq = m->event_seq;
	h->meas_time_ns = cc.meas_time_ns;
	h->clue_id = cc.clue_id;
	h->points = cc.points;
	h->round_id = cc.round_id;
	h->winner = cc.winner;
	h->winner_team = cc.winner_team;
	h->contenders_total = cc.contenders_total;
	h->contenders_listed = cc.contenders_listed < FC_CLIENT_MAX_CONTENDERS
				       ? cc.contenders_listed
				       : FC_CLIENT_MAX_CONTENDERS;
	for (unsigned int i = 0; i < h->contenders_listed; i++) {
		struct fc_dl_contender d;

		fc_dl_contender_at(m, i, &d);
		h->contenders[i].player = d.player;
		h->contenders[i].flags = d.flags;
		h->contenders[i].distance_mm = d.distance_mm;
		h->contenders[i].meas_time_ns = d.meas_time_ns;
	}
}

/* ---- applying ----------------------------------------------------------------------------- */

void
fc__state_apply_event(struct fc_client *c, const struct fc_dl_msg *m)
{
	struct fc__tables *t = fc__live(c);

	switch (m->template_id) {
	case FC_DL_T_CLUE_CLAIMED:
		claim(c, t, m);
		break;
	case FC_DL_T_SCORE:
		score(c, t, m);
		break;
	case FC_DL_T_ROUND_STATE:
		round_state(c, t, m);
		break;
	case FC_DL_T_CLUE_STATE:
		clue_state(c, t, m);
		break;
	case FC_DL_T_END_OF_ROUND: {
		struct fc_dl_end_of_round eor;

		fc_dl_msg_get(m, &eor, sizeof(eor));
		t->round.state = FC_CLIENT_ROUND_ENDED;
		t->round.end_reason = eor.reason;
		break;
	}
	case FC_DL_T_COMMAND_ECHO:
		c->st.commands++; /* history only: the caller sees it through notify */
		break;
	default:
		c->st.events_unknown++; /* numbered all the same (section 4.4) */
		break;
	}
}

void
fc__state_positions(struct fc_client *c, const struct fc_dl_msg *m, uint64_t stamp, uint32_t tick)
{
	unsigned int n = fc_dl_positions_count(m);

	for (unsigned int i = 0; i < n; i++) {
		struct fc_dl_position e;
		struct fc__pos *p;

		fc_dl_position_at(m, i, &e);
		if (e.player >= c->p.max_players) {
			c->st.out_of_range++;
			continue;
		}
		p = &c->pos[e.player];
		if (stamp <= p->stamp)
			continue; /* a late or repeated packet never moves a player back */
		if (p->stamp == 0)
			c->n_heard++;
		p->stamp = stamp;
		p->tick = tick;
		p->x_cm = e.x_cm;
		p->y_cm = e.y_cm;
		p->z_dm = e.z_dm;
		p->status = e.status;
	}
}

void
fc__state_stage(struct fc_client *c, const struct fc_dl_msg *m)
{
	struct fc__tables *t = fc__stage(c);

	switch (m->template_id) {
	case FC_DL_T_ROUND_STATE: {
		struct fc_dl_round_state rs;

		fc_dl_msg_get(m, &rs, sizeof(rs));
		t->round.round_id = rs.round_id;
		t->round.state = rs.state;
		t->round.round_time_ms = rs.round_time_ms;
		t->round.cmd_seq = rs.cmd_seq;
		t->round.end_reason = FC_CLIENT_END_NONE;
		break;
	}
	case FC_DL_T_CLUE_STATE:
		clue_state(c, t, m);
		break;
	case FC_DL_T_SCORE:
		score(c, t, m);
		break;
	case FC_DL_T_POSITIONS: {
		unsigned int n = fc_dl_positions_count(m);

		for (unsigned int i = 0; i < n; i++) {
			struct fc_dl_position e;
			struct fc_client_position *s;

			fc_dl_position_at(m, i, &e);
			if (e.player >= c->p.max_players || c->n_stage_pos == c->p.max_players) {
				c->st.out_of_range++;
				continue;
			}
			s = &c->stage_pos[c->n_stage_pos++];
			s->player = e.player;
			s->x_cm = e.x_cm;
			s->y_cm = e.y_cm;
			s->z_dm = e.z_dm;
			s->status = e.status;
		}
		break;
	}
	default:
		break; /* state this version does not keep */
	}
}

void
fc__state_commit_snapshot(struct fc_client *c)
{
	c->cur ^= 1u;
	for (uint32_t i = 0; i < c->n_stage_pos; i++) {
		const struct fc_client_position *s = &c->stage_pos[i];
		struct fc__pos *p = &c->pos[s->player];

		if (c->snap_as_of_pkt <= p->stamp)
			continue;
		if (p->stamp == 0)
			c->n_heard++;
		p->stamp = c->snap_as_of_pkt;
		p->tick = c->snap_as_of_tick;
		p->x_cm = s->x_cm;
		p->y_cm = s->y_cm;
		p->z_dm = s->z_dm;
		p->status = s->status;
	}
	c->n_stage_pos = 0;
}

/* ---- reading ------------------------------------------------------------------------------ */

static void
position_out(const struct fc_client *c, uint16_t player, struct fc_client_position *out)
{
	const struct fc__pos *p = &c->pos[player];

	out->player = player;
	out->x_cm = p->x_cm;
	out->y_cm = p->y_cm;
	out->z_dm = p->z_dm;
	out->status = p->status;
	out->tick = p->tick;
	out->packet_seq = p->stamp;
}

bool
fc_client_next_position(const struct fc_client *c, uint32_t *cursor, struct fc_client_position *out)
{
	for (uint32_t i = *cursor; i < c->p.max_players; i++) {
		if (c->pos[i].stamp == 0)
			continue;
		position_out(c, (uint16_t)i, out);
		*cursor = i + 1;
		return true;
	}
	*cursor = c->p.max_players;
	return false;
}

int
fc_client_position(const struct fc_client *c, uint16_t player, struct fc_client_position *out)
{
	if (player >= c->p.max_players)
		return -ERANGE;
	if (c->pos[player].stamp == 0)
		return -ENOENT;
	position_out(c, player, out);
	return 0;
}

bool
fc_client_next_clue(const struct fc_client *c, uint32_t *cursor, struct fc_client_clue *out)
{
	const struct fc__tables *t = &c->tab[c->cur];

	if (*cursor >= t->n_clues)
		return false;
	*out = t->clues[(*cursor)++];
	return true;
}

int
fc_client_clue(const struct fc_client *c, uint32_t clue_id, struct fc_client_clue *out)
{
	const struct fc__tables *t = &c->tab[c->cur];
	uint32_t i = clue_lower_bound(t, clue_id);

	if (i >= t->n_clues || t->clues[i].clue_id != clue_id)
		return -ENOENT;
	*out = t->clues[i];
	return 0;
}

bool
fc_client_next_score(const struct fc_client *c, uint32_t *cursor, struct fc_client_score *out)
{
	const struct fc__tables *t = &c->tab[c->cur];

	for (uint32_t i = *cursor; i < c->p.max_players; i++) {
		if (!t->scored[i])
			continue;
		out->player = (uint16_t)i;
		out->team = t->team[i];
		out->total = t->score[i];
		*cursor = i + 1;
		return true;
	}
	*cursor = c->p.max_players;
	return false;
}

bool
fc_client_next_team(const struct fc_client *c, uint32_t *cursor, struct fc_client_team *out)
{
	const struct fc__tables *t = &c->tab[c->cur];

	for (uint32_t i = *cursor; i < c->p.max_teams; i++) {
		if (!t->team_scored[i])
			continue;
		out->team = (uint16_t)i;
		out->total = t->team_total[i];
		*cursor = i + 1;
		return true;
	}
	*cursor = c->p.max_teams;
	return false;
}

const struct fc_client_claim *
fc_client_claim_at(const struct fc_client *c, uint32_t i)
{
	if (i >= c->n_claims)
		return NULL;
	return &c->claims[(c->claim_head + i) % c->p.max_claims];
}

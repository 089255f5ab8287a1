/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * floorwatch's views (view.h): everything is read through lib/client's accessors, so the views
 * show exactly what a game built on the library would see.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "view.h"

static const char *const round_names[] = { "IDLE", "RUNNING", "PAUSED", "ENDED" };
static const char *const clue_names[] = { "OPEN", "CLAIMED", "HIDDEN" };

static const char *
round_name(unsigned int s)
{
	return s < 4 ? round_names[s] : "UNKNOWN";
}

static const char *
clue_name(unsigned int s)
{
	return s < 3 ? clue_names[s] : "UNKNOWN";
}

/* s as the inside of a JSON string (xml false) or of XML text (xml true). */
static void
put_escaped(FILE *f, const char *s, bool xml)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (xml && (ch == '<' || ch == '>' || ch == '&'))
			fprintf(f, "&#%u;", ch);
		else if (!xml && (ch == '"' || ch == '\\'))
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 && xml)
			fputc('?', f);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
}

/* ---- JSON --------------------------------------------------------------------------------- */

static void
json_counters(FILE *f, const struct fc_client_stats *st)
{
	fprintf(f, "  \"counters\": {\n");
	fprintf(f, "   \"datagrams\": %" PRIu64 ", \"packets\": %" PRIu64 ",\n", st->datagrams,
		st->packets);
	fprintf(f, "   \"malformed\": {");
	for (unsigned int i = 0; i < FC_CLIENT_M__COUNT; i++)
		fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", fc_client_malformed_name(i),
			st->malformed[i]);
	fprintf(f, "},\n");
	fprintf(f,
		"   \"duplicates\": %" PRIu64 ", \"pkt_gaps\": [%" PRIu64 ", %" PRIu64
		"], \"pkt_skipped\": [%" PRIu64 ", %" PRIu64 "], \"pkt_late\": [%" PRIu64
		", %" PRIu64 "],\n",
		st->duplicates, st->pkt_gaps[0], st->pkt_gaps[1], st->pkt_skipped[0],
		st->pkt_skipped[1], st->pkt_late[0], st->pkt_late[1]);
	fprintf(f,
		"   \"other_session\": %" PRIu64 ", \"after_end\": %" PRIu64
		", \"sessions\": %" PRIu64 ",\n",
		st->other_session, st->after_end, st->sessions);
	fprintf(f,
		"   \"events_applied\": %" PRIu64 ", \"events_duplicate\": %" PRIu64
		", \"events_buffered\": %" PRIu64 ", \"events_dropped\": %" PRIu64
		", \"events_unknown\": %" PRIu64 ", \"commands\": %" PRIu64 ",\n",
		st->events_applied, st->events_duplicate, st->events_buffered, st->events_dropped,
		st->events_unknown, st->commands);
	fprintf(f,
		"   \"gaps\": %" PRIu64 ", \"rt_asked\": %" PRIu64 ", \"rt_retries\": %" PRIu64
		", \"rt_answered\": %" PRIu64 ", \"rt_unmatched\": %" PRIu64
		", \"rt_timeouts\": %" PRIu64 ", \"rt_send_errors\": %" PRIu64 ",\n",
		st->gaps, st->rt_asked, st->rt_retries, st->rt_answered, st->rt_unmatched,
		st->rt_timeouts, st->rt_send_errors);
	fprintf(f, "   \"rt_refused\": {");
	for (unsigned int i = 0; i <= FC_CLIENT_REFUSED_MAX; i++)
		fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", fc_client_refused_name(i),
			st->rt_refused[i]);
	fprintf(f, "},\n   \"recoveries\": {");
	for (unsigned int i = 0; i < FC_CLIENT_R__COUNT; i++)
		fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", fc_client_recovery_name(i),
			st->recoveries[i]);
	fprintf(f, "},\n");
	fprintf(f,
		"   \"snapshots_applied\": %" PRIu64 ", \"snapshot_parts\": %" PRIu64
		", \"snapshots_replaced\": %" PRIu64 ",\n",
		st->snapshots_applied, st->snapshot_parts, st->snapshots_replaced);
	fprintf(f,
		"   \"out_of_range\": %" PRIu64 ", \"claims_forgotten\": %" PRIu64
		", \"feed_down\": %" PRIu64 "\n  }",
		st->out_of_range, st->claims_forgotten, st->feed_down);
}

static void
json_claim(FILE *f, const struct fc_client_claim *k, bool first)
{
	fprintf(f,
		"%s\n   {\"event_seq\": %" PRIu64 ", \"clue_id\": %" PRIu32 ", \"winner\": %u"
		", \"winner_team\": %u, \"points\": %" PRIu32 ", \"contenders_total\": %u"
		", \"round_id\": %" PRIu32 ", \"meas_time_ns\": %" PRIu64 ", \"contenders\": [",
		first ? "" : ",", k->event_seq, k->clue_id, k->winner, k->winner_team, k->points,
		k->contenders_total, k->round_id, k->meas_time_ns);
	for (unsigned int i = 0; i < k->contenders_listed; i++) {
		const struct fc_client_contender *ct = &k->contenders[i];

		fprintf(f,
			"%s{\"player\": %u, \"flags\": %u, \"distance_mm\": %" PRIu32
			", \"meas_time_ns\": %" PRIu64 "}",
			i ? ", " : "", ct->player, ct->flags, ct->distance_mm, ct->meas_time_ns);
	}
	fprintf(f, "]}");
}

int
fc__watch_json(FILE *f, const struct fc_client *c, const struct fc__watch_src *src)
{
	struct fc_client_info in;
	struct fc_client_stats st;
	struct fc_client_position p;
	struct fc_client_clue k;
	struct fc_client_score sc;
	struct fc_client_team tm;
	uint32_t cur;
	bool first;

	fc_client_get_info(c, &in);
	fc_client_get_stats(c, &st);
	fprintf(f, "{\n  \"source\": \"");
	put_escaped(f, src->what, false);
	fprintf(f, "\",\n");
	if (in.has_session)
		fprintf(f, "  \"session_id\": %" PRIu32 ",\n", in.session_id);
	else
		fprintf(f, "  \"session_id\": null,\n");
	fprintf(f,
		"  \"synced\": %s, \"ended\": %s, \"complete\": %s, \"feed_up\": %s,\n"
		"  \"next_event_seq\": %" PRIu64 ", \"known_event_seq\": %" PRIu64 ",\n",
		in.synced ? "true" : "false", in.ended ? "true" : "false",
		in.complete ? "true" : "false", in.feed_up ? "true" : "false", in.next_event_seq,
		in.known_event_seq);
	fprintf(f,
		"  \"round\": {\"round_id\": %" PRIu32 ", \"state\": %u, \"state_name\": \"%s\""
		", \"round_time_ms\": %" PRIu32 ", \"cmd_seq\": %" PRIu64 ", \"end_reason\": ",
		in.round.round_id, in.round.state, round_name(in.round.state),
		in.round.round_time_ms, in.round.cmd_seq);
	if (in.round.end_reason == FC_CLIENT_END_NONE)
		fprintf(f, "null},\n");
	else
		fprintf(f, "%u},\n", in.round.end_reason);

	fprintf(f, "  \"positions\": {");
	for (cur = 0, first = true; fc_client_next_position(c, &cur, &p); first = false)
		fprintf(f,
			"%s\n   \"%u\": {\"x_cm\": %u, \"y_cm\": %u, \"z_dm\": %d, \"status\": %u"
			", \"packet_seq\": %" PRIu64 ", \"tick\": %" PRIu32 "}",
			first ? "" : ",", p.player, p.x_cm, p.y_cm, p.z_dm, p.status, p.packet_seq,
			p.tick);
	fprintf(f, "%s},\n  \"clues\": {", first ? "" : "\n  ");
	for (cur = 0, first = true; fc_client_next_clue(c, &cur, &k); first = false)
		fprintf(f,
			"%s\n   \"%" PRIu32 "\": {\"clue_id\": %" PRIu32 ", \"points\": %" PRIu32
			", \"x_cm\": %u, \"y_cm\": %u, \"radius_mm\": %u, \"state\": %u"
			", \"state_name\": \"%s\", \"winner\": %u, \"located\": %s}",
			first ? "" : ",", k.clue_id, k.clue_id, k.points, k.x_cm, k.y_cm,
			k.radius_mm, k.state, clue_name(k.state), k.winner,
			k.located ? "true" : "false");
	fprintf(f, "%s},\n  \"scores\": {", first ? "" : "\n  ");
	for (cur = 0, first = true; fc_client_next_score(c, &cur, &sc); first = false)
		fprintf(f, "%s\n   \"%u\": {\"team\": %u, \"total\": %" PRId32 "}",
			first ? "" : ",", sc.player, sc.team, sc.total);
	fprintf(f, "%s},\n  \"team_totals\": {", first ? "" : "\n  ");
	for (cur = 0, first = true; fc_client_next_team(c, &cur, &tm); first = false)
		fprintf(f, "%s\"%u\": %" PRId32, first ? "" : ", ", tm.team, tm.total);
	fprintf(f, "},\n  \"claims\": [");
	for (uint32_t i = 0; i < in.claims; i++)
		json_claim(f, fc_client_claim_at(c, i), i == 0);
	fprintf(f, "%s],\n", in.claims ? "\n  " : "");
	if (src->capture)
		fprintf(f,
			"  \"capture\": {\"frames\": %" PRIu64 ", \"not_udp\": %" PRIu64
			", \"filtered\": %" PRIu64 "},\n",
			src->frames, src->not_udp, src->filtered);
	json_counters(f, &st);
	fprintf(f, "\n}\n");
	return ferror(f) ? -EIO : 0;
}

/* ---- the floor's extent ------------------------------------------------------------------- */

/* The floor in cm: the one given, or what was seen rounded up to whole metres. */
static void
extent_cm(const struct fc_client *c, const struct fc__watch_src *src, double *w, double *h)
{
	struct fc_client_position p;
	struct fc_client_clue k;
	uint32_t cur;
	double mw = 100, mh = 100;

	if (src->floor_w_m > 0 && src->floor_h_m > 0) {
		*w = src->floor_w_m * 100;
		*h = src->floor_h_m * 100;
		return;
	}
	for (cur = 0; fc_client_next_position(c, &cur, &p);) {
		mw = p.x_cm > mw ? p.x_cm : mw;
		mh = p.y_cm > mh ? p.y_cm : mh;
	}
	for (cur = 0; fc_client_next_clue(c, &cur, &k);) {
		if (!k.located)
			continue;
		mw = k.x_cm + k.radius_mm / 10.0 > mw ? k.x_cm + k.radius_mm / 10.0 : mw;
		mh = k.y_cm + k.radius_mm / 10.0 > mh ? k.y_cm + k.radius_mm / 10.0 : mh;
	}
	*w = (double)(((uint64_t)mw + 99) / 100 * 100);
	*h = (double)(((uint64_t)mh + 99) / 100 * 100);
}

/* ---- SVG ---------------------------------------------------------------------------------- */

#define SVG_PX_PER_M 40.0
#define SVG_MARGIN   40.0

static const char *const team_colours[] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
					    "#9467bd", "#8c564b", "#e377c2", "#17becf" };

int
fc__watch_svg(FILE *f, const struct fc_client *c, const struct fc__watch_src *src)
{
	struct fc_client_info in;
	struct fc_client_position p;
	struct fc_client_clue k;
	struct fc_client_score sc;
	double w_cm, h_cm, fw, fh, scale_m;
	uint32_t cur;

	fc_client_get_info(c, &in);
	extent_cm(c, src, &w_cm, &h_cm);
	fw = w_cm / 100 * SVG_PX_PER_M;
	fh = h_cm / 100 * SVG_PX_PER_M;
	/* x to the right, y up: floor (x, y) cm is at (X(x), Y(y)) px */
#define X(x) (SVG_MARGIN + (x) / 100.0 * SVG_PX_PER_M)
#define Y(y) (SVG_MARGIN + fh - (y) / 100.0 * SVG_PX_PER_M)
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		"viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"11\">\n",
		fw + 2 * SVG_MARGIN, fh + 2.5 * SVG_MARGIN, fw + 2 * SVG_MARGIN,
		fh + 2.5 * SVG_MARGIN);
	fprintf(f, "<title>floorwatch: ");
	put_escaped(f, src->what, true);
	fprintf(f,
		"</title>\n"
		"<text x=\"%.0f\" y=\"24\" font-size=\"14\">session %" PRIu32 ", round %" PRIu32
		" %s, %" PRIu32 " players, %" PRIu32 " clues, %" PRIu32 " claims%s</text>\n",
		SVG_MARGIN, in.session_id, in.round.round_id, round_name(in.round.state),
		in.players, in.clues, in.claims, in.synced ? "" : " (not synced)");
	fprintf(f,
		"<rect id=\"floor\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		"fill=\"#fafafa\" stroke=\"#333\"/>\n",
		SVG_MARGIN, SVG_MARGIN, fw, fh);
	fprintf(f, "<g id=\"grid\" stroke=\"#e4e4e4\" stroke-width=\"1\">\n");
	for (double m = 1; m < w_cm / 100; m++)
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", X(m * 100),
			SVG_MARGIN, X(m * 100), SVG_MARGIN + fh);
	for (double m = 1; m < h_cm / 100; m++)
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", SVG_MARGIN,
			Y(m * 100), SVG_MARGIN + fw, Y(m * 100));
	fprintf(f, "</g>\n<g id=\"clues\">\n");
	for (cur = 0; fc_client_next_clue(c, &cur, &k);) {
		double r = k.radius_mm / 1000.0 * SVG_PX_PER_M;

		if (!k.located || k.state == FC_CLIENT_CLUE_HIDDEN)
			continue;
		fprintf(f,
			"<circle class=\"clue %s\" data-clue=\"%" PRIu32
			"\" cx=\"%.1f\" cy=\"%.1f\" "
			"r=\"%.2f\" fill=\"%s\" fill-opacity=\"0.35\" stroke=\"%s\"/>\n",
			clue_name(k.state), k.clue_id, X(k.x_cm), Y(k.y_cm), r < 1 ? 1 : r,
			k.state == FC_CLIENT_CLUE_CLAIMED ? "#e8a33d" : "#7ccf7c",
			k.state == FC_CLIENT_CLUE_CLAIMED ? "#a0620a" : "#2f7d2f");
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#333\">#%" PRIu32, X(k.x_cm) + r + 3,
			Y(k.y_cm) - 3, k.clue_id);
		if (k.state == FC_CLIENT_CLUE_CLAIMED)
			fprintf(f, " won by player %u", k.winner);
		fprintf(f, "</text>\n");
		if (k.state == FC_CLIENT_CLUE_CLAIMED) /* the mark: a cross on the centre */
			fprintf(f,
				"<path class=\"claimed\" d=\"M%.1f %.1fl8 8m0 -8l-8 8\" "
				"stroke=\"#a0620a\" stroke-width=\"2\"/>\n",
				X(k.x_cm) - 4, Y(k.y_cm) - 4);
	}
	fprintf(f, "</g>\n<g id=\"players\">\n");
	/* a player's colour is its team's, when it has a score; grey otherwise */
	for (cur = 0; fc_client_next_position(c, &cur, &p);) {
		const char *colour = "#777";
		uint32_t sc_cur = 0;

		while (fc_client_next_score(c, &sc_cur, &sc))
			if (sc.player == p.player) {
				colour = team_colours[sc.team % 8];
				break;
			}
		if (p.status & FC_CLIENT_POS_STALE)
			colour = "#bbb";
		fprintf(f,
			"<circle class=\"player\" data-player=\"%u\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
			"fill=\"%s\"/>\n",
			p.player, X(p.x_cm), Y(p.y_cm), colour);
	}
	/* the scale: 1 m, or 5 m on a large floor */
	scale_m = w_cm >= 5000 ? 5 : 1;
	fprintf(f,
		"</g>\n<g id=\"scale\" stroke=\"#000\" stroke-width=\"2\">\n"
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n"
		"<text x=\"%.1f\" y=\"%.1f\" stroke=\"none\">%.0f m</text>\n</g>\n</svg>\n",
		SVG_MARGIN, SVG_MARGIN + fh + 25, SVG_MARGIN + scale_m * SVG_PX_PER_M,
		SVG_MARGIN + fh + 25, SVG_MARGIN + scale_m * SVG_PX_PER_M + 6, SVG_MARGIN + fh + 29,
		scale_m);
#undef X
#undef Y
	return ferror(f) ? -EIO : 0;
}

/* ---- the terminal ----------------------------------------------------------------------- */

#define TUI_COLS 64
#define TUI_ROWS 16
#define TUI_TOP  10 /* scoreboard lines */

struct top {
	uint16_t player;
	uint16_t team;
	int32_t total;
};

static void
tui_scores(FILE *f, const struct fc_client *c)
{
	struct top best[TUI_TOP];
	unsigned int n = 0;
	struct fc_client_score sc;
	struct fc_client_team tm;
	uint32_t cur = 0;

	/* the TUI_TOP best, by total then player id: an insertion into a short sorted list */
	while (fc_client_next_score(c, &cur, &sc)) {
		unsigned int i;

		if (n == TUI_TOP && sc.total <= best[TUI_TOP - 1].total)
			continue;
		if (n < TUI_TOP)
			n++;
		for (i = n - 1; i > 0 && best[i - 1].total < sc.total; i--)
			best[i] = best[i - 1];
		best[i] = (struct top){ sc.player, sc.team, sc.total };
	}
	fprintf(f, "scoreboard       ");
	for (cur = 0; fc_client_next_team(c, &cur, &tm);)
		fprintf(f, " team %u: %" PRId32, tm.team, tm.total);
	fprintf(f, "\n");
	if (n == 0)
		fprintf(f, "  (no points yet)\n");
	for (unsigned int i = 0; i < n; i++)
		fprintf(f, "  %2u. player %-5u team %-3u %6" PRId32 "\n", i + 1, best[i].player,
			best[i].team, best[i].total);
}

static void
tui_map(FILE *f, const struct fc_client *c, const struct fc__watch_src *src)
{
	char grid[TUI_ROWS][TUI_COLS + 1];
	uint8_t count[TUI_ROWS][TUI_COLS];
	struct fc_client_position p;
	struct fc_client_clue k;
	double w_cm, h_cm;
	uint32_t cur;

	extent_cm(c, src, &w_cm, &h_cm);
	memset(count, 0, sizeof(count));
	for (cur = 0; fc_client_next_position(c, &cur, &p);) {
		unsigned int x = (unsigned int)(p.x_cm / w_cm * TUI_COLS);
		unsigned int y = (unsigned int)(p.y_cm / h_cm * TUI_ROWS);

		x = x < TUI_COLS ? x : TUI_COLS - 1;
		y = y < TUI_ROWS ? y : TUI_ROWS - 1;
		if (count[y][x] < 255)
			count[y][x]++;
	}
	for (unsigned int y = 0; y < TUI_ROWS; y++) {
		for (unsigned int x = 0; x < TUI_COLS; x++)
			grid[y][x] = count[y][x] == 0   ? '.'
				     : count[y][x] < 10 ? (char)('0' + count[y][x])
							: '+';
		grid[y][TUI_COLS] = '\0';
	}
	for (cur = 0; fc_client_next_clue(c, &cur, &k);) {
		unsigned int x = (unsigned int)(k.x_cm / w_cm * TUI_COLS);
		unsigned int y = (unsigned int)(k.y_cm / h_cm * TUI_ROWS);

		if (!k.located || k.state == FC_CLIENT_CLUE_HIDDEN)
			continue;
		x = x < TUI_COLS ? x : TUI_COLS - 1;
		y = y < TUI_ROWS ? y : TUI_ROWS - 1;
		grid[y][x] = k.state == FC_CLIENT_CLUE_CLAIMED ? 'X' : 'O';
	}
	fprintf(f, "map %.0f x %.0f m  (digits: players in a cell, O open clue, X claimed)\n",
		w_cm / 100, h_cm / 100);
	for (int y = TUI_ROWS - 1; y >= 0; y--) /* y up, as on the floor plan */
		fprintf(f, "  |%s|\n", grid[y]);
}

void
fc__watch_tui(FILE *f, const struct fc_client *c, const struct fc__watch_src *src, bool redraw)
{
	struct fc_client_info in;
	struct fc_client_stats st;
	uint64_t malformed = 0, refused = 0;

	fc_client_get_info(c, &in);
	fc_client_get_stats(c, &st);
	for (unsigned int i = 0; i < FC_CLIENT_M__COUNT; i++)
		malformed += st.malformed[i];
	for (unsigned int i = 0; i <= FC_CLIENT_REFUSED_MAX; i++)
		refused += st.rt_refused[i];
	if (redraw)
		fprintf(f, "\033[H\033[2J"); /* home, clear */
	fprintf(f, "floorwatch  %s  session %" PRIu32 "%s%s%s\n", src->what, in.session_id,
		in.synced ? "" : "  [recovering]", in.ended ? "  [ended]" : "",
		in.feed_up || in.ended ? "" : "  [feed down]");
	fprintf(f,
		"round %" PRIu32 " %s  %" PRIu32 ".%01" PRIu32 " s   players %" PRIu32
		"  clues %" PRIu32 "  events %" PRIu64 "\n\n",
		in.round.round_id, round_name(in.round.state), in.round.round_time_ms / 1000,
		in.round.round_time_ms % 1000 / 100, in.players, in.clues,
		in.next_event_seq > 0 ? in.next_event_seq - 1 : 0);
	tui_scores(f, c);
	fprintf(f, "\nrecent claims\n");
	if (in.claims == 0)
		fprintf(f, "  (none)\n");
	for (uint32_t i = in.claims > 5 ? in.claims - 5 : 0; i < in.claims; i++) {
		const struct fc_client_claim *k = fc_client_claim_at(c, i);

		fprintf(f,
			"  clue %-4" PRIu32 " won by player %-5u (team %u, %" PRIu32
			" points, %u contenders)\n",
			k->clue_id, k->winner, k->winner_team, k->points, k->contenders_total);
	}
	fprintf(f,
		"\ncounters  packets %" PRIu64 "  lost %" PRIu64 "  dup %" PRIu64
		"  malformed %" PRIu64 "  gaps %" PRIu64 "  retransmits %" PRIu64 "/%" PRIu64
		" answered, %" PRIu64 " refused  snapshots %" PRIu64 "\n\n",
		st.packets, st.pkt_skipped[0] + st.pkt_skipped[1], st.duplicates, malformed,
		st.gaps, st.rt_answered, st.rt_asked, refused, st.snapshots_applied);
	tui_map(f, c, src);
	fflush(f);
}

void
fc__watch_summary(FILE *f, const struct fc_client *c)
{
	struct fc_client_info in;
	struct fc_client_stats st;

	fc_client_get_info(c, &in);
	fc_client_get_stats(c, &st);
	if (!in.has_session) {
		fprintf(f, "floorwatch: no session seen (%" PRIu64 " datagrams)\n", st.datagrams);
		return;
	}
	fprintf(f,
		"floorwatch: session 0x%08" PRIx32 " %s: round %" PRIu32 " %s, %" PRIu32
		" players, %" PRIu32 " clues, %" PRIu32 " claims, %" PRIu64 " events; %" PRIu64
		" gaps, %" PRIu64 " retransmits asked, %" PRIu64 " snapshots applied\n",
		in.session_id,
		in.ended ? (in.complete ? "ended, complete" : "ended, INCOMPLETE")
			 : (in.synced ? "synced" : "NOT synced"),
		in.round.round_id, round_name(in.round.state), in.players, in.clues, in.claims,
		in.next_event_seq > 0 ? in.next_event_seq - 1 : 0, st.gaps, st.rt_asked,
		st.snapshots_applied);
}

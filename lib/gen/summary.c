/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The summary: what was sent and what floord should count, as JSON with mkcapture.py's keys
 * (tests/replay reads them: expected_counters, classes, hostile, final_positions, first_ts_ns,
 * last_ts_ns), so a test can hold floord's report against either generator. One player a line
 * in final_positions: 65 535 of them stay greppable.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_priv.h"

struct counter {
	char name[48];
	uint64_t n;
};

static int
cmp_counter(const void *a, const void *b)
{
	return strcmp(((const struct counter *)a)->name, ((const struct counter *)b)->name);
}

static void
add(struct counter *c, unsigned int *n, const char *section, const char *name, uint64_t v)
{
	snprintf(c[*n].name, sizeof(c[*n].name), "%s%s%s", section, *section ? "." : "", name);
	c[(*n)++].n = v;
}

static const char *
scenario_name(enum fc_gen_scenario s)
{
	static const char *const names[] = { "normal", "crowded", "hostile" };

	return (unsigned int)s < 3 ? names[s] : "unknown";
}

static const char *
alg_name(unsigned int alg)
{
	switch (alg) {
	case FC_MAC_HMAC_SHA256_128:
		return "hmac-sha256-128";
	case FC_MAC_SIPHASH24:
		return "siphash24";
	default:
		return "first key";
	}
}

static void
ip_str(uint32_t ip, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

/* The downlink's rounding (docs/protocol.md section 4.6): nearest unit, halves up, clamped. */
static long
to_unit(int32_t mm, int unit, long lo, long hi)
{
	long v = (long)mm + unit / 2;

	v = v >= 0 ? v / unit : -((-v + unit - 1) / unit);
	return v < lo ? lo : v > hi ? hi : v;
}

static void
write_args(const struct fc_gen *g, FILE *o)
{
	const struct fc_gen_params *p = &g->p;
	char ip[16];

	ip_str(p->dst_ip, ip);
	fprintf(o,
		" \"args\": {\"players\": %" PRIu32 ", \"gateways\": %" PRIu32
		", \"seconds\": %.17g, \"rate\": %.17g, \"seed\": %" PRIu64
		", \"width_mm\": %" PRIu32 ", \"height_mm\": %" PRIu32 ", \"start_ns\": %" PRIu64
		", \"scenario\": \"%s\", \"mac\": \"%s\", \"dst_ip\": \"%s\", \"dst_port\": %u"
		", \"clock_bound_ns\": %" PRIu64 ", \"check\": %s, \"udp_only\": %s},\n",
		p->n_players, p->n_gateways, p->seconds, p->rate_hz, p->seed, p->width_mm,
		p->height_mm, p->start_ns, scenario_name(p->scenario), alg_name(p->mac_alg), ip,
		p->dst_port, p->clock_bound_ns, p->check ? "true" : "false",
		p->udp_only ? "true" : "false");
}

static void
write_gateways(const struct fc_gen *g, FILE *o)
{
	fprintf(o, " \"gateways\": [");
	for (uint32_t i = 0; i < g->n_gw; i++) {
		const struct fc_gen_gateway *gw = &g->gwi[i];
		char ip[16];

		ip_str(gw->ip, ip);
		fprintf(o,
			"%s\n  {\"gateway_id\": %" PRIu32 ", \"key_id\": %u, \"mac_alg\": \"%s\""
			", \"ip\": \"%s\", \"port\": %u, \"mac\": \"%02x:%02x:%02x:%02x:%02x:%02x\""
			", \"latency_us\": %" PRIu32 ", \"phase_us\": %" PRIu32
			", \"frames\": %" PRIu64 ", \"clock_offset_us\": %" PRId64
			", \"drift_ppm\": %.6f, \"lost\": %" PRIu64 ", \"reordered\": %" PRIu64
			", \"late\": %" PRIu64 "}",
			i ? "," : "", gw->id, gw->key_id, alg_name(gw->mac_alg), ip, gw->port,
			gw->mac[0], gw->mac[1], gw->mac[2], gw->mac[3], gw->mac[4], gw->mac[5],
			gw->latency_us, gw->phase_us, gw->frames, gw->clock_offset_us,
			gw->drift_ppm, gw->lost, gw->reordered, gw->late);
	}
	fprintf(o, "],\n");
}

static void
write_counters(const struct fc_gen *g, FILE *o)
{
	const struct fc_gen_result *r = &g->res;
	struct counter c[FC_PKT__COUNT + FC_UP_E__COUNT + 8];
	unsigned int n = 0;

	add(c, &n, "", "frames_accepted", r->gw_frames);
	add(c, &n, "", "keepalives", r->keepalives);
	add(c, &n, "", "fix_records", r->fix_records);
	add(c, &n, "owners", "applied", r->applied);
	add(c, &n, "owners", "older", r->older);
	add(c, &n, "owners", "duplicates", r->duplicates);
	if (r->unknown_tags)
		add(c, &n, "pipeline", "unknown_tag", r->unknown_tags);
	for (unsigned int i = 1; i < FC_PKT__COUNT; i++)
		if (r->net[i])
			add(c, &n, "net", fc_pkt_verdict_name(i), r->net[i]);
	for (unsigned int i = 1; i < FC_UP_E__COUNT; i++)
		if (r->up[i])
			add(c, &n, "uplink", fc_up_err_name(i), r->up[i]);
	qsort(c, n, sizeof(c[0]), cmp_counter);
	fprintf(o, " \"expected_counters\": {");
	for (unsigned int i = 0; i < n; i++)
		fprintf(o, "%s\"%s\": %" PRIu64, i ? ", " : "", c[i].name, c[i].n);
	fprintf(o, "},\n");
}

static void
write_classes(const struct fc_gen *g, FILE *o)
{
	const struct fc_gen_result *r = &g->res;
	bool first = true;

	fprintf(o,
		" \"classes\": {\"valid_frame\": {\"count\": %" PRIu64
		", \"counter\": \"rx.gw_frames\"}, \"keepalive\": {\"count\": %" PRIu64
		", \"counter\": \"rx.gw_frames (the ones with 0 records)\"}, \"fix\": {\"count\": "
		"%" PRIu64 ", \"counter\": \"owners.applied + owners.older\"}",
		r->gw_frames, r->keepalives, r->fixes);
	for (unsigned int h = 0; h < FC_GEN_H__COUNT; h++)
		if (r->hostile_sent[h])
			fprintf(o, ", \"%s\": {\"count\": 1, \"counter\": \"%s\"}",
				fc_gen_hostile_name(h), fc_gen_hostile_counter(h));
	fprintf(o, "},\n \"hostile\": [");
	/* in capture order */
	for (uint64_t last = 0;;) {
		int next = -1;

		for (unsigned int h = 0; h < FC_GEN_H__COUNT; h++)
			if (r->hostile_sent[h] && (first || r->hostile[h].frame_index > last) &&
			    (next < 0 || r->hostile[h].frame_index < r->hostile[next].frame_index))
				next = (int)h;
		if (next < 0)
			break;
		fprintf(o,
			"%s\n  {\"cls\": \"%s\", \"counter\": \"%s\", \"frame_index\": %" PRIu64
			", \"ts_ns\": %" PRIu64 ", \"gateway_id\": %" PRIu32 "}",
			first ? "" : ",", fc_gen_hostile_name(next), fc_gen_hostile_counter(next),
			r->hostile[next].frame_index, r->hostile[next].ts_ns,
			r->hostile[next].gateway_id);
		last = r->hostile[next].frame_index;
		first = false;
	}
	fprintf(o, "],\n");
}

static const char *
enum_name(unsigned int v, const char *const *names, unsigned int n)
{
	return v < n ? names[v] : "unknown";
}

/* The scenario's model, every key with its value in force (docs/floorgen.md). */
static void
write_model(const struct fc_gen *g, FILE *o)
{
	static const char *const noise[] = { "none", "uwb", "ble_aoa" };
	static const char *const cover[] = { "stripes", "grid" };
	const struct fc_gen_params *p = &g->p;

	fprintf(o,
		" \"model\": {\"movement\": {\"speed_min_mps\": %.17g, \"speed_max_mps\": %.17g"
		", \"pause_probability\": %.17g, \"pause_min_s\": %.17g, \"pause_max_s\": %.17g}",
		p->speed_min_mps, p->speed_max_mps, p->pause_prob, p->pause_min_s, p->pause_max_s);
	fprintf(o, ",\n  \"rates\": {\"teams\": {");
	for (uint32_t i = 0; i < p->n_team_rates; i++)
		fprintf(o, "%s\"%u\": %.17g", i ? ", " : "", p->team_rates[i].team,
			p->team_rates[i].hz);
	fprintf(o, "}, \"fraction\": %.17g, \"fraction_hz\": %.17g}", p->rate_fraction,
		p->fraction_hz);
	fprintf(o,
		",\n  \"clues\": {\"clues\": %" PRIu32 ", \"attraction\": %.17g"
		", \"hot_spots\": [",
		p->layout != NULL ? p->layout->n_clues : 0, p->attraction);
	for (uint32_t i = 0; i < p->n_hot_spots; i++)
		fprintf(o, "%s%" PRIu32, i ? ", " : "", p->hot_spots[i]);
	fprintf(o,
		"], \"hot_weight\": %.17g, \"pause_min_s\": %.17g, \"pause_max_s\": %.17g"
		", \"approach_mm\": %" PRIu32 "}",
		p->hot_weight, p->clue_pause_min_s, p->clue_pause_max_s, p->approach_mm);
	fprintf(o, ",\n  \"noise\": {\"profile\": \"%s\", \"sigma_mm\": %.17g}",
		enum_name(p->noise, noise, 3), g->noise_sigma);
	fprintf(o,
		",\n  \"gateways\": {\"coverage\": \"%s\", \"cols\": %" PRIu32
		", \"rows\": %" PRIu32 ", \"overlap_mm\": %" PRIu32 "}",
		enum_name(p->coverage, cover, 2),
		p->coverage == FC_GEN_COVER_STRIPES ? g->n_gw : g->cols,
		p->coverage == FC_GEN_COVER_STRIPES ? 1 : g->rows, p->overlap_mm);
	fprintf(o, ",\n  \"clock\": {\"skew_ms\": %.17g, \"drift_ppm\": %.17g}", p->skew_ms,
		p->drift_ppm);
	fprintf(o,
		",\n  \"impairments\": {\"loss_pct\": %.17g, \"duplicate_pct\": %.17g"
		", \"reorder_pct\": %.17g, \"reorder_window_ms\": %.17g, \"late_pct\": %.17g"
		", \"late_ms\": %.17g}},\n",
		p->loss_pct, p->dup_pct, p->reorder_pct, p->reorder_ms, p->late_pct, p->late_ms);
}

/* What was sent, class by class: the impairments' doing and the hostile frames. */
static void
write_sent(const struct fc_gen *g, FILE *o)
{
	const struct fc_gen_result *r = &g->res;
	unsigned int n = 0;

	fprintf(o,
		" \"sent\": {\"frames\": %" PRIu64 ", \"fixes\": %" PRIu64
		", \"fix_reports\": %" PRIu64 ", \"overlap_reports\": %" PRIu64
		", \"duplicate_reports\": %" PRIu64 ", \"lost_frames\": %" PRIu64
		", \"lost_reports\": %" PRIu64 ", \"reordered_frames\": %" PRIu64
		", \"late_frames\": %" PRIu64 ", \"window_drops\": %" PRIu64,
		r->frames, r->fixes, r->fix_reports, r->overlap_reports, r->duplicate_reports,
		r->lost_frames, r->lost_reports, r->reordered_frames, r->late_frames,
		r->window_drops);
	fprintf(o, ",\n  \"skewed_gateways\": [");
	for (uint32_t i = 0; i < g->n_gw; i++)
		if (g->gwi[i].clock_offset_us != 0 || g->gwi[i].drift_ppm != 0)
			fprintf(o,
				"%s{\"gateway_id\": %" PRIu32 ", \"offset_us\": %" PRId64
				", \"drift_ppm\": %.6f}",
				n++ ? ", " : "", g->gwi[i].id, g->gwi[i].clock_offset_us,
				g->gwi[i].drift_ppm);
	fprintf(o, "],\n  \"hostile\": {");
	n = 0;
	for (unsigned int h = 0; h < FC_GEN_H__COUNT; h++)
		if (r->hostile_sent[h])
			fprintf(o, "%s\"%s\": 1", n++ ? ", " : "", fc_gen_hostile_name(h));
	fprintf(o, "},\n  \"skipped\": {");
	n = 0;
	for (unsigned int h = 0; h < FC_GEN_H__COUNT; h++)
		if (r->skipped[h])
			fprintf(o, "%s\"%s\": %" PRIu64, n++ ? ", " : "", fc_gen_hostile_name(h),
				r->skipped[h]);
	fprintf(o, "}},\n");
}

/* udp_only: what a socket could not send, by class (always there, {} when nothing was) */
static void
write_skipped(const struct fc_gen *g, FILE *o)
{
	unsigned int n = 0;

	fprintf(o, " \"skipped\": {");
	for (unsigned int h = 0; h < FC_GEN_H__COUNT; h++)
		if (g->res.skipped[h])
			fprintf(o, "%s\"%s\": %" PRIu64, n++ ? ", " : "", fc_gen_hostile_name(h),
				g->res.skipped[h]);
	fprintf(o, "},\n");
}

static void
write_live(const struct fc_gen *g, FILE *o)
{
	const struct fc_gen_live_params *lp = fc_gen_live_params(g->live);
	struct fc_gen_live_stats st;
	char dst[16], src[16];

	fc_gen_live_get_stats(g->live, &st);
	ip_str(lp->dst_ip, dst);
	ip_str(lp->bind_ip, src);
	fprintf(o,
		" \"live\": {\"dst\": \"%s:%u\", \"bind\": \"%s:%u\", \"speed\": %.17g"
		", \"sent\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"errors\": %" PRIu64
		", \"max_late_ns\": %" PRIu64 ", \"elapsed_ns\": %" PRIu64 "},\n",
		dst, lp->dst_port, src, lp->bind_port, lp->speed, st.sent, st.bytes, st.errors,
		st.max_late_ns, st.elapsed_ns);
}

static void
write_crowded(const struct fc_gen *g, FILE *o)
{
	fprintf(o, " \"crowded\": {\"centre_mm\": [%" PRIu32 ", %" PRIu32 "], \"players\": [",
		g->res.centre_x_mm, g->res.centre_y_mm);
	for (uint32_t i = 0; i < g->n_conv; i++)
		fprintf(o, "%s%u", i ? ", " : "", g->final[i].player);
	fprintf(o, "], \"arrival_ns\": {");
	for (uint32_t i = 0, n = 0; i < g->n_conv; i++)
		if (g->final[i].arrival_ns)
			fprintf(o, "%s\"%u\": %" PRIu64, n++ ? ", " : "", g->final[i].player,
				g->final[i].arrival_ns);
	fprintf(o, "}},\n");
}

int
fc_gen_write_summary(const struct fc_gen *g, FILE *o)
{
	const struct fc_gen_result *r = &g->res;

	fprintf(o, "{\n \"generator\": \"floorgen\",\n");
	write_args(g, o);
	fprintf(o,
		" \"start_ns\": %" PRIu64 ",\n \"frames\": %" PRIu64 ",\n \"fixes\": %" PRIu64
		",\n \"fix_records\": %" PRIu64 ",\n \"keepalives\": %" PRIu64
		",\n \"first_ts_ns\": %" PRIu64 ",\n \"last_ts_ns\": %" PRIu64 ",\n",
		g->start_ns, r->frames, r->fixes, r->fix_records, r->keepalives, r->first_ts_ns,
		r->last_ts_ns);
	write_gateways(g, o);
	write_classes(g, o);
	write_skipped(g, o);
	write_model(g, o);
	write_sent(g, o);
	if (g->live != NULL)
		write_live(g, o);
	write_counters(g, o);
	if (g->p.scenario == FC_GEN_CROWDED)
		write_crowded(g, o);
	fprintf(o, " \"final_positions\": {");
	for (uint32_t i = 0; i < g->p.n_players; i++) {
		const struct fc_gen_final *f = &g->final[i];

		fprintf(o,
			"%s\n  \"%u\": {\"tag_id\": %" PRIu64
			", \"team\": %u, \"fix_seq\": %" PRIu32 ", \"t_ns\": %" PRIu64
			", \"x_mm\": %" PRId32 ", \"y_mm\": %" PRId32 ", \"z_mm\": %" PRId32
			", \"x_cm\": %ld, \"y_cm\": %ld, \"z_dm\": %ld}",
			i ? "," : "", f->player, f->tag_id, f->team, f->fix_seq, f->t_ns, f->x_mm,
			f->y_mm, f->z_mm, to_unit(f->x_mm, 10, 0, 65535),
			to_unit(f->y_mm, 10, 0, 65535), to_unit(f->z_mm, 100, -128, 127));
	}
	fprintf(o, "}\n}\n");
	return ferror(o) ? -EIO : 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The exit report: every lcore's counters summed by role, drops by reason, ring high-water
 * marks, the RX-to-applied latency percentiles and the mempool's state after the run. Readers
 * sum per-lcore counters; nothing on the packet path is shared for the sake of a report.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dataplane_priv.h"
#include "fc_game.h"

struct totals {
	struct fc_rx_stats rx;
	struct fc_owner_stats own;
	uint32_t ring_hwm_max;
};

static void
sum(const struct fc_dataplane *dp, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (uint32_t r = 0; r < dp->n_rx; r++) {
		const struct fc_rx_stats *s = &dp->rx[r]->st;

		t->rx.frames += s->frames;
		t->rx.bursts += s->bursts;
		t->rx.gw_frames += s->gw_frames;
		t->rx.fixes += s->fixes;
		t->rx.routed += s->routed;
		t->rx.clue_routed += s->clue_routed;
		t->rx.status_frames += s->status_frames;
		t->rx.event_frames += s->event_frames;
		t->rx.rt_requests += s->rt_requests;
		t->rx.rt_dropped += s->rt_dropped;
		for (unsigned int i = 0; i < FC_PKT__COUNT; i++)
			t->rx.pkt_drop[i] += s->pkt_drop[i];
		for (unsigned int i = 0; i < FC_UP_E__COUNT; i++)
			t->rx.up_drop[i] += s->up_drop[i];
		for (unsigned int i = 0; i < FC_RX_DROP__COUNT; i++)
			t->rx.drop[i] += s->drop[i];
		for (uint32_t o = 0; o < dp->n_owners; o++)
			if (s->ring_hwm[o] > t->ring_hwm_max)
				t->ring_hwm_max = s->ring_hwm[o];
	}
	for (uint32_t o = 0; o < dp->n_owners; o++) {
		const struct fc_owner_stats *s = &dp->owner[o]->st;

		t->own.records += s->records;
		t->own.applied += s->applied;
		t->own.older += s->older;
		t->own.duplicates += s->duplicates;
		t->own.watermarks += s->watermarks;
		t->own.clue_fixes += s->clue_fixes;
		t->own.qualifying += s->qualifying;
		t->own.implausible += s->implausible;
		t->own.claims += s->claims;
		t->own.claims_held += s->claims_held;
		t->own.journal_full += s->journal_full;
		t->own.already_awarded += s->already_awarded;
		fc_hist_merge(&t->own.lat_tsc, &s->lat_tsc);
	}
}

static uint64_t
tsc_to_ns(const struct fc_dataplane *dp, uint64_t tsc)
{
	return (uint64_t)((double)tsc * 1e9 / (double)dp->tsc_hz);
}

/* The process's peak resident set (VmHWM), kB; 0 if /proc cannot say. Control path only. */
static uint64_t
peak_rss_kb(void)
{
	char line[128];
	uint64_t kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmHWM: %" SCNu64, &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static uint64_t
mempool_bytes(const struct fc_dataplane *dp)
{
	return (uint64_t)dp->pool->size *
	       (dp->pool->header_size + dp->pool->elt_size + dp->pool->trailer_size);
}

static double
fixes_per_s(const struct fc_dataplane *dp, const struct totals *t)
{
	return dp->elapsed_ns ? (double)t->own.records * 1e9 / (double)dp->elapsed_ns : 0;
}

/* p95 because the original engine published it (perf/README.md compares the two). */
static const double quantiles[] = { 0.50, 0.90, 0.95, 0.99, 0.999 };
static const char *const quantile_names[] = { "p50", "p90", "p95", "p99", "p999" };

/* "  label, N samples: p50 .. us ... max .. us" */
static void
hist_text(FILE *out, const struct fc_dataplane *dp, const char *label, const struct fc_hist *h)
{
	fprintf(out, "  %s, %" PRIu64 " samples:", label, h->count);
	for (unsigned int i = 0; i < RTE_DIM(quantiles); i++)
		fprintf(out, " %s %.1f us", quantile_names[i],
			tsc_to_ns(dp, fc_hist_quantile(h, quantiles[i])) / 1000.0);
	fprintf(out, " max %.1f us\n", tsc_to_ns(dp, h->max) / 1000.0);
}

/* ', "key": {"samples": N, "p50": ns, ..., "max": ns}' */
static void
hist_json(FILE *out, const struct fc_dataplane *dp, const char *key, const struct fc_hist *h)
{
	fprintf(out, ", \"%s\": {\"samples\": %" PRIu64, key, h->count);
	for (unsigned int i = 0; i < RTE_DIM(quantiles); i++)
		fprintf(out, ", \"%s\": %" PRIu64, quantile_names[i],
			tsc_to_ns(dp, fc_hist_quantile(h, quantiles[i])));
	fprintf(out, ", \"max\": %" PRIu64 "}", tsc_to_ns(dp, h->max));
}

static uint64_t
drops_total(const struct totals *t)
{
	uint64_t n = 0;

	for (unsigned int i = 1; i < FC_PKT__COUNT; i++)
		n += t->rx.pkt_drop[i];
	for (unsigned int i = 1; i < FC_UP_E__COUNT; i++)
		n += t->rx.up_drop[i];
	for (unsigned int i = 0; i < FC_RX_DROP__COUNT; i++)
		n += t->rx.drop[i];
	return n;
}

static void
layout(const struct fc_dataplane *dp, FILE *out, bool json)
{
	const struct fc_config *c = dp->cfg;

	if (json) {
		fprintf(out, "\"layout\": {\"rx\": [");
		for (uint32_t i = 0; i < c->n_rx; i++)
			fprintf(out, "%s%u", i ? ", " : "", c->rx_lcores[i]);
		fprintf(out, "], \"owners\": [");
		for (uint32_t i = 0; i < c->n_owners; i++)
			fprintf(out, "%s%u", i ? ", " : "", c->owner_lcores[i]);
		fprintf(out, "], \"tx\": %u, \"lcores\": %u}", c->tx_lcore,
			fc_config_lcore_count(c));
		return;
	}
	fprintf(out, "  layout       %u RX x %u owners + TX on %u lcore%s (rx", c->n_rx,
		c->n_owners, fc_config_lcore_count(c), fc_config_lcore_count(c) == 1 ? "" : "s");
	for (uint32_t i = 0; i < c->n_rx; i++)
		fprintf(out, " %u", c->rx_lcores[i]);
	fprintf(out, "; owners");
	for (uint32_t i = 0; i < c->n_owners; i++)
		fprintf(out, " %u", c->owner_lcores[i]);
	fprintf(out, "; tx %u)\n", c->tx_lcore);
}

void
fc_dataplane_report(const struct fc_dataplane *dp, FILE *out)
{
	const struct fc_tx_stats *tx = &dp->tx->st;
	struct totals t;

	sum(dp, &t);
	fprintf(out, "floord report\n");
	fprintf(out, "  mode         %s\n", dp->opts.replay ? "replay (capture clock)" : "live");
	layout(dp, out, false);
	fprintf(out, "  floor        %.2f m x %.2f m, %u mm cells, %u x %u shards, %u players\n",
		dp->cfg->width_mm / 1000.0, dp->cfg->height_mm / 1000.0, 1u << dp->cfg->cell_shift,
		dp->geom.shards_x, dp->geom.shards_y, dp->n_players);
	fprintf(out,
		"  rx           %" PRIu64 " frames, %" PRIu64 " gateway frames, %" PRIu64
		" fixes, %" PRIu64 " routed, %" PRIu64 " status, %" PRIu64 " events\n",
		t.rx.frames, t.rx.gw_frames, t.rx.fixes, t.rx.routed, t.rx.status_frames,
		t.rx.event_frames);
	fprintf(out, "  drops        %" PRIu64 " in all\n", drops_total(&t));
	for (unsigned int i = 1; i < FC_PKT__COUNT; i++)
		if (t.rx.pkt_drop[i])
			fprintf(out, "    net.%-20s %" PRIu64 "\n", fc_pkt_verdict_name(i),
				t.rx.pkt_drop[i]);
	for (unsigned int i = 1; i < FC_UP_E__COUNT; i++)
		if (t.rx.up_drop[i])
			fprintf(out, "    uplink.%-17s %" PRIu64 "\n", fc_up_err_name(i),
				t.rx.up_drop[i]);
	for (unsigned int i = 0; i < FC_RX_DROP__COUNT; i++)
		if (t.rx.drop[i])
			fprintf(out, "    pipeline.%-15s %" PRIu64 "\n", fc_rx_drop_name(i),
				t.rx.drop[i]);
	fprintf(out,
		"  owners       %" PRIu64 " applied, %" PRIu64 " older (reordered), %" PRIu64
		" duplicates; ring high-water %u of %u\n",
		t.own.applied, t.own.older, t.own.duplicates, t.ring_hwm_max, dp->cfg->ring_size);
	if (dp->tx->layout != NULL)
		fprintf(out,
			"  game         %u clues: %" PRIu64 " claims (%" PRIu64
			" announced before their tick's end), %" PRIu64 " reopened, %" PRIu64
			" events; %" PRIu64 " fixes near clues, %" PRIu64 " qualifying, %" PRIu64
			" implausible\n",
			dp->tx->layout->n_clues, t.own.claims, tx->claims_asap, tx->reopened,
			tx->events, t.own.clue_fixes, t.own.qualifying, t.own.implausible);
	hist_text(out, dp, "latency      RX burst -> applied", &t.own.lat_tsc);
	if (tx->claim_tsc.count > 0)
		hist_text(out, dp, "claims       settle window's end -> NIC", &tx->claim_tsc);
	fprintf(out,
		"  tx           %" PRIu64 " ticks, %" PRIu64 " packets (%" PRIu64
		" bytes), %" PRIu64 " positions, %" PRIu64 " heartbeats, %" PRIu64
		" snapshots (%" PRIu64 " packets)\n",
		tx->ticks, tx->packets, tx->bytes, tx->positions, tx->heartbeats, tx->snapshots,
		tx->snapshot_packets);
	fprintf(out,
		"               %" PRIu64 " retries, %" PRIu64 " dropped by the NIC, %" PRIu64
		" without mbuf, %" PRIu64 " full scans, %" PRIu64
		" end-of-session copies while lingering\n",
		tx->tx_retries, tx->tx_drops, tx->alloc_fail, tx->full_scans, tx->eos_repeats);
	fprintf(out, "  run          %.3f s, %.0f fixes/s applied; peak RSS %" PRIu64 " kB\n",
		dp->elapsed_ns / 1e9, fixes_per_s(dp, &t), peak_rss_kb());
	fprintf(out,
		"  mempool      %u mbufs (%.1f MiB), %" PRIu64 " in use after the run%s; %" PRIu64
		" frames left on the queues at the end, discarded\n",
		dp->mbufs, mempool_bytes(dp) / 1048576.0, dp->mempool_in_use_at_exit,
		dp->mempool_in_use_at_exit ? " (LEAK)" : "", dp->drained_at_exit);
}

void
fc_dataplane_report_json(const struct fc_dataplane *dp, FILE *out)
{
	const struct fc_tx_stats *tx = &dp->tx->st;
	struct totals t;

	sum(dp, &t);
	fprintf(out, "{\"mode\": \"%s\", ", dp->opts.replay ? "replay" : "live");
	layout(dp, out, true);
	fprintf(out, ", \"players\": %u, \"shards\": %u", dp->n_players,
		fc_geom_n_shards(&dp->geom));
	fprintf(out,
		", \"rx\": {\"frames\": %" PRIu64 ", \"bursts\": %" PRIu64
		", \"gw_frames\": %" PRIu64 ", \"fixes\": %" PRIu64 ", \"routed\": %" PRIu64
		", \"status_frames\": %" PRIu64 ", \"event_frames\": %" PRIu64
		", \"ring_hwm\": %u}",
		t.rx.frames, t.rx.bursts, t.rx.gw_frames, t.rx.fixes, t.rx.routed,
		t.rx.status_frames, t.rx.event_frames, t.ring_hwm_max);
	fprintf(out, ", \"drops\": {\"total\": %" PRIu64 ", \"net\": {", drops_total(&t));
	for (unsigned int i = 1; i < FC_PKT__COUNT; i++)
		fprintf(out, "%s\"%s\": %" PRIu64, i > 1 ? ", " : "", fc_pkt_verdict_name(i),
			t.rx.pkt_drop[i]);
	fprintf(out, "}, \"uplink\": {");
	for (unsigned int i = 1; i < FC_UP_E__COUNT; i++)
		fprintf(out, "%s\"%s\": %" PRIu64, i > 1 ? ", " : "", fc_up_err_name(i),
			t.rx.up_drop[i]);
	fprintf(out, "}, \"pipeline\": {");
	for (unsigned int i = 0; i < FC_RX_DROP__COUNT; i++)
		fprintf(out, "%s\"%s\": %" PRIu64, i ? ", " : "", fc_rx_drop_name(i), t.rx.drop[i]);
	fprintf(out, "}}");
	fprintf(out,
		", \"owners\": {\"records\": %" PRIu64 ", \"applied\": %" PRIu64
		", \"older\": %" PRIu64 ", \"duplicates\": %" PRIu64 ", \"watermarks\": %" PRIu64
		"}",
		t.own.records, t.own.applied, t.own.older, t.own.duplicates, t.own.watermarks);
	fprintf(out,
		", \"game\": {\"clues\": %u, \"clue_routed\": %" PRIu64 ", \"clue_fixes\": %" PRIu64
		", \"qualifying\": %" PRIu64 ", \"implausible\": %" PRIu64 ", \"claims\": %" PRIu64
		", \"claims_held\": %" PRIu64 ", \"events\": %" PRIu64
		", \"journal_full\": %" PRIu64 ", \"already_awarded\": %" PRIu64
		", \"durable_waits\": %" PRIu64 ", \"journal_drops\": %" PRIu64
		", \"claims_asap\": %" PRIu64 ", \"reopened\": %" PRIu64
		", \"restored_clues\": %u, \"layout_id\": %" PRIu64 ", \"stale_claims\": %" PRIu64
		"}",
		dp->tx->layout != NULL ? dp->tx->layout->n_clues : 0, t.rx.clue_routed,
		t.own.clue_fixes, t.own.qualifying, t.own.implausible, t.own.claims,
		t.own.claims_held, tx->events, t.own.journal_full, t.own.already_awarded,
		tx->durable_waits, tx->journal_drops, tx->claims_asap, tx->reopened,
		dp->restored_clues, dp->tx->layout_gen, tx->stale_claims);
	fprintf(out,
		", \"retransmit\": {\"requests_rx\": %" PRIu64 ", \"dropped_rx\": %" PRIu64
		", \"answered\": %" PRIu64 ", \"packets\": %" PRIu64 ", \"ignored\": %" PRIu64
		", \"refused\": {\"too_old\": %" PRIu64 ", \"too_many\": %" PRIu64
		", \"rate\": %" PRIu64 ", \"session\": %" PRIu64 ", \"not_yet\": %" PRIu64 "}}",
		t.rx.rt_requests, t.rx.rt_dropped, tx->rt_requests, tx->rt_packets, tx->rt_ignored,
		tx->rt_refused[FC_RT_REFUSED_TOO_OLD], tx->rt_refused[FC_RT_REFUSED_TOO_MANY],
		tx->rt_refused[FC_RT_REFUSED_RATE], tx->rt_refused[FC_RT_REFUSED_SESSION],
		tx->rt_refused[FC_RT_REFUSED_NOT_YET]);
	hist_json(out, dp, "latency_ns", &t.own.lat_tsc);
	hist_json(out, dp, "claim_latency_ns", &tx->claim_tsc);
	fprintf(out,
		", \"tx\": {\"ticks\": %" PRIu64 ", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64
		", \"positions\": %" PRIu64 ", \"heartbeats\": %" PRIu64 ", \"snapshots\": %" PRIu64
		", \"snapshot_packets\": %" PRIu64 ", \"tx_retries\": %" PRIu64
		", \"tx_drops\": %" PRIu64 ", \"alloc_fail\": %" PRIu64 ", \"full_scans\": %" PRIu64
		", \"eos_repeats\": %" PRIu64 "}",
		tx->ticks, tx->packets, tx->bytes, tx->positions, tx->heartbeats, tx->snapshots,
		tx->snapshot_packets, tx->tx_retries, tx->tx_drops, tx->alloc_fail, tx->full_scans,
		tx->eos_repeats);
	fprintf(out,
		", \"run\": {\"elapsed_ns\": %" PRIu64
		", \"fixes_per_s\": %.0f, \"peak_rss_kb\": %" PRIu64 "}",
		dp->elapsed_ns, fixes_per_s(dp, &t), peak_rss_kb());
	fprintf(out,
		", \"mempool\": {\"size\": %u, \"bytes\": %" PRIu64 ", \"in_use_at_exit\": %" PRIu64
		", \"drained_at_exit\": %" PRIu64 "}}\n",
		dp->mbufs, mempool_bytes(dp), dp->mempool_in_use_at_exit, dp->drained_at_exit);
}

/* ---- telemetry: the same figures, live, under /floorcast/ (dpdk-telemetry.py) ------------ */

#include <rte_telemetry.h>

static const struct fc_dataplane *tel_dp; /* one dataplane per process */

/* What every /floorcast/ command starts with: the totals and an empty dict. */
static int
tel_begin(struct rte_tel_data *d, struct totals *t)
{
	if (tel_dp == NULL)
		return -ENODEV;
	sum(tel_dp, t);
	rte_tel_data_start_dict(d);
	return 0;
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct totals t;

	(void)cmd;
	(void)params;
	if (tel_begin(d, &t) != 0)
		return -ENODEV;
	rte_tel_data_add_dict_u64(d, "rx_frames", t.rx.frames);
	rte_tel_data_add_dict_u64(d, "gw_frames", t.rx.gw_frames);
	rte_tel_data_add_dict_u64(d, "fixes", t.rx.fixes);
	rte_tel_data_add_dict_u64(d, "routed", t.rx.routed);
	rte_tel_data_add_dict_u64(d, "drops", drops_total(&t));
	rte_tel_data_add_dict_u64(d, "ring_hwm", t.ring_hwm_max);
	rte_tel_data_add_dict_u64(d, "applied", t.own.applied);
	rte_tel_data_add_dict_u64(d, "older", t.own.older);
	rte_tel_data_add_dict_u64(d, "duplicates", t.own.duplicates);
	rte_tel_data_add_dict_u64(d, "ticks", tel_dp->tx->st.ticks);
	rte_tel_data_add_dict_u64(d, "tx_packets", tel_dp->tx->st.packets);
	rte_tel_data_add_dict_u64(d, "tx_drops", tel_dp->tx->st.tx_drops);
	rte_tel_data_add_dict_u64(d, "tx_retries", tel_dp->tx->st.tx_retries);
	return 0;
}

static int
tel_drops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct totals t;
	char name[64];

	(void)cmd;
	(void)params;
	if (tel_begin(d, &t) != 0)
		return -ENODEV;
	for (unsigned int i = 1; i < FC_PKT__COUNT; i++) {
		snprintf(name, sizeof(name), "net_%s", fc_pkt_verdict_name(i));
		rte_tel_data_add_dict_u64(d, name, t.rx.pkt_drop[i]);
	}
	for (unsigned int i = 1; i < FC_UP_E__COUNT; i++) {
		snprintf(name, sizeof(name), "uplink_%s", fc_up_err_name(i));
		rte_tel_data_add_dict_u64(d, name, t.rx.up_drop[i]);
	}
	for (unsigned int i = 0; i < FC_RX_DROP__COUNT; i++) {
		snprintf(name, sizeof(name), "pipeline_%s", fc_rx_drop_name(i));
		rte_tel_data_add_dict_u64(d, name, t.rx.drop[i]);
	}
	return 0;
}

static int
tel_latency(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct totals t;

	(void)cmd;
	(void)params;
	if (tel_begin(d, &t) != 0)
		return -ENODEV;
	rte_tel_data_add_dict_u64(d, "samples", t.own.lat_tsc.count);
	for (unsigned int i = 0; i < RTE_DIM(quantiles); i++) {
		char name[16];

		snprintf(name, sizeof(name), "%s_ns", quantile_names[i]);
		rte_tel_data_add_dict_u64(
			d, name, tsc_to_ns(tel_dp, fc_hist_quantile(&t.own.lat_tsc, quantiles[i])));
	}
	rte_tel_data_add_dict_u64(d, "max_ns", tsc_to_ns(tel_dp, t.own.lat_tsc.max));
	return 0;
}

static int
tel_lcores(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char name[64];

	(void)cmd;
	(void)params;
	if (tel_dp == NULL)
		return -ENODEV;
	rte_tel_data_start_dict(d);
	for (uint32_t r = 0; r < tel_dp->n_rx; r++) {
		const struct fc_rx_stats *s = &tel_dp->rx[r]->st;

		snprintf(name, sizeof(name), "rx%u_lcore", r);
		rte_tel_data_add_dict_u64(d, name, tel_dp->cfg->rx_lcores[r]);
		snprintf(name, sizeof(name), "rx%u_frames", r);
		rte_tel_data_add_dict_u64(d, name, s->frames);
		snprintf(name, sizeof(name), "rx%u_ring_full", r);
		rte_tel_data_add_dict_u64(d, name, s->drop[FC_RX_DROP_RING_FULL]);
		for (uint32_t o = 0; o < tel_dp->n_owners; o++) {
			snprintf(name, sizeof(name), "rx%u_ring_hwm_owner%u", r, o);
			rte_tel_data_add_dict_u64(d, name, s->ring_hwm[o]);
		}
	}
	for (uint32_t o = 0; o < tel_dp->n_owners; o++) {
		snprintf(name, sizeof(name), "owner%u_lcore", o);
		rte_tel_data_add_dict_u64(d, name, tel_dp->cfg->owner_lcores[o]);
		snprintf(name, sizeof(name), "owner%u_applied", o);
		rte_tel_data_add_dict_u64(d, name, tel_dp->owner[o]->st.applied);
	}
	return 0;
}

int
fc_dataplane_telemetry_register(struct fc_dataplane *dp)
{
	int rc = 0;

	tel_dp = dp;
	rc |= rte_telemetry_register_cmd("/floorcast/stats", tel_stats,
					 "floord totals: frames, fixes, drops, applied, ticks, TX");
	rc |= rte_telemetry_register_cmd("/floorcast/drops", tel_drops,
					 "floord drops by reason (net_*, uplink_*, pipeline_*)");
	rc |= rte_telemetry_register_cmd("/floorcast/latency", tel_latency,
					 "RX burst -> applied latency percentiles, ns");
	rc |= rte_telemetry_register_cmd("/floorcast/lcores", tel_lcores,
					 "floord per-lcore counters and ring high-water marks");
	return rc == 0 ? 0 : -EINVAL;
}

/* ---- Prometheus text exposition (floorctl metrics) --------------------------------------- */

static void
metric(FILE *out, const char *name, const char *type, const char *help, uint64_t v)
{
	fprintf(out, "# HELP floorcast_%s %s\n# TYPE floorcast_%s %s\nfloorcast_%s %" PRIu64 "\n",
		name, help, name, type, name, v);
}

void
fc__report_metrics(const struct fc_dataplane *dp, FILE *out)
{
	const struct fc_tx_stats *tx = &dp->tx->st;
	struct totals t;

	sum(dp, &t);
	metric(out, "rx_frames_total", "counter", "Frames received from the NIC.", t.rx.frames);
	metric(out, "gateway_frames_total", "counter", "Gateway frames accepted.", t.rx.gw_frames);
	metric(out, "fixes_total", "counter", "Fixes in accepted gateway frames.", t.rx.fixes);
	metric(out, "fixes_applied_total", "counter", "Fixes that became a player's position.",
	       t.own.applied);
	metric(out, "fixes_older_total", "counter", "Fixes older than the player's position.",
	       t.own.older);
	metric(out, "fixes_duplicate_total", "counter", "The same fix heard again.",
	       t.own.duplicates);
	fprintf(out, "# HELP floorcast_drops_total Frames or fixes dropped, by reason.\n"
		     "# TYPE floorcast_drops_total counter\n");
	for (unsigned int i = 1; i < FC_PKT__COUNT; i++)
		fprintf(out, "floorcast_drops_total{stage=\"net\",reason=\"%s\"} %" PRIu64 "\n",
			fc_pkt_verdict_name(i), t.rx.pkt_drop[i]);
	for (unsigned int i = 1; i < FC_UP_E__COUNT; i++)
		fprintf(out, "floorcast_drops_total{stage=\"uplink\",reason=\"%s\"} %" PRIu64 "\n",
			fc_up_err_name(i), t.rx.up_drop[i]);
	for (unsigned int i = 0; i < FC_RX_DROP__COUNT; i++)
		fprintf(out,
			"floorcast_drops_total{stage=\"pipeline\",reason=\"%s\"} %" PRIu64 "\n",
			fc_rx_drop_name(i), t.rx.drop[i]);
	metric(out, "ring_high_water", "gauge", "Highest occupancy of an RX-to-owner ring.",
	       t.ring_hwm_max);
	fprintf(out, "# HELP floorcast_rx_to_applied_seconds RX burst to applied, quantiles.\n"
		     "# TYPE floorcast_rx_to_applied_seconds summary\n");
	for (unsigned int i = 0; i < RTE_DIM(quantiles); i++)
		fprintf(out, "floorcast_rx_to_applied_seconds{quantile=\"%g\"} %.9f\n",
			quantiles[i],
			tsc_to_ns(dp, fc_hist_quantile(&t.own.lat_tsc, quantiles[i])) / 1e9);
	fprintf(out, "floorcast_rx_to_applied_seconds_count %" PRIu64 "\n", t.own.lat_tsc.count);
	metric(out, "ticks_total", "counter", "Ticks emitted.", tx->ticks);
	metric(out, "tx_packets_total", "counter", "Downlink packets handed to the NIC.",
	       tx->packets);
	metric(out, "tx_retries_total", "counter", "tx_burst calls beyond the first.",
	       tx->tx_retries);
	metric(out, "tx_drops_total", "counter", "Packets the NIC never took.", tx->tx_drops);
	metric(out, "claims_total", "counter", "Clues awarded.", t.own.claims);
	metric(out, "events_total", "counter", "Downlink events sent.", tx->events);
	metric(out, "retransmit_requests_total", "counter", "Retransmit requests answered.",
	       tx->rt_requests);
	metric(out, "claims_durable_waits_total", "counter",
	       "Polls a tick waited for its awards to be durable.", tx->durable_waits);
}

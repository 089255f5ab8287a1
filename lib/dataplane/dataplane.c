/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Wiring the pipeline from the configuration (control path, start-up only): port, mempool,
 * tag table, rings on the owners' nodes, roles and the lcores that run them; then the run and
 * the teardown. Everything the packet path touches is allocated here, before the first burst.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include "dataplane_priv.h"
#include "fc_game.h"
#include "fc_journal.h"

RTE_LOG_REGISTER_DEFAULT(fc_dataplane_logtype, INFO);
#define DP_LOG(level, ...) rte_log(RTE_LOG_##level, fc_dataplane_logtype, "floord: " __VA_ARGS__)

static struct fc_dataplane *
fail(struct fc_dataplane *dp, int err, char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (buf != NULL && len > 0)
		vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	fc_dataplane_free(dp);
	rte_errno = err;
	return NULL;
}

/*
 * The TSC's frequency, measured against CLOCK_MONOTONIC_RAW over 200 ms. DPDK 22.11 rounds its
 * own calibration to 10 MHz: 1485 ppm off on this kind of machine, enough for a live floord's
 * clock to drift past the gateways' 2 s clock bound in 22 minutes. Measured, the error is the
 * clock readings' jitter over 200 ms: about a part per million.
 */
static uint64_t
measure_tsc_hz(void)
{
	struct timespec a, b, pause = { .tv_sec = 0, .tv_nsec = 200000000 };
	uint64_t t0, t1, ns;

	clock_gettime(CLOCK_MONOTONIC_RAW, &a);
	t0 = rte_rdtsc();
	nanosleep(&pause, NULL);
	clock_gettime(CLOCK_MONOTONIC_RAW, &b);
	t1 = rte_rdtsc();
	ns = (uint64_t)(b.tv_sec - a.tv_sec) * UINT64_C(1000000000) + (uint64_t)b.tv_nsec -
	     (uint64_t)a.tv_nsec;
	if (ns == 0 || t1 <= t0)
		return rte_get_tsc_hz();
	return (uint64_t)((double)(t1 - t0) * 1e9 / (double)ns);
}

int
fc__lcore_socket(unsigned int lcore)
{
	int s = (int)rte_lcore_to_socket_id(lcore);

	return s < 0 || s >= RTE_MAX_NUMA_NODES ? 0 : s;
}

/* Checks the layout against the EAL's lcores and the CPUs, and plans who runs what. */
static int
plan_lcores(struct fc_dataplane *dp, char *err, size_t len)
{
	const struct fc_config *c = dp->cfg;
	cpu_set_t cpus;

	if (c->n_rx > FC_TICK_MAX_RX || c->n_owners > FC_TICK_MAX_OWNERS) {
		snprintf(err, len, "%s: [lcores] at most %u rx and %u owners", c->path,
			 FC_TICK_MAX_RX, FC_TICK_MAX_OWNERS);
		return -EINVAL;
	}
	memset(dp->plan, 0, sizeof(dp->plan));
	for (uint32_t i = 0; i < c->n_rx; i++)
		dp->plan[c->rx_lcores[i] % RTE_MAX_LCORE]
			.rx[dp->plan[c->rx_lcores[i] % RTE_MAX_LCORE].n_rx++] = i;
	for (uint32_t i = 0; i < c->n_owners; i++) {
		struct fc_lcore_plan *p = &dp->plan[c->owner_lcores[i] % RTE_MAX_LCORE];

		p->owner[p->n_owners++] = i;
	}
	dp->plan[c->tx_lcore % RTE_MAX_LCORE].tx = true;

	CPU_ZERO(&cpus);
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		const struct fc_lcore_plan *p = &dp->plan[l];
		rte_cpuset_t set;

		if (p->n_rx == 0 && p->n_owners == 0 && !p->tx)
			continue;
		if (!rte_lcore_is_enabled(l)) {
			snprintf(
				err, len,
				"%s: [lcores] names lcore %u, which the EAL did not enable: give it "
				"with -l/--lcores (enabled: %u lcores)",
				c->path, l, rte_lcore_count());
			return -EINVAL;
		}
		set = rte_lcore_cpuset(l);
		for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
			if (!CPU_ISSET(cpu, &set))
				continue;
			if (CPU_ISSET(cpu, &cpus)) {
				snprintf(
					err, len,
					"%s: [lcores] lcore %u busy-polls CPU %d, which another lcore "
					"of the layout already polls: more busy lcores than CPUs",
					c->path, l, cpu);
				return -EINVAL;
			}
			CPU_SET(cpu, &cpus);
		}
	}
	return 0;
}

static int
setup_port(struct fc_dataplane *dp, char *err, size_t len)
{
	const struct fc_config *c = dp->cfg;
	const struct fc_port_profile *pr = &c->profile;
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t rx_desc = pr->rx_desc, tx_desc = pr->tx_desc;
	int sock, rc;

	if (rte_eth_dev_count_avail() == 0) {
		snprintf(err, len,
			 "no port: give the EAL a device (e.g. --vdev=net_pcap0,... as in %s)",
			 c->profile_file);
		return -ENODEV;
	}
	dp->port = 0;
	rc = rte_eth_dev_info_get(dp->port, &info);
	if (rc != 0) {
		snprintf(err, len, "port 0: cannot read its capabilities: %s", rte_strerror(-rc));
		return rc;
	}
	if (strcmp(info.driver_name, pr->pmd) != 0 && strstr(info.driver_name, pr->pmd) == NULL) {
		snprintf(err, len, "port 0 is driven by %s but the profile %s is for %s",
			 info.driver_name, c->profile_file, pr->pmd);
		return -EINVAL;
	}
	if (info.max_rx_queues < dp->n_rx) {
		snprintf(err, len,
			 "port 0 (%s) has %u RX queues, the layout needs %u (one per RX lcore)",
			 info.driver_name, info.max_rx_queues, dp->n_rx);
		return -EINVAL;
	}
	sock = rte_eth_dev_socket_id(dp->port);
	dp->port_socket_known = sock >= 0;
	dp->port_socket = sock < 0 || sock >= RTE_MAX_NUMA_NODES ? 0 : sock;

	if (dp->n_rx > 1 && pr->rss) {
		uint64_t want = RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_UDP;

		/* Ask only for what the device reports (net_pcap: nothing; one file a queue). */
		conf.rx_adv_conf.rss_conf.rss_hf = want & info.flow_type_rss_offloads;
		if (conf.rx_adv_conf.rss_conf.rss_hf != 0)
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
	}
	/*
	 * Replay takes its clock from the RX timestamp field. net_pcap fills it on every mbuf
	 * without offering the offload (asking for it fails configure), so ask only where the
	 * device offers it; a frame without a timestamp is a counted drop.
	 */
	if ((dp->opts.replay || pr->rx_timestamp) &&
	    (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP))
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
	if (pr->mtu != 0)
		conf.rxmode.mtu = pr->mtu;
	rc = rte_eth_dev_configure(dp->port, (uint16_t)dp->n_rx, 1, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(dp->port, &rx_desc, &tx_desc);
	if (rc != 0) {
		snprintf(err, len, "port 0 (%s): configure: %s", info.driver_name,
			 rte_strerror(-rc));
		return rc;
	}

	/* Every RX descriptor, the TX ring, the bursts and caches of every lcore, TX batches. */
	dp->mbufs = pr->mbufs;
	if (dp->mbufs == 0) {
		dp->mbufs = dp->n_rx * (rx_desc + FC_RX_BURST) + tx_desc + FC_TX_MAX_BATCH +
			    (rte_lcore_count() + 1) * pr->mbuf_cache + 1024;
		dp->mbufs = rte_align32pow2(dp->mbufs) - 1;
	}
	dp->pool = rte_pktmbuf_pool_create("fc_mbufs", dp->mbufs, pr->mbuf_cache, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE, dp->port_socket);
	if (dp->pool == NULL) {
		snprintf(err, len, "mempool of %u mbufs on socket %d: %s", dp->mbufs,
			 dp->port_socket, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	for (uint32_t q = 0; q < dp->n_rx; q++) {
		unsigned int lc = dp->cfg->rx_lcores[q];

		rc = rte_eth_rx_queue_setup(dp->port, (uint16_t)q, rx_desc,
					    (unsigned int)fc__lcore_socket(lc), NULL, dp->pool);
		if (rc != 0) {
			snprintf(err, len, "port 0 RX queue %u: %s", q, rte_strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_tx_queue_setup(dp->port, 0, tx_desc,
				    (unsigned int)fc__lcore_socket(dp->cfg->tx_lcore), NULL);
	if (rc != 0) {
		snprintf(err, len, "port 0 TX queue: %s", rte_strerror(-rc));
		return rc;
	}
	return 0;
}

/*
 * The roster floord starts with: generation 1 of the tag table and the RX tag caches (swap.c),
 * and the control thread's copy of the entries, which floorctl's roster commands change.
 * Player ids run below [roster] capacity: every per-player table is sized for them.
 */
static int
setup_roster(struct fc_dataplane *dp, char *err, size_t len)
{
	const struct fc_config *c = dp->cfg;
	struct fc_roster_gen *g;

	dp->roster = malloc((c->n_roster + 1) * sizeof(*dp->roster));
	if (dp->roster == NULL) {
		snprintf(err, len, "the roster: out of memory");
		return -ENOMEM;
	}
	memcpy(dp->roster, c->roster, c->n_roster * sizeof(*dp->roster));
	dp->n_roster = c->n_roster;
	if (fc__restore_roster(dp, err, len) != 0) /* a restart: the journal's roster commands */
		return -EINVAL;
	g = fc__roster_gen_build(dp, dp->roster, dp->n_roster, 1, err, len);
	if (g == NULL)
		return -ENOMEM;
	dp->rosters = g;
	dp->next_roster_gen = 2;
	for (uint32_t r = 0; r < dp->n_rx; r++) {
		struct fc_rx *rx = dp->rx[r];

		rx->tags = g->view[r].tags;
		rx->tag_cache = g->view[r].cache;
		rx->tag_cache_log2 = g->view[r].cache_log2;
		rx->roster_gen = 1;
		dp->sync->rx[r].used[FC_TICK_SWAP_ROSTER] = 1;
		dp->sync->roster.rx[r] = &g->view[r];
	}
	dp->sync->roster.gen = 1;
	return 0;
}

static int
setup_rings(struct fc_dataplane *dp, char *err, size_t len)
{
	for (uint32_t r = 0; r < dp->n_rx; r++) {
		for (uint32_t o = 0; o < dp->n_owners; o++) {
			char name[RTE_RING_NAMESIZE];
			int sock = fc__lcore_socket(dp->cfg->owner_lcores[o]);

			if (snprintf(name, sizeof(name), "fc_rx%u_own%u", r, o) >=
			    (int)sizeof(name))
				return -ENAMETOOLONG;
			/* On the owner's node: the owner polls it; RX only writes a burst. */
			dp->ring[r][o] = rte_ring_create_elem(name, sizeof(struct fc_fix_rec),
							      dp->cfg->ring_size, sock,
							      RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (dp->ring[r][o] == NULL) {
				snprintf(err, len, "ring %s (%u x %zu bytes, socket %d): %s", name,
					 dp->cfg->ring_size, sizeof(struct fc_fix_rec), sock,
					 rte_strerror(rte_errno));
				return -ENOMEM;
			}
		}
	}
	return 0;
}

/*
 * The round this run plays: the one the journal says is running (a restart continues it), or
 * the next one after it; round 1 on a fresh journal or without one.
 */
static uint32_t
round_after(const struct fc_journal_recovered *r)
{
	if (r == NULL || r->round_id == 0)
		return 1;
	if (r->round_state == FC_ROUND_RUNNING || r->round_state == FC_ROUND_PAUSED)
		return r->round_id;
	return r->round_id + 1;
}

/* Teams, clue discs, one arbiter and one claim ring per owner (on its node), TX's game state. */
/*
 * A restart continuing its round: each clue the journal says was awarded is DECIDED again in
 * its home owner's arbiter, at the last award's deadline (a respawning one reopens when it
 * would have), and the owner's count of its awards (the journal's respawn number) goes on
 * from there. Should a decision be made twice all the same, the journal refuses the second
 * (same clue, round and respawn number): never announced twice.
 */
static void
restore_arbiters(struct fc_dataplane *dp)
{
	const struct fc_journal_recovered *r = dp->opts.recovered;
	const struct fc_game_layout *l = dp->layout;

	if (r == NULL || r->round_id == 0 ||
	    (r->round_state != FC_ROUND_RUNNING && r->round_state != FC_ROUND_PAUSED))
		return;
	/* Sorted by (clue_id, respawn): the last of a clue's run is its latest award. */
	for (uint32_t i = 0; i < r->n_awards; i++) {
		const struct fc_journal_clue_award *a = &r->awards[i];
		int idx = fc_game_layout_find(l, a->clue_id);
		struct fc_owner *ow;

		if (idx < 0 || (i + 1 < r->n_awards && r->awards[i + 1].clue_id == a->clue_id))
			continue;
		ow = dp->owner[fc_geom_owner_of_shard(
			&dp->geom,
			fc_geom_shard_of(&dp->geom, l->clues[idx].x_mm, l->clues[idx].y_mm))];
		if (ow->round_id != r->round_id ||
		    fc_arbiter_restore(ow->arb, (uint32_t)idx, a->winner, a->decided_ns) != 0)
			continue;
		ow->respawns[idx] = a->respawn + 1;
		dp->restored_clues++;
	}
}

/*
 * With several owners, each publishes its players' plausibility references for the others
 * (fc_owner_ref, on its own node) and reads theirs, so a jump across stripes is judged too.
 */
static int
share_refs(struct fc_dataplane *dp)
{
	if (dp->n_owners < 2)
		return 0;
	for (uint32_t o = 0; o < dp->n_owners; o++) {
		struct fc_owner *ow = dp->owner[o];

		ow->refs = rte_zmalloc_socket("fc_refs", dp->n_players * sizeof(*ow->refs),
					      RTE_CACHE_LINE_SIZE,
					      fc__lcore_socket(dp->cfg->owner_lcores[o]));
		if (ow->refs == NULL)
			return -ENOMEM;
		ow->n_refs = dp->n_players;
	}
	for (uint32_t o = 0; o < dp->n_owners; o++)
		for (uint32_t p = 0; p < dp->n_owners; p++)
			if (p != o)
				dp->owner[o]->peer[dp->owner[o]->n_peers++] = dp->owner[p]->refs;
	return 0;
}

static int
setup_game(struct fc_dataplane *dp, char *err, size_t len)
{
	const struct fc_game_layout *l = dp->layout;
	struct fc_layout_gen *g;

	dp->team = rte_zmalloc("fc_team", (dp->n_players + 1) * sizeof(*dp->team), 0);
	if (dp->team == NULL)
		goto nomem;
	for (uint32_t i = 0; i < dp->n_roster; i++) {
		const struct fc_roster_entry *e = &dp->roster[i];

		dp->team[e->player] = e->team;
		if (e->team + 1u > dp->n_teams)
			dp->n_teams = e->team + 1u;
	}
	/* floorctl's commands, from the control thread (any thread may enqueue) to TX. */
	dp->cmds = rte_ring_create_elem("fc_cmds", sizeof(struct fc_cmd), 64, SOCKET_ID_ANY,
					RING_F_SC_DEQ);
	if (dp->cmds == NULL) {
		snprintf(err, len, "command ring: %s", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	if (l == NULL)
		return 0;
	/* Layout generation 1 (swap.c): discs, arbiters, respawns, TX's clue states. */
	if (fc__restore_layout(dp, err, len) != 0) /* a restart: the journal's load layouts */
		return -EINVAL;
	if (dp->restored != NULL)
		l = dp->restored;
	g = fc__layout_gen_build(dp, l, dp->restored != NULL, dp->restored_id, err, len);
	if (g == NULL)
		return -ENOMEM;
	dp->restored = NULL; /* the generation has it */
	dp->layouts = g;
	dp->layout = l;
	if (dp->restored_next != NULL) {
		/* loaded after the round that ran started: it waits for the next round start */
		struct fc_layout_gen *n = fc__layout_gen_build(dp, dp->restored_next, true,
							       dp->restored_next_id, err, len);

		if (n == NULL)
			return -ENOMEM;
		dp->restored_next = NULL;
		snprintf(n->text, sizeof(n->text), "%s", dp->restored_next_text);
		n->tx.text = n->text;
		g->next = n;
	}
	for (uint32_t o = 0; o < dp->n_owners; o++) {
		struct fc_owner *ow = dp->owner[o];
		int sock = fc__lcore_socket(dp->cfg->owner_lcores[o]);
		char name[RTE_RING_NAMESIZE];

		if (snprintf(name, sizeof(name), "fc_claims%u", o) >= (int)sizeof(name))
			return -ENAMETOOLONG;
		/* Claims are rare (one per clue and round) and a full ring only delays TX. */
		dp->claims[o] = rte_ring_create_elem(name, sizeof(struct fc_claim_ev), 256, sock,
						     RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (dp->claims[o] == NULL) {
			snprintf(err, len, "owner %u: claim ring: %s", o, rte_strerror(rte_errno));
			return -ENOMEM;
		}
		ow->arb = g->game[o].arb;
		ow->layout = g->game[o].layout;
		ow->discs = &g->discs;
		ow->respawns = g->game[o].respawns;
		ow->layout_gen = g->tx.id;
		dp->sync->owner[o].used_layout = g->tx.id;
		dp->sync->round.game[o] = &g->game[o];
		ow->geom = &dp->geom;
		ow->team = dp->team;
		ow->claims = dp->claims[o];
		ow->journal = dp->opts.journal;
		ow->round_id = round_after(dp->opts.recovered);
	}
	if (share_refs(dp) != 0)
		goto nomem;
	for (uint32_t i = 0; i < dp->n_rx; i++) {
		dp->rx[i]->discs = &g->discs;
		dp->rx[i]->layout_gen = g->tx.id;
		dp->sync->rx[i].used[FC_TICK_SWAP_LAYOUT] = g->tx.id;
	}
	dp->sync->round.layout_id = g->tx.id;
	dp->sync->round.discs = &g->discs;
	restore_arbiters(dp);
	return 0;
nomem:
	snprintf(err, len, "the game: out of memory");
	return -ENOMEM;
}

static int
setup_rx(struct fc_dataplane *dp, char *err, size_t len)
{
	int ts_offset = -1;
	uint64_t ts_flag = 0;
	struct timespec ts;

	if (dp->opts.replay && rte_mbuf_dyn_rx_timestamp_register(&ts_offset, &ts_flag) != 0) {
		snprintf(err, len, "cannot register the RX timestamp field: %s",
			 rte_strerror(rte_errno));
		return -rte_errno;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	for (uint32_t r = 0; r < dp->n_rx; r++) {
		int sock = fc__lcore_socket(dp->cfg->rx_lcores[r]);
		struct fc_rx *rx =
			rte_zmalloc_socket("fc_rx", sizeof(*rx), RTE_CACHE_LINE_SIZE, sock);
		int rc;

		if (rx == NULL) {
			snprintf(err, len, "RX %u: out of memory on socket %d", r, sock);
			return -ENOMEM;
		}
		dp->rx[r] = rx;
		rx->index = r;
		rx->port = dp->port;
		rx->queue = (uint16_t)r;
		rx->n_owners = dp->n_owners;
		for (uint32_t o = 0; o < dp->n_owners; o++)
			rx->ring[o] = dp->ring[r][o];
		/* Each RX owns the replay windows of the gateways hashed to its queue. */
		rx->gw = fc_gw_table_create();
		if (rx->gw == NULL)
			return -ENOMEM;
		rc = fc_gw_table_load_keys(rx->gw, dp->cfg->keys_file, err, len);
		if (rc != 0)
			return rc;
		rx->clock = rte_zmalloc_socket("fc_gw_clock", (rx->gw->n + 1) * sizeof(*rx->clock),
					       0, sock);
		/* The retransmit service answers at floord's own address: it needs one. */
		if (dp->cfg->rt_port != 0 && dp->cfg->local_ip != 0) {
			char name[RTE_RING_NAMESIZE];

			snprintf(name, sizeof(name), "fc_rt%u", r);
			rx->rt_port = dp->cfg->rt_port;
			rx->rt_ring = rte_ring_create_elem(name, sizeof(struct fc_rt_req), 256,
							   sock, RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (rx->rt_ring == NULL) {
				snprintf(err, len, "RX %u: retransmit ring: %s", r,
					 rte_strerror(rte_errno));
				return -ENOMEM;
			}
		}
		if (rx->clock == NULL) {
			snprintf(err, len, "RX %u: out of memory on socket %d", r, sock);
			return -ENOMEM;
		}
		rx->geom = &dp->geom;
		rx->sync = dp->sync;
		rx->local_ip = dp->cfg->local_ip;
		rx->udp_port = dp->cfg->udp_port;
		rx->clock_bound_ns = dp->cfg->clock_bound_ns;
		rx->ts_offset = ts_offset;
		rx->ts_flag = ts_flag;
		rx->wall0_ns = (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
		rx->tsc0 = rte_rdtsc();
		rx->tsc_hz = dp->tsc_hz;
		rx->pace_hz =
			dp->opts.pace > 0 ? (uint64_t)((double)dp->tsc_hz / dp->opts.pace) : 0;
	}
	if (!dp->opts.replay) { /* live: floord's clock is RX 0's (paced: RX 0 sets it) */
		dp->sync->clock.ns0 = dp->rx[0]->wall0_ns;
		dp->sync->clock.tsc0 = dp->rx[0]->tsc0;
		dp->sync->clock.hz = dp->rx[0]->tsc_hz;
		fc_tick_store32(&dp->sync->clock.set, 1);
	}
	return 0;
}

static int
setup_owners(struct fc_dataplane *dp, char *err, size_t len)
{
	for (uint32_t o = 0; o < dp->n_owners; o++) {
		int sock = fc__lcore_socket(dp->cfg->owner_lcores[o]);
		struct fc_owner *ow =
			rte_zmalloc_socket("fc_owner", sizeof(*ow), RTE_CACHE_LINE_SIZE, sock);

		if (ow == NULL || fc_owner_state_init(&ow->state, dp->n_players, sock) != 0) {
			rte_free(ow);
			snprintf(err, len, "owner %u: out of memory on socket %d", o, sock);
			return -ENOMEM;
		}
		dp->owner[o] = ow;
		ow->index = o;
		ow->n_rings = dp->n_rx;
		for (uint32_t r = 0; r < dp->n_rx; r++)
			ow->ring[r] = dp->ring[r][o];
		ow->sync = dp->sync;
	}
	return 0;
}

/*
 * The round the session starts in: the journal's running (or paused) round continues; else a
 * new round runs from the first tick with auto_start; else none until floorctl starts one.
 * Published for the owners before any lcore starts.
 */
static void
initial_round(struct fc_dataplane *dp, struct fc_tx *tx)
{
	const struct fc_journal_recovered *r = dp->opts.recovered;

	if (r != NULL && r->round_id != 0 &&
	    (r->round_state == FC_ROUND_RUNNING || r->round_state == FC_ROUND_PAUSED)) {
		tx->round_id = r->round_id;
		tx->round_state = r->round_state;
		/* As of the journal's last ROUND record: the time run since then is not known. */
		tx->round_ms = r->round_time_ms;
	} else if (dp->cfg->auto_start) {
		tx->round_id = round_after(r);
		tx->round_state = FC_ROUND_RUNNING;
	} else {
		tx->round_id = r != NULL ? r->round_id : 0;
		tx->round_state = FC_ROUND_IDLE;
	}
	rte_seqcount_write_begin(&dp->sync->round.sc);
	dp->sync->round.id = tx->round_id;
	dp->sync->round.state = tx->round_state;
	dp->sync->round.open_ns = 0;
	rte_seqcount_write_end(&dp->sync->round.sc);
}

/* A restart continuing its round: the scoreboard and the clues awarded come from the journal. */
static void
restore(const struct fc_dataplane *dp, struct fc_tx *tx)
{
	const struct fc_journal_recovered *r = dp->opts.recovered;

	if (r == NULL || r->round_id != tx->round_id)
		return;
	for (uint32_t i = 0; i < r->n_players; i++)
		if (r->players[i].player < dp->n_players)
			tx->score[r->players[i].player] = r->players[i].total;
	for (uint32_t i = 0; i < r->n_teams; i++)
		if (r->teams[i].team < dp->n_teams)
			tx->team_score[r->teams[i].team] = r->teams[i].total;
	for (uint32_t i = 0; i < r->n_awards; i++) {
		int idx = fc_game_layout_find(dp->layout, r->awards[i].clue_id);

		if (idx >= 0) {
			tx->clue[idx].state = FC_CLUE_CLAIMED;
			tx->clue[idx].winner = r->awards[i].winner;
		}
	}
}

static int
setup_tx(struct fc_dataplane *dp, char *err, size_t len)
{
	const struct fc_config *c = dp->cfg;
	int sock = fc__lcore_socket(c->tx_lcore);
	struct rte_ether_addr mac;
	struct fc_tx *tx;
	uint32_t tick_ms = c->tick_ms;

	tx = rte_zmalloc_socket("fc_tx", sizeof(*tx), RTE_CACHE_LINE_SIZE, sock);
	if (tx == NULL)
		goto nomem;
	dp->tx = tx;
	tx->port = dp->port;
	tx->queue = 0;
	tx->pool = dp->pool;
	tx->sync = dp->sync;
	tx->n_owners = dp->n_owners;
	for (uint32_t o = 0; o < dp->n_owners; o++)
		tx->owner[o] = &dp->owner[o]->state;
	tx->n_players = dp->n_players;
	rte_eth_macaddr_get(dp->port, &mac);
	memcpy(tx->tmpl.src_mac, mac.addr_bytes, 6);
	tx->tmpl.src_ip = c->local_ip;
	tx->tmpl.group_ip = c->group_ip;
	tx->tmpl.src_port = c->src_port;
	tx->tmpl.group_port = c->group_port;
	tx->tmpl.ttl = c->ttl;
	tx->session_id_cfg = c->session_id;
	tx->dead_band_sq = (uint64_t)c->dead_band_mm * c->dead_band_mm;
	tx->stale_ns = (uint64_t)c->stale_ms * UINT64_C(1000000);
	tx->refresh_ticks = c->refresh_ms / tick_ms ? c->refresh_ms / tick_ms : 1;
	tx->snapshot_ticks = c->snapshot_ms / tick_ms ? c->snapshot_ms / tick_ms : 1;
	tx->want_words = (dp->n_players + 63) / 64;
	tx->want = rte_zmalloc_socket("fc_tx_want", (tx->want_words + 1) * sizeof(uint64_t),
				      RTE_CACHE_LINE_SIZE, sock);
	tx->sent = rte_zmalloc_socket("fc_tx_sent", (dp->n_players + 1) * sizeof(*tx->sent),
				      RTE_CACHE_LINE_SIZE, sock);
	if (tx->want == NULL || tx->sent == NULL)
		goto nomem;
	tx->team = dp->team;
	tx->cmds = dp->cmds; /* floorctl's commands; roster ones also without a layout */
	tx->journal = dp->opts.journal;
	tx->journal_producer = dp->n_owners;
	tx->n_teams = dp->n_teams;
	tx->max_teams = FC_CFG_MAX_PLAYERS; /* team ids 0 .. 65534: roster add may use any */
	tx->n_rx = dp->n_rx;
	tx->rt_port = dp->cfg->rt_port;
	for (uint32_t r = 0; r < dp->n_rx; r++)
		tx->rt_ring[r] = dp->rx[r]->rt_ring;
	if (dp->rx[0]->rt_ring != NULL) {
		tx->history = rte_zmalloc_socket("fc_tx_history",
						 FC_TX_HISTORY * sizeof(*tx->history), 0, sock);
		if (tx->history == NULL)
			goto nomem;
	}
	if (dp->layout != NULL) {
		tx->layout = dp->layout;
		for (uint32_t o = 0; o < dp->n_owners; o++)
			tx->claims[o] = dp->claims[o];
		tx->score = rte_zmalloc_socket("fc_tx_score", (dp->n_players + 1) * sizeof(int32_t),
					       0, sock);
		tx->team_score = rte_zmalloc_socket("fc_tx_team_score",
						    (tx->max_teams + 1) * sizeof(int32_t), 0, sock);
		if (tx->score == NULL || tx->team_score == NULL)
			goto nomem;
		tx->cur_layout = &dp->layouts->tx;
		tx->clue = dp->layouts->tx.clue;
		tx->layout_gen = dp->layouts->tx.id;
		tx->next_layout = dp->layouts->next != NULL ? &dp->layouts->next->tx : NULL;

		initial_round(dp, tx);
		restore(dp, tx);
	}
	return 0;
nomem:
	snprintf(err, len, "TX: out of memory on socket %d", sock);
	return -ENOMEM;
}

struct fc_dataplane *
fc_dataplane_create(const struct fc_config *cfg, const struct fc_dataplane_opts *opts, char *err,
		    size_t err_len)
{
	struct fc_dataplane *dp;
	int rc;

	dp = rte_zmalloc("fc_dataplane", sizeof(*dp), RTE_CACHE_LINE_SIZE);
	if (dp == NULL)
		return fail(NULL, ENOMEM, err, err_len, "out of memory");
	dp->cfg = cfg;
	dp->opts = *opts;
	dp->layout = opts->layout;
	dp->next_cmd_seq = opts->recovered != NULL && opts->recovered->next_cmd_seq > 0
				   ? opts->recovered->next_cmd_seq
				   : 1;
	if (err_len > 0)
		err[0] = '\0';
	dp->n_rx = cfg->n_rx;
	dp->n_owners = cfg->n_owners;
	dp->n_players = cfg->player_capacity;
	dp->restored_id = 1; /* the floor file's layout, unless a restart replays a load */
	dp->next_layout_id = 2;
	/* Replay's clock is the capture's: the TSC only times latencies there. */
	dp->tsc_hz = opts->replay ? rte_get_tsc_hz() : measure_tsc_hz();
	fc_geom_init(&dp->geom, cfg->width_mm, cfg->height_mm, cfg->cell_shift, cfg->n_owners);

	dp->sync = rte_zmalloc("fc_tick_sync", sizeof(*dp->sync), RTE_CACHE_LINE_SIZE);
	if (dp->sync == NULL)
		return fail(dp, ENOMEM, err, err_len, "out of memory");
	dp->sync->replay = opts->replay;
	dp->sync->asap = !opts->replay || opts->pace > 0;
	dp->sync->tick_ns = (uint64_t)cfg->tick_ms * UINT64_C(1000000);
	dp->sync->n_rx = dp->n_rx;
	dp->sync->n_owners = dp->n_owners;

	if ((rc = plan_lcores(dp, err, err_len)) != 0 || (rc = setup_port(dp, err, err_len)) != 0 ||
	    (rc = setup_rings(dp, err, err_len)) != 0 || (rc = setup_rx(dp, err, err_len)) != 0 ||
	    (rc = setup_roster(dp, err, err_len)) != 0 ||
	    (rc = setup_owners(dp, err, err_len)) != 0 ||
	    (rc = setup_game(dp, err, err_len)) != 0 || (rc = setup_tx(dp, err, err_len)) != 0) {
		fc_dataplane_free(dp);
		rte_errno = rc < 0 ? -rc : rc;
		return NULL;
	}
	return dp;
}

/*
 * Test hooks: tests/alloc preloads a library defining these to watch the packet path for
 * allocations, locks, logs and syscalls (DESIGN invariant 1). Absent, they cost one branch.
 */
void fc_alloc_guard_enter(void) __attribute__((weak));
void fc_alloc_guard_leave(void) __attribute__((weak));

/*
 * Live, floord keeps answering retransmit requests this long after it sent the end of session:
 * a subscriber that lost one of the session's last event packets asks for it when the end of
 * session arrives, retrying after 100 ms twice (docs/protocol.md section 7), and no snapshot
 * comes after the end to recover it otherwise.
 */
#define FC_DP_LINGER_MS 1000u

/* floord's live clock (ns), as the RX lcores keep it (fc_tick.h, sync->clock). */
static uint64_t
live_clock_ns(const struct fc_tick_sync *s, uint64_t tsc)
{
	uint64_t d = tsc - s->clock.tsc0;

	return s->clock.ns0 + (d / s->clock.hz) * UINT64_C(1000000000) +
	       ((d % s->clock.hz) * UINT64_C(1000000000)) / s->clock.hz;
}

/* The loop of one lcore: every role it holds, polled in turn; none of them ever waits. */
static int
lcore_loop(void *arg)
{
	struct fc_dataplane *dp = arg;
	const struct fc_lcore_plan *p = &dp->plan[rte_lcore_id()];

	if (p->n_rx == 0 && p->n_owners == 0 && !p->tx)
		return 0;
	if (fc_alloc_guard_enter != NULL)
		fc_alloc_guard_enter();
	while (!fc_tick_load32(&dp->sync->tx.finished)) {
		for (uint32_t i = 0; i < p->n_rx; i++)
			fc_rx_poll(dp->rx[p->rx[i]]);
		for (uint32_t i = 0; i < p->n_owners; i++)
			fc_owner_poll(dp->owner[p->owner[i]]);
		if (p->tx)
			fc_tx_poll(dp->tx);
	}
	if (!dp->opts.replay) {
		const uint64_t end = rte_rdtsc() + dp->tsc_hz / 1000 * FC_DP_LINGER_MS;

		while (rte_rdtsc() < end) {
			for (uint32_t i = 0; i < p->n_rx; i++)
				fc_rx_linger(dp->rx[p->rx[i]]);
			if (p->tx)
				fc_tx_linger(dp->tx, live_clock_ns(dp->sync, rte_rdtsc()));
		}
	}
	if (fc_alloc_guard_leave != NULL)
		fc_alloc_guard_leave();
	return 0;
}

int
fc_dataplane_run(struct fc_dataplane *dp)
{
	struct timespec t0, t1;
	int rc = rte_eth_dev_start(dp->port);

	if (rc != 0) {
		DP_LOG(ERR, "port 0: start: %s\n", rte_strerror(-rc));
		return rc;
	}
	dp->port_started = true;
	if (!dp->opts.replay)
		for (uint32_t r = 0; r < dp->n_rx; r++)
			fc_rx_start_live(dp->rx[r]);
	dp->ran = true;
	if (dp->cfg->control_socket[0] != '\0') {
		char err[256];

		dp->control = fc_control_start(dp->cfg->control_socket, fc__control_handle, dp, err,
					       sizeof(err));
		if (dp->control == NULL)
			DP_LOG(WARNING, "%s: floorctl cannot reach this floord\n", err);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rte_eal_mp_remote_launch(lcore_loop, dp, CALL_MAIN);
	rte_eal_mp_wait_lcore();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fc_control_stop(dp->control);
	dp->control = NULL;
	dp->elapsed_ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * UINT64_C(1000000000) +
			 (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;

	/*
	 * Frames that arrived after the RX lcores stopped (a loopback port holds our own last
	 * packets) are taken off the queues and counted, so that every mbuf is back before the
	 * mempool is measured. Then stop and close: a NIC's RX ring holds mbufs until released.
	 */
	for (uint32_t q = 0; q < dp->n_rx; q++) {
		struct rte_mbuf *m[FC_RX_BURST];
		uint16_t n;

		dp->drained_at_exit += dp->rx[q]->lingered;

		for (unsigned int i = 0; i < 1024; i++) {
			n = rte_eth_rx_burst(dp->port, (uint16_t)q, m, FC_RX_BURST);
			if (n == 0)
				break;
			dp->drained_at_exit += n;
			rte_pktmbuf_free_bulk(m, n);
		}
	}
	rte_eth_dev_stop(dp->port);
	dp->port_started = false;
	rte_eth_dev_close(dp->port);
	dp->port_closed = true;
	dp->mempool_in_use_at_exit = rte_mempool_in_use_count(dp->pool);
	return 0;
}

void
fc_dataplane_stop(struct fc_dataplane *dp)
{
	if (dp != NULL && dp->sync != NULL)
		fc_tick_store32(&dp->sync->ctl.stop, 1);
}

void
fc_dataplane_free(struct fc_dataplane *dp)
{
	if (dp == NULL)
		return;
	if (dp->port_started)
		rte_eth_dev_stop(dp->port);
	if (dp->pool != NULL && !dp->port_closed)
		rte_eth_dev_close(dp->port);
	for (uint32_t r = 0; r < FC_TICK_MAX_RX; r++) {
		if (dp->rx[r] != NULL) {
			fc_gw_table_free(dp->rx[r]->gw);
			rte_free(dp->rx[r]->clock);
			rte_ring_free(dp->rx[r]->rt_ring);
		}
		rte_free(dp->rx[r]);
		for (uint32_t o = 0; o < FC_TICK_MAX_OWNERS; o++)
			rte_ring_free(dp->ring[r][o]);
	}
	for (uint32_t o = 0; o < FC_TICK_MAX_OWNERS; o++) {
		if (dp->owner[o] != NULL) {
			fc_owner_state_free(&dp->owner[o]->state);
			rte_free(dp->owner[o]->refs);
		}
		rte_free(dp->owner[o]);
		rte_ring_free(dp->claims[o]);
	}
	if (dp->sync != NULL)
		fc__gen_collect(dp, true); /* tag tables, caches, discs, arbiters, clue states */
	free(dp->roster);
	fc_game_layout_free(dp->restored);
	fc_game_layout_free(dp->restored_next);
	rte_ring_free(dp->cmds);
	rte_free(dp->team);
	if (dp->tx != NULL) {
		rte_free(dp->tx->want);
		rte_free(dp->tx->sent);
		rte_free(dp->tx->score);
		rte_free(dp->tx->team_score);
		rte_free(dp->tx->history);
		rte_free(dp->tx);
	}
	rte_mempool_free(dp->pool);
	rte_free(dp->sync);
	rte_free(dp);
}

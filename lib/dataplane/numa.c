/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NUMA placement report ops tune a box with: where the port, its queues, the rings, the
 * shards, the mempool and every lcore live, and every hop of the packet path that crosses
 * nodes, with the change that removes it. DPDK gives socket ids (and -1 for "unknown", which is
 * clamped, never used as an index); libnuma gives the CPU -> node map and the distances.
 */
#include <numa.h>
#include <stdio.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "dataplane_priv.h"

static int
cpu_of(unsigned int lcore)
{
	rte_cpuset_t set = rte_lcore_cpuset(lcore);

	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set))
			return cpu;
	return -1;
}

/* The node of an lcore: libnuma's view of its CPU, DPDK's socket id if libnuma has none. */
static int
lcore_node(unsigned int lcore)
{
	int cpu = cpu_of(lcore);

	if (numa_available() >= 0 && cpu >= 0) {
		int n = numa_node_of_cpu(cpu);

		if (n >= 0)
			return n;
	}
	return fc__lcore_socket(lcore);
}

static unsigned int
hop(FILE *out, const char *what, int from, int to, const char *fix)
{
	if (from == to)
		return 0;
	fprintf(out, "  CROSS-NODE  %s: node %d -> node %d\n              fix: %s\n", what, from,
		to, fix);
	return 1;
}

unsigned int
fc_dataplane_numa_report(const struct fc_dataplane *dp, FILE *out)
{
	const struct fc_config *c = dp->cfg;
	int port_node = dp->port_socket;
	unsigned int hops = 0;
	char what[160], fix[256];

	fprintf(out, "NUMA placement report\n");
	if (numa_available() < 0) {
		fprintf(out, "  libnuma: no NUMA support on this kernel: one node assumed\n");
	} else {
		int max = numa_max_node();

		fprintf(out, "  nodes        %d (distances:", max + 1);
		for (int a = 0; a <= max; a++) {
			fprintf(out, " [");
			for (int b = 0; b <= max; b++)
				fprintf(out, "%s%d", b ? " " : "", numa_distance(a, b));
			fprintf(out, "]");
		}
		fprintf(out, ")\n");
	}
	fprintf(out, "  port 0       node %d%s, mempool fc_mbufs (%u mbufs) on node %d\n",
		port_node,
		dp->port_socket_known ? "" : " (the PMD reports no socket: clamped to 0)",
		dp->mbufs, dp->port_socket);
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		const struct fc_lcore_plan *p = &dp->plan[l];

		if (p->n_rx == 0 && p->n_owners == 0 && !p->tx)
			continue;
		fprintf(out, "  lcore %-3u    cpu %d, node %d:", l, cpu_of(l), lcore_node(l));
		for (uint32_t i = 0; i < p->n_rx; i++)
			fprintf(out, " rx%u(queue %u)", p->rx[i], p->rx[i]);
		for (uint32_t i = 0; i < p->n_owners; i++)
			fprintf(out, " owner%u", p->owner[i]);
		if (p->tx)
			fprintf(out, " tx(queue 0)");
		fprintf(out, "\n");
	}
	for (uint32_t o = 0; o < dp->n_owners; o++) {
		uint32_t first = UINT32_MAX, n = 0;

		for (uint32_t s = 0; s < fc_geom_n_shards(&dp->geom); s++) {
			if (fc_geom_owner_of_shard(&dp->geom, s) != o)
				continue;
			if (first == UINT32_MAX)
				first = s % dp->geom.shards_x;
			n++;
		}
		fprintf(out, "  owner %-3u    %u shards (columns from %u), state on node %d\n", o,
			n, first == UINT32_MAX ? 0 : first, lcore_node(c->owner_lcores[o]));
	}
	for (uint32_t r = 0; r < dp->n_rx; r++)
		for (uint32_t o = 0; o < dp->n_owners; o++)
			fprintf(out, "  ring         fc_rx%u_own%u on node %d (%u x %zu B)\n", r, o,
				fc__lcore_socket(c->owner_lcores[o]), c->ring_size,
				sizeof(struct fc_fix_rec));

	fprintf(out, "hops\n");
	for (uint32_t r = 0; r < dp->n_rx; r++) {
		unsigned int l = c->rx_lcores[r];

		snprintf(what, sizeof(what), "port 0 RX queue %u -> rx%u on lcore %u", r, r, l);
		snprintf(
			fix, sizeof(fix),
			"put rx%u on a CPU of node %d ([lcores] rx), or the NIC in a slot of node %d",
			r, port_node, lcore_node(l));
		hops += hop(out, what, port_node, lcore_node(l), fix);
		for (uint32_t o = 0; o < dp->n_owners; o++) {
			unsigned int lo = c->owner_lcores[o];

			snprintf(what, sizeof(what),
				 "rx%u (lcore %u) -> ring fc_rx%u_own%u -> owner%u (lcore %u)", r,
				 l, r, o, o, lo);
			snprintf(
				fix, sizeof(fix),
				"keep RX and owner lcores on one node: move owner%u to a CPU of node %d",
				o, lcore_node(l));
			hops += hop(out, what, lcore_node(l), lcore_node(lo), fix);
		}
	}
	for (uint32_t o = 0; o < dp->n_owners; o++) {
		snprintf(what, sizeof(what), "owner%u state -> tx (lcore %u) reads it", o,
			 c->tx_lcore);
		snprintf(fix, sizeof(fix), "put the TX lcore on node %d with the owners",
			 lcore_node(c->owner_lcores[o]));
		hops += hop(out, what, lcore_node(c->owner_lcores[o]), lcore_node(c->tx_lcore),
			    fix);
	}
	snprintf(what, sizeof(what), "tx (lcore %u) -> port 0 TX queue 0", c->tx_lcore);
	snprintf(fix, sizeof(fix), "put the TX lcore on a CPU of node %d", port_node);
	hops += hop(out, what, lcore_node(c->tx_lcore), port_node, fix);
	fprintf(out, "  %u cross-node hop%s\n", hops, hops == 1 ? "" : "s");
	return hops;
}

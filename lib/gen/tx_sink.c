/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK TX output: every frame, whole (Ethernet and all, so every hostile class goes out),
 * through an ethdev port, paced like the live socket output (fc__gen_pace). For a real NIC
 * cabled to floord's, or a vdev in tests (net_pcap's tx_pcap writes what was sent).
 *
 * A library of its own (fc_gen_tx), linked only by floorgen: the rest of lib/gen needs no EAL.
 * One frame per burst: a generator paced by capture time has nothing to batch, and at
 * --speed 0 the PMD's ring absorbs it. The mbufs come from a pool sized here; a full TX ring
 * is retried until the frame goes (never dropped: the summary says what floord receives).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>

#include "fc_gen_tx.h"
#include "gen_priv.h"

#define TX_MBUFS 4095u
#define TX_DESC  512u
#define RX_DESC  128u
/* a frame the PMD never takes within this many tries is a dead port, not a busy one */
#define TX_TRIES 1000000u

struct fc_gen_tx {
	uint16_t port;
	struct rte_mempool *pool;
	struct fc__gen_pacer pace;
	struct fc_gen_tx_stats st;
	bool started;
};

struct fc_gen_tx *
fc_gen_tx_open(int eal_argc, char **eal_argv, uint16_t port, double speed, char *err,
	       size_t err_len)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct fc_gen_tx *tx;
	int rc, socket;

	if (!(speed >= 0 && speed <= 1000)) {
		snprintf(err, err_len, "dpdk-tx: speed 0 .. 1000");
		errno = EINVAL;
		return NULL;
	}
	rc = rte_eal_init(eal_argc, eal_argv);
	if (rc < 0) {
		snprintf(err, err_len, "dpdk-tx: the EAL did not start: %s",
			 rte_strerror(rte_errno));
		errno = rte_errno ? rte_errno : EINVAL;
		return NULL;
	}
	tx = calloc(1, sizeof(*tx));
	if (tx == NULL) {
		snprintf(err, err_len, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	tx->port = port;
	tx->pace.speed = speed;
	if (!rte_eth_dev_is_valid_port(port)) {
		snprintf(err, err_len, "dpdk-tx: no port %u (%u ports)", port,
			 rte_eth_dev_count_avail());
		rc = -ENODEV;
		goto fail;
	}
	socket = rte_eth_dev_socket_id(port);
	if (socket < 0)
		socket = (int)rte_socket_id(); /* vdevs say -1 (DESIGN.md section 7) */
	tx->pool = rte_pktmbuf_pool_create("fc_gen_tx", TX_MBUFS, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					   socket);
	if (tx->pool == NULL) {
		snprintf(err, err_len, "dpdk-tx: no mbuf pool: %s", rte_strerror(rte_errno));
		rc = -ENOMEM;
		goto fail;
	}
	rc = rte_eth_dev_info_get(port, &info);
	memset(&conf, 0, sizeof(conf));
	/* a port wants an RX queue to start (net_pcap without rx_pcap reads nothing) */
	if (rc == 0)
		rc = rte_eth_dev_configure(port, info.max_rx_queues > 0 ? 1 : 0, 1, &conf);
	if (rc == 0 && info.max_rx_queues > 0)
		rc = rte_eth_rx_queue_setup(port, 0, RX_DESC, (unsigned int)socket, NULL, tx->pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(port, 0, TX_DESC, (unsigned int)socket, NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	if (rc != 0) {
		snprintf(err, err_len, "dpdk-tx: port %u: %s", port, rte_strerror(-rc));
		goto fail;
	}
	tx->started = true;
	return tx;
fail:
	fc_gen_tx_close(tx);
	errno = -rc;
	return NULL;
}

int
fc_gen_tx_sink(void *ctx, uint64_t ts_ns, const uint8_t *frame, uint32_t len)
{
	struct fc_gen_tx *tx = ctx;
	struct rte_mbuf *m;
	char *dst;
	uint32_t tries = 0;
	int rc;

	rc = fc__gen_pace(&tx->pace, ts_ns);
	if (rc != 0)
		return rc;
	m = rte_pktmbuf_alloc(tx->pool);
	while (m == NULL && ++tries < TX_TRIES) { /* the PMD still holds sent mbufs */
		rte_pause();
		m = rte_pktmbuf_alloc(tx->pool);
	}
	if (m == NULL)
		return -ENOBUFS;
	dst = rte_pktmbuf_append(m, (uint16_t)len);
	if (dst == NULL) {
		rte_pktmbuf_free(m);
		return -EMSGSIZE;
	}
	memcpy(dst, frame, len);
	for (tries = 0; rte_eth_tx_burst(tx->port, 0, &m, 1) == 0; tries++) {
		if (tries == TX_TRIES) {
			rte_pktmbuf_free(m);
			tx->st.errors++;
			return -EIO;
		}
		rte_pause();
	}
	tx->st.sent++;
	tx->st.bytes += len;
	return 0;
}

void
fc_gen_tx_get_stats(const struct fc_gen_tx *tx, struct fc_gen_tx_stats *st)
{
	*st = tx->st;
	st->max_late_ns = tx->pace.max_late_ns;
	st->elapsed_ns = tx->pace.elapsed_ns;
}

void
fc_gen_tx_close(struct fc_gen_tx *tx)
{
	if (tx == NULL)
		return;
	if (tx->started) {
		rte_eth_dev_stop(tx->port); /* flushes nothing left: every frame was taken */
		rte_eth_dev_close(tx->port);
	}
	rte_mempool_free(tx->pool);
	free(tx);
	rte_eal_cleanup();
}

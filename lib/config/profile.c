/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drivers-cfg profiles: how one port is driven (queues, descriptors, mempool, offloads, MTU,
 * and the EAL arguments ops start floord with). See drivers-cfg/README.md for the format and
 * fc_config.h for the struct. The port setup (not here) masks the offloads asked for with what
 * the device reports, so a profile says what is wanted, the device what is had.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <rte_common.h>
#include <rte_config.h>

#include "fc_config.h"
#include "config_priv.h"

#define PRF(f) FC__INI_FIELD(struct fc_port_profile, f)

static const struct fc__ini_key profile_keys[] = {
	{ "profile", "name", FC__INI_NAME, PRF(name), .required = true },
	{ "profile", "pmd", FC__INI_IDENT, PRF(pmd), .required = true },

	{ "queues", "rx", FC__INI_UINT, PRF(rx_queues), .min = 1, .max = RTE_MAX_QUEUES_PER_PORT },
	{ "queues", "tx", FC__INI_UINT, PRF(tx_queues), .min = 1, .max = RTE_MAX_QUEUES_PER_PORT },
	/* ring sizes of PMDs are powers of two (mlx5, af_xdp require it); 16384 is past what
	 * the NICs floorcast targets take per queue */
	{ "queues", "rx_desc", FC__INI_POW2, PRF(rx_desc), .min = 64, .max = 16384 },
	{ "queues", "tx_desc", FC__INI_POW2, PRF(tx_desc), .min = 64, .max = 16384 },

	/* 2^26 mbufs of 2 KiB are 128 GiB: more is a typo */
	{ "mempool", "mbufs", FC__INI_UINT, PRF(mbufs), .min = 0, .max = 1u << 26 },
	{ "mempool", "cache", FC__INI_UINT, PRF(mbuf_cache), .min = 0,
	  .max = RTE_MEMPOOL_CACHE_MAX_SIZE },

	{ "offloads", "rss", FC__INI_BOOL, PRF(rss) },
	{ "offloads", "rx_timestamp", FC__INI_BOOL, PRF(rx_timestamp) },

	{ "port", "mtu", FC__INI_UINT, PRF(mtu), .or_zero = true, .min = FC__CFG_MTU_MIN,
	  .max = UINT16_MAX },

	{ "eal", "args", FC__INI_TEXT, PRF(eal_args) },
};

int
fc_profile_load(struct fc_port_profile *p, const char *path, char *err, size_t err_len)
{
	struct fc__ini ini;
	uint64_t need;
	int rc;

	memset(p, 0, sizeof(*p));
	p->rx_queues = 1;
	p->tx_queues = 1;
	p->rx_desc = 1024;
	p->tx_desc = 1024;
	p->mbuf_cache = 256; /* half of RTE_MEMPOOL_CACHE_MAX_SIZE: 8 bursts of 32 per lcore */
	rc = fc__ini_load(&ini, path, profile_keys, RTE_DIM(profile_keys), p, err, err_len);
	if (rc != 0)
		return rc;
	/* a pool smaller than the descriptors it must fill cannot even start the port */
	need = (uint64_t)p->rx_queues * p->rx_desc + (uint64_t)p->tx_queues * p->tx_desc;
	if (p->mbufs != 0 && p->mbufs < need)
		rc = fc__ini_fail(&ini, -EINVAL, "mempool", "mbufs", "0", err, err_len,
				  "0 (computed) or at least rx x rx_desc + tx x tx_desc = %" PRIu64,
				  need);
	fc__ini_close(&ini);
	return rc;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The floor file: its keys, their defaults and ranges, and the checks that need more than one
 * key; then the roster and the port profile it names. See fc_config.h and
 * docs/configuration.md, which lists the same keys for operators.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "fc_config.h"
#include "config_priv.h"

#define CFG(f) FC__INI_FIELD(struct fc_config, f)

/*
 * The floor's size is bounded by the downlink, which carries positions as u16 centimetres:
 * 65535 cm is 655.35 m. Cells are powers of two so that a position's cell is two shifts.
 */
static const struct fc__ini_key floor_keys[] = {
	{ "floor", "width_m", FC__INI_METRES, CFG(width_mm), .min = 1, .max = 655350 },
	{ "floor", "height_m", FC__INI_METRES, CFG(height_mm), .min = 1, .max = 655350 },
	{ "floor", "cell_mm", FC__INI_POW2_SHIFT, CFG(cell_shift), .min = 64, .max = 65536,
	  .unit = "mm" },
	{ "floor", "tick_ms", FC__INI_UINT, CFG(tick_ms), .min = 1, .max = 10000, .unit = "ms" },

	{ "uplink", "udp_port", FC__INI_UINT, CFG(udp_port), .min = 1, .max = 65535 },
	{ "uplink", "local_ip", FC__INI_IPV4, CFG(local_ip) },
	/* an hour: a gateway clock further off than that is broken, not drifting */
	{ "uplink", "clock_bound_ms", FC__INI_MS_TO_NS, CFG(clock_bound_ns), .min = 0,
	  .max = 3600000 },
	{ "uplink", "keys", FC__INI_PATH, CFG(keys_file), .required = true },

	{ "downlink", "group", FC__INI_IPV4_MCAST, CFG(group_ip) },
	{ "downlink", "port", FC__INI_UINT, CFG(group_port), .min = 1, .max = 65535 },
	{ "downlink", "src_port", FC__INI_UINT, CFG(src_port), .min = 1, .max = 65535 },
	/* the retransmit service (docs/protocol.md section 6), at [uplink] local_ip; 0 = off */
	{ "downlink", "retransmit_port", FC__INI_UINT, CFG(rt_port), .min = 0, .max = 65535 },
	{ "downlink", "ttl", FC__INI_UINT, CFG(ttl), .min = 1, .max = 255 },
	{ "downlink", "session_id", FC__INI_UINT, CFG(session_id), .min = 0, .max = UINT32_MAX },
	/* beyond the largest floor, a dead band only means "send on refresh only" */
	{ "downlink", "dead_band_mm", FC__INI_UINT, CFG(dead_band_mm), .min = 0, .max = 655350,
	  .unit = "mm" },
	{ "downlink", "refresh_ms", FC__INI_UINT, CFG(refresh_ms), .min = 1, .max = 60000,
	  .unit = "ms" },
	{ "downlink", "stale_ms", FC__INI_UINT, CFG(stale_ms), .min = 1, .max = 3600000,
	  .unit = "ms" },
	{ "downlink", "snapshot_ms", FC__INI_UINT, CFG(snapshot_ms), .min = 1, .max = 60000,
	  .unit = "ms" },

	{ "roster", "file", FC__INI_PATH, CFG(roster_file), .required = true },
	/* player ids floorctl's roster add may use: every per-player table is sized at start */
	{ "roster", "capacity", FC__INI_UINT, CFG(player_capacity), .min = 1,
	  .max = FC_CFG_MAX_PLAYERS },

	/* the clue layout (docs/game.md); without one, floord tracks positions only */
	{ "game", "layout", FC__INI_PATH, CFG(layout_file) },
	/* where awards are made durable before they are announced (docs/journal.md) */
	{ "game", "journal", FC__INI_PATH, CFG(journal_file), .create = true },
	/* yes: the round runs from the first tick (replays, demos); no: floorctl round start */
	{ "game", "auto_start", FC__INI_BOOL, CFG(auto_start) },

	/* floorctl's Unix socket (docs/control.md); its mode decides who may command */
	{ "control", "socket", FC__INI_PATH, CFG(control_socket), .create = true },

	{ "lcores", "rx", FC__INI_LCORES, CFG(rx_lcores),
	  .off_n = offsetof(struct fc_config, n_rx) },
	{ "lcores", "owners", FC__INI_LCORES, CFG(owner_lcores),
	  .off_n = offsetof(struct fc_config, n_owners) },
	{ "lcores", "tx", FC__INI_LCORE, CFG(tx_lcore) },
	{ "lcores", "ring_size", FC__INI_POW2, CFG(ring_size), .min = 64, .max = 1048576 },

	{ "port", "profile", FC__INI_PATH, CFG(profile_file), .required = true },
};

static void
set_defaults(struct fc_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->width_mm = 20000; /* the 200 m^2 warehouse floor of the design */
	cfg->height_mm = 10000;
	cfg->cell_shift = 8;
	cfg->tick_ms = 50;
	cfg->udp_port = 47474;
	cfg->clock_bound_ns = 2000000000ull;
	cfg->group_ip = (239u << 24) | (192u << 16) | 1u; /* organisation-local, RFC 2365 */
	cfg->group_port = 47480;
	cfg->src_port = 47481;
	cfg->rt_port = 47481; /* the group's port + 1 (docs/protocol.md section 6) */
	cfg->ttl = 1;
	cfg->dead_band_mm = 50;
	cfg->refresh_ms = 1000;
	cfg->stale_ms = 2000;
	cfg->snapshot_ms = 1000;
	cfg->auto_start = true;
	cfg->rx_lcores[0] = 0; /* everything on lcore 0: the run-to-completion layout */
	cfg->n_rx = 1;
	cfg->owner_lcores[0] = 0;
	cfg->n_owners = 1;
	cfg->tx_lcore = 0;
	cfg->ring_size = 4096;
}

static bool
listed(const uint32_t *ids, uint32_t n, uint32_t id)
{
	for (uint32_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

unsigned int
fc_config_lcore_count(const struct fc_config *cfg)
{
	unsigned int n = 0;

	/* an id counts where it first appears, in the order rx, owners, tx */
	for (uint32_t i = 0; i < cfg->n_rx; i++)
		n += !listed(cfg->rx_lcores, i, cfg->rx_lcores[i]);
	for (uint32_t i = 0; i < cfg->n_owners; i++)
		n += !listed(cfg->rx_lcores, cfg->n_rx, cfg->owner_lcores[i]) &&
		     !listed(cfg->owner_lcores, i, cfg->owner_lcores[i]);
	n += !listed(cfg->rx_lcores, cfg->n_rx, cfg->tx_lcore) &&
	     !listed(cfg->owner_lcores, cfg->n_owners, cfg->tx_lcore);
	return n;
}

void
fc_config_free(struct fc_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->roster);
	cfg->roster = NULL;
	cfg->n_roster = 0;
}

int
fc_config_load(struct fc_config *cfg, const char *path, char *err, size_t err_len)
{
	struct fc__ini ini;
	int rc;

	set_defaults(cfg);
	if (strlen(path) >= sizeof(cfg->path))
		return fc__fail(err, err_len, -ENAMETOOLONG, "%s: path longer than %zu bytes", path,
				sizeof(cfg->path) - 1);
	strcpy(cfg->path, path);

	rc = fc__ini_load(&ini, cfg->path, floor_keys, RTE_DIM(floor_keys), cfg, err, err_len);
	if (rc != 0)
		return rc;
	if (fc_config_lcore_count(cfg) > FC_CFG_MAX_LCORES) {
		rc = fc__ini_fail(&ini, -EINVAL, "lcores", "owners", "0", err, err_len,
				  "at most %u distinct lcores in rx, owners and tx together",
				  FC_CFG_MAX_LCORES);
		goto out;
	}
	rc = fc_profile_load(&cfg->profile, cfg->profile_file, err, err_len);
	if (rc != 0)
		goto out;
	rc = fc_roster_load(cfg->roster_file, &cfg->roster, &cfg->n_roster, err, err_len);
	if (rc != 0)
		goto out;
	if (cfg->n_roster == 0) {
		rc = fc__ini_fail(&ini, -EINVAL, "roster", "file", "", err, err_len,
				  "a roster of at least one player (%s has none)",
				  cfg->roster_file);
		goto out;
	}
	{
		uint32_t need = 0;
		char v[16];

		for (uint32_t i = 0; i < cfg->n_roster; i++)
			if (cfg->roster[i].player + 1u > need)
				need = cfg->roster[i].player + 1u;
		snprintf(v, sizeof(v), "%u", cfg->player_capacity);
		if (cfg->player_capacity == 0)
			cfg->player_capacity = need;
		else if (cfg->player_capacity < need)
			rc = fc__ini_fail(&ini, -EINVAL, "roster", "capacity", v, err, err_len,
					  "at least %u: %s has player %u", need, cfg->roster_file,
					  need - 1);
	}
out:
	fc__ini_close(&ini);
	if (rc != 0)
		fc_config_free(cfg);
	return rc;
}

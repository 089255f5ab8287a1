/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * floord's configuration: the floor file (INI, read with rte_cfgfile), the roster file it names,
 * and the drivers-cfg profile of each port. Everything is checked here, at start-up, before any
 * packet is touched; a bad value is refused with a message naming the file, the key, the value
 * and what was expected (docs/configuration.md).
 *
 * Nothing here needs the EAL: floord loads its configuration before rte_eal_init() so that a
 * bad file fails fast, and the tests load files without one.
 */
#ifndef FC_CONFIG_H
#define FC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FC_CFG_MAX_LCORES  64u /* lcores one layout may name */
#define FC_CFG_MAX_PLAYERS 65535u
#define FC_CFG_PATH_MAX    256u
#define FC_CFG_ERR_MAX     512u

/* One roster entry: tag id -> player (and team). */
struct fc_roster_entry {
	uint64_t tag_id;
	uint16_t player; /* 0 .. 65534 */
	uint16_t team;   /* 0 .. 65534 */
	char name[24];   /* display name, NUL-terminated, may be empty */
};

/* A drivers-cfg profile: how one port is driven (drivers-cfg/README.md). */
struct fc_port_profile {
	char name[64];       /* profile name, from [profile] name */
	char pmd[32];        /* the PMD, e.g. net_pcap, net_ring, net_af_packet, mlx5_pci */
	uint16_t rx_queues;  /* >= 1 */
	uint16_t tx_queues;  /* >= 1 */
	uint16_t rx_desc;    /* descriptors per RX queue, power of two */
	uint16_t tx_desc;    /* descriptors per TX queue, power of two */
	uint32_t mbufs;      /* mempool size; 0 = computed from queues x descriptors */
	uint16_t mbuf_cache; /* per-lcore mempool cache */
	bool rss;            /* request RSS on IPv4/UDP (masked by what the device reports) */
	bool rx_timestamp;   /* request RX timestamps (net_pcap: the capture's) */
	uint16_t mtu;        /* 0 = the device default */
	char eal_args[256];  /* EAL arguments the profile suggests (documentation for ops) */
};

struct fc_config {
	/* [floor] */
	uint32_t width_mm; /* 1 .. 655350 */
	uint32_t height_mm;
	uint8_t cell_shift; /* cell side = 1 << cell_shift mm; 6 .. 16, default 8 (256 mm) */
	uint32_t tick_ms;   /* 1 .. 10000, default 50 */

	/* [uplink] */
	uint16_t udp_port;       /* gateways send here; default 47474 */
	uint32_t local_ip;       /* floord's IPv4 address, host order; 0 = accept any destination */
	uint64_t clock_bound_ns; /* gateway clock vs ours; 0 disables; default 2 s */
	char keys_file[FC_CFG_PATH_MAX]; /* the gateway keys (docs/protocol.md "Keys file") */

	/* [downlink] */
	uint32_t group_ip;     /* multicast group, host order; default 239.192.0.1 */
	uint16_t group_port;   /* default 47480 */
	uint16_t src_port;     /* UDP source port of the deltas; default 47481 */
	uint16_t rt_port;      /* retransmit requests, at local_ip; default 47481; 0 off */
	uint8_t ttl;           /* default 1: the floor's segment only */
	uint32_t session_id;   /* 0 = derived from the start time */
	uint32_t dead_band_mm; /* a position is re-sent when it moved more; default 50 */
	uint32_t refresh_ms;   /* every player at least this often; default 1000 */
	uint32_t stale_ms;     /* no fix for longer: STALE; default 2000 */
	uint32_t snapshot_ms;  /* the snapshot loop's period; default 1000 */

	/* [game] */
	char layout_file[FC_CFG_PATH_MAX];  /* the clue layout, "" for none (docs/game.md) */
	char journal_file[FC_CFG_PATH_MAX]; /* the awards' journal, "" for none (docs/journal.md) */
	bool auto_start;                    /* the round starts with the first tick; default yes */

	/* [control] */
	char control_socket[FC_CFG_PATH_MAX]; /* floorctl's Unix socket, "" for none */

	/* [roster] */
	char roster_file[FC_CFG_PATH_MAX];
	struct fc_roster_entry *roster; /* n_roster entries, owned by the config */
	uint32_t n_roster;
	uint32_t player_capacity; /* player ids 0 .. capacity - 1 exist; default the highest + 1 */

	/* [lcores]: lists of lcore ids; one lcore may take several roles */
	uint32_t rx_lcores[FC_CFG_MAX_LCORES];
	uint32_t n_rx;
	uint32_t owner_lcores[FC_CFG_MAX_LCORES];
	uint32_t n_owners;
	uint32_t tx_lcore;
	uint32_t ring_size; /* entries per (RX, owner) ring, power of two; default 4096 */

	/* [port] */
	char profile_file[FC_CFG_PATH_MAX]; /* drivers-cfg profile for port 0 */
	struct fc_port_profile profile;

	char path[FC_CFG_PATH_MAX]; /* the floor file itself, for messages */
};

/*
 * Loads the floor file at path, the roster and the profile it names (relative paths are taken
 * from the floor file's directory), with the defaults above for absent keys. Returns 0, or
 * -EINVAL/-ENOENT/-ENOMEM with one line in err[0, err_len) of the form
 * "FILE: [section] key = 'value': expected ..." (or "FILE:LINE: ..." for roster lines).
 * On error *cfg holds nothing that needs freeing.
 */
int fc_config_load(struct fc_config *cfg, const char *path, char *err, size_t err_len);

/* Frees what fc_config_load() allocated (the roster). */
void fc_config_free(struct fc_config *cfg);

/*
 * Loads a drivers-cfg profile into *p, with its defaults. Returns 0 or -errno with a message
 * as fc_config_load().
 */
int fc_profile_load(struct fc_port_profile *p, const char *path, char *err, size_t err_len);

/*
 * Loads a roster file (CSV: tag_id,player,team[,name]; '#' comments). Returns 0 or -errno
 * with "FILE:LINE: reason"; duplicate tags or players are refused. *entries is malloc'ed.
 */
int fc_roster_load(const char *path, struct fc_roster_entry **entries, uint32_t *n, char *err,
		   size_t err_len);

/*
 * One roster entry from text "tag_id,player,team[,name]" (the file's syntax, for floorctl's
 * roster add). Returns 0, or -EINVAL with "WHAT: reason" as fc_roster_load() words it.
 */
int fc_roster_parse_entry(const char *what, const char *text, struct fc_roster_entry *e, char *err,
			  size_t err_len);

/* The index of tag in r[0, n), or -ENOENT. */
int fc_roster_find_tag(const struct fc_roster_entry *r, uint32_t n, uint64_t tag);

/*
 * May e join the roster r[0, n)? Returns 0, or with "roster add: reason" in err:
 *  -EEXIST  its tag is already someone's, or its player already wears a tag;
 *  -ERANGE  its player id is not below capacity (every per-player table is sized at start);
 *  -ENOSPC  the roster is full (FC_CFG_MAX_PLAYERS entries).
 */
int fc_roster_check_add(const struct fc_roster_entry *r, uint32_t n, uint32_t capacity,
			const struct fc_roster_entry *e, char *err, size_t err_len);

/* Number of distinct lcores the layout uses (the busy-polling lcores). */
unsigned int fc_config_lcore_count(const struct fc_config *cfg);

#endif /* FC_CONFIG_H */

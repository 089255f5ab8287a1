/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * floorgen's engine: deterministic beacon-gateway traffic for floord, as Ethernet frames with
 * capture timestamps (DESIGN.md section 7: replay through net_pcap). It is what
 * tests/replay/mkcapture.py does, in C and streaming, for the design's big numbers: 65 535 tags
 * at 30 Hz is 2 M fixes per second of capture, far beyond Python.
 *
 * The model (docs/protocol.md section 3 for the frames):
 *  - players: the first n_players roster entries, one tag each. A tag gives a fix every
 *    1/rate s with a per-tag phase (0..5 ms); fix_seq counts from 1; err_mm 20, quality 90,
 *    flags UWB, z 1100 mm. A player random-walks at 0.5..1.5 m/s between waypoints 0.5..4 m
 *    apart, pausing now and then, 10 cm inside the floor.
 *  - gateways: the first n_gateways of the key table (by id), each with one key. The floor is
 *    cut into vertical stripes (along x), one per gateway; the gateway of the stripe the player
 *    is in at the fix's time reports the fix. Every gateway sends a fix batch every 25 ms
 *    (phases spread over the 25 ms) holding the fixes measured since its previous one: more
 *    than 42 are split, none is a keepalive. base_time = send - 25 ms; seq = 1 << 32 | counter
 *    from 1, in send order. A frame's capture time is its send time plus a fixed per-gateway
 *    latency of 200..900 us; every time is a whole us; frames come in capture-time order.
 *  - crowded: players 0 .. n/2-1 start 1..2 m from the floor centre, walk to it and then stay
 *    within 10 cm of it; the others play normally.
 *  - hostile: normal play plus one frame of every class of enum fc_gen_hostile, each landing in
 *    the floord counter fc_gen_hostile_counter() names.
 *  - a scenario (docs/floorgen.md, the params after udp_only) changes that model: per-team and
 *    fraction rates, walking speeds and pauses, legs to clues and hot spots, per-fix noise
 *    with its err_mm, grid coverage and overlapping cells (the same fix through two
 *    gateways), gateway clock skew and drift, frame loss, reordering and lateness. With none
 *    of it on, the capture is the model above, byte for byte.
 *
 * Generation is streamed in 25 ms steps: memory is the players' state plus a few steps of
 * frames, whatever the length of the capture. Every choice comes from a splitmix64 stream per
 * (seed, purpose, player or gateway), so the same parameters give the same bytes, and one
 * player's path does not depend on how many others there are.
 *
 * Nothing here needs the EAL. Functions returning int give 0 or -errno with a one-line reason
 * in err[0, err_len); the constructor returns NULL with errno set and the reason in err.
 */
#ifndef FC_GEN_H
#define FC_GEN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fc_config.h"
#include "fc_game_types.h"
#include "fc_gateways.h"
#include "fc_pkt.h"
#include "fc_uplink.h"

#define FC_GEN_DEFAULT_START_NS 1767225600000000000ull /* 2026-01-01T00:00:00Z */
#define FC_GEN_FRAME_PERIOD_US  25000u                 /* a gateway sends every 25 ms */
#define FC_GEN_MAX_FIXES        42u /* per frame: 32 + 42 * 32 + 16 <= 1400 (section 3.3) */
#define FC_GEN_MARGIN_MM        100 /* players keep 10 cm inside the floor */
#define FC_GEN_HOLD_MM          100 /* crowded players stay this close to the centre */
#define FC_GEN_FIXTURE_TAG_BASE 0x0000A4C100000000ull
#define FC_GEN_FRAME_MAX        1518u /* the largest Ethernet frame the generator writes */

enum fc_gen_scenario {
	FC_GEN_NORMAL = 0,
	FC_GEN_CROWDED,
	FC_GEN_HOSTILE,
};

/*
 * The hostile classes, in the order they are injected (mkcapture.py's order), each one frame.
 * The first group is dropped by floord's frame classifier (net.*), the second by the uplink
 * checks (uplink.*); the last three are valid frames with one telling record.
 */
enum fc_gen_hostile {
	FC_GEN_H_RUNT = 0,
	FC_GEN_H_BAD_MAGIC,
	FC_GEN_H_ARP,
	FC_GEN_H_BAD_VERSION,
	FC_GEN_H_BAD_MSG_TYPE,
	FC_GEN_H_IPV6_UDP,
	FC_GEN_H_BAD_MAC_ALG,
	FC_GEN_H_BAD_RECORD_LEN,
	FC_GEN_H_ICMP_ECHO,
	FC_GEN_H_BAD_RECORD_COUNT,
	FC_GEN_H_BAD_LENGTH,
	FC_GEN_H_IPV4_FRAGMENT,
	FC_GEN_H_UNKNOWN_GATEWAY,
	FC_GEN_H_UNKNOWN_KEY,
	FC_GEN_H_OTHER_PORT,
	FC_GEN_H_KEY_ALG_MISMATCH,
	FC_GEN_H_REPLAY_OLD,
	FC_GEN_H_ETH_RUNT,
	FC_GEN_H_REPLAY_DUP,
	FC_GEN_H_BAD_MAC,
	FC_GEN_H_OTHER_ETHERTYPE,
	FC_GEN_H_CLOCK_SKEW,
	FC_GEN_H_BAD_IP_CHECKSUM,
	FC_GEN_H_UNKNOWN_TAG, /* a fix of a tag not in the roster, inside a valid frame */
	FC_GEN_H_BAD_UDP_LENGTH,
	FC_GEN_H_DUPLICATE_FIX, /* a fix reported again by a second gateway, 1 ms later */
	FC_GEN_H_OLDER_FIX,     /* a fix held back and sent 200 ms late */
	FC_GEN_H__COUNT
};

/* The class's name as mkcapture.py spells it ("bad_mac", "ipv4_fragment", ...). */
const char *fc_gen_hostile_name(enum fc_gen_hostile h);

/* The floord counter the class lands in ("uplink.bad_mac", "net.fragment", ...). */
const char *fc_gen_hostile_counter(enum fc_gen_hostile h);

/* Position noise: what the positioning engine's error looks like (docs/game.md, BLE vs UWB). */
enum fc_gen_noise {
	FC_GEN_NOISE_NONE = 0, /* exact positions, err_mm 20, UWB flag: the generator's default */
	FC_GEN_NOISE_UWB,      /* 1-sigma about 20 mm, UWB flag */
	FC_GEN_NOISE_BLE_AOA,  /* 1-sigma about 300 mm, BLE AoA flag */
};

/* Which gateway hears a fix. */
enum fc_gen_coverage {
	FC_GEN_COVER_STRIPES = 0, /* vertical stripes along x, one per gateway (default) */
	FC_GEN_COVER_GRID,        /* a cols x rows grid of cells, cell i -> gateway i % n */
};

#define FC_GEN_MAX_HOT_SPOTS  16u
#define FC_GEN_MAX_TEAM_RATES 16u

/* A team whose tags give fixes at a rate of their own. */
struct fc_gen_team_rate {
	uint16_t team;
	double hz; /* 0.1 .. 1000 */
};

/* What to generate. fc_gen_params_init() sets every default; roster and keys have none. */
struct fc_gen_params {
	const struct fc_roster_entry *roster; /* the players are the first n_players entries */
	uint32_t n_roster;
	uint32_t n_players;             /* 1 .. n_roster; 0: all */
	const struct fc_gw_table *keys; /* gateways and keys; only read */
	uint32_t n_gateways;            /* the first n by gateway id: 1 .. keys->n; 0: all */
	unsigned int mac_alg;           /* 0: each gateway's first key; else its first of this */
	double seconds;                 /* of fixes: 0.01 .. 86400 (hostile: 0.5 or more) */
	double rate_hz;                 /* fixes per tag per second: 0.1 .. 1000; see rates */
	uint64_t seed;                  /* default 1 */
	uint32_t width_mm;              /* the floor: 201 .. 655350 mm, default 20 m x 10 m */
	uint32_t height_mm;             /* 201 .. 655350 */
	uint64_t start_ns;              /* capture start, rounded down to a us */
	enum fc_gen_scenario scenario;  /* default normal */
	uint32_t dst_ip;                /* floord's uplink address, host order: 198.18.0.1 */
	uint16_t dst_port;              /* floord's uplink port: 47474 */
	uint64_t clock_bound_ns;        /* the receiver's clock bound for the check: 2 s */
	bool check; /* run every frame through fc_pkt_classify() and fc_up_accept() (default) */
	/*
	 * Only what a UDP socket can send: frames that are not a UDP datagram to dst_ip:dst_port
	 * (every hostile class from a host that is not a gateway: ARP, IPv6, ICMP, fragments,
	 * Ethernet runts, bad IP/UDP headers, another port) are skipped: neither handed to the
	 * sink nor counted, and listed in the result's skipped[]. For fc_gen_live_sink().
	 */
	bool udp_only;

	/*
	 * The scenario's model (docs/floorgen.md). The defaults are the model above, bit for bit:
	 * draws for a feature are made only when it is on, so that turning nothing on changes no
	 * byte of the capture.
	 */
	/* per-tag rates: a listed team's tags at its rate; else, with fraction_hz, a fraction
	 * of the tags (drawn per player) at fraction_hz; else rate_hz */
	struct fc_gen_team_rate team_rates[FC_GEN_MAX_TEAM_RATES];
	uint32_t n_team_rates;
	double rate_fraction; /* 0 .. 1 */
	double fraction_hz;   /* 0: none; else 0.1 .. 1000 */
	double speed_min_mps; /* a leg's walking speed: 0.5 .. */
	double speed_max_mps; /* .. 1.5 m/s */
	double pause_prob;    /* at a waypoint, the chance to stand: 0.4 */
	double pause_min_s;   /* for 0.3 .. */
	double pause_max_s;   /* .. 2 s */
	/* clues (a docs/game.md layout; only read): legs that head for one, hot spots favoured */
	const struct fc_game_layout *layout;
	double attraction; /* the chance a new leg heads for a clue: 0 */
	double hot_weight; /* a hot spot is this many times likelier than another clue: 8 */
	uint32_t hot_spots[FC_GEN_MAX_HOT_SPOTS]; /* clue ids */
	uint32_t n_hot_spots;
	double clue_pause_min_s; /* standing at a clue: 1 .. */
	double clue_pause_max_s; /* .. 5 s */
	uint32_t approach_mm;    /* a leg to a clue ends within this of it: 150 */
	/* noise: each fix's 1-sigma error is the profile's times 0.5 .. 1.5, sent as err_mm;
	 * the position is off by a normal draw of that sigma on each axis */
	enum fc_gen_noise noise;
	double noise_sigma_mm; /* 0: the profile's (UWB 20, BLE AoA 300) */
	/* coverage */
	enum fc_gen_coverage coverage;
	uint32_t grid_cols; /* grid: 0 and 0: the most square grid of n_gateways cells */
	uint32_t grid_rows;
	uint32_t overlap_mm; /* a fix this close to a neighbour's cell is heard there too: 0 */
	/* gateway clocks: offset uniform in [-skew, skew] ms, drift in [-drift, drift] ppm */
	double skew_ms;
	double drift_ppm;
	/* impairments of gateway frames (per cent), and of fixes (duplicate) */
	double loss_pct;    /* a frame is never sent */
	double dup_pct;     /* a fix is also reported by the next gateway */
	double reorder_pct; /* a frame is delayed by 0 .. reorder_ms (behind later frames) */
	double reorder_ms;  /* 1 .. 1000 */
	double late_pct;    /* a frame is delayed by late_ms exactly */
	double late_ms;     /* 1 .. 120 000 */
};

void fc_gen_params_init(struct fc_gen_params *p);

/* One gateway as the generator drives it. */
struct fc_gen_gateway {
	uint32_t id;
	uint8_t key_id;
	uint8_t mac_alg;
	uint8_t mac[6];      /* source MAC: 02:00:00:00:<id hi>:<id lo> (02:01:<id> above 0xFFFF) */
	uint32_t ip;         /* host order: 198.18.<1 + id / 256>.<id % 256> */
	uint16_t port;       /* 40000 + id % 20000 */
	uint32_t latency_us; /* capture time - send time: 200 .. 900 */
	uint32_t phase_us;   /* first send time: i * 25 ms / n_gateways */
	uint64_t frames;     /* frames it sent (its hostile ones included; lost ones not) */
	int64_t clock_offset_us; /* its clock minus the true one at the capture start */
	double drift_ppm;        /* and how fast that grows */
	uint64_t lost;           /* its frames the network lost */
	uint64_t reordered;      /* delayed behind later frames */
	uint64_t late;           /* delayed by late_ms */
};

/* A player's newest accepted fix: what floord should hold at the end (newest wins). */
struct fc_gen_final {
	uint64_t tag_id;
	uint16_t player;
	uint16_t team;
	uint32_t fix_seq; /* 0: the player sent nothing */
	uint64_t t_ns;    /* measurement time */
	int32_t x_mm;
	int32_t y_mm;
	int32_t z_mm;
	uint64_t arrival_ns; /* crowded, converging players: first fix within 10 cm, else 0 */
};

/* Where a hostile frame went. */
struct fc_gen_hostile_frame {
	uint64_t frame_index; /* in the capture, from 0 */
	uint64_t ts_ns;
	uint32_t gateway_id; /* 0 for frames not from a gateway */
};

/*
 * What was written and what floord should count. The counters are computed frame by frame in
 * capture order: by construction, and by the check when params.check is set (a frame whose
 * outcome differs from its intent fails the run).
 */
struct fc_gen_result {
	uint64_t frames;       /* written */
	uint64_t fixes;        /* distinct fixes measured (the held-back one included) */
	uint64_t gw_frames;    /* accepted gateway frames: floord's rx.gw_frames */
	uint64_t keepalives;   /* of which with 0 records */
	uint64_t fix_records;  /* records in accepted frames: floord's rx.fixes */
	uint64_t applied;      /* owners.applied */
	uint64_t older;        /* owners.older */
	uint64_t duplicates;   /* owners.duplicates */
	uint64_t unknown_tags; /* pipeline.unknown_tag */
	/* what the impairments did (sent = in the capture or sent live) */
	uint64_t fix_reports;       /* fix records sent in regular frames, extra reports included */
	uint64_t overlap_reports;   /* extra reports by a neighbour whose cell overlaps */
	uint64_t duplicate_reports; /* extra reports by the next gateway (dup_pct) */
	uint64_t lost_frames;       /* never sent */
	uint64_t lost_reports;      /* fix records in them */
	uint64_t reordered_frames;
	uint64_t late_frames;
	uint64_t window_drops;       /* delayed frames floord must drop (replay_old, clock_skew) */
	uint64_t net[FC_PKT__COUNT]; /* net.* drops, by enum fc_pkt_verdict */
	uint64_t up[FC_UP_E__COUNT]; /* uplink.* drops, by enum fc_up_err */
	uint64_t first_ts_ns;
	uint64_t last_ts_ns;
	bool hostile_sent[FC_GEN_H__COUNT];
	struct fc_gen_hostile_frame hostile[FC_GEN_H__COUNT];
	uint64_t skipped[FC_GEN_H__COUNT]; /* udp_only: frames not sent, by class */
	uint32_t n_players;
	const struct fc_gen_final *final; /* n_players, in roster order */
	uint32_t n_gateways;
	const struct fc_gen_gateway *gateways;
	uint32_t centre_x_mm; /* the floor centre (crowded) */
	uint32_t centre_y_mm;
	uint32_t n_converging; /* crowded: players 0 .. n_converging - 1 walk to the centre */
};

/*
 * Receives every frame, in capture order: ts_ns is a whole microsecond. Returns 0 or -errno,
 * which stops the run.
 */
typedef int (*fc_gen_sink_fn)(void *ctx, uint64_t ts_ns, const uint8_t *frame, uint32_t len);

/*
 * Checks the parameters and sets up the players and gateways. Returns NULL with errno EINVAL
 * (a parameter out of range; the reason in err) or ENOMEM. The params' roster and keys must
 * outlive the generator.
 */
struct fc_gen *fc_gen_create(const struct fc_gen_params *p, char *err, size_t err_len);

/*
 * Generates the whole capture into sink. Returns 0; -EPROTO if the check found a frame that
 * does not land where it was meant to (a bug: the reason names the frame); -ENOMEM; or the
 * sink's error. Call once.
 */
int fc_gen_run(struct fc_gen *g, fc_gen_sink_fn sink, void *ctx, char *err, size_t err_len);

/* The result of fc_gen_run(); valid until fc_gen_free(). */
const struct fc_gen_result *fc_gen_result(const struct fc_gen *g);

/*
 * Writes the summary as JSON (the keys of mkcapture.py's summary: frames, fixes, classes,
 * expected_counters with floord's counter names, hostile, final_positions, first/last
 * timestamps, gateways, args). Returns 0 or -EIO.
 */
int fc_gen_write_summary(const struct fc_gen *g, FILE *out);

void fc_gen_free(struct fc_gen *g);

/* --- the scenario file (docs/floorgen.md) ------------------------------------------------- */

/* A scenario: the parameters it sets, and what they need kept alive (the clue layout). */
struct fc_gen_scenario_file {
	struct fc_gen_params p;
	char roster[PATH_MAX]; /* [scenario] roster, keys: "" when the file names none */
	char keys[PATH_MAX];
	char layout_path[PATH_MAX];
	char layout_loaded[PATH_MAX];
	struct fc_game_layout *layout; /* p.layout; owned */
	int kind;                      /* [scenario] kind: enum fc_gen_scenario */
	int mac;                       /* 0 first key, 1 hmac, 2 siphash */
	bool hostile;                  /* [hostile] enabled */
};

/* Defaults: fc_gen_params_init()'s. */
void fc_gen_scenario_init(struct fc_gen_scenario_file *s);

/*
 * Reads the scenario file at path on top of what s holds (start from fc_gen_scenario_init()),
 * and loads its clue layout. Returns 0, or -errno with "FILE:LINE: reason" (or "FILE: reason"
 * for the file as a whole, the layout's own FILE:LINE appended) in err.
 */
int fc_gen_scenario_load(struct fc_gen_scenario_file *s, const char *path, char *err,
			 size_t err_len);

/*
 * Applies one "section.key=value", as a line of the file would (floorgen --set); relative
 * paths from the working directory. Returns 0 or -EINVAL with the reason in err.
 */
int fc_gen_scenario_set(struct fc_gen_scenario_file *s, const char *assignment, char *err,
			size_t err_len);

/* Lists every key as SECTION.KEY and what it takes, one a line (floorgen --help). */
void fc_gen_scenario_describe(FILE *out);

/* Frees the layout; s may be loaded again after fc_gen_scenario_init(). */
void fc_gen_scenario_free(struct fc_gen_scenario_file *s);

/* --- output ------------------------------------------------------------------------------ */

/*
 * A pcap file sink: Ethernet link type, microsecond timestamps (DPDK's net_pcap reads those)
 * or nanosecond ones. Returns NULL with errno set and the reason in err.
 */
struct fc_gen_pcap *fc_gen_pcap_open(const char *path, bool nanosecond, char *err, size_t err_len);

/* fc_gen_sink_fn for a struct fc_gen_pcap *. */
int fc_gen_pcap_sink(void *ctx, uint64_t ts_ns, const uint8_t *frame, uint32_t len);

/* Flushes and closes; returns 0 or -EIO if anything failed to be written. NULL is accepted. */
int fc_gen_pcap_close(struct fc_gen_pcap *pc);

/*
 * Live output: every frame's UDP payload sent from one UDP socket to dst_ip:dst_port (and
 * nowhere else) at its capture time relative to the first frame, divided by speed. Run the
 * generator with params.udp_only set and dst_port == frame_port.
 */
struct fc_gen_live_params {
	uint32_t dst_ip; /* host order; required */
	uint16_t dst_port;
	uint32_t bind_ip; /* the socket's source address, host order; 0: the kernel's choice */
	uint16_t bind_port;
	double speed;        /* 1 real time, 2 twice as fast...; 0: no pacing; up to 1000 */
	uint16_t frame_port; /* the UDP port the generator's frames are addressed to */
};

struct fc_gen_live_stats {
	uint64_t sent;   /* datagrams */
	uint64_t bytes;  /* of UDP payload */
	uint64_t errors; /* sends that failed (the first one stops the run) */
	int last_errno;
	uint64_t max_late_ns; /* the latest a datagram went after its deadline */
	uint64_t elapsed_ns;  /* from the first datagram to the last */
};

/*
 * Opens the socket (and binds it if asked). Returns NULL with errno EINVAL (a parameter; the
 * reason in err), ENOMEM, or the socket's or bind's error.
 */
struct fc_gen_live *fc_gen_live_open(const struct fc_gen_live_params *p, char *err, size_t err_len);

/*
 * fc_gen_sink_fn for a struct fc_gen_live *: waits for the frame's deadline, then sends its
 * UDP payload. Returns 0, -EPROTO for a frame that is not a UDP datagram to frame_port, or
 * the send's -errno.
 */
int fc_gen_live_sink(void *ctx, uint64_t ts_ns, const uint8_t *frame, uint32_t len);

void fc_gen_live_get_stats(const struct fc_gen_live *lv, struct fc_gen_live_stats *st);
const struct fc_gen_live_params *fc_gen_live_params(const struct fc_gen_live *lv);

/* Closes the socket. NULL is accepted. */
void fc_gen_live_close(struct fc_gen_live *lv);

/*
 * Parses "A.B.C.D:PORT" (IPv4 only: no name lookups), or "A.B.C.D" when !port_required (port
 * 0). Returns 0 or -EINVAL.
 */
int fc_gen_parse_hostport(const char *s, bool port_required, uint32_t *ip, uint16_t *port);

/*
 * Makes fc_gen_write_summary() add a "live" object with lv's destination, speed and stats.
 * lv must outlive the summary's writing.
 */
void fc_gen_note_live(struct fc_gen *g, const struct fc_gen_live *lv);

/* --- test fixtures ------------------------------------------------------------------------ */

/*
 * The TEST key of gateway gw: SHA-256("floorcast test key for gateway <gw>"), the first 32
 * bytes for HMAC or 16 for SipHash (mkcapture.py's keys for HMAC). Anyone can recompute it:
 * never deploy such keys. Returns the key length, 0 for an unknown algorithm.
 */
unsigned int fc_gen_fixture_key(uint32_t gw, unsigned int alg, uint8_t key[FC_MAC_MAX_KEY_LEN]);

/*
 * Writes dir/roster.csv (tags FC_GEN_FIXTURE_TAG_BASE + player, team player % 8, for players
 * 0 .. players - 1; at most FC_CFG_MAX_PLAYERS) and dir/gateways.keys (gateways 1 .. gateways,
 * key 1, fc_gen_fixture_key() of alg, mode 0600), creating dir. Returns 0 or -errno.
 */
int fc_gen_write_fixtures(const char *dir, uint32_t players, uint32_t gateways, unsigned int alg,
			  char *err, size_t err_len);

#endif /* FC_GEN_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * floorgen, the traffic generator: beacon-gateway frames for floord as a pcap capture, for
 * replay tests, benchmarks and demos (DESIGN.md section 7). Argument parsing and wiring only;
 * the model is lib/gen (fc_gen.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fc_config.h"
#include "fc_gateways.h"
#include "fc_gen.h"

enum { EXIT_USAGE = 2, EXIT_INPUT = 3, EXIT_RUN = 4 };

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: floorgen {--out FILE | --live IP:PORT} [--scenario-file INI]\n"
		"                --roster CSV --keys KEYS (unless the scenario names them)\n"
		"                [--players N] [--gateways G]\n"
		"                [--seconds S] [--rate HZ] [--seed N] [--width-m W --height-m H]\n"
		"                [--start-ns NS] [--scenario normal|crowded|hostile]\n"
		"                [--mac hmac|siphash] [--dst-ip 198.18.0.1 --dst-port 47474]\n"
		"                [--summary JSON] [--nanosecond] [--no-check]\n"
		"                [--live IP:PORT [--bind IP[:PORT]] [--speed X]]\n"
		"                [--scenario-file INI] [--set SECTION.KEY=VALUE]...\n"
		"       floorgen --write-fixtures DIR [--players N] [--gateways G] [--mac ...]\n"
		"\n"
		"Deterministic beacon-gateway traffic for floord replay (same arguments, same bytes).\n"
		"  --scenario-file INI   the game, the gateways and the network (docs/floorgen.md):\n"
		"                    [scenario] [rates] [movement] [clues] [noise] [gateways]\n"
		"                    [clock] [impairments] [hostile]; the options below override it\n"
		"  --set S.K=V       a key of the scenario file, e.g. --set impairments.loss_pct=2\n"
		"                    (after the file, in order; before the other options)\n"
		"  --out FILE        the capture (pcap, Ethernet, microsecond timestamps);\n"
		"                    also --pcap-out FILE\n"
		"  --live IP:PORT    send each frame's UDP payload from a UDP socket to IP:PORT\n"
		"                    (only there), paced by capture time; the frames are addressed\n"
		"                    to it (unless --dst-ip/--dst-port), start is now (unless\n"
		"                    --start-ns); classes a socket cannot send are skipped. With\n"
		"                    --out too, the capture holds exactly what was sent\n"
		"  --bind IP[:PORT]  the live socket's source address\n"
		"  --speed X         live pacing: X times real time (default 1; 0: no pacing)\n"
		"  --roster CSV      tag_id,player,team[,name] (docs/configuration.md)\n"
		"  --keys KEYS       the gateways' keys (docs/protocol.md section 3.9)\n"
		"  --players N       the first N roster entries (default: all)\n"
		"  --gateways G      the first G gateways of the keys file by id (default: all)\n"
		"  --seconds S       of fixes (default 10)\n"
		"  --rate HZ         fixes per tag per second (default 20)\n"
		"  --seed N          (default 1)\n"
		"  --width-m W, --height-m H   the floor (default 20 x 10)\n"
		"  --start-ns NS     capture start, ns since the epoch (default 2026-01-01)\n"
		"  --scenario        normal (default): random walks at 0.5..1.5 m/s with pauses;\n"
		"                    crowded: half the players converge on the floor centre and stay\n"
		"                    within 10 cm; hostile: normal plus one frame of each class below\n"
		"  --mac ALG         each gateway's first key of this algorithm (default: its first\n"
		"                    key); with --write-fixtures, the keys' algorithm (default hmac)\n"
		"  --dst-ip, --dst-port   floord's uplink address and port\n"
		"  --summary JSON    what was sent and what floord should count\n"
		"  --nanosecond      nanosecond pcap timestamps (times stay whole microseconds)\n"
		"  --no-check        skip the self-check (every frame through the receive path)\n"
		"  --write-fixtures DIR   write DIR/roster.csv and DIR/gateways.keys for N players\n"
		"                    (400) and G gateways (4), as tests/replay/mkcapture.py does\n"
		"\n"
		"Hostile classes (floord counter):\n");
	for (unsigned int h = 0; h < FC_GEN_H__COUNT; h++)
		fprintf(out, "  %-18s %s\n", fc_gen_hostile_name(h), fc_gen_hostile_counter(h));
	fprintf(out, "\nScenario file keys (SECTION.KEY, also for --set; docs/floorgen.md):\n");
	fc_gen_scenario_describe(out);
}

struct args {
	struct fc_gen_scenario_file sc; /* the scenario file and --set, under the options */
	struct fc_gen_params p;
	const char *scenario_file;
	bool input_error; /* the scenario file or a --set is wrong: exit 3, not 2 */
	const char *out;
	const char *roster;
	const char *keys;
	const char *summary;
	const char *fixtures;
	const char *live;
	struct fc_gen_live_params lp;
	bool nanosecond;
	bool have_start;
	bool have_dst_ip;
	bool have_dst_port;
	bool have_players;
	bool have_gateways;
	bool have_mac;
};

static int
num_u64(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || v > max) {
		fprintf(stderr, "floorgen: --%s %s: expected a number up to %" PRIu64 "\n", opt, s,
			max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int
num_double(const char *opt, const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0') {
		fprintf(stderr, "floorgen: --%s %s: expected a number\n", opt, s);
		return -EINVAL;
	}
	return 0;
}

static int
parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "pcap-out", required_argument, NULL, 'o' },
		{ "live", required_argument, NULL, 'L' },
		{ "bind", required_argument, NULL, 'B' },
		{ "speed", required_argument, NULL, 'V' },
		{ "roster", required_argument, NULL, 'r' },
		{ "keys", required_argument, NULL, 'k' },
		{ "players", required_argument, NULL, 'n' },
		{ "gateways", required_argument, NULL, 'g' },
		{ "seconds", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'R' },
		{ "seed", required_argument, NULL, 'S' },
		{ "width-m", required_argument, NULL, 'W' },
		{ "height-m", required_argument, NULL, 'H' },
		{ "start-ns", required_argument, NULL, 't' },
		{ "scenario", required_argument, NULL, 'c' },
		{ "mac", required_argument, NULL, 'm' },
		{ "dst-ip", required_argument, NULL, 'i' },
		{ "dst-port", required_argument, NULL, 'p' },
		{ "summary", required_argument, NULL, 'j' },
		{ "nanosecond", no_argument, NULL, 'N' },
		{ "no-check", no_argument, NULL, 'C' },
		{ "write-fixtures", required_argument, NULL, 'F' },
		{ "scenario-file", required_argument, NULL, 'f' },
		{ "set", required_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[FC_CFG_ERR_MAX];
	double w, h;
	uint64_t v;
	int c, rc = 0;

	memset(a, 0, sizeof(*a));
	fc_gen_scenario_init(&a->sc);
	a->lp.speed = 1.0;
	/* Options override the scenario file: first the file, then every --set in order, then
	 * the other options on top (getopt runs again from the start: optind 0). */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (c == 'f')
			a->scenario_file = optarg;
	if (a->scenario_file != NULL)
		rc = fc_gen_scenario_load(&a->sc, a->scenario_file, err, sizeof(err));
	optind = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (c == 'X')
			rc = fc_gen_scenario_set(&a->sc, optarg, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "floorgen: %s\n", err);
		a->input_error = true;
		return rc;
	}
	a->p = a->sc.p;
	if (a->sc.roster[0] != '\0')
		a->roster = a->sc.roster;
	if (a->sc.keys[0] != '\0')
		a->keys = a->sc.keys;
	w = a->p.width_mm / 1000.0;
	h = a->p.height_mm / 1000.0;
	optind = 0;
	opterr = 1;
	while (rc == 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
		case 'X':
			break; /* done above */
		case 'o':
			a->out = optarg;
			break;
		case 'L':
			a->live = optarg;
			if (fc_gen_parse_hostport(optarg, true, &a->lp.dst_ip, &a->lp.dst_port) !=
			    0) {
				fprintf(stderr, "floorgen: --live %s: expected IPv4:PORT\n",
					optarg);
				rc = -EINVAL;
			}
			break;
		case 'B':
			if (fc_gen_parse_hostport(optarg, false, &a->lp.bind_ip,
						  &a->lp.bind_port) != 0) {
				fprintf(stderr, "floorgen: --bind %s: expected IPv4[:PORT]\n",
					optarg);
				rc = -EINVAL;
			}
			break;
		case 'V':
			rc = num_double("speed", optarg, &a->lp.speed);
			if (rc == 0 && !(a->lp.speed >= 0 && a->lp.speed <= 1000)) {
				fprintf(stderr, "floorgen: --speed %s: expected 0 .. 1000\n",
					optarg);
				rc = -EINVAL;
			}
			break;
		case 'r':
			a->roster = optarg;
			break;
		case 'k':
			a->keys = optarg;
			break;
		case 'n':
			rc = num_u64("players", optarg, FC_CFG_MAX_PLAYERS, &v);
			a->p.n_players = (uint32_t)v;
			a->have_players = true;
			break;
		case 'g':
			rc = num_u64("gateways", optarg, UINT32_MAX, &v);
			a->p.n_gateways = (uint32_t)v;
			a->have_gateways = true;
			break;
		case 's':
			rc = num_double("seconds", optarg, &a->p.seconds);
			break;
		case 'R':
			rc = num_double("rate", optarg, &a->p.rate_hz);
			break;
		case 'S':
			rc = num_u64("seed", optarg, UINT64_MAX, &a->p.seed);
			break;
		case 'W':
			rc = num_double("width-m", optarg, &w);
			break;
		case 'H':
			rc = num_double("height-m", optarg, &h);
			break;
		case 't':
			rc = num_u64("start-ns", optarg, UINT64_MAX / 2, &a->p.start_ns);
			a->have_start = true;
			break;
		case 'c':
			if (strcmp(optarg, "normal") == 0) {
				a->p.scenario = FC_GEN_NORMAL;
			} else if (strcmp(optarg, "crowded") == 0) {
				a->p.scenario = FC_GEN_CROWDED;
			} else if (strcmp(optarg, "hostile") == 0) {
				a->p.scenario = FC_GEN_HOSTILE;
			} else {
				fprintf(stderr,
					"floorgen: --scenario %s: normal, crowded or hostile\n",
					optarg);
				rc = -EINVAL;
			}
			break;
		case 'm':
			if (strcmp(optarg, "hmac") == 0) {
				a->p.mac_alg = FC_MAC_HMAC_SHA256_128;
			} else if (strcmp(optarg, "siphash") == 0) {
				a->p.mac_alg = FC_MAC_SIPHASH24;
			} else {
				fprintf(stderr, "floorgen: --mac %s: hmac or siphash\n", optarg);
				rc = -EINVAL;
			}
			a->have_mac = true;
			break;
		case 'i': {
			struct in_addr in;

			if (inet_pton(AF_INET, optarg, &in) != 1) {
				fprintf(stderr, "floorgen: --dst-ip %s: expected an IPv4 address\n",
					optarg);
				rc = -EINVAL;
			}
			a->p.dst_ip = ntohl(in.s_addr);
			a->have_dst_ip = true;
			break;
		}
		case 'p':
			rc = num_u64("dst-port", optarg, 65535, &v);
			a->p.dst_port = (uint16_t)v;
			a->have_dst_port = true;
			break;
		case 'j':
			a->summary = optarg;
			break;
		case 'N':
			a->nanosecond = true;
			break;
		case 'C':
			a->p.check = false;
			break;
		case 'F':
			a->fixtures = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			rc = -EINVAL;
			break;
		}
	}
	if (rc != 0)
		return rc;
	if (optind < argc) {
		fprintf(stderr, "floorgen: unexpected argument %s\n", argv[optind]);
		return -EINVAL;
	}
	if (!(w > 0 && w <= 655.35 && h > 0 && h <= 655.35)) {
		fprintf(stderr, "floorgen: the floor is up to 655.35 m a side\n");
		return -EINVAL;
	}
	a->p.width_mm = (uint32_t)(w * 1000 + 0.5);
	a->p.height_mm = (uint32_t)(h * 1000 + 0.5);
	if (a->fixtures == NULL &&
	    ((a->out == NULL && a->live == NULL) || a->roster == NULL || a->keys == NULL)) {
		fprintf(stderr, "floorgen: --out or --live, --roster and --keys are required "
				"(or --write-fixtures DIR)\n");
		return -EINVAL;
	}
	if (a->live == NULL && (a->lp.bind_ip != 0 || a->lp.bind_port != 0)) {
		fprintf(stderr, "floorgen: --bind goes with --live\n");
		return -EINVAL;
	}
	if (a->live != NULL) {
		a->p.udp_only = true;
		if (!a->have_dst_ip)
			a->p.dst_ip = a->lp.dst_ip;
		if (!a->have_dst_port)
			a->p.dst_port = a->lp.dst_port;
		a->lp.frame_port = a->p.dst_port;
	}
	if (a->have_players && a->p.n_players == 0) {
		fprintf(stderr, "floorgen: --players must be 1 or more\n");
		return -EINVAL;
	}
	if (a->have_gateways && a->p.n_gateways == 0) {
		fprintf(stderr, "floorgen: --gateways must be 1 or more\n");
		return -EINVAL;
	}
	return 0;
}

static int
write_fixtures(const struct args *a)
{
	char err[512];
	int rc;

	rc = fc_gen_write_fixtures(a->fixtures, a->have_players ? a->p.n_players : 400,
				   a->have_gateways ? a->p.n_gateways : 4,
				   a->have_mac ? a->p.mac_alg : FC_MAC_HMAC_SHA256_128, err,
				   sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "floorgen: %s\n", err);
		return EXIT_INPUT;
	}
	printf("wrote %s/roster.csv and %s/gateways.keys\n", a->fixtures, a->fixtures);
	return 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Where the frames go: a capture, a live socket, or both (the same frames). */
struct outputs {
	struct fc_gen_pcap *pc;
	struct fc_gen_live *lv;
};

static int
tee_sink(void *ctx, uint64_t ts_ns, const uint8_t *frame, uint32_t len)
{
	struct outputs *o = ctx;
	int rc = 0;

	if (o->pc != NULL)
		rc = fc_gen_pcap_sink(o->pc, ts_ns, frame, len);
	if (rc == 0 && o->lv != NULL)
		rc = fc_gen_live_sink(o->lv, ts_ns, frame, len);
	return rc;
}

/* Live frames carry times floord's clock bound accepts: now, rounded down to a us. */
static uint64_t
realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) / 1000u * 1000u;
}

static int
generate(struct args *a)
{
	struct fc_roster_entry *roster = NULL;
	struct fc_gw_table *keys = NULL;
	struct outputs o = { 0 };
	struct fc_gen *g = NULL;
	const struct fc_gen_result *r;
	char err[FC_CFG_ERR_MAX];
	uint32_t n_roster = 0;
	int rc, code = EXIT_INPUT;
	double t0;
	FILE *f;

	rc = fc_roster_load(a->roster, &roster, &n_roster, err, sizeof(err));
	if (rc == 0) {
		keys = fc_gw_table_create();
		if (keys == NULL)
			snprintf(err, sizeof(err), "out of memory");
		rc = keys == NULL ? -ENOMEM
				  : fc_gw_table_load_keys(keys, a->keys, err, sizeof(err));
	}
	if (rc == 0) {
		a->p.roster = roster;
		a->p.n_roster = n_roster;
		a->p.keys = keys;
		if (a->live != NULL && !a->have_start)
			a->p.start_ns = realtime_ns();
		g = fc_gen_create(&a->p, err, sizeof(err));
		rc = g == NULL ? -errno : 0;
	}
	if (rc == 0 && a->out != NULL) {
		o.pc = fc_gen_pcap_open(a->out, a->nanosecond, err, sizeof(err));
		rc = o.pc == NULL ? -errno : 0;
	}
	if (rc == 0 && a->live != NULL) {
		o.lv = fc_gen_live_open(&a->lp, err, sizeof(err));
		rc = o.lv == NULL ? -errno : 0;
		if (rc == 0)
			fc_gen_note_live(g, o.lv);
	}
	if (rc != 0)
		goto out;

	code = EXIT_RUN;
	t0 = now_s();
	rc = fc_gen_run(g, tee_sink, &o, err, sizeof(err));
	if (rc == -EIO && a->out != NULL)
		snprintf(err, sizeof(err), "%s: write failed", a->out);
	else if (rc < 0 && rc != -EPROTO && rc != -ENOMEM && a->live != NULL)
		snprintf(err, sizeof(err), "--live %s: %s", a->live, strerror(-rc));
	if (o.pc != NULL && fc_gen_pcap_close(o.pc) != 0 && rc == 0) {
		rc = -EIO;
		snprintf(err, sizeof(err), "%s: write failed", a->out);
	}
	o.pc = NULL;
	if (rc != 0) {
		if (a->out != NULL)
			remove(a->out); /* no half capture that looks whole */
		goto out;
	}
	r = fc_gen_result(g);
	if (a->summary != NULL) {
		f = fopen(a->summary, "w");
		rc = f == NULL ? -errno : fc_gen_write_summary(g, f);
		if (f != NULL && fclose(f) != 0 && rc == 0)
			rc = -EIO;
		if (rc != 0) {
			snprintf(err, sizeof(err), "%s: %s", a->summary, strerror(-rc));
			goto out;
		}
	}
	{
		double dt = now_s() - t0;
		unsigned int hostile = 0;
		uint64_t skipped = 0;

		for (unsigned int h = 0; h < FC_GEN_H__COUNT; h++) {
			hostile += r->hostile_sent[h];
			skipped += r->skipped[h];
		}
		printf("floorgen: %s%s%s: %" PRIu64 " frames, %" PRIu64 " fixes of %" PRIu32
		       " players from %" PRIu32 " gateways over %g s (%" PRIu64
		       " keepalives, %u hostile, %" PRIu64 " skipped) in %.2f s: %.2f M fixes/s\n",
		       a->out != NULL ? a->out : "",
		       a->out != NULL && a->live != NULL ? " and " : "",
		       a->live != NULL ? a->live : "", r->frames, r->fixes, r->n_players,
		       r->n_gateways, a->p.seconds, r->keepalives, hostile, skipped, dt,
		       dt > 0 ? r->fixes / dt / 1e6 : 0.0);
	}
	code = 0;
out:
	if (rc != 0)
		fprintf(stderr, "floorgen: %s\n", err);
	fc_gen_pcap_close(o.pc);
	fc_gen_live_close(o.lv);
	fc_gen_free(g);
	fc_gw_table_free(keys);
	free(roster);
	return rc != 0 ? code : 0;
}

int
main(int argc, char **argv)
{
	struct args a;

	int rc;

	if (parse_args(argc, argv, &a) != 0) {
		fc_gen_scenario_free(&a.sc);
		if (a.input_error)
			return EXIT_INPUT;
		usage(stderr);
		return EXIT_USAGE;
	}
	rc = a.fixtures != NULL ? write_fixtures(&a) : generate(&a);
	fc_gen_scenario_free(&a.sc);
	return rc;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * floord, the floor server: EAL arguments, then `--` and floord's own. Argument parsing and
 * wiring only; the pipeline is lib/dataplane.
 *
 *   floord [EAL args] -- --floor FILE [--replay [--pace[=SPEED]]] [--numa-report] [--report-json FILE]
 *
 * The floor file (and the roster, keys and port profile it names) is loaded and checked before
 * the EAL starts, so a bad configuration fails fast with a message naming the file, the key,
 * the value and what was expected.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "fc_config.h"
#include "fc_dataplane.h"
#include "fc_game.h"
#include "fc_journal.h"

enum { EXIT_USAGE = 2, EXIT_CONFIG = 3, EXIT_EAL = 4, EXIT_RUN = 5 };

static struct fc_dataplane *running;

static void
on_signal(int sig)
{
	(void)sig;
	fc_dataplane_stop(running); /* async-signal-safe: one atomic store */
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: floord [EAL args] -- --floor FILE [--replay [--pace[=SPEED]]] [--numa-report]\n"
		"              [--report-json FILE]\n"
		"  --floor FILE        the floor file (docs/configuration.md)\n"
		"  --replay            the clock is the capture's timestamps (net_pcap); the end of\n"
		"                      the capture ends the session\n"
		"  --pace[=SPEED]      with --replay: take each frame when its capture time comes (as\n"
		"                      it arrived), not as fast as the file reads; SPEED 2 is twice\n"
		"                      as fast (default 1): for latency and sustained-rate runs\n"
		"  --numa-report       print where every port, queue, ring, shard, mempool and lcore\n"
		"                      lives and every cross-node hop, then exit\n"
		"  --report-json FILE  also write the exit report as JSON\n");
}

struct args {
	const char *floor;
	const char *report_json;
	bool replay;
	double pace;
	bool numa_report;
};

static int
parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "floor", required_argument, NULL, 'f' },
		{ "replay", no_argument, NULL, 'r' },
		{ "pace", optional_argument, NULL, 'p' },
		{ "numa-report", no_argument, NULL, 'n' },
		{ "report-json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			a->floor = optarg;
			break;
		case 'r':
			a->replay = true;
			break;
		case 'p': {
			char *end;

			a->pace = optarg == NULL ? 1.0 : strtod(optarg, &end);
			if (optarg != NULL && (*end != '\0' || !(a->pace > 0 && a->pace <= 1000))) {
				fprintf(stderr,
					"floord: --pace=%s: expected a speed above 0, up to 1000\n",
					optarg);
				return -1;
			}
			break;
		}
		case 'n':
			a->numa_report = true;
			break;
		case 'j':
			a->report_json = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "floord: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	if (a->pace > 0 && !a->replay) {
		fprintf(stderr, "floord: --pace goes with --replay\n");
		return -1;
	}
	if (a->floor == NULL) {
		fprintf(stderr, "floord: --floor FILE is required\n");
		usage(stderr);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	char err[FC_CFG_ERR_MAX];
	struct fc_dataplane_opts opts = { 0 };
	struct fc_config cfg;
	struct fc_game_layout *layout = NULL;
	struct fc_journal *journal = NULL;
	struct fc_journal_recovered recovered;
	struct args a;
	int sep = argc, rc, ret;

	/* floord's own arguments come after "--": parse and load them before the EAL starts. */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			sep = i;
			break;
		}
	{
		char *own[argc + 1];
		int n = 0;

		own[n++] = argv[0];
		for (int i = sep + 1; i < argc; i++)
			own[n++] = argv[i];
		own[n] = NULL;
		if (parse_args(n, own, &a) != 0)
			return EXIT_USAGE;
	}
	rc = fc_config_load(&cfg, a.floor, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "floord: %s\n", err);
		return EXIT_CONFIG;
	}
	/* the checks floorctl's load layout makes too: the file, then the clues on the floor */
	if (cfg.layout_file[0] != '\0' &&
	    (fc_game_layout_load(cfg.layout_file, &layout, err, sizeof(err)) != 0 ||
	     fc_game_layout_check_floor(layout, cfg.layout_file, cfg.width_mm, cfg.height_mm, err,
					sizeof(err)) != 0)) {
		fprintf(stderr, "floord: %s\n", err);
		fc_game_layout_free(layout);
		fc_config_free(&cfg);
		return EXIT_CONFIG;
	}
	/* The journal is recovered before anything starts: a restart continues its round. */
	if (cfg.journal_file[0] != '\0') {
		struct fc_journal_opts jo = { .producers = cfg.n_owners + 1 };

		journal = fc_journal_open(cfg.journal_file, &jo, &recovered, err, sizeof(err));
		if (journal == NULL) {
			fprintf(stderr, "floord: %s\n", err);
			fc_game_layout_free(layout);
			fc_config_free(&cfg);
			return EXIT_CONFIG;
		}
		if (recovered.n_awards > 0 || recovered.torn_bytes > 0)
			fprintf(stderr, "floord: journal %s: round %u, %u awards recovered%s%s\n",
				cfg.journal_file, recovered.round_id, recovered.n_awards,
				recovered.torn_bytes ? "; a torn tail cut: " : "",
				recovered.torn_bytes ? recovered.torn_reason : "");
	}

	ret = rte_eal_init(sep, argv);
	if (ret < 0) {
		fprintf(stderr, "floord: EAL: %s\n", rte_strerror(rte_errno));
		fc_config_free(&cfg);
		return EXIT_EAL;
	}
	opts.replay = a.replay;
	opts.layout = layout;
	opts.journal = journal;
	opts.recovered = journal != NULL ? &recovered : NULL;
	opts.pace = a.pace;
	running = fc_dataplane_create(&cfg, &opts, err, sizeof(err));
	if (running == NULL) {
		fprintf(stderr, "floord: %s\n", err);
		fc_config_free(&cfg);
		rte_eal_cleanup();
		return EXIT_CONFIG;
	}
	if (a.numa_report) {
		fc_dataplane_numa_report(running, stdout);
		fc_dataplane_free(running);
		fc_config_free(&cfg);
		rte_eal_cleanup();
		return 0;
	}
	fc_dataplane_telemetry_register(running);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	rc = fc_dataplane_run(running);
	if (rc == 0) {
		fc_dataplane_report(running, stdout);
		if (a.report_json != NULL) {
			FILE *f = fopen(a.report_json, "w");

			if (f == NULL) {
				perror(a.report_json);
				rc = -1;
			} else {
				fc_dataplane_report_json(running, f);
				fclose(f);
			}
		}
	}
	fc_dataplane_free(running);
	running = NULL;
	if (journal != NULL) {
		if (fc_journal_close(journal) != 0 && rc == 0)
			rc = -EIO;
		fc_journal_recovered_free(&recovered);
	}
	fc_config_free(&cfg);
	fc_game_layout_free(layout);
	rte_eal_cleanup();
	return rc == 0 ? 0 : EXIT_RUN;
}

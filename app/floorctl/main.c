/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * floorctl, the operator's tool: floord's control socket for round commands and status, and
 * the journal for audits (docs/control.md). Argument parsing and wiring only.
 *
 *   floorctl (--floor FILE | --socket PATH [--journal PATH]) COMMAND
 *     status | metrics | round start | round pause | round resume | round end
 *     | load layout FILE | roster add TAG PLAYER TEAM [NAME] | roster remove TAG | audit CLUE
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_config.h"
#include "fc_control.h"
#include "fc_journal.h"

static void
usage(FILE *out)
{
	fprintf(out, "usage: floorctl (--floor FILE | --socket PATH [--journal PATH]) [--json] "
		     "COMMAND\n"
		     "  status                       the round and floord's report, readable\n"
		     "                               (--json: floord's answer as it is)\n"
		     "  metrics                      every counter in Prometheus text format\n"
		     "  round start|pause|resume|end applied at floord's next tick, echoed on\n"
		     "                               the downlink as COMMAND_ECHO\n"
		     "  load layout FILE             a clue layout for the next round start,\n"
		     "                               checked by floord (FILE:LINE: reason)\n"
		     "  roster add TAG PLAYER TEAM [NAME]\n"
		     "  roster remove TAG            the tag's fixes are used (add) or counted as\n"
		     "                               unknown_tag (remove) from floord's next tick\n"
		     "  audit CLUE                   who won the clue, when, and the fixes that\n"
		     "                               decided it, from the journal\n");
}

/*
 * Prints the JSON string value of key in reply, unescaped (floord escapes only quotes,
 * backslashes and newlines). Returns false if reply has no such key.
 */
static bool
print_field(const char *reply, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": \"", key);
	p = strstr(reply, pat);
	if (p == NULL)
		return false;
	for (p += strlen(pat); *p != '\0' && *p != '"'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			putchar(*p == 'n' ? '\n' : *p);
		} else {
			putchar(*p);
		}
	}
	return true;
}

static int
print_award(const struct fc_journal_entry *e, void *arg)
{
	const struct fc_journal_award *a = &e->rec.award;
	unsigned int *n = arg;

	printf("%s{\"round\": %u, \"clue\": %u, \"winner\": %u, \"team\": %u, \"points\": %u, "
	       "\"meas_time_ns\": %" PRIu64 ", \"decided_ns\": %" PRIu64
	       ", \"contenders_total\": %u, \"fixes\": [",
	       *n ? ",\n " : "[", a->round_id, a->clue_id, a->winner, a->winner_team, a->points,
	       a->meas_time_ns, a->decided_ns, a->contenders_total);
	for (unsigned int i = 0; i < a->n_fixes; i++) {
		const struct fc_journal_fix *f = &a->fixes[i];

		printf("%s{\"player\": %u, \"flags\": %u, \"meas_time_ns\": %" PRIu64
		       ", \"distance_mm\": %u, \"fix_seq\": %u}",
		       i ? ", " : "", f->player, f->flags, f->meas_time_ns, f->distance_mm,
		       f->fix_seq);
	}
	printf("]}");
	(*n)++;
	return 0;
}

static int
audit(const char *journal, const char *clue)
{
	char err[256], *end;
	unsigned long id = strtoul(clue, &end, 10);
	unsigned int n = 0;
	int rc;

	if (*clue == '\0' || *end != '\0' || id == 0 || id > UINT32_MAX) {
		fprintf(stderr, "floorctl: audit %s: expected a clue id from 1\n", clue);
		return 2;
	}
	if (journal == NULL || journal[0] == '\0') {
		fprintf(stderr,
			"floorctl: audit needs the journal: the floor file's [game] journal, "
			"or --journal PATH\n");
		return 2;
	}
	rc = fc_journal_audit(journal, (uint32_t)id, print_award, &n, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "floorctl: %s\n", err);
		return 1;
	}
	printf("%s\n", n ? "]" : "[]");
	if (n == 0)
		fprintf(stderr, "floorctl: clue %lu has not been awarded\n", id);
	return n ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "floor", required_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "journal", required_argument, NULL, 'j' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *floor = NULL, *sock = NULL, *journal = NULL;
	bool json = false;
	static struct fc_config cfg;
	char request[FC_CONTROL_LINE_MAX], err[FC_CFG_ERR_MAX];
	static char reply[FC_CONTROL_REPLY_MAX];
	size_t n = 0;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			floor = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'j':
			journal = optarg;
			break;
		case 'J':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind == argc || (floor == NULL && sock == NULL)) {
		usage(stderr);
		return 2;
	}
	if (floor != NULL) {
		if (fc_config_load(&cfg, floor, err, sizeof(err)) != 0) {
			fprintf(stderr, "floorctl: %s\n", err);
			return 2;
		}
		if (sock == NULL)
			sock = cfg.control_socket;
		if (journal == NULL)
			journal = cfg.journal_file;
	}
	if (strcmp(argv[optind], "audit") == 0) {
		if (optind + 2 != argc) {
			usage(stderr);
			return 2;
		}
		return audit(journal, argv[optind + 1]);
	}
	if (sock == NULL || sock[0] == '\0') {
		fprintf(stderr, "floorctl: no control socket: [control] socket in the floor file, "
				"or --socket PATH\n");
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		const char *word = argv[i];
		char *abs = NULL;
		int w;

		/* floord opens the layout from its own directory: send the file's absolute path */
		if (i == optind + 2 && strcmp(argv[optind], "load") == 0) {
			abs = realpath(word, NULL);
			if (abs == NULL) {
				fprintf(stderr, "floorctl: %s: %s\n", word, strerror(errno));
				return 1;
			}
			word = abs;
		}
		w = snprintf(request + n, sizeof(request) - n, "%s%s", i > optind ? " " : "", word);
		free(abs);

		if (w < 0 || (size_t)w >= sizeof(request) - n) {
			fprintf(stderr, "floorctl: request too long\n");
			return 2;
		}
		n += (size_t)w;
	}
	rc = fc_control_request(sock, request, reply, sizeof(reply), 5000);
	if (rc != 0) {
		fprintf(stderr, "floorctl: %s: %s\n", sock, strerror(-rc));
		return 1;
	}
	if (json || strstr(reply, "\"ok\": true") == NULL ||
	    !print_field(reply, strcmp(argv[optind], "metrics") == 0 ? "metrics" : "text"))
		printf("%s\n", reply);
	return strstr(reply, "\"ok\": true") != NULL ? 0 : 1;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * floorwatch, a subscriber console: rebuilds the floor from floord's downlink with lib/client
 * (fc_client.h), from a capture (floord's output pcap: Ethernet/IPv4/UDP frames, read with
 * libpcap) or live from the multicast group, optionally asking floord's retransmit service for
 * missed events. Writes the final state as JSON, a map of the floor as SVG, and shows a terminal
 * view. Argument parsing and wiring only; the views are view.c, the logic lib/client.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fc_client.h"
#include "view.h"

enum { EXIT_USAGE = 2, EXIT_INPUT = 3, EXIT_OUTPUT = 4 };

#define NS_PER_S 1000000000ull

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: floorwatch --pcap FILE [--group G] [--port P]\n"
		"       floorwatch --group G --port P [--iface-addr A] [--server IP [--rt-port P]]\n"
		"                  [--seconds S]\n"
		"       common: [--json OUT] [--svg OUT] [--tui] [--floor WxH] [--max-players N]\n"
		"\n"
		"Rebuilds the floor from floord's downlink (docs/client.md) and shows it.\n"
		"  --pcap FILE       a capture of the downlink (floord's output pcap: Ethernet,\n"
		"                    IPv4, UDP); with --group/--port, only datagrams to them\n"
		"  --group G         the downlink group (default 239.192.0.1); a unicast address\n"
		"                    is bound without joining (a relay, a test)\n"
		"  --port P          the downlink port (default 47480)\n"
		"  --iface-addr A    join on the interface with this IPv4 address\n"
		"  --server IP       floord's unicast address: ask it for missed events\n"
		"  --rt-port P       its retransmit port (default: the downlink port + 1)\n"
		"  --seconds S       stop after S seconds (default: at the end of the session)\n"
		"  --json OUT        write the final state as JSON\n"
		"  --svg OUT         write a map of the floor as SVG\n"
		"  --tui             a terminal view, redrawn every second (once at the end of a\n"
		"                    capture)\n"
		"  --floor WxH       the floor in metres for the views (default: what was seen)\n"
		"  --max-players N   player ids below N (default 4096, at most 65535)\n");
}

struct args {
	const char *pcap;
	const char *group;
	bool have_group;
	bool have_port;
	uint16_t port;
	const char *iface_addr;
	const char *server;
	uint16_t rt_port;
	double seconds;
	const char *json;
	const char *svg;
	bool tui;
	double floor_w_m;
	double floor_h_m;
	uint32_t max_players;
};

static int
num_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || v < lo || v > hi) {
		fprintf(stderr,
			"floorwatch: --%s %s: expected a number in %" PRIu64 "..%" PRIu64 "\n", opt,
			s, lo, hi);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int
parse_floor(const char *s, double *w, double *h)
{
	char *end;

	errno = 0;
	*w = strtod(s, &end);
	if (errno != 0 || end == s || (*end != 'x' && *end != 'X') || !(*w > 0))
		goto bad;
	s = end + 1;
	*h = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(*h > 0))
		goto bad;
	return 0;
bad:
	fprintf(stderr, "floorwatch: --floor: expected WxH in metres, like 20x10\n");
	return -EINVAL;
}

static int
parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "pcap", required_argument, NULL, 'p' },
		{ "group", required_argument, NULL, 'g' },
		{ "port", required_argument, NULL, 'P' },
		{ "iface-addr", required_argument, NULL, 'i' },
		{ "server", required_argument, NULL, 's' },
		{ "rt-port", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "json", required_argument, NULL, 'j' },
		{ "svg", required_argument, NULL, 'v' },
		{ "tui", no_argument, NULL, 't' },
		{ "floor", required_argument, NULL, 'f' },
		{ "max-players", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int o;

	*a = (struct args){ .group = "239.192.0.1", .port = 47480 };
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			a->pcap = optarg;
			break;
		case 'g':
			a->group = optarg;
			a->have_group = true;
			break;
		case 'P':
		case 'r':
			if (num_u64(o == 'P' ? "port" : "rt-port", optarg, 1, 65535, &v) != 0)
				return -EINVAL;
			if (o == 'P') {
				a->port = (uint16_t)v;
				a->have_port = true;
			} else {
				a->rt_port = (uint16_t)v;
			}
			break;
		case 'i':
			a->iface_addr = optarg;
			break;
		case 's':
			a->server = optarg;
			break;
		case 'S': {
			char *end;

			errno = 0;
			a->seconds = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' || !(a->seconds > 0)) {
				fprintf(stderr, "floorwatch: --seconds %s: expected a number > 0\n",
					optarg);
				return -EINVAL;
			}
			break;
		}
		case 'j':
			a->json = optarg;
			break;
		case 'v':
			a->svg = optarg;
			break;
		case 't':
			a->tui = true;
			break;
		case 'f':
			if (parse_floor(optarg, &a->floor_w_m, &a->floor_h_m) != 0)
				return -EINVAL;
			break;
		case 'm':
			if (num_u64("max-players", optarg, 1, 65535, &v) != 0)
				return -EINVAL;
			a->max_players = (uint32_t)v;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "floorwatch: unexpected argument %s\n", argv[optind]);
		return -EINVAL;
	}
	if (a->pcap != NULL && (a->server != NULL || a->iface_addr != NULL || a->seconds > 0)) {
		fprintf(stderr, "floorwatch: --server, --iface-addr and --seconds are for a live "
				"group, not --pcap\n");
		return -EINVAL;
	}
	if (a->rt_port != 0 && a->server == NULL) {
		fprintf(stderr, "floorwatch: --rt-port needs --server\n");
		return -EINVAL;
	}
	return 0;
}

/* ---- a capture ---------------------------------------------------------------------------- */

static int
run_pcap(const struct args *a, struct fc_client *c, struct fc__watch_src *src)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct in_addr group;
	bool by_group = a->have_group;
	pcap_t *p;
	int rc;

	if (by_group && inet_pton(AF_INET, a->group, &group) != 1) {
		fprintf(stderr, "floorwatch: --group %s: not an IPv4 address\n", a->group);
		return EXIT_USAGE;
	}
	p = pcap_open_offline_with_tstamp_precision(a->pcap, PCAP_TSTAMP_PRECISION_NANO, err);
	if (p == NULL) {
		fprintf(stderr, "floorwatch: %s\n", err);
		return EXIT_INPUT;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		fprintf(stderr, "floorwatch: %s: link type %d, expected Ethernet\n", a->pcap,
			pcap_datalink(p));
		pcap_close(p);
		return EXIT_INPUT;
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		uint64_t now = (uint64_t)h->ts.tv_sec * NS_PER_S + (uint64_t)h->ts.tv_usec;
		struct fc_client_udp u;

		src->frames++;
		if (fc_client_udp_payload(data, h->caplen, &u) != 0) {
			src->not_udp++;
			continue;
		}
		if ((by_group && u.dst_ip != ntohl(group.s_addr)) ||
		    (a->have_port && u.dst_port != a->port)) {
			src->filtered++;
			continue;
		}
		fc_client_feed(c, u.payload, u.len, now);
	}
	if (rc == PCAP_ERROR)
		fprintf(stderr, "floorwatch: %s: %s\n", a->pcap, pcap_geterr(p));
	pcap_close(p);
	return rc == PCAP_ERROR ? EXIT_INPUT : 0;
}

/* ---- a live group ------------------------------------------------------------------------- */

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
run_live(const struct args *a, struct fc_client *c, struct fc_client_sock *s,
	 const struct fc__watch_src *src)
{
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: poll() returns */
	uint64_t start = fc_client_now_ns(), next_draw = start;
	uint64_t end = a->seconds > 0 ? start + (uint64_t)(a->seconds * NS_PER_S) : UINT64_MAX;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!stop) {
		struct fc_client_info in;
		uint64_t now;
		int rc = fc_client_sock_run(s, c, 100);

		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "floorwatch: receive: %s\n", strerror(-rc));
			return EXIT_INPUT;
		}
		now = fc_client_now_ns();
		if (a->tui && now >= next_draw) {
			fc__watch_tui(stdout, c, src, true);
			next_draw = now + NS_PER_S;
		}
		fc_client_get_info(c, &in);
		if (in.ended || now >= end)
			break;
	}
	return 0;
}

/* ---- outputs ------------------------------------------------------------------------------ */

static int
write_out(const char *path, const struct fc_client *c, const struct fc__watch_src *src,
	  int (*fn)(FILE *, const struct fc_client *, const struct fc__watch_src *))
{
	FILE *f = fopen(path, "w");
	int rc;

	if (f == NULL) {
		fprintf(stderr, "floorwatch: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	rc = fn(f, c, src);
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc != 0)
		fprintf(stderr, "floorwatch: %s: %s\n", path, strerror(-rc));
	return rc;
}

int
main(int argc, char **argv)
{
	struct fc_client_sock s = { .fd = -1, .rt_fd = -1 };
	struct fc__watch_src src = { 0 };
	struct fc_client_params cp = { 0 };
	struct fc_client *c;
	struct args a;
	char what[512];
	int rc;

	if (parse_args(argc, argv, &a) != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	src.floor_w_m = a.floor_w_m;
	src.floor_h_m = a.floor_h_m;
	cp.max_players = a.max_players;
	if (a.pcap != NULL) {
		snprintf(what, sizeof(what), "pcap %s", a.pcap);
		src.capture = true;
	} else {
		struct fc_client_sock_params sp = { .group = a.group,
						    .port = a.port,
						    .iface_addr = a.iface_addr,
						    .server = a.server,
						    .rt_port = a.rt_port };

		snprintf(what, sizeof(what), "group %s:%u", a.group, a.port);
		rc = fc_client_sock_open(&s, &sp);
		if (rc != 0) {
			fprintf(stderr, "floorwatch: %s: %s\n", what, strerror(-rc));
			return rc == -EINVAL ? EXIT_USAGE : EXIT_INPUT;
		}
		if (a.server != NULL) {
			cp.send_request = fc_client_sock_send_request;
			cp.send_arg = &s;
		}
	}
	src.what = what;
	c = fc_client_create(&cp);
	if (c == NULL) {
		fprintf(stderr, "floorwatch: client: %s\n", strerror(errno));
		fc_client_sock_close(&s);
		return EXIT_INPUT;
	}
	rc = a.pcap != NULL ? run_pcap(&a, c, &src) : run_live(&a, c, &s, &src);
	fc_client_sock_close(&s);
	if (rc == 0) {
		if (a.json != NULL && write_out(a.json, c, &src, fc__watch_json) != 0)
			rc = EXIT_OUTPUT;
		if (a.svg != NULL && write_out(a.svg, c, &src, fc__watch_svg) != 0)
			rc = EXIT_OUTPUT;
		if (a.tui)
			fc__watch_tui(stdout, c, &src, a.pcap == NULL);
		fc__watch_summary(a.tui ? stderr : stdout, c);
	}
	fc_client_free(c);
	return rc;
}

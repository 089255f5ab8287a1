/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * floorwatch's three views of a subscriber's state (lib/client): the final state as JSON, a
 * map of the floor as SVG, and a terminal view redrawn with ANSI escapes. Text only, no
 * library: main.c decides when to write which.
 */
#ifndef FC_WATCH_VIEW_H
#define FC_WATCH_VIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fc_client.h"

/* Where the datagrams came from, for the views' headers and the JSON. */
struct fc__watch_src {
	const char *what;  /* "pcap FILE" or "group G:P" */
	bool capture;      /* a capture: the frame counters below mean something */
	uint64_t frames;   /* capture frames read */
	uint64_t not_udp;  /* frames that were not IPv4/UDP */
	uint64_t filtered; /* UDP to another group or port */
	double floor_w_m;  /* the floor for the SVG; 0: fitted to what was seen */
	double floor_h_m;
};

/* The final state as one JSON object (docs/client.md lists the keys). Returns 0 or -EIO. */
int fc__watch_json(FILE *f, const struct fc_client *c, const struct fc__watch_src *src);

/* A map of the floor: players as dots by team, clues as circles, claims marked. 0 or -EIO. */
int fc__watch_svg(FILE *f, const struct fc_client *c, const struct fc__watch_src *src);

/* The terminal view: round, scoreboard, recent claims, counters, a coarse map. */
void fc__watch_tui(FILE *f, const struct fc_client *c, const struct fc__watch_src *src,
		   bool redraw);

/* One line: the session, the round, what was recovered. */
void fc__watch_summary(FILE *f, const struct fc_client *c);

#endif /* FC_WATCH_VIEW_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Benchmark of the uplink receive path: what one gateway frame costs floord's RX lcore in
 * fc_up_parse() alone, in parse + fc_mac_verify(), and in the whole fc_up_accept(), for both
 * MACs and frames of 1, 8 and the most fixes one datagram carries (fc_up_max_fixes(): 42 with
 * either tag). It measures and reports; it never judges a time (STYLE.md, "Tests").
 *
 * Method (perf/README.md, "Codec"): every configuration has a ring of pre-built frames, laid
 * out as in mbufs (one 2304-byte slot each, the payload 2 bytes off 8-byte alignment after its
 * Ethernet/IPv4/UDP headers). A sample times one pass over the ring with CLOCK_MONOTONIC; the
 * pass before it, untimed, warms the caches (for accept it re-signs the ring with fresh seqs, so
 * the replay window accepts every frame, as in steady state). Samples of all configurations
 * are interleaved, round-robin with a rotating start, so a noisy moment of a shared machine
 * lands on all of them alike, and the report is percentiles (p50, p90, p99), never a mean.
 *
 *   bench_codec [--out FILE] [--samples N] [--frames N]   timing table, CSV to FILE
 *   bench_codec --smoke --out FILE                         a few passes: does it run (CI)
 *   bench_codec --callgrind [--frames N]                   one collected pass per configuration
 *                                                          under valgrind --tool=callgrind
 *                                                          --collect-atstart=no, dumped as
 *                                                          "mac,fixes,stage,frames"
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef FC_HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#endif

#include "fc_gateways.h"
#include "fc_mac.h"
#include "fc_uplink.h"

/* An mbuf's footprint (128-byte struct rte_mbuf, 128 headroom, 2048 data room)... */
#define SLOT_LEN    2304u
/* ...and where a UDP payload starts in it: after the headroom and 14 + 20 + 8 header bytes. */
#define PAYLOAD_OFF (128u + 128u + 42u)

/* A floor's worth of gateways in the table, so the lookup in accept is a real binary search. */
#define N_GATEWAYS 64u

#define BASE_TIME_NS   UINT64_C(1767225600000000000)
#define CLOCK_BOUND_NS UINT64_C(2000000000)

#define DEFAULT_SAMPLES 200u
#define DEFAULT_FRAMES  256u
#define WARMUP_PASSES   20u

enum stage { ST_PARSE, ST_VERIFY, ST_ACCEPT, ST__COUNT };

static const char *const stage_names[ST__COUNT] = {
	[ST_PARSE] = "parse",
	[ST_VERIFY] = "parse_verify",
	[ST_ACCEPT] = "accept",
};

struct mac_def {
	unsigned int alg;
	const char *name; /* as in the keys file */
};

static const struct mac_def macs[] = {
	{ FC_MAC_HMAC_SHA256_128, "hmac-sha256-128" },
	{ FC_MAC_SIPHASH24, "siphash24" },
};

/* Fixes per frame; 0 stands for fc_up_max_fixes() of the MAC's tag. */
static const unsigned int fix_counts[] = { 1, 8, 0 };

#define N_MACS    (sizeof(macs) / sizeof(macs[0]))
#define N_SIZES   (sizeof(fix_counts) / sizeof(fix_counts[0]))
#define N_RINGS   (N_MACS * N_SIZES)
#define N_CONFIGS (N_RINGS * ST__COUNT)

/* The frames of one (MAC, fixes) pair, and the gateway that sends them. */
struct ring {
	const struct mac_def *mac;
	unsigned int fixes;
	uint32_t gateway_id;
	const struct fc_mac_key *key;
	uint8_t *mem; /* n slots of SLOT_LEN */
	uint16_t len; /* every frame of a ring has the same length */
	uint64_t next_seq;
};

struct config {
	struct ring *ring;
	enum stage stage;
	uint64_t *ns; /* one per sample: the time of a pass */
};

struct opts {
	const char *out;
	unsigned int samples;
	unsigned int frames;
	int smoke;
	int callgrind;
};

static struct fc_gw_table *table;
static struct ring rings[N_RINGS];
static struct config configs[N_CONFIGS];
static unsigned int n_frames;

/* Frames the measured stage did not pass: a benchmark of the rejection path would be wrong. */
static uint64_t n_rejected;
static volatile uint64_t sink;

static inline uint8_t *
frame_at(const struct ring *r, unsigned int i)
{
	return r->mem + (size_t)i * SLOT_LEN + PAYLOAD_OFF;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* (Re)builds every frame of the ring with the next seqs of its gateway. */
static void
sign_ring(struct ring *r)
{
	struct fc_up_fix fixes[FC_WIRE_MAX_PAYLOAD / sizeof(struct fc_up_fix)];

	for (unsigned int i = 0; i < n_frames; i++) {
		struct fc_up_hdr h = {
			.msg_type = FC_UP_FIX_BATCH,
			.gateway_id = r->gateway_id,
			.seq = r->next_seq++,
			.base_time_ns = BASE_TIME_NS,
			.record_count = (uint16_t)r->fixes,
		};
		int len;

		for (unsigned int k = 0; k < r->fixes; k++) {
			fixes[k] = (struct fc_up_fix){
				.tag_id = UINT64_C(0xA4C138F0E100) + k,
				.x_mm = (int32_t)(1000 + 37 * k + i),
				.y_mm = (int32_t)(2000 + 53 * k),
				.z_mm = 1100,
				.dt_us = 100 * k,
				.err_mm = 150,
				.quality = 80,
				.flags = FC_FIX_TECH_UWB,
				.fix_seq = (uint32_t)(i * r->fixes + k),
			};
		}
		len = fc_up_build(frame_at(r, i), SLOT_LEN - PAYLOAD_OFF, &h, fixes, r->key);
		if (len < 0) {
			fprintf(stderr, "bench_codec: fc_up_build: %s\n", strerror(-len));
			exit(1);
		}
		r->len = (uint16_t)len;
	}
}

/* One pass over the ring through the configuration's stage. */
static void
run_pass(const struct config *c)
{
	const struct ring *r = c->ring;
	uint64_t bad = 0, acc = 0;
	struct fc_gateway *gw;
	struct fc_up_view v;

	switch (c->stage) {
	case ST_PARSE:
		for (unsigned int i = 0; i < n_frames; i++) {
			if (fc_up_parse(frame_at(r, i), r->len, &v) != FC_UP_OK) {
				bad++;
				continue;
			}
			acc += v.signed_len;
		}
		break;
	case ST_VERIFY:
		for (unsigned int i = 0; i < n_frames; i++) {
			if (fc_up_parse(frame_at(r, i), r->len, &v) != FC_UP_OK) {
				bad++;
				continue;
			}
			bad += !fc_mac_verify(r->key, v.frame, v.signed_len, v.tag);
		}
		break;
	case ST_ACCEPT:
		for (unsigned int i = 0; i < n_frames; i++) {
			bad += fc_up_accept(table, frame_at(r, i), r->len, BASE_TIME_NS,
					    CLOCK_BOUND_NS, &v, &gw) != FC_UP_OK;
			acc += (uintptr_t)gw;
		}
		break;
	case ST__COUNT:
		break;
	}
	n_rejected += bad;
	sink += acc;
}

/* The untimed pass before a timed one: warms the ring; for accept, fresh seqs instead. */
static void
prepare(const struct config *c)
{
	if (c->stage == ST_ACCEPT)
		sign_ring(c->ring);
	else
		run_pass(c);
}

static void
setup(void)
{
	uint8_t hk[FC_MAC_HMAC_KEY_LEN], sk[FC_MAC_SIPHASH_KEY_LEN];
	unsigned int ri = 0, ci = 0;

	for (unsigned int i = 0; i < sizeof(hk); i++)
		hk[i] = (uint8_t)(0xA0 + i);
	for (unsigned int i = 0; i < sizeof(sk); i++)
		sk[i] = (uint8_t)(0x50 + i);
	table = fc_gw_table_create();
	if (table == NULL) {
		fprintf(stderr, "bench_codec: out of memory\n");
		exit(1);
	}
	/* Gateways 1..N_GATEWAYS, alternating MACs; the rings use the first N_RINGS of them. */
	for (uint32_t id = 1; id <= N_GATEWAYS; id++) {
		int rc;

		if (id % 2 == 1)
			rc = fc_gw_table_add_key(table, id, 1, FC_MAC_HMAC_SHA256_128, hk,
						 sizeof(hk));
		else
			rc = fc_gw_table_add_key(table, id, 0, FC_MAC_SIPHASH24, sk, sizeof(sk));
		if (rc != 0) {
			fprintf(stderr, "bench_codec: fc_gw_table_add_key: %s\n", strerror(-rc));
			exit(1);
		}
	}

	for (unsigned int m = 0; m < N_MACS; m++) {
		for (unsigned int s = 0; s < N_SIZES; s++) {
			struct ring *r = &rings[ri];
			/* The first gateway of the right MAC not taken yet: 1, 3, 5 or 2, 4, 6. */
			uint32_t id = (macs[m].alg == FC_MAC_HMAC_SHA256_128 ? 1 : 2) + 2 * s;
			unsigned int key_id = macs[m].alg == FC_MAC_HMAC_SHA256_128 ? 1 : 0;
			struct fc_gateway *g = fc_gw_table_lookup(table, id);

			r->mac = &macs[m];
			r->gateway_id = id;
			r->key = g != NULL ? fc_gateway_key(g, key_id) : NULL;
			if (r->key == NULL || r->key->alg != macs[m].alg) {
				fprintf(stderr, "bench_codec: no key for gateway %u\n", id);
				exit(1);
			}
			r->fixes = fix_counts[s] ? fix_counts[s] : fc_up_max_fixes(r->key->tag_len);
			r->next_seq = FC_UP_SEQ(1, 1);
			r->mem = aligned_alloc(64, (size_t)n_frames * SLOT_LEN);
			if (r->mem == NULL) {
				fprintf(stderr, "bench_codec: out of memory\n");
				exit(1);
			}
			memset(r->mem, 0, (size_t)n_frames * SLOT_LEN);
			sign_ring(r);
			for (unsigned int st = 0; st < ST__COUNT; st++) {
				configs[ci].ring = r;
				configs[ci].stage = (enum stage)st;
				ci++;
			}
			ri++;
		}
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0, n). */
static double
percentile(const uint64_t *v, unsigned int n, unsigned int pct)
{
	unsigned int rank = (pct * n + 99) / 100;

	return (double)v[rank ? rank - 1 : 0];
}

static int
run_timed(const struct opts *o)
{
	unsigned int warmup = o->smoke ? 1 : WARMUP_PASSES;
	FILE *csv;

	for (unsigned int c = 0; c < N_CONFIGS; c++) {
		configs[c].ns = calloc(o->samples, sizeof(uint64_t));
		if (configs[c].ns == NULL) {
			fprintf(stderr, "bench_codec: out of memory\n");
			return 1;
		}
		for (unsigned int w = 0; w < warmup; w++) {
			prepare(&configs[c]);
			run_pass(&configs[c]);
		}
	}
	n_rejected = 0;
	for (unsigned int s = 0; s < o->samples; s++) {
		for (unsigned int k = 0; k < N_CONFIGS; k++) {
			struct config *c = &configs[(s + k) % N_CONFIGS];
			uint64_t t0;

			prepare(c);
			t0 = now_ns();
			run_pass(c);
			c->ns[s] = now_ns() - t0;
		}
	}
	if (n_rejected != 0) {
		fprintf(stderr, "bench_codec: %" PRIu64 " frames rejected: timing is meaningless\n",
			n_rejected);
		return 1;
	}

	csv = fopen(o->out, "w");
	if (csv == NULL) {
		fprintf(stderr, "bench_codec: %s: %s\n", o->out, strerror(errno));
		return 1;
	}
	fprintf(csv, "mac,fixes_per_frame,stage,ns_per_frame_p50,ns_per_frame_p90,"
		     "ns_per_frame_p99,ns_per_fix_p50\n");
	printf("uplink codec: %u samples of %u frames per configuration, ns (CLOCK_MONOTONIC)\n",
	       o->samples, n_frames);
	printf("%-16s %5s  %-13s %10s %10s %10s %10s\n", "mac", "fixes", "stage", "frame p50",
	       "frame p90", "frame p99", "fix p50");
	for (unsigned int ci = 0; ci < N_CONFIGS; ci++) {
		struct config *c = &configs[ci];
		double p50, p90, p99;

		qsort(c->ns, o->samples, sizeof(uint64_t), cmp_u64);
		p50 = percentile(c->ns, o->samples, 50) / n_frames;
		p90 = percentile(c->ns, o->samples, 90) / n_frames;
		p99 = percentile(c->ns, o->samples, 99) / n_frames;
		fprintf(csv, "%s,%u,%s,%.1f,%.1f,%.1f,%.2f\n", c->ring->mac->name, c->ring->fixes,
			stage_names[c->stage], p50, p90, p99, p50 / c->ring->fixes);
		printf("%-16s %5u  %-13s %10.1f %10.1f %10.1f %10.2f\n", c->ring->mac->name,
		       c->ring->fixes, stage_names[c->stage], p50, p90, p99, p50 / c->ring->fixes);
	}
	if (fclose(csv) != 0) {
		fprintf(stderr, "bench_codec: %s: %s\n", o->out, strerror(errno));
		return 1;
	}
	printf("csv: %s\n", o->out);
	return 0;
}

/*
 * Instruction counts, deterministic where times are not: each configuration's pass is the
 * only code callgrind collects (--collect-atstart=no and a toggle around it), dumped under a
 * label that run_codec.sh divides by the frame count. The warm-up pass first keeps the
 * dynamic linker's first-call symbol binding out of the count.
 */
static int
run_callgrind(void)
{
#ifdef FC_HAVE_CALLGRIND
	if (!RUNNING_ON_VALGRIND)
		fprintf(stderr, "bench_codec: --callgrind outside valgrind counts nothing\n");
	for (unsigned int ci = 0; ci < N_CONFIGS; ci++) {
		struct config *c = &configs[ci];
		char label[128];

		prepare(c);
		run_pass(c);
		prepare(c);
		snprintf(label, sizeof(label), "%s,%u,%s,%u", c->ring->mac->name, c->ring->fixes,
			 stage_names[c->stage], n_frames);
		CALLGRIND_ZERO_STATS;
		CALLGRIND_TOGGLE_COLLECT;
		run_pass(c);
		CALLGRIND_TOGGLE_COLLECT;
		CALLGRIND_DUMP_STATS_AT(label);
		printf("%s\n", label);
	}
	if (n_rejected != 0) {
		fprintf(stderr, "bench_codec: %" PRIu64 " frames rejected\n", n_rejected);
		return 1;
	}
	return 0;
#else
	fprintf(stderr,
		"bench_codec: built without valgrind/callgrind.h; --callgrind unavailable\n");
	return 1;
#endif
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: bench_codec [--out FILE] [--samples N] [--frames N] [--smoke]\n"
		   "       bench_codec --callgrind [--frames N]   (under valgrind --tool=callgrind "
		   "--collect-atstart=no)\n");
}

static unsigned int
parse_count(const char *s, unsigned int max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > max) {
		fprintf(stderr, "bench_codec: '%s': expected a number 1..%u\n", s, max);
		exit(2);
	}
	return (unsigned int)v;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "samples", required_argument, NULL, 's' },
		{ "frames", required_argument, NULL, 'f' },
		{ "smoke", no_argument, NULL, 'S' },
		{ "callgrind", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .out = "codec.csv", .samples = 0, .frames = 0 };
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			o.out = optarg;
			break;
		case 's':
			o.samples = parse_count(optarg, 1000000);
			break;
		case 'f':
			o.frames = parse_count(optarg, 4096); /* 4096 x 2304 B x 6 rings: 57 MB */
			break;
		case 'S':
			o.smoke = 1;
			break;
		case 'C':
			o.callgrind = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	/* Smoke: enough passes to run every path once and write the file, no more. */
	if (o.samples == 0)
		o.samples = o.smoke ? 3 : DEFAULT_SAMPLES;
	n_frames = o.frames ? o.frames : o.smoke ? 4 : DEFAULT_FRAMES;

	setup();
	return o.callgrind ? run_callgrind() : run_timed(&o);
}

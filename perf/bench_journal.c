/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Benchmark of the journal's durability latency: from fc_journal_append() of an award to the
 * moment its producer sees it durable (fc_journal_durable_ticket()), which is when the TX lcore
 * may announce the claim (invariant 7). It measures and reports; it never judges a time
 * (STYLE.md, "Tests").
 *
 * Two loads, each on a journal in --dir (a tmpfs such as /dev/shm, or a disk such as /var/tmp):
 *  - lone: one award at a time (64 contenders, the design's hot spot: 3 144 bytes), the next
 *    one 0..1 ms after the previous became durable, so it meets the idle writer at a random
 *    point of its poll period: poll wait + copy + write + fdatasync + publish.
 *  - load: awards at --rate per second, each followed by the two SCORE records it causes,
 *    appended on schedule whatever the writer does (open loop); the latency of every award is
 *    taken when its ticket is first seen durable. Group commit shows as records per fdatasync.
 * The producer thread spins between appends, as an lcore would, so it sees durability within
 * a fraction of a microsecond. Reported: p50, p90, p99, p99.9 and max, never a mean.
 *
 *   bench_journal --dir DIR [--samples N] [--rate N] [--idle-us N] [--out FILE] [--label L]
 *   bench_journal --dir DIR --smoke --out FILE     a few samples: does it run (CI)
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "fc_journal.h"

#define N_CONTENDERS    64u
#define DEFAULT_SAMPLES 5000u
#define DEFAULT_RATE    2000u /* awards per second in the load run: a busy game is ~10 */
#define T0_NS           UINT64_C(1767225600000000000)

struct opts {
	const char *dir;
	const char *out;
	const char *label;
	unsigned int samples;
	unsigned int rate;
	unsigned int idle_us;
	int smoke;
};

struct result {
	const char *load;
	unsigned int samples;
	double p50, p90, p99, p999, max; /* microseconds */
	uint64_t records, syncs;
	double idle_cpu_pct; /* the idle writer's CPU, lone run only */
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[n], in microseconds. */
static double
pct(const uint64_t *v, unsigned int n, double p)
{
	unsigned int k = (unsigned int)(p / 100.0 * n + 0.5);

	if (k == 0)
		k = 1;
	if (k > n)
		k = n;
	return (double)v[k - 1] / 1000.0;
}

static void
make_award(struct fc_journal_rec *r, struct fc_journal_fix *fx, uint32_t clue)
{
	for (unsigned int i = 0; i < N_CONTENDERS; i++)
		fx[i] = (struct fc_journal_fix){
			.player = (uint16_t)i,
			.flags = i == 0 ? FC_CONT_F_WINNER : 0,
			.gateway_id = 1 + i % 8,
			.meas_time_ns = T0_NS + clue * 1000000ull + i * 1000u,
			.gw_time_ns = T0_NS + clue * 1000000ull + i * 1000u,
			.x_mm = 10000 + (int32_t)i,
			.y_mm = 5000,
			.distance_mm = 5 + i % 15,
			.err_mm = 20,
			.quality = 90,
			.fix_flags = 2,
			.fix_seq = clue + i,
		};
	*r = (struct fc_journal_rec){
		.type = FC_JOURNAL_AWARD,
		.award = { .round_id = 1,
			   .clue_id = clue,
			   .points = 100,
			   .winner = 0,
			   .meas_time_ns = fx[0].meas_time_ns,
			   .decided_ns = fx[0].meas_time_ns,
			   .contenders_total = N_CONTENDERS,
			   .n_fixes = N_CONTENDERS,
			   .fixes = fx },
	};
}

static struct fc_journal *
open_fresh(const struct opts *o, const char *name, char *path, size_t len)
{
	struct fc_journal_opts jo = { .producers = 1,
				      .idle_us = o->idle_us,
				      .max_clues = o->samples + 16 };
	struct fc_journal *j;
	char err[256];

	snprintf(path, len, "%s/%s.%ld", o->dir, name, (long)getpid());
	unlink(path);
	j = fc_journal_open(path, &jo, NULL, err, sizeof(err));
	if (j == NULL)
		fprintf(stderr, "bench_journal: %s\n", err);
	return j;
}

static void
finish(struct result *r, uint64_t *lat, unsigned int n, struct fc_journal *j)
{
	struct fc_journal_stats s;

	fc_journal_stats(j, &s);
	qsort(lat, n, sizeof(*lat), cmp_u64);
	r->samples = n;
	r->p50 = pct(lat, n, 50);
	r->p90 = pct(lat, n, 90);
	r->p99 = pct(lat, n, 99);
	r->p999 = pct(lat, n, 99.9);
	r->max = (double)lat[n - 1] / 1000.0;
	r->records = s.records;
	r->syncs = s.syncs;
}

/* The idle writer's CPU: this thread sleeps, so the process's CPU time is the writer's. */
static double
idle_cpu(void)
{
	struct rusage a, b;
	uint64_t t0 = now_ns(), used;

	getrusage(RUSAGE_SELF, &a);
	usleep(1000000);
	getrusage(RUSAGE_SELF, &b);
	used = (uint64_t)(b.ru_utime.tv_sec - a.ru_utime.tv_sec + b.ru_stime.tv_sec -
			  a.ru_stime.tv_sec) *
		       1000000u +
	       (uint64_t)(b.ru_utime.tv_usec - a.ru_utime.tv_usec + b.ru_stime.tv_usec -
			  a.ru_stime.tv_usec);
	return 100.0 * (double)used * 1000.0 / (double)(now_ns() - t0);
}

static int
run_lone(const struct opts *o, struct result *r)
{
	static struct fc_journal_fix fx[N_CONTENDERS];
	uint64_t *lat = calloc(o->samples, sizeof(*lat));
	uint64_t seed = 0x9E3779B97F4A7C15ull;
	struct fc_journal *j;
	char path[512];

	j = open_fresh(o, "bench_lone", path, sizeof(path));
	if (j == NULL || lat == NULL)
		return -1;
	r->load = "lone";
	r->idle_cpu_pct = o->smoke ? 0 : idle_cpu();
	for (unsigned int i = 0; i < o->samples; i++) {
		struct fc_journal_rec rec;
		uint64_t t, ticket = 0, gap;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		gap = (seed >> 33) % 1000000u;
		for (t = now_ns(); now_ns() - t < gap;)
			;
		make_award(&rec, fx, i + 1);
		t = now_ns();
		if (fc_journal_append(j, 0, &rec, &ticket) != 0)
			return -1;
		while (fc_journal_durable_ticket(j, 0) < ticket)
			;
		lat[i] = now_ns() - t;
	}
	finish(r, lat, o->samples, j);
	free(lat);
	fc_journal_close(j);
	unlink(path);
	return 0;
}

static int
run_load(const struct opts *o, struct result *r)
{
	static struct fc_journal_fix fx[N_CONTENDERS];
	uint64_t *lat = calloc(o->samples, sizeof(*lat));
	uint64_t *sent = calloc(o->samples, sizeof(*sent)); /* append time by award ticket */
	uint64_t period = 1000000000ull / o->rate, start, ticket = 0;
	unsigned int appended = 0, done = 0;
	struct fc_journal *j;
	char path[512];

	j = open_fresh(o, "bench_load", path, sizeof(path));
	if (j == NULL || lat == NULL || sent == NULL)
		return -1;
	r->load = "load";
	r->idle_cpu_pct = 0;
	start = now_ns();
	while (done < o->samples) {
		uint64_t t = now_ns(), d = fc_journal_durable_ticket(j, 0);

		/* an award is ticket 3k+1: its two SCORE records follow it */
		while (done < appended && d >= 3ull * done + 1)
			lat[done] = t - sent[done], done++;
		if (appended < o->samples && t >= start + appended * period) {
			struct fc_journal_rec rec;
			int rc;

			make_award(&rec, fx, appended + 1);
			while ((rc = fc_journal_append(j, 0, &rec, &ticket)) == -ENOBUFS)
				;
			if (rc != 0)
				return -1;
			sent[appended++] = t;
			for (int k = 0; k < 2; k++) {
				rec = (struct fc_journal_rec){
					.type = FC_JOURNAL_SCORE,
					.score = { .round_id = 1,
						   .clue_id = appended,
						   .player = 0,
						   .delta = 100 },
				};
				while ((rc = fc_journal_append(j, 0, &rec, &ticket)) == -ENOBUFS)
					;
				if (rc != 0)
					return -1;
			}
		}
	}
	finish(r, lat, o->samples, j);
	free(lat);
	free(sent);
	fc_journal_close(j);
	unlink(path);
	return 0;
}

static void
report(FILE *f, const struct opts *o, const struct result *r, int header)
{
	if (header)
		fprintf(f,
			"label,dir,load,rate,idle_us,samples,p50_us,p90_us,p99_us,p999_us,max_us,"
			"records,syncs,records_per_sync,idle_writer_cpu_pct\n");
	fprintf(f, "%s,%s,%s,%u,%u,%u,%.1f,%.1f,%.1f,%.1f,%.1f,%" PRIu64 ",%" PRIu64 ",%.2f,%.2f\n",
		o->label, o->dir, r->load, strcmp(r->load, "load") == 0 ? o->rate : 0, o->idle_us,
		r->samples, r->p50, r->p90, r->p99, r->p999, r->max, r->records, r->syncs,
		r->syncs ? (double)r->records / (double)r->syncs : 0.0, r->idle_cpu_pct);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: bench_journal --dir DIR [--samples N] [--rate N] [--idle-us N]\n"
		   "                     [--label L] [--out FILE] [--smoke]\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "label", required_argument, NULL, 'l' },
		{ "samples", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "idle-us", required_argument, NULL, 'i' },
		{ "smoke", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .label = "", .rate = DEFAULT_RATE, .idle_us = 200 };
	struct result lone, load;
	FILE *out = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			o.dir = optarg;
			break;
		case 'o':
			o.out = optarg;
			break;
		case 'l':
			o.label = optarg;
			break;
		case 'n':
			o.samples = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			o.rate = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'i':
			o.idle_us = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'S':
			o.smoke = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (o.dir == NULL || o.rate == 0 || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (o.samples == 0)
		o.samples = o.smoke ? 20 : DEFAULT_SAMPLES;
	if (run_lone(&o, &lone) != 0 || run_load(&o, &load) != 0) {
		fprintf(stderr, "bench_journal: a run failed\n");
		return 1;
	}
	report(stdout, &o, &lone, 1);
	report(stdout, &o, &load, 0);
	if (o.out != NULL) {
		out = fopen(o.out, "w");
		if (out == NULL) {
			fprintf(stderr, "bench_journal: %s: %s\n", o.out, strerror(errno));
			return 1;
		}
		report(out, &o, &lone, 1);
		report(out, &o, &load, 0);
		fclose(out);
	}
	return 0;
}

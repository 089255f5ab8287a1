/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The peer of perf/suite.sh: floorcast's workload served the way a developer would build it
 * without floorcast, on redis-server, driven by this hiredis client.
 *
 * It reads the same floorgen capture floord replays (pcap, Ethernet/IPv4/UDP, uplink frames of
 * docs/protocol.md section 3) and, paced at capture speed (each frame is taken when its capture
 * time comes, relative to the first frame):
 *  - per fix:  GEOADD fc:pos LON LAT p<player>   (pipelined: every frame due at once is one
 *              batch of GEOADDs, then the replies are read);
 *  - per tick (50 ms of capture time, floord's default tick_ms): one GEOSEARCH per clue
 *              (FROMLONLAT BYRADIUS ... ASC WITHDIST) and one PUBLISH fc:map of the tick's map
 *              (the players who moved in the tick: u32 player, i32 x_mm, i32 y_mm each),
 *              pipelined together.
 * It verifies no MAC and does no replay-window or clock check (floord does all three): the
 * peer's cost is a lower bound of what the same checks would cost it.
 *
 * Floor millimetres become degrees at 1e-3 degree per floor metre, so the 52-bit geohash keeps
 * a few millimetres of resolution (1 mm = 1 mm would leave redis 0.6 m cells); a clue's radius
 * is scaled by the same factor (redis's 111 226.29 m per degree).
 *
 * Measured: fix -> stored latency (the fix's scheduled arrival to its GEOADD reply), fixes/s
 * achieved, and the voluntary/involuntary context switches of this client and of redis-server
 * (/proc/PID/task/TID/status, summed over threads) between two marks of the steady state.
 *
 *   peer_client --pcap CAP --roster CSV --port P --redis-pid PID --out JSON
 *               [--clue ID,X_MM,Y_MM,R_MM]... [--tick-ms 50] [--warm-s 1] [--end-s S]
 *               [--timeout-s T]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEG_PER_M       1e-3
#define REDIS_M_PER_DEG 111226.29

struct fix {
	uint32_t player;
	int32_t x, y;
};
struct frame {
	uint64_t t_ns;
	uint32_t first_fix, nfix;
};
struct clue {
	unsigned id;
	int32_t x, y, r;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}
static uint32_t
rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}
static uint16_t
rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static uint64_t *tags;
static uint32_t *tag_player;
static size_t ntags;

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void
load_roster(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t cap = 1024;
	uint64_t *pairs = malloc(cap * 2 * sizeof(*pairs));

	if (!f) {
		perror(path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long tag;
		unsigned player;
		if (line[0] == '#' || sscanf(line, "%llx,%u", &tag, &player) != 2)
			continue;
		if (ntags == cap) {
			cap *= 2;
			pairs = realloc(pairs, cap * 2 * sizeof(*pairs));
		}
		pairs[2 * ntags] = tag;
		pairs[2 * ntags + 1] = player;
		ntags++;
	}
	fclose(f);
	qsort(pairs, ntags, 2 * sizeof(*pairs), cmp_u64);
	tags = malloc(ntags * sizeof(*tags));
	tag_player = malloc(ntags * sizeof(*tag_player));
	for (size_t i = 0; i < ntags; i++) {
		tags[i] = pairs[2 * i];
		tag_player[i] = (uint32_t)pairs[2 * i + 1];
	}
	free(pairs);
}

static int
player_of(uint64_t tag, uint32_t *player)
{
	size_t lo = 0, hi = ntags;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (tags[mid] < tag)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ntags && tags[lo] == tag) {
		*player = tag_player[lo];
		return 1;
	}
	return 0;
}

static struct frame *frames;
static size_t nframes;
static struct fix *fixes;
static size_t nfixes;
static uint64_t cap_t0; /* capture ns of the first frame */

static void
load_pcap(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t gh[24], rh[16], buf[65536];
	size_t fcap = 1 << 16, xcap = 1 << 20;
	int nano;

	if (!f || fread(gh, 1, 24, f) != 24) {
		perror(path);
		exit(2);
	}
	nano = rd32(gh) == 0xa1b23c4d;
	frames = malloc(fcap * sizeof(*frames));
	fixes = malloc(xcap * sizeof(*fixes));
	while (fread(rh, 1, 16, f) == 16) {
		uint32_t incl = rd32(rh + 8);
		uint64_t t = (uint64_t)rd32(rh) * 1000000000ull +
			     (uint64_t)rd32(rh + 4) * (nano ? 1 : 1000);
		const uint8_t *p = buf;
		size_t n = incl;
		if (incl > sizeof(buf) || fread(buf, 1, incl, f) != incl)
			break;
		if (nframes == 0)
			cap_t0 = t;
		/* Ethernet, optional 802.1Q, IPv4, UDP: anything else is not ours (floord drops it). */
		if (n < 14)
			continue;
		uint16_t et = (uint16_t)(p[12] << 8 | p[13]);
		p += 14;
		n -= 14;
		if (et == 0x8100 && n >= 4) {
			et = (uint16_t)(p[2] << 8 | p[3]);
			p += 4;
			n -= 4;
		}
		if (et != 0x0800 || n < 20 || p[9] != 17)
			continue;
		size_t ihl = (size_t)(p[0] & 15) * 4;
		if (n < ihl + 8)
			continue;
		p += ihl + 8;
		n -= ihl + 8;
		if (n < 32 || rd16(p) != 0x4746 || p[3] != 1)
			continue;
		uint16_t cnt = rd16(p + 24), rlen = rd16(p + 26);
		if (rlen < 32 || 32 + (size_t)cnt * rlen > n)
			continue;
		if (nframes == fcap) {
			fcap *= 2;
			frames = realloc(frames, fcap * sizeof(*frames));
		}
		frames[nframes] = (struct frame){ t, (uint32_t)nfixes, 0 };
		for (unsigned i = 0; i < cnt; i++) {
			const uint8_t *r = p + 32 + (size_t)i * rlen;
			uint32_t pl;
			if (!player_of(rd64(r), &pl))
				continue;
			if (nfixes == xcap) {
				xcap *= 2;
				fixes = realloc(fixes, xcap * sizeof(*fixes));
			}
			fixes[nfixes++] =
				(struct fix){ pl, (int32_t)rd32(r + 8), (int32_t)rd32(r + 12) };
			frames[nframes].nfix++;
		}
		nframes++;
	}
	fclose(f);
}

struct ctx {
	unsigned long vol, invol;
};

static void
read_ctx(int pid, struct ctx *c)
{
	char dpath[64], path[384], line[256];
	DIR *d;
	struct dirent *e;

	c->vol = c->invol = 0;
	snprintf(dpath, sizeof(dpath), "/proc/%d/task", pid);
	if (!(d = opendir(dpath)))
		return;
	while ((e = readdir(d))) {
		FILE *f;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/status", dpath, e->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned long v;
			if (sscanf(line, "voluntary_ctxt_switches: %lu", &v) == 1)
				c->vol += v;
			else if (sscanf(line, "nonvoluntary_ctxt_switches: %lu", &v) == 1)
				c->invol += v;
		}
		fclose(f);
	}
	closedir(d);
}

static int
cmp_lat(const void *a, const void *b)
{
	return cmp_u64(a, b);
}

static void
expect_reply(redisContext *c, int type_ok)
{
	redisReply *r;
	if (redisGetReply(c, (void **)&r) != REDIS_OK) {
		fprintf(stderr, "redis: %s\n", c->errstr);
		exit(1);
	}
	if (r->type == REDIS_REPLY_ERROR || (type_ok && r->type != type_ok)) {
		fprintf(stderr, "redis error: %s\n", r->str ? r->str : "?");
		exit(1);
	}
	freeReplyObject(r);
}

int
main(int argc, char **argv)
{
	const char *pcap = NULL, *roster = NULL, *out = NULL;
	int port = 0, rpid = 0;
	double tick_ms = 50, warm_s = 1, end_s = -1, timeout_s = -1;
	struct clue clues[64];
	int nclues = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			fprintf(stderr, "%s needs a value\n", a);
			return 2;
		}
		if (!strcmp(a, "--pcap"))
			pcap = v;
		else if (!strcmp(a, "--roster"))
			roster = v;
		else if (!strcmp(a, "--out"))
			out = v;
		else if (!strcmp(a, "--port"))
			port = atoi(v);
		else if (!strcmp(a, "--redis-pid"))
			rpid = atoi(v);
		else if (!strcmp(a, "--tick-ms"))
			tick_ms = atof(v);
		else if (!strcmp(a, "--warm-s"))
			warm_s = atof(v);
		else if (!strcmp(a, "--end-s"))
			end_s = atof(v);
		else if (!strcmp(a, "--timeout-s"))
			timeout_s = atof(v);
		else if (!strcmp(a, "--clue") && nclues < 64) {
			if (sscanf(v, "%u,%d,%d,%d", &clues[nclues].id, &clues[nclues].x,
				   &clues[nclues].y, &clues[nclues].r) == 4)
				nclues++;
		} else {
			fprintf(stderr, "unknown argument %s\n", a);
			return 2;
		}
		i++;
	}
	if (!pcap || !roster || !out || !port || !rpid) {
		fprintf(stderr,
			"usage: peer_client --pcap CAP --roster CSV --port P --redis-pid PID --out JSON [--clue ID,X,Y,R]...\n");
		return 2;
	}
	load_roster(roster);
	load_pcap(pcap);
	if (nframes == 0) {
		fprintf(stderr, "no frames\n");
		return 1;
	}
	uint64_t span = frames[nframes - 1].t_ns - cap_t0;
	if (end_s < 0)
		end_s = (double)span / 1e9 - 0.5;
	if (timeout_s < 0)
		timeout_s = 4.0 * (double)span / 1e9 + 10;

	redisContext *c = redisConnect("127.0.0.1", port);
	if (!c || c->err) {
		fprintf(stderr, "connect: %s\n", c ? c->errstr : "?");
		return 1;
	}
	{
		redisReply *r = redisCommand(c, "FLUSHALL");
		if (!r) {
			fprintf(stderr, "FLUSHALL: %s\n", c->errstr);
			return 1;
		}
		freeReplyObject(r);
	}

	size_t maxplayer = 0;
	for (size_t i = 0; i < ntags; i++)
		if (tag_player[i] + 1 > maxplayer)
			maxplayer = tag_player[i] + 1;
	uint8_t *dirty = calloc(maxplayer, 1);
	uint32_t *dlist = malloc(maxplayer * sizeof(*dlist));
	int32_t *px = calloc(maxplayer, 4), *py = calloc(maxplayer, 4);
	uint8_t *map = malloc(maxplayer * 12 + 16);
	size_t ndirty = 0;
	uint64_t *lat = malloc(nfixes * sizeof(*lat));
	uint64_t *sched = malloc(nfixes * sizeof(*sched));
	size_t nlat = 0;
	uint64_t tick_ns = (uint64_t)(tick_ms * 1e6);
	uint64_t cur_tick = cap_t0 / tick_ns;
	unsigned long ticks = 0, searches = 0, hits = 0, map_bytes = 0;
	struct ctx cs0 = { 0 }, cs1 = { 0 }, rs0 = { 0 }, rs1 = { 0 };
	uint64_t mark0 = 0, mark1 = 0;
	int stopped = 0;
	char member[32], lon[32], lat_s[32], rad[32];

	uint64_t start = now_ns() + 20000000ull; /* 20 ms to settle */
	size_t fi = 0;
	uint64_t last_reply = start;
	while (fi < nframes) {
		uint64_t due = start + (frames[fi].t_ns - cap_t0);
		uint64_t t = now_ns();
		if (t < due) {
			struct timespec ts = { (time_t)(due / 1000000000ull),
					       (long)(due % 1000000000ull) };
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
			continue;
		}
		if (!mark0 && t - start >= (uint64_t)(warm_s * 1e9)) {
			mark0 = t;
			read_ctx(getpid(), &cs0);
			read_ctx(rpid, &rs0);
		}
		if (mark0 && !mark1 && t - start >= (uint64_t)(end_s * 1e9)) {
			mark1 = t;
			read_ctx(getpid(), &cs1);
			read_ctx(rpid, &rs1);
		}
		if ((double)(t - start) > timeout_s * 1e9) {
			stopped = 1;
			break;
		}
		/* Tick boundary on the capture clock: the clues' searches and the tick's map. */
		uint64_t ftick = frames[fi].t_ns / tick_ns;
		if (ftick > cur_tick) {
			size_t o = 0;
			for (size_t k = 0; k < ndirty; k++) {
				uint32_t p = dlist[k];
				memcpy(map + o, &p, 4);
				memcpy(map + o + 4, &px[p], 4);
				memcpy(map + o + 8, &py[p], 4);
				o += 12;
				dirty[p] = 0;
			}
			ndirty = 0;
			for (int k = 0; k < nclues; k++) {
				snprintf(lon, sizeof(lon), "%.9f", clues[k].x / 1000.0 * DEG_PER_M);
				snprintf(lat_s, sizeof(lat_s), "%.9f",
					 clues[k].y / 1000.0 * DEG_PER_M);
				snprintf(rad, sizeof(rad), "%.4f",
					 clues[k].r / 1000.0 * DEG_PER_M * REDIS_M_PER_DEG);
				redisAppendCommand(
					c,
					"GEOSEARCH fc:pos FROMLONLAT %s %s BYRADIUS %s m ASC WITHDIST",
					lon, lat_s, rad);
			}
			redisAppendCommand(c, "PUBLISH fc:map %b", map, o);
			for (int k = 0; k < nclues; k++) {
				redisReply *r;
				if (redisGetReply(c, (void **)&r) != REDIS_OK) {
					fprintf(stderr, "redis: %s\n", c->errstr);
					return 1;
				}
				if (r->type == REDIS_REPLY_ARRAY)
					hits += r->elements;
				freeReplyObject(r);
				searches++;
			}
			expect_reply(c, 0);
			map_bytes += o;
			ticks++;
			cur_tick = ftick;
		}
		/* Every frame due now is one batch (floord takes a burst of up to 32 frames). */
		size_t first = nlat, nf = 0;
		while (fi < nframes && nf < 32 && start + (frames[fi].t_ns - cap_t0) <= t &&
		       frames[fi].t_ns / tick_ns == cur_tick) {
			uint64_t d = start + (frames[fi].t_ns - cap_t0);
			for (uint32_t k = 0; k < frames[fi].nfix; k++) {
				const struct fix *x = &fixes[frames[fi].first_fix + k];
				snprintf(member, sizeof(member), "p%u", x->player);
				snprintf(lon, sizeof(lon), "%.9f", x->x / 1000.0 * DEG_PER_M);
				snprintf(lat_s, sizeof(lat_s), "%.9f", x->y / 1000.0 * DEG_PER_M);
				redisAppendCommand(c, "GEOADD fc:pos %s %s %s", lon, lat_s, member);
				sched[nlat++] = d;
				px[x->player] = x->x;
				py[x->player] = x->y;
				if (!dirty[x->player]) {
					dirty[x->player] = 1;
					dlist[ndirty++] = x->player;
				}
			}
			fi++;
			nf++;
		}
		for (size_t k = first; k < nlat; k++) {
			expect_reply(c, REDIS_REPLY_INTEGER);
			last_reply = now_ns();
			lat[k] = last_reply - sched[k];
		}
	}
	if (!mark1) {
		mark1 = now_ns();
		read_ctx(getpid(), &cs1);
		read_ctx(rpid, &rs1);
	}
	if (!mark0) {
		mark0 = start;
	}
	double elapsed = (double)(last_reply - start) / 1e9;
	double win = (double)(mark1 - mark0) / 1e9;
	qsort(lat, nlat, sizeof(*lat), cmp_lat);
#define Q(q) (nlat ? lat[(size_t)((double)(nlat - 1) * (q))] : 0)
	FILE *f = fopen(out, "w");
	if (!f) {
		perror(out);
		return 1;
	}
	fprintf(f,
		"{\"fixes_in_capture\": %zu, \"fixes_stored\": %zu, \"stopped_at_timeout\": %d,\n"
		" \"capture_s\": %.3f, \"elapsed_s\": %.3f, \"fixes_per_s\": %.0f,\n"
		" \"latency_ns\": {\"samples\": %zu, \"p50\": %" PRIu64 ", \"p90\": %" PRIu64
		", \"p99\": %" PRIu64 ", \"p999\": %" PRIu64 ", \"max\": %" PRIu64 "},\n"
		" \"ticks\": %lu, \"geosearches\": %lu, \"geosearch_hits\": %lu, \"map_bytes\": %lu,\n"
		" \"window_s\": %.3f, \"client_vol_cs\": %lu, \"client_invol_cs\": %lu,"
		" \"redis_vol_cs\": %lu, \"redis_invol_cs\": %lu}\n",
		nfixes, nlat, stopped, (double)span / 1e9, elapsed,
		elapsed > 0 ? (double)nlat / elapsed : 0, nlat, Q(0.5), Q(0.9), Q(0.99), Q(0.999),
		nlat ? lat[nlat - 1] : 0, ticks, searches, hits, map_bytes, win, cs1.vol - cs0.vol,
		cs1.invol - cs0.invol, rs1.vol - rs0.vol, rs1.invol - rs0.invol);
	fclose(f);
	redisFree(c);
	return 0;
}

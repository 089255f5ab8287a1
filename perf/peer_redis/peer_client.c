/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The peer of perf/suite.sh: floorcast's workload served the way a developer would build it
 * without floorcast, on redis-server, driven by this hiredis client.
 *
 * It reads the same floorgen capture floord replays (pcap, Ethernet/IPv4/UDP, uplink frames of
 * docs/protocol.md section 3) into memory, then, paced at capture speed (each frame is taken when
 * its capture time comes, relative to the first frame), per frame taken:
 *  - checks the header and verifies the gateway's MAC with libsodium, as floord's RX does
 *    (SipHash-2-4 or HMAC-SHA-256-128 with the key of the keys file named by the frame's
 *    gateway_id and key_id; the HMAC key block is precomputed, as in lib/wire/mac.c); a frame
 *    that fails is dropped and counted. There is no replay window and no clock check: those
 *    cost floord ~10 ns a frame (perf/README.md, "Codec") and are left out;
 *  - maps each fix's tag to its player (binary search of the sorted roster);
 *  - GEOADD fc:pos LON LAT p<player> per fix (pipelined: every frame due at once, up to 32 as
 *    floord's RX burst, is one batch of GEOADDs, then the replies are read);
 * and per tick (50 ms of capture time, floord's default tick_ms), pipelined together: one
 * GEOSEARCH per open clue (FROMLONLAT BYRADIUS ... ASC WITHDIST COUNT 1: the nearest player in
 * the disc claims it, which is the distance policy without floord's settle window), one
 * PUBLISH fc:claim "clue,player" per claim, and one PUBLISH fc:map of the tick's map (the
 * players who moved in the tick: u32 player, i32 x_mm, i32 y_mm each). A claimed clue reopens
 * respawn_s after its claim on the capture clock.
 *
 * Floor millimetres become degrees at 1e-3 degree per floor metre, so the 52-bit geohash keeps
 * a few millimetres of resolution (1 mm = 1 mm would leave redis 0.6 m cells); a clue's radius
 * is scaled by the same factor (redis's 111 226.29 m per degree).
 *
 * Measured (CLOCK_MONOTONIC): fix -> stored latency (the fix's scheduled arrival to its GEOADD
 * reply); claim latency (the scheduled arrival of the claimant's last stored fix to the claim's
 * PUBLISH reply, so it includes the wait for the tick); fixes/s achieved; between two marks of
 * the steady state, the voluntary/involuntary context switches of this client and of
 * redis-server (/proc/PID/task/TID/status, summed over threads) and, with --alloc-dir, their
 * allocator calls (the counters perf/peer_redis/alloc_count.c keeps in DIR/alloc.PID).
 *
 *   peer_client --pcap CAP --roster CSV --keys KEYS --port P --redis-pid PID --out JSON
 *               [--clue ID,X_MM,Y_MM,R_MM[,RESPAWN_S]]... [--tick-ms 50] [--warm-s 1]
 *               [--end-s S] [--timeout-s T] [--alloc-dir DIR]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEG_PER_M       1e-3
#define REDIS_M_PER_DEG 111226.29
#define MAX_KEYS        1024
#define BURST           32

struct frame {
	uint64_t t_ns;
	uint32_t off, len; /* the UDP payload in the arena */
};
struct clue {
	unsigned id;
	int32_t x, y, r;
	double respawn_s;
	int decided;
	uint64_t reopen_tick;
};
struct key {
	uint32_t gw;
	uint8_t key_id, alg; /* 1 HMAC-SHA-256-128, 2 SipHash-2-4 (enum fc_up_mac_alg) */
	uint8_t sip[crypto_shorthash_siphash24_KEYBYTES];
	crypto_auth_hmacsha256_state hmac;
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

static struct key keys[MAX_KEYS];
static size_t nkeys;

/* The keys file of docs/protocol.md section 3.9: "gateway_id key_id algorithm hexkey". */
static void
load_keys(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512], alg[64], hex[256];
	long gw;
	unsigned kid;

	if (!f) {
		perror(path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f) && nkeys < MAX_KEYS) {
		char *hash = strchr(line, '#');
		uint8_t raw[64];
		size_t raw_len;
		struct key *k = &keys[nkeys];
		if (hash)
			*hash = '\0';
		if (sscanf(line, "%li %u %63s %255s", &gw, &kid, alg, hex) != 4)
			continue;
		if (sodium_hex2bin(raw, sizeof(raw), hex, strlen(hex), NULL, &raw_len, NULL) != 0)
			continue;
		k->gw = (uint32_t)gw;
		k->key_id = (uint8_t)kid;
		if (!strcmp(alg, "siphash24") && raw_len == sizeof(k->sip)) {
			k->alg = 2;
			memcpy(k->sip, raw, sizeof(k->sip));
		} else if (!strcmp(alg, "hmac-sha256-128") && raw_len == 32) {
			k->alg = 1;
			crypto_auth_hmacsha256_init(&k->hmac, raw, raw_len);
		} else {
			continue;
		}
		nkeys++;
	}
	fclose(f);
}

static const struct key *
key_of(uint32_t gw, uint8_t key_id)
{
	for (size_t i = 0; i < nkeys; i++)
		if (keys[i].gw == gw && keys[i].key_id == key_id)
			return &keys[i];
	return NULL;
}

/* Header checks and the MAC, as fc_up_parse() + fc_mac_verify(); 1 if the frame is good. */
static int
verify_frame(const uint8_t *p, size_t n)
{
	const struct key *k;
	size_t tag_len, signed_len;
	uint8_t want[crypto_auth_hmacsha256_BYTES];

	if (n < 32 || rd16(p) != 0x4746 || p[2] != 1 || p[3] != 1)
		return 0;
	k = key_of(rd32(p + 4), p[28]);
	if (!k || k->alg != p[29])
		return 0;
	tag_len = k->alg == 1 ? 16 : crypto_shorthash_siphash24_BYTES;
	if (32 + (size_t)rd16(p + 24) * rd16(p + 26) + tag_len != n)
		return 0;
	signed_len = n - tag_len;
	if (k->alg == 1) {
		crypto_auth_hmacsha256_state st = k->hmac;
		crypto_auth_hmacsha256_update(&st, p, signed_len);
		crypto_auth_hmacsha256_final(&st, want);
	} else {
		crypto_shorthash_siphash24(want, p, signed_len, k->sip);
	}
	return sodium_memcmp(want, p + signed_len, tag_len) == 0;
}

static struct frame *frames;
static size_t nframes;
static uint8_t *arena;
static size_t arena_len;
static size_t nfixes;   /* fix records in the capture */
static uint64_t cap_t0; /* capture ns of the first frame */

/* The UDP payloads of the capture's uplink frames, in memory: no parsing beyond UDP here. */
static void
load_pcap(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t gh[24], rh[16], buf[65536];
	size_t fcap = 1 << 16, acap = 1 << 24;
	int nano;

	if (!f || fread(gh, 1, 24, f) != 24) {
		perror(path);
		exit(2);
	}
	nano = rd32(gh) == 0xa1b23c4d;
	frames = malloc(fcap * sizeof(*frames));
	arena = malloc(acap);
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
		if (nframes == fcap) {
			fcap *= 2;
			frames = realloc(frames, fcap * sizeof(*frames));
		}
		while (arena_len + n > acap) {
			acap *= 2;
			arena = realloc(arena, acap);
		}
		memcpy(arena + arena_len, p, n);
		frames[nframes++] = (struct frame){ t, (uint32_t)arena_len, (uint32_t)n };
		arena_len += n;
		if (n >= 32 && rd16(p) == 0x4746 && p[3] == 1)
			nfixes += rd16(p + 24);
	}
	fclose(f);
}

struct ctx {
	unsigned long vol, invol;
	uint64_t allocs;
};

static const char *alloc_dir;

static void
read_ctx(int pid, struct ctx *c)
{
	char dpath[64], path[384], line[256];
	DIR *d;
	struct dirent *e;

	c->vol = c->invol = 0;
	c->allocs = 0;
	if (alloc_dir) {
		FILE *f;
		snprintf(path, sizeof(path), "%s/alloc.%d", alloc_dir, pid);
		if ((f = fopen(path, "rb"))) {
			if (fread(&c->allocs, 8, 1, f) != 1)
				c->allocs = 0;
			fclose(f);
		}
	}
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

static redisReply *
get_reply(redisContext *c)
{
	redisReply *r;
	if (redisGetReply(c, (void **)&r) != REDIS_OK) {
		fprintf(stderr, "redis: %s\n", c->errstr);
		exit(1);
	}
	if (r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "redis error: %s\n", r->str ? r->str : "?");
		exit(1);
	}
	return r;
}

static void
print_quantiles(FILE *f, const char *name, uint64_t *v, size_t n)
{
	static const double q[] = { 0.5, 0.9, 0.95, 0.99, 0.999 };
	static const char *const qn[] = { "p50", "p90", "p95", "p99", "p999" };

	qsort(v, n, sizeof(*v), cmp_u64);
	fprintf(f, " \"%s\": {\"samples\": %zu", name, n);
	for (unsigned i = 0; i < 5; i++)
		fprintf(f, ", \"%s\": %" PRIu64, qn[i],
			n ? v[(size_t)((double)(n - 1) * q[i])] : 0);
	fprintf(f, ", \"max\": %" PRIu64 "},\n", n ? v[n - 1] : 0);
}

int
main(int argc, char **argv)
{
	const char *pcap = NULL, *roster = NULL, *keyfile = NULL, *out = NULL;
	int port = 0, rpid = 0;
	double tick_ms = 50, warm_s = 1, end_s = -1, timeout_s = -1;
	struct clue clues[256];
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
		else if (!strcmp(a, "--keys"))
			keyfile = v;
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
		else if (!strcmp(a, "--alloc-dir"))
			alloc_dir = v;
		else if (!strcmp(a, "--clue") && nclues < 256) {
			struct clue *k = &clues[nclues];
			memset(k, 0, sizeof(*k));
			if (sscanf(v, "%u,%d,%d,%d,%lf", &k->id, &k->x, &k->y, &k->r,
				   &k->respawn_s) >= 4)
				nclues++;
		} else {
			fprintf(stderr, "unknown argument %s\n", a);
			return 2;
		}
		i++;
	}
	if (!pcap || !roster || !keyfile || !out || !port || !rpid) {
		fprintf(stderr, "usage: peer_client --pcap CAP --roster CSV --keys KEYS --port P "
				"--redis-pid PID --out JSON [--clue ID,X,Y,R[,RESPAWN_S]]...\n");
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "sodium_init failed\n");
		return 1;
	}
	load_roster(roster);
	load_keys(keyfile);
	load_pcap(pcap);
	if (nframes == 0 || nkeys == 0) {
		fprintf(stderr, "no frames or no keys\n");
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
	redisAppendCommand(c, "FLUSHALL");
	freeReplyObject(get_reply(c));

	size_t maxplayer = 0;
	for (size_t i = 0; i < ntags; i++)
		if (tag_player[i] + 1 > maxplayer)
			maxplayer = tag_player[i] + 1;
	uint8_t *dirty = calloc(maxplayer, 1);
	uint32_t *dlist = malloc(maxplayer * sizeof(*dlist));
	int32_t *px = calloc(maxplayer, 4), *py = calloc(maxplayer, 4);
	uint64_t *last_due = calloc(maxplayer, 8);
	uint8_t *map = malloc(maxplayer * 12 + 16);
	size_t ndirty = 0;
	uint64_t *lat = malloc((nfixes + 1) * sizeof(*lat));
	uint64_t *sched = malloc((nfixes + 1) * sizeof(*sched));
	size_t nlat = 0, claim_cap = 1024, nclaim = 0;
	uint64_t *claim_lat = malloc(claim_cap * sizeof(*claim_lat));
	uint64_t tick_ns = (uint64_t)(tick_ms * 1e6);
	uint64_t cur_tick = cap_t0 / tick_ns;
	unsigned long ticks = 0, searches = 0, map_bytes = 0, bad_mac = 0, unknown = 0;
	struct ctx cs0 = { 0 }, cs1 = { 0 }, rs0 = { 0 }, rs1 = { 0 };
	uint64_t mark0 = 0, mark1 = 0;
	int stopped = 0;
	char member[32], lon[32], lat_s[32], rad[32];
	int claim_of[256];
	uint32_t claimant[256];

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
		/* Tick boundary on the capture clock: the clues' searches, claims and the map. */
		uint64_t ftick = frames[fi].t_ns / tick_ns;
		if (ftick > cur_tick) {
			size_t o = 0;
			int nsearch = 0;
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
				struct clue *q = &clues[k];
				if (q->decided && ftick >= q->reopen_tick)
					q->decided = 0;
				if (q->decided)
					continue;
				snprintf(lon, sizeof(lon), "%.9f", q->x / 1000.0 * DEG_PER_M);
				snprintf(lat_s, sizeof(lat_s), "%.9f", q->y / 1000.0 * DEG_PER_M);
				snprintf(rad, sizeof(rad), "%.4f",
					 q->r / 1000.0 * DEG_PER_M * REDIS_M_PER_DEG);
				redisAppendCommand(
					c,
					"GEOSEARCH fc:pos FROMLONLAT %s %s BYRADIUS %s m "
					"ASC COUNT 1 WITHDIST",
					lon, lat_s, rad);
				claim_of[nsearch++] = k;
			}
			redisAppendCommand(c, "PUBLISH fc:map %b", map, o);
			int nclaims = 0;
			for (int k = 0; k < nsearch; k++) {
				redisReply *r = get_reply(c);
				unsigned pl;
				if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
				    r->element[0]->type == REDIS_REPLY_ARRAY &&
				    r->element[0]->elements > 0 &&
				    sscanf(r->element[0]->element[0]->str, "p%u", &pl) == 1 &&
				    pl < maxplayer) {
					struct clue *q = &clues[claim_of[k]];
					q->decided = 1;
					q->reopen_tick =
						ftick + 1 +
						(uint64_t)(q->respawn_s * 1e9 / (double)tick_ns);
					if (q->respawn_s <= 0)
						q->reopen_tick = UINT64_MAX;
					claim_of[nclaims] = claim_of[k];
					claimant[nclaims++] = pl;
				}
				freeReplyObject(r);
				searches++;
			}
			freeReplyObject(get_reply(c));
			for (int k = 0; k < nclaims; k++)
				redisAppendCommand(c, "PUBLISH fc:claim %u,%u",
						   clues[claim_of[k]].id, claimant[k]);
			for (int k = 0; k < nclaims; k++) {
				freeReplyObject(get_reply(c));
				if (nclaim == claim_cap) {
					claim_cap *= 2;
					claim_lat =
						realloc(claim_lat, claim_cap * sizeof(*claim_lat));
				}
				claim_lat[nclaim++] = now_ns() - last_due[claimant[k]];
			}
			map_bytes += o;
			ticks++;
			cur_tick = ftick;
		}
		/* Every frame due now is one batch (floord takes a burst of up to 32 frames). */
		size_t first = nlat, nf = 0;
		while (fi < nframes && nf < BURST && start + (frames[fi].t_ns - cap_t0) <= t &&
		       frames[fi].t_ns / tick_ns == cur_tick) {
			uint64_t d = start + (frames[fi].t_ns - cap_t0);
			const uint8_t *p = arena + frames[fi].off;
			fi++;
			nf++;
			if (!verify_frame(p, frames[fi - 1].len)) {
				bad_mac++;
				continue;
			}
			uint16_t cnt = rd16(p + 24), rlen = rd16(p + 26);
			for (unsigned k = 0; k < cnt; k++) {
				const uint8_t *r = p + 32 + (size_t)k * rlen;
				uint32_t pl;
				int32_t x = (int32_t)rd32(r + 8), y = (int32_t)rd32(r + 12);
				if (!player_of(rd64(r), &pl)) {
					unknown++;
					continue;
				}
				snprintf(member, sizeof(member), "p%u", pl);
				snprintf(lon, sizeof(lon), "%.9f", x / 1000.0 * DEG_PER_M);
				snprintf(lat_s, sizeof(lat_s), "%.9f", y / 1000.0 * DEG_PER_M);
				redisAppendCommand(c, "GEOADD fc:pos %s %s %s", lon, lat_s, member);
				sched[nlat++] = d;
				px[pl] = x;
				py[pl] = y;
				last_due[pl] = d;
				if (!dirty[pl]) {
					dirty[pl] = 1;
					dlist[ndirty++] = pl;
				}
			}
		}
		for (size_t k = first; k < nlat; k++) {
			redisReply *r = get_reply(c);
			if (r->type != REDIS_REPLY_INTEGER) {
				fprintf(stderr, "GEOADD: unexpected reply type %d\n", r->type);
				return 1;
			}
			freeReplyObject(r);
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
	FILE *f = fopen(out, "w");
	if (!f) {
		perror(out);
		return 1;
	}
	fprintf(f,
		"{\"fixes_in_capture\": %zu, \"fixes_stored\": %zu, \"stopped_at_timeout\": %d,\n"
		" \"frames\": %zu, \"frames_bad\": %lu, \"unknown_tags\": %lu,\n"
		" \"capture_s\": %.3f, \"elapsed_s\": %.3f, \"fixes_per_s\": %.0f,\n",
		nfixes, nlat, stopped, nframes, bad_mac, unknown, (double)span / 1e9, elapsed,
		elapsed > 0 ? (double)nlat / elapsed : 0);
	print_quantiles(f, "latency_ns", lat, nlat);
	print_quantiles(f, "claim_latency_ns", claim_lat, nclaim);
	fprintf(f,
		" \"ticks\": %lu, \"geosearches\": %lu, \"claims\": %zu, \"map_bytes\": %lu,\n"
		" \"window_s\": %.3f, \"client_vol_cs\": %lu, \"client_invol_cs\": %lu,"
		" \"redis_vol_cs\": %lu, \"redis_invol_cs\": %lu,"
		" \"allocs_counted\": %d, \"client_allocs\": %" PRIu64
		", \"redis_allocs\": %" PRIu64 "}\n",
		ticks, searches, nclaim, map_bytes, win, cs1.vol - cs0.vol, cs1.invol - cs0.invol,
		rs1.vol - rs0.vol, rs1.invol - rs0.invol, alloc_dir != NULL,
		cs1.allocs - cs0.allocs, rs1.allocs - rs0.allocs);
	fclose(f);
	redisFree(c);
	return 0;
}

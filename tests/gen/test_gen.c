/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * floorgen's engine (lib/gen): small games generated into pcap files, read back with libpcap
 * and held against the spec and the model: every frame passes the receive path floord runs,
 * fix rates and fix_seq runs are whole, nobody walks faster than 1.5 m/s or leaves the floor,
 * the summary says what the capture holds, and every hostile frame is refused for the reason
 * the summary gives. No EAL: the generator needs none.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pcap/pcap.h>
#include <sodium.h>

#include "fc_config.h"
#include "fc_game.h"
#include "fc_gateways.h"
#include "fc_gen.h"
#include "fc_pkt.h"
#include "fc_uplink.h"

#define DST_IP                0xC6120001u /* 198.18.0.1 */
/* SHA-256 of the_default_capture_is_pinned's capture, made before the scenario file existed */
#define PINNED_DEFAULT_SHA256 "12fda3d1c9be395a053b7925f83d33791826c706efee9a61b7946ff2475163d7"
#define DST_PORT              47474u
#define BOUND_NS              2000000000ull

static char dir[64];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fc-gen-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(determinism, .init = setup, .fini = teardown);
TestSuite(capture, .init = setup, .fini = teardown);
TestSuite(motion, .init = setup, .fini = teardown);
TestSuite(summary, .init = setup, .fini = teardown);
TestSuite(crowded, .init = setup, .fini = teardown);
TestSuite(hostile, .init = setup, .fini = teardown);
TestSuite(fixtures, .init = setup, .fini = teardown);
TestSuite(params, .init = setup, .fini = teardown);
TestSuite(cli, .init = setup, .fini = teardown);
TestSuite(live, .init = setup, .fini = teardown);
TestSuite(scenario, .init = setup, .fini = teardown);
TestSuite(impair, .init = setup, .fini = teardown);

static const char *
in_dir(const char *name)
{
	static char buf[8][160];
	static unsigned int next;
	char *p = buf[next++ % 8];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
	return p;
}

/* --- a game: fixture roster and keys, generated, read back ---------------------------------- */

struct frame {
	uint64_t ts_ns;
	uint32_t len;
	uint8_t *data;
};

/* One fix record of an accepted frame. */
struct seen {
	uint64_t tag_id;
	uint64_t meas_ns;
	uint32_t fix_seq;
	int32_t x_mm;
	int32_t y_mm;
	uint32_t gw;
	uint32_t frame;
};

struct game {
	struct fc_gen_params p;
	struct fc_roster_entry roster[512];
	struct fc_gw_table *keys;
	struct fc_gen *g;
	const struct fc_gen_result *r;
	bool nanosecond;
	/* read back */
	uint32_t n;
	struct frame *f;
	uint32_t n_seen;
	struct seen *seen;
};

static struct fc_gw_table *
fixture_keys(uint32_t gateways, unsigned int alg)
{
	struct fc_gw_table *t = fc_gw_table_create();
	uint8_t key[FC_MAC_MAX_KEY_LEN];

	cr_assert_not_null(t);
	for (uint32_t gw = 1; gw <= gateways; gw++) {
		unsigned int len = fc_gen_fixture_key(gw, alg, key);

		cr_assert_eq(fc_gw_table_add_key(t, gw, 1, alg, key, len), 0);
	}
	return t;
}

static void
game_init(struct game *gm, uint32_t players, uint32_t gateways, double seconds)
{
	memset(gm, 0, sizeof(*gm));
	cr_assert_leq(players, 512);
	for (uint32_t i = 0; i < players; i++)
		gm->roster[i] = (struct fc_roster_entry){ .tag_id = FC_GEN_FIXTURE_TAG_BASE + i,
							  .player = (uint16_t)i,
							  .team = (uint16_t)(i % 8) };
	gm->keys = fixture_keys(gateways, FC_MAC_HMAC_SHA256_128);
	fc_gen_params_init(&gm->p);
	gm->p.roster = gm->roster;
	gm->p.n_roster = players;
	gm->p.keys = gm->keys;
	gm->p.seconds = seconds;
}

static void
read_back(struct game *gm, const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	struct pcap_pkthdr *h;
	const u_char *data;
	uint32_t cap = 1024;

	cr_assert_not_null(pc, "%s", err);
	cr_assert_eq(pcap_datalink(pc), DLT_EN10MB);
	gm->f = malloc(cap * sizeof(*gm->f));
	while (pcap_next_ex(pc, &h, &data) == 1) {
		if (gm->n == cap)
			gm->f = realloc(gm->f, (cap *= 2) * sizeof(*gm->f));
		cr_assert_eq(h->caplen, h->len);
		gm->f[gm->n].ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
		gm->f[gm->n].len = h->caplen;
		gm->f[gm->n].data = malloc(h->caplen);
		memcpy(gm->f[gm->n].data, data, h->caplen);
		gm->n++;
	}
	pcap_close(pc);
}

/* Generates into DIR/name.pcap (and DIR/name.json), then reads the capture back. */
static void
game_run(struct game *gm, const char *name)
{
	char path[160], json[160], err[256];
	struct fc_gen_pcap *pc;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.pcap", dir, name);
	snprintf(json, sizeof(json), "%s/%s.json", dir, name);
	gm->g = fc_gen_create(&gm->p, err, sizeof(err));
	cr_assert_not_null(gm->g, "%s", err);
	pc = fc_gen_pcap_open(path, gm->nanosecond, err, sizeof(err));
	cr_assert_not_null(pc, "%s", err);
	cr_assert_eq(fc_gen_run(gm->g, fc_gen_pcap_sink, pc, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(fc_gen_pcap_close(pc), 0);
	gm->r = fc_gen_result(gm->g);
	f = fopen(json, "w");
	cr_assert_not_null(f);
	cr_assert_eq(fc_gen_write_summary(gm->g, f), 0);
	cr_assert_eq(fclose(f), 0);
	read_back(gm, path);
	cr_assert_eq(gm->n, gm->r->frames);
}

static void
game_free(struct game *gm)
{
	for (uint32_t i = 0; i < gm->n; i++)
		free(gm->f[i].data);
	free(gm->f);
	free(gm->seen);
	fc_gen_free(gm->g);
	fc_gw_table_free(gm->keys);
	memset(gm, 0, sizeof(*gm));
}

static void
outcomes_free(const char **out, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free((char *)out[i]);
	free(out);
}

static int32_t
player_of(const struct game *gm, uint64_t tag)
{
	for (uint32_t i = 0; i < gm->p.n_roster; i++)
		if (gm->roster[i].tag_id == tag)
			return (int32_t)i;
	return -1;
}

/*
 * Runs every frame through the receive path floord runs (a table of its own) and collects the
 * records of accepted frames. out[i] is frame i's outcome: "ok", "net.X" or "uplink.X".
 */
static void
receive_all(struct game *gm, const char **out)
{
	struct fc_gw_table *rx = fixture_keys(gm->keys->n, gm->keys->gw[0].keys[0].alg);
	uint32_t cap = 4096;

	gm->seen = malloc(cap * sizeof(*gm->seen));
	gm->n_seen = 0;
	for (uint32_t i = 0; i < gm->n; i++) {
		char name[48];
		struct fc_pkt_info info;
		struct fc_up_view v;
		struct fc_gateway *gw;
		enum fc_pkt_verdict pv;
		enum fc_up_err e;

		pv = fc_pkt_classify(gm->f[i].data, gm->f[i].len, DST_IP, DST_PORT, &info);
		if (pv != FC_PKT_OK) {
			if (out != NULL) {
				snprintf(name, sizeof(name), "net.%s", fc_pkt_verdict_name(pv));
				out[i] = strdup(name);
			}
			continue;
		}
		e = fc_up_accept(rx, gm->f[i].data + info.payload_off, info.payload_len,
				 gm->f[i].ts_ns, BOUND_NS, &v, &gw);
		if (out != NULL) {
			snprintf(name, sizeof(name), "%s%s", e ? "uplink." : "ok",
				 e ? fc_up_err_name(e) : "");
			out[i] = strdup(name);
		}
		if (e != FC_UP_OK)
			continue;
		cr_assert_eq(v.hdr.msg_type, FC_UP_FIX_BATCH);
		for (unsigned int k = 0; k < v.hdr.record_count; k++) {
			struct fc_up_fix fx;

			fc_up_fix_at(&v, k, &fx);
			if (gm->n_seen == cap)
				gm->seen = realloc(gm->seen, (cap *= 2) * sizeof(*gm->seen));
			gm->seen[gm->n_seen++] = (struct seen){
				.tag_id = fx.tag_id,
				.meas_ns = fc_up_fix_time_ns(&v, &fx),
				.fix_seq = fx.fix_seq,
				.x_mm = fx.x_mm,
				.y_mm = fx.y_mm,
				.gw = v.hdr.gateway_id,
				.frame = i,
			};
		}
	}
	fc_gw_table_free(rx);
}

/* The accepted fixes of one tag in fix_seq order (a stable pick: first seen of each seq). */
static uint32_t
fixes_of(const struct game *gm, uint64_t tag, struct seen *out, uint32_t max)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < gm->n_seen; i++) {
		const struct seen *s = &gm->seen[i];
		uint32_t j;

		if (s->tag_id != tag)
			continue;
		for (j = 0; j < n && out[j].fix_seq != s->fix_seq; j++)
			;
		if (j < n)
			continue; /* the same fix again */
		cr_assert_lt(n, max);
		for (j = n++; j > 0 && out[j - 1].fix_seq > s->fix_seq; j--)
			out[j] = out[j - 1];
		out[j] = *s;
	}
	return n;
}

/* --- determinism --------------------------------------------------------------------------- */

struct membuf {
	uint8_t *p;
	size_t n;
	size_t cap;
};

static int
mem_sink(void *ctx, uint64_t ts_ns, const uint8_t *frame, uint32_t len)
{
	struct membuf *m = ctx;
	size_t need = m->n + sizeof(ts_ns) + sizeof(len) + len;

	if (need > m->cap) {
		m->cap = need * 2;
		m->p = realloc(m->p, m->cap);
		cr_assert_not_null(m->p);
	}
	memcpy(m->p + m->n, &ts_ns, sizeof(ts_ns));
	memcpy(m->p + m->n + sizeof(ts_ns), &len, sizeof(len));
	memcpy(m->p + m->n + sizeof(ts_ns) + sizeof(len), frame, len);
	m->n = need;
	return 0;
}

static struct membuf
generate_in_memory(const struct fc_gen_params *p)
{
	struct membuf m = { 0 };
	char err[256];
	struct fc_gen *g = fc_gen_create(p, err, sizeof(err));

	cr_assert_not_null(g, "%s", err);
	cr_assert_eq(fc_gen_run(g, mem_sink, &m, err, sizeof(err)), 0, "%s", err);
	fc_gen_free(g);
	return m;
}

Test(determinism, same_seed_gives_the_same_bytes)
{
	struct game gm;
	struct membuf a, b;

	game_init(&gm, 30, 3, 2.0);
	gm.p.scenario = FC_GEN_HOSTILE;
	a = generate_in_memory(&gm.p);
	b = generate_in_memory(&gm.p);
	cr_assert_gt(a.n, 10000);
	cr_assert_eq(a.n, b.n);
	cr_assert_eq(memcmp(a.p, b.p, a.n), 0, "two runs of the same parameters differ");
	free(a.p);
	free(b.p);
	fc_gw_table_free(gm.keys);
}

Test(determinism, same_seed_gives_the_same_pcap_file)
{
	struct game a, b;
	char cmd[512];

	game_init(&a, 20, 2, 1.0);
	game_run(&a, "a");
	game_init(&b, 20, 2, 1.0);
	game_run(&b, "b");
	snprintf(cmd, sizeof(cmd), "cmp -s %s/a.pcap %s/b.pcap && cmp -s %s/a.json %s/b.json", dir,
		 dir, dir, dir);
	cr_assert_eq(system(cmd), 0, "the files of two identical runs differ");
	game_free(&a);
	game_free(&b);
}

Test(determinism, another_seed_gives_other_bytes)
{
	struct game gm;
	struct membuf a, b;

	game_init(&gm, 30, 3, 2.0);
	a = generate_in_memory(&gm.p);
	gm.p.seed = 2;
	b = generate_in_memory(&gm.p);
	cr_assert(a.n != b.n || memcmp(a.p, b.p, a.n) != 0, "seeds 1 and 2 give the same capture");
	free(a.p);
	free(b.p);
	fc_gw_table_free(gm.keys);
}

Test(determinism, a_players_path_does_not_depend_on_the_others)
{
	struct game a, b;
	struct seen fa[64], fb[64];
	uint32_t na, nb;

	game_init(&a, 10, 2, 2.0);
	game_run(&a, "a");
	receive_all(&a, NULL);
	game_init(&b, 40, 4, 2.0);
	game_run(&b, "b");
	receive_all(&b, NULL);
	for (uint32_t p = 0; p < 10; p++) {
		na = fixes_of(&a, FC_GEN_FIXTURE_TAG_BASE + p, fa, 64);
		nb = fixes_of(&b, FC_GEN_FIXTURE_TAG_BASE + p, fb, 64);
		cr_assert_eq(na, nb);
		for (uint32_t i = 0; i < na; i++)
			cr_assert(fa[i].x_mm == fb[i].x_mm && fa[i].y_mm == fb[i].y_mm &&
					  fa[i].meas_ns == fb[i].meas_ns,
				  "player %u fix %u moved when players were added", p, i + 1);
	}
	game_free(&a);
	game_free(&b);
}

/* --- capture: what floord receives --------------------------------------------------------- */

Test(capture, every_frame_passes_the_receive_path)
{
	struct game gm;
	const char **out;

	game_init(&gm, 60, 4, 3.0);
	game_run(&gm, "g");
	out = calloc(gm.n, sizeof(*out));
	receive_all(&gm, out);
	for (uint32_t i = 0; i < gm.n; i++)
		cr_assert_str_eq(out[i], "ok", "frame %u is dropped: %s", i, out[i]);
	cr_assert_eq(gm.n_seen, gm.r->fix_records);
	cr_assert_eq(gm.n_seen, gm.r->fixes, "every fix is sent exactly once");
	outcomes_free(out, gm.n);
	game_free(&gm);
}

Test(capture, siphash_gateways_pass_too)
{
	struct game gm;
	const char **out;

	game_init(&gm, 40, 3, 2.0);
	fc_gw_table_free(gm.keys);
	gm.keys = fixture_keys(3, FC_MAC_SIPHASH24);
	gm.p.keys = gm.keys;
	gm.p.mac_alg = FC_MAC_SIPHASH24;
	game_run(&gm, "g");
	out = calloc(gm.n, sizeof(*out));
	receive_all(&gm, out);
	for (uint32_t i = 0; i < gm.n; i++)
		cr_assert_str_eq(out[i], "ok", "frame %u is dropped: %s", i, out[i]);
	cr_assert_eq(gm.f[0].len, FC_PKT_HDR_LEN + 32 + gm.f[0].data[FC_PKT_HDR_LEN + 24] * 32 + 8);
	outcomes_free(out, gm.n);
	game_free(&gm);
}

Test(capture, at_most_42_fixes_a_frame_and_dense_frames_are_full)
{
	struct game gm;
	unsigned int most = 0;

	/* 400 tags at 20 Hz on one gateway: 400 fixes within 5 ms, ten frames' worth */
	game_init(&gm, 400, 1, 1.0);
	game_run(&gm, "g");
	for (uint32_t i = 0; i < gm.n; i++) {
		struct fc_up_view v;

		cr_assert_eq(fc_up_parse(gm.f[i].data + FC_PKT_HDR_LEN,
					 gm.f[i].len - FC_PKT_HDR_LEN, &v),
			     FC_UP_OK);
		cr_assert_leq(v.hdr.record_count, FC_GEN_MAX_FIXES);
		cr_assert_leq(gm.f[i].len - FC_PKT_HDR_LEN, FC_WIRE_MAX_PAYLOAD);
		if (v.hdr.record_count > most)
			most = v.hdr.record_count;
	}
	cr_assert_eq(most, FC_GEN_MAX_FIXES);
	cr_assert_gt(gm.r->keepalives, 0, "slots without fixes send keepalives");
	game_free(&gm);
}

static uint32_t
magic(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint32_t m = 0;

	cr_assert_not_null(f);
	cr_assert_eq(fread(&m, sizeof(m), 1, f), 1);
	fclose(f);
	return m;
}

static void
assert_times(const struct game *gm)
{
	for (uint32_t i = 0; i < gm->n; i++) {
		cr_assert_eq(gm->f[i].ts_ns % 1000, 0, "frame %u: %" PRIu64 " is not a whole us", i,
			     gm->f[i].ts_ns);
		if (i > 0)
			cr_assert_geq(gm->f[i].ts_ns, gm->f[i - 1].ts_ns, "frame %u out of order",
				      i);
	}
	cr_assert_eq(gm->f[0].ts_ns, gm->r->first_ts_ns);
	cr_assert_eq(gm->f[gm->n - 1].ts_ns, gm->r->last_ts_ns);
}

Test(capture, timestamps_in_order_and_whole_microseconds)
{
	struct game gm;

	game_init(&gm, 50, 5, 3.0);
	gm.p.start_ns = FC_GEN_DEFAULT_START_NS + 123456789; /* rounded down to a us */
	game_run(&gm, "g");
	assert_times(&gm);
	cr_assert_eq(magic(in_dir("g.pcap")), 0xA1B2C3D4u, "a microsecond pcap");
	game_free(&gm);
}

Test(capture, nanosecond_pcap_keeps_whole_microseconds)
{
	struct game gm;

	game_init(&gm, 50, 5, 2.0);
	gm.nanosecond = true;
	gm.p.start_ns = FC_GEN_DEFAULT_START_NS + 987654321;
	game_run(&gm, "g");
	assert_times(&gm);
	/* the first frame: the start, rounded down to a us, plus a gateway's 200..900 us */
	cr_assert(gm.f[0].ts_ns >= FC_GEN_DEFAULT_START_NS + 987654000 + 200000 &&
			  gm.f[0].ts_ns <= FC_GEN_DEFAULT_START_NS + 987654000 + 900000,
		  "%" PRIu64, gm.f[0].ts_ns);
	cr_assert_eq(magic(in_dir("g.pcap")), 0xA1B23C4Du, "a nanosecond pcap");
	game_free(&gm);
}

Test(capture, gateways_send_every_25_ms_from_their_addresses_with_rising_seq)
{
	struct game gm;
	uint64_t last_ts[4] = { 0 }, last_seq[4] = { 0 };

	game_init(&gm, 30, 3, 2.0);
	game_run(&gm, "g");
	for (uint32_t i = 0; i < gm.n; i++) {
		struct fc_pkt_info info;
		struct fc_up_view v;
		const uint8_t *e = gm.f[i].data;
		uint32_t gw;

		cr_assert_eq(fc_pkt_classify(e, gm.f[i].len, DST_IP, DST_PORT, &info), FC_PKT_OK);
		cr_assert_eq(fc_up_parse(e + info.payload_off, info.payload_len, &v), FC_UP_OK);
		gw = v.hdr.gateway_id;
		cr_assert(gw >= 1 && gw <= 3);
		cr_assert_eq(info.src_ip, 0xC6120100u | gw, "198.18.1.<gw>");
		cr_assert_eq(info.src_port, 40000 + gw);
		cr_assert(memcmp(e, "\x02\x70\x63\x61\x70\x00", 6) == 0, "to floord's MAC");
		cr_assert(memcmp(e + 6, "\x02\x00\x00\x00\x00", 5) == 0 && e[11] == gw,
			  "from 02:00:00:00:00:<gw>");
		cr_assert_eq(v.hdr.seq >> 32, 1, "epoch 1");
		cr_assert_gt(v.hdr.seq, last_seq[gw]);
		if (last_seq[gw] != 0 && gm.f[i].ts_ns != last_ts[gw])
			cr_assert_eq(gm.f[i].ts_ns - last_ts[gw], 25000000, "gateway %u", gw);
		cr_assert_eq(v.hdr.seq & 0xFFFFFFFF, (last_seq[gw] & 0xFFFFFFFF) + 1,
			     "counters run 1, 2, 3...");
		last_seq[gw] = v.hdr.seq;
		last_ts[gw] = gm.f[i].ts_ns;
	}
	game_free(&gm);
}

Test(capture, fixes_go_to_the_gateway_of_their_stripe)
{
	struct game gm;

	game_init(&gm, 60, 4, 2.0);
	game_run(&gm, "g");
	receive_all(&gm, NULL);
	for (uint32_t i = 0; i < gm.n_seen; i++) {
		uint32_t zone = (uint32_t)((int64_t)gm.seen[i].x_mm * 4 / gm.p.width_mm);

		cr_assert_eq(gm.seen[i].gw, (zone > 3 ? 3 : zone) + 1, "x %d from gateway %u",
			     gm.seen[i].x_mm, gm.seen[i].gw);
	}
	game_free(&gm);
}

/* --- motion -------------------------------------------------------------------------------- */

Test(motion, every_tag_gives_fixes_at_the_rate_with_fix_seq_from_1)
{
	struct game gm;
	static struct seen fx[256];

	game_init(&gm, 40, 3, 4.0);
	gm.p.rate_hz = 30;
	game_run(&gm, "g");
	receive_all(&gm, NULL);
	for (uint32_t p = 0; p < 40; p++) {
		uint32_t n = fixes_of(&gm, gm.roster[p].tag_id, fx, 256);
		uint64_t phase = fx[0].meas_ns - gm.p.start_ns;
		/* every 33 333 us from the phase, while within the 4 s: 120, or 121 */
		uint32_t want = (uint32_t)((4000000000u - phase + 33333000 - 1) / 33333000);

		cr_assert_lt(phase, 5000000, "phase under 5 ms");
		cr_assert_eq(n, want, "player %u: %u fixes, %u meant", p, n, want);
		for (uint32_t i = 0; i < n; i++) {
			cr_assert_eq(fx[i].fix_seq, i + 1, "player %u: fix_seq runs 1, 2, 3...", p);
			if (i > 0)
				cr_assert_eq(fx[i].meas_ns - fx[i - 1].meas_ns, 33333000,
					     "player %u: one fix every 1/30 s", p);
		}
	}
	game_free(&gm);
}

Test(motion, nobody_walks_faster_than_1_5_m_per_s)
{
	struct game gm;
	static struct seen fx[1024];
	double fastest = 0, moved = 0;

	game_init(&gm, 60, 3, 20.0);
	game_run(&gm, "g");
	receive_all(&gm, NULL);
	for (uint32_t p = 0; p < 60; p++) {
		uint32_t n = fixes_of(&gm, gm.roster[p].tag_id, fx, 1024);

		for (uint32_t i = 1; i < n; i++) {
			double dx = fx[i].x_mm - fx[i - 1].x_mm, dy = fx[i].y_mm - fx[i - 1].y_mm;
			double d = sqrt(dx * dx + dy * dy);
			double dt = (fx[i].meas_ns - fx[i - 1].meas_ns) / 1e9;

			/* 1.5 m/s, plus 2 mm of rounding to whole mm at both ends */
			cr_assert_leq(d, 1500 * dt + 2, "player %u fix %u: %.0f mm in %.3f s", p,
				      fx[i].fix_seq, d, dt);
			if ((d - 2) / dt > fastest)
				fastest = (d - 2) / dt;
			moved += d;
		}
	}
	cr_assert_gt(fastest, 1000, "some players walk briskly (%.0f mm/s)", fastest);
	cr_assert_gt(moved / 60, 5000, "players walk, on average %.0f mm in 20 s", moved / 60);
	game_free(&gm);
}

Test(motion, positions_stay_inside_the_floor)
{
	struct game gm;

	game_init(&gm, 100, 4, 30.0);
	gm.p.width_mm = 7000; /* a small floor: walls are met often */
	gm.p.height_mm = 3000;
	game_run(&gm, "g");
	receive_all(&gm, NULL);
	for (uint32_t i = 0; i < gm.n_seen; i++) {
		cr_assert(gm.seen[i].x_mm >= FC_GEN_MARGIN_MM &&
				  gm.seen[i].x_mm <= 7000 - FC_GEN_MARGIN_MM,
			  "x %d", gm.seen[i].x_mm);
		cr_assert(gm.seen[i].y_mm >= FC_GEN_MARGIN_MM &&
				  gm.seen[i].y_mm <= 3000 - FC_GEN_MARGIN_MM,
			  "y %d", gm.seen[i].y_mm);
	}
	game_free(&gm);
}

/* --- summary ------------------------------------------------------------------------------- */

/* Reads final_positions from the summary: one player a line. */
static uint32_t
summary_finals(const char *path, struct fc_gen_final *out, uint32_t max)
{
	FILE *f = fopen(path, "r");
	char line[512];
	uint32_t n = 0;
	bool in = false;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned int player, team;
		unsigned long long tag, t;
		struct fc_gen_final *c = &out[n];

		if (strstr(line, "\"final_positions\"") != NULL)
			in = true;
		if (!in || sscanf(line,
				  "  \"%u\": {\"tag_id\": %llu, \"team\": %u, \"fix_seq\": %" SCNu32
				  ", \"t_ns\": %llu, \"x_mm\": %" SCNd32 ", \"y_mm\": %" SCNd32,
				  &player, &tag, &team, &c->fix_seq, &t, &c->x_mm, &c->y_mm) != 7)
			continue;
		cr_assert_lt(n, max);
		c->player = (uint16_t)player;
		c->tag_id = tag;
		c->t_ns = t;
		n++;
	}
	fclose(f);
	return n;
}

Test(summary, final_positions_are_each_players_last_fix)
{
	struct game gm;
	static struct seen fx[512];
	static struct fc_gen_final sum[64];
	uint32_t n_sum;

	game_init(&gm, 50, 4, 10.0);
	game_run(&gm, "g");
	receive_all(&gm, NULL);
	n_sum = summary_finals(in_dir("g.json"), sum, 64);
	cr_assert_eq(n_sum, 50);
	for (uint32_t p = 0; p < 50; p++) {
		uint32_t n = fixes_of(&gm, gm.roster[p].tag_id, fx, 512);
		const struct seen *last = &fx[n - 1];
		const struct fc_gen_final *r = &gm.r->final[p];

		cr_assert(r->fix_seq == last->fix_seq && r->x_mm == last->x_mm &&
				  r->y_mm == last->y_mm && r->t_ns == last->meas_ns,
			  "player %u: result %u (%d, %d), capture %u (%d, %d)", p, r->fix_seq,
			  r->x_mm, r->y_mm, last->fix_seq, last->x_mm, last->y_mm);
		cr_assert(sum[p].player == p && sum[p].tag_id == gm.roster[p].tag_id &&
				  sum[p].fix_seq == last->fix_seq && sum[p].x_mm == last->x_mm &&
				  sum[p].y_mm == last->y_mm && sum[p].t_ns == last->meas_ns,
			  "player %u: the summary says %u (%d, %d)", p, sum[p].fix_seq, sum[p].x_mm,
			  sum[p].y_mm);
	}
	game_free(&gm);
}

Test(summary, counts_match_the_capture)
{
	struct game gm;
	uint64_t keepalives = 0;
	char cmd[512];

	game_init(&gm, 80, 4, 3.0);
	game_run(&gm, "g");
	receive_all(&gm, NULL);
	for (uint32_t i = 0; i < gm.n; i++)
		keepalives += gm.f[i].len == FC_PKT_HDR_LEN + 32 + 16;
	cr_assert_eq(gm.r->gw_frames, gm.n);
	cr_assert_eq(gm.r->keepalives, keepalives);
	cr_assert_eq(gm.r->fix_records, gm.n_seen);
	cr_assert_eq(gm.r->applied + gm.r->older, gm.r->fixes);
	snprintf(cmd, sizeof(cmd),
		 "grep -q '\"frames\": %" PRIu64 ",' %s && grep -q '\"fix_records\": %" PRIu64
		 ", \"frames_accepted\": %" PRIu64 ", \"keepalives\": %" PRIu64 "' %s",
		 gm.r->frames, in_dir("g.json"), gm.r->fix_records, gm.r->gw_frames, keepalives,
		 in_dir("g.json"));
	cr_assert_eq(system(cmd), 0, "the summary's counts");
	game_free(&gm);
}

/* --- crowded ------------------------------------------------------------------------------- */

Test(crowded, converging_players_end_within_10_cm_of_the_centre)
{
	struct game gm;
	static struct seen fx[512];
	uint32_t far = 0;

	/* 1 .. 2 m away at 0.5 m/s or more: there within 4 s */
	game_init(&gm, 64, 4, 6.0);
	gm.p.scenario = FC_GEN_CROWDED;
	game_run(&gm, "g");
	receive_all(&gm, NULL);
	cr_assert_eq(gm.r->n_converging, 32);
	for (uint32_t p = 0; p < 64; p++) {
		uint32_t n = fixes_of(&gm, gm.roster[p].tag_id, fx, 512);
		double dx = fx[n - 1].x_mm - 10000.0, dy = fx[n - 1].y_mm - 5000.0;
		double d = sqrt(dx * dx + dy * dy);

		if (p < 32) {
			cr_assert_leq(d, FC_GEN_HOLD_MM, "player %u ends %.0f mm from the centre",
				      p, d);
			cr_assert_neq(gm.r->final[p].arrival_ns, 0);
		} else {
			far += d > 1000;
		}
	}
	cr_assert_gt(far, 16, "the others roam (%u of 32 end more than 1 m away)", far);
	game_free(&gm);
}

/* --- hostile ------------------------------------------------------------------------------- */

Test(hostile, every_hostile_frame_is_refused_for_the_reason_the_summary_gives)
{
	struct game gm;
	const char **out;
	char cmd[512];
	uint32_t hostile = 0;

	game_init(&gm, 30, 4, 3.0);
	gm.p.scenario = FC_GEN_HOSTILE;
	gm.p.seed = 7;
	game_run(&gm, "g");
	out = calloc(gm.n, sizeof(*out));
	receive_all(&gm, out);
	for (unsigned int h = 0; h < FC_GEN_H__COUNT; h++) {
		const char *counter = fc_gen_hostile_counter(h);
		uint64_t i = gm.r->hostile[h].frame_index;

		cr_assert(gm.r->hostile_sent[h], "%s was sent", fc_gen_hostile_name(h));
		cr_assert_lt(i, gm.n);
		cr_assert_eq(gm.r->hostile[h].ts_ns, gm.f[i].ts_ns);
		if (strncmp(counter, "net.", 4) == 0 || strncmp(counter, "uplink.", 7) == 0) {
			cr_assert_str_eq(out[i], counter, "%s", fc_gen_hostile_name(h));
			free((char *)out[i]);
			out[i] = strdup("hostile");
			hostile++;
		} else {
			cr_assert_str_eq(out[i], "ok", "%s rides in a valid frame",
					 fc_gen_hostile_name(h));
		}
		snprintf(cmd, sizeof(cmd),
			 "grep -q '{\"cls\": \"%s\", \"counter\": \"%s\", \"frame_index\": %" PRIu64
			 ",' %s",
			 fc_gen_hostile_name(h), counter, i, in_dir("g.json"));
		cr_assert_eq(system(cmd), 0, "the summary lists %s", fc_gen_hostile_name(h));
	}
	cr_assert_eq(hostile, 24);
	for (uint32_t i = 0; i < gm.n; i++)
		cr_assert(strcmp(out[i], "ok") == 0 || strcmp(out[i], "hostile") == 0,
			  "frame %u is dropped (%s) but is not hostile", i, out[i]);
	outcomes_free(out, gm.n);
	game_free(&gm);
}

Test(hostile, the_telling_records_land_where_the_summary_says)
{
	struct game gm;
	const struct fc_gen_result *r;
	uint32_t unknown = 0;

	game_init(&gm, 30, 4, 3.0);
	gm.p.scenario = FC_GEN_HOSTILE;
	game_run(&gm, "g");
	receive_all(&gm, NULL);
	r = gm.r;
	for (uint32_t i = 0; i < gm.n_seen; i++) {
		const struct seen *s = &gm.seen[i];

		if (player_of(&gm, s->tag_id) < 0) {
			unknown++;
			cr_assert_eq(s->frame, r->hostile[FC_GEN_H_UNKNOWN_TAG].frame_index);
			continue;
		}
		if (s->frame == r->hostile[FC_GEN_H_DUPLICATE_FIX].frame_index ||
		    s->frame == r->hostile[FC_GEN_H_OLDER_FIX].frame_index) {
			bool dup = s->frame == r->hostile[FC_GEN_H_DUPLICATE_FIX].frame_index;
			const struct seen *newest = NULL;

			/* the newest fix of the tag received before it */
			for (uint32_t j = 0; j < i; j++)
				if (gm.seen[j].tag_id == s->tag_id &&
				    (newest == NULL || gm.seen[j].meas_ns > newest->meas_ns))
					newest = &gm.seen[j];
			cr_assert_not_null(newest);
			if (dup)
				cr_assert(
					newest->fix_seq == s->fix_seq && newest->gw != s->gw,
					"the duplicate repeats the newest fix from another gateway");
			else
				cr_assert(newest->meas_ns > s->meas_ns,
					  "the late fix is older than the newest");
		}
	}
	cr_assert_eq(unknown, 1);
	cr_assert_eq(r->unknown_tags, 1);
	cr_assert_eq(r->duplicates, 1);
	cr_assert_eq(r->older, 1);
	cr_assert_eq(r->applied, r->fixes - 1, "every fix but the late one is applied");
	game_free(&gm);
}

Test(hostile, too_short_a_capture_is_refused)
{
	struct game gm;
	char err[256] = "";

	game_init(&gm, 10, 2, 0.4);
	gm.p.scenario = FC_GEN_HOSTILE;
	cr_assert_null(fc_gen_create(&gm.p, err, sizeof(err)));
	cr_assert_eq(errno, EINVAL);
	cr_assert_not_null(strstr(err, "0.5 s"), "%s", err);
	fc_gw_table_free(gm.keys);
}

/* --- fixtures ------------------------------------------------------------------------------ */

Test(fixtures, roster_and_keys_load_back_with_mkcapture_keys)
{
	struct fc_roster_entry *roster;
	struct fc_gw_table *t = fc_gw_table_create();
	uint32_t n;
	char err[512];
	struct stat st;
	uint8_t key[FC_MAC_MAX_KEY_LEN];
	/* tests/replay/mkcapture.py's key for gateway 1 */
	static const uint8_t mk1[8] = { 0x84, 0x1f, 0x22, 0x65, 0xaa, 0xde, 0xe0, 0x25 };

	cr_assert_eq(fc_gen_write_fixtures(in_dir("fx/sub"), 1000, 6, FC_MAC_HMAC_SHA256_128, err,
					   sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(fc_roster_load(in_dir("fx/sub/roster.csv"), &roster, &n, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(n, 1000);
	cr_assert_eq(roster[999].tag_id, FC_GEN_FIXTURE_TAG_BASE + 999);
	cr_assert_eq(roster[999].player, 999);
	cr_assert_eq(roster[999].team, 999 % 8);
	cr_assert_str_eq(roster[999].name, "player-999");
	free(roster);
	cr_assert_eq(fc_gw_table_load_keys(t, in_dir("fx/sub/gateways.keys"), err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(t->n, 6);
	cr_assert_eq(t->gw[5].id, 6);
	cr_assert_eq(t->gw[5].keys[0].alg, FC_MAC_HMAC_SHA256_128);
	cr_assert_eq(stat(in_dir("fx/sub/gateways.keys"), &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "the keys file is for its owner only");
	cr_assert_eq(fc_gen_fixture_key(1, FC_MAC_HMAC_SHA256_128, key), 32);
	cr_assert_arr_eq(key, mk1, sizeof(mk1));
	fc_gw_table_free(t);
}

Test(fixtures, siphash_fixtures_and_the_largest_roster)
{
	struct fc_roster_entry *roster;
	struct fc_gw_table *t = fc_gw_table_create();
	uint32_t n;
	char err[512];

	cr_assert_eq(fc_gen_write_fixtures(dir, FC_CFG_MAX_PLAYERS, 3, FC_MAC_SIPHASH24, err,
					   sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(fc_roster_load(in_dir("roster.csv"), &roster, &n, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(n, 65535);
	cr_assert_eq(roster[65534].player, 65534);
	free(roster);
	cr_assert_eq(fc_gw_table_load_keys(t, in_dir("gateways.keys"), err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(t->gw[0].keys[0].alg, FC_MAC_SIPHASH24);
	cr_assert_eq(t->gw[0].keys[0].tag_len, 8);
	cr_assert_neq(fc_gen_write_fixtures(dir, FC_CFG_MAX_PLAYERS + 1, 3, FC_MAC_SIPHASH24, err,
					    sizeof(err)),
		      0, "65 536 players do not fit a roster");
	fc_gw_table_free(t);
}

/* --- params -------------------------------------------------------------------------------- */

static void
assert_refused(const struct fc_gen_params *p, const char *why)
{
	char err[256] = "";
	struct fc_gen *g = fc_gen_create(p, err, sizeof(err));

	cr_assert_null(g, "accepted: %s", why);
	cr_assert_eq(errno, EINVAL);
	cr_assert_neq(err[0], '\0', "a reason is given");
}

Test(params, out_of_range_parameters_are_refused)
{
	struct game gm;
	struct fc_gen_params p;

	game_init(&gm, 10, 2, 1.0);
	p = gm.p;
	p.n_players = 11;
	assert_refused(&p, "more players than the roster");
	p = gm.p;
	p.n_gateways = 3;
	assert_refused(&p, "more gateways than the keys file");
	p = gm.p;
	p.mac_alg = FC_MAC_SIPHASH24;
	assert_refused(&p, "siphash with HMAC keys only");
	p = gm.p;
	p.rate_hz = 0;
	assert_refused(&p, "rate 0");
	p = gm.p;
	p.seconds = 0;
	assert_refused(&p, "no time");
	p = gm.p;
	p.width_mm = 200;
	assert_refused(&p, "a floor smaller than its margins");
	fc_gw_table_free(gm.keys);
}

Test(params, defaults_take_the_whole_roster_and_every_gateway)
{
	struct game gm;

	game_init(&gm, 12, 3, 0.5);
	game_run(&gm, "g");
	cr_assert_eq(gm.r->n_players, 12);
	cr_assert_eq(gm.r->n_gateways, 3);
	cr_assert_eq(gm.r->fixes, 12 * 10);
	game_free(&gm);
}

/* --- cli: the floorgen program ------------------------------------------------------------- */

/* Runs floorgen with args (a shell fragment); returns its exit status. */
static int
floorgen(const char *args)
{
	char cmd[1024];
	int st;

	snprintf(cmd, sizeof(cmd), "'%s' %s >'%s/out.txt' 2>&1", FC_FLOORGEN, args, dir);
	st = system(cmd);
	cr_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

Test(cli, fixtures_then_the_same_capture_twice)
{
	char args[768], cmd[512];

	snprintf(args, sizeof(args), "--write-fixtures '%s/fx' --players 50 --gateways 3", dir);
	cr_assert_eq(floorgen(args), 0);
	for (int i = 0; i < 2; i++) {
		snprintf(
			args, sizeof(args),
			"--out '%s/%d.pcap' --roster '%s/fx/roster.csv' --keys '%s/fx/gateways.keys'"
			" --seconds 1 --rate 30 --scenario hostile --summary '%s/%d.json'",
			dir, i, dir, dir, dir, i);
		cr_assert_eq(floorgen(args), 0);
	}
	snprintf(cmd, sizeof(cmd),
		 "cmp -s '%s/0.pcap' '%s/1.pcap' && cmp -s '%s/0.json' '%s/1.json' && "
		 "grep -q '27 hostile' '%s/out.txt'",
		 dir, dir, dir, dir, dir);
	cr_assert_eq(system(cmd), 0, "same arguments, same bytes");
}

Test(cli, bad_arguments_and_inputs_are_refused)
{
	char args[768];

	cr_assert_eq(floorgen("--scenario nowhere --out x --roster y --keys z"), 2);
	cr_assert_eq(floorgen("--roster y --keys z"), 2, "--out is required");
	cr_assert_eq(floorgen("--mac md5 --write-fixtures x"), 2);
	snprintf(args, sizeof(args), "--write-fixtures '%s/fx' --players 5 --gateways 1", dir);
	cr_assert_eq(floorgen(args), 0);
	snprintf(args, sizeof(args),
		 "--out '%s/a.pcap' --roster '%s/fx/roster.csv' --keys '%s/fx/gateways.keys'"
		 " --players 6",
		 dir, dir, dir);
	cr_assert_eq(floorgen(args), 3, "a roster smaller than --players");
	snprintf(args, sizeof(args),
		 "--out '%s/a.pcap' --roster '%s/fx/roster.csv' --keys '%s/nothing.keys'", dir, dir,
		 dir);
	cr_assert_eq(floorgen(args), 3, "a missing keys file");
}

Test(cli, help_lists_every_hostile_class)
{
	char cmd[512];

	cr_assert_eq(floorgen("--help"), 0);
	for (unsigned int h = 0; h < FC_GEN_H__COUNT; h++) {
		snprintf(cmd, sizeof(cmd), "grep -q '  %s  *%s$' '%s/out.txt'",
			 fc_gen_hostile_name(h), fc_gen_hostile_counter(h), dir);
		cr_assert_eq(system(cmd), 0, "--help names %s", fc_gen_hostile_name(h));
	}
	snprintf(
		cmd, sizeof(cmd),
		"grep -q '^  impairments.late_ms  *number 1 .. 120000$' '%s/out.txt' && "
		"grep -q '^  noise.profile  *none, uwb or ble_aoa$' '%s/out.txt' && "
		"grep -q -- '--live IP:PORT' '%s/out.txt' && grep -q -- '--scenario-file' '%s/out.txt'",
		dir, dir, dir, dir);
	cr_assert_eq(system(cmd), 0, "--help lists the scenario keys and the live output");
}

/* --- live: the UDP socket output ----------------------------------------------------------- */

/* A receiver on 127.0.0.1, an ephemeral port: the test's own, nothing else is sent to. */
static int
udp_receiver(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), big = 8 << 20;

	cr_assert_geq(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

struct tee {
	struct fc_gen_pcap *pc;
	struct fc_gen_live *lv;
};

static int
tee_sink(void *ctx, uint64_t ts_ns, const uint8_t *frame, uint32_t len)
{
	struct tee *t = ctx;
	int rc = fc_gen_pcap_sink(t->pc, ts_ns, frame, len);

	return rc != 0 ? rc : fc_gen_live_sink(t->lv, ts_ns, frame, len);
}

/* Runs gm live to 127.0.0.1 at speed, with the capture beside; returns the receiving socket. */
static int
live_run(struct game *gm, double speed, struct fc_gen_live_stats *st)
{
	struct fc_gen_live_params lp = { .dst_ip = 0x7F000001u, .speed = speed };
	char err[256], path[160];
	struct tee t;
	int fd = udp_receiver(&lp.dst_port);

	gm->p.udp_only = true;
	gm->p.dst_port = lp.frame_port = lp.dst_port;
	gm->g = fc_gen_create(&gm->p, err, sizeof(err));
	cr_assert_not_null(gm->g, "%s", err);
	snprintf(path, sizeof(path), "%s/live.pcap", dir);
	t.pc = fc_gen_pcap_open(path, false, err, sizeof(err));
	cr_assert_not_null(t.pc, "%s", err);
	t.lv = fc_gen_live_open(&lp, err, sizeof(err));
	cr_assert_not_null(t.lv, "%s", err);
	cr_assert_eq(fc_gen_run(gm->g, tee_sink, &t, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(fc_gen_pcap_close(t.pc), 0);
	fc_gen_live_get_stats(t.lv, st);
	fc_gen_live_close(t.lv);
	gm->r = fc_gen_result(gm->g);
	read_back(gm, path);
	return fd;
}

Test(live, sends_exactly_the_captures_payloads_and_skips_what_a_socket_cannot)
{
	struct game gm;
	struct fc_gen_live_stats st;
	uint8_t buf[2048];
	uint32_t skipped = 0;
	int fd;

	game_init(&gm, 20, 2, 1.0);
	gm.p.scenario = FC_GEN_HOSTILE;
	fd = live_run(&gm, 0, &st);
	cr_assert_eq(st.sent, gm.n);
	cr_assert_eq(st.errors, 0);
	for (uint32_t i = 0; i < gm.n; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		cr_assert_eq(n, (ssize_t)(gm.f[i].len - FC_PKT_HDR_LEN), "datagram %u", i);
		cr_assert_arr_eq(buf, gm.f[i].data + FC_PKT_HDR_LEN, (size_t)n, "datagram %u", i);
	}
	cr_assert_lt(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 0, "nothing more");
	for (unsigned int h = 0; h < FC_GEN_H__COUNT; h++) {
		const char *c = fc_gen_hostile_counter(h);
		bool l2 = strncmp(c, "net.", 4) == 0;

		cr_assert_eq(gm.r->skipped[h], l2, "%s", fc_gen_hostile_name(h));
		cr_assert_eq(gm.r->hostile_sent[h], !l2, "%s", fc_gen_hostile_name(h));
		skipped += l2;
	}
	cr_assert_eq(skipped, 9);
	for (unsigned int v = 1; v < FC_PKT__COUNT; v++)
		cr_assert_eq(gm.r->net[v], 0, "no net.* drop is expected of a socket's frames");
	close(fd);
	game_free(&gm);
}

Test(live, frames_are_paced_by_capture_time_over_speed)
{
	struct game gm;
	struct fc_gen_live_stats st;
	uint64_t span;
	int fd;

	game_init(&gm, 10, 2, 1.0);
	fd = live_run(&gm, 4.0, &st);
	span = gm.r->last_ts_ns - gm.r->first_ts_ns;
	cr_assert_eq(st.sent, gm.n);
	/* absolute deadlines: never before (a lower bound only; how late is perf's business) */
	cr_assert_geq(st.elapsed_ns, span / 4, "%" PRIu64 " ns for %" PRIu64 " ns / 4",
		      st.elapsed_ns, span);
	close(fd);
	game_free(&gm);
}

Test(live, addresses_are_ipv4_and_a_port)
{
	uint32_t ip;
	uint16_t port;

	cr_assert_eq(fc_gen_parse_hostport("198.18.0.1:47474", true, &ip, &port), 0);
	cr_assert(ip == 0xC6120001u && port == 47474);
	cr_assert_eq(fc_gen_parse_hostport("198.18.0.2", false, &ip, &port), 0);
	cr_assert(ip == 0xC6120002u && port == 0);
	cr_assert_eq(fc_gen_parse_hostport("198.18.0.2", true, &ip, &port), -EINVAL);
	cr_assert_eq(fc_gen_parse_hostport("floord:47474", true, &ip, &port), -EINVAL,
		     "no name lookups");
	cr_assert_eq(fc_gen_parse_hostport("198.18.0.1:65536", true, &ip, &port), -EINVAL);
	cr_assert_eq(fc_gen_parse_hostport("198.18.0.1:0", true, &ip, &port), -EINVAL);
	cr_assert_eq(fc_gen_parse_hostport(":1", true, &ip, &port), -EINVAL);
}

Test(live, the_cli_sends_and_summarises)
{
	char args[1024], cmd[1024];
	uint16_t port;
	int fd = udp_receiver(&port);
	uint8_t buf[2048];
	uint32_t got = 0;

	snprintf(args, sizeof(args), "--write-fixtures '%s/fx' --players 10 --gateways 2", dir);
	cr_assert_eq(floorgen(args), 0);
	snprintf(args, sizeof(args),
		 "--live 127.0.0.1:%u --bind 127.0.0.1 --speed 0 --pcap-out '%s/l.pcap'"
		 " --roster '%s/fx/roster.csv' --keys '%s/fx/gateways.keys' --seconds 1"
		 " --scenario hostile --summary '%s/l.json'",
		 port, dir, dir, dir, dir);
	cr_assert_eq(floorgen(args), 0);
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		got++;
	snprintf(cmd, sizeof(cmd),
		 "grep -q '\"frames\": %u,' '%s/l.json' && grep -q '\"dst\": \"127.0.0.1:%u\"' "
		 "'%s/l.json' && grep -q '\"skipped\": {\"arp\": 1, ' '%s/l.json' && "
		 "grep -q '\"sent\": %u,' '%s/l.json' && grep -q '\"dst_port\": %u' '%s/l.json'",
		 got, dir, port, dir, dir, got, dir, port, dir);
	cr_assert_gt(got, 50);
	cr_assert_eq(system(cmd), 0, "the summary says what was sent live");
	cr_assert_eq(floorgen("--live 198.18.0.1 --roster y --keys z"), 2, "a port is needed");
	cr_assert_eq(floorgen("--out x --bind 198.18.0.2 --roster y --keys z"), 2);
	cr_assert_eq(floorgen("--live 198.18.0.1:1 --speed -1 --roster y --keys z"), 2);
	close(fd);
}

/* --- scenario: the file ---------------------------------------------------------------------- */

static const char *
write_file(const char *name, const char *text)
{
	const char *path = in_dir(name);
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* Loading text must fail with "FILE:LINE: ..." holding want. */
static void
assert_scenario_error(const char *text, unsigned int line, const char *want)
{
	struct fc_gen_scenario_file sc;
	const char *path = write_file("bad.ini", text);
	char err[1024] = "", loc[256];

	fc_gen_scenario_init(&sc);
	cr_assert_neq(fc_gen_scenario_load(&sc, path, err, sizeof(err)), 0, "accepted: %s", text);
	if (line > 0)
		snprintf(loc, sizeof(loc), "%s:%u: ", path, line);
	else
		snprintf(loc, sizeof(loc), "%s: ", path);
	cr_assert(strncmp(err, loc, strlen(loc)) == 0, "'%s' does not start with '%s'", err, loc);
	cr_assert_not_null(strstr(err, want), "'%s' does not say '%s'", err, want);
	fc_gen_scenario_free(&sc);
}

#define CLUES                                                                                      \
	"policy = distance\n"                                                                      \
	"# clue_id,x_mm,y_mm,radius_mm,points\n"                                                   \
	"1,2000,2000,,10\n"                                                                        \
	"2,18000,2000,,10\n"                                                                       \
	"3,10000,5000,200,50\n"                                                                    \
	"4,2000,8000,,10\n"

Test(scenario, errors_name_the_file_the_line_and_the_reason)
{
	assert_scenario_error("[scenario]\nplayers = 10\nplayerz = 3\n", 3,
			      "unknown key playerz in [scenario]");
	assert_scenario_error("# a game\n[scenario]\nseconds = -1\n", 3,
			      "seconds = '-1': expected a number 0.01 .. 86400");
	assert_scenario_error("[scenario]\nseed = 1\n\n; again\nseed = 2\n", 5,
			      "[scenario] seed given twice (first on line 2)");
	assert_scenario_error("[network]\n", 1, "unknown section [network]");
	assert_scenario_error("[noise]\nprofile = gps\n", 2,
			      "profile = 'gps': expected none, uwb or ble_aoa");
	assert_scenario_error("players = 3\n", 1, "players before any [section]");
	assert_scenario_error("[clock]\nskew_ms\n", 2, "expected [section] or key = value");
	assert_scenario_error("[scenario\n", 1, "a section is [name]");
	assert_scenario_error("[hostile]\nenabled = perhaps\n", 2, "expected yes or no");
	assert_scenario_error("[clues]\nhot_spots = 1, x\n", 2, "comma-separated");
	assert_scenario_error("[impairments]\nloss_pct = 101\n", 2, "loss_pct = '101'");
	assert_scenario_error("[rates]\nteams = 3:5, 3:6\n", 2, "each team once");
	assert_scenario_error("[scenario]\nkind = crowded\n[hostile]\nenabled = yes\n", 0,
			      "kind = crowded");
	assert_scenario_error("[clues]\nattraction = 0.5\n", 0, "attraction without a layout");
	/* the layout's own error, with its file and line */
	write_file("clues-bad.txt", "policy = distance\n1,2000,2000,,10\n1,3000,3000,,10\n");
	assert_scenario_error("[clues]\nlayout = clues-bad.txt\n", 0, "clues-bad.txt:3:");
}

Test(scenario, every_key_lands_in_the_parameters)
{
	struct fc_gen_scenario_file sc;
	const struct fc_gen_params *p = &sc.p;
	char err[1024];

	write_file("clues.txt", CLUES);
	write_file("all.ini",
		   "# every key\n"
		   "[scenario]\nplayers = 40\ngateways = 4\nseconds = 3.5\nrate_hz = 25\n"
		   "seed = 0x2A\nwidth_m = 30\nheight_m = 12.5\nstart_ns = 1000000000\n"
		   "kind = normal\nmac = siphash\nroster = fx/roster.csv\n"
		   "keys = /abs/gateways.keys\ndst_ip = 198.18.0.9\ndst_port = 5000\n"
		   "clock_bound_ms = 1500\n"
		   "[rates]\nteams = 3:5, 0:40\nfraction = 0.25\nfraction_hz = 2\n"
		   "[movement]\nspeed_min_mps = 0.7\nspeed_max_mps = 1.2\n"
		   "pause_probability = 0.2\npause_min_s = 1\npause_max_s = 3\n"
		   "[clues]\nlayout = clues.txt\nattraction = 0.5\nhot_spots = 3, 1\n"
		   "hot_weight = 12\npause_min_s = 2\npause_max_s = 4\napproach_mm = 90\n"
		   "[noise]\nprofile = ble_aoa ; AoA anchors\nsigma_mm = 250\n"
		   "[gateways]\ncoverage = grid\ncols = 2\nrows = 2\noverlap_mm = 400\n"
		   "[clock]\nskew_ms = 200\ndrift_ppm = 40\n"
		   "[impairments]\nloss_pct = 1.5\nduplicate_pct = 2\nreorder_pct = 3\n"
		   "reorder_window_ms = 60\nlate_pct = 0.5\nlate_ms = 700\n"
		   "[hostile]\nenabled = yes\r\n");
	fc_gen_scenario_init(&sc);
	cr_assert_eq(fc_gen_scenario_load(&sc, in_dir("all.ini"), err, sizeof(err)), 0, "%s", err);
	cr_assert(p->n_players == 40 && p->n_gateways == 4 && p->seconds == 3.5 &&
		  p->rate_hz == 25 && p->seed == 42 && p->width_mm == 30000 &&
		  p->height_mm == 12500 && p->start_ns == 1000000000);
	cr_assert(p->scenario == FC_GEN_HOSTILE && p->mac_alg == FC_MAC_SIPHASH24);
	cr_assert_str_eq(sc.roster, in_dir("fx/roster.csv"), "relative to the file");
	cr_assert_str_eq(sc.keys, "/abs/gateways.keys");
	cr_assert(p->dst_ip == 0xC6120009u && p->dst_port == 5000 &&
		  p->clock_bound_ns == 1500000000ull);
	cr_assert(p->n_team_rates == 2 && p->team_rates[0].team == 3 && p->team_rates[0].hz == 5 &&
		  p->team_rates[1].team == 0 && p->team_rates[1].hz == 40 &&
		  p->rate_fraction == 0.25 && p->fraction_hz == 2);
	cr_assert(p->speed_min_mps == 0.7 && p->speed_max_mps == 1.2 && p->pause_prob == 0.2 &&
		  p->pause_min_s == 1 && p->pause_max_s == 3);
	cr_assert(p->layout != NULL && p->layout->n_clues == 4 && p->attraction == 0.5 &&
		  p->n_hot_spots == 2 && p->hot_spots[0] == 3 && p->hot_spots[1] == 1 &&
		  p->hot_weight == 12 && p->clue_pause_min_s == 2 && p->clue_pause_max_s == 4 &&
		  p->approach_mm == 90);
	cr_assert(p->noise == FC_GEN_NOISE_BLE_AOA && p->noise_sigma_mm == 250);
	cr_assert(p->coverage == FC_GEN_COVER_GRID && p->grid_cols == 2 && p->grid_rows == 2 &&
		  p->overlap_mm == 400);
	cr_assert(p->skew_ms == 200 && p->drift_ppm == 40);
	cr_assert(p->loss_pct == 1.5 && p->dup_pct == 2 && p->reorder_pct == 3 &&
		  p->reorder_ms == 60 && p->late_pct == 0.5 && p->late_ms == 700);
	/* --set: a key of the file, as a line would set it */
	cr_assert_eq(fc_gen_scenario_set(&sc, "impairments.loss_pct=7", err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(p->loss_pct, 7);
	cr_assert_eq(fc_gen_scenario_set(&sc, "hostile.enabled = no", err, sizeof(err)), 0);
	cr_assert_eq(p->scenario, FC_GEN_NORMAL);
	cr_assert_neq(fc_gen_scenario_set(&sc, "impairments.loss=7", err, sizeof(err)), 0);
	cr_assert_not_null(strstr(err, "unknown key loss in [impairments]"), "%s", err);
	cr_assert_neq(fc_gen_scenario_set(&sc, "loss_pct=7", err, sizeof(err)), 0);
	fc_gen_scenario_free(&sc);
}

Test(scenario, an_empty_file_changes_nothing)
{
	struct fc_gen_scenario_file sc;
	struct fc_gen_params d;
	char err[256];

	write_file("empty.ini", "# nothing\n\n[scenario]\n");
	fc_gen_scenario_init(&sc);
	fc_gen_params_init(&d);
	cr_assert_eq(fc_gen_scenario_load(&sc, in_dir("empty.ini"), err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(memcmp(&sc.p, &d, sizeof(d)), 0, "the defaults are today's");
	fc_gen_scenario_free(&sc);
}

Test(scenario, the_cli_reads_the_file_and_options_override_it)
{
	char args[1024], cmd[1024];

	snprintf(args, sizeof(args), "--write-fixtures '%s/fx' --players 30 --gateways 3", dir);
	cr_assert_eq(floorgen(args), 0);
	write_file("clues.txt", CLUES);
	write_file("s.ini", "[scenario]\nplayers = 20\ngateways = 3\nseconds = 1\n"
			    "roster = fx/roster.csv\nkeys = fx/gateways.keys\n"
			    "[clues]\nlayout = clues.txt\nattraction = 0.9\n"
			    "[impairments]\nloss_pct = 5\n");
	snprintf(args, sizeof(args),
		 "--scenario-file '%s/s.ini' --out '%s/s.pcap' --summary '%s/s.json' --players 10"
		 " --set impairments.loss_pct=0 --set noise.profile=uwb",
		 dir, dir, dir);
	cr_assert_eq(floorgen(args), 0);
	snprintf(
		cmd, sizeof(cmd),
		"grep -q '\"players\": 10, \"gateways\": 3, \"seconds\": 1,' '%s/s.json' && "
		"grep -q '\"noise\": {\"profile\": \"uwb\"' '%s/s.json' && "
		"grep -q '\"loss_pct\": 0,' '%s/s.json' && grep -q '\"attraction\": 0.9' '%s/s.json'",
		dir, dir, dir, dir);
	cr_assert_eq(system(cmd), 0, "options over --set over the file");
	write_file("bad.ini", "[scenario]\nplayers = many\n");
	snprintf(args, sizeof(args), "--scenario-file '%s/bad.ini' --out x", dir);
	cr_assert_eq(floorgen(args), 3, "a bad scenario file is an input error");
	snprintf(cmd, sizeof(cmd), "grep -q '%s/bad.ini:2: \\[scenario\\] players' '%s/out.txt'",
		 dir, dir);
	cr_assert_eq(system(cmd), 0, "named by file and line");
}

/* --- impair: what each feature does, and that it is counted -------------------------------- */

/* Every impairment at once, from a scenario file in dir (fixture roster and keys). */
static void
impaired_params(struct game *gm, struct fc_gen_scenario_file *sc)
{
	char err[1024];

	write_file("clues.txt", CLUES);
	write_file("every.ini", "[scenario]\nseed = 7\n"
				"[clues]\nlayout = clues.txt\nattraction = 0.6\nhot_spots = 3\n"
				"[noise]\nprofile = ble_aoa\n"
				"[gateways]\ncoverage = grid\noverlap_mm = 500\n"
				"[clock]\nskew_ms = 300\ndrift_ppm = 50\n"
				"[impairments]\nloss_pct = 3\nduplicate_pct = 3\nreorder_pct = 5\n"
				"reorder_window_ms = 80\nlate_pct = 2\nlate_ms = 2500\n"
				"[hostile]\nenabled = yes\n");
	fc_gen_scenario_init(sc);
	cr_assert_eq(fc_gen_scenario_load(sc, in_dir("every.ini"), err, sizeof(err)), 0, "%s", err);
	sc->p.roster = gm->p.roster;
	sc->p.n_roster = gm->p.n_roster;
	sc->p.keys = gm->p.keys;
	sc->p.seconds = gm->p.seconds;
	gm->p = sc->p;
}

Test(determinism, a_scenario_with_every_impairment_gives_the_same_bytes)
{
	struct game gm;
	struct fc_gen_scenario_file sc;
	struct membuf a, b, c;

	game_init(&gm, 60, 4, 4.0);
	impaired_params(&gm, &sc);
	a = generate_in_memory(&gm.p);
	b = generate_in_memory(&gm.p);
	cr_assert_gt(a.n, 100000);
	cr_assert(a.n == b.n && memcmp(a.p, b.p, a.n) == 0, "same scenario, same seed, same bytes");
	gm.p.seed = 8;
	c = generate_in_memory(&gm.p);
	cr_assert(a.n != c.n || memcmp(a.p, c.p, a.n) != 0, "another seed, other bytes");
	free(a.p);
	free(b.p);
	free(c.p);
	fc_gen_scenario_free(&sc);
	fc_gw_table_free(gm.keys);
}

/*
 * The default model's bytes, pinned: a scenario feature that leaked a draw into the default
 * streams would change them (and the committed replay captures with them).
 */
Test(determinism, the_default_capture_is_pinned)
{
	struct game gm;
	struct membuf m;
	uint8_t h[crypto_hash_sha256_BYTES];
	char hex[2 * sizeof(h) + 1];

	game_init(&gm, 40, 3, 2.0);
	gm.p.scenario = FC_GEN_HOSTILE;
	m = generate_in_memory(&gm.p);
	crypto_hash_sha256(h, m.p, m.n);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	cr_assert_str_eq(hex, PINNED_DEFAULT_SHA256, "the default capture changed: %s", hex);
	free(m.p);
	fc_gw_table_free(gm.keys);
}

/* Generates gm with the given impairment set on top of the defaults; reads the capture back. */
static void
impair_run(struct game *gm, const char *name)
{
	game_run(gm, name);
	receive_all(gm, NULL);
}

Test(impair, loss_drops_the_frames_it_counts_and_nothing_else)
{
	struct game a, b;

	game_init(&a, 60, 3, 5.0);
	impair_run(&a, "a");
	game_init(&b, 60, 3, 5.0);
	b.p.loss_pct = 10;
	impair_run(&b, "b");
	cr_assert_gt(b.r->lost_frames, 0);
	cr_assert_eq(b.n + b.r->lost_frames, a.n, "every frame not lost is sent");
	cr_assert_eq(b.n_seen + b.r->lost_reports, a.n_seen);
	/* 10 % of some 1200 frames: well inside 6 .. 14 % */
	cr_assert(b.r->lost_frames * 100 > a.n * 6 && b.r->lost_frames * 100 < a.n * 14,
		  "%" PRIu64 " of %u frames lost", b.r->lost_frames, a.n);
	cr_assert_eq(b.r->applied + b.r->older + b.r->duplicates, b.r->fix_records);
	cr_assert_eq(b.r->fix_records, b.n_seen);
	cr_assert_eq(b.r->applied, a.r->applied - b.r->lost_reports,
		     "a lost fix is counted nowhere");
	game_free(&a);
	game_free(&b);
}

/* How many records repeat an earlier record's (tag, fix_seq) from another gateway. */
static uint64_t
repeats_from_other_gateways(const struct game *gm)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < gm->n_seen; i++)
		for (uint32_t j = i; j-- > 0 && gm->seen[i].frame - gm->seen[j].frame < 64;)
			if (gm->seen[j].tag_id == gm->seen[i].tag_id &&
			    gm->seen[j].fix_seq == gm->seen[i].fix_seq) {
				cr_assert_neq(gm->seen[j].gw, gm->seen[i].gw);
				n++;
				break;
			}
	return n;
}

Test(impair, duplicates_go_through_a_second_gateway_and_land_in_owners_duplicates)
{
	struct game gm;

	game_init(&gm, 40, 4, 3.0);
	gm.p.dup_pct = 20;
	impair_run(&gm, "g");
	cr_assert_gt(gm.r->duplicate_reports, 300);
	cr_assert_eq(repeats_from_other_gateways(&gm), gm.r->duplicate_reports);
	/* the copy comes within 25 ms, the player's next fix 50 ms on: always a duplicate */
	cr_assert_eq(gm.r->duplicates, gm.r->duplicate_reports);
	cr_assert_eq(gm.r->older, 0);
	cr_assert_eq(gm.r->applied, gm.r->fixes);
	game_free(&gm);
}

Test(impair, overlapping_cells_hear_a_fix_near_their_border)
{
	struct game gm;

	game_init(&gm, 60, 4, 4.0);
	gm.p.coverage = FC_GEN_COVER_GRID; /* 2 x 2 on 20 x 10 m: borders at x 10 m, y 5 m */
	gm.p.overlap_mm = 400;
	impair_run(&gm, "g");
	cr_assert_gt(gm.r->overlap_reports, 0);
	cr_assert_eq(repeats_from_other_gateways(&gm), gm.r->overlap_reports);
	for (uint32_t i = 0; i < gm.n_seen; i++) {
		const struct seen *s = &gm.seen[i];
		uint32_t cell = (s->y_mm >= 5000) * 2 + (s->x_mm >= 10000);
		bool near = abs(s->x_mm - 10000) <= 400 || abs(s->y_mm - 5000) <= 400;

		cr_assert(s->gw == cell + 1 || near, "(%d, %d) heard by gateway %u", s->x_mm,
			  s->y_mm, s->gw);
	}
	cr_assert_eq(gm.r->duplicates + gm.r->older, gm.r->overlap_reports);
	game_free(&gm);
}

Test(impair, late_frames_within_the_bound_land_as_older_fixes)
{
	struct game gm;
	uint32_t late = 0;

	game_init(&gm, 40, 2, 5.0);
	gm.p.late_pct = 5;
	gm.p.late_ms = 300;
	impair_run(&gm, "g");
	cr_assert_gt(gm.r->late_frames, 5);
	cr_assert_eq(gm.r->window_drops, 0, "300 ms is within the 2 s bound");
	cr_assert_gt(gm.r->older, 0);
	cr_assert_eq(gm.r->applied + gm.r->older, gm.r->fixes);
	for (uint32_t i = 0; i < gm.n; i++) {
		struct fc_up_view v;

		cr_assert_eq(fc_up_parse(gm.f[i].data + FC_PKT_HDR_LEN,
					 gm.f[i].len - FC_PKT_HDR_LEN, &v),
			     FC_UP_OK);
		/* base time is the send time - 25 ms; capture time adds 0.2 .. 0.9 ms, or 300 ms */
		late += gm.f[i].ts_ns - v.hdr.base_time_ns > 300000000;
	}
	cr_assert_eq(late, gm.r->late_frames);
	game_free(&gm);
}

Test(impair, frames_later_than_the_clock_bound_are_clock_skew)
{
	struct game gm;

	game_init(&gm, 20, 2, 5.0);
	gm.p.late_pct = 5;
	gm.p.late_ms = 2500;
	impair_run(&gm, "g");
	cr_assert_gt(gm.r->late_frames, 5);
	cr_assert_eq(gm.r->up[FC_UP_E_CLOCK_SKEW], gm.r->late_frames);
	cr_assert_eq(gm.r->window_drops, gm.r->late_frames);
	cr_assert_eq(gm.r->gw_frames + gm.r->late_frames, gm.n);
	game_free(&gm);
}

Test(impair, frames_held_behind_1024_newer_ones_are_replay_old)
{
	struct game gm;

	/* 400 tags at 50 Hz on one gateway: 12 frames every 25 ms, 1024 frames in 2.2 s */
	game_init(&gm, 400, 1, 5.0);
	gm.p.rate_hz = 50;
	gm.p.late_pct = 1;
	gm.p.late_ms = 3000;
	gm.p.clock_bound_ns = 10000000000ull;
	impair_run(&gm, "g");
	cr_assert_gt(gm.r->late_frames, 5);
	cr_assert_gt(gm.r->up[FC_UP_E_REPLAY_OLD], 0);
	cr_assert_eq(gm.r->up[FC_UP_E_REPLAY_OLD], gm.r->window_drops);
	game_free(&gm);
}

Test(impair, reordered_frames_are_counted_and_the_totals_hold)
{
	struct game gm;
	uint32_t behind = 0;

	game_init(&gm, 60, 3, 4.0);
	gm.p.reorder_pct = 20;
	gm.p.reorder_ms = 60;
	impair_run(&gm, "g");
	cr_assert_gt(gm.r->reordered_frames, 50);
	for (uint32_t i = 1; i < gm.n; i++) {
		struct fc_up_view a, b;

		fc_up_parse(gm.f[i - 1].data + FC_PKT_HDR_LEN, gm.f[i - 1].len - FC_PKT_HDR_LEN,
			    &a);
		fc_up_parse(gm.f[i].data + FC_PKT_HDR_LEN, gm.f[i].len - FC_PKT_HDR_LEN, &b);
		behind += a.hdr.gateway_id == b.hdr.gateway_id && b.hdr.seq < a.hdr.seq;
	}
	cr_assert_gt(behind, 0, "some frames arrive behind later ones of their gateway");
	cr_assert_eq(gm.r->window_drops, 0);
	cr_assert_eq(gm.r->applied + gm.r->older + gm.r->duplicates, gm.r->fix_records);
	cr_assert_eq(gm.r->fix_records, gm.r->fixes);
	game_free(&gm);
}

Test(impair, clock_skew_and_drift_shift_base_time)
{
	struct game gm;
	uint32_t skewed = 0;

	game_init(&gm, 30, 3, 3.0);
	gm.p.skew_ms = 400;
	gm.p.drift_ppm = 200;
	impair_run(&gm, "g");
	for (uint32_t k = 0; k < 3; k++) {
		const struct fc_gen_gateway *gw = &gm.r->gateways[k];

		cr_assert_leq(llabs(gw->clock_offset_us), 400000);
		cr_assert_leq(fabs(gw->drift_ppm), 200);
		skewed += gw->clock_offset_us != 0;
	}
	cr_assert_eq(skewed, 3);
	for (uint32_t i = 0; i < gm.n; i++) {
		const struct fc_gen_gateway *gw;
		struct fc_up_view v;
		int64_t send_us, base_us, want;

		cr_assert_eq(fc_up_parse(gm.f[i].data + FC_PKT_HDR_LEN,
					 gm.f[i].len - FC_PKT_HDR_LEN, &v),
			     FC_UP_OK);
		gw = &gm.r->gateways[v.hdr.gateway_id - 1];
		send_us = (int64_t)(gm.f[i].ts_ns - gm.p.start_ns) / 1000 - gw->latency_us;
		base_us = send_us - 25000; /* the true base time */
		want = base_us + gw->clock_offset_us + llround(gw->drift_ppm * 1e-6 * base_us);
		cr_assert_eq((int64_t)(v.hdr.base_time_ns - gm.p.start_ns), want * 1000,
			     "frame %u of gateway %u", i, gw->id);
	}
	/* floord's offset estimate takes the skew out: every fix is applied once */
	cr_assert_eq(gm.r->applied, gm.r->fixes);
	game_free(&gm);
}

/* Per fix: the reported err_mm, and the offset from the same seed's exact position. */
static void
noise_stats(enum fc_gen_noise profile, uint16_t lo, uint16_t hi, uint8_t tech)
{
	struct game a, b;
	double sum_err = 0, sum_sq = 0, sum_sq_err = 0;

	game_init(&a, 20, 1, 5.0);
	impair_run(&a, "exact");
	game_init(&b, 20, 1, 5.0);
	b.p.noise = profile;
	b.p.width_mm = a.p.width_mm;
	impair_run(&b, "noisy");
	cr_assert_eq(a.n_seen, b.n_seen, "noise moves no fix to another frame");
	for (uint32_t i = 0; i < b.n; i++)
		for (unsigned int k = 0; k < b.f[i].data[FC_PKT_HDR_LEN + 24]; k++) {
			const uint8_t *r = b.f[i].data + FC_PKT_HDR_LEN + 32 + 32 * k;
			uint16_t err;

			memcpy(&err, r + 24, 2);
			cr_assert(err >= lo && err <= hi, "err_mm %u outside %u .. %u", err, lo,
				  hi);
			cr_assert_eq(r[27] & FC_FIX_F_TECH_MASK, tech);
			sum_err += err;
			sum_sq_err += (double)err * err;
		}
	for (uint32_t i = 0; i < b.n_seen; i++) {
		double dx = b.seen[i].x_mm - a.seen[i].x_mm, dy = b.seen[i].y_mm - a.seen[i].y_mm;

		cr_assert_eq(a.seen[i].fix_seq, b.seen[i].fix_seq);
		sum_sq += dx * dx + dy * dy;
	}
	/* the mean error is the profile's sigma; per axis, the offsets' RMS is the RMS sigma
	 * (clamping at the walls only shrinks it) */
	cr_assert(fabs(sum_err / b.n_seen - (lo + hi) / 2.0) < (hi - lo) * 0.05, "mean err %.1f",
		  sum_err / b.n_seen);
	cr_assert(fabs(sqrt(sum_sq / (2 * b.n_seen)) / sqrt(sum_sq_err / b.n_seen) - 1) < 0.1,
		  "offsets RMS %.1f mm per axis for a sigma RMS of %.1f",
		  sqrt(sum_sq / (2 * b.n_seen)), sqrt(sum_sq_err / b.n_seen));
	game_free(&a);
	game_free(&b);
}

Test(impair, uwb_noise_is_about_20_mm_and_says_so)
{
	noise_stats(FC_GEN_NOISE_UWB, 10, 30, FC_FIX_TECH_UWB);
}

Test(impair, ble_aoa_noise_is_about_300_mm_and_says_so)
{
	noise_stats(FC_GEN_NOISE_BLE_AOA, 150, 450, FC_FIX_TECH_BLE_AOA);
}

Test(impair, players_crowd_the_hot_spot)
{
	struct game gm;
	struct fc_game_layout *l;
	char err[256];
	uint32_t near[4] = { 0 }, most_other = 0;

	write_file("clues.txt", CLUES);
	cr_assert_eq(fc_game_layout_load(in_dir("clues.txt"), &l, err, sizeof(err)), 0, "%s", err);
	game_init(&gm, 200, 4, 40.0);
	gm.p.rate_hz = 2;
	gm.p.layout = l;
	gm.p.attraction = 0.7;
	gm.p.hot_spots[0] = 3;
	gm.p.n_hot_spots = 1;
	gm.p.hot_weight = 10;
	impair_run(&gm, "g");
	for (uint32_t p = 0; p < 200; p++) {
		const struct fc_gen_final *f = &gm.r->final[p];

		for (uint32_t c = 0; c < l->n_clues; c++) {
			double dx = f->x_mm - l->clues[c].x_mm, dy = f->y_mm - l->clues[c].y_mm;

			near[c] += dx * dx + dy * dy <= 300.0 * 300.0;
		}
	}
	for (uint32_t c = 0; c < 4; c++)
		if (l->clues[c].clue_id != 3 && near[c] > most_other)
			most_other = near[c];
	/* 10 of 13 clue legs go to the hot spot (clue 3, index 2): a crowd there, a few at the
	 * others */
	cr_assert_gt(near[2], 30, "%u players at the hot spot", near[2]);
	cr_assert_gt(near[2], 3 * most_other, "%u at the hot spot, up to %u at another clue",
		     near[2], most_other);
	game_free(&gm);
	fc_game_layout_free(l);
}

Test(impair, every_impairment_at_once_keeps_the_tally_whole)
{
	struct game gm;
	struct fc_gen_scenario_file sc;
	char cmd[1024];

	game_init(&gm, 60, 4, 6.0);
	impaired_params(&gm, &sc);
	impair_run(&gm, "g"); /* the self-check ran every frame through the receive path */
	cr_assert(gm.r->lost_frames > 0 && gm.r->reordered_frames > 0 && gm.r->late_frames > 0 &&
		  gm.r->overlap_reports > 0 && gm.r->duplicate_reports > 0);
	cr_assert_eq(gm.r->applied + gm.r->older + gm.r->duplicates + gm.r->unknown_tags,
		     gm.r->fix_records);
	cr_assert_eq(gm.r->fix_records, gm.n_seen);
	snprintf(cmd, sizeof(cmd),
		 "f='%s' && grep -q '\"sent\": {\"frames\": %u, \"fixes\": %" PRIu64
		 ", \"fix_reports\": ' $f && grep -q '\"lost_frames\": %" PRIu64
		 ", ' $f && grep -q '\"reordered_frames\": %" PRIu64 ", \"late_frames\": %" PRIu64
		 ", ' $f && grep -q '\"skewed_gateways\": \\[{' $f"
		 " && grep -q '\"hostile\": {\"runt\": 1, ' $f && grep -q '\"model\": {' $f",
		 in_dir("g.json"), gm.n, gm.r->fixes, gm.r->lost_frames, gm.r->reordered_frames,
		 gm.r->late_frames);
	cr_assert_eq(system(cmd), 0, "the summary's sent and model");
	fc_gen_scenario_free(&sc);
	game_free(&gm);
}

Test(motion, a_team_and_a_fraction_of_tags_keep_rates_of_their_own)
{
	struct game gm;
	static struct seen fx[512];
	uint32_t at[3] = { 0 }; /* players at 20, 10 and 4 Hz */

	game_init(&gm, 80, 3, 3.0);
	gm.p.team_rates[0] = (struct fc_gen_team_rate){ .team = 3, .hz = 4 };
	gm.p.n_team_rates = 1;
	gm.p.rate_fraction = 0.5;
	gm.p.fraction_hz = 10;
	game_run(&gm, "g");
	receive_all(&gm, NULL);
	for (uint32_t p = 0; p < 80; p++) {
		uint32_t n = fixes_of(&gm, gm.roster[p].tag_id, fx, 512);
		uint64_t period = (fx[1].meas_ns - fx[0].meas_ns) / 1000;

		cr_assert_gt(n, 2);
		for (uint32_t i = 1; i < n; i++) {
			cr_assert_eq(fx[i].fix_seq, i + 1);
			cr_assert_eq((fx[i].meas_ns - fx[i - 1].meas_ns) / 1000, period,
				     "player %u: a steady rate", p);
		}
		if (gm.roster[p].team == 3) {
			cr_assert_eq(period, 250000, "team 3 at 4 Hz");
			at[2]++;
		} else {
			cr_assert(period == 50000 || period == 100000, "player %u: %" PRIu64 " us",
				  p, period);
			at[period == 100000]++;
		}
	}
	cr_assert_eq(at[2], 10);
	/* half of the other 70, drawn per player */
	cr_assert(at[1] > 20 && at[1] < 50, "%u of 70 players at 10 Hz", at[1]);
	cr_assert_eq(gm.r->applied, gm.r->fixes);
	game_free(&gm);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The generator's main loop (see fc_gen.h): players' fixes in time order, bucketed into their
 * gateway's next frame, encoded with the project's codec (fc_up_build, fc_pkt_write_headers),
 * merged across gateways into capture order, tallied as floord would count them, checked by a
 * receiver of its own, and handed to the sink.
 *
 * Time advances in steps of one frame period (25 ms). During step e every gateway sends
 * exactly once, at phase + e * 25 ms, the fixes measured since its previous send: so after the
 * fixes of [25e, 25e + 25) ms are taken, every gateway's frame of step e is complete, and
 * every frame still to come has a capture time of 25(e + 1) ms or later. What is older goes to
 * the sink; the rest waits one more step. Memory stays a few steps of frames deep.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_priv.h"

#define PERIOD_US ((uint64_t)FC_GEN_FRAME_PERIOD_US)

const uint8_t fc__gen_dst_mac[6] = { 0x02, 0x70, 0x63, 0x61, 0x70, 0x00 };

void
fc_gen_params_init(struct fc_gen_params *p)
{
	memset(p, 0, sizeof(*p));
	p->seconds = 10.0;
	p->rate_hz = 20.0;
	p->seed = 1;
	p->width_mm = 20000;
	p->height_mm = 10000;
	p->start_ns = FC_GEN_DEFAULT_START_NS;
	p->scenario = FC_GEN_NORMAL;
	p->dst_ip = 0xC6120001u; /* 198.18.0.1 */
	p->dst_port = 47474;
	p->clock_bound_ns = 2000000000ull;
	p->check = true;
}

int
fc__gen_fail(struct fc_gen *g, int rc, const char *fmt, ...)
{
	va_list ap;

	if (g->err != NULL && g->err_len > 0) {
		va_start(ap, fmt);
		vsnprintf(g->err, g->err_len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

void
fc__gen_gw_addr(uint32_t id, uint8_t mac[6], uint32_t *ip, uint16_t *port)
{
	/* 198.18.<1 + id / 256>.<id % 256>: 198.18.1.<id> for the usual ids 1..254; larger ids
	 * run on into 198.19.x.y, still inside the test range 198.18.0.0/15. */
	*ip = 0xC6120000u | ((256u + id) & 0x1FFFFu);
	*port = (uint16_t)(40000u + id % 20000u);
	mac[0] = 0x02;
	mac[1] = id > 0xFFFF ? 0x01 : 0x00;
	mac[2] = (uint8_t)(id >> 24);
	mac[3] = (uint8_t)(id >> 16);
	mac[4] = (uint8_t)(id >> 8);
	mac[5] = (uint8_t)id;
}

int
fc__gen_fixbuf_push(struct fc__gen_fixbuf *b, const struct fc__gen_fix *f)
{
	if (b->n == b->cap) {
		uint32_t cap = b->cap ? b->cap * 2 : 256;
		struct fc__gen_fix *v = realloc(b->v, (size_t)cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = *f;
	return 0;
}

uint32_t
fc__gen_zone(const struct fc_gen *g, int32_t x_mm)
{
	int64_t z = (int64_t)x_mm * g->n_gw / g->p.width_mm;

	if (z < 0)
		return 0;
	return z >= g->n_gw ? g->n_gw - 1 : (uint32_t)z;
}

uint64_t
fc__gen_send_slot(const struct fc_gen *g, uint32_t gidx, uint64_t t_us)
{
	uint64_t p = g->gwi[gidx].phase_us;

	if (t_us <= p)
		return p;
	return p + (t_us - p + PERIOD_US - 1) / PERIOD_US * PERIOD_US;
}

/* --- players ------------------------------------------------------------------------------ */

static void
player_init(const struct fc_gen *g, uint32_t pidx, struct fc__gen_player *pl)
{
	uint64_t rng = fc__gen_rng_seed(g->p.seed, FC__GEN_S_PLAYER, pidx);
	uint32_t span = g->period_us < 5000 ? g->period_us : 5000; /* phases within 5 ms */

	memset(pl, 0, sizeof(*pl));
	pl->pidx = pidx;
	pl->tag_id = g->p.roster[pidx].tag_id;
	pl->phase_us = fc__gen_rng_below(&rng, span);
	fc__gen_walker_init(&pl->w, &g->floor, rng, pidx < g->n_conv);
}

/* The player's fix of round k (k from 0): one step of the walk, then the rounded position. */
static inline void
player_take(const struct fc_gen *g, struct fc__gen_player *pl, uint64_t k, struct fc__gen_fix *f)
{
	if (k > 0)
		fc__gen_walker_step(&pl->w, &g->floor, g->period_us / 1e6);
	pl->fix_seq = (uint32_t)(k + 1);
	f->t_us = pl->phase_us + k * g->period_us;
	f->tag_id = pl->tag_id;
	f->pidx = pl->pidx;
	f->fix_seq = pl->fix_seq;
	f->x_mm = fc__gen_round(pl->w.x);
	f->y_mm = fc__gen_round(pl->w.y);
}

int
fc__gen_simulate_player(const struct fc_gen *g, uint32_t pidx, struct fc__gen_fixbuf *out)
{
	struct fc__gen_player pl;
	struct fc__gen_fix f;

	player_init(g, pidx, &pl);
	for (uint64_t k = 0; pl.phase_us + k * g->period_us < g->dur_us; k++) {
		player_take(g, &pl, k, &f);
		if (fc__gen_fixbuf_push(out, &f) != 0)
			return -ENOMEM;
	}
	return 0;
}

static int
cmp_player(const void *a, const void *b)
{
	const struct fc__gen_player *x = a, *y = b;

	if (x->phase_us != y->phase_us)
		return x->phase_us < y->phase_us ? -1 : 1;
	return x->pidx < y->pidx ? -1 : x->pidx > y->pidx;
}

/* --- set-up ------------------------------------------------------------------------------- */

static int
check_params(struct fc_gen *g, const struct fc_gen_params *p)
{
	if (p->roster == NULL || p->n_roster == 0)
		return fc__gen_fail(g, -EINVAL, "the roster is empty");
	if (p->keys == NULL || p->keys->n == 0)
		return fc__gen_fail(g, -EINVAL, "the keys file has no gateway");
	if (p->n_players > p->n_roster)
		return fc__gen_fail(g, -EINVAL,
				    "%" PRIu32 " players: the roster has %" PRIu32 " entries",
				    p->n_players, p->n_roster);
	if (p->n_gateways > p->keys->n)
		return fc__gen_fail(g, -EINVAL, "%" PRIu32 " gateways: the keys file has %" PRIu32,
				    p->n_gateways, p->keys->n);
	if (!(p->seconds >= 0.01 && p->seconds <= 86400))
		return fc__gen_fail(g, -EINVAL, "seconds %g: expected 0.01 .. 86400", p->seconds);
	if (!(p->rate_hz >= 0.1 && p->rate_hz <= 1000))
		return fc__gen_fail(g, -EINVAL, "rate %g Hz: expected 0.1 .. 1000", p->rate_hz);
	if (p->width_mm <= 2 * FC_GEN_MARGIN_MM || p->height_mm <= 2 * FC_GEN_MARGIN_MM ||
	    p->width_mm > 655350 || p->height_mm > 655350)
		return fc__gen_fail(g, -EINVAL,
				    "floor %" PRIu32 " x %" PRIu32
				    " mm: expected 201 .. 655350 mm a side",
				    p->width_mm, p->height_mm);
	if (p->scenario > FC_GEN_HOSTILE)
		return fc__gen_fail(g, -EINVAL, "unknown scenario %d", (int)p->scenario);
	if (p->scenario == FC_GEN_HOSTILE && p->seconds < 0.5)
		return fc__gen_fail(g, -EINVAL, "the hostile scenario needs 0.5 s or more");
	if (p->mac_alg != 0 && fc_mac_key_len(p->mac_alg) == 0)
		return fc__gen_fail(g, -EINVAL, "unknown MAC algorithm %u", p->mac_alg);
	return 0;
}

static int
setup_gateways(struct fc_gen *g)
{
	g->gwi = calloc(g->n_gw, sizeof(*g->gwi));
	g->gw = calloc(g->n_gw, sizeof(*g->gw));
	if (g->gwi == NULL || g->gw == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < g->n_gw; i++) {
		const struct fc_gateway *src = &g->p.keys->gw[i];
		struct fc_gen_gateway *gi = &g->gwi[i];
		struct fc__gen_gw *gw = &g->gw[i];
		uint64_t rng = fc__gen_rng_seed(g->p.seed, FC__GEN_S_LATENCY, src->id);

		for (uint32_t k = 0; k < src->n_keys && gw->key == NULL; k++)
			if (g->p.mac_alg == 0 || src->keys[k].alg == g->p.mac_alg)
				gw->key = &src->keys[k];
		if (gw->key == NULL)
			return fc__gen_fail(
				g, -EINVAL, "gateway %" PRIu32 " has no %s key", src->id,
				g->p.mac_alg == FC_MAC_SIPHASH24 ? "siphash24" : "hmac-sha256-128");
		gi->id = src->id;
		gi->key_id = gw->key->key_id;
		gi->mac_alg = gw->key->alg;
		fc__gen_gw_addr(src->id, gi->mac, &gi->ip, &gi->port);
		gi->latency_us = 200 + fc__gen_rng_below(&rng, 701);
		gi->phase_us = (uint32_t)(i * PERIOD_US / g->n_gw);
		/* the last send is the first at or after the end of the fixes */
		gw->last_slot =
			(uint32_t)((fc__gen_send_slot(g, i, g->dur_us) - gi->phase_us) / PERIOD_US);
	}
	return 0;
}

/* The check's receiver: the whole key table (floord knows every gateway), fresh windows. */
static int
setup_check(struct fc_gen *g)
{
	const struct fc_gw_table *k = g->p.keys;

	g->rx_keys = fc_gw_table_create();
	if (g->rx_keys == NULL)
		return -ENOMEM;
	g->rx_keys->gw = malloc((size_t)k->n * sizeof(*k->gw));
	if (g->rx_keys->gw == NULL)
		return -ENOMEM;
	memcpy(g->rx_keys->gw, k->gw, (size_t)k->n * sizeof(*k->gw));
	g->rx_keys->n = g->rx_keys->cap = k->n;
	for (uint32_t i = 0; i < k->n; i++)
		fc_replay_window_init(&g->rx_keys->gw[i].window);
	return 0;
}

struct fc_gen *
fc_gen_create(const struct fc_gen_params *p, char *err, size_t err_len)
{
	struct fc_gen *g = calloc(1, sizeof(*g));
	int rc;

	if (g == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	g->err = err;
	g->err_len = err_len;
	rc = check_params(g, p);
	if (rc != 0)
		goto fail;
	g->p = *p;
	if (g->p.n_players == 0)
		g->p.n_players = p->n_roster;
	if (g->p.n_gateways == 0)
		g->p.n_gateways = p->keys->n;
	g->n_gw = g->p.n_gateways;
	g->start_ns = p->start_ns - p->start_ns % 1000; /* every time a whole us */
	g->dur_us = (uint64_t)llround(p->seconds * 1e6);
	g->period_us = (uint32_t)lround(1e6 / p->rate_hz);
	g->floor.w = p->width_mm;
	g->floor.h = p->height_mm;
	g->floor.cx = p->width_mm / 2.0;
	g->floor.cy = p->height_mm / 2.0;
	g->n_conv = p->scenario == FC_GEN_CROWDED ? g->p.n_players / 2 : 0;

	rc = setup_gateways(g);
	if (rc != 0)
		goto fail;
	g->players = calloc(g->p.n_players, sizeof(*g->players));
	g->final = calloc(g->p.n_players, sizeof(*g->final));
	if (g->players == NULL || g->final == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < g->p.n_players; i++) {
		player_init(g, i, &g->players[i]);
		g->final[i].tag_id = p->roster[i].tag_id;
		g->final[i].player = p->roster[i].player;
		g->final[i].team = p->roster[i].team;
	}
	qsort(g->players, g->p.n_players, sizeof(*g->players), cmp_player);
	g->held_pidx = FC__GEN_NO_PLAYER;
	if (p->scenario == FC_GEN_HOSTILE) {
		rc = fc__gen_plan_hostile(g);
		if (rc != 0)
			goto fail;
	}
	if (p->check) {
		rc = setup_check(g);
		if (rc != 0)
			goto fail;
	}

	g->res.n_players = g->p.n_players;
	g->res.final = g->final;
	g->res.n_gateways = g->n_gw;
	g->res.gateways = g->gwi;
	g->res.centre_x_mm = p->width_mm / 2;
	g->res.centre_y_mm = p->height_mm / 2;
	g->res.n_converging = g->n_conv;
	return g;
fail:
	if (rc == -ENOMEM)
		fc__gen_fail(g, rc, "out of memory");
	fc_gen_free(g);
	errno = -rc;
	return NULL;
}

void
fc_gen_note_live(struct fc_gen *g, const struct fc_gen_live *lv)
{
	g->live = lv;
}

void
fc_gen_free(struct fc_gen *g)
{
	if (g == NULL)
		return;
	for (uint32_t i = 0; g->gw != NULL && i < g->n_gw; i++) {
		free(g->gw[i].cur.v);
		free(g->gw[i].next.v);
	}
	for (uint32_t i = 0; i < g->n_pool; i++)
		free(g->pool[i]);
	for (uint32_t i = 0; i < g->n_pending; i++)
		free(g->pending[i]);
	free(g->pool);
	free(g->pending);
	free(g->gw);
	free(g->gwi);
	free(g->players);
	free(g->final);
	fc_gw_table_free(g->rx_keys);
	free(g);
}

const struct fc_gen_result *
fc_gen_result(const struct fc_gen *g)
{
	return &g->res;
}

/* --- frames ------------------------------------------------------------------------------- */

static struct fc__gen_frame *
frame_get(struct fc_gen *g)
{
	struct fc__gen_frame *f;

	if (g->n_pool > 0)
		f = g->pool[--g->n_pool];
	else
		f = malloc(sizeof(*f));
	if (f != NULL) {
		f->n_rec = 0;
		f->cls = -1;
	}
	return f;
}

static int
frame_put(struct fc_gen *g, struct fc__gen_frame *f)
{
	if (g->n_pool == g->cap_pool) {
		uint32_t cap = g->cap_pool ? g->cap_pool * 2 : 64;
		struct fc__gen_frame **v = realloc(g->pool, (size_t)cap * sizeof(*v));

		if (v == NULL) {
			free(f);
			return -ENOMEM;
		}
		g->pool = v;
		g->cap_pool = cap;
	}
	g->pool[g->n_pool++] = f;
	return 0;
}

static int
frame_queue(struct fc_gen *g, struct fc__gen_frame *f)
{
	if (g->n_pending == g->cap_pending) {
		uint32_t cap = g->cap_pending ? g->cap_pending * 2 : 256;
		struct fc__gen_frame **v = realloc(g->pending, (size_t)cap * sizeof(*v));

		if (v == NULL) {
			free(f);
			return -ENOMEM;
		}
		g->pending = v;
		g->cap_pending = cap;
	}
	f->order = g->order++;
	g->pending[g->n_pending++] = f;
	return 0;
}

void
fc__gen_put_headers(const struct fc_gen *g, uint32_t gw_id, struct fc__gen_frame *f,
		    uint32_t payload_len)
{
	struct fc_pkt_tx_tmpl t = { .ttl = FC__GEN_TTL };

	fc__gen_gw_addr(gw_id, t.src_mac, &t.src_ip, &t.src_port);
	fc_pkt_write_headers(f->data, &t, fc__gen_dst_mac, g->p.dst_ip, g->p.dst_port,
			     (uint16_t)payload_len);
	f->len = FC_PKT_HDR_LEN + payload_len;
}

int
fc__gen_encode_fixes(struct fc_gen *g, uint32_t gidx, uint64_t send_us, uint64_t seq,
		     const struct fc__gen_fix *rec, uint32_t n, struct fc__gen_frame *f)
{
	struct fc_up_fix fix[FC_GEN_MAX_FIXES];
	struct fc_up_hdr hdr = { 0 };
	/* base time: a frame period before the send, or the oldest record if that is older
	 * (a late fix): never after the earliest record time (docs/protocol.md section 3.5) */
	int64_t base_us = (int64_t)send_us - (int64_t)PERIOD_US;
	int len;

	for (uint32_t i = 0; i < n; i++)
		if ((int64_t)rec[i].t_us < base_us)
			base_us = (int64_t)rec[i].t_us;
	for (uint32_t i = 0; i < n; i++) {
		fix[i] = (struct fc_up_fix){
			.tag_id = rec[i].tag_id,
			.x_mm = rec[i].x_mm,
			.y_mm = rec[i].y_mm,
			.z_mm = FC__GEN_Z_MM,
			.dt_us = (uint32_t)((int64_t)rec[i].t_us - base_us),
			.err_mm = FC__GEN_ERR_MM,
			.quality = FC__GEN_QUALITY,
			.flags = FC__GEN_FLAGS,
			.fix_seq = rec[i].fix_seq,
		};
		f->rec[i] = rec[i];
	}
	f->n_rec = n;
	hdr.msg_type = FC_UP_FIX_BATCH;
	hdr.gateway_id = g->gwi[gidx].id;
	hdr.seq = seq;
	hdr.base_time_ns = (uint64_t)((int64_t)g->start_ns + base_us * 1000);
	hdr.record_count = (uint16_t)n;
	len = fc_up_build(f->data + FC_PKT_HDR_LEN, FC_WIRE_MAX_PAYLOAD, &hdr, fix,
			  g->gw[gidx].key);
	if (len < 0)
		return fc__gen_fail(
			g, len, "gateway %" PRIu32 ": cannot build a frame of %" PRIu32 " fixes",
			hdr.gateway_id, n);
	fc__gen_put_headers(g, hdr.gateway_id, f, (uint32_t)len);
	f->gidx = gidx;
	f->ts_us = send_us + g->gwi[gidx].latency_us;
	g->gwi[gidx].frames++;
	return 0;
}

/* The regular frames of step e of gateway gidx: its fixes, split at 42, or a keepalive. */
static int
emit_regular(struct fc_gen *g, uint32_t gidx, uint64_t send_us)
{
	struct fc__gen_gw *gw = &g->gw[gidx];
	struct fc__gen_fixbuf *b = &gw->cur;
	uint32_t chunks = b->n == 0 ? 1 : (b->n + FC_GEN_MAX_FIXES - 1) / FC_GEN_MAX_FIXES;
	/* the unknown tag rides in the first frame at or after its time with room for it */
	bool room = b->n % FC_GEN_MAX_FIXES != 0 || b->n == 0;
	bool inject = gw->inject_unknown_tag && send_us >= gw->inject_after_us && room;
	struct fc__gen_fix rec[FC_GEN_MAX_FIXES];
	int rc;

	for (uint32_t c = 0; c < chunks; c++) {
		uint32_t first = c * FC_GEN_MAX_FIXES;
		uint32_t n = b->n - first < FC_GEN_MAX_FIXES ? b->n - first : FC_GEN_MAX_FIXES;
		struct fc__gen_frame *f = frame_get(g);
		bool last = c + 1 == chunks;

		if (f == NULL)
			return -ENOMEM;
		if (n > 0) /* a keepalive's buffer may never have been allocated */
			memcpy(rec, b->v + first, (size_t)n * sizeof(rec[0]));
		if (inject && last) {
			/* the stranger tag's fix, measured at the send time, mid-floor */
			rec[n++] = (struct fc__gen_fix){ .t_us = send_us,
							 .tag_id = g->stranger_tag,
							 .pidx = FC__GEN_NO_PLAYER,
							 .fix_seq = 1,
							 .x_mm = (int32_t)(g->p.width_mm / 2),
							 .y_mm = (int32_t)(g->p.height_mm / 2) };
			f->cls = FC_GEN_H_UNKNOWN_TAG;
			gw->inject_unknown_tag = false;
		}
		rc = fc__gen_encode_fixes(g, gidx, send_us, FC_UP_SEQ(1, ++gw->counter), rec, n, f);
		if (rc != 0) {
			free(f);
			return rc;
		}
		gw->last_valid_len = f->len - FC_PKT_HDR_LEN;
		memcpy(gw->last_valid, f->data + FC_PKT_HDR_LEN, gw->last_valid_len);
		rc = frame_queue(g, f);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
emit_hostile(struct fc_gen *g, const struct fc__gen_hostile *h)
{
	struct fc__gen_frame *f = frame_get(g);
	int rc;

	if (f == NULL)
		return -ENOMEM;
	rc = fc__gen_encode_hostile(g, h, f);
	if (rc != 0) {
		free(f);
		return rc;
	}
	f->cls = (int)h->cls;
	return frame_queue(g, f);
}

/*
 * Step e of gateway gidx (or of the hosts that are not gateways, gidx == n_gw): its hostile
 * frames of [25e, 25e + 25) ms and its regular frame, in send order (a hostile frame first at
 * the same time), so that seq counters follow send order.
 */
static int
emit_step(struct fc_gen *g, uint32_t gidx, uint64_t e)
{
	bool regular = gidx < g->n_gw && e <= g->gw[gidx].last_slot;
	uint64_t send = gidx < g->n_gw ? g->gwi[gidx].phase_us + e * PERIOD_US : 0;
	uint64_t lo = e * PERIOD_US, hi = lo + PERIOD_US;
	int rc;

	/* g->hostile is sorted by send time: a merge of two ordered lists */
	for (uint32_t j = 0; j <= g->n_hostile; j++) {
		const struct fc__gen_hostile *h = j < g->n_hostile ? &g->hostile[j] : NULL;

		if (h != NULL && (h->gidx != gidx || h->send_us < lo || h->send_us >= hi))
			continue;
		if (regular && (h == NULL || h->send_us > send)) {
			rc = emit_regular(g, gidx, send);
			if (rc != 0)
				return rc;
			regular = false;
		}
		if (h != NULL) {
			rc = emit_hostile(g, h);
			if (rc != 0)
				return rc;
		}
	}
	if (gidx < g->n_gw) {
		struct fc__gen_fixbuf t = g->gw[gidx].cur;

		g->gw[gidx].cur = g->gw[gidx].next;
		g->gw[gidx].next = t;
		g->gw[gidx].next.n = 0;
	}
	return 0;
}

/* --- the receiver's view: tally and check -------------------------------------------------- */

enum outcome { OUT_APPLIED, OUT_OLDER, OUT_DUPLICATE, OUT_UNKNOWN_TAG };

/* floord's newest-wins rule (fc_owner_apply in lib/grid/fc_grid.h), on the final positions. */
static enum outcome
tally_record(struct fc_gen *g, const struct fc__gen_fix *r)
{
	struct fc_gen_final *c;
	uint64_t meas;

	if (r->pidx == FC__GEN_NO_PLAYER) {
		g->res.unknown_tags++;
		return OUT_UNKNOWN_TAG;
	}
	c = &g->final[r->pidx];
	meas = g->start_ns + r->t_us * 1000;
	if (c->fix_seq != 0) {
		bool same = r->fix_seq == c->fix_seq;

		if (meas < c->t_ns || (meas == c->t_ns && r->fix_seq <= c->fix_seq)) {
			if (same) {
				g->res.duplicates++;
				return OUT_DUPLICATE;
			}
			g->res.older++;
			return OUT_OLDER;
		}
		if (same && r->x_mm == c->x_mm && r->y_mm == c->y_mm) {
			c->t_ns = meas;
			g->res.duplicates++;
			return OUT_DUPLICATE;
		}
	}
	c->fix_seq = r->fix_seq;
	c->t_ns = meas;
	c->x_mm = r->x_mm;
	c->y_mm = r->y_mm;
	c->z_mm = FC__GEN_Z_MM;
	g->res.applied++;
	return OUT_APPLIED;
}

/* Where a frame of class cls (-1 valid) must land: a net verdict, an uplink error, or OK. */
static void
expected(int cls, enum fc_pkt_verdict *net, enum fc_up_err *up)
{
	static const struct {
		enum fc_pkt_verdict net;
		enum fc_up_err up;
	} want[FC_GEN_H__COUNT] = {
		[FC_GEN_H_RUNT] = { FC_PKT_OK, FC_UP_E_RUNT },
		[FC_GEN_H_BAD_MAGIC] = { FC_PKT_OK, FC_UP_E_BAD_MAGIC },
		[FC_GEN_H_ARP] = { FC_PKT_ARP, FC_UP_OK },
		[FC_GEN_H_BAD_VERSION] = { FC_PKT_OK, FC_UP_E_BAD_VERSION },
		[FC_GEN_H_BAD_MSG_TYPE] = { FC_PKT_OK, FC_UP_E_BAD_MSG_TYPE },
		[FC_GEN_H_IPV6_UDP] = { FC_PKT_IPV6, FC_UP_OK },
		[FC_GEN_H_BAD_MAC_ALG] = { FC_PKT_OK, FC_UP_E_BAD_MAC_ALG },
		[FC_GEN_H_BAD_RECORD_LEN] = { FC_PKT_OK, FC_UP_E_BAD_RECORD_LEN },
		[FC_GEN_H_ICMP_ECHO] = { FC_PKT_NOT_UDP, FC_UP_OK },
		[FC_GEN_H_BAD_RECORD_COUNT] = { FC_PKT_OK, FC_UP_E_BAD_RECORD_COUNT },
		[FC_GEN_H_BAD_LENGTH] = { FC_PKT_OK, FC_UP_E_BAD_LENGTH },
		[FC_GEN_H_IPV4_FRAGMENT] = { FC_PKT_FRAGMENT, FC_UP_OK },
		[FC_GEN_H_UNKNOWN_GATEWAY] = { FC_PKT_OK, FC_UP_E_UNKNOWN_GATEWAY },
		[FC_GEN_H_UNKNOWN_KEY] = { FC_PKT_OK, FC_UP_E_UNKNOWN_KEY },
		[FC_GEN_H_OTHER_PORT] = { FC_PKT_WRONG_PORT, FC_UP_OK },
		[FC_GEN_H_KEY_ALG_MISMATCH] = { FC_PKT_OK, FC_UP_E_KEY_ALG_MISMATCH },
		[FC_GEN_H_REPLAY_OLD] = { FC_PKT_OK, FC_UP_E_REPLAY_OLD },
		[FC_GEN_H_ETH_RUNT] = { FC_PKT_RUNT, FC_UP_OK },
		[FC_GEN_H_REPLAY_DUP] = { FC_PKT_OK, FC_UP_E_REPLAY_DUP },
		[FC_GEN_H_BAD_MAC] = { FC_PKT_OK, FC_UP_E_BAD_MAC },
		[FC_GEN_H_OTHER_ETHERTYPE] = { FC_PKT_OTHER_L2, FC_UP_OK },
		[FC_GEN_H_CLOCK_SKEW] = { FC_PKT_OK, FC_UP_E_CLOCK_SKEW },
		[FC_GEN_H_BAD_IP_CHECKSUM] = { FC_PKT_BAD_IPV4, FC_UP_OK },
		[FC_GEN_H_UNKNOWN_TAG] = { FC_PKT_OK, FC_UP_OK },
		[FC_GEN_H_BAD_UDP_LENGTH] = { FC_PKT_BAD_UDP, FC_UP_OK },
		[FC_GEN_H_DUPLICATE_FIX] = { FC_PKT_OK, FC_UP_OK },
		[FC_GEN_H_OLDER_FIX] = { FC_PKT_OK, FC_UP_OK },
	};

	*net = cls < 0 ? FC_PKT_OK : want[cls].net;
	*up = cls < 0 ? FC_UP_OK : want[cls].up;
}

static const char *
class_name(int cls)
{
	return cls < 0 ? "valid" : fc_gen_hostile_name((enum fc_gen_hostile)cls);
}

/* The check: the frame through the receive path floord runs, with windows of its own. */
static int
check_frame(struct fc_gen *g, const struct fc__gen_frame *f, uint64_t idx, uint64_t ts_ns,
	    enum fc_pkt_verdict want_net, enum fc_up_err want_up)
{
	struct fc_pkt_info info;
	struct fc_up_view v;
	struct fc_gateway *gw;
	enum fc_pkt_verdict net;
	enum fc_up_err up = FC_UP_OK;

	net = fc_pkt_classify(f->data, f->len, g->p.dst_ip, g->p.dst_port, &info);
	if (net == FC_PKT_OK)
		up = fc_up_accept(g->rx_keys, f->data + info.payload_off, info.payload_len, ts_ns,
				  g->p.clock_bound_ns, &v, &gw);
	if (net != want_net || up != want_up)
		return fc__gen_fail(g, -EPROTO, "frame %" PRIu64 " (%s) lands in %s.%s, not %s.%s",
				    idx, class_name(f->cls), net ? "net" : "uplink",
				    net ? fc_pkt_verdict_name(net) : fc_up_err_name(up),
				    want_net ? "net" : "uplink",
				    want_net ? fc_pkt_verdict_name(want_net)
					     : fc_up_err_name(want_up));
	if (net == FC_PKT_OK && up == FC_UP_OK && v.hdr.record_count != f->n_rec)
		return fc__gen_fail(g, -EPROTO,
				    "frame %" PRIu64 " (%s): %u records, %" PRIu32 " meant", idx,
				    class_name(f->cls), v.hdr.record_count, f->n_rec);
	return 0;
}

static int
write_frame(struct fc_gen *g, struct fc__gen_frame *f, fc_gen_sink_fn sink, void *ctx)
{
	uint64_t idx, ts_ns = g->start_ns + f->ts_us * 1000;
	enum fc_pkt_verdict want_net;
	enum fc_up_err want_up;
	int rc;

	/* a socket sends only UDP to floord's port: the other hosts' frames are not its to send */
	if (g->p.udp_only && f->gidx >= g->n_gw) {
		g->res.skipped[f->cls]++;
		return 0;
	}
	idx = g->res.frames++;
	if (idx == 0)
		g->res.first_ts_ns = ts_ns;
	g->res.last_ts_ns = ts_ns;
	expected(f->cls, &want_net, &want_up);
	if (f->cls >= 0) {
		g->res.hostile_sent[f->cls] = true;
		g->res.hostile[f->cls] = (struct fc_gen_hostile_frame){
			.frame_index = idx,
			.ts_ns = ts_ns,
			.gateway_id = f->gidx < g->n_gw ? g->gwi[f->gidx].id : 0,
		};
	}
	if (g->rx_keys != NULL) {
		rc = check_frame(g, f, idx, ts_ns, want_net, want_up);
		if (rc != 0)
			return rc;
	}
	if (want_net != FC_PKT_OK) {
		g->res.net[want_net]++;
	} else if (want_up != FC_UP_OK) {
		g->res.up[want_up]++;
	} else {
		enum outcome last = OUT_APPLIED;

		g->res.gw_frames++;
		g->res.keepalives += f->n_rec == 0;
		g->res.fix_records += f->n_rec;
		for (uint32_t i = 0; i < f->n_rec; i++)
			last = tally_record(g, &f->rec[i]);
		/* the telling record of these classes is the frame's last */
		if ((f->cls == FC_GEN_H_UNKNOWN_TAG && last != OUT_UNKNOWN_TAG) ||
		    (f->cls == FC_GEN_H_DUPLICATE_FIX && last != OUT_DUPLICATE) ||
		    (f->cls == FC_GEN_H_OLDER_FIX && last != OUT_OLDER))
			return fc__gen_fail(g, -EPROTO,
					    "frame %" PRIu64 " (%s): its record is not "
					    "counted as %s",
					    idx, class_name(f->cls),
					    fc_gen_hostile_counter((enum fc_gen_hostile)f->cls));
	}
	return sink(ctx, ts_ns, f->data, f->len);
}

static int
cmp_frame(const void *a, const void *b)
{
	const struct fc__gen_frame *x = *(struct fc__gen_frame *const *)a;
	const struct fc__gen_frame *y = *(struct fc__gen_frame *const *)b;

	if (x->ts_us != y->ts_us)
		return x->ts_us < y->ts_us ? -1 : 1;
	if (x->gidx != y->gidx)
		return x->gidx < y->gidx ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Hands the sink every pending frame captured before bound_us, in capture order. */
static int
flush(struct fc_gen *g, uint64_t bound_us, fc_gen_sink_fn sink, void *ctx)
{
	uint32_t i, kept = 0;
	int rc = 0;

	qsort(g->pending, g->n_pending, sizeof(*g->pending), cmp_frame);
	for (i = 0; i < g->n_pending && g->pending[i]->ts_us < bound_us;) {
		struct fc__gen_frame *f = g->pending[i++];

		rc = write_frame(g, f, sink, ctx);
		if (rc == 0) {
			rc = frame_put(g, f); /* frees f if it fails */
		} else {
			free(f);
		}
		if (rc != 0)
			break;
	}
	for (uint32_t j = i; j < g->n_pending; j++)
		g->pending[kept++] = g->pending[j];
	g->n_pending = kept;
	return rc;
}

/* --- the run ------------------------------------------------------------------------------ */

/* Every player's newest fix as counted must be the last it measured: newest wins. */
static int
check_final(struct fc_gen *g)
{
	for (uint32_t i = 0; i < g->p.n_players; i++) {
		const struct fc__gen_player *pl = &g->players[i];
		const struct fc_gen_final *c = &g->final[pl->pidx];

		if (c->fix_seq != pl->fix_seq || c->x_mm != fc__gen_round(pl->w.x) ||
		    c->y_mm != fc__gen_round(pl->w.y))
			return fc__gen_fail(g, -EPROTO,
					    "player %u ends on fix %" PRIu32 ", not on "
					    "its last fix %" PRIu32,
					    c->player, c->fix_seq, pl->fix_seq);
	}
	for (uint32_t i = 0; i < g->n_hostile; i++)
		if (!g->res.hostile_sent[g->hostile[i].cls] && !g->res.skipped[g->hostile[i].cls])
			return fc__gen_fail(g, -EPROTO, "hostile %s was never sent",
					    fc_gen_hostile_name(g->hostile[i].cls));
	if (g->p.scenario == FC_GEN_HOSTILE && !g->res.hostile_sent[FC_GEN_H_UNKNOWN_TAG])
		return fc__gen_fail(g, -EPROTO, "the unknown tag was never sent");
	return 0;
}

int
fc_gen_run(struct fc_gen *g, fc_gen_sink_fn sink, void *ctx, char *err, size_t err_len)
{
	const uint32_t n = g->p.n_players;
	double r2 = (double)FC_GEN_HOLD_MM * FC_GEN_HOLD_MM;
	uint64_t e_last = 0, k = 0;
	uint32_t i = 0;
	int rc;

	g->err = err;
	g->err_len = err_len;
	if (g->ran++)
		return fc__gen_fail(g, -EALREADY, "the generator has already run");
	for (uint32_t gi = 0; gi < g->n_gw; gi++)
		if (g->gw[gi].last_slot > e_last)
			e_last = g->gw[gi].last_slot;
	for (uint32_t h = 0; h < g->n_hostile; h++)
		if (g->hostile[h].send_us / PERIOD_US > e_last)
			e_last = g->hostile[h].send_us / PERIOD_US;

	for (uint64_t e = 0; e <= e_last; e++) {
		uint64_t end = (e + 1) * PERIOD_US;
		uint64_t lim = end < g->dur_us ? end : g->dur_us;

		/* Round k, players by phase: every fix in time order (phases are < one period). */
		for (;;) {
			struct fc__gen_player *pl = &g->players[i];
			struct fc__gen_fix f;
			uint32_t gidx;

			if (pl->phase_us + k * g->period_us >= lim)
				break;
			player_take(g, pl, k, &f);
			g->res.fixes++;
			if (pl->w.converge && g->final[pl->pidx].arrival_ns == 0) {
				double dx = f.x_mm - g->floor.cx, dy = f.y_mm - g->floor.cy;

				if (dx * dx + dy * dy <= r2)
					g->final[pl->pidx].arrival_ns = g->start_ns + f.t_us * 1000;
			}
			if (++i == n) {
				i = 0;
				k++;
			}
			if (f.pidx == g->held_pidx && f.fix_seq == g->held_seq)
				continue; /* the older_fix: sent late, by hostile.c */
			gidx = fc__gen_zone(g, f.x_mm);
			rc = fc__gen_fixbuf_push(f.t_us <= g->gwi[gidx].phase_us + e * PERIOD_US
							 ? &g->gw[gidx].cur
							 : &g->gw[gidx].next,
						 &f);
			if (rc != 0)
				return fc__gen_fail(g, rc, "out of memory");
		}
		for (uint32_t gi = 0; gi <= g->n_gw; gi++) {
			rc = emit_step(g, gi, e);
			if (rc != 0)
				return rc == -ENOMEM ? fc__gen_fail(g, rc, "out of memory") : rc;
		}
		rc = flush(g, end, sink, ctx);
		if (rc != 0)
			return rc;
	}
	rc = flush(g, UINT64_MAX, sink, ctx);
	if (rc != 0)
		return rc;
	return check_final(g);
}

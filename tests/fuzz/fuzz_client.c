/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the subscriber library (suite fuzz): one fc_client driven through a
 * sequence of datagrams, so that the recovery state machine of docs/protocol.md section 7
 * (sessions, duplicates, gaps, reordering, retransmit requests, timeouts, refusals, the snapshot
 * loop, the end of a session) is fuzzed, not only the decoder it calls. Every datagram is one
 * anyone on the floor network can forge.
 *
 * Input (little-endian):
 *
 *   header, 5 bytes (missing bytes read as 0):
 *     [0] max_players = 1 + b           (1 .. 256)
 *     [1] max_teams   = 1 + (b & 31)    (1 .. 32)
 *     [2] max_clues   = 1 + (b & 31)    (1 .. 32)
 *     [3] max_claims  = 1 + (b & 15)    (1 .. 16)
 *     [4] bit 0: no send_request (no retransmit service); bit 1: no notify callback;
 *         bits 2-7 = v: event_buffer_bytes, the default if v is 0, else 1400 + 64 * (v - 1)
 *   then records until the input ends:
 *     [u16 len][u8 step][len bytes: one datagram; the input's tail if shorter]
 *   step:
 *     bits 0-2  time advance before the record: 0, 1 us, 1 ms, 10 ms, 50 ms, 100 ms (the
 *               retransmit timeout), 250 ms, 1 s (liveness, and the wait after an end of session)
 *     bit 3     fc_client_poll() before the datagram
 *     bit 4     send_request fails (-ENOBUFS) for the requests made during this record
 *     bit 5     a burst: the datagram is fed, then 15 more times as the next packets of its
 *               channel would be (packet_seq + 1 unless 0, first_event_seq + event_count), so
 *               that a short input fills the event buffer and crosses the 256-event limit
 *     bit 6     after the datagram, time jumps to fc_client_next_deadline() (if within 10 s)
 *     bit 7     no datagram: time passes and the client is polled, nothing else
 *   fc_client_poll() runs after every record, and 2 s past the last one at the end.
 *
 * Each datagram is copied to a heap buffer of exactly its size (ASan reports a read one byte
 * past it). After every call the whole state is read through the public API (every position,
 * clue, score, team and claim, the info and the counters) and checked against what
 * fc_client.h promises; the notify callback reads it too, and checks the notes' order; the
 * send_request callback checks each request is a well-formed one (docs/protocol.md section
 * 6.1) for events the client is missing. A broken promise aborts, which libFuzzer reports as a
 * crash with the input saved.
 *
 * Not checked: field values the library passes on as floord sent them (a clue's state and
 * winner, a round's state, position status bits), which a forged packet sets to anything.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_client.h"
#include "fc_downlink.h"

#include "fuzz_check.h"

#define HDR_LEN 5u
#define REC_LEN 3u /* u16 length, u8 step */

#define STEP_TIME     0x07u
#define STEP_POLL     0x08u
#define STEP_SEND_ERR 0x10u
#define STEP_BURST    0x20u
#define STEP_DEADLINE 0x40u
#define STEP_NO_DGRAM 0x80u

#define MS    1000000ull
#define BURST 16u

static const uint64_t advance_ns[8] = {
	0, 1000, 1 * MS, 10 * MS, 50 * MS, 100 * MS, 250 * MS, 1000 * MS,
};

/* What one reading of the state saw, to compare with the next one. */
struct seen {
	struct fc_client_info in;
	struct fc_client_stats st;
	uint64_t tables;    /* digest of the round, clues, scores and team totals */
	uint64_t claims;    /* of the claims history */
	uint64_t positions; /* of every position */
};

/* One input's run. */
static struct {
	struct fc_client *c;
	struct fc_client_params p;
	uint64_t fed;       /* fc_client_feed() calls */
	uint64_t bad;       /* of which -EBADMSG */
	uint64_t sent;      /* send_request calls */
	uint64_t send_errs; /* of which failed */
	bool send_fail;     /* what send_request returns now */
	bool in_call;       /* inside feed or poll: the callbacks may run */
	bool expect_known;  /* the next EVENT note's event_seq is known */
	uint64_t expect_seq;
	struct seen prev;               /* at the last check_after() */
	uint64_t stamp[1u + UINT8_MAX]; /* each player's position packet_seq then (0: unheard) */
} F;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FNV-1a over a field's value (fields one by one: structs have padding). */
static void
mix(uint64_t *h, uint64_t v)
{
	for (unsigned int i = 0; i < 8; i++) {
		*h ^= (v >> (8 * i)) & 0xFF;
		*h *= 0x100000001B3ull;
	}
}

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* ---- reading the whole state -------------------------------------------------------------- */

static void
read_positions(const struct fc_client *c, struct seen *sn)
{
	struct fc_client_position pos, one;
	uint32_t cur = 0, n = 0;
	int32_t last = -1;
	uint64_t h = 0xCBF29CE484222325ull;

	while (fc_client_next_position(c, &cur, &pos)) {
		CHECK(n < F.p.max_players); /* the iterator terminates */
		CHECK(pos.player < F.p.max_players);
		CHECK((int32_t)pos.player > last); /* in player order, each once */
		CHECK(pos.packet_seq != 0);        /* heard: a stamp */
		CHECK(fc_client_position(c, pos.player, &one) == 0);
		CHECK(one.player == pos.player && one.x_cm == pos.x_cm && one.y_cm == pos.y_cm &&
		      one.z_dm == pos.z_dm && one.status == pos.status && one.tick == pos.tick &&
		      one.packet_seq == pos.packet_seq);
		mix(&h, pos.player);
		mix(&h, (uint64_t)pos.x_cm << 32 | (uint64_t)pos.y_cm << 16 | (uint8_t)pos.z_dm);
		mix(&h, (uint64_t)pos.status << 32 | pos.tick);
		mix(&h, pos.packet_seq);
		last = pos.player;
		n++;
	}
	CHECK(n == sn->in.players);
	CHECK(!fc_client_next_position(c, &cur, &pos)); /* and stays terminated */
	CHECK(fc_client_position(c, (uint16_t)F.p.max_players, &one) == -ERANGE);
	CHECK(fc_client_position(c, 0xFFFFu, &one) == -ERANGE);
	sn->positions = h;
}

static void
read_clues(const struct fc_client *c, struct seen *sn)
{
	struct fc_client_clue k, one;
	uint32_t cur = 0, n = 0;
	int64_t last = -1;

	while (fc_client_next_clue(c, &cur, &k)) {
		CHECK(n < F.p.max_clues);
		CHECK((int64_t)k.clue_id > last); /* in clue_id order, each once */
		/* a clue known only from a claim has no centre or radius */
		CHECK(k.located || (k.x_cm == 0 && k.y_cm == 0 && k.radius_mm == 0));
		CHECK(fc_client_clue(c, k.clue_id, &one) == 0);
		CHECK(one.clue_id == k.clue_id && one.points == k.points && one.x_cm == k.x_cm &&
		      one.y_cm == k.y_cm && one.radius_mm == k.radius_mm && one.state == k.state &&
		      one.located == k.located && one.winner == k.winner);
		mix(&sn->tables, (uint64_t)k.clue_id << 32 | k.points);
		mix(&sn->tables, (uint64_t)k.x_cm << 48 | (uint64_t)k.y_cm << 32 |
					 (uint64_t)k.radius_mm << 16 | k.winner);
		mix(&sn->tables, (uint64_t)k.state << 8 | k.located);
		last = k.clue_id;
		n++;
	}
	CHECK(n == sn->in.clues);
	CHECK(!fc_client_next_clue(c, &cur, &k));
	if (last < (int64_t)UINT32_MAX)
		CHECK(fc_client_clue(c, (uint32_t)(last + 1), &one) == -ENOENT);
}

static void
read_scores(const struct fc_client *c, struct seen *sn)
{
	struct fc_client_score sc;
	struct fc_client_team tm;
	uint32_t cur = 0, n = 0;
	int32_t last = -1;

	while (fc_client_next_score(c, &cur, &sc)) {
		CHECK(n < F.p.max_players);
		CHECK(sc.player < F.p.max_players);
		CHECK((int32_t)sc.player > last);
		mix(&sn->tables,
		    (uint64_t)sc.player << 48 | (uint64_t)sc.team << 32 | (uint32_t)sc.total);
		last = sc.player;
		n++;
	}
	CHECK(!fc_client_next_score(c, &cur, &sc));
	cur = 0;
	n = 0;
	last = -1;
	while (fc_client_next_team(c, &cur, &tm)) {
		CHECK(n < F.p.max_teams);
		CHECK(tm.team < F.p.max_teams);
		CHECK((int32_t)tm.team > last);
		mix(&sn->tables, (uint64_t)1 << 63 | (uint64_t)tm.team << 32 | (uint32_t)tm.total);
		last = tm.team;
		n++;
	}
	CHECK(!fc_client_next_team(c, &cur, &tm));
}

static void
read_claims(const struct fc_client *c, struct seen *sn)
{
	uint64_t h = 0xCBF29CE484222325ull;

	for (uint32_t i = 0; i < sn->in.claims; i++) {
		const struct fc_client_claim *k = fc_client_claim_at(c, i);

		CHECK(k != NULL);
		CHECK(k->contenders_listed <= FC_CLIENT_MAX_CONTENDERS);
		CHECK(k->contenders_listed <= k->contenders_total);
		mix(&h, k->event_seq);
		mix(&h, k->meas_time_ns);
		mix(&h, (uint64_t)k->clue_id << 32 | k->points);
		mix(&h, (uint64_t)k->round_id << 32 | (uint64_t)k->winner << 16 | k->winner_team);
		mix(&h, (uint64_t)k->contenders_total << 16 | k->contenders_listed);
		for (unsigned int j = 0; j < k->contenders_listed; j++) {
			const struct fc_client_contender *e = &k->contenders[j];

			mix(&h,
			    (uint64_t)e->player << 48 | (uint64_t)e->flags << 32 | e->distance_mm);
			mix(&h, e->meas_time_ns);
		}
	}
	CHECK(fc_client_claim_at(c, sn->in.claims) == NULL);
	CHECK(fc_client_claim_at(c, UINT32_MAX) == NULL);
	sn->claims = h;
}

static void
check_stats(const struct seen *sn)
{
	const struct fc_client_stats *st = &sn->st;
	uint64_t bad = 0;

	CHECK(st->datagrams == F.fed);
	/* every -EBADMSG is counted by one codec reason; bad_snapshot is the library's own, for
	 * a packet it took */
	for (unsigned int r = 0; r < FC_CLIENT_M_BAD_SNAPSHOT; r++)
		bad += st->malformed[r];
	CHECK(bad == F.bad);
	CHECK(st->packets <= F.fed - F.bad);
	CHECK(st->rt_asked == F.sent);
	CHECK(st->rt_send_errors == F.send_errs);
	CHECK(st->rt_retries <= st->rt_asked);
	CHECK(st->sessions <= F.fed - F.bad);
	CHECK((st->sessions != 0) == sn->in.has_session);
	CHECK(st->recoveries[FC_CLIENT_R_LATE_JOIN] == st->sessions);
	for (unsigned int r = 0; r < FC_CLIENT_M__COUNT; r++)
		CHECK(strcmp(fc_client_malformed_name(r), "unknown") != 0);
	for (unsigned int r = 0; r < FC_CLIENT_R__COUNT; r++)
		CHECK(strcmp(fc_client_recovery_name(r), "unknown") != 0);
	for (unsigned int r = 1; r <= FC_CLIENT_REFUSED_MAX; r++)
		CHECK(strcmp(fc_client_refused_name(r), "unknown") != 0);
}

/* Everything the API shows, and the promises that hold at any time (a callback's too). */
static void
read_state(const struct fc_client *c, struct seen *sn)
{
	const struct fc_client_info *in = &sn->in;
	const struct fc_client_round *r = &in->round;

	fc_client_get_info(c, &sn->in);
	fc_client_get_stats(c, &sn->st);
	CHECK(!in->synced || in->has_session);
	CHECK(!in->ended || in->has_session);
	CHECK(!in->complete || in->ended);
	CHECK(!in->feed_up || in->has_session);
	if (in->synced)
		CHECK(in->next_event_seq <= in->known_event_seq); /* never ahead of what was
								   * announced */
	CHECK(in->players <= F.p.max_players);
	CHECK(in->clues <= F.p.max_clues);
	CHECK(in->claims <= F.p.max_claims);
	sn->tables = 0xCBF29CE484222325ull;
	mix(&sn->tables, (uint64_t)r->round_id << 32 | (uint64_t)r->state << 16 | r->end_reason);
	mix(&sn->tables, r->round_time_ms);
	mix(&sn->tables, r->cmd_seq);
	read_positions(c, sn);
	read_clues(c, sn);
	read_scores(c, sn);
	read_claims(c, sn);
}

/*
 * After a feed or a poll at now: what may change between two readings, and every deadline due
 * has run (the next one is later).
 */
static void
check_after(const struct fc_client *c, uint64_t now)
{
	const struct seen *was = &F.prev;
	struct seen sn;
	uint32_t heard = 0;
	bool same_session;

	read_state(c, &sn);
	check_stats(&sn);
	CHECK(fc_client_next_deadline(c) > now);
	same_session = sn.st.sessions == was->st.sessions;
	/* the round, clues, scores and claims change by an event or a snapshot only */
	if (same_session && sn.st.events_applied == was->st.events_applied &&
	    sn.st.snapshots_applied == was->st.snapshots_applied)
		CHECK(sn.tables == was->tables && sn.claims == was->claims);
	/* ended: nothing changes until a new session */
	if (same_session && was->in.ended) {
		CHECK(sn.in.ended && sn.in.complete == was->in.complete);
		CHECK(sn.in.synced == was->in.synced);
		CHECK(sn.in.next_event_seq == was->in.next_event_seq);
		CHECK(sn.in.known_event_seq == was->in.known_event_seq);
		CHECK(sn.tables == was->tables && sn.claims == was->claims);
		CHECK(sn.positions == was->positions);
		CHECK(sn.st.events_applied == was->st.events_applied);
	}
	/* a position never goes back, and a player heard stays heard, within a session */
	for (uint32_t p = 0; p < F.p.max_players; p++) {
		struct fc_client_position pos;
		uint64_t stamp = fc_client_position(c, (uint16_t)p, &pos) == 0 ? pos.packet_seq : 0;

		if (same_session)
			CHECK(stamp >= F.stamp[p]);
		F.stamp[p] = stamp;
		heard += stamp != 0;
	}
	CHECK(heard == sn.in.players); /* one by one as the iterator */
	F.prev = sn;
}

/* ---- the callbacks ------------------------------------------------------------------------ */

static int
send_request(void *arg, const void *req, size_t len)
{
	struct fc_client_info in;
	struct fc_rt_request r;
	const uint8_t *b = req;

	CHECK(arg == &F);
	CHECK(F.in_call);
	CHECK(req != NULL && len == sizeof(r)); /* 24 bytes, section 6.1 */
	CHECK(b[0] == 'F' && b[1] == 'R' && b[2] == 1 && b[3] == 0);
	CHECK(fc_rt_request_decode(req, len, &r) == FC_DL_OK);
	CHECK(r.magic == FC_RT_MAGIC && r.version == FC_RT_VERSION);
	CHECK(r.reserved0 == 0 && r.reserved1 == 0 && r.reserved2 == 0);
	CHECK(r.count >= 1 && r.count <= FC_RT_MAX_COUNT);
	/* for events of the current session it is missing: applied ones are never asked for,
	 * nor any not announced yet (NOT_YET is a subscriber bug, section 6.3) */
	fc_client_get_info(F.c, &in);
	CHECK(in.has_session && !in.ended && in.synced);
	CHECK(r.session_id == in.session_id);
	CHECK(r.first_event_seq >= in.next_event_seq);
	CHECK(r.first_event_seq < in.known_event_seq);
	CHECK(r.count <= in.known_event_seq - r.first_event_seq);
	F.sent++;
	if (F.send_fail) {
		F.send_errs++;
		return -ENOBUFS;
	}
	return 0;
}

static void
notify(void *arg, const struct fc_client *c, const struct fc_client_note *n)
{
	struct fc_client_info in;
	struct seen sn;

	CHECK(arg == &F);
	CHECK(F.in_call);
	CHECK(c == F.c && n != NULL);
	fc_client_get_info(c, &in);
	CHECK(in.has_session && n->session_id == in.session_id);
	switch (n->kind) {
	case FC_CLIENT_N_EVENT: {
		const uint8_t *m = n->msg;

		/* the message as on the wire, in event_seq order, already applied */
		CHECK(m != NULL && n->len >= 8 && n->len % 8 == 0);
		CHECK(le16(m) == n->len && m[2] == n->template_id && m[3] != 0);
		consume(m, n->len);
		CHECK(in.synced && in.next_event_seq == n->event_seq + 1);
		if (F.expect_known)
			CHECK(n->event_seq == F.expect_seq);
		F.expect_known = true;
		F.expect_seq = n->event_seq + 1;
		break;
	}
	case FC_CLIENT_N_SNAPSHOT:
		CHECK(n->msg == NULL);
		CHECK(in.synced && in.next_event_seq == n->event_seq);
		F.expect_known = true;
		F.expect_seq = n->event_seq;
		break;
	case FC_CLIENT_N_SESSION:
		F.expect_known = false; /* the next session starts from its own snapshot */
		break;
	case FC_CLIENT_N_END:
		CHECK(in.ended);
		break;
	default:
		CHECK(!"a note of an unknown kind");
	}
	read_state(c, &sn);
}

/* ---- the run ------------------------------------------------------------------------------- */

static void
feed(const uint8_t *d, size_t len, uint64_t now)
{
	/* Exact size: a read one byte past the datagram is an ASan report (malloc(0) too). */
	uint8_t *buf = malloc(len);
	int rc;

	CHECK(buf != NULL);
	if (len != 0)
		memcpy(buf, d, len);
	F.in_call = true;
	rc = fc_client_feed(F.c, buf, len, now);
	F.in_call = false;
	CHECK(rc == 0 || rc == -EBADMSG);
	F.fed++;
	F.bad += rc == -EBADMSG;
	free(buf);
	check_after(F.c, now);
}

/* The datagram, then n - 1 more as the next packets of its channel (if it has a header). */
static void
burst(const uint8_t *d, size_t len, unsigned int n, uint64_t now)
{
	uint8_t *pkt = malloc(len);
	struct fc_dl_hdr h;

	CHECK(pkt != NULL);
	if (len != 0)
		memcpy(pkt, d, len);
	for (unsigned int i = 0; i < n; i++) {
		feed(pkt, len, now);
		if (len < sizeof(h))
			break;
		memcpy(&h, pkt, sizeof(h));
		if (h.packet_seq != 0)
			h.packet_seq++;
		h.first_event_seq += h.event_count;
		h.tick++;
		memcpy(pkt, &h, sizeof(h));
	}
	free(pkt);
}

static void
poll_at(uint64_t now)
{
	F.in_call = true;
	fc_client_poll(F.c, now);
	F.in_call = false;
	check_after(F.c, now);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t h[HDR_LEN] = { 0 };
	uint64_t now = 1000 * MS; /* any start: the clock is the caller's */
	size_t off;

	memcpy(h, data, size < HDR_LEN ? size : HDR_LEN);
	memset(&F, 0, sizeof(F));
	F.p.max_players = 1u + h[0];
	F.p.max_teams = 1u + (h[1] & 31u);
	F.p.max_clues = 1u + (h[2] & 31u);
	F.p.max_claims = 1u + (h[3] & 15u);
	if ((h[4] & 0x01u) == 0) {
		F.p.send_request = send_request;
		F.p.send_arg = &F;
	}
	if ((h[4] & 0x02u) == 0) {
		F.p.notify = notify;
		F.p.notify_arg = &F;
	}
	if ((h[4] >> 2) != 0)
		F.p.event_buffer_bytes = FC_WIRE_MAX_PAYLOAD + 64u * ((h[4] >> 2) - 1u);
	F.c = fc_client_create(&F.p);
	CHECK(F.c != NULL);
	read_state(F.c, &F.prev);
	check_after(F.c, now);

	for (off = HDR_LEN; off + REC_LEN <= size;) {
		size_t len = le16(data + off);
		uint8_t step = data[off + 2];
		uint64_t d;

		off += REC_LEN;
		if (len > size - off)
			len = size - off;
		now += advance_ns[step & STEP_TIME];
		F.send_fail = (step & STEP_SEND_ERR) != 0;
		if (step & STEP_POLL)
			poll_at(now);
		if ((step & STEP_NO_DGRAM) == 0)
			burst(data + off, len, (step & STEP_BURST) ? BURST : 1, now);
		off += len;
		d = fc_client_next_deadline(F.c);
		if ((step & STEP_DEADLINE) && d != UINT64_MAX && d - now <= 10000 * MS)
			now = d;
		poll_at(now);
	}
	F.send_fail = false;
	poll_at(now + 2000 * MS); /* past every timeout */

	fc_client_free(F.c);
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The subscriber's recovery procedure, docs/protocol.md section 7, step by step: sessions
 * (step 2), duplicates and loss per channel (3), the end of session (4), events in order
 * with a buffer for those ahead of a gap (5), gaps asked for by retransmit request (6), the
 * requests' timeouts, retries and refusals (7), recovery from the snapshot loop (8); positions
 * (9) and liveness (10) are best-effort. state.c applies what this file decides to apply.
 *
 * The library never sends anything itself: a request is handed to the caller's send_request
 * callback, so a test can play floord's retransmit service with no socket at all.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client_priv.h"

static_assert(FC_CLIENT_M_RUNT == FC_DL_E_RUNT - 1 &&
		      FC_CLIENT_M_BAD_MESSAGE == FC_DL_E_BAD_MESSAGE - 1,
	      "malformed reasons follow the codec's drop reasons");

/* ---- names ---------------------------------------------------------------------------------- */

static const char *const malformed_names[FC_CLIENT_M__COUNT] = {
	[FC_CLIENT_M_RUNT] = "runt",
	[FC_CLIENT_M_BAD_LENGTH] = "bad_length",
	[FC_CLIENT_M_BAD_MAGIC] = "bad_magic",
	[FC_CLIENT_M_BAD_VERSION] = "bad_version",
	[FC_CLIENT_M_UNKNOWN_CHANNEL] = "unknown_channel",
	[FC_CLIENT_M_BAD_PACKET] = "bad_packet",
	[FC_CLIENT_M_BAD_MESSAGE] = "bad_message",
	[FC_CLIENT_M_BAD_SNAPSHOT] = "bad_snapshot",
};

static const char *const recovery_names[FC_CLIENT_R__COUNT] = {
	[FC_CLIENT_R_LATE_JOIN] = "late_join",
	[FC_CLIENT_R_REFUSED] = "refused",
	[FC_CLIENT_R_GAP] = "gap",
	[FC_CLIENT_R_RETRIES] = "retries",
	[FC_CLIENT_R_NO_RETRANSMIT] = "no_retransmit",
};

static const char *const refused_names[FC_CLIENT_REFUSED_MAX + 1] = {
	"unknown", "too_old", "too_many", "rate", "session", "not_yet",
};

const char *
fc_client_malformed_name(unsigned int reason)
{
	return reason < FC_CLIENT_M__COUNT ? malformed_names[reason] : "unknown";
}

const char *
fc_client_recovery_name(unsigned int cause)
{
	return cause < FC_CLIENT_R__COUNT ? recovery_names[cause] : "unknown";
}

const char *
fc_client_refused_name(unsigned int reason)
{
	return reason <= FC_CLIENT_REFUSED_MAX ? refused_names[reason] : "unknown";
}

/* ---- life ----------------------------------------------------------------------------------- */

static int
params(struct fc_client_params *p, const struct fc_client_params *in)
{
	if (in != NULL)
		*p = *in;
	else
		memset(p, 0, sizeof(*p));
	if (p->max_players == 0)
		p->max_players = 4096;
	if (p->max_teams == 0)
		p->max_teams = 1024;
	if (p->max_clues == 0)
		p->max_clues = 1024;
	if (p->max_claims == 0)
		p->max_claims = 1024;
	if (p->event_buffer == 0)
		p->event_buffer = 4096;
	if (p->event_buffer_bytes == 0)
		p->event_buffer_bytes = p->event_buffer * 64u;
	/* 65535: ids are u16 and 0xFFFF means none. A buffer below 4096 events breaks section 7's
	 * minimum; its bytes must hold the largest event (a message never exceeds a packet). */
	if (p->max_players > 65535 || p->max_teams > 65535 || p->max_clues > (1u << 24) ||
	    p->max_claims > (1u << 24) || p->event_buffer < 4096 || p->event_buffer > (1u << 24) ||
	    p->event_buffer_bytes < FC_WIRE_MAX_PAYLOAD || p->event_buffer_bytes > (1u << 30))
		return -EINVAL;
	return 0;
}

struct fc_client *
fc_client_create(const struct fc_client_params *p)
{
	struct fc_client *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rc = params(&c->p, p);
	if (rc == 0)
		rc = fc__evbuf_init(&c->buf, c->p.event_buffer, c->p.event_buffer_bytes);
	if (rc == 0)
		rc = fc__state_alloc(c);
	if (rc != 0) {
		fc_client_free(c);
		errno = -rc;
		return NULL;
	}
	return c;
}

void
fc_client_free(struct fc_client *c)
{
	if (c == NULL)
		return;
	fc__evbuf_fini(&c->buf);
	fc__state_free(c);
	free(c);
}

static void
notify(struct fc_client *c, enum fc_client_note_kind kind, uint64_t seq, const struct fc_dl_msg *m)
{
	struct fc_client_note n = { .kind = kind, .session_id = c->session, .event_seq = seq };

	if (c->p.notify == NULL)
		return;
	if (m != NULL) {
		n.template_id = m->template_id;
		n.msg = m->p;
		n.len = m->length;
	}
	c->p.notify(c->p.notify_arg, c, &n);
}

/* ---- step 8: recovery from the snapshot loop ----------------------------------------------- */

static void
recover(struct fc_client *c, enum fc_client_recovery why)
{
	c->st.recoveries[why]++;
	c->synced = false;
	c->n_req = 0;
	c->snap_active = false; /* collect from the next part on */
	c->dirty = true;
}

/* ---- step 2: sessions ----------------------------------------------------------------------- */

static bool
session_is_past(const struct fc_client *c, uint32_t sid)
{
	for (uint32_t i = 0; i < c->n_past && i < FC__CLIENT_PAST_SESSIONS; i++)
		if (c->past[i] == sid)
			return true;
	return false;
}

static void
session_start(struct fc_client *c, uint32_t sid)
{
	if (c->has_session) {
		c->past[c->n_past++ % FC__CLIENT_PAST_SESSIONS] = c->session;
		fc__state_clear(c);
		fc__evbuf_clear(&c->buf);
		memset(c->win, 0, sizeof(c->win));
	}
	c->has_session = true;
	c->session = sid;
	c->closing = c->ended = c->complete = false;
	c->eos[0] = c->eos[1] = false;
	c->rt_stopped = false;
	c->next_ev = 0;
	c->known_ev = 0;
	c->high_ev = 0;
	c->feed_up = false;
	c->st.sessions++;
	recover(c, FC_CLIENT_R_LATE_JOIN);
}

/* ---- step 3: duplicates and loss ------------------------------------------------------------ */

/* Marks packet_seq seq of channel ch processed; false if it was already, or is too old. */
static bool
pkt_accept(struct fc_client *c, unsigned int ch, uint64_t seq)
{
	struct fc__pktwin *w = &c->win[ch];
	uint64_t bit;

	if (!w->any) {
		w->any = true;
		w->top = seq;
		memset(w->bits, 0, sizeof(w->bits));
	} else if (seq > w->top) {
		uint64_t jump = seq - w->top;

		if (jump > 1) {
			c->st.pkt_gaps[ch]++;
			c->st.pkt_skipped[ch] += jump - 1;
		}
		if (jump >= FC__CLIENT_PKT_WINDOW) {
			memset(w->bits, 0, sizeof(w->bits));
		} else {
			for (uint64_t s = w->top + 1; s < seq; s++)
				w->bits[(s / 64) % (FC__CLIENT_PKT_WINDOW / 64)] &=
					~(1ull << (s % 64));
		}
		w->top = seq;
	} else if (w->top - seq >= FC__CLIENT_PKT_WINDOW) {
		return false;
	} else {
		bit = w->bits[(seq / 64) % (FC__CLIENT_PKT_WINDOW / 64)] & (1ull << (seq % 64));
		if (bit != 0)
			return false;
		c->st.pkt_late[ch]++;
	}
	w->bits[(seq / 64) % (FC__CLIENT_PKT_WINDOW / 64)] |= 1ull << (seq % 64);
	return true;
}

/* ---- step 5: events ------------------------------------------------------------------------- */

static void
msg_from_bytes(struct fc_dl_msg *m, const uint8_t *p, uint16_t len, uint64_t seq)
{
	struct fc_dl_msg_hdr mh;

	memcpy(&mh, p, sizeof(mh));
	m->p = p;
	m->length = len;
	m->template_id = mh.template_id;
	m->version = mh.version;
	m->is_event = true;
	m->event_seq = seq;
}

static void
apply(struct fc_client *c, const struct fc_dl_msg *m)
{
	fc__state_apply_event(c, m);
	c->st.events_applied++;
	c->next_ev = m->event_seq + 1;
	if (c->next_ev <= c->high_ev)
		return; /* applied again over an older snapshot: told once already */
	c->high_ev = c->next_ev;
	notify(c, FC_CLIENT_N_EVENT, m->event_seq, m);
}

/* Applies buf[next_ev], buf[next_ev + 1], ... while present. */
static void
drain(struct fc_client *c)
{
	const uint8_t *p;
	uint16_t len;

	while ((p = fc__evbuf_get(&c->buf, c->next_ev, &len)) != NULL) {
		struct fc_dl_msg m;

		msg_from_bytes(&m, p, len, c->next_ev);
		apply(c, &m);
		fc__evbuf_del(&c->buf, m.event_seq);
	}
}

static void
hold(struct fc_client *c, const struct fc_dl_msg *m)
{
	int rc = fc__evbuf_put(&c->buf, m->event_seq, m->p, m->length, &c->st.events_dropped);

	if (rc == 0)
		c->st.events_buffered++;
	else if (rc == -EEXIST)
		c->st.events_duplicate++;
	else
		c->st.events_dropped++;
}

static void
event(struct fc_client *c, const struct fc_dl_msg *m)
{
	c->dirty = true;
	if (!c->synced) {
		hold(c, m);
	} else if (m->event_seq < c->next_ev || fc__evbuf_has(&c->buf, m->event_seq)) {
		c->st.events_duplicate++;
	} else if (m->event_seq == c->next_ev) {
		apply(c, m);
		drain(c);
	} else {
		hold(c, m);
	}
}

/* ---- steps 6 and 7: retransmit requests ----------------------------------------------------- */

static bool
missing(const struct fc_client *c, uint64_t seq)
{
	return seq >= c->next_ev && seq < c->known_ev && !fc__evbuf_has(&c->buf, seq);
}

static void
send_request(struct fc_client *c, uint64_t first, uint16_t count)
{
	struct fc_rt_request r = { .session_id = c->session,
				   .first_event_seq = first,
				   .count = count };
	uint8_t wire[sizeof(r)];
	int len = fc_rt_request_encode(wire, sizeof(wire), &r);

	c->st.rt_asked++;
	if (c->p.send_request(c->p.send_arg, wire, (size_t)len) != 0)
		c->st.rt_send_errors++;
}

static bool
covered(const struct fc_client *c, uint64_t seq)
{
	for (uint32_t i = 0; i < c->n_req; i++)
		if (seq >= c->req[i].first && seq - c->req[i].first < c->req[i].count)
			return true;
	return false;
}

/* Step 6: the events next_ev .. known_ev - 1 not held are missing. */
static void
gaps(struct fc_client *c, uint64_t now)
{
	uint64_t n;

	if (!c->synced || c->known_ev <= c->next_ev)
		return;
	/* Everything held lies in [next_ev, known_ev): what a packet announced, above what was
	 * applied. */
	n = c->known_ev - c->next_ev;
	if (n <= c->buf.count)
		return;
	n -= c->buf.count;
	if (n > FC__CLIENT_MAX_GAP) {
		c->st.gaps++;
		recover(c, FC_CLIENT_R_GAP);
		return;
	}
	if (c->p.send_request == NULL || c->rt_stopped) {
		c->st.gaps++;
		recover(c, FC_CLIENT_R_NO_RETRANSMIT);
		return;
	}
	for (uint64_t s = c->next_ev; s < c->known_ev && n > 0;) {
		uint64_t first;
		struct fc__request *r;

		if (!missing(c, s) || covered(c, s)) {
			s++;
			continue;
		}
		if (c->n_req == FC__CLIENT_MAX_PENDING)
			break; /* cannot happen: each pending request covers a missing event */
		first = s;
		while (s < c->known_ev && missing(c, s) && !covered(c, s) &&
		       s - first < FC__CLIENT_MAX_GAP)
			s++;
		n -= s - first < n ? s - first : n;
		c->st.gaps++;
		r = &c->req[c->n_req++];
		r->first = first;
		r->count = (uint16_t)(s - first);
		r->tries = 0;
		r->deadline = now + FC__CLIENT_RT_TIMEOUT_NS;
		send_request(c, r->first, r->count);
	}
}

/* The first and last missing event of a request's range; false when none is missing. */
static bool
request_missing(const struct fc_client *c, const struct fc__request *r, uint64_t *lo, uint64_t *hi)
{
	bool any = false;

	for (uint64_t s = r->first; s - r->first < r->count; s++) {
		if (!missing(c, s))
			continue;
		if (!any)
			*lo = s;
		*hi = s;
		any = true;
	}
	return any;
}

/* Step 7: completed requests, deadlines, retries. */
static void
requests(struct fc_client *c, uint64_t now)
{
	for (uint32_t i = 0; i < c->n_req;) {
		struct fc__request *r = &c->req[i];
		uint64_t lo = 0, hi = 0;

		if (!request_missing(c, r, &lo, &hi)) {
			c->st.rt_answered++;
			*r = c->req[--c->n_req];
			continue;
		}
		if (now >= r->deadline) {
			if (r->tries >= FC__CLIENT_RT_RETRIES) {
				c->st.rt_timeouts++;
				recover(c, FC_CLIENT_R_RETRIES);
				return;
			}
			r->tries++;
			r->first = lo;
			r->count = (uint16_t)(hi - lo + 1);
			r->deadline = now + FC__CLIENT_RT_TIMEOUT_NS;
			c->st.rt_retries++;
			send_request(c, r->first, r->count);
		}
		i++;
	}
}

static void
refusal(struct fc_client *c, const struct fc_dl_msg *m)
{
	struct fc_dl_retrans_refused rf;
	uint32_t i;

	fc_dl_msg_get(m, &rf, sizeof(rf));
	c->st.rt_refused[rf.reason <= FC_CLIENT_REFUSED_MAX ? rf.reason : 0]++;
	for (i = 0; i < c->n_req; i++)
		if (c->req[i].first == rf.first_event_seq && c->req[i].count == rf.count)
			break;
	if (i == c->n_req) {
		c->st.rt_unmatched++; /* a request already complete, or never sent */
		return;
	}
	switch (rf.reason) {
	case FC_RT_REFUSED_RATE:
		break; /* handled as a timeout at the deadline: a retry */
	case FC_RT_REFUSED_SESSION:
		c->rt_stopped = true; /* no more requests in this session */
		c->n_req = 0;
		c->dirty = true;
		break;
	default: /* TOO_OLD, TOO_MANY, NOT_YET, and reasons this version does not know */
		recover(c, FC_CLIENT_R_REFUSED);
		break;
	}
}

/* ---- step 8: the snapshot loop -------------------------------------------------------------- */

static void
snapshot_begin(struct fc_client *c, const struct fc_dl_snapshot_part *sp)
{
	if (c->snap_active)
		c->st.snapshots_replaced++;
	c->snap_active = true;
	c->snap_id = sp->snapshot_id;
	c->snap_parts = sp->part_count;
	c->snap_held = 0;
	c->snap_as_of_tick = sp->as_of_tick;
	c->snap_as_of_pkt = sp->as_of_packet_seq;
	c->snap_as_of_ev = sp->as_of_event_seq;
	memset(c->snap_have, 0, (sp->part_count + 63u) / 64u * sizeof(*c->snap_have));
	fc__tables_clear(c, fc__stage(c));
	c->n_stage_pos = 0;
}

static void
snapshot_apply(struct fc_client *c)
{
	fc__state_commit_snapshot(c);
	c->snap_active = false;
	c->synced = true;
	c->next_ev = c->snap_as_of_ev;
	fc__evbuf_drop_below(&c->buf, c->next_ev);
	if (c->known_ev < c->snap_as_of_ev)
		c->known_ev = c->snap_as_of_ev;
	c->st.snapshots_applied++;
	c->dirty = true;
	notify(c, FC_CLIENT_N_SNAPSHOT, c->snap_as_of_ev, NULL);
	drain(c);
}

static void
snapshot_packet(struct fc_client *c, const struct fc_dl_view *v)
{
	struct fc_dl_snapshot_part sp;
	struct fc_dl_iter it;
	struct fc_dl_msg m;

	if (c->synced)
		return; /* step 8.5: channel 1 is not needed once synced */
	fc_dl_iter_init(&it, v);
	if (!fc_dl_iter_next(&it, &m) || m.template_id != FC_DL_T_SNAPSHOT_PART) {
		c->st.malformed[FC_CLIENT_M_BAD_SNAPSHOT]++;
		return;
	}
	fc_dl_msg_get(&m, &sp, sizeof(sp));
	if (sp.part_count == 0 || sp.part >= sp.part_count) {
		c->st.malformed[FC_CLIENT_M_BAD_SNAPSHOT]++;
		return;
	}
	if (!c->snap_active || sp.snapshot_id != c->snap_id) {
		snapshot_begin(c, &sp);
	} else if (sp.part_count != c->snap_parts || sp.as_of_event_seq != c->snap_as_of_ev ||
		   sp.as_of_packet_seq != c->snap_as_of_pkt ||
		   sp.as_of_tick != c->snap_as_of_tick) {
		c->st.malformed[FC_CLIENT_M_BAD_SNAPSHOT]++; /* the parts of one snapshot agree */
		return;
	}
	if (c->snap_have[sp.part / 64] & (1ull << (sp.part % 64)))
		return;
	c->snap_have[sp.part / 64] |= 1ull << (sp.part % 64);
	c->snap_held++;
	c->st.snapshot_parts++;
	while (fc_dl_iter_next(&it, &m))
		fc__state_stage(c, &m);
	if (c->snap_held == c->snap_parts)
		snapshot_apply(c);
}

/* ---- step 4: the end of a session ----------------------------------------------------------- */

static void
session_end(struct fc_client *c, bool complete)
{
	c->ended = true;
	c->complete = complete;
	c->n_req = 0;
	notify(c, FC_CLIENT_N_END, c->next_ev, NULL);
}

static void
closing(struct fc_client *c, uint64_t now)
{
	if (!c->closing || c->ended)
		return;
	if (c->synced && c->next_ev >= c->known_ev && c->n_req == 0)
		session_end(c, true);
	else if (!c->synced && (c->eos[FC_DL_CHAN_SNAPSHOT] || now >= c->close_deadline))
		session_end(c, false); /* no snapshot will come to finish the recovery */
}

/* ---- the packet ----------------------------------------------------------------------------- */

static void
incremental(struct fc_client *c, const struct fc_dl_view *v, bool rt)
{
	struct fc_dl_iter it;
	struct fc_dl_msg m;

	fc_dl_iter_init(&it, v);
	while (fc_dl_iter_next(&it, &m)) {
		if (m.is_event)
			event(c, &m);
		else if (m.template_id == FC_DL_T_POSITIONS)
			fc__state_positions(c, &m, v->hdr.packet_seq, v->hdr.tick);
		else if (m.template_id == FC_DL_T_RETRANS_REFUSED && rt)
			refusal(c, &m);
		/* other state on channel 0 is accepted and not used (section 4.4) */
	}
}

static void
packet(struct fc_client *c, const struct fc_dl_view *v, uint64_t now)
{
	const struct fc_dl_hdr *h = &v->hdr;
	const bool rt = (h->flags & FC_DL_F_RETRANSMIT) != 0;
	const unsigned int ch = h->channel_id;
	uint64_t known;

	/* step 2 */
	if (!c->has_session || h->session_id != c->session) {
		if (rt || (c->has_session && session_is_past(c, h->session_id))) {
			c->st.other_session++;
			return;
		}
		if (c->has_session)
			notify(c, FC_CLIENT_N_SESSION, 0, NULL); /* before the state goes */
		session_start(c, h->session_id);
	} else if (c->ended) {
		c->st.after_end++;
		return;
	}
	/* step 3: multicast packets only; a reply is in no channel's sequence */
	if (!rt && h->packet_seq != 0 && !pkt_accept(c, ch, h->packet_seq)) {
		c->st.duplicates++;
		return;
	}
	if (rt && ch != FC_DL_CHAN_INCREMENTAL) {
		c->st.other_session++; /* replies are channel 0 (section 6.2) */
		return;
	}
	c->st.packets++;
	if (ch == FC_DL_CHAN_INCREMENTAL && !rt) {
		c->last_ch0_ns = now;
		c->feed_up = true;
	}
	/* step 5: every packet announces the next event */
	known = h->first_event_seq + h->event_count; /* 0 events in an end of session */
	if (known > c->known_ev) {
		c->known_ev = known;
		c->dirty = true;
	}
	if (fc_dl_is_end_of_session(v)) { /* step 4 */
		c->eos[ch] = true;
		if (!c->closing) {
			c->closing = true;
			c->close_deadline = now + FC__CLIENT_CLOSE_NS;
		}
		return;
	}
	if (ch == FC_DL_CHAN_INCREMENTAL)
		incremental(c, v, rt);
	else if (!fc_dl_is_heartbeat(v))
		snapshot_packet(c, v);
}

/* Everything that follows a packet or the passing of time: steps 7, 6, 4 and 10. */
static void
advance(struct fc_client *c, uint64_t now)
{
	if (!c->has_session)
		return;
	if (c->feed_up && now - c->last_ch0_ns >= FC__CLIENT_LIVENESS_NS && now > c->last_ch0_ns) {
		c->feed_up = false;
		c->st.feed_down++;
	}
	if (c->ended)
		return;
	requests(c, now);
	if (c->dirty) {
		c->dirty = false;
		gaps(c, now);
	}
	closing(c, now);
}

int
fc_client_feed(struct fc_client *c, const void *buf, size_t len, uint64_t now_ns)
{
	struct fc_dl_view v;
	enum fc_dl_err e;

	c->st.datagrams++;
	e = fc_dl_parse(buf, len, &v);
	if (e != FC_DL_OK) {
		c->st.malformed[e - 1]++;
		advance(c, now_ns);
		return -EBADMSG;
	}
	packet(c, &v, now_ns);
	advance(c, now_ns);
	return 0;
}

void
fc_client_poll(struct fc_client *c, uint64_t now_ns)
{
	advance(c, now_ns);
}

uint64_t
fc_client_next_deadline(const struct fc_client *c)
{
	uint64_t d = UINT64_MAX;

	if (!c->has_session)
		return d;
	if (c->feed_up)
		d = c->last_ch0_ns + FC__CLIENT_LIVENESS_NS;
	if (c->ended)
		return d;
	for (uint32_t i = 0; i < c->n_req; i++)
		if (c->req[i].deadline < d)
			d = c->req[i].deadline;
	/* as closing() does: once synced, the end waits for the requests, not for this */
	if (c->closing && !c->synced && c->close_deadline < d)
		d = c->close_deadline;
	return d;
}

/* ---- reading -------------------------------------------------------------------------------- */

void
fc_client_get_info(const struct fc_client *c, struct fc_client_info *out)
{
	memset(out, 0, sizeof(*out));
	out->has_session = c->has_session;
	out->session_id = c->session;
	out->synced = c->synced;
	out->ended = c->ended;
	out->complete = c->complete;
	out->feed_up = c->feed_up;
	out->next_event_seq = c->next_ev;
	out->known_event_seq = c->known_ev;
	out->round = c->tab[c->cur].round;
	out->players = c->n_heard;
	out->clues = c->tab[c->cur].n_clues;
	out->claims = c->n_claims;
}

void
fc_client_get_stats(const struct fc_client *c, struct fc_client_stats *out)
{
	*out = c->st;
}

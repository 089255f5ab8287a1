/* SPDX-License-Identifier: BSD-3-Clause */
/* Downlink packet builder and decoder, retransmit request codec; see fc_downlink.h. */
#include <errno.h>
#include <string.h>

#include "fc_downlink.h"
#include "wire_priv.h"

/* Version-1 size of each template, 0 for templates this receiver does not know. */
static unsigned int
template_size(unsigned int t)
{
	switch (t) {
	case FC_DL_T_POSITIONS:
		return sizeof(struct fc_dl_positions);
	case FC_DL_T_CLUE_CLAIMED:
		return sizeof(struct fc_dl_clue_claimed);
	case FC_DL_T_SCORE:
		return sizeof(struct fc_dl_score);
	case FC_DL_T_ROUND_STATE:
		return sizeof(struct fc_dl_round_state);
	case FC_DL_T_SNAPSHOT_PART:
		return sizeof(struct fc_dl_snapshot_part);
	case FC_DL_T_CLUE_STATE:
		return sizeof(struct fc_dl_clue_state);
	case FC_DL_T_END_OF_ROUND:
		return sizeof(struct fc_dl_end_of_round);
	case FC_DL_T_COMMAND_ECHO:
		return sizeof(struct fc_dl_command_echo);
	case FC_DL_T_RETRANS_REFUSED:
		return sizeof(struct fc_dl_retrans_refused);
	default:
		return 0;
	}
}

/* ---- builder ---------------------------------------------------------------------------- */

int
fc_dl_begin(struct fc_dl_builder *b, void *buf, size_t cap, const struct fc_dl_hdr *h)
{
	struct fc_dl_hdr hdr = *h;

	if (cap < sizeof(hdr))
		return -EMSGSIZE;
	memset(b, 0, sizeof(*b));
	b->buf = buf;
	b->cap = (uint16_t)(cap < FC_WIRE_MAX_PAYLOAD ? cap : FC_WIRE_MAX_PAYLOAD);
	hdr.magic = FC_DL_MAGIC;
	hdr.version = FC_DL_VERSION;
	hdr.msg_count = 0;
	hdr.event_count = 0;
	FC__STORE(b->buf, &hdr);
	b->len = sizeof(hdr);
	return 0;
}

/* Checks the event ordering rule and counts the message; the bytes are already written. */
static int
admit(struct fc_dl_builder *b, bool is_event)
{
	if (is_event && (b->state_started || b->event_count == UINT8_MAX))
		return -EINVAL;
	return 0;
}

static void
commit(struct fc_dl_builder *b, size_t len, bool is_event)
{
	b->len = (uint16_t)(b->len + len);
	b->msg_count++;
	if (is_event)
		b->event_count++;
	else
		b->state_started = true;
	b->pos_off = 0;
}

static void
put_msg_hdr(void *msg, unsigned int template_id, size_t len)
{
	struct fc_dl_msg_hdr *h = msg;

	h->length = (uint16_t)len;
	h->template_id = (uint8_t)template_id;
	h->version = 1;
}

int
fc_dl_add(struct fc_dl_builder *b, unsigned int template_id, void *msg, size_t len, bool is_event)
{
	unsigned int size = template_size(template_id);
	int rc;

	if (size == 0 || len != size || template_id == FC_DL_T_POSITIONS ||
	    template_id == FC_DL_T_CLUE_CLAIMED || len % 8 != 0)
		return -EINVAL;
	rc = admit(b, is_event);
	if (rc != 0)
		return rc;
	if (len > fc_dl_room(b))
		return -ENOSPC;
	put_msg_hdr(msg, template_id, len);
	memcpy(b->buf + b->len, msg, len);
	commit(b, len, is_event);
	return 0;
}

int
fc_dl_add_raw(struct fc_dl_builder *b, const void *msg, size_t len, bool is_event)
{
	int rc;

	if (len < sizeof(struct fc_dl_msg_hdr) || len % 8 != 0)
		return -EINVAL;
	rc = admit(b, is_event);
	if (rc != 0)
		return rc;
	if (len > fc_dl_room(b))
		return -ENOSPC;
	memcpy(b->buf + b->len, msg, len);
	commit(b, len, is_event);
	return 0;
}

int
fc_dl_add_claim(struct fc_dl_builder *b, struct fc_dl_clue_claimed *claim,
		const struct fc_dl_contender *contenders)
{
	size_t list = (size_t)claim->contenders_listed * sizeof(*contenders);
	size_t len = sizeof(*claim) + list;
	int rc;

	if (claim->contenders_listed > FC_DL_MAX_CONTENDERS ||
	    claim->contenders_listed > claim->contenders_total)
		return -EINVAL;
	rc = admit(b, true);
	if (rc != 0)
		return rc;
	if (len > fc_dl_room(b))
		return -ENOSPC;
	put_msg_hdr(claim, FC_DL_T_CLUE_CLAIMED, len);
	memcpy(b->buf + b->len, claim, sizeof(*claim));
	memcpy(b->buf + b->len + sizeof(*claim), contenders, list);
	commit(b, len, true);
	return 0;
}

int
fc__dl_add_position(struct fc_dl_builder *b, const struct fc_dl_position *p)
{
	struct fc_dl_positions pm;

	if (b->pos_off != 0) {
		uint8_t *m = b->buf + b->pos_off;

		if (sizeof(*p) > fc_dl_room(b))
			return -ENOSPC;
		FC__LOAD(&pm, m);
		if (pm.count == UINT16_MAX || pm.h.length > UINT16_MAX - sizeof(*p))
			goto open_new;
		FC__STORE(b->buf + b->len, p);
		b->len = (uint16_t)(b->len + sizeof(*p));
		pm.count++;
		pm.h.length = (uint16_t)(pm.h.length + sizeof(*p));
		FC__STORE(m, &pm);
		return 0;
	}
open_new:
	if (sizeof(pm) + sizeof(*p) > fc_dl_room(b))
		return -ENOSPC;
	memset(&pm, 0, sizeof(pm));
	put_msg_hdr(&pm, FC_DL_T_POSITIONS, sizeof(pm) + sizeof(*p));
	pm.entry_len = sizeof(*p);
	pm.count = 1;
	FC__STORE(b->buf + b->len, &pm);
	FC__STORE(b->buf + b->len + sizeof(pm), p);
	commit(b, sizeof(pm) + sizeof(*p), false);
	b->pos_off = (uint16_t)(b->len - sizeof(pm) - sizeof(*p));
	return 0;
}

static size_t
finish(struct fc_dl_builder *b, uint16_t msg_count)
{
	struct fc_dl_hdr hdr;

	FC__LOAD(&hdr, b->buf);
	hdr.msg_count = msg_count;
	hdr.event_count = b->event_count;
	FC__STORE(b->buf, &hdr);
	return b->len;
}

size_t
fc_dl_finish(struct fc_dl_builder *b)
{
	return finish(b, b->msg_count);
}

size_t
fc_dl_finish_end_of_session(struct fc_dl_builder *b)
{
	b->len = sizeof(struct fc_dl_hdr);
	b->event_count = 0;
	return finish(b, FC_DL_END_OF_SESSION);
}

/* ---- decoder ---------------------------------------------------------------------------- */

static const char *const dl_err_names[FC_DL_E__COUNT] = {
	[FC_DL_OK] = "ok",
	[FC_DL_E_RUNT] = "runt",
	[FC_DL_E_BAD_LENGTH] = "bad_length",
	[FC_DL_E_BAD_MAGIC] = "bad_magic",
	[FC_DL_E_BAD_VERSION] = "bad_version",
	[FC_DL_E_UNKNOWN_CHANNEL] = "unknown_channel",
	[FC_DL_E_BAD_PACKET] = "bad_packet",
	[FC_DL_E_BAD_MESSAGE] = "bad_message",
};

const char *
fc_dl_err_name(enum fc_dl_err e)
{
	if ((unsigned int)e >= FC_DL_E__COUNT)
		return "unknown";
	return dl_err_names[e];
}

/* Checks the body of one message of a known template. */
static bool
msg_ok(const uint8_t *p, const struct fc_dl_msg_hdr *mh)
{
	unsigned int size = template_size(mh->template_id);

	if (size == 0)
		return true; /* unknown template: skipped by length */
	if (mh->length < size)
		return false;
	if (mh->template_id == FC_DL_T_POSITIONS) {
		struct fc_dl_positions pm;

		FC__LOAD(&pm, p);
		return pm.entry_len >= sizeof(struct fc_dl_position) &&
		       (size_t)pm.count * pm.entry_len <= (size_t)mh->length - sizeof(pm);
	}
	if (mh->template_id == FC_DL_T_CLUE_CLAIMED) {
		struct fc_dl_clue_claimed c;

		FC__LOAD(&c, p);
		return c.contenders_listed <= c.contenders_total &&
		       (size_t)c.contenders_listed * sizeof(struct fc_dl_contender) <=
			       (size_t)mh->length - sizeof(c);
	}
	return true;
}

enum fc_dl_err
fc_dl_parse(const void *buf, size_t len, struct fc_dl_view *v)
{
	const uint8_t *p = buf;
	struct fc_dl_hdr h;
	size_t off = sizeof(h);
	unsigned int n;

	if (len < sizeof(h))
		return FC_DL_E_RUNT;
	if (len > FC_WIRE_MAX_PAYLOAD)
		return FC_DL_E_BAD_LENGTH;
	FC__LOAD(&h, p);
	if (h.magic != FC_DL_MAGIC)
		return FC_DL_E_BAD_MAGIC;
	if (h.version != FC_DL_VERSION)
		return FC_DL_E_BAD_VERSION;
	if (h.channel_id != FC_DL_CHAN_INCREMENTAL && h.channel_id != FC_DL_CHAN_SNAPSHOT)
		return FC_DL_E_UNKNOWN_CHANNEL;
	n = h.msg_count == FC_DL_END_OF_SESSION ? 0 : h.msg_count;
	if (h.event_count > n || (h.channel_id == FC_DL_CHAN_SNAPSHOT && h.event_count != 0))
		return FC_DL_E_BAD_PACKET;
	if (n == 0 && len != sizeof(h))
		return FC_DL_E_BAD_PACKET; /* heartbeat and end of session have no body */

	for (unsigned int i = 0; i < n; i++) {
		struct fc_dl_msg_hdr mh;

		if (len - off < sizeof(mh))
			return FC_DL_E_BAD_MESSAGE; /* announced, but past the end of the packet */
		FC__LOAD(&mh, p + off);
		if (mh.length < 8 || mh.length % 8 != 0 || mh.length > len - off ||
		    mh.version == 0 || !msg_ok(p + off, &mh))
			return FC_DL_E_BAD_MESSAGE;
		off += mh.length;
	}
	if (off != len)
		return FC_DL_E_BAD_PACKET;

	v->hdr = h;
	v->pkt = p;
	v->len = len;
	return FC_DL_OK;
}

void
fc_dl_iter_init(struct fc_dl_iter *it, const struct fc_dl_view *v)
{
	it->v = v;
	it->off = sizeof(struct fc_dl_hdr);
	it->idx = 0;
}

bool
fc_dl_iter_next(struct fc_dl_iter *it, struct fc_dl_msg *m)
{
	const struct fc_dl_hdr *h = &it->v->hdr;
	struct fc_dl_msg_hdr mh;

	if (h->msg_count == FC_DL_END_OF_SESSION || it->idx >= h->msg_count)
		return false;
	FC__LOAD(&mh, it->v->pkt + it->off);
	m->p = it->v->pkt + it->off;
	m->length = mh.length;
	m->template_id = mh.template_id;
	m->version = mh.version;
	m->is_event = it->idx < h->event_count;
	m->event_seq = m->is_event ? h->first_event_seq + it->idx : 0;
	it->off += mh.length;
	it->idx++;
	return true;
}

void
fc_dl_msg_get(const struct fc_dl_msg *m, void *out, size_t out_len)
{
	size_t n = m->length < out_len ? m->length : out_len;

	memcpy(out, m->p, n);
	memset((uint8_t *)out + n, 0, out_len - n);
}

unsigned int
fc_dl_positions_count(const struct fc_dl_msg *m)
{
	struct fc_dl_positions pm;

	FC__LOAD(&pm, m->p);
	return pm.count;
}

void
fc_dl_position_at(const struct fc_dl_msg *m, unsigned int i, struct fc_dl_position *out)
{
	struct fc_dl_positions pm;

	FC__LOAD(&pm, m->p);
	FC__LOAD(out, m->p + sizeof(pm) + (size_t)i * pm.entry_len);
}

void
fc_dl_contender_at(const struct fc_dl_msg *m, unsigned int i, struct fc_dl_contender *out)
{
	FC__LOAD(out, m->p + sizeof(struct fc_dl_clue_claimed) + (size_t)i * sizeof(*out));
}

/* ---- retransmit request ------------------------------------------------------------------ */

int
fc_rt_request_encode(void *buf, size_t cap, struct fc_rt_request *r)
{
	if (cap < sizeof(*r))
		return -EMSGSIZE;
	r->magic = FC_RT_MAGIC;
	r->version = FC_RT_VERSION;
	FC__STORE(buf, r);
	return (int)sizeof(*r);
}

enum fc_dl_err
fc_rt_request_decode(const void *buf, size_t len, struct fc_rt_request *out)
{
	struct fc_rt_request r;

	if (len < sizeof(r))
		return FC_DL_E_RUNT;
	if (len > FC_WIRE_MAX_PAYLOAD)
		return FC_DL_E_BAD_LENGTH;
	FC__LOAD(&r, buf);
	if (r.magic != FC_RT_MAGIC)
		return FC_DL_E_BAD_MAGIC;
	if (r.version != FC_RT_VERSION)
		return FC_DL_E_BAD_VERSION;
	if (r.count == 0)
		return FC_DL_E_BAD_MESSAGE;
	*out = r;
	return FC_DL_OK;
}

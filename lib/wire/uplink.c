/* SPDX-License-Identifier: BSD-3-Clause */
/* Uplink frame validation, acceptance and building; see fc_uplink.h. */
#include <errno.h>
#include <string.h>

#include "fc_uplink.h"
#include "wire_priv.h"

static const char *const err_names[FC_UP_E__COUNT] = {
	[FC_UP_OK] = "ok",
	[FC_UP_E_RUNT] = "runt",
	[FC_UP_E_BAD_MAGIC] = "bad_magic",
	[FC_UP_E_BAD_VERSION] = "bad_version",
	[FC_UP_E_BAD_MSG_TYPE] = "bad_msg_type",
	[FC_UP_E_BAD_MAC_ALG] = "bad_mac_alg",
	[FC_UP_E_BAD_RECORD_LEN] = "bad_record_len",
	[FC_UP_E_BAD_RECORD_COUNT] = "bad_record_count",
	[FC_UP_E_BAD_LENGTH] = "bad_length",
	[FC_UP_E_UNKNOWN_GATEWAY] = "unknown_gateway",
	[FC_UP_E_UNKNOWN_KEY] = "unknown_key",
	[FC_UP_E_KEY_ALG_MISMATCH] = "key_alg_mismatch",
	[FC_UP_E_REPLAY_OLD] = "replay_old",
	[FC_UP_E_REPLAY_DUP] = "replay_dup",
	[FC_UP_E_BAD_MAC] = "bad_mac",
	[FC_UP_E_CLOCK_SKEW] = "clock_skew",
};

const char *
fc_up_err_name(enum fc_up_err e)
{
	if ((unsigned int)e >= FC_UP_E__COUNT)
		return "unknown";
	return err_names[e];
}

unsigned int
fc_up_record_size(unsigned int msg_type)
{
	switch (msg_type) {
	case FC_UP_FIX_BATCH:
		return sizeof(struct fc_up_fix);
	case FC_UP_GATEWAY_STATUS:
		return sizeof(struct fc_up_status);
	case FC_UP_GATEWAY_EVENT:
		return sizeof(struct fc_up_event);
	default:
		return 0;
	}
}

/* Status frames carry exactly one record, event frames at least one, fix batches any. */
static inline bool
count_allowed(unsigned int msg_type, unsigned int count)
{
	if (msg_type == FC_UP_GATEWAY_STATUS)
		return count == 1;
	if (msg_type == FC_UP_GATEWAY_EVENT)
		return count >= 1;
	return true;
}

enum fc_up_err
fc_up_parse(const void *buf, size_t len, struct fc_up_view *v)
{
	struct fc_up_hdr h;
	unsigned int rec_size, tag_len;
	size_t want;

	if (len < sizeof(h))
		return FC_UP_E_RUNT;
	FC__LOAD(&h, buf);
	if (h.magic != FC_UP_MAGIC)
		return FC_UP_E_BAD_MAGIC;
	if (h.version != FC_UP_VERSION)
		return FC_UP_E_BAD_VERSION;
	rec_size = fc_up_record_size(h.msg_type);
	if (rec_size == 0)
		return FC_UP_E_BAD_MSG_TYPE;
	tag_len = fc_mac_tag_len(h.mac_alg);
	if (tag_len == 0)
		return FC_UP_E_BAD_MAC_ALG;
	if (h.record_len < rec_size || h.record_len % 8 != 0)
		return FC_UP_E_BAD_RECORD_LEN;
	if (!count_allowed(h.msg_type, h.record_count))
		return FC_UP_E_BAD_RECORD_COUNT;
	/* At most 32 + 65535 * 65528 + 16: no overflow in size_t. */
	want = sizeof(h) + (size_t)h.record_count * h.record_len + tag_len;
	if (len != want || len > FC_WIRE_MAX_PAYLOAD)
		return FC_UP_E_BAD_LENGTH;

	v->hdr = h;
	v->frame = buf;
	v->records = (const uint8_t *)buf + sizeof(h);
	v->signed_len = (uint16_t)(len - tag_len);
	v->tag = v->frame + v->signed_len;
	v->tag_len = (uint8_t)tag_len;
	return FC_UP_OK;
}

enum fc_up_err
fc_up_accept(struct fc_gw_table *t, const void *buf, size_t len, uint64_t now_ns, uint64_t bound_ns,
	     struct fc_up_view *v, struct fc_gateway **gwp)
{
	const struct fc_mac_key *key;
	struct fc_gateway *gw;
	enum fc_up_err e;
	uint64_t skew;

	*gwp = NULL;
	e = fc_up_parse(buf, len, v);
	if (e != FC_UP_OK)
		return e;
	gw = fc_gw_table_lookup(t, v->hdr.gateway_id);
	if (gw == NULL)
		return FC_UP_E_UNKNOWN_GATEWAY;
	*gwp = gw;
	key = fc_gateway_key(gw, v->hdr.key_id);
	if (key == NULL)
		return FC_UP_E_UNKNOWN_KEY;
	if (key->alg != v->hdr.mac_alg)
		return FC_UP_E_KEY_ALG_MISMATCH;
	switch (fc_replay_window_check(&gw->window, v->hdr.seq)) {
	case FC_REPLAY_TOO_OLD:
		return FC_UP_E_REPLAY_OLD;
	case FC_REPLAY_DUPLICATE:
		return FC_UP_E_REPLAY_DUP;
	case FC_REPLAY_NEW:
		break;
	}
	if (!fc_mac_verify(key, v->frame, v->signed_len, v->tag))
		return FC_UP_E_BAD_MAC;
	fc_replay_window_mark(&gw->window, v->hdr.seq);
	if (bound_ns != 0) {
		skew = v->hdr.base_time_ns > now_ns ? v->hdr.base_time_ns - now_ns
						    : now_ns - v->hdr.base_time_ns;
		if (skew > bound_ns)
			return FC_UP_E_CLOCK_SKEW;
	}
	return FC_UP_OK;
}

int
fc_up_build(void *buf, size_t cap, struct fc_up_hdr *hdr, const void *records,
	    const struct fc_mac_key *key)
{
	unsigned int rec_size = fc_up_record_size(hdr->msg_type);
	uint8_t tag[FC_MAC_MAX_TAG_LEN];
	uint8_t *p = buf;
	size_t len;

	if (rec_size == 0)
		return -EINVAL;
	if (hdr->record_len == 0)
		hdr->record_len = (uint16_t)rec_size;
	if (hdr->record_len < rec_size || hdr->record_len % 8 != 0)
		return -EINVAL;
	if (!count_allowed(hdr->msg_type, hdr->record_count))
		return -EINVAL;
	hdr->magic = FC_UP_MAGIC;
	hdr->version = FC_UP_VERSION;
	hdr->mac_alg = key->alg;
	hdr->key_id = key->key_id;

	len = sizeof(*hdr) + (size_t)hdr->record_count * hdr->record_len + key->tag_len;
	if (len > cap || len > FC_WIRE_MAX_PAYLOAD)
		return -EMSGSIZE;

	FC__STORE(p, hdr);
	p += sizeof(*hdr);
	for (unsigned int i = 0; i < hdr->record_count; i++) {
		memcpy(p, (const uint8_t *)records + (size_t)i * rec_size, rec_size);
		memset(p + rec_size, 0, hdr->record_len - rec_size);
		p += hdr->record_len;
	}
	fc_mac_compute(key, buf, (size_t)(p - (uint8_t *)buf), tag);
	memcpy(p, tag, key->tag_len);
	return (int)len;
}

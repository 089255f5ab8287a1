/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The downlink codec: packets floord multicasts to subscribers, and the unicast retransmit
 * request and reply (docs/protocol.md, "Downlink" and "Retransmit").
 *
 * The builder writes into a caller's buffer (an mbuf's data room on the TX lcore) and never
 * allocates; it keeps the protocol's rule that a packet's events come first, in event
 * sequence order, and batches consecutive positions into one POSITIONS message. The decoder
 * validates a whole packet in place before handing out any message, so a subscriber never acts
 * on half of a malformed packet.
 */
#ifndef FC_DOWNLINK_H
#define FC_DOWNLINK_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fc_wire_types.h"

/* ---- builder ---------------------------------------------------------------------------- */

struct fc_dl_builder {
	uint8_t *buf;
	uint16_t cap; /* min(caller's capacity, FC_WIRE_MAX_PAYLOAD) */
	uint16_t len; /* bytes written so far */
	uint16_t msg_count;
	uint8_t event_count;
	bool state_started; /* a state message was added: no more events in this packet */
	uint16_t pos_off;   /* offset of the open POSITIONS message, 0 if none */
};

/*
 * Starts a packet in buf[0, cap) with header *h (magic and version are set here; msg_count
 * and event_count are counted by the builder; the other fields are the caller's). Returns 0,
 * or -EMSGSIZE if cap cannot hold a header.
 */
int fc_dl_begin(struct fc_dl_builder *b, void *buf, size_t cap, const struct fc_dl_hdr *h);

/* Bytes still free in the packet. */
static inline unsigned int
fc_dl_room(const struct fc_dl_builder *b)
{
	return (unsigned int)(b->cap - b->len);
}

/*
 * Appends a fixed-size message: msg points to a host struct of template template_id (struct
 * fc_dl_score, fc_dl_round_state, ...) of size len whose header h is filled here. is_event
 * makes it the packet's next event. Returns 0; -ENOSPC if it does not fit (the packet is
 * unchanged); -EINVAL for an event after a state message, more than 255 events, a length that
 * is not a multiple of 8, or a variable-size template (use the functions below).
 */
int fc_dl_add(struct fc_dl_builder *b, unsigned int template_id, void *msg, size_t len,
	      bool is_event);

/*
 * Appends a CLUE_CLAIMED event with claim->contenders_listed contenders (winner first).
 * Returns 0, -ENOSPC, or -EINVAL (as fc_dl_add, or more than FC_DL_MAX_CONTENDERS listed).
 */
int fc_dl_add_claim(struct fc_dl_builder *b, struct fc_dl_clue_claimed *claim,
		    const struct fc_dl_contender *contenders);

/* fc_dl_add_position() beyond its inline case (downlink.c). */
int fc__dl_add_position(struct fc_dl_builder *b, const struct fc_dl_position *p);

/*
 * Appends one position (state), extending the POSITIONS message just before it or opening a
 * new one. Returns 0 or -ENOSPC (the packet is unchanged). The common case is inline, as TX
 * adds one position per moved player: one more entry in the open POSITIONS message; a new
 * message or a full packet is the out-of-line function's.
 */
static inline int
fc_dl_add_position(struct fc_dl_builder *b, const struct fc_dl_position *p)
{
	/*
	 * The open POSITIONS message is the packet's last (any other message closes it), so its
	 * length is len - pos_off and its count follows from that: written, not read back. Its
	 * limits (count and length below 0xFFFF) cannot be reached in a packet of at most
	 * FC_WIRE_MAX_PAYLOAD bytes, the builder's cap.
	 */
	static_assert(FC_WIRE_MAX_PAYLOAD + sizeof(struct fc_dl_position) < UINT16_MAX,
		      "a POSITIONS message in a packet never reaches its count or length limits");
	if (b->pos_off != 0 && sizeof(*p) <= fc_dl_room(b)) {
		uint8_t *m = b->buf + b->pos_off;
		uint16_t len, count;

		memcpy(b->buf + b->len, p, sizeof(*p));
		b->len = (uint16_t)(b->len + sizeof(*p));
		len = (uint16_t)(b->len - b->pos_off);
		count = (uint16_t)((len - sizeof(struct fc_dl_positions)) / sizeof(*p));
		memcpy(m + offsetof(struct fc_dl_positions, h.length), &len, sizeof(len));
		memcpy(m + offsetof(struct fc_dl_positions, count), &count, sizeof(count));
		return 0;
	}
	return fc__dl_add_position(b, p);
}

/*
 * Appends an already-encoded message (its header included), as the retransmit service does
 * with the events it keeps. Returns 0, -ENOSPC, or -EINVAL as fc_dl_add().
 */
int fc_dl_add_raw(struct fc_dl_builder *b, const void *msg, size_t len, bool is_event);

/* Finishes the packet (counts into the header) and returns its length. */
size_t fc_dl_finish(struct fc_dl_builder *b);

/* Finishes the packet as end of session (msg_count 0xFFFF; no message may have been added). */
size_t fc_dl_finish_end_of_session(struct fc_dl_builder *b);

/* ---- decoder ---------------------------------------------------------------------------- */

/* A subscriber's drop reasons, in check order (docs/protocol.md section 4.5, same names). */
enum fc_dl_err {
	FC_DL_OK = 0,
	FC_DL_E_RUNT,       /* shorter than the 40-byte header */
	FC_DL_E_BAD_LENGTH, /* above FC_WIRE_MAX_PAYLOAD */
	FC_DL_E_BAD_MAGIC,
	FC_DL_E_BAD_VERSION,
	FC_DL_E_UNKNOWN_CHANNEL, /* a channel_id other than 0 and 1 */
	FC_DL_E_BAD_PACKET,      /* the packet rules: event_count, heartbeat / end of session
				  * with a body, events on the snapshot channel, bytes left over */
	FC_DL_E_BAD_MESSAGE,     /* a message's length or version, a known template too short,
				  * entries past their message, messages past the packet */
	FC_DL_E__COUNT
};

const char *fc_dl_err_name(enum fc_dl_err e);

struct fc_dl_view {
	struct fc_dl_hdr hdr;
	const uint8_t *pkt;
	size_t len;
};

/* One message of a packet, as the iterator hands it out. */
struct fc_dl_msg {
	const uint8_t *p; /* the message, header included, at any alignment */
	uint16_t length;
	uint8_t template_id;
	uint8_t version;
	bool is_event;
	uint64_t event_seq; /* valid if is_event */
};

struct fc_dl_iter {
	const struct fc_dl_view *v;
	size_t off;
	unsigned int idx;
};

/*
 * Validates the packet buf[0, len) entirely (header, every message's framing, the sizes of
 * known templates and their entry lists). Fills *v only on FC_DL_OK.
 */
enum fc_dl_err fc_dl_parse(const void *buf, size_t len, struct fc_dl_view *v);

static inline bool
fc_dl_is_heartbeat(const struct fc_dl_view *v)
{
	return v->hdr.msg_count == FC_DL_HEARTBEAT;
}

static inline bool
fc_dl_is_end_of_session(const struct fc_dl_view *v)
{
	return v->hdr.msg_count == FC_DL_END_OF_SESSION;
}

void fc_dl_iter_init(struct fc_dl_iter *it, const struct fc_dl_view *v);

/* The next message into *m; false after the last. Only on a packet fc_dl_parse() accepted. */
bool fc_dl_iter_next(struct fc_dl_iter *it, struct fc_dl_msg *m);

/*
 * Copies a fixed-size message into the host struct out of size out_len: a longer message
 * (newer version) is cut to what this receiver knows, a shorter one is impossible after
 * fc_dl_parse() for known templates.
 */
void fc_dl_msg_get(const struct fc_dl_msg *m, void *out, size_t out_len);

/* POSITIONS: number of entries, and entry i. */
unsigned int fc_dl_positions_count(const struct fc_dl_msg *m);
void fc_dl_position_at(const struct fc_dl_msg *m, unsigned int i, struct fc_dl_position *out);

/* CLUE_CLAIMED: contender i (< contenders_listed). */
void fc_dl_contender_at(const struct fc_dl_msg *m, unsigned int i, struct fc_dl_contender *out);

/* ---- retransmit request ------------------------------------------------------------------ */

/* Encodes a request (magic and version set here). Returns 24, or -EMSGSIZE. */
int fc_rt_request_encode(void *buf, size_t cap, struct fc_rt_request *r);

/*
 * Decodes a request: FC_DL_E_RUNT (shorter than 24 bytes), FC_DL_E_BAD_LENGTH (above
 * FC_WIRE_MAX_PAYLOAD; a longer request of a newer version is read by its first 24 bytes),
 * FC_DL_E_BAD_MAGIC, FC_DL_E_BAD_VERSION, FC_DL_E_BAD_MESSAGE (count 0). A count above
 * FC_RT_MAX_COUNT decodes: the service answers it with a TOO_MANY refusal.
 */
enum fc_dl_err fc_rt_request_decode(const void *buf, size_t len, struct fc_rt_request *out);

#endif /* FC_DOWNLINK_H */

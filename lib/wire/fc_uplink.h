/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The uplink codec: gateway frames (docs/protocol.md, "Uplink").
 *
 * fc_up_parse() validates a frame's structure in place and yields a view of its records; it
 * reads nothing outside [buf, buf + len) and allocates nothing. fc_up_accept() adds the checks
 * that need state, in the order the protocol fixes: gateway, key, replay window, MAC, window
 * mark, clock bound. Every rejection has its own enum fc_up_err, which floord counts as a
 * drop reason. fc_up_build() makes frames for floorgen and the tests.
 */
#ifndef FC_UPLINK_H
#define FC_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fc_gateways.h"
#include "fc_mac.h"
#include "fc_wire_types.h"

/* The receiver's drop reasons, in check order (docs/protocol.md section 3.8, same names). */
enum fc_up_err {
	FC_UP_OK = 0,
	FC_UP_E_RUNT, /* shorter than the 32-byte header */
	FC_UP_E_BAD_MAGIC,
	FC_UP_E_BAD_VERSION,      /* a schema version this receiver does not know */
	FC_UP_E_BAD_MSG_TYPE,     /* unknown msg_type */
	FC_UP_E_BAD_MAC_ALG,      /* unknown mac_alg */
	FC_UP_E_BAD_RECORD_LEN,   /* below the type's v1 record size, or not a multiple of 8 */
	FC_UP_E_BAD_RECORD_COUNT, /* status without exactly one record, event without any */
	FC_UP_E_BAD_LENGTH,       /* != 32 + count * record_len + tag length, or above 1400 */
	FC_UP_E_UNKNOWN_GATEWAY,
	FC_UP_E_UNKNOWN_KEY,      /* the gateway has no key with this key_id */
	FC_UP_E_KEY_ALG_MISMATCH, /* the key exists but is for another algorithm */
	FC_UP_E_REPLAY_OLD,       /* seq below the replay window */
	FC_UP_E_REPLAY_DUP,       /* seq inside the window and already accepted */
	FC_UP_E_BAD_MAC,
	FC_UP_E_CLOCK_SKEW, /* base time further from the receiver's clock than the bound */
	FC_UP_E__COUNT
};

/* The reason's name in docs/protocol.md, used in counters and reports ("bad_mac", ...). */
const char *fc_up_err_name(enum fc_up_err e);

/* A validated frame. Pointers point into the caller's buffer, at any alignment. */
struct fc_up_view {
	struct fc_up_hdr hdr;   /* copied out of the frame */
	const uint8_t *frame;   /* start of the frame */
	const uint8_t *records; /* first record */
	const uint8_t *tag;     /* the MAC trailer */
	uint16_t signed_len;    /* bytes the MAC covers: header and records */
	uint8_t tag_len;
};

/* The version-1 size of a record of a message type, 0 for an unknown type. */
unsigned int fc_up_record_size(unsigned int msg_type);

/*
 * Validates the structure of the frame buf[0, len): every check up to the exact length (see
 * enum fc_up_err). Keys, window and clock are not looked at. Fills *v only on FC_UP_OK.
 */
enum fc_up_err fc_up_parse(const void *buf, size_t len, struct fc_up_view *v);

/*
 * Full receive path for one frame, in protocol order: fc_up_parse(), gateway lookup, key,
 * replay window check, MAC verification, window mark, clock bound. now_ns is the receiver's
 * clock on the gateway time scale; bound_ns 0 disables the clock check. On FC_UP_OK, *v is the
 * frame and *gw its gateway; on a rejection after the gateway lookup *gw is set too (so the
 * drop can be counted per gateway), otherwise it is NULL. Only FC_UP_OK changes the window
 * (and FC_UP_E_CLOCK_SKEW, which comes after the mark, as the protocol orders it).
 */
enum fc_up_err fc_up_accept(struct fc_gw_table *t, const void *buf, size_t len, uint64_t now_ns,
			    uint64_t bound_ns, struct fc_up_view *v, struct fc_gateway **gw);

/* Record i (< hdr.record_count) of a fix batch; bytes past the v1 size are ignored. */
static inline void
fc_up_fix_at(const struct fc_up_view *v, unsigned int i, struct fc_up_fix *out)
{
	memcpy(out, v->records + (size_t)i * v->hdr.record_len, sizeof(*out));
}

static inline void
fc_up_status_get(const struct fc_up_view *v, struct fc_up_status *out)
{
	memcpy(out, v->records, sizeof(*out));
}

static inline void
fc_up_event_at(const struct fc_up_view *v, unsigned int i, struct fc_up_event *out)
{
	memcpy(out, v->records + (size_t)i * v->hdr.record_len, sizeof(*out));
}

/* Measurement time of a fix, ns on the gateway's clock. */
static inline uint64_t
fc_up_fix_time_ns(const struct fc_up_view *v, const struct fc_up_fix *f)
{
	return v->hdr.base_time_ns + (uint64_t)f->dt_us * 1000u;
}

/*
 * Builds a frame into buf[0, cap): the header *hdr (magic, version, record_len and mac_alg/
 * key_id are filled in here: magic and version always, record_len with the v1 size if 0,
 * mac_alg and key_id from the key), hdr->record_count records from the array of host structs
 * at records (struct fc_up_fix, fc_up_status or fc_up_event by msg_type; a record_len above
 * the v1 size zero-pads each), then the MAC with key. Returns the frame length, -EINVAL for
 * an unknown type, a bad record_len or a record_count the type does not allow, or -EMSGSIZE if the
 * frame exceeds cap or FC_WIRE_MAX_PAYLOAD.
 */
int fc_up_build(void *buf, size_t cap, struct fc_up_hdr *hdr, const void *records,
		const struct fc_mac_key *key);

/* Most fix records one frame can carry with a tag of tag_len bytes. */
static inline unsigned int
fc_up_max_fixes(unsigned int tag_len)
{
	return (FC_WIRE_MAX_PAYLOAD - sizeof(struct fc_up_hdr) - tag_len) /
	       sizeof(struct fc_up_fix);
}

#endif /* FC_UPLINK_H */
